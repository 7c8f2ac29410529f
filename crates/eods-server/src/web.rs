//! Server-rendered pages for organisers and approvers (askama templates, checked at compile
//! time). They work without JavaScript: sign-in with an API token kept in an HttpOnly,
//! SameSite=Strict cookie; every form carries a CSRF token derived from the session; what a page
//! offers follows the role (a viewer sees no decision buttons). Pages read the store and write
//! through the engine, like the API.

use crate::AppState;
use crate::auth::{self, Client, Principal};
use crate::error::ApiError;
use askama::Template;
use axum::Form;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use eods_domain::access::Permission;
use eods_domain::ids::ApprovalId;
use eods_domain::lifecycle::{ApprovalDecision, ApprovalGate};
use eods_engine::Answer;
use eods_store::EventFilter;
use serde::Deserialize;
use sha2::{Digest, Sha256};

mod approval;
mod audit;
mod brief;
mod event;
mod form;
mod leads;
mod messages;
mod program;
mod tabs;

const COOKIE: &str = "eods_session";
/// The sign-in form's own cookie: its value is the form's CSRF field (a double-submit token), so
/// a form posted from another site (which cannot read or send it) signs nobody in.
const LOGIN_COOKIE: &str = "eods_login";
/// How long a page session lasts without signing in again.
const SESSION_MS: i64 = 12 * 3600 * 1000;

/// The pages.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/ui") }))
        .route("/ui/login", get(login_page).post(login))
        .route("/ui/logout", post(logout))
        .route("/ui", get(dashboard))
        .route("/ui/approvals", get(approvals))
        .route("/ui/approvals/{id}", get(request_page))
        .route("/ui/approvals/{id}/confirm", post(confirm))
        .route("/ui/approvals/{id}/decision", post(decide))
        .route("/ui/events/new", get(form::new_event_page))
        .route("/ui/events", post(form::create_event))
        .route("/ui/events/{id}", get(event::event_page))
        .route("/ui/events/{id}/incidents", post(event::report_incident))
        .route(
            "/ui/events/{id}/incidents/{number}/resolve",
            post(event::resolve_incident),
        )
        .route("/ui/events/{id}/tasks/{task}", post(event::record_task))
        .route("/ui/events/{id}/feedback", post(event::record_feedback))
        .route("/ui/events/{id}/quotes", post(leads::add_quote))
        .route("/ui/events/{id}/drafts", post(messages::write))
        .route("/ui/events/{id}/drafts/{draft}", post(messages::save))
        .route(
            "/ui/events/{id}/drafts/{draft}/approve",
            post(messages::approve),
        )
        .route("/ui/events/{id}/stream", get(event::event_stream))
        .route("/ui/events/{id}/downloads/{file}", get(event::download))
        .route(
            "/ui/events/{id}/brief",
            get(brief::brief_editor).post(brief::save_brief),
        )
        .route(
            "/ui/events/{id}/program",
            get(program::program_page).post(program::save_program),
        )
        .route("/ui/events/{id}/{action}", post(event::archive))
        .route("/ui/audit", get(audit::audit_page))
        .route("/ui/static/live.js", get(live_script))
        .layer(axum::middleware::map_response(page_headers))
}

/// What a browser may do with the pages: only this origin's scripts, forms and connections, no
/// framing (an approval button cannot be overlaid by another site), no MIME sniffing, no
/// referrer to other sites. Styles are inline in the layout; charts are inline SVG.
const PAGE_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

async fn page_headers(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(PAGE_POLICY),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    res
}

/// The progressive enhancement of the event page: live progress from the event stream.
async fn live_script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        include_str!("../static/live.js"),
    )
        .into_response()
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    user: Option<UserView>,
    status: u16,
    title: String,
    detail: String,
    errors: Vec<String>,
}

/// An error as a page (the API answers problem+json; a browser gets HTML with the same content).
pub(crate) fn page_error(e: ApiError) -> Response {
    let status = e.status;
    if status.is_server_error() {
        tracing::error!(detail = %e.detail, "page failed");
    }
    let mut res = render(ErrorPage {
        user: None,
        status: status.as_u16(),
        title: e.title.to_owned(),
        detail: e.detail.clone(),
        errors: e
            .errors
            .iter()
            .map(|p| match p.pointer.as_str() {
                "" => p.message.clone(),
                ptr => format!("{ptr}: {}", p.message),
            })
            .chain(e.failed_gates.iter().cloned())
            .collect(),
    });
    *res.status_mut() = status;
    with_headers(res, &e)
}

