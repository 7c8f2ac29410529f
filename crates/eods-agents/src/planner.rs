//! Event Planner: requirements and stakeholder map from the brief (intake), then a
//! backward-scheduled task plan with CPM, milestones, risks and a communications plan.

use crate::cpm;
use crate::instructions::{PlannerParams, TaskNetwork};
use crate::tasks::{MILESTONES, TaskKey, TaskTemplate, owner_for, template_for};
use crate::{AgentError, Inputs, StepOutput};
use chrono::{Duration, NaiveDate};
use eods_domain::artifact::CatalogType;
use eods_domain::catalog::audit::Alternative;
use eods_domain::catalog::brief::{EventBrief, EventType, StakeholderRole};
use eods_domain::catalog::planning::{
    Channel, CommunicationEntry, CommunicationsPlan, Days, DecisionRight, Dependency, Milestone,
    Phase, Requirement, Requirements, ResourceLevelling, ResourceLoad, Risk, RiskCategory,
    RiskRegister, RiskStatus, Stakeholder, StakeholderMap, Task, TaskRegister, TaskShift,
    TaskStatus, Timeline,
};
use eods_domain::ids::{
    CommId, MilestoneId, PhaseId, RequirementId, RiskId, StakeholderId, TaskId,
};
use eods_domain::money::Money;
use rust_decimal::Decimal;

/// Requirements and stakeholder map from the brief.
pub fn intake(input: Inputs<'_>) -> Result<StepOutput, AgentError> {
    let b = input.need::<EventBrief>()?;
    use eods_domain::constraints::TextSource;
    let readings = eods_domain::constraints::read_brief(b);
    let mut n = 0;
    let mut req = |description: String, source: String| {
        n += 1;
        // A requirement copied from a brief text records what it was understood as.
        let pointer = format!(
            "/{}",
            source
                .trim_start_matches("brief.")
                .replace(['.', '['], "/")
                .replace(']', "")
        );
        let reading = readings.iter().find(|r| r.pointer == pointer);
        Requirement {
            id: RequirementId::nth(n),
            description,
            source,
            understood_as: reading
                .map(|r| {
                    r.understood
                        .iter()
                        .map(|u| match r.source {
                            // A preference informs the plan; it does not exclude venues.
                            TextSource::Preference => format!("preferred: {}", u.describe()),
                            TextSource::Constraint | TextSource::Objective => u.describe(),
                        })
                        .collect()
                })
                .unwrap_or_default(),
            not_understood: reading.and_then(|r| r.not_understood.clone()),
        }
    };
    let mut functional: Vec<Requirement> = b
        .objectives
        .iter()
        .enumerate()
        .map(|(i, o)| req(o.clone(), format!("brief.objectives[{i}]")))
        .collect();
    functional.push(req(
        format!(
            "Host {} attendees for {} day(s) in {}",
            b.audience_size,
            b.days(),
            b.location.city
        ),
        "brief.audience_size".into(),
    ));
    if !b.program.is_empty() {
        functional.push(req(
            format!(
                "Schedule {} program sessions across {} track(s)",
                b.program.len(),
                b.tracks
            ),
            "brief.program".into(),
        ));
    }
    let mut nonfunctional: Vec<Requirement> = b
        .constraints
        .iter()
        .enumerate()
        .map(|(i, c)| req(c.clone(), format!("brief.constraints[{i}]")))
        .collect();
    nonfunctional.push(req(
        "Step-free access and accessible toilets for every attendee".into(),
        "policy.accessibility".into(),
    ));
    nonfunctional.push(req(
        format!("All times planned and published in {}", b.timezone),
        "brief.timezone".into(),
    ));
    let must_have = vec![
        req(
            format!("A venue that holds at least {} people", b.audience_size),
            "brief.audience_size".into(),
        ),
        req(
            format!(
                "Total cost within {} {} ({} budget)",
                b.budget.total,
                b.budget.currency,
                if eods_domain::constraints::budget_is_fixed(b) {
                    "fixed"
                } else {
                    "variable"
                }
            ),
            "brief.budget".into(),
        ),
        req(
            format!("Event held {} to {}", b.first_day(), b.last_day()),
            "brief.date_range".into(),
        ),
    ];
    let nice_to_have: Vec<Requirement> = b
        .location
        .preferences
        .iter()
        .enumerate()
        .map(|(i, p)| {
            req(
                format!("Venue preference: {p}"),
                format!("brief.location.preferences[{i}]"),
            )
        })
        .collect();

    let stakeholders = stakeholders(b);
    let owner_count = stakeholders
        .stakeholders
        .iter()
        .filter(|s| s.role == StakeholderRole::Owner)
        .count();
    Ok(StepOutput {
        raised: vec![],
        summary: format!("Derived {} requirements and mapped {} stakeholders ({owner_count} owner)", functional.len() + nonfunctional.len() + must_have.len() + nice_to_have.len(), stakeholders.stakeholders.len()),
        rationale: "Requirements follow the brief's objectives, constraints and preferences; capacity, budget and dates are must-haves. Decision rights follow each stakeholder's role.".into(),
        alternatives: vec![],
        artifacts: vec![Requirements { functional, nonfunctional, must_have, nice_to_have }.into_payload(), stakeholders.into_payload()],
    })
}

