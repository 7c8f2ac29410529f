//! `eods serve` as operators run it: real server processes on one database, killed with SIGKILL
//! and restarted, driven over HTTP. Two instances share 200 events and one dies mid-way; an
//! approval deadline passes while the only instance is down and escalates once after restart,
//! through the outbox to a webhook that fails at first; a live event's approval requests and
//! overdue task reach a real SMTP server, the task escalated once across a kill and restart.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const EODS: &str = env!("CARGO_BIN_EXE_eods");

/// PostgreSQL when configured (the multi-instance path), else a SQLite file.
async fn database(dir: &Path, name: &str) -> String {
    let urls = eods_store::test_support::test_database_urls(dir, name)
        .await
        .unwrap();
    urls.last().unwrap().clone()
}

fn token(db: &str, role: &str, name: &str) -> String {
    let o = Command::new(EODS)
        .args([
            "token",
            "create",
            "--role",
            role,
            "--name",
            name,
            "--database",
            db,
        ])
        .env_remove("EODS_DATABASE_URL")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap().trim().to_owned()
}

struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn spawn(db: &str, instance: &str, extra: &[&str], log: &Path) -> Server {
        Server::spawn_with(db, instance, extra, log, &[])
    }

    fn spawn_with(
        db: &str,
        instance: &str,
        extra: &[&str],
        log: &Path,
        env: &[(&str, &str)],
    ) -> Server {
        let mut child = Command::new(EODS)
            .args([
                "serve",
                "--bind",
                "127.0.0.1:0",
                "--database",
                db,
                "--instance-id",
                instance,
                "--lease-seconds",
                "2",
            ])
            .args(extra)
            .env_remove("EODS_DATABASE_URL")
            .envs(env.iter().copied())
            .env("EODS_LOG", "info")
            .stdout(std::fs::File::create(log).unwrap())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let addr = loop {
            let line = lines
                .next()
                .expect("the server exited before listening")
                .unwrap();
            if let Some(rest) = line.split("listening on http://").nth(1) {
                break rest.split_whitespace().next().unwrap().to_owned();
            }
        };
        // Keep draining standard error so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Server {
            child,
            base: format!("http://{addr}"),
        }
    }

    fn kill(mut self) {
        self.child.kill().unwrap(); // SIGKILL
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn s01() -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/s01-meetup.json");
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

async fn get(http: &reqwest::Client, base: &str, token: &str, path: &str) -> Value {
    let r = http
        .get(format!("{base}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "GET {path}: {}", r.status());
    r.json().await.unwrap()
}

/// Polls `check` every 25 ms until it returns a value, for at most `secs` seconds.
async fn until<T, F: std::future::Future<Output = Option<T>>>(
    secs: u64,
    what: &str,
    mut check: impl FnMut() -> F,
) -> T {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Submits an event (`body` of `POST /api/v1/events`) and waits until it asks for its three
/// approvals at Confirm: its id and the pending requests.
async fn submit_and_wait_for_approvals(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    body: Value,
) -> (String, Vec<Value>) {
    let r = http
        .post(format!("{base}/api/v1/events"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/v1/events/{id}");
    until(60, "the event to wait for approvals", || {
        let path = &path;
        async move {
            let e = get(http, base, token, path).await;
            (e["run_status"] == "awaiting_approval" && e["state"] == "confirm").then_some(())
        }
    })
    .await;
    let pending = get(
        http,
        base,
        token,
        &format!("/api/v1/approvals?status=pending&event_id={id}"),
    )
    .await;
    let pending = pending["items"].as_array().unwrap().clone();
    assert_eq!(pending.len(), 3);
    (id, pending)
}

/// Decides every pending approval of the events waiting at Confirm.
async fn approve_waiting(http: &reqwest::Client, base: &str, token: &str) {
    let waiting = get(
        http,
        base,
        token,
        "/api/v1/events?run_status=awaiting_approval&limit=200",
    )
    .await;
    for e in waiting["items"].as_array().unwrap() {
        if e["state"] != "confirm" {
            continue;
        }
        let id = e["id"].as_str().unwrap();
        let pending = get(
            http,
            base,
            token,
            &format!("/api/v1/approvals?status=pending&event_id={id}"),
        )
        .await;
        for a in pending["items"].as_array().unwrap() {
            let r = http
                .post(format!(
                    "{base}/api/v1/approvals/{}/decision",
                    a["id"].as_str().unwrap()
                ))
                .bearer_auth(token)
                .json(&json!({"decision": "approve", "comment": "ok"}))
                .send()
                .await
                .unwrap();
            // Another pass may have decided it first.
            assert!(
                r.status() == 200 || r.status() == 409,
                "decision: {}",
                r.status()
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_200_events_and_survive_one_being_killed() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(dir.path(), "two").await;
    let planner = token(&db, "planner", "alice");
    let approver = token(&db, "approver", "bob");
    let a = Server::spawn(&db, "instance-a", &[], &dir.path().join("a.log"));
    let a_base = a.base.clone();
    let b = Server::spawn(&db, "instance-b", &[], &dir.path().join("b.log"));
    let http = reqwest::Client::new();
    // Watch A's leases from the start and SIGKILL it the moment it holds some (mid-run);
    // submissions go to both instances until then, and to B after.
    let store = eods_store::Store::connect(&db).await.unwrap();
    let killed = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = {
        let (store, killed) = (store.clone(), killed.clone());
        tokio::spawn(async move {
            let orphans = until(300, "instance A to hold a lease", || {
                let store = store.clone();
                async move {
                    let held = store
                        .leased_by("instance-a", chrono::Utc::now().timestamp_millis())
                        .await
                        .unwrap();
                    (!held.is_empty()).then_some(held)
                }
            })
            .await;
            a.kill();
            killed.store(true, std::sync::atomic::Ordering::SeqCst);
            orphans
        })
    };
    let mut ids = Vec::new();
    for i in 0..200 {
        let on_a = i % 2 == 0 && !killed.load(std::sync::atomic::Ordering::SeqCst);
        let base = if on_a { &a_base } else { &b.base };
        let sent = http
            .post(format!("{base}/api/v1/events"))
            .bearer_auth(&planner)
            .json(&json!({"brief": s01(), "mode": "simulate"}))
            .send()
            .await;
        let r = match sent {
            Ok(r) => r,
            // A died between the check and the request: submit to B.
            Err(_) => http
                .post(format!("{}/api/v1/events", b.base))
                .bearer_auth(&planner)
                .json(&json!({"brief": s01(), "mode": "simulate"}))
                .send()
                .await
                .unwrap(),
        };
        assert_eq!(r.status(), 201);
        let v: Value = r.json().await.unwrap();
        ids.push(v["id"].as_str().unwrap().to_owned());
    }
    let orphans = watcher.await.unwrap();
    // Approve what waits at Confirm, on B only, until all 200 are done.
    until(600, "all 200 events to complete", || {
        let (http, base, approver) = (&http, &b.base, &approver);
        async move {
            approve_waiting(http, base, approver).await;
            let done = get(
                http,
                base,
                approver,
                "/api/v1/events?run_status=completed&limit=1",
            )
            .await;
            (done["total"] == 200).then_some(())
        }
    })
    .await;
    for o in &orphans {
        let e = get(&http, &b.base, &approver, &format!("/api/v1/events/{o}")).await;
        assert_eq!(
            e["state"], "postmortem",
            "orphaned event {o} was taken over"
        );
    }
    // Every event is the same brief, run the same way: the same revisions, steps and log
    // entries, so a step run twice anywhere would show.
    let mut shapes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for id in &ids {
        let e = get(&http, &b.base, &approver, &format!("/api/v1/events/{id}")).await;
        assert_eq!(e["run_status"], "completed");
        let revisions: Vec<String> = e["artifacts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| format!("{}@{}", a["type"].as_str().unwrap(), a["revision"]))
            .collect();
        let decisions = get(
            &http,
            &b.base,
            &approver,
            &format!("/api/v1/events/{id}/decision-log"),
        )
        .await;
        let changes = get(
            &http,
            &b.base,
            &approver,
            &format!("/api/v1/events/{id}/change-log"),
        )
        .await;
        let entries = decisions["items"].as_array().unwrap();
        let numbered: Vec<String> = entries
            .iter()
            .map(|d| d["id"].as_str().unwrap().to_owned())
            .collect();
        let mut unique = numbered.clone();
        unique.dedup();
        assert_eq!(numbered, unique, "decision ids of {id} are unique");
        let shape = format!(
            "{} steps; {}; {} decisions; {} changes",
            e["steps"],
            revisions.join(","),
            entries.len(),
            changes["items"].as_array().unwrap().len()
        );
        shapes.entry(shape).or_default().push(id.clone());
    }
    assert_eq!(
        shapes.len(),
        1,
        "every event ran exactly once per step: {:#?}",
        shapes.keys().collect::<Vec<_>>()
    );
    store.close().await;
}

/// Deliveries a receiver accepted: (X-EODS-Delivery, JSON body).
type Deliveries = Arc<Mutex<Vec<(String, Value)>>>;

/// A webhook receiver on loopback that answers 500 to the first delivery and 200 after.
fn receiver() -> (String, Deliveries) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let got: Deliveries = Arc::default();
    let seen = got.clone();
    std::thread::spawn(move || {
        let mut first = true;
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut reader = BufReader::new(s.try_clone().unwrap());
            let mut headers = BTreeMap::new();
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            loop {
                line.clear();
                reader.read_line(&mut line).unwrap();
                let l = line.trim_end();
                if l.is_empty() {
                    break;
                }
                if let Some((k, v)) = l.split_once(':') {
                    headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
                }
            }
            let len: usize = headers
                .get("content-length")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            let mut body = vec![0; len];
            reader.read_exact(&mut body).unwrap();
            let status = if first {
                "500 Internal Server Error"
            } else {
                "200 OK"
            };
            if !first {
                seen.lock().unwrap().push((
                    headers.get("x-eods-delivery").cloned().unwrap_or_default(),
                    serde_json::from_slice(&body).unwrap_or(Value::Null),
                ));
            }
            first = false;
            let _ = write!(
                s,
                "HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            );
        }
    });
    (url, got)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deadline_that_passes_while_the_server_is_down_escalates_once_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(dir.path(), "deadline").await;
    let planner = token(&db, "planner", "alice");
    let viewer = token(&db, "viewer", "vera");
    let (hook, got) = receiver();
    let http = reqwest::Client::new();
    let first = Server::spawn(&db, "first", &[], &dir.path().join("first.log"));
    let (id, pending) = submit_and_wait_for_approvals(
        &http,
        &first.base,
        &planner,
        json!({"brief": s01(), "approval_deadline_seconds": 3}),
    )
    .await;
    let path = format!("/api/v1/events/{id}");
    assert!(pending.iter().all(|a| a["overdue"] == false));
    first.kill();
    // Every deadline passes while no instance runs.
    let last: chrono::DateTime<chrono::Utc> = pending
        .iter()
        .map(|a| a["deadline"].as_str().unwrap().parse().unwrap())
        .max()
        .unwrap();
    until(30, "the deadlines to pass", || async {
        (chrono::Utc::now() > last).then_some(())
    })
    .await;

    let second = Server::spawn(
        &db,
        "second",
        &["--webhook-url", &hook],
        &dir.path().join("second.log"),
    );
    let escalated = until(60, "three escalations delivered", || {
        let got = got.clone();
        async move {
            let g = got.lock().unwrap();
            let esc: Vec<(String, Value)> = g
                .iter()
                .filter(|(_, v)| v["type"] == "approval_escalated")
                .cloned()
                .collect();
            (esc.len() >= 3).then_some(esc)
        }
    })
    .await;
    let gates: std::collections::BTreeSet<&str> = escalated
        .iter()
        .map(|(_, v)| v["gate"].as_str().unwrap())
        .collect();
    assert_eq!(gates.len(), 3, "one escalation per request: {escalated:?}");
    assert!(
        escalated
            .iter()
            .all(|(d, v)| !d.is_empty() && v["event_id"] == id.as_str())
    );
    let log = get(
        &http,
        &second.base,
        &viewer,
        &format!("{path}/decision-log"),
    )
    .await;
    let overdue: Vec<&Value> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| {
            d["description"]
                .as_str()
                .unwrap()
                .ends_with("approval overdue")
        })
        .collect();
    assert_eq!(overdue.len(), 3, "escalated once each");
    let after = get(
        &http,
        &second.base,
        &viewer,
        &format!("/api/v1/approvals?status=pending&event_id={id}"),
    )
    .await;
    assert!(
        after["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["overdue"] == true),
        "the gate stays blocked"
    );
    let e = get(&http, &second.base, &viewer, &path).await;
    assert_eq!(e["state"], "confirm");
    // The webhook's first answer was a 500: that delivery was retried, not lost.
    until(60, "the approval requests to be delivered too", || {
        let got = got.clone();
        async move {
            let n = got
                .lock()
                .unwrap()
                .iter()
                .filter(|(_, v)| v["type"] == "approval_requested")
                .count();
            (n >= 3).then_some(())
        }
    })
    .await;
    second.kill();
}

/// Messages a real SMTP server on loopback accepted: `{"mail_from", "rcpt_tos", "data"}` and,
/// decoded, `{"subject", "to", "body"}`.
type Mails = Arc<Mutex<Vec<Value>>>;

/// aiosmtpd (scripts/smtp-sink.py) on a free loopback port, as unpacked by
/// scripts/fetch-test-data (`EODS_TEST_PYTHONPATH` names another copy): its port, what it has
/// received, and the process (it stops when its standard input closes, i.e. when dropped).
fn smtp_sink() -> (u16, Mails, Child) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let py = std::env::var_os("EODS_TEST_PYTHONPATH")
        .map_or_else(|| root.join("target/test-data/py"), Into::into);
    assert!(
        py.join("aiosmtpd").is_dir(),
        "aiosmtpd is not in {}: run scripts/fetch-test-data (the README's test command does), or set EODS_TEST_PYTHONPATH",
        py.display()
    );
    let mut child = Command::new("python3")
        .arg(root.join("scripts/smtp-sink.py"))
        .env("PYTHONPATH", &py)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 (Debian package python3) runs the SMTP server of this test");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    let port = u16::try_from(first["port"].as_u64().unwrap()).unwrap();
    let got: Mails = Arc::default();
    let seen = got.clone();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            seen.lock()
                .unwrap()
                .push(serde_json::from_str(&line).unwrap());
        }
    });
    (port, got, child)
}

/// The messages whose subject starts with `prefix`.
fn subjects(mails: &Mails, prefix: &str) -> Vec<Value> {
    mails
        .lock()
        .unwrap()
        .iter()
        .filter(|m| m["subject"].as_str().unwrap().starts_with(prefix))
        .cloned()
        .collect()
}

fn spawn_at(db: &str, name: &str, now: &str, smtp: u16, dir: &Path) -> Server {
    let url = format!("smtp://127.0.0.1:{smtp}");
    Server::spawn_with(
        db,
        name,
        &[
            "--smtp-url",
            &url,
            "--public-url",
            "http://eods.test",
            "--mail-from",
            "EODS <eods@eods.test>",
        ],
        &dir.join(format!("{name}.log")),
        &[("EODS_NOW", now)],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_event_mails_its_approvers_and_escalates_an_overdue_task_once_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(dir.path(), "live").await;
    let planner = token(&db, "planner", "alice");
    let approver = token(&db, "approver", "bob");
    let (smtp, mails, _sink) = smtp_sink();
    let http = reqwest::Client::new();
    let today = eods_store::test_support::TESTS_TODAY;
    let first = spawn_at(&db, "first", today, smtp, dir.path());
    let (id, pending) =
        submit_and_wait_for_approvals(&http, &first.base, &planner, json!({"brief": s01()})).await;
    let path = format!("/api/v1/events/{id}");
    // One e-mail per request, to the brief's owner (the one stakeholder with decision rights),
    // with the link that opens the request.
    let requests = until(60, "three approval-request e-mails", || {
        let mails = mails.clone();
        async move {
            let m = subjects(&mails, "Approval requested: ");
            (m.len() >= 3).then_some(m)
        }
    })
    .await;
    assert_eq!(requests.len(), 3, "{requests:?}");
    for a in &pending {
        let link = format!(
            "http://eods.test/ui/approvals/{}",
            a["id"].as_str().unwrap()
        );
        let m: Vec<&Value> = requests
            .iter()
            .filter(|m| m["body"].as_str().unwrap().contains(&link))
            .collect();
        assert_eq!(m.len(), 1, "one e-mail links {link}");
        assert_eq!(m[0]["rcpt_tos"], json!(["jana@rust-berlin.example"]));
        assert_eq!(m[0]["mail_from"], "eods@eods.test");
    }
    approve_waiting(&http, &first.base, &approver).await;
    // Live: after the approvals the event waits for its calendar, with a timer.
    let waiting = until(60, "the event to wait for its first timer", || {
        let (http, base, planner, path) = (&http, &first.base, &planner, &path);
        async move {
            let e = get(http, base, planner, path).await;
            e["wake_at"].is_string().then_some(e)
        }
    })
    .await;
    assert_eq!(waiting["mode"], "live");
    assert_eq!(waiting["run_status"], "running");
    let wake: chrono::DateTime<chrono::Utc> = waiting["wake_at"].as_str().unwrap().parse().unwrap();
    assert!(wake > eods_store::test_support::tests_today());
    // The only instance dies before the timer is due …
    first.kill();
    // … and comes back after it (and after the first task's due date: a reminder fires two days
    // before, the escalation at the midnight after).
    let later = (wake + chrono::TimeDelta::days(3)).to_rfc3339();
    let second = spawn_at(&db, "second", &later, smtp, dir.path());
    let escalated = until(60, "an overdue task to be escalated", || {
        let (http, base, planner) = (&http, &second.base, &planner);
        let path = format!("{path}/decision-log");
        async move {
            let log = get(http, base, planner, &path).await;
            let overdue: Vec<Value> = log["items"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| {
                    let t = d["description"].as_str().unwrap();
                    t.ends_with(" overdue") && !t.contains("approval")
                })
                .cloned()
                .collect();
            (!overdue.is_empty()).then_some(overdue)
        }
    })
    .await;
    // The run settles on its next timer, past this instance's clock.
    until(60, "the event to wait for a later timer", || {
        let (http, base, planner, path) = (&http, &second.base, &planner, &path);
        async move {
            let e = get(http, base, planner, path).await;
            let next: Option<chrono::DateTime<chrono::Utc>> =
                e["wake_at"].as_str().and_then(|w| w.parse().ok());
            next.filter(|n| *n > wake + chrono::TimeDelta::days(3))
                .map(|_| ())
        }
    })
    .await;
    second.kill();
    // A third start at the same instant finds nothing left to fire.
    let third = spawn_at(&db, "third", &later, smtp, dir.path());
    let log = get(
        &http,
        &third.base,
        &planner,
        &format!("{path}/decision-log"),
    )
    .await;
    let descriptions: Vec<&str> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["description"].as_str().unwrap())
        .collect();
    for d in &escalated {
        let what = d["description"].as_str().unwrap();
        assert_eq!(
            descriptions.iter().filter(|x| **x == what).count(),
            1,
            "`{what}` is escalated exactly once"
        );
        let task = what.trim_end_matches(" overdue");
        // Its e-mail: once, to the owner and backups the escalation names, linking the board.
        let overdue = until(60, "the overdue e-mail", || {
            let mails = mails.clone();
            async move {
                let m: Vec<Value> = subjects(&mails, "Overdue: ")
                    .into_iter()
                    .filter(|m| m["body"].as_str().unwrap().contains(&format!("{task} \"")))
                    .collect();
                (!m.is_empty()).then_some(m)
            }
        })
        .await;
        assert_eq!(overdue.len(), 1, "{overdue:?}");
        let rationale = d["rationale"].as_str().unwrap();
        let to = overdue[0]["rcpt_tos"].as_array().unwrap();
        assert!(!to.is_empty());
        for r in to {
            assert!(
                rationale.contains(&format!("<{}>", r.as_str().unwrap())),
                "{r} is named in `{rationale}`"
            );
        }
        assert!(
            overdue[0]["body"]
                .as_str()
                .unwrap()
                .contains(&format!("http://eods.test/ui/events/{id}#task-board"))
        );
    }
    third.kill();
}

/// A loopback OTLP/HTTP collector: every POST's path and JSON body.
fn otlp_collector() -> (String, Deliveries) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let got: Deliveries = Arc::default();
    let seen = got.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let seen = seen.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(s.try_clone().unwrap());
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let path = line.split_whitespace().nth(1).unwrap_or("").to_owned();
                    let mut len = 0;
                    loop {
                        line.clear();
                        reader.read_line(&mut line).unwrap();
                        let l = line.trim_end();
                        if l.is_empty() {
                            break;
                        }
                        if let Some((k, v)) = l.split_once(':')
                            && k.trim().eq_ignore_ascii_case("content-length")
                        {
                            len = v.trim().parse().unwrap();
                        }
                    }
                    let mut body = vec![0; len];
                    reader.read_exact(&mut body).unwrap();
                    seen.lock()
                        .unwrap()
                        .push((path, serde_json::from_slice(&body).unwrap_or(Value::Null)));
                    let _ = write!(
                        s,
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{{}}"
                    );
                }
            });
        }
    });
    (url, got)
}

