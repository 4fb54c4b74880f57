-- The PostgreSQL store records a token per transaction so a retry after a lost COMMIT reply applies nothing
-- twice. An embedded SQLite commit cannot lose its reply; the table exists so both schemas stay alike.
CREATE TABLE commit_tokens (
    token TEXT PRIMARY KEY,
    committed_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX ix_commit_tokens_committed_at ON commit_tokens(committed_at);
