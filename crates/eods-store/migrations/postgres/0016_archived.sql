-- Archived events: kept with everything they hold, hidden from lists by default. NULL: not
-- archived. Set and cleared by a commit that also writes the ChangeLog entry saying who did it.
ALTER TABLE events ADD COLUMN archived_at TIMESTAMPTZ;
