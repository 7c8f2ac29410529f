//! The new-event form: a brief built from form fields and checked by the same intake as
//! `POST /api/v1/events`; every problem is shown next to its field (and listed in a summary at
//! the top), with what was typed kept. A valid brief creates the event and starts planning.

use super::{Session, form_session, page_error, render, session, user_view};
use crate::AppState;
use crate::auth::Client;
use crate::dto::brief_problem_at;
use crate::error::ProblemItem;
use askama::Template;
use axum::Form;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use eods_domain::access::Permission;
use eods_domain::instruction::Level;
use eods_domain::intake::{BriefError, brief_from_value};
use eods_engine::{Creation, EngineError, RunOptions, Supply};
use serde::Deserialize;
use serde_json::{Map, Value, json};

/// What the form holds, as typed (strings, so a wrong value is shown back as it was entered).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(super) struct BriefForm {
    pub csrf: String,
    pub title: String,
    pub event_type: String,
    pub start: String,
    pub end: String,
    pub timezone: String,
    /// The language messages are written in (BCP 47).
    pub language: String,
    pub audience_size: String,
    pub city: String,
    pub country: String,
    pub preferences: String,
    pub budget_total: String,
    pub currency: String,
    pub flexibility: String,
    pub tracks: String,
    pub objectives: String,
    pub constraints: String,
    pub stakeholders: String,
    pub level: String,
    pub doors: String,
    pub hours_start: String,
    pub hours_end: String,
    pub lunch_start: String,
    pub lunch_end: String,
    /// A checkbox: plan although the first day is past.
    pub allow_past: String,
    /// `live` (the default, also when empty) or `simulate`.
    pub mode: String,
}

/// One form field's problem.
pub(super) struct FieldError {
    pub field: &'static str,
    pub label: &'static str,
    pub message: String,
}

#[derive(Template)]
#[template(path = "new_event.html")]
struct NewEventPage {
    user: Option<super::UserView>,
    csrf: String,
    f: BriefForm,
    errors: Vec<FieldError>,
    event_types: &'static [&'static str],
    levels: &'static [&'static str],
    /// The event whose brief the form edits (no files, level or mode then).
    editing: Option<Editing>,
}

/// The event a brief form edits.
pub(super) struct Editing {
    pub id: String,
    pub title: String,
}

impl NewEventPage {
    /// `date`, or `text` for a value with a time of day (a date input would drop it).
    fn date_kind(&self, value: &str) -> &'static str {
        if value.contains('T') { "text" } else { "date" }
    }

    /// The problem of a field, if it has one (the template marks the field invalid).
    fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }

    /// Every problem of a field (a file has one a bad row).
    fn errors_of(&self, field: &str) -> Vec<&str> {
        self.errors
            .iter()
            .filter(|e| e.field == field)
            .map(|e| e.message.as_str())
            .collect()
    }
}

/// The form fields, their labels, and the brief pointer each fills (longest prefixes first
/// where they nest).
const FIELDS: &[(&str, &str, &str)] = &[
    ("title", "Title", "/title"),
    ("event_type", "Event type", "/event_type"),
    ("start", "First day", "/date_range/start"),
    ("end", "Last day", "/date_range/end"),
    ("start", "First day", "/date_range"),
    ("timezone", "Time zone", "/timezone"),
    ("language", "Language of messages", "/language"),
    ("audience_size", "Audience size", "/audience_size"),
    ("city", "City", "/location/city"),
    ("country", "Country", "/location/country"),
    (
        "preferences",
        "Location preferences",
        "/location/preferences",
    ),
    ("budget_total", "Budget", "/budget/total"),
    ("currency", "Currency", "/budget/currency"),
    ("flexibility", "Budget flexibility", "/budget/flexibility"),
    ("tracks", "Tracks", "/tracks"),
    ("doors", "Doors open", "/hours/doors"),
    ("hours_start", "First session from", "/hours/start"),
    ("hours_end", "Last session ends by", "/hours/end"),
    ("lunch_start", "Lunch from", "/hours/breaks/0/start"),
    ("lunch_end", "Lunch until", "/hours/breaks/0/end"),
    ("lunch_start", "Lunch from", "/hours/breaks"),
    ("hours_start", "First session from", "/hours"),
    ("objectives", "Objectives", "/objectives"),
    ("constraints", "Constraints", "/constraints"),
    ("stakeholders", "Stakeholders", "/stakeholders"),
];

