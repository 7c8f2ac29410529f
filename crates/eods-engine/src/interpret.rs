//! Brief texts the recogniser did not understand, read by the language model when one is
//! configured (issue 16). Before Intake runs on a brief revision, each constraint and location
//! preference reported as not understood is put to the model, whose answer must be the
//! recogniser's own structured constraints (`Vec<Understood>`, by JSON Schema) and pass
//! [`check_interpretation`]. What passes is kept in a new event_brief revision
//! (`interpretations`, written by the Event Planner) that every agent reads through
//! `read_brief`, so the plan, its checks and any replay see the same constraints; what fails
//! stays "not understood". Every call is recorded in an AgentTrace of its own (`interpret`),
//! used or not, and the commit is keyed by the brief revision it read, so a brief is put to
//! the model once.
//!
//! The model only adds constraints to texts nothing else understood: the budget, capacities and
//! the program's hours are still the brief's, and a window it reads goes through the same
//! checks as one the recogniser read.

use crate::{Built, Engine, EngineError, Loaded};
use chrono::{DateTime, Utc};
use eods_agents::instructions::Prompt;
use eods_domain::artifact::{ArtifactType, CatalogType, Envelope};
use eods_domain::catalog::audit::{AgentTrace, ChangeType, DecisionType, TraceStatus};
use eods_domain::catalog::brief::EventBrief;
use eods_domain::constraints::{
    Interpretation, TextSource, Understood, check_interpretation, read_brief,
};
use eods_domain::ids::ArtifactId;
use eods_domain::instruction::AgentKind;
use eods_domain::model::{ModelCall, ModelOutcome};
use eods_model::{ModelClient, Task, Usage};
use eods_store::Commit;
use serde_json::Value;
use uuid::Uuid;

/// The task's name (and its schema's).
pub(crate) const TASK: &str = "interpret_constraint";

/// The key of the commit that records the model's reading of brief revision `revision`.
pub(crate) fn interpret_key(revision: u32) -> String {
    format!("interpret:event_brief@{revision}")
}

/// The constraints and location preferences of `b` reported as not understood: their pointers
/// and texts.
pub(crate) fn texts_to_interpret(b: &EventBrief) -> Vec<(String, String)> {
    read_brief(b)
        .into_iter()
        .filter(|r| r.source != TextSource::Objective && r.not_understood.is_some())
        .map(|r| (r.pointer, r.text))
        .collect()
}

/// What to ask the model about one text, from the Event Planner's instruction set's prompt.
pub(crate) fn task_for(prompt: &Prompt, text: &str) -> Task {
    Task {
        name: TASK.into(),
        system: prompt.system.clone(),
        user: prompt.user_for(text),
        schema: schemars::schema_for!(Vec<Understood>).to_value(),
    }
}

/// What the event's earlier model calls spent (every call is in an AgentTrace), so the budget
/// counts across runs.
pub(crate) fn spent(traces: &[Envelope]) -> Usage {
    let mut usage = Usage::default();
    for t in traces {
        let Ok(trace) = serde_json::from_value::<AgentTrace>(t.payload.clone()) else {
            continue;
        };
        for c in trace.model_calls {
            usage.calls = usage.calls.saturating_add(c.attempts);
            usage.tokens = usage
                .tokens
                .saturating_add(c.prompt_tokens.unwrap_or(0))
                .saturating_add(c.completion_tokens.unwrap_or(0));
        }
    }
    usage
}

/// The structured constraints of a model's answer, or why they are refused.
pub(crate) fn read_answer(value: &Value) -> Result<Vec<Understood>, String> {
    let understood: Vec<Understood> = serde_json::from_value(value.clone())
        .map_err(|e| format!("the answer is not structured constraints: {e}"))?;
    check_interpretation(&understood)
        .map_err(|p| format!("the answer was refused: {}", p.join("; ")))?;
    Ok(understood)
}

impl Engine {
    /// Whether brief revision `l` holds texts to put to the model and has not been put to it.
    pub(crate) fn interpretation_due(&self, l: &Loaded) -> Option<Vec<(String, String)>> {
        self.model.as_ref()?;
        let revision = l.bb.revision(ArtifactType::EventBrief)?;
        // A revision this reading wrote is not read again (what it left is what failed).
        let by_planner =
            l.bb.current(ArtifactType::EventBrief)
                .is_some_and(|c| c.created_by == format!("agent:{}", AgentKind::EventPlanner));
        if by_planner || l.snap.steps.iter().any(|k| *k == interpret_key(revision)) {
            return None;
        }
        let texts = texts_to_interpret(l.bb.get::<EventBrief>()?);
        (!texts.is_empty()).then_some(texts)
    }

    /// Puts each text to the model: every call's record (an answer refused by the checks marked
    /// invalid, with why) and the interpretations to keep.
    /// The budget is the event's: what its earlier runs spent counts.
    pub(crate) async fn interpret(
        &self,
        l: &Loaded,
        texts: &[(String, String)],
    ) -> Result<(Vec<ModelCall>, Vec<Interpretation>), EngineError> {
        let Some(model) = &self.model else {
            return Ok((vec![], vec![]));
        };
        let set = self
            .tools
            .instructions
            .get(AgentKind::EventPlanner, l.level)
            .map_err(eods_agents::AgentError::from)?;
        let prompt = set.prompt(TASK).map_err(eods_agents::AgentError::from)?;
        let by = format!("model:{}", model.config().model);
        let (mut calls, mut kept) = (Vec::new(), Vec::new());
        let traces = self
            .store
            .revisions(l.snap.event.id, ArtifactType::AgentTrace)
            .await?;
        let mut usage = spent(&traces);
        for (pointer, text) in texts {
            let answer = ask(model, &mut usage, &task_for(prompt, text)).await;
            let mut call = answer.call;
            if let Some(v) = answer.value {
                match read_answer(&v) {
                    Ok(understood) => kept.push(Interpretation {
                        pointer: pointer.clone(),
                        text: text.clone(),
                        understood,
                        by: by.clone(),
                    }),
                    Err(why) => {
                        call.outcome = ModelOutcome::Invalid;
                        call.reason = Some(why);
                    }
                }
            }
            calls.push(call);
        }
        Ok((calls, kept))
    }

