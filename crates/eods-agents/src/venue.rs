//! Venue Researcher: criteria from the brief, leads from the venue catalog, an in-budget and
//! available shortlist, weighted multi-criteria scoring, the selection (skipping candidates an
//! approver rejected), availability with holds, and negotiation notes.

use crate::Tools;
use crate::conflicts::ConflictOption;
use crate::data::{CatalogRoom, CatalogVenue, Service};
use crate::instructions::{BudgetParams, VenueParams};
use crate::{AgentError, Inputs, StepOutput};
use chrono::{NaiveDate, TimeZone};
use eods_domain::artifact::CatalogType;
use eods_domain::catalog::audit::Alternative;
use eods_domain::catalog::brief::{EventBrief, EventType};
use eods_domain::catalog::sources::{OrganiserData, Provenance};
use eods_domain::catalog::venue::{
    AvailabilityEntry, BudgetRange, CandidateScore, Criterion, Hold, HoldStatus, NegotiationEntry,
    NegotiationStatus, ShortlistCandidate, VenueAvailability, VenueCriteria, VenueLead, VenueLeads,
    VenueNegotiationNotes, VenueScorecard, VenueShortlist,
};
use eods_domain::catalog::venue::{Facts, RequestForQuote};
use eods_domain::constraints::{CatalogField, VenueNeed, required_venue_needs};
use eods_domain::ids::{CandidateId, LeadId};
use eods_domain::instruction::Level;
use eods_domain::money::{Conversion, Money};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use std::collections::BTreeMap;

mod sites;

/// The venue budget the rest of the plan leaves: the venue share of the total, but no more than
/// the total less the cheapest cost of every required item on the rate cards and the reserve
/// (the larger of the reserve share and the risk register's expected loss). Screening against it
/// keeps the shortlist inside what the Budget Analyst can allocate.
fn affordable_envelope(
    input: Inputs<'_>,
    b: &EventBrief,
    bp: &BudgetParams,
) -> Result<Decimal, AgentError> {
    let rates = &input.data()?.rates;
    let share = crate::pricing::venue_envelope(b, bp);
    let others: Decimal = crate::pricing::needs(b)
        .iter()
        .filter(|n| !n.optional)
        .filter_map(|n| {
            crate::pricing::quotes(input.tools, rates, b, n)
                .map(|(_, p)| p)
                .min()
                .map(|p| (p * n.qty).round_dp(2))
        })
        .sum();
    let loss = eods_domain::metrics::expected_loss(
        input.need::<eods_domain::catalog::planning::RiskRegister>()?,
    );
    let reserve = (b.budget.total * bp.reserve_share).max(loss);
    let left = (b.budget.total - others - reserve).round_dp(2);
    Ok(if left > Decimal::ZERO {
        share.min(left)
    } else {
        share
    })
}

/// Amenities every venue for this brief needs.
pub fn required_amenities(b: &EventBrief) -> Vec<String> {
    let mut a = vec!["wifi", "projector"];
    if b.audience_size > 50 {
        a.push("sound_system");
    }
    if b.days() > 1 || b.audience_size >= 100 {
        a.push("catering_kitchen");
    }
    if b.tracks > 1 {
        a.push("breakout_rooms");
    }
    if b.audience_size >= 300 {
        a.push("streaming");
    }
    for (need, _) in required_venue_needs(b) {
        if let CatalogField::Amenity(name) = need.catalog_field()
            && !a.contains(&name)
        {
            a.push(name);
        }
    }
    a.into_iter().map(str::to_owned).collect()
}

/// Accessibility features every venue for this brief needs.
pub fn required_accessibility(b: &EventBrief) -> Vec<String> {
    let mut a = vec!["step_free_access", "accessible_toilets"];
    if b.audience_size >= 100 {
        a.push("hearing_loop");
    }
    for (need, _) in required_venue_needs(b) {
        if let CatalogField::Accessibility(name) = need.catalog_field()
            && !a.contains(&name)
        {
            a.push(name);
        }
    }
    a.into_iter().map(str::to_owned).collect()
}

/// A need the venue lacks that a supplier rents instead, priced over the event.
#[derive(Debug, Clone, PartialEq)]
pub struct Rental {
    pub need: VenueNeed,
    pub supplier_id: String,
    pub supplier: String,
    /// Total over the event days, in the event currency.
    pub cost: Decimal,
}

/// Whether venue `v` itself meets `need`.
pub fn venue_has(v: &CatalogVenue, need: VenueNeed) -> bool {
    match need.catalog_field() {
        CatalogField::Amenity(a) => v.amenities.iter().any(|x| x == a),
        CatalogField::Accessibility(a) => v.accessibility.iter().any(|x| x == a),
        CatalogField::TransitMinutes => v.transit_minutes <= VenueNeed::NEAR_TRANSIT_MINUTES,
        CatalogField::CityCentre => v.city_centre,
        CatalogField::RentalOnly => false,
    }
}

/// The cheapest rental of `need` from a supplier in the brief's city, for one unit per room
/// (per track) and day (backup power: one per day), in the event currency.
pub fn rental(
    tools: &Tools,
    rates: &crate::data::RateCards,
    b: &EventBrief,
    need: VenueNeed,
    days: usize,
) -> Option<Rental> {
    let code = need.rental_code()?;
    let per_day = if need == VenueNeed::BackupPower {
        1
    } else {
        b.tracks.max(1)
    };
    let qty = Decimal::from(per_day) * Decimal::from(days);
    rates
        .suppliers
        .iter()
        .filter(|s| s.service == Service::Av && s.serves(&b.location.city))
        .filter_map(|s| {
            let unit = s.price_for(code, qty)?;
            let (cost, _) = tools
                .convert(
                    (unit * qty).round_dp(2),
                    &s.currency,
                    &b.budget.currency,
                    crate::fx::rate_day(b),
                )
                .ok()?;
            Some(Rental {
                need,
                supplier_id: s.id.clone(),
                supplier: s.name.clone(),
                cost,
            })
        })
        .min_by(|x, y| x.cost.cmp(&y.cost).then(x.supplier_id.cmp(&y.supplier_id)))
}

/// How one venue meets the brief's hard venue needs: the needs it lacks (excluded), and the
/// rentals that make up for the ones it lacks but a supplier rents.
fn needs_fit(
    v: &CatalogVenue,
    needs: &[(VenueNeed, String)],
    rentals: &BTreeMap<VenueNeed, Option<Rental>>,
) -> (Vec<VenueNeed>, Vec<Rental>) {
    let (mut lacks, mut rented) = (Vec::new(), Vec::new());
    for (need, _) in needs {
        if venue_has(v, *need) {
            continue;
        }
        match rentals.get(need).cloned().flatten() {
            Some(r) => rented.push(r),
            None => lacks.push(*need),
        }
    }
    (lacks, rented)
}

