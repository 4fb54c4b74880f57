-- URL lists staged in the shared storage: immutable, content-addressed objects (`lists/<sha256>.list`, `.index`,
-- `.json`); a row per owner who submitted one. Jobs name a list as `list:<sha256>` in their sources.
CREATE TABLE url_lists (
    id BIGSERIAL PRIMARY KEY,
    owner_id UUID NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
    sha256 CHAR(64) NOT NULL,
    format VARCHAR(10) NOT NULL CHECK (format IN ('text', 'csv', 'tsv', 'jsonl')),
    columns JSONB NOT NULL DEFAULT '[]'::jsonb,
    rows BIGINT NOT NULL CHECK (rows > 0),
    bytes BIGINT NOT NULL CHECK (bytes >= 0),
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    CONSTRAINT uq_url_lists_owner_sha256 UNIQUE (owner_id, sha256)
);
CREATE INDEX ix_url_lists_sha256 ON url_lists(sha256);

-- A URL list's sha256 column is checked against the downloaded bytes: a mismatch is its own category.
ALTER TABLE error_logs DROP CONSTRAINT ck_error_logs_category;
ALTER TABLE error_logs ADD CONSTRAINT ck_error_logs_category CHECK (category IN ('NETWORK', 'HTTP_STATUS',
    'RATE_LIMIT', 'ROBOTS', 'TOO_LARGE', 'FORMAT', 'DECODE', 'DIMENSIONS', 'DUPLICATE', 'STORAGE', 'DATABASE',
    'BLOCKED', 'SOURCE', 'HASH_MISMATCH'));
