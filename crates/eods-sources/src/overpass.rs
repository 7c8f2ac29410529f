//! The live Overpass API as a venue source: one Overpass QL query per city for event venues
//! (conference, event and exhibition centres, community and arts centres, theatres, concert
//! halls), sent as an HTML form (`data=<query>`), its JSON answer turned into venue records
//! through [`crate::osm::record_from_tags`].
//!
//! This module maps HTTP outcomes to [`SourceError`]s (what is worth retrying, what is not, how
//! long the server asked to wait); it never retries, waits or caches itself — wrap it in
//! [`crate::chain::Resilient`] for that. It is off unless an endpoint is configured.

use crate::chain::with_retry_after;
use crate::{BoxFuture, SourceError, VenueQuery, VenueSource};
use eods_domain::catalog::sources::{SourceKind, VenueRecord};
use reqwest::header::RETRY_AFTER;
use reqwest::{StatusCode, Url};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// The `User-Agent` sent when none is given: Overpass operators ask clients to identify
/// themselves.
pub const DEFAULT_USER_AGENT: &str = concat!(
    "eods/",
    env!("CARGO_PKG_VERSION"),
    " (event planning: venue search)"
);

/// The `amenity` values asked for: places that host events.
pub const VENUE_AMENITIES: &[&str] = &[
    "conference_centre",
    "events_venue",
    "exhibition_centre",
    "community_centre",
    "arts_centre",
    "theatre",
    "concert_hall",
];

/// The largest answer read (a city's venues are a few hundred kilobytes).
const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

/// The longest a request may take even outside a [`crate::chain::Resilient`] wrapper, whose
/// own (shorter) timeout normally applies first.
const BACKSTOP_TIMEOUT: Duration = Duration::from_secs(120);

/// The Overpass API at one endpoint (an interpreter URL such as
/// `https://overpass-api.de/api/interpreter`).
#[derive(Debug, Clone)]
pub struct OverpassSource {
    endpoint: Url,
    client: reqwest::Client,
    user_agent: String,
}

impl OverpassSource {
    /// The endpoint `endpoint`, identified by [`DEFAULT_USER_AGENT`].
    pub fn new(endpoint: &str) -> Result<OverpassSource, SourceError> {
        OverpassSource::with_user_agent(endpoint, DEFAULT_USER_AGENT)
    }

    /// The endpoint `endpoint`, identified by `user_agent`. Fails when `endpoint` is not an
    /// http(s) URL, naming the settings that give it.
    pub fn with_user_agent(
        endpoint: &str,
        user_agent: &str,
    ) -> Result<OverpassSource, SourceError> {
        let fix = "set EODS_OVERPASS_URL (or --overpass-url) to the interpreter's http(s) URL, \
                   such as https://overpass-api.de/api/interpreter";
        let url = Url::parse(endpoint.trim()).map_err(|e| {
            SourceError::Permanent(format!(
                "the Overpass endpoint `{endpoint}` is not a URL ({e}); {fix}"
            ))
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(SourceError::Permanent(format!(
                "the Overpass endpoint `{endpoint}` is not an http(s) URL; {fix}"
            )));
        }
        let client = reqwest::Client::builder()
            .user_agent(user_agent)
            .timeout(BACKSTOP_TIMEOUT)
            .build()
            .map_err(|e| {
                SourceError::Permanent(format!(
                    "could not set up the HTTP client for Overpass: {}",
                    chain_of(&e)
                ))
            })?;
        Ok(OverpassSource {
            endpoint: url,
            client,
            user_agent: user_agent.to_owned(),
        })
    }

    /// The interpreter URL queries are sent to.
    pub fn endpoint(&self) -> &Url {
        &self.endpoint
    }

    /// The `User-Agent` sent with each query.
    pub fn user_agent(&self) -> &str {
        &self.user_agent
    }

    async fn fetch(&self, q: &VenueQuery) -> Result<Vec<VenueRecord>, SourceError> {
        if q.city.trim().is_empty() {
            return Err(SourceError::Permanent(
                "the venue query names no city; Overpass is asked per city".to_owned(),
            ));
        }
        let query = overpass_query(q.city.trim());
        let response = self
            .client
            .post(self.endpoint.clone())
            .form(&[("data", query.as_str())])
            .send()
            .await
            .map_err(|e| {
                SourceError::Transient(format!(
                    "could not reach the Overpass API at {}: {}",
                    self.endpoint,
                    chain_of(&e)
                ))
            })?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = read_body(response).await?;
        if status.is_success() {
            let records = parse_overpass(&body, &q.city)?;
            return Ok(records
                .into_iter()
                .filter(|r| r.capacity.is_none_or(|c| c >= q.min_capacity))
                .collect());
        }
        let message = format!(
            "the Overpass API answered HTTP {status}: {}",
            summary(&body)
        );
        if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
            Err(SourceError::Transient(match retry_after {
                Some(after) => with_retry_after(&message, after),
                None => message,
            }))
        } else {
            Err(SourceError::Permanent(message))
        }
    }
}

