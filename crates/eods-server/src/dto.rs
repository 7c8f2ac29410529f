//! The API's JSON shapes (requests and responses) with their OpenAPI schemas, and the extractor
//! that turns a bad body into a 422 naming the field. Domain types stay in `eods-domain`; these
//! mirror them at the edge so the document and the wire cannot disagree.

use crate::error::{ApiError, ProblemItem};
use axum::extract::{FromRequest, Request};
use chrono::{DateTime, Utc};
use eods_domain::intake::BriefError;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// Declares an API enum mirroring a domain enum, with conversions both ways.
macro_rules! api_enum {
    ($(#[$m:meta])* $name:ident => $domain:path { $($v:ident),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($v),+ }
        impl From<$domain> for $name {
            fn from(d: $domain) -> Self { match d { $(<$domain>::$v => $name::$v),+ } }
        }
        impl From<$name> for $domain {
            fn from(d: $name) -> Self { match d { $($name::$v => <$domain>::$v),+ } }
        }
    };
}

api_enum!(
    /// Instruction level.
    LevelDto => eods_domain::instruction::Level { Beginner, Intermediate, Advanced });
api_enum!(
    /// Lifecycle state.
    StateDto => eods_domain::lifecycle::LifecycleState { Initiate, Plan, Research, Budget, Logistics, Confirm, Execute, Postmortem });
api_enum!(
    /// Run status next to the lifecycle state.
    RunStatusDto => eods_domain::lifecycle::RunStatus { Idle, Running, NeedsInput, AwaitingApproval, Blocked, Paused, Failed, Cancelled, Completed });
api_enum!(
    /// What a run does after Confirm: `live` follows the real calendar (Execute begins when the
    /// event starts, the postmortem after it ends, from what people recorded); `simulate` plays a
    /// seeded Execute and postmortem at once (a rehearsal; its outputs say "simulated").
    ModeDto => eods_domain::run::RunMode { Simulate, Live });
api_enum!(
    /// A gate that needs a human decision.
    GateDto => eods_domain::lifecycle::ApprovalGate { VenueSelection, BudgetDecision, VendorContracts });
api_enum!(
    /// An approver's decision.
    DecisionDto => eods_domain::lifecycle::ApprovalDecision { Approve, Reject, RequestChanges });
api_enum!(
    /// Where an approval request stands.
    ApprovalStatusDto => eods_domain::lifecycle::ApprovalStatus { Pending, Approved, Rejected, ChangesRequested, Superseded });
api_enum!(
    /// A run-control action.
    ActionDto => eods_engine::RunCommand { Start, Pause, Resume, Cancel });

/// A new event: the brief and how to run it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateEvent {
    /// The EventBrief. An incomplete brief still creates the event, in `needs_input`, naming the
    /// missing fields; a brief with wrong values is refused (422).
    #[schema(value_type = Object)]
    pub brief: Value,
    /// Instruction level; default from the audience (< 50 beginner, < 300 intermediate, else
    /// advanced).
    pub level: Option<LevelDto>,
    /// `live` (default): after Confirm the event follows the real calendar. `simulate`: a seeded
    /// Execute and postmortem straight after Confirm, a rehearsal labelled "simulated".
    pub mode: Option<ModeDto>,
    /// Seed of the Execute simulation (default 42; `simulate` only).
    #[schema(minimum = 0, maximum = 9007199254740991_u64)]
    pub seed: Option<u64>,
    /// Incidents to inject during Execute, `KIND[@OFFSET]` (e.g. `vendor_cancellation@2h`).
    pub incidents: Option<Vec<String>>,
    /// Start planning at once (default true); otherwise POST `actions/start` later.
    pub auto_start: Option<bool>,
    /// Hours an approval request stays open before it escalates (default 48).
    #[schema(minimum = 1, maximum = 8760)]
    pub approval_deadline_hours: Option<u32>,
    /// A deadline in seconds instead (drills and tests).
    #[schema(minimum = 1, maximum = 31536000)]
    pub approval_deadline_seconds: Option<u32>,
    /// Approvals each request needs (quorum, default 1).
    #[schema(minimum = 1, maximum = 10)]
    pub required_approvals: Option<u32>,
    /// Plan an event whose first day is already past (a record or a rehearsal); without it such a
    /// brief is refused (422 at `/brief/date_range/start`).
    pub allow_past: Option<bool>,
    /// The organiser's venue list, as objects with the CSV's column names. Give this or
    /// `venues_csv`; every bad row is a 422 and nothing is created.
    #[schema(value_type = Option<Vec<VenueInput>>)]
    pub venues: Option<Vec<Value>>,
    /// The organiser's venue list as CSV text (header `name,city,country,capacity,day_rate,currency`
    /// plus optional columns) or a JSON array in text; bad rows are named by line and column.
    pub venues_csv: Option<String>,
    /// The organiser's rate cards, as objects with the CSV's column names.
    #[schema(value_type = Option<Vec<RateCardInput>>)]
    pub rate_cards: Option<Vec<Value>>,
    /// The organiser's rate cards as CSV text
    /// (`supplier,service,city,country,currency,item,unit,price[,min_qty,contact,notes]`).
    pub rate_cards_csv: Option<String>,
    /// Quotes already received, as objects.
    #[schema(value_type = Option<Vec<QuoteInput>>)]
    pub quotes: Option<Vec<Value>>,
    /// Quotes already received as CSV text (`venue,capacity,day_rate,currency[,valid_until,rooms,notes]`).
    pub quotes_csv: Option<String>,
}

