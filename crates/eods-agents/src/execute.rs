//! Execute and Postmortem: a seeded, deterministic simulation of the run-up and the event days
//! (task completions, spend, injected incidents handled by the contingency plan), and the
//! postmortem that measures every metric of DESIGN §6 against its target.

use crate::rng::SplitMix64;
use crate::{AgentError, Inputs, Raised, StepOutput};
use chrono::{DateTime, Duration, FixedOffset, NaiveTime, TimeZone};
use eods_domain::artifact::CatalogType;
use eods_domain::catalog::brief::{EventBrief, StakeholderRole};
use eods_domain::catalog::budget::{BudgetBaseline, BudgetCategory, CostModel};
use eods_domain::catalog::execution::{
    Incident, IncidentLog, IncidentStatus, MetricResult, MilestoneActual, Postmortem, Runbook,
    RunbookEntry, Spend,
};
use eods_domain::catalog::logistics::{
    ContingencyPlan, IncidentKind, ResourceRoster, Room, Scenario, Schedule, VendorContracts,
};
use eods_domain::catalog::planning::{
    RiskRegister, RiskStatus, StakeholderMap, TaskRegister, TaskStatus, Timeline,
};
use eods_domain::catalog::venue::{VenueAvailability, VenueScorecard, VenueShortlist};
use eods_domain::ids::{IncidentId, RiskId, RoomId};
use eods_domain::instruction::Level;
use eods_domain::metrics::{self, MetricName, against, target};
use rust_decimal::Decimal;

/// Runbook and incident log from a seeded simulation; the risk register too when a risk occurred.
pub fn simulate(input: Inputs<'_>) -> Result<StepOutput, AgentError> {
    let b = input.need::<EventBrief>()?;
    let timeline = input.need::<Timeline>()?;
    let tasks = input.need::<TaskRegister>()?;
    let risks = input.need::<RiskRegister>()?;
    let contingency = input.need::<ContingencyPlan>()?;
    let vendors = input.need::<VendorContracts>()?;
    let cost = input.need::<CostModel>()?;
    let schedule = input.need::<Schedule>()?;
    let seed = input.directives.seed;
    let mut rng = SplitMix64::new(seed);
    // The draws keep their order: every task's completion first, then the catering lines.
    let entries = complete_tasks(&mut rng, tasks);
    let milestones = milestone_actuals(timeline, tasks, &entries);
    let (planned, mut actual) = spend(&mut rng, cost);
    let mut response = Response {
        schedule: schedule.clone(),
        vendors: vendors.clone(),
        from_reserve: Decimal::ZERO,
        changed_schedule: false,
        changed_vendors: false,
    };
    let (incidents, occurred) = incidents(input, contingency, opening(b, schedule), &mut response);
    let from_reserve = response.from_reserve;
    actual += from_reserve;
    let runbook = Runbook {
        simulation_seed: Some(seed),
        entries,
        milestones,
        event_ended: true,
        feedback: vec![],
        spend: Some(Spend {
            currency: cost.currency.clone(),
            planned,
            actual,
            from_reserve,
        }),
    };
    let late = runbook
        .entries
        .iter()
        .filter(|e| e.completed_on.is_some_and(|c| c > e.planned_end))
        .count();
    let artifacts = execute_outputs(runbook, &incidents, response, risks, &occurred);
    Ok(StepOutput {
        raised: vec![],
        summary: format!(
            "Simulated with seed {seed}: {} tasks done ({late} late), {} incident(s), {} resolved by contingency",
            tasks.tasks.len(),
            incidents.len(),
            incidents
                .iter()
                .filter(|i| i.resolved_by_contingency)
                .count()
        ),
        rationale: "Deterministic simulation: the same plan and seed give the same run.".into(),
        alternatives: vec![],
        artifacts,
    })
}

/// Execute of a live event: the plan as a runbook with each task's status as recorded (no
/// completion is invented: a task has a completion date only once one is recorded), milestones
/// reached only when every task of theirs was recorded done, no spend until actual costs are
/// recorded, the incidents people reported answered by the contingency plan, and whether the
/// event has ended (the engine's clock, handed in as a directive). Nothing is simulated.
pub fn record(input: Inputs<'_>) -> Result<StepOutput, AgentError> {
    let b = input.need::<EventBrief>()?;
    let timeline = input.need::<Timeline>()?;
    let tasks = input.need::<TaskRegister>()?;
    let risks = input.need::<RiskRegister>()?;
    let contingency = input.need::<ContingencyPlan>()?;
    let vendors = input.need::<VendorContracts>()?;
    let schedule = input.need::<Schedule>()?;
    let cost = input.need::<CostModel>()?;
    // What people recorded before (a live runbook written by task updates), kept; the plan's
    // tasks fill in the rest.
    let recorded = input
        .get::<Runbook>()?
        .map(|r| r.entries.as_slice())
        .unwrap_or_default();
    let entries = eods_domain::progress::entries(tasks, recorded);
    let milestones = eods_domain::progress::milestones_reached(timeline, tasks, &entries);
    let mut response = Response {
        schedule: schedule.clone(),
        vendors: vendors.clone(),
        from_reserve: Decimal::ZERO,
        changed_schedule: false,
        changed_vendors: false,
    };
    let (incidents, occurred) = incidents(input, contingency, opening(b, schedule), &mut response);
    let ended = input.directives.event_ended;
    let done = entries
        .iter()
        .filter(|e| e.status == TaskStatus::Done)
        .count();
    // Spend is measured from the actual costs people recorded on tasks, against the planned
    // spend (the cost model without its reserve); nothing recorded, nothing measured.
    let recorded_costs: Vec<Decimal> = entries.iter().filter_map(|e| e.actual_cost).collect();
    let spend = (!recorded_costs.is_empty()).then(|| Spend {
        currency: cost.currency.clone(),
        planned: planned_spend(cost),
        actual: recorded_costs.iter().sum(),
        from_reserve: Decimal::ZERO,
    });
    let runbook = Runbook {
        simulation_seed: None,
        entries,
        milestones,
        event_ended: ended,
        spend,
        // The survey answers entered so far stay with the runbook.
        feedback: input
            .get::<Runbook>()?
            .map(|r| r.feedback.clone())
            .unwrap_or_default(),
    };
    let artifacts = execute_outputs(runbook, &incidents, response, risks, &occurred);
    let (start, end) = b.live_window();
    Ok(StepOutput {
        raised: vec![],
        summary: format!(
            "Live: {} ({done} of {} tasks recorded done, {} incident(s) reported)",
            if ended {
                format!("the event ended at {}", end.to_rfc3339())
            } else {
                format!("the event began at {}", start.to_rfc3339())
            },
            tasks.tasks.len(),
            incidents.len(),
        ),
        rationale: "The runbook holds what people recorded; nothing is simulated.".into(),
        alternatives: vec![],
        artifacts,
    })
}

