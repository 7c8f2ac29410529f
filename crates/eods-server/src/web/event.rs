//! The event page: a lifecycle stepper with the gate status of the current state and what
//! blocks it, then one tab per artifact family (timeline, tasks, venue, budget, schedule, risks,
//! logistics, contingency and incidents, communications, revisions with diffs). Tabs are links,
//! so everything works without JavaScript; `live.js` adds progress from the event stream.
//! Vendor contract terms and negotiation notes are shown only with the contracts permission.

use super::{Session, UserView, page_error, refuse_forged, render, session, user_view};
use crate::AppState;
use crate::charts;
use crate::error::ApiError;
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use eods_domain::access::Permission;
use eods_domain::artifact::ArtifactType;
use eods_domain::blackboard::Blackboard;
use eods_domain::catalog::budget::{BudgetBaseline, BudgetDecision, CostModel};
use eods_domain::catalog::execution::{IncidentLog, Postmortem, Runbook};
use eods_domain::catalog::logistics::{
    ContingencyPlan, IncidentKind, Injection, LogisticsPlan, ResourceRoster, Schedule,
    VendorContracts,
};
use eods_domain::catalog::planning::{
    CommunicationsPlan, RiskRegister, StakeholderMap, TaskRegister, Timeline,
};
use eods_domain::catalog::venue::{
    VenueAvailability, VenueNegotiationNotes, VenueScorecard, VenueShortlist,
};
use eods_domain::ids::EventId;
use eods_domain::lifecycle::{LifecycleState, gates_for};
use eods_engine::Overview;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};

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

/// `12,345.50`: two decimals, thousands separated.
pub(super) fn amount(d: Decimal) -> String {
    let s = format!("{:.2}", d.round_dp(2));
    let (sign, s) = s.strip_prefix('-').map_or(("", s.as_str()), |r| ("-", r));
    let (int, frac) = s.split_once('.').unwrap_or((s, "00"));
    let mut out = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    format!("{sign}{out}.{frac}")
}

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
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
    steps: Vec<Step>,
    tab: &'static str,
    can_plan: bool,
    contracts: bool,
    notice: Option<String>,
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
    pending_summary: Option<String>,
}

struct IncidentView {
    kind: String,
    description: String,
    detected: String,
    status: String,
    scenario: String,
    response: Vec<String>,
    resolved: String,
    by_contingency: bool,
}

struct MetricRow {
    name: String,
    value: String,
    target: String,
    met: String,
    detail: String,
}

struct Overview_ {
    next: String,
    blocked: bool,
    missing: Vec<String>,
    invalid: Vec<String>,
    stale: Vec<String>,
    gates: Vec<GateRow>,
    approvals: Vec<ApprovalRowView>,
    brief: Vec<(String, String)>,
    artifacts: Vec<(String, u32, String)>,
    incidents: Vec<IncidentView>,
    incident_kinds: &'static [&'static str],
    can_report: bool,
    metrics: Vec<MetricRow>,
    insights: Vec<String>,
    csrf: String,
    step_count: u64,
}

struct TaskView {
    id: String,
    title: String,
    owner: String,
    status: String,
    start: String,
    end: String,
    days: u32,
    slack: u32,
    depends: String,
    critical: bool,
}

struct TimelineView {
    gantt: String,
    critical: Vec<String>,
    project_end: String,
    phases: Vec<(String, String, String)>,
    milestones: Vec<(String, String, String)>,
    levelling: Vec<String>,
}

struct VenueView {
    criteria: Vec<(String, String)>,
    columns: Vec<String>,
    rows: Vec<VenueRow>,
    rationale: String,
    selected: String,
    chart: String,
    availability: Vec<(String, String, String, String)>,
    negotiation: Vec<(String, String, String, String, String)>,
}

struct VenueRow {
    rank: usize,
    name: String,
    capacity: String,
    cost: String,
    scores: Vec<String>,
    total: String,
    selected: bool,
    excluded: bool,
}

