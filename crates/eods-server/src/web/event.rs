//! The event page: a lifecycle stepper with the gate status of the current state and what
//! blocks it, then one tab per artifact family (timeline, tasks, venue, budget, schedule, risks,
//! logistics, contingency and incidents, communications, revisions with diffs). Tabs are links,
//! so everything works without JavaScript; `live.js` adds progress from the event stream.
//! Vendor contract terms and negotiation notes are shown only with the contracts permission.
//! The artifact-family tabs are built in `tabs.rs`; this module holds the page, the overview, the
//! revisions tab, incident reporting and the stream.

use super::tabs::{
    BudgetView, CommsView, ContingencyView, LogisticsView, RiskView, ScheduleView, TaskView,
    TimelineView, VenueView, budget, communications, contingency, logistics, risks, schedule,
    tasks, timeline, venue,
};
use super::{Session, UserView, form_session, page_error, render, session, user_view};
use crate::AppState;
use crate::auth::Client;
use crate::charts::amount;
use crate::error::ApiError;
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use eods_domain::access::Permission;
use eods_domain::artifact::ArtifactType;
use eods_domain::blackboard::Blackboard;
use eods_domain::catalog::execution::{IncidentLog, Postmortem};
use eods_domain::catalog::logistics::{IncidentKind, Injection};
use eods_domain::ids::EventId;
use eods_domain::lifecycle::{LifecycleState, gates_for};
use eods_engine::Overview;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeSet;

/// The tabs, in the order shown.
const TABS: &[(&str, &str)] = &[
    ("overview", "Overview"),
    ("timeline", "Timeline"),
    ("tasks", "Tasks"),
    ("venue", "Venue"),
    ("budget", "Budget"),
    ("schedule", "Schedule"),
    ("risks", "Risks"),
    ("logistics", "Logistics"),
    ("contingency", "Contingency"),
    ("communications", "Communications"),
    ("messages", "Messages"),
    ("revisions", "Revisions"),
];

/// The snake_case name serde gives a unit enum value.
pub(super) fn name<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

/// One step of the lifecycle stepper.
struct Step {
    name: &'static str,
    /// `done`, `current` or `todo`.
    status: &'static str,
}

/// What every tab shows above its body.
struct Header {
    id: String,
    title: String,
    state: String,
    run_status: String,
    detail: Option<String>,
    level: String,
    /// `live` or `simulated rehearsal`: what happens after Confirm.
    mode: &'static str,
    steps: Vec<Step>,
    tab: &'static str,
    can_plan: bool,
    contracts: bool,
    notice: Option<String>,
    /// The quotes a run in `needs_input` waits for (empty otherwise).
    quotes_needed: Vec<String>,
    /// When the event was archived, in words.
    archived: Option<String>,
    /// Whether it may be archived now (its run neither works nor waits for approvals).
    archivable: bool,
    csrf: String,
}

struct GateRow {
    name: String,
    ok: bool,
    problems: Vec<String>,
}

struct ApprovalRowView {
    gate: String,
    revision: u32,
    status: String,
    votes: String,
    deadline: String,
    overdue: bool,
    decided: String,
    /// What a pending request asks to commit: summary and cost impact.
    pending: Option<(String, String)>,
}

pub(super) struct IncidentView {
    pub(super) kind: String,
    pub(super) description: String,
    pub(super) detected: String,
    pub(super) status: String,
    pub(super) scenario: String,
    pub(super) response: Vec<String>,
    pub(super) resolved: String,
    pub(super) by_contingency: bool,
    /// Its number (from 1, in the order reported), for the resolution form.
    pub(super) number: u32,
    /// Not resolved yet: a person can record its resolution (live events).
    pub(super) open: bool,
}

struct MetricRow {
    name: String,
    value: String,
    target: String,
    met: String,
    detail: String,
}

/// One brief text as the constraint recogniser read it: where, the text, and what it was
/// understood as (or, for a text not understood, the hint).
struct ConstraintRow {
    pointer: String,
    text: String,
    detail: String,
}

/// One way out of a blocked run, best first: the option, what speaks for it and against it.
struct WayOut {
    option: String,
    pros: String,
    cons: String,
}

pub(super) struct OverviewView {
    next: String,
    blocked: bool,
    /// While the run is blocked: why, and the ranked ways out of the escalation.
    block_reason: Option<String>,
    ways_out: Vec<WayOut>,
    missing: Vec<String>,
    invalid: Vec<String>,
    stale: Vec<String>,
    gates: Vec<GateRow>,
    approvals: Vec<ApprovalRowView>,
    brief: Vec<(String, String)>,
    /// The incomplete brief as submitted and amended, while no event_brief revision exists.
    draft: Option<String>,
    understood: Vec<ConstraintRow>,
    not_understood: Vec<ConstraintRow>,
    artifacts: Vec<(String, u32, String)>,
    /// What can be downloaded now: (file name, what it holds).
    downloads: Vec<(&'static str, &'static str)>,
    incidents: Vec<IncidentView>,
    incident_kinds: &'static [&'static str],
    can_report: bool,
    /// The brief can still be edited (before Execute).
    brief_editable: bool,
    metrics: Vec<MetricRow>,
    insights: Vec<String>,
    /// The seed when Execute and the postmortem were simulated (they are then labelled so).
    simulated: Option<u64>,
    /// A live event's tasks, overdue first, with what the recorded progress puts at risk.
    tasks: Option<TasksView>,
    /// What a waiting live run waits for, in words (its start, or its end).
    waits_for: Option<String>,
    /// A live event from Execute on: the survey's answers so far (respondent, score, comment)
    /// and whether planners may add one.
    feedback: Option<Vec<(String, u8, String)>>,
    csrf: String,
    step_count: u64,
    leads: Option<super::leads::LeadsView>,
}

