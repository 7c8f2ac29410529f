//! Delivery of the outbox: notifications written in the same transaction as what they announce
//! (an approval requested or escalated, a task reminder, an overdue task) leave on each
//! configured channel — POSTed as JSON to the webhook, e-mailed to their recipients
//! ([`crate::mail`]) — at least once, with retries and exponential backoff; webhook receivers
//! deduplicate by `X-EODS-Delivery`. Each channel has its own delivery state on the notification;
//! several instances share the outbox through short claims, like runs.

use crate::observe;
use eods_store::{Channel, OutboxRow, OutboxStatus, Store, epoch_ms};
use futures_util::future::BoxFuture;
use std::time::Duration;
use tokio::sync::watch;

/// Seconds to wait before attempt `n` (1-based) is retried: 2, 4, 8, … up to five minutes.
pub fn backoff(attempt: u32) -> Duration {
    Duration::from_secs(2u64.saturating_pow(attempt.min(12)).min(300))
}

/// Why a notification was not taken on a channel.
pub(crate) struct Failure {
    pub message: String,
    /// Retrying cannot help (an address refused for good, a message that cannot be built): the
    /// notification is given up at once.
    pub permanent: bool,
}

impl Failure {
    pub(crate) fn retry(message: String) -> Failure {
        Failure {
            message,
            permanent: false,
        }
    }
}

/// Sends one notification on a channel.
pub(crate) trait Send: std::marker::Send + Sync {
    fn send<'a>(&'a self, n: &'a OutboxRow) -> BoxFuture<'a, Result<(), Failure>>;
}

/// The webhook: one POST per notification.
struct Webhook {
    client: reqwest::Client,
    url: String,
}

impl Send for Webhook {
    fn send<'a>(&'a self, n: &'a OutboxRow) -> BoxFuture<'a, Result<(), Failure>> {
        Box::pin(async move {
            match self
                .client
                .post(&self.url)
                .header("X-EODS-Delivery", n.id.to_string())
                .header("X-EODS-Notification", n.kind.as_str())
                .json(&n.payload)
                .send()
                .await
            {
                Ok(r) if r.status().is_success() => Ok(()),
                Ok(r) => Err(Failure::retry(format!("webhook answered {}", r.status()))),
                Err(e) => Err(Failure::retry(format!("webhook unreachable: {e}"))),
            }
        })
    }
}

/// Delivers due notifications to `url` until `shutdown` turns true. `clock` is the engine's, which
/// stamped the notifications.
pub async fn deliver(
    store: Store,
    clock: std::sync::Arc<dyn eods_engine::Clock>,
    url: String,
    owner: String,
    max_attempts: u32,
    shutdown: watch::Receiver<bool>,
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
    let hook = Webhook { client, url };
    run(
        &store,
        &*clock,
        Channel::Webhook,
        &hook,
        &owner,
        max_attempts,
        shutdown,
    )
    .await;
}

/// Claims what is due on `channel`, sends it with `sender` and records each attempt, until
/// `shutdown` turns true.
pub(crate) async fn run(
    store: &Store,
    clock: &dyn eods_engine::Clock,
    channel: Channel,
    sender: &dyn Send,
    owner: &str,
    max_attempts: u32,
    mut shutdown: watch::Receiver<bool>,
) {
    let name = match channel {
        Channel::Webhook => "webhook",
        Channel::Mail => "mail",
    };
    loop {
        if *shutdown.borrow() {
            return;
        }
        let now = clock.now();
        let due = store
            .claim_outbox(channel, owner, epoch_ms(now), epoch_ms(now) + 60_000, 20)
            .await
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, channel = name, "outbox claim failed");
                vec![]
            });
        let busy = !due.is_empty();
        for n in due {
            // One span per outbound call (exported over OTLP when configured), with the
            // correlation id of what caused the notification.
            let span = tracing::info_span!(
                "deliver",
                channel = name,
                kind = n.kind.as_str(),
                event_id = %n.event_id,
                correlation_id = n.payload["correlation_id"].as_str().unwrap_or(""),
                outcome = tracing::field::Empty
            );
            let failure = tracing::Instrument::instrument(sender.send(&n), span.clone())
                .await
                .err();
            span.record(
                "outcome",
                if failure.is_none() {
                    "delivered"
                } else {
                    "failed"
                },
            );
            let now = clock.now();
            let attempt = n.attempts + 1;
            let (status, next) = match &failure {
                None => (OutboxStatus::Delivered, epoch_ms(now)),
                Some(f) if f.permanent || attempt >= max_attempts => {
                    (OutboxStatus::Dead, epoch_ms(now))
                }
                Some(_) => (
                    OutboxStatus::Pending,
                    epoch_ms(now) + i64::try_from(backoff(attempt).as_millis()).unwrap_or(i64::MAX),
                ),
            };
            observe::delivery(
                name,
                match status {
                    OutboxStatus::Delivered => "delivered",
                    OutboxStatus::Pending => "retry",
                    OutboxStatus::Dead => "dead",
                },
            );
            if let Some(f) = &failure {
                tracing::warn!(delivery = %n.id, channel = name, kind = n.kind.as_str(), attempt, error = %f.message, "delivery failed");
            } else {
                tracing::info!(delivery = %n.id, channel = name, kind = n.kind.as_str(), attempt, "delivered");
            }
            if let Err(e) = store
                .finish_delivery(
                    channel,
                    n.id,
                    owner,
                    status,
                    next,
                    failure.as_ref().map(|f| f.message.as_str()),
                    now,
                )
                .await
            {
                tracing::warn!(error = %e, channel = name, "recording a delivery failed; it will be retried");
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
