//! Budget Analyst: bottom-up costs from the rate cards (one supplier per service), a top-down
//! baseline by category with a contingency reserve sized to the risk register's expected loss,
//! and a budget decision with options for the approver.

use crate::data::{Service, Supplier};
use crate::instructions::BudgetParams;
use crate::{AgentError, StepInput, StepOutput};
use eods_domain::artifact::CatalogType;
use eods_domain::catalog::audit::Alternative;
use eods_domain::catalog::brief::{EventBrief, EventType};
use eods_domain::catalog::budget::{
    Allocation, BudgetBaseline, BudgetCategory, BudgetDecision, BudgetOption, BudgetStatus,
    CostModel, LineItem, VarianceRules,
};
use eods_domain::catalog::planning::RiskRegister;
use eods_domain::catalog::venue::{VenueScorecard, VenueShortlist};
use eods_domain::ids::{LineItemId, OptionId};
use eods_domain::metrics::expected_loss;
use eods_domain::money::{Currency, Money};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use std::collections::BTreeMap;

/// One thing to buy: `qty` of item `code` from a supplier of `service`.
#[derive(Debug, Clone, PartialEq)]
pub struct Need {
    pub service: Service,
    pub code: &'static str,
    pub qty: Decimal,
    pub description: String,
    /// Optional needs are dropped first when the budget is short.
    pub optional: bool,
}

fn need(
    service: Service,
    code: &'static str,
    qty: u32,
    description: String,
    optional: bool,
) -> Need {
    Need {
        service,
        code,
        qty: Decimal::from(qty),
        description,
        optional,
    }
}

/// What an event of this brief needs to buy besides the venue.
pub fn needs(b: &EventBrief) -> Vec<Need> {
    let a = b.audience_size;
    let d = b.date_range.days();
    let rooms = b.tracks.max(1);
    let mut v = Vec::new();
    match b.event_type {
        EventType::Meetup => v.push(need(
            Service::Catering,
            "snacks",
            a * d,
            format!("Evening food and drinks for {a}"),
            false,
        )),
        EventType::Gala => {
            v.push(need(
                Service::Catering,
                "reception",
                a * d,
                format!("Reception for {a}"),
                false,
            ));
            v.push(need(
                Service::Catering,
                "dinner",
                a * d,
                format!("Seated dinner for {a}"),
                false,
            ));
        }
        EventType::Conference | EventType::Workshop | EventType::Festival | EventType::Other => {
            v.push(need(
                Service::Catering,
                "lunch",
                a * d,
                format!("Lunch for {a} on {d} day(s)"),
                false,
            ));
            v.push(need(
                Service::Catering,
                "coffee_break",
                a * d * 2,
                format!("Two coffee breaks a day for {a}"),
                false,
            ));
        }
    }
    if a >= 50 || rooms > 1 {
        v.push(need(
            Service::Av,
            "room_basic",
            rooms * d,
            format!("Projector and microphones in {rooms} room(s)"),
            false,
        ));
    }
    if a >= 300 {
        v.push(need(
            Service::Av,
            "streaming",
            rooms * d,
            format!("Streaming from {rooms} room(s)"),
            true,
        ));
        v.push(need(
            Service::Av,
            "technician",
            rooms * 9 * d,
            "AV technician per room, 9 hours a day".into(),
            false,
        ));
    }
    if a >= 50 {
        let staff = a.div_ceil(50);
        v.push(need(
            Service::Staffing,
            "event_staff",
            staff * 9 * d,
            format!("{staff} event staff, 9 hours a day"),
            false,
        ));
    }
    if a >= 300 {
        v.push(need(
            Service::Staffing,
            "security",
            a.div_ceil(250) * 10 * d,
            "Security at entrances".into(),
            false,
        ));
        v.push(need(
            Service::Staffing,
            "first_aid",
            9 * d,
            "First aid cover".into(),
            false,
        ));
    }
    v.push(need(
        Service::Materials,
        "badge",
        a,
        format!("Name badges for {a}"),
        false,
    ));
    if a >= 50 {
        v.push(need(
            Service::Materials,
            "signage",
            1,
            "Wayfinding signage".into(),
            false,
        ));
    }
    if a >= 100 {
        v.push(need(
            Service::Materials,
            "swag",
            a,
            "Attendee swag".into(),
            true,
        ));
    }
    if a >= 300 {
        v.push(need(
            Service::Insurance,
            "event_liability_large",
            1,
            "Event liability insurance".into(),
            false,
        ));
    } else if a >= 50 {
        v.push(need(
            Service::Insurance,
            "event_liability",
            1,
            "Event liability insurance".into(),
            false,
        ));
    }
    if matches!(b.event_type, EventType::Conference | EventType::Festival) {
        v.push(need(
            Service::Marketing,
            "campaign",
            1,
            "Promotion campaign".into(),
            false,
        ));
        if a >= 100 {
            v.push(need(
                Service::Marketing,
                "website",
                1,
                "Event website".into(),
                true,
            ));
        }
        let mut speakers: Vec<&str> = b
            .program
            .iter()
            .flat_map(|s| s.speakers.iter().map(String::as_str))
            .collect();
        speakers.sort_unstable();
        speakers.dedup();
        let n = u32::try_from(speakers.len()).unwrap_or(0);
        if n > 0 {
            v.push(need(
                Service::Speakers,
                "travel_grant",
                n,
                format!("Travel grants for {n} speakers"),
                true,
            ));
            if a >= 100 {
                v.push(need(
                    Service::Speakers,
                    "hotel_night",
                    n * d,
                    format!("Hotel nights for {n} speakers"),
                    false,
                ));
            }
        }
    }
    v
}

