//! EODS's optional language-model backend (issue 16): a client for OpenAI-compatible chat
//! completions (the API of OpenAI, Azure OpenAI, vLLM, Ollama and llama.cpp's server), for the
//! work where words are the work. It is never in charge:
//!
//! - it is off unless configured ([`ModelConfig::from_env`]);
//! - every answer must be one JSON document that meets the task's JSON Schema (asked for as
//!   structured output where the server supports it, checked here in any case); an answer cut
//!   off, not JSON or against the schema is *invalid*, and the caller runs its deterministic
//!   path instead;
//! - a server that fails, times out or rate-limits is retried with backoff a bounded number of
//!   times, then the caller falls back;
//! - each event has a budget of calls and tokens ([`Usage`]); once spent, no request is made;
//! - every call, whatever became of it, comes back as a [`ModelCall`] record for the step's
//!   AgentTrace: model, parameters, messages, answer, tokens, latency, outcome and reason.
//!
//! [`ModelClient::ask`] never fails: a call that gives nothing usable is a record with outcome
//! `invalid` or `fallback` and no value.

use eods_domain::model::{ModelCall, ModelMessage, ModelOutcome};
use serde_json::{Value, json};
use std::time::Duration;
use tokio::time::Instant;

/// The server's base URL, up to and including `/v1` (`http://127.0.0.1:8081/v1`). Unset: no model.
pub const URL_ENV: &str = "EODS_MODEL_URL";
/// The model name sent with every request (required with [`URL_ENV`]).
pub const NAME_ENV: &str = "EODS_MODEL_NAME";
/// The API key, sent as a bearer token (optional: local servers need none).
pub const KEY_ENV: &str = "EODS_MODEL_KEY";
/// Seconds one request may take (default 30).
pub const TIMEOUT_ENV: &str = "EODS_MODEL_TIMEOUT_SECONDS";
/// Requests per event, retries included (default 20).
pub const CALLS_ENV: &str = "EODS_MODEL_MAX_CALLS";
/// Tokens per event, prompt and answer (default 20000).
pub const TOKENS_ENV: &str = "EODS_MODEL_MAX_TOKENS";

/// How much one event may spend on the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// HTTP requests, retries included.
    pub calls: u32,
    /// Prompt and completion tokens as the server counts them.
    pub tokens: u64,
}

/// What an event has spent so far (kept by the caller, one per event).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub calls: u32,
    pub tokens: u64,
}

/// Where the model is and how hard to try it.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelConfig {
    /// Up to and including `/v1`; `/chat/completions` is appended.
    pub base_url: String,
    pub model: String,
    pub api_key: Option<String>,
    /// The longest one request may take.
    pub timeout: Duration,
    /// Requests after the first for a transient failure (429, 5xx, timeout, no connection).
    pub retries: u32,
    /// The delay before the first retry; each further retry doubles it.
    pub base_delay: Duration,
    /// The longest delay between requests, also the cap on the server's `Retry-After`.
    pub max_delay: Duration,
    /// The longest answer asked for, in tokens.
    pub max_tokens: u32,
    pub temperature: f64,
    pub budget: Budget,
}

impl ModelConfig {
    /// A configuration with the defaults: 30 s per request, 2 retries from 500 ms up to 8 s,
    /// answers of at most 1024 tokens at temperature 0, 20 requests and 20,000 tokens per event.
    pub fn new(base_url: &str, model: &str) -> ModelConfig {
        ModelConfig {
            base_url: base_url.trim_end_matches('/').to_owned(),
            model: model.to_owned(),
            api_key: None,
            timeout: Duration::from_secs(30),
            retries: 2,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(8),
            max_tokens: 1024,
            temperature: 0.0,
            budget: Budget {
                calls: 20,
                tokens: 20_000,
            },
        }
    }

