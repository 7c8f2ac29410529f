//! OpenStreetMap places that can host an event: the one tag mapping from an OSM element to a
//! [`VenueRecord`] ([`record_from_tags`], shared with the Overpass source), the reader of `.osm.pbf`
//! extracts ([`read_pbf`], behind `eods venues import-osm`) and the source that answers searches
//! from the places imported into the database ([`OsmPlacesSource`]).
//!
//! What is kept, and why (Helsinki's extract checked by hand, 2026-11): named elements tagged
//! `amenity` = `conference_centre`, `events_venue`, `exhibition_centre`, `community_centre`,
//! `arts_centre`, `theatre`, `concert_hall`, `cinema` (cinemas rent auditoriums for talks),
//! `library` (Helsinki's libraries, Oodi first, rent event rooms), `townhall` (receptions),
//! `university` or `college` (conferences) or `coworking_space` (meeting rooms);
//! `tourism` = `museum` (rents halls for events) or `hotel`; `building` = `conference_centre`;
//! `leisure` = `sports_hall` or `stadium` (large gatherings). Hotels are the most common
//! meeting venues, yet the map almost never says whether one has meeting rooms (no hotel of the
//! Helsinki extract does): a hotel is kept unless `conference` or `meeting_rooms` says `no`, and
//! without either tag it carries a note that the map does not say, so its request for quote
//! asks. Anything else — a restaurant, a gallery, a church — is not a lead.
//!
//! Facts the map does not give stay `None`: capacity unless `capacity`/`seats` is a whole
//! number, and never a price. Every record carries the ODbL attribution in its provenance.
//! This module reads files and the database only through the store; it never writes to either.

use crate::{BoxFuture, SourceError, VenueQuery, VenueSource, same_city};
use eods_domain::catalog::sources::{Provenance, SourceKind, VenueRecord};
use eods_domain::ids::VenueRef;
use eods_store::Store;
use osmpbf::{BlobReader, BlobType, Element, ElementReader, RelMemberType};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::panic::AssertUnwindSafe;
use std::path::Path;

/// The `amenity` values of places that host events.
const AMENITIES: &[&str] = &[
    "conference_centre",
    "events_venue",
    "exhibition_centre",
    "community_centre",
    "arts_centre",
    "theatre",
    "concert_hall",
    "cinema",
    "library",
    "townhall",
    "university",
    "college",
    "coworking_space",
];

/// The `tourism` values of places that host events (a hotel: see the module documentation).
const TOURISM: &[&str] = &["museum", "hotel"];

/// The `building` values of places that host events.
const BUILDINGS: &[&str] = &["conference_centre"];

/// The `leisure` values of places that host events.
const LEISURE: &[&str] = &["sports_hall", "stadium"];

/// What the import of one extract kept and skipped.
#[derive(Debug, Clone, PartialEq)]
pub struct OsmImport {
    /// The places kept, ordered by element type (node, way, relation) then id.
    pub records: Vec<VenueRecord>,
    /// Every node, way and relation read.
    pub scanned_elements: u64,
    /// `records.len()`.
    pub kept: u64,
    /// Elements tagged as an event place but without `name` or `name:en`.
    pub skipped_unnamed: u64,
    /// Places dropped because their `addr:city` names another city than `--city`.
    pub skipped_other_city: u64,
}

/// Why an extract could not be read. Every message names the file.
#[derive(Debug, thiserror::Error)]
pub enum OsmError {
    /// The file cannot be opened.
    #[error("{file}: cannot open it: {source} (give the path of an .osm.pbf extract)")]
    Open {
        file: String,
        #[source]
        source: std::io::Error,
    },
    /// The file is not in the PBF format.
    #[error(
        "{file} is not an OpenStreetMap PBF extract: {reason} (expected an .osm.pbf file such as a Geofabrik or BBBike extract; .osm XML files are not read)"
    )]
    NotPbf { file: String, reason: String },
    /// The file starts as a PBF but a later block is damaged.
    #[error("{file}: the PBF data is damaged: {reason} (download the extract again)")]
    Damaged { file: String, reason: String },
}

