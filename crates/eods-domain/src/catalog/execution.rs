//! Execute and Postmortem artifacts: the runbook, incidents and the postmortem report.

use crate::catalog::logistics::IncidentKind;
use crate::catalog::planning::TaskStatus;
use crate::ids::{IncidentId, ScenarioId, StakeholderId, TaskId};
use chrono::{DateTime, FixedOffset, NaiveDate};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Planned and actual progress of one task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RunbookEntry {
    pub task_id: TaskId,
    pub title: String,
    pub owner: StakeholderId,
    pub planned_end: NaiveDate,
    pub status: TaskStatus,
    pub completed_on: Option<NaiveDate>,
    /// Why the task is blocked, or what was noted when its status was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Who recorded the status last (`user:NAME`), when a person did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded_by: Option<String>,
    /// What the task actually cost, in the event's currency, as a person recorded it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actual_cost: Option<rust_decimal::Decimal>,
}

/// The plan turned into a checklist, with actuals from Execute.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Runbook {
    /// Seed of the simulation that drove Execute, if one did.
    pub simulation_seed: Option<u64>,
    pub entries: Vec<RunbookEntry>,
    /// Actual completion date of each milestone.
    pub milestones: Vec<MilestoneActual>,
    pub event_ended: bool,
    /// Planned spend (cost model without contingency) and actual spend, when Execute ran.
    pub spend: Option<Spend>,
    /// Feedback on the event as the organiser entered it (live events, from Execute on).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub feedback: Vec<FeedbackResponse>,
}

/// One answer to the feedback survey: how satisfied a stakeholder or attendee was.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FeedbackResponse {
    /// Who answered (a stakeholder's name, or `attendee`).
    pub respondent: String,
    /// Satisfaction from 1 (very dissatisfied) to 5 (very satisfied).
    #[schemars(range(min = 1, max = 5))]
    pub score: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Who entered it (`user:NAME`).
    pub recorded_by: String,
    pub recorded_on: NaiveDate,
}

/// Planned against actual spend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Spend {
    pub currency: crate::money::Currency,
    pub planned: rust_decimal::Decimal,
    pub actual: rust_decimal::Decimal,
    /// Drawn from the contingency reserve (included in `actual`).
    pub from_reserve: rust_decimal::Decimal,
}

/// When a milestone was actually reached.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MilestoneActual {
    pub milestone_id: crate::ids::MilestoneId,
    pub planned: NaiveDate,
    pub actual: NaiveDate,
}

/// Where an incident stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum IncidentStatus {
    Open,
    Resolved,
    Escalated,
}

/// One incident during the event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Incident {
    pub id: IncidentId,
    pub kind: IncidentKind,
    pub description: String,
    pub detected_at: DateTime<FixedOffset>,
    /// The contingency scenario that fired, if one matched.
    pub scenario_id: Option<ScenarioId>,
    pub response: Vec<String>,
    pub status: IncidentStatus,
    pub resolved_at: Option<DateTime<FixedOffset>>,
    pub resolved_by_contingency: bool,
}

/// Incidents during Execute.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct IncidentLog {
    pub incidents: Vec<Incident>,
}

/// One metric against its target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MetricResult {
    pub name: crate::metrics::MetricName,
    /// The measured value; `null` when not measured (the detail says why).
    pub value: Option<f64>,
    pub target: String,
    /// `null` when not measured or not applicable at this level.
    pub met: Option<bool>,
    pub detail: String,
}

/// Time from request to decision for one approval gate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ApprovalLatency {
    pub gate: crate::lifecycle::ApprovalGate,
    pub seconds: f64,
    pub decisions: u32,
}

/// Plan versus actuals, and what to do better.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Postmortem {
    pub metrics: Vec<MetricResult>,
    pub approval_latency: Vec<ApprovalLatency>,
    pub incidents_total: u32,
    pub incidents_resolved: u32,
    pub insights: Vec<String>,
}
