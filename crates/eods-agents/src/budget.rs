//! Budget Analyst: bottom-up costs from the rate cards (one supplier per service), a top-down
//! baseline by category with a contingency reserve sized to the risk register's expected loss,
//! and a budget decision with options for the approver.

use crate::data::{Service, Supplier};
use crate::instructions::{BudgetParams, Optimiser};
use crate::pricing::quotes;
/// Re-exported from [`crate::pricing`], where the Venue Researcher reads them too.
pub use crate::pricing::{Need, needs};
use crate::sources::EventData;
use crate::{AgentError, Inputs, StepOutput, Tools};
use eods_domain::artifact::CatalogType;
use eods_domain::catalog::audit::Alternative;
use eods_domain::catalog::brief::EventBrief;
use eods_domain::catalog::budget::{
    Allocation, BudgetBaseline, BudgetCategory, BudgetDecision, BudgetOption, BudgetStatus,
    CostModel, CostOptimisation, CostRisk, LineConversion, LineItem, VarianceRules,
};
use eods_domain::catalog::planning::RiskRegister;
use eods_domain::catalog::venue::{ShortlistCandidate, VenueScorecard, VenueShortlist};
use eods_domain::ids::{LineItemId, OptionId};
use eods_domain::metrics::expected_loss;
use eods_domain::money::{Currency, Money};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use std::collections::BTreeMap;

/// A priced line before it becomes a line item.
#[derive(Debug, Clone)]
struct Priced<'a> {
    need: &'a Need,
    supplier: &'a Supplier,
    unit: Decimal,
    first_quote_unit: Decimal,
}

/// Priced lines and, when the optimiser chose, its account.
struct Costing<'a> {
    lines: Vec<Priced<'a>>,
    report: Option<CostOptimisation>,
}

/// Costs the needs. Every line records the first quote: the first supplier listed for its
/// service in the city, at list and volume prices. `optimiser` picks the suppliers:
/// `first_quote` takes that first supplier (a novice's choice); `exact` minimises the total over
/// every supplier option and package discount, exactly (see [`optimise`]).
fn price<'a>(
    input: Inputs<'a>,
    b: &EventBrief,
    needs: &'a [Need],
    excluded: &[String],
    optimiser: Optimiser,
) -> Result<Costing<'a>, AgentError> {
    let data = input.data()?;
    let rates = &data.rates;
    let pr = Pricing {
        input,
        b,
        cur: &b.budget.currency,
        day: crate::fx::rate_day(b),
    };
    let (services, missing) = service_options(&pr, rates, data.demo_rates, needs, excluded)?;
    if !missing.is_empty() && (services.is_empty() || data.demo_rates) {
        return Err(no_prices(b, missing, data.demo_rates));
    }
    let (choice, discounts, report) = choose(&pr, &services, &rates.packages, optimiser);
    let lines = priced_lines(&pr, &services, choice, &discounts);
    // Invoices are unit price × quantity: report the optimum as the lines add up.
    let mut report = report;
    if let Some(r) = report.as_mut() {
        let total: Decimal = lines
            .iter()
            .map(|x| (x.unit * x.need.qty).round_dp(2))
            .sum();
        r.optimised_total = total;
        r.lower_bound = total;
    }
    Ok(Costing { lines, report })
}

/// How a costing prices a supplier: in the brief's city and currency, at the rates of the
/// rate day.
struct Pricing<'p> {
    input: Inputs<'p>,
    b: &'p EventBrief,
    cur: &'p Currency,
    day: chrono::NaiveDate,
}

impl Pricing<'_> {
    /// A supplier that serves the brief's city in a currency that converts.
    fn in_city(&self, s: &Supplier) -> bool {
        s.serves(&self.b.location.city)
            && self
                .input
                .tools
                .convert(Decimal::ONE, &s.currency, self.cur, self.day)
                .is_ok()
    }

    /// A supplier's unit price for a need, converted into the event's currency, to the cent.
    fn unit_of(&self, s: &Supplier, n: &Need) -> Option<Decimal> {
        s.price_for(n.code, n.qty)
            .and_then(|p| {
                self.input
                    .tools
                    .convert(p, &s.currency, self.cur, self.day)
                    .ok()
            })
            .map(|(p, _)| p.round_dp(2))
    }

    /// The first quote's unit price for a need (zero without a first supplier).
    fn first_quote(&self, n: &Need, first: Option<&Supplier>) -> Decimal {
        first.and_then(|s| self.unit_of(s, n)).unwrap_or_default()
    }
}

/// Per service: the suppliers that can take all of it, in catalog order, with their cost; and
/// what no supplier prices. A service whose every supplier an approver rejected blocks.
fn service_options<'a>(
    pr: &Pricing<'_>,
    rates: &'a crate::data::RateCards,
    demo_rates: bool,
    needs: &'a [Need],
    excluded: &[String],
) -> Result<(Vec<ServiceOptions<'a>>, Vec<String>), AgentError> {
    let b = pr.b;
    let unit_of = |s: &Supplier, n: &Need| pr.unit_of(s, n);
    let mut by_service: BTreeMap<Service, Vec<&Need>> = BTreeMap::new();
    for n in needs {
        by_service.entry(n.service).or_default().push(n);
    }
    let mut services: Vec<ServiceOptions<'a>> = Vec::new();
    let mut missing: Vec<String> = Vec::new();
    for (service, list) in by_service {
        let offers: Vec<&Supplier> = rates
            .suppliers
            .iter()
            .filter(|s| s.service == service)
            .filter(|s| pr.in_city(s))
            .collect();
        // With the organiser's rate cards, an item nobody prices is left out of the costing and
        // reported as not priced (see `unpriced`): never guessed.
        let list: Vec<&Need> = if demo_rates {
            list
        } else {
            list.into_iter()
                .filter(|n| offers.iter().any(|s| unit_of(s, n).is_some()))
                .collect()
        };
        if list.is_empty() {
            missing.push(format!(
                "{} prices in {}",
                service.as_str(),
                b.location.city
            ));
            continue;
        }
        let full = |s: &Supplier| -> Option<Decimal> {
            list.iter()
                .map(|n| unit_of(s, n).map(|u| (u * n.qty).round_dp(2)))
                .sum()
        };
        let first = offers.iter().copied().find(|s| full(s).is_some());
        let options: Vec<(&Supplier, Decimal)> = offers
            .iter()
            .copied()
            .filter(|s| !excluded.contains(&s.id))
            .filter_map(|s| full(s).map(|t| (s, t)))
            .collect();
        if options.is_empty() && excluded.is_empty() {
            missing.push(format!(
                "{} prices in {} for {}",
                service.as_str(),
                b.location.city,
                list.iter().map(|n| n.code).collect::<Vec<_>>().join(", ")
            ));
            continue;
        }
        if options.is_empty() {
            return Err(AgentError::Infeasible {
                reason: format!(
                    "no supplier in {} offers every `{}` item ({}) in the rate cards{}",
                    b.location.city,
                    service.as_str(),
                    list.iter().map(|n| n.code).collect::<Vec<_>>().join(", "),
                    if excluded.is_empty() {
                        ""
                    } else {
                        " after excluding rejected suppliers"
                    }
                ),
                alternatives: vec![],
            });
        }
        services.push(ServiceOptions {
            needs: list,
            first,
            options,
        });
    }
    Ok((services, missing))
}

