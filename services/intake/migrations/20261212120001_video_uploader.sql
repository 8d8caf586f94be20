-- migrate:up
-- Who uploaded the case's video: "party A" or "auxiliary officer <badge>", as the
-- custody trail names them. Only that uploader may replace it before submission.
ALTER TABLE videos ADD COLUMN uploaded_by text;

UPDATE videos SET uploaded_by = custody.actor
FROM custody_records AS custody
WHERE custody.case_id = videos.case_id
  AND custody.object_key = videos.object_key
  AND custody.action = 'uploaded';

-- migrate:down
ALTER TABLE videos DROP COLUMN uploaded_by;
