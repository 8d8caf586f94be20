-- migrate:up
-- A case leaves the queue as closed when its workflow ends without a ruling here.
ALTER TABLE cases DROP CONSTRAINT cases_status_check;
ALTER TABLE cases ADD CONSTRAINT cases_status_check
    CHECK (status IN ('queued', 'ruled', 'closed'));
ALTER TABLE cases ADD COLUMN closed_outcome text;

-- migrate:down
ALTER TABLE cases DROP COLUMN closed_outcome;
ALTER TABLE cases DROP CONSTRAINT cases_status_check;
ALTER TABLE cases ADD CONSTRAINT cases_status_check
    CHECK (status IN ('queued', 'ruled'));