fn rights(role: StakeholderRole) -> Vec<DecisionRight> {
    use DecisionRight as R;
    match role {
        StakeholderRole::Owner => vec![
            R::VenueSelection,
            R::BudgetDecision,
            R::VendorContracts,
            R::Program,
            R::Communications,
        ],
        StakeholderRole::Approver => vec![R::VenueSelection, R::BudgetDecision, R::VendorContracts],
        StakeholderRole::Finance => vec![R::BudgetDecision, R::VendorContracts],
        StakeholderRole::Sponsor => vec![R::Program],
        StakeholderRole::Speaker
        | StakeholderRole::Vendor
        | StakeholderRole::Attendee
        | StakeholderRole::Volunteer
        | StakeholderRole::Other => vec![],
    }
}

fn stakeholders(b: &EventBrief) -> StakeholderMap {
    let mut list: Vec<Stakeholder> = b
        .stakeholders
        .iter()
        .enumerate()
        .map(|(i, s)| Stakeholder {
            id: StakeholderId::nth(i + 1),
            name: s.name.clone(),
            role: s.role,
            contact: s.contact.clone(),
            decision_rights: rights(s.role),
            backup_for: vec![],
        })
        .collect();
    // The first approver (else finance) stands in for every owner.
    let owners: Vec<StakeholderId> = list
        .iter()
        .filter(|s| s.role == StakeholderRole::Owner)
        .map(|s| s.id.clone())
        .collect();
    let backup = list
        .iter()
        .position(|s| s.role == StakeholderRole::Approver)
        .or_else(|| list.iter().position(|s| s.role == StakeholderRole::Finance));
    if let Some(i) = backup {
        list[i].backup_for = owners;
    }
    StakeholderMap { stakeholders: list }
}