/// "Venue A (a projector), Venue B (a hearing loop, a quiet room)".
fn needs_by_venue(lacking: &[(String, Vec<VenueNeed>)]) -> String {
    /// Venues named before the rest are counted.
    const NAMED: usize = 6;
    let mut s = lacking
        .iter()
        .take(NAMED)
        .map(|(name, l)| format!("{name} ({})", need_list(l)))
        .collect::<Vec<_>>()
        .join(", ");
    if lacking.len() > NAMED {
        s.push_str(&format!(" and {} more", lacking.len() - NAMED));
    }
    s
}

/// The rentals priced into the selected candidate's cost.
fn o_selected_rentals(scored: &[Scored<'_>], selected: &CandidateId) -> Vec<Rental> {
    scored
        .iter()
        .find(|(_, o, _, _)| candidate_id(o.venue) == *selected)
        .map(|(_, o, _, _)| o.rentals.clone())
        .unwrap_or_default()
}

/// What the brief's venue needs did to the search, for the decision's rationale.
fn needs_rationale(
    needs: &[(VenueNeed, String)],
    lacking: &[(String, Vec<VenueNeed>)],
    rentals: &[Rental],
    cur: &eods_domain::money::Currency,
) -> String {
    if needs.is_empty() {
        return String::new();
    }
    let mut s = format!(
        " The brief's constraints require {} ({}).",
        need_list(&needs.iter().map(|(n, _)| *n).collect::<Vec<_>>()),
        needs
            .iter()
            .map(|(_, p)| p.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    if !lacking.is_empty() {
        s.push_str(&format!(
            " Excluded for lacking them: {}.",
            needs_by_venue(lacking)
        ));
    }
    for r in rentals {
        s.push_str(&format!(
            " The selected venue has no {}: rented from {} ({}) for {}, included in its cost.",
            r.need.label(),
            r.supplier,
            r.supplier_id,
            Money::new(r.cost, cur)
        ));
    }
    s
}

fn need_list(needs: &[VenueNeed]) -> String {
    needs
        .iter()
        .map(|n| n.label())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The candidate id of a catalog venue: stable across revisions (`venue-12` → `candidate-12`).
/// Venues from other sources keep their whole id (`list-savoy-theatre` → `candidate-list-savoy-theatre`).
pub fn candidate_id(v: &CatalogVenue) -> CandidateId {
    let id = v.id.as_str();
    match id.strip_prefix("venue-") {
        Some(n) if n.bytes().all(|c| c.is_ascii_digit()) => {
            CandidateId(format!("{}-{n}", CandidateId::PREFIX))
        }
        _ => CandidateId(format!("{}-{id}", CandidateId::PREFIX)),
    }
}

fn frac(have: &[String], need: &[String]) -> f64 {
    if need.is_empty() {
        return 1.0;
    }
    need.iter().filter(|n| have.contains(n)).count() as f64 / need.len() as f64
}

/// Scores one venue on every criterion, each in 0..1.
pub fn score(
    offer: &Offer<'_>,
    envelope: Decimal,
    b: &EventBrief,
    factor: f64,
) -> BTreeMap<Criterion, f64> {
    let (v, cost) = (offer.venue, offer.cost);
    let aud = f64::from(b.audience_size.max(1));
    let r = f64::from(offer.capacity) / aud;
    let capacity_fit = if r < 1.0 {
        0.0
    } else if r <= 1.5 {
        1.0
    } else {
        (1.0 - 0.5 * (r - 1.5) / (factor - 1.5).max(0.5)).clamp(0.5, 1.0)
    };
    let cost_score = if envelope.is_zero() {
        if cost.is_zero() { 1.0 } else { 0.0 }
    } else {
        (1.0 - 0.5 * (cost / envelope).to_f64().unwrap_or(2.0)).clamp(0.0, 1.0)
    };
    let transit = match v.transit_minutes {
        0..=5 => 0.5,
        6..=10 => 0.35,
        11..=20 => 0.2,
        _ => 0.1,
    };
    let location: f64 = if v.city_centre { 0.5 } else { 0.3 } + transit;
    let mut m = BTreeMap::new();
    m.insert(Criterion::CapacityFit, round6(capacity_fit));
    m.insert(Criterion::Cost, round6(cost_score));
    m.insert(Criterion::Location, round6(location.min(1.0)));
    m.insert(
        Criterion::Amenities,
        round6(frac(&v.amenities, &required_amenities(b))),
    );
    m.insert(
        Criterion::Accessibility,
        round6(frac(&v.accessibility, &required_accessibility(b))),
    );
    m.insert(
        Criterion::Rooms,
        round6((offer.room_count() as f64 / f64::from(b.tracks.max(1))).min(1.0)),
    );
    m
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// Σ weight × score over the weighted criteria.
pub fn total(weights: &BTreeMap<Criterion, f64>, scores: &BTreeMap<Criterion, f64>) -> f64 {
    weights
        .iter()
        .map(|(c, w)| w * scores.get(c).copied().unwrap_or(0.0))
        .sum()
}

/// What a lead offers: the whole venue, or (Advanced) a combination of its rooms, at a price
/// over the event days in the event's currency.
#[derive(Debug, Clone)]
pub struct Offer<'a> {
    pub venue: &'a CatalogVenue,
    pub cost: Decimal,
    /// Seats offered: the venue's capacity, or the sum of the combined rooms.
    pub capacity: u32,
    /// The combined rooms; empty for the whole venue.
    pub rooms: Vec<&'a CatalogRoom>,
    /// The whole venue's price, when a combination is offered instead.
    pub whole_price: Option<Decimal>,
    /// Needs of the brief the venue lacks and a supplier rents; their cost is in `cost`.
    pub rentals: Vec<Rental>,
    /// Needs of the brief the venue lacks and nobody rents: the venue is excluded.
    pub lacks: Vec<VenueNeed>,
}

impl Offer<'_> {
    fn room_count(&self) -> usize {
        if self.rooms.is_empty() {
            self.venue.rooms.len()
        } else {
            self.rooms.len()
        }
    }
}

/// Share of the audience the largest room of a combination must seat (plenary sessions are
/// streamed to the other rooms).
const PLENARY_SHARE: f64 = 0.5;
/// Share of an even split of the audience over the tracks that every room of a combination
/// must seat (tracks draw unevenly, but a much smaller room overflows).
const TRACK_ROOM_SHARE: f64 = 0.75;
/// A room combination pays this surcharge on its share of the whole-venue rate …
const PARTIAL_HIRE_SURCHARGE: Decimal = Decimal::from_parts(115, 0, 0, false, 2);
/// … and never less than this share of the whole venue.
const PARTIAL_HIRE_MIN_SHARE: Decimal = Decimal::from_parts(25, 0, 0, false, 2);

/// The combination of exactly `k` session rooms (reception spaces and rooms under `min_room`
/// seats excluded) with the fewest seats that still seats `audience`, one of its rooms seating
/// at least `plenary`: exact, by a subset-sum over seat counts (bitsets per number of rooms) for
/// every choice of main room. Returns room indices into `rooms`, or `None` when no combination
/// qualifies.
pub fn room_combination(
    rooms: &[CatalogRoom],
    k: usize,
    audience: u32,
    plenary: u32,
    min_room: u32,
) -> Option<Vec<usize>> {
    let usable: Vec<usize> = (0..rooms.len())
        .filter(|&i| rooms[i].layout != "reception" && rooms[i].capacity >= min_room)
        .collect();
    if k == 0 || usable.len() < k {
        return None;
    }
    // Every seat sum of a subset fits below this limit.
    let limit = usable
        .iter()
        .map(|&i| rooms[i].capacity as usize)
        .sum::<usize>()
        + 1;
    let words = limit.div_ceil(64);
    let mut best: Option<(usize, Vec<usize>)> = None;
    for &main in usable.iter().filter(|&&i| rooms[i].capacity >= plenary) {
        let rest: Vec<usize> = usable.iter().copied().filter(|&i| i != main).collect();
        let need = audience.saturating_sub(rooms[main].capacity) as usize;
        // layers[r][j]: seat sums reachable with j rooms among the first r of `rest`.
        let empty = vec![vec![0u64; words]; k];
        let mut layers = vec![empty.clone()];
        layers[0][0][0] = 1;
        for &i in &rest {
            let prev = &layers[layers.len() - 1];
            let mut next = prev.clone();
            let cap = rooms[i].capacity as usize;
            for j in 1..k {
                shift_or(&mut next[j], &prev[j - 1], cap);
            }
            layers.push(next);
        }
        let last = &layers[rest.len()];
        let Some(sum) = (need..limit).find(|&s| bit(&last[k - 1], s)) else {
            continue;
        };
        let total = sum + rooms[main].capacity as usize;
        if best.as_ref().is_some_and(|(t, _)| *t <= total) {
            continue;
        }
        let (mut j, mut s, mut chosen) = (k - 1, sum, vec![main]);
        for r in (1..=rest.len()).rev() {
            if j == 0 {
                break;
            }
            if !bit(&layers[r - 1][j], s) {
                let i = rest[r - 1];
                chosen.push(i);
                s -= rooms[i].capacity as usize;
                j -= 1;
            }
        }
        chosen.sort_unstable();
        best = Some((total, chosen));
    }
    best.map(|(_, c)| c)
}

fn bit(set: &[u64], i: usize) -> bool {
    set.get(i / 64).is_some_and(|w| w >> (i % 64) & 1 == 1)
}

/// `dst |= src << by`, word by word; bits shifted past the end of `dst` are dropped.
fn shift_or(dst: &mut [u64], src: &[u64], by: usize) {
    let (words, bits) = (by / 64, by % 64);
    for (w, &v) in src.iter().enumerate() {
        if v == 0 {
            continue;
        }
        if let Some(d) = dst.get_mut(w + words) {
            *d |= v << bits;
        }
        if bits > 0
            && let Some(d) = dst.get_mut(w + words + 1)
        {
            *d |= v >> (64 - bits);
        }
    }
}

/// The offer of one venue: the whole venue, or — when `combine` and cheaper — the smallest
/// room combination that seats the audience with a room per track.
fn offer<'a>(v: &'a CatalogVenue, whole: Decimal, b: &EventBrief, combine: bool) -> Offer<'a> {
    let whole_offer = Offer {
        venue: v,
        cost: whole,
        capacity: v.capacity,
        rooms: vec![],
        whole_price: None,
        rentals: vec![],
        lacks: vec![],
    };
    if !combine {
        return whole_offer;
    }
    let tracks = b.tracks.max(1);
    let plenary = (f64::from(b.audience_size) * PLENARY_SHARE).ceil() as u32;
    let min_room =
        (f64::from(b.audience_size) / f64::from(tracks) * TRACK_ROOM_SHARE).ceil() as u32;
    let Some(idx) = room_combination(
        &v.rooms,
        tracks as usize,
        b.audience_size,
        plenary,
        min_room,
    ) else {
        return whole_offer;
    };
    let all: u32 = v.rooms.iter().map(|r| r.capacity).sum();
    let seats: u32 = idx.iter().map(|&i| v.rooms[i].capacity).sum();
    let share = (Decimal::from(seats) / Decimal::from(all.max(1)) * PARTIAL_HIRE_SURCHARGE)
        .max(PARTIAL_HIRE_MIN_SHARE);
    let cost = (whole * share).round_dp(0);
    if cost >= whole || idx.len() == v.rooms.len() {
        return whole_offer;
    }
    let mut rooms: Vec<&CatalogRoom> = idx.iter().map(|&i| &v.rooms[i]).collect();
    rooms.sort_by(|a, b2| b2.capacity.cmp(&a.capacity).then(a.name.cmp(&b2.name)));
    Offer {
        venue: v,
        cost,
        capacity: seats,
        rooms,
        whole_price: Some(whole),
        rentals: vec![],
        lacks: vec![],
    }
}

/// A lead's index, offer, scores and total.
type Scored<'a> = (usize, Offer<'a>, BTreeMap<Criterion, f64>, f64);

