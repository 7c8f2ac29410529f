//! Execute and Postmortem: a seeded, deterministic simulation of the run-up and the event days
//! (task completions, spend, injected incidents handled by the contingency plan), and the
//! postmortem that measures every metric of DESIGN §6 against its target.

use crate::{AgentError, StepInput, StepOutput};
use chrono::{DateTime, Duration, FixedOffset, NaiveTime, TimeZone};
use eods_domain::artifact::CatalogType;
use eods_domain::catalog::brief::EventBrief;
use eods_domain::catalog::budget::{BudgetBaseline, BudgetCategory, CostModel};
use eods_domain::catalog::execution::{
    Incident, IncidentLog, IncidentStatus, MetricResult, MilestoneActual, Postmortem, Runbook,
    RunbookEntry, Spend,
};
use eods_domain::catalog::logistics::{
    ContingencyPlan, IncidentKind, ResourceRoster, Schedule, VendorContracts,
};
use eods_domain::catalog::planning::{
    RiskRegister, RiskStatus, TaskRegister, TaskStatus, Timeline,
};
use eods_domain::catalog::venue::{VenueAvailability, VenueScorecard, VenueShortlist};
use eods_domain::ids::IncidentId;
use eods_domain::metrics::{self, MetricName, against, target};
use rust_decimal::Decimal;

