-- Head office's pages (issue 13). Same in ../server-postgres but for the first line.

-- identity: an admin disables an account (it can no longer sign in and its sessions end).
ALTER TABLE users ADD COLUMN disabled BIGINT NOT NULL DEFAULT 0;
-- identity: the newest feed version a register has been handed by a pull, so that head office
-- can say how many registers a catalogue change has reached.
ALTER TABLE registers ADD COLUMN pulled_version BIGINT NOT NULL DEFAULT 0;

-- catalogue: what only head office keeps of a product (registers do not carry it): a
-- description, and the most a location should hold (0: no maximum), above which the
-- location is overstocked.
ALTER TABLE products ADD COLUMN description TEXT NOT NULL DEFAULT '';
ALTER TABLE products ADD COLUMN max_level BIGINT NOT NULL DEFAULT 0;

-- alerts: who acknowledged an alert, and when. An acknowledged alert stays open until its
-- cause goes away (the stock is back above its threshold, say).
ALTER TABLE alerts ADD COLUMN acknowledged_by TEXT;
ALTER TABLE alerts ADD COLUMN acknowledged_ms BIGINT;

-- replenishment: who started a transfer from the pages (a redistribution between stores, or
-- a replenishment from an alert); NULL for one shipped by approving a store's request.
ALTER TABLE transfers ADD COLUMN started_by TEXT;

-- reporting: the dashboard and the report read days in a range.
CREATE INDEX daily_sales_day ON daily_sales(business_day);
CREATE INDEX daily_products_day ON daily_products(business_day);
