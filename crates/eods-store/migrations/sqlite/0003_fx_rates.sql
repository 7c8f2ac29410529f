-- EODS schema, version 3: exchange rates loaded with `eods fx import` (the European Central
-- Bank's euro reference rates, or a file in their layout). Runs take the newest rate on or
-- before a day from these, over the snapshot bundled with the binary. A rate is units of the
-- currency per euro, kept as exact decimal text (SQLite has no decimal type); a later import of
-- the same day and currency replaces the rate and points it at its import.

CREATE TABLE fx_imports (
    id          TEXT PRIMARY KEY,
    source      TEXT NOT NULL,
    file_name   TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    first_date  TEXT NOT NULL,
    last_date   TEXT NOT NULL,
    currencies  INTEGER NOT NULL CHECK (currencies >= 1),
    rates       INTEGER NOT NULL CHECK (rates >= 1)
);

CREATE TABLE fx_rates (
    rate_date TEXT NOT NULL,
    currency  TEXT NOT NULL CHECK (length(currency) = 3 AND currency = upper(currency)),
    per_eur   TEXT NOT NULL CHECK (CAST(per_eur AS REAL) > 0),
    import_id TEXT NOT NULL REFERENCES fx_imports(id),
    PRIMARY KEY (rate_date, currency)
);
