//! Progress of a live event's tasks as people record it: the runbook's entries kept in step with
//! the plan's task register, a recorded status applied to one of them, the milestones reached,
//! and what a slip puts at risk (a forward pass over the task network from what is recorded and
//! today's date, a backward pass from the planned end for the projected critical path).
//! Pure: today is passed in.

use crate::catalog::execution::{MilestoneActual, RunbookEntry};
use crate::catalog::planning::{Task, TaskRegister, TaskStatus, Timeline};
use crate::graph::{Order, topological_order};
use crate::ids::{MilestoneId, TaskId};
use chrono::{Duration, NaiveDate};
use std::collections::BTreeMap;

/// The runbook entries for `tasks`: each task's recorded entry from `recorded` when there is one
/// (its title, owner and planned end follow the plan), else the plan's status with no completion.
pub fn entries(tasks: &TaskRegister, recorded: &[RunbookEntry]) -> Vec<RunbookEntry> {
    tasks
        .tasks
        .iter()
        .map(|t| match recorded.iter().find(|e| e.task_id == t.id) {
            Some(e) => RunbookEntry {
                title: t.title.clone(),
                owner: t.owner.clone(),
                planned_end: t.end,
                ..e.clone()
            },
            None => RunbookEntry {
                task_id: t.id.clone(),
                title: t.title.clone(),
                owner: t.owner.clone(),
                planned_end: t.end,
                status: t.status,
                completed_on: None,
                note: None,
                recorded_by: None,
                actual_cost: None,
            },
        })
        .collect()
}

/// Each milestone whose tasks all have a recorded completion, reached on the last of them.
pub fn milestones_reached(
    timeline: &Timeline,
    tasks: &TaskRegister,
    entries: &[RunbookEntry],
) -> Vec<MilestoneActual> {
    timeline
        .milestones
        .iter()
        .filter_map(|m| {
            let dates: Option<Vec<NaiveDate>> = tasks
                .tasks
                .iter()
                .filter(|t| t.milestone_id == m.id)
                .map(|t| entries.iter().find(|e| e.task_id == t.id)?.completed_on)
                .collect();
            let actual = dates.filter(|d| !d.is_empty())?.into_iter().max()?;
            Some(MilestoneActual {
                milestone_id: m.id.clone(),
                planned: m.date,
                actual,
            })
        })
        .collect()
}

/// A status as a person records it.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskUpdate {
    pub status: TaskStatus,
    /// The day it was done (only with `done`; default today).
    pub completed_on: Option<NaiveDate>,
    /// Why it is blocked (required with `blocked`), or a note.
    pub note: Option<String>,
    /// What the task actually cost, in the event's currency (kept when not given).
    pub actual_cost: Option<rust_decimal::Decimal>,
}

/// Why an update cannot be recorded; each names the field to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpdateError {
    #[error("a blocked task needs the reason it is blocked: give `reason`")]
    BlockedWithoutReason,
    #[error("only a task that is done has a completion date: leave `completed_on` out")]
    CompletedButNotDone,
    #[error("{0} is after today ({1}): record a completion when it has happened")]
    InTheFuture(NaiveDate, NaiveDate),
    #[error(
        "an actual cost of {0} is negative: give what was paid, 0 or more, in the event's currency"
    )]
    NegativeCost(rust_decimal::Decimal),
    #[error(
        "`{0}` is not an amount: write a decimal such as 1200.50 (the event's currency, no symbol)"
    )]
    NotAnAmount(String),
}

/// An actual cost as people type it (`1200.50`, `1 200,50` is refused: one decimal point, no
/// symbols); empty is none.
pub fn parse_cost(s: &str) -> Result<Option<rust_decimal::Decimal>, UpdateError> {
    let t = s.trim();
    if t.is_empty() {
        return Ok(None);
    }
    let d: rust_decimal::Decimal = t
        .parse()
        .map_err(|_| UpdateError::NotAnAmount(t.to_owned()))?;
    if d.is_sign_negative() && !d.is_zero() {
        return Err(UpdateError::NegativeCost(d));
    }
    Ok(Some(d.normalize()))
}

impl UpdateError {
    /// The request field to fix, as a JSON pointer.
    pub fn pointer(&self) -> &'static str {
        match self {
            UpdateError::BlockedWithoutReason => "/reason",
            UpdateError::CompletedButNotDone | UpdateError::InTheFuture(..) => "/completed_on",
            UpdateError::NegativeCost(_) | UpdateError::NotAnAmount(_) => "/actual_cost",
        }
    }
}

