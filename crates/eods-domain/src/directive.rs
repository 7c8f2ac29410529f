//! Directives: what an approver's rejection asks of the agent that revises, typed. The engine
//! stores one with every rejection or change request and folds them into what the agents read;
//! this module owns their stored shape and the reading of a budget cap from a free-text comment
//! ("cap at 1500", "max 1,500 EUR", "no more than 1.500 €"). Pure: no I/O.

use crate::ids::CandidateId;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// What a rejection or change request asks the owning agent to do when it revises. Stored as
/// JSON with one key (`{"budget_cap": "1500"}`), the shape earlier versions wrote, so stored
/// decisions stay readable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Directive {
    /// Venue selection: drop this candidate (none when there was no selection).
    ExcludeCandidate(Option<CandidateId>),
    /// Budget decision: the revised total must not exceed this amount, in the event's currency.
    BudgetCap(Option<Decimal>),
    /// Vendor contracts: replace this supplier (none when no supplier could be replaced).
    ExcludeSupplier(Option<String>),
}

/// What a comment says about a budget cap.
#[derive(Debug, Clone, PartialEq)]
pub enum CapReading {
    /// One amount is the cap; `currency` when the comment names one (`EUR`, `€`, `euros`).
    Cap {
        amount: Decimal,
        currency: Option<String>,
    },
    /// The comment names no amount.
    NoAmount,
    /// Several amounts and nothing saying which one is the cap.
    Ambiguous(Vec<Decimal>),
}

/// Words that make the amount next to them the cap: before it ("cap at 1500", "no more than
/// 1500", "under 1500") or after it ("1500 max", "1500 at most").
const BEFORE: [&str; 16] = [
    "cap",
    "capped",
    "max",
    "maximum",
    "at most",
    "more than",
    "under",
    "below",
    "within",
    "limit",
    "up to",
    "budget",
    "ceiling",
    "less than",
    "lower to",
    "reduce to",
];
const AFTER: [&str; 5] = ["max", "maximum", "at most", "tops", "or less"];

/// One amount found in a comment.
#[derive(Debug, Clone, PartialEq)]
struct Found {
    amount: Decimal,
    currency: Option<String>,
    /// Byte range of the number (with its currency) in the lower-cased comment.
    start: usize,
    end: usize,
}

/// Reads the budget cap an approver wrote in a rejection comment. Thousands separators are
/// understood in either convention (`1,500`, `1.500`, `1 500`, `1'500`; a single separator
/// followed by exactly three digits groups thousands, otherwise it is the decimal point), as is a
/// `k` suffix (`1.5k`). Percentages are not amounts. When several amounts appear, the one next
/// to a cap word ("cap", "max", "under", "no more than", …) is the cap; otherwise the reading is
/// ambiguous and says which amounts it saw.
pub fn parse_cap(comment: &str) -> CapReading {
    let lower = comment.to_lowercase();
    let found = amounts(&lower);
    if found.is_empty() {
        return CapReading::NoAmount;
    }
    let marked: Vec<&Found> = found
        .iter()
        .filter(|f| marked_before(&lower[..f.start]) || marked_after(&lower[f.end..]))
        .collect();
    let pick = match (marked.as_slice(), found.as_slice()) {
        ([one], _) => Some(*one),
        ([], [one]) => Some(one),
        _ => None,
    };
    match pick {
        Some(f) => CapReading::Cap {
            amount: f.amount,
            currency: f.currency.clone(),
        },
        None => CapReading::Ambiguous(found.iter().map(|f| f.amount).collect()),
    }
}

/// A cap word ends the text before the number (ignoring spaces and a currency sign).
fn marked_before(before: &str) -> bool {
    let t = before
        .trim_end()
        .trim_end_matches(['€', '£', '$', ':', '='])
        .trim_end();
    let t = ["eur", "gbp", "usd"]
        .iter()
        .find_map(|c| t.strip_suffix(c))
        .unwrap_or(t)
        .trim_end();
    let t = t.strip_suffix(" at").unwrap_or(t).trim_end();
    let t = t.strip_suffix(" of").unwrap_or(t).trim_end();
    let t = t.strip_suffix(" to").unwrap_or(t).trim_end();
    BEFORE.iter().any(|w| {
        t.strip_suffix(w)
            .is_some_and(|rest| rest.is_empty() || !rest.ends_with(char::is_alphanumeric))
    })
}

