//! The model client against a local replay server on loopback: a real HTTP server that answers
//! each request with the next scripted reply and keeps what it was sent. Each protocol edge case
//! (rate limits, server errors, timeouts, answers cut off, not JSON or against the schema, a
//! server without structured output, a spent budget) ends in the outcome the AgentTrace records.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use eods_domain::model::ModelOutcome;
use eods_model::{ModelClient, ModelConfig, Task, Usage};
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One scripted reply.
#[derive(Clone)]
enum Reply {
    /// A 200 chat completion whose message content is this text.
    Content(&'static str, &'static str),
    /// A status, a `Retry-After` in seconds, and a body.
    Status(u16, Option<u64>, &'static str),
    /// Never answers (the client's timeout ends the request).
    Hang,
}

#[derive(Default)]
struct Script {
    replies: Mutex<VecDeque<Reply>>,
    seen: Mutex<Vec<(HeaderMap, Value)>>,
}

async fn chat(
    State(s): State<Arc<Script>>,
    headers: HeaderMap,
    body: axum::Json<Value>,
) -> Response {
    s.seen.lock().unwrap().push((headers, body.0));
    let next = s.replies.lock().unwrap().pop_front();
    match next {
        Some(Reply::Content(content, finish)) => axum::Json(json!({
            "id": "chatcmpl-1", "object": "chat.completion", "model": "replay",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish}],
            "usage": {"prompt_tokens": 40, "completion_tokens": 10, "total_tokens": 50}
        }))
        .into_response(),
        Some(Reply::Status(code, after, body)) => {
            let mut r = (StatusCode::from_u16(code).unwrap(), body).into_response();
            if let Some(a) = after {
                r.headers_mut().insert("retry-after", a.to_string().parse().unwrap());
            }
            r
        }
        Some(Reply::Hang) => std::future::pending().await,
        None => (StatusCode::GONE, "script exhausted").into_response(),
    }
}

