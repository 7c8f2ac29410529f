//! The one error type at the HTTP edge. Every error leaves as RFC 9457 `application/problem+json`
//! with a list of `{pointer, message}` items; 4xx say what to fix, 5xx are logged once with their
//! cause and say only that the server failed.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use eods_engine::{EngineError, SupplyError};
use eods_store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

/// One problem with the request, located by a JSON pointer into the body (or naming the
/// parameter).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ProblemItem {
    /// RFC 6901 pointer into the request body; for a parameter, `#/parameters/NAME`.
    pub pointer: String,
    pub message: String,
}

/// RFC 9457 problem details.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Problem {
    /// A URI reference naming the kind of problem (`/problems/<slug>`).
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The request path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// What to fix, one item per problem.
    pub errors: Vec<ProblemItem>,
    /// A blocked transition: artifacts that are missing or stale.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing_artifacts: Vec<String>,
    /// A blocked transition: gates that failed, with the reason.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failed_gates: Vec<String>,
    /// The request's correlation id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
}

/// An error answered to the client (boxed: it travels in every handler's `Result`).
#[derive(Debug)]
pub struct ApiError(Box<ApiProblem>);

impl std::ops::Deref for ApiError {
    type Target = ApiProblem;
    fn deref(&self) -> &ApiProblem {
        &self.0
    }
}

impl std::ops::DerefMut for ApiError {
    fn deref_mut(&mut self) -> &mut ApiProblem {
        &mut self.0
    }
}

/// What an [`ApiError`] says.
#[derive(Debug)]
pub struct ApiProblem {
    pub status: StatusCode,
    pub slug: &'static str,
    pub title: &'static str,
    pub detail: String,
    pub errors: Vec<ProblemItem>,
    pub missing_artifacts: Vec<String>,
    pub failed_gates: Vec<String>,
    /// Headers to add (WWW-Authenticate, Retry-After).
    pub headers: Vec<(header::HeaderName, String)>,
}

impl ApiError {
    pub fn new(
        status: StatusCode,
        slug: &'static str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        ApiError(Box::new(ApiProblem {
            status,
            slug,
            title,
            detail: detail.into(),
            errors: vec![],
            missing_artifacts: vec![],
            failed_gates: vec![],
            headers: vec![],
        }))
    }

    /// 422 with every violation.
    pub fn validation(detail: impl Into<String>, errors: Vec<ProblemItem>) -> Self {
        let mut e = ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            "The request is not valid",
            detail,
        );
        e.errors = errors;
        e
    }

    /// 422 for one field.
    pub fn field(pointer: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        ApiError::validation(
            message.clone(),
            vec![ProblemItem {
                pointer: pointer.into(),
                message,
            }],
        )
    }

    /// The HTTP status it answers with.
    pub fn status(&self) -> StatusCode {
        self.0.status
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "not-found", "Not found", what)
    }

    pub fn conflict(detail: impl Into<String>) -> Self {
        ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            "Conflict with the current state",
            detail,
        )
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        let mut e = ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Authentication required",
            detail,
        );
        e.headers
            .push((header::WWW_AUTHENTICATE, "Bearer realm=\"eods\"".into()));
        e
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "Not allowed for this token",
            detail,
        )
    }

    /// 429: too many failed sign-ins; try again after `retry_after` seconds.
    pub fn too_many_sign_ins(retry_after: u64) -> Self {
        let mut e = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too-many-sign-ins",
            "Too many failed sign-ins",
            format!(
                "too many failed sign-ins from this address or with this token id; try again in {retry_after} s with a valid token (`eods token create`)"
            ),
        );
        e.headers
            .push((header::RETRY_AFTER, retry_after.to_string()));
        e
    }

    /// A body over the limit (2 MiB).
    pub fn too_large() -> Self {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload-too-large",
            "Payload too large",
            "the body is larger than the 2 MiB the service accepts; send less (split a large import)",
        )
    }

    pub fn internal() -> Self {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal server error",
            "the server failed; the error is logged with this request's correlation id",
        )
    }

    /// A write refused because the service takes none now (`--read-only`, or the database
    /// refuses writes): 503 with Retry-After; reads keep working.
    pub fn read_only(detail: impl Into<String>) -> Self {
        let mut e = ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "read-only",
            "Read-only",
            detail,
        );
        e.headers.push((header::RETRY_AFTER, "30".into()));
        e
    }

    pub fn unavailable(detail: impl Into<String>) -> Self {
        let mut e = ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "Service unavailable",
            detail,
        );
        e.headers.push((header::RETRY_AFTER, "5".into()));
        e
    }

    pub fn into_problem(self, instance: Option<String>, correlation: Option<String>) -> Problem {
        let p = *self.0;
        Problem {
            problem_type: format!("/problems/{}", p.slug),
            title: p.title.into(),
            status: p.status.as_u16(),
            detail: p.detail,
            instance,
            errors: p.errors,
            missing_artifacts: p.missing_artifacts,
            failed_gates: p.failed_gates,
            correlation_id: correlation,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => ApiError::not_found(what),
            StoreError::Conflict(what) => ApiError::conflict(what),
            stale @ StoreError::Stale { .. } => ApiError::conflict(stale.to_string()),
            StoreError::Connect { .. } => {
                tracing::error!(error = %e, "database unreachable");
                ApiError::unavailable("the database is unreachable; try again shortly")
            }
            ref q @ StoreError::Query { .. } if q.is_read_only() => {
                tracing::warn!(error = %e, "the database refused a write: read-only");
                ApiError::read_only(
                    "the database takes no writes right now (read-only); reads keep working: try again later",
                )
            }
            // A value the database cannot hold that a check upstream missed (PostgreSQL: a NUL
            // character, a date beyond its range): the request's fault, not the service's.
            ref q @ StoreError::Query { .. } if q.is_unstorable_value() => {
                tracing::warn!(error = %e, "a value the database cannot store");
                ApiError::field(
                    "",
                    "a value cannot be stored: text with a NUL character (U+0000) or a date outside the years 1–9999",
                )
            }
            other => {
                tracing::error!(error = %other, source = ?std::error::Error::source(&other), "store error");
                ApiError::internal()
            }
        }
    }
}

