//! Semantic validation beyond the JSON Schema: references resolve, sums add up, graphs are
//! acyclic, dates sit inside the event window. Every check collects all violations, each with a
//! JSON pointer into the payload; nothing stops at the first problem.

use crate::artifact::{ArtifactType, Payload};
use crate::blackboard::Blackboard;
use crate::catalog::brief::{BriefTime, ClockTime, EventBrief, ProgramBreak};
use crate::catalog::planning::{Days, Risk, TaskRegister, Timeline};
use crate::catalog::{budget, logistics, planning, venue};
use crate::graph::{Order, topological_order};
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// One problem in a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// JSON pointer (RFC 6901) to the offending value.
    pub pointer: String,
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = if self.pointer.is_empty() {
            "/"
        } else {
            &self.pointer
        };
        write!(f, "{p}: {}", self.message)
    }
}

/// Collects violations under a pointer prefix.
#[derive(Debug, Default)]
pub struct Violations {
    prefix: String,
    items: Vec<Violation>,
}

impl Violations {
    /// Collects violations with every pointer prefixed by `prefix` (e.g. `/payload`).
    pub fn with_prefix(prefix: &str) -> Self {
        Self {
            prefix: prefix.to_owned(),
            items: Vec::new(),
        }
    }

    /// Records a violation at `pointer` (relative to the prefix).
    pub fn push(&mut self, pointer: impl AsRef<str>, message: impl Into<String>) {
        self.items.push(Violation {
            pointer: format!("{}{}", self.prefix, pointer.as_ref()),
            message: message.into(),
        });
    }

    /// Records a violation when `ok` is false.
    pub fn check(&mut self, ok: bool, pointer: impl AsRef<str>, message: impl Into<String>) {
        if !ok {
            self.push(pointer, message);
        }
    }

