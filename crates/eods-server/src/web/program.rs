//! The program editor (`/ui/events/{id}/program`): the brief's sessions as a table of rows —
//! title, speakers, length, track, fixed day and start, plenary — plus empty rows for new ones.
//! Saving sends `{"program": [...]}` as a merge patch of the brief (`Engine::amend_brief`, like
//! `PATCH /api/v1/events/{id}`): the next event_brief revision, from which the schedule and
//! everything after it are recomputed. Every problem is shown on its row with what was typed.

use super::event::parse_id;
use super::{UserView, form_session, page_error, render, session, user_view};
use crate::AppState;
use crate::auth::Client;
use crate::error::ApiError;
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use eods_domain::access::Permission;
use eods_domain::catalog::brief::EventBrief;
use eods_domain::intake::BriefError;
use eods_engine::EngineError;
use serde::Deserialize;
use serde_json::{Value, json};

/// Empty rows offered below the sessions (more with `?rows=N`).
const BLANK_ROWS: usize = 3;

/// One session as typed.
#[derive(Debug, Clone, Default)]
struct Row {
    title: String,
    speakers: String,
    minutes: String,
    track: String,
    day: String,
    start: String,
    plenary: bool,
    remove: bool,
    /// What is wrong with it, in words.
    errors: Vec<String>,
}

#[derive(Template)]
#[template(path = "program.html")]
struct ProgramPage {
    user: Option<UserView>,
    id: String,
    title: String,
    rows: Vec<Row>,
    /// Problems not tied to one row.
    errors: Vec<String>,
    error_count: usize,
    csrf: String,
    can_plan: bool,
    more: usize,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct ProgramQuery {
    rows: Option<usize>,
}

fn row_of(p: &eods_domain::catalog::brief::ProgramItem) -> Row {
    Row {
        title: p.title.clone(),
        speakers: p.speakers.join(", "),
        minutes: p.duration_minutes.to_string(),
        track: p.track.clone().unwrap_or_default(),
        day: p.day.map(|d| d.to_string()).unwrap_or_default(),
        start: p
            .start
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        plenary: p.plenary,
        ..Row::default()
    }
}

/// The editor with the brief's current sessions.
pub(super) async fn program_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: Client,
    Path(id): Path<String>,
    Query(q): Query<ProgramQuery>,
) -> Response {
    let s = match session(&state, &headers, client).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let id = match parse_id(&id) {
        Ok(id) => id,
        Err(e) => return page_error(e),
    };
    let o = match state.engine.overview(id).await {
        Ok(o) => o,
        Err(e) => return page_error(e.into()),
    };
    let Some(brief) = o.blackboard.get::<EventBrief>() else {
        return page_error(ApiError::conflict(format!(
            "event {id} has no complete brief yet: complete it first (its page names what is missing)"
        )));
    };
    let blank = q.rows.unwrap_or(BLANK_ROWS).clamp(1, 50);
    let mut rows: Vec<Row> = brief.program.iter().map(row_of).collect();
    rows.extend(std::iter::repeat_with(Row::default).take(blank));
    let user = match user_view(&state, &s).await {
        Ok(u) => Some(u),
        Err(e) => return page_error(e),
    };
    render(ProgramPage {
        user,
        id: id.to_string(),
        title: o.event.title.clone(),
        rows,
        errors: vec![],
        error_count: 0,
        csrf: s.csrf.clone(),
        can_plan: s.principal.role.grants(Permission::Plan),
        more: blank + BLANK_ROWS,
    })
}

/// The rows of a submitted form (`t0`, `s0`, `m0`, … per row), in order.
fn rows_of(fields: &[(String, String)]) -> Vec<Row> {
    let mut rows: Vec<Row> = Vec::new();
    for (k, v) in fields {
        let Some(i) = k.get(1..).and_then(|n| n.parse::<usize>().ok()) else {
            continue;
        };
        if i >= 500 {
            continue;
        }
        if rows.len() <= i {
            rows.resize_with(i + 1, Row::default);
        }
        let r = &mut rows[i];
        let v = v.trim().to_owned();
        match k.as_bytes().first() {
            Some(b't') => r.title = v,
            Some(b's') => r.speakers = v,
            Some(b'm') => r.minutes = v,
            Some(b'k') => r.track = v,
            Some(b'd') => r.day = v,
            Some(b'h') => r.start = v,
            Some(b'p') => r.plenary = true,
            Some(b'x') => r.remove = true,
            _ => {}
        }
    }
    rows
}