/// A priced line before it becomes a line item.
#[derive(Debug, Clone)]
struct Priced<'a> {
    need: &'a Need,
    supplier: &'a Supplier,
    unit: Decimal,
    first_quote_unit: Decimal,
}

/// Chooses, per item, the cheapest non-excluded supplier in the city; suppliers are compared by
/// the total of everything they can supply for that service, so one contract covers a service
/// where possible.
fn price<'a>(
    input: StepInput<'a>,
    b: &EventBrief,
    needs: &'a [Need],
    excluded: &[String],
) -> Result<Vec<Priced<'a>>, AgentError> {
    let rates = &input.tools.rates;
    let cur = &b.budget.currency;
    let in_city = |s: &&Supplier| {
        s.serves(&b.location.city) && rates.convert(Decimal::ONE, &s.currency, cur).is_some()
    };
    let local_price = |s: &Supplier, code: &str| {
        s.price(code)
            .and_then(|p| rates.convert(p, &s.currency, cur))
    };
    let mut out = Vec::new();
    let mut by_service: BTreeMap<Service, Vec<&Need>> = BTreeMap::new();
    for n in needs {
        by_service.entry(n.service).or_default().push(n);
    }
    for (service, list) in by_service {
        let offers: Vec<&Supplier> = rates
            .suppliers
            .iter()
            .filter(|s| s.service == service)
            .filter(in_city)
            .collect();
        let allowed: Vec<&Supplier> = offers
            .iter()
            .copied()
            .filter(|s| !excluded.contains(&s.id))
            .collect();
        // Total cost of the list from one supplier, when it offers every item.
        let full = |s: &Supplier| -> Option<Decimal> {
            list.iter()
                .map(|n| local_price(s, n.code).map(|p| p * n.qty))
                .sum()
        };
        let best_full = allowed
            .iter()
            .filter_map(|s| full(s).map(|t| (t, *s)))
            .min_by(|a, b2| a.0.cmp(&b2.0).then(a.1.id.cmp(&b2.1.id)));
        for n in list {
            let chosen = match best_full {
                Some((_, s)) => Some(s),
                None => allowed
                    .iter()
                    .filter_map(|s| local_price(s, n.code).map(|p| (p, *s)))
                    .min_by(|a, b2| a.0.cmp(&b2.0).then(a.1.id.cmp(&b2.1.id)))
                    .map(|(_, s)| s),
            };
            let Some(s) = chosen else {
                return Err(AgentError::Infeasible {
                    reason: format!(
                        "no supplier in {} offers `{}` ({}) in the rate cards{}",
                        b.location.city,
                        n.code,
                        service.as_str(),
                        if excluded.is_empty() {
                            ""
                        } else {
                            " after excluding rejected suppliers"
                        }
                    ),
                    alternatives: vec![],
                });
            };
            let unit = local_price(s, n.code).unwrap_or_default();
            let first_quote_unit = offers
                .iter()
                .find_map(|o| local_price(o, n.code))
                .unwrap_or(unit);
            out.push(Priced {
                need: n,
                supplier: s,
                unit,
                first_quote_unit,
            });
        }
    }
    Ok(out)
}

