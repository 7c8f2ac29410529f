//! Drafts of the words people send (issue 16): a request for quote to each venue the plan holds
//! without its facts (and a reminder once a sent request's answer is overdue), an announcement
//! to each speaker and one to the attendees. They are the
//! `message_drafts` artifact: written on request from what the plan holds (every figure in them
//! is the plan's), in the brief's language where a template exists, edited by people like any
//! artifact, and approved one by one. Only approval puts a draft in the outbox, and only when it
//! names an e-mail address; nothing unapproved is ever sent. For a language no template is
//! written in, a configured language model writes the words, checked against the template's
//! (its figures, the recipient, the event) and recorded in the Event Planner's trace.

use crate::loaded::Loaded;
use crate::{Engine, EngineError};
use chrono::{DateTime, NaiveDate, Utc};
use eods_domain::artifact::{ArtifactType, Envelope, Payload};
use eods_domain::catalog::audit::{AgentTrace, TraceStatus};
use eods_domain::catalog::audit::{ChangeType, DecisionType};
use eods_domain::catalog::brief::{EventBrief, EventType};
use eods_domain::catalog::logistics::Schedule;
use eods_domain::catalog::messages::{
    DraftKind, DraftStatus, MessageDraft, MessageDrafts, primary_language,
};
use eods_domain::catalog::planning::StakeholderMap;
use eods_domain::catalog::venue::{VenueLead, VenueLeads, VenueScorecard, VenueShortlist};
use eods_domain::grounding::ungrounded_numbers;
use eods_domain::ids::{ArtifactId, EventId};
use eods_domain::instruction::AgentKind;
use eods_domain::lifecycle::{ApprovalGate, ApprovalStatus, GateInput, approval_for_current};
use eods_domain::model::{ModelCall, ModelOutcome};
use eods_domain::schema::validate_document;
use eods_domain::validate::Violation;
use eods_model::Task;
use eods_store::{Commit, CommitOutcome, NewOutbox, OutboxKind, StoreError};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

/// Why drafts could not be written or approved.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DraftError {
    #[error(
        "nothing to write yet: drafts are written for venue leads that need a quote (after Research) and for the program's speakers and the attendees (once the brief names a program or a schedule exists)"
    )]
    NothingToDraft,
    #[error(
        "the event has no message drafts yet: write them first (POST /api/v1/events/{{id}}/drafts)"
    )]
    NoDrafts,
    #[error("no draft `{id}`: the drafts are {known}")]
    Unknown { id: String, known: String },
    #[error("draft `{0}` is approved already")]
    AlreadyApproved(String),
    #[error("draft `{0}` was last written by you: another approver approves it")]
    OwnWords(String),
    #[error(
        "revision {expected} of message_drafts is not the current one (current: {current}): read the drafts again and approve what you read"
    )]
    Stale { expected: u32, current: u32 },
    #[error("the drafts are not valid")]
    Invalid { violations: Vec<Violation> },
}

/// What writing the drafts did.
#[derive(Debug, Clone, PartialEq)]
pub struct DraftsWritten {
    /// The drafts as stored now.
    pub drafts: MessageDrafts,
    /// The revision stored now (`None` when the event still has no drafts).
    pub revision: u32,
    /// Whether a new revision was written (nothing changed otherwise).
    pub changed: bool,
}

/// What approving a draft did.
#[derive(Debug, Clone, PartialEq)]
pub struct DraftApproved {
    pub draft: MessageDraft,
    pub revision: u32,
    /// Queued for e-mail to its address; `false`: it has none and is sent by hand.
    pub queued: bool,
}

impl Engine {
    /// Writes the event's drafts from what its plan holds now, as asked by `by`. Drafts people
    /// edited or approved are kept as they are, and so are drafts whose template text has not
    /// changed. With a language model configured and no template in the brief's language, the
    /// model writes the new drafts in it (see [`Engine::model_drafts`]).
    pub async fn write_drafts(&self, id: EventId, by: &str) -> Result<DraftsWritten, EngineError> {
        self.retrying(|| async {
            let l = self.load(id).await?;
            let correlation = self.correlation_id();
            let started = self.clock.now();
            let fresh = from_plan(&l, started, &self.unpriced(&l));
            if fresh.is_empty() {
                return Err(DraftError::NothingToDraft.into());
            }
            let mut next = merged(l.bb.get::<MessageDrafts>(), fresh);
            let calls = match self.model.clone() {
                Some(model) => self.model_drafts(&model, &l, &mut next).await?,
                None => vec![],
            };
            let (commit, out) = self.build_drafts(&l, next, calls, by, &correlation, started)?;
            if let Some(commit) = commit
                && self.commit(&commit).await? == CommitOutcome::AlreadyApplied
            {
                return Err(EngineError::Store(StoreError::Stale {
                    event: id.to_string(),
                }));
            }
            Ok(out)
        })
        .await
    }

    /// What the Budget Analyst cannot price from the event's rate cards (none with the demo
    /// rate cards): the suppliers' requests for prices ask for it.
    fn unpriced(&self, l: &Loaded) -> Vec<eods_agents::pricing::Need> {
        let Some(b) = l.bb.get::<EventBrief>() else {
            return vec![];
        };
        let data = eods_agents::sources::EventData::with_rates(l.rates(&self.tools), None);
        eods_agents::budget::unpriced_needs(&self.tools, &data, b)
    }

    /// Puts each new template draft of `next` to the model when no template is written in the
    /// brief's language: the answer must be a subject and a body (by JSON Schema) that state no
    /// figure the template does not, and name the recipient (requests for quote, speakers) and
    /// the event. What passes replaces the template's words; what fails keeps them, with the
    /// note. Every call is returned for the trace.
    pub(crate) async fn model_drafts(
        &self,
        model: &eods_model::ModelClient,
        l: &Loaded,
        next: &mut MessageDrafts,
    ) -> Result<Vec<ModelCall>, EngineError> {
        let Some(brief) = l.bb.get::<EventBrief>() else {
            return Ok(vec![]);
        };
        let Some(tag) = brief
            .language
            .clone()
            .filter(|_| Words::for_brief(brief).fallback)
        else {
            return Ok(vec![]);
        };
        let current = l.bb.get::<MessageDrafts>();
        let due: Vec<usize> = next
            .drafts
            .iter()
            .enumerate()
            .filter(|(_, d)| d.written_by == "template")
            .filter(|(_, d)| current.and_then(|c| c.get(&d.id)) != Some(*d))
            .map(|(i, _)| i)
            .collect();
        if due.is_empty() {
            return Ok(vec![]);
        }
        let set = self
            .tools
            .instructions
            .get(AgentKind::EventPlanner, l.level)
            .map_err(eods_agents::AgentError::from)?;
        let prompt = set.prompt(TASK).map_err(eods_agents::AgentError::from)?;
        let traces = self
            .store
            .revisions(l.snap.event.id, ArtifactType::AgentTrace)
            .await?;
        let mut usage = crate::interpret::spent(&traces);
        let mut calls = Vec::new();
        for i in due {
            let d = &mut next.drafts[i];
            let facts = json!({
                "language": tag,
                "kind": d.kind.as_str(),
                "subject": d.subject,
                "body": d.body,
            });
            let task = Task {
                name: TASK.into(),
                system: prompt.system.clone(),
                user: prompt.user_for(&facts.to_string()),
                schema: schemars::schema_for!(Rewritten).to_value(),
            };
            let span = tracing::info_span!("model", task = TASK);
            let answer = tracing::Instrument::instrument(model.ask(&mut usage, &task), span).await;
            let mut call = answer.call;
            if let Some(v) = answer.value {
                match serde_json::from_value::<Rewritten>(v)
                    .map_err(|e| format!("the answer is not a message: {e}"))
                    .and_then(|r| checked_words(d, &brief.title, &tag, r))
                {
                    Ok(r) => {
                        d.subject = r.subject;
                        d.body = r.body;
                        d.language = tag.clone();
                        d.written_by = format!("model:{}", call.model);
                        d.note = None;
                    }
                    Err(reason) => {
                        call.outcome = ModelOutcome::Invalid;
                        call.reason = Some(reason);
                    }
                }
            }
            calls.push(call);
        }
        Ok(calls)
    }

