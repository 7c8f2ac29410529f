//! The EODS lifecycle engine. It loads an event's state from the store, asks the pure
//! [`decide::next_action`] what to do, runs agent steps, validates their outputs (an agent never
//! certifies itself), and commits outputs, trace and audit entries in one keyed transaction, so a
//! retried or resumed step never duplicates anything. It owns approvals and the directives that
//! rejections produce. It knows nothing of HTTP or terminals: callers plug in an [`Approver`] and
//! a [`Progress`] sink.

mod amend;
#[cfg(test)]
mod builders_test;
pub mod decide;
pub mod drafts;
mod edit;
mod feedback;
mod interpret;
mod loaded;
mod records;
pub mod replay;
pub mod report;
pub mod summarise;
mod supply;
mod tasks;
pub mod worker;

pub use amend::{Amended, merge_patch};
pub use edit::{EditError, EditOutcome};
pub use eods_domain::run::RunOptions;
pub use feedback::{FeedbackAnswer, FeedbackRecorded};
pub use supply::{Supply, SupplyError, SupplyOutcome};
pub use tasks::{TaskError, TaskRecorded, status_words};

use chrono::{DateTime, Utc};
use decide::{Action, next_action, step_key};
use eods_agents::sources::{EventData, ExternalVenues};
use eods_agents::{AgentError, Directives, Step, StepInput, Tools, run_step};
use eods_domain::artifact::{ArtifactRef, ArtifactType, CatalogType, Envelope, Payload};
use eods_domain::blackboard::{Blackboard, Current};
use eods_domain::catalog::audit::{AgentTrace, ChangeType, DecisionType, TraceStatus};
use eods_domain::catalog::brief::EventBrief;
use eods_domain::catalog::budget::{ApprovalRecord, BudgetDecision, BudgetStatus};
use eods_domain::catalog::execution::ApprovalLatency;
use eods_domain::catalog::logistics::VendorContracts;
use eods_domain::catalog::venue::VenueScorecard;
use eods_domain::directive::{CapReading, Directive, parse_cap};
use eods_domain::ids::{ApprovalId, ArtifactId, EventId};
use eods_domain::instruction::Level;
use eods_domain::intake::{BriefError, brief_from_value};
use eods_domain::lifecycle::{
    ApprovalDecision, ApprovalGate, ApprovalStatus, LifecycleState, RunStatus, content_revision,
};
use eods_domain::money::Money;
use eods_domain::schema::{validate_built, validate_document};
use eods_domain::validate::{Violation, validate_references_of};
use eods_sources::{BoxFuture, VenueQuery};
use eods_store::{
    ApprovalDecisionWrite, ApprovalRow, BriefSummary, Commit, CommitOutcome, EventRow,
    EventSnapshot, NewApproval, StatusWrite, Store, StoreError,
};
use loaded::Loaded;
use records::Records;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Instant;
use uuid::Uuid;

/// Reads the time. The engine never calls `Utc::now()` directly so tests can fix the clock.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;

    /// The engine is about to build an event's commit number `step` (its step count plus one).
    /// A replay's clock then reads the instant the recorded commit of that number was made;
    /// other clocks ignore it.
    fn entering(&self, _step: u64) {}
}

/// The wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        to_micros(Utc::now())
    }
}

/// `t` to the microsecond: what both databases keep of an instant, so an instant written into a
/// payload is the same as the one in a column beside it (and a replay can read it back).
fn to_micros(t: DateTime<Utc>) -> DateTime<Utc> {
    chrono::SubsecRound::trunc_subsecs(t, 6)
}

/// The wall clock moved to another instant: it reads `start` when made and advances with real
/// time from there. `EODS_NOW` sets it for the command line and the service, to run as of a given
/// day (reproducing a run, or tests whose briefs are dated).
#[derive(Debug, Clone, Copy)]
pub struct ShiftedClock {
    offset: chrono::TimeDelta,
}

impl ShiftedClock {
    /// A clock that reads `start` now.
    pub fn starting_at(start: DateTime<Utc>) -> Self {
        Self {
            offset: start - Utc::now(),
        }
    }
}

impl Clock for ShiftedClock {
    fn now(&self) -> DateTime<Utc> {
        to_micros(Utc::now() + self.offset)
    }
}

/// Parses the instant a [`ShiftedClock`] starts at: an RFC 3339 date-time
/// (`2026-12-01T09:00:00Z`) or a date (`2026-12-01`, read as noon UTC, which is that date in
/// every time zone from UTC−11 to UTC+11).
pub fn parse_instant(s: &str) -> Result<DateTime<Utc>, String> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(12, 0, 0))
        .map(|t| t.and_utc())
        .ok_or_else(|| {
            format!("`{s}` is not an instant: expected a date-time such as 2026-12-01T09:00:00Z or a date such as 2026-12-01")
        })
}

/// Clocks for tests; not used by the product.
pub mod test_support {
    /// The wall clock moved to the day the tests' briefs were written for
    /// ([`eods_store::test_support::TESTS_TODAY`]), so a dated brief is never refused as past.
    pub fn clock() -> std::sync::Arc<dyn super::Clock> {
        std::sync::Arc::new(super::ShiftedClock::starting_at(
            eods_store::test_support::tests_today(),
        ))
    }
}

/// Failure injection and observation around commits (tests and crash drills).
pub trait Hooks: Send + Sync {
    /// Runs inside the transaction just before COMMIT; an error rolls the step back.
    fn before_commit(&self, _step_key: &str) -> Result<(), String> {
        Ok(())
    }
    /// Runs after a commit that wrote something, with the event's step number.
    fn after_commit(&self, _seq: u64) {}
}

/// No hooks.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoHooks;
impl Hooks for NoHooks {}

/// A pending approval as shown to an approver.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingApproval {
    pub id: ApprovalId,
    pub gate: ApprovalGate,
    pub artifact_revision: u32,
    /// One paragraph on what is being approved.
    pub summary: String,
    /// Who wrote `summary` when a language model did (`model:NAME`, its figures checked
    /// against the artifacts); `None`: the engine's own.
    pub summary_by: Option<String>,
}

/// One event as a person sees it (see [`Engine::overview`]).
#[derive(Debug, Clone)]
pub struct Overview {
    pub event: eods_store::EventRow,
    pub level: Level,
    pub blackboard: Blackboard,
    pub approvals: Vec<eods_store::ApprovalRow>,
    pub pending: Vec<PendingApproval>,
    /// The state the event would move to now, or what blocks the move.
    pub next: Result<LifecycleState, eods_domain::lifecycle::Blocked>,
    pub step_count: u64,
    /// While the run is blocked: the escalation it stopped at (why, and the ranked ways out).
    pub escalation: Option<eods_domain::catalog::audit::DecisionEntry>,
}

/// A run-control command from a person or an integrator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunCommand {
    /// Queue the run (from idle, blocked or failed; a worker picks it up).
    Start,
    /// Stop at the next step boundary.
    Pause,
    /// Continue a paused run.
    Resume,
    /// End the run for good.
    Cancel,
}

impl RunCommand {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            RunCommand::Start => "start",
            RunCommand::Pause => "pause",
            RunCommand::Resume => "resume",
            RunCommand::Cancel => "cancel",
        }
    }

    /// The run statuses the command applies to, and the status it sets.
    pub fn transition(self) -> (&'static [RunStatus], RunStatus) {
        use RunStatus::*;
        match self {
            RunCommand::Start => (&[Idle, Blocked, Failed, Running, AwaitingApproval], Running),
            RunCommand::Pause => (&[Idle, Running, AwaitingApproval, Blocked], Paused),
            RunCommand::Resume => (&[Paused], Running),
            RunCommand::Cancel => (
                &[
                    Idle,
                    Running,
                    AwaitingApproval,
                    Blocked,
                    Paused,
                    Failed,
                    NeedsInput,
                ],
                Cancelled,
            ),
        }
    }
}

/// What a decision did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApprovalOutcome {
    /// The request is decided and has this status now.
    Decided(ApprovalStatus),
    /// An approval was counted; the request waits for more (quorum).
    Voted { approvals: u32, required: u32 },
}

/// An approver's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub decision: ApprovalDecision,
    pub comment: String,
    /// `user:<name>`.
    pub by: String,
}

/// Decides approvals during a run (the CLI's `--approve auto|prompt`).
pub trait Approver {
    fn decide(&mut self, request: &PendingApproval) -> Answer;

    /// The engine refused the last answer to `request` for `reason` (e.g. approving a plan above
    /// a fixed budget). Returns whether to ask again; by default the run ends with the refusal.
    fn refused(&mut self, _request: &PendingApproval, _reason: &str) -> bool {
        false
    }

    /// Whether this approver answers in the same process without a person (a policy): its
    /// decisions may then be written in one transaction with the requests they answer and what
    /// follows. By default requests are stored before they are asked.
    fn answers_at_once(&self) -> bool {
        false
    }

    /// Whether it answers `request` at all (by default it answers every request). A request it
    /// does not answer waits, stored, for a person, as without an approver (a replay leaves
    /// pending what was never decided).
    fn answers(&self, _request: &PendingApproval) -> bool {
        true
    }
}

/// What the engine reports while it runs.
#[derive(Debug, Clone, PartialEq)]
pub enum ProgressEvent {
    StepCommitted {
        state: LifecycleState,
        step: Step,
        summary: String,
        millis: u128,
        applied: bool,
    },
    Advanced {
        from: LifecycleState,
        to: LifecycleState,
    },
    ApprovalDecided {
        gate: ApprovalGate,
        decision: ApprovalDecision,
        by: String,
    },
    Stopped {
        status: RunStatus,
        detail: Option<String>,
    },
}

/// Receives progress events.
pub trait Progress {
    fn report(&mut self, event: ProgressEvent);
}

/// Ignores progress.
#[derive(Debug, Default)]
pub struct Quiet;
impl Progress for Quiet {
    fn report(&mut self, _event: ProgressEvent) {}
}

/// How a run ended (for now).
#[derive(Debug, Clone, PartialEq)]
pub struct RunSummary {
    pub event_id: EventId,
    pub state: LifecycleState,
    pub run_status: RunStatus,
    pub detail: Option<String>,
}

