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
    /// A live event waits for the calendar: until `until`, nothing is due.
    Wait { until: DateTime<Utc>, what: Waiting },
    /// Nothing left to do.
    Done,
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
    /// The status detail of a run that waits, in words.
    pub fn detail(self, until: DateTime<Utc>, brief: &EventBrief) -> String {
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
        // Live and under way: the runbook is open until the event ends.
        return Action::Wait {
            until: end,
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
            // Confirmed and approved: a live event enters Execute on its day.
            Some((start, _)) if to == LifecycleState::Execute && d.now < start => Action::Wait {
                until: start,
                what: Waiting::EventStart,
            },
            _ => Action::Advance { from: d.state, to },
        },
        Err(blocked) => {
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
