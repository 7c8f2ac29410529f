//! The lifecycle as pure functions: the eight states, the run status, approvals, and every gate of
//! DESIGN §4. `check_transition` either names the next state or returns a `Blocked` report that
//! lists the missing, invalid and stale artifacts and the failed gates by name. Nothing here
//! changes state: the engine applies the answer.

use crate::artifact::ArtifactType;
use crate::blackboard::Blackboard;
use crate::catalog::brief::{EventBrief, StakeholderRole};
use crate::catalog::budget::{BudgetBaseline, BudgetDecision, BudgetStatus, CostModel};
use crate::catalog::execution::{IncidentLog, IncidentStatus, Runbook};
use crate::catalog::logistics::{ContingencyPlan, LogisticsPlan, ResourceRoster, Schedule};
use crate::catalog::planning::{RiskRegister, StakeholderMap, TaskRegister, Timeline};
use crate::catalog::venue::{VenueScorecard, VenueShortlist};
use crate::graph::{Order, topological_order};
use crate::instruction::Level;
use crate::validate::{Violation, WEIGHT_EPSILON, validate_payload, validate_references_of};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// The lifecycle states, strictly in this order.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum LifecycleState {
    Initiate,
    Plan,
    Research,
    Budget,
    Logistics,
    Confirm,
    Execute,
    Postmortem,
}

impl LifecycleState {
    /// Every state in order.
    pub const ALL: [LifecycleState; 8] = [
        LifecycleState::Initiate,
        LifecycleState::Plan,
        LifecycleState::Research,
        LifecycleState::Budget,
        LifecycleState::Logistics,
        LifecycleState::Confirm,
        LifecycleState::Execute,
        LifecycleState::Postmortem,
    ];

    /// The state after this one; `None` for Postmortem.
    pub fn next(self) -> Option<LifecycleState> {
        let i = Self::ALL.iter().position(|s| *s == self)?;
        Self::ALL.get(i + 1).copied()
    }

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            LifecycleState::Initiate => "initiate",
            LifecycleState::Plan => "plan",
            LifecycleState::Research => "research",
            LifecycleState::Budget => "budget",
            LifecycleState::Logistics => "logistics",
            LifecycleState::Confirm => "confirm",
            LifecycleState::Execute => "execute",
            LifecycleState::Postmortem => "postmortem",
        }
    }

    /// Parses a snake_case name.
    pub fn parse(s: &str) -> Option<LifecycleState> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

impl fmt::Display for LifecycleState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the run of an event is doing, next to its lifecycle state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Idle,
    Running,
    NeedsInput,
    AwaitingApproval,
    Blocked,
    Paused,
    Failed,
    Cancelled,
    Completed,
}

impl RunStatus {
    /// Every status in declaration order.
    pub const ALL: [RunStatus; 9] = [
        RunStatus::Idle,
        RunStatus::Running,
        RunStatus::NeedsInput,
        RunStatus::AwaitingApproval,
        RunStatus::Blocked,
        RunStatus::Paused,
        RunStatus::Failed,
        RunStatus::Cancelled,
        RunStatus::Completed,
    ];

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Idle => "idle",
            RunStatus::Running => "running",
            RunStatus::NeedsInput => "needs_input",
            RunStatus::AwaitingApproval => "awaiting_approval",
            RunStatus::Blocked => "blocked",
            RunStatus::Paused => "paused",
            RunStatus::Failed => "failed",
            RunStatus::Cancelled => "cancelled",
            RunStatus::Completed => "completed",
        }
    }

    /// Parses a snake_case name.
    pub fn parse(s: &str) -> Option<RunStatus> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

impl fmt::Display for RunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The decisions that commit money and need a human.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalGate {
    VenueSelection,
    BudgetDecision,
    VendorContracts,
}

impl ApprovalGate {
    /// Every gate.
    pub const ALL: [ApprovalGate; 3] = [
        ApprovalGate::VenueSelection,
        ApprovalGate::BudgetDecision,
        ApprovalGate::VendorContracts,
    ];

    /// The artifact an approval of this gate is about.
    pub fn artifact_type(self) -> ArtifactType {
        match self {
            ApprovalGate::VenueSelection => ArtifactType::VenueScorecard,
            ApprovalGate::BudgetDecision => ArtifactType::BudgetDecision,
            ApprovalGate::VendorContracts => ArtifactType::VendorContracts,
        }
    }

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalGate::VenueSelection => "venue_selection",
            ApprovalGate::BudgetDecision => "budget_decision",
            ApprovalGate::VendorContracts => "vendor_contracts",
        }
    }

    /// Parses a snake_case name.
    pub fn parse(s: &str) -> Option<ApprovalGate> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

