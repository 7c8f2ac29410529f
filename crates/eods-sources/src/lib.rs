//! Where venues and prices come from. Every source answers one contract, [`VenueSource`]: a
//! search by criteria returns venue records, each with its provenance. Sources are composed in
//! order with fallback (see `chain`), each behind timeouts, retries with backoff and jitter, a
//! circuit breaker and a cache; when every source fails, the caller escalates to a person.

pub mod chain;
pub mod files;
pub mod osm;
pub mod overpass;

use eods_domain::catalog::sources::{SourceKind, VenueRecord, fold_city};
use std::future::Future;
use std::pin::Pin;

/// A boxed future, so that sources can be held as trait objects.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What the Venue Researcher looks for.
#[derive(Debug, Clone, PartialEq)]
pub struct VenueQuery {
    /// The city as the brief writes it (`Helsinki`, `São Paulo`).
    pub city: String,
    /// The brief's country, when it gives one.
    pub country: Option<String>,
    /// People the venue must hold (a source may return venues of unknown capacity).
    pub min_capacity: u32,
}

/// Why a source could not answer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SourceError {
    /// The source took longer than its timeout.
    #[error("timed out after {0} ms")]
    Timeout(u64),
    /// The source answered with a status worth retrying (429, 5xx) or the connection failed.
    #[error("{0}")]
    Transient(String),
    /// The source answered with something that will not get better by asking again.
    #[error("{0}")]
    Permanent(String),
}

impl SourceError {
    /// Whether asking again may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, SourceError::Timeout(_) | SourceError::Transient(_))
    }
}

/// One source of venues.
pub trait VenueSource: Send + Sync {
    /// A name for people and traces (`venues.csv`, `OpenStreetMap import`, `Overpass API`).
    fn name(&self) -> &str;
    /// The kind of source.
    fn kind(&self) -> SourceKind;
    /// The venues in the query's city the source knows of. Records of unknown capacity are
    /// returned too (they become requests for quote); records known to be too small need not be.
    fn search<'a>(
        &'a self,
        q: &'a VenueQuery,
    ) -> BoxFuture<'a, Result<Vec<VenueRecord>, SourceError>>;
}

/// A fixed list of records (an organiser's list, the installation catalog, the demo catalog):
/// answers with the records in the query's city.
#[derive(Debug, Clone)]
pub struct StaticSource {
    pub name: String,
    pub kind: SourceKind,
    pub records: Vec<VenueRecord>,
}

impl VenueSource for StaticSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn kind(&self) -> SourceKind {
        self.kind
    }

    fn search<'a>(
        &'a self,
        q: &'a VenueQuery,
    ) -> BoxFuture<'a, Result<Vec<VenueRecord>, SourceError>> {
        Box::pin(async move {
            Ok(self
                .records
                .iter()
                .filter(|r| same_city(&r.city, &q.city))
                .cloned()
                .collect())
        })
    }
}

/// Whether two city names name the same city (case, accents and punctuation aside:
/// `São Paulo` = `Sao Paulo` = `sao-paulo`).
pub fn same_city(a: &str, b: &str) -> bool {
    fold_city(a) == fold_city(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn city_names_match_across_accents_and_case() {
        assert!(same_city("São Paulo", "sao paulo"));
        assert!(same_city("Zürich", "Zurich"));
        assert!(!same_city("Paris", "Parish"));
    }
}
