//! frab/Pentabarf schedule XML (the format of FOSDEM, CCC, DebConf and pretalx exports): a
//! tolerant importer — older dialects without guids, zones or per-event dates are read too — and
//! the checks of a published program: duplicate ids and guids, same-room overlaps and person
//! clashes. Dirty input is reported, never a crash.

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone};
use quick_xml::events::Event;
use quick_xml::reader::Reader;
use std::collections::BTreeMap;

/// A person named on an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub id: String,
    pub name: String,
}

/// One event (talk, session) of a frab schedule.
#[derive(Debug, Clone, PartialEq)]
pub struct FrabEvent {
    pub id: String,
    pub guid: Option<String>,
    pub title: String,
    pub track: String,
    pub kind: String,
    pub room: String,
    /// The `<day date>` the event is listed under.
    pub day: NaiveDate,
    /// Start as an instant: `<date>` when present, else the day's date and `<start>` in the
    /// conference zone (or UTC when the file names none — see `FrabProgram::zone_assumed`).
    pub start: DateTime<FixedOffset>,
    pub minutes: u32,
    pub persons: Vec<Person>,
}

impl FrabEvent {
    /// End instant.
    pub fn end(&self) -> DateTime<FixedOffset> {
        self.start + Duration::minutes(i64::from(self.minutes))
    }
}

/// A parsed frab schedule.
#[derive(Debug, Clone, PartialEq)]
pub struct FrabProgram {
    pub title: String,
    /// `<time_zone_name>`, or the zone passed in when the file has none.
    pub time_zone: Option<String>,
    /// True when neither the file nor the caller named a zone, so local times were read as UTC.
    pub zone_assumed: bool,
    pub days: Vec<NaiveDate>,
    pub rooms: Vec<String>,
    pub events: Vec<FrabEvent>,
    /// Events that could not be read (missing or malformed times), with the reason.
    pub skipped: Vec<String>,
}

/// Why a file could not be read at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("frab XML at line {line}: {message}")]
pub struct FrabError {
    pub line: usize,
    pub message: String,
}

#[derive(Default)]
struct Draft {
    id: String,
    guid: Option<String>,
    date: Option<String>,
    start: Option<String>,
    duration: Option<String>,
    room: Option<String>,
    title: String,
    track: String,
    kind: String,
    persons: Vec<Person>,
}

fn attr(e: &quick_xml::events::BytesStart<'_>, name: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.as_ref() == name)
        .and_then(|a| a.normalized_value(quick_xml::XmlVersion::Implicit1_0).ok())
        .map(|v| v.into_owned())
}

fn minutes(s: &str) -> Option<u32> {
    let mut parts = s.trim().split(':');
    let h: u32 = parts.next()?.parse().ok()?;
    let m: u32 = parts.next()?.parse().ok()?;
    Some(h * 60 + m)
}