/// A venue of the organiser's list (the CSV's columns as fields). Facts left out are unknown:
/// the venue becomes a request for quote, never a guess.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct VenueInput {
    pub name: String,
    pub city: String,
    /// ISO 3166 code or name.
    pub country: String,
    /// People the venue holds.
    #[schema(minimum = 0)]
    pub capacity: Option<u32>,
    /// Hire of the whole venue for one day, a decimal such as `1200.50`.
    pub day_rate: Option<String>,
    /// ISO 4217 code, required with `day_rate`.
    pub currency: Option<String>,
    /// `Main:300;Side:80`.
    pub rooms: Option<String>,
    /// `;`-separated (`wifi;projector`).
    pub amenities: Option<String>,
    /// `;`-separated (`step_free_access`).
    pub accessibility: Option<String>,
    pub address: Option<String>,
    pub contact: Option<String>,
    pub website: Option<String>,
    /// `;`-separated dates, YYYY-MM-DD.
    pub unavailable_dates: Option<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub notes: Option<String>,
}

/// One row of a rate card (tiers are repeated rows with `min_qty`).
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct RateCardInput {
    pub supplier: String,
    /// catering, av, staffing, materials, insurance, marketing or speakers.
    pub service: String,
    pub city: String,
    pub country: String,
    /// ISO 4217 code.
    pub currency: String,
    /// lunch, coffee_break, technician, event_liability… (other items are kept as given).
    pub item: String,
    /// per_head, per_day, per_room_day, per_hour, per_event, per_night or per_speaker.
    pub unit: String,
    /// A decimal such as `18.50`.
    pub price: String,
    /// From this many units on, every unit costs `price`.
    pub min_qty: Option<String>,
    pub contact: Option<String>,
    pub notes: Option<String>,
}

/// A venue's answer to a request for quote. Gives the capacity, the day rate, or both.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct QuoteInput {
    /// The lead's venue id (`osm-node-123`, `list-savoy-theatre`) or its name.
    pub venue: String,
    #[schema(minimum = 0)]
    pub capacity: Option<u32>,
    /// A decimal such as `4000`.
    pub day_rate: Option<String>,
    /// ISO 4217 code, required with `day_rate`.
    pub currency: Option<String>,
    /// YYYY-MM-DD.
    pub valid_until: Option<String>,
    /// The rooms offered, `Main:300;Side:80` (a program of several tracks needs a room each).
    pub rooms: Option<String>,
    pub notes: Option<String>,
}

/// Quotes to add to an event.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddQuotes {
    #[schema(value_type = Vec<QuoteInput>)]
    pub quotes: Vec<Value>,
    /// Why (recorded in the ChangeLog).
    pub comment: Option<String>,
}

/// What the organiser supplied for an event, after a change.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrganiserDataUpdated {
    pub id: uuid::Uuid,
    /// The new `organiser_data` revision (GET `artifacts/organiser_data` for the records).
    pub revision: u32,
    pub venues: usize,
    pub rate_cards: usize,
    pub quotes: usize,
    /// The change recorded in the ChangeLog.
    pub change: String,
    /// The run status after the change (`running` when a waiting run was queued again).
    pub status: RunStatusDto,
    /// Whether the run was queued again (it was waiting for input or blocked).
    pub requeued: bool,
}

