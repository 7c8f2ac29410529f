//! The "Venue leads" card of the event page: every lead with where it came from (the organiser's
//! list and line, the OpenStreetMap id with its ODbL attribution, `demo (fictional)`), its
//! capacity and day rate or "unknown", and for a lead with a request for quote a small form that
//! enters the quote through the engine (CSRF-checked, like every form). It also names the quotes
//! a run waiting in `needs_input` is waiting for. It reads artifacts; it decides nothing.

use super::{form_session, page_error};
use crate::AppState;
use crate::auth::Client;
use crate::charts::amount;
use crate::error::ApiError;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use eods_domain::access::Permission;
use eods_domain::blackboard::Blackboard;
use eods_domain::catalog::venue::{Facts, VenueLead, VenueLeads};
use eods_domain::ids::EventId;
use eods_engine::Supply;
use serde::Deserialize;
use serde_json::json;

/// A request for quote as shown.
pub(super) struct RfqView {
    /// `capacity, day_rate`.
    pub asks: String,
    pub owner: String,
    pub due: String,
    pub how: String,
}

/// One lead as shown.
pub(super) struct LeadView {
    pub name: String,
    /// What a quote names: the lead's venue id.
    pub venue: String,
    /// The source in words (`venues.csv (organiser list), line 4`, `OpenStreetMap`,
    /// `demo (fictional)`).
    pub source: String,
    pub osm_id: Option<String>,
    pub attribution: Option<String>,
    pub capacity: String,
    pub day_rate: String,
    /// `known`, `quoted`, `estimate` or `unknown`.
    pub facts: String,
    pub rfq: Option<RfqView>,
    /// A short id for the form's field ids (`lead-3`).
    pub key: String,
}

/// The card.
pub(super) struct LeadsView {
    pub leads: Vec<LeadView>,
    /// Attributions the data requires, once each.
    pub attributions: Vec<String>,
    /// Each source consulted and what it answered.
    pub consulted: Vec<String>,
    /// A default currency for the quote forms (the brief's).
    pub currency: String,
}

fn lead_view(i: usize, l: &VenueLead) -> LeadView {
    let (source, osm_id, attribution) = match &l.provenance {
        Some(p) => {
            let mut s = p.label.clone();
            if let (Some(_), Some(line)) = (&p.file, p.line) {
                s.push_str(&format!(", line {line}"));
            }
            (s, p.osm_id.clone(), p.attribution.clone())
        }
        None => (l.source.clone(), None, None),
    };
    let facts = match l.facts {
        Facts::Known => "known",
        Facts::Quoted => "quoted",
        Facts::Estimate => "estimate",
        Facts::Unknown => "unknown",
    };
    let estimate = if l.facts == Facts::Estimate {
        " (estimate)"
    } else {
        ""
    };
    LeadView {
        name: l.name.clone(),
        venue: l.venue_ref.to_string(),
        source,
        osm_id,
        attribution,
        capacity: l
            .capacity
            .map_or_else(|| "unknown".to_owned(), |c| format!("{c} people")),
        day_rate: l.day_rate.as_ref().map_or_else(
            || "unknown".to_owned(),
            |m| format!("{} {}{estimate}", amount(m.amount), m.currency),
        ),
        facts: facts.to_owned(),
        rfq: l.request_for_quote.as_ref().map(|r| RfqView {
            asks: r.asks.join(", "),
            owner: r.owner.clone(),
            due: r.due.to_string(),
            how: r.how.clone(),
        }),
        key: format!("lead-{}", i + 1),
    }
}

/// The card, when the event has leads.
pub(super) fn leads(bb: &Blackboard) -> Option<LeadsView> {
    let l = bb.get::<VenueLeads>()?;
    let mut attributions = l.attributions.clone();
    for lead in &l.leads {
        if let Some(a) = lead.provenance.as_ref().and_then(|p| p.attribution.clone())
            && !attributions.contains(&a)
        {
            attributions.push(a);
        }
    }
    let currency = bb
        .get::<eods_domain::catalog::brief::EventBrief>()
        .map(|b| b.budget.currency.to_string())
        .unwrap_or_default();
    Some(LeadsView {
        leads: l
            .leads
            .iter()
            .enumerate()
            .map(|(i, x)| lead_view(i, x))
            .collect(),
        attributions,
        consulted: l
            .consulted
            .iter()
            .map(|c| {
                let mut s = format!(
                    "{} ({}): {}, {} found",
                    c.source, c.kind, c.outcome, c.found
                );
                if !c.detail.is_empty() {
                    s.push_str(&format!(" — {}", c.detail));
                }
                s
            })
            .collect(),
        currency,
    })
}

/// The quotes a run is waiting for: `Savoy Theatre: capacity, day_rate (by 2027-03-01)`.
pub(super) fn quotes_needed(bb: &Blackboard) -> Vec<String> {
    bb.get::<VenueLeads>()
        .map(|l| {
            l.leads
                .iter()
                .filter_map(|x| {
                    x.request_for_quote
                        .as_ref()
                        .map(|r| format!("{}: {} (by {})", x.name, r.asks.join(", "), r.due))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The quote form of one lead.
#[derive(Debug, Deserialize)]
pub(super) struct QuoteForm {
    csrf: String,
    venue: String,
    #[serde(default)]
    capacity: String,
    #[serde(default)]
    day_rate: String,
    #[serde(default)]
    currency: String,
    #[serde(default)]
    valid_until: String,
    #[serde(default)]
    rooms: String,
    #[serde(default)]
    notes: String,
}

/// Enters one quote and goes back to the event page.
pub(super) async fn add_quote(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: Client,
    Path(id): Path<String>,
    Form(f): Form<QuoteForm>,
) -> Response {
    let s = match form_session(&state, &headers, client, &f.csrf, Some(Permission::Plan)).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let Ok(id) = id.parse::<EventId>() else {
        return page_error(ApiError::not_found(format!(
            "no event `{id}`: an event id is a UUID"
        )));
    };
    let by = s.principal.actor();
    let item = json!({
        "venue": f.venue.trim(),
        "capacity": f.capacity.trim(),
        "day_rate": f.day_rate.trim(),
        "currency": f.currency.trim().to_uppercase(),
        "valid_until": f.valid_until.trim(),
        "rooms": f.rooms.trim(),
        "notes": f.notes.trim(),
    });
    let quotes = match crate::organiser::quotes_json(&[item], "/quote", &by) {
        Ok(q) => q,
        Err(problems) => {
            return page_error(ApiError::validation(
                "the quote is not valid: go back and correct it",
                problems,
            ));
        }
    };
    let supply = Supply {
        add_quotes: quotes,
        ..Supply::default()
    };
    match state
        .engine
        .supply(id, supply, &by, "entered on the event page")
        .await
    {
        Ok(_) => {
            state.wake.notify_waiters();
            Redirect::to(&format!("/ui/events/{id}?quoted=1")).into_response()
        }
        Err(e) => page_error(e.into()),
    }
}
