-- PixCrawler schema, PostgreSQL dialect. Applied inside the configured schema (search_path).
-- Integrity lives here: foreign keys with cascade rules, CHECK constraints, unique keys.

CREATE TABLE profiles (
    id UUID PRIMARY KEY,
    email VARCHAR(255) NOT NULL,
    full_name VARCHAR(100),
    avatar_url TEXT,
    role VARCHAR(20) NOT NULL DEFAULT 'user',
    onboarding_completed BOOLEAN NOT NULL DEFAULT FALSE,
    onboarding_completed_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    CONSTRAINT uq_profiles_email UNIQUE (email),
    CONSTRAINT ck_profiles_role CHECK (role IN ('user', 'admin', 'moderator'))
);
CREATE INDEX ix_profiles_role ON profiles(role);
CREATE INDEX ix_profiles_created_at ON profiles(created_at);

CREATE TABLE api_tokens (
    id BIGSERIAL PRIMARY KEY,
    profile_id UUID NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
    name VARCHAR(200) NOT NULL,
    token_hash CHAR(64) NOT NULL,
    token_prefix VARCHAR(16) NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    last_used_at TIMESTAMPTZ,
    revoked_at TIMESTAMPTZ,
    CONSTRAINT uq_api_tokens_token_hash UNIQUE (token_hash)
);
CREATE INDEX ix_api_tokens_profile_id ON api_tokens(profile_id);

CREATE TABLE projects (
    id BIGSERIAL PRIMARY KEY,
    name VARCHAR(100) NOT NULL,
    description TEXT,
    user_id UUID NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
    status VARCHAR(20) NOT NULL DEFAULT 'active',
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    CONSTRAINT ck_projects_status CHECK (status IN ('active', 'archived', 'deleted'))
);
CREATE INDEX ix_projects_user_id ON projects(user_id);
CREATE INDEX ix_projects_status ON projects(status);
CREATE INDEX ix_projects_created_at ON projects(created_at);

CREATE TABLE crawl_jobs (
    id BIGSERIAL PRIMARY KEY,
    project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    name VARCHAR(100) NOT NULL,
    keywords JSONB NOT NULL,
    max_images INTEGER NOT NULL DEFAULT 1000,
    sources JSONB NOT NULL DEFAULT '["openverse"]'::jsonb,
    validation_rules JSONB NOT NULL DEFAULT '{}'::jsonb,
    chunk_size INTEGER NOT NULL DEFAULT 50,
    over_fetch DOUBLE PRECISION NOT NULL DEFAULT 1.5,
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
    shortfall JSONB,
    task_ids JSONB NOT NULL DEFAULT '[]'::jsonb,
    error_message TEXT,
    started_at TIMESTAMPTZ,
    completed_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
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
    id BIGSERIAL PRIMARY KEY,
    job_id BIGINT NOT NULL REFERENCES crawl_jobs(id) ON DELETE CASCADE,
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
    lease_expires_at TIMESTAMPTZ,
    available_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    checkpoint_cursor TEXT,
    candidates_done INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    completed_at TIMESTAMPTZ,
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
    id BIGSERIAL PRIMARY KEY,
    crawl_job_id BIGINT NOT NULL REFERENCES crawl_jobs(id) ON DELETE CASCADE,
    chunk_id BIGINT REFERENCES crawl_chunks(id) ON DELETE SET NULL,
    original_url TEXT NOT NULL,
    filename VARCHAR(255) NOT NULL,
    storage_url TEXT,
    width INTEGER,
    height INTEGER,
    file_size BIGINT,
    format VARCHAR(10),
    hash VARCHAR(64),
    sha256 CHAR(64) NOT NULL,
    perceptual_hash BIGINT,
    keyword TEXT NOT NULL,
    source TEXT NOT NULL,
    license TEXT,
    license_version TEXT,
    creator TEXT,
    landing_url TEXT,
    title TEXT,
    is_valid BOOLEAN NOT NULL DEFAULT TRUE,
    is_duplicate BOOLEAN NOT NULL DEFAULT FALSE,
    rejection_reason TEXT,
    labels JSONB,
    metadata JSONB,
    downloaded_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    CONSTRAINT uq_images_job_sha256 UNIQUE (crawl_job_id, sha256),
    CONSTRAINT uq_images_job_url UNIQUE (crawl_job_id, original_url),
    CONSTRAINT ck_images_dimensions CHECK ((width IS NULL OR width > 0) AND (height IS NULL OR height > 0)),
    CONSTRAINT ck_images_file_size CHECK (file_size IS NULL OR file_size >= 0)
);
CREATE INDEX ix_images_crawl_job_id ON images(crawl_job_id, id);
CREATE INDEX ix_images_created_at ON images(created_at);
CREATE INDEX ix_images_sha256 ON images(sha256);

