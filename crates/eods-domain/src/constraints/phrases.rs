//! The fixed phrases of the recogniser: venue needs, diets, meals and budget hardness, and the
//! hints for texts that were not understood.

use super::scan::{has, has_any, scan_times, word_at};
use super::{Diet, HINT_HOURS, Meal, Understood, VenueNeed};

/// Venue needs, diets, meals and budget hardness, from fixed phrases anywhere in the text.
// Long because: it is mostly the phrase tables (which words mean which need or diet), each followed
// by its few lines of matching.
pub(super) fn phrases(s: &str) -> Vec<Understood> {
    use VenueNeed as V;
    let mut out = Vec::new();
    let venue: &[(&[&str], VenueNeed)] = &[
        (
            &["wifi", "wi-fi", "wireless internet", "internet access"],
            V::Wifi,
        ),
        (
            &["projector", "projectors", "beamer", "projection"],
            V::Projector,
        ),
        (
            &[
                "sound system",
                "pa system",
                "pa",
                "microphones",
                "microphone",
            ],
            V::SoundSystem,
        ),
        (
            &[
                "step-free",
                "step free",
                "wheelchair",
                "wheelchairs",
                "barrier-free",
                "barrier free",
                "level access",
                "no stairs",
            ],
            V::StepFree,
        ),
        (
            &[
                "accessible toilet",
                "accessible toilets",
                "accessible restroom",
                "accessible restrooms",
                "accessible bathroom",
                "accessible bathrooms",
            ],
            V::AccessibleToilets,
        ),
        (&["lift", "lifts", "elevator", "elevators"], V::Lift),
        (
            &[
                "hearing loop",
                "hearing loops",
                "induction loop",
                "induction loops",
            ],
            V::HearingLoop,
        ),
        (&["quiet room", "quiet rooms", "quiet space"], V::QuietRoom),
        (
            &[
                "accessible parking",
                "disabled parking",
                "blue badge parking",
            ],
            V::AccessibleParking,
        ),
        (
            &[
                "breakout room",
                "breakout rooms",
                "break-out room",
                "break-out rooms",
            ],
            V::BreakoutRooms,
        ),
        (
            &[
                "live-stream",
                "live stream",
                "livestream",
                "live-streamed",
                "streaming",
                "streamed",
            ],
            V::Streaming,
        ),
        (
            &["record", "recorded", "recording", "recordings"],
            V::Recording,
        ),
        (&["stage"], V::Stage),
        (&["cloakroom", "coat check", "cloak room"], V::Cloakroom),
        (&["catering kitchen", "kitchen"], V::CateringKitchen),
        (
            &["outdoor space", "outdoor area", "garden", "terrace"],
            V::OutdoorSpace,
        ),
        (&["green room"], V::GreenRoom),
        (
            &[
                "public transport",
                "public transit",
                "transit",
                "metro",
                "u-bahn",
                "s-bahn",
                "tube",
                "subway",
                "train station",
                "tram",
            ],
            V::NearTransit,
        ),
        (
            &[
                "city centre",
                "city center",
                "downtown",
                "centrally located",
            ],
            V::CityCentre,
        ),
        (
            &[
                "generator",
                "generators",
                "backup power",
                "back-up power",
                "backup generator",
                "power backup",
                "ups power",
                "uninterruptible power",
            ],
            V::BackupPower,
        ),
        (
            &[
                "interpretation booth",
                "interpretation booths",
                "interpreting booths",
                "interpreter booths",
                "simultaneous interpretation",
                "simultaneous translation",
                "translation booths",
            ],
            V::InterpretationBooths,
        ),
    ];
    for (words, need) in venue {
        let found = words.iter().any(|w| has(s, w));
        if !found {
            continue;
        }
        // "not recorded", "no streaming": a need stated as its absence is not a need.
        let denied = words
            .iter()
            .any(|w| has(s, &format!("not {w}")) || has(s, &format!("no {w}")))
            && *need != V::StepFree;
        if !denied {
            out.push(Understood::Venue(*need));
        }
    }
    if has(s, "parking")
        && !has_any(
            s,
            &[
                "accessible parking",
                "disabled parking",
                "blue badge parking",
                "no parking",
            ],
        )
    {
        out.push(Understood::Venue(V::Parking));
    }
    let diets: &[(&[&str], Diet)] = &[
        (&["vegan"], Diet::Vegan),
        (&["vegetarian", "veggie"], Diet::Vegetarian),
        (&["halal"], Diet::Halal),
        (&["kosher"], Diet::Kosher),
        (
            &["gluten-free", "gluten free", "coeliac", "celiac"],
            Diet::GlutenFree,
        ),
        (
            &[
                "no alcohol",
                "alcohol-free",
                "alcohol free",
                "non-alcoholic",
                "without alcohol",
                "dry event",
            ],
            Diet::NoAlcohol,
        ),
    ];
    for (words, diet) in diets {
        if words.iter().any(|w| has(s, w)) {
            out.push(Understood::Catering(*diet));
        }
    }
    if let Some(meals) = meal_list(s) {
        out.push(Understood::Meals(meals));
    }
    if has_any(
        s,
        &[
            "cannot go over",
            "can't go over",
            "can not go over",
            "must not go over",
            "must stay within",
            "stay within",
            "must not exceed",
            "may not exceed",
            "cannot exceed",
            "can't exceed",
            "not to exceed",
            "hard cap",
            "hard limit",
            "no overspend",
            "no overspending",
            "strict budget",
            "fixed budget",
            "budget is fixed",
        ],
    ) {
        out.push(Understood::BudgetFixed);
    }
    out
}

