-- The audit trail is keyed (sync-server/src/audit.rs says why and how): each entry names how
-- its hash was made, `hmac-sha256` under head office's key (kept outside the database) from
-- now on; the entries already written keep `sha256`, the unkeyed hash they were made with.
ALTER TABLE audit_log ADD COLUMN alg TEXT NOT NULL DEFAULT 'sha256';

-- Engine-specific below this line.
-- Entries are never changed: the database itself refuses it, as it does for claims' events
-- (TRUNCATE too, which row triggers do not see).
CREATE FUNCTION audit_log_is_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is never updated or deleted';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_is_append_only();
