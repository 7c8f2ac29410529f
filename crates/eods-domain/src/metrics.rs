//! The metric formulas of DESIGN §6 and their targets. Pure arithmetic over artifacts.

use crate::catalog::budget::{BudgetBaseline, BudgetCategory, CostModel};
use crate::catalog::execution::{
    Incident, IncidentStatus, MetricResult, MilestoneActual, RunbookEntry,
};
use crate::catalog::logistics::{ContingencyPlan, ResourceRoster, ResourceType};
use crate::catalog::planning::{RiskRegister, TaskStatus};
use crate::catalog::venue::{HoldStatus, VenueAvailability, VenueScorecard, VenueShortlist};
use crate::instruction::Level;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Every metric of DESIGN §6.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum MetricName {
    TimelineSlippage,
    RiskCoverage,
    StakeholderSatisfaction,
    ShortlistQuality,
    BudgetFit,
    ConfirmedHolds,
    BudgetVariance,
    SavingsIdentified,
    RiskReserveAdequacy,
    OnTimeTaskRate,
    IncidentResolutionTime,
    UtilizationBalance,
    ContingencyEffectiveness,
}

impl MetricName {
    /// The snake_case name, as in JSON.
    pub fn as_str(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }
}

/// max over milestones of delay ÷ (planned date − plan start). 0 when nothing slipped.
pub fn timeline_slippage(plan_start: NaiveDate, milestones: &[MilestoneActual]) -> f64 {
    milestones
        .iter()
        .map(|m| {
            let delay = (m.actual - m.planned).num_days().max(0) as f64;
            let span = (m.planned - plan_start).num_days().max(1) as f64;
            delay / span
        })
        .fold(0.0, f64::max)
}

/// (risks with a mitigation or a contingency ÷ all risks, whether every high risk is covered).
pub fn risk_coverage(risks: &RiskRegister, contingency: Option<&ContingencyPlan>) -> (f64, bool) {
    let covered = |r: &crate::catalog::planning::Risk| {
        !r.mitigation.is_empty()
            || contingency.is_some_and(|c| c.scenarios.iter().any(|s| s.risk_id == r.id))
    };
    if risks.risks.is_empty() {
        return (1.0, true);
    }
    let n = risks.risks.iter().filter(|r| covered(r)).count();
    let high_ok = risks.risks.iter().filter(|r| r.is_high()).all(covered);
    (n as f64 / risks.risks.len() as f64, high_ok)
}

/// Mean scorecard total of the shortlisted candidates.
pub fn shortlist_quality(shortlist: &VenueShortlist, scorecard: &VenueScorecard) -> f64 {
    let totals: Vec<f64> = shortlist
        .candidates
        .iter()
        .filter_map(|c| {
            scorecard
                .candidate_scores
                .iter()
                .find(|s| s.candidate_id == c.id)
                .map(|s| s.total)
        })
        .collect();
    if totals.is_empty() {
        return 0.0;
    }
    totals.iter().sum::<f64>() / totals.len() as f64
}

/// Shortlisted candidates whose cost is within the venue allocation ÷ shortlisted.
pub fn budget_fit(shortlist: &VenueShortlist, venue_allocation: Decimal) -> f64 {
    if shortlist.candidates.is_empty() {
        return 0.0;
    }
    let n = shortlist
        .candidates
        .iter()
        .filter(|c| c.cost_estimate.amount <= venue_allocation)
        .count();
    n as f64 / shortlist.candidates.len() as f64
}

/// The venue allocation of a baseline.
pub fn venue_allocation(baseline: &BudgetBaseline) -> Decimal {
    baseline
        .allocations
        .iter()
        .filter(|a| a.category == BudgetCategory::Venue)
        .map(|a| a.amount)
        .sum()
}

/// Venues with an active hold.
pub fn confirmed_holds(availability: &VenueAvailability) -> usize {
    availability
        .entries
        .iter()
        .filter(|e| e.hold.status == HoldStatus::Held)
        .count()
}

/// |cost − baseline| ÷ baseline.
pub fn budget_variance(cost_total: Decimal, baseline_total: Decimal) -> f64 {
    if baseline_total.is_zero() {
        return 0.0;
    }
    ((cost_total - baseline_total).abs() / baseline_total)
        .to_f64()
        .unwrap_or(f64::INFINITY)
}

/// (first-quote total − optimised total) ÷ first-quote total, over the supplier lines the
/// Budget Analyst chooses between vendor options for: the venue (chosen by the Venue Researcher
/// and approved on its own) and the contingency reserve (not a quote) are left out.
pub fn savings_identified(cost: &CostModel) -> f64 {
    use crate::catalog::budget::BudgetCategory as C;
    let quoted = cost
        .line_items
        .iter()
        .filter(|l| !matches!(l.category, C::Contingency | C::Venue));
    let (first, chosen) = quoted.fold((Decimal::ZERO, Decimal::ZERO), |(f, c), l| {
        (f + l.first_quote, c + l.total)
    });
    if first.is_zero() {
        return 0.0;
    }
    ((first - chosen) / first).to_f64().unwrap_or(0.0)
}

/// Probability of a risk rated 1–5, as a fraction: 1→0.1, 2→0.3, 3→0.5, 4→0.7, 5→0.9.
pub fn probability_fraction(p: u8) -> Decimal {
    Decimal::from(2 * u32::from(p.clamp(1, 5)) - 1) / Decimal::from(10)
}

/// Expected loss of a register: Σ probability × cost impact.
pub fn expected_loss(risks: &RiskRegister) -> Decimal {
    risks
        .risks
        .iter()
        .map(|r| probability_fraction(r.probability) * r.cost_impact.amount)
        .sum()
}