/// "breakfast, lunch and two coffee breaks each day": the meals, in order, when the text names
/// meals without giving their times (a meal with a time is a break).
pub(super) fn meal_list(s: &str) -> Option<Vec<Meal>> {
    if !scan_times(s).is_empty() {
        return None;
    }
    let mut found: Vec<(usize, Meal, u32)> = Vec::new();
    for (w, m) in [
        ("breakfast", Meal::Breakfast),
        ("lunch", Meal::Lunch),
        ("dinner", Meal::Dinner),
        ("reception", Meal::Reception),
    ] {
        if let Some((i, _)) = s.match_indices(w).find(|(i, _)| word_at(s, *i, w)) {
            found.push((i, m, 1));
        }
    }
    for form in ["coffee breaks", "coffee break"] {
        if let Some((i, _)) = s.match_indices(form).find(|(i, _)| word_at(s, *i, form)) {
            let before = s[..i].trim_end();
            let count = [
                ("one", 1),
                ("a", 1),
                ("two", 2),
                ("2", 2),
                ("three", 3),
                ("3", 3),
                ("four", 4),
                ("4", 4),
            ]
            .iter()
            .find(|(w, _)| before.ends_with(w) && word_at(before, before.len() - w.len(), w))
            .map_or(if form.ends_with('s') { 2 } else { 1 }, |(_, n)| *n);
            found.push((i, Meal::CoffeeBreak, count));
            break;
        }
    }
    // One meal named in passing ("auction after dinner") is not a catering request: a list of
    // meals, or a meal with a catering word, is.
    let catering_word = has_any(
        s,
        &[
            "catering",
            "catered",
            "cater",
            "serve",
            "served",
            "meals",
            "each day",
            "every day",
            "per day",
            "daily",
            "both days",
            "all days",
        ],
    );
    if found.is_empty() || (found.len() < 2 && found.iter().all(|f| f.2 < 2) && !catering_word) {
        return None;
    }
    found.sort_by_key(|f| f.0);
    Some(
        found
            .into_iter()
            .flat_map(|(_, m, n)| std::iter::repeat_n(m, n as usize))
            .collect(),
    )
}

