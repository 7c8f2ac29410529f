//! The audit trail: ChangeLog and DecisionLog entries, and one AgentTrace per agent step.
//! Both logs are append-only; the engine writes them, never an agent.

use crate::artifact::ArtifactRef;
use crate::catalog::budget::ApprovalRecord;
use crate::ids::{ChangeId, DecisionId};
use crate::instruction::InstructionSetRef;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What kind of change a ChangeLog entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChangeType {
    Created,
    Revised,
    Approved,
    Rejected,
    StateChanged,
    Incident,
}

/// The effect of a change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ChangeImpact {
    pub summary: String,
    /// Change in planned cost caused by this change, if any.
    pub cost_delta: Option<Decimal>,
}

/// One ChangeLog entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ChangeEntry {
    pub id: ChangeId,
    #[serde(rename = "type")]
    pub change_type: ChangeType,
    pub description: String,
    pub at: DateTime<Utc>,
    pub impact: ChangeImpact,
    pub artifacts: Vec<ArtifactRef>,
    pub approvals: Vec<ApprovalRecord>,
    pub actor: String,
    pub correlation_id: String,
}

/// Every change to the event's artifacts, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ChangeLog {
    pub entries: Vec<ChangeEntry>,
}

/// What a decision was about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DecisionType {
    AgentStep,
    StateTransition,
    Approval,
    Escalation,
    ContingencyActivated,
    Revision,
    /// A reminder sent before a task's due date (live events).
    Reminder,
}

/// An alternative that was considered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Alternative {
    pub option: String,
    pub score: f64,
    pub pros: Vec<String>,
    pub cons: Vec<String>,
}

/// One DecisionLog entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DecisionEntry {
    pub id: DecisionId,
    pub decision_type: DecisionType,
    pub description: String,
    pub at: DateTime<Utc>,
    pub owner: String,
    pub rationale: String,
    pub alternatives: Vec<Alternative>,
    /// Set on agent steps: which instruction set decided.
    pub instruction_set: Option<InstructionSetRef>,
    pub approvals: Vec<ApprovalRecord>,
    pub correlation_id: String,
}

/// Every decision, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DecisionLog {
    pub entries: Vec<DecisionEntry>,
}

/// The escalation a blocked run stopped at: the newest `escalation` entry, with why the run
/// stopped (`rationale`) and the ranked ways out (`alternatives`). Shown by the CLI summary,
/// `report.md` and the event page while the run is blocked.
pub fn latest_escalation(entries: &[DecisionEntry]) -> Option<&DecisionEntry> {
    entries
        .iter()
        .rev()
        .find(|e| e.decision_type == DecisionType::Escalation)
}

/// [`latest_escalation`] for showing to a person: its ways out with the event's id in place of
/// the `{id}` of the API paths they name (agents do not know the id).
pub fn ways_out(entries: &[DecisionEntry], event_id: &str) -> Option<DecisionEntry> {
    latest_escalation(entries).map(|e| {
        let mut e = e.clone();
        for a in &mut e.alternatives {
            a.option = a.option.replace("{id}", event_id);
        }
        e
    })
}

impl std::fmt::Display for Alternative {
    /// `option (for: pros; against: cons)`, as one line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.option)?;
        let pros = self.pros.join("; ");
        let cons = self.cons.join("; ");
        match (pros.is_empty(), cons.is_empty()) {
            (true, true) => Ok(()),
            (false, true) => write!(f, " (for: {pros})"),
            (true, false) => write!(f, " (against: {cons})"),
            (false, false) => write!(f, " (for: {pros}; against: {cons})"),
        }
    }
}

/// How an agent step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TraceStatus {
    Succeeded,
    Failed,
}

/// One agent step: what it read, what it wrote, how long it took.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AgentTrace {
    pub step: String,
    pub agent: crate::instruction::AgentKind,
    pub level: crate::instruction::Level,
    pub instruction_set: InstructionSetRef,
    pub inputs: Vec<ArtifactRef>,
    pub outputs: Vec<ArtifactRef>,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub duration_ms: u64,
    pub status: TraceStatus,
    pub error: Option<String>,
    /// The language-model calls the step made, in order (none when no model is configured).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub model_calls: Vec<crate::model::ModelCall>,
    /// What the step gathered from the external venue sources (Research, when the engine has
    /// sources to ask), so a replay needs no network.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gathered: Option<crate::catalog::sources::GatheredVenues>,
}
