//! The options of a run, chosen when the event is submitted and stored with it, so a resumed
//! run behaves the same. Typed here once: the store reads and writes them as this type, and a
//! stored value that does not parse is reported as corrupt, never replaced by defaults.

use crate::catalog::logistics::{Injection, Resolution};
use crate::instruction::Level;
use serde::{Deserialize, Serialize};

/// Options of a run, stored with the event so a resumed run behaves the same.
/// A field missing from a stored value (written by an older version) takes its default; a field
/// of the wrong type is an error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RunOptions {
    /// Instruction level; default from the audience size.
    pub level: Option<Level>,
    /// Seed of the Execute simulation.
    pub seed: u64,
    /// Incidents to inject during Execute (simulated), or reported by people (live).
    pub incidents: Vec<Injection>,
    /// How people resolved the incidents of a live event, in the order recorded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resolutions: Vec<Resolution>,
    /// Hours an approval request stays open before it escalates.
    pub approval_deadline_hours: u32,
    /// Overrides `approval_deadline_hours` with a deadline in seconds (short deadlines in drills
    /// and tests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_deadline_seconds: Option<u32>,
    /// The correlation id of the request that created the event; a run's entries carry it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
    /// Approvals needed per request (quorum), at least 1.
    #[serde(default = "one")]
    pub required_approvals: u32,
    /// Who submitted the brief (`user:<name>`).
    pub submitted_by: String,
    /// How approvals are given: `auto` or `prompt` (recorded for resume).
    pub approve: String,
    /// Plan an event whose first day is already past (a record or a rehearsal); refused otherwise.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_past: bool,
    /// What happens after Confirm: a simulated Execute and postmortem at once, or the real
    /// calendar. Events stored before modes existed were simulated.
    #[serde(default)]
    pub mode: RunMode,
    /// The day the event was submitted, in its zone: planning never starts before it. Set by
    /// the engine at submission; absent on events stored before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub planned_from: Option<chrono::NaiveDate>,
}

/// What a run does after Confirm.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunMode {
    /// Execute and the postmortem are a seeded simulation played straight after Confirm: a
    /// rehearsal of the plan. Every output that comes from it says "simulated".
    #[default]
    Simulate,
    /// The event follows the real calendar: after Confirm the run waits until the event starts,
    /// Execute records what people report, and the postmortem runs after the event ends.
    Live,
}

impl RunMode {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            RunMode::Simulate => "simulate",
            RunMode::Live => "live",
        }
    }
}

fn one() -> u32 {
    1
}

impl RunOptions {
    /// How long an approval request stays open.
    pub fn approval_deadline(&self) -> chrono::Duration {
        match self.approval_deadline_seconds {
            Some(s) => chrono::Duration::seconds(i64::from(s)),
            None => chrono::Duration::hours(i64::from(self.approval_deadline_hours)),
        }
    }
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            level: None,
            seed: 42,
            incidents: vec![],
            resolutions: vec![],
            approval_deadline_hours: 48,
            approval_deadline_seconds: None,
            required_approvals: 1,
            correlation_id: None,
            submitted_by: "user:cli".into(),
            approve: "auto".into(),
            allow_past: false,
            mode: RunMode::Simulate,
            planned_from: None,
        }
    }
}
