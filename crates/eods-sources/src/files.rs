//! The organiser's files: venue lists (CSV or JSON), rate cards (CSV) and quotes (CSV), and an
//! installation's catalog directory holding such files. Every bad row is reported with its file,
//! line, column and how to fix it, and skipped whole; the good rows still load. A cell the
//! organiser left empty stays unknown (`None`): a venue without a capacity or day rate becomes a
//! request for quote later, never a guess.
//!
//! Parsing is pure (text in, records out); only [`load_catalog_dir`] reads files.

mod cells;
mod table;

use eods_domain::catalog::sources::{
    Provenance, RateCardRow, SERVICES, SourceKind, UNITS, VenueQuote, VenueRecord, fold,
};
use eods_domain::ids::VenueRef;
use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};
use table::Row;

/// One problem in an organiser file: where it is and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub file: String,
    /// The 1-based line the row starts on (the header's line for a header problem).
    pub line: u64,
    /// The column (normalised header name); empty when the problem is the whole row.
    pub column: String,
    /// What is wrong and how to write it instead.
    pub message: String,
}

impl RowError {
    fn new(file: &str, line: u64, column: &str, message: String) -> RowError {
        RowError {
            file: file.to_owned(),
            line,
            column: column.to_owned(),
            message,
        }
    }
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.column.is_empty() {
            write!(f, "{} line {}: {}", self.file, self.line, self.message)
        } else {
            write!(
                f,
                "{} line {}, column {}: {}",
                self.file, self.line, self.column, self.message
            )
        }
    }
}

/// What a file gave: the records of its good rows and an error for each problem.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed<T> {
    pub records: Vec<T>,
    pub errors: Vec<RowError>,
}

impl<T> Default for Parsed<T> {
    fn default() -> Self {
        Parsed {
            records: Vec::new(),
            errors: Vec::new(),
        }
    }
}

/// Collects the problems of one row.
struct Check<'a> {
    file: &'a str,
    line: u64,
    errors: Vec<RowError>,
}

impl<'a> Check<'a> {
    fn new(file: &'a str, row: &Row) -> Check<'a> {
        Check {
            file,
            line: row.line,
            errors: Vec::new(),
        }
    }

    /// The value, or `T::default()` after recording the problem in `column`.
    fn take<T: Default>(&mut self, column: &str, r: Result<T, String>) -> T {
        r.unwrap_or_else(|m| {
            self.fail(column, m);
            T::default()
        })
    }

    fn fail(&mut self, column: &str, message: String) {
        self.errors
            .push(RowError::new(self.file, self.line, column, message));
    }

    /// A cell that must not be empty.
    fn required(&mut self, row: &Row, column: &str, what: &str) -> String {
        let v = row.get(column);
        if v.is_empty() {
            self.fail(column, format!("{column} is empty: write {what}"));
        }
        v.to_owned()
    }
}

/// The required columns of a venue list.
pub const VENUE_REQUIRED: &[&str] = &[
    "name", "city", "country", "capacity", "day_rate", "currency",
];
/// The optional columns of a venue list (others are kept as notes).
pub const VENUE_OPTIONAL: &[&str] = &[
    "rooms",
    "amenities",
    "accessibility",
    "address",
    "contact",
    "website",
    "phone",
    "place_kind",
    "unavailable_dates",
    "lat",
    "lon",
    "notes",
];

/// A venue list as CSV: the header names the columns (any order, case-insensitive); required
/// `name,city,country,capacity,day_rate,currency` (the last three cells may be empty: unknown),
/// optional `rooms`, `amenities`, `accessibility`, `address`, `contact`, `website`, `phone`,
/// `place_kind`, `unavailable_dates`, `lat`, `lon`, `notes`; other columns become notes.
pub fn parse_venues_csv(text: &str, file: &str, kind: SourceKind) -> Parsed<VenueRecord> {
    let (rows, errors) = table::read_csv(text, file, VENUE_REQUIRED);
    venues_from_rows(rows, errors, file, kind)
}

/// A venue list as a JSON array of objects with the CSV's column names; `rooms` may be
/// `"Main:300;Side:80"` or `[{"name": "Main", "capacity": 300}]`, lists may be arrays.
pub fn parse_venues_json(text: &str, file: &str, kind: SourceKind) -> Parsed<VenueRecord> {
    let (rows, errors) = table::read_json(text, file);
    venues_from_rows(rows, errors, file, kind)
}

/// A venue list in either form: JSON when the file name ends in `.json` or, for other names,
/// when the text starts with `[` or `{`; CSV otherwise.
pub fn parse_venues(text: &str, file: &str, kind: SourceKind) -> Parsed<VenueRecord> {
    let lower = file.to_ascii_lowercase();
    let json = if lower.ends_with(".json") {
        true
    } else if lower.ends_with(".csv") {
        false
    } else {
        text.trim_start_matches(|c: char| c == '\u{feff}' || c.is_whitespace())
            .starts_with(['[', '{'])
    };
    if json {
        parse_venues_json(text, file, kind)
    } else {
        parse_venues_csv(text, file, kind)
    }
}

fn venues_from_rows(
    rows: Vec<Row>,
    errors: Vec<RowError>,
    file: &str,
    kind: SourceKind,
) -> Parsed<VenueRecord> {
    let mut out = Parsed {
        records: Vec::new(),
        errors,
    };
    let mut ids = HashSet::new();
    for row in rows {
        match venue(&row, file, kind) {
            Ok(mut v) => {
                v.id = unique_id(&mut ids, &v.id.0);
                out.records.push(v);
            }
            Err(e) => out.errors.extend(e),
        }
    }
    out.errors.sort_by_key(|e| e.line);
    out
}

/// The id prefix of venue records read from files of `kind`.
fn id_prefix(kind: SourceKind) -> &'static str {
    match kind {
        SourceKind::InstallationCatalog => "catalog",
        _ => "list",
    }
}

