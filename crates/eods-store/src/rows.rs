//! Row types: what the store reads and writes, typed at the boundary (enums parsed, ids checked).

use crate::{StoreError, parse_state};
use chrono::{DateTime, NaiveDate, Utc};
use eods_domain::access::Role;
use eods_domain::artifact::{ArtifactRef, ArtifactType, Envelope};
use eods_domain::catalog::audit::{ChangeEntry, DecisionEntry};
use eods_domain::catalog::brief::{BriefTime, EventBrief};
use eods_domain::ids::{ApprovalId, ArtifactId, EventId};
use eods_domain::instruction::Level;
use eods_domain::lifecycle::{
    ApprovalDecision, ApprovalGate, ApprovalStatus, LifecycleState, RunStatus,
};
use eods_domain::run::RunOptions;
use serde_json::Value;
use sqlx::types::Json;
use uuid::Uuid;

/// One event: lifecycle state, run status and the summary of its brief. The brief itself is the
/// event_brief artifact; the row holds only a draft while no revision exists.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRow {
    pub id: EventId,
    /// The brief's title (part of the summary, kept as its own column since everything shows it).
    pub title: String,
    pub state: LifecycleState,
    pub run_status: RunStatus,
    pub level: Level,
    /// Why the run stopped, when it did (missing fields, failed gates, pending approvals).
    pub status_detail: Option<String>,
    /// When a waiting run (a live event before its start or end) is taken up again: a durable
    /// timer that any instance's worker honours. `None` when the run waits for nothing timed.
    pub wake_at: Option<DateTime<Utc>>,
    /// The brief as submitted or amended while the event has no event_brief revision (an
    /// incomplete brief waiting in `needs_input`); `None` once revision 1 exists.
    pub draft: Option<Value>,
    /// What lists show of the current brief (or of the draft): a derived index.
    pub summary: BriefSummary,
    /// Run options (approval mode, seed, injected incidents).
    pub options: RunOptions,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When the event was archived (hidden from lists, kept whole); `None` when it is not.
    pub archived_at: Option<DateTime<Utc>>,
}

/// The columns of [`EventRow`] ([`crate::EVENT_COLUMNS`]).
#[derive(sqlx::FromRow)]
pub(crate) struct EventRecord {
    id: String,
    title: String,
    state: String,
    run_status: String,
    level: String,
    status_detail: Option<String>,
    wake_at: Option<i64>,
    brief_draft: Option<Json<Value>>,
    #[sqlx(flatten)]
    summary: SummaryColumns,
    options: Json<Value>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    archived_at: Option<DateTime<Utc>>,
}

/// The summary columns ([`crate::SUMMARY_COLUMNS`]).
#[derive(sqlx::FromRow)]
pub(crate) struct SummaryColumns {
    city: Option<String>,
    country: Option<String>,
    start_date: Option<NaiveDate>,
    end_date: Option<NaiveDate>,
    audience_size: Option<i64>,
    currency: Option<String>,
    budget_total: Option<String>,
}

impl From<SummaryColumns> for BriefSummary {
    fn from(c: SummaryColumns) -> Self {
        BriefSummary {
            city: c.city,
            country: c.country,
            start_date: c.start_date,
            end_date: c.end_date,
            audience_size: c.audience_size.and_then(|n| u32::try_from(n).ok()),
            currency: c.currency,
            budget_total: c.budget_total,
        }
    }
}

/// The status columns every list reads, typed.
pub(crate) fn parse_status(
    state: &str,
    run_status: &str,
) -> Result<(LifecycleState, RunStatus), StoreError> {
    Ok((
        parse_state(state)?,
        RunStatus::parse(run_status)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown run status `{run_status}`")))?,
    ))
}

impl TryFrom<EventRecord> for EventRow {
    type Error = StoreError;
    fn try_from(r: EventRecord) -> Result<Self, StoreError> {
        let (state, run_status) = parse_status(&r.state, &r.run_status)?;
        Ok(EventRow {
            id: parse_uuid(&r.id)?,
            title: r.title,
            state,
            run_status,
            level: Level::parse(&r.level).map_err(StoreError::Corrupt)?,
            status_detail: r.status_detail,
            wake_at: r.wake_at.and_then(DateTime::from_timestamp_millis),
            draft: r.brief_draft.map(|j| j.0),
            summary: BriefSummary::from(r.summary),
            options: serde_json::from_value(r.options.0)
                .map_err(|e| StoreError::Corrupt(format!("run options of event {}: {e}", r.id)))?,
            created_at: r.created_at,
            updated_at: r.updated_at,
            archived_at: r.archived_at,
        })
    }
}

