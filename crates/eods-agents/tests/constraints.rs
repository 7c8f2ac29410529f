//! The brief's free-text constraints count: venues lacking a required amenity are excluded (or
//! the gap is rented), catering lines follow the dietary needs and meals, and the Requirements
//! artifact records what each text was understood as.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

mod common;

use common::{example, plan_at, plan_with};
use eods_agents::{AgentError, Step, Tools};
use eods_domain::catalog::brief::{EventBrief, EventType, Flexibility};
use eods_domain::catalog::budget::{BudgetCategory, CostModel};
use eods_domain::catalog::logistics::VendorContracts;
use eods_domain::catalog::planning::Requirements;
use eods_domain::catalog::venue::{VenueLeads, VenueScorecard, VenueShortlist};
use eods_domain::instruction::Level;
use rust_decimal::Decimal;

const TO_RESEARCH: [Step; 3] = [Step::Intake, Step::Plan, Step::Research];
const TO_BUDGET: [Step; 4] = [Step::Intake, Step::Plan, Step::Research, Step::Budget];

/// S-01 (a Berlin meetup) with one more constraint and room in the budget.
fn meetup_with(constraint: &str) -> EventBrief {
    let mut b = example("s01-meetup.json");
    b.constraints.push(constraint.into());
    b.budget.total = Decimal::from(5000);
    b.budget.flexibility = Flexibility::Variable;
    b
}

fn venue<'a>(
    tools: &'a Tools,
    r: &eods_domain::ids::VenueRef,
) -> &'a eods_agents::data::CatalogVenue {
    tools.catalog.venues.iter().find(|v| v.id == *r).unwrap()
}

#[test]
fn venues_lacking_a_required_amenity_are_excluded_with_the_reason() {
    let tools = Tools::bundled().unwrap();
    let mut brief = meetup_with("A hearing loop for hard-of-hearing guests");
    // Berlin's venues with a hearing loop are the larger, dearer ones.
    brief.budget.total = Decimal::from(10_000);
    let bb = plan_at(brief, Level::Intermediate, &TO_RESEARCH).unwrap();
    let shortlist = bb.get::<VenueShortlist>().unwrap();
    assert!(!shortlist.candidates.is_empty());
    for c in &shortlist.candidates {
        let v = venue(&tools, &c.venue_ref);
        assert!(
            v.accessibility.iter().any(|a| a == "hearing_loop"),
            "{}",
            v.name
        );
    }
    let leads = bb.get::<VenueLeads>().unwrap();
    let excluded: Vec<&str> = leads
        .leads
        .iter()
        .filter(|l| l.notes.contains("excluded: lacks"))
        .map(|l| l.notes.as_str())
        .collect();
    // Leads that meet the needs come first, so excluded ones appear only when few meet them.
    for n in &excluded {
        assert!(
            !shortlist.candidates.iter().any(|c| n.starts_with(&c.name)),
            "{n}"
        );
    }
    let card = bb.get::<VenueScorecard>().unwrap();
    assert!(
        card.selection_rationale
            .contains("The brief's constraints require wifi, a projector, a hearing loop"),
        "{}",
        card.selection_rationale
    );
    assert!(
        card.selection_rationale
            .contains("Excluded for lacking them: Prenzlauer Werkraum (a hearing loop)"),
        "{}",
        card.selection_rationale
    );
}

#[test]
fn a_need_no_venue_meets_blocks_naming_the_need() {
    let brief = meetup_with(
        "Green room, outdoor space, a cloakroom, a stage, recording, accessible parking, a hearing loop and a quiet room",
    );
    match plan_at(brief, Level::Intermediate, &TO_RESEARCH) {
        Err(AgentError::Infeasible { reason, .. }) => {
            assert!(
                reason.contains("excluded because the brief's constraints require"),
                "{reason}"
            );
            assert!(
                reason.contains("a green room") || reason.contains("outdoor space"),
                "{reason}"
            );
        }
        other => panic!(
            "expected a blocked venue search, got {:?}",
            other.map(|_| ())
        ),
    }
}