struct BudgetView {
    currency: String,
    chart: String,
    total: String,
    reserve: String,
    assumptions: Vec<String>,
    lines: Vec<[String; 7]>,
    cost_total: String,
    variance_rule: String,
    optimisation: Option<String>,
    decision: Vec<(String, String)>,
    options: Vec<(String, String, String, String, bool)>,
    spend: Option<String>,
    spend_chart: String,
}

struct ScheduleDay {
    day: String,
    rooms: Vec<String>,
    rows: Vec<(String, Vec<Vec<String>>)>,
}

struct ScheduleView {
    timezone: String,
    days: Vec<ScheduleDay>,
    sessions: usize,
    optimisation: Option<String>,
}

struct RiskView {
    heatmap: String,
    rows: Vec<[String; 8]>,
    method: String,
}

struct LogisticsView {
    workflows: Vec<(String, String, String, String)>,
    layouts: Vec<(String, String, String)>,
    policies: Vec<String>,
    roster: Vec<(String, String, String, usize, String)>,
    vendors: Vec<VendorView>,
    excluded: Vec<String>,
}

struct VendorView {
    name: String,
    service: String,
    backup: String,
    terms: Option<(String, String, String, String)>,
}

struct ContingencyView {
    scenarios: Vec<[String; 6]>,
    incidents: Vec<IncidentView>,
}

struct CommsView {
    entries: Vec<[String; 5]>,
    escalation: Vec<String>,
    stakeholders: Vec<(String, String, String, String)>,
}

struct RevisionsView {
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

enum Body {
    Overview(Overview_),
    Timeline(TimelineView),
    Tasks(Vec<TaskView>),
    Venue(VenueView),
    Budget(BudgetView),
    Schedule(ScheduleView),
    Risks(RiskView),
    Logistics(LogisticsView),
    Contingency(ContingencyView),
    Communications(CommsView),
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
}

fn parse_id(s: &str) -> Result<EventId, ApiError> {
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

/// Stakeholder id → name, for owners.
fn people(bb: &Blackboard) -> HashMap<String, String> {
    bb.get::<StakeholderMap>()
        .map(|m| {
            m.stakeholders
                .iter()
                .map(|s| (s.id.to_string(), s.name.clone()))
                .collect()
        })
        .unwrap_or_default()
}

fn who(people: &HashMap<String, String>, id: &impl std::fmt::Display) -> String {
    let id = id.to_string();
    people.get(&id).cloned().unwrap_or(id)
}

pub(super) async fn event_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<EventQuery>,
) -> Response {
    let s = match session(&state, &headers).await {
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
    } else {
        q.reported.map(|k| {
            format!("The {k} incident was recorded; Execute plays it through the contingency plan.")
        })
    };
    let h = Header {
        id: e.id.to_string(),
        title: e.title.clone(),
        state: e.state.to_string(),
        run_status: e.run_status.to_string(),
        detail: e.status_detail.clone(),
        level: o.level.to_string(),
        steps: stepper(
            e.state,
            e.run_status == eods_domain::lifecycle::RunStatus::Completed,
        ),
        tab,
        can_plan: s.principal.role.grants(Permission::Plan),
        contracts: s.principal.contracts,
        notice,
    };
    let body = match tab {
        "overview" => Body::Overview(overview(&o, &s, &h)),
        "timeline" => timeline(&o.blackboard),
        "tasks" => tasks(&o.blackboard),
        "venue" => venue(&o.blackboard, s.principal.contracts),
        "budget" => budget(&o.blackboard),
        "schedule" => schedule(&o.blackboard),
        "risks" => risks(&o.blackboard),
        "logistics" => logistics(&o.blackboard, s.principal.contracts),
        "contingency" => contingency(&o.blackboard),
        "communications" => communications(&o.blackboard),
        _ => match revisions(&state, id, q.artifact_type.as_deref(), &s).await {
            Ok(b) => b,
            Err(e) => return page_error(e),
        },
    };
    let user = Some(user_view(&state, &s).await);
    render(EventPage {
        user,
        h,
        tabs: TABS,
        body,
    })
}

fn overview(o: &Overview, s: &Session, h: &Header) -> Overview_ {
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
    let now = chrono::Utc::now();
    let approvals = o
        .approvals
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
            pending_summary: o
                .pending
                .iter()
                .find(|p| p.id == a.id)
                .map(|p| p.summary.clone()),
        })
        .collect();
    let mut brief = Vec::new();
    if let Some(b) = bb.get::<eods_domain::catalog::brief::EventBrief>() {
        brief.push((
            "Dates".into(),
            format!(
                "{} to {} ({})",
                b.date_range.start, b.date_range.end, b.timezone
            ),
        ));
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
    Overview_ {
        next,
        blocked,
        missing,
        invalid,
        stale,
        gates,
        approvals,
        brief,
        artifacts,
        incidents: incidents(bb),
        incident_kinds: &IncidentKind::ALL,
        can_report: h.can_plan && !over,
        metrics,
        insights,
        csrf: s.csrf.clone(),
        step_count: o.step_count,
    }
}

