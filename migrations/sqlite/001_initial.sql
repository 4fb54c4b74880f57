-- PixCrawler schema, SQLite dialect (the embedded store). Mirrors migrations/postgres/001_initial.sql:
-- timestamps are ISO-8601 UTC text, JSON is checked text, booleans are 0/1.
-- Integrity lives here: foreign keys with cascade rules, CHECK constraints, unique keys.

CREATE TABLE profiles (
    id TEXT PRIMARY KEY,
    email VARCHAR(255) NOT NULL,
    full_name VARCHAR(100),
    avatar_url TEXT,
    role VARCHAR(20) NOT NULL DEFAULT 'user',
    onboarding_completed INTEGER NOT NULL DEFAULT 0 CHECK (onboarding_completed IN (0, 1)),
    onboarding_completed_at TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    CONSTRAINT uq_profiles_email UNIQUE (email),
    CONSTRAINT ck_profiles_role CHECK (role IN ('user', 'admin', 'moderator'))
);
CREATE INDEX ix_profiles_role ON profiles(role);
CREATE INDEX ix_profiles_created_at ON profiles(created_at);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    profile_id TEXT NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
    name VARCHAR(200) NOT NULL,
    token_hash CHAR(64) NOT NULL,
    token_prefix VARCHAR(16) NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    last_used_at TEXT,
    revoked_at TEXT,
    CONSTRAINT uq_api_tokens_token_hash UNIQUE (token_hash)
);
CREATE INDEX ix_api_tokens_profile_id ON api_tokens(profile_id);

CREATE TABLE projects (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name VARCHAR(100) NOT NULL,
    description TEXT,
    user_id TEXT NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
    status VARCHAR(20) NOT NULL DEFAULT 'active',
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    CONSTRAINT ck_projects_status CHECK (status IN ('active', 'archived', 'deleted'))
);
CREATE INDEX ix_projects_user_id ON projects(user_id);
CREATE INDEX ix_projects_status ON projects(status);
CREATE INDEX ix_projects_created_at ON projects(created_at);

CREATE TABLE crawl_jobs (
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
    CONSTRAINT ck_crawl_jobs_status CHECK (status IN ('pending', 'running', 'completed', 'failed', 'cancelled')),
    CONSTRAINT ck_crawl_jobs_progress CHECK (progress BETWEEN 0 AND 100),
    CONSTRAINT ck_crawl_jobs_max_images CHECK (max_images BETWEEN 1 AND 1000000),
    CONSTRAINT ck_crawl_jobs_chunk_size CHECK (chunk_size BETWEEN 1 AND 10000),
    CONSTRAINT ck_crawl_jobs_over_fetch CHECK (over_fetch >= 1.0 AND over_fetch <= 10.0),
    CONSTRAINT ck_crawl_jobs_counts CHECK (
        total_images >= 0 AND downloaded_images >= 0 AND valid_images >= 0 AND total_chunks >= 0
        AND active_chunks >= 0 AND completed_chunks >= 0 AND failed_chunks >= 0 AND cancelled_chunks >= 0
        AND valid_images <= total_images),
    CONSTRAINT ck_crawl_jobs_chunk_sum CHECK (
        active_chunks + completed_chunks + failed_chunks + cancelled_chunks <= total_chunks)
);
CREATE INDEX ix_crawl_jobs_project_id ON crawl_jobs(project_id);
CREATE INDEX ix_crawl_jobs_status ON crawl_jobs(status);
CREATE INDEX ix_crawl_jobs_project_status ON crawl_jobs(project_id, status);
CREATE INDEX ix_crawl_jobs_created_at ON crawl_jobs(created_at);