/// Parses a frab schedule. `zone` is used when the file names no `<time_zone_name>`.
///
/// Long because: one streaming pass over the XML whose state (the open elements, the current
/// day, room, event and person) is shared by every arm of the match.
pub fn parse(xml: &str, zone: Option<&str>) -> Result<FrabProgram, FrabError> {
    let line_of = |pos: u64| {
        xml.as_bytes()
            .iter()
            .take(usize::try_from(pos).unwrap_or(usize::MAX))
            .filter(|b| **b == b'\n')
            .count()
            + 1
    };
    let mut reader = Reader::from_str(xml);
    let mut path: Vec<String> = Vec::new();
    let mut text = String::new();
    let mut title = String::new();
    let mut file_zone: Option<String> = None;
    let mut days = Vec::new();
    let mut rooms: Vec<String> = Vec::new();
    let mut day: Option<NaiveDate> = None;
    let mut room_attr: Option<String> = None;
    let mut draft: Option<Draft> = None;
    let mut person_id: Option<String> = None;
    let mut raw: Vec<(NaiveDate, Draft)> = Vec::new();
    let mut saw_schedule = false;
    loop {
        let event = reader.read_event().map_err(|e| FrabError {
            line: line_of(reader.error_position()),
            message: e.to_string(),
        })?;
        match event {
            Event::Start(e) => {
                let name = e.local_name().as_ref().to_owned();
                if path.is_empty() && name != "schedule" {
                    return Err(FrabError {
                        line: line_of(reader.buffer_position()),
                        message: format!(
                            "the root element is <{name}>, not <schedule>: not a frab schedule"
                        ),
                    });
                }
                saw_schedule |= name == "schedule";
                match name.as_str() {
                    "day" => {
                        day = attr(&e, "date")
                            .and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok());
                        // Merged files list a date more than once.
                        if let Some(d) = day.filter(|d| !days.contains(d)) {
                            days.push(d);
                        }
                    }
                    "room" if path.last().is_some_and(|p| p == "day") => {
                        room_attr = attr(&e, "name");
                        if let Some(r) = &room_attr
                            && !rooms.contains(r)
                        {
                            rooms.push(r.clone());
                        }
                    }
                    "event" => {
                        draft = Some(Draft {
                            id: attr(&e, "id").unwrap_or_default(),
                            guid: attr(&e, "guid"),
                            ..Draft::default()
                        });
                    }
                    "person" => person_id = attr(&e, "id"),
                    _ => {}
                }
                path.push(name);
                text.clear();
            }
            Event::Empty(e) if path.is_empty() => {
                let name = e.local_name().as_ref().to_owned();
                return Err(FrabError {
                    line: line_of(reader.buffer_position()),
                    message: format!(
                        "the root element is <{name}>, not <schedule>: not a frab schedule"
                    ),
                });
            }
            Event::Text(t) => text.push_str(&t),
            Event::CData(t) => text.push_str(&t),
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => Some(c.to_string()),
                    _ => match &*r {
                        "amp" => Some("&".into()),
                        "lt" => Some("<".into()),
                        "gt" => Some(">".into()),
                        "quot" => Some("\"".into()),
                        "apos" => Some("'".into()),
                        _ => None,
                    },
                };
                text.push_str(&resolved.unwrap_or_default());
            }
            Event::End(_) => {
                let Some(name) = path.pop() else { continue };
                let parent = path.last().map(String::as_str);
                let value = text.trim().to_owned();
                match (parent, name.as_str()) {
                    (Some("conference"), "title") => title = value,
                    (Some("conference"), "time_zone_name") if !value.is_empty() => {
                        file_zone = Some(value)
                    }
                    (Some("persons"), "person") => {
                        if let Some(d) = draft.as_mut() {
                            d.persons.push(Person {
                                id: person_id.take().unwrap_or_default(),
                                name: value,
                            });
                        }
                    }
                    (Some("event"), field) => {
                        if let Some(d) = draft.as_mut() {
                            match field {
                                "date" => d.date = Some(value),
                                "start" => d.start = Some(value),
                                "duration" => d.duration = Some(value),
                                "room" => d.room = Some(value),
                                "title" => d.title = value,
                                "track" => d.track = value,
                                "type" => d.kind = value,
                                _ => {}
                            }
                        }
                    }
                    (_, "event") => {
                        if let (Some(mut d), Some(dd)) = (draft.take(), day) {
                            if d.room.as_deref().is_none_or(str::is_empty) {
                                d.room = room_attr.clone();
                            }
                            raw.push((dd, d));
                        }
                    }
                    _ => {}
                }
                text.clear();
            }
            Event::Eof => {
                if !saw_schedule {
                    return Err(FrabError {
                        line: 1,
                        message: "no <schedule> element: not a frab schedule".into(),
                    });
                }
                break;
            }
            _ => {}
        }
    }
    let zone_name = file_zone.clone().or_else(|| zone.map(str::to_owned));
    let tz: Option<chrono_tz::Tz> = zone_name.as_deref().and_then(|z| z.parse().ok());
    let mut events = Vec::new();
    let mut skipped = Vec::new();
    for (dd, d) in raw {
        let Some(mins) = d.duration.as_deref().and_then(minutes) else {
            skipped.push(format!(
                "event {}: duration `{}` is not HH:MM",
                d.id,
                d.duration.unwrap_or_default()
            ));
            continue;
        };
        let start = match d
            .date
            .as_deref()
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        {
            Some(s) => s,
            None => {
                let Some(t) = d
                    .start
                    .as_deref()
                    .and_then(|s| NaiveTime::parse_from_str(s.trim(), "%H:%M").ok())
                else {
                    skipped.push(format!(
                        "event {}: no <date> and start `{}` is not HH:MM",
                        d.id,
                        d.start.unwrap_or_default()
                    ));
                    continue;
                };
                let local = NaiveDateTime::new(dd, t);
                match tz {
                    Some(tz) => match tz.from_local_datetime(&local).earliest() {
                        Some(s) => s.fixed_offset(),
                        None => {
                            skipped.push(format!(
                                "event {}: {local} does not exist in {}",
                                d.id,
                                zone_name.clone().unwrap_or_default()
                            ));
                            continue;
                        }
                    },
                    None => local.and_utc().fixed_offset(),
                }
            }
        };
        events.push(FrabEvent {
            id: d.id,
            guid: d.guid,
            title: d.title,
            track: d.track,
            kind: d.kind,
            room: d.room.unwrap_or_default(),
            day: dd,
            start,
            minutes: mins,
            persons: d.persons,
        });
    }
    Ok(FrabProgram {
        title,
        zone_assumed: tz.is_none(),
        time_zone: zone_name,
        days,
        rooms,
        events,
        skipped,
    })
}