/// A replay server with `replies`; its base URL and script.
async fn server(replies: &[Reply]) -> (String, Arc<Script>) {
    let script = Arc::new(Script::default());
    script
        .replies
        .lock()
        .unwrap()
        .extend(replies.iter().cloned());
    let app = axum::Router::new()
        .route("/v1/chat/completions", axum::routing::post(chat))
        .with_state(script.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/v1"), script)
}

fn client(url: &str) -> ModelClient {
    let mut c = ModelConfig::new(url, "replay-model");
    c.api_key = Some("sk-test".into());
    c.base_delay = Duration::from_millis(1);
    c.max_delay = Duration::from_millis(5);
    c.timeout = Duration::from_millis(300);
    ModelClient::new(c).unwrap()
}

fn window_task() -> Task {
    Task {
        name: "session_window".into(),
        system: "Read the time window of a constraint.".into(),
        user: "Vorträge nur zwischen 19 und 21 Uhr".into(),
        schema: json!({
            "type": "object",
            "properties": {
                "start": {"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$"},
                "end": {"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$"}
            },
            "required": ["start", "end"],
            "additionalProperties": false
        }),
    }
}

#[tokio::test]
async fn a_valid_answer_is_used_and_recorded_with_its_request() {
    let (url, script) = server(&[Reply::Content(
        r#"{"start": "19:00", "end": "21:00"}"#,
        "stop",
    )])
    .await;
    let mut usage = Usage::default();
    let a = client(&url).ask(&mut usage, &window_task()).await;
    assert_eq!(a.value, Some(json!({"start": "19:00", "end": "21:00"})));
    assert_eq!(a.call.outcome, ModelOutcome::Used);
    assert_eq!(a.call.reason, None);
    assert_eq!(
        (a.call.prompt_tokens, a.call.completion_tokens),
        (Some(40), Some(10))
    );
    assert_eq!(
        usage,
        Usage {
            calls: 1,
            tokens: 50
        }
    );
    assert_eq!(
        a.call.response.as_deref(),
        Some(r#"{"start": "19:00", "end": "21:00"}"#)
    );
    let seen = script.seen.lock().unwrap();
    let (headers, body) = &seen[0];
    assert_eq!(headers["authorization"], "Bearer sk-test");
    assert_eq!(body["model"], "replay-model");
    assert_eq!(body["response_format"]["type"], "json_schema");
    assert_eq!(
        body["response_format"]["json_schema"]["schema"],
        window_task().schema
    );
    assert_eq!(
        body["messages"][1]["content"],
        "Vorträge nur zwischen 19 und 21 Uhr"
    );
    // The record holds what was sent.
    assert_eq!(json!(a.call.messages), body["messages"]);
    assert_eq!(a.call.parameters["temperature"], body["temperature"]);
}

#[tokio::test]
async fn rate_limits_and_server_errors_are_retried_then_fall_back() {
    let (url, script) = server(&[
        Reply::Status(429, Some(0), "slow down"),
        Reply::Content(r#"{"start": "09:00", "end": "17:00"}"#, "stop"),
    ])
    .await;
    let mut usage = Usage::default();
    let a = client(&url).ask(&mut usage, &window_task()).await;
    assert_eq!((a.call.outcome, a.call.attempts), (ModelOutcome::Used, 2));
    assert_eq!(script.seen.lock().unwrap().len(), 2);

    let (url, script) = server(&[
        Reply::Status(500, None, "boom"),
        Reply::Status(502, None, "bad gateway"),
        Reply::Status(503, None, "unavailable"),
        Reply::Content(r#"{"start": "09:00", "end": "17:00"}"#, "stop"),
    ])
    .await;
    let mut usage = Usage::default();
    let a = client(&url).ask(&mut usage, &window_task()).await;
    assert_eq!(
        (a.call.outcome, a.call.attempts, a.value.clone()),
        (ModelOutcome::Fallback, 3, None)
    );
    let why = a.call.reason.unwrap();
    assert!(
        why.contains("503") && why.contains("gave up after 3"),
        "{why}"
    );
    assert_eq!(
        script.seen.lock().unwrap().len(),
        3,
        "two retries, then no more"
    );
}

#[tokio::test]
async fn a_server_that_never_answers_times_out_and_falls_back() {
    let (url, _script) = server(&[Reply::Hang, Reply::Hang, Reply::Hang]).await;
    let mut usage = Usage::default();
    let a = client(&url).ask(&mut usage, &window_task()).await;
    assert_eq!(
        (a.call.outcome, a.call.attempts),
        (ModelOutcome::Fallback, 3)
    );
    assert!(
        a.call.reason.as_deref().unwrap().contains("no answer from"),
        "{:?}",
        a.call.reason
    );
}

#[tokio::test]
async fn answers_cut_off_not_json_or_against_the_schema_are_invalid() {
    let cases = [
        (
            Reply::Content(r#"{"start": "19:00", "en"#, "length"),
            "cut off at the limit of 1024 tokens",
        ),
        (
            Reply::Content("Sure! The talks run from seven to nine.", "stop"),
            "not JSON",
        ),
        (
            Reply::Content(r#"{"start": "7pm", "end": "21:00"}"#, "stop"),
            "/start",
        ),
        (Reply::Content(r#"{"start": "19:00"}"#, "stop"), "end"),
        (
            Reply::Status(200, None, "<html>proxy error</html>"),
            "not a chat completion",
        ),
    ];
    for (reply, expected) in cases {
        let (url, _script) = server(&[reply]).await;
        let mut usage = Usage::default();
        let a = client(&url).ask(&mut usage, &window_task()).await;
        assert_eq!(
            a.call.outcome,
            ModelOutcome::Invalid,
            "{expected}: {:?}",
            a.call
        );
        assert_eq!(a.value, None);
        let why = a.call.reason.clone().unwrap();
        assert!(why.contains(expected), "expected `{expected}` in: {why}");
        assert_eq!(a.call.attempts, 1, "an invalid answer is not asked again");
    }
}

#[tokio::test]
async fn a_fenced_answer_is_read_and_a_server_without_structured_output_is_asked_plainly() {
    let (url, script) = server(&[
        Reply::Status(400, None, r#"{"error": "unsupported parameter: response_format"}"#),
        // llama-cpp-python's answer to a form it cannot take.
        Reply::Status(
            500,
            None,
            r#"{"error": {"message": "1 validation error: {'type': 'literal_error', 'loc': ('body', 'response_format', 'type')}"}}"#,
        ),
        Reply::Content("```json\n{\"start\": \"19:00\", \"end\": \"21:00\"}\n```", "stop"),
    ])
    .await;
    let mut usage = Usage::default();
    let a = client(&url).ask(&mut usage, &window_task()).await;
    assert_eq!(a.call.outcome, ModelOutcome::Used, "{:?}", a.call.reason);
    assert_eq!(a.call.attempts, 3);
    let seen = script.seen.lock().unwrap();
    assert_eq!(seen[0].1["response_format"]["type"], "json_schema");
    assert_eq!(seen[1].1["response_format"]["type"], "json_object");
    assert_eq!(seen[1].1["response_format"]["schema"], window_task().schema);
    assert!(seen[2].1.get("response_format").is_none());
    assert!(
        a.call.parameters.get("response_format").is_none(),
        "the record says how it was asked"
    );
    // The schema is in the instructions in every form.
    assert!(
        seen[2].1["messages"][0]["content"]
            .as_str()
            .unwrap()
            .contains("\"required\"")
    );
}

#[tokio::test]
async fn a_spent_budget_makes_no_request_and_other_refusals_are_not_retried() {
    let (url, script) = server(&[
        Reply::Content(r#"{"start": "19:00", "end": "21:00"}"#, "stop"),
        Reply::Content(r#"{"start": "19:00", "end": "21:00"}"#, "stop"),
    ])
    .await;
    let mut c = ModelConfig::new(&url, "replay-model");
    c.budget.calls = 1;
    let client = ModelClient::new(c).unwrap();
    let mut usage = Usage::default();
    assert_eq!(
        client.ask(&mut usage, &window_task()).await.call.outcome,
        ModelOutcome::Used
    );
    let a = client.ask(&mut usage, &window_task()).await;
    assert_eq!(
        (a.call.outcome, a.call.attempts),
        (ModelOutcome::Fallback, 0)
    );
    assert!(a.call.reason.unwrap().contains("budget of 1 model calls"));
    assert_eq!(script.seen.lock().unwrap().len(), 1);
    // The token budget counts what the server reported.
    let mut c = ModelConfig::new(&url, "replay-model");
    c.budget.tokens = 50;
    let mut spent = Usage {
        calls: 0,
        tokens: 50,
    };
    let a = ModelClient::new(c)
        .unwrap()
        .ask(&mut spent, &window_task())
        .await;
    assert!(a.call.reason.unwrap().contains("budget of 50 model tokens"));

    let (url, script) = server(&[Reply::Status(401, None, "bad key")]).await;
    let a = self::client(&url)
        .ask(&mut Usage::default(), &window_task())
        .await;
    assert_eq!(
        (a.call.outcome, a.call.attempts),
        (ModelOutcome::Fallback, 1)
    );
    assert!(a.call.reason.unwrap().contains("401"));
    assert_eq!(script.seen.lock().unwrap().len(), 1);
}
