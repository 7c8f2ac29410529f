//! The organiser's files: venue lists, rate cards and quotes, read from real text and real
//! directories, and the Nairobi sample files.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use eods_domain::catalog::sources::{SourceKind, VenueRecord};
use eods_sources::files::{
    CatalogError, Parsed, RowError, load_catalog_dir, parse_quotes_csv, parse_rate_cards_csv,
    parse_venues, parse_venues_csv, parse_venues_json,
};
use rust_decimal::Decimal;
use std::path::PathBuf;

const HEADER: &str = "name,city,country,capacity,day_rate,currency,rooms,amenities,accessibility,unavailable_dates,lat,lon";
const GOOD_A: &str = "Savoy Theatre,London,GB,300,1200.50,GBP,Main:300;Side:80,WiFi;Projector,Step-free access,2027-05-01,51.51,-0.12";
const GOOD_B: &str = "Hall B,London,GB,100,800,GBP,,,,,,";

fn venues(text: &str) -> Parsed<VenueRecord> {
    parse_venues_csv(text, "venues.csv", SourceKind::EventList)
}

fn names(p: &Parsed<VenueRecord>) -> Vec<&str> {
    p.records.iter().map(|v| v.name.as_str()).collect()
}

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

#[test]
fn a_good_venue_list_loads_every_field() {
    let p = venues(&format!(
        "{HEADER},address,contact,website,notes\n{GOOD_A},1 Strand,ops@savoy.example,https://savoy.example,sample\n"
    ));
    assert_eq!(p.errors, vec![]);
    let v = &p.records[0];
    assert_eq!(v.id.as_str(), "list-savoy-theatre");
    assert_eq!(
        (v.name.as_str(), v.city.as_str(), v.country.as_str()),
        ("Savoy Theatre", "London", "GB")
    );
    assert_eq!(v.capacity, Some(300));
    assert_eq!(v.day_rate, Some(dec("1200.50")));
    assert_eq!(v.currency.as_ref().map(|c| c.as_str()), Some("GBP"));
    assert_eq!(v.rooms.len(), 2);
    assert_eq!(
        (v.rooms[1].name.as_str(), v.rooms[1].capacity),
        ("Side", 80)
    );
    assert_eq!(
        v.amenities,
        Some(vec!["wifi".to_owned(), "projector".to_owned()])
    );
    assert_eq!(v.accessibility, Some(vec!["step_free_access".to_owned()]));
    assert_eq!(v.unavailable_dates[0].to_string(), "2027-05-01");
    assert_eq!((v.lat, v.lon), (Some(51.51), Some(-0.12)));
    assert_eq!(v.address, "1 Strand");
    assert_eq!(v.contact, "ops@savoy.example");
    assert_eq!(v.website, "https://savoy.example");
    assert_eq!(v.notes, vec!["sample".to_owned()]);
    assert_eq!(v.provenance.kind, SourceKind::EventList);
    assert_eq!(v.provenance.file.as_deref(), Some("venues.csv"));
    assert_eq!(v.provenance.line, Some(2));
    assert!(v.has_facts());
}

#[test]
fn empty_capacity_and_price_are_unknown_not_errors() {
    let p = venues(&format!("{HEADER}\nKilele Hub,Nairobi,KE,,,,,,,,,\n"));
    assert_eq!(p.errors, vec![]);
    let v = &p.records[0];
    assert_eq!(
        (v.capacity, v.day_rate, v.currency.clone()),
        (None, None, None)
    );
    assert_eq!((v.amenities.clone(), v.accessibility.clone()), (None, None));
    assert!(!v.has_facts());
    // A capacity left empty is the largest room the list gives.
    let p = venues(&format!(
        "{HEADER}\nKilele Hub,Nairobi,KE,,,,A:40;B:90,,,,,\n"
    ));
    assert_eq!(p.records[0].capacity, Some(90));
}