/// The columns of [`EventListRow`].
#[derive(sqlx::FromRow)]
pub(crate) struct EventListRecord {
    id: String,
    title: String,
    state: String,
    run_status: String,
    level: String,
    status_detail: Option<String>,
    wake_at: Option<i64>,
    #[sqlx(flatten)]
    summary: SummaryColumns,
    pending_approvals: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    archived_at: Option<DateTime<Utc>>,
    /// Rows matching the filter in all (the same on every row of a page).
    pub(crate) total: i64,
}

impl TryFrom<EventListRecord> for EventListRow {
    type Error = StoreError;
    fn try_from(r: EventListRecord) -> Result<Self, StoreError> {
        let (state, run_status) = parse_status(&r.state, &r.run_status)?;
        Ok(EventListRow {
            id: parse_uuid(&r.id)?,
            title: r.title,
            state,
            run_status,
            level: Level::parse(&r.level).map_err(StoreError::Corrupt)?,
            status_detail: r.status_detail,
            wake_at: r.wake_at.and_then(DateTime::from_timestamp_millis),
            summary: BriefSummary::from(r.summary),
            pending_approvals: u32::try_from(r.pending_approvals).unwrap_or(u32::MAX),
            created_at: r.created_at,
            updated_at: r.updated_at,
            archived_at: r.archived_at,
        })
    }
}

/// The columns of [`InboxRow`].
#[derive(sqlx::FromRow)]
pub(crate) struct InboxRecord {
    id: String,
    event_id: String,
    gate: String,
    artifact_revision: i64,
    requested_at: DateTime<Utc>,
    deadline: DateTime<Utc>,
    required_approvals: i64,
    approve_votes: i64,
    title: String,
    state: String,
    run_status: String,
    #[sqlx(flatten)]
    summary: SummaryColumns,
    /// Rows matching in all (the same on every row of a page).
    pub(crate) total: i64,
}

impl TryFrom<InboxRecord> for InboxRow {
    type Error = StoreError;
    fn try_from(r: InboxRecord) -> Result<Self, StoreError> {
        let (state, run_status) = parse_status(&r.state, &r.run_status)?;
        Ok(InboxRow {
            id: parse_uuid(&r.id)?,
            event_id: parse_uuid(&r.event_id)?,
            gate: ApprovalGate::parse(&r.gate)
                .ok_or_else(|| StoreError::Corrupt(format!("unknown gate `{}`", r.gate)))?,
            artifact_revision: u32::try_from(r.artifact_revision)
                .map_err(|_| StoreError::Corrupt(format!("revision {}", r.artifact_revision)))?,
            requested_at: r.requested_at,
            deadline: r.deadline,
            required_approvals: u32::try_from(r.required_approvals).unwrap_or(1),
            approve_votes: u32::try_from(r.approve_votes).unwrap_or(0),
            event_title: r.title,
            state,
            run_status,
            summary: BriefSummary::from(r.summary),
        })
    }
}

/// An event row followed by its commit counter and the number of DecisionLog and ChangeLog
/// entries (the head of a snapshot).
/// The event row of a snapshot ([`crate::EVENT_COLUMNS`]), its commit counter and its log counts.
#[derive(sqlx::FromRow)]
pub(crate) struct SnapshotHead {
    #[sqlx(flatten)]
    event: EventRecord,
    seq: i64,
    decisions: i64,
    changes: i64,
}

/// The event row, its counter and its log counts.
pub(crate) fn split_head(h: SnapshotHead) -> Result<(EventRow, i64, i64, i64), StoreError> {
    Ok((EventRow::try_from(h.event)?, h.seq, h.decisions, h.changes))
}

pub(crate) fn parse_uuid<T: std::str::FromStr>(s: &str) -> Result<T, StoreError> {
    s.parse()
        .map_err(|_| StoreError::Corrupt(format!("`{s}` is not a UUID")))
}