/// The event as created.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventCreated {
    pub id: uuid::Uuid,
    /// The run status (`running` when planning started, `idle` without auto start,
    /// `needs_input` for an incomplete brief).
    pub status: RunStatusDto,
    pub state: StateDto,
    pub level: LevelDto,
    /// Fields the brief still needs (empty when complete).
    pub missing_fields: Vec<String>,
}

/// One event in a list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventSummary {
    pub id: uuid::Uuid,
    pub title: String,
    pub state: StateDto,
    pub run_status: RunStatusDto,
    pub level: LevelDto,
    /// Why the run stopped, when it did.
    pub status_detail: Option<String>,
    /// `live` or `simulate` (one event only, not in lists).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<ModeDto>,
    /// When a waiting live run is taken up again (the event's start, then its end): a stored
    /// timer. Absent when the run waits for nothing timed (one event only, not in lists).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wake_at: Option<DateTime<Utc>>,
    /// When the event was archived (hidden from lists unless asked for); absent when it is not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub archived_at: Option<DateTime<Utc>>,
    /// The brief's city (from the current brief revision, or the draft; absent while unknown).
    pub city: Option<String>,
    pub country: Option<String>,
    /// First event day in the event's time zone.
    pub start_date: Option<chrono::NaiveDate>,
    /// Last event day in the event's time zone.
    pub end_date: Option<chrono::NaiveDate>,
    pub audience_size: Option<u32>,
    /// ISO 4217 code of the budget.
    pub currency: Option<String>,
    /// The brief's total budget, a decimal string.
    pub budget_total: Option<String>,
    /// Pending approval requests of the event's current revisions (in lists only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending_approvals: Option<u32>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The brief after a merge patch.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventPatched {
    pub id: uuid::Uuid,
    pub status: RunStatusDto,
    pub state: StateDto,
    pub level: LevelDto,
    /// Fields the brief still needs (the event waits in `needs_input` until they are given).
    pub missing_fields: Vec<String>,
    /// The new event_brief revision, when the brief is complete.
    pub brief_revision: Option<u32>,
}

api_enum!(
    /// Progress of a task.
    TaskStatusDto => eods_domain::catalog::planning::TaskStatus { NotStarted, InProgress, Done, Blocked });

impl TaskStatusDto {
    /// Every status, in the order forms offer them.
    pub const ALL: [TaskStatusDto; 4] = [
        TaskStatusDto::NotStarted,
        TaskStatusDto::InProgress,
        TaskStatusDto::Done,
        TaskStatusDto::Blocked,
    ];

    /// The name in requests and forms.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatusDto::NotStarted => "not_started",
            TaskStatusDto::InProgress => "in_progress",
            TaskStatusDto::Done => "done",
            TaskStatusDto::Blocked => "blocked",
        }
    }
}

/// A task's status as a person records it (live events).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskStatusUpdate {
    pub status: TaskStatusDto,
    /// With `done`: the day it was done (default today in the event's time zone; not after
    /// today).
    pub completed_on: Option<chrono::NaiveDate>,
    /// Why the task is blocked (required with `blocked`), or a note.
    pub reason: Option<String>,
    /// What the task actually cost, in the event's currency: a decimal such as `1200.50`.
    /// Kept from the last update when left out; the postmortem's budget variance compares the
    /// recorded costs with the planned spend.
    pub actual_cost: Option<String>,
}

/// A task after the update, and what the recorded progress puts at risk.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TaskStatusRecorded {
    pub task_id: String,
    pub title: String,
    pub status: TaskStatusDto,
    pub planned_end: chrono::NaiveDate,
    pub completed_on: Option<chrono::NaiveDate>,
    pub reason: Option<String>,
    /// What the task actually cost, in the event's currency, when recorded.
    pub actual_cost: Option<String>,
    /// The runbook revision that holds it.
    pub runbook_revision: u32,
    /// Tasks late by their planned end, with the days.
    pub late: Vec<LateTask>,
    pub blocked: Vec<String>,
    /// Milestones projected to pass their planned date.
    pub milestones_at_risk: Vec<MilestoneAtRisk>,
    /// When the remaining work is projected to finish.
    pub projected_end: Option<chrono::NaiveDate>,
    /// The projection passes the planned end and reaches the event's first day.
    pub event_date_at_risk: bool,
    /// Unfinished tasks with no slack left, in order.
    pub critical_path: Vec<String>,
    /// The same in one line (also in the ChangeLog).
    pub summary: String,
}

