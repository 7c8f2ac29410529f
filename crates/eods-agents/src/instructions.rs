//! Instruction sets: one versioned JSON file per agent and level (objectives, inputs, outputs,
//! constraints, parameters, error handling), bundled into the binary and checked at load. The
//! parameters are typed per agent; the algorithms read nothing else.

use eods_domain::catalog::brief::EventType;
use eods_domain::catalog::venue::Criterion;
use eods_domain::instruction::{AgentKind, InstructionSetRef, Level};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;

/// One instruction-set file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstructionSet {
    pub agent: AgentKind,
    pub level: Level,
    /// Semver, recorded with every decision this set drives.
    pub version: String,
    pub objectives: Vec<String>,
    pub inputs: Vec<String>,
    pub outputs: Vec<String>,
    pub constraints: Vec<String>,
    pub parameters: serde_json::Value,
    pub error_handling: Vec<String>,
}

impl InstructionSet {
    /// The reference recorded in the DecisionLog and traces.
    pub fn reference(&self) -> InstructionSetRef {
        InstructionSetRef {
            agent: self.agent,
            level: self.level,
            version: self.version.clone(),
        }
    }

    /// The parameters, typed for one agent.
    pub fn params<P: DeserializeOwned>(&self) -> Result<P, InstructionError> {
        serde_json::from_value(self.parameters.clone()).map_err(|e| InstructionError {
            file: file_name(self.agent, self.level),
            message: format!("parameters: {e}"),
        })
    }
}

/// A bad instruction-set file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("instruction set {file}: {message}")]
pub struct InstructionError {
    pub file: String,
    pub message: String,
}

/// Parameters of the Event Planner.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlannerParams {
    pub min_milestones: usize,
    pub min_tasks: usize,
    /// Default planning lead time in days per event type, when the brief gives no planning_start.
    pub lead_time_days: BTreeMap<EventType, u32>,
    /// Multiplier on the task template's durations per event type.
    pub duration_scale: BTreeMap<EventType, f64>,
    /// Plan a communications entry for every stakeholder audience, not only owner and attendees.
    pub comms_all_audiences: bool,
}

/// Parameters of the Venue Researcher.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VenueParams {
    pub min_leads: usize,
    pub max_leads: usize,
    pub shortlist_min: usize,
    pub shortlist_max: usize,
    /// Criterion → weight; must sum to 1.
    pub weights: BTreeMap<Criterion, f64>,
    /// Number of venues to put on hold (best first).
    pub holds: usize,
    /// Largest venue capacity considered, as a multiple of the audience (floor: audience + 40).
    pub max_capacity_factor: f64,
}

/// Parameters of the Budget Analyst.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BudgetParams {
    /// Share of the total held as contingency at least.
    pub reserve_share: Decimal,
    pub max_variance_pct: f64,
    /// A change costing more than this (event currency) re-opens the budget approval.
    pub approval_threshold: Decimal,
    /// Share of the total set aside for the venue, per event type.
    pub venue_share: BTreeMap<EventType, Decimal>,
}

/// Parameters of the Logistics Coordinator.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogisticsParams {
    pub min_workflows: usize,
    /// First session start, local time `HH:MM`, for day events.
    pub day_start: String,
    /// Last session end, local time `HH:MM`, for day events.
    pub day_end: String,
    /// Evening window for meetups.
    pub evening_start: String,
    pub evening_end: String,
    pub break_minutes: u32,
    /// One staff member per this many attendees (at least one).
    pub attendees_per_staff: u32,
}

fn file_name(agent: AgentKind, level: Level) -> String {
    format!("{}.{}.json", agent.as_str(), level.as_str())
}

macro_rules! bundled {
    ($($agent:literal),*) => {
        /// (file name, text) of every bundled instruction set.
        pub const BUNDLED: &[(&str, &str)] = &[
            $(
                (concat!($agent, ".beginner.json"), include_str!(concat!("../instructions/", $agent, ".beginner.json"))),
                (concat!($agent, ".intermediate.json"), include_str!(concat!("../instructions/", $agent, ".intermediate.json"))),
                (concat!($agent, ".advanced.json"), include_str!(concat!("../instructions/", $agent, ".advanced.json"))),
            )*
        ];
    };
}
bundled!(
    "event_planner",
    "venue_researcher",
    "budget_analyst",
    "logistics_coordinator"
);