    /// The violations collected.
    pub fn into_vec(self) -> Vec<Violation> {
        self.items
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// Tolerance for comparing shares and weights that should sum to 1.
pub const WEIGHT_EPSILON: f64 = 1e-9;

/// Checks one payload on its own. Pointers are relative to the payload.
// Long because: one arm per artifact type, each a few independent checks; the longer types have
// their own functions (`brief`, …).
pub fn validate_payload(payload: &Payload) -> Vec<Violation> {
    let mut v = Violations::default();
    match payload {
        Payload::EventBrief(b) => brief(b, &mut v),
        Payload::Requirements(r) => {
            v.check(
                !r.must_have.is_empty(),
                "/must_have",
                "at least one must-have requirement is needed",
            );
            let all = r
                .functional
                .iter()
                .chain(&r.nonfunctional)
                .chain(&r.must_have)
                .chain(&r.nice_to_have);
            unique(all.map(|x| x.id.as_str()), "", "requirement", &mut v);
        }
        Payload::StakeholderMap(m) => stakeholder_map(m, &mut v),
        Payload::Timeline(t) => timeline(t, &mut v),
        Payload::TaskRegister(t) => task_register(t, &mut v),
        Payload::RiskRegister(r) => {
            unique(
                r.risks.iter().map(|x| x.id.as_str()),
                "/risks",
                "risk",
                &mut v,
            );
            for (i, risk) in r.risks.iter().enumerate() {
                risk_consistent(risk, &format!("/risks/{i}"), &mut v);
            }
        }
        Payload::CommunicationsPlan(c) => {
            unique(
                c.entries.iter().map(|x| x.id.as_str()),
                "/entries",
                "entry",
                &mut v,
            );
        }
        Payload::VenueCriteria(c) => {
            v.check(
                c.min_capacity <= c.max_capacity,
                "/max_capacity",
                "max_capacity must not be below min_capacity",
            );
            v.check(
                c.budget_range.min.amount <= c.budget_range.max.amount,
                "/budget_range/max",
                "budget range max is below min",
            );
            v.check(
                c.budget_range.min.currency == c.budget_range.max.currency,
                "/budget_range/max/currency",
                "budget range mixes currencies",
            );
        }
        Payload::VenueLeads(l) => unique(
            l.leads.iter().map(|x| x.id.as_str()),
            "/leads",
            "lead",
            &mut v,
        ),
        Payload::VenueShortlist(s) => {
            unique(
                s.candidates.iter().map(|x| x.id.as_str()),
                "/candidates",
                "candidate",
                &mut v,
            );
            for (i, c) in s.candidates.iter().enumerate() {
                v.check(
                    (0.0..=1.0).contains(&c.score),
                    format!("/candidates/{i}/score"),
                    "score must be within 0..1",
                );
            }
        }
        Payload::VenueScorecard(s) => scorecard(s, &mut v),
        Payload::VenueAvailability(a) => {
            for (i, e) in a.entries.iter().enumerate() {
                v.check(
                    !e.dates.is_empty(),
                    format!("/entries/{i}/dates"),
                    "availability must name the dates checked",
                );
            }
        }
        Payload::VenueNegotiationNotes(_) => {}
        Payload::BudgetBaseline(b) => baseline(b, &mut v),
        Payload::CostModel(c) => cost_model(c, &mut v),
        Payload::BudgetDecision(d) => {
            let ids: BTreeSet<&str> = d.options.iter().map(|o| o.id.as_str()).collect();
            v.check(
                ids.contains(d.selected_option_id.as_str()),
                "/selected_option_id",
                "selected option is not among the options",
            );
            unique(
                d.options.iter().map(|o| o.id.as_str()),
                "/options",
                "option",
                &mut v,
            );
        }
        Payload::LogisticsPlan(p) => {
            unique(
                p.workflows.iter().map(|x| x.id.as_str()),
                "/workflows",
                "workflow",
                &mut v,
            );
        }
        Payload::Schedule(s) => schedule(s, &mut v),
        Payload::ResourceRoster(r) => {
            unique(
                r.resources.iter().map(|x| x.id.as_str()),
                "/resources",
                "resource",
                &mut v,
            );
            for (i, res) in r.resources.iter().enumerate() {
                for (j, a) in res.assignments.iter().enumerate() {
                    v.check(
                        a.start < a.end,
                        format!("/resources/{i}/assignments/{j}/end"),
                        "assignment must end after it starts",
                    );
                }
            }
        }
        Payload::ContingencyPlan(c) => {
            unique(
                c.scenarios.iter().map(|x| x.id.as_str()),
                "/scenarios",
                "scenario",
                &mut v,
            );
            for (i, s) in c.scenarios.iter().enumerate() {
                v.check(
                    !s.response_steps.is_empty(),
                    format!("/scenarios/{i}/response_steps"),
                    "a scenario needs at least one response step",
                );
            }
        }
        Payload::VendorContracts(c) => {
            unique(
                c.vendors.iter().map(|x| x.id.as_str()),
                "/vendors",
                "vendor",
                &mut v,
            );
            for (i, k) in c.vendors.iter().enumerate() {
                v.check(
                    k.terms.start <= k.terms.end,
                    format!("/vendors/{i}/terms/end"),
                    "contract ends before it starts",
                );
                v.check(
                    k.terms.total_cost.amount >= Decimal::ZERO,
                    format!("/vendors/{i}/terms/total_cost/amount"),
                    "cost must not be negative",
                );
            }
        }
        Payload::ChangeLog(c) => unique(
            c.entries.iter().map(|x| x.id.as_str()),
            "/entries",
            "entry",
            &mut v,
        ),
        Payload::DecisionLog(d) => unique(
            d.entries.iter().map(|x| x.id.as_str()),
            "/entries",
            "entry",
            &mut v,
        ),
        Payload::AgentTrace(t) => {
            v.check(
                t.started_at <= t.finished_at,
                "/finished_at",
                "a step cannot finish before it starts",
            );
            v.check(
                t.status == crate::catalog::audit::TraceStatus::Succeeded || t.error.is_some(),
                "/error",
                "a failed step must say why",
            );
        }
        Payload::Runbook(r) => {
            for (i, e) in r.entries.iter().enumerate() {
                let done = e.status == planning::TaskStatus::Done;
                v.check(
                    done == e.completed_on.is_some(),
                    format!("/entries/{i}/completed_on"),
                    "completed_on is set exactly when the task is done",
                );
            }
        }
        Payload::IncidentLog(l) => {
            unique(
                l.incidents.iter().map(|x| x.id.as_str()),
                "/incidents",
                "incident",
                &mut v,
            );
            for (i, inc) in l.incidents.iter().enumerate() {
                if let Some(r) = inc.resolved_at {
                    v.check(
                        r >= inc.detected_at,
                        format!("/incidents/{i}/resolved_at"),
                        "resolved before it was detected",
                    );
                }
            }
        }
        Payload::Postmortem(p) => {
            v.check(
                !p.metrics.is_empty(),
                "/metrics",
                "a postmortem reports the metrics",
            );
        }
        Payload::OrganiserData(d) => {
            unique(
                d.venues.iter().map(|x| x.id.as_str()),
                "/venues",
                "venue",
                &mut v,
            );
            for (i, r) in d.rate_cards.iter().enumerate() {
                v.check(
                    r.price >= rust_decimal::Decimal::ZERO,
                    format!("/rate_cards/{i}/price"),
                    "a price is not negative",
                );
            }
            for (i, q) in d.quotes.iter().enumerate() {
                v.check(
                    q.day_rate.is_none() || q.currency.is_some(),
                    format!("/quotes/{i}/currency"),
                    "a quoted day rate needs its currency",
                );
            }
        }
        Payload::MessageDrafts(m) => {
            unique(
                m.drafts.iter().map(|x| x.id.as_str()),
                "/drafts",
                "draft",
                &mut v,
            );
            for (i, d) in m.drafts.iter().enumerate() {
                v.check(
                    !d.subject.trim().is_empty(),
                    format!("/drafts/{i}/subject"),
                    "a message needs a subject",
                );
                v.check(
                    !d.body.trim().is_empty(),
                    format!("/drafts/{i}/body"),
                    "a message needs a body",
                );
                v.check(
                    crate::catalog::messages::language_tag_ok(&d.language),
                    format!("/drafts/{i}/language"),
                    "a BCP 47 language tag such as en, de or pt-BR",
                );
                v.check(
                    d.address.as_deref().is_none_or(|a| {
                        let (user, host) = a.split_once('@').unwrap_or(("", ""));
                        !user.is_empty() && host.contains('.') && !a.contains(char::is_whitespace)
                    }),
                    format!("/drafts/{i}/address"),
                    "an e-mail address (name@example.org), or leave it out to send by hand",
                );
                let approved = d.status == crate::catalog::messages::DraftStatus::Approved;
                v.check(
                    approved == (d.approved_by.is_some() && d.approved_at.is_some()),
                    format!("/drafts/{i}/approved_by"),
                    "approved_by and approved_at are set exactly when the draft is approved",
                );
            }
        }
    }
    v.into_vec()
}

fn unique<'a>(ids: impl Iterator<Item = &'a str>, pointer: &str, what: &str, v: &mut Violations) {
    let mut seen = BTreeSet::new();
    for (i, id) in ids.enumerate() {
        if !seen.insert(id) {
            v.push(
                format!("{pointer}/{i}/id"),
                format!("duplicate {what} id `{id}`"),
            );
        }
    }
}

/// Largest audience a brief may name.
pub const MAX_AUDIENCE: u32 = 1_000_000;
/// Longest event, in days.
pub const MAX_EVENT_DAYS: u32 = 31;
/// Most parallel tracks.
pub const MAX_TRACKS: u32 = 200;

fn brief(b: &EventBrief, v: &mut Violations) {
    v.check(
        !b.title.trim().is_empty(),
        "/title",
        "title must not be empty",
    );
    v.check(
        b.language
            .as_deref()
            .is_none_or(crate::catalog::messages::language_tag_ok),
        "/language",
        "a BCP 47 language tag such as en, de, fi or pt-BR",
    );
    // Bounds keep date and count arithmetic far from overflow, and catch typos (2207 for 2027).
    let (first, last) = (b.first_day(), b.last_day());
    for (p, d) in [("/date_range/start", first), ("/date_range/end", last)] {
        v.check(
            (2000..=2200).contains(&chrono::Datelike::year(&d)),
            p,
            format!("{d} is outside the years 2000 to 2200"),
        );
    }
    v.check(
        first > last || b.days() <= MAX_EVENT_DAYS,
        "/date_range/end",
        format!("an event lasts at most {MAX_EVENT_DAYS} days"),
    );
    v.check(
        b.audience_size <= MAX_AUDIENCE,
        "/audience_size",
        format!("audience_size must be at most {MAX_AUDIENCE}"),
    );
    v.check(
        b.tracks <= MAX_TRACKS,
        "/tracks",
        format!("tracks must be at most {MAX_TRACKS}"),
    );
    v.check(
        first <= last,
        "/date_range/end",
        format!(
            "the event ends ({}) before it starts ({}): the end must be on or after the start",
            b.date_range.end, b.date_range.start
        ),
    );
    if let (BriefTime::DateTime(s), BriefTime::DateTime(e)) = (b.date_range.start, b.date_range.end)
    {
        v.check(
            first > last || s < e,
            "/date_range/end",
            format!(
                "the event ends ({}) before it starts ({}): the end must be after the start",
                b.date_range.end, b.date_range.start
            ),
        );
    }
    hours(b, v);
    v.check(
        b.timezone.parse::<chrono_tz::Tz>().is_ok(),
        "/timezone",
        format!(
            "`{}` is not an IANA time zone name (e.g. Europe/Berlin)",
            b.timezone
        ),
    );
    v.check(
        b.audience_size > 0,
        "/audience_size",
        "audience_size must be at least 1",
    );
    v.check(
        b.budget.total > Decimal::ZERO,
        "/budget/total",
        "budget total must be positive",
    );
    v.check(b.tracks >= 1, "/tracks", "tracks must be at least 1");
    v.check(
        !b.location.city.trim().is_empty(),
        "/location/city",
        "city must not be empty",
    );
    if let Some(p) = b.planning_start {
        v.check(
            p < first,
            "/planning_start",
            "planning must start before the event",
        );
        v.check(
            (first - p).num_days() <= 3650,
            "/planning_start",
            "planning starts at most ten years before the event",
        );
    }
    v.check(
        b.program.len() <= 10_000,
        "/program",
        "a program has at most 10000 sessions",
    );
    for (i, item) in b.program.iter().enumerate() {
        v.check(
            (1..=1440).contains(&item.duration_minutes),
            format!("/program/{i}/duration_minutes"),
            "a session lasts between 1 and 1440 minutes",
        );
        if let Some(d) = item.day {
            v.check(
                first <= d && d <= last,
                format!("/program/{i}/day"),
                format!("{d} is not an event day ({first} to {last})"),
            );
            v.check(
                item.start.is_some(),
                format!("/program/{i}/start"),
                "a session with a day needs a start time (HH:MM), such as 10:00",
            );
        }
    }
}

/// The daily hours: each window opens before it closes, doors open no later than the first
/// session, breaks lie inside the window, and per-day hours name event days once.
fn hours(b: &EventBrief, v: &mut Violations) {
    let (first, last) = (b.first_day(), b.last_day());
    let window = |p: &str,
                  doors: Option<ClockTime>,
                  start: Option<ClockTime>,
                  end: Option<ClockTime>,
                  breaks: &[ProgramBreak],
                  v: &mut Violations| {
        if let (Some(s), Some(e)) = (start, end) {
            v.check(
                s < e,
                format!("{p}/end"),
                format!("the last session must end ({e}) after the first may start ({s})"),
            );
        }
        if let (Some(d), Some(s)) = (doors, start) {
            v.check(
                d <= s,
                format!("{p}/doors"),
                format!("doors ({d}) must open no later than the first session ({s})"),
            );
        }
        for (j, br) in breaks.iter().enumerate() {
            v.check(
                br.start < br.end,
                format!("{p}/breaks/{j}/end"),
                format!(
                    "the break ends ({}) before it starts ({})",
                    br.end, br.start
                ),
            );
        }
    };
    let h = &b.hours;
    window("/hours", h.doors, h.start, h.end, &h.breaks, v);
    let mut seen = std::collections::BTreeSet::new();
    for (i, d) in h.days.iter().enumerate() {
        let p = format!("/hours/days/{i}");
        v.check(
            first <= d.date && d.date <= last,
            format!("{p}/date"),
            format!("{} is not an event day ({first} to {last})", d.date),
        );
        v.check(
            seen.insert(d.date),
            format!("{p}/date"),
            format!("{} has hours twice: give each day once", d.date),
        );
        window(
            &p,
            d.doors.or(h.doors),
            d.start.or(h.start),
            d.end.or(h.end),
            d.breaks.as_deref().unwrap_or(&[]),
            v,
        );
    }
}

fn stakeholder_map(m: &planning::StakeholderMap, v: &mut Violations) {
    unique(
        m.stakeholders.iter().map(|s| s.id.as_str()),
        "/stakeholders",
        "stakeholder",
        v,
    );
    let ids: BTreeSet<&str> = m.stakeholders.iter().map(|s| s.id.as_str()).collect();
    for (i, s) in m.stakeholders.iter().enumerate() {
        for (j, b) in s.backup_for.iter().enumerate() {
            v.check(
                ids.contains(b.as_str()),
                format!("/stakeholders/{i}/backup_for/{j}"),
                format!("unknown stakeholder `{b}`"),
            );
        }
    }
}

fn timeline(t: &Timeline, v: &mut Violations) {
    unique(
        t.milestones.iter().map(|m| m.id.as_str()),
        "/milestones",
        "milestone",
        v,
    );
    for (i, p) in t.phases.iter().enumerate() {
        v.check(
            p.start <= p.end,
            format!("/phases/{i}/end"),
            "phase ends before it starts",
        );
    }
    let index: BTreeMap<&str, usize> = t
        .milestones
        .iter()
        .enumerate()
        .map(|(i, m)| (m.id.as_str(), i))
        .collect();
    let mut deps = vec![Vec::new(); t.milestones.len()];
    for (i, m) in t.milestones.iter().enumerate() {
        v.check(
            m.date >= t.plan_start && m.date <= t.project_end,
            format!("/milestones/{i}/date"),
            "milestone lies outside plan_start..project_end",
        );
        for (j, d) in m.depends_on.iter().enumerate() {
            match index.get(d.as_str()) {
                Some(k) => deps[i].push(*k),
                None => v.push(
                    format!("/milestones/{i}/depends_on/{j}"),
                    format!("unknown milestone `{d}`"),
                ),
            }
        }
    }
    if let Order::Cyclic(nodes) = topological_order(t.milestones.len(), &deps) {
        for n in nodes {
            v.push(
                format!("/milestones/{n}/depends_on"),
                "milestone dependencies form a cycle",
            );
        }
    }
}

fn task_register(t: &TaskRegister, v: &mut Violations) {
    unique(t.tasks.iter().map(|x| x.id.as_str()), "/tasks", "task", v);
    let index: BTreeMap<&str, usize> = t
        .tasks
        .iter()
        .enumerate()
        .map(|(i, x)| (x.id.as_str(), i))
        .collect();
    let mut deps = vec![Vec::new(); t.tasks.len()];
    for (i, task) in t.tasks.iter().enumerate() {
        v.check(
            task.start <= task.end,
            format!("/tasks/{i}/end"),
            "task ends before it starts",
        );
        let span = (task.end - task.start).num_days() + 1;
        v.check(
            Days(u32::try_from(span).unwrap_or(0)) == task.duration,
            format!("/tasks/{i}/duration"),
            format!(
                "duration {} does not match start..end ({span} days)",
                String::from(task.duration)
            ),
        );
        for (j, d) in task.depends_on.iter().enumerate() {
            match index.get(d.as_str()) {
                Some(k) => {
                    deps[i].push(*k);
                    v.check(
                        t.tasks[*k].end < task.start,
                        format!("/tasks/{i}/start"),
                        format!("starts before its dependency `{d}` ends"),
                    );
                }
                None => v.push(
                    format!("/tasks/{i}/depends_on/{j}"),
                    format!("unknown task `{d}`"),
                ),
            }
        }
    }
    if let Order::Cyclic(nodes) = topological_order(t.tasks.len(), &deps) {
        for n in nodes {
            v.push(
                format!("/tasks/{n}/depends_on"),
                "task dependencies form a cycle",
            );
        }
    }
}

fn risk_consistent(r: &Risk, p: &str, v: &mut Violations) {
    v.check(
        (1..=5).contains(&r.probability),
        format!("{p}/probability"),
        "probability is rated 1 to 5",
    );
    v.check(
        (1..=5).contains(&r.impact),
        format!("{p}/impact"),
        "impact is rated 1 to 5",
    );
    v.check(
        u16::from(r.rating) == u16::from(r.probability) * u16::from(r.impact),
        format!("{p}/rating"),
        "rating must equal probability × impact",
    );
}

fn scorecard(s: &venue::VenueScorecard, v: &mut Violations) {
    let sum: f64 = s.criteria_weights.values().sum();
    v.check(
        (sum - 1.0).abs() <= WEIGHT_EPSILON,
        "/criteria_weights",
        format!("weights sum to {sum}, not 1"),
    );
    for (c, w) in &s.criteria_weights {
        v.check(
            (0.0..=1.0).contains(w),
            format!("/criteria_weights/{}", json_key(c)),
            "a weight lies within 0..1",
        );
    }
    for (i, cs) in s.candidate_scores.iter().enumerate() {
        for c in s.criteria_weights.keys() {
            match cs.scores.get(c) {
                Some(x) => v.check(
                    (0.0..=1.0).contains(x),
                    format!("/candidate_scores/{i}/scores/{}", json_key(c)),
                    "a score lies within 0..1",
                ),
                None => v.push(
                    format!("/candidate_scores/{i}/scores"),
                    format!("not scored on `{}`", json_key(c)),
                ),
            }
        }
        let total: f64 = s
            .criteria_weights
            .iter()
            .map(|(c, w)| w * cs.scores.get(c).copied().unwrap_or(0.0))
            .sum();
        v.check(
            (total - cs.total).abs() <= 1e-6,
            format!("/candidate_scores/{i}/total"),
            format!("total {} is not Σ weight × score = {total:.6}", cs.total),
        );
    }
    let ids: BTreeSet<&str> = s
        .candidate_scores
        .iter()
        .map(|c| c.candidate_id.as_str())
        .collect();
    v.check(
        ids.contains(s.selected_candidate_id.as_str()),
        "/selected_candidate_id",
        "the selected candidate has no scores",
    );
    v.check(
        !s.excluded.contains(&s.selected_candidate_id),
        "/selected_candidate_id",
        "the selected candidate was rejected by an approver",
    );
    v.check(
        !s.selection_rationale.trim().is_empty(),
        "/selection_rationale",
        "a rationale is required",
    );
}

fn json_key<T: Serialize>(t: &T) -> String {
    serde_json::to_value(t)
        .ok()
        .and_then(|x| x.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn baseline(b: &budget::BudgetBaseline, v: &mut Violations) {
    let sum: Decimal = b.allocations.iter().map(|a| a.amount).sum();
    v.check(
        sum == b.total,
        "/allocations",
        format!("allocations sum to {sum}, not the total {}", b.total),
    );
    for (i, a) in b.allocations.iter().enumerate() {
        v.check(
            a.amount >= Decimal::ZERO,
            format!("/allocations/{i}/amount"),
            "allocation must not be negative",
        );
    }
    let reserve: Decimal = b
        .allocations
        .iter()
        .filter(|a| a.category == budget::BudgetCategory::Contingency)
        .map(|a| a.amount)
        .sum();
    v.check(
        reserve == b.reserve,
        "/reserve",
        format!(
            "reserve {} differs from the contingency allocation {reserve}",
            b.reserve
        ),
    );
}

fn cost_model(c: &budget::CostModel, v: &mut Violations) {
    unique(
        c.line_items.iter().map(|x| x.id.as_str()),
        "/line_items",
        "line item",
        v,
    );
    for (i, li) in c.line_items.iter().enumerate() {
        let expected = (li.qty * li.unit_cost).round_dp(2);
        v.check(
            expected == li.total,
            format!("/line_items/{i}/total"),
            format!("qty × unit_cost = {expected}, not {}", li.total),
        );
    }
    let sum: Decimal = c.line_items.iter().map(|li| li.total).sum();
    v.check(
        sum == c.total,
        "/total",
        format!("line items sum to {sum}, not {}", c.total),
    );
}

fn schedule(s: &logistics::Schedule, v: &mut Violations) {
    unique(
        s.sessions.iter().map(|x| x.id.as_str()),
        "/sessions",
        "session",
        v,
    );
    let rooms: BTreeSet<&str> = s.rooms.iter().map(|r| r.id.as_str()).collect();
    for (i, x) in s.sessions.iter().enumerate() {
        v.check(
            x.start < x.end,
            format!("/sessions/{i}/end"),
            "session must end after it starts",
        );
        v.check(
            rooms.contains(x.room.as_str()),
            format!("/sessions/{i}/room"),
            format!("unknown room `{}`", x.room),
        );
    }
}

/// Checks references and consistency across the current artifacts of one event. Returns, per
/// artifact type, the violations found in that artifact.
pub fn validate_references(bb: &Blackboard) -> Vec<(ArtifactType, Violation)> {
    validate_references_of(bb, ArtifactType::ALL)
}

/// [`validate_references`] of the artifacts of `types` only (the checks of the others are not
/// run): what a step wrote, or what a transition requires.
// Long because: a list of independent cross-artifact checks sharing the id sets computed at the
// top; each check is one `at(…)` block.
pub fn validate_references_of(
    bb: &Blackboard,
    types: &[ArtifactType],
) -> Vec<(ArtifactType, Violation)> {
    let mut out = Vec::new();
    let mut at = |t: ArtifactType, f: &dyn Fn(&mut Violations)| {
        if !types.contains(&t) {
            return;
        }
        let mut v = Violations::default();
        f(&mut v);
        out.extend(v.into_vec().into_iter().map(|x| (t, x)));
    };
    let stakeholders: Option<BTreeSet<&str>> = bb
        .get::<planning::StakeholderMap>()
        .map(|m| m.stakeholders.iter().map(|s| s.id.as_str()).collect());
    let tasks: Option<BTreeSet<&str>> = bb
        .get::<TaskRegister>()
        .map(|t| t.tasks.iter().map(|x| x.id.as_str()).collect());
    let window = bb
        .get::<EventBrief>()
        .map(|b| (b.first_day(), b.last_day()));

    if let (Some(t), Some(tl)) = (bb.get::<TaskRegister>(), bb.get::<Timeline>()) {
        let milestones: BTreeSet<&str> = tl.milestones.iter().map(|m| m.id.as_str()).collect();
        at(ArtifactType::TaskRegister, &|v| {
            for (i, task) in t.tasks.iter().enumerate() {
                v.check(
                    milestones.contains(task.milestone_id.as_str()),
                    format!("/tasks/{i}/milestone_id"),
                    format!("unknown milestone `{}`", task.milestone_id),
                );
                if let Some(s) = &stakeholders {
                    v.check(
                        s.contains(task.owner.as_str()),
                        format!("/tasks/{i}/owner"),
                        format!("unknown stakeholder `{}`", task.owner),
                    );
                }
                if let Some(w) = window {
                    v.check(
                        task.end <= w.1,
                        format!("/tasks/{i}/end"),
                        "task ends after the event",
                    );
                }
            }
        });
    }
    if let (Some(tl), Some(tasks)) = (bb.get::<Timeline>(), &tasks) {
        at(ArtifactType::Timeline, &|v| {
            for (i, id) in tl.critical_path.iter().enumerate() {
                v.check(
                    tasks.contains(id.as_str()),
                    format!("/critical_path/{i}"),
                    format!("unknown task `{id}`"),
                );
            }
            for (i, d) in tl.dependencies.iter().enumerate() {
                v.check(
                    tasks.contains(d.from.as_str()),
                    format!("/dependencies/{i}/from"),
                    format!("unknown task `{}`", d.from),
                );
                v.check(
                    tasks.contains(d.to.as_str()),
                    format!("/dependencies/{i}/to"),
                    format!("unknown task `{}`", d.to),
                );
            }
            if let Some(l) = &tl.resource_levelling {
                for (i, s) in l.shifted.iter().enumerate() {
                    v.check(
                        tasks.contains(s.task_id.as_str()),
                        format!("/resource_levelling/shifted/{i}/task_id"),
                        format!("unknown task `{}`", s.task_id),
                    );
                }
            }
        });
    }
    if let (Some(r), Some(s)) = (bb.get::<planning::RiskRegister>(), &stakeholders) {
        at(ArtifactType::RiskRegister, &|v| {
            for (i, risk) in r.risks.iter().enumerate() {
                v.check(
                    s.contains(risk.owner.as_str()),
                    format!("/risks/{i}/owner"),
                    format!("unknown stakeholder `{}`", risk.owner),
                );
            }
        });
    }
    if let (Some(c), Some(s)) = (bb.get::<planning::CommunicationsPlan>(), &stakeholders) {
        at(ArtifactType::CommunicationsPlan, &|v| {
            for (i, e) in c.entries.iter().enumerate() {
                v.check(
                    s.contains(e.owner.as_str()),
                    format!("/entries/{i}/owner"),
                    format!("unknown stakeholder `{}`", e.owner),
                );
            }
            for (i, e) in c.escalation_path.iter().enumerate() {
                v.check(
                    s.contains(e.as_str()),
                    format!("/escalation_path/{i}"),
                    format!("unknown stakeholder `{e}`"),
                );
            }
        });
    }
    if let (Some(sl), Some(l)) = (
        bb.get::<venue::VenueShortlist>(),
        bb.get::<venue::VenueLeads>(),
    ) {
        let leads: BTreeSet<&str> = l.leads.iter().map(|x| x.id.as_str()).collect();
        at(ArtifactType::VenueShortlist, &|v| {
            for (i, c) in sl.candidates.iter().enumerate() {
                v.check(
                    leads.contains(c.lead_id.as_str()),
                    format!("/candidates/{i}/lead_id"),
                    format!("unknown lead `{}`", c.lead_id),
                );
            }
        });
    }
    if let Some(sl) = bb.get::<venue::VenueShortlist>() {
        let cands: BTreeSet<&str> = sl.candidates.iter().map(|c| c.id.as_str()).collect();
        if let Some(sc) = bb.get::<venue::VenueScorecard>() {
            at(ArtifactType::VenueScorecard, &|v| {
                for (i, c) in sc.candidate_scores.iter().enumerate() {
                    v.check(
                        cands.contains(c.candidate_id.as_str()),
                        format!("/candidate_scores/{i}/candidate_id"),
                        format!("unknown candidate `{}`", c.candidate_id),
                    );
                }
                let scored: BTreeSet<&str> = sc
                    .candidate_scores
                    .iter()
                    .map(|c| c.candidate_id.as_str())
                    .collect();
                for c in &cands {
                    v.check(
                        scored.contains(c),
                        "/candidate_scores",
                        format!("shortlisted candidate `{c}` is not scored"),
                    );
                }
            });
        }
        if let Some(a) = bb.get::<venue::VenueAvailability>() {
            at(ArtifactType::VenueAvailability, &|v| {
                for (i, e) in a.entries.iter().enumerate() {
                    v.check(
                        cands.contains(e.candidate_id.as_str()),
                        format!("/entries/{i}/candidate_id"),
                        format!("unknown candidate `{}`", e.candidate_id),
                    );
                }
            });
        }
        if let Some(n) = bb.get::<venue::VenueNegotiationNotes>() {
            at(ArtifactType::VenueNegotiationNotes, &|v| {
                for (i, e) in n.entries.iter().enumerate() {
                    v.check(
                        cands.contains(e.candidate_id.as_str()),
                        format!("/entries/{i}/candidate_id"),
                        format!("unknown candidate `{}`", e.candidate_id),
                    );
                }
            });
        }
    }
    if let (Some(p), Some(tasks)) = (bb.get::<logistics::LogisticsPlan>(), &tasks) {
        at(ArtifactType::LogisticsPlan, &|v| {
            for (i, w) in p.workflows.iter().enumerate() {
                for (j, t) in w.task_ids.iter().enumerate() {
                    v.check(
                        tasks.contains(t.as_str()),
                        format!("/workflows/{i}/task_ids/{j}"),
                        format!("unknown task `{t}`"),
                    );
                }
            }
        });
    }
    if let (Some(c), Some(r)) = (
        bb.get::<logistics::ContingencyPlan>(),
        bb.get::<planning::RiskRegister>(),
    ) {
        let risks: BTreeSet<&str> = r.risks.iter().map(|x| x.id.as_str()).collect();
        at(ArtifactType::ContingencyPlan, &|v| {
            for (i, s) in c.scenarios.iter().enumerate() {
                v.check(
                    risks.contains(s.risk_id.as_str()),
                    format!("/scenarios/{i}/risk_id"),
                    format!("unknown risk `{}`", s.risk_id),
                );
                if let Some(tasks) = &tasks {
                    for (j, t) in s.task_ids.iter().enumerate() {
                        v.check(
                            tasks.contains(t.as_str()),
                            format!("/scenarios/{i}/task_ids/{j}"),
                            format!("unknown task `{t}`"),
                        );
                    }
                }
            }
        });
    }
    if let (Some(s), Some(w)) = (bb.get::<logistics::Schedule>(), window) {
        at(ArtifactType::Schedule, &|v| {
            for (i, x) in s.sessions.iter().enumerate() {
                let day = x.start.date_naive();
                v.check(
                    day >= w.0 && x.end.date_naive() <= w.1,
                    format!("/sessions/{i}/start"),
                    "session lies outside the event dates",
                );
            }
            if let Some(b) = bb.get::<EventBrief>() {
                for problem in crate::hours::sessions_outside_hours(b, &s.sessions) {
                    v.check(false, "/sessions", problem);
                }
            }
        });
    }
    if let (Some(cm), Some(bl)) = (
        bb.get::<budget::CostModel>(),
        bb.get::<budget::BudgetBaseline>(),
    ) {
        at(ArtifactType::CostModel, &|v| {
            v.check(
                cm.currency == bl.currency,
                "/currency",
                format!(
                    "cost model is in {}, the baseline in {}",
                    cm.currency, bl.currency
                ),
            );
        });
    }
    out
}
