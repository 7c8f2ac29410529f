//! Human edits of artifacts (the API's `PUT …/artifacts/{type}`): validate, store a new revision,
//! record the semantic diff, and let the run recompute what was derived from it. An edit of an
//! artifact that needs approval puts the new revision up for approval; an edit elsewhere whose
//! cost impact exceeds the threshold re-opens the budget approval.

use crate::records;
use crate::{Engine, EngineError, Loaded, Records, RunOptions, approval_requested};
use eods_agents::Step;
use eods_domain::artifact::{ArtifactRef, ArtifactType, Envelope, Payload};
use eods_domain::blackboard::{Blackboard, Current};
use eods_domain::catalog::audit::{ChangeType, DecisionType};
use eods_domain::catalog::budget::{BudgetDecision, BudgetStatus};
use eods_domain::catalog::messages::MessageDrafts;
use eods_domain::ids::{ApprovalId, ArtifactId, EventId};
use eods_domain::instruction::Level;
use eods_domain::lifecycle::{ApprovalGate, LifecycleState, RunStatus};
use eods_domain::schema::validate_document;
use eods_domain::validate::{Violation, validate_references_of};
use eods_store::{Commit, CommitOutcome, NewApproval, StatusWrite};
use rust_decimal::Decimal;
use uuid::Uuid;

/// What an edit did.
#[derive(Debug, Clone, PartialEq)]
pub struct EditOutcome {
    pub envelope: Envelope,
    /// The semantic diff written to the ChangeLog.
    pub change: String,
    pub cost_delta: Option<Decimal>,
    /// A new budget decision revision was put up for approval.
    pub budget_reapproval: bool,
    pub run_status: RunStatus,
}

/// Why an edit was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EditError {
    #[error("{0} is written by the engine and cannot be edited")]
    NotEditable(ArtifactType),
    #[error("the event has no {0} yet")]
    Missing(ArtifactType),
    #[error("the event is in {0}: plans are fixed once Execute starts; report an incident instead")]
    Executing(LifecycleState),
    #[error("revision {expected} is not the current one (current: {current})")]
    Stale { expected: u32, current: u32 },
    #[error("the edited {artifact_type} is not valid")]
    Invalid {
        artifact_type: ArtifactType,
        /// Pointers into the request's `{payload}` body.
        violations: Vec<Violation>,
    },
}

impl Engine {
    /// Stores `payload` as the next revision of `t`, written by `by`, if `expected_revision` is
    /// still current. `threshold` is the cost impact above which the budget approval re-opens.
    #[allow(clippy::too_many_arguments)]
    pub async fn edit_artifact(
        &self,
        id: EventId,
        t: ArtifactType,
        expected_revision: u32,
        payload: serde_json::Value,
        by: &str,
        comment: &str,
        threshold: Decimal,
    ) -> Result<EditOutcome, EngineError> {
        self.retrying(|| {
            self.edit_artifact_once(
                id,
                t,
                expected_revision,
                payload.clone(),
                by,
                comment,
                threshold,
            )
        })
        .await
    }

