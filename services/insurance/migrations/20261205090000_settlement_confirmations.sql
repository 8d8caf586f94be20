-- migrate:up
-- A webhook now carries settlement confirmations beside notifications, so each
-- delivery names its topic, which the POST sends as X-Dingze-Topic.
ALTER TABLE webhook_deliveries ADD COLUMN topic text;
UPDATE webhook_deliveries
    SET topic = 'insurer.' || lower(insurer_code) || '.notifications';
ALTER TABLE webhook_deliveries ALTER COLUMN topic SET NOT NULL;
ALTER TABLE webhook_dead_letters ADD COLUMN topic text;
UPDATE webhook_dead_letters
    SET topic = 'insurer.' || lower(insurer_code) || '.notifications';
ALTER TABLE webhook_dead_letters ALTER COLUMN topic SET NOT NULL;

-- Parties' confirmations of assessed claims, as handed to each claim's insurer.
-- Only the last four digits of the account number are kept here; the full number
-- is in the insurer's outbox row and webhook delivery alone.
CREATE TABLE settlement_confirmations (
    case_id uuid NOT NULL,
    insurer_code text NOT NULL,
    claim_number text NOT NULL,
    party_id text NOT NULL,
    amount_cents bigint NOT NULL,
    account_holder text NOT NULL,
    bank text NOT NULL,
    account_number_masked text NOT NULL,
    event_id uuid NOT NULL UNIQUE,
    confirmed_at timestamptz NOT NULL,
    queued_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (case_id, insurer_code)
);

-- migrate:down
DROP TABLE settlement_confirmations;
ALTER TABLE webhook_dead_letters DROP COLUMN topic;
ALTER TABLE webhook_deliveries DROP COLUMN topic;
