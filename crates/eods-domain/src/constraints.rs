//! The constraint recogniser: turns the common English forms of a brief's free text
//! (`constraints`, `objectives`, `location.preferences`) into structured constraints, or says
//! that a text was not understood and which structured brief field to use instead.
//!
//! Deterministic and pure: no I/O, no clock, no model. The recogniser reads a text clause by
//! clause (split at `,` `;` `: ` and new lines); time windows are read from the words around
//! each time it finds, venue needs, diets, meals and budget hardness from fixed phrases.
//!
//! How a reading counts:
//! - `constraints` are hard: what is understood is honoured by the agents, and a constraint
//!   of which nothing is understood (or a clause of it that gives a time nothing understood)
//!   is reported as not understood, with a hint.
//! - `location.preferences` are read the same way and reported the same way; the Venue
//!   Researcher treats the needs they state as preferences, not as exclusions.
//! - `objectives` are goals, not constraints: what the recogniser finds in them is recorded,
//!   but an objective is never reported as not understood.

use crate::catalog::brief::{EventBrief, Flexibility};
use chrono::NaiveTime;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Something a venue must offer (or be), as understood from a text.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum VenueNeed {
    Wifi,
    Projector,
    SoundSystem,
    StepFree,
    AccessibleToilets,
    Lift,
    HearingLoop,
    QuietRoom,
    Parking,
    AccessibleParking,
    BreakoutRooms,
    Streaming,
    Recording,
    Stage,
    Cloakroom,
    CateringKitchen,
    OutdoorSpace,
    GreenRoom,
    /// Within [`VenueNeed::NEAR_TRANSIT_MINUTES`] of public transport.
    NearTransit,
    CityCentre,
    /// Backup power: a generator or an uninterruptible supply. No venue in the catalog lists
    /// it, so it is always rented.
    BackupPower,
    /// Booths for simultaneous interpretation. Always rented.
    InterpretationBooths,
}

/// Where a venue need is looked up in the venue catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CatalogField {
    /// `amenities[]` holds this name.
    Amenity(&'static str),
    /// `accessibility[]` holds this name.
    Accessibility(&'static str),
    /// `transit_minutes` is at most [`VenueNeed::NEAR_TRANSIT_MINUTES`].
    TransitMinutes,
    /// `city_centre` is true.
    CityCentre,
    /// No venue lists it: it can only be rented.
    RentalOnly,
}

impl VenueNeed {
    /// A venue is near public transport when it is at most this many minutes from a stop.
    pub const NEAR_TRANSIT_MINUTES: u32 = 10;

    /// Where the venue catalog records this need.
    pub fn catalog_field(self) -> CatalogField {
        use CatalogField::{Accessibility as Acc, Amenity as Am};
        match self {
            VenueNeed::Wifi => Am("wifi"),
            VenueNeed::Projector => Am("projector"),
            VenueNeed::SoundSystem => Am("sound_system"),
            VenueNeed::BreakoutRooms => Am("breakout_rooms"),
            VenueNeed::Streaming => Am("streaming"),
            VenueNeed::Recording => Am("recording"),
            VenueNeed::Stage => Am("stage"),
            VenueNeed::Cloakroom => Am("cloakroom"),
            VenueNeed::CateringKitchen => Am("catering_kitchen"),
            VenueNeed::OutdoorSpace => Am("outdoor_space"),
            VenueNeed::GreenRoom => Am("green_room"),
            VenueNeed::Parking => Am("parking"),
            VenueNeed::StepFree => Acc("step_free_access"),
            VenueNeed::AccessibleToilets => Acc("accessible_toilets"),
            VenueNeed::Lift => Acc("lift"),
            VenueNeed::HearingLoop => Acc("hearing_loop"),
            VenueNeed::QuietRoom => Acc("quiet_room"),
            VenueNeed::AccessibleParking => Acc("accessible_parking"),
            VenueNeed::NearTransit => CatalogField::TransitMinutes,
            VenueNeed::CityCentre => CatalogField::CityCentre,
            VenueNeed::BackupPower | VenueNeed::InterpretationBooths => CatalogField::RentalOnly,
        }
    }

    /// The rate-card item code that rents this need from an AV supplier, when it can be rented.
    pub fn rental_code(self) -> Option<&'static str> {
        match self {
            VenueNeed::Projector => Some("projector_rental"),
            VenueNeed::BackupPower => Some("generator"),
            VenueNeed::InterpretationBooths => Some("interpretation_booth"),
            _ => None,
        }
    }

    /// Plain words for messages ("step-free access").
    pub fn label(self) -> &'static str {
        match self {
            VenueNeed::Wifi => "wifi",
            VenueNeed::Projector => "a projector",
            VenueNeed::SoundSystem => "a sound system",
            VenueNeed::StepFree => "step-free access",
            VenueNeed::AccessibleToilets => "accessible toilets",
            VenueNeed::Lift => "a lift",
            VenueNeed::HearingLoop => "a hearing loop",
            VenueNeed::QuietRoom => "a quiet room",
            VenueNeed::Parking => "parking",
            VenueNeed::AccessibleParking => "accessible parking",
            VenueNeed::BreakoutRooms => "breakout rooms",
            VenueNeed::Streaming => "streaming",
            VenueNeed::Recording => "recording",
            VenueNeed::Stage => "a stage",
            VenueNeed::Cloakroom => "a cloakroom",
            VenueNeed::CateringKitchen => "a catering kitchen",
            VenueNeed::OutdoorSpace => "outdoor space",
            VenueNeed::GreenRoom => "a green room",
            VenueNeed::NearTransit => "public transport within 10 minutes",
            VenueNeed::CityCentre => "a city-centre location",
            VenueNeed::BackupPower => "backup power (generator)",
            VenueNeed::InterpretationBooths => "interpretation booths",
        }
    }
}