/// The event-place kind an element's tags describe (the tag value, such as `theatre`), or `None`
/// when the element is not a place that hosts events.
fn event_kind<'t>(get: impl Fn(&str) -> Option<&'t str>) -> Option<&'t str> {
    if let Some(v) = get("amenity").filter(|v| AMENITIES.contains(v)) {
        return Some(v);
    }
    if let Some(v) = get("tourism").filter(|v| TOURISM.contains(v)) {
        let says_no = |k: &str| get(k).is_some_and(|x| matches!(x.trim(), "no" | "0"));
        if !(v == "hotel" && (says_no("conference") || says_no("meeting_rooms"))) {
            return Some(v);
        }
    }
    if let Some(v) = get("leisure").filter(|v| LEISURE.contains(v)) {
        return Some(v);
    }
    get("building").filter(|v| BUILDINGS.contains(v))
}

fn event_kind_of<'t>(tags: &'t [(&'t str, &'t str)]) -> Option<&'t str> {
    event_kind(|k| tags.iter().find(|(key, _)| *key == k).map(|(_, v)| *v))
}

/// A whole number of people from a `capacity` or `seats` value; `None` for ranges, words and 0.
fn people(value: &str) -> Option<u32> {
    let v = value.trim();
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    v.parse::<u32>().ok().filter(|n| *n > 0)
}

