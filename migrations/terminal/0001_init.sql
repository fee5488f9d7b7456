-- A register's database: its only state. A copy of this file restores the till.

-- Who this register is and where its sync stands: enrolment, cursor, clock, counters.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- What head office publishes, as of the last pull.
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
    price_cents       INTEGER NOT NULL,
    tax_class         TEXT NOT NULL,
    reorder_threshold INTEGER NOT NULL,
    active            INTEGER NOT NULL
);
CREATE INDEX products_name ON products(name);
CREATE TABLE barcodes (
    code TEXT PRIMARY KEY,
    sku  TEXT NOT NULL
);
CREATE INDEX barcodes_sku ON barcodes(sku);
CREATE TABLE cashiers (
    id       INTEGER PRIMARY KEY,
    name     TEXT NOT NULL,
    store    TEXT,
    pin_hash TEXT NOT NULL,
    active   INTEGER NOT NULL
);
-- Head office's stock figures, true as of as_of_ms.
CREATE TABLE stock_levels (
    location TEXT NOT NULL,
    sku      TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    as_of_ms INTEGER NOT NULL,
    PRIMARY KEY (location, sku)
);

-- Transfers shipped to this store, and head office's answers to its replenishment requests.
CREATE TABLE transfers (
    id         TEXT PRIMARY KEY,
    from_loc   TEXT NOT NULL,
    lines      TEXT NOT NULL,
    shipped_ms INTEGER NOT NULL
);
CREATE TABLE replenishment_decisions (
    request  TEXT PRIMARY KEY,
    decision TEXT NOT NULL,
    transfer TEXT,
    note     TEXT
);

-- Every record this register made, in seq order: the outbox and the till's journal at once.
-- status: pending (not yet held by head office), held, rejected (refused; see reason).
-- reflected: head office held it and a later pull brought stock figures that include it.
CREATE TABLE journal (
    seq        INTEGER PRIMARY KEY,
    id         TEXT NOT NULL UNIQUE,
    kind       TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    content    TEXT NOT NULL,
    status     TEXT NOT NULL DEFAULT 'pending',
    reason     TEXT,
    settled_ms INTEGER,
    reflected  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX journal_status ON journal(status, seq);

-- Sales in progress: id 0 is the one on screen, others are parked.
CREATE TABLE carts (
    id         INTEGER PRIMARY KEY,
    cashier    INTEGER,
    parked_ms  INTEGER,
    content    TEXT NOT NULL
);
