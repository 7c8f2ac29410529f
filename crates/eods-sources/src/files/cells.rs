//! Cell readers shared by every organiser file: numbers, amounts, dates, coordinates, rooms,
//! `;`-separated lists, snake_case names, slugs and "did you mean" suggestions. Each returns the
//! value or a message that quotes the cell and says how to write it; the caller adds the file,
//! line and column. No I/O.

use chrono::NaiveDate;
use eods_domain::catalog::sources::RoomRecord;
use eods_domain::money::Currency;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use std::str::FromStr;

/// How a number cell was written.
enum Number {
    /// A plain number (`1200`, `1200.50`, `-3`).
    Plain(Decimal),
    /// A number with thousands separators (`1,200`): the fix drops them.
    Thousands(String),
    /// A decimal comma (`1200,50`): the fix writes a point.
    DecimalComma(String),
    /// A number with a currency sign or code around it (`€1200`, `1200 KES`).
    WithCurrency(String),
    /// Not a number.
    Not,
}

fn plain(s: &str) -> Option<Decimal> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = match digits.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (digits, None),
    };
    let all_digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(int) || frac.is_some_and(|f| !all_digits(f)) {
        return None;
    }
    Decimal::from_str(s).ok()
}

/// `1,200`, `1 200`, `1'200.50`: groups of three digits after the first separator.
fn thousands(s: &str) -> Option<String> {
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (s, None),
    };
    let sep = int
        .chars()
        .find(|c| matches!(c, ',' | ' ' | '\'' | '\u{a0}'))?;
    let mut groups = int.split(sep);
    let first = groups.next()?;
    let ok = !first.is_empty()
        && first.len() <= 3
        && first.bytes().all(|b| b.is_ascii_digit())
        && groups.all(|g| g.len() == 3 && g.bytes().all(|b| b.is_ascii_digit()));
    let fixed: String = int.chars().filter(char::is_ascii_digit).collect();
    let fixed = match frac {
        Some(f) => format!("{fixed}.{f}"),
        None => fixed,
    };
    (ok && plain(&fixed).is_some()).then_some(fixed)
}

fn classify(s: &str) -> Number {
    if let Some(d) = plain(s) {
        return Number::Plain(d);
    }
    if let Some(fixed) = thousands(s) {
        return Number::Thousands(fixed);
    }
    if let Some((i, f)) = s.split_once(',')
        && (1..=2).contains(&f.len())
        && plain(i).is_some()
        && f.bytes().all(|b| b.is_ascii_digit())
    {
        return Number::DecimalComma(format!("{i}.{f}"));
    }
    let inner = s.trim_matches(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == ','));
    if inner.len() < s.len() && !inner.is_empty() {
        if let Some(d) = plain(inner) {
            return Number::WithCurrency(d.to_string());
        }
        if let Some(fixed) = thousands(inner) {
            return Number::WithCurrency(fixed);
        }
    }
    Number::Not
}

/// An amount of money or a quantity: `1200`, `1200.50`; never negative. Empty is `None`.
pub fn amount(s: &str) -> Result<Option<Decimal>, String> {
    if s.is_empty() {
        return Ok(None);
    }
    match classify(s) {
        Number::Plain(d) if d.is_sign_negative() && !d.is_zero() => Err(format!(
            "\"{s}\" is not an amount: it cannot be negative; write a number such as 1200 or 1200.50"
        )),
        // `-0` is zero.
        Number::Plain(d) => Ok(Some(if d.is_zero() { Decimal::ZERO } else { d })),
        Number::Thousands(fixed) => Err(format!(
            "\"{s}\" is not an amount: write {fixed} (no thousands separator)"
        )),
        Number::DecimalComma(fixed) => Err(format!(
            "\"{s}\" is not an amount: write {fixed} (a point before the decimals)"
        )),
        Number::WithCurrency(fixed) => Err(format!(
            "\"{s}\" is not an amount: write the number alone ({fixed}) and the currency in the currency column"
        )),
        Number::Not => Err(format!(
            "\"{s}\" is not an amount: write a number such as 1200 or 1200.50"
        )),
    }
}

/// A number of people: a whole number of at least 1. Empty is `None`.
pub fn people(s: &str) -> Result<Option<u32>, String> {
    if s.is_empty() {
        return Ok(None);
    }
    let fix = match classify(s) {
        Number::Plain(d) if d.is_sign_negative() && !d.is_zero() => {
            "write a whole number such as 300 (not negative)".to_owned()
        }
        Number::Plain(d) if d.is_zero() => {
            "a venue or room holds at least 1 person; leave the cell empty if you do not know"
                .to_owned()
        }
        Number::Plain(d) if d.fract().is_zero() => match d.to_u32() {
            Some(n) => return Ok(Some(n)),
            None => "write a whole number below 4294967296".to_owned(),
        },
        Number::Plain(_) => "write a whole number such as 300".to_owned(),
        Number::Thousands(fixed) => format!("write {fixed} (no thousands separator)"),
        Number::DecimalComma(_) | Number::WithCurrency(_) | Number::Not => {
            "write a whole number such as 300".to_owned()
        }
    };
    Err(format!("\"{s}\" is not a number of people: {fix}"))
}

