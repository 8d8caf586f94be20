-- migrate:up
-- Rulings that a party asked to reconsider, waiting for an officer other than the
-- one who gave the first ruling.
CREATE TABLE reconsiderations (
    case_id uuid PRIMARY KEY,
    status text NOT NULL CHECK (status IN ('queued', 'decided')),
    request_event jsonb NOT NULL,
    requested_at timestamptz NOT NULL,
    first_officer_id text NOT NULL,
    decision jsonb,
    decided_at timestamptz
);

CREATE INDEX reconsiderations_queued_at ON reconsiderations (requested_at)
    WHERE status = 'queued';

-- migrate:down
DROP TABLE reconsiderations;
