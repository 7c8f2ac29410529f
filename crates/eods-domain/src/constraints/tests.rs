//! Table-driven tests of the recogniser: every recognised form and every not-understood path.

use super::*;
use proptest::prelude::*;

/// Checks what `input` is understood as. `expect` is the `describe()` texts joined by `; `
/// (empty when nothing is understood), then ` ! ` and a fragment of the hint when the text is
/// (partly) not understood.
#[track_caller]
fn check(input: &str, expect: &str) {
    let (understood, hint) = read_text(input);
    let got = understood
        .iter()
        .map(Understood::describe)
        .collect::<Vec<_>>()
        .join("; ");
    let (want, want_hint) = match expect.split_once(" ! ") {
        Some((w, h)) => (w, Some(h)),
        None => (expect, None),
    };
    assert_eq!(got, want, "understood from {input:?}");
    match (want_hint, &hint) {
        (None, None) => {}
        (Some(frag), Some(h)) => assert!(
            h.contains(frag),
            "hint for {input:?} is {h:?}, expected it to contain {frag:?}"
        ),
        _ => panic!("hint for {input:?}: got {hint:?}, expected {want_hint:?}"),
    }
}

#[test]
fn time_windows() {
    let cases = [
        // The examples' own words.
        (
            "Evening only: doors 18:30, talks 19:00 to 21:00",
            "doors open at 18:30; sessions only between 19:00 and 21:00",
        ),
        (
            "Talks only between 19:00 and 21:00",
            "sessions only between 19:00 and 21:00",
        ),
        ("18:00–20:30", "sessions only between 18:00 and 20:30"),
        ("09:00-17:00", "sessions only between 09:00 and 17:00"),
        (
            "Program runs 9:30 — 16:45",
            "sessions only between 09:30 and 16:45",
        ),
        (
            "Sessions from 10am until 4pm",
            "sessions only between 10:00 and 16:00",
        ),
        (
            "Workshops 9h30 to 12h",
            "sessions only between 09:30 and 12:00",
        ),
        (
            "Talks 19.00 till 21.30",
            "sessions only between 19:00 and 21:30",
        ),
        ("Panels 7-9pm", "sessions only between 19:00 and 21:00"),
        (
            "Open 7:30 pm to 11 p.m.",
            "sessions only between 19:30 and 23:00",
        ),
        ("Only after 18:00", "no session before 18:00"),
        ("Stages open at 12:00", "no session before 12:00"),
        ("Not before 10am", "no session before 10:00"),
        ("No sessions before 9:30", "no session before 09:30"),
        ("Talks start at 19h", "no session before 19:00"),
        ("No earlier than 8 am", "no session before 08:00"),
        ("Finish by 22:00", "no session after 22:00"),
        ("No sessions after 17:00", "no session after 17:00"),
        ("Must end by 9pm", "no session after 21:00"),
        ("The venue closes at 23:00", "no session after 23:00"),
        ("Nothing after 12 noon", "no session after 12:00"),
        ("Doors 18:30", "doors open at 18:30"),
        ("Doors open at 6:30pm", "doors open at 18:30"),
        (
            "Lunch 12:00-13:00, no sessions",
            "lunch 12:00–13:00, no sessions",
        ),
        (
            "Coffee break 15:00–15:30",
            "coffee break 15:00–15:30, no sessions",
        ),
        (
            "Short break 10:30 to 10:45",
            "break 10:30–10:45, no sessions",
        ),
        (
            "Keynote by the mayor at 10:00 in the main hall",
            "keynote at 10:00",
        ),
        ("Closing panel at 16:15", "panel at 16:15"),
        (
            "Doors 8:30; keynote at 9:00; lunch 12:30-13:30; finish by 17:30",
            "doors open at 08:30; keynote at 09:00; lunch 12:30–13:30, no sessions; no session after 17:30",
        ),
    ];
    for (input, expect) in cases {
        check(input, expect);
    }
}

