//! The Venue Researcher's artifacts when no single venue holds the audience: the city's
//! possible sites as leads, and at Advanced a shortlist of site combinations with scores,
//! availability and negotiation notes; below Advanced, the block with ranked options. Built from
//! the pure functions of [`crate::multisite`] and the venue scoring of [`super`]; no I/O.

use super::{Offer, rental, score, total, venue_has};
use crate::Tools;
use crate::data::CatalogVenue;
use crate::instructions::VenueParams;
use crate::multisite::{
    Combination, TRANSFER_NOT_PRICED, alternatives, combinations, combined_venue, fewest_sites,
    largest_in_city, no_venue_holds, session_rooms, stage_rooms, transfer_quote,
};
use crate::{AgentError, Inputs, StepOutput};
use chrono::{NaiveDate, TimeZone};
use eods_domain::artifact::CatalogType;
use eods_domain::catalog::audit::Alternative;
use eods_domain::catalog::brief::EventBrief;
use eods_domain::catalog::venue::{
    AvailabilityEntry, CandidateScore, Hold, HoldStatus, NegotiationEntry, NegotiationStatus,
    ShortlistCandidate, VenueAvailability, VenueCriteria, VenueLead, VenueLeads,
    VenueNegotiationNotes, VenueScorecard, VenueShortlist,
};
use eods_domain::constraints::required_venue_needs;
use eods_domain::ids::{CandidateId, LeadId};
use eods_domain::instruction::Level;
use eods_domain::money::{Currency, Money};
use rust_decimal::Decimal;

/// A venue that can serve as one site, with its cost over the event in the event's currency
/// (hire and the rentals that make up for needs it lacks).
struct Site<'a> {
    venue: &'a CatalogVenue,
    cost: Decimal,
}

/// The city's venues that can serve as a site: free on the dates, step-free, with a session
/// room, meeting the brief's hard venue needs (rented where a supplier rents them); largest
/// first, at most `max`.
fn sites<'a>(
    tools: &'a Tools,
    rates: &crate::data::RateCards,
    b: &EventBrief,
    days: &[NaiveDate],
    max: usize,
) -> Result<Vec<Site<'a>>, AgentError> {
    let needs = required_venue_needs(b);
    let mut out = Vec::new();
    for v in tools
        .catalog
        .venues
        .iter()
        .filter(|v| v.city.eq_ignore_ascii_case(&b.location.city))
        .filter(|v| v.available_on(days))
        .filter(|v| v.accessibility.iter().any(|a| a == "step_free_access"))
        .filter(|v| !session_rooms(v).is_empty())
    {
        let mut extra = Decimal::ZERO;
        let mut fits = true;
        for (need, _) in &needs {
            if venue_has(v, *need) {
                continue;
            }
            match rental(tools, rates, b, *need, days.len()) {
                Some(r) => extra += r.cost,
                None => fits = false,
            }
        }
        if !fits {
            continue;
        }
        let (hire, _) = tools.convert(
            v.day_rate * Decimal::from(days.len()),
            &v.currency,
            &b.budget.currency,
            crate::fx::rate_day(b),
        )?;
        out.push(Site {
            venue: v,
            cost: (hire + extra).round_dp(2),
        });
    }
    out.sort_by(|x, y| {
        y.venue
            .capacity
            .cmp(&x.venue.capacity)
            .then(x.cost.cmp(&y.cost))
            .then(x.venue.id.cmp(&y.venue.id))
    });
    out.truncate(max);
    Ok(out)
}

