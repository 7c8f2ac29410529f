//! Changes to an event's inputs after submission: an amended brief (the API's JSON merge patch,
//! which also completes a brief stuck in `needs_input`), incidents reported for Execute (played by
//! the simulation, or reported and resolved by people on a live event). Each is one keyed commit; the run then recomputes what depends on it.

use crate::records;
use crate::{Engine, EngineError, RunOptions};
use eods_domain::artifact::{ArtifactType, CatalogType, Envelope};
use eods_domain::catalog::audit::{ChangeType, DecisionType};
use eods_domain::catalog::logistics::Injection;
use eods_domain::ids::{ArtifactId, EventId};
use eods_domain::instruction::Level;
use eods_domain::intake::{BriefError, brief_from_value};
use eods_domain::lifecycle::{LifecycleState, RunStatus};
use eods_domain::validate::Violation;
use eods_store::{Commit, StatusWrite};
use serde_json::Value;
use uuid::Uuid;

/// What an amendment did.
#[derive(Debug, Clone, PartialEq)]
pub struct Amended {
    /// Fields still missing (the event stays in `needs_input`).
    pub missing: Vec<String>,
    /// The new event_brief revision, when the brief is complete.
    pub revision: Option<u32>,
    pub run_status: RunStatus,
}

/// RFC 7386 JSON merge patch: objects merge, `null` removes, anything else replaces.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                *target = Value::Object(Default::default());
            }
            if let Value::Object(t) = target {
                for (k, v) in p {
                    if v.is_null() {
                        t.remove(k);
                    } else {
                        merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
                    }
                }
            }
        }
        other => *target = other.clone(),
    }
}

impl Engine {
    /// Applies a merge patch to the event's brief. An invalid result changes nothing; an
    /// incomplete one is stored and names what is still missing; a complete one becomes the
    /// next event_brief revision and the run recomputes everything derived from it.
    pub async fn amend_brief(
        &self,
        id: EventId,
        patch: &Value,
        by: &str,
    ) -> Result<Amended, EngineError> {
        self.retrying(|| self.amend_brief_once(id, patch, by)).await
    }

    /// One attempt of [`Self::amend_brief`] on one snapshot.
    async fn amend_brief_once(
        &self,
        id: EventId,
        patch: &Value,
        by: &str,
    ) -> Result<Amended, EngineError> {
        let l = self.load(id).await?;
        let event = &l.snap.event;
        if event.state >= LifecycleState::Execute {
            return Err(EngineError::InvalidCommand(format!(
                "the event is in {}: its brief is fixed once Execute starts",
                event.state
            )));
        }
        // The patch applies to the current revision; before the first, to the draft.
        let mut merged = match (&l.brief_json, &event.draft) {
            (Some(a), _) => a.clone(),
            (None, Some(d)) => d.clone(),
            (None, None) => Value::Object(Default::default()),
        };
        merge_patch(&mut merged, patch);
        let options: RunOptions = event.options.clone();
        let now = self.clock.now();
        let correlation = self.correlation_id();
        let mut rec = l.records(&correlation, now);
        let (artifacts, missing, level, revision) = match brief_from_value(merged.clone()) {
            Ok(b) => {
                let level = options
                    .level
                    .unwrap_or_else(|| Level::for_audience(b.audience_size));
                let revision = l.bb.revision(ArtifactType::EventBrief).unwrap_or(0) + 1;
                let envelope = Envelope {
                    id: ArtifactId(Uuid::now_v7()),
                    event_id: id,
                    artifact_type: ArtifactType::EventBrief,
                    revision,
                    schema_version: ArtifactType::EventBrief.schema_version().into(),
                    created_at: now,
                    created_by: by.to_owned(),
                    correlation_id: correlation.clone(),
                    derived_from: vec![],
                    payload: b.into_payload().to_value(),
                };
                let (summary, _) = records::diff(l.bb.current(ArtifactType::EventBrief), &envelope);
                let change_type = if revision == 1 {
                    ChangeType::Created
                } else {
                    ChangeType::Revised
                };
                rec.change(
                    change_type,
                    &format!("event_brief revision {revision} by {by}: {summary}"),
                    vec![envelope.as_ref()],
                    by,
                    None,
                );
                (vec![envelope], vec![], level, Some(revision))
            }
            // A brief with a revision stays complete: a patch may change a required field but
            // not remove it (the draft exists only before revision 1).
            Err(BriefError::Incomplete { missing }) if l.brief_json.is_some() => {
                return Err(EngineError::InvalidBrief(BriefError::Invalid {
                    violations: missing
                        .iter()
                        .map(|m| Violation {
                            pointer: format!(
                                "/{}",
                                m.split(' ').next().unwrap_or(m).replace('.', "/")
                            ),
                            message: format!(
                                "required: {m} cannot be removed from a complete brief; give a new value instead of null"
                            ),
                        })
                        .collect(),
                }));
            }
            Err(BriefError::Incomplete { missing }) => (vec![], missing, event.level, None),
            Err(e) => return Err(EngineError::InvalidBrief(e)),
        };
        let run_status = if !missing.is_empty() {
            RunStatus::NeedsInput
        } else {
            match event.run_status {
                RunStatus::Paused | RunStatus::Cancelled | RunStatus::Completed => event.run_status,
                _ => RunStatus::Running,
            }
        };
        rec.decision(
            DecisionType::Revision,
            &format!("brief amended by {by}"),
            by,
            &if missing.is_empty() {
                "the amended brief is complete; everything derived from it is recomputed".to_owned()
            } else {
                format!("still missing: {}", missing.join(", "))
            },
            vec![],
            None,
            vec![],
        );
        let detail =
            (!missing.is_empty()).then(|| format!("missing fields: {}", missing.join(", ")));
        self.commit(&Commit {
            event_id: id,
            step_key: format!("amend:{}", Uuid::now_v7()),
            at: now,
            artifacts,
            decisions: rec.decisions,
            changes: rec.changes,
            // Still incomplete: the patched draft is kept (the store refuses it if a revision
            // was committed meanwhile). Complete: the revision carries the brief and the store
            // rewrites the event's summary from it.
            draft: revision.is_none().then_some(merged),
            level: Some(level),
            status: Some(StatusWrite {
                state: event.state,
                run_status,
                detail,
                wake_at: None,
            }),
            expect_seq: Some(l.snap.seq),
            ..Commit::default()
        })
        .await?;
        Ok(Amended {
            missing,
            revision,
            run_status,
        })
    }

