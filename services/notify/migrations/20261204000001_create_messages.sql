-- migrate:up
-- One row per message id: a repeated request for the same message finds its row
-- and sends nothing.
CREATE TABLE messages (
    message_id text PRIMARY KEY,
    case_id uuid NOT NULL,
    party_id text NOT NULL,
    phone text NOT NULL,
    template text NOT NULL,
    body text NOT NULL,
    provider text NOT NULL,
    status text NOT NULL CHECK (status IN ('sending', 'sent')),
    requested_at timestamptz NOT NULL DEFAULT now(),
    sent_at timestamptz
);

CREATE INDEX messages_case ON messages (case_id, requested_at);

-- migrate:down
DROP TABLE messages;
