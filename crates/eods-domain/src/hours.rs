//! The program's hours on each event day: when doors open, the earliest start and latest end of
//! a session, and the breaks in between, from the brief's structured `hours`, the date-times of
//! its `date_range` and the time rules read from its free text. Pure: no clock, no I/O.
//!
//! Explicit bounds ([`day_bounds`]) are what the organiser asked for; the schedule gate checks
//! them. A planner fills what was left open with its defaults ([`day_plans`]).

use crate::catalog::brief::{ClockTime, EventBrief, ProgramBreak};
use crate::catalog::logistics::Session;
use chrono::{Duration, NaiveDate, NaiveTime};
use serde::Serialize;

/// A time rule read from a free-text constraint (see `crate::constraints`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimeRule {
    /// Sessions only inside this window.
    Window(NaiveTime, NaiveTime),
    /// No session starts earlier.
    NotBefore(NaiveTime),
    /// No session ends later.
    NotAfter(NaiveTime),
    /// Doors open then.
    Doors(NaiveTime),
    /// No session during this break.
    Break(String, NaiveTime, NaiveTime),
}

/// A rule and the text (or field) it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourcedRule {
    pub rule: TimeRule,
    /// Where it came from, e.g. `/constraints/0`.
    pub source: String,
}

/// A break on one day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Break {
    pub label: String,
    pub start: NaiveTime,
    pub end: NaiveTime,
}

/// What the organiser fixed for one day; `None` where nothing was said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DayBounds {
    pub date: NaiveDate,
    pub doors: Option<NaiveTime>,
    /// The earliest a session may start.
    pub start: Option<NaiveTime>,
    /// The latest a session may end.
    pub end: Option<NaiveTime>,
    /// Where the start and the end bound come from.
    pub start_from: Option<String>,
    pub end_from: Option<String>,
    pub breaks: Vec<Break>,
    /// Whether the breaks were given (an empty list then means "no breaks").
    pub breaks_given: bool,
    /// The fields and texts these bounds come from.
    pub sources: Vec<String>,
}

/// The hours a planner schedules in on one day: every bound filled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DayPlan {
    pub date: NaiveDate,
    pub doors: Option<NaiveTime>,
    pub start: NaiveTime,
    pub end: NaiveTime,
    pub breaks: Vec<Break>,
}

/// A planner's defaults for what the organiser left open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Defaults {
    pub start: NaiveTime,
    pub end: NaiveTime,
    /// A lunch break, used on days long enough for one when no breaks were given.
    pub lunch: Option<(NaiveTime, NaiveTime)>,
}

/// Minutes between doors opening and the first session when only the doors are given.
pub const ARRIVAL_MINUTES: i64 = 30;

fn t(c: ClockTime) -> NaiveTime {
    c.0
}

fn brk(b: &ProgramBreak) -> Break {
    Break {
        label: b.label.clone(),
        start: t(b.start),
        end: t(b.end),
    }
}

