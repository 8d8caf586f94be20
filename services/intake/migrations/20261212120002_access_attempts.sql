-- migrate:up
-- Sign-in attempts counted against the rate limits of identity/attempts.py: one
-- row per attempt and key (an account or a client address), kept for the window.
CREATE TABLE access_attempts (
    attempt_id bigserial PRIMARY KEY,
    scope text NOT NULL,
    key text NOT NULL,
    attempted_at timestamptz NOT NULL
);

CREATE INDEX access_attempts_by_key ON access_attempts (scope, key, attempted_at);

-- migrate:down
DROP TABLE access_attempts;
