//! What the organiser supplies for one event (the `organiser_data` artifact): their venue list,
//! their rate cards and the quotes they received. Each supply is one keyed commit of the next
//! revision, written by the person who gave it, with a ChangeLog entry; a run waiting for these
//! facts (`needs_input`) or blocked by their absence is queued again so the worker picks the
//! event up. It never parses files (the callers do, with `eods-sources`) and never decides
//! what the planners make of the data.

use crate::loaded::Loaded;
use crate::{Engine, EngineError};
use eods_domain::artifact::{ArtifactType, Envelope, Payload};
use eods_domain::catalog::audit::{ChangeType, DecisionType};
use eods_domain::catalog::sources::{OrganiserData, RateCardRow, VenueQuote, VenueRecord, fold};
use eods_domain::ids::{ArtifactId, EventId};
use eods_domain::lifecycle::{LifecycleState, RunStatus};
use eods_domain::schema::validate_document;
use eods_domain::validate::Violation;
use eods_store::{Commit, CommitOutcome, StatusWrite, StoreError};
use uuid::Uuid;

/// A change to what the organiser supplied for one event.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Supply {
    /// Replaces the event's venue list (`None` keeps it).
    pub venues: Option<Vec<VenueRecord>>,
    /// Replaces the event's rate cards (`None` keeps them).
    pub rate_cards: Option<Vec<RateCardRow>>,
    /// Quotes to add; a quote for a venue that already has one replaces it (venues are matched
    /// by their name or id, folded: `Savoy Theatre` = `savoy-theatre`).
    pub add_quotes: Vec<VenueQuote>,
}

impl Supply {
    /// Whether the change changes nothing.
    pub fn is_empty(&self) -> bool {
        self.venues.is_none() && self.rate_cards.is_none() && self.add_quotes.is_empty()
    }

    /// The organiser data after this change is applied to `current`.
    pub fn apply(&self, current: &OrganiserData) -> OrganiserData {
        let mut next = current.clone();
        if let Some(v) = &self.venues {
            next.venues = v.clone();
        }
        if let Some(r) = &self.rate_cards {
            next.rate_cards = r.clone();
        }
        for q in &self.add_quotes {
            let key = fold(&q.venue);
            next.quotes.retain(|old| fold(&old.venue) != key);
            next.quotes.push(q.clone());
        }
        next
    }
}

/// What a supply did.
#[derive(Debug, Clone, PartialEq)]
pub struct SupplyOutcome {
    /// The new `organiser_data` revision.
    pub envelope: Envelope,
    /// The organiser data as stored now.
    pub data: OrganiserData,
    /// The one-line change written to the ChangeLog.
    pub change: String,
    /// The run status after the supply.
    pub run_status: RunStatus,
    /// Whether the run was queued again (it was waiting for input or blocked).
    pub requeued: bool,
}

/// Why a supply was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SupplyError {
    #[error(
        "the event is in {0}: venues, rate cards and quotes are fixed once Execute starts; report an incident instead"
    )]
    Executing(LifecycleState),
    #[error("nothing to supply: give venues, rate cards or at least one quote")]
    Empty,
    #[error("the organiser data is not valid")]
    Invalid {
        /// Pointers into the organiser data (`/venues/3/id`, `/quotes/0/currency`).
        violations: Vec<Violation>,
    },
}

impl Engine {
    /// Stores `change` as the next revision of the event's `organiser_data` (revision 1 when
    /// it has none), written by `by`. Refused from Execute on. A run that is `needs_input`
    /// (with a brief) or `blocked` is set to `running` so a worker picks it up.
    pub async fn supply(
        &self,
        id: EventId,
        change: Supply,
        by: &str,
        comment: &str,
    ) -> Result<SupplyOutcome, EngineError> {
        if change.is_empty() {
            return Err(SupplyError::Empty.into());
        }
        self.retrying(|| self.supply_once(id, &change, by, comment))
            .await
    }

    /// One attempt of [`Self::supply`] on one snapshot.
    async fn supply_once(
        &self,
        id: EventId,
        change: &Supply,
        by: &str,
        comment: &str,
    ) -> Result<SupplyOutcome, EngineError> {
        let l = self.load(id).await?;
        let correlation = self.correlation_id();
        let (commit, outcome) =
            self.build_supply(&l, change, by, comment, &correlation, self.clock.now())?;
        if self.commit(&commit).await? == CommitOutcome::AlreadyApplied {
            // Another supply wrote this revision first: read again and apply on top of it.
            return Err(EngineError::Store(StoreError::Stale {
                event: id.to_string(),
            }));
        }
        Ok(outcome)
    }

