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

-- migrate:down
DROP TABLE outbox;
