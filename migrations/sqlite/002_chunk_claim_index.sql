-- Claimable rows of one job in claim order: a claim reads the first unlocked one of each job instead of
-- sorting every open chunk, and completions look up a keyword's other open chunks through it.
CREATE INDEX ix_crawl_chunks_claim ON crawl_chunks(job_id, priority DESC, id)
    WHERE status IN ('pending', 'active');
