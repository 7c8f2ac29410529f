//! The Logistics Coordinator's optimal scheduler: the program's sessions on a grid of room-time
//! slots, placed by the exact solver of `eods-solver` (assignment + branch and bound on speaker
//! conflicts) at the least cost, with the cost's proven lower bound.
//!
//! The cost of a session in a slot adds up, in this order of weight: people without a seat
//! (expected audience over the room's capacity, when `capacity_fit`), a session away from its
//! track's room (track cohesion), and the slot's position in the event (compact, early days).

use crate::AgentError;
use crate::logistics::{Frame, Item};
use chrono::{Duration, NaiveTime, TimeZone};
use eods_domain::catalog::logistics::{Room, ScheduleOptimisation, Session};
use eods_domain::ids::{ResourceId, SessionId};
use eods_solver::{Limits, Problem, Slot};
use std::collections::BTreeMap;

/// Cost of one session outside its track's room.
const AWAY_FROM_TRACK_ROOM: i64 = 60;
/// Cost per expected attendee without a seat.
const PER_PERSON_WITHOUT_SEAT: i64 = 4;

/// What the optimiser needs beyond the items, rooms and frame.
#[derive(Debug, Clone, Copy)]
pub struct Weights {
    /// Expected audience of one session (0 = not weighed).
    pub demand: u32,
    pub capacity_fit: bool,
    pub node_limit: u64,
}

/// One room-time slot of the grid.
struct GridSlot {
    room: usize,
    day: usize,
    /// Position among the room's slots of that day.
    index: usize,
    start: NaiveTime,
}

