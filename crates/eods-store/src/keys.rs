//! Encryption at rest (DESIGN §9): what is commercially sensitive or personal is sealed with
//! AES-256-GCM before it reaches the database, and opened when it is read back.
//!
//! Envelope encryption, as key management services do it: values are sealed under a *data key*
//! (random, 256 bits) kept in the `data_keys` table, wrapped by a *master key* that never enters
//! the database — it comes from a key file or an environment variable. Each sealed value names
//! its data key, and each data key names the master key that wraps it, so a master key can be
//! replaced by re-wrapping a handful of rows (`eods keys rotate`) while the sealed values, the
//! audit chain over them and every running instance stay as they are.
//!
//! A sealed value is a JSON object in place of the plaintext document:
//! `{"$sealed": "A256GCM", "key": "d-…", "data": "<base64: 12-byte nonce, ciphertext, tag>"}`,
//! bound by its associated data to the row it belongs to (an artifact's id, an event's id), so a
//! sealed value copied onto another row does not open. A value without `$sealed` is plaintext,
//! as rows written before this existed are.

use crate::{Store, StoreError};
use aes_gcm::aead::{Aead, Generate, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::{DateTime, Utc};
use eods_domain::artifact::ArtifactType;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

/// The environment variable naming a key file: one base64 master key per line, the first the
/// one that wraps new data keys, the others kept to open what older keys wrapped.
pub const KEY_FILE_ENV: &str = "EODS_ENCRYPTION_KEY_FILE";
/// The environment variable holding master keys themselves (base64, separated by whitespace or
/// commas, the first the active one), for deployments that pass secrets as variables.
pub const KEY_ENV: &str = "EODS_ENCRYPTION_KEY";

/// The marker of a sealed value and the algorithm that sealed it.
const SEALED: &str = "$sealed";
const ALGORITHM: &str = "A256GCM";
const NONCE_LEN: usize = 12;

/// Whether artifacts of type `t` are sealed at rest: contract terms, negotiation notes and target
/// prices, and the documents that carry people's contact details (the brief's stakeholders, the
/// stakeholder map, the organiser's venue and supplier lists, venue leads' contacts, the message
/// drafts' recipients).
pub fn sealed_type(t: ArtifactType) -> bool {
    t.is_sensitive()
        || matches!(
            t,
            ArtifactType::EventBrief
                | ArtifactType::StakeholderMap
                | ArtifactType::OrganiserData
                | ArtifactType::VenueLeads
                | ArtifactType::MessageDrafts
        )
}

/// A master key: 32 bytes and the id derived from them.
#[derive(Clone)]
pub struct MasterKey {
    id: String,
    cipher: Aes256Gcm,
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MasterKey({})", self.id)
    }
}

impl MasterKey {
    /// A master key from its base64 text (32 bytes).
    pub fn parse(text: &str) -> Result<MasterKey, String> {
        let bytes = B64.decode(text.trim()).map_err(|e| {
            format!("a master key is 32 bytes in base64 (`eods keys generate` prints one): {e}")
        })?;
        let key = Key::<Aes256Gcm>::try_from(bytes.as_slice()).map_err(|_| {
            format!(
                "a master key is 32 bytes in base64, this one is {} bytes (`eods keys generate` prints one)",
                bytes.len()
            )
        })?;
        let digest = Sha256::new()
            .chain_update(b"eods master key\0")
            .chain_update(bytes)
            .finalize();
        let id = format!("m-{}", &hex(&digest)[..12]);
        Ok(MasterKey {
            id,
            cipher: Aes256Gcm::new(&key),
        })
    }

    /// A new random master key, as the base64 text a key file holds.
    pub fn generate() -> Result<String, String> {
        let key = Key::<Aes256Gcm>::try_generate()
            .map_err(|e| format!("the system's random source failed: {e}"))?;
        Ok(B64.encode(key))
    }

    /// The key's id (`m-` and 12 hex digits of a hash of it): stored with every data key it wraps.
    pub fn id(&self) -> &str {
        &self.id
    }
}

/// The master keys a store was given: the first wraps new data keys, the others open data keys
/// that older master keys wrapped (until `eods keys rotate` re-wraps them).
#[derive(Clone, Debug)]
pub struct KeyConfig {
    keys: Vec<MasterKey>,
    /// Where the keys came from, for messages (`EODS_ENCRYPTION_KEY_FILE=/etc/eods/keys`).
    source: String,
}

