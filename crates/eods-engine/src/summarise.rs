//! The summary an approver reads, written by the language model when one is configured
//! (issue 16). When a run reaches pending approval requests, each venue or budget request that
//! has no summary yet is put to the model with the gate's artifacts; the answer must be one short
//! text (by JSON Schema) in which every number is one the artifacts hold
//! ([`eods_domain::grounding::ungrounded_numbers`]). What passes is stored with the request
//! (`approvals.summary`, `summary_by`) and shown instead of the engine's own summary; what fails
//! leaves the engine's summary in place. Every call is recorded in an AgentTrace `summarise` of
//! the gate's owning agent, in a commit keyed by the request, so a request is put to the model
//! once, and a replay answers it from the record.
//!
//! Vendor contracts are not put to the model: their summary reaches readers who may not see
//! contract amounts, so it names vendors and services only, as the engine writes it.

use crate::{Built, Engine, EngineError, Loaded, PendingApproval};
use chrono::{DateTime, Utc};
use eods_domain::artifact::ArtifactType;
use eods_domain::catalog::audit::{AgentTrace, DecisionType, TraceStatus};
use eods_domain::grounding::ungrounded_numbers;
use eods_domain::instruction::AgentKind;
use eods_domain::lifecycle::ApprovalGate;
use eods_domain::model::{ModelCall, ModelOutcome};
use eods_model::Task;
use eods_store::{ApprovalSummary, Commit};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

/// The task's name (and its schema's).
pub(crate) const TASK: &str = "summarise_for_approval";

/// What the model must answer.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct Summary {
    /// Two to four plain sentences (at most [`MAX_SUMMARY`] characters, checked after: a
    /// `maxLength` becomes a grammar in llama.cpp nested as deep as the limit).
    #[schemars(length(min = 1))]
    summary: String,
}

/// The longest summary kept.
const MAX_SUMMARY: usize = 800;

/// The artifacts a gate's summary speaks of, and the agent that owns the gate.
pub fn sources(gate: ApprovalGate) -> (&'static [ArtifactType], AgentKind) {
    match gate {
        ApprovalGate::VenueSelection => (
            &[ArtifactType::VenueScorecard, ArtifactType::VenueShortlist],
            AgentKind::VenueResearcher,
        ),
        ApprovalGate::BudgetDecision => (
            &[
                ArtifactType::BudgetDecision,
                ArtifactType::CostModel,
                ArtifactType::EventBrief,
            ],
            AgentKind::BudgetAnalyst,
        ),
        ApprovalGate::VendorContracts => (
            &[ArtifactType::VendorContracts],
            AgentKind::LogisticsCoordinator,
        ),
    }
}

