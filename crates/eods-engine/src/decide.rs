//! The pure decision function: given everything stored about an event, what the engine does next.
//! No I/O and no clock; the engine loop in `lib.rs` is the only place that acts on the answer.

use chrono::{DateTime, Utc};
use eods_agents::{Directives, Step};
use eods_domain::artifact::ArtifactRef;
use eods_domain::blackboard::Blackboard;
use eods_domain::catalog::brief::EventBrief;
use eods_domain::instruction::Level;
use eods_domain::lifecycle::{
    ApprovalState, ApprovalStatus, Blocked, Gate, GateInput, LifecycleState, RunStatus,
    check_transition,
};
use eods_domain::run::RunMode;

/// The next move of a run.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Run this agent step (its outputs are missing or derived from outdated inputs).
    RunStep(Step),
    /// Move the lifecycle forward; every gate passed.
    Advance {
        from: LifecycleState,
        to: LifecycleState,
    },
    /// Only approvals are missing: wait for a decision on these gates' requests.
    AwaitApproval,
    /// Something other than approvals blocks the transition.
    Blocked(Blocked),
    /// A live event waits for the calendar: until `until` (its next task timer, or the start or
    /// end that `what` names), nothing is due.
    Wait { until: DateTime<Utc>, what: Waiting },
    /// A live event's task timer is due: remind the task's owner, or escalate an overdue task.
    TaskTimer(TaskTimer),
    /// Nothing left to do.
    Done,
}

/// A timer of a live event's task: a reminder before its due date or an escalation after it.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskTimer {
    pub task: eods_domain::ids::TaskId,
    pub title: String,
    pub owner: eods_domain::ids::StakeholderId,
    pub due: chrono::NaiveDate,
    pub kind: TimerKind,
    /// When it fires.
    pub at: DateTime<Utc>,
}

/// What a task timer does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimerKind {
    /// Two days before the due date, at 09:00 in the event's zone.
    Reminder,
    /// Once the due date has passed (midnight after it, in the event's zone).
    Overdue,
}

impl TaskTimer {
    /// The commit key: a timer fires once per task and due date (a new due date is a new timer).
    pub fn key(&self) -> String {
        let kind = match self.kind {
            TimerKind::Reminder => "remind",
            TimerKind::Overdue => "overdue",
        };
        format!("{kind}:{}@{}", self.task, self.due)
    }
}

/// Days before a task's due date its owner is reminded.
pub const REMINDER_DAYS: i64 = 2;

/// The task timers of a live event in time order: for every task not recorded done, a reminder
/// [`REMINDER_DAYS`] before its due date at 09:00 and an escalation at the midnight after it, in
/// the event's zone (the runbook's records over the plan's task register).
pub fn task_timers(bb: &Blackboard) -> Vec<TaskTimer> {
    use eods_domain::catalog::execution::Runbook;
    use eods_domain::catalog::planning::{TaskRegister, TaskStatus};
    let (Some(tasks), Some(brief)) = (bb.get::<TaskRegister>(), bb.get::<EventBrief>()) else {
        return vec![];
    };
    let tz = brief.tz();
    let at = |day: chrono::NaiveDate, hour: u32| -> Option<DateTime<Utc>> {
        use chrono::TimeZone;
        let t = day.and_hms_opt(hour, 0, 0)?;
        (0..=2)
            .find_map(|h| {
                tz.from_local_datetime(&(t + chrono::Duration::hours(h)))
                    .earliest()
            })
            .map(|x| x.with_timezone(&Utc))
    };
    let recorded = bb
        .get::<Runbook>()
        .map(|r| r.entries.as_slice())
        .unwrap_or_default();
    let mut out: Vec<TaskTimer> = eods_domain::progress::entries(tasks, recorded)
        .into_iter()
        .filter(|e| e.status != TaskStatus::Done)
        .flat_map(|e| {
            let timer = |kind, when: Option<DateTime<Utc>>| {
                when.map(|at| TaskTimer {
                    task: e.task_id.clone(),
                    title: e.title.clone(),
                    owner: e.owner.clone(),
                    due: e.planned_end,
                    kind,
                    at,
                })
            };
            [
                timer(
                    TimerKind::Reminder,
                    at(e.planned_end - chrono::Duration::days(REMINDER_DAYS), 9),
                ),
                timer(
                    TimerKind::Overdue,
                    e.planned_end.succ_opt().and_then(|d| at(d, 0)),
                ),
            ]
        })
        .flatten()
        .collect();
    out.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.task.cmp(&b.task)));
    out
}

