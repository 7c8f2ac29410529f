//! Drafts of the words people send (issue 16): requests for quote to the venues a plan holds
//! without their facts, announcements to the speakers and the attendees, in the brief's
//! language; every figure in them is the plan's; people edit them and approve them one by one;
//! nothing reaches the outbox unapproved; and an event with drafts replays byte for byte. On
//! every test database.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use eods_agents::Tools;
use eods_domain::artifact::ArtifactType;
use eods_domain::catalog::messages::{DraftKind, DraftStatus, MessageDrafts};
use eods_domain::catalog::sources::{GatheredVenues, VenueRecord};
use eods_domain::grounding::ungrounded_numbers;
use eods_domain::lifecycle::RunStatus;
use eods_engine::drafts::DraftError;
use eods_engine::replay::Recording;
use eods_engine::{EditError, Engine, EngineError, Quiet, RunOptions, test_support};
use eods_store::keys::KeyConfig;
use eods_store::test_support::test_stores;
use eods_store::{OutboxKind, Store};
use serde_json::{Value, json};
use std::sync::Arc;

fn brief(name: &str) -> Value {
    let path = format!("{}/../../examples/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Three places an OpenStreetMap source knows in Helsinki, without capacity or price; one
/// names an e-mail address among its contacts.
struct ThreePlaces;

impl eods_engine::VenueGatherer for ThreePlaces {
    fn gather<'a>(
        &'a self,
        _q: &'a eods_sources::VenueQuery,
        _wanted: usize,
    ) -> eods_sources::BoxFuture<'a, GatheredVenues> {
        let record = |n: u32, name: &str, contact: &str| -> VenueRecord {
            serde_json::from_value(json!({
                "id": format!("osm-node-{n}"),
                "name": name,
                "city": "Helsinki",
                "country": "FI",
                "contact": contact,
                "place_kind": "conference_centre",
                "provenance": {"kind": "openstreetmap", "label": "OpenStreetMap", "osm_id": format!("node/{n}")},
            }))
            .unwrap()
        };
        Box::pin(async move {
            GatheredVenues {
                records: vec![
                    record(
                        11,
                        "Kulttuuritalo",
                        "Tel +358 9 7746 1; myynti@kulttuuritalo.example",
                    ),
                    record(12, "Paasitorni", ""),
                    record(13, "Scandic Park", "https://www.scandichotels.example/park"),
                ],
                attempts: vec![],
                escalation: None,
            }
        })
    }
}

struct ApproveAll;

impl eods_engine::Approver for ApproveAll {
    fn decide(&mut self, _r: &eods_engine::PendingApproval) -> eods_engine::Answer {
        eods_engine::Answer {
            decision: eods_domain::lifecycle::ApprovalDecision::Approve,
            comment: "ok".into(),
            by: "user:dana".into(),
        }
    }
}

async fn drafts(store: &Store, id: eods_domain::ids::EventId) -> (u32, MessageDrafts) {
    let e = store
        .current_of(id, ArtifactType::MessageDrafts)
        .await
        .unwrap()
        .expect("drafts stored");
    (e.revision, serde_json::from_value(e.payload).unwrap())
}