    /// The configuration in the environment: `None` when [`URL_ENV`] is unset or empty (no
    /// model: the deterministic path alone), an error naming the variable and the fix when a
    /// value is unusable.
    pub fn from_env() -> Result<Option<ModelConfig>, String> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// [`Self::from_env`] over any lookup of variables.
    pub fn from_lookup(
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<ModelConfig>, String> {
        let get = |k: &str| {
            get(k)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let Some(url) = get(URL_ENV) else {
            return Ok(None);
        };
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(format!(
                "{URL_ENV}=`{url}` is not an http(s) URL: give the server's base URL up to /v1, such as http://127.0.0.1:8081/v1"
            ));
        }
        let Some(name) = get(NAME_ENV) else {
            return Err(format!(
                "{URL_ENV} is set but {NAME_ENV} is not: name the model to ask (as the server knows it)"
            ));
        };
        let mut c = ModelConfig::new(&url, &name);
        c.api_key = get(KEY_ENV);
        let number = |k: &str, max: u64| -> Result<Option<u64>, String> {
            get(k)
                .map(|v| match v.parse::<u64>() {
                    Ok(n) if (1..=max).contains(&n) => Ok(n),
                    _ => Err(format!("{k}=`{v}` is not a whole number from 1 to {max}")),
                })
                .transpose()
        };
        if let Some(s) = number(TIMEOUT_ENV, 600)? {
            c.timeout = Duration::from_secs(s);
        }
        if let Some(n) = number(CALLS_ENV, 1000)? {
            c.budget.calls = u32::try_from(n).unwrap_or(1000);
        }
        if let Some(n) = number(TOKENS_ENV, 10_000_000)? {
            c.budget.tokens = n;
        }
        Ok(Some(c))
    }
}

/// One thing to ask: the instructions, the question, and the JSON Schema the answer must meet.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    /// What it is for; also the schema's name in the request (letters, digits, `_`).
    pub name: String,
    pub system: String,
    pub user: String,
    pub schema: Value,
}

/// A call's record and, when it was used, the answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub call: ModelCall,
    /// The validated answer (only with outcome `used`).
    pub value: Option<Value>,
}

/// A client for one OpenAI-compatible server, or for a run's record ([`ModelClient::replaying`]).
#[derive(Debug, Clone)]
pub struct ModelClient {
    config: ModelConfig,
    http: reqwest::Client,
    /// Set when replaying: the recorded calls not answered yet, in order.
    recorded: Option<std::sync::Arc<std::sync::Mutex<Vec<ModelCall>>>>,
}

/// Why a request gave no answer to read.
enum Failure {
    /// Worth another try (429, 5xx, timeout, no connection), after at least this long.
    Transient(String, Option<Duration>),
    /// Not worth another try.
    Refused(String),
    /// The server does not take this `response_format`: ask again in the next form.
    NoStructuredOutput(String),
}

/// How structured output is asked for, in the order tried: OpenAI's `json_schema` (OpenAI,
/// Azure OpenAI, vLLM, Ollama, llama.cpp's own server), then `json_object` with a `schema`
/// (llama-cpp-python's server, which refuses the first), then no `response_format` at all (the
/// schema is in the instructions in every form, and the answer is checked in every form).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    JsonSchema,
    JsonObjectSchema,
    Plain,
}

impl Format {
    fn next(self) -> Option<Format> {
        match self {
            Format::JsonSchema => Some(Format::JsonObjectSchema),
            Format::JsonObjectSchema => Some(Format::Plain),
            Format::Plain => None,
        }
    }
}

impl ModelClient {
    pub fn new(config: ModelConfig) -> Result<ModelClient, String> {
        let http = reqwest::Client::builder()
            .build()
            .map_err(|e| format!("cannot set up the model's HTTP client: {e}"))?;
        Ok(ModelClient {
            config,
            http,
            recorded: None,
        })
    }

