-- Online orders returned at a store (issue 12). Same in ../server-postgres but for the first line.

-- sales: the online order a store return names instead of a receipt (its lines keep
-- original_line, with original_sale empty).
ALTER TABLE returns ADD COLUMN online_order BIGINT;
CREATE INDEX returns_online_order ON returns(online_order);

-- shop: what a store return of an online order owes the shopper's card. One row per return
-- record, written in the transaction that stores the record, so a record pushed twice owes
-- once; paid through the card processor with the record's id as idempotency key, so a refund
-- asked twice (a crash, a lost answer, two instances) is made once.
-- status: pending (to ask the processor), refunded, failed (the processor refused: head
-- office is alerted), refused (nothing owed: the order could not be returned, alerted).
CREATE TABLE order_refunds (
    record_id    TEXT PRIMARY KEY,
    order_number BIGINT NOT NULL,
    store        TEXT NOT NULL,
    amount       BIGINT NOT NULL,
    status       TEXT NOT NULL,
    refund_id    TEXT,
    reason       TEXT,
    created_ms   BIGINT NOT NULL,
    updated_ms   BIGINT NOT NULL
);
CREATE INDEX order_refunds_order ON order_refunds(order_number);
CREATE INDEX order_refunds_status ON order_refunds(status, updated_ms);
