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

/// A server on a loopback port over the database at `url`: its store, the running server and
/// its base URL.
async fn serve(url: &str) -> (Store, eods_server::Running, String) {
    let store = Store::connect(url).await.unwrap();
    store.migrate().await.unwrap();
    let engine = Engine::new(store.clone(), Arc::new(Tools::load(None).unwrap()))
        .with_clock(eods_engine::test_support::clock());
    let config = Config {
        poll: Duration::from_millis(50),
        ..Config::default()
    };
    let running = eods_server::start(engine, config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let base = format!("http://{}", running.addr);
    (store, running, base)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_approver_signs_in_and_decides_through_the_inbox_with_a_confirmation() {
    let dir = tempfile::tempdir().unwrap();
    let (store, running, base) =
        serve(&format!("sqlite://{}", dir.path().join("web.db").display())).await;
    let token = |name: &'static str, role: Role| {
        let store = store.clone();
        async move {
            eods_server::auth::create_token(&store, None, name, role, false, chrono::Utc::now())
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
    let brief: serde_json::Value = example("s02-conference.json");
    let created: serde_json::Value = http
        .post(format!("{base}/api/v1/events"))
        .bearer_auth(&planner)
        .json(&json!({"mode": "simulate", "brief": brief}))
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
    let r = post_login(&http, &base, "eods_000000000000_nope").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("aria-invalid=\"true\"") && page.contains("id=\"token-error\""),
        "{page}"
    );

    let bob = Browser::sign_in(&http, &base, &approver).await;
    let vera = Browser::sign_in(&http, &base, &viewer).await;

    let dashboard = bob.page("/ui").await;
    assert!(dashboard.contains("CloudData Summit Amsterdam 2029"));
    assert!(
        dashboard.contains("<td>Confirmation</td>")
            && dashboard.contains("<td class=\"status\">waiting for approvals"),
        "the stage and status in words: {dashboard}"
    );
    assert!(
        dashboard.contains("Approvals (3)"),
        "the nav counts pending approvals"
    );
    assert!(
        dashboard.contains("<td>50000 EUR</td>"),
        "the brief's budget"
    );
    // The brief's summary row: dates, place and audience instead of only an id.
    assert!(dashboard.contains("<td>6–7 Jun 2029</td>"), "{dashboard}");
    assert!(dashboard.contains("<td>Amsterdam, NL</td>"), "{dashboard}");
    assert!(dashboard.contains("<td>200</td>"), "{dashboard}");
    assert!(
        dashboard.contains("Events 1–1 of 1, newest first"),
        "{dashboard}"
    );

    // A viewer sees the requests but no decision forms.
    let inbox = vera.page("/ui/approvals").await;
    assert_eq!(inbox.matches("<section class=\"card\"").count(), 3);
    assert!(
        inbox.contains("6–7 Jun 2029 · Amsterdam, NL · audience 200 · budget 50000 EUR"),
        "each request with its event's summary: {inbox}"
    );
    assert!(
        inbox.contains(">Venue selection · CloudData Summit Amsterdam 2029</h2>")
            && !inbox.contains(">venue_selection · "),
        "the gate in words: {inbox}"
    );
    assert!(
        !inbox.contains("/confirm\""),
        "no decision form for a viewer"
    );
    let first = attr(&inbox, "<a href=\"/ui/approvals/");
    let request = vera.page(&format!("/ui/approvals/{}", first[0])).await;
    assert!(
        request.contains("request 1 of 3") && !request.contains("/confirm\""),
        "a viewer reads one request, without a form: {request}"
    );

    // The event page offers its files; a viewer's report withholds contract amounts.
    let event_page = vera.page(&format!("/ui/events/{id}")).await;
    for f in ["report.md", "calendar.ics", "schedule.xml", "budget.csv"] {
        assert!(
            event_page.contains(&format!("href=\"/ui/events/{id}/downloads/{f}\" download")),
            "{f} is offered: {event_page}"
        );
    }
    let (status, report) = vera
        .get(&format!("/ui/events/{id}/downloads/report.md"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        report.starts_with("# CloudData Summit Amsterdam 2029"),
        "{report}"
    );
    assert!(
        report.contains("withheld (needs the contracts permission)"),
        "{report}"
    );
    let (status, csv) = vera
        .get(&format!("/ui/events/{id}/downloads/budget.csv"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(csv.lines().next().unwrap().contains(','), "{csv}");
    let (status, ics) = vera
        .get(&format!("/ui/events/{id}/downloads/calendar.ics"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(ics.starts_with("BEGIN:VCALENDAR"), "{ics}");
    let (status, page) = vera
        .get(&format!("/ui/events/{id}/downloads/notes.txt"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        page.contains("calendar.ics, schedule.xml, budget.csv or report.md"),
        "{page}"
    );

    // The inbox links each request to its own page; the page's form has nothing chosen.
    let inbox = bob.page("/ui/approvals").await;
    assert!(!inbox.contains("<form method=\"post\" action=\"/ui/approvals/"));
    let links = attr(&inbox, "<a href=\"/ui/approvals/");
    assert_eq!(links.len(), 3);
    let decision = [("decision", "approve"), ("comment", "fine by me")];
    for (n, approval) in links.into_iter().enumerate() {
        let request = bob.page(&format!("/ui/approvals/{approval}")).await;
        assert!(
            request.contains(&format!("request 1 of {}", 3 - n)),
            "{request}"
        );
        assert_eq!(attr(&request, "name=\"csrf\" value=\"")[0], bob.csrf);
        assert!(
            request.contains(&format!("action=\"/ui/approvals/{approval}/confirm\""))
                && !request.contains(" checked"),
            "a decision form with nothing preselected: {request}"
        );
        let (status, confirm) = bob
            .post(&format!("/ui/approvals/{approval}/confirm"), &decision)
            .await;
        assert_eq!(status, 200);
        assert!(
            confirm.contains("You are about to <strong>approve</strong>"),
            "{confirm}"
        );
        // A forged form (wrong CSRF token) changes nothing.
        let r = bob
            .send(
                "forged",
                &format!("/ui/approvals/{approval}/decision"),
                &decision[..1],
            )
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let (status, location) = bob
            .post(&format!("/ui/approvals/{approval}/decision"), &decision)
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert!(location.starts_with("/ui/approvals?decided="), "{location}");
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
    let inbox = bob.page("/ui/approvals").await;
    assert!(inbox.contains("Nothing waits for a decision."));
    let dashboard = bob.page("/ui").await;
    assert!(
        dashboard.contains("<a href=\"/ui/approvals\">Approvals</a>"),
        "nothing pending in the nav: {dashboard}"
    );

    // Signing out needs the form's token and clears the cookie.
    let r = bob.send(&bob.csrf, "/ui/logout", &[]).await;
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

/// A brief of `examples/`.
fn example(name: &str) -> serde_json::Value {
    let path = format!("{}/../../examples/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The sign-in form as a browser gets it: its cookie (`name=value`) and the form's CSRF field.
async fn login_form(http: &reqwest::Client, base: &str) -> (String, String) {
    let r = http.get(format!("{base}/ui/login")).send().await.unwrap();
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.starts_with("eods_login=") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let cookie = cookie.split(';').next().unwrap().to_owned();
    let page = r.text().await.unwrap();
    let csrf = attr(&page, "name=\"csrf\" value=\"")[0].to_owned();
    (cookie, csrf)
}

/// POSTs the sign-in form with `token`, as a browser that loaded it.
async fn post_login(http: &reqwest::Client, base: &str, token: &str) -> reqwest::Response {
    let (cookie, csrf) = login_form(http, base).await;
    http.post(format!("{base}/ui/login"))
        .header("cookie", cookie)
        .form(&[("token", token), ("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap()
}

/// A signed-in browser without JavaScript: cookie-carrying GETs and form POSTs.
struct Browser {
    http: reqwest::Client,
    base: String,
    cookie: String,
    csrf: String,
}

impl Browser {
    async fn sign_in(http: &reqwest::Client, base: &str, token: &str) -> Browser {
        let r = post_login(http, base, token).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let cookie = r.headers()["set-cookie"].to_str().unwrap();
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
            "{cookie}"
        );
        let cookie = cookie.split(';').next().unwrap().to_owned();
        let mut b = Browser {
            http: http.clone(),
            base: base.to_owned(),
            cookie,
            csrf: String::new(),
        };
        let (_, page) = b.get("/ui").await;
        b.csrf = attr(&page, "name=\"csrf\" value=\"")[0].to_owned();
        b
    }

    async fn get(&self, path: &str) -> (StatusCode, String) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .send()
            .await
            .unwrap();
        (r.status(), r.text().await.unwrap())
    }

    /// A page that must answer 200.
    async fn page(&self, path: &str) -> String {
        let (status, page) = self.get(path).await;
        assert_eq!(status, 200, "{path}");
        page
    }

    /// POSTs a form with the given CSRF field (a forged one in the tests that need it).
    async fn send(&self, csrf: &str, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let mut form: Vec<(&str, &str)> = vec![("csrf", csrf)];
        form.extend_from_slice(fields);
        self.http
            .post(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .form(&form)
            .send()
            .await
            .unwrap()
    }

    /// POSTs a form (with this session's CSRF token); the status and the redirect target or page.
    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> (StatusCode, String) {
        let r = self.send(&self.csrf, path, fields).await;
        let status = r.status();
        match r.headers().get("location") {
            Some(l) => (status, l.to_str().unwrap().to_owned()),
            None => (status, r.text().await.unwrap()),
        }
    }
}

/// The new-event form, the event page's tabs, incident reporting, the audit viewer and what a
/// viewer is not shown, on SQLite and (when `EODS_TEST_DATABASE_URL` is set) PostgreSQL.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_planner_creates_an_event_from_the_form_and_every_tab_renders() {
    let dir = tempfile::tempdir().unwrap();
    for url in eods_store::test_support::test_database_urls(dir.path(), "pages")
        .await
        .unwrap()
    {
        pages_on(&url).await;
    }
}

async fn pages_on(url: &str) {
    let (store, running, base) = serve(url).await;
    let http = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap();
    let now = chrono::Utc::now();
    let mk = |name: &'static str, role: Role, contracts: bool| {
        let store = store.clone();
        async move {
            eods_server::auth::create_token(&store, None, name, role, contracts, now)
                .await
                .unwrap()
                .token
        }
    };
    let alice = Browser::sign_in(&http, &base, &mk("alice", Role::Planner, false).await).await;
    let vera = Browser::sign_in(&http, &base, &mk("vera", Role::Viewer, false).await).await;
    let ada = Browser::sign_in(&http, &base, &mk("ada", Role::Admin, true).await).await;

    // Pages may not be framed by another site and run only this origin's scripts.
    let r = http.get(format!("{base}/ui/login")).send().await.unwrap();
    let csp = r.headers()["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"),
        "{csp}"
    );
    assert_eq!(r.headers()["x-frame-options"], "DENY");

    // The form: every problem on its field, in one answer; nothing is stored.
    let (status, page) = alice.get("/ui/events/new").await;
    assert_eq!(status, 200);
    assert!(page.contains("id=\"f-title\""), "{page}");
    let s03: serde_json::Value = example("s03-large-event.json");
    let text = |p: &str| {
        s03.pointer(p)
            .unwrap()
            .to_string()
            .trim_matches('"')
            .to_owned()
    };
    let people: Vec<String> = s03["stakeholders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            format!(
                "{}, {}, {}",
                p["name"].as_str().unwrap(),
                p["role"].as_str().unwrap(),
                p["contact"].as_str().unwrap()
            )
        })
        .collect();
    let people = people.join("\n");
    let fields = |title: &'static str, audience: &'static str| {
        let v: Vec<(&str, String)> = vec![
            ("title", title.to_owned()),
            ("event_type", text("/event_type")),
            ("start", text("/date_range/start")),
            ("end", text("/date_range/end")),
            ("timezone", text("/timezone")),
            ("audience_size", audience.to_owned()),
            ("tracks", text("/tracks")),
            ("city", text("/location/city")),
            ("country", text("/location/country")),
            ("budget_total", text("/budget/total")),
            ("currency", text("/budget/currency")),
            ("flexibility", text("/budget/flexibility")),
            ("stakeholders", people.clone()),
            ("level", "advanced".to_owned()),
            ("objectives", "Run six tracks\nStay on budget".to_owned()),
            (
                "constraints",
                "Doors 08:30\nA photographer for the whole day".to_owned(),
            ),
        ];
        v
    };
    let bad = fields("", "lots");
    let bad: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, page) = alice.post("/ui/events", &bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("The brief has 2 problems"), "{page}");
    assert!(
        page.contains("href=\"#f-title\">Title: enter the title"),
        "{page}"
    );
    assert!(
        page.contains("href=\"#f-audience_size\">Audience size:"),
        "{page}"
    );
    assert!(
        page.contains("value=\"London\""),
        "typed values stay: {page}"
    );
    assert_eq!(store.events().await.unwrap().len(), 0, "nothing is stored");
    let (status, _) = vera.post("/ui/events", &bad).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a viewer may not create events"
    );

    let good = fields("DevFest from the form", "800");
    let good: Vec<(&str, &str)> = good.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, location) = alice.post("/ui/events", &good).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{location}");
    let id = location
        .strip_prefix("/ui/events/")
        .and_then(|l| l.strip_suffix("?created=1"))
        .unwrap()
        .to_owned();
    let event = store.event(id.parse().unwrap()).await.unwrap().unwrap();
    assert_eq!(event.summary.audience_size, Some(800));
    assert_eq!(event.summary.city.as_deref(), Some("London"));
    let brief = store
        .current_artifacts(event.id)
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.artifact_type == eods_domain::artifact::ArtifactType::EventBrief)
        .expect("the brief is revision 1 of the event_brief artifact");
    assert_eq!(brief.payload["audience_size"], 800);
    assert_eq!(event.draft, None, "no draft once revision 1 exists");
    assert_eq!(event.level.to_string(), "advanced");

    // An incident reported before Execute (a forged form is refused).
    let r = alice
        .send(
            "forged",
            &format!("/ui/events/{id}/incidents"),
            &[("kind", "weather")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let (status, page) = alice
        .post(&format!("/ui/events/{id}/incidents"), &[("kind", "meteor")])
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("unknown incident `meteor`"), "{page}");
    let (status, location) = alice
        .post(
            &format!("/ui/events/{id}/incidents"),
            &[
                ("kind", "vendor_cancellation"),
                ("at", "2h"),
                ("comment", "caterer called"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{location}");
    assert!(location.ends_with("?reported=vendor_cancellation"));

    // Wait until the run waits at Confirm.
    for _ in 0..600 {
        let e = store.event(event.id).await.unwrap().unwrap();
        if e.run_status.to_string() == "awaiting_approval" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (_, page) = alice.get(&format!("/ui/events/{id}")).await;
    assert!(
        page.contains(
            "aria-current=\"step\"><span class=\"visually-hidden\">current: </span>confirm"
        ),
        "{page}"
    );
    assert!(
        page.contains("approvals_granted</td><td><span class=\"error\">fails</span>"),
        "{page}"
    );
    assert!(page.contains("Report incident"));
    // The constraints as read: what was understood, and what was not with the field to use.
    assert!(
        page.contains("<h3 id=\"not-understood-h\">Not understood</h3>"),
        "{page}"
    );
    assert!(
        page.contains(
            "<li><code>/constraints/1</code> “A photographer for the whole day”: not a form EODS recognises"
        ),
        "{page}"
    );
    assert!(
        page.contains("<li><code>/constraints/0</code> “Doors 08:30”: doors open at 08:30</li>"),
        "{page}"
    );

    // The confirmation step says what each request commits; contract amounts only with the
    // permission. (The inbox lists the requests from summary rows.)
    let (_, inbox) = ada.get("/ui/approvals").await;
    let mut confirmations = String::new();
    for approval in attr(&inbox, "<a href=\"/ui/approvals/") {
        let (status, page) = ada
            .post(
                &format!("/ui/approvals/{approval}/confirm"),
                &[("decision", "approve")],
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        confirmations.push_str(&page);
    }
    assert!(
        confirmations.contains("Cost impact:</strong> Commits "),
        "{confirmations}"
    );
    assert!(
        confirmations.contains("Cost impact:</strong> Approves "),
        "{confirmations}"
    );
    assert!(
        confirmations.contains("contracts totalling "),
        "{confirmations}"
    );
    let (_, page) = vera.get(&format!("/ui/events/{id}")).await;
    assert!(
        page.contains("their amounts need the contracts permission"),
        "{page}"
    );
    let vendor_cost = contracts_total(&store, event.id).await;
    assert!(
        !page.contains(&vendor_cost),
        "a viewer's event page shows {vendor_cost}"
    );

    // Every tab renders with its content.
    let tabs: [(&str, &[&str]); 11] = [
        ("overview", &["Gate to execute", "Decide in the inbox"]),
        (
            "timeline",
            &["<svg", "class=\"bar critical\"", "Critical path:"],
        ),
        (
            "tasks",
            &["class=\"critical\"", "<th scope=\"col\">Slack</th>"],
        ),
        (
            "venue",
            &[
                "Selected: ",
                "<th scope=\"col\">capacity_fit</th>",
                "Hidden: negotiation terms",
            ],
        ),
        (
            "budget",
            &[
                "Baseline ",
                "<svg",
                "First quote",
                "Cost risk (Monte Carlo)",
            ],
        ),
        (
            "schedule",
            &["<table class=\"grid\">", "<th scope=\"row\">"],
        ),
        ("risks", &["<svg", "Probability"]),
        (
            "logistics",
            &[
                "Resource roster",
                "hidden: they need the contracts permission",
            ],
        ),
        (
            "contingency",
            &["vendor_cancellation (", "No incident recorded."],
        ),
        ("communications", &["Escalation path:", "Decision rights"]),
        ("revisions", &["<option value=\"budget_decision\""]),
    ];
    for (tab, expect) in tabs {
        let (status, page) = alice.get(&format!("/ui/events/{id}?tab={tab}")).await;
        assert_eq!(status, 200, "{tab}");
        for e in expect {
            assert!(page.contains(e), "{tab} should contain {e}");
        }
    }
    // The Budget tab's chart and its category table show the same figures (one computation),
    // the reserve there is the cost model's reserve line, and unallocated money is not reserve.
    let budget = alice.page(&format!("/ui/events/{id}?tab=budget")).await;
    let table = &budget[budget.find("<table class=\"categories\">").unwrap()..];
    let table = &table[table.find("<tbody>").unwrap()..table.find("</tbody>").unwrap()];
    let rows: Vec<Vec<&str>> = table
        .split("<tr>")
        .skip(1)
        .map(|r| {
            r.split("<td>")
                .skip(1)
                .map(|c| &c[..c.find("</td>").unwrap()])
                .collect()
        })
        .collect();
    assert!(rows.len() >= 3, "{table}");
    let chart = &budget[budget.find("<figure class=\"chart\">").unwrap()..];
    let chart = &chart[..chart.find("</figure>").unwrap()];
    let cur = budget
        .split("<p>Baseline ")
        .nth(1)
        .and_then(|r| r.split(" of which").next())
        .and_then(|r| r.trim_end_matches(',').rsplit(' ').next())
        .unwrap();
    let mut reserve = None;
    for r in &rows {
        let (label, allocated, share) = (r[0], r[1], r[3]);
        if allocated != "0.00" {
            assert!(
                chart.contains(&format!(">{label}</text>")),
                "{label} in {chart}"
            );
            assert!(
                chart.contains(&format!(">{allocated} {cur} ({share})</text>")),
                "{label}: {allocated} {cur} ({share}) in {chart}"
            );
        }
        if label == "reserve" {
            reserve = Some(allocated);
        }
        assert_ne!(label, "contingency", "the reserve is called reserve");
    }
    let reserve = reserve.expect("a reserve row");
    assert!(
        budget.contains(&format!("of which {reserve} {cur} reserve and ")),
        "the sentence above the chart"
    );
    assert!(
        budget.contains("<td>contingency</td><td>Reserve for the risk register"),
        "the reserve line of the cost model"
    );
    assert!(budget.contains(&format!("<td>{reserve}</td><td>reserve</td>")));
    // Without the contracts permission, what each supplier is paid is withheld (finding 2).
    assert!(
        budget.matches("<td>withheld</td>").count() >= 3,
        "supplier lines' amounts are withheld from a planner without the contracts permission"
    );

    // Notices echo only known names: a crafted link cannot put words on the page.
    let (_, page) = alice
        .get(&format!("/ui/events/{id}?reported=vendor_cancellation"))
        .await;
    assert!(page.contains("The vendor_cancellation incident was recorded"));
    let (_, page) = alice
        .get(&format!("/ui/events/{id}?reported=call%20us%20at%20555"))
        .await;
    assert!(!page.contains("call us at 555"), "{page}");
    let (_, page) = alice
        .get("/ui/approvals?decided=call%20us%20at%20555")
        .await;
    assert!(!page.contains("call us at 555"), "{page}");
    let (status, page) = alice.get(&format!("/ui/events/{id}?tab=gossip")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.contains("no tab `gossip`: choose one of overview, timeline"),
        "{page}"
    );
    let (status, _) = alice.get("/ui/events/not-a-uuid").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Contract terms: shown with the permission, hidden (also in revision diffs) without it.
    let contracts = store
        .revisions(
            event.id,
            eods_domain::artifact::ArtifactType::VendorContracts,
        )
        .await
        .unwrap();
    let terms = contracts[0].payload["vendors"][0]["terms"]["payment_terms"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, page) = ada.get(&format!("/ui/events/{id}?tab=logistics")).await;
    assert!(page.contains(&terms), "admin with contracts sees the terms");
    for who in [&alice, &vera] {
        for path in [
            format!("/ui/events/{id}?tab=logistics"),
            format!("/ui/events/{id}?tab=revisions&type=vendor_contracts"),
        ] {
            let (_, page) = who.get(&path).await;
            assert!(!page.contains(&terms), "{path} shows contract terms");
        }
    }
    let (_, page) = vera.get(&format!("/ui/events/{id}")).await;
    assert!(
        !page.contains("Report incident"),
        "a viewer has no incident form"
    );

    // The audit viewer: the planner's changes, filters checked.
    let (status, page) = vera
        .get(&format!("/ui/audit?log=changes&event={id}&who=user:alice"))
        .await;
    assert_eq!(status, 200);
    let rows = page.matches("<td>user:alice</td>").count();
    assert_eq!(rows, 2, "the brief and the incident report: {page}");
    let (status, page) = vera.get("/ui/audit?type=approval&since=2027-13-01").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("`2027-13-01` is not a date"), "{page}");

    // A run blocked by a need too few venues meet: the overview says why and ranks the ways out.
    let mut brief: serde_json::Value = example("s01-meetup.json");
    brief["constraints"]
        .as_array_mut()
        .unwrap()
        .push("Needs an induction loop for hearing aids".into());
    let planner = mk("paula", Role::Planner, false).await;
    let r = http
        .post(format!("{base}/api/v1/events"))
        .bearer_auth(&planner)
        .json(&serde_json::json!({ "mode": "simulate", "brief": brief }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let blocked: serde_json::Value = r.json().await.unwrap();
    let blocked = blocked["id"].as_str().unwrap().to_owned();
    let event_id: eods_domain::ids::EventId = blocked.parse().unwrap();
    for _ in 0..600 {
        let e = store.event(event_id).await.unwrap().unwrap();
        if e.run_status.to_string() == "blocked" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (_, page) = vera.get(&format!("/ui/events/{blocked}")).await;
    for part in [
        "<h2 id=\"ways-out-h\">Run blocked: ways out</h2>",
        "require a hearing loop",
        "<td>1</td><td>Add venues in Berlin you know that have wifi and a projector and a hearing loop",
        "Drop the need for a hearing loop",
        &format!("PUT /api/v1/events/{blocked}/venues"),
    ] {
        assert!(
            page.contains(part),
            "the blocked page lacks `{part}`: {page}"
        );
    }
    // An event that is not blocked has no such section.
    let (_, page) = vera.get(&format!("/ui/events/{id}")).await;
    assert!(!page.contains("ways-out-h"), "{page}");

    running.stop().await;
}

/// A supplier contract's amount (not the venue's, whose estimate the venue summary shows) as the
/// engine writes it in summaries (`53904.00 GBP`).
async fn contracts_total(store: &Store, id: eods_domain::ids::EventId) -> String {
    let v = store
        .revisions(id, eods_domain::artifact::ArtifactType::VendorContracts)
        .await
        .unwrap();
    let vendors = v.last().unwrap().payload["vendors"]
        .as_array()
        .unwrap()
        .clone();
    let supplier = vendors.iter().find(|x| x["service"] != "venue").unwrap();
    let terms = &supplier["terms"]["total_cost"];
    format!(
        "{} {}",
        terms["amount"].as_str().unwrap(),
        terms["currency"].as_str().unwrap()
    )
}

/// A `multipart/form-data` body: text fields, then files (name, file name, content).
fn multipart(fields: &[(&str, &str)], files: &[(&str, &str, &str)]) -> (String, String) {
    let boundary = "eods-test-boundary-7d1f";
    let mut body = String::new();
    for (k, v) in fields {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
        ));
    }
    for (k, file, text) in files {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"; filename=\"{file}\"\r\nContent-Type: text/csv\r\n\r\n{text}\r\n"
        ));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    (format!("multipart/form-data; boundary={boundary}"), body)
}

impl Browser {
    /// POSTs the new-event form as the browser does with files chosen.
    async fn upload(
        &self,
        fields: &[(&str, &str)],
        files: &[(&str, &str, &str)],
    ) -> (StatusCode, String) {
        let mut all = vec![("csrf", self.csrf.as_str())];
        all.extend_from_slice(fields);
        let (content_type, body) = multipart(&all, files);
        let r = self
            .http
            .post(format!("{}/ui/events", self.base))
            .header("cookie", &self.cookie)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        match r.headers().get("location") {
            Some(l) => (status, l.to_str().unwrap().to_owned()),
            None => (status, r.text().await.unwrap()),
        }
    }
}

/// Sample organiser files (fictional venues and prices, labelled so).
const BAD_VENUES: &str = "name,city,country,capacity,day_rate,currency,notes\nSample Hall,Helsinki,FI,120,900,EUR,sample data\nSample Loft,Helsinki,FI,lots,500,EUR,sample data\nSample Studio,Helsinki,FI,60,,,sample data\nSample Barn,Helsinki,FI,200,700,EURO,sample data\n";
const GOOD_VENUES: &str = "name,city,country,capacity,day_rate,currency,notes\nSample Hall,Helsinki,FI,120,900,EUR,sample data\nSample Studio,Helsinki,FI,60,,,sample data\nSample Barn,Helsinki,FI,,,,sample data\n";
const RATE_CARDS: &str = "supplier,service,city,country,currency,item,unit,price,notes\nSample Catering,catering,Helsinki,FI,EUR,lunch,per_head,18.50,sample data\nSample Catering,catering,Helsinki,FI,EUR,coffee_break,per_head,4.20,sample data\n";

/// Leads as a Venue Researcher writes them: one from the organiser's list with known facts, one
/// from OpenStreetMap with a request for quote, one from the demo catalog.
fn sample_leads() -> serde_json::Value {
    json!({
        "sources": ["organiser list", "OpenStreetMap", "demo"],
        "leads": [
            {"id": "lead-1", "venue_ref": "list-samplehall", "name": "Sample Hall", "contact": "", "notes": "",
             "source": "venues.csv", "capacity": 120, "day_rate": {"amount": "900", "currency": "EUR"}, "facts": "known",
             "provenance": {"kind": "event_list", "label": "venues.csv (organiser list)", "file": "venues.csv", "line": 2}},
            {"id": "lead-2", "venue_ref": "osm-node-123", "name": "Sample OSM Theatre", "contact": "", "notes": "",
             "source": "OpenStreetMap", "facts": "unknown",
             "provenance": {"kind": "openstreetmap", "label": "OpenStreetMap", "osm_id": "node/123",
                            "attribution": "© OpenStreetMap contributors, ODbL 1.0 (openstreetmap.org/copyright)"},
             "request_for_quote": {"asks": ["capacity", "day_rate"], "owner": "stakeholder-1", "due": "2027-02-01",
                                   "how": "Enter the quote on the event page or POST /api/v1/events/{id}/quotes."}},
            {"id": "lead-3", "venue_ref": "venue-7", "name": "Sample Demo Loft", "contact": "", "notes": "",
             "source": "demo", "capacity": 80, "day_rate": {"amount": "500", "currency": "EUR"}, "facts": "known",
             "provenance": {"kind": "demo", "label": "demo (fictional)"}}
        ],
        "attributions": ["© OpenStreetMap contributors, ODbL 1.0 (openstreetmap.org/copyright)"]
    })
}

/// The new-event form with the organiser's files (every bad row at its field, nothing stored),
/// then the event page's venue leads with their sources and a quote entered through its form.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_new_event_form_takes_organiser_files_and_the_event_page_takes_quotes() {
    let dir = tempfile::tempdir().unwrap();
    for url in eods_store::test_support::test_database_urls(dir.path(), "uploads")
        .await
        .unwrap()
    {
        let store = Store::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        let engine = Engine::new(store.clone(), Arc::new(Tools::load(None).unwrap()))
            .with_clock(eods_engine::test_support::clock());
        // No worker: the test writes the leads a run would write, and reads the status it sets.
        let config = Config {
            worker: false,
            ..Config::default()
        };
        let running = eods_server::start(engine, config, "127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let base = format!("http://{}", running.addr);
        let http = reqwest::Client::builder()
            .redirect(Policy::none())
            .build()
            .unwrap();
        let token = eods_server::auth::create_token(
            &store,
            None,
            "alice",
            Role::Planner,
            false,
            chrono::Utc::now(),
        )
        .await
        .unwrap()
        .token;
        let alice = Browser::sign_in(&http, &base, &token).await;

        let page = alice.page("/ui/events/new").await;
        assert!(page.contains("enctype=\"multipart/form-data\""), "{page}");
        assert!(
            page.contains("<label for=\"f-venues_file\">Your venue list (CSV or JSON)</label>")
        );
        assert!(page.contains("<label for=\"f-rate_cards_file\">Your rate cards (CSV)</label>"));

        let fields: Vec<(&str, &str)> = vec![
            ("title", "Sample Helsinki meetup"),
            ("event_type", "meetup"),
            ("start", "2027-03-11"),
            ("end", "2027-03-11"),
            ("timezone", "Europe/Helsinki"),
            ("audience_size", "40"),
            ("tracks", "1"),
            ("city", "Helsinki"),
            ("country", "FI"),
            ("budget_total", "3000"),
            ("currency", "EUR"),
            ("flexibility", "fixed"),
            ("stakeholders", "Jana, owner, jana@example.org"),
            ("objectives", "Talks"),
        ];
        let (status, page) = alice
            .upload(
                &fields,
                &[
                    ("venues_file", "venues.csv", BAD_VENUES),
                    ("rate_cards_file", "", ""),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
        assert!(
            page.contains("venues.csv line 3, column capacity: "),
            "{page}"
        );
        assert!(
            page.contains("venues.csv line 5, column currency: "),
            "{page}"
        );
        assert!(page.contains("The brief has 2 problems"), "{page}");
        assert!(page.contains("id=\"f-venues_file\" name=\"venues_file\""));
        assert!(
            page.contains(
                "aria-invalid=\"true\"\n    aria-describedby=\"h-venues_file e-venues_file\""
            ),
            "{page}"
        );
        assert!(
            page.contains("value=\"Sample Helsinki meetup\""),
            "typed values stay"
        );
        assert_eq!(store.events().await.unwrap().len(), 0, "nothing is stored");

        let (status, location) = alice
            .upload(
                &fields,
                &[
                    ("venues_file", "venues.csv", GOOD_VENUES),
                    ("rate_cards_file", "rates.csv", RATE_CARDS),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{location}");
        let id = location
            .strip_prefix("/ui/events/")
            .and_then(|l| l.strip_suffix("?created=1"))
            .unwrap()
            .to_owned();
        let event_id: eods_domain::ids::EventId = id.parse().unwrap();
        let data = store
            .revisions(event_id, eods_domain::artifact::ArtifactType::OrganiserData)
            .await
            .unwrap();
        assert_eq!(data.len(), 1);
        assert_eq!(data[0].payload["venues"].as_array().unwrap().len(), 3);
        assert_eq!(
            data[0].payload["rate_cards"][0]["provenance"]["file"],
            "rates.csv"
        );

        // The run stopped for quotes, with leads from three kinds of source.
        let envelope = eods_domain::artifact::Envelope {
            id: eods_domain::ids::ArtifactId(uuid::Uuid::now_v7()),
            event_id,
            artifact_type: eods_domain::artifact::ArtifactType::VenueLeads,
            revision: 1,
            schema_version: eods_domain::artifact::ArtifactType::VenueLeads
                .schema_version()
                .into(),
            created_at: chrono::Utc::now(),
            created_by: "agent:venue_researcher".into(),
            correlation_id: "test".into(),
            derived_from: vec![],
            payload: sample_leads(),
        };
        store
            .commit(&eods_store::Commit {
                event_id,
                step_key: "test:leads".into(),
                at: chrono::Utc::now(),
                artifacts: vec![envelope],
                status: Some(eods_store::StatusWrite {
                    state: eods_domain::lifecycle::LifecycleState::Research,
                    run_status: eods_domain::lifecycle::RunStatus::NeedsInput,
                    detail: Some("quotes needed for 1 venue".into()),
                    wake_at: None,
                }),
                ..eods_store::Commit::default()
            })
            .await
            .unwrap();
        let page = alice.page(&format!("/ui/events/{id}")).await;
        assert!(
            page.contains("<h2 id=\"quotes-needed-h\">Quotes needed</h2>"),
            "{page}"
        );
        assert!(
            page.contains("<li>Sample OSM Theatre: capacity, day_rate (by 2027-02-01)</li>"),
            "{page}"
        );
        assert!(page.contains("<h2 id=\"leads-h\">Venue leads</h2>"));
        assert!(page.contains("venues.csv (organiser list), line 2"));
        assert!(
            page.contains("OpenStreetMap <code>node/123</code>"),
            "{page}"
        );
        assert!(page.contains("© OpenStreetMap contributors, ODbL 1.0"));
        assert!(page.contains("<td>demo (fictional)</td>"), "{page}");
        assert!(
            page.contains("<td>120 people</td>") && page.contains("<td>900.00 EUR</td>"),
            "{page}"
        );
        assert_eq!(
            page.matches("<td>unknown</td>").count(),
            3,
            "capacity, rate and facts: {page}"
        );
        assert_eq!(
            page.matches("<h3 id=\"lead-").count(),
            1,
            "one form, for the lead with a request"
        );
        assert!(page.contains("name=\"venue\" value=\"osm-node-123\""));

        // A forged form and a bad quote change nothing; a good quote queues the run again.
        let quote = [
            ("venue", "osm-node-123"),
            ("capacity", "90"),
            ("day_rate", "1200"),
            ("currency", "EUR"),
            ("valid_until", ""),
            ("notes", "sample quote"),
        ];
        let r = alice
            .send("forged", &format!("/ui/events/{id}/quotes"), &quote)
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let mut bad = quote;
        bad[1] = ("capacity", "lots");
        let (status, page) = alice.post(&format!("/ui/events/{id}/quotes"), &bad).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.contains("/quote/0/capacity"), "{page}");
        assert_eq!(
            store
                .revisions(event_id, eods_domain::artifact::ArtifactType::OrganiserData)
                .await
                .unwrap()
                .len(),
            1
        );
        let (status, location) = alice.post(&format!("/ui/events/{id}/quotes"), &quote).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(location, format!("/ui/events/{id}?quoted=1"));
        let data = store
            .revisions(event_id, eods_domain::artifact::ArtifactType::OrganiserData)
            .await
            .unwrap();
        let quotes = &data.last().unwrap().payload["quotes"];
        assert_eq!(quotes[0]["venue"], "osm-node-123");
        assert_eq!(quotes[0]["capacity"], 90);
        assert_eq!(quotes[0]["entered_by"], "user:alice");
        let event = store.event(event_id).await.unwrap().unwrap();
        assert_eq!(event.run_status, eods_domain::lifecycle::RunStatus::Running);
        let page = alice.page(&location).await;
        assert!(page.contains("The quote was recorded; planning continues with it."));
        assert!(!page.contains("quotes-needed-h"), "the run no longer waits");
        running.stop().await;
        store.close().await;
    }
}

/// A live event six weeks away waits after its approvals with its first tasks due now: the
/// dashboard lists them under upcoming deadlines, linked to the event's task board, and a task
/// recorded done leaves the list.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_dashboard_lists_the_tasks_of_live_events_due_in_the_next_two_weeks() {
    let dir = tempfile::tempdir().unwrap();
    for url in eods_store::test_support::test_database_urls(dir.path(), "deadlines")
        .await
        .unwrap()
    {
        let (store, running, base) = serve(&url).await;
        let token = |name: &'static str, role: Role| {
            let store = store.clone();
            async move {
                eods_server::auth::create_token(&store, None, name, role, false, chrono::Utc::now())
                    .await
                    .unwrap()
                    .token
            }
        };
        let (planner, approver) = (
            token("alice", Role::Planner).await,
            token("bob", Role::Approver).await,
        );
        let http = reqwest::Client::builder()
            .redirect(Policy::none())
            .build()
            .unwrap();
        let mut brief: serde_json::Value = example("s01-meetup.json");
        let day = (eods_store::test_support::tests_today() + chrono::Duration::days(42))
            .date_naive()
            .to_string();
        brief["date_range"] = json!({"start": day, "end": day});
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
        // Approve the three requests as they come, until the event waits for its calendar.
        let waiting = approve_until(&http, &base, &id, &planner, &approver, |e| {
            e["wake_at"].is_string()
        })
        .await;
        assert!(waiting, "{url}: the live event waits for its calendar");
        let alice = Browser::sign_in(&http, &base, &planner).await;
        let dashboard = alice.page("/ui").await;
        assert!(dashboard.contains("Upcoming deadlines"), "{dashboard}");
        let linked = attr(
            &dashboard,
            &format!("<a href=\"/ui/events/{id}#task-board\">"),
        );
        assert!(!linked.is_empty(), "{dashboard}");
        assert!(dashboard.contains("task-1: "), "{dashboard}");
        assert!(
            dashboard.contains("(due in ") || dashboard.contains("(due today)"),
            "{dashboard}"
        );
        // Recorded done, the task leaves the list.
        let r = http
            .patch(format!("{base}/api/v1/events/{id}/tasks/task-1"))
            .bearer_auth(&planner)
            .json(&json!({"status": "done"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let dashboard = alice.page("/ui").await;
        assert!(!dashboard.contains("task-1: "), "{dashboard}");
        running.stop().await;
        store.close().await;
    }
}

/// Approves an event's pending requests as they come until `done` holds for the event (as the
/// API shows it), for at most a minute: whether it did.
async fn approve_until(
    http: &reqwest::Client,
    base: &str,
    id: &str,
    planner: &str,
    approver: &str,
    done: impl Fn(&serde_json::Value) -> bool,
) -> bool {
    let get = |path: String, token: &str| {
        let r = http.get(path).bearer_auth(token).send();
        async move { r.await.unwrap().json::<serde_json::Value>().await.unwrap() }
    };
    for _ in 0..2400 {
        if done(&get(format!("{base}/api/v1/events/{id}"), planner).await) {
            return true;
        }
        let pending = get(
            format!("{base}/api/v1/approvals?status=pending&event_id={id}"),
            approver,
        )
        .await;
        for a in pending["items"].as_array().unwrap() {
            http.post(format!(
                "{base}/api/v1/approvals/{}/decision",
                a["id"].as_str().unwrap()
            ))
            .bearer_auth(approver)
            .json(&json!({"decision": "approve"}))
            .send()
            .await
            .unwrap();
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    false
}

/// A live event that took place yesterday reaches its postmortem after the approvals; answers
/// entered on its page feed the postmortem's stakeholder satisfaction, measured again.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn survey_answers_entered_on_the_page_measure_stakeholder_satisfaction() {
    let dir = tempfile::tempdir().unwrap();
    for url in eods_store::test_support::test_database_urls(dir.path(), "feedback")
        .await
        .unwrap()
    {
        let (store, running, base) = serve(&url).await;
        let planner = eods_server::auth::create_token(
            &store,
            None,
            "alice",
            Role::Planner,
            false,
            chrono::Utc::now(),
        )
        .await
        .unwrap()
        .token;
        let approver = eods_server::auth::create_token(
            &store,
            None,
            "bob",
            Role::Approver,
            false,
            chrono::Utc::now(),
        )
        .await
        .unwrap()
        .token;
        let http = reqwest::Client::builder()
            .redirect(Policy::none())
            .build()
            .unwrap();
        let mut brief = example("s01-meetup.json");
        let day = (eods_store::test_support::tests_today() - chrono::Duration::days(1))
            .date_naive()
            .to_string();
        brief["date_range"] = json!({"start": day, "end": day});
        let created: serde_json::Value = http
            .post(format!("{base}/api/v1/events"))
            .bearer_auth(&planner)
            .json(&json!({"brief": brief, "allow_past": true}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = created["id"].as_str().unwrap().to_owned();
        let done = approve_until(&http, &base, &id, &planner, &approver, |e| {
            e["run_status"] == "completed"
        })
        .await;
        let e: serde_json::Value = http
            .get(format!("{base}/api/v1/events/{id}"))
            .bearer_auth(&planner)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(
            done,
            "{url}: the past live event reaches its postmortem: {} {} {}",
            e["state"], e["run_status"], e["status_detail"]
        );
        let alice = Browser::sign_in(&http, &base, &planner).await;
        let page = alice.page(&format!("/ui/events/{id}")).await;
        assert!(
            page.contains("Feedback survey") && page.contains("No answers yet"),
            "{page}"
        );
        assert!(
            page.contains("no feedback survey results were submitted"),
            "{page}"
        );
        // A score out of range is refused naming it; a good one is recorded.
        let (status, refused) = alice
            .post(
                &format!("/ui/events/{id}/feedback"),
                &[("respondent", "Jana"), ("score", "9")],
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
        assert!(
            refused.contains("a score is 1 (very dissatisfied) to 5"),
            "{refused}"
        );
        for (who, score) in [("Jana Oberländer", "5"), ("attendee", "3")] {
            let (status, location) = alice
                .post(
                    &format!("/ui/events/{id}/feedback"),
                    &[("respondent", who), ("score", score), ("comment", "")],
                )
                .await;
            assert_eq!(status, StatusCode::SEE_OTHER, "{location}");
        }
        let remeasured = approve_until(&http, &base, &id, &planner, &approver, |e| {
            e["run_status"] == "completed"
        })
        .await;
        assert!(remeasured);
        let metrics: serde_json::Value = http
            .get(format!("{base}/api/v1/events/{id}/metrics"))
            .bearer_auth(&planner)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let text = metrics.to_string();
        assert!(
            text.contains("mean score 4.00 of 5 from 2 answer(s)"),
            "{text}"
        );
        let page = alice.page(&format!("/ui/events/{id}")).await;
        assert!(
            page.contains("<td>Jana Oberländer</td><td>5</td>"),
            "{page}"
        );
        running.stop().await;
        store.close().await;
    }
}

/// The fields of a form as the page fills them: inputs, text areas and the selected option of
/// each select (HTML entities decoded).
fn form_fields(page: &str) -> Vec<(String, String)> {
    let decode = |s: &str| {
        s.replace("&quot;", "\"")
            .replace("&#x27;", "'")
            .replace("&#39;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&")
    };
    let mut out = Vec::new();
    for (i, _) in page.match_indices("<input type=\"") {
        let tag = &page[i..i + page[i..].find('>').unwrap()];
        let name = attr(tag, "name=\"");
        let value = attr(tag, "value=\"");
        if let (Some(n), Some(v)) = (name.first(), value.first())
            && !tag.contains("type=\"file\"")
        {
            out.push(((*n).to_owned(), decode(v)));
        }
    }
    for (i, _) in page.match_indices("<textarea ") {
        let rest = &page[i..];
        let name = attr(rest, "name=\"")[0].to_owned();
        let body = &rest[rest.find('>').unwrap() + 1..rest.find("</textarea>").unwrap()];
        out.push((name, decode(body)));
    }
    for (i, _) in page.match_indices("<select ") {
        let rest = &page[i..i + page[i..].find("</select>").unwrap()];
        let name = attr(rest, "name=\"")[0].to_owned();
        if let Some(j) = rest.find("\" selected>") {
            let start = rest[..j].rfind("value=\"").unwrap() + 7;
            out.push((name, decode(&rest[start..j])));
        }
    }
    out
}

/// The brief edited on its page: the form comes filled from the current brief, saving sends only
/// what changed (the program and the rest are kept) as the next revision, and a wrong value is
/// shown on its field. On a live event under way, an incident reported on the page is resolved
/// there (and through the API), and the incident log says by whom and when.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_brief_is_edited_on_its_page_and_live_incidents_are_resolved_there() {
    let dir = tempfile::tempdir().unwrap();
    for url in eods_store::test_support::test_database_urls(dir.path(), "edit-brief")
        .await
        .unwrap()
    {
        let (store, running, base) = serve(&url).await;
        let token = |name: &'static str, role: Role| {
            let store = store.clone();
            async move {
                eods_server::auth::create_token(&store, None, name, role, false, chrono::Utc::now())
                    .await
                    .unwrap()
                    .token
            }
        };
        let (planner, approver) = (
            token("alice", Role::Planner).await,
            token("bob", Role::Approver).await,
        );
        let http = reqwest::Client::builder()
            .redirect(Policy::none())
            .build()
            .unwrap();
        let create = |days: i64| {
            let mut brief = example("s01-meetup.json");
            let day = (eods_store::test_support::tests_today() + chrono::Duration::days(days))
                .date_naive()
                .to_string();
            brief["date_range"] = json!({"start": day, "end": day});
            let r = http
                .post(format!("{base}/api/v1/events"))
                .bearer_auth(&planner)
                // An event today is planned as a record (its planning lies in the past).
                .json(&json!({"brief": brief, "allow_past": days == 0}))
                .send();
            async move {
                let v: serde_json::Value = r.await.unwrap().json().await.unwrap();
                v["id"].as_str().unwrap().to_owned()
            }
        };
        let get = |path: String| {
            let r = http
                .get(format!("{base}{path}"))
                .bearer_auth(&planner)
                .send();
            async move { r.await.unwrap().json::<serde_json::Value>().await.unwrap() }
        };
        let alice = Browser::sign_in(&http, &base, &planner).await;

        // The brief editor.
        let id = create(60).await;
        let page = alice.page(&format!("/ui/events/{id}/brief")).await;
        let mut fields = form_fields(&page);
        let value = |fields: &[(String, String)], k: &str| {
            fields
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        assert_eq!(value(&fields, "title"), "Rust Berlin Meetup — March 2029");
        assert_eq!(value(&fields, "audience_size"), "20", "{fields:?}");
        assert_eq!(value(&fields, "event_type"), "meetup", "{fields:?}");
        assert!(
            value(&fields, "stakeholders").contains(", owner, "),
            "{fields:?}"
        );
        for (k, v) in fields.iter_mut() {
            if k == "audience_size" {
                *v = "35".into();
            }
        }
        let form: Vec<(&str, &str)> = fields
            .iter()
            .filter(|(k, _)| k != "csrf")
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let (status, location) = alice.post(&format!("/ui/events/{id}/brief"), &form).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{location}");
        assert!(location.ends_with("?brief=2"), "{location}");
        let brief = get(format!("/api/v1/events/{id}/artifacts/event_brief")).await;
        let payload = if brief["payload"].is_object() {
            &brief["payload"]
        } else {
            &brief
        };
        assert_eq!(payload["audience_size"], 35, "{url}: {brief}");
        assert_eq!(
            payload["program"].as_array().map(Vec::len),
            Some(3),
            "{url}: the program is kept"
        );
        let changes = get(format!("/api/v1/events/{id}/change-log"))
            .await
            .to_string();
        assert!(changes.contains("user:alice"), "{changes}");
        let bad: Vec<(&str, &str)> = form
            .iter()
            .map(|&(k, v)| if k == "currency" { (k, "EURO") } else { (k, v) })
            .collect();
        let (status, page) = alice.post(&format!("/ui/events/{id}/brief"), &bad).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
        assert!(page.contains("id=\"e-currency\""), "{page}");
        assert!(
            page.contains("value=\"EURO\""),
            "{page}: what was typed is kept"
        );

        // A live event under way (it began at midnight today): incidents reported and resolved.
        let id = create(0).await;
        let under_way = approve_until(&http, &base, &id, &planner, &approver, |e| {
            e["state"] == "execute" && e["wake_at"].is_string()
        })
        .await;
        assert!(under_way, "{url}: the event is under way");
        for (kind, comment) in [("av_failure", "projector died"), ("low_attendance", "")] {
            let (status, location) = alice
                .post(
                    &format!("/ui/events/{id}/incidents"),
                    &[("kind", kind), ("at", ""), ("comment", comment)],
                )
                .await;
            assert_eq!(status, StatusCode::SEE_OTHER, "{location}");
        }
        let log = |v: &serde_json::Value| {
            let p = if v["payload"].is_object() {
                &v["payload"]
            } else {
                v
            };
            p["incidents"].as_array().cloned().unwrap_or_default()
        };
        let recorded = approve_until(&http, &base, &id, &planner, &approver, |e| {
            e["wake_at"].is_string()
        })
        .await;
        assert!(recorded);
        let incidents = log(&get(format!("/api/v1/events/{id}/artifacts/incident_log")).await);
        assert_eq!(incidents.len(), 2, "{url}: {incidents:?}");
        assert_eq!(incidents[0]["status"], "open", "{incidents:?}");
        let page = alice.page(&format!("/ui/events/{id}")).await;
        assert!(
            page.contains(&format!("action=\"/ui/events/{id}/incidents/1/resolve\"")),
            "{page}"
        );
        let (status, _) = alice
            .post(
                &format!("/ui/events/{id}/incidents/1/resolve"),
                &[("note", " ")],
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        let (status, location) = alice
            .post(
                &format!("/ui/events/{id}/incidents/1/resolve"),
                &[("note", "spare projector from the office")],
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{location}");
        let resolve = |n: u32, body: serde_json::Value| {
            let r = http
                .post(format!("{base}/api/v1/events/{id}/incidents/{n}/resolve"))
                .bearer_auth(&planner)
                .json(&body)
                .send();
            async move { r.await.unwrap().status() }
        };
        assert_eq!(
            resolve(2, json!({"note": "fewer chairs"})).await,
            StatusCode::OK
        );
        assert_eq!(
            resolve(2, json!({"note": "again"})).await,
            StatusCode::CONFLICT
        );
        assert_eq!(
            resolve(9, json!({"note": "x"})).await,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            resolve(1, json!({"notes": "typo"})).await,
            StatusCode::UNPROCESSABLE_ENTITY
        );
        let settled = approve_until(&http, &base, &id, &planner, &approver, |e| {
            e["wake_at"].is_string()
        })
        .await;
        assert!(settled);
        let incidents = log(&get(format!("/api/v1/events/{id}/artifacts/incident_log")).await);
        assert!(
            incidents.iter().all(|i| i["status"] == "resolved"),
            "{url}: {incidents:?}"
        );
        assert!(
            incidents[0].to_string().contains("Resolved by user:alice"),
            "{incidents:?}"
        );
        let notices = store
            .outbox(Some(
                id.parse::<uuid::Uuid>()
                    .map(eods_domain::ids::EventId)
                    .unwrap(),
            ))
            .await
            .unwrap();
        assert_eq!(
            notices
                .iter()
                .filter(|n| n.kind == eods_store::OutboxKind::Incident)
                .count(),
            2,
            "{url}: each incident is notified"
        );
        running.stop().await;
        store.close().await;
    }
}

/// Sessions are the server's (issue 15, finding 6): the cookie holds a random session secret, not
/// the API token; signing out ends the session on the server (the old cookie signs nobody in);
/// revoking the token ends its sessions; the sign-in form refuses a post without its own cookie
/// (no sign-in forged from another site); cookies are `Secure` behind TLS; `/docs` cannot be
/// framed.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sessions_end_on_sign_out_and_sign_in_cannot_be_forged() {
    let dir = tempfile::tempdir().unwrap();
    for url in eods_store::test_support::test_database_urls(dir.path(), "sessions")
        .await
        .unwrap()
    {
        let (store, running, base) = serve(&url).await;
        let issued = eods_server::auth::create_token(
            &store,
            None,
            "alice",
            Role::Planner,
            false,
            chrono::Utc::now(),
        )
        .await
        .unwrap();
        let token = issued.token.clone();
        let http = reqwest::Client::builder()
            .redirect(Policy::none())
            .build()
            .unwrap();
        // Forged: the form posted without the sign-in cookie (another site cannot send it), or
        // with a field that is not the cookie's.
        for (cookie, csrf) in [(None, "x"), (Some("eods_login=abc"), "abd")] {
            let mut req = http.post(format!("{base}/ui/login"));
            if let Some(c) = cookie {
                req = req.header("cookie", c);
            }
            let r = req
                .form(&[("token", token.as_str()), ("csrf", csrf)])
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::FORBIDDEN, "{url}");
            assert!(
                !r.headers()
                    .get_all("set-cookie")
                    .iter()
                    .any(|c| c.to_str().unwrap().starts_with("eods_session=")),
                "{url}: no session"
            );
        }
        let alice = Browser::sign_in(&http, &base, &token).await;
        assert!(
            !alice.cookie.contains(&token)
                && !alice.cookie.contains(token.split('_').nth(2).unwrap()),
            "{url}: the cookie is not the token: {}",
            alice.cookie
        );
        assert_eq!(alice.get("/ui").await.0, StatusCode::OK);
        let (status, location) = alice.post("/ui/logout", &[]).await;
        assert_eq!(
            (status, location.as_str()),
            (StatusCode::SEE_OTHER, "/ui/login")
        );
        let (status, _) = alice.get("/ui").await;
        assert_eq!(
            status,
            StatusCode::SEE_OTHER,
            "{url}: the old cookie is dead"
        );

        // Revoking the token ends its sessions.
        let again = Browser::sign_in(&http, &base, &token).await;
        assert_eq!(again.get("/ui").await.0, StatusCode::OK);
        store
            .revoke_token(&issued.row.id, chrono::Utc::now())
            .await
            .unwrap();
        assert_eq!(again.get("/ui").await.0, StatusCode::SEE_OTHER, "{url}");

        // Behind a TLS proxy every cookie is Secure.
        let r = http
            .get(format!("{base}/ui/login"))
            .header("x-forwarded-proto", "https")
            .send()
            .await
            .unwrap();
        let c = r.headers()["set-cookie"].to_str().unwrap();
        assert!(c.contains("; Secure"), "{c}");
        // The API browser is not frameable.
        let r = http.get(format!("{base}/docs/")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["x-frame-options"], "DENY");
        let csp = r.headers()["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        running.stop().await;
        store.close().await;
    }
}

/// Read-only mode (issue 15, item 11): `--read-only` keeps every read and page working and
/// answers every change with 503, Retry-After and problem+json (an HTML page under /ui), and
/// the pages say so; nothing is written.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_read_only_instance_reads_and_refuses_changes() {
    let dir = tempfile::tempdir().unwrap();
    for url in eods_store::test_support::test_database_urls(dir.path(), "read-only")
        .await
        .unwrap()
    {
        // An event planned by a normal instance first.
        let (store, running, base) = serve(&url).await;
        let planner = eods_server::auth::create_token(
            &store,
            None,
            "alice",
            Role::Planner,
            false,
            chrono::Utc::now(),
        )
        .await
        .unwrap()
        .token;
        let http = reqwest::Client::builder()
            .redirect(Policy::none())
            .build()
            .unwrap();
        let created: serde_json::Value = http
            .post(format!("{base}/api/v1/events"))
            .bearer_auth(&planner)
            .json(&json!({"brief": example("s01-meetup.json"), "auto_start": false}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = created["id"].as_str().unwrap().to_owned();
        running.stop().await;

        let engine = Engine::new(store.clone(), Arc::new(Tools::load(None).unwrap()))
            .with_clock(eods_engine::test_support::clock());
        let config = Config {
            poll: Duration::from_millis(50),
            read_only: true,
            ..Config::default()
        };
        let running = eods_server::start(engine, config, "127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let base = format!("http://{}", running.addr);
        let event = http
            .get(format!("{base}/api/v1/events/{id}"))
            .bearer_auth(&planner)
            .send()
            .await
            .unwrap();
        assert_eq!(event.status(), StatusCode::OK, "{url}: reads work");
        let before = store
            .events_page(&eods_store::EventFilter {
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap()
            .1;
        let r = http
            .post(format!("{base}/api/v1/events"))
            .bearer_auth(&planner)
            .json(&json!({"brief": example("s01-meetup.json")}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE, "{url}");
        assert_eq!(r.headers()["retry-after"], "30");
        assert_eq!(r.headers()["content-type"], "application/problem+json");
        let body: serde_json::Value = r.json().await.unwrap();
        assert!(
            body["detail"].as_str().unwrap().contains("read-only"),
            "{body}"
        );
        assert_eq!(
            store
                .events_page(&eods_store::EventFilter {
                    limit: 10,
                    ..Default::default()
                })
                .await
                .unwrap()
                .1,
            before,
            "{url}: nothing written"
        );
        // The pages: signing in works, the layout says read-only, a form answers 503.
        let alice = Browser::sign_in(&http, &base, &planner).await;
        let page = alice.page(&format!("/ui/events/{id}")).await;
        assert!(page.contains("id=\"read-only\""), "{page}");
        let (status, refused) = alice
            .post(
                &format!("/ui/events/{id}/incidents"),
                &[("kind", "weather")],
            )
            .await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{refused}");
        assert!(refused.contains("runs read-only"), "{refused}");
        running.stop().await;

        // The database itself refuses writes (a read-only file, a hot standby): its schema is
        // current, so an ordinary instance opens it without migrating; signing in keeps the page
        // session in memory, the pages say read-only, a change answers 503, and signing out ends
        // the session although the database could not record that.
        let refusing = match &store {
            Store::Sqlite(_) => format!("{url}?mode=ro"),
            Store::Postgres(eods_store::PgStore { pool: p, .. }) => {
                let name = url.rsplit('/').next().unwrap();
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "ALTER DATABASE {name} SET default_transaction_read_only = on"
                )))
                .execute(p)
                .await
                .unwrap();
                url.clone()
            }
        };
        store.close().await;
        let (store, running, base) = serve(&refusing).await;
        let alice = Browser::sign_in(&http, &base, &planner).await;
        let page = alice.page(&format!("/ui/events/{id}")).await;
        assert!(page.contains("id=\"read-only\""), "{url}: {page}");
        let r = http
            .post(format!("{base}/api/v1/events"))
            .bearer_auth(&planner)
            .json(&json!({"brief": example("s01-meetup.json")}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE, "{url}");
        assert_eq!(r.headers()["retry-after"], "30");
        let (status, to) = alice.post("/ui/logout", &[]).await;
        assert_eq!(
            (status, to.as_str()),
            (StatusCode::SEE_OTHER, "/ui/login"),
            "{url}"
        );
        let (status, _) = alice.get("/ui").await;
        assert_eq!(
            status,
            StatusCode::SEE_OTHER,
            "{url}: the old cookie signs nobody in"
        );
        running.stop().await;
        store.close().await;
    }
}
