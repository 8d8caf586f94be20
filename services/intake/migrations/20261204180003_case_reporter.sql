-- migrate:up
-- The badge number of the auxiliary officer who opened the case, when one did.
ALTER TABLE cases ADD COLUMN reporter_badge text;

-- migrate:down
ALTER TABLE cases DROP COLUMN reporter_badge;
