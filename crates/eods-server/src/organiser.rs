//! The organiser's venue lists, rate cards and quotes as they arrive over HTTP (CSV text, JSON
//! arrays, uploaded files), turned into domain records with the parsers of `eods-sources`. Every
//! bad row becomes one problem naming where it is: for CSV text the field of the request
//! (`/venues_csv`) with the line and column, for a JSON array the element and its field
//! (`/rate_cards/2/unit`). Nothing here writes: callers hand the records to `Engine::supply`.

use crate::error::ProblemItem;
use eods_domain::catalog::sources::{RateCardRow, SourceKind, VenueQuote, VenueRecord};
use eods_sources::files::{self, Parsed, RowError};
use serde_json::Value;

/// Records, or every problem found (nothing is kept from a list with a bad row).
pub(crate) type Checked<T> = Result<Vec<T>, Vec<ProblemItem>>;

/// A CSV or JSON row error as a problem of the request field `pointer` (CSV text).
fn text_problem(pointer: &str, e: &RowError) -> ProblemItem {
    let message = if e.column.is_empty() {
        format!("line {}: {}", e.line, e.message)
    } else {
        format!("line {}, column {}: {}", e.line, e.column, e.message)
    };
    ProblemItem {
        pointer: pointer.to_owned(),
        message,
    }
}

fn checked<T>(p: Parsed<T>, pointer: &str) -> Checked<T> {
    if p.errors.is_empty() {
        Ok(p.records)
    } else {
        Err(p.errors.iter().map(|e| text_problem(pointer, e)).collect())
    }
}

/// A venue list given as text (CSV, or JSON when it starts with `[`), named `file`.
pub(crate) fn venues_text(text: &str, file: &str, pointer: &str) -> Checked<VenueRecord> {
    checked(
        files::parse_venues(text, file, SourceKind::EventList),
        pointer,
    )
}

/// Rate cards given as CSV text named `file`.
pub(crate) fn rate_cards_text(text: &str, file: &str, pointer: &str) -> Checked<RateCardRow> {
    checked(
        files::parse_rate_cards_csv(text, file, SourceKind::EventList),
        pointer,
    )
}

/// Quotes given as CSV text named `file`, entered by `by`.
pub(crate) fn quotes_text(text: &str, file: &str, pointer: &str, by: &str) -> Checked<VenueQuote> {
    checked(files::parse_quotes_csv(text, file, by), pointer)
}

/// The problem of element `i` of the JSON array at `pointer`, from a row error of that
/// element alone.
fn element_problem(pointer: &str, i: usize, e: &RowError) -> ProblemItem {
    let column = e.column.trim();
    ProblemItem {
        pointer: if column.is_empty() {
            format!("{pointer}/{i}")
        } else {
            format!("{pointer}/{i}/{column}")
        },
        message: e.message.clone(),
    }
}

/// A venue list given as a JSON array of objects with the CSV's column names (`rooms` as
/// `"Main:300;Side:80"` or `[{"name": "Main", "capacity": 300}]`).
pub(crate) fn venues_json(items: &[Value], pointer: &str) -> Checked<VenueRecord> {
    let mut problems = Vec::new();
    for (i, item) in items.iter().enumerate() {
        if !item.is_object() {
            problems.push(ProblemItem {
                pointer: format!("{pointer}/{i}"),
                message: "a venue is an object such as {\"name\": \"Savoy Theatre\", \"city\": \"Helsinki\", \"country\": \"FI\", \"capacity\": 700, \"day_rate\": 4000, \"currency\": \"EUR\"}".into(),
            });
            continue;
        }
        // Each element alone, so that its problems point at it.
        let one = Value::Array(vec![item.clone()]).to_string();
        let p = files::parse_venues_json(&one, "venues.json", SourceKind::EventList);
        problems.extend(p.errors.iter().map(|e| element_problem(pointer, i, e)));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    // The whole list at once: ids are made unique within it.
    let all = Value::Array(items.to_vec()).to_string();
    checked(
        files::parse_venues_json(&all, "venues.json", SourceKind::EventList),
        pointer,
    )
}

/// A CSV cell for a JSON value: text as is, numbers as written, nothing for null.
fn cell(v: Option<&Value>) -> Result<String, &'static str> {
    match v {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Number(n)) => Ok(n.to_string()),
        Some(Value::Bool(b)) => Ok(b.to_string()),
        Some(Value::Array(_) | Value::Object(_)) => Err("must be text or a number"),
    }
}