/// An artifact row as selected by `ARTIFACT_COLUMNS`.
pub(crate) type ArtifactTuple = (
    String,
    String,
    String,
    i64,
    String,
    DateTime<Utc>,
    String,
    String,
    Json<Value>,
    Json<Value>,
);

pub(crate) fn envelope_from_tuple(t: ArtifactTuple) -> Result<Envelope, StoreError> {
    let id: ArtifactId = parse_uuid(&t.0)?;
    let event_id: EventId = parse_uuid(&t.1)?;
    let artifact_type = ArtifactType::parse(&t.2).map_err(StoreError::Corrupt)?;
    let derived_from: Vec<ArtifactRef> = serde_json::from_value(t.8.0)
        .map_err(|e| StoreError::Corrupt(format!("derived_from of {} {}: {e}", t.2, t.3)))?;
    Ok(Envelope {
        id,
        event_id,
        artifact_type,
        revision: u32::try_from(t.3)
            .map_err(|_| StoreError::Corrupt(format!("revision {}", t.3)))?,
        schema_version: t.4,
        created_at: t.5,
        created_by: t.6,
        correlation_id: t.7,
        derived_from,
        payload: t.9.0,
    })
}

/// One approval request and, once decided, its decision.
#[derive(Debug, Clone, PartialEq)]
pub struct ApprovalRow {
    pub id: ApprovalId,
    pub event_id: EventId,
    pub gate: ApprovalGate,
    pub artifact_revision: u32,
    pub status: ApprovalStatus,
    pub approver_role: String,
    pub requested_at: DateTime<Utc>,
    pub deadline: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decided_by: Option<String>,
    pub decision: Option<ApprovalDecision>,
    pub comment: Option<String>,
    pub directive: Option<Value>,
    /// Approvals needed before the request counts as approved (quorum).
    pub required_approvals: u32,
    /// Votes cast so far (an approval with quorum 1 has at most one).
    pub votes: Vec<Vote>,
    /// The summary a language model wrote for the approver, checked against the gate's
    /// artifacts, and who wrote it (`model:NAME`); `None`: the engine's own summary is shown.
    pub summary: Option<(String, String)>,
}

/// One approver's vote on a request.
#[derive(Debug, Clone, PartialEq)]
pub struct Vote {
    pub approval_id: ApprovalId,
    pub voter: String,
    pub decision: ApprovalDecision,
    pub comment: String,
    pub at: DateTime<Utc>,
}

pub(crate) type ApprovalTuple = (
    String,
    String,
    String,
    i64,
    String,
    String,
    DateTime<Utc>,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<Json<Value>>,
    i64,
    Option<String>,
    Option<String>,
);

impl TryFrom<ApprovalTuple> for ApprovalRow {
    type Error = StoreError;
    fn try_from(t: ApprovalTuple) -> Result<Self, StoreError> {
        Ok(ApprovalRow {
            id: parse_uuid(&t.0)?,
            event_id: parse_uuid(&t.1)?,
            gate: ApprovalGate::parse(&t.2)
                .ok_or_else(|| StoreError::Corrupt(format!("unknown gate `{}`", t.2)))?,
            artifact_revision: u32::try_from(t.3)
                .map_err(|_| StoreError::Corrupt(format!("revision {}", t.3)))?,
            status: ApprovalStatus::parse(&t.4)
                .ok_or_else(|| StoreError::Corrupt(format!("unknown approval status `{}`", t.4)))?,
            approver_role: t.5,
            requested_at: t.6,
            deadline: t.7,
            decided_at: t.8,
            decided_by: t.9,
            decision: match t.10 {
                Some(d) => Some(
                    ApprovalDecision::parse(&d)
                        .ok_or_else(|| StoreError::Corrupt(format!("unknown decision `{d}`")))?,
                ),
                None => None,
            },
            comment: t.11,
            directive: t.12.map(|j| j.0),
            required_approvals: u32::try_from(t.13)
                .map_err(|_| StoreError::Corrupt(format!("required approvals {}", t.13)))?,
            votes: vec![],
            summary: t.14.zip(t.15),
        })
    }
}