/// The block when no rate card prices what the plan needs: which services, and where to give
/// the rate cards.
fn no_prices(b: &EventBrief, missing: Vec<String>, demo_rates: bool) -> AgentError {
    AgentError::NeedsInput {
        reason: format!(
            "No supplier prices for {} in {}: give rate cards (`eods plan --rate-cards FILE`, PUT /api/v1/events/{{id}}/rate-cards or the new-event page; columns supplier,service,city,country,currency,item,unit,price) with rows for the items below.{}",
            missing
                .iter()
                .map(|m| m.split(' ').next().unwrap_or_default())
                .collect::<Vec<_>>()
                .join(", "),
            b.location.city,
            if demo_rates {
                ""
            } else {
                " The demo rate cards are not used for a real city."
            }
        ),
        asks: missing,
        partial: vec![],
    }
}

/// The supplier chosen for every service, the package discounts (percent by supplier) and, for
/// the exact optimiser, its account.
fn choose<'a>(
    pr: &Pricing<'_>,
    services: &[ServiceOptions<'a>],
    packages: &'a [crate::data::Package],
    optimiser: Optimiser,
) -> (
    Vec<&'a Supplier>,
    BTreeMap<String, Decimal>,
    Option<CostOptimisation>,
) {
    match optimiser {
        Optimiser::FirstQuote => (
            services.iter().map(|s| s.options[0].0).collect::<Vec<_>>(),
            BTreeMap::new(),
            None,
        ),
        Optimiser::Cheapest => (
            services
                .iter()
                .map(|s| {
                    s.options
                        .iter()
                        .min_by(|a, b2| a.1.cmp(&b2.1))
                        .map_or(s.options[0].0, |(x, _)| *x)
                })
                .collect::<Vec<_>>(),
            BTreeMap::new(),
            None,
        ),
        Optimiser::Exact => {
            let o = optimise(services, packages);
            let first_total: Decimal = services
                .iter()
                .flat_map(|s| {
                    s.needs
                        .iter()
                        .map(move |n| (pr.first_quote(n, s.first) * n.qty).round_dp(2))
                })
                .sum();
            let report = CostOptimisation {
                method:
                    "exact: every package combination, the cheapest supplier per remaining service"
                        .into(),
                first_quote_total: first_total,
                optimised_total: o.total,
                lower_bound: o.bound,
                combinations: o.combinations,
                packages: o.packages.iter().map(|p| p.name.clone()).collect(),
            };
            let mut discounts: BTreeMap<String, Decimal> = BTreeMap::new();
            for p in &o.packages {
                for id in &p.suppliers {
                    *discounts.entry(id.clone()).or_default() += p.discount_percent;
                }
            }
            (o.choice, discounts, Some(report))
        }
    }
}

/// Every need priced by its service's chosen supplier, less that supplier's package discount,
/// with its first quote.
fn priced_lines<'a>(
    pr: &Pricing<'_>,
    services: &[ServiceOptions<'a>],
    choice: Vec<&'a Supplier>,
    discounts: &BTreeMap<String, Decimal>,
) -> Vec<Priced<'a>> {
    let mut lines = Vec::new();
    for (svc, supplier) in services.iter().zip(choice) {
        let off = discounts.get(&supplier.id).copied().unwrap_or_default();
        for n in &svc.needs {
            let list = pr.unit_of(supplier, n).unwrap_or_default();
            lines.push(Priced {
                need: n,
                supplier,
                // Rounded to the currency's minor unit: whole yen, cents elsewhere.
                unit: pr
                    .cur
                    .round(list * (Decimal::ONE_HUNDRED - off) / Decimal::ONE_HUNDRED),
                first_quote_unit: pr.first_quote(n, svc.first),
            });
        }
    }
    lines
}

/// One service's needs and the suppliers that can take all of them, with their cost.
struct ServiceOptions<'a> {
    needs: Vec<&'a Need>,
    /// The first supplier listed for the service in the city (the first quote).
    first: Option<&'a Supplier>,
    /// Allowed suppliers in catalog order, each with the service's cost.
    options: Vec<(&'a Supplier, Decimal)>,
}

/// The optimiser's result.
struct Optimum<'a> {
    choice: Vec<&'a Supplier>,
    total: Decimal,
    bound: Decimal,
    combinations: u64,
    packages: Vec<&'a crate::data::Package>,
}