/// A page answering an error carries the error's headers too (Retry-After).
fn with_headers(mut res: Response, e: &ApiError) -> Response {
    for (name, value) in &e.headers {
        if let Ok(v) = HeaderValue::from_str(value) {
            res.headers_mut().insert(name.clone(), v);
        }
    }
    if e.slug == "read-only" {
        res.extensions_mut().insert(crate::error::ReadOnlyRefusal);
    }
    res
}

/// The signed-in user as the layout shows them.
pub struct UserView {
    pub name: String,
    pub role: String,
    pub csrf: String,
    pub pending: usize,
    /// The service takes no writes now: the layout says so.
    pub read_only: bool,
}

/// A signed-in page request: the principal and its CSRF token.
pub(super) struct Session {
    principal: Principal,
    csrf: String,
}

fn csrf_for(token: &str) -> String {
    Sha256::digest(format!("eods-csrf:{token}").as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, v)| *k == name && !v.is_empty())
        .map(|(_, v)| v.to_owned())
}

/// `n` random bytes as hex.
fn random_hex(n: usize) -> Result<String, ApiError> {
    let mut b = vec![0u8; n];
    getrandom::fill(&mut b).map_err(|e| {
        tracing::error!(error = %e, "no randomness for a session");
        ApiError::internal()
    })?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

/// What the database keeps of a session secret: its SHA-256, hex.
fn session_id(secret: &str) -> String {
    Sha256::digest(format!("eods-session:{secret}").as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `; Secure` when the pages are served over TLS (the public URL is https, or the proxy in front
/// says the request came over https), so the browser never sends the cookie in clear.
fn secure(state: &AppState, headers: &HeaderMap) -> &'static str {
    let proxied = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"));
    let public = state
        .config
        .public_url
        .as_deref()
        .is_some_and(|u| u.starts_with("https://"));
    if proxied || public { "; Secure" } else { "" }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// The session of a request, or a redirect to the sign-in page. The cookie holds a session's
/// random secret (never the API token); the session must be open and its token not revoked.
pub(super) async fn session(
    state: &AppState,
    headers: &HeaderMap,
    _client: Client,
) -> Result<Session, Response> {
    let to_login = || Redirect::to("/ui/login").into_response();
    let secret = cookie(headers, COOKIE).ok_or_else(to_login)?;
    let id = session_id(&secret);
    // A session this instance keeps in memory (the database took no writes when it was opened
    // or ended) first, then the stored one.
    let token = match state.read_only.local(&id, now_ms()) {
        Some(crate::LocalSession::Ended) => return Err(to_login()),
        Some(crate::LocalSession::Open { token_id, .. }) => state
            .store
            .token(&token_id)
            .await
            .map_err(|e| page_error(e.into()))?,
        None => state
            .store
            .web_session_token(&id, now_ms())
            .await
            .map_err(|e| page_error(e.into()))?,
    }
    .filter(|t| t.revoked_at.is_none())
    .ok_or_else(to_login)?;
    Ok(Session {
        principal: Principal {
            name: token.name,
            role: token.role,
            contracts: token.contracts,
        },
        csrf: csrf_for(&secret),
    })
}

/// The session of a form POST: signed in, the form's CSRF token its own, and a role that grants
/// `need` (if any); otherwise the response that says why.
pub(super) async fn form_session(
    state: &AppState,
    headers: &HeaderMap,
    client: Client,
    csrf: &str,
    need: Option<Permission>,
) -> Result<Session, Response> {
    let s = session(state, headers, client).await?;
    if let Some(r) = refuse_forged(&s, csrf) {
        return Err(r);
    }
    if let Some(p) = need {
        s.principal.require(p).map_err(page_error)?;
    }
    Ok(s)
}

/// The refusal of a form whose CSRF field does not belong to the session, if it does not.
pub(super) fn refuse_forged(s: &Session, sent: &str) -> Option<Response> {
    if sent == s.csrf {
        None
    } else {
        Some(page_error(ApiError::forbidden(
            "the form is stale or came from another site: go back, reload the page and try again",
        )))
    }
}

pub(super) fn render(t: impl Template) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            ApiError::internal().into_response()
        }
    }
}

/// The signed-in user as the layout shows them, with the inbox's size (one COUNT query; a store
/// error is answered as the page's error, not shown as zero).
pub(super) async fn user_view(state: &AppState, s: &Session) -> Result<UserView, ApiError> {
    let pending = state.store.pending_count().await?;
    Ok(UserView {
        name: s.principal.name.clone(),
        role: s.principal.role.to_string(),
        csrf: s.csrf.clone(),
        pending: usize::try_from(pending).unwrap_or(usize::MAX),
        read_only: state.read_only.active(),
    })
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    user: Option<UserView>,
    error: Option<String>,
    /// The form's CSRF field, also set as the sign-in cookie.
    csrf: String,
}

/// The sign-in page, with a fresh sign-in cookie whose value the form carries.
fn login_form(state: &AppState, headers: &HeaderMap, error: Option<String>) -> Response {
    let csrf = match random_hex(16) {
        Ok(c) => c,
        Err(e) => return page_error(e),
    };
    let mut res = render(LoginPage {
        user: None,
        error,
        csrf: csrf.clone(),
    });
    let cookie = format!(
        "{LOGIN_COOKIE}={csrf}; Path=/ui/login; HttpOnly; SameSite=Strict; Max-Age=3600{}",
        secure(state, headers)
    );
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

async fn login_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    login_form(&state, &headers, None)
}

#[derive(Deserialize)]
struct LoginForm {
    token: String,
    #[serde(default)]
    csrf: String,
}

/// Signs in with an API token: opens a server-side session whose random secret goes in the
/// cookie. The form must carry the sign-in cookie's value (no sign-in from another site).
async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: Client,
    Form(f): Form<LoginForm>,
) -> Response {
    let expected = cookie(&headers, LOGIN_COOKIE);
    if f.csrf.is_empty() || expected.as_deref() != Some(f.csrf.as_str()) {
        let mut res = login_form(
            &state,
            &headers,
            Some(
                "the sign-in form is stale or came from another site: sign in again on this page"
                    .into(),
            ),
        );
        *res.status_mut() = StatusCode::FORBIDDEN;
        return res;
    }
    let token = f.token.trim().to_owned();
    match auth::verify(&state, &token, client).await {
        Ok(_) => {
            let Some(id) = auth::token_id(&token) else {
                return page_error(ApiError::internal());
            };
            let secret = match random_hex(32) {
                Ok(s) => s,
                Err(e) => return page_error(e),
            };
            let now = now_ms();
            match state
                .store
                .create_web_session(&session_id(&secret), id, now, now + SESSION_MS)
                .await
            {
                Ok(()) => {}
                // The database takes no writes: this instance keeps the session in memory, and
                // refuses writes for a while (the pages say so).
                Err(e) if e.is_read_only() => {
                    state.read_only.database_refused();
                    state.read_only.remember(
                        &session_id(&secret),
                        crate::LocalSession::Open {
                            token_id: id.to_owned(),
                            expires_ms: now + SESSION_MS,
                        },
                        now,
                    );
                }
                Err(e) => return page_error(e.into()),
            }
            let mut res = Redirect::to("/ui").into_response();
            let secure = secure(&state, &headers);
            let cookies = [
                format!(
                    "{COOKIE}={secret}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
                    SESSION_MS / 1000
                ),
                format!(
                    "{LOGIN_COOKIE}=; Path=/ui/login; HttpOnly; SameSite=Strict; Max-Age=0{secure}"
                ),
            ];
            for c in cookies {
                if let Ok(v) = HeaderValue::from_str(&c) {
                    res.headers_mut().append(header::SET_COOKIE, v);
                }
            }
            res
        }
        Err(e) => {
            let mut res = login_form(&state, &headers, Some(e.detail.clone()));
            // 401, or 429 with Retry-After after too many failures.
            *res.status_mut() = e.status;
            with_headers(res, &e)
        }
    }
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: Client,
    Form(f): Form<CsrfForm>,
) -> Response {
    if let Err(r) = form_session(&state, &headers, client, &f.csrf, None).await {
        return r;
    }
    // The session ends on the server: the old cookie signs nobody in again. One the database
    // cannot end (it takes no writes) is ended in this instance's memory.
    if let Some(secret) = cookie(&headers, COOKIE) {
        let id = session_id(&secret);
        let now = now_ms();
        let local = state.read_only.local(&id, now).is_some();
        let stored = if local {
            Ok(false)
        } else {
            state.store.end_web_session(&id, now).await
        };
        match stored {
            Ok(_) => {}
            Err(e) if e.is_read_only() => state.read_only.database_refused(),
            Err(e) => return page_error(e.into()),
        }
        if local || state.read_only.active() {
            state
                .read_only
                .remember(&id, crate::LocalSession::Ended, now);
        }
    }
    let mut res = Redirect::to("/ui/login").into_response();
    let cleared = format!(
        "{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{}",
        secure(&state, &headers)
    );
    if let Ok(v) = HeaderValue::from_str(&cleared) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    res
}

