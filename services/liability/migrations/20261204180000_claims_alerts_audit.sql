-- migrate:up
-- A case that waits for more evidence leaves the queue until the new video passes.
ALTER TABLE cases DROP CONSTRAINT cases_status_check;
ALTER TABLE cases ADD CONSTRAINT cases_status_check
    CHECK (status IN ('queued', 'ruled', 'closed', 'awaiting_evidence'));

-- A claim is a lease: once lease_expires_at passes, the case is back in the queue.
ALTER TABLE cases ADD COLUMN claimed_by text;
ALTER TABLE cases ADD COLUMN claimed_at timestamptz;
ALTER TABLE cases ADD COLUMN lease_expires_at timestamptz;
-- Set when the ruling target passed; escalated cases head the queue.
ALTER TABLE cases ADD COLUMN escalated_at timestamptz;

DROP INDEX cases_queued_at;
CREATE INDEX cases_queue_order ON cases ((escalated_at IS NULL), queued_at)
    WHERE status = 'queued';

-- What supervisors see: one row per case whose ruling target passed.
CREATE TABLE ruling_overdue_alerts (
    case_id uuid PRIMARY KEY,
    breached_at timestamptz NOT NULL,
    target_minutes double precision NOT NULL,
    claimed_by text
);

-- Every officer and supervisor action, never changed once written.
CREATE TABLE audit_log (
    entry_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    subject text NOT NULL,
    badge_number text NOT NULL,
    roles text[] NOT NULL,
    action text NOT NULL,
    case_id uuid,
    outcome text NOT NULL,
    detail jsonb NOT NULL DEFAULT '{}'
);

CREATE INDEX audit_log_case ON audit_log (case_id, entry_id);

CREATE FUNCTION reject_audit_log_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER audit_log_append_only
    BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION reject_audit_log_change();

CREATE TRIGGER audit_log_no_truncate
    BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION reject_audit_log_change();

-- migrate:down
DROP TABLE audit_log;
DROP FUNCTION reject_audit_log_change();
DROP TABLE ruling_overdue_alerts;
DROP INDEX cases_queue_order;
CREATE INDEX cases_queued_at ON cases (queued_at) WHERE status = 'queued';
ALTER TABLE cases DROP COLUMN escalated_at;
ALTER TABLE cases DROP COLUMN lease_expires_at;
ALTER TABLE cases DROP COLUMN claimed_at;
ALTER TABLE cases DROP COLUMN claimed_by;
ALTER TABLE cases DROP CONSTRAINT cases_status_check;
ALTER TABLE cases ADD CONSTRAINT cases_status_check
    CHECK (status IN ('queued', 'ruled', 'closed'));