#[test]
fn a_need_too_few_venues_meet_offers_dropping_it_or_adding_venues() {
    // S-01's 500 EUR buys no Berlin venue with a hearing loop; without the loop enough fit.
    let mut brief = example("s01-meetup.json");
    brief
        .constraints
        .push("Needs an induction loop for hearing aids".into());
    let Err(AgentError::Infeasible {
        reason,
        alternatives,
    }) = plan_at(brief.clone(), Level::Intermediate, &TO_RESEARCH)
    else {
        panic!("expected a blocked venue search");
    };
    assert!(reason.contains("require a hearing loop"), "{reason}");
    let options: Vec<&str> = alternatives.iter().map(|a| a.option.as_str()).collect();
    let add = options
        .iter()
        .position(|o| {
            o.starts_with(
                "Add venues in Berlin you know that have wifi and a projector and a hearing loop",
            )
        })
        .unwrap_or_else(|| panic!("no add-venues option in {options:?}"));
    let drop = alternatives
        .iter()
        .position(|a| {
            a.option.starts_with(
                "Drop the need for a hearing loop (the brief says \"Needs an induction loop for hearing aids\")",
            )
        })
        .unwrap_or_else(|| panic!("no drop-the-need option in {options:?}"));
    // Keeping the city, dates and budget ranks above moving the event.
    let city = options
        .iter()
        .position(|o| o.starts_with("Hold the event in"))
        .unwrap_or(usize::MAX);
    assert!(add < city && drop < city, "{options:?}");
    // The count the option promises is what planning without the need finds.
    let promised: usize = alternatives[drop].pros[0]
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap();
    brief.constraints.pop();
    let bb = plan_at(brief, Level::Intermediate, &TO_RESEARCH).unwrap();
    let shortlisted = bb.get::<VenueShortlist>().unwrap().candidates.len();
    assert!(promised >= 3, "{promised}");
    assert!(
        shortlisted >= 3 && shortlisted <= promised,
        "{shortlisted} of {promised}"
    );
}

#[test]
fn a_rental_only_need_is_priced_into_the_venue_and_the_budget() {
    let tools = Tools::bundled().unwrap();
    let brief = meetup_with("Backup generator on site in case of a power cut");
    let bb = plan_at(brief, Level::Intermediate, &TO_BUDGET).unwrap();
    let shortlist = bb.get::<VenueShortlist>().unwrap();
    let card = bb.get::<VenueScorecard>().unwrap();
    let selected = shortlist
        .candidates
        .iter()
        .find(|c| c.id == card.selected_candidate_id)
        .unwrap();
    assert_eq!(selected.rentals.len(), 1, "{:?}", selected.rentals);
    assert!(selected.rentals[0].starts_with("backup power (generator) rented from"));
    // The venue's cost is its day rate plus the cheapest generator rental for the one day.
    let v = venue(&tools, &selected.venue_ref);
    let day = chrono::NaiveDate::from_ymd_opt(2027, 3, 11).unwrap();
    let hire = tools
        .convert(
            v.day_rate,
            &v.currency,
            &selected.cost_estimate.currency,
            day,
        )
        .unwrap()
        .0;
    let generator = tools
        .rates
        .suppliers
        .iter()
        .filter(|s| s.serves("Berlin"))
        .filter_map(|s| {
            s.price("generator").and_then(|p| {
                tools
                    .convert(p, &s.currency, &selected.cost_estimate.currency, day)
                    .ok()
                    .map(|(c, _)| c)
            })
        })
        .min()
        .unwrap();
    assert!(selected.cost_estimate.amount >= hire + generator - Decimal::ONE);
    assert!(card.selection_rationale.contains("rented from"));
    let cost = bb.get::<CostModel>().unwrap();
    let line = cost
        .line_items
        .iter()
        .find(|l| l.category == BudgetCategory::Venue)
        .unwrap();
    assert!(
        line.description
            .contains("backup power (generator) rented from"),
        "{}",
        line.description
    );
}

#[test]
fn a_missing_amenity_is_rented_when_a_supplier_offers_it_and_blocks_when_none_does() {
    let mut tools = Tools::bundled().unwrap();
    for v in tools
        .catalog
        .venues
        .iter_mut()
        .filter(|v| v.city == "Berlin")
    {
        v.amenities.retain(|a| a != "projector");
    }
    let brief = meetup_with("Quiet corner for speakers");
    let bb = plan_with(&tools, brief.clone(), Level::Intermediate, &TO_RESEARCH).unwrap();
    for c in &bb.get::<VenueShortlist>().unwrap().candidates {
        assert!(
            c.rentals
                .iter()
                .any(|r| r.starts_with("a projector rented from")),
            "{}: {:?}",
            c.name,
            c.rentals
        );
    }
    // Without a rental on the rate cards, the projector constraint leaves no venue.
    for s in &mut std::sync::Arc::make_mut(&mut tools.rates).suppliers {
        s.items.retain(|i| i.code != "projector_rental");
    }
    match plan_with(&tools, brief, Level::Intermediate, &TO_RESEARCH) {
        Err(AgentError::Infeasible { reason, .. }) => {
            assert!(reason.contains("require a projector"), "{reason}");
        }
        other => panic!(
            "expected a blocked venue search, got {:?}",
            other.map(|_| ())
        ),
    }
}

#[test]
fn catering_lines_and_caterer_contracts_follow_the_diets() {
    let mut brief = example("s02-conference.json");
    brief
        .constraints
        .push("Vegan and halal catering for everyone".into());
    let bb = plan_at(brief, Level::Intermediate, &eods_agents::Step::PLANNING).unwrap();
    let cost = bb.get::<CostModel>().unwrap();
    let catering: Vec<&str> = cost
        .line_items
        .iter()
        .filter(|l| l.category == BudgetCategory::Catering)
        .map(|l| l.description.as_str())
        .collect();
    // S-02 asks for lunch and two coffee breaks on both days.
    assert_eq!(
        catering,
        vec![
            "Lunch for 200 on 2 day(s), vegan, halal",
            "Two coffee breaks a day for 200, vegan, halal"
        ]
    );
    let contracts = bb.get::<VendorContracts>().unwrap();
    let caterers: Vec<_> = contracts
        .vendors
        .iter()
        .filter(|v| v.service == "catering")
        .collect();
    assert!(!caterers.is_empty());
    for c in caterers {
        assert!(
            c.slas
                .contains(&"Dietary requirement from the brief: vegan, halal".to_owned()),
            "{:?}",
            c.slas
        );
    }
}