/// A dietary requirement for the catering.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Diet {
    Vegan,
    Vegetarian,
    Halal,
    Kosher,
    GlutenFree,
    NoAlcohol,
}

impl Diet {
    /// Plain words ("gluten-free").
    pub fn label(self) -> &'static str {
        match self {
            Diet::Vegan => "vegan",
            Diet::Vegetarian => "vegetarian",
            Diet::Halal => "halal",
            Diet::Kosher => "kosher",
            Diet::GlutenFree => "gluten-free",
            Diet::NoAlcohol => "no alcohol",
        }
    }
}

/// One catered meal of each event day.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Meal {
    Breakfast,
    Lunch,
    CoffeeBreak,
    Dinner,
    Reception,
}

impl Meal {
    /// The rate-card item code for this meal.
    pub fn rate_code(self) -> &'static str {
        match self {
            Meal::Breakfast => "breakfast",
            Meal::Lunch => "lunch",
            Meal::CoffeeBreak => "coffee_break",
            Meal::Dinner => "dinner",
            Meal::Reception => "reception",
        }
    }

    /// Plain words.
    pub fn label(self) -> &'static str {
        match self {
            Meal::Breakfast => "breakfast",
            Meal::Lunch => "lunch",
            Meal::CoffeeBreak => "coffee break",
            Meal::Dinner => "dinner",
            Meal::Reception => "reception",
        }
    }
}

/// One thing a text was understood to require.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Understood {
    /// Sessions only between `start` and `end` each day.
    SessionWindow { start: NaiveTime, end: NaiveTime },
    /// No session starts before this time.
    NotBefore(NaiveTime),
    /// No session ends after this time.
    NotAfter(NaiveTime),
    /// Doors open at this time.
    Doors(NaiveTime),
    /// A break with no sessions (`lunch`, `coffee break`, `break`).
    Break {
        label: String,
        start: NaiveTime,
        end: NaiveTime,
    },
    /// A named session at a fixed time (`what` in lower case: `keynote`, `panel`, …).
    FixedSession { what: String, at: NaiveTime },
    /// The venue must offer this.
    Venue(VenueNeed),
    /// The catering must follow this diet.
    Catering(Diet),
    /// These meals are catered each day, in this order; a meal may repeat (two coffee breaks).
    Meals(Vec<Meal>),
    /// The budget total may not be exceeded.
    BudgetFixed,
}

impl Understood {
    /// Plain words for what was understood: "sessions only between 19:00 and 21:00".
    pub fn describe(&self) -> String {
        let t = |t: &NaiveTime| t.format("%H:%M").to_string();
        match self {
            Understood::SessionWindow { start, end } => {
                format!("sessions only between {} and {}", t(start), t(end))
            }
            Understood::NotBefore(at) => format!("no session before {}", t(at)),
            Understood::NotAfter(at) => format!("no session after {}", t(at)),
            Understood::Doors(at) => format!("doors open at {}", t(at)),
            Understood::Break { label, start, end } => {
                format!("{label} {}–{}, no sessions", t(start), t(end))
            }
            Understood::FixedSession { what, at } => format!("{what} at {}", t(at)),
            Understood::Venue(need) => format!("venue must have {}", need.label()),
            Understood::Catering(diet) => format!("catering: {}", diet.label()),
            Understood::Meals(meals) => format!(
                "catered each day: {}",
                meals
                    .iter()
                    .map(|m| m.label())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Understood::BudgetFixed => "budget is fixed: the total may not be exceeded".into(),
        }
    }
}

/// Which brief field a text came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TextSource {
    Constraint,
    Objective,
    Preference,
}