/// A late task.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LateTask {
    pub task_id: String,
    pub days: i64,
}

/// A milestone at risk.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MilestoneAtRisk {
    pub milestone_id: String,
    pub name: String,
    pub planned: chrono::NaiveDate,
    pub projected: chrono::NaiveDate,
}

/// An incident reported for Execute: played by the simulation, or recorded on a live event.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportIncident {
    /// vendor_cancellation, venue_unavailable, speaker_no_show, weather, av_failure,
    /// overcapacity, medical_emergency, budget_overrun, low_attendance or deadline_missed.
    pub kind: String,
    /// When, after the first session: minutes (`90`, `90m`), hours (`2h`), days (`1d`) or a sum
    /// (`1d2h30m`). Default: an hour in, then every 90 minutes.
    pub at: Option<String>,
    pub comment: Option<String>,
}

/// How a person resolved an incident of a live event.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveIncident {
    /// What was done; required.
    pub note: String,
}

/// A recorded incident resolution.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IncidentResolved {
    pub id: uuid::Uuid,
    /// The incident's number (from 1, in the order reported).
    pub incident: u32,
    pub resolved_at: DateTime<Utc>,
    pub resolved_by: String,
    pub note: String,
}

/// The incidents the simulated Execute will play.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IncidentReported {
    pub id: uuid::Uuid,
    /// Every reported incident, `KIND@MINUTES` (no minutes: the default time).
    pub incidents: Vec<String>,
    pub status: RunStatusDto,
    pub state: StateDto,
}

/// A page of events.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventPage {
    pub items: Vec<EventSummary>,
    /// How many events match the filters in all.
    pub total: u64,
    pub limit: u32,
    pub offset: u32,
}

/// An artifact type's current revision.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ArtifactInfo {
    #[serde(rename = "type")]
    pub artifact_type: String,
    pub revision: u32,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub correlation_id: String,
}

/// An event with its artifacts and approvals.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventDetail {
    #[serde(flatten)]
    pub summary: EventSummary,
    /// The brief: the current event_brief revision's payload, or, while the event has none (an
    /// incomplete brief waiting in `needs_input`), the draft as submitted and amended.
    #[schema(value_type = Object)]
    pub brief: Value,
    /// The event_brief revision `brief` is; absent while it is the draft.
    pub brief_revision: Option<u32>,
    pub artifacts: Vec<ArtifactInfo>,
    pub approvals: Vec<ApprovalView>,
    /// Committed engine steps.
    pub steps: u64,
}

/// A stored artifact revision.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ArtifactEnvelope {
    pub id: uuid::Uuid,
    pub event_id: uuid::Uuid,
    #[serde(rename = "type")]
    pub artifact_type: String,
    pub revision: u32,
    pub schema_version: String,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub correlation_id: String,
    /// The revisions it was computed from.
    #[schema(value_type = Vec<Object>)]
    pub derived_from: Value,
    /// The payload (its JSON Schema: `eods schema TYPE`).
    #[schema(value_type = Object)]
    pub payload: Value,
    /// JSON pointers of fields withheld from this token (vendor terms, negotiation notes need the
    /// contracts permission).
    pub redacted: Vec<String>,
}

/// A human edit of an artifact.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArtifactEdit {
    /// The new payload, valid against the type's schema.
    #[schema(value_type = Object)]
    pub payload: Value,
    /// Why (recorded in the ChangeLog).
    pub comment: Option<String>,
}

/// What an edit did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ArtifactEdited {
    pub artifact: ArtifactEnvelope,
    /// The semantic diff recorded in the ChangeLog.
    pub change: String,
    /// Change in planned cost, when the edit has one.
    pub cost_delta: Option<String>,
    /// Whether the budget approval was re-opened (cost impact above the threshold).
    pub budget_reapproval: bool,
    /// The run status after the edit (`running` while derived artifacts are recomputed).
    pub status: RunStatusDto,
}

