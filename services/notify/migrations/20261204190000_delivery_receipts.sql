-- migrate:up
-- The gateway's delivery receipt for each message, and sends per number for the
-- rate limit.
ALTER TABLE messages ADD COLUMN delivery_status text
    CHECK (delivery_status IN ('delivered', 'failed'));
ALTER TABLE messages ADD COLUMN receipt_at timestamptz;
CREATE INDEX messages_phone_sent ON messages (phone, sent_at);

-- migrate:down
DROP INDEX messages_phone_sent;
ALTER TABLE messages DROP COLUMN receipt_at;
ALTER TABLE messages DROP COLUMN delivery_status;
