-- migrate:up
-- Events written in the transaction of the state change they announce, and
-- published to Kafka afterwards by the outbox relay (common/outbox.py).
CREATE TABLE outbox (
    position bigserial PRIMARY KEY,
    event_id uuid NOT NULL UNIQUE,
    topic text NOT NULL,
    message_key text NOT NULL,
    payload text NOT NULL,
    trace_id text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at timestamptz
);

CREATE INDEX outbox_unsent ON outbox (position) WHERE sent_at IS NULL;

-- The events handled so far become the inbox of common/inbox.py.
ALTER TABLE processed_events RENAME TO inbox;
ALTER INDEX processed_events_pkey RENAME TO inbox_pkey;

-- migrate:down
ALTER INDEX inbox_pkey RENAME TO processed_events_pkey;
ALTER TABLE inbox RENAME TO processed_events;
DROP TABLE outbox;