/// The first due timer not yet fired (a reminder is skipped once its task's escalation is due
/// too), and when the next one fires.
fn timers_at(d: &DecisionInput<'_>) -> (Option<TaskTimer>, Option<DateTime<Utc>>) {
    let timers = task_timers(d.blackboard);
    let fired = |t: &TaskTimer| d.committed.contains(&t.key());
    let overdue_too = |t: &TaskTimer| {
        timers
            .iter()
            .any(|o| o.kind == TimerKind::Overdue && o.task == t.task && o.at <= d.now)
    };
    let due = timers
        .iter()
        .filter(|t| t.at <= d.now && !fired(t))
        .find(|t| t.kind == TimerKind::Overdue || !overdue_too(t))
        .cloned();
    let next = timers
        .iter()
        .filter(|t| t.at > d.now && !fired(t))
        .map(|t| t.at)
        .min();
    (due, next)
}

/// When a live event's next task timer fires, for a run that stops to wait for a decision or a
/// fix (`None` in a simulated run, or with no timer left).
pub fn next_timer(d: &DecisionInput<'_>) -> Option<DateTime<Utc>> {
    live_window(d).and_then(|_| timers_at(d).1)
}

/// What a live event waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Waiting {
    /// Confirmed: Execute begins when the event starts.
    EventStart,
    /// In Execute: the postmortem follows the event's end.
    EventEnd,
}

impl Waiting {
    /// The status detail of a run that waits, in words (the start or end it waits for).
    pub fn detail(self, brief: &EventBrief) -> String {
        let (start, end) = brief.live_window();
        let until = match self {
            Waiting::EventStart => start,
            Waiting::EventEnd => end,
        };
        let at = until.with_timezone(&brief.tz()).format("%Y-%m-%d %H:%M %Z");
        match self {
            Waiting::EventStart => {
                format!("Confirmed. Live event: Execute begins when the event starts, at {at}")
            }
            Waiting::EventEnd => format!(
                "Live event under way: the postmortem follows its end, at {at}; report incidents meanwhile"
            ),
        }
    }
}

/// What the decision reads.
#[derive(Debug, Clone, Copy)]
pub struct DecisionInput<'a> {
    pub state: LifecycleState,
    pub run_status: RunStatus,
    pub level: Level,
    pub blackboard: &'a Blackboard,
    pub approvals: &'a [ApprovalState],
    pub directives: &'a Directives,
    /// Keys of every committed step.
    pub committed: &'a [String],
    /// The engine's clock: a live event follows the calendar (its directives say which mode).
    pub now: DateTime<Utc>,
}

/// The idempotency key of a step: its name, the revisions of its inputs, and the directives it
/// depends on. A step whose key is committed is up to date. An input the step also writes (the
/// Execute step updates the risk register it reads) is left out, or the step would never settle.
pub fn step_key(step: Step, bb: &Blackboard, directives: &Directives) -> String {
    let refs: Vec<String> = step
        .reads()
        .filter(|t| !step.outputs().contains(t))
        .filter_map(|t| bb.reference(t))
        .map(|r: ArtifactRef| r.to_string())
        .collect();
    format!(
        "step:{}|{}|{}",
        step.name(),
        refs.join(","),
        directives.key_for(step)
    )
}

