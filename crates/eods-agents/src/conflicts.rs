//! Ways out of a conflict between the brief's dates, venue availability and budget: the options
//! the Venue Researcher finds and the Event Planner's ranking of them by the brief's own
//! priorities. A leaf: it depends on no agent module.

use chrono::NaiveDate;
use eods_domain::catalog::audit::Alternative;
use eods_domain::catalog::brief::{EventBrief, Flexibility};
use eods_domain::constraints::VenueNeed;
use eods_domain::money::Money;

/// A way out of a date / availability / budget conflict, for the Event Planner to rank.
#[derive(Debug, Clone, PartialEq)]
pub enum ConflictOption {
    /// Move the event by whole weeks to dates on which enough venues are free and affordable.
    MoveDates {
        weeks: i64,
        start: NaiveDate,
        end: NaiveDate,
        venues: usize,
    },
    /// Raise the venue budget so that enough venues free on the dates become affordable.
    RaiseVenueBudget { to: Money, by: Money, venues: usize },
    /// Hold the event in another city with enough suitable venues.
    OtherCity { city: String, venues: usize },
    /// Drop one venue need of the brief: enough venues fit without it.
    DropNeed {
        need: VenueNeed,
        /// The brief's words that state it.
        source: String,
        venues: usize,
    },
    /// The organiser names venues they know that meet the brief's needs (a venue list, an
    /// OpenStreetMap import or quotes), and the run is resumed.
    AddVenues { city: String, needs: Vec<VenueNeed> },
}

/// The Event Planner breaks ties between the ways out of a conflict between the brief's dates,
/// venue availability and budget: each option gets a score from the brief's own priorities and
/// the list comes back best first (ties keep the researcher's order). A variable budget makes a
/// raise within 10% of the total the first choice; a fixed budget puts it last; a date move
/// costs more the further it goes; another city is the last resort before a fixed budget.
pub fn break_ties(b: &EventBrief, options: Vec<ConflictOption>) -> Vec<Alternative> {
    use ConflictOption as O;
    let total = b.budget.total;
    let mut scored: Vec<Alternative> = options
        .into_iter()
        .map(|o| match o {
            O::MoveDates {
                weeks,
                start,
                end,
                venues,
            } => Alternative {
                option: format!("Move the event to {start} – {end}"),
                score: (0.8 - 0.05 * weeks.abs() as f64).max(0.3),
                pros: vec![
                    format!("{venues} affordable venues are free then"),
                    "keeps the budget and the city".into(),
                ],
                cons: vec![format!(
                    "{} week(s) {}; speakers and attendees must be told",
                    weeks.abs(),
                    if weeks > 0 { "later" } else { "earlier" }
                )],
            },
            O::RaiseVenueBudget { to, by, venues } => {
                let share = if total.is_zero() {
                    1.0
                } else {
                    (by.amount / total)
                        .to_string()
                        .parse::<f64>()
                        .unwrap_or(1.0)
                };
                let score = match b.budget.flexibility {
                    Flexibility::Variable if share <= 0.10 => 0.9,
                    Flexibility::Variable => 0.6,
                    Flexibility::Fixed => 0.2,
                };
                Alternative {
                    option: format!("Raise the venue budget to {to}"),
                    score,
                    pros: vec![format!(
                        "{venues} venues become affordable on the planned dates"
                    )],
                    cons: vec![format!(
                        "costs {by} more ({:.1}% of the total){}",
                        share * 100.0,
                        if b.budget.flexibility == Flexibility::Fixed {
                            "; the budget is fixed"
                        } else {
                            ""
                        }
                    )],
                }
            }
            O::OtherCity { city, venues } => Alternative {
                option: format!("Hold the event in {city}"),
                score: 0.3,
                pros: vec![format!("{venues} suitable venues")],
                cons: vec!["changes the location".into()],
            },
            O::DropNeed {
                need,
                source,
                venues,
            } => Alternative {
                option: format!(
                    "Drop the need for {} (the brief says {source}), or bring it yourself",
                    need.label()
                ),
                score: 0.4,
                pros: vec![format!(
                    "{venues} venues fit on the planned dates and within the venue budget without it"
                )],
                cons: vec![format!(
                    "attendees who rely on {} are not served unless it is hired separately",
                    need.label()
                )],
            },
            O::AddVenues { city, needs } => Alternative {
                option: format!(
                    "Add venues in {city} you know{}: a venue list with their prices (PUT /api/v1/events/{{id}}/venues queues the run again; eods plan BRIEF --venues FILE plans anew)",
                    if needs.is_empty() {
                        String::new()
                    } else {
                        format!(
                            " that have {}",
                            needs.iter().map(|n| n.label()).collect::<Vec<_>>().join(" and ")
                        )
                    }
                ),
                score: 0.5,
                pros: vec!["keeps the dates, the city, the budget and every need".into()],
                cons: vec!["someone has to find the venues and their prices".into()],
            },
        })
        .collect();
    scored.sort_by(|a, b2| b2.score.total_cmp(&a.score));
    scored
}
