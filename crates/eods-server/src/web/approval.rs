//! What an approver is asked to commit, as the inbox, the confirmation page and the event page
//! show it: the engine's one-paragraph summary and the cost impact against the budget. Contract
//! amounts are commercially sensitive: without the contracts permission the vendor summary names
//! the vendors and services only.

use crate::charts::amount;
use eods_domain::blackboard::Blackboard;
use eods_domain::catalog::brief::EventBrief;
use eods_domain::catalog::budget::{BudgetBaseline, BudgetCategory, BudgetDecision, CostModel};
use eods_domain::catalog::logistics::VendorContracts;
use eods_domain::catalog::venue::{VenueScorecard, VenueShortlist};
use eods_domain::lifecycle::ApprovalGate;
use rust_decimal::Decimal;

/// The summary to show and the cost impact of approving `gate` on this blackboard.
pub(super) fn describe(
    gate: ApprovalGate,
    summary: &str,
    bb: &Blackboard,
    contracts: bool,
) -> (String, String) {
    let budget = bb
        .get::<EventBrief>()
        .map(|b| (b.budget.total, b.budget.currency.to_string()));
    let cur = budget.as_ref().map(|(_, c)| c.clone()).unwrap_or_default();
    match gate {
        ApprovalGate::VenueSelection => {
            let cost = bb
                .get::<VenueScorecard>()
                .zip(bb.get::<VenueShortlist>())
                .and_then(|(sc, sl)| {
                    sl.candidates
                        .iter()
                        .find(|c| c.id == sc.selected_candidate_id)
                })
                .map(|c| c.cost_estimate.amount);
            let allocation = bb.get::<BudgetBaseline>().and_then(|b| {
                b.allocations
                    .iter()
                    .find(|a| a.category == BudgetCategory::Venue)
                    .map(|a| a.amount)
            });
            let impact = match (cost, allocation) {
                (Some(c), Some(a)) => format!(
                    "Commits {} {cur} for the venue: {} of its {} {cur} allocation ({}).",
                    amount(c),
                    share(c, a),
                    amount(a),
                    if c <= a { "within it" } else { "over it" }
                ),
                (Some(c), None) => format!("Commits {} {cur} for the venue.", amount(c)),
                _ => String::new(),
            };
            (summary.to_owned(), impact)
        }
        ApprovalGate::BudgetDecision => {
            let impact = match (bb.get::<BudgetDecision>(), budget) {
                (Some(d), Some((total, _))) => {
                    let mut s = format!(
                        "Approves {} {} ({} of the brief's {} budget).",
                        amount(d.approved_total),
                        d.currency,
                        share(d.approved_total, total),
                        amount(total)
                    );
                    if let Some(b) = bb.get::<BudgetBaseline>() {
                        s.push_str(&format!(" Reserve {} {}.", amount(b.reserve), d.currency));
                    }
                    if let Some(o) = bb.get::<CostModel>().and_then(|m| m.optimisation.as_ref()) {
                        let saved = o.first_quote_total - o.optimised_total;
                        if saved > Decimal::ZERO {
                            s.push_str(&format!(
                                " Saves {} {} against the first quotes.",
                                amount(saved),
                                d.currency
                            ));
                        }
                    }
                    s
                }
                _ => String::new(),
            };
            (summary.to_owned(), impact)
        }
        ApprovalGate::VendorContracts => {
            let Some(v) = bb.get::<VendorContracts>() else {
                return (summary.to_owned(), String::new());
            };
            if !contracts {
                let names: Vec<String> = v
                    .vendors
                    .iter()
                    .map(|x| format!("{} ({})", x.name, x.service))
                    .collect();
                return (
                    format!("Vendor contracts: {}", names.join("; ")),
                    format!(
                        "Signs {} contracts; their amounts need the contracts permission.",
                        v.vendors.len()
                    ),
                );
            }
            let sum: Decimal = v.vendors.iter().map(|x| x.terms.total_cost.amount).sum();
            let approved = bb.get::<BudgetDecision>().map(|d| d.approved_total);
            let impact = match approved {
                Some(a) => format!(
                    "Signs {} contracts totalling {} {cur} ({} of the approved {} {cur}).",
                    v.vendors.len(),
                    amount(sum),
                    share(sum, a),
                    amount(a)
                ),
                None => format!(
                    "Signs {} contracts totalling {} {cur}.",
                    v.vendors.len(),
                    amount(sum)
                ),
            };
            (summary.to_owned(), impact)
        }
    }
}

/// `part` as a percentage of `whole`, one decimal.
fn share(part: Decimal, whole: Decimal) -> String {
    format!("{:.1}%", eods_domain::lifecycle::ratio(part, whole) * 100.0)
}
