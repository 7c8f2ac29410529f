//! Task statuses as people record them in a live event (`record_task`, the API's
//! `PATCH …/tasks/{task_id}`, `eods task`): the next runbook revision by the person, with a
//! ChangeLog entry, and what the recorded progress puts at risk. A rehearsal has nothing to
//! record: its Execute is simulated.

use crate::{Engine, EngineError};
use eods_domain::artifact::{ArtifactType, CatalogType, Envelope};
use eods_domain::catalog::audit::ChangeType;
use eods_domain::catalog::brief::EventBrief;
use eods_domain::catalog::execution::{Runbook, RunbookEntry};
use eods_domain::catalog::planning::{TaskRegister, TaskStatus, Timeline};
use eods_domain::ids::{ArtifactId, EventId, TaskId};
use eods_domain::lifecycle::LifecycleState;
use eods_domain::progress::{AtRisk, TaskUpdate, UpdateError};
use eods_domain::run::RunMode;
use eods_store::{Commit, CommitOutcome};
use uuid::Uuid;

/// Why a task status cannot be recorded.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TaskError {
    #[error(
        "the event is a rehearsal (mode simulate): its Execute is simulated and has no tasks to record; create it with mode live to track tasks"
    )]
    Rehearsal,
    #[error("the event has no task register yet: tasks exist once planning reached Plan")]
    NoTasks,
    #[error("the event's postmortem is done: its record is closed")]
    Closed,
    #[error("the event has no task `{task}`; its tasks are {known}")]
    UnknownTask { task: String, known: String },
    #[error(transparent)]
    Update(#[from] UpdateError),
    #[error("feedback is collected once the event has begun; the event is in {0}")]
    FeedbackTooEarly(LifecycleState),
    #[error("{message}")]
    BadAnswer {
        /// The request field to fix, as a JSON pointer.
        pointer: String,
        message: String,
    },
}

/// What a recorded status did.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskRecorded {
    pub envelope: Envelope,
    pub entry: RunbookEntry,
    /// The ChangeLog line.
    pub change: String,
    pub at_risk: AtRisk,
}

impl Engine {
    /// Records `update` for task `task` of a live event, by `by` (`user:NAME`): the next runbook
    /// revision (created from the plan's tasks on the first update), a ChangeLog entry, and the
    /// projection of what is now late, blocked or at risk. The run's status is left as it is.
    pub async fn record_task(
        &self,
        id: EventId,
        task: &str,
        update: TaskUpdate,
        by: &str,
    ) -> Result<TaskRecorded, EngineError> {
        self.retrying(|| self.record_task_once(id, task, &update, by))
            .await
    }