fn inputs_present(step: Step, bb: &Blackboard) -> bool {
    step.inputs().iter().all(|t| bb.current(*t).is_some())
}

/// The start and end of a live event (`None` in a simulated run, or without a brief).
fn live_window(d: &DecisionInput<'_>) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    (d.directives.mode == RunMode::Live)
        .then(|| d.blackboard.get::<EventBrief>())
        .flatten()
        .map(EventBrief::live_window)
}

/// Decides the next action.
pub fn next_action(d: DecisionInput<'_>) -> Action {
    if matches!(
        d.run_status,
        RunStatus::Completed | RunStatus::Cancelled | RunStatus::NeedsInput | RunStatus::Paused
    ) {
        return Action::Done;
    }
    let fresh = |s: Step| {
        let key = step_key(s, d.blackboard, d.directives);
        d.committed.contains(&key)
    };
    if d.state < LifecycleState::Execute {
        // Planning steps up to the current state, in dependency order: recompute what is stale.
        for s in Step::PLANNING {
            if s.state() <= d.state && !fresh(s) && inputs_present(s, d.blackboard) {
                return Action::RunStep(s);
            }
        }
    } else if d.state == LifecycleState::Execute
        && !fresh(Step::Execute)
        && inputs_present(Step::Execute, d.blackboard)
    {
        return Action::RunStep(Step::Execute);
    } else if d.state == LifecycleState::Execute
        && let Some(end) = live_window(&d).map(|(_, end)| end)
        && d.now < end
    {
        // Live and under way: the runbook is open until the event ends; task timers fire.
        let (due, next) = timers_at(&d);
        if let Some(t) = due {
            return Action::TaskTimer(t);
        }
        return Action::Wait {
            until: next.map_or(end, |n| n.min(end)),
            what: Waiting::EventEnd,
        };
    } else if d.state == LifecycleState::Postmortem {
        if !fresh(Step::Postmortem) && inputs_present(Step::Postmortem, d.blackboard) {
            return Action::RunStep(Step::Postmortem);
        }
        return Action::Done;
    }
    let input = GateInput {
        blackboard: d.blackboard,
        level: d.level,
        approvals: d.approvals,
    };
    match check_transition(d.state, input) {
        Ok(to) => match live_window(&d) {
            // Confirmed and approved: a live event enters Execute on its day; until then its
            // task timers fire.
            Some((start, _)) if to == LifecycleState::Execute && d.now < start => {
                match timers_at(&d) {
                    (Some(t), _) => Action::TaskTimer(t),
                    (None, next) => Action::Wait {
                        until: next.map_or(start, |n| n.min(start)),
                        what: Waiting::EventStart,
                    },
                }
            }
            _ => Action::Advance { from: d.state, to },
        },
        Err(blocked) => {
            // A live event's task timers fire also while it waits for a decision or a fix.
            if live_window(&d).is_some()
                && let (Some(t), _) = timers_at(&d)
            {
                return Action::TaskTimer(t);
            }
            let only_approvals = blocked.missing.is_empty()
                && blocked.invalid.is_empty()
                && blocked.stale.is_empty()
                && blocked
                    .failed
                    .iter()
                    .all(|g| g.gate == Gate::ApprovalsGranted);
            let pending = eods_domain::lifecycle::ApprovalGate::ALL
                .into_iter()
                .any(|g| {
                    eods_domain::lifecycle::approval_for_current(g, input)
                        == Some(ApprovalStatus::Pending)
                });
            if only_approvals && pending {
                Action::AwaitApproval
            } else {
                Action::Blocked(blocked)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use eods_agents::sources::EventData;
    use eods_agents::{StepInput, Tools, run_step};
    use eods_domain::artifact::CatalogType;
    use eods_domain::blackboard::Current;
    use eods_domain::lifecycle::ApprovalGate;

    /// The S-01 brief and what the five planning steps make of it at Beginner.
    fn planned() -> (Blackboard, Vec<String>) {
        let tools = Tools::bundled().unwrap();
        let brief =
            eods_domain::intake::parse_brief(include_str!("../../../examples/s01-meetup.json"))
                .unwrap();
        let mut bb = Blackboard::new();
        bb.insert(Current {
            revision: 1,
            created_by: "user:test".into(),
            derived_from: vec![],
            payload: brief.into_payload(),
        });
        let directives = Directives::default();
        let mut keys = vec![];
        for step in Step::PLANNING {
            keys.push(step_key(step, &bb, &directives));
            let data = EventData::of(&tools, &bb, None);
            let out = run_step(
                step,
                StepInput {
                    blackboard: &bb,
                    level: Level::Beginner,
                    tools: &tools,
                    directives: &directives,
                    data: &data,
                },
            )
            .unwrap();
            eods_agents::record(&mut bb, step, out.artifacts);
        }
        (bb, keys)
    }

    /// Every task not done has a reminder two days before its due date at 09:00 and an
    /// escalation at the midnight after it, in the event's zone (Berlin: UTC+1 in winter), in
    /// time order; a live Confirm fires the first due one, then waits for the next.
    #[test]
    fn task_timers_follow_the_due_dates_in_the_events_zone() {
        use eods_domain::catalog::planning::TaskRegister;
        let (bb, keys) = planned();
        let timers = task_timers(&bb);
        let tasks = bb.get::<TaskRegister>().unwrap();
        assert_eq!(timers.len(), 2 * tasks.tasks.len());
        assert!(timers.windows(2).all(|w| w[0].at <= w[1].at));
        let t = &tasks.tasks[0];
        let reminder = timers
            .iter()
            .find(|x| x.task == t.id && x.kind == TimerKind::Reminder)
            .unwrap();
        assert_eq!(
            reminder.at,
            (t.end - chrono::Duration::days(2))
                .and_hms_opt(8, 0, 0)
                .unwrap()
                .and_utc()
        );
        let overdue = timers
            .iter()
            .find(|x| x.task == t.id && x.kind == TimerKind::Overdue)
            .unwrap();
        assert_eq!(overdue.at, t.end.and_hms_opt(23, 0, 0).unwrap().and_utc());
        assert_eq!(overdue.key(), format!("overdue:{}@{}", t.id, t.end));
        // A live run at the first task's escalation fires every due timer once, in time order,
        // and never the reminder of a task whose escalation is due too; then waits for the next.
        let directives = Directives {
            mode: RunMode::Live,
            ..Directives::default()
        };
        let mut fired = keys.clone();
        loop {
            let d = DecisionInput {
                state: LifecycleState::Plan,
                run_status: RunStatus::Running,
                level: Level::Beginner,
                blackboard: &bb,
                approvals: &[],
                directives: &directives,
                committed: &fired,
                now: overdue.at,
            };
            match timers_at(&d) {
                (Some(t), _) => fired.push(t.key()),
                (None, next) => {
                    assert!(next.is_some_and(|n| n > overdue.at));
                    break;
                }
            }
        }
        let new: Vec<&String> = fired[keys.len()..].iter().collect();
        assert!(new.contains(&&overdue.key()), "{new:?}");
        assert!(!new.contains(&&reminder.key()), "{new:?}");
        // Only timers whose time has come fired.
        for key in &new {
            let t = timers.iter().find(|t| &&t.key() == key).unwrap();
            assert!(t.at <= overdue.at, "{key} fired early");
        }
    }

    fn approvals(status: ApprovalStatus, bb: &Blackboard) -> Vec<ApprovalState> {
        ApprovalGate::ALL
            .into_iter()
            .map(|g| ApprovalState {
                gate: g,
                artifact_revision: eods_domain::lifecycle::content_revision(g, bb).unwrap(),
                status,
            })
            .collect()
    }

    /// Long because: a table test, one row per situation of the lifecycle.
    #[test]
    fn next_action_follows_the_lifecycle_table() {
        let (bb, keys) = planned();
        let only_brief = {
            let mut b = Blackboard::new();
            b.insert(
                bb.current(eods_domain::artifact::ArtifactType::EventBrief)
                    .unwrap()
                    .clone(),
            );
            b
        };
        let none = Directives::default();
        let excluded = Directives {
            excluded_candidates: vec![eods_domain::ids::CandidateId("the-selected-one".into())],
            ..Directives::default()
        };
        let pending = approvals(ApprovalStatus::Pending, &bb);
        let approved = approvals(ApprovalStatus::Approved, &bb);
        use LifecycleState as S;
        use RunStatus as R;
        #[allow(clippy::type_complexity)]
        let cases: Vec<(
            &str,
            S,
            R,
            &Blackboard,
            &[ApprovalState],
            &Directives,
            &[String],
            Action,
        )> = vec![
            (
                "a completed run does nothing",
                S::Postmortem,
                R::Completed,
                &bb,
                &[],
                &none,
                &keys,
                Action::Done,
            ),
            (
                "a paused run does nothing",
                S::Plan,
                R::Paused,
                &bb,
                &[],
                &none,
                &keys,
                Action::Done,
            ),
            (
                "a run waiting for its brief does nothing",
                S::Initiate,
                R::NeedsInput,
                &only_brief,
                &[],
                &none,
                &[],
                Action::Done,
            ),
            (
                "a new event runs intake",
                S::Initiate,
                R::Running,
                &only_brief,
                &[],
                &none,
                &[],
                Action::RunStep(Step::Intake),
            ),
            (
                "intake done: advance to plan",
                S::Initiate,
                R::Running,
                &bb,
                &[],
                &none,
                &keys[..1],
                Action::Advance {
                    from: S::Initiate,
                    to: S::Plan,
                },
            ),
            (
                "in plan, the plan step runs",
                S::Plan,
                R::Running,
                &bb,
                &[],
                &none,
                &keys[..1],
                Action::RunStep(Step::Plan),
            ),
            (
                "a step of a later state waits for its state",
                S::Plan,
                R::Running,
                &bb,
                &[],
                &none,
                &keys[..2],
                Action::Advance {
                    from: S::Plan,
                    to: S::Research,
                },
            ),
            (
                "a rejected venue re-runs research",
                S::Confirm,
                R::Running,
                &bb,
                &pending,
                &excluded,
                &keys,
                Action::RunStep(Step::Research),
            ),
            (
                "in confirm with requests pending: wait",
                S::Confirm,
                R::Running,
                &bb,
                &pending,
                &none,
                &keys,
                Action::AwaitApproval,
            ),
            (
                "in confirm, all approved: execute",
                S::Confirm,
                R::Running,
                &bb,
                &approved,
                &none,
                &keys,
                Action::Advance {
                    from: S::Confirm,
                    to: S::Execute,
                },
            ),
        ];
        for (name, state, run_status, blackboard, approvals, directives, committed, expected) in
            cases
        {
            let got = next_action(DecisionInput {
                state,
                run_status,
                level: Level::Beginner,
                blackboard,
                approvals,
                directives,
                committed,
                now: DateTime::UNIX_EPOCH,
            });
            assert_eq!(got, expected, "{name}");
        }
        // In confirm without any approval request, the transition is blocked by the approvals.
        match next_action(DecisionInput {
            state: S::Confirm,
            run_status: R::Running,
            level: Level::Beginner,
            blackboard: &bb,
            approvals: &[],
            directives: &none,
            committed: &keys,
            now: DateTime::UNIX_EPOCH,
        }) {
            Action::Blocked(b) => assert!(
                b.failed.iter().any(|g| g.gate == Gate::ApprovalsGranted),
                "{b}"
            ),
            other => panic!("expected blocked, got {other:?}"),
        }
    }
}
