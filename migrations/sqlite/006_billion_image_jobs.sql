-- Billion-image jobs: max_images up to 10^9 (SQLite's INTEGER is already 64-bit), and the 'planning' status of a
-- job whose chunks are still being written in batches (its chunks are not claimable until the planner's last
-- transaction makes it 'pending'). SQLite cannot change a CHECK constraint in place: crawl_jobs is rebuilt with the
-- same columns, rows and indexes (the migrator runs SQLite migrations with foreign keys off, so dropping the old
-- table cascades nowhere, and checks every foreign key before it commits).
CREATE TABLE crawl_jobs_rebuilt (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    name VARCHAR(100) NOT NULL,
    keywords TEXT NOT NULL CHECK (keywords IS NULL OR json_valid(keywords)),
    max_images INTEGER NOT NULL DEFAULT 1000,
    sources TEXT NOT NULL DEFAULT '["openverse"]' CHECK (sources IS NULL OR json_valid(sources)),
    validation_rules TEXT NOT NULL DEFAULT '{}' CHECK (validation_rules IS NULL OR json_valid(validation_rules)),
    chunk_size INTEGER NOT NULL DEFAULT 50,
    over_fetch REAL NOT NULL DEFAULT 1.5,
    priority INTEGER NOT NULL DEFAULT 0,
    status VARCHAR(20) NOT NULL DEFAULT 'pending',
    progress INTEGER NOT NULL DEFAULT 0,
    total_images INTEGER NOT NULL DEFAULT 0,
    downloaded_images INTEGER NOT NULL DEFAULT 0,
    valid_images INTEGER NOT NULL DEFAULT 0,
    total_chunks INTEGER NOT NULL DEFAULT 0,
    active_chunks INTEGER NOT NULL DEFAULT 0,
    completed_chunks INTEGER NOT NULL DEFAULT 0,
    failed_chunks INTEGER NOT NULL DEFAULT 0,
    cancelled_chunks INTEGER NOT NULL DEFAULT 0,
    shortfall TEXT CHECK (shortfall IS NULL OR json_valid(shortfall)),
    task_ids TEXT NOT NULL DEFAULT '[]' CHECK (task_ids IS NULL OR json_valid(task_ids)),
    error_message TEXT,
    started_at TEXT,
    completed_at TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    CONSTRAINT ck_crawl_jobs_status
        CHECK (status IN ('planning', 'pending', 'running', 'completed', 'failed', 'cancelled')),
    CONSTRAINT ck_crawl_jobs_progress CHECK (progress BETWEEN 0 AND 100),
    CONSTRAINT ck_crawl_jobs_max_images CHECK (max_images BETWEEN 1 AND 1000000000),
    CONSTRAINT ck_crawl_jobs_chunk_size CHECK (chunk_size BETWEEN 1 AND 10000),
    CONSTRAINT ck_crawl_jobs_over_fetch CHECK (over_fetch >= 1.0 AND over_fetch <= 10.0),
    CONSTRAINT ck_crawl_jobs_counts CHECK (
        total_images >= 0 AND downloaded_images >= 0 AND valid_images >= 0 AND total_chunks >= 0
        AND active_chunks >= 0 AND completed_chunks >= 0 AND failed_chunks >= 0 AND cancelled_chunks >= 0
        AND valid_images <= total_images),
    CONSTRAINT ck_crawl_jobs_chunk_sum CHECK (
        active_chunks + completed_chunks + failed_chunks + cancelled_chunks <= total_chunks)
);
INSERT INTO crawl_jobs_rebuilt SELECT * FROM crawl_jobs;
-- Ids of deleted jobs are never handed out again: the new table continues the old one's sequence.
DELETE FROM sqlite_sequence WHERE name = 'crawl_jobs_rebuilt';
INSERT INTO sqlite_sequence (name, seq) SELECT 'crawl_jobs_rebuilt', seq FROM sqlite_sequence WHERE name = 'crawl_jobs';
DROP TABLE crawl_jobs;
ALTER TABLE crawl_jobs_rebuilt RENAME TO crawl_jobs;
CREATE INDEX ix_crawl_jobs_project_id ON crawl_jobs(project_id);
CREATE INDEX ix_crawl_jobs_status ON crawl_jobs(status);
CREATE INDEX ix_crawl_jobs_project_status ON crawl_jobs(project_id, status);
CREATE INDEX ix_crawl_jobs_created_at ON crawl_jobs(created_at);

-- The columns of a URL list row kept with its image (`--keep-columns`), as a JSON object of column → value.
ALTER TABLE images ADD COLUMN kept_columns TEXT CHECK (kept_columns IS NULL OR json_valid(kept_columns));