    /// One attempt of [`Self::edit_artifact`] on one snapshot.
    #[allow(clippy::too_many_arguments)]
    async fn edit_artifact_once(
        &self,
        id: EventId,
        t: ArtifactType,
        expected_revision: u32,
        payload: serde_json::Value,
        by: &str,
        comment: &str,
        threshold: Decimal,
    ) -> Result<EditOutcome, EngineError> {
        if !editable(t) {
            return Err(EditError::NotEditable(t).into());
        }
        let l = self.load(id).await?;
        let event = &l.snap.event;
        // Messages are written up to and during the event; plans are fixed once it runs.
        if event.state >= LifecycleState::Execute && t != ArtifactType::MessageDrafts {
            return Err(EditError::Executing(event.state).into());
        }
        let current = l.bb.current(t).ok_or(EditError::Missing(t))?;
        if current.revision != expected_revision {
            return Err(EditError::Stale {
                expected: expected_revision,
                current: current.revision,
            }
            .into());
        }
        // A draft edited is written by the editor, and an approved one whose words change needs
        // approval again; an edit never approves (see `drafts::checked_edit`).
        let payload = match (t, l.bb.get::<MessageDrafts>()) {
            (ArtifactType::MessageDrafts, Some(cur)) => {
                match serde_json::from_value::<MessageDrafts>(payload.clone()) {
                    Ok(edited) => {
                        let checked =
                            crate::drafts::checked_edit(cur, edited, by).map_err(|violations| {
                                EditError::Invalid {
                                    artifact_type: t,
                                    violations,
                                }
                            })?;
                        Payload::MessageDrafts(checked).to_value()
                    }
                    // Not drafts at all: the schema check below names what is wrong.
                    Err(_) => payload,
                }
            }
            _ => payload,
        };
        let now = self.clock.now();
        let correlation = self.correlation_id();
        // The edit keeps the provenance of what it replaces, but not the replaced revision
        // itself: an edit of an approved artifact is new content that needs its own approval.
        let derived_from: Vec<ArtifactRef> = current
            .derived_from
            .iter()
            .filter(|r| r.artifact_type != t)
            .copied()
            .collect();
        let envelope = Envelope {
            id: ArtifactId(Uuid::now_v7()),
            event_id: id,
            artifact_type: t,
            revision: current.revision + 1,
            schema_version: t.schema_version().into(),
            created_at: now,
            created_by: by.to_owned(),
            correlation_id: correlation.clone(),
            derived_from: derived_from.clone(),
            payload,
        };
        let (typed, next) = checked_edit(&l.bb, &envelope)?;
        let (summary, cost_delta) = records::diff(Some(current), &envelope);
        let mut rec = l.records(&correlation, now);
        let line = match comment {
            "" => format!("{t} revision {} by {by}: {summary}", envelope.revision),
            c => format!(
                "{t} revision {} by {by}: {summary} ({c})",
                envelope.revision
            ),
        };
        rec.change(
            ChangeType::Revised,
            &line,
            vec![envelope.as_ref()],
            by,
            cost_delta,
        );
        let options: RunOptions = event.options.clone();
        let mut artifacts = vec![envelope.clone()];
        let mut approval_requests = Vec::new();
        let request = |gate: ApprovalGate, revision: u32| NewApproval {
            id: ApprovalId(Uuid::now_v7()),
            gate,
            artifact_revision: revision,
            approver_role: "approver".into(),
            requested_at: now,
            deadline: now + options.approval_deadline(),
            required_approvals: options.required_approvals.max(1),
        };
        // An edit of what a gate approves is new content: it needs its own approval.
        if let Some(gate) = ApprovalGate::ALL
            .into_iter()
            .find(|g| g.artifact_type() == t)
        {
            approval_requests.push(request(gate, envelope.revision));
        }
        // A cost impact above the threshold re-opens the budget approval, unless the budget step
        // recomputes the decision from this input anyway.
        let budget_inputs = Step::Budget.inputs();
        let mut budget_reapproval = t == ArtifactType::BudgetDecision;
        if t != ArtifactType::BudgetDecision
            && !budget_inputs.contains(&t)
            && let Some(delta) = cost_delta.filter(|d| d.abs() > threshold)
            && let Some(b) =
                reopened_budget(&l, &envelope, delta, threshold, &correlation, &mut rec)
        {
            approval_requests.push(request(ApprovalGate::BudgetDecision, b.revision));
            artifacts.push(b);
            budget_reapproval = true;
        }
        let outbox = notices(event, &approval_requests, &artifacts, &next);
        // Derived artifacts are recomputed by the run, whoever holds it.
        let run_status = match event.run_status {
            RunStatus::Paused | RunStatus::Cancelled | RunStatus::Completed => event.run_status,
            RunStatus::NeedsInput if t != ArtifactType::EventBrief => event.run_status,
            // No step reads the drafts.
            _ if t == ArtifactType::MessageDrafts => event.run_status,
            _ => RunStatus::Running,
        };
        // An edited brief is the brief: the store rewrites the event's summary from this revision
        // in the same transaction, and the level follows the audience as after an amendment.
        let level = match &typed {
            Payload::EventBrief(b) => Some(
                options
                    .level
                    .unwrap_or_else(|| Level::for_audience(b.audience_size)),
            ),
            _ => None,
        };
        let commit = Commit {
            event_id: id,
            step_key: format!("edit:{t}@{}", envelope.revision),
            level,
            at: now,
            artifacts,
            decisions: rec.decisions,
            changes: rec.changes,
            superseded: l.superseded_by(&approval_requests),
            approval_requests,
            outbox,
            // The drafts feed no step: the run's status and its detail stay as they are.
            status: (t != ArtifactType::MessageDrafts).then_some(StatusWrite {
                state: event.state,
                run_status,
                detail: None,
                wake_at: None,
            }),
            expect_seq: Some(l.snap.seq),
            ..Commit::default()
        };
        if self.commit(&commit).await? == CommitOutcome::AlreadyApplied {
            // Another edit of the same revision won the race.
            return Err(EditError::Stale {
                expected: expected_revision,
                current: expected_revision + 1,
            }
            .into());
        }
        Ok(EditOutcome {
            envelope,
            change: summary,
            cost_delta,
            budget_reapproval,
            run_status,
        })
    }
}