/// One vote on an approval request.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VoteView {
    pub voter: String,
    pub decision: DecisionDto,
    pub comment: String,
    pub at: DateTime<Utc>,
}

/// An approval request.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApprovalView {
    pub id: uuid::Uuid,
    pub event_id: uuid::Uuid,
    pub gate: GateDto,
    #[schema(example = "venue_scorecard")]
    pub artifact_type: String,
    pub artifact_revision: u32,
    pub status: ApprovalStatusDto,
    /// The role an approver needs.
    pub approver_role: String,
    pub required_approvals: u32,
    pub votes: Vec<VoteView>,
    pub requested_at: DateTime<Utc>,
    pub deadline: DateTime<Utc>,
    /// Pending past its deadline (it has been escalated to the backups).
    pub overdue: bool,
    pub decided_at: Option<DateTime<Utc>>,
    pub decided_by: Option<String>,
    pub decision: Option<DecisionDto>,
    pub comment: Option<String>,
    /// The summary a language model wrote for the approver, every figure in it checked against
    /// the gate's artifacts (null: none was written; the event's pages show the engine's).
    pub summary: Option<String>,
    /// Who wrote `summary` (`model:NAME`).
    pub summary_by: Option<String>,
}

/// Approval requests.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApprovalList {
    pub items: Vec<ApprovalView>,
}

/// An approver's decision.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    pub decision: DecisionDto,
    /// Why. For a rejected budget, an amount in the comment is the cap of the revision
    /// (`cap at 1500`, `max 1,500 EUR`, `no more than 1.500 €`); without one the cap is 5% below
    /// the proposal. Several amounts with none marked as the cap, or a cap in another currency,
    /// are refused (422, `/comment`).
    #[serde(default)]
    pub comment: String,
}

/// What a decision did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DecisionResult {
    pub approval: ApprovalView,
    /// `decided`, or `voted` when the request waits for more approvals (quorum).
    pub outcome: String,
}

/// A run-control action was accepted.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ActionAccepted {
    pub id: uuid::Uuid,
    pub action: ActionDto,
    /// The run status now.
    pub status: RunStatusDto,
    pub state: StateDto,
}

/// Entries of a DecisionLog or ChangeLog, oldest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LogPage {
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<Value>,
}

/// One metric as measured in the postmortem.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MetricView {
    /// The DESIGN §6 metric, e.g. `budget_variance`.
    pub name: String,
    /// `null` when not measured (the detail says why).
    pub value: Option<f64>,
    pub target: String,
    /// `null` when not measured or not applicable at this level.
    pub met: Option<bool>,
    pub detail: String,
}

/// The metrics of an event, from its postmortem.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventMetrics {
    pub id: uuid::Uuid,
    /// The postmortem revision they come from.
    pub postmortem_revision: u32,
    pub metrics: Vec<MetricView>,
    pub incidents_total: u32,
    pub incidents_resolved: u32,
}

/// An audit entry with its event.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditEntry {
    pub event_id: uuid::Uuid,
    /// The DecisionLog or ChangeLog entry.
    #[schema(value_type = Object)]
    pub entry: Value,
}

/// Audit entries across events, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditEntry>,
}

/// Liveness or readiness.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Health {
    /// `ok`, or what is wrong.
    pub status: String,
    /// `sqlite` or `postgres`.
    pub database: String,
    /// This instance's id.
    pub instance: String,
    pub version: String,
}

/// A 422 from a brief that intake refused, pointing into the request's `brief`.
pub fn brief_problem(e: &BriefError) -> ApiError {
    brief_problem_at(e, "/brief")
}

/// A 422 from a brief that intake refused, its pointers under `prefix` (empty when the body is
/// the brief itself).
pub fn brief_problem_at(e: &BriefError, prefix: &str) -> ApiError {
    match e {
        BriefError::Syntax { message, .. } => ApiError::field(prefix, message.clone()),
        BriefError::Incomplete { missing } => ApiError::validation(
            format!(
                "the brief is incomplete; missing fields: {}",
                missing.join(", ")
            ),
            missing
                .iter()
                .map(|m| ProblemItem {
                    pointer: format!("{prefix}{}", eods_domain::intake::missing_pointer(m)),
                    message: format!("required; {}", eods_domain::intake::missing_expected(m)),
                })
                .collect(),
        ),
        BriefError::Invalid { violations } => ApiError::validation(
            "the brief is invalid",
            violations
                .iter()
                .map(|v| ProblemItem {
                    pointer: format!("{prefix}{}", v.pointer),
                    message: v.message.clone(),
                })
                .collect(),
        ),
    }
}

