//! Conflicting constraints (DESIGN §5 error rules): when the brief's dates, venue availability
//! and budget cannot all hold, the run stops with ranked ways out and their trade-offs, and the
//! Event Planner's ranking follows the brief's priorities.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

mod common;

use common::{example, plan_with};
use eods_agents::{AgentError, Step, Tools};
use eods_domain::catalog::brief::Flexibility;
use eods_domain::instruction::Level;

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

/// Over budget (an approver's cap below what the plan costs): the Budget Analyst still costs
/// the plan, proposes it for approval and puts scope, reallocation and negotiation options
/// forward, each cheaper than the plan.
#[test]
fn over_budget_offers_scope_reallocation_and_negotiation_for_approval() {
    use eods_domain::artifact::CatalogType;
    use eods_domain::blackboard::{Blackboard, Current};
    use eods_domain::catalog::budget::{BudgetDecision, BudgetStatus, CostModel};
    let tools = Tools::bundled().unwrap();
    let mut bb = Blackboard::new();
    bb.insert(Current {
        revision: 1,
        created_by: "user:test".into(),
        derived_from: vec![],
        payload: example("s02-conference.json").into_payload(),
    });
    let directives = eods_agents::Directives {
        seed: 7,
        budget_cap: Some(rust_decimal::Decimal::from(20_000)),
        ..eods_agents::Directives::default()
    };
    common::run_on(
        &tools,
        &mut bb,
        Level::Intermediate,
        &directives,
        &[Step::Intake, Step::Plan, Step::Research, Step::Budget],
    )
    .unwrap();
    let cost = bb.get::<CostModel>().unwrap();
    assert!(cost.total > rust_decimal::Decimal::from(20_000));
    let d = bb.get::<BudgetDecision>().unwrap();
    assert_eq!(d.status, BudgetStatus::Proposed, "an approval decides");
    assert_eq!(d.cap, Some(rust_decimal::Decimal::from(20_000)));
    // Scope is cut first: the proposal is the lean plan, and says so.
    let base = bb
        .get::<eods_domain::catalog::budget::BudgetBaseline>()
        .unwrap();
    assert!(
        base.assumptions
            .iter()
            .any(|a| a.starts_with("optional items")),
        "{:?}",
        base.assumptions
    );
    let lean = d
        .options
        .iter()
        .find(|o| o.description.starts_with("Lean:"))
        .unwrap();
    assert_eq!(lean.total, cost.total);
    for prefix in ["Reallocate:", "Negotiate:"] {
        let o = d
            .options
            .iter()
            .find(|o| o.description.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix} option in {:?}", d.options));
        assert!(o.total < cost.total, "{o:?}");
        assert_eq!(o.savings, cost.total - o.total);
    }
}
