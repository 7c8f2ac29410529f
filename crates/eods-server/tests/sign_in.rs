//! Sign-in under attack (issue 15, finding 1), against a real server on a loopback port and a real
//! database (SQLite always, PostgreSQL when EODS_TEST_DATABASE_URL is set): a flood of wrong
//! secrets for a known token id is answered 401 then 429 with Retry-After while valid tokens keep
//! working; a token created with the old argon2 hash still signs in and is rewritten in the HMAC
//! form; an unknown id and a wrong secret get the same answer; a revoked token stops at once.
//! The limiter's effect is asserted by counting answers (its refill is an hour here, so no
//! attempt comes back during a test), never by time or memory.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use argon2::Argon2;
use argon2::password_hash::PasswordHasher;
use eods_agents::Tools;
use eods_domain::access::Role;
use eods_engine::Engine;
use eods_server::auth::{Rate, SignInLimits, TokenKey};
use eods_server::{Config, Running};
use eods_store::test_support::test_database_urls;
use eods_store::{Store, TokenRow};
use reqwest::StatusCode;
use reqwest::redirect::Policy;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

/// Limits whose buckets never refill during a test.
fn limits(per_client: u32, per_token: u32) -> SignInLimits {
    let hour = Duration::from_secs(3600);
    SignInLimits {
        per_client: Rate {
            burst: per_client,
            every: hour,
        },
        per_token: Rate {
            burst: per_token,
            every: hour,
        },
        max_tracked: 10_000,
    }
}

struct Server {
    store: Store,
    running: Running,
    base: String,
    http: reqwest::Client,
}