/// The explicit bounds of every event day, or why the day has no room for a session (named
/// with the sources that disagree).
pub fn day_bounds(b: &EventBrief, rules: &[SourcedRule]) -> Result<Vec<DayBounds>, String> {
    let tz = b.tz();
    let days = b.event_days();
    let (first, last) = (b.first_day(), b.last_day());
    let mut out = Vec::with_capacity(days.len());
    for date in days {
        let over = b.hours.days.iter().find(|d| d.date == date);
        let mut lower: Vec<(NaiveTime, String)> = Vec::new();
        let mut upper: Vec<(NaiveTime, String)> = Vec::new();
        let mut doors: Option<(NaiveTime, String)> = None;
        let mut breaks: Vec<Break> = Vec::new();
        let mut breaks_given = false;
        let mut sources: Vec<String> = Vec::new();

        let start = over.and_then(|o| o.start).map(|s| (s, "/hours/days"));
        let start = start.or(b.hours.start.map(|s| (s, "/hours/start")));
        if let Some((s, src)) = start {
            lower.push((t(s), src.into()));
        }
        let end = over.and_then(|o| o.end).map(|s| (s, "/hours/days"));
        let end = end.or(b.hours.end.map(|s| (s, "/hours/end")));
        if let Some((e, src)) = end {
            upper.push((t(e), src.into()));
        }
        let d = over.and_then(|o| o.doors).map(|s| (s, "/hours/days"));
        if let Some((d, src)) = d.or(b.hours.doors.map(|s| (s, "/hours/doors"))) {
            doors = Some((t(d), src.into()));
        }
        match over.and_then(|o| o.breaks.as_ref()) {
            Some(list) => {
                breaks.extend(list.iter().map(brk));
                breaks_given = true;
                sources.push("/hours/days".into());
            }
            None if !b.hours.breaks.is_empty() => {
                breaks.extend(b.hours.breaks.iter().map(brk));
                breaks_given = true;
                sources.push("/hours/breaks".into());
            }
            None => {}
        }
        if date == first
            && let Some(s) = b.date_range.start.time_in(tz)
        {
            lower.push((s, "/date_range/start".into()));
        }
        if date == last
            && let Some(e) = b.date_range.end.time_in(tz)
            && e > NaiveTime::MIN
        {
            upper.push((e, "/date_range/end".into()));
        }
        for r in rules {
            match &r.rule {
                TimeRule::Window(s, e) => {
                    lower.push((*s, r.source.clone()));
                    upper.push((*e, r.source.clone()));
                }
                TimeRule::NotBefore(s) => lower.push((*s, r.source.clone())),
                TimeRule::NotAfter(e) => upper.push((*e, r.source.clone())),
                TimeRule::Doors(d) => {
                    if doors.is_none() {
                        doors = Some((*d, r.source.clone()));
                    }
                }
                TimeRule::Break(label, s, e) => {
                    // Structured breaks for the day replace the daily ones; a break read from
                    // text still applies unless the day's own list says otherwise.
                    if over.and_then(|o| o.breaks.as_ref()).is_none() {
                        breaks.push(Break {
                            label: label.clone(),
                            start: *s,
                            end: *e,
                        });
                        breaks_given = true;
                        sources.push(r.source.clone());
                    }
                }
            }
        }
        if let Some((d, src)) = &doors {
            lower.push((*d, src.clone()));
        }
        let start = lower.iter().max_by_key(|(s, _)| *s).cloned();
        let end = upper.iter().min_by_key(|(e, _)| *e).cloned();
        if let (Some((s, ss)), Some((e, es))) = (&start, &end)
            && s >= e
        {
            return Err(format!(
                "on {date} no session fits: sessions may start no earlier than {} ({ss}) but must end by {} ({es})",
                s.format("%H:%M"),
                e.format("%H:%M")
            ));
        }
        for (_, src) in lower.iter().chain(upper.iter()) {
            sources.push(src.clone());
        }
        if let Some((_, src)) = &doors {
            sources.push(src.clone());
        }
        sources.sort();
        sources.dedup();
        breaks.sort_by_key(|b| (b.start, b.end));
        breaks.dedup();
        let start_from = start.as_ref().map(|(_, src)| src.clone());
        let end_from = end.as_ref().map(|(_, src)| src.clone());
        out.push(DayBounds {
            start_from,
            end_from,
            date,
            doors: doors.as_ref().map(|(d, _)| *d),
            // The doors are a lower bound, but "doors 18:30" alone does not mean a talk at 18:30.
            // A start stated next to the doors ("doors 9:15, sessions from 09:30") is kept.
            start: start
                .filter(|(s, src)| doors.as_ref().is_none_or(|(d, dsrc)| (s, src) != (d, dsrc)))
                .map(|(s, _)| s)
                .or_else(|| {
                    doors
                        .as_ref()
                        .and_then(|(d, _)| add(*d, ARRIVAL_MINUTES))
                        .filter(|s| end.as_ref().is_none_or(|(e, _)| s < e))
                }),
            end: end.map(|(e, _)| e),
            breaks,
            breaks_given,
            sources,
        });
    }
    Ok(out)
}