/// What a published program gets wrong.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Findings {
    /// Event ids used more than once, with the count.
    pub duplicate_ids: Vec<(String, usize)>,
    pub duplicate_guids: Vec<(String, usize)>,
    /// (room, event id, event id): two events in one room at once; the first [`EXAMPLES`].
    pub room_overlaps: Vec<(String, String, String)>,
    /// How many such pairs there are in all.
    pub room_overlap_count: usize,
    /// (person id, name, event id, event id): one person in two events at once; the first
    /// [`EXAMPLES`].
    pub person_clashes: Vec<(String, String, String, String)>,
    /// How many such pairs there are in all.
    pub person_clash_count: usize,
    /// Person ids shared by different names (placeholders such as `0`); not checked for clashes.
    pub shared_person_ids: Vec<(String, usize)>,
}

/// At most this many pairs of each kind are kept as examples (a program of thousands of events
/// at one time in one room has millions of pairs: they are counted, not listed).
pub const EXAMPLES: usize = 1000;

fn overlaps(a: &FrabEvent, b: &FrabEvent) -> bool {
    a.start < b.end() && b.start < a.end()
}

/// The pairs of events that share a key (room or person) and overlap in time: the first
/// [`EXAMPLES`], and how many there are in all.
fn overlapping_pairs(
    groups: BTreeMap<String, Vec<&FrabEvent>>,
) -> (Vec<(String, &FrabEvent, &FrabEvent)>, usize) {
    let mut out = Vec::new();
    let mut count = 0;
    for (key, mut list) in groups {
        list.sort_by_key(|e| (e.start, e.id.clone()));
        for (i, a) in list.iter().enumerate() {
            for b in &list[i + 1..] {
                if b.start >= a.end() {
                    break;
                }
                if overlaps(a, b) {
                    count += 1;
                    if out.len() < EXAMPLES {
                        out.push((key.clone(), *a, *b));
                    }
                }
            }
        }
    }
    (out, count)
}

/// Checks a program for duplicate ids, room overlaps and person clashes.
pub fn check(p: &FrabProgram) -> Findings {
    let mut f = Findings::default();
    let mut ids: BTreeMap<&str, usize> = BTreeMap::new();
    let mut guids: BTreeMap<&str, usize> = BTreeMap::new();
    for e in &p.events {
        *ids.entry(&e.id).or_default() += 1;
        if let Some(g) = &e.guid {
            *guids.entry(g).or_default() += 1;
        }
    }
    f.duplicate_ids = ids
        .into_iter()
        .filter(|(_, n)| *n > 1)
        .map(|(k, n)| (k.to_owned(), n))
        .collect();
    f.duplicate_guids = guids
        .into_iter()
        .filter(|(_, n)| *n > 1)
        .map(|(k, n)| (k.to_owned(), n))
        .collect();

    let mut by_room: BTreeMap<String, Vec<&FrabEvent>> = BTreeMap::new();
    for e in &p.events {
        by_room.entry(e.room.clone()).or_default().push(e);
    }
    let (pairs, count) = overlapping_pairs(by_room);
    f.room_overlap_count = count;
    f.room_overlaps = pairs
        .into_iter()
        .map(|(r, a, b)| (r, a.id.clone(), b.id.clone()))
        .collect();

    let mut names: BTreeMap<&str, std::collections::BTreeSet<&str>> = BTreeMap::new();
    for e in &p.events {
        for person in &e.persons {
            names.entry(&person.id).or_default().insert(&person.name);
        }
    }
    f.shared_person_ids = names
        .iter()
        .filter(|(_, n)| n.len() > 1)
        .map(|(k, n)| ((*k).to_owned(), n.len()))
        .collect();
    let shared: Vec<&str> = f
        .shared_person_ids
        .iter()
        .map(|(k, _)| k.as_str())
        .collect();
    let mut by_person: BTreeMap<String, Vec<&FrabEvent>> = BTreeMap::new();
    for e in &p.events {
        let mut seen = Vec::new();
        for person in e
            .persons
            .iter()
            .filter(|x| !x.id.is_empty() && !shared.contains(&x.id.as_str()))
        {
            if !seen.contains(&&person.id) {
                seen.push(&person.id);
                by_person.entry(person.id.clone()).or_default().push(e);
            }
        }
    }
    let (pairs, count) = overlapping_pairs(by_person);
    f.person_clash_count = count;
    f.person_clashes = pairs
        .into_iter()
        .map(|(pid, a, b)| {
            let name = a
                .persons
                .iter()
                .find(|x| x.id == pid)
                .map(|x| x.name.clone())
                .unwrap_or_default();
            (pid, name, a.id.clone(), b.id.clone())
        })
        .collect();
    f
}

