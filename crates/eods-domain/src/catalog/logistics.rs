//! Logistics Coordinator artifacts: plan, schedule, roster, contingency, vendor contracts.

use crate::ids::{
    ResourceId, RiskId, RoomId, ScenarioId, SessionId, StakeholderId, TaskId, VendorId, WorkflowId,
};
use crate::money::Money;
use chrono::{DateTime, FixedOffset, NaiveDate};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A repeatable piece of logistics work, tied to tasks of the plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Workflow {
    pub id: WorkflowId,
    pub name: String,
    pub steps: Vec<String>,
    pub owner: StakeholderId,
    pub task_ids: Vec<TaskId>,
}

/// How a room is set up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Layout {
    pub room_id: RoomId,
    pub setup: String,
    pub capacity: u32,
}

/// How the event runs on the ground.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LogisticsPlan {
    pub workflows: Vec<Workflow>,
    pub resources: Vec<ResourceId>,
    pub vendors: Vec<VendorId>,
    pub layouts: Vec<Layout>,
    pub policies: Vec<String>,
}

/// A room sessions run in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Room {
    pub id: RoomId,
    pub name: String,
    pub capacity: u32,
}

/// One scheduled session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Session {
    pub id: SessionId,
    pub title: String,
    pub track: String,
    pub start: DateTime<FixedOffset>,
    pub end: DateTime<FixedOffset>,
    pub room: RoomId,
    pub speakers: Vec<String>,
    pub resources: Vec<ResourceId>,
}

/// The program: sessions placed in rooms and times.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Schedule {
    pub timezone: String,
    pub rooms: Vec<Room>,
    pub sessions: Vec<Session>,
    /// How the sessions were placed, when an optimiser placed them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optimisation: Option<ScheduleOptimisation>,
}

/// The optimiser's account of a schedule: its cost, the proven lower bound and the search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ScheduleOptimisation {
    /// The method and what the cost counts.
    pub method: String,
    /// Room-time slots offered to the sessions.
    pub slots: u32,
    pub objective: i64,
    /// No schedule of these sessions in these slots costs less.
    pub lower_bound: i64,
    pub proven_optimal: bool,
    /// Branch-and-bound nodes explored.
    pub nodes: u64,
}

/// Kind of roster resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResourceType {
    Person,
    Equipment,
    Space,
}

/// A time window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Window {
    pub start: DateTime<FixedOffset>,
    pub end: DateTime<FixedOffset>,
}

/// One assignment of a resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Assignment {
    pub session_id: Option<SessionId>,
    pub duty: String,
    pub start: DateTime<FixedOffset>,
    pub end: DateTime<FixedOffset>,
}

/// A person, piece of equipment or space with its availability and assignments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Resource {
    pub id: ResourceId,
    #[serde(rename = "type")]
    pub resource_type: ResourceType,
    pub name: String,
    pub availability: Vec<Window>,
    pub assignments: Vec<Assignment>,
}

/// Who and what is where, when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ResourceRoster {
    pub resources: Vec<Resource>,
}

/// Kinds of incident during Execute; also the triggers of contingency scenarios.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum IncidentKind {
    VendorCancellation,
    VenueUnavailable,
    SpeakerNoShow,
    Weather,
    AvFailure,
    Overcapacity,
    MedicalEmergency,
    BudgetOverrun,
    LowAttendance,
    DeadlineMissed,
}

impl IncidentKind {
    /// Every variant as written in JSON.
    pub const ALL: [&'static str; 10] = [
        "vendor_cancellation",
        "venue_unavailable",
        "speaker_no_show",
        "weather",
        "av_failure",
        "overcapacity",
        "medical_emergency",
        "budget_overrun",
        "low_attendance",
        "deadline_missed",
    ];

    /// Parses a snake_case name; the error names the allowed values.
    pub fn parse(s: &str) -> Result<IncidentKind, String> {
        serde_json::from_value(serde_json::Value::String(s.to_owned())).map_err(|_| {
            format!(
                "unknown incident `{s}`: allowed values are {}",
                Self::ALL.join(", ")
            )
        })
    }

    /// The snake_case name.
    pub fn as_str(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }
}

/// What fires a scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Trigger {
    pub incident: IncidentKind,
    pub condition: String,
}

/// A prepared response to a risk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Scenario {
    pub id: ScenarioId,
    pub risk_id: RiskId,
    pub trigger: Trigger,
    pub response_steps: Vec<String>,
    pub owner: StakeholderId,
    pub task_ids: Vec<TaskId>,
    /// Minutes the response is expected to take.
    pub response_minutes: u32,
}

/// Prepared responses for the risks that matter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ContingencyPlan {
    pub scenarios: Vec<Scenario>,
}

/// Commercial terms of a contract.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ContractTerms {
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub total_cost: Money,
    pub payment_terms: String,
}

/// One supplier under contract. Sensitive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct VendorContract {
    pub id: VendorId,
    pub name: String,
    /// The rate-card supplier or catalog venue behind the contract.
    pub supplier_ref: String,
    pub service: String,
    pub terms: ContractTerms,
    pub slas: Vec<String>,
    pub cancellation_policy: String,
    /// The rate-card supplier (or shortlisted venue) to switch to if this one fails.
    pub backup: Option<BackupRef>,
}

/// Who takes over a contract when its vendor fails.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct BackupRef {
    /// Rate-card supplier id or catalog venue id.
    pub supplier_ref: String,
    pub name: String,
}

/// An incident to inject into the simulated Execute, or one a person reported on a live event:
/// its kind and when it happens, in minutes after the first session of the first day (default:
/// an hour in, then every 90 minutes), or the instant it was reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Injection {
    pub kind: IncidentKind,
    pub at_minutes: Option<u32>,
    /// When a person reported it on a live event (with no offset given): its detection time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reported_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// How a person resolved an incident of a live event: which one (its number, from 1, in the
/// order reported), when, by whom and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Resolution {
    pub incident: u32,
    pub at: chrono::DateTime<chrono::Utc>,
    pub by: String,
    pub note: String,
}

impl Injection {
    /// Parses `KIND` or `KIND@OFFSET`, where OFFSET is minutes (`90`, `90m`), hours (`2h`), days
    /// (`1d`) or a sum (`1d2h30m`) after the first session.
    pub fn parse(s: &str) -> Result<Injection, String> {
        let (kind, offset) = match s.split_once('@') {
            Some((k, o)) => (k, Some(o)),
            None => (s, None),
        };
        let kind = IncidentKind::parse(kind)?;
        let at_minutes = match offset {
            None => None,
            Some(o) => Some(parse_offset(o).ok_or_else(|| format!("`{o}` is not an offset: write minutes, hours or days after the first session, e.g. 90m, 2h or 1d3h"))?),
        };
        Ok(Injection {
            kind,
            at_minutes,
            reported_at: None,
        })
    }
}

fn parse_offset(o: &str) -> Option<u32> {
    if let Ok(m) = o.parse::<u32>() {
        return Some(m);
    }
    let mut total: u32 = 0;
    let mut digits = String::new();
    for c in o.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let n: u32 = digits.parse().ok()?;
        digits.clear();
        let unit = match c {
            'm' => 1,
            'h' => 60,
            'd' => 24 * 60,
            _ => return None,
        };
        total = total.checked_add(n.checked_mul(unit)?)?;
    }
    if !digits.is_empty() || o.is_empty() {
        return None;
    }
    Some(total)
}

/// Suppliers under contract. Sensitive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct VendorContracts {
    pub vendors: Vec<VendorContract>,
    /// Suppliers an approver rejected; never contracted again for this event.
    pub excluded_suppliers: Vec<String>,
}
