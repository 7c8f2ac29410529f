//! Venue Researcher: criteria from the brief, leads from the venue catalog, an in-budget and
//! available shortlist, weighted multi-criteria scoring, the selection (skipping candidates an
//! approver rejected), availability with holds, and negotiation notes.

use crate::data::CatalogVenue;
use crate::instructions::{BudgetParams, VenueParams};
use crate::{AgentError, StepInput, StepOutput};
use chrono::{NaiveDate, TimeZone};
use eods_domain::artifact::CatalogType;
use eods_domain::catalog::audit::Alternative;
use eods_domain::catalog::brief::{EventBrief, EventType};
use eods_domain::catalog::venue::{
    AvailabilityEntry, BudgetRange, CandidateScore, Criterion, Hold, HoldStatus, NegotiationEntry,
    NegotiationStatus, ShortlistCandidate, VenueAvailability, VenueCriteria, VenueLead, VenueLeads,
    VenueNegotiationNotes, VenueScorecard, VenueShortlist,
};
use eods_domain::ids::{CandidateId, LeadId};
use eods_domain::instruction::Level;
use eods_domain::money::Money;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use std::collections::BTreeMap;

/// The venue budget envelope: the venue share of the brief's total.
pub fn venue_envelope(b: &EventBrief, p: &BudgetParams) -> Decimal {
    let share = p
        .venue_share
        .get(&b.event_type)
        .copied()
        .unwrap_or(Decimal::new(30, 2));
    (b.budget.total * share).round_dp(2)
}

/// Amenities every venue for this brief needs.
pub fn required_amenities(b: &EventBrief) -> Vec<String> {
    let mut a = vec!["wifi", "projector"];
    if b.audience_size > 50 {
        a.push("sound_system");
    }
    if b.date_range.days() > 1 || b.audience_size >= 100 {
        a.push("catering_kitchen");
    }
    if b.tracks > 1 {
        a.push("breakout_rooms");
    }
    if b.audience_size >= 300 {
        a.push("streaming");
    }
    a.into_iter().map(str::to_owned).collect()
}

/// Accessibility features every venue for this brief needs.
pub fn required_accessibility(b: &EventBrief) -> Vec<String> {
    let mut a = vec!["step_free_access", "accessible_toilets"];
    if b.audience_size >= 100 {
        a.push("hearing_loop");
    }
    a.into_iter().map(str::to_owned).collect()
}

/// The candidate id of a catalog venue: stable across revisions (`venue-12` → `candidate-12`).
pub fn candidate_id(v: &CatalogVenue) -> CandidateId {
    let n = v.id.as_str().rsplit('-').next().unwrap_or(v.id.as_str());
    CandidateId(format!("{}-{n}", CandidateId::PREFIX))
}

fn frac(have: &[String], need: &[String]) -> f64 {
    if need.is_empty() {
        return 1.0;
    }
    need.iter().filter(|n| have.contains(n)).count() as f64 / need.len() as f64
}

/// Scores one venue on every criterion, each in 0..1.
pub fn score(
    v: &CatalogVenue,
    cost: Decimal,
    envelope: Decimal,
    b: &EventBrief,
    factor: f64,
) -> BTreeMap<Criterion, f64> {
    let aud = f64::from(b.audience_size.max(1));
    let r = f64::from(v.capacity) / aud;
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
        round6((v.rooms.len() as f64 / f64::from(b.tracks.max(1))).min(1.0)),
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

/// A lead's index, venue, cost, scores and total.
type Scored<'a> = (
    usize,
    &'a CatalogVenue,
    Decimal,
    BTreeMap<Criterion, f64>,
    f64,
);