/// What Execute writes: the runbook, the incident log, the schedule and vendor contracts when a
/// response changed them, and the risk register when a risk occurred.
fn execute_outputs(
    runbook: Runbook,
    incidents: &[Incident],
    response: Response,
    risks: &RiskRegister,
    occurred: &[RiskId],
) -> Vec<eods_domain::artifact::Payload> {
    let mut artifacts = vec![
        runbook.into_payload(),
        IncidentLog {
            incidents: incidents.to_vec(),
        }
        .into_payload(),
    ];
    if response.changed_schedule {
        artifacts.push(response.schedule.into_payload());
    }
    if response.changed_vendors {
        artifacts.push(response.vendors.into_payload());
    }
    if !occurred.is_empty() {
        let mut r = risks.clone();
        for risk in r.risks.iter_mut().filter(|x| occurred.contains(&x.id)) {
            risk.status = RiskStatus::Occurred;
        }
        artifacts.push(r.into_payload());
    }
    artifacts
}

/// Every task completed: mostly on time or a little early; 3% run one or two days late.
fn complete_tasks(rng: &mut SplitMix64, tasks: &TaskRegister) -> Vec<RunbookEntry> {
    tasks
        .tasks
        .iter()
        .map(|t| {
            let u = rng.next_f64();
            let shift = if u < 0.03 {
                1 + (rng.next_u64() % 2) as i64
            } else {
                -((rng.next_u64() % 3) as i64)
            };
            let done = (t.end + Duration::days(shift)).max(t.start);
            RunbookEntry {
                task_id: t.id.clone(),
                title: t.title.clone(),
                owner: t.owner.clone(),
                planned_end: t.end,
                status: TaskStatus::Done,
                completed_on: Some(done),
                note: None,
                recorded_by: None,
                actual_cost: None,
            }
        })
        .collect()
}

/// Each milestone reached when the last of its tasks was completed (its planned date when it
/// has none).
fn milestone_actuals(
    timeline: &Timeline,
    tasks: &TaskRegister,
    entries: &[RunbookEntry],
) -> Vec<MilestoneActual> {
    timeline
        .milestones
        .iter()
        .map(|m| {
            let actual = tasks
                .tasks
                .iter()
                .zip(entries)
                .filter(|(t, _)| t.milestone_id == m.id)
                .filter_map(|(_, e)| e.completed_on)
                .max()
                .unwrap_or(m.date);
            MilestoneActual {
                milestone_id: m.id.clone(),
                planned: m.date,
                actual,
            }
        })
        .collect()
}

/// Planned and actual spend, reserve aside: catering numbers move a little; other lines cost
/// what was contracted.
/// The cost model's total without the contingency reserve.
fn planned_spend(cost: &CostModel) -> Decimal {
    cost.line_items
        .iter()
        .filter(|l| l.category != BudgetCategory::Contingency)
        .map(|l| l.total)
        .sum()
}

fn spend(rng: &mut SplitMix64, cost: &CostModel) -> (Decimal, Decimal) {
    let planned = planned_spend(cost);
    let mut actual = Decimal::ZERO;
    for l in cost
        .line_items
        .iter()
        .filter(|l| l.category != BudgetCategory::Contingency)
    {
        let factor = if l.category == BudgetCategory::Catering {
            Decimal::from(970 + (rng.next_u64() % 51) as i64) / Decimal::from(1000)
        } else {
            Decimal::ONE
        };
        actual += (l.total * factor).round_dp(2);
    }
    (planned, actual)
}

/// When the event opens: its first session, else 09:00 on its first day.
fn opening(b: &EventBrief, schedule: &Schedule) -> Option<DateTime<FixedOffset>> {
    let tz: chrono_tz::Tz = b.timezone.parse().unwrap_or(chrono_tz::UTC);
    let first_session = schedule.sessions.iter().map(|x| x.start).min();
    first_session.or_else(|| {
        tz.from_local_datetime(
            &b.first_day()
                .and_time(NaiveTime::from_hms_opt(9, 0, 0).unwrap_or_default()),
        )
        .earliest()
        .map(|d| d.fixed_offset())
    })
}