/// min(1, reserve ÷ expected loss); 1 when nothing is at risk.
pub fn risk_reserve_adequacy(reserve: Decimal, risks: &RiskRegister) -> f64 {
    let loss = expected_loss(risks);
    if loss.is_zero() {
        return 1.0;
    }
    (reserve / loss).to_f64().unwrap_or(0.0).min(1.0)
}

/// Tasks completed by their planned end ÷ tasks completed.
pub fn on_time_task_rate(entries: &[RunbookEntry]) -> f64 {
    let done: Vec<&RunbookEntry> = entries
        .iter()
        .filter(|e| e.status == TaskStatus::Done)
        .collect();
    if done.is_empty() {
        return 1.0;
    }
    let on_time = done
        .iter()
        .filter(|e| e.completed_on.is_some_and(|c| c <= e.planned_end))
        .count();
    on_time as f64 / done.len() as f64
}

/// (max, p95) minutes from detection to resolution over resolved incidents.
pub fn incident_resolution_minutes(incidents: &[Incident]) -> Option<(f64, f64)> {
    let mut minutes: Vec<f64> = incidents
        .iter()
        .filter(|i| i.status == IncidentStatus::Resolved)
        .filter_map(|i| {
            i.resolved_at
                .map(|r| (r - i.detected_at).num_seconds() as f64 / 60.0)
        })
        .collect();
    if minutes.is_empty() {
        return None;
    }
    minutes.sort_by(f64::total_cmp);
    let max = minutes[minutes.len() - 1];
    let rank = ((0.95 * minutes.len() as f64).ceil() as usize).clamp(1, minutes.len());
    Some((max, minutes[rank - 1]))
}

/// mean ÷ max utilisation across staff (person resources), where utilisation = assigned ÷ available time.
pub fn utilization_balance(roster: &ResourceRoster) -> Option<f64> {
    let utils: Vec<f64> = roster
        .resources
        .iter()
        .filter(|r| r.resource_type == ResourceType::Person)
        .map(|r| {
            let avail: i64 = r
                .availability
                .iter()
                .map(|w| (w.end - w.start).num_minutes())
                .sum();
            let used: i64 = r
                .assignments
                .iter()
                .map(|a| (a.end - a.start).num_minutes())
                .sum();
            if avail > 0 {
                used as f64 / avail as f64
            } else {
                0.0
            }
        })
        .collect();
    let max = utils.iter().copied().fold(0.0, f64::max);
    if utils.is_empty() || max == 0.0 {
        return None;
    }
    Some(utils.iter().sum::<f64>() / utils.len() as f64 / max)
}

/// Incidents resolved by their contingency ÷ incidents that fired one.
pub fn contingency_effectiveness(incidents: &[Incident]) -> Option<f64> {
    let fired: Vec<&Incident> = incidents
        .iter()
        .filter(|i| i.scenario_id.is_some())
        .collect();
    if fired.is_empty() {
        return None;
    }
    let ok = fired
        .iter()
        .filter(|i| i.resolved_by_contingency && i.status == IncidentStatus::Resolved)
        .count();
    Some(ok as f64 / fired.len() as f64)
}

/// Whether a metric applies at a level (savings ≥ Intermediate, holds at Advanced).
pub fn applies_at(name: MetricName, level: Level) -> bool {
    match name {
        MetricName::SavingsIdentified => level >= Level::Intermediate,
        MetricName::ConfirmedHolds => level >= Level::Advanced,
        _ => true,
    }
}

/// Builds a result against a target: `at_most` or `at_least` a bound.
pub fn against(
    name: MetricName,
    value: Option<f64>,
    bound: Bound,
    level: Level,
    detail: String,
) -> MetricResult {
    let applies = applies_at(name, level);
    let met = match (value, applies) {
        (Some(v), true) => Some(match bound {
            Bound::AtMost(b) => v <= b + 1e-12,
            Bound::AtLeast(b) => v + 1e-12 >= b,
        }),
        _ => None,
    };
    let target = match bound {
        Bound::AtMost(b) => format!("<= {b}"),
        Bound::AtLeast(b) => format!(">= {b}"),
    };
    let detail = if applies {
        detail
    } else {
        format!("{detail} (target applies from a higher level)")
    };
    MetricResult {
        name,
        value,
        target,
        met,
        detail,
    }
}

/// A target bound.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bound {
    AtMost(f64),
    AtLeast(f64),
}

/// The target of each metric (DESIGN §6).
pub fn target(name: MetricName) -> Bound {
    match name {
        MetricName::TimelineSlippage => Bound::AtMost(0.10),
        MetricName::RiskCoverage => Bound::AtLeast(0.90),
        MetricName::StakeholderSatisfaction => Bound::AtLeast(0.80),
        MetricName::ShortlistQuality => Bound::AtLeast(0.80),
        MetricName::BudgetFit => Bound::AtLeast(0.95),
        MetricName::ConfirmedHolds => Bound::AtLeast(2.0),
        MetricName::BudgetVariance => Bound::AtMost(0.05),
        MetricName::SavingsIdentified => Bound::AtLeast(0.10),
        MetricName::RiskReserveAdequacy => Bound::AtLeast(0.90),
        MetricName::OnTimeTaskRate => Bound::AtLeast(0.95),
        MetricName::IncidentResolutionTime => Bound::AtMost(15.0),
        MetricName::UtilizationBalance => Bound::AtLeast(0.80),
        MetricName::ContingencyEffectiveness => Bound::AtLeast(1.0),
    }
}
