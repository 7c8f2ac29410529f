//! The organiser's input: the EventBrief, and the closed sets it uses.

use crate::money::Currency;
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt;

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

/// A day, or an instant with its UTC offset, as the organiser wrote it: `2027-05-20` or
/// `2027-05-20T09:00:00-03:00` (`Z` for UTC). A plain date means the whole day in the event's
/// time zone; a date-time also bounds the program on that day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BriefTime {
    Date(NaiveDate),
    DateTime(DateTime<FixedOffset>),
}

impl BriefTime {
    /// What a valid value looks like, for error messages.
    pub const EXPECTED: &'static str = "expected YYYY-MM-DD or an ISO 8601 date-time with offset, such as 2027-05-20 or 2027-05-20T09:00:00-03:00";

    /// Parses a date (`2027-05-20`) or an RFC 3339 / ISO 8601 date-time with an offset or `Z`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let t = s.trim();
        if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
            return Ok(BriefTime::Date(d));
        }
        if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
            return Ok(BriefTime::DateTime(dt));
        }
        // ISO 8601 without seconds (`2027-05-20T09:00-03:00`) is common in hand-written briefs.
        if let Ok(dt) = DateTime::parse_from_str(t, "%Y-%m-%dT%H:%M%:z") {
            return Ok(BriefTime::DateTime(dt));
        }
        if let Some(z) = t.strip_suffix('Z').or_else(|| t.strip_suffix('z'))
            && let Ok(ndt) = NaiveDateTime::parse_from_str(z, "%Y-%m-%dT%H:%M")
        {
            return Ok(BriefTime::DateTime(ndt.and_utc().fixed_offset()));
        }
        let no_offset = NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S").is_ok()
            || NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M").is_ok()
            || NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M").is_ok();
        if no_offset {
            return Err(format!(
                "`{t}` has no UTC offset: add one, such as `{t}-03:00` or `{t}Z`, or give a plain date (YYYY-MM-DD)"
            ));
        }
        Err(format!("`{t}` is not a date: {}", Self::EXPECTED))
    }

    /// The local day in `tz`.
    pub fn day_in(&self, tz: Tz) -> NaiveDate {
        match self {
            BriefTime::Date(d) => *d,
            BriefTime::DateTime(dt) => dt.with_timezone(&tz).date_naive(),
        }
    }

    /// The local time of day in `tz`; `None` for a plain date.
    pub fn time_in(&self, tz: Tz) -> Option<NaiveTime> {
        match self {
            BriefTime::Date(_) => None,
            BriefTime::DateTime(dt) => Some(dt.with_timezone(&tz).time()),
        }
    }
}

impl fmt::Display for BriefTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BriefTime::Date(d) => write!(f, "{}", d.format("%Y-%m-%d")),
            BriefTime::DateTime(dt) => {
                f.write_str(&dt.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
            }
        }
    }
}

impl From<NaiveDate> for BriefTime {
    fn from(d: NaiveDate) -> Self {
        BriefTime::Date(d)
    }
}

impl Serialize for BriefTime {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for BriefTime {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        BriefTime::parse(&s).map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for BriefTime {
    fn schema_name() -> Cow<'static, str> {
        "BriefTime".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "A day (YYYY-MM-DD, the whole day in the event's time zone) or an ISO 8601 date-time with a UTC offset or Z (the program starts or ends then).",
            "anyOf": [{"format": "date"}, {"format": "date-time"}],
            "examples": ["2027-05-20", "2027-05-20T09:00:00-03:00"]
        })
    }
}

/// A time of day in the event's time zone, written `HH:MM` (24-hour clock).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClockTime(pub NaiveTime);

impl ClockTime {
    /// What a valid value looks like, for error messages.
    pub const EXPECTED: &'static str =
        "expected a time of day as HH:MM on the 24-hour clock, such as 09:30 or 19:00";

    /// Parses `HH:MM` or `HH:MM:SS`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let t = s.trim();
        if t.is_empty() {
            return Err(format!("no time given: {}", Self::EXPECTED));
        }
        NaiveTime::parse_from_str(t, "%H:%M")
            .or_else(|_| NaiveTime::parse_from_str(t, "%H:%M:%S"))
            .map(ClockTime)
            .map_err(|_| format!("`{t}` is not a time: {}", Self::EXPECTED))
    }

    /// Hour and minute.
    pub fn hm(h: u32, m: u32) -> Option<Self> {
        NaiveTime::from_hms_opt(h, m, 0).map(ClockTime)
    }
}

impl fmt::Display for ClockTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%H:%M"))
    }
}

impl Serialize for ClockTime {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ClockTime {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        ClockTime::parse(&s).map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for ClockTime {
    fn schema_name() -> Cow<'static, str> {
        "ClockTime".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "A time of day in the event's time zone, HH:MM on the 24-hour clock.",
            "examples": ["09:30", "19:00"]
        })
    }
}

/// First and last day of the event, in the event's time zone. Each end is a plain date (the
/// whole day) or a date-time with offset (the program starts no earlier / ends no later).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DateRange {
    pub start: BriefTime,
    pub end: BriefTime,
}