fn incidents(bb: &Blackboard) -> Vec<IncidentView> {
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
                })
                .collect()
        })
        .unwrap_or_default()
}

fn missing(what: &str) -> Body {
    Body::Empty(format!(
        "No {what} yet: the agents write it when planning reaches that step."
    ))
}

fn timeline(bb: &Blackboard) -> Body {
    let (Some(t), Some(tasks)) = (bb.get::<Timeline>(), bb.get::<TaskRegister>()) else {
        return missing("timeline");
    };
    let titles: HashMap<String, String> = tasks
        .tasks
        .iter()
        .map(|t| (t.id.to_string(), t.title.clone()))
        .collect();
    Body::Timeline(TimelineView {
        gantt: charts::gantt("gantt", tasks, t),
        critical: t
            .critical_path
            .iter()
            .map(|id| {
                let id = id.to_string();
                format!("{id} {}", titles.get(&id).cloned().unwrap_or_default())
            })
            .collect(),
        project_end: t.project_end.to_string(),
        phases: t
            .phases
            .iter()
            .map(|p| (p.name.clone(), p.start.to_string(), p.end.to_string()))
            .collect(),
        milestones: t
            .milestones
            .iter()
            .map(|m| {
                (
                    m.name.clone(),
                    m.date.to_string(),
                    m.depends_on
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", "),
                )
            })
            .collect(),
        levelling: t
            .resource_levelling
            .as_ref()
            .map(|r| {
                let mut v = vec![format!("{} (capacity {})", r.method, r.capacity)];
                v.extend(r.resources.iter().map(|l| {
                    format!(
                        "{}: peak load {:.1} → {:.1}, overloaded days {} → {}",
                        l.stakeholder_id,
                        l.peak_before,
                        l.peak_after,
                        l.overloaded_days_before,
                        l.overloaded_days_after
                    )
                }));
                v
            })
            .unwrap_or_default(),
    })
}

fn tasks(bb: &Blackboard) -> Body {
    let Some(tasks) = bb.get::<TaskRegister>() else {
        return missing("task register");
    };
    let critical: BTreeSet<String> = bb
        .get::<Timeline>()
        .map(|t| t.critical_path.iter().map(ToString::to_string).collect())
        .unwrap_or_default();
    let people = people(bb);
    Body::Tasks(
        tasks
            .tasks
            .iter()
            .map(|t| TaskView {
                id: t.id.to_string(),
                title: t.title.clone(),
                owner: who(&people, &t.owner),
                status: name(&t.status),
                start: t.start.to_string(),
                end: t.end.to_string(),
                days: t.duration.0,
                slack: t.slack.0,
                depends: t
                    .depends_on
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
                critical: critical.contains(&t.id.to_string()),
            })
            .collect(),
    )
}

