//! `eods fx import FILE` and `eods fx list`: load the European Central Bank's euro reference
//! rates (CSV, XML or the history zip) into the database, and show what runs will convert with.
//! Runs (`plan`, `resume`, `serve`) read the stored rates once at start through
//! [`imported_rates`] and lay them over the snapshot bundled with the binary.

use eods_agents::fx::{self, FxTable};
use eods_store::{FxRateWrite, Store};
use std::path::PathBuf;

/// The `eods fx` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum FxCommand {
    /// Store exchange rates from a file in the ECB's format: eurofxref.csv, eurofxref-hist.csv,
    /// eurofxref-daily.xml, eurofxref-hist.xml or eurofxref-hist.zip, or a CSV of the same layout
    /// (`Date,KES,…` then `2026-10-30,150.12,…`, units per euro) for a currency the ECB does not
    /// publish. A rate of a day and currency already stored is replaced.
    Import {
        file: PathBuf,
        /// Who published the rates, recorded with every amount converted with them.
        #[arg(long, default_value = "ECB euro reference rates")]
        source: String,
        /// Database URL: sqlite://PATH (created on first use) or postgres://USER@HOST/DB.
        #[arg(long, env = "EODS_DATABASE_URL", default_value = "sqlite://eods.db")]
        database: String,
    },
    /// Show the exchange rates runs use: the imports in the database and the bundled snapshot.
    #[command(visible_alias = "show")]
    List {
        /// Database URL: sqlite://PATH (created on first use) or postgres://USER@HOST/DB.
        #[arg(long, env = "EODS_DATABASE_URL", default_value = "sqlite://eods.db")]
        database: String,
    },
}

/// Why an `eods fx` command failed: bad input (exit 2) or anything else (exit 1).
pub enum FxFailure {
    Input(String),
    Other(String),
}

/// The rates stored by `eods fx import`, as a table to lay over the bundled snapshot.
pub async fn imported_rates(store: &Store) -> Result<FxTable, eods_store::StoreError> {
    let mut t = FxTable::default();
    for r in store.fx_rates().await? {
        t.insert(r.date, &r.currency, r.per_eur, &r.source);
    }
    Ok(t)
}

/// Runs an `eods fx` subcommand; returns the lines to print.
pub async fn run(
    cmd: FxCommand,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<String>, FxFailure> {
    match cmd {
        FxCommand::Import {
            file,
            source,
            database,
        } => {
            let name = file.display().to_string();
            let bytes = std::fs::read(&file)
                .map_err(|e| FxFailure::Input(format!("error: {name}: {e}")))?;
            let short = file
                .file_name()
                .map_or(name.clone(), |f| f.to_string_lossy().into_owned());
            let source = format!("{} ({short})", source.trim());
            let table = fx::parse_file(&name, &bytes, &source)
                .map_err(|e| FxFailure::Input(format!("error: {e}")))?;
            let rows: Vec<FxRateWrite> = table
                .rates()
                .map(|r| FxRateWrite {
                    date: r.date,
                    currency: r.currency.to_owned(),
                    per_eur: r.per_eur,
                })
                .collect();
            let store = connect(&database).await?;
            let i = store
                .import_fx_rates(&source, &short, now, &rows)
                .await
                .map_err(|e| FxFailure::Other(format!("error: {e}")))?;
            Ok(vec![format!(
                "imported {} rates of {} currencies from {} to {} ({source}) into {}",
                i.rates,
                i.currencies,
                i.first_date,
                i.last_date,
                store.backend()
            )])
        }
        FxCommand::List { database } => {
            let store = connect(&database).await?;
            let imports = store
                .fx_imports()
                .await
                .map_err(|e| FxFailure::Other(format!("error: {e}")))?;
            let stored = imported_rates(&store)
                .await
                .map_err(|e| FxFailure::Other(format!("error: {e}")))?;
            let bundled =
                FxTable::bundled().map_err(|e| FxFailure::Other(format!("error: {e}")))?;
            let mut out = vec!["Exchange rates (units per euro; amounts convert through the euro at the newest rate on or before the event's first day):".to_owned()];
            let describe = |out: &mut Vec<String>, label: String, t: &FxTable| {
                if let Some((a, b)) = t.date_range() {
                    out.push(format!("{label}: {a} to {b}, {} rates", t.len()));
                    out.push(format!(
                        "  currencies: {}",
                        t.currencies().collect::<Vec<_>>().join(" ")
                    ));
                }
            };
            if imports.is_empty() {
                out.push(
                    "database: no imported rates (load newer ones with `eods fx import FILE`)"
                        .into(),
                );
            } else {
                describe(&mut out, "database".into(), &stored);
                for i in &imports {
                    out.push(format!(
                        "  import {} of {}: {} rates of {} currencies, {} to {}, source {}",
                        i.imported_at.format("%Y-%m-%d %H:%M UTC"),
                        i.file_name,
                        i.rates,
                        i.currencies,
                        i.first_date,
                        i.last_date,
                        i.source
                    ));
                }
            }
            describe(
                &mut out,
                format!("bundled ({})", fx::BUNDLED_SOURCE),
                &bundled,
            );
            Ok(out)
        }
    }
}

async fn connect(url: &str) -> Result<Store, FxFailure> {
    Store::connect(url)
        .await
        .map_err(|e| FxFailure::Other(format!("error: --database: {e}")))
}
