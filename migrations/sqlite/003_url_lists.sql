-- URL lists staged in the shared storage: immutable, content-addressed objects (`lists/<sha256>.list`, `.index`,
-- `.json`); a row per owner who submitted one. Jobs name a list as `list:<sha256>` in their sources.
CREATE TABLE url_lists (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_id TEXT NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
    sha256 CHAR(64) NOT NULL,
    format VARCHAR(10) NOT NULL CHECK (format IN ('text', 'csv', 'tsv', 'jsonl')),
    columns TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(columns)),
    rows INTEGER NOT NULL CHECK (rows > 0),
    bytes INTEGER NOT NULL CHECK (bytes >= 0),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    CONSTRAINT uq_url_lists_owner_sha256 UNIQUE (owner_id, sha256)
);
CREATE INDEX ix_url_lists_sha256 ON url_lists(sha256);

-- A URL list's sha256 column is checked against the downloaded bytes: a mismatch is its own category. SQLite
-- cannot change a CHECK constraint in place: the table is rebuilt with the same columns and indexes.
CREATE TABLE error_logs_rebuilt (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id INTEGER REFERENCES crawl_jobs(id) ON DELETE CASCADE,
    chunk_id INTEGER REFERENCES crawl_chunks(id) ON DELETE SET NULL,
    category VARCHAR(20) NOT NULL,
    severity VARCHAR(10) NOT NULL DEFAULT 'error',
    message TEXT NOT NULL,
    url TEXT,
    context TEXT NOT NULL DEFAULT '{}' CHECK (context IS NULL OR json_valid(context)),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    CONSTRAINT ck_error_logs_category CHECK (category IN ('NETWORK', 'HTTP_STATUS', 'RATE_LIMIT', 'ROBOTS',
        'TOO_LARGE', 'FORMAT', 'DECODE', 'DIMENSIONS', 'DUPLICATE', 'STORAGE', 'DATABASE', 'BLOCKED', 'SOURCE',
        'HASH_MISMATCH')),
    CONSTRAINT ck_error_logs_severity CHECK (severity IN ('info', 'warning', 'error', 'critical'))
);
INSERT INTO error_logs_rebuilt (id, job_id, chunk_id, category, severity, message, url, context, created_at)
    SELECT id, job_id, chunk_id, category, severity, message, url, context, created_at FROM error_logs;
DROP TABLE error_logs;
ALTER TABLE error_logs_rebuilt RENAME TO error_logs;
CREATE INDEX ix_error_logs_job_category ON error_logs(job_id, category);
CREATE INDEX ix_error_logs_created_at ON error_logs(created_at);