fn add(t: NaiveTime, minutes: i64) -> Option<NaiveTime> {
    let (n, wrap) = t.overflowing_add_signed(Duration::minutes(minutes));
    (wrap == 0).then_some(n)
}

/// The hours to schedule in: the explicit bounds, filled with `defaults` where nothing was said.
/// The default lunch applies on days with two hours of program before and after it.
/// A bound given on one side only keeps the default day's length on the other side when the
/// default would leave no room.
pub fn day_plans(bounds: &[DayBounds], defaults: &Defaults) -> Vec<DayPlan> {
    let span = (defaults.end - defaults.start).num_minutes().max(60);
    bounds
        .iter()
        .map(|b| {
            let (start, end) = match (b.start, b.end) {
                (Some(s), Some(e)) => (s, e),
                (Some(s), None) => {
                    let e = if defaults.end > s {
                        defaults.end
                    } else {
                        add(s, span).unwrap_or(NaiveTime::from_hms_opt(23, 59, 0).unwrap_or(s))
                    };
                    (s, e)
                }
                (None, Some(e)) => {
                    let s = if defaults.start < e {
                        defaults.start
                    } else {
                        add(e, -span).unwrap_or(NaiveTime::MIN)
                    };
                    (s, e)
                }
                (None, None) => (defaults.start, defaults.end),
            };
            let breaks = if b.breaks_given {
                b.breaks.clone()
            } else {
                defaults
                    .lunch
                    // Only a day that runs through the middle of the day breaks for lunch
                    // (not an afternoon opening at noon, not an evening).
                    .filter(|(ls, le)| {
                        (*ls - start).num_hours() >= 2 && (end - *le).num_hours() >= 2
                    })
                    .map(|(ls, le)| {
                        vec![Break {
                            label: "Lunch".into(),
                            start: ls,
                            end: le,
                        }]
                    })
                    .unwrap_or_default()
            };
            DayPlan {
                date: b.date,
                doors: b.doors,
                start,
                end,
                breaks,
            }
        })
        .collect()
}

/// The time rules the brief's constraints state (hard, like every constraint), as the constraint
/// recogniser read them (see `crate::constraints`), each with the pointer of its text.
pub fn brief_rules(b: &EventBrief) -> Vec<SourcedRule> {
    use crate::constraints::{TextSource, Understood};
    let mut out = Vec::new();
    for r in crate::constraints::read_brief(b) {
        if r.source != TextSource::Constraint {
            continue;
        }
        for u in &r.understood {
            let rule = match u {
                Understood::SessionWindow { start, end } => TimeRule::Window(*start, *end),
                Understood::NotBefore(t) => TimeRule::NotBefore(*t),
                Understood::NotAfter(t) => TimeRule::NotAfter(*t),
                Understood::Doors(t) => TimeRule::Doors(*t),
                Understood::Break { label, start, end } => {
                    TimeRule::Break(label.clone(), *start, *end)
                }
                _ => continue,
            };
            out.push(SourcedRule {
                rule,
                source: r.pointer.clone(),
            });
        }
    }
    out
}

