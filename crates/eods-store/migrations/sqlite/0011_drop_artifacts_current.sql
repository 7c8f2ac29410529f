-- `artifacts_current (event_id, artifact_type, revision DESC)` repeats the unique index on
-- `(event_id, artifact_type, revision)`, which serves the same lookups (the newest revision of a
-- type is that index read backwards). Every artifact written paid for both.
DROP INDEX IF EXISTS artifacts_current;
