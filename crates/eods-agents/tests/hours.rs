//! The program stays inside the hours the organiser gave: structured daily hours and breaks,
//! date-time ends of the date range, pinned and plenary sessions, days on which the clocks
//! change. Checked independently of the scheduler (from the brief and the schedule alone), at
//! each level (first fit at Beginner, the exact solver from Intermediate).

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use chrono::{NaiveTime, Timelike};
use eods_agents::Step;
use eods_domain::catalog::brief::EventBrief;
use eods_domain::catalog::logistics::Schedule;
use eods_domain::hours::sessions_outside_hours;
use eods_domain::instruction::Level;
use serde_json::json;

mod common;

/// S-02 with the given fields replaced.
fn s02_with(patch: serde_json::Value) -> EventBrief {
    let mut v = serde_json::to_value(common::example("s02-conference.json")).unwrap();
    for (k, x) in patch.as_object().unwrap() {
        v[k] = x.clone();
    }
    eods_domain::intake::brief_from_value(v).unwrap()
}

fn schedule(b: &EventBrief, level: Level) -> Result<Schedule, eods_agents::AgentError> {
    let bb = common::plan_at(b.clone(), level, &Step::ALL[..6])?;
    Ok(bb.get::<Schedule>().unwrap().clone())
}

fn local(b: &EventBrief, t: chrono::DateTime<chrono::FixedOffset>) -> NaiveTime {
    t.with_timezone(&b.tz()).time()
}

fn hm(s: &str) -> NaiveTime {
    NaiveTime::parse_from_str(s, "%H:%M").unwrap()
}

/// Every session inside 10:00–16:00, none in the lunch 12:00–13:00, at every level.
#[test]
fn structured_hours_and_breaks_hold_at_every_level() {
    let b = s02_with(json!({
        "hours": {"start": "10:00", "end": "16:30",
                  "breaks": [{"label": "Lunch", "start": "12:00", "end": "13:00"}]}
    }));
    for level in [Level::Beginner, Level::Intermediate, Level::Advanced] {
        let s = schedule(&b, level).unwrap();
        assert_eq!(s.sessions.len(), 24, "{level}");
        assert_eq!(
            sessions_outside_hours(&b, &s.sessions),
            Vec::<String>::new(),
            "{level}"
        );
        for x in &s.sessions {
            let (st, et) = (local(&b, x.start), local(&b, x.end));
            assert!(
                st >= hm("10:00") && et <= hm("16:30"),
                "{level}: {} {st}-{et}",
                x.title
            );
            assert!(
                et <= hm("12:00") || st >= hm("13:00"),
                "{level}: {} in lunch",
                x.title
            );
        }
    }
}

/// A keynote pinned at 10:00 as a plenary: at 10:00 on the first day in the largest room, with
/// nothing in parallel; the rest of the program still fits.
#[test]
fn a_pinned_plenary_keynote_runs_alone() {
    let mut v = serde_json::to_value(common::example("s02-conference.json")).unwrap();
    v["program"][0]["start"] = json!("10:00");
    v["program"][0]["plenary"] = json!(true);
    let b = eods_domain::intake::brief_from_value(v).unwrap();
    for level in [Level::Beginner, Level::Intermediate] {
        let s = schedule(&b, level).unwrap();
        let keynote = s
            .sessions
            .iter()
            .find(|x| x.title == b.program[0].title)
            .unwrap();
        assert_eq!(local(&b, keynote.start), hm("10:00"), "{level}");
        assert_eq!(
            keynote.start.with_timezone(&b.tz()).date_naive(),
            b.first_day()
        );
        let largest = s.rooms.iter().max_by_key(|r| r.capacity).unwrap();
        assert_eq!(keynote.room, largest.id, "{level}");
        let parallel: Vec<&str> = s
            .sessions
            .iter()
            .filter(|x| x.id != keynote.id && x.start < keynote.end && keynote.start < x.end)
            .map(|x| x.title.as_str())
            .collect();
        assert!(
            parallel.is_empty(),
            "{level}: in parallel with the keynote: {parallel:?}"
        );
        assert!(sessions_outside_hours(&b, &s.sessions).is_empty());
    }
}

/// Date-times in the date range bound the first and the last day.
#[test]
fn a_date_time_range_is_the_event_window() {
    let b = s02_with(json!({
        "date_range": {"start": "2027-06-09T13:00:00+02:00", "end": "2027-06-10T15:00:00+02:00"}
    }));
    let s = schedule(&b, Level::Intermediate).unwrap();
    assert_eq!(s.sessions.len(), 24);
    for x in &s.sessions {
        let day = x.start.with_timezone(&b.tz()).date_naive();
        if day == b.first_day() {
            assert!(
                local(&b, x.start) >= hm("13:00"),
                "{} at {}",
                x.title,
                x.start
            );
        } else {
            assert!(
                local(&b, x.end) <= hm("15:00"),
                "{} until {}",
                x.title,
                x.end
            );
        }
    }
    assert!(sessions_outside_hours(&b, &s.sessions).is_empty());
}

/// Europe/Berlin moves its clocks on 2027-03-28: sessions keep their local hours on both days,
/// and their offsets differ.
#[test]
fn local_hours_hold_across_a_clock_change() {
    let six: Vec<serde_json::Value> =
        serde_json::to_value(&common::example("s02-conference.json").program)
            .unwrap()
            .as_array()
            .unwrap()[..6]
            .to_vec();
    let b = s02_with(json!({
        "date_range": {"start": "2027-03-27", "end": "2027-03-28"},
        "timezone": "Europe/Berlin",
        "location": {"city": "Berlin", "country": "DE"},
        "hours": {"start": "09:00", "end": "10:00"},
        "program": six
    }));
    let s = schedule(&b, Level::Beginner).unwrap();
    let offsets: std::collections::BTreeSet<i32> = s
        .sessions
        .iter()
        .map(|x| x.start.offset().local_minus_utc() / 3600)
        .collect();
    assert_eq!(
        offsets,
        [1, 2].into_iter().collect(),
        "CET on day 1, CEST on day 2"
    );
    let firsts: Vec<u32> = [b.first_day(), b.last_day()]
        .iter()
        .map(|d| {
            s.sessions
                .iter()
                .filter(|x| x.start.with_timezone(&b.tz()).date_naive() == *d)
                .map(|x| local(&b, x.start).hour())
                .min()
                .unwrap()
        })
        .collect();
    assert_eq!(
        firsts,
        vec![9, 9],
        "the first session at 09:00 local on both days"
    );
    assert!(sessions_outside_hours(&b, &s.sessions).is_empty());
}

/// A window too short for the program is refused, naming a session and the hours.
#[test]
fn a_program_that_does_not_fit_the_hours_is_refused() {
    let b = s02_with(json!({"hours": {"start": "10:00", "end": "11:00"}}));
    let e = schedule(&b, Level::Beginner).unwrap_err().to_string();
    assert!(
        e.contains("does not fit") && e.contains("10:00–11:00"),
        "{e}"
    );
}

/// The gate's checker finds a session moved out of the hours (it is not the scheduler checking
/// itself).
#[test]
fn the_checker_finds_sessions_outside_the_hours() {
    let b = s02_with(json!({"hours": {"start": "10:00", "end": "16:00"}}));
    let mut s = schedule(&b, Level::Beginner).unwrap();
    s.sessions[0].start -= chrono::Duration::hours(2);
    let problems = sessions_outside_hours(&b, &s.sessions);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].contains("before 10:00 (/hours/start)"),
        "{problems:?}"
    );
}
