//! The service's background work: a worker leases runnable events (run status `running`) and
//! drives each until it stops, so several `eods serve` processes on one PostgreSQL database share
//! the runs and a crashed instance's runs are taken over when its leases expire. Every commit of a
//! leased run is fenced by the lease (a stale worker cannot write) and extends it. The same loop
//! fires approval deadlines (durable: they are stored, so they also fire after a restart).

use crate::{Engine, EngineError, Lease, Progress, ProgressEvent};
use eods_domain::ids::EventId;
use eods_store::{StoreError, epoch_ms};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

/// How a worker behaves.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkerConfig {
    /// This instance's id (unique per process).
    pub owner: String,
    /// How long a lease lasts after each commit; a crashed instance's runs are taken over after
    /// this.
    pub lease_ttl: Duration,
    /// How often to look for work when nothing wakes the worker.
    pub poll: Duration,
    /// Events run at once.
    pub concurrency: u32,
}

/// Receives what the worker's runs report (metrics, logs, live streams).
pub trait RunObserver: Send + Sync {
    /// A progress event of a run.
    fn progress(&self, event: EventId, e: &ProgressEvent);
    /// A run ended with an error (it will be retried if the error was the database's).
    fn error(&self, event: EventId, e: &EngineError);
    /// Approval requests escalated by the deadline timer.
    fn escalated(&self, _n: usize) {}
}

struct Forward {
    event: EventId,
    observer: Arc<dyn RunObserver>,
}

impl Progress for Forward {
    fn report(&mut self, e: ProgressEvent) {
        self.observer.progress(self.event, &e);
    }
}

/// Runs until `shutdown` turns true. `wake` makes it look for work at once (a new event, a
/// decision); otherwise it polls every `config.poll`.
pub async fn run_worker(
    engine: Engine,
    config: WorkerConfig,
    observer: Arc<dyn RunObserver>,
    wake: Arc<Notify>,
    mut shutdown: watch::Receiver<bool>,
) {
    let leased = engine.clone().with_lease(Lease {
        owner: config.owner.clone(),
        ttl: config.lease_ttl,
    });
    let mut last_timer = tokio::time::Instant::now() - Duration::from_secs(3600);
    loop {
        if *shutdown.borrow() {
            return;
        }
        let claimed = claim(&engine, &config, observer.as_ref()).await;
        let busy = !claimed.is_empty();
        let mut runs = JoinSet::new();
        for id in claimed {
            let engine = leased.clone();
            let observer = observer.clone();
            let owner = config.owner.clone();
            runs.spawn(async move {
                let mut forward = Forward {
                    event: id,
                    observer: observer.clone(),
                };
                let result = engine.run(id, None, &mut forward).await;
                match result {
                    Ok(_) => {}
                    // Another instance holds the event now; it carries on.
                    Err(EngineError::Store(StoreError::LeaseLost { .. })) => return,
                    Err(e) => {
                        observer.error(id, &e);
                        // Database trouble is retried at the next claim; anything else stops
                        // the run with the reason recorded.
                        if !matches!(e, EngineError::Store(_)) {
                            let _ = engine
                                .store()
                                .transition_run_status(
                                    id,
                                    &[eods_domain::lifecycle::RunStatus::Running],
                                    eods_domain::lifecycle::RunStatus::Failed,
                                    Some(&e.to_string()),
                                    engine.clock().now(),
                                )
                                .await;
                        }
                    }
                }
                let _ = engine.store().release_lease(id, &owner).await;
            });
        }
        while runs.join_next().await.is_some() {}
        // Deadlines are checked at most once a second, however busy the worker is.
        if last_timer.elapsed() >= Duration::from_secs(1) {
            last_timer = tokio::time::Instant::now();
            match engine.escalate_due().await {
                Ok(n) if n > 0 => observer.escalated(n),
                Ok(_) => {}
                Err(e) => observer.error(EventId(uuid::Uuid::nil()), &e),
            }
        }
        if busy {
            continue;
        }
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(config.poll) => {}
            _ = shutdown.changed() => {}
        }
    }
}

async fn claim(engine: &Engine, config: &WorkerConfig, observer: &dyn RunObserver) -> Vec<EventId> {
    let now = engine.clock().now();
    let ttl = chrono::Duration::from_std(config.lease_ttl).unwrap_or(chrono::Duration::MAX);
    engine
        .store()
        .claim_runnable(
            &config.owner,
            epoch_ms(now),
            epoch_ms(now + ttl),
            config.concurrency.max(1),
        )
        .await
        .unwrap_or_else(|e| {
            // The database is unreachable or refused; the next poll tries again.
            observer.error(EventId(uuid::Uuid::nil()), &EngineError::Store(e));
            Vec::new()
        })
}
