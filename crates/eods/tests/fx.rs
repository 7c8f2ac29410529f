//! Any currency, as a user meets it: a brief in USD plans to the postmortem with every
//! conversion recorded, `eods fx import` stores the ECB's CSV and XML (SQLite, and PostgreSQL
//! when EODS_TEST_DATABASE_URL is set), and a run converts with the imported rates.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

mod support;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use support::{databases, eods, text};

/// The S-02 conference moved: `city` and `country`, 150 people, a budget in `currency`.
fn brief(dir: &Path, city: &str, country: &str, zone: &str, currency: &str, total: u64) -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/s02-conference.json");
    let mut b: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    b["title"] = json!(format!("Test conference in {city}, budget in {currency}"));
    b["location"]["city"] = json!(city);
    b["location"]["country"] = json!(country);
    b["timezone"] = json!(zone);
    b["audience_size"] = json!(150);
    b["budget"] = json!({"total": total, "currency": currency, "flexibility": "variable"});
    let file = dir.join(format!("{city}-{currency}.json"));
    std::fs::write(&file, serde_json::to_string_pretty(&b).unwrap()).unwrap();
    file
}

fn dec(v: &Value) -> Decimal {
    v.as_str()
        .unwrap_or_else(|| panic!("not a decimal string: {v}"))
        .parse()
        .unwrap()
}

/// Plans `brief` to the postmortem and returns the cost model's payload and report.md.
fn plan(dir: &Path, brief: &Path, db: &str) -> (Value, String) {
    let out = dir.join(brief.file_stem().unwrap());
    let o = eods(&[
        "plan",
        brief.to_str().unwrap(),
        "--approve",
        "auto",
        "--out",
        out.to_str().unwrap(),
        "--database",
        db,
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("postmortem (completed)"),
        "{}",
        text(&o)
    );
    let cm: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("cost_model.json")).unwrap())
            .unwrap();
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    (cm["payload"].clone(), report)
}

/// Every conversion is recomputable (quoted × rate, rounded to cents), names a line item, and
/// converts a London price (GBP or EUR) into `to`. Returns how many there are.
fn check_conversions(cm: &Value, to: &str, source: &str) -> usize {
    assert_eq!(cm["currency"], to);
    let conversions = cm["conversions"].as_array().unwrap();
    for c in conversions {
        let r = &c["rate"];
        let from = r["from"].as_str().unwrap();
        assert!(["GBP", "EUR"].contains(&from), "{c}");
        assert_eq!(r["to"].as_str(), Some(to), "{c}");
        assert!(r["source"].as_str().unwrap().contains(source), "{c}");
        assert!(r["date"].as_str().unwrap().starts_with("20"), "{c}");
        assert_eq!(c["quoted_unit_cost"]["currency"], from);
        let want = (dec(&c["quoted_unit_cost"]["amount"]) * dec(&r["rate"])).round_dp(2);
        assert_eq!(dec(&c["converted_unit_cost"]), want, "{c}");
        let line = cm["line_items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["id"] == c["line_item"])
            .unwrap_or_else(|| panic!("no line {}", c["line_item"]));
        assert!(dec(&line["unit_cost"]) <= want, "{line} after {c}");
    }
    conversions.len()
}

#[test]
fn a_london_brief_in_usd_plans_to_the_postmortem_with_its_conversions_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let b = brief(dir.path(), "London", "GB", "Europe/London", "USD", 120_000);
    let db = format!("sqlite://{}", dir.path().join("eods.db").display());
    let (cm, report) = plan(dir.path(), &b, &db);
    // London's venue and suppliers quote in GBP or EUR: the venue line and every priced need.
    let n = check_conversions(
        &cm,
        "USD",
        "ECB euro reference rates, bundled snapshot of 2026-10-30",
    );
    assert_eq!(
        n + 1,
        cm["line_items"].as_array().unwrap().len(),
        "all but the reserve: {cm}"
    );
    assert_eq!(cm["conversions"][0]["rate"]["from"], "GBP", "the venue");
    assert_eq!(
        cm["conversions"][0]["rate"]["rate"], "1.339889662",
        "0.8338 GBP and 1.1172 USD per euro"
    );
    assert_eq!(cm["conversions"][0]["rate"]["date"], "2026-10-30");
    assert!(report.contains("| unit (USD) | total (USD) |"), "{report}");
    assert!(
        report.contains("| 1 GBP | USD | 1.339889662 | 2026-10-30 | ECB euro reference rates, bundled snapshot of 2026-10-30 |"),
        "{report}"
    );
}

