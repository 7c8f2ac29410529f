//! The server-rendered pages without a browser: sign-in with a token, the session cookie, role-
//! aware pages, CSRF on every form, and an approval through the inbox with its confirmation step
//! (the no-JavaScript path). Real server on loopback, real SQLite database.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use eods_agents::Tools;
use eods_domain::access::Role;
use eods_engine::Engine;
use eods_server::Config;
use eods_store::Store;
use reqwest::StatusCode;
use reqwest::redirect::Policy;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

fn attr<'a>(html: &'a str, before: &str) -> Vec<&'a str> {
    html.match_indices(before)
        .map(|(i, _)| {
            let rest = &html[i + before.len()..];
            &rest[..rest.find('"').unwrap()]
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_approver_signs_in_and_decides_through_the_inbox_with_a_confirmation() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&format!("sqlite://{}", dir.path().join("web.db").display()))
        .await
        .unwrap();
    let engine = Engine::new(store.clone(), Arc::new(Tools::load(None).unwrap()));
    let config = Config {
        poll: Duration::from_millis(50),
        ..Config::default()
    };
    let running = eods_server::start(engine, config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let base = format!("http://{}", running.addr);
    let token = |name: &'static str, role: Role| {
        let store = store.clone();
        async move {
            eods_server::auth::create_token(&store, name, role, false, chrono::Utc::now())
                .await
                .unwrap()
                .token
        }
    };
    let (planner, approver, viewer) = (
        token("alice", Role::Planner).await,
        token("bob", Role::Approver).await,
        token("vera", Role::Viewer).await,
    );
    let http = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap();

    // An event waiting for its three approvals.
    let brief: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../examples/s02-conference.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let created: serde_json::Value = http
        .post(format!("{base}/api/v1/events"))
        .bearer_auth(&planner)
        .json(&json!({"brief": brief}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    let mut stream = http
        .get(format!("{base}/api/v1/events/{id}/stream"))
        .bearer_auth(&viewer)
        .send()
        .await
        .unwrap();
    let mut seen = String::new();
    // Until a status event says the run waits at Confirm.
    while !(seen.contains("\"state\":\"confirm\"") && seen.contains("awaiting_approval")) {
        let chunk = tokio::time::timeout(Duration::from_secs(120), stream.chunk())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    drop(stream);

    // Without a session every page sends you to sign in; a wrong token is refused on the form.
    let r = http.get(format!("{base}/ui")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/ui/login");
    let r = http
        .post(format!("{base}/ui/login"))
        .form(&[("token", "eods_000000000000_nope")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("aria-invalid=\"true\"") && page.contains("id=\"token-error\""),
        "{page}"
    );

    let sign_in = |t: String| {
        let http = http.clone();
        let base = base.clone();
        async move {
            let r = http
                .post(format!("{base}/ui/login"))
                .form(&[("token", t.as_str())])
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::SEE_OTHER);
            let cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
            assert!(
                cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
                "{cookie}"
            );
            cookie.split(';').next().unwrap().to_owned()
        }
    };
    let bob = sign_in(approver.clone()).await;
    let vera = sign_in(viewer.clone()).await;
    let get = |cookie: String, path: &'static str| {
        let http = http.clone();
        let base = base.clone();
        async move {
            let r = http
                .get(format!("{base}{path}"))
                .header("cookie", cookie)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "{path}");
            r.text().await.unwrap()
        }
    };

    let dashboard = get(bob.clone(), "/ui").await;
    assert!(dashboard.contains("CloudData Summit Amsterdam 2027"));
    assert!(dashboard.contains("<td class=\"status\">awaiting_approval"));
    assert!(
        dashboard.contains("Approvals (3)"),
        "the nav counts pending approvals"
    );
    assert!(
        dashboard.contains("<td>50000 EUR</td>"),
        "the brief's budget"
    );
    assert!(
        dashboard.contains("<td>50000.00 EUR (proposed)</td>"),
        "the proposed budget decision"
    );

    // A viewer sees the requests but no decision forms.
    let inbox = get(vera.clone(), "/ui/approvals").await;
    assert_eq!(inbox.matches("<section class=\"card\"").count(), 3);
    assert!(
        !inbox.contains("/confirm\""),
        "no decision form for a viewer"
    );

    let inbox = get(bob.clone(), "/ui/approvals").await;
    let forms = attr(&inbox, "action=\"/ui/approvals/");
    assert_eq!(forms.len(), 3);
    let csrf = attr(&inbox, "name=\"csrf\" value=\"")[0].to_owned();
    for form in forms {
        let approval = form.trim_end_matches("/confirm").to_owned();
        let r = http
            .post(format!("{base}/ui/approvals/{approval}/confirm"))
            .header("cookie", &bob)
            .form(&[
                ("csrf", csrf.as_str()),
                ("decision", "approve"),
                ("comment", "fine by me"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let confirm = r.text().await.unwrap();
        assert!(
            confirm.contains("You are about to <strong>approve</strong>"),
            "{confirm}"
        );
        // A forged form (wrong CSRF token) changes nothing.
        let r = http
            .post(format!("{base}/ui/approvals/{approval}/decision"))
            .header("cookie", &bob)
            .form(&[("csrf", "forged"), ("decision", "approve")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let r = http
            .post(format!("{base}/ui/approvals/{approval}/decision"))
            .header("cookie", &bob)
            .form(&[
                ("csrf", csrf.as_str()),
                ("decision", "approve"),
                ("comment", "fine by me"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert!(
            r.headers()["location"]
                .to_str()
                .unwrap()
                .starts_with("/ui/approvals?decided=")
        );
    }
    let approvals = store
        .approvals(eods_domain::ids::EventId(
            uuid::Uuid::parse_str(&id).unwrap(),
        ))
        .await
        .unwrap();
    assert_eq!(approvals.len(), 3);
    assert!(
        approvals
            .iter()
            .all(|a| a.decided_by.as_deref() == Some("user:bob")
                && a.comment.as_deref() == Some("fine by me"))
    );
    let inbox = get(bob.clone(), "/ui/approvals").await;
    assert!(inbox.contains("Nothing waits for a decision."));
    let dashboard = get(bob.clone(), "/ui").await;
    assert!(
        dashboard.contains(" EUR (approved)</td>"),
        "the stamped budget decision"
    );

    // Signing out needs the form's token and clears the cookie.
    let r = http
        .post(format!("{base}/ui/logout"))
        .header("cookie", &bob)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(
        r.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    running.stop().await;
    store.close().await;
}