/// What an export says about the conference besides its schedule.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportMeta {
    pub title: String,
    /// Names the export; different exports of one schedule get the same guids.
    pub namespace: String,
    /// Written as `<version>`.
    pub version: String,
}

fn esc(s: &str) -> String {
    quick_xml::escape::escape(s).into_owned()
}

/// A lower-case acronym of at least four characters (`[a-z0-9_-]{4,}`).
fn acronym(title: &str) -> String {
    let mut a = String::new();
    for c in title.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            a.push(c);
        } else if !a.ends_with('-') && !a.is_empty() {
            a.push('-');
        }
    }
    let a = a.trim_end_matches('-').to_owned();
    if a.len() >= 4 { a } else { format!("eods-{a}") }
}

/// A stable UUID for `key` within `namespace` (UUID v8 from two FNV-1a hashes).
fn stable_uuid(namespace: &str, key: &str) -> uuid::Uuid {
    let fnv = |seed: u64, s: &str| {
        s.bytes().fold(seed, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        })
    };
    let text = format!("{namespace}/{key}");
    let (a, b) = (
        fnv(0xcbf2_9ce4_8422_2325, &text),
        fnv(0x8422_2325_cbf2_9ce4, &text),
    );
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&a.to_be_bytes());
    bytes[8..].copy_from_slice(&b.to_be_bytes());
    uuid::Uuid::new_v8(bytes)
}

