-- Billion-image jobs: max_images up to 10^9 and 64-bit counters wherever a count of images, rows or result
-- positions can pass 2^31 (a list of 10^9 rows over-fetched, a job's image counters, a re-validation or export
-- of such a job). Counts bounded by the limits (chunks per job, attempts, priority, progress) stay INTEGER.
ALTER TABLE crawl_jobs
    ALTER COLUMN max_images TYPE BIGINT,
    ALTER COLUMN total_images TYPE BIGINT,
    ALTER COLUMN downloaded_images TYPE BIGINT,
    ALTER COLUMN valid_images TYPE BIGINT,
    ALTER COLUMN total_chunks TYPE BIGINT,
    ALTER COLUMN active_chunks TYPE BIGINT,
    ALTER COLUMN completed_chunks TYPE BIGINT,
    ALTER COLUMN failed_chunks TYPE BIGINT,
    ALTER COLUMN cancelled_chunks TYPE BIGINT;
ALTER TABLE crawl_jobs DROP CONSTRAINT ck_crawl_jobs_max_images;
ALTER TABLE crawl_jobs ADD CONSTRAINT ck_crawl_jobs_max_images CHECK (max_images BETWEEN 1 AND 1000000000);
-- A job whose chunks are still being written in batches is 'planning': its chunks are not claimable until the
-- planner's last transaction makes it 'pending'.
ALTER TABLE crawl_jobs DROP CONSTRAINT ck_crawl_jobs_status;
ALTER TABLE crawl_jobs ADD CONSTRAINT ck_crawl_jobs_status
    CHECK (status IN ('planning', 'pending', 'running', 'completed', 'failed', 'cancelled'));

ALTER TABLE crawl_chunks
    ALTER COLUMN chunk_index TYPE BIGINT,
    ALTER COLUMN range_start TYPE BIGINT,
    ALTER COLUMN range_end TYPE BIGINT,
    ALTER COLUMN candidates_done TYPE BIGINT;

ALTER TABLE validation_jobs
    ALTER COLUMN total_images TYPE BIGINT,
    ALTER COLUMN validated_images TYPE BIGINT,
    ALTER COLUMN invalid_images TYPE BIGINT;

ALTER TABLE export_jobs
    ALTER COLUMN total_images TYPE BIGINT,
    ALTER COLUMN exported_images TYPE BIGINT;

-- The columns of a URL list row kept with its image (`--keep-columns`), as a JSON object of column → value.
ALTER TABLE images ADD COLUMN kept_columns JSONB;
