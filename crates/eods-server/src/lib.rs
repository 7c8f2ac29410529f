//! The EODS HTTP service: the REST API of DESIGN §8 under `/api/v1`, its OpenAPI 3.1 document
//! (generated from the handlers) at `/openapi.json` with a docs page at `/docs`, health and
//! Prometheus metrics, bearer-token auth with roles, server-sent progress streams, and the
//! background work of an instance (the lease-sharing worker, and webhook and e-mail delivery
//! from the outbox). The only crate that knows HTTP; it decides nothing about lifecycles (the engine does).

pub mod api;
pub mod auth;
mod charts;
pub mod dto;
pub mod error;
pub mod mail;
mod observe;
pub mod openapi;
mod organiser;
mod redact;
mod stream;
mod web;
pub mod webhook;

use crate::auth::{SignInLimits, TokenAuth, TokenKey};
use crate::error::{ApiError, Problem};
use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use eods_engine::Engine;
use eods_engine::worker::{WorkerConfig, run_worker};
use eods_store::Store;
use rust_decimal::Decimal;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Notify, watch};
use tracing::Instrument;

/// How an instance runs. Built once at start (the binary reads the environment).
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Unique per process; names the leases this instance holds.
    pub instance_id: String,
    /// How long a lease outlives its holder's last commit (a crashed instance's runs are taken
    /// over after this).
    pub lease_ttl: Duration,
    /// How often the worker looks for work when nothing wakes it.
    pub poll: Duration,
    /// Events this instance runs at once.
    pub concurrency: u32,
    /// Run the worker (off: an API-only instance).
    pub worker: bool,
    /// Where notifications are POSTed (none: they stay in the outbox).
    pub webhook_url: Option<String>,
    /// Delivery attempts before a notification is given up.
    pub webhook_attempts: u32,
    /// E-mail to the stakeholders the notifications name (none: mail is off).
    pub mail: Option<mail::MailConfig>,
    /// The address people reach this service at, for the links in e-mail (none: the bound
    /// address).
    pub public_url: Option<String>,
    /// Cost impact above which an edit re-opens the budget approval.
    pub approval_threshold: Decimal,
    /// Largest request body accepted.
    pub body_limit: usize,
    /// The key of API token hashes (`EODS_TOKEN_KEY`); none: the database's `server_keys` row.
    pub token_key: Option<TokenKey>,
    /// How many failed sign-ins a client address and a token id may make.
    pub sign_in_limits: SignInLimits,
    /// Take no writes (`--read-only`): reads work, writes answer 503 with Retry-After, no runs
    /// or deliveries on this instance. Signing in and out still open and end page sessions.
    pub read_only: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            instance_id: format!(
                "eods-{}-{}",
                std::process::id(),
                &uuid::Uuid::now_v7().simple().to_string()[24..]
            ),
            lease_ttl: Duration::from_secs(30),
            poll: Duration::from_millis(500),
            concurrency: 4,
            worker: true,
            webhook_url: None,
            webhook_attempts: 8,
            mail: None,
            public_url: None,
            approval_threshold: Decimal::from(1000),
            body_limit: 2 * 1024 * 1024,
            token_key: None,
            sign_in_limits: SignInLimits::default(),
            read_only: false,
        }
    }
}

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub engine: Engine,
    pub config: Arc<Config>,
    pub(crate) auth: Arc<TokenAuth>,
    /// Wakes this instance's worker (a new event, a decision, an edit).
    pub wake: Arc<Notify>,
    pub(crate) openapi: Arc<serde_json::Value>,
    /// Whether writes are off now.
    pub(crate) read_only: Arc<ReadOnly>,
}

/// Read-only mode: set by `--read-only`, or for a while after the database refused a write.
#[derive(Debug)]
pub(crate) struct ReadOnly {
    forced: bool,
    /// Until when (ms since the epoch) writes are refused because the database refused one.
    refused_until_ms: std::sync::atomic::AtomicI64,
    /// Page sessions this instance opened or ended while the database refused the write (see
    /// [`ReadOnly::remember`]): they live in this process only.
    sessions: std::sync::Mutex<std::collections::HashMap<String, LocalSession>>,
}

