//! The HTTP API against a real server on a loopback port and a real database (SQLite always,
//! PostgreSQL when EODS_TEST_DATABASE_URL is set). Every response checked here is also validated
//! against the OpenAPI document the server publishes (the seed's contract tests T004/T005), so
//! the code and the document cannot drift apart.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use eods_agents::Tools;
use eods_domain::access::Role;
use eods_engine::Engine;
use eods_server::{Config, Running};
use eods_store::Store;
use eods_store::test_support::test_database_urls;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::sync::Arc;

#[path = "../../../testing/machine.rs"]
mod machine;
use std::time::Duration;

struct Api {
    base: String,
    http: reqwest::Client,
    doc: Value,
    store: Store,
    tokens: std::collections::BTreeMap<&'static str, String>,
    running: Option<Running>,
}

async fn start(url: &str, config: Config) -> Api {
    let store = Store::connect(url).await.unwrap();
    let engine = Engine::new(store.clone(), Arc::new(Tools::load(None).unwrap()))
        .with_clock(eods_engine::test_support::clock());
    let running = eods_server::start(engine, config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let base = format!("http://{}", running.addr);
    let mut tokens = std::collections::BTreeMap::new();
    for (name, role, contracts) in [
        ("alice", Role::Planner, false),
        ("paula", Role::Planner, true),
        ("bob", Role::Approver, false),
        ("carol", Role::Approver, false),
        ("vera", Role::Viewer, false),
        ("connie", Role::Viewer, true),
        ("root", Role::Admin, true),
    ] {
        let t = eods_server::auth::create_token(
            &store,
            None,
            name,
            role,
            contracts,
            chrono::Utc::now(),
        )
        .await
        .unwrap();
        tokens.insert(name, t.token);
    }
    let http = reqwest::Client::new();
    let doc: Value = http
        .get(format!("{base}/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    Api {
        base,
        http,
        doc,
        store,
        tokens,
        running: Some(running),
    }
}

fn quick() -> Config {
    Config {
        poll: Duration::from_millis(50),
        ..Config::default()
    }
}

/// A response: status, content type, headers and JSON body.
struct Res {
    status: StatusCode,
    content_type: String,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

impl Api {
    async fn call(
        &self,
        who: Option<&str>,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Res {
        self.call_with(who, method, path, body, &[]).await
    }

    async fn call_with(
        &self,
        who: Option<&str>,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Res {
        let mut req = self
            .http
            .request(method.clone(), format!("{}{path}", self.base));
        if let Some(w) = who {
            req = req.bearer_auth(&self.tokens[w]);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let status = r.status();
        let headers = r.headers().clone();
        let content_type = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let text = r.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        let res = Res {
            status,
            content_type,
            headers,
            body,
        };
        self.conforms(&method, path, &res);
        res
    }

    /// A request with a CSV body (`text/csv`, or another content type to see it refused).
    async fn call_text(
        &self,
        who: &str,
        method: Method,
        path: &str,
        content_type: &str,
        body: &str,
    ) -> Res {
        let r = self
            .http
            .request(method.clone(), format!("{}{path}", self.base))
            .bearer_auth(&self.tokens[who])
            .header("content-type", content_type)
            .body(body.to_owned())
            .send()
            .await
            .unwrap();
        let status = r.status();
        let headers = r.headers().clone();
        let content_type = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let text = r.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        let res = Res {
            status,
            content_type,
            headers,
            body,
        };
        self.conforms(&method, path, &res);
        res
    }

    /// The response's status is documented for the route and its body validates against the
    /// documented schema.
    fn conforms(&self, method: &Method, path: &str, res: &Res) {
        let path = path.split('?').next().unwrap();
        let template = self
            .template(path)
            .unwrap_or_else(|| panic!("{path} is not in /openapi.json"));
        let op = format!(
            "/paths/{}/{}",
            template.replace('~', "~0").replace('/', "~1"),
            method.as_str().to_lowercase()
        );
        let responses = self
            .doc
            .pointer(&format!("{op}/responses"))
            .unwrap_or_else(|| panic!("{op} undocumented"));
        let status = res.status.as_u16().to_string();
        let documented = responses.get(&status).unwrap_or_else(|| {
            panic!(
                "{method} {path} answered {status}, which the document does not list: {}",
                res.body
            )
        });
        let mime = res.content_type.split(';').next().unwrap().trim();
        let Some(content) = documented.get("content") else {
            return;
        };
        let schema_ptr = format!(
            "{op}/responses/{status}/content/{}/schema",
            mime.replace('/', "~1")
        );
        assert!(
            content.get(mime).is_some(),
            "{method} {path} {status}: content type {mime} is not documented ({content})"
        );
        if mime == "text/event-stream" || mime == "text/plain" {
            return;
        }
        // The documented schema as the root, with the components its references point into.
        let mut root = self.doc.pointer(&schema_ptr).unwrap().clone();
        root["components"] = self.doc["components"].clone();
        let validator = jsonschema::draft202012::new(&root).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&res.body)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{method} {path} {status} contradicts the document: {errors:?}\n{}",
            res.body
        );
    }

    fn template(&self, path: &str) -> Option<String> {
        let segs: Vec<&str> = path.split('/').collect();
        self.doc["paths"]
            .as_object()?
            .keys()
            .find(|t| {
                let ts: Vec<&str> = t.split('/').collect();
                ts.len() == segs.len()
                    && ts
                        .iter()
                        .zip(&segs)
                        .all(|(a, b)| a == b || (a.starts_with('{') && a.ends_with('}')))
            })
            .cloned()
    }

    /// Reads the event's progress stream until `until` holds for a `status` event (or `end`).
    async fn wait(&self, who: &str, id: &str, until: impl Fn(&Value) -> bool) -> Value {
        let mut r = self
            .http
            .get(format!("{}/api/v1/events/{id}/stream", self.base))
            .bearer_auth(&self.tokens[who])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/event-stream")
        );
        let mut buf = String::new();
        let mut last = Value::Null;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
        loop {
            let chunk = tokio::time::timeout_at(deadline, r.chunk())
                .await
                .expect("the stream went quiet")
                .unwrap();
            let Some(chunk) = chunk else { return last };
            buf.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(i) = buf.find("\n\n") {
                let frame: String = buf.drain(..i + 2).collect();
                let kind = frame
                    .lines()
                    .find_map(|l| l.strip_prefix("event: "))
                    .unwrap_or("");
                let data = frame
                    .lines()
                    .find_map(|l| l.strip_prefix("data: "))
                    .unwrap_or("null");
                let v: Value = serde_json::from_str(data).unwrap_or(Value::Null);
                if kind == "status" {
                    last = v.clone();
                    if until(&v) {
                        return v;
                    }
                }
                if kind == "end" {
                    return last;
                }
            }
        }
    }

    /// The page session of `who`, as a browser gets it by signing in (`eods_session=…`).
    async fn session_cookie(&self, who: &str) -> String {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let form = http
            .get(format!("{}/ui/login", self.base))
            .send()
            .await
            .unwrap();
        let login = form.headers()["set-cookie"].to_str().unwrap();
        let login = login.split(';').next().unwrap().to_owned();
        let page = form.text().await.unwrap();
        let at = page.find("name=\"csrf\" value=\"").unwrap() + "name=\"csrf\" value=\"".len();
        let csrf = page[at..at + page[at..].find('"').unwrap()].to_owned();
        let r = http
            .post(format!("{}/ui/login", self.base))
            .header("cookie", login)
            .form(&[
                ("token", self.tokens[who].as_str()),
                ("csrf", csrf.as_str()),
            ])
            .send()
            .await
            .unwrap();
        r.headers()
            .get_all("set-cookie")
            .iter()
            .map(|c| c.to_str().unwrap().split(';').next().unwrap().to_owned())
            .find(|c| c.starts_with("eods_session="))
            .unwrap()
    }

    async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await;
        }
        self.store.close().await;
    }
}

/// Finding 2 of issue 15: a reader without the contracts permission sees the budget by
/// category and in total, never what a supplier is paid. Every output such a reader can reach
/// (the event, every artifact and its revisions, both logs, the audit search, traces, metrics,
/// approvals, every export) and every webhook payload is searched for the amounts only the
/// per-supplier breakdown holds: contract totals and line amounts, less those equal to a figure
/// shown by category (a category with one supplier shows that supplier's total by design).
async fn viewers_never_see_what_a_supplier_is_paid(
    api: &Api,
    id: &str,
    cost: &Value,
    backend: &str,
) {
    let text = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_owned);
    let get = |path: String| async move { api.call(Some("vera"), Method::GET, &path, None).await };
    let contracts = api
        .call(
            Some("connie"),
            Method::GET,
            &format!("/api/v1/events/{id}/artifacts/vendor_contracts"),
            None,
        )
        .await;
    let mut secret: std::collections::BTreeSet<String> = contracts.body["payload"]["vendors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| text(&v["terms"]["total_cost"]["amount"]))
        .collect();
    for l in cost["line_items"].as_array().unwrap() {
        for f in ["unit_cost", "total", "first_quote"] {
            secret.insert(text(&l[f]));
        }
    }
    // What the budget by category shows: the viewer's budget.csv and the baseline.
    let csv = get(format!("/api/v1/events/{id}/exports/budget.csv")).await;
    let csv = text(&csv.body);
    assert!(
        csv.starts_with("category,allocated,planned,currency\r\n"),
        "{backend}: {csv}"
    );
    assert!(
        csv.lines().last().unwrap().starts_with("budget,"),
        "{backend}: {csv}"
    );
    let baseline = get(format!("/api/v1/events/{id}/artifacts/budget_baseline")).await;
    let decision = get(format!("/api/v1/events/{id}/artifacts/budget_decision")).await;
    let shown = format!("{csv} {} {}", baseline.body, decision.body);
    secret.retain(|a| {
        let d: rust_decimal::Decimal = a.parse().unwrap();
        !d.is_zero() && !shown.contains(a.as_str())
    });
    assert!(
        secret.len() >= 5,
        "{backend}: too few per-supplier amounts to test: {secret:?}"
    );
    let mut outputs: Vec<(String, String)> = Vec::new();
    let event = get(format!("/api/v1/events/{id}")).await;
    outputs.push(("event".into(), event.body.to_string()));
    for a in event.body["artifacts"].as_array().unwrap() {
        let t = a["type"].as_str().unwrap();
        for path in [
            format!("/api/v1/events/{id}/artifacts/{t}"),
            format!("/api/v1/events/{id}/artifacts/{t}/revisions"),
        ] {
            let r = get(path.clone()).await;
            assert_eq!(r.status, StatusCode::OK, "{backend} {path}");
            outputs.push((path, r.body.to_string()));
        }
    }
    for path in [
        format!("/api/v1/events/{id}/artifacts"),
        format!("/api/v1/events/{id}/decision-log"),
        format!("/api/v1/events/{id}/change-log"),
        format!("/api/v1/audit?log=decisions&event_id={id}"),
        format!("/api/v1/audit?log=changes&event_id={id}"),
        format!("/api/v1/events/{id}/traces"),
        format!("/api/v1/events/{id}/metrics"),
        format!("/api/v1/events/{id}/exports/budget.csv"),
        format!("/api/v1/events/{id}/exports/report.md"),
        format!("/api/v1/events/{id}/exports/calendar.ics"),
        format!("/api/v1/events/{id}/exports/schedule.xml"),
        format!("/api/v1/approvals?event_id={id}"),
        "/api/v1/events".to_owned(),
    ] {
        let r = get(path.clone()).await;
        assert_eq!(r.status, StatusCode::OK, "{backend} {path}: {}", r.body);
        outputs.push((path, text(&r.body)));
    }
    let event_id: eods_domain::ids::EventId = id.parse().unwrap();
    for o in api.store.outbox(Some(event_id)).await.unwrap() {
        outputs.push((
            format!("webhook payload {:?}", o.kind),
            o.payload.to_string(),
        ));
    }
    for (what, body) in &outputs {
        for a in &secret {
            // As written in JSON and files, and with thousands separated as pages write them.
            let grouped = group_thousands(a);
            assert!(
                !body.contains(a.as_str()) && !body.contains(&grouped),
                "{backend}: {what} shows the per-supplier amount {a} to a viewer"
            );
        }
    }
    // The reader with the permission does see them, line by line.
    let full = api
        .call(
            Some("connie"),
            Method::GET,
            &format!("/api/v1/events/{id}/exports/budget.csv"),
            None,
        )
        .await;
    let full = text(&full.body);
    assert!(
        secret.iter().filter(|a| full.contains(a.as_str())).count() >= 3,
        "{backend}: {full}"
    );
}

/// `1234.50` as `1,234.50`.
fn group_thousands(a: &str) -> String {
    let (int, frac) = a.split_once('.').unwrap_or((a, ""));
    let digits: Vec<char> = int.chars().collect();
    let mut out = String::new();
    for (i, c) in digits.iter().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(*c);
    }
    if frac.is_empty() {
        out
    } else {
        format!("{out}.{frac}")
    }
}

