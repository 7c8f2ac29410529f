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

/// Redacts `payload` of type `t` in place and returns the pointers of what was withheld.
pub(crate) fn redact(t: ArtifactType, payload: &mut Value) -> Vec<String> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