pub(super) struct RevisionsView {
    types: Vec<(String, u32)>,
    selected: Option<String>,
    revisions: Vec<RevisionView>,
}

struct RevisionView {
    revision: u32,
    at: String,
    by: String,
    changes: Vec<(String, String, String)>,
    more: usize,
}

pub(super) enum Body {
    Overview(Box<OverviewView>),
    Timeline(TimelineView),
    Tasks(Vec<TaskView>),
    Venue(VenueView),
    Budget(BudgetView),
    Schedule(ScheduleView),
    Risks(RiskView),
    Logistics(LogisticsView),
    Contingency(ContingencyView),
    Communications(CommsView),
    Messages(super::messages::MessagesView),
    Revisions(RevisionsView),
    /// The tab's artifacts do not exist yet.
    Empty(String),
}

#[derive(Template)]
#[template(path = "event.html")]
struct EventPage {
    user: Option<UserView>,
    h: Header,
    tabs: &'static [(&'static str, &'static str)],
    body: Body,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct EventQuery {
    tab: Option<String>,
    #[serde(rename = "type")]
    artifact_type: Option<String>,
    created: Option<String>,
    reported: Option<String>,
    quoted: Option<String>,
    /// What the Messages tab's last form did (`written`, `unchanged`, `saved`, `queued`,
    /// `approved`).
    drafts: Option<String>,
    task: Option<String>,
    /// The brief revision a program edit made.
    program: Option<String>,
    /// The brief revision the brief editor made, or `unchanged`.
    brief: Option<String>,
    /// The incident whose resolution was recorded.
    resolved: Option<String>,
    feedback: Option<String>,
}

/// The event's files as they stand: the report and the calendar always, the frab schedule and
/// the budget CSV once their artifacts exist.
fn downloads(bb: &eods_domain::blackboard::Blackboard) -> Vec<(&'static str, &'static str)> {
    use eods_domain::artifact::ArtifactType;
    let mut out = vec![(
        "report.md",
        "the report (Markdown): brief, timeline, venue, budget, schedule, risks, approvals",
    )];
    out.push((
        "calendar.ics",
        "the milestones and sessions (iCalendar), for a calendar app",
    ));
    if bb.current(ArtifactType::Schedule).is_some() {
        out.push((
            "schedule.xml",
            "the schedule (frab XML), for pretalx, frab, c3voc tools and apps",
        ));
    }
    if bb.current(ArtifactType::CostModel).is_some() {
        out.push((
            "budget.csv",
            "the budget's lines, reserve and total (CSV), for a spreadsheet",
        ));
    }
    out
}

/// A download of the event page (`/ui/events/{id}/downloads/{file}`): the API's exports and
/// the report, for a signed-in reader (contract amounts only with the permission).
pub(super) async fn download(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: Client,
    Path((id, file)): Path<(String, String)>,
) -> Response {
    let s = match session(&state, &headers, client).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let id = match parse_id(&id) {
        Ok(id) => id,
        Err(e) => return page_error(e),
    };
    let e = match state.store.event(id).await {
        Ok(Some(e)) => e,
        Ok(None) => return page_error(ApiError::not_found(format!("no event {id}"))),
        Err(e) => return page_error(e.into()),
    };
    match crate::api::export_file(&state, &e, &file, s.principal.contracts).await {
        Ok(r) => r,
        Err(e) => page_error(e),
    }
}

pub(super) fn parse_id(s: &str) -> Result<EventId, ApiError> {
    s.parse()
        .map_err(|_| ApiError::not_found(format!("no event `{s}`: an event id is a UUID")))
}

fn stepper(state: LifecycleState, completed: bool) -> Vec<Step> {
    let mut steps = Vec::new();
    let mut s = Some(LifecycleState::Initiate);
    while let Some(x) = s {
        let status = if x < state || (x == state && completed) {
            "done"
        } else if x == state {
            "current"
        } else {
            "todo"
        };
        steps.push(Step {
            name: x.as_str(),
            status,
        });
        s = x.next();
    }
    steps
}

pub(super) async fn event_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: Client,
    Path(id): Path<String>,
    Query(q): Query<EventQuery>,
) -> Response {
    let s = match session(&state, &headers, client).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let id = match parse_id(&id) {
        Ok(id) => id,
        Err(e) => return page_error(e),
    };
    let o = match state.engine.overview(id).await {
        Ok(o) => o,
        Err(e) => return page_error(e.into()),
    };
    let tab = q.tab.as_deref().unwrap_or("overview");
    let Some(&(tab, _)) = TABS.iter().find(|(t, _)| *t == tab) else {
        let names: Vec<&str> = TABS.iter().map(|(t, _)| *t).collect();
        return page_error(ApiError::field(
            "#/parameters/tab",
            format!("no tab `{tab}`: choose one of {}", names.join(", ")),
        ));
    };
    let e = &o.event;
    let notice = if q.created.is_some() {
        Some("The event was created and planning has started.".to_owned())
    } else if q.quoted.is_some() {
        Some("The quote was recorded; planning continues with it.".to_owned())
    } else if let Some(n) = q.drafts.as_deref().and_then(|d| match d {
        "written" => Some("The drafts were written from the plan. Nothing is sent before an approver approves it."),
        "unchanged" => Some("The plan calls for no new words: the drafts are as they were."),
        "saved" => Some("The draft was saved. An approved draft whose words changed needs approval again."),
        "queued" => Some("The draft was approved and queued for e-mail to its address."),
        "approved" => Some("The draft was approved. It names no e-mail address: send it by hand."),
        _ => None,
    }) {
        Some(n.to_owned())
    } else if q.feedback.is_some() {
        Some(
            "The answer was recorded; the postmortem measures satisfaction from the survey."
                .to_owned(),
        )
    } else if let Some(r) = q.program.as_deref() {
        Some(match r.parse::<u32>() {
            Ok(r) => format!(
                "The program was saved as brief revision {r}; the schedule and what follows it are planned again."
            ),
            Err(_) => "The program was saved.".to_owned(),
        })
    } else if let Some(r) = q.brief.as_deref() {
        Some(match r.parse::<u32>() {
            Ok(r) => format!(
                "The brief was saved as revision {r}; what depends on the fields you changed is planned again."
            ),
            Err(_) => "Nothing in the brief changed; nothing was saved.".to_owned(),
        })
    } else if let Some(n) = q.resolved.as_deref().and_then(|n| n.parse::<u32>().ok()) {
        Some(format!(
            "The resolution of incident {n} was recorded; the incident log shows it."
        ))
    } else if let Some(t) = q.task.as_deref().filter(|t| {
        // Only a task of the plan is echoed.
        o.blackboard
            .get::<eods_domain::catalog::planning::TaskRegister>()
            .is_some_and(|r| r.tasks.iter().any(|x| x.id.as_str() == *t))
    }) {
        Some(format!(
            "The status of {t} was recorded; the task board below shows what is at risk now."
        ))
    } else {
        // Only a known kind is echoed: a crafted link cannot make the page say something else.
        q.reported
            .filter(|k| IncidentKind::parse(k).is_ok())
            .map(|k| {
                format!(
                    "The {k} incident was recorded; Execute plays it through the contingency plan."
                )
            })
    };
    let h = Header {
        id: e.id.to_string(),
        title: e.title.clone(),
        state: e.state.to_string(),
        run_status: e.run_status.to_string(),
        detail: e.status_detail.clone(),
        level: o.level.to_string(),
        mode: match e.options.mode {
            eods_domain::run::RunMode::Live => "live",
            eods_domain::run::RunMode::Simulate => "simulated rehearsal",
        },
        steps: stepper(
            e.state,
            e.run_status == eods_domain::lifecycle::RunStatus::Completed,
        ),
        tab,
        can_plan: s.principal.role.grants(Permission::Plan),
        contracts: s.principal.contracts,
        notice,
        quotes_needed: if e.run_status == eods_domain::lifecycle::RunStatus::NeedsInput {
            super::leads::quotes_needed(&o.blackboard)
        } else {
            vec![]
        },
        archived: e
            .archived_at
            .map(|t| t.format("%-d %b %Y %H:%M UTC").to_string()),
        archivable: !matches!(
            e.run_status,
            eods_domain::lifecycle::RunStatus::Running
                | eods_domain::lifecycle::RunStatus::AwaitingApproval
        ),
        csrf: s.csrf.clone(),
    };
    let body = match tab {
        "overview" => Body::Overview(Box::new(overview(&o, &s, &h, state.engine.clock().now()))),
        "timeline" => timeline(&o.blackboard),
        "tasks" => tasks(&o.blackboard),
        "venue" => venue(&o.blackboard, s.principal.contracts),
        "budget" => budget(&o.blackboard, s.principal.contracts),
        "schedule" => schedule(&o.blackboard),
        "risks" => risks(&o.blackboard),
        "logistics" => logistics(&o.blackboard, s.principal.contracts),
        "contingency" => contingency(&o.blackboard),
        "communications" => communications(&o.blackboard),
        "messages" => Body::Messages(super::messages::messages(
            &o.blackboard,
            s.principal.role.grants(Permission::Approve),
        )),
        _ => match revisions(&state, id, q.artifact_type.as_deref(), &s).await {
            Ok(b) => b,
            Err(e) => return page_error(e),
        },
    };
    let user = match user_view(&state, &s).await {
        Ok(u) => Some(u),
        Err(e) => return page_error(e),
    };
    render(EventPage {
        user,
        h,
        tabs: TABS,
        body,
    })
}

