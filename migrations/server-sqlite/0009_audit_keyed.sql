-- The audit trail is keyed (sync-server/src/audit.rs says why and how): each entry names how
-- its hash was made, `hmac-sha256` under head office's key (kept outside the database) from
-- now on; the entries already written keep `sha256`, the unkeyed hash they were made with.
ALTER TABLE audit_log ADD COLUMN alg TEXT NOT NULL DEFAULT 'sha256';

-- Engine-specific below this line.
-- Entries are never changed: the database itself refuses it, as it does for claims' events.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit trail is never updated or deleted');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit trail is never updated or deleted');
END;
