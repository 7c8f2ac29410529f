-- EODS schema, version 2: what the HTTP service needs. Leases let several `eods serve` processes
-- share runs (times in milliseconds since the Unix epoch, compared in SQL); API tokens are stored
-- as argon2 hashes; the outbox holds notifications until a webhook has taken them; approval votes
-- count towards a quorum.

ALTER TABLE events ADD COLUMN lease_owner TEXT;
ALTER TABLE events ADD COLUMN lease_until INTEGER;
-- Bumped by every commit: a status written on a stale view of the event can be refused.
ALTER TABLE events ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
CREATE INDEX events_runnable ON events (run_status, lease_until);

ALTER TABLE approvals ADD COLUMN required_approvals INTEGER NOT NULL DEFAULT 1 CHECK (required_approvals >= 1);

CREATE TABLE approval_votes (
    approval_id TEXT NOT NULL REFERENCES approvals(id),
    voter       TEXT NOT NULL,
    decision    TEXT NOT NULL CHECK (decision IN ('approve','reject','request_changes')),
    comment     TEXT NOT NULL,
    at          TEXT NOT NULL,
    PRIMARY KEY (approval_id, voter)
);

CREATE TABLE api_tokens (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('admin','planner','approver','viewer')),
    contracts   INTEGER NOT NULL CHECK (contracts IN (0, 1)),
    secret_hash TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    revoked_at  TEXT
);

CREATE TABLE outbox (
    id              TEXT PRIMARY KEY,
    event_id        TEXT NOT NULL REFERENCES events(id),
    kind            TEXT NOT NULL CHECK (kind IN ('approval_requested','approval_escalated','run_stopped')),
    dedupe_key      TEXT NOT NULL UNIQUE,
    payload         TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending','delivered','dead')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER NOT NULL,
    claimed_by      TEXT,
    claimed_until   INTEGER,
    delivered_at    TEXT,
    last_error      TEXT
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_ms);
