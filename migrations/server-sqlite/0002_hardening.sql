-- Hardening (issue 10). Same in ../server-postgres but for the first line.

-- identity: failed sign-ins and enrolment attempts, per account and per address, so that
-- guessing is slowed down on every instance alike.
CREATE TABLE attempt_throttle (
    key             TEXT PRIMARY KEY,
    failures        BIGINT NOT NULL,
    window_start_ms BIGINT NOT NULL,
    locked_until_ms BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX sessions_expiry ON sessions(expires_ms);

-- sync: a refused record is kept once per distinct refusal (the same payload refused for the
-- same reason is counted, not stored again), and only a bounded prefix of its payload.
DROP INDEX dead_letters_record;
ALTER TABLE dead_letters ADD COLUMN digest TEXT;
ALTER TABLE dead_letters ADD COLUMN payload_bytes BIGINT NOT NULL DEFAULT 0;
ALTER TABLE dead_letters ADD COLUMN times BIGINT NOT NULL DEFAULT 1;
ALTER TABLE dead_letters ADD COLUMN last_ms BIGINT NOT NULL DEFAULT 0;
UPDATE dead_letters SET digest = 'legacy-' || id, last_ms = received_ms;
CREATE UNIQUE INDEX dead_letters_digest ON dead_letters(register_id, digest);

-- reporting: records filed under another day than the register's (its clock was ahead).
ALTER TABLE daily_sales ADD COLUMN redated BIGINT NOT NULL DEFAULT 0;