/// The injected incidents, each at its offset after the opening (default an hour in, then every
/// 90 minutes), answered by the contingency scenario its kind triggers; with the risks that
/// occurred.
fn incidents(
    input: Inputs<'_>,
    contingency: &ContingencyPlan,
    opening: Option<DateTime<FixedOffset>>,
    response: &mut Response,
) -> (Vec<Incident>, Vec<RiskId>) {
    let mut incidents = Vec::new();
    let mut occurred = Vec::new();
    for (i, injection) in input.directives.incidents.iter().enumerate() {
        let kind = injection.kind;
        let offset = injection
            .at_minutes
            .unwrap_or(60 + 90 * u32::try_from(i).unwrap_or(0));
        // A live report without an offset happened when it was reported.
        let reported = injection
            .reported_at
            .zip(input.get::<EventBrief>().ok().flatten())
            .map(|(t, b)| t.with_timezone(&b.tz()).fixed_offset());
        let Some(detected_at) =
            reported.or_else(|| opening.map(|o| o + Duration::minutes(i64::from(offset))))
        else {
            continue;
        };
        let id = IncidentId::nth(i + 1);
        let scenario = contingency
            .scenarios
            .iter()
            .find(|s| s.trigger.incident == kind);
        let incident = match scenario {
            Some(s) => {
                occurred.push(s.risk_id.clone());
                let outcome = respond(input, kind, detected_at, response);
                answered(id, kind, detected_at, s, outcome, input.directives.mode)
            }
            None => Incident {
                id,
                kind,
                description: format!(
                    "{} {} with no matching contingency scenario",
                    match input.directives.mode {
                        eods_domain::run::RunMode::Simulate => "Simulated",
                        eods_domain::run::RunMode::Live => "Reported",
                    },
                    kind.as_str().replace('_', " ")
                ),
                detected_at,
                scenario_id: None,
                response: vec!["Escalated to the owner along the escalation path".into()],
                status: IncidentStatus::Escalated,
                resolved_at: None,
                resolved_by_contingency: false,
            },
        };
        let incident = match input.directives.mode {
            eods_domain::run::RunMode::Simulate => incident,
            eods_domain::run::RunMode::Live => recorded(
                incident,
                input
                    .directives
                    .resolutions
                    .iter()
                    .find(|r| usize::try_from(r.incident).is_ok_and(|n| n == i + 1)),
                input.directives.event_ended,
            ),
        };
        incidents.push(incident);
    }
    (incidents, occurred)
}

/// A live incident as people recorded it: resolved when and how a person said so; still open at
/// the event's end, escalated (nothing is marked resolved that nobody resolved).
fn recorded(
    mut incident: Incident,
    resolution: Option<&eods_domain::catalog::logistics::Resolution>,
    ended: bool,
) -> Incident {
    match resolution {
        Some(r) => {
            let at = r.at.with_timezone(incident.detected_at.offset());
            incident.response.push(format!(
                "Resolved by {} at {}: {}",
                r.by,
                at.format("%Y-%m-%d %H:%M"),
                r.note
            ));
            // A response that could not run, or no scenario: a person resolved it, not the plan.
            incident.resolved_by_contingency =
                incident.scenario_id.is_some() && incident.status == IncidentStatus::Open;
            incident.status = IncidentStatus::Resolved;
            incident.resolved_at = Some(at.max(incident.detected_at));
        }
        None if ended && incident.status == IncidentStatus::Open => {
            incident
                .response
                .push("Not recorded resolved when the event ended; escalated to the owner".into());
            incident.status = IncidentStatus::Escalated;
        }
        None => {}
    }
    incident
}

/// An incident its scenario answered: resolved in the scenario's time when the response ran
/// (simulated; a live one stays open until a person records its resolution), escalated with the
/// reason when it could not.
fn answered(
    id: IncidentId,
    kind: IncidentKind,
    detected_at: DateTime<FixedOffset>,
    s: &Scenario,
    outcome: Result<Vec<String>, String>,
    mode: eods_domain::run::RunMode,
) -> Incident {
    let mut steps = s.response_steps.clone();
    let live = mode == eods_domain::run::RunMode::Live;
    let what = if live { "Reported" } else { "Simulated" };
    match outcome {
        Ok(done) => {
            steps.extend(done);
            Incident {
                id,
                kind,
                description: format!(
                    "{what} {} during the event: {}",
                    kind.as_str().replace('_', " "),
                    s.trigger.condition
                ),
                detected_at,
                scenario_id: Some(s.id.clone()),
                response: steps,
                status: if live {
                    IncidentStatus::Open
                } else {
                    IncidentStatus::Resolved
                },
                resolved_at: (!live)
                    .then(|| detected_at + Duration::minutes(i64::from(s.response_minutes))),
                resolved_by_contingency: !live,
            }
        }
        Err(why) => {
            steps.push(format!("Response failed: {why}; escalated to the owner"));
            Incident {
                id,
                kind,
                description: format!(
                    "{what} {}: the prepared response could not run",
                    kind.as_str().replace('_', " ")
                ),
                detected_at,
                scenario_id: Some(s.id.clone()),
                response: steps,
                status: IncidentStatus::Escalated,
                resolved_at: None,
                resolved_by_contingency: false,
            }
        }
    }
}

/// The plan as the responses leave it.
struct Response {
    schedule: Schedule,
    vendors: VendorContracts,
    from_reserve: Decimal,
    changed_schedule: bool,
    changed_vendors: bool,
}

/// Runs the concrete part of a response; returns what was done, or why it could not be.
fn respond(
    input: Inputs<'_>,
    kind: IncidentKind,
    at: DateTime<FixedOffset>,
    r: &mut Response,
) -> Result<Vec<String>, String> {
    match kind {
        IncidentKind::VendorCancellation => replace_vendor(input, r),
        IncidentKind::VenueUnavailable => move_to_runner_up(input, at, r),
        IncidentKind::SpeakerNoShow => standby_session(at, r),
        IncidentKind::Weather => postpone_for_weather(at, r),
        IncidentKind::AvFailure
        | IncidentKind::Overcapacity
        | IncidentKind::MedicalEmergency
        | IncidentKind::BudgetOverrun
        | IncidentKind::LowAttendance
        | IncidentKind::DeadlineMissed => Ok(vec![]),
    }
}