fn lines(s: &str) -> Vec<Value> {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| Value::String(l.to_owned()))
        .collect()
}

/// A number if the text is one, else the text itself (so intake names the field and the type).
fn number_or_text(s: &str) -> Value {
    let t = s.trim();
    if let Ok(n) = t.parse::<u64>() {
        return json!(n);
    }
    if let Ok(x) = t.parse::<f64>()
        && x.is_finite()
    {
        return json!(x);
    }
    json!(t)
}

/// The brief the form describes. Empty fields are left out, so intake reports them as required.
pub(super) fn brief_value(f: &BriefForm) -> Value {
    let mut m = Map::new();
    let mut put = |path: &[&str], v: Value| {
        let mut cur = &mut m;
        for (i, k) in path.iter().enumerate() {
            if i + 1 == path.len() {
                cur.insert((*k).to_owned(), v);
                return;
            }
            let next = cur
                .entry((*k).to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            match next {
                Value::Object(o) => cur = o,
                _ => return,
            }
        }
    };
    let text = |s: &str| (!s.trim().is_empty()).then(|| json!(s.trim()));
    if let Some(v) = text(&f.title) {
        put(&["title"], v);
    }
    if let Some(v) = text(&f.event_type) {
        put(&["event_type"], v);
    }
    if let Some(v) = text(&f.start) {
        put(&["date_range", "start"], v);
    }
    if let Some(v) = text(&f.end) {
        put(&["date_range", "end"], v);
    }
    if let Some(v) = text(&f.timezone) {
        put(&["timezone"], v);
    }
    if let Some(v) = text(&f.language) {
        put(&["language"], v);
    }
    if !f.audience_size.trim().is_empty() {
        put(&["audience_size"], number_or_text(&f.audience_size));
    }
    if let Some(v) = text(&f.city) {
        put(&["location", "city"], v);
    }
    if let Some(v) = text(&f.country) {
        put(&["location", "country"], v);
    }
    let prefs: Vec<Value> = f
        .preferences
        .split([',', '\n'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| json!(p))
        .collect();
    if !prefs.is_empty() {
        put(&["location", "preferences"], Value::Array(prefs));
    }
    if !f.budget_total.trim().is_empty() {
        put(&["budget", "total"], number_or_text(&f.budget_total));
    }
    if let Some(v) = text(&f.currency.to_uppercase()) {
        put(&["budget", "currency"], v);
    }
    if let Some(v) = text(&f.flexibility) {
        put(&["budget", "flexibility"], v);
    }
    if !f.tracks.trim().is_empty() {
        put(&["tracks"], number_or_text(&f.tracks));
    }
    for (field, key) in [
        (&f.doors, "doors"),
        (&f.hours_start, "start"),
        (&f.hours_end, "end"),
    ] {
        if let Some(v) = text(field) {
            put(&["hours", key], v);
        }
    }
    if !f.lunch_start.trim().is_empty() || !f.lunch_end.trim().is_empty() {
        put(
            &["hours", "breaks"],
            json!([{"label": "Lunch", "start": f.lunch_start.trim(), "end": f.lunch_end.trim()}]),
        );
    }
    put(&["objectives"], Value::Array(lines(&f.objectives)));
    put(&["constraints"], Value::Array(lines(&f.constraints)));
    let people: Vec<Value> = f
        .stakeholders
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| {
            let mut parts = l.splitn(3, ',').map(str::trim);
            let name = parts.next().unwrap_or_default();
            let role = parts.next().unwrap_or_default();
            let contact = parts.next().unwrap_or_default();
            json!({"name": name, "role": role, "contact": contact})
        })
        .collect();
    put(&["stakeholders"], Value::Array(people));
    Value::Object(m)
}

/// Stand-ins for required fields, so the fields that are there get checked in the same pass.
const STAND_INS: &[(&str, &str)] = &[
    ("/title", "\"stand-in\""),
    ("/event_type", "\"other\""),
    ("/date_range/start", "\"2000-01-01\""),
    ("/date_range/end", "\"2999-12-31\""),
    ("/timezone", "\"UTC\""),
    ("/audience_size", "1"),
    ("/location/city", "\"stand-in\""),
    ("/location/country", "\"DE\""),
    ("/budget/total", "1"),
    ("/budget/currency", "\"EUR\""),
];

/// Every problem of the brief, the way `POST /api/v1/events` finds them. Intake stops at missing
/// fields; a form should name the wrong ones in the same answer, so the brief is checked again
/// with stand-ins for what is missing and the problems of the fields that were filled are added.
pub(super) fn problems(brief: &Value) -> Vec<ProblemItem> {
    let Err(e) = brief_from_value(brief.clone()) else {
        return vec![];
    };
    let mut out = brief_problem_at(&e, "").errors.clone();
    let BriefError::Incomplete { .. } = e else {
        return out;
    };
    let mut filled = brief.clone();
    let mut stood_in: Vec<String> = Vec::new();
    for (ptr, json) in STAND_INS {
        let empty = match brief.pointer(ptr) {
            None | Some(Value::Null) => true,
            Some(Value::String(s)) => s.trim().is_empty(),
            Some(_) => false,
        };
        if empty && let Ok(v) = serde_json::from_str::<Value>(json) {
            let mut patch = v;
            for key in ptr.rsplit('/').filter(|k| !k.is_empty()) {
                patch = json!({ key: patch });
            }
            eods_engine::merge_patch(&mut filled, &patch);
            stood_in.push((*ptr).to_owned());
        }
    }
    if let Some(people) = filled.get_mut("stakeholders").and_then(Value::as_array_mut)
        && !people
            .iter()
            .any(|p| p.get("role").and_then(Value::as_str) == Some("owner"))
    {
        stood_in.push(format!("/stakeholders/{}", people.len()));
        people.push(json!({"name": "stand-in", "role": "owner"}));
    }
    if let Err(e) = brief_from_value(filled) {
        let touches_stand_in = |p: &ProblemItem| {
            p.pointer.is_empty()
                || stood_in
                    .iter()
                    .any(|s| p.pointer == *s || p.pointer.starts_with(&format!("{s}/")))
        };
        out.extend(
            brief_problem_at(&e, "")
                .errors
                .iter()
                .filter(|p| !touches_stand_in(p))
                .cloned(),
        );
    }
    out
}

/// Problems (pointers into the brief) as field errors. A stakeholder problem names its line.
pub(super) fn field_errors(problems: &[ProblemItem]) -> Vec<FieldError> {
    let mut out: Vec<FieldError> = Vec::new();
    for p in problems {
        let found = FIELDS.iter().find(|(_, _, ptr)| {
            p.pointer == *ptr
                || p.pointer
                    .strip_prefix(ptr)
                    .is_some_and(|rest| rest.starts_with('/') || rest.starts_with(' '))
        });
        let (field, label, ptr) = found.copied().unwrap_or(("", "Brief", ""));
        let mut message = p.message.clone();
        if field == "stakeholders"
            && let Some(rest) = p.pointer.strip_prefix("/stakeholders/")
        {
            let mut it = rest.split('/');
            if let Some(Ok(i)) = it.next().map(str::parse::<usize>) {
                let part = it.next().unwrap_or("entry");
                message = format!("line {}, {part}: {message}", i + 1);
            }
        } else if p.pointer.starts_with("/stakeholders ") || p.pointer == "/stakeholders" {
            message = "add a line with role owner, e.g. “Jana Oberländer, owner, jana@example.org”"
                .into();
        } else if field.is_empty() {
            message = format!("{}: {message}", p.pointer);
        } else if p.pointer != ptr {
            message = format!("{}: {message}", p.pointer.trim_start_matches(ptr));
        }
        if let Some(expected) = message.strip_prefix("required; ") {
            message = format!("enter the {}: {expected}", label.to_lowercase());
        }
        // One message a field; the first is the one to fix first.
        if !out.iter().any(|e| e.field == field && !field.is_empty()) {
            out.push(FieldError {
                field,
                label,
                message,
            });
        }
    }
    out
}

pub(super) async fn new_event_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: Client,
) -> Response {
    let s = match session(&state, &headers, client).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if let Err(e) = s.principal.require(Permission::Plan) {
        return page_error(e);
    }
    let f = BriefForm {
        event_type: "meetup".into(),
        currency: "EUR".into(),
        flexibility: "fixed".into(),
        tracks: "1".into(),
        timezone: "Europe/Berlin".into(),
        ..BriefForm::default()
    };
    form_page(&state, &s, f, vec![], StatusCode::OK).await
}