/// One bad row at line 3 between good rows at lines 2 and 4: the error names line 3, `column`
/// and contains `message`; both good rows load.
fn check_bad_row(bad: &str, column: &str, message: &str) {
    let p = venues(&format!("{HEADER}\n{GOOD_A}\n{bad}\n{GOOD_B}\n"));
    assert_eq!(names(&p), ["Savoy Theatre", "Hall B"], "{bad}");
    assert_eq!(p.errors.len(), 1, "{bad}: {:?}", p.errors);
    let e = &p.errors[0];
    assert_eq!(
        (e.file.as_str(), e.line, e.column.as_str()),
        ("venues.csv", 3, column),
        "{bad}"
    );
    assert!(e.message.contains(message), "{bad}: {}", e.message);
}

#[test]
fn every_bad_cell_is_named_by_line_and_column_with_the_fix() {
    for (bad, column, message) in [
        (
            ",London,GB,10,1,EUR,,,,,,",
            "name",
            "name is empty: write the venue's name",
        ),
        ("X,,GB,10,1,EUR,,,,,,", "city", "city is empty"),
        (
            "X,London,GB,lots,1,EUR,,,,,,",
            "capacity",
            "\"lots\" is not a number of people: write a whole number such as 300",
        ),
        (
            "X,London,GB,\"1,200\",1,EUR,,,,,,",
            "capacity",
            "write 1200 (no thousands separator)",
        ),
        ("X,London,GB,-5,1,EUR,,,,,,", "capacity", "not negative"),
        (
            "X,London,GB,10,\"1,200\",EUR,,,,,,",
            "day_rate",
            "\"1,200\" is not an amount: write 1200 (no thousands separator)",
        ),
        (
            "X,London,GB,10,-1,EUR,,,,,,",
            "day_rate",
            "cannot be negative",
        ),
        (
            "X,London,GB,10,cheap,EUR,,,,,,",
            "day_rate",
            "write a number such as 1200 or 1200.50",
        ),
        (
            "X,London,GB,10,1200,,,,,,,",
            "currency",
            "day_rate 1200 has no currency: write the ISO 4217 code",
        ),
        (
            "X,London,GB,10,1200,eur,,,,,,",
            "currency",
            "`eur` is not an ISO 4217 currency code",
        ),
        (
            "X,London,GB,10,1200,XYZ,,,,,,",
            "currency",
            "`XYZ` is not an ISO 4217 currency code",
        ),
        (
            "X,London,GB,10,1,EUR,Main 300,,,,,",
            "rooms",
            "write name:capacity separated by ;, such as Main:300;Side:80",
        ),
        (
            "X,London,GB,10,1,EUR,Main:lots,,,,,",
            "rooms",
            "room \"Main\": \"lots\" is not a number of people",
        ),
        (
            "X,London,GB,10,1,EUR,Main:20,,,,,",
            "rooms",
            "room \"Main\" holds 20 but the venue's capacity is 10",
        ),
        (
            "X,London,GB,10,1,EUR,,,,01/05/2027,,",
            "unavailable_dates",
            "write YYYY-MM-DD, such as 2027-03-05",
        ),
        (
            "X,London,GB,10,1,EUR,,,,2027-02-30,,",
            "unavailable_dates",
            "not a date in the calendar",
        ),
        (
            "X,London,GB,10,1,EUR,,,,,95,0",
            "lat",
            "\"95\" is outside -90..90",
        ),
        (
            "X,London,GB,10,1,EUR,,,,,0,181",
            "lon",
            "\"181\" is outside -180..180",
        ),
        (
            "X,London,GB,10,1,EUR,,,,,north,0",
            "lat",
            "not a coordinate",
        ),
        (
            "X,London,GB,10,1,EUR,,,,,51.5,",
            "lon",
            "lat is given without lon",
        ),
        (
            "X,London,GB,10,1,200,EUR,,,,,,",
            "",
            "the row has 13 cells but the header has 12 columns",
        ),
    ] {
        check_bad_row(bad, column, message);
    }
}

