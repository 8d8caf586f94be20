-- migrate:up
-- A case whose evidence failed a check waits for a replacement upload, and the
-- case record keeps what to redo and by when.
ALTER TABLE cases DROP CONSTRAINT cases_status_check;
ALTER TABLE cases ADD CONSTRAINT cases_status_check
    CHECK (status IN ('draft', 'submitted', 'resubmission_requested', 'on_scene'));
ALTER TABLE cases ADD COLUMN resubmission jsonb;

-- The chain of custody of every evidence object, one row per step: uploaded,
-- hashed again, derived (a thumbnail) or read (a link issued, a copy read).
-- Rows are only ever added: the trigger below rejects UPDATE, DELETE and
-- TRUNCATE, and the service role is granted SELECT and INSERT only.
CREATE TABLE custody_records (
    position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    entry_id uuid NOT NULL UNIQUE,
    case_id uuid NOT NULL REFERENCES cases (case_id),
    action text NOT NULL CHECK (action IN ('uploaded', 'hashed', 'derived', 'read')),
    object_key text NOT NULL,
    actor text NOT NULL,
    case_link text,
    sha256 char(64),
    size_bytes bigint,
    detail text NOT NULL DEFAULT '',
    occurred_at timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX custody_records_case ON custody_records (case_id, position);

CREATE FUNCTION reject_custody_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'custody_records is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER custody_records_append_only
    BEFORE UPDATE OR DELETE ON custody_records
    FOR EACH ROW EXECUTE FUNCTION reject_custody_change();
CREATE TRIGGER custody_records_no_truncate
    BEFORE TRUNCATE ON custody_records
    FOR EACH STATEMENT EXECUTE FUNCTION reject_custody_change();

-- migrate:down
DROP TABLE custody_records;
DROP FUNCTION reject_custody_change();
ALTER TABLE cases DROP COLUMN resubmission;
ALTER TABLE cases DROP CONSTRAINT cases_status_check;
ALTER TABLE cases ADD CONSTRAINT cases_status_check
    CHECK (status IN ('draft', 'submitted', 'on_scene'));
