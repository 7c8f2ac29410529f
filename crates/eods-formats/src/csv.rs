//! Budget as CSV (RFC 4180): one row per cost-model line item, for spreadsheets and finance
//! tools, then the totals the Budget tab shows (from the same [`figures`]). Fields with a comma,
//! quote or line break are quoted; quotes are doubled.

use eods_domain::catalog::budget::{BudgetBaseline, CostModel, figures};

fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// The cost model's line items, then a total row and, with the baseline, rows for the reserve,
/// the unallocated rest and the budget.
pub fn budget_csv(cost: &CostModel, baseline: Option<&BudgetBaseline>) -> String {
    let currency = serde_json::to_value(&cost.currency)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let mut out = String::from(
        "id,category,description,qty,unit_cost,total,currency,vendor_option,first_quote\r\n",
    );
    for l in &cost.line_items {
        let category = serde_json::to_value(l.category)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let row = [
            l.id.to_string(),
            category,
            l.description.clone(),
            l.qty.to_string(),
            l.unit_cost.to_string(),
            l.total.to_string(),
            currency.clone(),
            l.vendor_option.clone(),
            l.first_quote.to_string(),
        ];
        out.push_str(&row.iter().map(|f| field(f)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out.push_str(&format!(",total,,,,{},{currency},,\r\n", cost.total));
    if let Some(b) = baseline {
        let f = figures(b, Some(cost));
        for (name, value) in [
            ("reserve", f.reserve),
            ("unallocated", f.unallocated),
            ("budget", f.total),
        ] {
            out.push_str(&format!(",{name},,,,{value},{currency},,\r\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::field;

    #[test]
    fn fields_are_quoted_only_when_needed() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a, b"), "\"a, b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("two\nlines"), "\"two\nlines\"");
    }
}
