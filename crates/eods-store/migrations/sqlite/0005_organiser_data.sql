-- EODS schema, version 5: the organiser_data artifact (the organiser's venue list, rate cards and
-- quotes for one event, written by Engine::supply) joins the artifact types an artifact row may
-- have. SQLite cannot change a CHECK constraint in place, so the append-only table is copied into
-- a new one with the wider list, then its index and append-only triggers are made again.

CREATE TABLE artifacts_v5 (
    id             TEXT PRIMARY KEY,
    event_id       TEXT NOT NULL REFERENCES events(id),
    artifact_type  TEXT NOT NULL CHECK (artifact_type IN ('event_brief','requirements','stakeholder_map','timeline','task_register','risk_register','communications_plan','venue_criteria','venue_leads','venue_shortlist','venue_scorecard','venue_availability','venue_negotiation_notes','budget_baseline','cost_model','budget_decision','logistics_plan','schedule','resource_roster','contingency_plan','vendor_contracts','change_log','decision_log','agent_trace','runbook','incident_log','postmortem','organiser_data')),
    revision       INTEGER NOT NULL CHECK (revision >= 1),
    schema_version TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    created_by     TEXT NOT NULL,
    correlation_id TEXT NOT NULL,
    derived_from   TEXT NOT NULL,
    payload        TEXT NOT NULL,
    UNIQUE (event_id, artifact_type, revision)
);
INSERT INTO artifacts_v5 (id, event_id, artifact_type, revision, schema_version, created_at, created_by, correlation_id, derived_from, payload)
    SELECT id, event_id, artifact_type, revision, schema_version, created_at, created_by, correlation_id, derived_from, payload FROM artifacts;
DROP TABLE artifacts;
ALTER TABLE artifacts_v5 RENAME TO artifacts;
CREATE INDEX artifacts_current ON artifacts (event_id, artifact_type, revision DESC);
CREATE TRIGGER artifacts_no_update BEFORE UPDATE ON artifacts BEGIN SELECT RAISE(ABORT, 'artifacts are append-only'); END;
CREATE TRIGGER artifacts_no_delete BEFORE DELETE ON artifacts BEGIN SELECT RAISE(ABORT, 'artifacts are append-only'); END;
