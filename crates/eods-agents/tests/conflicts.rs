//! Conflicting constraints (DESIGN §5 error rules): when the brief's dates, venue availability
//! and budget cannot all hold, the run stops with ranked ways out and their trade-offs, and the
//! Event Planner's ranking follows the brief's priorities.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

mod common;

use common::{example, plan_with};
use eods_agents::{AgentError, Step, Tools};
use eods_domain::catalog::brief::{EventBrief, Flexibility};
use eods_domain::catalog::budget::{
    BudgetBaseline, BudgetCategory, BudgetDecision, BudgetStatus, CostModel, figures,
};
use eods_domain::catalog::planning::RiskRegister;
use eods_domain::instruction::Level;
use eods_domain::metrics::expected_loss;
use rust_decimal::Decimal;

/// Tools whose Amsterdam venues that S-02 could afford are all booked on its dates.
fn booked_tools() -> (Tools, Vec<chrono::NaiveDate>) {
    let brief = example("s02-conference.json");
    let days: Vec<chrono::NaiveDate> = brief.event_days();
    let mut tools = Tools::bundled().unwrap();
    let ok = plan_with(
        &tools,
        brief.clone(),
        Level::Intermediate,
        &[Step::Intake, Step::Plan, Step::Research],
    )
    .unwrap();
    let shortlist = ok
        .get::<eods_domain::catalog::venue::VenueShortlist>()
        .unwrap();
    assert!(shortlist.candidates.len() >= 3);
    // Book every venue of the city on the event's days, so no date-free shortlist exists.
    for v in tools
        .catalog
        .venues
        .iter_mut()
        .filter(|v| v.city == "Amsterdam")
    {
        v.unavailable_dates.extend(days.iter().copied());
    }
    (tools, days)
}

fn blocked(tools: &Tools, flexibility: Flexibility, total: u64) -> (String, Vec<(String, f64)>) {
    let mut brief = example("s02-conference.json");
    brief.budget.flexibility = flexibility;
    brief.budget.total = total.into();
    match plan_with(
        tools,
        brief,
        Level::Intermediate,
        &[Step::Intake, Step::Plan, Step::Research],
    ) {
        Err(AgentError::Infeasible {
            reason,
            alternatives,
        }) => (
            reason,
            alternatives
                .into_iter()
                .map(|a| {
                    assert!(!a.pros.is_empty() && !a.cons.is_empty(), "{a:?}");
                    (a.option, a.score)
                })
                .collect(),
        ),
        other => panic!("expected a conflict, got {:?}", other.map(|_| ())),
    }
}

#[test]
fn booked_dates_give_ranked_date_and_city_options() {
    let (tools, days) = booked_tools();
    let (reason, options) = blocked(&tools, Flexibility::Variable, 50_000);
    assert!(reason.contains("fit the venue budget"), "{reason}");
    // Ranked best first.
    assert!(options.windows(2).all(|w| w[0].1 >= w[1].1), "{options:?}");
    // Every venue is booked on the dates, so money cannot help: moving the dates is first and
    // names dates a week away (the catalog's bookings are scattered over the year).
    let first = &options[0].0;
    assert!(first.starts_with("Move the event to "), "{options:?}");
    let moved =
        chrono::NaiveDate::parse_from_str(&first["Move the event to ".len()..][..10], "%Y-%m-%d")
            .unwrap();
    assert_eq!((moved - days[0]).num_days().abs() % 7, 0);
    assert!(
        !options
            .iter()
            .any(|o| o.0.starts_with("Raise the venue budget"))
    );
    assert!(
        options
            .iter()
            .any(|o| o.0.starts_with("Hold the event in "))
    );
}

#[test]
fn the_planner_prefers_a_small_raise_of_a_variable_budget_and_never_of_a_fixed_one() {
    // The real catalog: a budget a little short of the third venue.
    let tools = Tools::bundled().unwrap();
    let (_, variable) = blocked(&tools, Flexibility::Variable, 29_000);
    assert!(
        variable[0].0.starts_with("Raise the venue budget to "),
        "{variable:?}"
    );
    let (_, fixed) = blocked(&tools, Flexibility::Fixed, 29_000);
    assert!(
        !fixed[0].0.starts_with("Raise the venue budget to "),
        "{fixed:?}"
    );
    let raise = |o: &[(String, f64)]| o.iter().position(|x| x.0.starts_with("Raise")).unwrap();
    assert!(raise(&fixed) > raise(&variable));
}