/// An ISO 4217 code. Empty is `None`.
pub fn currency(s: &str) -> Result<Option<Currency>, String> {
    if s.is_empty() {
        return Ok(None);
    }
    Currency::parse(s).map(Some)
}

/// A date written `YYYY-MM-DD`, nothing else.
pub fn date(s: &str) -> Result<NaiveDate, String> {
    let b = s.as_bytes();
    let shape = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape {
        return Err(format!(
            "\"{s}\" is not a date: write YYYY-MM-DD, such as 2027-03-05"
        ));
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
        format!("\"{s}\" is not a date in the calendar: check the month and day (YYYY-MM-DD)")
    })
}

/// An optional date. Empty is `None`.
pub fn optional_date(s: &str) -> Result<Option<NaiveDate>, String> {
    if s.is_empty() {
        return Ok(None);
    }
    date(s).map(Some)
}

/// `;`-separated dates.
pub fn dates(s: &str) -> Result<Vec<NaiveDate>, String> {
    list(s).iter().map(|d| date(d)).collect()
}

/// Decimal degrees within `-limit..=limit`. Empty is `None`.
pub fn degrees(s: &str, limit: f64, example: &str) -> Result<Option<f64>, String> {
    if s.is_empty() {
        return Ok(None);
    }
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && (-limit..=limit).contains(&v) => Ok(Some(v)),
        Ok(v) if v.is_finite() => Err(format!(
            "\"{s}\" is outside -{limit}..{limit}: write decimal degrees such as {example}"
        )),
        _ => Err(format!(
            "\"{s}\" is not a coordinate: write decimal degrees such as {example}"
        )),
    }
}

/// The non-empty, trimmed items of a `;`-separated cell.
pub fn list(s: &str) -> Vec<String> {
    s.split(';')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `;`-separated names normalised to snake_case (`Step-free access` → `step_free_access`).
/// An empty cell says nothing (`None`); `none` says there are none (`Some(vec![])`).
pub fn tags(s: &str) -> Option<Vec<String>> {
    if s.is_empty() {
        return None;
    }
    if s.eq_ignore_ascii_case("none") {
        return Some(Vec::new());
    }
    let mut v: Vec<String> = Vec::new();
    for t in list(s).iter().map(|t| snake(t)) {
        if !t.is_empty() && !v.contains(&t) {
            v.push(t);
        }
    }
    Some(v)
}

/// `Main:300;Side:80` (a room may add its layout: `Main:300:theatre`).
pub fn rooms(s: &str) -> Result<Vec<RoomRecord>, String> {
    list(s)
        .iter()
        .map(|r| {
            let parts: Vec<&str> = r.split(':').map(str::trim).collect();
            let (name, cap, layout) = match parts.as_slice() {
                [n, c] => (*n, *c, None),
                [n, c, l] => (*n, *c, Some(*l)),
                _ => ("", "", None),
            };
            if name.is_empty() || cap.is_empty() {
                return Err(format!(
                    "\"{r}\" is not a room: write name:capacity separated by ;, such as Main:300;Side:80"
                ));
            }
            room(name, cap, layout)
        })
        .collect()
}

/// One room from its parts.
pub fn room(name: &str, capacity: &str, layout: Option<&str>) -> Result<RoomRecord, String> {
    let capacity = people(capacity)
        .map_err(|m| format!("room \"{name}\": {m}"))?
        .ok_or_else(|| format!("room \"{name}\" has no capacity: write Main:300"))?;
    Ok(RoomRecord {
        name: name.to_owned(),
        capacity,
        layout: layout.filter(|l| !l.is_empty()).map(snake),
    })
}

/// Lower case, every run of other characters one `_` (`Step-free access` → `step_free_access`).
pub fn snake(s: &str) -> String {
    let mut out = String::new();
    for c in s.trim().chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    while out.ends_with('_') {
        out.pop();
    }
    out
}

/// A lower-case ASCII slug (`Savoy Théâtre` → `savoy-theatre`); empty when nothing is left.
pub fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        let c = match c {
            'á' | 'à' | 'â' | 'ä' | 'ã' | 'å' | 'Á' | 'À' | 'Â' | 'Ä' | 'Ã' | 'Å' => {
                'a'
            }
            'é' | 'è' | 'ê' | 'ë' | 'É' | 'È' | 'Ê' | 'Ë' => 'e',
            'í' | 'ì' | 'î' | 'ï' | 'Í' | 'Ì' | 'Î' | 'Ï' => 'i',
            'ó' | 'ò' | 'ô' | 'ö' | 'õ' | 'ø' | 'Ó' | 'Ò' | 'Ô' | 'Ö' | 'Õ' | 'Ø' => {
                'o'
            }
            'ú' | 'ù' | 'û' | 'ü' | 'Ú' | 'Ù' | 'Û' | 'Ü' => 'u',
            'ç' | 'Ç' => 'c',
            'ñ' | 'Ñ' => 'n',
            'ß' => 's',
            c => c,
        };
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
}