fn s02() -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/s02-conference.json"
    ))
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn s02_runs_through_the_api_to_postmortem_on_every_database() {
    let dir = tempfile::tempdir().unwrap();
    for url in test_database_urls(dir.path(), "s02").await.unwrap() {
        let api = start(&url, quick()).await;
        let backend = api.store.backend();
        let created = api
            .call_with(
                Some("alice"),
                Method::POST,
                "/api/v1/events",
                Some(json!({"mode": "simulate", "brief": s02()})),
                &[("X-Correlation-Id", "s02-test-create")],
            )
            .await;
        assert_eq!(
            created.status,
            StatusCode::CREATED,
            "{backend}: {}",
            created.body
        );
        assert_eq!(created.headers["x-correlation-id"], "s02-test-create");
        let id = created.body["id"].as_str().unwrap().to_owned();
        assert_eq!(
            created.headers["location"],
            format!("/api/v1/events/{id}").as_str()
        );
        assert_eq!(created.body["status"], "running");

        let waiting = api
            .wait("vera", &id, |s| {
                s["run_status"] == "awaiting_approval" && s["state"] == "confirm"
            })
            .await;
        assert_eq!(waiting["state"], "confirm", "{backend}: {waiting}");
        // An incident reported before Execute is played by it.
        let path = format!("/api/v1/events/{id}/incidents");
        let r = api
            .call(
                Some("alice"),
                Method::POST,
                &path,
                Some(
                    json!({"kind": "vendor_cancellation", "at": "2h", "comment": "caterer called"}),
                ),
            )
            .await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{backend}: {}", r.body);
        assert_eq!(r.body["incidents"], json!(["vendor_cancellation@120"]));
        let r = api
            .call(
                Some("alice"),
                Method::POST,
                &path,
                Some(json!({"kind": "meteor"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.body["errors"][0]["pointer"], "/kind");

        let pending = api
            .call(
                Some("bob"),
                Method::GET,
                "/api/v1/approvals?status=pending",
                None,
            )
            .await;
        assert_eq!(pending.status, 200);
        let mine: Vec<&Value> = pending.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["event_id"] == id.as_str())
            .collect();
        let gates: Vec<&str> = mine.iter().map(|a| a["gate"].as_str().unwrap()).collect();
        assert_eq!(gates.len(), 3, "{backend}: {gates:?}");
        for g in ["venue_selection", "budget_decision", "vendor_contracts"] {
            assert!(gates.contains(&g), "{backend}: {g} missing from {gates:?}");
        }
        for a in &mine {
            let path = format!("/api/v1/approvals/{}/decision", a["id"].as_str().unwrap());
            if a["gate"] == "budget_decision" {
                // A rejection whose comment names two amounts and no cap is refused, naming
                // the comment; the request stays pending.
                let r = api
                    .call(
                        Some("bob"),
                        Method::POST,
                        &path,
                        Some(json!({"decision": "reject", "comment": "between 1000 and 2000"})),
                    )
                    .await;
                assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
                assert_eq!(r.body["errors"][0]["pointer"], "/comment");
                assert!(
                    r.body["errors"][0]["message"]
                        .as_str()
                        .unwrap()
                        .contains("e.g. `cap at 1000`"),
                    "{}",
                    r.body
                );
            }
            let r = api
                .call(
                    Some("bob"),
                    Method::POST,
                    &path,
                    Some(json!({"decision": "approve", "comment": "fits the plan"})),
                )
                .await;
            assert_eq!(r.status, 200, "{backend}: {}", r.body);
            assert_eq!(r.body["outcome"], "decided");
            assert_eq!(r.body["approval"]["status"], "approved");
            assert_eq!(r.body["approval"]["decided_by"], "user:bob");
            // Deciding twice is a conflict, not a second decision.
            let again = api
                .call(
                    Some("bob"),
                    Method::POST,
                    &path,
                    Some(json!({"decision": "reject"})),
                )
                .await;
            assert_eq!(again.status, StatusCode::CONFLICT);
        }
        let done = api
            .wait("vera", &id, |s| s["run_status"] == "completed")
            .await;
        assert_eq!(done["state"], "postmortem", "{backend}: {done}");

        let event = api
            .call(
                Some("vera"),
                Method::GET,
                &format!("/api/v1/events/{id}"),
                None,
            )
            .await;
        assert_eq!(event.body["state"], "postmortem");
        assert_eq!(event.body["run_status"], "completed");
        let types: Vec<&str> = event.body["artifacts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["type"].as_str().unwrap())
            .collect();
        for t in [
            "timeline",
            "venue_scorecard",
            "budget_decision",
            "schedule",
            "contingency_plan",
            "postmortem",
        ] {
            assert!(types.contains(&t), "{backend}: {t} missing");
        }
        // The request's correlation id is on the brief and on the run's log entries.
        let brief = api
            .call(
                Some("vera"),
                Method::GET,
                &format!("/api/v1/events/{id}/artifacts/event_brief"),
                None,
            )
            .await;
        assert_eq!(brief.body["correlation_id"], "s02-test-create");
        assert_eq!(brief.headers["etag"], "\"1\"");
        let decisions = api
            .call(
                Some("vera"),
                Method::GET,
                &format!("/api/v1/events/{id}/decision-log"),
                None,
            )
            .await;
        let entries = decisions.body["items"].as_array().unwrap();
        assert!(
            entries
                .iter()
                .filter(|d| d["decision_type"] == "agent_step")
                .all(|d| d["correlation_id"] == "s02-test-create")
        );
        let approvals: Vec<&Value> = entries
            .iter()
            .filter(|d| d["decision_type"] == "approval")
            .collect();
        assert_eq!(approvals.len(), 3, "{backend}");
        assert!(approvals.iter().all(|d| d["owner"] == "user:bob"));
        let changes = api
            .call(
                Some("vera"),
                Method::GET,
                &format!("/api/v1/events/{id}/change-log"),
                None,
            )
            .await;
        assert!(changes.body["items"].as_array().unwrap().len() > 20);
        let revisions = api
            .call(
                Some("vera"),
                Method::GET,
                &format!("/api/v1/events/{id}/artifacts/budget_decision/revisions"),
                None,
            )
            .await;
        assert!(
            revisions.body.as_array().unwrap().len() >= 2,
            "proposed, then stamped approved"
        );

        // Contract terms are withheld without the contracts permission.
        let path = format!("/api/v1/events/{id}/artifacts/vendor_contracts");
        let hidden = api.call(Some("vera"), Method::GET, &path, None).await;
        let shown = api.call(Some("connie"), Method::GET, &path, None).await;
        assert!(!hidden.body["redacted"].as_array().unwrap().is_empty());
        assert!(hidden.body["payload"]["vendors"][0]["terms"].is_string());
        assert!(shown.body["redacted"].as_array().unwrap().is_empty());
        assert!(shown.body["payload"]["vendors"][0]["terms"]["total_cost"].is_object());
        let notes = format!("/api/v1/events/{id}/artifacts/venue_negotiation_notes");
        let hidden = api.call(Some("vera"), Method::GET, &notes, None).await;
        let shown = api.call(Some("connie"), Method::GET, &notes, None).await;
        let entries = shown.body["payload"]["entries"].as_array().unwrap().len();
        assert!(entries > 0, "{backend}: S-02 negotiates");
        assert_eq!(
            hidden.body["redacted"].as_array().unwrap().len(),
            3 * entries,
            "terms, target price and concessions of each"
        );
        assert!(hidden.body["payload"]["entries"][0]["target_price"].is_string());
        assert!(shown.body["payload"]["entries"][0]["target_price"]["amount"].is_string());
        let log = api
            .call(
                Some("vera"),
                Method::GET,
                &format!("/api/v1/events/{id}/artifacts/incident_log"),
                None,
            )
            .await;
        let incidents = log.body["payload"]["incidents"].as_array().unwrap();
        assert_eq!(incidents.len(), 1, "{backend}: {}", log.body);
        assert_eq!(incidents[0]["kind"], "vendor_cancellation");
        assert_eq!(incidents[0]["status"], "resolved");
        assert_eq!(incidents[0]["resolved_by_contingency"], true);
        let r = api
            .call(
                Some("alice"),
                Method::POST,
                &format!("/api/v1/events/{id}/incidents"),
                Some(json!({"kind": "weather"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "the event is over");

        // Traces, metrics, exports and the audit search across events.
        let traces = api
            .call(
                Some("vera"),
                Method::GET,
                &format!("/api/v1/events/{id}/traces"),
                None,
            )
            .await;
        assert_eq!(
            traces.body.as_array().unwrap().len() as u64,
            event.body["artifacts"]
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["type"] == "agent_trace")
                .unwrap()["revision"]
                .as_u64()
                .unwrap()
        );
        let metrics = api
            .call(
                Some("vera"),
                Method::GET,
                &format!("/api/v1/events/{id}/metrics"),
                None,
            )
            .await;
        assert_eq!(metrics.status, 200, "{}", metrics.body);
        assert_eq!(metrics.body["incidents_total"], 1);
        let variance = metrics.body["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == "budget_variance")
            .unwrap()
            .clone();
        assert_eq!(variance["met"], true, "{variance}");
        let ics = api
            .call(
                Some("vera"),
                Method::GET,
                &format!("/api/v1/events/{id}/exports/calendar.ics"),
                None,
            )
            .await;
        assert!(ics.content_type.starts_with("text/calendar"));
        let ics = ics.body.as_str().unwrap().to_owned();
        assert!(
            ics.starts_with("BEGIN:VCALENDAR") && ics.matches("BEGIN:VEVENT").count() > 24,
            "{backend}"
        );
        let xml = api
            .call(
                Some("vera"),
                Method::GET,
                &format!("/api/v1/events/{id}/exports/schedule.xml"),
                None,
            )
            .await;
        assert!(xml.content_type.starts_with("application/xml"));
        let file = dir.path().join(format!("{backend}-schedule.xml"));
        std::fs::write(&file, xml.body.as_str().unwrap()).unwrap();
        machine::assert_valid_frab_xml(&file);
        let csv = api
            .call(
                Some("connie"),
                Method::GET,
                &format!("/api/v1/events/{id}/exports/budget.csv"),
                None,
            )
            .await;
        let csv = csv.body.as_str().unwrap().to_owned();
        let cost = api
            .call(
                Some("connie"),
                Method::GET,
                &format!("/api/v1/events/{id}/artifacts/cost_model"),
                None,
            )
            .await;
        assert!(csv.starts_with("id,category,description,qty,unit_cost,total"));
        assert_eq!(
            csv.lines().count(),
            // Header, total, reserve, unallocated and budget rows.
            cost.body["payload"]["line_items"].as_array().unwrap().len() + 5
        );
        assert!(csv.lines().any(|l| l.contains(&format!(
            ",total,,,,{},",
            cost.body["payload"]["total"].as_str().unwrap()
        ))));
        assert!(csv.lines().last().unwrap().starts_with(",budget,,,,"));
        viewers_never_see_what_a_supplier_is_paid(&api, &id, &cost.body["payload"], backend).await;
        let r = api
            .call(
                Some("vera"),
                Method::GET,
                &format!("/api/v1/events/{id}/exports/report.pdf"),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        let approvals = api
            .call(
                Some("vera"),
                Method::GET,
                &format!("/api/v1/audit?type=approval&who=user:bob&event_id={id}"),
                None,
            )
            .await;
        assert_eq!(
            approvals.body["items"].as_array().unwrap().len(),
            3,
            "{backend}: {}",
            approvals.body
        );
        let incidents = api
            .call(
                Some("vera"),
                Method::GET,
                "/api/v1/audit?log=changes&type=incident",
                None,
            )
            .await;
        let items = incidents.body["items"].as_array().unwrap();
        assert!(
            items
                .iter()
                .any(|c| c["event_id"] == id.as_str() && c["entry"]["actor"] == "user:alice"),
            "{backend}: {}",
            incidents.body
        );
        let since = api
            .call(
                Some("vera"),
                Method::GET,
                "/api/v1/audit?since=2999-01-01T00:00:00Z",
                None,
            )
            .await;
        assert_eq!(since.body["items"], json!([]));
        let r = api
            .call(Some("vera"), Method::GET, "/api/v1/audit?log=bogus", None)
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);

        let listed = api
            .call(
                Some("vera"),
                Method::GET,
                "/api/v1/events?state=postmortem&limit=10",
                None,
            )
            .await;
        assert_eq!(listed.body["total"], 1);
        let metrics = api
            .http
            .get(format!("{}/metrics", api.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(metrics.contains("eods_http_requests_total"), "{metrics}");
        assert!(metrics.contains("eods_steps_total"));
        assert!(metrics.contains("eods_events{run_status=\"completed\"}"));
        api.stop().await;
    }
}

/// (method, path, body, roles allowed).
fn routes(event: &str, approval: &str) -> Vec<(Method, String, Option<Value>, &'static [Role])> {
    use Role::*;
    const ALL: &[Role] = &[Admin, Planner, Approver, Viewer];
    const PLAN: &[Role] = &[Admin, Planner];
    const APPROVE: &[Role] = &[Admin, Approver];
    vec![
        (
            Method::POST,
            "/api/v1/events".into(),
            Some(json!({"mode": "simulate", "brief": {"title": "x"}, "auto_start": false})),
            PLAN,
        ),
        (Method::GET, "/api/v1/events".into(), None, ALL),
        (Method::GET, format!("/api/v1/events/{event}"), None, ALL),
        (
            Method::PATCH,
            format!("/api/v1/events/{event}"),
            Some(json!({"title": "Renamed"})),
            PLAN,
        ),
        (
            Method::POST,
            format!("/api/v1/events/{event}/incidents"),
            Some(json!({"kind": "weather"})),
            PLAN,
        ),
        (
            Method::POST,
            format!("/api/v1/events/{event}/incidents/1/resolve"),
            Some(json!({"note": "fixed"})),
            PLAN,
        ),
        (
            Method::POST,
            format!("/api/v1/events/{event}/actions/pause"),
            None,
            PLAN,
        ),
        (
            Method::POST,
            format!("/api/v1/events/{event}/actions/resume"),
            None,
            PLAN,
        ),
        (
            Method::POST,
            format!("/api/v1/events/{event}/actions/start"),
            None,
            PLAN,
        ),
        (
            Method::POST,
            format!("/api/v1/events/{event}/actions/cancel"),
            None,
            PLAN,
        ),
        (
            Method::POST,
            format!("/api/v1/events/{event}/actions/advance"),
            None,
            PLAN,
        ),
        (
            Method::GET,
            format!("/api/v1/events/{event}/artifacts"),
            None,
            ALL,
        ),
        (
            Method::GET,
            format!("/api/v1/events/{event}/artifacts/timeline"),
            None,
            ALL,
        ),
        (
            Method::PUT,
            format!("/api/v1/events/{event}/artifacts/timeline"),
            Some(json!({"payload": {}})),
            PLAN,
        ),
        (
            Method::GET,
            format!("/api/v1/events/{event}/artifacts/timeline/revisions"),
            None,
            ALL,
        ),
        (
            Method::GET,
            format!("/api/v1/events/{event}/decision-log"),
            None,
            ALL,
        ),
        (
            Method::GET,
            format!("/api/v1/events/{event}/change-log"),
            None,
            ALL,
        ),
        (
            Method::PUT,
            format!("/api/v1/events/{event}/venues"),
            Some(json!([])),
            PLAN,
        ),
        (
            Method::PUT,
            format!("/api/v1/events/{event}/rate-cards"),
            Some(json!([])),
            PLAN,
        ),
        (
            Method::POST,
            format!("/api/v1/events/{event}/quotes"),
            Some(json!({"quotes": [{"venue": "Sample Hall", "capacity": 80}]})),
            PLAN,
        ),
        (
            Method::POST,
            format!("/api/v1/events/{event}/drafts"),
            None,
            PLAN,
        ),
        (
            Method::POST,
            format!("/api/v1/events/{event}/drafts/attendees/approve"),
            Some(json!({"revision": 1})),
            APPROVE,
        ),
        (Method::GET, "/api/v1/approvals".into(), None, ALL),
        (
            Method::GET,
            format!("/api/v1/events/{event}/traces"),
            None,
            ALL,
        ),
        (
            Method::GET,
            format!("/api/v1/events/{event}/metrics"),
            None,
            ALL,
        ),
        (
            Method::GET,
            format!("/api/v1/events/{event}/exports/budget.csv"),
            None,
            ALL,
        ),
        (Method::GET, "/api/v1/audit?log=changes".into(), None, ALL),
        (
            Method::POST,
            format!("/api/v1/approvals/{approval}/decision"),
            Some(json!({"decision": "approve"})),
            APPROVE,
        ),
    ]
}

fn token_of(role: Role) -> &'static str {
    match role {
        Role::Admin => "root",
        Role::Planner => "alice",
        Role::Approver => "bob",
        Role::Viewer => "vera",
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_refuses_a_role_without_the_right_and_a_missing_token() {
    let dir = tempfile::tempdir().unwrap();
    let url = &test_database_urls(dir.path(), "roles").await.unwrap()[0];
    let api = start(
        url,
        Config {
            worker: false,
            ..quick()
        },
    )
    .await;
    let created = api
        .call(
            Some("alice"),
            Method::POST,
            "/api/v1/events",
            Some(json!({"mode": "simulate", "brief": s02(), "auto_start": false})),
        )
        .await;
    let event = created.body["id"].as_str().unwrap().to_owned();
    let approval = uuid::Uuid::now_v7().to_string();
    let mut checked = 0;
    for (method, path, body, allowed) in routes(&event, &approval) {
        let none = api.call(None, method.clone(), &path, body.clone()).await;
        assert_eq!(
            none.status,
            StatusCode::UNAUTHORIZED,
            "{method} {path} without a token"
        );
        assert!(none.headers.contains_key("www-authenticate"));
        for role in Role::ALL {
            let r = api
                .call(Some(token_of(role)), method.clone(), &path, body.clone())
                .await;
            if allowed.contains(&role) {
                assert_ne!(
                    r.status,
                    StatusCode::FORBIDDEN,
                    "{role} may {method} {path}: {}",
                    r.body
                );
            } else {
                assert_eq!(
                    r.status,
                    StatusCode::FORBIDDEN,
                    "{role} must not {method} {path}: {}",
                    r.body
                );
                assert_eq!(r.content_type, "application/problem+json");
                assert!(r.body["detail"].as_str().unwrap().contains(role.as_str()));
                checked += 1;
            }
        }
    }
    assert_eq!(
        checked,
        15 * 2 + 2,
        "every route × role without the right was tried"
    );
    let bad = api
        .http
        .get(format!("{}/api/v1/events", api.base))
        .bearer_auth("eods_0123456789ab_nope")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);
    api.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bad_requests_get_problems_that_name_the_field_and_nothing_changes() {
    let dir = tempfile::tempdir().unwrap();
    let url = &test_database_urls(dir.path(), "problems").await.unwrap()[0];
    let api = start(url, quick()).await;
    let r = api
        .call(
            Some("alice"),
            Method::POST,
            "/api/v1/events",
            Some(json!({"mode": "simulate", "brief": s02(), "levl": "advanced"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.content_type, "application/problem+json");
    assert_eq!(r.body["errors"][0]["pointer"], "/levl");
    let mut brief = s02();
    brief["event_type"] = json!("picnic");
    let r = api
        .call(
            Some("alice"),
            Method::POST,
            "/api/v1/events",
            Some(json!({"mode": "simulate", "brief": brief, "incidents": ["meteor"]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["errors"][0]["pointer"], "/incidents/0");
    let r = api
        .call(
            Some("alice"),
            Method::POST,
            "/api/v1/events",
            Some(json!({"mode": "simulate", "brief": brief})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["pointer"] == "/brief/event_type"),
        "{}",
        r.body
    );
    // Briefs as organisers write them: each wrong field by pointer with the expected form; a
    // past date only when intended; the spec's date-time form is accepted.
    for (pointer, value, expected) in [
        (
            "/date_range/start",
            json!("08/04/2027"),
            "expected YYYY-MM-DD or an ISO 8601 date-time with offset",
        ),
        ("/budget/total", json!("12,000"), "for `12,000` write 12000"),
        ("/budget/currency", json!("XYZ"), "`XYZ`"),
        (
            "/date_range/end",
            json!("2027-06-08T10:00:00+02:00"),
            "before it starts",
        ),
    ] {
        let mut b = s02();
        *b.pointer_mut(pointer).unwrap() = value;
        let r = api
            .call(
                Some("alice"),
                Method::POST,
                "/api/v1/events",
                Some(json!({"mode": "simulate", "brief": b})),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{pointer}");
        let errors = r.body["errors"].as_array().unwrap();
        assert!(
            errors
                .iter()
                .any(|e| e["pointer"] == format!("/brief{pointer}")
                    && e["message"].as_str().unwrap().contains(expected)),
            "{pointer}: {}",
            r.body
        );
    }
    let mut past = s02();
    past["date_range"] = json!({"start": "2024-06-09", "end": "2024-06-10"});
    let r = api
        .call(
            Some("alice"),
            Method::POST,
            "/api/v1/events",
            Some(json!({"mode": "simulate", "brief": past.clone(), "auto_start": false})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        r.body["errors"][0]["pointer"], "/brief/date_range/start",
        "{}",
        r.body
    );
    let r = api
        .call(Some("vera"), Method::GET, "/api/v1/events?limit=0", None)
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = api
        .call(
            Some("vera"),
            Method::GET,
            "/api/v1/events?state=sideways",
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let listed = api
        .call(Some("vera"), Method::GET, "/api/v1/events", None)
        .await;
    assert_eq!(
        listed.body["total"], 0,
        "no refused request created anything"
    );
    let r = api
        .call(
            Some("alice"),
            Method::POST,
            "/api/v1/events",
            Some(
                json!({"mode": "simulate", "brief": past, "auto_start": false, "allow_past": true}),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let mut timed = s02();
    timed["date_range"] =
        json!({"start": "2027-06-09T09:00:00+02:00", "end": "2027-06-10T17:00:00Z"});
    let r = api
        .call(
            Some("alice"),
            Method::POST,
            "/api/v1/events",
            Some(json!({"mode": "simulate", "brief": timed, "auto_start": false})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = api
        .call(
            Some("vera"),
            Method::GET,
            &format!("/api/v1/events/{}", uuid::Uuid::now_v7()),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = api
        .call(
            Some("vera"),
            Method::GET,
            "/api/v1/events/not-a-uuid/artifacts",
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // An incomplete brief creates the event, waiting for input, and names the missing fields.
    let r = api
        .call(
            Some("alice"),
            Method::POST,
            "/api/v1/events",
            Some(json!({"mode": "simulate", "brief": {"title": "Half a brief"}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.body["status"], "needs_input");
    assert!(
        r.body["missing_fields"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m == "budget.total")
    );
    let half = r.body["id"].as_str().unwrap().to_owned();
    let r = api
        .call(
            Some("alice"),
            Method::POST,
            &format!("/api/v1/events/{half}/actions/start"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.body["detail"].as_str().unwrap().contains("incomplete"));
    // A merge patch completes it: wrong values are refused with pointers into the brief, missing
    // ones are named, and the complete brief starts planning.
    let mut rest = s02();
    rest["title"] = json!("Half a brief");
    rest["event_type"] = json!("picnic");
    let r = api
        .call(
            Some("alice"),
            Method::PATCH,
            &format!("/api/v1/events/{half}"),
            Some(rest.clone()),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["pointer"] == "/event_type"),
        "{}",
        r.body
    );
    let r = api
        .call(
            Some("alice"),
            Method::PATCH,
            &format!("/api/v1/events/{half}"),
            Some(json!({"event_type": "conference"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["status"], "needs_input");
    assert!(
        r.body["missing_fields"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m == "budget.total")
    );
    rest["event_type"] = json!("conference");
    let r = api
        .call(
            Some("alice"),
            Method::PATCH,
            &format!("/api/v1/events/{half}"),
            Some(rest),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["missing_fields"], json!([]));
    assert_eq!(r.body["brief_revision"], 1);
    assert_eq!(
        r.body["level"], "intermediate",
        "the level follows the completed audience"
    );
    let planned = api
        .wait("vera", &half, |s| s["run_status"] == "awaiting_approval")
        .await;
    assert_eq!(planned["state"], "confirm");

    // A transition that cannot pass says what blocks it and changes nothing.
    let created = api
        .call(
            Some("alice"),
            Method::POST,
            "/api/v1/events",
            Some(json!({"mode": "simulate", "brief": s02(), "auto_start": false})),
        )
        .await;
    let id = created.body["id"].as_str().unwrap().to_owned();
    let r = api
        .call(
            Some("alice"),
            Method::POST,
            &format!("/api/v1/events/{id}/actions/advance"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert_eq!(r.body["type"], "/problems/blocked");
    let missing: Vec<&str> = r.body["missing_artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    assert!(
        missing.contains(&"requirements") && missing.contains(&"stakeholder_map"),
        "{missing:?}"
    );
    let e = api
        .call(
            Some("vera"),
            Method::GET,
            &format!("/api/v1/events/{id}"),
            None,
        )
        .await;
    assert_eq!(e.body["state"], "initiate");

    // Run it to the approvals, then edit with and without the right revision.
    api.call(
        Some("alice"),
        Method::POST,
        &format!("/api/v1/events/{id}/actions/start"),
        None,
    )
    .await;
    api.wait("vera", &id, |s| s["run_status"] == "awaiting_approval")
        .await;
    let path = format!("/api/v1/events/{id}/artifacts/vendor_contracts");
    let current = api.call(Some("root"), Method::GET, &path, None).await;
    let rev = current.body["revision"].as_u64().unwrap();
    let mut payload = current.body["payload"].clone();
    // A planner without the contracts permission cannot overwrite terms withheld from them.
    let r = api
        .call_with(
            Some("alice"),
            Method::PUT,
            &path,
            Some(json!({"payload": payload.clone()})),
            &[("If-Match", &format!("\"{rev}\""))],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap()
            .contains("needs the contracts permission"),
        "{}",
        r.body
    );
    assert!(!r.body.to_string().contains("total_cost"), "{}", r.body);
    let r = api
        .call(
            Some("paula"),
            Method::PUT,
            &path,
            Some(json!({"payload": payload.clone()})),
        )
        .await;
    assert_eq!(r.status, StatusCode::PRECONDITION_REQUIRED);
    let stale = format!("\"{}\"", rev + 5);
    let r = api
        .call_with(
            Some("paula"),
            Method::PUT,
            &path,
            Some(json!({"payload": payload.clone()})),
            &[("If-Match", &stale)],
        )
        .await;
    assert_eq!(r.status, StatusCode::PRECONDITION_FAILED);
    let mut broken = payload.clone();
    broken["vendors"][0]["terms"]["total_cost"]["amount"] = json!("lots");
    let etag = format!("\"{rev}\"");
    let r = api
        .call_with(
            Some("paula"),
            Method::PUT,
            &path,
            Some(json!({"payload": broken})),
            &[("If-Match", &etag)],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["pointer"]
                .as_str()
                .unwrap()
                .starts_with("/payload/vendors/0/terms")),
        "{}",
        r.body
    );
    let unchanged = api.call(Some("root"), Method::GET, &path, None).await;
    assert_eq!(
        unchanged.body["revision"].as_u64().unwrap(),
        rev,
        "a refused edit stores nothing"
    );

    // A real edit: +2,500 on a contract re-opens the budget approval and needs vendor approval again.
    let amount: rust_decimal::Decimal = payload["vendors"][0]["terms"]["total_cost"]["amount"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    payload["vendors"][0]["terms"]["total_cost"]["amount"] =
        json!((amount + rust_decimal::Decimal::from(2500)).to_string());
    let r = api
        .call_with(
            Some("paula"),
            Method::PUT,
            &path,
            Some(json!({"payload": payload, "comment": "rush order"})),
            &[("If-Match", &etag)],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["budget_reapproval"], true);
    assert_eq!(r.body["cost_delta"], "2500.00");
    // The contract change is in the ChangeLog: with its amounts for a reader with the contracts
    // permission, without them for a viewer (finding 2), on the event's log and the audit search.
    let new_total = (amount + rust_decimal::Decimal::from(2500)).to_string();
    for (who, sees) in [("connie", true), ("vera", false)] {
        for path in [
            format!("/api/v1/events/{id}/change-log"),
            format!("/api/v1/audit?log=changes&event_id={id}"),
        ] {
            let log = api.call(Some(who), Method::GET, &path, None).await;
            assert_eq!(log.status, StatusCode::OK, "{who} {path}: {}", log.body);
            let text = log.body.to_string();
            assert_eq!(
                text.contains(&new_total) || text.contains("2500.00"),
                sees,
                "{who} {path}: {text}"
            );
            assert!(
                text.contains("user:paula"),
                "{who} {path}: who changed it stays"
            );
        }
    }
    assert_eq!(r.body["artifact"]["created_by"], "user:paula");
    let again = api
        .call_with(
            Some("paula"),
            Method::PUT,
            &path,
            Some(json!({"payload": current.body["payload"]})),
            &[("If-Match", &etag)],
        )
        .await;
    assert_eq!(
        again.status,
        StatusCode::PRECONDITION_FAILED,
        "the same revision cannot be edited twice"
    );
    let changes = api
        .call(
            Some("connie"),
            Method::GET,
            &format!("/api/v1/events/{id}/change-log"),
            None,
        )
        .await;
    assert!(changes.body["items"].as_array().unwrap().iter().any(|c| {
        c["description"]
            .as_str()
            .unwrap()
            .contains("contracted total")
            && c["description"].as_str().unwrap().contains("rush order")
    }));
    let pending = api
        .call(
            Some("bob"),
            Method::GET,
            &format!("/api/v1/approvals?status=pending&event_id={id}"),
            None,
        )
        .await;
    let edited: Vec<&Value> = pending.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["gate"] == "vendor_contracts")
        .collect();
    assert_eq!(edited.len(), 1);
    assert_eq!(edited[0]["artifact_revision"].as_u64().unwrap(), rev + 1);
    // The admin who edits may not approve the edit.
    let vc = api.call(Some("root"), Method::GET, &path, None).await;
    let etag = format!("\"{}\"", vc.body["revision"]);
    let r = api
        .call_with(
            Some("root"),
            Method::PUT,
            &path,
            Some(json!({"payload": vc.body["payload"]})),
            &[("If-Match", &etag)],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let pending = api
        .call(
            Some("root"),
            Method::GET,
            &format!("/api/v1/approvals?status=pending&event_id={id}"),
            None,
        )
        .await;
    let own = pending.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["gate"] == "vendor_contracts")
        .unwrap()
        .clone();
    let r = api
        .call(
            Some("root"),
            Method::POST,
            &format!("/api/v1/approvals/{}/decision", own["id"].as_str().unwrap()),
            Some(json!({"decision": "approve"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert!(r.body["detail"].as_str().unwrap().contains("own edit"));
    // Nor the budget that the admin's own contract edit re-opened (finding 6): another approver
    // decides it.
    let vc = api.call(Some("root"), Method::GET, &path, None).await;
    let etag = format!("\"{}\"", vc.body["revision"]);
    let mut dearer = vc.body["payload"].clone();
    let amount: rust_decimal::Decimal = dearer["vendors"][0]["terms"]["total_cost"]["amount"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    dearer["vendors"][0]["terms"]["total_cost"]["amount"] =
        json!((amount + rust_decimal::Decimal::from(3000)).to_string());
    let r = api
        .call_with(
            Some("root"),
            Method::PUT,
            &path,
            Some(json!({"payload": dearer})),
            &[("If-Match", &etag)],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["budget_reapproval"], true, "{}", r.body);
    let pending = api
        .call(
            Some("root"),
            Method::GET,
            &format!("/api/v1/approvals?status=pending&event_id={id}"),
            None,
        )
        .await;
    let budget = pending.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["gate"] == "budget_decision")
        .unwrap()
        .clone();
    let decision = format!(
        "/api/v1/approvals/{}/decision",
        budget["id"].as_str().unwrap()
    );
    let decide = |who: &'static str| {
        api.call(
            Some(who),
            Method::POST,
            &decision,
            Some(json!({"decision": "approve", "comment": "ok"})),
        )
    };
    let r = decide("root").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap()
            .contains("re-opened by their own edit (vendor_contracts"),
        "{}",
        r.body
    );
    assert_eq!(decide("bob").await.status, StatusCode::OK);
    api.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_quorum_of_two_needs_two_different_approvers() {
    let dir = tempfile::tempdir().unwrap();
    let url = &test_database_urls(dir.path(), "quorum").await.unwrap()[0];
    let api = start(url, quick()).await;
    let created = api
        .call(
            Some("alice"),
            Method::POST,
            "/api/v1/events",
            Some(json!({"mode": "simulate", "brief": s02(), "required_approvals": 2})),
        )
        .await;
    let id = created.body["id"].as_str().unwrap().to_owned();
    api.wait("vera", &id, |s| {
        s["run_status"] == "awaiting_approval" && s["state"] == "confirm"
    })
    .await;
    let pending = api
        .call(
            Some("bob"),
            Method::GET,
            &format!("/api/v1/approvals?status=pending&event_id={id}"),
            None,
        )
        .await;
    let venue = pending.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["gate"] == "venue_selection")
        .unwrap()
        .clone();
    assert_eq!(venue["required_approvals"], 2);
    let path = format!(
        "/api/v1/approvals/{}/decision",
        venue["id"].as_str().unwrap()
    );
    let first = api
        .call(
            Some("bob"),
            Method::POST,
            &path,
            Some(json!({"decision": "approve"})),
        )
        .await;
    assert_eq!(first.body["outcome"], "voted");
    assert_eq!(first.body["approval"]["status"], "pending");
    let twice = api
        .call(
            Some("bob"),
            Method::POST,
            &path,
            Some(json!({"decision": "approve"})),
        )
        .await;
    assert_eq!(twice.status, StatusCode::CONFLICT, "one vote per approver");
    let second = api
        .call(
            Some("carol"),
            Method::POST,
            &path,
            Some(json!({"decision": "approve"})),
        )
        .await;
    assert_eq!(second.body["outcome"], "decided");
    assert_eq!(second.body["approval"]["status"], "approved");
    assert_eq!(
        second.body["approval"]["votes"].as_array().unwrap().len(),
        2
    );
    api.stop().await;
}

/// An organiser's venue list with two bad rows (lines 3 and 5); sample data.
const BAD_VENUES: &str = "name,city,country,capacity,day_rate,currency,notes
Sample Hall,Helsinki,FI,120,900,EUR,sample data
Sample Loft,Helsinki,FI,lots,500,EUR,sample data
Sample Studio,Helsinki,FI,60,,,sample data
Sample Barn,Helsinki,FI,200,700,EURO,sample data
";

const GOOD_VENUES: &str = "name,city,country,capacity,day_rate,currency,notes
Sample Hall,Helsinki,FI,120,900,EUR,sample data
Sample Studio,Helsinki,FI,60,,,sample data
Sample Barn,Helsinki,FI,,,,sample data
";

const RATE_CARDS: &str = "supplier,service,city,country,currency,item,unit,price,notes
Sample Catering,catering,Helsinki,FI,EUR,lunch,per_head,18.50,sample data
Sample Catering,catering,Helsinki,FI,EUR,coffee_break,per_head,4.20,sample data
";

fn helsinki_brief() -> Value {
    let mut b = s02();
    b["title"] = json!("Sample Helsinki meetup");
    b["location"]["city"] = json!("Helsinki");
    b["location"]["country"] = json!("FI");
    b["timezone"] = json!("Europe/Helsinki");
    b
}

fn messages(r: &Res) -> Vec<(String, String)> {
    r.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["pointer"].as_str().unwrap().to_owned(),
                e["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn event_total(api: &Api) -> u64 {
    api.call(Some("alice"), Method::GET, "/api/v1/events", None)
        .await
        .body["total"]
        .as_u64()
        .unwrap()
}

async fn organiser_data(api: &Api, event: &str) -> Value {
    let r = api
        .call(
            Some("alice"),
            Method::GET,
            &format!("/api/v1/events/{event}/artifacts/organiser_data"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn venue_lists_rate_cards_and_quotes_go_in_through_the_api_and_bad_rows_name_line_and_column()
{
    let dir = tempfile::tempdir().unwrap();
    for url in test_database_urls(dir.path(), "organiser").await.unwrap() {
        let api = start(
            &url,
            Config {
                worker: false,
                ..quick()
            },
        )
        .await;
        let before = event_total(&api).await;

        // Every bad row of every list is named, and nothing is created.
        let r = api
            .call(
                Some("alice"),
                Method::POST,
                "/api/v1/events",
                Some(json!({
                    "brief": helsinki_brief(),
                    "venues_csv": BAD_VENUES,
                    "rate_cards": [{"supplier": "Sample Catering", "service": "catering", "city": "Helsinki",
                        "country": "FI", "currency": "EUR", "item": "lunch", "unit": "per_person", "price": "18.50"}],
                })),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        let got = messages(&r);
        assert_eq!(got.len(), 3, "{got:?}");
        assert_eq!(got[0].0, "/venues_csv");
        assert!(got[0].1.starts_with("line 3, column capacity: "), "{got:?}");
        assert_eq!(got[1].0, "/venues_csv");
        assert!(got[1].1.starts_with("line 5, column currency: "), "{got:?}");
        assert_eq!(got[2].0, "/rate_cards/0/unit");
        assert_eq!(event_total(&api).await, before, "nothing was created");
        let r = api
            .call(
                Some("alice"),
                Method::POST,
                "/api/v1/events",
                Some(json!({"mode": "simulate", "brief": helsinki_brief(), "venues_csv": GOOD_VENUES, "venues": []})),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(messages(&r)[0].0, "/venues_csv");
        assert_eq!(event_total(&api).await, before);

        // A good list is stored with the new event as organiser_data revision 1.
        let r = api
            .call(
                Some("alice"),
                Method::POST,
                "/api/v1/events",
                Some(json!({
                    "brief": helsinki_brief(),
                    "auto_start": false,
                    "venues": [
                        {"name": "Sample Hall", "city": "Helsinki", "country": "FI", "capacity": 120,
                         "day_rate": 900, "currency": "EUR", "notes": "sample data"},
                        {"name": "Sample Studio", "city": "Helsinki", "country": "FI", "notes": "sample data"},
                    ],
                    "rate_cards_csv": RATE_CARDS,
                })),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let event = r.body["id"].as_str().unwrap().to_owned();
        let detail = api
            .call(
                Some("vera"),
                Method::GET,
                &format!("/api/v1/events/{event}"),
                None,
            )
            .await;
        let shown: Vec<(&str, u64, &str)> = detail.body["artifacts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["type"] == "organiser_data")
            .map(|a| {
                (
                    a["type"].as_str().unwrap(),
                    a["revision"].as_u64().unwrap(),
                    a["created_by"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(shown, vec![("organiser_data", 1, "user:alice")]);
        let data = organiser_data(&api, &event).await;
        let payload = &data["payload"];
        assert_eq!(payload["venues"].as_array().unwrap().len(), 2);
        assert_eq!(payload["venues"][0]["capacity"], 120);
        assert_eq!(
            payload["venues"][1].get("capacity"),
            None,
            "unknown stays unknown"
        );
        assert_eq!(payload["rate_cards"].as_array().unwrap().len(), 2);
        assert_eq!(payload["rate_cards"][0]["provenance"]["line"], 2);

        // The list is replaced by CSV; a bad list changes nothing.
        let path = format!("/api/v1/events/{event}/venues");
        let r = api
            .call_text("alice", Method::PUT, &path, "text/csv", GOOD_VENUES)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(
            (
                &r.body["revision"],
                &r.body["venues"],
                &r.body["rate_cards"],
                &r.body["requeued"]
            ),
            (&json!(2), &json!(3), &json!(2), &json!(false))
        );
        let r = api
            .call_text("alice", Method::PUT, &path, "text/csv", BAD_VENUES)
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        let got = messages(&r);
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(got[0].1.starts_with("line 3, column capacity: "), "{got:?}");
        assert!(got[1].1.starts_with("line 5, column currency: "), "{got:?}");
        let r = api
            .call_text("alice", Method::PUT, &path, "text/plain", GOOD_VENUES)
            .await;
        assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let r = api
            .call(
                Some("alice"),
                Method::PUT,
                &path,
                Some(json!({"name": "x"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        let r = api
            .call(
                Some("alice"),
                Method::PUT,
                &path,
                Some(json!([{"name": "Sample Hall", "city": "Helsinki", "country": "FI", "capacity": "lots"}])),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(messages(&r)[0].0, "/0/capacity");
        assert_eq!(organiser_data(&api, &event).await["revision"], 2);

        // Rate cards as a JSON array; a near-miss unit is named by element and field.
        let path = format!("/api/v1/events/{event}/rate-cards");
        let row = json!({"supplier": "Sample AV", "service": "av", "city": "Helsinki", "country": "FI",
            "currency": "EUR", "item": "technician", "unit": "per_hour", "price": "45", "notes": "sample data"});
        let mut bad = row.clone();
        bad["unit"] = json!("hourly");
        let r = api
            .call(Some("alice"), Method::PUT, &path, Some(json!([row, bad])))
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(messages(&r)[0].0, "/1/unit");
        let r = api
            .call(Some("alice"), Method::PUT, &path, Some(json!([row])))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(
            (&r.body["revision"], &r.body["rate_cards"]),
            (&json!(3), &json!(1))
        );

        // Quotes: JSON and CSV; a newer quote for a venue replaces the older one.
        let path = format!("/api/v1/events/{event}/quotes");
        let r = api
            .call(
                Some("alice"),
                Method::POST,
                &path,
                Some(json!({"quotes": [{"venue": "Sample Studio", "capacity": 60, "day_rate": "450", "currency": "EUR"}],
                    "comment": "phoned them"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["quotes"], 1);
        let r = api
            .call_text(
                "alice",
                Method::POST,
                &path,
                "text/csv",
                "venue,capacity,day_rate,currency,valid_until,notes\nSample Studio,70,480,EUR,2030-01-31,sample quote\nSample Barn,250,1200,EUR,,sample quote\n",
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(
            (&r.body["revision"], &r.body["quotes"]),
            (&json!(5), &json!(2))
        );
        let quotes = organiser_data(&api, &event).await["payload"]["quotes"].clone();
        let studio: Vec<&Value> = quotes
            .as_array()
            .unwrap()
            .iter()
            .filter(|q| q["venue"] == "Sample Studio")
            .collect();
        assert_eq!(studio.len(), 1);
        assert_eq!(studio[0]["capacity"], 70);
        assert_eq!(studio[0]["entered_by"], "user:alice");
        let r = api
            .call_text(
                "alice",
                Method::POST,
                &path,
                "text/csv",
                "venue,capacity,day_rate,currency\nSample Barn,,,\nSample Hall,100,300,\n",
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        let got = messages(&r);
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(got[0].1.starts_with("line 2, column "), "{got:?}");
        assert!(got[1].1.starts_with("line 3, column currency: "), "{got:?}");
        let r = api
            .call(
                Some("alice"),
                Method::POST,
                &path,
                Some(json!({"quotes": []})),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(organiser_data(&api, &event).await["revision"], 5);
        let changes = api
            .call(
                Some("alice"),
                Method::GET,
                &format!("/api/v1/events/{event}/change-log"),
                None,
            )
            .await;
        let text = changes.body.to_string();
        assert!(
            text.contains(
                "organiser_data revision 4 by user:alice: quotes +1 (Sample Studio) (phoned them)"
            ),
            "{text}"
        );

        // An unknown event is a 404; an event past Execute a 409.
        let missing = uuid::Uuid::now_v7();
        let r = api
            .call_text(
                "alice",
                Method::PUT,
                &format!("/api/v1/events/{missing}/venues"),
                "text/csv",
                GOOD_VENUES,
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        let mut meetup: Value = serde_json::from_str(
            &std::fs::read_to_string(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../examples/s01-meetup.json"
            ))
            .unwrap(),
        )
        .unwrap();
        meetup["title"] = json!("Sample meetup, run to the end");
        let r = api
            .call(
                Some("alice"),
                Method::POST,
                "/api/v1/events",
                Some(json!({"mode": "simulate", "brief": meetup, "auto_start": false})),
            )
            .await;
        let done = r.body["id"].as_str().unwrap().to_owned();
        let engine = Engine::new(api.store.clone(), Arc::new(Tools::load(None).unwrap()))
            .with_clock(eods_engine::test_support::clock());
        let id = eods_domain::ids::EventId(done.parse().unwrap());
        let s = engine
            .run(id, Some(&mut ApproveAll), &mut eods_engine::Quiet)
            .await
            .unwrap();
        assert_eq!(s.run_status, eods_domain::lifecycle::RunStatus::Completed);
        let r = api
            .call(
                Some("alice"),
                Method::POST,
                &format!("/api/v1/events/{done}/quotes"),
                Some(json!({"quotes": [{"venue": "Sample Hall", "capacity": 80}]})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
        assert!(r.body["detail"].as_str().unwrap().contains("Execute"));
        api.stop().await;
    }
}

/// Approves every request (the test runs an event to the end without people).
struct ApproveAll;
impl eods_engine::Approver for ApproveAll {
    fn decide(&mut self, _: &eods_engine::PendingApproval) -> eods_engine::Answer {
        eods_engine::Answer {
            decision: eods_domain::lifecycle::ApprovalDecision::Approve,
            comment: "ok".into(),
            by: "user:bob".into(),
        }
    }
}

/// The event_brief artifact is the only brief: an edit (PUT) and an amendment (PATCH) each make
/// its next revision from the current one, and everything reads the current revision. The
/// sequence that used to lose the edit: PUT total 80000, GET, PATCH the title, GET.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_amendment_after_an_edit_keeps_the_edit_on_every_database() {
    let dir = tempfile::tempdir().unwrap();
    for url in test_database_urls(dir.path(), "one_brief").await.unwrap() {
        let api = start(&url, quick()).await;
        let backend = api.store.backend();
        let created = api
            .call(
                Some("alice"),
                Method::POST,
                "/api/v1/events",
                Some(json!({"mode": "simulate", "brief": s02(), "auto_start": false})),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        let id = created.body["id"].as_str().unwrap().to_owned();
        let path = format!("/api/v1/events/{id}");
        let get = |who: &'static str| api.call(Some(who), Method::GET, &path, None);

        let mut edited = get("vera").await.body["brief"].clone();
        assert_eq!(edited["budget"]["total"], "50000", "{backend}");
        edited["budget"]["total"] = json!("80000");
        let put = api
            .call_with(
                Some("alice"),
                Method::PUT,
                &format!("{path}/artifacts/event_brief"),
                Some(json!({"payload": edited, "comment": "sponsor joined"})),
                &[("If-Match", "\"1\"")],
            )
            .await;
        assert_eq!(put.status, StatusCode::OK, "{backend}: {}", put.body);
        assert_eq!(put.body["artifact"]["revision"], 2);

        let after_put = get("vera").await.body;
        assert_eq!(after_put["brief"]["budget"]["total"], "80000", "{backend}");
        assert_eq!(after_put["brief_revision"], 2);
        assert_eq!(after_put["budget_total"], "80000", "the summary follows");

        let patched = api
            .call(
                Some("alice"),
                Method::PATCH,
                &path,
                Some(json!({"title": "Renamed"})),
            )
            .await;
        assert_eq!(
            patched.status,
            StatusCode::OK,
            "{backend}: {}",
            patched.body
        );
        assert_eq!(patched.body["brief_revision"], 3);

        let after_patch = get("vera").await.body;
        assert_eq!(after_patch["brief"]["title"], "Renamed", "{backend}");
        assert_eq!(
            after_patch["brief"]["budget"]["total"], "80000",
            "{backend}: the amendment keeps the edit"
        );
        assert_eq!(after_patch["brief_revision"], 3);
        assert_eq!(after_patch["title"], "Renamed");
        assert_eq!(after_patch["budget_total"], "80000");
        let rev3 = api
            .call(
                Some("vera"),
                Method::GET,
                &format!("{path}/artifacts/event_brief"),
                None,
            )
            .await;
        assert_eq!(rev3.headers["etag"], "\"3\"");
        assert_eq!(rev3.body["payload"]["budget"]["total"], "80000");
        assert_eq!(rev3.body["payload"]["title"], "Renamed");

        // A complete brief stays complete: removing a required field is refused by pointer,
        // and nothing changes.
        let removed = api
            .call(
                Some("alice"),
                Method::PATCH,
                &path,
                Some(json!({"budget": {"total": null}})),
            )
            .await;
        assert_eq!(removed.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            removed.body["errors"][0]["pointer"], "/budget/total",
            "{}",
            removed.body
        );
        assert_eq!(get("vera").await.body["brief_revision"], 3);

        // The list reads the summary rows: the renamed title, the edited total, the city.
        let list = api
            .call(Some("vera"), Method::GET, "/api/v1/events?limit=1", None)
            .await;
        let item = &list.body["items"][0];
        assert_eq!(item["title"], "Renamed", "{backend}");
        assert_eq!(item["budget_total"], "80000");
        assert_eq!(item["city"], "Amsterdam");
        assert_eq!(item["audience_size"], 200);
        assert_eq!(item["start_date"], "2029-06-06");
        // The run planned meanwhile (the edit queued it), so only the field's form is certain here;
        // the store tests check the count.
        assert!(item["pending_approvals"].is_u64(), "{item}");
        api.stop().await;
    }
}

/// An incomplete brief has no revision: it is kept as the event's draft, shown, amended, and
/// cleared by the commit that makes revision 1 when it is completed.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_incomplete_brief_is_a_draft_until_it_is_completed() {
    let dir = tempfile::tempdir().unwrap();
    for url in test_database_urls(dir.path(), "draft").await.unwrap() {
        let api = start(&url, quick()).await;
        let backend = api.store.backend();
        let mut brief = s02();
        let budget = brief.as_object_mut().unwrap().remove("budget").unwrap();
        let created = api
            .call(
                Some("alice"),
                Method::POST,
                "/api/v1/events",
                Some(json!({"mode": "simulate", "brief": brief, "auto_start": false})),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        let id = created.body["id"].as_str().unwrap().to_owned();
        let path = format!("/api/v1/events/{id}");
        let event = api.call(Some("vera"), Method::GET, &path, None).await.body;
        assert_eq!(event["run_status"], "needs_input", "{backend}");
        assert_eq!(event["brief_revision"], Value::Null);
        assert_eq!(event["brief"]["location"]["city"], "Amsterdam");
        assert_eq!(event["city"], "Amsterdam", "the draft's summary");
        assert_eq!(event["budget_total"], Value::Null);
        let cookie = api.session_cookie("vera").await;
        let page = |path: String| {
            let req = api
                .http
                .get(format!("{}{path}", api.base))
                .header("cookie", cookie.clone());
            async move { req.send().await.unwrap().text().await.unwrap() }
        };
        let shown = page(format!("/ui/events/{id}")).await;
        assert!(
            shown.contains("Draft (incomplete, kept until it is completed)")
                && shown.contains("&#34;city&#34;: &#34;Amsterdam&#34;"),
            "{backend}: {shown}"
        );

        // Still incomplete: the patched draft replaces the draft.
        let patched = api
            .call(
                Some("alice"),
                Method::PATCH,
                &path,
                Some(json!({"budget": {"currency": "EUR"}})),
            )
            .await;
        assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
        assert_eq!(patched.body["missing_fields"], json!(["budget.total"]));
        let event = api.call(Some("vera"), Method::GET, &path, None).await.body;
        assert_eq!(event["brief"]["budget"]["currency"], "EUR", "{backend}");
        assert_eq!(event["currency"], "EUR");
        let row = api.store.event(id.parse().unwrap()).await.unwrap().unwrap();
        assert!(row.draft.is_some());

        // Completed: revision 1, and the draft is gone in the same commit.
        let patched = api
            .call(
                Some("alice"),
                Method::PATCH,
                &path,
                Some(json!({"budget": budget})),
            )
            .await;
        assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
        assert_eq!(patched.body["brief_revision"], 1);
        let event = api.call(Some("vera"), Method::GET, &path, None).await.body;
        assert_eq!(event["brief_revision"], 1, "{backend}");
        assert_eq!(event["brief"]["budget"]["total"], "50000");
        assert_eq!(event["budget_total"], "50000");
        let row = api.store.event(id.parse().unwrap()).await.unwrap().unwrap();
        assert_eq!(row.draft, None, "{backend}");
        let shown = page(format!("/ui/events/{id}")).await;
        assert!(!shown.contains("Draft (incomplete"), "{backend}: {shown}");
        api.stop().await;
    }
}

/// The service follows the calendar by default: an event created without `mode` is live, and
/// after its three approvals it waits in Confirm with its timer at the event's start instead of
/// simulating Execute.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_event_is_live_by_default_and_waits_for_its_day_after_the_approvals() {
    let dir = tempfile::tempdir().unwrap();
    for url in test_database_urls(dir.path(), "live").await.unwrap() {
        let api = start(&url, quick()).await;
        let backend = api.store.backend();
        let created = api
            .call(
                Some("alice"),
                Method::POST,
                "/api/v1/events",
                Some(json!({"brief": s02()})),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        let id = created.body["id"].as_str().unwrap().to_owned();
        api.wait("vera", &id, |s| {
            s["run_status"] == "awaiting_approval" && s["state"] == "confirm"
        })
        .await;
        let pending = api
            .call(
                Some("bob"),
                Method::GET,
                "/api/v1/approvals?status=pending",
                None,
            )
            .await;
        for a in pending.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["event_id"] == id.as_str())
        {
            let path = format!("/api/v1/approvals/{}/decision", a["id"].as_str().unwrap());
            let r = api
                .call(
                    Some("bob"),
                    Method::POST,
                    &path,
                    Some(json!({"decision": "approve"})),
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{backend}: {}", r.body);
        }
        api.wait("vera", &id, |s| {
            s["detail"]
                .as_str()
                .is_some_and(|d| d.contains("Execute begins when the event starts"))
        })
        .await;
        let waiting = api
            .call(
                Some("vera"),
                Method::GET,
                &format!("/api/v1/events/{id}"),
                None,
            )
            .await
            .body;
        assert_eq!(waiting["mode"], "live", "{backend}: {waiting}");
        assert_eq!(
            (waiting["state"].as_str(), waiting["run_status"].as_str()),
            (Some("confirm"), Some("running")),
            "{backend}: {waiting}"
        );
        let brief = s02();
        let start = brief["date_range"]["start"].as_str().unwrap();
        // The timer is the first task reminder, which comes before the event's first day.
        let wake = waiting["wake_at"].as_str().unwrap();
        assert!(
            wake[..10] < start[..10],
            "{backend}: the timer {wake} is before the event ({start}): {waiting}"
        );
        assert!(
            waiting["status_detail"]
                .as_str()
                .unwrap()
                .contains("Execute begins when the event starts"),
            "{backend}: {waiting}"
        );
        let runbook = api
            .call(
                Some("vera"),
                Method::GET,
                &format!("/api/v1/events/{id}/artifacts/runbook"),
                None,
            )
            .await;
        assert_eq!(
            runbook.status,
            StatusCode::NOT_FOUND,
            "{backend}: nothing simulated"
        );

        // People record task statuses: a runbook revision each, with what is at risk.
        let tasks = api
            .call(
                Some("vera"),
                Method::GET,
                &format!("/api/v1/events/{id}/artifacts/task_register"),
                None,
            )
            .await;
        let task = tasks.body["payload"]["tasks"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let path = format!("/api/v1/events/{id}/tasks/{task}");
        let done = api
            .call(
                Some("alice"),
                Method::PATCH,
                &path,
                Some(json!({"status": "done"})),
            )
            .await;
        assert_eq!(done.status, StatusCode::OK, "{backend}: {}", done.body);
        assert_eq!(done.body["status"], "done");
        assert_eq!(done.body["runbook_revision"], 1);
        assert!(done.body["completed_on"].is_string(), "{}", done.body);
        assert!(done.body["summary"].is_string());
        let r = api
            .call(
                Some("alice"),
                Method::PATCH,
                &path,
                Some(json!({"status": "blocked"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert_eq!(r.body["errors"][0]["pointer"], "/reason");
        let r = api
            .call(
                Some("alice"),
                Method::PATCH,
                &format!("/api/v1/events/{id}/tasks/task-999"),
                Some(json!({"status": "done"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
        let r = api
            .call(
                Some("vera"),
                Method::PATCH,
                &path,
                Some(json!({"status": "done"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "a viewer records nothing");
        let runbook = api
            .call(
                Some("vera"),
                Method::GET,
                &format!("/api/v1/events/{id}/artifacts/runbook"),
                None,
            )
            .await;
        assert_eq!(runbook.status, StatusCode::OK);
        assert_eq!(runbook.body["created_by"], "user:alice");
        // A rehearsal has no tasks to record.
        let rehearsal = api
            .call(
                Some("alice"),
                Method::POST,
                "/api/v1/events",
                Some(json!({"mode": "simulate", "brief": s02(), "auto_start": false})),
            )
            .await;
        let rid = rehearsal.body["id"].as_str().unwrap();
        let r = api
            .call(
                Some("alice"),
                Method::PATCH,
                &format!("/api/v1/events/{rid}/tasks/{task}"),
                Some(json!({"status": "done"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
        api.stop().await;
    }
}

/// Values one database stores and the other refuses get the same 422 on both, naming the field
/// (issue 15, finding 5): NUL characters in any text (a JSON body, a query parameter, a form) and
/// dates beyond the years 1 to 9999; an oversized body is 413.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nul_characters_and_far_dates_are_refused_alike_on_every_database() {
    let dir = tempfile::tempdir().unwrap();
    for url in test_database_urls(dir.path(), "nul").await.unwrap() {
        let api = start(&url, quick()).await;
        let backend = api.store.backend();
        let mut brief = s02();
        brief["title"] = json!("Rust\u{0}Conf");
        let r = api
            .call(
                Some("alice"),
                Method::POST,
                "/api/v1/events",
                Some(json!({"brief": brief})),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{backend}: {}",
            r.body
        );
        assert_eq!(
            r.body["errors"][0]["pointer"], "/brief/title",
            "{backend}: {}",
            r.body
        );
        let created = api
            .call(
                Some("alice"),
                Method::POST,
                "/api/v1/events",
                Some(json!({"brief": s02(), "auto_start": false})),
            )
            .await;
        let id = created.body["id"].as_str().unwrap().to_owned();
        let r = api
            .call(
                Some("alice"),
                Method::PATCH,
                &format!("/api/v1/events/{id}"),
                Some(json!({"stakeholders": [{"name": "A\u{0}", "role": "owner"}]})),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{backend}: {}",
            r.body
        );
        assert_eq!(r.body["errors"][0]["pointer"], "/stakeholders/0/name");
        for query in [
            "who=user%3Abob%00",
            "until=-262143-01-01T00:00:00Z",
            "since=+10000-01-01T00:00:00Z",
        ] {
            let r = api
                .call(
                    Some("vera"),
                    Method::GET,
                    &format!("/api/v1/audit?{query}"),
                    None,
                )
                .await;
            assert_eq!(
                r.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{backend} {query}: {}",
                r.body
            );
            let pointer = r.body["errors"][0]["pointer"].as_str().unwrap().to_owned();
            let name = query.split('=').next().unwrap();
            assert!(pointer.ends_with(name), "{backend} {query}: {}", r.body);
        }
        // A form: the sign-in page with a NUL in the token.
        let r = api
            .http
            .post(format!("{}/ui/login", api.base))
            .form(&[("token", "eods_\u{0}")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{backend}");
        assert!(
            r.text()
                .await
                .unwrap()
                .contains("token: text may not contain the NUL")
        );
        // Nothing was stored by the refused requests.
        let events = api
            .call(Some("vera"), Method::GET, "/api/v1/events", None)
            .await;
        assert_eq!(events.body["total"], 1, "{backend}: {}", events.body);
        api.stop().await;
    }
}

/// Message drafts through the API (issue 16): written from the plan by a planner, approved one
/// by one by an approver on the revision they read, never approved by an edit; refusals name
/// the draft, the revision or the field.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn message_drafts_are_written_by_planners_and_approved_one_by_one_by_approvers() {
    let dir = tempfile::tempdir().unwrap();
    for url in test_database_urls(dir.path(), "api_drafts").await.unwrap() {
        let api = start(&url, quick()).await;
        let mut brief = s02();
        brief["language"] = json!("fr");
        let created = api
            .call(
                Some("alice"),
                Method::POST,
                "/api/v1/events",
                Some(json!({"mode": "simulate", "brief": brief, "auto_start": false})),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        let id = created.body["id"].as_str().unwrap().to_owned();
        let drafts = format!("/api/v1/events/{id}/drafts");

        // Approvers do not write; planners do, from the brief's program, in French.
        let r = api.call(Some("bob"), Method::POST, &drafts, None).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = api.call(Some("alice"), Method::POST, &drafts, None).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["changed"], true);
        let revision = r.body["revision"].as_u64().unwrap();
        let list = r.body["drafts"].as_array().unwrap();
        let speaker = list
            .iter()
            .find(|d| d["kind"] == "speaker_announcement")
            .unwrap();
        assert_eq!(speaker["language"], "fr");
        assert!(
            speaker["subject"]
                .as_str()
                .unwrap()
                .starts_with("Votre intervention"),
            "{speaker}"
        );
        assert!(list.iter().all(|d| d["status"] == "draft"));
        let again = api.call(Some("alice"), Method::POST, &drafts, None).await;
        assert_eq!(again.body["changed"], false);

        // An edit cannot approve: 422 naming the draft's status.
        let mut payload = json!({"drafts": r.body["drafts"].clone()});
        payload["drafts"][0]["status"] = json!("approved");
        payload["drafts"][0]["approved_by"] = json!("user:alice");
        payload["drafts"][0]["approved_at"] = json!("2026-12-01T10:00:00Z");
        let put = api
            .call_with(
                Some("alice"),
                Method::PUT,
                &format!("/api/v1/events/{id}/artifacts/message_drafts"),
                Some(json!({"payload": payload})),
                &[("If-Match", &format!("\"{revision}\""))],
            )
            .await;
        assert_eq!(put.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", put.body);
        assert_eq!(put.body["errors"][0]["pointer"], "/drafts/0/status");

        // Approval: by an approver, of the revision read, of a draft that exists, once.
        let approve = |draft: &str| format!("{drafts}/{draft}/approve");
        let r = api
            .call(
                Some("alice"),
                Method::POST,
                &approve("attendees"),
                Some(json!({"revision": revision})),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = api
            .call(
                Some("bob"),
                Method::POST,
                &approve("attendees"),
                Some(json!({"revision": revision + 1})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
        assert!(
            r.body["detail"]
                .as_str()
                .unwrap()
                .contains("not the current one")
        );
        let r = api
            .call(
                Some("bob"),
                Method::POST,
                &approve("nobody"),
                Some(json!({"revision": revision})),
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
        assert!(r.body["detail"].as_str().unwrap().contains("`attendees`"));
        let r = api
            .call(
                Some("bob"),
                Method::POST,
                &approve("attendees"),
                Some(json!({"revision": revision})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["queued"], false, "no address: sent by hand");
        assert_eq!(r.body["draft"]["approved_by"], "user:bob");
        let r = api
            .call(
                Some("bob"),
                Method::POST,
                &approve("attendees"),
                Some(json!({"revision": revision + 1})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
        assert!(
            r.body["detail"]
                .as_str()
                .unwrap()
                .contains("approved already")
        );
        let stored = api
            .call(
                Some("vera"),
                Method::GET,
                &format!("/api/v1/events/{id}/artifacts/message_drafts"),
                None,
            )
            .await;
        let approved: Vec<&Value> = stored.body["payload"]["drafts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["status"] == "approved")
            .collect();
        assert_eq!(approved.len(), 1);
        assert_eq!(approved[0]["id"], "attendees");
        api.stop().await;
    }
}