/// A vendor cancellation: the caterer (else the first supplier) is replaced by its backup.
fn replace_vendor(input: Inputs<'_>, r: &mut Response) -> Result<Vec<String>, String> {
    // The caterer (else the first supplier) cancels; its backup takes over at a 15% rush premium.
    let i = r
        .vendors
        .vendors
        .iter()
        .position(|v| v.service == "catering")
        .or_else(|| r.vendors.vendors.iter().position(|v| v.service != "venue"))
        .ok_or("no supplier under contract")?;
    let old = r.vendors.vendors[i].clone();
    let backup = old
        .backup
        .clone()
        .ok_or_else(|| format!("{} has no backup supplier", old.name))?;
    let supplier = input
        .tools
        .rates
        .suppliers
        .iter()
        .find(|s| s.id == backup.supplier_ref)
        .ok_or("backup supplier not in the rate cards")?;
    let premium = (old.terms.total_cost.amount * Decimal::new(15, 2)).round_dp(2);
    let v = &mut r.vendors.vendors[i];
    v.name = supplier.name.clone();
    v.supplier_ref = supplier.id.clone();
    v.terms.total_cost.amount += premium;
    v.terms.payment_terms = supplier.payment_terms.clone();
    v.slas = supplier.slas.clone();
    v.cancellation_policy = supplier.cancellation_policy.clone();
    v.backup = None;
    r.from_reserve += premium;
    r.changed_vendors = true;
    Ok(vec![format!(
        "{} replaced {} for {}; rush premium {} from the reserve",
        supplier.name, old.name, old.service, premium
    )])
}

/// A venue that cannot open: the runner-up of the shortlist takes over its sessions.
fn move_to_runner_up(
    input: Inputs<'_>,
    at: DateTime<FixedOffset>,
    r: &mut Response,
) -> Result<Vec<String>, String> {
    // The runner-up of the shortlist takes over; every session keeps its time and moves to
    // the backup's room of the same rank (the shortlist only holds venues with a room per track).
    let shortlist = input.need::<VenueShortlist>().map_err(|e| e.to_string())?;
    let scorecard = input.need::<VenueScorecard>().map_err(|e| e.to_string())?;
    let backup = scorecard
        .ranking
        .iter()
        .filter(|c| **c != scorecard.selected_candidate_id && !scorecard.excluded.contains(c))
        .find_map(|c| shortlist.candidates.iter().find(|x| &x.id == c))
        .ok_or("no runner-up venue on the shortlist")?;
    let venue = input
        .tools
        .catalog
        .venues
        .iter()
        .find(|v| v.id == backup.venue_ref)
        .ok_or("runner-up venue not in the catalog")?;
    let rooms: Vec<Room> = venue
        .rooms_by_size()
        .into_iter()
        .filter(|x| x.layout != "reception")
        .take(r.schedule.rooms.len())
        .enumerate()
        .map(|(i, x)| Room {
            id: r
                .schedule
                .rooms
                .get(i)
                .map_or_else(|| RoomId::nth(i + 1), |old| old.id.clone()),
            name: format!("{} — {}", venue.name, x.name),
            capacity: x.capacity,
        })
        .collect();
    let (schedule, note) = resolve_fewest_changes(&r.schedule, rooms, at)?;
    r.schedule = schedule;
    let moved = note;
    if let Some(v) = r.vendors.vendors.iter_mut().find(|v| v.service == "venue") {
        let delta = backup.cost_estimate.amount - v.terms.total_cost.amount;
        if delta > Decimal::ZERO {
            r.from_reserve += delta;
        }
        v.name = venue.name.clone();
        v.supplier_ref = venue.id.to_string();
        v.terms.total_cost = backup.cost_estimate.clone();
        r.changed_vendors = true;
    }
    r.changed_schedule = true;
    Ok(vec![format!(
        "{} ({}) activated; {moved}",
        venue.name, backup.id
    )])
}

/// A speaker who does not show: the next session with a speaker becomes the standby session.
fn standby_session(at: DateTime<FixedOffset>, r: &mut Response) -> Result<Vec<String>, String> {
    let s = r
        .schedule
        .sessions
        .iter_mut()
        .filter(|x| x.start >= at && !x.speakers.is_empty())
        .min_by_key(|x| (x.start, x.id.clone()))
        .ok_or("no session with a speaker after the incident")?;
    let who = s.speakers.join(", ");
    s.title = format!("Standby session (replaces \"{}\")", s.title);
    s.speakers.clear();
    r.changed_schedule = true;
    Ok(vec![format!(
        "{} ({who}) replaced by the standby session at the same time and room",
        s.id
    )])
}