/// What the phases of a venue search share: the step's inputs, the brief, the instruction set's
/// parameters, the event's days and the venue envelope.
struct Search<'a> {
    input: Inputs<'a>,
    b: &'a EventBrief,
    p: &'a VenueParams,
    days: Vec<NaiveDate>,
    envelope: Decimal,
    max_capacity: u32,
}

impl Search<'_> {
    /// The event's currency.
    fn cur(&self) -> &eods_domain::money::Currency {
        &self.b.budget.currency
    }

    /// A venue's day rate for every day of the event, in the venue's currency.
    fn quote(&self, v: &CatalogVenue) -> Decimal {
        v.day_rate * Decimal::from(self.days.len())
    }
}

/// Venues the brief's venue needs exclude, named with what they lack (for the rationale and for
/// a blocking message), and every need some venue lacked.
type Lacking = (Vec<(String, Vec<VenueNeed>)>, Vec<VenueNeed>);

/// Criteria, leads, shortlist, scorecard, availability and negotiation notes.
pub fn research(
    input: Inputs<'_>,
    p: &VenueParams,
    bp: &BudgetParams,
) -> Result<StepOutput, AgentError> {
    let b = input.need::<EventBrief>()?;
    let tools = input.tools;
    let data = input.data()?;
    let envelope = affordable_envelope(input, b, bp)?;
    let days: Vec<NaiveDate> = b.event_days();
    let max_capacity =
        ((f64::from(b.audience_size) * p.max_capacity_factor) as u32).max(b.audience_size + 60);
    // The brief's constraints that name a venue need are hard: a venue lacking one is excluded
    // unless a supplier rents it (then the rental is priced into the venue's cost; see `offers`).
    let needs = required_venue_needs(b);
    let criteria = venue_criteria(b, max_capacity, envelope);
    // Where the venues come from: the organiser's list, the installation catalog, what the
    // engine gathered (OpenStreetMap), and the demo catalog only for a city none of them knows.
    let organiser = input.get::<OrganiserData>()?;
    let pool =
        crate::sources::venue_pool(tools, organiser, data.external.as_ref(), &b.location.city);
    // Large events: when no single venue in the city holds the audience, Advanced combines
    // sites and the other levels block with ranked options (see `sites` and the `multisite`
    // leaf; over the demo catalog only, for now).
    if pool.demo
        && let Some(out) = sites::research(input, p, envelope, &criteria)?
    {
        return Ok(out);
    }
    let known: Vec<&CatalogVenue> = pool.known().collect();
    let s = Search {
        input,
        b,
        p,
        days,
        envelope,
        max_capacity,
    };
    let cur = s.cur();
    let rfq = requests_for_quote(input, b, &pool)?;
    let all_found = offers(&s, &known, &needs, &data.rates)?;
    let (lacking, lacked) = lacking(&all_found);
    let found = &all_found[..all_found.len().min(p.max_leads)];
    let leads = leads(&s, found, &pool, &rfq, &criteria)?;
    let scored = shortlist_scores(&s, found, &pool);
    if scored.len() < p.shortlist_min && !rfq.is_empty() {
        return Err(needs_quotes(
            b,
            &pool,
            &rfq,
            scored.len(),
            p.shortlist_min,
            criteria,
            leads,
        ));
    }
    if scored.len() < p.shortlist_min {
        return Err(too_few_shortlisted(
            &s,
            scored.len(),
            (found, &all_found),
            &needs,
            (&lacking, &lacked),
        ));
    }
    let excluded: Vec<CandidateId> = input.directives.excluded_candidates.clone();
    let candidates = shortlist_candidates(&s, &scored, &leads);
    let ranking: Vec<CandidateId> = candidates.iter().map(|c| c.id.clone()).collect();
    let Some(selected) = candidates.iter().find(|c| !excluded.contains(&c.id)) else {
        return Err(all_rejected());
    };
    let rationale = selection_rationale(
        &s,
        selected,
        &candidates,
        &excluded,
        &needs_rationale(
            &needs,
            &lacking,
            &o_selected_rentals(&scored, &selected.id),
            cur,
        ),
    );
    let scorecard = VenueScorecard {
        criteria_weights: p.weights.clone(),
        candidate_scores: candidate_scores(&scored),
        ranking,
        selected_candidate_id: selected.id.clone(),
        selection_rationale: rationale.clone(),
        excluded: excluded.clone(),
    };
    let availability = availability(&s, &candidates, &excluded, &known);
    let negotiation = negotiation(&s, &candidates, &excluded, &known);
    let alternatives = alternatives(&candidates, &excluded);
    Ok(StepOutput {
        raised: vec![],
        summary: format!(
            "Found {} leads, shortlisted {}, selected {} ({:.3})",
            leads.len(),
            candidates.len(),
            selected.name,
            selected.score
        ),
        rationale,
        alternatives,
        artifacts: vec![
            criteria.into_payload(),
            VenueLeads {
                sources: pool.sources(),
                leads,
                consulted: pool.attempts.clone(),
                attributions: pool.attributions(),
            }
            .into_payload(),
            VenueShortlist { candidates }.into_payload(),
            scorecard.into_payload(),
            availability.into_payload(),
            negotiation.into_payload(),
        ],
    })
}

