//! The bundled sample data — a venue catalog and supplier rate cards — and their typed loaders.
//! Data is checked at load: a bad file is an error naming the entry and field, never a panic.

use chrono::NaiveDate;
use eods_domain::catalog::budget::BudgetCategory;
use eods_domain::catalog::sources::{Provenance, RateCardRow, RoomRecord, VenueRecord, fold};
use eods_domain::ids::VenueRef;
use eods_domain::money::Currency;
use rust_decimal::Decimal;
use serde::Deserialize;

/// A room inside a venue.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CatalogRoom {
    pub name: String,
    pub capacity: u32,
    pub layout: String,
}

/// One venue of the catalog.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CatalogVenue {
    pub id: VenueRef,
    pub name: String,
    pub city: String,
    pub country: String,
    #[serde(default)]
    pub district: String,
    #[serde(default)]
    pub address: String,
    pub contact: String,
    pub capacity: u32,
    pub rooms: Vec<CatalogRoom>,
    /// Hire of the whole venue for one day.
    pub day_rate: Decimal,
    pub currency: Currency,
    #[serde(default)]
    pub amenities: Vec<String>,
    #[serde(default)]
    pub accessibility: Vec<String>,
    #[serde(default)]
    pub city_centre: bool,
    #[serde(default)]
    pub transit_minutes: u32,
    #[serde(default)]
    pub unavailable_dates: Vec<NaiveDate>,
    #[serde(default)]
    pub notes: String,
}

impl CatalogVenue {
    /// Whether the venue is free on every given day.
    pub fn available_on(&self, days: &[NaiveDate]) -> bool {
        days.iter().all(|d| !self.unavailable_dates.contains(d))
    }

    /// Rooms, largest first (ties by name).
    pub fn rooms_by_size(&self) -> Vec<&CatalogRoom> {
        let mut r: Vec<&CatalogRoom> = self.rooms.iter().collect();
        r.sort_by(|a, b| b.capacity.cmp(&a.capacity).then(a.name.cmp(&b.name)));
        r
    }
}

/// The venue catalog.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct VenueCatalog {
    pub source: String,
    pub venues: Vec<CatalogVenue>,
}

/// A supplier service; maps onto a budget category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Service {
    Catering,
    Av,
    Staffing,
    Materials,
    Insurance,
    Marketing,
    Speakers,
}

impl Service {
    /// The budget category of this service.
    pub fn category(self) -> BudgetCategory {
        match self {
            Service::Catering => BudgetCategory::Catering,
            Service::Av => BudgetCategory::Av,
            Service::Staffing => BudgetCategory::Staffing,
            Service::Materials => BudgetCategory::Materials,
            Service::Insurance => BudgetCategory::Insurance,
            Service::Marketing => BudgetCategory::Marketing,
            Service::Speakers => BudgetCategory::Speakers,
        }
    }

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Service::Catering => "catering",
            Service::Av => "av",
            Service::Staffing => "staffing",
            Service::Materials => "materials",
            Service::Insurance => "insurance",
            Service::Marketing => "marketing",
            Service::Speakers => "speakers",
        }
    }
}

/// One priced item of a rate card.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RateItem {
    pub code: String,
    pub unit: String,
    pub price: Decimal,
    #[serde(default)]
    pub description: String,
    /// Volume prices: from `min_qty` units on, every unit costs `price`.
    #[serde(default)]
    pub tiers: Vec<Tier>,
}

/// A volume price break.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Tier {
    pub min_qty: Decimal,
    pub price: Decimal,
}

impl RateItem {
    /// The unit price for `qty` units: the best tier reached, else the list price.
    pub fn unit_price(&self, qty: Decimal) -> Decimal {
        self.tiers
            .iter()
            .filter(|t| qty >= t.min_qty)
            .map(|t| t.price)
            .min()
            .map_or(self.price, |t| t.min(self.price))
    }
}

/// A discount two or more suppliers give when they are contracted together (a caterer and an AV
/// firm that share a day-delegate package, say).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Package {
    pub id: String,
    pub name: String,
    pub suppliers: Vec<String>,
    /// Percent off every item of the package's suppliers.
    pub discount_percent: Decimal,
}

/// A supplier and its rate card.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Supplier {
    pub id: String,
    pub name: String,
    pub service: Service,
    pub cities: Vec<String>,
    pub currency: Currency,
    pub contact: String,
    pub items: Vec<RateItem>,
    pub payment_terms: String,
    pub cancellation_policy: String,
    #[serde(default)]
    pub slas: Vec<String>,
    pub reliability: f64,
    /// Where the supplier came from: the first rate-card row of an organiser's file; `None`
    /// for the bundled sample rate cards.
    #[serde(default)]
    pub provenance: Option<Provenance>,
}

