//! A language model cannot break a hard rule (issue 16): whatever a model answers about the
//! brief texts it is asked to read — readings that contradict the brief's hours, breaks over the
//! whole day, fixed sessions at night, needs no venue meets, the wrong shape, or no JSON at all —
//! the plan the engine commits keeps within the fixed budget, keeps every session inside the
//! hours the brief fixes, and books no room or speaker twice at once. A property test: a model
//! server on loopback answers with generated adversarial answers, and the committed artifacts
//! are checked by checkers independent of the planners.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use eods_agents::Tools;
use eods_domain::artifact::ArtifactType;
use eods_domain::catalog::brief::EventBrief;
use eods_domain::catalog::budget::BudgetDecision;
use eods_domain::catalog::logistics::Schedule;
use eods_domain::hours::sessions_outside_hours;
use eods_domain::lifecycle::ApprovalDecision;
use eods_domain::lifecycle::RunStatus;
use eods_engine::{Answer, Approver, Engine, PendingApproval, Quiet, RunOptions};
use eods_model::{ModelClient, ModelConfig};
use eods_store::Store;
use eods_store::keys::KeyConfig;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

/// Texts the recogniser does not read, so each is put to the model.
const TEXTS: [&str; 3] = [
    "Vorträge nur zwischen 10 und 16 Uhr",
    "O orçamento não pode ser ultrapassado",
    "昼休みは12時から13時まで",
];

struct Yes;
impl Approver for Yes {
    fn decide(&mut self, _: &PendingApproval) -> Answer {
        Answer {
            decision: ApprovalDecision::Approve,
            comment: "ok".into(),
            by: "user:alice".into(),
        }
    }
}

