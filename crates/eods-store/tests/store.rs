//! Store tests against a real database: a SQLite file always, and PostgreSQL when
//! `EODS_TEST_DATABASE_URL` is set (CI sets it). Each test gets its own database.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use chrono::{TimeZone, Utc};
use eods_domain::artifact::{ArtifactRef, ArtifactType, Envelope};
use eods_domain::catalog::audit::{
    ChangeEntry, ChangeImpact, ChangeType, DecisionEntry, DecisionType,
};
use eods_domain::ids::{ApprovalId, ArtifactId, ChangeId, DecisionId, EventId};
use eods_domain::instruction::Level;
use eods_domain::lifecycle::{
    ApprovalDecision, ApprovalGate, ApprovalStatus, LifecycleState, RunStatus,
};
use eods_store::test_support::test_stores;
use eods_store::{
    ApprovalDecisionWrite, BriefSummary, Commit, CommitOutcome, EventFilter, EventRow, Fence,
    NewApproval, StatusWrite, Store, StoreError,
};
use serde_json::json;
use uuid::Uuid;

fn event_row(id: EventId) -> EventRow {
    let t = Utc.with_ymd_and_hms(2027, 1, 1, 9, 0, 0).unwrap();
    EventRow {
        id,
        title: "Test".into(),
        state: LifecycleState::Initiate,
        run_status: RunStatus::Running,
        level: Level::Beginner,
        status_detail: None,
        wake_at: None,
        draft: Some(json!({"title": "Test"})),
        summary: BriefSummary::default(),
        options: eods_domain::run::RunOptions::default(),
        created_at: t,
        updated_at: t,
        archived_at: None,
    }
}

fn envelope(event: EventId, t: ArtifactType, revision: u32) -> Envelope {
    Envelope {
        id: ArtifactId(Uuid::now_v7()),
        event_id: event,
        artifact_type: t,
        revision,
        schema_version: "1.0.0".into(),
        created_at: Utc.with_ymd_and_hms(2027, 1, 1, 9, 0, revision).unwrap(),
        created_by: "agent:event_planner".into(),
        correlation_id: "c-1".into(),
        derived_from: vec![ArtifactRef {
            artifact_type: ArtifactType::EventBrief,
            revision: 1,
        }],
        payload: json!({"n": revision}),
    }
}

fn decision(n: usize) -> DecisionEntry {
    DecisionEntry {
        id: DecisionId::nth(n),
        decision_type: DecisionType::AgentStep,
        description: "step".into(),
        at: Utc.with_ymd_and_hms(2027, 1, 1, 9, 0, 0).unwrap(),
        owner: "agent:event_planner".into(),
        rationale: "because".into(),
        alternatives: vec![],
        instruction_set: None,
        approvals: vec![],
        correlation_id: "c-1".into(),
    }
}

fn change(n: usize, r: ArtifactRef) -> ChangeEntry {
    ChangeEntry {
        id: ChangeId::nth(n),
        change_type: ChangeType::Created,
        description: "created".into(),
        at: Utc.with_ymd_and_hms(2027, 1, 1, 9, 0, 0).unwrap(),
        impact: ChangeImpact {
            summary: "new".into(),
            cost_delta: None,
        },
        artifacts: vec![r],
        approvals: vec![],
        actor: "agent:event_planner".into(),
        correlation_id: "c-1".into(),
    }
}

async fn stores(name: &str) -> (tempfile::TempDir, Vec<Store>) {
    let dir = tempfile::tempdir().unwrap();
    let stores = test_stores(dir.path(), name).await.unwrap();
    (dir, stores)
}

#[tokio::test]
async fn a_commit_is_atomic_and_idempotent() {
    let (_dir, stores) = stores("atomic").await;
    for store in stores {
        let id = EventId(Uuid::now_v7());
        store.create_event(&event_row(id)).await.unwrap();
        let a = envelope(id, ArtifactType::Timeline, 1);
        let approval = ApprovalId(Uuid::now_v7());
        let commit = Commit {
            event_id: id,
            step_key: "plan|event_brief@1".into(),
            at: Utc::now(),
            artifacts: vec![a.clone()],
            decisions: vec![decision(1)],
            changes: vec![change(1, a.as_ref())],
            approval_requests: vec![NewApproval {
                id: approval,
                gate: ApprovalGate::VenueSelection,
                artifact_revision: 1,
                approver_role: "approver".into(),
                requested_at: Utc::now(),
                deadline: Utc::now(),
                required_approvals: 1,
            }],
            status: Some(StatusWrite {
                state: LifecycleState::Plan,
                run_status: RunStatus::Running,
                detail: None,
                wake_at: None,
            }),
            ..Commit::default()
        };
        // A failure just before COMMIT leaves nothing behind.
        let err = store
            .commit_with_hook(&commit, || Err("boom".into()))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("boom"), "{err}");
        let snap = store.snapshot(id).await.unwrap();
        assert_eq!(
            (
                snap.artifacts.len(),
                snap.decision_count,
                snap.change_count,
                snap.step_count
            ),
            (0, 0, 0, 0),
            "{}",
            store.backend()
        );
        assert!(snap.approvals.is_empty());
        assert_eq!(snap.event.state, LifecycleState::Initiate);

        assert_eq!(
            store.commit(&commit).await.unwrap(),
            CommitOutcome::Applied { seq: 1 }
        );
        assert_eq!(
            store.commit(&commit).await.unwrap(),
            CommitOutcome::AlreadyApplied
        );
        let snap = store.snapshot(id).await.unwrap();
        assert_eq!(
            (
                snap.artifacts.len(),
                snap.decision_count,
                snap.change_count,
                snap.step_count
            ),
            (1, 1, 1, 1),
            "{}",
            store.backend()
        );
        assert_eq!(snap.event.state, LifecycleState::Plan);
        assert_eq!(
            snap.artifacts[0],
            a,
            "{}: the envelope round-trips",
            store.backend()
        );
        assert_eq!(store.decision_log(id).await.unwrap(), vec![decision(1)]);

        // Deciding an approval twice is refused, and the refusal rolls the whole commit back.
        let decide = |key: &str| Commit {
            event_id: id,
            step_key: key.into(),
            at: Utc::now(),
            decisions: vec![decision(2)],
            approval_decisions: vec![ApprovalDecisionWrite {
                id: approval,
                decision: ApprovalDecision::Approve,
                status: ApprovalStatus::Approved,
                decided_at: Utc::now(),
                decided_by: "user:alice".into(),
                comment: "ok".into(),
                directive: None,
            }],
            ..Commit::default()
        };
        store.commit(&decide("approve-1")).await.unwrap();
        assert!(store.commit(&decide("approve-2")).await.is_err());
        let snap = store.snapshot(id).await.unwrap();
        assert_eq!(snap.decision_count, 2);
        assert_eq!(snap.approvals[0].status, ApprovalStatus::Approved);
        assert_eq!(snap.approvals[0].decided_by.as_deref(), Some("user:alice"));
    }
}

