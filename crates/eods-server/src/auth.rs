//! API tokens and the role check. A token reads `eods_<id>_<secret>`: a 48-bit public id that
//! finds the row and a 192-bit random secret. The row stores only the secret's HMAC-SHA-256
//! under the deployment's token key (`hmac-sha256$<key fingerprint>$<mac>`), compared in constant
//! time: a random secret needs no slow password hash, and a fast one cannot be turned into a
//! memory or CPU flood. Tokens created before keyed hashes keep their argon2 hash until they next
//! sign in: that check runs one at a time (bounded memory) and then rewrites the row in the HMAC
//! form. Failed sign-ins are limited per client address and per token id (`limit`), and an unknown
//! id takes the same path (an HMAC compared against a dummy) and gets the same answer as a wrong
//! secret. Nothing is cached: every request reads its token's row, so a revoked token stops at
//! once.

mod limit;

pub use limit::{Rate, SignInLimits};

use crate::AppState;
use crate::error::ApiError;
use argon2::Argon2;
use argon2::password_hash::{PasswordVerifier, phc::PasswordHash};
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use chrono::{DateTime, Utc};
use eods_domain::access::{Permission, Role};
use eods_store::{Store, StoreError, TokenRow};
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OnceCell, Semaphore};

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
    #[error("no randomness available: {0}")]
    Random(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The key that HMACs token secrets: 32 bytes, the same for every instance of a deployment.
/// It comes from `EODS_TOKEN_KEY` (64 hex digits) when set, else from the database's
/// `server_keys` table, where the first instance that needs one stores a random key.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenKey([u8; 32]);

impl TokenKey {
    pub fn new(bytes: [u8; 32]) -> Self {
        TokenKey(bytes)
    }

    /// Parses 64 hex digits.
    pub fn from_hex(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let bytes = unhex(s).filter(|b| b.len() == 32).ok_or_else(|| {
            format!(
                "expected 64 hex digits (32 bytes), got {} characters; make one with `openssl rand -hex 32`",
                s.len()
            )
        })?;
        let mut key = [0u8; 32];
        key.copy_from_slice(&bytes);
        Ok(TokenKey(key))
    }

    /// Eight hex digits naming the key (stored with each hash), which reveal nothing of it.
    pub fn fingerprint(&self) -> String {
        let mut h = Sha256::new();
        h.update(b"eods-token-key-fingerprint\0");
        h.update(self.0);
        hex(&h.finalize()[..4])
    }

    fn mac(&self, id: &str, secret: &str) -> Hmac<Sha256> {
        // A 32-byte key is always accepted by HMAC; the fallback is never taken.
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0)
            .unwrap_or_else(|_| <Hmac<Sha256> as KeyInit>::new(&Default::default()));
        mac.update(b"eods-token-v1\0");
        mac.update(id.as_bytes());
        mac.update(b"\0");
        mac.update(secret.as_bytes());
        mac
    }

    /// The stored form of a token's secret.
    fn hash(&self, id: &str, secret: &str) -> String {
        let tag = self.mac(id, secret).finalize().into_bytes();
        format!("{HMAC_PREFIX}{}${}", self.fingerprint(), hex(&tag))
    }

    /// Whether `secret` is the one whose tag is `expected`, in constant time.
    fn verify(&self, id: &str, secret: &str, expected: &[u8; 32]) -> bool {
        self.mac(id, secret).verify_slice(expected).is_ok()
    }
}

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TokenKey({})", self.fingerprint())
    }
}

impl std::str::FromStr for TokenKey {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        TokenKey::from_hex(s)
    }
}

const HMAC_PREFIX: &str = "hmac-sha256$";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
        .collect()
}

/// A row's `secret_hash`, read.
enum StoredHash<'a> {
    Hmac {
        fingerprint: &'a str,
        tag: [u8; 32],
    },
    /// A PHC string from before keyed hashes.
    Argon2(&'a str),
    Unreadable,
}

fn stored_hash(s: &str) -> StoredHash<'_> {
    if let Some(rest) = s.strip_prefix(HMAC_PREFIX) {
        let Some((fingerprint, tag)) = rest.split_once('$') else {
            return StoredHash::Unreadable;
        };
        match unhex(tag).and_then(|t| <[u8; 32]>::try_from(t).ok()) {
            Some(tag) => StoredHash::Hmac { fingerprint, tag },
            None => StoredHash::Unreadable,
        }
    } else if s.starts_with("$argon2") {
        StoredHash::Argon2(s)
    } else {
        StoredHash::Unreadable
    }
}

