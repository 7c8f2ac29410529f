//! `eods replay` (issue 16): re-runs a recorded event offline and proves that it reproduces every
//! artifact revision byte for byte, or shows the first difference.
//!
//! A run is a function of what came into it. The record holds all of it:
//!
//! - the brief as submitted (event_brief revision 1) and the run options (with the day planning
//!   started from);
//! - what people did, each a keyed commit in the `steps` table: organiser data (`supply:`),
//!   edits (`edit:`), amendments (`amend:`), run commands (`command:`), message drafts written
//!   (`drafts:`) and approved (`approve-draft:`); their revisions and
//!   log entries say what they held;
//! - the approvers' decisions and votes (the `approvals` table), answered again by
//!   [`RecordedApprover`] when the replayed run asks, at the recorded instant;
//! - what came from outside: each model call (kept in its step's AgentTrace, answered again by
//!   [`eods_model::ModelClient::replaying`]) and the venues each Research step gathered (kept
//!   in its AgentTrace too, answered again by [`RecordedGatherer`]).
//!
//! The replay applies those inputs in their recorded order to a fresh event in a scratch store,
//! letting the engine run where the recorded engine ran, with a clock that reads the recorded
//! instants. Then every recorded revision is compared with the replayed one of the same type and
//! number: its payload (the JSON as stored, byte for byte), who wrote it and what it was derived
//! from. An envelope's id, timestamp and correlation id belong to the run, and a trace's own
//! timings (`started_at`, `finished_at`, `duration_ms`) are measurements of it: those are not
//! compared. Nothing here makes a network call.
//!
//! What the replay does not cover yet is said, never skipped: an event whose record holds
//! Execute-phase inputs (task updates, incidents, feedback) or an archive is refused with
//! [`ReplayError::Unsupported`].

use crate::{Answer, Approver, Clock, Creation, Engine, EngineError, PendingApproval, Quiet};
use crate::{RunCommand, VenueGatherer};
use chrono::{DateTime, Utc};
use eods_agents::Tools;
use eods_agents::sources::ExternalVenues;
use eods_domain::artifact::{ArtifactType, Envelope};
use eods_domain::catalog::audit::AgentTrace;
use eods_domain::catalog::sources::{GatheredVenues, OrganiserData};
use eods_domain::ids::EventId;
use eods_domain::lifecycle::ApprovalGate;
use eods_domain::model::ModelCall;
use eods_sources::{BoxFuture, VenueQuery};
use eods_store::{ApprovalRow, EventRow, Store, StoreError};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

/// Why an event could not be replayed.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("no event {0} in the database")]
    NotFound(EventId),
    #[error(
        "the record of event {event} holds {what} (commit {seq}, `{key}`), which replay does not re-run yet"
    )]
    Unsupported {
        event: EventId,
        seq: u64,
        key: String,
        what: String,
    },
    #[error("the record is inconsistent: {0}")]
    Inconsistent(String),
    #[error("replaying {what}: {source}")]
    Engine {
        what: String,
        #[source]
        source: EngineError,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a replay found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReplayReport {
    /// The recorded event.
    pub event_id: EventId,
    /// Commits in the record.
    pub commits: usize,
    /// People's inputs applied, the submission included.
    pub inputs: usize,
    /// Decisions and votes answered from the record.
    pub decisions: usize,
    /// Model calls answered from the record.
    pub model_calls: usize,
    /// Venue gatherings answered from the record.
    pub gatherings: usize,
    /// Revisions recorded, each compared.
    pub revisions: usize,
    /// The first recorded revision (in the order they were written) the replay did not
    /// reproduce, or the first it wrote that the record does not hold.
    pub first_difference: Option<Difference>,
}

impl ReplayReport {
    /// Whether every revision was reproduced.
    pub fn identical(&self) -> bool {
        self.first_difference.is_none()
    }
}

/// A revision the replay did not reproduce.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Difference {
    pub artifact_type: ArtifactType,
    pub revision: u32,
    /// What differs, with the JSON pointer of the first differing value.
    pub what: String,
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} revision {}: {}",
            self.artifact_type, self.revision, self.what
        )
    }
}

