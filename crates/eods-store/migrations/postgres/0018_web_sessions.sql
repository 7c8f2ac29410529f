-- Sessions of the web pages, kept by the server: the cookie holds a random secret, this table its
-- SHA-256 (so a database copy signs nobody in), the token it was opened with, and when it
-- expires or was ended by signing out. A revoked token ends its sessions (checked on use).
CREATE TABLE web_sessions (
    id         TEXT PRIMARY KEY,
    token_id   TEXT NOT NULL REFERENCES api_tokens(id),
    created_ms BIGINT NOT NULL,
    expires_ms BIGINT NOT NULL,
    ended_ms   BIGINT
);
CREATE INDEX web_sessions_token ON web_sessions (token_id);
