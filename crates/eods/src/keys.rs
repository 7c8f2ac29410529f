//! `eods keys`: the master keys that seal contracts, negotiation notes, briefs and contact details
//! at rest. `generate` prints a new master key; `status` shows which master keys are configured
//! and which data keys of the database they open; `rotate` re-wraps every data key under the
//! first configured master key (the old one listed after it), while the service keeps running.
//! The cryptography and the storing are the store's (`eods_store::keys`).

use eods_store::keys::{KEY_ENV, KEY_FILE_ENV, KeyConfig, MasterKey, write_private};
use eods_store::{DEFAULT_PG_CONNECTIONS, Store};
use std::path::PathBuf;

/// The `eods keys` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum KeysCommand {
    /// Print a new random master key (base64), or write it to a new key file readable by its
    /// owner only.
    Generate {
        /// Write a new key file here instead of printing (refused if the file exists).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Show the configured master keys and the database's data keys, and whether they open.
    /// Exits 1 when a data key is wrapped by a master key that is not configured.
    Status {
        /// Print one JSON object (`master_keys`, `source`, `data_keys`).
        #[arg(long)]
        json: bool,
        #[arg(long, env = "EODS_DATABASE_URL", default_value = "sqlite://eods.db")]
        database: String,
    },
    /// Re-wrap every data key under the first master key of the key file (list the old key on
    /// the lines after it). Running instances keep working; restart them with the new key file
    /// at leisure, then remove the old key.
    Rotate {
        /// Also create a new data key: values written from now on are sealed under it.
        #[arg(long)]
        new_data_key: bool,
        #[arg(long, env = "EODS_DATABASE_URL", default_value = "sqlite://eods.db")]
        database: String,
    },
}

/// Runs an `eods keys` subcommand; the lines to print and whether everything is in order.
pub async fn run(cmd: KeysCommand) -> Result<(Vec<String>, bool), String> {
    match cmd {
        KeysCommand::Generate { out } => {
            let key = MasterKey::generate().map_err(|e| format!("error: {e}"))?;
            let Some(path) = out else {
                return Ok((vec![key], true));
            };
            let text = format!(
                "# EODS master key. Keep a copy apart from the database's backups.\n{key}\n"
            );
            write_private(&path, &text).map_err(|e| {
                format!(
                    "error: --out {}: {e} (a key file is never overwritten)",
                    path.display()
                )
            })?;
            let id = MasterKey::parse(&key).map_err(|e| format!("error: {e}"))?;
            Ok((
                vec![format!(
                    "wrote master key {} to {} (owner-only); use it with {KEY_FILE_ENV}={}",
                    id.id(),
                    path.display(),
                    path.display()
                )],
                true,
            ))
        }
        KeysCommand::Status { json, database } => {
            // A report creates nothing: without a key it says so instead of making one.
            let config =
                KeyConfig::for_database_if_present(&database).map_err(|e| format!("error: {e}"))?;
            let unconfigured = config.is_none();
            let config = match config {
                Some(c) => c,
                None => KeyConfig::ephemeral().map_err(|e| format!("error: {e}"))?,
            };
            let store = Store::open_keyed(&database, DEFAULT_PG_CONNECTIONS, config)
                .await
                .map_err(|e| format!("error: --database {database}: {e}"))?;
            let (ids, source) = store.master_keys();
            let data = store.data_keys().await.map_err(|e| format!("error: {e}"))?;
            store.close().await;
            let ok = data.iter().all(|d| d.usable);
            if json {
                let v =
                    serde_json::json!({"master_keys": ids, "source": source, "data_keys": data});
                return Ok((vec![v.to_string()], ok));
            }
            let mut out = vec![if unconfigured {
                format!(
                    "no master key is configured: set {KEY_FILE_ENV} or {KEY_ENV} (without either, the first command that writes creates the default key file; see README, Encryption at rest)"
                )
            } else {
                format!(
                    "master keys from {source}: {} (the first wraps new data keys)",
                    ids.join(", ")
                )
            }];
            out.push(format!("{} data key(s) in the database:", data.len()));
            for d in &data {
                out.push(format!(
                    "  {} wrapped by {}{}{}, created {}{}",
                    d.id,
                    d.master_key_id,
                    if d.usable {
                        ""
                    } else {
                        " (NOT CONFIGURED: its values cannot be read)"
                    },
                    if d.active { ", seals new values" } else { "" },
                    d.created_at.format("%Y-%m-%d %H:%M UTC"),
                    d.rewrapped_at
                        .map(|t| format!(", re-wrapped {}", t.format("%Y-%m-%d %H:%M UTC")))
                        .unwrap_or_default()
                ));
            }
            let stale: Vec<&str> = data
                .iter()
                .filter(|d| {
                    d.usable && Some(d.master_key_id.as_str()) != ids.first().map(String::as_str)
                })
                .map(|d| d.id.as_str())
                .collect();
            if !stale.is_empty() {
                out.push(format!(
                    "{} data key(s) still wrapped by an older master key: run `eods keys rotate`",
                    stale.len()
                ));
            }
            if !ok {
                out.push(format!(
                    "set {KEY_FILE_ENV} (or {KEY_ENV}) to the keys this database was used with"
                ));
            }
            Ok((out, ok))
        }
        KeysCommand::Rotate {
            new_data_key,
            database,
        } => {
            let store = Store::connect(&database)
                .await
                .map_err(|e| format!("error: --database {database}: {e}"))?;
            let r = store
                .rotate_keys(new_data_key)
                .await
                .map_err(|e| format!("error: {e}"))?;
            store.close().await;
            let mut out = vec![if r.rewrapped.is_empty() {
                format!(
                    "every data key was already wrapped by master key {}",
                    r.master_key_id
                )
            } else {
                format!(
                    "re-wrapped {} data key(s) under master key {}: {}",
                    r.rewrapped.len(),
                    r.master_key_id,
                    r.rewrapped.join(", ")
                )
            }];
            if let Some(k) = r.new_data_key {
                out.push(format!(
                    "new data key {k}: values written from now on are sealed under it"
                ));
            }
            out.push("older master keys can be removed from the key file once every instance runs with the new one".into());
            Ok((out, true))
        }
    }
}
