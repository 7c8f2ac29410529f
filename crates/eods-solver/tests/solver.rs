//! The solver against exhaustive enumeration on small random problems, and on the five
//! published scheduling instances of `shared/data/scheduling` (PyCon UK 2016, FOSDEM 2025).

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use eods_solver::instance::{Instance, Objective};
use eods_solver::{Limits, Problem, Session, Slot, SolveError, Violation, check, solve};
use proptest::prelude::*;
use std::path::PathBuf;

#[path = "../../../testing/machine.rs"]
mod machine;

/// The optimum by trying every assignment (tiny problems only).
fn brute(p: &Problem, cost: &dyn Fn(usize, usize) -> i64) -> Option<i64> {
    fn go(
        p: &Problem,
        cost: &dyn Fn(usize, usize) -> i64,
        e: usize,
        cols: &mut Vec<usize>,
        best: &mut Option<i64>,
    ) {
        if e == p.sessions.len() {
            if check(p, cols).is_empty() {
                let t: i64 = cols.iter().enumerate().map(|(e, &s)| cost(e, s)).sum();
                if best.is_none_or(|b| t < b) {
                    *best = Some(t);
                }
            }
            return;
        }
        for s in 0..p.slots.len() {
            if !cols.contains(&s) && p.eligible(e, s) {
                cols.push(s);
                go(p, cost, e + 1, cols, best);
                cols.pop();
            }
        }
    }
    let mut best = None;
    go(p, cost, 0, &mut Vec::new(), &mut best);
    best
}