    /// Adds an incident to the event's simulated Execute (before or during it). The Execute step
    /// plays every reported incident; one reported during Execute makes it run again.
    pub async fn report_incident(
        &self,
        id: EventId,
        incident: Injection,
        by: &str,
        comment: &str,
    ) -> Result<Vec<Injection>, EngineError> {
        self.retrying(|| self.report_incident_once(id, incident, by, comment))
            .await
    }

    /// One attempt of [`Self::report_incident`] on one snapshot.
    async fn report_incident_once(
        &self,
        id: EventId,
        incident: Injection,
        by: &str,
        comment: &str,
    ) -> Result<Vec<Injection>, EngineError> {
        let l = self.load(id).await?;
        let event = &l.snap.event;
        if event.state == LifecycleState::Postmortem
            || matches!(
                event.run_status,
                RunStatus::Cancelled | RunStatus::Completed
            )
        {
            return Err(EngineError::InvalidCommand(format!(
                "the event is over ({}, {}): incidents can be reported until Execute ends",
                event.state, event.run_status
            )));
        }
        let mut options: RunOptions = event.options.clone();
        let now = self.clock.now();
        let live = options.mode == eods_domain::run::RunMode::Live;
        let mut incident = incident;
        if live && incident.at_minutes.is_none() {
            // A live incident happened when it was reported.
            incident.reported_at = Some(now);
        }
        options.incidents.push(incident);
        let correlation = self.correlation_id();
        let mut rec = l.records(&correlation, now);
        let when = incident
            .at_minutes
            .map(|m| format!(" at +{m} min"))
            .unwrap_or_default();
        let line = format!("{} reported by {by}{when}", incident.kind.as_str());
        rec.decision(
            DecisionType::Escalation,
            &line,
            by,
            if comment.is_empty() {
                "reported through the API"
            } else {
                comment
            },
            vec![],
            None,
            vec![],
        );
        rec.change(ChangeType::Incident, &line, vec![], by, None);
        // A live incident is news for the owner and the escalation path (webhook and e-mail).
        let number = options.incidents.len();
        let outbox = live
            .then(|| {
                let key = format!("incident:{id}:{number}");
                let mut people = records::owners(&l.bb);
                for s in records::escalation_stakeholders(&l.bb) {
                    if !people.iter().any(|p| p.id == s.id) {
                        people.push(s);
                    }
                }
                let message = format!(
                    "Incident {number} ({}) reported by {by} on {}{}",
                    incident.kind.as_str().replace('_', " "),
                    event.title,
                    if comment.is_empty() {
                        String::new()
                    } else {
                        format!(": {comment}")
                    }
                );
                eods_store::NewOutbox {
                    id: Uuid::now_v7(),
                    kind: eods_store::OutboxKind::Incident,
                    dedupe_key: key,
                    payload: serde_json::json!({
                        "type": "incident",
                        "event_id": id.to_string(),
                        "event_title": event.title,
                        "incident": incident.kind.as_str(),
                        "number": number,
                        "reported_by": by,
                        "message": message,
                        "recipients": records::recipients(people),
                    }),
                }
            })
            .into_iter()
            .collect();
        let status = execute_again(event);
        self.commit(&Commit {
            event_id: id,
            step_key: format!("incident:{}", Uuid::now_v7()),
            at: now,
            decisions: rec.decisions,
            changes: rec.changes,
            options: Some(options.clone()),
            status,
            outbox,
            expect_seq: Some(l.snap.seq),
            ..Commit::default()
        })
        .await?;
        Ok(options.incidents)
    }

