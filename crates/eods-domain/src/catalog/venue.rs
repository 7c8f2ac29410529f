//! Venue Researcher artifacts: criteria, leads, shortlist, scorecard, availability, negotiation.

use crate::ids::{CandidateId, LeadId, VenueRef};
use crate::money::Money;
use chrono::{DateTime, FixedOffset, NaiveDate};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What the venue must offer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct VenueCriteria {
    pub min_capacity: u32,
    pub max_capacity: u32,
    pub location_preferences: Vec<String>,
    pub amenities: Vec<String>,
    pub accessibility: Vec<String>,
    pub layout: String,
    pub rooms_needed: u32,
    pub budget_range: BudgetRange,
}

/// A money range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct BudgetRange {
    pub min: Money,
    pub max: Money,
}

/// One venue found by a source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct VenueLead {
    pub id: LeadId,
    pub venue_ref: VenueRef,
    pub name: String,
    pub contact: String,
    pub notes: String,
    pub source: String,
    /// Where the lead came from (file and line, OSM id and attribution, demo).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provenance: Option<crate::catalog::sources::Provenance>,
    /// People the venue holds, when known (from its source or a quote).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<u32>,
    /// Hire for one day, when known, in the venue's currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day_rate: Option<Money>,
    /// Where capacity and price come from.
    #[serde(default)]
    pub facts: Facts,
    /// What must be asked before the lead can be scored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_for_quote: Option<RequestForQuote>,
    /// The venue's facts as the plan used them (quotes applied), for venues outside the demo
    /// catalog: what Logistics plans the rooms from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<crate::catalog::sources::VenueRecord>,
}

/// Where a lead's capacity and price come from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Facts {
    /// Given by the lead's source.
    #[default]
    Known,
    /// Given by a quote a person entered.
    Quoted,
    /// Estimated from a rate the user supplied (marked `estimate` wherever it is shown).
    Estimate,
    /// Not known: a request for quote is open.
    Unknown,
}

/// A request for quote: the facts a person must get from the venue, who and by when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RequestForQuote {
    /// `capacity`, `day_rate`.
    pub asks: Vec<String>,
    /// The stakeholder who asks (`stakeholder-1`…) or a role.
    pub owner: String,
    pub due: NaiveDate,
    /// How to give the answer (API, event page, `eods quote`).
    pub how: String,
}

/// Venues found, and where they were found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct VenueLeads {
    pub sources: Vec<String>,
    pub leads: Vec<VenueLead>,
    /// Each source consulted, in order, and what it answered.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub consulted: Vec<SourceAttempt>,
    /// Attributions the leads' data requires (OpenStreetMap's ODbL).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributions: Vec<String>,
}

/// One source consulted for leads, and its outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SourceAttempt {
    pub source: String,
    pub kind: crate::catalog::sources::SourceKind,
    /// `ok`, `cached`, `skipped`, `failed`, `circuit_open`.
    pub outcome: String,
    /// Venues the source returned.
    pub found: u32,
    /// Why it failed or was skipped.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

/// A lead that passed the capacity and budget screen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ShortlistCandidate {
    pub id: CandidateId,
    pub lead_id: LeadId,
    pub venue_ref: VenueRef,
    pub name: String,
    pub capacity: u32,
    pub cost_estimate: Money,
    /// Total score from the scorecard (0..1).
    pub score: f64,
    pub within_budget: bool,
    /// The rooms hired when only part of the venue is (a room combination, Advanced); empty
    /// when the whole venue is hired.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rooms: Vec<String>,
    /// The venue's price for exclusive hire of the whole venue over the event days, when a
    /// room combination is quoted instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub whole_venue_price: Option<Money>,
    /// Needs of the brief's constraints the venue lacks, rented from a supplier instead; the
    /// rentals are included in `cost_estimate`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rentals: Vec<String>,
    /// How `cost_estimate` was converted when the venue quotes in another currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversion: Option<crate::money::Conversion>,
    /// The venues (ids) used together as sites when no single venue holds the audience
    /// (Advanced); empty for one venue. Then `capacity` and `cost_estimate` are the sums over the
    /// sites, `venue_ref` is the first (largest) site and `rooms` are the stage rooms, named
    /// `<site>: <room>`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sites: Vec<String>,
}

/// Candidates worth scoring.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct VenueShortlist {
    pub candidates: Vec<ShortlistCandidate>,
}

/// A scoring criterion for venues.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Criterion {
    CapacityFit,
    Cost,
    Location,
    Amenities,
    Accessibility,
    Rooms,
}

/// The scores of one candidate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CandidateScore {
    pub candidate_id: CandidateId,
    /// Criterion → score in 0..1.
    pub scores: BTreeMap<Criterion, f64>,
    /// Σ weight × score.
    pub total: f64,
}

/// Weighted multi-criteria scoring of the shortlist, and the pick.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct VenueScorecard {
    /// Criterion → weight; weights sum to 1.
    pub criteria_weights: BTreeMap<Criterion, f64>,
    pub candidate_scores: Vec<CandidateScore>,
    /// Candidate ids best first.
    pub ranking: Vec<CandidateId>,
    pub selected_candidate_id: CandidateId,
    pub selection_rationale: String,
    /// Candidates an approver rejected; never selected again.
    pub excluded: Vec<CandidateId>,
}

/// State of a provisional booking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum HoldStatus {
    None,
    Requested,
    Held,
    Released,
    Expired,
}

/// A provisional booking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Hold {
    pub status: HoldStatus,
    pub expires_at: Option<DateTime<FixedOffset>>,
}

/// Availability of one candidate on the event dates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AvailabilityEntry {
    pub candidate_id: CandidateId,
    pub dates: Vec<NaiveDate>,
    pub available: bool,
    pub hold: Hold,
    pub constraints: Vec<String>,
}

/// Checked availability and holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct VenueAvailability {
    pub entries: Vec<AvailabilityEntry>,
}

/// State of a negotiation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum NegotiationStatus {
    NotStarted,
    InProgress,
    Agreed,
    Failed,
}

/// Notes on the negotiation with one candidate. Sensitive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct NegotiationEntry {
    pub candidate_id: CandidateId,
    pub terms: String,
    pub target_price: Money,
    pub concessions: Vec<String>,
    pub status: NegotiationStatus,
}

/// Negotiation notes per candidate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct VenueNegotiationNotes {
    pub entries: Vec<NegotiationEntry>,
}