#[test]
fn a_row_with_several_problems_reports_each() {
    let p = venues(&format!("{HEADER}\n,London,GB,lots,-1,EUR,,,,,,\n"));
    let columns: Vec<&str> = p.errors.iter().map(|e| e.column.as_str()).collect();
    assert_eq!(columns, ["name", "capacity", "day_rate"]);
    assert!(p.records.is_empty());
}

#[test]
fn errors_read_as_one_line() {
    let p = venues(&format!(
        "{HEADER}\n{GOOD_A}\n{GOOD_B}\nX,London,GB,lots,1,EUR,,,,,,\n"
    ));
    assert_eq!(
        p.errors[0].to_string(),
        "venues.csv line 4, column capacity: \"lots\" is not a number of people: write a whole number such as 300"
    );
    let whole_row = RowError {
        file: "venues.csv".into(),
        line: 7,
        column: String::new(),
        message: "m".into(),
    };
    assert_eq!(whole_row.to_string(), "venues.csv line 7: m");
}

#[test]
fn a_missing_required_column_is_one_header_error_and_nothing_loads() {
    let p = venues("name,city,country,capacity,currency\nX,London,GB,10,EUR\n");
    assert!(p.records.is_empty());
    assert_eq!(p.errors.len(), 1);
    assert_eq!(
        (p.errors[0].line, p.errors[0].column.as_str()),
        (1, "day_rate")
    );
    assert!(
        p.errors[0]
            .message
            .contains("the header has no column day_rate")
    );
    let p = venues("name,city,country,capacity,day_rate,currency,Name\nX,London,GB,10,1,EUR,Y\n");
    assert!(p.records.is_empty());
    assert!(p.errors[0].message.contains("names column name twice"));
    let p = venues("\n\n");
    assert!(p.errors[0].message.contains("the file is empty"));
}

#[test]
fn header_columns_come_in_any_order_and_case() {
    let p = venues(" CURRENCY , Day Rate,capacity,Country,City,NAME\nEUR,100,50,DE,Berlin,Loft\n");
    assert_eq!(p.errors, vec![]);
    let v = &p.records[0];
    assert_eq!(
        (v.name.as_str(), v.city.as_str(), v.capacity, v.day_rate),
        ("Loft", "Berlin", Some(50), Some(dec("100")))
    );
}

#[test]
fn quoted_fields_keep_commas_and_line_breaks_and_lines_stay_true() {
    let text = format!(
        "{HEADER},notes\n\"Hall, the Big One\",London,GB,100,800,GBP,,,,,,,\"line one\nline two\"\n{GOOD_B},\nX,London,GB,lots,1,EUR,,,,,,\n"
    );
    let p = venues(&text);
    assert_eq!(names(&p), ["Hall, the Big One", "Hall B"]);
    assert_eq!(p.records[0].notes, vec!["line one\nline two".to_owned()]);
    assert_eq!(p.records[0].id.as_str(), "list-hall-the-big-one");
    assert_eq!(p.records[1].provenance.line, Some(4));
    assert_eq!(p.errors[0].line, 5);
}

#[test]
fn bom_crlf_and_blank_lines_are_fine() {
    let text = format!(
        "\u{feff}{HEADER}\r\n\r\n{GOOD_A}\r\n,,,,,,,,,,,\r\n\r\n{GOOD_B}\r\nX,London,GB,lots,1,EUR,,,,,,\r\n"
    );
    let p = venues(&text);
    assert_eq!(names(&p), ["Savoy Theatre", "Hall B"]);
    assert_eq!(p.records[0].provenance.line, Some(3));
    assert_eq!(p.records[1].provenance.line, Some(6));
    assert_eq!(p.records[1].country, "GB");
    assert_eq!(p.errors.len(), 1);
    assert_eq!(
        (p.errors[0].line, p.errors[0].column.as_str()),
        (7, "capacity")
    );
}

