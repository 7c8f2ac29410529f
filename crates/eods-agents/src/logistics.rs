//! Logistics Coordinator: a conflict-free session schedule in the selected venue's rooms, a
//! balanced roster, workflows linked to tasks, a contingency scenario for every risk, and vendor
//! contracts for every supplier the cost model chose.

use crate::data::{CatalogVenue, RateCards, Service};
use crate::instructions::{LogisticsParams, Scheduler};
pub use crate::placement::{Frame, Item, solve};
use crate::tasks::{TaskKey, owner_for, task_id};
use crate::{AgentError, Inputs, StepOutput, Tools};
use chrono::{DateTime, Duration, FixedOffset, NaiveDate, NaiveTime, TimeZone};
use eods_domain::artifact::CatalogType;
use eods_domain::catalog::brief::{EventBrief, EventType, StakeholderRole};
use eods_domain::catalog::budget::{BudgetCategory, CostModel};
use eods_domain::catalog::logistics::{
    Assignment, BackupRef, ContingencyPlan, ContractTerms, IncidentKind, Layout, LogisticsPlan,
    Resource, ResourceRoster, ResourceType, Room, Scenario, Schedule, ScheduleOptimisation,
    Session, Trigger, VendorContract, VendorContracts, Window, Workflow,
};
use eods_domain::catalog::planning::{RiskCategory, RiskRegister, StakeholderMap, TaskRegister};
use eods_domain::catalog::venue::{ShortlistCandidate, VenueLeads, VenueScorecard, VenueShortlist};
use eods_domain::hours;
use eods_domain::ids::{ResourceId, RoomId, ScenarioId, SessionId, VendorId, WorkflowId};
use eods_domain::money::Money;
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// A duty to roster: what, for which session, from, to.
type Duty = (
    String,
    Option<SessionId>,
    DateTime<FixedOffset>,
    DateTime<FixedOffset>,
);

/// A response to a risk: incident, trigger condition, steps, minutes to respond, tasks drawn on.
type Response = (IncidentKind, String, Vec<String>, u32, Vec<TaskKey>);

/// Kinds of session that address everyone: pinned from the text, they run as plenaries.
const PLENARY_WORDS: [&str; 5] = ["keynote", "plenary", "opening", "closing", "welcome"];

/// The program to place, with the sessions the constraints pin ("keynote at 10:00"): the first
/// unpinned session whose title names it, on the first day, as a plenary for a keynote.
fn items(b: &EventBrief) -> Vec<Item> {
    let mut items = program_items(b);
    for (what, at, _) in hours::brief_fixed_sessions(b) {
        if let Some(item) = items
            .iter_mut()
            .find(|i| i.fixed.is_none() && i.title.to_lowercase().contains(&what))
        {
            item.fixed = Some((b.first_day(), at));
            item.plenary |= PLENARY_WORDS.iter().any(|w| what.contains(w));
        }
    }
    items
}

fn program_items(b: &EventBrief) -> Vec<Item> {
    if !b.program.is_empty() {
        let tracks = b.tracks.max(1) as usize;
        return b
            .program
            .iter()
            .enumerate()
            .map(|(i, p)| Item {
                title: p.title.clone(),
                track: p
                    .track
                    .clone()
                    .unwrap_or_else(|| format!("Track {}", i % tracks + 1)),
                minutes: p.duration_minutes,
                speakers: p.speakers.clone(),
                fixed: p
                    .start
                    .map(|t| (p.day.unwrap_or_else(|| b.first_day()), t.0)),
                plenary: p.plenary,
            })
            .collect();
    }
    if b.event_type == EventType::Meetup {
        return [
            ("Welcome and introductions", 15),
            ("Talk slot 1", 30),
            ("Talk slot 2", 30),
            ("Networking", 45),
        ]
        .into_iter()
        .map(|(t, m)| Item {
            title: t.into(),
            track: "Main".into(),
            minutes: m,
            ..Item::default()
        })
        .collect();
    }
    let mut v = Vec::new();
    for t in 1..=b.tracks.max(1) {
        for d in 1..=b.days() {
            for s in 1..=4 {
                v.push(Item {
                    title: format!("Track {t} day {d} session {s} (to be programmed)"),
                    track: format!("Track {t}"),
                    minutes: 45,
                    ..Item::default()
                });
            }
        }
    }
    v
}

