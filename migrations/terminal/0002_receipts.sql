-- Receipts printed, by record. A sale is complete when its record is committed; printing comes
-- after, may fail, and is retried by a reprint: a record without a row here is unprinted.
CREATE TABLE receipts (
    record_id  TEXT PRIMARY KEY,
    printed_ms INTEGER NOT NULL,
    copies     INTEGER NOT NULL DEFAULT 1
);
