//! An event's state as the engine holds it: the stored snapshot typed (the blackboard, the
//! approval states, the directives), and [`Loaded::apply`], which changes it exactly as the store
//! will when a commit is written. A run keeps this state in memory between actions and reads the
//! database again only when a commit is refused (another writer came in between, or the lease was
//! lost).

use crate::{EngineError, RunOptions, directives};
use eods_agents::Directives;
use eods_agents::sources::EventRates;
use eods_domain::artifact::{ArtifactType, Payload};
use eods_domain::blackboard::{Blackboard, Current};
use eods_domain::instruction::Level;
use eods_domain::lifecycle::{ApprovalState, ApprovalStatus};
use eods_store::{ApprovalRow, BriefSummary, Commit, EventSnapshot};

/// An event's state, typed.
pub(crate) struct Loaded {
    pub(crate) snap: EventSnapshot,
    pub(crate) bb: Blackboard,
    pub(crate) approvals: Vec<ApprovalState>,
    pub(crate) directives: Directives,
    pub(crate) level: Level,
    pub(crate) options: RunOptions,
    /// The current brief revision's JSON as stored (an amendment patches it); the other
    /// revisions live only typed, in `bb` (`snap.artifacts` is emptied on load).
    pub(crate) brief_json: Option<serde_json::Value>,
    /// The suppliers the event may contract, computed on first use and kept until its brief or
    /// its organiser's data changes (see [`Loaded::rates`]).
    rates: std::sync::OnceLock<EventRates>,
}

impl Loaded {
    /// Types a stored snapshot; a payload or options that do not parse are `Corrupt`.
    pub(crate) fn from_snapshot(mut snap: EventSnapshot) -> Result<Loaded, EngineError> {
        let mut bb = Blackboard::new();
        let mut brief_json = None;
        for e in std::mem::take(&mut snap.artifacts) {
            if e.artifact_type == ArtifactType::EventBrief {
                brief_json = Some(e.payload.clone());
            }
            let payload = Payload::from_value(e.artifact_type, e.payload).map_err(|err| {
                EngineError::Corrupt {
                    what: format!("{} revision {}", e.artifact_type, e.revision),
                    detail: err.to_string(),
                }
            })?;
            bb.insert(Current {
                revision: e.revision,
                created_by: e.created_by,
                derived_from: e.derived_from,
                payload,
            });
        }
        let options = snap.event.options.clone();
        let level = snap.event.level;
        let mut l = Loaded {
            snap,
            bb,
            approvals: vec![],
            directives: Directives::default(),
            level,
            options,
            brief_json,
            rates: std::sync::OnceLock::new(),
        };
        l.derive();
        Ok(l)
    }

    /// The approval states and directives, from the approval rows and the options.
    fn derive(&mut self) {
        self.approvals = self
            .snap
            .approvals
            .iter()
            .map(|a| ApprovalState {
                gate: a.gate,
                artifact_revision: a.artifact_revision,
                status: a.status,
            })
            .collect();
        self.directives = directives(&self.snap.approvals, &self.options);
    }

    /// Applies `c` as the store writes it (see `eods_store::Store::commit_batch`): its step key,
    /// artifacts (each the new current revision of its type), log entries, approval requests
    /// (superseding older pending ones of the gate), decisions, votes, brief, options and status.
    /// The commit counter is not moved: it counts transactions, and the caller sets it from what
    /// the store answered.
    pub(crate) fn apply(&mut self, c: &Commit) -> Result<(), EngineError> {
        self.apply_typed(c, None)
    }

