-- Lockout that cannot be aimed at someone (issue 24), for SQLite. Same in ../server-postgres but for this line.
-- identity (issue 24): when a throttle row may go. A row is of use until its window has
-- closed and its lock has passed, whichever is later; the server sweeps the rows past that
-- now and then, so guessing from ever new addresses cannot grow the table for good.
ALTER TABLE attempt_throttle ADD COLUMN expires_ms BIGINT NOT NULL DEFAULT 0;
-- Rows from before: kept for the longest window (an hour) or their lock, whichever is later.
UPDATE attempt_throttle SET expires_ms = CASE
    WHEN locked_until_ms > window_start_ms + 3600000 THEN locked_until_ms
    ELSE window_start_ms + 3600000 END;
CREATE INDEX attempt_throttle_expiry ON attempt_throttle(expires_ms);
