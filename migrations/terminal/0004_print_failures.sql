-- Why a receipt did not print, the last time it was tried: the printer's own word (out of paper,
-- cover open, offline) or the link's (unreachable, timed out). A receipt that prints loses its
-- row here and gains one in receipts; a receipt with neither was never sent to a printer.
CREATE TABLE print_failures (
    record_id TEXT PRIMARY KEY,
    failed_ms INTEGER NOT NULL,
    reason    TEXT NOT NULL
);