/// One exported span: its trace, id, parent, name and attributes (as text).
#[derive(Debug, Clone)]
struct Span {
    trace: String,
    id: String,
    parent: String,
    name: String,
    attrs: BTreeMap<String, String>,
}

fn spans(bodies: &Deliveries) -> Vec<Span> {
    let mut out = Vec::new();
    for (path, body) in bodies.lock().unwrap().iter() {
        assert_eq!(path, "/v1/traces");
        for rs in body["resourceSpans"].as_array().into_iter().flatten() {
            let service = rs["resource"]["attributes"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|a| a["key"] == "service.name")
                .map(|a| a["value"]["stringValue"].clone());
            assert_eq!(service, Some(json!("eods")));
            for ss in rs["scopeSpans"].as_array().into_iter().flatten() {
                for s in ss["spans"].as_array().into_iter().flatten() {
                    let attrs = s["attributes"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|a| {
                            let v = &a["value"];
                            let text = v["stringValue"]
                                .as_str()
                                .map(str::to_owned)
                                .or_else(|| v["intValue"].as_str().map(str::to_owned))
                                .unwrap_or_else(|| v.to_string());
                            (a["key"].as_str().unwrap().to_owned(), text)
                        })
                        .collect();
                    out.push(Span {
                        trace: s["traceId"].as_str().unwrap().to_owned(),
                        id: s["spanId"].as_str().unwrap().to_owned(),
                        parent: s["parentSpanId"].as_str().unwrap_or("").to_owned(),
                        name: s["name"].as_str().unwrap().to_owned(),
                        attrs,
                    });
                }
            }
        }
    }
    out
}

