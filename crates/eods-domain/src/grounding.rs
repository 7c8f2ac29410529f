//! Whether a text's figures come from the artifacts it is about (issue 16): every number written
//! in an approver's summary must appear in the artifacts the approval covers, so a summary —
//! a model's or the engine's own — cannot state a total, a capacity or a count that the plan
//! does not hold.
//!
//! A number is a run of digits, with `,` thousands separators (a comma followed by exactly three
//! digits) and a decimal part (`.` followed by digits); its value is compared, so `398`,
//! `398.00` and `"398.00"` are the same number. In the artifacts, JSON numbers count, and so do
//! the numbers written inside their strings (a date `2029-03-08` holds 2029, 3 and 8). Signs are
//! ignored on both sides.

use rust_decimal::Decimal;
use serde_json::Value;
use std::collections::BTreeSet;
use std::str::FromStr;

/// The numbers written in `text`: each as written and its value.
pub fn numbers_in_text(text: &str) -> Vec<(String, Decimal)> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        let mut digits = String::new();
        while i < chars.len() {
            let c = chars[i];
            if c.is_ascii_digit() {
                digits.push(c);
                i += 1;
            } else if c == ','
                && chars
                    .get(i + 1..i + 4)
                    .is_some_and(|d| d.iter().all(char::is_ascii_digit))
                && !chars.get(i + 4).is_some_and(char::is_ascii_digit)
            {
                i += 1;
            } else {
                break;
            }
        }
        if chars.get(i) == Some(&'.') && chars.get(i + 1).is_some_and(char::is_ascii_digit) {
            digits.push('.');
            i += 1;
            while i < chars.len() && chars[i].is_ascii_digit() {
                digits.push(chars[i]);
                i += 1;
            }
        }
        if let Ok(d) = Decimal::from_str(&digits) {
            out.push((chars[start..i].iter().collect(), d.normalize()));
        }
    }
    out
}

/// Every number in `v`: its JSON numbers and the numbers written in its strings.
pub fn numbers_in_value(v: &Value, into: &mut BTreeSet<Decimal>) {
    match v {
        Value::Number(n) => {
            if let Ok(d) = Decimal::from_str(&n.to_string())
                .or_else(|_| Decimal::from_scientific(&n.to_string()))
            {
                into.insert(d.abs().normalize());
            }
        }
        Value::String(s) => into.extend(numbers_in_text(s).into_iter().map(|(_, d)| d)),
        Value::Array(a) => a.iter().for_each(|x| numbers_in_value(x, into)),
        Value::Object(o) => o.values().for_each(|x| numbers_in_value(x, into)),
        Value::Bool(_) | Value::Null => {}
    }
}

/// The numbers of `text` (as written) that none of `sources` holds.
pub fn ungrounded_numbers(text: &str, sources: &[&Value]) -> Vec<String> {
    let mut known = BTreeSet::new();
    for s in sources {
        numbers_in_value(s, &mut known);
    }
    numbers_in_text(text)
        .into_iter()
        .filter(|(_, d)| !known.contains(d))
        .map(|(w, _)| w)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_are_read_as_written_and_compared_by_value() {
        let found: Vec<String> = numbers_in_text("Budget: 1,234.50 EUR in 3, 4 or 12 items; 398.")
            .into_iter()
            .map(|(w, d)| format!("{w}={d}"))
            .collect();
        assert_eq!(found, ["1,234.50=1234.5", "3=3", "4=4", "12=12", "398=398"]);
        let artifact = json!({"total": "398.00", "items": 12, "day": "2029-03-08", "rate": 1234.5});
        assert!(
            ungrounded_numbers(
                "398 EUR, 12 items, 1,234.50 a day, on 8 March 2029",
                &[&artifact]
            )
            .is_empty()
        );
        assert_eq!(
            ungrounded_numbers("a total of 399 EUR for 12 items", &[&artifact]),
            ["399"]
        );
    }
}
