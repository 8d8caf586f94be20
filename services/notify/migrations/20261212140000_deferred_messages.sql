-- migrate:up
-- A message over its number's rate limit waits as 'deferred' until send_after,
-- with the text to send in deferred_body. That text may carry a one-time code or
-- a link, so it is cleared once the message is sent or rejected.
ALTER TABLE messages DROP CONSTRAINT messages_status_check;
ALTER TABLE messages ADD CONSTRAINT messages_status_check
    CHECK (status IN ('sending', 'sent', 'deferred', 'rejected'));
ALTER TABLE messages ADD COLUMN send_after timestamptz;
ALTER TABLE messages ADD COLUMN deferred_body text;
ALTER TABLE messages ADD COLUMN last_error text;
CREATE INDEX messages_deferred ON messages (send_after) WHERE status = 'deferred';
CREATE INDEX messages_phone_deferred ON messages (phone) WHERE status = 'deferred';

-- migrate:down
DROP INDEX messages_phone_deferred;
DROP INDEX messages_deferred;
ALTER TABLE messages DROP COLUMN last_error;
ALTER TABLE messages DROP COLUMN deferred_body;
ALTER TABLE messages DROP COLUMN send_after;
ALTER TABLE messages DROP CONSTRAINT messages_status_check;
ALTER TABLE messages ADD CONSTRAINT messages_status_check
    CHECK (status IN ('sending', 'sent'));
