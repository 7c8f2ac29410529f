//! The program in rooms and times: the frame (event days, each with its own hours and breaks),
//! sessions pinned to a time or held as plenaries, and the first-fit placement of the rest.
//! `timetable` places the rest optimally inside the same frame; both keep every session inside
//! its day's hours, out of the breaks, and away from other sessions of its room and speakers.

use crate::AgentError;
use chrono::{DateTime, Duration, FixedOffset, NaiveDate, NaiveTime, TimeZone};
use eods_domain::catalog::logistics::{Room, Session};
use eods_domain::hours::{Break, DayPlan};
use eods_domain::ids::{ResourceId, SessionId};
use std::collections::BTreeMap;

/// A busy interval.
type Interval = (DateTime<FixedOffset>, DateTime<FixedOffset>);

/// A session to place.
#[derive(Debug, Clone, Default)]
pub struct Item {
    pub title: String,
    pub track: String,
    pub minutes: u32,
    pub speakers: Vec<String>,
    /// A start fixed by the organiser: the day and local time.
    pub fixed: Option<(NaiveDate, NaiveTime)>,
    /// In the largest room, with nothing in parallel.
    pub plenary: bool,
}

/// When sessions may run: each day's hours and breaks in local time, and the gap kept between
/// two sessions in a room.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    pub tz: chrono_tz::Tz,
    pub days: Vec<DayPlan>,
    pub break_minutes: u32,
}

impl Frame {
    /// The same hours on every day, with an optional lunch break.
    pub fn uniform(
        tz: chrono_tz::Tz,
        days: &[NaiveDate],
        start: NaiveTime,
        end: NaiveTime,
        lunch: Option<(NaiveTime, NaiveTime)>,
        break_minutes: u32,
    ) -> Frame {
        let mut days = days.to_vec();
        days.sort();
        days.dedup();
        Frame {
            tz,
            days: days
                .into_iter()
                .map(|date| DayPlan {
                    date,
                    doors: None,
                    start,
                    end,
                    breaks: lunch
                        .map(|(s, e)| {
                            vec![Break {
                                label: "Lunch".into(),
                                start: s,
                                end: e,
                            }]
                        })
                        .unwrap_or_default(),
                })
                .collect(),
            break_minutes,
        }
    }

    /// Local time on a day as an instant; `None` in a time-zone gap.
    pub fn at(&self, day: NaiveDate, t: NaiveTime) -> Option<DateTime<FixedOffset>> {
        self.tz
            .from_local_datetime(&day.and_time(t))
            .earliest()
            .map(|d| d.fixed_offset())
    }
}

/// `t + minutes` on the same day, or `None` past midnight.
pub fn add(t: NaiveTime, minutes: u32) -> Option<NaiveTime> {
    let (e, wrapped) = t.overflowing_add_signed(Duration::minutes(i64::from(minutes)));
    (wrapped == 0 && e >= t).then_some(e)
}

/// A session already in place: item, room, day index, local start and end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placed {
    pub item: usize,
    pub room: usize,
    pub day: usize,
    pub start: NaiveTime,
    pub end: NaiveTime,
}

/// What the pinned and plenary sessions leave: where they are, and the local intervals each
/// room of each day is closed by them or by a break.
#[derive(Debug, Clone, Default)]
pub struct Pinned {
    pub placed: Vec<Placed>,
    /// `(room, day)` → closed local intervals.
    pub closed: BTreeMap<(usize, usize), Vec<(NaiveTime, NaiveTime)>>,
}

impl Pinned {
    /// Whether `[s, e)` in `room` on `day` overlaps nothing closed.
    pub fn open(&self, room: usize, day: usize, s: NaiveTime, e: NaiveTime) -> bool {
        self.closed
            .get(&(room, day))
            .is_none_or(|v| v.iter().all(|(a, z)| e <= *a || *z <= s))
    }

    /// The end of the latest closed interval overlapping `[s, e)`, if any.
    pub fn blocked_until(
        &self,
        room: usize,
        day: usize,
        s: NaiveTime,
        e: NaiveTime,
    ) -> Option<NaiveTime> {
        self.closed
            .get(&(room, day))?
            .iter()
            .filter(|(a, z)| s < *z && *a < e)
            .map(|(_, z)| *z)
            .max()
    }

    fn close(&mut self, room: usize, day: usize, s: NaiveTime, e: NaiveTime) {
        self.closed.entry((room, day)).or_default().push((s, e));
    }
}

fn infeasible(reason: String) -> AgentError {
    AgentError::Infeasible {
        reason,
        alternatives: vec![],
    }
}

