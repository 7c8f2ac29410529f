//! Where venues and prices come from: venue records with their provenance (the organiser's own
//! lists, OpenStreetMap, the demo catalog), organiser rate-card rows, quotes, and the
//! `organiser_data` artifact that holds what the organiser supplied for one event.
//!
//! A fact nobody supplied is `None`, never a guess: a venue without a known capacity or day rate
//! becomes a request for quote, not a number.

use crate::ids::VenueRef;
use crate::money::Currency;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The attribution every output that uses OpenStreetMap data carries (ODbL 1.0 §4.3).
pub const OSM_ATTRIBUTION: &str =
    "© OpenStreetMap contributors, ODbL 1.0 (openstreetmap.org/copyright)";

/// The label of the bundled sample data in every artifact, report and page that uses it.
pub const DEMO_LABEL: &str = "demo (fictional)";

/// The kind of source a venue or supplier came from, in the order sources are consulted.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// The organiser's list for this event (`eods plan --venues`, the API, the new-event page).
    EventList,
    /// The installation's catalog directory (`--catalog DIR` / `EODS_CATALOG_DIR`).
    InstallationCatalog,
    /// Places imported from an OpenStreetMap extract (`eods venues import-osm`).
    Openstreetmap,
    /// The live Overpass API (OpenStreetMap data queried per city).
    Overpass,
    /// A quote a person entered for this event.
    Quote,
    /// The bundled sample catalog: fictional, for demos and tests.
    Demo,
}

impl SourceKind {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::EventList => "event_list",
            SourceKind::InstallationCatalog => "installation_catalog",
            SourceKind::Openstreetmap => "openstreetmap",
            SourceKind::Overpass => "overpass",
            SourceKind::Quote => "quote",
            SourceKind::Demo => "demo",
        }
    }

    /// Whether data of this kind is OpenStreetMap data (and must carry its attribution).
    pub fn is_osm(self) -> bool {
        matches!(self, SourceKind::Openstreetmap | SourceKind::Overpass)
    }
}

impl fmt::Display for SourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where one record came from, precisely enough to find it again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Provenance {
    pub kind: SourceKind,
    /// What a person reads: `venues.csv (organiser list)`, `OpenStreetMap`, `demo (fictional)`.
    pub label: String,
    /// The file a row came from, when it came from a file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// The 1-based line of that file (CSV: the line the record starts on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// The OpenStreetMap element, `node/123`, `way/456` or `relation/789`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub osm_id: Option<String>,
    /// The licence attribution the data requires ([`OSM_ATTRIBUTION`] for OpenStreetMap).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attribution: Option<String>,
}

impl Provenance {
    /// The bundled demo catalog.
    pub fn demo() -> Provenance {
        Provenance {
            kind: SourceKind::Demo,
            label: DEMO_LABEL.to_owned(),
            file: None,
            line: None,
            osm_id: None,
            attribution: None,
        }
    }

    /// An OpenStreetMap element of `kind` (imported or live).
    pub fn osm(kind: SourceKind, osm_id: String) -> Provenance {
        Provenance {
            kind,
            label: match kind {
                SourceKind::Overpass => "OpenStreetMap (Overpass API)".to_owned(),
                _ => "OpenStreetMap".to_owned(),
            },
            file: None,
            line: None,
            osm_id: Some(osm_id),
            attribution: Some(OSM_ATTRIBUTION.to_owned()),
        }
    }

    /// Row `line` of organiser file `file`.
    pub fn file(kind: SourceKind, file: &str, line: u64) -> Provenance {
        let whose = match kind {
            SourceKind::InstallationCatalog => "installation catalog",
            _ => "organiser list",
        };
        Provenance {
            kind,
            label: format!("{file} ({whose})"),
            file: Some(file.to_owned()),
            line: Some(line),
            osm_id: None,
            attribution: None,
        }
    }

    /// One line: the label, the OSM id and attribution or the file line.
    pub fn cite(&self) -> String {
        let mut s = self.label.clone();
        if let Some(id) = &self.osm_id {
            s.push_str(&format!(" {id}"));
        }
        if let (Some(_), Some(line)) = (&self.file, self.line) {
            s.push_str(&format!(", line {line}"));
        }
        if let Some(a) = &self.attribution {
            s.push_str(&format!("; {a}"));
        }
        s
    }
}

/// A room inside a venue record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RoomRecord {
    pub name: String,
    pub capacity: u32,
    /// `theatre`, `classroom`, `banquet`… when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layout: Option<String>,
}

/// A venue as a source knows it. Facts the source did not give are `None` (numbers) or empty;
/// `amenities`/`accessibility` are `None` when the source says nothing about them (which is not
/// the same as "has none").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct VenueRecord {
    /// Stable within its source: `list-<slug>`, `osm-node-123`, the demo catalog's id.
    pub id: VenueRef,
    pub name: String,
    pub city: String,
    /// ISO 3166 code or name, as the source gave it; empty when unknown.
    #[serde(default)]
    pub country: String,
    /// People the venue holds (largest standing or seated figure the source gives).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<u32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rooms: Vec<RoomRecord>,
    /// Hire of the whole venue for one day, in `currency`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day_rate: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<Currency>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amenities: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accessibility: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub address: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub contact: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub website: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub phone: String,
    /// What kind of place it is (`theatre`, `conference_centre`, the OSM tag), when known.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub place_kind: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unavailable_dates: Vec<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lat: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lon: Option<f64>,
    /// Free notes, including the source's extra columns (`column: value`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    pub provenance: Provenance,
}