/// Timeline, tasks (CPM), risks and communications.
pub fn plan(input: Inputs<'_>, p: &PlannerParams) -> Result<StepOutput, AgentError> {
    let b = input.need::<EventBrief>()?;
    let map = input.need::<StakeholderMap>()?;
    let deadline = b.first_day() - Duration::days(1);
    // Bigger events need longer: above 200 people every task and the lead time grow with the
    // audience (×1.3 at 400, ×1.6 at 800, at most ×2).
    let size = size_factor(b.audience_size);
    let lead = (f64::from(p.lead_time_days.get(&b.event_type).copied().unwrap_or(90)) * size)
        .round() as i64;
    let template = template_for(b.event_type);
    let tpl: Vec<&TaskTemplate> = template.iter().map(|(t, _)| *t).collect();
    let scale = p.duration_scale.get(&b.event_type).copied().unwrap_or(1.0) * size;
    let deps = task_network(p.task_network, &template);
    // The plan at full length, to know how many days it needs.
    let (_, _, nominal) = fit_window(scale, &deps, u32::MAX, &tpl)?;
    // Planning starts at the brief's planning_start, else a lead time before the event (earlier
    // when the full plan needs longer), and never before the day the event was submitted.
    let wanted = b.planning_start.unwrap_or_else(|| {
        (b.first_day() - Duration::days(lead))
            .min(deadline - Duration::days(i64::from(nominal) - 1))
    });
    let plan_start = input
        .directives
        .plan_from
        .map_or(wanted, |today| wanted.max(today));
    let window = u32::try_from((deadline - plan_start).num_days() + 1).unwrap_or(0);
    if window < u32::try_from(tpl.len()).unwrap_or(u32::MAX) {
        return Err(too_little_time(window, plan_start, deadline, tpl.len()));
    }
    let (durations, result, _) = fit_window(scale, &deps, window, &tpl)?;
    let compressed = (result.duration < nominal).then(|| Compressed {
        planned: result.duration,
        nominal,
        limit: if b.planning_start.is_some_and(|s| s >= plan_start) {
            Limit::PlanningStart(plan_start)
        } else {
            Limit::Today(plan_start)
        },
    });
    let anchor = deadline - Duration::days(i64::from(result.duration) - 1);

    let owners: Vec<StakeholderId> = tpl.iter().map(|t| owner_for(map, t.owner)).collect();
    let (starts, levelling) = if p.resource_levelling {
        level_owners(&durations, &deps, &result, &owners, &tpl)
    } else {
        (result.figures.iter().map(|f| f.early_start).collect(), None)
    };
    let tasks = tasks(&durations, &deps, &result, &owners, &starts, anchor, &tpl);
    let milestones = milestones(&tasks, &deps, deadline, &tpl);
    let phases = phases(b, &tasks, plan_start, deadline, &tpl);
    let dependencies: Vec<Dependency> = tasks
        .iter()
        .flat_map(|t| {
            t.depends_on.iter().map(|d| Dependency {
                from: d.clone(),
                to: t.id.clone(),
            })
        })
        .collect();
    let critical_path: Vec<TaskId> = result
        .critical_path
        .iter()
        .map(|&i| tasks[i].id.clone())
        .collect();

    let risks = risk_register(b, map, compressed.as_ref());
    let comms = communications(b, map, p.comms_all_audiences);
    let cp_names: Vec<&str> = result.critical_path.iter().map(|&i| tpl[i].title).collect();
    let summary = format!(
        "Planned {} tasks in {} milestones over {} days (critical path {} tasks{}), {} risks, {} communications",
        tasks.len(),
        milestones.len(),
        result.duration,
        critical_path.len(),
        if compressed.is_some() {
            ", compressed"
        } else {
            ""
        },
        risks.risks.len(),
        comms.entries.len()
    );
    Ok(StepOutput {
        raised: vec![],
        summary,
        rationale: format!(
            "Backward-scheduled from {} so that every task ends before the event; the critical path is {}.{}",
            b.first_day(),
            cp_names.join(" → "),
            if compressed.is_some() {
                format!(
                    " Durations were compressed to fit {window} planning days (nominal {nominal})."
                )
            } else {
                String::new()
            }
        ),
        alternatives: vec![],
        artifacts: vec![
            Timeline {
                plan_start,
                phases,
                milestones,
                dependencies,
                critical_path,
                project_end: b.last_day(),
                resource_levelling: levelling,
            }
            .into_payload(),
            TaskRegister { tasks }.into_payload(),
            risks.into_payload(),
            comms.into_payload(),
        ],
    })
}

/// How much longer an event of `audience` people takes to plan than one of 200: 1 up to 200,
/// then growing with the doubling of the audience (×1.3 at 400, ×1.6 at 800), at most 2.
pub fn size_factor(audience: u32) -> f64 {
    if audience <= 200 {
        return 1.0;
    }
    (1.0 + 0.3 * (f64::from(audience) / 200.0).log2()).min(2.0)
}

/// The block when the planning window is shorter than the template's tasks.
fn too_little_time(
    window: u32,
    plan_start: NaiveDate,
    deadline: NaiveDate,
    tasks: usize,
) -> AgentError {
    AgentError::Infeasible {
        reason: format!(
            "only {window} planning day(s) between {plan_start} and {deadline}; at least {tasks} are needed"
        ),
        alternatives: vec![
            alt(
                "Move the event date later",
                0.8,
                "keeps the full plan",
                "attendees must be told",
            ),
            alt(
                "Start planning earlier (planning_start)",
                0.6,
                "no date change",
                "only if work can start sooner",
            ),
        ],
    }
}

