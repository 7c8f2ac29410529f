//! The language model reading brief texts the recogniser does not understand (issue 16), with
//! a replay model server on loopback answering by the text it is asked about: what passes the
//! checks is kept in the next brief revision and honoured by the plan, what fails stays "not
//! understood", and every call is in the `interpret` AgentTrace. Without a model the same brief
//! plans with the recogniser alone.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use eods_agents::Tools;
use eods_domain::artifact::{ArtifactType, CatalogType, Payload};
use eods_domain::catalog::audit::AgentTrace;
use eods_domain::catalog::brief::EventBrief;
use eods_domain::constraints::{VenueNeed, read_brief, read_text, required_venue_needs};
use eods_domain::lifecycle::{ApprovalDecision, ApprovalGate, RunStatus};
use eods_domain::model::ModelOutcome;
use eods_engine::replay::{Recording, ReplayReport};
use eods_engine::{Answer, Approver, Engine, PendingApproval, Quiet, RunOptions};
use eods_model::{ModelClient, ModelConfig};
use eods_store::keys::KeyConfig;
use eods_store::test_support::test_stores;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

const GERMAN: &str = "Vorträge nur zwischen 19 und 21 Uhr";
const PORTUGUESE: &str = "O local precisa de acesso para cadeira de rodas";
const JAPANESE: &str = "講演は19時から21時までのみ";

struct Yes;
impl Approver for Yes {
    fn decide(&mut self, _: &PendingApproval) -> Answer {
        Answer {
            decision: ApprovalDecision::Approve,
            comment: "ok".into(),
            by: "user:alice".into(),
        }
    }
}

/// A model server answering each text with its scripted content (a summary request gets `[]`,
/// which is not a summary); the texts it was asked to read.
async fn model_server(
    answers: &'static [(&'static str, &'static str)],
) -> (String, Arc<Mutex<Vec<String>>>) {
    let asked = Arc::new(Mutex::new(Vec::new()));
    let seen = asked.clone();
    let app = axum::Router::new().route(
        "/v1/chat/completions",
        axum::routing::post(move |body: axum::Json<Value>| {
            let seen = seen.clone();
            async move {
                let text = body.0["messages"][1]["content"]
                    .as_str()
                    .unwrap_or("")
                    .to_owned();
                // The texts put to it to read (not the approvers' summaries it is asked for).
                if body.0["messages"][0]["content"]
                    .as_str()
                    .is_some_and(|s| s.starts_with("You read one constraint"))
                {
                    seen.lock().unwrap().push(text.clone());
                }
                let content = answers
                    .iter()
                    .find(|(t, _)| *t == text)
                    .map_or("[]", |(_, a)| a);
                completion(content, 100)
            }
        }),
    );
    (serve(app).await, asked)
}

/// A chat completion answering `content`, counting `prompt_tokens` and 20 for the answer.
fn completion(content: &str, prompt_tokens: u64) -> axum::Json<Value> {
    axum::Json(json!({
        "choices": [{"message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": 20}
    }))
}

/// Serves `app` on a loopback port; its base URL.
async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/v1")
}

/// `r` replayed on an in-memory database.
async fn replay(r: &Recording) -> ReplayReport {
    let scratch =
        eods_store::Store::connect_keyed("sqlite::memory:", 1, KeyConfig::ephemeral().unwrap())
            .await
            .unwrap();
    r.replay(Arc::new(Tools::bundled().unwrap()), scratch)
        .await
        .unwrap()
}

/// The sessions of the event's current schedule: start and end as stored (local ISO times).
async fn sessions(store: &eods_store::Store, id: eods_domain::ids::EventId) -> Vec<Value> {
    let schedule = store
        .current_of(id, ArtifactType::Schedule)
        .await
        .unwrap()
        .unwrap();
    schedule.payload["sessions"].as_array().unwrap().clone()
}

fn brief() -> Value {
    let path = format!(
        "{}/../../examples/s01-meetup.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut b: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    b["constraints"] = json!([
        GERMAN,
        PORTUGUESE,
        JAPANESE,
        "Venue must have wifi and a projector"
    ]);
    b["location"]["preferences"] = json!([]);
    b
}