/// What the recogniser made of one brief text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Reading {
    /// JSON pointer of the text in the brief (`/constraints/0`).
    pub pointer: String,
    pub source: TextSource,
    pub text: String,
    pub understood: Vec<Understood>,
    /// Set when the text (or a clause of it that gives a time) was not understood: says
    /// which structured brief field to use instead.
    pub not_understood: Option<String>,
}

/// Reads every constraint, objective and location preference of the brief, in that order.
/// Objectives are never reported as not understood (they are goals, not constraints).
pub fn read_brief(b: &EventBrief) -> Vec<Reading> {
    let mut out = Vec::new();
    let mut read = |pointer: String, source: TextSource, text: &String| {
        let (understood, not_understood) = read_text(text);
        out.push(Reading {
            pointer,
            source,
            text: text.clone(),
            understood,
            not_understood: if source == TextSource::Objective {
                None
            } else {
                not_understood
            },
        });
    };
    for (i, c) in b.constraints.iter().enumerate() {
        read(format!("/constraints/{i}"), TextSource::Constraint, c);
    }
    for (i, o) in b.objectives.iter().enumerate() {
        read(format!("/objectives/{i}"), TextSource::Objective, o);
    }
    for (i, p) in b.location.preferences.iter().enumerate() {
        read(
            format!("/location/preferences/{i}"),
            TextSource::Preference,
            p,
        );
    }
    out
}

/// Whether the budget total may not be exceeded: the brief's `budget.flexibility` is `fixed`,
/// or a constraint says so ("cannot go over", "hard cap").
pub fn budget_is_fixed(b: &EventBrief) -> bool {
    b.budget.flexibility == Flexibility::Fixed
        || read_brief(b).iter().any(|r| {
            r.source == TextSource::Constraint && r.understood.contains(&Understood::BudgetFixed)
        })
}

/// Every venue need the brief's constraints state (hard needs), in first-mention order, each
/// with the pointer of the first text that states it.
pub fn required_venue_needs(b: &EventBrief) -> Vec<(VenueNeed, String)> {
    needs_from(b, TextSource::Constraint)
}

/// Venue needs stated only as location preferences or objectives (soft).
pub fn preferred_venue_needs(b: &EventBrief) -> Vec<(VenueNeed, String)> {
    let hard = required_venue_needs(b);
    let mut soft = needs_from(b, TextSource::Preference);
    soft.extend(needs_from(b, TextSource::Objective));
    let mut out: Vec<(VenueNeed, String)> = Vec::new();
    for (n, p) in soft {
        if !hard.iter().any(|(h, _)| *h == n) && !out.iter().any(|(o, _)| *o == n) {
            out.push((n, p));
        }
    }
    out
}

fn needs_from(b: &EventBrief, source: TextSource) -> Vec<(VenueNeed, String)> {
    let mut out: Vec<(VenueNeed, String)> = Vec::new();
    for r in read_brief(b).into_iter().filter(|r| r.source == source) {
        for u in &r.understood {
            if let Understood::Venue(need) = u
                && !out.iter().any(|(n, _)| n == need)
            {
                out.push((*need, r.pointer.clone()));
            }
        }
    }
    out
}

/// The diets the brief's constraints, objectives and preferences ask for, without repeats.
pub fn diets(b: &EventBrief) -> Vec<Diet> {
    let mut out = Vec::new();
    for r in read_brief(b) {
        for u in r.understood {
            if let Understood::Catering(diet) = u
                && !out.contains(&diet)
            {
                out.push(diet);
            }
        }
    }
    out
}

/// The meals the brief's constraints ask for each day, if any constraint states them.
pub fn meals(b: &EventBrief) -> Option<Vec<Meal>> {
    read_brief(b)
        .into_iter()
        .filter(|r| r.source == TextSource::Constraint)
        .flat_map(|r| r.understood)
        .find_map(|u| match u {
            Understood::Meals(meals) => Some(meals),
            _ => None,
        })
}

const HINT_HOURS: &str = "use `hours.start`/`hours.end` for daily program hours, or write a window such as \"sessions between 19:00 and 21:00\", \"not before 10:00\", \"doors 18:30\" or \"lunch 12:00-13:00\"";
const HINT_BREAK_RANGE: &str = "give the break as a range, such as \"lunch 12:30-13:30\"";