/// A page session kept in memory because the database could not take it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum LocalSession {
    /// Open for this token id until this time (ms).
    Open { token_id: String, expires_ms: i64 },
    /// Signed out here while the stored session could not be ended: refused on this instance.
    Ended,
}

/// Page sessions kept in memory at most; the oldest-expiring go first.
const LOCAL_SESSIONS: usize = 10_000;

/// How long writes are refused after the database refused one, before one is tried again.
const READ_ONLY_PAUSE_MS: i64 = 30_000;

impl ReadOnly {
    pub(crate) fn active(&self) -> bool {
        self.forced
            || chrono::Utc::now().timestamp_millis()
                < self
                    .refused_until_ms
                    .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Keeps `session` for `id` in memory: the database refused to store it (signing in or out
    /// while it takes no writes). Expired entries go first; the map stays bounded.
    pub(crate) fn remember(&self, id: &str, session: LocalSession, now_ms: i64) {
        let Ok(mut m) = self.sessions.lock() else {
            return;
        };
        m.retain(
            |_, s| !matches!(s, LocalSession::Open { expires_ms, .. } if *expires_ms <= now_ms),
        );
        if m.len() >= LOCAL_SESSIONS
            && let Some(k) = m.keys().next().cloned()
        {
            m.remove(&k);
        }
        m.insert(id.to_owned(), session);
    }

    /// The session kept in memory for `id`, if any (an open one only until it expires).
    pub(crate) fn local(&self, id: &str, now_ms: i64) -> Option<LocalSession> {
        let m = self.sessions.lock().ok()?;
        match m.get(id)? {
            LocalSession::Open { expires_ms, .. } if *expires_ms <= now_ms => {
                Some(LocalSession::Ended)
            }
            s => Some(s.clone()),
        }
    }

    pub(crate) fn database_refused(&self) {
        self.refused_until_ms.store(
            chrono::Utc::now().timestamp_millis() + READ_ONLY_PAUSE_MS,
            std::sync::atomic::Ordering::Relaxed,
        );
    }
}

impl AppState {
    /// State over an engine (whose store the API reads).
    pub fn new(engine: Engine, config: Config) -> Self {
        observe::install();
        let auth = TokenAuth::new(config.token_key.clone(), config.sign_in_limits);
        let forced = config.read_only;
        AppState {
            store: engine.store().clone(),
            engine,
            config: Arc::new(config),
            auth: Arc::new(auth),
            wake: Arc::new(Notify::new()),
            openapi: Arc::new(openapi::document()),
            read_only: Arc::new(ReadOnly {
                forced,
                refused_until_ms: std::sync::atomic::AtomicI64::new(0),
                sessions: Default::default(),
            }),
        }
    }
}

/// The correlation id of a request: the client's `X-Correlation-Id` when it is a sensible token,
/// else a new UUID. Returned on every response and recorded on what the request writes.
#[derive(Debug, Clone, PartialEq)]
pub struct CorrelationId(pub String);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for CorrelationId {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<CorrelationId>()
            .cloned()
            .unwrap_or_else(|| CorrelationId(uuid::Uuid::now_v7().to_string())))
    }
}

const CORRELATION_HEADER: &str = "x-correlation-id";

fn client_correlation(req: &Request) -> Option<String> {
    let v = req.headers().get(CORRELATION_HEADER)?.to_str().ok()?.trim();
    let ok = !v.is_empty()
        && v.len() <= 128
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'));
    ok.then(|| v.to_owned())
}

