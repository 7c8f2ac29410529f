//! `eods replay EVENT`: re-runs a recorded event offline (see `eods_engine::replay`) and says
//! whether every artifact revision came out byte for byte as recorded.

use eods_agents::Tools;
use eods_domain::ids::EventId;
use eods_engine::replay::{Recording, ReplayError, ReplayReport};
use eods_store::Store;
use eods_store::keys::KeyConfig;
use std::sync::Arc;

/// Why the command failed: bad input (exit 2) or anything else (exit 1).
pub enum ReplayFailure {
    Input(String),
    Other(String),
}

/// Replays event `id` of `store` with `tools` on an in-memory scratch database.
pub async fn run(store: &Store, id: EventId, tools: Tools) -> Result<ReplayReport, ReplayFailure> {
    let recording = match Recording::read(store, id).await {
        Ok(r) => r,
        Err(ReplayError::NotFound(id)) => {
            return Err(ReplayFailure::Input(format!(
                "error: no event {id} in the database"
            )));
        }
        Err(e) => return Err(ReplayFailure::Other(format!("error: {e}"))),
    };
    let keys = KeyConfig::ephemeral().map_err(|e| ReplayFailure::Other(format!("error: {e}")))?;
    let scratch = Store::connect_keyed("sqlite::memory:", 1, keys)
        .await
        .map_err(|e| ReplayFailure::Other(format!("error: the replay's scratch database: {e}")))?;
    recording
        .replay(Arc::new(tools), scratch)
        .await
        .map_err(|e| ReplayFailure::Other(format!("error: {e}")))
}

/// The report as lines of text.
pub fn lines(r: &ReplayReport) -> Vec<String> {
    let mut out = vec![format!(
        "replayed event {} offline from its record: {} commits; {} input(s) from people (the submission included), {} decision(s), {} model call(s) and {} venue gathering(s) answered from the record",
        r.event_id, r.commits, r.inputs, r.decisions, r.model_calls, r.gatherings
    )];
    match &r.first_difference {
        None => out.push(format!(
            "identical: all {} recorded revisions reproduced byte for byte (payload, author and inputs; a trace's own timings are measurements and not compared)",
            r.revisions
        )),
        Some(d) => out.push(format!("first difference: {d}")),
    }
    out
}