/// Severe weather: sessions due within the hour are postponed where their room and speakers
/// are free, the others streamed.
fn postpone_for_weather(
    at: DateTime<FixedOffset>,
    r: &mut Response,
) -> Result<Vec<String>, String> {
    // Travel to the venue is disrupted: sessions due to start within the hour are
    // postponed by at least 30 minutes, to the first time that day (in 15-minute steps, up
    // to 3 hours, not past the day's last session) when their room and speakers are free;
    // the others start on time and are streamed for late arrivals.
    let window = at + Duration::minutes(60);
    let mut order: Vec<usize> = (0..r.schedule.sessions.len())
        .filter(|&i| {
            let x = &r.schedule.sessions[i];
            x.start >= at && x.start < window
        })
        .collect();
    // Latest first, so an earlier session can take the time a later one frees.
    order.sort_by_key(|&i| std::cmp::Reverse((r.schedule.sessions[i].start, i)));
    let (mut postponed, mut kept) = (0, 0);
    for i in order {
        let x = r.schedule.sessions[i].clone();
        let day_end = r
            .schedule
            .sessions
            .iter()
            .filter(|y| y.start.date_naive() == x.start.date_naive())
            .map(|y| y.end)
            .max()
            .unwrap_or(x.end);
        let free = |start: DateTime<FixedOffset>, end: DateTime<FixedOffset>| {
            !r.schedule.sessions.iter().enumerate().any(|(j, y)| {
                j != i
                    && (y.room == x.room || y.speakers.iter().any(|p| x.speakers.contains(p)))
                    && y.start < end
                    && start < y.end
            })
        };
        let shift = (2..=12)
            .map(|k| Duration::minutes(15 * k))
            .find(|d| x.end + *d <= day_end && free(x.start + *d, x.end + *d));
        match shift {
            Some(d) => {
                let s = &mut r.schedule.sessions[i];
                s.start = x.start + d;
                s.end = x.end + d;
                postponed += 1;
            }
            None => kept += 1,
        }
    }
    if postponed > 0 {
        r.changed_schedule = true;
        r.schedule.optimisation = None;
    }
    Ok(vec![format!(
        "{postponed} session(s) starting within the hour postponed to the first free time at least 30 minutes later; {kept} start on time and are streamed for late arrivals; attendees notified"
    )])
}

/// Moves the sessions that have not ended by `at` into `rooms` (the backup venue's, largest
/// first) with the fewest changes: each keeps its time in the room of the same rank when it
/// can, else changes room, else time — solved exactly by the timetabling solver over the
/// schedule's own time slots in the new rooms, keeping speakers apart. Sessions already over
/// stay as they were. Returns the new schedule and what changed.
fn resolve_fewest_changes(
    schedule: &Schedule,
    rooms: Vec<Room>,
    at: DateTime<FixedOffset>,
) -> Result<(Schedule, String), String> {
    if rooms.is_empty() {
        return Err("the backup venue has no session rooms".into());
    }
    let open: Vec<usize> = (0..schedule.sessions.len())
        .filter(|&i| schedule.sessions[i].end > at)
        .collect();
    let rank = |id: &RoomId| schedule.rooms.iter().position(|r| &r.id == id);
    // Slots: every (start, end) the open sessions use, in every new room.
    let mut times: Vec<(DateTime<FixedOffset>, DateTime<FixedOffset>)> = open
        .iter()
        .map(|&i| (schedule.sessions[i].start, schedule.sessions[i].end))
        .collect();
    times.sort();
    times.dedup();
    let slots: Vec<(usize, usize)> = (0..rooms.len())
        .flat_map(|r| (0..times.len()).map(move |t| (r, t)))
        .collect();
    let origin = times.first().map(|t| t.0).unwrap_or(at);
    let minutes = |t: DateTime<FixedOffset>| (t - origin).num_minutes();
    let problem = eods_solver::Problem {
        slots: slots
            .iter()
            .map(|&(r, t)| eods_solver::Slot {
                room: r,
                start: minutes(times[t].0),
                duration: u32::try_from((times[t].1 - times[t].0).num_minutes()).unwrap_or(0),
            })
            .collect(),
        sessions: open
            .iter()
            .map(|&i| {
                let x = &schedule.sessions[i];
                eods_solver::Session {
                    duration: u32::try_from((x.end - x.start).num_minutes()).unwrap_or(0),
                    unavailable: vec![],
                }
            })
            .collect(),
        conflicts: {
            let items: Vec<crate::placement::Item> = open
                .iter()
                .map(|&i| crate::placement::Item {
                    title: String::new(),
                    track: String::new(),
                    minutes: 0,
                    speakers: schedule.sessions[i].speakers.clone(),
                    ..Default::default()
                })
                .collect();
            crate::timetable::speaker_conflicts(&items)
        },
    };
    // Same time and room rank: 0; same time, other room: 1; other time: 3 (+1 per room rank).
    let cost = |e: usize, s: usize| -> i64 {
        let x = &schedule.sessions[open[e]];
        let (r, t) = slots[s];
        let same_time = times[t].0 == x.start;
        let same_rank = rank(&x.room) == Some(r);
        match (same_time, same_rank) {
            (true, true) => 0,
            (true, false) => 1,
            (false, _) => 3 + i64::from(!same_rank),
        }
    };
    let hint: Vec<Option<usize>> = open
        .iter()
        .map(|&i| {
            let x = &schedule.sessions[i];
            let t = times.iter().position(|t| t.0 == x.start && t.1 == x.end)?;
            let r = rank(&x.room).filter(|r| *r < rooms.len())?;
            Some(r * times.len() + t)
        })
        .collect();
    let solution = eods_solver::solve_with_hint(
        &problem,
        &cost,
        &hint,
        &eods_solver::Limits { max_nodes: 5_000 },
    )
    .map_err(|e| format!("the remaining sessions do not fit the backup venue: {e}"))?;
    let mut next = schedule.clone();
    next.rooms = rooms;
    let (mut same, mut room_moves, mut time_moves) = (0, 0, 0);
    for (e, &s) in solution.assignment.iter().enumerate() {
        let (r, t) = slots[s];
        let x = &mut next.sessions[open[e]];
        match cost(e, s) {
            0 => same += 1,
            1 => room_moves += 1,
            _ => time_moves += 1,
        }
        let length = x.end - x.start;
        // The room's AV kit follows the room.
        if let Some(old) = rank(&x.room) {
            let (from, to) = (
                format!("resource-av-{}", old + 1),
                format!("resource-av-{}", r + 1),
            );
            for res in &mut x.resources {
                if res.0 == from {
                    res.0.clone_from(&to);
                }
            }
        }
        x.room = next.rooms[r].id.clone();
        x.start = times[t].0;
        x.end = times[t].0 + length;
    }
    next.optimisation = None;
    Ok((
        next,
        format!(
            "{} remaining session(s) re-solved with the fewest changes ({}): {same} keep time and room rank, {room_moves} change room, {time_moves} change time",
            open.len(),
            if solution.proven_optimal {
                "proven optimal".to_owned()
            } else {
                format!(
                    "within {} of optimal",
                    solution.objective - solution.lower_bound
                )
            }
        ),
    ))
}

