-- A product's barcodes, space-separated in code order, kept on its row (catalogue.rs writes
-- both in the same statements). `barcodes` stays the table a scan is looked up in and that
-- keeps a code to one product; this copy is for listing pages, where reading each product's
-- codes from `barcodes` took half of the database's time (BENCHMARKS.md). Same in both
-- engines' folders.
ALTER TABLE products ADD COLUMN codes TEXT NOT NULL DEFAULT '';
UPDATE products SET codes = COALESCE(
    (SELECT string_agg(b.code, ' ' ORDER BY b.code) FROM barcodes b WHERE b.sku = products.sku), '');