    /// The commit of [`Self::write_drafts`] on `l` (none when nothing changed): the drafts'
    /// next revision and, when a model was asked, the Event Planner's trace with its calls.
    pub(crate) fn build_drafts(
        &self,
        l: &Loaded,
        next: MessageDrafts,
        calls: Vec<ModelCall>,
        by: &str,
        correlation: &str,
        started: DateTime<Utc>,
    ) -> Result<(Option<Commit>, DraftsWritten), EngineError> {
        let now = self.clock.now();
        let t = ArtifactType::MessageDrafts;
        let current = l.bb.get::<MessageDrafts>();
        let revision = l.bb.revision(t).unwrap_or(0);
        if current == Some(&next) && calls.is_empty() {
            return Ok((
                None,
                DraftsWritten {
                    drafts: next,
                    revision,
                    changed: false,
                },
            ));
        }
        let changed = current != Some(&next);
        let mut artifacts = Vec::new();
        let mut rec = l.records(correlation, now);
        if changed {
            let envelope = envelope(l, next.clone(), revision + 1, by, correlation, now)?;
            rec.change(
                if revision == 0 {
                    ChangeType::Created
                } else {
                    ChangeType::Revised
                },
                &format!(
                    "{t} revision {} written for {by}: {}",
                    revision + 1,
                    next.drafts
                        .iter()
                        .map(|d| format!("{} to {} ({})", d.kind.as_str(), d.to, d.written_by))
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
                vec![envelope.as_ref()],
                by,
                None,
            );
            artifacts.push(envelope);
        }
        if !calls.is_empty() {
            let set = self
                .tools
                .instructions
                .get(AgentKind::EventPlanner, l.level)
                .map_err(eods_agents::AgentError::from)?;
            let used = calls
                .iter()
                .filter(|c| c.outcome == ModelOutcome::Used)
                .count();
            let reasons: Vec<String> = calls.iter().filter_map(|c| c.reason.clone()).collect();
            rec.decision(
                DecisionType::AgentStep,
                &format!(
                    "message drafts by model:{}: {used} of {} written by it",
                    calls[0].model,
                    calls.len()
                ),
                "agent:event_planner",
                &if reasons.is_empty() {
                    "every answer kept the template's figures, the recipient and the event"
                        .to_owned()
                } else {
                    format!(
                        "the others keep the English template: {}",
                        reasons.join("; ")
                    )
                },
                vec![],
                Some(set.reference()),
                vec![],
            );
            let trace = AgentTrace {
                step: "draft_messages".into(),
                agent: AgentKind::EventPlanner,
                level: l.level,
                instruction_set: set.reference(),
                // Words, not plan: derived from nothing the gates check.
                inputs: vec![],
                outputs: artifacts.iter().map(Envelope::as_ref).collect(),
                started_at: started,
                finished_at: now,
                duration_ms: u64::try_from((now - started).num_milliseconds()).unwrap_or(0),
                status: TraceStatus::Succeeded,
                error: None,
                model_calls: calls,
                gathered: None,
            };
            artifacts.push(self.trace_envelope(l, trace, correlation, now));
        }
        let commit = Commit {
            event_id: l.snap.event.id,
            step_key: format!(
                "drafts:{t}@{}",
                if changed { revision + 1 } else { revision }
            ),
            at: now,
            artifacts,
            decisions: rec.decisions,
            changes: rec.changes,
            expect_seq: Some(l.snap.seq),
            ..Commit::default()
        };
        Ok((
            Some(commit),
            DraftsWritten {
                drafts: next,
                revision: if changed { revision + 1 } else { revision },
                changed,
            },
        ))
    }

    /// Approves draft `draft` of revision `revision` (the one `by` read) for sending: a new
    /// revision marks it approved, the DecisionLog records who approved what, and a draft with an
    /// e-mail address goes to the outbox.
    pub async fn approve_draft(
        &self,
        id: EventId,
        draft: &str,
        revision: u32,
        by: &str,
    ) -> Result<DraftApproved, EngineError> {
        self.retrying(|| async {
            let l = self.load(id).await?;
            let correlation = self.correlation_id();
            let (commit, out) =
                self.build_draft_approval(&l, draft, revision, by, &correlation, self.clock.now())?;
            if self.commit(&commit).await? == CommitOutcome::AlreadyApplied {
                return Err(DraftError::Stale {
                    expected: revision,
                    current: revision + 1,
                }
                .into());
            }
            Ok(out)
        })
        .await
    }

    /// The commit of [`Self::approve_draft`] on `l`.
    pub(crate) fn build_draft_approval(
        &self,
        l: &Loaded,
        draft: &str,
        revision: u32,
        by: &str,
        correlation: &str,
        now: DateTime<Utc>,
    ) -> Result<(Commit, DraftApproved), EngineError> {
        let t = ArtifactType::MessageDrafts;
        let current = l.bb.get::<MessageDrafts>().ok_or(DraftError::NoDrafts)?;
        let stored = l.bb.revision(t).unwrap_or(0);
        if stored != revision {
            return Err(DraftError::Stale {
                expected: revision,
                current: stored,
            }
            .into());
        }
        let mut next = current.clone();
        let d = next
            .drafts
            .iter_mut()
            .find(|d| d.id == draft)
            .ok_or_else(|| DraftError::Unknown {
                id: draft.to_owned(),
                known: current
                    .drafts
                    .iter()
                    .map(|d| format!("`{}`", d.id))
                    .collect::<Vec<_>>()
                    .join(", "),
            })?;
        if d.status == DraftStatus::Approved {
            return Err(DraftError::AlreadyApproved(draft.to_owned()).into());
        }
        // Nobody approves their own words, as nobody decides a gate on their own edit.
        if d.written_by == by {
            return Err(DraftError::OwnWords(draft.to_owned()).into());
        }
        d.status = DraftStatus::Approved;
        d.approved_by = Some(by.to_owned());
        d.approved_at = Some(now);
        let approved = d.clone();
        let envelope = envelope(l, next, revision + 1, by, correlation, now)?;
        let queued = approved.address.is_some();
        let mut rec = l.records(correlation, now);
        rec.decision(
            DecisionType::Approval,
            &format!(
                "message draft `{}` ({} to {}) approved by {by}",
                approved.id,
                approved.kind.as_str(),
                approved.to
            ),
            by,
            &if queued {
                "approved for sending: queued for e-mail to the address the draft names".to_owned()
            } else {
                "approved for sending: the draft names no e-mail address, so it is sent by hand"
                    .to_owned()
            },
            vec![],
            None,
            vec![],
        );
        rec.change(
            ChangeType::Revised,
            &format!(
                "{t} revision {} by {by}: `{}` approved",
                revision + 1,
                approved.id
            ),
            vec![envelope.as_ref()],
            by,
            None,
        );
        let key = format!("approve-draft:{}@{}", approved.id, revision + 1);
        let outbox = approved
            .address
            .as_ref()
            .map(|address| NewOutbox {
                id: Uuid::now_v7(),
                kind: OutboxKind::Message,
                dedupe_key: format!("{}:{key}", l.snap.event.id),
                payload: serde_json::json!({
                    "type": "message",
                    "event_id": l.snap.event.id.to_string(),
                    "event_title": l.snap.event.title,
                    "draft_id": approved.id,
                    "draft_kind": approved.kind.as_str(),
                    "language": approved.language,
                    "subject": approved.subject,
                    "body": approved.body,
                    "approved_by": by,
                    "recipients": [{"name": approved.to, "email": address}],
                }),
            })
            .into_iter()
            .collect();
        let commit = Commit {
            event_id: l.snap.event.id,
            step_key: key,
            at: now,
            artifacts: vec![envelope],
            decisions: rec.decisions,
            changes: rec.changes,
            outbox,
            expect_seq: Some(l.snap.seq),
            ..Commit::default()
        };
        Ok((
            commit,
            DraftApproved {
                draft: approved,
                revision: revision + 1,
                queued,
            },
        ))
    }
}

/// The model's task's name (and its schema's; the Event Planner's instruction sets prompt it).
pub(crate) const TASK: &str = "draft_message";

/// What the model must answer for one draft. Lengths are checked in [`checked_words`], not in
/// the schema: llama.cpp turns a `maxLength` into a grammar nested that deep, which its server
/// failed to parse and then crashed on (found with `scripts/model-smoke`).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct Rewritten {
    #[schemars(length(min = 1))]
    subject: String,
    #[schemars(length(min = 1))]
    body: String,
}