impl VenueRecord {
    /// Whether capacity and price are both known (the venue can be scored without a quote).
    pub fn has_facts(&self) -> bool {
        self.capacity.is_some() && self.day_rate.is_some() && self.currency.is_some()
    }

    /// The name folded for matching (`Savoy Theatre` = `savoy theatre`).
    pub fn match_key(&self) -> String {
        fold(&self.name)
    }
}

/// Lower-case, alphanumerics only: the key names are matched on.
pub fn fold(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// One row of an organiser's rate card: `supplier,service,city,country,currency,item,unit,price`
/// plus optional `min_qty`, `contact`, `notes`. Volume tiers are repeated rows with `min_qty`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RateCardRow {
    pub supplier: String,
    /// `catering`, `av`, `staffing`, `materials`, `insurance`, `marketing` or `speakers`.
    pub service: String,
    pub city: String,
    #[serde(default)]
    pub country: String,
    pub currency: Currency,
    /// `lunch`, `technician`, `event_liability`… (unknown items are kept and priced as given).
    pub item: String,
    /// `per_head`, `per_day`, `per_room_day`, `per_hour`, `per_event`, `per_night` or `per_speaker`.
    pub unit: String,
    pub price: Decimal,
    /// From this many units on, every unit costs `price` (a volume tier).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_qty: Option<Decimal>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub contact: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub notes: String,
    pub provenance: Provenance,
}

/// A venue's answer to a request for quote: what it holds and what it costs for this event.
/// `venue` names the lead (its id, such as `osm-node-123`, or its name).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct VenueQuote {
    pub venue: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day_rate: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<Currency>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<NaiveDate>,
    /// The rooms the venue offers (`Main:300;Side:80` in CSV), when the quote gives them: a
    /// program of several tracks needs a room per track.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rooms: Vec<RoomRecord>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub notes: String,
    /// Who entered it (`user:alice`, a file name).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub entered_by: String,
}

/// What the organiser supplied for one event: their venue list, their rate cards and the quotes
/// received. Written by people (on submission, by upload, by entering quotes); read by the Venue
/// Researcher, the Budget Analyst and the Logistics Coordinator.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct OrganiserData {
    #[serde(default)]
    pub venues: Vec<VenueRecord>,
    #[serde(default)]
    pub rate_cards: Vec<RateCardRow>,
    #[serde(default)]
    pub quotes: Vec<VenueQuote>,
}

impl OrganiserData {
    /// Whether nothing was supplied.
    pub fn is_empty(&self) -> bool {
        self.venues.is_empty() && self.rate_cards.is_empty() && self.quotes.is_empty()
    }
}

/// The supplier services of the rate-card vocabulary.
pub const SERVICES: &[&str] = &[
    "catering",
    "av",
    "staffing",
    "materials",
    "insurance",
    "marketing",
    "speakers",
];

/// The pricing units of the rate-card vocabulary.
pub const UNITS: &[&str] = &[
    "per_head",
    "per_day",
    "per_room_day",
    "per_hour",
    "per_event",
    "per_night",
    "per_speaker",
];

/// Items the planners know how to quantify; other items are kept and priced as given.
pub const ITEMS: &[&str] = &[
    "breakfast",
    "lunch",
    "dinner",
    "coffee_break",
    "reception",
    "snacks",
    "room_basic",
    "recording",
    "streaming",
    "technician",
    "event_staff",
    "first_aid",
    "security",
    "badge",
    "signage",
    "swag",
    "event_liability",
];

/// A city name folded for matching: accents of Latin letters dropped, case folded, everything but
/// letters and digits removed (`São Paulo` → `saopaulo`, `Zürich` → `zurich`). Stores keep it as
/// the lookup key of a place, and sources compare cities with it.
pub fn fold_city(s: &str) -> String {
    s.chars()
        .filter_map(|c| {
            let c = match c {
                'á' | 'à' | 'â' | 'ä' | 'ã' | 'å' | 'Á' | 'À' | 'Â' | 'Ä' | 'Ã' | 'Å' => {
                    'a'
                }
                'é' | 'è' | 'ê' | 'ë' | 'É' | 'È' | 'Ê' | 'Ë' => 'e',
                'í' | 'ì' | 'î' | 'ï' | 'Í' | 'Ì' | 'Î' | 'Ï' => 'i',
                'ó' | 'ò' | 'ô' | 'ö' | 'õ' | 'ø' | 'Ó' | 'Ò' | 'Ô' | 'Ö' | 'Õ' | 'Ø' => {
                    'o'
                }
                'ú' | 'ù' | 'û' | 'ü' | 'Ú' | 'Ù' | 'Û' | 'Ü' => 'u',
                'ç' | 'Ç' => 'c',
                'ñ' | 'Ñ' => 'n',
                c => c,
            };
            c.is_alphanumeric().then(|| c.to_ascii_lowercase())
        })
        .collect()
}

/// Venues the engine gathered from the external sources for one Research step (an imported
/// OpenStreetMap extract, the Overpass API), with what each source answered and the escalation
/// when every one failed. Kept in that step's AgentTrace, so `eods replay` answers the step from
/// the record instead of the network.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct GatheredVenues {
    pub records: Vec<VenueRecord>,
    pub attempts: Vec<crate::catalog::venue::SourceAttempt>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalation: Option<String>,
}