#[test]
fn no_alcohol_swaps_the_reception_and_meals_set_the_catering_lines() {
    let mut gala = example("s01-meetup.json");
    gala.event_type = EventType::Gala;
    gala.constraints.clear();
    let codes = |b: &EventBrief| -> Vec<(&'static str, String)> {
        eods_agents::pricing::needs(b)
            .into_iter()
            .filter(|n| n.service == eods_agents::data::Service::Catering)
            .map(|n| (n.code, n.description))
            .collect()
    };
    assert_eq!(
        codes(&gala),
        vec![
            ("reception", "Reception for 20".to_owned()),
            ("dinner", "Seated dinner for 20".to_owned())
        ]
    );
    gala.constraints.push("A dry event: no alcohol".into());
    assert_eq!(
        codes(&gala),
        vec![
            (
                "snacks",
                "Reception for 20, soft drinks only, no alcohol".to_owned()
            ),
            ("dinner", "Seated dinner for 20, no alcohol".to_owned())
        ]
    );
    // S-03 asks for breakfast, lunch and two coffee breaks each of its three days.
    let festival = example("s03-large-event.json");
    let needs = eods_agents::pricing::needs(&festival);
    let qty = |code: &str| needs.iter().find(|n| n.code == code).map(|n| n.qty);
    assert_eq!(qty("breakfast"), Some(Decimal::from(800 * 3)));
    assert_eq!(qty("lunch"), Some(Decimal::from(800 * 3)));
    assert_eq!(qty("coffee_break"), Some(Decimal::from(800 * 3 * 2)));
}

#[test]
fn an_afternoon_or_morning_conference_is_not_catered_a_lunch_by_default() {
    let codes = |constraints: &[&str]| -> Vec<&'static str> {
        let mut b = example("s01-meetup.json");
        b.event_type = EventType::Conference;
        b.constraints = constraints.iter().map(|c| (*c).to_owned()).collect();
        eods_agents::pricing::needs(&b)
            .into_iter()
            .filter(|n| n.service == eods_agents::data::Service::Catering)
            .map(|n| n.code)
            .collect()
    };
    // Hours nobody stated leave the day open: the usual lunch and coffee breaks.
    assert_eq!(codes(&[]), vec!["lunch", "coffee_break"]);
    assert_eq!(
        codes(&["Sessions 09:00 to 17:00"]),
        vec!["lunch", "coffee_break"]
    );
    // An afternoon (sessions from 13:30) and a morning (until 12:00) get the breaks only.
    for hours in [
        "Talks only between 13:30 and 18:00",
        "Sessions 08:30 to 12:00",
    ] {
        assert_eq!(codes(&[hours]), vec!["coffee_break"], "{hours}");
    }
    // A lunch the brief asks for is catered whatever the hours.
    assert_eq!(
        codes(&[
            "Talks only between 13:30 and 18:00",
            "Lunch and a coffee break each day"
        ]),
        vec!["lunch", "coffee_break"]
    );
}

#[test]
fn requirements_record_what_each_text_was_understood_as() {
    let mut brief = example("s01-meetup.json");
    brief.constraints.push("Sponsor booths in the foyer".into());
    let bb = plan_at(brief, Level::Beginner, &[Step::Intake]).unwrap();
    let r = bb.get::<Requirements>().unwrap();
    let by_source = |s: &str| {
        r.functional
            .iter()
            .chain(&r.nonfunctional)
            .chain(&r.nice_to_have)
            .find(|q| q.source == s)
            .unwrap()
    };
    let evening = by_source("brief.constraints[0]");
    assert_eq!(
        evening.understood_as,
        vec![
            "doors open at 18:30",
            "sessions only between 19:00 and 21:00"
        ]
    );
    assert_eq!(evening.not_understood, None);
    assert_eq!(
        by_source("brief.constraints[2]").understood_as,
        vec!["budget is fixed: the total may not be exceeded"]
    );
    let booths = by_source("brief.constraints[3]");
    assert!(booths.understood_as.is_empty());
    assert!(
        booths
            .not_understood
            .as_deref()
            .unwrap()
            .contains("not a form EODS recognises")
    );
    assert_eq!(
        by_source("brief.location.preferences[1]").understood_as,
        vec!["preferred: venue must have step-free access"]
    );
    // Objectives are goals: never "not understood".
    assert!(by_source("brief.objectives[0]").not_understood.is_none());
    assert_eq!(r.not_understood().len(), 1);
}
