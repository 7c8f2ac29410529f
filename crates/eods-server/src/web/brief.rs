//! The brief editor (`/ui/events/{id}/brief`): the new-event form filled from the current brief.
//! Saving sends only what changed as a merge patch of the brief (`Engine::amend_brief`, like
//! `PATCH /api/v1/events/{id}`), so what the form does not show (further breaks, per-day hours,
//! the program, assumptions, planning_start) is kept. Problems are shown on their fields with what
//! was typed, as on the new-event form.

use super::event::parse_id;
use super::form::{BriefForm, Editing, brief_page, brief_value, field_errors, problems};
use super::{form_session, page_error, session};
use crate::AppState;
use crate::auth::Client;
use crate::dto::brief_problem_at;
use crate::error::ApiError;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use eods_domain::access::Permission;
use eods_domain::catalog::brief::EventBrief;
use eods_domain::ids::EventId;
use eods_domain::lifecycle::LifecycleState;
use eods_engine::EngineError;
use serde_json::{Map, Value};

/// The form's fields as the brief `b` fills them.
pub(super) fn form_of(b: &Value) -> BriefForm {
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        v => v.to_string(),
    };
    let at = |p: &str| b.pointer(p).map(text).unwrap_or_default();
    let list = |p: &str, sep: &str| {
        b.pointer(p)
            .and_then(Value::as_array)
            .map(|a| a.iter().map(text).collect::<Vec<_>>().join(sep))
            .unwrap_or_default()
    };
    let stakeholders = b["stakeholders"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|s| {
                    format!(
                        "{}, {}, {}",
                        text(&s["name"]),
                        text(&s["role"]),
                        text(&s["contact"])
                    )
                })
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default();
    BriefForm {
        title: at("/title"),
        event_type: at("/event_type"),
        start: at("/date_range/start"),
        end: at("/date_range/end"),
        timezone: at("/timezone"),
        language: at("/language"),
        audience_size: at("/audience_size"),
        city: at("/location/city"),
        country: at("/location/country"),
        preferences: list("/location/preferences", ", "),
        budget_total: at("/budget/total"),
        currency: at("/budget/currency"),
        flexibility: match at("/budget/flexibility") {
            f if f.is_empty() => "fixed".into(),
            f => f,
        },
        tracks: at("/tracks"),
        objectives: list("/objectives", "\n"),
        constraints: list("/constraints", "\n"),
        stakeholders,
        doors: at("/hours/doors"),
        hours_start: at("/hours/start"),
        hours_end: at("/hours/end"),
        lunch_start: at("/hours/breaks/0/start"),
        lunch_end: at("/hours/breaks/0/end"),
        ..BriefForm::default()
    }
}

/// The merge patch that turns `current` into what form `f` says, touching only the fields the
/// form changed: a field the form does not show, or shows unchanged, is left out. The form's
/// lunch is the brief's first break (its label and the other breaks are kept).
pub(super) fn patch_of(current: &Value, f: &BriefForm) -> Value {
    let before = brief_value(&form_of(current));
    let after = brief_value(f);
    let mut patch = Map::new();
    let keys = |v: &Value| -> Vec<String> {
        v.as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default()
    };
    let mut all = keys(&before);
    all.extend(keys(&after).into_iter().filter(|k| before.get(k).is_none()));
    for k in all {
        let (b, a) = (before.get(&k), after.get(&k));
        if b == a {
            continue;
        }
        match (b, a) {
            (Some(Value::Object(bo)), Some(Value::Object(ao))) => {
                let mut sub = Map::new();
                let mut inner: Vec<&String> = bo.keys().collect();
                inner.extend(ao.keys().filter(|x| !bo.contains_key(*x)));
                for k2 in inner {
                    if bo.get(k2) == ao.get(k2) {
                        continue;
                    }
                    let v = if k == "hours" && k2 == "breaks" {
                        breaks(current, ao.get(k2))
                    } else {
                        ao.get(k2).cloned().unwrap_or(Value::Null)
                    };
                    sub.insert(k2.clone(), v);
                }
                patch.insert(k, Value::Object(sub));
            }
            (_, Some(Value::Object(ao))) if k == "hours" => {
                let mut ao = ao.clone();
                if let Some(b) = ao.get("breaks").cloned() {
                    ao.insert("breaks".into(), breaks(current, Some(&b)));
                }
                patch.insert(k, Value::Object(ao));
            }
            (_, a) => {
                patch.insert(k, a.cloned().unwrap_or(Value::Null));
            }
        }
    }
    Value::Object(patch)
}

/// The brief's breaks with the first one replaced by the form's lunch (keeping its label), or
/// removed when the form's lunch was cleared.
fn breaks(current: &Value, lunch: Option<&Value>) -> Value {
    let mut all: Vec<Value> = current
        .pointer("/hours/breaks")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let new = lunch
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .cloned();
    match (all.is_empty(), new) {
        (true, Some(n)) => all.push(n),
        (false, Some(mut n)) => {
            if let Some(label) = all[0].get("label") {
                n["label"] = label.clone();
            }
            all[0] = n;
        }
        (false, None) => {
            all.remove(0);
        }
        (true, None) => {}
    }
    Value::Array(all)
}