/// Reads one text: everything it was understood to require, and a hint when it (or a clause of
/// it that gives a time) was not understood.
pub fn read_text(text: &str) -> (Vec<Understood>, Option<String>) {
    let lower = normalise(text);
    let mut out: Vec<Understood> = Vec::new();
    let mut time_clause_missed = false;
    let mut break_single = false;
    for clause in clauses(&lower) {
        let times = scan_times(clause);
        let mut matched = false;
        let mut i = 0;
        let mut prev_end = 0;
        while i < times.len() {
            let t = times[i];
            let context = &clause[prev_end..t.start];
            if let Some(next) = times.get(i + 1)
                && is_range_joiner(&clause[t.end..next.start])
            {
                let end = next.time;
                if let Some(label) = break_label(context) {
                    push(
                        &mut out,
                        Understood::Break {
                            label,
                            start: t.time,
                            end,
                        },
                    );
                } else {
                    push(&mut out, Understood::SessionWindow { start: t.time, end });
                }
                matched = true;
                prev_end = next.end;
                i += 2;
                continue;
            }
            match single_time(context, t.time) {
                Some(u) => {
                    push(&mut out, u);
                    matched = true;
                }
                None => {
                    if break_label(context).is_some() {
                        break_single = true;
                    }
                }
            }
            prev_end = t.end;
            i += 1;
        }
        if !times.is_empty() && !matched {
            time_clause_missed = true;
        }
    }
    for u in phrases(&lower) {
        push(&mut out, u);
    }
    let hint = if break_single {
        Some(HINT_BREAK_RANGE.to_owned())
    } else if time_clause_missed {
        Some(HINT_HOURS.to_owned())
    } else if let Some(h) = unsupported(&lower) {
        Some(h.to_owned())
    } else if out.is_empty() {
        Some(fallback_hint(&lower).to_owned())
    } else {
        None
    };
    (out, hint)
}

fn push(out: &mut Vec<Understood>, u: Understood) {
    if !out.contains(&u) {
        out.push(u);
    }
}

/// Lower case, with typographic dashes and apostrophes made plain.
fn normalise(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '–' | '—' | '‒' | '−' => '-',
            '’' | '‘' => '\'',
            c => c,
        })
        .collect::<String>()
        .to_lowercase()
}

/// Clauses: split at `,`, `;`, a colon followed by a space, and new lines.
fn clauses(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let bytes = s.as_bytes();
    for (i, c) in s.char_indices() {
        let split = match c {
            ',' | ';' | '\n' => true,
            ':' => bytes.get(i + 1).is_none_or(|b| *b == b' '),
            _ => false,
        };
        if split {
            out.push(&s[start..i]);
            start = i + 1;
        }
    }
    out.push(&s[start..]);
    out
}

#[derive(Debug, Clone, Copy)]
struct TimeAt {
    start: usize,
    end: usize,
    time: NaiveTime,
}