/// Runs the Budget step on `bb` with `directives`; the decision, cost model and baseline.
fn budget_on(
    bb: &mut eods_domain::blackboard::Blackboard,
    level: Level,
    directives: &eods_agents::Directives,
) -> Result<(BudgetDecision, CostModel, BudgetBaseline, String), AgentError> {
    let tools = Tools::bundled().unwrap();
    let out = common::run_on(&tools, bb, level, directives, &[Step::Budget])?;
    Ok((
        bb.get::<BudgetDecision>().unwrap().clone(),
        bb.get::<CostModel>().unwrap().clone(),
        bb.get::<BudgetBaseline>().unwrap().clone(),
        out[0].summary.clone(),
    ))
}

/// The brief on `bb` with another budget.
fn with_budget(bb: &mut eods_domain::blackboard::Blackboard, total: u32, flexibility: Flexibility) {
    use eods_domain::artifact::CatalogType;
    let mut brief = bb.get::<EventBrief>().unwrap().clone();
    brief.budget.total = Decimal::from(total);
    brief.budget.flexibility = flexibility;
    bb.insert(eods_domain::blackboard::Current {
        revision: 2,
        created_by: "user:test".into(),
        derived_from: vec![],
        payload: brief.into_payload(),
    });
}

/// What every proposal holds to: lines and allocations add up, the reserve is the risk
/// register's expected loss at least (90% of it at the floor), the reserve line is the
/// baseline's reserve, the rest is unallocated, and the options are ranked cheapest first with
/// the proposal among them.
fn check_proposal(d: &BudgetDecision, cost: &CostModel, base: &BudgetBaseline, loss: Decimal) {
    let lines: Decimal = cost.line_items.iter().map(|l| l.total).sum();
    assert_eq!(lines, cost.total);
    assert_eq!(d.approved_total, cost.total);
    let allocated: Decimal = base.allocations.iter().map(|a| a.amount).sum();
    assert_eq!(allocated, base.total);
    let reserve_line: Decimal = cost
        .line_items
        .iter()
        .filter(|l| l.category == BudgetCategory::Contingency)
        .map(|l| l.total)
        .sum();
    assert_eq!(reserve_line, base.reserve);
    assert!(
        base.reserve >= (loss * Decimal::new(90, 2)).round_dp(2),
        "{} vs {loss}",
        base.reserve
    );
    let f = figures(base, Some(cost));
    assert_eq!(f.planned_total, cost.total);
    assert_eq!(f.spend + f.reserve, cost.total);
    if cost.total <= base.total {
        assert_eq!(
            f.unallocated,
            base.total - allocated_without_unallocated(base)
        );
    }
    assert!(
        d.options.windows(2).all(|w| w[0].total <= w[1].total),
        "{:?}",
        d.options
    );
    let selected = d
        .options
        .iter()
        .find(|o| o.id == d.selected_option_id)
        .unwrap();
    assert!(
        selected.description.starts_with("Recommended:"),
        "{selected:?}"
    );
    assert_eq!(selected.total, cost.total);
}

fn allocated_without_unallocated(base: &BudgetBaseline) -> Decimal {
    base.allocations
        .iter()
        .filter(|a| a.category != BudgetCategory::Unallocated)
        .map(|a| a.amount)
        .sum()
}