/// `base`, or `base-2`, `base-3`… when taken.
fn unique_id(taken: &mut HashSet<String>, base: &str) -> VenueRef {
    let mut id = base.to_owned();
    let mut n = 2;
    while taken.contains(&id) {
        id = format!("{base}-{n}");
        n += 1;
    }
    taken.insert(id.clone());
    VenueRef(id)
}

fn venue(row: &Row, file: &str, kind: SourceKind) -> Result<VenueRecord, Vec<RowError>> {
    let mut c = Check::new(file, row);
    let name = c.required(row, "name", "the venue's name");
    let city = c.required(row, "city", "the city the venue is in");
    let capacity = c.take("capacity", cells::people(row.get("capacity")));
    let day_rate = c.take("day_rate", cells::amount(row.get("day_rate")));
    let currency = c.take("currency", cells::currency(row.get("currency")));
    if day_rate.is_some() && row.get("currency").is_empty() {
        c.fail(
            "currency",
            format!(
                "day_rate {} has no currency: write the ISO 4217 code of the price, such as KES or EUR",
                row.get("day_rate")
            ),
        );
    }
    let rooms = match &row.room_objects {
        Some(objects) => c.take("rooms", room_objects(objects)),
        None => c.take("rooms", cells::rooms(row.get("rooms"))),
    };
    if let (Some(cap), Some(big)) = (capacity, rooms.iter().max_by_key(|r| r.capacity))
        && big.capacity > cap
    {
        c.fail(
            "rooms",
            format!(
                "room \"{}\" holds {} but the venue's capacity is {cap}: correct the room or the capacity",
                big.name, big.capacity
            ),
        );
    }
    let unavailable_dates = c.take(
        "unavailable_dates",
        cells::dates(row.get("unavailable_dates")),
    );
    let lat = c.take("lat", cells::degrees(row.get("lat"), 90.0, "48.8566"));
    let lon = c.take("lon", cells::degrees(row.get("lon"), 180.0, "2.3522"));
    if row.get("lat").is_empty() != row.get("lon").is_empty() {
        let (missing, given) = if row.get("lat").is_empty() {
            ("lat", "lon")
        } else {
            ("lon", "lat")
        };
        c.fail(
            missing,
            format!("{given} is given without {missing}: write both coordinates or neither"),
        );
    }
    if !c.errors.is_empty() {
        return Err(c.errors);
    }
    let mut notes = cells::list(row.get("notes"));
    let known: Vec<&str> = VENUE_REQUIRED
        .iter()
        .chain(VENUE_OPTIONAL)
        .copied()
        .collect();
    notes.extend(row.extras(&known));
    let slug = cells::slug(&name);
    let slug = if slug.is_empty() {
        format!("line-{}", row.line)
    } else {
        slug
    };
    Ok(VenueRecord {
        id: VenueRef(format!("{}-{slug}", id_prefix(kind))),
        // A capacity the list leaves empty is the largest room it gives, if any: both are the
        // organiser's own figures.
        capacity: capacity.or_else(|| rooms.iter().map(|r| r.capacity).max()),
        name,
        city,
        country: row.get("country").to_owned(),
        rooms,
        day_rate,
        currency,
        amenities: cells::tags(row.get("amenities")),
        accessibility: cells::tags(row.get("accessibility")),
        address: row.get("address").to_owned(),
        contact: row.get("contact").to_owned(),
        website: row.get("website").to_owned(),
        phone: row.get("phone").to_owned(),
        place_kind: cells::snake(row.get("place_kind")),
        unavailable_dates,
        lat,
        lon,
        notes,
        provenance: Provenance::file(kind, file, row.line),
    })
}

