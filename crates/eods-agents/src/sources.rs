//! The venues and suppliers one event plans with, composed from its sources in order: the
//! organiser's list for the event, the installation's catalog, what the engine gathered from
//! external sources (an imported OpenStreetMap extract, the Overpass API), and — only for a city
//! none of those know — the bundled demo catalog, labelled `demo (fictional)`. Quotes people
//! entered fill in the facts a source did not give. Nothing here guesses a price or a capacity.

use crate::Tools;
use crate::data::{CatalogVenue, RateCards, Supplier, suppliers_from_rows};
use eods_domain::blackboard::Blackboard;
use eods_domain::catalog::sources::{
    DEMO_LABEL, OrganiserData, Provenance, SourceKind, VenueQuote, VenueRecord, fold, fold_city,
};
use eods_domain::catalog::venue::{Facts, SourceAttempt};
use std::sync::Arc;

/// Venues the engine gathered from the external sources (an imported OpenStreetMap extract, the
/// Overpass API), with what each source answered, and the escalation when every one failed.
pub type ExternalVenues = eods_domain::catalog::sources::GatheredVenues;

/// What one event plans with beyond its artifacts: the suppliers it may contract and the venues
/// the engine gathered for it. Built by [`EventData::of`].
#[derive(Debug, Clone)]
pub struct EventData {
    /// The suppliers of the event's city and of its services: the organiser's rate cards (event
    /// and installation) when any serve the city, else the demo rate cards in a demo city, else
    /// none (the Budget Analyst then asks for rate cards).
    pub rates: std::sync::Arc<RateCards>,
    /// Where `rates` comes from, for rationales and reports.
    pub rates_label: String,
    /// Whether `rates` is the demo data.
    pub demo_rates: bool,
    pub external: Option<ExternalVenues>,
}

impl EventData {
    /// The event data of the event on `bb`, given what the engine gathered (`None` when the
    /// caller runs agents directly and gathered nothing).
    pub fn of(tools: &Tools, bb: &Blackboard, external: Option<ExternalVenues>) -> EventData {
        EventData::with_rates(EventRates::of(tools, bb), external)
    }

    /// The event data with rates computed before (see [`EventRates::of`]).
    pub fn with_rates(rates: EventRates, external: Option<ExternalVenues>) -> EventData {
        EventData {
            rates: rates.rates,
            rates_label: rates.label,
            demo_rates: rates.demo,
            external,
        }
    }
}

/// The suppliers an event may contract (see [`EventData::rates`]), which depend only on its
/// organiser's data, its city and the tools: a run computes them once and shares them between
/// its steps.
#[derive(Debug, Clone)]
pub struct EventRates {
    pub rates: std::sync::Arc<RateCards>,
    pub label: String,
    pub demo: bool,
}

impl EventRates {
    /// The rates of the event on `bb`.
    pub fn of(tools: &Tools, bb: &Blackboard) -> EventRates {
        let organiser = bb.get::<OrganiserData>();
        let city = bb
            .get::<eods_domain::catalog::brief::EventBrief>()
            .map(|b| b.location.city.as_str())
            .unwrap_or_default();
        let (rates, label, demo) = event_rates(tools, organiser, city);
        EventRates { rates, label, demo }
    }
}

/// Whether the bundled demo catalog has venues in `city` (a demo city).
pub fn is_demo_city(tools: &Tools, city: &str) -> bool {
    tools
        .catalog
        .venues
        .iter()
        .any(|v| same_city(&v.city, city))
}

/// Whether two city names name the same city, case and accents aside (the store's lookup
/// folds the same way).
pub fn same_city(a: &str, b: &str) -> bool {
    fold_city(a) == fold_city(b)
}