/// Exact vendor-option optimisation. A package discount only lowers the cost of the suppliers
/// it names, so some optimum is: the suppliers of the packages it uses, and the cheapest
/// supplier for every other service. Evaluating every subset of the applicable packages that
/// way therefore finds the optimum (ties: fewest packages, then catalog order), and evaluating
/// all of them proves it.
fn optimise<'a>(
    services: &[ServiceOptions<'a>],
    packages: &'a [crate::data::Package],
) -> Optimum<'a> {
    let find = |id: &str| -> Option<(usize, usize)> {
        services.iter().enumerate().find_map(|(k, s)| {
            s.options
                .iter()
                .position(|(x, _)| x.id == id)
                .map(|i| (k, i))
        })
    };
    // Packages whose every supplier is an option, each for a different service.
    let applicable: Vec<(&crate::data::Package, Vec<(usize, usize)>)> = packages
        .iter()
        .filter_map(|p| {
            let at: Option<Vec<(usize, usize)>> = p.suppliers.iter().map(|id| find(id)).collect();
            let at = at?;
            let mut svc: Vec<usize> = at.iter().map(|(k, _)| *k).collect();
            svc.sort_unstable();
            svc.dedup();
            (svc.len() == at.len()).then_some((p, at))
        })
        .take(16)
        .collect();
    let cheapest: Vec<usize> = services
        .iter()
        .map(|s| {
            (0..s.options.len())
                .min_by(|&a, &b| s.options[a].1.cmp(&s.options[b].1).then(a.cmp(&b)))
                .unwrap_or(0)
        })
        .collect();
    let evaluate = |pick: &[usize]| -> (Decimal, Vec<&'a crate::data::Package>) {
        let base: Decimal = services
            .iter()
            .zip(pick)
            .map(|(s, &i)| s.options[i].1)
            .sum();
        let mut off = Decimal::ZERO;
        let mut used = Vec::new();
        for (p, at) in &applicable {
            if at.iter().all(|(k, i)| pick[*k] == *i) {
                off += at
                    .iter()
                    .map(|(k, i)| {
                        services[*k].options[*i].1 * p.discount_percent / Decimal::ONE_HUNDRED
                    })
                    .sum::<Decimal>();
                used.push(*p);
            }
        }
        ((base - off).round_dp(2), used)
    };
    let mut best: Option<(Decimal, usize, Vec<usize>)> = None;
    let mut combinations = 0u64;
    'subsets: for mask in 0u32..(1 << applicable.len()) {
        let mut pick = cheapest.clone();
        let mut forced = vec![false; services.len()];
        for (j, (_, at)) in applicable.iter().enumerate() {
            if mask >> j & 1 == 1 {
                for &(k, i) in at {
                    if forced[k] && pick[k] != i {
                        continue 'subsets;
                    }
                    forced[k] = true;
                    pick[k] = i;
                }
            }
        }
        combinations += 1;
        let (total, _) = evaluate(&pick);
        let size = mask.count_ones() as usize;
        if best
            .as_ref()
            .is_none_or(|(t, n, _)| total < *t || (total == *t && size < *n))
        {
            best = Some((total, size, pick));
        }
    }
    let pick = best.map(|(_, _, p)| p).unwrap_or(cheapest.clone());
    let (total, used) = evaluate(&pick);
    Optimum {
        choice: services
            .iter()
            .zip(&pick)
            .map(|(s, &i)| s.options[i].0)
            .collect(),
        total,
        // Every package combination was evaluated: the optimum is proven.
        bound: total,
        combinations,
        packages: used,
    }
}

/// Simulated cost outcomes of a plan: the seed, P50, P80 and P95.
type CostOutcomes = (u64, Decimal, Decimal, Decimal);

/// One step of the re-planning ladder: what it changes and the plan it gives.
struct Attempt<'a> {
    /// What this step does, for the options and the rationale.
    description: String,
    costing: Costing<'a>,
    /// Planned spend: the venue and every priced line.
    spend: Decimal,
    /// The reserve this plan holds.
    reserve: Decimal,
    /// Monte Carlo outcomes (seed, p50, p80, p95) at Advanced.
    risk: Option<CostOutcomes>,
}

impl Attempt<'_> {
    fn total(&self) -> Decimal {
        self.spend + self.reserve
    }
}

/// Fewer catering items: one coffee break a day instead of two, and no standing reception
/// before a seated dinner. None when the needs hold nothing to trim.
fn fewer_catering(needs: &[Need]) -> Option<Vec<Need>> {
    let has_dinner = needs.iter().any(|n| n.code == "dinner");
    let mut changed = false;
    let mut out = Vec::new();
    for n in needs {
        match n.code {
            "coffee_break" if n.qty >= Decimal::TWO => {
                changed = true;
                out.push(Need {
                    qty: (n.qty / Decimal::TWO).floor(),
                    description: format!(
                        "{} (one a day instead of two, to fit the budget)",
                        n.description
                    ),
                    ..n.clone()
                });
            }
            "reception" if has_dinner => changed = true,
            _ => out.push(n.clone()),
        }
    }
    changed.then_some(out)
}

/// The reserve a plan holds: the risk register's expected loss, and at Advanced at least the
/// simulated P80 overrun of that plan's spend.
fn size_reserve(
    input: Inputs<'_>,
    p: &BudgetParams,
    costing: &Costing<'_>,
    venue_cost: Decimal,
    risks: &RiskRegister,
) -> (Decimal, Decimal, Option<CostOutcomes>) {
    let spend = costing
        .lines
        .iter()
        .map(|x| (x.unit * x.need.qty).round_dp(2))
        .sum::<Decimal>()
        + venue_cost;
    let mut reserve = expected_loss(risks).round_dp(2);
    let risk = (p.monte_carlo_runs > 0).then(|| {
        let seed = input.directives.seed;
        let outcomes = simulate_costs(costing, venue_cost, risks, p.monte_carlo_runs, seed);
        let at = |q: f64| outcomes[((q * outcomes.len() as f64) as usize).min(outcomes.len() - 1)];
        (seed, at(0.50), at(0.80), at(0.95))
    });
    if let Some((_, _, p80, _)) = risk {
        reserve = reserve.max((p80 - spend).max(Decimal::ZERO).round_dp(2));
    }
    (spend, reserve, risk)
}

/// The needs of each scope the ladder tries.
#[derive(Clone, Copy)]
struct Scopes<'a> {
    all: &'a [Need],
    /// Without optional items.
    lean: &'a [Need],
    /// Lean, with fewer catering items (none when there is nothing to trim).
    trimmed: Option<&'a [Need]>,
}