fn local(tz: chrono_tz::Tz, day: NaiveDate, t: NaiveTime) -> Option<DateTime<FixedOffset>> {
    tz.from_local_datetime(&day.and_time(t))
        .earliest()
        .map(|d| d.fixed_offset())
}

fn hm(s: &str) -> NaiveTime {
    NaiveTime::parse_from_str(s, "%H:%M").unwrap_or_default()
}

/// The hours to schedule in: what the organiser fixed (structured hours, date-times, time rules
/// read from the constraints), filled with the instruction set's defaults (evening hours for a
/// meetup, day hours with lunch otherwise).
pub fn frame(b: &EventBrief, p: &LogisticsParams) -> Result<Frame, AgentError> {
    let evening = b.event_type == EventType::Meetup;
    let (start, end) = if evening {
        (hm(&p.evening_start), hm(&p.evening_end))
    } else {
        (hm(&p.day_start), hm(&p.day_end))
    };
    let bounds =
        hours::day_bounds(b, &hours::brief_rules(b)).map_err(|reason| AgentError::Infeasible {
            reason,
            alternatives: vec![],
        })?;
    let defaults = hours::Defaults {
        start,
        end,
        lunch: (!evening).then(|| (hm("12:30"), hm("13:30"))),
    };
    Ok(Frame {
        tz: b.tz(),
        days: hours::day_plans(&bounds, &defaults),
        break_minutes: p.break_minutes,
    })
}

/// Places sessions track by track: each track gets a room (largest rooms first); pinned and
/// plenary sessions first, then each session at the earliest time in its room's day that avoids
/// the breaks and its speakers' other sessions, spilling to later days and then to other rooms.
/// Never double-books a room or a speaker, never leaves the day's hours.
fn place(
    b: &EventBrief,
    rooms: &[Room],
    frame: &Frame,
    p: &LogisticsParams,
) -> Result<(Vec<Session>, Option<ScheduleOptimisation>), AgentError> {
    let items = items(b);
    if p.scheduler == Scheduler::Optimal {
        let weights = crate::timetable::Weights {
            demand: b.audience_size / b.tracks.max(1).min(rooms.len().max(1) as u32),
            capacity_fit: p.capacity_fit,
            node_limit: p.node_limit,
        };
        if let Some((sessions, report)) = crate::timetable::optimise(&items, rooms, frame, weights)?
        {
            return Ok((sessions, Some(report)));
        }
    }
    // First fit packs sessions of different lengths tighter than a uniform grid.
    Ok((solve(&items, rooms, frame)?, None))
}

/// The venue the scorecard selected: from the demo catalog, or as the leads recorded it (the
/// organiser's list, OpenStreetMap with a quote).
pub fn selected_venue(
    tools: &Tools,
    leads: Option<&VenueLeads>,
    shortlist: &VenueShortlist,
    scorecard: &VenueScorecard,
) -> Option<CatalogVenue> {
    let c = shortlist
        .candidates
        .iter()
        .find(|c| c.id == scorecard.selected_candidate_id)?;
    let recorded = leads
        .and_then(|l| l.leads.iter().find(|l| l.id == c.lead_id))
        .and_then(|l| l.record.as_ref())
        .and_then(CatalogVenue::from_record);
    recorded.or_else(|| {
        tools
            .catalog
            .venues
            .iter()
            .find(|v| v.id == c.venue_ref)
            .cloned()
    })
}