/// A new approval request.
#[derive(Debug, Clone, PartialEq)]
pub struct NewApproval {
    pub id: ApprovalId,
    pub gate: ApprovalGate,
    pub artifact_revision: u32,
    pub approver_role: String,
    pub requested_at: DateTime<Utc>,
    pub deadline: DateTime<Utc>,
    /// Quorum: approvals needed (at least 1).
    pub required_approvals: u32,
}

/// A summary written for an approval request.
#[derive(Debug, Clone, PartialEq)]
pub struct ApprovalSummary {
    pub id: ApprovalId,
    pub text: String,
    /// `model:NAME`.
    pub by: String,
}

/// A decision on a pending approval.
#[derive(Debug, Clone, PartialEq)]
pub struct ApprovalDecisionWrite {
    pub id: ApprovalId,
    pub decision: ApprovalDecision,
    pub status: ApprovalStatus,
    pub decided_at: DateTime<Utc>,
    pub decided_by: String,
    pub comment: String,
    /// What the owning agent must change (JSON), for rejections and change requests.
    pub directive: Option<Value>,
}

/// The event's new state and run status.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusWrite {
    pub state: LifecycleState,
    pub run_status: RunStatus,
    pub detail: Option<String>,
    /// The run's timer ([`EventRow::wake_at`]): written with every status, so a status that
    /// waits for nothing timed clears it.
    pub wake_at: Option<DateTime<Utc>>,
}

/// Everything one engine step writes, committed atomically under `step_key`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Commit {
    pub event_id: EventId,
    /// Idempotency key: (run, step, input revisions). A key already committed writes nothing.
    pub step_key: String,
    pub at: DateTime<Utc>,
    pub artifacts: Vec<Envelope>,
    pub decisions: Vec<DecisionEntry>,
    pub changes: Vec<ChangeEntry>,
    pub approval_requests: Vec<NewApproval>,
    pub approval_decisions: Vec<ApprovalDecisionWrite>,
    /// Votes towards a quorum (one per approver and request).
    pub votes: Vec<Vote>,
    /// Notifications to deliver after the commit (deduplicated by key).
    pub outbox: Vec<NewOutbox>,
    pub status: Option<StatusWrite>,
    /// When set, the commit only applies while this instance holds the event's lease, and
    /// extends it.
    pub fence: Option<Fence>,
    /// An incomplete brief to keep as the event's draft (an amendment that still misses fields).
    /// Refused with [`crate::StoreError::Conflict`] when the event has an event_brief revision.
    /// An event_brief artifact in `artifacts` instead rewrites the event's summary from it and
    /// clears the draft, in this transaction (see `summary.rs`).
    pub draft: Option<Value>,
    /// The event's new planning level (it follows the brief's audience unless fixed).
    pub level: Option<Level>,
    /// New run options (e.g. an incident reported over the API).
    pub options: Option<RunOptions>,
    /// The event's commit counter ([`EventSnapshot::seq`]) the writer read its snapshot at. When
    /// set, the commit is refused with [`crate::StoreError::Stale`] if another commit came in
    /// between (log numbering and status were computed from that snapshot); the writer reads
    /// again and retries.
    pub expect_seq: Option<u64>,
    /// The event row to create in the same transaction (a submission), so an event never exists
    /// without its first commit.
    pub create_event: Option<EventRow>,
    /// Pending approval requests the engine retires (a request for a newer revision of the same
    /// artifact replaces them): set to `superseded`.
    pub superseded: Vec<ApprovalId>,
    /// Summaries written for pending requests (`summary`, `summary_by`); a request keeps the
    /// first it was given.
    pub approval_summaries: Vec<ApprovalSummary>,
    /// Approval requests escalated in this commit (their deadline passed): stamped, so the
    /// service's timer does not escalate them again.
    pub escalated: Vec<ApprovalId>,
    /// Archives the event (`Some(Some(at))`) or restores it (`Some(None)`).
    pub archived: Option<Option<DateTime<Utc>>>,
}

/// What lists show of an event's brief: a derived index of the current event_brief revision
/// (or of the draft while none exists), written in the transaction of every revision. Any field
/// a draft lacks is `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BriefSummary {
    pub city: Option<String>,
    pub country: Option<String>,
    /// First event day, in the event's time zone.
    pub start_date: Option<NaiveDate>,
    /// Last event day, in the event's time zone.
    pub end_date: Option<NaiveDate>,
    pub audience_size: Option<u32>,
    /// ISO 4217 code of the budget.
    pub currency: Option<String>,
    /// The brief's total budget as a decimal string (for display; never computed with in SQL).
    pub budget_total: Option<String>,
}

