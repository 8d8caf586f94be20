-- migrate:up
-- Claims are also assessed (an amount) or refused (a reason) by their insurer.
ALTER TABLE claims DROP CONSTRAINT claims_status_check;
ALTER TABLE claims ADD CONSTRAINT claims_status_check
    CHECK (status IN ('opened', 'assessed', 'settled', 'refused'));
ALTER TABLE claims ADD COLUMN assessed_cents bigint;
ALTER TABLE claims ADD COLUMN refusal_reason text;

-- migrate:down
ALTER TABLE claims DROP COLUMN refusal_reason;
ALTER TABLE claims DROP COLUMN assessed_cents;
ALTER TABLE claims DROP CONSTRAINT claims_status_check;
ALTER TABLE claims ADD CONSTRAINT claims_status_check
    CHECK (status IN ('opened', 'settled'));