CREATE TABLE crawl_chunks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id INTEGER NOT NULL REFERENCES crawl_jobs(id) ON DELETE CASCADE,
    chunk_index INTEGER NOT NULL,
    keyword TEXT NOT NULL,
    source TEXT NOT NULL,
    range_start INTEGER NOT NULL,
    range_end INTEGER NOT NULL,
    status VARCHAR(20) NOT NULL DEFAULT 'pending',
    priority INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL DEFAULT 3,
    lease_owner TEXT,
    lease_token TEXT,
    lease_expires_at TEXT,
    available_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    checkpoint_cursor TEXT,
    candidates_done INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    completed_at TEXT,
    CONSTRAINT uq_crawl_chunks_job_index UNIQUE (job_id, chunk_index),
    CONSTRAINT ck_crawl_chunks_status CHECK (status IN ('pending', 'active', 'completed', 'failed', 'cancelled')),
    CONSTRAINT ck_crawl_chunks_range CHECK (range_start >= 0 AND range_end >= range_start),
    CONSTRAINT ck_crawl_chunks_attempts CHECK (attempts >= 0 AND max_attempts >= 1 AND candidates_done >= 0),
    CONSTRAINT ck_crawl_chunks_lease CHECK (status <> 'active' OR (lease_token IS NOT NULL AND lease_expires_at IS NOT NULL))
);
CREATE INDEX ix_crawl_chunks_job_status ON crawl_chunks(job_id, status);
-- Claimable rows only: pending chunks, and active ones whose lease may have expired.
CREATE INDEX ix_crawl_chunks_claimable ON crawl_chunks(priority DESC, available_at, id)
    WHERE status IN ('pending', 'active');

CREATE TABLE images (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    crawl_job_id INTEGER NOT NULL REFERENCES crawl_jobs(id) ON DELETE CASCADE,
    chunk_id INTEGER REFERENCES crawl_chunks(id) ON DELETE SET NULL,
    original_url TEXT NOT NULL,
    filename VARCHAR(255) NOT NULL,
    storage_url TEXT,
    width INTEGER,
    height INTEGER,
    file_size INTEGER,
    format VARCHAR(10),
    hash VARCHAR(64),
    sha256 CHAR(64) NOT NULL,
    perceptual_hash INTEGER,
    keyword TEXT NOT NULL,
    source TEXT NOT NULL,
    license TEXT,
    license_version TEXT,
    creator TEXT,
    landing_url TEXT,
    title TEXT,
    is_valid INTEGER NOT NULL DEFAULT 1 CHECK (is_valid IN (0, 1)),
    is_duplicate INTEGER NOT NULL DEFAULT 0 CHECK (is_duplicate IN (0, 1)),
    rejection_reason TEXT,
    labels TEXT CHECK (labels IS NULL OR json_valid(labels)),
    metadata TEXT CHECK (metadata IS NULL OR json_valid(metadata)),
    downloaded_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    CONSTRAINT uq_images_job_sha256 UNIQUE (crawl_job_id, sha256),
    CONSTRAINT uq_images_job_url UNIQUE (crawl_job_id, original_url),
    CONSTRAINT ck_images_dimensions CHECK ((width IS NULL OR width > 0) AND (height IS NULL OR height > 0)),
    CONSTRAINT ck_images_file_size CHECK (file_size IS NULL OR file_size >= 0)
);
CREATE INDEX ix_images_crawl_job_id ON images(crawl_job_id, id);
CREATE INDEX ix_images_created_at ON images(created_at);
CREATE INDEX ix_images_sha256 ON images(sha256);

CREATE TABLE activity_logs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id TEXT REFERENCES profiles(id) ON DELETE SET NULL,
    action TEXT NOT NULL,
    resource_type VARCHAR(50),
    resource_id VARCHAR(50),
    metadata TEXT CHECK (metadata IS NULL OR json_valid(metadata)),
    timestamp TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX ix_activity_logs_user_id ON activity_logs(user_id);
CREATE INDEX ix_activity_logs_timestamp ON activity_logs(timestamp);
CREATE INDEX ix_activity_logs_user_timestamp ON activity_logs(user_id, timestamp);
CREATE INDEX ix_activity_logs_resource ON activity_logs(resource_type, resource_id);