#[tokio::test]
async fn a_batch_is_one_transaction_numbered_like_single_commits_and_creates_its_event() {
    let (_dir, stores) = stores("batch").await;
    for store in stores {
        let id = EventId(Uuid::now_v7());
        let step = |key: &str, t: ArtifactType, n: usize| {
            let a = envelope(id, t, 1);
            Commit {
                event_id: id,
                step_key: key.into(),
                at: Utc::now(),
                artifacts: vec![a.clone()],
                decisions: vec![decision(n)],
                changes: vec![change(n, a.as_ref())],
                status: Some(StatusWrite {
                    state: LifecycleState::Plan,
                    run_status: RunStatus::Running,
                    detail: Some(key.into()),
                    wake_at: None,
                }),
                ..Commit::default()
            }
        };
        let batch = vec![
            {
                // The submission: the event row and brief revision 1 (whose summary the same
                // transaction writes onto the row).
                let mut c = step("submit", ArtifactType::EventBrief, 1);
                c.create_event = Some(event_row(id));
                c.artifacts[0] = brief_revision(id, 1, brief_payload("Batch", "Berlin", "900"));
                c
            },
            step("plan", ArtifactType::Timeline, 2),
            step("risks", ArtifactType::RiskRegister, 3),
        ];
        // A failure before COMMIT leaves not even the event row.
        let err = store
            .commit_batch(&batch, || Err("boom".into()))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("boom"), "{err}");
        assert_eq!(store.event(id).await.unwrap(), None, "{}", store.backend());

        let out = store.commit_batch(&batch, || Ok(())).await.unwrap();
        assert_eq!(
            out.outcomes,
            vec![
                CommitOutcome::Applied { seq: 1 },
                CommitOutcome::Applied { seq: 2 },
                CommitOutcome::Applied { seq: 3 }
            ]
        );
        let snap = store.snapshot(id).await.unwrap();
        assert_eq!(
            out.event_seq, snap.seq,
            "one transaction moves the counter once"
        );
        assert_eq!(snap.steps, vec!["submit", "plan", "risks"]);
        assert_eq!((snap.decision_count, snap.change_count), (3, 3));
        assert_eq!(snap.artifacts.len(), 3);
        assert_eq!(
            (snap.event.title.as_str(), snap.event.draft.as_ref()),
            ("Batch", None),
            "revision 1 in the batch clears the draft"
        );
        assert_eq!(snap.event.summary.city.as_deref(), Some("Berlin"));
        assert_eq!(snap.event.summary.budget_total.as_deref(), Some("900"));
        assert_eq!(
            snap.event.status_detail.as_deref(),
            Some("risks"),
            "the last status"
        );
        let log: Vec<String> = store
            .decision_log(id)
            .await
            .unwrap()
            .into_iter()
            .map(|d| d.id.to_string())
            .collect();
        assert_eq!(
            log,
            vec![
                decision(1).id.to_string(),
                decision(2).id.to_string(),
                decision(3).id.to_string()
            ]
        );

        // Keys committed before are skipped; the rest is written; a stale counter writes nothing.
        let again = vec![step("risks", ArtifactType::RiskRegister, 4), {
            let mut c = step("budget", ArtifactType::BudgetBaseline, 4);
            c.artifacts[0].revision = 1;
            c
        }];
        let out = store.commit_batch(&again, || Ok(())).await.unwrap();
        assert_eq!(
            out.outcomes,
            vec![
                CommitOutcome::AlreadyApplied,
                CommitOutcome::Applied { seq: 4 }
            ]
        );
        let mut stale = vec![step("logistics", ArtifactType::LogisticsPlan, 5)];
        stale[0].expect_seq = Some(snap.seq);
        assert!(matches!(
            store.commit_batch(&stale, || Ok(())).await,
            Err(StoreError::Stale { .. })
        ));
        let snap = store.snapshot(id).await.unwrap();
        assert_eq!(snap.steps, vec!["submit", "plan", "risks", "budget"]);
        assert_eq!(snap.event.status_detail.as_deref(), Some("budget"));

        // A replay whose last commit was committed before: the status is the last applied
        // commit's, not the batch's last; a key repeated in a batch counts once.
        let replay = vec![
            step("venue", ArtifactType::VenueCriteria, 6),
            step("venue", ArtifactType::VenueCriteria, 6),
            step("budget", ArtifactType::BudgetBaseline, 7),
        ];
        let out = store.commit_batch(&replay, || Ok(())).await.unwrap();
        assert_eq!(
            out.outcomes,
            vec![
                CommitOutcome::Applied { seq: 5 },
                CommitOutcome::AlreadyApplied,
                CommitOutcome::AlreadyApplied
            ]
        );
        let snap = store.snapshot(id).await.unwrap();
        assert_eq!(
            snap.event.status_detail.as_deref(),
            Some("venue"),
            "{}",
            store.backend()
        );
        assert_eq!(snap.decision_count, 5, "the skipped commits wrote nothing");

        // The logs are stored as one run per log per transaction (four transactions wrote
        // entries) and read back one entry per row, numbered and timed as written.
        assert_eq!(
            store
                .change_log(id)
                .await
                .unwrap()
                .into_iter()
                .map(|c| c.id.to_string())
                .collect::<Vec<_>>(),
            [1, 2, 3, 4, 6]
                .iter()
                .map(|n| ChangeId::nth(*n).to_string())
                .collect::<Vec<_>>()
        );
        let runs = "SELECT (SELECT COUNT(*) FROM decision_runs WHERE event_id = $1) + (SELECT COUNT(*) FROM step_runs WHERE event_id = $1)";
        let rows = "SELECT seq, entry_id, at FROM change_log WHERE event_id = $1 ORDER BY seq";
        let tamper = [
            "UPDATE decision_runs SET entries = '[]'",
            "DELETE FROM change_runs",
            "DELETE FROM decision_log",
            "DELETE FROM step_runs",
            "UPDATE steps SET seq = 1",
        ];
        let (n_runs, numbered) = match &store {
            Store::Sqlite(s) => {
                let p = &s.pool;
                for sql in tamper {
                    assert!(sqlx::query(sql).execute(p).await.is_err(), "{sql}");
                }
                let n: (i64,) = sqlx::query_as(runs)
                    .bind(id.to_string())
                    .fetch_one(p)
                    .await
                    .unwrap();
                let r: Vec<(i64, String, chrono::DateTime<Utc>)> = sqlx::query_as(rows)
                    .bind(id.to_string())
                    .fetch_all(p)
                    .await
                    .unwrap();
                (n.0, r)
            }
            Store::Postgres(eods_store::PgStore { pool: p, .. }) => {
                for sql in tamper {
                    assert!(sqlx::query(sql).execute(p).await.is_err(), "{sql}");
                }
                let n: (i64,) = sqlx::query_as(runs)
                    .bind(id.to_string())
                    .fetch_one(p)
                    .await
                    .unwrap();
                let r: Vec<(i64, String, chrono::DateTime<Utc>)> = sqlx::query_as(rows)
                    .bind(id.to_string())
                    .fetch_all(p)
                    .await
                    .unwrap();
                (n.0, r)
            }
        };
        assert_eq!(
            n_runs,
            3 + 3,
            "{}: one run of steps and one of decisions per transaction that wrote",
            store.backend()
        );
        let at = change(1, envelope(id, ArtifactType::Timeline, 1).as_ref()).at;
        assert_eq!(
            numbered,
            (1..=5)
                .zip([1, 2, 3, 4, 6])
                .map(|(seq, n)| (seq, ChangeId::nth(n).to_string(), at))
                .collect::<Vec<_>>()
        );
        let found = store
            .audit_search(
                eods_store::AuditLog::Decisions,
                &eods_store::AuditFilter {
                    event: Some(id),
                    kind: Some("agent_step".into()),
                    who: Some("agent:event_planner".into()),
                    since: Some(at),
                    until: Some(at + chrono::Duration::seconds(1)),
                    limit: 10,
                },
            )
            .await
            .unwrap();
        assert_eq!(found.len(), 5, "{}", store.backend());
    }
}

#[tokio::test]
async fn approval_requests_decisions_and_supersessions_of_a_batch_are_written_together() {
    let (_dir, stores) = stores("approvals").await;
    for store in stores {
        let id = EventId(Uuid::now_v7());
        let at = Utc.with_ymd_and_hms(2027, 1, 1, 9, 0, 0).unwrap();
        let (old, kept, decided) = (
            approval(at + chrono::Duration::hours(48)),
            approval(at + chrono::Duration::hours(49)),
            approval(at + chrono::Duration::hours(50)),
        );
        let mut kept = kept;
        kept.gate = ApprovalGate::BudgetDecision;
        let mut decided = decided;
        decided.gate = ApprovalGate::VendorContracts;
        let decision = |a: &NewApproval, d: ApprovalDecision| ApprovalDecisionWrite {
            id: a.id,
            decision: d,
            status: ApprovalStatus::after(d),
            decided_at: at,
            decided_by: "user:ana".into(),
            comment: "ok".into(),
            directive: (d != ApprovalDecision::Approve).then(|| json!({"cap": "900"})),
        };
        let mut newer = old.clone();
        newer.id = ApprovalId(Uuid::now_v7());
        newer.artifact_revision = 2;
        let batch = vec![
            Commit {
                event_id: id,
                step_key: "submit".into(),
                at,
                create_event: Some(event_row(id)),
                approval_requests: vec![old.clone(), kept.clone(), decided.clone()],
                ..Commit::default()
            },
            Commit {
                event_id: id,
                step_key: "answers".into(),
                at,
                approval_decisions: vec![decision(&decided, ApprovalDecision::Reject)],
                approval_requests: vec![newer.clone()],
                superseded: vec![old.id, decided.id],
                ..Commit::default()
            },
        ];
        store.commit_batch(&batch, || Ok(())).await.unwrap();
        let snap = store.snapshot(id).await.unwrap();
        let status = |a: &NewApproval| {
            let row = snap.approvals.iter().find(|r| r.id == a.id).unwrap();
            (row.status, row.directive.clone())
        };
        assert_eq!(
            status(&old).0,
            ApprovalStatus::Superseded,
            "{}",
            store.backend()
        );
        assert_eq!(status(&newer).0, ApprovalStatus::Pending);
        assert_eq!(status(&kept).0, ApprovalStatus::Pending);
        assert_eq!(
            status(&decided),
            (ApprovalStatus::Rejected, Some(json!({"cap": "900"}))),
            "decided before the supersession, which leaves a decided request alone"
        );

        // A decision on a request that is no longer pending is refused and writes nothing.
        let late = Commit {
            event_id: id,
            step_key: "late".into(),
            at,
            approval_decisions: vec![
                decision(&kept, ApprovalDecision::Approve),
                decision(&old, ApprovalDecision::Approve),
            ],
            ..Commit::default()
        };
        let err = store.commit_batch(&[late], || Ok(())).await.unwrap_err();
        assert!(
            matches!(&err, StoreError::Conflict(m) if m.contains("not pending")),
            "{err}"
        );
        let snap = store.snapshot(id).await.unwrap();
        let kept_row = snap.approvals.iter().find(|r| r.id == kept.id).unwrap();
        assert_eq!(kept_row.status, ApprovalStatus::Pending, "rolled back");
        assert!(!snap.steps.contains(&"late".to_string()));
    }
}