impl fmt::Display for ApprovalGate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an approver decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalDecision {
    Approve,
    Reject,
    RequestChanges,
}

impl ApprovalDecision {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalDecision::Approve => "approve",
            ApprovalDecision::Reject => "reject",
            ApprovalDecision::RequestChanges => "request_changes",
        }
    }

    /// Parses a snake_case name.
    pub fn parse(s: &str) -> Option<ApprovalDecision> {
        [Self::Approve, Self::Reject, Self::RequestChanges]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

/// Where an approval request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalStatus {
    Pending,
    Approved,
    Rejected,
    ChangesRequested,
    /// A newer revision of the artifact was put up for approval before this one was decided.
    Superseded,
}

impl ApprovalStatus {
    /// The status a decision leads to.
    pub fn after(decision: ApprovalDecision) -> ApprovalStatus {
        match decision {
            ApprovalDecision::Approve => ApprovalStatus::Approved,
            ApprovalDecision::Reject => ApprovalStatus::Rejected,
            ApprovalDecision::RequestChanges => ApprovalStatus::ChangesRequested,
        }
    }

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalStatus::Pending => "pending",
            ApprovalStatus::Approved => "approved",
            ApprovalStatus::Rejected => "rejected",
            ApprovalStatus::ChangesRequested => "changes_requested",
            ApprovalStatus::Superseded => "superseded",
        }
    }

    /// Parses a snake_case name.
    pub fn parse(s: &str) -> Option<ApprovalStatus> {
        [
            Self::Pending,
            Self::Approved,
            Self::Rejected,
            Self::ChangesRequested,
            Self::Superseded,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }
}

/// An approval request as the gates see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApprovalState {
    pub gate: ApprovalGate,
    /// The revision of the gate's artifact the request is about.
    pub artifact_revision: u32,
    pub status: ApprovalStatus,
}

/// Every named gate of DESIGN §4.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Gate {
    BriefComplete,
    HasOwner,
    MilestonesPresent,
    DependenciesPresent,
    CriticalPathPresent,
    NoOrphanTask,
    HighRisksMitigated,
    ShortlistSize,
    WeightsSumToOne,
    EveryCandidateScored,
    RationalePresent,
    SelectedVenueMeetsCapacity,
    AllocationsSumToTotal,
    LineItemsConsistent,
    VarianceWithinRule,
    WorkflowsLinked,
    ScheduleConflictFree,
    ScheduleWithinDates,
    RosterWithinAvailability,
    HighRisksHaveContingency,
    ApprovalsGranted,
    NoStaleArtifact,
    EventEnded,
    IncidentsClosed,
}

impl Gate {
    /// The snake_case name.
    pub fn as_str(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }
}

impl fmt::Display for Gate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_str())
    }
}

/// A gate that did not pass, with what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GateFailure {
    pub gate: Gate,
    pub problems: Vec<String>,
}

/// Why a transition cannot happen. The state does not change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Blocked {
    pub from: LifecycleState,
    pub to: LifecycleState,
    pub missing: Vec<ArtifactType>,
    pub invalid: Vec<(ArtifactType, Violation)>,
    /// Artifacts derived from an input that has since changed.
    pub stale: Vec<ArtifactType>,
    pub failed: Vec<GateFailure>,
}

impl fmt::Display for Blocked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} → {} blocked", self.from, self.to)?;
        if !self.missing.is_empty() {
            let m: Vec<&str> = self.missing.iter().map(|t| t.as_str()).collect();
            write!(f, "; missing: {}", m.join(", "))?;
        }
        for (t, v) in &self.invalid {
            write!(f, "; invalid {t} {v}")?;
        }
        if !self.stale.is_empty() {
            let m: Vec<&str> = self.stale.iter().map(|t| t.as_str()).collect();
            write!(f, "; stale: {}", m.join(", "))?;
        }
        for g in &self.failed {
            write!(f, "; gate {} failed: {}", g.gate, g.problems.join("; "))?;
        }
        Ok(())
    }
}

/// What the gates read.
#[derive(Debug, Clone, Copy)]
pub struct GateInput<'a> {
    pub blackboard: &'a Blackboard,
    pub level: Level,
    pub approvals: &'a [ApprovalState],
}

