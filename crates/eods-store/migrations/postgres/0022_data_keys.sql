-- Encryption at rest (issue 15, item 9): the data keys that seal contracts, negotiation notes,
-- briefs and contact details, each wrapped (AES-256-GCM) by a master key that never enters the
-- database. `master_key_id` names the master key (derived from it); `eods keys rotate` re-wraps a
-- row under a new master key, which is the only change a row ever sees. A data key is never
-- removed: the values sealed under it would be lost.
CREATE TABLE data_keys (
    id            TEXT PRIMARY KEY,
    master_key_id TEXT NOT NULL,
    wrapped       TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    rewrapped_at  TIMESTAMPTZ
);
CREATE FUNCTION eods_data_key_rewrap_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id IS DISTINCT FROM OLD.id OR NEW.created_at IS DISTINCT FROM OLD.created_at THEN
        RAISE EXCEPTION 'a data key is only ever re-wrapped';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER data_keys_only_rewrapped BEFORE UPDATE ON data_keys FOR EACH ROW EXECUTE FUNCTION eods_data_key_rewrap_only();
CREATE TRIGGER data_keys_no_delete BEFORE DELETE ON data_keys FOR EACH ROW EXECUTE FUNCTION eods_append_only();
CREATE TRIGGER data_keys_no_truncate BEFORE TRUNCATE ON data_keys FOR EACH STATEMENT EXECUTE FUNCTION eods_append_only();