/// Logistics plan, schedule, roster, contingency plan and vendor contracts.
pub fn plan(input: Inputs<'_>, p: &LogisticsParams) -> Result<StepOutput, AgentError> {
    let b = input.need::<EventBrief>()?;
    let map = input.need::<StakeholderMap>()?;
    let tasks = input.need::<TaskRegister>()?;
    let risks = input.need::<RiskRegister>()?;
    let shortlist = input.need::<VenueShortlist>()?;
    let scorecard = input.need::<VenueScorecard>()?;
    let cost = input.need::<CostModel>()?;
    // Large events: a combination of sites is scheduled as one venue of all their rooms, named
    // `<site>: <room>` (see `multisite`).
    let sites = crate::multisite::selected_sites(input.tools, shortlist, scorecard);
    let selected = match &sites {
        Some(combined) => combined.clone(),
        None => selected_venue(
            input.tools,
            input.get::<VenueLeads>()?,
            shortlist,
            scorecard,
        )
        .ok_or_else(|| {
            AgentError::MissingInput(vec!["the selected venue in the venue leads".into()])
        })?,
    };
    let venue = &selected;
    let tz: chrono_tz::Tz = b.timezone.parse().unwrap_or(chrono_tz::UTC);
    let rooms = hired_rooms(b, venue, shortlist, scorecard);
    let frame = frame(b, p)?;
    // At several sites each track keeps its own stage (first fit gives every track a home
    // room): the optimiser weighs one audience against room sizes and would move tracks
    // between sites, and with them people.
    let first_fit;
    let p = if sites.is_some() && p.scheduler == Scheduler::Optimal {
        first_fit = LogisticsParams {
            scheduler: Scheduler::FirstFit,
            ..p.clone()
        };
        &first_fit
    } else {
        p
    };
    let (sessions, optimisation) = place(b, &rooms, &frame, p)?;
    let schedule = Schedule {
        timezone: b.timezone.clone(),
        rooms: rooms.clone(),
        sessions,
        optimisation,
    };
    let windows = staff_windows(&frame, tz);
    let roster = roster(b, map, p, &rooms, &schedule, &windows);
    let workflows = workflows(b, map, tasks);
    let runner_up = scorecard
        .ranking
        .iter()
        .filter(|c| **c != scorecard.selected_candidate_id && !scorecard.excluded.contains(c))
        .find_map(|c| shortlist.candidates.iter().find(|x| &x.id == c));
    let contracts = vendor_contracts(input, b, venue, cost, tasks)?;
    let scenarios = scenarios(risks, venue, runner_up, &contracts);
    let logistics = LogisticsPlan {
        resources: roster.resources.iter().map(|r| r.id.clone()).collect(),
        vendors: contracts.vendors.iter().map(|v| v.id.clone()).collect(),
        layouts: layouts(b, &rooms),
        policies: vec![
            "Code of conduct published and briefed to every staff member".into(),
            "Step-free route and accessible toilets signposted".into(),
            "Final catering numbers fixed 72 hours before".into(),
            "Personal data kept only for registration and deleted 30 days after the event".into(),
        ]
        .into_iter()
        .chain(
            sites
                .as_ref()
                .map(|v| crate::multisite::transfer_policy(v, &cost.line_items)),
        )
        .collect(),
        workflows,
    };
    let n_sessions = schedule.sessions.len();
    Ok(StepOutput {
        raised: vec![],
        summary: format!(
            "Scheduled {n_sessions} sessions in {} room(s), rostered {} resources, {} workflows, {} contingency scenarios, {} vendor contracts",
            rooms.len(),
            roster.resources.len(),
            logistics.workflows.len(),
            scenarios.len(),
            contracts.vendors.len()
        ),
        rationale: format!(
            "Tracks take the largest rooms of {}; sessions go first-fit by track with breaks of {} minutes; duties go to the least-loaded free person.",
            venue.name, p.break_minutes
        ),
        alternatives: vec![],
        artifacts: vec![
            logistics.into_payload(),
            schedule.into_payload(),
            roster.into_payload(),
            ContingencyPlan { scenarios }.into_payload(),
            contracts.into_payload(),
        ],
    })
}