CREATE TABLE activity_logs (
    id BIGSERIAL PRIMARY KEY,
    user_id UUID REFERENCES profiles(id) ON DELETE SET NULL,
    action TEXT NOT NULL,
    resource_type VARCHAR(50),
    resource_id VARCHAR(50),
    metadata JSONB,
    timestamp TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE INDEX ix_activity_logs_user_id ON activity_logs(user_id);
CREATE INDEX ix_activity_logs_timestamp ON activity_logs(timestamp);
CREATE INDEX ix_activity_logs_user_timestamp ON activity_logs(user_id, timestamp);
CREATE INDEX ix_activity_logs_resource ON activity_logs(resource_type, resource_id);

CREATE TABLE validation_jobs (
    id BIGSERIAL PRIMARY KEY,
    crawl_job_id BIGINT NOT NULL REFERENCES crawl_jobs(id) ON DELETE CASCADE,
    user_id UUID REFERENCES profiles(id) ON DELETE SET NULL,
    name VARCHAR(100),
    status VARCHAR(20) NOT NULL DEFAULT 'pending',
    validation_rules JSONB NOT NULL DEFAULT '{}'::jsonb,
    total_images INTEGER NOT NULL DEFAULT 0,
    validated_images INTEGER NOT NULL DEFAULT 0,
    invalid_images INTEGER NOT NULL DEFAULT 0,
    progress INTEGER NOT NULL DEFAULT 0,
    error_message TEXT,
    started_at TIMESTAMPTZ,
    completed_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    CONSTRAINT ck_validation_jobs_status CHECK (status IN ('pending', 'running', 'completed', 'failed')),
    CONSTRAINT ck_validation_jobs_progress CHECK (progress BETWEEN 0 AND 100),
    CONSTRAINT ck_validation_jobs_counts CHECK (total_images >= 0 AND validated_images >= 0 AND invalid_images >= 0)
);
CREATE INDEX ix_validation_jobs_crawl_job_id ON validation_jobs(crawl_job_id);

CREATE TABLE export_jobs (
    id BIGSERIAL PRIMARY KEY,
    crawl_job_id BIGINT NOT NULL REFERENCES crawl_jobs(id) ON DELETE CASCADE,
    user_id UUID REFERENCES profiles(id) ON DELETE SET NULL,
    name VARCHAR(100),
    format VARCHAR(20) NOT NULL,
    status VARCHAR(20) NOT NULL DEFAULT 'pending',
    progress INTEGER NOT NULL DEFAULT 0,
    total_images INTEGER NOT NULL DEFAULT 0,
    exported_images INTEGER NOT NULL DEFAULT 0,
    file_size BIGINT,
    file_path TEXT,
    sha256 CHAR(64),
    download_url TEXT,
    expires_at TIMESTAMPTZ,
    export_options JSONB NOT NULL DEFAULT '{}'::jsonb,
    error_message TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    lease_owner TEXT,
    lease_token TEXT,
    lease_expires_at TIMESTAMPTZ,
    started_at TIMESTAMPTZ,
    completed_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    CONSTRAINT ck_export_jobs_format CHECK (format IN ('zip', 'tar', 'tar.gz', 'webdataset', 'csv', 'jsonl')),
    CONSTRAINT ck_export_jobs_status CHECK (status IN ('pending', 'running', 'completed', 'failed', 'expired')),
    CONSTRAINT ck_export_jobs_progress CHECK (progress BETWEEN 0 AND 100),
    CONSTRAINT ck_export_jobs_counts CHECK (
        total_images >= 0 AND exported_images >= 0 AND attempts >= 0 AND (file_size IS NULL OR file_size >= 0))
);
CREATE INDEX ix_export_jobs_crawl_job_id ON export_jobs(crawl_job_id);
CREATE INDEX ix_export_jobs_claimable ON export_jobs(created_at, id) WHERE status IN ('pending', 'running');

CREATE TABLE download_records (
    id BIGSERIAL PRIMARY KEY,
    export_id BIGINT NOT NULL REFERENCES export_jobs(id) ON DELETE CASCADE,
    token_hash CHAR(64) NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    download_count INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    last_download_at TIMESTAMPTZ,
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
    current_chunk_id BIGINT,
    started_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    heartbeat_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    CONSTRAINT ck_workers_status CHECK (status IN ('running', 'stopping', 'stopped'))
);
CREATE INDEX ix_workers_heartbeat_at ON workers(heartbeat_at);

CREATE TABLE error_logs (
    id BIGSERIAL PRIMARY KEY,
    job_id BIGINT REFERENCES crawl_jobs(id) ON DELETE CASCADE,
    chunk_id BIGINT REFERENCES crawl_chunks(id) ON DELETE SET NULL,
    category VARCHAR(20) NOT NULL,
    severity VARCHAR(10) NOT NULL DEFAULT 'error',
    message TEXT NOT NULL,
    url TEXT,
    context JSONB NOT NULL DEFAULT '{}'::jsonb,
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    CONSTRAINT ck_error_logs_category CHECK (category IN ('NETWORK', 'HTTP_STATUS', 'RATE_LIMIT', 'ROBOTS',
        'TOO_LARGE', 'FORMAT', 'DECODE', 'DIMENSIONS', 'DUPLICATE', 'STORAGE', 'DATABASE', 'BLOCKED', 'SOURCE')),
    CONSTRAINT ck_error_logs_severity CHECK (severity IN ('info', 'warning', 'error', 'critical'))
);
CREATE INDEX ix_error_logs_job_category ON error_logs(job_id, category);
CREATE INDEX ix_error_logs_created_at ON error_logs(created_at);
