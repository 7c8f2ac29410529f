//! Metrics and logs of an instance: the Prometheus recorder (installed once per process), HTTP
//! request metrics with the route's template as label, and what runs report (steps, transitions,
//! approvals, gate failures, escalations) as metrics and JSON log lines.

use eods_domain::ids::EventId;
use eods_domain::lifecycle::RunStatus;
use eods_engine::worker::RunObserver;
use eods_engine::{EngineError, ProgressEvent};
use metrics::{counter, describe_counter, describe_gauge, describe_histogram, histogram};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Duration;

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the process-wide recorder once (several servers in one test process share it).
pub(crate) fn install() {
    HANDLE.get_or_init(|| {
        let handle = PrometheusBuilder::new()
            .set_buckets(&[
                0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ])
            .ok()?
            .install_recorder()
            .ok()?;
        describe_counter!(
            "eods_http_requests_total",
            "HTTP requests by method, route template and status"
        );
        describe_histogram!(
            "eods_http_request_duration_seconds",
            "HTTP request latency by method and route template"
        );
        describe_counter!("eods_steps_total", "Agent steps committed, by step");
        describe_histogram!("eods_step_duration_seconds", "Agent step duration, by step");
        describe_counter!(
            "eods_transitions_total",
            "Lifecycle transitions, by target state"
        );
        describe_counter!(
            "eods_runs_stopped_total",
            "Runs that stopped, by run status"
        );
        describe_counter!(
            "eods_gate_failures_total",
            "Blocked transitions (a gate failed or an artifact was missing)"
        );
        describe_counter!(
            "eods_approvals_decided_total",
            "Approval decisions, by gate and decision"
        );
        describe_counter!(
            "eods_approvals_escalated_total",
            "Approval requests escalated at their deadline"
        );
        describe_counter!(
            "eods_run_errors_total",
            "Runs that ended with an error (retried when the database failed)"
        );
        describe_counter!(
            "eods_webhook_deliveries_total",
            "Webhook delivery attempts, by result"
        );
        describe_counter!(
            "eods_mail_deliveries_total",
            "E-mail delivery attempts (one message per notification), by result"
        );
        describe_gauge!("eods_events", "Events by run status");
        Some(handle)
    });
}

/// The text exposition of every metric.
pub(crate) fn render() -> String {
    match HANDLE.get() {
        Some(Some(h)) => {
            h.run_upkeep();
            h.render()
        }
        _ => String::new(),
    }
}

/// The route template of a path: UUID and token-like segments become `{id}`, an artifact type
/// stays (it is a closed set), so labels stay few.
pub(crate) fn route_of(path: &str) -> String {
    if !path.starts_with("/api/") {
        return match path {
            "/healthz" | "/readyz" | "/metrics" | "/openapi.json" => path.to_owned(),
            p if p.starts_with("/docs") => "/docs".to_owned(),
            _ => "other".to_owned(),
        };
    }
    path.split('/')
        .map(|seg| {
            if uuid::Uuid::parse_str(seg).is_ok() {
                "{id}"
            } else if eods_domain::artifact::ArtifactType::parse(seg).is_ok()
                || matches!(
                    seg,
                    "" | "api"
                        | "v1"
                        | "events"
                        | "actions"
                        | "artifacts"
                        | "approvals"
                        | "decision"
                        | "decision-log"
                        | "change-log"
                        | "stream"
                        | "revisions"
                        | "start"
                        | "pause"
                        | "resume"
                        | "cancel"
                )
            {
                seg
            } else {
                "{param}"
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

pub(crate) fn http(method: &str, path: &str, status: u16, elapsed: Duration) {
    let route = route_of(path);
    counter!("eods_http_requests_total", "method" => method.to_owned(), "route" => route.clone(), "status" => status.to_string()).increment(1);
    histogram!("eods_http_request_duration_seconds", "method" => method.to_owned(), "route" => route).record(elapsed.as_secs_f64());
}

pub(crate) fn events_by_status(counts: &[(RunStatus, u64)]) {
    for s in RunStatus::ALL {
        let n = counts.iter().find(|(c, _)| *c == s).map_or(0, |(_, n)| *n);
        metrics::gauge!("eods_events", "run_status" => s.as_str()).set(n as f64);
    }
}

pub(crate) fn approval(gate: &str, decision: &str) {
    counter!("eods_approvals_decided_total", "gate" => gate.to_owned(), "decision" => decision.to_owned()).increment(1);
}

pub(crate) fn delivery(channel: &'static str, result: &'static str) {
    match channel {
        "mail" => counter!("eods_mail_deliveries_total", "result" => result).increment(1),
        _ => counter!("eods_webhook_deliveries_total", "result" => result).increment(1),
    }
}

/// Logs and counts what the worker's runs report.
pub(crate) struct RunLog;

impl RunObserver for RunLog {
    fn progress(&self, event: EventId, e: &ProgressEvent) {
        match e {
            ProgressEvent::StepCommitted {
                state,
                step,
                summary,
                millis,
                applied,
            } => {
                counter!("eods_steps_total", "step" => step.name()).increment(1);
                histogram!("eods_step_duration_seconds", "step" => step.name())
                    .record(*millis as f64 / 1000.0);
                tracing::info!(event_id = %event, state = %state, step = step.name(), applied, duration_ms = *millis as u64, summary = %summary, "step");
            }
            ProgressEvent::Advanced { from, to } => {
                counter!("eods_transitions_total", "to" => to.as_str()).increment(1);
                tracing::info!(event_id = %event, from = %from, to = %to, "transition");
            }
            ProgressEvent::ApprovalDecided { gate, decision, by } => {
                approval(gate.as_str(), decision.as_str());
                tracing::info!(event_id = %event, gate = %gate, decision = decision.as_str(), by = %by, "approval");
            }
            ProgressEvent::Stopped { status, detail } => {
                counter!("eods_runs_stopped_total", "status" => status.as_str()).increment(1);
                if *status == RunStatus::Blocked {
                    counter!("eods_gate_failures_total").increment(1);
                }
                tracing::info!(event_id = %event, status = status.as_str(), detail = detail.as_deref().unwrap_or(""), "run stopped");
            }
        }
    }

    fn error(&self, event: EventId, e: &EngineError) {
        counter!("eods_run_errors_total").increment(1);
        tracing::warn!(event_id = %event, error = %e, "run error");
    }

    fn escalated(&self, n: usize) {
        counter!("eods_approvals_escalated_total").increment(n as u64);
        tracing::info!(count = n, "approvals escalated");
    }
}
