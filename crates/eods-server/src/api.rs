//! The routes under `/api/v1`. Each handler checks the caller's role first, parses its input into
//! typed values (a bad value is a 422 naming it), calls the engine or the store, and answers with
//! the DTOs of `dto.rs`; its `#[utoipa::path]` is the OpenAPI document of the route.

use crate::auth::Principal;
use crate::dto::*;
use crate::error::{ApiError, Problem, ProblemItem};
use crate::{AppState, CorrelationId, observe, organiser, redact, stream};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use eods_domain::access::Permission;
use eods_domain::artifact::{ArtifactType, Envelope};
use eods_domain::catalog::logistics::Injection;
use eods_domain::ids::{ApprovalId, EventId};
use eods_domain::lifecycle::{ApprovalDecision, ApprovalStatus};
use eods_engine::{
    Answer, ApprovalOutcome, Creation, EditError, EngineError, RunCommand, RunOptions, Supply,
};
use eods_store::{ApprovalRow, EventFilter, EventListRow, EventRow};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Every API route, with its document.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_event, list_events))
        .routes(routes!(get_event, patch_event))
        .routes(routes!(report_incident))
        .routes(routes!(resolve_incident))
        .routes(routes!(patch_task))
        .routes(routes!(record_feedback))
        .routes(routes!(write_drafts))
        .routes(routes!(approve_draft))
        .routes(routes!(put_venues))
        .routes(routes!(put_rate_cards))
        .routes(routes!(add_quotes))
        .routes(routes!(event_action))
        .routes(routes!(archive_event, restore_event))
        .routes(routes!(list_artifacts))
        .routes(routes!(get_artifact, put_artifact))
        .routes(routes!(artifact_revisions))
        .routes(routes!(decision_log))
        .routes(routes!(event_traces))
        .routes(routes!(event_metrics))
        .routes(routes!(event_export))
        .routes(routes!(audit_search))
        .routes(routes!(change_log))
        .routes(routes!(event_stream))
        .routes(routes!(list_approvals))
        .routes(routes!(decide))
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics))
}

fn parse_event_id(s: &str) -> Result<EventId, ApiError> {
    uuid::Uuid::parse_str(s)
        .map(EventId)
        .map_err(|_| ApiError::not_found(format!("no event with id `{s}` (ids are UUIDs)")))
}

