-- Dashboard sign-ins. The browser holds only a random token; its SHA-256 is the id here.
-- An account session names the key it signed in with (it ends when that key stops
-- authenticating); an operator session (admin token) has neither account nor key.
CREATE TABLE dashboard_sessions (
    id TEXT PRIMARY KEY,
    account_id TEXT REFERENCES accounts (id),
    key_id TEXT,
    csrf TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX dashboard_sessions_expires ON dashboard_sessions (expires_at);
