//! The standard task template of an event plan — its tasks' keys and ids (`task-1` …),
//! durations, dependencies, milestones and owner roles — and who owns a role's work. The Event
//! Planner builds the task register from it; Logistics and Execute find tasks and owners through
//! it. A leaf: it depends on no agent module.

use eods_domain::catalog::brief::{EventType, StakeholderRole};
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
    // Work of some event types only (ids after the standard tasks', see `template_for`).
    Permits,
    Licensing,
    Security,
    Sanitation,
    Medical,
    Ticketing,
    CallForPapers,
    Sponsorship,
    Recording,
    Seating,
    Entertainment,
    Equipment,
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

/// Work an event of one type needs beyond the standard tasks, with the standard tasks it must
/// finish before (`feeds`): a festival's permits, licences, security, sanitation, medical cover
/// and ticketing; a conference's call for papers, sponsorship and recording; a gala's seating and
/// entertainment; a workshop's equipment. Appended after the standard tasks (`task-12` on), so
/// the standard tasks keep their ids.
pub(crate) struct Extra {
    pub(crate) for_type: EventType,
    pub(crate) task: TaskTemplate,
    pub(crate) feeds: &'static [TaskKey],
}

#[allow(clippy::too_many_arguments)]
const fn extra(
    for_type: EventType,
    key: TaskKey,
    title: &'static str,
    base_days: u32,
    deps: &'static [TaskKey],
    feeds: &'static [TaskKey],
    milestone: usize,
    owner: StakeholderRole,
    effort: f64,
) -> Extra {
    Extra {
        for_type,
        task: TaskTemplate {
            key,
            title,
            base_days,
            deps,
            milestone,
            owner,
            effort,
        },
        feeds,
    }
}

pub(crate) const EXTRAS: &[Extra] = &[
    extra(
        EventType::Festival,
        TaskKey::Permits,
        "Apply for event permits (city, fire safety, noise) and meet their conditions",
        42,
        &[TaskKey::BookVenue],
        &[TaskKey::Walkthrough],
        3,
        StakeholderRole::Owner,
        0.3,
    ),
    extra(
        EventType::Festival,
        TaskKey::Licensing,
        "Obtain alcohol, music and trading licences",
        28,
        &[TaskKey::BookVenue],
        &[TaskKey::Walkthrough],
        3,
        StakeholderRole::Owner,
        0.2,
    ),
    extra(
        EventType::Festival,
        TaskKey::Security,
        "Contract security and a crowd-management plan",
        21,
        &[TaskKey::BookVenue],
        &[TaskKey::Walkthrough],
        3,
        StakeholderRole::Finance,
        0.3,
    ),
    extra(
        EventType::Festival,
        TaskKey::Sanitation,
        "Arrange toilets, water, waste and cleaning",
        14,
        &[TaskKey::BookVenue],
        &[TaskKey::Walkthrough],
        3,
        StakeholderRole::Finance,
        0.2,
    ),
    extra(
        EventType::Festival,
        TaskKey::Medical,
        "Book first-aid and medical cover",
        14,
        &[TaskKey::BookVenue],
        &[TaskKey::Walkthrough],
        3,
        StakeholderRole::Owner,
        0.2,
    ),
    extra(
        EventType::Festival,
        TaskKey::Ticketing,
        "Set up ticketing, wristbands and gate control",
        21,
        &[TaskKey::ConfirmScope],
        &[TaskKey::Registration],
        3,
        StakeholderRole::Owner,
        0.3,
    ),
    extra(
        EventType::Conference,
        TaskKey::CallForPapers,
        "Run the call for papers and the review committee",
        35,
        &[TaskKey::ProgramFormat],
        &[TaskKey::FinaliseProgram],
        2,
        StakeholderRole::Owner,
        0.3,
    ),
    extra(
        EventType::Conference,
        TaskKey::Sponsorship,
        "Sell sponsorship packages and collect sponsor deliverables",
        42,
        &[TaskKey::ConfirmScope],
        &[TaskKey::Materials],
        3,
        StakeholderRole::Owner,
        0.3,
    ),
    extra(
        EventType::Conference,
        TaskKey::Recording,
        "Arrange session recording and streaming",
        14,
        &[TaskKey::BookVenue],
        &[TaskKey::Walkthrough],
        3,
        StakeholderRole::Finance,
        0.2,
    ),
    extra(
        EventType::Gala,
        TaskKey::Seating,
        "Plan the seating and table assignments",
        7,
        &[TaskKey::Registration],
        &[TaskKey::Walkthrough],
        4,
        StakeholderRole::Owner,
        0.4,
    ),
    extra(
        EventType::Gala,
        TaskKey::Entertainment,
        "Book the entertainment and the host",
        21,
        &[TaskKey::BookVenue],
        &[TaskKey::Walkthrough],
        3,
        StakeholderRole::Finance,
        0.2,
    ),
    extra(
        EventType::Workshop,
        TaskKey::Equipment,
        "Prepare the hands-on equipment, software and accounts for participants",
        10,
        &[TaskKey::FinaliseProgram],
        &[TaskKey::Walkthrough],
        4,
        StakeholderRole::Owner,
        0.4,
    ),
];

/// The tasks of an event of type `t`: the standard ones, then its type's extra work; and for
/// each, the tasks it must finish before beyond the template's own dependencies.
pub(crate) fn template_for(t: EventType) -> Vec<(&'static TaskTemplate, &'static [TaskKey])> {
    TEMPLATE
        .iter()
        .map(|x| (x, &[][..]))
        .chain(
            EXTRAS
                .iter()
                .filter(|e| e.for_type == t)
                .map(|e| (&e.task, e.feeds)),
        )
        .collect()
}

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