#[tokio::test]
async fn constraints_in_other_languages_are_read_by_the_model_checked_and_honoured() {
    // The recogniser alone reads none of the three.
    for t in [GERMAN, PORTUGUESE, JAPANESE] {
        assert!(read_text(t).1.is_some() || read_text(t).0.is_empty(), "{t}");
    }
    let (url, asked) = model_server(&[
        (
            GERMAN,
            r#"[{"session_window": {"start": "19:00:00", "end": "21:00:00"}}]"#,
        ),
        (PORTUGUESE, r#"[{"venue": "step_free"}]"#),
        // Read wrongly (the window ends before it starts): refused, left not understood.
        (
            JAPANESE,
            r#"[{"session_window": {"start": "21:00:00", "end": "19:00:00"}}]"#,
        ),
    ])
    .await;
    let dir = tempfile::tempdir().unwrap();
    for store in test_stores(dir.path(), "model").await.unwrap() {
        asked.lock().unwrap().clear();
        let client = ModelClient::new(ModelConfig::new(&url, "replay")).unwrap();
        let e = Engine::new(store.clone(), Arc::new(Tools::bundled().unwrap()))
            .with_model(Arc::new(client));
        let id = e.submit(brief(), &RunOptions::default()).await.unwrap();
        let s = e.run(id, Some(&mut Yes), &mut Quiet).await.unwrap();
        assert_eq!(s.run_status, RunStatus::Completed, "{s:?}");
        assert_eq!(asked.lock().unwrap().len(), 3, "each text is asked once");

        let briefs = store.revisions(id, ArtifactType::EventBrief).await.unwrap();
        assert_eq!(briefs.len(), 2);
        assert_eq!(briefs[1].created_by, "agent:event_planner");
        let b: EventBrief = serde_json::from_value(briefs[1].payload.clone()).unwrap();
        assert_eq!(b.interpretations.len(), 2);
        assert!(b.interpretations.iter().all(|i| i.by == "model:replay"));
        let readings = read_brief(&b);
        assert_eq!(readings[0].not_understood, None);
        assert_eq!(readings[2].interpreted_by, None);
        assert!(
            readings[2].not_understood.is_some(),
            "the refused reading stays not understood"
        );
        assert!(
            required_venue_needs(&b)
                .iter()
                .any(|(n, _)| *n == VenueNeed::StepFree)
        );

        let traces = store.revisions(id, ArtifactType::AgentTrace).await.unwrap();
        let interpret: Vec<AgentTrace> = traces
            .iter()
            .filter_map(|t| {
                let p = Payload::from_value(ArtifactType::AgentTrace, t.payload.clone()).ok()?;
                AgentTrace::from_payload(&p).cloned()
            })
            .filter(|t| t.step == "interpret")
            .collect();
        assert_eq!(interpret.len(), 1);
        let outcomes: Vec<ModelOutcome> =
            interpret[0].model_calls.iter().map(|c| c.outcome).collect();
        assert_eq!(
            outcomes,
            [
                ModelOutcome::Used,
                ModelOutcome::Used,
                ModelOutcome::Invalid
            ]
        );
        let why = interpret[0].model_calls[2].reason.clone().unwrap();
        assert!(why.contains("ends before it starts"), "{why}");
        assert_eq!(interpret[0].model_calls[0].prompt_tokens, Some(100));

        // The plan honours the window the model read.
        let sessions = sessions(&store, id).await;
        assert!(!sessions.is_empty());
        for s in sessions {
            let (start, end) = (s["start"].as_str().unwrap(), s["end"].as_str().unwrap());
            assert!(
                &start[11..16] >= "19:00" && &end[11..16] <= "21:00",
                "{start}–{end}"
            );
        }

        // Replayed offline from the record: no server is asked, every revision comes out as
        // recorded (the refused answer is read again and refused again); a changed recorded
        // answer shows as the first differing revision, the brief the model's reading made.
        let recording = Recording::read(&store, id).await.unwrap();
        let report = replay(&recording).await;
        assert_eq!(report.first_difference, None, "{report:?}");
        // Three texts read, and the venue and budget summaries asked for (refused: `[]`).
        assert_eq!(report.model_calls, 5);
        assert_eq!(asked.lock().unwrap().len(), 3, "the replay asks no server");
        let mut changed = recording.clone();
        assert!(changed.change_model_response(
            0,
            r#"[{"session_window": {"start": "18:00:00", "end": "21:00:00"}}]"#
        ));
        let d = replay(&changed).await.first_difference.unwrap();
        assert_eq!(
            (d.artifact_type, d.revision),
            (ArtifactType::EventBrief, 2),
            "{d}"
        );
        assert!(d.what.contains("18:00:00"), "{d}");
    }
}

#[tokio::test]
async fn without_a_model_the_same_brief_plans_with_the_recogniser_alone() {
    let dir = tempfile::tempdir().unwrap();
    for store in test_stores(dir.path(), "nomodel").await.unwrap() {
        let e = Engine::new(store.clone(), Arc::new(Tools::bundled().unwrap()));
        let id = e.submit(brief(), &RunOptions::default()).await.unwrap();
        let s = e.run(id, Some(&mut Yes), &mut Quiet).await.unwrap();
        assert_eq!(s.run_status, RunStatus::Completed, "{s:?}");
        let briefs = store.revisions(id, ArtifactType::EventBrief).await.unwrap();
        assert_eq!(briefs.len(), 1);
        let b: EventBrief = serde_json::from_value(briefs[0].payload.clone()).unwrap();
        assert!(read_brief(&b)[0].not_understood.is_some());
        let traces = store.revisions(id, ArtifactType::AgentTrace).await.unwrap();
        assert!(traces.iter().all(|t| t.payload["step"] != "interpret"));
        // Nothing keeps the talks to 19:00–21:00 then (the window above is the model's doing).
        let sessions = sessions(&store, id).await;
        assert!(
            sessions
                .iter()
                .any(|s| &s["start"].as_str().unwrap()[11..16] < "19:00"),
            "{sessions:?}"
        );
    }
}

/// The model's budget is the event's, not a run's: a second reading (after an amendment) finds
/// the calls its first reading spent and asks nothing once they are used up, saying so.
#[tokio::test]
async fn the_model_budget_counts_across_the_runs_of_an_event() {
    let (url, asked) = model_server(&[]).await;
    let dir = tempfile::tempdir().unwrap();
    for store in test_stores(dir.path(), "model_budget").await.unwrap() {
        asked.lock().unwrap().clear();
        let mut config = ModelConfig::new(&url, "replay");
        config.budget.calls = 3;
        let e = Engine::new(store.clone(), Arc::new(Tools::bundled().unwrap()))
            .with_model(Arc::new(ModelClient::new(config).unwrap()));
        let id = e.submit(brief(), &RunOptions::default()).await.unwrap();
        // The run stops for the approvals; the brief can still be amended.
        let s = e.run(id, None, &mut Quiet).await.unwrap();
        assert_eq!(s.run_status, RunStatus::AwaitingApproval, "{s:?}");
        assert_eq!(asked.lock().unwrap().len(), 3);
        let mut constraints = brief()["constraints"].clone();
        constraints
            .as_array_mut()
            .unwrap()
            .push(json!("Keine Veranstaltung nach 22 Uhr"));
        e.amend_brief(id, &json!({"constraints": constraints}), "user:alice")
            .await
            .unwrap();
        e.run(id, Some(&mut Yes), &mut Quiet).await.unwrap();
        assert_eq!(
            asked.lock().unwrap().len(),
            3,
            "the spent budget asks nothing"
        );
        let traces = store.revisions(id, ArtifactType::AgentTrace).await.unwrap();
        let last: AgentTrace = traces
            .iter()
            .rev()
            .filter_map(|t| serde_json::from_value::<AgentTrace>(t.payload.clone()).ok())
            .find(|t| t.step == "interpret")
            .unwrap();
        assert_eq!(last.model_calls.len(), 4, "every text of the amended brief");
        for c in &last.model_calls {
            assert_eq!(c.outcome, ModelOutcome::Fallback);
            assert_eq!(c.attempts, 0);
            let why = c.reason.clone().unwrap();
            assert!(
                why.contains("3 model calls for this event is spent"),
                "{why}"
            );
        }
    }
}

/// The prompt is the instruction set's: an edited set asks the model in its own words, and the
/// trace names the set by the hash of that file.
#[tokio::test]
async fn the_prompt_comes_from_the_instruction_set_and_is_recorded_by_hash() {
    let (url, asked) = model_server(&[]).await;
    let dir = tempfile::tempdir().unwrap();
    let sets = dir.path().join("instructions");
    std::fs::create_dir(&sets).unwrap();
    let bundled = include_str!("../../eods-agents/instructions/event_planner.beginner.json");
    let edited = bundled.replace("\"user\": \"{text}\"", "\"user\": \"Constraint: {text}\"");
    assert_ne!(edited, bundled);
    std::fs::write(sets.join("event_planner.beginner.json"), &edited).unwrap();
    let tools = Tools::load(Some(&sets)).unwrap();
    let store = test_stores(dir.path(), "model_prompt")
        .await
        .unwrap()
        .remove(0);
    let client = ModelClient::new(ModelConfig::new(&url, "replay")).unwrap();
    let e = Engine::new(store.clone(), Arc::new(tools)).with_model(Arc::new(client));
    let id = e.submit(brief(), &RunOptions::default()).await.unwrap();
    e.run(id, Some(&mut Yes), &mut Quiet).await.unwrap();
    let asked = asked.lock().unwrap().clone();
    assert_eq!(asked.len(), 3);
    assert!(
        asked.iter().all(|t| t.starts_with("Constraint: ")),
        "{asked:?}"
    );
    let traces = store.revisions(id, ArtifactType::AgentTrace).await.unwrap();
    let interpret: AgentTrace = traces
        .iter()
        .filter_map(|t| serde_json::from_value::<AgentTrace>(t.payload.clone()).ok())
        .find(|t| t.step == "interpret")
        .unwrap();
    let hash = eods_agents::instructions::sha256_hex(edited.as_bytes());
    assert_eq!(interpret.instruction_set.hash, hash);
    assert_eq!(
        interpret.model_calls[0].messages[1].content,
        format!("Constraint: {GERMAN}")
    );
}

/// A model server that writes approvers' summaries: the budget's from the figures it is sent,
/// the venue's with a figure the artifacts do not hold; brief texts get no reading.
async fn summary_server() -> (String, Arc<Mutex<usize>>) {
    let asked = Arc::new(Mutex::new(0));
    let seen = asked.clone();
    let app = axum::Router::new().route(
        "/v1/chat/completions",
        axum::routing::post(move |body: axum::Json<Value>| {
            let seen = seen.clone();
            async move {
                let system = body.0["messages"][0]["content"]
                    .as_str()
                    .unwrap_or("")
                    .to_owned();
                let user = body.0["messages"][1]["content"]
                    .as_str()
                    .unwrap_or("")
                    .to_owned();
                let content = if system.contains("budget request") {
                    *seen.lock().unwrap() += 1;
                    let facts: Value =
                        serde_json::from_str(user.split_once('\n').unwrap().1).unwrap();
                    let d = &facts["artifacts"]["budget_decision"];
                    json!({"summary": format!(
                        "Approve {} {} for the full scope, the recommended option.",
                        d["approved_total"].as_str().unwrap(),
                        d["currency"].as_str().unwrap()
                    )})
                    .to_string()
                } else if system.contains("venue selection request") {
                    *seen.lock().unwrap() += 1;
                    json!({"summary": "The venue costs 999999 EUR and seats everyone."}).to_string()
                } else {
                    "[]".to_owned()
                };
                completion(&content, 300)
            }
        }),
    );
    (serve(app).await, asked)
}

/// With a model, the approver reads its summary when every figure in it is the plan's; a
/// summary stating a figure the artifacts do not hold is refused, and the engine's own is shown.
/// Vendor contracts keep the engine's summary. The run replays exactly from its record.
#[tokio::test]
async fn approvers_read_the_models_summary_only_when_its_figures_are_the_plans() {
    let (url, asked) = summary_server().await;
    let dir = tempfile::tempdir().unwrap();
    for store in test_stores(dir.path(), "model_summary").await.unwrap() {
        *asked.lock().unwrap() = 0;
        let client = ModelClient::new(ModelConfig::new(&url, "replay")).unwrap();
        let e = Engine::new(store.clone(), Arc::new(Tools::bundled().unwrap()))
            .with_model(Arc::new(client));
        let id = e.submit(brief(), &RunOptions::default()).await.unwrap();
        let s = e.run(id, None, &mut Quiet).await.unwrap();
        assert_eq!(s.run_status, RunStatus::AwaitingApproval, "{s:?}");
        assert_eq!(*asked.lock().unwrap(), 2, "venue and budget, once each");
        let pending = e.pending_approvals(id).await.unwrap();
        assert_eq!(pending.len(), 3);
        let decision = store
            .current_of(id, ArtifactType::BudgetDecision)
            .await
            .unwrap()
            .unwrap();
        for p in &pending {
            match p.gate {
                ApprovalGate::BudgetDecision => {
                    assert_eq!(p.summary_by.as_deref(), Some("model:replay"));
                    let total = decision.payload["approved_total"].as_str().unwrap();
                    assert!(p.summary.contains(total), "{}", p.summary);
                }
                _ => {
                    assert_eq!(p.summary_by, None, "{:?}", p.gate);
                    assert!(!p.summary.contains("999999"), "{}", p.summary);
                }
            }
        }
        let traces = store.revisions(id, ArtifactType::AgentTrace).await.unwrap();
        let summaries: Vec<AgentTrace> = traces
            .iter()
            .filter_map(|t| serde_json::from_value::<AgentTrace>(t.payload.clone()).ok())
            .filter(|t| t.step == "summarise")
            .collect();
        assert_eq!(summaries.len(), 2);
        // The model is sent the gate's figures, never the stakeholders' contacts.
        for c in summaries.iter().flat_map(|t| &t.model_calls) {
            let sent = &c.messages[1].content;
            assert!(sent.contains("approved_total") || sent.contains("venue_scorecard"));
            assert!(!sent.contains("jana@rust-berlin.example"), "{sent}");
        }
        let refused = summaries
            .iter()
            .flat_map(|t| &t.model_calls)
            .find(|c| c.outcome == ModelOutcome::Invalid)
            .unwrap();
        let why = refused.reason.clone().unwrap();
        assert!(
            why.contains("figures the artifacts do not hold: 999999"),
            "{why}"
        );

        // The approver decides; the run ends; the record replays byte for byte.
        for p in &pending {
            e.decide_approval(
                id,
                p.id,
                &Answer {
                    decision: ApprovalDecision::Approve,
                    comment: "ok".into(),
                    by: "user:bob".into(),
                },
            )
            .await
            .unwrap();
        }
        let s = e.run(id, None, &mut Quiet).await.unwrap();
        assert_eq!(s.run_status, RunStatus::Completed, "{s:?}");
        assert_eq!(*asked.lock().unwrap(), 2, "a summary is asked once");
        let report = replay(&Recording::read(&store, id).await.unwrap()).await;
        assert_eq!(report.first_difference, None, "{report:?}");
    }
}

/// A model server writing message drafts: a speaker's announcement in Japanese that keeps the
/// template's sessions, the recipient and the event; the attendees' with a figure the template
/// does not state. Counts the drafts it was asked to write.
async fn drafting_server() -> (String, Arc<Mutex<usize>>) {
    let asked = Arc::new(Mutex::new(0));
    let seen = asked.clone();
    let app = axum::Router::new().route(
        "/v1/chat/completions",
        axum::routing::post(move |body: axum::Json<Value>| {
            let seen = seen.clone();
            async move {
                let system = body.0["messages"][0]["content"].as_str().unwrap_or("");
                if !system.starts_with("You write messages") {
                    return completion("[]", 100);
                }
                *seen.lock().unwrap() += 1;
                let facts: Value =
                    serde_json::from_str(body.0["messages"][1]["content"].as_str().unwrap())
                        .unwrap();
                assert_eq!(facts["language"], "ja");
                let template = facts["body"].as_str().unwrap();
                let title = "Rust Berlin Meetup — March 2029";
                let answer = if facts["kind"] == "speaker_announcement" {
                    let name = template
                        .lines()
                        .next()
                        .unwrap()
                        .trim_start_matches("Dear ")
                        .trim_end_matches(',');
                    let sessions: Vec<&str> =
                        template.lines().filter(|l| l.starts_with("- ")).collect();
                    json!({
                        "subject": format!("{title}でのご講演"),
                        "body": format!("{name}様\n\n{title}でご講演いただきありがとうございます。\n{}\n", sessions.join("\n")),
                    })
                } else {
                    json!({"subject": format!("{title}のお知らせ"), "body": format!("{title}は999人が参加します。")})
                };
                completion(&answer.to_string(), 200)
            }
        }),
    );
    (serve(app).await, asked)
}

/// With a model and a brief in a language no template is written in, the model writes the
/// drafts in it; a draft whose words state a figure the template does not keeps the English
/// template, saying so. Writing again asks nothing; the record replays exactly.
#[tokio::test]
async fn drafts_in_a_language_without_templates_are_the_models_when_they_keep_the_facts() {
    let (url, asked) = drafting_server().await;
    let dir = tempfile::tempdir().unwrap();
    for store in test_stores(dir.path(), "model_drafts").await.unwrap() {
        *asked.lock().unwrap() = 0;
        let client = ModelClient::new(ModelConfig::new(&url, "replay")).unwrap();
        let e = Engine::new(store.clone(), Arc::new(Tools::bundled().unwrap()))
            .with_model(Arc::new(client));
        let mut b = brief();
        b["constraints"] = json!(["Venue must have wifi and a projector"]);
        b["language"] = json!("ja");
        let id = e.submit(b, &RunOptions::default()).await.unwrap();
        let written = e.write_drafts(id, "user:ana").await.unwrap();
        assert_eq!(
            *asked.lock().unwrap(),
            4,
            "three speakers and the attendees"
        );
        let drafts = &written.drafts.drafts;
        let speakers: Vec<_> = drafts
            .iter()
            .filter(|d| d.id.starts_with("speaker-"))
            .collect();
        assert_eq!(speakers.len(), 3);
        for d in &speakers {
            assert_eq!(d.written_by, "model:replay", "{d:?}");
            assert_eq!(d.language, "ja");
            assert!(d.body.contains(&d.to) && d.body.contains("ご講演"), "{d:?}");
            assert_eq!(d.note, None);
        }
        let attendees = drafts.iter().find(|d| d.id == "attendees").unwrap();
        assert_eq!(attendees.written_by, "template");
        assert_eq!(attendees.language, "en");
        assert!(attendees.note.as_deref().unwrap().contains("`ja`"));
        let traces = store.revisions(id, ArtifactType::AgentTrace).await.unwrap();
        let trace: AgentTrace = traces
            .iter()
            .filter_map(|t| serde_json::from_value::<AgentTrace>(t.payload.clone()).ok())
            .find(|t| t.step == "draft_messages")
            .unwrap();
        assert_eq!(trace.model_calls.len(), 4);
        let refused = trace
            .model_calls
            .iter()
            .find(|c| c.outcome == ModelOutcome::Invalid)
            .unwrap();
        assert!(
            refused
                .reason
                .as_deref()
                .unwrap()
                .contains("figures the template does not: 999"),
            "{refused:?}"
        );

        // The same plan: nothing to write, nothing asked.
        let again = e.write_drafts(id, "user:ana").await.unwrap();
        assert!(!again.changed);
        assert_eq!(*asked.lock().unwrap(), 4);
        let report = replay(&Recording::read(&store, id).await.unwrap()).await;
        assert_eq!(report.first_difference, None, "{report:?}");
        assert_eq!(report.model_calls, 4, "{report:?}");
    }
}