#[test]
fn extra_columns_are_kept_as_notes_and_ids_stay_unique() {
    let p = venues(&format!(
        "{HEADER},notes,Parking Spaces,city_centre\n{GOOD_A},own note; second,40,true\n{GOOD_A},,,\nSavoy  Theatre!,London,GB,1,1,GBP,,,,,,,,,\n"
    ));
    assert_eq!(p.errors, vec![]);
    assert_eq!(
        p.records[0].notes,
        [
            "own note",
            "second",
            "parking_spaces: 40",
            "city_centre: true"
        ]
    );
    assert!(p.records[1].notes.is_empty());
    let ids: Vec<&str> = p.records.iter().map(|v| v.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "list-savoy-theatre",
            "list-savoy-theatre-2",
            "list-savoy-theatre-3"
        ]
    );
    let p = parse_venues_csv(
        &format!("{HEADER}\n{GOOD_A}\n"),
        "c.csv",
        SourceKind::InstallationCatalog,
    );
    assert_eq!(p.records[0].id.as_str(), "catalog-savoy-theatre");
    assert_eq!(
        p.records[0].provenance.label,
        "c.csv (installation catalog)"
    );
}

#[test]
fn json_lists_take_strings_numbers_and_room_objects() {
    let text = r#"[
  {"name": "Savoy Theatre", "city": "London", "country": "GB", "capacity": 300,
   "day_rate": 1200.5, "currency": "GBP", "rooms": "Main:300;Side:80",
   "amenities": ["WiFi", "Stage"], "unavailable_dates": ["2027-05-01", "2027-05-02"],
   "lat": 51.51, "lon": -0.12, "Parking": 40},
  {"name": "Hall B", "city": "London", "capacity": "100", "day_rate": "800", "currency": "GBP",
   "rooms": [{"name": "Main", "capacity": 100, "layout": "Banquet"}, {"name": "Side", "capacity": "20"}]},
  {"name": "Bad", "city": "London",
   "capacity": "lots"},
  {"name": "Unknown", "city": "London", "capacity": null},
  {"name": "Worse", "city": "London", "rooms": [{"capacity": 3}]},
  "not an object"
]"#;
    let p = parse_venues_json(text, "venues.json", SourceKind::EventList);
    assert_eq!(names(&p), ["Savoy Theatre", "Hall B", "Unknown"]);
    let a = &p.records[0];
    assert_eq!(a.day_rate, Some(dec("1200.5")));
    assert_eq!(a.rooms.len(), 2);
    assert_eq!(
        a.amenities,
        Some(vec!["wifi".to_owned(), "stage".to_owned()])
    );
    assert_eq!(a.unavailable_dates.len(), 2);
    assert_eq!(a.notes, ["parking: 40"]);
    assert_eq!(a.provenance.line, Some(2));
    let b = &p.records[1];
    assert_eq!(b.rooms[0].layout.as_deref(), Some("banquet"));
    assert_eq!(b.rooms[1].capacity, 20);
    assert_eq!(b.country, "");
    assert_eq!(b.provenance.line, Some(6));
    assert_eq!(p.records[2].capacity, None);
    let where_: Vec<(u64, &str)> = p
        .errors
        .iter()
        .map(|e| (e.line, e.column.as_str()))
        .collect();
    assert_eq!(where_, [(8, "capacity"), (11, "rooms"), (12, "")]);
    assert!(
        p.errors[1]
            .message
            .contains("is not a room: write {\"name\": \"Main\", \"capacity\": 300}")
    );
    assert!(p.errors[2].message.contains("element 6 is not an object"));
}

