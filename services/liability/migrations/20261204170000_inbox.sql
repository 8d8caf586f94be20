-- migrate:up
-- Event ids already handled (common/inbox.py): a redelivered event has no effect.
CREATE TABLE inbox (
    event_id uuid PRIMARY KEY,
    topic text NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now()
);

-- migrate:down
DROP TABLE inbox;
