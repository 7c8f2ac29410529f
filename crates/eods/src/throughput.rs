//! `eods bench --events M --concurrency N`: durable throughput of the engine. M lifecycles of
//! one brief (S-01 by default), N in flight, each submitted and run from Initiate to Postmortem
//! through the real store (`Engine::create_and_run`: the submission is written with the run's
//! first transaction), its three approvals answered in process (stored before they are
//! answered, as a person would see them). Reports events/s, p50/p95 per event, transactions and
//! durable steps per event, and the process's peak RSS. A benchmark: it asserts nothing about
//! time, but every event must complete, or it fails.

use crate::approve::AutoApprover;
use eods_domain::lifecycle::RunStatus;
use eods_engine::{Engine, Hooks, Quiet, RunOptions};
use eods_store::Store;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// What to drive.
#[derive(Debug, Clone)]
pub struct ThroughputOptions {
    /// Events measured.
    pub events: usize,
    /// Events in flight.
    pub concurrency: usize,
    /// The database (a temporary SQLite file when absent).
    pub database: Option<String>,
    /// The brief every event is planned from.
    pub brief: PathBuf,
    /// Database connections (PostgreSQL); by default the store's default pool.
    pub connections: Option<u32>,
}

/// The figures.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Throughput {
    pub backend: String,
    pub events: usize,
    pub concurrency: usize,
    /// Connections the events were written through (PostgreSQL's pool; SQLite's one writer).
    pub connections: u32,
    pub warmup_events: usize,
    pub wall_s: f64,
    pub events_per_s: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub max_ms: f64,
    /// Transactions per event (the submission included).
    pub commits_per_event: f64,
    /// Durable steps (keyed commits: steps, transitions, approvals) per event.
    pub steps_per_event: f64,
    pub peak_rss_mb: f64,
    /// CPU time (user and system) of this process per measured event: the engine, the store's
    /// encoding and, on SQLite, the database itself; a PostgreSQL server's own time is not in it.
    /// Steadier than events/s on a shared machine; read in clock ticks (10 ms), so coarse for a
    /// run of a few events, and absent where `/proc/self/stat` is not (outside Linux).
    pub cpu_ms_per_event: Option<f64>,
}

/// Counts transactions that wrote something and the steps they stored.
#[derive(Default)]
struct Counter {
    transactions: AtomicU64,
}

impl Hooks for Counter {
    fn after_commit(&self, _seq: u64) {
        self.transactions.fetch_add(1, Ordering::Relaxed);
    }
}

async fn one(
    engine: &Engine,
    brief: &serde_json::Value,
) -> anyhow::Result<(Duration, eods_domain::ids::EventId)> {
    let started = Instant::now();
    let options = RunOptions {
        submitted_by: "user:bench".into(),
        ..RunOptions::default()
    };
    let mut approver = AutoApprover {
        user: "user:approver".into(),
    };
    // The submission is written in the run's first transaction (`Engine::create_and_run`).
    let s = engine
        .create_and_run(brief.clone(), &options, Some(&mut approver), &mut Quiet)
        .await?;
    let id = s.event_id;
    let took = started.elapsed();
    if s.run_status != RunStatus::Completed {
        anyhow::bail!(
            "event {id} ended {} in {}: {}",
            s.run_status,
            s.state,
            s.detail.unwrap_or_default()
        );
    }
    Ok((took, id))
}

/// Runs `count` events with `concurrency` in flight; returns each one's time and id.
async fn drive(
    engine: &Engine,
    brief: &Arc<serde_json::Value>,
    count: usize,
    concurrency: usize,
) -> anyhow::Result<Vec<(Duration, eods_domain::ids::EventId)>> {
    let semaphore = Arc::new(tokio::sync::Semaphore::new(concurrency.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..count {
        let permit = semaphore.clone().acquire_owned().await?;
        let engine = engine.clone();
        let brief = brief.clone();
        tasks.spawn(async move {
            let r = one(&engine, &brief).await;
            drop(permit);
            r
        });
    }
    let mut out = Vec::with_capacity(count);
    while let Some(r) = tasks.join_next().await {
        out.push(r??);
    }
    Ok(out)
}

/// CPU time this process has used so far (user and system, all threads), from
/// `/proc/self/stat` (Linux); `None` elsewhere.
fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces), from the third on: utime and stime
    // are the 14th and 15th, in clock ticks (USER_HZ, 100 on Linux).
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    let mut fields = rest.split_whitespace().skip(11);
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    Some(Duration::from_millis((user + system) * 10))
}

/// Peak resident set of this process in MiB (Linux), 0 elsewhere.
fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

