-- migrate:up
-- Multipart uploads that phones send straight to object storage. Intake records
-- each one from creation to its end; the bytes never pass through intake.
CREATE TABLE uploads (
    upload_id uuid PRIMARY KEY,
    case_id uuid NOT NULL REFERENCES cases (case_id),
    kind text NOT NULL CHECK (kind IN ('video', 'photo')),
    content_type text NOT NULL,
    size_bytes bigint NOT NULL CHECK (size_bytes > 0),
    part_size bigint NOT NULL CHECK (part_size > 0),
    part_count integer NOT NULL CHECK (part_count > 0),
    object_key text NOT NULL,
    storage_upload_id text NOT NULL,
    status text NOT NULL CHECK (
        status IN ('active', 'completing', 'completed', 'rejected', 'aborted', 'expired')
    ),
    uploaded_by text NOT NULL,
    badge_number text,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    finished_at timestamptz,
    sha256 char(64),
    rejection text
);

CREATE INDEX uploads_case ON uploads (case_id, created_at);

-- A case takes one video upload at a time: a second one racing the first fails here
-- even if both passed intake's own check.
CREATE UNIQUE INDEX uploads_one_video_in_progress ON uploads (case_id)
    WHERE kind = 'video' AND status IN ('active', 'completing');

-- The parties who agreed, on the phone page, to the remote procedure.
CREATE TABLE party_consents (
    case_id uuid NOT NULL REFERENCES cases (case_id),
    party_id text NOT NULL,
    consented_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (case_id, party_id)
);

-- migrate:down
DROP TABLE party_consents;
DROP TABLE uploads;