    /// The commit recording the model's reading of the current brief revision: its trace, a
    /// decision saying what was kept and what was not, and — when anything was kept — the next
    /// event_brief revision with the interpretations.
    pub(crate) fn build_interpretation(
        &self,
        l: &Loaded,
        calls: Vec<ModelCall>,
        kept: Vec<Interpretation>,
        correlation: &str,
        started_at: DateTime<Utc>,
    ) -> Result<Built, EngineError> {
        let id = l.snap.event.id;
        let now = self.clock.now();
        let revision = l.bb.revision(ArtifactType::EventBrief).unwrap_or(0);
        let brief_ref = l.bb.reference(ArtifactType::EventBrief);
        let set = self
            .tools
            .instructions
            .get(AgentKind::EventPlanner, l.level)
            .map_err(eods_agents::AgentError::from)?;
        let actor = format!("agent:{}", AgentKind::EventPlanner);
        let mut rec = l.records(correlation, now);
        let mut artifacts = Vec::new();
        if let (false, Some(brief)) = (kept.is_empty(), l.bb.get::<EventBrief>()) {
            let mut next = brief.clone();
            next.interpretations
                .retain(|old| !kept.iter().any(|k| k.pointer == old.pointer));
            next.interpretations.extend(kept.iter().cloned());
            let envelope = Envelope {
                id: ArtifactId(Uuid::now_v7()),
                event_id: id,
                artifact_type: ArtifactType::EventBrief,
                revision: revision + 1,
                schema_version: ArtifactType::EventBrief.schema_version().into(),
                created_at: now,
                created_by: actor.clone(),
                correlation_id: correlation.to_owned(),
                derived_from: brief_ref.into_iter().collect(),
                payload: next.into_payload().to_value(),
            };
            rec.change(
                ChangeType::Revised,
                &format!(
                    "event_brief revision {} by {actor}: {} text(s) read by {}",
                    revision + 1,
                    kept.len(),
                    kept[0].by
                ),
                vec![envelope.as_ref()],
                &actor,
                None,
            );
            artifacts.push(envelope);
        }
        let lines: Vec<String> = calls
            .iter()
            .map(|c| {
                let text = c.messages.get(1).map_or("", |m| m.content.as_str());
                match kept.iter().find(|k| k.text == text) {
                    Some(k) => format!(
                        "\"{text}\": {}",
                        k.understood
                            .iter()
                            .map(Understood::describe)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    None => format!(
                        "\"{text}\": still not understood ({})",
                        c.reason.as_deref().unwrap_or("no answer")
                    ),
                }
            })
            .collect();
        rec.decision(
            DecisionType::AgentStep,
            &format!(
                "read {} brief text(s) the recogniser did not understand with model {}: {} kept",
                calls.len(),
                calls.first().map_or("", |c| c.model.as_str()),
                kept.len()
            ),
            &actor,
            &lines.join("; "),
            vec![],
            Some(set.reference()),
            vec![],
        );
        let trace = AgentTrace {
            step: "interpret".into(),
            agent: AgentKind::EventPlanner,
            level: l.level,
            instruction_set: set.reference(),
            inputs: l
                .bb
                .reference(ArtifactType::EventBrief)
                .into_iter()
                .collect(),
            outputs: artifacts.iter().map(Envelope::as_ref).collect(),
            started_at,
            finished_at: now,
            duration_ms: u64::try_from((now - started_at).num_milliseconds()).unwrap_or(0),
            status: TraceStatus::Succeeded,
            error: None,
            model_calls: calls,
            gathered: None,
        };
        artifacts.push(self.trace_envelope(l, trace, correlation, now));
        Ok(Built::running(
            l,
            Commit {
                event_id: id,
                step_key: interpret_key(revision),
                at: now,
                artifacts,
                decisions: rec.decisions,
                changes: rec.changes,
                ..Commit::default()
            },
        ))
    }
}

async fn ask(model: &ModelClient, usage: &mut Usage, task: &Task) -> eods_model::Answer {
    let span = tracing::info_span!("model", task = TASK);
    tracing::Instrument::instrument(model.ask(usage, task), span).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_is_kept_only_as_checked_structured_constraints() {
        let ok = serde_json::json!([{"session_window": {"start": "19:00:00", "end": "21:00:00"}}]);
        assert_eq!(read_answer(&ok).map(|u| u.len()), Ok(1));
        let backwards =
            serde_json::json!([{"session_window": {"start": "21:00:00", "end": "19:00:00"}}]);
        assert!(
            read_answer(&backwards)
                .unwrap_err()
                .contains("ends before it starts")
        );
        assert!(
            read_answer(&serde_json::json!([]))
                .unwrap_err()
                .contains("nothing")
        );
        assert!(
            read_answer(&serde_json::json!({"x": 1}))
                .unwrap_err()
                .contains("not structured")
        );
    }
}
