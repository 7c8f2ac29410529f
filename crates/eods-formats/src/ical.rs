//! iCalendar (RFC 5545) export: the timeline's milestones as all-day events and the schedule's
//! sessions as timed events in UTC, with stable UIDs so calendar clients update rather than
//! duplicate them.

use chrono::Utc;
use eods_domain::catalog::logistics::Schedule;
use eods_domain::catalog::planning::Timeline;
use eods_domain::ids::EventId;
use icalendar::{Calendar, Component, Event, EventLike};

/// The calendar of an event.
pub fn calendar(
    id: EventId,
    title: &str,
    timeline: Option<&Timeline>,
    schedule: Option<&Schedule>,
) -> String {
    let mut cal = Calendar::new();
    cal.name(title);
    if let Some(t) = timeline {
        for m in &t.milestones {
            cal.push(
                Event::new()
                    .uid(&format!("{id}-{}@eods", m.id))
                    .summary(&format!("Milestone: {}", m.name))
                    .all_day(m.date)
                    .done(),
            );
        }
    }
    if let Some(s) = schedule {
        for x in &s.sessions {
            let room = s
                .rooms
                .iter()
                .find(|r| r.id == x.room)
                .map_or(x.room.to_string(), |r| r.name.clone());
            let mut ev = Event::new();
            ev.uid(&format!("{id}-{}@eods", x.id))
                .summary(&x.title)
                .starts(x.start.with_timezone(&Utc))
                .ends(x.end.with_timezone(&Utc))
                .location(&room);
            if !x.speakers.is_empty() {
                ev.description(&format!(
                    "Track {}; speakers: {}",
                    x.track,
                    x.speakers.join(", ")
                ));
            }
            cal.push(ev.done());
        }
    }
    cal.done().to_string()
}