/// The artifacts a transition out of `from` needs (DESIGN §4, "Needs").
pub fn required_artifacts(from: LifecycleState, level: Level) -> Vec<ArtifactType> {
    use ArtifactType as T;
    match from {
        LifecycleState::Initiate => vec![T::EventBrief, T::Requirements, T::StakeholderMap],
        LifecycleState::Plan => {
            let mut v = vec![T::Timeline, T::TaskRegister];
            if level >= Level::Intermediate {
                v.push(T::RiskRegister);
            }
            if level >= Level::Advanced {
                v.push(T::CommunicationsPlan);
            }
            v
        }
        LifecycleState::Research => vec![
            T::VenueCriteria,
            T::VenueLeads,
            T::VenueShortlist,
            T::VenueScorecard,
            T::VenueAvailability,
        ],
        LifecycleState::Budget => vec![T::BudgetBaseline, T::CostModel, T::BudgetDecision],
        LifecycleState::Logistics => vec![
            T::LogisticsPlan,
            T::Schedule,
            T::ResourceRoster,
            T::ContingencyPlan,
            T::VendorContracts,
        ],
        LifecycleState::Confirm => [
            LifecycleState::Initiate,
            LifecycleState::Plan,
            LifecycleState::Research,
            LifecycleState::Budget,
            LifecycleState::Logistics,
        ]
        .into_iter()
        .flat_map(|s| required_artifacts(s, level))
        .collect(),
        LifecycleState::Execute => vec![T::Runbook, T::IncidentLog],
        LifecycleState::Postmortem => vec![],
    }
}

/// The gates a transition out of `from` must pass.
pub fn gates_for(from: LifecycleState) -> &'static [Gate] {
    use Gate as G;
    match from {
        LifecycleState::Initiate => &[G::BriefComplete, G::HasOwner],
        LifecycleState::Plan => &[
            G::MilestonesPresent,
            G::DependenciesPresent,
            G::CriticalPathPresent,
            G::NoOrphanTask,
            G::HighRisksMitigated,
        ],
        LifecycleState::Research => &[
            G::ShortlistSize,
            G::WeightsSumToOne,
            G::EveryCandidateScored,
            G::RationalePresent,
            G::SelectedVenueMeetsCapacity,
        ],
        LifecycleState::Budget => &[
            G::AllocationsSumToTotal,
            G::LineItemsConsistent,
            G::VarianceWithinRule,
        ],
        LifecycleState::Logistics => &[
            G::WorkflowsLinked,
            G::ScheduleConflictFree,
            G::ScheduleWithinDates,
            G::RosterWithinAvailability,
            G::HighRisksHaveContingency,
        ],
        LifecycleState::Confirm => &[G::ApprovalsGranted, G::NoStaleArtifact],
        LifecycleState::Execute => &[G::EventEnded, G::IncidentsClosed],
        LifecycleState::Postmortem => &[],
    }
}

/// Decides the transition out of `from`: the next state, or everything that blocks it.
pub fn check_transition(
    from: LifecycleState,
    input: GateInput<'_>,
) -> Result<LifecycleState, Blocked> {
    let Some(to) = from.next() else {
        return Err(Blocked {
            from,
            to: from,
            missing: vec![],
            invalid: vec![],
            stale: vec![],
            failed: vec![],
        });
    };
    let bb = input.blackboard;
    let required = required_artifacts(from, input.level);
    let missing: Vec<ArtifactType> = required
        .iter()
        .copied()
        .filter(|t| bb.current(*t).is_none())
        .collect();
    let references = validate_references_of(bb, &required);
    let mut invalid = Vec::new();
    for t in &required {
        if bb.current(*t).is_some() {
            invalid.extend(bb.payload_findings(*t).iter().map(|v| (*t, v.clone())));
            invalid.extend(references.iter().filter(|(rt, _)| rt == t).cloned());
        }
    }
    let stale_all = bb.stale();
    let mut stale: Vec<ArtifactType> = stale_all
        .iter()
        .map(|(t, _)| *t)
        .filter(|t| required.contains(t))
        .collect();
    stale.dedup();
    let failed: Vec<GateFailure> = gates_for(from)
        .iter()
        .filter_map(|g| {
            let problems = evaluate_gate(*g, input);
            (!problems.is_empty()).then_some(GateFailure { gate: *g, problems })
        })
        .collect();
    if missing.is_empty() && invalid.is_empty() && stale.is_empty() && failed.is_empty() {
        Ok(to)
    } else {
        Err(Blocked {
            from,
            to,
            missing,
            invalid,
            stale,
            failed,
        })
    }
}