/// Each template task's predecessors. A checklist runs the template's tasks one after another
/// (its order is topological); the network keeps only the real dependencies, so independent
/// work runs in parallel.
fn task_network(
    network: TaskNetwork,
    template: &[(&TaskTemplate, &'static [TaskKey])],
) -> Vec<Vec<usize>> {
    let at = |k: TaskKey| template.iter().position(|(x, _)| x.key == k);
    let dag: Vec<Vec<usize>> = template
        .iter()
        .map(|(t, _)| {
            let mut deps: Vec<usize> = t.deps.iter().filter_map(|d| at(*d)).collect();
            // The type's extra work that must finish before this task.
            deps.extend(
                template
                    .iter()
                    .enumerate()
                    .filter(|(_, (_, feeds))| feeds.contains(&t.key))
                    .map(|(i, _)| i),
            );
            deps
        })
        .collect();
    match network {
        TaskNetwork::Dag => dag,
        TaskNetwork::Checklist => {
            // One task after another, in an order that respects the network: of the tasks whose
            // predecessors are done, the earliest milestone first, then the template's order.
            let n = template.len();
            let mut done = vec![false; n];
            let mut order = Vec::with_capacity(n);
            while order.len() < n {
                let next = (0..n)
                    .filter(|&i| !done[i] && dag[i].iter().all(|&d| done[d]))
                    .min_by_key(|&i| (template[i].0.milestone, i))
                    // A cycle (the template has none): take the rest in order.
                    .or_else(|| (0..n).find(|&i| !done[i]));
                let Some(i) = next else { break };
                done[i] = true;
                order.push(i);
            }
            let mut chain = vec![vec![]; n];
            for w in order.windows(2) {
                chain[w[1]] = vec![w[0]];
            }
            chain
        }
    }
}

/// The template's durations scaled by `scale`, compressed by 5% at a time until the critical
/// path fits the window (a tight timeline); with their CPM figures and the nominal duration.
fn fit_window(
    scale: f64,
    deps: &[Vec<usize>],
    window: u32,
    tpl: &[&TaskTemplate],
) -> Result<(Vec<u32>, cpm::Cpm, u32), AgentError> {
    let durations_at = |factor: f64| -> Vec<u32> {
        tpl.iter()
            .map(|t| ((f64::from(t.base_days) * factor).round() as u32).max(1))
            .collect()
    };
    let mut factor = scale;
    let mut durations = durations_at(factor);
    let mut result = cpm::compute(&durations, deps).map_err(|c| AgentError::Infeasible {
        reason: format!("task template has a cycle through {:?}", c.0),
        alternatives: vec![],
    })?;
    let nominal = result.duration;
    while result.duration > window {
        factor *= 0.95;
        durations = durations_at(factor);
        result = cpm::compute(&durations, deps).map_err(|c| AgentError::Infeasible {
            reason: format!("task template has a cycle through {:?}", c.0),
            alternatives: vec![],
        })?;
    }
    Ok((durations, result, nominal))
}

/// The template's tasks, each starting `starts[i]` days after `anchor`, with its owner,
/// dependencies and the slack left after levelling.
fn tasks(
    durations: &[u32],
    deps: &[Vec<usize>],
    result: &cpm::Cpm,
    owners: &[StakeholderId],
    starts: &[u32],
    anchor: NaiveDate,
    tpl: &[&TaskTemplate],
) -> Vec<Task> {
    let day = |offset: u32| anchor + Duration::days(i64::from(offset));
    tpl.iter()
        .enumerate()
        .map(|(i, t)| {
            let f = result.figures[i];
            Task {
                id: TaskId::nth(i + 1),
                title: t.title.into(),
                owner: owners[i].clone(),
                status: TaskStatus::NotStarted,
                start: day(starts[i]),
                end: day(starts[i] + durations[i] - 1),
                duration: Days(durations[i]),
                depends_on: deps[i].iter().map(|&d| TaskId::nth(d + 1)).collect(),
                milestone_id: MilestoneId::nth(t.milestone + 1),
                // Total float left after levelling: how far the task may still slip.
                slack: Days(f.late_start - starts[i]),
            }
        })
        .collect()
}

/// The milestones, each dated by the last of its tasks and depending on the milestones its
/// tasks' predecessors belong to.
fn milestones(
    tasks: &[Task],
    deps: &[Vec<usize>],
    deadline: NaiveDate,
    tpl: &[&TaskTemplate],
) -> Vec<Milestone> {
    let milestone_date = |m: usize| {
        tasks
            .iter()
            .zip(tpl)
            .filter(|(_, t)| t.milestone == m)
            .map(|(x, _)| x.end)
            .max()
            .unwrap_or(deadline)
    };
    MILESTONES
        .iter()
        .enumerate()
        .map(|(m, name)| {
            let mut depends_on: Vec<MilestoneId> = tpl
                .iter()
                .zip(deps)
                .filter(|(t, _)| t.milestone == m)
                .flat_map(|(_, ds)| ds.iter())
                .map(|&d| tpl[d])
                .filter(|d| d.milestone != m)
                .map(|d| MilestoneId::nth(d.milestone + 1))
                .collect();
            depends_on.sort();
            depends_on.dedup();
            Milestone {
                id: MilestoneId::nth(m + 1),
                name: (*name).into(),
                date: milestone_date(m),
                depends_on,
            }
        })
        .collect()
}

/// The phases, each spanning the tasks of its milestones, then the event itself.
fn phases(
    b: &EventBrief,
    tasks: &[Task],
    plan_start: NaiveDate,
    deadline: NaiveDate,
    tpl: &[&TaskTemplate],
) -> Vec<Phase> {
    let span = |ms: &[usize]| -> (NaiveDate, NaiveDate) {
        let xs: Vec<&Task> = tasks
            .iter()
            .zip(tpl)
            .filter(|(_, t)| ms.contains(&t.milestone))
            .map(|(x, _)| x)
            .collect();
        (
            xs.iter().map(|x| x.start).min().unwrap_or(plan_start),
            xs.iter().map(|x| x.end).max().unwrap_or(deadline),
        )
    };
    let phase = |n: usize, name: &str, (start, end): (NaiveDate, NaiveDate)| Phase {
        id: PhaseId::nth(n),
        name: name.into(),
        start,
        end,
    };
    vec![
        phase(1, "Initiation", span(&[0])),
        phase(2, "Sourcing", span(&[1, 3])),
        phase(3, "Program", span(&[2])),
        phase(4, "Readiness", span(&[4])),
        phase(5, "Event", (b.first_day(), b.last_day())),
    ]
}

/// Levels each owner's load (the template's effort shares, one full-time person per owner)
/// within the tasks' slack; returns the start day of every task and the report.
fn level_owners(
    durations: &[u32],
    deps: &[Vec<usize>],
    result: &cpm::Cpm,
    owners: &[StakeholderId],
    tpl: &[&TaskTemplate],
) -> (Vec<u32>, Option<ResourceLevelling>) {
    let mut people: Vec<StakeholderId> = owners.to_vec();
    people.sort();
    people.dedup();
    let resource: Vec<usize> = owners
        .iter()
        .map(|o| people.binary_search(o).unwrap_or(0))
        .collect();
    let load: Vec<f64> = tpl.iter().map(|t| t.effort).collect();
    let capacity = 1.0;
    let l = cpm::level(
        durations,
        deps,
        result,
        &resource,
        people.len(),
        &load,
        capacity,
    );
    let round = |x: f64| (x * 1000.0).round() / 1000.0;
    let report = ResourceLevelling {
        method: "serial schedule generation within slack (tasks by late start)".into(),
        capacity,
        resources: people
            .iter()
            .enumerate()
            .map(|(r, id)| ResourceLoad {
                stakeholder_id: id.clone(),
                peak_before: round(l.peak_before[r]),
                peak_after: round(l.peak_after[r]),
                overloaded_days_before: l.overloaded_days_before[r],
                overloaded_days_after: l.overloaded_days_after[r],
            })
            .collect(),
        shifted: (0..durations.len())
            .filter(|&i| l.starts[i] > result.figures[i].early_start)
            .map(|i| TaskShift {
                task_id: TaskId::nth(i + 1),
                days: l.starts[i] - result.figures[i].early_start,
            })
            .collect(),
    };
    (l.starts, Some(report))
}

fn alt(option: &str, score: f64, pro: &str, con: &str) -> Alternative {
    Alternative {
        option: option.into(),
        score,
        pros: vec![pro.into()],
        cons: vec![con.into()],
    }
}

/// description, category, probability, impact, cost share of the budget, owner, mitigations.
type RiskRow<'a> = (
    &'a str,
    RiskCategory,
    u8,
    u8,
    &'a str,
    StakeholderId,
    Vec<&'a str>,
);

/// Why and by how much a plan was shortened below its full length.
struct Compressed {
    planned: u32,
    nominal: u32,
    limit: Limit,
}

/// What kept planning from starting earlier.
enum Limit {
    /// The brief's `planning_start`.
    PlanningStart(NaiveDate),
    /// Today: the event was submitted too close to its date.
    Today(NaiveDate),
}

/// `compressed`: set when the full plan did not fit before the event.
fn risk_register(
    b: &EventBrief,
    map: &StakeholderMap,
    compressed: Option<&Compressed>,
) -> RiskRegister {
    let too_close = compressed.map(|c| {
        let kind = format!("{:?}", b.event_type).to_lowercase();
        let (planned, nominal) = (c.planned, c.nominal);
        match c.limit {
            Limit::Today(today) => format!(
                "The event is too close for a full plan: a {kind} for {} people needs about {nominal} days of planning, only {planned} are left from {today}, so every task is compressed and the critical path has no slack",
                b.audience_size
            ),
            Limit::PlanningStart(start) => format!(
                "Planning starts late for a full plan: a {kind} for {} people needs about {nominal} days of planning, planning_start {start} leaves {planned}, so every task is compressed and the critical path has no slack",
                b.audience_size
            ),
        }
    });
    let owner = owner_for(map, StakeholderRole::Owner);
    let finance = owner_for(map, StakeholderRole::Finance);
    let mut risks: Vec<RiskRow<'_>> = vec![
        (
            "Venue becomes unavailable or withdraws before the event",
            RiskCategory::Venue,
            2,
            4,
            "0.15",
            owner.clone(),
            vec![
                "Keep the runner-up venue from the shortlist on hold",
                "Sign the venue contract with a cancellation clause",
            ],
        ),
        (
            "A contracted supplier cancels or fails to deliver",
            RiskCategory::Vendor,
            2,
            4,
            "0.08",
            finance.clone(),
            vec![
                "Name a backup supplier from the rate cards for every service",
                "Agree SLAs and cancellation terms in every contract",
            ],
        ),
        (
            "Registrations fall short of the expected audience",
            RiskCategory::Attendance,
            3,
            3,
            "0.05",
            owner.clone(),
            vec![
                "Promote through every channel of the communications plan",
                "Send reminders one week and one day before",
            ],
        ),
        (
            "Costs exceed the approved budget",
            RiskCategory::Budget,
            2,
            3,
            "0.05",
            finance.clone(),
            vec![
                "Hold a contingency reserve",
                "Approve every change above the approval threshold",
            ],
        ),
        (
            "Projector, microphones or streaming fail during a session",
            RiskCategory::Technology,
            2,
            3,
            "0.03",
            owner.clone(),
            vec![
                "Test all AV at the final walkthrough",
                "Keep spare microphones and adapters in every room",
            ],
        ),
    ];
    if !b.program.is_empty() {
        risks.push((
            "A speaker cancels late or does not show up",
            RiskCategory::People,
            2,
            2,
            "0.02",
            owner.clone(),
            vec!["Keep a standby talk or panel for every track"],
        ));
    }
    if b.audience_size >= 300 {
        risks.push((
            "Overcrowding at entrances or in popular rooms",
            RiskCategory::Safety,
            2,
            4,
            "0.04",
            owner.clone(),
            vec![
                "Cap room capacity and stream to an overflow room",
                "Staff every entrance at peak times",
            ],
        ));
    }
    if b.event_type == EventType::Festival
        || b.location
            .preferences
            .iter()
            .any(|p| p.to_lowercase().contains("outdoor"))
    {
        risks.push((
            "Bad weather disrupts outdoor areas or arrivals",
            RiskCategory::Weather,
            3,
            3,
            "0.04",
            owner.clone(),
            vec![
                "Plan indoor fallback areas",
                "Watch the forecast from one week before",
            ],
        ));
    }
    // The risks of the event's type, beside its extra tasks.
    match b.event_type {
        EventType::Festival => {
            risks.push((
                "A permit or licence is refused, or granted late with conditions",
                RiskCategory::Schedule,
                2,
                3,
                "0.05",
                owner.clone(),
                vec![
                    "Apply as soon as the site is booked; ask the authority for its conditions early",
                    "Keep the site plan and safety concept ready for inspections",
                ],
            ));
            risks.push((
                "A medical emergency or crowd incident on site",
                RiskCategory::Safety,
                1,
                5,
                "0.03",
                owner.clone(),
                vec![
                    "Medical cover and security in the site plan, with radios and a control point",
                    "Brief every steward on the evacuation routes",
                ],
            ));
        }
        EventType::Conference => risks.push((
            "Sponsorship income falls short of the plan",
            RiskCategory::Budget,
            2,
            3,
            "0.05",
            finance.clone(),
            vec![
                "Sell packages from the start of planning; track commitments weekly",
                "Keep costs that depend on sponsorship optional until it is signed",
            ],
        )),
        EventType::Gala => risks.push((
            "The entertainment or the host cancels",
            RiskCategory::Vendor,
            2,
            3,
            "0.03",
            finance.clone(),
            vec!["Agree a replacement clause; keep a second act on call"],
        )),
        EventType::Workshop => risks.push((
            "Participants' equipment or accounts are not ready and hands-on time is lost",
            RiskCategory::Technology,
            3,
            2,
            "0.01",
            owner.clone(),
            vec![
                "Send set-up instructions a week before, with a check participants run",
                "Bring spare machines with everything installed",
            ],
        )),
        EventType::Meetup | EventType::Other => {}
    }
    if let Some(text) = &too_close {
        risks.push((
            text,
            RiskCategory::Schedule,
            4,
            3,
            "0.05",
            owner.clone(),
            vec![
                "Start critical-path tasks immediately",
                "Review the critical path weekly with the owner",
            ],
        ));
    }
    RiskRegister {
        risks: risks
            .into_iter()
            .enumerate()
            .map(
                |(i, (description, category, probability, impact, share, owner, mitigation))| {
                    Risk {
                        id: RiskId::nth(i + 1),
                        description: description.into(),
                        category,
                        probability,
                        impact,
                        rating: probability * impact,
                        cost_impact: Money::new(
                            b.budget.total * share.parse::<Decimal>().unwrap_or_default(),
                            &b.budget.currency,
                        ),
                        owner,
                        mitigation: mitigation.into_iter().map(str::to_owned).collect(),
                        status: RiskStatus::Open,
                    }
                },
            )
            .collect(),
        rating_method: "probability (1-5) × impact (1-5); 8 or more is high".into(),
    }
}

