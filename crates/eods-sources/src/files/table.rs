//! Organiser files as rows of named cells: a CSV file with a header (columns in any order,
//! case and spaces aside), or a JSON array of objects with the same names. Each row keeps the
//! line it starts on. Problems of the file's shape (a missing required column, a row with more
//! cells than the header, text that is not JSON) become [`RowError`]s here; what a cell means is
//! read by the callers. No I/O.

use super::RowError;
use serde_json::Value;

/// One row: its first line and its cells by normalised column name.
#[derive(Debug, Clone, Default)]
pub struct Row {
    pub line: u64,
    /// `(column, trimmed value)` in the file's order.
    cells: Vec<(String, String)>,
    /// A JSON row's `rooms` when written as an array of objects.
    pub room_objects: Option<Vec<Value>>,
}

impl Row {
    /// The trimmed cell of `column`, `""` when absent.
    pub fn get(&self, column: &str) -> &str {
        self.cells
            .iter()
            .find(|(c, _)| c == column)
            .map_or("", |(_, v)| v.as_str())
    }

    /// The non-empty cells of columns not in `known`, as `column: value`.
    pub fn extras(&self, known: &[&str]) -> Vec<String> {
        self.cells
            .iter()
            .filter(|(c, v)| !v.is_empty() && !known.contains(&c.as_str()))
            .map(|(c, v)| format!("{c}: {v}"))
            .collect()
    }
}

/// A header name as matched: trimmed, lower case, spaces and dashes as `_`.
pub fn column_name(s: &str) -> String {
    s.trim()
        .chars()
        .flat_map(char::to_lowercase)
        .map(|c| if c == ' ' || c == '-' { '_' } else { c })
        .collect()
}

/// Rows of a CSV text. A missing required column or a column named twice is an error for the
/// header line, and then no row is returned.
pub fn read_csv(text: &str, file: &str, required: &[&str]) -> (Vec<Row>, Vec<RowError>) {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut header: Option<(u64, Vec<String>)> = None;
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for (n, record) in reader.records().enumerate() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e
                    .position()
                    .map_or(n as u64 + 1, |p| line_at(text, p.byte()));
                errors.push(RowError::new(
                    file,
                    line,
                    "",
                    format!("cannot read this row ({e}): save the file as CSV in UTF-8"),
                ));
                continue;
            }
        };
        let line = record
            .position()
            .map_or(n as u64 + 1, |p| line_at(text, p.byte()));
        if record.iter().all(str::is_empty) {
            continue;
        }
        let Some((_, columns)) = &header else {
            let columns: Vec<String> = record
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let c = column_name(c);
                    if c.is_empty() {
                        format!("column_{}", i + 1)
                    } else {
                        c
                    }
                })
                .collect();
            let mut fatal = false;
            for (i, c) in columns.iter().enumerate() {
                if columns[..i].contains(c) {
                    fatal = true;
                    errors.push(RowError::new(
                        file,
                        line,
                        c,
                        format!("the header names column {c} twice: keep one"),
                    ));
                }
            }
            for r in required {
                if !columns.iter().any(|c| c == r) {
                    fatal = true;
                    errors.push(RowError::new(
                        file,
                        line,
                        r,
                        format!(
                            "the header has no column {r}: the first line must name the columns {} (any order; a cell may be empty where allowed)",
                            required.join(",")
                        ),
                    ));
                }
            }
            if fatal {
                return (Vec::new(), errors);
            }
            header = Some((line, columns));
            continue;
        };
        if record.len() > columns.len() {
            errors.push(RowError::new(
                file,
                line,
                "",
                format!(
                    "the row has {} cells but the header has {} columns: put a value that contains a comma in double quotes, and write numbers without thousands separators (1200, not 1,200)",
                    record.len(),
                    columns.len()
                ),
            ));
            continue;
        }
        rows.push(Row {
            line,
            cells: columns
                .iter()
                .cloned()
                .zip(record.iter().map(str::to_owned))
                .collect(),
            room_objects: None,
        });
    }
    if header.is_none() && errors.is_empty() {
        errors.push(RowError::new(
            file,
            1,
            "",
            format!(
                "the file is empty: the first line must name the columns {}",
                required.join(",")
            ),
        ));
    }
    (rows, errors)
}