/// The longest subject and body kept from a model.
const MAX_SUBJECT: usize = 200;
const MAX_BODY: usize = 4000;

/// The model's words for `d` if they keep what matters of the template: no figure it does not
/// state, the recipient named (a venue or a speaker), the event named; else why not.
///
/// A model that copies the English template back is refused too: it must not keep more than
/// half of the template's own words (those of the template text itself, not the plan's facts),
/// so English is never labelled as another language.
fn checked_words(
    d: &MessageDraft,
    title: &str,
    tag: &str,
    r: Rewritten,
) -> Result<Rewritten, String> {
    let r = Rewritten {
        subject: r.subject.trim().to_owned(),
        body: r.body.trim().to_owned(),
    };
    if r.subject.is_empty() || r.body.is_empty() {
        return Err("the subject or the body is empty".into());
    }
    if r.subject.chars().count() > MAX_SUBJECT || r.body.chars().count() > MAX_BODY {
        return Err(format!(
            "the subject is over {MAX_SUBJECT} or the body over {MAX_BODY} characters"
        ));
    }
    let template = Value::String(format!("{}\n{}", d.subject, d.body));
    let stray = ungrounded_numbers(&format!("{}\n{}", r.subject, r.body), &[&template]);
    if !stray.is_empty() {
        return Err(format!(
            "the message states figures the template does not: {}",
            stray.join(", ")
        ));
    }
    let addressed = matches!(
        d.kind,
        DraftKind::VenueRfq | DraftKind::VenueRfqReminder | DraftKind::SpeakerAnnouncement
    );
    if addressed && !r.body.contains(&d.to) {
        return Err(format!(
            "the message does not name its recipient `{}`",
            d.to
        ));
    }
    if !r.subject.contains(title) && !r.body.contains(title) {
        return Err(format!("the message does not name the event `{title}`"));
    }
    let own = template_words(d.kind);
    let written = word_set(&format!("{}\n{}", r.subject, r.body));
    let kept = own.intersection(&written).count();
    if !own.is_empty() && kept * 2 > own.len() {
        return Err(format!(
            "the message keeps {kept} of the English template's {} own words: it is not written in `{tag}`",
            own.len()
        ));
    }
    Ok(r)
}

/// The words of the English template of `kind` itself (placeholders left out), lower case, of
/// four letters or more.
fn template_words(kind: DraftKind) -> std::collections::BTreeSet<String> {
    let (subject, body) = match kind {
        DraftKind::VenueRfq => (EN.rfq_subject, EN.rfq_body),
        DraftKind::VenueRfqReminder => (EN.reminder_subject, EN.reminder_body),
        DraftKind::SupplierRfq => (EN.supplier_subject, EN.supplier_body),
        DraftKind::SpeakerAnnouncement => (EN.speaker_subject, EN.speaker_body),
        DraftKind::AttendeeAnnouncement => (EN.attendee_subject, EN.attendee_body),
    };
    let mut text = format!("{subject}\n{body}");
    while let (Some(a), Some(b)) = (text.find('{'), text.find('}')) {
        if b < a {
            break;
        }
        text.replace_range(a..=b, " ");
    }
    word_set(&text)
}

/// The words of `text` of four letters or more, lower case.
fn word_set(text: &str) -> std::collections::BTreeSet<String> {
    text.split(|c: char| !c.is_alphabetic())
        .filter(|w| w.chars().count() >= 4)
        .map(str::to_lowercase)
        .collect()
}