/// The block when an approver rejected every shortlisted venue: widen the search.
fn all_rejected() -> AgentError {
    AgentError::Infeasible {
        reason: "every shortlisted venue was rejected by an approver".into(),
        alternatives: vec![Alternative {
            option: "Widen the search: raise the venue budget or relax capacity".into(),
            score: 0.5,
            pros: vec!["more candidates".into()],
            cons: vec!["costs more".into()],
        }],
    }
}

/// Each shortlisted candidate's scores by criterion and total, in score order.
fn candidate_scores(scored: &[Scored<'_>]) -> Vec<CandidateScore> {
    scored
        .iter()
        .map(|(_, o, s, t)| CandidateScore {
            candidate_id: candidate_id(o.venue),
            scores: s.clone(),
            total: *t,
        })
        .collect()
}

/// Every candidate as an alternative for the record, those an approver rejected marked so.
fn alternatives(candidates: &[ShortlistCandidate], excluded: &[CandidateId]) -> Vec<Alternative> {
    candidates
        .iter()
        .map(|c| Alternative {
            option: format!("{} ({})", c.name, c.id),
            score: c.score,
            pros: vec![
                format!("capacity {}", c.capacity),
                format!("cost {}", c.cost_estimate),
            ],
            cons: if excluded.contains(&c.id) {
                vec!["rejected by an approver".into()]
            } else {
                vec![]
            },
        })
        .collect()
}

/// The venue criteria: the audience and its ceiling, the brief's preferences, amenities and
/// access, the layout for the event type, a room per track, and the venue envelope.
fn venue_criteria(b: &EventBrief, max_capacity: u32, envelope: Decimal) -> VenueCriteria {
    let cur = &b.budget.currency;
    VenueCriteria {
        min_capacity: b.audience_size,
        max_capacity,
        location_preferences: b.location.preferences.clone(),
        amenities: required_amenities(b),
        accessibility: required_accessibility(b),
        layout: match b.event_type {
            EventType::Gala => "banquet",
            EventType::Workshop => "classroom",
            EventType::Festival | EventType::Conference | EventType::Meetup | EventType::Other => {
                "theatre"
            }
        }
        .into(),
        rooms_needed: b.tracks.max(1),
        budget_range: BudgetRange {
            min: Money::new(Decimal::ZERO, cur),
            max: Money::new(envelope, cur),
        },
    }
}

/// The offers: venues in the city that hold the audience and have a room per track, priced in
/// the event's currency with the cheapest rentals of the needs they lack (a currency without an exchange rate blocks
/// with the fix), in lead order.
fn offers<'k>(
    s: &Search<'_>,
    known: &[&'k CatalogVenue],
    needs: &[(VenueNeed, String)],
    rates: &crate::data::RateCards,
) -> Result<Vec<Offer<'k>>, AgentError> {
    let (b, p, cur) = (s.b, s.p, s.cur());
    let rentals: BTreeMap<VenueNeed, Option<Rental>> = needs
        .iter()
        .map(|(n, _)| (*n, rental(s.input.tools, rates, b, *n, s.days.len())))
        .collect();
    let rate_day = crate::fx::rate_day(b);
    let mut found: Vec<Offer<'k>> = known
        .iter()
        .copied()
        .filter(|v| v.capacity >= b.audience_size)
        .filter(|v| v.rooms.len() as u32 >= b.tracks.max(1))
        .map(|v| {
            s.input
                .tools
                .convert(s.quote(v), &v.currency, cur, rate_day)
                .map(|(c, _)| offer(v, c, b, p.room_combinations))
        })
        .map(|r| {
            r.map(|mut o| {
                let (lacks, rentals) = needs_fit(o.venue, needs, &rentals);
                o.cost += rentals.iter().map(|r| r.cost).sum::<Decimal>();
                o.rentals = rentals;
                o.lacks = lacks;
                o
            })
        })
        .collect::<Result<_, _>>()?;
    // Offers free on the dates and of the preferred size come first; booked and larger ones
    // fill the remaining lead slots.
    let (days, max_capacity) = (&s.days, s.max_capacity);
    found.sort_by(|a, b2| {
        (!a.lacks.is_empty())
            .cmp(&!b2.lacks.is_empty())
            .then((!a.venue.available_on(days)).cmp(&!b2.venue.available_on(days)))
            .then((a.capacity > max_capacity).cmp(&(b2.capacity > max_capacity)))
            .then(a.cost.cmp(&b2.cost))
            .then(a.capacity.cmp(&b2.capacity))
            .then(a.venue.id.cmp(&b2.venue.id))
    });
    Ok(found)
}

