-- migrate:up
CREATE TABLE cases (
    case_id uuid PRIMARY KEY,
    status text NOT NULL CHECK (status IN ('queued', 'ruled')),
    queued_event jsonb NOT NULL,
    queued_at timestamptz NOT NULL,
    ruling jsonb,
    ruled_at timestamptz
);

CREATE INDEX cases_queued_at ON cases (queued_at) WHERE status = 'queued';

-- migrate:down
DROP TABLE cases;