    /// A client that answers from `calls`, the record of an earlier run, and makes no request:
    /// each question is answered by the first recorded call not used yet that asked the same
    /// thing (task and messages) of the same model. What the record's answer says is read
    /// again as a live answer would be (so a changed record changes the run); a question the
    /// record does not hold falls back, saying so.
    pub fn replaying(model: &str, calls: Vec<ModelCall>) -> ModelClient {
        ModelClient {
            config: ModelConfig::new("replay:", model),
            http: reqwest::Client::new(),
            recorded: Some(std::sync::Arc::new(std::sync::Mutex::new(calls))),
        }
    }

    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    /// Asks `task`, spending from `usage`; never fails (see the crate's documentation).
    pub async fn ask(&self, usage: &mut Usage, task: &Task) -> Answer {
        let t0 = Instant::now();
        if let Some(recorded) = &self.recorded {
            return self.replayed(recorded, usage, task);
        }
        let messages = Self::messages(task);
        let mut format = Format::JsonSchema;
        let mut call = self.unanswered(task, messages);
        let mut retry = 0;
        let result = loop {
            let b = self.config.budget;
            if usage.calls >= b.calls {
                break Err(format!(
                    "the budget of {} model calls for this event is spent",
                    b.calls
                ));
            }
            if usage.tokens >= b.tokens {
                break Err(format!(
                    "the budget of {} model tokens for this event is spent",
                    b.tokens
                ));
            }
            usage.calls += 1;
            call.attempts += 1;
            match self.request(&call).await {
                Ok(body) => break Ok(body),
                Err(Failure::NoStructuredOutput(why)) => match format.next() {
                    Some(f) => {
                        format = f;
                        call.parameters = self.parameters(task, format);
                    }
                    None => break Err(why),
                },
                Err(Failure::Refused(why)) => break Err(why),
                Err(Failure::Transient(why, after)) => {
                    if retry >= self.config.retries {
                        break Err(format!(
                            "{why} (gave up after {} attempt(s))",
                            call.attempts
                        ));
                    }
                    let backoff = self.config.base_delay.saturating_mul(1 << retry.min(16));
                    let delay = after.unwrap_or(backoff).min(self.config.max_delay);
                    retry += 1;
                    tokio::time::sleep(delay).await;
                }
            }
        };
        let value = match result {
            Ok(body) => read_answer(&mut call, usage, &body, task, self.config.max_tokens),
            Err(why) => {
                call.reason = Some(why);
                None
            }
        };
        call.latency_ms = u64::try_from(t0.elapsed().as_millis()).unwrap_or(u64::MAX);
        if let Some(why) = &call.reason {
            tracing::info!(task = %task.name, outcome = ?call.outcome, "model answer not used: {why}");
        }
        Answer { call, value }
    }

    /// The record of a call asking `messages` for `task` in the first form, before any answer.
    fn unanswered(&self, task: &Task, messages: Vec<ModelMessage>) -> ModelCall {
        ModelCall {
            task: task.name.clone(),
            model: self.config.model.clone(),
            parameters: self.parameters(task, Format::JsonSchema),
            messages,
            response: None,
            prompt_tokens: None,
            completion_tokens: None,
            latency_ms: 0,
            attempts: 0,
            outcome: ModelOutcome::Fallback,
            reason: None,
        }
    }

    /// The messages [`Self::ask`] sends for `task`.
    fn messages(task: &Task) -> Vec<ModelMessage> {
        let system = format!(
            "{}\n\nAnswer with one JSON document and nothing else. It must meet this JSON Schema:\n{}",
            task.system, task.schema
        );
        vec![
            ModelMessage {
                role: "system".into(),
                content: system,
            },
            ModelMessage {
                role: "user".into(),
                content: task.user.clone(),
            },
        ]
    }

    /// [`Self::ask`] answered from the record. A recorded answer the client took, or one the
    /// caller refused after the client took it (invalid, though it meets the schema), is read
    /// again and handed back as used, so the caller's checks run again on it; any other record
    /// (a failure, a budget spent, an answer cut off or against the schema) comes back as it was.
    fn replayed(
        &self,
        recorded: &std::sync::Mutex<Vec<ModelCall>>,
        usage: &mut Usage,
        task: &Task,
    ) -> Answer {
        let messages = Self::messages(task);
        let found = {
            let mut calls = recorded.lock().unwrap_or_else(|e| e.into_inner());
            calls
                .iter()
                .position(|c| {
                    c.task == task.name && c.model == self.config.model && c.messages == messages
                })
                .map(|i| calls.remove(i))
        };
        let Some(mut call) = found else {
            let mut call = self.unanswered(task, messages);
            call.reason = Some("replay: the record holds no call asking this of this model".into());
            return Answer { call, value: None };
        };
        usage.calls = usage.calls.saturating_add(call.attempts);
        usage.tokens = usage
            .tokens
            .saturating_add(call.prompt_tokens.unwrap_or(0))
            .saturating_add(call.completion_tokens.unwrap_or(0));
        let readable = call.outcome == ModelOutcome::Used
            || (call.outcome == ModelOutcome::Invalid
                && call.response.as_deref().is_some_and(|r| {
                    serde_json::from_str::<Value>(unfenced(r)).is_ok_and(|v| {
                        eods_domain::schema::schema_violations(&task.schema, &v).is_empty()
                    })
                }));
        if !readable {
            return Answer { call, value: None };
        }
        let content = call.response.clone().unwrap_or_default();
        call.reason = None;
        let value = read_content(&mut call, &content, task);
        Answer { call, value }
    }

