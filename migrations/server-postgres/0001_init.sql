-- Caisse sync server schema (PostgreSQL). The SQLite schema in ../server-sqlite is the same
-- but for how an auto-increment key is declared (INTEGER PRIMARY KEY AUTOINCREMENT, BIGSERIAL).
-- Flags are BIGINT 0/1: sqlx's Any driver reads no SQLite BOOLEAN.
-- Each block is owned by one module of sync-server; no module reads another's tables.

-- identity
CREATE TABLE users (
    username      TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL
);
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    username   TEXT NOT NULL REFERENCES users(username),
    expires_ms BIGINT NOT NULL
);
CREATE TABLE registers (
    id           TEXT PRIMARY KEY,
    store        TEXT NOT NULL,
    secret_hash  TEXT UNIQUE,
    enrolled_ms  BIGINT,
    revoked_ms   BIGINT,
    last_push_ms BIGINT,
    last_pull_ms BIGINT,
    holds        BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE enrolment_codes (
    code_hash   TEXT PRIMARY KEY,
    register_id TEXT NOT NULL REFERENCES registers(id),
    expires_ms  BIGINT NOT NULL,
    used_ms     BIGINT
);

-- catalogue
CREATE TABLE locations (
    code    TEXT PRIMARY KEY,
    kind    TEXT NOT NULL,
    name    TEXT NOT NULL,
    address TEXT NOT NULL
);
CREATE TABLE products (
    sku               TEXT PRIMARY KEY,
    name              TEXT NOT NULL,
    category          TEXT NOT NULL,
    price_cents       BIGINT NOT NULL,
    tax_class         TEXT NOT NULL,
    reorder_threshold BIGINT NOT NULL,
    active            BIGINT NOT NULL,
    updated_ms        BIGINT NOT NULL
);
CREATE INDEX products_category ON products(category, sku);
CREATE TABLE barcodes (
    code TEXT PRIMARY KEY,
    sku  TEXT NOT NULL REFERENCES products(sku)
);
CREATE INDEX barcodes_sku ON barcodes(sku);
CREATE TABLE cashiers (
    id       BIGINT PRIMARY KEY,
    name     TEXT NOT NULL,
    store    TEXT,
    pin_hash TEXT NOT NULL,
    active   BIGINT NOT NULL
);

-- sync: the grow-only set of records, and what could not be accepted
CREATE TABLE records (
    id             TEXT PRIMARY KEY,
    origin         TEXT NOT NULL,
    seq            BIGINT NOT NULL,
    store          TEXT NOT NULL,
    kind           TEXT NOT NULL,
    hlc_wall       BIGINT NOT NULL,
    hlc_counter    BIGINT NOT NULL,
    device_time_ms BIGINT NOT NULL,
    received_ms    BIGINT NOT NULL,
    content        TEXT NOT NULL,
    UNIQUE (origin, seq)
);
CREATE TABLE dead_letters (
    id          BIGSERIAL PRIMARY KEY,
    register_id TEXT NOT NULL,
    received_ms BIGINT NOT NULL,
    record_id   TEXT,
    seq         BIGINT,
    field       TEXT,
    reason      TEXT NOT NULL,
    payload     TEXT NOT NULL
);
-- A refused push retried after a lost answer parks its records once.
CREATE UNIQUE INDEX dead_letters_record ON dead_letters(register_id, record_id, seq, reason);
-- The change feed registers pull: one row per key at its latest version.
CREATE TABLE feed (
    kind     TEXT NOT NULL,
    key      TEXT NOT NULL,
    audience TEXT,
    version  BIGINT NOT NULL,
    payload  TEXT NOT NULL,
    PRIMARY KEY (kind, key)
);
CREATE INDEX feed_version ON feed(version);
-- One row: the last version handed out. Updating it locks it until commit, so versions are
-- handed out in commit order and a pull cursor never skips a late commit.
CREATE TABLE feed_clock (
    id      INTEGER PRIMARY KEY,
    version BIGINT NOT NULL
);
INSERT INTO feed_clock (id, version) VALUES (1, 0);

-- inventory
CREATE TABLE stock_levels (
    location   TEXT NOT NULL,
    sku        TEXT NOT NULL,
    quantity   BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL,
    PRIMARY KEY (location, sku)
);
CREATE TABLE stock_movements (
    id        BIGSERIAL PRIMARY KEY,
    location  TEXT NOT NULL,
    sku       TEXT NOT NULL,
    delta     BIGINT NOT NULL,
    kind      TEXT NOT NULL,
    record_id TEXT,
    at_ms     BIGINT NOT NULL
);
CREATE INDEX stock_movements_key ON stock_movements(location, sku);

-- sales
CREATE TABLE sales (
    record_id    TEXT PRIMARY KEY,
    store        TEXT NOT NULL,
    register_id  TEXT NOT NULL,
    business_day TEXT NOT NULL,
    cashier      BIGINT NOT NULL,
    gross        BIGINT NOT NULL,
    discounts    BIGINT NOT NULL,
    net          BIGINT NOT NULL,
    gst          BIGINT NOT NULL,
    qst          BIGINT NOT NULL,
    total        BIGINT NOT NULL,
    rounding     BIGINT NOT NULL,
    change_given BIGINT NOT NULL
);
CREATE INDEX sales_store_day ON sales(store, business_day);
CREATE TABLE sale_lines (
    record_id  TEXT NOT NULL,
    line_no    BIGINT NOT NULL,
    sku        TEXT NOT NULL,
    quantity   BIGINT NOT NULL,
    unit_price BIGINT NOT NULL,
    net        BIGINT NOT NULL,
    gst        BIGINT NOT NULL,
    qst        BIGINT NOT NULL,
    PRIMARY KEY (record_id, line_no)
);
CREATE TABLE sale_tenders (
    record_id TEXT NOT NULL,
    idx       BIGINT NOT NULL,
    kind      TEXT NOT NULL,
    amount    BIGINT NOT NULL,
    PRIMARY KEY (record_id, idx)
);
CREATE TABLE returns (
    record_id      TEXT PRIMARY KEY,
    store          TEXT NOT NULL,
    register_id    TEXT NOT NULL,
    business_day   TEXT NOT NULL,
    original_sale  TEXT,
    original_store TEXT,
    verified       BIGINT NOT NULL,
    reason         TEXT NOT NULL,
    net            BIGINT NOT NULL,
    gst            BIGINT NOT NULL,
    qst            BIGINT NOT NULL,
    total          BIGINT NOT NULL,
    rounding       BIGINT NOT NULL
);
CREATE TABLE return_lines (
    record_id     TEXT NOT NULL,
    idx           BIGINT NOT NULL,
    original_sale TEXT,
    original_line BIGINT,
    sku           TEXT NOT NULL,
    quantity      BIGINT NOT NULL,
    net           BIGINT NOT NULL,
    restock       BIGINT NOT NULL,
    PRIMARY KEY (record_id, idx)
);
CREATE INDEX return_lines_original ON return_lines(original_sale, original_line);
CREATE TABLE till_closes (
    record_id     TEXT PRIMARY KEY,
    store         TEXT NOT NULL,
    register_id   TEXT NOT NULL,
    business_day  TEXT NOT NULL,
    sales_count   BIGINT NOT NULL,
    returns_count BIGINT NOT NULL,
    expected_cash BIGINT NOT NULL,
    counted_cash  BIGINT
);
-- Transfers shipped by the logistics centre, and each receipt of one at a store.
CREATE TABLE transfers (
    id         TEXT PRIMARY KEY,
    from_loc   TEXT NOT NULL,
    to_loc     TEXT NOT NULL,
    lines      TEXT NOT NULL,
    shipped_ms BIGINT NOT NULL
);
CREATE TABLE transfer_receipts (
    record_id TEXT PRIMARY KEY,
    transfer  TEXT NOT NULL,
    store     TEXT NOT NULL,
    lines     TEXT NOT NULL
);
CREATE INDEX transfer_receipts_transfer ON transfer_receipts(transfer);
CREATE TABLE replenishment_requests (
    record_id     TEXT PRIMARY KEY,
    store         TEXT NOT NULL,
    requested_ms  BIGINT NOT NULL,
    lines         TEXT NOT NULL,
    note          TEXT,
    status        TEXT NOT NULL,
    decided_by    TEXT,
    decided_ms    BIGINT,
    decision_note TEXT
);

-- reporting
CREATE TABLE daily_sales (
    store        TEXT NOT NULL,
    business_day TEXT NOT NULL,
    sales        BIGINT NOT NULL,
    returns      BIGINT NOT NULL,
    net_sales    BIGINT NOT NULL,
    gst          BIGINT NOT NULL,
    qst          BIGINT NOT NULL,
    collected    BIGINT NOT NULL,
    net_refunds  BIGINT NOT NULL,
    gst_refunded BIGINT NOT NULL,
    qst_refunded BIGINT NOT NULL,
    refunded     BIGINT NOT NULL,
    PRIMARY KEY (store, business_day)
);
CREATE TABLE daily_products (
    store        TEXT NOT NULL,
    business_day TEXT NOT NULL,
    sku          TEXT NOT NULL,
    sold         BIGINT NOT NULL,
    returned     BIGINT NOT NULL,
    net_sales    BIGINT NOT NULL,
    net_refunds  BIGINT NOT NULL,
    PRIMARY KEY (store, business_day, sku)
);
CREATE TABLE alerts (
    kind        TEXT NOT NULL,
    subject     TEXT NOT NULL,
    location    TEXT,
    sku         TEXT,
    record_id   TEXT,
    message     TEXT NOT NULL,
    raised_ms   BIGINT NOT NULL,
    resolved_ms BIGINT,
    PRIMARY KEY (kind, subject)
);