impl Supplier {
    /// Whether the supplier serves `city`.
    pub fn serves(&self, city: &str) -> bool {
        self.cities
            .iter()
            .any(|c| c == "*" || c.eq_ignore_ascii_case(city))
    }

    /// The unit price of `qty` units of an item code (volume tiers applied), if offered.
    pub fn price_for(&self, code: &str, qty: Decimal) -> Option<Decimal> {
        self.items
            .iter()
            .find(|i| i.code == code)
            .map(|i| i.unit_price(qty))
    }

    /// The price of an item code, if offered.
    pub fn price(&self, code: &str) -> Option<Decimal> {
        self.items.iter().find(|i| i.code == code).map(|i| i.price)
    }
}

/// All suppliers, each quoting in its own currency (converted with [`crate::fx`]).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RateCards {
    pub source: String,
    pub suppliers: Vec<Supplier>,
    #[serde(default)]
    pub packages: Vec<Package>,
}

/// Errors in a data file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DataError {
    #[error("{file}: {message}")]
    Parse { file: String, message: String },
    #[error("{file}: {entry}: {message}")]
    Invalid {
        file: String,
        entry: String,
        message: String,
    },
}

const BUNDLED_VENUES: &str = include_str!("../data/venues.json");
const BUNDLED_RATES: &str = include_str!("../data/rate_cards.json");

/// Parses and checks a venue catalog.
pub fn parse_catalog(file: &str, text: &str) -> Result<VenueCatalog, DataError> {
    let c: VenueCatalog = serde_json::from_str(text).map_err(|e| DataError::Parse {
        file: file.into(),
        message: e.to_string(),
    })?;
    let mut seen = std::collections::BTreeSet::new();
    for v in &c.venues {
        let bad = |message: String| DataError::Invalid {
            file: file.into(),
            entry: v.id.to_string(),
            message,
        };
        if !seen.insert(v.id.clone()) {
            return Err(bad("duplicate venue id".into()));
        }
        if v.rooms.is_empty() {
            return Err(bad("rooms: a venue needs at least one room".into()));
        }
        if v.capacity == 0 {
            return Err(bad("capacity: must be at least 1".into()));
        }
        if v.day_rate < Decimal::ZERO {
            return Err(bad("day_rate: must not be negative".into()));
        }
    }
    Ok(c)
}

/// Parses and checks rate cards.
pub fn parse_rate_cards(file: &str, text: &str) -> Result<RateCards, DataError> {
    let r: RateCards = serde_json::from_str(text).map_err(|e| DataError::Parse {
        file: file.into(),
        message: e.to_string(),
    })?;
    for s in &r.suppliers {
        let bad = |message: String| DataError::Invalid {
            file: file.into(),
            entry: s.id.clone(),
            message,
        };
        if !(0.0..=1.0).contains(&s.reliability) {
            return Err(bad("reliability: must lie within 0..1".into()));
        }
        if s.items.iter().any(|i| i.price < Decimal::ZERO) {
            return Err(bad("items: a price must not be negative".into()));
        }
        for i in &s.items {
            for (k, t) in i.tiers.iter().enumerate() {
                if t.price < Decimal::ZERO || t.price > i.price {
                    return Err(bad(format!(
                        "items.{}.tiers[{k}].price: must lie between 0 and the list price {}",
                        i.code, i.price
                    )));
                }
                if t.min_qty <= Decimal::ONE {
                    return Err(bad(format!(
                        "items.{}.tiers[{k}].min_qty: must be more than 1",
                        i.code
                    )));
                }
            }
        }
    }
    for p in &r.packages {
        let bad = |message: String| DataError::Invalid {
            file: file.into(),
            entry: p.id.clone(),
            message,
        };
        if p.suppliers.len() < 2 {
            return Err(bad(
                "suppliers: a package joins at least two suppliers".into()
            ));
        }
        for id in &p.suppliers {
            if !r.suppliers.iter().any(|s| &s.id == id) {
                return Err(bad(format!("suppliers: unknown supplier `{id}`")));
            }
        }
        if p.discount_percent <= Decimal::ZERO || p.discount_percent >= Decimal::from(50) {
            return Err(bad(
                "discount_percent: must lie between 0 and 50 (exclusive)".into(),
            ));
        }
    }
    Ok(r)
}

