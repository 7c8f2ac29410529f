-- Retention (issue 15, item 10). A purge removes a whole event whose retention ran out: its
-- artifacts, log runs, approvals and votes, notifications and the event row. It first writes a
-- `retention_purges` row (what was removed, when, by whom, under which retention, and the audit
-- heads of the event's logs); the append-only guards let a delete through only for an event that
-- has that row, so nothing else can remove audit rows. Legal holds keep an event from any purge
-- while they last (history kept: a hold is released, never deleted).
CREATE TABLE retention_purges (
    event_id       TEXT PRIMARY KEY,
    title          TEXT NOT NULL,
    last_activity  TIMESTAMPTZ NOT NULL,
    retention_days BIGINT NOT NULL CHECK (retention_days >= 365),
    purged_at      TIMESTAMPTZ NOT NULL,
    purged_by      TEXT NOT NULL,
    removed        JSONB NOT NULL
);
CREATE TABLE legal_holds (
    event_id    TEXT NOT NULL,
    placed_at   TIMESTAMPTZ NOT NULL,
    placed_by   TEXT NOT NULL,
    reason      TEXT NOT NULL,
    released_at TIMESTAMPTZ,
    released_by TEXT,
    PRIMARY KEY (event_id, placed_at)
);
CREATE TRIGGER retention_purges_append_only BEFORE UPDATE OR DELETE ON retention_purges FOR EACH ROW EXECUTE FUNCTION eods_append_only();
CREATE TRIGGER retention_purges_no_truncate BEFORE TRUNCATE ON retention_purges FOR EACH STATEMENT EXECUTE FUNCTION eods_append_only();
CREATE FUNCTION eods_legal_hold_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' OR NEW.event_id IS DISTINCT FROM OLD.event_id OR NEW.placed_at IS DISTINCT FROM OLD.placed_at
       OR NEW.placed_by IS DISTINCT FROM OLD.placed_by OR NEW.reason IS DISTINCT FROM OLD.reason
       OR OLD.released_at IS NOT NULL THEN
        RAISE EXCEPTION 'a legal hold is kept: it can only be released, once';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER legal_holds_kept BEFORE UPDATE OR DELETE ON legal_holds FOR EACH ROW EXECUTE FUNCTION eods_legal_hold_kept();

-- The append-only guard lets a purge's deletes through, and nothing else.
CREATE OR REPLACE FUNCTION eods_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF TG_TABLE_NAME = 'approval_votes' THEN
            IF EXISTS (SELECT 1 FROM approvals a JOIN retention_purges p ON p.event_id = a.event_id WHERE a.id = OLD.approval_id) THEN
                RETURN OLD;
            END IF;
        ELSIF TG_TABLE_NAME <> 'retention_purges' THEN
            IF EXISTS (SELECT 1 FROM retention_purges p WHERE p.event_id = OLD.event_id) THEN
                RETURN OLD;
            END IF;
        END IF;
    END IF;
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END;
$$;