fn room_objects(
    objects: &[serde_json::Value],
) -> Result<Vec<eods_domain::catalog::sources::RoomRecord>, String> {
    objects
        .iter()
        .map(|o| {
            let text = |k: &str| match o.get(k) {
                Some(serde_json::Value::String(s)) => s.trim().to_owned(),
                Some(serde_json::Value::Number(n)) => n.to_string(),
                _ => String::new(),
            };
            let name = text("name");
            if !o.is_object() || name.is_empty() {
                return Err(format!(
                    "{o} is not a room: write {{\"name\": \"Main\", \"capacity\": 300}}"
                ));
            }
            let layout = text("layout");
            cells::room(&name, &text("capacity"), Some(layout.as_str()))
        })
        .collect()
}

/// The required columns of a rate card.
pub const RATE_REQUIRED: &[&str] = &[
    "supplier", "service", "city", "country", "currency", "item", "unit", "price",
];
/// The optional columns of a rate card (others are kept as notes).
pub const RATE_OPTIONAL: &[&str] = &["min_qty", "contact", "notes"];

const SERVICE_SYNONYMS: &[(&str, &str)] = &[
    ("audio_visual", "av"),
    ("audiovisual", "av"),
    ("a_v", "av"),
    ("food", "catering"),
    ("staff", "staffing"),
    ("security", "staffing"),
    ("print", "materials"),
    ("printing", "materials"),
    ("speaker", "speakers"),
    ("travel", "speakers"),
    ("promotion", "marketing"),
];

const UNIT_SYNONYMS: &[(&str, &str)] = &[
    ("per_person", "per_head"),
    ("per_guest", "per_head"),
    ("per_attendee", "per_head"),
    ("per_delegate", "per_head"),
    ("per_pax", "per_head"),
    ("per_participant", "per_head"),
    ("each", "per_head"),
    ("daily", "per_day"),
    ("hourly", "per_hour"),
    ("per_room", "per_room_day"),
    ("flat", "per_event"),
    ("fixed", "per_event"),
    ("per_nights", "per_night"),
];

