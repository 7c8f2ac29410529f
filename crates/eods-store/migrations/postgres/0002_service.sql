-- EODS schema, version 2: what the HTTP service needs. Leases let several `eods serve` processes
-- share runs (times in milliseconds since the Unix epoch, compared in SQL); API tokens are stored
-- as argon2 hashes; the outbox holds notifications until a webhook has taken them; approval votes
-- count towards a quorum.

ALTER TABLE events ADD COLUMN lease_owner TEXT;
ALTER TABLE events ADD COLUMN lease_until BIGINT;
-- Bumped by every commit: a status written on a stale view of the event can be refused.
ALTER TABLE events ADD COLUMN seq BIGINT NOT NULL DEFAULT 0;
CREATE INDEX events_runnable ON events (run_status, lease_until);

ALTER TABLE approvals ADD COLUMN required_approvals BIGINT NOT NULL DEFAULT 1 CHECK (required_approvals >= 1);

CREATE TABLE approval_votes (
    approval_id TEXT NOT NULL REFERENCES approvals(id),
    voter       TEXT NOT NULL,
    decision    TEXT NOT NULL CHECK (decision IN ('approve','reject','request_changes')),
    comment     TEXT NOT NULL,
    at          TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (approval_id, voter)
);

CREATE TABLE api_tokens (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('admin','planner','approver','viewer')),
    contracts   BOOLEAN NOT NULL,
    secret_hash TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    revoked_at  TIMESTAMPTZ
);

CREATE TABLE outbox (
    id              TEXT PRIMARY KEY,
    event_id        TEXT NOT NULL REFERENCES events(id),
    kind            TEXT NOT NULL CHECK (kind IN ('approval_requested','approval_escalated','run_stopped')),
    dedupe_key      TEXT NOT NULL UNIQUE,
    payload         JSONB NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending','delivered','dead')),
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_ms BIGINT NOT NULL,
    claimed_by      TEXT,
    claimed_until   BIGINT,
    delivered_at    TIMESTAMPTZ,
    last_error      TEXT
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_ms);