/// Forms EODS does not plan, each with what to do instead; reported even when something
/// else in the same text was understood.
pub(super) fn unsupported(s: &str) -> Option<&'static str> {
    if has_any(
        s,
        &[
            "multi-venue",
            "multiple venues",
            "two venues",
            "several venues",
            "second venue",
        ],
    ) {
        return Some("multi-venue events are not supported yet: plan one venue per event");
    }
    if has(s, "planning") && has_any(s, &["starts", "start", "begins", "begin"]) {
        return Some("use `planning_start` (the first day planning may start, YYYY-MM-DD)");
    }
    if diet_share(s) {
        return Some(
            "a share of the catering for one diet is not planned: every catering line follows the diet, which covers any share; say so in `assumptions` if only part should",
        );
    }
    None
}

/// A diet asked for a share of the catering ("vegan pizza for at least a third", "30% halal"):
/// the plan caters the whole of it that way. ("Vegetarian options", "kosher meals on request"
/// ask for a choice, which a wholly vegetarian or kosher menu gives.)
fn diet_share(s: &str) -> bool {
    let diet = has_any(
        s,
        &[
            "vegan",
            "vegetarian",
            "veggie",
            "halal",
            "kosher",
            "gluten-free",
            "gluten free",
        ],
    );
    let share = has_any(
        s,
        &[
            "a third",
            "one third",
            "a quarter",
            "half",
            "percent",
            "per cent",
            "at least",
        ],
    ) || s.contains('%');
    diet && share
}

/// Whether `s` holds a calendar date: `2027-05-20` or `08/04/2027`.
pub(super) fn has_date(s: &str) -> bool {
    s.split(|c: char| !(c.is_ascii_digit() || c == '-' || c == '/'))
        .any(|w| {
            let parts: Vec<&str> = w.split(['-', '/']).collect();
            parts.len() == 3
                && parts
                    .iter()
                    .all(|p| !p.is_empty() && p.len() <= 4 && p.bytes().all(|b| b.is_ascii_digit()))
        })
}

/// The hint for a text of which nothing was understood, by the words it uses.
pub(super) fn fallback_hint(s: &str) -> &'static str {
    if let Some(h) = unsupported(s) {
        return h;
    }
    if has_any(
        s,
        &[
            "vendor",
            "vendors",
            "supplier",
            "suppliers",
            "contract",
            "contracts",
        ],
    ) {
        return "vendor terms are not read from free text: every vendor contract names a backup supplier (`vendor_contracts[].backup`); agree other terms in the contract";
    }
    if has_any(
        s,
        &[
            "morning",
            "mornings",
            "afternoon",
            "afternoons",
            "evening",
            "evenings",
            "hours",
            "daytime",
            "night",
            "overnight",
        ],
    ) {
        return HINT_HOURS;
    }
    if has_any(
        s,
        &[
            "budget", "spend", "cost", "costs", "price", "money", "eur", "usd", "gbp",
        ],
    ) {
        return "use `budget.total` and `budget.flexibility` (`fixed` or `variable`), or write \"must stay within the budget\"";
    }
    if has_any(
        s,
        &[
            "seat",
            "seats",
            "seating",
            "people",
            "attendees",
            "capacity",
            "hall",
            "room for",
            "holds",
        ],
    ) {
        return "use `audience_size` (the venue must seat everyone) and `tracks` (one room per track)";
    }
    if has_any(s, &["track", "tracks", "parallel", "room", "rooms"]) {
        return "use `tracks` (one room per parallel track)";
    }
    if has_date(s)
        || has_any(
            s,
            &[
                "date",
                "dates",
                "week",
                "weekend",
                "weekday",
                "weekdays",
                "month",
                "monday",
                "tuesday",
                "wednesday",
                "thursday",
                "friday",
                "saturday",
                "sunday",
            ],
        )
    {
        return "use `date_range.start`/`date_range.end`";
    }
    if has_any(s, &["catering", "food", "meal", "meals", "drinks"]) {
        return "name the diet (vegan, vegetarian, halal, kosher, gluten-free, no alcohol) or the meals (breakfast, lunch, coffee breaks, dinner, reception)";
    }
    "not a form EODS recognises: use a structured brief field (`hours`, `date_range`, `audience_size`, `tracks`, `budget`) or one of the forms listed in the README"
}