impl BriefSummary {
    /// The summary of a complete brief.
    pub fn of_brief(b: &EventBrief) -> BriefSummary {
        BriefSummary {
            city: Some(b.location.city.clone()),
            country: Some(b.location.country.clone()),
            start_date: Some(b.first_day()),
            end_date: Some(b.last_day()),
            audience_size: Some(b.audience_size),
            currency: Some(b.budget.currency.to_string()),
            budget_total: Some(b.budget.total.to_string()),
        }
    }

    /// The title and summary of a brief as JSON: a complete brief as [`Self::of_brief`], an
    /// incomplete one field by field (what is missing or of the wrong form stays `None`).
    pub fn of_value(v: &Value) -> (Option<String>, BriefSummary) {
        if let Ok(b) = serde_json::from_value::<EventBrief>(v.clone()) {
            return (Some(b.title.clone()), BriefSummary::of_brief(&b));
        }
        let text = |ptr: &str| v.pointer(ptr).and_then(Value::as_str).map(str::to_owned);
        let day = |ptr: &str| {
            v.pointer(ptr)
                .and_then(Value::as_str)
                .and_then(|s| BriefTime::parse(s).ok())
                .map(|t| match t {
                    BriefTime::Date(d) => d,
                    BriefTime::DateTime(dt) => dt.date_naive(),
                })
        };
        let total = v.pointer("/budget/total").and_then(|t| match t {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        });
        let summary = BriefSummary {
            city: text("/location/city"),
            country: text("/location/country"),
            start_date: day("/date_range/start"),
            end_date: day("/date_range/end"),
            audience_size: v
                .pointer("/audience_size")
                .and_then(Value::as_u64)
                .and_then(|n| u32::try_from(n).ok()),
            currency: text("/budget/currency"),
            budget_total: total,
        };
        (text("/title"), summary)
    }
}

/// One line of the event list: the event's status and brief summary, and how many approval
/// requests of its current revisions wait for a decision. Read in one query, no payloads.
#[derive(Debug, Clone, PartialEq)]
pub struct EventListRow {
    pub id: EventId,
    pub title: String,
    pub state: LifecycleState,
    pub run_status: RunStatus,
    pub level: Level,
    pub status_detail: Option<String>,
    /// The run's timer ([`EventRow::wake_at`]).
    pub wake_at: Option<DateTime<Utc>>,
    pub summary: BriefSummary,
    /// Pending approval requests of the event.
    pub pending_approvals: u32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub archived_at: Option<DateTime<Utc>>,
}

/// One pending approval request of a current revision with its event's summary: a line of the
/// approvals inbox, read in one query.
#[derive(Debug, Clone, PartialEq)]
pub struct InboxRow {
    pub id: ApprovalId,
    pub event_id: EventId,
    pub gate: ApprovalGate,
    pub artifact_revision: u32,
    pub requested_at: DateTime<Utc>,
    pub deadline: DateTime<Utc>,
    pub required_approvals: u32,
    /// Approving votes cast so far.
    pub approve_votes: u32,
    pub event_title: String,
    pub state: LifecycleState,
    pub run_status: RunStatus,
    pub summary: BriefSummary,
}

/// The lease a worker commits under.
#[derive(Debug, Clone, PartialEq)]
pub struct Fence {
    /// The instance holding the lease.
    pub owner: String,
    /// The lease's new expiry, in milliseconds since the Unix epoch.
    pub until_ms: i64,
}

/// What a notification is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutboxKind {
    ApprovalRequested,
    ApprovalEscalated,
    RunStopped,
    /// A task is due soon and not recorded done.
    TaskReminder,
    /// A task passed its due date and is escalated.
    TaskOverdue,
    /// A person reported an incident on a live event.
    Incident,
    /// An approved message draft, to its recipient.
    Message,
}