/// A model server on loopback answering each request with the next queued content.
async fn model_server(queue: Arc<Mutex<VecDeque<String>>>) -> String {
    let app = axum::Router::new().route(
        "/v1/chat/completions",
        axum::routing::post(move |_body: axum::Json<Value>| {
            let queue = queue.clone();
            async move {
                let content = queue.lock().unwrap().pop_front().unwrap_or_default();
                axum::Json(json!({
                    "choices": [{"message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 50, "completion_tokens": 20}
                }))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/v1")
}

/// The brief: the S-02 conference (three tracks, two days) with a fixed budget and hours the
/// recogniser reads, plus the texts only a model reads.
fn brief() -> Value {
    let path = format!(
        "{}/../../examples/s02-conference.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut b: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    b["budget"]["flexibility"] = json!("fixed");
    let mut constraints = vec![json!("Sessions between 09:00 and 17:30")];
    constraints.extend(TEXTS.iter().map(|t| json!(t)));
    b["constraints"] = json!(constraints);
    b
}

fn time() -> impl Strategy<Value = String> {
    (0u32..24, prop::sample::select(vec![0u32, 15, 30, 45]))
        .prop_map(|(h, m)| format!("{h:02}:{m:02}:00"))
}

/// One structured constraint, any of them, with times anywhere in the day.
fn item() -> impl Strategy<Value = Value> {
    prop_oneof![
        (time(), time()).prop_map(|(s, e)| json!({"session_window": {"start": s, "end": e}})),
        time().prop_map(|t| json!({"not_before": t})),
        time().prop_map(|t| json!({"not_after": t})),
        time().prop_map(|t| json!({"doors": t})),
        (time(), time())
            .prop_map(|(s, e)| json!({"break": {"label": "lunch", "start": s, "end": e}})),
        (
            prop::sample::select(vec!["keynote", "panel", "closing"]),
            time()
        )
            .prop_map(|(w, t)| json!({"fixed_session": {"what": w, "at": t}})),
        prop::sample::select(vec!["step_free", "wifi", "projector", "stage"])
            .prop_map(|n| json!({"venue": n})),
        Just(json!("budget_fixed")),
    ]
}

/// One answer: structured constraints, the wrong shape, or not JSON.
fn answer() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::collection::vec(item(), 0..5).prop_map(|v| Value::Array(v).to_string()),
        1 => Just(r#"{"budget": {"total": 10000000, "flexibility": "flexible"}}"#.to_owned()),
        1 => Just(r#"[{"session_window": {"start": "00:00:00", "end": "23:59:59"}}]"#.to_owned()),
        1 => "[^\\[\\]{}]{0,40}",
    ]
}

/// Which sessions of `s` share a room, or a speaker, at the same time.
fn double_bookings(s: &Schedule) -> Vec<String> {
    let mut out = Vec::new();
    for (i, a) in s.sessions.iter().enumerate() {
        for b in &s.sessions[i + 1..] {
            if a.start < b.end && b.start < a.end {
                if a.room == b.room {
                    out.push(format!("room {} holds {} and {}", a.room, a.id, b.id));
                }
                for p in a.speakers.iter().filter(|p| b.speakers.contains(p)) {
                    out.push(format!("{p} speaks in {} and {}", a.id, b.id));
                }
            }
        }
    }
    out
}

/// Plans the brief with `answers` as the model's, checks what was committed, and says whether
/// the run completed and whether any reading was kept.
async fn check_one(
    url: &str,
    queue: &Arc<Mutex<VecDeque<String>>>,
    answers: Vec<String>,
) -> (bool, bool) {
    *queue.lock().unwrap() = answers.into();
    let store = Store::connect_keyed("sqlite::memory:", 1, KeyConfig::ephemeral().unwrap())
        .await
        .unwrap();
    let e = Engine::new(store.clone(), Arc::new(Tools::bundled().unwrap())).with_model(Arc::new(
        ModelClient::new(ModelConfig::new(url, "adversary")).unwrap(),
    ));
    let brief_in = brief();
    let total: Decimal = brief_in["budget"]["total"].to_string().parse().unwrap();
    let id = e.submit(brief_in, &RunOptions::default()).await.unwrap();
    // Whatever the run ends in (completed, blocked, failed), what it committed is checked.
    let summary = e.run(id, Some(&mut Yes), &mut Quiet).await.unwrap();
    let revisions = store.all_revisions(id).await.unwrap();
    let brief_at = |r: u32| -> EventBrief {
        let e = revisions
            .iter()
            .find(|e| e.artifact_type == ArtifactType::EventBrief && e.revision == r)
            .unwrap();
        serde_json::from_value(e.payload.clone()).unwrap()
    };
    let original = brief_at(1);
    for r in &revisions {
        match r.artifact_type {
            ArtifactType::Schedule => {
                let s: Schedule = serde_json::from_value(r.payload.clone()).unwrap();
                let planned_from = r
                    .derived_from
                    .iter()
                    .find(|d| d.artifact_type == ArtifactType::EventBrief)
                    .map_or(1, |d| d.revision);
                // Within the brief's own hours and within what was kept of the model's reading.
                for b in [&original, &brief_at(planned_from)] {
                    let outside = sessions_outside_hours(b, &s.sessions);
                    assert!(outside.is_empty(), "schedule r{}: {outside:?}", r.revision);
                }
                let twice = double_bookings(&s);
                assert!(twice.is_empty(), "schedule r{}: {twice:?}", r.revision);
            }
            ArtifactType::BudgetDecision => {
                let d: BudgetDecision = serde_json::from_value(r.payload.clone()).unwrap();
                assert!(
                    d.approved_total <= total,
                    "budget_decision r{}: {} over the fixed {total}",
                    r.revision,
                    d.approved_total
                );
            }
            _ => {}
        }
    }
    let kept = revisions
        .iter()
        .any(|e| e.artifact_type == ArtifactType::EventBrief && e.revision == 2);
    (summary.run_status == RunStatus::Completed, kept)
}

/// 24 generated cases, from a fixed seed (the same cases on every run); a failing case is
/// shrunk and reported. Over the cases, some runs must complete with a reading kept and some
/// must stop, or the property would hold for want of trying.
#[test]
fn no_model_answer_breaks_the_budget_the_hours_or_a_booking() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let queue = Arc::new(Mutex::new(VecDeque::new()));
    let url = rt.block_on(model_server(queue.clone()));
    let tally = Mutex::new((0usize, 0usize));
    let mut runner = TestRunner::new_with_rng(
        Config {
            cases: 24,
            failure_persistence: None,
            ..Config::default()
        },
        TestRng::deterministic_rng(RngAlgorithm::ChaCha),
    );
    runner
        .run(&prop::collection::vec(answer(), 3..=3), |answers| {
            let (completed, kept) = rt.block_on(check_one(&url, &queue, answers));
            let mut t = tally.lock().unwrap();
            t.0 += usize::from(completed && kept);
            t.1 += usize::from(!completed);
            Ok(())
        })
        .unwrap();
    let (completed_with_reading, stopped) = *tally.lock().unwrap();
    assert!(
        completed_with_reading > 0,
        "no run completed with a reading kept"
    );
    assert!(stopped > 0, "no run stopped");
}
