-- Daily totals off the write path (issue 25). Same in ../server-sqlite but for the first line.

-- reporting (reporting/): what each push's sales and returns, and each online order or refund,
-- add to a (store, business day) and its products, appended in the transaction that records
-- them. Nothing else writes to it or takes a row every writer takes: `position` comes from
-- commit_order (the transaction id on PostgreSQL, report_clock on SQLite, which has one writer).
-- The projector folds rows past report_checkpoint into daily_sales and daily_products, a batch
-- per transaction; `products` is a JSON list of [sku, sold, returned, net_sales, net_refunds].
CREATE TABLE report_journal (
    position     BIGINT PRIMARY KEY,
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
    redated      BIGINT NOT NULL,
    products     TEXT NOT NULL,
    at_ms        BIGINT NOT NULL
);
CREATE INDEX report_journal_day ON report_journal(store, business_day, position);
CREATE TABLE report_clock (
    id       BIGINT PRIMARY KEY,
    position BIGINT NOT NULL
);
INSERT INTO report_clock (id, position) VALUES (1, 0);
-- How far the projector has folded, and when it last did.
CREATE TABLE report_checkpoint (
    id        BIGINT PRIMARY KEY,
    position  BIGINT NOT NULL,
    folded_ms BIGINT NOT NULL
);
INSERT INTO report_checkpoint (id, position, folded_ms) VALUES (1, 0, 0);
