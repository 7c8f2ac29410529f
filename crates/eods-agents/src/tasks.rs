//! The standard task template of an event plan — its tasks' keys and ids (`task-1` …),
//! durations, dependencies, milestones and owner roles — and who owns a role's work. The Event
//! Planner builds the task register from it; Logistics and Execute find tasks and owners through
//! it. A leaf: it depends on no agent module.

use eods_domain::catalog::brief::StakeholderRole;
use eods_domain::catalog::planning::StakeholderMap;
use eods_domain::ids::{StakeholderId, TaskId};

/// The standard tasks of an event plan. Their order fixes their ids (`task-1` …).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskKey {
    ConfirmScope,
    ProgramFormat,
    VenueSearch,
    BookVenue,
    Speakers,
    FinaliseProgram,
    ContractSuppliers,
    Registration,
    Staffing,
    Materials,
    Walkthrough,
}

/// One task of the template.
pub(crate) struct TaskTemplate {
    pub(crate) key: TaskKey,
    pub(crate) title: &'static str,
    /// Duration in days for a conference (scale 1.0).
    pub(crate) base_days: u32,
    pub(crate) deps: &'static [TaskKey],
    /// Index into MILESTONES.
    pub(crate) milestone: usize,
    pub(crate) owner: StakeholderRole,
    /// Share of the owner's working day the task takes (1.0 = full time).
    pub(crate) effort: f64,
}

/// The standard tasks, in id order.
pub(crate) const TEMPLATE: &[TaskTemplate] = &[
    TaskTemplate {
        key: TaskKey::ConfirmScope,
        title: "Confirm objectives, scope and budget envelope",
        base_days: 10,
        deps: &[],
        milestone: 0,
        effort: 0.5,
        owner: StakeholderRole::Owner,
    },
    TaskTemplate {
        key: TaskKey::ProgramFormat,
        title: "Define program format and tracks",
        base_days: 14,
        deps: &[TaskKey::ConfirmScope],
        milestone: 0,
        effort: 0.5,
        owner: StakeholderRole::Owner,
    },
    TaskTemplate {
        key: TaskKey::VenueSearch,
        title: "Research, shortlist and score venues",
        base_days: 21,
        deps: &[TaskKey::ConfirmScope],
        milestone: 1,
        effort: 0.6,
        owner: StakeholderRole::Owner,
    },
    TaskTemplate {
        key: TaskKey::BookVenue,
        title: "Negotiate and book the venue",
        base_days: 14,
        deps: &[TaskKey::VenueSearch],
        milestone: 1,
        effort: 0.4,
        owner: StakeholderRole::Finance,
    },
    TaskTemplate {
        key: TaskKey::Speakers,
        title: "Invite speakers and run the call for sessions",
        base_days: 42,
        deps: &[TaskKey::ProgramFormat],
        milestone: 2,
        effort: 0.3,
        owner: StakeholderRole::Owner,
    },
    TaskTemplate {
        key: TaskKey::FinaliseProgram,
        title: "Finalise program and session schedule",
        base_days: 14,
        deps: &[TaskKey::Speakers, TaskKey::BookVenue],
        milestone: 2,
        effort: 0.6,
        owner: StakeholderRole::Owner,
    },
    TaskTemplate {
        key: TaskKey::ContractSuppliers,
        title: "Contract catering, AV and other suppliers",
        base_days: 21,
        deps: &[TaskKey::BookVenue],
        milestone: 3,
        effort: 0.5,
        owner: StakeholderRole::Finance,
    },
    TaskTemplate {
        key: TaskKey::Registration,
        title: "Open registration and promote the event",
        base_days: 42,
        deps: &[TaskKey::FinaliseProgram],
        milestone: 3,
        effort: 0.4,
        owner: StakeholderRole::Owner,
    },
    TaskTemplate {
        key: TaskKey::Staffing,
        title: "Recruit and brief staff and volunteers",
        base_days: 21,
        deps: &[TaskKey::FinaliseProgram],
        milestone: 4,
        effort: 0.5,
        owner: StakeholderRole::Volunteer,
    },
    TaskTemplate {
        key: TaskKey::Materials,
        title: "Produce badges, signage and materials",
        base_days: 14,
        deps: &[TaskKey::Registration],
        milestone: 4,
        effort: 0.4,
        owner: StakeholderRole::Volunteer,
    },
    TaskTemplate {
        key: TaskKey::Walkthrough,
        title: "Final walkthrough and run-of-show",
        base_days: 3,
        deps: &[
            TaskKey::ContractSuppliers,
            TaskKey::Staffing,
            TaskKey::Materials,
        ],
        milestone: 4,
        effort: 0.8,
        owner: StakeholderRole::Owner,
    },
];

/// The milestones the tasks lead to, in id order.
pub(crate) const MILESTONES: [&str; 5] = [
    "Plan approved",
    "Venue confirmed",
    "Program published",
    "Suppliers contracted",
    "Ready for event day",
];

/// The id of a standard task.
pub fn task_id(key: TaskKey) -> TaskId {
    TaskId::nth(
        TEMPLATE
            .iter()
            .position(|t| t.key == key)
            .map_or(0, |i| i + 1),
    )
}

/// The stakeholder who should own work of `role`: the first with that role, else the first owner.
pub fn owner_for(map: &StakeholderMap, role: StakeholderRole) -> StakeholderId {
    map.stakeholders
        .iter()
        .find(|s| s.role == role)
        .or_else(|| {
            map.stakeholders
                .iter()
                .find(|s| s.role == StakeholderRole::Owner)
        })
        .or_else(|| map.stakeholders.first())
        .map_or_else(|| StakeholderId::nth(1), |s| s.id.clone())
}