/// Evaluates one gate; an empty list means it passes. A gate whose artifacts are absent fails
/// with a problem naming them (the transition also lists them as missing).
// Long because: one short arm per gate of the lifecycle table (DESIGN.md), each reading only the
// artifacts its gate needs; split, the table would be scattered over thirty functions.
pub fn evaluate_gate(gate: Gate, input: GateInput<'_>) -> Vec<String> {
    let bb = input.blackboard;
    let mut p = Vec::new();
    macro_rules! need {
        ($t:ty) => {
            match bb.get::<$t>() {
                Some(x) => x,
                None => {
                    return vec![format!(
                        "{} is missing",
                        <$t as crate::artifact::CatalogType>::TYPE
                    )];
                }
            }
        };
    }
    match gate {
        Gate::BriefComplete => {
            let b = need!(EventBrief);
            let v = validate_payload(&crate::artifact::Payload::EventBrief(b.clone()));
            p.extend(v.iter().map(|x| format!("event_brief{x}")));
        }
        Gate::HasOwner => {
            let m = need!(StakeholderMap);
            if !m
                .stakeholders
                .iter()
                .any(|s| s.role == StakeholderRole::Owner)
            {
                p.push("stakeholder_map has no stakeholder with role owner".into());
            }
        }
        Gate::MilestonesPresent => {
            let t = need!(Timeline);
            if t.milestones.is_empty() {
                p.push("timeline has no milestones".into());
            }
        }
        Gate::DependenciesPresent => {
            let t = need!(Timeline);
            let tasks = need!(TaskRegister);
            if t.dependencies.is_empty() && !tasks.tasks.iter().any(|x| !x.depends_on.is_empty()) {
                p.push("no task dependencies are recorded".into());
            }
        }
        Gate::CriticalPathPresent => {
            let t = need!(Timeline);
            let tasks = need!(TaskRegister);
            if t.critical_path.is_empty() {
                p.push("timeline has no critical path".into());
            }
            for id in &t.critical_path {
                match tasks.tasks.iter().find(|x| &x.id == id) {
                    Some(task) if task.slack.0 != 0 => p.push(format!(
                        "critical task `{id}` has slack {}",
                        String::from(task.slack)
                    )),
                    Some(_) => {}
                    None => p.push(format!("critical path names unknown task `{id}`")),
                }
            }
        }
        Gate::NoOrphanTask => {
            let t = need!(Timeline);
            let tasks = need!(TaskRegister);
            let milestones: BTreeSet<&str> = t.milestones.iter().map(|m| m.id.as_str()).collect();
            for task in &tasks.tasks {
                if !milestones.contains(task.milestone_id.as_str()) {
                    p.push(format!(
                        "task `{}` belongs to no milestone (`{}` is unknown)",
                        task.id, task.milestone_id
                    ));
                }
            }
            let index: BTreeMap<&str, usize> = tasks
                .tasks
                .iter()
                .enumerate()
                .map(|(i, x)| (x.id.as_str(), i))
                .collect();
            let deps: Vec<Vec<usize>> = tasks
                .tasks
                .iter()
                .map(|x| {
                    x.depends_on
                        .iter()
                        .filter_map(|d| index.get(d.as_str()).copied())
                        .collect()
                })
                .collect();
            if let Order::Cyclic(nodes) = topological_order(tasks.tasks.len(), &deps) {
                let ids: Vec<&str> = nodes.iter().map(|i| tasks.tasks[*i].id.as_str()).collect();
                p.push(format!("task graph has a cycle through {}", ids.join(", ")));
            }
        }
        Gate::HighRisksMitigated => {
            if let Some(r) = bb.get::<RiskRegister>() {
                for risk in r.risks.iter().filter(|r| r.is_high()) {
                    if risk.mitigation.is_empty() {
                        p.push(format!(
                            "high risk `{}` (rating {}) has no mitigation",
                            risk.id, risk.rating
                        ));
                    }
                }
            } else if input.level >= Level::Intermediate {
                p.push("risk_register is missing".into());
            }
        }
        Gate::ShortlistSize => {
            let s = need!(VenueShortlist);
            if s.candidates.len() < 3 {
                p.push(format!(
                    "shortlist has {} candidates; at least 3 are needed",
                    s.candidates.len()
                ));
            }
        }
        Gate::WeightsSumToOne => {
            let s = need!(VenueScorecard);
            let sum: f64 = s.criteria_weights.values().sum();
            if (sum - 1.0).abs() > WEIGHT_EPSILON {
                p.push(format!("criteria weights sum to {sum}, not 1"));
            }
        }
        Gate::EveryCandidateScored => {
            let s = need!(VenueScorecard);
            let sl = need!(VenueShortlist);
            for c in &sl.candidates {
                match s.candidate_scores.iter().find(|x| x.candidate_id == c.id) {
                    None => p.push(format!("candidate `{}` is not scored", c.id)),
                    Some(cs) => {
                        for k in s.criteria_weights.keys() {
                            if !cs.scores.contains_key(k) {
                                p.push(format!(
                                    "candidate `{}` is not scored on {}",
                                    c.id,
                                    serde_json::to_string(k).unwrap_or_default()
                                ));
                            }
                        }
                    }
                }
            }
        }
        Gate::RationalePresent => {
            let s = need!(VenueScorecard);
            if s.selection_rationale.trim().is_empty() {
                p.push("the venue selection has no rationale".into());
            }
        }
        Gate::SelectedVenueMeetsCapacity => {
            let s = need!(VenueScorecard);
            let sl = need!(VenueShortlist);
            let b = need!(EventBrief);
            match sl
                .candidates
                .iter()
                .find(|c| c.id == s.selected_candidate_id)
            {
                None => p.push(format!(
                    "selected candidate `{}` is not on the shortlist",
                    s.selected_candidate_id
                )),
                Some(c) if c.capacity < b.audience_size => p.push(format!(
                    "selected venue holds {} but the audience is {}",
                    c.capacity, b.audience_size
                )),
                Some(_) => {}
            }
        }
        Gate::AllocationsSumToTotal => {
            let b = need!(BudgetBaseline);
            let sum: Decimal = b.allocations.iter().map(|a| a.amount).sum();
            if sum != b.total {
                p.push(format!("allocations sum to {sum}, not {}", b.total));
            }
        }
        Gate::LineItemsConsistent => {
            let c = need!(CostModel);
            for li in &c.line_items {
                if (li.qty * li.unit_cost).round_dp(2) != li.total {
                    p.push(format!(
                        "line item `{}`: {} × {} ≠ {}",
                        li.id, li.qty, li.unit_cost, li.total
                    ));
                }
            }
            let sum: Decimal = c.line_items.iter().map(|l| l.total).sum();
            if sum != c.total {
                p.push(format!("line items sum to {sum}, not {}", c.total));
            }
        }
        Gate::VarianceWithinRule => {
            let b = need!(BudgetBaseline);
            let c = need!(CostModel);
            let d = need!(BudgetDecision);
            if !matches!(d.status, BudgetStatus::Proposed | BudgetStatus::Approved) {
                p.push("budget decision is neither proposed nor approved".into());
            }
            let variance = crate::metrics::budget_variance(c.total, b.total);
            let requested = input.approvals.iter().any(|a| {
                a.gate == ApprovalGate::BudgetDecision && a.status != ApprovalStatus::Rejected
            });
            if variance * 100.0 > c.variance_rules.max_variance_pct && !requested {
                p.push(format!(
                    "cost variance {:.1}% exceeds {}% and no budget approval is requested",
                    variance * 100.0,
                    c.variance_rules.max_variance_pct
                ));
            }
        }
        Gate::WorkflowsLinked => {
            let l = need!(LogisticsPlan);
            for w in &l.workflows {
                if w.task_ids.is_empty() {
                    p.push(format!("workflow `{}` is linked to no task", w.id));
                }
                if w.owner.as_str().trim().is_empty() {
                    p.push(format!("workflow `{}` has no owner", w.id));
                }
            }
        }
        Gate::ScheduleConflictFree => {
            let s = need!(Schedule);
            p.extend(schedule_conflicts(s));
        }
        Gate::ScheduleWithinDates => {
            let s = need!(Schedule);
            let b = need!(EventBrief);
            p.extend(crate::hours::sessions_outside_hours(b, &s.sessions));
        }
        Gate::RosterWithinAvailability => {
            let r = need!(ResourceRoster);
            for res in &r.resources {
                for a in &res.assignments {
                    if !res
                        .availability
                        .iter()
                        .any(|w| w.start <= a.start && a.end <= w.end)
                    {
                        p.push(format!(
                            "`{}` is assigned to {} outside their availability",
                            res.id, a.duty
                        ));
                    }
                }
            }
        }
        Gate::HighRisksHaveContingency => {
            if let Some(r) = bb.get::<RiskRegister>() {
                let c = need!(ContingencyPlan);
                for risk in r.risks.iter().filter(|r| r.is_high()) {
                    let ok = c.scenarios.iter().any(|s| {
                        s.risk_id == risk.id
                            && !s.trigger.condition.trim().is_empty()
                            && !s.owner.as_str().is_empty()
                    });
                    if !ok {
                        p.push(format!("high risk `{}` has no contingency scenario with a trigger and an owner", risk.id));
                    }
                }
            }
        }
        Gate::ApprovalsGranted => {
            for g in ApprovalGate::ALL {
                match approval_for_current(g, input) {
                    Some(ApprovalStatus::Approved) => {}
                    Some(s) => p.push(format!("{g} is {}", s.as_str())),
                    None => p.push(format!("{g} has no approval for the current revision")),
                }
            }
        }
        Gate::NoStaleArtifact => {
            // The runbook of a live event is what people recorded before Execute; Execute
            // derives it again from the current task register (keeping what was recorded, by
            // task id), so a re-plan does not make it a stale plan. Message drafts are words
            // people send, written on request: an older draft is not a stale plan (writing them
            // again follows the plan; the Messages tab says from what they were written).
            for (t, input_ref) in bb
                .stale()
                .into_iter()
                .filter(|(t, _)| !matches!(t, ArtifactType::Runbook | ArtifactType::MessageDrafts))
            {
                p.push(format!(
                    "{t} is derived from {input_ref}, which is no longer current"
                ));
            }
        }
        Gate::EventEnded => {
            let r = need!(Runbook);
            if !r.event_ended {
                p.push("the event has not ended".into());
            }
        }
        Gate::IncidentsClosed => {
            let l = need!(IncidentLog);
            for i in &l.incidents {
                if i.status == IncidentStatus::Open {
                    p.push(format!(
                        "incident `{}` is neither resolved nor escalated",
                        i.id
                    ));
                }
            }
        }
    }
    p
}

