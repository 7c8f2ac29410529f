-- EODS schema, version 4: places that can host events, imported from OpenStreetMap extracts with
-- `eods venues import-osm`. One row per OSM element (`id` is its venue reference, such as
-- `osm-node-123`); `record` is the whole venue record as JSON text (name, address, capacity when
-- the map gives it, provenance with the ODbL attribution). `city_key` is the record's city folded
-- for matching (`eods_domain::catalog::sources::fold_city`), so a search by city is one index
-- lookup. A later import of the same element replaces its row.

CREATE TABLE venue_places (
    id          TEXT PRIMARY KEY CHECK (length(id) > 0),
    city_key    TEXT NOT NULL,
    record      TEXT NOT NULL CHECK (json_valid(record)),
    source      TEXT NOT NULL,
    imported_at TEXT NOT NULL
);

CREATE INDEX venue_places_city ON venue_places (city_key);