#[tokio::test]
async fn drafts_are_written_from_the_plan_edited_and_sent_only_once_approved() {
    let dir = tempfile::tempdir().unwrap();
    for store in test_stores(dir.path(), "drafts").await.unwrap() {
        let e = Engine::new(store.clone(), Arc::new(Tools::bundled().unwrap()))
            .with_clock(test_support::clock())
            .with_gatherer(Arc::new(ThreePlaces));
        let mut b = brief("s02-conference.json");
        b["location"]["city"] = json!("Helsinki");
        b["location"]["country"] = json!("FI");
        b["language"] = json!("de");
        let id = e.submit(b, &RunOptions::default()).await.unwrap();

        // Before Research there is nothing to ask a venue; the program's speakers are known.
        let s = e.run(id, None, &mut Quiet).await.unwrap();
        assert_eq!(s.run_status, RunStatus::NeedsInput, "{s:?}");
        let written = e.write_drafts(id, "user:ana").await.unwrap();
        assert!(written.changed);
        let (rev, d) = drafts(&store, id).await;
        assert_eq!(rev, written.revision);
        let rfqs: Vec<_> = d
            .drafts
            .iter()
            .filter(|x| x.kind == DraftKind::VenueRfq)
            .collect();
        assert_eq!(rfqs.len(), 3, "one request for quote per place: {d:?}");
        assert!(
            d.drafts
                .iter()
                .any(|x| x.kind == DraftKind::SpeakerAnnouncement && x.to == "Femke de Wit")
        );
        assert!(d.drafts.iter().any(|x| x.id == "attendees"));
        // In the brief's language, every figure from the plan, addressed where an address is known.
        let leads = store
            .current_of(id, ArtifactType::VenueLeads)
            .await
            .unwrap()
            .unwrap()
            .payload;
        let brief_now = store
            .current_of(id, ArtifactType::EventBrief)
            .await
            .unwrap()
            .unwrap()
            .payload;
        // No rate card prices Helsinki: each service is asked for prices, listing the needs the
        // Budget Analyst counts for this brief (and nothing else).
        let brief_typed: eods_domain::catalog::brief::EventBrief =
            serde_json::from_value(brief_now.clone()).unwrap();
        let needs = eods_agents::pricing::needs(&brief_typed);
        let suppliers: Vec<_> = d
            .drafts
            .iter()
            .filter(|x| x.kind == DraftKind::SupplierRfq)
            .collect();
        assert!(
            suppliers.iter().any(|x| x.id == "supplier-rfq-catering"),
            "{d:?}"
        );
        for x in &suppliers {
            assert!(x.subject.starts_with("Preisanfrage: "), "{x:?}");
            let items: Vec<&str> = x.body.lines().filter(|l| l.starts_with("- ")).collect();
            assert!(!items.is_empty(), "{x:?}");
            for item in items {
                assert!(
                    needs.iter().any(|n| item == format!("- {}", n.description)),
                    "{item}"
                );
            }
        }
        for x in &d.drafts {
            assert_eq!(x.language, "de");
            assert_eq!(x.status, DraftStatus::Draft);
            assert_eq!(x.written_by, "template");
            if x.kind == DraftKind::SupplierRfq {
                continue;
            }
            let text = format!("{}\n{}", x.subject, x.body);
            assert_eq!(
                ungrounded_numbers(&text, &[&leads, &brief_now]),
                Vec::<String>::new(),
                "{text}"
            );
        }
        let kulttuuritalo = rfqs.iter().find(|x| x.to == "Kulttuuritalo").unwrap();
        assert!(
            kulttuuritalo.subject.starts_with("Angebotsanfrage: "),
            "{kulttuuritalo:?}"
        );
        assert!(kulttuuritalo.body.contains("wie viele Personen"));
        assert_eq!(
            kulttuuritalo.address.as_deref(),
            Some("myynti@kulttuuritalo.example")
        );
        let paasitorni = rfqs.iter().find(|x| x.to == "Paasitorni").unwrap();
        assert_eq!(paasitorni.address, None);
        assert_eq!(paasitorni.note, None, "a template in the brief's language");
        let rfq_id = kulttuuritalo.id.clone();
        let outbox = |store: Store| async move {
            store
                .outbox(Some(id))
                .await
                .unwrap()
                .into_iter()
                .filter(|n| n.kind == OutboxKind::Message)
                .collect::<Vec<_>>()
        };
        assert!(
            outbox(store.clone()).await.is_empty(),
            "nothing sent unapproved"
        );

        // Writing again changes nothing.
        assert!(!e.write_drafts(id, "user:ana").await.unwrap().changed);

        // A person edits the request; an edit cannot approve it.
        let mut edited = serde_json::to_value(&d).unwrap();
        let i = d.drafts.iter().position(|x| x.id == rfq_id).unwrap();
        edited["drafts"][i]["body"] =
            json!("Guten Tag,\n\nbitte senden Sie uns ein Angebot.\n\nAna");
        let out = e
            .edit_artifact(
                id,
                ArtifactType::MessageDrafts,
                rev,
                edited.clone(),
                "user:ana",
                "kürzer",
                rust_decimal::Decimal::MAX,
            )
            .await
            .unwrap();
        assert_eq!(
            out.run_status,
            RunStatus::NeedsInput,
            "the run is untouched"
        );
        let mut approving = edited.clone();
        approving["drafts"][i]["status"] = json!("approved");
        approving["drafts"][i]["approved_by"] = json!("user:ana");
        approving["drafts"][i]["approved_at"] = json!("2026-12-01T10:00:00Z");
        let err = e
            .edit_artifact(
                id,
                ArtifactType::MessageDrafts,
                rev + 1,
                approving,
                "user:ana",
                "",
                rust_decimal::Decimal::MAX,
            )
            .await
            .unwrap_err();
        match err {
            EngineError::Edit(EditError::Invalid { violations, .. }) => {
                assert_eq!(violations[0].pointer, format!("/drafts/{i}/status"));
            }
            other => panic!("{other:?}"),
        }
        let (rev, d) = drafts(&store, id).await;
        assert_eq!(d.drafts[i].written_by, "user:ana");

        // Approval of a revision the approver did not read is refused; of the current one, it
        // queues the edited words for the address.
        match e.approve_draft(id, &rfq_id, rev - 1, "user:bob").await {
            Err(EngineError::Draft(DraftError::Stale { current, .. })) => assert_eq!(current, rev),
            other => panic!("{other:?}"),
        }
        match e.approve_draft(id, "rfq-nope", rev, "user:bob").await {
            Err(EngineError::Draft(DraftError::Unknown { known, .. })) => {
                assert!(known.contains(&rfq_id));
            }
            other => panic!("{other:?}"),
        }
        // Ana wrote these words: someone else approves them.
        assert!(matches!(
            e.approve_draft(id, &rfq_id, rev, "user:ana").await,
            Err(EngineError::Draft(DraftError::OwnWords(_)))
        ));
        let approved = e.approve_draft(id, &rfq_id, rev, "user:bob").await.unwrap();
        assert!(approved.queued);
        let sent = outbox(store.clone()).await;
        assert_eq!(sent.len(), 1);
        assert_eq!(
            sent[0].payload["recipients"][0]["email"],
            "myynti@kulttuuritalo.example"
        );
        assert!(
            sent[0].payload["body"]
                .as_str()
                .unwrap()
                .contains("bitte senden")
        );
        assert!(matches!(
            e.approve_draft(id, &rfq_id, rev + 1, "user:bob").await,
            Err(EngineError::Draft(DraftError::AlreadyApproved(_)))
        ));
        // A draft without an address is approved to be sent by hand: nothing is queued.
        let attendees = e
            .approve_draft(id, "attendees", rev + 1, "user:bob")
            .await
            .unwrap();
        assert!(!attendees.queued);
        assert_eq!(outbox(store.clone()).await.len(), 1);
        let log = store.decision_log(id).await.unwrap();
        assert!(
            log.iter()
                .any(|x| x.owner == "user:bob" && x.description.contains(&rfq_id)),
            "the approval is in the DecisionLog"
        );

        // New words for an approved draft need a new approval; rewriting keeps people's work.
        let (rev, d) = drafts(&store, id).await;
        let mut edited = serde_json::to_value(&d).unwrap();
        edited["drafts"][i]["subject"] = json!("Angebotsanfrage (neu)");
        e.edit_artifact(
            id,
            ArtifactType::MessageDrafts,
            rev,
            edited,
            "user:ana",
            "",
            rust_decimal::Decimal::MAX,
        )
        .await
        .unwrap();
        let (_, d) = drafts(&store, id).await;
        assert_eq!(d.drafts[i].status, DraftStatus::Draft);
        assert_eq!(d.drafts[i].approved_by, None);
        e.write_drafts(id, "user:ana").await.unwrap();
        let (_, after) = drafts(&store, id).await;
        assert_eq!(after.get(&rfq_id).unwrap().subject, "Angebotsanfrage (neu)");
        assert_eq!(
            after.get("attendees").unwrap().status,
            DraftStatus::Approved
        );
        assert_eq!(
            outbox(store.clone()).await.len(),
            1,
            "still only what was approved"
        );

        // Once the approved request's answer is overdue, writing again adds a reminder to the
        // address it went to; the requests never sent get none.
        let due = leads["leads"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["name"] == "Kulttuuritalo")
            .unwrap()["request_for_quote"]["due"]
            .as_str()
            .unwrap()
            .parse::<chrono::NaiveDate>()
            .unwrap();
        let later = Engine::new(store.clone(), Arc::new(Tools::bundled().unwrap())).with_clock(
            Arc::new(eods_engine::ShiftedClock::starting_at(
                (due + chrono::Days::new(2))
                    .and_hms_opt(9, 0, 0)
                    .unwrap()
                    .and_utc(),
            )),
        );
        // The request was edited after its approval: approve it again, then remind.
        let (rev, _) = drafts(&store, id).await;
        e.approve_draft(id, &rfq_id, rev, "user:bob").await.unwrap();
        later.write_drafts(id, "user:ana").await.unwrap();
        let (_, d) = drafts(&store, id).await;
        let reminders: Vec<_> = d
            .drafts
            .iter()
            .filter(|x| x.kind == DraftKind::VenueRfqReminder)
            .collect();
        assert_eq!(reminders.len(), 1, "{d:?}");
        let r = reminders[0];
        assert_eq!(r.id, format!("reminder-{rfq_id}"));
        assert_eq!(r.address.as_deref(), Some("myynti@kulttuuritalo.example"));
        assert!(
            r.subject.starts_with("Erinnerung: Angebotsanfrage"),
            "{r:?}"
        );
        assert!(r.body.contains(&due.to_string()), "{r:?}");
        assert_eq!(r.status, DraftStatus::Draft);
        assert_eq!(
            outbox(store.clone()).await.len(),
            2,
            "the request, twice approved; no reminder"
        );

        // The whole record replays: drafts written, edited and approved at their places.
        let recording = Recording::read(&store, id).await.unwrap();
        let scratch = Store::connect_keyed("sqlite::memory:", 1, KeyConfig::ephemeral().unwrap())
            .await
            .unwrap();
        let report = recording
            .replay(Arc::new(Tools::bundled().unwrap()), scratch)
            .await
            .unwrap();
        assert_eq!(report.first_difference, None, "{report:?}");
        // Written, edited, approved twice, edited, written again, approved, written later (the
        // unchanged write made no commit).
        assert_eq!(report.inputs, 8, "{report:?}");
    }
}