/// The hired rooms: a room combination when the shortlist quoted one, else the venue's largest
/// rooms, one per track.
fn hired_rooms(
    b: &EventBrief,
    venue: &CatalogVenue,
    shortlist: &VenueShortlist,
    scorecard: &VenueScorecard,
) -> Vec<Room> {
    let hired: Vec<String> = shortlist
        .candidates
        .iter()
        .find(|c| c.id == scorecard.selected_candidate_id)
        .map(|c| c.rooms.clone())
        .unwrap_or_default();
    venue
        .rooms_by_size()
        .into_iter()
        .filter(|r| hired.is_empty() || hired.contains(&r.name))
        // Every hired room: one per track, or one per site at least for a combination.
        .take(if hired.is_empty() {
            b.tracks.max(1) as usize
        } else {
            hired.len()
        })
        .enumerate()
        .map(|(i, r)| Room {
            id: RoomId::nth(i + 1),
            name: r.name.clone(),
            capacity: r.capacity,
        })
        .collect()
}

/// The staff's hours on each day: an hour before doors (or the first session) until half an
/// hour after the end.
fn staff_windows(frame: &Frame, tz: chrono_tz::Tz) -> Vec<Window> {
    frame
        .days
        .iter()
        .filter_map(|d| {
            // Instants, not times of day: an hour before 00:30 or half an hour after 23:50
            // lies on another day.
            Some(Window {
                start: local(tz, d.date, d.doors.unwrap_or(d.start))? - Duration::minutes(60),
                end: local(tz, d.date, d.end)? + Duration::minutes(30),
            })
        })
        .collect()
}

/// The roster: spaces and AV kits follow the schedule; people are balanced over the duties.
fn roster(
    b: &EventBrief,
    map: &StakeholderMap,
    p: &LogisticsParams,
    rooms: &[Room],
    schedule: &Schedule,
    windows: &[Window],
) -> ResourceRoster {
    let mut resources = room_resources(rooms, schedule, windows);
    let names = staff_names(b, map, p);
    let duties = duties(windows, schedule);
    resources.extend(assign_duties(&names, duties, windows));
    ResourceRoster { resources }
}

/// A space and an AV kit for every room, each assigned the room's sessions.
fn room_resources(rooms: &[Room], schedule: &Schedule, windows: &[Window]) -> Vec<Resource> {
    let mut resources = Vec::new();
    for (i, room) in rooms.iter().enumerate() {
        let in_room: Vec<Assignment> = schedule
            .sessions
            .iter()
            .filter(|s| s.room == room.id)
            .map(|s| Assignment {
                session_id: Some(s.id.clone()),
                duty: format!("{} in {}", s.title, room.name),
                start: s.start,
                end: s.end,
            })
            .collect();
        resources.push(Resource {
            id: ResourceId(format!("resource-space-{}", i + 1)),
            resource_type: ResourceType::Space,
            name: room.name.clone(),
            availability: windows.to_vec(),
            assignments: in_room.clone(),
        });
        resources.push(Resource {
            id: ResourceId(format!("resource-av-{}", i + 1)),
            resource_type: ResourceType::Equipment,
            name: format!("AV kit, {}", room.name),
            availability: windows.to_vec(),
            assignments: in_room,
        });
    }
    resources
}

/// The staff to roster: the volunteers by name, filled up with numbered event staff to one per
/// `attendees_per_staff` attendees.
fn staff_names(b: &EventBrief, map: &StakeholderMap, p: &LogisticsParams) -> Vec<String> {
    let staff_n = b.audience_size.div_ceil(p.attendees_per_staff).max(1) as usize;
    let mut names: Vec<String> = map
        .stakeholders
        .iter()
        .filter(|s| s.role == StakeholderRole::Volunteer)
        .map(|s| s.name.clone())
        .collect();
    names.truncate(staff_n);
    while names.len() < staff_n {
        names.push(format!("Event staff {}", names.len() + 1));
    }
    names
}

