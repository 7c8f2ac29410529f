//! Agent kinds, instruction levels and the reference to a versioned instruction set that every
//! agent step records. Loading and checking instruction-set files is `eods-agents`' job.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The four specialist agents.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum AgentKind {
    EventPlanner,
    VenueResearcher,
    BudgetAnalyst,
    LogisticsCoordinator,
}

impl AgentKind {
    /// Every agent, in lifecycle order.
    pub const ALL: [AgentKind; 4] = [
        AgentKind::EventPlanner,
        AgentKind::VenueResearcher,
        AgentKind::BudgetAnalyst,
        AgentKind::LogisticsCoordinator,
    ];

    /// The snake_case name, as in JSON and file names.
    pub fn as_str(self) -> &'static str {
        match self {
            AgentKind::EventPlanner => "event_planner",
            AgentKind::VenueResearcher => "venue_researcher",
            AgentKind::BudgetAnalyst => "budget_analyst",
            AgentKind::LogisticsCoordinator => "logistics_coordinator",
        }
    }
}

impl fmt::Display for AgentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How much an agent does (DESIGN §5).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Beginner,
    Intermediate,
    Advanced,
}

impl Level {
    /// Every level as written in JSON and on the command line.
    pub const ALL: [&'static str; 3] = ["beginner", "intermediate", "advanced"];

    /// The default level for an audience: <50 Beginner, <300 Intermediate, else Advanced.
    pub fn for_audience(audience_size: u32) -> Level {
        match audience_size {
            0..50 => Level::Beginner,
            50..300 => Level::Intermediate,
            _ => Level::Advanced,
        }
    }

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Beginner => "beginner",
            Level::Intermediate => "intermediate",
            Level::Advanced => "advanced",
        }
    }

    /// Parses a level name; the error names the allowed values.
    pub fn parse(s: &str) -> Result<Level, String> {
        match s {
            "beginner" => Ok(Level::Beginner),
            "intermediate" => Ok(Level::Intermediate),
            "advanced" => Ok(Level::Advanced),
            other => Err(format!(
                "unknown level `{other}`: allowed values are {}",
                Level::ALL.join(", ")
            )),
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which instruction set an agent step followed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub struct InstructionSetRef {
    pub agent: AgentKind,
    pub level: Level,
    /// Semver of the instruction-set file.
    pub version: String,
    /// SHA-256 of the file's bytes (hex): which exact text decided.
    pub hash: String,
}