/// One recorded event, read once.
#[derive(Debug, Clone)]
pub struct Recording {
    pub event: EventRow,
    /// Every revision, in the order written.
    pub revisions: Vec<Envelope>,
    /// The commits: step number, key and instant.
    pub steps: Vec<(u64, String, DateTime<Utc>)>,
    pub approvals: Vec<ApprovalRow>,
    /// Who issued each run command, by the instant of its decision entry.
    commanders: BTreeMap<i64, String>,
}

/// What the replay does, in order.
#[derive(Debug, Clone, PartialEq)]
enum Segment {
    /// The engine ran (from the first of its commits, at this instant, to the last).
    Run {
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    },
    /// A person's input, at its recorded instant.
    Input(Input, DateTime<Utc>),
}

#[derive(Debug, Clone, PartialEq)]
enum Input {
    Supply {
        data: OrganiserData,
        by: String,
    },
    Edit {
        envelope: Envelope,
        reopened: bool,
    },
    Amend {
        patch: Value,
        by: String,
    },
    Command {
        cmd: RunCommand,
        by: String,
    },
    Drafts {
        by: String,
    },
    ApproveDraft {
        draft: String,
        revision: u32,
        by: String,
    },
}

impl Recording {
    /// Reads event `id`'s record from `store`.
    pub async fn read(store: &Store, id: EventId) -> Result<Recording, ReplayError> {
        let event = store.event(id).await?.ok_or(ReplayError::NotFound(id))?;
        let mut revisions = store.all_revisions(id).await?;
        revisions.sort_by(|a, b| {
            (a.created_at, a.artifact_type, a.revision).cmp(&(
                b.created_at,
                b.artifact_type,
                b.revision,
            ))
        });
        let steps = store.steps_after(id, 0).await?;
        let approvals = store.approvals(id).await?;
        let commanders = store
            .decision_log(id)
            .await?
            .into_iter()
            .map(|d| (d.at.timestamp_micros(), d.owner))
            .collect();
        Ok(Recording {
            event,
            revisions,
            steps,
            approvals,
            commanders,
        })
    }

    /// The agent traces, in revision order.
    fn traces(&self) -> Vec<AgentTrace> {
        let mut traces: Vec<&Envelope> = self
            .revisions
            .iter()
            .filter(|e| e.artifact_type == ArtifactType::AgentTrace)
            .collect();
        traces.sort_by_key(|e| e.revision);
        traces
            .into_iter()
            .filter_map(|e| serde_json::from_value(e.payload.clone()).ok())
            .collect()
    }

    /// Every recorded model call, in the order made.
    pub fn model_calls(&self) -> Vec<ModelCall> {
        self.traces()
            .into_iter()
            .flat_map(|t| t.model_calls)
            .collect()
    }

    /// Every recorded venue gathering, in the order made.
    pub fn gatherings(&self) -> Vec<GatheredVenues> {
        self.traces()
            .into_iter()
            .filter_map(|t| t.gathered)
            .collect()
    }

    /// Replaces the answer of the `n`th recorded model call (for checking that a changed
    /// record is noticed).
    pub fn change_model_response(&mut self, n: usize, response: &str) -> bool {
        let mut seen = 0;
        let mut traces: Vec<usize> = (0..self.revisions.len())
            .filter(|i| self.revisions[*i].artifact_type == ArtifactType::AgentTrace)
            .collect();
        traces.sort_by_key(|i| self.revisions[*i].revision);
        for i in traces {
            let calls = self.revisions[i].payload["model_calls"].as_array_mut();
            for c in calls.into_iter().flatten() {
                if seen == n {
                    c["response"] = Value::String(response.to_owned());
                    return true;
                }
                seen += 1;
            }
        }
        false
    }

    /// The revisions a commit at `at` wrote (every revision of a commit carries its instant).
    fn written_at(&self, at: DateTime<Utc>) -> impl Iterator<Item = &Envelope> {
        self.revisions
            .iter()
            .filter(move |e| e.created_at.timestamp_micros() == at.timestamp_micros())
    }

