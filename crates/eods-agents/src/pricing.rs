//! What an event buys and what it may cost, as both the Venue Researcher (its affordable
//! envelope) and the Budget Analyst (its costing) price it: the items an event of a brief needs
//! besides the venue, what each supplier of its city quotes for them in the event's currency,
//! and the venue's share of the budget. A leaf: it depends on no agent module.

use crate::Tools;
use crate::data::{RateCards, Service, Supplier};
use crate::instructions::BudgetParams;
use eods_domain::catalog::brief::{EventBrief, EventType};
use rust_decimal::Decimal;

/// One thing to buy: `qty` of item `code` from a supplier of `service`.
#[derive(Debug, Clone, PartialEq)]
pub struct Need {
    pub service: Service,
    pub code: &'static str,
    pub qty: Decimal,
    pub description: String,
    /// Optional needs are dropped first when the budget is short.
    pub optional: bool,
}

fn need(
    service: Service,
    code: &'static str,
    qty: u32,
    description: String,
    optional: bool,
) -> Need {
    Need {
        service,
        code,
        qty: Decimal::from(qty),
        description,
        optional,
    }
}

/// What an event of this brief needs to buy besides the venue.
pub fn needs(b: &EventBrief) -> Vec<Need> {
    let a = b.audience_size;
    let d = b.days();
    let rooms = b.tracks.max(1);
    let mut v = catering_needs(b);
    if a >= 50 || rooms > 1 {
        v.push(need(
            Service::Av,
            "room_basic",
            rooms * d,
            format!("Projector and microphones in {rooms} room(s)"),
            false,
        ));
    }
    if a >= 300 {
        v.push(need(
            Service::Av,
            "streaming",
            rooms * d,
            format!("Streaming from {rooms} room(s)"),
            true,
        ));
        v.push(need(
            Service::Av,
            "technician",
            rooms * 9 * d,
            "AV technician per room, 9 hours a day".into(),
            false,
        ));
    }
    if a >= 50 {
        let staff = a.div_ceil(50);
        v.push(need(
            Service::Staffing,
            "event_staff",
            staff * 9 * d,
            format!("{staff} event staff, 9 hours a day"),
            false,
        ));
    }
    if a >= 300 {
        v.push(need(
            Service::Staffing,
            "security",
            a.div_ceil(250) * 10 * d,
            "Security at entrances".into(),
            false,
        ));
        v.push(need(
            Service::Staffing,
            "first_aid",
            9 * d,
            "First aid cover".into(),
            false,
        ));
    }
    v.push(need(
        Service::Materials,
        "badge",
        a,
        format!("Name badges for {a}"),
        false,
    ));
    if a >= 50 {
        v.push(need(
            Service::Materials,
            "signage",
            1,
            "Wayfinding signage".into(),
            false,
        ));
    }
    if a >= 100 {
        v.push(need(
            Service::Materials,
            "swag",
            a,
            "Attendee swag".into(),
            true,
        ));
    }
    if a >= 300 {
        v.push(need(
            Service::Insurance,
            "event_liability_large",
            1,
            "Event liability insurance".into(),
            false,
        ));
    } else if a >= 50 {
        v.push(need(
            Service::Insurance,
            "event_liability",
            1,
            "Event liability insurance".into(),
            false,
        ));
    }
    if matches!(b.event_type, EventType::Conference | EventType::Festival) {
        v.push(need(
            Service::Marketing,
            "campaign",
            1,
            "Promotion campaign".into(),
            false,
        ));
        if a >= 100 {
            v.push(need(
                Service::Marketing,
                "website",
                1,
                "Event website".into(),
                true,
            ));
        }
        let mut speakers: Vec<&str> = b
            .program
            .iter()
            .flat_map(|s| s.speakers.iter().map(String::as_str))
            .collect();
        speakers.sort_unstable();
        speakers.dedup();
        let n = u32::try_from(speakers.len()).unwrap_or(0);
        if n > 0 {
            v.push(need(
                Service::Speakers,
                "travel_grant",
                n,
                format!("Travel grants for {n} speakers"),
                true,
            ));
            if a >= 100 {
                v.push(need(
                    Service::Speakers,
                    "hotel_night",
                    n * d,
                    format!("Hotel nights for {n} speakers"),
                    false,
                ));
            }
        }
    }
    v
}

