-- migrate:up
-- The number of the case's signed ruling document, from the case.ruled event.
-- Its versions are stored as documents/<number>/v<n>.pdf in the evidence bucket.
ALTER TABLE cases ADD COLUMN document_number text;

-- migrate:down
ALTER TABLE cases DROP COLUMN document_number;
