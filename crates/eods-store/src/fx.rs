//! Imported exchange rates (`eods fx import`): one row per import, one per day and currency.
//! The store keeps what it is given; parsing files and converting amounts are `eods-agents`'.

use crate::{Store, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use std::collections::BTreeSet;
use uuid::Uuid;

/// Rows per INSERT statement: 4 parameters each stays far below both backends' limits.
const BATCH: usize = 500;

/// One rate to store: units of `currency` per euro on `date`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FxRateWrite {
    pub date: NaiveDate,
    /// Three upper-case letters (the ECB's history has retired codes such as CYP).
    pub currency: String,
    pub per_eur: Decimal,
}

/// What one import brought.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FxImportRow {
    pub id: Uuid,
    /// Who published the rates, e.g. `ECB euro reference rates (eurofxref-hist.zip)`.
    pub source: String,
    pub file_name: String,
    pub imported_at: DateTime<Utc>,
    pub first_date: NaiveDate,
    pub last_date: NaiveDate,
    pub currencies: u32,
    pub rates: u64,
}

/// A stored rate with the source of the import that set it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FxRateRow {
    pub date: NaiveDate,
    pub currency: String,
    pub per_eur: Decimal,
    pub source: String,
}

type ImportTuple = (
    String,
    String,
    String,
    DateTime<Utc>,
    NaiveDate,
    NaiveDate,
    i64,
    i64,
);

impl Store {
    /// Stores `rates` as one import, in one transaction; a rate of a day and currency already
    /// stored is replaced. Refuses an empty list.
    pub async fn import_fx_rates(
        &self,
        source: &str,
        file_name: &str,
        now: DateTime<Utc>,
        rates: &[FxRateWrite],
    ) -> Result<FxImportRow, StoreError> {
        let (Some(first_date), Some(last_date)) = (
            rates.iter().map(|r| r.date).min(),
            rates.iter().map(|r| r.date).max(),
        ) else {
            return Err(StoreError::Conflict(format!(
                "{file_name} holds no rate to import"
            )));
        };
        let row = FxImportRow {
            id: Uuid::now_v7(),
            source: source.to_owned(),
            file_name: file_name.to_owned(),
            imported_at: now,
            first_date,
            last_date,
            currencies: u32::try_from(
                rates
                    .iter()
                    .map(|r| r.currency.as_str())
                    .collect::<BTreeSet<_>>()
                    .len(),
            )
            .unwrap_or(u32::MAX),
            rates: rates.len() as u64,
        };
        // SQLite keeps the decimal as text; PostgreSQL casts it to NUMERIC.
        let value = |i: usize| match self {
            Store::Sqlite(_) => format!("${i}"),
            Store::Postgres(_) => format!("CAST(${i} AS NUMERIC)"),
        };
        let id = row.id.to_string();
        on_pool!(self, p => {
            let mut tx = p.begin().await.map_err(|e| StoreError::query("begin", e))?;
            sqlx::query("INSERT INTO fx_imports (id, source, file_name, imported_at, first_date, last_date, currencies, rates) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
                .bind(&id).bind(source).bind(file_name).bind(now).bind(first_date).bind(last_date)
                .bind(i64::from(row.currencies)).bind(i64::try_from(row.rates).unwrap_or(i64::MAX))
                .execute(&mut *tx).await
                .map_err(|e| StoreError::query("record the exchange-rate import", e))?;
            for chunk in rates.chunks(BATCH) {
                let values: Vec<String> = (0..chunk.len())
                    .map(|k| format!("(${}, ${}, {}, ${})", 4 * k + 1, 4 * k + 2, value(4 * k + 3), 4 * k + 4))
                    .collect();
                let sql = format!(
                    "INSERT INTO fx_rates (rate_date, currency, per_eur, import_id) VALUES {} ON CONFLICT (rate_date, currency) DO UPDATE SET per_eur = excluded.per_eur, import_id = excluded.import_id",
                    values.join(", ")
                );
                // The statement text is built from placeholders only; every value is bound.
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for r in chunk {
                    q = q.bind(r.date).bind(&r.currency).bind(r.per_eur.to_string()).bind(&id);
                }
                q.execute(&mut *tx).await
                    .map_err(|e| StoreError::query("store exchange rates", e))?;
            }
            tx.commit().await.map_err(|e| StoreError::query("commit exchange rates", e))?;
        });
        Ok(row)
    }

    /// Every import, newest first.
    pub async fn fx_imports(&self) -> Result<Vec<FxImportRow>, StoreError> {
        let rows: Vec<ImportTuple> = on_pool!(self, p => sqlx::query_as(
            "SELECT id, source, file_name, imported_at, first_date, last_date, currencies, rates FROM fx_imports ORDER BY imported_at DESC, id DESC")
            .fetch_all(p).await)
            .map_err(|e| StoreError::query("list exchange-rate imports", e))?;
        rows.into_iter()
            .map(
                |(id, source, file_name, imported_at, first_date, last_date, c, r)| {
                    Ok(FxImportRow {
                        id: Uuid::parse_str(&id).map_err(|e| {
                            StoreError::Corrupt(format!("fx_imports.id `{id}`: {e}"))
                        })?,
                        source,
                        file_name,
                        imported_at,
                        first_date,
                        last_date,
                        currencies: u32::try_from(c).unwrap_or(0),
                        rates: u64::try_from(r).unwrap_or(0),
                    })
                },
            )
            .collect()
    }

    /// Every stored rate with its import's source, by currency then day.
    pub async fn fx_rates(&self) -> Result<Vec<FxRateRow>, StoreError> {
        let rows: Vec<(NaiveDate, String, String, String)> = on_pool!(self, p => sqlx::query_as(
            "SELECT r.rate_date, r.currency, CAST(r.per_eur AS TEXT), i.source FROM fx_rates r JOIN fx_imports i ON i.id = r.import_id ORDER BY r.currency, r.rate_date")
            .fetch_all(p).await)
            .map_err(|e| StoreError::query("read exchange rates", e))?;
        rows.into_iter()
            .map(|(date, currency, per_eur, source)| {
                Ok(FxRateRow {
                    per_eur: per_eur.parse().map_err(|e| {
                        StoreError::Corrupt(format!(
                            "fx_rates.per_eur `{per_eur}` of {currency} on {date}: {e}"
                        ))
                    })?,
                    date,
                    currency,
                    source,
                })
            })
            .collect()
    }
}