/// What the Venue Researcher does when no single venue in the city holds the audience: `None`
/// when one does, or the city has no venues (research goes on as usual); at Advanced, criteria, leads (the sites), a
/// shortlist of site combinations, scorecard, availability and negotiation notes; otherwise a
/// block with the ranked [`alternatives`].
pub fn research(
    input: Inputs<'_>,
    p: &VenueParams,
    envelope: Decimal,
    criteria: &VenueCriteria,
) -> Result<Option<StepOutput>, AgentError> {
    let b = input.need::<eods_domain::catalog::brief::EventBrief>()?;
    let tools = input.tools;
    if !no_venue_holds(tools, b) {
        return Ok(None);
    }
    let cur = &b.budget.currency;
    let days = b.event_days();
    let sites = sites(tools, &input.data()?.rates, b, &days, p.max_leads)?;
    let keys: Vec<(u32, Decimal)> = sites.iter().map(|s| (s.venue.capacity, s.cost)).collect();
    let fewest = fewest_sites(
        &keys.iter().map(|k| k.0).collect::<Vec<_>>(),
        b.audience_size,
    );
    let largest = largest_in_city(tools, b).map_or(0, |v| v.capacity);
    let no_venue = format!(
        "no single venue in {} holds {} people (the largest holds {largest})",
        b.location.city, b.audience_size
    );
    if !p.site_combinations {
        return Err(AgentError::Infeasible {
            reason: format!(
                "{no_venue}; at this level venues are not combined: choose one of the ranked options"
            ),
            alternatives: alternatives(tools, b, fewest),
        });
    }
    let Some(fewest) = fewest else {
        return Err(AgentError::Infeasible {
            reason: format!(
                "{no_venue}, and the {} venue(s) free, step-free and meeting the brief's needs on the dates hold {} together",
                sites.len(),
                keys.iter().map(|k| k.0).sum::<u32>()
            ),
            alternatives: alternatives(tools, b, None),
        });
    };
    let all = combinations(&keys, b.audience_size, p.shortlist_max.max(p.shortlist_min));
    let affordable: Vec<&Combination> = all.iter().filter(|c| c.cost <= envelope).collect();
    if affordable.len() < p.shortlist_min {
        let mut alts = alternatives(tools, b, None);
        if let Some(c) = all.first() {
            alts.insert(
                0,
                Alternative {
                    option: format!(
                        "Raise the venue budget to {} for {}",
                        Money::new(c.cost, cur),
                        names(&sites, &c.sites)
                    ),
                    score: 0.5,
                    pros: vec![format!(
                        "{} sites hold {} together",
                        c.sites.len(),
                        c.capacity
                    )],
                    cons: vec![format!(
                        "costs {} more than the venue budget",
                        Money::new(c.cost - envelope, cur)
                    )],
                },
            );
        }
        return Err(AgentError::Infeasible {
            reason: format!(
                "{no_venue}; only {} combination(s) of {fewest} or {} sites fit the venue budget of {}; at least {} are needed",
                affordable.len(),
                fewest + 1,
                Money::new(envelope, cur),
                p.shortlist_min
            ),
            alternatives: alts,
        });
    }
    Ok(Some(output(
        input,
        p,
        envelope,
        criteria,
        &sites,
        &affordable[..affordable.len().min(p.shortlist_max)],
        &no_venue,
    )?))
}

