//! Scanning a text: normalising it, splitting it into clauses, finding the times of day in it
//! and matching whole words.

use chrono::NaiveTime;

/// Lower case, with typographic dashes and apostrophes made plain.
pub(super) fn normalise(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '–' | '—' | '‒' | '−' => '-',
            '’' | '‘' => '\'',
            c => c,
        })
        .collect::<String>()
        .to_lowercase()
}

/// Clauses: split at `,`, `;`, a colon followed by a space, and new lines.
pub(super) fn clauses(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let bytes = s.as_bytes();
    for (i, c) in s.char_indices() {
        let split = match c {
            ',' | ';' | '\n' => true,
            ':' => bytes.get(i + 1).is_none_or(|b| *b == b' '),
            _ => false,
        };
        if split {
            out.push(&s[start..i]);
            start = i + 1;
        }
    }
    out.push(&s[start..]);
    out
}

#[derive(Debug, Clone, Copy)]
pub(super) struct TimeAt {
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) time: NaiveTime,
}

/// Every time of day in `s`: `19:00`, `19.00`, `19h`, `19h30`, `7pm`, `7:30 pm`, `7 p.m.`,
/// `noon`. A bare number before a range joiner takes the am/pm of the time after it
/// (`7-9pm`).
pub(super) fn scan_times(s: &str) -> Vec<TimeAt> {
    let b = s.as_bytes();
    let mut out: Vec<TimeAt> = Vec::new();
    // Bare hours (1–12) that may take the suffix of the next time: (start, end, hour).
    let mut bare: Vec<(usize, usize, u32)> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if word_at(s, i, "noon") {
            if let Some(t) = NaiveTime::from_hms_opt(12, 0, 0) {
                out.push(TimeAt {
                    start: i,
                    end: i + 4,
                    time: t,
                });
            }
            i += 4;
            continue;
        }
        if !b[i].is_ascii_digit() || (i > 0 && (b[i - 1].is_ascii_alphanumeric())) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        // A number glued to a decimal point, a slash or a date's dash is not a time; a dash
        // right after a time is a range joiner (`18:00-20:30`).
        if start > 0 {
            let glued = match b[start - 1] {
                b'.' | b'/' | b'+' => true,
                b'-' => {
                    start >= 2
                        && b[start - 2].is_ascii_digit()
                        && last_end(&out, &bare) != Some(start - 1)
                }
                _ => false,
            };
            if glued {
                continue;
            }
        }
        let Ok(hour) = s[start..i].parse::<u32>() else {
            continue;
        };
        let digits = i - start;
        let mut minute = 0;
        let mut end = i;
        let mut explicit = false;
        // `:MM`, `.MM` or `hMM` / `h`.
        if i < b.len()
            && (b[i] == b':' || b[i] == b'.')
            && b.get(i + 1).is_some_and(u8::is_ascii_digit)
            && b.get(i + 2).is_some_and(u8::is_ascii_digit)
            && !b.get(i + 3).is_some_and(u8::is_ascii_digit)
        {
            minute = s[i + 1..i + 3].parse().unwrap_or(99);
            end = i + 3;
            explicit = true;
        } else if i < b.len() && b[i] == b'h' {
            if b.get(i + 1).is_some_and(u8::is_ascii_digit)
                && b.get(i + 2).is_some_and(u8::is_ascii_digit)
                && !b.get(i + 3).is_some_and(u8::is_ascii_alphanumeric)
            {
                minute = s[i + 1..i + 3].parse().unwrap_or(99);
                end = i + 3;
                explicit = true;
            } else if !b.get(i + 1).is_some_and(u8::is_ascii_alphanumeric) {
                end = i + 1;
                explicit = true;
            }
        }
        if digits > 2 {
            i = end.max(i);
            continue;
        }
        // am / pm, with an optional space and optional dots.
        let (suffix, after) = ampm(s, end);
        let hour = match suffix {
            Some(pm) => {
                if !(1..=12).contains(&hour) {
                    i = after;
                    continue;
                }
                end = after;
                explicit = true;
                match (pm, hour) {
                    (false, 12) => 0,
                    (false, h) => h,
                    (true, 12) => 12,
                    (true, h) => h + 12,
                }
            }
            None => hour,
        };
        if !explicit {
            if (1..=12).contains(&hour) {
                bare.push((start, end, hour));
            }
            i = end;
            continue;
        }
        if let Some(t) = NaiveTime::from_hms_opt(hour, minute, 0) {
            out.push(TimeAt {
                start,
                end,
                time: t,
            });
        }
        i = end.max(start + 1);
    }
    // `7-9pm`: a bare hour joined by a range joiner to a pm/am time takes its half of the day.
    for (start, end, hour) in bare {
        if let Some(next) = out.iter().find(|t| t.start > end)
            && is_range_joiner(&s[end..next.start])
            && let Some(h) = inherit_half(hour, &s[next.start..next.end], next.time)
            && let Some(t) = NaiveTime::from_hms_opt(h, 0, 0)
        {
            out.push(TimeAt {
                start,
                end,
                time: t,
            });
        }
    }
    out.sort_by_key(|t| t.start);
    out
}

