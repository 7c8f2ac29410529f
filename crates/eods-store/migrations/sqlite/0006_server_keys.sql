-- Keys the service itself holds, one row per purpose, written once on first use by whichever
-- instance gets there first (INSERT … ON CONFLICT DO NOTHING, then read back), so every instance
-- of a deployment uses the same key. `api_tokens` keys the HMAC-SHA-256 of API token secrets.
CREATE TABLE server_keys (
    purpose    TEXT PRIMARY KEY CHECK (purpose IN ('api_tokens')),
    key_hex    TEXT NOT NULL CHECK (length(key_hex) = 64),
    created_at TEXT NOT NULL
);
