-- The chain's receipt details (issue 29), for PostgreSQL. Same in ../server-sqlite but for this line.
-- chain (issue 29): its legal name and its GST and QST registration numbers, set by head office and
-- published to every register.
-- One row per setting (legal_name, gst_number, qst_number); a setting never set, or cleared,
-- has no row. Owned by the chain context (sync-server/src/chain.rs).
CREATE TABLE chain_settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