/// The re-planning ladder, cheapest last: the instructed plan, then cheaper suppliers (as far as
/// the level's optimiser goes), a smaller scope (optional items dropped), fewer catering items, and the reserve at
/// its floor (90% of the expected loss, the least adequate reserve of DESIGN §6). Each step
/// keeps the ones before it; a step that changes nothing is left out.
fn ladder<'a>(
    input: Inputs<'a>,
    p: &BudgetParams,
    b: &EventBrief,
    scopes: Scopes<'a>,
    risks: &RiskRegister,
    venue_cost: Decimal,
) -> Result<Vec<Attempt<'a>>, AgentError> {
    let Scopes {
        all: needs,
        lean,
        trimmed,
    } = scopes;
    let excluded = &input.directives.excluded_suppliers;
    let mut out: Vec<Attempt<'a>> = Vec::new();
    let mut push = |description: String, costing: Costing<'a>, floor: bool| {
        let (spend, mut reserve, risk) = size_reserve(input, p, &costing, venue_cost, risks);
        if floor {
            reserve = (expected_loss(risks) * Decimal::new(90, 2)).round_dp(2);
        }
        let a = Attempt {
            description,
            costing,
            spend,
            reserve,
            risk,
        };
        // A step that saves nothing is not a step.
        if out.last().is_none_or(|l| a.total() < l.total()) {
            out.push(a);
        }
    };
    push(
        match p.optimiser {
            Optimiser::FirstQuote => "full scope, first quote per service".into(),
            Optimiser::Cheapest => "full scope, cheapest supplier per service".into(),
            Optimiser::Exact => "full scope, optimised suppliers and package deals".into(),
        },
        price(input, b, needs, excluded, p.optimiser)?,
        false,
    );
    // Cheaper suppliers, as far as the level's instructions go: a first quote gives way to the
    // cheapest supplier per service; package optimisation is for the levels that do it.
    let cheaper = match p.optimiser {
        Optimiser::FirstQuote => Optimiser::Cheapest,
        o => o,
    };
    if cheaper != p.optimiser {
        push(
            "cheaper suppliers: the cheapest supplier per service".into(),
            price(input, b, needs, excluded, cheaper)?,
            false,
        );
    }
    let mut current = needs;
    if lean.len() < needs.len() {
        let dropped: Vec<&str> = needs
            .iter()
            .filter(|n| n.optional)
            .map(|n| n.code)
            .collect();
        push(
            format!(
                "smaller scope: optional items dropped ({})",
                dropped.join(", ")
            ),
            price(input, b, lean, excluded, cheaper)?,
            false,
        );
        current = lean;
    }
    if let Some(t) = trimmed {
        push(
            "fewer catering items: one coffee break a day, no reception before a seated dinner"
                .into(),
            price(input, b, t, excluded, cheaper)?,
            false,
        );
        current = t;
    }
    push(
        "reserve at its floor: 90% of the risk register's expected loss".into(),
        price(input, b, current, excluded, cheaper)?,
        true,
    );
    Ok(out)
}

/// What the phases of a budget share once the ladder has run: the brief, the selected venue,
/// the limit it must fit and the plans tried, with the one chosen.
struct Budgeting<'a> {
    input: Inputs<'a>,
    p: &'a BudgetParams,
    b: &'a EventBrief,
    risks: &'a RiskRegister,
    venue: &'a ShortlistCandidate,
    /// The budget is fixed by the brief: a ceiling.
    fixed: bool,
    /// An approver's cap.
    cap: Option<Decimal>,
    /// The budget total, or the approver's cap when lower.
    limit: Decimal,
    attempts: &'a [Attempt<'a>],
    chosen_at: usize,
}

impl Budgeting<'_> {
    /// The event's currency.
    fn cur(&self) -> &Currency {
        &self.b.budget.currency
    }

    /// An amount in the event's currency.
    fn money(&self, d: Decimal) -> Money {
        Money::new(d, self.cur())
    }

    /// The plan chosen: the first that fits the limit, else the cheapest.
    fn chosen(&self) -> &Attempt<'_> {
        &self.attempts[self.chosen_at]
    }
}

/// The baseline's allocations by category and what they come to.
struct Allocated {
    allocations: Vec<Allocation>,
    total: Decimal,
    unallocated: Decimal,
    /// The venue's allocation: its envelope when the limit allows.
    venue: Decimal,
}

/// Baseline, cost model and budget decision. A `fixed` budget is a ceiling: the analyst walks
/// the re-planning ladder until a plan fits, and blocks with the ranked plans when none does.
/// An approver's cap is the target of a revision; when no plan fits it, the cheapest plan is put
/// up with the reason. Money the plan does not need is `unallocated`, never reserve.
pub fn plan(input: Inputs<'_>, p: &BudgetParams) -> Result<StepOutput, AgentError> {
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
    let fixed = eods_domain::constraints::budget_is_fixed(b);
    let cap = input.directives.budget_cap;
    let limit = cap.map_or(b.budget.total, |c| c.min(b.budget.total));
    let all_needs = needs(b);
    let lean_needs: Vec<Need> = all_needs.iter().filter(|n| !n.optional).cloned().collect();
    let trimmed = fewer_catering(&lean_needs);
    let venue_cost = venue.cost_estimate.amount;
    // Large events: a combination of sites needs transfers between them, a line only when a
    // rate card prices them (see `multisite`). The ladder holds them with the venue, as fixed.
    let transfer = crate::multisite::transfer_quote(input.tools, b, venue.sites.len())?;
    let fixed_cost = venue_cost + transfer.as_ref().map_or(Decimal::ZERO, |t| t.total);
    let scopes = Scopes {
        all: &all_needs,
        lean: &lean_needs,
        trimmed: trimmed.as_deref(),
    };
    let attempts = ladder(input, p, b, scopes, risks, fixed_cost)?;
    // Every plan tried, for the rationale and, when nothing fits, the blocking reason.
    let tried = plans_tried(&attempts, limit, cur);
    // The ladder always holds the instructed plan; an empty one is a plan that cannot be costed.
    let Some(cheapest) = attempts.last() else {
        return Err(AgentError::Infeasible {
            reason: "no plan could be costed from the rate cards".into(),
            alternatives: vec![],
        });
    };
    if fixed && cheapest.total() > b.budget.total {
        return Err(over_fixed_budget(b, cheapest, &attempts, &tried));
    }
    let chosen_at = attempts
        .iter()
        .position(|a| a.total() <= limit)
        .unwrap_or(attempts.len() - 1);
    let s = Budgeting {
        input,
        p,
        b,
        risks,
        venue,
        fixed,
        cap,
        limit,
        attempts: &attempts,
        chosen_at,
    };
    let chosen = s.chosen();
    let reserve = chosen.reserve;
    let cost_total = chosen.total();
    let over_budget = cost_total > limit;

    let rate_day = crate::fx::rate_day(b);
    let (lines, conversions) = line_items(&s, transfer.as_ref(), rate_day);
    let allocated = allocate(&s, &lines, over_budget)?;
    let assumptions = assumptions(&s, transfer.is_none(), rate_day)?;
    let options = ranked_options(
        &attempts,
        chosen_at,
        premium_total(input.tools, input.data()?, b, &all_needs, venue_cost),
        venue_cost,
        over_budget,
    );
    let decision = decision(&s, &options, &lines);
    let cost_model = CostModel {
        currency: cur.clone(),
        total: cost_total,
        line_items: lines,
        variance_rules: VarianceRules {
            max_variance_pct: p.max_variance_pct,
            approval_threshold: p.approval_threshold,
        },
        optimisation: chosen.costing.report.clone(),
        conversions,
    };
    let summary = summary(&s, cost_model.line_items.len(), allocated.unallocated);
    Ok(StepOutput {
        raised: unpriced(input.tools, input.data()?, b),
        rationale: rationale(
            &s,
            cost_model.optimisation.as_ref(),
            allocated.venue,
            &tried,
        ),
        summary,
        alternatives: option_alternatives(&options, limit, cur),
        artifacts: vec![
            BudgetBaseline {
                total: allocated.total,
                currency: cur.clone(),
                allocations: allocated.allocations,
                reserve,
                assumptions,
            }
            .into_payload(),
            cost_model.into_payload(),
            decision.into_payload(),
        ],
    })
}