#[test]
fn json_that_is_not_a_list_says_so() {
    let p = parse_venues_json("[\n{\"name\": \"A\",\n", "v.json", SourceKind::EventList);
    assert!(p.records.is_empty());
    assert_eq!(p.errors[0].line, 3);
    assert!(
        p.errors[0]
            .message
            .starts_with("the file is not valid JSON")
    );
    let p = parse_venues_json("{\"name\": \"A\"}", "v.json", SourceKind::EventList);
    assert!(
        p.errors[0]
            .message
            .contains("must be a JSON array of objects")
    );
    let p = parse_venues_json(
        "[{\"name\": \"A\", \"city\": {\"x\": 1}}]",
        "v.json",
        SourceKind::EventList,
    );
    assert_eq!(p.errors[0].column, "city");
    assert!(
        p.errors[0]
            .message
            .contains("city is an object: write a text")
    );
}

#[test]
fn the_form_is_picked_by_extension_then_first_character() {
    let csv = format!("{HEADER}\n{GOOD_A}\n");
    let json = r#"[{"name": "A", "city": "B"}]"#;
    for (text, file) in [
        (csv.as_str(), "list.csv"),
        (csv.as_str(), "list.txt"),
        (json, "list.json"),
        (json, "upload"),
    ] {
        let p = parse_venues(text, file, SourceKind::EventList);
        assert_eq!(p.errors, vec![], "{file}");
        assert_eq!(p.records.len(), 1, "{file}");
    }
    // A `.csv` name wins over a text that looks like JSON.
    let p = parse_venues(json, "list.csv", SourceKind::EventList);
    assert!(p.records.is_empty() && !p.errors.is_empty());
}

const RATE_HEADER: &str =
    "supplier,service,city,country,currency,item,unit,price,min_qty,contact,notes";

fn rates(body: &str) -> Parsed<eods_domain::catalog::sources::RateCardRow> {
    parse_rate_cards_csv(
        &format!("{RATE_HEADER}\n{body}"),
        "rate_cards.csv",
        SourceKind::EventList,
    )
}

#[test]
fn rate_cards_load_with_tiers_notes_and_unknown_items() {
    let p = parse_rate_cards_csv(
        &format!(
            "{RATE_HEADER},Payment\nChakula,Catering,Nairobi,KE,KES,Coffee break,per_head,450,,c@x.example,tea,30 days\nChakula,catering,Nairobi,KE,KES,coffee_break,per_head,400,400,,,\nChakula,catering,Nairobi,KE,KES,mandazi_basket,per_head,150,,,,\n"
        ),
        "rate_cards.csv",
        SourceKind::EventList,
    );
    assert_eq!(p.errors, vec![]);
    let r = &p.records[0];
    assert_eq!(
        (r.service.as_str(), r.item.as_str(), r.unit.as_str()),
        ("catering", "coffee_break", "per_head")
    );
    assert_eq!(r.price, dec("450"));
    assert_eq!(r.min_qty, None);
    assert_eq!(r.notes, "tea; payment: 30 days");
    assert_eq!(r.provenance.line, Some(2));
    assert_eq!(p.records[1].min_qty, Some(dec("400")));
    assert_eq!(p.records[2].item, "mandazi_basket");
}