    /// Revision `revision` of `t`.
    fn revision(&self, t: ArtifactType, revision: u32) -> Option<&Envelope> {
        self.revisions
            .iter()
            .find(|e| e.artifact_type == t && e.revision == revision)
    }

    /// The record as inputs and engine runs, in order, after the submission.
    fn segments(&self) -> Result<Vec<Segment>, ReplayError> {
        let unsupported = |seq: u64, key: &str, what: &str| ReplayError::Unsupported {
            event: self.event.id,
            seq,
            key: key.to_owned(),
            what: what.to_owned(),
        };
        match self.steps.first() {
            Some((_, key, _)) if key == "submit" => {}
            Some((seq, key, _)) => {
                return Err(unsupported(*seq, key, "no submission as its first commit"));
            }
            None => return Err(ReplayError::Inconsistent("the event has no commits".into())),
        }
        let mut out: Vec<Segment> = Vec::new();
        for (seq, key, at) in self.steps.iter().skip(1) {
            let (kind, rest) = key.split_once([':', '@']).unwrap_or((key.as_str(), ""));
            let input = match kind {
                // Answered by the recorded approver when the replayed run asks.
                "approval" | "vote" => continue,
                "supply" => {
                    let e = self
                        .written_at(*at)
                        .find(|e| e.artifact_type == ArtifactType::OrganiserData)
                        .ok_or_else(|| {
                            ReplayError::Inconsistent(format!(
                                "commit {seq} (`{key}`) wrote no organiser_data revision"
                            ))
                        })?;
                    let data: OrganiserData =
                        serde_json::from_value(e.payload.clone()).map_err(|err| {
                            ReplayError::Inconsistent(format!(
                                "organiser_data revision {}: {err}",
                                e.revision
                            ))
                        })?;
                    Input::Supply {
                        data,
                        by: e.created_by.clone(),
                    }
                }
                "edit" => {
                    let (t, revision) = rest.split_once('@').unwrap_or((rest, ""));
                    let t = ArtifactType::parse(t).map_err(ReplayError::Inconsistent)?;
                    let revision: u32 = revision.parse().map_err(|_| {
                        ReplayError::Inconsistent(format!("commit {seq}: key `{key}`"))
                    })?;
                    let envelope = self.revision(t, revision).cloned().ok_or_else(|| {
                        ReplayError::Inconsistent(format!(
                            "commit {seq} (`{key}`): no {t} revision {revision}"
                        ))
                    })?;
                    // The edit re-opened the budget approval when a budget_decision revision
                    // came with it (the threshold is the service's setting, not recorded).
                    let reopened = self.written_at(*at).any(|e| {
                        e.artifact_type == ArtifactType::BudgetDecision && t != e.artifact_type
                    });
                    Input::Edit { envelope, reopened }
                }
                "amend" => {
                    let new = self
                        .written_at(*at)
                        .find(|e| e.artifact_type == ArtifactType::EventBrief)
                        .ok_or_else(|| unsupported(*seq, key, "an amendment of a draft brief"))?;
                    let old = self
                        .revision(ArtifactType::EventBrief, new.revision - 1)
                        .ok_or_else(|| {
                            ReplayError::Inconsistent(format!(
                                "event_brief revision {} is missing",
                                new.revision - 1
                            ))
                        })?;
                    Input::Amend {
                        patch: merge_patch(&old.payload, &new.payload),
                        by: new.created_by.clone(),
                    }
                }
                "command" => {
                    let name = rest.split(':').next().unwrap_or("");
                    let cmd: RunCommand = serde_json::from_value(Value::String(name.into()))
                        .map_err(|_| {
                            ReplayError::Inconsistent(format!("commit {seq}: key `{key}`"))
                        })?;
                    let by = self
                        .commanders
                        .get(&at.timestamp_micros())
                        .cloned()
                        .unwrap_or_else(|| "user:unknown".into());
                    Input::Command { cmd, by }
                }
                "drafts" | "approve-draft" => {
                    let e = self
                        .written_at(*at)
                        .find(|e| e.artifact_type == ArtifactType::MessageDrafts)
                        .ok_or_else(|| {
                            ReplayError::Inconsistent(format!(
                                "commit {seq} (`{key}`) wrote no message_drafts revision"
                            ))
                        })?;
                    if kind == "drafts" {
                        Input::Drafts {
                            by: e.created_by.clone(),
                        }
                    } else {
                        let (draft, _) = rest.rsplit_once('@').unwrap_or((rest, ""));
                        Input::ApproveDraft {
                            draft: draft.to_owned(),
                            revision: e.revision - 1,
                            by: e.created_by.clone(),
                        }
                    }
                }
                "task" => return Err(unsupported(*seq, key, "a task update")),
                "feedback" => return Err(unsupported(*seq, key, "attendee feedback")),
                "incident" | "resolve" => return Err(unsupported(*seq, key, "an incident")),
                "archive" => return Err(unsupported(*seq, key, "an archive or restore")),
                // Everything else is the engine's own: steps, moves, stops, waits, timers.
                _ => {
                    match out.last_mut() {
                        Some(Segment::Run { until, .. }) => *until = *at,
                        _ => out.push(Segment::Run {
                            from: *at,
                            until: *at,
                        }),
                    }
                    continue;
                }
            };
            out.push(Segment::Input(input, *at));
        }
        Ok(out)
    }