/// The status of the approval that covers the current content of a gate's artifact. Revisions
/// written by a person or the engine (an approval stamp) do not need a new approval; the content
/// revision is the newest one written by an agent.
pub fn approval_for_current(gate: ApprovalGate, input: GateInput<'_>) -> Option<ApprovalStatus> {
    let rev = content_revision(gate, input.blackboard)?;
    input
        .approvals
        .iter()
        .filter(|a| a.gate == gate && a.artifact_revision == rev)
        .map(|a| a.status)
        .next_back()
}

/// The revision whose content an approval of `gate` must cover.
pub fn content_revision(gate: ApprovalGate, bb: &Blackboard) -> Option<u32> {
    let c = bb.current(gate.artifact_type())?;
    if crate::ids::Actor::is_agent(&c.created_by) {
        return Some(c.revision);
    }
    c.derived_from
        .iter()
        .filter(|r| r.artifact_type == gate.artifact_type())
        .map(|r| r.revision)
        .max()
        .or(Some(c.revision))
}

/// Room and resource double-bookings in a schedule, as messages.
pub fn schedule_conflicts(s: &Schedule) -> Vec<String> {
    let mut p = Vec::new();
    let mut by_room: BTreeMap<&str, Vec<&crate::catalog::logistics::Session>> = BTreeMap::new();
    let mut by_resource: BTreeMap<&str, Vec<&crate::catalog::logistics::Session>> = BTreeMap::new();
    for x in &s.sessions {
        by_room.entry(x.room.as_str()).or_default().push(x);
        for r in &x.resources {
            by_resource.entry(r.as_str()).or_default().push(x);
        }
    }
    for (what, map) in [("room", &mut by_room), ("resource", &mut by_resource)] {
        for (key, list) in map.iter_mut() {
            list.sort_by_key(|x| x.start);
            for pair in list.windows(2) {
                if pair[1].start < pair[0].end {
                    p.push(format!(
                        "{what} `{key}` is double-booked: `{}` and `{}` overlap",
                        pair[0].id, pair[1].id
                    ));
                }
            }
        }
    }
    p
}

/// Share helper for gate messages: `part ÷ whole` as f64.
pub fn ratio(part: Decimal, whole: Decimal) -> f64 {
    if whole.is_zero() {
        return 0.0;
    }
    (part / whole).to_f64().unwrap_or(0.0)
}