/// The budget decision put to the approver: the chosen total, the options with the recommended
/// one selected, the cap, the simulated cost risk and (when instructed) the cancellation hedges.
fn decision(s: &Budgeting<'_>, options: &[BudgetOption], lines: &[LineItem]) -> BudgetDecision {
    let chosen = s.chosen();
    let selected = options
        .iter()
        .find(|o| o.description.starts_with("Recommended"))
        .map_or(OptionId::nth(1), |o| o.id.clone());
    let hedges = if s.p.hedges {
        cancellation_hedges(lines, s.limit, s.cur())
    } else {
        vec![]
    };
    BudgetDecision {
        approved_total: chosen.total(),
        currency: s.cur().clone(),
        status: BudgetStatus::Proposed,
        options: options.to_vec(),
        selected_option_id: selected,
        approvals: vec![],
        change_log_refs: vec![],
        cap: s.cap,
        risk_analysis: chosen.risk.map(|(seed, p50, p80, p95)| CostRisk {
            runs: s.p.monte_carlo_runs,
            seed,
            p50,
            p80,
            p95,
            reserve_covers_p80: chosen.reserve >= (p80 - chosen.spend),
        }),
        hedges,
    }
}

/// Every option as an alternative for the record, scored by how much of it the limit covers.
fn option_alternatives(
    options: &[BudgetOption],
    limit: Decimal,
    cur: &Currency,
) -> Vec<Alternative> {
    options
        .iter()
        .map(|o| Alternative {
            option: o.description.clone(),
            score: share(limit.min(o.total), o.total.max(Decimal::ONE)),
            pros: vec![format!("total {}", Money::new(o.total, cur))],
            cons: vec![],
        })
        .collect()
}

