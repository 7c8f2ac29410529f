-- A durable timer per event: a run that waits for a time (a live event before its start, or
-- before its end) keeps run_status 'running' with wake_at set, in milliseconds since the epoch.
-- Workers claim it only once the time has come, on any instance and after restarts; the commit
-- that acts on it writes its own status and clears or moves the timer.
ALTER TABLE events ADD COLUMN wake_at INTEGER;
