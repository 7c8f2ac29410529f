//! API tokens and the role check. A token reads `eods_<id>_<secret>`: the id finds the row, the
//! secret is checked against its argon2 hash (DESIGN §2), and nothing but the hash is stored.
//! Verified tokens are cached in memory for a minute (keyed by a SHA-256 of the whole token), so
//! argon2 runs once per token and minute, not per request; a revoked token stops working within
//! that minute.

use crate::AppState;
use crate::error::ApiError;
use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use chrono::{DateTime, Utc};
use eods_domain::access::{Permission, Role};
use eods_store::{Store, StoreError, TokenRow};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Who is calling.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    /// The token's name, recorded as `user:<name>` in the audit trail.
    pub name: String,
    pub role: Role,
    /// May read vendor contract terms and negotiation notes.
    pub contracts: bool,
}

impl Principal {
    /// The actor name in the audit trail.
    pub fn actor(&self) -> String {
        format!("user:{}", self.name)
    }

    /// Refuses with 403 unless the role grants `p`.
    pub fn require(&self, p: Permission) -> Result<(), ApiError> {
        if self.role.grants(p) {
            Ok(())
        } else {
            let need = match p {
                Permission::Read => "any role",
                Permission::Plan => "the planner or admin role",
                Permission::Approve => "the approver or admin role",
                Permission::Administer => "the admin role",
            };
            Err(ApiError::forbidden(format!(
                "this needs {need}; the token `{}` has the {} role",
                self.name, self.role
            )))
        }
    }
}

/// A newly created token: the only time the secret is shown.
#[derive(Debug, Clone, PartialEq)]
pub struct IssuedToken {
    pub row: TokenRow,
    pub token: String,
}

/// Why a token could not be created.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("token name `{0}` is not valid: use 1 to 64 letters, digits, `.`, `_`, `-` or `@`")]
    Name(String),
    #[error("hashing the token failed: {0}")]
    Hash(String),
    #[error("no randomness available: {0}")]
    Random(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Creates a token with a role (and optionally the contracts permission) and stores its hash.
pub async fn create_token(
    store: &Store,
    name: &str,
    role: Role,
    contracts: bool,
    now: DateTime<Utc>,
) -> Result<IssuedToken, TokenError> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if !valid {
        return Err(TokenError::Name(name.to_owned()));
    }
    let mut id = [0u8; 6];
    let mut secret = [0u8; 24];
    getrandom::fill(&mut id).map_err(|e| TokenError::Random(e.to_string()))?;
    getrandom::fill(&mut secret).map_err(|e| TokenError::Random(e.to_string()))?;
    let (id, secret) = (hex(&id), hex(&secret));
    let hash = Argon2::default()
        .hash_password(secret.as_bytes())
        .map_err(|e| TokenError::Hash(e.to_string()))?
        .to_string();
    let row = TokenRow {
        id: id.clone(),
        name: name.to_owned(),
        role,
        contracts,
        secret_hash: hash,
        created_at: now,
        revoked_at: None,
    };
    store.create_token(&row).await?;
    Ok(IssuedToken {
        row,
        token: format!("eods_{id}_{secret}"),
    })
}

/// Verified tokens, by SHA-256 of the presented token.
#[derive(Debug, Default)]
pub struct TokenCache {
    entries: Mutex<HashMap<[u8; 32], (Principal, Instant)>>,
}

const CACHE_TTL: Duration = Duration::from_secs(60);

impl TokenCache {
    fn get(&self, key: &[u8; 32]) -> Option<Principal> {
        let map = self.entries.lock().ok()?;
        map.get(key)
            .filter(|(_, at)| at.elapsed() < CACHE_TTL)
            .map(|(p, _)| p.clone())
    }

    fn put(&self, key: [u8; 32], p: Principal) {
        if let Ok(mut map) = self.entries.lock() {
            if map.len() > 10_000 {
                map.retain(|_, (_, at)| at.elapsed() < CACHE_TTL);
            }
            map.insert(key, (p, Instant::now()));
        }
    }
}

/// Checks a presented token.
pub async fn verify(state: &AppState, token: &str) -> Result<Principal, ApiError> {
    let key: [u8; 32] = Sha256::digest(token.as_bytes()).into();
    if let Some(p) = state.tokens.get(&key) {
        return Ok(p);
    }
    let bad = || {
        ApiError::unauthorized(
            "the bearer token is not valid (expected eods_<id>_<secret> as printed by `eods token create`)",
        )
    };
    let rest = token.strip_prefix("eods_").ok_or_else(bad)?;
    let (id, secret) = rest.split_once('_').ok_or_else(bad)?;
    if id.len() != 12 || !id.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(bad());
    }
    let row = state.store.token(id).await?.ok_or_else(bad)?;
    if row.revoked_at.is_some() {
        return Err(ApiError::unauthorized(format!(
            "the token `{}` was revoked",
            row.name
        )));
    }
    let hash = row.secret_hash.clone();
    let secret = secret.to_owned();
    // argon2 is deliberately slow: keep it off the async workers.
    let ok = tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|h| {
                Argon2::default()
                    .verify_password(secret.as_bytes(), &h)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false);
    if !ok {
        return Err(bad());
    }
    let p = Principal {
        name: row.name,
        role: row.role,
        contracts: row.contracts,
    };
    state.tokens.put(key, p.clone());
    Ok(p)
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .ok_or_else(|| ApiError::unauthorized("send `Authorization: Bearer <token>`; create a token with `eods token create --role viewer`"))?;
        let value = header
            .to_str()
            .map_err(|_| ApiError::unauthorized("the Authorization header is not ASCII"))?;
        let token = value.strip_prefix("Bearer ").ok_or_else(|| {
            ApiError::unauthorized("use the Bearer scheme: `Authorization: Bearer <token>`")
        })?;
        verify(state, token.trim()).await
    }
}