    /// [`Self::apply`], taking the typed revisions `typed` holds of the commit's artifacts from
    /// there instead of parsing their JSON again (a step built them typed).
    pub(crate) fn apply_typed(
        &mut self,
        c: &Commit,
        typed: Option<&Blackboard>,
    ) -> Result<(), EngineError> {
        let snap = &mut self.snap;
        snap.steps.push(c.step_key.clone());
        snap.step_count += 1;
        for e in &c.artifacts {
            if matches!(
                e.artifact_type,
                ArtifactType::EventBrief | ArtifactType::OrganiserData
            ) {
                self.rates = std::sync::OnceLock::new();
            }
            if !typed.is_some_and(|t| self.bb.share(t, e.artifact_type, e.revision)) {
                let payload =
                    Payload::from_value(e.artifact_type, e.payload.clone()).map_err(|err| {
                        EngineError::Corrupt {
                            what: format!("{} revision {}", e.artifact_type, e.revision),
                            detail: err.to_string(),
                        }
                    })?;
                self.bb.insert(Current {
                    revision: e.revision,
                    created_by: e.created_by.clone(),
                    derived_from: e.derived_from.clone(),
                    payload,
                });
            }
            if e.artifact_type == ArtifactType::EventBrief {
                self.brief_json = Some(e.payload.clone());
            }
        }
        snap.decision_count += c.decisions.len() as u64;
        snap.change_count += c.changes.len() as u64;
        for id in &c.superseded {
            if let Some(old) = snap
                .approvals
                .iter_mut()
                .find(|o| o.id == *id && o.status == ApprovalStatus::Pending)
            {
                old.status = ApprovalStatus::Superseded;
            }
        }
        for a in &c.approval_requests {
            snap.approvals.push(ApprovalRow {
                id: a.id,
                event_id: c.event_id,
                gate: a.gate,
                artifact_revision: a.artifact_revision,
                status: ApprovalStatus::Pending,
                approver_role: a.approver_role.clone(),
                requested_at: a.requested_at,
                deadline: a.deadline,
                decided_at: None,
                decided_by: None,
                decision: None,
                comment: None,
                directive: None,
                required_approvals: a.required_approvals.max(1),
                votes: vec![],
                summary: None,
            });
        }
        for w in &c.approval_summaries {
            if let Some(a) = snap
                .approvals
                .iter_mut()
                .find(|a| a.id == w.id && a.summary.is_none())
            {
                a.summary = Some((w.text.clone(), w.by.clone()));
            }
        }
        for d in &c.approval_decisions {
            let row = snap
                .approvals
                .iter_mut()
                .find(|a| a.id == d.id && a.status == ApprovalStatus::Pending)
                .ok_or_else(|| EngineError::Approval {
                    id: d.id,
                    reason: "is not pending".into(),
                })?;
            row.status = d.status;
            row.decided_at = Some(d.decided_at);
            row.decided_by = Some(d.decided_by.clone());
            row.decision = Some(d.decision);
            row.comment = Some(d.comment.clone());
            row.directive.clone_from(&d.directive);
        }
        for v in &c.votes {
            if let Some(a) = snap.approvals.iter_mut().find(|a| a.id == v.approval_id) {
                a.votes.push(v.clone());
            }
        }
        // The event row's brief columns, as the store derives them (`summary.rs`): the newest
        // event_brief revision clears the draft and sets title and summary; a draft its own.
        if let Some(e) = c
            .artifacts
            .iter()
            .filter(|e| e.artifact_type == ArtifactType::EventBrief)
            .max_by_key(|e| e.revision)
        {
            let (title, summary) = BriefSummary::of_value(&e.payload);
            snap.event.title = title.unwrap_or_else(|| snap.event.title.clone());
            snap.event.summary = summary;
            snap.event.draft = None;
        } else if let Some(d) = &c.draft {
            let (title, summary) = BriefSummary::of_value(d);
            if let Some(t) = title {
                snap.event.title = t;
            }
            snap.event.summary = summary;
            snap.event.draft = Some(d.clone());
        }
        if let Some(level) = c.level {
            snap.event.level = level;
            self.level = level;
        }
        if let Some(o) = &c.options {
            snap.event.options = o.clone();
            self.options = o.clone();
        }
        if let Some(s) = &c.status {
            snap.event.state = s.state;
            snap.event.run_status = s.run_status;
            snap.event.status_detail.clone_from(&s.detail);
            snap.event.updated_at = c.at;
        }
        self.derive();
        Ok(())
    }
}

impl Loaded {
    /// What [`crate::decide::next_action`] decides from.
    /// `now` is the engine's clock: in a live run it also decides whether the event has ended
    /// (a directive of Execute, so the runbook is written again, ended, once it has).
    pub(crate) fn decision_input(
        &mut self,
        now: chrono::DateTime<chrono::Utc>,
    ) -> crate::decide::DecisionInput<'_> {
        if self.directives.mode == eods_domain::run::RunMode::Live {
            self.directives.event_ended = self
                .bb
                .get::<eods_domain::catalog::brief::EventBrief>()
                .is_some_and(|b| now >= b.live_window().1);
        }
        crate::decide::DecisionInput {
            now,
            state: self.snap.event.state,
            run_status: self.snap.event.run_status,
            level: self.level,
            blackboard: &self.bb,
            approvals: &self.approvals,
            directives: &self.directives,
            committed: &self.snap.steps,
        }
    }

    /// The suppliers the event may contract ([`EventRates::of`]), shared by the steps of a run.
    pub(crate) fn rates(&self, tools: &eods_agents::Tools) -> EventRates {
        self.rates
            .get_or_init(|| EventRates::of(tools, &self.bb))
            .clone()
    }

    /// Log entries numbered after what this state holds.
    pub(crate) fn records(
        &self,
        correlation: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> crate::records::Records {
        crate::records::Records::new(
            self.snap.decision_count,
            self.snap.change_count,
            correlation,
            now,
        )
    }

    /// The pending requests that `requests` retire: those of the same gate for an older
    /// revision (a request for a newer revision of an artifact replaces them).
    pub(crate) fn superseded_by(
        &self,
        requests: &[eods_store::NewApproval],
    ) -> Vec<eods_domain::ids::ApprovalId> {
        self.snap
            .approvals
            .iter()
            .filter(|a| {
                a.status == ApprovalStatus::Pending
                    && requests
                        .iter()
                        .any(|r| r.gate == a.gate && a.artifact_revision < r.artifact_revision)
            })
            .map(|a| a.id)
            .collect()
    }
}
