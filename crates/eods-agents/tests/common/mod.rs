//! Shared by the agent tests: run steps in order on a blackboard, as the engine would.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use eods_agents::{AgentError, Directives, Step, StepInput, Tools, run_step};
use eods_domain::artifact::CatalogType;
use eods_domain::blackboard::{Blackboard, Current};
use eods_domain::catalog::brief::EventBrief;
use eods_domain::instruction::Level;

/// Reads a brief from `examples/`.
pub fn example(name: &str) -> EventBrief {
    let text = std::fs::read_to_string(format!(
        "{}/../../examples/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    eods_domain::intake::parse_brief(&text).unwrap()
}

/// Runs the steps in order at `level` and returns the blackboard, or the first step's error.
pub fn plan_at(brief: EventBrief, level: Level, steps: &[Step]) -> Result<Blackboard, AgentError> {
    plan_with(&Tools::bundled().unwrap(), brief, level, steps)
}

/// As [`plan_at`], with the given tools (data and instruction sets).
pub fn plan_with(
    tools: &Tools,
    brief: EventBrief,
    level: Level,
    steps: &[Step],
) -> Result<Blackboard, AgentError> {
    let directives = Directives {
        seed: 7,
        ..Directives::default()
    };
    let mut bb = Blackboard::new();
    bb.insert(Current {
        revision: 1,
        created_by: "user:test".into(),
        derived_from: vec![],
        payload: brief.into_payload(),
    });
    run_on(tools, &mut bb, level, &directives, steps)?;
    Ok(bb)
}

/// Runs the steps on an existing blackboard with the given directives; returns each step's
/// output summary and raised mitigations.
pub fn run_on(
    tools: &Tools,
    bb: &mut Blackboard,
    level: Level,
    directives: &Directives,
    steps: &[Step],
) -> Result<Vec<eods_agents::StepOutput>, AgentError> {
    let mut outputs = Vec::new();
    for step in steps {
        let data = eods_agents::sources::EventData::of(tools, bb, None);
        let out = run_step(
            *step,
            StepInput {
                blackboard: bb,
                level,
                tools,
                directives,
                data: &data,
            },
        )?;
        eods_agents::record(bb, *step, out.artifacts.clone());
        outputs.push(out);
    }
    Ok(outputs)
}