/// A JSON body that must parse into `T`; anything else is a 422 naming the field (or a 415
/// for another content type).
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let json = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                let mime = v
                    .split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase();
                mime == "application/json" || mime.ends_with("+json")
            })
            .unwrap_or(false);
        if !json {
            return Err(ApiError::new(
                axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Unsupported media type",
                "send the body as JSON with `Content-Type: application/json`",
            ));
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| {
                if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::too_large()
                } else {
                    ApiError::field("", format!("the body could not be read: {e}"))
                }
            })?;
        if let Some(pointer) = nul_in_json(&bytes) {
            return Err(ApiError::field(&pointer, NUL_MESSAGE));
        }
        let mut de = serde_json::Deserializer::from_slice(&bytes);
        let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let pointer = pointer_of(e.path());
            let inner = e.into_inner();
            let message = if inner.is_syntax() || inner.is_eof() {
                format!(
                    "invalid JSON at line {}, column {}: {inner}",
                    inner.line(),
                    inner.column()
                )
            } else {
                // serde's message without its position suffix.
                let m = inner.to_string();
                match m.rfind(" at line ") {
                    Some(i) => m[..i].to_owned(),
                    None => m,
                }
            };
            ApiError::field(&pointer, message)
        })?;
        de.end().map_err(|e| {
            ApiError::field("", format!("trailing characters after the JSON body: {e}"))
        })?;
        Ok(ApiJson(value))
    }
}

/// What a text with a NUL character gets: the databases disagree about it (PostgreSQL refuses
/// it), so no request may carry one.
pub(crate) const NUL_MESSAGE: &str =
    "text may not contain the NUL character (U+0000): remove it and send again";

/// The JSON pointer of the first string (or key) of a JSON body with a NUL character in it, if
/// any. JSON writes NUL only as the escape `\u0000`, so a body without one is not parsed twice.
fn nul_in_json(bytes: &[u8]) -> Option<String> {
    let escaped = bytes
        .windows(6)
        .any(|w| w[0] == b'\\' && w[1] == b'u' && w[2..].eq_ignore_ascii_case(b"0000"));
    if !escaped {
        return None;
    }
    fn find(v: &serde_json::Value, at: &str) -> Option<String> {
        let esc = |k: &str| k.replace('~', "~0").replace('/', "~1");
        match v {
            serde_json::Value::String(s) if s.contains('\0') => Some(at.to_owned()),
            serde_json::Value::Array(a) => a
                .iter()
                .enumerate()
                .find_map(|(i, x)| find(x, &format!("{at}/{i}"))),
            serde_json::Value::Object(o) => o.iter().find_map(|(k, x)| {
                let here = format!("{at}/{}", esc(k));
                if k.contains('\0') {
                    Some(here)
                } else {
                    find(x, &here)
                }
            }),
            _ => None,
        }
    }
    // A body that does not parse is reported by the parser, with its position.
    serde_json::from_slice::<serde_json::Value>(bytes)
        .ok()
        .and_then(|v| find(&v, ""))
}

fn pointer_of(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for seg in path.iter() {
        match seg {
            Segment::Seq { index } => out.push_str(&format!("/{index}")),
            Segment::Map { key } => {
                out.push_str(&format!("/{}", key.replace('~', "~0").replace('/', "~1")))
            }
            Segment::Enum { variant } => out.push_str(&format!("/{variant}")),
            Segment::Unknown => {}
        }
    }
    out
}

/// A body given as CSV text (`text/csv`) or as JSON (`application/json`); anything else is a 415.
pub enum CsvOrJson {
    Csv(String),
    Json(Value),
}