/// The typed payload of an edit's `envelope` and the blackboard with it, or every violation of
/// its payload: the schema and semantic checks, then the references to other artifacts.
fn checked_edit(
    bb: &Blackboard,
    envelope: &Envelope,
) -> Result<(Payload, Blackboard), EngineError> {
    let t = envelope.artifact_type;
    let doc = serde_json::to_value(envelope).unwrap_or_default();
    let typed = match validate_document(&doc) {
        Ok((_, p)) => p,
        Err(vs) => {
            return Err(EditError::Invalid {
                artifact_type: t,
                violations: vs
                    .into_iter()
                    .filter(|v| v.pointer.starts_with("/payload"))
                    .collect(),
            }
            .into());
        }
    };
    let mut next = bb.clone();
    next.insert(Current {
        revision: envelope.revision,
        created_by: envelope.created_by.clone(),
        derived_from: envelope.derived_from.clone(),
        payload: typed.clone(),
    });
    let refs: Vec<Violation> = validate_references_of(&next, &[t])
        .into_iter()
        .filter(|(a, _)| *a == t)
        .map(|(_, v)| Violation {
            pointer: format!("/payload{}", v.pointer),
            message: v.message,
        })
        .collect();
    if !refs.is_empty() {
        return Err(EditError::Invalid {
            artifact_type: t,
            violations: refs,
        }
        .into());
    }
    Ok((typed, next))
}

/// The budget_decision revision an edit re-opens for approval (its cost impact `delta` is above
/// `threshold`), with its ChangeLog and DecisionLog entries in `rec`; `None` without a budget
/// decision.
fn reopened_budget(
    l: &Loaded,
    edit: &Envelope,
    delta: Decimal,
    threshold: Decimal,
    correlation: &str,
    rec: &mut Records,
) -> Option<Envelope> {
    let t = edit.artifact_type;
    let cur = l.bb.current(ArtifactType::BudgetDecision)?;
    let d = l.bb.get::<BudgetDecision>()?;
    let mut reopened = d.clone();
    reopened.status = BudgetStatus::Proposed;
    reopened.approvals.clear();
    let mut from: Vec<ArtifactRef> = cur
        .derived_from
        .iter()
        .filter(|r| r.artifact_type != ArtifactType::BudgetDecision && r.artifact_type != t)
        .copied()
        .collect();
    from.push(edit.as_ref());
    let b = Envelope {
        id: ArtifactId(Uuid::now_v7()),
        event_id: l.snap.event.id,
        artifact_type: ArtifactType::BudgetDecision,
        revision: cur.revision + 1,
        schema_version: ArtifactType::BudgetDecision.schema_version().into(),
        created_at: edit.created_at,
        created_by: "system:engine".into(),
        correlation_id: correlation.to_owned(),
        derived_from: from,
        payload: Payload::BudgetDecision(reopened).to_value(),
    };
    rec.change(
            ChangeType::Revised,
            &format!(
                "budget_decision revision {} re-opened for approval: the {t} edit changes planned cost by {delta} (threshold {threshold})",
                b.revision
            ),
            vec![b.as_ref()],
            "system:engine",
            Some(delta),
        );
    rec.decision(
        DecisionType::Revision,
        "budget approval re-opened",
        "system:engine",
        &format!("a cost impact of {delta} exceeds the approval threshold of {threshold}"),
        vec![],
        None,
        vec![],
    );
    Some(b)
}

/// The `approval_requested` notification of each request, describing the revision it is about
/// (in `artifacts` when the edit writes it, else on `next`).
fn notices(
    event: &eods_store::EventRow,
    approval_requests: &[NewApproval],
    artifacts: &[Envelope],
    next: &Blackboard,
) -> Vec<eods_store::NewOutbox> {
    let mut outbox = Vec::new();
    for a in approval_requests {
        let mut bb = next.clone();
        if let Some(b) = artifacts
            .iter()
            .find(|e| e.artifact_type == a.gate.artifact_type())
            && let Ok(p) = Payload::from_value(b.artifact_type, b.payload.clone())
        {
            bb.insert(Current {
                revision: b.revision,
                created_by: b.created_by.clone(),
                derived_from: b.derived_from.clone(),
                payload: p,
            });
        }
        outbox.push(approval_requested(event, a, &bb));
    }
    outbox
}

/// Whether people may edit artifacts of type `t`: not the records of what happened (traces,
/// logs, the runbook, incidents, the postmortem).
fn editable(t: ArtifactType) -> bool {
    !matches!(
        t,
        ArtifactType::AgentTrace
            | ArtifactType::DecisionLog
            | ArtifactType::ChangeLog
            | ArtifactType::Runbook
            | ArtifactType::IncidentLog
            | ArtifactType::Postmortem
    )
}
