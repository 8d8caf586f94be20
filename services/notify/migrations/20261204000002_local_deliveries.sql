-- migrate:up
-- What the local SMS provider "delivered": one row per call to the provider, so a
-- message sent twice shows as two rows.
CREATE TABLE local_deliveries (
    delivery_id bigserial PRIMARY KEY,
    message_id text NOT NULL,
    phone text NOT NULL,
    body text NOT NULL,
    delivered_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX local_deliveries_message ON local_deliveries (message_id);

-- migrate:down
DROP TABLE local_deliveries;
