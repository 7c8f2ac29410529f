//! OpenStreetMap elements as venue records. PLACEHOLDER of the `overpass` branch: only the
//! signature of `record_from_tags` is the contract; the `osm` branch holds the full version
//! (capacity, address, amenities) and replaces this file when the branches are merged.

use eods_domain::catalog::sources::{Provenance, SourceKind, VenueRecord};
use eods_domain::ids::VenueRef;

/// The venue record of one OpenStreetMap element (`osm_type` `node`, `way` or `relation`), or
/// `None` when the element has no name. The record's id is `osm-<type>-<id>` and its provenance
/// names the element with the OpenStreetMap attribution.
pub fn record_from_tags(
    kind: SourceKind,
    osm_type: &str,
    osm_id: i64,
    tags: &[(String, String)],
    lat: Option<f64>,
    lon: Option<f64>,
) -> Option<VenueRecord> {
    let tag = |key: &str| {
        tags.iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    };
    let name = tag("name");
    if name.is_empty() {
        return None;
    }
    Some(VenueRecord {
        id: VenueRef(format!("osm-{osm_type}-{osm_id}")),
        name,
        city: tag("addr:city"),
        country: tag("addr:country"),
        capacity: None,
        rooms: Vec::new(),
        day_rate: None,
        currency: None,
        amenities: None,
        accessibility: None,
        address: String::new(),
        contact: String::new(),
        website: tag("website"),
        phone: String::new(),
        place_kind: tag("amenity"),
        unavailable_dates: Vec::new(),
        lat,
        lon,
        notes: Vec::new(),
        provenance: Provenance::osm(kind, format!("{osm_type}/{osm_id}")),
    })
}