/// OpenTelemetry (issue 15, item 12): with `OTEL_EXPORTER_OTLP_ENDPOINT` set, one S-02 event run
/// through the API exports its spans to a loopback OTLP collector: the request that created it
/// (with its correlation id) and the commit under it; engine runs carrying that correlation id,
/// with the agent steps and commits as their children in the same trace; the approval decisions'
/// requests with their commits; and the webhook deliveries (a failed attempt, then delivered),
/// each with a correlation id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_s02_run_exports_its_spans_over_otlp() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("otel.db").display());
    let planner = token(&db, "planner", "paula");
    let approver = token(&db, "approver", "bob");
    let (collector, bodies) = otlp_collector();
    let (hook, deliveries) = receiver();
    let server = Server::spawn_with(
        &db,
        "otel-1",
        &["--webhook-url", &hook],
        &dir.path().join("otel.log"),
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", collector.as_str()),
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        ],
    );
    let base = server.base.clone();
    let http = reqwest::Client::new();
    let cid = format!("otel-{}", uuid::Uuid::now_v7());
    let brief: Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/s02-conference.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let r = http
        .post(format!("{base}/api/v1/events"))
        .bearer_auth(&planner)
        .header("X-Correlation-Id", &cid)
        .json(&json!({"brief": brief, "mode": "simulate"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/v1/events/{id}");
    until(120, "the approvals", || {
        let path = &path;
        let (http, base, planner) = (&http, &base, &planner);
        async move {
            let e = get(http, base, planner, path).await;
            (e["run_status"] == "awaiting_approval" && e["state"] == "confirm").then_some(())
        }
    })
    .await;
    approve_waiting(&http, &base, &approver).await;
    until(120, "the postmortem", || {
        let path = &path;
        let (http, base, planner) = (&http, &base, &planner);
        async move {
            let e = get(http, base, planner, path).await;
            (e["run_status"] == "completed").then_some(())
        }
    })
    .await;
    until(60, "webhook deliveries", || {
        let n = deliveries.lock().unwrap().len();
        async move { (n >= 3).then_some(()) }
    })
    .await;
    // Exported in batches every 100 ms: wait for the last run's and the deliveries' spans.
    let all = until(60, "the spans", || {
        let all = spans(&bodies);
        async move {
            let done = all.iter().any(|s| {
                s.name == "run" && s.attrs.get("outcome").map(String::as_str) == Some("completed")
            });
            let delivered = all.iter().filter(|s| {
                s.name == "deliver"
                    && s.attrs.get("outcome").map(String::as_str) == Some("delivered")
            });
            (done && delivered.count() >= 3).then_some(all)
        }
    })
    .await;
    let attr = |s: &Span, k: &str| s.attrs.get(k).cloned().unwrap_or_default();
    let children = |p: &Span, name: &str| -> Vec<Span> {
        all.iter()
            .filter(|s| s.parent == p.id && s.trace == p.trace && s.name == name)
            .cloned()
            .collect()
    };
    // The request that created the event, and its commit.
    let created = all
        .iter()
        .find(|s| {
            s.name == "request"
                && attr(s, "method") == "POST"
                && attr(s, "path") == "/api/v1/events"
                && attr(s, "correlation_id") == cid
        })
        .unwrap_or_else(|| panic!("no request span for POST /api/v1/events: {all:#?}"));
    assert!(created.parent.is_empty(), "a request is a root span");
    let commits = children(created, "commit");
    assert_eq!(commits.len(), 1, "{all:#?}");
    assert_eq!(attr(&commits[0], "event_id"), id);
    // The runs of the event carry the request's correlation id; the agent steps and commits are
    // their children.
    let runs: Vec<&Span> = all
        .iter()
        .filter(|s| s.name == "run" && attr(s, "event_id") == id)
        .collect();
    assert!(runs.len() >= 2, "before and after the approvals: {runs:#?}");
    assert!(
        runs.iter().all(|r| attr(r, "correlation_id") == cid),
        "{runs:#?}"
    );
    let mut steps = Vec::new();
    for r in &runs {
        for s in children(r, "step") {
            assert_eq!(attr(&s, "correlation_id"), cid);
            assert_eq!(attr(&s, "event_id"), id);
            steps.push(attr(&s, "step"));
        }
    }
    for agent in ["Plan", "Research", "Budget", "Logistics"] {
        assert!(
            steps.iter().any(|s| s == agent),
            "{agent} step in {steps:?}"
        );
    }
    // The run that planned up to the approvals and the one that finished commit under their
    // span (a run that found nothing to do commits nothing).
    let run_commits: usize = runs.iter().map(|r| children(r, "commit").len()).sum();
    assert!(run_commits >= 2, "{run_commits}");
    assert!(
        runs.iter()
            .any(|r| attr(r, "outcome") == "completed" && !children(r, "commit").is_empty()),
        "{runs:#?}"
    );
    assert!(
        all.iter().filter(|s| s.name == "step").all(|s| all
            .iter()
            .any(|r| r.name == "run" && r.id == s.parent && r.trace == s.trace)),
        "every step is a child of a run"
    );
    // The approval decisions: a request each, with its commit.
    let decisions: Vec<&Span> = all
        .iter()
        .filter(|s| s.name == "request" && attr(s, "path").ends_with("/decision"))
        .collect();
    assert_eq!(decisions.len(), 3, "{decisions:#?}");
    for d in &decisions {
        assert!(!children(d, "commit").is_empty(), "{d:#?}");
    }
    // The outbound calls: webhook deliveries, the first refused, each with a correlation id.
    let delivers: Vec<&Span> = all.iter().filter(|s| s.name == "deliver").collect();
    assert!(
        delivers.iter().any(|s| attr(s, "outcome") == "failed"),
        "{delivers:#?}"
    );
    assert!(
        delivers
            .iter()
            .all(|s| attr(s, "channel") == "webhook" && !attr(s, "correlation_id").is_empty()),
        "{delivers:#?}"
    );
    drop(server);
}
