//! `eods replay` (issue 16): a recorded event re-run offline from its record reproduces every
//! artifact revision byte for byte — S-01..S-03 with approvals and a rejection, and an event
//! whose record holds people's inputs made between runs (an amendment, an edit, a start, a
//! decision in the inbox). A changed record is reported as the first differing revision. On
//! every test database. Also: the summaries approvers read state only figures the artifacts hold.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use eods_agents::Tools;
use eods_domain::artifact::ArtifactType;
use eods_domain::catalog::sources::GatheredVenues;
use eods_domain::ids::EventId;
use eods_domain::lifecycle::{ApprovalDecision, ApprovalGate, RunStatus};
use eods_engine::replay::{Recording, ReplayReport};
use eods_engine::{Answer, Approver, Creation, Engine, PendingApproval, Quiet, RunCommand};
use eods_engine::{RunOptions, test_support};
use eods_store::Store;
use eods_store::keys::KeyConfig;
use eods_store::test_support::test_stores;
use serde_json::{Value, json};
use std::sync::Arc;

fn brief(name: &str) -> Value {
    let path = format!("{}/../../examples/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn engine(store: &Store) -> Engine {
    Engine::new(store.clone(), Arc::new(Tools::bundled().unwrap()))
        .with_clock(test_support::clock())
}

async fn scratch() -> Store {
    Store::connect_keyed("sqlite::memory:", 1, KeyConfig::ephemeral().unwrap())
        .await
        .unwrap()
}

async fn replay(recording: &Recording) -> ReplayReport {
    recording
        .replay(Arc::new(Tools::bundled().unwrap()), scratch().await)
        .await
        .unwrap()
}

/// Rejects the first venue selection it is asked (the Venue Researcher then proposes the next
/// candidate), approves everything else.
struct RejectVenueOnce(bool);

impl Approver for RejectVenueOnce {
    fn decide(&mut self, r: &PendingApproval) -> Answer {
        let reject = r.gate == ApprovalGate::VenueSelection && !self.0;
        self.0 |= reject;
        Answer {
            decision: if reject {
                ApprovalDecision::Reject
            } else {
                ApprovalDecision::Approve
            },
            comment: if reject {
                "too far from the station".into()
            } else {
                "ok".into()
            },
            by: "user:dana".into(),
        }
    }
}

#[tokio::test]
async fn s01_to_s03_replay_byte_for_byte_with_their_decisions() {
    let dir = tempfile::tempdir().unwrap();
    for store in test_stores(dir.path(), "replay_s0x").await.unwrap() {
        let e = engine(&store);
        for name in [
            "s01-meetup.json",
            "s02-conference.json",
            "s03-large-event.json",
        ] {
            let id = e.submit(brief(name), &RunOptions::default()).await.unwrap();
            let mut approver = RejectVenueOnce(name != "s02-conference.json");
            let s = e.run(id, Some(&mut approver), &mut Quiet).await.unwrap();
            assert_eq!(s.run_status, RunStatus::Completed, "{name}: {s:?}");

            let recording = Recording::read(&store, id).await.unwrap();
            let report = replay(&recording).await;
            assert_eq!(report.first_difference, None, "{name}: {report:?}");
            let revisions = store.all_revisions(id).await.unwrap().len();
            assert_eq!(report.revisions, revisions, "{name}");
            assert!(report.decisions >= 3, "{name}: {report:?}");
            if name == "s02-conference.json" {
                // The rejection was replayed, and what the Venue Researcher did after it.
                assert_eq!(report.decisions, 4, "{report:?}");
                let approvals = store.approvals(id).await.unwrap();
                assert!(
                    approvals
                        .iter()
                        .any(|a| a.decision == Some(ApprovalDecision::Reject))
                );
            }
        }
    }
}

/// Decides every pending approval of `id` in the inbox, as a person does between runs.
async fn decide_pending(e: &Engine, id: EventId) -> usize {
    let pending = e.pending_approvals(id).await.unwrap();
    for p in &pending {
        e.decide_approval(
            id,
            p.id,
            &Answer {
                decision: ApprovalDecision::Approve,
                comment: "fine by me".into(),
                by: "user:bob".into(),
            },
        )
        .await
        .unwrap();
    }
    pending.len()
}

#[tokio::test]
async fn inputs_made_between_runs_replay_in_their_order() {
    let dir = tempfile::tempdir().unwrap();
    for store in test_stores(dir.path(), "replay_inputs").await.unwrap() {
        let e = engine(&store);
        let id = e
            .create(
                brief("s02-conference.json"),
                &RunOptions::default(),
                Creation::default(),
            )
            .await
            .unwrap();
        // Before the run: an amendment, then an edit of the brief, then the start.
        e.amend_brief(id, &json!({"title": "Renamed conference"}), "user:alice")
            .await
            .unwrap();
        let current = store
            .current_of(id, ArtifactType::EventBrief)
            .await
            .unwrap()
            .unwrap();
        let mut edited = current.payload.clone();
        edited["budget"]["total"] = json!("80000");
        e.edit_artifact(
            id,
            ArtifactType::EventBrief,
            current.revision,
            edited,
            "user:alice",
            "more money",
            rust_decimal::Decimal::from(1000),
        )
        .await
        .unwrap();
        e.command(id, RunCommand::Start, "user:alice")
            .await
            .unwrap();
        // The run stops for approvals; a person decides them in the inbox; the run goes on.
        let mut rounds = 0;
        loop {
            let s = e.run(id, None, &mut Quiet).await.unwrap();
            if s.run_status == RunStatus::Completed {
                break;
            }
            assert_eq!(s.run_status, RunStatus::AwaitingApproval, "{s:?}");
            assert!(decide_pending(&e, id).await > 0);
            rounds += 1;
            assert!(rounds < 10, "the run does not finish");
        }

        let recording = Recording::read(&store, id).await.unwrap();
        let report = replay(&recording).await;
        assert_eq!(
            report.first_difference, None,
            "{report:?} {:?}",
            recording.steps
        );
        // The start left no commit of its own (the run's first commit records it).
        assert_eq!(report.inputs, 3, "submission, amendment, edit: {report:?}");
        let briefs = store.revisions(id, ArtifactType::EventBrief).await.unwrap();
        assert_eq!(briefs.len(), 3);
        assert_eq!(briefs[2].payload["title"], "Renamed conference");

        // A changed record is found: the edit's total, changed, changes what follows from it.
        let mut changed = recording.clone();
        let edit = changed
            .revisions
            .iter_mut()
            .find(|r| r.artifact_type == ArtifactType::EventBrief && r.revision == 3)
            .unwrap();
        edit.payload["budget"]["total"] = json!("70000");
        let report = replay(&changed).await;
        let d = report.first_difference.expect("a difference");
        assert_ne!(d.artifact_type, ArtifactType::EventBrief, "{d}");
        assert!(d.what.contains("recorded"), "{d}");
    }
}

/// Every number in the summary an approver reads is in the artifacts the approval covers
/// (issue 16: a summary is grounded in the plan's figures).
#[tokio::test]
async fn approver_summaries_state_only_figures_the_artifacts_hold() {
    use eods_domain::grounding::ungrounded_numbers;
    let dir = tempfile::tempdir().unwrap();
    let store = test_stores(dir.path(), "grounded").await.unwrap().remove(0);
    let e = engine(&store);
    let mut checked = 0;
    for name in [
        "s01-meetup.json",
        "s02-conference.json",
        "s03-large-event.json",
    ] {
        let id = e.submit(brief(name), &RunOptions::default()).await.unwrap();
        let s = e.run(id, None, &mut Quiet).await.unwrap();
        assert_eq!(s.run_status, RunStatus::AwaitingApproval, "{name}: {s:?}");
        let current = store.current_artifacts(id).await.unwrap();
        for p in e.pending_approvals(id).await.unwrap() {
            let (types, _) = eods_engine::summarise::sources(p.gate);
            let sources: Vec<&Value> = current
                .iter()
                .filter(|e| types.contains(&e.artifact_type))
                .map(|e| &e.payload)
                .collect();
            assert_eq!(sources.len(), types.len(), "{name} {}", p.gate);
            let stray = ungrounded_numbers(&p.summary, &sources);
            assert!(
                stray.is_empty(),
                "{name} {}: {stray:?} in {:?}",
                p.gate,
                p.summary
            );
            checked += 1;
        }
    }
    assert!(checked >= 9, "{checked} summaries checked");
}

/// Answers every venue gathering with nothing found, as an open-data source does for a city it
/// holds no venues of.
struct NothingFound;

impl eods_engine::VenueGatherer for NothingFound {
    fn gather<'a>(
        &'a self,
        q: &'a eods_sources::VenueQuery,
        _wanted: usize,
    ) -> eods_sources::BoxFuture<'a, GatheredVenues> {
        let escalation = format!("no venue found in {}", q.city);
        Box::pin(async move {
            GatheredVenues {
                records: vec![],
                attempts: vec![],
                escalation: Some(escalation),
            }
        })
    }
}