fn venue(bb: &Blackboard, contracts: bool) -> Body {
    let (Some(card), Some(list)) = (bb.get::<VenueScorecard>(), bb.get::<VenueShortlist>()) else {
        return missing("venue scorecard");
    };
    let columns: Vec<String> = card.criteria_weights.keys().map(name).collect();
    let by_id: HashMap<String, &eods_domain::catalog::venue::ShortlistCandidate> = list
        .candidates
        .iter()
        .map(|c| (c.id.to_string(), c))
        .collect();
    let label = |id: &eods_domain::ids::CandidateId| {
        by_id
            .get(&id.to_string())
            .map(|c| c.name.clone())
            .unwrap_or_else(|| id.to_string())
    };
    let mut rows: Vec<VenueRow> = card
        .candidate_scores
        .iter()
        .map(|cs| {
            let c = by_id.get(&cs.candidate_id.to_string());
            VenueRow {
                rank: card
                    .ranking
                    .iter()
                    .position(|r| *r == cs.candidate_id)
                    .map_or(usize::MAX, |p| p + 1),
                name: label(&cs.candidate_id),
                capacity: c.map(|c| c.capacity.to_string()).unwrap_or_default(),
                cost: c
                    .map(|c| {
                        format!(
                            "{} {}",
                            amount(c.cost_estimate.amount),
                            c.cost_estimate.currency
                        )
                    })
                    .unwrap_or_default(),
                scores: card
                    .criteria_weights
                    .keys()
                    .map(|k| {
                        cs.scores
                            .get(k)
                            .map(|v| format!("{v:.2}"))
                            .unwrap_or("—".into())
                    })
                    .collect(),
                total: format!("{:.3}", cs.total),
                selected: cs.candidate_id == card.selected_candidate_id,
                excluded: card.excluded.contains(&cs.candidate_id),
            }
        })
        .collect();
    rows.sort_by_key(|r| r.rank);
    let bars: Vec<(String, f64, String)> = rows
        .iter()
        .map(|r| {
            let total: f64 = r.total.parse().unwrap_or(0.0);
            (r.name.clone(), total, r.total.clone())
        })
        .collect();
    let availability = bb
        .get::<VenueAvailability>()
        .map(|a| {
            a.entries
                .iter()
                .map(|e| {
                    (
                        label(&e.candidate_id),
                        if e.available {
                            "available"
                        } else {
                            "not available"
                        }
                        .into(),
                        format!(
                            "{}{}",
                            name(&e.hold.status),
                            e.hold
                                .expires_at
                                .map(|x| format!(", expires {}", x.format("%Y-%m-%d")))
                                .unwrap_or_default()
                        ),
                        e.constraints.join("; "),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let negotiation = if contracts {
        bb.get::<VenueNegotiationNotes>()
            .map(|n| {
                n.entries
                    .iter()
                    .map(|e| {
                        (
                            label(&e.candidate_id),
                            e.terms.clone(),
                            format!(
                                "{} {}",
                                amount(e.target_price.amount),
                                e.target_price.currency
                            ),
                            e.concessions.join("; "),
                            name(&e.status),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    } else {
        vec![]
    };
    Body::Venue(VenueView {
        criteria: card
            .criteria_weights
            .iter()
            .map(|(k, w)| (name(k), format!("{w:.2}")))
            .collect(),
        columns,
        chart: charts::bars("venue-scores", "Weighted score by candidate", &bars),
        rows,
        rationale: card.selection_rationale.clone(),
        selected: label(&card.selected_candidate_id),
        availability,
        negotiation,
    })
}

fn budget(bb: &Blackboard) -> Body {
    let Some(base) = bb.get::<BudgetBaseline>() else {
        return missing("budget");
    };
    let currency = base.currency.to_string();
    let model = bb.get::<CostModel>();
    let decision = bb.get::<BudgetDecision>();
    let mut lines = Vec::new();
    if let Some(m) = model {
        for l in &m.line_items {
            lines.push([
                name(&l.category),
                l.description.clone(),
                l.qty.normalize().to_string(),
                amount(l.unit_cost),
                amount(l.total),
                l.vendor_option.clone(),
                amount(l.first_quote),
            ]);
        }
    }
    let mut facts = Vec::new();
    let mut options = Vec::new();
    if let Some(d) = decision {
        facts.push((
            "Approved total".to_owned(),
            format!("{} {}", amount(d.approved_total), d.currency),
        ));
        facts.push(("Status".into(), name(&d.status)));
        if let Some(cap) = d.cap {
            facts.push((
                "Cap set by an approver".into(),
                format!("{} {}", amount(cap), d.currency),
            ));
        }
        if let Some(r) = &d.risk_analysis {
            facts.push((
                "Cost risk (Monte Carlo)".into(),
                format!(
                    "{} runs: p50 {}, p80 {}, p95 {}; reserve {} p80",
                    r.runs,
                    amount(r.p50),
                    amount(r.p80),
                    amount(r.p95),
                    if r.reserve_covers_p80 {
                        "covers"
                    } else {
                        "does not cover"
                    }
                ),
            ));
        }
        for a in &d.approvals {
            facts.push((
                format!("Approval ({})", a.gate),
                format!(
                    "{} by {} at {}",
                    a.decision.as_str(),
                    a.by,
                    a.at.format("%Y-%m-%d %H:%M")
                ),
            ));
        }
        if !d.hedges.is_empty() {
            facts.push(("Hedges".into(), d.hedges.join("; ")));
        }
        options = d
            .options
            .iter()
            .map(|o| {
                (
                    o.id.to_string(),
                    o.description.clone(),
                    amount(o.total),
                    amount(o.savings),
                    o.id == d.selected_option_id,
                )
            })
            .collect();
    }
    let (spend, spend_chart) = bb
        .get::<Runbook>()
        .and_then(|r| r.spend.as_ref())
        .map(|s| {
            let variance = if s.planned.is_zero() {
                0.0
            } else {
                eods_domain::lifecycle::ratio(s.actual - s.planned, s.planned)
            };
            let rows = vec![
                ("planned".to_owned(), decimal_f64(s.planned), amount(s.planned)),
                ("actual".to_owned(), decimal_f64(s.actual), amount(s.actual)),
                ("from reserve".to_owned(), decimal_f64(s.from_reserve), amount(s.from_reserve)),
            ];
            (
                Some(format!(
                    "Planned {} {cur}, actual {} {cur} (variance {}), {} {cur} drawn from the reserve.",
                    amount(s.planned),
                    amount(s.actual),
                    pct(variance),
                    amount(s.from_reserve),
                    cur = s.currency
                )),
                charts::bars("spend", "Planned and actual spend", &rows),
            )
        })
        .unwrap_or((None, String::new()));
    Body::Budget(BudgetView {
        chart: charts::allocations("allocations", base),
        total: amount(base.total),
        reserve: amount(base.reserve),
        assumptions: base.assumptions.clone(),
        lines,
        cost_total: model.map(|m| amount(m.total)).unwrap_or_default(),
        variance_rule: model
            .map(|m| {
                format!(
                    "at most {:.1}% variance; changes above {} {currency} need approval",
                    m.variance_rules.max_variance_pct,
                    amount(m.variance_rules.approval_threshold)
                )
            })
            .unwrap_or_default(),
        optimisation: model.and_then(|m| m.optimisation.as_ref()).map(|o| {
            format!(
                "{}: {} {currency} against {} at first quotes (lower bound {}, {} combinations){}",
                o.method,
                amount(o.optimised_total),
                amount(o.first_quote_total),
                amount(o.lower_bound),
                o.combinations,
                if o.packages.is_empty() {
                    String::new()
                } else {
                    format!("; packages: {}", o.packages.join(", "))
                }
            )
        }),
        decision: facts,
        options,
        spend,
        spend_chart,
        currency,
    })
}

fn decimal_f64(d: Decimal) -> f64 {
    d.to_string().parse().unwrap_or(0.0)
}

fn schedule(bb: &Blackboard) -> Body {
    let Some(s) = bb.get::<Schedule>() else {
        return missing("schedule");
    };
    let room_names: Vec<(String, String)> = s
        .rooms
        .iter()
        .map(|r| (r.id.to_string(), format!("{} ({})", r.name, r.capacity)))
        .collect();
    // Day → start time → room → sessions.
    let mut grid: BTreeMap<String, BTreeMap<String, HashMap<String, Vec<String>>>> =
        BTreeMap::new();
    for x in &s.sessions {
        let day = x.start.format("%Y-%m-%d (%a)").to_string();
        let slot = format!("{}–{}", x.start.format("%H:%M"), x.end.format("%H:%M"));
        let speakers = if x.speakers.is_empty() {
            String::new()
        } else {
            format!(" — {}", x.speakers.join(", "))
        };
        grid.entry(day)
            .or_default()
            .entry(slot)
            .or_default()
            .entry(x.room.to_string())
            .or_default()
            .push(format!("{} [{}]{speakers}", x.title, x.track));
    }
    let days = grid
        .into_iter()
        .map(|(day, slots)| {
            let used: BTreeSet<&String> = slots.values().flat_map(|m| m.keys()).collect();
            let rooms: Vec<&(String, String)> = room_names
                .iter()
                .filter(|(id, _)| used.contains(id))
                .collect();
            ScheduleDay {
                day,
                rows: slots
                    .iter()
                    .map(|(slot, by_room)| {
                        (
                            slot.clone(),
                            rooms
                                .iter()
                                .map(|(id, _)| by_room.get(id).cloned().unwrap_or_default())
                                .collect(),
                        )
                    })
                    .collect(),
                rooms: rooms.iter().map(|(_, n)| n.clone()).collect(),
            }
        })
        .collect();
    Body::Schedule(ScheduleView {
        timezone: s.timezone.clone(),
        sessions: s.sessions.len(),
        days,
        optimisation: s.optimisation.as_ref().map(|o| {
            format!(
                "{}: {} slots, objective {} (lower bound {}), {}, {} nodes",
                o.method,
                o.slots,
                o.objective,
                o.lower_bound,
                if o.proven_optimal {
                    "proven optimal"
                } else {
                    "not proven optimal"
                },
                o.nodes
            )
        }),
    })
}

fn risks(bb: &Blackboard) -> Body {
    let Some(r) = bb.get::<RiskRegister>() else {
        return missing("risk register");
    };
    let people = people(bb);
    let mut rows: Vec<[String; 8]> = r
        .risks
        .iter()
        .map(|x| {
            [
                x.id.to_string(),
                x.description.clone(),
                name(&x.category),
                x.probability.to_string(),
                x.impact.to_string(),
                x.rating.to_string(),
                who(&people, &x.owner),
                format!("{}: {}", name(&x.status), x.mitigation.join("; ")),
            ]
        })
        .collect();
    rows.sort_by_key(|row| std::cmp::Reverse(row[5].parse::<u32>().unwrap_or(0)));
    Body::Risks(RiskView {
        heatmap: charts::risk_heatmap("heatmap", r),
        rows,
        method: r.rating_method.clone(),
    })
}

fn logistics(bb: &Blackboard, contracts: bool) -> Body {
    let Some(plan) = bb.get::<LogisticsPlan>() else {
        return missing("logistics plan");
    };
    let people = people(bb);
    let roster = bb
        .get::<ResourceRoster>()
        .map(|r| {
            r.resources
                .iter()
                .map(|x| {
                    (
                        x.id.to_string(),
                        x.name.clone(),
                        name(&x.resource_type),
                        x.assignments.len(),
                        x.availability
                            .iter()
                            .map(|w| {
                                format!(
                                    "{}–{}",
                                    w.start.format("%m-%d %H:%M"),
                                    w.end.format("%H:%M")
                                )
                            })
                            .collect::<Vec<_>>()
                            .join(", "),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let (vendors, excluded) = bb
        .get::<VendorContracts>()
        .map(|v| {
            (
                v.vendors
                    .iter()
                    .map(|c| VendorView {
                        name: c.name.clone(),
                        service: c.service.clone(),
                        backup: c
                            .backup
                            .as_ref()
                            .map(|b| b.name.clone())
                            .unwrap_or_else(|| "none".into()),
                        terms: contracts.then(|| {
                            (
                                format!(
                                    "{} {} from {} to {}",
                                    amount(c.terms.total_cost.amount),
                                    c.terms.total_cost.currency,
                                    c.terms.start,
                                    c.terms.end
                                ),
                                c.terms.payment_terms.clone(),
                                c.slas.join("; "),
                                c.cancellation_policy.clone(),
                            )
                        }),
                    })
                    .collect(),
                v.excluded_suppliers.clone(),
            )
        })
        .unwrap_or_default();
    Body::Logistics(LogisticsView {
        workflows: plan
            .workflows
            .iter()
            .map(|w| {
                (
                    w.name.clone(),
                    who(&people, &w.owner),
                    w.steps.join(" → "),
                    w.task_ids
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", "),
                )
            })
            .collect(),
        layouts: plan
            .layouts
            .iter()
            .map(|l| {
                (
                    l.room_id.to_string(),
                    l.setup.clone(),
                    l.capacity.to_string(),
                )
            })
            .collect(),
        policies: plan.policies.clone(),
        roster,
        vendors,
        excluded,
    })
}

fn contingency(bb: &Blackboard) -> Body {
    let Some(plan) = bb.get::<ContingencyPlan>() else {
        return missing("contingency plan");
    };
    let people = people(bb);
    Body::Contingency(ContingencyView {
        scenarios: plan
            .scenarios
            .iter()
            .map(|s| {
                [
                    s.id.to_string(),
                    format!("{} ({})", name(&s.trigger.incident), s.trigger.condition),
                    s.risk_id.to_string(),
                    s.response_steps.join(" → "),
                    who(&people, &s.owner),
                    s.response_minutes.to_string(),
                ]
            })
            .collect(),
        incidents: incidents(bb),
    })
}

fn communications(bb: &Blackboard) -> Body {
    let people = people(bb);
    let stakeholders = bb
        .get::<StakeholderMap>()
        .map(|m| {
            m.stakeholders
                .iter()
                .map(|s| {
                    (
                        s.name.clone(),
                        name(&s.role),
                        s.contact.clone(),
                        s.decision_rights
                            .iter()
                            .map(name)
                            .collect::<Vec<_>>()
                            .join(", "),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let Some(c) = bb.get::<CommunicationsPlan>() else {
        return Body::Communications(CommsView {
            entries: vec![],
            escalation: vec![],
            stakeholders,
        });
    };
    Body::Communications(CommsView {
        entries: c
            .entries
            .iter()
            .map(|e| {
                [
                    e.audience.clone(),
                    name(&e.channel),
                    e.cadence.clone(),
                    e.message.clone(),
                    who(&people, &e.owner),
                ]
            })
            .collect(),
        escalation: c.escalation_path.iter().map(|p| who(&people, p)).collect(),
        stakeholders,
    })
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

#[derive(Deserialize)]
pub(super) struct IncidentForm {
    csrf: String,
    kind: String,
    #[serde(default)]
    at: String,
    #[serde(default)]
    comment: String,
}

pub(super) async fn report_incident(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<IncidentForm>,
) -> Response {
    let s = match session(&state, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if let Some(r) = refuse_forged(&s, &f.csrf) {
        return r;
    }
    if let Err(e) = s.principal.require(Permission::Plan) {
        return page_error(e);
    }
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
    Path(id): Path<String>,
) -> Response {
    if let Err(r) = session(&state, &headers).await {
        return r;
    }
    let id = match parse_id(&id) {
        Ok(id) => id,
        Err(e) => return page_error(e),
    };
    crate::stream::progress(state, id).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn amounts_are_grouped_with_two_decimals() {
        let cases = [
            ("0", "0.00"),
            ("999.5", "999.50"),
            ("1234", "1,234.00"),
            ("-1234567.891", "-1,234,567.89"),
            ("100000", "100,000.00"),
        ];
        for (input, expect) in cases {
            let d: Decimal = input.parse().unwrap_or_default();
            assert_eq!(amount(d), expect, "{input}");
        }
    }

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
