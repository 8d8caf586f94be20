-- migrate:up
-- Phone numbers are stored sealed (AES-GCM, common/sealing.py), so the per-number
-- rate limit and lock find a number's messages by a keyed hash (HMAC-SHA256)
-- instead. The migration step (common/seal_existing.py) fills the hashes and seals
-- the numbers of the rows written before.
ALTER TABLE messages ADD COLUMN phone_hash text;
ALTER TABLE local_deliveries ADD COLUMN phone_hash text;
DROP INDEX messages_phone_sent;
DROP INDEX messages_phone_deferred;
CREATE INDEX messages_phone_hash_sent ON messages (phone_hash, sent_at);
CREATE INDEX messages_phone_hash_deferred ON messages (phone_hash)
    WHERE status = 'deferred';
CREATE INDEX local_deliveries_phone_hash ON local_deliveries (phone_hash);

-- migrate:down
-- The numbers stay sealed: opening them needs the key ring, which SQL lacks.
DROP INDEX local_deliveries_phone_hash;
DROP INDEX messages_phone_hash_deferred;
DROP INDEX messages_phone_hash_sent;
CREATE INDEX messages_phone_deferred ON messages (phone) WHERE status = 'deferred';
CREATE INDEX messages_phone_sent ON messages (phone, sent_at);
ALTER TABLE local_deliveries DROP COLUMN phone_hash;
ALTER TABLE messages DROP COLUMN phone_hash;
