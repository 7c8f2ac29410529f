//! The audit viewer: the DecisionLog or the ChangeLog of one event or of every event, filtered
//! by entry type, owner (or actor) and date range, newest first. A read-only page over the same
//! store query as `GET /api/v1/audit`.

use super::event::name;
use super::{UserView, page_error, render, session, user_view};
use crate::AppState;
use crate::auth::Client;
use crate::error::ApiError;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::{NaiveDate, NaiveTime};
use eods_domain::catalog::audit::{ChangeType, DecisionType};
use eods_domain::ids::EventId;
use eods_store::{AuditFilter, AuditLog};
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;

/// At most this many entries a page.
const LIMIT: u32 = 300;

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct AuditForm {
    log: String,
    event: String,
    #[serde(rename = "type")]
    kind: String,
    who: String,
    since: String,
    until: String,
}

struct Row {
    at: String,
    event_id: String,
    event_title: String,
    kind: String,
    who: String,
    description: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    user: Option<UserView>,
    f: AuditForm,
    decisions: bool,
    kinds: Vec<String>,
    events: Vec<(String, String)>,
    rows: Vec<Row>,
    limit: u32,
}

fn kinds(decisions: bool) -> Vec<String> {
    if decisions {
        [
            DecisionType::AgentStep,
            DecisionType::StateTransition,
            DecisionType::Approval,
            DecisionType::Escalation,
            DecisionType::ContingencyActivated,
            DecisionType::Revision,
            DecisionType::Reminder,
        ]
        .iter()
        .map(name)
        .collect()
    } else {
        [
            ChangeType::Created,
            ChangeType::Revised,
            ChangeType::Approved,
            ChangeType::Rejected,
            ChangeType::StateChanged,
            ChangeType::Incident,
        ]
        .iter()
        .map(name)
        .collect()
    }
}

fn day(field: &str, s: &str) -> Result<Option<NaiveDate>, ApiError> {
    if s.trim().is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map(Some)
        .map_err(|_| {
            ApiError::field(
                &format!("#/parameters/{field}"),
                format!("`{s}` is not a date: write it as YYYY-MM-DD"),
            )
        })
}

fn text(v: &Value, key: &str) -> String {
    v.get(key).and_then(Value::as_str).unwrap_or("").to_owned()
}