async fn serve(url: &str, config: Config) -> Server {
    let store = Store::connect(url).await.unwrap();
    let engine = Engine::new(store.clone(), Arc::new(Tools::load(None).unwrap()))
        .with_clock(eods_engine::test_support::clock());
    let config = Config {
        worker: false,
        ..config
    };
    let running = eods_server::start(engine, config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let base = format!("http://{}", running.addr);
    let http = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap();
    Server {
        store,
        running,
        base,
        http,
    }
}

/// An answer: status, Retry-After, content type and body (JSON without the per-request
/// correlation id, or the page's text).
#[derive(Debug, Clone, PartialEq)]
struct Answer {
    status: StatusCode,
    retry_after: Option<u64>,
    www_authenticate: Option<String>,
    content_type: String,
    body: Value,
}

async fn answer(r: reqwest::Response) -> Answer {
    let header = |name: &str| {
        r.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let retry_after = header("retry-after").map(|v| v.parse::<u64>().unwrap());
    let www_authenticate = header("www-authenticate");
    let content_type = header("content-type").unwrap_or_default();
    let status = r.status();
    let text = r.text().await.unwrap();
    let mut body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    if let Some(o) = body.as_object_mut() {
        o.remove("correlation_id");
    }
    Answer {
        status,
        retry_after,
        www_authenticate,
        content_type,
        body,
    }
}

impl Server {
    async fn get(&self, token: &str) -> Answer {
        let r = self
            .http
            .get(format!("{}/api/v1/events", self.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        answer(r).await
    }

    /// Signs in on the page as a browser does: the form (its cookie and CSRF field), then the POST.
    async fn sign_in_page(&self, token: &str) -> Answer {
        let form = self
            .http
            .get(format!("{}/ui/login", self.base))
            .send()
            .await
            .unwrap();
        let cookie = form.headers()["set-cookie"].to_str().unwrap().to_owned();
        let cookie = cookie.split(';').next().unwrap().to_owned();
        let page = form.text().await.unwrap();
        let at = page.find("name=\"csrf\" value=\"").unwrap() + "name=\"csrf\" value=\"".len();
        let csrf = page[at..at + page[at..].find('"').unwrap()].to_owned();
        let r = self
            .http
            .post(format!("{}/ui/login", self.base))
            .header("cookie", cookie)
            .form(&[("token", token), ("csrf", csrf.as_str())])
            .send()
            .await
            .unwrap();
        // Each form carries a fresh random CSRF value: not part of what is compared.
        let mut a = answer(r).await;
        if let Value::String(body) = &mut a.body
            && let Some(at) = body.find("name=\"csrf\" value=\"")
        {
            let start = at + "name=\"csrf\" value=\"".len();
            let end = start + body[start..].find('"').unwrap();
            body.replace_range(start..end, "…");
        }
        a
    }

    async fn token(&self, name: &str, role: Role) -> String {
        eods_server::auth::create_token(&self.store, None, name, role, false, chrono::Utc::now())
            .await
            .unwrap()
            .token
    }

    async fn stop(self) {
        self.running.stop().await;
        self.store.close().await;
    }
}

/// The id of a token `eods_<id>_<secret>`.
fn id_of(token: &str) -> &str {
    &token[5..17]
}

/// `n` requests at once with `token`, and `m` with `valid` among them; the answers of each.
async fn flood(
    s: &Server,
    token: &str,
    n: usize,
    valid: &str,
    m: usize,
) -> (Vec<Answer>, Vec<Answer>) {
    let bad = futures_util::future::join_all((0..n).map(|_| s.get(token)));
    let good = futures_util::future::join_all((0..m).map(|_| s.get(valid)));
    tokio::join!(bad, good)
}

fn count(answers: &[Answer], status: StatusCode) -> usize {
    answers.iter().filter(|a| a.status == status).count()
}

/// Every 429 says why in problem+json with a Retry-After of at least a second.
fn assert_limited(a: &Answer) {
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS, "{a:?}");
    assert!(a.retry_after.is_some_and(|s| s >= 1), "{a:?}");
    assert_eq!(a.content_type, "application/problem+json", "{a:?}");
    assert_eq!(a.body["type"], "/problems/too-many-sign-ins", "{a:?}");
    assert_eq!(a.body["status"], 429, "{a:?}");
    assert!(
        a.body["detail"].as_str().unwrap().contains("try again in"),
        "{a:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn wrong_secrets_for_a_known_id_get_401_then_429_while_valid_tokens_keep_working() {
    let dir = tempfile::tempdir().unwrap();
    for url in test_database_urls(dir.path(), "flood").await.unwrap() {
        let s = serve(
            &url,
            Config {
                sign_in_limits: limits(1_000, 5),
                ..Config::default()
            },
        )
        .await;
        let alice = s.token("alice", Role::Planner).await;
        let bob = s.token("bob", Role::Viewer).await;
        let wrong = format!("eods_{}_{}", id_of(&alice), "0".repeat(48));

        // 60 wrong secrets for alice's id at once, with 20 valid requests of bob among them.
        let (bad, good) = flood(&s, &wrong, 60, &bob, 20).await;
        assert_eq!(
            count(&bad, StatusCode::UNAUTHORIZED),
            5,
            "{url}: the burst, then 429"
        );
        assert_eq!(count(&bad, StatusCode::TOO_MANY_REQUESTS), 55, "{url}");
        bad.iter()
            .filter(|a| a.status == StatusCode::TOO_MANY_REQUESTS)
            .for_each(assert_limited);
        assert!(
            good.iter().all(|a| a.status == StatusCode::OK),
            "{url}: {good:?}"
        );

        // Alice's own valid token is not held back by the failures against her id.
        assert_eq!(s.get(&alice).await.status, StatusCode::OK, "{url}");
        assert_eq!(
            s.get(&wrong).await.status,
            StatusCode::TOO_MANY_REQUESTS,
            "{url}"
        );
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_client_failing_with_many_ids_is_limited_on_the_api_and_the_sign_in_page() {
    let dir = tempfile::tempdir().unwrap();
    let url = &test_database_urls(dir.path(), "client").await.unwrap()[0];
    let s = serve(
        url,
        Config {
            sign_in_limits: limits(4, 1_000),
            ..Config::default()
        },
    )
    .await;
    let vera = s.token("vera", Role::Viewer).await;
    let unknown = |n: u32| format!("eods_{n:012x}_{}", "1".repeat(48));
    for n in 0..3 {
        assert_eq!(s.get(&unknown(n)).await.status, StatusCode::UNAUTHORIZED);
    }
    // A malformed token counts against the client too.
    assert_eq!(s.get("nonsense").await.status, StatusCode::UNAUTHORIZED);
    let limited = s.get(&unknown(4)).await;
    assert_limited(&limited);

    // The sign-in page answers the same limit in HTML, with Retry-After.
    let page = s.sign_in_page(&unknown(5)).await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(page.content_type.starts_with("text/html"), "{page:?}");
    assert!(page.retry_after.is_some_and(|s| s >= 1), "{page:?}");
    let html = page.body.as_str().unwrap();
    assert!(
        html.contains("id=\"token-error\"") && html.contains("try again in"),
        "{html}"
    );

    // A valid token from the same client still signs in, on the API and on the page.
    assert_eq!(s.get(&vera).await.status, StatusCode::OK);
    let page = s.sign_in_page(&vera).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{page:?}");

    // The document says so: every route that answers 401 may answer 429 with Retry-After.
    let doc: Value = s
        .http
        .get(format!("{}/openapi.json", s.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let paths = doc["paths"].as_object().unwrap();
    let mut documented = 0;
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            if op["responses"].get("401").is_some() {
                let r = &op["responses"]["429"];
                assert!(
                    r["headers"]["Retry-After"].is_object(),
                    "{method} {path}: {r}"
                );
                documented += 1;
            }
        }
    }
    assert!(documented >= 20, "{documented} operations document 429");
    s.stop().await;
}

/// A token as the code before keyed hashes stored it: the argon2 PHC string of its secret.
async fn legacy_token(store: &Store, id: &str, name: &str) -> String {
    let secret = "ab".repeat(24);
    let hash = Argon2::default()
        .hash_password(secret.as_bytes())
        .unwrap()
        .to_string();
    assert!(hash.starts_with("$argon2"), "{hash}");
    store
        .create_token(&TokenRow {
            id: id.to_owned(),
            name: name.to_owned(),
            role: Role::Approver,
            contracts: false,
            secret_hash: hash,
            created_at: chrono::Utc::now(),
            revoked_at: None,
        })
        .await
        .unwrap();
    format!("eods_{id}_{secret}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_legacy_argon2_token_signs_in_is_upgraded_and_a_flood_against_one_is_cut_before_argon2() {
    let dir = tempfile::tempdir().unwrap();
    for url in test_database_urls(dir.path(), "legacy").await.unwrap() {
        let s = serve(
            &url,
            Config {
                sign_in_limits: limits(1_000, 3),
                ..Config::default()
            },
        )
        .await;
        let old = legacy_token(&s.store, "0123456789ab", "olga").await;
        let hash = |s: &Server| {
            let store = s.store.clone();
            async move {
                store
                    .token("0123456789ab")
                    .await
                    .unwrap()
                    .unwrap()
                    .secret_hash
            }
        };

        // A wrong secret neither signs in nor touches the row.
        let wrong = format!("eods_0123456789ab_{}", "cd".repeat(24));
        assert_eq!(
            s.get(&wrong).await.status,
            StatusCode::UNAUTHORIZED,
            "{url}"
        );
        assert!(hash(&s).await.starts_with("$argon2"), "{url}");

        // The right one signs in, and the row is rewritten in the HMAC form…
        assert_eq!(s.get(&old).await.status, StatusCode::OK, "{url}");
        let upgraded = hash(&s).await;
        assert!(upgraded.starts_with("hmac-sha256$"), "{url}: {upgraded}");
        assert_eq!(
            upgraded.len(),
            "hmac-sha256$".len() + 8 + 1 + 64,
            "{upgraded}"
        );
        // …which signs in again, on the API and on the sign-in page.
        assert_eq!(s.get(&old).await.status, StatusCode::OK, "{url}");
        assert_eq!(
            s.sign_in_page(&old).await.status,
            StatusCode::SEE_OTHER,
            "{url}"
        );
        assert_eq!(hash(&s).await, upgraded, "{url}");

        // A flood of wrong secrets against another legacy token: each failure is counted before
        // its argon2 check runs, so no more checks run than this id's 3 allowed failures.
        let other = legacy_token(&s.store, "ba9876543210", "otto").await;
        let wrong = format!("eods_ba9876543210_{}", "ef".repeat(24));
        let (bad, _) = flood(&s, &wrong, 40, &other, 0).await;
        assert_eq!(count(&bad, StatusCode::UNAUTHORIZED), 3, "{url}: {bad:?}");
        assert_eq!(count(&bad, StatusCode::TOO_MANY_REQUESTS), 37, "{url}");
        // Its holder is refused meanwhile (the slow check is what the limit protects) …
        assert_limited(&s.get(&other).await);
        let row = s.store.token("ba9876543210").await.unwrap().unwrap();
        assert!(row.secret_hash.starts_with("$argon2"), "{url}");
        s.stop().await;

        // … and signs in, upgraded, on an instance whose limiter it has not exhausted.
        let s = serve(&url, Config::default()).await;
        assert_eq!(s.get(&other).await.status, StatusCode::OK, "{url}");
        let row = s.store.token("ba9876543210").await.unwrap().unwrap();
        assert!(row.secret_hash.starts_with("hmac-sha256$"), "{url}");
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_unknown_id_and_a_wrong_secret_get_the_same_answer_and_revocation_is_immediate() {
    let dir = tempfile::tempdir().unwrap();
    for url in test_database_urls(dir.path(), "same").await.unwrap() {
        let s = serve(&url, Config::default()).await;
        let rita = s.token("rita", Role::Admin).await;
        let wrong = format!("eods_{}_{}", id_of(&rita), "2".repeat(48));
        let unknown = format!("eods_{}_{}", "f".repeat(12), "2".repeat(48));
        let (a, b) = (s.get(&wrong).await, s.get(&unknown).await);
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{url}");
        assert_eq!(
            a, b,
            "{url}: the answers tell a known id from an unknown one"
        );
        assert!(a.www_authenticate.is_some());
        let (a, b) = (s.sign_in_page(&wrong).await, s.sign_in_page(&unknown).await);
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{url}");
        assert_eq!(a, b, "{url}: the sign-in page tells them apart");

        // Revoked: the next request is refused. A wrong secret still gets the common answer;
        // only the right secret learns the token was revoked, and no answer names it.
        assert_eq!(s.get(&rita).await.status, StatusCode::OK);
        assert!(
            s.store
                .revoke_token(id_of(&rita), chrono::Utc::now())
                .await
                .unwrap()
        );
        let revoked = s.get(&rita).await;
        assert_eq!(revoked.status, StatusCode::UNAUTHORIZED, "{url}");
        let detail = revoked.body["detail"].as_str().unwrap();
        assert!(
            detail.contains("revoked") && !detail.contains("rita"),
            "{detail}"
        );
        assert_eq!(s.get(&wrong).await, s.get(&unknown).await, "{url}");
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn instances_share_one_stored_key_unless_one_is_configured() {
    let dir = tempfile::tempdir().unwrap();
    for url in test_database_urls(dir.path(), "key").await.unwrap() {
        let store = Store::connect(&url).await.unwrap();
        // Instances starting together all end up with the first key stored.
        let keys = futures_util::future::join_all(
            (0..8).map(|_| eods_server::auth::token_key(&store, None)),
        )
        .await;
        let first = keys[0].as_ref().unwrap().clone();
        assert!(keys.iter().all(|k| k.as_ref().unwrap() == &first), "{url}");
        assert_eq!(
            eods_server::auth::token_key(&store, None).await.unwrap(),
            first
        );

        // A token created under a configured key signs in where that key is configured only.
        let configured = TokenKey::new([42; 32]);
        assert_ne!(configured, first);
        let token = eods_server::auth::create_token(
            &store,
            Some(&configured),
            "kim",
            Role::Viewer,
            false,
            chrono::Utc::now(),
        )
        .await
        .unwrap();
        let row = store.token(&token.row.id).await.unwrap().unwrap();
        assert!(
            row.secret_hash
                .starts_with(&format!("hmac-sha256${}$", configured.fingerprint())),
            "{}",
            row.secret_hash
        );
        let s = serve(
            &url,
            Config {
                token_key: Some(configured.clone()),
                ..Config::default()
            },
        )
        .await;
        assert_eq!(s.get(&token.token).await.status, StatusCode::OK, "{url}");
        s.stop().await;
        let s = serve(&url, Config::default()).await;
        assert_eq!(
            s.get(&token.token).await.status,
            StatusCode::UNAUTHORIZED,
            "{url}"
        );
        s.stop().await;
        store.close().await;
    }
}