/// The duties to staff, longest first: the registration desk each day and a host for every
/// session.
fn duties(windows: &[Window], schedule: &Schedule) -> Vec<Duty> {
    let mut duties: Vec<Duty> = Vec::new();
    for w in windows {
        let open = w.start + Duration::minutes(30);
        duties.push((
            "Registration desk".into(),
            None,
            open,
            open + Duration::minutes(120),
        ));
    }
    for s in &schedule.sessions {
        duties.push((
            format!("Room host: {}", s.title),
            Some(s.id.clone()),
            s.start,
            s.end,
        ));
    }
    // Longest duties first, each to the least-loaded free person (LPT): keeps loads level.
    duties.sort_by(|a, z| {
        (z.3 - z.2)
            .cmp(&(a.3 - a.2))
            .then(a.2.cmp(&z.2))
            .then(a.0.cmp(&z.0))
    });
    duties
}

/// The people, each duty given in order to the least-loaded person free at its time.
fn assign_duties(names: &[String], duties: Vec<Duty>, windows: &[Window]) -> Vec<Resource> {
    let mut people: Vec<Resource> = names
        .iter()
        .enumerate()
        .map(|(i, n)| Resource {
            id: ResourceId(format!("resource-staff-{}", i + 1)),
            resource_type: ResourceType::Person,
            name: n.clone(),
            availability: windows.to_vec(),
            assignments: vec![],
        })
        .collect();
    for (duty, session, start, end) in duties {
        let load = |r: &Resource| {
            r.assignments
                .iter()
                .map(|a| (a.end - a.start).num_minutes())
                .sum::<i64>()
        };
        let free = |r: &Resource| {
            r.assignments
                .iter()
                .all(|a| a.end <= start || end <= a.start)
        };
        if let Some(r) = people
            .iter_mut()
            .filter(|r| free(r))
            .min_by_key(|r| load(r))
        {
            r.assignments.push(Assignment {
                session_id: session,
                duty,
                start,
                end,
            });
        }
    }
    people
}

/// The workflows (setup, registration, catering, program, staff, and AV for a larger event),
/// each linked to the tasks of the register it serves.
fn workflows(b: &EventBrief, map: &StakeholderMap, tasks: &TaskRegister) -> Vec<Workflow> {
    let owner = owner_for(map, StakeholderRole::Owner);
    let finance = owner_for(map, StakeholderRole::Finance);
    let volunteer = owner_for(map, StakeholderRole::Volunteer);
    let mut wf = vec![
        (
            "Venue setup and teardown",
            vec![
                "Confirm access times",
                "Set up rooms to the layout",
                "Walk the venue with the host",
                "Tear down and hand back",
            ],
            owner.clone(),
            vec![TaskKey::BookVenue, TaskKey::Walkthrough],
        ),
        (
            "Registration and check-in",
            vec![
                "Open registration",
                "Print badges",
                "Staff the desk from doors open",
                "Track attendance",
            ],
            owner.clone(),
            vec![TaskKey::Registration, TaskKey::Materials],
        ),
        (
            "Catering service",
            vec![
                "Confirm numbers 72 hours before",
                "Receive delivery",
                "Label dietary options",
                "Clear up",
            ],
            finance.clone(),
            vec![TaskKey::ContractSuppliers],
        ),
        (
            "Program and speakers",
            vec![
                "Confirm speakers",
                "Collect slides",
                "Brief speakers on the day",
                "Keep time",
            ],
            owner.clone(),
            vec![TaskKey::Speakers, TaskKey::FinaliseProgram],
        ),
        (
            "Staff and volunteers",
            vec![
                "Recruit",
                "Brief on duties and the code of conduct",
                "Assign shifts from the roster",
            ],
            volunteer.clone(),
            vec![TaskKey::Staffing],
        ),
    ];
    if b.audience_size >= 50 || b.tracks > 1 {
        wf.push((
            "AV and streaming",
            vec![
                "Test every room",
                "Mic and slide checks before each session",
                "Record and stream",
            ],
            owner.clone(),
            vec![TaskKey::ContractSuppliers, TaskKey::Walkthrough],
        ));
    }
    wf.into_iter()
        .enumerate()
        .map(|(i, (name, steps, owner, keys))| Workflow {
            id: WorkflowId::nth(i + 1),
            name: name.into(),
            steps: steps.into_iter().map(str::to_owned).collect(),
            owner,
            task_ids: keys
                .into_iter()
                .map(task_id)
                .filter(|t| tasks.tasks.iter().any(|x| &x.id == t))
                .collect(),
        })
        .collect()
}

