//! Large events: the pure functions over *sites* the Venue Researcher (`venue::sites`), the
//! Budget Analyst (transfer quotes) and the Logistics Coordinator (the combined venue, transfer
//! policy) share when no single venue in the brief's city holds the audience. A leaf: it depends
//! on no agent module.
//!
//! At Advanced (the instruction parameter `site_combinations`) it combines whole venues of the
//! city — *sites* — into one candidate: the fewest sites that seat the audience together, then
//! the cheapest ([`combinations`], exact). Every combination becomes one shortlist candidate whose
//! `sites` list the venue ids, whose capacity is the sum of the sites' and whose cost estimate is
//! the sum of their hire. At Beginner and Intermediate the researcher blocks with ranked ways out
//! ([`alternatives`]): split the audience over days, cap attendance at the largest venue, an
//! outdoor site (only when the data has one), or combine venues at Advanced.
//!
//! Decision, documented here because logistics depends on it: a combination is scheduled as one
//! synthetic [`CatalogVenue`] ([`combined_venue`]) whose rooms are the sites' rooms named
//! `<site>: <room>`; the candidate's `rooms` are the stage rooms ([`stage_rooms`]): each site's
//! largest session room, then round-robin over the sites until every track has one, so every site
//! hosts part of the program.
//!
//! Transfers between sites are needed and said so. They are priced only when a rate card of a
//! supplier serving the city has a [`TRANSFER_CODES`] item ([`transfer_quote`]); otherwise the
//! plan carries the open item [`TRANSFER_NOT_PRICED`]. A price is never invented.
//!
//! Pure functions over the catalog's venues, the brief and the instruction parameters; no I/O.
//! This module must not decide where venues come from (that is `venue.rs`).

use crate::data::{CatalogVenue, Service};
use crate::{AgentError, Tools};
use chrono::NaiveDate;
use eods_domain::catalog::audit::Alternative;
use eods_domain::catalog::brief::{EventBrief, Flexibility};
use eods_domain::catalog::venue::{VenueScorecard, VenueShortlist};
use rust_decimal::Decimal;

/// Rate-card item codes that price a transfer (shuttle) between the sites of one event.
pub const TRANSFER_CODES: [&str; 2] = ["site_transfer", "shuttle"];

/// The open item a combination of sites carries when no rate card prices a transfer.
pub const TRANSFER_NOT_PRICED: &str = "transfer between sites: not priced, ask for a quote";

/// Separates a site's name from its room's in a combined venue's room names.
pub const ROOM_SEPARATOR: &str = ": ";

/// Search nodes visited before the search stops with the best found so far: a bound on the
/// work for very long venue lists; a city's catalog stays far below it.
const NODE_LIMIT: u64 = 2_000_000;

/// Some sites that together seat the audience: indices into the sites searched, largest first.
#[derive(Debug, Clone, PartialEq)]
pub struct Combination {
    pub sites: Vec<usize>,
    /// Σ the sites' capacities.
    pub capacity: u32,
    /// Σ the sites' costs.
    pub cost: Decimal,
}

/// The fewest sites whose capacities sum to at least `audience`: the largest ones first is
/// optimal for a count. `None` when all of them together are too small.
pub fn fewest_sites(capacities: &[u32], audience: u32) -> Option<usize> {
    let mut caps = capacities.to_vec();
    caps.sort_unstable_by(|a, b| b.cmp(a));
    let mut sum = 0u64;
    for (i, c) in caps.iter().enumerate() {
        sum += u64::from(*c);
        if sum >= u64::from(audience) {
            return Some(i + 1);
        }
    }
    None
}

