-- Drafts of the words people send (issue 16): the message_drafts artifact type, and `message`
-- notifications, which carry an approved draft to its recipient (never an unapproved one).
-- SQLite cannot alter a CHECK constraint, so both tables are rebuilt with the new value allowed,
-- rows kept, and the artifacts' guards (0005, 0019, 0021) created again as they stood.
DROP TRIGGER artifacts_no_update;
DROP TRIGGER artifacts_no_delete;
DROP TRIGGER artifacts_no_replace;
CREATE TABLE artifacts_next (
    id             TEXT PRIMARY KEY,
    event_id       TEXT NOT NULL REFERENCES events(id),
    artifact_type  TEXT NOT NULL CHECK (artifact_type IN ('event_brief','requirements','stakeholder_map','timeline','task_register','risk_register','communications_plan','venue_criteria','venue_leads','venue_shortlist','venue_scorecard','venue_availability','venue_negotiation_notes','budget_baseline','cost_model','budget_decision','logistics_plan','schedule','resource_roster','contingency_plan','vendor_contracts','change_log','decision_log','agent_trace','runbook','incident_log','postmortem','organiser_data','message_drafts')),
    revision       INTEGER NOT NULL CHECK (revision >= 1),
    schema_version TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    created_by     TEXT NOT NULL,
    correlation_id TEXT NOT NULL,
    derived_from   TEXT NOT NULL,
    payload        TEXT NOT NULL,
    UNIQUE (event_id, artifact_type, revision)
);
INSERT INTO artifacts_next (id, event_id, artifact_type, revision, schema_version, created_at, created_by, correlation_id, derived_from, payload)
    SELECT id, event_id, artifact_type, revision, schema_version, created_at, created_by, correlation_id, derived_from, payload FROM artifacts;
DROP TABLE artifacts;
ALTER TABLE artifacts_next RENAME TO artifacts;
CREATE TRIGGER artifacts_no_update BEFORE UPDATE ON artifacts BEGIN SELECT RAISE(ABORT, 'artifacts are append-only'); END;
CREATE TRIGGER artifacts_no_delete BEFORE DELETE ON artifacts WHEN NOT EXISTS (SELECT 1 FROM retention_purges WHERE event_id = OLD.event_id) BEGIN SELECT RAISE(ABORT, 'artifacts are append-only'); END;
CREATE TRIGGER artifacts_no_replace BEFORE INSERT ON artifacts WHEN EXISTS (SELECT 1 FROM artifacts WHERE id = NEW.id) OR EXISTS (SELECT 1 FROM artifacts WHERE (event_id = NEW.event_id AND artifact_type = NEW.artifact_type AND revision = NEW.revision)) BEGIN SELECT RAISE(ABORT, 'artifacts is append-only: a row is never replaced'); END;

CREATE TABLE outbox_new (
    id                   TEXT PRIMARY KEY,
    event_id             TEXT NOT NULL REFERENCES events(id),
    kind                 TEXT NOT NULL CHECK (kind IN ('approval_requested','approval_escalated','run_stopped','task_reminder','task_overdue','incident','message')),
    dedupe_key           TEXT NOT NULL UNIQUE,
    payload              TEXT NOT NULL,
    created_at           TEXT NOT NULL,
    status               TEXT NOT NULL CHECK (status IN ('pending','delivered','dead')),
    attempts             INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms      INTEGER NOT NULL,
    claimed_by           TEXT,
    claimed_until        INTEGER,
    delivered_at         TEXT,
    last_error           TEXT,
    mail_status          TEXT CHECK (mail_status IN ('pending','delivered','dead')),
    mail_attempts        INTEGER NOT NULL DEFAULT 0,
    mail_next_attempt_ms INTEGER NOT NULL DEFAULT 0,
    mail_claimed_by      TEXT,
    mail_claimed_until   INTEGER,
    mail_delivered_at    TEXT,
    mail_last_error      TEXT
);
INSERT INTO outbox_new (id, event_id, kind, dedupe_key, payload, created_at, status, attempts, next_attempt_ms, claimed_by, claimed_until, delivered_at, last_error, mail_status, mail_attempts, mail_next_attempt_ms, mail_claimed_by, mail_claimed_until, mail_delivered_at, mail_last_error)
    SELECT id, event_id, kind, dedupe_key, payload, created_at, status, attempts, next_attempt_ms, claimed_by, claimed_until, delivered_at, last_error, mail_status, mail_attempts, mail_next_attempt_ms, mail_claimed_by, mail_claimed_until, mail_delivered_at, mail_last_error
    FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (status, next_attempt_ms);
CREATE INDEX outbox_mail_due ON outbox (mail_status, mail_next_attempt_ms);
