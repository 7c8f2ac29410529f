//! Delivery of the outbox: notifications written in the same transaction as what they announce
//! (an approval requested or escalated) are POSTed as JSON to the configured webhook, at least
//! once, with retries and exponential backoff; receivers deduplicate by `X-EODS-Delivery`.
//! Several instances share the outbox through short claims, like runs.

use crate::observe;
use eods_store::{OutboxStatus, Store, epoch_ms};
use std::time::Duration;
use tokio::sync::watch;

/// Seconds to wait before attempt `n` (1-based) is retried: 2, 4, 8, … up to five minutes.
pub fn backoff(attempt: u32) -> Duration {
    Duration::from_secs(2u64.saturating_pow(attempt.min(12)).min(300))
}

/// Delivers due notifications to `url` until `shutdown` turns true. `clock` is the engine's, which
/// stamped the notifications.
pub async fn deliver(
    store: Store,
    clock: std::sync::Arc<dyn eods_engine::Clock>,
    url: String,
    owner: String,
    max_attempts: u32,
    mut shutdown: watch::Receiver<bool>,
) {
    let client = match reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "webhook client could not be built; notifications stay in the outbox");
            return;
        }
    };
    loop {
        if *shutdown.borrow() {
            return;
        }
        let now = clock.now();
        let due = store
            .claim_outbox(&owner, epoch_ms(now), epoch_ms(now) + 60_000, 20)
            .await
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "outbox claim failed");
                vec![]
            });
        let busy = !due.is_empty();
        for n in due {
            let sent = client
                .post(&url)
                .header("X-EODS-Delivery", n.id.to_string())
                .header("X-EODS-Notification", n.kind.as_str())
                .json(&n.payload)
                .send()
                .await;
            let failure = match sent {
                Ok(r) if r.status().is_success() => None,
                Ok(r) => Some(format!("webhook answered {}", r.status())),
                Err(e) => Some(format!("webhook unreachable: {e}")),
            };
            let now = clock.now();
            let attempt = n.attempts + 1;
            let (status, next) = match &failure {
                None => (OutboxStatus::Delivered, epoch_ms(now)),
                Some(_) if attempt >= max_attempts => (OutboxStatus::Dead, epoch_ms(now)),
                Some(_) => (
                    OutboxStatus::Pending,
                    epoch_ms(now) + i64::try_from(backoff(attempt).as_millis()).unwrap_or(i64::MAX),
                ),
            };
            observe::delivery(match status {
                OutboxStatus::Delivered => "delivered",
                OutboxStatus::Pending => "retry",
                OutboxStatus::Dead => "dead",
            });
            if let Some(f) = &failure {
                tracing::warn!(delivery = %n.id, kind = n.kind.as_str(), attempt, error = %f, "webhook delivery failed");
            } else {
                tracing::info!(delivery = %n.id, kind = n.kind.as_str(), attempt, "webhook delivered");
            }
            if let Err(e) = store
                .finish_delivery(n.id, &owner, status, next, failure.as_deref(), now)
                .await
            {
                tracing::warn!(error = %e, "recording a delivery failed; it will be retried");
            }
        }
        if busy {
            continue;
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
            _ = shutdown.changed() => {}
        }
    }
}