async fn form_page(
    state: &AppState,
    s: &Session,
    f: BriefForm,
    errors: Vec<FieldError>,
    status: StatusCode,
) -> Response {
    brief_page(state, s, f, errors, status, None).await
}

/// The brief form: for a new event, or editing one (`editing`).
pub(super) async fn brief_page(
    state: &AppState,
    s: &Session,
    f: BriefForm,
    errors: Vec<FieldError>,
    status: StatusCode,
    editing: Option<Editing>,
) -> Response {
    let user = match user_view(state, s).await {
        Ok(u) => Some(u),
        Err(e) => return page_error(e),
    };
    let mut res = render(NewEventPage {
        user,
        csrf: s.csrf.clone(),
        f,
        errors,
        event_types: &eods_domain::catalog::brief::EventType::ALL,
        levels: &Level::ALL,
        editing,
    });
    if res.status() == StatusCode::OK {
        *res.status_mut() = status;
    }
    res
}

/// An uploaded file of the form: its name and text.
pub(super) struct Upload {
    pub name: String,
    pub text: String,
}

/// The form as sent: URL-encoded (no files) or `multipart/form-data` with the organiser's files.
async fn read_form(
    state: &AppState,
    req: Request,
) -> Result<(BriefForm, Option<Upload>, Option<Upload>), String> {
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        });
    if !multipart {
        let Form(f) = Form::<BriefForm>::from_request(req, state)
            .await
            .map_err(|e| e.body_text())?;
        return Ok((f, None, None));
    }
    let mut mp = Multipart::from_request(req, state)
        .await
        .map_err(|e| e.body_text())?;
    let mut fields = Map::new();
    let (mut venues, mut rate_cards) = (None, None);
    while let Some(field) = mp.next_field().await.map_err(|e| e.body_text())? {
        let name = field.name().unwrap_or_default().to_owned();
        let file = field.file_name().map(str::to_owned);
        let bytes = field.bytes().await.map_err(|e| e.body_text())?;
        match name.as_str() {
            "venues_file" | "rate_cards_file" => {
                let file = file.unwrap_or_default();
                // A file input left empty sends an empty part without a name.
                if file.is_empty() && bytes.is_empty() {
                    continue;
                }
                let text = String::from_utf8(bytes.to_vec()).map_err(|_| {
                    format!("{file} is not UTF-8 text: save it as UTF-8 CSV or JSON")
                })?;
                let upload = Some(Upload { name: file, text });
                if name == "venues_file" {
                    venues = upload;
                } else {
                    rate_cards = upload;
                }
            }
            _ => {
                fields.insert(
                    name,
                    Value::String(String::from_utf8_lossy(&bytes).into_owned()),
                );
            }
        }
    }
    let f = serde_json::from_value(Value::Object(fields)).map_err(|e| e.to_string())?;
    Ok((f, venues, rate_cards))
}