/// Baseline, cost model and budget decision.
pub fn plan(input: StepInput<'_>, p: &BudgetParams) -> Result<StepOutput, AgentError> {
    let b = input.need::<EventBrief>()?;
    let risks = input.need::<RiskRegister>()?;
    let shortlist = input.need::<VenueShortlist>()?;
    let scorecard = input.need::<VenueScorecard>()?;
    let cur = &b.budget.currency;
    let Some(venue) = shortlist
        .candidates
        .iter()
        .find(|c| c.id == scorecard.selected_candidate_id)
    else {
        return Err(AgentError::MissingInput(vec![
            "venue_scorecard.selected_candidate_id (on the shortlist)".into(),
        ]));
    };
    let limit = input
        .directives
        .budget_cap
        .map_or(b.budget.total, |c| c.min(b.budget.total));
    let min_reserve = (limit * p.reserve_share)
        .max(expected_loss(risks))
        .round_dp(2);
    let all_needs = needs(b);
    let lean_needs: Vec<Need> = all_needs.iter().filter(|n| !n.optional).cloned().collect();
    let excluded = &input.directives.excluded_suppliers;
    let full = price(input, b, &all_needs, excluded)?;
    let spend = |ps: &[Priced<'_>]| -> Decimal {
        ps.iter()
            .map(|x| (x.unit * x.need.qty).round_dp(2))
            .sum::<Decimal>()
            + venue.cost_estimate.amount
    };
    let full_spend = spend(&full);
    // Scope: drop optional needs when the full plan and its reserve do not fit the limit.
    let (chosen, scope_note) = if full_spend + min_reserve <= limit {
        (full, None)
    } else {
        let lean = price(input, b, &lean_needs, excluded)?;
        (
            lean,
            Some(
                "optional items (streaming, swag, website, travel grants) dropped to fit the budget",
            ),
        )
    };
    let chosen_spend = spend(&chosen);

    // Line items: venue, every priced need, then contingency (the rest of the limit, at least the reserve).
    let mut lines = vec![LineItem {
        id: LineItemId::nth(1),
        category: BudgetCategory::Venue,
        description: format!("{} hire", venue.name),
        qty: Decimal::ONE,
        unit_cost: venue.cost_estimate.amount,
        total: venue.cost_estimate.amount,
        vendor_option: venue.venue_ref.to_string(),
        first_quote: venue.cost_estimate.amount,
    }];
    for x in &chosen {
        lines.push(LineItem {
            id: LineItemId::nth(lines.len() + 1),
            category: x.need.service.category(),
            description: x.need.description.clone(),
            qty: x.need.qty,
            unit_cost: x.unit,
            total: (x.unit * x.need.qty).round_dp(2),
            vendor_option: x.supplier.id.clone(),
            first_quote: (x.first_quote_unit * x.need.qty).round_dp(2),
        });
    }
    let contingency = (limit - chosen_spend).max(min_reserve);
    lines.push(LineItem {
        id: LineItemId::nth(lines.len() + 1),
        category: BudgetCategory::Contingency,
        description: format!(
            "Contingency reserve (at least {} for an expected loss of {})",
            Money::new(min_reserve, cur),
            Money::new(expected_loss(risks), cur)
        ),
        qty: Decimal::ONE,
        unit_cost: contingency,
        total: contingency,
        vendor_option: "reserve".into(),
        first_quote: contingency,
    });
    let cost_total: Decimal = lines.iter().map(|l| l.total).sum();
    let over_budget = cost_total > limit;

    // Baseline: the limit split by category; the venue keeps its envelope when the reserve allows.
    let mut by_cat: BTreeMap<BudgetCategory, Decimal> = BTreeMap::new();
    for l in lines
        .iter()
        .filter(|l| l.category != BudgetCategory::Contingency)
    {
        *by_cat.entry(l.category).or_default() += l.total;
    }
    let envelope = crate::venue::venue_envelope(
        b,
        &input
            .tools
            .instructions
            .get(
                eods_domain::instruction::AgentKind::BudgetAnalyst,
                input.level,
            )?
            .params()?,
    );
    let others: Decimal = by_cat
        .iter()
        .filter(|(c, _)| **c != BudgetCategory::Venue)
        .map(|(_, v)| *v)
        .sum();
    let venue_alloc = envelope
        .min(limit - others - min_reserve)
        .max(venue.cost_estimate.amount);
    by_cat.insert(BudgetCategory::Venue, venue_alloc);
    let baseline_total = if over_budget { cost_total } else { limit };
    let allocated: Decimal = by_cat.values().copied().sum();
    let reserve = baseline_total - allocated;
    by_cat.insert(BudgetCategory::Contingency, reserve);
    let allocations: Vec<Allocation> = by_cat
        .iter()
        .map(|(c, a)| Allocation {
            category: *c,
            amount: *a,
            share: share(*a, baseline_total),
        })
        .collect();
    let mut assumptions = vec![
        format!(
            "Prices from {} converted to {cur}",
            input.tools.rates.source
        ),
        format!(
            "Reserve sized to max({} of the total, expected loss of the risk register)",
            p.reserve_share
        ),
    ];
    if let Some(n) = scope_note {
        assumptions.push(n.to_owned());
    }
    if let Some(cap) = input.directives.budget_cap {
        assumptions.push(format!("Approver cap of {} applied", Money::new(cap, cur)));
    }
    let first_quote_total: Decimal = lines.iter().map(|l| l.first_quote).sum();
    let premium = premium_total(input, b, &all_needs, venue.cost_estimate.amount);
    let options = vec![
        BudgetOption {
            id: OptionId::nth(1),
            description: "Recommended: cheapest supplier per service, full scope".into(),
            total: cost_total,
            savings: first_quote_total - cost_total,
        },
        BudgetOption {
            id: OptionId::nth(2),
            description: "Lean: drop optional items".into(),
            total: spend(&price(input, b, &lean_needs, excluded)?) + min_reserve,
            savings: Decimal::ZERO,
        },
        BudgetOption {
            id: OptionId::nth(3),
            description: "Premium: most reliable supplier per service".into(),
            total: premium + min_reserve,
            savings: Decimal::ZERO,
        },
    ];
    let cost_model = CostModel {
        currency: cur.clone(),
        total: cost_total,
        line_items: lines,
        variance_rules: VarianceRules {
            max_variance_pct: p.max_variance_pct,
            approval_threshold: p.approval_threshold,
        },
    };
    let decision = BudgetDecision {
        approved_total: cost_total,
        currency: cur.clone(),
        status: BudgetStatus::Proposed,
        options: options.clone(),
        selected_option_id: OptionId::nth(1),
        approvals: vec![],
        change_log_refs: vec![],
        cap: input.directives.budget_cap,
    };
    let summary = format!(
        "Costed {} line items: spend {} + reserve {} = {} against a limit of {}{}",
        cost_model.line_items.len(),
        Money::new(chosen_spend, cur),
        Money::new(contingency, cur),
        Money::new(cost_total, cur),
        Money::new(limit, cur),
        if over_budget {
            " (over budget: approval needed)"
        } else {
            ""
        }
    );
    Ok(StepOutput {
        rationale: format!(
            "Cheapest supplier per service that serves {}; the venue keeps its envelope of {}, the rest of the limit is held as contingency.{}",
            b.location.city,
            Money::new(venue_alloc, cur),
            if over_budget {
                " The plan exceeds the budget even in its lean scope: the approver chooses between more budget and less scope."
            } else {
                ""
            }
        ),
        summary,
        alternatives: options
            .iter()
            .map(|o| Alternative {
                option: o.description.clone(),
                score: share(limit.min(o.total), o.total.max(Decimal::ONE)),
                pros: vec![format!("total {}", Money::new(o.total, cur))],
                cons: vec![],
            })
            .collect(),
        artifacts: vec![
            BudgetBaseline {
                total: baseline_total,
                currency: cur.clone(),
                allocations,
                reserve,
                assumptions,
            }
            .into_payload(),
            cost_model.into_payload(),
            decision.into_payload(),
        ],
    })
}

fn premium_total(input: StepInput<'_>, b: &EventBrief, needs: &[Need], venue: Decimal) -> Decimal {
    let rates = &input.tools.rates;
    let cur: &Currency = &b.budget.currency;
    needs
        .iter()
        .filter_map(|n| {
            rates
                .suppliers
                .iter()
                .filter(|s| s.service == n.service && s.serves(&b.location.city))
                .filter_map(|s| {
                    s.price(n.code)
                        .and_then(|p| rates.convert(p, &s.currency, cur))
                        .map(|p| (s.reliability, p))
                })
                .max_by(|a, c| a.0.total_cmp(&c.0))
                .map(|(_, p)| (p * n.qty).round_dp(2))
        })
        .sum::<Decimal>()
        + venue
}

fn share(part: Decimal, whole: Decimal) -> f64 {
    if whole.is_zero() {
        return 0.0;
    }
    ((part / whole).to_f64().unwrap_or(0.0) * 1e6).round() / 1e6
}
