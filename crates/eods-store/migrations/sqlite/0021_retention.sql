-- Retention (issue 15, item 10). A purge removes a whole event whose retention ran out: its
-- artifacts, log runs, approvals and votes, notifications and the event row. It first writes a
-- `retention_purges` row (what was removed, when, by whom, under which retention, and the audit
-- heads of the event's logs); the append-only guards let a delete through only for an event that
-- has that row, so nothing else can remove audit rows. Legal holds keep an event from any purge
-- while they last (history kept: a hold is released, never deleted).
CREATE TABLE retention_purges (
    event_id       TEXT PRIMARY KEY,
    title          TEXT NOT NULL,
    last_activity  TEXT NOT NULL,
    retention_days INTEGER NOT NULL CHECK (retention_days >= 365),
    purged_at      TEXT NOT NULL,
    purged_by      TEXT NOT NULL,
    removed        TEXT NOT NULL
);
CREATE TABLE legal_holds (
    event_id    TEXT NOT NULL,
    placed_at   TEXT NOT NULL,
    placed_by   TEXT NOT NULL,
    reason      TEXT NOT NULL,
    released_at TEXT,
    released_by TEXT,
    PRIMARY KEY (event_id, placed_at)
);
CREATE TRIGGER retention_purges_no_update BEFORE UPDATE ON retention_purges BEGIN SELECT RAISE(ABORT, 'retention_purges is append-only'); END;
CREATE TRIGGER retention_purges_no_delete BEFORE DELETE ON retention_purges BEGIN SELECT RAISE(ABORT, 'retention_purges is append-only'); END;
CREATE TRIGGER retention_purges_no_replace BEFORE INSERT ON retention_purges WHEN EXISTS (SELECT 1 FROM retention_purges WHERE event_id = NEW.event_id) BEGIN SELECT RAISE(ABORT, 'retention_purges is append-only: a row is never replaced'); END;
CREATE TRIGGER legal_holds_no_delete BEFORE DELETE ON legal_holds BEGIN SELECT RAISE(ABORT, 'a legal hold is kept: it can only be released, once'); END;
CREATE TRIGGER legal_holds_no_replace BEFORE INSERT ON legal_holds WHEN EXISTS (SELECT 1 FROM legal_holds WHERE event_id = NEW.event_id AND placed_at = NEW.placed_at) BEGIN SELECT RAISE(ABORT, 'a legal hold is kept: it can only be released, once'); END;
CREATE TRIGGER legal_holds_kept BEFORE UPDATE ON legal_holds WHEN NEW.event_id IS NOT OLD.event_id OR NEW.placed_at IS NOT OLD.placed_at
  OR NEW.placed_by IS NOT OLD.placed_by OR NEW.reason IS NOT OLD.reason OR OLD.released_at IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'a legal hold is kept: it can only be released, once'); END;

-- The append-only guards let a purge's deletes through, and nothing else.
DROP TRIGGER artifacts_no_delete;
DROP TRIGGER decision_runs_no_delete;
DROP TRIGGER change_runs_no_delete;
DROP TRIGGER step_runs_no_delete;
DROP TRIGGER approvals_no_delete;
DROP TRIGGER approval_votes_no_delete;
CREATE TRIGGER artifacts_no_delete BEFORE DELETE ON artifacts WHEN NOT EXISTS (SELECT 1 FROM retention_purges WHERE event_id = OLD.event_id) BEGIN SELECT RAISE(ABORT, 'artifacts are append-only'); END;
CREATE TRIGGER decision_runs_no_delete BEFORE DELETE ON decision_runs WHEN NOT EXISTS (SELECT 1 FROM retention_purges WHERE event_id = OLD.event_id) BEGIN SELECT RAISE(ABORT, 'decision_runs is append-only'); END;
CREATE TRIGGER change_runs_no_delete BEFORE DELETE ON change_runs WHEN NOT EXISTS (SELECT 1 FROM retention_purges WHERE event_id = OLD.event_id) BEGIN SELECT RAISE(ABORT, 'change_runs is append-only'); END;
CREATE TRIGGER step_runs_no_delete BEFORE DELETE ON step_runs WHEN NOT EXISTS (SELECT 1 FROM retention_purges WHERE event_id = OLD.event_id) BEGIN SELECT RAISE(ABORT, 'step_runs is append-only'); END;
CREATE TRIGGER approvals_no_delete BEFORE DELETE ON approvals WHEN NOT EXISTS (SELECT 1 FROM retention_purges WHERE event_id = OLD.event_id) BEGIN SELECT RAISE(ABORT, 'approvals are kept'); END;
CREATE TRIGGER approval_votes_no_delete BEFORE DELETE ON approval_votes WHEN NOT EXISTS (SELECT 1 FROM approvals a JOIN retention_purges p ON p.event_id = a.event_id WHERE a.id = OLD.approval_id) BEGIN SELECT RAISE(ABORT, 'approval_votes is append-only'); END;