#[test]
fn bad_rate_card_rows_are_named_and_the_rest_load() {
    let good = "A,av,Nairobi,KE,KES,room_basic,per_room_day,15000,,,";
    for (bad, column, message) in [
        (
            "A,catring,Nairobi,KE,KES,lunch,per_head,1,,,",
            "service",
            "\"catring\" is not a service: did you mean catering? Write one of catering, av,",
        ),
        (
            "A,juggling,Nairobi,KE,KES,lunch,per_head,1,,,",
            "service",
            "\"juggling\" is not a service: write one of catering",
        ),
        (
            "A,catering,Nairobi,KE,KES,lunch,per_person,1,,,",
            "unit",
            "\"per_person\" is not a unit: did you mean per_head?",
        ),
        (
            "A,catering,Nairobi,KE,KES,lunch,per_hed,1,,,",
            "unit",
            "did you mean per_head?",
        ),
        (
            "A,catering,Nairobi,KE,KES,lunch,per_head,-1,,,",
            "price",
            "cannot be negative",
        ),
        (
            "A,catering,Nairobi,KE,KES,lunch,per_head,,,,",
            "price",
            "price is empty",
        ),
        (
            "A,catering,Nairobi,KE,KES,lunch,per_head,\"1,500\",,,",
            "price",
            "write 1500 (no thousands separator)",
        ),
        (
            "A,catering,Nairobi,KE,,lunch,per_head,1,,,",
            "currency",
            "currency is empty",
        ),
        (
            "A,catering,Nairobi,KE,KES,,per_head,1,,,",
            "item",
            "item is empty",
        ),
        (
            ",catering,Nairobi,KE,KES,lunch,per_head,1,,,",
            "supplier",
            "supplier is empty",
        ),
        (
            "A,catering,,KE,KES,lunch,per_head,1,,,",
            "city",
            "city is empty",
        ),
        (
            "A,catering,Nairobi,KE,KES,lunch,per_head,1,0,,",
            "min_qty",
            "min_qty 0 is not a volume tier",
        ),
        (
            "A,catering,Nairobi,KE,KES,lunch,per_head,1,many,,",
            "min_qty",
            "\"many\" is not an amount",
        ),
        (
            "A,av,Nairobi,KE,KES,room_basic,per_room_day,14000,,,",
            "min_qty",
            "room_basic of A is already priced without min_qty on line 2",
        ),
        (
            "a,av,Nairobi,KE,KES,room_basic,per_day,14000,5,,",
            "unit",
            "room_basic of a is priced per_room_day on line 2: give an item one unit",
        ),
    ] {
        let p = rates(&format!(
            "{good}\n{bad}\nB,av,Nairobi,KE,KES,technician,per_hour,2500,,,\n"
        ));
        assert_eq!(p.records.len(), 2, "{bad}: {:?}", p.errors);
        assert_eq!(p.errors.len(), 1, "{bad}: {:?}", p.errors);
        let e = &p.errors[0];
        assert_eq!((e.line, e.column.as_str()), (3, column), "{bad}: {e}");
        assert!(e.message.contains(message), "{bad}: {e}");
    }
    let p = parse_rate_cards_csv(
        "supplier,service,city,currency,item,unit,price\n",
        "r.csv",
        SourceKind::EventList,
    );
    assert_eq!(p.errors[0].column, "country");
}

#[test]
fn rate_card_rows_become_one_supplier_with_tiers() {
    let p = rates(
        "Chakula,catering,Nairobi,KE,KES,lunch,per_head,1500,,orders@chakula.example,\n\
         Chakula,catering,Nairobi,KE,KES,lunch,per_head,1300,400,,\n\
         Chakula,catering,Mombasa,KE,KES,lunch,per_head,1400,200,,\n\
         Chakula,catering,Nairobi,KE,KES,coffee_break,per_head,450,,,\n\
         Sauti,av,Nairobi,KE,KES,room_basic,per_room_day,15000,,,\n",
    );
    assert_eq!(p.errors, vec![]);
    let s = eods_agents::data::suppliers_from_rows(&p.records);
    assert_eq!(s.len(), 2);
    let c = &s[0];
    assert_eq!(c.id, "rc-chakula-catering");
    assert_eq!(c.cities, ["Nairobi", "Mombasa"]);
    assert_eq!(c.items.len(), 2);
    assert_eq!(c.items[0].price, dec("1500"));
    let tiers: Vec<(Decimal, Decimal)> = c.items[0]
        .tiers
        .iter()
        .map(|t| (t.min_qty, t.price))
        .collect();
    assert_eq!(
        tiers,
        [(dec("200"), dec("1400")), (dec("400"), dec("1300"))]
    );
    assert_eq!(c.price_for("lunch", dec("500")), Some(dec("1300")));
    assert_eq!(c.contact, "orders@chakula.example");
    assert_eq!(
        c.provenance.as_ref().map(|p| p.cite()),
        Some("rate_cards.csv (organiser list), line 2".to_owned())
    );
    assert_eq!(s[1].id, "rc-sauti-av");
}