/// The deployment's token key: `configured` (from `EODS_TOKEN_KEY`), else the database's,
/// stored now from fresh random bytes if there is none yet.
pub async fn token_key(
    store: &Store,
    configured: Option<&TokenKey>,
) -> Result<TokenKey, TokenError> {
    if let Some(k) = configured {
        return Ok(k.clone());
    }
    let mut candidate = [0u8; 32];
    getrandom::fill(&mut candidate).map_err(|e| TokenError::Random(e.to_string()))?;
    Ok(TokenKey(store.token_key(&candidate, Utc::now()).await?))
}

/// Creates a token with a role (and optionally the contracts permission) and stores the HMAC of
/// its secret under the deployment's key (`configured`, else the database's).
pub async fn create_token(
    store: &Store,
    configured: Option<&TokenKey>,
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
    let key = token_key(store, configured).await?;
    let mut id = [0u8; 6];
    let mut secret = [0u8; 24];
    getrandom::fill(&mut id).map_err(|e| TokenError::Random(e.to_string()))?;
    getrandom::fill(&mut secret).map_err(|e| TokenError::Random(e.to_string()))?;
    let (id, secret) = (hex(&id), hex(&secret));
    let row = TokenRow {
        id: id.clone(),
        name: name.to_owned(),
        role,
        contracts,
        secret_hash: key.hash(&id, &secret),
        created_at: now,
        revoked_at: None,
    };
    store.create_token(&row).await?;
    Ok(IssuedToken {
        row,
        token: format!("eods_{id}_{secret}"),
    })
}

/// What checking tokens keeps for the life of an instance.
#[derive(Debug)]
pub(crate) struct TokenAuth {
    configured: Option<TokenKey>,
    key: OnceCell<TokenKey>,
    /// Legacy argon2 checks running at once: each takes ~19 MiB, so one at a time.
    legacy: Arc<Semaphore>,
    limiter: limit::Limiter,
}

/// Legacy argon2 checks at once. One: each token runs it once (it is then upgraded), so the
/// path needs no throughput, and a core stays free for requests.
const LEGACY_PERMITS: usize = 1;

impl TokenAuth {
    pub(crate) fn new(configured: Option<TokenKey>, limits: SignInLimits) -> Self {
        TokenAuth {
            configured,
            key: OnceCell::new(),
            legacy: Arc::new(Semaphore::new(LEGACY_PERMITS)),
            limiter: limit::Limiter::new(limits),
        }
    }

    async fn key(&self, store: &Store) -> Result<&TokenKey, ApiError> {
        self.key
            .get_or_try_init(|| token_key(store, self.configured.as_ref()))
            .await
            .map_err(|e| match e {
                TokenError::Store(s) => ApiError::from(s),
                other => {
                    tracing::error!(error = %other, "no token key");
                    ApiError::internal()
                }
            })
    }

    /// Runs a legacy argon2 check, at most [`LEGACY_PERMITS`] at once. The permit moves into
    /// the blocking task, so a client that hangs up cannot leave checks running past the bound.
    async fn legacy_check(&self, phc: &str, secret: &str) -> bool {
        let Ok(permit) = self.legacy.clone().acquire_owned().await else {
            return false;
        };
        let (phc, secret) = (phc.to_owned(), secret.to_owned());
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            PasswordHash::new(&phc)
                .map(|h| {
                    Argon2::default()
                        .verify_password(secret.as_bytes(), &h)
                        .is_ok()
                })
                .unwrap_or(false)
        })
        .await
        .unwrap_or(false)
    }

    /// The answer to a failed sign-in: 401, or 429 once this client or token id has failed
    /// too often. `counted` says the attempt was already taken from the limiter.
    fn refuse(&self, client: Client, id: Option<&str>, counted: bool, e: ApiError) -> ApiError {
        if counted {
            return e;
        }
        match self.limiter.take(client.0, id) {
            Ok(()) => e,
            Err(wait) => too_many(wait),
        }
    }
}

fn not_valid() -> ApiError {
    ApiError::unauthorized(
        "the bearer token is not valid (expected eods_<id>_<secret> as printed by `eods token create`)",
    )
}

fn too_many(wait: Duration) -> ApiError {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    ApiError::too_many_sign_ins(secs.max(1))
}

/// The id and secret of a well-formed token.
/// The public id of a token (`eods_<id>_<secret>`), if it has the form of one.
pub fn token_id(token: &str) -> Option<&str> {
    parse_token(token).map(|(id, _)| id)
}

fn parse_token(token: &str) -> Option<(&str, &str)> {
    let (id, secret) = token.strip_prefix("eods_")?.split_once('_')?;
    (id.len() == 12 && id.bytes().all(|c| c.is_ascii_hexdigit())).then_some((id, secret))
}

/// The address a request came from, when the server knows it (a router driven in-process
/// without connection info does not).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Client(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Client(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

