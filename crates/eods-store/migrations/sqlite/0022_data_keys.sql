-- Encryption at rest (issue 15, item 9): the data keys that seal contracts, negotiation notes,
-- briefs and contact details, each wrapped (AES-256-GCM) by a master key that never enters the
-- database. `master_key_id` names the master key (derived from it); `eods keys rotate` re-wraps a
-- row under a new master key, which is the only change a row ever sees. A data key is never
-- removed: the values sealed under it would be lost.
CREATE TABLE data_keys (
    id            TEXT PRIMARY KEY,
    master_key_id TEXT NOT NULL,
    wrapped       TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    rewrapped_at  TEXT
);
CREATE TRIGGER data_keys_no_delete BEFORE DELETE ON data_keys BEGIN SELECT RAISE(ABORT, 'data keys are kept: values sealed under them would be lost'); END;
CREATE TRIGGER data_keys_no_replace BEFORE INSERT ON data_keys WHEN EXISTS (SELECT 1 FROM data_keys WHERE id = NEW.id) BEGIN SELECT RAISE(ABORT, 'data keys are kept: a row is never replaced'); END;
CREATE TRIGGER data_keys_only_rewrapped BEFORE UPDATE ON data_keys WHEN NEW.id IS NOT OLD.id OR NEW.created_at IS NOT OLD.created_at BEGIN SELECT RAISE(ABORT, 'a data key is only ever re-wrapped'); END;