#[tokio::test]
async fn revisions_are_append_only_and_unique() {
    let (_dir, stores) = stores("append").await;
    for store in stores {
        let id = EventId(Uuid::now_v7());
        store.create_event(&event_row(id)).await.unwrap();
        for (i, t) in ArtifactType::ALL.iter().enumerate() {
            let c = Commit {
                event_id: id,
                step_key: format!("k{i}"),
                at: Utc::now(),
                // A brief revision must be a brief: the store derives the event's summary from it.
                artifacts: vec![if *t == ArtifactType::EventBrief {
                    brief_revision(id, 1, brief_payload("Test", "Berlin", "100"))
                } else {
                    envelope(id, *t, 1)
                }],
                ..Commit::default()
            };
            store
                .commit(&c)
                .await
                .unwrap_or_else(|e| panic!("{} rejects type {t}: {e}", store.backend()));
        }
        let c = Commit {
            event_id: id,
            step_key: "k-rev2".into(),
            at: Utc::now(),
            artifacts: vec![envelope(id, ArtifactType::Timeline, 2)],
            ..Commit::default()
        };
        store.commit(&c).await.unwrap();
        // The same revision twice violates the unique key.
        let dup = Commit {
            event_id: id,
            step_key: "k-dup".into(),
            at: Utc::now(),
            artifacts: vec![envelope(id, ArtifactType::Timeline, 2)],
            ..Commit::default()
        };
        assert!(store.commit(&dup).await.is_err());
        let current = store.current_artifacts(id).await.unwrap();
        assert_eq!(current.len(), ArtifactType::ALL.len());
        assert_eq!(
            current
                .iter()
                .find(|e| e.artifact_type == ArtifactType::Timeline)
                .unwrap()
                .revision,
            2
        );
        assert_eq!(
            store
                .revisions(id, ArtifactType::Timeline)
                .await
                .unwrap()
                .len(),
            2
        );

        let update = "UPDATE artifacts SET created_by = 'user:mallory'";
        let bad_type = "INSERT INTO approvals (id, event_id, gate, artifact_type, artifact_revision, status, approver_role, requested_at, deadline) VALUES ('x', 'y', 'coffee', 'timeline', 1, 'pending', 'r', '2027-01-01T00:00:00Z', '2027-01-01T00:00:00Z')";
        match &store {
            Store::Sqlite(s) => {
                let p = &s.pool;
                assert!(sqlx::query(update).execute(p).await.is_err());
                assert!(sqlx::query(bad_type).execute(p).await.is_err());
            }
            Store::Postgres(eods_store::PgStore { pool: p, .. }) => {
                assert!(sqlx::query(update).execute(p).await.is_err());
                assert!(sqlx::query(bad_type).execute(p).await.is_err());
            }
        }
    }
}

#[tokio::test]
async fn a_bad_url_names_the_fix() {
    let err = Store::connect("mysql://localhost/x")
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("sqlite://PATH"), "{err}");
}

#[tokio::test]
async fn leases_give_each_event_to_one_instance_and_fence_its_commits() {
    let (_dir, stores) = stores("leases").await;
    for store in stores {
        let b = store.backend();
        let ids: Vec<EventId> = (0..6).map(|_| EventId(Uuid::now_v7())).collect();
        for id in &ids {
            let mut row = event_row(*id);
            row.run_status = RunStatus::Running;
            store.create_event(&row).await.unwrap();
        }
        let now = 1_000_000;
        // Two instances claim at once: every event goes to exactly one of them.
        let (a, c) = tokio::join!(
            store.claim_runnable("a", now, now + 30_000, 4),
            store.claim_runnable("c", now, now + 30_000, 4)
        );
        let (a, c) = (a.unwrap(), c.unwrap());
        assert_eq!(a.len() + c.len(), 6, "{b}: {a:?} {c:?}");
        assert!(a.iter().all(|x| !c.contains(x)), "{b}: no event twice");
        assert!(
            store
                .claim_runnable("d", now + 1, now + 30_000, 10)
                .await
                .unwrap()
                .is_empty(),
            "{b}: held leases are not claimable"
        );
        // A fenced commit applies while the lease holds and extends it...
        let mine = a.first().copied().unwrap_or_else(|| c[0]);
        let owner = if a.contains(&mine) { "a" } else { "c" };
        let fenced = |who: &str, key: &str| Commit {
            event_id: mine,
            step_key: key.into(),
            at: Utc::now(),
            fence: Some(Fence {
                owner: who.into(),
                until_ms: now + 60_000,
            }),
            ..Commit::default()
        };
        store.commit(&fenced(owner, "k1")).await.unwrap();
        assert_eq!(
            store.lease(mine).await.unwrap(),
            Some((owner.to_owned(), now + 60_000)),
            "{b}"
        );
        // ...and is refused once the lease expired and another instance took the event.
        let taken = store
            .claim_runnable("d", now + 61_000, now + 90_000, 10)
            .await
            .unwrap();
        assert!(taken.contains(&mine), "{b}: an expired lease is taken over");
        let err = store.commit(&fenced(owner, "k2")).await.unwrap_err();
        assert!(matches!(err, StoreError::LeaseLost { .. }), "{b}: {err}");
        assert!(
            !store.step_committed(mine, "k2").await.unwrap(),
            "{b}: nothing written"
        );
        store.commit(&fenced("d", "k2")).await.unwrap();
        // Releasing gives it back; only the holder can release.
        store.release_lease(mine, owner).await.unwrap();
        assert_eq!(
            store.lease(mine).await.unwrap().map(|l| l.0),
            Some("d".to_owned())
        );
        store.release_lease(mine, "d").await.unwrap();
        assert_eq!(store.lease(mine).await.unwrap(), None);
        // The waiting status is refused on a stale view of the event.
        let seq = store.snapshot(mine).await.unwrap().seq;
        store
            .commit(&Commit {
                event_id: mine,
                step_key: "k3".into(),
                at: Utc::now(),
                ..Commit::default()
            })
            .await
            .unwrap();
        assert!(
            !store
                .set_run_status_if_unchanged(
                    mine,
                    RunStatus::AwaitingApproval,
                    None,
                    None,
                    Utc::now(),
                    seq
                )
                .await
                .unwrap(),
            "{b}"
        );
        assert!(
            store
                .set_run_status_if_unchanged(
                    mine,
                    RunStatus::AwaitingApproval,
                    None,
                    None,
                    Utc::now(),
                    seq + 1
                )
                .await
                .unwrap(),
            "{b}"
        );
        store.close().await;
    }
}