fn problem() -> impl Strategy<Value = (Problem, Vec<i64>)> {
    (1usize..7, 1usize..9, 1usize..4).prop_flat_map(|(n, m, rooms)| {
        (
            proptest::collection::vec(
                (
                    0usize..rooms,
                    0i64..6,
                    prop_oneof![Just(30u32), Just(45), Just(60)],
                ),
                m,
            ),
            proptest::collection::vec(
                (
                    prop_oneof![Just(30u32), Just(45)],
                    proptest::collection::vec(0usize..m, 0..2),
                ),
                n,
            ),
            proptest::collection::vec((0usize..n, 0usize..n), 0..5),
            proptest::collection::vec(-20i64..20, n * m),
        )
            .prop_map(move |(slots, sessions, conflicts, costs)| {
                // Slots of one room follow each other; rooms run in parallel.
                let mut next = vec![0i64; rooms];
                let slots = slots
                    .into_iter()
                    .map(|(room, gap, duration)| {
                        let start = next[room] + gap * 15;
                        next[room] = start + i64::from(duration);
                        Slot {
                            room,
                            start,
                            duration,
                        }
                    })
                    .collect();
                let sessions = sessions
                    .into_iter()
                    .map(|(duration, unavailable)| Session {
                        duration,
                        unavailable,
                    })
                    .collect();
                let conflicts = conflicts.into_iter().filter(|(a, b)| a != b).collect();
                (
                    Problem {
                        slots,
                        sessions,
                        conflicts,
                    },
                    costs,
                )
            })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// Branch and bound finds the same optimum as enumeration, proves it, and its schedule
    /// breaks no rule; when enumeration finds nothing, the solver says why.
    #[test]
    fn matches_exhaustive_enumeration((p, costs) in problem()) {
        let m = p.slots.len();
        let cost = |e: usize, s: usize| costs[e * m + s];
        let expected = brute(&p, &cost);
        match solve(&p, &cost, &Limits::default()) {
            Ok(s) => {
                prop_assert_eq!(Some(s.objective), expected);
                prop_assert!(s.proven_optimal);
                prop_assert_eq!(s.lower_bound, s.objective);
                prop_assert!(check(&p, &s.assignment).is_empty(), "{:?}", check(&p, &s.assignment));
            }
            Err(e) => {
                prop_assert_eq!(expected, None, "solver said {}", e);
                let unproven = matches!(e, SolveError::Conflicts { proven: false });
                prop_assert!(!unproven, "search limit hit on a tiny problem");
            }
        }
    }
}

fn data(name: &str) -> PathBuf {
    machine::shared_data(&format!("scheduling/{name}"))
}

fn solved(name: &str, objective: Objective) -> (Instance, eods_solver::Solution) {
    let inst = Instance::load(&data(name)).unwrap();
    let s = inst.solve(objective, &Limits::default()).unwrap();
    assert!(
        inst.check(&s.assignment).is_empty(),
        "{name}: {:?}",
        inst.check(&s.assignment)
    );
    assert!(s.proven_optimal, "{name}: {s:?}");
    (inst, s)
}

#[test]
fn pycon_uk_2016_instances_are_solved_to_proven_optimality() {
    for name in ["pyconuk2016-tutorial.json", "pyconuk2016-3r2d.json"] {
        let (inst, eff) = solved(name, Objective::Efficiency);
        assert_eq!(inst.evaluate(&eff.assignment).efficiency, eff.objective);
        // Demand is unknown (0), so efficiency puts talks in the biggest rooms: no schedule can
        // seat them in more seats than the largest eligible slots offer.
        let (_, eq) = solved(name, Objective::Equity);
        let (e1, e2) = (
            inst.evaluate(&eff.assignment),
            inst.evaluate(&eq.assignment),
        );
        assert!(e2.equity <= e1.equity, "{name}: {e2:?} vs {e1:?}");
        assert!(e2.efficiency >= e1.efficiency, "{name}: {e2:?} vs {e1:?}");
        // The speakers' unavailability is honoured (the checker saw no violation), and the
        // instance has some to honour.
        assert!(
            inst.problem
                .sessions
                .iter()
                .any(|s| !s.unavailable.is_empty())
        );
    }
}

#[test]
fn fosdem_2025_instances_keep_the_published_program_with_the_fewest_changes() {
    for name in [
        "fosdem2025-sat-8r.json",
        "fosdem2025-sat-20r.json",
        "fosdem2025-full.json",
    ] {
        let (inst, s) = solved(name, Objective::Changes);
        let reference = inst.reference_assignment().unwrap();
        let broken = inst.check(&reference);
        let moved = s.objective / 2;
        assert_eq!(inst.evaluate(&s.assignment).changes, s.objective);
        if broken.is_empty() {
            assert_eq!(
                s.objective, 0,
                "{name}: the published program is already valid"
            );
        } else {
            // Each broken rule needs at least one move, and the published clash is repaired
            // without touching anything else.
            assert!(moved >= 1, "{name}");
            assert!(moved as usize <= broken.len(), "{name}: {broken:?}");
            for v in &broken {
                assert!(
                    matches!(v, Violation::ConflictOverlap { .. }),
                    "{name}: {v:?}"
                );
            }
        }
    }
}

#[test]
fn bad_instances_are_refused_naming_the_field() {
    let good = std::fs::read_to_string(data("pyconuk2016-3r2d.json")).unwrap();
    let cases = [
        (
            good.replacen("conference-scheduling-instance/1", "v2", 1),
            "/format",
        ),
        (
            good.replacen("\"duration\": 30", "\"duration\": \"long\"", 1),
            "/slots/0",
        ),
        (
            good.replacen("\"room\": \"", "\"room\": \"Attic", 1),
            "/slots/0/room: unknown room",
        ),
        (good.replacen("{", "{,", 1), "invalid JSON at line 1"),
    ];
    for (text, expect) in cases {
        let e = Instance::parse("x.json", &text).unwrap_err();
        assert!(e.to_string().contains(expect), "{e}");
        assert!(e.to_string().starts_with("x.json: "), "{e}");
    }
}

#[test]
fn sessions_that_fit_nowhere_are_named() {
    let p = Problem {
        slots: vec![Slot {
            room: 0,
            start: 0,
            duration: 30,
        }],
        sessions: vec![Session {
            duration: 45,
            unavailable: vec![],
        }],
        conflicts: vec![],
    };
    let e = solve(&p, &|_, _| 0, &Limits::default()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "session 0 fits no slot: it lasts 45 min, the longest slot 30 min"
    );
}