    /// Records how a person resolved incident `number` (from 1, in the order reported) of a live
    /// event: the incident log shows it resolved at that time with the note, and the postmortem
    /// measures the real resolution time. Once per incident.
    pub async fn resolve_incident(
        &self,
        id: EventId,
        number: u32,
        note: &str,
        by: &str,
    ) -> Result<eods_domain::catalog::logistics::Resolution, EngineError> {
        self.retrying(|| self.resolve_incident_once(id, number, note, by))
            .await
    }

    /// One attempt of [`Self::resolve_incident`] on one snapshot.
    async fn resolve_incident_once(
        &self,
        id: EventId,
        number: u32,
        note: &str,
        by: &str,
    ) -> Result<eods_domain::catalog::logistics::Resolution, EngineError> {
        let l = self.load(id).await?;
        let event = &l.snap.event;
        let mut options: RunOptions = event.options.clone();
        let invalid = |m: String| Err(EngineError::InvalidCommand(m));
        if options.mode != eods_domain::run::RunMode::Live {
            return invalid(
                "a simulated run resolves its incidents by its contingency plan; resolutions are recorded on live events".into(),
            );
        }
        if event.state == LifecycleState::Postmortem
            || matches!(
                event.run_status,
                RunStatus::Cancelled | RunStatus::Completed
            )
        {
            return invalid(format!(
                "the event is over ({}, {}): incidents are resolved until Execute ends",
                event.state, event.run_status
            ));
        }
        let count = options.incidents.len();
        let Some(incident) = usize::try_from(number)
            .ok()
            .filter(|n| (1..=count).contains(n))
            .map(|n| options.incidents[n - 1])
        else {
            return invalid(format!(
                "there is no incident {number}: {count} reported (numbers start at 1)"
            ));
        };
        if let Some(r) = options.resolutions.iter().find(|r| r.incident == number) {
            return invalid(format!(
                "incident {number} was resolved by {} at {}",
                r.by,
                r.at.to_rfc3339()
            ));
        }
        let note = note.trim();
        if note.is_empty() {
            return invalid("say how the incident was resolved (note)".into());
        }
        let now = self.clock.now();
        let resolution = eods_domain::catalog::logistics::Resolution {
            incident: number,
            at: now,
            by: by.to_owned(),
            note: note.to_owned(),
        };
        options.resolutions.push(resolution.clone());
        let correlation = self.correlation_id();
        let mut rec = l.records(&correlation, now);
        let line = format!(
            "incident {number} ({}) resolved by {by}",
            incident.kind.as_str()
        );
        rec.decision(
            DecisionType::Escalation,
            &line,
            by,
            note,
            vec![],
            None,
            vec![],
        );
        rec.change(ChangeType::Incident, &line, vec![], by, None);
        let status = execute_again(event);
        self.commit(&Commit {
            event_id: id,
            step_key: format!("resolve:{id}:{number}"),
            at: now,
            decisions: rec.decisions,
            changes: rec.changes,
            options: Some(options),
            status,
            expect_seq: Some(l.snap.seq),
            ..Commit::default()
        })
        .await?;
        Ok(resolution)
    }
}

/// During Execute (not paused), an incident change makes the run write the runbook and the
/// incident log again now: the status is `running` with no timer.
fn execute_again(event: &eods_store::EventRow) -> Option<StatusWrite> {
    (event.state == LifecycleState::Execute && !matches!(event.run_status, RunStatus::Paused))
        .then_some(StatusWrite {
            state: event.state,
            run_status: RunStatus::Running,
            detail: None,
            wake_at: None,
        })
}

#[cfg(test)]
mod tests {
    use super::merge_patch;
    use serde_json::json;

    #[test]
    fn merge_patch_follows_rfc_7386() {
        let check =
            |target: serde_json::Value, patch: serde_json::Value, expect: serde_json::Value| {
                let mut t = target;
                merge_patch(&mut t, &patch);
                assert_eq!(t, expect);
            };
        check(json!({"a": "b"}), json!({"a": "c"}), json!({"a": "c"}));
        check(
            json!({"a": "b"}),
            json!({"b": "c"}),
            json!({"a": "b", "b": "c"}),
        );
        check(json!({"a": "b"}), json!({"a": null}), json!({}));
        check(
            json!({"a": {"b": "c"}}),
            json!({"a": {"b": "d", "c": null}}),
            json!({"a": {"b": "d"}}),
        );
        check(
            json!({"a": [1]}),
            json!({"a": [2, 3]}),
            json!({"a": [2, 3]}),
        );
        check(json!(["a"]), json!({"a": "b"}), json!({"a": "b"}));
        check(json!({"a": "b"}), json!(["c"]), json!(["c"]));
    }
}