#[tokio::test]
async fn a_commit_from_an_old_snapshot_is_refused_as_stale_and_writes_nothing() {
    let (_dir, stores) = stores("stale").await;
    for store in stores {
        let b = store.backend();
        let id = EventId(Uuid::now_v7());
        store.create_event(&event_row(id)).await.unwrap();
        let read = store.snapshot(id).await.unwrap().seq;
        let at = |key: &str, n: usize, expect: Option<u64>| Commit {
            event_id: id,
            step_key: key.into(),
            at: Utc::now(),
            decisions: vec![decision(n)],
            expect_seq: expect,
            ..Commit::default()
        };
        // A worker commits after the person read the event...
        store.commit(&at("worker", 1, None)).await.unwrap();
        // ...so the person's commit, numbered from the old snapshot, is refused cleanly.
        let err = store
            .commit(&at("person", 1, Some(read)))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Stale { .. }), "{b}: {err}");
        let snap = store.snapshot(id).await.unwrap();
        assert_eq!(
            (snap.decision_count, snap.step_count),
            (1, 1),
            "{b}: nothing of it was written"
        );
        // Read again and it applies.
        let outcome = store
            .commit(&at("person", 2, Some(snap.seq)))
            .await
            .unwrap();
        assert!(matches!(outcome, CommitOutcome::Applied { .. }), "{b}");
        assert_eq!(store.snapshot(id).await.unwrap().decision_count, 2, "{b}");
        // A missing event is still NotFound, not stale.
        let other = Commit {
            event_id: EventId(Uuid::now_v7()),
            ..at("x", 3, Some(0))
        };
        assert!(
            matches!(
                store.commit(&other).await.unwrap_err(),
                StoreError::NotFound(_)
            ),
            "{b}"
        );
    }
}

#[tokio::test]
async fn exchange_rates_are_imported_listed_and_replaced_by_a_later_import() {
    use chrono::NaiveDate;
    use eods_store::FxRateWrite;
    let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    let rate = |d: &str, c: &str, v: &str| FxRateWrite {
        date: day(d),
        currency: c.into(),
        per_eur: v.parse().unwrap(),
    };
    let (_dir, stores) = stores("fx").await;
    for s in stores {
        let b = s.backend();
        let t1 = Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap();
        // More rows than one INSERT batch, with exact decimals.
        let many: Vec<FxRateWrite> = (0..600)
            .map(|i| {
                let d = day("2020-01-01") + chrono::Days::new(i);
                rate(&d.to_string(), "USD", &format!("1.{:04}", 1000 + i))
            })
            .chain([
                rate("2026-10-30", "JPY", "175.68"),
                rate("2026-10-30", "KES", "150.123456789"),
            ])
            .collect();
        let first = s
            .import_fx_rates("ECB test", "eurofxref-hist.csv", t1, &many)
            .await
            .unwrap();
        assert_eq!(
            (
                first.first_date,
                first.last_date,
                first.currencies,
                first.rates
            ),
            (day("2020-01-01"), day("2026-10-30"), 3, 602),
            "{b}"
        );
        let t2 = Utc.with_ymd_and_hms(2026, 11, 3, 9, 0, 0).unwrap();
        let second = s
            .import_fx_rates(
                "Kenya test",
                "kes.csv",
                t2,
                &[rate("2026-10-30", "KES", "151")],
            )
            .await
            .unwrap();
        let imports = s.fx_imports().await.unwrap();
        assert_eq!(
            imports,
            vec![second.clone(), first.clone()],
            "{b}: newest first"
        );
        let rates = s.fx_rates().await.unwrap();
        assert_eq!(rates.len(), 602, "{b}");
        let kes = rates.iter().find(|r| r.currency == "KES").unwrap();
        assert_eq!(
            (kes.per_eur, kes.source.as_str()),
            ("151".parse().unwrap(), "Kenya test"),
            "{b}"
        );
        let jpy = rates.iter().find(|r| r.currency == "JPY").unwrap();
        assert_eq!(
            (jpy.date, jpy.per_eur.to_string(), jpy.source.as_str()),
            (day("2026-10-30"), "175.68".into(), "ECB test"),
            "{b}"
        );
        let usd_last = rates
            .iter()
            .filter(|r| r.currency == "USD")
            .map(|r| r.per_eur)
            .max()
            .unwrap();
        assert_eq!(usd_last.to_string(), "1.1599", "{b}");
        let e = s
            .import_fx_rates("x", "empty.csv", t2, &[])
            .await
            .unwrap_err();
        assert!(
            e.to_string().contains("empty.csv holds no rate"),
            "{b}: {e}"
        );
    }
}

fn place(id: &str, name: &str, city: &str) -> eods_domain::catalog::sources::VenueRecord {
    use eods_domain::catalog::sources::{Provenance, SourceKind, VenueRecord};
    let element = id.trim_start_matches("osm-").replacen('-', "/", 1);
    VenueRecord {
        id: eods_domain::ids::VenueRef(id.into()),
        name: name.into(),
        city: city.into(),
        country: String::new(),
        capacity: None,
        rooms: Vec::new(),
        day_rate: None,
        currency: None,
        amenities: None,
        accessibility: Some(vec!["step_free_access".into()]),
        address: String::new(),
        contact: String::new(),
        website: String::new(),
        phone: String::new(),
        place_kind: "theatre".into(),
        unavailable_dates: Vec::new(),
        lat: Some(60.1708213),
        lon: Some(24.9375901),
        notes: Vec::new(),
        provenance: Provenance::osm(SourceKind::Openstreetmap, element),
    }
}

#[tokio::test]
async fn imported_places_are_replaced_by_id_and_found_by_folded_city() {
    let (_dir, stores) = stores("places").await;
    for s in stores {
        let b = s.backend();
        let t1 = Utc.with_ymd_and_hms(2026, 11, 30, 9, 0, 0).unwrap();
        // More rows than one INSERT batch, in two cities spelt several ways.
        let mut first: Vec<_> = (0..250)
            .map(|i| place(&format!("osm-node-{i}"), &format!("Hall {i}"), "Helsinki"))
            .collect();
        first.push(place("osm-way-7", "Teatro", "São Paulo"));
        assert_eq!(
            s.upsert_places(&first, "Helsinki.osm.pbf", t1)
                .await
                .unwrap(),
            251,
            "{b}"
        );
        assert_eq!(s.count_places().await.unwrap(), 251, "{b}");
        let helsinki = s.places_in_city("HELSINKI").await.unwrap();
        assert_eq!(helsinki.len(), 250, "{b}");
        // The record comes back whole, ordered by id.
        let hall_0 = helsinki
            .iter()
            .find(|r| r.id.as_str() == "osm-node-0")
            .unwrap();
        assert_eq!(hall_0, &first[0], "{b}");
        assert_eq!(helsinki[0].id.as_str(), "osm-node-0", "{b}");
        let sp = s.places_in_city("sao-paulo").await.unwrap();
        assert_eq!(
            sp.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
            ["Teatro"],
            "{b}"
        );
        assert!(s.places_in_city("Espoo").await.unwrap().is_empty(), "{b}");

        // A re-import replaces by id (the name and the city changed), and the same id twice in
        // one call keeps the later record.
        let t2 = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap();
        let again = [
            place("osm-node-0", "Old name", "Helsinki"),
            place("osm-node-0", "Hall zero, renamed", "Espoo"),
        ];
        assert_eq!(
            s.upsert_places(&again, "Espoo.osm.pbf", t2).await.unwrap(),
            1,
            "{b}"
        );
        assert_eq!(s.count_places().await.unwrap(), 251, "{b}");
        assert_eq!(
            s.places_in_city("Helsinki").await.unwrap().len(),
            249,
            "{b}"
        );
        let espoo = s.places_in_city("espoo").await.unwrap();
        assert_eq!(
            espoo.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
            ["Hall zero, renamed"],
            "{b}"
        );

        // A record with an empty id is refused and nothing of the call is written.
        let bad = [
            place("osm-node-999", "Fine", "Turku"),
            place(" ", "No id", "Turku"),
        ];
        let e = s.upsert_places(&bad, "bad.osm.pbf", t2).await.unwrap_err();
        assert!(
            e.to_string()
                .contains("`No id` from bad.osm.pbf has an empty id"),
            "{b}: {e}"
        );
        assert!(s.places_in_city("Turku").await.unwrap().is_empty(), "{b}");
    }
}

fn brief_payload(title: &str, city: &str, total: &str) -> serde_json::Value {
    json!({
        "title": title, "event_type": "conference",
        "date_range": {"start": "2031-05-20", "end": "2031-05-22T18:00:00+02:00"},
        "timezone": "Europe/Berlin", "audience_size": 300,
        "location": {"city": city, "country": "DE"},
        "budget": {"total": total, "currency": "EUR"}
    })
}

fn brief_revision(event: EventId, revision: u32, payload: serde_json::Value) -> Envelope {
    Envelope {
        artifact_type: ArtifactType::EventBrief,
        derived_from: vec![],
        payload,
        ..envelope(event, ArtifactType::EventBrief, revision)
    }
}