impl<S: Send + Sync> FromRequest<S> for CsvOrJson {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let mime = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            })
            .unwrap_or_default();
        let csv = mime == "text/csv";
        let json = mime == "application/json" || mime.ends_with("+json");
        if !csv && !json {
            return Err(ApiError::new(
                axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Unsupported media type",
                "send the body as CSV with `Content-Type: text/csv` or as JSON with `Content-Type: application/json`",
            ));
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::field("", format!("the body could not be read: {e}")))?;
        if csv {
            let text = String::from_utf8(bytes.to_vec()).map_err(|e| {
                ApiError::field(
                    "",
                    format!(
                        "the CSV is not UTF-8 (byte {}): save the file as UTF-8",
                        e.utf8_error().valid_up_to()
                    ),
                )
            })?;
            return Ok(CsvOrJson::Csv(text));
        }
        serde_json::from_slice(&bytes)
            .map(CsvOrJson::Json)
            .map_err(|e| {
                ApiError::field(
                    "",
                    format!(
                        "invalid JSON at line {}, column {}: {e}",
                        e.line(),
                        e.column()
                    ),
                )
            })
    }
}

/// An event archived or restored.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventArchived {
    pub id: uuid::Uuid,
    /// When it was archived; absent once restored.
    pub archived_at: Option<DateTime<Utc>>,
}

/// Answers to the feedback survey, as the organiser entered them.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedbackInput {
    pub responses: Vec<FeedbackAnswerDto>,
}

/// One answer: who, and how satisfied from 1 to 5.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedbackAnswerDto {
    /// A stakeholder's name, or `attendee`.
    pub respondent: String,
    /// 1 (very dissatisfied) to 5 (very satisfied).
    #[schema(minimum = 1, maximum = 5)]
    pub score: i64,
    pub comment: Option<String>,
}

/// The survey after the answers were recorded.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FeedbackRecordedDto {
    /// The runbook revision that holds the answers.
    pub runbook_revision: u32,
    /// Answers in all, and their mean score (1 to 5).
    pub answers: usize,
    pub mean_score: f64,
    /// The postmortem is measured again with them (it existed already).
    pub postmortem_remeasured: bool,
}

/// The message drafts after they were written.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DraftsWrittenDto {
    /// The `message_drafts` revision stored now.
    pub revision: u32,
    /// Whether this request wrote a new revision (nothing had changed otherwise).
    pub changed: bool,
    /// Every draft: `id`, `kind`, `to`, `address`, `language`, `subject`, `body`, `written_by`,
    /// `note`, `status` (`draft`, `approved`), `approved_by`, `approved_at`.
    #[schema(value_type = Vec<Object>)]
    pub drafts: Vec<serde_json::Value>,
}

/// The approval of one draft: the revision the approver read.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApproveDraftInput {
    /// The `message_drafts` revision the approver read; another current revision is refused
    /// (409), so what is approved is what was read.
    pub revision: u32,
}

/// One draft approved for sending.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DraftApprovedDto {
    /// The draft as approved.
    #[schema(value_type = Object)]
    pub draft: serde_json::Value,
    /// The `message_drafts` revision that records the approval.
    pub revision: u32,
    /// Queued for e-mail to the draft's address; `false`: it names none and is sent by hand.
    pub queued: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(body: Vec<u8>) -> Request {
        Request::builder()
            .method("POST")
            .uri("/api/v1/events")
            .header("content-type", "application/json")
            .body(axum::body::Body::from(body))
            .unwrap()
    }

    #[tokio::test]
    async fn a_body_over_the_limit_is_413_and_a_nul_is_named() {
        let big = format!("{{\"title\": \"{}\"}}", "x".repeat(3 << 20));
        let e = ApiJson::<serde_json::Value>::from_request(request(big.into_bytes()), &())
            .await
            .err()
            .unwrap();
        assert_eq!(e.status, axum::http::StatusCode::PAYLOAD_TOO_LARGE);
        let nul = br#"{"brief": {"stakeholders": [{"name": "A\u0000"}]}}"#.to_vec();
        let e = ApiJson::<serde_json::Value>::from_request(request(nul), &())
            .await
            .err()
            .unwrap();
        assert_eq!(e.status, axum::http::StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e.errors[0].pointer, "/brief/stakeholders/0/name");
        let fine = br#"{"note": "a \\u0000 written out"}"#.to_vec();
        assert!(
            ApiJson::<serde_json::Value>::from_request(request(fine), &())
                .await
                .is_ok(),
            "an escaped backslash before u0000 is text, not a NUL"
        );
    }
}