#[test]
fn venue_needs_diets_meals_and_budget() {
    let cases = [
        (
            "Venue must have wifi and a projector",
            "venue must have wifi; venue must have a projector",
        ),
        ("Reliable Wi-Fi for 300 devices", "venue must have wifi"),
        (
            "Step-free access to every session room",
            "venue must have step-free access",
        ),
        (
            "Wheelchair users must reach the stage",
            "venue must have step-free access; venue must have a stage",
        ),
        (
            "Full accessibility: step-free access, hearing loops, a quiet room",
            "venue must have step-free access; venue must have a hearing loop; venue must have a quiet room",
        ),
        (
            "Accessible toilets on every floor and a lift",
            "venue must have accessible toilets; venue must have a lift",
        ),
        (
            "We need a generator as backup power",
            "venue must have backup power (generator)",
        ),
        (
            "Interpretation booths for Portuguese and English",
            "venue must have interpretation booths",
        ),
        ("Parking for 40 cars", "venue must have parking"),
        (
            "Accessible parking near the entrance",
            "venue must have accessible parking",
        ),
        (
            "near public transport",
            "venue must have public transport within 10 minutes",
        ),
        ("city centre", "venue must have a city-centre location"),
        (
            "Live-stream and record every session",
            "venue must have streaming; venue must have recording",
        ),
        ("Talks are not recorded", " ! not a form"),
        ("Vegan catering only", "catering: vegan"),
        (
            "Vegetarian and halal options at every meal",
            "catering: vegetarian; catering: halal",
        ),
        (
            "Kosher and gluten-free meals on request",
            "catering: kosher; catering: gluten-free",
        ),
        ("No alcohol at any point", "catering: no alcohol"),
        (
            "Vegetarian and halal lunch",
            "catering: vegetarian; catering: halal",
        ),
        ("Dinner served to every guest", "catered each day: dinner"),
        (
            "Catering for breakfast, lunch and two coffee breaks each day",
            "catered each day: breakfast, lunch, coffee break, coffee break",
        ),
        (
            "Lunch and two coffee breaks on both days",
            "catered each day: lunch, coffee break, coffee break",
        ),
        (
            "Total spend must stay within 500 EUR",
            "budget is fixed: the total may not be exceeded",
        ),
        (
            "We cannot go over budget",
            "budget is fixed: the total may not be exceeded",
        ),
        (
            "Hard cap of 12,000 USD",
            "budget is fixed: the total may not be exceeded",
        ),
        (
            "No overspend",
            "budget is fixed: the total may not be exceeded",
        ),
        (
            "One venue with a plenary room for 200 and at least two breakout rooms",
            "venue must have breakout rooms",
        ),
    ];
    for (input, expect) in cases {
        check(input, expect);
    }
}

#[test]
fn not_understood_paths() {
    let cases = [
        // A time nothing understood: the hours hint.
        ("The band plays 20:00", " ! `hours.start`"),
        ("Mornings are best for our speakers", " ! `hours.start`"),
        // Part understood, and a clause that gives a time nobody understood.
        (
            "Venue must have wifi, the band plays 20:00",
            "venue must have wifi ! `hours.start`",
        ),
        // A break needs a range.
        ("Lunch at 12:30", " ! lunch 12:30-13:30"),
        // Fields the brief has.
        (
            "Planning starts less than five months before the event",
            " ! `planning_start`",
        ),
        (
            "Multi-venue options are acceptable if the venues are within 15 minutes' walk or one stop apart",
            " ! multi-venue events are not supported",
        ),
        ("main hall for 800", " ! use `audience_size` (the venue"),
        ("Keep costs low", " ! `budget.flexibility`"),
        ("Three parallel tracks", " ! use `tracks` (one room"),
        ("Must be on a weekday", " ! use `date_range.start`"),
        ("Good food for everyone", " ! name the diet"),
        // A diet for part of the catering: the diet is read, the share is said not to be.
        (
            "Vegan pizza for at least a third",
            "catering: vegan ! a share of the catering for one diet is not planned",
        ),
        ("30% halal", "catering: halal ! a share of the catering"),
        (
            "Half the meals gluten-free",
            "catering: gluten-free ! a share of the catering",
        ),
        ("Sponsor booths in the foyer", " ! not a form"),
        ("A photographer for the whole day", " ! not a form"),
        // A meal named in passing is not a catering request.
        ("Auction after dinner if the mood is right", " ! not a form"),
        ("", " ! not a form"),
        // Numbers that are not times.
        ("Satisfaction of 4.3/5 or better", " ! not a form"),
        ("Event on 2027-05-20 only", " ! use `date_range.start`"),
        (
            "Vendor contracts must include a named replacement within 24 hours for critical services",
            " ! every vendor contract names a backup supplier",
        ),
    ];
    for (input, expect) in cases {
        check(input, expect);
    }
}

