-- Audit integrity (issue 15, finding 8): every append-only table refuses every rewrite the
-- database allows. TRUNCATE is refused on each; an upsert's update is refused by the update triggers;
-- approval votes are never changed or removed; an approval's request
-- never changes and its decision is final once made; approvals are never deleted.
CREATE FUNCTION eods_approval_final() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id IS DISTINCT FROM OLD.id OR NEW.event_id IS DISTINCT FROM OLD.event_id OR NEW.gate IS DISTINCT FROM OLD.gate
         OR NEW.artifact_type IS DISTINCT FROM OLD.artifact_type OR NEW.artifact_revision IS DISTINCT FROM OLD.artifact_revision
         OR NEW.approver_role IS DISTINCT FROM OLD.approver_role OR NEW.requested_at IS DISTINCT FROM OLD.requested_at
         OR NEW.deadline IS DISTINCT FROM OLD.deadline OR NEW.required_approvals IS DISTINCT FROM OLD.required_approvals
         OR (OLD.escalated_at IS NOT NULL AND NEW.escalated_at IS DISTINCT FROM OLD.escalated_at)
         OR (OLD.status <> 'pending' AND (NEW.status IS DISTINCT FROM OLD.status OR NEW.decided_at IS DISTINCT FROM OLD.decided_at
             OR NEW.decided_by IS DISTINCT FROM OLD.decided_by OR NEW.decision IS DISTINCT FROM OLD.decision
             OR NEW.comment IS DISTINCT FROM OLD.comment OR NEW.directive IS DISTINCT FROM OLD.directive)) THEN
        RAISE EXCEPTION 'an approval request never changes and its decision is final';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER approvals_final BEFORE UPDATE ON approvals FOR EACH ROW EXECUTE FUNCTION eods_approval_final();
CREATE TRIGGER approvals_no_delete BEFORE DELETE ON approvals FOR EACH ROW EXECUTE FUNCTION eods_append_only();
CREATE TRIGGER approval_votes_append_only BEFORE UPDATE OR DELETE ON approval_votes FOR EACH ROW EXECUTE FUNCTION eods_append_only();
CREATE TRIGGER artifacts_no_truncate BEFORE TRUNCATE ON artifacts FOR EACH STATEMENT EXECUTE FUNCTION eods_append_only();
CREATE TRIGGER decision_runs_no_truncate BEFORE TRUNCATE ON decision_runs FOR EACH STATEMENT EXECUTE FUNCTION eods_append_only();
CREATE TRIGGER change_runs_no_truncate BEFORE TRUNCATE ON change_runs FOR EACH STATEMENT EXECUTE FUNCTION eods_append_only();
CREATE TRIGGER step_runs_no_truncate BEFORE TRUNCATE ON step_runs FOR EACH STATEMENT EXECUTE FUNCTION eods_append_only();
CREATE TRIGGER approvals_no_truncate BEFORE TRUNCATE ON approvals FOR EACH STATEMENT EXECUTE FUNCTION eods_append_only();
CREATE TRIGGER approval_votes_no_truncate BEFORE TRUNCATE ON approval_votes FOR EACH STATEMENT EXECUTE FUNCTION eods_append_only();
