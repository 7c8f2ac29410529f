//! Brief intake: turns the organiser's JSON into a typed `EventBrief`, or says exactly what is
//! wrong — a syntax error with line and column, every missing field by name, every unknown enum
//! value with the allowed values, every schema and semantic violation with its pointer.

use crate::catalog::brief::{EventBrief, EventType, Flexibility, StakeholderRole};
use crate::schema::schema_violations;
use crate::validate::{Violation, validate_payload};
use serde_json::Value;
use std::fmt;

/// Why a brief was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BriefError {
    /// Not JSON at all.
    Syntax {
        line: usize,
        column: usize,
        message: String,
    },
    /// Required fields are absent: the run goes to `needs_input`.
    Incomplete { missing: Vec<String> },
    /// Present but wrong: every violation with its pointer.
    Invalid { violations: Vec<Violation> },
}

impl fmt::Display for BriefError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BriefError::Syntax {
                line,
                column,
                message,
            } => {
                write!(f, "invalid JSON at line {line}, column {column}: {message}")
            }
            BriefError::Incomplete { missing } => {
                write!(
                    f,
                    "the brief is incomplete; missing fields: {}",
                    missing.join(", ")
                )
            }
            BriefError::Invalid { violations } => {
                write!(f, "the brief is invalid:")?;
                for v in violations {
                    write!(f, "\n  {v}")?;
                }
                Ok(())
            }
        }
    }
}

/// Fields every brief must have, as JSON pointers and the names reported when they are missing.
const REQUIRED: &[(&str, &str)] = &[
    ("/title", "title"),
    ("/event_type", "event_type"),
    ("/date_range/start", "date_range.start"),
    ("/date_range/end", "date_range.end"),
    ("/timezone", "timezone"),
    ("/audience_size", "audience_size"),
    ("/location/city", "location.city"),
    ("/location/country", "location.country"),
    ("/budget/total", "budget.total"),
    ("/budget/currency", "budget.currency"),
];

/// Parses brief text. Accepts a bare brief or an `event_brief` envelope (its payload is used).
pub fn parse_brief(text: &str) -> Result<EventBrief, BriefError> {
    let value: Value = serde_json::from_str(text).map_err(|e| BriefError::Syntax {
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })?;
    brief_from_value(value)
}

