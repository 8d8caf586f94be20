-- migrate:up
-- Each party's confirmation of an assessed claim, one per claim. The full account
-- number goes to the insurer through the outbox alone; this table keeps the last
-- four digits, which the phone page shows back.
CREATE TABLE settlement_confirmations (
    case_id uuid NOT NULL REFERENCES cases (case_id),
    insurer_code text NOT NULL,
    claim_number text NOT NULL,
    party_id text NOT NULL,
    amount_cents bigint NOT NULL,
    account_holder text NOT NULL,
    bank text NOT NULL,
    account_number_masked text NOT NULL,
    event_id uuid NOT NULL UNIQUE,
    confirmed_at timestamptz NOT NULL,
    PRIMARY KEY (case_id, insurer_code)
);

-- migrate:down
DROP TABLE settlement_confirmations;