/// Every time of day in `s`: `19:00`, `19.00`, `19h`, `19h30`, `7pm`, `7:30 pm`, `7 p.m.`,
/// `noon`. A bare number before a range joiner takes the am/pm of the time after it
/// (`7-9pm`).
fn scan_times(s: &str) -> Vec<TimeAt> {
    let b = s.as_bytes();
    let mut out: Vec<TimeAt> = Vec::new();
    // Bare hours (1–12) that may take the suffix of the next time: (start, end, hour).
    let mut bare: Vec<(usize, usize, u32)> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if word_at(s, i, "noon") {
            if let Some(t) = NaiveTime::from_hms_opt(12, 0, 0) {
                out.push(TimeAt {
                    start: i,
                    end: i + 4,
                    time: t,
                });
            }
            i += 4;
            continue;
        }
        if !b[i].is_ascii_digit() || (i > 0 && (b[i - 1].is_ascii_alphanumeric())) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        // A number glued to a decimal point, a slash or a date's dash is not a time; a dash
        // right after a time is a range joiner (`18:00-20:30`).
        if start > 0 {
            let glued = match b[start - 1] {
                b'.' | b'/' | b'+' => true,
                b'-' => {
                    start >= 2
                        && b[start - 2].is_ascii_digit()
                        && last_end(&out, &bare) != Some(start - 1)
                }
                _ => false,
            };
            if glued {
                continue;
            }
        }
        let Ok(hour) = s[start..i].parse::<u32>() else {
            continue;
        };
        let digits = i - start;
        let mut minute = 0;
        let mut end = i;
        let mut explicit = false;
        // `:MM`, `.MM` or `hMM` / `h`.
        if i < b.len()
            && (b[i] == b':' || b[i] == b'.')
            && b.get(i + 1).is_some_and(u8::is_ascii_digit)
            && b.get(i + 2).is_some_and(u8::is_ascii_digit)
            && !b.get(i + 3).is_some_and(u8::is_ascii_digit)
        {
            minute = s[i + 1..i + 3].parse().unwrap_or(99);
            end = i + 3;
            explicit = true;
        } else if i < b.len() && b[i] == b'h' {
            if b.get(i + 1).is_some_and(u8::is_ascii_digit)
                && b.get(i + 2).is_some_and(u8::is_ascii_digit)
                && !b.get(i + 3).is_some_and(u8::is_ascii_alphanumeric)
            {
                minute = s[i + 1..i + 3].parse().unwrap_or(99);
                end = i + 3;
                explicit = true;
            } else if !b.get(i + 1).is_some_and(u8::is_ascii_alphanumeric) {
                end = i + 1;
                explicit = true;
            }
        }
        if digits > 2 {
            i = end.max(i);
            continue;
        }
        // am / pm, with an optional space and optional dots.
        let (suffix, after) = ampm(s, end);
        let hour = match suffix {
            Some(pm) => {
                if !(1..=12).contains(&hour) {
                    i = after;
                    continue;
                }
                end = after;
                explicit = true;
                match (pm, hour) {
                    (false, 12) => 0,
                    (false, h) => h,
                    (true, 12) => 12,
                    (true, h) => h + 12,
                }
            }
            None => hour,
        };
        if !explicit {
            if (1..=12).contains(&hour) {
                bare.push((start, end, hour));
            }
            i = end;
            continue;
        }
        if let Some(t) = NaiveTime::from_hms_opt(hour, minute, 0) {
            out.push(TimeAt {
                start,
                end,
                time: t,
            });
        }
        i = end.max(start + 1);
    }
    // `7-9pm`: a bare hour joined by a range joiner to a pm/am time takes its half of the day.
    for (start, end, hour) in bare {
        if let Some(next) = out.iter().find(|t| t.start > end)
            && is_range_joiner(&s[end..next.start])
            && let Some(h) = inherit_half(hour, &s[next.start..next.end], next.time)
            && let Some(t) = NaiveTime::from_hms_opt(h, 0, 0)
        {
            out.push(TimeAt {
                start,
                end,
                time: t,
            });
        }
    }
    out.sort_by_key(|t| t.start);
    out
}

fn last_end(out: &[TimeAt], bare: &[(usize, usize, u32)]) -> Option<usize> {
    out.iter()
        .map(|t| t.end)
        .chain(bare.iter().map(|b| b.1))
        .max()
}

/// The hour of a bare number before a suffixed time (`7` before `9pm` is 19:00).
fn inherit_half(hour: u32, next_text: &str, next: NaiveTime) -> Option<u32> {
    use chrono::Timelike;
    let has_suffix = next_text.contains('m');
    if !has_suffix {
        return None;
    }
    let pm = next.hour() >= 12;
    let h = match (pm, hour) {
        (false, 12) => 0,
        (false, h) => h,
        (true, 12) => 12,
        (true, h) => h + 12,
    };
    // A morning start before an afternoon end (`10-2pm`) is read as written: 10:00.
    if pm && h > next.hour() && hour < 12 {
        Some(hour)
    } else {
        Some(h)
    }
}

/// Reads `am`/`pm` (also `a.m.`, `p.m.`, with one optional space) at `i`: (Some(is_pm), end).
fn ampm(s: &str, i: usize) -> (Option<bool>, usize) {
    let rest = &s[i..];
    let (skip, rest) = match rest.strip_prefix(' ') {
        Some(r) => (1, r),
        None => (0, rest),
    };
    for (form, pm) in [("a.m.", false), ("p.m.", true), ("am", false), ("pm", true)] {
        if let Some(after) = rest.strip_prefix(form)
            && !after.chars().next().is_some_and(char::is_alphanumeric)
        {
            return (Some(pm), i + skip + form.len());
        }
    }
    (None, i)
}

fn is_range_joiner(between: &str) -> bool {
    let t = between.trim();
    matches!(
        t,
        "-" | "to" | "until" | "till" | "til" | "and" | "through" | "-to" | "- to"
    )
}