/// Revision `revision` of the drafts, validated.
fn envelope(
    l: &Loaded,
    drafts: MessageDrafts,
    revision: u32,
    by: &str,
    correlation: &str,
    now: DateTime<Utc>,
) -> Result<Envelope, EngineError> {
    let t = ArtifactType::MessageDrafts;
    let envelope = Envelope {
        id: ArtifactId(Uuid::now_v7()),
        event_id: l.snap.event.id,
        artifact_type: t,
        revision,
        schema_version: t.schema_version().into(),
        created_at: now,
        created_by: by.to_owned(),
        correlation_id: correlation.to_owned(),
        derived_from: [
            ArtifactType::EventBrief,
            ArtifactType::VenueLeads,
            ArtifactType::Schedule,
        ]
        .into_iter()
        .filter_map(|t| l.bb.reference(t))
        .collect(),
        payload: Payload::MessageDrafts(drafts).to_value(),
    };
    let doc = serde_json::to_value(&envelope).map_err(|e| EngineError::Corrupt {
        what: t.to_string(),
        detail: e.to_string(),
    })?;
    validate_document(&doc).map_err(|vs| DraftError::Invalid {
        violations: vs
            .into_iter()
            .filter_map(|v| {
                v.pointer.strip_prefix("/payload").map(|p| Violation {
                    pointer: p.to_owned(),
                    message: v.message.clone(),
                })
            })
            .collect(),
    })?;
    Ok(envelope)
}

/// The drafts after writing `fresh`: a draft a person edited or approved stays as it is, in
/// its place, and so does one written from the same template text (the same `basis`, whoever
/// wrote its words); the rest are the fresh ones.
fn merged(current: Option<&MessageDrafts>, fresh: Vec<MessageDraft>) -> MessageDrafts {
    let kept =
        |d: &MessageDraft| d.status == DraftStatus::Approved || d.written_by.starts_with("user:");
    let old: Vec<&MessageDraft> = current
        .map(|c| c.drafts.iter().collect())
        .unwrap_or_default();
    let mut drafts: Vec<MessageDraft> = fresh
        .into_iter()
        .map(|f| match old.iter().find(|o| o.id == f.id) {
            Some(o) if kept(o) || (!f.basis.is_empty() && o.basis == f.basis) => (*o).clone(),
            _ => f,
        })
        .collect();
    for o in old {
        if kept(o) && !drafts.iter().any(|d| d.id == o.id) {
            drafts.push(o.clone());
        }
    }
    MessageDrafts { drafts }
}

/// The edit of `current` into `edited` by `by`, as stored: a draft whose words or recipient
/// changed is written by `by`, and needs approval again if it was approved. An edit cannot
/// approve: approval is given with [`Engine::approve_draft`].
pub(crate) fn checked_edit(
    current: &MessageDrafts,
    mut edited: MessageDrafts,
    by: &str,
) -> Result<MessageDrafts, Vec<Violation>> {
    let mut violations = Vec::new();
    for (i, d) in edited.drafts.iter_mut().enumerate() {
        let old = current.get(&d.id);
        let was_approved = old.is_some_and(|o| o.status == DraftStatus::Approved);
        let words_changed = old.is_none_or(|o| {
            (&o.to, &o.address, &o.language, &o.subject, &o.body)
                != (&d.to, &d.address, &d.language, &d.subject, &d.body)
        });
        if words_changed {
            d.written_by = by.to_owned();
        }
        let approval_kept = old.is_some_and(|o| {
            (o.status, &o.approved_by, &o.approved_at) == (d.status, &d.approved_by, &d.approved_at)
        });
        match d.status {
            DraftStatus::Approved if was_approved && approval_kept && !words_changed => {}
            DraftStatus::Approved if was_approved && approval_kept => {
                // New words need a new approval.
                d.status = DraftStatus::Draft;
                d.approved_by = None;
                d.approved_at = None;
            }
            DraftStatus::Approved => violations.push(Violation {
                pointer: format!("/drafts/{i}/status"),
                message: "a draft is approved with POST /api/v1/events/{id}/drafts/{draft}/approve (the Approve button on the event page), not by editing it".into(),
            }),
            DraftStatus::Draft => {
                // Withdrawing an approval is an edit like any other.
                d.approved_by = None;
                d.approved_at = None;
            }
        }
    }
    if violations.is_empty() {
        Ok(edited)
    } else {
        Err(violations)
    }
}

/// The drafts the plan in `l` calls for now, written from templates.
fn from_plan(
    l: &Loaded,
    now: DateTime<Utc>,
    unpriced: &[eods_agents::pricing::Need],
) -> Vec<MessageDraft> {
    let Some(brief) = l.bb.get::<EventBrief>() else {
        return vec![];
    };
    let today = now.with_timezone(&brief.tz()).date_naive();
    let words = Words::for_brief(brief);
    let sender = sender(l, brief, "stakeholder-1", words);
    let venue = selected_venue(l);
    let mut out = Vec::new();
    if let Some(leads) = l.bb.get::<VenueLeads>() {
        for lead in leads.leads.iter().filter(|x| x.request_for_quote.is_some()) {
            out.extend(venue_rfq(l, brief, lead, words, today));
        }
    }
    out.extend(supplier_rfqs(brief, unpriced, &sender, words));
    out.extend(speaker_announcements(
        brief,
        l.bb.get::<Schedule>(),
        venue.as_deref(),
        &sender,
        words,
    ));
    if !out.is_empty() || l.bb.get::<Schedule>().is_some() || !brief.program.is_empty() {
        out.push(attendee_announcement(
            brief,
            l.bb.get::<Schedule>(),
            venue.as_deref(),
            &sender,
            words,
        ));
    }
    for d in &mut out {
        d.basis = format!(
            "{:016x}",
            crate::fnv(&format!("{}\n{}\n{}", d.language, d.subject, d.body))
        );
    }
    out
}

/// The venue the approver selected, when the venue selection is approved.
fn selected_venue(l: &Loaded) -> Option<String> {
    let input = GateInput {
        blackboard: &l.bb,
        level: l.level,
        approvals: &l.approvals,
    };
    if approval_for_current(ApprovalGate::VenueSelection, input) != Some(ApprovalStatus::Approved) {
        return None;
    }
    let card = l.bb.get::<VenueScorecard>()?;
    let shortlist = l.bb.get::<VenueShortlist>()?;
    shortlist
        .candidates
        .iter()
        .find(|c| c.id == card.selected_candidate_id)
        .map(|c| c.name.clone())
}

/// The name of stakeholder `id` (`stakeholder-1`), else the organisers in the drafts' words.
fn sender(l: &Loaded, brief: &EventBrief, id: &str, words: Words) -> String {
    l.bb.get::<StakeholderMap>()
        .and_then(|m| m.stakeholders.iter().find(|s| s.id.as_str() == id))
        .map(|s| s.name.clone())
        .or_else(|| {
            id.strip_prefix("stakeholder-")
                .and_then(|n| n.parse::<usize>().ok())
                .and_then(|n| brief.stakeholders.get(n.checked_sub(1)?))
                .map(|s| s.name.clone())
        })
        .unwrap_or_else(|| words.organisers.to_owned())
}

/// The first e-mail address in a contact text (`info@x.fi; +358 …`).
fn email_in(contact: &str) -> Option<String> {
    contact
        .split(|c: char| c.is_whitespace() || matches!(c, ';' | ',' | '<' | '>'))
        .map(|w| {
            w.trim_start_matches("mailto:")
                .trim_matches(|c: char| c == '.' || c == '"')
        })
        .find(|w| {
            let (user, host) = w.split_once('@').unwrap_or(("", ""));
            !user.is_empty() && host.contains('.') && !host.starts_with('.')
        })
        .map(str::to_owned)
}