/// Places the pinned sessions (a fixed start) and then the plenaries (the earliest time when
/// every room is free), and closes the breaks in every room. Rooms are largest first: a plenary
/// goes to room 0. Fails, naming the session, when a pinned start lies outside its day's hours,
/// in a break, or on top of another pinned session.
pub fn pin(items: &[Item], rooms: &[Room], frame: &Frame) -> Result<Pinned, AgentError> {
    let mut pinned = Pinned::default();
    if rooms.is_empty() {
        return Ok(pinned);
    }
    for (d, plan) in frame.days.iter().enumerate() {
        for br in &plan.breaks {
            for r in 0..rooms.len() {
                pinned.close(r, d, br.start, br.end);
            }
        }
    }
    let tracks = track_rooms(items, rooms.len());
    let mut fixed: Vec<usize> = (0..items.len())
        .filter(|&i| items[i].fixed.is_some())
        .collect();
    fixed.sort_by_key(|&i| items[i].fixed);
    for i in fixed {
        let item = &items[i];
        let Some((date, start)) = item.fixed else {
            continue;
        };
        let Some(d) = frame.days.iter().position(|p| p.date == date) else {
            return Err(infeasible(format!(
                "session `{}` is fixed on {date}, which is not an event day",
                item.title
            )));
        };
        let plan = &frame.days[d];
        let Some(end) = add(start, item.minutes) else {
            return Err(infeasible(format!(
                "session `{}` at {} would end after midnight",
                item.title,
                start.format("%H:%M")
            )));
        };
        if start < plan.start || end > plan.end {
            return Err(infeasible(format!(
                "session `{}` is fixed at {}–{} on {date}, outside the hours {}–{}",
                item.title,
                start.format("%H:%M"),
                end.format("%H:%M"),
                plan.start.format("%H:%M"),
                plan.end.format("%H:%M")
            )));
        }
        let room = if item.plenary {
            0
        } else {
            tracks.get(&item.track).copied().unwrap_or(0)
        };
        let rooms_needed: Vec<usize> = if item.plenary {
            (0..rooms.len()).collect()
        } else {
            vec![room]
        };
        if let Some(r) = rooms_needed
            .iter()
            .find(|&&r| !pinned.open(r, d, start, end))
        {
            return Err(infeasible(format!(
                "session `{}` is fixed at {} on {date}, but {} is closed then (a break or another fixed session)",
                item.title,
                start.format("%H:%M"),
                rooms[*r].name
            )));
        }
        for r in rooms_needed {
            pinned.close(r, d, start, end);
        }
        pinned.placed.push(Placed {
            item: i,
            room,
            day: d,
            start,
            end,
        });
    }
    // Plenaries without a fixed time: the earliest moment when every room is free.
    for (i, item) in items.iter().enumerate() {
        if !item.plenary || item.fixed.is_some() {
            continue;
        }
        let mut found = None;
        'days: for (d, plan) in frame.days.iter().enumerate() {
            let mut t = plan.start;
            while let Some(e) = add(t, item.minutes) {
                if e > plan.end {
                    break;
                }
                let busy = (0..rooms.len())
                    .filter_map(|r| pinned.blocked_until(r, d, t, e))
                    .max();
                match busy {
                    Some(z) if z > t => t = z,
                    Some(_) => break,
                    None => {
                        found = Some((d, t, e));
                        break 'days;
                    }
                }
            }
        }
        let Some((d, start, end)) = found else {
            return Err(infeasible(format!(
                "plenary session `{}` ({} min) fits on no day: no time is free in every room",
                item.title, item.minutes
            )));
        };
        for r in 0..rooms.len() {
            pinned.close(r, d, start, end);
        }
        pinned.placed.push(Placed {
            item: i,
            room: 0,
            day: d,
            start,
            end,
        });
    }
    Ok(pinned)
}

/// Each track's home room: tracks in order of first appearance, round robin over the rooms.
pub fn track_rooms(items: &[Item], rooms: usize) -> BTreeMap<String, usize> {
    let mut tracks: Vec<&str> = Vec::new();
    for i in items {
        if !tracks.contains(&i.track.as_str()) {
            tracks.push(&i.track);
        }
    }
    tracks
        .iter()
        .enumerate()
        .map(|(k, t)| ((*t).to_owned(), k % rooms.max(1)))
        .collect()
}

/// The session record of a placed item.
pub fn session_of(
    n: usize,
    item: &Item,
    rooms: &[Room],
    frame: &Frame,
    p: &Placed,
) -> Result<Session, AgentError> {
    let day = frame.days[p.day].date;
    let (Some(start), Some(end)) = (frame.at(day, p.start), frame.at(day, p.end)) else {
        return Err(infeasible(format!(
            "session `{}` falls in a time-zone gap on {day}",
            item.title
        )));
    };
    Ok(Session {
        id: SessionId::nth(n + 1),
        title: item.title.clone(),
        track: item.track.clone(),
        start,
        end,
        room: rooms[p.room].id.clone(),
        speakers: item.speakers.clone(),
        resources: vec![ResourceId(format!("resource-av-{}", p.room + 1))],
    })
}