/// Every request: correlation id in and out, problem+json for every error (also the router's
/// own 404/405), one JSON log line, and the HTTP metrics.
async fn edge(req: Request, next: Next) -> Response {
    let cid = client_correlation(&req).unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let mut req = req;
    req.extensions_mut().insert(CorrelationId(cid.clone()));
    let started = Instant::now();
    // Everything logged while the request is handled carries its correlation id.
    let span =
        tracing::info_span!("request", correlation_id = %cid, method = %method, path = %path);
    let res = next.run(req).instrument(span).await;
    // Pages answer their own errors in HTML; everything else becomes a problem.
    let html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    let mut res = if res.status().as_u16() >= 400 && !html {
        complete_problem(res, &path, &cid).await
    } else {
        res
    };
    if let Ok(v) = HeaderValue::from_str(&cid) {
        res.headers_mut().insert(CORRELATION_HEADER, v);
    }
    let status = res.status().as_u16();
    let elapsed = started.elapsed();
    // Server time as browsers' developer tools and measurement scripts read it (W3C Server Timing).
    if let Ok(v) = HeaderValue::from_str(&format!("app;dur={:.2}", elapsed.as_secs_f64() * 1000.0))
    {
        res.headers_mut().insert("server-timing", v);
    }
    observe::http(method.as_str(), &path, status, elapsed);
    tracing::info!(
        correlation_id = %cid,
        method = %method,
        path = %path,
        status,
        duration_ms = elapsed.as_secs_f64() * 1000.0,
        "request"
    );
    res
}

/// Fills in `instance` and `correlation_id` of a problem, or turns a bare error status into one.
async fn complete_problem(res: Response, path: &str, cid: &str) -> Response {
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    let (mut parts, body) = res.into_parts();
    let problem = if is_problem {
        let bytes = axum::body::to_bytes(body, 1 << 20)
            .await
            .unwrap_or_default();
        serde_json::from_slice::<serde_json::Value>(&bytes).ok()
    } else {
        None
    };
    let mut problem = match problem {
        Some(p) => p,
        None => {
            let status = parts.status;
            let (slug, detail) = match status {
                StatusCode::NOT_FOUND => (
                    "not-found",
                    format!("no route for {path}; the API is under /api/v1 (see /docs)"),
                ),
                StatusCode::METHOD_NOT_ALLOWED => (
                    "method-not-allowed",
                    format!("{path} does not take this method (see /docs)"),
                ),
                StatusCode::PAYLOAD_TOO_LARGE => {
                    ("too-large", "the request body is too large".to_owned())
                }
                StatusCode::REQUEST_TIMEOUT => ("timeout", "the request took too long".to_owned()),
                _ => (
                    "error",
                    status.canonical_reason().unwrap_or("error").to_owned(),
                ),
            };
            serde_json::to_value(Problem {
                problem_type: format!("/problems/{slug}"),
                title: status.canonical_reason().unwrap_or("Error").to_owned(),
                status: status.as_u16(),
                detail,
                instance: None,
                errors: vec![],
                missing_artifacts: vec![],
                failed_gates: vec![],
                correlation_id: None,
            })
            .unwrap_or_default()
        }
    };
    problem["instance"] = serde_json::Value::String(path.to_owned());
    problem["correlation_id"] = serde_json::Value::String(cid.to_owned());
    let body = serde_json::to_vec(&problem).unwrap_or_default();
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from(body))
}

/// Refuses writes while the service is read-only (503 with Retry-After; an HTML page under
/// `/ui`), except signing in and out; and turns read-only for a while when the database refused
/// a write (a hot standby, a read-only file), so later writes are refused before they are tried.
async fn read_only_guard(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path().to_owned();
    let writes = !matches!(
        *req.method(),
        axum::http::Method::GET | axum::http::Method::HEAD | axum::http::Method::OPTIONS
    ) && path != "/ui/login"
        && path != "/ui/logout";
    if writes && state.read_only.active() {
        let e = ApiError::read_only(if state.config.read_only {
            "this instance runs read-only (--read-only): reads work, changes are not taken; try again later"
        } else {
            "the database takes no writes right now (read-only); reads keep working: try again later"
        });
        return if path.starts_with("/ui") {
            web::page_error(e)
        } else {
            axum::response::IntoResponse::into_response(e)
        };
    }
    let res = next.run(req).await;
    if res.extensions().get::<error::ReadOnlyRefusal>().is_some() && !state.config.read_only {
        state.read_only.database_refused();
    }
    res
}

/// The name of the first parameter of a query string or URL-encoded form whose name or value
/// holds a NUL character (`%00`, or the byte itself).
fn nul_parameter(encoded: &[u8]) -> Option<String> {
    encoded.split(|b| *b == b'&').find_map(|pair| {
        let nul = pair.contains(&0)
            || pair
                .windows(3)
                .any(|w| w[0] == b'%' && w[1] == b'0' && w[2] == b'0');
        nul.then(|| {
            let name = pair.split(|b| *b == b'=').next().unwrap_or_default();
            String::from_utf8_lossy(name)
                .replace("%00", "")
                .replace('+', " ")
        })
    })
}

