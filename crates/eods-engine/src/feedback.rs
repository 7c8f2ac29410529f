//! The feedback survey of a live event, as the organiser enters the answers (`record_feedback`,
//! the API's `POST …/feedback`, the event page): appended to the runbook as its next revision by
//! the person, with a ChangeLog entry. Once the postmortem exists it is measured again, so
//! `stakeholder_satisfaction` follows the answers.

use crate::{Engine, EngineError, TaskError};
use eods_domain::artifact::{ArtifactType, Envelope};
use eods_domain::catalog::audit::ChangeType;
use eods_domain::catalog::brief::EventBrief;
use eods_domain::catalog::execution::{FeedbackResponse, Runbook};
use eods_domain::ids::EventId;
use eods_domain::lifecycle::{LifecycleState, RunStatus};
use eods_domain::run::RunMode;
use eods_store::{Commit, CommitOutcome, StatusWrite};

/// One answer as entered.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedbackAnswer {
    pub respondent: String,
    pub score: i64,
    pub comment: Option<String>,
}

/// What recording answers did.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedbackRecorded {
    pub envelope: Envelope,
    /// Answers in all, and their mean score.
    pub answers: usize,
    pub mean: f64,
    /// Whether the postmortem is measured again.
    pub remeasured: bool,
}

impl Engine {
    /// Appends `answers` to the event's survey (each a score from 1 to 5 by a named
    /// respondent). Refused for a rehearsal and before the event has begun; a bad answer is
    /// refused naming it, and nothing is recorded.
    pub async fn record_feedback(
        &self,
        id: EventId,
        answers: &[FeedbackAnswer],
        by: &str,
    ) -> Result<FeedbackRecorded, EngineError> {
        self.retrying(|| self.record_feedback_once(id, answers, by))
            .await
    }

    async fn record_feedback_once(
        &self,
        id: EventId,
        answers: &[FeedbackAnswer],
        by: &str,
    ) -> Result<FeedbackRecorded, EngineError> {
        let bad = |pointer: String, message: String| TaskError::BadAnswer { pointer, message };
        if answers.is_empty() {
            return Err(bad(
                "/responses".into(),
                "give at least one answer: {\"respondent\": …, \"score\": 1 to 5}".into(),
            )
            .into());
        }
        for (i, a) in answers.iter().enumerate() {
            if a.respondent.trim().is_empty() {
                return Err(bad(
                    format!("/responses/{i}/respondent"),
                    "name who answered (a stakeholder, or `attendee`)".into(),
                )
                .into());
            }
            if !(1..=5).contains(&a.score) {
                return Err(bad(
                    format!("/responses/{i}/score"),
                    format!(
                        "a score is 1 (very dissatisfied) to 5 (very satisfied), not {}",
                        a.score
                    ),
                )
                .into());
            }
        }
        let l = self.load(id).await?;
        let event = &l.snap.event;
        if event.options.mode == RunMode::Simulate {
            return Err(TaskError::Rehearsal.into());
        }
        if event.state < LifecycleState::Execute {
            return Err(TaskError::FeedbackTooEarly(event.state).into());
        }
        let (Some(before), Some(brief)) = (l.bb.get::<Runbook>(), l.bb.get::<EventBrief>()) else {
            return Err(TaskError::FeedbackTooEarly(event.state).into());
        };
        let now = self.clock.now();
        let today = now.with_timezone(&brief.tz()).date_naive();
        let mut runbook = before.clone();
        runbook.feedback.extend(answers.iter().map(|a| {
            FeedbackResponse {
                respondent: a.respondent.trim().to_owned(),
                score: u8::try_from(a.score).unwrap_or(5),
                comment: a
                    .comment
                    .as_deref()
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .map(str::to_owned),
                recorded_by: by.to_owned(),
                recorded_on: today,
            }
        }));
        let n = runbook.feedback.len();
        let mean = runbook
            .feedback
            .iter()
            .map(|r| f64::from(r.score))
            .sum::<f64>()
            / n as f64;
        let current = l.bb.current(ArtifactType::Runbook);
        let revision = current.map_or(1, |c| c.revision + 1);
        let correlation = self.correlation_id();
        let envelope = crate::tasks::runbook_revision(
            runbook,
            id,
            revision,
            by,
            &correlation,
            now,
            current.map(|c| c.derived_from.clone()).unwrap_or_default(),
        )?;
        let line = format!(
            "feedback: {} answer(s) recorded by {by}; {n} in all, mean score {mean:.2} of 5",
            answers.len()
        );
        let mut rec = l.records(&correlation, now);
        rec.change(
            ChangeType::Revised,
            &line,
            vec![envelope.as_ref()],
            by,
            None,
        );
        // After the postmortem, it is measured again with the answers: the run is queued.
        let remeasured = event.state == LifecycleState::Postmortem;
        let commit = Commit {
            event_id: id,
            step_key: format!("feedback@runbook{revision}"),
            at: now,
            artifacts: vec![envelope.clone()],
            changes: rec.changes,
            status: remeasured.then(|| StatusWrite {
                state: LifecycleState::Postmortem,
                run_status: RunStatus::Running,
                detail: Some("feedback recorded: the postmortem is measured again".into()),
                wake_at: None,
            }),
            expect_seq: Some(l.snap.seq),
            ..Commit::default()
        };
        if self.commit(&commit).await? == CommitOutcome::AlreadyApplied {
            return Err(EngineError::Store(eods_store::StoreError::Stale {
                event: id.to_string(),
            }));
        }
        Ok(FeedbackRecorded {
            envelope,
            answers: n,
            mean,
            remeasured,
        })
    }
}