/// One line of the dashboard, from the event's summary row.
struct EventRowView {
    id: String,
    title: String,
    dates: String,
    place: String,
    audience: String,
    state: &'static str,
    run_status: String,
    detail: Option<String>,
    pending: u32,
    budget: String,
}

/// A page of a list: where it starts, its size, and the links to the pages around it.
struct Paging {
    first: u64,
    last: u64,
    total: u64,
    newer: Option<String>,
    older: Option<String>,
}

impl Paging {
    /// `path` ends with `?` or `&`, ready for `offset=`.
    fn new(path: &str, offset: u32, shown: usize, total: u64) -> Paging {
        let offset64 = u64::from(offset);
        let end = offset64 + shown as u64;
        Paging {
            first: if shown == 0 { offset64 } else { offset64 + 1 },
            last: end,
            total,
            newer: (offset > 0)
                .then(|| format!("{path}offset={}", offset.saturating_sub(PAGE_SIZE))),
            older: (end < total).then(|| format!("{path}offset={end}")),
        }
    }
}

/// Rows per page of the dashboard and the inbox.
const PAGE_SIZE: u32 = 50;

#[derive(Deserialize)]
struct PageQuery {
    offset: Option<u32>,
    decided: Option<String>,
    /// The dashboard: archived events instead of the others.
    archived: Option<String>,
}

