//! The builders are pure in what matters: from an event held in memory they compute the commits
//! of every action up to the first wait point, with no database read or write. S-01 is built
//! from its brief to its first approval request entirely in memory, and what each commit would
//! write (keys, artifacts and what they derive from, log entries, requests, statuses) is compared
//! with a reviewed snapshot (`snapshots/`). Payloads are left out: the engine tests compare them
//! (the same brief gives the same plan); ids and durations are blanked, and the clock is fixed.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use crate::decide::{Action, next_action};
use crate::{Clock, Creation, Engine, RunOptions, Staged};
use chrono::{DateTime, TimeZone, Utc};
use eods_store::{Commit, Store};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// Starts at a fixed instant and moves one second per reading.
struct Ticking(AtomicI64);
impl Clock for Ticking {
    fn now(&self) -> DateTime<Utc> {
        let s = self.0.fetch_add(1, Ordering::SeqCst);
        Utc.timestamp_opt(1_800_000_000 + s, 0)
            .single()
            .unwrap_or_default()
    }
}

/// What a commit writes, without payloads, ids or durations.
fn digest(c: &Commit) -> Value {
    json!({
        "step_key": c.step_key,
        "creates_event": c.create_event.is_some(),
        "artifacts": c.artifacts.iter().map(|a| json!({
            "type": a.artifact_type.as_str(),
            "revision": a.revision,
            "created_by": a.created_by,
            "derived_from": a.derived_from.iter()
                .map(|r| format!("{}@{}", r.artifact_type, r.revision))
                .collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "decisions": c.decisions.iter().map(|d| json!({
            "id": d.id.to_string(),
            "type": d.decision_type,
            "owner": d.owner,
            "description": d.description,
        })).collect::<Vec<_>>(),
        "changes": c.changes.iter().map(|ch| ch.description.clone()).collect::<Vec<_>>(),
        "approval_requests": c.approval_requests.iter().map(|a| json!({
            "gate": a.gate.as_str(),
            "revision": a.artifact_revision,
            "deadline_after_s": (a.deadline - a.requested_at).num_seconds(),
        })).collect::<Vec<_>>(),
        "outbox": c.outbox.iter().map(|o| o.dedupe_key.split(':').next().unwrap_or("").to_owned()).collect::<Vec<_>>(),
        "status": c.status.as_ref().map(|s| format!("{}/{}", s.state, s.run_status)),
    })
}

#[tokio::test]
async fn s01_is_built_in_memory_from_its_brief_to_its_first_approval_request() {
    // A store the builders never touch (the engine needs one to exist).
    let store = Store::connect("sqlite::memory:").await.unwrap();
    let engine = Engine::new(store, Arc::new(eods_agents::Tools::bundled().unwrap()))
        .with_clock(Arc::new(Ticking(AtomicI64::new(0))));
    let path = format!(
        "{}/../../examples/s01-meetup.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let brief: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let options = RunOptions {
        submitted_by: "user:organiser".into(),
        ..RunOptions::default()
    };
    let (mut l, commits) = engine
        .prepare_create(brief, &options, Creation::default())
        .await
        .unwrap();
    let mut staged = Staged {
        commits,
        ..Staged::default()
    };
    l.snap.event.run_status = eods_domain::lifecycle::RunStatus::Running;
    let mut waits_for = None;
    for _ in 0..100 {
        let built = match next_action(l.decision_input(engine.clock().now())) {
            Action::RunStep(step) => engine.build_step(&l, step, "correlation", None).unwrap(),
            Action::Advance { from, to } => engine.build_advance(&l, from, to, "correlation"),
            other => {
                waits_for = Some(format!("{other:?}"));
                break;
            }
        };
        assert!(
            engine.stage(&mut l, &mut staged, built).unwrap().is_none(),
            "S-01 does not stop before its approvals"
        );
    }
    assert_eq!(waits_for.as_deref(), Some("AwaitApproval"));
    let digests: Vec<Value> = staged.commits.iter().map(digest).collect();
    insta::assert_json_snapshot!(digests);
}
