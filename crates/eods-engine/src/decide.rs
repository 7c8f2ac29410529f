//! The pure decision function: given everything stored about an event, what the engine does next.
//! No I/O and no clock; the engine loop in `lib.rs` is the only place that acts on the answer.

use eods_agents::{Directives, Step};
use eods_domain::artifact::ArtifactRef;
use eods_domain::blackboard::Blackboard;
use eods_domain::instruction::Level;
use eods_domain::lifecycle::{
    ApprovalState, ApprovalStatus, Blocked, Gate, GateInput, LifecycleState, RunStatus,
    check_transition,
};

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
    /// Nothing left to do.
    Done,
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

/// Decides the next action.
pub fn next_action(d: DecisionInput<'_>) -> Action {
    if matches!(
        d.run_status,
        RunStatus::Completed | RunStatus::Cancelled | RunStatus::NeedsInput | RunStatus::Paused
    ) {
        return Action::Done;
    }
    let fresh = |s: Step| {
        d.committed
            .iter()
            .any(|k| *k == step_key(s, d.blackboard, d.directives))
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
        Ok(to) => Action::Advance { from: d.state, to },
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