/// An approval gate as people read it.
pub(crate) fn gate_words(g: ApprovalGate) -> &'static str {
    match g {
        ApprovalGate::VenueSelection => "Venue selection",
        ApprovalGate::BudgetDecision => "Budget decision",
        ApprovalGate::VendorContracts => "Vendor contracts",
    }
}

/// A lifecycle state as people read it.
pub(crate) fn state_words(s: eods_domain::lifecycle::LifecycleState) -> &'static str {
    use eods_domain::lifecycle::LifecycleState as L;
    match s {
        L::Initiate => "Brief received",
        L::Plan => "Planning",
        L::Research => "Venue research",
        L::Budget => "Budget",
        L::Logistics => "Logistics",
        L::Confirm => "Confirmation",
        L::Execute => "Event running",
        L::Postmortem => "Postmortem",
    }
}

/// A run status as people read it; a run waiting for its timer says until when.
pub(crate) fn run_words(
    s: eods_domain::lifecycle::RunStatus,
    wake_at: Option<chrono::DateTime<chrono::Utc>>,
) -> String {
    use eods_domain::lifecycle::RunStatus as R;
    match (s, wake_at) {
        (R::Running, Some(t)) => format!("waiting until {}", t.format("%-d %b %Y %H:%M UTC")),
        (R::Idle, _) => "not started".into(),
        (R::Running, None) => "working".into(),
        (R::AwaitingApproval, _) => "waiting for approvals".into(),
        (R::Paused, _) => "paused".into(),
        (R::Blocked, _) => "blocked: needs a decision".into(),
        (R::NeedsInput, _) => "needs input".into(),
        (R::Completed, _) => "completed".into(),
        (R::Cancelled, _) => "cancelled".into(),
        (R::Failed, _) => "failed".into(),
    }
}

