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
use phrases::{fallback_hint, phrases, unsupported};
use scan::{clauses, has, has_any, is_range_joiner, normalise, scan_times};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
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
    /// Who read the text when the recogniser could not (`model:NAME`): what it understood is
    /// in `understood`, from the brief's [`Interpretation`] of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interpreted_by: Option<String>,
}

/// What someone other than the recogniser (a language model, issue 16) read from a brief text
/// the recogniser did not understand, kept in the brief (`interpretations`) so that every agent
/// and every replay reads it the same way. It applies only while the text at `pointer` is still
/// `text`, and only adds: it never replaces what the recogniser understood, and what it adds
/// goes through the same checks as the rest (a window outside the program hours is refused
/// where any window would be).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Interpretation {
    /// JSON pointer of the text in the brief (`/constraints/2`).
    pub pointer: String,
    /// The text as it was read.
    pub text: String,
    pub understood: Vec<Understood>,
    /// Who read it (`model:smollm2`).
    pub by: String,
}

/// The most an interpretation may add for one text.
pub const MAX_INTERPRETED: usize = 8;

/// Checks what a model proposes for `text` before it is kept: at most [`MAX_INTERPRETED`]
/// items, none repeated, windows and breaks that end after they start, labels and session
/// names of at most 60 characters, a meal list of at most 8. Every problem, in words.
pub fn check_interpretation(understood: &[Understood]) -> Result<(), Vec<String>> {
    let mut problems = Vec::new();
    if understood.is_empty() {
        problems.push("nothing was understood".to_owned());
    }
    if understood.len() > MAX_INTERPRETED {
        problems.push(format!(
            "{} items for one text (at most {MAX_INTERPRETED})",
            understood.len()
        ));
    }
    for (i, u) in understood.iter().enumerate() {
        if understood[..i].contains(u) {
            problems.push(format!("{} is given twice", u.describe()));
        }
        match u {
            Understood::SessionWindow { start, end } | Understood::Break { start, end, .. }
                if end <= start =>
            {
                problems.push(format!("{}: it ends before it starts", u.describe()));
            }
            Understood::Break { label, .. } | Understood::FixedSession { what: label, .. }
                if label.trim().is_empty() || label.chars().count() > 60 =>
            {
                problems.push(format!(
                    "{}: the name must be 1 to 60 characters",
                    u.describe()
                ));
            }
            Understood::Meals(meals) if meals.is_empty() || meals.len() > 8 => {
                problems.push("a meal list must name 1 to 8 meals".to_owned());
            }
            _ => {}
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// Reads every constraint, objective and location preference of the brief, in that order.
/// Objectives are never reported as not understood (they are goals, not constraints).
///
/// A text the recogniser did not understand (or of which it understood nothing) is read from
/// the brief's [`Interpretation`] of it when there is one for the same text and it passes
/// [`check_interpretation`]: what it holds is added and the text counts as understood.
pub fn read_brief(b: &EventBrief) -> Vec<Reading> {
    let mut out = Vec::new();
    let mut read = |pointer: String, source: TextSource, text: &String| {
        let (mut understood, mut not_understood) = read_text(text);
        let mut interpreted_by = None;
        if (not_understood.is_some() || understood.is_empty())
            && let Some(i) = b.interpretations.iter().find(|i| {
                i.pointer == pointer
                    && i.text == *text
                    && check_interpretation(&i.understood).is_ok()
            })
        {
            for u in &i.understood {
                if !understood.contains(u) {
                    understood.push(u.clone());
                }
            }
            not_understood = None;
            interpreted_by = Some(i.by.clone());
        }
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
            interpreted_by,
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

pub(crate) const HINT_HOURS: &str = "use `hours.start`/`hours.end` for daily program hours, or write a window such as \"sessions between 19:00 and 21:00\", \"not before 10:00\", \"doors 18:30\" or \"lunch 12:00-13:00\"";
const HINT_BREAK_RANGE: &str = "give the break as a range, such as \"lunch 12:30-13:30\"";

/// Reads one text: everything it was understood to require, and a hint when it (or a clause of
/// it that gives a time) was not understood.
///
/// Reading is pure, and every step of a run reads the same brief several times (diets, meals,
/// venue needs, hours, the budget cap), so readings are remembered per text, process-wide (at
/// most [`MEMO_TEXTS`] texts; the memo starts over when full).
pub fn read_text(text: &str) -> (Vec<Understood>, Option<String>) {
    type Memo = HashMap<String, (Vec<Understood>, Option<String>)>;
    static MEMO: LazyLock<Mutex<Memo>> = LazyLock::new(Mutex::default);
    let memo = || MEMO.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(hit) = memo().get(text) {
        return hit.clone();
    }
    let read = read_text_uncached(text);
    let mut m = memo();
    if m.len() >= MEMO_TEXTS {
        m.clear();
    }
    m.insert(text.to_owned(), read.clone());
    read
}

/// Texts [`read_text`] remembers.
const MEMO_TEXTS: usize = 4096;

fn read_text_uncached(text: &str) -> (Vec<Understood>, Option<String>) {
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

mod phrases;
mod scan;

#[cfg(test)]
mod tests;
