//! Every gate of DESIGN §4 against a real plan (the S-02 brief run through the agents): each gate
//! passes on the plan as produced and fails, naming the problem, after one targeted change.
//! Also: transitions never skip a missing artifact, and schedules never double-book.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use eods_agents::Step;
use eods_domain::artifact::ArtifactType;
use eods_domain::artifact::CatalogType;
use eods_domain::blackboard::{Blackboard, Current};
use eods_domain::catalog::brief::{EventBrief, ProgramItem, StakeholderRole};
use eods_domain::catalog::budget::{BudgetBaseline, CostModel};
use eods_domain::catalog::execution::{Incident, IncidentLog, IncidentStatus, Runbook};
use eods_domain::catalog::logistics::{
    ContingencyPlan, IncidentKind, LogisticsPlan, ResourceRoster, ResourceType, Schedule,
};
use eods_domain::catalog::planning::{RiskRegister, StakeholderMap, TaskRegister, Timeline};
use eods_domain::catalog::venue::{VenueScorecard, VenueShortlist};
use eods_domain::ids::{IncidentId, MilestoneId, SessionId, TaskId};
use eods_domain::instruction::Level;
use eods_domain::lifecycle::{
    ApprovalGate, ApprovalState, ApprovalStatus, Gate, GateInput, LifecycleState, check_transition,
    evaluate_gate, schedule_conflicts,
};
use proptest::prelude::*;
use rust_decimal::Decimal;

mod common;

fn s02() -> EventBrief {
    common::example("s02-conference.json")
}

/// Runs the steps in order at Intermediate and returns the blackboard, or the first step's error.
fn plan(brief: EventBrief, steps: &[Step]) -> Result<Blackboard, eods_agents::AgentError> {
    common::plan_at(brief, Level::Intermediate, steps)
}

fn full() -> Blackboard {
    plan(s02(), &Step::ALL[..6]).unwrap()
}

fn approved(bb: &Blackboard) -> Vec<ApprovalState> {
    ApprovalGate::ALL
        .into_iter()
        .map(|g| ApprovalState {
            gate: g,
            artifact_revision: bb.revision(g.artifact_type()).unwrap(),
            status: ApprovalStatus::Approved,
        })
        .collect()
}

/// Changes one payload in place, keeping its revision.
fn edit<T: CatalogType + Clone>(bb: &mut Blackboard, f: impl FnOnce(&mut T)) {
    let c = bb.current(T::TYPE).unwrap().clone();
    let mut t = bb.get::<T>().unwrap().clone();
    f(&mut t);
    bb.insert(Current {
        payload: t.into_payload(),
        ..c
    });
}

type Mutation = fn(&mut Blackboard, &mut Vec<ApprovalState>);

/// `check(gate, break_it, expected)`: the gate passes on the real plan, fails after `break_it`,
/// and the failure says `expected`.
fn check(gate: Gate, break_it: Mutation, expected: &str) {
    let mut bb = full();
    let mut approvals = approved(&bb);
    let good = evaluate_gate(
        gate,
        GateInput {
            blackboard: &bb,
            level: Level::Intermediate,
            approvals: &approvals,
        },
    );
    assert!(
        good.is_empty(),
        "{gate} fails on the produced plan: {good:?}"
    );
    break_it(&mut bb, &mut approvals);
    let bad = evaluate_gate(
        gate,
        GateInput {
            blackboard: &bb,
            level: Level::Intermediate,
            approvals: &approvals,
        },
    );
    assert!(
        bad.iter().any(|p| p.contains(expected)),
        "{gate}: expected `{expected}` in {bad:?}"
    );
}