/// The offers the brief's venue needs exclude, with what each lacks, and every need lacked.
fn lacking(found: &[Offer<'_>]) -> Lacking {
    let lacking: Vec<(String, Vec<VenueNeed>)> = found
        .iter()
        .filter(|o| !o.lacks.is_empty())
        .map(|o| (o.venue.name.clone(), o.lacks.clone()))
        .collect();
    let mut lacked: Vec<VenueNeed> = lacking.iter().flat_map(|(_, l)| l.clone()).collect();
    lacked.sort();
    lacked.dedup();
    (lacking, lacked)
}

/// The leads: the offers found, then the venues waiting for a quote. Too few to fill the
/// shortlist block: with requests for quote when there are venues to ask, else as infeasible
/// with the cities that would fit.
fn leads(
    s: &Search<'_>,
    found: &[Offer<'_>],
    pool: &crate::sources::Pool,
    rfq: &[Rfq<'_>],
    criteria: &VenueCriteria,
) -> Result<Vec<VenueLead>, AgentError> {
    let (b, p) = (s.b, s.p);
    let lead_of = |i: usize, o: &Offer<'_>| lead_for(i, o, pool, s.cur(), &s.days);
    if found.len() < p.min_leads.min(p.shortlist_min) && (pool.leads.is_empty() || !rfq.is_empty())
    {
        let leads: Vec<VenueLead> = found
            .iter()
            .enumerate()
            .map(|(i, o)| lead_of(i, o))
            .chain(rfq_leads(rfq, found.len()))
            .collect();
        return Err(needs_quotes(
            b,
            pool,
            rfq,
            found.len(),
            p.min_leads,
            criteria.clone(),
            leads,
        ));
    }
    // `min_leads` is how many leads the search aims for; fewer block only when they cannot
    // fill the shortlist (a large audience leaves few venues that hold it).
    if found.len() < p.min_leads.min(p.shortlist_min) {
        let elsewhere = if pool.demo {
            cities_that_fit(s.input, b)
        } else {
            vec![]
        };
        return Err(AgentError::Infeasible {
            reason: format!(
                "only {} venue(s) in {} hold {} people with {} room(s); at least {} leads are needed",
                found.len(),
                b.location.city,
                b.audience_size,
                b.tracks.max(1),
                p.min_leads.min(p.shortlist_min)
            ),
            alternatives: elsewhere
                .into_iter()
                .map(|(city, n)| Alternative {
                    option: format!("Hold the event in {city}"),
                    score: n as f64 / p.min_leads as f64,
                    pros: vec![format!("{n} suitable venues")],
                    cons: vec!["changes the location".into()],
                })
                .collect(),
        });
    }
    Ok(found
        .iter()
        .enumerate()
        .map(|(i, o)| lead_of(i, o))
        .chain(rfq_leads(rfq, found.len()))
        .collect())
}

/// The shortlist, scored: offers available, step-free (or not known), with every venue need
/// and within the venue envelope, best scores first.
fn shortlist_scores<'k>(
    s: &Search<'_>,
    found: &[Offer<'k>],
    pool: &crate::sources::Pool,
) -> Vec<Scored<'k>> {
    let (b, p, envelope) = (s.b, s.p, s.envelope);
    // A venue whose source says nothing about access is asked, not excluded.
    let access_unknown: Vec<&eods_domain::ids::VenueRef> = pool
        .leads
        .iter()
        .filter(|l| l.record.accessibility.is_none())
        .map(|l| &l.record.id)
        .collect();
    let step_free_or_unknown = |v: &CatalogVenue| {
        v.accessibility.iter().any(|a| a == "step_free_access") || access_unknown.contains(&&v.id)
    };
    let mut scored: Vec<Scored<'_>> = found
        .iter()
        .enumerate()
        // Step-free access is a must: no attendee is left outside.
        .filter(|(_, o)| {
            o.venue.available_on(&s.days)
                && o.lacks.is_empty()
                && o.cost <= envelope
                && step_free_or_unknown(o.venue)
        })
        .map(|(i, o)| {
            let sc = score(o, envelope, b, p.max_capacity_factor);
            let t = round6(total(&p.weights, &sc));
            (i, o.clone(), sc, t)
        })
        .collect();
    scored.sort_by(|a, b2| {
        b2.3.total_cmp(&a.3)
            .then(a.1.cost.cmp(&b2.1.cost))
            .then(a.1.venue.id.cmp(&b2.1.venue.id))
    });
    scored.truncate(p.shortlist_max);
    scored
}

/// The block when too few venues make the shortlist: why, with the venues the brief's needs
/// excluded, and the conflict options that would fill it.
fn too_few_shortlisted(
    s: &Search<'_>,
    shortlisted: usize,
    (found, all_found): (&[Offer<'_>], &[Offer<'_>]),
    needs: &[(VenueNeed, String)],
    (lacking, lacked): (&[(String, Vec<VenueNeed>)], &[VenueNeed]),
) -> AgentError {
    let (b, p) = (s.b, s.p);
    AgentError::Infeasible {
        reason: format!(
            "only {} available, step-free venue(s) in {} fit the venue budget of {}; at least {} are needed{}",
            shortlisted,
            b.location.city,
            Money::new(s.envelope, s.cur()),
            p.shortlist_min,
            if lacking.is_empty() {
                String::new()
            } else {
                format!(
                    "; {} venue(s) were excluded because the brief's constraints require {} (lacking: {})",
                    lacking.len(),
                    need_list(lacked),
                    needs_by_venue(lacking)
                )
            }
        ),
        alternatives: crate::conflicts::break_ties(b, {
            let mut options = conflict_options(
                s.input,
                b,
                &found
                    .iter()
                    .filter(|o| o.lacks.is_empty())
                    .cloned()
                    .collect::<Vec<_>>(),
                &s.days,
                s.envelope,
                p.shortlist_min,
            );
            options.extend(need_options(s, all_found, needs, lacked, p.shortlist_min));
            options
        }),
    }
}

/// The shortlisted candidates, in score order, each with its lead, cost, rooms, rentals and
/// the conversion from the venue's currency.
fn shortlist_candidates(
    s: &Search<'_>,
    scored: &[Scored<'_>],
    leads: &[VenueLead],
) -> Vec<ShortlistCandidate> {
    let (cur, envelope) = (s.cur(), s.envelope);
    let rate_day = crate::fx::rate_day(s.b);
    scored
        .iter()
        .map(|(i, o, _, t)| ShortlistCandidate {
            id: candidate_id(o.venue),
            lead_id: leads[*i].id.clone(),
            venue_ref: o.venue.id.clone(),
            name: o.venue.name.clone(),
            capacity: o.capacity,
            cost_estimate: Money::new(o.cost, cur),
            score: *t,
            within_budget: o.cost <= envelope,
            rooms: o.rooms.iter().map(|r| r.name.clone()).collect(),
            whole_venue_price: o.whole_price.map(|w| Money::new(w, cur)),
            rentals: o
                .rentals
                .iter()
                .map(|r| {
                    format!(
                        "{} rented from {} ({}) at {}",
                        r.need.label(),
                        r.supplier,
                        r.supplier_id,
                        Money::new(r.cost, cur)
                    )
                })
                .collect(),
            conversion: s
                .input
                .tools
                .fx
                .rate(&o.venue.currency, cur, rate_day)
                .ok()
                .filter(|_| o.venue.currency != *cur)
                .map(|rate| Conversion {
                    original: Money::new(s.quote(o.venue), &o.venue.currency),
                    rate,
                }),
            sites: vec![],
        })
        .collect()
}

/// Why the selected venue: its score against the runner-up, what it holds and costs, how it
/// meets the brief's venue needs, and the candidates an approver rejected.
fn selection_rationale(
    s: &Search<'_>,
    selected: &ShortlistCandidate,
    candidates: &[ShortlistCandidate],
    excluded: &[CandidateId],
    needs_rationale: &str,
) -> String {
    let runner_up = candidates
        .iter()
        .find(|c| !excluded.contains(&c.id) && c.id != selected.id);
    format!(
        "{} scores {:.3}, the best of {} shortlisted venues{}; it holds {} for {} people at {} within the venue budget of {}.{}{}",
        selected.name,
        selected.score,
        candidates.len(),
        runner_up
            .map(|r| format!(" (runner-up {} at {:.3})", r.name, r.score))
            .unwrap_or_default(),
        selected.capacity,
        s.b.audience_size,
        selected.cost_estimate,
        Money::new(s.envelope, s.cur()),
        needs_rationale,
        if excluded.is_empty() {
            String::new()
        } else {
            format!(
                " Rejected by an approver and skipped: {}.",
                excluded
                    .iter()
                    .map(|c| c.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    )
}

/// Availability of every candidate on the event's days, with holds (until 17:00 four weeks
/// before) on the first candidates no approver rejected.
fn availability(
    s: &Search<'_>,
    candidates: &[ShortlistCandidate],
    excluded: &[CandidateId],
    known: &[&CatalogVenue],
) -> VenueAvailability {
    let b = s.b;
    let tz: chrono_tz::Tz = b.timezone.parse().unwrap_or(chrono_tz::UTC);
    let hold_expiry = b.first_day() - chrono::Duration::days(28);
    let expires_at = tz
        .from_local_datetime(&hold_expiry.and_hms_opt(17, 0, 0).unwrap_or_default())
        .single()
        .map(|d| d.fixed_offset());
    let held: Vec<&CandidateId> = candidates
        .iter()
        .filter(|c| !excluded.contains(&c.id))
        .take(s.p.holds)
        .map(|c| &c.id)
        .collect();
    VenueAvailability {
        entries: candidates
            .iter()
            .map(|c| {
                let v = known.iter().find(|v| v.id == c.venue_ref);
                AvailabilityEntry {
                    candidate_id: c.id.clone(),
                    dates: s.days.clone(),
                    available: true,
                    hold: if held.contains(&&c.id) {
                        Hold {
                            status: HoldStatus::Held,
                            expires_at,
                        }
                    } else {
                        Hold {
                            status: HoldStatus::None,
                            expires_at: None,
                        }
                    },
                    constraints: v
                        .map(|v| {
                            vec![format!(
                                "Access from 2 hours before the first session; {}",
                                v.notes
                            )]
                        })
                        .unwrap_or_default(),
                }
            })
            .collect(),
    }
}

/// Negotiation notes for the first two candidates no approver rejected: terms, a target 10%
/// under the estimate, and the concessions their amenities allow.
fn negotiation(
    s: &Search<'_>,
    candidates: &[ShortlistCandidate],
    excluded: &[CandidateId],
    known: &[&CatalogVenue],
) -> VenueNegotiationNotes {
    let (days, cur) = (&s.days, s.cur());
    VenueNegotiationNotes {
        entries: candidates
            .iter()
            .filter(|c| !excluded.contains(&c.id))
            .take(2)
            .map(|c| {
                let v = known.iter().find(|v| v.id == c.venue_ref);
                let mut concessions =
                    vec!["Free cancellation until 30 days before the event".to_owned()];
                if v.is_some_and(|v| v.amenities.iter().any(|a| a == "projector")) {
                    concessions.push("Projector and microphones included in the day rate".into());
                }
                if v.is_some_and(|v| v.amenities.iter().any(|a| a == "catering_kitchen")) {
                    concessions
                        .push("No surcharge for an outside caterer using the kitchen".into());
                }
                NegotiationEntry {
                    candidate_id: c.id.clone(),
                    terms: if c.rooms.is_empty() {
                        format!(
                            "Whole venue for {} day(s) at {}",
                            days.len(),
                            c.cost_estimate
                        )
                    } else {
                        format!(
                            "Rooms {} for {} day(s) at {} (whole venue {})",
                            c.rooms.join(", "),
                            days.len(),
                            c.cost_estimate,
                            c.whole_venue_price
                                .as_ref()
                                .map_or_else(String::new, ToString::to_string)
                        )
                    },
                    target_price: Money::new(c.cost_estimate.amount * Decimal::new(90, 2), cur),
                    concessions,
                    status: if s.input.level >= Level::Intermediate {
                        NegotiationStatus::InProgress
                    } else {
                        NegotiationStatus::NotStarted
                    },
                }
            })
            .collect(),
    }
}

/// A lead waiting for a quote: what to ask, who asks and by when.
struct Rfq<'p> {
    lead: &'p crate::sources::PoolLead,
    request: RequestForQuote,
}

/// How a person gives a quote, in every request and message.
pub const HOW_TO_QUOTE: &str = "enter them on the event page, POST them to /api/v1/events/<event id>/quotes, or run `eods quote <event id> quotes.csv` (columns venue,capacity,day_rate,currency[,valid_until,rooms,notes]; rooms as Main:300;Side:80)";

/// A request for quote per lead whose capacity or price is unknown, owned by whoever owns the
/// venue search in the task register and due when that task ends (else 12 weeks before the
/// event, with the organiser as owner).
fn requests_for_quote<'p>(
    input: Inputs<'_>,
    b: &EventBrief,
    pool: &'p crate::sources::Pool,
) -> Result<Vec<Rfq<'p>>, AgentError> {
    let task = input
        .get::<eods_domain::catalog::planning::TaskRegister>()?
        .and_then(|r| {
            r.tasks
                .iter()
                .find(|t| t.title.starts_with("Research, shortlist"))
        });
    let (owner, due) = task.map_or_else(
        || {
            (
                "stakeholder-1".to_owned(),
                b.first_day() - chrono::Duration::weeks(12),
            )
        },
        |t| (t.owner.to_string(), t.end),
    );
    let tracks = b.tracks.max(1) as usize;
    Ok(pool
        .leads
        .iter()
        .filter(|l| l.venue.is_none() || (tracks > 1 && l.record.rooms.is_empty()))
        .map(|lead| {
            let r = &lead.record;
            let mut asks = Vec::new();
            if r.capacity.is_none() {
                asks.push("capacity".to_owned());
            }
            if r.day_rate.is_none() || r.currency.is_none() {
                asks.push("day_rate".to_owned());
            }
            if b.tracks > 1 && r.rooms.len() < b.tracks as usize {
                asks.push("rooms".to_owned());
            }
            Rfq {
                lead,
                request: RequestForQuote {
                    asks,
                    owner: owner.clone(),
                    due,
                    how: HOW_TO_QUOTE.to_owned(),
                },
            }
        })
        .collect())
}

/// The leads of the requests for quote, numbered after the `after` leads with known facts.
fn rfq_leads<'r>(rfq: &'r [Rfq<'_>], after: usize) -> impl Iterator<Item = VenueLead> + 'r {
    rfq.iter().enumerate().map(move |(i, q)| {
        let r = &q.lead.record;
        let mut notes = format!(
            "{}{}: {} unknown — request for quote open (owner {}, due {})",
            r.name,
            if r.place_kind.is_empty() {
                String::new()
            } else {
                format!(" ({})", r.place_kind.replace('_', " "))
            },
            q.request.asks.join(" and ").replace('_', " "),
            q.request.owner,
            q.request.due
        );
        if let Some(c) = r.capacity {
            notes.push_str(&format!("; capacity {c} from its source"));
        }
        if !r.address.is_empty() {
            notes.push_str(&format!("; {}", r.address));
        }
        VenueLead {
            id: LeadId::nth(after + i + 1),
            venue_ref: r.id.clone(),
            name: r.name.clone(),
            contact: contact_of(r),
            notes,
            source: r.provenance.label.clone(),
            provenance: Some(r.provenance.clone()),
            capacity: r.capacity,
            day_rate: r
                .day_rate
                .zip(r.currency.as_ref())
                .map(|(d, c)| Money::new(d, c)),
            facts: Facts::Unknown,
            request_for_quote: Some(q.request.clone()),
            record: Some(r.clone()),
        }
    })
}

fn contact_of(r: &eods_domain::catalog::sources::VenueRecord) -> String {
    [&r.contact, &r.phone, &r.website]
        .into_iter()
        .find(|s| !s.is_empty())
        .cloned()
        .unwrap_or_default()
}

/// The lead of a venue with known facts.
fn lead_for(
    i: usize,
    o: &Offer<'_>,
    pool: &crate::sources::Pool,
    cur: &eods_domain::money::Currency,
    days: &[NaiveDate],
) -> VenueLead {
    let v = o.venue;
    let from_pool = pool.leads.iter().find(|l| l.record.id == v.id);
    let demo = crate::sources::is_demo(v);
    let mut notes = format!(
        "{}{}, capacity {}, {} room(s), {} for {} day(s)",
        v.name,
        if v.district.is_empty() {
            String::new()
        } else {
            format!(" ({})", v.district)
        },
        v.capacity,
        v.rooms.len(),
        Money::new(o.cost, cur),
        days.len()
    );
    if let Some(whole) = o.whole_price {
        notes.push_str(&format!(
            "; rooms {} ({} seats) instead of the whole venue at {}",
            o.rooms
                .iter()
                .map(|r| r.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            o.capacity,
            Money::new(whole, cur)
        ));
    }
    if !v.available_on(days) {
        notes.push_str("; booked on the event dates");
    }
    for r in &o.rentals {
        notes.push_str(&format!(
            "; no {} on site: rented from {} at {} (in the cost)",
            r.need.label(),
            r.supplier,
            Money::new(r.cost, cur)
        ));
    }
    if !o.lacks.is_empty() {
        notes.push_str(&format!(
            "; excluded: lacks {} (required by the brief's constraints)",
            need_list(&o.lacks)
        ));
    }
    let facts = from_pool.map_or(Facts::Known, |l| l.facts);
    if facts == Facts::Quoted {
        notes.push_str("; capacity and price from a quote");
    }
    if from_pool.is_some_and(|l| l.record.accessibility.is_none()) {
        notes.push_str("; access not given by the source: confirm step-free access");
    }
    let provenance = v.provenance.clone().unwrap_or_else(Provenance::demo);
    VenueLead {
        id: LeadId::nth(i + 1),
        venue_ref: v.id.clone(),
        name: v.name.clone(),
        contact: v.contact.clone(),
        notes,
        source: provenance.label.clone(),
        provenance: Some(provenance),
        capacity: Some(v.capacity),
        day_rate: Some(Money::new(v.day_rate, &v.currency)),
        facts,
        request_for_quote: None,
        record: if demo {
            None
        } else {
            from_pool.map(|l| l.record.clone())
        },
    }
}

/// Stops Research for quotes (or for any venue data at all), saying which are needed and how to
/// give them; the criteria and the leads with their requests for quote are written meanwhile.
fn needs_quotes(
    b: &EventBrief,
    pool: &crate::sources::Pool,
    rfq: &[Rfq<'_>],
    have: usize,
    need: usize,
    criteria: VenueCriteria,
    leads: Vec<VenueLead>,
) -> AgentError {
    let city = &b.location.city;
    let (reason, asks) = if pool.leads.is_empty() {
        let mut reason = format!(
            "No venue data for {city}: give a venue list (`eods plan --venues FILE`, the API or the new-event page), import an OpenStreetMap extract (`eods venues import-osm FILE.osm.pbf --city {city}`), or configure the Overpass source (`--overpass-url URL` / EODS_OVERPASS_URL)."
        );
        if let Some(e) = &pool.escalation {
            reason.push_str(&format!(" {e}"));
        }
        (reason, vec![format!("a venue list for {city}")])
    } else {
        /// Requests named in the message before the rest are counted.
        const NAMED: usize = 12;
        let mut asks: Vec<String> = rfq
            .iter()
            .take(NAMED)
            .map(|q| {
                format!(
                    "{} ({}): {}",
                    q.lead.record.name,
                    q.lead.record.id,
                    q.request.asks.join(", ")
                )
            })
            .collect();
        if rfq.len() > NAMED {
            asks.push(format!("and {} more (see venue_leads)", rfq.len() - NAMED));
        }
        (
            format!(
                "{have} venue(s) in {city} have a known capacity and price that fit, {need} are needed: {} venue(s) wait for a quote. Quotes: {HOW_TO_QUOTE}.",
                rfq.len()
            ),
            asks,
        )
    };
    AgentError::NeedsInput {
        reason,
        asks,
        partial: vec![
            criteria.into_payload(),
            VenueLeads {
                sources: pool.sources(),
                leads,
                consulted: pool.attempts.clone(),
                attributions: pool.attributions(),
            }
            .into_payload(),
        ],
    }
}

/// Every option that resolves a short shortlist: the nearest date shift (up to 8 weeks either
/// way), the smallest venue-budget raise, and other cities.
fn conflict_options(
    input: Inputs<'_>,
    b: &EventBrief,
    found: &[Offer<'_>],
    days: &[NaiveDate],
    envelope: Decimal,
    needed: usize,
) -> Vec<ConflictOption> {
    let step_free = |o: &Offer<'_>| {
        o.venue
            .accessibility
            .iter()
            .any(|a| a == "step_free_access")
    };
    let fits_on = |ds: &[NaiveDate]| {
        found
            .iter()
            .filter(|o| o.venue.available_on(ds) && o.cost <= envelope && step_free(o))
            .count()
    };
    let mut options = Vec::new();
    'weeks: for weeks in 1..=8i64 {
        for sign in [1, -1] {
            let shift = chrono::Duration::weeks(weeks * sign);
            let moved: Vec<NaiveDate> = days.iter().map(|d| *d + shift).collect();
            let n = fits_on(&moved);
            if n >= needed {
                options.push(ConflictOption::MoveDates {
                    weeks: weeks * sign,
                    start: b.first_day() + shift,
                    end: b.last_day() + shift,
                    venues: n,
                });
                break 'weeks;
            }
        }
    }
    let mut costs: Vec<Decimal> = found
        .iter()
        .filter(|o| o.venue.available_on(days) && step_free(o))
        .map(|o| o.cost)
        .collect();
    costs.sort();
    if let Some(n) = costs.get(needed - 1) {
        let cur = &b.budget.currency;
        options.push(ConflictOption::RaiseVenueBudget {
            to: Money::new(*n, cur),
            by: Money::new(*n - envelope, cur),
            venues: needed,
        });
    }
    for (city, venues) in cities_that_fit(input, b) {
        options.push(ConflictOption::OtherCity { city, venues });
    }
    options
}

/// The ways out that keep the city, dates and budget: drop one need the brief states (when
/// enough venues then fit), or add venues the organiser knows that have every need.
fn need_options(
    s: &Search<'_>,
    found: &[Offer<'_>],
    sources: &[(VenueNeed, String)],
    lacked: &[VenueNeed],
    needed: usize,
) -> Vec<ConflictOption> {
    let mut options = Vec::new();
    for need in lacked {
        // Step-free access is never dropped: no attendee is left outside.
        if *need == VenueNeed::StepFree {
            continue;
        }
        let venues = found
            .iter()
            .filter(|o| {
                o.lacks.iter().all(|l| l == need)
                    && o.venue.available_on(&s.days)
                    && o.cost <= s.envelope
                    && o.venue
                        .accessibility
                        .iter()
                        .any(|a| a == "step_free_access")
            })
            .count();
        if let Some((_, source)) = sources.iter().find(|(n, _)| n == need)
            && venues >= needed
        {
            // The brief's own words, where the need was read from a constraint.
            let text = source
                .strip_prefix("/constraints/")
                .and_then(|i| i.parse::<usize>().ok())
                .and_then(|i| s.b.constraints.get(i))
                .map_or_else(|| source.clone(), |t| format!("\"{t}\""));
            options.push(ConflictOption::DropNeed {
                need: *need,
                source: text,
                venues,
            });
        }
    }
    options.push(ConflictOption::AddVenues {
        city: s.b.location.city.clone(),
        needs: sources.iter().map(|(n, _)| *n).collect(),
    });
    options
}

fn cities_that_fit(input: Inputs<'_>, b: &EventBrief) -> Vec<(String, usize)> {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for v in &input.tools.catalog.venues {
        if v.capacity >= b.audience_size && !v.city.eq_ignore_ascii_case(&b.location.city) {
            *counts.entry(v.city.clone()).or_default() += 1;
        }
    }
    counts.into_iter().filter(|(_, n)| *n >= 3).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rooms(caps: &[u32]) -> Vec<CatalogRoom> {
        caps.iter()
            .enumerate()
            .map(|(i, c)| CatalogRoom {
                name: format!("R{i}"),
                capacity: *c,
                layout: if i == caps.len() - 1 && caps.len() > 3 {
                    "reception".into()
                } else {
                    "theatre".into()
                },
            })
            .collect()
    }

    /// Smallest seat total over every k-subset by enumeration (the reference).
    fn brute(r: &[CatalogRoom], k: usize, audience: u32, plenary: u32, min: u32) -> Option<u32> {
        let usable: Vec<&CatalogRoom> = r
            .iter()
            .filter(|x| x.layout != "reception" && x.capacity >= min)
            .collect();
        let n = usable.len();
        (0u32..1 << n)
            .filter(|m| m.count_ones() as usize == k)
            .filter_map(|m| {
                let chosen: Vec<u32> = (0..n)
                    .filter(|i| m >> i & 1 == 1)
                    .map(|i| usable[i].capacity)
                    .collect();
                let sum: u32 = chosen.iter().sum();
                (sum >= audience && chosen.iter().any(|c| *c >= plenary)).then_some(sum)
            })
            .min()
    }

    #[test]
    fn picks_the_smallest_sufficient_combination() {
        let r = rooms(&[2000, 400, 60, 60, 60, 60, 60, 500]);
        // 800 people in 3 rooms with a 400-seat main room: 400 + 400? Only one 400: 400+60+… too
        // small, so the 2000-seat hall is the main room.
        let c = room_combination(&r, 3, 800, 400, 0).unwrap();
        let seats: u32 = c.iter().map(|&i| r[i].capacity).sum();
        assert_eq!(seats, 2120);
        // 450 people in 2 rooms: 400 + 60 = 460.
        let c = room_combination(&r, 2, 450, 225, 0).unwrap();
        assert_eq!(c, vec![1, 2]);
        // The reception space is never a session room, and 8 rooms do not exist.
        assert_eq!(room_combination(&r, 8, 100, 50, 0), None);
        // Rooms of 60 are too small for three tracks of 800: the 400 and the hall, then none.
        assert_eq!(room_combination(&r, 3, 800, 400, 200), None);
        assert_eq!(room_combination(&r, 2, 800, 400, 200), Some(vec![0, 1]));
    }

    proptest! {
        #[test]
        fn room_combination_is_optimal(
            caps in proptest::collection::vec(10u32..600, 1..11),
            k in 1usize..5,
            audience in 10u32..1500,
            min in 0u32..200,
        ) {
            let r = rooms(&caps);
            let plenary = audience / 2;
            let got = room_combination(&r, k, audience, plenary, min).map(|c| {
                assert_eq!(c.len(), k);
                assert!(c.iter().all(|&i| r[i].layout != "reception"));
                assert!(c.iter().any(|&i| r[i].capacity >= plenary));
                c.iter().map(|&i| r[i].capacity).sum::<u32>()
            });
            prop_assert_eq!(got, brute(&r, k, audience, plenary, min));
        }
    }
}