/// `word` at byte `i` of `s`, with word boundaries on both sides.
fn word_at(s: &str, i: usize, word: &str) -> bool {
    let b = s.as_bytes();
    s.get(i..).is_some_and(|r| r.starts_with(word))
        && (i == 0 || !b[i - 1].is_ascii_alphanumeric())
        && !b.get(i + word.len()).is_some_and(u8::is_ascii_alphanumeric)
}

/// Whether `phrase` occurs in `s` as whole words.
fn has(s: &str, phrase: &str) -> bool {
    s.match_indices(phrase).any(|(i, _)| word_at(s, i, phrase))
}

fn has_any(s: &str, phrases: &[&str]) -> bool {
    phrases.iter().any(|p| has(s, p))
}

/// The label of a break named in `context`, if it names one.
fn break_label(context: &str) -> Option<String> {
    if has(context, "lunch") {
        Some("lunch".into())
    } else if has_any(context, &["coffee", "coffee break", "tea break"]) {
        Some("coffee break".into())
    } else if has(context, "dinner") {
        Some("dinner".into())
    } else if has_any(context, &["break", "pause", "recess"]) {
        Some("break".into())
    } else {
        None
    }
}

/// Session names that a time after `at` fixes in the program.
const FIXED_SESSIONS: &[&str] = &[
    "keynote",
    "panel",
    "plenary",
    "welcome",
    "opening session",
    "closing session",
    "awards",
    "fireside chat",
    "lightning talks",
    "demo",
];

/// What a single time means, read from the words before it in its clause.
fn single_time(context: &str, t: NaiveTime) -> Option<Understood> {
    if has(context, "doors") {
        return Some(Understood::Doors(t));
    }
    if break_label(context).is_some() {
        return None;
    }
    let negated = has_any(context, &["no", "not", "nothing", "none"]);
    if has(context, "after") && negated || has_any(context, &["no later than", "latest"]) {
        return Some(Understood::NotAfter(t));
    }
    if has(context, "before") && negated || has_any(context, &["no earlier than", "earliest"]) {
        return Some(Understood::NotBefore(t));
    }
    let at_end = {
        let c = context.trim_end();
        c.ends_with(" at") || c == "at" || c.ends_with('@')
    };
    if at_end && let Some(what) = FIXED_SESSIONS.iter().find(|w| has(context, w)) {
        return Some(Understood::FixedSession {
            what: (*what).to_owned(),
            at: t,
        });
    }
    if has_any(
        context,
        &[
            "by", "before", "until", "till", "end", "ends", "ending", "finish", "finishes",
            "finished", "close", "closes", "closing", "wrap up", "done", "over by", "curfew",
        ],
    ) {
        return Some(Understood::NotAfter(t));
    }
    if has_any(
        context,
        &[
            "after",
            "from",
            "open",
            "opens",
            "opening",
            "start",
            "starts",
            "starting",
            "begin",
            "begins",
            "beginning",
            "kick off",
            "kicks off",
        ],
    ) {
        return Some(Understood::NotBefore(t));
    }
    None
}