fn communications(b: &EventBrief, map: &StakeholderMap, all_audiences: bool) -> CommunicationsPlan {
    let owner = owner_for(map, StakeholderRole::Owner);
    let mut entries = vec![
        (
            String::from("owner"),
            Channel::Meeting,
            "weekly",
            "Planning status, critical path, open risks and decisions".to_owned(),
            owner.clone(),
        ),
        (
            String::from("attendees"),
            Channel::Email,
            "at announcement, 1 week and 1 day before",
            format!(
                "{}: registration, venue, schedule and accessibility information",
                b.title
            ),
            owner.clone(),
        ),
    ];
    let approvers: Vec<&Stakeholder> = map
        .stakeholders
        .iter()
        .filter(|s| matches!(s.role, StakeholderRole::Approver | StakeholderRole::Finance))
        .collect();
    if !approvers.is_empty() {
        entries.push(("approvers".into(), Channel::Email, "on every approval request", "Approval requests for venue, budget and vendor contracts, with deadline and escalation".into(), owner.clone()));
    }
    if all_audiences {
        let mut roles: Vec<StakeholderRole> = map
            .stakeholders
            .iter()
            .map(|s| s.role)
            .filter(|r| {
                !matches!(
                    r,
                    StakeholderRole::Owner
                        | StakeholderRole::Approver
                        | StakeholderRole::Finance
                        | StakeholderRole::Attendee
                )
            })
            .collect();
        roles.sort();
        roles.dedup();
        for r in roles {
            let audience = serde_json::to_value(r)
                .ok()
                .and_then(|v| v.as_str().map(|s| format!("{s}s")))
                .unwrap_or_default();
            entries.push((
                audience,
                Channel::Email,
                "monthly, weekly in the last month",
                "Timeline, what we need from you, logistics on the day".into(),
                owner.clone(),
            ));
        }
    }
    let mut escalation_path = vec![owner];
    escalation_path.extend(approvers.iter().map(|s| s.id.clone()));
    escalation_path.extend(
        map.stakeholders
            .iter()
            .filter(|s| s.role == StakeholderRole::Sponsor)
            .map(|s| s.id.clone()),
    );
    escalation_path.dedup();
    CommunicationsPlan {
        entries: entries
            .into_iter()
            .enumerate()
            .map(
                |(i, (audience, channel, cadence, message, owner))| CommunicationEntry {
                    id: CommId::nth(i + 1),
                    audience,
                    channel,
                    cadence: cadence.to_owned(),
                    message,
                    owner,
                },
            )
            .collect(),
        escalation_path,
    }
}