const QUOTE_HEADER: &str = "venue,capacity,day_rate,currency,valid_until,notes";

#[test]
fn quotes_load_and_bad_ones_are_named() {
    let p = parse_quotes_csv(
        &format!(
            "{QUOTE_HEADER},Contact\nlist-kilele-hub,150,95000,KES,2027-06-30,two days,ann@x.example\nMvuli Hall,,140000,KES,,,\nOnly Size,90,,,,,\nNothing,,,KES,,,\nPricey,,100,,,,\nLate,1,1,KES,30.06.2027,,\n,1,1,KES,,,\n"
        ),
        "quotes.csv",
        "user:alice",
    );
    let venues: Vec<&str> = p.records.iter().map(|q| q.venue.as_str()).collect();
    assert_eq!(venues, ["list-kilele-hub", "Mvuli Hall", "Only Size"]);
    let q = &p.records[0];
    assert_eq!((q.capacity, q.day_rate), (Some(150), Some(dec("95000"))));
    assert_eq!(
        q.valid_until.map(|d| d.to_string()).as_deref(),
        Some("2027-06-30")
    );
    assert_eq!(q.notes, "two days; contact: ann@x.example");
    assert_eq!(q.entered_by, "user:alice");
    assert_eq!((p.records[1].capacity, p.records[2].day_rate), (None, None));
    let where_: Vec<(u64, &str)> = p
        .errors
        .iter()
        .map(|e| (e.line, e.column.as_str()))
        .collect();
    assert_eq!(
        where_,
        [
            (5, "capacity"),
            (6, "currency"),
            (7, "valid_until"),
            (8, "venue")
        ]
    );
    assert!(
        p.errors[0]
            .message
            .contains("neither capacity nor day_rate")
    );
    assert!(p.errors[1].message.contains("day_rate 100 has no currency"));
}

#[test]
fn a_catalog_directory_loads_every_catalog_file() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &[u8]| std::fs::write(dir.path().join(name), text).unwrap();
    write(
        "venues.csv",
        format!("{HEADER}\n{GOOD_A}\nX,London,GB,lots,1,EUR,,,,,,\n").as_bytes(),
    );
    write(
        "extra.venues.json",
        br#"[{"name": "Savoy Theatre", "city": "Paris"}]"#,
    );
    write(
        "rate_cards.csv",
        format!("{RATE_HEADER}\nA,av,London,GB,GBP,room_basic,per_room_day,150,,,\n").as_bytes(),
    );
    write("old.rate_cards.csv", b"supplier,service\n\xff\xfe\n");
    write("README.md", b"not read");
    let c = load_catalog_dir(dir.path()).unwrap();
    let ids: Vec<(&str, &str)> = c
        .venues
        .iter()
        .map(|v| (v.id.as_str(), v.city.as_str()))
        .collect();
    assert_eq!(
        ids,
        [
            ("catalog-savoy-theatre", "Paris"),
            ("catalog-savoy-theatre-2", "London")
        ]
    );
    assert!(
        c.venues
            .iter()
            .all(|v| v.provenance.kind == SourceKind::InstallationCatalog)
    );
    assert_eq!(c.venues[1].provenance.file.as_deref(), Some("venues.csv"));
    assert_eq!(c.rate_cards.len(), 1);
    assert_eq!(
        c.rate_cards[0].provenance.kind,
        SourceKind::InstallationCatalog
    );
    let errors: Vec<String> = c.errors.iter().map(ToString::to_string).collect();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors[0].starts_with("old.rate_cards.csv line 2: the file is not UTF-8 text"),
        "{errors:?}"
    );
    assert!(
        errors[1].starts_with("venues.csv line 3, column capacity:"),
        "{errors:?}"
    );
}