/// `entry` with `u` applied on `today`, recorded by `by`.
pub fn apply(
    entry: &RunbookEntry,
    u: &TaskUpdate,
    today: NaiveDate,
    by: &str,
) -> Result<RunbookEntry, UpdateError> {
    let note = u.note.as_deref().map(str::trim).filter(|n| !n.is_empty());
    if u.status == TaskStatus::Blocked && note.is_none() {
        return Err(UpdateError::BlockedWithoutReason);
    }
    let completed_on = match (u.status, u.completed_on) {
        (TaskStatus::Done, Some(d)) if d > today => return Err(UpdateError::InTheFuture(d, today)),
        (TaskStatus::Done, d) => Some(d.unwrap_or(today)),
        (_, Some(_)) => return Err(UpdateError::CompletedButNotDone),
        (_, None) => None,
    };
    if let Some(c) = u
        .actual_cost
        .filter(|c| c.is_sign_negative() && !c.is_zero())
    {
        return Err(UpdateError::NegativeCost(c));
    }
    Ok(RunbookEntry {
        status: u.status,
        completed_on,
        note: note.map(str::to_owned),
        recorded_by: Some(by.to_owned()),
        actual_cost: u.actual_cost.or(entry.actual_cost),
        ..entry.clone()
    })
}

/// What the recorded progress puts at risk.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AtRisk {
    /// Tasks not done by their planned end (or done after it), with the days they are late.
    pub late: Vec<(TaskId, i64)>,
    /// Blocked tasks.
    pub blocked: Vec<TaskId>,
    /// Milestones whose projected date passes the planned one: (id, name, planned, projected).
    pub milestones: Vec<(MilestoneId, String, NaiveDate, NaiveDate)>,
    /// When the last task is projected to finish, and whether that passes the day before the
    /// event (the work would not be done in time).
    pub projected_end: Option<NaiveDate>,
    pub event_at_risk: bool,
    /// Tasks with no slack left against the planned end, in order: the critical path as the
    /// recorded progress makes it.
    pub critical_path: Vec<TaskId>,
}

/// Projects every task's finish from what is recorded: a task done finishes when it was done; a
/// task not done starts no earlier than its plan and its predecessors' finishes and cannot finish
/// before `today`. Milestones and the event's first day (`event_day`) are compared with the
/// projection. A task network with a cycle (which validation refuses) projects nothing.
pub fn at_risk(
    tasks: &TaskRegister,
    timeline: &Timeline,
    entries: &[RunbookEntry],
    today: NaiveDate,
    event_day: NaiveDate,
) -> AtRisk {
    let ts: &[Task] = &tasks.tasks;
    let index: BTreeMap<&TaskId, usize> = ts.iter().enumerate().map(|(i, t)| (&t.id, i)).collect();
    let deps: Vec<Vec<usize>> = ts
        .iter()
        .map(|t| {
            t.depends_on
                .iter()
                .filter_map(|d| index.get(d).copied())
                .collect()
        })
        .collect();
    let Order::Acyclic(order) = topological_order(ts.len(), &deps) else {
        return AtRisk::default();
    };
    let entry = |t: &Task| entries.iter().find(|e| e.task_id == t.id);
    let days = |t: &Task| Duration::days(i64::from(t.duration.0.max(1)) - 1);
    let mut finish: Vec<NaiveDate> = ts.iter().map(|t| t.end).collect();
    let mut out = AtRisk::default();
    for &i in &order {
        let t = &ts[i];
        let e = entry(t);
        finish[i] = match e.and_then(|e| e.completed_on) {
            Some(done) => done,
            None => {
                let after = deps[i].iter().map(|&d| finish[d] + Duration::days(1)).max();
                let start = after.map_or(t.start, |a| a.max(t.start));
                (start + days(t)).max(today)
            }
        };
        let late = (finish[i] - t.end).num_days();
        let done = e.is_some_and(|e| e.status == TaskStatus::Done);
        if late > 0 && (done || today > t.end) {
            out.late.push((t.id.clone(), late));
        }
        if e.is_some_and(|e| e.status == TaskStatus::Blocked) {
            out.blocked.push(t.id.clone());
        }
    }
    for m in &timeline.milestones {
        let projected = ts
            .iter()
            .enumerate()
            .filter(|(_, t)| t.milestone_id == m.id)
            .map(|(i, _)| finish[i])
            .max();
        if let Some(p) = projected.filter(|p| *p > m.date) {
            out.milestones
                .push((m.id.clone(), m.name.clone(), m.date, p));
        }
    }
    let end = finish.iter().max().copied();
    out.projected_end = end;
    out.event_at_risk = end.is_some_and(|e| e >= event_day && e > timeline.project_end);
    // Backward pass from the later of the planned and the projected finish of the work: zero
    // slack is critical.
    let planned = ts.iter().map(|t| t.end).max();
    let deadline = match (end, planned) {
        (Some(e), Some(p)) => e.max(p),
        (e, p) => e.or(p).unwrap_or(timeline.project_end),
    };
    let mut latest: Vec<NaiveDate> = vec![deadline; ts.len()];
    for &i in order.iter().rev() {
        for &d in &deps[i] {
            let t = &ts[i];
            let start = latest[i] - days(t);
            latest[d] = latest[d].min(start - Duration::days(1));
        }
    }
    out.critical_path = order
        .iter()
        .filter(|&&i| entry(&ts[i]).is_none_or(|e| e.status != TaskStatus::Done))
        .filter(|&&i| latest[i] <= finish[i])
        .map(|&i| ts[i].id.clone())
        .collect();
    out
}