/// A Research step that gathered venues and then stopped for a person keeps what it gathered
/// in a failed trace, so the stop replays from the record like a step that succeeded.
#[tokio::test]
async fn a_step_that_gathered_and_stopped_replays_from_the_record() {
    let dir = tempfile::tempdir().unwrap();
    for store in test_stores(dir.path(), "replay_gathered_stop")
        .await
        .unwrap()
    {
        let e = engine(&store).with_gatherer(Arc::new(NothingFound));
        let mut b = brief("s01-meetup.json");
        b["location"]["city"] = json!("Helsinki");
        b["location"]["country"] = json!("FI");
        let id = e.submit(b, &RunOptions::default()).await.unwrap();
        let mut approver = RejectVenueOnce(true);
        let s = e.run(id, Some(&mut approver), &mut Quiet).await.unwrap();
        assert!(
            matches!(s.run_status, RunStatus::NeedsInput | RunStatus::Blocked),
            "{s:?}"
        );

        let recording = Recording::read(&store, id).await.unwrap();
        assert_eq!(recording.gatherings().len(), 1, "the gathering is recorded");
        let report = replay(&recording).await;
        assert_eq!(report.first_difference, None, "{report:?}");
        assert_eq!(report.gatherings, 1, "{report:?}");
        assert_eq!(
            report.revisions,
            store.all_revisions(id).await.unwrap().len()
        );
    }
}