/// Every bad row of an uploaded file, as errors of its field (one a row, with line and column).
fn file_errors(
    field: &'static str,
    label: &'static str,
    file: &str,
    problems: Vec<ProblemItem>,
) -> Vec<FieldError> {
    problems
        .into_iter()
        .map(|p| FieldError {
            field,
            label,
            message: format!("{file} {}", p.message),
        })
        .collect()
}

pub(super) async fn create_event(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: Client,
    req: Request,
) -> Response {
    let (f, venues_file, rate_cards_file) = match read_form(&state, req).await {
        Ok(x) => x,
        Err(e) => {
            return page_error(crate::error::ApiError::field(
                "",
                format!("the form could not be read: {e}"),
            ));
        }
    };
    let s = match form_session(&state, &headers, client, &f.csrf, Some(Permission::Plan)).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let level = match f.level.as_str() {
        "" => None,
        l => match serde_json::from_value::<Level>(json!(l)) {
            Ok(l) => Some(l),
            Err(_) => {
                let errors = vec![FieldError {
                    field: "level",
                    label: "Level",
                    message: format!("choose one of {}", Level::ALL.join(", ")),
                }];
                return form_page(&state, &s, f, errors, StatusCode::UNPROCESSABLE_ENTITY).await;
            }
        },
    };
    let mode = match f.mode.as_str() {
        "" | "live" => eods_domain::run::RunMode::Live,
        "simulate" => eods_domain::run::RunMode::Simulate,
        _ => {
            let errors = vec![FieldError {
                field: "mode",
                label: "After the plan is confirmed",
                message: "choose live or simulate".into(),
            }];
            return form_page(&state, &s, f, errors, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    let brief = brief_value(&f);
    let problems = problems(&brief);
    let mut errors = field_errors(&problems);
    let mut supply = Supply::default();
    if let Some(u) = &venues_file {
        match crate::organiser::venues_text(&u.text, &u.name, "") {
            Ok(v) => supply.venues = Some(v),
            Err(p) => errors.extend(file_errors("venues_file", VENUES_LABEL, &u.name, p)),
        }
    }
    if let Some(u) = &rate_cards_file {
        match crate::organiser::rate_cards_text(&u.text, &u.name, "") {
            Ok(r) => supply.rate_cards = Some(r),
            Err(p) => errors.extend(file_errors("rate_cards_file", RATE_CARDS_LABEL, &u.name, p)),
        }
    }
    if !errors.is_empty() {
        return form_page(&state, &s, f, errors, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let options = RunOptions {
        level,
        submitted_by: s.principal.actor(),
        approve: "web".into(),
        allow_past: !f.allow_past.is_empty(),
        mode,
        ..RunOptions::default()
    };
    // The event, its files and its start are one transaction.
    let with = Creation {
        supply: (!supply.is_empty()).then(|| {
            (
                supply,
                s.principal.actor(),
                "uploaded with the new event".to_owned(),
            )
        }),
        start_by: Some(s.principal.actor()),
    };
    let id = match state.engine.create(brief, &options, with).await {
        Ok(id) => id,
        Err(EngineError::InvalidBrief(e)) => {
            let errors = field_errors(&brief_problem_at(&e, "").errors);
            return form_page(&state, &s, f, errors, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
        Err(e) => return page_error(e.into()),
    };
    state.wake.notify_waiters();
    Redirect::to(&format!("/ui/events/{id}?created=1")).into_response()
}

/// The labels of the file inputs.
const VENUES_LABEL: &str = "Your venue list (CSV or JSON)";
const RATE_CARDS_LABEL: &str = "Your rate cards (CSV)";

#[cfg(test)]
mod tests {
    use super::*;

    fn check(f: BriefForm, expect: &[(&str, &str)]) {
        let errors = field_errors(&problems(&brief_value(&f)));
        let got: Vec<(&str, &str)> = errors
            .iter()
            .map(|e| (e.field, e.message.as_str()))
            .collect();
        assert_eq!(got.len(), expect.len(), "{got:?}");
        for ((gf, gm), (ef, em)) in got.iter().zip(expect) {
            assert_eq!(gf, ef, "{got:?}");
            assert!(gm.contains(em), "`{gm}` should contain `{em}`");
        }
    }

    fn good() -> BriefForm {
        BriefForm {
            title: "Rust meetup".into(),
            event_type: "meetup".into(),
            start: "2027-03-11".into(),
            end: "2027-03-11".into(),
            timezone: "Europe/Berlin".into(),
            audience_size: "20".into(),
            city: "Berlin".into(),
            country: "DE".into(),
            preferences: "near public transport, step-free".into(),
            budget_total: "500".into(),
            currency: "eur".into(),
            flexibility: "fixed".into(),
            tracks: "1".into(),
            objectives: "Talks\n\nPizza".into(),
            stakeholders: "Jana, owner, jana@example.org\nMalik, volunteer".into(),
            ..BriefForm::default()
        }
    }

    #[test]
    fn a_complete_form_is_a_valid_brief() {
        let b = brief_from_value(brief_value(&good()));
        let b = b.map_err(|e| e.to_string());
        let b = b.as_ref().map(|b| {
            (
                b.audience_size,
                b.location.preferences.len(),
                b.objectives.len(),
                b.stakeholders.len(),
                b.budget.currency.to_string(),
            )
        });
        assert_eq!(b, Ok((20, 2, 2, 2, "EUR".to_owned())));
    }

    #[test]
    fn problems_land_on_their_fields() {
        check(
            BriefForm {
                title: String::new(),
                city: " ".into(),
                ..good()
            },
            &[("title", "enter the title"), ("city", "enter the city")],
        );
        check(
            BriefForm {
                stakeholders: "Malik, volunteer".into(),
                ..good()
            },
            &[("stakeholders", "role owner")],
        );
        check(
            BriefForm {
                audience_size: "many".into(),
                ..good()
            },
            &[("audience_size", "")],
        );
        check(
            BriefForm {
                stakeholders: "Jana, owner\nBob, chef".into(),
                ..good()
            },
            &[("stakeholders", "line 2, role")],
        );
        // A missing field and a wrong one are named in the same answer.
        check(
            BriefForm {
                title: String::new(),
                audience_size: "many".into(),
                stakeholders: "Jana, chef".into(),
                ..good()
            },
            &[
                ("title", "enter the title"),
                ("stakeholders", "role owner"),
                ("audience_size", "whole number"),
            ],
        );
        check(
            BriefForm {
                event_type: "rave".into(),
                ..good()
            },
            &[("event_type", "allowed values")],
        );
        check(
            BriefForm {
                end: "2027-03-01".into(),
                ..good()
            },
            &[("end", "before it starts")],
        );
        check(
            BriefForm {
                hours_start: "21:00".into(),
                hours_end: "19:00".into(),
                ..good()
            },
            &[("hours_end", "must end (19:00) after")],
        );
        check(
            BriefForm {
                lunch_start: "12:00".into(),
                ..good()
            },
            &[("lunch_end", "no time given")],
        );
    }

    #[test]
    fn daily_hours_from_the_form() {
        let b = brief_from_value(brief_value(&BriefForm {
            doors: "18:30".into(),
            hours_start: "19:00".into(),
            hours_end: "21:00".into(),
            ..good()
        }))
        .map_err(|e| e.to_string());
        let hours = b.map(|b| {
            (
                b.hours.doors.map(|t| t.to_string()),
                b.hours.start.map(|t| t.to_string()),
                b.hours.end.map(|t| t.to_string()),
                b.hours.breaks.len(),
            )
        });
        assert_eq!(
            hours,
            Ok((
                Some("18:30".into()),
                Some("19:00".into()),
                Some("21:00".into()),
                0
            ))
        );
    }
}