pub(super) fn last_end(out: &[TimeAt], bare: &[(usize, usize, u32)]) -> Option<usize> {
    out.iter()
        .map(|t| t.end)
        .chain(bare.iter().map(|b| b.1))
        .max()
}

/// The hour of a bare number before a suffixed time (`7` before `9pm` is 19:00).
pub(super) fn inherit_half(hour: u32, next_text: &str, next: NaiveTime) -> Option<u32> {
    use chrono::Timelike;
    let has_suffix = next_text.contains('m');
    if !has_suffix {
        return None;
    }
    let pm = next.hour() >= 12;
    let h = match (pm, hour) {
        (false, 12) => 0,
        (false, h) => h,
        (true, 12) => 12,
        (true, h) => h + 12,
    };
    // A morning start before an afternoon end (`10-2pm`) is read as written: 10:00.
    if pm && h > next.hour() && hour < 12 {
        Some(hour)
    } else {
        Some(h)
    }
}

/// Reads `am`/`pm` (also `a.m.`, `p.m.`, with one optional space) at `i`: (Some(is_pm), end).
pub(super) fn ampm(s: &str, i: usize) -> (Option<bool>, usize) {
    let rest = &s[i..];
    let (skip, rest) = match rest.strip_prefix(' ') {
        Some(r) => (1, r),
        None => (0, rest),
    };
    for (form, pm) in [("a.m.", false), ("p.m.", true), ("am", false), ("pm", true)] {
        if let Some(after) = rest.strip_prefix(form)
            && !after.chars().next().is_some_and(char::is_alphanumeric)
        {
            return (Some(pm), i + skip + form.len());
        }
    }
    (None, i)
}

pub(super) fn is_range_joiner(between: &str) -> bool {
    let t = between.trim();
    matches!(
        t,
        "-" | "to" | "until" | "till" | "til" | "and" | "through" | "-to" | "- to"
    )
}

/// `word` at byte `i` of `s`, with word boundaries on both sides.
pub(super) fn word_at(s: &str, i: usize, word: &str) -> bool {
    let b = s.as_bytes();
    s.get(i..).is_some_and(|r| r.starts_with(word))
        && (i == 0 || !b[i - 1].is_ascii_alphanumeric())
        && !b.get(i + word.len()).is_some_and(u8::is_ascii_alphanumeric)
}

/// Whether `phrase` occurs in `s` as whole words.
pub(super) fn has(s: &str, phrase: &str) -> bool {
    s.match_indices(phrase).any(|(i, _)| word_at(s, i, phrase))
}

pub(super) fn has_any(s: &str, phrases: &[&str]) -> bool {
    phrases.iter().any(|p| has(s, p))
}
