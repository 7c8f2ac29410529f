//! No instruction set can crash or hang a run: a parameter outside its bounds is refused when the
//! set is loaded, with a message naming it, and every set that loads plans S-01 to an answer (a
//! plan or a named error), never a panic or an allocation the size of the parameter.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

mod common;

use common::{example, plan_with};
use eods_agents::Step;
use eods_agents::Tools;
use eods_agents::instructions::BUNDLED;
use eods_domain::instruction::Level;
use proptest::prelude::*;
use serde_json::{Value, json};

/// (agent, parameter pointer) of every numeric parameter a set of that agent carries.
const FIELDS: &[(&str, &str)] = &[
    ("event_planner", "/parameters/min_milestones"),
    ("event_planner", "/parameters/min_tasks"),
    ("event_planner", "/parameters/lead_time_days/meetup"),
    ("event_planner", "/parameters/duration_scale/meetup"),
    ("venue_researcher", "/parameters/min_leads"),
    ("venue_researcher", "/parameters/max_leads"),
    ("venue_researcher", "/parameters/shortlist_max"),
    ("venue_researcher", "/parameters/holds"),
    ("venue_researcher", "/parameters/max_capacity_factor"),
    ("budget_analyst", "/parameters/monte_carlo_runs"),
    ("budget_analyst", "/parameters/max_variance_pct"),
    ("logistics_coordinator", "/parameters/break_minutes"),
    ("logistics_coordinator", "/parameters/attendees_per_staff"),
    ("logistics_coordinator", "/parameters/min_workflows"),
    ("logistics_coordinator", "/parameters/node_limit"),
];

/// Loads the bundled sets with `agent`'s Beginner set changed at `pointer` to `value`, and plans
/// S-01 with them when they load. Err: the refusal's message.
fn plan_with_value(agent: &str, pointer: &str, value: Value) -> Result<(), String> {
    let name = format!("{agent}.beginner.json");
    let text = BUNDLED.iter().find(|(f, _)| *f == name).unwrap().1;
    let mut set: Value = serde_json::from_str(text).unwrap();
    *set.pointer_mut(pointer).unwrap() = value;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(&name), set.to_string()).unwrap();
    let tools = Tools::load(Some(dir.path())).map_err(|e| e.to_string())?;
    // A plan or an error that names its reason: both are answers.
    let _ = plan_with(
        &tools,
        example("s01-meetup.json"),
        Level::Beginner,
        &Step::PLANNING,
    );
    Ok(())
}

#[test]
fn the_values_the_audit_found_are_refused_with_the_field_named() {
    for (agent, pointer, value) in [
        (
            "budget_analyst",
            "/parameters/monte_carlo_runs",
            json!(4_294_967_295_u64),
        ),
        (
            "event_planner",
            "/parameters/lead_time_days/meetup",
            json!(4_294_967_295_u64),
        ),
        (
            "logistics_coordinator",
            "/parameters/node_limit",
            json!(u64::MAX),
        ),
        (
            "venue_researcher",
            "/parameters/weights/capacity_fit",
            json!(-0.5),
        ),
        (
            "budget_analyst",
            "/parameters/venue_share/meetup",
            json!("1.5"),
        ),
    ] {
        let refused = plan_with_value(agent, pointer, value).unwrap_err();
        let field = pointer.rsplit('/').nth(1).filter(|p| *p != "parameters");
        let last = pointer.rsplit('/').next().unwrap();
        assert!(
            refused.contains(last) || field.is_some_and(|f| refused.contains(f)),
            "{pointer}: {refused}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    /// Any value of any numeric parameter: refused naming it, or a run that answers.
    #[test]
    fn no_instruction_set_crashes_a_run(
        pick in 0..FIELDS.len(),
        value in prop_oneof![
            Just(0_u64),
            Just(1_u64),
            2_u64..3000,
            Just(100_000_u64),
            Just(u64::from(u32::MAX)),
            Just(u64::MAX),
        ],
    ) {
        let (agent, pointer) = FIELDS[pick];
        match plan_with_value(agent, pointer, json!(value)) {
            Ok(()) => {}
            Err(refused) => {
                let parent = pointer.rsplit('/').nth(1).unwrap();
                let last = pointer.rsplit('/').next().unwrap();
                prop_assert!(
                    refused.contains(last) || refused.contains(parent),
                    "{pointer} = {value}: {refused}"
                );
            }
        }
    }
}
