-- Incidents reported on a live event are notified (webhook and e-mail to the owner and the
-- escalation path): `incident` joins the outbox's kinds.
-- SQLite cannot change a CHECK constraint in place: the table is rebuilt (nothing references it).
CREATE TABLE outbox_new (
    id                   TEXT PRIMARY KEY,
    event_id             TEXT NOT NULL REFERENCES events(id),
    kind                 TEXT NOT NULL CHECK (kind IN ('approval_requested','approval_escalated','run_stopped','task_reminder','task_overdue','incident')),
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