impl VenueSource for OverpassSource {
    fn name(&self) -> &str {
        "Overpass API"
    }

    fn kind(&self) -> SourceKind {
        SourceKind::Overpass
    }

    fn search<'a>(
        &'a self,
        q: &'a VenueQuery,
    ) -> BoxFuture<'a, Result<Vec<VenueRecord>, SourceError>> {
        Box::pin(self.fetch(q))
    }
}

/// The Overpass QL query for the venues of `city`: the administrative area of that exact name,
/// the elements inside it whose `amenity` is one of [`VENUE_AMENITIES`], with ways and
/// relations given by their centre.
pub fn overpass_query(city: &str) -> String {
    format!(
        "[out:json][timeout:25];\narea[\"name\"={}][\"boundary\"=\"administrative\"]->.a;\n\
         (\n  nwr[\"amenity\"~\"^({})$\"](area.a);\n);\nout center tags;",
        ql_string(city),
        VENUE_AMENITIES.join("|")
    )
}

/// `s` as an Overpass QL string literal, in double quotes: quotes and backslashes escaped, new
/// lines and tabs as `\n` and `\t`, other control characters dropped (no place name has one).
pub fn ql_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[derive(Deserialize)]
struct Answer {
    #[serde(default)]
    elements: Vec<Element>,
    #[serde(default)]
    remark: Option<String>,
}

#[derive(Deserialize)]
struct Element {
    #[serde(rename = "type")]
    kind: String,
    id: i64,
    #[serde(default)]
    lat: Option<f64>,
    #[serde(default)]
    lon: Option<f64>,
    #[serde(default)]
    center: Option<Center>,
    #[serde(default)]
    tags: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct Center {
    lat: f64,
    lon: f64,
}

/// The venue records of an Overpass JSON answer (`elements[]` of nodes with `lat`/`lon` and
/// ways or relations with `center`), each in `city` unless its tags name one. Elements without
/// a name are left out. A `remark` reporting a runtime error fails the answer, as a transient
/// error when the server ran out of time or was too busy, as a permanent one otherwise;
/// malformed JSON is a permanent error with its line and column.
pub fn parse_overpass(body: &str, city: &str) -> Result<Vec<VenueRecord>, SourceError> {
    let answer: Answer = serde_json::from_str(body).map_err(|e| {
        SourceError::Permanent(format!(
            "the Overpass API answered with malformed JSON ({e}) beginning `{}`",
            clip(body.trim_start(), 80)
        ))
    })?;
    if let Some(remark) = answer
        .remark
        .as_deref()
        .filter(|r| r.contains("runtime error"))
    {
        let lower = remark.to_lowercase();
        let busy = ["timed out", "timeout", "too busy", "rate_limited"];
        return Err(if busy.iter().any(|w| lower.contains(w)) {
            SourceError::Transient(format!("the Overpass API ran out of time: {remark}"))
        } else {
            SourceError::Permanent(format!(
                "the Overpass API could not run the query: {remark}"
            ))
        });
    }
    let mut records = Vec::new();
    for element in answer.elements {
        if !matches!(element.kind.as_str(), "node" | "way" | "relation") {
            continue;
        }
        let (lat, lon) = match (&element.center, element.lat, element.lon) {
            (_, Some(lat), Some(lon)) => (Some(lat), Some(lon)),
            (Some(c), _, _) => (Some(c.lat), Some(c.lon)),
            _ => (None, None),
        };
        let tags: Vec<(String, String)> = element.tags.into_iter().collect();
        let record = crate::osm::record_from_tags(
            SourceKind::Overpass,
            &element.kind,
            element.id,
            &tags,
            lat,
            lon,
        );
        if let Some(mut record) = record {
            if record.city.trim().is_empty() {
                record.city = city.to_owned();
            }
            records.push(record);
        }
    }
    Ok(records)
}

/// Reads the body up to [`MAX_BODY_BYTES`].
async fn read_body(mut response: reqwest::Response) -> Result<String, SourceError> {
    let mut bytes: Vec<u8> = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if bytes.len() + chunk.len() > MAX_BODY_BYTES {
                    return Err(SourceError::Permanent(format!(
                        "the Overpass API answer is larger than {} MB; ask for a smaller area",
                        MAX_BODY_BYTES / (1024 * 1024)
                    )));
                }
                bytes.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(e) => {
                return Err(SourceError::Transient(format!(
                    "the Overpass API answer broke off: {}",
                    chain_of(&e)
                )));
            }
        }
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// What an error answer says, in one line: its JSON `remark`, else the first line of its text
/// that mentions an error (Overpass answers errors as HTML), else its first line of text.
fn summary(body: &str) -> String {
    if let Ok(Answer {
        remark: Some(remark),
        ..
    }) = serde_json::from_str::<Answer>(body)
    {
        return clip(remark.trim(), 300);
    }
    let text = strip_tags(body);
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let line = lines
        .iter()
        .find(|l| l.to_lowercase().contains("error"))
        .or(lines.first())
        .copied()
        .unwrap_or("(empty body)");
    clip(line, 300)
}

/// The text of an HTML or XML document, tags and declarations removed.
fn strip_tags(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut in_tag = false;
    for c in body.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// At most `max` characters of `s`, with `…` when cut.
fn clip(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &s[..at]),
        None => s.to_owned(),
    }
}