/// Sessions the free text pins: `(what, time)` such as `("keynote", 10:00)`, each with the
/// pointer of its text.
pub fn brief_fixed_sessions(b: &EventBrief) -> Vec<(String, NaiveTime, String)> {
    use crate::constraints::{TextSource, Understood};
    crate::constraints::read_brief(b)
        .into_iter()
        .filter(|r| r.source == TextSource::Constraint)
        .flat_map(|r| {
            r.understood
                .iter()
                .filter_map(|u| match u {
                    Understood::FixedSession { what, at } => {
                        Some((what.clone(), *at, r.pointer.clone()))
                    }
                    _ => None,
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Every session that lies outside the event's days or the hours the organiser fixed (a window,
/// a break), in words. The checker behind the schedule gate.
pub fn sessions_outside_hours(b: &EventBrief, sessions: &[Session]) -> Vec<String> {
    let tz = b.tz();
    let (first, last) = (b.first_day(), b.last_day());
    let bounds = match day_bounds(b, &brief_rules(b)) {
        Ok(x) => x,
        Err(e) => return vec![e],
    };
    let mut problems = Vec::new();
    for x in sessions {
        let (s, e) = (x.start.with_timezone(&tz), x.end.with_timezone(&tz));
        let day = s.date_naive();
        if day < first || e.date_naive() > last {
            problems.push(format!(
                "session `{}` lies outside the event days {first}..{last}",
                x.id
            ));
            continue;
        }
        let Some(d) = bounds.iter().find(|d| d.date == day) else {
            continue;
        };
        let (st, et) = (s.time(), e.time());
        let spans_midnight = e.date_naive() != day;
        if let Some(lo) = d.start
            && st < lo
        {
            problems.push(format!(
                "session `{}` starts at {} on {day}, before {} ({})",
                x.id,
                st.format("%H:%M"),
                lo.format("%H:%M"),
                d.start_from.as_deref().unwrap_or("/hours/doors")
            ));
        }
        if let Some(hi) = d.end
            && (spans_midnight || et > hi)
        {
            problems.push(format!(
                "session `{}` ends at {} on {day}, after {} ({})",
                x.id,
                et.format("%H:%M"),
                hi.format("%H:%M"),
                d.end_from.as_deref().unwrap_or_default()
            ));
        }
        for br in &d.breaks {
            if st < br.end && (spans_midnight || br.start < et) {
                problems.push(format!(
                    "session `{}` ({}–{}) runs into the break `{}` {}–{} on {day}",
                    x.id,
                    st.format("%H:%M"),
                    et.format("%H:%M"),
                    br.label,
                    br.start.format("%H:%M"),
                    br.end.format("%H:%M")
                ));
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::brief::{BriefTime, DayHours};

    fn brief(json: &str) -> EventBrief {
        let base = serde_json::json!({"title":"T","event_type":"conference",
            "date_range":{"start":"2027-05-20","end":"2027-05-21"},"timezone":"America/Sao_Paulo",
            "audience_size":100,"location":{"city":"São Paulo","country":"BR"},
            "budget":{"total":"10000","currency":"BRL"},
            "stakeholders":[{"name":"A","role":"owner"}]});
        let mut v = base;
        let patch: serde_json::Value = serde_json::from_str(json).unwrap_or_default();
        if let (Some(m), Some(p)) = (v.as_object_mut(), patch.as_object()) {
            for (k, x) in p {
                m.insert(k.clone(), x.clone());
            }
        }
        serde_json::from_value(v).unwrap_or_else(|e| panic!("{e}"))
    }

    fn hm(s: &str) -> NaiveTime {
        NaiveTime::parse_from_str(s, "%H:%M").unwrap_or_else(|e| panic!("{e}"))
    }

    fn rule(r: TimeRule) -> SourcedRule {
        SourcedRule {
            rule: r,
            source: "/constraints/0".into(),
        }
    }

    fn defaults() -> Defaults {
        Defaults {
            start: hm("09:30"),
            end: hm("17:30"),
            lunch: Some((hm("12:30"), hm("13:30"))),
        }
    }

    /// (start, end, breaks) per day, as text.
    fn plans(b: &EventBrief, rules: &[SourcedRule]) -> String {
        match day_bounds(b, rules) {
            Err(e) => e,
            Ok(bounds) => day_plans(&bounds, &defaults())
                .iter()
                .map(|p| {
                    let br: Vec<String> = p
                        .breaks
                        .iter()
                        .map(|b| {
                            format!(
                                "{} {}-{}",
                                b.label,
                                b.start.format("%H:%M"),
                                b.end.format("%H:%M")
                            )
                        })
                        .collect();
                    format!(
                        "{} {}-{} [{}]",
                        p.date,
                        p.start.format("%H:%M"),
                        p.end.format("%H:%M"),
                        br.join(", ")
                    )
                })
                .collect::<Vec<_>>()
                .join("; "),
        }
    }

    #[test]
    fn defaults_when_nothing_is_said() {
        assert_eq!(
            plans(&brief("{}"), &[]),
            "2027-05-20 09:30-17:30 [Lunch 12:30-13:30]; 2027-05-21 09:30-17:30 [Lunch 12:30-13:30]"
        );
    }

    #[test]
    fn date_times_bound_the_first_and_last_day() {
        let b = brief(
            r#"{"date_range":{"start":"2027-05-20T09:00:00-03:00","end":"2027-05-21T16:00:00-03:00"}}"#,
        );
        assert_eq!(
            plans(&b, &[]),
            "2027-05-20 09:00-17:30 [Lunch 12:30-13:30]; 2027-05-21 09:30-16:00 [Lunch 12:30-13:30]"
        );
        // The same instant in UTC lands on the same local hours.
        let z = brief(r#"{"date_range":{"start":"2027-05-20T12:00:00Z","end":"2027-05-21"}}"#);
        assert!(plans(&z, &[]).starts_with("2027-05-20 09:00-17:30"));
        assert_eq!(
            z.date_range.start,
            BriefTime::parse("2027-05-20T12:00:00Z").unwrap_or_else(|e| panic!("{e}"))
        );
    }

    #[test]
    fn structured_hours_days_and_breaks() {
        let mut b = brief(
            r#"{"hours":{"doors":"08:30","start":"09:00","end":"18:00","breaks":[{"label":"Lunch","start":"12:00","end":"13:00"}]}}"#,
        );
        assert_eq!(
            plans(&b, &[]),
            "2027-05-20 09:00-18:00 [Lunch 12:00-13:00]; 2027-05-21 09:00-18:00 [Lunch 12:00-13:00]"
        );
        b.hours.days.push(DayHours {
            date: b.last_day(),
            doors: None,
            start: None,
            end: ClockTime::hm(14, 0),
            breaks: Some(vec![]),
        });
        assert_eq!(
            plans(&b, &[]),
            "2027-05-20 09:00-18:00 [Lunch 12:00-13:00]; 2027-05-21 09:00-14:00 []"
        );
    }

    #[test]
    fn text_rules_narrow_the_window() {
        let b = brief("{}");
        let evening = [rule(TimeRule::Window(hm("19:00"), hm("21:00")))];
        assert_eq!(
            plans(&b, &evening),
            "2027-05-20 19:00-21:00 []; 2027-05-21 19:00-21:00 []"
        );
        let after = [rule(TimeRule::NotBefore(hm("18:00")))];
        assert!(
            plans(&b, &after).starts_with("2027-05-20 18:00-"),
            "{}",
            plans(&b, &after)
        );
        let doors = [rule(TimeRule::Doors(hm("18:30")))];
        assert!(
            plans(&b, &doors).starts_with("2027-05-20 19:00-"),
            "{}",
            plans(&b, &doors)
        );
        // Doors and sessions in one sentence ("doors 9:15, sessions from 09:30 to 17:00"): the
        // stated start is kept, not moved to the doors plus the arrival time.
        let one_sentence = [
            rule(TimeRule::Doors(hm("09:15"))),
            rule(TimeRule::Window(hm("09:30"), hm("17:00"))),
        ];
        assert!(
            plans(&b, &one_sentence).starts_with("2027-05-20 09:30-17:00"),
            "{}",
            plans(&b, &one_sentence)
        );
        let lunch = [rule(TimeRule::Break(
            "Lunch".into(),
            hm("12:00"),
            hm("13:00"),
        ))];
        assert_eq!(
            plans(&b, &lunch),
            "2027-05-20 09:30-17:30 [Lunch 12:00-13:00]; 2027-05-21 09:30-17:30 [Lunch 12:00-13:00]"
        );
    }

    #[test]
    fn contradictions_are_named() {
        let b = brief(r#"{"hours":{"end":"17:00"}}"#);
        let late = [rule(TimeRule::NotBefore(hm("18:00")))];
        let e = plans(&b, &late);
        assert!(
            e.contains("no session fits")
                && e.contains("/hours/end")
                && e.contains("/constraints/0"),
            "{e}"
        );
    }
}