/// A contingency scenario for every risk: the response its category calls for, owned by the
/// risk's owner.
fn scenarios(
    risks: &RiskRegister,
    venue: &CatalogVenue,
    runner_up: Option<&ShortlistCandidate>,
    contracts: &VendorContracts,
) -> Vec<Scenario> {
    risks
        .risks
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let (incident, condition, steps, minutes, keys) =
                response(r.category, venue, runner_up, contracts);
            Scenario {
                id: ScenarioId::nth(i + 1),
                risk_id: r.id.clone(),
                trigger: Trigger {
                    incident,
                    condition,
                },
                response_steps: steps,
                owner: r.owner.clone(),
                task_ids: keys.into_iter().map(task_id).collect(),
                response_minutes: minutes,
            }
        })
        .collect()
}

/// A backup named in the vendor contracts for a service, as "name (supplier)".
fn backup_for(contracts: &VendorContracts, service: &str) -> Option<String> {
    contracts
        .vendors
        .iter()
        .find(|v| v.service == service)
        .and_then(|v| {
            v.backup
                .as_ref()
                .map(|b| format!("{} ({})", b.name, b.supplier_ref))
        })
}

/// The response to a category of risk: incident, trigger condition, steps, minutes to respond
/// and the tasks it draws on.
fn response(
    category: RiskCategory,
    venue: &CatalogVenue,
    runner_up: Option<&ShortlistCandidate>,
    contracts: &VendorContracts,
) -> Response {
    match category {
        RiskCategory::Venue => (
            IncidentKind::VenueUnavailable,
            format!("{} cancels or cannot open", venue.name),
            vec![
                match runner_up {
                    Some(v) => format!(
                        "Activate the runner-up venue {} ({}) from the shortlist",
                        v.name, v.id
                    ),
                    None => "Search the catalog for a replacement venue".into(),
                },
                "Move the schedule to the new rooms with the fewest changes".into(),
                "Tell attendees and speakers through the communications plan".into(),
            ],
            15,
            vec![TaskKey::BookVenue],
        ),
        RiskCategory::Vendor => (
            IncidentKind::VendorCancellation,
            "A contracted supplier cancels or misses a delivery window".into(),
            vec![
                format!(
                    "Call the backup supplier ({})",
                    backup_for(contracts, "catering")
                        .unwrap_or_else(|| "from the rate cards".into())
                ),
                "Confirm numbers and delivery time with the backup".into(),
                "Record the cost difference against the contingency reserve".into(),
            ],
            10,
            vec![TaskKey::ContractSuppliers],
        ),
        RiskCategory::Attendance => (
            IncidentKind::LowAttendance,
            "Registrations below 70% of the audience two weeks before".into(),
            vec![
                "Send an extra campaign to every channel".into(),
                "Reduce catering numbers before the 72-hour cut-off".into(),
            ],
            15,
            vec![TaskKey::Registration],
        ),
        RiskCategory::Budget => (
            IncidentKind::BudgetOverrun,
            "Committed costs exceed the approved total".into(),
            vec![
                "Draw on the contingency reserve".into(),
                "Ask for a budget approval for the change".into(),
            ],
            15,
            vec![TaskKey::ContractSuppliers],
        ),
        RiskCategory::Technology => (
            IncidentKind::AvFailure,
            "Projector, microphone or stream fails in a room".into(),
            vec![
                "Swap in the spare kit".into(),
                "Move the session to the next free room if not fixed in 5 minutes".into(),
            ],
            5,
            vec![TaskKey::Walkthrough],
        ),
        RiskCategory::People => (
            IncidentKind::SpeakerNoShow,
            "A speaker is not at the room 10 minutes before their slot".into(),
            vec![
                "Call the speaker".into(),
                "Run the standby talk or open discussion".into(),
            ],
            5,
            vec![TaskKey::FinaliseProgram],
        ),
        RiskCategory::Safety => (
            IncidentKind::Overcapacity,
            "A room or entrance exceeds its safe capacity".into(),
            vec![
                "Close the room door and direct to the overflow stream".into(),
                "Add staff at the entrance".into(),
            ],
            5,
            vec![TaskKey::Staffing],
        ),
        RiskCategory::Weather => (
            IncidentKind::Weather,
            "Severe weather warning for the event area".into(),
            vec![
                "Move outdoor activity indoors".into(),
                "Tell attendees about travel".into(),
            ],
            15,
            vec![TaskKey::Walkthrough],
        ),
        RiskCategory::Schedule => (
            IncidentKind::DeadlineMissed,
            "A critical-path task misses its end date".into(),
            vec![
                "Escalate to the owner the same day".into(),
                "Re-plan the remaining critical path".into(),
            ],
            15,
            vec![TaskKey::ConfirmScope],
        ),
    }
}