/// Every plan tried, numbered, with its total and whether it fits the limit.
fn plans_tried(attempts: &[Attempt<'_>], limit: Decimal, cur: &Currency) -> Vec<String> {
    attempts
        .iter()
        .enumerate()
        .map(|(i, a)| {
            format!(
                "{}. {}: {} ({})",
                i + 1,
                a.description,
                Money::new(a.total(), cur),
                if a.total() <= limit { "fits" } else { "over" }
            )
        })
        .collect()
}

/// The block when a fixed budget cannot hold even the cheapest plan: the plans tried, and each
/// as an alternative, cheapest first.
fn over_fixed_budget(
    b: &EventBrief,
    cheapest: &Attempt<'_>,
    attempts: &[Attempt<'_>],
    tried: &[String],
) -> AgentError {
    let money = |d: Decimal| Money::new(d, &b.budget.currency);
    AgentError::Infeasible {
        reason: format!(
            "the fixed budget of {} cannot hold even the cheapest plan ({}); plans tried, cheapest last: {}. Raise /budget/total to at least {} or set /budget/flexibility to variable",
            money(b.budget.total),
            money(cheapest.total()),
            tried.join("; "),
            money(cheapest.total())
        ),
        alternatives: attempts
            .iter()
            .rev()
            .map(|a| Alternative {
                option: a.description.clone(),
                score: share(b.budget.total.min(a.total()), a.total().max(Decimal::ONE)),
                pros: vec![format!("total {}", money(a.total()))],
                cons: vec![format!(
                    "{} over the fixed budget",
                    money(a.total() - b.budget.total)
                )],
            })
            .collect(),
    }
}

/// The chosen plan's line items (venue, transfers, every priced need, then the reserve) and
/// the conversions of those quoted in another currency.
fn line_items(
    s: &Budgeting<'_>,
    transfer: Option<&crate::multisite::TransferQuote>,
    rate_day: chrono::NaiveDate,
) -> (Vec<LineItem>, Vec<LineConversion>) {
    let (venue, chosen, cur) = (s.venue, s.chosen(), s.cur());
    let venue_cost = venue.cost_estimate.amount;
    let mut conversions: Vec<LineConversion> = venue
        .conversion
        .iter()
        .map(|c| LineConversion {
            line_item: LineItemId::nth(1),
            quoted_unit_cost: c.original.clone(),
            converted_unit_cost: cur.round(c.original.amount * c.rate.rate),
            rate: c.rate.clone(),
        })
        .collect();
    let mut lines = vec![LineItem {
        id: LineItemId::nth(1),
        category: BudgetCategory::Venue,
        description: if venue.rentals.is_empty() {
            format!("{} hire", venue.name)
        } else {
            format!("{} hire, with {}", venue.name, venue.rentals.join("; "))
        },
        qty: Decimal::ONE,
        unit_cost: venue_cost,
        total: venue_cost,
        vendor_option: venue.venue_ref.to_string(),
        first_quote: venue_cost,
    }];
    if let Some(t) = transfer {
        lines.push(LineItem {
            id: LineItemId::nth(lines.len() + 1),
            category: t.service.category(),
            description: t.description.clone(),
            qty: t.qty,
            unit_cost: t.unit_cost,
            total: t.total,
            vendor_option: t.supplier_id.clone(),
            first_quote: t.total,
        });
    }
    for x in &chosen.costing.lines {
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
        conversions.extend(line_conversion(s.input, x, cur, rate_day, lines.len()));
    }
    let reserve = chosen.reserve;
    lines.push(LineItem {
        id: LineItemId::nth(lines.len() + 1),
        category: BudgetCategory::Contingency,
        description: format!(
            "Reserve for the risk register's expected loss of {}{}",
            s.money(expected_loss(s.risks)),
            match chosen.risk {
                Some((_, _, p80, _)) => format!(" (P80 cost {})", s.money(p80)),
                None => String::new(),
            }
        ),
        qty: Decimal::ONE,
        unit_cost: reserve,
        total: reserve,
        vendor_option: "reserve".into(),
        first_quote: reserve,
    });
    (lines, conversions)
}

/// The baseline: planned spend by category, the venue keeping its envelope when the limit
/// allows, the reserve, and the rest of the limit unallocated.
fn allocate(
    s: &Budgeting<'_>,
    lines: &[LineItem],
    over_budget: bool,
) -> Result<Allocated, AgentError> {
    let (b, input, limit) = (s.b, s.input, s.limit);
    let reserve = s.chosen().reserve;
    let cost_total = s.chosen().total();
    let mut by_cat: BTreeMap<BudgetCategory, Decimal> = BTreeMap::new();
    for l in lines
        .iter()
        .filter(|l| l.category != BudgetCategory::Contingency)
    {
        *by_cat.entry(l.category).or_default() += l.total;
    }
    let envelope = crate::pricing::venue_envelope(
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
        .min(limit - others - reserve)
        .max(s.venue.cost_estimate.amount);
    by_cat.insert(BudgetCategory::Venue, venue_alloc);
    by_cat.insert(BudgetCategory::Contingency, reserve);
    let baseline_total = if over_budget { cost_total } else { limit };
    let allocated: Decimal = by_cat.values().copied().sum();
    let unallocated = (baseline_total - allocated).max(Decimal::ZERO);
    if unallocated > Decimal::ZERO {
        by_cat.insert(BudgetCategory::Unallocated, unallocated);
    }
    let baseline_total = allocated + unallocated;
    let allocations: Vec<Allocation> = by_cat
        .iter()
        .map(|(c, a)| Allocation {
            category: *c,
            amount: *a,
            share: share(*a, baseline_total),
        })
        .collect();
    Ok(Allocated {
        allocations,
        total: baseline_total,
        unallocated,
        venue: venue_alloc,
    })
}

/// The baseline's assumptions: where prices came from, how the reserve was sized, the
/// re-planning steps taken, unpriced transfers, the approver's cap and a fixed budget.
fn assumptions(
    s: &Budgeting<'_>,
    transfer_unpriced: bool,
    rate_day: chrono::NaiveDate,
) -> Result<Vec<String>, AgentError> {
    let (b, p, venue, cur) = (s.b, s.p, s.venue, s.cur());
    let mut assumptions = vec![
        format!(
            "Prices from {} converted to {cur} at the newest euro reference rates on or before {rate_day} (see the cost model's conversions)",
            s.input.data()?.rates_label
        ),
        format!(
            "Reserve sized to the risk register's expected loss ({}){}",
            s.money(expected_loss(s.risks)),
            if p.monte_carlo_runs > 0 {
                ", at least the simulated P80 overrun"
            } else {
                ""
            }
        ),
    ];
    if s.chosen_at > 0 {
        assumptions.push(format!(
            "Re-planned to fit {}: {}",
            s.money(s.limit),
            s.attempts[1..=s.chosen_at]
                .iter()
                .map(|a| a.description.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        ));
    }
    if venue.sites.len() > 1 && transfer_unpriced {
        assumptions.push(format!(
            "{} sites ({}): {}",
            venue.sites.len(),
            venue.name,
            crate::multisite::TRANSFER_NOT_PRICED
        ));
    }
    if let Some(cap) = s.cap {
        assumptions.push(format!("Approver cap of {} applied", s.money(cap)));
    }
    if s.fixed {
        assumptions.push(format!(
            "The budget of {} is fixed: no plan above it is put up for approval",
            s.money(b.budget.total)
        ));
    }
    Ok(assumptions)
}

/// The approver's cap when the chosen plan does not fit it.
fn cap_missed(s: &Budgeting<'_>) -> Option<Decimal> {
    s.cap.filter(|c| s.chosen().total() > *c)
}

/// The step's summary: spend, reserve and total against the limit, what is unallocated, and
/// why the plan is over or re-planned.
fn summary(s: &Budgeting<'_>, line_items: usize, unallocated: Decimal) -> String {
    let chosen = s.chosen();
    let cost_total = chosen.total();
    let over_budget = cost_total > s.limit;
    format!(
        "Costed {} line items: spend {} + reserve {} = {} against a limit of {}{}{}",
        line_items,
        s.money(chosen.spend),
        s.money(chosen.reserve),
        s.money(cost_total),
        s.money(s.limit),
        if unallocated > Decimal::ZERO {
            format!(", {} unallocated", s.money(unallocated))
        } else {
            String::new()
        },
        match (cap_missed(s), over_budget) {
            (Some(c), _) => format!(
                " (no plan fits the approver's cap of {}: this is the cheapest)",
                s.money(c)
            ),
            (None, true) => " (over budget: approval needed)".into(),
            (None, false) if s.chosen_at > 0 => format!(" (re-planned: {})", chosen.description),
            (None, false) => String::new(),
        }
    )
}

/// The step's rationale: how suppliers were chosen, the venue's envelope, the plans tried, and
/// what the approver decides when the plan is over the cap or the budget.
fn rationale(
    s: &Budgeting<'_>,
    optimisation: Option<&CostOptimisation>,
    venue_alloc: Decimal,
    tried: &[String],
) -> String {
    let cost_total = s.chosen().total();
    let over_budget = cost_total > s.limit;
    format!(
        "{} in {}; the venue keeps an envelope of {}. Plans tried, cheapest last: {}.{}",
        match optimisation {
            Some(o) => format!(
                "Suppliers optimised exactly over {} combination(s){}: {} against first quotes of {} (bound {})",
                o.combinations,
                if o.packages.is_empty() {
                    String::new()
                } else {
                    format!(" using {}", o.packages.join(", "))
                },
                s.money(o.optimised_total),
                s.money(o.first_quote_total),
                s.money(o.lower_bound)
            ),
            None if s.p.optimiser == Optimiser::Cheapest => "Cheapest supplier per service".into(),
            None => "First quote per service".into(),
        },
        s.b.location.city,
        s.money(venue_alloc),
        tried.join("; "),
        match (cap_missed(s), over_budget) {
            (Some(c), _) => format!(
                " No plan fits the approver's cap of {}: the cheapest is put up; approve it or reject with a cap of at least {}.",
                s.money(c),
                s.money(cost_total)
            ),
            (None, true) => " The plan exceeds the budget even in its cheapest form: the approver chooses between more budget and less scope.".into(),
            (None, false) => String::new(),
        }
    )
}

/// The options put to the approver, cheapest first with ids in that order: every plan of the
/// ladder, the most reliable suppliers, and (over budget) a negotiated price. The chosen plan is
/// "Recommended"; "Premium" names the most reliable suppliers only when they cost more than it.
/// Savings are against the full-scope plan as instructed (negative: it costs more). `premium` is
/// what the most reliable supplier per service and the venue cost together, reserve aside.
fn ranked_options(
    attempts: &[Attempt<'_>],
    chosen_at: usize,
    premium: Decimal,
    venue_cost: Decimal,
    over_budget: bool,
) -> Vec<BudgetOption> {
    let first = attempts.first().map_or(Decimal::ZERO, Attempt::total);
    let recommended = attempts
        .get(chosen_at)
        .map_or(Decimal::ZERO, Attempt::total);
    let mut raw: Vec<(String, Decimal)> = attempts
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let lead = if i == chosen_at {
                "Recommended"
            } else if a.total() < recommended {
                "Cheaper"
            } else {
                "Costlier"
            };
            (format!("{lead}: {}", a.description), a.total())
        })
        .collect();
    let reserve = attempts.get(chosen_at).map_or(Decimal::ZERO, |a| a.reserve);
    let premium = premium + reserve;
    raw.push((
        if premium > recommended {
            "Premium: most reliable supplier per service, full scope".into()
        } else {
            "Most reliable supplier per service, full scope (costs no more than the recommended plan)".into()
        },
        premium,
    ));
    if over_budget && let Some(a) = attempts.get(chosen_at) {
        // The venue at its target price (90%) and suppliers 5% lower: a negotiation to try,
        // not a quote.
        let negotiated = (venue_cost * Decimal::new(90, 2)
            + (a.spend - venue_cost) * Decimal::new(95, 2)
            + a.reserve)
            .round_dp(2);
        raw.push((
            "Negotiate (not a quote): venue at its target price (90%), suppliers 5% lower".into(),
            negotiated,
        ));
    }
    // Cheapest first; equal totals keep the ladder's order.
    raw.sort_by_key(|x| x.1);
    raw.into_iter()
        .enumerate()
        .map(|(i, (description, total))| BudgetOption {
            id: OptionId::nth(i + 1),
            description,
            total,
            savings: first - total,
        })
        .collect()
}

/// Seeded Monte Carlo of the total cost: every priced line varies by a triangular factor
/// (−5% / 0 / +15%: overruns are likelier than savings), the venue by ±0/+5%, and each risk of
/// the register strikes with its probability at its cost impact. Returns the sorted outcomes.
fn simulate_costs(
    lines: &Costing<'_>,
    venue: Decimal,
    risks: &RiskRegister,
    runs: u32,
    seed: u64,
) -> Vec<Decimal> {
    let mut rng = crate::rng::SplitMix64::new(seed ^ 0x00b0_d9e7);
    let triangular = |u: f64, lo: f64, mode: f64, hi: f64| {
        let f = (mode - lo) / (hi - lo);
        if u < f {
            lo + ((hi - lo) * (mode - lo) * u).sqrt()
        } else {
            hi - ((hi - lo) * (hi - mode) * (1.0 - u)).sqrt()
        }
    };
    let planned: Vec<f64> = lines
        .lines
        .iter()
        .map(|x| (x.unit * x.need.qty).to_f64().unwrap_or(0.0))
        .collect();
    let venue = venue.to_f64().unwrap_or(0.0);
    let mut out: Vec<Decimal> = (0..runs.max(1))
        .map(|_| {
            let mut total = venue * (1.0 + 0.05 * rng.next_f64());
            for p in &planned {
                total += p * (1.0 + triangular(rng.next_f64(), -0.05, 0.0, 0.15));
            }
            for r in &risks.risks {
                let prob = eods_domain::metrics::probability_fraction(r.probability)
                    .to_f64()
                    .unwrap_or(0.0);
                if rng.next_f64() < prob {
                    total += r.cost_impact.amount.to_f64().unwrap_or(0.0);
                }
            }
            Decimal::from_f64_retain(total)
                .unwrap_or_default()
                .round_dp(2)
        })
        .collect();
    out.sort();
    out
}

/// Cancellation hedges for the commitments that would hurt most: every line above 5% of the
/// limit gets staged deposits and a named fallback.
fn cancellation_hedges(lines: &[LineItem], limit: Decimal, cur: &Currency) -> Vec<String> {
    let threshold = limit * Decimal::new(5, 2);
    lines
        .iter()
        .filter(|l| l.category != BudgetCategory::Contingency && l.total > threshold)
        .map(|l| {
            format!(
                "{} ({}, {}): deposit at most 30% on signing and the rest after the last free-cancellation date; if {} cancels, the contingency reserve pays the backup's premium",
                l.description,
                l.vendor_option,
                Money::new(l.total, cur),
                l.vendor_option
            )
        })
        .collect()
}

/// How line `nth` (a priced need) was converted, when its supplier quotes in another currency.
fn line_conversion(
    input: Inputs<'_>,
    x: &Priced<'_>,
    cur: &Currency,
    day: chrono::NaiveDate,
    nth: usize,
) -> Option<LineConversion> {
    let quoted = x.supplier.price_for(x.need.code, x.need.qty)?;
    let (converted, rate) = input
        .tools
        .convert(quoted, &x.supplier.currency, cur, day)
        .ok()?;
    Some(LineConversion {
        line_item: LineItemId::nth(nth),
        quoted_unit_cost: Money::new(quoted, &x.supplier.currency),
        converted_unit_cost: converted,
        rate: rate?,
    })
}

/// The needs of brief `b` that no supplier of the event's rate cards prices in its city: what
/// a supplier must be asked to quote (none with the demo rate cards, which price everything).
pub fn unpriced_needs(tools: &Tools, data: &EventData, b: &EventBrief) -> Vec<Need> {
    if data.demo_rates {
        return vec![];
    }
    needs(b)
        .into_iter()
        .filter(|n| quotes(tools, &data.rates, b, n).next().is_none())
        .collect()
}

/// The needs no supplier of the organiser's rate cards prices in the brief's city, as raised
/// open items: left out of the costing, to be quoted (the demo rate cards price everything).
fn unpriced(tools: &Tools, data: &EventData, b: &EventBrief) -> Vec<crate::Raised> {
    unpriced_needs(tools, data, b)
        .iter()
        .map(|n| crate::Raised {
            description: format!(
                "not priced: {} ({} `{}`): no rate card in {} has it",
                n.description,
                n.service.as_str(),
                n.code,
                b.location.city
            ),
            rationale: format!(
                "Add a rate-card row (service {}, item {}) or ask a supplier for a quote; the budget leaves it out until then, it does not guess a price.",
                n.service.as_str(),
                n.code
            ),
            owner: "stakeholder-1".into(),
        })
        .collect()
}

fn premium_total(
    tools: &Tools,
    data: &EventData,
    b: &EventBrief,
    needs: &[Need],
    venue: Decimal,
) -> Decimal {
    needs
        .iter()
        .filter_map(|n| {
            quotes(tools, &data.rates, b, n)
                .max_by(|a, c| a.0.reliability.total_cmp(&c.0.reliability))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Package;
    use proptest::prelude::*;

    fn supplier(id: usize) -> Supplier {
        serde_json::from_value(serde_json::json!({
            "id": format!("s{id}"), "name": format!("S{id}"), "service": "catering",
            "cities": ["*"], "currency": "EUR", "contact": "c", "items": [],
            "payment_terms": "30 days", "cancellation_policy": "none", "reliability": 0.9
        }))
        .unwrap()
    }

    /// The cheapest total over every supplier choice, by enumeration (the reference).
    fn brute(costs: &[Vec<u32>], packages: &[Package], ids: &[Vec<String>]) -> Decimal {
        let mut best: Option<Decimal> = None;
        let mut pick = vec![0usize; costs.len()];
        loop {
            let base: Decimal = pick
                .iter()
                .enumerate()
                .map(|(k, &i)| Decimal::from(costs[k][i]))
                .sum();
            let chosen: Vec<&String> = pick.iter().enumerate().map(|(k, &i)| &ids[k][i]).collect();
            let mut off = Decimal::ZERO;
            for p in packages {
                if p.suppliers.iter().all(|s| chosen.contains(&s)) {
                    for (k, &i) in pick.iter().enumerate() {
                        if p.suppliers.contains(&ids[k][i]) {
                            off += Decimal::from(costs[k][i]) * p.discount_percent
                                / Decimal::ONE_HUNDRED;
                        }
                    }
                }
            }
            let t = (base - off).round_dp(2);
            best = Some(best.map_or(t, |b: Decimal| b.min(t)));
            let mut k = 0;
            loop {
                if k == pick.len() {
                    return best.unwrap_or_default();
                }
                pick[k] += 1;
                if pick[k] < costs[k].len() {
                    break;
                }
                pick[k] = 0;
                k += 1;
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// The package decomposition finds the same optimum as trying every choice.
        #[test]
        fn optimiser_matches_enumeration(
            costs in proptest::collection::vec(proptest::collection::vec(100u32..5000, 1..4), 1..5),
            raw_packages in proptest::collection::vec((0usize..12, 0usize..12, 1u32..30), 0..4),
        ) {
            let mut n = 0;
            let suppliers: Vec<Vec<Supplier>> = costs
                .iter()
                .map(|c| c.iter().map(|_| { n += 1; supplier(n) }).collect())
                .collect();
            let ids: Vec<Vec<String>> = suppliers.iter().map(|v| v.iter().map(|s| s.id.clone()).collect()).collect();
            let all: Vec<String> = ids.iter().flatten().cloned().collect();
            let packages: Vec<Package> = raw_packages
                .iter()
                .filter(|(a, b, _)| a % all.len() != b % all.len())
                .enumerate()
                .map(|(i, (a, b, d))| Package {
                    id: format!("p{i}"),
                    name: format!("P{i}"),
                    suppliers: vec![all[a % all.len()].clone(), all[b % all.len()].clone()],
                    discount_percent: Decimal::from(*d),
                })
                .collect();
            let services: Vec<ServiceOptions<'_>> = suppliers
                .iter()
                .zip(&costs)
                .map(|(ss, cs)| ServiceOptions {
                    needs: vec![],
                    first: ss.first(),
                    options: ss.iter().zip(cs).map(|(s, c)| (s, Decimal::from(*c))).collect(),
                })
                .collect();
            let o = optimise(&services, &packages);
            // Packages joining two suppliers of one service can never apply.
            let usable: Vec<Package> = packages
                .iter()
                .filter(|p| {
                    let svc = |id: &String| ids.iter().position(|v| v.contains(id));
                    svc(&p.suppliers[0]) != svc(&p.suppliers[1])
                })
                .cloned()
                .collect();
            prop_assert_eq!(o.total, brute(&costs, &usable, &ids));
            prop_assert_eq!(o.bound, o.total);
        }
    }
}