/// The request for quote to `lead`; and when the request was approved (so sent) and its answer
/// is overdue on `today`, the reminder, to the address it was sent to.
fn venue_rfq(
    l: &Loaded,
    brief: &EventBrief,
    lead: &VenueLead,
    words: Words,
    today: NaiveDate,
) -> Vec<MessageDraft> {
    let rfq = lead.request_for_quote.as_ref();
    let asks: Vec<String> = rfq
        .map(|r| r.asks.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|a| match a.as_str() {
            "capacity" => words.ask_capacity.to_owned(),
            "day_rate" => words.ask_day_rate.to_owned(),
            other => format!("- {other}"),
        })
        .collect();
    let sender = sender(
        l,
        brief,
        rfq.map_or("stakeholder-1", |r| r.owner.as_str()),
        words,
    );
    let due = rfq.map_or_else(|| brief.first_day(), |r| r.due);
    let id = format!("rfq-{}", lead.id.as_str());
    let sent =
        l.bb.get::<MessageDrafts>()
            .and_then(|m| m.get(&id))
            .filter(|d| d.status == DraftStatus::Approved)
            .and_then(|d| Some((d.approved_at?, d.address.clone())));
    let asked = sent.as_ref().map_or_else(String::new, |(at, _)| {
        at.with_timezone(&brief.tz()).date_naive().to_string()
    });
    let fill = |t: &str| {
        fill(
            t,
            &[
                ("asked", asked.clone()),
                ("venue", lead.name.clone()),
                ("title", brief.title.clone()),
                ("kind", words.kind(brief.event_type).to_owned()),
                ("audience", brief.audience_size.to_string()),
                ("city", brief.location.city.clone()),
                ("dates", dates(brief)),
                ("on_dates", on_dates(brief, words)),
                ("asks", asks.join("\n")),
                ("due", due.to_string()),
                ("sender", sender.clone()),
            ],
        )
    };
    let request = MessageDraft {
        address: email_in(&lead.contact),
        subject: fill(words.rfq_subject),
        body: fill(words.rfq_body),
        sources: vec!["event_brief".into(), "venue_leads".into()],
        ..template_draft(
            id.clone(),
            DraftKind::VenueRfq,
            lead.name.clone(),
            words,
            brief,
        )
    };
    let mut out = vec![request];
    if let Some((_, address)) = sent.filter(|_| today > due) {
        out.push(MessageDraft {
            id: format!("reminder-{id}"),
            kind: DraftKind::VenueRfqReminder,
            address,
            subject: fill(words.reminder_subject),
            body: fill(words.reminder_body),
            sources: vec![
                "event_brief".into(),
                "venue_leads".into(),
                "message_drafts".into(),
            ],
            ..out[0].clone()
        });
    }
    out
}

/// A request for prices per service with needs no rate card prices: to that service's
/// suppliers in the city (no address: the organiser chooses whom to ask), listing the needs as
/// the Budget Analyst counts them for the brief.
fn supplier_rfqs(
    brief: &EventBrief,
    unpriced: &[eods_agents::pricing::Need],
    sender: &str,
    words: Words,
) -> Vec<MessageDraft> {
    let mut services: Vec<eods_agents::data::Service> = Vec::new();
    for n in unpriced {
        if !services.contains(&n.service) {
            services.push(n.service);
        }
    }
    services
        .into_iter()
        .map(|service| {
            let items: Vec<String> = unpriced
                .iter()
                .filter(|n| n.service == service)
                .map(|n| format!("- {}", n.description))
                .collect();
            let name = words.service(service);
            let fill = |t: &str| {
                fill(
                    t,
                    &[
                        ("service", name.to_owned()),
                        ("title", brief.title.clone()),
                        ("kind", words.kind(brief.event_type).to_owned()),
                        ("audience", brief.audience_size.to_string()),
                        ("city", brief.location.city.clone()),
                        ("dates", dates(brief)),
                        ("on_dates", on_dates(brief, words)),
                        ("items", items.join("\n")),
                        ("sender", sender.to_owned()),
                    ],
                )
            };
            MessageDraft {
                subject: fill(words.supplier_subject),
                body: fill(words.supplier_body),
                sources: vec!["event_brief".into(), "rate cards".into()],
                ..template_draft(
                    format!("supplier-rfq-{}", service.as_str()),
                    DraftKind::SupplierRfq,
                    fill(words.supplier_to),
                    words,
                    brief,
                )
            }
        })
        .collect()
}

fn speaker_announcements(
    brief: &EventBrief,
    schedule: Option<&Schedule>,
    venue: Option<&str>,
    sender: &str,
    words: Words,
) -> Vec<MessageDraft> {
    // Each speaker's sessions: from the schedule when there is one, else from the brief's program.
    let mut speakers: Vec<(String, Vec<String>)> = Vec::new();
    let mut add = |name: &str, line: String| match speakers.iter_mut().find(|(n, _)| n == name) {
        Some((_, lines)) => lines.push(line),
        None => speakers.push((name.to_owned(), vec![line])),
    };
    match schedule {
        Some(s) => {
            for session in &s.sessions {
                let room = s
                    .rooms
                    .iter()
                    .find(|r| r.id == session.room)
                    .map_or_else(|| session.room.as_str().to_owned(), |r| r.name.clone());
                let line = fill(
                    words.session_scheduled,
                    &[
                        ("session", session.title.clone()),
                        ("day", session.start.date_naive().to_string()),
                        ("from", session.start.format("%H:%M").to_string()),
                        ("to", session.end.format("%H:%M").to_string()),
                        ("room", room),
                    ],
                );
                for sp in &session.speakers {
                    add(sp, line.clone());
                }
            }
        }
        None => {
            for item in &brief.program {
                let line = fill(
                    words.session_unscheduled,
                    &[
                        ("session", item.title.clone()),
                        ("minutes", item.duration_minutes.to_string()),
                    ],
                );
                for sp in &item.speakers {
                    add(sp, line.clone());
                }
            }
        }
    }
    speakers
        .into_iter()
        .enumerate()
        .map(|(i, (name, lines))| {
            let fill = |t: &str| {
                fill(
                    t,
                    &[
                        ("name", name.clone()),
                        ("title", brief.title.clone()),
                        ("city", brief.location.city.clone()),
                        ("sessions", lines.join("\n")),
                        (
                            "venue_line",
                            venue.map_or_else(String::new, |v| {
                                fill(words.venue_line, &[("venue", v.to_owned())])
                            }),
                        ),
                        ("sender", sender.to_owned()),
                    ],
                )
            };
            MessageDraft {
                subject: fill(words.speaker_subject),
                body: fill(words.speaker_body),
                sources: program_sources(schedule),
                ..template_draft(
                    format!("speaker-{}", i + 1),
                    DraftKind::SpeakerAnnouncement,
                    name.clone(),
                    words,
                    brief,
                )
            }
        })
        .collect()
}