/// Combinations of sites (`(capacity, cost)` each) that seat `audience`, best first: the fewest
/// sites, then the lowest cost, then the site indices. Combinations of the fewest sites come
/// first; when there are fewer than `want` of them, those with one site more follow. At most
/// `want` are returned. Exact: a depth-first search over the sites by capacity, pruned when the
/// largest remaining sites cannot reach the audience or the cost already exceeds the `want`-th
/// best (costs are never negative).
pub fn combinations(sites: &[(u32, Decimal)], audience: u32, want: usize) -> Vec<Combination> {
    let caps: Vec<u32> = sites.iter().map(|s| s.0).collect();
    let Some(k) = fewest_sites(&caps, audience) else {
        return vec![];
    };
    if want == 0 {
        return vec![];
    }
    let mut order: Vec<usize> = (0..sites.len()).collect();
    order.sort_by(|&a, &b| sites[b].0.cmp(&sites[a].0).then(a.cmp(&b)));
    let mut out = Vec::new();
    for size in k..=(k + 1).min(sites.len()) {
        let mut found = Vec::new();
        let mut search = Search {
            sites,
            order: &order,
            audience: u64::from(audience),
            size,
            want: want - out.len(),
            found: &mut found,
            nodes: 0,
        };
        search.walk(0, &mut Vec::new(), 0, Decimal::ZERO);
        out.extend(found);
        if out.len() >= want {
            break;
        }
    }
    out
}

/// The state of one depth-first search for combinations of exactly `size` sites.
struct Search<'a> {
    sites: &'a [(u32, Decimal)],
    /// Site indices by capacity, largest first.
    order: &'a [usize],
    audience: u64,
    size: usize,
    want: usize,
    /// The best combinations so far, sorted.
    found: &'a mut Vec<Combination>,
    nodes: u64,
}

impl Search<'_> {
    fn walk(&mut self, from: usize, chosen: &mut Vec<usize>, seats: u64, cost: Decimal) {
        self.nodes += 1;
        if self.nodes > NODE_LIMIT {
            return;
        }
        if chosen.len() == self.size {
            if seats >= self.audience {
                self.keep(chosen, seats, cost);
            }
            return;
        }
        if self.found.len() >= self.want && self.found.last().is_some_and(|w| cost > w.cost) {
            return;
        }
        let left = self.size - chosen.len();
        for at in from..self.order.len() {
            if self.order.len() - at < left {
                break;
            }
            // The sites are by capacity: the next `left` from here are the most this branch
            // can still add.
            let best: u64 = self.order[at..at + left]
                .iter()
                .map(|&i| u64::from(self.sites[i].0))
                .sum();
            if seats + best < self.audience {
                break;
            }
            let i = self.order[at];
            chosen.push(i);
            self.walk(
                at + 1,
                chosen,
                seats + u64::from(self.sites[i].0),
                cost + self.sites[i].1,
            );
            chosen.pop();
        }
    }

    fn keep(&mut self, chosen: &[usize], seats: u64, cost: Decimal) {
        let mut sites = chosen.to_vec();
        sites.sort_by(|&a, &b| self.sites[b].0.cmp(&self.sites[a].0).then(a.cmp(&b)));
        let c = Combination {
            sites,
            capacity: u32::try_from(seats).unwrap_or(u32::MAX),
            cost,
        };
        let at = self
            .found
            .partition_point(|x| (x.cost, &x.sites) <= (c.cost, &c.sites));
        self.found.insert(at, c);
        self.found.truncate(self.want);
    }
}

/// A site's session rooms (reception spaces are not stages), largest first.
pub(crate) fn session_rooms(v: &CatalogVenue) -> Vec<&crate::data::CatalogRoom> {
    v.rooms_by_size()
        .into_iter()
        .filter(|r| r.layout != "reception")
        .collect()
}

/// The name of a site's room in a combined venue: `<site>: <room>`.
pub fn site_room(site: &CatalogVenue, room: &str) -> String {
    format!("{}{ROOM_SEPARATOR}{room}", site.name)
}

/// The rooms a combination stages its program in: each site's largest session room, then the
/// next largest of each site in turn, until there is one per track (at least one per site).
pub fn stage_rooms(sites: &[&CatalogVenue], tracks: u32) -> Vec<String> {
    let want = (tracks.max(1) as usize).max(sites.len());
    let per_site: Vec<Vec<String>> = sites
        .iter()
        .map(|s| {
            session_rooms(s)
                .iter()
                .map(|r| site_room(s, &r.name))
                .collect()
        })
        .collect();
    let mut out = Vec::new();
    let deepest = per_site.iter().map(Vec::len).max().unwrap_or(0);
    for depth in 0..deepest {
        for rooms in &per_site {
            if out.len() == want {
                return out;
            }
            if let Some(r) = rooms.get(depth) {
                out.push(r.clone());
            }
        }
    }
    out
}

