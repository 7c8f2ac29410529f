//! The Logistics Coordinator's optimal scheduler: the program's sessions on a grid of room-time
//! slots, placed by the exact solver of `eods-solver` (assignment + branch and bound on speaker
//! conflicts) at the least cost, with the cost's proven lower bound.
//!
//! The cost of a session in a slot adds up, in this order of weight: people without a seat
//! (expected audience over the room's capacity, when `capacity_fit`), a session away from its
//! track's room (track cohesion), and the slot's position in the event (compact, early days).

use crate::AgentError;
use crate::placement::{Frame, Item, Pinned, Placed, add, session_of};
use chrono::NaiveTime;
use eods_domain::catalog::logistics::{Room, ScheduleOptimisation, Session};
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
    // Pinned and plenary sessions are placed first; the solver places the rest around them.
    let pinned = crate::placement::pin(items, rooms, frame)?;
    let free: Vec<usize> = (0..items.len())
        .filter(|i| !pinned.placed.iter().any(|p| p.item == *i))
        .collect();
    // One slot length for the grid: the longest session, to whole 5 minutes.
    let length = free
        .iter()
        .map(|&i| items[i].minutes)
        .max()
        .unwrap_or(45)
        .div_ceil(5)
        * 5;
    let grid = grid(frame, rooms.len(), length, &pinned);
    if grid.len() < free.len() {
        return Ok(None);
    }
    let per_day = grid.iter().map(|g| g.index + 1).max().unwrap_or(1) as i64;
    let free_items: Vec<Item> = free.iter().map(|&i| items[i].clone()).collect();
    let problem = problem(items, &free, &free_items, &grid, length, &pinned);
    let home = home_rooms(&free_items, rooms.len());
    let cost = |e: usize, s: usize| -> i64 {
        let g = &grid[s];
        let mut c = g.day as i64 * per_day + g.index as i64;
        if home.get(free_items[e].track.as_str()) != Some(&g.room) {
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
    let mut placed: Vec<Placed> = pinned.placed.clone();
    for (k, &s) in solution.assignment.iter().enumerate() {
        let g = &grid[s];
        let i = free[k];
        let Some(end) = add(g.start, items[i].minutes) else {
            return Err(AgentError::Infeasible {
                reason: format!("session `{}` would end after midnight", items[i].title),
                alternatives: vec![],
            });
        };
        placed.push(Placed {
            item: i,
            room: g.room,
            day: g.day,
            start: g.start,
            end,
        });
    }
    placed.sort_by_key(|p| p.item);
    let sessions = placed
        .iter()
        .map(|p| session_of(p.item, &items[p.item], rooms, frame, p))
        .collect::<Result<Vec<_>, _>>()?;
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

/// The grid: every room's slots of `length` minutes on every day, a break apart, around the
/// intervals the pinned sessions close.
fn grid(frame: &Frame, rooms: usize, length: u32, pinned: &Pinned) -> Vec<GridSlot> {
    let mut grid = Vec::new();
    for (d, plan) in frame.days.iter().enumerate() {
        for r in 0..rooms {
            let mut t = plan.start;
            let mut index = 0;
            while let Some(e) = add(t, length) {
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
    grid
}

/// A slot's start in minutes from midnight of the first day.
fn to_minutes(g: &GridSlot) -> i64 {
    g.day as i64 * 24 * 60
        + i64::from(g.start.signed_duration_since(NaiveTime::MIN).num_minutes() as i32)
}

/// The solver's problem: the grid's slots, the free sessions (each barred from the slots where
/// a pinned session of one of its speakers runs) and their speaker conflicts.
fn problem(
    items: &[Item],
    free: &[usize],
    free_items: &[Item],
    grid: &[GridSlot],
    length: u32,
    pinned: &Pinned,
) -> Problem {
    // A free session may not run while a pinned session of one of its speakers does.
    let pinned_at: Vec<(usize, i64, i64)> = pinned
        .placed
        .iter()
        .map(|p| {
            let base = p.day as i64 * 24 * 60;
            let m = |t: NaiveTime| {
                i64::from(t.signed_duration_since(NaiveTime::MIN).num_minutes() as i32)
            };
            (p.item, base + m(p.start), base + m(p.end))
        })
        .collect();
    Problem {
        slots: grid
            .iter()
            .map(|g| Slot {
                room: g.room,
                start: to_minutes(g),
                duration: length,
            })
            .collect(),
        sessions: free
            .iter()
            .map(|&i| eods_solver::Session {
                duration: items[i].minutes,
                unavailable: grid
                    .iter()
                    .enumerate()
                    .filter(|(_, g)| {
                        let (s, e) = (to_minutes(g), to_minutes(g) + i64::from(items[i].minutes));
                        pinned_at.iter().any(|&(j, a, z)| {
                            s < z
                                && a < e
                                && items[j]
                                    .speakers
                                    .iter()
                                    .any(|x| items[i].speakers.contains(x))
                        })
                    })
                    .map(|(k, _)| k)
                    .collect(),
            })
            .collect(),
        conflicts: speaker_conflicts(free_items),
    }
}

/// Each track's home room: tracks with the most sessions get the largest rooms.
fn home_rooms(free_items: &[Item], rooms: usize) -> BTreeMap<&str, usize> {
    let mut count: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for (i, item) in free_items.iter().enumerate() {
        let e = count.entry(item.track.as_str()).or_insert((0, i));
        e.0 += 1;
    }
    let mut tracks: Vec<(&str, usize, usize)> =
        count.into_iter().map(|(t, (n, f))| (t, n, f)).collect();
    tracks.sort_by(|a, b| b.1.cmp(&a.1).then(a.2.cmp(&b.2)));
    tracks
        .iter()
        .enumerate()
        .map(|(k, (t, _, _))| (*t, k % rooms))
        .collect()
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