/// The catalog shipped with EODS.
pub fn bundled_catalog() -> Result<VenueCatalog, DataError> {
    parse_catalog("bundled venues.json", BUNDLED_VENUES)
}

/// The rate cards shipped with EODS.
pub fn bundled_rate_cards() -> Result<RateCards, DataError> {
    parse_rate_cards("bundled rate_cards.json", BUNDLED_RATES)
}

/// What a supplier built from rate-card rows says where the rows say nothing.
pub const NOT_GIVEN: &str = "not given (ask the supplier)";

/// The reliability of a supplier nobody rated: the bottom of the 0..1 scale. Reliability picks
/// the backup supplier and the premium option (highest first) and the supplier an approver's
/// rejection replaces (lowest first); with 0.0 an organiser's supplier never wins those picks
/// over a rated one on a reliability it was never given, and among unrated suppliers the ties
/// fall to the existing tie-breaks (id, cost).
pub const UNRATED_RELIABILITY: f64 = 0.0;

/// The transit minutes of a venue record that does not give them: far enough for the lowest
/// location score and never "near public transport" (0 would claim the best of both).
pub const UNKNOWN_TRANSIT_MINUTES: u32 = 60;

fn service_named(s: &str) -> Option<Service> {
    Some(match s {
        "catering" => Service::Catering,
        "av" => Service::Av,
        "staffing" => Service::Staffing,
        "materials" => Service::Materials,
        "insurance" => Service::Insurance,
        "marketing" => Service::Marketing,
        "speakers" => Service::Speakers,
        _ => return None,
    })
}

fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_owned()
}

/// Suppliers from an organiser's rate-card rows: one per (supplier name, service, currency), in
/// the order of their first rows, with id `rc-<supplier>-<service>` (the currency is appended
/// when the same supplier quotes one service in two currencies). Each item code becomes one
/// [`RateItem`]: its list price is the row without `min_qty` (else the row with the lowest),
/// the other rows its volume [`Tier`]s. Rows of a service outside [`Service`] are skipped (the
/// parser refuses them). Terms the rows do not give read [`NOT_GIVEN`]; reliability is
/// [`UNRATED_RELIABILITY`]; `provenance` is the first row's.
pub fn suppliers_from_rows(rows: &[RateCardRow]) -> Vec<Supplier> {
    let mut groups: Vec<(Service, &str, Vec<&RateCardRow>)> = Vec::new();
    for r in rows {
        let Some(service) = service_named(&r.service) else {
            continue;
        };
        let key = fold(&r.supplier);
        match groups.iter_mut().find(|(s, _, g)| {
            *s == service && fold(&g[0].supplier) == key && g[0].currency == r.currency
        }) {
            Some((_, _, g)) => g.push(r),
            None => groups.push((service, r.currency.as_str(), vec![r])),
        }
    }
    let mut ids: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for (service, currency, g) in groups {
        let first = g[0];
        let base = format!("rc-{}-{}", slug(&first.supplier), service.as_str());
        let id = if ids.contains(&base) {
            format!("{base}-{}", currency.to_ascii_lowercase())
        } else {
            base
        };
        ids.push(id.clone());
        let mut cities: Vec<String> = Vec::new();
        for r in &g {
            if !cities.iter().any(|c| c.eq_ignore_ascii_case(&r.city)) {
                cities.push(r.city.clone());
            }
        }
        let mut items: Vec<RateItem> = Vec::new();
        let mut codes: Vec<&str> = Vec::new();
        for r in &g {
            if !codes.contains(&r.item.as_str()) {
                codes.push(&r.item);
            }
        }
        for code in codes {
            let mut item_rows: Vec<&RateCardRow> =
                g.iter().copied().filter(|r| r.item == code).collect();
            // The list row first: no min_qty, else the lowest.
            item_rows.sort_by(|a, b| match (a.min_qty, b.min_qty) {
                (None, None) => std::cmp::Ordering::Equal,
                (None, Some(_)) => std::cmp::Ordering::Less,
                (Some(_), None) => std::cmp::Ordering::Greater,
                (Some(x), Some(y)) => x.cmp(&y),
            });
            let list = item_rows[0];
            items.push(RateItem {
                code: code.to_owned(),
                unit: list.unit.clone(),
                price: list.price,
                description: list.notes.clone(),
                tiers: item_rows[1..]
                    .iter()
                    .filter(|r| r.unit == list.unit)
                    .filter_map(|r| {
                        r.min_qty.map(|min_qty| Tier {
                            min_qty,
                            price: r.price,
                        })
                    })
                    .collect(),
            });
        }
        out.push(Supplier {
            id,
            name: first.supplier.clone(),
            service,
            cities,
            currency: first.currency.clone(),
            contact: g
                .iter()
                .map(|r| r.contact.as_str())
                .find(|c| !c.is_empty())
                .unwrap_or(NOT_GIVEN)
                .to_owned(),
            items,
            payment_terms: NOT_GIVEN.to_owned(),
            cancellation_policy: NOT_GIVEN.to_owned(),
            slas: Vec::new(),
            reliability: UNRATED_RELIABILITY,
            provenance: Some(first.provenance.clone()),
        });
    }
    out
}