#[tokio::test]
async fn the_summary_follows_every_brief_revision_and_a_draft_lives_only_before_the_first() {
    let (_dir, stores) = stores("summary").await;
    for store in &stores {
        let id = EventId(Uuid::now_v7());
        let mut row = event_row(id);
        row.draft = Some(json!({"title": "Draft", "location": {"city": "Bonn"}}));
        row.summary.city = Some("Bonn".into());
        store.create_event(&row).await.unwrap();
        let t = Utc.with_ymd_and_hms(2027, 1, 1, 9, 0, 0).unwrap();
        // An amendment that still misses fields replaces the draft and its summary.
        let draft = json!({"title": "Draft 2", "location": {"city": "Köln"}, "audience_size": 120});
        store
            .commit(&Commit {
                event_id: id,
                step_key: "amend:1".into(),
                at: t,
                draft: Some(draft.clone()),
                ..Commit::default()
            })
            .await
            .unwrap();
        let e = store.event(id).await.unwrap().unwrap();
        assert_eq!(e.draft, Some(draft), "{}", store.backend());
        assert_eq!(e.title, "Draft 2");
        assert_eq!(e.summary.city.as_deref(), Some("Köln"));
        assert_eq!(e.summary.audience_size, Some(120));
        assert_eq!(e.summary.currency, None);

        // Revision 1 clears the draft and writes the summary in the same commit.
        store
            .commit(&Commit {
                event_id: id,
                step_key: "amend:2".into(),
                at: t,
                artifacts: vec![brief_revision(
                    id,
                    1,
                    brief_payload("Conf", "Berlin", "50000"),
                )],
                level: Some(Level::Advanced),
                ..Commit::default()
            })
            .await
            .unwrap();
        let e = store.event(id).await.unwrap().unwrap();
        assert_eq!(e.draft, None);
        assert_eq!(e.title, "Conf");
        assert_eq!(e.level, Level::Advanced);
        assert_eq!(
            e.summary,
            BriefSummary {
                city: Some("Berlin".into()),
                country: Some("DE".into()),
                start_date: chrono::NaiveDate::from_ymd_opt(2031, 5, 20),
                end_date: chrono::NaiveDate::from_ymd_opt(2031, 5, 22),
                audience_size: Some(300),
                currency: Some("EUR".into()),
                budget_total: Some("50000".into()),
            }
        );

        // A later revision rewrites it; a draft can no longer be stored, and nothing of that
        // commit is written.
        store
            .commit(&Commit {
                event_id: id,
                step_key: "edit:event_brief@2".into(),
                at: t,
                artifacts: vec![brief_revision(
                    id,
                    2,
                    brief_payload("Conf", "Berlin", "80000"),
                )],
                ..Commit::default()
            })
            .await
            .unwrap();
        let refused = store
            .commit(&Commit {
                event_id: id,
                step_key: "amend:3".into(),
                at: t,
                decisions: vec![decision(1)],
                draft: Some(json!({"title": "Lost"})),
                ..Commit::default()
            })
            .await;
        assert!(
            matches!(refused, Err(StoreError::Conflict(_))),
            "{refused:?}"
        );
        let e = store.event(id).await.unwrap().unwrap();
        assert_eq!(e.summary.budget_total.as_deref(), Some("80000"));
        assert_eq!(e.title, "Conf");
        assert!(store.decision_log(id).await.unwrap().is_empty());
        assert!(!store.step_committed(id, "amend:3").await.unwrap());
    }
}

#[tokio::test]
async fn the_event_list_and_the_inbox_page_through_summary_rows() {
    let (_dir, stores) = stores("pages").await;
    for store in &stores {
        let mut ids = Vec::new();
        for n in 0..5u32 {
            let id = EventId(Uuid::now_v7());
            let mut row = event_row(id);
            row.created_at = Utc.with_ymd_and_hms(2027, 1, 1, 9, n, 0).unwrap();
            store.create_event(&row).await.unwrap();
            let at = row.created_at;
            store
                .commit(&Commit {
                    event_id: id,
                    step_key: "submit".into(),
                    at,
                    artifacts: vec![
                        brief_revision(id, 1, brief_payload(&format!("Event {n}"), "Lyon", "1000")),
                        envelope(id, ArtifactType::VenueScorecard, 1),
                    ],
                    // Events 1 and 3 wait for a venue decision, event 3's due first.
                    approval_requests: if n % 2 == 1 {
                        vec![approval(at + chrono::Duration::hours(i64::from(10 - n)))]
                    } else {
                        vec![]
                    },
                    ..Commit::default()
                })
                .await
                .unwrap();
            ids.push(id);
        }
        // Newest first, two per page, with each event's pending count and summary.
        let (page, total) = store
            .events_page(&EventFilter {
                limit: 2,
                offset: 0,
                ..EventFilter::default()
            })
            .await
            .unwrap();
        assert_eq!(total, 5);
        let titles: Vec<&str> = page.iter().map(|e| e.title.as_str()).collect();
        assert_eq!(titles, ["Event 4", "Event 3"], "{}", store.backend());
        assert_eq!(page[1].pending_approvals, 1);
        assert_eq!(page[0].pending_approvals, 0);
        assert_eq!(page[1].summary.city.as_deref(), Some("Lyon"));
        let (last, total) = store
            .events_page(&EventFilter {
                limit: 2,
                offset: 4,
                ..EventFilter::default()
            })
            .await
            .unwrap();
        assert_eq!(
            (last.len(), total, last[0].title.as_str()),
            (1, 5, "Event 0")
        );
        let (past, total) = store
            .events_page(&EventFilter {
                limit: 2,
                offset: 10,
                ..EventFilter::default()
            })
            .await
            .unwrap();
        assert_eq!((past.len(), total), (0, 5));

        // The inbox: the earliest deadline first (event 3's), one per page.
        let first = store.inbox(1, 0).await.unwrap();
        assert_eq!(first.total, 2);
        assert_eq!(first.items.len(), 1);
        assert_eq!(first.items[0].event_id, ids[3]);
        assert_eq!(first.items[0].event_title, "Event 3");
        assert_eq!(first.items[0].summary.budget_total.as_deref(), Some("1000"));
        let second = store.inbox(1, 1).await.unwrap();
        assert_eq!(second.items[0].event_id, ids[1]);
        assert!(store.inbox(1, 2).await.unwrap().items.is_empty());
        assert_eq!(store.pending_count().await.unwrap(), 2);

        // A newer scorecard revision without a request of its own: the old request no longer
        // waits in the inbox (it approves a revision that is not current).
        store
            .commit(&Commit {
                event_id: ids[3],
                step_key: "step:research|2".into(),
                at: Utc.with_ymd_and_hms(2027, 1, 2, 9, 0, 0).unwrap(),
                artifacts: vec![envelope(ids[3], ArtifactType::VenueScorecard, 2)],
                ..Commit::default()
            })
            .await
            .unwrap();
        let inbox = store.inbox(10, 0).await.unwrap();
        assert_eq!(inbox.total, 1);
        assert_eq!(inbox.items[0].event_id, ids[1]);
    }
}

fn approval(deadline: chrono::DateTime<Utc>) -> NewApproval {
    NewApproval {
        id: ApprovalId(Uuid::now_v7()),
        gate: ApprovalGate::VenueSelection,
        artifact_revision: 1,
        approver_role: "approver".into(),
        requested_at: deadline - chrono::Duration::hours(48),
        deadline,
        required_approvals: 1,
    }
}

