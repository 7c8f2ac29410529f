//! The `conference-scheduling-instance/1` JSON format (see `shared/data/scheduling/README.md`):
//! loading with errors that name the field, the three objectives of the format, and solving an
//! instance for one of them.

use crate::{Limits, Problem, Session, Slot, Solution, SolveError, Violation};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// The format string every instance carries.
pub const FORMAT: &str = "conference-scheduling-instance/1";

#[derive(Debug, Clone, Deserialize)]
struct RawRoom {
    id: String,
    capacity: Option<u32>,
}

#[derive(Debug, Clone, Deserialize)]
struct RawSlot {
    id: usize,
    room: String,
    start: String,
    duration: u32,
}

#[derive(Debug, Clone, Deserialize)]
struct RawEvent {
    id: String,
    #[serde(default)]
    title: String,
    duration: u32,
    #[serde(default)]
    demand: Option<u32>,
    #[serde(default)]
    unavailable_slots: Vec<usize>,
}

#[derive(Debug, Clone, Deserialize)]
struct RawConflict {
    events: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
struct Raw {
    format: String,
    name: String,
    rooms: Vec<RawRoom>,
    slots: Vec<RawSlot>,
    events: Vec<RawEvent>,
    #[serde(default)]
    conflicts: Vec<RawConflict>,
    #[serde(default)]
    reference_assignment: Option<BTreeMap<String, Option<usize>>>,
}

/// A loaded instance: the problem plus what the objectives need.
#[derive(Debug, Clone, PartialEq)]
pub struct Instance {
    pub name: String,
    pub problem: Problem,
    pub event_ids: Vec<String>,
    pub titles: Vec<String>,
    pub room_ids: Vec<String>,
    /// Seats per room (null = 0).
    pub capacity: Vec<i64>,
    /// Expected attendance per event (null = 0).
    pub demand: Vec<i64>,
    /// The published slot per event, when the instance has one.
    pub reference: Vec<Option<usize>>,
}

/// An instance file that cannot be used, with the field at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {pointer}: {message}")]
pub struct InstanceError {
    pub file: String,
    /// JSON pointer of the field, or `/` for the whole file.
    pub pointer: String,
    pub message: String,
}

/// The objectives of the format, all minimised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Objectives {
    /// Σ (demand − capacity of the event's room).
    pub efficiency: i64,
    /// max (demand − capacity).
    pub equity: i64,
    /// 2 × events not in their reference slot.
    pub changes: i64,
}

/// Which objective to minimise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Objective {
    Efficiency,
    Equity,
    Changes,
}

impl Objective {
    pub fn as_str(self) -> &'static str {
        match self {
            Objective::Efficiency => "efficiency",
            Objective::Equity => "equity",
            Objective::Changes => "changes",
        }
    }
}