/// `20 May 2031`, or `20–22 May 2031`, or `30 May – 2 Jun 2031`; `—` when unknown.
fn date_span(start: Option<chrono::NaiveDate>, end: Option<chrono::NaiveDate>) -> String {
    use chrono::Datelike;
    match (start, end) {
        (Some(s), Some(e)) if s == e => s.format("%-d %b %Y").to_string(),
        (Some(s), Some(e)) if s.year() == e.year() && s.month() == e.month() => {
            format!("{}–{}", s.format("%-d"), e.format("%-d %b %Y"))
        }
        (Some(s), Some(e)) if s.year() == e.year() => {
            format!("{} – {}", s.format("%-d %b"), e.format("%-d %b %Y"))
        }
        (Some(s), Some(e)) => format!("{} – {}", s.format("%-d %b %Y"), e.format("%-d %b %Y")),
        (Some(s), None) => format!("from {}", s.format("%-d %b %Y")),
        (None, Some(e)) => format!("until {}", e.format("%-d %b %Y")),
        (None, None) => "—".into(),
    }
}

/// `Berlin, DE`, or whichever part is known; `—` when neither is.
fn place(s: &eods_store::BriefSummary) -> String {
    match (&s.city, &s.country) {
        (Some(c), Some(k)) => format!("{c}, {k}"),
        (Some(c), None) => c.clone(),
        (None, Some(k)) => k.clone(),
        (None, None) => "—".into(),
    }
}