/// Everything that can stop the engine.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Agent(#[from] AgentError),
    #[error("the brief is incomplete; missing fields: {}", missing.join(", "))]
    NeedsInput {
        event_id: EventId,
        missing: Vec<String>,
    },
    #[error("{0}")]
    InvalidBrief(BriefError),
    #[error("event {0} not found")]
    NotFound(EventId),
    #[error("stored {what} is not valid: {detail}")]
    Corrupt { what: String, detail: String },
    #[error("approval {id}: {reason}")]
    Approval { id: ApprovalId, reason: String },
    /// The approver wrote what the request approves, or what re-opened it: someone else decides.
    #[error("approval {id}: {reason}")]
    OwnEdit { id: ApprovalId, reason: String },
    /// A decision the engine will not record as given: `pointer` names the part of the decision
    /// to change (`/decision`, `/comment`) and `reason` says how.
    #[error("approval {id}: {reason}")]
    DecisionRefused {
        id: ApprovalId,
        pointer: String,
        reason: String,
    },
    #[error("{0}")]
    InvalidCommand(String),
    #[error(transparent)]
    Edit(#[from] EditError),
    #[error(transparent)]
    Supply(#[from] SupplyError),
    #[error(transparent)]
    Task(#[from] TaskError),
    #[error(transparent)]
    Draft(#[from] drafts::DraftError),
    #[error("the run did not settle after {0} actions")]
    Runaway(usize),
}

/// The engine for one database.
#[derive(Clone)]
pub struct Engine {
    store: Store,
    tools: Arc<Tools>,
    clock: Arc<dyn Clock>,
    hooks: Arc<dyn Hooks>,
    /// Set on a worker's engine: commits apply only while this instance holds the event's lease.
    lease: Option<Lease>,
    /// The correlation id of the request this engine acts for (else one per action).
    correlation: Option<String>,
    /// The external venue sources (an imported OpenStreetMap extract, the Overpass API).
    gatherer: Option<Arc<dyn VenueGatherer>>,
    /// The language model that reads brief texts the recogniser did not understand (issue 16).
    model: Option<Arc<eods_model::ModelClient>>,
}

/// Gathers venues for one event from the external sources, each behind its timeouts, retries,
/// circuit breaker and cache, and says what each answered (see `eods_sources::chain`).
pub trait VenueGatherer: Send + Sync {
    /// Venues for `q`; `wanted` is how many leads the Venue Researcher shortlists at least.
    fn gather<'a>(&'a self, q: &'a VenueQuery, wanted: usize) -> BoxFuture<'a, ExternalVenues>;
}

/// A worker's lease on the events it runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Lease {
    /// The instance id.
    pub owner: String,
    /// How long a lease lasts after each commit.
    pub ttl: std::time::Duration,
}

/// What is created with an event besides its brief ([`Engine::create`]).
#[derive(Debug, Clone, Default)]
pub struct Creation {
    /// The organiser's data given with the brief: the supply, who gave it, and a comment.
    pub supply: Option<(Supply, String, String)>,
    /// Start the run, as this person, when the brief is complete.
    pub start_by: Option<String>,
}

/// What one action writes, computed from the in-memory state: the commit, what to report once
/// it is stored, and the end of the run it leads to, if it does.
struct Built {
    commit: Commit,
    progress: Vec<ProgressEvent>,
    stop: Option<RunSummary>,
    /// The blackboard after the commit, when the builder has it typed (a step's outputs), so
    /// applying the commit need not parse its artifacts again.
    typed: Option<Blackboard>,
}

impl Built {
    /// `commit` as the end of the run: it writes `run_status` in `state`, explained by `detail`,
    /// and the run stops with that summary.
    fn stopping(
        mut commit: Commit,
        state: LifecycleState,
        run_status: RunStatus,
        detail: String,
    ) -> Built {
        commit.status = Some(StatusWrite {
            state,
            run_status,
            detail: Some(detail.clone()),
            wake_at: None,
        });
        Built {
            stop: Some(RunSummary {
                event_id: commit.event_id,
                state,
                run_status,
                detail: Some(detail),
            }),
            commit,
            progress: vec![],
            typed: None,
        }
    }
}

impl Built {
    /// `commit` as a step of a running run (it keeps the state, sets the run status running),
    /// with nothing to report and no stop.
    fn running(l: &Loaded, mut commit: Commit) -> Built {
        commit.status = Some(StatusWrite {
            state: l.snap.event.state,
            run_status: RunStatus::Running,
            detail: None,
            wake_at: None,
        });
        Built {
            commit,
            progress: vec![],
            stop: None,
            typed: None,
        }
    }
}

/// Commits computed and applied in memory, not yet written ([`Engine::flush`] writes them in one
/// transaction), with their progress reports and a status to restore for a stop recorded before.
#[derive(Default)]
struct Staged {
    commits: Vec<Commit>,
    progress: Vec<ProgressEvent>,
    status: Option<StatusWrite>,
}

const MAX_ACTIONS: usize = 500;

/// How often a run asks an approver whose answer was refused.
const REASKS: usize = 5;

impl Engine {
    /// An engine over `store` with the bundled tools, the wall clock and no hooks.
    pub fn new(store: Store, tools: Arc<Tools>) -> Self {
        Self {
            store,
            tools,
            clock: Arc::new(SystemClock),
            hooks: Arc::new(NoHooks),
            lease: None,
            correlation: None,
            gatherer: None,
            model: None,
        }
    }

    /// The same engine putting brief texts the recogniser did not understand to `model`
    /// (see `interpret.rs`).
    pub fn with_model(mut self, model: Arc<eods_model::ModelClient>) -> Self {
        self.model = Some(model);
        self
    }

    /// The same engine gathering venues from external sources through `g`.
    pub fn with_gatherer(mut self, g: Arc<dyn VenueGatherer>) -> Self {
        self.gatherer = Some(g);
        self
    }

    /// The same engine recording `id` as the correlation id of what it writes (an HTTP
    /// request's `X-Correlation-Id`).
    pub fn with_correlation(mut self, id: String) -> Self {
        self.correlation = Some(id);
        self
    }

    fn correlation_id(&self) -> String {
        self.correlation
            .clone()
            .unwrap_or_else(|| Uuid::now_v7().to_string())
    }

    /// The same engine committing under `lease` (a worker's view).
    pub fn with_lease(mut self, lease: Lease) -> Self {
        self.lease = Some(lease);
        self
    }

    /// The clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The bundled tools (instruction sets, catalogs).
    pub fn tools(&self) -> &Arc<Tools> {
        &self.tools
    }

    /// Replaces the clock.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Replaces the hooks.
    pub fn with_hooks(mut self, hooks: Arc<dyn Hooks>) -> Self {
        self.hooks = hooks;
        self
    }

    /// This engine writing to `store` instead (the same database through another pool).
    pub fn with_store(mut self, store: Store) -> Self {
        self.store = store;
        self
    }

    /// The store this engine writes to.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Creates an event from a brief. An incomplete brief still creates the event, in
    /// `needs_input`, and the error names every missing field; an invalid one creates nothing.
    pub async fn submit(
        &self,
        brief: serde_json::Value,
        options: &RunOptions,
    ) -> Result<EventId, EngineError> {
        self.create(brief, options, Creation::default()).await
    }

    /// Creates an event from a brief with what comes with it — the organiser's data, and the
    /// command to start the run — in one transaction, so a crash leaves either nothing or an
    /// event that is complete and queued. Errors as [`Self::submit`]; an incomplete brief creates
    /// the event (in `needs_input`) with its data, and is not started.
    pub async fn create(
        &self,
        brief: serde_json::Value,
        options: &RunOptions,
        with: Creation,
    ) -> Result<EventId, EngineError> {
        Ok(self.create_row(brief, options, with).await?.id)
    }

    /// [`Self::create`], answering the event row as this transaction wrote it.
    pub async fn create_row(
        &self,
        brief: serde_json::Value,
        options: &RunOptions,
        with: Creation,
    ) -> Result<EventRow, EngineError> {
        let (l, commits) = self.prepare_create(brief, options, with).await?;
        // A submission is not a step of a run: the hooks (failure injection, crash drills) see
        // the run's transactions only.
        self.store.commit_batch(&commits, || Ok(())).await?;
        Ok(l.snap.event)
    }

    /// Creates an event from a complete brief and runs it, as [`Self::create`] then
    /// [`Self::run`] would, except that the creation is written in the run's first transaction
    /// (with everything computed up to the first wait point) instead of one of its own. A crash
    /// before that transaction leaves nothing, as a failed submission does. An incomplete brief
    /// creates the event in `needs_input` and answers [`EngineError::NeedsInput`].
    pub async fn create_and_run(
        &self,
        brief: serde_json::Value,
        options: &RunOptions,
        approver: Option<&mut (dyn Approver + Send)>,
        progress: &mut (dyn Progress + Send),
    ) -> Result<RunSummary, EngineError> {
        if self.lease.is_some() {
            // A leased instance writes only events whose lease it holds: create, then run.
            let id = self.create(brief, options, Creation::default()).await?;
            return self.run(id, approver, progress).await;
        }
        let (l, commits) = self
            .prepare_create(brief, options, Creation::default())
            .await?;
        let staged = Staged {
            commits,
            ..Staged::default()
        };
        self.run_loaded(l, staged, approver, progress).await
    }

    /// The commits that create an event (the first creates its row) and the event as they leave
    /// it, to be written. An incomplete brief is written at once, as a draft in `needs_input`,
    /// and answered with [`EngineError::NeedsInput`].
    async fn prepare_create(
        &self,
        brief: serde_json::Value,
        options: &RunOptions,
        with: Creation,
    ) -> Result<(Loaded, Vec<Commit>), EngineError> {
        if with.supply.as_ref().is_some_and(|(s, _, _)| s.is_empty()) {
            return Err(SupplyError::Empty.into());
        }
        let now = self.clock.now();
        let id = EventId(Uuid::now_v7());
        let correlation = self.correlation_id();
        let mut options = options.clone();
        options
            .correlation_id
            .get_or_insert_with(|| correlation.clone());
        // Planning starts no earlier than today in the event's zone (kept, so a re-plan next
        // month still plans from the day of submission, and the plan's key stays put); an
        // event allowed to lie in the past (a record or a rehearsal) is planned as it was.
        if options.planned_from.is_none() && !options.allow_past {
            let tz = brief
                .get("timezone")
                .and_then(|t| t.as_str())
                .and_then(|t| t.parse::<chrono_tz::Tz>().ok())
                .unwrap_or(chrono_tz::UTC);
            options.planned_from = Some(now.with_timezone(&tz).date_naive());
        }
        let options = &options;
        let title = brief
            .get("title")
            .and_then(|t| t.as_str())
            .unwrap_or("(untitled)")
            .to_owned();
        let parsed = brief_from_value(brief.clone()).and_then(|b| {
            match eods_domain::intake::past_dates(&b, now) {
                Some(v) if !options.allow_past => Err(BriefError::Invalid {
                    violations: vec![v],
                }),
                _ => Ok(b),
            }
        });
        let (level, status, detail) = match &parsed {
            Ok(b) => (
                options
                    .level
                    .unwrap_or_else(|| Level::for_audience(b.audience_size)),
                RunStatus::Idle,
                None,
            ),
            Err(BriefError::Incomplete { missing }) => (
                options.level.unwrap_or(Level::Beginner),
                RunStatus::NeedsInput,
                Some(format!("missing fields: {}", missing.join(", "))),
            ),
            Err(e) => return Err(EngineError::InvalidBrief(e.clone())),
        };
        let row = EventRow {
            id,
            title: parsed.as_ref().map_or(title, |b| b.title.clone()),
            state: LifecycleState::Initiate,
            run_status: status,
            level,
            status_detail: detail,
            wake_at: None,
            // An incomplete brief is kept as the event's draft until the amendment that
            // completes it commits revision 1; a complete one is revision 1, in this transaction.
            summary: match &parsed {
                Ok(b) => BriefSummary::of_brief(b),
                Err(_) => BriefSummary::of_value(&brief).1,
            },
            draft: parsed.is_err().then_some(brief),
            options: options.clone(),
            created_at: now,
            updated_at: now,
            archived_at: None,
        };
        let parsed = match parsed {
            Ok(b) => b,
            Err(BriefError::Incomplete { missing }) => {
                self.store.create_event(&row).await?;
                if let Some((supply, by, comment)) = with.supply {
                    self.supply(id, supply, &by, &comment).await?;
                }
                return Err(EngineError::NeedsInput {
                    event_id: id,
                    missing,
                });
            }
            Err(e) => return Err(EngineError::InvalidBrief(e)),
        };
        let envelope = Envelope {
            id: ArtifactId(Uuid::now_v7()),
            event_id: id,
            artifact_type: ArtifactType::EventBrief,
            revision: 1,
            schema_version: ArtifactType::EventBrief.schema_version().into(),
            created_at: now,
            created_by: options.submitted_by.clone(),
            correlation_id: correlation.clone(),
            derived_from: vec![],
            payload: parsed.into_payload().to_value(),
        };
        let mut rec = Records::new(0, 0, &envelope.correlation_id, now);
        rec.change(
            ChangeType::Created,
            "event_brief revision 1 submitted",
            vec![envelope.as_ref()],
            &options.submitted_by,
            None,
        );
        rec.decision(
            DecisionType::StateTransition,
            "Brief accepted; event created in initiate",
            &options.submitted_by,
            &format!("level {level}"),
            vec![],
            None,
            vec![],
        );
        let commit = Commit {
            event_id: id,
            step_key: "submit".into(),
            at: now,
            artifacts: vec![envelope],
            decisions: rec.decisions,
            changes: rec.changes,
            ..Commit::default()
        };
        // What comes with the brief is built on the event as the submission leaves it.
        let mut l = Loaded::from_snapshot(EventSnapshot {
            event: row.clone(),
            artifacts: vec![],
            approvals: vec![],
            decision_count: 0,
            change_count: 0,
            step_count: 0,
            steps: vec![],
            seq: 0,
        })?;
        l.apply(&commit)?;
        let mut commits = vec![Commit {
            create_event: Some(row),
            ..commit
        }];
        if let Some((supply, by, comment)) = &with.supply {
            let (c, _) = self.build_supply(&l, supply, by, comment, &correlation, now)?;
            l.apply(&c)?;
            commits.push(c);
        }
        if let Some(by) = &with.start_by
            && let Some(c) = self.build_command(&l, RunCommand::Start, by, &correlation, now)?
        {
            l.apply(&c)?;
            commits.push(c);
        }
        Ok((l, commits))
    }

    async fn load(&self, id: EventId) -> Result<Loaded, EngineError> {
        let snap = self.store.snapshot(id).await.map_err(|e| match e {
            StoreError::NotFound(_) => EngineError::NotFound(id),
            e => EngineError::Store(e),
        })?;
        Loaded::from_snapshot(snap)
    }

    /// Drives the event until it completes, needs a person, or is blocked. With an approver,
    /// pending approvals are decided on the spot.
    ///
    /// The event's state is read once and kept in memory: each action is computed from it and
    /// applied to it ([`Loaded::apply`]), and the commits of consecutive actions are written
    /// together in one transaction at the next wait point (an approval asked of a person, an
    /// external call, a stop, the end). Every commit keeps its own key, trace and log entries, so
    /// what is stored is the same as with one transaction per action; a crash before the
    /// transaction recomputes the same results. The transaction requires the event's commit
    /// counter the state was read at: when another writer came in between, nothing is written,
    /// the state is read again and the actions are recomputed from it.
    pub async fn run(
        &self,
        id: EventId,
        approver: Option<&mut (dyn Approver + Send)>,
        progress: &mut (dyn Progress + Send),
    ) -> Result<RunSummary, EngineError> {
        let l = self.load(id).await?;
        self.run_loaded(l, Staged::default(), approver, progress)
            .await
    }

    /// The span of one run of an event: its steps, commits and outbound calls are its children.
    fn run_span(id: EventId) -> tracing::Span {
        tracing::info_span!(
            "run",
            event_id = %id,
            correlation_id = tracing::field::Empty,
            outcome = tracing::field::Empty
        )
    }

    /// [`Self::run`] from `l`, with `pending` staged (applied to `l`, not yet written), in a
    /// `run` span.
    async fn run_loaded(
        &self,
        l: Loaded,
        pending: Staged,
        approver: Option<&mut (dyn Approver + Send)>,
        progress: &mut (dyn Progress + Send),
    ) -> Result<RunSummary, EngineError> {
        let span = Self::run_span(l.snap.event.id);
        let out = tracing::Instrument::instrument(
            self.run_loaded_in_span(l, pending, approver, progress),
            span.clone(),
        )
        .await;
        span.record(
            "outcome",
            match &out {
                Ok(s) => s.run_status.as_str(),
                Err(_) => "error",
            },
        );
        out
    }

    async fn run_loaded_in_span(
        &self,
        mut l: Loaded,
        mut pending: Staged,
        mut approver: Option<&mut (dyn Approver + Send)>,
        progress: &mut (dyn Progress + Send),
    ) -> Result<RunSummary, EngineError> {
        let id = l.snap.event.id;
        // A run's entries carry the id of the request that created the event, unless the caller
        // set one.
        let correlation = self.correlation.clone().unwrap_or_else(|| {
            l.options
                .correlation_id
                .clone()
                .unwrap_or_else(|| Uuid::now_v7().to_string())
        });
        let restart = |l: &mut Loaded| {
            if matches!(
                l.snap.event.run_status,
                RunStatus::Idle
                    | RunStatus::AwaitingApproval
                    | RunStatus::Blocked
                    | RunStatus::Failed
            ) {
                // Written with the first commit (every commit of a run sets the run status).
                l.snap.event.run_status = RunStatus::Running;
                true
            } else {
                false
            }
        };
        tracing::Span::current().record("correlation_id", correlation.as_str());
        let mut restarted = restart(&mut l);
        for _ in 0..MAX_ACTIONS {
            self.clock.entering(l.snap.step_count + 1);
            match next_action(l.decision_input(self.clock.now())) {
                Action::RunStep(step) => {
                    // The model is an external call too: a wait point.
                    if step == Step::Intake
                        && let Some(texts) = self.interpretation_due(&l)
                    {
                        if !self.flush(&mut l, &mut pending, progress).await? {
                            restarted = restart(&mut l);
                            continue;
                        }
                        let started = self.clock.now();
                        let (calls, kept) = self.interpret(&l, &texts).await?;
                        let built =
                            self.build_interpretation(&l, calls, kept, &correlation, started)?;
                        self.stage(&mut l, &mut pending, built)?;
                        continue;
                    }
                    // An external call is a wait point: what is computed so far is stored first.
                    let query = (step == Step::Research)
                        .then(|| self.gather_query(&l))
                        .flatten();
                    let external = match (query, &self.gatherer) {
                        (Some((q, wanted)), Some(g)) => {
                            if !self.flush(&mut l, &mut pending, progress).await? {
                                restarted = restart(&mut l);
                                continue;
                            }
                            let span = tracing::info_span!(
                                "gather",
                                event_id = %id,
                                correlation_id = %correlation
                            );
                            Some(tracing::Instrument::instrument(g.gather(&q, wanted), span).await)
                        }
                        _ => None,
                    };
                    let built = tracing::info_span!(
                        "step",
                        step = ?step,
                        event_id = %id,
                        correlation_id = %correlation
                    )
                    .in_scope(|| self.build_step(&l, step, &correlation, external))?;
                    if let Some(stop) = self.stage(&mut l, &mut pending, built)? {
                        if !self.flush(&mut l, &mut pending, progress).await? {
                            restarted = restart(&mut l);
                            continue;
                        }
                        return Ok(self.stopped(stop, progress));
                    }
                }
                Action::Advance { from, to } => {
                    let built = self.build_advance(&l, from, to, &correlation);
                    self.stage(&mut l, &mut pending, built)?;
                }
                Action::AwaitApproval => {
                    let requests = self.pending(&l);
                    // The model summarises for the approver (an external call: a wait point).
                    let due = self.summaries_due(&l, &requests);
                    if let (false, Some(model)) = (due.is_empty(), self.model.clone()) {
                        if !self.flush(&mut l, &mut pending, progress).await? {
                            restarted = restart(&mut l);
                            continue;
                        }
                        for p in &due {
                            let started = self.clock.now();
                            let (call, kept) = self.summarise(&model, &l, p).await?;
                            let built =
                                self.build_summary(&l, p, call, kept, &correlation, started)?;
                            self.stage(&mut l, &mut pending, built)?;
                        }
                        continue;
                    }
                    match approver.as_deref_mut() {
                        Some(a) if requests.first().is_some_and(|r| a.answers(r)) => {
                            // A person sees only requests that are stored.
                            if !a.answers_at_once()
                                && !self.flush(&mut l, &mut pending, progress).await?
                            {
                                restarted = restart(&mut l);
                                continue;
                            }
                            self.answer_in_process(
                                &mut l,
                                &mut pending,
                                a,
                                requests,
                                &correlation,
                                progress,
                            )
                            .await?;
                        }
                        _ => {
                            if !self.flush(&mut l, &mut pending, progress).await? {
                                restarted = restart(&mut l);
                                continue;
                            }
                            match self
                                .await_approvals(&mut l, &requests, &correlation)
                                .await?
                            {
                                Some(stop) => return Ok(self.stopped(stop, progress)),
                                None => {
                                    restarted = restart(&mut l);
                                    continue;
                                }
                            }
                        }
                    }
                }
                Action::TaskTimer(t) => {
                    let built = self.build_task_timer(&l, &t, &correlation);
                    self.stage(&mut l, &mut pending, built)?;
                }
                Action::Wait { until, what } => {
                    let built = self.build_wait(&l, until, what, &correlation);
                    let stop = self.stage(&mut l, &mut pending, built)?;
                    if !self.flush(&mut l, &mut pending, progress).await? {
                        restarted = restart(&mut l);
                        continue;
                    }
                    if let Some(stop) = stop {
                        return Ok(self.stopped(stop, progress));
                    }
                }
                Action::Blocked(b) => {
                    let detail = b.to_string();
                    let mut built =
                        self.build_stop(&l, RunStatus::Blocked, &detail, &correlation, vec![]);
                    // A live event's task timers keep firing while it is blocked.
                    if let Some(s) = built.commit.status.as_mut() {
                        s.wake_at = decide::next_timer(&l.decision_input(self.clock.now()));
                    }
                    let stop = self.stage(&mut l, &mut pending, built)?;
                    if !self.flush(&mut l, &mut pending, progress).await? {
                        restarted = restart(&mut l);
                        continue;
                    }
                    if let Some(stop) = stop {
                        return Ok(self.stopped(stop, progress));
                    }
                }
                Action::Done => {
                    if !self.flush(&mut l, &mut pending, progress).await? {
                        restarted = restart(&mut l);
                        continue;
                    }
                    let e = &l.snap.event;
                    if restarted && e.run_status == RunStatus::Running {
                        // Restarted, but there was nothing to commit: the status is still the
                        // stored one; record that the run was taken up.
                        self.store
                            .set_run_status(id, RunStatus::Running, None, self.clock.now())
                            .await?;
                    }
                    return Ok(self.stopped(
                        RunSummary {
                            event_id: id,
                            state: e.state,
                            run_status: e.run_status,
                            detail: e.status_detail.clone(),
                        },
                        progress,
                    ));
                }
            }
        }
        self.flush(&mut l, &mut pending, progress).await?;
        Err(EngineError::Runaway(MAX_ACTIONS))
    }

    /// Asks `a` to answer `requests` in turn and stages each answer (a refused answer is
    /// explained and asked again, a few times); stops after the first answer that is not an
    /// approval, which changes what the remaining requests are about.
    async fn answer_in_process(
        &self,
        l: &mut Loaded,
        pending: &mut Staged,
        a: &mut (dyn Approver + Send),
        requests: Vec<PendingApproval>,
        correlation: &str,
        progress: &mut (dyn Progress + Send),
    ) -> Result<(), EngineError> {
        for p in requests {
            // A request it does not answer waits for a person (the next action asks again).
            if !a.answers(&p) {
                break;
            }
            let mut answer = a.decide(&p);
            // A refused answer is explained and asked again, a few times.
            let mut asked = 1;
            let commit = loop {
                let now = self.clock.now();
                match self.build_decision(l, p.id, &answer, correlation, now) {
                    Err(EngineError::DecisionRefused { reason, .. })
                        if asked < REASKS && a.refused(&p, &reason) =>
                    {
                        answer = a.decide(&p);
                        asked += 1;
                    }
                    Err(e) => {
                        self.flush(l, pending, progress).await?;
                        return Err(e);
                    }
                    Ok((commit, _)) => break commit,
                }
            };
            self.stage(
                l,
                pending,
                Built {
                    commit,
                    progress: vec![ProgressEvent::ApprovalDecided {
                        gate: p.gate,
                        decision: answer.decision,
                        by: answer.by.clone(),
                    }],
                    stop: None,
                    typed: None,
                },
            )?;
            // A rejection changes what the remaining requests are about:
            // re-plan before asking for the next one.
            if answer.decision != ApprovalDecision::Approve {
                break;
            }
        }
        Ok(())
    }

    /// Records that the run waits for `requests` (escalating the overdue ones) and answers how
    /// it stops, or `None` when a decision or an edit landed since `l` was read: `l` is read
    /// again and there is more to do.
    async fn await_approvals(
        &self,
        l: &mut Loaded,
        requests: &[PendingApproval],
        correlation: &str,
    ) -> Result<Option<RunSummary>, EngineError> {
        let id = l.snap.event.id;
        let gates: Vec<String> = requests.iter().map(|p| p.gate.to_string()).collect();
        let (escalated, applied) = self.escalate_overdue(l, correlation).await?;
        let mut detail = format!("waiting for approval of {}", gates.join(", "));
        // A live event's task timers keep firing while it waits.
        let wake_at = decide::next_timer(&l.decision_input(self.clock.now()));
        if !escalated.is_empty() {
            detail.push_str(&format!("; overdue, escalated: {}", escalated.join("; ")));
        }
        // A decision or an edit that landed since the load means there is more to do: look
        // again instead of going to sleep.
        let set = self
            .store
            .set_run_status_if_unchanged(
                id,
                RunStatus::AwaitingApproval,
                Some(&detail),
                wake_at,
                self.clock.now(),
                l.snap.seq + applied,
            )
            .await?;
        if !set || applied > 0 {
            *l = self.load(id).await?;
            if !set {
                return Ok(None);
            }
        }
        Ok(Some(RunSummary {
            event_id: id,
            state: l.snap.event.state,
            run_status: RunStatus::AwaitingApproval,
            detail: Some(detail),
        }))
    }

    /// Reports the end of a run and returns it.
    fn stopped(&self, stop: RunSummary, progress: &mut (dyn Progress + Send)) -> RunSummary {
        progress.report(ProgressEvent::Stopped {
            status: stop.run_status,
            detail: stop.detail.clone(),
        });
        stop
    }

    /// Adds a built commit to the staged ones and applies it to the in-memory state. A commit
    /// whose key is already stored (a stop recorded before for the same reason) is not written
    /// again: only its status is restored when the staged commits are written.
    fn stage(
        &self,
        l: &mut Loaded,
        staged: &mut Staged,
        built: Built,
    ) -> Result<Option<RunSummary>, EngineError> {
        if l.snap.steps.contains(&built.commit.step_key) {
            if let Some(s) = &built.commit.status {
                l.snap.event.state = s.state;
                l.snap.event.run_status = s.run_status;
                l.snap.event.status_detail.clone_from(&s.detail);
                staged.status = Some(s.clone());
            }
            staged
                .progress
                .extend(built.progress.into_iter().map(|p| match p {
                    ProgressEvent::StepCommitted {
                        state,
                        step,
                        summary,
                        millis,
                        ..
                    } => ProgressEvent::StepCommitted {
                        state,
                        step,
                        summary,
                        millis,
                        applied: false,
                    },
                    other => other,
                }));
            return Ok(built.stop);
        }
        l.apply_typed(&built.commit, built.typed.as_ref())?;
        staged.commits.push(built.commit);
        staged.progress.extend(built.progress);
        Ok(built.stop)
    }

    /// Writes the staged commits in one transaction guarded by the counter the state was read
    /// at. Returns `false` when another writer came in between: nothing was written, the state
    /// was read again and the staged commits are dropped (the caller decides again).
    async fn flush(
        &self,
        l: &mut Loaded,
        staged: &mut Staged,
        progress: &mut (dyn Progress + Send),
    ) -> Result<bool, EngineError> {
        let id = l.snap.event.id;
        let commits = std::mem::take(&mut staged.commits);
        let events = std::mem::take(&mut staged.progress);
        let status = staged.status.take();
        if !commits.is_empty() {
            match self.commit_all(commits, Some(l.snap.seq)).await {
                Ok(out) => {
                    l.snap.seq = out.event_seq;
                }
                Err(EngineError::Store(StoreError::Stale { .. })) => {
                    *l = self.load(id).await?;
                    return Ok(false);
                }
                Err(e) => return Err(e),
            }
        }
        if let Some(s) = status {
            let set = self
                .store
                .set_run_status_if_unchanged(
                    id,
                    s.run_status,
                    s.detail.as_deref(),
                    s.wake_at,
                    self.clock.now(),
                    l.snap.seq,
                )
                .await?;
            if !set {
                *l = self.load(id).await?;
                return Ok(false);
            }
        }
        for e in events {
            progress.report(e);
        }
        Ok(true)
    }

    /// Escalates every current, pending approval whose deadline has passed: a DecisionLog entry
    /// naming the backups (stakeholders who stand in for the owner, then the communications plan's
    /// escalation path). Deadlines are stored, so this fires after a restart too; each request
    /// escalates once. The gate stays blocked. Returns one line per overdue request.
    async fn escalate_overdue(
        &self,
        l: &Loaded,
        correlation: &str,
    ) -> Result<(Vec<String>, u64), EngineError> {
        let now = self.clock.now();
        let current: Vec<ApprovalId> = self.pending(l).iter().map(|p| p.id).collect();
        let overdue: Vec<&ApprovalRow> = l
            .snap
            .approvals
            .iter()
            .filter(|a| current.contains(&a.id) && a.deadline < now)
            .collect();
        if overdue.is_empty() {
            return Ok((vec![], 0));
        }
        let backups = records::escalation_contacts(&l.bb);
        let to = if backups.is_empty() {
            "the event owner".to_owned()
        } else {
            backups.join(", ")
        };
        let mut lines = Vec::new();
        let mut applied = 0;
        let mut decision_count = l.snap.decision_count;
        for a in overdue {
            let mut rec = Records::new(decision_count, l.snap.change_count, correlation, now);
            let line = format!(
                "{} (revision {}) was due {} and is escalated to {to}",
                a.gate,
                a.artifact_revision,
                a.deadline.format("%Y-%m-%d %H:%M UTC")
            );
            rec.decision(
                DecisionType::Escalation,
                &format!("{} approval overdue", a.gate),
                "system:engine",
                &line,
                vec![],
                None,
                vec![],
            );
            let key = format!("escalate:{}", a.id);
            let commit = Commit {
                event_id: l.snap.event.id,
                step_key: key.clone(),
                at: now,
                decisions: rec.decisions,
                outbox: vec![eods_store::NewOutbox {
                    id: Uuid::now_v7(),
                    kind: eods_store::OutboxKind::ApprovalEscalated,
                    dedupe_key: key,
                    payload: serde_json::json!({
                        "type": "approval_escalated",
                        "event_id": l.snap.event.id.to_string(),
                        "event_title": l.snap.event.title,
                        "approval_id": a.id.to_string(),
                        "gate": a.gate.as_str(),
                        "artifact_revision": a.artifact_revision,
                        "deadline": a.deadline,
                        "escalated_to": backups,
                        "message": line,
                        "recipients": records::recipients(
                            records::escalation_stakeholders(&l.bb)
                                .into_iter()
                                .chain(records::gate_approvers(&l.bb, a.gate)),
                        ),
                    }),
                }],
                escalated: vec![a.id],
                ..Commit::default()
            };
            if let CommitOutcome::Applied { .. } = self.commit(&commit).await? {
                decision_count += 1;
                applied += 1;
            }
            lines.push(line);
        }
        Ok((lines, applied))
    }

    /// Escalates every overdue approval of every event waiting for one (the service's timer;
    /// deadlines are stored, so this also fires for deadlines that passed while no instance
    /// ran). Returns how many requests were escalated now.
    pub async fn escalate_due(&self) -> Result<usize, EngineError> {
        let now = self.clock.now();
        let events = self
            .store
            .events_with_unescalated_overdue_approvals(now)
            .await?;
        let mut n = 0;
        for id in events {
            let l = self.load(id).await?;
            let correlation = Uuid::now_v7().to_string();
            let (_, applied) = self.escalate_overdue(&l, &correlation).await?;
            n += usize::try_from(applied).unwrap_or(0);
        }
        Ok(n)
    }

    /// Everything a person looking at one event needs, read in one snapshot: the event, its
    /// typed current artifacts, its approval requests, the pending ones with their summaries, and
    /// whether the next transition would pass now (or what blocks it). Changes nothing.
    pub async fn overview(&self, id: EventId) -> Result<Overview, EngineError> {
        let l = self.load(id).await?;
        let input = eods_domain::lifecycle::GateInput {
            blackboard: &l.bb,
            level: l.level,
            approvals: &l.approvals,
        };
        let next = eods_domain::lifecycle::check_transition(l.snap.event.state, input);
        let pending = self.pending(&l);
        let escalation = if l.snap.event.run_status == RunStatus::Blocked {
            let log = self.store.decision_log(id).await?;
            eods_domain::catalog::audit::ways_out(&log, &id.to_string())
        } else {
            None
        };
        Ok(Overview {
            next,
            pending,
            escalation,
            level: l.level,
            step_count: l.snap.step_count,
            blackboard: l.bb,
            approvals: l.snap.approvals,
            event: l.snap.event,
        })
    }

    /// The current pending approval requests of an event, each with one paragraph on what is
    /// being approved (for an inbox).
    pub async fn pending_approvals(
        &self,
        id: EventId,
    ) -> Result<Vec<PendingApproval>, EngineError> {
        let l = self.load(id).await?;
        Ok(self.pending(&l))
    }

    fn pending(&self, l: &Loaded) -> Vec<PendingApproval> {
        let input = eods_domain::lifecycle::GateInput {
            blackboard: &l.bb,
            level: l.level,
            approvals: &l.approvals,
        };
        let mut pending: Vec<PendingApproval> = l
            .snap
            .approvals
            .iter()
            .filter(|a| a.status == ApprovalStatus::Pending)
            .filter(|a| content_revision(a.gate, input.blackboard) == Some(a.artifact_revision))
            .map(|a| PendingApproval {
                id: a.id,
                gate: a.gate,
                artifact_revision: a.artifact_revision,
                summary: a.summary.as_ref().map_or_else(
                    || records::approval_summary(a.gate, &l.bb),
                    |(text, _)| text.clone(),
                ),
                summary_by: a.summary.as_ref().map(|(_, by)| by.clone()),
            })
            .collect();
        // Lifecycle order (venue, budget, vendors), whatever order the requests were stored in.
        pending.sort_by_key(|p| (p.gate, p.artifact_revision));
        pending
    }

    /// Runs a person's command (read a snapshot, decide, commit with the snapshot's counter)
    /// again when another commit came in between, up to a few times; the last refusal is
    /// returned as is.
    async fn retrying<T, F, Fut>(&self, mut attempt: F) -> Result<T, EngineError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, EngineError>>,
    {
        const ATTEMPTS: usize = 8;
        let mut tries = 0;
        loop {
            tries += 1;
            match attempt().await {
                Err(EngineError::Store(StoreError::Stale { .. })) if tries < ATTEMPTS => {}
                other => return other,
            }
        }
    }

    /// Writes one commit (fenced by the lease when this engine holds one).
    async fn commit(&self, c: &Commit) -> Result<CommitOutcome, EngineError> {
        let expect = c.expect_seq;
        let out = self.commit_all(vec![c.clone()], expect).await?;
        Ok(out
            .outcomes
            .into_iter()
            .next()
            .unwrap_or(CommitOutcome::AlreadyApplied))
    }

    /// Writes `commits` in one transaction, fenced by the lease when this engine holds one, and
    /// guarded by `expect_seq` when given. The hooks see the transaction: `before_commit` gets the
    /// keys of its commits, `after_commit` the sequence number of the last step written.
    async fn commit_all(
        &self,
        mut commits: Vec<Commit>,
        expect_seq: Option<u64>,
    ) -> Result<eods_store::BatchOutcome, EngineError> {
        // Each notification carries the correlation id of the commit that raised it, so its
        // delivery (webhook, e-mail) is traced back to the request or run behind it.
        for c in &mut commits {
            let correlation = c
                .decisions
                .first()
                .map(|d| d.correlation_id.clone())
                .or_else(|| c.changes.first().map(|x| x.correlation_id.clone()));
            if let Some(cid) = correlation {
                for o in &mut c.outbox {
                    if let Some(p) = o.payload.as_object_mut() {
                        p.entry("correlation_id")
                            .or_insert(serde_json::Value::String(cid.clone()));
                    }
                }
            }
        }
        if let Some(first) = commits.first_mut() {
            first.expect_seq = expect_seq;
            if let Some(lease) = &self.lease {
                let ttl = chrono::Duration::from_std(lease.ttl).unwrap_or(chrono::Duration::MAX);
                first.fence = Some(eods_store::Fence {
                    owner: lease.owner.clone(),
                    until_ms: eods_store::epoch_ms(self.clock.now() + ttl),
                });
            }
        }
        let hooks = self.hooks.clone();
        let keys = commits
            .iter()
            .map(|c| c.step_key.as_str())
            .collect::<Vec<_>>()
            .join(" + ");
        let out = self
            .store
            .commit_batch(&commits, move || hooks.before_commit(&keys))
            .await?;
        if let Some(seq) = out.last_applied() {
            self.hooks.after_commit(seq);
        }
        Ok(out)
    }

    /// A stop (blocked, failed, needs input), recorded once per distinct reason.
    fn build_stop(
        &self,
        l: &Loaded,
        status: RunStatus,
        detail: &str,
        correlation: &str,
        alternatives: Vec<eods_domain::catalog::audit::Alternative>,
    ) -> Built {
        let now = self.clock.now();
        let mut rec = l.records(correlation, now);
        rec.decision(
            DecisionType::Escalation,
            &format!("Run {status} in {}", l.snap.event.state),
            "system:engine",
            detail,
            alternatives,
            None,
            vec![],
        );
        let commit = Commit {
            event_id: l.snap.event.id,
            step_key: format!(
                "stop:{}:{}:{:016x}",
                status,
                l.snap.event.state,
                fnv(detail)
            ),
            at: now,
            decisions: rec.decisions,
            ..Commit::default()
        };
        Built::stopping(commit, l.snap.event.state, status, detail.to_owned())
    }

    /// The stop of a live run that waits for the calendar: the run stays `running` with its
    /// timer (`wake_at`) set, so a worker takes it up again at `until` (on any instance, after
    /// restarts); a DecisionLog entry says what it waits for.
    fn build_wait(
        &self,
        l: &Loaded,
        until: DateTime<Utc>,
        what: decide::Waiting,
        correlation: &str,
    ) -> Built {
        let brief = l.bb.get::<eods_domain::catalog::brief::EventBrief>();
        let detail = match brief {
            Some(b) => what.detail(b),
            None => format!("waiting until {}", until.to_rfc3339()),
        };
        // One wait per phase (the start or end it waits for) in the log; the timer moves with
        // the task timers in between (a committed wait restores its status with the new time).
        let boundary = brief.map_or(until, |b| {
            let (start, end) = b.live_window();
            match what {
                decide::Waiting::EventStart => start,
                decide::Waiting::EventEnd => end,
            }
        });
        let now = self.clock.now();
        let mut rec = l.records(correlation, now);
        rec.decision(
            DecisionType::StateTransition,
            &format!("Live run waits in {}", l.snap.event.state),
            "system:engine",
            &detail,
            vec![],
            None,
            vec![],
        );
        let commit = Commit {
            event_id: l.snap.event.id,
            step_key: format!(
                "wait:{}:{}",
                l.snap.event.state,
                boundary.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ),
            at: now,
            decisions: rec.decisions,
            ..Commit::default()
        };
        let mut built = Built::stopping(commit, l.snap.event.state, RunStatus::Running, detail);
        if let Some(s) = built.commit.status.as_mut() {
            s.wake_at = Some(until);
        }
        built
    }

    /// A live event's task timer: a reminder to the task's owner (a DecisionLog reminder), or the
    /// escalation of an overdue task to its owner and the backups (a DecisionLog escalation).
    /// Keyed by task and due date, so each fires once, whichever instance runs it.
    fn build_task_timer(&self, l: &Loaded, t: &decide::TaskTimer, correlation: &str) -> Built {
        use eods_domain::catalog::planning::StakeholderMap;
        let now = self.clock.now();
        let owner_stakeholder =
            l.bb.get::<StakeholderMap>()
                .and_then(|m| m.stakeholders.iter().find(|s| s.id == t.owner));
        let owner = owner_stakeholder.map_or_else(
            || t.owner.to_string(),
            |s| format!("{} <{}>", s.name, s.contact),
        );
        let mut rec = l.records(correlation, now);
        let (kind, message, people) = match t.kind {
            decide::TimerKind::Reminder => {
                let message = format!(
                    "Reminder to {owner}: {} \"{}\" is due {} and is not recorded done",
                    t.task, t.title, t.due
                );
                rec.decision(
                    DecisionType::Reminder,
                    &format!("{} due in {} days", t.task, decide::REMINDER_DAYS),
                    "system:engine",
                    &message,
                    vec![],
                    None,
                    vec![],
                );
                (
                    eods_store::OutboxKind::TaskReminder,
                    message,
                    owner_stakeholder.into_iter().collect::<Vec<_>>(),
                )
            }
            decide::TimerKind::Overdue => {
                let backups = records::escalation_contacts(&l.bb);
                let to = if backups.is_empty() {
                    owner.clone()
                } else {
                    format!("{owner} and {}", backups.join(", "))
                };
                let message = format!(
                    "{} \"{}\" was due {} and is not recorded done; escalated to {to}",
                    t.task, t.title, t.due
                );
                rec.decision(
                    DecisionType::Escalation,
                    &format!("{} overdue", t.task),
                    "system:engine",
                    &message,
                    vec![],
                    None,
                    vec![],
                );
                let mut people: Vec<_> = owner_stakeholder.into_iter().collect();
                people.extend(records::escalation_stakeholders(&l.bb));
                (eods_store::OutboxKind::TaskOverdue, message, people)
            }
        };
        let key = t.key();
        Built {
            commit: Commit {
                event_id: l.snap.event.id,
                step_key: key.clone(),
                at: now,
                decisions: rec.decisions,
                outbox: vec![eods_store::NewOutbox {
                    id: Uuid::now_v7(),
                    kind,
                    dedupe_key: key,
                    payload: serde_json::json!({
                        "type": kind.as_str(),
                        "event_id": l.snap.event.id.to_string(),
                        "event_title": l.snap.event.title,
                        "task": t.task.to_string(),
                        "title": t.title,
                        "due": t.due.to_string(),
                        "owner": owner,
                        "message": message,
                        "recipients": records::recipients(people),
                    }),
                }],
                ..Commit::default()
            },
            stop: None,
            progress: vec![],
            typed: None,
        }
    }

    /// What to ask the external sources (an imported OpenStreetMap extract, the Overpass API)
    /// for the event's city, when a gatherer is configured and the organiser's own sources do
    /// not already hold enough venues with known facts: the query and how many leads are wanted.
    fn gather_query(&self, l: &Loaded) -> Option<(VenueQuery, usize)> {
        self.gatherer.as_ref()?;
        let b = l.bb.get::<eods_domain::catalog::brief::EventBrief>()?;
        let own = eods_agents::sources::venue_pool(
            &self.tools,
            l.bb.get::<eods_domain::catalog::sources::OrganiserData>(),
            None,
            &b.location.city,
        );
        let wanted = self
            .tools
            .instructions
            .get(
                eods_domain::instruction::AgentKind::VenueResearcher,
                l.level,
            )
            .ok()
            .and_then(|s| s.params::<eods_agents::instructions::VenueParams>().ok())
            .map_or(5, |p| p.shortlist_min);
        if !own.demo && own.known().count() >= wanted {
            return None;
        }
        let q = VenueQuery {
            city: b.location.city.clone(),
            country: Some(b.location.country.clone()).filter(|c| !c.is_empty()),
            min_capacity: b.audience_size,
        };
        Some((q, wanted))
    }

    /// Records what a step could write before it needs a person (the venue leads with their
    /// requests for quote, say) and stops the run in `needs_input` with what is needed and how.
    #[allow(clippy::too_many_arguments)]
    fn build_needs_input(
        &self,
        l: &Loaded,
        step: Step,
        key: &str,
        derived_from: &[ArtifactRef],
        correlation: &str,
        reason: &str,
        asks: &[String],
        partial: Vec<Payload>,
        trace: Option<AgentTrace>,
    ) -> Built {
        let id = l.snap.event.id;
        let state = l.snap.event.state;
        let now = self.clock.now();
        let actor = format!("agent:{}", step.agent());
        let mut rec = l.records(correlation, now);
        let mut envelopes = Vec::new();
        for payload in partial {
            let t = payload.artifact_type();
            let value = payload.to_value();
            if l.bb
                .current(t)
                .is_some_and(|cur| cur.payload.to_value() == value)
            {
                continue;
            }
            let envelope = Envelope {
                id: ArtifactId(Uuid::now_v7()),
                event_id: id,
                artifact_type: t,
                revision: l.bb.revision(t).unwrap_or(0) + 1,
                schema_version: t.schema_version().into(),
                created_at: now,
                created_by: actor.clone(),
                correlation_id: correlation.to_owned(),
                derived_from: derived_from.to_vec(),
                payload: value,
            };
            // What cannot be stored valid is left out; the stop is recorded all the same.
            if validate_document(&serde_json::to_value(&envelope).unwrap_or_default()).is_ok() {
                envelopes.push(envelope);
            }
        }
        let detail = if asks.is_empty() {
            format!("{step} step: {reason}")
        } else {
            format!("{step} step: {reason} Needed: {}", asks.join("; "))
        };
        rec.decision(
            DecisionType::Escalation,
            &format!("Run {} in {state}", RunStatus::NeedsInput),
            "system:engine",
            &detail,
            vec![],
            None,
            vec![],
        );
        log_revisions(l, &envelopes, &actor, &mut rec);
        if let Some(mut trace) = trace {
            trace.outputs = envelopes.iter().map(Envelope::as_ref).collect();
            envelopes.push(self.trace_envelope(l, trace, correlation, now));
        }
        let commit = Commit {
            event_id: id,
            step_key: format!("needs:{key}:{:016x}", fnv(&detail)),
            at: now,
            artifacts: envelopes,
            decisions: rec.decisions,
            changes: rec.changes,
            ..Commit::default()
        };
        Built::stopping(commit, state, RunStatus::NeedsInput, detail)
    }

    /// One agent step on `l`: its outputs validated and, with its trace, log entries and any
    /// approval request, put in one commit keyed by its inputs and directives; or the stop it
    /// leads to (needs input, blocked, failed, invalid output).
    fn build_step(
        &self,
        l: &Loaded,
        step: Step,
        correlation: &str,
        external: Option<ExternalVenues>,
    ) -> Result<Built, EngineError> {
        let id = l.snap.event.id;
        let state = l.snap.event.state;
        let key = step_key(step, &l.bb, &l.directives);
        let started_at = self.clock.now();
        let t0 = Instant::now();
        let gathered = external.clone();
        let data = EventData::with_rates(l.rates(&self.tools), external);
        let input = StepInput {
            blackboard: &l.bb,
            level: l.level,
            tools: &self.tools,
            directives: &l.directives,
            data: &data,
        };
        let set = self
            .tools
            .instructions
            .get(step.agent(), l.level)
            .map_err(AgentError::from)?;
        // Inputs the step rewrites itself are not "derived from" (see `step_key`).
        let derived_from: Vec<ArtifactRef> = step
            .reads()
            .filter(|t| !step.outputs().contains(t))
            .filter_map(|t| l.bb.reference(t))
            .collect();
        let result = run_step(step, input);
        let output = match result {
            Ok(o) => o,
            Err(err) => {
                // A step that gathered from outside before it stopped keeps what it gathered in
                // a failed trace, so the stop can be replayed from the record.
                let trace = gathered.map(|g| AgentTrace {
                    step: step.name().into(),
                    agent: step.agent(),
                    level: l.level,
                    instruction_set: set.reference(),
                    inputs: derived_from.clone(),
                    outputs: vec![],
                    started_at,
                    finished_at: self.clock.now(),
                    duration_ms: u64::try_from(t0.elapsed().as_millis()).unwrap_or(u64::MAX),
                    status: TraceStatus::Failed,
                    error: Some(format!("{step} step: {err}")),
                    model_calls: Vec::new(),
                    gathered: Some(g),
                });
                return Ok(self.build_step_error(
                    l,
                    step,
                    &key,
                    &derived_from,
                    correlation,
                    err,
                    trace,
                ));
            }
        };
        let now = self.clock.now();
        let (envelopes, next, violations) =
            self.validated_outputs(l, step, &output, &derived_from, correlation, now);
        let finished_at = self.clock.now();
        let millis = t0.elapsed().as_millis();
        let trace = AgentTrace {
            step: step.name().into(),
            agent: step.agent(),
            level: l.level,
            instruction_set: set.reference(),
            inputs: derived_from.clone(),
            outputs: envelopes.iter().map(Envelope::as_ref).collect(),
            started_at,
            finished_at,
            duration_ms: u64::try_from(millis).unwrap_or(u64::MAX),
            status: TraceStatus::Succeeded,
            error: None,
            model_calls: Vec::new(),
            gathered,
        };
        let mut rec = l.records(correlation, now);
        let actor = format!("agent:{}", step.agent());
        if !violations.is_empty() {
            return Ok(self.build_invalid(
                l,
                step,
                &key,
                trace,
                rec,
                &violations,
                set,
                correlation,
                now,
            ));
        }
        log_step_output(l, &output, &envelopes, &actor, set.reference(), &mut rec);
        let (approval_requests, outbox) = approval_request(l, step, &envelopes, now);
        let status = if step == Step::Postmortem {
            Some(StatusWrite {
                state,
                run_status: RunStatus::Completed,
                detail: None,
                wake_at: None,
            })
        } else {
            Some(StatusWrite {
                state,
                run_status: RunStatus::Running,
                detail: None,
                wake_at: None,
            })
        };
        let mut artifacts = envelopes;
        artifacts.push(self.trace_envelope(l, trace, correlation, now));
        let commit = Commit {
            event_id: id,
            step_key: key,
            at: now,
            artifacts,
            decisions: rec.decisions,
            changes: rec.changes,
            // A request for a newer revision retires the undecided ones before it.
            superseded: l.superseded_by(&approval_requests),
            approval_requests,
            outbox,
            status,
            ..Commit::default()
        };
        Ok(Built {
            commit,
            progress: vec![ProgressEvent::StepCommitted {
                state,
                step,
                summary: output.summary,
                millis,
                applied: true,
            }],
            stop: None,
            typed: Some(next),
        })
    }

    /// The stop an agent's error leads to: needs input (with what to ask), blocked (with the
    /// alternatives), or failed.
    #[allow(clippy::too_many_arguments)] // The parts of one step, computed by its builder.
    fn build_step_error(
        &self,
        l: &Loaded,
        step: Step,
        key: &str,
        derived_from: &[ArtifactRef],
        correlation: &str,
        err: AgentError,
        trace: Option<AgentTrace>,
    ) -> Built {
        let (status, alternatives) = match err {
            AgentError::NeedsInput {
                reason,
                asks,
                partial,
            } => {
                return self.build_needs_input(
                    l,
                    step,
                    key,
                    derived_from,
                    correlation,
                    &reason,
                    &asks,
                    partial,
                    trace,
                );
            }
            AgentError::MissingInput(_) => (RunStatus::NeedsInput, vec![]),
            AgentError::Infeasible {
                ref alternatives, ..
            } => (RunStatus::Blocked, alternatives.clone()),
            AgentError::Instructions(_) | AgentError::Data(_) | AgentError::Undeclared { .. } => {
                (RunStatus::Failed, vec![])
            }
        };
        let detail = format!("{step} step: {err}");
        let mut built = self.build_stop(l, status, &detail, correlation, alternatives);
        if let Some(trace) = trace {
            let now = built.commit.at;
            built
                .commit
                .artifacts
                .push(self.trace_envelope(l, trace, correlation, now));
        }
        built
    }

    /// A step's outputs as the envelopes to store (those that changed, or the gate's artifact
    /// again after a rejection), the blackboard as it would be after them, and every violation
    /// of schema, semantics or references among them.
    #[allow(clippy::type_complexity)] // Three results of one pass, named at the call.
    fn validated_outputs(
        &self,
        l: &Loaded,
        step: Step,
        output: &eods_agents::StepOutput,
        derived_from: &[ArtifactRef],
        correlation: &str,
        now: DateTime<Utc>,
    ) -> (Vec<Envelope>, Blackboard, Vec<(ArtifactType, Violation)>) {
        let id = l.snap.event.id;
        // Validate before anything is stored: each document against its schema and semantics,
        // then references across the blackboard as it would be after the step.
        let mut next = l.bb.clone();
        let mut envelopes = Vec::new();
        let mut violations: Vec<(ArtifactType, Violation)> = Vec::new();
        // After a rejection the gate's artifact is written (and put up for approval) again even
        // when the revision found nothing to change: the approver is asked again instead of the
        // run blocking on a decided request.
        let reask = step.approval().filter(|g| {
            let input = eods_domain::lifecycle::GateInput {
                blackboard: &l.bb,
                level: l.level,
                approvals: &l.approvals,
            };
            matches!(
                eods_domain::lifecycle::approval_for_current(*g, input),
                Some(ApprovalStatus::Rejected | ApprovalStatus::ChangesRequested)
            )
        });
        for payload in &output.artifacts {
            let t = payload.artifact_type();
            let value = payload.to_value();
            if let Some(cur) = l.bb.current(t)
                && cur.payload.to_value() == value
                && cur.derived_from == derived_from
                && reask.map(|g| g.artifact_type()) != Some(t)
            {
                continue;
            }
            let mut envelope = Envelope {
                id: ArtifactId(Uuid::now_v7()),
                event_id: id,
                artifact_type: t,
                revision: l.bb.revision(t).unwrap_or(0) + 1,
                schema_version: t.schema_version().into(),
                created_at: now,
                created_by: format!("agent:{}", step.agent()),
                correlation_id: correlation.to_owned(),
                derived_from: derived_from.to_vec(),
                payload: value,
            };
            if let Err(vs) = validate_built(&mut envelope, payload) {
                violations.extend(vs.into_iter().map(|v| (t, v)));
            }
            next.insert(Current {
                revision: envelope.revision,
                created_by: envelope.created_by.clone(),
                derived_from: derived_from.to_vec(),
                payload: payload.clone(),
            });
            envelopes.push(envelope);
        }
        let written: Vec<ArtifactType> = envelopes.iter().map(|e| e.artifact_type).collect();
        violations.extend(
            validate_references_of(&next, &written)
                .into_iter()
                .filter(|(t, _)| written.contains(t)),
        );
        (envelopes, next, violations)
    }

    /// The commit of a step whose output failed validation: its failed trace and an escalation
    /// in the DecisionLog, and the run failed naming every violation.
    #[allow(clippy::too_many_arguments)] // The parts of one step, computed by its builder.
    fn build_invalid(
        &self,
        l: &Loaded,
        step: Step,
        key: &str,
        mut trace: AgentTrace,
        mut rec: Records,
        violations: &[(ArtifactType, Violation)],
        set: &eods_agents::instructions::InstructionSet,
        correlation: &str,
        now: DateTime<Utc>,
    ) -> Built {
        let id = l.snap.event.id;
        let state = l.snap.event.state;
        let detail = format!(
            "{step} step produced invalid output: {}",
            violations
                .iter()
                .map(|(t, v)| format!("{t}{v}"))
                .collect::<Vec<_>>()
                .join("; ")
        );
        trace.status = TraceStatus::Failed;
        trace.error = Some(detail.clone());
        trace.outputs.clear();
        rec.decision(
            DecisionType::Escalation,
            &format!("{step} output rejected by validation"),
            "system:engine",
            &detail,
            vec![],
            Some(set.reference()),
            vec![],
        );
        let commit = Commit {
            event_id: id,
            step_key: format!("invalid:{key}"),
            at: now,
            artifacts: vec![self.trace_envelope(l, trace, correlation, now)],
            decisions: rec.decisions,
            ..Commit::default()
        };
        // The same invalid output recorded before only has its status restored (`stage`).
        Built::stopping(commit, state, RunStatus::Failed, detail)
    }

    fn trace_envelope(
        &self,
        l: &Loaded,
        trace: AgentTrace,
        correlation: &str,
        now: DateTime<Utc>,
    ) -> Envelope {
        Envelope {
            id: ArtifactId(Uuid::now_v7()),
            event_id: l.snap.event.id,
            artifact_type: ArtifactType::AgentTrace,
            revision: l.bb.revision(ArtifactType::AgentTrace).unwrap_or(0) + 1,
            schema_version: ArtifactType::AgentTrace.schema_version().into(),
            created_at: now,
            created_by: "system:engine".into(),
            correlation_id: correlation.to_owned(),
            derived_from: trace.inputs.clone(),
            payload: trace.into_payload().to_value(),
        }
    }

    /// The move from `from` to `to`, every gate having passed.
    fn build_advance(
        &self,
        l: &Loaded,
        from: LifecycleState,
        to: LifecycleState,
        correlation: &str,
    ) -> Built {
        let now = self.clock.now();
        let mut rec = l.records(correlation, now);
        let gates: Vec<String> = eods_domain::lifecycle::gates_for(from)
            .iter()
            .map(|g| g.to_string())
            .collect();
        let approvals: Vec<ApprovalRecord> = if from == LifecycleState::Confirm {
            current_approval_records(l)
        } else {
            vec![]
        };
        rec.decision(
            DecisionType::StateTransition,
            &format!("{from} → {to}"),
            "system:engine",
            &format!(
                "Required artifacts valid and current; gates passed: {}",
                if gates.is_empty() {
                    "none".into()
                } else {
                    gates.join(", ")
                }
            ),
            vec![],
            None,
            approvals.clone(),
        );
        let mut c = rec.change(
            ChangeType::StateChanged,
            &format!("lifecycle {from} → {to}"),
            vec![],
            "system:engine",
            None,
        );
        c.approvals = approvals;
        rec.changes.pop();
        rec.changes.push(c);
        let commit = Commit {
            event_id: l.snap.event.id,
            step_key: format!("advance:{from}->{to}"),
            at: now,
            decisions: rec.decisions,
            changes: rec.changes,
            status: Some(StatusWrite {
                state: to,
                run_status: RunStatus::Running,
                detail: None,
                wake_at: None,
            }),
            ..Commit::default()
        };
        Built {
            commit,
            progress: vec![ProgressEvent::Advanced { from, to }],
            stop: None,
            typed: None,
        }
    }

    /// Applies a run-control command: records who asked in the DecisionLog and sets the run
    /// status. A command that does not apply to the current status is refused with the reason.
    pub async fn command(
        &self,
        id: EventId,
        cmd: RunCommand,
        by: &str,
    ) -> Result<RunStatus, EngineError> {
        self.retrying(|| self.command_once(id, cmd, by)).await
    }

    /// One attempt of [`Self::command`] on one snapshot.
    async fn command_once(
        &self,
        id: EventId,
        cmd: RunCommand,
        by: &str,
    ) -> Result<RunStatus, EngineError> {
        let l = self.load(id).await?;
        let correlation = self.correlation_id();
        match self.build_command(&l, cmd, by, &correlation, self.clock.now())? {
            Some(commit) => {
                self.commit(&commit).await?;
                Ok(cmd.transition().1)
            }
            None => Ok(l.snap.event.run_status),
        }
    }

    /// The commit of a run command on `l`; `None` when the run already is where the command
    /// takes it; refused (with the reason and what to do) when it does not apply.
    fn build_command(
        &self,
        l: &Loaded,
        cmd: RunCommand,
        by: &str,
        correlation: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Commit>, EngineError> {
        let id = l.snap.event.id;
        let current = l.snap.event.run_status;
        let (from, to) = cmd.transition();
        if !from.contains(&current) {
            let hint = match (cmd, current) {
                (_, RunStatus::NeedsInput) => {
                    "the brief is incomplete: PATCH the event with the missing fields".to_owned()
                }
                (RunCommand::Start, RunStatus::Paused) => "use resume".to_owned(),
                (_, RunStatus::Completed | RunStatus::Cancelled) => "the run has ended".to_owned(),
                _ => format!(
                    "{} applies to a run that is {}",
                    cmd.as_str(),
                    from.iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            return Err(EngineError::InvalidCommand(format!(
                "cannot {} a run that is {current}: {hint}",
                cmd.as_str()
            )));
        }
        if current == to {
            return Ok(None);
        }
        let mut rec = l.records(correlation, now);
        rec.decision(
            DecisionType::StateTransition,
            &format!("run {} by {by}: {current} → {to}", cmd.as_str()),
            by,
            &format!("{} requested in {}", cmd.as_str(), l.snap.event.state),
            vec![],
            None,
            vec![],
        );
        Ok(Some(Commit {
            event_id: id,
            step_key: format!("command:{}:{}", cmd.as_str(), Uuid::now_v7()),
            at: now,
            decisions: rec.decisions,
            status: Some(StatusWrite {
                state: l.snap.event.state,
                run_status: to,
                detail: None,
                wake_at: None,
            }),
            expect_seq: Some(l.snap.seq),
            ..Commit::default()
        }))
    }

    /// Archives the event (`archive`) or restores it: kept whole and audited (a ChangeLog entry
    /// by `by`), hidden from the lists and the approvals inbox while archived. Refused while its
    /// run works, waits for its calendar or for approvals, which an archived event would hide. Returns when it was archived (`None` once
    /// restored); archiving an archived event changes nothing.
    pub async fn archive(
        &self,
        id: EventId,
        archive: bool,
        by: &str,
    ) -> Result<Option<DateTime<Utc>>, EngineError> {
        self.retrying(|| async {
            let l = self.load(id).await?;
            let e = &l.snap.event;
            if e.archived_at.is_some() == archive {
                return Ok(e.archived_at);
            }
            // A cancelled or finished run's requests wait for nothing: the inbox leaves out
            // archived events.
            if archive && matches!(e.run_status, RunStatus::Running | RunStatus::AwaitingApproval)
            {
                let why = if e.wake_at.is_some() {
                    "it is a live event waiting for its calendar"
                } else if e.run_status == RunStatus::AwaitingApproval {
                    "approvals are pending for it"
                } else {
                    "its run is working"
                };
                return Err(EngineError::InvalidCommand(format!(
                    "cannot archive event {id} while {why}: cancel the run first (or let it finish), then archive it"
                )));
            }
            let now = self.clock.now();
            let mut rec = l.records(&self.correlation_id(), now);
            let what = if archive {
                "archived (hidden from the event lists, kept whole)"
            } else {
                "restored from the archive"
            };
            rec.change(
                ChangeType::StateChanged,
                &format!("event {what} by {by}"),
                vec![],
                by,
                None,
            );
            let at = archive.then_some(now);
            self.commit(&Commit {
                event_id: id,
                step_key: format!("archive:{}:{}", archive, Uuid::now_v7()),
                at: now,
                changes: rec.changes,
                archived: Some(at),
                expect_seq: Some(l.snap.seq),
                ..Commit::default()
            })
            .await?;
            Ok(at)
        })
        .await
    }

    /// Moves the event to its next lifecycle state now if every gate passes (the API's
    /// `advance`); otherwise returns what blocks it and changes nothing.
    pub async fn advance_now(
        &self,
        id: EventId,
    ) -> Result<
        Result<(LifecycleState, LifecycleState), eods_domain::lifecycle::Blocked>,
        EngineError,
    > {
        let l = self.load(id).await?;
        let from = l.snap.event.state;
        let input = eods_domain::lifecycle::GateInput {
            blackboard: &l.bb,
            level: l.level,
            approvals: &l.approvals,
        };
        match eods_domain::lifecycle::check_transition(from, input) {
            Ok(to) => {
                let correlation = self.correlation_id();
                let built = self.build_advance(&l, from, to, &correlation);
                self.commit(&Commit {
                    expect_seq: Some(l.snap.seq),
                    ..built.commit
                })
                .await?;
                Ok(Ok((from, to)))
            }
            Err(b) => Ok(Err(b)),
        }
    }

    /// Records an approver's decision on a pending approval. A rejection or change request also
    /// records the directive the owning agent follows when it revises (the next-ranked venue, a
    /// budget cap, another supplier). A budget decision gets a stamped revision with the outcome.
    pub async fn decide_approval(
        &self,
        id: EventId,
        approval: ApprovalId,
        answer: &Answer,
    ) -> Result<ApprovalOutcome, EngineError> {
        self.retrying(|| self.decide_approval_once(id, approval, answer))
            .await
    }

    /// One attempt of [`Self::decide_approval`] on one snapshot.
    async fn decide_approval_once(
        &self,
        id: EventId,
        approval: ApprovalId,
        answer: &Answer,
    ) -> Result<ApprovalOutcome, EngineError> {
        let l = self.load(id).await?;
        let correlation = self.correlation_id();
        let (commit, outcome) =
            self.build_decision(&l, approval, answer, &correlation, self.clock.now())?;
        self.commit(&commit).await?;
        Ok(outcome)
    }

    /// The commit of an approver's answer on `l`, or why it is refused: a vote towards a quorum,
    /// or the decision with the directive a rejection records (and, for a budget, the stamped
    /// revision).
    fn build_decision(
        &self,
        l: &Loaded,
        approval: ApprovalId,
        answer: &Answer,
        correlation: &str,
        now: DateTime<Utc>,
    ) -> Result<(Commit, ApprovalOutcome), EngineError> {
        let id = l.snap.event.id;
        let (row, current) = answerable(l, approval, answer)?;
        let gate_type = row.gate.artifact_type();
        let vote = eods_store::Vote {
            approval_id: approval,
            voter: answer.by.clone(),
            decision: answer.decision,
            comment: answer.comment.clone(),
            at: now,
        };
        let approvals_so_far = row
            .votes
            .iter()
            .filter(|v| v.decision == ApprovalDecision::Approve)
            .count()
            + 1;
        let required = usize::try_from(row.required_approvals.max(1)).unwrap_or(1);
        if answer.decision == ApprovalDecision::Approve && approvals_so_far < required {
            // Quorum not reached: the vote is recorded and the request stays pending.
            return Ok(vote_only(
                l,
                row,
                vote,
                approvals_so_far,
                required,
                correlation,
                now,
            ));
        }
        let status = ApprovalStatus::after(answer.decision);
        let directive = if answer.decision == ApprovalDecision::Approve {
            None
        } else {
            let d = self
                .directive_for(row.gate, &l.bb, &answer.comment)
                .map_err(|reason| EngineError::DecisionRefused {
                    id: approval,
                    pointer: "/comment".into(),
                    reason,
                })?;
            Some(serde_json::to_value(d).map_err(|e| EngineError::Corrupt {
                what: "directive".into(),
                detail: e.to_string(),
            })?)
        };
        let record = ApprovalRecord {
            gate: row.gate,
            decision: answer.decision,
            by: answer.by.clone(),
            at: now,
            comment: answer.comment.clone(),
            artifact_revision: row.artifact_revision,
        };
        let mut rec = l.records(correlation, now);
        let target = ArtifactRef {
            artifact_type: gate_type,
            revision: row.artifact_revision,
        };
        let change_type = if answer.decision == ApprovalDecision::Approve {
            ChangeType::Approved
        } else {
            ChangeType::Rejected
        };
        let mut change = rec.change(
            change_type,
            &format!("{} {} for {target}", row.gate, status.as_str()),
            vec![target],
            &answer.by,
            None,
        );
        change.approvals = vec![record.clone()];
        rec.changes.pop();
        rec.changes.push(change.clone());
        // A budget decision records its own approval: a new revision, stamped.
        let artifacts: Vec<Envelope> = (row.gate == ApprovalGate::BudgetDecision)
            .then(|| {
                let by = Stamp {
                    by: &answer.by,
                    correlation,
                    now,
                };
                stamped_budget(l, current, &record, &change, target, by, &mut rec)
            })
            .flatten()
            .into_iter()
            .collect();
        rec.decision(
            DecisionType::Approval,
            &format!("{} {} by {}", row.gate, status.as_str(), answer.by),
            &answer.by,
            if answer.comment.is_empty() {
                "no comment"
            } else {
                &answer.comment
            },
            vec![],
            None,
            vec![record],
        );
        if let Some(d) = &directive {
            rec.decision(DecisionType::Revision, &format!("{} will revise: {d}", row.gate), "system:engine", "a rejected or changed decision is revised by its owning agent and everything derived from it is recomputed", vec![], None, vec![]);
        }
        let commit = Commit {
            event_id: id,
            step_key: format!("approval:{approval}"),
            at: now,
            artifacts,
            decisions: rec.decisions,
            changes: rec.changes,
            approval_decisions: vec![ApprovalDecisionWrite {
                id: approval,
                decision: answer.decision,
                status,
                decided_at: now,
                decided_by: answer.by.clone(),
                comment: answer.comment.clone(),
                directive,
            }],
            votes: vec![vote],
            // The run continues (re-plans or moves on) whoever holds it.
            status: matches!(
                l.snap.event.run_status,
                RunStatus::AwaitingApproval | RunStatus::Running | RunStatus::Blocked
            )
            .then_some(StatusWrite {
                state: l.snap.event.state,
                run_status: RunStatus::Running,
                detail: None,
                wake_at: None,
            }),
            expect_seq: Some(l.snap.seq),
            ..Commit::default()
        };
        Ok((commit, ApprovalOutcome::Decided(status)))
    }

    /// The directive a rejection or change request of `gate` records. A budget comment is read
    /// for a cap ([`parse_cap`]); without an amount the cap is 5% below the proposal. A cap in
    /// another currency, or several amounts with none marked as the cap, is refused with how to
    /// write it.
    fn directive_for(
        &self,
        gate: ApprovalGate,
        bb: &Blackboard,
        comment: &str,
    ) -> Result<Directive, String> {
        Ok(match gate {
            ApprovalGate::VenueSelection => Directive::ExcludeCandidate(
                bb.get::<VenueScorecard>()
                    .map(|s| s.selected_candidate_id.clone()),
            ),
            ApprovalGate::BudgetDecision => {
                let proposal = bb.get::<BudgetDecision>();
                let currency = proposal.map(|d| d.currency.to_string()).unwrap_or_default();
                let cap = match parse_cap(comment) {
                    CapReading::Cap {
                        amount,
                        currency: Some(c),
                    } if !currency.is_empty() && c != currency => {
                        return Err(format!(
                            "the cap {amount} {c} is not in the event's currency: write it in {currency}, e.g. `cap at {amount} {currency}` after converting"
                        ));
                    }
                    CapReading::Cap { amount, .. } => Some(amount),
                    CapReading::Ambiguous(amounts) => {
                        return Err(format!(
                            "the comment names {} amounts ({}) and none is marked as the cap: write one, e.g. `cap at {}`",
                            amounts.len(),
                            amounts
                                .iter()
                                .map(Decimal::to_string)
                                .collect::<Vec<_>>()
                                .join(", "),
                            amounts.iter().min().copied().unwrap_or_default()
                        ));
                    }
                    CapReading::NoAmount => {
                        proposal.map(|d| (d.approved_total * Decimal::new(95, 2)).round_dp(2))
                    }
                };
                Directive::BudgetCap(cap)
            }
            ApprovalGate::VendorContracts => {
                let data = EventData::of(&self.tools, bb, None);
                Directive::ExcludeSupplier(
                    bb.get::<VendorContracts>()
                        .and_then(|c| eods_agents::logistics::supplier_to_replace(c, &data.rates)),
                )
            }
        })
    }
}

/// Why the current proposal of `gate` may not be approved, if it may not: a budget decision
/// above the brief's fixed total.
/// The request `approval` of `l` and the revision it is about, when `answer` may be recorded on
/// it: pending, answered by a user who did not write that revision and has not voted on it, and
/// (for an approval) not of a budget above a fixed total. Otherwise why not.
fn answerable<'l>(
    l: &'l Loaded,
    approval: ApprovalId,
    answer: &Answer,
) -> Result<(&'l ApprovalRow, &'l Current), EngineError> {
    let row = l
        .snap
        .approvals
        .iter()
        .find(|a| a.id == approval)
        .ok_or(EngineError::Approval {
            id: approval,
            reason: "no such approval for this event".into(),
        })?;
    if row.status != ApprovalStatus::Pending {
        return Err(EngineError::Approval {
            id: approval,
            reason: format!("already {}", row.status.as_str()),
        });
    }
    if !eods_domain::ids::Actor::is_user(&answer.by) {
        return Err(EngineError::Approval {
            id: approval,
            reason: format!("approver `{}` must be a user (user:<name>)", answer.by),
        });
    }
    let gate_type = row.gate.artifact_type();
    let current = l.bb.current(gate_type).ok_or(EngineError::Approval {
        id: approval,
        reason: format!("{gate_type} is missing"),
    })?;
    if current.created_by == answer.by {
        return Err(EngineError::OwnEdit {
            id: approval,
            reason: "an approver may not approve their own edit".into(),
        });
    }
    // Nor a decision re-opened by their own edit of what it is derived from (an admin's contract
    // edit re-opens the budget: someone else approves it). The brief is the request itself. A
    // first proposal (revision 1) re-opens nothing: the organiser's venue list and rate cards
    // given with the brief are part of the request, not an edit of a decision.
    if let Some(edited) = current
        .derived_from
        .iter()
        .filter(|_| current.revision > 1)
        .find(|r| {
            r.artifact_type != eods_domain::artifact::ArtifactType::EventBrief
                && l.bb
                    .current(r.artifact_type)
                    .is_some_and(|c| c.revision == r.revision && c.created_by == answer.by)
        })
    {
        return Err(EngineError::OwnEdit {
            id: approval,
            reason: format!(
                "an approver may not approve a decision re-opened by their own edit ({} revision {})",
                edited.artifact_type, edited.revision
            ),
        });
    }
    if row.votes.iter().any(|v| v.voter == answer.by) {
        return Err(EngineError::Approval {
            id: approval,
            reason: format!("{} has already voted on this request", answer.by),
        });
    }
    // Not even a vote towards a quorum for a budget above a fixed total.
    if answer.decision == ApprovalDecision::Approve
        && let Some(reason) = over_fixed_total(row.gate, &l.bb)
    {
        return Err(EngineError::DecisionRefused {
            id: approval,
            pointer: "/decision".into(),
            reason,
        });
    }
    Ok((row, current))
}

/// The commit of an approving vote that does not reach the request's quorum: the vote and a
/// DecisionLog entry; the request stays pending.
fn vote_only(
    l: &Loaded,
    row: &ApprovalRow,
    vote: eods_store::Vote,
    approvals_so_far: usize,
    required: usize,
    correlation: &str,
    now: DateTime<Utc>,
) -> (Commit, ApprovalOutcome) {
    let (answer_by, comment) = (vote.voter.clone(), vote.comment.clone());
    let approval = row.id;
    let id = l.snap.event.id;
    let mut rec = l.records(correlation, now);
    rec.decision(
        DecisionType::Approval,
        &format!(
            "{} approved by {} ({approvals_so_far} of {required} approvals)",
            row.gate, answer_by
        ),
        &answer_by,
        if comment.is_empty() {
            "no comment"
        } else {
            &comment
        },
        vec![],
        None,
        vec![],
    );
    let commit = Commit {
        event_id: id,
        step_key: format!("vote:{approval}:{}", answer_by),
        at: now,
        decisions: rec.decisions,
        votes: vec![vote],
        expect_seq: Some(l.snap.seq),
        ..Commit::default()
    };
    (
        commit,
        ApprovalOutcome::Voted {
            approvals: u32::try_from(approvals_so_far).unwrap_or(u32::MAX),
            required: row.required_approvals,
        },
    )
}

/// The DecisionLog entries of a step's output (its decision and what it raised) and a
/// ChangeLog entry per artifact revision it writes, with what changed.
fn log_step_output(
    l: &Loaded,
    output: &eods_agents::StepOutput,
    envelopes: &[Envelope],
    actor: &str,
    set: eods_domain::instruction::InstructionSetRef,
    rec: &mut Records,
) {
    rec.decision(
        DecisionType::AgentStep,
        &output.summary,
        actor,
        &output.rationale,
        output.alternatives.clone(),
        Some(set.clone()),
        vec![],
    );
    for r in &output.raised {
        rec.decision(
            DecisionType::Escalation,
            &format!("raised by {actor}: {}", r.description),
            &r.owner,
            &r.rationale,
            vec![],
            Some(set.clone()),
            vec![],
        );
    }
    log_revisions(l, envelopes, actor, rec);
}

/// A ChangeLog entry per revision in `envelopes` written by `actor`, with what changed from the
/// current revision in `l`.
fn log_revisions(l: &Loaded, envelopes: &[Envelope], actor: &str, rec: &mut Records) {
    for e in envelopes {
        let change_type = if e.revision == 1 {
            ChangeType::Created
        } else {
            ChangeType::Revised
        };
        let (summary, delta) = records::diff(l.bb.current(e.artifact_type), e);
        rec.change(
            change_type,
            &format!(
                "{} revision {} by {actor}: {summary}",
                e.artifact_type, e.revision
            ),
            vec![e.as_ref()],
            actor,
            delta,
        );
    }
}

/// The approval request (and its notification) a step's output calls for: the step's gate, on
/// the revision it wrote of the gate's artifact.
fn approval_request(
    l: &Loaded,
    step: Step,
    envelopes: &[Envelope],
    now: DateTime<Utc>,
) -> (Vec<NewApproval>, Vec<eods_store::NewOutbox>) {
    let mut approval_requests = Vec::new();
    let mut outbox = Vec::new();
    if let Some(gate) = step.approval()
        && let Some(e) = envelopes
            .iter()
            .find(|e| e.artifact_type == gate.artifact_type())
    {
        let options = &l.options;
        let approval = NewApproval {
            id: ApprovalId(Uuid::now_v7()),
            gate,
            artifact_revision: e.revision,
            approver_role: "approver".into(),
            requested_at: now,
            deadline: now + options.approval_deadline(),
            required_approvals: options.required_approvals.max(1),
        };
        outbox.push(approval_requested(&l.snap.event, &approval, &l.bb));
        approval_requests.push(approval);
    }
    (approval_requests, outbox)
}

/// Who stamps a revision, for which request, when.
struct Stamp<'a> {
    by: &'a str,
    correlation: &'a str,
    now: DateTime<Utc>,
}

/// The budget_decision revision that records a decision on it (`record`, logged as `change`),
/// with its ChangeLog entry in `rec`; `None` when the event has no budget decision.
fn stamped_budget(
    l: &Loaded,
    current: &Current,
    record: &ApprovalRecord,
    change: &eods_domain::catalog::audit::ChangeEntry,
    target: ArtifactRef,
    s: Stamp<'_>,
    rec: &mut Records,
) -> Option<Envelope> {
    let d = l.bb.get::<BudgetDecision>()?;
    let mut stamped = d.clone();
    stamped.status = match record.decision {
        ApprovalDecision::Approve => BudgetStatus::Approved,
        ApprovalDecision::Reject | ApprovalDecision::RequestChanges => BudgetStatus::Rejected,
    };
    stamped.approvals.push(record.clone());
    stamped.change_log_refs.push(change.id.to_string());
    let mut derived = current.derived_from.clone();
    derived.push(target);
    let t = ArtifactType::BudgetDecision;
    let envelope = Envelope {
        id: ArtifactId(Uuid::now_v7()),
        event_id: l.snap.event.id,
        artifact_type: t,
        revision: current.revision + 1,
        schema_version: t.schema_version().into(),
        created_at: s.now,
        created_by: s.by.to_owned(),
        correlation_id: s.correlation.to_owned(),
        derived_from: derived,
        payload: stamped.into_payload().to_value(),
    };
    let r = envelope.as_ref();
    rec.change(
        ChangeType::Revised,
        &format!(
            "budget_decision revision {} records the {} decision",
            r.revision,
            ApprovalStatus::after(record.decision).as_str()
        ),
        vec![r],
        s.by,
        None,
    );
    Some(envelope)
}

fn over_fixed_total(gate: ApprovalGate, bb: &Blackboard) -> Option<String> {
    if gate != ApprovalGate::BudgetDecision {
        return None;
    }
    let brief = bb.get::<EventBrief>()?;
    let d = bb.get::<BudgetDecision>()?;
    (eods_domain::constraints::budget_is_fixed(brief) && d.approved_total > brief.budget.total)
        .then(|| {
            format!(
                "the budget of {} is fixed and this plan costs {}: it cannot be approved. Reject it with a cap (e.g. `cap at {}`) so the Budget Analyst re-plans, or change the brief's /budget/total or /budget/flexibility",
                Money::new(brief.budget.total, &brief.budget.currency),
                Money::new(d.approved_total, &d.currency),
                brief.budget.total.normalize()
            )
        })
}

fn current_approval_records(l: &Loaded) -> Vec<ApprovalRecord> {
    ApprovalGate::ALL
        .into_iter()
        .filter_map(|g| {
            let rev = content_revision(g, &l.bb)?;
            let a = l
                .snap
                .approvals
                .iter()
                .rfind(|a| a.gate == g && a.artifact_revision == rev)?;
            Some(ApprovalRecord {
                gate: g,
                decision: a.decision?,
                by: a.decided_by.clone()?,
                at: a.decided_at?,
                comment: a.comment.clone().unwrap_or_default(),
                artifact_revision: rev,
            })
        })
        .collect()
}

/// Folds decided approvals and run options into the directives the agents follow.
pub(crate) fn directives(approvals: &[ApprovalRow], options: &RunOptions) -> Directives {
    let mut d = Directives {
        seed: options.seed,
        incidents: options.incidents.clone(),
        resolutions: options.resolutions.clone(),
        mode: options.mode,
        plan_from: options.planned_from,
        ..Directives::default()
    };
    for a in approvals {
        if matches!(
            a.status,
            ApprovalStatus::Rejected | ApprovalStatus::ChangesRequested
        ) {
            *d.rejections.entry(a.gate).or_default() += 1;
        }
        // A directive that does not parse (written by a newer version) is not followed.
        let Some(v) = a
            .directive
            .clone()
            .and_then(|v| serde_json::from_value::<Directive>(v).ok())
        else {
            continue;
        };
        match v {
            Directive::ExcludeCandidate(Some(c)) => d.excluded_candidates.push(c),
            Directive::BudgetCap(Some(c)) => d.budget_cap = Some(c),
            Directive::ExcludeSupplier(Some(s)) => d.excluded_suppliers.push(s),
            Directive::ExcludeCandidate(None)
            | Directive::BudgetCap(None)
            | Directive::ExcludeSupplier(None) => {}
        }
    }
    for g in ApprovalGate::ALL {
        let decided: Vec<f64> = approvals
            .iter()
            .filter(|a| a.gate == g)
            .filter_map(|a| {
                a.decided_at
                    .map(|t| (t - a.requested_at).num_milliseconds() as f64 / 1000.0)
            })
            .collect();
        if !decided.is_empty() {
            d.approval_latency.push(ApprovalLatency {
                gate: g,
                seconds: decided.iter().sum::<f64>() / decided.len() as f64,
                decisions: u32::try_from(decided.len()).unwrap_or(0),
            });
        }
    }
    d
}

/// FNV-1a, for short stable keys of free text.
fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The notification that an approval was requested.
fn approval_requested(event: &EventRow, a: &NewApproval, bb: &Blackboard) -> eods_store::NewOutbox {
    eods_store::NewOutbox {
        id: Uuid::now_v7(),
        kind: eods_store::OutboxKind::ApprovalRequested,
        dedupe_key: format!("request:{}", a.id),
        payload: serde_json::json!({
            "type": "approval_requested",
            "event_id": event.id.to_string(),
            "event_title": event.title,
            "approval_id": a.id.to_string(),
            "gate": a.gate.as_str(),
            "artifact_revision": a.artifact_revision,
            "deadline": a.deadline,
            "required_approvals": a.required_approvals,
            "summary": records::approval_summary(a.gate, bb),
            "recipients": records::recipients(records::gate_approvers(bb, a.gate)),
        }),
    }
}

impl VenueGatherer for eods_sources::chain::SourceChain {
    fn gather<'a>(&'a self, q: &'a VenueQuery, wanted: usize) -> BoxFuture<'a, ExternalVenues> {
        Box::pin(async move {
            let g = eods_sources::chain::SourceChain::gather(self, q, wanted).await;
            ExternalVenues {
                records: g.records,
                attempts: g.attempts,
                escalation: g.escalation,
            }
        })
    }
}