    /// Re-runs the record on `scratch` (an empty store) with `tools`, offline, and compares.
    pub async fn replay(
        &self,
        tools: Arc<Tools>,
        scratch: Store,
    ) -> Result<ReplayReport, ReplayError> {
        let segments = self.segments()?;
        let brief = self
            .revision(ArtifactType::EventBrief, 1)
            .ok_or_else(|| ReplayError::Inconsistent("no event_brief revision 1".into()))?;
        let clock = Arc::new(ReplayClock {
            now: Mutex::new(self.event.created_at),
            recorded: self.steps.iter().map(|(n, _, at)| (*n, *at)).collect(),
        });
        let calls = self.model_calls();
        let gatherings = self.gatherings();
        let mut engine = Engine::new(scratch.clone(), tools).with_clock(clock.clone());
        // Without gatherings in the record the recorded engine gathered nothing (it had no
        // external sources, or asked them nothing).
        if !gatherings.is_empty() {
            engine = engine.with_gatherer(Arc::new(RecordedGatherer(Mutex::new(
                gatherings.clone().into(),
            ))));
        }
        if let Some(first) = calls.first() {
            engine = engine.with_model(Arc::new(eods_model::ModelClient::replaying(
                &first.model,
                calls.clone(),
            )));
        }
        let mut approver = RecordedApprover::new(&self.approvals, clock.clone());
        let engine_err = |what: &str| {
            let what = what.to_owned();
            move |source| ReplayError::Engine { what, source }
        };
        let id = engine
            .create(
                brief.payload.clone(),
                &self.event.options,
                Creation::default(),
            )
            .await
            .map_err(engine_err("the submission"))?;
        let mut inputs = 1;
        for s in &segments {
            match s {
                Segment::Run { from, until } => {
                    clock.set(*from);
                    // A live run waits for its timers; the recorded engine went on when they
                    // were due, within the span of its commits.
                    for _ in 0..1000 {
                        engine
                            .run(id, Some(&mut approver), &mut Quiet)
                            .await
                            .map_err(engine_err("a run"))?;
                        let row = scratch.event(id).await?.ok_or(ReplayError::NotFound(id))?;
                        match row.wake_at {
                            Some(w) if w <= *until => clock.set(w.max(clock.now())),
                            _ => break,
                        }
                    }
                }
                Segment::Input(input, at) => {
                    clock.set(*at);
                    inputs += 1;
                    apply(&engine, id, input)
                        .await
                        .map_err(engine_err(&format!("the input of {at}")))?;
                }
            }
        }
        let mut replayed = scratch.all_revisions(id).await?;
        replayed.sort_by_key(|e| (e.artifact_type, e.revision));
        Ok(ReplayReport {
            event_id: self.event.id,
            commits: self.steps.len(),
            inputs,
            decisions: approver.answered,
            model_calls: calls.len(),
            gatherings: gatherings.len(),
            revisions: self.revisions.len(),
            first_difference: first_difference(&self.revisions, &replayed),
        })
    }
}