impl OutboxKind {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxKind::ApprovalRequested => "approval_requested",
            OutboxKind::ApprovalEscalated => "approval_escalated",
            OutboxKind::RunStopped => "run_stopped",
            OutboxKind::TaskReminder => "task_reminder",
            OutboxKind::TaskOverdue => "task_overdue",
            OutboxKind::Incident => "incident",
            OutboxKind::Message => "message",
        }
    }

    /// Parses a snake_case name.
    pub fn parse(s: &str) -> Option<OutboxKind> {
        [
            OutboxKind::ApprovalRequested,
            OutboxKind::ApprovalEscalated,
            OutboxKind::RunStopped,
            OutboxKind::TaskReminder,
            OutboxKind::TaskOverdue,
            OutboxKind::Incident,
            OutboxKind::Message,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// A notification to write in a commit. It is e-mailed too when its payload names recipients
/// (`"recipients": [{"name": …, "email": …}]`).
#[derive(Debug, Clone, PartialEq)]
pub struct NewOutbox {
    pub id: Uuid,
    pub kind: OutboxKind,
    /// A notification with a key already stored is not written again.
    pub dedupe_key: String,
    pub payload: Value,
}

impl NewOutbox {
    /// Whether the payload names at least one e-mail recipient.
    pub fn mailed(&self) -> bool {
        self.payload["recipients"]
            .as_array()
            .is_some_and(|r| !r.is_empty())
    }
}

/// How a notification leaves: POSTed to the webhook, or e-mailed to its recipients. Each has
/// its own delivery state on the notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    Webhook,
    Mail,
}

impl Channel {
    /// The prefix of this channel's delivery columns in `outbox`.
    pub(crate) fn prefix(self) -> &'static str {
        match self {
            Channel::Webhook => "",
            Channel::Mail => "mail_",
        }
    }
}

/// Where a notification stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutboxStatus {
    Pending,
    Delivered,
    /// Gave up after the last retry.
    Dead,
}

impl OutboxStatus {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxStatus::Pending => "pending",
            OutboxStatus::Delivered => "delivered",
            OutboxStatus::Dead => "dead",
        }
    }

    /// Parses a snake_case name.
    pub fn parse(s: &str) -> Option<OutboxStatus> {
        [
            OutboxStatus::Pending,
            OutboxStatus::Delivered,
            OutboxStatus::Dead,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// A stored notification, with the delivery state of one channel (the webhook's unless it was
/// read for another).
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxRow {
    pub id: Uuid,
    pub event_id: EventId,
    pub kind: OutboxKind,
    pub dedupe_key: String,
    pub payload: Value,
    pub created_at: DateTime<Utc>,
    pub status: OutboxStatus,
    pub attempts: u32,
    pub next_attempt_ms: i64,
    pub delivered_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

/// A stored API token (the secret only as its hash).
#[derive(Debug, Clone, PartialEq)]
pub struct TokenRow {
    pub id: String,
    pub name: String,
    pub role: Role,
    /// Whether the token may read vendor contract terms and negotiation notes.
    pub contracts: bool,
    /// The secret's hash: `hmac-sha256$<key fingerprint>$<mac>` (keyed by the server's token
    /// key), or the argon2 PHC string of a token created before 0.1's keyed hashes.
    pub secret_hash: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Whether a commit wrote anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitOutcome {
    /// Written as step number `seq` of the event.
    Applied { seq: u64 },
    /// The step key was committed before; nothing was written.
    AlreadyApplied,
}

/// The state of one event as loaded for a decision.
#[derive(Debug, Clone, PartialEq)]
pub struct EventSnapshot {
    pub event: EventRow,
    /// Newest revision of each type.
    pub artifacts: Vec<Envelope>,
    pub approvals: Vec<ApprovalRow>,
    pub decision_count: u64,
    pub change_count: u64,
    pub step_count: u64,
    /// Keys of every committed step, in order.
    pub steps: Vec<String>,
    /// The event's commit counter when the snapshot was taken (read first).
    pub seq: u64,
}

pub(crate) fn vote_from_tuple(
    t: (String, String, String, String, DateTime<Utc>),
) -> Result<Vote, StoreError> {
    Ok(Vote {
        approval_id: parse_uuid(&t.0)?,
        voter: t.1,
        decision: ApprovalDecision::parse(&t.2)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown decision `{}`", t.2)))?,
        comment: t.3,
        at: t.4,
    })
}
