//! `eods drafts EVENT`: an event's message drafts (requests for quote, speaker and attendee
//! announcements) as text or JSON, written from the plan first with `--write`, or one approved
//! for sending with `--approve DRAFT --revision N` (issue 16). The engine decides; this prints.

use eods_domain::artifact::ArtifactType;
use eods_domain::catalog::messages::{DraftStatus, MessageDrafts};
use eods_domain::ids::EventId;
use eods_engine::{Engine, EngineError};
use serde_json::json;

/// What `eods drafts` was asked to do besides showing the drafts.
pub struct Asked {
    pub write: bool,
    /// The draft to approve and the revision it was read in.
    pub approve: Option<(String, u32)>,
    pub json: bool,
}

/// A failure: the exit code (2 for bad input) and the message.
pub type Failure = (u8, String);

fn failure(id: EventId, e: EngineError) -> Failure {
    match e {
        EngineError::NotFound(_) => (2, format!("error: no event {id}")),
        EngineError::Draft(d) => (2, format!("error: {d}")),
        other => (1, format!("error: {other}")),
    }
}

/// Does what was asked and returns what to print.
pub async fn run(engine: &Engine, id: EventId, asked: &Asked, by: &str) -> Result<String, Failure> {
    let mut lines = Vec::new();
    if engine
        .store()
        .event(id)
        .await
        .map_err(|e| (1, format!("error: {e}")))?
        .is_none()
    {
        return Err((2, format!("error: no event {id}")));
    }
    if asked.write {
        let w = engine
            .write_drafts(id, by)
            .await
            .map_err(|e| failure(id, e))?;
        lines.push(if w.changed {
            format!("message_drafts revision {} written", w.revision)
        } else {
            format!(
                "message_drafts revision {}: the plan calls for no new words",
                w.revision
            )
        });
    }
    if let Some((draft, revision)) = &asked.approve {
        let a = engine
            .approve_draft(id, draft, *revision, by)
            .await
            .map_err(|e| failure(id, e))?;
        lines.push(format!(
            "draft {draft} approved by {by} (message_drafts revision {}): {}",
            a.revision,
            match &a.draft.address {
                Some(to) if a.queued => format!("queued for e-mail to {to}"),
                _ => "it names no e-mail address: send it by hand".to_owned(),
            }
        ));
    }
    let current = engine
        .store()
        .current_of(id, ArtifactType::MessageDrafts)
        .await
        .map_err(|e| (1, format!("error: {e}")))?;
    let Some(current) = current else {
        lines.push(format!(
            "no drafts yet: write them with `eods drafts {id} --write`"
        ));
        return Ok(lines.join("\n"));
    };
    let drafts: MessageDrafts = serde_json::from_value(current.payload.clone())
        .map_err(|e| (1, format!("error: stored message_drafts: {e}")))?;
    if asked.json {
        // Only the JSON on stdout, so it can be piped.
        return Ok(
            json!({"revision": current.revision, "drafts": current.payload["drafts"]}).to_string(),
        );
    }
    lines.push(format!(
        "{} draft(s), message_drafts revision {} (approve with --approve DRAFT --revision {}):",
        drafts.drafts.len(),
        current.revision,
        current.revision
    ));
    for d in &drafts.drafts {
        let status = match d.status {
            DraftStatus::Approved => format!(
                "approved by {}",
                d.approved_by.as_deref().unwrap_or_default()
            ),
            DraftStatus::Draft => "draft, not sent".to_owned(),
        };
        lines.push(String::new());
        lines.push(format!(
            "{}  {} to {}{}  [{status}; {}; written by {}]",
            d.id,
            d.kind.as_str(),
            d.to,
            d.address
                .as_deref()
                .map_or_else(String::new, |a| format!(" <{a}>")),
            d.language,
            d.written_by
        ));
        if let Some(n) = &d.note {
            lines.push(format!("  note: {n}"));
        }
        lines.push(format!("  Subject: {}", d.subject));
        for l in d.body.lines() {
            lines.push(if l.is_empty() {
                String::new()
            } else {
                format!("    {l}")
            });
        }
    }
    Ok(lines.join("\n"))
}
