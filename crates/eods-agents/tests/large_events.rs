//! Large events (issue 12, item 4): a 3,000-person festival in Berlin plans with the bundled
//! data at every level; when no single venue holds the audience (12,000 people), Advanced
//! combines sites — the fewest, then the cheapest — and schedules across their rooms, while
//! Beginner and Intermediate block with ranked options.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

mod common;

use common::{example, plan_at, plan_with};
use eods_agents::multisite::{TRANSFER_NOT_PRICED, fewest_sites};
use eods_agents::{AgentError, Step, Tools};
use eods_domain::blackboard::Blackboard;
use eods_domain::catalog::brief::EventBrief;
use eods_domain::catalog::budget::{BudgetBaseline, CostModel};
use eods_domain::catalog::logistics::{LogisticsPlan, Schedule};
use eods_domain::catalog::venue::{ShortlistCandidate, VenueScorecard, VenueShortlist};
use eods_domain::instruction::Level;
use eods_domain::lifecycle::{
    ApprovalGate, ApprovalState, ApprovalStatus, GateInput, LifecycleState, evaluate_gate,
    gates_for,
};
use rust_decimal::Decimal;

const LEVELS: [Level; 3] = [Level::Beginner, Level::Intermediate, Level::Advanced];

fn festival() -> EventBrief {
    example("berlin-festival-3000.json")
}

/// The Berlin festival for 12,000 people: no venue in the bundled Berlin data holds that many
/// (the largest holds 5,310), with a budget that scales with the audience.
fn festival_12000() -> EventBrief {
    let mut b = festival();
    b.audience_size = 12_000;
    b.budget.total = Decimal::from(3_600_000);
    b
}

/// Every gate of Research, Budget and Logistics passes (with the approvals the engine requests
/// granted), and every artifact is valid.
fn assert_planned(bb: &Blackboard, level: Level) {
    let approvals: Vec<ApprovalState> = ApprovalGate::ALL
        .into_iter()
        .filter_map(|g| {
            Some(ApprovalState {
                gate: g,
                artifact_revision: bb.revision(g.artifact_type())?,
                status: ApprovalStatus::Approved,
            })
        })
        .collect();
    for state in [
        LifecycleState::Research,
        LifecycleState::Budget,
        LifecycleState::Logistics,
    ] {
        for gate in gates_for(state) {
            let problems = evaluate_gate(
                *gate,
                GateInput {
                    blackboard: bb,
                    level,
                    approvals: &approvals,
                },
            );
            assert!(problems.is_empty(), "{level:?} {gate}: {problems:?}");
        }
    }
    for c in bb.iter() {
        let v = eods_domain::validate::validate_payload(&c.payload);
        assert!(v.is_empty(), "{level:?}: {v:?}");
    }
    let refs = eods_domain::validate::validate_references(bb);
    assert!(refs.is_empty(), "{level:?}: {refs:?}");
}

fn selected(bb: &Blackboard) -> ShortlistCandidate {
    let card = bb.get::<VenueScorecard>().unwrap();
    bb.get::<VenueShortlist>()
        .unwrap()
        .candidates
        .iter()
        .find(|c| c.id == card.selected_candidate_id)
        .unwrap()
        .clone()
}

#[test]
fn the_berlin_festival_for_3000_plans_at_every_level() {
    let brief = festival();
    for level in LEVELS {
        let bb = plan_at(brief.clone(), level, &Step::PLANNING)
            .unwrap_or_else(|e| panic!("{level:?}: {e}"));
        assert_planned(&bb, level);
        let venue = selected(&bb);
        // One venue holds the festival: no sites are combined.
        assert!(venue.sites.is_empty(), "{level:?}: {venue:?}");
        assert!(venue.capacity >= 3000, "{level:?}: {venue:?}");
        // Only four Berlin venues hold 3,000 people: fewer leads than the search aims for (5)
        // still fill the shortlist.
        assert!(
            bb.get::<eods_domain::catalog::venue::VenueLeads>()
                .unwrap()
                .leads
                .len()
                < 5
        );
        assert!(bb.get::<VenueShortlist>().unwrap().candidates.len() >= 3);
        assert_eq!(bb.get::<Schedule>().unwrap().sessions.len(), 12);
    }
}