/// A cap word starts the text after the number.
fn marked_after(after: &str) -> bool {
    let t = after.trim_start();
    AFTER.iter().any(|w| {
        t.strip_prefix(w)
            .is_some_and(|rest| !rest.starts_with(char::is_alphanumeric))
    })
}

/// Every amount in `s` (lower case), with the currency written next to it.
fn amounts(s: &str) -> Vec<Found> {
    let chars: Vec<(usize, char)> = s.char_indices().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let (start, c) = chars[i];
        // A number starts at a digit not glued to a word ("v2", "q3").
        if !c.is_ascii_digit() {
            i += 1;
            continue;
        }
        if i > 0 && chars[i - 1].1.is_alphabetic() {
            while i < chars.len() && chars[i].1.is_ascii_digit() {
                i += 1;
            }
            continue;
        }
        let (groups, seps, next) = scan_number(&chars, i);
        i = next;
        let end = chars.get(next).map_or(s.len(), |(b, _)| *b);
        let Some(mut amount) = interpret(&groups, &seps) else {
            continue;
        };
        let rest = &s[end..];
        // Percentages are not amounts.
        if rest.trim_start().starts_with('%') || rest.trim_start().starts_with("percent") {
            continue;
        }
        let mut end = end;
        let r = rest.trim_start();
        if let Some(after_k) = r.strip_prefix('k')
            && !after_k.starts_with(char::is_alphanumeric)
        {
            amount *= Decimal::from(1000);
            end = s.len() - after_k.len();
        }
        let currency = currency_after(&s[end..]).or_else(|| currency_before(&s[..start]));
        if amount > Decimal::ZERO {
            out.push(Found {
                amount,
                currency,
                start,
                end,
            });
        }
        // Skip to the end of what was read.
        while i < chars.len() && chars[i].0 < end {
            i += 1;
        }
    }
    out
}

/// Reads digit groups and the separators between them, from `chars[i]` (a digit). A space or an
/// apostrophe separates groups only before exactly three digits; a comma or a dot before any
/// digit.
fn scan_number(chars: &[(usize, char)], mut i: usize) -> (Vec<String>, Vec<char>, usize) {
    let mut groups = vec![String::new()];
    let mut seps = Vec::new();
    while i < chars.len() {
        let c = chars[i].1;
        if c.is_ascii_digit() {
            if let Some(g) = groups.last_mut() {
                g.push(c);
            }
            i += 1;
            continue;
        }
        let digits_after = chars[i + 1..]
            .iter()
            .take_while(|(_, d)| d.is_ascii_digit())
            .count();
        let accepted = match c {
            ',' | '.' => digits_after > 0,
            ' ' | '\u{a0}' | '\u{202f}' | '\'' | '’' => digits_after == 3,
            _ => false,
        };
        if !accepted {
            break;
        }
        seps.push(c);
        groups.push(String::new());
        i += 1;
    }
    (groups, seps, i)
}

/// The value of digit groups joined by separators, or none when they make no number.
fn interpret(groups: &[String], seps: &[char]) -> Option<Decimal> {
    let is_point = |c: char| c == ',' || c == '.';
    // The decimal separator: the last comma or dot when both kinds appear, or a single comma or
    // dot not followed by exactly three digits.
    let decimal_at = match seps.iter().rposition(|c| is_point(*c)) {
        Some(last) => {
            let kinds: Vec<char> = seps.iter().copied().filter(|c| is_point(*c)).collect();
            let mixed = kinds.iter().any(|c| *c != kinds[0]);
            let single = kinds.len() == 1;
            if mixed || (single && groups[last + 1].len() != 3) {
                Some(last)
            } else {
                None
            }
        }
        None => None,
    };
    let mut text = String::new();
    for (k, g) in groups.iter().enumerate() {
        if k > 0 {
            if Some(k - 1) == decimal_at {
                text.push('.');
            } else if groups[k].len() != 3 && seps[k - 1] != ',' {
                // Grouped thousands have three digits.
                return None;
            }
        }
        text.push_str(g);
    }
    text.parse::<Decimal>().ok()
}

fn currency_after(s: &str) -> Option<String> {
    let t = s.trim_start();
    let word: String = t.chars().take_while(|c| c.is_alphabetic()).collect();
    match t.chars().next() {
        Some('€') => return Some("EUR".into()),
        Some('£') => return Some("GBP".into()),
        Some('$') => return Some("USD".into()),
        _ => {}
    }
    match word.as_str() {
        "euro" | "euros" => Some("EUR".into()),
        "pounds" => Some("GBP".into()),
        "dollars" => Some("USD".into()),
        w if w.len() == 3 && KNOWN.contains(&w) => Some(w.to_uppercase()),
        _ => None,
    }
}

