-- migrate:up
-- The insurers that a reconsideration's replacement ruling went to, one row per
-- insurer, written with its outbox row. An accident is reconsidered once, so an
-- insurer gets at most one replacement per case.
CREATE TABLE ruling_replacements (
    case_id uuid NOT NULL,
    insurer_code text NOT NULL,
    event_id uuid NOT NULL UNIQUE,
    document_number text NOT NULL,
    replaces_document_number text NOT NULL,
    published_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (case_id, insurer_code)
);

-- migrate:down
DROP TABLE ruling_replacements;