/// The suppliers an event may use (see [`EventData::rates`]).
fn event_rates(
    tools: &Tools,
    organiser: Option<&OrganiserData>,
    city: &str,
) -> (Arc<RateCards>, String, bool) {
    let mut real: Vec<Supplier> = Vec::new();
    let mut labels: Vec<String> = Vec::new();
    if let Some(d) = organiser.filter(|d| !d.rate_cards.is_empty()) {
        real.extend(suppliers_from_rows(&d.rate_cards));
        labels.extend(files_of(d.rate_cards.iter().map(|r| &r.provenance)));
    }
    if !tools.installation.rate_cards.is_empty() {
        let ids: Vec<String> = real.iter().map(|s| s.id.clone()).collect();
        real.extend(
            suppliers_from_rows(&tools.installation.rate_cards)
                .into_iter()
                .filter(|s| !ids.contains(&s.id)),
        );
        labels.extend(files_of(
            tools.installation.rate_cards.iter().map(|r| &r.provenance),
        ));
    }
    if real.iter().any(|s| s.serves(city)) || !is_demo_city(tools, city) {
        let label = if labels.is_empty() {
            "no rate cards".to_owned()
        } else {
            labels.join(", ")
        };
        return (
            Arc::new(RateCards {
                source: label.clone(),
                suppliers: real,
                packages: vec![],
            }),
            label,
            false,
        );
    }
    // The bundled cards come labelled; cards a caller put in their place are labelled here.
    let demo = if is_labelled_demo(&tools.rates) {
        Arc::clone(&tools.rates)
    } else {
        Arc::new(label_demo((*tools.rates).clone()))
    };
    let label = demo.source.clone();
    (demo, label, true)
}

/// Rate cards marked as the demo data they are: the source names it, every supplier's
/// provenance is the demo catalog.
pub fn label_demo(mut rates: RateCards) -> RateCards {
    rates.source = format!("{} — {DEMO_LABEL}", rates.source);
    for s in &mut rates.suppliers {
        s.provenance = Some(Provenance::demo());
    }
    rates
}

fn is_labelled_demo(rates: &RateCards) -> bool {
    let demo = Provenance::demo();
    rates.source.ends_with(DEMO_LABEL)
        && rates
            .suppliers
            .iter()
            .all(|s| s.provenance.as_ref() == Some(&demo))
}

/// The distinct labels of some provenances, in first-seen order.
fn files_of<'a>(ps: impl Iterator<Item = &'a Provenance>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for p in ps {
        if !out.contains(&p.label) {
            out.push(p.label.clone());
        }
    }
    out
}

/// One venue found for the event: its record (quotes applied), where its capacity and price
/// come from, and — when both are known — the venue as the scorer sees it.
#[derive(Debug, Clone)]
pub struct PoolLead {
    pub record: VenueRecord,
    pub facts: Facts,
    pub venue: Option<CatalogVenue>,
    /// The quote that filled in facts, when one did.
    pub quote: Option<VenueQuote>,
}

/// Every venue found for the event in its city, in source order, with the sources consulted.
#[derive(Debug, Clone, Default)]
pub struct Pool {
    pub leads: Vec<PoolLead>,
    pub attempts: Vec<SourceAttempt>,
    pub escalation: Option<String>,
    /// The leads are the bundled demo catalog's.
    pub demo: bool,
}

impl Pool {
    /// Leads whose capacity and price are known (from their source or a quote).
    pub fn known(&self) -> impl Iterator<Item = &CatalogVenue> {
        self.leads.iter().filter_map(|l| l.venue.as_ref())
    }

    /// Leads still waiting for a quote.
    pub fn unknown(&self) -> impl Iterator<Item = &PoolLead> {
        self.leads.iter().filter(|l| l.venue.is_none())
    }

    /// The sources that gave leads, as people read them.
    pub fn sources(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for l in &self.leads {
            if !out.contains(&l.record.provenance.label) {
                out.push(l.record.provenance.label.clone());
            }
        }
        out
    }

    /// The OpenStreetMap attribution, when any lead uses OpenStreetMap data.
    pub fn attributions(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for l in &self.leads {
            if let Some(a) = &l.record.provenance.attribution
                && !out.contains(a)
            {
                out.push(a.clone());
            }
        }
        out
    }
}

