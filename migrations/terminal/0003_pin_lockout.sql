-- Wrong PINs in a row per cashier at this till. Five in a row lock the cashier out here until
-- locked_until_ms, even with the right PIN; a right PIN clears the row. Kept in the file, so
-- restarting the app does not give a guesser five more tries.
CREATE TABLE pin_failures (
    cashier         INTEGER PRIMARY KEY,
    failures        INTEGER NOT NULL,
    locked_until_ms INTEGER
);
