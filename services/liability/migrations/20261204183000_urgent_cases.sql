-- migrate:up
-- A supervisor marks a case urgent (a blocked road, say); urgent and escalated
-- cases head the queue.
ALTER TABLE cases ADD COLUMN urgent_at timestamptz;
DROP INDEX cases_queue_order;
CREATE INDEX cases_queue_order
    ON cases ((urgent_at IS NULL AND escalated_at IS NULL), queued_at)
    WHERE status = 'queued';

-- migrate:down
DROP INDEX cases_queue_order;
CREATE INDEX cases_queue_order ON cases ((escalated_at IS NULL), queued_at)
    WHERE status = 'queued';
ALTER TABLE cases DROP COLUMN urgent_at;
