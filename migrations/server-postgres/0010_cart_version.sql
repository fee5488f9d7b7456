-- A cart's version, so one cart is checked out once (issue 24). Same in ../server-sqlite but for this line.

-- shop: one row per shopper who ever had a cart. `version` goes up with every change to the
-- cart's lines (cart.rs), with a checkout that takes them and with one that fails; a checkout
-- claims the version it read by a conditional update of `claimed_version` (checkout.rs), so a
-- second checkout of the same version, concurrent or later, finds it claimed and orders nothing.
-- `taken_version` is the version a confirmed checkout left when it took the lines: a checkout
-- that finds the cart still at it was late for that one, and is told so.
CREATE TABLE carts (
    customer_id     BIGINT PRIMARY KEY REFERENCES customers(id),
    version         BIGINT NOT NULL DEFAULT 0,
    claimed_version BIGINT NOT NULL DEFAULT -1,
    taken_version   BIGINT NOT NULL DEFAULT -1
);
INSERT INTO carts (customer_id, version, claimed_version)
    SELECT DISTINCT customer_id, 1, 0 FROM cart_lines;
