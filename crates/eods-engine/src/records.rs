//! Building DecisionLog and ChangeLog entries for one commit, numbering them after what is
//! stored, and the small semantic diffs the ChangeLog carries.

use chrono::{DateTime, Utc};
use eods_domain::artifact::{ArtifactRef, Envelope};
use eods_domain::blackboard::{Blackboard, Current};
use eods_domain::catalog::audit::{
    Alternative, ChangeEntry, ChangeImpact, ChangeType, DecisionEntry, DecisionType,
};
use eods_domain::catalog::budget::{ApprovalRecord, BudgetDecision, CostModel};
use eods_domain::catalog::logistics::{Schedule, VendorContracts};
use eods_domain::catalog::venue::{VenueScorecard, VenueShortlist};
use eods_domain::ids::{ChangeId, DecisionId};
use eods_domain::instruction::InstructionSetRef;
use eods_domain::lifecycle::ApprovalGate;
use rust_decimal::Decimal;

/// Log entries for one commit.
pub(crate) struct Records {
    decision_base: u64,
    change_base: u64,
    correlation: String,
    at: DateTime<Utc>,
    pub decisions: Vec<DecisionEntry>,
    pub changes: Vec<ChangeEntry>,
}

impl Records {
    pub fn new(
        decision_count: u64,
        change_count: u64,
        correlation: &str,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            decision_base: decision_count,
            change_base: change_count,
            correlation: correlation.to_owned(),
            at,
            decisions: vec![],
            changes: vec![],
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub fn decision(
        &mut self,
        t: DecisionType,
        description: &str,
        owner: &str,
        rationale: &str,
        alternatives: Vec<Alternative>,
        instruction_set: Option<InstructionSetRef>,
        approvals: Vec<ApprovalRecord>,
    ) {
        let n = self.decision_base as usize + self.decisions.len() + 1;
        self.decisions.push(DecisionEntry {
            id: DecisionId::nth(n),
            decision_type: t,
            description: description.into(),
            at: self.at,
            owner: owner.into(),
            rationale: rationale.into(),
            alternatives,
            instruction_set,
            approvals,
            correlation_id: self.correlation.clone(),
        });
    }

    pub fn change(
        &mut self,
        t: ChangeType,
        description: &str,
        artifacts: Vec<ArtifactRef>,
        actor: &str,
        cost_delta: Option<Decimal>,
    ) -> ChangeEntry {
        let n = self.change_base as usize + self.changes.len() + 1;
        let e = ChangeEntry {
            id: ChangeId::nth(n),
            change_type: t,
            description: description.into(),
            at: self.at,
            impact: ChangeImpact {
                summary: description.into(),
                cost_delta,
            },
            artifacts,
            approvals: vec![],
            actor: actor.into(),
            correlation_id: self.correlation.clone(),
        };
        self.changes.push(e.clone());
        e
    }
}

/// A one-line semantic diff between the current revision and a new one, with its cost delta.
pub(crate) fn diff(old: Option<&Current>, new: &Envelope) -> (String, Option<Decimal>) {
    let Some(old) = old else {
        return ("created".into(), None);
    };
    let before = old.payload.to_value();
    let after = &new.payload;
    let total = |v: &serde_json::Value, k: &str| {
        v.get(k)
            .and_then(|x| x.as_str())
            .and_then(|s| s.parse::<Decimal>().ok())
    };
    match new.artifact_type {
        eods_domain::artifact::ArtifactType::CostModel => {
            let (a, b) = (total(&before, "total"), total(after, "total"));
            let delta = a.zip(b).map(|(a, b)| b - a);
            (
                format!(
                    "total {} → {}",
                    a.unwrap_or_default(),
                    b.unwrap_or_default()
                ),
                delta,
            )
        }
        eods_domain::artifact::ArtifactType::BudgetDecision => {
            let (a, b) = (
                total(&before, "approved_total"),
                total(after, "approved_total"),
            );
            (
                format!(
                    "approved total {} → {}",
                    a.unwrap_or_default(),
                    b.unwrap_or_default()
                ),
                a.zip(b).map(|(a, b)| b - a),
            )
        }
        eods_domain::artifact::ArtifactType::VendorContracts => {
            let sum = |v: &serde_json::Value| -> Decimal {
                v.get("vendors")
                    .and_then(|x| x.as_array())
                    .map(|vs| {
                        vs.iter()
                            .filter_map(|c| {
                                c.pointer("/terms/total_cost/amount")?
                                    .as_str()?
                                    .parse::<Decimal>()
                                    .ok()
                            })
                            .sum()
                    })
                    .unwrap_or_default()
            };
            let (a, b) = (sum(&before), sum(after));
            (format!("contracted total {a} → {b}"), Some(b - a))
        }
        eods_domain::artifact::ArtifactType::Schedule => {
            let summary = serde_json::from_value::<Schedule>(after.clone())
                .ok()
                .zip(serde_json::from_value::<Schedule>(before.clone()).ok())
                .map(|(s, o)| schedule_diff(&o, &s))
                .unwrap_or_else(|| "schedule changed".into());
            (summary, None)
        }
        eods_domain::artifact::ArtifactType::VenueScorecard => {
            let pick = |v: &serde_json::Value| {
                v.get("selected_candidate_id")
                    .and_then(|x| x.as_str())
                    .unwrap_or("")
                    .to_owned()
            };
            (
                format!("selected venue {} → {}", pick(&before), pick(after)),
                None,
            )
        }
        _ => {
            let keys: Vec<String> = after
                .as_object()
                .map(|m| {
                    m.iter()
                        .filter(|(k, v)| before.get(k.as_str()) != Some(v))
                        .map(|(k, _)| k.clone())
                        .collect()
                })
                .unwrap_or_default();
            (
                if keys.is_empty() {
                    "inputs changed, content unchanged".into()
                } else {
                    format!("changed {}", keys.join(", "))
                },
                None,
            )
        }
    }
}

/// What an approver is asked to approve, in one paragraph.
pub(crate) fn approval_summary(gate: ApprovalGate, bb: &Blackboard) -> String {
    match gate {
        ApprovalGate::VenueSelection => {
            let sc = bb.get::<VenueScorecard>();
            let sl = bb.get::<VenueShortlist>();
            match (sc, sl) {
                (Some(sc), Some(sl)) => {
                    let c = sl
                        .candidates
                        .iter()
                        .find(|c| c.id == sc.selected_candidate_id);
                    format!(
                        "Venue: {} — {}",
                        c.map_or("?".into(), |c| format!(
                            "{} (capacity {}, {})",
                            c.name, c.capacity, c.cost_estimate
                        )),
                        sc.selection_rationale
                    )
                }
                _ => "Venue selection".into(),
            }
        }
        ApprovalGate::BudgetDecision => match (bb.get::<BudgetDecision>(), bb.get::<CostModel>()) {
            (Some(d), Some(c)) => {
                let brief = bb
                    .get::<eods_domain::catalog::brief::EventBrief>()
                    .map(|b| {
                        format!(
                            ", against a {} budget of {} {}",
                            serde_json::to_value(b.budget.flexibility)
                                .ok()
                                .and_then(|v| v.as_str().map(str::to_owned))
                                .unwrap_or_default(),
                            b.budget.total,
                            b.budget.currency
                        )
                    })
                    .unwrap_or_default();
                let cap = d.cap.map_or(String::new(), |cap| {
                    format!(
                        "; approver cap {cap} {}{}",
                        d.currency,
                        if d.approved_total > cap {
                            " (no plan fits it: this is the cheapest)"
                        } else {
                            ""
                        }
                    )
                });
                format!(
                    "Budget: {} {} in {} line items{brief}{cap}",
                    d.approved_total,
                    d.currency,
                    c.line_items.len()
                )
            }
            _ => "Budget decision".into(),
        },
        ApprovalGate::VendorContracts => match bb.get::<VendorContracts>() {
            Some(v) => {
                let names: Vec<String> = v
                    .vendors
                    .iter()
                    // No amounts: this summary reaches webhooks, e-mail and the progress stream,
                    // whose readers may lack the contracts permission (the approval page shows
                    // the totals to those who have it).
                    .map(|x| format!("{} ({})", x.name, x.service))
                    .collect();
                format!("Vendor contracts: {}", names.join("; "))
            }
            None => "Vendor contracts".into(),
        },
    }
}

/// Who an overdue approval escalates to: stakeholders who stand in for someone, then the
/// communications plan's escalation path, as `name <contact>`, without repeats.
pub(crate) fn escalation_contacts(bb: &Blackboard) -> Vec<String> {
    escalation_stakeholders(bb)
        .iter()
        .map(|s| format!("{} <{}>", s.name, s.contact))
        .collect()
}

/// The event's owners (the stakeholders with the owner role).
pub(crate) fn owners(bb: &Blackboard) -> Vec<&eods_domain::catalog::planning::Stakeholder> {
    use eods_domain::catalog::brief::StakeholderRole;
    use eods_domain::catalog::planning::StakeholderMap;
    bb.get::<StakeholderMap>()
        .map(|m| {
            m.stakeholders
                .iter()
                .filter(|s| s.role == StakeholderRole::Owner)
                .collect()
        })
        .unwrap_or_default()
}

/// The stakeholders escalations go to: those who stand in for others, then the communications
/// plan's escalation path, each once.
pub(crate) fn escalation_stakeholders(
    bb: &Blackboard,
) -> Vec<&eods_domain::catalog::planning::Stakeholder> {
    use eods_domain::catalog::planning::{CommunicationsPlan, StakeholderMap};
    let Some(map) = bb.get::<StakeholderMap>() else {
        return vec![];
    };
    let mut ids: Vec<&eods_domain::ids::StakeholderId> = map
        .stakeholders
        .iter()
        .filter(|s| !s.backup_for.is_empty())
        .map(|s| &s.id)
        .collect();
    if let Some(c) = bb.get::<CommunicationsPlan>() {
        ids.extend(c.escalation_path.iter());
    }
    let mut out: Vec<&eods_domain::catalog::planning::Stakeholder> = Vec::new();
    for id in ids {
        if let Some(s) = map.stakeholders.iter().find(|s| &s.id == id)
            && !out.iter().any(|o| o.id == s.id)
        {
            out.push(s);
        }
    }
    out
}

/// The stakeholders with the right to decide `gate`.
pub(crate) fn gate_approvers(
    bb: &Blackboard,
    gate: eods_domain::lifecycle::ApprovalGate,
) -> Vec<&eods_domain::catalog::planning::Stakeholder> {
    use eods_domain::catalog::planning::{DecisionRight, StakeholderMap};
    use eods_domain::lifecycle::ApprovalGate;
    let right = match gate {
        ApprovalGate::VenueSelection => DecisionRight::VenueSelection,
        ApprovalGate::BudgetDecision => DecisionRight::BudgetDecision,
        ApprovalGate::VendorContracts => DecisionRight::VendorContracts,
    };
    bb.get::<StakeholderMap>()
        .map(|m| {
            m.stakeholders
                .iter()
                .filter(|s| s.decision_rights.contains(&right))
                .collect()
        })
        .unwrap_or_default()
}

/// The e-mail recipients of a notification, for its payload's `recipients`: each stakeholder
/// whose contact is an e-mail address, once (a phone number or a name is left out: only the
/// webhook reaches them).
pub(crate) fn recipients<'a>(
    people: impl IntoIterator<Item = &'a eods_domain::catalog::planning::Stakeholder>,
) -> serde_json::Value {
    let mut out: Vec<serde_json::Value> = Vec::new();
    for s in people {
        let email = s.contact.trim();
        let address = email
            .split_once('@')
            .is_some_and(|(l, d)| !l.is_empty() && d.contains('.'))
            && !email.contains(char::is_whitespace);
        if address && !out.iter().any(|o| o["email"] == email) {
            out.push(serde_json::json!({"name": s.name, "email": email}));
        }
    }
    serde_json::Value::Array(out)
}

/// Sessions moved (time or room, a room counting as moved when its name changes), retitled or
/// given other speakers.
fn schedule_diff(old: &Schedule, new: &Schedule) -> String {
    let room_name = |s: &Schedule, id: &eods_domain::ids::RoomId| {
        s.rooms.iter().find(|r| &r.id == id).map(|r| r.name.clone())
    };
    let mut moved = 0;
    let mut changed = 0;
    for x in &new.sessions {
        match old.sessions.iter().find(|y| y.id == x.id) {
            None => moved += 1,
            Some(y) => {
                if y.start != x.start
                    || y.room != x.room
                    || room_name(old, &y.room) != room_name(new, &x.room)
                {
                    moved += 1;
                }
                if y.title != x.title || y.speakers != x.speakers {
                    changed += 1;
                }
            }
        }
    }
    format!("{moved} session(s) moved, {changed} retitled or re-staffed")
}
