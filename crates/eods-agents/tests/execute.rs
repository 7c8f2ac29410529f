//! Execute (DESIGN §7): injected incidents run their contingency response on the simulated
//! clock and leave a valid, conflict-free plan; a metric breach raises its mitigation.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

mod common;

use common::{example, plan_at, run_on};
use eods_agents::{Directives, Step, Tools};
use eods_domain::artifact::CatalogType;
use eods_domain::blackboard::{Blackboard, Current};
use eods_domain::catalog::execution::{IncidentLog, IncidentStatus, Postmortem, Runbook};
use eods_domain::catalog::logistics::{IncidentKind, Injection, Schedule};
use eods_domain::instruction::Level;
use eods_domain::lifecycle::schedule_conflicts;

fn planned() -> Blackboard {
    plan_at(
        example("s03-large-event.json"),
        Level::Advanced,
        &Step::PLANNING,
    )
    .unwrap()
}

fn execute(bb: &mut Blackboard, incidents: Vec<Injection>) -> Vec<eods_agents::StepOutput> {
    let directives = Directives {
        seed: 11,
        incidents,
        ..Directives::default()
    };
    run_on(
        &Tools::bundled().unwrap(),
        bb,
        Level::Advanced,
        &directives,
        &[Step::Execute, Step::Postmortem],
    )
    .unwrap()
}

fn valid(bb: &Blackboard) {
    for c in bb.iter() {
        let v = eods_domain::validate::validate_payload(&c.payload);
        assert!(v.is_empty(), "{}: {v:?}", c.payload.artifact_type());
    }
    assert!(eods_domain::validate::validate_references(bb).is_empty());
    let s = bb.get::<Schedule>().unwrap();
    assert!(
        schedule_conflicts(s).is_empty(),
        "{:?}",
        schedule_conflicts(s)
    );
    for (i, x) in s.sessions.iter().enumerate() {
        for y in &s.sessions[i + 1..] {
            if x.speakers.iter().any(|p| y.speakers.contains(p)) {
                assert!(x.end <= y.start || y.end <= x.start, "{} / {}", x.id, y.id);
            }
        }
    }
}

#[test]
fn weather_postpones_the_next_sessions_within_the_resolution_target() {
    let mut bb = planned();
    let before = bb.get::<Schedule>().unwrap().clone();
    execute(
        &mut bb,
        vec![Injection {
            kind: IncidentKind::Weather,
            at_minutes: Some(30),
            reported_at: None,
        }],
    );
    let log = bb.get::<IncidentLog>().unwrap();
    let i = &log.incidents[0];
    assert_eq!(i.status, IncidentStatus::Resolved);
    assert!(i.resolved_by_contingency);
    let minutes = (i.resolved_at.unwrap() - i.detected_at).num_minutes();
    assert!(minutes <= 15, "{minutes} min");
    // The schedule has a new revision in which the sessions due within the hour start later.
    assert_eq!(
        bb.revision(eods_domain::artifact::ArtifactType::Schedule),
        Some(2)
    );
    let after = bb.get::<Schedule>().unwrap();
    let moved: Vec<_> = before
        .sessions
        .iter()
        .zip(&after.sessions)
        .filter(|(a, b)| a.start != b.start)
        .collect();
    assert!(!moved.is_empty());
    for (a, b) in &moved {
        assert!(b.start - a.start >= chrono::Duration::minutes(30));
        assert_eq!(b.end - b.start, a.end - a.start);
        assert!(
            a.start >= i.detected_at && a.start < i.detected_at + chrono::Duration::minutes(60)
        );
    }
    valid(&bb);
}

#[test]
fn a_lost_venue_is_replaced_and_the_program_re_solved_without_conflicts() {
    let mut bb = planned();
    execute(
        &mut bb,
        vec![Injection {
            kind: IncidentKind::VenueUnavailable,
            at_minutes: Some(120),
            reported_at: None,
        }],
    );
    let i = &bb.get::<IncidentLog>().unwrap().incidents[0];
    assert_eq!(i.status, IncidentStatus::Resolved, "{:?}", i.response);
    assert!(
        i.response
            .iter()
            .any(|r| r.contains("re-solved with the fewest changes (proven optimal)")),
        "{:?}",
        i.response
    );
    valid(&bb);
}

#[test]
fn the_same_seed_gives_the_same_run() {
    let run = || {
        let mut bb = planned();
        execute(
            &mut bb,
            vec![
                Injection {
                    kind: IncidentKind::VendorCancellation,
                    at_minutes: None,
                    reported_at: None,
                },
                Injection {
                    kind: IncidentKind::Weather,
                    at_minutes: Some(200),
                    reported_at: None,
                },
            ],
        );
        (
            bb.get::<IncidentLog>().unwrap().clone(),
            bb.get::<Runbook>().unwrap().clone(),
        )
    };
    assert_eq!(run(), run());
}

#[test]
fn an_incident_without_a_scenario_is_escalated_and_a_breach_raises_its_mitigation() {
    let mut bb = planned();
    // Run Execute, then let every task finish five days late before the postmortem.
    let directives = Directives {
        seed: 11,
        incidents: vec![Injection {
            kind: IncidentKind::MedicalEmergency,
            at_minutes: Some(45),
            reported_at: None,
        }],
        ..Directives::default()
    };
    let tools = Tools::bundled().unwrap();
    run_on(
        &tools,
        &mut bb,
        Level::Advanced,
        &directives,
        &[Step::Execute],
    )
    .unwrap();
    let i = &bb.get::<IncidentLog>().unwrap().incidents[0];
    assert_eq!(i.status, IncidentStatus::Escalated);
    assert!(!i.resolved_by_contingency);
    let mut runbook = bb.get::<Runbook>().unwrap().clone();
    for e in &mut runbook.entries {
        e.completed_on = Some(e.planned_end + chrono::Duration::days(5));
    }
    let revision = bb
        .revision(eods_domain::artifact::ArtifactType::Runbook)
        .unwrap()
        + 1;
    bb.insert(Current {
        revision,
        created_by: "user:test".into(),
        derived_from: vec![],
        payload: runbook.into_payload(),
    });
    let out = run_on(
        &tools,
        &mut bb,
        Level::Advanced,
        &directives,
        &[Step::Postmortem],
    )
    .unwrap();
    let raised = &out[0].raised;
    assert!(
        raised.iter().any(|r| r
            .description
            .starts_with("on_time_task_rate breached its target")),
        "{raised:?}"
    );
    let stakeholders = bb
        .get::<eods_domain::catalog::planning::StakeholderMap>()
        .unwrap();
    for r in raised {
        assert!(
            stakeholders
                .stakeholders
                .iter()
                .any(|s| s.id.as_str() == r.owner),
            "{r:?}"
        );
    }
    let pm = bb.get::<Postmortem>().unwrap();
    assert!(
        pm.insights
            .iter()
            .any(|s| s.starts_with("Mitigation raised for on_time_task_rate"))
    );
    assert!(
        pm.insights
            .iter()
            .any(|s| s.contains("had no contingency scenario"))
    );
}
