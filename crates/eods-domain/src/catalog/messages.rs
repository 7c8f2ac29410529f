//! The words people send: drafts of requests for quote and announcements, written for one event
//! in the brief's language, edited and approved one by one by people before anything leaves.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What a draft is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DraftKind {
    /// A request for quote to a venue the plan shortlisted without its facts.
    VenueRfq,
    /// A reminder to a venue whose answer to an approved (sent) request for quote is overdue.
    VenueRfqReminder,
    /// A request for prices to a supplier of one service the rate cards do not price.
    SupplierRfq,
    /// The announcement to one speaker of their sessions.
    SpeakerAnnouncement,
    /// The announcement to the attendees.
    AttendeeAnnouncement,
}

impl DraftKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DraftKind::VenueRfq => "venue_rfq",
            DraftKind::VenueRfqReminder => "venue_rfq_reminder",
            DraftKind::SupplierRfq => "supplier_rfq",
            DraftKind::SpeakerAnnouncement => "speaker_announcement",
            DraftKind::AttendeeAnnouncement => "attendee_announcement",
        }
    }
}

/// Where a draft is in its life: written, then approved by a person (and, with an e-mail
/// address, queued for sending). Only approval changes it; an edit of an approved draft makes it
/// a draft again.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DraftStatus {
    #[default]
    Draft,
    Approved,
}

impl DraftStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DraftStatus::Draft => "draft",
            DraftStatus::Approved => "approved",
        }
    }
}

/// One message to one recipient (a venue, a speaker) or audience (the attendees).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageDraft {
    /// Stable across rewrites: `rfq-<lead id>`, `speaker-<n>`, `attendees`.
    pub id: String,
    pub kind: DraftKind,
    /// Who it is for, as people read it.
    pub to: String,
    /// The recipient's e-mail address when one is known; without one an approved draft is sent
    /// by hand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// BCP 47 language tag of the text (`en`, `de`, `fr`).
    pub language: String,
    pub subject: String,
    pub body: String,
    /// `template`, `model:NAME`, or the person who last edited it (`user:…`).
    pub written_by: String,
    /// A hash of the template text the draft was written from: the same plan gives the same
    /// basis, so writing the drafts again leaves this one (and a model's words for it) alone.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub basis: String,
    /// What the draft was written from (`venue_leads`, `schedule`, `event_brief`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<String>,
    /// Why the draft is not in the brief's language, or what the writer could not fill in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(default)]
    pub status: DraftStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_at: Option<DateTime<Utc>>,
}

/// Every draft of one event.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageDrafts {
    pub drafts: Vec<MessageDraft>,
}

impl MessageDrafts {
    pub fn get(&self, id: &str) -> Option<&MessageDraft> {
        self.drafts.iter().find(|d| d.id == id)
    }
}

/// Whether `tag` reads as a BCP 47 language tag (`en`, `pt-BR`, `zh-Hant`): a primary subtag
/// of 2 or 3 letters, then subtags of 1 to 8 letters or digits.
pub fn language_tag_ok(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let primary_ok = parts
        .next()
        .is_some_and(|p| (2..=3).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphabetic()));
    primary_ok
        && parts.all(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// The primary language of a tag, lower case (`pt-BR` → `pt`).
pub fn primary_language(tag: &str) -> String {
    tag.split('-').next().unwrap_or("").to_ascii_lowercase()
}
