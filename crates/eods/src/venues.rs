//! `eods venues import-osm FILE.osm.pbf [--city NAME]` and `eods venues list --city NAME`: load the
//! places that can host events from an OpenStreetMap extract into the database, and show what a
//! city's runs will find there. Reading the extract and the tag mapping are
//! `eods_sources::osm`'s; storing is the store's. Every output carries the ODbL attribution.

use eods_domain::catalog::sources::{OSM_ATTRIBUTION, VenueRecord};
use eods_sources::osm::{OsmError, read_pbf};
use eods_store::Store;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The `eods venues` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum VenuesCommand {
    /// Store the places that can host events (conference centres, theatres, concert halls, arts
    /// and community centres, libraries, cinemas, hotels with meeting rooms…) from an
    /// OpenStreetMap extract (.osm.pbf). A place imported before is replaced.
    #[command(name = "import-osm")]
    ImportOsm {
        /// The extract, e.g. Helsinki.osm.pbf (Geofabrik and BBBike publish them).
        file: PathBuf,
        /// The city of the extract: places without `addr:city` get it, places whose `addr:city`
        /// names another city are left out. Without it, places keep their `addr:city` and those
        /// without one cannot be found by city.
        #[arg(long)]
        city: Option<String>,
        /// Database URL: sqlite://PATH (created on first use) or postgres://USER@HOST/DB.
        #[arg(long, env = "EODS_DATABASE_URL", default_value = "sqlite://eods.db")]
        database: String,
    },
    /// List the imported places of a city, as the Venue Researcher finds them.
    List {
        /// The city (case, accents and punctuation aside: `sao paulo` finds `São Paulo`).
        #[arg(long)]
        city: String,
        /// Print the venue records as a JSON array instead of a table.
        #[arg(long)]
        json: bool,
        /// Database URL: sqlite://PATH (created on first use) or postgres://USER@HOST/DB.
        #[arg(long, env = "EODS_DATABASE_URL", default_value = "sqlite://eods.db")]
        database: String,
    },
}

/// Why an `eods venues` command failed: bad input (exit 2) or anything else (exit 1).
pub enum VenuesFailure {
    Input(String),
    Other(String),
}

/// Runs an `eods venues` subcommand; returns the lines to print.
pub async fn run(
    cmd: VenuesCommand,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<String>, VenuesFailure> {
    match cmd {
        VenuesCommand::ImportOsm {
            file,
            city,
            database,
        } => {
            let city = city.map(|c| c.trim().to_owned()).filter(|c| !c.is_empty());
            let short = file.file_name().map_or_else(
                || file.display().to_string(),
                |f| f.to_string_lossy().into_owned(),
            );
            // Reading an extract is CPU work: keep it off the async workers.
            let (path, wanted) = (file.clone(), city.clone());
            let import = tokio::task::spawn_blocking(move || read_pbf(&path, wanted.as_deref()))
                .await
                .map_err(|e| {
                    VenuesFailure::Other(format!("error: reading {}: {e}", file.display()))
                })?
                // Every reading error is the file's: missing, not a PBF, or damaged.
                .map_err(|e: OsmError| VenuesFailure::Input(format!("error: {e}")))?;
            let store = connect(&database).await?;
            store
                .upsert_places(&import.records, &short, now)
                .await
                .map_err(|e| VenuesFailure::Other(format!("error: {e}")))?;
            let mut out = vec![format!(
                "Imported {} {} from {short}{}: {}; {OSM_ATTRIBUTION}",
                import.kept,
                plural(import.kept, "place"),
                city.as_deref()
                    .map(|c| format!(" (city {c})"))
                    .unwrap_or_default(),
                by_kind(&import.records)
            )];
            let mut skipped = vec![
                format!("stored in {}", store.backend()),
                format!("read {} elements", import.scanned_elements),
            ];
            if import.skipped_unnamed > 0 {
                skipped.push(format!(
                    "left out {} without a name",
                    import.skipped_unnamed
                ));
            }
            if import.skipped_other_city > 0 {
                skipped.push(format!(
                    "left out {} whose addr:city is not {}",
                    import.skipped_other_city,
                    city.as_deref().unwrap_or_default()
                ));
            }
            out.push(skipped.join("; "));
            let cityless = import.records.iter().filter(|r| r.city.is_empty()).count();
            if cityless > 0 {
                out.push(format!(
                    "note: {cityless} {} no addr:city and cannot be found by city; import again with --city NAME",
                    if cityless == 1 { "place has" } else { "places have" }
                ));
            }
            Ok(out)
        }
        VenuesCommand::List {
            city,
            json,
            database,
        } => {
            let store = connect(&database).await?;
            let places = store
                .places_in_city(&city)
                .await
                .map_err(|e| VenuesFailure::Other(format!("error: {e}")))?;
            if json {
                let text = serde_json::to_string_pretty(&places)
                    .map_err(|e| VenuesFailure::Other(format!("error: {e}")))?;
                return Ok(vec![text]);
            }
            if places.is_empty() {
                return Ok(vec![format!(
                    "No imported places in {city}: import an extract with `eods venues import-osm FILE.osm.pbf --city {city}`"
                )]);
            }
            let mut out = vec![format!(
                "{} imported {} in {city} (id, name, kind, capacity, OpenStreetMap element):",
                places.len(),
                plural(places.len() as u64, "place")
            )];
            for p in &places {
                out.push(format!(
                    "{}\t{}\t{}\t{}\t{}",
                    p.id,
                    p.name,
                    p.place_kind,
                    p.capacity.map_or_else(
                        || "capacity unknown".to_owned(),
                        |c| format!("capacity {c}")
                    ),
                    p.provenance.osm_id.as_deref().unwrap_or("-")
                ));
            }
            out.push(OSM_ATTRIBUTION.to_owned());
            Ok(out)
        }
    }
}

/// `12 theatres, 3 libraries, 1 cinema`, most frequent kind first.
fn by_kind(records: &[VenueRecord]) -> String {
    let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
    for r in records {
        *counts.entry(r.place_kind.as_str()).or_default() += 1;
    }
    let mut counts: Vec<(&str, u64)> = counts.into_iter().collect();
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    if counts.is_empty() {
        return "none".to_owned();
    }
    counts
        .into_iter()
        .map(|(kind, n)| format!("{n} {}", plural(n, &kind.replace('_', " "))))
        .collect::<Vec<_>>()
        .join(", ")
}

fn plural(n: u64, word: &str) -> String {
    if n == 1 {
        word.to_owned()
    } else if let Some(stem) = word.strip_suffix('y') {
        format!("{stem}ies")
    } else {
        format!("{word}s")
    }
}

async fn connect(url: &str) -> Result<Store, VenuesFailure> {
    Store::connect(url)
        .await
        .map_err(|e| VenuesFailure::Other(format!("error: --database: {e}")))
}

#[cfg(test)]
mod tests {
    use super::plural;

    #[test]
    fn kinds_are_counted_in_plain_plurals() {
        for (n, word, want) in [
            (1, "theatre", "theatre"),
            (2, "theatre", "theatres"),
            (3, "library", "libraries"),
            (0, "place", "places"),
            (2, "concert hall", "concert halls"),
        ] {
            assert_eq!(plural(n, word), want, "{n} {word}");
        }
    }
}