#[test]
fn every_gate_passes_the_plan_and_fails_when_broken() {
    let cases: Vec<(Gate, Mutation, &str)> = vec![
        (
            Gate::BriefComplete,
            |bb, _| edit::<EventBrief>(bb, |b| b.audience_size = 0),
            "audience_size",
        ),
        (
            Gate::HasOwner,
            |bb, _| {
                edit::<StakeholderMap>(bb, |m| {
                    m.stakeholders
                        .iter_mut()
                        .for_each(|s| s.role = StakeholderRole::Volunteer)
                })
            },
            "no stakeholder with role owner",
        ),
        (
            Gate::MilestonesPresent,
            |bb, _| edit::<Timeline>(bb, |t| t.milestones.clear()),
            "no milestones",
        ),
        (
            Gate::DependenciesPresent,
            |bb, _| {
                edit::<Timeline>(bb, |t| t.dependencies.clear());
                edit::<TaskRegister>(bb, |t| {
                    t.tasks.iter_mut().for_each(|x| x.depends_on.clear())
                });
            },
            "no task dependencies",
        ),
        (
            Gate::CriticalPathPresent,
            |bb, _| edit::<Timeline>(bb, |t| t.critical_path.clear()),
            "no critical path",
        ),
        (
            Gate::NoOrphanTask,
            |bb, _| {
                edit::<TaskRegister>(bb, |t| {
                    t.tasks[2].milestone_id = MilestoneId::from("milestone-99")
                })
            },
            "belongs to no milestone",
        ),
        (
            Gate::NoOrphanTask,
            |bb, _| {
                edit::<TaskRegister>(bb, |t| t.tasks[0].depends_on.push(TaskId::from("task-11")))
            },
            "cycle",
        ),
        (
            Gate::HighRisksMitigated,
            |bb, _| {
                edit::<RiskRegister>(bb, |r| {
                    r.risks
                        .iter_mut()
                        .filter(|x| x.is_high())
                        .for_each(|x| x.mitigation.clear())
                })
            },
            "has no mitigation",
        ),
        (
            Gate::ShortlistSize,
            |bb, _| edit::<VenueShortlist>(bb, |s| s.candidates.truncate(2)),
            "at least 3",
        ),
        (
            Gate::WeightsSumToOne,
            |bb, _| {
                edit::<VenueScorecard>(bb, |s| {
                    s.criteria_weights.values_mut().for_each(|w| *w *= 2.0)
                })
            },
            "not 1",
        ),
        (
            Gate::EveryCandidateScored,
            |bb, _| {
                edit::<VenueScorecard>(bb, |s| {
                    s.candidate_scores.pop();
                })
            },
            "is not scored",
        ),
        (
            Gate::RationalePresent,
            |bb, _| edit::<VenueScorecard>(bb, |s| s.selection_rationale.clear()),
            "no rationale",
        ),
        (
            Gate::SelectedVenueMeetsCapacity,
            |bb, _| edit::<EventBrief>(bb, |b| b.audience_size = 100_000),
            "but the audience is 100000",
        ),
        (
            Gate::AllocationsSumToTotal,
            |bb, _| edit::<BudgetBaseline>(bb, |b| b.allocations[0].amount += Decimal::ONE),
            "allocations sum to",
        ),
        (
            Gate::LineItemsConsistent,
            |bb, _| edit::<CostModel>(bb, |c| c.line_items[0].total += Decimal::ONE),
            "≠",
        ),
        (
            Gate::VarianceWithinRule,
            |bb, a| {
                edit::<CostModel>(bb, |c| c.total *= Decimal::TWO);
                a.retain(|x| x.gate != ApprovalGate::BudgetDecision);
            },
            "no budget approval is requested",
        ),
        (
            Gate::WorkflowsLinked,
            |bb, _| edit::<LogisticsPlan>(bb, |p| p.workflows[0].task_ids.clear()),
            "linked to no task",
        ),
        (
            Gate::ScheduleConflictFree,
            |bb, _| {
                edit::<Schedule>(bb, |s| {
                    let mut twin = s.sessions[0].clone();
                    twin.id = SessionId::from("session-999");
                    s.sessions.push(twin);
                })
            },
            "double-booked",
        ),
        (
            Gate::ScheduleWithinDates,
            |bb, _| edit::<Schedule>(bb, |s| s.sessions[0].start -= chrono::Duration::days(30)),
            "lies outside",
        ),
        (
            Gate::RosterWithinAvailability,
            |bb, _| {
                edit::<ResourceRoster>(bb, |r| {
                    let p = r
                        .resources
                        .iter_mut()
                        .find(|x| {
                            x.resource_type == ResourceType::Person && !x.assignments.is_empty()
                        })
                        .unwrap();
                    p.availability.clear();
                })
            },
            "outside their availability",
        ),
        (
            Gate::HighRisksHaveContingency,
            |bb, _| edit::<ContingencyPlan>(bb, |c| c.scenarios.clear()),
            "no contingency scenario",
        ),
        (
            Gate::ApprovalsGranted,
            |_, a| a[1].status = ApprovalStatus::Pending,
            "budget_decision is pending",
        ),
        (
            Gate::ApprovalsGranted,
            |_, a| a[0].artifact_revision = 99,
            "venue_selection has no approval for the current revision",
        ),
        (
            Gate::NoStaleArtifact,
            |bb, _| {
                let c = bb.current(ArtifactType::EventBrief).unwrap().clone();
                bb.insert(Current { revision: 2, ..c });
            },
            "no longer current",
        ),
        (
            Gate::EventEnded,
            |bb, _| edit::<Runbook>(bb, |r| r.event_ended = false),
            "has not ended",
        ),
        (
            Gate::IncidentsClosed,
            |bb, _| {
                edit::<IncidentLog>(bb, |l| {
                    l.incidents.push(Incident {
                        id: IncidentId::nth(9),
                        kind: IncidentKind::AvFailure,
                        description: "projector".into(),
                        detected_at: chrono::DateTime::parse_from_rfc3339(
                            "2027-06-09T10:00:00+02:00",
                        )
                        .unwrap(),
                        scenario_id: None,
                        response: vec![],
                        status: IncidentStatus::Open,
                        resolved_at: None,
                        resolved_by_contingency: false,
                    })
                })
            },
            "neither resolved nor escalated",
        ),
    ];
    let covered: std::collections::BTreeSet<Gate> = cases.iter().map(|c| c.0).collect();
    for state in LifecycleState::ALL {
        for g in eods_domain::lifecycle::gates_for(state) {
            assert!(covered.contains(g), "gate {g} has no test case");
        }
    }
    for (gate, break_it, expected) in cases {
        check(gate, break_it, expected);
    }
}

