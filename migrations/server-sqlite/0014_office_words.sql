-- Head office's pages, mended (issue 27). Same in ../server-postgres but for this line and the key's spelling.
-- alerts: what the alert says as a code and its parameters (JSON object of strings), so that
-- the pages word it in the reader's language; `message` keeps the English sentence for other
-- readers (logs, the API's older clients). Empty code: an alert raised before this, worded by
-- its kind alone.
ALTER TABLE alerts ADD COLUMN code TEXT NOT NULL DEFAULT '';
ALTER TABLE alerts ADD COLUMN params TEXT NOT NULL DEFAULT '{}';

-- replenishment: a short number for each request and transfer (R-12, T-7), given in the order
-- head office learnt of them; the UUID stays their key.
CREATE TABLE replenishment_numbers (
    number    INTEGER PRIMARY KEY AUTOINCREMENT,
    record_id TEXT NOT NULL UNIQUE
);
-- Numbered explicitly: an INSERT … SELECT … ORDER BY does not promise to draw the serial key in
-- that order on PostgreSQL. The key's sequence is moved past them below.
INSERT INTO replenishment_numbers (number, record_id)
    SELECT ROW_NUMBER() OVER (ORDER BY requested_ms, record_id), record_id FROM replenishment_requests;
CREATE TABLE transfer_numbers (
    number   INTEGER PRIMARY KEY AUTOINCREMENT,
    transfer TEXT NOT NULL UNIQUE
);
INSERT INTO transfer_numbers (number, transfer)
    SELECT ROW_NUMBER() OVER (ORDER BY shipped_ms, id), id FROM transfers;

-- Engine-specific below this line.
-- Nothing: an AUTOINCREMENT key given explicitly moves sqlite_sequence past it by itself.