/// The event's current brief as JSON and its title, or the page that says why it cannot be
/// edited.
async fn editable(state: &AppState, id: EventId) -> Result<(Value, Editing), Response> {
    let o = state
        .engine
        .overview(id)
        .await
        .map_err(|e| page_error(e.into()))?;
    if o.event.state >= LifecycleState::Execute {
        return Err(page_error(ApiError::conflict(format!(
            "the event is in {}: its brief is fixed once Execute starts; report an incident instead",
            o.event.state
        ))));
    }
    let Some(brief) = o.blackboard.get::<EventBrief>() else {
        return Err(page_error(ApiError::conflict(format!(
            "event {id} has no complete brief yet: complete it first (its page names what is missing)"
        ))));
    };
    let value = serde_json::to_value(brief).map_err(|_| page_error(ApiError::internal()))?;
    Ok((
        value,
        Editing {
            id: id.to_string(),
            title: o.event.title.clone(),
        },
    ))
}

/// The form filled from the current brief.
pub(super) async fn brief_editor(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: Client,
    Path(id): Path<String>,
) -> Response {
    let s = match session(&state, &headers, client).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if let Err(e) = s.principal.require(Permission::Plan) {
        return page_error(e);
    }
    let id = match parse_id(&id) {
        Ok(id) => id,
        Err(e) => return page_error(e),
    };
    let (value, editing) = match editable(&state, id).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let f = BriefForm {
        csrf: s.csrf.clone(),
        ..form_of(&value)
    };
    brief_page(&state, &s, f, vec![], StatusCode::OK, Some(editing)).await
}

/// Saves what changed as the brief's next revision, or shows the form again with its problems.
pub(super) async fn save_brief(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: Client,
    Path(id): Path<String>,
    Form(f): Form<BriefForm>,
) -> Response {
    let s = match form_session(&state, &headers, client, &f.csrf, Some(Permission::Plan)).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let id = match parse_id(&id) {
        Ok(id) => id,
        Err(e) => return page_error(e),
    };
    let (current, editing) = match editable(&state, id).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let errors = field_errors(&problems(&brief_value(&f)));
    if !errors.is_empty() {
        return brief_page(
            &state,
            &s,
            f,
            errors,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(editing),
        )
        .await;
    }
    let patch = patch_of(&current, &f);
    if patch.as_object().is_some_and(Map::is_empty) {
        return Redirect::to(&format!("/ui/events/{id}?brief=unchanged")).into_response();
    }
    match state
        .engine
        .amend_brief(id, &patch, &s.principal.actor())
        .await
    {
        Ok(out) => {
            state.wake.notify_waiters();
            let revision = out.revision.map_or_else(String::new, |r| r.to_string());
            Redirect::to(&format!("/ui/events/{id}?brief={revision}")).into_response()
        }
        Err(EngineError::InvalidBrief(e)) => {
            let errors = field_errors(&brief_problem_at(&e, "").errors);
            brief_page(
                &state,
                &s,
                f,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(editing),
            )
            .await
        }
        Err(e) => page_error(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn brief() -> Value {
        json!({
            "title": "Rust Berlin",
            "event_type": "meetup",
            "date_range": {"start": "2029-03-08T18:00:00+01:00", "end": "2029-03-08T22:00:00+01:00"},
            "timezone": "Europe/Berlin",
            "audience_size": 80,
            "location": {"city": "Berlin", "country": "DE", "preferences": ["step-free"]},
            "budget": {"total": "5000", "currency": "EUR", "flexibility": "fixed"},
            "tracks": 1,
            "objectives": ["Share knowledge"],
            "constraints": ["no alcohol"],
            "stakeholders": [{"name": "Jana", "role": "owner", "contact": "jana@example.org"}],
            "assumptions": ["free entry"],
            "hours": {"start": "18:30", "end": "21:30",
                      "breaks": [{"label": "Pizza", "start": "19:30", "end": "20:00"},
                                 {"label": "Coffee", "start": "20:45", "end": "21:00"}]},
            "program": [{"title": "Talk", "duration_minutes": 30, "speakers": ["Ada"]}]
        })
    }

    #[test]
    fn an_unchanged_form_changes_nothing() {
        assert_eq!(patch_of(&brief(), &form_of(&brief())), json!({}));
    }

    #[test]
    fn only_what_changed_is_patched_and_the_rest_is_kept() {
        let b = brief();
        let mut f = form_of(&b);
        f.audience_size = "120".into();
        f.city = "Potsdam".into();
        f.constraints = "no alcohol\nstep-free access".into();
        f.lunch_end = "20:15".into();
        let patch = patch_of(&b, &f);
        assert_eq!(
            patch,
            json!({
                "audience_size": 120,
                "location": {"city": "Potsdam"},
                "constraints": ["no alcohol", "step-free access"],
                "hours": {"breaks": [
                    {"label": "Pizza", "start": "19:30", "end": "20:15"},
                    {"label": "Coffee", "start": "20:45", "end": "21:00"}
                ]}
            })
        );
        let mut merged = b.clone();
        eods_engine::merge_patch(&mut merged, &patch);
        assert_eq!(merged["program"], b["program"], "the program is kept");
        assert_eq!(merged["assumptions"], b["assumptions"]);
        assert_eq!(merged["date_range"], b["date_range"], "date-times are kept");
        assert_eq!(merged["location"]["preferences"], json!(["step-free"]));
    }

    #[test]
    fn a_cleared_lunch_removes_only_the_first_break() {
        let b = brief();
        let mut f = form_of(&b);
        f.lunch_start.clear();
        f.lunch_end.clear();
        assert_eq!(
            patch_of(&b, &f),
            json!({"hours": {"breaks": [{"label": "Coffee", "start": "20:45", "end": "21:00"}]}})
        );
    }
}