    /// The commit of a supply on `l` (see [`Self::supply`]).
    pub(crate) fn build_supply(
        &self,
        l: &Loaded,
        change: &Supply,
        by: &str,
        comment: &str,
        correlation: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(Commit, SupplyOutcome), EngineError> {
        let id = l.snap.event.id;
        let event = &l.snap.event;
        if event.state >= LifecycleState::Execute {
            return Err(SupplyError::Executing(event.state).into());
        }
        let t = ArtifactType::OrganiserData;
        let current = l.bb.current(t);
        let before = l.bb.get::<OrganiserData>().cloned().unwrap_or_default();
        let data = change.apply(&before);
        let revision = current.map_or(1, |c| c.revision + 1);
        let envelope = Envelope {
            id: ArtifactId(Uuid::now_v7()),
            event_id: id,
            artifact_type: t,
            revision,
            schema_version: t.schema_version().into(),
            created_at: now,
            created_by: by.to_owned(),
            correlation_id: correlation.to_owned(),
            derived_from: vec![],
            payload: Payload::OrganiserData(data.clone()).to_value(),
        };
        let doc = serde_json::to_value(&envelope).map_err(|e| EngineError::Corrupt {
            what: "organiser_data".into(),
            detail: e.to_string(),
        })?;
        if let Err(vs) = validate_document(&doc) {
            return Err(SupplyError::Invalid {
                violations: vs
                    .into_iter()
                    .filter_map(|v| {
                        v.pointer.strip_prefix("/payload").map(|p| Violation {
                            pointer: p.to_owned(),
                            message: v.message.clone(),
                        })
                    })
                    .collect(),
            }
            .into());
        }
        let summary = describe(&before, change, &data);
        let line = if comment.is_empty() {
            format!("{t} revision {revision} by {by}: {summary}")
        } else {
            format!("{t} revision {revision} by {by}: {summary} ({comment})")
        };
        let mut rec = l.records(correlation, now);
        rec.change(
            if current.is_none() {
                ChangeType::Created
            } else {
                ChangeType::Revised
            },
            &line,
            vec![envelope.as_ref()],
            by,
            None,
        );
        // A run waiting for these facts, or blocked without them, goes back to the queue. A run
        // waiting for the brief itself keeps waiting: organiser data does not complete a brief.
        let has_brief = l.bb.current(ArtifactType::EventBrief).is_some();
        let requeued = match event.run_status {
            RunStatus::NeedsInput => has_brief,
            RunStatus::Blocked => true,
            RunStatus::Idle
            | RunStatus::Running
            | RunStatus::AwaitingApproval
            | RunStatus::Paused
            | RunStatus::Failed
            | RunStatus::Cancelled
            | RunStatus::Completed => false,
        };
        let status = if requeued {
            rec.decision(
                DecisionType::StateTransition,
                &format!("run queued again by {by}: {} → running", event.run_status),
                by,
                &format!("{t} revision {revision} supplied in {}", event.state),
                vec![],
                None,
                vec![],
            );
            StatusWrite {
                state: event.state,
                run_status: RunStatus::Running,
                detail: None,
                wake_at: None,
            }
        } else {
            StatusWrite {
                state: event.state,
                run_status: event.run_status,
                detail: event.status_detail.clone(),
                wake_at: None,
            }
        };
        let run_status = status.run_status;
        let commit = Commit {
            event_id: id,
            step_key: format!("supply:{t}@{revision}"),
            at: now,
            artifacts: vec![envelope.clone()],
            decisions: rec.decisions,
            changes: rec.changes,
            status: Some(status),
            expect_seq: Some(l.snap.seq),
            ..Commit::default()
        };
        Ok((
            commit,
            SupplyOutcome {
                envelope,
                data,
                change: summary,
                run_status,
                requeued,
            },
        ))
    }
}

/// One line on what changed: `venues 0 → 6; quotes +1 (Savoy Theatre)`.
fn describe(before: &OrganiserData, change: &Supply, after: &OrganiserData) -> String {
    let mut parts = Vec::new();
    if change.venues.is_some() {
        parts.push(format!(
            "venues {} → {}",
            before.venues.len(),
            after.venues.len()
        ));
    }
    if change.rate_cards.is_some() {
        parts.push(format!(
            "rate-card rows {} → {}",
            before.rate_cards.len(),
            after.rate_cards.len()
        ));
    }
    if !change.add_quotes.is_empty() {
        let names: Vec<&str> = change.add_quotes.iter().map(|q| q.venue.as_str()).collect();
        parts.push(format!(
            "quotes +{} ({})",
            change.add_quotes.len(),
            names.join(", ")
        ));
    }
    parts.join("; ")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn quote(venue: &str, capacity: u32) -> VenueQuote {
        VenueQuote {
            rooms: vec![],
            venue: venue.into(),
            capacity: Some(capacity),
            day_rate: None,
            currency: None,
            valid_until: None,
            notes: String::new(),
            entered_by: "user:alice".into(),
        }
    }

    #[test]
    fn a_new_quote_for_the_same_venue_replaces_the_older_one() {
        let before = OrganiserData {
            quotes: vec![quote("Savoy Theatre", 100), quote("Kulttuuritalo", 300)],
            ..OrganiserData::default()
        };
        let change = Supply {
            add_quotes: vec![quote("savoy theatre", 120)],
            ..Supply::default()
        };
        let after = change.apply(&before);
        let got: Vec<(&str, Option<u32>)> = after
            .quotes
            .iter()
            .map(|q| (q.venue.as_str(), q.capacity))
            .collect();
        assert_eq!(
            got,
            vec![("Kulttuuritalo", Some(300)), ("savoy theatre", Some(120))]
        );
        assert_eq!(
            describe(&before, &change, &after),
            "quotes +1 (savoy theatre)"
        );
    }

    #[test]
    fn lists_are_replaced_only_when_given() {
        let before = OrganiserData {
            quotes: vec![quote("A", 1)],
            ..OrganiserData::default()
        };
        let change = Supply {
            venues: Some(vec![]),
            ..Supply::default()
        };
        let after = change.apply(&before);
        assert_eq!(after.quotes.len(), 1);
        assert!(!change.is_empty());
        assert!(Supply::default().is_empty());
        assert_eq!(describe(&before, &change, &after), "venues 0 → 0");
    }
}