fn attendee_announcement(
    brief: &EventBrief,
    schedule: Option<&Schedule>,
    venue: Option<&str>,
    sender: &str,
    words: Words,
) -> MessageDraft {
    let first = schedule.and_then(|s| s.sessions.iter().map(|x| x.start).min());
    let program = first.map_or_else(String::new, |f| {
        fill(
            words.program_line,
            &[
                ("first_day", f.date_naive().to_string()),
                ("first", f.format("%H:%M").to_string()),
            ],
        )
    });
    let fill = |t: &str| {
        fill(
            t,
            &[
                ("title", brief.title.clone()),
                ("city", brief.location.city.clone()),
                ("dates", dates(brief)),
                ("on_dates", on_dates(brief, words)),
                (
                    "venue_sentence",
                    venue.map_or_else(String::new, |v| {
                        fill(words.venue_sentence, &[("venue", v.to_owned())])
                    }),
                ),
                ("program_line", program.clone()),
                ("sender", sender.to_owned()),
            ],
        )
    };
    MessageDraft {
        subject: fill(words.attendee_subject),
        body: fill(words.attendee_body),
        sources: program_sources(schedule),
        ..template_draft(
            "attendees".into(),
            DraftKind::AttendeeAnnouncement,
            words.attendees.to_owned(),
            words,
            brief,
        )
    }
}

/// A draft as the templates write it, before its words: in `words`' language, not approved,
/// with their note; no address, no sources.
fn template_draft(
    id: String,
    kind: DraftKind,
    to: String,
    words: Words,
    brief: &EventBrief,
) -> MessageDraft {
    MessageDraft {
        id,
        kind,
        to,
        address: None,
        language: words.tag.to_owned(),
        subject: String::new(),
        body: String::new(),
        written_by: "template".into(),
        basis: String::new(),
        sources: vec![],
        note: words.note(brief),
        status: DraftStatus::Draft,
        approved_by: None,
        approved_at: None,
    }
}

/// What an announcement is written from: the brief, and the schedule once there is one.
fn program_sources(schedule: Option<&Schedule>) -> Vec<String> {
    let mut v = vec!["event_brief".to_owned()];
    if schedule.is_some() {
        v.push("schedule".into());
    }
    v
}

/// `2027-03-15`, or `2027-03-15 – 2027-03-16`.
fn dates(b: &EventBrief) -> String {
    let (first, last) = (b.first_day(), b.last_day());
    if first == last {
        first.to_string()
    } else {
        format!("{first} – {last}")
    }
}

/// `on 2027-03-15`, `from 2027-03-15 to 2027-03-16` in the drafts' language.
fn on_dates(b: &EventBrief, words: Words) -> String {
    let (first, last): (NaiveDate, NaiveDate) = (b.first_day(), b.last_day());
    if first == last {
        fill(words.on_day, &[("day", first.to_string())])
    } else {
        fill(
            words.from_to,
            &[("first", first.to_string()), ("last", last.to_string())],
        )
    }
}

/// `template` with each `{name}` replaced by its value.
fn fill(template: &str, values: &[(&str, String)]) -> String {
    let mut out = template.to_owned();
    for (k, v) in values {
        out = out.replace(&format!("{{{k}}}"), v);
    }
    out
}

/// The words of the drafts in one language.
#[derive(Debug, Clone, Copy)]
struct Words {
    tag: &'static str,
    /// The brief asked for a language no template is written in.
    fallback: bool,
    organisers: &'static str,
    attendees: &'static str,
    kinds: [&'static str; 6],
    on_day: &'static str,
    from_to: &'static str,
    rfq_subject: &'static str,
    rfq_body: &'static str,
    ask_capacity: &'static str,
    ask_day_rate: &'static str,
    reminder_subject: &'static str,
    reminder_body: &'static str,
    /// Catering, AV, staffing, materials, insurance, marketing, speakers.
    services: [&'static str; 7],
    supplier_to: &'static str,
    supplier_subject: &'static str,
    supplier_body: &'static str,
    speaker_subject: &'static str,
    speaker_body: &'static str,
    session_scheduled: &'static str,
    session_unscheduled: &'static str,
    venue_line: &'static str,
    attendee_subject: &'static str,
    attendee_body: &'static str,
    venue_sentence: &'static str,
    program_line: &'static str,
}

impl Words {
    fn for_brief(b: &EventBrief) -> Words {
        let tag = b.language.as_deref().unwrap_or("en");
        match primary_language(tag).as_str() {
            "de" => DE,
            "fr" => FR,
            "en" => EN,
            _ => Words {
                fallback: true,
                ..EN
            },
        }
    }

    fn service(&self, s: eods_agents::data::Service) -> &'static str {
        use eods_agents::data::Service;
        let i = match s {
            Service::Catering => 0,
            Service::Av => 1,
            Service::Staffing => 2,
            Service::Materials => 3,
            Service::Insurance => 4,
            Service::Marketing => 5,
            Service::Speakers => 6,
        };
        self.services[i]
    }

    fn kind(&self, t: EventType) -> &'static str {
        let i = match t {
            EventType::Meetup => 0,
            EventType::Conference => 1,
            EventType::Workshop => 2,
            EventType::Gala => 3,
            EventType::Festival => 4,
            EventType::Other => 5,
        };
        self.kinds[i]
    }

    /// What a person must know before approving: the draft is not in the brief's language.
    /// (Whether it names an address is shown beside it, from the address itself.)
    fn note(&self, b: &EventBrief) -> Option<String> {
        self.fallback.then(|| {
            format!(
                "The brief asks for `{}`; no template is written in it, so this draft is in English: translate it before approving, or configure a language model.",
                b.language.as_deref().unwrap_or_default()
            )
        })
    }
}