impl AtRisk {
    /// One line for people: what is late or blocked, and which milestones and whether the event
    /// date are at risk.
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        if !self.late.is_empty() {
            let l: Vec<String> = self
                .late
                .iter()
                .map(|(t, d)| format!("{t} {d} day(s)"))
                .collect();
            parts.push(format!("late: {}", l.join(", ")));
        }
        if !self.blocked.is_empty() {
            let b: Vec<&str> = self.blocked.iter().map(|t| t.as_str()).collect();
            parts.push(format!("blocked: {}", b.join(", ")));
        }
        if !self.milestones.is_empty() {
            let m: Vec<String> = self
                .milestones
                .iter()
                .map(|(_, name, planned, projected)| format!("{name} ({planned} → {projected})"))
                .collect();
            parts.push(format!("milestones at risk: {}", m.join(", ")));
        }
        if self.event_at_risk {
            parts.push(format!(
                "the event date is at risk: the work is projected to finish on {}",
                self.projected_end
                    .map(|d| d.to_string())
                    .unwrap_or_default()
            ));
        }
        if parts.is_empty() {
            "on track".into()
        } else {
            parts.join("; ")
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::catalog::planning::{Days, Milestone};
    use crate::ids::StakeholderId;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    /// Two chains into one milestone each: book (5 days) → promote (5 days) → milestone "ready"
    /// on 06-30; print (3 days, 20 days of slack) → milestone "printed" on 06-30. The event is on
    /// 07-02.
    fn plan() -> (TaskRegister, Timeline) {
        let task =
            |id: &str, start: &str, end: &str, days: u32, deps: &[&str], m: &str, slack: u32| {
                Task {
                    id: TaskId::from(id),
                    title: id.to_owned(),
                    owner: StakeholderId::from("stakeholder-1"),
                    status: TaskStatus::NotStarted,
                    start: d(start),
                    end: d(end),
                    duration: Days(days),
                    depends_on: deps.iter().map(|x| TaskId::from(*x)).collect(),
                    milestone_id: MilestoneId::from(m),
                    slack: Days(slack),
                }
            };
        let tasks = TaskRegister {
            tasks: vec![
                task("book", "2027-06-01", "2027-06-05", 5, &[], "ready", 0),
                task(
                    "promote",
                    "2027-06-26",
                    "2027-06-30",
                    5,
                    &["book"],
                    "ready",
                    0,
                ),
                task("print", "2027-06-08", "2027-06-10", 3, &[], "printed", 20),
            ],
        };
        let milestone = |id: &str, date: &str| Milestone {
            id: MilestoneId::from(id),
            name: id.to_owned(),
            date: d(date),
            depends_on: vec![],
        };
        let timeline = Timeline {
            plan_start: d("2027-06-01"),
            phases: vec![],
            milestones: vec![
                milestone("ready", "2027-06-30"),
                milestone("printed", "2027-06-30"),
            ],
            dependencies: vec![],
            critical_path: vec![],
            project_end: d("2027-06-30"),
            resource_levelling: None,
        };
        (tasks, timeline)
    }

    #[test]
    fn a_slip_within_slack_is_late_but_puts_nothing_at_risk() {
        let (tasks, timeline) = plan();
        let mut e = entries(&tasks, &[]);
        let done_on = |day: &str| TaskUpdate {
            status: TaskStatus::Done,
            completed_on: Some(d(day)),
            note: None,
            actual_cost: None,
        };
        e[0] = apply(&e[0], &done_on("2027-06-05"), d("2027-06-14"), "user:a").unwrap();
        // "print" is still not done four days after its end: late, but it has slack.
        let r = at_risk(&tasks, &timeline, &e, d("2027-06-14"), d("2027-07-02"));
        assert_eq!(r.late, vec![(TaskId::from("print"), 4)]);
        assert!(r.milestones.is_empty(), "{r:?}");
        assert!(!r.event_at_risk);
        // Recorded done on time, nothing is late.
        e[2] = apply(
            &e[2],
            &TaskUpdate {
                status: TaskStatus::Done,
                completed_on: Some(d("2027-06-09")),
                note: None,
                actual_cost: None,
            },
            d("2027-06-14"),
            "user:a",
        )
        .unwrap();
        let r = at_risk(&tasks, &timeline, &e, d("2027-06-14"), d("2027-07-02"));
        assert!(r.late.is_empty(), "{r:?}");
        assert_eq!(r.summary(), "on track");
        // On track, the chain that ends last has no slack.
        assert_eq!(
            r.critical_path,
            vec![TaskId::from("promote")],
            "book is done; promote ends the work"
        );
    }

    #[test]
    fn a_slip_on_the_critical_path_moves_its_milestone_and_then_the_event() {
        let (tasks, timeline) = plan();
        let mut e = entries(&tasks, &[]);
        let printed = TaskUpdate {
            status: TaskStatus::Done,
            completed_on: Some(d("2027-06-10")),
            note: None,
            actual_cost: None,
        };
        e[2] = apply(&e[2], &printed, d("2027-06-26"), "user:a").unwrap();
        // "book" not done on 06-27: "promote" cannot start before 06-28 and ends 07-02.
        let r = at_risk(&tasks, &timeline, &e, d("2027-06-27"), d("2027-07-02"));
        assert_eq!(r.late, vec![(TaskId::from("book"), 22)]);
        assert_eq!(
            r.milestones,
            vec![(
                MilestoneId::from("ready"),
                "ready".into(),
                d("2027-06-30"),
                d("2027-07-02")
            )]
        );
        assert_eq!(r.projected_end, Some(d("2027-07-02")));
        assert!(r.event_at_risk, "the work now ends on the event's day");
        assert_eq!(
            r.critical_path,
            vec![TaskId::from("book"), TaskId::from("promote")]
        );
        assert!(
            r.summary()
                .contains("milestones at risk: ready (2027-06-30 → 2027-07-02)"),
            "{}",
            r.summary()
        );
        assert!(
            r.summary().contains("the event date is at risk"),
            "{}",
            r.summary()
        );
        // A day less: the milestone slips, the event does not.
        let r = at_risk(&tasks, &timeline, &e, d("2027-06-26"), d("2027-07-02"));
        assert_eq!(r.projected_end, Some(d("2027-07-01")));
        assert!(!r.event_at_risk);
        assert_eq!(r.milestones.len(), 1);
    }

    #[test]
    fn updates_name_the_field_to_fix() {
        let (tasks, _) = plan();
        let e = entries(&tasks, &[]);
        let today = d("2027-06-14");
        let blocked = TaskUpdate {
            status: TaskStatus::Blocked,
            completed_on: None,
            note: Some("  ".into()),
            actual_cost: None,
        };
        assert_eq!(
            apply(&e[0], &blocked, today, "user:a")
                .unwrap_err()
                .pointer(),
            "/reason"
        );
        let early = TaskUpdate {
            status: TaskStatus::InProgress,
            completed_on: Some(today),
            note: None,
            actual_cost: None,
        };
        assert_eq!(
            apply(&e[0], &early, today, "user:a").unwrap_err(),
            UpdateError::CompletedButNotDone
        );
        let future = TaskUpdate {
            status: TaskStatus::Done,
            completed_on: Some(d("2027-06-15")),
            note: None,
            actual_cost: None,
        };
        assert_eq!(
            apply(&e[0], &future, today, "user:a")
                .unwrap_err()
                .pointer(),
            "/completed_on"
        );
        let done = TaskUpdate {
            status: TaskStatus::Done,
            completed_on: None,
            note: None,
            actual_cost: None,
        };
        let x = apply(&e[0], &done, today, "user:a").unwrap();
        assert_eq!(
            (x.completed_on, x.recorded_by.as_deref()),
            (Some(today), Some("user:a"))
        );
        // Recorded entries survive a new plan revision; titles follow the plan.
        let mut renamed = tasks.clone();
        renamed.tasks[0].title = "Book the hall".into();
        let kept = entries(&renamed, &[x]);
        assert_eq!(
            (kept[0].status, kept[0].title.as_str()),
            (TaskStatus::Done, "Book the hall")
        );
    }
}