    async fn record_task_once(
        &self,
        id: EventId,
        task: &str,
        update: &TaskUpdate,
        by: &str,
    ) -> Result<TaskRecorded, EngineError> {
        let l = self.load(id).await?;
        let event = &l.snap.event;
        if event.options.mode == RunMode::Simulate {
            return Err(TaskError::Rehearsal.into());
        }
        if event.state == LifecycleState::Postmortem {
            return Err(TaskError::Closed.into());
        }
        let (Some(tasks), Some(timeline), Some(brief)) = (
            l.bb.get::<TaskRegister>(),
            l.bb.get::<Timeline>(),
            l.bb.get::<EventBrief>(),
        ) else {
            return Err(TaskError::NoTasks.into());
        };
        let current = l.bb.current(ArtifactType::Runbook);
        let before: Option<&Runbook> = l.bb.get::<Runbook>();
        let mut runbook = before.cloned().unwrap_or(Runbook {
            simulation_seed: None,
            entries: vec![],
            milestones: vec![],
            event_ended: false,
            spend: None,
            feedback: vec![],
        });
        runbook.entries = eods_domain::progress::entries(tasks, &runbook.entries);
        let Some(i) = runbook
            .entries
            .iter()
            .position(|e| e.task_id.as_str() == task)
        else {
            let known: Vec<&str> = runbook.entries.iter().map(|e| e.task_id.as_str()).collect();
            return Err(TaskError::UnknownTask {
                task: task.to_owned(),
                known: known.join(", "),
            }
            .into());
        };
        let now = self.clock.now();
        let today = now.with_timezone(&brief.tz()).date_naive();
        let old = runbook.entries[i].clone();
        let entry =
            eods_domain::progress::apply(&old, update, today, by).map_err(TaskError::from)?;
        runbook.entries[i] = entry.clone();
        runbook.milestones =
            eods_domain::progress::milestones_reached(timeline, tasks, &runbook.entries);
        let at_risk = eods_domain::progress::at_risk(
            tasks,
            timeline,
            &runbook.entries,
            today,
            brief.first_day(),
        );
        let revision = current.map_or(1, |c| c.revision + 1);
        let correlation = self.correlation_id();
        let envelope = runbook_revision(
            runbook,
            id,
            revision,
            by,
            &correlation,
            now,
            l.bb.reference(TaskRegister::TYPE).into_iter().collect(),
        )?;
        let status = |e: &RunbookEntry| {
            let s = status_words(e.status);
            match (e.completed_on, &e.note) {
                (Some(d), _) => format!("{s} on {d}"),
                (None, Some(n)) => format!("{s} ({n})"),
                (None, None) => s.to_owned(),
            }
        };
        let cost = match (old.actual_cost, entry.actual_cost) {
            (a, Some(c)) if a != Some(c) => format!(", actual cost {c}"),
            _ => String::new(),
        };
        let line = format!(
            "task {} \"{}\": {} → {}{cost} by {by}; {}",
            TaskId::from(task),
            entry.title,
            status(&old),
            status(&entry),
            at_risk.summary()
        );
        let mut rec = l.records(&correlation, now);
        rec.change(
            ChangeType::Revised,
            &line,
            vec![envelope.as_ref()],
            by,
            None,
        );
        let commit = Commit {
            event_id: id,
            step_key: format!("task:{task}@runbook{revision}"),
            at: now,
            artifacts: vec![envelope.clone()],
            changes: rec.changes,
            expect_seq: Some(l.snap.seq),
            ..Commit::default()
        };
        if self.commit(&commit).await? == CommitOutcome::AlreadyApplied {
            // Another update made the same revision: read again and apply this one after it.
            return Err(EngineError::Store(eods_store::StoreError::Stale {
                event: id.to_string(),
            }));
        }
        Ok(TaskRecorded {
            envelope,
            entry,
            change: line,
            at_risk,
        })
    }
}

/// The runbook revision a person writes (a task status, survey answers), checked like
/// everything the engine stores.
pub(crate) fn runbook_revision(
    runbook: Runbook,
    id: EventId,
    revision: u32,
    by: &str,
    correlation: &str,
    now: chrono::DateTime<chrono::Utc>,
    derived_from: Vec<eods_domain::artifact::ArtifactRef>,
) -> Result<Envelope, EngineError> {
    let payload = runbook.into_payload();
    let mut envelope = Envelope {
        id: ArtifactId(Uuid::now_v7()),
        event_id: id,
        artifact_type: ArtifactType::Runbook,
        revision,
        schema_version: ArtifactType::Runbook.schema_version().into(),
        created_at: now,
        created_by: by.to_owned(),
        correlation_id: correlation.to_owned(),
        derived_from,
        payload: payload.to_value(),
    };
    eods_domain::schema::validate_built(&mut envelope, &payload).map_err(|vs| {
        EngineError::Corrupt {
            what: "runbook".into(),
            detail: vs
                .iter()
                .map(|v| format!("{}: {}", v.pointer, v.message))
                .collect::<Vec<_>>()
                .join("; "),
        }
    })?;
    Ok(envelope)
}

/// A task status in words.
pub fn status_words(s: TaskStatus) -> &'static str {
    match s {
        TaskStatus::NotStarted => "not started",
        TaskStatus::InProgress => "in progress",
        TaskStatus::Done => "done",
        TaskStatus::Blocked => "blocked",
    }
}
