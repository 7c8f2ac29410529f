//! Row types: what the store reads and writes, typed at the boundary (enums parsed, ids checked).

use crate::{StoreError, parse_state};
use chrono::{DateTime, Utc};
use eods_domain::access::Role;
use eods_domain::artifact::{ArtifactRef, ArtifactType, Envelope};
use eods_domain::catalog::audit::{ChangeEntry, DecisionEntry};
use eods_domain::ids::{ApprovalId, ArtifactId, EventId};
use eods_domain::instruction::Level;
use eods_domain::lifecycle::{
    ApprovalDecision, ApprovalGate, ApprovalStatus, LifecycleState, RunStatus,
};
use eods_domain::run::RunOptions;
use serde_json::Value;
use sqlx::types::Json;
use uuid::Uuid;

/// One event: lifecycle state, run status and the brief as submitted.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRow {
    pub id: EventId,
    pub title: String,
    pub state: LifecycleState,
    pub run_status: RunStatus,
    pub level: Level,
    /// Why the run stopped, when it did (missing fields, failed gates, pending approvals).
    pub status_detail: Option<String>,
    /// The brief as submitted (it may be incomplete when the run needs input).
    pub brief: Value,
    /// Run options (approval mode, seed, injected incidents).
    pub options: RunOptions,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub(crate) type EventTuple = (
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Json<Value>,
    Json<Value>,
    DateTime<Utc>,
    DateTime<Utc>,
);

impl TryFrom<EventTuple> for EventRow {
    type Error = StoreError;
    fn try_from(t: EventTuple) -> Result<Self, StoreError> {
        Ok(EventRow {
            id: parse_uuid(&t.0)?,
            title: t.1,
            state: parse_state(&t.2)?,
            run_status: RunStatus::parse(&t.3)
                .ok_or_else(|| StoreError::Corrupt(format!("unknown run status `{}`", t.3)))?,
            level: Level::parse(&t.4).map_err(StoreError::Corrupt)?,
            status_detail: t.5,
            brief: t.6.0,
            options: serde_json::from_value(t.7.0)
                .map_err(|e| StoreError::Corrupt(format!("run options of event {}: {e}", t.0)))?,
            created_at: t.8,
            updated_at: t.9,
        })
    }
}

/// An event row followed by its commit counter and the number of DecisionLog and ChangeLog
/// entries (the head of a snapshot).
pub(crate) type SnapshotHead = (
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Json<Value>,
    Json<Value>,
    DateTime<Utc>,
    DateTime<Utc>,
    i64,
    i64,
    i64,
);

/// The event row, its counter and its log counts.
pub(crate) fn split_head(h: SnapshotHead) -> Result<(EventRow, i64, i64, i64), StoreError> {
    let (seq, decisions, changes) = (h.10, h.11, h.12);
    let row = EventRow::try_from((h.0, h.1, h.2, h.3, h.4, h.5, h.6, h.7, h.8, h.9))?;
    Ok((row, seq, decisions, changes))
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
    /// A new brief as submitted (with its title and level), for amendments.
    pub brief: Option<BriefWrite>,
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
    /// Approval requests escalated in this commit (their deadline passed): stamped, so the
    /// service's timer does not escalate them again.
    pub escalated: Vec<ApprovalId>,
}

/// The event's brief, title and level after an amendment.
#[derive(Debug, Clone, PartialEq)]
pub struct BriefWrite {
    pub title: String,
    pub brief: Value,
    pub level: Level,
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
}

impl OutboxKind {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxKind::ApprovalRequested => "approval_requested",
            OutboxKind::ApprovalEscalated => "approval_escalated",
            OutboxKind::RunStopped => "run_stopped",
        }
    }

    /// Parses a snake_case name.
    pub fn parse(s: &str) -> Option<OutboxKind> {
        [
            OutboxKind::ApprovalRequested,
            OutboxKind::ApprovalEscalated,
            OutboxKind::RunStopped,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// A notification to write in a commit.
#[derive(Debug, Clone, PartialEq)]
pub struct NewOutbox {
    pub id: Uuid,
    pub kind: OutboxKind,
    /// A notification with a key already stored is not written again.
    pub dedupe_key: String,
    pub payload: Value,
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

/// A stored notification.
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
