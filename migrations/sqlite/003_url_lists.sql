-- URL lists staged in the shared storage: immutable, content-addressed objects (`lists/<sha256>.list`, `.index`,
-- `.json`); a row per owner who submitted one. Jobs name a list as `list:<sha256>` in their sources.
CREATE TABLE url_lists (
    owner_id TEXT NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
    sha256 CHAR(64) NOT NULL,
    format VARCHAR(10) NOT NULL CHECK (format IN ('text', 'csv', 'tsv', 'jsonl')),
    columns TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(columns)),
    rows INTEGER NOT NULL CHECK (rows > 0),
    bytes INTEGER NOT NULL CHECK (bytes >= 0),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (owner_id, sha256)
);
CREATE INDEX ix_url_lists_sha256 ON url_lists(sha256);