#[test]
fn twelve_thousand_people_combine_sites_at_advanced() {
    let brief = festival_12000();
    let tools = Tools::bundled().unwrap();
    let bb = plan_at(brief.clone(), Level::Advanced, &Step::PLANNING).unwrap();
    assert_planned(&bb, Level::Advanced);
    let venue = selected(&bb);
    let site = |id: &str| {
        tools
            .catalog
            .venues
            .iter()
            .find(|v| v.id.as_str() == id)
            .unwrap()
    };
    // Berlin's largest venues hold 5,310, 4,540, 4,475 and 3,530: no two hold 12,000, so three
    // sites are the fewest, and of the triples that hold 12,000 the cheapest is chosen.
    assert_eq!(venue.sites.len(), 3, "{venue:?}");
    let sites: Vec<_> = venue.sites.iter().map(|id| site(id)).collect();
    let capacity: u32 = sites.iter().map(|v| v.capacity).sum();
    assert_eq!(venue.capacity, capacity);
    assert!(capacity >= 12_000);
    let days = Decimal::from(brief.days());
    let cost: Decimal = sites.iter().map(|v| v.day_rate * days).sum();
    assert_eq!(venue.cost_estimate.amount, cost);
    // The cheapest triple that holds 12,000 on the dates, by enumeration over Berlin's venues
    // that can be sites: step-free, and with a stage (the brief asks for "step-free access to
    // every stage", read as a need for a stage; nobody rents one).
    let berlin: Vec<_> = tools
        .catalog
        .venues
        .iter()
        .filter(|v| v.city == "Berlin" && v.available_on(&brief.event_days()))
        .filter(|v| v.accessibility.iter().any(|a| a == "step_free_access"))
        .filter(|v| v.amenities.iter().any(|a| a == "stage"))
        .collect();
    assert_eq!(
        fewest_sites(
            &berlin.iter().map(|v| v.capacity).collect::<Vec<_>>(),
            12_000
        ),
        Some(3)
    );
    let mut cheapest: Option<Decimal> = None;
    for (i, a) in berlin.iter().enumerate() {
        for (j, b) in berlin.iter().enumerate().skip(i + 1) {
            for c in berlin.iter().skip(j + 1) {
                if a.capacity + b.capacity + c.capacity >= 12_000 {
                    let x = (a.day_rate + b.day_rate + c.day_rate) * days;
                    cheapest = Some(cheapest.map_or(x, |y: Decimal| y.min(x)));
                }
            }
        }
    }
    assert_eq!(Some(venue.cost_estimate.amount), cheapest);
    // Every shortlisted candidate is a combination that holds the audience.
    for c in &bb.get::<VenueShortlist>().unwrap().candidates {
        assert!(c.sites.len() >= 3 && c.capacity >= 12_000, "{c:?}");
    }

    // The schedule uses rooms of every site, named `<site>: <room>`.
    let schedule = bb.get::<Schedule>().unwrap();
    for v in &sites {
        let prefix = format!("{}: ", v.name);
        assert!(
            schedule.rooms.iter().any(|r| r.name.starts_with(&prefix)),
            "no room of {} in {:?}",
            v.name,
            schedule.rooms
        );
        assert!(
            schedule.sessions.iter().any(|s| schedule
                .rooms
                .iter()
                .any(|r| r.id == s.room && r.name.starts_with(&prefix))),
            "no session at {}",
            v.name
        );
    }
    // Each track stays at one site (nobody changes site within a track), one site per track.
    let site_of = |room: &eods_domain::ids::RoomId| {
        let name = &schedule.rooms.iter().find(|r| &r.id == room).unwrap().name;
        sites
            .iter()
            .position(|v| name.starts_with(&format!("{}: ", v.name)))
            .unwrap()
    };
    let mut track_site = std::collections::BTreeMap::new();
    for s in &schedule.sessions {
        let at = site_of(&s.room);
        assert_eq!(
            *track_site.entry(s.track.clone()).or_insert(at),
            at,
            "{s:?}"
        );
    }
    let used: std::collections::BTreeSet<usize> = track_site.values().copied().collect();
    assert_eq!(used.len(), 3, "{track_site:?}");

    // The bundled rate cards price no transfer: the plan says so and invents no price.
    let model = bb.get::<CostModel>().unwrap();
    assert!(
        model
            .line_items
            .iter()
            .all(|l| !l.description.to_lowercase().contains("transfer"))
    );
    let venue_line = &model.line_items[0];
    assert_eq!(venue_line.total, cost);
    assert!(
        bb.get::<BudgetBaseline>()
            .unwrap()
            .assumptions
            .iter()
            .any(|a| a.contains(TRANSFER_NOT_PRICED))
    );
    assert!(
        bb.get::<LogisticsPlan>()
            .unwrap()
            .policies
            .iter()
            .any(|p| p.contains(TRANSFER_NOT_PRICED))
    );
    assert!(
        bb.get::<VenueScorecard>()
            .unwrap()
            .selection_rationale
            .contains(TRANSFER_NOT_PRICED)
    );
}