#[test]
fn fx_import_stores_csv_and_xml_and_runs_convert_with_the_imported_rates() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("kes.csv");
    std::fs::write(
        &csv,
        "Date,KES,USD,\n2026-11-20,150.5,1.1,\n2026-11-19,149.9,N/A,\n",
    )
    .unwrap();
    let xml = dir.path().join("eurofxref-daily.xml");
    std::fs::write(
        &xml,
        r#"<?xml version="1.0" encoding="UTF-8"?>
<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01" xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">
  <gesmes:subject>Reference rates</gesmes:subject>
  <Cube>
    <Cube time="2026-11-20">
      <Cube currency="GBP" rate="0.8400"/>
      <Cube currency="JPY" rate="176.10"/>
    </Cube>
  </Cube>
</gesmes:Envelope>
"#,
    )
    .unwrap();
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "Date,USD,\n2026-11-20,one,\n").unwrap();
    for (i, db) in databases(dir.path(), "fx").into_iter().enumerate() {
        let o = eods(&[
            "fx",
            "import",
            csv.to_str().unwrap(),
            "--source",
            "Test rates",
            "--database",
            &db,
        ]);
        assert!(o.status.success(), "{db}: {}", text(&o));
        assert!(
            text(&o).contains("imported 3 rates of 2 currencies from 2026-11-19 to 2026-11-20"),
            "{}",
            text(&o)
        );
        let o = eods(&["fx", "import", xml.to_str().unwrap(), "--database", &db]);
        assert!(o.status.success(), "{db}: {}", text(&o));
        assert!(text(&o).contains("imported 2 rates of 2 currencies from 2026-11-20 to 2026-11-20 (ECB euro reference rates (eurofxref-daily.xml))"), "{}", text(&o));
        let o = eods(&["fx", "import", bad.to_str().unwrap(), "--database", &db]);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        assert!(
            text(&o).contains("bad.csv: line 2, USD: `one` is not a rate"),
            "{}",
            text(&o)
        );
        let o = eods(&["fx", "list", "--database", &db]);
        let listed = text(&o);
        assert!(o.status.success(), "{listed}");
        for want in [
            "database: 2026-11-19 to 2026-11-20, 5 rates",
            "currencies: GBP JPY KES USD",
            "of eurofxref-daily.xml: 2 rates of 2 currencies, 2026-11-20 to 2026-11-20, source ECB euro reference rates (eurofxref-daily.xml)",
            "of kes.csv: 3 rates of 2 currencies",
            "bundled (ECB euro reference rates, bundled snapshot of 2026-10-30): 2026-10-26 to 2026-10-30",
        ] {
            assert!(listed.contains(want), "`{want}` missing:\n{listed}");
        }
        // A London brief in KES (the ECB does not publish it) converts GBP prices with the
        // imported KES and GBP of 2026-11-20.
        let b = brief(
            dir.path(),
            "London",
            "GB",
            "Europe/London",
            "KES",
            20_000_000,
        );
        let (cm, report) = plan(&dir.path().join(format!("db{i}")), &b, &db);
        check_conversions(&cm, "KES", "Test rates (kes.csv)");
        let r = &cm["conversions"][0]["rate"];
        assert_eq!(
            (r["rate"].as_str(), r["date"].as_str()),
            (Some("179.1666667"), Some("2026-11-20")),
            "150.5 / 0.84"
        );
        assert_eq!(
            r["source"],
            "ECB euro reference rates (eurofxref-daily.xml); Test rates (kes.csv)"
        );
        assert!(
            report.contains("| 1 GBP | KES | 179.1666667 | 2026-11-20 |"),
            "{report}"
        );
    }
}

#[test]
fn a_currency_without_a_rate_blocks_with_the_fix_and_an_unknown_code_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("eods.db").display());
    let b = brief(
        dir.path(),
        "Berlin",
        "DE",
        "Europe/Berlin",
        "KES",
        20_000_000,
    );
    let o = eods(&[
        "plan",
        b.to_str().unwrap(),
        "--approve",
        "auto",
        "--database",
        &db,
    ]);
    let t = text(&o);
    assert!(t.contains("no exchange rate for KES at all"), "{t}");
    assert!(t.contains("eods fx import FILE"), "{t}");
    let b = brief(dir.path(), "Berlin", "DE", "Europe/Berlin", "XYZ", 1000);
    let o = eods(&[
        "plan",
        b.to_str().unwrap(),
        "--approve",
        "auto",
        "--database",
        &db,
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("`XYZ` is not an ISO 4217 currency code"),
        "{}",
        text(&o)
    );
}