fn names(sites: &[Site<'_>], chosen: &[usize]) -> String {
    chosen
        .iter()
        .map(|&i| sites[i].venue.name.as_str())
        .collect::<Vec<_>>()
        .join(" + ")
}

/// `candidate-sites-87-88-90` for venues `venue-87`, `venue-88`, `venue-90`.
fn combination_id(sites: &[&CatalogVenue]) -> CandidateId {
    let nums: Vec<&str> = sites
        .iter()
        .map(|v| v.id.as_str().rsplit('-').next().unwrap_or(v.id.as_str()))
        .collect();
    CandidateId(format!("{}-sites-{}", CandidateId::PREFIX, nums.join("-")))
}

/// The six venue artifacts for a shortlist of site combinations.
fn output(
    input: Inputs<'_>,
    p: &VenueParams,
    envelope: Decimal,
    criteria: &VenueCriteria,
    sites: &[Site<'_>],
    chosen: &[&Combination],
    no_venue: &str,
) -> Result<StepOutput, AgentError> {
    let b = input.need::<EventBrief>()?;
    let tools = input.tools;
    let cur = &b.budget.currency;
    let days = b.event_days();

    let leads = site_leads(sites, cur, days.len());
    let (candidates, scores) = shortlist(b, p, envelope, sites, chosen);
    let excluded = input.directives.excluded_candidates.clone();
    let Some(selected) = candidates.iter().find(|c| !excluded.contains(&c.id)) else {
        return Err(AgentError::Infeasible {
            reason: "every shortlisted combination of sites was rejected by an approver".into(),
            alternatives: alternatives(tools, b, None),
        });
    };
    let transfer_note = match transfer_quote(tools, b, selected.sites.len())? {
        Some(t) => format!(
            "transfers between sites are needed: priced from {}'s rate card at {} ({})",
            t.supplier,
            Money::new(t.total, cur),
            t.code
        ),
        None => format!("transfers between sites are needed: {TRANSFER_NOT_PRICED}"),
    };
    let rationale = format!(
        "{no_venue}, so the audience is spread over {} sites: {}; together they hold {} for {} people at {} within the venue budget of {}. Combinations are ranked by the fewest sites, then the lowest cost; {} were shortlisted. Stages: {}. Each site hosts part of the program in its own rooms; {}.",
        selected.sites.len(),
        breakdown(sites, selected, cur),
        selected.capacity,
        b.audience_size,
        selected.cost_estimate,
        Money::new(envelope, cur),
        candidates.len(),
        selected.rooms.join(", "),
        transfer_note
    );
    let scorecard = VenueScorecard {
        criteria_weights: p.weights.clone(),
        candidate_scores: scores,
        ranking: candidates.iter().map(|c| c.id.clone()).collect(),
        selected_candidate_id: selected.id.clone(),
        selection_rationale: rationale.clone(),
        excluded: excluded.clone(),
    };
    let availability = availability(b, p, &candidates, &excluded, &transfer_note);
    let negotiation = negotiation(input.level, sites, &candidates, &excluded, cur, days.len());
    let alternatives = combination_alternatives(&candidates, &excluded, &transfer_note);
    Ok(StepOutput {
        raised: vec![],
        summary: format!(
            "No single venue holds {}: found {} possible sites, shortlisted {} combinations, selected {} ({} sites)",
            b.audience_size,
            leads.len(),
            candidates.len(),
            selected.name,
            selected.sites.len()
        ),
        rationale,
        alternatives,
        artifacts: vec![
            criteria.clone().into_payload(),
            VenueLeads {
                sources: vec![format!(
                    "{} — {}",
                    tools.catalog.source,
                    eods_domain::catalog::sources::DEMO_LABEL
                )],
                leads,
                consulted: vec![],
                attributions: vec![],
            }
            .into_payload(),
            VenueShortlist { candidates }.into_payload(),
            scorecard.into_payload(),
            availability.into_payload(),
            negotiation.into_payload(),
        ],
    })
}

/// Every possible site as a lead, with its cost over the event's `days`.
fn site_leads(sites: &[Site<'_>], cur: &Currency, days: usize) -> Vec<VenueLead> {
    sites
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let v = s.venue;
            VenueLead {
                id: LeadId::nth(i + 1),
                venue_ref: v.id.clone(),
                name: v.name.clone(),
                contact: v.contact.clone(),
                notes: format!(
                    "{} ({}), capacity {}, {} room(s), {} for {} day(s); a possible site: no single venue holds the audience",
                    v.name,
                    v.district,
                    v.capacity,
                    v.rooms.len(),
                    Money::new(s.cost, cur),
                    days
                ),
                source: eods_domain::catalog::sources::DEMO_LABEL.to_owned(),
                provenance: Some(eods_domain::catalog::sources::Provenance::demo()),
                capacity: Some(v.capacity),
                day_rate: Some(Money::new(v.day_rate, &v.currency)),
                facts: eods_domain::catalog::venue::Facts::Known,
                request_for_quote: None,
                record: None,
            }
        })
        .collect()
}

/// The shortlisted combinations, each scored as one combined venue, with their scores.
fn shortlist(
    b: &EventBrief,
    p: &VenueParams,
    envelope: Decimal,
    sites: &[Site<'_>],
    chosen: &[&Combination],
) -> (Vec<ShortlistCandidate>, Vec<CandidateScore>) {
    let cur = &b.budget.currency;
    let mut candidates = Vec::new();
    let mut scores = Vec::new();
    for c in chosen {
        let venues: Vec<&CatalogVenue> = c.sites.iter().map(|&i| sites[i].venue).collect();
        let Some(combined) = combined_venue(&venues) else {
            continue;
        };
        let rooms = stage_rooms(&venues, b.tracks);
        let offer = Offer {
            venue: &combined,
            cost: c.cost,
            capacity: c.capacity,
            rooms: vec![],
            whole_price: None,
            rentals: vec![],
            lacks: vec![],
        };
        let s = score(&offer, envelope, b, p.max_capacity_factor);
        let t = (total(&p.weights, &s) * 1e6).round() / 1e6;
        let id = combination_id(&venues);
        scores.push(CandidateScore {
            candidate_id: id.clone(),
            scores: s,
            total: t,
        });
        candidates.push(ShortlistCandidate {
            id,
            lead_id: LeadId::nth(c.sites[0] + 1),
            venue_ref: venues[0].id.clone(),
            name: combined.name.clone(),
            capacity: c.capacity,
            cost_estimate: Money::new(c.cost, cur),
            score: t,
            within_budget: c.cost <= envelope,
            rooms,
            whole_venue_price: None,
            rentals: vec![],
            conversion: None,
            sites: venues.iter().map(|v| v.id.to_string()).collect(),
        });
    }
    (candidates, scores)
}

/// A combination's sites, each with its capacity and cost.
fn breakdown(sites: &[Site<'_>], c: &ShortlistCandidate, cur: &Currency) -> String {
    c.sites
        .iter()
        .filter_map(|id| sites.iter().find(|s| s.venue.id.as_str() == id))
        .map(|s| {
            format!(
                "{} ({} people, {})",
                s.venue.name,
                s.venue.capacity,
                Money::new(s.cost, cur)
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Availability of every combination on the event's days, every site held together (until
/// 17:00 four weeks before) for the first combinations no approver rejected.
fn availability(
    b: &EventBrief,
    p: &VenueParams,
    candidates: &[ShortlistCandidate],
    excluded: &[CandidateId],
    transfer_note: &str,
) -> VenueAvailability {
    let days = b.event_days();
    let tz: chrono_tz::Tz = b.timezone.parse().unwrap_or(chrono_tz::UTC);
    let hold_expiry = b.first_day() - chrono::Duration::days(28);
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
    VenueAvailability {
        entries: candidates
            .iter()
            .map(|c| AvailabilityEntry {
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
                constraints: vec![
                    format!("Every site held for the same dates: {}", c.sites.join(", ")),
                    format!(
                        "Access from 2 hours before the first session at each site; {transfer_note}"
                    ),
                ],
            })
            .collect(),
    }
}

/// Negotiation notes for the first two combinations no approver rejected: every site's terms,
/// a target 10% under the estimate, and cancellation that keeps the sites together.
fn negotiation(
    level: Level,
    sites: &[Site<'_>],
    candidates: &[ShortlistCandidate],
    excluded: &[CandidateId],
    cur: &Currency,
    days: usize,
) -> VenueNegotiationNotes {
    VenueNegotiationNotes {
        entries: candidates
            .iter()
            .filter(|c| !excluded.contains(&c.id))
            .take(2)
            .map(|c| NegotiationEntry {
                candidate_id: c.id.clone(),
                terms: format!(
                    "Whole venues {} for {} day(s) at {} in total",
                    breakdown(sites, c, cur),
                    days,
                    c.cost_estimate
                ),
                target_price: Money::new(c.cost_estimate.amount * Decimal::new(90, 2), cur),
                concessions: vec![
                    "Free cancellation until 30 days before the event, at every site".to_owned(),
                    "Sites booked together: cancel one only if the others can be released too"
                        .to_owned(),
                ],
                status: if level >= Level::Intermediate {
                    NegotiationStatus::InProgress
                } else {
                    NegotiationStatus::NotStarted
                },
            })
            .collect(),
    }
}

/// Every combination as an alternative for the record: rejected ones marked so, the others
/// with the transfers they need.
fn combination_alternatives(
    candidates: &[ShortlistCandidate],
    excluded: &[CandidateId],
    transfer_note: &str,
) -> Vec<Alternative> {
    candidates
        .iter()
        .map(|c| Alternative {
            option: format!("{} ({})", c.name, c.id),
            score: c.score,
            pros: vec![
                format!("{} sites, capacity {}", c.sites.len(), c.capacity),
                format!("cost {}", c.cost_estimate),
            ],
            cons: if excluded.contains(&c.id) {
                vec!["rejected by an approver".into()]
            } else {
                vec![transfer_note.to_owned()]
            },
        })
        .collect()
}