/// The 1-based line a record starts on, from the byte offset the csv reader gives: that offset
/// may point at the line ends before the record (after `\r\n` and blank lines), so they are
/// skipped first.
fn line_at(text: &str, offset: u64) -> u64 {
    let bytes = text.as_bytes();
    let mut at = usize::try_from(offset).map_or(bytes.len(), |o| o.min(bytes.len()));
    while at < bytes.len() && matches!(bytes[at], b'\r' | b'\n') {
        at += 1;
    }
    1 + bytes[..at].iter().filter(|b| **b == b'\n').count() as u64
}

/// The 1-based line on which each element of the top-level JSON array starts.
fn element_lines(text: &str) -> Vec<u64> {
    let mut lines = Vec::new();
    let (mut line, mut depth) = (1u64, 0usize);
    let (mut in_string, mut escaped, mut expect) = (false, false, false);
    for c in text.chars() {
        if c == '\n' {
            line += 1;
        }
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        if c.is_whitespace() {
            continue;
        }
        if expect && depth == 1 && c != ']' {
            lines.push(line);
        }
        expect = false;
        match c {
            '"' => in_string = true,
            '[' | '{' => {
                depth += 1;
                expect = depth == 1;
            }
            ']' | '}' => depth = depth.saturating_sub(1),
            ',' => expect = depth == 1,
            _ => {}
        }
    }
    lines
}

/// Rows of a JSON array of objects. Cells are strings, numbers (written as text), booleans,
/// or arrays of them (joined with `;`); `rooms` may also be an array of objects.
pub fn read_json(text: &str, file: &str) -> (Vec<Row>, Vec<RowError>) {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let value: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            return (
                Vec::new(),
                vec![RowError::new(
                    file,
                    e.line() as u64,
                    "",
                    format!(
                        "the file is not valid JSON ({e}): write an array of objects, such as [{{\"name\": \"Main Hall\", \"city\": \"Nairobi\"}}]"
                    ),
                )],
            );
        }
    };
    let Value::Array(items) = value else {
        return (
            Vec::new(),
            vec![RowError::new(
                file,
                1,
                "",
                "the file must be a JSON array of objects, such as [{\"name\": \"Main Hall\", \"city\": \"Nairobi\"}]".into(),
            )],
        );
    };
    let lines = element_lines(text);
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        let line = lines.get(i).copied().unwrap_or(1);
        let Value::Object(fields) = item else {
            errors.push(RowError::new(
                file,
                line,
                "",
                format!(
                    "element {} is not an object: write {{\"name\": …, \"city\": …}}",
                    i + 1
                ),
            ));
            continue;
        };
        let mut row = Row {
            line,
            ..Row::default()
        };
        let mut bad = false;
        for (key, v) in fields {
            let column = column_name(&key);
            if row.cells.iter().any(|(c, _)| *c == column) {
                bad = true;
                errors.push(RowError::new(
                    file,
                    line,
                    &column,
                    format!("the object names {column} twice: keep one"),
                ));
                continue;
            }
            if column == "rooms"
                && let Value::Array(a) = &v
                && a.iter().any(Value::is_object)
            {
                row.room_objects = Some(a.clone());
                row.cells.push((column, String::new()));
                continue;
            }
            match cell(&v) {
                Some(text) => row.cells.push((column, text)),
                None => {
                    bad = true;
                    errors.push(RowError::new(
                        file,
                        line,
                        &column,
                        format!(
                            "{column} is {}: write a text, a number or a list of them",
                            kind(&v)
                        ),
                    ));
                }
            }
        }
        if !bad {
            rows.push(row);
        }
    }
    (rows, errors)
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Object(_) => "an object",
        Value::Array(_) => "a list of objects or lists",
        _ => "not a text",
    }
}

fn cell(v: &Value) -> Option<String> {
    match v {
        Value::Null => Some(String::new()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(s.trim().to_owned()),
        Value::Array(a) => a
            .iter()
            .map(|x| match x {
                Value::Array(_) | Value::Object(_) => None,
                x => cell(x),
            })
            .collect::<Option<Vec<String>>>()
            .map(|v| v.join(";")),
        Value::Object(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_elements_know_their_lines() {
        let text = "[\n  {\"a\": \"x,{]\"},\n\n  {\"b\": [1, {\"c\": 2}]}, 3\n]";
        assert_eq!(element_lines(text), vec![2, 4, 4]);
        assert_eq!(element_lines("[]"), Vec::<u64>::new());
    }

    #[test]
    fn headers_are_matched_loosely() {
        assert_eq!(column_name(" Day Rate "), "day_rate");
        assert_eq!(column_name("Unavailable-Dates"), "unavailable_dates");
    }
}