impl DateRange {
    /// A whole-day range.
    pub fn days_from(start: NaiveDate, end: NaiveDate) -> Self {
        Self {
            start: BriefTime::Date(start),
            end: BriefTime::Date(end),
        }
    }
}

/// A break in the program: no session runs during it (lunch, coffee).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProgramBreak {
    /// What it is for, e.g. `Lunch`.
    #[serde(default = "default_break_label")]
    pub label: String,
    pub start: ClockTime,
    pub end: ClockTime,
}

fn default_break_label() -> String {
    "Break".into()
}

/// The hours of one day that differ from the daily hours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DayHours {
    /// The event day these hours are for.
    pub date: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doors: Option<ClockTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<ClockTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<ClockTime>,
    /// Replaces the daily breaks on this day when given (an empty list: no breaks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breaks: Option<Vec<ProgramBreak>>,
}

/// When the program runs each day, in the event's time zone.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProgramHours {
    /// When doors open; the first session starts no earlier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doors: Option<ClockTime>,
    /// When the first session may start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<ClockTime>,
    /// When the last session must have ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<ClockTime>,
    /// Breaks every day (lunch, coffee); no session runs during one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub breaks: Vec<ProgramBreak>,
    /// Days whose hours differ.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub days: Vec<DayHours>,
}

impl ProgramHours {
    /// Whether nothing is set.
    pub fn is_empty(&self) -> bool {
        self == &ProgramHours::default()
    }
}

/// Where the event should be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Location {
    pub city: String,
    pub country: String,
    /// Free-text preferences (`city centre`, `near public transport`, `step-free`).
    #[serde(default)]
    pub preferences: Vec<String>,
}

/// The money side of the brief.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BriefBudget {
    /// Total budget for the whole event, including any reserve.
    pub total: Decimal,
    pub currency: Currency,
    #[serde(default)]
    pub flexibility: Flexibility,
}

/// A person named in the brief.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BriefStakeholder {
    pub name: String,
    pub role: StakeholderRole,
    #[serde(default)]
    pub contact: String,
}

/// One session or talk the organiser already knows about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
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
    /// A fixed start time (`10:00`), on `day` or else the first day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<ClockTime>,
    /// The day of a fixed start time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day: Option<NaiveDate>,
    /// A plenary session: in the largest room, with nothing in parallel.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub plenary: bool,
}

fn default_session_minutes() -> u32 {
    45
}

fn default_tracks() -> u32 {
    1
}

/// The organiser's brief: what, when, how many, where, how much.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
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
    /// When the program runs each day (doors, first session, last session end, breaks).
    #[serde(default, skip_serializing_if = "ProgramHours::is_empty")]
    pub hours: ProgramHours,
    /// What a language model read from texts the recogniser did not understand (written by
    /// the Event Planner when a model is configured; see [`crate::constraints::Interpretation`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub interpretations: Vec<crate::constraints::Interpretation>,
    /// The language the event's messages are written in (BCP 47: `en`, `de`, `pt-BR`); English
    /// when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

impl EventBrief {
    /// The event's time zone (UTC if the name is not one; intake refuses such briefs).
    pub fn tz(&self) -> Tz {
        self.timezone.parse().unwrap_or(chrono_tz::UTC)
    }

    /// The first event day in the event's time zone.
    pub fn first_day(&self) -> NaiveDate {
        self.date_range.start.day_in(self.tz())
    }

    /// The last event day in the event's time zone.
    pub fn last_day(&self) -> NaiveDate {
        self.date_range.end.day_in(self.tz())
    }

    /// Number of event days (inclusive range; at least 1).
    pub fn days(&self) -> u32 {
        u32::try_from((self.last_day() - self.first_day()).num_days() + 1)
            .unwrap_or(1)
            .max(1)
    }

    /// The event days in order.
    pub fn event_days(&self) -> Vec<NaiveDate> {
        let (first, last) = (self.first_day(), self.last_day());
        first.iter_days().take_while(|d| *d <= last).collect()
    }

    /// When a live event starts and ends, as instants: the date-times of `date_range` where the
    /// brief gives them, else the first day's start and the last day's end (midnight) in the
    /// event's zone. A live run enters Execute at the first and its postmortem follows the second.
    pub fn live_window(&self) -> (DateTime<Utc>, DateTime<Utc>) {
        let tz = self.tz();
        // Local midnight, or the first instant after it when a DST change skips midnight.
        let midnight = |d: NaiveDate| -> DateTime<Utc> {
            let t = d.and_time(NaiveTime::MIN);
            (0..=4)
                .find_map(|h| {
                    tz.from_local_datetime(&(t + chrono::Duration::hours(h)))
                        .earliest()
                })
                .map_or_else(|| t.and_utc(), |x| x.with_timezone(&Utc))
        };
        let start = match &self.date_range.start {
            BriefTime::DateTime(dt) => dt.with_timezone(&Utc),
            BriefTime::Date(d) => midnight(*d),
        };
        let end = match &self.date_range.end {
            BriefTime::DateTime(dt) => dt.with_timezone(&Utc),
            BriefTime::Date(d) => midnight(d.succ_opt().unwrap_or(*d)),
        };
        (start, end.max(start))
    }
}