impl KeyConfig {
    /// Master keys from text: one base64 key per line (or separated by whitespace or commas),
    /// `#` starts a comment. At least one key; the first is the active one.
    pub fn parse(text: &str, source: &str) -> Result<KeyConfig, StoreError> {
        let mut keys: Vec<MasterKey> = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("");
            for word in line.split(|c: char| c.is_whitespace() || c == ',') {
                if word.is_empty() {
                    continue;
                }
                let key = MasterKey::parse(word)
                    .map_err(|e| StoreError::Keys(format!("{source}, line {}: {e}", n + 1)))?;
                if !keys.iter().any(|k| k.id == key.id) {
                    keys.push(key);
                }
            }
        }
        if keys.is_empty() {
            return Err(StoreError::Keys(format!(
                "{source} holds no master key: put one base64 key per line (`eods keys generate` prints one)"
            )));
        }
        Ok(KeyConfig {
            keys,
            source: source.to_owned(),
        })
    }

    /// The master keys of a key file.
    pub fn from_file(path: &Path) -> Result<KeyConfig, StoreError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            StoreError::Keys(format!("cannot read the key file {}: {e}", path.display()))
        })?;
        Self::parse(&text, &format!("key file {}", path.display()))
    }

    /// One random master key that lives as long as the process (an in-memory database does too).
    pub fn ephemeral() -> Result<KeyConfig, StoreError> {
        let key = MasterKey::generate().map_err(StoreError::Keys)?;
        Self::parse(&key, "a key of this process (in-memory database)")
    }

    /// The master keys for the database at `url`: from `EODS_ENCRYPTION_KEY`, else from the file
    /// `EODS_ENCRYPTION_KEY_FILE` names, else from the default key file ([`default_key_file`]),
    /// which is created with a new random key (readable by its owner only) when it does not
    /// exist. An in-memory database gets a key of its own.
    pub fn for_database(url: &str) -> Result<KeyConfig, StoreError> {
        if let Ok(text) = std::env::var(KEY_ENV)
            && !text.trim().is_empty()
        {
            return Self::parse(&text, KEY_ENV);
        }
        if let Ok(path) = std::env::var(KEY_FILE_ENV)
            && !path.trim().is_empty()
        {
            return Self::from_file(Path::new(path.trim()));
        }
        match default_key_file(url) {
            Some(path) => {
                if create_key_file(&path)? {
                    tracing::warn!(
                        "created the master key file {} for {url}: keep a copy apart from the database's backups (without it the sealed values cannot be read), or set {KEY_FILE_ENV}",
                        path.display()
                    );
                }
                Self::from_file(&path)
            }
            None if is_memory(url) => Self::ephemeral(),
            None => Err(StoreError::Keys(format!(
                "no master key for {url}: set {KEY_FILE_ENV} to a key file (`eods keys generate --out FILE` writes one), or {KEY_ENV}; the default key file lives under $XDG_DATA_HOME or $HOME, and neither is set"
            ))),
        }
    }

    /// [`Self::for_database`] without creating anything: `None` when no key is configured and
    /// the default key file does not exist (for reports such as `eods keys status`).
    pub fn for_database_if_present(url: &str) -> Result<Option<KeyConfig>, StoreError> {
        let set = |k: &str| std::env::var(k).is_ok_and(|v| !v.trim().is_empty());
        if set(KEY_ENV) || set(KEY_FILE_ENV) || is_memory(url) {
            return Self::for_database(url).map(Some);
        }
        match default_key_file(url) {
            Some(path) if path.exists() => Self::from_file(&path).map(Some),
            _ => Ok(None),
        }
    }

    /// The master key that wraps new data keys.
    pub fn active(&self) -> &MasterKey {
        &self.keys[0]
    }

    /// The ids of the keys, the active one first.
    pub fn ids(&self) -> Vec<&str> {
        self.keys.iter().map(|k| k.id.as_str()).collect()
    }

    /// Where the keys came from.
    pub fn source(&self) -> &str {
        &self.source
    }

    fn get(&self, id: &str) -> Option<&MasterKey> {
        self.keys.iter().find(|k| k.id == id)
    }
}