/// The overview tab's view of an event.
///
/// Long because: it fills the view's fields one after the other, each a few lines of formatting.
fn overview(
    o: &Overview,
    s: &Session,
    h: &Header,
    now: chrono::DateTime<chrono::Utc>,
) -> OverviewView {
    let e = &o.event;
    let bb = &o.blackboard;
    let (next, blocked, missing, invalid, stale, failed) = match &o.next {
        Ok(to) => (to.to_string(), false, vec![], vec![], vec![], vec![]),
        Err(b) => (
            if b.to == b.from {
                "none (the lifecycle is over)".to_owned()
            } else {
                b.to.to_string()
            },
            b.to != b.from,
            b.missing.iter().map(|t| t.to_string()).collect(),
            b.invalid
                .iter()
                .map(|(t, v)| format!("{t}{}: {}", v.pointer, v.message))
                .collect(),
            b.stale.iter().map(|t| t.to_string()).collect(),
            b.failed.clone(),
        ),
    };
    let gates = gates_for(e.state)
        .iter()
        .map(|g| {
            let problems = failed
                .iter()
                .find(|f| f.gate == *g)
                .map(|f| f.problems.clone())
                .unwrap_or_default();
            GateRow {
                name: g.to_string(),
                ok: problems.is_empty(),
                problems,
            }
        })
        .collect();
    let approvals =
        o.approvals
            .iter()
            .map(|a| ApprovalRowView {
                gate: a.gate.to_string(),
                revision: a.artifact_revision,
                status: a.status.as_str().to_owned(),
                votes: format!(
                    "{} of {}",
                    a.votes
                        .iter()
                        .filter(|v| v.decision == eods_domain::lifecycle::ApprovalDecision::Approve)
                        .count(),
                    a.required_approvals
                ),
                deadline: a.deadline.format("%Y-%m-%d %H:%M UTC").to_string(),
                overdue: a.status == eods_domain::lifecycle::ApprovalStatus::Pending
                    && a.deadline < now,
                decided: match (&a.decided_by, a.decided_at) {
                    (Some(by), Some(at)) => format!(
                        "{} by {by} at {}{}",
                        a.decision.map(|d| d.as_str()).unwrap_or("decided"),
                        at.format("%Y-%m-%d %H:%M"),
                        a.comment
                            .as_deref()
                            .filter(|c| !c.is_empty())
                            .map(|c| format!(": “{c}”"))
                            .unwrap_or_default()
                    ),
                    _ => String::new(),
                },
                pending: o.pending.iter().find(|p| p.id == a.id).map(|p| {
                    super::approval::describe(a.gate, &p.summary, bb, s.principal.contracts)
                }),
            })
            .collect();
    let mut brief = Vec::new();
    let (mut understood, mut not_understood) = (Vec::new(), Vec::new());
    if let Some(b) = bb.get::<eods_domain::catalog::brief::EventBrief>() {
        for r in eods_domain::constraints::read_brief(b) {
            if let Some(hint) = r.not_understood {
                not_understood.push(ConstraintRow {
                    pointer: r.pointer.clone(),
                    text: r.text.clone(),
                    detail: hint,
                });
            }
            if !r.understood.is_empty() {
                understood.push(ConstraintRow {
                    pointer: r.pointer,
                    text: r.text,
                    detail: r
                        .understood
                        .iter()
                        .map(|u| u.describe())
                        .collect::<Vec<_>>()
                        .join("; "),
                });
            }
        }
        brief.push((
            "Dates".into(),
            format!("{} to {} ({})", b.first_day(), b.last_day(), b.timezone),
        ));
        brief.push(("Hours".into(), hours_text(b)));
        brief.push(("Type".into(), name(&b.event_type)));
        brief.push(("Audience".into(), format!("{} people", b.audience_size)));
        brief.push((
            "Where".into(),
            format!("{}, {}", b.location.city, b.location.country),
        ));
        brief.push((
            "Budget".into(),
            format!(
                "{} {} ({})",
                amount(b.budget.total),
                b.budget.currency,
                name(&b.budget.flexibility)
            ),
        ));
        brief.push(("Tracks".into(), b.tracks.to_string()));
    }
    let artifacts = bb
        .iter()
        .map(|c| {
            (
                c.payload.artifact_type().to_string(),
                c.revision,
                c.created_by.clone(),
            )
        })
        .collect();
    let (metrics, insights) = bb
        .get::<Postmortem>()
        .map(|p| {
            (
                p.metrics
                    .iter()
                    .map(|m| MetricRow {
                        name: name(&m.name),
                        value: m.value.map(|v| format!("{v:.3}")).unwrap_or("—".into()),
                        target: m.target.clone(),
                        met: match m.met {
                            Some(true) => "met",
                            Some(false) => "missed",
                            None => "n/a",
                        }
                        .into(),
                        detail: m.detail.clone(),
                    })
                    .collect(),
                p.insights.clone(),
            )
        })
        .unwrap_or_default();
    let over = e.state == LifecycleState::Postmortem
        || matches!(
            e.run_status,
            eods_domain::lifecycle::RunStatus::Completed
                | eods_domain::lifecycle::RunStatus::Cancelled
        );
    OverviewView {
        next,
        blocked,
        block_reason: o.escalation.as_ref().map(|x| x.rationale.clone()),
        ways_out: o
            .escalation
            .iter()
            .flat_map(|x| &x.alternatives)
            .map(|a| WayOut {
                option: a.option.clone(),
                pros: a.pros.join("; "),
                cons: a.cons.join("; "),
            })
            .collect(),
        missing,
        invalid,
        stale,
        gates,
        approvals,
        brief,
        // The draft exists only before revision 1; the store clears it in that commit.
        draft: o
            .event
            .draft
            .as_ref()
            .filter(|_| {
                bb.current(eods_domain::artifact::ArtifactType::EventBrief)
                    .is_none()
            })
            .map(|d| serde_json::to_string_pretty(d).unwrap_or_else(|_| d.to_string())),
        understood,
        not_understood,
        artifacts,
        downloads: downloads(bb),
        incidents: incidents(bb),
        incident_kinds: &IncidentKind::ALL,
        can_report: h.can_plan && !over,
        brief_editable: e.state < LifecycleState::Execute,
        metrics,
        insights,
        simulated: bb
            .get::<eods_domain::catalog::execution::Runbook>()
            .and_then(|r| r.simulation_seed),
        tasks: tasks_view(o, now, h.can_plan && !over),
        waits_for: waits_for(o),
        feedback: (o.event.options.mode == eods_domain::run::RunMode::Live
            && e.state >= LifecycleState::Execute)
            .then(|| {
                bb.get::<eods_domain::catalog::execution::Runbook>()
                    .map(|r| {
                        r.feedback
                            .iter()
                            .map(|a| {
                                (
                                    a.respondent.clone(),
                                    a.score,
                                    a.comment.clone().unwrap_or_default(),
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default()
            }),
        csrf: s.csrf.clone(),
        step_count: o.step_count,
        leads: super::leads::leads(bb),
    }
}

pub(super) fn incidents(bb: &Blackboard) -> Vec<IncidentView> {
    bb.get::<IncidentLog>()
        .map(|l| {
            l.incidents
                .iter()
                .map(|i| IncidentView {
                    kind: name(&i.kind),
                    description: i.description.clone(),
                    detected: i.detected_at.format("%Y-%m-%d %H:%M").to_string(),
                    status: name(&i.status),
                    scenario: i
                        .scenario_id
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_else(|| "none".into()),
                    response: i.response.clone(),
                    resolved: match i.resolved_at {
                        Some(r) => format!(
                            "{} ({} min after detection)",
                            r.format("%Y-%m-%d %H:%M"),
                            (r - i.detected_at).num_minutes()
                        ),
                        None => "not yet".into(),
                    },
                    by_contingency: i.resolved_by_contingency,
                    number: i
                        .id
                        .as_str()
                        .rsplit('-')
                        .next()
                        .and_then(|n| n.parse().ok())
                        .unwrap_or(0),
                    open: i.status != eods_domain::catalog::execution::IncidentStatus::Resolved,
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Up to this many changed fields are listed a revision.
const DIFF_LIMIT: usize = 60;

/// The fields that differ between two JSON values: (pointer, before, after).
pub(super) fn diff(a: &Value, b: &Value, at: &str, out: &mut Vec<(String, String, String)>) {
    let show = |v: Option<&Value>| match v {
        None => "—".to_owned(),
        Some(Value::String(s)) => s.clone(),
        Some(v) => {
            let s = v.to_string();
            if s.chars().count() > 120 {
                format!("{}…", s.chars().take(120).collect::<String>())
            } else {
                s
            }
        }
    };
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                let p = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                match (x.get(k), y.get(k)) {
                    (Some(va), Some(vb)) => diff(va, vb, &p, out),
                    (va, vb) => out.push((p, show(va), show(vb))),
                }
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            for i in 0..x.len().max(y.len()) {
                let p = format!("{at}/{i}");
                match (x.get(i), y.get(i)) {
                    (Some(va), Some(vb)) => diff(va, vb, &p, out),
                    (va, vb) => out.push((p, show(va), show(vb))),
                }
            }
        }
        _ if a != b => out.push((at.to_owned(), show(Some(a)), show(Some(b)))),
        _ => {}
    }
}

async fn revisions(
    state: &AppState,
    id: EventId,
    selected: Option<&str>,
    s: &Session,
) -> Result<Body, ApiError> {
    let current = state.store.current_artifacts(id).await?;
    let types = current
        .iter()
        .map(|e| (e.artifact_type.to_string(), e.revision))
        .collect();
    let Some(t) = selected else {
        return Ok(Body::Revisions(RevisionsView {
            types,
            selected: None,
            revisions: vec![],
        }));
    };
    let t = ArtifactType::parse(t).map_err(|e| ApiError::field("#/parameters/type", e))?;
    let mut all = state.store.revisions(id, t).await?;
    if !s.principal.contracts {
        for e in &mut all {
            crate::redact::redact(t, &mut e.payload);
        }
    }
    let mut out = Vec::new();
    let empty = Value::Object(Default::default());
    for (i, e) in all.iter().enumerate().rev() {
        let before = if i == 0 { &empty } else { &all[i - 1].payload };
        let mut changes = Vec::new();
        diff(before, &e.payload, "", &mut changes);
        let more = changes.len().saturating_sub(DIFF_LIMIT);
        changes.truncate(DIFF_LIMIT);
        out.push(RevisionView {
            revision: e.revision,
            at: e.created_at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
            by: e.created_by.clone(),
            changes,
            more,
        });
    }
    Ok(Body::Revisions(RevisionsView {
        types,
        selected: Some(t.to_string()),
        revisions: out,
    }))
}

/// What a live run that waits on its timer waits for: Execute at the event's start (in
/// Confirm), the postmortem after its end (in Execute), in the event's zone.
fn waits_for(o: &Overview) -> Option<String> {
    let e = &o.event;
    // A run waiting for a decision also has a timer (its tasks'); it does not wait for the day.
    if e.run_status != eods_domain::lifecycle::RunStatus::Running {
        return None;
    }
    e.wake_at?;
    let b = o
        .blackboard
        .get::<eods_domain::catalog::brief::EventBrief>()?;
    let (start, end) = b.live_window();
    let at = |t: chrono::DateTime<chrono::Utc>| {
        t.with_timezone(&b.tz())
            .format("%-d %b %Y %H:%M %Z")
            .to_string()
    };
    match e.state {
        LifecycleState::Confirm => Some(format!(
            "a live event: Execute begins when the event starts, {}",
            at(start)
        )),
        LifecycleState::Execute => Some(format!(
            "the event is under way: the postmortem follows its end, {}",
            at(end)
        )),
        _ => None,
    }
}

/// One task on the live event's board.
struct TaskRow {
    id: String,
    title: String,
    owner: String,
    due: String,
    status: &'static str,
    status_value: &'static str,
    overdue: bool,
    note: String,
    /// The recorded actual cost with its currency, or empty.
    cost: String,
}

/// The task board of a live event.
struct TasksView {
    rows: Vec<TaskRow>,
    /// The event's currency, for the cost inputs.
    currency: String,
    /// What is late, blocked and at risk, in words.
    risk: String,
    critical_path: String,
    can_record: bool,
}

/// The task board of a live event with a task register (`None` for a rehearsal): the recorded
/// statuses over the plan's tasks, overdue first then by due date, and the projection of
/// `eods_domain::progress::at_risk` as of today in the event's zone.
fn tasks_view(
    o: &Overview,
    now: chrono::DateTime<chrono::Utc>,
    can_record: bool,
) -> Option<TasksView> {
    use eods_domain::catalog::execution::Runbook;
    use eods_domain::catalog::planning::{TaskRegister, TaskStatus, Timeline};
    let bb = &o.blackboard;
    if o.event.options.mode != eods_domain::run::RunMode::Live {
        return None;
    }
    let (tasks, timeline, brief) = (
        bb.get::<TaskRegister>()?,
        bb.get::<Timeline>()?,
        bb.get::<eods_domain::catalog::brief::EventBrief>()?,
    );
    let recorded = bb
        .get::<Runbook>()
        .map(|r| r.entries.as_slice())
        .unwrap_or_default();
    let entries = eods_domain::progress::entries(tasks, recorded);
    let today = now.with_timezone(&brief.tz()).date_naive();
    let risk = eods_domain::progress::at_risk(tasks, timeline, &entries, today, brief.first_day());
    let value = |s: TaskStatus| crate::dto::TaskStatusDto::from(s).as_str();
    let people = bb.get::<eods_domain::catalog::planning::StakeholderMap>();
    let currency = brief.budget.currency.to_string();
    let mut rows: Vec<TaskRow> = entries
        .iter()
        .map(|e| TaskRow {
            id: e.task_id.to_string(),
            title: e.title.clone(),
            owner: people
                .and_then(|m| m.stakeholders.iter().find(|s| s.id == e.owner))
                .map_or_else(|| e.owner.to_string(), |s| s.name.clone()),
            cost: e
                .actual_cost
                .map(|c| format!("{c} {currency}"))
                .unwrap_or_default(),
            due: e.planned_end.to_string(),
            status: eods_engine::status_words(e.status),
            status_value: value(e.status),
            overdue: e.status != TaskStatus::Done && e.planned_end < today,
            note: match (e.completed_on, &e.note) {
                (Some(d), _) => format!("done on {d}"),
                (None, Some(n)) => n.clone(),
                (None, None) => String::new(),
            },
        })
        .collect();
    rows.sort_by(|a, b| b.overdue.cmp(&a.overdue).then_with(|| a.due.cmp(&b.due)));
    Some(TasksView {
        rows,
        currency,
        risk: risk.summary(),
        critical_path: risk
            .critical_path
            .iter()
            .map(|t| t.as_str())
            .collect::<Vec<_>>()
            .join(" → "),
        can_record,
    })
}

#[derive(Deserialize)]
pub(super) struct CsrfForm {
    csrf: String,
}

/// Archives (`/archive`) or restores (`/restore`) the event from its page (see
/// `Engine::archive`), then shows the page again.
pub(super) async fn archive(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: Client,
    Path((id, what)): Path<(String, String)>,
    Form(f): Form<CsrfForm>,
) -> Response {
    let s = match form_session(&state, &headers, client, &f.csrf, Some(Permission::Plan)).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let id = match parse_id(&id) {
        Ok(id) => id,
        Err(e) => return page_error(e),
    };
    let archive = match what.as_str() {
        "archive" => true,
        "restore" => false,
        other => {
            return page_error(ApiError::not_found(format!(
                "no page action `{other}`: archive or restore"
            )));
        }
    };
    match state
        .engine
        .archive(id, archive, &s.principal.actor())
        .await
    {
        Ok(_) => Redirect::to(&format!("/ui/events/{id}")).into_response(),
        Err(e) => page_error(e.into()),
    }
}

#[derive(Deserialize)]
pub(super) struct TaskForm {
    csrf: String,
    status: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    completed_on: String,
    #[serde(default)]
    actual_cost: String,
}

/// A task status recorded from the event page's task board (see `Engine::record_task`).
pub(super) async fn record_task(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: Client,
    Path((id, task)): Path<(String, String)>,
    Form(f): Form<TaskForm>,
) -> Response {
    use eods_domain::catalog::planning::TaskStatus;
    let s = match form_session(&state, &headers, client, &f.csrf, Some(Permission::Plan)).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let id = match parse_id(&id) {
        Ok(id) => id,
        Err(e) => return page_error(e),
    };
    let status = match crate::dto::TaskStatusDto::ALL
        .into_iter()
        .find(|s| s.as_str() == f.status)
    {
        Some(s) => TaskStatus::from(s),
        None => {
            return page_error(ApiError::field(
                "/status",
                "choose done, in progress, not started or blocked",
            ));
        }
    };
    let completed_on = match f.completed_on.trim() {
        "" => None,
        d => match d.parse::<chrono::NaiveDate>() {
            Ok(d) => Some(d),
            Err(_) => {
                return page_error(ApiError::field(
                    "/completed_on",
                    format!("`{d}` is not a date: write it as YYYY-MM-DD"),
                ));
            }
        },
    };
    let update = eods_domain::progress::TaskUpdate {
        status,
        completed_on,
        note: Some(f.reason.trim().to_owned()).filter(|r| !r.is_empty()),
        actual_cost: match eods_domain::progress::parse_cost(&f.actual_cost) {
            Ok(c) => c,
            Err(e) => return page_error(ApiError::field(e.pointer(), e.to_string())),
        },
    };
    match state
        .engine
        .record_task(id, &task, update, &s.principal.actor())
        .await
    {
        Ok(r) => Redirect::to(&format!("/ui/events/{id}?task={}#tasks-h", r.entry.task_id))
            .into_response(),
        Err(e) => page_error(e.into()),
    }
}

#[derive(Deserialize)]
pub(super) struct FeedbackForm {
    csrf: String,
    #[serde(default)]
    respondent: String,
    #[serde(default)]
    score: String,
    #[serde(default)]
    comment: String,
}

/// One survey answer entered on the event page (see `Engine::record_feedback`).
pub(super) async fn record_feedback(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: Client,
    Path(id): Path<String>,
    Form(f): Form<FeedbackForm>,
) -> Response {
    let s = match form_session(&state, &headers, client, &f.csrf, Some(Permission::Plan)).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let id = match parse_id(&id) {
        Ok(id) => id,
        Err(e) => return page_error(e),
    };
    let Ok(score) = f.score.trim().parse::<i64>() else {
        return page_error(ApiError::field(
            "/responses/0/score",
            "choose a score from 1 (very dissatisfied) to 5 (very satisfied)",
        ));
    };
    let answer = eods_engine::FeedbackAnswer {
        respondent: f.respondent,
        score,
        comment: Some(f.comment),
    };
    match state
        .engine
        .record_feedback(id, &[answer], &s.principal.actor())
        .await
    {
        Ok(_) => {
            state.wake.notify_waiters();
            Redirect::to(&format!("/ui/events/{id}?feedback=1#feedback-h")).into_response()
        }
        Err(e) => page_error(e.into()),
    }
}

#[derive(Deserialize)]
pub(super) struct IncidentForm {
    csrf: String,
    kind: String,
    #[serde(default)]
    at: String,
    #[serde(default)]
    comment: String,
}

#[derive(Deserialize)]
pub(super) struct ResolveForm {
    csrf: String,
    #[serde(default)]
    note: String,
}

/// Records how an incident of a live event was resolved.
pub(super) async fn resolve_incident(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: Client,
    Path((id, number)): Path<(String, String)>,
    Form(f): Form<ResolveForm>,
) -> Response {
    let Ok(number) = number.parse::<u32>() else {
        return page_error(ApiError::not_found(format!(
            "no incident `{number}`: incidents are numbered 1, 2, … in the order reported"
        )));
    };
    let s = match form_session(&state, &headers, client, &f.csrf, Some(Permission::Plan)).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let id = match parse_id(&id) {
        Ok(id) => id,
        Err(e) => return page_error(e),
    };
    if f.note.trim().is_empty() {
        return page_error(ApiError::field(
            "/note",
            "say how the incident was resolved",
        ));
    }
    match state
        .engine
        .resolve_incident(id, number, &f.note, &s.principal.actor())
        .await
    {
        Ok(_) => {
            state.wake.notify_waiters();
            Redirect::to(&format!("/ui/events/{id}?resolved={number}#incidents")).into_response()
        }
        Err(e) => page_error(e.into()),
    }
}

pub(super) async fn report_incident(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: Client,
    Path(id): Path<String>,
    Form(f): Form<IncidentForm>,
) -> Response {
    let s = match form_session(&state, &headers, client, &f.csrf, Some(Permission::Plan)).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let id = match parse_id(&id) {
        Ok(id) => id,
        Err(e) => return page_error(e),
    };
    let text = if f.at.trim().is_empty() {
        f.kind.clone()
    } else {
        format!("{}@{}", f.kind, f.at.trim())
    };
    let incident = match Injection::parse(&text) {
        Ok(i) => i,
        Err(msg) => {
            let field = if msg.starts_with("unknown incident") {
                "/kind"
            } else {
                "/at"
            };
            return page_error(ApiError::field(field, msg));
        }
    };
    match state
        .engine
        .report_incident(id, incident, &s.principal.actor(), f.comment.trim())
        .await
    {
        Ok(_) => {
            state.wake.notify_waiters();
            Redirect::to(&format!(
                "/ui/events/{id}?reported={}",
                incident.kind.as_str()
            ))
            .into_response()
        }
        Err(e) => page_error(e.into()),
    }
}

/// The progress stream for the page's script (the session cookie instead of a bearer token).
pub(super) async fn event_stream(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: Client,
    Path(id): Path<String>,
) -> Response {
    if let Err(r) = session(&state, &headers, client).await {
        return r;
    }
    let id = match parse_id(&id) {
        Ok(id) => id,
        Err(e) => return page_error(e),
    };
    crate::stream::progress(state, id).into_response()
}

/// The hours the organiser fixed, per day, in words (defaults are the planner's).
fn hours_text(b: &eods_domain::catalog::brief::EventBrief) -> String {
    use eods_domain::hours::{brief_rules, day_bounds};
    let t = |x: chrono::NaiveTime| x.format("%H:%M").to_string();
    match day_bounds(b, &brief_rules(b)) {
        Err(e) => e,
        Ok(days) => {
            let open = |d: &eods_domain::hours::DayBounds| {
                d.start.is_none() && d.end.is_none() && d.doors.is_none() && d.breaks.is_empty()
            };
            if days.iter().all(open) {
                return "not given: the planner's default hours (see the schedule)".into();
            }
            let parts: Vec<String> = days
                .iter()
                .map(|d| {
                    let mut s = format!(
                        "{}: {}–{}",
                        d.date,
                        d.start.map_or("default start".into(), t),
                        d.end.map_or("default end".into(), t)
                    );
                    if let Some(doors) = d.doors {
                        s.push_str(&format!(", doors {}", t(doors)));
                    }
                    for br in &d.breaks {
                        s.push_str(&format!(
                            ", {} {}–{}",
                            br.label.to_lowercase(),
                            t(br.start),
                            t(br.end)
                        ));
                    }
                    s
                })
                .collect();
            parts.join("; ")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn diff_lists_changed_added_and_removed_fields() {
        let a = json!({"total": 500, "lines": [{"cost": 1}, {"cost": 2}], "note": "x", "a/b": 1});
        let b = json!({"total": 450, "lines": [{"cost": 1}], "cap": 450, "note": "x", "a/b": 2});
        let mut out = Vec::new();
        diff(&a, &b, "", &mut out);
        assert_eq!(
            out,
            vec![
                ("/a~1b".into(), "1".into(), "2".into()),
                ("/cap".into(), "—".into(), "450".into()),
                ("/lines/1".into(), "{\"cost\":2}".into(), "—".into()),
                ("/total".into(), "500".into(), "450".into()),
            ]
        );
    }

    #[test]
    fn the_stepper_marks_done_current_and_upcoming() {
        let s = stepper(LifecycleState::Budget, false);
        let got: Vec<(&str, &str)> = s.iter().map(|x| (x.name, x.status)).collect();
        assert_eq!(got[0], ("initiate", "done"));
        assert_eq!(got[3], ("budget", "current"));
        assert_eq!(got[7], ("postmortem", "todo"));
        assert!(
            stepper(LifecycleState::Postmortem, true)
                .iter()
                .all(|x| x.status == "done")
        );
    }
}