/// Who acts on a breached metric, and how.
fn mitigation_for(name: MetricName) -> (StakeholderRole, &'static str) {
    use StakeholderRole as R;
    match name {
        MetricName::TimelineSlippage | MetricName::OnTimeTaskRate => (
            R::Owner,
            "re-plan the remaining tasks from the critical path and add staff to late owners",
        ),
        MetricName::RiskCoverage => (
            R::Owner,
            "give every uncovered risk a mitigation or a contingency scenario",
        ),
        MetricName::BudgetVariance | MetricName::SavingsIdentified => (
            R::Finance,
            "draw the difference from the contingency reserve and re-open the budget approval",
        ),
        MetricName::RiskReserveAdequacy => (
            R::Finance,
            "raise the reserve to the register's expected loss before committing more spend",
        ),
        MetricName::IncidentResolutionTime | MetricName::ContingencyEffectiveness => (
            R::Owner,
            "escalate: name a backup for every high-impact incident and rehearse its scenario",
        ),
        MetricName::UtilizationBalance => (
            R::Volunteer,
            "rebalance the roster: move duties from the busiest to the least-loaded staff",
        ),
        MetricName::ShortlistQuality | MetricName::BudgetFit | MetricName::ConfirmedHolds => {
            (R::Owner, "widen the venue search and hold a second venue")
        }
        MetricName::StakeholderSatisfaction => (
            R::Owner,
            "review the feedback with the stakeholders and plan the changes they ask for",
        ),
    }
}

/// The plan and its actuals, as the postmortem measures them.
struct Measured<'a> {
    level: Level,
    timeline: &'a Timeline,
    risks: &'a RiskRegister,
    contingency: &'a ContingencyPlan,
    shortlist: &'a VenueShortlist,
    scorecard: &'a VenueScorecard,
    availability: &'a VenueAvailability,
    baseline: &'a BudgetBaseline,
    cost: &'a CostModel,
    roster: &'a ResourceRoster,
    runbook: &'a Runbook,
    incidents: &'a IncidentLog,
}

impl Measured<'_> {
    /// A metric's value against its target at this level.
    fn m(&self, name: MetricName, value: Option<f64>, detail: String) -> MetricResult {
        against(name, value, target(name), self.level, detail)
    }
}

/// Every metric against its target, approval latency, and insights.
pub fn postmortem(input: Inputs<'_>) -> Result<StepOutput, AgentError> {
    let s = Measured {
        level: input.level,
        timeline: input.need::<Timeline>()?,
        risks: input.need::<RiskRegister>()?,
        contingency: input.need::<ContingencyPlan>()?,
        shortlist: input.need::<VenueShortlist>()?,
        scorecard: input.need::<VenueScorecard>()?,
        availability: input.need::<VenueAvailability>()?,
        baseline: input.need::<BudgetBaseline>()?,
        cost: input.need::<CostModel>()?,
        roster: input.need::<ResourceRoster>()?,
        runbook: input.need::<Runbook>()?,
        incidents: input.need::<IncidentLog>()?,
    };
    let incidents = s.incidents;
    let results = metric_results(&s);
    let mut insights = insights(&results, &incidents.incidents);
    // A breach is a signal (DESIGN §6): each missed target raises its mitigation, owned by the
    // stakeholder who can act on it.
    let map = input.need::<StakeholderMap>()?;
    let raised = mitigations(&results, map, &mut insights);
    if insights.is_empty() {
        insights.push("Every measured metric met its target.".into());
    }
    let met = results.iter().filter(|r| r.met == Some(true)).count();
    let missed = results.iter().filter(|r| r.met == Some(false)).count();
    let total = u32::try_from(incidents.incidents.len()).unwrap_or(0);
    let resolved = u32::try_from(
        incidents
            .incidents
            .iter()
            .filter(|i| i.status == IncidentStatus::Resolved)
            .count(),
    )
    .unwrap_or(0);
    Ok(StepOutput {
        summary: format!(
            "{met} metrics met, {missed} missed; {resolved}/{total} incidents resolved"
        ),
        rationale: "Plan compared with actuals using the formulas of DESIGN §6.".into(),
        alternatives: vec![],
        raised,
        artifacts: vec![
            Postmortem {
                metrics: results,
                approval_latency: input.directives.approval_latency.clone(),
                incidents_total: total,
                incidents_resolved: resolved,
                insights,
            }
            .into_payload(),
        ],
    })
}

/// Risk coverage: the share of risks with a contingency scenario, missed whenever a high risk
/// has none.
fn risk_coverage(s: &Measured<'_>) -> MetricResult {
    let (coverage, high_ok) = metrics::risk_coverage(s.risks, Some(s.contingency));
    let mut coverage_result = s.m(
        MetricName::RiskCoverage,
        Some(coverage),
        format!(
            "{} risks, every high risk covered: {high_ok}",
            s.risks.risks.len()
        ),
    );
    if !high_ok {
        coverage_result.met = Some(false);
    }
    coverage_result
}