/// The program the rows make, with the row each session came from; problems are put on their
/// rows.
fn program_of(rows: &mut [Row]) -> (Vec<Value>, Vec<usize>) {
    let mut program = Vec::new();
    let mut from = Vec::new();
    for (i, r) in rows.iter_mut().enumerate() {
        let blank = r.title.is_empty()
            && r.speakers.is_empty()
            && r.minutes.is_empty()
            && r.track.is_empty()
            && r.day.is_empty()
            && r.start.is_empty();
        if r.remove || blank {
            continue;
        }
        if r.title.is_empty() {
            r.errors
                .push("give the session a title, or clear the row to leave it out".into());
            continue;
        }
        let mut item = json!({ "title": r.title });
        let speakers: Vec<&str> = r
            .speakers
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        if !speakers.is_empty() {
            item["speakers"] = json!(speakers);
        }
        if !r.minutes.is_empty() {
            match r.minutes.parse::<u32>() {
                Ok(m) => item["duration_minutes"] = json!(m),
                Err(_) => r.errors.push(format!(
                    "minutes: `{}` is not a whole number of minutes, e.g. 30",
                    r.minutes
                )),
            }
        }
        if !r.track.is_empty() {
            item["track"] = json!(r.track);
        }
        if !r.day.is_empty() {
            item["day"] = json!(r.day);
        }
        if !r.start.is_empty() {
            item["start"] = json!(r.start);
        }
        if r.plenary {
            item["plenary"] = json!(true);
        }
        program.push(item);
        from.push(i);
    }
    (program, from)
}

/// Saves the program as the brief's next revision, or shows the form again with every problem
/// on its row.
pub(super) async fn save_program(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: Client,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let csrf = fields
        .iter()
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let s = match form_session(&state, &headers, client, &csrf, Some(Permission::Plan)).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let id = match parse_id(&id) {
        Ok(id) => id,
        Err(e) => return page_error(e),
    };
    let mut rows = rows_of(&fields);
    let (program, from) = program_of(&mut rows);
    let mut errors = Vec::new();
    if rows.iter().all(|r| r.errors.is_empty()) {
        match state
            .engine
            .amend_brief(id, &json!({ "program": program }), &s.principal.actor())
            .await
        {
            Ok(out) => {
                state.wake.notify_waiters();
                let revision = out.revision.map_or_else(String::new, |r| r.to_string());
                return Redirect::to(&format!("/ui/events/{id}?program={revision}"))
                    .into_response();
            }
            Err(EngineError::InvalidBrief(BriefError::Invalid { violations })) => {
                for v in violations {
                    // `/program/3/duration_minutes` → the row session 3 came from.
                    let mut parts = v.pointer.trim_start_matches('/').splitn(3, '/');
                    let (head, n, field) = (parts.next(), parts.next(), parts.next());
                    match (head, n.and_then(|n| n.parse::<usize>().ok())) {
                        (Some("program"), Some(j)) if j < from.len() => rows[from[j]]
                            .errors
                            .push(format!("{}: {}", field.unwrap_or("session"), v.message)),
                        _ => errors.push(format!("{}: {}", v.pointer, v.message)),
                    }
                }
            }
            Err(e) => return page_error(e.into()),
        }
    }
    let title = match state.store.event(id).await {
        Ok(Some(e)) => e.title,
        Ok(None) => return page_error(ApiError::not_found(format!("no event {id}"))),
        Err(e) => return page_error(e.into()),
    };
    let user = match user_view(&state, &s).await {
        Ok(u) => Some(u),
        Err(e) => return page_error(e),
    };
    let error_count = errors.len() + rows.iter().map(|r| r.errors.len()).sum::<usize>();
    let more = rows.len() + BLANK_ROWS;
    let mut res = render(ProgramPage {
        user,
        id: id.to_string(),
        title,
        rows,
        errors,
        error_count,
        csrf: s.csrf.clone(),
        can_plan: true,
        more,
    });
    *res.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn rows_become_sessions_and_problems_stay_on_their_rows() {
        let mut rows = rows_of(&f(&[
            ("csrf", "x"),
            ("t0", "Keynote"),
            ("s0", "Ada, Grace ,"),
            ("m0", "60"),
            ("p0", "on"),
            ("t1", "Old talk"),
            ("x1", "on"),
            ("t2", ""),
            ("m2", ""),
            ("t3", ""),
            ("s3", "Linus"),
            ("t4", "Lightning"),
            ("m4", "ten"),
        ]));
        let (program, from) = program_of(&mut rows);
        assert_eq!(
            program,
            vec![
                json!({"title": "Keynote", "speakers": ["Ada", "Grace"], "duration_minutes": 60, "plenary": true}),
                json!({"title": "Lightning"})
            ]
        );
        assert_eq!(from, vec![0, 4]);
        assert!(rows[3].errors[0].contains("give the session a title"));
        assert!(rows[4].errors[0].contains("`ten` is not a whole number"));
        assert!(rows[1].errors.is_empty() && rows[2].errors.is_empty());
    }
}