/// Every rewrite the database allows is refused on the append-only tables (issue 15, finding 8):
/// an insert that replaces a row (SQLite), TRUNCATE and an upsert's update (PostgreSQL), changing
/// or deleting votes, changing a request or a final decision, deleting approvals. What the engine
/// does stays allowed: deciding a pending request and marking it escalated.
#[tokio::test]
async fn every_rewrite_of_the_audit_tables_is_refused() {
    let (_dir, stores) = stores("guards").await;
    for store in stores {
        let b = store.backend();
        let id = EventId(Uuid::now_v7());
        let at = Utc.with_ymd_and_hms(2027, 1, 1, 9, 0, 0).unwrap();
        let (pending, decided) = (
            approval(at + chrono::Duration::hours(48)),
            approval(at + chrono::Duration::hours(49)),
        );
        let mut decided = decided;
        decided.gate = ApprovalGate::BudgetDecision;
        store
            .commit(&Commit {
                event_id: id,
                step_key: "submit".into(),
                at,
                create_event: Some(event_row(id)),
                artifacts: vec![envelope(id, ArtifactType::Timeline, 1)],
                decisions: vec![decision(1)],
                approval_requests: vec![pending.clone(), decided.clone()],
                ..Commit::default()
            })
            .await
            .unwrap();
        store
            .commit(&Commit {
                event_id: id,
                step_key: "decide".into(),
                at,
                approval_decisions: vec![ApprovalDecisionWrite {
                    id: decided.id,
                    decision: ApprovalDecision::Approve,
                    status: ApprovalStatus::Approved,
                    decided_at: at,
                    decided_by: "user:ana".into(),
                    comment: "ok".into(),
                    directive: None,
                }],
                ..Commit::default()
            })
            .await
            .unwrap();
        let (p, d) = (pending.id.to_string(), decided.id.to_string());
        let vote = format!(
            "INSERT INTO approval_votes (approval_id, voter, decision, comment, at) VALUES ('{d}', 'user:ana', 'approve', 'ok', '2027-01-01T09:00:00Z')"
        );
        let allowed = [
            vote.clone(),
            format!("UPDATE approvals SET escalated_at = '2027-01-03T09:00:00Z' WHERE id = '{p}'"),
            format!("UPDATE approvals SET status = 'superseded' WHERE id = '{p}'"),
        ];
        let mut refused = vec![
            format!("UPDATE approval_votes SET decision = 'reject' WHERE approval_id = '{d}'"),
            format!("DELETE FROM approval_votes WHERE approval_id = '{d}'"),
            format!(
                "UPDATE approvals SET status = 'rejected', decision = 'reject' WHERE id = '{d}'"
            ),
            format!("UPDATE approvals SET decided_by = 'user:mallory' WHERE id = '{d}'"),
            format!("UPDATE approvals SET artifact_revision = 7 WHERE id = '{d}'"),
            format!("DELETE FROM approvals WHERE id = '{d}'"),
            "UPDATE decision_runs SET entries = '[]'".to_owned(),
            "DELETE FROM step_runs".to_owned(),
        ];
        match &store {
            Store::Sqlite(_) => refused.extend([
                "INSERT OR REPLACE INTO artifacts SELECT * FROM artifacts".to_owned(),
                "REPLACE INTO decision_runs SELECT * FROM decision_runs".to_owned(),
                "INSERT OR REPLACE INTO approval_votes SELECT * FROM approval_votes".to_owned(),
                "INSERT OR REPLACE INTO approvals SELECT * FROM approvals".to_owned(),
            ]),
            Store::Postgres(_) => refused.extend([
                "TRUNCATE change_runs".to_owned(),
                "TRUNCATE decision_runs, change_runs, step_runs".to_owned(),
                "TRUNCATE approval_votes".to_owned(),
                "INSERT INTO artifacts SELECT * FROM artifacts ON CONFLICT (id) DO UPDATE SET created_by = 'user:mallory'".to_owned(),
            ]),
        }
        let run = |sql: String| {
            let store = store.clone();
            async move {
                match &store {
                    Store::Sqlite(s) => sqlx::query(sqlx::AssertSqlSafe(sql))
                        .execute(&s.pool)
                        .await
                        .map(|_| ()),
                    Store::Postgres(eods_store::PgStore { pool: p, .. }) => {
                        sqlx::query(sqlx::AssertSqlSafe(sql))
                            .execute(p)
                            .await
                            .map(|_| ())
                    }
                }
            }
        };
        for sql in allowed {
            run(sql.clone())
                .await
                .unwrap_or_else(|e| panic!("{b}: {sql}: {e}"));
        }
        for sql in refused {
            assert!(run(sql.clone()).await.is_err(), "{b}: allowed: {sql}");
        }
        let approvals = store.approvals(id).await.unwrap();
        let kept = approvals.iter().find(|a| a.id == decided.id).unwrap();
        assert_eq!(
            (kept.status, kept.decided_by.as_deref(), kept.votes.len()),
            (ApprovalStatus::Approved, Some("user:ana"), 1),
            "{b}"
        );
    }
}

/// A database that takes no writes is recognised as such (issue 15, item 11): SQLite's
/// SQLITE_READONLY (here from `PRAGMA query_only`) and PostgreSQL's read-only transaction, so the
/// service answers 503 and turns read-only instead of failing with 500.
#[tokio::test]
async fn a_database_refusing_writes_is_recognised() {
    let (_dir, stores) = stores("readonly").await;
    for store in stores {
        let b = store.backend();
        let insert = "CREATE TABLE probe_read_only (x INTEGER)";
        let refused = match &store {
            Store::Sqlite(s) => {
                let mut c = s.pool.acquire().await.unwrap();
                sqlx::query("PRAGMA query_only = 1")
                    .execute(&mut *c)
                    .await
                    .unwrap();
                let e = sqlx::query(insert).execute(&mut *c).await.unwrap_err();
                sqlx::query("PRAGMA query_only = 0")
                    .execute(&mut *c)
                    .await
                    .unwrap();
                e
            }
            Store::Postgres(eods_store::PgStore { pool: p, .. }) => {
                let mut c = p.acquire().await.unwrap();
                sqlx::query("SET default_transaction_read_only = on")
                    .execute(&mut *c)
                    .await
                    .unwrap();
                let e = sqlx::query(insert).execute(&mut *c).await.unwrap_err();
                sqlx::query("SET default_transaction_read_only = off")
                    .execute(&mut *c)
                    .await
                    .unwrap();
                e
            }
        };
        let e = eods_store::StoreError::Query {
            context: "probe",
            source: refused,
        };
        assert!(e.is_read_only(), "{b}: {e}");
        assert!(!e.is_unstorable_value(), "{b}");
        // Another refusal is not taken for read-only.
        let other = match &store {
            Store::Sqlite(s) => sqlx::query("INSERT INTO no_such_table VALUES (1)")
                .execute(&s.pool)
                .await
                .unwrap_err(),
            Store::Postgres(eods_store::PgStore { pool: p, .. }) => {
                sqlx::query("INSERT INTO no_such_table VALUES (1)")
                    .execute(p)
                    .await
                    .unwrap_err()
            }
        };
        let e = eods_store::StoreError::Query {
            context: "probe",
            source: other,
        };
        assert!(!e.is_read_only(), "{b}: {e}");
    }
}

/// Runs `sql` on the store's database (as someone with direct access to it would).
async fn exec(store: &Store, sql: &str) -> Result<(), sqlx::Error> {
    let sql = sqlx::AssertSqlSafe(sql.to_owned());
    match store {
        Store::Sqlite(s) => sqlx::query(sql).execute(&s.pool).await.map(|_| ()),
        Store::Postgres(eods_store::PgStore { pool: p, .. }) => {
            sqlx::query(sql).execute(p).await.map(|_| ())
        }
    }
}