/// The venue record of one OpenStreetMap element, or `None` when it is not an event place (see
/// the module documentation) or has no `name` (nor `name:en`). `osm_type` is `node`, `way` or
/// `relation`; `kind` is [`SourceKind::Openstreetmap`] for extracts and
/// [`SourceKind::Overpass`] for the live API. `city` is `addr:city` (empty when absent).
pub fn record_from_tags(
    kind: SourceKind,
    osm_type: &str,
    osm_id: i64,
    tags: &[(String, String)],
    lat: Option<f64>,
    lon: Option<f64>,
) -> Option<VenueRecord> {
    let get = |k: &str| {
        tags.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    };
    let place_kind = event_kind(get)?;
    let name = get("name").or_else(|| get("name:en"))?;
    let mut notes = Vec::new();
    if place_kind == "hotel" && get("conference").is_none() && get("meeting_rooms").is_none() {
        notes.push(
            "OpenStreetMap does not say whether this hotel has meeting rooms; ask in the request for quote"
                .to_owned(),
        );
    }

    let mut capacity = None;
    for key in ["capacity", "seats"] {
        if let Some(v) = get(key) {
            match people(v) {
                Some(n) => capacity = Some(capacity.map_or(n, |c: u32| c.max(n))),
                None => notes.push(format!(
                    "OpenStreetMap {key}=`{v}` is not a whole number of people; capacity left unknown"
                )),
            }
        }
    }

    let accessibility = match get("wheelchair") {
        None => None,
        Some("yes" | "designated") => Some(vec!["step_free_access".to_owned()]),
        Some("limited") => Some(vec!["limited_step_free_access".to_owned()]),
        Some("no") => Some(Vec::new()),
        Some(other) => {
            notes.push(format!(
                "OpenStreetMap wheelchair=`{other}` is not yes, limited or no; accessibility left unknown"
            ));
            None
        }
    };

    let street = [get("addr:street"), get("addr:housenumber")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let town = [get("addr:postcode"), get("addr:city")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let address = [street, town]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(", ");

    let phone = get("phone").or_else(|| get("contact:phone")).unwrap_or("");
    let email = get("email").or_else(|| get("contact:email"));
    let element = format!("{osm_type}/{osm_id}");
    Some(VenueRecord {
        id: VenueRef(format!("osm-{osm_type}-{osm_id}")),
        name: name.to_owned(),
        city: get("addr:city").unwrap_or("").to_owned(),
        country: get("addr:country").unwrap_or("").to_owned(),
        capacity,
        rooms: Vec::new(),
        day_rate: None,
        currency: None,
        amenities: None,
        accessibility,
        address,
        contact: email.unwrap_or(phone).to_owned(),
        website: get("website")
            .or_else(|| get("contact:website"))
            .or_else(|| get("url"))
            .unwrap_or("")
            .to_owned(),
        phone: phone.to_owned(),
        place_kind: place_kind.to_owned(),
        unavailable_dates: Vec::new(),
        lat,
        lon,
        notes,
        provenance: Provenance::osm(kind, element),
    })
}

/// An element of the extract kept in the first pass, waiting for its position.
struct Candidate {
    order: (u8, i64),
    record: VenueRecord,
    /// Nodes whose mean position is the element's (a way's nodes; a relation's member nodes and
    /// its member ways' nodes).
    nodes: Vec<i64>,
    /// A relation's member ways, resolved to nodes in the second pass.
    ways: Vec<i64>,
}

/// Reads every node (plain and dense), way and relation of the extract at `path` and keeps the
/// places that host events (see [`record_from_tags`]). Ways and relations are placed at the mean
/// of their nodes' coordinates (a relation: its member nodes and its member ways' nodes), read
/// in up to two more passes over the file; an element whose nodes are outside the extract has no
/// position. With `city`, a place without `addr:city` gets `city`, and a place whose `addr:city`
/// names another city is dropped.
///
/// Long because: up to three passes over one file that share the tables of the elements kept and
/// of the positions they wait for.
pub fn read_pbf(path: &Path, city: Option<&str>) -> Result<OsmImport, OsmError> {
    let file = path.display().to_string();
    check_header(path, &file)?;

    let mut scanned = 0u64;
    let mut unnamed = 0u64;
    let mut candidates: Vec<Candidate> = Vec::new();
    let mut positions: HashMap<i64, (f64, f64)> = HashMap::new();
    each_element(path, &file, |element| {
        scanned += 1;
        let (order, osm_type, id, tags, at) = match &element {
            Element::Node(n) => (
                (0, n.id()),
                "node",
                n.id(),
                borrowed(n.tags()),
                Some((n.lat(), n.lon())),
            ),
            Element::DenseNode(n) => (
                (0, n.id()),
                "node",
                n.id(),
                borrowed(n.tags()),
                Some((n.lat(), n.lon())),
            ),
            Element::Way(w) => ((1, w.id()), "way", w.id(), borrowed(w.tags()), None),
            Element::Relation(r) => ((2, r.id()), "relation", r.id(), borrowed(r.tags()), None),
        };
        if tags.is_empty() || event_kind_of(&tags).is_none() {
            return;
        }
        let owned: Vec<(String, String)> = tags
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let (lat, lon) = (at.map(|p| p.0), at.map(|p| p.1));
        let Some(record) =
            record_from_tags(SourceKind::Openstreetmap, osm_type, id, &owned, lat, lon)
        else {
            unnamed += 1;
            return;
        };
        let (nodes, ways) = match &element {
            Element::Way(w) => (w.refs().collect(), Vec::new()),
            Element::Relation(r) => {
                let mut nodes = Vec::new();
                let mut ways = Vec::new();
                for m in r.members() {
                    match m.member_type {
                        RelMemberType::Node => nodes.push(m.member_id),
                        RelMemberType::Way => ways.push(m.member_id),
                        // A nested relation's position would need a pass per level; the
                        // outer relation is placed by its other members.
                        RelMemberType::Relation => {}
                    }
                }
                (nodes, ways)
            }
            Element::Node(_) | Element::DenseNode(_) => (Vec::new(), Vec::new()),
        };
        candidates.push(Candidate {
            order,
            record,
            nodes,
            ways,
        });
    })?;

    // Second pass: the nodes of the relations' member ways.
    let member_ways: HashSet<i64> = candidates
        .iter()
        .flat_map(|c| c.ways.iter().copied())
        .collect();
    let mut way_nodes: HashMap<i64, Vec<i64>> = HashMap::new();
    if !member_ways.is_empty() {
        each_element(path, &file, |element| {
            if let Element::Way(w) = element
                && member_ways.contains(&w.id())
            {
                way_nodes.insert(w.id(), w.refs().collect());
            }
        })?;
    }
    for c in &mut candidates {
        let extra: Vec<i64> = c
            .ways
            .iter()
            .filter_map(|w| way_nodes.get(w))
            .flatten()
            .copied()
            .collect();
        c.nodes.extend(extra);
    }

    // Third pass: the coordinates of every node a way or relation needs.
    let needed: HashSet<i64> = candidates
        .iter()
        .flat_map(|c| c.nodes.iter().copied())
        .collect();
    if !needed.is_empty() {
        each_element(path, &file, |element| {
            let (id, lat, lon) = match element {
                Element::Node(n) => (n.id(), n.lat(), n.lon()),
                Element::DenseNode(n) => (n.id(), n.lat(), n.lon()),
                Element::Way(_) | Element::Relation(_) => return,
            };
            if needed.contains(&id) {
                positions.insert(id, (lat, lon));
            }
        })?;
    }

    let mut kept: BTreeMap<(u8, i64), VenueRecord> = BTreeMap::new();
    let mut other_city = 0u64;
    for c in candidates {
        let mut record = c.record;
        if record.lat.is_none() {
            // A closed way repeats its first node; count every node once, and sum in id order so
            // that the mean is the same to the last bit on every run.
            let unique: BTreeSet<i64> = c.nodes.iter().copied().collect();
            let points: Vec<(f64, f64)> = unique
                .iter()
                .filter_map(|n| positions.get(n))
                .copied()
                .collect();
            if !points.is_empty() {
                let n = points.len() as f64;
                let lat = points.iter().map(|p| p.0).sum::<f64>() / n;
                let lon = points.iter().map(|p| p.1).sum::<f64>() / n;
                record.lat = Some(round7(lat));
                record.lon = Some(round7(lon));
            }
        }
        if let Some(city) = city {
            if record.city.is_empty() {
                city.trim().clone_into(&mut record.city);
            } else if !same_city(&record.city, city) {
                other_city += 1;
                continue;
            }
        }
        kept.insert(c.order, record);
    }
    let records: Vec<VenueRecord> = kept.into_values().collect();
    Ok(OsmImport {
        kept: records.len() as u64,
        records,
        scanned_elements: scanned,
        skipped_unnamed: unnamed,
        skipped_other_city: other_city,
    })
}

/// OSM's own precision (1e-7 degrees, about 1 cm), so a mean reads like a coordinate.
fn round7(x: f64) -> f64 {
    (x * 1e7).round() / 1e7
}

fn borrowed<'a>(tags: impl Iterator<Item = (&'a str, &'a str)>) -> Vec<(&'a str, &'a str)> {
    tags.collect()
}

/// Refuses a file whose first block is not a PBF header (an empty file, an XML extract, text).
fn check_header(path: &Path, file: &str) -> Result<(), OsmError> {
    if path.is_dir() {
        return Err(OsmError::NotPbf {
            file: file.to_owned(),
            reason: "it is a directory".into(),
        });
    }
    let mut blobs = BlobReader::from_path(path).map_err(|e| {
        let reason = e.to_string();
        match e.into_kind() {
            osmpbf::ErrorKind::Io(source) => OsmError::Open {
                file: file.to_owned(),
                source,
            },
            _ => OsmError::NotPbf {
                file: file.to_owned(),
                reason,
            },
        }
    })?;
    let first = std::panic::catch_unwind(AssertUnwindSafe(|| blobs.next()));
    let not_pbf = |reason: String| OsmError::NotPbf {
        file: file.to_owned(),
        reason,
    };
    match first {
        Err(_) => Err(not_pbf("its first block cannot be decoded".into())),
        Ok(None) => Err(not_pbf(
            if std::fs::metadata(path).is_ok_and(|m| m.len() > 0) {
                "it ends before its first block is complete".into()
            } else {
                "the file is empty".into()
            },
        )),
        Ok(Some(Err(e))) => Err(not_pbf(format!("its first block cannot be read ({e})"))),
        Ok(Some(Ok(blob))) => match blob.get_type() {
            BlobType::OsmHeader => Ok(()),
            other => Err(not_pbf(format!(
                "its first block is `{}`, not the `OSMHeader` a PBF file starts with",
                other.as_str()
            ))),
        },
    }
}

/// Calls `f` on every element of the file. A damaged block is an error naming the file; the
/// reader's own panics on malformed data (it unwraps some enum values) are caught and reported
/// the same way, so a bad file never ends the process.
fn each_element(
    path: &Path,
    file: &str,
    f: impl for<'a> FnMut(Element<'a>),
) -> Result<(), OsmError> {
    let damaged = |reason: String| OsmError::Damaged {
        file: file.to_owned(),
        reason,
    };
    let reader = ElementReader::from_path(path).map_err(|e| damaged(e.to_string()))?;
    match std::panic::catch_unwind(AssertUnwindSafe(|| reader.for_each(f))) {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(damaged(e.to_string())),
        Err(_) => Err(damaged("an element cannot be decoded".into())),
    }
}