/// A `fixed` total is never exceeded by a proposal, at every level and over a table of totals
/// (S-01's 500 EUR, 1,500 and ever smaller ones); where no plan fits, the step blocks with the
/// plans it tried, cheapest first, and says which brief field to change.
#[test]
fn a_fixed_total_is_never_exceeded_and_blocks_with_ranked_plans_when_nothing_fits() {
    for level in [Level::Beginner, Level::Intermediate, Level::Advanced] {
        let researched = common::plan_at(
            example("s01-meetup.json"),
            level,
            &[Step::Intake, Step::Plan, Step::Research],
        )
        .unwrap();
        let loss = expected_loss(researched.get::<RiskRegister>().unwrap());
        let mut fitted = Vec::new();
        let mut blocked = Vec::new();
        for total in [1500, 500, 400, 300, 250, 200, 150, 100, 50, 10] {
            let mut bb = researched.clone();
            with_budget(&mut bb, total, Flexibility::Fixed);
            let directives = eods_agents::Directives {
                seed: 7,
                ..eods_agents::Directives::default()
            };
            match budget_on(&mut bb, level, &directives) {
                Ok((d, cost, base, _)) => {
                    assert!(
                        cost.total <= Decimal::from(total),
                        "{level:?} {total}: {}",
                        cost.total
                    );
                    assert_eq!(base.total, Decimal::from(total));
                    check_proposal(&d, &cost, &base, loss);
                    fitted.push(total);
                }
                Err(AgentError::Infeasible {
                    reason,
                    alternatives,
                }) => {
                    assert!(
                        reason.contains("/budget/total") && reason.contains("fixed budget"),
                        "{reason}"
                    );
                    assert!(!alternatives.is_empty());
                    let totals: Vec<Decimal> = alternatives
                        .iter()
                        .map(|a| {
                            a.pros[0]
                                .trim_start_matches("total ")
                                .trim_end_matches(" EUR")
                                .parse()
                                .unwrap()
                        })
                        .collect();
                    assert!(
                        totals.windows(2).all(|w| w[0] <= w[1]),
                        "cheapest first: {totals:?}"
                    );
                    assert!(totals[0] > Decimal::from(total));
                    blocked.push(total);
                }
                Err(other) => panic!("{level:?} {total}: {other}"),
            }
        }
        assert!(
            fitted.contains(&500) && fitted.contains(&1500),
            "{level:?}: {fitted:?}"
        );
        assert!(blocked.contains(&10), "{level:?}: {blocked:?}");
        // Fitting is monotone: a larger total never blocks where a smaller one fits.
        assert!(
            blocked.iter().all(|b| fitted.iter().all(|f| f > b)),
            "{fitted:?} {blocked:?}"
        );
    }
}

/// An approver's cap: within reach, the revision fits it by walking the ladder (each step named
/// in the baseline's assumptions); out of reach, the cheapest plan is put up and says so, with
/// the options ranked cheapest first and a negotiation to try.
#[test]
fn an_approvers_cap_is_met_by_replanning_or_explained_when_out_of_reach() {
    let level = Level::Intermediate;
    let researched = common::plan_at(
        example("s02-conference.json"),
        level,
        &[Step::Intake, Step::Plan, Step::Research],
    )
    .unwrap();
    let loss = expected_loss(researched.get::<RiskRegister>().unwrap());
    let plain = eods_agents::Directives {
        seed: 7,
        ..eods_agents::Directives::default()
    };
    let (d, cost, base, _) = budget_on(&mut researched.clone(), level, &plain).unwrap();
    check_proposal(&d, &cost, &base, loss);
    let cheaper: Vec<Decimal> = d
        .options
        .iter()
        .filter(|o| o.description.starts_with("Cheaper:"))
        .map(|o| o.total)
        .collect();
    assert!(!cheaper.is_empty(), "{:?}", d.options);

    // Within reach: every cheaper plan of the ladder, as a cap, is met.
    for cap in cheaper.iter().copied() {
        let directives = eods_agents::Directives {
            budget_cap: Some(cap),
            ..plain.clone()
        };
        let (d2, cost2, base2, summary) =
            budget_on(&mut researched.clone(), level, &directives).unwrap();
        assert!(cost2.total <= cap, "{} > cap {cap}: {summary}", cost2.total);
        assert_eq!(d2.cap, Some(cap));
        assert!(
            base2
                .assumptions
                .iter()
                .any(|a| a.starts_with("Re-planned to fit")),
            "{:?}",
            base2.assumptions
        );
        check_proposal(&d2, &cost2, &base2, loss);
    }

    // Out of reach: the cheapest plan, explained.
    let cap = Decimal::from(1000);
    let directives = eods_agents::Directives {
        budget_cap: Some(cap),
        ..plain.clone()
    };
    let (d3, cost3, base3, summary) =
        budget_on(&mut researched.clone(), level, &directives).unwrap();
    assert!(cost3.total > cap);
    assert!(
        summary.contains("no plan fits the approver's cap"),
        "{summary}"
    );
    assert_eq!(d3.status, BudgetStatus::Proposed, "an approval decides");
    let min_ladder = d3
        .options
        .iter()
        .filter(|o| {
            o.description.starts_with("Cheaper:") || o.description.starts_with("Recommended:")
        })
        .map(|o| o.total)
        .min()
        .unwrap();
    assert_eq!(
        cost3.total, min_ladder,
        "the cheapest plan of the ladder is proposed"
    );
    assert!(
        d3.options
            .iter()
            .any(|o| o.description.starts_with("Negotiate"))
    );
    check_proposal(&d3, &cost3, &base3, loss);
}