/// The audit chain (issue 15, finding 8): every log run names the hash of the one before, every
/// artifact revision is listed by the step that committed it, and `verify_audit` reports the
/// first broken link of each log after someone with direct access to the database (triggers
/// switched off) changes an entry, rewrites an artifact, adds one, or cuts a log short (caught
/// against heads saved earlier).
#[tokio::test]
async fn the_audit_chain_reports_the_first_broken_link() {
    let (_dir, stores) = stores("chain").await;
    for store in stores {
        let b = store.backend();
        let mut events = Vec::new();
        for _ in 0..2 {
            let id = EventId(Uuid::now_v7());
            let at = Utc.with_ymd_and_hms(2027, 1, 1, 9, 0, 0).unwrap();
            let brief = ArtifactRef {
                artifact_type: ArtifactType::EventBrief,
                revision: 1,
            };
            store
                .commit(&Commit {
                    event_id: id,
                    step_key: "submit".into(),
                    at,
                    create_event: Some(event_row(id)),
                    artifacts: vec![envelope(id, ArtifactType::Timeline, 1)],
                    decisions: vec![decision(1)],
                    changes: vec![change(1, brief)],
                    ..Commit::default()
                })
                .await
                .unwrap();
            // Two steps in one transaction, then a third: runs of several entries, chained.
            let later = |key: &str, n: usize, rev: u32| Commit {
                event_id: id,
                step_key: key.into(),
                at: at + chrono::Duration::nanoseconds(1_234_567_891),
                artifacts: vec![envelope(id, ArtifactType::Timeline, rev)],
                decisions: vec![decision(n), decision(n + 10)],
                changes: vec![change(n, brief)],
                ..Commit::default()
            };
            store
                .commit_batch(&[later("plan", 2, 2), later("research", 3, 3)], || Ok(()))
                .await
                .unwrap();
            store.commit(&later("budget", 4, 4)).await.unwrap();
            events.push(id);
        }
        let report = store.verify_audit(None, &[]).await.unwrap();
        assert!(report.intact(), "{b}: {:?}", report.breaks);
        assert_eq!(
            (
                report.events,
                report.runs_checked,
                report.entries_checked,
                report.artifacts_checked
            ),
            (2, 2 * 3 * 3, 2 * (4 + 7 + 4), 2 * 4),
            "{b}"
        );
        assert_eq!(
            (report.runs_unchained, report.artifacts_unchained),
            (0, 0),
            "{b}"
        );
        let heads = report.heads.clone();
        assert_eq!(heads.len(), 6, "{b}");

        // Someone with the database switches the guards off.
        match &store {
            Store::Sqlite(_) => {
                for t in [
                    "decision_runs_no_update",
                    "change_runs_no_delete",
                    "artifacts_no_update",
                ] {
                    exec(&store, &format!("DROP TRIGGER {t}")).await.unwrap();
                }
            }
            Store::Postgres(_) => {
                for t in ["decision_runs", "change_runs", "artifacts"] {
                    exec(&store, &format!("ALTER TABLE {t} DISABLE TRIGGER USER"))
                        .await
                        .unwrap();
                }
            }
        }
        let (one, two) = (events[0].to_string(), events[1].to_string());
        // Event one: an entry of its second decision run is reworded.
        let reworded = match &store {
            Store::Sqlite(_) => "replace(entries, 'because', 'by order')",
            Store::Postgres(_) => {
                "CAST(replace(CAST(entries AS TEXT), 'because', 'by order') AS JSON)"
            }
        };
        exec(&store, &format!("UPDATE decision_runs SET entries = {reworded} WHERE event_id = '{one}' AND first_seq = 2"))
            .await
            .unwrap();
        // Event two: revision 2 of its timeline says something else, and a revision no step
        // wrote is added.
        exec(&store, &format!("UPDATE artifacts SET created_by = 'user:mallory' WHERE event_id = '{two}' AND revision = 2")).await.unwrap();
        let report = store.verify_audit(None, &[]).await.unwrap();
        let found: Vec<(String, &str, i64, i64)> = report
            .breaks
            .iter()
            .map(|x| (x.event.clone(), x.log.as_str(), x.first_seq, x.last_seq))
            .collect();
        assert_eq!(
            found,
            vec![
                (one.clone(), "decisions", 2, 5),
                (two.clone(), "artifacts", 2, 2)
            ],
            "{b}: {:?}",
            report.breaks
        );
        assert!(
            report.breaks[0]
                .reason
                .contains("changed after it was written"),
            "{b}"
        );
        assert!(
            report.breaks[1].reason.contains("step `plan`"),
            "{b}: {}",
            report.breaks[1].reason
        );
        // Checking one event checks only it.
        let only = store.verify_audit(Some(events[1]), &[]).await.unwrap();
        assert_eq!((only.events, only.breaks.len()), (1, 1), "{b}");

        // Event two's last change run is deleted: the chain before it is intact, so only the
        // saved heads show the log was cut short.
        exec(
            &store,
            &format!("DELETE FROM change_runs WHERE event_id = '{two}' AND first_seq = 4"),
        )
        .await
        .unwrap();
        let alone = store.verify_audit(Some(events[1]), &[]).await.unwrap();
        assert!(
            alone.breaks.iter().all(|x| x.log == "artifacts"),
            "{b}: {:?}",
            alone.breaks
        );
        let against = store.verify_audit(Some(events[1]), &heads).await.unwrap();
        assert!(
            against
                .breaks
                .iter()
                .any(|x| x.log == "changes" && x.reason.contains("cut short")),
            "{b}: {:?}",
            against.breaks
        );
        // A revision no step committed.
        let mut extra = envelope(events[0], ArtifactType::Timeline, 9);
        extra.created_at = Utc.with_ymd_and_hms(2027, 1, 2, 9, 0, 0).unwrap();
        exec(&store, &format!(
            "INSERT INTO artifacts (id, event_id, artifact_type, revision, schema_version, created_at, created_by, correlation_id, derived_from, payload) VALUES ('{}', '{one}', 'timeline', 9, '1.0.0', '2027-01-02T09:00:00Z', 'user:mallory', 'c-1', '[]', '{{}}')",
            extra.id
        )).await.unwrap();
        let report = store.verify_audit(Some(events[0]), &[]).await.unwrap();
        assert!(
            report
                .breaks
                .iter()
                .any(|x| x.log == "artifacts" && x.reason.contains("not committed by any step")),
            "{b}: {:?}",
            report.breaks
        );
        // An unknown event is not found.
        assert!(matches!(
            store.verify_audit(Some(EventId(Uuid::now_v7())), &[]).await,
            Err(StoreError::NotFound(_))
        ));
    }
}

/// Retention (issue 15, item 10): only events whose run is over and in which nothing was written
/// for the retention period are candidates; a legal hold keeps one; a purge records itself (with
/// the audit heads) and then removes the event's rows, which the append-only guards allow for
/// that event only; the records and holds cannot be rewritten; saved heads of the purged event
/// check out against the purge record.
#[tokio::test]
async fn a_purge_removes_only_expired_unheld_events_and_records_itself() {
    let (_dir, stores) = stores("retention").await;
    for store in stores {
        let b = store.backend();
        let at = Utc.with_ymd_and_hms(2027, 1, 1, 9, 0, 0).unwrap();
        let mut ids = Vec::new();
        for _ in 0..3 {
            let id = EventId(Uuid::now_v7());
            let request = approval(at + chrono::Duration::hours(48));
            store
                .commit(&Commit {
                    event_id: id,
                    step_key: "submit".into(),
                    at,
                    create_event: Some(event_row(id)),
                    artifacts: vec![envelope(id, ArtifactType::Timeline, 1)],
                    decisions: vec![decision(1)],
                    changes: vec![change(
                        1,
                        ArtifactRef {
                            artifact_type: ArtifactType::Timeline,
                            revision: 1,
                        },
                    )],
                    approval_requests: vec![request.clone()],
                    votes: vec![eods_store::Vote {
                        approval_id: request.id,
                        voter: "user:ana".into(),
                        decision: ApprovalDecision::Approve,
                        comment: "ok".into(),
                        at,
                    }],
                    status: Some(StatusWrite {
                        state: LifecycleState::Postmortem,
                        run_status: RunStatus::Completed,
                        detail: None,
                        wake_at: None,
                    }),
                    ..Commit::default()
                })
                .await
                .unwrap();
            ids.push(id);
        }
        let heads = store.verify_audit(None, &[]).await.unwrap().heads;
        let later = at + chrono::Duration::days(400);
        assert!(
            store.retention_candidates(at).await.unwrap().is_empty(),
            "{b}: too recent"
        );
        store
            .place_hold(ids[0], "user:lea", "insurance claim", later)
            .await
            .unwrap();
        assert!(matches!(
            store.place_hold(ids[0], "user:lea", "again", later).await,
            Err(StoreError::Conflict(_))
        ));
        let found = store
            .retention_candidates(later - chrono::Duration::days(365))
            .await
            .unwrap();
        assert_eq!(found.len(), 3, "{b}: {found:?}");
        let held = found
            .iter()
            .find(|c| c.event == ids[0].to_string())
            .unwrap();
        assert_eq!(held.hold.as_deref(), Some("insurance claim"));
        assert!(matches!(
            store.purge_event(held, 365, "user:ops", later).await,
            Err(StoreError::Conflict(_))
        ));
        let gone = found
            .iter()
            .find(|c| c.event == ids[1].to_string())
            .unwrap();
        assert!(
            matches!(
                store.purge_event(gone, 300, "user:ops", later).await,
                Err(StoreError::Conflict(_))
            ),
            "{b}: never under 365 days"
        );
        let record = store
            .purge_event(gone, 365, "user:ops", later)
            .await
            .unwrap();
        assert_eq!(
            record.removed["counts"],
            json!({"artifact_revisions": 1, "steps": 1, "decision_entries": 1, "change_entries": 1, "approvals": 1, "votes": 1, "notifications": 0}),
            "{b}"
        );
        assert_eq!(
            record.removed["audit_heads"].as_array().unwrap().len(),
            3,
            "{b}"
        );
        assert!(store.event(ids[1]).await.unwrap().is_none(), "{b}");
        assert!(store.all_revisions(ids[1]).await.unwrap().is_empty(), "{b}");
        assert!(store.approvals(ids[1]).await.unwrap().is_empty(), "{b}");
        assert_eq!(
            store.all_revisions(ids[2]).await.unwrap().len(),
            1,
            "{b}: the others stay"
        );
        assert_eq!(
            store.purge_records().await.unwrap(),
            vec![record.clone()],
            "{b}"
        );
        // The guards still refuse deleting anything of an event without a purge record, and the
        // records and holds stay as written.
        let third = ids[2].to_string();
        for sql in [
            format!("DELETE FROM artifacts WHERE event_id = '{third}'"),
            format!("DELETE FROM decision_runs WHERE event_id = '{third}'"),
            format!("DELETE FROM approvals WHERE event_id = '{third}'"),
            format!(
                "DELETE FROM approval_votes WHERE approval_id IN (SELECT id FROM approvals WHERE event_id = '{third}')"
            ),
            "DELETE FROM retention_purges".to_owned(),
            "UPDATE retention_purges SET purged_by = 'user:mallory'".to_owned(),
            "DELETE FROM legal_holds".to_owned(),
            "UPDATE legal_holds SET reason = 'none'".to_owned(),
        ] {
            assert!(exec(&store, &sql).await.is_err(), "{b}: allowed: {sql}");
        }
        // The saved heads of the purged event check out against its purge record.
        let report = store.verify_audit(None, &heads).await.unwrap();
        assert!(report.intact(), "{b}: {:?}", report.breaks);
        assert_eq!((report.events, report.heads_purged), (2, 3), "{b}");
        // A released hold is kept on record and the event can go.
        assert!(store.release_hold(ids[0], "user:lea", later).await.unwrap());
        assert!(!store.release_hold(ids[0], "user:lea", later).await.unwrap());
        let holds = store.legal_holds().await.unwrap();
        assert_eq!(
            (holds.len(), holds[0].released_by.as_deref()),
            (1, Some("user:lea")),
            "{b}"
        );
        let found = store
            .retention_candidates(later - chrono::Duration::days(365))
            .await
            .unwrap();
        assert!(found.iter().all(|c| c.hold.is_none()), "{b}");
    }
}