/// A layout for every room: theatre, with a lectern beyond a meetup.
fn layouts(b: &EventBrief, rooms: &[Room]) -> Vec<Layout> {
    rooms
        .iter()
        .map(|r| Layout {
            room_id: r.id.clone(),
            setup: if b.event_type == EventType::Meetup {
                "theatre".into()
            } else {
                "theatre with a lectern".into()
            },
            capacity: r.capacity,
        })
        .collect()
}

fn vendor_contracts(
    input: Inputs<'_>,
    b: &EventBrief,
    venue: &CatalogVenue,
    cost: &CostModel,
    tasks: &TaskRegister,
) -> Result<VendorContracts, AgentError> {
    let rates: &RateCards = &input.data()?.rates;
    let cur = &b.budget.currency;
    let date_of = |k: TaskKey| {
        tasks
            .tasks
            .iter()
            .find(|t| t.id == task_id(k))
            .map_or(b.first_day(), |t| t.end)
    };
    let mut vendors = Vec::new();
    let venue_total: Decimal = cost
        .line_items
        .iter()
        .filter(|l| l.category == BudgetCategory::Venue)
        .map(|l| l.total)
        .sum();
    vendors.push(VendorContract {
        id: VendorId::nth(1),
        name: venue.name.clone(),
        supplier_ref: venue.id.to_string(),
        service: "venue".into(),
        terms: ContractTerms {
            start: date_of(TaskKey::BookVenue),
            end: b.last_day(),
            total_cost: Money::new(venue_total, cur),
            payment_terms: "50% on booking, 50% 30 days before the event".into(),
        },
        slas: vec![
            "Rooms open 2 hours before the first session".into(),
            "Wifi for every attendee".into(),
        ],
        cancellation_policy: "Free until 60 days before; 50% until 14 days; 100% after".into(),
        backup: None,
    });
    let mut by_supplier: BTreeMap<&str, Decimal> = BTreeMap::new();
    for l in cost.line_items.iter().filter(|l| {
        !matches!(
            l.category,
            BudgetCategory::Venue | BudgetCategory::Contingency
        )
    }) {
        *by_supplier.entry(l.vendor_option.as_str()).or_default() += l.total;
    }
    for (sid, total) in by_supplier {
        let Some(s) = rates.suppliers.iter().find(|s| s.id == sid) else {
            return Err(AgentError::MissingInput(vec![format!(
                "supplier `{sid}` of the cost model in the rate cards"
            )]));
        };
        // A backup based in the city when any is; one serving it from elsewhere says so.
        let others: Vec<&crate::data::Supplier> = rates
            .suppliers
            .iter()
            .filter(|o| {
                o.service == s.service
                    && o.id != s.id
                    && o.serves(&b.location.city)
                    && !input.directives.excluded_suppliers.contains(&o.id)
            })
            .collect();
        let local = |o: &&crate::data::Supplier| {
            o.cities
                .iter()
                .any(|c| crate::sources::same_city(c, &b.location.city))
        };
        let best = |a: &&&crate::data::Supplier, z: &&&crate::data::Supplier| {
            a.reliability
                .total_cmp(&z.reliability)
                .then(z.id.cmp(&a.id))
        };
        let chosen = others
            .iter()
            .filter(|o| local(o))
            .max_by(best)
            .or_else(|| others.iter().max_by(best));
        let mut slas = vendor_slas(b, s);
        match chosen {
            Some(o) if !local(o) => slas.push(format!(
                "No backup {} supplier based in {}: {} serves it from elsewhere",
                s.service.as_str(),
                b.location.city,
                o.name
            )),
            None => slas.push(format!(
                "No backup {} supplier in {}: ask a second supplier for a quote",
                s.service.as_str(),
                b.location.city
            )),
            Some(_) => {}
        }
        let backup = chosen.map(|o| BackupRef {
            supplier_ref: o.id.clone(),
            name: o.name.clone(),
        });
        vendors.push(VendorContract {
            id: VendorId::nth(vendors.len() + 1),
            name: s.name.clone(),
            supplier_ref: s.id.clone(),
            service: s.service.as_str().into(),
            terms: ContractTerms {
                start: date_of(TaskKey::ContractSuppliers),
                end: b.last_day(),
                total_cost: Money::new(total, cur),
                payment_terms: s.payment_terms.clone(),
            },
            slas,
            cancellation_policy: s.cancellation_policy.clone(),
            backup,
        });
    }
    Ok(VendorContracts {
        vendors,
        excluded_suppliers: input.directives.excluded_suppliers.clone(),
    })
}

