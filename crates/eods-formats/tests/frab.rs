//! The frab importer against the real programs in ../shared/data (FOSDEM, 36C3, DebConf), with the
//! figures measured and documented in ../shared/data/README.md.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use eods_formats::frab::{check, parse};

#[path = "../../../testing/machine.rs"]
mod machine;

fn data(name: &str) -> String {
    let path = machine::shared_data(&format!("frab/{name}"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn fosdem_2025_has_one_speaker_clash_and_no_room_overlap() {
    let p = parse(&data("fosdem-2025.xml"), None).unwrap();
    assert_eq!(p.events.len(), 943);
    assert_eq!(p.rooms.len(), 40);
    assert_eq!(p.days.len(), 2);
    assert_eq!(p.time_zone.as_deref(), Some("Europe/Brussels"));
    assert!(p.skipped.is_empty(), "{:?}", p.skipped);
    let f = check(&p);
    assert!(f.duplicate_ids.is_empty() && f.duplicate_guids.is_empty());
    assert!(f.room_overlaps.is_empty(), "{:?}", f.room_overlaps);
    assert_eq!(f.person_clashes.len(), 1, "{:?}", f.person_clashes);
    let (person, _, a, b) = &f.person_clashes[0];
    assert_eq!(person, "4347");
    let mut pair = [a.as_str(), b.as_str()];
    pair.sort_unstable();
    assert_eq!(pair, ["5379", "5680"]);
}

#[test]
fn fosdem_2024_without_zone_or_dates_still_finds_its_overlaps_and_clashes() {
    let p = parse(&data("fosdem-2024.xml"), Some("Europe/Brussels")).unwrap();
    assert_eq!(p.events.len(), 674);
    assert!(!p.zone_assumed);
    let f = check(&p);
    let mut rooms: Vec<(String, String, String)> = f.room_overlaps.clone();
    rooms.sort();
    assert_eq!(
        rooms
            .iter()
            .map(|(r, a, b)| (r.as_str(), a.as_str(), b.as_str()))
            .collect::<Vec<_>>(),
        vec![("UB4.136", "10826", "10837"), ("UB4.136", "10826", "10843")]
    );
    let mut clashes: Vec<(String, String, String)> = f
        .person_clashes
        .iter()
        .map(|(p, _, a, b)| {
            let (a, b) = if a < b {
                (a.clone(), b.clone())
            } else {
                (b.clone(), a.clone())
            };
            (p.clone(), a, b)
        })
        .collect();
    clashes.sort();
    assert_eq!(
        clashes,
        vec![
            ("2457".to_owned(), "10858".to_owned(), "10862".to_owned()),
            ("2546".to_owned(), "11167".to_owned(), "11179".to_owned()),
        ]
    );
    // Without a zone the times are read as UTC, and the import says so.
    assert!(parse(&data("fosdem-2024.xml"), None).unwrap().zone_assumed);
}

#[test]
fn the_dirty_36c3_merge_is_reported_not_crashed_on() {
    let p = parse(&data("36c3.xml"), Some("Europe/Berlin")).unwrap();
    assert_eq!(p.events.len(), 1351);
    assert!(p.skipped.is_empty(), "{:?}", p.skipped);
    assert_eq!(p.rooms.len(), 92);
    let f = check(&p);
    assert_eq!(f.duplicate_ids.len(), 13, "{:?}", f.duplicate_ids);
    assert_eq!(f.duplicate_guids.len(), 3, "{:?}", f.duplicate_guids);
    assert!(
        f.shared_person_ids
            .iter()
            .any(|(id, names)| id == "0" && *names > 100),
        "{:?}",
        f.shared_person_ids.first()
    );
    assert_eq!(
        (f.room_overlaps.len(), f.room_overlap_count),
        (261, 261),
        "same-room overlap pairs, as measured in the data README"
    );
}

#[test]
fn debconf_utc_dates_land_at_local_time_in_kolkata() {
    let p = parse(&data("debconf23.xml"), None).unwrap();
    assert_eq!(p.time_zone.as_deref(), Some("Asia/Kolkata"));
    let e = p.events.iter().find(|e| e.id == "35").unwrap();
    let tz: chrono_tz::Tz = "Asia/Kolkata".parse().unwrap();
    let local = e.start.with_timezone(&tz);
    assert_eq!(
        local.format("%Y-%m-%d %H:%M").to_string(),
        "2023-09-10 10:30"
    );
}

#[test]
fn broken_xml_names_the_line() {
    let err = parse(
        "<schedule>\n<day date=\"2025-01-01\">\n<room name=\"A\">\n</day>",
        None,
    )
    .unwrap_err();
    assert!(err.to_string().starts_with("frab XML at line"), "{err}");
    let err = parse("{\"title\": \"not xml\"}", None).unwrap_err();
    assert!(err.to_string().contains("no <schedule> element"), "{err}");
    let err = parse("<?xml version=\"1.0\"?>\n<calendar/>", None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "frab XML at line 2: the root element is <calendar>, not <schedule>: not a frab schedule"
    );
}

/// 6,000 events at one time in one room (issue 15, finding 7): about 18 million overlapping
/// pairs are counted, and only the first ones are kept as examples, so memory stays bounded.
#[test]
fn millions_of_overlapping_pairs_are_counted_not_kept() {
    let n = 6000;
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><schedule><conference><title>Crowded</title><time_zone_name>Europe/Berlin</time_zone_name></conference><day date=\"2029-03-08\" index=\"1\"><room name=\"Hall\">",
    );
    for i in 0..n {
        xml.push_str(&format!(
            "<event id=\"{i}\" guid=\"00000000-0000-0000-0000-{i:012}\"><date>2029-03-08T10:00:00+01:00</date><start>10:00</start><duration>01:00</duration><room>Hall</room><title>Talk {i}</title><persons/></event>"
        ));
    }
    xml.push_str("</room></day></schedule>");
    let p = parse(&xml, None).unwrap();
    assert_eq!(p.events.len(), n);
    let f = check(&p);
    assert_eq!(f.room_overlap_count, n * (n - 1) / 2);
    assert_eq!(f.room_overlaps.len(), eods_formats::frab::EXAMPLES);
}