/// What a decision or change says beyond its description.
fn detail(v: &Value, decisions: bool) -> String {
    if decisions {
        let mut s = text(v, "rationale");
        let alts: Vec<String> = v
            .get("alternatives")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|x| {
                        format!(
                            "{} ({:.2})",
                            text(x, "option"),
                            x.get("score").and_then(Value::as_f64).unwrap_or(0.0)
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        if !alts.is_empty() {
            s.push_str(&format!(" Alternatives: {}.", alts.join(", ")));
        }
        s
    } else {
        let impact = v.get("impact");
        let mut s = impact.map(|i| text(i, "summary")).unwrap_or_default();
        if let Some(d) = impact
            .and_then(|i| i.get("cost_delta"))
            .filter(|d| !d.is_null())
        {
            s.push_str(&format!(
                " Cost change: {}.",
                d.as_str().map_or_else(|| d.to_string(), str::to_owned)
            ));
        }
        s
    }
}

pub(super) async fn audit_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: Client,
    Query(f): Query<AuditForm>,
) -> Response {
    let s = match session(&state, &headers, client).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let decisions = f.log != "changes";
    let filter = match filter(&f) {
        Ok(x) => x,
        Err(e) => return page_error(e),
    };
    let log = if decisions {
        AuditLog::Decisions
    } else {
        AuditLog::Changes
    };
    let mut found = match state.store.audit_search(log, &filter).await {
        Ok(r) => r,
        Err(e) => return page_error(e.into()),
    };
    if !s.principal.contracts {
        for (_, v) in &mut found {
            crate::redact::log_entry(log, v);
        }
    }
    let all_events = match state.store.events().await {
        Ok(e) => e,
        Err(e) => return page_error(e.into()),
    };
    let titles: HashMap<EventId, String> =
        all_events.iter().map(|e| (e.id, e.title.clone())).collect();
    let rows = found
        .iter()
        .map(|(event, v)| Row {
            at: v
                .get("at")
                .and_then(Value::as_str)
                .and_then(|a| chrono::DateTime::parse_from_rfc3339(a).ok())
                .map(|a| a.format("%Y-%m-%d %H:%M:%S").to_string())
                .unwrap_or_default(),
            event_id: event.to_string(),
            event_title: titles.get(event).cloned().unwrap_or_default(),
            kind: text(v, if decisions { "decision_type" } else { "type" }),
            who: text(v, if decisions { "owner" } else { "actor" }),
            description: text(v, "description"),
            detail: detail(v, decisions),
        })
        .collect();
    let user = match user_view(&state, &s).await {
        Ok(u) => Some(u),
        Err(e) => return page_error(e),
    };
    render(AuditPage {
        user,
        decisions,
        kinds: kinds(decisions),
        events: all_events
            .iter()
            .map(|e| (e.id.to_string(), e.title.clone()))
            .collect(),
        rows,
        limit: LIMIT,
        f,
    })
}

fn filter(f: &AuditForm) -> Result<AuditFilter, ApiError> {
    let event = match f.event.trim() {
        "" => None,
        e => Some(e.parse::<EventId>().map_err(|_| {
            ApiError::field("#/parameters/event", format!("`{e}` is not an event id"))
        })?),
    };
    let decisions = f.log != "changes";
    if !matches!(f.log.as_str(), "" | "decisions" | "changes") {
        return Err(ApiError::field(
            "#/parameters/log",
            format!("unknown log `{}`: use decisions or changes", f.log),
        ));
    }
    let kind = match f.kind.trim() {
        "" => None,
        k if kinds(decisions).iter().any(|x| x == k) => Some(k.to_owned()),
        k => {
            return Err(ApiError::field(
                "#/parameters/type",
                format!(
                    "unknown type `{k}` for this log: choose one of {}",
                    kinds(decisions).join(", ")
                ),
            ));
        }
    };
    let since = day("since", &f.since)?;
    let until = day("until", &f.until)?;
    if let (Some(a), Some(b)) = (since, until)
        && b < a
    {
        return Err(ApiError::field(
            "#/parameters/until",
            "the end date is before the start date",
        ));
    }
    Ok(AuditFilter {
        event,
        kind,
        who: Some(f.who.trim().to_owned()).filter(|w| !w.is_empty()),
        since: since.map(|d| d.and_time(NaiveTime::MIN).and_utc()),
        // The end date is inclusive: entries before the next midnight.
        until: until
            .and_then(|d| d.succ_opt())
            .map(|d| d.and_time(NaiveTime::MIN).and_utc()),
        limit: LIMIT,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> AuditForm {
        let q: String = pairs
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&");
        serde_urlencoded_like(&q)
    }

    /// The query-string decoding axum applies, for plain ASCII test values.
    fn serde_urlencoded_like(q: &str) -> AuditForm {
        let mut f = AuditForm::default();
        for kv in q.split('&').filter(|s| !s.is_empty()) {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            let v = v.to_owned();
            match k {
                "log" => f.log = v,
                "event" => f.event = v,
                "type" => f.kind = v,
                "who" => f.who = v,
                "since" => f.since = v,
                "until" => f.until = v,
                _ => {}
            }
        }
        f
    }

    #[test]
    fn filters_are_checked_and_the_end_date_is_inclusive() {
        let ok = filter(&form(&[
            ("since", "2027-03-01"),
            ("until", "2027-03-02"),
            ("type", "approval"),
        ]));
        let ok = ok.map(|f| {
            (
                f.since.map(|d| d.to_rfc3339()),
                f.until.map(|d| d.to_rfc3339()),
                f.kind,
            )
        });
        assert_eq!(
            ok.ok(),
            Some((
                Some("2027-03-01T00:00:00+00:00".to_owned()),
                Some("2027-03-03T00:00:00+00:00".to_owned()),
                Some("approval".to_owned())
            ))
        );
        let cases: [(&[(&str, &str)], &str); 5] = [
            (&[("since", "01.03.2027")], "/since"),
            (
                &[("since", "2027-03-05"), ("until", "2027-03-01")],
                "/until",
            ),
            (&[("type", "incident")], "/type"),
            (&[("log", "mails")], "/log"),
            (&[("event", "42")], "/event"),
        ];
        for (pairs, pointer) in cases {
            let e = filter(&form(pairs))
                .err()
                .map(|e| e.errors[0].pointer.clone());
            assert_eq!(
                e.as_deref(),
                Some(format!("#/parameters{pointer}").as_str())
            );
        }
        assert!(filter(&form(&[("log", "changes"), ("type", "incident")])).is_ok());
    }
}
