-- migrate:up
-- One-time codes sent to parties by SMS, one row per link: a new code replaces the
-- previous one. Only a keyed hash of the code is kept.
CREATE TABLE party_codes (
    link_id text PRIMARY KEY,
    case_id uuid NOT NULL REFERENCES cases (case_id),
    party_id text NOT NULL,
    code_hash text NOT NULL,
    sent_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    failed_attempts integer NOT NULL DEFAULT 0 CHECK (failed_attempts >= 0),
    confirmed_at timestamptz
);

-- migrate:down
DROP TABLE party_codes;
