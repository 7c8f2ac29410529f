//! The "Messages" tab of the event page: the message drafts (requests for quote, speaker and
//! attendee announcements) with a form to edit each one's recipient, subject and words
//! (planners), a button to approve it for sending (approvers), and one to write the drafts from
//! the plan. Every form goes through the engine, CSRF-checked; nothing here sends anything: an
//! approved draft with an address is queued by the engine, one without is sent by hand.

use super::{form_session, page_error};
use crate::AppState;
use crate::auth::Client;
use crate::error::ApiError;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use eods_domain::access::Permission;
use eods_domain::artifact::ArtifactType;
use eods_domain::blackboard::Blackboard;
use eods_domain::catalog::messages::{DraftStatus, MessageDrafts};
use eods_domain::ids::EventId;
use serde::Deserialize;

/// One draft as shown.
pub(super) struct DraftView {
    pub id: String,
    /// `venue rfq`, `speaker announcement`, `attendee announcement`.
    pub kind: String,
    pub to: String,
    pub address: String,
    pub language: String,
    pub subject: String,
    pub body: String,
    pub written_by: String,
    pub note: Option<String>,
    pub approved: bool,
    /// `Approved by user:bob on 1 Dec 2026 10:00 UTC; queued for e-mail to …` / `… send it by hand`.
    pub approval: String,
}

/// The tab.
pub(super) struct MessagesView {
    pub drafts: Vec<DraftView>,
    /// The `message_drafts` revision shown (what an approval approves).
    pub revision: u32,
    pub can_approve: bool,
    /// What changed in the plan since the drafts were written (`venue_leads revision 2`).
    pub outdated: Vec<String>,
}

pub(super) fn messages(bb: &Blackboard, can_approve: bool) -> MessagesView {
    let revision = bb.revision(ArtifactType::MessageDrafts).unwrap_or(0);
    let drafts = bb
        .get::<MessageDrafts>()
        .map(|m| {
            m.drafts
                .iter()
                .map(|d| DraftView {
                    id: d.id.clone(),
                    kind: d.kind.as_str().replace('_', " "),
                    to: d.to.clone(),
                    address: d.address.clone().unwrap_or_default(),
                    language: d.language.clone(),
                    subject: d.subject.clone(),
                    body: d.body.clone(),
                    written_by: d.written_by.clone(),
                    note: d.note.clone(),
                    approved: d.status == DraftStatus::Approved,
                    approval: match (&d.approved_by, d.approved_at) {
                        (Some(by), Some(at)) => format!(
                            "Approved by {by} on {}; {}",
                            at.format("%-d %b %Y %H:%M UTC"),
                            match &d.address {
                                Some(a) => format!("queued for e-mail to {a}"),
                                None => "no address: send it by hand".to_owned(),
                            }
                        ),
                        _ => "Draft: not approved, not sent".to_owned(),
                    },
                })
                .collect()
        })
        .unwrap_or_default();
    let outdated = bb
        .stale()
        .into_iter()
        .filter(|(t, _)| *t == ArtifactType::MessageDrafts)
        .filter_map(|(_, input)| {
            bb.revision(input.artifact_type)
                .map(|r| format!("{} revision {r}", input.artifact_type))
        })
        .collect();
    MessagesView {
        drafts,
        revision,
        can_approve,
        outdated,
    }
}

fn event_id(id: &str) -> Result<EventId, ApiError> {
    id.parse::<EventId>()
        .map_err(|_| ApiError::not_found(format!("no event `{id}`: an event id is a UUID")))
}

fn back(id: EventId, what: &str) -> Response {
    Redirect::to(&format!("/ui/events/{id}?tab=messages&drafts={what}")).into_response()
}

/// The "Write drafts" form.
#[derive(Debug, Deserialize)]
pub(super) struct WriteForm {
    csrf: String,
}

/// Writes the drafts from the plan and goes back to the tab.
pub(super) async fn write(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: Client,
    Path(id): Path<String>,
    Form(f): Form<WriteForm>,
) -> Response {
    let s = match form_session(&state, &headers, client, &f.csrf, Some(Permission::Plan)).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let id = match event_id(&id) {
        Ok(id) => id,
        Err(e) => return page_error(e),
    };
    match state.engine.write_drafts(id, &s.principal.actor()).await {
        Ok(w) if w.changed => back(id, "written"),
        Ok(_) => back(id, "unchanged"),
        Err(e) => page_error(e.into()),
    }
}

/// The edit form of one draft.
#[derive(Debug, Deserialize)]
pub(super) struct EditForm {
    csrf: String,
    revision: u32,
    #[serde(default)]
    address: String,
    subject: String,
    body: String,
}

/// Saves one draft's recipient address, subject and words as the next revision.
pub(super) async fn save(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: Client,
    Path((id, draft)): Path<(String, String)>,
    Form(f): Form<EditForm>,
) -> Response {
    let s = match form_session(&state, &headers, client, &f.csrf, Some(Permission::Plan)).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let id = match event_id(&id) {
        Ok(id) => id,
        Err(e) => return page_error(e),
    };
    let current = match state
        .store
        .current_of(id, ArtifactType::MessageDrafts)
        .await
    {
        Ok(Some(e)) => e,
        Ok(None) => {
            return page_error(ApiError::not_found(
                "the event has no message drafts yet: write them first",
            ));
        }
        Err(e) => return page_error(e.into()),
    };
    let mut drafts: MessageDrafts = match serde_json::from_value(current.payload) {
        Ok(d) => d,
        Err(_) => return page_error(ApiError::internal()),
    };
    let Some(d) = drafts.drafts.iter_mut().find(|d| d.id == draft) else {
        return page_error(ApiError::not_found(format!("no draft `{draft}`")));
    };
    let address = f.address.trim();
    d.address = (!address.is_empty()).then(|| address.to_owned());
    d.subject = f.subject.trim().to_owned();
    // Browsers send a textarea's line breaks as CR LF.
    d.body = f.body.replace("\r\n", "\n").trim_end().to_owned();
    let payload = match serde_json::to_value(&drafts) {
        Ok(v) => v,
        Err(_) => return page_error(ApiError::internal()),
    };
    match state
        .engine
        .edit_artifact(
            id,
            ArtifactType::MessageDrafts,
            f.revision,
            payload,
            &s.principal.actor(),
            "edited on the event page",
            rust_decimal::Decimal::MAX,
        )
        .await
    {
        Ok(_) => back(id, "saved"),
        Err(e) => page_error(e.into()),
    }
}

/// The approve button of one draft: the revision the approver read.
#[derive(Debug, Deserialize)]
pub(super) struct ApproveForm {
    csrf: String,
    revision: u32,
}

/// Approves one draft for sending.
pub(super) async fn approve(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: Client,
    Path((id, draft)): Path<(String, String)>,
    Form(f): Form<ApproveForm>,
) -> Response {
    let s = match form_session(&state, &headers, client, &f.csrf, Some(Permission::Approve)).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let id = match event_id(&id) {
        Ok(id) => id,
        Err(e) => return page_error(e),
    };
    match state
        .engine
        .approve_draft(id, &draft, f.revision, &s.principal.actor())
        .await
    {
        Ok(a) if a.queued => back(id, "queued"),
        Ok(_) => back(id, "approved"),
        Err(e) => page_error(e.into()),
    }
}