/// Edit distance (Levenshtein) between two short words.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The word of `options` meant by `value`: a known synonym, else the nearest within two edits.
pub fn did_you_mean<'a>(
    value: &str,
    options: &[&'a str],
    synonyms: &[(&str, &'a str)],
) -> Option<&'a str> {
    if let Some((_, to)) = synonyms.iter().find(|(from, _)| *from == value) {
        return Some(to);
    }
    options
        .iter()
        .map(|o| (distance(value, o), *o))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, o)| o)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_accept_plain_decimals_and_explain_the_rest() {
        let ok = |s: &str| amount(s).unwrap().map(|d| d.to_string());
        assert_eq!(ok("1200"), Some("1200".into()));
        assert_eq!(ok("1200.50"), Some("1200.50".into()));
        assert_eq!(ok("0"), Some("0".into()));
        assert_eq!(ok("-0"), Some("0".into()));
        assert_eq!(ok(""), None);
        let err = |s: &str| amount(s).unwrap_err();
        assert_eq!(
            err("1,200"),
            "\"1,200\" is not an amount: write 1200 (no thousands separator)"
        );
        assert_eq!(
            err("1 200 000.5"),
            "\"1 200 000.5\" is not an amount: write 1200000.5 (no thousands separator)"
        );
        assert_eq!(
            err("1200,50"),
            "\"1200,50\" is not an amount: write 1200.50 (a point before the decimals)"
        );
        assert!(err("-5").contains("cannot be negative"));
        assert!(err("€1,200").contains("write the number alone (1200)"));
        assert!(err("1200 KES").contains("write the number alone (1200)"));
        assert!(err("lots").contains("write a number such as 1200"));
        assert!(err("1e3").contains("write a number such as 1200"));
    }

    #[test]
    fn people_are_whole_positive_numbers() {
        assert_eq!(people("300"), Ok(Some(300)));
        assert_eq!(people("300.0"), Ok(Some(300)));
        assert_eq!(people(""), Ok(None));
        assert_eq!(
            people("lots").unwrap_err(),
            "\"lots\" is not a number of people: write a whole number such as 300"
        );
        assert_eq!(
            people("1,200").unwrap_err(),
            "\"1,200\" is not a number of people: write 1200 (no thousands separator)"
        );
        assert!(people("-3").unwrap_err().contains("not negative"));
        assert!(people("0").unwrap_err().contains("at least 1"));
        assert!(people("12.5").unwrap_err().contains("whole number"));
        assert!(people("99999999999").unwrap_err().contains("below"));
    }

    #[test]
    fn dates_are_strict() {
        assert_eq!(date("2027-03-05").unwrap().to_string(), "2027-03-05");
        assert!(date("2027-3-5").unwrap_err().contains("write YYYY-MM-DD"));
        assert!(date("05/03/2027").unwrap_err().contains("write YYYY-MM-DD"));
        assert!(
            date("2027-02-30")
                .unwrap_err()
                .contains("not a date in the calendar")
        );
        assert_eq!(dates("2027-01-01; 2027-01-02;").unwrap().len(), 2);
    }

    #[test]
    fn rooms_tags_and_names() {
        let r = rooms("Main:300; Side : 80 :Banquet").unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!((r[1].name.as_str(), r[1].capacity), ("Side", 80));
        assert_eq!(r[1].layout.as_deref(), Some("banquet"));
        assert!(
            rooms("Main 300")
                .unwrap_err()
                .contains("write name:capacity")
        );
        assert!(
            rooms("Main:lots")
                .unwrap_err()
                .starts_with("room \"Main\": \"lots\"")
        );
        assert_eq!(
            tags("Step-free access; WiFi;wifi"),
            Some(vec!["step_free_access".to_owned(), "wifi".to_owned()])
        );
        assert_eq!(tags("none"), Some(vec![]));
        assert_eq!(tags(""), None);
        assert_eq!(slug("  Savoy Théâtre (Main) "), "savoy-theatre-main");
        assert_eq!(slug("東京"), "");
    }

    #[test]
    fn suggestions_use_synonyms_then_edit_distance() {
        let units = ["per_head", "per_day", "per_hour"];
        assert_eq!(
            did_you_mean("per_person", &units, &[("per_person", "per_head")]),
            Some("per_head")
        );
        assert_eq!(did_you_mean("per_dya", &units, &[]), Some("per_day"));
        assert_eq!(did_you_mean("monthly", &units, &[]), None);
        assert_eq!(distance("kitten", "sitting"), 3);
    }

    #[test]
    fn coordinates_have_ranges() {
        assert_eq!(degrees("-1.29", 90.0, "48.8566"), Ok(Some(-1.29)));
        assert!(
            degrees("95", 90.0, "48.8566")
                .unwrap_err()
                .contains("outside -90..90")
        );
        assert!(
            degrees("north", 90.0, "48.8566")
                .unwrap_err()
                .contains("not a coordinate")
        );
        assert!(degrees("NaN", 90.0, "48.8566").is_err());
    }
}