/// A supplier's service levels; a caterer's contract also carries the brief's dietary needs.
fn vendor_slas(b: &EventBrief, s: &crate::data::Supplier) -> Vec<String> {
    let mut slas = s.slas.clone();
    if s.service == crate::data::Service::Catering {
        let diets = eods_domain::constraints::diets(b);
        if !diets.is_empty() {
            slas.push(format!(
                "Dietary requirement from the brief: {}",
                diets
                    .iter()
                    .map(|d| d.label())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    slas
}

/// The supplier an approver's rejection of the vendor contracts replaces: the least reliable one
/// under contract (ties: the most expensive).
pub fn supplier_to_replace(contracts: &VendorContracts, rates: &RateCards) -> Option<String> {
    contracts
        .vendors
        .iter()
        .filter_map(|v| {
            let s = rates.suppliers.iter().find(|s| s.id == v.supplier_ref)?;
            Some((s.reliability, v.terms.total_cost.amount, s.id.clone()))
        })
        .min_by(|a, z| a.0.total_cmp(&z.0).then(z.1.cmp(&a.1)))
        .map(|(_, _, id)| id)
}

/// The service a supplier provides, by id.
pub fn service_of(rates: &RateCards, supplier: &str) -> Option<Service> {
    rates
        .suppliers
        .iter()
        .find(|s| s.id == supplier)
        .map(|s| s.service)
}
