-- After-sales claims, notifications and the audit trail (issue 14). Same in ../server-sqlite but for the first line and the engine-specific triggers at the end.

-- shop: the language a shopper's messages are written in (fr or en).
ALTER TABLE customers ADD COLUMN language TEXT NOT NULL DEFAULT 'fr';

-- claims (claims/store.rs): the event store. One row per event, appended, never updated or
-- deleted (the triggers below refuse it). `position` is global and handed out by claim_clock,
-- whose row lock makes positions commit in order (the same reasoning as feed_clock), so a
-- projector following it never skips a late commit. `version` numbers a claim's own events:
-- a command appends at the version it read plus one, and the unique key refuses a racer.
-- `format` is the version of the format of `data`: older formats are upcast when read, never rewritten.
CREATE TABLE claim_events (
    position   BIGINT PRIMARY KEY,
    stream     TEXT NOT NULL,
    version    BIGINT NOT NULL,
    type       TEXT NOT NULL,
    format     BIGINT NOT NULL,
    data       TEXT NOT NULL,
    actor      TEXT NOT NULL,
    request_id TEXT,
    at_ms      BIGINT NOT NULL,
    UNIQUE (stream, version)
);
CREATE TABLE claim_clock (
    id       BIGINT PRIMARY KEY,
    position BIGINT NOT NULL
);
INSERT INTO claim_clock (id, position) VALUES (1, 0);

-- claims (claims/refunds.rs): a refund decided on a claim. About an online order, it is owed
-- to the shopper's card (pending) until the processor confirms it (refunded); about a
-- receipt, it is paid at the store's counter (at_store). One row per resolution, keyed by the
-- event that decided it: the idempotency key the processor sees.
CREATE TABLE claim_refunds (
    refund_key   TEXT PRIMARY KEY,
    claim        TEXT NOT NULL,
    order_number BIGINT,
    receipt      TEXT,
    amount       BIGINT NOT NULL,
    status       TEXT NOT NULL,
    refund_id    TEXT,
    reason       TEXT,
    created_ms   BIGINT NOT NULL,
    updated_ms   BIGINT NOT NULL
);
CREATE INDEX claim_refunds_order ON claim_refunds(order_number);
CREATE INDEX claim_refunds_receipt ON claim_refunds(receipt);
CREATE INDEX claim_refunds_due ON claim_refunds(status, updated_ms);

-- claims (claims/projections.rs): the read models, rebuilt from the events at will, and how
-- far each projector has read.
CREATE TABLE claim_checkpoints (
    projector  TEXT PRIMARY KEY,
    position   BIGINT NOT NULL
);
INSERT INTO claim_checkpoints (projector, position) VALUES ('queue', 0), ('shoppers', 0), ('statistics', 0);
CREATE TABLE claims_queue (
    id           TEXT PRIMARY KEY,
    state        TEXT NOT NULL,
    kind         TEXT NOT NULL,
    store        TEXT NOT NULL,
    order_number BIGINT,
    receipt      TEXT,
    customer_id  BIGINT,
    assignee     TEXT,
    summary      TEXT NOT NULL,
    resolution   TEXT,
    refund_cents BIGINT NOT NULL,
    version      BIGINT NOT NULL,
    filed_ms     BIGINT NOT NULL,
    updated_ms   BIGINT NOT NULL
);
CREATE INDEX claims_queue_state ON claims_queue(state, filed_ms);
CREATE TABLE claims_by_shopper (
    customer_id  BIGINT NOT NULL,
    id           TEXT NOT NULL,
    order_number BIGINT NOT NULL,
    kind         TEXT NOT NULL,
    state        TEXT NOT NULL,
    resolution   TEXT,
    refund_cents BIGINT NOT NULL,
    refund_sent  BIGINT NOT NULL,
    filed_ms     BIGINT NOT NULL,
    updated_ms   BIGINT NOT NULL,
    PRIMARY KEY (customer_id, id)
);
CREATE TABLE claims_weekly (
    kind     TEXT NOT NULL,
    store    TEXT NOT NULL,
    week     TEXT NOT NULL,
    filed    BIGINT NOT NULL,
    resolved BIGINT NOT NULL,
    rejected BIGINT NOT NULL,
    PRIMARY KEY (kind, store, week)
);
-- The time from filing to a claim's first resolution or rejection, for the median.
CREATE TABLE claims_resolution_times (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    store       TEXT NOT NULL,
    week        TEXT NOT NULL,
    duration_ms BIGINT NOT NULL
);

-- notify (notify.rs): messages to customers, written in the transaction of the change they
-- tell of and delivered afterwards, at least once. `id` is the message's id, made from what
-- it tells of, so the same change never writes two messages; it is also the Message-ID a
-- mail client deduplicates by.
CREATE TABLE outbox (
    id         TEXT PRIMARY KEY,
    recipient  TEXT NOT NULL,
    language   TEXT NOT NULL,
    subject    TEXT NOT NULL,
    body       TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    attempts   BIGINT NOT NULL DEFAULT 0,
    next_ms    BIGINT NOT NULL,
    sent_ms    BIGINT,
    last_error TEXT
);
CREATE INDEX outbox_due ON outbox(sent_ms, next_ms);

-- audit (audit.rs): what head office did, each entry chained to the one before by its hash.
CREATE TABLE audit_log (
    seq        BIGINT PRIMARY KEY,
    at_ms      BIGINT NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    object     TEXT NOT NULL,
    request_id TEXT,
    before_state TEXT,
    after_state  TEXT,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL
);
CREATE INDEX audit_log_actor ON audit_log(actor, at_ms);
CREATE INDEX audit_log_object ON audit_log(object, at_ms);
CREATE INDEX audit_log_at ON audit_log(at_ms);

-- Engine-specific below this line.
-- Events are never changed: the database itself refuses it.
CREATE FUNCTION claim_events_are_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'claim events are never updated or deleted';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER claim_events_no_update BEFORE UPDATE OR DELETE ON claim_events
    FOR EACH ROW EXECUTE FUNCTION claim_events_are_append_only();