fn budget_text(s: &eods_store::BriefSummary) -> String {
    match (&s.budget_total, &s.currency) {
        (Some(t), Some(c)) => format!("{t} {c}"),
        (Some(t), None) => t.clone(),
        _ => "—".into(),
    }
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct Dashboard {
    user: Option<UserView>,
    rows: Vec<EventRowView>,
    paging: Paging,
    can_plan: bool,
    /// The archived events are shown.
    archived: bool,
    /// Tasks of live events due soon or overdue (first page of the events only).
    deadlines: Vec<DeadlineView>,
}

/// The events, newest first, a page at a time: one query over the events' summary rows (no
/// artifact is loaded).
async fn dashboard(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: Client,
    axum::extract::Query(q): axum::extract::Query<PageQuery>,
) -> Response {
    let s = match session(&state, &headers, client).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let offset = q.offset.unwrap_or(0);
    let archived = q.archived.is_some();
    let page = state
        .store
        .events_page(&EventFilter {
            limit: PAGE_SIZE,
            offset,
            archived,
            ..EventFilter::default()
        })
        .await;
    let (events, total) = match page {
        Ok(p) => p,
        Err(e) => return page_error(e.into()),
    };
    let rows: Vec<EventRowView> = events
        .iter()
        .map(|e| EventRowView {
            id: e.id.to_string(),
            title: e.title.clone(),
            dates: date_span(e.summary.start_date, e.summary.end_date),
            place: place(&e.summary),
            audience: e
                .summary
                .audience_size
                .map_or_else(|| "—".into(), |n| n.to_string()),
            state: state_words(e.state),
            run_status: run_words(e.run_status, e.wake_at),
            detail: e.status_detail.clone(),
            pending: e.pending_approvals,
            budget: budget_text(&e.summary),
        })
        .collect();
    let deadlines = if archived || offset > 0 {
        vec![]
    } else {
        let today = state.engine.clock().now().date_naive();
        match upcoming_deadlines(&state, today).await {
            Ok(d) => d,
            Err(e) => return page_error(e),
        }
    };
    let user = match user_view(&state, &s).await {
        Ok(u) => Some(u),
        Err(e) => return page_error(e),
    };
    render(Dashboard {
        deadlines,
        user,
        paging: Paging::new(
            if archived { "/ui?archived=1&" } else { "/ui?" },
            offset,
            rows.len(),
            total,
        ),
        rows,
        can_plan: s.principal.role.grants(Permission::Plan),
        archived,
    })
}

/// A task due soon (or overdue) in a live event, for the dashboard.
struct DeadlineView {
    event_id: String,
    event_title: String,
    task_id: String,
    task: String,
    owner: String,
    due: String,
    due_date: chrono::NaiveDate,
    /// `overdue by 3 days`, `due today`, `due in 5 days`.
    when: String,
    overdue: bool,
    status: &'static str,
}

/// How far ahead the dashboard lists deadlines.
const DEADLINE_DAYS: i64 = 14;

/// The tasks of live events waiting for their calendar that are not done and due within
/// [`DEADLINE_DAYS`] of `today` (overdue ones too), the earliest first, at most 20: read from
/// each event's current task register, runbook and stakeholder map.
async fn upcoming_deadlines(
    state: &AppState,
    today: chrono::NaiveDate,
) -> Result<Vec<DeadlineView>, ApiError> {
    use eods_domain::artifact::ArtifactType;
    use eods_domain::catalog::execution::Runbook;
    use eods_domain::catalog::planning::{StakeholderMap, TaskRegister, TaskStatus};
    fn typed<T: serde::de::DeserializeOwned>(
        e: Option<eods_domain::artifact::Envelope>,
    ) -> Option<T> {
        serde_json::from_value(e?.payload).ok()
    }
    let mut out = Vec::new();
    for (id, title) in state.store.waiting_events(100).await? {
        let Some(tasks) = typed::<TaskRegister>(
            state
                .store
                .current_of(id, ArtifactType::TaskRegister)
                .await?,
        ) else {
            continue;
        };
        let runbook = typed::<Runbook>(state.store.current_of(id, ArtifactType::Runbook).await?);
        let people = typed::<StakeholderMap>(
            state
                .store
                .current_of(id, ArtifactType::StakeholderMap)
                .await?,
        );
        let recorded = runbook
            .as_ref()
            .map(|r| r.entries.as_slice())
            .unwrap_or_default();
        for e in eods_domain::progress::entries(&tasks, recorded) {
            let days = (e.planned_end - today).num_days();
            if e.status == TaskStatus::Done || days > DEADLINE_DAYS {
                continue;
            }
            out.push(DeadlineView {
                event_id: id.to_string(),
                event_title: title.clone(),
                task_id: e.task_id.to_string(),
                task: e.title.clone(),
                owner: people
                    .as_ref()
                    .and_then(|m| m.stakeholders.iter().find(|s| s.id == e.owner))
                    .map_or_else(|| e.owner.to_string(), |s| s.name.clone()),
                due: e.planned_end.format("%-d %b %Y").to_string(),
                due_date: e.planned_end,
                when: match days {
                    d if d < 0 => {
                        format!("overdue by {} day{}", -d, if d == -1 { "" } else { "s" })
                    }
                    0 => "due today".into(),
                    1 => "due tomorrow".into(),
                    d => format!("due in {d} days"),
                },
                overdue: days < 0,
                status: eods_engine::status_words(e.status),
            });
        }
    }
    out.sort_by_key(|d| (!d.overdue, d.due_date));
    out.truncate(20);
    Ok(out)
}

/// One request in the inbox, from its summary row.
struct ApprovalItem {
    id: String,
    event_id: String,
    event_title: String,
    dates: String,
    place: String,
    audience: String,
    budget: String,
    gate: String,
    /// The gate in words.
    gate_label: &'static str,
    /// The artifact type the gate approves.
    artifact: String,
    revision: u32,
    votes: u32,
    required: u32,
    deadline: String,
    overdue: bool,
}

/// How many requests the request page looks through to place one in the inbox.
const INBOX_WALK: u32 = 500;

fn approval_item(a: &eods_store::InboxRow, now: chrono::DateTime<chrono::Utc>) -> ApprovalItem {
    ApprovalItem {
        id: a.id.to_string(),
        event_id: a.event_id.to_string(),
        event_title: a.event_title.clone(),
        dates: date_span(a.summary.start_date, a.summary.end_date),
        place: place(&a.summary),
        audience: a
            .summary
            .audience_size
            .map_or_else(|| "—".into(), |n| n.to_string()),
        budget: budget_text(&a.summary),
        gate: a.gate.to_string(),
        gate_label: gate_words(a.gate),
        artifact: a.gate.artifact_type().to_string(),
        revision: a.artifact_revision,
        votes: a.approve_votes,
        required: a.required_approvals,
        deadline: a.deadline.format("%Y-%m-%d %H:%M UTC").to_string(),
        overdue: a.deadline < now,
    }
}

#[derive(Template)]
#[template(path = "approvals.html")]
struct Approvals {
    user: Option<UserView>,
    items: Vec<ApprovalItem>,
    paging: Paging,
    can_decide: bool,
    notice: Option<String>,
}

/// The approvals inbox: pending requests of current revisions with their event's summary, the
/// earliest deadline first, one query a page. What a request commits (its summary and cost impact) is on the confirmation
/// page, which reads that one event.
async fn approvals(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: Client,
    axum::extract::Query(q): axum::extract::Query<PageQuery>,
) -> Response {
    let s = match session(&state, &headers, client).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    // Only a known gate is echoed: a crafted link cannot make the page say something else.
    let notice = q
        .decided
        .and_then(|g| ApprovalGate::parse(&g))
        .map(|g| format!("Your decision on {} was recorded.", gate_words(g)));
    let offset = q.offset.unwrap_or(0);
    let page = match state.store.inbox(PAGE_SIZE, offset).await {
        Ok(p) => p,
        Err(e) => return page_error(e.into()),
    };
    let now = state.engine.clock().now();
    let items: Vec<ApprovalItem> = page.items.iter().map(|a| approval_item(a, now)).collect();
    let user = match user_view(&state, &s).await {
        Ok(u) => Some(u),
        Err(e) => return page_error(e),
    };
    render(Approvals {
        user,
        paging: Paging::new("/ui/approvals?", offset, items.len(), page.total),
        items,
        can_decide: s.principal.role.grants(Permission::Approve),
        notice,
    })
}

/// What a pending request commits, for the confirmation page: its event's title, gate and
/// revision, the engine's summary and the cost impact (contract amounts only with the
/// permission). Reads the one event the request belongs to.
async fn pending_request(
    state: &AppState,
    id: &str,
    contracts: bool,
) -> Result<(String, String, u32, String, String), ApiError> {
    let not_found = || ApiError::not_found(format!("no pending approval {id}"));
    let approval = uuid::Uuid::parse_str(id)
        .map(ApprovalId)
        .map_err(|_| not_found())?;
    let event = state
        .store
        .approval_event(approval)
        .await?
        .ok_or_else(not_found)?;
    let o = state.engine.overview(event).await?;
    let p = o
        .pending
        .iter()
        .find(|p| p.id == approval)
        .ok_or_else(not_found)?;
    let (mut summary, impact) = approval::describe(p.gate, &p.summary, &o.blackboard, contracts);
    // A language model's summary says so (its figures were checked against the artifacts).
    if let Some(by) = &p.summary_by {
        summary.push_str(&format!(
            " (summary written by {by}; every figure in it was checked against the plan)"
        ));
    }
    Ok((
        o.event.title.clone(),
        gate_words(p.gate).to_owned(),
        p.artifact_revision,
        summary,
        impact,
    ))
}

#[derive(Template)]
#[template(path = "request.html")]
struct RequestPage {
    user: Option<UserView>,
    item: ApprovalItem,
    summary: String,
    impact: String,
    /// `request 2 of 5`.
    position: (usize, usize),
    previous: Option<String>,
    next: Option<String>,
    can_decide: bool,
    csrf: String,
}

/// One request of the inbox on its own page: what it commits, its cost impact, and a decision
/// form with nothing chosen in advance; links to the requests before and after it in the
/// inbox's order. The link in the approval-request e-mail opens this page.
async fn request_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: Client,
    Path(id): Path<String>,
) -> Response {
    let s = match session(&state, &headers, client).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let (_, _, _, summary, impact) = match pending_request(&state, &id, s.principal.contracts).await
    {
        Ok(x) => x,
        Err(e) if e.status() == axum::http::StatusCode::NOT_FOUND => {
            return page_error(ApiError::not_found(format!(
                "no pending approval {id}: it may have been decided already, or its revision replaced; the inbox lists what still waits"
            )));
        }
        Err(e) => return page_error(e),
    };
    // The inbox in its order (the earliest deadline first), to place this request in it.
    let page = match state.store.inbox(INBOX_WALK, 0).await {
        Ok(p) => p,
        Err(e) => return page_error(e.into()),
    };
    let now = state.engine.clock().now();
    let Some(i) = page.items.iter().position(|a| a.id.to_string() == id) else {
        return page_error(ApiError::not_found(format!(
            "approval {id} is not in the inbox (it may belong to an older revision or have been decided)"
        )));
    };
    let link = |i: usize| page.items.get(i).map(|a| format!("/ui/approvals/{}", a.id));
    let user = match user_view(&state, &s).await {
        Ok(u) => Some(u),
        Err(e) => return page_error(e),
    };
    render(RequestPage {
        user,
        item: approval_item(&page.items[i], now),
        summary,
        impact,
        position: (i + 1, usize::try_from(page.total).unwrap_or(usize::MAX)),
        previous: i.checked_sub(1).and_then(link),
        next: link(i + 1),
        can_decide: s.principal.role.grants(Permission::Approve),
        csrf: s.csrf.clone(),
    })
}