/// One venue made of the sites, for scheduling: its rooms are every site's rooms named
/// `<site>: <room>`, its capacity the sum, its id the first site's. Amenities and accessibility
/// are those every site has; the transit time is the longest; a date is unavailable when any
/// site is booked. `day_rate` sums the sites' rates and means something only when they quote in
/// one currency: plans read the shortlist candidate's converted `cost_estimate` instead.
pub fn combined_venue(sites: &[&CatalogVenue]) -> Option<CatalogVenue> {
    let first = sites.first()?;
    let all = |pick: fn(&CatalogVenue) -> &Vec<String>| -> Vec<String> {
        pick(first)
            .iter()
            .filter(|a| sites.iter().all(|s| pick(s).contains(a)))
            .cloned()
            .collect()
    };
    let mut unavailable: Vec<NaiveDate> = sites
        .iter()
        .flat_map(|s| s.unavailable_dates.iter().copied())
        .collect();
    unavailable.sort();
    unavailable.dedup();
    Some(CatalogVenue {
        id: first.id.clone(),
        name: sites
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>()
            .join(" + "),
        city: first.city.clone(),
        country: first.country.clone(),
        district: sites
            .iter()
            .map(|s| s.district.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        address: String::new(),
        contact: first.contact.clone(),
        capacity: sites.iter().map(|s| s.capacity).sum(),
        rooms: sites
            .iter()
            .flat_map(|s| {
                s.rooms.iter().map(|r| crate::data::CatalogRoom {
                    name: site_room(s, &r.name),
                    capacity: r.capacity,
                    layout: r.layout.clone(),
                })
            })
            .collect(),
        day_rate: sites.iter().map(|s| s.day_rate).sum(),
        currency: first.currency.clone(),
        amenities: all(|v| &v.amenities),
        accessibility: all(|v| &v.accessibility),
        city_centre: sites.iter().all(|s| s.city_centre),
        transit_minutes: sites.iter().map(|s| s.transit_minutes).max().unwrap_or(0),
        unavailable_dates: unavailable,
        notes: format!(
            "{} sites used together; {TRANSFER_NOT_PRICED} unless a rate card prices it",
            sites.len()
        ),
        provenance: Some(eods_domain::catalog::sources::Provenance::demo()),
    })
}

/// The combined venue of the selected candidate, when the scorecard selected a combination of
/// sites; `None` for a single venue (or a site missing from the catalog).
pub fn selected_sites(
    tools: &Tools,
    shortlist: &VenueShortlist,
    scorecard: &VenueScorecard,
) -> Option<CatalogVenue> {
    let c = shortlist
        .candidates
        .iter()
        .find(|c| c.id == scorecard.selected_candidate_id)?;
    if c.sites.is_empty() {
        return None;
    }
    let sites: Option<Vec<&CatalogVenue>> = c
        .sites
        .iter()
        .map(|id| tools.catalog.venues.iter().find(|v| v.id.as_str() == id))
        .collect();
    combined_venue(&sites?)
}

/// How the cost model's transfer line starts (see [`TransferQuote::description`]).
pub const TRANSFER_LINE_PREFIX: &str = "Transfers between the";

/// The logistics policy for a combination of sites: transfers between them, priced by the cost
/// model's transfer line when it has one, else the open item [`TRANSFER_NOT_PRICED`].
pub fn transfer_policy(
    combined: &CatalogVenue,
    lines: &[eods_domain::catalog::budget::LineItem],
) -> String {
    match lines
        .iter()
        .find(|l| l.description.starts_with(TRANSFER_LINE_PREFIX))
    {
        Some(l) => format!(
            "Transfers between the sites of {}: {} ({}), booked with the other suppliers",
            combined.name, l.description, l.id
        ),
        None => format!(
            "Transfers between the sites of {}: {TRANSFER_NOT_PRICED}; signpost the walking and public-transport routes meanwhile",
            combined.name
        ),
    }
}

/// A transfer between sites priced from a rate card, in the event's currency.
#[derive(Debug, Clone, PartialEq)]
pub struct TransferQuote {
    pub supplier_id: String,
    pub supplier: String,
    pub service: Service,
    pub code: String,
    /// Units priced: per day, one per link between neighbouring sites and day; per event, one
    /// per link; per head, one per attendee and day; any other unit, one per link.
    pub qty: Decimal,
    pub unit_cost: Decimal,
    pub total: Decimal,
    pub description: String,
}

/// The cheapest transfer between `sites` sites from a supplier serving the brief's city, when a
/// rate card prices one ([`TRANSFER_CODES`]); `None` for one site or when none does.
pub fn transfer_quote(
    tools: &Tools,
    b: &EventBrief,
    sites: usize,
) -> Result<Option<TransferQuote>, AgentError> {
    if sites < 2 {
        return Ok(None);
    }
    let links = Decimal::from(sites - 1);
    let days = Decimal::from(b.days().max(1));
    let mut best: Option<TransferQuote> = None;
    for s in tools
        .rates
        .suppliers
        .iter()
        .filter(|s| s.serves(&b.location.city))
    {
        for item in s
            .items
            .iter()
            .filter(|i| TRANSFER_CODES.contains(&i.code.as_str()))
        {
            let qty = match item.unit.as_str() {
                "per_day" => links * days,
                "per_head" => Decimal::from(b.audience_size) * days,
                _ => links,
            };
            let (unit_cost, _) = tools.convert(
                item.unit_price(qty),
                &s.currency,
                &b.budget.currency,
                crate::fx::rate_day(b),
            )?;
            let unit_cost = unit_cost.round_dp(2);
            let q = TransferQuote {
                supplier_id: s.id.clone(),
                supplier: s.name.clone(),
                service: s.service,
                code: item.code.clone(),
                qty,
                unit_cost,
                total: (unit_cost * qty).round_dp(2),
                description: format!(
                    "{TRANSFER_LINE_PREFIX} {sites} sites ({} {}, {})",
                    qty, item.unit, s.name
                ),
            };
            if best
                .as_ref()
                .is_none_or(|x| (q.total, &q.supplier_id) < (x.total, &x.supplier_id))
            {
                best = Some(q);
            }
        }
    }
    Ok(best)
}

/// The largest venue of the brief's city (any date, any price), if the city has one.
pub(crate) fn largest_in_city<'a>(tools: &'a Tools, b: &EventBrief) -> Option<&'a CatalogVenue> {
    tools
        .catalog
        .venues
        .iter()
        .filter(|v| v.city.eq_ignore_ascii_case(&b.location.city))
        .max_by(|x, y| x.capacity.cmp(&y.capacity).then(y.id.cmp(&x.id)))
}