const EN: Words = Words {
    tag: "en",
    fallback: false,
    organisers: "The organisers",
    attendees: "Attendees",
    kinds: [
        "a meetup",
        "a conference",
        "a workshop",
        "a gala",
        "a festival",
        "an event",
    ],
    on_day: "on {day}",
    from_to: "from {first} to {last}",
    rfq_subject: "Request for quote: {title}, {dates}",
    rfq_body: "Dear {venue} team,\n\nWe are organising {title}, {kind} for {audience} people in {city} {on_dates}, and we are considering {venue}. Could you send us a quote?\n\nPlease tell us:\n{asks}\n- whether the venue is free {on_dates}\n\nWe would be glad of your answer by {due}.\n\nKind regards,\n{sender}\n{title}",
    ask_capacity: "- how many people the venue holds (seated, and standing)",
    ask_day_rate: "- your price for hiring the venue for a day, what it includes, and in which currency",
    reminder_subject: "Reminder: request for quote: {title}, {dates}",
    reminder_body: "Dear {venue} team,\n\non {asked} we asked you for a quote for {title}, {kind} for {audience} people in {city} {on_dates}, with your answer by {due}. We have not received it yet: could you send it, or tell us if the venue is not available?\n\nKind regards,\n{sender}\n{title}",
    services: [
        "catering",
        "audio-visual equipment",
        "event staff",
        "printed materials",
        "event insurance",
        "marketing",
        "speakers",
    ],
    supplier_to: "Suppliers of {service} in {city}",
    supplier_subject: "Request for prices: {service} for {title}, {dates}",
    supplier_body: "Hello,\n\nWe are organising {title}, {kind} for {audience} people in {city} {on_dates}, and are looking for {service}. Could you send us your prices for:\n{items}\n\nPlease give each price per unit, what it includes, and in which currency.\n\nKind regards,\n{sender}\n{title}",
    speaker_subject: "Your session at {title}",
    speaker_body: "Dear {name},\n\nThank you for speaking at {title} in {city}. We have you down for:\n{sessions}\n\n{venue_line}Please tell us if anything here is wrong, and what you need in the room.\n\nKind regards,\n{sender}\n{title}",
    session_scheduled: "- {session}: {day}, {from}–{to}, {room}",
    session_unscheduled: "- {session} ({minutes} minutes): day, time and room to follow",
    venue_line: "The venue is {venue}.\n\n",
    attendee_subject: "{title}: {dates}, {city}",
    attendee_body: "Dear attendees,\n\n{title} takes place {on_dates} in {city}.{venue_sentence}\n\n{program_line}We look forward to seeing you.\n\nKind regards,\n{sender}\n{title}",
    venue_sentence: " The venue is {venue}.",
    program_line: "The program starts on {first_day} at {first}; the full program follows.\n\n",
};

const DE: Words = Words {
    tag: "de",
    fallback: false,
    organisers: "Das Organisationsteam",
    attendees: "Teilnehmende",
    kinds: [
        "ein Meetup",
        "eine Konferenz",
        "ein Workshop",
        "eine Gala",
        "ein Festival",
        "eine Veranstaltung",
    ],
    on_day: "am {day}",
    from_to: "vom {first} bis {last}",
    rfq_subject: "Angebotsanfrage: {title}, {dates}",
    rfq_body: "Sehr geehrtes Team von {venue},\n\nwir organisieren {title}, {kind} für {audience} Personen in {city} {on_dates}, und ziehen {venue} als Veranstaltungsort in Betracht. Könnten Sie uns ein Angebot senden?\n\nBitte teilen Sie uns mit:\n{asks}\n- ob der Ort {on_dates} frei ist\n\nÜber eine Antwort bis zum {due} freuen wir uns.\n\nMit freundlichen Grüßen\n{sender}\n{title}",
    ask_capacity: "- wie viele Personen der Ort fasst (bestuhlt und stehend)",
    ask_day_rate: "- Ihren Preis für die Miete für einen Tag, was er einschließt und in welcher Währung",
    reminder_subject: "Erinnerung: Angebotsanfrage: {title}, {dates}",
    reminder_body: "Sehr geehrtes Team von {venue},\n\nam {asked} haben wir Sie um ein Angebot für {title} gebeten, {kind} für {audience} Personen in {city} {on_dates}, mit einer Antwort bis zum {due}. Wir haben noch keine Antwort erhalten: Könnten Sie uns das Angebot senden oder uns mitteilen, falls der Ort nicht verfügbar ist?\n\nMit freundlichen Grüßen\n{sender}\n{title}",
    services: [
        "Catering",
        "Veranstaltungstechnik",
        "Veranstaltungspersonal",
        "Drucksachen",
        "Veranstaltungsversicherung",
        "Marketing",
        "Referenten",
    ],
    supplier_to: "Anbieter für {service} in {city}",
    supplier_subject: "Preisanfrage: {service} für {title}, {dates}",
    supplier_body: "Guten Tag,\n\nwir organisieren {title}, {kind} für {audience} Personen in {city} {on_dates}, und suchen Anbieter für {service}. Könnten Sie uns Ihre Preise nennen für:\n{items}\n\nBitte geben Sie jeden Preis pro Einheit an, was er einschließt und in welcher Währung.\n\nMit freundlichen Grüßen\n{sender}\n{title}",
    speaker_subject: "Ihr Beitrag bei {title}",
    speaker_body: "Guten Tag {name},\n\nvielen Dank, dass Sie bei {title} in {city} sprechen. Wir haben Sie eingeplant für:\n{sessions}\n\n{venue_line}Bitte sagen Sie uns, falls etwas nicht stimmt, und was Sie im Raum benötigen.\n\nMit freundlichen Grüßen\n{sender}\n{title}",
    session_scheduled: "- {session}: {day}, {from}–{to}, {room}",
    session_unscheduled: "- {session} ({minutes} Minuten): Tag, Zeit und Raum folgen",
    venue_line: "Veranstaltungsort ist {venue}.\n\n",
    attendee_subject: "{title}: {dates}, {city}",
    attendee_body: "Liebe Teilnehmende,\n\n{title} findet {on_dates} in {city} statt.{venue_sentence}\n\n{program_line}Wir freuen uns auf Sie.\n\nMit freundlichen Grüßen\n{sender}\n{title}",
    venue_sentence: " Veranstaltungsort ist {venue}.",
    program_line: "Das Programm beginnt am {first_day} um {first} Uhr; das vollständige Programm folgt.\n\n",
};

