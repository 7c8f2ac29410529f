//! Progress as server-sent events. The stream reads the database (so it shows what any instance
//! commits): a `status` event first and whenever state or run status change, a `step` event for
//! every committed step, and `end` once the run is completed, cancelled or failed. Polls every
//! 250 ms; a comment line keeps idle connections open.

use crate::AppState;
use axum::response::sse::{Event, KeepAlive, Sse};
use eods_domain::ids::EventId;
use eods_domain::lifecycle::RunStatus;
use futures_util::stream::{self, Stream};
use std::convert::Infallible;
use std::time::Duration;

struct Cursor {
    state: AppState,
    id: EventId,
    seq: u64,
    last: Option<(String, String, Option<String>)>,
    queue: std::collections::VecDeque<Event>,
    done: bool,
    first: bool,
}

/// The stream of one event, starting from its current status.
pub(crate) fn progress(
    state: AppState,
    id: EventId,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let cursor = Cursor {
        state,
        id,
        seq: 0,
        last: None,
        queue: Default::default(),
        done: false,
        first: true,
    };
    let s = stream::unfold(cursor, |mut c| async move {
        loop {
            if let Some(e) = c.queue.pop_front() {
                return Some((Ok(e), c));
            }
            if c.done {
                return None;
            }
            if !c.first {
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            c.first = false;
            poll(&mut c).await;
        }
    });
    Sse::new(s).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

async fn poll(c: &mut Cursor) {
    let event = match c.state.store.event(c.id).await {
        Ok(Some(e)) => e,
        Ok(None) => {
            c.done = true;
            return;
        }
        // A database hiccup: try again at the next tick.
        Err(_) => return,
    };
    // Only new steps; the first poll reports how many exist but not each one.
    if let Ok(steps) = c.state.store.steps_after(c.id, c.seq).await {
        let first_poll = c.last.is_none();
        for (seq, key, at) in steps {
            c.seq = seq;
            if !first_poll {
                let data = serde_json::json!({"seq": seq, "key": key, "at": at});
                c.queue.push_back(
                    Event::default()
                        .event("step")
                        .id(seq.to_string())
                        .data(data.to_string()),
                );
            }
        }
    }
    let now = (
        event.state.as_str().to_owned(),
        event.run_status.as_str().to_owned(),
        event.status_detail.clone(),
    );
    if c.last.as_ref() != Some(&now) {
        let data = serde_json::json!({
            "event_id": c.id.to_string(),
            "state": now.0,
            "run_status": now.1,
            "detail": now.2,
            "steps": c.seq,
        });
        c.queue
            .push_back(Event::default().event("status").data(data.to_string()));
        c.last = Some(now);
    }
    if matches!(
        event.run_status,
        RunStatus::Completed | RunStatus::Cancelled | RunStatus::Failed
    ) {
        c.queue
            .push_back(Event::default().event("end").data(format!(
                "{{\"run_status\":\"{}\"}}",
                event.run_status.as_str()
            )));
        c.done = true;
    }
}
