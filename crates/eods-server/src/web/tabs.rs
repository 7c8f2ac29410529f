//! The artifact-family tabs of the event page: one view model a tab, built from the typed
//! blackboard (timeline with its Gantt chart, tasks, venue scorecard, budget, schedule grid, risks
//! with the heat map, logistics with roster and vendors, contingency, communications). Pure
//! functions of the artifacts; contract terms only when the caller may see them.

use super::event::{Body, IncidentView, incidents, name};
use crate::charts::{self, amount};
use eods_domain::blackboard::Blackboard;
use eods_domain::catalog::budget::{BudgetBaseline, BudgetDecision, CostModel};
use eods_domain::catalog::execution::Runbook;
use eods_domain::catalog::logistics::{
    ContingencyPlan, LogisticsPlan, ResourceRoster, Schedule, VendorContracts,
};
use eods_domain::catalog::planning::{
    CommunicationsPlan, RiskRegister, StakeholderMap, TaskRegister, Timeline,
};
use eods_domain::catalog::venue::{
    VenueAvailability, VenueNegotiationNotes, VenueScorecard, VenueShortlist,
};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// A task row; critical tasks are marked.
pub(super) struct TaskView {
    pub(super) id: String,
    pub(super) title: String,
    pub(super) owner: String,
    pub(super) status: String,
    pub(super) start: String,
    pub(super) end: String,
    pub(super) days: u32,
    pub(super) slack: u32,
    pub(super) depends: String,
    pub(super) critical: bool,
}

pub(super) struct TimelineView {
    pub(super) gantt: String,
    pub(super) critical: Vec<String>,
    pub(super) project_end: String,
    pub(super) phases: Vec<(String, String, String)>,
    pub(super) milestones: Vec<(String, String, String)>,
    pub(super) levelling: Vec<String>,
}

pub(super) struct VenueView {
    pub(super) criteria: Vec<(String, String)>,
    pub(super) columns: Vec<String>,
    pub(super) rows: Vec<VenueRow>,
    pub(super) rationale: String,
    pub(super) selected: String,
    pub(super) chart: String,
    pub(super) availability: Vec<(String, String, String, String)>,
    pub(super) negotiation: Vec<(String, String, String, String, String)>,
}

pub(super) struct VenueRow {
    pub(super) rank: usize,
    pub(super) name: String,
    pub(super) capacity: String,
    pub(super) cost: String,
    pub(super) scores: Vec<String>,
    pub(super) total: String,
    pub(super) selected: bool,
    pub(super) excluded: bool,
}

pub(super) struct BudgetView {
    pub(super) currency: String,
    pub(super) chart: String,
    pub(super) total: String,
    pub(super) reserve: String,
    pub(super) unallocated: String,
    /// Per category: name, allocated, planned, share of the total (the chart's figures).
    pub(super) categories: Vec<[String; 4]>,
    pub(super) assumptions: Vec<String>,
    pub(super) lines: Vec<[String; 7]>,
    pub(super) cost_total: String,
    pub(super) variance_rule: String,
    pub(super) optimisation: Option<String>,
    pub(super) decision: Vec<(String, String)>,
    pub(super) options: Vec<(String, String, String, String, bool)>,
    pub(super) spend: Option<String>,
    pub(super) spend_chart: String,
}

pub(super) struct ScheduleDay {
    pub(super) day: String,
    pub(super) rooms: Vec<String>,
    pub(super) rows: Vec<(String, Vec<Vec<String>>)>,
}

pub(super) struct ScheduleView {
    pub(super) timezone: String,
    pub(super) days: Vec<ScheduleDay>,
    pub(super) sessions: usize,
    pub(super) optimisation: Option<String>,
}

pub(super) struct RiskView {
    pub(super) heatmap: String,
    pub(super) rows: Vec<[String; 8]>,
    pub(super) method: String,
}

pub(super) struct LogisticsView {
    pub(super) workflows: Vec<(String, String, String, String)>,
    pub(super) layouts: Vec<(String, String, String)>,
    pub(super) policies: Vec<String>,
    pub(super) roster: Vec<(String, String, String, usize, String)>,
    pub(super) vendors: Vec<VendorView>,
    pub(super) excluded: Vec<String>,
}

pub(super) struct VendorView {
    pub(super) name: String,
    pub(super) service: String,
    pub(super) backup: String,
    pub(super) terms: Option<(String, String, String, String)>,
}

pub(super) struct ContingencyView {
    pub(super) scenarios: Vec<[String; 6]>,
    pub(super) incidents: Vec<IncidentView>,
}

pub(super) struct CommsView {
    pub(super) entries: Vec<[String; 5]>,
    pub(super) escalation: Vec<String>,
    pub(super) stakeholders: Vec<(String, String, String, String)>,
}

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
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

pub(super) fn missing(what: &str) -> Body {
    Body::Empty(format!(
        "No {what} yet: the agents write it when planning reaches that step."
    ))
}

pub(super) fn timeline(bb: &Blackboard) -> Body {
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

pub(super) fn tasks(bb: &Blackboard) -> Body {
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

pub(super) fn venue(bb: &Blackboard, contracts: bool) -> Body {
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

/// The budget tab: baseline, cost model lines, decision, options, spend and its chart.
///
/// Long because: it fills the view's fields one after the other from three artifacts.
/// The Budget tab. Without the contracts permission (`contracts` false) the cost lines keep
/// their category, description, quantity and supplier but not their amounts: the categories
/// above them show where the money goes.
pub(super) fn budget(bb: &Blackboard, contracts: bool) -> Body {
    let Some(base) = bb.get::<BudgetBaseline>() else {
        return missing("budget");
    };
    let currency = base.currency.to_string();
    let model = bb.get::<CostModel>();
    let decision = bb.get::<BudgetDecision>();
    let mut lines = Vec::new();
    if let Some(m) = model {
        for l in &m.line_items {
            let shown = |x| {
                if contracts || !l.is_supplier_line() {
                    amount(x)
                } else {
                    "withheld".to_owned()
                }
            };
            lines.push([
                name(&l.category),
                l.description.clone(),
                l.qty.normalize().to_string(),
                shown(l.unit_cost),
                shown(l.total),
                l.vendor_option.clone(),
                shown(l.first_quote),
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
    // One computation for the chart, the category table and the totals.
    let figures = eods_domain::catalog::budget::figures(base, model);
    Body::Budget(BudgetView {
        chart: charts::allocations("allocations", &figures),
        total: amount(figures.total),
        reserve: amount(figures.reserve),
        unallocated: amount(figures.unallocated),
        categories: figures
            .rows
            .iter()
            .map(|r| {
                [
                    r.category.label().to_owned(),
                    amount(r.allocated),
                    amount(r.planned),
                    pct(r.share),
                ]
            })
            .collect(),
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

/// The amount as a chart length (0 if it does not fit a float).
fn decimal_f64(d: Decimal) -> f64 {
    d.to_f64().unwrap_or(0.0)
}

pub(super) fn schedule(bb: &Blackboard) -> Body {
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

pub(super) fn risks(bb: &Blackboard) -> Body {
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

pub(super) fn logistics(bb: &Blackboard, contracts: bool) -> Body {
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

pub(super) fn contingency(bb: &Blackboard) -> Body {
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

pub(super) fn communications(bb: &Blackboard) -> Body {
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