/// Reads a `name: value` note (the form extra columns are kept in).
fn note<'a>(notes: &'a [String], name: &str) -> Option<&'a str> {
    notes.iter().find_map(|n| {
        let (k, v) = n.split_once(':')?;
        (k.trim().eq_ignore_ascii_case(name)).then(|| v.trim())
    })
}

impl CatalogVenue {
    /// This catalog venue as a venue record with the given provenance. Every fact is kept;
    /// the district, whether it is in the city centre and the minutes to transit become notes
    /// (`district: …`, `city_centre: true`, `transit_minutes: 5`), which [`Self::from_record`]
    /// reads back.
    pub fn to_record(&self, label: &Provenance) -> VenueRecord {
        let mut notes = Vec::new();
        if !self.notes.is_empty() {
            notes.push(self.notes.clone());
        }
        if !self.district.is_empty() {
            notes.push(format!("district: {}", self.district));
        }
        notes.push(format!("city_centre: {}", self.city_centre));
        notes.push(format!("transit_minutes: {}", self.transit_minutes));
        VenueRecord {
            id: self.id.clone(),
            name: self.name.clone(),
            city: self.city.clone(),
            country: self.country.clone(),
            capacity: Some(self.capacity),
            rooms: self
                .rooms
                .iter()
                .map(|r| RoomRecord {
                    name: r.name.clone(),
                    capacity: r.capacity,
                    layout: Some(r.layout.clone()),
                })
                .collect(),
            day_rate: Some(self.day_rate),
            currency: Some(self.currency.clone()),
            amenities: Some(self.amenities.clone()),
            accessibility: Some(self.accessibility.clone()),
            address: self.address.clone(),
            contact: self.contact.clone(),
            website: String::new(),
            phone: String::new(),
            place_kind: String::new(),
            unavailable_dates: self.unavailable_dates.clone(),
            lat: None,
            lon: None,
            notes,
            provenance: label.clone(),
        }
    }