/// Applies one recorded input to event `id`.
async fn apply(engine: &Engine, id: EventId, input: &Input) -> Result<(), EngineError> {
    match input {
        Input::Supply { data, by } => {
            let current = engine
                .store()
                .current_of(id, ArtifactType::OrganiserData)
                .await?
                .and_then(|e| serde_json::from_value::<OrganiserData>(e.payload).ok())
                .unwrap_or_default();
            let supply = crate::Supply {
                venues: Some(data.venues.clone()),
                rate_cards: Some(data.rate_cards.clone()),
                add_quotes: data
                    .quotes
                    .iter()
                    .filter(|q| !current.quotes.contains(q))
                    .cloned()
                    .collect(),
            };
            engine.supply(id, supply, by, "").await?;
        }
        Input::Edit { envelope, reopened } => {
            engine
                .edit_artifact(
                    id,
                    envelope.artifact_type,
                    envelope.revision - 1,
                    envelope.payload.clone(),
                    &envelope.created_by,
                    "",
                    if *reopened {
                        Decimal::ZERO
                    } else {
                        Decimal::MAX
                    },
                )
                .await?;
        }
        Input::Amend { patch, by } => {
            engine.amend_brief(id, patch, by).await?;
        }
        Input::Command { cmd, by } => {
            engine.command(id, *cmd, by).await?;
        }
        Input::Drafts { by } => {
            engine.write_drafts(id, by).await?;
        }
        Input::ApproveDraft {
            draft,
            revision,
            by,
        } => {
            engine.approve_draft(id, draft, *revision, by).await?;
        }
    }
    Ok(())
}

/// The JSON merge patch (RFC 7396) that turns `old` into `new`.
fn merge_patch(old: &Value, new: &Value) -> Value {
    match (old, new) {
        (Value::Object(o), Value::Object(n)) => {
            let mut patch = serde_json::Map::new();
            for (k, v) in n {
                match o.get(k) {
                    Some(ov) if ov == v => {}
                    Some(ov) => {
                        patch.insert(k.clone(), merge_patch(ov, v));
                    }
                    None => {
                        patch.insert(k.clone(), v.clone());
                    }
                }
            }
            for k in o.keys().filter(|k| !n.contains_key(*k)) {
                patch.insert(k.clone(), Value::Null);
            }
            Value::Object(patch)
        }
        _ => new.clone(),
    }
}

/// A revision's content as compared: its payload (a trace without its own timings), its author
/// and its inputs.
fn content(e: &Envelope) -> (String, String, String) {
    let mut payload = e.payload.clone();
    if e.artifact_type == ArtifactType::AgentTrace
        && let Some(o) = payload.as_object_mut()
    {
        for k in ["started_at", "finished_at", "duration_ms"] {
            o.remove(k);
        }
    }
    (
        payload.to_string(),
        e.created_by.clone(),
        serde_json::to_string(&e.derived_from).unwrap_or_default(),
    )
}

