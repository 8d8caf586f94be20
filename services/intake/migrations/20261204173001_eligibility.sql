-- migrate:up
-- A case that fails the simplified procedure's eligibility rules is recorded as
-- sent to on-scene handling, with the answers and the reasons given to the reporter.
ALTER TABLE cases DROP CONSTRAINT cases_status_check;
ALTER TABLE cases ADD CONSTRAINT cases_status_check
    CHECK (status IN ('draft', 'submitted', 'on_scene'));
ALTER TABLE cases ADD COLUMN eligibility jsonb;
ALTER TABLE cases ADD COLUMN on_scene_reasons jsonb;

-- migrate:down
ALTER TABLE cases DROP COLUMN on_scene_reasons;
ALTER TABLE cases DROP COLUMN eligibility;
ALTER TABLE cases DROP CONSTRAINT cases_status_check;
ALTER TABLE cases ADD CONSTRAINT cases_status_check
    CHECK (status IN ('draft', 'submitted'));
