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