const FR: Words = Words {
    tag: "fr",
    fallback: false,
    organisers: "L'équipe d'organisation",
    attendees: "Participants",
    kinds: [
        "une rencontre",
        "une conférence",
        "un atelier",
        "un gala",
        "un festival",
        "un événement",
    ],
    on_day: "le {day}",
    from_to: "du {first} au {last}",
    rfq_subject: "Demande de devis : {title}, {dates}",
    rfq_body: "Madame, Monsieur,\n\nNous organisons {title}, {kind} pour {audience} personnes à {city} {on_dates}, et nous envisageons {venue}. Pourriez-vous nous adresser un devis ?\n\nMerci de nous indiquer :\n{asks}\n- si le lieu est disponible {on_dates}\n\nNous vous serions reconnaissants de votre réponse avant le {due}.\n\nCordialement,\n{sender}\n{title}",
    ask_capacity: "- combien de personnes le lieu peut accueillir (assises et debout)",
    ask_day_rate: "- votre tarif de location pour une journée, ce qu'il comprend et dans quelle devise",
    reminder_subject: "Relance : demande de devis : {title}, {dates}",
    reminder_body: "Madame, Monsieur,\n\nle {asked}, nous vous avons demandé un devis pour {title}, {kind} pour {audience} personnes à {city} {on_dates}, avec une réponse avant le {due}. Nous ne l'avons pas encore reçu : pourriez-vous nous l'adresser, ou nous indiquer si le lieu n'est pas disponible ?\n\nCordialement,\n{sender}\n{title}",
    services: [
        "traiteur",
        "matériel audiovisuel",
        "personnel d'accueil",
        "supports imprimés",
        "assurance événementielle",
        "marketing",
        "intervenants",
    ],
    supplier_to: "Prestataires ({service}) à {city}",
    supplier_subject: "Demande de prix : {service} pour {title}, {dates}",
    supplier_body: "Bonjour,\n\nNous organisons {title}, {kind} pour {audience} personnes à {city} {on_dates}, et recherchons un prestataire ({service}). Pourriez-vous nous indiquer vos prix pour :\n{items}\n\nMerci d'indiquer chaque prix à l'unité, ce qu'il comprend et dans quelle devise.\n\nCordialement,\n{sender}\n{title}",
    speaker_subject: "Votre intervention à {title}",
    speaker_body: "Bonjour {name},\n\nMerci d'intervenir à {title} à {city}. Nous vous avons prévu pour :\n{sessions}\n\n{venue_line}Merci de nous signaler toute erreur, et ce dont vous avez besoin dans la salle.\n\nCordialement,\n{sender}\n{title}",
    session_scheduled: "- {session} : {day}, {from}–{to}, {room}",
    session_unscheduled: "- {session} ({minutes} minutes) : jour, heure et salle à venir",
    venue_line: "Le lieu est {venue}.\n\n",
    attendee_subject: "{title} : {dates}, {city}",
    attendee_body: "Chères participantes, chers participants,\n\n{title} aura lieu {on_dates} à {city}.{venue_sentence}\n\n{program_line}Au plaisir de vous y retrouver.\n\nCordialement,\n{sender}\n{title}",
    venue_sentence: " Le lieu est {venue}.",
    program_line: "Le programme commence le {first_day} à {first} ; le programme complet suivra.\n\n",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_address_in_a_contact_text_is_found() {
        assert_eq!(
            email_in("Tel +358 9 123; info@savoy.fi."),
            Some("info@savoy.fi".into())
        );
        assert_eq!(email_in("mailto:a@b.org"), Some("a@b.org".into()));
        assert_eq!(email_in("https://example.org/@x"), None);
        assert_eq!(email_in("+358 9 1234"), None);
    }

    #[test]
    fn a_model_that_copies_the_english_template_is_refused() {
        let d = MessageDraft {
            id: "speaker-1".into(),
            kind: DraftKind::SpeakerAnnouncement,
            to: "Lena Krüger".into(),
            address: None,
            language: "en".into(),
            subject: "Your session at Rust Day".into(),
            body: "Dear Lena Krüger,\n\nThank you for speaking at Rust Day in Berlin. We have you down for:\n- Async: 2029-03-08, 18:30–19:00, Werkraum\n\nPlease tell us if anything here is wrong, and what you need in the room.\n\nKind regards,\nJana\nRust Day".into(),
            written_by: "template".into(),
            basis: String::new(),
            sources: vec![],
            note: None,
            status: DraftStatus::Draft,
            approved_by: None,
            approved_at: None,
        };
        let copied = Rewritten {
            subject: d.subject.clone(),
            body: d.body.clone(),
        };
        let why = checked_words(&d, "Rust Day", "fi", copied).unwrap_err();
        assert!(why.contains("not written in `fi`"), "{why}");
        let finnish = Rewritten {
            subject: "Esityksesi tapahtumassa Rust Day".into(),
            body: "Hei Lena Krüger,\n\nkiitos, että puhut tapahtumassa Rust Day Berliinissä. Olet ohjelmassa:\n- Async: 2029-03-08, 18:30–19:00, Werkraum\n\nKerro meille, jos jokin on väärin, ja mitä tarvitset salissa.\n\nYstävällisin terveisin\nJana\nRust Day".into(),
        };
        assert!(checked_words(&d, "Rust Day", "fi", finnish).is_ok());
    }

    #[test]
    fn placeholders_are_filled_and_others_left() {
        assert_eq!(
            fill("{a} and {b} {c}", &[("a", "1".into()), ("b", "2".into())]),
            "1 and 2 {c}"
        );
    }

    fn drafts(ids: &[(&str, DraftStatus, &str)]) -> MessageDrafts {
        MessageDrafts {
            drafts: ids
                .iter()
                .map(|(id, status, by)| MessageDraft {
                    id: (*id).into(),
                    kind: DraftKind::AttendeeAnnouncement,
                    to: "Attendees".into(),
                    address: None,
                    language: "en".into(),
                    subject: format!("subject {id}"),
                    body: "body".into(),
                    written_by: (*by).into(),
                    basis: String::new(),
                    sources: vec![],
                    note: None,
                    status: *status,
                    approved_by: (*status == DraftStatus::Approved).then(|| "user:ana".into()),
                    approved_at: (*status == DraftStatus::Approved).then(Utc::now),
                })
                .collect(),
        }
    }

    #[test]
    fn rewriting_keeps_what_people_edited_or_approved() {
        let current = drafts(&[
            ("a", DraftStatus::Approved, "template"),
            ("b", DraftStatus::Draft, "user:ana"),
            ("c", DraftStatus::Draft, "template"),
            ("gone", DraftStatus::Draft, "template"),
        ]);
        let mut fresh = drafts(&[
            ("a", DraftStatus::Draft, "template"),
            ("b", DraftStatus::Draft, "template"),
            ("c", DraftStatus::Draft, "template"),
        ])
        .drafts;
        fresh[2].body = "new words".into();
        let m = merged(Some(&current), fresh);
        assert_eq!(
            m.drafts.len(),
            3,
            "`gone` was the engine's and is not called for"
        );
        assert_eq!(m.drafts[0].status, DraftStatus::Approved);
        assert_eq!(m.drafts[1].written_by, "user:ana");
        assert_eq!(m.drafts[2].body, "new words");
    }

    #[test]
    fn an_edit_cannot_approve_and_new_words_need_a_new_approval() {
        let current = drafts(&[
            ("a", DraftStatus::Approved, "template"),
            ("b", DraftStatus::Draft, "template"),
        ]);
        // Approving by editing is refused, naming the field.
        let mut e = current.clone();
        e.drafts[1].status = DraftStatus::Approved;
        e.drafts[1].approved_by = Some("user:bob".into());
        e.drafts[1].approved_at = Some(Utc::now());
        let v = checked_edit(&current, e, "user:bob").unwrap_err();
        assert_eq!(v[0].pointer, "/drafts/1/status");
        // Changed words of an approved draft: a draft again, written by the editor.
        let mut e = current.clone();
        e.drafts[0].body = "changed".into();
        let out = checked_edit(&current, e, "user:bob").unwrap();
        assert_eq!(out.drafts[0].status, DraftStatus::Draft);
        assert_eq!(out.drafts[0].approved_by, None);
        assert_eq!(out.drafts[0].written_by, "user:bob");
        // Unchanged: kept approved, author unchanged.
        let out = checked_edit(&current, current.clone(), "user:bob").unwrap();
        assert_eq!(out, current);
    }
}