#[test]
fn a_transfer_is_a_line_only_when_a_rate_card_prices_it() {
    let mut tools = Tools::bundled().unwrap();
    // A test rate card item (sample data, not a real price): a shuttle per day per link.
    let s = std::sync::Arc::make_mut(&mut tools.rates)
        .suppliers
        .iter_mut()
        .find(|s| s.serves("Berlin") && s.service == eods_agents::data::Service::Staffing)
        .unwrap();
    let supplier = s.id.clone();
    let currency = s.currency.clone();
    s.items.push(eods_agents::data::RateItem {
        code: "shuttle".into(),
        unit: "per_day".into(),
        price: Decimal::from(1_800),
        description: "Shuttle bus loop between two sites (test sample)".into(),
        tiers: vec![],
    });
    let brief = festival_12000();
    assert_eq!(
        currency.as_str(),
        "EUR",
        "the sample supplier quotes in EUR"
    );
    let bb = plan_with(&tools, brief.clone(), Level::Advanced, &Step::PLANNING).unwrap();
    assert_planned(&bb, Level::Advanced);
    let model = bb.get::<CostModel>().unwrap();
    let line = model
        .line_items
        .iter()
        .find(|l| l.description.starts_with("Transfers between the 3 sites"))
        .unwrap_or_else(|| panic!("{:?}", model.line_items));
    // Two links between three sites on each of two days, at the card's price.
    assert_eq!(line.qty, Decimal::from(4));
    assert_eq!(line.unit_cost, Decimal::from(1_800));
    assert_eq!(line.total, Decimal::from(7_200));
    assert_eq!(line.vendor_option, supplier);
    assert!(
        bb.get::<BudgetBaseline>()
            .unwrap()
            .assumptions
            .iter()
            .all(|a| !a.contains(TRANSFER_NOT_PRICED))
    );
    let sum: Decimal = model.line_items.iter().map(|l| l.total).sum();
    assert_eq!(sum, model.total);
}

#[test]
fn twelve_thousand_people_block_with_ranked_options_below_advanced() {
    for level in [Level::Beginner, Level::Intermediate] {
        let err = plan_at(festival_12000(), level, &Step::PLANNING).unwrap_err();
        let AgentError::Infeasible {
            reason,
            alternatives,
        } = err
        else {
            panic!("{level:?}: {err:?}")
        };
        assert!(
            reason
                .contains("no single venue in Berlin holds 12000 people (the largest holds 5310)"),
            "{reason}"
        );
        let options: Vec<&str> = alternatives.iter().map(|a| a.option.as_str()).collect();
        // Ranked best first, each with its trade-offs.
        assert!(
            alternatives.windows(2).all(|w| w[0].score >= w[1].score),
            "{options:?}"
        );
        assert!(
            alternatives
                .iter()
                .filter(|a| a.score > 0.0)
                .all(|a| !a.pros.is_empty() && !a.cons.is_empty()),
            "{alternatives:?}"
        );
        // Two days of 6,000 still exceed the largest venue: three days of 4,000 fit it.
        assert!(
            options.iter().any(|o| o.starts_with(
                "Split the audience over 3 days of 4000 people in Gleis Arena (holds 5310)"
            )),
            "{options:?}"
        );
        assert!(
            options
                .iter()
                .any(|o| o.starts_with("Cap attendance at 5310")),
            "{options:?}"
        );
        assert!(
            options
                .iter()
                .any(|o| o.contains("Combine 3 venues in Berlin (Advanced)")),
            "{options:?}"
        );
        // The bundled data has no outdoor site (park, open-air ground) in Berlin; it says so.
        let outdoor = alternatives
            .iter()
            .find(|a| a.option.contains("outdoor site"))
            .unwrap();
        assert!(outdoor.option.contains("no outdoor site in the data"));
        assert_eq!(outdoor.score, 0.0);
        assert_eq!(alternatives.last().unwrap().option, outdoor.option);
    }
}

#[test]
fn splitting_the_days_comes_first_when_a_day_fits_the_largest_venue() {
    // 9,000 people over two days: 4,500 a day fit Gleis Arena (5,310).
    let mut b = festival_12000();
    b.audience_size = 9_000;
    let err = plan_at(b, Level::Beginner, &Step::PLANNING).unwrap_err();
    let AgentError::Infeasible { alternatives, .. } = err else {
        panic!("{err:?}")
    };
    assert_eq!(
        alternatives[0].option,
        "Split the audience over the 2 days: 4500 people a day in Gleis Arena (holds 5310)"
    );
    // Combining needs two sites (5,310 + 4,540).
    assert!(
        alternatives
            .iter()
            .any(|a| a.option == "Combine 2 venues in Berlin (Advanced)")
    );
}

#[test]
fn more_people_than_every_site_together_block_at_advanced() {
    let mut b = festival_12000();
    b.audience_size = 80_000;
    let err = plan_at(b, Level::Advanced, &Step::PLANNING).unwrap_err();
    let AgentError::Infeasible {
        reason,
        alternatives,
    } = err
    else {
        panic!("{err:?}")
    };
    assert!(
        reason.contains("no single venue in Berlin holds 80000 people"),
        "{reason}"
    );
    assert!(
        reason.contains("hold") && reason.contains("together"),
        "{reason}"
    );
    assert!(
        alternatives.iter().all(|a| !a.option.contains("Combine")),
        "{alternatives:?}"
    );
    assert!(!alternatives.is_empty());
}

#[test]
fn a_city_without_venues_is_left_to_the_leads_search() {
    let mut b = festival();
    b.location.city = "Nairobi".into();
    let err = plan_at(b, Level::Advanced, &Step::PLANNING).unwrap_err();
    let AgentError::NeedsInput { reason, .. } = err else {
        panic!("{err:?}")
    };
    assert!(reason.starts_with("No venue data for Nairobi"), "{reason}");
    assert!(!reason.contains("no single venue"), "{reason}");
}