/// Writes a schedule as frab XML (the c3voc `schedule.xml` format): days in the schedule's zone,
/// rooms, and one event per session with a stable guid.
pub fn export(meta: &ExportMeta, schedule: &eods_domain::catalog::logistics::Schedule) -> String {
    use std::fmt::Write as _;
    let tz: chrono_tz::Tz = schedule.timezone.parse().unwrap_or(chrono_tz::UTC);
    let local_day = |t: &DateTime<FixedOffset>| t.with_timezone(&tz).date_naive();
    let mut days: Vec<NaiveDate> = schedule
        .sessions
        .iter()
        .map(|s| local_day(&s.start))
        .collect();
    days.sort();
    days.dedup();
    let room_name = |id: &eods_domain::ids::RoomId| {
        schedule
            .rooms
            .iter()
            .find(|r| &r.id == id)
            .map_or_else(|| id.to_string(), |r| r.name.clone())
    };
    // Speakers get stable integer ids (the XSD wants integers), numbered by name.
    let mut speakers: Vec<&str> = schedule
        .sessions
        .iter()
        .flat_map(|s| s.speakers.iter().map(String::as_str))
        .collect();
    speakers.sort_unstable();
    speakers.dedup();
    let mut x = String::new();
    let _ = writeln!(x, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<schedule>");
    let _ = writeln!(
        x,
        "  <generator name=\"EODS\" version=\"{}\"/>",
        env!("CARGO_PKG_VERSION")
    );
    let _ = writeln!(x, "  <version>{}</version>", esc(&meta.version));
    let _ = writeln!(
        x,
        "  <conference>\n    <title>{}</title>\n    <acronym>{}</acronym>",
        esc(&meta.title),
        acronym(&meta.title)
    );
    if let (Some(first), Some(last)) = (days.first(), days.last()) {
        let _ = writeln!(
            x,
            "    <start>{first}</start>\n    <end>{last}</end>\n    <days>{}</days>",
            days.len()
        );
    }
    let _ = writeln!(
        x,
        "    <time_zone_name>{}</time_zone_name>\n  </conference>",
        esc(&schedule.timezone)
    );
    for (i, day) in days.iter().enumerate() {
        let on_day: Vec<&eods_domain::catalog::logistics::Session> = schedule
            .sessions
            .iter()
            .filter(|s| local_day(&s.start) == *day)
            .collect();
        let start = on_day.iter().map(|s| s.start).min();
        let end = on_day.iter().map(|s| s.end).max();
        let (Some(start), Some(end)) = (start, end) else {
            continue;
        };
        let _ = writeln!(
            x,
            "  <day index=\"{}\" date=\"{day}\" start=\"{}\" end=\"{}\">",
            i + 1,
            start.to_rfc3339(),
            end.to_rfc3339()
        );
        for room in &schedule.rooms {
            let mut in_room: Vec<&&eods_domain::catalog::logistics::Session> =
                on_day.iter().filter(|s| s.room == room.id).collect();
            if in_room.is_empty() {
                continue;
            }
            in_room.sort_by_key(|s| (s.start, s.id.clone()));
            let _ = writeln!(
                x,
                "    <room name=\"{}\" guid=\"{}\">",
                esc(&room.name),
                stable_uuid(&meta.namespace, room.id.as_str())
            );
            for s in in_room {
                let number: u64 =
                    s.id.as_str()
                        .rsplit('-')
                        .next()
                        .and_then(|n| n.parse().ok())
                        .unwrap_or(0)
                        + 1;
                let minutes = (s.end - s.start).num_minutes().max(0);
                let local = s.start.with_timezone(&tz);
                let _ = writeln!(
                    x,
                    "      <event id=\"{number}\" guid=\"{}\">",
                    stable_uuid(&meta.namespace, s.id.as_str())
                );
                let _ = writeln!(x, "        <date>{}</date>", s.start.to_rfc3339());
                let _ = writeln!(x, "        <start>{}</start>", local.format("%H:%M"));
                let _ = writeln!(
                    x,
                    "        <duration>{:02}:{:02}</duration>",
                    minutes / 60,
                    minutes % 60
                );
                let _ = writeln!(x, "        <room>{}</room>", esc(&room_name(&s.room)));
                let _ = writeln!(x, "        <title>{}</title>", esc(&s.title));
                let _ = writeln!(
                    x,
                    "        <type>lecture</type>\n        <abstract></abstract>"
                );
                let _ = writeln!(x, "        <track>{}</track>", esc(&s.track));
                let _ = writeln!(x, "        <persons>");
                for p in &s.speakers {
                    let id = speakers.binary_search(&p.as_str()).map_or(0, |i| i + 1);
                    let _ = writeln!(x, "          <person id=\"{id}\">{}</person>", esc(p));
                }
                let _ = writeln!(x, "        </persons>\n      </event>");
            }
            let _ = writeln!(x, "    </room>");
        }
        let _ = writeln!(x, "  </day>");
    }
    let _ = writeln!(x, "</schedule>");
    x
}

impl FrabProgram {
    /// The program as an EODS schedule, as published: rooms in file order, one session per event
    /// with the event's persons (by id, or by name where the id is missing or shared).
    pub fn to_schedule(&self, shared_ids: &[String]) -> eods_domain::catalog::logistics::Schedule {
        use eods_domain::catalog::logistics::{Room, Schedule, Session};
        use eods_domain::ids::{RoomId, SessionId};
        // Rooms listed by the file first, then rooms that only events name (36C3's merged stages).
        let mut names: Vec<&str> = self.rooms.iter().map(String::as_str).collect();
        for e in &self.events {
            if !names.contains(&e.room.as_str()) {
                names.push(&e.room);
            }
        }
        let all_rooms: Vec<Room> = names
            .iter()
            .enumerate()
            .map(|(i, r)| Room {
                id: RoomId::nth(i + 1),
                name: (*r).to_owned(),
                capacity: 0,
            })
            .collect();
        let sessions = self
            .events
            .iter()
            .enumerate()
            .map(|(i, e)| Session {
                id: SessionId::nth(i + 1),
                title: e.title.clone(),
                track: if e.track.is_empty() {
                    "General".into()
                } else {
                    e.track.clone()
                },
                start: e.start,
                end: e.end(),
                room: RoomId::nth(names.iter().position(|n| *n == e.room).unwrap_or(0) + 1),
                speakers: e
                    .persons
                    .iter()
                    .map(|p| {
                        if p.id.is_empty() || shared_ids.contains(&p.id) {
                            p.name.clone()
                        } else {
                            format!("person {}", p.id)
                        }
                    })
                    .collect(),
                resources: vec![],
            })
            .collect();
        Schedule {
            timezone: self.time_zone.clone().unwrap_or_else(|| "UTC".into()),
            rooms: all_rooms,
            sessions,
            optimisation: None,
        }
    }
}