/// Like [`parse_brief`], from parsed JSON.
pub fn brief_from_value(value: Value) -> Result<EventBrief, BriefError> {
    let value = match value {
        Value::Object(ref m)
            if m.get("type").and_then(Value::as_str) == Some("event_brief")
                && m.contains_key("payload") =>
        {
            m.get("payload").cloned().unwrap_or(Value::Null)
        }
        v => v,
    };
    if !value.is_object() {
        return Err(BriefError::Invalid {
            violations: vec![Violation {
                pointer: String::new(),
                message: "a brief is a JSON object with title, event_type, date_range, timezone, audience_size, location and budget".into(),
            }],
        });
    }
    let mut missing: Vec<String> = REQUIRED
        .iter()
        .filter(|(p, _)| match value.pointer(p) {
            None | Some(Value::Null) => true,
            Some(Value::String(s)) => s.trim().is_empty(),
            Some(_) => false,
        })
        .map(|(_, name)| (*name).to_owned())
        .collect();
    let has_owner = value
        .get("stakeholders")
        .and_then(Value::as_array)
        .is_some_and(|a| {
            a.iter()
                .any(|s| s.get("role").and_then(Value::as_str) == Some("owner"))
        });
    if !has_owner {
        missing.push("stakeholders (at least one with role \"owner\")".into());
    }
    if !missing.is_empty() {
        return Err(BriefError::Incomplete { missing });
    }

    let mut violations = Vec::new();
    let mut enum_check = |pointer: String, allowed: &[&str]| {
        if let Some(Value::String(s)) = value.pointer(&pointer)
            && !allowed.contains(&s.as_str())
        {
            violations.push(Violation {
                pointer: pointer.clone(),
                message: format!(
                    "unknown value `{s}`: allowed values are {}",
                    allowed.join(", ")
                ),
            });
        }
    };
    enum_check("/event_type".into(), &EventType::ALL);
    enum_check("/budget/flexibility".into(), &Flexibility::ALL);
    let n = value
        .get("stakeholders")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    for i in 0..n {
        enum_check(format!("/stakeholders/{i}/role"), &StakeholderRole::ALL);
    }
    let enum_pointers: Vec<String> = violations.iter().map(|v| v.pointer.clone()).collect();
    let schema = schemars::schema_for!(EventBrief).to_value();
    violations.extend(
        schema_violations(&schema, &value)
            .into_iter()
            .filter(|v| !enum_pointers.contains(&v.pointer)),
    );
    if !violations.is_empty() {
        return Err(BriefError::Invalid { violations });
    }
    let brief: EventBrief = serde_json::from_value(value).map_err(|e| BriefError::Invalid {
        violations: vec![Violation {
            pointer: String::new(),
            message: e.to_string(),
        }],
    })?;
    let semantic = validate_payload(&crate::artifact::Payload::EventBrief(brief.clone()));
    if semantic.is_empty() {
        Ok(brief)
    } else {
        Err(BriefError::Invalid {
            violations: semantic,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expect: &str) {
        let got = match parse_brief(input) {
            Ok(b) => format!("ok {}", b.title),
            Err(e) => e.to_string(),
        };
        assert!(got.contains(expect), "expected `{expect}` in `{got}`");
    }

    const GOOD: &str = r#"{"title":"Rust Meetup","event_type":"meetup","date_range":{"start":"2027-03-10","end":"2027-03-10"},
        "timezone":"Europe/Berlin","audience_size":20,"location":{"city":"Berlin","country":"DE"},
        "budget":{"total":500,"currency":"EUR","flexibility":"fixed"},
        "stakeholders":[{"name":"Ada","role":"owner","contact":"ada@example.org"}]}"#;

    #[test]
    fn intake_cases() {
        check(GOOD, "ok Rust Meetup");
        check("{\n  \"title\": ,\n}", "line 2, column");
        check(
            r#"{"title":"x"}"#,
            "missing fields: event_type, date_range.start, date_range.end, timezone, audience_size, location.city, location.country, budget.total, budget.currency, stakeholders",
        );
        check(
            &GOOD.replace("\"meetup\"", "\"hackathon\""),
            "/event_type: unknown value `hackathon`: allowed values are meetup, conference, workshop, gala, festival, other",
        );
        check(
            &GOOD.replace("\"fixed\"", "\"elastic\""),
            "/budget/flexibility: unknown value `elastic`",
        );
        check(&GOOD.replace("Europe/Berlin", "Mars/Olympus"), "/timezone");
        check(
            &GOOD.replace(
                "2027-03-10\",\"end\":\"2027-03-10",
                "2027-03-10\",\"end\":\"2027-03-01",
            ),
            "/date_range/end",
        );
        check(&GOOD.replace("\"EUR\"", "\"euro\""), "/budget/currency");
        check(
            &GOOD.replace("\"audience_size\":20", "\"audience_size\":\"many\""),
            "/audience_size",
        );
        check(
            &GOOD.replace("\"audience_size\":20", "\"audience_size\":4000000000"),
            "/audience_size: audience_size must be at most 1000000",
        );
        check(
            &GOOD.replace(
                "2027-03-10\",\"end\":\"2027-03-10",
                "2207-03-10\",\"end\":\"2207-03-10",
            ),
            "/date_range/start: 2207-03-10 is outside the years 2000 to 2200",
        );
        check(
            &GOOD.replace("\"end\":\"2027-03-10", "\"end\":\"2027-06-10"),
            "/date_range/end: an event lasts at most 31 days",
        );
        check(
            &GOOD.replace(
                "\"stakeholders\"",
                "\"program\":[{\"title\":\"x\",\"duration_minutes\":0}],\"stakeholders\"",
            ),
            "/program/0/duration_minutes: a session lasts between 1 and 1440 minutes",
        );
    }
}