/// A word of a closed vocabulary, or a message with a suggestion and the choices.
fn vocabulary(
    value: &str,
    what: &str,
    options: &[&'static str],
    synonyms: &[(&str, &'static str)],
) -> Result<String, String> {
    let v = cells::snake(value);
    if options.contains(&v.as_str()) {
        return Ok(v);
    }
    let choices = options.join(", ");
    Err(match cells::did_you_mean(&v, options, synonyms) {
        Some(s) => format!("\"{value}\" is not a {what}: did you mean {s}? Write one of {choices}"),
        None => format!("\"{value}\" is not a {what}: write one of {choices}"),
    })
}

/// A rate card as CSV: required `supplier,service,city,country,currency,item,unit,price`,
/// optional `min_qty` (a volume tier: from this many units on, each costs `price`), `contact`,
/// `notes`; other columns become notes. A supplier's item has one unit, and each `min_qty` of
/// an item appears once.
pub fn parse_rate_cards_csv(text: &str, file: &str, kind: SourceKind) -> Parsed<RateCardRow> {
    let (rows, mut errors) = table::read_csv(text, file, RATE_REQUIRED);
    let mut records: Vec<RateCardRow> = Vec::new();
    // (supplier, service, currency, item) → (unit, line, min_qty values with their lines)
    type Seen = BTreeMap<(String, String, String, String), (String, u64, Vec<(String, u64)>)>;
    let mut seen: Seen = BTreeMap::new();
    for row in rows {
        let mut c = Check::new(file, &row);
        let supplier = c.required(&row, "supplier", "the supplier's name");
        let service = c.take(
            "service",
            vocabulary(row.get("service"), "service", SERVICES, SERVICE_SYNONYMS),
        );
        let city = c.required(&row, "city", "the city the supplier serves (* for any)");
        let currency = c.take("currency", cells::currency(row.get("currency")));
        if row.get("currency").is_empty() {
            c.fail(
                "currency",
                "currency is empty: write the ISO 4217 code of the price, such as KES or EUR"
                    .into(),
            );
        }
        let item = cells::snake(row.get("item"));
        if item.is_empty() {
            c.fail(
                "item",
                "item is empty: write the item's code, such as lunch or technician".into(),
            );
        }
        let unit = c.take(
            "unit",
            vocabulary(row.get("unit"), "unit", UNITS, UNIT_SYNONYMS),
        );
        let price = c.take("price", cells::amount(row.get("price")));
        if row.get("price").is_empty() {
            c.fail(
                "price",
                "price is empty: write the price of one unit, such as 1200 or 1200.50".into(),
            );
        }
        let min_qty = c.take("min_qty", cells::amount(row.get("min_qty")));
        if min_qty.is_some_and(|q| q.is_zero()) {
            c.fail(
                "min_qty",
                "min_qty 0 is not a volume tier: leave it empty for the list price, or write the quantity from which the price applies".into(),
            );
        }
        if c.errors.is_empty() {
            let key = (
                fold(&supplier),
                service.clone(),
                row.get("currency").to_owned(),
                item.clone(),
            );
            let tier = min_qty
                .map(|q| q.normalize().to_string())
                .unwrap_or_default();
            match seen.get_mut(&key) {
                Some((u, first, _)) if *u != unit => c.fail(
                    "unit",
                    format!(
                        "{item} of {supplier} is priced {u} on line {first}: give an item one unit (write another item code for another unit)"
                    ),
                ),
                Some((_, _, tiers)) => match tiers.iter().find(|(t, _)| *t == tier) {
                    Some((_, l)) => c.fail(
                        "min_qty",
                        format!(
                            "{item} of {supplier} is already priced {} on line {l}: remove one row, or give each row its own min_qty",
                            if tier.is_empty() { "without min_qty".to_owned() } else { format!("from {tier}") }
                        ),
                    ),
                    None => tiers.push((tier, row.line)),
                },
                None => {
                    seen.insert(key, (unit.clone(), row.line, vec![(tier, row.line)]));
                }
            }
        }
        let (Some(currency), Some(price), true) = (currency, price, c.errors.is_empty()) else {
            errors.extend(c.errors);
            continue;
        };
        let mut notes = cells::list(row.get("notes"));
        let known: Vec<&str> = RATE_REQUIRED.iter().chain(RATE_OPTIONAL).copied().collect();
        notes.extend(row.extras(&known));
        records.push(RateCardRow {
            supplier,
            service,
            city,
            country: row.get("country").to_owned(),
            currency,
            item,
            unit,
            price,
            min_qty,
            contact: row.get("contact").to_owned(),
            notes: notes.join("; "),
            provenance: Provenance::file(kind, file, row.line),
        });
    }
    errors.sort_by_key(|e| e.line);
    Parsed { records, errors }
}

/// The required columns of a quotes file.
pub const QUOTE_REQUIRED: &[&str] = &["venue", "capacity", "day_rate", "currency"];
/// The optional columns of a quotes file (others are kept as notes).
pub const QUOTE_OPTIONAL: &[&str] = &["valid_until", "rooms", "notes"];

/// Quotes as CSV: required `venue,capacity,day_rate,currency` (a row gives at least a capacity
/// or a day rate), optional `valid_until` (YYYY-MM-DD) and `notes`; other columns become notes.
/// `entered_by` says who supplied the file (`user:alice`, the file name).
pub fn parse_quotes_csv(text: &str, file: &str, entered_by: &str) -> Parsed<VenueQuote> {
    let (rows, mut errors) = table::read_csv(text, file, QUOTE_REQUIRED);
    let mut records = Vec::new();
    for row in rows {
        let mut c = Check::new(file, &row);
        let venue = c.required(&row, "venue", "the venue's id or name as in the leads");
        let capacity = c.take("capacity", cells::people(row.get("capacity")));
        let day_rate = c.take("day_rate", cells::amount(row.get("day_rate")));
        let currency = c.take("currency", cells::currency(row.get("currency")));
        if row.get("capacity").is_empty() && row.get("day_rate").is_empty() {
            c.fail(
                "capacity",
                "the row gives neither capacity nor day_rate: a quote gives at least one of them"
                    .into(),
            );
        }
        if day_rate.is_some() && row.get("currency").is_empty() {
            c.fail(
                "currency",
                format!(
                    "day_rate {} has no currency: write the ISO 4217 code of the price, such as KES or EUR",
                    row.get("day_rate")
                ),
            );
        }
        let valid_until = c.take("valid_until", cells::optional_date(row.get("valid_until")));
        let rooms = c.take("rooms", cells::rooms(row.get("rooms")));
        if !c.errors.is_empty() {
            errors.extend(c.errors);
            continue;
        }
        let mut notes = cells::list(row.get("notes"));
        let known: Vec<&str> = QUOTE_REQUIRED
            .iter()
            .chain(QUOTE_OPTIONAL)
            .copied()
            .collect();
        notes.extend(row.extras(&known));
        records.push(VenueQuote {
            venue,
            capacity,
            day_rate,
            currency,
            valid_until,
            rooms,
            notes: notes.join("; "),
            entered_by: entered_by.to_owned(),
        });
    }
    errors.sort_by_key(|e| e.line);
    Parsed { records, errors }
}

/// An installation's catalog: its venues and rate-card rows, and the problems of its files.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Catalog {
    pub venues: Vec<VenueRecord>,
    pub rate_cards: Vec<RateCardRow>,
    pub errors: Vec<RowError>,
}

/// The file names a catalog directory may hold.
pub const CATALOG_FILES: &str = "venues.csv, venues.json, rate_cards.csv (or NAME.venues.csv, NAME.venues.json, NAME.rate_cards.csv)";

/// Why a catalog directory cannot be used at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    /// The directory is missing or cannot be listed.
    #[error(
        "catalog directory {dir} cannot be read ({reason}): create it with {CATALOG_FILES}, or point --catalog / EODS_CATALOG_DIR at the right folder"
    )]
    Unreadable { dir: PathBuf, reason: String },
    /// The directory holds none of the catalog files.
    #[error("catalog directory {dir} holds none of {CATALOG_FILES}: add at least one")]
    Empty { dir: PathBuf },
    /// A catalog file cannot be read.
    #[error("cannot read {path}: {reason}")]
    File { path: PathBuf, reason: String },
}