/// Venue needs, diets, meals and budget hardness, from fixed phrases anywhere in the text.
fn phrases(s: &str) -> Vec<Understood> {
    use VenueNeed as V;
    let mut out = Vec::new();
    let venue: &[(&[&str], VenueNeed)] = &[
        (
            &["wifi", "wi-fi", "wireless internet", "internet access"],
            V::Wifi,
        ),
        (
            &["projector", "projectors", "beamer", "projection"],
            V::Projector,
        ),
        (
            &[
                "sound system",
                "pa system",
                "pa",
                "microphones",
                "microphone",
            ],
            V::SoundSystem,
        ),
        (
            &[
                "step-free",
                "step free",
                "wheelchair",
                "wheelchairs",
                "barrier-free",
                "barrier free",
                "level access",
                "no stairs",
            ],
            V::StepFree,
        ),
        (
            &[
                "accessible toilet",
                "accessible toilets",
                "accessible restroom",
                "accessible restrooms",
                "accessible bathroom",
                "accessible bathrooms",
            ],
            V::AccessibleToilets,
        ),
        (&["lift", "lifts", "elevator", "elevators"], V::Lift),
        (
            &[
                "hearing loop",
                "hearing loops",
                "induction loop",
                "induction loops",
            ],
            V::HearingLoop,
        ),
        (&["quiet room", "quiet rooms", "quiet space"], V::QuietRoom),
        (
            &[
                "accessible parking",
                "disabled parking",
                "blue badge parking",
            ],
            V::AccessibleParking,
        ),
        (
            &[
                "breakout room",
                "breakout rooms",
                "break-out room",
                "break-out rooms",
            ],
            V::BreakoutRooms,
        ),
        (
            &[
                "live-stream",
                "live stream",
                "livestream",
                "live-streamed",
                "streaming",
                "streamed",
            ],
            V::Streaming,
        ),
        (
            &["record", "recorded", "recording", "recordings"],
            V::Recording,
        ),
        (&["stage"], V::Stage),
        (&["cloakroom", "coat check", "cloak room"], V::Cloakroom),
        (&["catering kitchen", "kitchen"], V::CateringKitchen),
        (
            &["outdoor space", "outdoor area", "garden", "terrace"],
            V::OutdoorSpace,
        ),
        (&["green room"], V::GreenRoom),
        (
            &[
                "public transport",
                "public transit",
                "transit",
                "metro",
                "u-bahn",
                "s-bahn",
                "tube",
                "subway",
                "train station",
                "tram",
            ],
            V::NearTransit,
        ),
        (
            &[
                "city centre",
                "city center",
                "downtown",
                "centrally located",
            ],
            V::CityCentre,
        ),
        (
            &[
                "generator",
                "generators",
                "backup power",
                "back-up power",
                "backup generator",
                "power backup",
                "ups power",
                "uninterruptible power",
            ],
            V::BackupPower,
        ),
        (
            &[
                "interpretation booth",
                "interpretation booths",
                "interpreting booths",
                "interpreter booths",
                "simultaneous interpretation",
                "simultaneous translation",
                "translation booths",
            ],
            V::InterpretationBooths,
        ),
    ];
    for (words, need) in venue {
        let found = words.iter().any(|w| has(s, w));
        if !found {
            continue;
        }
        // "not recorded", "no streaming": a need stated as its absence is not a need.
        let denied = words
            .iter()
            .any(|w| has(s, &format!("not {w}")) || has(s, &format!("no {w}")))
            && *need != V::StepFree;
        if !denied {
            out.push(Understood::Venue(*need));
        }
    }
    if has(s, "parking")
        && !has_any(
            s,
            &[
                "accessible parking",
                "disabled parking",
                "blue badge parking",
                "no parking",
            ],
        )
    {
        out.push(Understood::Venue(V::Parking));
    }
    let diets: &[(&[&str], Diet)] = &[
        (&["vegan"], Diet::Vegan),
        (&["vegetarian", "veggie"], Diet::Vegetarian),
        (&["halal"], Diet::Halal),
        (&["kosher"], Diet::Kosher),
        (
            &["gluten-free", "gluten free", "coeliac", "celiac"],
            Diet::GlutenFree,
        ),
        (
            &[
                "no alcohol",
                "alcohol-free",
                "alcohol free",
                "non-alcoholic",
                "without alcohol",
                "dry event",
            ],
            Diet::NoAlcohol,
        ),
    ];
    for (words, diet) in diets {
        if words.iter().any(|w| has(s, w)) {
            out.push(Understood::Catering(*diet));
        }
    }
    if let Some(meals) = meal_list(s) {
        out.push(Understood::Meals(meals));
    }
    if has_any(
        s,
        &[
            "cannot go over",
            "can't go over",
            "can not go over",
            "must not go over",
            "must stay within",
            "stay within",
            "must not exceed",
            "may not exceed",
            "cannot exceed",
            "can't exceed",
            "not to exceed",
            "hard cap",
            "hard limit",
            "no overspend",
            "no overspending",
            "strict budget",
            "fixed budget",
            "budget is fixed",
        ],
    ) {
        out.push(Understood::BudgetFixed);
    }
    out
}

