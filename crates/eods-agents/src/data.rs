//! The bundled sample data — a venue catalog and supplier rate cards — and their typed loaders.
//! Data is checked at load: a bad file is an error naming the entry and field, never a panic.

use chrono::NaiveDate;
use eods_domain::catalog::budget::BudgetCategory;
use eods_domain::catalog::sources::{Provenance, RateCardRow, VenueRecord};
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
    /// Where the venue comes from; `None` in the bundled demo catalog.
    #[serde(default)]
    pub provenance: Option<Provenance>,
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
    /// Where the supplier comes from; `None` in the bundled demo rate cards.
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

// STUBS: replaced by the organiser-files branch.
/// Suppliers from rate-card rows.
pub fn suppliers_from_rows(rows: &[RateCardRow]) -> Vec<Supplier> {
    let _ = rows;
    vec![]
}

impl CatalogVenue {
    /// This demo venue as a record.
    pub fn to_record(&self, label: &Provenance) -> VenueRecord {
        VenueRecord {
            id: self.id.clone(),
            name: self.name.clone(),
            city: self.city.clone(),
            country: self.country.clone(),
            capacity: Some(self.capacity),
            rooms: vec![],
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
            notes: vec![],
            provenance: label.clone(),
        }
    }

    /// A record with known facts as a catalog venue.
    pub fn from_record(r: &VenueRecord) -> Option<CatalogVenue> {
        let _ = r;
        None
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
}