/// Measures; `tools` are the bundled tools (as `eods plan` uses them).
pub async fn run(
    o: &ThroughputOptions,
    tools: Arc<eods_agents::Tools>,
) -> anyhow::Result<Throughput> {
    let text = std::fs::read_to_string(&o.brief)
        .map_err(|e| anyhow::anyhow!("cannot read the brief {}: {e}", o.brief.display()))?;
    let brief: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", o.brief.display()))?;
    let brief = Arc::new(brief);
    let tmp = tempdir()?;
    let url = o
        .database
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", tmp.join("bench.db").display()));
    // The store's default pool unless told otherwise: on this 2-core machine 16 events in flight
    // ran faster through 8 connections than through 16 (the server's processes contend less).
    let connections = o.connections.unwrap_or(eods_store::DEFAULT_PG_CONNECTIONS);
    let store = Store::connect_with(&url, connections).await?;
    let counter = Arc::new(Counter::default());
    let engine = Engine::new(store.clone(), tools)
        .with_clock(crate::cli::clock())
        .with_hooks(counter.clone());
    // Untimed warm-up: connections, caches, compiled schemas.
    let warm_started = Instant::now();
    let mut warmup = 0;
    while warmup < o.concurrency.max(5) || warm_started.elapsed() < Duration::from_secs(1) {
        let n = o.concurrency.max(5);
        drive(&engine, &brief, n, o.concurrency).await?;
        warmup += n;
    }
    counter.transactions.store(0, Ordering::Relaxed);
    let cpu_before = cpu_time();
    let started = Instant::now();
    let results = drive(&engine, &brief, o.events, o.concurrency).await?;
    let wall = started.elapsed().as_secs_f64();
    let cpu = cpu_before.zip(cpu_time()).map(|(a, b)| b.saturating_sub(a));
    let transactions = counter.transactions.load(Ordering::Relaxed);
    // Counted after the clock stopped: reporting is not part of what is measured.
    let mut steps = 0;
    for (_, id) in &results {
        steps += store.step_count(*id).await?;
    }
    let (p50, p95) = crate::bench::percentiles(results.iter().map(|(d, _)| *d).collect());
    let max = results
        .iter()
        .map(|(d, _)| d.as_secs_f64() * 1000.0)
        .fold(0.0, f64::max);
    let n = o.events.max(1) as f64;
    store.close().await;
    let _ = std::fs::remove_dir_all(&tmp);
    Ok(Throughput {
        backend: store.backend().into(),
        events: o.events,
        concurrency: o.concurrency,
        // SQLite writes through its one writer connection whatever the pool size.
        connections: if store.backend() == "sqlite" {
            1
        } else {
            connections
        },
        warmup_events: warmup,
        wall_s: wall,
        events_per_s: o.events as f64 / wall,
        p50_ms: p50,
        p95_ms: p95,
        max_ms: max,
        // The hooks see every transaction: the submission is written in the run's first.
        commits_per_event: transactions as f64 / n,
        steps_per_event: steps as f64 / n,
        peak_rss_mb: peak_rss_mb(),
        cpu_ms_per_event: cpu.map(|c| c.as_secs_f64() * 1000.0 / n),
    })
}

fn tempdir() -> anyhow::Result<PathBuf> {
    let tmp = std::env::temp_dir().join(format!("eods-bench-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&tmp)?;
    Ok(tmp)
}

/// The figures as a Markdown table.
pub fn table(t: &Throughput) -> String {
    let mut r = String::new();
    let _ = writeln!(
        r,
        "# EODS durable throughput\n\n{} events of one brief, {} in flight, on {} ({} warm-up events untimed); every event runs Initiate → Postmortem with three approvals, each stored before it is answered.\n",
        t.events, t.concurrency, t.backend, t.warmup_events
    );
    let _ = writeln!(
        r,
        "| backend | in flight | connections | wall s | events/s | p50 ms/event | p95 ms/event | max ms | transactions/event | durable steps/event | CPU ms/event (this process) | peak RSS MiB |\n|---|---|---|---|---|---|---|---|---|---|---|---|"
    );
    let _ = writeln!(
        r,
        "| {} | {} | {} | {:.2} | {:.1} | {:.2} | {:.2} | {:.2} | {:.2} | {:.1} | {} | {:.1} |",
        t.backend,
        t.concurrency,
        t.connections,
        t.wall_s,
        t.events_per_s,
        t.p50_ms,
        t.p95_ms,
        t.max_ms,
        t.commits_per_event,
        t.steps_per_event,
        t.cpu_ms_per_event
            .map_or_else(|| "–".to_owned(), |c| format!("{c:.2}")),
        t.peak_rss_mb
    );
    r
}