    fn parameters(&self, task: &Task, format: Format) -> Value {
        let mut p = json!({
            "temperature": self.config.temperature,
            "max_tokens": self.config.max_tokens,
        });
        match format {
            Format::JsonSchema => {
                p["response_format"] = json!({
                    "type": "json_schema",
                    "json_schema": {"name": task.name, "schema": task.schema, "strict": true},
                });
            }
            Format::JsonObjectSchema => {
                p["response_format"] = json!({"type": "json_object", "schema": task.schema});
            }
            Format::Plain => {}
        }
        p
    }

    /// One request; the response body of a 2xx answer.
    async fn request(&self, call: &ModelCall) -> Result<String, Failure> {
        let url = format!("{}/chat/completions", self.config.base_url);
        let mut body = call.parameters.clone();
        body["model"] = json!(call.model);
        body["messages"] = json!(call.messages);
        let mut req = self.http.post(&url).json(&body);
        if let Some(k) = &self.config.api_key {
            req = req.bearer_auth(k);
        }
        let sent = async {
            let res = req.send().await?;
            let status = res.status();
            let after = res
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            let text = res.text().await?;
            Ok::<_, reqwest::Error>((status, after, text))
        };
        let (status, after, text) = match tokio::time::timeout(self.config.timeout, sent).await {
            Err(_) => {
                return Err(Failure::Transient(
                    format!(
                        "no answer from {url} within {} s",
                        self.config.timeout.as_secs_f64()
                    ),
                    None,
                ));
            }
            Ok(Err(e)) => {
                return Err(Failure::Transient(format!("cannot reach {url}: {e}"), None));
            }
            Ok(Ok(r)) => r,
        };
        if status.is_success() {
            return Ok(text);
        }
        let excerpt: String = text.chars().take(300).collect();
        // A server that cannot take the request's response format says so by naming it, with
        // 400, 422 or (llama-cpp-python) 500.
        if call.parameters.get("response_format").is_some()
            && status.as_u16() != 429
            && text.contains("response_format")
        {
            return Err(Failure::NoStructuredOutput(format!(
                "the model server refused the request's response format with {status}: {excerpt}"
            )));
        }
        if status.as_u16() == 429 || status.is_server_error() {
            return Err(Failure::Transient(
                format!("the model server answered {status}: {excerpt}"),
                after,
            ));
        }
        Err(Failure::Refused(format!(
            "the model server refused the request with {status}: {excerpt}"
        )))
    }
}

/// Reads a 2xx body into `call`; the validated answer, or `None` with `call` saying why.
fn read_answer(
    call: &mut ModelCall,
    usage: &mut Usage,
    body: &str,
    task: &Task,
    max_tokens: u32,
) -> Option<Value> {
    let invalid = |call: &mut ModelCall, why: String| {
        call.outcome = ModelOutcome::Invalid;
        call.reason = Some(why);
        None
    };
    let Ok(doc) = serde_json::from_str::<Value>(body) else {
        let excerpt: String = body.chars().take(200).collect();
        return invalid(
            call,
            format!("the server's answer is not a chat completion: `{excerpt}`"),
        );
    };
    call.prompt_tokens = doc["usage"]["prompt_tokens"].as_u64();
    call.completion_tokens = doc["usage"]["completion_tokens"].as_u64();
    usage.tokens = usage
        .tokens
        .saturating_add(call.prompt_tokens.unwrap_or(0))
        .saturating_add(call.completion_tokens.unwrap_or(0));
    let choice = &doc["choices"][0];
    let Some(content) = choice["message"]["content"].as_str() else {
        return invalid(call, "the server's answer holds no message content".into());
    };
    call.response = Some(content.to_owned());
    if choice["finish_reason"].as_str() == Some("length") {
        return invalid(
            call,
            format!("the answer was cut off at the limit of {max_tokens} tokens"),
        );
    }
    read_content(call, content, task)
}