/// Stakeholder satisfaction: the mean survey score over 5, from the answers the organiser
/// entered; not measured without any.
fn satisfaction(s: &Measured<'_>) -> MetricResult {
    let f = &s.runbook.feedback;
    if f.is_empty() {
        return MetricResult {
            name: MetricName::StakeholderSatisfaction,
            value: None,
            target: ">= 0.8".into(),
            met: None,
            detail: "not measured: no feedback survey results were submitted".into(),
        };
    }
    let mean = f.iter().map(|r| f64::from(r.score)).sum::<f64>() / f.len() as f64;
    let low: Vec<&str> = f
        .iter()
        .filter(|r| r.score <= 2)
        .map(|r| r.respondent.as_str())
        .collect();
    s.m(
        MetricName::StakeholderSatisfaction,
        Some(mean / 5.0),
        format!(
            "mean score {mean:.2} of 5 from {} answer(s){}",
            f.len(),
            if low.is_empty() {
                String::new()
            } else {
                format!("; dissatisfied: {}", low.join(", "))
            }
        ),
    )
}

/// Budget variance: actuals against what was approved, the planned spend plus what the
/// approved reserve paid for a risk that occurred.
fn budget_variance(s: &Measured<'_>) -> MetricResult {
    // A contingency draw up to the reserve is approved money; spend beyond the reserve is
    // variance.
    let reserve: Decimal = s
        .cost
        .line_items
        .iter()
        .filter(|l| l.category == BudgetCategory::Contingency)
        .map(|l| l.total)
        .sum();
    let covered = |sp: &Spend| sp.from_reserve.min(reserve);
    let variance = s
        .runbook
        .spend
        .as_ref()
        .map(|sp| metrics::budget_variance(sp.actual - covered(sp), sp.planned));
    let recorded = s
        .runbook
        .entries
        .iter()
        .filter(|e| e.actual_cost.is_some())
        .count();
    let live = s.runbook.simulation_seed.is_none();
    s.m(
        MetricName::BudgetVariance,
        variance,
        s.runbook.spend.as_ref().map_or_else(
            || {
                if live {
                    "not measured: no actual cost was recorded on a task".into()
                } else {
                    "no spend recorded".into()
                }
            },
            |sp| {
                if live {
                    format!(
                        "actual {} (the costs recorded on {recorded} of {} tasks) vs planned {} {}",
                        sp.actual,
                        s.runbook.entries.len(),
                        sp.planned,
                        sp.currency,
                    )
                } else {
                    format!(
                        "actual {} vs planned {} {} ({} from the reserve of {}, {} of it within the approved reserve)",
                        sp.actual,
                        sp.planned,
                        sp.currency,
                        sp.from_reserve,
                        reserve,
                        covered(sp)
                    )
                }
            },
        ),
    )
}

/// On-time task rate over the tasks recorded done with a completion date; not measured when
/// none was.
/// On-time task rate: once every task is done, those done by their planned end over those done
/// (the formula of DESIGN §6); while some are not recorded done, those done by their planned end
/// over every task (a task with no record did not finish on time on record). Not measured when no
/// task was recorded done.
fn on_time_rate(s: &Measured<'_>) -> MetricResult {
    let entries = &s.runbook.entries;
    let dated = entries
        .iter()
        .filter(|e| e.status == TaskStatus::Done && e.completed_on.is_some())
        .count();
    if dated == 0 {
        return s.m(
            MetricName::OnTimeTaskRate,
            None,
            "not measured: no task was recorded as done with a date".into(),
        );
    }
    if dated == entries.len() {
        return s.m(
            MetricName::OnTimeTaskRate,
            Some(metrics::on_time_task_rate(entries)),
            format!("{dated} tasks completed"),
        );
    }
    let on_time = entries
        .iter()
        .filter(|e| e.completed_on.is_some_and(|c| c <= e.planned_end))
        .count();
    s.m(
        MetricName::OnTimeTaskRate,
        Some(on_time as f64 / entries.len() as f64),
        format!(
            "{on_time} of {} tasks done by their due date on record ({dated} recorded done)",
            entries.len()
        ),
    )
}

/// Every metric of DESIGN §6 against its target, in the postmortem's order.
fn metric_results(s: &Measured<'_>) -> Vec<MetricResult> {
    let (risks, shortlist, baseline, runbook) = (s.risks, s.shortlist, s.baseline, s.runbook);
    let resolution = metrics::incident_resolution_minutes(&s.incidents.incidents);
    vec![
        if runbook.milestones.is_empty() {
            s.m(
                MetricName::TimelineSlippage,
                None,
                "not measured: no milestone was recorded as reached".into(),
            )
        } else {
            s.m(
                MetricName::TimelineSlippage,
                Some(metrics::timeline_slippage(
                    s.timeline.plan_start,
                    &runbook.milestones,
                )),
                "largest milestone delay ÷ its planned span".into(),
            )
        },
        risk_coverage(s),
        satisfaction(s),
        s.m(
            MetricName::ShortlistQuality,
            Some(metrics::shortlist_quality(shortlist, s.scorecard)),
            format!(
                "mean scorecard total of {} shortlisted venues",
                shortlist.candidates.len()
            ),
        ),
        s.m(
            MetricName::BudgetFit,
            Some(metrics::budget_fit(
                shortlist,
                metrics::venue_allocation(baseline),
            )),
            format!(
                "venue allocation {} {}",
                metrics::venue_allocation(baseline),
                baseline.currency
            ),
        ),
        s.m(
            MetricName::ConfirmedHolds,
            Some(metrics::confirmed_holds(s.availability) as f64),
            "venues with an active hold".into(),
        ),
        budget_variance(s),
        s.m(
            MetricName::SavingsIdentified,
            Some(metrics::savings_identified(s.cost)),
            "against the first quote for every line".into(),
        ),
        s.m(
            MetricName::RiskReserveAdequacy,
            Some(metrics::risk_reserve_adequacy(baseline.reserve, risks)),
            format!(
                "reserve {} vs expected loss {}",
                baseline.reserve,
                metrics::expected_loss(risks).round_dp(2)
            ),
        ),
        on_time_rate(s),
        s.m(
            MetricName::IncidentResolutionTime,
            resolution.map(|(max, _)| max),
            resolution.map_or_else(
                || "no incident was resolved".into(),
                |(max, p95)| format!("max {max:.0} min, p95 {p95:.0} min"),
            ),
        ),
        s.m(
            MetricName::UtilizationBalance,
            metrics::utilization_balance(s.roster),
            "mean ÷ max utilisation of staff".into(),
        ),
        s.m(
            MetricName::ContingencyEffectiveness,
            metrics::contingency_effectiveness(&s.incidents.incidents),
            "incidents resolved by the scenario they fired".into(),
        ),
    ]
}