/// An error and its causes, `outer: inner: innermost`.
fn chain_of(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ql_strings_escape_quotes_backslashes_and_line_breaks() {
        let cases = [
            ("Helsinki", r#""Helsinki""#),
            ("São Paulo", r#""São Paulo""#),
            (r#"Hel"sinki"#, r#""Hel\"sinki""#),
            (r"C:\city", r#""C:\\city""#),
            ("Two\nlines\tand\u{7}bell", r#""Two\nlines\tandbell""#),
            ("L'Aquila", r#""L'Aquila""#),
        ];
        for (input, expected) in cases {
            assert_eq!(ql_string(input), expected, "for {input:?}");
        }
    }

    #[test]
    fn the_query_asks_for_venue_amenities_in_the_named_area() {
        let q = overpass_query("Turku");
        assert!(q.starts_with("[out:json][timeout:25];"));
        assert!(q.contains(r#"area["name"="Turku"]["boundary"="administrative"]->.a;"#));
        assert!(q.contains(r#"nwr["amenity"~"^(conference_centre|events_venue|exhibition_centre|community_centre|arts_centre|theatre|concert_hall)$"](area.a);"#));
        assert!(q.ends_with("out center tags;"));
    }

    #[test]
    fn error_bodies_are_summarised_in_one_line() {
        let html = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE html>\n<html><head><title>OSM3S Response</title></head>\n<body>\n<p>The data included in this document is from www.openstreetmap.org.</p>\n<p><strong style=\"color:#FF0000\">Error</strong>: line 2: parse error: &quot;;&quot; expected </p>\n</body></html>";
        assert_eq!(summary(html), r#"Error: line 2: parse error: ";" expected"#);
        assert_eq!(
            summary(r#"{"elements":[],"remark":"runtime error: out of memory"}"#),
            "runtime error: out of memory"
        );
        assert_eq!(summary(""), "(empty body)");
        assert_eq!(clip("ääää", 2), "ää…");
    }

    #[test]
    fn remarks_decide_between_transient_and_permanent() {
        let timeout = r#"{"elements":[],"remark":"runtime error: Query timed out in \"query\" at line 3 after 26 seconds."}"#;
        assert!(matches!(
            parse_overpass(timeout, "X"),
            Err(SourceError::Transient(_))
        ));
        let memory = r#"{"elements":[],"remark":"runtime error: Query run out of memory using about 2048 MB of RAM."}"#;
        assert!(matches!(
            parse_overpass(memory, "X"),
            Err(SourceError::Permanent(_))
        ));
        let note = r#"{"elements":[],"remark":"runtime remark: something informative"}"#;
        assert_eq!(parse_overpass(note, "X"), Ok(Vec::new()));
        match parse_overpass("{\"elements\": [", "X") {
            Err(SourceError::Permanent(m)) => assert!(m.contains("line 1 column"), "{m}"),
            other => panic!("expected a permanent error, got {other:?}"),
        }
    }

    #[test]
    fn endpoints_must_be_http_urls() {
        for bad in ["", "overpass", "ftp://example.org/api/interpreter"] {
            match OverpassSource::new(bad) {
                Err(SourceError::Permanent(m)) => assert!(m.contains("EODS_OVERPASS_URL"), "{m}"),
                other => panic!("{bad:?} accepted: {other:?}"),
            }
        }
        let ok = OverpassSource::new("http://127.0.0.1:9/api/interpreter");
        assert!(ok.is_ok());
    }
}