/// A JSON array of flat objects as CSV text with the given columns, one row an element, so that
/// JSON and CSV are checked by the same parser. Problems of the shape come back pointed.
fn as_csv(items: &[Value], columns: &[&str], pointer: &str) -> Result<String, Vec<ProblemItem>> {
    let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    let mut out = columns.join(",");
    out.push('\n');
    let mut problems = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let Some(obj) = item.as_object() else {
            problems.push(ProblemItem {
                pointer: format!("{pointer}/{i}"),
                message: format!("must be an object with the fields {}", columns.join(", ")),
            });
            continue;
        };
        for k in obj.keys() {
            if !columns.contains(&k.as_str()) {
                problems.push(ProblemItem {
                    pointer: format!("{pointer}/{i}/{k}"),
                    message: format!("unknown field: use {}", columns.join(", ")),
                });
            }
        }
        let mut row = Vec::with_capacity(columns.len());
        for c in columns {
            match cell(obj.get(*c)) {
                Ok(s) => row.push(quote(&s)),
                Err(m) => problems.push(ProblemItem {
                    pointer: format!("{pointer}/{i}/{c}"),
                    message: m.into(),
                }),
            }
        }
        out.push_str(&row.join(","));
        out.push('\n');
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

/// Row errors of CSV built by [`as_csv`] (line 2 is element 0) pointed at the elements.
fn pointed<T>(p: Parsed<T>, pointer: &str) -> Checked<T> {
    if p.errors.is_empty() {
        return Ok(p.records);
    }
    Err(p
        .errors
        .iter()
        .map(|e| match e.line.checked_sub(2) {
            Some(i) => element_problem(pointer, i as usize, e),
            None => ProblemItem {
                pointer: pointer.to_owned(),
                message: e.message.clone(),
            },
        })
        .collect())
}

/// The rate-card columns, required first.
pub(crate) const RATE_CARD_COLUMNS: &[&str] = &[
    "supplier", "service", "city", "country", "currency", "item", "unit", "price", "min_qty",
    "contact", "notes",
];

/// The quote columns, required first.
pub(crate) const QUOTE_COLUMNS: &[&str] = &[
    "venue",
    "capacity",
    "day_rate",
    "currency",
    "valid_until",
    "rooms",
    "notes",
];

/// Rate cards given as a JSON array of objects with the CSV's column names.
pub(crate) fn rate_cards_json(items: &[Value], pointer: &str) -> Checked<RateCardRow> {
    let text = as_csv(items, RATE_CARD_COLUMNS, pointer)?;
    pointed(
        files::parse_rate_cards_csv(&text, "rate_cards.json", SourceKind::EventList),
        pointer,
    )
}

/// Quotes given as a JSON array of objects with the CSV's column names, entered by `by`.
pub(crate) fn quotes_json(items: &[Value], pointer: &str, by: &str) -> Checked<VenueQuote> {
    let text = as_csv(items, QUOTE_COLUMNS, pointer)?;
    pointed(files::parse_quotes_csv(&text, "quotes.json", by), pointer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_objects_become_csv_rows_with_every_shape_problem_pointed() {
        let items = vec![
            json!({"venue": "Savoy \"Theatre\"", "capacity": 700, "currency": null}),
            json!("Savoy"),
            json!({"venue": "A", "capacity": [1], "size": 3}),
        ];
        let got = as_csv(&items, QUOTE_COLUMNS, "/quotes");
        let pointers: Vec<String> = got
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|p| p.pointer)
            .collect();
        assert_eq!(
            pointers,
            vec!["/quotes/1", "/quotes/2/size", "/quotes/2/capacity"]
        );
        let ok = as_csv(&items[..1], QUOTE_COLUMNS, "/quotes");
        assert_eq!(
            ok.ok().as_deref(),
            Some(
                "venue,capacity,day_rate,currency,valid_until,rooms,notes\n\"Savoy \"\"Theatre\"\"\",\"700\",\"\",\"\",\"\",\"\",\"\"\n"
            )
        );
    }
}