#[test]
fn a_missing_or_empty_catalog_directory_is_an_error_naming_the_files() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope");
    let e = load_catalog_dir(&missing).unwrap_err();
    assert!(matches!(e, CatalogError::Unreadable { .. }));
    let text = e.to_string();
    assert!(
        text.contains(&missing.display().to_string())
            && text.contains("venues.csv, venues.json, rate_cards.csv"),
        "{text}"
    );
    std::fs::write(dir.path().join("notes.txt"), "x").unwrap();
    let e = load_catalog_dir(dir.path()).unwrap_err();
    assert_eq!(
        e,
        CatalogError::Empty {
            dir: dir.path().to_owned()
        }
    );
    assert!(
        e.to_string()
            .contains("holds none of venues.csv, venues.json, rate_cards.csv")
    );
}

fn sample(name: &str) -> (String, String) {
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "..",
        "..",
        "examples",
        "nairobi",
        name,
    ]
    .iter()
    .collect();
    let text = std::fs::read_to_string(&path).unwrap();
    (text, name.to_owned())
}

#[test]
fn the_nairobi_sample_files_load_and_price_the_sample_brief() {
    let (text, file) = sample("venues.csv");
    let v = parse_venues(&text, &file, SourceKind::EventList);
    assert_eq!(v.errors, vec![]);
    assert!(v.records.len() >= 6);
    assert!(
        v.records
            .iter()
            .all(|r| r.city == "Nairobi" && r.notes.iter().any(|n| n.starts_with("sample data")))
    );
    let rfq: Vec<&str> = v
        .records
        .iter()
        .filter(|r| !r.has_facts())
        .map(|r| r.id.as_str())
        .collect();
    assert_eq!(rfq, ["list-kilele-tech-hub"]);
    for r in v.records.iter().filter(|r| r.has_facts()) {
        let c = eods_agents::data::CatalogVenue::from_record(r).unwrap();
        assert!(
            c.rooms.iter().all(|room| room.capacity <= c.capacity),
            "{}",
            c.id
        );
    }

    // The extra columns city_centre and transit_minutes reach the planners' venue.
    let first = eods_agents::data::CatalogVenue::from_record(&v.records[0]).unwrap();
    assert_eq!((first.city_centre, first.transit_minutes), (true, 5));
    assert_eq!(first.notes, "sample data: replace with your own list");

    let (text, file) = sample("quotes.csv");
    let q = parse_quotes_csv(&text, &file, &file);
    assert_eq!(q.errors, vec![]);
    assert_eq!(q.records.len(), 2);
    assert!(q.records.iter().all(|q| {
        v.records
            .iter()
            .any(|r| r.id.as_str() == q.venue || r.name == q.venue)
    }));

    let (text, file) = sample("brief.json");
    let brief = eods_domain::intake::parse_brief(&text).unwrap();
    assert_eq!(
        (
            brief.audience_size,
            brief.days(),
            brief.budget.currency.as_str()
        ),
        (120, 2, "KES")
    );

    let (text, file_r) = sample("rate_cards.csv");
    let r = parse_rate_cards_csv(&text, &file_r, SourceKind::EventList);
    assert_eq!(r.errors, vec![]);
    assert!(r.records.iter().all(|x| x.notes.starts_with("sample data")));
    let suppliers = eods_agents::data::suppliers_from_rows(&r.records);
    let needs = eods_agents::budget::needs(&brief);
    assert!(needs.len() >= 10, "{}", needs.len());
    for n in &needs {
        let priced = suppliers.iter().any(|s| {
            s.service == n.service
                && s.serves(&brief.location.city)
                && s.currency == brief.budget.currency
                && s.price_for(n.code, n.qty).is_some()
        });
        assert!(
            priced,
            "{file}: no supplier in {file_r} prices {} ({:?})",
            n.code, n.service
        );
    }
    // Every item of the rate-card vocabulary the planners can ask for is there for a bigger event too.
    for code in [
        "snacks",
        "dinner",
        "technician",
        "recording",
        "streaming",
        "first_aid",
        "security",
        "event_liability_large",
    ] {
        assert!(suppliers.iter().any(|s| s.price(code).is_some()), "{code}");
    }
}