#[derive(Deserialize)]
struct DecisionForm {
    csrf: String,
    decision: String,
    #[serde(default)]
    comment: String,
}

#[derive(Template)]
#[template(path = "confirm.html")]
struct Confirm {
    user: Option<UserView>,
    id: String,
    csrf: String,
    decision: String,
    decision_label: String,
    gate: String,
    revision: u32,
    event_title: String,
    summary: String,
    impact: String,
    comment: String,
}

fn parse_decision(s: &str) -> Option<(ApprovalDecision, &'static str)> {
    match s {
        "approve" => Some((ApprovalDecision::Approve, "approve")),
        "reject" => Some((ApprovalDecision::Reject, "reject")),
        "request_changes" => Some((ApprovalDecision::RequestChanges, "request changes to")),
        _ => None,
    }
}

/// The checks of a decision form: a session, its own CSRF token, the approver role and a known
/// decision; otherwise the page that says why.
async fn decision_form(
    state: &AppState,
    headers: &HeaderMap,
    client: Client,
    f: &DecisionForm,
) -> Result<(Session, ApprovalDecision, &'static str), Box<Response>> {
    let s = form_session(state, headers, client, &f.csrf, Some(Permission::Approve))
        .await
        .map_err(Box::new)?;
    let (decision, label) = parse_decision(&f.decision).ok_or_else(|| {
        Box::new(page_error(ApiError::field(
            "/decision",
            "choose approve, reject or request changes",
        )))
    })?;
    Ok((s, decision, label))
}