/// Criteria, leads, shortlist, scorecard, availability and negotiation notes.
pub fn research(
    input: StepInput<'_>,
    p: &VenueParams,
    bp: &BudgetParams,
) -> Result<StepOutput, AgentError> {
    let b = input.need::<EventBrief>()?;
    let tools = input.tools;
    let envelope = venue_envelope(b, bp);
    let days: Vec<NaiveDate> = b.date_range.iter_days().collect();
    let max_capacity =
        ((f64::from(b.audience_size) * p.max_capacity_factor) as u32).max(b.audience_size + 40);
    let cur = &b.budget.currency;
    let criteria = VenueCriteria {
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
    };

    // Leads: venues in the city that hold the audience and have a room per track.
    let mut found: Vec<(&CatalogVenue, Decimal)> = tools
        .catalog
        .venues
        .iter()
        .filter(|v| v.city.eq_ignore_ascii_case(&b.location.city))
        .filter(|v| v.capacity >= b.audience_size)
        .filter(|v| v.rooms.len() as u32 >= b.tracks.max(1))
        .filter_map(|v| {
            tools
                .rates
                .convert(v.day_rate * Decimal::from(days.len()), &v.currency, cur)
                .map(|c| (v, c))
        })
        .collect();
    // Venues of the preferred size come first; larger ones fill the remaining lead slots.
    found.sort_by(|(a, ca), (b2, cb)| {
        (a.capacity > max_capacity)
            .cmp(&(b2.capacity > max_capacity))
            .then(ca.cmp(cb))
            .then(a.capacity.cmp(&b2.capacity))
            .then(a.id.cmp(&b2.id))
    });
    found.truncate(p.max_leads);
    if found.len() < p.min_leads {
        let elsewhere = cities_that_fit(input, b);
        return Err(AgentError::Infeasible {
            reason: format!(
                "only {} venue(s) in {} hold {} people with {} room(s); at least {} leads are needed",
                found.len(),
                b.location.city,
                b.audience_size,
                b.tracks.max(1),
                p.min_leads
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
    let leads: Vec<VenueLead> = found
        .iter()
        .enumerate()
        .map(|(i, (v, cost))| {
            let mut notes = format!(
                "{} ({}), capacity {}, {} room(s), {} for {} day(s)",
                v.name,
                v.district,
                v.capacity,
                v.rooms.len(),
                Money::new(*cost, cur),
                days.len()
            );
            if !v.available_on(&days) {
                notes.push_str("; booked on the event dates");
            }
            VenueLead {
                id: LeadId::nth(i + 1),
                venue_ref: v.id.clone(),
                name: v.name.clone(),
                contact: v.contact.clone(),
                notes,
                source: tools.catalog.source.clone(),
            }
        })
        .collect();

    // Shortlist: available and within the venue envelope, best scores first.
    let mut scored: Vec<Scored<'_>> = found
        .iter()
        .enumerate()
        // Step-free access is a must: no attendee is left outside.
        .filter(|(_, (v, cost))| {
            v.available_on(&days)
                && *cost <= envelope
                && v.accessibility.iter().any(|a| a == "step_free_access")
        })
        .map(|(i, (v, cost))| {
            let s = score(v, *cost, envelope, b, p.max_capacity_factor);
            let t = round6(total(&p.weights, &s));
            (i, *v, *cost, s, t)
        })
        .collect();
    scored.sort_by(|a, b2| {
        b2.4.total_cmp(&a.4)
            .then(a.2.cmp(&b2.2))
            .then(a.1.id.cmp(&b2.1.id))
    });
    scored.truncate(p.shortlist_max);
    if scored.len() < p.shortlist_min {
        let mut costs: Vec<Decimal> = found
            .iter()
            .filter(|(v, _)| v.available_on(&days))
            .map(|(_, c)| *c)
            .collect();
        costs.sort();
        let needed = costs.get(p.shortlist_min - 1).copied();
        return Err(AgentError::Infeasible {
            reason: format!(
                "only {} available, step-free venue(s) in {} fit the venue budget of {}; at least {} are needed",
                scored.len(),
                b.location.city,
                Money::new(envelope, cur),
                p.shortlist_min
            ),
            alternatives: needed
                .map(|n| {
                    vec![Alternative {
                        option: format!("Raise the venue budget to {}", Money::new(n, cur)),
                        score: 0.7,
                        pros: vec![format!("{} venues become affordable", p.shortlist_min)],
                        cons: vec!["needs a larger total budget or cuts elsewhere".into()],
                    }]
                })
                .unwrap_or_default(),
        });
    }
    let excluded: Vec<CandidateId> = input.directives.excluded_candidates.clone();
    let candidates: Vec<ShortlistCandidate> = scored
        .iter()
        .map(|(i, v, cost, _, t)| ShortlistCandidate {
            id: candidate_id(v),
            lead_id: leads[*i].id.clone(),
            venue_ref: v.id.clone(),
            name: v.name.clone(),
            capacity: v.capacity,
            cost_estimate: Money::new(*cost, cur),
            score: *t,
            within_budget: *cost <= envelope,
        })
        .collect();
    let ranking: Vec<CandidateId> = candidates.iter().map(|c| c.id.clone()).collect();
    let Some(selected) = candidates.iter().find(|c| !excluded.contains(&c.id)) else {
        return Err(AgentError::Infeasible {
            reason: "every shortlisted venue was rejected by an approver".into(),
            alternatives: vec![Alternative {
                option: "Widen the search: raise the venue budget or relax capacity".into(),
                score: 0.5,
                pros: vec!["more candidates".into()],
                cons: vec!["costs more".into()],
            }],
        });
    };
    let runner_up = candidates
        .iter()
        .find(|c| !excluded.contains(&c.id) && c.id != selected.id);
    let rationale = format!(
        "{} scores {:.3}, the best of {} shortlisted venues{}; it holds {} for {} people at {} within the venue budget of {}.{}",
        selected.name,
        selected.score,
        candidates.len(),
        runner_up
            .map(|r| format!(" (runner-up {} at {:.3})", r.name, r.score))
            .unwrap_or_default(),
        selected.capacity,
        b.audience_size,
        selected.cost_estimate,
        Money::new(envelope, cur),
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
    );
    let scorecard = VenueScorecard {
        criteria_weights: p.weights.clone(),
        candidate_scores: scored
            .iter()
            .map(|(_, v, _, s, t)| CandidateScore {
                candidate_id: candidate_id(v),
                scores: s.clone(),
                total: *t,
            })
            .collect(),
        ranking,
        selected_candidate_id: selected.id.clone(),
        selection_rationale: rationale.clone(),
        excluded: excluded.clone(),
    };

    let tz: chrono_tz::Tz = b.timezone.parse().unwrap_or(chrono_tz::UTC);
    let hold_expiry = b.date_range.start - chrono::Duration::days(28);
    let expires_at = tz
        .from_local_datetime(&hold_expiry.and_hms_opt(17, 0, 0).unwrap_or_default())
        .single()
        .map(|d| d.fixed_offset());
    let held: Vec<&CandidateId> = candidates
        .iter()
        .filter(|c| !excluded.contains(&c.id))
        .take(p.holds)
        .map(|c| &c.id)
        .collect();
    let availability = VenueAvailability {
        entries: candidates
            .iter()
            .map(|c| {
                let v = tools.catalog.venues.iter().find(|v| v.id == c.venue_ref);
                AvailabilityEntry {
                    candidate_id: c.id.clone(),
                    dates: days.clone(),
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
    };
    let negotiation = VenueNegotiationNotes {
        entries: candidates
            .iter()
            .filter(|c| !excluded.contains(&c.id))
            .take(2)
            .map(|c| {
                let v = tools.catalog.venues.iter().find(|v| v.id == c.venue_ref);
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
                    terms: format!(
                        "Whole venue for {} day(s) at {}",
                        days.len(),
                        c.cost_estimate
                    ),
                    target_price: Money::new(c.cost_estimate.amount * Decimal::new(90, 2), cur),
                    concessions,
                    status: if input.level >= Level::Intermediate {
                        NegotiationStatus::InProgress
                    } else {
                        NegotiationStatus::NotStarted
                    },
                }
            })
            .collect(),
    };
    let alternatives = candidates
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
        .collect();
    Ok(StepOutput {
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
                sources: vec![tools.catalog.source.clone()],
                leads,
            }
            .into_payload(),
            VenueShortlist { candidates }.into_payload(),
            scorecard.into_payload(),
            availability.into_payload(),
            negotiation.into_payload(),
        ],
    })
}

fn cities_that_fit(input: StepInput<'_>, b: &EventBrief) -> Vec<(String, usize)> {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for v in &input.tools.catalog.venues {
        if v.capacity >= b.audience_size && !v.city.eq_ignore_ascii_case(&b.location.city) {
            *counts.entry(v.city.clone()).or_default() += 1;
        }
    }
    counts.into_iter().filter(|(_, n)| *n >= 3).collect()
}