/// Refuses a NUL character in the query string or a URL-encoded form (422 naming the parameter;
/// an HTML page under `/ui`): PostgreSQL cannot store one and SQLite can, so neither gets one.
/// JSON bodies are checked where they are parsed ([`dto::ApiJson`]), with the field's pointer.
async fn no_nul(
    axum::extract::State(limit): axum::extract::State<usize>,
    req: Request,
    next: Next,
) -> Response {
    let page = req.uri().path().starts_with("/ui");
    let refuse = |name: String, at: &str| {
        let e = ApiError::field(
            &format!("#/{at}/{name}"),
            format!("{name}: {}", dto::NUL_MESSAGE),
        );
        if page {
            web::page_error(e)
        } else {
            axum::response::IntoResponse::into_response(e)
        }
    };
    if let Some(name) = req.uri().query().and_then(|q| nul_parameter(q.as_bytes())) {
        return refuse(name, "query");
    }
    let form = req.headers().get(header::CONTENT_TYPE).is_some_and(|v| {
        v.as_bytes()
            .starts_with(b"application/x-www-form-urlencoded")
    });
    if !form {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, limit).await else {
        let e = ApiError::too_large();
        return if page {
            web::page_error(e)
        } else {
            axum::response::IntoResponse::into_response(e)
        };
    };
    if let Some(name) = nul_parameter(&bytes) {
        return refuse(name, "form");
    }
    next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
        .await
}

/// The API browser (Swagger UI) may not be framed by another site (no clickjacking of a signed-in
/// "Try it out") and loads only this origin's files; its bundled page needs inline script.
const DOCS_POLICY: &str = "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'; form-action 'self'";

async fn docs_headers(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(DOCS_POLICY),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    res
}

async fn fallback() -> ApiError {
    ApiError::not_found("no such route; the API is under /api/v1 (see /docs)")
}

/// The whole HTTP surface.
pub fn router(state: AppState) -> Router {
    let api = api::routes().with_state(state.clone());
    let docs: Router = Router::from(
        utoipa_swagger_ui::SwaggerUi::new("/docs")
            .external_url_unchecked("/openapi.json", (*state.openapi).clone()),
    )
    .layer(axum::middleware::map_response(docs_headers));
    Router::new()
        .merge(api)
        .merge(web::routes().with_state(state.clone()))
        .merge(docs)
        .fallback(fallback)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            read_only_guard,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.config.body_limit,
            no_nul,
        ))
        .layer(axum::extract::DefaultBodyLimit::max(
            state.config.body_limit,
        ))
        .layer(axum::middleware::from_fn(edge))
}

/// A running instance: its address and a handle to stop it.
pub struct Running {
    pub addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    /// Declared last: dropped after the tasks were awaited (or abandoned).
    _worker_runtime: WorkerRuntime,
}

/// The runtime the worker's runs execute on. Shut down without waiting when dropped (a runtime
/// may not block the thread that drops it when that thread drives async code).
struct WorkerRuntime(Option<tokio::runtime::Runtime>);

impl Drop for WorkerRuntime {
    fn drop(&mut self) {
        if let Some(r) = self.0.take() {
            r.shutdown_background();
        }
    }
}

