//! The record of one call to a language model (issue 16): what was asked, of which model, with
//! which parameters, what came back, what it cost and what became of it. Every call an agent's
//! step makes is kept in its AgentTrace, so a run can be read, audited and replayed offline.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What became of a model's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ModelOutcome {
    /// The answer passed validation and was used.
    Used,
    /// An answer came back but failed validation (not JSON, cut off, against the schema, or
    /// refused by the checks of what it describes); the deterministic path ran instead.
    Invalid,
    /// No usable answer came back (the budget was spent, the server failed or timed out); the
    /// deterministic path ran instead.
    Fallback,
}

/// One chat message as sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ModelMessage {
    /// `system` or `user`.
    pub role: String,
    pub content: String,
}

/// One call to a model, as recorded in the AgentTrace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ModelCall {
    /// What the call was for (`interpret_constraints`, `draft_rfq`, …): also the name of the
    /// JSON Schema the answer had to meet.
    pub task: String,
    /// The model name sent to the server.
    pub model: String,
    /// The request's parameters other than the messages (temperature, max_tokens,
    /// response_format).
    pub parameters: serde_json::Value,
    pub messages: Vec<ModelMessage>,
    /// The answer's text as the server returned it (the last attempt's), if any came back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_tokens: Option<u64>,
    /// Wall-clock time of the call, every attempt and backoff included.
    pub latency_ms: u64,
    /// HTTP requests made (retries included; 0 when the budget was already spent).
    pub attempts: u32,
    pub outcome: ModelOutcome,
    /// Why the answer was not used (`Invalid`, `Fallback`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}