/// Whether the organiser's hours leave room for lunch: no day's stated sessions start at 13:00 or
/// later or end by 12:00 (an afternoon or a morning event is not catered a lunch by default).
/// Hours nobody stated leave the day open.
fn spans_midday(b: &EventBrief) -> bool {
    let noon = |h: u32| chrono::NaiveTime::from_hms_opt(h, 0, 0).unwrap_or_default();
    let rules = eods_domain::hours::brief_rules(b);
    eods_domain::hours::day_bounds(b, &rules).map_or(true, |days| {
        days.iter()
            .all(|d| d.start.is_none_or(|s| s < noon(13)) && d.end.is_none_or(|e| e > noon(12)))
    })
}

/// The catering lines: the meals the brief's constraints name ("breakfast, lunch and two coffee
/// breaks each day"), else the event type's usual meals. Every line names the dietary needs the
/// brief states ("lunch, vegan, halal"); no default lunch for a day that starts in the afternoon
/// or ends in the morning (see `spans_midday`); with "no alcohol" the reception (canapés and two
/// drinks on the rate cards) becomes the soft-drinks-only finger-food item.
fn catering_needs(b: &EventBrief) -> Vec<Need> {
    use eods_domain::constraints::{Diet, Meal};
    let a = b.audience_size;
    let d = b.days();
    let diets = eods_domain::constraints::diets(b);
    let dry = diets.contains(&Diet::NoAlcohol);
    let diet_note: String = diets.iter().map(|x| format!(", {}", x.label())).collect();
    let meals = eods_domain::constraints::meals(b).unwrap_or_else(|| match b.event_type {
        EventType::Meetup => vec![],
        EventType::Gala => vec![Meal::Reception, Meal::Dinner],
        EventType::Conference | EventType::Workshop | EventType::Festival | EventType::Other
            if !spans_midday(b) =>
        {
            vec![Meal::CoffeeBreak, Meal::CoffeeBreak]
        }
        EventType::Conference | EventType::Workshop | EventType::Festival | EventType::Other => {
            vec![Meal::Lunch, Meal::CoffeeBreak, Meal::CoffeeBreak]
        }
    });
    let mut v = Vec::new();
    if meals.is_empty() {
        v.push(need(
            Service::Catering,
            "snacks",
            a * d,
            format!("Evening food and drinks for {a}{diet_note}"),
            false,
        ));
    }
    let mut seen: Vec<Meal> = Vec::new();
    for m in &meals {
        if seen.contains(m) {
            continue;
        }
        seen.push(*m);
        let per_day = u32::try_from(meals.iter().filter(|x| *x == m).count()).unwrap_or(1);
        let (code, description) = match m {
            Meal::Reception if dry => (
                "snacks",
                format!("Reception for {a}, soft drinks only{diet_note}"),
            ),
            Meal::Reception => ("reception", format!("Reception for {a}{diet_note}")),
            Meal::Dinner => ("dinner", format!("Seated dinner for {a}{diet_note}")),
            Meal::Lunch => ("lunch", format!("Lunch for {a} on {d} day(s){diet_note}")),
            Meal::Breakfast => (
                "breakfast",
                format!("Breakfast for {a} on {d} day(s){diet_note}"),
            ),
            Meal::CoffeeBreak => (
                "coffee_break",
                match per_day {
                    1 => format!("One coffee break a day for {a}{diet_note}"),
                    2 => format!("Two coffee breaks a day for {a}{diet_note}"),
                    n => format!("{n} coffee breaks a day for {a}{diet_note}"),
                },
            ),
        };
        v.push(need(
            Service::Catering,
            code,
            a * d * per_day,
            description,
            false,
        ));
    }
    v
}

/// Every supplier in the brief's city offering need `n`, with its unit price for the need's
/// quantity (volume tiers applied) in the event currency.
pub(crate) fn quotes<'a>(
    tools: &'a Tools,
    rates: &'a RateCards,
    b: &'a EventBrief,
    n: &'a Need,
) -> impl Iterator<Item = (&'a Supplier, Decimal)> + 'a {
    let day = crate::fx::rate_day(b);
    rates
        .suppliers
        .iter()
        .filter(move |s| s.service == n.service && s.serves(&b.location.city))
        .filter_map(move |s| {
            s.price_for(n.code, n.qty)
                .and_then(|p| tools.convert(p, &s.currency, &b.budget.currency, day).ok())
                .map(|(p, _)| (s, p))
        })
}

/// The venue budget envelope: the venue share of the brief's total.
pub fn venue_envelope(b: &EventBrief, p: &BudgetParams) -> Decimal {
    let share = p
        .venue_share
        .get(&b.event_type)
        .copied()
        .unwrap_or(Decimal::new(30, 2));
    (b.budget.total * share).round_dp(2)
}