/// Insights: every missed or unmeasured metric, then what each incident teaches.
fn insights(results: &[MetricResult], incidents: &[Incident]) -> Vec<String> {
    let mut insights = Vec::new();
    for r in results {
        match r.met {
            Some(false) => insights.push(format!(
                "{} missed its target ({} vs {}): {}; review it in the next plan.",
                r.name.as_str(),
                r.value.map_or("n/a".into(), |v| format!("{v:.3}")),
                r.target,
                r.detail
            )),
            None if r.value.is_none() => insights.push(format!(
                "{} was not measured: {}.",
                r.name.as_str(),
                r.detail
            )),
            _ => {}
        }
    }
    for i in incidents {
        insights.push(match (&i.scenario_id, i.resolved_at) {
            (Some(s), Some(r)) if i.resolved_by_contingency => format!(
                "{} ({}) was resolved in {} min by contingency {s}; keep that arrangement.",
                i.id,
                i.kind.as_str(),
                (r - i.detected_at).num_minutes()
            ),
            (Some(s), _) => format!(
                "{} ({}) was not resolved by contingency {s} alone; review that scenario.",
                i.id,
                i.kind.as_str()
            ),
            _ => format!(
                "{} ({}) had no contingency scenario and was escalated; add a scenario for it.",
                i.id,
                i.kind.as_str()
            ),
        });
    }
    insights
}

/// A mitigation for every missed target, owned by the stakeholder who can act on it; each is
/// also noted in the insights.
fn mitigations(
    results: &[MetricResult],
    map: &StakeholderMap,
    insights: &mut Vec<String>,
) -> Vec<Raised> {
    results
        .iter()
        .filter(|r| r.met == Some(false))
        .map(|r| {
            let (role, action) = mitigation_for(r.name);
            let owner = crate::tasks::owner_for(map, role);
            insights.push(format!(
                "Mitigation raised for {}: {action} (owner {owner}).",
                r.name.as_str()
            ));
            Raised {
                description: format!(
                    "{} breached its target ({} vs {}): {action}",
                    r.name.as_str(),
                    r.value.map_or("n/a".into(), |v| format!("{v:.3}")),
                    r.target
                ),
                rationale: r.detail.clone(),
                owner: owner.to_string(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use eods_domain::catalog::logistics::Session;
    use eods_domain::ids::{ResourceId, SessionId};

    fn at(h: u32, m: u32) -> DateTime<FixedOffset> {
        FixedOffset::east_opt(3600)
            .and_then(|z| z.with_ymd_and_hms(2027, 6, 9, h, m, 0).single())
            .unwrap_or_default()
    }

    fn room(i: usize, cap: u32) -> Room {
        Room {
            id: RoomId::nth(i),
            name: format!("R{i}"),
            capacity: cap,
        }
    }

    #[test]
    fn fewer_rooms_move_the_fewest_sessions_in_time() {
        // Three parallel sessions at 10:00 in three rooms, one at 11:00; the backup has two rooms.
        let s = |n: usize, r: usize, h: u32, who: &str| Session {
            id: SessionId::nth(n),
            title: format!("S{n}"),
            track: "T".into(),
            start: at(h, 0),
            end: at(h, 45),
            room: RoomId::nth(r),
            speakers: vec![who.into()],
            resources: vec![ResourceId(format!("resource-av-{r}"))],
        };
        let schedule = Schedule {
            timezone: "Europe/Amsterdam".into(),
            rooms: vec![room(1, 300), room(2, 100), room(3, 50)],
            sessions: vec![
                s(1, 1, 10, "a"),
                s(2, 2, 10, "b"),
                s(3, 3, 10, "c"),
                s(4, 1, 11, "c"),
            ],
            optimisation: None,
        };
        let (next, note) =
            resolve_fewest_changes(&schedule, vec![room(1, 200), room(2, 80)], at(9, 0)).unwrap();
        assert!(eods_domain::lifecycle::schedule_conflicts(&next).is_empty());
        // Speaker c holds 11:00 in room 1, so session 3 must take 11:00 in room 2.
        let moved: Vec<&Session> = next
            .sessions
            .iter()
            .zip(&schedule.sessions)
            .filter(|(a, b)| a.start != b.start)
            .map(|(a, _)| a)
            .collect();
        assert_eq!(moved.len(), 1, "{note}");
        assert!(
            note.contains("proven optimal") && note.contains("1 change time"),
            "{note}"
        );
        for x in &next.sessions {
            for y in &next.sessions {
                if x.id != y.id && x.speakers == y.speakers {
                    assert!(x.end <= y.start || y.end <= x.start);
                }
            }
        }
    }
}