/// The key file used when none is configured: beside a SQLite database (`eods.db.key`), under
/// the user's data directory for PostgreSQL (`$XDG_DATA_HOME/eods/master.key`, else
/// `~/.local/share/eods/master.key`); none for an in-memory database.
pub fn default_key_file(url: &str) -> Option<PathBuf> {
    if let Some(rest) = url.strip_prefix("sqlite:") {
        if is_memory(url) {
            return None;
        }
        let path = rest.trim_start_matches("//");
        let path = path.split('?').next().unwrap_or(path);
        return Some(PathBuf::from(format!("{path}.key")));
    }
    let base = std::env::var_os("XDG_DATA_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))?;
    Some(base.join("eods").join("master.key"))
}

fn is_memory(url: &str) -> bool {
    url.starts_with("sqlite:") && (url.contains(":memory:") || url.contains("mode=memory"))
}

/// Creates `path` with a new master key unless it exists; whether it created it. The key is
/// written to a temporary file first and linked into place, so a concurrent reader never sees
/// a half-written file and two processes creating it at once end up with the same key.
fn create_key_file(path: &Path) -> Result<bool, StoreError> {
    if path.exists() {
        return Ok(false);
    }
    let err = |what: &str, e: std::io::Error| {
        StoreError::Keys(format!(
            "cannot {what} the master key file {}: {e}; set {KEY_FILE_ENV} to a key file (`eods keys generate > FILE`)",
            path.display()
        ))
    };
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| err("create the directory of", e))?;
    let key = MasterKey::generate().map_err(StoreError::Keys)?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("key"),
        uuid::Uuid::now_v7().simple()
    ));
    let text = format!(
        "# EODS master key, created {}. Keep a copy apart from the database's backups.\n{key}\n",
        Utc::now().format("%Y-%m-%d")
    );
    write_private(&tmp, &text).map_err(|e| err("write", e))?;
    let linked = std::fs::hard_link(&tmp, path);
    std::fs::remove_file(&tmp).ok();
    match linked {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(err("create", e)),
    }
}

/// Writes `text` to a new file readable by its owner only.
pub fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}

/// A store's keys: its master keys and the data keys unwrapped from the database.
#[derive(Debug)]
pub(crate) struct Keyring {
    config: KeyConfig,
    data: RwLock<DataKeys>,
}

#[derive(Default)]
struct DataKeys {
    keys: HashMap<String, Aes256Gcm>,
    /// The data key new values are sealed under (the newest one).
    active: Option<String>,
}

impl fmt::Debug for DataKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "DataKeys({} loaded, active {:?})",
            self.keys.len(),
            self.active
        )
    }
}

/// Why a sealed value could not be opened.
enum OpenError {
    /// Its data key is not loaded (another instance may have created it since).
    UnknownKey(String),
    Failed(StoreError),
}

impl Keyring {
    pub(crate) fn new(config: KeyConfig) -> Arc<Keyring> {
        Arc::new(Keyring {
            config,
            data: RwLock::new(DataKeys::default()),
        })
    }

    pub(crate) fn config(&self) -> &KeyConfig {
        &self.config
    }

    /// `value` sealed under the active data key, bound to `context`.
    pub(crate) fn seal(&self, value: &Value, context: &str) -> Result<Value, StoreError> {
        let data = self.data.read().unwrap_or_else(|e| e.into_inner());
        let Some((id, cipher)) = data
            .active
            .as_ref()
            .and_then(|id| data.keys.get(id).map(|c| (id, c)))
        else {
            return Err(StoreError::Keys(
                "no data key to seal with: the database refused to store one (is it read-only?)"
                    .into(),
            ));
        };
        let plaintext = serde_json::to_vec(value)
            .map_err(|e| StoreError::Corrupt(format!("cannot write a document as JSON: {e}")))?;
        let sealed = encrypt(cipher, &plaintext, context.as_bytes())?;
        Ok(serde_json::json!({SEALED: ALGORITHM, "key": id, "data": sealed}))
    }

    /// `value` opened if it is sealed, as it is otherwise.
    fn open(&self, value: Value, context: &str) -> Result<Value, OpenError> {
        let Some((key, data)) = sealed_parts(&value) else {
            return Ok(value);
        };
        let keys = self.data.read().unwrap_or_else(|e| e.into_inner());
        let Some(cipher) = keys.keys.get(key) else {
            return Err(OpenError::UnknownKey(key.to_owned()));
        };
        let plaintext = decrypt(cipher, data, context.as_bytes())
            .map_err(|e| OpenError::Failed(corrupt(context, &e)))?;
        serde_json::from_slice(&plaintext)
            .map_err(|e| OpenError::Failed(corrupt(context, &format!("not a JSON document: {e}"))))
    }

