-- Asynchronous batches and their items, the items being a durable work queue.
CREATE TABLE batches (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    key_id TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    status TEXT NOT NULL,
    total_count BIGINT NOT NULL,
    processed_count BIGINT NOT NULL DEFAULT 0,
    success_count BIGINT NOT NULL DEFAULT 0,
    failure_count BIGINT NOT NULL DEFAULT 0,
    credits_charged BIGINT NOT NULL DEFAULT 0,
    webhook_url TEXT,
    webhook_secret TEXT NOT NULL,
    idempotency_key TEXT,
    request_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    started_at BIGINT,
    completed_at BIGINT,
    webhook_status TEXT,
    webhook_attempts BIGINT NOT NULL DEFAULT 0,
    webhook_next_at BIGINT,
    webhook_last_error TEXT,
    webhook_delivered_at BIGINT,
    UNIQUE (account_id, idempotency_key)
);
CREATE INDEX batches_account_created ON batches (account_id, created_at);
CREATE INDEX batches_webhook_due ON batches (webhook_next_at) WHERE webhook_status = 'pending';

-- state: queued | running | ok | error. available_at: for a queued item, not before; for a
-- running one, when its lease runs out and another worker may take it.
CREATE TABLE batch_items (
    batch_id TEXT NOT NULL REFERENCES batches (id),
    idx BIGINT NOT NULL,
    input TEXT NOT NULL,
    state TEXT NOT NULL,
    available_at BIGINT NOT NULL,
    lease_owner TEXT,
    runs BIGINT NOT NULL DEFAULT 0,
    request_id TEXT,
    http_status BIGINT,
    data TEXT,
    error TEXT,
    duration_ms BIGINT,
    credits_charged BIGINT NOT NULL DEFAULT 0,
    finished_at BIGINT,
    PRIMARY KEY (batch_id, idx)
);
-- Claims take ready items lowest index first, across batches.
CREATE INDEX batch_items_ready ON batch_items (idx, available_at) WHERE state IN ('queued', 'running');