fn brief(constraints: &[&str], objectives: &[&str], preferences: &[&str]) -> EventBrief {
    let mut b: EventBrief = serde_json::from_value(serde_json::json!({
        "title": "Sample brief for tests",
        "event_type": "meetup",
        "date_range": {"start": "2027-03-11", "end": "2027-03-11"},
        "timezone": "Europe/Berlin",
        "audience_size": 20,
        "location": {"city": "Berlin", "country": "DE"},
        "budget": {"total": "500", "currency": "EUR", "flexibility": "variable"},
    }))
    .expect("test brief parses");
    b.constraints = constraints.iter().map(|s| (*s).to_owned()).collect();
    b.objectives = objectives.iter().map(|s| (*s).to_owned()).collect();
    b.location.preferences = preferences.iter().map(|s| (*s).to_owned()).collect();
    b
}

#[test]
fn reads_every_brief_text_with_its_pointer() {
    let b = brief(
        &["Doors 18:30", "Sponsor booths in the foyer"],
        &["Welcome five first-time attendees"],
        &["step-free", "main hall for 800"],
    );
    let r = read_brief(&b);
    let got: Vec<(String, bool, usize)> = r
        .iter()
        .map(|r| {
            (
                r.pointer.clone(),
                r.not_understood.is_some(),
                r.understood.len(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("/constraints/0".into(), false, 1),
            ("/constraints/1".into(), true, 0),
            // Objectives are goals: never reported as not understood.
            ("/objectives/0".into(), false, 0),
            ("/location/preferences/0".into(), false, 1),
            ("/location/preferences/1".into(), true, 0),
        ]
    );
    assert_eq!(
        required_venue_needs(&b),
        vec![] as Vec<(VenueNeed, String)>,
        "preferences are not hard needs"
    );
    assert_eq!(
        preferred_venue_needs(&b),
        vec![(VenueNeed::StepFree, "/location/preferences/0".to_owned())]
    );
}

#[test]
fn budget_is_fixed_by_flexibility_or_by_a_constraint() {
    let mut b = brief(&["Venue must have wifi"], &[], &[]);
    assert!(!budget_is_fixed(&b));
    b.constraints.push("We cannot go over 500 EUR".into());
    assert!(budget_is_fixed(&b));
    // An objective saying so is a goal, not the budget's hardness.
    let mut b = brief(&[], &["Stay within budget"], &[]);
    assert!(!budget_is_fixed(&b));
    b.budget.flexibility = Flexibility::Fixed;
    assert!(budget_is_fixed(&b));
}

#[test]
fn diets_and_meals_of_a_brief() {
    let b = brief(
        &["Vegan and halal catering", "Breakfast and lunch each day"],
        &["No alcohol"],
        &[],
    );
    assert_eq!(diets(&b), vec![Diet::Vegan, Diet::Halal, Diet::NoAlcohol]);
    assert_eq!(meals(&b), Some(vec![Meal::Breakfast, Meal::Lunch]));
}

#[test]
fn understood_round_trips_through_json() {
    let (u, _) = read_text("doors 18:30, talks 19:00 to 21:00, vegan, generator, hard cap");
    let json = serde_json::to_value(&u).expect("serialises");
    let back: Vec<Understood> = serde_json::from_value(json).expect("deserialises");
    assert_eq!(back, u);
}

proptest! {
    #[test]
    fn no_input_panics(s in "\\PC{0,80}") {
        let (u, hint) = read_text(&s);
        // Something is always said: understood, or a hint.
        prop_assert!(!u.is_empty() || hint.is_some());
    }

    #[test]
    fn no_time_like_input_panics(s in "[0-9:.h apmAPM\\-–—toandlunchdoorsbyafter,;]{0,40}") {
        let (u, hint) = read_text(&s);
        prop_assert!(!u.is_empty() || hint.is_some());
        for x in u {
            if let Understood::SessionWindow { start, end } | Understood::Break { start, end, .. } = x {
                // Times are real times of day; a window may be written backwards, but never
                // reads a time out of nothing.
                prop_assert!(start != end || s.matches(|c: char| c.is_ascii_digit()).count() >= 2);
            }
        }
    }
}

fn t(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap()
}

#[test]
fn an_interpretation_reads_a_text_the_recogniser_did_not_understand_and_nothing_else() {
    let german = "Vorträge nur zwischen 19 und 21 Uhr";
    let mut b = brief(&[german, "Step-free access to every room"], &[], &[]);
    let before = read_brief(&b);
    assert!(before[0].not_understood.is_some(), "{before:?}");
    assert!(before[0].understood.is_empty());
    let window = Understood::SessionWindow {
        start: t(19, 0),
        end: t(21, 0),
    };
    b.interpretations = vec![
        Interpretation {
            pointer: "/constraints/0".into(),
            text: german.into(),
            understood: vec![window.clone()],
            by: "model:smollm2".into(),
        },
        // A text the recogniser understood keeps its own reading.
        Interpretation {
            pointer: "/constraints/1".into(),
            text: "Step-free access to every room".into(),
            understood: vec![Understood::BudgetFixed],
            by: "model:smollm2".into(),
        },
    ];
    let after = read_brief(&b);
    assert_eq!(after[0].understood, vec![window.clone()]);
    assert_eq!(after[0].not_understood, None);
    assert_eq!(after[0].interpreted_by.as_deref(), Some("model:smollm2"));
    assert_eq!(after[1].understood, before[1].understood);
    assert_eq!(after[1].interpreted_by, None);
    assert!(!budget_is_fixed(&b));

    // An interpretation of a text since changed, or one that fails the checks, is not used.
    let mut changed = b.clone();
    changed.constraints[0] = "Vorträge nur zwischen 18 und 21 Uhr".into();
    assert!(read_brief(&changed)[0].not_understood.is_some());
    let mut backwards = b.clone();
    backwards.interpretations[0].understood = vec![Understood::SessionWindow {
        start: t(21, 0),
        end: t(19, 0),
    }];
    assert!(read_brief(&backwards)[0].not_understood.is_some());
}

#[test]
fn proposed_interpretations_are_checked_in_words() {
    assert!(check_interpretation(&[Understood::Venue(VenueNeed::Wifi)]).is_ok());
    let e = check_interpretation(&[]).unwrap_err();
    assert_eq!(e, vec!["nothing was understood".to_owned()]);
    let e = check_interpretation(&[
        Understood::Break {
            label: "lunch".into(),
            start: t(13, 0),
            end: t(12, 0),
        },
        Understood::FixedSession {
            what: String::new(),
            at: t(9, 0),
        },
        Understood::Venue(VenueNeed::Wifi),
        Understood::Venue(VenueNeed::Wifi),
        Understood::Meals(vec![]),
    ])
    .unwrap_err();
    assert_eq!(e.len(), 4, "{e:?}");
    assert!(e[0].contains("ends before it starts"), "{e:?}");
    assert!(e[1].contains("1 to 60 characters"), "{e:?}");
    assert!(e[2].contains("given twice"), "{e:?}");
    assert!(e[3].contains("1 to 8 meals"), "{e:?}");
    let many: Vec<Understood> = (0..9).map(|h| Understood::NotBefore(t(h, 0))).collect();
    assert!(check_interpretation(&many).unwrap_err()[0].contains("at most 8"));
}
