//! OpenTelemetry for `eods serve`: when `OTEL_EXPORTER_OTLP_ENDPOINT` (or
//! `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set, the spans the service records — every request,
//! engine run, agent step, commit and outbound call, each with its correlation id — are exported
//! over OTLP/HTTP (JSON) in batches, besides the log lines. Unset: no exporter, nothing sent.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::trace::SdkTracerProvider;

/// The tracer provider, when an endpoint is configured; flushes what is left when shut down.
pub struct Telemetry {
    provider: SdkTracerProvider,
}

impl Telemetry {
    /// The provider for the configured endpoint, or `None` when none is set. An endpoint that
    /// cannot be used is an error naming the variable.
    pub fn from_env() -> Result<Option<Telemetry>, String> {
        let var = |name: &str| std::env::var(name).ok().filter(|s| !s.trim().is_empty());
        // The traces endpoint as given, or the base endpoint with OTLP/HTTP's path for traces.
        let (name, endpoint) = match (
            var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
            var("OTEL_EXPORTER_OTLP_ENDPOINT"),
        ) {
            (Some(e), _) => ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", e.trim().to_owned()),
            (None, Some(base)) => (
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                format!("{}/v1/traces", base.trim().trim_end_matches('/')),
            ),
            (None, None) => return Ok(None),
        };
        if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
            return Err(format!(
                "error: {name}: `{}` is not an http:// or https:// URL; give the OTLP/HTTP collector's, such as http://127.0.0.1:4318",
                std::env::var(name).unwrap_or_default()
            ));
        }
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpJson)
            .with_endpoint(endpoint.clone())
            .with_timeout(std::time::Duration::from_secs(5))
            .build()
            .map_err(|e| format!("error: {name} `{endpoint}`: {e}"))?;
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(
                opentelemetry_sdk::Resource::builder()
                    .with_service_name("eods")
                    .build(),
            )
            .build();
        Ok(Some(Telemetry { provider }))
    }

    /// The tracing layer that turns spans into OpenTelemetry spans.
    pub fn layer<S>(
        &self,
    ) -> tracing_opentelemetry::OpenTelemetryLayer<S, opentelemetry_sdk::trace::SdkTracer>
    where
        S: tracing::Subscriber + for<'span> tracing_subscriber::registry::LookupSpan<'span>,
    {
        tracing_opentelemetry::layer().with_tracer(self.provider.tracer("eods"))
    }

    /// Exports what is still buffered and stops the exporter.
    pub fn shutdown(self) {
        if let Err(e) = self.provider.shutdown() {
            eprintln!("warning: OpenTelemetry export at shutdown: {e}");
        }
    }
}
