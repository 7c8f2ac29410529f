-- The summary an approver reads, when a language model wrote it (issue 16): its text, checked
-- against the gate's artifacts (every number it states is theirs), and who wrote it
-- (`model:NAME`). Empty: the engine's own summary is shown. Written once, after the request.
ALTER TABLE approvals ADD COLUMN summary TEXT;
ALTER TABLE approvals ADD COLUMN summary_by TEXT;
