//! Event Planner artifacts: requirements, stakeholders, timeline, tasks, risks, communications.

use crate::catalog::brief::StakeholderRole;
use crate::ids::{CommId, MilestoneId, PhaseId, RequirementId, RiskId, StakeholderId, TaskId};
use crate::money::Money;
use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One requirement derived from the brief.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Requirement {
    pub id: RequirementId,
    pub description: String,
    /// Where it came from (`brief.objectives[0]`, `brief.audience_size`, …).
    pub source: String,
    /// For a requirement read from a brief text: what the constraint recogniser understood it
    /// as, in plain words ("sessions only between 19:00 and 21:00").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub understood_as: Vec<String>,
    /// For a brief text (or a clause of it) the recogniser did not understand: which structured
    /// brief field to use instead. Such texts are not honoured by the agents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_understood: Option<String>,
}

impl Requirements {
    /// Every requirement whose brief text was not understood, in the artifact's order.
    pub fn not_understood(&self) -> Vec<&Requirement> {
        self.functional
            .iter()
            .chain(&self.nonfunctional)
            .chain(&self.must_have)
            .chain(&self.nice_to_have)
            .filter(|r| r.not_understood.is_some())
            .collect()
    }
}

/// What the event must do, grouped by kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Requirements {
    pub functional: Vec<Requirement>,
    pub nonfunctional: Vec<Requirement>,
    pub must_have: Vec<Requirement>,
    pub nice_to_have: Vec<Requirement>,
}

/// A decision a stakeholder may take.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum DecisionRight {
    VenueSelection,
    BudgetDecision,
    VendorContracts,
    Program,
    Communications,
}

/// One stakeholder with contact and rights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Stakeholder {
    pub id: StakeholderId,
    pub name: String,
    pub role: StakeholderRole,
    pub contact: String,
    pub decision_rights: Vec<DecisionRight>,
    /// Stakeholders this one stands in for when they do not answer.
    pub backup_for: Vec<StakeholderId>,
}

/// Who is involved and what they may decide.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StakeholderMap {
    pub stakeholders: Vec<Stakeholder>,
}

/// A planning phase.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Phase {
    pub id: PhaseId,
    pub name: String,
    pub start: NaiveDate,
    pub end: NaiveDate,
}

/// A milestone: a date by which a group of tasks is done.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Milestone {
    pub id: MilestoneId,
    pub name: String,
    pub date: NaiveDate,
    pub depends_on: Vec<MilestoneId>,
}

/// A finish-to-start dependency between two tasks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Dependency {
    pub from: TaskId,
    pub to: TaskId,
}

/// Phases, milestones and the critical path of the plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Timeline {
    pub plan_start: NaiveDate,
    pub phases: Vec<Phase>,
    pub milestones: Vec<Milestone>,
    pub dependencies: Vec<Dependency>,
    /// Task ids with zero slack, in execution order.
    pub critical_path: Vec<TaskId>,
    pub project_end: NaiveDate,
    /// How task starts were levelled within their slack (Advanced); absent when every task
    /// starts at its early start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_levelling: Option<ResourceLevelling>,
}

/// Resource levelling of the task plan: each owner's daily load before and after.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ResourceLevelling {
    /// The method used (`serial schedule generation within slack`).
    pub method: String,
    /// Daily capacity of one owner (1.0 = one full-time person).
    pub capacity: f64,
    pub resources: Vec<ResourceLoad>,
    /// Tasks started later than their early start, and by how many days.
    pub shifted: Vec<TaskShift>,
}

/// One owner's peak daily load and overloaded days, before and after levelling.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ResourceLoad {
    pub stakeholder_id: StakeholderId,
    pub peak_before: f64,
    pub peak_after: f64,
    pub overloaded_days_before: u32,
    pub overloaded_days_after: u32,
}

/// A task moved into its slack by levelling.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TaskShift {
    pub task_id: TaskId,
    pub days: u32,
}

/// Progress of a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    NotStarted,
    InProgress,
    Done,
    Blocked,
}

/// One task of the plan. `duration` and `slack` are whole days (`P5D`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Task {
    pub id: TaskId,
    pub title: String,
    pub owner: StakeholderId,
    pub status: TaskStatus,
    pub start: NaiveDate,
    /// Last working day of the task (inclusive): `end = start + duration - 1 day`.
    pub end: NaiveDate,
    pub duration: Days,
    pub depends_on: Vec<TaskId>,
    pub milestone_id: MilestoneId,
    pub slack: Days,
}

/// Every task of the plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TaskRegister {
    pub tasks: Vec<Task>,
}

/// A whole number of days, written as an ISO 8601 duration (`P5D`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(try_from = "String", into = "String")]
#[schemars(with = "DaysSchema")]
pub struct Days(pub u32);

#[derive(JsonSchema)]
#[schemars(transparent)]
#[allow(dead_code)]
struct DaysSchema(#[schemars(regex(pattern = r"^P[0-9]+[DW]$"))] String);

impl TryFrom<String> for Days {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        let bad =
            || format!("`{s}` is not a duration in days: write it as ISO 8601, e.g. P5D or P2W");
        let body = s.strip_prefix('P').ok_or_else(bad)?;
        let (num, unit) = body.split_at(body.len().saturating_sub(1));
        let n: u32 = num.parse().map_err(|_| bad())?;
        match unit {
            "D" => Ok(Days(n)),
            "W" => n.checked_mul(7).map(Days).ok_or_else(bad),
            _ => Err(bad()),
        }
    }
}

impl From<Days> for String {
    fn from(d: Days) -> Self {
        format!("P{}D", d.0)
    }
}

/// Risk category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RiskCategory {
    Venue,
    Vendor,
    Budget,
    Schedule,
    Attendance,
    Safety,
    Weather,
    Technology,
    People,
}

/// Whether a risk is still live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RiskStatus {
    Open,
    Mitigated,
    Occurred,
    Closed,
}

/// One risk, rated probability × impact on 1–5 scales.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Risk {
    pub id: RiskId,
    pub description: String,
    pub category: RiskCategory,
    #[schemars(range(min = 1, max = 5))]
    pub probability: u8,
    #[schemars(range(min = 1, max = 5))]
    pub impact: u8,
    /// probability × impact (1–25); 8 or more is a high risk.
    pub rating: u8,
    pub cost_impact: Money,
    pub owner: StakeholderId,
    pub mitigation: Vec<String>,
    pub status: RiskStatus,
}

impl Risk {
    /// Ratings at or above this are high risks: they need a mitigation and a contingency scenario.
    pub const HIGH_RATING: u8 = 8;

    /// Whether this risk is high (rating ≥ 8).
    pub fn is_high(&self) -> bool {
        self.rating >= Self::HIGH_RATING
    }
}

/// Every identified risk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RiskRegister {
    pub risks: Vec<Risk>,
    pub rating_method: String,
}

/// How a message reaches its audience.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Email,
    Chat,
    Website,
    Meeting,
    Phone,
    Sms,
}

/// One line of the communications plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CommunicationEntry {
    pub id: CommId,
    pub audience: String,
    pub channel: Channel,
    pub cadence: String,
    pub message: String,
    pub owner: StakeholderId,
}

/// Who hears what, when, and who to escalate to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CommunicationsPlan {
    pub entries: Vec<CommunicationEntry>,
    /// Stakeholders to escalate to, in order.
    pub escalation_path: Vec<StakeholderId>,
}
