-- One brief: the event_brief artifact. The events row keeps no copy of it that could disagree.
-- `brief_draft` holds an incomplete brief (or the submitted one until revision 1 commits) only
-- while the event has no event_brief artifact; the commit that writes revision 1 clears it.
-- The summary columns are a derived index of the current brief (or of the draft), rewritten in
-- the transaction of every brief revision, so lists and the inbox read no artifact payloads.
-- SQLite drops a column by rebuilding the table itself (ALTER TABLE … DROP COLUMN, 3.35+); a
-- hand-written rebuild as in 0005 would have to DROP the events table, which every other table
-- references, so that cannot be done with foreign keys on inside the migration's transaction.
ALTER TABLE events ADD COLUMN brief_draft TEXT;
ALTER TABLE events ADD COLUMN city TEXT;
ALTER TABLE events ADD COLUMN country TEXT;
ALTER TABLE events ADD COLUMN start_date TEXT;
ALTER TABLE events ADD COLUMN end_date TEXT;
ALTER TABLE events ADD COLUMN audience_size INTEGER;
ALTER TABLE events ADD COLUMN currency TEXT;
-- A decimal as text, shown as written; never computed with in SQL.
ALTER TABLE events ADD COLUMN budget_total TEXT;

-- Events without a brief revision keep what was submitted or amended as their draft.
UPDATE events SET brief_draft = brief
    WHERE NOT EXISTS (SELECT 1 FROM artifacts a WHERE a.event_id = events.id AND a.artifact_type = 'event_brief');

-- The summary of each event: from its current brief revision, else from its draft. (Days of
-- date-times are taken as written; new revisions compute them in the event's time zone.)
UPDATE events SET
    title = COALESCE(json_extract(src.p, '$.title'), events.title),
    city = json_extract(src.p, '$.location.city'),
    country = json_extract(src.p, '$.location.country'),
    start_date = substr(json_extract(src.p, '$.date_range.start'), 1, 10),
    end_date = substr(json_extract(src.p, '$.date_range.end'), 1, 10),
    audience_size = CASE WHEN json_type(src.p, '$.audience_size') = 'integer' THEN json_extract(src.p, '$.audience_size') END,
    currency = json_extract(src.p, '$.budget.currency'),
    budget_total = CAST(json_extract(src.p, '$.budget.total') AS TEXT)
FROM (
    SELECT e.id AS id, COALESCE(
        (SELECT a.payload FROM artifacts a WHERE a.event_id = e.id AND a.artifact_type = 'event_brief' ORDER BY a.revision DESC LIMIT 1),
        e.brief_draft) AS p
    FROM events e
) AS src
WHERE src.id = events.id AND src.p IS NOT NULL AND json_valid(src.p);

ALTER TABLE events DROP COLUMN brief;

-- The dashboard and the event list page through events newest first, with each event's pending
-- approval count (by event, not by scanning every pending request).
CREATE INDEX events_newest ON events (created_at DESC, id DESC);
CREATE INDEX approvals_event_status ON approvals (event_id, status);