async fn load_event(state: &AppState, s: &str) -> Result<EventRow, ApiError> {
    let id = parse_event_id(s)?;
    state
        .store
        .event(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no event with id {id}")))
}

fn parse_type(s: &str) -> Result<ArtifactType, ApiError> {
    ArtifactType::parse(s).map_err(|e| ApiError::not_found(format!("no artifact type `{s}`: {e}")))
}

fn summary(e: &EventRow) -> EventSummary {
    let s = &e.summary;
    EventSummary {
        id: e.id.0,
        title: e.title.clone(),
        state: e.state.into(),
        run_status: e.run_status.into(),
        level: e.level.into(),
        status_detail: e.status_detail.clone(),
        mode: Some(e.options.mode.into()),
        wake_at: e.wake_at,
        archived_at: e.archived_at,
        city: s.city.clone(),
        country: s.country.clone(),
        start_date: s.start_date,
        end_date: s.end_date,
        audience_size: s.audience_size,
        currency: s.currency.clone(),
        budget_total: s.budget_total.clone(),
        pending_approvals: None,
        created_at: e.created_at,
        updated_at: e.updated_at,
    }
}

fn list_item(e: &EventListRow) -> EventSummary {
    let s = &e.summary;
    EventSummary {
        id: e.id.0,
        title: e.title.clone(),
        state: e.state.into(),
        run_status: e.run_status.into(),
        level: e.level.into(),
        status_detail: e.status_detail.clone(),
        mode: None,
        wake_at: None,
        archived_at: e.archived_at,
        city: s.city.clone(),
        country: s.country.clone(),
        start_date: s.start_date,
        end_date: s.end_date,
        audience_size: s.audience_size,
        currency: s.currency.clone(),
        budget_total: s.budget_total.clone(),
        pending_approvals: Some(e.pending_approvals),
        created_at: e.created_at,
        updated_at: e.updated_at,
    }
}

pub(crate) fn approval_view(a: &ApprovalRow, now: chrono::DateTime<chrono::Utc>) -> ApprovalView {
    ApprovalView {
        id: a.id.0,
        event_id: a.event_id.0,
        gate: a.gate.into(),
        artifact_type: a.gate.artifact_type().as_str().to_owned(),
        artifact_revision: a.artifact_revision,
        status: a.status.into(),
        approver_role: a.approver_role.clone(),
        required_approvals: a.required_approvals,
        votes: a
            .votes
            .iter()
            .map(|v| VoteView {
                voter: v.voter.clone(),
                decision: v.decision.into(),
                comment: v.comment.clone(),
                at: v.at,
            })
            .collect(),
        requested_at: a.requested_at,
        deadline: a.deadline,
        overdue: a.status == ApprovalStatus::Pending && a.deadline < now,
        decided_at: a.decided_at,
        decided_by: a.decided_by.clone(),
        decision: a.decision.map(Into::into),
        comment: a.comment.clone(),
        summary: a.summary.as_ref().map(|(t, _)| t.clone()),
        summary_by: a.summary.as_ref().map(|(_, by)| by.clone()),
    }
}

fn envelope_view(e: Envelope, p: &Principal) -> ArtifactEnvelope {
    let mut payload = e.payload;
    let redacted = if p.contracts {
        vec![]
    } else {
        redact::redact(e.artifact_type, &mut payload)
    };
    ArtifactEnvelope {
        id: e.id.0,
        event_id: e.event_id.0,
        artifact_type: e.artifact_type.as_str().to_owned(),
        revision: e.revision,
        schema_version: e.schema_version,
        created_at: e.created_at,
        created_by: e.created_by,
        correlation_id: e.correlation_id,
        derived_from: serde_json::to_value(&e.derived_from).unwrap_or_default(),
        payload,
        redacted,
    }
}

fn query_problem(e: axum::extract::rejection::QueryRejection) -> ApiError {
    let text = e.body_text();
    // serde names the parameter either in backticks or before a colon: "…: since: invalid …".
    let name = text
        .split('`')
        .nth(1)
        .map(str::to_owned)
        .or_else(|| {
            text.strip_prefix("Failed to deserialize query string: ")
                .and_then(|rest| rest.split_once(": "))
                .map(|(n, _)| n.to_owned())
                .filter(|n| n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        })
        .unwrap_or_else(|| "query".into());
    ApiError::validation(
        format!("a query parameter is not valid: {text}"),
        vec![ProblemItem {
            pointer: format!("#/parameters/{name}"),
            message: text,
        }],
    )
}

/// Create an event from a brief and start planning it.
#[utoipa::path(post, path = "/api/v1/events", tag = "events",
    request_body = CreateEvent,
    responses(
        (status = 201, description = "Created; planning runs in the background unless auto_start is false", body = EventCreated,
            headers(("Location" = String, description = "The event's URL"), ("X-Correlation-Id" = String))),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The brief or an option is not valid; every problem with its pointer", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
async fn create_event(
    State(state): State<AppState>,
    cid: CorrelationId,
    p: Principal,
    ApiJson(req): ApiJson<CreateEvent>,
) -> Result<Response, ApiError> {
    p.require(Permission::Plan)?;
    let mut problems = Vec::new();
    let mut incidents = Vec::new();
    for (i, s) in req.incidents.iter().flatten().enumerate() {
        match Injection::parse(s) {
            Ok(x) => incidents.push(x),
            Err(e) => problems.push(ProblemItem {
                pointer: format!("/incidents/{i}"),
                message: e,
            }),
        }
    }
    let ranged = |v: Option<u32>, lo: u32, hi: u32, ptr: &str, problems: &mut Vec<ProblemItem>| {
        if let Some(x) = v
            && !(lo..=hi).contains(&x)
        {
            problems.push(ProblemItem {
                pointer: ptr.into(),
                message: format!("must be between {lo} and {hi}, got {x}"),
            });
        }
    };
    ranged(
        req.approval_deadline_hours,
        1,
        8760,
        "/approval_deadline_hours",
        &mut problems,
    );
    ranged(
        req.approval_deadline_seconds,
        1,
        31_536_000,
        "/approval_deadline_seconds",
        &mut problems,
    );
    ranged(
        req.required_approvals,
        1,
        10,
        "/required_approvals",
        &mut problems,
    );
    if let Some(seed) = req.seed
        && seed > 9_007_199_254_740_991
    {
        problems.push(ProblemItem {
            pointer: "/seed".into(),
            message: "must be at most 2^53 - 1".into(),
        });
    }
    if !req.brief.is_object() {
        problems.push(ProblemItem {
            pointer: "/brief".into(),
            message: "must be an object (an EventBrief)".into(),
        });
    }
    let supply = match creation_supply(&req, &p.actor()) {
        Ok(s) => s,
        Err(mut more) => {
            problems.append(&mut more);
            Supply::default()
        }
    };
    if !problems.is_empty() {
        return Err(ApiError::validation("the request is not valid", problems));
    }
    let options = RunOptions {
        level: req.level.map(Into::into),
        seed: req.seed.unwrap_or(42),
        incidents,
        resolutions: vec![],
        approval_deadline_hours: req.approval_deadline_hours.unwrap_or(48),
        approval_deadline_seconds: req.approval_deadline_seconds,
        required_approvals: req.required_approvals.unwrap_or(1),
        submitted_by: p.actor(),
        approve: "api".into(),
        correlation_id: Some(cid.0.clone()),
        allow_past: req.allow_past.unwrap_or(false),
        // The service follows the calendar unless asked for a rehearsal.
        mode: req.mode.map_or(eods_domain::run::RunMode::Live, Into::into),
        planned_from: None,
    };
    let engine = state.engine.clone().with_correlation(cid.0.clone());
    // The event, its data and its start are one transaction: a crash leaves nothing or an
    // event queued for the workers.
    let start = req.auto_start.unwrap_or(true);
    let with = Creation {
        supply: (!supply.is_empty())
            .then(|| (supply, p.actor(), "given with the new event".to_owned())),
        start_by: start.then(|| p.actor()),
    };
    let (e, missing) = match engine.create_row(req.brief, &options, with).await {
        Ok(e) => (e, vec![]),
        Err(EngineError::NeedsInput { event_id, missing }) => (
            state
                .store
                .event(event_id)
                .await?
                .ok_or_else(ApiError::internal)?,
            missing,
        ),
        Err(e) => return Err(e.into()),
    };
    let id = e.id;
    if missing.is_empty() && start {
        state.wake.notify_waiters();
    }
    let body = EventCreated {
        id: id.0,
        status: e.run_status.into(),
        state: e.state.into(),
        level: e.level.into(),
        missing_fields: missing,
    };
    let mut res = (StatusCode::CREATED, Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("/api/v1/events/{id}")) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    Ok(res)
}

/// The organiser data given with a new event, every bad row named; each list may come as JSON
/// objects or as CSV text, not both.
fn creation_supply(req: &CreateEvent, by: &str) -> Result<Supply, Vec<ProblemItem>> {
    let mut problems = Vec::new();
    fn one_of<T>(
        json: Option<&Vec<serde_json::Value>>,
        text: Option<&String>,
        names: (&str, &str),
        problems: &mut Vec<ProblemItem>,
        from_json: impl Fn(&[serde_json::Value], &str) -> organiser::Checked<T>,
        from_text: impl Fn(&str, &str) -> organiser::Checked<T>,
    ) -> Option<Vec<T>> {
        let (j, t) = names;
        let got = match (json, text) {
            (Some(_), Some(_)) => Err(vec![ProblemItem {
                pointer: format!("/{t}"),
                message: format!("give `{j}` or `{t}`, not both"),
            }]),
            (Some(items), None) => from_json(items, &format!("/{j}")),
            (None, Some(text)) => from_text(text, &format!("/{t}")),
            (None, None) => return None,
        };
        match got {
            Ok(records) => Some(records),
            Err(mut p) => {
                problems.append(&mut p);
                None
            }
        }
    }
    let venues = one_of(
        req.venues.as_ref(),
        req.venues_csv.as_ref(),
        ("venues", "venues_csv"),
        &mut problems,
        organiser::venues_json,
        |text, ptr| organiser::venues_text(text, "venues.csv", ptr),
    );
    let rate_cards = one_of(
        req.rate_cards.as_ref(),
        req.rate_cards_csv.as_ref(),
        ("rate_cards", "rate_cards_csv"),
        &mut problems,
        organiser::rate_cards_json,
        |text, ptr| organiser::rate_cards_text(text, "rate_cards.csv", ptr),
    );
    let quotes = one_of(
        req.quotes.as_ref(),
        req.quotes_csv.as_ref(),
        ("quotes", "quotes_csv"),
        &mut problems,
        |items, ptr| organiser::quotes_json(items, ptr, by),
        |text, ptr| organiser::quotes_text(text, "quotes.csv", ptr, by),
    );
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Supply {
        venues,
        rate_cards,
        add_quotes: quotes.unwrap_or_default(),
    })
}

/// Stores `supply` for the event `id` (a path parameter) and answers with what is stored now.
async fn supply_event(
    state: &AppState,
    cid: &CorrelationId,
    p: &Principal,
    id: &str,
    make: impl FnOnce(&str) -> Result<(Supply, String), ApiError>,
) -> Result<Json<OrganiserDataUpdated>, ApiError> {
    p.require(Permission::Plan)?;
    let e = load_event(state, id).await?;
    let (supply, comment) = make(&p.actor())?;
    let engine = state.engine.clone().with_correlation(cid.0.clone());
    let out = engine.supply(e.id, supply, &p.actor(), &comment).await?;
    state.wake.notify_waiters();
    Ok(Json(OrganiserDataUpdated {
        id: e.id.0,
        revision: out.envelope.revision,
        venues: out.data.venues.len(),
        rate_cards: out.data.rate_cards.len(),
        quotes: out.data.quotes.len(),
        change: out.change,
        status: out.run_status.into(),
        requeued: out.requeued,
    }))
}

fn rows_problem(problems: Vec<ProblemItem>) -> ApiError {
    ApiError::validation(
        format!(
            "{} row(s) are not valid; nothing was stored: fix them and send the list again",
            problems.len()
        ),
        problems,
    )
}

/// The JSON array a list route needs, else a 422.
fn json_array(v: serde_json::Value, what: &str) -> Result<Vec<serde_json::Value>, ApiError> {
    match v {
        serde_json::Value::Array(items) => Ok(items),
        _ => Err(ApiError::field(
            "",
            format!("send a JSON array of {what}, or the CSV with `Content-Type: text/csv`"),
        )),
    }
}

/// Replace the event's venue list (the organiser's own venues, which the Venue Researcher
/// consults first). CSV with the header `name,city,country,capacity,day_rate,currency` and
/// optional columns, or a JSON array of objects with those names. Every bad row is a 422 naming
/// its line and column (CSV) or element and field (JSON), and nothing is stored. A run waiting
/// for input or blocked is queued again.
#[utoipa::path(put, path = "/api/v1/events/{id}/venues", tag = "events",
    params(("id" = String, Path, description = "Event id (UUID)")),
    request_body(content(
        (Vec<VenueInput> = "application/json"),
        (String = "text/csv"),
    )),
    responses(
        (status = 200, body = OrganiserDataUpdated),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The event is executing or over", body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Rows that are not valid, each with its line and column", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
async fn put_venues(
    State(state): State<AppState>,
    cid: CorrelationId,
    p: Principal,
    Path(id): Path<String>,
    body: CsvOrJson,
) -> Result<Json<OrganiserDataUpdated>, ApiError> {
    let make = |_: &str| {
        let venues = match body {
            CsvOrJson::Csv(text) => organiser::venues_text(&text, "venues.csv", ""),
            CsvOrJson::Json(v) => organiser::venues_json(&json_array(v, "venues")?, ""),
        }
        .map_err(rows_problem)?;
        let supply = Supply {
            venues: Some(venues),
            ..Supply::default()
        };
        Ok((supply, "venue list replaced".to_owned()))
    };
    supply_event(&state, &cid, &p, &id, make).await
}

/// Replace the event's rate cards (the organiser's suppliers and prices). CSV with the header
/// `supplier,service,city,country,currency,item,unit,price` and optional `min_qty,contact,notes`,
/// or a JSON array of objects with those names. Bad rows are a 422 and nothing is stored.
#[utoipa::path(put, path = "/api/v1/events/{id}/rate-cards", tag = "events",
    params(("id" = String, Path, description = "Event id (UUID)")),
    request_body(content(
        (Vec<RateCardInput> = "application/json"),
        (String = "text/csv"),
    )),
    responses(
        (status = 200, body = OrganiserDataUpdated),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The event is executing or over", body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Rows that are not valid, each with its line and column", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
async fn put_rate_cards(
    State(state): State<AppState>,
    cid: CorrelationId,
    p: Principal,
    Path(id): Path<String>,
    body: CsvOrJson,
) -> Result<Json<OrganiserDataUpdated>, ApiError> {
    let make = |_: &str| {
        let rows = match body {
            CsvOrJson::Csv(text) => organiser::rate_cards_text(&text, "rate_cards.csv", ""),
            CsvOrJson::Json(v) => organiser::rate_cards_json(&json_array(v, "rate-card rows")?, ""),
        }
        .map_err(rows_problem)?;
        let supply = Supply {
            rate_cards: Some(rows),
            ..Supply::default()
        };
        Ok((supply, "rate cards replaced".to_owned()))
    };
    supply_event(&state, &cid, &p, &id, make).await
}

/// Add quotes (answers to requests for quote): JSON `{"quotes": [...]}` or CSV
/// `venue,capacity,day_rate,currency[,valid_until,rooms,notes]`. A quote for a venue that has one
/// replaces it. A run waiting for quotes is queued again and scoring continues from them.
#[utoipa::path(post, path = "/api/v1/events/{id}/quotes", tag = "events",
    params(("id" = String, Path, description = "Event id (UUID)")),
    request_body(content(
        (AddQuotes = "application/json"),
        (String = "text/csv"),
    )),
    responses(
        (status = 200, body = OrganiserDataUpdated),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The event is executing or over", body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Quotes that are not valid, each with its line and column", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
async fn add_quotes(
    State(state): State<AppState>,
    cid: CorrelationId,
    p: Principal,
    Path(id): Path<String>,
    body: CsvOrJson,
) -> Result<Json<OrganiserDataUpdated>, ApiError> {
    let make = |by: &str| {
        let mut comment = String::new();
        let quotes = match body {
            CsvOrJson::Csv(text) => organiser::quotes_text(&text, "quotes.csv", "", by),
            CsvOrJson::Json(v) => {
                let req: AddQuotes = serde_json::from_value(v).map_err(|e| {
                    ApiError::field(
                        "",
                        format!("send {{\"quotes\": [{{\"venue\": …, \"capacity\": …, \"day_rate\": …, \"currency\": …}}]}}: {e}"),
                    )
                })?;
                comment = req.comment.unwrap_or_default();
                organiser::quotes_json(&req.quotes, "/quotes", by)
            }
        }
        .map_err(rows_problem)?;
        if quotes.is_empty() {
            return Err(ApiError::field("/quotes", "give at least one quote"));
        }
        let supply = Supply {
            add_quotes: quotes,
            ..Supply::default()
        };
        Ok((supply, comment))
    };
    supply_event(&state, &cid, &p, &id, make).await
}

/// Filters and page of the event list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListEvents {
    /// Only events in this lifecycle state.
    pub state: Option<StateDto>,
    /// Only events with this run status.
    pub run_status: Option<RunStatusDto>,
    /// `true`: only archived events; default `false`, only those not archived.
    pub archived: Option<bool>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// Events to skip.
    #[param(minimum = 0)]
    pub offset: Option<u32>,
}

/// List events, newest first.
#[utoipa::path(get, path = "/api/v1/events", tag = "events", params(ListEvents),
    responses(
        (status = 200, body = EventPage),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
async fn list_events(
    State(state): State<AppState>,
    p: Principal,
    q: Result<Query<ListEvents>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<EventPage>, ApiError> {
    p.require(Permission::Read)?;
    let Query(q) = q.map_err(query_problem)?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::field(
            "#/parameters/limit",
            format!("limit must be between 1 and 200, got {limit}"),
        ));
    }
    let offset = q.offset.unwrap_or(0);
    let (events, total) = state
        .store
        .events_page(&EventFilter {
            state: q.state.map(Into::into),
            run_status: q.run_status.map(Into::into),
            archived: q.archived.unwrap_or(false),
            limit,
            offset,
        })
        .await?;
    Ok(Json(EventPage {
        items: events.iter().map(list_item).collect(),
        total,
        limit,
        offset,
    }))
}

/// One event: status, brief, current artifacts and approvals.
#[utoipa::path(get, path = "/api/v1/events/{id}", tag = "events",
    params(("id" = String, Path, description = "Event id (UUID)")),
    responses(
        (status = 200, body = EventDetail),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
async fn get_event(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Json<EventDetail>, ApiError> {
    p.require(Permission::Read)?;
    let e = load_event(&state, &id).await?;
    let artifacts = state.store.current_artifacts(e.id).await?;
    let approvals = state.store.approvals(e.id).await?;
    let steps = state.store.step_count(e.id).await?;
    let now = state.engine.clock().now();
    // The brief is the current event_brief revision; the draft only while there is none.
    let current_brief = artifacts
        .iter()
        .find(|a| a.artifact_type == ArtifactType::EventBrief);
    let (brief, brief_revision) = match current_brief {
        Some(a) => (a.payload.clone(), Some(a.revision)),
        None => (e.draft.clone().unwrap_or_default(), None),
    };
    Ok(Json(EventDetail {
        summary: summary(&e),
        brief,
        brief_revision,
        artifacts: artifacts
            .iter()
            .map(|a| ArtifactInfo {
                artifact_type: a.artifact_type.as_str().to_owned(),
                revision: a.revision,
                created_at: a.created_at,
                created_by: a.created_by.clone(),
                correlation_id: a.correlation_id.clone(),
            })
            .collect(),
        approvals: approvals.iter().map(|a| approval_view(a, now)).collect(),
        steps,
    }))
}

/// Amend the brief with a JSON merge patch (RFC 7386; `null` removes a field). A brief waiting
/// in `needs_input` starts planning once complete; a complete brief becomes the next event_brief
/// revision and everything derived from it is recomputed. Refused from Execute on.
#[utoipa::path(patch, path = "/api/v1/events/{id}", tag = "events",
    params(("id" = String, Path, description = "Event id (UUID)")),
    request_body(content = Object, content_type = "application/merge-patch+json", description = "Fields of the EventBrief to change"),
    responses(
        (status = 200, body = EventPatched),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The event is executing or over", body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The patched brief is not valid (pointers into the brief)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
async fn patch_event(
    State(state): State<AppState>,
    cid: CorrelationId,
    p: Principal,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<serde_json::Value>,
) -> Result<Json<EventPatched>, ApiError> {
    p.require(Permission::Plan)?;
    let e = load_event(&state, &id).await?;
    if !patch.is_object() {
        return Err(ApiError::field(
            "",
            "a merge patch of the brief must be a JSON object",
        ));
    }
    let engine = state.engine.clone().with_correlation(cid.0.clone());
    let out = engine
        .amend_brief(e.id, &patch, &p.actor())
        .await
        .map_err(|err| match err {
            EngineError::InvalidBrief(b) => brief_problem_at(&b, ""),
            other => other.into(),
        })?;
    state.wake.notify_waiters();
    let now = state
        .store
        .event(e.id)
        .await?
        .ok_or_else(ApiError::internal)?;
    Ok(Json(EventPatched {
        id: e.id.0,
        status: now.run_status.into(),
        state: now.state.into(),
        level: now.level.into(),
        missing_fields: out.missing,
        brief_revision: out.revision,
    }))
}

/// Record a task's status in a live event (done, in progress, not started, or blocked with a
/// reason): the next runbook revision by the caller, a ChangeLog entry, and the answer says what
/// is late, blocked and at risk (milestones, the event date, the critical path) from what is
/// recorded and today's date. A rehearsal (mode simulate) has no tasks to record (409).
#[utoipa::path(patch, path = "/api/v1/events/{id}/tasks/{task_id}", tag = "events",
    params(("id" = String, Path, description = "Event id (UUID)"),
           ("task_id" = String, Path, description = "A task id of the task register, e.g. task-3")),
    request_body = TaskStatusUpdate,
    responses(
        (status = 200, body = TaskStatusRecorded),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such event or task", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A rehearsal, no tasks yet, or the postmortem is done", body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
async fn patch_task(
    State(state): State<AppState>,
    cid: CorrelationId,
    p: Principal,
    Path((id, task_id)): Path<(String, String)>,
    ApiJson(req): ApiJson<TaskStatusUpdate>,
) -> Result<Json<TaskStatusRecorded>, ApiError> {
    p.require(Permission::Plan)?;
    let e = load_event(&state, &id).await?;
    let engine = state.engine.clone().with_correlation(cid.0.clone());
    let actual_cost = match req
        .actual_cost
        .as_deref()
        .map(eods_domain::progress::parse_cost)
    {
        Some(Err(e)) => return Err(ApiError::field(e.pointer(), e.to_string())),
        Some(Ok(c)) => c,
        None => None,
    };
    let update = eods_domain::progress::TaskUpdate {
        status: req.status.into(),
        completed_on: req.completed_on,
        note: req.reason,
        actual_cost,
    };
    let r = engine
        .record_task(e.id, &task_id, update, &p.actor())
        .await?;
    Ok(Json(TaskStatusRecorded {
        task_id: r.entry.task_id.to_string(),
        title: r.entry.title.clone(),
        status: r.entry.status.into(),
        planned_end: r.entry.planned_end,
        completed_on: r.entry.completed_on,
        reason: r.entry.note.clone(),
        actual_cost: r.entry.actual_cost.map(|c| c.to_string()),
        runbook_revision: r.envelope.revision,
        late: r
            .at_risk
            .late
            .iter()
            .map(|(t, d)| LateTask {
                task_id: t.to_string(),
                days: *d,
            })
            .collect(),
        blocked: r.at_risk.blocked.iter().map(ToString::to_string).collect(),
        milestones_at_risk: r
            .at_risk
            .milestones
            .iter()
            .map(|(m, name, planned, projected)| MilestoneAtRisk {
                milestone_id: m.to_string(),
                name: name.clone(),
                planned: *planned,
                projected: *projected,
            })
            .collect(),
        projected_end: r.at_risk.projected_end,
        event_date_at_risk: r.at_risk.event_at_risk,
        critical_path: r
            .at_risk
            .critical_path
            .iter()
            .map(ToString::to_string)
            .collect(),
        summary: r.at_risk.summary(),
    }))
}

/// Report an incident for Execute (before or during it): the contingency scenario it triggers
/// runs when Execute plays it, and the DecisionLog and ChangeLog record the report. On a live
/// event it is recorded at the time of the report (unless `at` says otherwise), the owner and
/// the escalation path are notified (webhook and e-mail), and it stays open until someone
/// records its resolution.
#[utoipa::path(post, path = "/api/v1/events/{id}/incidents", tag = "events",
    params(("id" = String, Path, description = "Event id (UUID)")),
    request_body = ReportIncident,
    responses(
        (status = 202, body = IncidentReported),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The event is over", body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
async fn report_incident(
    State(state): State<AppState>,
    cid: CorrelationId,
    p: Principal,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<ReportIncident>,
) -> Result<(StatusCode, Json<IncidentReported>), ApiError> {
    p.require(Permission::Plan)?;
    let e = load_event(&state, &id).await?;
    let text = match &req.at {
        Some(at) => format!("{}@{at}", req.kind),
        None => req.kind.clone(),
    };
    let incident = Injection::parse(&text).map_err(|msg| {
        let pointer = if msg.starts_with("unknown incident") {
            "/kind"
        } else {
            "/at"
        };
        ApiError::field(pointer, msg)
    })?;
    let engine = state.engine.clone().with_correlation(cid.0.clone());
    let all = engine
        .report_incident(
            e.id,
            incident,
            &p.actor(),
            req.comment.as_deref().unwrap_or(""),
        )
        .await?;
    state.wake.notify_waiters();
    let now = state
        .store
        .event(e.id)
        .await?
        .ok_or_else(ApiError::internal)?;
    Ok((
        StatusCode::ACCEPTED,
        Json(IncidentReported {
            id: e.id.0,
            incidents: all
                .iter()
                .map(|i| match i.at_minutes {
                    Some(m) => format!("{}@{m}", i.kind.as_str()),
                    None => i.kind.as_str(),
                })
                .collect(),
            status: now.run_status.into(),
            state: now.state.into(),
        }),
    ))
}

/// Record how a person resolved an incident of a live event (once per incident): the incident
/// log shows it resolved then, with the note, and the postmortem measures the real resolution
/// time. A rehearsal's incidents are resolved by the simulation (409).
#[utoipa::path(post, path = "/api/v1/events/{id}/incidents/{number}/resolve", tag = "events",
    params(("id" = String, Path, description = "Event id (UUID)"),
           ("number" = u32, Path, description = "The incident's number, from 1 in the order reported")),
    request_body = ResolveIncident,
    responses(
        (status = 200, body = IncidentResolved),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such event or incident", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A rehearsal, already resolved, or the event is over", body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
async fn resolve_incident(
    State(state): State<AppState>,
    cid: CorrelationId,
    p: Principal,
    Path((id, number)): Path<(String, String)>,
    ApiJson(req): ApiJson<ResolveIncident>,
) -> Result<Json<IncidentResolved>, ApiError> {
    p.require(Permission::Plan)?;
    let e = load_event(&state, &id).await?;
    let number: u32 = number.parse().map_err(|_| {
        ApiError::not_found(format!(
            "no incident `{number}`: incidents are numbered 1, 2, … in the order reported"
        ))
    })?;
    if req.note.trim().is_empty() {
        return Err(ApiError::field(
            "/note",
            "say how the incident was resolved",
        ));
    }
    let count = e.options.incidents.len();
    if usize::try_from(number).map_or(true, |n| n == 0 || n > count) {
        return Err(ApiError::not_found(format!(
            "incident {number}: the event has {count} reported incident(s), numbered from 1"
        )));
    }
    let engine = state.engine.clone().with_correlation(cid.0.clone());
    let r = engine
        .resolve_incident(e.id, number, &req.note, &p.actor())
        .await?;
    state.wake.notify_waiters();
    Ok(Json(IncidentResolved {
        id: e.id.0,
        incident: r.incident,
        resolved_at: r.at,
        resolved_by: r.by,
        note: r.note,
    }))
}

/// Control the run: `start` (queue it), `pause`, `resume`, `cancel`, or `advance` (move to the
/// next lifecycle state now if its gates pass; 409 with what blocks it otherwise).
#[utoipa::path(post, path = "/api/v1/events/{id}/actions/{action}", tag = "events",
    params(
        ("id" = String, Path, description = "Event id (UUID)"),
        ("action" = String, Path, description = "start, pause, resume, cancel or advance"),
    ),
    responses(
        (status = 202, description = "Accepted; the run proceeds in the background", body = ActionAccepted),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not possible in the current status, or the transition is blocked (missing_artifacts, failed_gates)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
async fn event_action(
    State(state): State<AppState>,
    cid: CorrelationId,
    p: Principal,
    Path((id, action)): Path<(String, String)>,
) -> Result<(StatusCode, Json<ActionAccepted>), ApiError> {
    p.require(Permission::Plan)?;
    let e = load_event(&state, &id).await?;
    let engine = state.engine.clone().with_correlation(cid.0.clone());
    let shown;
    if action == "advance" {
        match engine.advance_now(e.id).await? {
            Ok(_) => {}
            Err(b) => {
                let mut err = ApiError::conflict(b.to_string());
                err.slug = "blocked";
                err.title = "The transition is blocked";
                err.missing_artifacts = b
                    .missing
                    .iter()
                    .chain(b.stale.iter())
                    .map(|t| t.as_str().to_owned())
                    .collect();
                err.failed_gates = b
                    .failed
                    .iter()
                    .map(|g| format!("{}: {}", g.gate, g.problems.join("; ")))
                    .chain(b.invalid.iter().map(|(t, v)| format!("{t} invalid: {v}")))
                    .collect();
                return Err(err);
            }
        }
        shown = ActionDto::Start;
    } else {
        let cmd = match action.as_str() {
            "start" => RunCommand::Start,
            "pause" => RunCommand::Pause,
            "resume" => RunCommand::Resume,
            "cancel" => RunCommand::Cancel,
            other => {
                return Err(ApiError::not_found(format!(
                    "no action `{other}`: use start, pause, resume, cancel or advance"
                )));
            }
        };
        engine.command(e.id, cmd, &p.actor()).await?;
        shown = cmd.into();
    }
    state.wake.notify_waiters();
    let now = state
        .store
        .event(e.id)
        .await?
        .ok_or_else(ApiError::internal)?;
    Ok((
        StatusCode::ACCEPTED,
        Json(ActionAccepted {
            id: e.id.0,
            action: shown,
            status: now.run_status.into(),
            state: now.state.into(),
        }),
    ))
}

/// Record answers to a live event's feedback survey (planner): each a respondent and a score
/// from 1 to 5, with an optional comment; the postmortem's `stakeholder_satisfaction` is their
/// mean over 5 (measured again when the postmortem exists). 409 for a rehearsal or before the
/// event has begun; 422 naming a bad answer.
#[utoipa::path(post, path = "/api/v1/events/{id}/feedback", tag = "events",
    params(("id" = String, Path, description = "Event id (UUID)")),
    request_body = FeedbackInput,
    responses(
        (status = 200, body = FeedbackRecordedDto),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A rehearsal, or the event has not begun", body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
async fn record_feedback(
    State(state): State<AppState>,
    cid: CorrelationId,
    p: Principal,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<FeedbackInput>,
) -> Result<Json<FeedbackRecordedDto>, ApiError> {
    p.require(Permission::Plan)?;
    let e = load_event(&state, &id).await?;
    let answers: Vec<eods_engine::FeedbackAnswer> = req
        .responses
        .into_iter()
        .map(|a| eods_engine::FeedbackAnswer {
            respondent: a.respondent,
            score: a.score,
            comment: a.comment,
        })
        .collect();
    let r = state
        .engine
        .clone()
        .with_correlation(cid.0.clone())
        .record_feedback(e.id, &answers, &p.actor())
        .await?;
    state.wake.notify_waiters();
    Ok(Json(FeedbackRecordedDto {
        runbook_revision: r.envelope.revision,
        answers: r.answers,
        mean_score: r.mean,
        postmortem_remeasured: r.remeasured,
    }))
}

/// Write the event's message drafts from its plan (planner): a request for quote to each venue
/// lead that needs one, an announcement to each speaker and one to the attendees, in the brief's
/// `language`. Drafts people edited or approved are kept. Edit them with
/// `PUT …/artifacts/message_drafts`; nothing is sent before an approver approves it.
/// 409 when the plan holds nothing to write yet.
#[utoipa::path(post, path = "/api/v1/events/{id}/drafts", tag = "events",
    params(("id" = String, Path, description = "Event id (UUID)")),
    responses(
        (status = 200, body = DraftsWrittenDto),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Nothing to write yet", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
async fn write_drafts(
    State(state): State<AppState>,
    cid: CorrelationId,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Json<DraftsWrittenDto>, ApiError> {
    p.require(Permission::Plan)?;
    let e = load_event(&state, &id).await?;
    let r = state
        .engine
        .clone()
        .with_correlation(cid.0.clone())
        .write_drafts(e.id, &p.actor())
        .await?;
    Ok(Json(DraftsWrittenDto {
        revision: r.revision,
        changed: r.changed,
        drafts: r
            .drafts
            .drafts
            .iter()
            .map(|d| serde_json::to_value(d).unwrap_or_default())
            .collect(),
    }))
}

/// Approve one message draft for sending (approver), as read in `revision`: the DecisionLog
/// records it and, when the draft names an e-mail address, it is queued for e-mail (and the
/// webhook). A draft without an address is approved to be sent by hand. 409 when the revision
/// is not the current one or the draft is approved already; 404 for an unknown draft.
#[utoipa::path(post, path = "/api/v1/events/{id}/drafts/{draft}/approve", tag = "approvals",
    params(("id" = String, Path, description = "Event id (UUID)"),
           ("draft" = String, Path, description = "Draft id (`rfq-lead-1`, `speaker-1`, `attendees`)")),
    request_body = ApproveDraftInput,
    responses(
        (status = 200, body = DraftApprovedDto),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another revision is current, or the draft is approved already", body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
async fn approve_draft(
    State(state): State<AppState>,
    cid: CorrelationId,
    p: Principal,
    Path((id, draft)): Path<(String, String)>,
    ApiJson(req): ApiJson<ApproveDraftInput>,
) -> Result<Json<DraftApprovedDto>, ApiError> {
    p.require(Permission::Approve)?;
    let e = load_event(&state, &id).await?;
    let r = state
        .engine
        .clone()
        .with_correlation(cid.0.clone())
        .approve_draft(e.id, &draft, req.revision, &p.actor())
        .await?;
    Ok(Json(DraftApprovedDto {
        draft: serde_json::to_value(&r.draft).unwrap_or_default(),
        revision: r.revision,
        queued: r.queued,
    }))
}

/// Archive an event: kept whole and audited (a ChangeLog entry), hidden from `GET /events`
/// unless `archived=true`. Refused (409) while its run works or waits for approvals.
#[utoipa::path(post, path = "/api/v1/events/{id}/archive", tag = "events",
    params(("id" = String, Path, description = "Event id (UUID)")),
    responses(
        (status = 200, body = EventArchived),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The run works or waits for approvals: cancel it first", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
async fn archive_event(
    State(state): State<AppState>,
    cid: CorrelationId,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Json<EventArchived>, ApiError> {
    set_archived(&state, &cid, &p, &id, true).await
}

/// Restore an archived event to the lists (a ChangeLog entry).
#[utoipa::path(delete, path = "/api/v1/events/{id}/archive", tag = "events",
    params(("id" = String, Path, description = "Event id (UUID)")),
    responses(
        (status = 200, body = EventArchived),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
async fn restore_event(
    State(state): State<AppState>,
    cid: CorrelationId,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Json<EventArchived>, ApiError> {
    set_archived(&state, &cid, &p, &id, false).await
}

async fn set_archived(
    state: &AppState,
    cid: &CorrelationId,
    p: &Principal,
    id: &str,
    archive: bool,
) -> Result<Json<EventArchived>, ApiError> {
    p.require(Permission::Plan)?;
    let e = load_event(state, id).await?;
    let at = state
        .engine
        .clone()
        .with_correlation(cid.0.clone())
        .archive(e.id, archive, &p.actor())
        .await?;
    Ok(Json(EventArchived {
        id: e.id.0,
        archived_at: at,
    }))
}

/// The current revision of every artifact of an event.
#[utoipa::path(get, path = "/api/v1/events/{id}/artifacts", tag = "artifacts",
    params(("id" = String, Path, description = "Event id (UUID)")),
    responses(
        (status = 200, body = Vec<ArtifactInfo>),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
async fn list_artifacts(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Json<Vec<ArtifactInfo>>, ApiError> {
    p.require(Permission::Read)?;
    let e = load_event(&state, &id).await?;
    let artifacts = state.store.current_artifacts(e.id).await?;
    Ok(Json(
        artifacts
            .iter()
            .map(|a| ArtifactInfo {
                artifact_type: a.artifact_type.as_str().to_owned(),
                revision: a.revision,
                created_at: a.created_at,
                created_by: a.created_by.clone(),
                correlation_id: a.correlation_id.clone(),
            })
            .collect(),
    ))
}

/// Which revision to read.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RevisionQuery {
    /// A past revision (default: the current one).
    #[param(minimum = 1)]
    pub revision: Option<u32>,
}

/// One artifact (current revision, or `?revision=`). Sensitive fields are withheld without the
/// contracts permission (listed in `redacted`). The ETag is the revision, for `If-Match`.
#[utoipa::path(get, path = "/api/v1/events/{id}/artifacts/{type}", tag = "artifacts",
    params(
        ("id" = String, Path, description = "Event id (UUID)"),
        ("type" = String, Path, description = "Artifact type, e.g. timeline, budget_decision"),
        RevisionQuery,
    ),
    responses(
        (status = 200, body = ArtifactEnvelope, headers(("ETag" = String, description = "\"<revision>\""))),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
async fn get_artifact(
    State(state): State<AppState>,
    p: Principal,
    Path((id, t)): Path<(String, String)>,
    q: Result<Query<RevisionQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    p.require(Permission::Read)?;
    let Query(q) = q.map_err(query_problem)?;
    let e = load_event(&state, &id).await?;
    let t = parse_type(&t)?;
    let revisions = state.store.revisions(e.id, t).await?;
    let found = match q.revision {
        Some(r) => revisions.into_iter().find(|a| a.revision == r),
        None => revisions.into_iter().last(),
    };
    let a = found.ok_or_else(|| match q.revision {
        Some(r) => ApiError::not_found(format!("{t} has no revision {r}")),
        None => ApiError::not_found(format!("the event has no {t} yet")),
    })?;
    let etag = format!("\"{}\"", a.revision);
    let mut res = Json(envelope_view(a, &p)).into_response();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        res.headers_mut().insert(header::ETAG, v);
    }
    Ok(res)
}

/// Edit an artifact: the payload is validated, stored as a new revision by the caller, its
/// semantic diff goes to the ChangeLog, and everything derived from it is recomputed. Needs
/// `If-Match: "<revision>"` of the revision edited. An edit of an approved artifact needs a new
/// approval; a cost impact above the threshold re-opens the budget approval.
#[utoipa::path(put, path = "/api/v1/events/{id}/artifacts/{type}", tag = "artifacts",
    params(
        ("id" = String, Path, description = "Event id (UUID)"),
        ("type" = String, Path, description = "Artifact type"),
        ("If-Match" = String, Header, description = "The ETag of the revision edited"),
    ),
    request_body = ArtifactEdit,
    responses(
        (status = 200, body = ArtifactEdited),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a planner, or a contracts artifact without the contracts permission", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The type cannot be edited, or the event is executing", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match names a revision that is no longer current", body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The payload is not valid; every violation with its pointer", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match is missing", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
async fn put_artifact(
    State(state): State<AppState>,
    cid: CorrelationId,
    p: Principal,
    Path((id, t)): Path<(String, String)>,
    headers: HeaderMap,
    ApiJson(edit): ApiJson<ArtifactEdit>,
) -> Result<Json<ArtifactEdited>, ApiError> {
    p.require(Permission::Plan)?;
    let e = load_event(&state, &id).await?;
    let t = parse_type(&t)?;
    if redact::sensitive(t) && !p.contracts {
        return Err(ApiError::forbidden(format!(
            "editing {t} needs the contracts permission (its terms are withheld from the token `{}`); ask an admin for a token with it",
            p.name
        )));
    }
    let expected = match headers.get(header::IF_MATCH) {
        None => {
            return Err(ApiError::new(
                StatusCode::PRECONDITION_REQUIRED,
                "precondition-required",
                "If-Match required",
                format!(
                    "send `If-Match: \"<revision>\"` with the ETag of the {t} revision you edited (GET it first)"
                ),
            ));
        }
        Some(v) => v
            .to_str()
            .ok()
            .map(|s| s.trim().trim_start_matches("W/").trim_matches('"'))
            .and_then(|s| s.parse::<u32>().ok())
            .ok_or_else(|| {
                ApiError::field(
                    "#/parameters/If-Match",
                    "If-Match must be an ETag such as \"3\"",
                )
            })?,
    };
    let engine = state.engine.clone().with_correlation(cid.0.clone());
    let out = engine
        .edit_artifact(e.id, t, expected, edit.payload, &p.actor(), edit.comment.as_deref().unwrap_or(""), state.config.approval_threshold)
        .await
        .map_err(|err| match err {
            EngineError::Edit(EditError::Stale { expected, current }) => {
                let mut e = ApiError::new(
                    StatusCode::PRECONDITION_FAILED,
                    "stale",
                    "The revision is no longer current",
                    format!("If-Match names revision {expected}, the current one is {current}: GET it, re-apply the change and retry"),
                );
                e.errors = vec![ProblemItem { pointer: "#/parameters/If-Match".into(), message: format!("current revision is {current}") }];
                e
            }
            EngineError::Edit(EditError::Invalid { artifact_type, violations }) => ApiError::validation(
                format!("the edited {artifact_type} is not valid"),
                violations.into_iter().map(|v| ProblemItem { pointer: v.pointer, message: v.message }).collect(),
            ),
            EngineError::Edit(EditError::Missing(t)) => ApiError::not_found(format!("the event has no {t} yet")),
            EngineError::Edit(other) => ApiError::conflict(other.to_string()),
            other => other.into(),
        })?;
    state.wake.notify_waiters();
    Ok(Json(ArtifactEdited {
        artifact: envelope_view(out.envelope, &p),
        change: out.change,
        cost_delta: out.cost_delta.map(|d| d.to_string()),
        budget_reapproval: out.budget_reapproval,
        status: out.run_status.into(),
    }))
}

/// Every revision of one artifact type, oldest first.
#[utoipa::path(get, path = "/api/v1/events/{id}/artifacts/{type}/revisions", tag = "artifacts",
    params(
        ("id" = String, Path, description = "Event id (UUID)"),
        ("type" = String, Path, description = "Artifact type"),
    ),
    responses(
        (status = 200, body = Vec<ArtifactEnvelope>),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
async fn artifact_revisions(
    State(state): State<AppState>,
    p: Principal,
    Path((id, t)): Path<(String, String)>,
) -> Result<Json<Vec<ArtifactEnvelope>>, ApiError> {
    p.require(Permission::Read)?;
    let e = load_event(&state, &id).await?;
    let t = parse_type(&t)?;
    let revs = state.store.revisions(e.id, t).await?;
    Ok(Json(
        revs.into_iter().map(|a| envelope_view(a, &p)).collect(),
    ))
}

/// The DecisionLog of an event.
#[utoipa::path(get, path = "/api/v1/events/{id}/decision-log", tag = "audit",
    params(("id" = String, Path, description = "Event id (UUID)")),
    responses(
        (status = 200, body = LogPage),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
async fn decision_log(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Json<LogPage>, ApiError> {
    log_page(&state, &p, &id, eods_store::AuditLog::Decisions).await
}

/// The ChangeLog of an event.
#[utoipa::path(get, path = "/api/v1/events/{id}/change-log", tag = "audit",
    params(("id" = String, Path, description = "Event id (UUID)")),
    responses(
        (status = 200, body = LogPage),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
async fn change_log(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Json<LogPage>, ApiError> {
    log_page(&state, &p, &id, eods_store::AuditLog::Changes).await
}

/// One audit log of an event, in order.
async fn log_page(
    state: &AppState,
    p: &Principal,
    id: &str,
    log: eods_store::AuditLog,
) -> Result<Json<LogPage>, ApiError> {
    p.require(Permission::Read)?;
    let e = load_event(state, id).await?;
    let mut items: Vec<serde_json::Value> = match log {
        eods_store::AuditLog::Decisions => to_values(&state.store.decision_log(e.id).await?),
        eods_store::AuditLog::Changes => to_values(&state.store.change_log(e.id).await?),
    };
    if !p.contracts {
        for v in &mut items {
            redact::log_entry(log, v);
        }
    }
    Ok(Json(LogPage { items }))
}

fn to_values<T: serde::Serialize>(items: &[T]) -> Vec<serde_json::Value> {
    items
        .iter()
        .filter_map(|d| serde_json::to_value(d).ok())
        .collect()
}

/// The agent traces of an event (one per agent step), oldest first.
#[utoipa::path(get, path = "/api/v1/events/{id}/traces", tag = "audit",
    params(("id" = String, Path, description = "Event id (UUID)")),
    responses(
        (status = 200, body = Vec<ArtifactEnvelope>),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
async fn event_traces(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Json<Vec<ArtifactEnvelope>>, ApiError> {
    p.require(Permission::Read)?;
    let e = load_event(&state, &id).await?;
    let revs = state
        .store
        .revisions(e.id, ArtifactType::AgentTrace)
        .await?;
    Ok(Json(
        revs.into_iter().map(|a| envelope_view(a, &p)).collect(),
    ))
}

/// The DESIGN §6 metrics of an event as its postmortem measured them.
#[utoipa::path(get, path = "/api/v1/events/{id}/metrics", tag = "audit",
    params(("id" = String, Path, description = "Event id (UUID)")),
    responses(
        (status = 200, body = EventMetrics),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such event, or no postmortem yet", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
async fn event_metrics(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Json<EventMetrics>, ApiError> {
    p.require(Permission::Read)?;
    let e = load_event(&state, &id).await?;
    let pm = state
        .store
        .revisions(e.id, ArtifactType::Postmortem)
        .await?
        .into_iter()
        .last()
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "event {} has no postmortem yet (it is in {}); metrics are measured there",
                e.id, e.state
            ))
        })?;
    let revision = pm.revision;
    let pm: eods_domain::catalog::execution::Postmortem =
        serde_json::from_value(pm.payload).map_err(|_| ApiError::internal())?;
    Ok(Json(EventMetrics {
        id: e.id.0,
        postmortem_revision: revision,
        metrics: pm
            .metrics
            .iter()
            .map(|m| MetricView {
                name: serde_json::to_value(m.name)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                value: m.value.filter(|v| v.is_finite()),
                target: m.target.clone(),
                met: m.met,
                detail: m.detail.clone(),
            })
            .collect(),
        incidents_total: pm.incidents_total,
        incidents_resolved: pm.incidents_resolved,
    }))
}

/// An export of the event: `calendar.ics` (iCalendar: milestones and sessions),
/// `schedule.xml` (frab schedule XML, valid against the c3voc XSD), `budget.csv` (the cost
/// model's line items) or `report.md` (the event's report in Markdown).
#[utoipa::path(get, path = "/api/v1/events/{id}/exports/{format}", tag = "artifacts",
    params(
        ("id" = String, Path, description = "Event id (UUID)"),
        ("format" = String, Path, description = "calendar.ics, schedule.xml, budget.csv or report.md"),
    ),
    responses(
        (status = 200, description = "The export", content(
            (String = "text/calendar"),
            (String = "application/xml"),
            (String = "text/csv"),
            (String = "text/markdown"),
        )),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such event or format, or the artifact it needs does not exist yet", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
async fn event_export(
    State(state): State<AppState>,
    p: Principal,
    Path((id, format)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    p.require(Permission::Read)?;
    let e = load_event(&state, &id).await?;
    export_file(&state, &e, &format, p.contracts).await
}

/// The downloads of an event, by file name: `calendar.ics`, `schedule.xml`, `budget.csv` (the
/// API's exports) and `report.md` (the event's report, as `eods export` writes it; contract
/// amounts only with `contracts`). Shared by the API and the event page.
pub(crate) async fn export_file(
    state: &AppState,
    e: &eods_store::EventRow,
    format: &str,
    contracts: bool,
) -> Result<Response, ApiError> {
    use eods_domain::artifact::CatalogType;
    let current = state.store.current_artifacts(e.id).await?;
    fn typed<T: CatalogType + serde::de::DeserializeOwned>(all: &[Envelope]) -> Option<T> {
        let env = all.iter().find(|x| x.artifact_type == T::TYPE)?;
        serde_json::from_value(env.payload.clone()).ok()
    }
    let missing = |t: ArtifactType| {
        ApiError::not_found(format!(
            "event {} has no {t} yet (it is in {})",
            e.id, e.state
        ))
    };
    let (mime, body) = match format {
        "calendar.ics" => (
            "text/calendar; charset=utf-8",
            eods_formats::ical::calendar(
                e.id,
                &e.title,
                typed(&current).as_ref(),
                typed(&current).as_ref(),
            ),
        ),
        "schedule.xml" => {
            let schedule: eods_domain::catalog::logistics::Schedule =
                typed(&current).ok_or_else(|| missing(ArtifactType::Schedule))?;
            let revision = current
                .iter()
                .find(|x| x.artifact_type == ArtifactType::Schedule)
                .map_or(0, |x| x.revision);
            let meta = eods_formats::frab::ExportMeta {
                title: e.title.clone(),
                namespace: e.id.to_string(),
                version: format!("EODS schedule revision {revision}"),
            };
            (
                "application/xml; charset=utf-8",
                eods_formats::frab::export(&meta, &schedule),
            )
        }
        "budget.csv" => {
            let cost: eods_domain::catalog::budget::CostModel =
                typed(&current).ok_or_else(|| missing(ArtifactType::CostModel))?;
            // Without the contracts permission: by category, not what each supplier is paid.
            let csv = if contracts {
                eods_formats::csv::budget_csv(&cost, typed(&current).as_ref())
            } else {
                eods_formats::csv::budget_csv_by_category(&cost, typed(&current).as_ref())
            };
            ("text/csv; charset=utf-8", csv)
        }
        "report.md" => (
            "text/markdown; charset=utf-8",
            eods_engine::report::report_md(&state.store, e.id, contracts).await?,
        ),
        other => {
            return Err(ApiError::not_found(format!(
                "no export `{other}`: use calendar.ics, schedule.xml, budget.csv or report.md"
            )));
        }
    };
    let mut res = body.into_response();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{format}\"")) {
        res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}

/// Filters of the audit search.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// `decisions` (the DecisionLog) or `changes` (the ChangeLog); default decisions.
    pub log: Option<String>,
    /// Only this event.
    pub event_id: Option<uuid::Uuid>,
    /// The entry's type: a decision_type (`agent_step`, `approval`, `escalation`, …) or a change
    /// type (`created`, `revised`, `approved`, `incident`, …).
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub kind: Option<String>,
    /// Who: a decision's owner or a change's actor, e.g. `user:bob`, `agent:budget_analyst`.
    pub who: Option<String>,
    /// At or after (RFC 3339).
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    /// Before (RFC 3339).
    pub until: Option<chrono::DateTime<chrono::Utc>>,
    /// At most this many, 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

/// Search the DecisionLog or ChangeLog across events by type, owner or actor and time.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery),
    responses(
        (status = 200, body = AuditPage),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
async fn audit_search(
    State(state): State<AppState>,
    p: Principal,
    q: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<AuditPage>, ApiError> {
    p.require(Permission::Read)?;
    let Query(q) = q.map_err(query_problem)?;
    let log = match q.log.as_deref() {
        None | Some("decisions") => eods_store::AuditLog::Decisions,
        Some("changes") => eods_store::AuditLog::Changes,
        Some(other) => {
            return Err(ApiError::field(
                "#/parameters/log",
                format!("unknown log `{other}`: use decisions or changes"),
            ));
        }
    };
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::field(
            "#/parameters/limit",
            format!("limit must be between 1 and 1000, got {limit}"),
        ));
    }
    // Both databases hold the years 1 to 9999 alike (PostgreSQL refuses far more than SQLite).
    for (name, at) in [("since", q.since), ("until", q.until)] {
        use chrono::Datelike;
        if let Some(t) = at
            && !(1..=9999).contains(&t.year())
        {
            return Err(ApiError::field(
                &format!("#/parameters/{name}"),
                format!("{name}: {t} is outside the years 1 to 9999"),
            ));
        }
    }
    let rows = state
        .store
        .audit_search(
            log,
            &eods_store::AuditFilter {
                event: q.event_id.map(EventId),
                kind: q.kind,
                who: q.who,
                since: q.since,
                until: q.until,
                limit,
            },
        )
        .await?;
    Ok(Json(AuditPage {
        items: rows
            .into_iter()
            .map(|(e, mut entry)| {
                if !p.contracts {
                    redact::log_entry(log, &mut entry);
                }
                AuditEntry {
                    event_id: e.0,
                    entry,
                }
            })
            .collect(),
    }))
}

/// Live progress as server-sent events: `status` (state and run status), `step` (each
/// committed step) and `end`.
#[utoipa::path(get, path = "/api/v1/events/{id}/stream", tag = "events",
    params(("id" = String, Path, description = "Event id (UUID)")),
    responses(
        (status = 200, description = "An event stream", content_type = "text/event-stream", body = String),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
async fn event_stream(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    p.require(Permission::Read)?;
    let e = load_event(&state, &id).await?;
    Ok(stream::progress(state, e.id).into_response())
}

/// Filters of the approvals list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListApprovals {
    /// Only requests with this status (`pending` for the inbox).
    pub status: Option<ApprovalStatusDto>,
    /// Only requests of this event.
    pub event_id: Option<uuid::Uuid>,
}

/// Approval requests across events, pending ones by deadline; others newest first (up to 500).
#[utoipa::path(get, path = "/api/v1/approvals", tag = "approvals", params(ListApprovals),
    responses(
        (status = 200, body = ApprovalList),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
async fn list_approvals(
    State(state): State<AppState>,
    p: Principal,
    q: Result<Query<ListApprovals>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<ApprovalList>, ApiError> {
    p.require(Permission::Read)?;
    let Query(q) = q.map_err(query_problem)?;
    let rows = match (q.event_id, q.status) {
        (Some(ev), _) => state.store.approvals(EventId(ev)).await?,
        (None, Some(ApprovalStatusDto::Pending)) => state.store.pending_approvals().await?,
        (None, _) => state.store.all_approvals(500).await?,
    };
    let want: Option<ApprovalStatus> = q.status.map(Into::into);
    let now = state.engine.clock().now();
    Ok(Json(ApprovalList {
        items: rows
            .iter()
            .filter(|a| want.is_none_or(|w| a.status == w))
            .map(|a| approval_view(a, now))
            .collect(),
    }))
}

/// Decide an approval request: approve, reject or request changes, with a comment. Needs the
/// approver (or admin) role; the author of the revision may not approve it. With a quorum above
/// one, an approval is a vote until enough approvers agreed.
#[utoipa::path(post, path = "/api/v1/approvals/{id}/decision", tag = "approvals",
    params(("id" = String, Path, description = "Approval id (UUID)")),
    request_body = DecisionRequest,
    responses(
        (status = 200, body = DecisionResult),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an approver, or the caller wrote the revision", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already decided, superseded, or the caller already voted", body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
async fn decide(
    State(state): State<AppState>,
    cid: CorrelationId,
    p: Principal,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<DecisionRequest>,
) -> Result<Json<DecisionResult>, ApiError> {
    p.require(Permission::Approve)?;
    let approval = uuid::Uuid::parse_str(&id)
        .map(ApprovalId)
        .map_err(|_| ApiError::not_found(format!("no approval with id `{id}` (ids are UUIDs)")))?;
    let event = state
        .store
        .approval_event(approval)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no approval with id {approval}")))?;
    let rows = state.store.approvals(event).await?;
    let row = rows
        .iter()
        .find(|a| a.id == approval)
        .ok_or_else(ApiError::internal)?;
    if row.status != ApprovalStatus::Pending {
        return Err(ApiError::conflict(format!(
            "approval {approval} is already {}",
            row.status.as_str()
        )));
    }
    let author = state
        .store
        .revisions(event, row.gate.artifact_type())
        .await?
        .into_iter()
        .find(|a| a.revision == row.artifact_revision)
        .map(|a| a.created_by);
    if author.as_deref() == Some(p.actor().as_str()) {
        return Err(ApiError::forbidden(format!(
            "{} wrote {} revision {}: an approver may not approve their own edit",
            p.actor(),
            row.gate.artifact_type(),
            row.artifact_revision
        )));
    }
    let decision: ApprovalDecision = req.decision.into();
    let engine = state.engine.clone().with_correlation(cid.0.clone());
    let outcome = engine
        .decide_approval(
            event,
            approval,
            &Answer {
                decision,
                comment: req.comment.clone(),
                by: p.actor(),
            },
        )
        .await?;
    observe::approval(row.gate.as_str(), decision.as_str());
    state.wake.notify_waiters();
    let rows = state.store.approvals(event).await?;
    let now = state.engine.clock().now();
    let view = rows
        .iter()
        .find(|a| a.id == approval)
        .map(|a| approval_view(a, now))
        .ok_or_else(ApiError::internal)?;
    Ok(Json(DecisionResult {
        approval: view,
        outcome: match outcome {
            ApprovalOutcome::Decided(_) => "decided".into(),
            ApprovalOutcome::Voted { .. } => "voted".into(),
        },
    }))
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "ops", responses((status = 200, body = Health)))]
async fn healthz(State(state): State<AppState>) -> Json<Health> {
    Json(Health {
        status: "ok".into(),
        database: state.store.backend().into(),
        instance: state.config.instance_id.clone(),
        version: env!("CARGO_PKG_VERSION").into(),
    })
}

/// Readiness: the database answers.
#[utoipa::path(get, path = "/readyz", tag = "ops", responses(
    (status = 200, body = Health),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
async fn readyz(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    state
        .store
        .ping()
        .await
        .map_err(|e| ApiError::unavailable(format!("the database does not answer: {e}")))?;
    Ok(Json(Health {
        status: "ok".into(),
        database: state.store.backend().into(),
        instance: state.config.instance_id.clone(),
        version: env!("CARGO_PKG_VERSION").into(),
    }))
}

/// Prometheus metrics (text exposition format).
#[utoipa::path(get, path = "/metrics", tag = "ops", responses(
    (status = 200, description = "Prometheus text format", content_type = "text/plain", body = String),
))]
async fn metrics(State(state): State<AppState>) -> Response {
    if let Ok(counts) = state.store.count_by_run_status().await {
        observe::events_by_status(&counts);
    }
    let mut res = observe::render().into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    res
}