/// SplitMix64: a small, fast, seedable generator; the same seed gives the same run everywhere.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform float in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Runbook and incident log from a seeded simulation; the risk register too when a risk occurred.
pub fn simulate(input: StepInput<'_>) -> Result<StepOutput, AgentError> {
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

    // Tasks: mostly on time or a little early; 3% run one or two days late.
    let entries: Vec<RunbookEntry> = tasks
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
            }
        })
        .collect();
    let milestones: Vec<MilestoneActual> = timeline
        .milestones
        .iter()
        .map(|m| {
            let actual = tasks
                .tasks
                .iter()
                .zip(&entries)
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
        .collect();

    // Spend: catering numbers move a little; other lines cost what was contracted.
    let planned: Decimal = cost
        .line_items
        .iter()
        .filter(|l| l.category != BudgetCategory::Contingency)
        .map(|l| l.total)
        .sum();
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

    // Incidents: each at its offset after the first session (default an hour in, then every 90
    // minutes), answered by the contingency scenario its kind triggers.
    let tz: chrono_tz::Tz = b.timezone.parse().unwrap_or(chrono_tz::UTC);
    let first_session = schedule.sessions.iter().map(|x| x.start).min();
    let opening = first_session.or_else(|| {
        tz.from_local_datetime(
            &b.date_range
                .start
                .and_time(NaiveTime::from_hms_opt(9, 0, 0).unwrap_or_default()),
        )
        .earliest()
        .map(|d| d.fixed_offset())
    });
    let mut response = Response {
        schedule: schedule.clone(),
        vendors: vendors.clone(),
        from_reserve: Decimal::ZERO,
        changed_schedule: false,
        changed_vendors: false,
    };
    let mut incidents = Vec::new();
    let mut occurred = Vec::new();
    for (i, injection) in input.directives.incidents.iter().enumerate() {
        let kind = injection.kind;
        let offset = injection
            .at_minutes
            .unwrap_or(60 + 90 * u32::try_from(i).unwrap_or(0));
        let Some(detected_at) = opening.map(|o| o + Duration::minutes(i64::from(offset))) else {
            continue;
        };
        let scenario = contingency
            .scenarios
            .iter()
            .find(|s| s.trigger.incident == kind);
        let incident = match scenario {
            Some(s) => {
                occurred.push(s.risk_id.clone());
                let mut steps = s.response_steps.clone();
                match respond(input, kind, detected_at, &mut response) {
                    Ok(done) => {
                        steps.extend(done);
                        Incident {
                            id: IncidentId::nth(i + 1),
                            kind,
                            description: format!(
                                "Simulated {} during the event: {}",
                                kind.as_str().replace('_', " "),
                                s.trigger.condition
                            ),
                            detected_at,
                            scenario_id: Some(s.id.clone()),
                            response: steps,
                            status: IncidentStatus::Resolved,
                            resolved_at: Some(
                                detected_at + Duration::minutes(i64::from(s.response_minutes)),
                            ),
                            resolved_by_contingency: true,
                        }
                    }
                    Err(why) => {
                        steps.push(format!("Response failed: {why}; escalated to the owner"));
                        Incident {
                            id: IncidentId::nth(i + 1),
                            kind,
                            description: format!(
                                "Simulated {}: the prepared response could not run",
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
            None => Incident {
                id: IncidentId::nth(i + 1),
                kind,
                description: format!(
                    "Simulated {} with no matching contingency scenario",
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
        incidents.push(incident);
    }
    let from_reserve = response.from_reserve;
    actual += from_reserve;
    let runbook = Runbook {
        simulation_seed: Some(seed),
        entries,
        milestones,
        event_ended: true,
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
    let mut artifacts = vec![
        runbook.into_payload(),
        IncidentLog {
            incidents: incidents.clone(),
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
    Ok(StepOutput {
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
    input: StepInput<'_>,
    kind: IncidentKind,
    at: DateTime<FixedOffset>,
    r: &mut Response,
) -> Result<Vec<String>, String> {
    match kind {
        IncidentKind::VendorCancellation => {
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
        IncidentKind::VenueUnavailable => {
            // The runner-up of the shortlist takes over; every session keeps its time and moves to
            // the backup's room of the same rank (the shortlist only holds venues with a room per track).
            let shortlist = input.need::<VenueShortlist>().map_err(|e| e.to_string())?;
            let scorecard = input.need::<VenueScorecard>().map_err(|e| e.to_string())?;
            let backup = scorecard
                .ranking
                .iter()
                .filter(|c| {
                    **c != scorecard.selected_candidate_id && !scorecard.excluded.contains(c)
                })
                .find_map(|c| shortlist.candidates.iter().find(|x| &x.id == c))
                .ok_or("no runner-up venue on the shortlist")?;
            let venue = input
                .tools
                .catalog
                .venues
                .iter()
                .find(|v| v.id == backup.venue_ref)
                .ok_or("runner-up venue not in the catalog")?;
            let rooms = venue.rooms_by_size();
            if rooms.len() < r.schedule.rooms.len() {
                return Err(format!(
                    "{} has {} rooms, the schedule needs {}",
                    venue.name,
                    rooms.len(),
                    r.schedule.rooms.len()
                ));
            }
            for (room, new) in r.schedule.rooms.iter_mut().zip(rooms) {
                room.name = format!("{} — {}", venue.name, new.name);
                room.capacity = new.capacity;
            }
            let moved = r.schedule.sessions.iter().filter(|x| x.end > at).count();
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
                "{} ({}) activated; {moved} remaining session(s) keep their times in rooms of the same rank",
                venue.name, backup.id
            )])
        }
        IncidentKind::SpeakerNoShow => {
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
        IncidentKind::Weather
        | IncidentKind::AvFailure
        | IncidentKind::Overcapacity
        | IncidentKind::MedicalEmergency
        | IncidentKind::BudgetOverrun
        | IncidentKind::LowAttendance
        | IncidentKind::DeadlineMissed => Ok(vec![]),
    }
}

/// Every metric against its target, approval latency, and insights.
pub fn postmortem(input: StepInput<'_>) -> Result<StepOutput, AgentError> {
    let level = input.level;
    let timeline = input.need::<Timeline>()?;
    let risks = input.need::<RiskRegister>()?;
    let contingency = input.need::<ContingencyPlan>()?;
    let shortlist = input.need::<VenueShortlist>()?;
    let scorecard = input.need::<VenueScorecard>()?;
    let availability = input.need::<VenueAvailability>()?;
    let baseline = input.need::<BudgetBaseline>()?;
    let cost = input.need::<CostModel>()?;
    let roster = input.need::<ResourceRoster>()?;
    let runbook = input.need::<Runbook>()?;
    let incidents = input.need::<IncidentLog>()?;
    let m = |name: MetricName, value: Option<f64>, detail: String| {
        against(name, value, target(name), level, detail)
    };

    let (coverage, high_ok) = metrics::risk_coverage(risks, Some(contingency));
    let mut coverage_result = m(
        MetricName::RiskCoverage,
        Some(coverage),
        format!(
            "{} risks, every high risk covered: {high_ok}",
            risks.risks.len()
        ),
    );
    if !high_ok {
        coverage_result.met = Some(false);
    }
    let variance = runbook
        .spend
        .as_ref()
        .map(|s| metrics::budget_variance(s.actual, s.planned));
    let resolution = metrics::incident_resolution_minutes(&incidents.incidents);
    let results: Vec<MetricResult> = vec![
        m(
            MetricName::TimelineSlippage,
            Some(metrics::timeline_slippage(
                timeline.plan_start,
                &runbook.milestones,
            )),
            "largest milestone delay ÷ its planned span".into(),
        ),
        coverage_result,
        MetricResult {
            name: MetricName::StakeholderSatisfaction,
            value: None,
            target: ">= 0.8".into(),
            met: None,
            detail: "not measured: no feedback survey results were submitted".into(),
        },
        m(
            MetricName::ShortlistQuality,
            Some(metrics::shortlist_quality(shortlist, scorecard)),
            format!(
                "mean scorecard total of {} shortlisted venues",
                shortlist.candidates.len()
            ),
        ),
        m(
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
        m(
            MetricName::ConfirmedHolds,
            Some(metrics::confirmed_holds(availability) as f64),
            "venues with an active hold".into(),
        ),
        m(
            MetricName::BudgetVariance,
            variance,
            runbook.spend.as_ref().map_or_else(
                || "no spend recorded".into(),
                |s| {
                    format!(
                        "actual {} vs planned {} {} ({} from reserve)",
                        s.actual, s.planned, s.currency, s.from_reserve
                    )
                },
            ),
        ),
        m(
            MetricName::SavingsIdentified,
            Some(metrics::savings_identified(cost)),
            "against the first quote for every line".into(),
        ),
        m(
            MetricName::RiskReserveAdequacy,
            Some(metrics::risk_reserve_adequacy(baseline.reserve, risks)),
            format!(
                "reserve {} vs expected loss {}",
                baseline.reserve,
                metrics::expected_loss(risks).round_dp(2)
            ),
        ),
        m(
            MetricName::OnTimeTaskRate,
            Some(metrics::on_time_task_rate(&runbook.entries)),
            format!("{} tasks completed", runbook.entries.len()),
        ),
        m(
            MetricName::IncidentResolutionTime,
            resolution.map(|(max, _)| max),
            resolution.map_or_else(
                || "no incident was resolved".into(),
                |(max, p95)| format!("max {max:.0} min, p95 {p95:.0} min"),
            ),
        ),
        m(
            MetricName::UtilizationBalance,
            metrics::utilization_balance(roster),
            "mean ÷ max utilisation of staff".into(),
        ),
        m(
            MetricName::ContingencyEffectiveness,
            metrics::contingency_effectiveness(&incidents.incidents),
            "incidents resolved by the scenario they fired".into(),
        ),
    ];
    let mut insights = Vec::new();
    for r in &results {
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
    for i in &incidents.incidents {
        insights.push(match (&i.scenario_id, i.resolved_at) {
            (Some(s), Some(r)) => format!(
                "{} ({}) was resolved in {} min by contingency {s}; keep that arrangement.",
                i.id,
                i.kind.as_str(),
                (r - i.detected_at).num_minutes()
            ),
            _ => format!(
                "{} ({}) had no contingency scenario and was escalated; add a scenario for it.",
                i.id,
                i.kind.as_str()
            ),
        });
    }
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