CREATE TABLE validation_jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    crawl_job_id INTEGER NOT NULL REFERENCES crawl_jobs(id) ON DELETE CASCADE,
    user_id TEXT REFERENCES profiles(id) ON DELETE SET NULL,
    name VARCHAR(100),
    status VARCHAR(20) NOT NULL DEFAULT 'pending',
    validation_rules TEXT NOT NULL DEFAULT '{}' CHECK (validation_rules IS NULL OR json_valid(validation_rules)),
    total_images INTEGER NOT NULL DEFAULT 0,
    validated_images INTEGER NOT NULL DEFAULT 0,
    invalid_images INTEGER NOT NULL DEFAULT 0,
    progress INTEGER NOT NULL DEFAULT 0,
    error_message TEXT,
    started_at TEXT,
    completed_at TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    CONSTRAINT ck_validation_jobs_status CHECK (status IN ('pending', 'running', 'completed', 'failed')),
    CONSTRAINT ck_validation_jobs_progress CHECK (progress BETWEEN 0 AND 100),
    CONSTRAINT ck_validation_jobs_counts CHECK (total_images >= 0 AND validated_images >= 0 AND invalid_images >= 0)
);
CREATE INDEX ix_validation_jobs_crawl_job_id ON validation_jobs(crawl_job_id);

CREATE TABLE export_jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    crawl_job_id INTEGER NOT NULL REFERENCES crawl_jobs(id) ON DELETE CASCADE,
    user_id TEXT REFERENCES profiles(id) ON DELETE SET NULL,
    name VARCHAR(100),
    format VARCHAR(20) NOT NULL,
    status VARCHAR(20) NOT NULL DEFAULT 'pending',
    progress INTEGER NOT NULL DEFAULT 0,
    total_images INTEGER NOT NULL DEFAULT 0,
    exported_images INTEGER NOT NULL DEFAULT 0,
    file_size INTEGER,
    file_path TEXT,
    sha256 CHAR(64),
    download_url TEXT,
    expires_at TEXT,
    export_options TEXT NOT NULL DEFAULT '{}' CHECK (export_options IS NULL OR json_valid(export_options)),
    error_message TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    lease_owner TEXT,
    lease_token TEXT,
    lease_expires_at TEXT,
    started_at TEXT,
    completed_at TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    CONSTRAINT ck_export_jobs_format CHECK (format IN ('zip', 'tar', 'tar.gz', 'webdataset', 'csv', 'jsonl')),
    CONSTRAINT ck_export_jobs_status CHECK (status IN ('pending', 'running', 'completed', 'failed', 'expired')),
    CONSTRAINT ck_export_jobs_progress CHECK (progress BETWEEN 0 AND 100),
    CONSTRAINT ck_export_jobs_counts CHECK (
        total_images >= 0 AND exported_images >= 0 AND attempts >= 0 AND (file_size IS NULL OR file_size >= 0))
);
CREATE INDEX ix_export_jobs_crawl_job_id ON export_jobs(crawl_job_id);
CREATE INDEX ix_export_jobs_claimable ON export_jobs(created_at, id) WHERE status IN ('pending', 'running');

CREATE TABLE download_records (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    export_id INTEGER NOT NULL REFERENCES export_jobs(id) ON DELETE CASCADE,
    token_hash CHAR(64) NOT NULL,
    expires_at TEXT NOT NULL,
    download_count INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    last_download_at TEXT,
    CONSTRAINT uq_download_records_token_hash UNIQUE (token_hash),
    CONSTRAINT ck_download_records_count CHECK (download_count >= 0)
);
CREATE INDEX ix_download_records_export_id ON download_records(export_id);
CREATE INDEX ix_download_records_expires_at ON download_records(expires_at);

CREATE TABLE workers (
    id TEXT PRIMARY KEY,
    hostname TEXT NOT NULL,
    pid INTEGER NOT NULL,
    version TEXT NOT NULL,
    status VARCHAR(20) NOT NULL DEFAULT 'running',
    current_chunk_id INTEGER,
    started_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    heartbeat_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    CONSTRAINT ck_workers_status CHECK (status IN ('running', 'stopping', 'stopped'))
);
CREATE INDEX ix_workers_heartbeat_at ON workers(heartbeat_at);

CREATE TABLE error_logs (
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
        'TOO_LARGE', 'FORMAT', 'DECODE', 'DIMENSIONS', 'DUPLICATE', 'STORAGE', 'DATABASE', 'BLOCKED', 'SOURCE')),
    CONSTRAINT ck_error_logs_severity CHECK (severity IN ('info', 'warning', 'error', 'critical'))
);
CREATE INDEX ix_error_logs_job_category ON error_logs(job_id, category);
CREATE INDEX ix_error_logs_created_at ON error_logs(created_at);