/// Reads an answer's text into `call`: the JSON document it holds, if it meets the task's
/// schema.
fn read_content(call: &mut ModelCall, content: &str, task: &Task) -> Option<Value> {
    let invalid = |call: &mut ModelCall, why: String| {
        call.outcome = ModelOutcome::Invalid;
        call.reason = Some(why);
        None
    };
    let value: Value = match serde_json::from_str(unfenced(content)) {
        Ok(v) => v,
        Err(e) => return invalid(call, format!("the answer is not JSON: {e}")),
    };
    let violations = eods_domain::schema::schema_violations(&task.schema, &value);
    if !violations.is_empty() {
        let first: Vec<String> = violations
            .iter()
            .take(3)
            .map(|v| {
                format!(
                    "{}: {}",
                    if v.pointer.is_empty() {
                        "/"
                    } else {
                        &v.pointer
                    },
                    v.message
                )
            })
            .collect();
        return invalid(
            call,
            format!(
                "the answer does not meet the schema of {} ({} violation(s)): {}",
                task.name,
                violations.len(),
                first.join("; ")
            ),
        );
    }
    call.outcome = ModelOutcome::Used;
    Some(value)
}

/// The JSON inside a Markdown code fence, as small models often wrap it; the text otherwise.
fn unfenced(content: &str) -> &str {
    let t = content.trim();
    let Some(rest) = t.strip_prefix("```") else {
        return t;
    };
    let rest = rest.split_once('\n').map_or("", |(_, body)| body);
    rest.trim_end().strip_suffix("```").unwrap_or(rest).trim()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_configuration_is_off_unless_set_and_names_what_is_wrong() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        assert_eq!(ModelConfig::from_lookup(env(&[])), Ok(None));
        assert_eq!(ModelConfig::from_lookup(env(&[(URL_ENV, " ")])), Ok(None));
        let e = ModelConfig::from_lookup(env(&[(URL_ENV, "http://127.0.0.1:1/v1")])).unwrap_err();
        assert!(e.contains(NAME_ENV), "{e}");
        let e = ModelConfig::from_lookup(env(&[(URL_ENV, "127.0.0.1:1"), (NAME_ENV, "m")]))
            .unwrap_err();
        assert!(e.contains("http(s)"), "{e}");
        let e = ModelConfig::from_lookup(env(&[
            (URL_ENV, "http://h/v1"),
            (NAME_ENV, "m"),
            (CALLS_ENV, "0"),
        ]))
        .unwrap_err();
        assert!(e.contains(CALLS_ENV), "{e}");
        let c = ModelConfig::from_lookup(env(&[
            (URL_ENV, "http://h/v1/"),
            (NAME_ENV, "smollm2"),
            (KEY_ENV, "k"),
            (TIMEOUT_ENV, "5"),
            (TOKENS_ENV, "900"),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(
            (
                c.base_url.as_str(),
                c.model.as_str(),
                c.api_key.as_deref(),
                c.timeout,
                c.budget.tokens
            ),
            (
                "http://h/v1",
                "smollm2",
                Some("k"),
                Duration::from_secs(5),
                900
            )
        );
    }

    #[test]
    fn a_fenced_answer_is_unwrapped() {
        assert_eq!(unfenced("```json\n{\"a\": 1}\n```"), "{\"a\": 1}");
        assert_eq!(unfenced("  {\"a\": 1} "), "{\"a\": 1}");
        assert_eq!(unfenced("```\n[1]\n```\n"), "[1]");
    }
}