impl Instance {
    /// Reads and checks an instance file.
    pub fn load(path: &Path) -> Result<Instance, InstanceError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| InstanceError {
            file: file.clone(),
            pointer: "/".into(),
            message: format!("cannot read: {e}"),
        })?;
        Self::parse(&file, &text)
    }

    /// Parses and checks an instance; `file` names it in errors.
    ///
    /// Long because: every field is checked in document order so that a bad one is named by its
    /// pointer.
    pub fn parse(file: &str, text: &str) -> Result<Instance, InstanceError> {
        let err = |pointer: String, message: String| InstanceError {
            file: file.to_owned(),
            pointer,
            message,
        };
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
            err(
                "/".into(),
                format!(
                    "invalid JSON at line {}, column {}: {e}",
                    e.line(),
                    e.column()
                ),
            )
        })?;
        if value.get("format").and_then(|f| f.as_str()) != Some(FORMAT) {
            return Err(err("/format".into(), format!("must be \"{FORMAT}\"")));
        }
        // Field-by-field so that a bad field is named with its pointer.
        for key in ["rooms", "slots", "events"] {
            let Some(list) = value.get(key).and_then(|v| v.as_array()) else {
                return Err(err(format!("/{key}"), "must be an array".into()));
            };
            for (i, item) in list.iter().enumerate() {
                let res = match key {
                    "rooms" => serde_json::from_value::<RawRoom>(item.clone()).map(|_| ()),
                    "slots" => serde_json::from_value::<RawSlot>(item.clone()).map(|_| ()),
                    _ => serde_json::from_value::<RawEvent>(item.clone()).map(|_| ()),
                };
                res.map_err(|e| err(format!("/{key}/{i}"), e.to_string()))?;
            }
        }
        let raw: Raw = serde_json::from_value(value).map_err(|e| err("/".into(), e.to_string()))?;
        debug_assert_eq!(raw.format, FORMAT);
        let room_ids: Vec<String> = raw.rooms.iter().map(|r| r.id.clone()).collect();
        let room_index: BTreeMap<&str, usize> = room_ids
            .iter()
            .enumerate()
            .map(|(i, r)| (r.as_str(), i))
            .collect();
        let mut slots = Vec::with_capacity(raw.slots.len());
        for (i, s) in raw.slots.iter().enumerate() {
            if s.id != i {
                return Err(err(
                    format!("/slots/{i}/id"),
                    format!("is {}, slot ids must be 0..n-1 in array order", s.id),
                ));
            }
            let room = *room_index.get(s.room.as_str()).ok_or_else(|| {
                err(
                    format!("/slots/{i}/room"),
                    format!("unknown room `{}`", s.room),
                )
            })?;
            let start = chrono::DateTime::parse_from_rfc3339(&s.start).map_err(|e| {
                err(
                    format!("/slots/{i}/start"),
                    format!("`{}` is not an ISO 8601 time with offset: {e}", s.start),
                )
            })?;
            slots.push(Slot {
                room,
                start: start.timestamp() / 60,
                duration: s.duration,
            });
        }
        let event_index: BTreeMap<&str, usize> = raw
            .events
            .iter()
            .enumerate()
            .map(|(i, e)| (e.id.as_str(), i))
            .collect();
        if event_index.len() != raw.events.len() {
            return Err(err("/events".into(), "event ids must be unique".into()));
        }
        let mut sessions = Vec::with_capacity(raw.events.len());
        for (i, e) in raw.events.iter().enumerate() {
            for (k, s) in e.unavailable_slots.iter().enumerate() {
                if *s >= slots.len() {
                    return Err(err(
                        format!("/events/{i}/unavailable_slots/{k}"),
                        format!("slot {s} does not exist ({} slots)", slots.len()),
                    ));
                }
            }
            sessions.push(Session {
                duration: e.duration,
                unavailable: e.unavailable_slots.clone(),
            });
        }
        let mut conflicts = Vec::with_capacity(raw.conflicts.len());
        for (i, c) in raw.conflicts.iter().enumerate() {
            let [a, b] = c.events.as_slice() else {
                return Err(err(
                    format!("/conflicts/{i}/events"),
                    "must name exactly two events".into(),
                ));
            };
            let find = |id: &str, k: usize| {
                event_index.get(id).copied().ok_or_else(|| {
                    err(
                        format!("/conflicts/{i}/events/{k}"),
                        format!("unknown event `{id}`"),
                    )
                })
            };
            conflicts.push((find(a, 0)?, find(b, 1)?));
        }
        let mut reference = vec![None; raw.events.len()];
        if let Some(map) = &raw.reference_assignment {
            for (id, slot) in map {
                let e = *event_index.get(id.as_str()).ok_or_else(|| {
                    err(
                        format!("/reference_assignment/{id}"),
                        format!("unknown event `{id}`"),
                    )
                })?;
                if let Some(s) = slot {
                    if *s >= slots.len() {
                        return Err(err(
                            format!("/reference_assignment/{id}"),
                            format!("slot {s} does not exist"),
                        ));
                    }
                    reference[e] = Some(*s);
                }
            }
        }
        Ok(Instance {
            name: raw.name,
            capacity: raw
                .rooms
                .iter()
                .map(|r| i64::from(r.capacity.unwrap_or(0)))
                .collect(),
            demand: raw
                .events
                .iter()
                .map(|e| i64::from(e.demand.unwrap_or(0)))
                .collect(),
            event_ids: raw.events.iter().map(|e| e.id.clone()).collect(),
            titles: raw.events.iter().map(|e| e.title.clone()).collect(),
            room_ids,
            reference,
            problem: Problem {
                slots,
                sessions,
                conflicts,
            },
        })
    }

    /// demand − capacity of placing event `e` in slot `s`.
    pub fn shortfall(&self, e: usize, s: usize) -> i64 {
        self.demand[e] - self.capacity[self.problem.slots[s].room]
    }

    /// The three objectives of an assignment.
    pub fn evaluate(&self, assignment: &[usize]) -> Objectives {
        let gaps: Vec<i64> = assignment
            .iter()
            .enumerate()
            .map(|(e, &s)| self.shortfall(e, s))
            .collect();
        Objectives {
            efficiency: gaps.iter().sum(),
            equity: gaps.iter().copied().max().unwrap_or(0),
            changes: 2 * assignment
                .iter()
                .enumerate()
                .filter(|(e, s)| self.reference[*e].is_some_and(|r| r != **s))
                .count() as i64,
        }
    }

    /// The reference assignment, when every event has one.
    pub fn reference_assignment(&self) -> Option<Vec<usize>> {
        self.reference.iter().copied().collect()
    }

    /// Rules the assignment breaks.
    pub fn check(&self, assignment: &[usize]) -> Vec<Violation> {
        crate::check(&self.problem, assignment)
    }

    /// Solves for one objective; equity is lexicographic (worst shortfall, then efficiency).
    pub fn solve(&self, objective: Objective, limits: &Limits) -> Result<Solution, SolveError> {
        let shortfall = |e: usize, s: usize| self.shortfall(e, s);
        match objective {
            Objective::Efficiency => crate::solve(&self.problem, &shortfall, limits),
            Objective::Changes => {
                let moved = |e: usize, s: usize| {
                    if self.reference[e].is_some_and(|r| r != s) {
                        2
                    } else {
                        0
                    }
                };
                crate::solve_with_hint(&self.problem, &moved, &self.reference, limits)
            }
            Objective::Equity => {
                crate::solve_bottleneck(&self.problem, &shortfall, &shortfall, limits)
                    .map(|(_, s)| s)
            }
        }
    }
}
