-- Fleet-wide politeness: one budget per host shared by every worker of the store. Times are seconds since the
-- Unix epoch on the database's clock, so every worker process agrees.
CREATE TABLE host_budgets (
    host TEXT PRIMARY KEY,
    max_connections INTEGER NOT NULL,
    current_connections INTEGER NOT NULL,
    requests_per_second REAL,
    bytes_per_second REAL,
    next_request_at REAL NOT NULL DEFAULT 0,
    bytes_paid_until REAL NOT NULL DEFAULT 0,
    paused_until REAL NOT NULL DEFAULT 0,
    pause_reason TEXT,
    rate_limit TEXT,
    successes INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    CONSTRAINT ck_host_budgets_connections CHECK (max_connections >= 1 AND current_connections >= 1
        AND current_connections <= max_connections),
    CONSTRAINT ck_host_budgets_rates CHECK ((requests_per_second IS NULL OR requests_per_second > 0)
        AND (bytes_per_second IS NULL OR bytes_per_second > 0))
);

-- One row per connection a worker holds to a host; an expired row (a crashed worker) frees its slot.
CREATE TABLE host_leases (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    host TEXT NOT NULL REFERENCES host_budgets(host) ON DELETE CASCADE,
    holder TEXT NOT NULL,
    expires_at REAL NOT NULL
);
CREATE INDEX ix_host_leases_host ON host_leases(host, expires_at);