/// Parses and checks one instruction-set file; `expected` is the (agent, level) its name promises.
pub fn parse_instruction_set(
    file: &str,
    text: &str,
    expected: Option<(AgentKind, Level)>,
) -> Result<InstructionSet, InstructionError> {
    let err = |message: String| InstructionError {
        file: file.into(),
        message,
    };
    let set: InstructionSet = serde_json::from_str(text).map_err(|e| err(e.to_string()))?;
    if let Some((agent, level)) = expected
        && (set.agent != agent || set.level != level)
    {
        return Err(err(format!(
            "declares {} {} but is filed as {} {}",
            set.agent, set.level, agent, level
        )));
    }
    let parts: Vec<&str> = set.version.split('.').collect();
    if parts.len() != 3 || parts.iter().any(|p| p.parse::<u32>().is_err()) {
        return Err(err(format!(
            "version: `{}` is not semver (MAJOR.MINOR.PATCH)",
            set.version
        )));
    }
    for (name, list) in [("objectives", &set.objectives), ("outputs", &set.outputs)] {
        if list.is_empty() {
            return Err(err(format!("{name}: must list at least one entry")));
        }
    }
    match set.agent {
        AgentKind::EventPlanner => {
            let p: PlannerParams = set.params()?;
            if p.min_milestones == 0 || p.min_tasks == 0 {
                return Err(err(
                    "parameters.min_milestones and min_tasks must be at least 1".into(),
                ));
            }
        }
        AgentKind::VenueResearcher => {
            let p: VenueParams = set.params()?;
            let sum: f64 = p.weights.values().sum();
            if (sum - 1.0).abs() > 1e-9 {
                return Err(err(format!("parameters.weights sum to {sum}, not 1")));
            }
            if p.shortlist_min < 3 || p.shortlist_max < p.shortlist_min || p.max_leads < p.min_leads
            {
                return Err(err("parameters: need shortlist_min ≥ 3, shortlist_max ≥ shortlist_min, max_leads ≥ min_leads".into()));
            }
        }
        AgentKind::BudgetAnalyst => {
            let p: BudgetParams = set.params()?;
            if p.reserve_share < Decimal::ZERO || p.reserve_share >= Decimal::ONE {
                return Err(err("parameters.reserve_share must lie within 0..1".into()));
            }
        }
        AgentKind::LogisticsCoordinator => {
            let p: LogisticsParams = set.params()?;
            for (name, v) in [
                ("day_start", &p.day_start),
                ("day_end", &p.day_end),
                ("evening_start", &p.evening_start),
                ("evening_end", &p.evening_end),
            ] {
                if chrono::NaiveTime::parse_from_str(v, "%H:%M").is_err() {
                    return Err(err(format!("parameters.{name}: `{v}` is not a time HH:MM")));
                }
            }
            if p.attendees_per_staff == 0 {
                return Err(err(
                    "parameters.attendees_per_staff must be at least 1".into()
                ));
            }
        }
    }
    Ok(set)
}

/// All twelve bundled instruction sets, checked.
#[derive(Debug, Clone)]
pub struct InstructionLibrary {
    sets: BTreeMap<(AgentKind, Level), InstructionSet>,
}

impl InstructionLibrary {
    /// Loads and checks the bundled sets.
    pub fn bundled() -> Result<InstructionLibrary, InstructionError> {
        let mut sets = BTreeMap::new();
        for agent in AgentKind::ALL {
            for level in [Level::Beginner, Level::Intermediate, Level::Advanced] {
                let name = file_name(agent, level);
                let text = BUNDLED
                    .iter()
                    .find(|(f, _)| *f == name)
                    .map(|(_, t)| *t)
                    .ok_or_else(|| InstructionError {
                        file: name.clone(),
                        message: "not bundled".into(),
                    })?;
                sets.insert(
                    (agent, level),
                    parse_instruction_set(&name, text, Some((agent, level)))?,
                );
            }
        }
        Ok(InstructionLibrary { sets })
    }

    /// The set of one agent at one level.
    pub fn get(&self, agent: AgentKind, level: Level) -> Result<&InstructionSet, InstructionError> {
        self.sets
            .get(&(agent, level))
            .ok_or_else(|| InstructionError {
                file: file_name(agent, level),
                message: "not loaded".into(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_sets_load() {
        let lib = InstructionLibrary::bundled().unwrap();
        let v: VenueParams = lib
            .get(AgentKind::VenueResearcher, Level::Advanced)
            .unwrap()
            .params()
            .unwrap();
        assert!(v.holds >= 2);
    }

    #[test]
    fn bad_sets_are_refused_with_the_field() {
        let (_, text) = BUNDLED[0];
        let cases = [
            (
                text.replace("\"version\": \"1.0.0\"", "\"version\": \"one\""),
                "version: `one` is not semver",
            ),
            (
                text.replace("\"min_tasks\"", "\"min_taskz\""),
                "unknown field `min_taskz`",
            ),
            (
                text.replace("\"beginner\"", "\"expert\""),
                "unknown variant `expert`",
            ),
        ];
        for (input, expect) in cases {
            let e = parse_instruction_set(
                "x.json",
                &input,
                Some((AgentKind::EventPlanner, Level::Beginner)),
            )
            .unwrap_err();
            assert!(e.to_string().contains(expect), "{e}");
        }
        let e = parse_instruction_set(
            "x.json",
            text,
            Some((AgentKind::EventPlanner, Level::Advanced)),
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("filed as event_planner advanced"),
            "{e}"
        );
    }
}