    fn install(&self, keys: HashMap<String, Aes256Gcm>, active: Option<String>) {
        let mut data = self.data.write().unwrap_or_else(|e| e.into_inner());
        data.keys = keys;
        data.active = active;
    }
}

fn corrupt(context: &str, why: &str) -> StoreError {
    StoreError::Corrupt(format!(
        "the sealed value of {context} does not open ({why}): it was changed after it was written, or moved from another row"
    ))
}

/// The data key id and the sealed bytes of a sealed value; `None` for a plaintext value.
fn sealed_parts(value: &Value) -> Option<(&str, &str)> {
    let o = value.as_object()?;
    o.get(SEALED)?;
    Some((
        o.get("key").and_then(Value::as_str).unwrap_or(""),
        o.get("data").and_then(Value::as_str).unwrap_or(""),
    ))
}

fn encrypt(cipher: &Aes256Gcm, plaintext: &[u8], aad: &[u8]) -> Result<String, StoreError> {
    let nonce = Nonce::try_generate()
        .map_err(|e| StoreError::Keys(format!("the system's random source failed: {e}")))?;
    let ct = cipher
        .encrypt(
            &nonce,
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .map_err(|_| StoreError::Keys("AES-256-GCM refused to seal a value".into()))?;
    let mut out = nonce.to_vec();
    out.extend_from_slice(&ct);
    Ok(B64.encode(out))
}

fn decrypt(cipher: &Aes256Gcm, sealed: &str, aad: &[u8]) -> Result<Vec<u8>, String> {
    let bytes = B64.decode(sealed).map_err(|e| format!("not base64: {e}"))?;
    if bytes.len() < NONCE_LEN + 16 {
        return Err("too short".into());
    }
    let (nonce, ct) = bytes.split_at(NONCE_LEN);
    let nonce = Nonce::try_from(nonce).map_err(|_| "bad nonce".to_string())?;
    cipher
        .decrypt(&nonce, Payload { msg: ct, aad })
        .map_err(|_| "authentication failed".to_string())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The associated data of an artifact's payload.
pub(crate) fn artifact_context(id: &str) -> String {
    format!("artifact {id}")
}

/// The associated data of an event's brief draft.
pub(crate) fn draft_context(event: &str) -> String {
    format!("brief draft of event {event}")
}

/// The associated data of a notification's payload.
pub(crate) fn outbox_context(id: &str) -> String {
    format!("notification {id}")
}

/// `text` with every e-mail address in it replaced by `[address]` (for error texts stored in
/// plaintext: the addresses themselves are sealed where they belong).
pub fn mask_addresses(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        let core = word.trim_end_matches('.');
        let (local, domain) = core.split_once('@').unwrap_or(("", ""));
        if !local.is_empty() && domain.contains('.') {
            out.push_str("[address]");
            out.push_str(&word[core.len()..]);
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    for ch in text.chars() {
        if ch.is_whitespace()
            || matches!(
                ch,
                '<' | '>' | '"' | '\'' | ',' | ';' | '(' | ')' | '[' | ']'
            )
        {
            flush(&mut word, &mut out);
            out.push(ch);
        } else {
            word.push(ch);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// One data key as stored, for `eods keys status`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DataKeyInfo {
    pub id: String,
    /// The master key that wraps it.
    pub master_key_id: String,
    /// Whether one of the configured master keys opens it.
    pub usable: bool,
    /// Whether it seals new values.
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub rewrapped_at: Option<DateTime<Utc>>,
}

/// What `eods keys rotate` did.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RotateReport {
    /// The master key every data key is wrapped by now.
    pub master_key_id: String,
    /// The data keys re-wrapped (they were wrapped by another master key).
    pub rewrapped: Vec<String>,
    /// The new data key, when one was asked for.
    pub new_data_key: Option<String>,
}

type DataKeyRow = (String, String, String, DateTime<Utc>, Option<DateTime<Utc>>);

impl Store {
    /// Loads and unwraps the database's data keys, creating the first one if there is none.
    /// Refused, naming the master keys it needs, when a data key is wrapped by a master key that
    /// is not configured. A database that refuses writes and has no data key yet opens anyway:
    /// nothing can be sealed, and nothing can be written either.
    pub(crate) async fn load_data_keys(&self) -> Result<(), StoreError> {
        let rows = self.data_key_rows().await?;
        let missing: Vec<String> = rows
            .iter()
            .filter(|r| self.keys().config().get(&r.1).is_none())
            .map(|r| format!("{} (wrapped by {})", r.0, r.1))
            .collect();
        if !missing.is_empty() {
            return Err(StoreError::Keys(format!(
                "the database's data keys {} are wrapped by master keys that are not configured (configured: {} from {}); set {KEY_FILE_ENV} to the key file this database was used with",
                missing.join(", "),
                self.keys().config().ids().join(", "),
                self.keys().config().source()
            )));
        }
        if rows.is_empty() {
            match self.insert_data_key().await {
                Ok(_) => return Box::pin(self.load_data_keys()).await,
                Err(e) if e.is_read_only() => {
                    tracing::warn!(
                        "the database refused to store a data key: nothing can be sealed while it refuses writes"
                    );
                    return Ok(());
                }
                Err(e) => return Err(e),
            }
        }
        self.install_rows(&rows)
    }

    fn install_rows(&self, rows: &[DataKeyRow]) -> Result<(), StoreError> {
        let mut keys = HashMap::new();
        for (id, master, wrapped, _, _) in rows {
            let Some(m) = self.keys().config().get(master) else {
                continue;
            };
            keys.insert(id.clone(), unwrap_data_key(m, id, wrapped)?);
        }
        // Rows come oldest first: the newest is the active one.
        let active = rows.last().map(|r| r.0.clone());
        self.keys().install(keys, active);
        Ok(())
    }

    async fn data_key_rows(&self) -> Result<Vec<DataKeyRow>, StoreError> {
        on_pool!(self, p => sqlx::query_as("SELECT id, master_key_id, wrapped, created_at, rewrapped_at FROM data_keys ORDER BY created_at, id")
            .fetch_all(p).await)
            .map_err(|e| StoreError::query("load data keys", e))
    }

    /// Creates a data key wrapped by the active master key; its id.
    async fn insert_data_key(&self) -> Result<String, StoreError> {
        let master = self.keys().config().active();
        let (id, wrapped) = new_data_key(master)?;
        on_pool!(self, p => sqlx::query("INSERT INTO data_keys (id, master_key_id, wrapped, created_at) VALUES ($1, $2, $3, $4)")
            .bind(&id).bind(master.id()).bind(&wrapped).bind(Utc::now()).execute(p).await.map(|_| ()))
            .map_err(|e| StoreError::query("store a data key", e))?;
        Ok(id)
    }

    /// `value` opened if it is sealed; a data key created by another instance since this one
    /// loaded its keys is loaded first.
    pub(crate) async fn open_sealed(
        &self,
        value: Value,
        context: &str,
    ) -> Result<Value, StoreError> {
        if sealed_parts(&value).is_none() {
            return Ok(value);
        }
        match self.keys().open(value.clone(), context) {
            Ok(v) => Ok(v),
            Err(OpenError::Failed(e)) => Err(e),
            Err(OpenError::UnknownKey(_)) => {
                self.load_data_keys().await?;
                match self.keys().open(value, context) {
                    Ok(v) => Ok(v),
                    Err(OpenError::Failed(e)) => Err(e),
                    Err(OpenError::UnknownKey(k)) => Err(StoreError::Corrupt(format!(
                        "{context} is sealed under data key `{k}`, which the database does not hold"
                    ))),
                }
            }
        }
    }

    /// The data keys of the database and whether the configured master keys open them.
    pub async fn data_keys(&self) -> Result<Vec<DataKeyInfo>, StoreError> {
        let rows = self.data_key_rows().await?;
        let newest = rows.last().map(|r| r.0.clone());
        Ok(rows
            .into_iter()
            .map(|(id, master, _, created_at, rewrapped_at)| DataKeyInfo {
                usable: self.keys().config().get(&master).is_some(),
                active: Some(&id) == newest.as_ref(),
                id,
                master_key_id: master,
                created_at,
                rewrapped_at,
            })
            .collect())
    }

    /// The master keys this store was given: their ids (the active one first) and their source.
    pub fn master_keys(&self) -> (Vec<String>, String) {
        let c = self.keys().config();
        (
            c.ids().into_iter().map(str::to_owned).collect(),
            c.source().to_owned(),
        )
    }

    /// Re-wraps every data key under the active master key, in one transaction, and with
    /// `new_data_key` adds a data key that seals new values from now on (instances started
    /// before keep sealing under the key they loaded, which stays valid). Instances running
    /// meanwhile keep working: they hold their data keys unwrapped, and the keys themselves do
    /// not change. Refused, changing nothing, when a data key's master key is not configured.
    pub async fn rotate_keys(&self, new_data_key: bool) -> Result<RotateReport, StoreError> {
        let master = self.keys().config().active().clone();
        let now = Utc::now();
        let rewrapped = on_pool!(self, p => {
            let mut tx = p.begin().await.map_err(|e| StoreError::query("begin key rotation", e))?;
            let lock = if self.backend() == "postgres" { " FOR UPDATE" } else { "" };
            let rows: Vec<DataKeyRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT id, master_key_id, wrapped, created_at, rewrapped_at FROM data_keys ORDER BY created_at, id{lock}")))
                .fetch_all(&mut *tx).await
                .map_err(|e| StoreError::query("load data keys", e))?;
            let mut rewrapped = Vec::new();
            for (id, old, wrapped, _, _) in &rows {
                if *old == master.id {
                    continue;
                }
                let Some(old_key) = self.keys().config().get(old) else {
                    return Err(StoreError::Keys(format!(
                        "data key {id} is wrapped by master key {old}, which is not configured: list it after the new key in the key file ({}) and rotate again",
                        self.keys().config().source()
                    )));
                };
                let dek = unwrap_bytes(old_key, id, wrapped)?;
                let again = encrypt(&master.cipher, &dek, wrap_context(id).as_bytes())?;
                sqlx::query("UPDATE data_keys SET master_key_id = $1, wrapped = $2, rewrapped_at = $3 WHERE id = $4")
                    .bind(&master.id).bind(&again).bind(now).bind(id)
                    .execute(&mut *tx).await
                    .map_err(|e| StoreError::query("re-wrap a data key", e))?;
                rewrapped.push(id.clone());
            }
            tx.commit().await.map_err(|e| StoreError::query("commit key rotation", e))?;
            rewrapped
        });
        let new_data_key = if new_data_key {
            Some(self.insert_data_key().await?)
        } else {
            None
        };
        self.load_data_keys().await?;
        Ok(RotateReport {
            master_key_id: master.id,
            rewrapped,
            new_data_key,
        })
    }
}

fn wrap_context(id: &str) -> String {
    format!("data key {id}")
}

/// A new data key: its id and its bytes wrapped by `master`.
fn new_data_key(master: &MasterKey) -> Result<(String, String), StoreError> {
    let dek = Key::<Aes256Gcm>::try_generate()
        .map_err(|e| StoreError::Keys(format!("the system's random source failed: {e}")))?;
    let id = format!("d-{}", uuid::Uuid::now_v7().simple());
    let wrapped = encrypt(&master.cipher, &dek, wrap_context(&id).as_bytes())?;
    Ok((id, wrapped))
}

fn unwrap_bytes(master: &MasterKey, id: &str, wrapped: &str) -> Result<Vec<u8>, StoreError> {
    decrypt(&master.cipher, wrapped, wrap_context(id).as_bytes()).map_err(|e| {
        StoreError::Keys(format!(
            "data key {id} does not unwrap with master key {} ({e}): the row was changed, or the key file holds another key under the same id",
            master.id
        ))
    })
}

fn unwrap_data_key(master: &MasterKey, id: &str, wrapped: &str) -> Result<Aes256Gcm, StoreError> {
    let bytes = unwrap_bytes(master, id, wrapped)?;
    let key = Key::<Aes256Gcm>::try_from(bytes.as_slice())
        .map_err(|_| StoreError::Keys(format!("data key {id} is not 32 bytes long")))?;
    Ok(Aes256Gcm::new(&key))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring() -> Arc<Keyring> {
        let config = KeyConfig::ephemeral().expect("key");
        let master = config.active().clone();
        let ring = Keyring::new(config);
        let (id, wrapped) = new_data_key(&master).expect("data key");
        let dek = unwrap_data_key(&master, &id, &wrapped).expect("unwraps");
        ring.install(HashMap::from([(id.clone(), dek)]), Some(id));
        ring
    }

    fn open(ring: &Keyring, v: Value, context: &str) -> Result<Value, String> {
        ring.open(v, context).map_err(|e| match e {
            OpenError::UnknownKey(k) => format!("unknown {k}"),
            OpenError::Failed(e) => e.to_string(),
        })
    }

    #[test]
    fn a_sealed_value_opens_only_in_its_own_row() {
        let ring = ring();
        let doc = serde_json::json!({"cancellation_policy": "Free until 60 days before", "n": 1});
        let sealed = ring.seal(&doc, "artifact a").expect("seals");
        let text = sealed.to_string();
        assert!(!text.contains("Free until"), "{text}");
        assert_eq!(open(&ring, sealed.clone(), "artifact a"), Ok(doc.clone()));
        let moved = open(&ring, sealed.clone(), "artifact b").expect_err("another row");
        assert!(moved.contains("moved from another row"), "{moved}");
        // One changed character of the ciphertext fails authentication.
        let mut tampered = sealed.clone();
        let data = tampered["data"].as_str().expect("data").to_owned();
        let flipped: String = data
            .chars()
            .enumerate()
            .map(|(i, c)| {
                if i == 20 {
                    if c == 'A' { 'B' } else { 'A' }
                } else {
                    c
                }
            })
            .collect();
        tampered["data"] = Value::String(flipped);
        assert!(open(&ring, tampered, "artifact a").is_err());
        // Two seals of one value differ (a fresh nonce each time).
        assert_ne!(ring.seal(&doc, "artifact a").expect("seals"), sealed);
        // Plaintext passes through.
        assert_eq!(open(&ring, doc.clone(), "artifact a"), Ok(doc));
    }

    #[test]
    fn addresses_in_error_texts_are_masked() {
        assert_eq!(
            mask_addresses("550 5.1.1 <jana@example.org>: Recipient address rejected; a@b, x@y.z."),
            "550 5.1.1 <[address]>: Recipient address rejected; a@b, [address]."
        );
        assert_eq!(
            mask_addresses("step:research|event_brief@1"),
            "step:research|event_brief@1"
        );
    }

    #[test]
    fn key_files_name_what_is_wrong() {
        let key = MasterKey::generate().expect("key");
        let other = MasterKey::generate().expect("key");
        let c =
            KeyConfig::parse(&format!("# comment\n{key}\n\n{other} # old\n"), "f").expect("parses");
        assert_eq!(c.ids().len(), 2);
        assert_eq!(c.active().id(), MasterKey::parse(&key).expect("key").id());
        assert!(c.active().id().starts_with("m-") && c.active().id().len() == 14);
        let e = KeyConfig::parse("# nothing\n", "key file k").expect_err("empty");
        assert!(
            e.to_string().contains("key file k holds no master key"),
            "{e}"
        );
        let e = KeyConfig::parse("c2hvcnQ=\n", "key file k").expect_err("short");
        assert!(
            e.to_string().contains("line 1") && e.to_string().contains("5 bytes"),
            "{e}"
        );
        let e = KeyConfig::parse("not base64!\n", "key file k").expect_err("text");
        assert!(e.to_string().contains("base64"), "{e}");
    }

    #[test]
    fn the_default_key_file_sits_beside_a_sqlite_database() {
        assert_eq!(
            default_key_file("sqlite:///var/lib/eods/eods.db?mode=rwc"),
            Some(PathBuf::from("/var/lib/eods/eods.db.key"))
        );
        assert_eq!(
            default_key_file("sqlite://eods.db"),
            Some(PathBuf::from("eods.db.key"))
        );
        assert_eq!(default_key_file("sqlite::memory:"), None);
    }

    #[test]
    fn a_key_file_is_created_once_and_kept_private() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("sub/eods.db.key");
        assert!(create_key_file(&path).expect("creates"));
        let first = std::fs::read_to_string(&path).expect("reads");
        assert!(!create_key_file(&path).expect("exists"));
        assert_eq!(std::fs::read_to_string(&path).expect("reads"), first);
        KeyConfig::from_file(&path).expect("a valid key file");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o077, 0, "{mode:o}");
        }
    }
}