/// Checks a presented token from `client`.
pub async fn verify(state: &AppState, token: &str, client: Client) -> Result<Principal, ApiError> {
    let auth = &state.auth;
    let key = auth.key(&state.store).await?;
    let Some((id, secret)) = parse_token(token) else {
        return Err(auth.refuse(client, None, false, not_valid()));
    };
    let row = state.store.token(id).await?;
    let mut counted = false;
    let ok = match row.as_ref().map(|r| stored_hash(&r.secret_hash)) {
        Some(StoredHash::Hmac { fingerprint, tag }) => {
            let ok = key.verify(id, secret, &tag);
            if !ok && fingerprint != key.fingerprint() {
                tracing::warn!(
                    token_id = id,
                    stored_key = fingerprint,
                    instance_key = %key.fingerprint(),
                    "token hashed under another token key: set EODS_TOKEN_KEY to the key it was created with, or create a new token"
                );
            }
            ok
        }
        Some(StoredHash::Argon2(phc)) => {
            // Counted before the slow check, so a flood is refused before it runs.
            auth.limiter.take(client.0, Some(id)).map_err(too_many)?;
            counted = true;
            let ok = auth.legacy_check(phc, secret).await;
            if ok {
                auth.limiter.give_back(client.0, Some(id));
                counted = false;
            }
            ok
        }
        Some(StoredHash::Unreadable) | None => {
            // The same work as a wrong secret, so an unknown id looks like a known one.
            std::hint::black_box(key.verify(id, secret, &[0u8; 32]));
            false
        }
    };
    let row = match row {
        Some(row) if ok => row,
        _ => return Err(auth.refuse(client, Some(id), counted, not_valid())),
    };
    if row.revoked_at.is_some() {
        // Only the holder of the secret learns the token was revoked.
        return Err(auth.refuse(
            client,
            Some(id),
            false,
            ApiError::unauthorized(
                "this token was revoked; ask an admin for a new one (`eods token create`)",
            ),
        ));
    }
    if let StoredHash::Argon2(phc) = stored_hash(&row.secret_hash) {
        match state
            .store
            .replace_token_hash(id, phc, &key.hash(id, secret))
            .await
        {
            Ok(_) => tracing::info!(token_id = id, "legacy argon2 token hash upgraded to HMAC"),
            Err(e) => {
                tracing::warn!(token_id = id, error = %e, "upgrading a legacy token hash failed; it is checked with argon2 again next time")
            }
        }
    }
    Ok(Principal {
        name: row.name,
        role: row.role,
        contracts: row.contracts,
    })
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Ok(client) = Client::from_request_parts(parts, state).await;
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
        verify(state, token.trim(), client).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_parses_from_64_hex_digits_only_and_debug_shows_its_fingerprint() {
        let hex64 = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
        let key = TokenKey::from_hex(hex64);
        assert!(key.is_ok());
        let key = key.unwrap_or_else(|_| TokenKey::new([0; 32]));
        assert_eq!(
            format!("{key:?}"),
            format!("TokenKey({})", key.fingerprint())
        );
        assert!(!format!("{key:?}").contains("00112233"));
        for bad in [
            "",
            "abc",
            &hex64[..62],
            &format!("{hex64}00"),
            &hex64.replace('0', "g"),
        ] {
            let e = TokenKey::from_hex(bad).err().unwrap_or_default();
            assert!(e.contains("64 hex digits"), "{bad}: {e}");
        }
    }

    #[test]
    fn a_hash_verifies_its_own_secret_under_its_own_key_and_id_only() {
        let key = TokenKey::new([7; 32]);
        let other = TokenKey::new([8; 32]);
        let stored = key.hash("0123456789ab", "s3cret");
        let StoredHash::Hmac { fingerprint, tag } = stored_hash(&stored) else {
            panic!("not read back as HMAC: {stored}");
        };
        assert_eq!(fingerprint, key.fingerprint());
        assert!(key.verify("0123456789ab", "s3cret", &tag));
        assert!(!key.verify("0123456789ab", "s3creT", &tag));
        assert!(!key.verify("0123456789ac", "s3cret", &tag));
        assert!(!other.verify("0123456789ab", "s3cret", &tag));
        assert!(matches!(
            stored_hash("$argon2id$v=19$m=19456,t=2,p=1$x$y"),
            StoredHash::Argon2(_)
        ));
        assert!(matches!(
            stored_hash("hmac-sha256$ab$zz"),
            StoredHash::Unreadable
        ));
        assert!(matches!(stored_hash("plain"), StoredHash::Unreadable));
    }

    #[test]
    fn only_well_formed_tokens_parse() {
        assert_eq!(
            parse_token("eods_0123456789ab_secret"),
            Some(("0123456789ab", "secret"))
        );
        for bad in [
            "",
            "eods_",
            "eods_0123456789ab",
            "eods_0123456789a_x",
            "eods_0123456789ag_x",
            "x_0123456789ab_y",
        ] {
            assert_eq!(parse_token(bad), None, "{bad}");
        }
    }
}