#[tokio::test]
async fn a_language_without_templates_is_said_and_nothing_to_draft_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    for store in test_stores(dir.path(), "drafts_lang").await.unwrap() {
        let e = Engine::new(store.clone(), Arc::new(Tools::bundled().unwrap()))
            .with_clock(test_support::clock());
        // A meetup without a program, before any step ran: nothing to write.
        let mut b = brief("s01-meetup.json");
        b["language"] = json!("fi");
        b.as_object_mut().unwrap().remove("program");
        let bare = e.submit(b.clone(), &RunOptions::default()).await.unwrap();
        assert!(matches!(
            e.write_drafts(bare, "user:ana").await,
            Err(EngineError::Draft(DraftError::NothingToDraft))
        ));
        // Planned, the attendees' announcement is written, in English, saying why.
        b["program"] = brief("s01-meetup.json")["program"].clone();
        let id = e.submit(b, &RunOptions::default()).await.unwrap();
        let mut approver = ApproveAll;
        let s = e.run(id, Some(&mut approver), &mut Quiet).await.unwrap();
        assert_eq!(s.run_status, RunStatus::Completed, "{s:?}");
        e.write_drafts(id, "user:ana").await.unwrap();
        let (_, d) = drafts(&store, id).await;
        let a = d.get("attendees").unwrap();
        assert_eq!(a.language, "en");
        assert!(a.note.as_deref().unwrap().contains("`fi`"), "{a:?}");
        assert!(
            a.body.contains("The venue is "),
            "the approved venue is named: {a:?}"
        );
    }
}