#[test]
fn the_produced_plan_passes_every_transition() {
    let bb = full();
    let approvals = approved(&bb);
    let input = GateInput {
        blackboard: &bb,
        level: Level::Intermediate,
        approvals: &approvals,
    };
    for state in &LifecycleState::ALL[..7] {
        assert_eq!(
            check_transition(*state, input),
            Ok(state.next().unwrap()),
            "{state}"
        );
    }
}

#[test]
fn a_blocked_transition_names_what_is_missing_and_what_failed() {
    // Planning stopped after Intake: Plan → Research lacks every Plan artifact.
    let bb = plan(s02(), &[Step::Intake]).unwrap();
    let input = GateInput {
        blackboard: &bb,
        level: Level::Intermediate,
        approvals: &[],
    };
    let blocked = check_transition(LifecycleState::Plan, input).unwrap_err();
    assert_eq!(blocked.to, LifecycleState::Research);
    assert_eq!(
        blocked.missing,
        vec![
            ArtifactType::Timeline,
            ArtifactType::TaskRegister,
            ArtifactType::RiskRegister
        ]
    );
    assert!(
        blocked
            .failed
            .iter()
            .any(|f| f.gate == Gate::MilestonesPresent)
    );
    let text = blocked.to_string();
    assert!(
        text.contains("missing: timeline, task_register, risk_register"),
        "{text}"
    );
    // Confirm without approvals is blocked by the approvals gate alone.
    let bb = full();
    let input = GateInput {
        blackboard: &bb,
        level: Level::Intermediate,
        approvals: &[],
    };
    let blocked = check_transition(LifecycleState::Confirm, input).unwrap_err();
    assert_eq!(
        blocked.failed.iter().map(|f| f.gate).collect::<Vec<_>>(),
        vec![Gate::ApprovalsGranted]
    );
}

