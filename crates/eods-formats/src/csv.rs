//! Budget as CSV (RFC 4180): one row per cost-model line item, for spreadsheets and finance
//! tools, then the totals the Budget tab shows (from the same [`figures`]). Fields with a comma,
//! quote or line break are quoted; quotes are doubled. A text cell that a spreadsheet would take
//! for a formula (starting with `=`, `+`, `-`, `@`, a tab or a carriage return) is prefixed with
//! `'`, so it is shown as text and never evaluated (OWASP's CSV injection advice); amounts are
//! numbers and are written as they are.

use eods_domain::catalog::budget::{BudgetBaseline, CostModel, figures};
use rust_decimal::Decimal;
use std::collections::BTreeMap;

fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// A text cell: never read as a formula.
fn text(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        field(&format!("'{s}"))
    } else {
        field(s)
    }
}

/// A value's serde name (`EUR`, `catering`).
fn code<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The rows after the cost model's total: the reserve, the unallocated rest and the budget.
fn totals(cost: &CostModel, baseline: Option<&BudgetBaseline>) -> Vec<(&'static str, Decimal)> {
    baseline.map_or_else(Vec::new, |b| {
        let f = figures(b, Some(cost));
        vec![
            ("reserve", f.reserve),
            ("unallocated", f.unallocated),
            ("budget", f.total),
        ]
    })
}

/// The budget by category, for a reader who may not see what each supplier is paid (no
/// contracts permission): per category the allocated and the planned amount, then the cost
/// model's total and, with the baseline, the reserve, the unallocated rest and the budget.
pub fn budget_csv_by_category(cost: &CostModel, baseline: Option<&BudgetBaseline>) -> String {
    let currency = code(&cost.currency);
    let mut out = String::from("category,allocated,planned,currency\r\n");
    let mut by: BTreeMap<String, (Decimal, Decimal)> = BTreeMap::new();
    match baseline {
        Some(b) => {
            for r in figures(b, Some(cost)).rows {
                by.insert(code(&r.category), (r.allocated, r.planned));
            }
        }
        None => {
            for l in &cost.line_items {
                by.entry(code(&l.category)).or_default().1 += l.total;
            }
        }
    }
    for (category, (allocated, planned)) in by {
        out.push_str(&format!(
            "{},{allocated},{planned},{currency}\r\n",
            text(&category)
        ));
    }
    out.push_str(&format!("total,,{},{currency}\r\n", cost.total));
    for (name, value) in totals(cost, baseline) {
        out.push_str(&format!("{name},{value},,{currency}\r\n"));
    }
    out
}

/// The cost model's line items, then a total row and, with the baseline, rows for the reserve,
/// the unallocated rest and the budget.
pub fn budget_csv(cost: &CostModel, baseline: Option<&BudgetBaseline>) -> String {
    let currency = code(&cost.currency);
    let mut out = String::from(
        "id,category,description,qty,unit_cost,total,currency,vendor_option,first_quote\r\n",
    );
    for l in &cost.line_items {
        let row = [
            text(&l.id.to_string()),
            text(&code(&l.category)),
            text(&l.description),
            field(&l.qty.to_string()),
            field(&l.unit_cost.to_string()),
            field(&l.total.to_string()),
            text(&currency),
            text(&l.vendor_option),
            field(&l.first_quote.to_string()),
        ];
        out.push_str(&row.join(","));
        out.push_str("\r\n");
    }
    out.push_str(&format!(",total,,,,{},{currency},,\r\n", cost.total));
    for (name, value) in totals(cost, baseline) {
        out.push_str(&format!(",{name},,,,{value},{currency},,\r\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{field, text};

    #[test]
    fn text_that_looks_like_a_formula_is_kept_as_text() {
        assert_eq!(
            text("=HYPERLINK(\"http://x\")"),
            "\"'=HYPERLINK(\"\"http://x\"\")\""
        );
        assert_eq!(text("+49 30 123"), "'+49 30 123");
        assert_eq!(text("-cmd"), "'-cmd");
        assert_eq!(text("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(text("Catering"), "Catering");
        assert_eq!(field("-5.00"), "-5.00", "amounts stay numbers");
    }

    #[test]
    fn fields_are_quoted_only_when_needed() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a, b"), "\"a, b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("two\nlines"), "\"two\nlines\"");
    }
}