impl Running {
    /// Stops accepting requests and background work, and waits for both.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

/// PostgreSQL connections for the worker's runs: one per run in flight, but no more than two
/// per core. A run holds its connection only while it commits; more connections than the
/// machine can serve at once only add database backends competing with the requests' (runs
/// beyond them wait for a connection, which costs no throughput: measured with 16 runs in flight
/// on 2 cores, 4 connections commit as fast as 16).
fn worker_connections(concurrency: u32, cores: usize) -> u32 {
    let per_cores = u32::try_from(cores.saturating_mul(2)).unwrap_or(u32::MAX);
    concurrency.clamp(1, per_cores.max(2))
}

/// Binds `addr` and serves the API, the worker and webhook and e-mail delivery until `stop`.
pub async fn start(engine: Engine, config: Config, addr: SocketAddr) -> std::io::Result<Running> {
    let state = AppState::new(engine, config);
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let (tx, rx) = watch::channel(false);
    let mut tasks = Vec::new();
    let mut worker_runtime = WorkerRuntime(None);
    if state.config.read_only {
        tracing::info!("read-only: no runs and no deliveries on this instance");
    }
    if state.config.worker && !state.config.read_only {
        // The runs go on a runtime of their own, with their own connections: a request waits
        // for the operating system's scheduler (which favours threads that were asleep, as
        // request handlers mostly are), not behind runs that hold a thread for milliseconds.
        // One core is left to requests.
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(cores.saturating_sub(1).max(1))
            .thread_name("eods-worker")
            .enable_all()
            .build()?;
        let engine = state.engine.clone().with_store(
            state
                .store
                .with_own_pool(worker_connections(state.config.concurrency, cores)),
        );
        let opened = runtime.spawn({
            let store = engine.store().clone();
            let n = state.config.concurrency;
            async move { store.warm_up(n).await }
        });
        if let Ok(Err(e)) = opened.await {
            tracing::warn!(error = %e, "the worker's connections could not be opened ahead");
        }
        let worker = runtime.spawn(run_worker(
            engine,
            WorkerConfig {
                owner: state.config.instance_id.clone(),
                lease_ttl: state.config.lease_ttl,
                poll: state.config.poll,
                concurrency: state.config.concurrency,
            },
            Arc::new(observe::RunLog),
            state.wake.clone(),
            rx.clone(),
        ));
        tasks.push(worker);
        worker_runtime = WorkerRuntime(Some(runtime));
    }
    if let Some(url) = state
        .config
        .webhook_url
        .clone()
        .filter(|_| !state.config.read_only)
    {
        tasks.push(tokio::spawn(webhook::deliver(
            state.store.clone(),
            state.engine.clock().clone(),
            url,
            state.config.instance_id.clone(),
            state.config.webhook_attempts,
            rx.clone(),
        )));
    }
    if let Some(m) = state
        .config
        .mail
        .clone()
        .filter(|_| !state.config.read_only)
    {
        let public = state
            .config
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{addr}"));
        tasks.push(tokio::spawn(mail::deliver(
            state.store.clone(),
            state.engine.clock().clone(),
            m,
            public,
            state.config.instance_id.clone(),
            rx.clone(),
        )));
    }
    // What the first requests would otherwise pay for: compiling the artifact schemas and
    // opening connections.
    if let Err(e) = eods_domain::schema::compile_all() {
        tracing::warn!(error = %e, "an artifact schema does not compile");
    }
    if let Err(e) = state
        .store
        .warm_up(
            state
                .config
                .concurrency
                .max(eods_store::DEFAULT_PG_CONNECTIONS),
        )
        .await
    {
        tracing::warn!(error = %e, "the request connections could not be opened ahead");
    }
    let app = router(state.clone());
    let mut stop = rx.clone();
    tasks.push(tokio::spawn(async move {
        // The peer address is what failed sign-ins are limited by (`auth::Client`).
        let app = app.into_make_service_with_connect_info::<SocketAddr>();
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stop.wait_for(|s| *s).await;
            })
            .await;
        if let Err(e) = served {
            tracing::error!(error = %e, "server stopped");
        }
    }));
    tracing::info!(%addr, instance = %state.config.instance_id, database = state.store.backend(), "eods serve listening");
    Ok(Running {
        addr,
        shutdown: tx,
        tasks,
        _worker_runtime: worker_runtime,
    })
}

#[cfg(test)]
mod tests {
    use super::worker_connections;

    #[test]
    fn the_worker_opens_a_connection_per_run_up_to_two_per_core() {
        assert_eq!(worker_connections(16, 2), 4);
        assert_eq!(worker_connections(3, 2), 3);
        assert_eq!(worker_connections(16, 16), 16);
        assert_eq!(worker_connections(0, 4), 1, "at least one");
        assert_eq!(worker_connections(8, 1), 2, "two on one core");
    }
}