/// The first recorded revision (in the order written) that `replayed` does not hold as recorded,
/// else the first replayed revision the record does not hold.
fn first_difference(recorded: &[Envelope], replayed: &[Envelope]) -> Option<Difference> {
    let by_key: BTreeMap<(ArtifactType, u32), &Envelope> = replayed
        .iter()
        .map(|e| ((e.artifact_type, e.revision), e))
        .collect();
    for r in recorded {
        let diff = |what: String| {
            Some(Difference {
                artifact_type: r.artifact_type,
                revision: r.revision,
                what,
            })
        };
        let Some(p) = by_key.get(&(r.artifact_type, r.revision)) else {
            return diff(format!(
                "recorded (by {}), not written by the replay",
                r.created_by
            ));
        };
        let (a, b) = (content(r), content(p));
        if a.1 != b.1 {
            return diff(format!(
                "written by {} in the record, by {} in the replay",
                a.1, b.1
            ));
        }
        if a.2 != b.2 {
            return diff(format!(
                "derived from {} in the record, from {} in the replay",
                a.2, b.2
            ));
        }
        if a.0 != b.0 {
            let (ra, pa): (Value, Value) = (
                serde_json::from_str(&a.0).unwrap_or_default(),
                serde_json::from_str(&b.0).unwrap_or_default(),
            );
            let (pointer, x, y) = json_difference(&ra, &pa, String::new())
                .unwrap_or_else(|| (String::new(), ra.clone(), pa.clone()));
            let hint = if pointer.starts_with("/instruction_set") {
                " (the run followed another instruction set than this replay: replay with \
                 --instructions naming a directory with the set the run recorded)"
            } else {
                ""
            };
            return diff(format!(
                "payload at `{}`: recorded {}, replayed {}{hint}",
                if pointer.is_empty() { "/" } else { &pointer },
                excerpt(&x),
                excerpt(&y)
            ));
        }
    }
    let recorded: std::collections::BTreeSet<(ArtifactType, u32)> = recorded
        .iter()
        .map(|e| (e.artifact_type, e.revision))
        .collect();
    let mut extra: Vec<&Envelope> = replayed
        .iter()
        .filter(|e| !recorded.contains(&(e.artifact_type, e.revision)))
        .collect();
    extra.sort_by_key(|e| (e.created_at, e.artifact_type, e.revision));
    extra.first().map(|e| Difference {
        artifact_type: e.artifact_type,
        revision: e.revision,
        what: format!(
            "written by the replay (by {}), not in the record",
            e.created_by
        ),
    })
}

/// The JSON pointer of the first value that differs, with both values (`null` when absent).
fn json_difference(a: &Value, b: &Value, at: String) -> Option<(String, Value, Value)> {
    if a == b {
        return None;
    }
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            keys.into_iter().find_map(|k| {
                let (p, q) = (
                    x.get(k).cloned().unwrap_or(Value::Null),
                    y.get(k).cloned().unwrap_or(Value::Null),
                );
                let key = k.replace('~', "~0").replace('/', "~1");
                json_difference(&p, &q, format!("{at}/{key}"))
            })
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (p, q))| json_difference(p, q, format!("{at}/{i}"))),
        _ => Some((at, a.clone(), b.clone())),
    }
}

/// A value as shown in a difference: its JSON, cut at 200 characters.
fn excerpt(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 200 {
        format!("{}…", s.chars().take(200).collect::<String>())
    } else {
        s
    }
}

/// A clock that reads the instant the replay sets, or the recorded instant of the commit the
/// engine is about to build.
struct ReplayClock {
    now: Mutex<DateTime<Utc>>,
    /// The recorded commits' instants, by step number.
    recorded: BTreeMap<u64, DateTime<Utc>>,
}

impl ReplayClock {
    fn set(&self, at: DateTime<Utc>) {
        *self.now.lock().unwrap_or_else(|e| e.into_inner()) = at;
    }
}

impl Clock for ReplayClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn entering(&self, step: u64) {
        if let Some(at) = self.recorded.get(&step) {
            self.set(*at);
        }
    }
}

/// The answers recorded for one request, with their instants, in order.
type Recorded = VecDeque<(Answer, DateTime<Utc>)>;

/// Answers each approval request with what was recorded for it (its votes, in order, or its
/// decision), at the recorded instant; leaves a request that was never decided waiting.
struct RecordedApprover {
    /// By gate and revision: the answers not given yet, with their instants.
    answers: BTreeMap<(ApprovalGate, u32), Recorded>,
    clock: Arc<ReplayClock>,
    answered: usize,
}

impl RecordedApprover {
    fn new(approvals: &[ApprovalRow], clock: Arc<ReplayClock>) -> Self {
        let answers = approvals
            .iter()
            .map(|a| {
                let answers: Recorded = if a.votes.is_empty() {
                    match (a.decision, &a.decided_by, a.decided_at) {
                        (Some(decision), Some(by), Some(at)) => [(
                            Answer {
                                decision,
                                comment: a.comment.clone().unwrap_or_default(),
                                by: by.clone(),
                            },
                            at,
                        )]
                        .into(),
                        _ => VecDeque::new(),
                    }
                } else {
                    a.votes
                        .iter()
                        .map(|v| {
                            (
                                Answer {
                                    decision: v.decision,
                                    comment: v.comment.clone(),
                                    by: v.voter.clone(),
                                },
                                v.at,
                            )
                        })
                        .collect()
                };
                ((a.gate, a.artifact_revision), answers)
            })
            .collect();
        RecordedApprover {
            answers,
            clock,
            answered: 0,
        }
    }
}