/// Whether the brief's city has venues but none of them holds the whole audience. (A city
/// without venues is the leads search's to report.)
pub fn no_venue_holds(tools: &Tools, b: &EventBrief) -> bool {
    largest_in_city(tools, b).is_some_and(|v| v.capacity < b.audience_size)
}

/// Whether a venue is an outdoor site: a park or open-air ground, by a room laid out
/// `outdoor`/`open_air`. (An `outdoor_space` amenity is a terrace or garden beside the halls,
/// with no capacity of its own in the data, so it does not count.)
fn is_outdoor_site(v: &CatalogVenue) -> bool {
    v.rooms
        .iter()
        .any(|r| r.layout == "outdoor" || r.layout == "open_air")
}

/// The ranked ways out when no single venue of the city holds the audience, best first: split
/// the audience over the days, cap attendance at the largest venue, an outdoor site (or the note
/// that the data has none), and combining venues (Advanced). Scored from the brief's own
/// priorities, as [`crate::conflicts::break_ties`] does for date and budget conflicts.
pub fn alternatives(tools: &Tools, b: &EventBrief, combinable: Option<usize>) -> Vec<Alternative> {
    let mut out = Vec::new();
    let Some(largest) = largest_in_city(tools, b) else {
        return out;
    };
    let audience = b.audience_size;
    let cap = largest.capacity;
    let days = b.days().max(1);
    // Split days: the same number of days, each with its share of the audience, when the
    // largest venue holds a day's share; otherwise as many days as that takes.
    let per_day = audience.div_ceil(days);
    if per_day <= cap && days > 1 {
        out.push(Alternative {
            option: format!(
                "Split the audience over the {days} days: {per_day} people a day in {} (holds {cap})",
                largest.name
            ),
            score: 0.75,
            pros: vec![
                "keeps the whole audience, the dates and one venue".into(),
                "no transfers between sites".into(),
            ],
            cons: vec![
                "each attendee comes on one day only: tickets become day tickets".into(),
                "the program runs once a day".into(),
            ],
        });
    } else {
        let need = audience.div_ceil(cap.max(1));
        out.push(Alternative {
            option: format!(
                "Split the audience over {need} days of {} people in {} (holds {cap})",
                audience.div_ceil(need),
                largest.name
            ),
            score: 0.55,
            pros: vec!["keeps the whole audience and one venue".into()],
            cons: vec![format!(
                "{} more day(s) of venue, staff and catering; the program repeats",
                need.saturating_sub(days)
            )],
        });
    }
    let kept = f64::from(cap) / f64::from(audience.max(1));
    out.push(Alternative {
        option: format!(
            "Cap attendance at {cap}, the capacity of {}, the largest venue in {}",
            largest.name, b.location.city
        ),
        score: (0.8 * kept).clamp(0.05, 0.8),
        pros: vec![
            "keeps the dates and the budget; one venue".into(),
            format!("{:.0}% of the audience can come", kept * 100.0),
        ],
        cons: vec![format!(
            "{} people cannot attend",
            audience - cap.min(audience)
        )],
    });
    let outdoor: Vec<&CatalogVenue> = tools
        .catalog
        .venues
        .iter()
        .filter(|v| v.city.eq_ignore_ascii_case(&b.location.city) && is_outdoor_site(v))
        .collect();
    match outdoor.iter().max_by_key(|v| v.capacity) {
        Some(v) if v.capacity >= audience => out.push(Alternative {
            option: format!("Hold it outdoors at {} (holds {})", v.name, v.capacity),
            score: 0.6,
            pros: vec!["one site for the whole audience".into()],
            cons: vec!["weather: a bad-weather plan and temporary structures are needed".into()],
        }),
        _ => out.push(Alternative {
            option: format!(
                "Hold it at an outdoor site: no outdoor site in the data for {}",
                b.location.city
            ),
            score: 0.0,
            pros: vec![],
            cons: vec![
                "no outdoor site in the data: add one to the venue list to consider it".into(),
            ],
        }),
    }
    if let Some(n) = combinable {
        out.push(Alternative {
            option: format!("Combine {n} venues in {} (Advanced)", b.location.city),
            score: match b.budget.flexibility {
                Flexibility::Variable => 0.65,
                Flexibility::Fixed => 0.45,
            },
            pros: vec![
                "keeps the whole audience, the dates and the city".into(),
                "plan it at the Advanced level (`--level advanced`)".into(),
            ],
            cons: vec![
                format!("{n} sites to run, each with its own stage rooms"),
                format!("{TRANSFER_NOT_PRICED} unless a rate card prices it"),
            ],
        });
    }
    // Best first; ties keep the order above.
    out.sort_by(|x, y| y.score.total_cmp(&x.score));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(n: i64) -> Decimal {
        Decimal::from(n)
    }

    #[test]
    fn fewest_sites_takes_the_largest_first() {
        assert_eq!(fewest_sites(&[5310, 4540, 4475, 3530], 12_000), Some(3));
        assert_eq!(fewest_sites(&[5310, 4540, 4475, 3530], 9_000), Some(2));
        assert_eq!(fewest_sites(&[5310, 4540, 4475, 3530], 18_000), None);
        assert_eq!(fewest_sites(&[], 1), None);
    }

    #[test]
    fn combinations_rank_fewest_sites_then_cost() {
        // Two sites are enough only as 0 + 1 or 0 + 2; 1 + 2 needs a third.
        let sites = [(5000, d(100)), (4000, d(50)), (3500, d(60)), (500, d(1))];
        let c = combinations(&sites, 8500, 4);
        let got: Vec<(Vec<usize>, Decimal)> = c.iter().map(|c| (c.sites.clone(), c.cost)).collect();
        assert_eq!(
            got,
            vec![
                (vec![0, 1], d(150)),
                (vec![0, 2], d(160)),
                // Three sites follow, cheapest first.
                (vec![0, 1, 3], d(151)),
                (vec![0, 2, 3], d(161)),
            ]
        );
        assert!(c.iter().all(|c| c.capacity >= 8500));
        assert_eq!(combinations(&sites, 20_000, 3), vec![]);
    }

    #[test]
    fn stage_rooms_give_every_site_a_stage_and_every_track_a_room() {
        let c = crate::data::bundled_catalog().unwrap();
        let v = |id: &str| c.venues.iter().find(|v| v.id.as_str() == id).unwrap();
        let sites = [v("venue-87"), v("venue-88")];
        let r = stage_rooms(&sites, 3);
        assert_eq!(
            r,
            vec![
                "Gleis Arena: Main hall",
                "Kiez Congress Centre: Main hall",
                "Gleis Arena: Second hall"
            ]
        );
        // One track, two sites: one stage each.
        assert_eq!(stage_rooms(&sites, 1).len(), 2);
        let combined = combined_venue(&sites).unwrap();
        assert_eq!(combined.capacity, 5310 + 4540);
        assert!(
            r.iter()
                .all(|n| combined.rooms.iter().any(|x| &x.name == n))
        );
        // A site's foyer is never a stage.
        assert!(r.iter().all(|n| !n.ends_with("Foyer")));
    }

    /// The fewest sites and cheapest cost by enumerating every subset (the reference).
    fn brute(sites: &[(u32, Decimal)], audience: u32) -> Option<(usize, Decimal)> {
        let n = sites.len();
        (1u32..1 << n)
            .filter_map(|m| {
                let chosen: Vec<usize> = (0..n).filter(|i| m >> i & 1 == 1).collect();
                let cap: u32 = chosen.iter().map(|&i| sites[i].0).sum();
                let cost: Decimal = chosen.iter().map(|&i| sites[i].1).sum();
                (cap >= audience).then_some((chosen.len(), cost))
            })
            .min()
    }

    proptest! {
        #[test]
        fn a_combination_seats_the_audience_with_the_fewest_sites(
            caps in proptest::collection::vec((100u32..6000, 0i64..100_000), 1..11),
            audience in 1000u32..20_000,
            want in 1usize..6,
        ) {
            let sites: Vec<(u32, Decimal)> = caps.iter().map(|(c, p)| (*c, d(*p))).collect();
            let got = combinations(&sites, audience, want);
            let reference = brute(&sites, audience);
            match reference {
                None => prop_assert!(got.is_empty()),
                Some((k, cost)) => {
                    prop_assert!(!got.is_empty());
                    prop_assert_eq!((got[0].sites.len(), got[0].cost), (k, cost));
                    prop_assert!(got.len() <= want);
                    for c in &got {
                        let cap: u32 = c.sites.iter().map(|&i| sites[i].0).sum();
                        let cost: Decimal = c.sites.iter().map(|&i| sites[i].1).sum();
                        prop_assert!(cap >= audience);
                        prop_assert_eq!(cap, c.capacity);
                        prop_assert_eq!(cost, c.cost);
                        prop_assert!(c.sites.len() == k || c.sites.len() == k + 1);
                    }
                    // Best first: fewest sites, then cost.
                    for w in got.windows(2) {
                        prop_assert!((w[0].sites.len(), w[0].cost) <= (w[1].sites.len(), w[1].cost));
                    }
                }
            }
        }
    }
}
