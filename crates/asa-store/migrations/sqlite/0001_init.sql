-- Times are epoch milliseconds (UTC) in both dialects; money is integer credits.
CREATE TABLE accounts (
    id TEXT PRIMARY KEY,
    name TEXT,
    plan TEXT NOT NULL,
    concurrency_override BIGINT,
    rps_override BIGINT,
    balance BIGINT NOT NULL CHECK (balance >= 0),
    reserved BIGINT NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    topup_threshold BIGINT,
    topup_amount BIGINT,
    topup_monthly_cap BIGINT,
    created_at BIGINT NOT NULL
);

CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    kind TEXT NOT NULL,
    short_prefix TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT,
    expires_at BIGINT,
    replaced_by TEXT
);
CREATE INDEX api_keys_short_prefix ON api_keys (short_prefix);
CREATE INDEX api_keys_account ON api_keys (account_id);

CREATE TABLE reservations (
    request_id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    cost BIGINT NOT NULL CHECK (cost > 0),
    state TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    settled_at BIGINT
);
CREATE INDEX reservations_held ON reservations (expires_at) WHERE state = 'held';

CREATE TABLE ledger (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    kind TEXT NOT NULL,
    amount BIGINT NOT NULL CHECK (amount > 0),
    balance_after BIGINT NOT NULL,
    reserved_after BIGINT NOT NULL,
    request_id TEXT,
    note TEXT,
    created_at BIGINT NOT NULL,
    UNIQUE (kind, request_id)
);
CREATE INDEX ledger_account ON ledger (account_id, id);
CREATE INDEX ledger_account_kind ON ledger (account_id, kind, created_at);

CREATE TABLE invoice_lines (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    amount BIGINT NOT NULL,
    status TEXT NOT NULL,
    reference TEXT,
    failure TEXT,
    request_id TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX invoice_lines_account ON invoice_lines (account_id, created_at);

CREATE TABLE traces (
    request_id TEXT PRIMARY KEY,
    created_at BIGINT NOT NULL,
    account_id TEXT,
    key_prefix TEXT,
    endpoint TEXT NOT NULL,
    params TEXT NOT NULL,
    status BIGINT NOT NULL,
    error_code TEXT,
    credits_charged BIGINT NOT NULL,
    latency_ms BIGINT NOT NULL,
    attempts TEXT NOT NULL,
    extractor TEXT NOT NULL
);
CREATE INDEX traces_created ON traces (created_at);
CREATE INDEX traces_account_created ON traces (account_id, created_at);
