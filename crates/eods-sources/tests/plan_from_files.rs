//! The planners run on an organiser's own files: the Nairobi sample venue list and rate cards
//! plan a city the demo catalog does not know, every venue and supplier from those files; a venue
//! without known facts becomes a request for quote, and the run asks for quotes when too few
//! venues have known facts, then goes on once quotes arrive.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use eods_agents::{AgentError, Directives, Step, StepInput, Tools, run_step};
use eods_domain::artifact::CatalogType;
use eods_domain::blackboard::{Blackboard, Current};
use eods_domain::catalog::budget::CostModel;
use eods_domain::catalog::logistics::VendorContracts;
use eods_domain::catalog::sources::{OrganiserData, SourceKind};
use eods_domain::catalog::venue::{Facts, VenueLeads, VenueScorecard, VenueShortlist};
use eods_domain::instruction::Level;
use eods_sources::files::{parse_quotes_csv, parse_rate_cards_csv, parse_venues};

fn sample(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/../../examples/nairobi/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn organiser() -> OrganiserData {
    let venues = parse_venues(&sample("venues.csv"), "venues.csv", SourceKind::EventList);
    let rates = parse_rate_cards_csv(
        &sample("rate_cards.csv"),
        "rate_cards.csv",
        SourceKind::EventList,
    );
    assert!(venues.errors.is_empty() && rates.errors.is_empty());
    OrganiserData {
        venues: venues.records,
        rate_cards: rates.records,
        quotes: vec![],
    }
}

fn board(data: OrganiserData) -> Blackboard {
    let brief = eods_domain::intake::parse_brief(&sample("brief.json")).unwrap();
    let mut bb = Blackboard::new();
    for payload in [brief.into_payload(), data.into_payload()] {
        bb.insert(Current {
            revision: 1,
            created_by: "user:test".into(),
            derived_from: vec![],
            payload,
        });
    }
    bb
}

fn run(tools: &Tools, bb: &mut Blackboard, level: Level) -> Result<(), AgentError> {
    let directives = Directives {
        seed: 7,
        ..Directives::default()
    };
    for step in Step::PLANNING {
        let data = eods_agents::sources::EventData::of(tools, bb, None);
        let out = run_step(
            step,
            StepInput {
                blackboard: bb,
                level,
                tools,
                directives: &directives,
                data: &data,
            },
        )?;
        eods_agents::record(bb, step, out.artifacts);
    }
    Ok(())
}

#[test]
fn a_city_outside_the_demo_set_plans_from_the_organisers_files_alone() {
    let tools = Tools::bundled().unwrap();
    let data = organiser();
    let names: Vec<String> = data.venues.iter().map(|v| v.name.clone()).collect();
    let suppliers: Vec<String> = data.rate_cards.iter().map(|r| r.supplier.clone()).collect();
    for level in [Level::Beginner, Level::Intermediate, Level::Advanced] {
        let mut bb = board(data.clone());
        run(&tools, &mut bb, level).unwrap_or_else(|e| panic!("{level:?}: {e}"));
        let leads = bb.get::<VenueLeads>().unwrap();
        for l in &leads.leads {
            assert!(names.contains(&l.name), "{} is not in venues.csv", l.name);
            let p = l.provenance.as_ref().unwrap();
            assert_eq!(p.kind, SourceKind::EventList);
            assert_eq!(p.file.as_deref(), Some("venues.csv"));
            assert!(p.line.is_some_and(|n| n >= 2));
        }
        // The venue without capacity and price is asked, not guessed.
        let kilele = leads
            .leads
            .iter()
            .find(|l| l.name == "Kilele Tech Hub")
            .unwrap();
        assert_eq!(kilele.facts, Facts::Unknown);
        assert!(kilele.day_rate.is_none() && kilele.capacity.is_none());
        let rfq = kilele.request_for_quote.as_ref().unwrap();
        // A program of two tracks also needs to know its rooms.
        assert_eq!(rfq.asks, ["capacity", "day_rate", "rooms"]);
        assert!(rfq.owner.starts_with("stakeholder-"));
        // The selected venue is one of the organiser's, and Logistics planned in its rooms.
        let card = bb.get::<VenueScorecard>().unwrap();
        let short = bb.get::<VenueShortlist>().unwrap();
        let chosen = short
            .candidates
            .iter()
            .find(|c| c.id == card.selected_candidate_id)
            .unwrap();
        assert!(names.contains(&chosen.name));
        assert!(chosen.id.as_str().starts_with("candidate-list-"));
        let contracts = bb.get::<VendorContracts>().unwrap();
        for v in contracts.vendors.iter().filter(|v| v.service != "venue") {
            // Backups come from the organiser's local suppliers, or the contract says there is none.
            match &v.backup {
                Some(b) => assert!(suppliers.contains(&b.name), "{}", b.name),
                None => assert!(
                    v.slas.iter().any(|l| l.starts_with("No backup")),
                    "{:?}",
                    v.slas
                ),
            }
        }
        for v in &contracts.vendors {
            assert!(
                names.contains(&v.name) || suppliers.contains(&v.name),
                "{level:?}: {} comes from neither file",
                v.name
            );
        }
        let cost = bb.get::<CostModel>().unwrap();
        assert_eq!(cost.currency.as_str(), "KES");
        for l in &cost.line_items {
            assert!(
                l.vendor_option.starts_with("rc-")
                    || l.vendor_option.starts_with("list-")
                    || l.vendor_option.is_empty()
                    || l.vendor_option == "reserve",
                "{level:?}: line {} from {}",
                l.id,
                l.vendor_option
            );
        }
    }
}

#[test]
fn too_few_known_venues_ask_for_quotes_and_quotes_let_the_plan_go_on() {
    let tools = Tools::bundled().unwrap();
    let mut data = organiser();
    // Only two venues with known facts: the rest lose their capacity and price.
    for v in data.venues.iter_mut().skip(2) {
        v.capacity = None;
        v.day_rate = None;
    }
    let unknown: Vec<String> = data.venues.iter().skip(2).map(|v| v.name.clone()).collect();
    let mut bb = board(data.clone());
    let err = run(&tools, &mut bb, Level::Intermediate).unwrap_err();
    let AgentError::NeedsInput {
        reason,
        asks,
        partial,
    } = err
    else {
        panic!("{err:?}")
    };
    assert!(reason.contains("wait for a quote"), "{reason}");
    assert!(reason.contains("/quotes"), "{reason}");
    for name in &unknown {
        assert!(
            asks.iter().any(|a| a.starts_with(name.as_str())),
            "{asks:?}"
        );
    }
    let leads = partial
        .iter()
        .find_map(VenueLeads::from_payload)
        .expect("the leads are written while the run waits");
    assert_eq!(
        leads
            .leads
            .iter()
            .filter(|l| l.request_for_quote.is_some())
            .count(),
        unknown.len()
    );
    // Quotes for every venue that lost its facts: the plan continues from them.
    let csv = std::iter::once("venue,capacity,day_rate,currency,rooms".to_owned())
        .chain(
            unknown
                .iter()
                .map(|n| format!("{n},300,150000,KES,Hall:300;Room 2:100")),
        )
        .collect::<Vec<_>>()
        .join("\n");
    let quotes = parse_quotes_csv(&csv, "quotes.csv", "user:test");
    assert!(quotes.errors.is_empty(), "{:?}", quotes.errors);
    data.quotes = quotes.records;
    let mut bb = board(data);
    run(&tools, &mut bb, Level::Intermediate).unwrap();
    let leads = bb.get::<VenueLeads>().unwrap();
    let quoted = leads
        .leads
        .iter()
        .filter(|l| l.facts == Facts::Quoted)
        .count();
    // Quoted venues that hold the audience are leads with their quoted facts (those without a
    // room per track are screened out as any venue is); no request is left open.
    assert!(quoted >= 2, "{:#?}", leads.leads);
    let open: Vec<&str> = leads
        .leads
        .iter()
        .filter(|l| l.request_for_quote.is_some())
        .map(|l| l.name.as_str())
        .collect();
    assert!(
        open.is_empty(),
        "{open:?} {:#?}",
        leads.leads.iter().find(|l| l.name == "Kilele Tech Hub")
    );
    assert!(bb.get::<VendorContracts>().is_some());
}

#[test]
fn without_rate_cards_a_real_city_asks_for_them_instead_of_using_demo_suppliers() {
    let tools = Tools::bundled().unwrap();
    let mut data = organiser();
    data.rate_cards.clear();
    let mut bb = board(data);
    let err = run(&tools, &mut bb, Level::Beginner).unwrap_err();
    let AgentError::NeedsInput { reason, asks, .. } = err else {
        panic!("{err:?}")
    };
    assert!(reason.contains("--rate-cards"), "{reason}");
    assert!(reason.contains("demo rate cards are not used"), "{reason}");
    assert!(
        asks.iter()
            .any(|a| a.starts_with("catering prices in Nairobi")),
        "{asks:?}"
    );
}

#[test]
fn quotes_carry_rooms() {
    let q = parse_quotes_csv(
        "venue,capacity,day_rate,currency,rooms\nKilele Tech Hub,300,150000,KES,Hall:300;Room 2:100",
        "quotes.csv",
        "user:test",
    );
    assert!(q.errors.is_empty(), "{:?}", q.errors);
    assert_eq!(q.records[0].rooms.len(), 2, "{:?}", q.records);
}

#[test]
fn rate_cards_with_only_the_documented_items_plan_and_name_what_is_not_priced() {
    let tools = Tools::bundled().unwrap();
    let mut data = organiser();
    let documented = eods_domain::catalog::sources::ITEMS;
    data.rate_cards
        .retain(|r| documented.contains(&r.item.as_str()));
    let mut bb = board(data);
    let directives = Directives::default();
    let mut raised = Vec::new();
    for step in Step::PLANNING {
        let ed = eods_agents::sources::EventData::of(&tools, &bb, None);
        let out = run_step(
            step,
            StepInput {
                blackboard: &bb,
                level: Level::Intermediate,
                tools: &tools,
                directives: &directives,
                data: &ed,
            },
        )
        .unwrap_or_else(|e| panic!("{step}: {e}"));
        raised.extend(out.raised.iter().map(|r| r.description.clone()));
        eods_agents::record(&mut bb, step, out.artifacts);
    }
    // Items outside the documented vocabulary that this brief needs are named, not guessed.
    assert!(
        raised
            .iter()
            .any(|r| r.starts_with("not priced: Promotion campaign (marketing `campaign`)")),
        "{raised:?}"
    );
    let cost = bb.get::<CostModel>().unwrap();
    assert!(
        cost.line_items
            .iter()
            .all(|l| l.vendor_option != "campaign")
    );
    assert!(bb.get::<VendorContracts>().is_some());
}