/// Places every item in the grid at the least cost. `Ok(None)` when the grid has fewer slots
/// than there are sessions (the caller packs first-fit instead).
pub fn optimise(
    items: &[Item],
    rooms: &[Room],
    frame: &Frame,
    w: Weights,
) -> Result<Option<(Vec<Session>, ScheduleOptimisation)>, AgentError> {
    if items.is_empty() || rooms.is_empty() {
        return Ok(None);
    }
    // One slot length for the grid: the longest session, to whole 5 minutes.
    let length = items
        .iter()
        .map(|i| i.minutes)
        .max()
        .unwrap_or(45)
        .div_ceil(5)
        * 5;
    let mut days = frame.days.clone();
    days.sort();
    days.dedup();
    let mut grid = Vec::new();
    for (d, _) in days.iter().enumerate() {
        for r in 0..rooms.len() {
            let mut t = frame.start;
            let mut index = 0;
            while let Some(e) = add(t, length) {
                if let Some((ls, le)) = frame.lunch
                    && t < le
                    && e > ls
                {
                    t = le;
                    continue;
                }
                if e > frame.end {
                    break;
                }
                grid.push(GridSlot {
                    room: r,
                    day: d,
                    index,
                    start: t,
                });
                index += 1;
                let Some(next) = add(e, frame.break_minutes) else {
                    break;
                };
                t = next;
            }
        }
    }
    if grid.len() < items.len() {
        return Ok(None);
    }
    let per_day = grid.iter().map(|g| g.index + 1).max().unwrap_or(1) as i64;
    let to_minutes = |g: &GridSlot| {
        g.day as i64 * 24 * 60
            + i64::from(g.start.signed_duration_since(NaiveTime::MIN).num_minutes() as i32)
    };
    let problem = Problem {
        slots: grid
            .iter()
            .map(|g| Slot {
                room: g.room,
                start: to_minutes(g),
                duration: length,
            })
            .collect(),
        sessions: items
            .iter()
            .map(|i| eods_solver::Session {
                duration: i.minutes,
                unavailable: vec![],
            })
            .collect(),
        conflicts: speaker_conflicts(items),
    };
    // Tracks with the most sessions get the largest rooms.
    let mut count: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for (i, item) in items.iter().enumerate() {
        let e = count.entry(item.track.as_str()).or_insert((0, i));
        e.0 += 1;
    }
    let mut tracks: Vec<(&str, usize, usize)> =
        count.into_iter().map(|(t, (n, f))| (t, n, f)).collect();
    tracks.sort_by(|a, b| b.1.cmp(&a.1).then(a.2.cmp(&b.2)));
    let home: BTreeMap<&str, usize> = tracks
        .iter()
        .enumerate()
        .map(|(k, (t, _, _))| (*t, k % rooms.len()))
        .collect();
    let cost = |e: usize, s: usize| -> i64 {
        let g = &grid[s];
        let mut c = g.day as i64 * per_day + g.index as i64;
        if home.get(items[e].track.as_str()) != Some(&g.room) {
            c += AWAY_FROM_TRACK_ROOM;
        }
        if w.capacity_fit {
            let short = i64::from(w.demand) - i64::from(rooms[g.room].capacity);
            c += short.max(0) * PER_PERSON_WITHOUT_SEAT;
        }
        c
    };
    let limits = Limits {
        max_nodes: w.node_limit.max(1),
    };
    let solution = match eods_solver::solve(&problem, &cost, &limits) {
        Ok(s) => s,
        Err(eods_solver::SolveError::Conflicts { .. }) => return Ok(None),
        Err(e) => {
            return Err(AgentError::Infeasible {
                reason: format!("the schedule cannot be built: {e}"),
                alternatives: vec![],
            });
        }
    };
    let mut sessions = Vec::with_capacity(items.len());
    for (n, (item, &s)) in items.iter().zip(&solution.assignment).enumerate() {
        let g = &grid[s];
        let day = days[g.day];
        let at = |t: NaiveTime| {
            frame
                .tz
                .from_local_datetime(&day.and_time(t))
                .earliest()
                .map(|d| d.fixed_offset())
        };
        let (Some(start), Some(end)) = (at(g.start), add(g.start, item.minutes).and_then(at))
        else {
            return Err(AgentError::Infeasible {
                reason: format!("session `{}` falls in a time-zone gap on {day}", item.title),
                alternatives: vec![],
            });
        };
        sessions.push(Session {
            id: SessionId::nth(n + 1),
            title: item.title.clone(),
            track: item.track.clone(),
            start,
            end,
            room: rooms[g.room].id.clone(),
            speakers: item.speakers.clone(),
            resources: vec![ResourceId(format!("resource-av-{}", g.room + 1))],
        });
    }
    let report = ScheduleOptimisation {
        method: format!(
            "exact timetabling (assignment + branch and bound on speaker conflicts) over {}-minute slots; cost = {}{} away from the track's room + slot position",
            length,
            if w.capacity_fit {
                format!("{PER_PERSON_WITHOUT_SEAT} per expected attendee without a seat + ")
            } else {
                String::new()
            },
            AWAY_FROM_TRACK_ROOM
        ),
        slots: u32::try_from(grid.len()).unwrap_or(u32::MAX),
        objective: solution.objective,
        lower_bound: solution.lower_bound,
        proven_optimal: solution.proven_optimal,
        nodes: solution.nodes,
    };
    Ok(Some((sessions, report)))
}

/// `t + minutes` on the same day, or `None` past midnight.
fn add(t: NaiveTime, minutes: u32) -> Option<NaiveTime> {
    let (e, wrapped) = t.overflowing_add_signed(Duration::minutes(i64::from(minutes)));
    (wrapped == 0 && e >= t).then_some(e)
}

/// Pairs of items that share a speaker.
pub fn speaker_conflicts(items: &[Item]) -> Vec<(usize, usize)> {
    let mut by_speaker: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, item) in items.iter().enumerate() {
        for s in &item.speakers {
            by_speaker.entry(s.as_str()).or_default().push(i);
        }
    }
    let mut pairs: Vec<(usize, usize)> = by_speaker
        .values()
        .flat_map(|list| {
            list.iter()
                .enumerate()
                .flat_map(move |(k, &a)| list[k + 1..].iter().map(move |&b| (a, b)))
        })
        .collect();
    pairs.sort_unstable();
    pairs.dedup();
    pairs
}
