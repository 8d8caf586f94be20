-- migrate:up
-- The insurers that rulings go to. Each gets its own Kafka topic; one with a
-- webhook URL also gets each notification by HTTPS POST, signed with its secret.
-- An inactive insurer gets nothing.
CREATE TABLE insurers (
    code text PRIMARY KEY CHECK (code ~ '^[A-Z][A-Z0-9]{1,15}$'),
    name text NOT NULL,
    topic text NOT NULL,
    webhook_url text,
    signing_secret text NOT NULL,
    active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    secret_rotated_at timestamptz
);

-- The insurers that intake accepts today, on Kafka only. Their secrets are random
-- and unknown to anyone until rotated with the registry command.
INSERT INTO insurers (code, name, topic, signing_secret)
SELECT code, name, 'insurer.' || lower(code) || '.notifications',
       md5(random()::text || clock_timestamp()::text)
       || md5(random()::text || clock_timestamp()::text)
FROM (VALUES
    ('PICC', '中国人民财产保险'),
    ('PAIC', '中国平安财产保险'),
    ('CPIC', '中国太平洋财产保险'),
    ('CLPC', '中国人寿财产保险'),
    ('CCIC', '中华联合财产保险'),
    ('TPIC', '太平财产保险'),
    ('SSAI', '阳光财产保险'),
    ('DBIC', '大地财产保险')
) AS known (code, name);

-- One row per notification and webhook insurer, written with the outbox row.
CREATE TABLE webhook_deliveries (
    delivery_id bigserial PRIMARY KEY,
    event_id uuid NOT NULL,
    insurer_code text NOT NULL REFERENCES insurers (code),
    case_id uuid NOT NULL,
    payload text NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    delivered_at timestamptz,
    UNIQUE (event_id, insurer_code)
);

CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at)
    WHERE delivered_at IS NULL;

-- Deliveries that failed their last try, parked until an operator redelivers them.
CREATE TABLE webhook_dead_letters (
    delivery_id bigint PRIMARY KEY,
    event_id uuid NOT NULL,
    insurer_code text NOT NULL REFERENCES insurers (code),
    case_id uuid NOT NULL,
    payload text NOT NULL,
    attempts integer NOT NULL,
    last_error text,
    created_at timestamptz NOT NULL,
    parked_at timestamptz NOT NULL DEFAULT now()
);

-- migrate:down
DROP TABLE webhook_dead_letters;
DROP TABLE webhook_deliveries;
DROP TABLE insurers;