    /// A record the planners can score as they score catalog venues: `None` unless its
    /// capacity, day rate and currency are known. Rooms are the record's (layout `theatre`
    /// when not given), else one room `Main` of the venue's capacity. Unknown amenities and
    /// accessibility are empty. It is in the city centre and its transit minutes are known only
    /// when its notes say so (`city_centre: true`, `transit_minutes: 5`, as an extra column
    /// of a venue list gives them); otherwise `false` and [`UNKNOWN_TRANSIT_MINUTES`], so an
    /// unknown never scores as well placed. Other notes are joined with `; `.
    pub fn from_record(r: &VenueRecord) -> Option<CatalogVenue> {
        let (capacity, day_rate, currency) = (r.capacity?, r.day_rate?, r.currency.clone()?);
        let rooms = if r.rooms.is_empty() {
            vec![CatalogRoom {
                name: "Main".to_owned(),
                capacity,
                layout: "theatre".to_owned(),
            }]
        } else {
            r.rooms
                .iter()
                .map(|x| CatalogRoom {
                    name: x.name.clone(),
                    capacity: x.capacity,
                    layout: x.layout.clone().unwrap_or_else(|| "theatre".to_owned()),
                })
                .collect()
        };
        let read = ["district", "city_centre", "transit_minutes"];
        Some(CatalogVenue {
            id: r.id.clone(),
            name: r.name.clone(),
            city: r.city.clone(),
            country: r.country.clone(),
            district: note(&r.notes, "district").unwrap_or("").to_owned(),
            address: r.address.clone(),
            contact: r.contact.clone(),
            capacity,
            rooms,
            day_rate,
            currency,
            amenities: r.amenities.clone().unwrap_or_default(),
            accessibility: r.accessibility.clone().unwrap_or_default(),
            city_centre: note(&r.notes, "city_centre")
                .is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "true" | "yes" | "1")),
            transit_minutes: note(&r.notes, "transit_minutes")
                .and_then(|v| v.parse().ok())
                .unwrap_or(UNKNOWN_TRANSIT_MINUTES),
            unavailable_dates: r.unavailable_dates.clone(),
            notes: r
                .notes
                .iter()
                .filter(|n| {
                    !n.split_once(':').is_some_and(|(k, _)| {
                        read.contains(&k.trim().to_ascii_lowercase().as_str())
                    })
                })
                .cloned()
                .collect::<Vec<_>>()
                .join("; "),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_data_loads_and_covers_four_cities() {
        let c = bundled_catalog().unwrap();
        assert!(c.venues.len() >= 150);
        let cities: std::collections::BTreeSet<&str> =
            c.venues.iter().map(|v| v.city.as_str()).collect();
        assert!(cities.len() >= 4, "{cities:?}");
        assert_eq!(c.venues.iter().map(|v| v.capacity).min(), Some(10));
        // Every city has venues from a meeting room to a congress centre for 5,000 people.
        for city in &cities {
            let caps: Vec<u32> = c
                .venues
                .iter()
                .filter(|v| v.city == *city)
                .map(|v| v.capacity)
                .collect();
            assert!(caps.iter().any(|x| *x <= 30), "{city}");
            assert!(caps.iter().filter(|x| **x >= 5000).count() >= 1, "{city}");
        }
        let r = bundled_rate_cards().unwrap();
        for city in &cities {
            for service in [
                Service::Catering,
                Service::Av,
                Service::Staffing,
                Service::Materials,
                Service::Insurance,
            ] {
                let n = r
                    .suppliers
                    .iter()
                    .filter(|s| s.service == service && s.serves(city))
                    .count();
                assert!(n >= 3, "{city} has {n} {service:?} suppliers");
            }
        }
    }

    #[test]
    fn bad_data_names_the_entry_and_field() {
        let err = parse_catalog("v.json", r#"{"source":"x","venues":[{"id":"venue-1","name":"A","city":"B","country":"DE","contact":"c","capacity":0,"rooms":[{"name":"r","capacity":1,"layout":"theatre"}],"day_rate":"1","currency":"EUR"}]}"#).unwrap_err();
        assert_eq!(
            err.to_string(),
            "v.json: venue-1: capacity: must be at least 1"
        );
        let err = parse_catalog("v.json", "{").unwrap_err();
        assert!(err.to_string().starts_with("v.json: EOF"), "{err}");
    }

    #[test]
    fn bad_rate_cards_name_the_entry_and_field() {
        let text = BUNDLED_RATES.replacen("\"min_qty\": \"250\"", "\"min_qty\": \"1\"", 1);
        let e = parse_rate_cards("r.json", &text).unwrap_err().to_string();
        assert!(
            e.contains("r.json: supplier-") && e.contains(".tiers[0].min_qty: must be more than 1"),
            "{e}"
        );
        let text = BUNDLED_RATES.replacen(
            "\"suppliers\": [\n        \"supplier-3\"",
            "\"suppliers\": [\n        \"supplier-999\"",
            1,
        );
        let e = parse_rate_cards("r.json", &text).unwrap_err().to_string();
        assert!(
            e.contains("package-1: suppliers: unknown supplier `supplier-999`"),
            "{e}"
        );
    }

    fn row(
        supplier: &str,
        service: &str,
        currency: &str,
        item: &str,
        price: &str,
        min_qty: Option<&str>,
        line: u64,
    ) -> RateCardRow {
        RateCardRow {
            supplier: supplier.into(),
            service: service.into(),
            city: "Nairobi".into(),
            country: "KE".into(),
            currency: Currency::parse(currency).unwrap(),
            item: item.into(),
            unit: "per_head".into(),
            price: price.parse().unwrap(),
            min_qty: min_qty.map(|q| q.parse().unwrap()),
            contact: if line == 2 {
                String::new()
            } else {
                "c@example.org".into()
            },
            notes: String::new(),
            provenance: Provenance::file(
                eods_domain::catalog::sources::SourceKind::EventList,
                "rate_cards.csv",
                line,
            ),
        }
    }

    #[test]
    fn rate_card_rows_group_into_suppliers_with_tiers() {
        let rows = vec![
            row(
                "Chakula",
                "catering",
                "KES",
                "lunch",
                "1300",
                Some("400"),
                2,
            ),
            row("Chakula", "catering", "KES", "lunch", "1500", None, 3),
            row("Sauti AV", "av", "KES", "room_basic", "15000", None, 4),
            row(
                "chakula ",
                "catering",
                "KES",
                "lunch",
                "1400",
                Some("200"),
                5,
            ),
            row("Chakula", "catering", "KES", "coffee_break", "450", None, 6),
            row("Chakula", "catering", "USD", "lunch", "12", None, 7),
            row("Odd", "juggling", "KES", "clown", "1", None, 8),
        ];
        let s = suppliers_from_rows(&rows);
        let ids: Vec<&str> = s.iter().map(|x| x.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "rc-chakula-catering",
                "rc-sauti-av-av",
                "rc-chakula-catering-usd"
            ]
        );
        let c = &s[0];
        assert_eq!(c.items.len(), 2);
        let lunch = &c.items[0];
        assert_eq!(
            (lunch.code.as_str(), lunch.price),
            ("lunch", Decimal::from(1500))
        );
        assert_eq!(
            lunch.tiers,
            vec![
                Tier {
                    min_qty: Decimal::from(200),
                    price: Decimal::from(1400)
                },
                Tier {
                    min_qty: Decimal::from(400),
                    price: Decimal::from(1300)
                },
            ]
        );
        assert_eq!(
            c.price_for("lunch", Decimal::from(250)),
            Some(Decimal::from(1400))
        );
        assert_eq!(
            c.price_for("lunch", Decimal::from(100)),
            Some(Decimal::from(1500))
        );
        assert_eq!(c.cities, ["Nairobi"]);
        assert_eq!(c.contact, "c@example.org", "the first non-empty contact");
        assert_eq!(c.payment_terms, NOT_GIVEN);
        assert_eq!(c.reliability, UNRATED_RELIABILITY);
        assert_eq!(c.provenance.as_ref().and_then(|p| p.line), Some(2));
        assert!(c.serves("nairobi"));
    }

    #[test]
    fn an_item_without_a_list_row_takes_its_lowest_tier_as_list_price() {
        let rows = vec![
            row("A", "materials", "EUR", "badge", "2", Some("50"), 2),
            row("A", "materials", "EUR", "badge", "3", Some("10"), 3),
        ];
        let s = suppliers_from_rows(&rows);
        assert_eq!(s[0].items[0].price, Decimal::from(3));
        assert_eq!(s[0].items[0].tiers.len(), 1);
        assert_eq!(s[0].items[0].tiers[0].min_qty, Decimal::from(50));
    }

    #[test]
    fn catalog_venues_survive_the_trip_through_records() {
        let c = bundled_catalog().unwrap();
        for v in &c.venues {
            let r = v.to_record(&Provenance::demo());
            assert_eq!(
                r.provenance.kind,
                eods_domain::catalog::sources::SourceKind::Demo
            );
            assert!(r.has_facts());
            assert_eq!(CatalogVenue::from_record(&r).as_ref(), Some(v), "{}", v.id);
        }
    }

    #[test]
    fn records_without_facts_are_not_catalog_venues_and_unknowns_stay_modest() {
        let c = bundled_catalog().unwrap();
        let mut r = c.venues[0].to_record(&Provenance::demo());
        r.rooms.clear();
        r.amenities = None;
        r.accessibility = None;
        r.notes = vec!["sample data".into()];
        let v = CatalogVenue::from_record(&r).unwrap();
        assert_eq!(v.rooms.len(), 1);
        assert_eq!(
            (v.rooms[0].name.as_str(), v.rooms[0].capacity),
            ("Main", v.capacity)
        );
        assert_eq!(v.rooms[0].layout, "theatre");
        assert!(v.amenities.is_empty() && v.accessibility.is_empty());
        assert!(!v.city_centre);
        assert_eq!(v.transit_minutes, UNKNOWN_TRANSIT_MINUTES);
        assert_eq!(v.notes, "sample data");
        r.notes.push("transit_minutes: 7".into());
        r.notes.push("City_Centre: yes".into());
        let v = CatalogVenue::from_record(&r).unwrap();
        assert_eq!((v.transit_minutes, v.city_centre), (7, true));
        for unknown in [
            VenueRecord {
                capacity: None,
                ..r.clone()
            },
            VenueRecord {
                day_rate: None,
                ..r.clone()
            },
            VenueRecord {
                currency: None,
                ..r.clone()
            },
        ] {
            assert_eq!(CatalogVenue::from_record(&unknown), None);
        }
    }
}
