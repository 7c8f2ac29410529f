-- Audit integrity (issue 15, finding 8): every append-only table refuses every rewrite the
-- database allows. An insert that would replace a row (SQLite's INSERT OR REPLACE, REPLACE INTO)
-- is refused like an update; approval votes are never changed or removed; an approval's request
-- never changes and its decision is final once made; approvals are never deleted.
CREATE TRIGGER artifacts_no_replace BEFORE INSERT ON artifacts WHEN EXISTS (SELECT 1 FROM artifacts WHERE id = NEW.id) OR EXISTS (SELECT 1 FROM artifacts WHERE (event_id = NEW.event_id AND artifact_type = NEW.artifact_type AND revision = NEW.revision)) BEGIN SELECT RAISE(ABORT, 'artifacts is append-only: a row is never replaced'); END;
CREATE TRIGGER decision_runs_no_replace BEFORE INSERT ON decision_runs WHEN EXISTS (SELECT 1 FROM decision_runs WHERE event_id = NEW.event_id AND first_seq = NEW.first_seq) BEGIN SELECT RAISE(ABORT, 'decision_runs is append-only: a row is never replaced'); END;
CREATE TRIGGER change_runs_no_replace BEFORE INSERT ON change_runs WHEN EXISTS (SELECT 1 FROM change_runs WHERE event_id = NEW.event_id AND first_seq = NEW.first_seq) BEGIN SELECT RAISE(ABORT, 'change_runs is append-only: a row is never replaced'); END;
CREATE TRIGGER step_runs_no_replace BEFORE INSERT ON step_runs WHEN EXISTS (SELECT 1 FROM step_runs WHERE event_id = NEW.event_id AND first_seq = NEW.first_seq) BEGIN SELECT RAISE(ABORT, 'step_runs is append-only: a row is never replaced'); END;
CREATE TRIGGER approval_votes_no_replace BEFORE INSERT ON approval_votes WHEN EXISTS (SELECT 1 FROM approval_votes WHERE approval_id = NEW.approval_id AND voter = NEW.voter) BEGIN SELECT RAISE(ABORT, 'approval_votes is append-only: a row is never replaced'); END;
CREATE TRIGGER approvals_no_replace BEFORE INSERT ON approvals WHEN EXISTS (SELECT 1 FROM approvals WHERE id = NEW.id) OR EXISTS (SELECT 1 FROM approvals WHERE (event_id = NEW.event_id AND gate = NEW.gate AND artifact_revision = NEW.artifact_revision)) BEGIN SELECT RAISE(ABORT, 'approvals is append-only: a row is never replaced'); END;
CREATE TRIGGER approval_votes_no_update BEFORE UPDATE ON approval_votes BEGIN SELECT RAISE(ABORT, 'approval_votes is append-only'); END;
CREATE TRIGGER approval_votes_no_delete BEFORE DELETE ON approval_votes BEGIN SELECT RAISE(ABORT, 'approval_votes is append-only'); END;
CREATE TRIGGER approvals_no_delete BEFORE DELETE ON approvals BEGIN SELECT RAISE(ABORT, 'approvals are kept'); END;
CREATE TRIGGER approvals_final BEFORE UPDATE ON approvals WHEN NEW.id IS NOT OLD.id OR NEW.event_id IS NOT OLD.event_id OR NEW.gate IS NOT OLD.gate
  OR NEW.artifact_type IS NOT OLD.artifact_type OR NEW.artifact_revision IS NOT OLD.artifact_revision
  OR NEW.approver_role IS NOT OLD.approver_role OR NEW.requested_at IS NOT OLD.requested_at
  OR NEW.deadline IS NOT OLD.deadline OR NEW.required_approvals IS NOT OLD.required_approvals
  OR (OLD.escalated_at IS NOT NULL AND NEW.escalated_at IS NOT OLD.escalated_at)
  OR (OLD.status <> 'pending' AND (NEW.status IS NOT OLD.status OR NEW.decided_at IS NOT OLD.decided_at
      OR NEW.decided_by IS NOT OLD.decided_by OR NEW.decision IS NOT OLD.decision
      OR NEW.comment IS NOT OLD.comment OR NEW.directive IS NOT OLD.directive))
BEGIN SELECT RAISE(ABORT, 'an approval request never changes and its decision is final'); END;