fn currency_before(s: &str) -> Option<String> {
    let t = s.trim_end();
    match t.chars().last() {
        Some('€') => return Some("EUR".into()),
        Some('£') => return Some("GBP".into()),
        Some('$') => return Some("USD".into()),
        _ => {}
    }
    let word: String = t
        .chars()
        .rev()
        .take_while(|c| c.is_alphabetic())
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    (word.len() == 3 && KNOWN.contains(&word.as_str())).then(|| word.to_uppercase())
}

/// Currency codes recognised next to an amount in a comment (lower case). A three-letter word
/// that is not listed ("max", "cap") is never taken for a currency.
const KNOWN: [&str; 30] = [
    "eur", "usd", "gbp", "chf", "jpy", "cny", "inr", "brl", "kes", "zar", "aud", "cad", "nzd",
    "sek", "nok", "dkk", "pln", "czk", "huf", "ron", "bgn", "try", "mxn", "sgd", "hkd", "krw",
    "ils", "thb", "idr", "php",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn check(comment: &str, expect: CapReading) {
        assert_eq!(parse_cap(comment), expect, "comment: {comment:?}");
    }

    fn cap(amount: &str, currency: Option<&str>) -> CapReading {
        CapReading::Cap {
            amount: amount.parse().unwrap(),
            currency: currency.map(str::to_owned),
        }
    }

    #[test]
    fn caps_as_approvers_write_them() {
        let cases: &[(&str, CapReading)] = &[
            ("cap at 1500", cap("1500", None)),
            ("1500", cap("1500", None)),
            ("max 1,500 EUR", cap("1500", Some("EUR"))),
            ("no more than 1.500 €", cap("1500", Some("EUR"))),
            ("under 1500 EUR", cap("1500", Some("EUR"))),
            ("Cap at €1,200.50 please", cap("1200.50", Some("EUR"))),
            ("1.200,50 €", cap("1200.50", Some("EUR"))),
            ("at most 1 500 euros", cap("1500", Some("EUR"))),
            ("budget 2k", cap("2000", None)),
            ("1.5k max", cap("1500", None)),
            ("keep it within 12'000 CHF", cap("12000", Some("CHF"))),
            ("1500.5", cap("1500.5", None)),
            ("1500,50", cap("1500.50", None)),
            ("£900 tops", cap("900", Some("GBP"))),
            ("cap at 1500 USD", cap("1500", Some("USD"))),
            ("1,250,000", cap("1250000", None)),
            ("drop the 2 optional items, 1500 max", cap("1500", None)),
            ("we are 3 organisers, cap at 450", cap("450", None)),
            ("too expensive", CapReading::NoAmount),
            ("cut 10%", CapReading::NoAmount),
            ("cut 10 percent", CapReading::NoAmount),
            ("v2 of the plan", CapReading::NoAmount),
            ("0", CapReading::NoAmount),
            (
                "between 1200 and 1500",
                CapReading::Ambiguous(vec![1200.into(), 1500.into()]),
            ),
            (
                "cap at 1500 or max 1400",
                CapReading::Ambiguous(vec![1500.into(), 1400.into()]),
            ),
        ];
        for (comment, expect) in cases {
            check(comment, expect.clone());
        }
    }

    #[test]
    fn directives_keep_the_stored_shape() {
        let d: Directive = serde_json::from_str(r#"{"budget_cap":"1500"}"#).unwrap();
        assert_eq!(d, Directive::BudgetCap(Some(1500.into())));
        let d: Directive = serde_json::from_str(r#"{"budget_cap":null}"#).unwrap();
        assert_eq!(d, Directive::BudgetCap(None));
        let d: Directive = serde_json::from_str(r#"{"exclude_candidate":"c2"}"#).unwrap();
        assert_eq!(
            d,
            Directive::ExcludeCandidate(Some(CandidateId("c2".into())))
        );
        let d: Directive = serde_json::from_str(r#"{"exclude_supplier":null}"#).unwrap();
        assert_eq!(d, Directive::ExcludeSupplier(None));
        assert_eq!(
            serde_json::to_value(Directive::BudgetCap(Some(1500.into()))).unwrap(),
            serde_json::json!({"budget_cap": "1500"})
        );
    }
}
