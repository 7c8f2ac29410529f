-- Artifacts and audit entries are written once and read whole: they are stored as `json` (checked
-- on the way in, kept as sent) instead of `jsonb`, whose conversion on every insert and back to
-- text on every read was a large part of the database's work per event. Where the server can,
-- large values are compressed with lz4, which is several times cheaper than the default pglz.
ALTER TABLE artifacts
    ALTER COLUMN payload TYPE json USING payload::json,
    ALTER COLUMN derived_from TYPE json USING derived_from::json;
ALTER TABLE decision_log ALTER COLUMN entry TYPE json USING entry::json;
ALTER TABLE change_log ALTER COLUMN entry TYPE json USING entry::json;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) THEN
        ALTER TABLE artifacts ALTER COLUMN payload SET COMPRESSION lz4;
        ALTER TABLE decision_log ALTER COLUMN entry SET COMPRESSION lz4;
        ALTER TABLE change_log ALTER COLUMN entry SET COMPRESSION lz4;
    END IF;
END
$$;
