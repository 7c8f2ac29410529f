//! Places imported from OpenStreetMap (`eods venues import-osm`): one row per element, keyed by
//! its venue reference, holding the whole [`VenueRecord`] as JSON and its city folded for lookup.
//! The store keeps what it is given; reading extracts and the tag mapping are `eods-sources`'.

use crate::{Store, StoreError};
use chrono::{DateTime, Utc};
use eods_domain::catalog::sources::{VenueRecord, fold_city};
use sqlx::types::Json;
use std::collections::HashMap;

/// Rows per INSERT statement: 5 parameters each stays far below both backends' limits.
const BATCH: usize = 200;

impl Store {
    /// Stores `places` from `source` (such as `Helsinki.osm.pbf`) in one transaction: a place
    /// already stored under the same id is replaced, so re-importing an extract updates it.
    /// Returns the number of places written. Refuses a record with an empty id.
    pub async fn upsert_places(
        &self,
        places: &[VenueRecord],
        source: &str,
        at: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        if let Some(bad) = places.iter().find(|p| p.id.as_str().trim().is_empty()) {
            return Err(StoreError::Conflict(format!(
                "the place `{}` from {source} has an empty id",
                bad.name
            )));
        }
        // The same id twice in one call would make one INSERT touch a row twice (PostgreSQL
        // refuses that): the later record wins, as it would in two imports.
        let mut unique: Vec<&VenueRecord> = Vec::with_capacity(places.len());
        let mut at_index: HashMap<&str, usize> = HashMap::with_capacity(places.len());
        for p in places {
            match at_index.get(p.id.as_str()) {
                Some(&i) => unique[i] = p,
                None => {
                    at_index.insert(p.id.as_str(), unique.len());
                    unique.push(p);
                }
            }
        }
        on_pool!(self, p => {
            let mut tx = p.begin().await.map_err(|e| StoreError::query("begin", e))?;
            for chunk in unique.chunks(BATCH) {
                let values: Vec<String> = (0..chunk.len())
                    .map(|k| format!("(${}, ${}, ${}, ${}, ${})", 5 * k + 1, 5 * k + 2, 5 * k + 3, 5 * k + 4, 5 * k + 5))
                    .collect();
                let sql = format!(
                    "INSERT INTO venue_places (id, city_key, record, source, imported_at) VALUES {} ON CONFLICT (id) DO UPDATE SET city_key = excluded.city_key, record = excluded.record, source = excluded.source, imported_at = excluded.imported_at",
                    values.join(", ")
                );
                // The statement text is built from placeholders only; every value is bound.
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for r in chunk {
                    q = q.bind(r.id.as_str()).bind(fold_city(&r.city)).bind(Json(*r)).bind(source).bind(at);
                }
                q.execute(&mut *tx).await
                    .map_err(|e| StoreError::query("store imported places", e))?;
            }
            tx.commit().await.map_err(|e| StoreError::query("commit imported places", e))?;
        });
        Ok(unique.len() as u64)
    }

    /// The stored places whose city is `city` (case, accents and punctuation aside, as
    /// [`fold_city`] folds them), ordered by id.
    pub async fn places_in_city(&self, city: &str) -> Result<Vec<VenueRecord>, StoreError> {
        let key = fold_city(city);
        let rows: Vec<(String, Json<serde_json::Value>)> = on_pool!(self, p => sqlx::query_as(
            "SELECT id, record FROM venue_places WHERE city_key = $1 ORDER BY id")
            .bind(&key)
            .fetch_all(p).await)
        .map_err(|e| StoreError::query("read imported places", e))?;
        rows.into_iter()
            .map(|(id, Json(v))| {
                serde_json::from_value(v)
                    .map_err(|e| StoreError::Corrupt(format!("venue_places.record of `{id}`: {e}")))
            })
            .collect()
    }

    /// How many places are stored.
    pub async fn count_places(&self) -> Result<u64, StoreError> {
        let (n,): (i64,) = on_pool!(self, p => sqlx::query_as("SELECT COUNT(*) FROM venue_places")
            .fetch_one(p).await)
        .map_err(|e| StoreError::query("count imported places", e))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}