#[test]
fn beginner_briefs_with_unaffordable_criteria_are_refused_with_alternatives() {
    let mut b = s02();
    b.budget.total = Decimal::from(2000);
    match plan(b, &[Step::Intake, Step::Plan, Step::Research]) {
        Err(eods_agents::AgentError::Infeasible {
            reason,
            alternatives,
        }) => {
            assert!(reason.contains("fit the venue budget"), "{reason}");
            assert!(!alternatives.is_empty());
        }
        other => panic!("expected infeasible, got {:?}", other.map(|_| ())),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Whatever the program, a produced schedule never double-books a room, a resource or a
    /// speaker, and stays within the event dates; a program that cannot fit is refused, not mangled.
    #[test]
    fn schedules_never_double_book(n in 1usize..70, tracks in 1u32..4, speakers in proptest::collection::vec(0usize..10, 70), minutes in proptest::collection::vec(prop_oneof![Just(20u32), Just(30), Just(45), Just(60)], 70)) {
        let mut b = s02();
        b.tracks = tracks;
        b.program = (0..n).map(|i| ProgramItem {
            title: format!("Talk {i}"),
            track: Some(format!("T{}", i % tracks as usize)),
            duration_minutes: minutes[i],
            speakers: vec![format!("speaker-{}", speakers[i])],
            start: None,
            day: None,
            plenary: false,
        }).collect();
        match plan(b.clone(), &Step::PLANNING) {
            Ok(bb) => {
                let s = bb.get::<Schedule>().unwrap();
                prop_assert_eq!(s.sessions.len(), n);
                prop_assert!(schedule_conflicts(s).is_empty(), "{:?}", schedule_conflicts(s));
                for x in &s.sessions {
                    prop_assert!(x.start.date_naive() >= b.first_day() && x.end.date_naive() <= b.last_day());
                    for y in &s.sessions {
                        if x.id != y.id && x.speakers == y.speakers {
                            prop_assert!(x.end <= y.start || y.end <= x.start, "speaker double-booked: {} and {}", x.id, y.id);
                        }
                    }
                }
            }
            Err(eods_agents::AgentError::Infeasible { reason, .. }) => prop_assert!(reason.contains("does not fit"), "{}", reason),
            Err(e) => prop_assert!(false, "unexpected error {e}"),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Any brief that passes intake goes through every planning step, or stops with a named
    /// reason; no step panics, and whatever is produced passes semantic validation.
    #[test]
    fn any_valid_brief_plans_or_says_why(
        audience in prop_oneof![1u32..60, 60u32..400, 400u32..3000, 3000u32..1_000_000],
        tracks in prop_oneof![1u32..4, 4u32..40],
        days in 1i64..31,
        total in prop_oneof![1u64..2000, 2000u64..100_000, 100_000u64..5_000_000],
        city in prop_oneof![Just("Berlin"), Just("Amsterdam"), Just("London"), Just("Lisbon"), Just("Atlantis")],
        kind in prop_oneof![Just("meetup"), Just("conference"), Just("workshop"), Just("gala"), Just("festival"), Just("other")],
        with_program in any::<bool>(),
    ) {
        let mut v = serde_json::to_value(s02()).unwrap();
        v["audience_size"] = audience.into();
        v["tracks"] = tracks.into();
        v["budget"]["total"] = total.into();
        v["location"]["city"] = city.into();
        v["event_type"] = kind.into();
        let start: chrono::NaiveDate = v["date_range"]["start"].as_str().unwrap().parse().unwrap();
        let end = start + chrono::Duration::days(days - 1);
        v["date_range"]["end"] = end.to_string().into();
        if !with_program {
            v["program"] = serde_json::json!([]);
        }
        let brief = eods_domain::intake::brief_from_value(v).unwrap();
        match plan(brief, &Step::PLANNING) {
            Ok(bb) => {
                for c in bb.iter() {
                    let violations = eods_domain::validate::validate_payload(&c.payload);
                    prop_assert!(violations.is_empty(), "{}: {violations:?}", c.payload.artifact_type());
                }
                prop_assert!(eods_domain::validate::validate_references(&bb).is_empty());
            }
            Err(eods_agents::AgentError::Infeasible { reason, .. }) => prop_assert!(!reason.is_empty()),
            // A city without venue data asks for it, naming every way to give it.
            Err(eods_agents::AgentError::NeedsInput { reason, asks, .. }) => {
                prop_assert!(reason.contains("--venues") && reason.contains("import-osm"), "{reason}");
                prop_assert!(!asks.is_empty());
            }
            Err(e) => prop_assert!(false, "unexpected error: {e}"),
        }
    }
}

/// Perturbed versions of the three scenarios (audience ±30%, budget ×1–3, tracks ±1),
/// drawn from a fixed seed: most must plan completely, and every produced artifact is valid.
#[test]
fn perturbed_scenarios_mostly_plan_and_always_validate() {
    let mut rng = eods_agents::rng::SplitMix64::new(2027);
    let mut complete = 0;
    let runs = 90;
    for i in 0..runs {
        let name = [
            "s01-meetup.json",
            "s02-conference.json",
            "s03-large-event.json",
        ][i % 3];
        let text = std::fs::read_to_string(format!(
            "{}/../../examples/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let audience = v["audience_size"].as_f64().unwrap() * (0.7 + 0.6 * rng.next_f64());
        v["audience_size"] = (audience.round().max(1.0) as u64).into();
        let total = v["budget"]["total"].as_f64().unwrap() * (1.0 + 2.0 * rng.next_f64());
        v["budget"]["total"] = (total.round() as u64).into();
        let tracks = (v["tracks"].as_i64().unwrap() + (rng.next_u64() % 3) as i64 - 1).max(1);
        v["tracks"] = tracks.into();
        let brief = eods_domain::intake::brief_from_value(v).unwrap();
        match plan(brief, &Step::PLANNING) {
            Ok(bb) => {
                complete += 1;
                for c in bb.iter() {
                    let violations = eods_domain::validate::validate_payload(&c.payload);
                    assert!(
                        violations.is_empty(),
                        "run {i}: {}: {violations:?}",
                        c.payload.artifact_type()
                    );
                }
                assert!(
                    eods_domain::validate::validate_references(&bb).is_empty(),
                    "run {i}"
                );
                let input = GateInput {
                    blackboard: &bb,
                    level: Level::Intermediate,
                    approvals: &approved(&bb),
                };
                for state in &LifecycleState::ALL[..6] {
                    assert_eq!(
                        check_transition(*state, input).map_err(|b| b.to_string()),
                        Ok(state.next().unwrap()),
                        "run {i}"
                    );
                }
            }
            Err(eods_agents::AgentError::Infeasible { reason, .. }) => assert!(!reason.is_empty()),
            Err(e) => panic!("run {i}: unexpected error {e}"),
        }
    }
    assert!(
        complete * 10 >= runs * 8,
        "only {complete} of {runs} perturbed scenarios planned completely"
    );
}

/// Near midnight the time of day wraps: a session that would end after midnight does not fit,
/// and nothing is placed on top of an earlier session.
#[test]
fn the_solver_never_wraps_past_midnight() {
    use eods_agents::logistics::{Frame, Item, solve};
    use eods_domain::catalog::logistics::Room;
    let frame = Frame::uniform(
        chrono_tz::Europe::Berlin,
        &[chrono::NaiveDate::from_ymd_opt(2027, 12, 27).unwrap()],
        chrono::NaiveTime::from_hms_opt(20, 0, 0).unwrap(),
        chrono::NaiveTime::from_hms_opt(23, 59, 0).unwrap(),
        None,
        5,
    );
    let rooms = vec![Room {
        id: "room-1".into(),
        name: "Ada".into(),
        capacity: 100,
    }];
    let item = |m: u32| Item {
        title: format!("{m} min"),
        track: "T".into(),
        minutes: m,
        ..Item::default()
    };
    let placed = solve(&[item(120), item(110)], &rooms, &frame).unwrap();
    assert_eq!(placed[1].start.format("%H:%M").to_string(), "22:05");
    assert!(placed[0].end <= placed[1].start);
    let err = solve(&[item(120), item(120)], &rooms, &frame).unwrap_err();
    assert!(err.to_string().contains("does not fit"), "{err}");
}
