//! Withholding commercially sensitive fields (DESIGN §9) from tokens without the contracts
//! permission: vendor contract terms, SLAs and cancellation policies, and venue negotiation
//! terms, target prices and concessions. The rest of the artifact stays readable.

use eods_domain::artifact::ArtifactType;
use serde_json::Value;

const MARK: &str = "[redacted: needs the contracts permission]";

/// Whether artifacts of type `t` hold fields only the contracts permission may read; a token
/// without it may not write them either (it would overwrite terms it cannot see).
pub(crate) fn sensitive(t: ArtifactType) -> bool {
    matches!(
        t,
        ArtifactType::VendorContracts | ArtifactType::VenueNegotiationNotes
    )
}

/// Withholds what a ChangeLog entry (as JSON) says about contract terms from a reader without the
/// contracts permission: an entry touching vendor contracts or negotiation notes keeps its type,
/// actor, time and references, but not its description, impact summary or cost delta. Returns
/// whether it withheld anything.
pub(crate) fn change_entry(v: &mut Value) -> bool {
    const SENSITIVE: [&str; 2] = ["vendor_contracts", "venue_negotiation_notes"];
    let refs: Vec<String> = v["artifacts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["type"].as_str())
        .map(str::to_owned)
        .collect();
    // Touching a contract, or caused by one (a budget re-opened by a contract edit).
    let mentioned = v["description"]
        .as_str()
        .is_some_and(|d| SENSITIVE.iter().any(|s| d.contains(s)));
    let touched: Vec<String> = if mentioned {
        refs
    } else {
        refs.into_iter()
            .filter(|t| SENSITIVE.contains(&t.as_str()))
            .collect()
    };
    if touched.is_empty() && !mentioned {
        return false;
    }
    let touched = if touched.is_empty() {
        vec!["the plan".to_owned()]
    } else {
        touched
    };
    v["description"] = Value::String(format!("{} changed {MARK}", touched.join(" and ")));
    if let Some(impact) = v.get_mut("impact").filter(|i| i.is_object()) {
        impact["summary"] = Value::String(MARK.into());
        impact["cost_delta"] = Value::Null;
    }
    true
}

/// Withholds a log entry's words about contract terms from a reader without the contracts
/// permission: [`change_entry`] for the ChangeLog, [`decision_entry`] for the DecisionLog.
pub(crate) fn log_entry(log: eods_store::AuditLog, v: &mut Value) -> bool {
    match log {
        eods_store::AuditLog::Changes => change_entry(v),
        eods_store::AuditLog::Decisions => decision_entry(v),
    }
}

/// What stands in for an amount in a text a reader without the contracts permission reads.
const AMOUNT: &str = "[amount withheld]";

/// Withholds the amounts a DecisionLog entry (as JSON) states in words (description, rationale,
/// the alternatives' options, pros and cons): a decision names suppliers and venues with their
/// prices, which the budget by category does not reveal. Who, when, the decision type and the
/// scores stay. Returns whether it withheld anything.
pub(crate) fn decision_entry(v: &mut Value) -> bool {
    let mut changed = false;
    let mut mask = |x: &mut Value| {
        if let Some(t) = x.as_str()
            && let Some(m) = mask_amounts(t)
        {
            *x = Value::String(m);
            changed = true;
        }
    };
    for f in ["description", "rationale"] {
        if let Some(x) = v.get_mut(f) {
            mask(x);
        }
    }
    if let Some(alts) = v.get_mut("alternatives").and_then(Value::as_array_mut) {
        for a in alts {
            if let Some(x) = a.get_mut("option") {
                mask(x);
            }
            for list in ["pros", "cons"] {
                for x in a
                    .get_mut(list)
                    .and_then(Value::as_array_mut)
                    .into_iter()
                    .flatten()
                {
                    mask(x);
                }
            }
        }
    }
    changed
}

/// `text` with every amount (a number with two decimals, thousands separated by `,` or not,
/// such as `90.00`, `1,250.50` or `35530.38`) replaced by [`AMOUNT`]; `None` when it has none.
/// Scores (`0.941`) and counts (`25`) stay.
fn mask_amounts(text: &str) -> Option<String> {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let (mut i, mut last, mut found) = (0, 0, false);
    while i < b.len() {
        let starts = b[i].is_ascii_digit()
            && (i == 0 || !(b[i - 1].is_ascii_digit() || b[i - 1] == b'.' || b[i - 1] == b','));
        if !starts {
            i += 1;
            continue;
        }
        // Digits and thousands separators, then `.` and exactly two digits.
        let mut j = i;
        while j < b.len()
            && (b[j].is_ascii_digit()
                || (b[j] == b',' && j + 1 < b.len() && b[j + 1].is_ascii_digit()))
        {
            j += 1;
        }
        let two = b.get(j) == Some(&b'.')
            && b.get(j + 1).is_some_and(u8::is_ascii_digit)
            && b.get(j + 2).is_some_and(u8::is_ascii_digit)
            && !b.get(j + 3).is_some_and(u8::is_ascii_digit);
        if two {
            out.push_str(&text[last..i]);
            out.push_str(AMOUNT);
            last = j + 3;
            found = true;
            i = j + 3;
        } else {
            i = j.max(i + 1);
        }
    }
    found.then(|| {
        out.push_str(&text[last..]);
        out
    })
}

/// Redacts `payload` of type `t` in place and returns the pointers of what was withheld.
pub(crate) fn redact(t: ArtifactType, payload: &mut Value) -> Vec<String> {
    if t == ArtifactType::CostModel {
        return cost_model(payload);
    }
    let (list, fields): (&str, &[&str]) = match t {
        ArtifactType::VendorContracts => ("vendors", &["terms", "slas", "cancellation_policy"]),
        ArtifactType::VenueNegotiationNotes => {
            ("entries", &["terms", "target_price", "concessions"])
        }
        _ => return vec![],
    };
    let mut out = Vec::new();
    if let Some(items) = payload.get_mut(list).and_then(Value::as_array_mut) {
        for (i, item) in items.iter_mut().enumerate() {
            for f in fields {
                if let Some(v) = item.get_mut(*f) {
                    *v = Value::String(MARK.into());
                    out.push(format!("/payload/{list}/{i}/{f}"));
                }
            }
        }
    }
    out
}

/// The cost model without what each supplier line (every line but the reserve) costs: they keep their
/// category, description, quantity and supplier; their unit cost, total and first quote, and
/// the quoted and converted prices of converted lines, are withheld. The model's total stays, and
/// the budget by category (the baseline, the Budget tab, the by-category `budget.csv`) shows
/// where the money goes.
fn cost_model(payload: &mut Value) -> Vec<String> {
    let mut out = Vec::new();
    for (list, fields) in [
        ("line_items", &["unit_cost", "total", "first_quote"][..]),
        (
            "conversions",
            &["quoted_unit_cost", "converted_unit_cost"][..],
        ),
    ] {
        for (i, item) in payload
            .get_mut(list)
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
            .enumerate()
        {
            // The reserve is no supplier's price.
            if item["category"] == "contingency" {
                continue;
            }
            for f in fields {
                if let Some(v) = item.get_mut(*f) {
                    *v = Value::String(MARK.into());
                    out.push(format!("/payload/{list}/{i}/{f}"));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_in_words_are_withheld_and_scores_and_counts_stay() {
        assert_eq!(
            mask_amounts("holds 25 for 20 people at 90.00 EUR within 1,192.50 EUR (0.941)")
                .as_deref(),
            Some(
                "holds 25 for 20 people at [amount withheld] EUR within [amount withheld] EUR (0.941)"
            )
        );
        assert_eq!(mask_amounts("score 0.875, 3 shortlisted"), None);
        assert_eq!(mask_amounts("35530.38"), Some("[amount withheld]".into()));
        assert_eq!(mask_amounts("v1.2.345 and 12.5"), None);
        let mut e = serde_json::json!({"description": "selected X (0.941)", "rationale": "at 90.00 EUR",
            "alternatives": [{"option": "Y", "pros": ["cost 160.00 EUR", "capacity 35"], "cons": []}]});
        assert!(decision_entry(&mut e));
        assert!(
            !e.to_string().contains("90.00") && !e.to_string().contains("160.00"),
            "{e}"
        );
        assert_eq!(e["alternatives"][0]["pros"][1], "capacity 35");
    }

    #[test]
    fn a_change_to_contracts_keeps_who_and_when_but_not_the_amounts() {
        let mut v = serde_json::json!({
            "type": "revised", "actor": "user:paula", "at": "2027-01-01T09:00:00Z",
            "description": "vendor_contracts revised: contracted total 33012.68 → 35512.68",
            "impact": {"summary": "+2500.00", "cost_delta": "2500.00"},
            "artifacts": [{"type": "vendor_contracts", "revision": 2}]
        });
        assert!(change_entry(&mut v));
        let text = v.to_string();
        assert!(
            !text.contains("33012.68") && !text.contains("2500"),
            "{text}"
        );
        assert_eq!(v["actor"], "user:paula");
        let mut other = serde_json::json!({"description": "timeline revised", "impact": {"summary": "x", "cost_delta": null},
            "artifacts": [{"type": "timeline", "revision": 2}]});
        assert!(!change_entry(&mut other));
        assert_eq!(other["description"], "timeline revised");
        let mut reopened = serde_json::json!({"description": "budget_decision revision 2 re-opened for approval: the vendor_contracts edit changes planned cost by 2500.00 (threshold 1000)",
            "impact": {"summary": "x 2500.00", "cost_delta": "2500.00"}, "artifacts": [{"type": "budget_decision", "revision": 2}]});
        assert!(change_entry(&mut reopened));
        assert!(!reopened.to_string().contains("2500"), "{reopened}");
    }

    #[test]
    fn contract_terms_are_withheld_and_named() {
        let mut v = serde_json::json!({"vendors": [{"name": "A", "terms": {"total_cost": 1}, "slas": ["x"], "cancellation_policy": "p"}], "excluded_suppliers": []});
        let r = redact(ArtifactType::VendorContracts, &mut v);
        assert_eq!(
            r,
            vec![
                "/payload/vendors/0/terms",
                "/payload/vendors/0/slas",
                "/payload/vendors/0/cancellation_policy"
            ]
        );
        assert_eq!(v["vendors"][0]["name"], "A");
        assert_eq!(v["vendors"][0]["terms"], MARK);
        let mut t = serde_json::json!({"milestones": []});
        assert!(redact(ArtifactType::Timeline, &mut t).is_empty());
    }
}
