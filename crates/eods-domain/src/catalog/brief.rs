//! The organiser's input: the EventBrief, and the closed sets it uses.

use crate::money::Currency;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What kind of event the brief describes.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum EventType {
    Meetup,
    Conference,
    Workshop,
    Gala,
    Festival,
    Other,
}

impl EventType {
    /// Every variant, in declaration order (for messages naming the allowed values).
    pub const ALL: [&'static str; 6] = [
        "meetup",
        "conference",
        "workshop",
        "gala",
        "festival",
        "other",
    ];
}

/// Whether the budget may move.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum Flexibility {
    #[default]
    Fixed,
    Variable,
}

impl Flexibility {
    /// Every variant as written in JSON.
    pub const ALL: [&'static str; 2] = ["fixed", "variable"];
}

/// The part a stakeholder plays; decides their decision rights.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum StakeholderRole {
    Owner,
    Sponsor,
    Finance,
    Approver,
    Speaker,
    Vendor,
    Attendee,
    Volunteer,
    Other,
}

impl StakeholderRole {
    /// Every variant as written in JSON.
    pub const ALL: [&'static str; 9] = [
        "owner",
        "sponsor",
        "finance",
        "approver",
        "speaker",
        "vendor",
        "attendee",
        "volunteer",
        "other",
    ];
}

/// First and last day of the event, inclusive, in the event's time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DateRange {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

impl DateRange {
    /// Number of event days (inclusive range).
    pub fn days(&self) -> u32 {
        u32::try_from((self.end - self.start).num_days() + 1).unwrap_or(1)
    }

    /// The event days in order.
    pub fn iter_days(&self) -> impl Iterator<Item = NaiveDate> + '_ {
        self.start.iter_days().take_while(move |d| *d <= self.end)
    }
}

/// Where the event should be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Location {
    pub city: String,
    pub country: String,
    /// Free-text preferences (`city centre`, `near public transport`, `step-free`).
    #[serde(default)]
    pub preferences: Vec<String>,
}

/// The money side of the brief.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct BriefBudget {
    /// Total budget for the whole event, including any reserve.
    pub total: Decimal,
    pub currency: Currency,
    #[serde(default)]
    pub flexibility: Flexibility,
}

/// A person named in the brief.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct BriefStakeholder {
    pub name: String,
    pub role: StakeholderRole,
    #[serde(default)]
    pub contact: String,
}

/// One session or talk the organiser already knows about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ProgramItem {
    pub title: String,
    /// Track name; sessions without one are spread over the tracks.
    #[serde(default)]
    pub track: Option<String>,
    /// Length in minutes (default 45).
    #[serde(default = "default_session_minutes")]
    pub duration_minutes: u32,
    #[serde(default)]
    pub speakers: Vec<String>,
}

fn default_session_minutes() -> u32 {
    45
}

fn default_tracks() -> u32 {
    1
}

/// The organiser's brief: what, when, how many, where, how much.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct EventBrief {
    pub title: String,
    pub event_type: EventType,
    pub date_range: DateRange,
    /// IANA time zone name, e.g. `Europe/Berlin`.
    pub timezone: String,
    pub audience_size: u32,
    pub location: Location,
    pub budget: BriefBudget,
    /// Number of parallel tracks (default 1).
    #[serde(default = "default_tracks")]
    pub tracks: u32,
    #[serde(default)]
    pub objectives: Vec<String>,
    #[serde(default)]
    pub constraints: Vec<String>,
    #[serde(default)]
    pub stakeholders: Vec<BriefStakeholder>,
    #[serde(default)]
    pub assumptions: Vec<String>,
    #[serde(default)]
    pub program: Vec<ProgramItem>,
    /// First day planning may start; default is a lead time before the event chosen by size.
    #[serde(default)]
    pub planning_start: Option<NaiveDate>,
}