/// What of an artifact goes to the model: all of it, except the brief, of which only what a
/// budget summary speaks of (never the stakeholders and their contacts, nor the free texts).
fn shared(t: ArtifactType, payload: Value) -> Value {
    if t != ArtifactType::EventBrief {
        return payload;
    }
    let keep = [
        "title",
        "event_type",
        "date_range",
        "timezone",
        "audience_size",
        "budget",
    ];
    let mut out: serde_json::Map<String, Value> = payload
        .as_object()
        .map(|o| {
            o.iter()
                .filter(|(k, _)| keep.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    if let Some(city) = payload.pointer("/location/city") {
        out.insert("city".into(), city.clone());
    }
    Value::Object(out)
}

/// The key of the commit that records the summary of request `p`.
fn summary_key(p: &PendingApproval) -> String {
    format!("summarise:{}", p.id)
}

impl Engine {
    /// The requests of `requests` to put to the model: with a model configured, venue and
    /// budget requests with no summary that were not put to it before.
    pub(crate) fn summaries_due(
        &self,
        l: &Loaded,
        requests: &[PendingApproval],
    ) -> Vec<PendingApproval> {
        if self.model.is_none() {
            return vec![];
        }
        requests
            .iter()
            .filter(|p| p.gate != ApprovalGate::VendorContracts && p.summary_by.is_none())
            .filter(|p| !l.snap.steps.iter().any(|k| *k == summary_key(p)))
            .cloned()
            .collect()
    }

    /// Asks the model to summarise `p` from its gate's artifacts: the call's record (an answer
    /// stating a figure the artifacts do not hold marked invalid, with the figures) and the text
    /// to keep.
    pub(crate) async fn summarise(
        &self,
        model: &eods_model::ModelClient,
        l: &Loaded,
        p: &PendingApproval,
    ) -> Result<(ModelCall, Option<String>), EngineError> {
        let (types, agent) = sources(p.gate);
        let set = self
            .tools
            .instructions
            .get(agent, l.level)
            .map_err(eods_agents::AgentError::from)?;
        let prompt = set.prompt(TASK).map_err(eods_agents::AgentError::from)?;
        let payloads: Vec<(ArtifactType, Value)> = types
            .iter()
            .filter_map(|t| {
                l.bb.current(*t)
                    .map(|e| (*t, shared(*t, e.payload.to_value())))
            })
            .collect();
        let facts = json!({
            "gate": p.gate.as_str(),
            "revision": p.artifact_revision,
            "artifacts": payloads.iter().map(|(t, v)| (t.as_str().to_owned(), v.clone())).collect::<serde_json::Map<String, Value>>(),
        });
        let task = Task {
            name: TASK.into(),
            system: prompt.system.clone(),
            user: prompt.user_for(&facts.to_string()),
            schema: schemars::schema_for!(Summary).to_value(),
        };
        let traces = self
            .store
            .revisions(l.snap.event.id, ArtifactType::AgentTrace)
            .await?;
        let mut usage = crate::interpret::spent(&traces);
        let span = tracing::info_span!("model", task = TASK);
        let answer = tracing::Instrument::instrument(model.ask(&mut usage, &task), span).await;
        let mut call = answer.call;
        let Some(v) = answer.value else {
            return Ok((call, None));
        };
        let text = match serde_json::from_value::<Summary>(v) {
            Ok(s) => s.summary.trim().to_owned(),
            Err(e) => {
                call.outcome = ModelOutcome::Invalid;
                call.reason = Some(format!("the answer is not a summary: {e}"));
                return Ok((call, None));
            }
        };
        if text.chars().count() > MAX_SUMMARY {
            call.outcome = ModelOutcome::Invalid;
            call.reason = Some(format!("the summary is over {MAX_SUMMARY} characters"));
            return Ok((call, None));
        }
        let sources: Vec<&Value> = payloads.iter().map(|(_, v)| v).collect();
        let stray = ungrounded_numbers(&text, &sources);
        if !stray.is_empty() {
            call.outcome = ModelOutcome::Invalid;
            call.reason = Some(format!(
                "the summary states figures the artifacts do not hold: {}",
                stray.join(", ")
            ));
            return Ok((call, None));
        }
        Ok((call, Some(text)))
    }

    /// The commit recording the model's summary of `p`: the gate owner's trace with the call, a
    /// decision saying whether the summary is used, and the summary itself when it is.
    pub(crate) fn build_summary(
        &self,
        l: &Loaded,
        p: &PendingApproval,
        call: ModelCall,
        kept: Option<String>,
        correlation: &str,
        started_at: DateTime<Utc>,
    ) -> Result<Built, EngineError> {
        let now = self.clock.now();
        let (_, agent) = sources(p.gate);
        let set = self
            .tools
            .instructions
            .get(agent, l.level)
            .map_err(eods_agents::AgentError::from)?;
        let actor = format!("agent:{agent}");
        let by = format!("model:{}", call.model);
        let mut rec = l.records(correlation, now);
        rec.decision(
            DecisionType::AgentStep,
            &format!(
                "summary of the {} request (revision {}) for the approver by {by}: {}",
                p.gate,
                p.artifact_revision,
                if kept.is_some() { "used" } else { "not used" }
            ),
            &actor,
            &match &kept {
                Some(t) => format!("every figure it states is in the artifacts: \"{t}\""),
                None => format!(
                    "the engine's own summary is shown ({})",
                    call.reason.as_deref().unwrap_or("no answer")
                ),
            },
            vec![],
            Some(set.reference()),
            vec![],
        );
        let trace = AgentTrace {
            step: "summarise".into(),
            agent,
            level: l.level,
            instruction_set: set.reference(),
            // The request it summarises is named by the commit's key; derived from the gate's
            // artifacts, the trace would turn stale when the decision stamps them.
            inputs: vec![],
            outputs: vec![],
            started_at,
            finished_at: now,
            duration_ms: u64::try_from((now - started_at).num_milliseconds()).unwrap_or(0),
            status: TraceStatus::Succeeded,
            error: None,
            model_calls: vec![call],
            gathered: None,
        };
        let artifacts = vec![self.trace_envelope(l, trace, correlation, now)];
        Ok(Built::running(
            l,
            Commit {
                event_id: l.snap.event.id,
                step_key: summary_key(p),
                at: now,
                artifacts,
                decisions: rec.decisions,
                changes: rec.changes,
                approval_summaries: kept
                    .map(|text| ApprovalSummary { id: p.id, text, by })
                    .into_iter()
                    .collect(),
                ..Commit::default()
            },
        ))
    }
}