impl Approver for RecordedApprover {
    fn answers(&self, request: &PendingApproval) -> bool {
        self.answers
            .get(&(request.gate, request.artifact_revision))
            .is_some_and(|a| !a.is_empty())
    }

    fn decide(&mut self, request: &PendingApproval) -> Answer {
        match self
            .answers
            .get_mut(&(request.gate, request.artifact_revision))
            .and_then(VecDeque::pop_front)
        {
            Some((answer, at)) => {
                self.clock.set(at);
                self.answered += 1;
                answer
            }
            // Not reached: the engine asks only what `answers` accepts.
            None => Answer {
                decision: eods_domain::lifecycle::ApprovalDecision::RequestChanges,
                comment: "replay: no recorded answer".into(),
                by: "system:replay".into(),
            },
        }
    }

    fn answers_at_once(&self) -> bool {
        true
    }
}

/// Answers each venue gathering with the next one recorded.
struct RecordedGatherer(Mutex<VecDeque<GatheredVenues>>);

impl VenueGatherer for RecordedGatherer {
    fn gather<'a>(&'a self, _q: &'a VenueQuery, _wanted: usize) -> BoxFuture<'a, ExternalVenues> {
        let next = self.0.lock().unwrap_or_else(|e| e.into_inner()).pop_front();
        Box::pin(async move {
            next.unwrap_or_else(|| GatheredVenues {
                records: vec![],
                attempts: vec![],
                escalation: Some(
                    "replay: the record holds no venues gathered for this step (recorded before gatherings were kept, or the replay asked where the run did not)"
                        .into(),
                ),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_merge_patch_turns_the_old_document_into_the_new() {
        let old = json!({"title": "A", "budget": {"total": "5", "currency": "EUR"}, "notes": "x"});
        let new = json!({"title": "A", "budget": {"total": "8", "currency": "EUR"}, "tags": [1]});
        let patch = merge_patch(&old, &new);
        assert_eq!(
            patch,
            json!({"budget": {"total": "8"}, "notes": null, "tags": [1]})
        );
    }

    fn trace(hash: &str, duration: u64) -> Envelope {
        Envelope {
            id: eods_domain::ids::ArtifactId(uuid::Uuid::now_v7()),
            event_id: EventId(uuid::Uuid::now_v7()),
            artifact_type: ArtifactType::AgentTrace,
            revision: 1,
            schema_version: "1.0.0".into(),
            created_at: Utc::now(),
            created_by: "system:engine".into(),
            correlation_id: "c".into(),
            derived_from: vec![],
            payload: json!({"step": "plan", "duration_ms": duration, "instruction_set": {"hash": hash}}),
        }
    }

    #[test]
    fn a_trace_differs_by_what_it_records_not_by_its_timings() {
        assert_eq!(first_difference(&[trace("a", 5)], &[trace("a", 9)]), None);
        let d = first_difference(&[trace("a", 5)], &[trace("b", 5)]).unwrap();
        assert_eq!((d.artifact_type, d.revision), (ArtifactType::AgentTrace, 1));
        assert!(d.what.contains("`/instruction_set/hash`"), "{d}");
        assert!(d.what.contains("another instruction set"), "{d}");
        let d = first_difference(&[trace("a", 5)], &[]).unwrap();
        assert!(d.what.contains("not written by the replay"), "{d}");
    }

    #[test]
    fn the_first_difference_is_named_by_pointer() {
        let a = json!({"a": [1, {"b": "x/y"}], "c": 1});
        let b = json!({"a": [1, {"b": "x/z"}], "c": 2});
        let (p, x, y) = json_difference(&a, &b, String::new()).unwrap();
        assert_eq!(p, "/a/1/b");
        assert_eq!((x, y), (json!("x/y"), json!("x/z")));
        assert!(json_difference(&a, &a, String::new()).is_none());
    }
}
