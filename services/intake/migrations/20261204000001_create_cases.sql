-- migrate:up
CREATE TABLE cases (
    case_id uuid PRIMARY KEY,
    status text NOT NULL CHECK (status IN ('draft', 'submitted')),
    details jsonb NOT NULL,
    trace_id text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    submitted_at timestamptz
);

-- One video per case: a new upload before submission replaces the previous one.
CREATE TABLE videos (
    case_id uuid PRIMARY KEY REFERENCES cases (case_id),
    object_key text NOT NULL,
    sha256 char(64) NOT NULL,
    size_bytes bigint NOT NULL CHECK (size_bytes > 0),
    content_type text NOT NULL,
    facts jsonb NOT NULL,
    uploaded_at timestamptz NOT NULL DEFAULT now()
);

-- migrate:down
DROP TABLE videos;
DROP TABLE cases;