/// The places imported with `eods venues import-osm`, searched per city in the database.
#[derive(Debug, Clone)]
pub struct OsmPlacesSource {
    store: Store,
}

impl OsmPlacesSource {
    /// A source over the places stored in `store`.
    pub fn new(store: Store) -> OsmPlacesSource {
        OsmPlacesSource { store }
    }
}

impl VenueSource for OsmPlacesSource {
    fn name(&self) -> &str {
        "OpenStreetMap import"
    }

    fn kind(&self) -> SourceKind {
        SourceKind::Openstreetmap
    }

    fn search<'a>(
        &'a self,
        q: &'a VenueQuery,
    ) -> BoxFuture<'a, Result<Vec<VenueRecord>, SourceError>> {
        Box::pin(async move {
            let places = self.store.places_in_city(&q.city).await.map_err(|e| {
                SourceError::Transient(format!(
                    "reading the imported OpenStreetMap places of {}: {e}",
                    q.city
                ))
            })?;
            Ok(places
                .into_iter()
                .filter(|r| r.capacity.is_none_or(|c| c >= q.min_capacity))
                .collect())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tags as a test writes them.
    type Tags<'a> = &'a [(&'a str, &'a str)];

    /// Extra tags, then the accessibility, capacity and a note the record must have.
    type Fallback<'a> = (
        Tags<'a>,
        Option<&'a [&'a str]>,
        Option<u32>,
        Option<&'a str>,
    );

    fn tags(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn map(pairs: &[(&str, &str)]) -> Option<VenueRecord> {
        record_from_tags(
            SourceKind::Openstreetmap,
            "node",
            123,
            &tags(pairs),
            Some(60.17),
            Some(24.94),
        )
    }

    #[test]
    fn event_places_are_kept_and_others_are_not() {
        // (tags, the place kind kept or None)
        let cases: &[(Tags, Option<&str>)] = &[
            (
                &[("amenity", "theatre"), ("name", "Aleksanterin teatteri")],
                Some("theatre"),
            ),
            (
                &[("amenity", "conference_centre"), ("name", "Paasitorni")],
                Some("conference_centre"),
            ),
            (&[("amenity", "library"), ("name", "Oodi")], Some("library")),
            (
                &[("amenity", "cinema"), ("name", "Bio Rex")],
                Some("cinema"),
            ),
            (
                &[("building", "conference_centre"), ("name", "Messukeskus")],
                Some("conference_centre"),
            ),
            (
                &[("leisure", "sports_hall"), ("name", "Töölön kisahalli")],
                Some("sports_hall"),
            ),
            (
                &[("tourism", "hotel"), ("name", "Plain Hotel")],
                Some("hotel"),
            ),
            (
                &[
                    ("tourism", "hotel"),
                    ("conference", "no"),
                    ("name", "No rooms"),
                ],
                None,
            ),
            (
                &[
                    ("tourism", "hotel"),
                    ("meeting_rooms", "0"),
                    ("name", "No rooms"),
                ],
                None,
            ),
            (
                &[("tourism", "museum"), ("name", "Ateneum")],
                Some("museum"),
            ),
            (&[("tourism", "gallery"), ("name", "Galerie")], None),
            (
                &[("amenity", "university"), ("name", "Porthania")],
                Some("university"),
            ),
            (
                &[
                    ("tourism", "hotel"),
                    ("conference", "yes"),
                    ("name", "Meeting Hotel"),
                ],
                Some("hotel"),
            ),
            (
                &[
                    ("tourism", "hotel"),
                    ("meeting_rooms", "4"),
                    ("name", "Rooms Hotel"),
                ],
                Some("hotel"),
            ),
            (&[("amenity", "restaurant"), ("name", "Ravintola")], None),
            (&[("amenity", "theatre")], None),
            (&[("amenity", "theatre"), ("name", "  ")], None),
            // `name:en` stands in for a missing `name`; amenity wins over building.
            (
                &[
                    ("amenity", "arts_centre"),
                    ("building", "conference_centre"),
                    ("name:en", "Cable Factory"),
                ],
                Some("arts_centre"),
            ),
        ];
        for (pairs, want) in cases {
            let got = map(pairs);
            assert_eq!(
                got.as_ref().map(|r| r.place_kind.as_str()),
                *want,
                "{pairs:?}"
            );
        }
        let plain = map(&[("tourism", "hotel"), ("name", "Plain Hotel")]).unwrap();
        assert!(
            plain.notes[0].contains("does not say whether this hotel has meeting rooms"),
            "{:?}",
            plain.notes
        );
        let rooms = map(&[
            ("tourism", "hotel"),
            ("conference", "yes"),
            ("name", "Meeting Hotel"),
        ])
        .unwrap();
        assert!(rooms.notes.is_empty(), "{:?}", rooms.notes);
        let cable = map(&[("amenity", "arts_centre"), ("name:en", "Cable Factory")]).unwrap();
        assert_eq!(cable.name, "Cable Factory");
    }

    #[test]
    fn tags_map_to_the_record_fields() {
        let r = map(&[
            ("amenity", "theatre"),
            ("name", "Svenska Teatern"),
            ("name:en", "Swedish Theatre"),
            ("addr:street", "Pohjoisesplanadi"),
            ("addr:housenumber", "2"),
            ("addr:postcode", "00130"),
            ("addr:city", "Helsinki"),
            ("addr:country", "FI"),
            ("contact:website", "https://svenskateatern.fi"),
            ("url", "https://other.example"),
            ("phone", "+358 9 6162 1411"),
            ("contact:email", "info@svenskateatern.fi"),
            ("wheelchair", "yes"),
            ("capacity", "500"),
            ("seats", "520"),
        ])
        .unwrap();
        assert_eq!(r.id.as_str(), "osm-node-123");
        assert_eq!(r.name, "Svenska Teatern");
        assert_eq!(r.address, "Pohjoisesplanadi 2, 00130 Helsinki");
        assert_eq!((r.city.as_str(), r.country.as_str()), ("Helsinki", "FI"));
        assert_eq!(r.website, "https://svenskateatern.fi");
        assert_eq!(r.phone, "+358 9 6162 1411");
        assert_eq!(r.contact, "info@svenskateatern.fi");
        assert_eq!(r.accessibility, Some(vec!["step_free_access".to_owned()]));
        // The larger of the two figures, as the record's capacity promises.
        assert_eq!(r.capacity, Some(520));
        assert_eq!((r.day_rate, r.currency), (None, None));
        assert_eq!((r.lat, r.lon), (Some(60.17), Some(24.94)));
        assert_eq!(r.provenance.osm_id.as_deref(), Some("node/123"));
        assert_eq!(
            r.provenance.attribution.as_deref(),
            Some(eods_domain::catalog::sources::OSM_ATTRIBUTION)
        );
        assert!(r.notes.is_empty(), "{:?}", r.notes);
    }

    #[test]
    fn accessibility_capacity_and_contact_fall_back_or_stay_unknown() {
        let base = [("amenity", "community_centre"), ("name", "Kalliola")];
        let with = |extra: &[(&str, &str)]| {
            let mut all: Vec<(&str, &str)> = base.to_vec();
            all.extend_from_slice(extra);
            map(&all).unwrap()
        };
        // (extra tags, accessibility, capacity, a note containing)
        let cases: &[Fallback] = &[
            (&[], None, None, None),
            (
                &[("wheelchair", "limited")],
                Some(&["limited_step_free_access"]),
                None,
                None,
            ),
            (&[("wheelchair", "no")], Some(&[]), None, None),
            (
                &[("wheelchair", "bumpy")],
                None,
                None,
                Some("wheelchair=`bumpy`"),
            ),
            (&[("seats", "120")], None, Some(120), None),
            (
                &[("capacity", "100-200")],
                None,
                None,
                Some("capacity=`100-200` is not a whole number"),
            ),
            (&[("capacity", "0")], None, None, Some("capacity=`0`")),
            (
                &[("capacity", "about 300"), ("seats", "250")],
                None,
                Some(250),
                Some("capacity=`about 300`"),
            ),
        ];
        for (extra, access, capacity, note) in cases {
            let r = with(extra);
            let want_access = access.map(|a| a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>());
            assert_eq!(r.accessibility, want_access, "{extra:?}");
            assert_eq!(r.capacity, *capacity, "{extra:?}");
            match note {
                Some(n) => assert!(
                    r.notes.iter().any(|x| x.contains(n)),
                    "{extra:?}: {:?}",
                    r.notes
                ),
                None => assert!(r.notes.is_empty(), "{extra:?}: {:?}", r.notes),
            }
        }
        let phone_only = with(&[("contact:phone", "+358 40 123")]);
        assert_eq!(
            (phone_only.contact.as_str(), phone_only.phone.as_str()),
            ("+358 40 123", "+358 40 123")
        );
        let no_city = with(&[("addr:street", "Kalliolanrinne"), ("addr:housenumber", "4")]);
        assert_eq!(
            (no_city.address.as_str(), no_city.city.as_str()),
            ("Kalliolanrinne 4", "")
        );
        let way =
            record_from_tags(SourceKind::Overpass, "way", 7, &tags(&base), None, None).unwrap();
        assert_eq!(way.id.as_str(), "osm-way-7");
        assert_eq!(way.provenance.kind, SourceKind::Overpass);
        assert_eq!(way.provenance.osm_id.as_deref(), Some("way/7"));
    }

    #[test]
    fn a_file_that_is_not_a_pbf_is_refused_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.osm.pbf");
        let e = read_pbf(&missing, None).unwrap_err();
        assert!(matches!(e, OsmError::Open { .. }), "{e}");
        assert!(
            e.to_string().contains("missing.osm.pbf: cannot open it"),
            "{e}"
        );

        let cases: &[(&str, &[u8], &str)] = &[
            ("empty.osm.pbf", b"", "the file is empty"),
            (
                "city.osm",
                b"<?xml version='1.0'?>\n<osm version='0.6'></osm>\n",
                "first block cannot be read",
            ),
            (
                "short.osm.pbf",
                b"\x00\x00",
                "it ends before its first block is complete",
            ),
        ];
        for (name, bytes, reason) in cases {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            let e = read_pbf(&path, None).unwrap_err();
            let msg = e.to_string();
            assert!(matches!(e, OsmError::NotPbf { .. }), "{name}: {msg}");
            assert!(
                msg.contains(&format!("{name} is not an OpenStreetMap PBF extract")),
                "{msg}"
            );
            assert!(msg.contains(reason), "{name}: {msg}");
        }
        let e = read_pbf(dir.path(), None).unwrap_err();
        assert!(e.to_string().contains("it is a directory"), "{e}");
    }
}
