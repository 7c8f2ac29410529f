//! Brief intake: turns the organiser's JSON into a typed `EventBrief`, or says exactly what is
//! wrong — a syntax error with line and column, every missing field by name, and for every
//! present but wrong field its JSON pointer, what was expected and an example. Unknown fields
//! are refused by name (nothing an organiser wrote is silently dropped). Also: the brief file's
//! own JSON Schema, and the check that an event is not dated in the past.

use crate::catalog::brief::{
    BriefTime, ClockTime, EventBrief, EventType, Flexibility, StakeholderRole,
};
use crate::money::Currency;
use crate::validate::{Violation, validate_payload};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};
use std::fmt;
use std::str::FromStr;

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
                )?;
                for name in missing {
                    write!(
                        f,
                        "\n  {}: required; {}",
                        missing_pointer(name),
                        missing_expected(name)
                    )?;
                }
                Ok(())
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

/// The JSON pointer of a field named in [`BriefError::Incomplete`] (`budget.total` → `/budget/total`;
/// the owner rule points at `/stakeholders`).
pub fn missing_pointer(name: &str) -> String {
    let field = name.split_whitespace().next().unwrap_or(name);
    format!("/{}", field.replace('.', "/"))
}

/// What a field named in [`BriefError::Incomplete`] expects, with an example.
pub fn missing_expected(name: &str) -> &'static str {
    match name.split_whitespace().next().unwrap_or(name) {
        "title" => "expected the event's name, such as \"Rust Meetup Lisbon\"",
        "event_type" => "expected one of meetup, conference, workshop, gala, festival, other",
        "date_range.start" | "date_range.end" => {
            "expected YYYY-MM-DD or an ISO 8601 date-time with offset, such as 2027-05-20 or 2027-05-20T09:00:00-03:00"
        }
        "timezone" => "expected an IANA time zone, such as Europe/Lisbon or America/Sao_Paulo",
        "audience_size" => "expected the number of people expected, a whole number such as 120",
        "location.city" => "expected the city, such as Lisbon",
        "location.country" => "expected an ISO 3166-1 alpha-2 country code, such as PT",
        "budget.total" => "expected the amount as a plain number, such as 12000 or 12000.50",
        "budget.currency" => "expected an ISO 4217 currency code, such as EUR, USD or BRL",
        "stakeholders" => {
            "expected at least one stakeholder with role \"owner\", such as {\"name\": \"Ana Souza\", \"role\": \"owner\", \"contact\": \"ana@example.org\"}"
        }
        _ => "see `eods schema brief` for the expected form",
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

/// The JSON Schema (draft 2020-12) of a brief file, as organisers write it.
pub fn brief_schema() -> Value {
    let mut schema = schemars::schema_for!(EventBrief).to_value();
    if let Value::Object(m) = &mut schema {
        m.insert(
            "$id".into(),
            json!("https://eods.dev/schemas/brief/1.1.0.json"),
        );
        m.insert("title".into(), json!("EODS event brief"));
        m.insert(
            "description".into(),
            json!("The brief file given to `eods plan` and POSTed as `brief` to /api/v1/events. Dates are YYYY-MM-DD (whole days in `timezone`) or ISO 8601 date-times with an offset; times of day are HH:MM in `timezone`. Unknown fields are refused."),
        );
        m.insert(
            "examples".into(),
            json!([{
                "title": "Rust Meetup São Paulo",
                "event_type": "meetup",
                "date_range": {"start": "2027-05-20T18:30:00-03:00", "end": "2027-05-20T21:30:00-03:00"},
                "timezone": "America/Sao_Paulo",
                "audience_size": 60,
                "location": {"city": "São Paulo", "country": "BR"},
                "budget": {"total": "6000", "currency": "BRL", "flexibility": "fixed"},
                "hours": {"doors": "18:30", "start": "19:00", "end": "21:00"},
                "constraints": ["Vegan and vegetarian food", "Venue must have wifi and a projector"],
                "stakeholders": [{"name": "Ana Souza", "role": "owner", "contact": "ana@example.org"}],
                "program": [{"title": "Keynote", "start": "19:00", "duration_minutes": 30, "plenary": true}]
            }]),
        );
    }
    schema
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

    static SCHEMA: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    static VALIDATOR: std::sync::OnceLock<Result<jsonschema::Validator, String>> =
        std::sync::OnceLock::new();
    let schema = SCHEMA.get_or_init(|| schemars::schema_for!(EventBrief).to_value());
    let mut violations = field_forms(&value);
    unknown_fields(schema, schema, &value, "", &mut violations);
    let reported: Vec<String> = violations.iter().map(|v| v.pointer.clone()).collect();
    let covered = |p: &str| {
        reported
            .iter()
            .any(|r| p == r || p.starts_with(&format!("{r}/")))
    };
    violations.extend(
        match crate::schema::compiled(&VALIDATOR, || schema.clone()) {
            Ok(v) => crate::schema::violations_of(v, &value),
            Err(e) => vec![Violation {
                pointer: String::new(),
                message: format!("internal schema error: {e}"),
            }],
        }
        .into_iter()
        .filter(|v| !covered(&v.pointer))
        // Unknown fields are reported above, by name, with what to do instead.
        .filter(|v| !v.message.contains("Additional properties"))
        .map(plain_words),
    );
    if !violations.is_empty() {
        violations.sort_by(|a, b| a.pointer.cmp(&b.pointer));
        violations.dedup();
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

/// The first day of the event, if it is before today in the event's time zone: the error that
/// refuses a brief dated in the past unless the organiser says it is intended.
pub fn past_dates(b: &EventBrief, now: DateTime<Utc>) -> Option<Violation> {
    let tz = b.tz();
    let today = now.with_timezone(&tz).date_naive();
    (b.first_day() < today).then(|| Violation {
        pointer: "/date_range/start".into(),
        message: format!(
            "the event starts on {}, which is in the past (today is {today} in {}): give future dates, or say a past date is intended (CLI `--allow-past`, API `\"allow_past\": true`)",
            b.first_day(),
            b.timezone
        ),
    })
}

/// How one kind of field is written, checked with a message that names the expected form.
#[derive(Debug, Clone, Copy)]
enum Form {
    DateOrDateTime,
    Date,
    Time,
    Amount,
    Count,
    Currency,
    TimeZone,
    Enum(&'static [&'static str]),
}

fn check_form(form: Form, v: &Value) -> Option<String> {
    let text = match v {
        Value::String(s) => Some(s.as_str()),
        _ => None,
    };
    match form {
        Form::DateOrDateTime => match text {
            Some(s) => BriefTime::parse(s).err(),
            None => Some(BriefTime::EXPECTED.into()),
        },
        Form::Date => {
            const EXPECTED: &str = "expected a date as YYYY-MM-DD, such as 2027-05-20";
            match text {
                Some(s) if NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").is_ok() => None,
                Some(s) => Some(format!("`{s}` is not a date: {EXPECTED}")),
                None => Some(EXPECTED.into()),
            }
        }
        Form::Time => match text {
            Some(s) => ClockTime::parse(s).err(),
            None => Some(ClockTime::EXPECTED.into()),
        },
        Form::Amount => amount_problem(v),
        Form::Count => match v {
            Value::Number(n) if n.as_u64().is_some() => None,
            Value::Number(n) => Some(format!(
                "{n} is not a whole number: expected a whole number of 0 or more, such as 200"
            )),
            Value::String(s) => Some(format!(
                "`{s}` is text: write the count as a bare whole number, such as 200 (no quotes, words or separators)"
            )),
            _ => Some("expected a whole number, such as 200".into()),
        },
        Form::Currency => match text {
            Some(s) => Currency::parse(s).err(),
            None => Some("expected an ISO 4217 currency code, such as EUR, USD or BRL".into()),
        },
        Form::TimeZone => match text {
            Some(s) if s.parse::<chrono_tz::Tz>().is_ok() => None,
            Some(s) => Some(format!(
                "`{s}` is not an IANA time zone name: use the zone of the event's city, such as Europe/Berlin or America/Sao_Paulo"
            )),
            None => Some("expected an IANA time zone name, such as Europe/Berlin".into()),
        },
        Form::Enum(allowed) => match text {
            Some(s) if allowed.contains(&s) => None,
            Some(s) => Some(format!(
                "unknown value `{s}`: allowed values are {}",
                allowed.join(", ")
            )),
            None => Some(format!("expected one of {}", allowed.join(", "))),
        },
    }
}

fn amount_problem(v: &Value) -> Option<String> {
    const EXPECTED: &str = "write the amount as a plain number, such as 12000 or 12000.50 (no thousands separators, spaces or currency signs)";
    match v {
        Value::Number(n) => {
            let ok = n.as_u64().is_some() || n.as_f64().is_some_and(f64::is_finite);
            (!ok).then(|| format!("{n} is not an amount: {EXPECTED}"))
        }
        Value::String(s) => {
            if Decimal::from_str(s.trim()).is_ok() {
                return None;
            }
            let digits: String = s.chars().filter(char::is_ascii_digit).collect();
            if s.contains(',') && !digits.is_empty() {
                Some(format!(
                    "`{s}` is not an amount: {EXPECTED}; for `{s}` write {}",
                    s.replace([',', ' '], "")
                        .trim_matches(|c: char| !c.is_ascii_digit() && c != '.')
                ))
            } else {
                Some(format!("`{s}` is not an amount: {EXPECTED}"))
            }
        }
        _ => Some(format!("expected an amount: {EXPECTED}")),
    }
}

/// Checks each typed field where it is present (absent optional fields are fine; absent
/// required ones were reported as missing).
fn field_forms(brief: &Value) -> Vec<Violation> {
    let mut out = Vec::new();
    let mut at = |pointer: String, form: Form| {
        if let Some(v) = brief.pointer(&pointer)
            && !v.is_null()
            && let Some(message) = check_form(form, v)
        {
            out.push(Violation { pointer, message });
        }
    };
    at("/event_type".into(), Form::Enum(&EventType::ALL));
    at("/date_range/start".into(), Form::DateOrDateTime);
    at("/date_range/end".into(), Form::DateOrDateTime);
    at("/timezone".into(), Form::TimeZone);
    at("/audience_size".into(), Form::Count);
    at("/tracks".into(), Form::Count);
    at("/budget/total".into(), Form::Amount);
    at("/budget/currency".into(), Form::Currency);
    at("/budget/flexibility".into(), Form::Enum(&Flexibility::ALL));
    at("/planning_start".into(), Form::Date);
    for f in ["doors", "start", "end"] {
        at(format!("/hours/{f}"), Form::Time);
    }
    let len = |p: &str| {
        brief
            .pointer(p)
            .and_then(Value::as_array)
            .map_or(0, Vec::len)
    };
    for i in 0..len("/hours/breaks") {
        at(format!("/hours/breaks/{i}/start"), Form::Time);
        at(format!("/hours/breaks/{i}/end"), Form::Time);
    }
    for i in 0..len("/hours/days") {
        at(format!("/hours/days/{i}/date"), Form::Date);
        for f in ["doors", "start", "end"] {
            at(format!("/hours/days/{i}/{f}"), Form::Time);
        }
        for j in 0..len(&format!("/hours/days/{i}/breaks")) {
            at(format!("/hours/days/{i}/breaks/{j}/start"), Form::Time);
            at(format!("/hours/days/{i}/breaks/{j}/end"), Form::Time);
        }
    }
    for i in 0..len("/program") {
        at(format!("/program/{i}/duration_minutes"), Form::Count);
        at(format!("/program/{i}/start"), Form::Time);
        at(format!("/program/{i}/day"), Form::Date);
    }
    for i in 0..len("/stakeholders") {
        at(
            format!("/stakeholders/{i}/role"),
            Form::Enum(&StakeholderRole::ALL),
        );
    }
    out
}

/// Resolves `$ref`s and `Option`'s `anyOf [T, null]` to the object schema of a value.
fn resolve<'a>(root: &'a Value, mut s: &'a Value) -> &'a Value {
    for _ in 0..8 {
        if let Some(r) = s.get("$ref").and_then(Value::as_str) {
            match r.strip_prefix('#').and_then(|p| root.pointer(p)) {
                Some(t) => {
                    s = t;
                    continue;
                }
                None => return s,
            }
        }
        if let Some(branches) = s
            .get("anyOf")
            .or_else(|| s.get("oneOf"))
            .and_then(Value::as_array)
            && let Some(b) = branches
                .iter()
                .find(|b| b.get("type").and_then(Value::as_str) != Some("null"))
            && (b.get("$ref").is_some() || b.get("properties").is_some())
        {
            s = b;
            continue;
        }
        return s;
    }
    s
}

/// Every field that is not part of the brief, by pointer and name, with the fields allowed there.
fn unknown_fields(root: &Value, schema: &Value, v: &Value, at: &str, out: &mut Vec<Violation>) {
    let schema = resolve(root, schema);
    match v {
        Value::Object(m) => {
            let Some(Value::Object(props)) = schema.get("properties") else {
                return;
            };
            for (k, x) in m {
                let pointer = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                match props.get(k) {
                    Some(s) => unknown_fields(root, s, x, &pointer, out),
                    None => out.push(Violation {
                        message: unknown_message(k, props, at),
                        pointer,
                    }),
                }
            }
        }
        Value::Array(items) => {
            if let Some(s) = schema.get("items") {
                for (i, x) in items.iter().enumerate() {
                    unknown_fields(root, s, x, &format!("{at}/{i}"), out);
                }
            }
        }
        _ => {}
    }
}

fn unknown_message(k: &str, props: &Map<String, Value>, at: &str) -> String {
    let known: Vec<&str> = props.keys().map(String::as_str).collect();
    let close = known
        .iter()
        .find(|n| n.eq_ignore_ascii_case(k) || edit_distance(n, k) <= 2)
        .map(|n| format!(" Did you mean `{n}`?"))
        .unwrap_or_default();
    let free_text = if at.is_empty() {
        " Free text belongs in `constraints`, `objectives` or `assumptions`."
    } else {
        ""
    };
    format!(
        "unknown field `{k}`: refused, so that nothing written is silently dropped.{close} Fields here: {}.{free_text}",
        known.join(", ")
    )
}

/// Levenshtein distance of two short names.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// Replaces a schema message that would show a regular expression or a schema fragment with
/// plain words.
fn plain_words(v: Violation) -> Violation {
    let m = &v.message;
    let message = if m.contains("does not match") {
        "has the wrong form: see `eods schema brief` for the expected form and an example".into()
    } else if m.contains("is not of type") {
        let want = m.rsplit("is not of type").next().unwrap_or("").trim();
        format!("has the wrong type: expected {}", want.replace('"', ""))
    } else {
        v.message.clone()
    };
    Violation {
        pointer: v.pointer,
        message,
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

    fn with(from: &str, to: &str) -> String {
        assert!(GOOD.contains(from), "{from}");
        GOOD.replace(from, to)
    }

    #[test]
    fn intake_cases() {
        check(GOOD, "ok Rust Meetup");
        check("{\n  \"title\": ,\n}", "line 2, column");
        check(
            r#"{"title":"x"}"#,
            "missing fields: event_type, date_range.start, date_range.end, timezone, audience_size, location.city, location.country, budget.total, budget.currency, stakeholders",
        );
        // Every missing field gets its pointer and the expected form with an example.
        for line in [
            "\n  /audience_size: required; expected the number of people expected, a whole number such as 120",
            "\n  /date_range/start: required; expected YYYY-MM-DD or an ISO 8601 date-time with offset",
            "\n  /stakeholders: required; expected at least one stakeholder with role \"owner\"",
        ] {
            check(r#"{"title":"x"}"#, line);
        }
        for (_, name) in REQUIRED {
            assert!(
                !missing_expected(name).starts_with("see "),
                "{name} has no expected form"
            );
        }
        check(
            &with("\"meetup\"", "\"hackathon\""),
            "/event_type: unknown value `hackathon`: allowed values are meetup, conference, workshop, gala, festival, other",
        );
        check(
            &with("\"fixed\"", "\"elastic\""),
            "/budget/flexibility: unknown value `elastic`",
        );
        check(
            &with("Europe/Berlin", "Mars/Olympus"),
            "/timezone: `Mars/Olympus` is not an IANA time zone name",
        );
        check(
            &with(
                "2027-03-10\",\"end\":\"2027-03-10",
                "2027-03-10\",\"end\":\"2027-03-01",
            ),
            "/date_range/end: the event ends (2027-03-01) before it starts (2027-03-10)",
        );
        check(&with("\"EUR\"", "\"euro\""), "/budget/currency");
        check(
            &with("\"audience_size\":20", "\"audience_size\":\"many\""),
            "/audience_size: `many` is text: write the count as a bare whole number, such as 200",
        );
        check(
            &with("\"audience_size\":20", "\"audience_size\":4000000000"),
            "/audience_size: audience_size must be at most 1000000",
        );
        check(
            &with(
                "2027-03-10\",\"end\":\"2027-03-10",
                "2207-03-10\",\"end\":\"2207-03-10",
            ),
            "/date_range/start: 2207-03-10 is outside the years 2000 to 2200",
        );
        check(
            &with("\"end\":\"2027-03-10", "\"end\":\"2027-06-10"),
            "/date_range/end: an event lasts at most 31 days",
        );
        check(
            &with(
                "\"stakeholders\"",
                "\"program\":[{\"title\":\"x\",\"duration_minutes\":0}],\"stakeholders\"",
            ),
            "/program/0/duration_minutes: a session lasts between 1 and 1440 minutes",
        );
    }

    #[test]
    fn dates_and_date_times() {
        // The spec's own form: ISO 8601 date-times with an offset, or Z.
        check(
            &with(
                "\"start\":\"2027-03-10\",\"end\":\"2027-03-10\"",
                "\"start\":\"2027-03-10T18:30:00+01:00\",\"end\":\"2027-03-10T21:30:00Z\"",
            ),
            "ok",
        );
        check(
            &with("\"start\":\"2027-03-10\"", "\"start\":\"08/04/2027\""),
            "/date_range/start: `08/04/2027` is not a date: expected YYYY-MM-DD or an ISO 8601 date-time with offset, such as 2027-05-20 or 2027-05-20T09:00:00-03:00",
        );
        check(
            &with(
                "\"start\":\"2027-03-10\"",
                "\"start\":\"2027-03-10T09:00:00\"",
            ),
            "/date_range/start: `2027-03-10T09:00:00` has no UTC offset: add one, such as `2027-03-10T09:00:00-03:00`",
        );
        check(
            &with(
                "\"start\":\"2027-03-10\",\"end\":\"2027-03-10\"",
                "\"start\":\"2027-03-10T21:00:00+01:00\",\"end\":\"2027-03-10T18:00:00+01:00\"",
            ),
            "/date_range/end: the event ends (2027-03-10T18:00:00+01:00) before it starts (2027-03-10T21:00:00+01:00)",
        );
        check(
            &with("\"start\":\"2027-03-10\"", "\"start\":20270310"),
            "/date_range/start: expected YYYY-MM-DD",
        );
    }

    #[test]
    fn hours_and_fixed_sessions() {
        check(
            &with(
                "\"stakeholders\"",
                r#""hours":{"doors":"18:30","start":"19:00","end":"21:00","breaks":[{"label":"Pizza","start":"20:00","end":"20:15"}]},
                   "program":[{"title":"Keynote","start":"19:00","plenary":true}],"stakeholders""#,
            ),
            "ok",
        );
        check(
            &with(
                "\"stakeholders\"",
                r#""hours":{"start":"7pm"},"stakeholders""#,
            ),
            "/hours/start: `7pm` is not a time: expected a time of day as HH:MM on the 24-hour clock, such as 09:30 or 19:00",
        );
        check(
            &with(
                "\"stakeholders\"",
                r#""hours":{"start":"21:00","end":"19:00"},"stakeholders""#,
            ),
            "/hours/end: the last session must end (19:00) after the first may start (21:00)",
        );
        check(
            &with(
                "\"stakeholders\"",
                r#""hours":{"days":[{"date":"2027-04-01","end":"17:00"}]},"stakeholders""#,
            ),
            "/hours/days/0/date: 2027-04-01 is not an event day",
        );
        check(
            &with(
                "\"stakeholders\"",
                r#""program":[{"title":"K","day":"2027-03-10"}],"stakeholders""#,
            ),
            "/program/0/start: a session with a day needs a start time",
        );
    }

    #[test]
    fn numbers_in_plain_words() {
        check(
            &with("\"total\":500", "\"total\":\"12,000\""),
            "/budget/total: `12,000` is not an amount: write the amount as a plain number, such as 12000 or 12000.50 (no thousands separators, spaces or currency signs); for `12,000` write 12000",
        );
        check(&with("\"total\":500", "\"total\":\"1500.50\""), "ok");
        check(
            &with("\"total\":500", "\"total\":\"€500\""),
            "/budget/total: `€500` is not an amount",
        );
        let e = parse_brief(&with("\"total\":500", "\"total\":\"12,000\""))
            .unwrap_err()
            .to_string();
        assert!(
            !e.contains('^') && !e.contains("[0-9]"),
            "no regular expression in {e}"
        );
        check(
            &with("\"audience_size\":20", "\"audience_size\":20.5"),
            "/audience_size: 20.5 is not a whole number",
        );
    }

    #[test]
    fn unknown_fields_are_refused_by_name() {
        check(
            &with(
                "\"stakeholders\"",
                "\"venue_notes\":\"near the river\",\"stakeholders\"",
            ),
            "/venue_notes: unknown field `venue_notes`: refused, so that nothing written is silently dropped.",
        );
        check(
            &with("\"city\":\"Berlin\"", "\"city\":\"Berlin\",\"cty\":\"x\""),
            "/location/cty: unknown field `cty`",
        );
        check(
            &with(
                "\"flexibility\":\"fixed\"",
                "\"flexibility\":\"fixed\",\"totl\":1",
            ),
            "Did you mean `total`?",
        );
        check(
            &with(
                "\"contact\":\"ada@example.org\"",
                "\"contact\":\"ada@example.org\",\"phone\":\"1\"",
            ),
            "/stakeholders/0/phone: unknown field `phone`",
        );
    }

    #[test]
    fn past_events_are_named() {
        let b = parse_brief(GOOD).unwrap();
        let now = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        assert!(
            past_dates(&b, now("2027-03-10T22:59:00Z")).is_none(),
            "same day in Berlin"
        );
        let v = past_dates(&b, now("2027-03-10T23:30:00Z")).unwrap();
        assert_eq!(v.pointer, "/date_range/start");
        assert!(
            v.message.contains("today is 2027-03-11 in Europe/Berlin")
                && v.message.contains("--allow-past"),
            "{}",
            v.message
        );
    }

    #[test]
    fn the_brief_schema_describes_the_file() {
        let s = brief_schema();
        assert_eq!(s["title"], "EODS event brief");
        assert!(s["properties"]["hours"].is_object());
        assert_eq!(s["additionalProperties"], false);
        // The schema's own example is a valid brief.
        let example = s["examples"][0].clone();
        assert!(brief_from_value(example).is_ok());
    }
}
