-- The gateway's duties (issue 15): API keys for integrations and rate limits shared by every
-- instance. Same in both engines' folders.

-- gateway (gateway/keys.rs): a key an admin made for an integration. Only the SHA-256 of the
-- secret is kept (the secret is 32 random bytes, so a fast hash is enough); `prefix` is the
-- secret's first characters, shown in lists so a key can be told apart without revealing it.
-- `scopes` is a space-separated list; the limits are requests a minute and an hour.
CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    secret_hash  TEXT NOT NULL UNIQUE,
    scopes       TEXT NOT NULL,
    per_minute   BIGINT NOT NULL,
    per_hour     BIGINT NOT NULL,
    created_by   TEXT NOT NULL,
    created_ms   BIGINT NOT NULL,
    last_used_ms BIGINT,
    revoked_ms   BIGINT
);

-- gateway (gateway/limits.rs): one window of one bucket (an API key, a shopper, an address
-- signing in). A window opens at its first request and lasts `span_s` seconds; `hits` counts
-- the requests it let through, never past its limit plus one. Rows of windows long closed are
-- swept.
CREATE TABLE rate_windows (
    bucket     TEXT NOT NULL,
    span_s     BIGINT NOT NULL,
    started_ms BIGINT NOT NULL,
    hits       BIGINT NOT NULL,
    PRIMARY KEY (bucket, span_s)
);
CREATE INDEX rate_windows_started ON rate_windows (started_ms);
