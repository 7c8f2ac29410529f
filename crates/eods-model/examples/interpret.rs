//! Asks the configured model (`EODS_MODEL_URL`, `EODS_MODEL_NAME`) to read each constraint given
//! as an argument into the recogniser's structured constraints, and prints one JSON line per
//! call: the text, the recogniser's own reading, and the model call's record (outcome, reason,
//! answer, tokens, latency). `scripts/model-smoke` runs it against a real model on loopback.
//!
//!   cargo run -p eods-model --example interpret -- "Vorträge nur zwischen 19 und 21 Uhr"

use eods_domain::constraints::{Understood, check_interpretation, read_text};
use eods_model::{ModelClient, ModelConfig, Task, Usage};
use serde_json::json;

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    let config = match ModelConfig::from_env() {
        Ok(Some(c)) => c,
        Ok(None) => {
            eprintln!(
                "set {} and {} to a model server",
                eods_model::URL_ENV,
                eods_model::NAME_ENV
            );
            return std::process::ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("error: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let client = match ModelClient::new(config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return std::process::ExitCode::from(1);
        }
    };
    let schema = schemars::schema_for!(Vec<Understood>).to_value();
    let mut usage = Usage::default();
    for text in std::env::args().skip(1) {
        let task = Task {
            name: "interpret_constraint".into(),
            system: "You read one constraint of an event brief, in any language, into structured constraints. Times are 24-hour HH:MM:SS. Give an empty list when the text states nothing you can express.".into(),
            user: text.clone(),
            schema: schema.clone(),
        };
        let (recognised, not_understood) = read_text(&text);
        let a = client.ask(&mut usage, &task).await;
        // What the engine would keep: structured constraints that pass the same checks.
        let kept = a.value.as_ref().map(|v| {
            serde_json::from_value::<Vec<Understood>>(v.clone())
                .map_err(|e| vec![e.to_string()])
                .and_then(|u| check_interpretation(&u).map(|()| u))
        });
        println!(
            "{}",
            json!({
                "text": text,
                "recogniser": {"understood": recognised, "not_understood": not_understood},
                "model": a.call,
                "kept": kept.as_ref().map(|k| k.as_ref().ok()),
                "refused": kept.as_ref().and_then(|k| k.as_ref().err()),
            })
        );
    }
    std::process::ExitCode::SUCCESS
}
