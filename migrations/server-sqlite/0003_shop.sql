-- The online shop (issue 12). Same in ../server-postgres but for the first line and the spelling of auto-increment keys.

-- inventory: units promised to online checkouts that have not finished. Online availability
-- is quantity - reserved; a reservation is a conditional update of this column.
ALTER TABLE stock_levels ADD COLUMN reserved BIGINT NOT NULL DEFAULT 0;

-- catalogue: each product's name as search compares it (lower case, no accents), so that
-- "cafe" finds "Café"; written with the name by sync-server's catalogue module.
ALTER TABLE products ADD COLUMN folded TEXT NOT NULL DEFAULT '';

-- shop: shoppers and their sign-ins
CREATE TABLE customers (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    email         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_ms    BIGINT NOT NULL
);
-- One row per sign-in: access tokens name it, so signing out refuses them at once.
CREATE TABLE shop_sessions (
    id          TEXT PRIMARY KEY,
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    created_ms  BIGINT NOT NULL,
    expires_ms  BIGINT NOT NULL,
    revoked_ms  BIGINT
);
-- Refresh tokens, hashed; each is used once and replaced. A used one presented again revokes
-- its session.
CREATE TABLE shop_refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES shop_sessions(id),
    expires_ms BIGINT NOT NULL,
    used_ms    BIGINT
);
CREATE INDEX shop_refresh_tokens_session ON shop_refresh_tokens(session_id);
-- The key access tokens are signed with, shared by every instance.
CREATE TABLE shop_keys (
    id     INTEGER PRIMARY KEY,
    secret TEXT NOT NULL
);
CREATE TABLE cart_lines (
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    sku         TEXT NOT NULL,
    quantity    BIGINT NOT NULL,
    added_ms    BIGINT NOT NULL,
    PRIMARY KEY (customer_id, sku)
);
-- The checkout saga: one row per checkout, its step, and who works on it until when.
CREATE TABLE checkouts (
    id              TEXT PRIMARY KEY,
    customer_id     BIGINT NOT NULL REFERENCES customers(id),
    idempotency_key TEXT NOT NULL,
    fingerprint     TEXT NOT NULL,
    step            TEXT NOT NULL,
    order_number    BIGINT,
    failure         TEXT,
    lease_until_ms  BIGINT NOT NULL,
    created_ms      BIGINT NOT NULL,
    updated_ms      BIGINT NOT NULL,
    UNIQUE (customer_id, idempotency_key)
);
CREATE INDEX checkouts_unfinished ON checkouts(step, lease_until_ms);
CREATE TABLE orders (
    number         INTEGER PRIMARY KEY AUTOINCREMENT,
    checkout_id    TEXT NOT NULL UNIQUE,
    customer_id    BIGINT NOT NULL REFERENCES customers(id),
    location       TEXT NOT NULL,
    status         TEXT NOT NULL,
    lines          TEXT NOT NULL,
    net            BIGINT NOT NULL,
    gst            BIGINT NOT NULL,
    qst            BIGINT NOT NULL,
    total          BIGINT NOT NULL,
    payment_id     TEXT,
    refund_id      TEXT,
    business_day   TEXT,
    created_ms     BIGINT NOT NULL,
    updated_ms     BIGINT NOT NULL
);
CREATE INDEX orders_customer ON orders(customer_id, number);
CREATE INDEX orders_status ON orders(status, number);