/// What a catalog file holds, by its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CatalogFile {
    Venues,
    RateCards,
}

fn catalog_file(name: &str) -> Option<CatalogFile> {
    let lower = name.to_ascii_lowercase();
    let is = |base: &str| lower == base || lower.ends_with(&format!(".{base}"));
    if is("venues.csv") || is("venues.json") {
        Some(CatalogFile::Venues)
    } else if is("rate_cards.csv") {
        Some(CatalogFile::RateCards)
    } else {
        None
    }
}

/// Reads an installation catalog directory: every `venues.csv`, `venues.json`,
/// `rate_cards.csv`, `NAME.venues.csv`, `NAME.venues.json` and `NAME.rate_cards.csv` in it, in
/// name order, as [`SourceKind::InstallationCatalog`]. Venue ids stay unique across the files.
/// Row problems are collected in [`Catalog::errors`]; a missing directory, or one with none of
/// these files, is an error.
pub fn load_catalog_dir(dir: &Path) -> Result<Catalog, CatalogError> {
    let unreadable = |e: std::io::Error| CatalogError::Unreadable {
        dir: dir.to_owned(),
        reason: e.to_string(),
    };
    let mut files: Vec<(String, PathBuf, CatalogFile)> = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(unreadable)? {
        let entry = entry.map_err(unreadable)?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(kind) = catalog_file(&name)
            && entry.path().is_file()
        {
            files.push((name, entry.path(), kind));
        }
    }
    if files.is_empty() {
        return Err(CatalogError::Empty {
            dir: dir.to_owned(),
        });
    }
    files.sort_by(|a, b| a.0.cmp(&b.0));
    let kind = SourceKind::InstallationCatalog;
    let mut catalog = Catalog::default();
    let mut ids = HashSet::new();
    for (name, path, what) in files {
        let bytes = std::fs::read(&path).map_err(|e| CatalogError::File {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        let text = match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => {
                let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
                let line = 1 + valid.iter().filter(|b| **b == b'\n').count() as u64;
                catalog.errors.push(RowError::new(
                    &name,
                    line,
                    "",
                    "the file is not UTF-8 text: save it as UTF-8 (in a spreadsheet: CSV UTF-8)"
                        .into(),
                ));
                continue;
            }
        };
        match what {
            CatalogFile::Venues => {
                let p = parse_venues(&text, &name, kind);
                for mut v in p.records {
                    v.id = unique_id(&mut ids, &v.id.0);
                    catalog.venues.push(v);
                }
                catalog.errors.extend(p.errors);
            }
            CatalogFile::RateCards => {
                let p = parse_rate_cards_csv(&text, &name, kind);
                catalog.rate_cards.extend(p.records);
                catalog.errors.extend(p.errors);
            }
        }
    }
    Ok(catalog)
}
