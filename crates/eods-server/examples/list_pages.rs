//! A benchmark, not a test: how fast the pages that list events answer with many events stored.
//! It stores N events (default 10,000: the S-02 brief as revision 1, every third one waiting for
//! a venue approval) straight through the store, starts the real server on a loopback port, and
//! times `GET /ui`, `GET /ui/approvals` and `GET /api/v1/events` sequentially, printing p50 and
//! p95 of each.
//!
//! ```sh
//! cargo run --release -p eods-server --example list_pages -- sqlite:///tmp/bench.db 10000 200
//! cargo run --release -p eods-server --example list_pages -- postgres://postgres@127.0.0.1:5432/bench 10000 200
//! ```
//!
//! The database should be empty (a new SQLite file, or a new PostgreSQL database).

#![allow(clippy::print_stdout)] // A command-line benchmark prints its figures.

use chrono::{Duration, Utc};
use eods_agents::Tools;
use eods_domain::access::Role;
use eods_domain::artifact::{ArtifactType, CatalogType, Envelope};
use eods_domain::ids::{ApprovalId, ArtifactId, EventId};
use eods_domain::instruction::Level;
use eods_domain::lifecycle::{ApprovalGate, LifecycleState, RunStatus};
use eods_engine::Engine;
use eods_store::{BriefSummary, Commit, EventRow, NewApproval, Store};
use std::sync::Arc;
use std::time::Instant;

type Error = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .ok_or("usage: list_pages DATABASE_URL [EVENTS=10000] [SAMPLES=200]")?;
    let events: u32 = args.next().map_or(Ok(10_000), |s| s.parse())?;
    let samples: usize = args.next().map_or(Ok(200), |s| s.parse())?;
    let store = Store::connect(&url).await?;
    let started = Instant::now();
    seed(&store, events).await?;
    println!(
        "stored {events} events on {} in {:.1} s",
        store.backend(),
        started.elapsed().as_secs_f64()
    );
    let engine = Engine::new(store.clone(), Arc::new(Tools::load(None)?));
    let config = eods_server::Config {
        worker: false,
        ..eods_server::Config::default()
    };
    let running = eods_server::start(engine, config, "127.0.0.1:0".parse()?).await?;
    let base = format!("http://{}", running.addr);
    let token =
        eods_server::auth::create_token(&store, None, "bench", Role::Admin, true, Utc::now())
            .await?
            .token;
    let http = reqwest::Client::new();
    for path in ["/ui", "/ui/approvals", "/api/v1/events"] {
        let mut times = Vec::with_capacity(samples);
        for i in 0..=samples {
            let t = Instant::now();
            let r = http
                .get(format!("{base}{path}"))
                .bearer_auth(&token)
                .header("cookie", format!("eods_session={token}"))
                .send()
                .await?;
            let status = r.status();
            let body = r.bytes().await?;
            if !status.is_success() {
                return Err(format!("{path}: {status}: {}", String::from_utf8_lossy(&body)).into());
            }
            // The first request warms the connection and the statement caches.
            if i > 0 {
                times.push(t.elapsed().as_secs_f64() * 1000.0);
            }
        }
        times.sort_by(f64::total_cmp);
        let at = |q: f64| times[((times.len() as f64 * q).ceil() as usize).saturating_sub(1)];
        println!(
            "{path:<16} p50 {:>7.2} ms  p95 {:>7.2} ms  max {:>7.2} ms  ({samples} requests)",
            at(0.5),
            at(0.95),
            at(1.0)
        );
    }
    running.stop().await;
    store.close().await;
    Ok(())
}

/// Stores `n` events as a submission would leave them: the event row and revision 1 of the brief
/// in one commit (and the summary the store derives from it); every third event also has a venue
/// scorecard waiting for approval.
async fn seed(store: &Store, n: u32) -> Result<(), Error> {
    let brief: serde_json::Value =
        serde_json::from_str(include_str!("../../../examples/s02-conference.json"))?;
    let parsed = eods_domain::intake::brief_from_value(brief.clone())
        .map_err(|e| format!("examples/s02-conference.json: {e}"))?;
    let payload = parsed.into_payload().to_value();
    let base = Utc::now() - Duration::days(30);
    let mut batch = Vec::new();
    for i in 0..n {
        let store = store.clone();
        let mut payload = payload.clone();
        payload["title"] = serde_json::json!(format!("Conference {i}"));
        batch.push(tokio::spawn(async move {
            let id = EventId(uuid::Uuid::now_v7());
            let at = base + Duration::seconds(i64::from(i));
            store
                .create_event(&EventRow {
                    id,
                    title: format!("Conference {i}"),
                    state: LifecycleState::Research,
                    run_status: RunStatus::AwaitingApproval,
                    level: Level::Intermediate,
                    status_detail: None,
                    wake_at: None,
                    draft: None,
                    summary: BriefSummary::default(),
                    options: Default::default(),
                    created_at: at,
                    updated_at: at,
                    archived_at: None,
                })
                .await?;
            let envelope = |t: ArtifactType, payload: serde_json::Value| Envelope {
                id: ArtifactId(uuid::Uuid::now_v7()),
                event_id: id,
                artifact_type: t,
                revision: 1,
                schema_version: t.schema_version().into(),
                created_at: at,
                created_by: "user:bench".into(),
                correlation_id: "bench".into(),
                derived_from: vec![],
                payload,
            };
            let waiting = i % 3 == 0;
            let mut artifacts = vec![envelope(ArtifactType::EventBrief, payload)];
            let mut approval_requests = vec![];
            if waiting {
                artifacts.push(envelope(
                    ArtifactType::VenueScorecard,
                    serde_json::json!({}),
                ));
                approval_requests.push(NewApproval {
                    id: ApprovalId(uuid::Uuid::now_v7()),
                    gate: ApprovalGate::VenueSelection,
                    artifact_revision: 1,
                    approver_role: "approver".into(),
                    requested_at: at,
                    deadline: at + Duration::hours(48),
                    required_approvals: 1,
                });
            }
            store
                .commit(&Commit {
                    event_id: id,
                    step_key: "submit".into(),
                    at,
                    artifacts,
                    approval_requests,
                    ..Commit::default()
                })
                .await?;
            Ok::<(), eods_store::StoreError>(())
        }));
        if batch.len() == 16 {
            for t in batch.drain(..) {
                t.await??;
            }
        }
    }
    for t in batch {
        t.await??;
    }
    Ok(())
}