/// Everything stored in the database as text: SQLite's files as bytes (the main file and its
/// write-ahead log), or every row of every PostgreSQL table as text.
async fn everything_stored(store: &Store, url: &str) -> String {
    match store {
        Store::Sqlite(_) => {
            let path = url.trim_start_matches("sqlite://");
            let mut bytes = std::fs::read(path).unwrap();
            if let Ok(wal) = std::fs::read(format!("{path}-wal")) {
                bytes.extend(wal);
            }
            String::from_utf8_lossy(&bytes).into_owned()
        }
        Store::Postgres(eods_store::PgStore { pool: p, .. }) => {
            let tables: Vec<(String,)> = sqlx::query_as(
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'",
            )
            .fetch_all(p)
            .await
            .unwrap();
            let mut all = String::new();
            for (t,) in tables {
                let (text,): (String,) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT COALESCE(string_agg(t::text, E'\\n'), '') FROM \"{t}\" t"
                )))
                .fetch_one(p)
                .await
                .unwrap();
                all.push_str(&text);
            }
            all
        }
    }
}

#[tokio::test]
async fn contracts_notes_and_contacts_are_sealed_at_rest_and_survive_a_key_rotation() {
    use eods_store::keys::{KeyConfig, MasterKey};
    use eods_store::{NewOutbox, OutboxKind};
    let dir = tempfile::tempdir().unwrap();
    let urls = eods_store::test_support::test_database_urls(dir.path(), "sealed")
        .await
        .unwrap();
    let old_key = MasterKey::generate().unwrap();
    let new_key = MasterKey::generate().unwrap();
    let old = KeyConfig::parse(&old_key, "old").unwrap();
    let both = KeyConfig::parse(&format!("{new_key}\n{old_key}\n"), "both").unwrap();
    let new = KeyConfig::parse(&new_key, "new").unwrap();
    let secrets = [
        "draft.owner@sealed.example",
        "Free until 60 days before; SECRET-POLICY",
        "TARGET-PRICE-7321.45",
        "ana@sealed.example",
        "jana@sealed.example",
    ];
    for url in &urls {
        let store = Store::connect_keyed(url, 4, old.clone()).await.unwrap();
        let id = EventId(Uuid::now_v7());
        let mut row = event_row(id);
        row.draft = Some(json!({"title": "Draft", "stakeholders": [{"contact": secrets[0]}]}));
        store.create_event(&row).await.unwrap();
        let contracts = json!({"vendors": [{"cancellation_policy": secrets[1]}]});
        let notes = json!({"entries": [{"target_price": {"amount": secrets[2]}}]});
        let mut brief = brief_payload("Sealed", "Bonn", "1000");
        brief["stakeholders"] = json!([{"name": "Ana", "role": "owner", "contact": secrets[3]}]);
        let public = json!({"note": "PUBLIC-TIMELINE-TEXT"});
        let mail = json!({"recipients": [{"name": "Jana", "email": secrets[4]}], "subject": "x"});
        let arts = [
            (ArtifactType::VendorContracts, contracts.clone()),
            (ArtifactType::VenueNegotiationNotes, notes.clone()),
            (ArtifactType::EventBrief, brief.clone()),
            (ArtifactType::Timeline, public.clone()),
        ];
        store
            .commit(&Commit {
                event_id: id,
                step_key: "sealed:1".into(),
                at: Utc.with_ymd_and_hms(2027, 1, 1, 9, 0, 0).unwrap(),
                artifacts: arts
                    .iter()
                    .map(|(t, p)| Envelope {
                        payload: p.clone(),
                        ..envelope(id, *t, 1)
                    })
                    .collect(),
                outbox: vec![NewOutbox {
                    id: Uuid::now_v7(),
                    kind: OutboxKind::ApprovalRequested,
                    dedupe_key: format!("sealed:{id}"),
                    payload: mail.clone(),
                }],
                ..Commit::default()
            })
            .await
            .unwrap();
        let stored = everything_stored(&store, url).await;
        for s in secrets {
            assert!(!stored.contains(s), "{url}: `{s}` is stored in plaintext");
        }
        // The search would find what is not sealed.
        assert!(stored.contains("PUBLIC-TIMELINE-TEXT"), "{url}");
        // Read back, every value is whole; the audit chain (over what is stored) holds.
        for (t, p) in &arts {
            assert_eq!(
                &store.current_of(id, *t).await.unwrap().unwrap().payload,
                p,
                "{url} {t}"
            );
        }
        let outbox = store.outbox(Some(id)).await.unwrap();
        assert_eq!(outbox[0].payload, mail, "{url}");
        let other = EventId(Uuid::now_v7());
        let mut row2 = event_row(other);
        row2.draft = Some(json!({"title": "Other", "stakeholders": [{"contact": secrets[0]}]}));
        store.create_event(&row2).await.unwrap();
        assert_eq!(
            store.event(other).await.unwrap().unwrap().draft,
            row2.draft,
            "{url}"
        );
        let report = store.verify_audit(None, &[]).await.unwrap();
        assert!(report.breaks.is_empty(), "{url}: {:?}", report.breaks);
        store.close().await;

        // Rotation: the new master key first, the old one after it; then the new one alone.
        let rotating = Store::connect_keyed(url, 4, both.clone()).await.unwrap();
        let r = rotating.rotate_keys(true).await.unwrap();
        assert_eq!(r.rewrapped.len(), 1, "{url}: {r:?}");
        assert_eq!(r.master_key_id, new.active().id());
        let fresh = r.new_data_key.clone().unwrap();
        rotating.close().await;
        let after = Store::connect_keyed(url, 4, new.clone()).await.unwrap();
        for (t, p) in &arts {
            assert_eq!(
                &after.current_of(id, *t).await.unwrap().unwrap().payload,
                p,
                "{url} {t}"
            );
        }
        let keys = after.data_keys().await.unwrap();
        assert!(
            keys.iter()
                .all(|k| k.usable && k.master_key_id == new.active().id()),
            "{keys:?}"
        );
        assert!(keys.iter().any(|k| k.id == fresh && k.active), "{keys:?}");
        after.close().await;
        // The old key alone no longer opens the database, and the error names what it needs.
        let e = Store::connect_keyed(url, 4, old.clone()).await.unwrap_err();
        assert!(matches!(e, StoreError::Keys(_)), "{e}");
        assert!(e.to_string().contains(new.active().id()), "{e}");
    }
}
