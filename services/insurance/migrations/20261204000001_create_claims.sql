-- migrate:up
-- Events already handled, so that a redelivered event has no second effect.
CREATE TABLE processed_events (
    event_id uuid PRIMARY KEY,
    topic text NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE notifications (
    case_id uuid NOT NULL,
    insurer_code text NOT NULL,
    event_id uuid NOT NULL UNIQUE,
    published_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (case_id, insurer_code)
);

CREATE TABLE claims (
    case_id uuid NOT NULL,
    insurer_code text NOT NULL,
    claim_number text NOT NULL,
    status text NOT NULL CHECK (status IN ('opened', 'settled')),
    amount_cents bigint,
    opened_at timestamptz NOT NULL DEFAULT now(),
    settled_at timestamptz,
    PRIMARY KEY (case_id, insurer_code)
);

-- migrate:down
DROP TABLE claims;
DROP TABLE notifications;
DROP TABLE processed_events;