/// "breakfast, lunch and two coffee breaks each day": the meals, in order, when the text names
/// meals without giving their times (a meal with a time is a break).
fn meal_list(s: &str) -> Option<Vec<Meal>> {
    if !scan_times(s).is_empty() {
        return None;
    }
    let mut found: Vec<(usize, Meal, u32)> = Vec::new();
    for (w, m) in [
        ("breakfast", Meal::Breakfast),
        ("lunch", Meal::Lunch),
        ("dinner", Meal::Dinner),
        ("reception", Meal::Reception),
    ] {
        if let Some((i, _)) = s.match_indices(w).find(|(i, _)| word_at(s, *i, w)) {
            found.push((i, m, 1));
        }
    }
    for form in ["coffee breaks", "coffee break"] {
        if let Some((i, _)) = s.match_indices(form).find(|(i, _)| word_at(s, *i, form)) {
            let before = s[..i].trim_end();
            let count = [
                ("one", 1),
                ("a", 1),
                ("two", 2),
                ("2", 2),
                ("three", 3),
                ("3", 3),
                ("four", 4),
                ("4", 4),
            ]
            .iter()
            .find(|(w, _)| before.ends_with(w) && word_at(before, before.len() - w.len(), w))
            .map_or(if form.ends_with('s') { 2 } else { 1 }, |(_, n)| *n);
            found.push((i, Meal::CoffeeBreak, count));
            break;
        }
    }
    // One meal named in passing ("auction after dinner") is not a catering request: a list of
    // meals, or a meal with a catering word, is.
    let catering_word = has_any(
        s,
        &[
            "catering",
            "catered",
            "cater",
            "serve",
            "served",
            "meals",
            "each day",
            "every day",
            "per day",
            "daily",
            "both days",
            "all days",
        ],
    );
    if found.is_empty() || (found.len() < 2 && found.iter().all(|f| f.2 < 2) && !catering_word) {
        return None;
    }
    found.sort_by_key(|f| f.0);
    Some(
        found
            .into_iter()
            .flat_map(|(_, m, n)| std::iter::repeat_n(m, n as usize))
            .collect(),
    )
}

/// Forms EODS does not plan, each with what to do instead; reported even when something
/// else in the same text was understood.
fn unsupported(s: &str) -> Option<&'static str> {
    if has_any(
        s,
        &[
            "multi-venue",
            "multiple venues",
            "two venues",
            "several venues",
            "second venue",
        ],
    ) {
        return Some("multi-venue events are not supported yet: plan one venue per event");
    }
    if has(s, "planning") && has_any(s, &["starts", "start", "begins", "begin"]) {
        return Some("use `planning_start` (the first day planning may start, YYYY-MM-DD)");
    }
    None
}

/// Whether `s` holds a calendar date: `2027-05-20` or `08/04/2027`.
fn has_date(s: &str) -> bool {
    s.split(|c: char| !(c.is_ascii_digit() || c == '-' || c == '/'))
        .any(|w| {
            let parts: Vec<&str> = w.split(['-', '/']).collect();
            parts.len() == 3
                && parts
                    .iter()
                    .all(|p| !p.is_empty() && p.len() <= 4 && p.bytes().all(|b| b.is_ascii_digit()))
        })
}

/// The hint for a text of which nothing was understood, by the words it uses.
fn fallback_hint(s: &str) -> &'static str {
    if let Some(h) = unsupported(s) {
        return h;
    }
    if has_any(
        s,
        &[
            "vendor",
            "vendors",
            "supplier",
            "suppliers",
            "contract",
            "contracts",
        ],
    ) {
        return "vendor terms are not read from free text: every vendor contract names a backup supplier (`vendor_contracts[].backup`); agree other terms in the contract";
    }
    if has_any(
        s,
        &[
            "morning",
            "mornings",
            "afternoon",
            "afternoons",
            "evening",
            "evenings",
            "hours",
            "daytime",
            "night",
            "overnight",
        ],
    ) {
        return HINT_HOURS;
    }
    if has_any(
        s,
        &[
            "budget", "spend", "cost", "costs", "price", "money", "eur", "usd", "gbp",
        ],
    ) {
        return "use `budget.total` and `budget.flexibility` (`fixed` or `variable`), or write \"must stay within the budget\"";
    }
    if has_any(
        s,
        &[
            "seat",
            "seats",
            "seating",
            "people",
            "attendees",
            "capacity",
            "hall",
            "room for",
            "holds",
        ],
    ) {
        return "use `audience_size` (the venue must seat everyone) and `tracks` (one room per track)";
    }
    if has_any(s, &["track", "tracks", "parallel", "room", "rooms"]) {
        return "use `tracks` (one room per parallel track)";
    }
    if has_date(s)
        || has_any(
            s,
            &[
                "date",
                "dates",
                "week",
                "weekend",
                "weekday",
                "weekdays",
                "month",
                "monday",
                "tuesday",
                "wednesday",
                "thursday",
                "friday",
                "saturday",
                "sunday",
            ],
        )
    {
        return "use `date_range.start`/`date_range.end`";
    }
    if has_any(s, &["catering", "food", "meal", "meals", "drinks"]) {
        return "name the diet (vegan, vegetarian, halal, kosher, gluten-free, no alcohol) or the meals (breakfast, lunch, coffee breaks, dinner, reception)";
    }
    "not a form EODS recognises: use a structured brief field (`hours`, `date_range`, `audience_size`, `tracks`, `budget`) or one of the forms listed in the README"
}

#[cfg(test)]
mod tests;