/// The venues found for `city`, composed from the event's list, the installation catalog, the
/// external records, and the demo catalog only when none of those knows the city. Quotes fill in
/// missing facts (the newest quote per venue wins).
pub fn venue_pool(
    tools: &Tools,
    organiser: Option<&OrganiserData>,
    external: Option<&ExternalVenues>,
    city: &str,
) -> Pool {
    let mut pool = Pool::default();
    let mut seen: Vec<String> = Vec::new();
    let mut add = |pool: &mut Pool, records: Vec<VenueRecord>, source: &str, kind: SourceKind| {
        let found = records.len() as u32;
        let mut dupes = 0;
        for r in records {
            let k = r.match_key();
            if seen.contains(&k) {
                dupes += 1;
                continue;
            }
            seen.push(k);
            pool.leads.push(PoolLead {
                record: r,
                facts: Facts::Unknown,
                venue: None,
                quote: None,
            });
        }
        pool.attempts.push(SourceAttempt {
            source: source.to_owned(),
            kind,
            outcome: "ok".into(),
            found,
            detail: if dupes > 0 {
                format!("{dupes} already found in an earlier source")
            } else {
                String::new()
            },
        });
    };
    let in_city = |rs: &[VenueRecord]| -> Vec<VenueRecord> {
        rs.iter()
            .filter(|r| same_city(&r.city, city))
            .cloned()
            .collect()
    };
    if let Some(d) = organiser.filter(|d| !d.venues.is_empty()) {
        add(
            &mut pool,
            in_city(&d.venues),
            "your venue list",
            SourceKind::EventList,
        );
    }
    if !tools.installation.venues.is_empty() {
        add(
            &mut pool,
            in_city(&tools.installation.venues),
            "the installation catalog",
            SourceKind::InstallationCatalog,
        );
    }
    if let Some(x) = external {
        let fresh: Vec<VenueRecord> = in_city(&x.records);
        let n = pool.attempts.len();
        add(&mut pool, fresh, "external", SourceKind::Openstreetmap);
        // The engine's own account of the external sources replaces the summary line.
        pool.attempts.truncate(n);
        pool.attempts.extend(x.attempts.iter().cloned());
        pool.escalation.clone_from(&x.escalation);
    }
    let demo: Vec<&CatalogVenue> = tools
        .catalog
        .venues
        .iter()
        .filter(|v| same_city(&v.city, city))
        .collect();
    if pool.leads.is_empty() && !demo.is_empty() {
        pool.demo = true;
        for v in &demo {
            let mut venue = (*v).clone();
            venue.provenance = Some(Provenance::demo());
            pool.leads.push(PoolLead {
                record: v.to_record(&Provenance::demo()),
                facts: Facts::Known,
                venue: Some(venue),
                quote: None,
            });
        }
        pool.attempts.push(SourceAttempt {
            source: "the bundled catalog".into(),
            kind: SourceKind::Demo,
            outcome: "ok".into(),
            found: demo.len() as u32,
            detail: DEMO_LABEL.into(),
        });
    } else {
        pool.attempts.push(SourceAttempt {
            source: "the bundled catalog".into(),
            kind: SourceKind::Demo,
            outcome: "skipped".into(),
            found: 0,
            detail: if demo.is_empty() {
                format!("{DEMO_LABEL}: no venues in {city}")
            } else {
                format!("{DEMO_LABEL}: not used, your sources know {city}")
            },
        });
    }
    if !pool.demo {
        let quotes: &[VenueQuote] = organiser.map_or(&[], |d| &d.quotes);
        for lead in &mut pool.leads {
            let q = quotes.iter().rev().find(|q| {
                q.venue == lead.record.id.as_str() || fold(&q.venue) == lead.record.match_key()
            });
            let had = lead.record.has_facts();
            if let Some(q) = q {
                apply_quote(&mut lead.record, q);
                lead.quote = Some(q.clone());
            }
            lead.facts = match (had, lead.record.has_facts()) {
                (true, _) => Facts::Known,
                (false, true) => Facts::Quoted,
                (false, false) => Facts::Unknown,
            };
            lead.venue = CatalogVenue::from_record(&lead.record);
        }
    }
    pool
}

/// Fills the facts a quote gives into a record (a quote overrides what the source said).
fn apply_quote(r: &mut VenueRecord, q: &VenueQuote) {
    if let Some(c) = q.capacity {
        r.capacity = Some(c);
    }
    if let Some(d) = q.day_rate {
        r.day_rate = Some(d);
        r.currency.clone_from(&q.currency);
    }
    if !q.rooms.is_empty() {
        r.rooms.clone_from(&q.rooms);
    }
    if !q.notes.is_empty() {
        r.notes.push(format!("quote: {}", q.notes));
    }
    if let Some(v) = q.valid_until {
        r.notes.push(format!("quote valid until {v}"));
    }
}

/// Whether a venue's data is the demo catalog's.
pub fn is_demo(v: &CatalogVenue) -> bool {
    v.provenance
        .as_ref()
        .is_none_or(|p| p.kind == SourceKind::Demo)
}
