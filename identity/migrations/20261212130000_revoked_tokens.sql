-- migrate:up
-- Tokens signed out before they expire: staff tokens (signed out at liability) and
-- party sessions (signed out at intake). Every service that accepts tokens reads
-- it, see identity/revocations.py. A row may go once its token has expired.
CREATE TABLE revoked_tokens (
    token_id text PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('staff', 'party')),
    subject text NOT NULL,
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX revoked_tokens_by_expiry ON revoked_tokens (expires_at);

-- migrate:down
DROP TABLE revoked_tokens;
