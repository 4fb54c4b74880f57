-- One row per committed transaction that may be retried after its COMMIT reply was lost: the retry inserts
-- the same token first and finds it taken when the first attempt did commit, so nothing is applied twice.
-- Rows are only needed while a retry may still come; old ones are pruned by the transactions themselves.
CREATE TABLE commit_tokens (
    token TEXT PRIMARY KEY,
    committed_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX ix_commit_tokens_committed_at ON commit_tokens(committed_at);