/// Places every item in a room and time of `frame`: pinned and plenary sessions first, then the
/// rest track by track (each track prefers its own room), first fit, never double-booking a room
/// or a speaker and never running into a break. Items that fit nowhere make the whole call fail
/// with the first such item named.
pub fn solve(all: &[Item], rooms: &[Room], frame: &Frame) -> Result<Vec<Session>, AgentError> {
    if rooms.is_empty() {
        return Err(infeasible("no room to place sessions in".into()));
    }
    let mut pinned = pin(all, rooms, frame)?;
    let tracks = track_rooms(all, rooms.len());
    let mut speaker_busy: BTreeMap<&str, Vec<Interval>> = BTreeMap::new();
    let mut placed: BTreeMap<usize, Placed> = BTreeMap::new();
    for p in &pinned.placed {
        let day = frame.days[p.day].date;
        if let (Some(s), Some(e)) = (frame.at(day, p.start), frame.at(day, p.end)) {
            for sp in &all[p.item].speakers {
                speaker_busy.entry(sp).or_default().push((s, e));
            }
        }
        placed.insert(p.item, *p);
    }
    // One cursor per room and day: the next free local time.
    let mut cursor: BTreeMap<(usize, usize), NaiveTime> = BTreeMap::new();
    for (n, item) in all.iter().enumerate() {
        if placed.contains_key(&n) {
            continue;
        }
        let home = tracks.get(&item.track).copied().unwrap_or(0);
        let order: Vec<usize> = std::iter::once(home)
            .chain((0..rooms.len()).filter(|r| *r != home))
            .collect();
        let mut found = None;
        'search: for &r in &order {
            for (d, plan) in frame.days.iter().enumerate() {
                let mut t = *cursor.get(&(r, d)).unwrap_or(&plan.start);
                while let Some(e) = add(t, item.minutes) {
                    if e > plan.end {
                        break;
                    }
                    if let Some(z) = pinned.blocked_until(r, d, t, e) {
                        if z <= t {
                            break;
                        }
                        t = z;
                        continue;
                    }
                    let (Some(s_at), Some(e_at)) = (frame.at(plan.date, t), frame.at(plan.date, e))
                    else {
                        break;
                    };
                    let clash = item
                        .speakers
                        .iter()
                        .filter_map(|s| speaker_busy.get(s.as_str()))
                        .flatten()
                        .filter(|(a, z)| *a < e_at && s_at < *z)
                        .map(|(_, z)| *z)
                        .max();
                    match clash {
                        Some(z) => {
                            // A clash ending on another day leaves nothing on this one.
                            let next = z.with_timezone(&frame.tz);
                            if next.date_naive() != plan.date || next.time() <= t {
                                break;
                            }
                            t = next.time();
                        }
                        None => {
                            found = Some(Placed {
                                item: n,
                                room: r,
                                day: d,
                                start: t,
                                end: e,
                            });
                            break 'search;
                        }
                    }
                }
            }
        }
        let Some(p) = found else {
            return Err(infeasible(format!(
                "session `{}` ({} min) does not fit: {} room(s) × {} day(s) are full within the hours {}",
                item.title,
                item.minutes,
                rooms.len(),
                frame.days.len(),
                hours_text(frame)
            )));
        };
        // Time of day wraps at midnight: a cursor that would wrap means the day is full.
        let next = add(p.end, frame.break_minutes).unwrap_or(frame.days[p.day].end);
        cursor.insert((p.room, p.day), next);
        pinned.close(p.room, p.day, p.start, p.end);
        let day = frame.days[p.day].date;
        if let (Some(s), Some(e)) = (frame.at(day, p.start), frame.at(day, p.end)) {
            for sp in &item.speakers {
                speaker_busy.entry(sp).or_default().push((s, e));
            }
        }
        placed.insert(n, p);
    }
    placed
        .values()
        .map(|p| session_of(p.item, &all[p.item], rooms, frame, p))
        .collect()
}

/// The frame's hours in words, e.g. `19:00–21:00 (2027-03-11)`.
pub fn hours_text(frame: &Frame) -> String {
    frame
        .days
        .iter()
        .map(|p| {
            let mut s = format!(
                "{}–{} ({})",
                p.start.format("%H:%M"),
                p.end.format("%H:%M"),
                p.date
            );
            for b in &p.breaks {
                s.push_str(&format!(
                    ", {} {}–{}",
                    b.label.to_lowercase(),
                    b.start.format("%H:%M"),
                    b.end.format("%H:%M")
                ));
            }
            s
        })
        .collect::<Vec<_>>()
        .join("; ")
}