async fn confirm(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: Client,
    Path(id): Path<String>,
    Form(f): Form<DecisionForm>,
) -> Response {
    let (s, _, label) = match decision_form(&state, &headers, client, &f).await {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let (event_title, gate, revision, summary, impact) =
        match pending_request(&state, &id, s.principal.contracts).await {
            Ok(x) => x,
            Err(e) => return page_error(e),
        };
    let user = match user_view(&state, &s).await {
        Ok(u) => Some(u),
        Err(e) => return page_error(e),
    };
    render(Confirm {
        user,
        id,
        csrf: s.csrf.clone(),
        decision: f.decision.clone(),
        decision_label: label.into(),
        gate,
        revision,
        event_title,
        summary,
        impact,
        comment: f.comment,
    })
}

async fn decide(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: Client,
    Path(id): Path<String>,
    Form(f): Form<DecisionForm>,
) -> Response {
    let (s, decision, _) = match decision_form(&state, &headers, client, &f).await {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let Ok(uuid) = uuid::Uuid::parse_str(&id) else {
        return page_error(ApiError::not_found(format!("no approval `{id}`")));
    };
    let approval = ApprovalId(uuid);
    let event = match state.store.approval_event(approval).await {
        Ok(Some(e)) => e,
        Ok(None) => return page_error(ApiError::not_found(format!("no approval {id}"))),
        Err(e) => return page_error(e.into()),
    };
    let gate = state
        .store
        .approvals(event)
        .await
        .ok()
        .and_then(|rows| rows.into_iter().find(|a| a.id == approval))
        .map(|a| a.gate.to_string())
        .unwrap_or_default();
    let answer = Answer {
        decision,
        comment: f.comment,
        by: s.principal.actor(),
    };
    match state.engine.decide_approval(event, approval, &answer).await {
        Ok(_) => {
            state.wake.notify_waiters();
            Redirect::to(&format!("/ui/approvals?decided={gate}")).into_response()
        }
        Err(e) => page_error(e.into()),
    }
}