/// The problem items of a payload's violations, pointer for pointer.
fn problems(violations: Vec<eods_domain::validate::Violation>) -> Vec<ProblemItem> {
    violations
        .into_iter()
        .map(|v| ProblemItem {
            pointer: v.pointer,
            message: v.message,
        })
        .collect()
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::Store(s) => s.into(),
            EngineError::NotFound(id) => ApiError::not_found(format!("event {id}")),
            EngineError::InvalidBrief(b) => crate::dto::brief_problem(&b),
            EngineError::Approval { id, reason } => {
                ApiError::conflict(format!("approval {id}: {reason}"))
            }
            EngineError::OwnEdit { id, reason } => {
                ApiError::forbidden(format!("approval {id}: {reason}"))
            }
            EngineError::DecisionRefused {
                id,
                pointer,
                reason,
            } => ApiError::field(&pointer, format!("approval {id}: {reason}")),
            EngineError::InvalidCommand(reason) => ApiError::conflict(reason),
            EngineError::Supply(e @ SupplyError::Executing(_)) => ApiError::conflict(e.to_string()),
            EngineError::Supply(e @ SupplyError::Empty) => ApiError::field("", e.to_string()),
            EngineError::Supply(SupplyError::Invalid { violations }) => {
                ApiError::validation("the organiser data is not valid", problems(violations))
            }
            EngineError::Task(eods_engine::TaskError::Update(u)) => {
                ApiError::field(u.pointer(), u.to_string())
            }
            EngineError::Task(eods_engine::TaskError::BadAnswer { pointer, message }) => {
                ApiError::field(&pointer, message)
            }
            EngineError::Task(e @ eods_engine::TaskError::UnknownTask { .. }) => {
                ApiError::not_found(e.to_string())
            }
            EngineError::Task(e) => ApiError::conflict(e.to_string()),
            EngineError::Edit(eods_engine::EditError::Invalid {
                artifact_type,
                violations,
            }) => ApiError::validation(
                format!("the edited {artifact_type} is not valid"),
                problems(violations),
            ),
            EngineError::Edit(e @ eods_engine::EditError::Missing(_)) => {
                ApiError::not_found(e.to_string())
            }
            EngineError::Edit(e) => ApiError::conflict(e.to_string()),
            EngineError::Draft(e) => {
                use eods_engine::drafts::DraftError;
                match e {
                    DraftError::Unknown { .. } => ApiError::not_found(e.to_string()),
                    DraftError::OwnWords(_) => ApiError::forbidden(e.to_string()),
                    DraftError::Invalid { violations } => {
                        ApiError::validation("the drafts are not valid", problems(violations))
                    }
                    DraftError::NothingToDraft
                    | DraftError::NoDrafts
                    | DraftError::AlreadyApproved(_)
                    | DraftError::Stale { .. } => ApiError::conflict(e.to_string()),
                }
            }
            EngineError::NeedsInput { missing, .. } => ApiError::field(
                "/brief",
                format!(
                    "the brief is incomplete; missing fields: {}",
                    missing.join(", ")
                ),
            ),
            other => {
                tracing::error!(error = %other, "engine error");
                ApiError::internal()
            }
        }
    }
}

/// Marks a response refused because writes are off, so the read-only guard can notice that the
/// database refused one.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ReadOnlyRefusal;

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status;
        let headers = self.headers.clone();
        // The middleware fills in the instance and correlation id (it knows the request).
        let read_only = self.slug == "read-only";
        let problem = self.into_problem(None, None);
        let mut res = (status, axum::Json(problem)).into_response();
        if read_only {
            res.extensions_mut().insert(ReadOnlyRefusal);
        }
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        for (name, value) in headers {
            if let Ok(v) = HeaderValue::from_str(&value) {
                res.headers_mut().insert(name, v);
            }
        }
        res
    }
}
