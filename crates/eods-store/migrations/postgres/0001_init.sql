-- EODS schema, version 1. Enum columns carry CHECK constraints listing every allowed value;
-- artifact revisions and both audit logs are append-only (triggers below refuse UPDATE/DELETE).

CREATE TABLE events (
    id            TEXT PRIMARY KEY,
    title         TEXT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('initiate','plan','research','budget','logistics','confirm','execute','postmortem')),
    run_status    TEXT NOT NULL CHECK (run_status IN ('idle','running','needs_input','awaiting_approval','blocked','paused','failed','cancelled','completed')),
    level         TEXT NOT NULL CHECK (level IN ('beginner','intermediate','advanced')),
    status_detail TEXT,
    brief         JSONB NOT NULL,
    options       JSONB NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE artifacts (
    id             TEXT PRIMARY KEY,
    event_id       TEXT NOT NULL REFERENCES events(id),
    artifact_type  TEXT NOT NULL CHECK (artifact_type IN ('event_brief','requirements','stakeholder_map','timeline','task_register','risk_register','communications_plan','venue_criteria','venue_leads','venue_shortlist','venue_scorecard','venue_availability','venue_negotiation_notes','budget_baseline','cost_model','budget_decision','logistics_plan','schedule','resource_roster','contingency_plan','vendor_contracts','change_log','decision_log','agent_trace','runbook','incident_log','postmortem')),
    revision       BIGINT NOT NULL CHECK (revision >= 1),
    schema_version TEXT NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    created_by     TEXT NOT NULL,
    correlation_id TEXT NOT NULL,
    derived_from   JSONB NOT NULL,
    payload        JSONB NOT NULL,
    UNIQUE (event_id, artifact_type, revision)
);

-- One row per committed engine step; the key makes a retried step a no-op.
CREATE TABLE steps (
    event_id     TEXT NOT NULL REFERENCES events(id),
    step_key     TEXT NOT NULL,
    seq          BIGINT NOT NULL,
    committed_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (event_id, step_key),
    UNIQUE (event_id, seq)
);

CREATE TABLE decision_log (
    event_id TEXT NOT NULL REFERENCES events(id),
    seq      BIGINT NOT NULL,
    entry_id TEXT NOT NULL,
    at       TIMESTAMPTZ NOT NULL,
    entry    JSONB NOT NULL,
    PRIMARY KEY (event_id, seq),
    UNIQUE (event_id, entry_id)
);

CREATE TABLE change_log (
    event_id TEXT NOT NULL REFERENCES events(id),
    seq      BIGINT NOT NULL,
    entry_id TEXT NOT NULL,
    at       TIMESTAMPTZ NOT NULL,
    entry    JSONB NOT NULL,
    PRIMARY KEY (event_id, seq),
    UNIQUE (event_id, entry_id)
);

CREATE TABLE approvals (
    id                TEXT PRIMARY KEY,
    event_id          TEXT NOT NULL REFERENCES events(id),
    gate              TEXT NOT NULL CHECK (gate IN ('venue_selection','budget_decision','vendor_contracts')),
    artifact_type     TEXT NOT NULL CHECK (artifact_type IN ('event_brief','requirements','stakeholder_map','timeline','task_register','risk_register','communications_plan','venue_criteria','venue_leads','venue_shortlist','venue_scorecard','venue_availability','venue_negotiation_notes','budget_baseline','cost_model','budget_decision','logistics_plan','schedule','resource_roster','contingency_plan','vendor_contracts','change_log','decision_log','agent_trace','runbook','incident_log','postmortem')),
    artifact_revision BIGINT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('pending','approved','rejected','changes_requested','superseded')),
    approver_role     TEXT NOT NULL,
    requested_at      TIMESTAMPTZ NOT NULL,
    deadline          TIMESTAMPTZ NOT NULL,
    decided_at        TIMESTAMPTZ,
    decided_by        TEXT,
    decision          TEXT CHECK (decision IS NULL OR decision IN ('approve','reject','request_changes')),
    comment           TEXT,
    -- What the owning agent must change after a rejection (excluded candidate, cap, supplier).
    directive         JSONB,
    UNIQUE (event_id, gate, artifact_revision)
);

CREATE INDEX artifacts_current ON artifacts (event_id, artifact_type, revision DESC);
CREATE INDEX approvals_status ON approvals (status, deadline);

CREATE FUNCTION eods_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END;
$$;
CREATE TRIGGER artifacts_append_only BEFORE UPDATE OR DELETE ON artifacts FOR EACH ROW EXECUTE FUNCTION eods_append_only();
CREATE TRIGGER decision_log_append_only BEFORE UPDATE OR DELETE ON decision_log FOR EACH ROW EXECUTE FUNCTION eods_append_only();
CREATE TRIGGER change_log_append_only BEFORE UPDATE OR DELETE ON change_log FOR EACH ROW EXECUTE FUNCTION eods_append_only();
