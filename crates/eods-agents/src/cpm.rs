//! Critical-path method over a task graph with durations in whole days: early and late starts,
//! slack, and the critical path. Pure; dates are applied by the caller.

use eods_domain::graph::{Order, topological_order};

/// CPM figures of one task, in days from the project start (day 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Figures {
    pub early_start: u32,
    pub early_finish: u32,
    pub late_start: u32,
    pub late_finish: u32,
    pub slack: u32,
}

/// The CPM result for a whole graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cpm {
    pub figures: Vec<Figures>,
    /// Length of the project in days (max early finish).
    pub duration: u32,
    /// Indices of zero-slack tasks in topological order.
    pub critical_path: Vec<usize>,
}

/// A cycle prevents scheduling; the indices lie on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cycle(pub Vec<usize>);

/// Runs CPM: `durations[i]` days for task `i`, which depends on `deps[i]` (finish-to-start).
/// A task's finish is exclusive: it occupies days `early_start..early_finish`.
pub fn compute(durations: &[u32], deps: &[Vec<usize>]) -> Result<Cpm, Cycle> {
    let n = durations.len();
    let order = match topological_order(n, deps) {
        Order::Acyclic(o) => o,
        Order::Cyclic(c) => return Err(Cycle(c)),
    };
    let mut es = vec![0u32; n];
    for &i in &order {
        es[i] = deps[i]
            .iter()
            .filter(|d| **d < n)
            .map(|&d| es[d] + durations[d])
            .max()
            .unwrap_or(0);
    }
    let ef: Vec<u32> = (0..n).map(|i| es[i] + durations[i]).collect();
    let duration = ef.iter().copied().max().unwrap_or(0);
    let mut successors: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, ds) in deps.iter().enumerate() {
        for &d in ds.iter().filter(|d| **d < n) {
            successors[d].push(i);
        }
    }
    let mut lf = vec![duration; n];
    for &i in order.iter().rev() {
        lf[i] = successors[i]
            .iter()
            .map(|&s| lf[s] - durations[s])
            .min()
            .unwrap_or(duration);
    }
    let figures: Vec<Figures> = (0..n)
        .map(|i| {
            let ls = lf[i] - durations[i];
            Figures {
                early_start: es[i],
                early_finish: ef[i],
                late_start: ls,
                late_finish: lf[i],
                slack: ls - es[i],
            }
        })
        .collect();
    let critical_path = order
        .iter()
        .copied()
        .filter(|&i| figures[i].slack == 0)
        .collect();
    Ok(Cpm {
        figures,
        duration,
        critical_path,
    })
}

/// The result of resource levelling: a start day per task and each resource's peak load.
#[derive(Debug, Clone, PartialEq)]
pub struct Levelled {
    /// Start day of each task (between its early and late start).
    pub starts: Vec<u32>,
    /// Peak daily load per resource when every task starts early.
    pub peak_before: Vec<f64>,
    /// Peak daily load per resource after levelling.
    pub peak_after: Vec<f64>,
    /// Days on which a resource is loaded above its capacity, before and after.
    pub overloaded_days_before: Vec<u32>,
    pub overloaded_days_after: Vec<u32>,
}

/// Resource levelling within slack, by the serial schedule-generation scheme: tasks in order of
/// late start (which respects precedence), each placed at the first day between its earliest
/// feasible start and its late start where its resource stays within `capacity` for the task's
/// whole duration, or — when no such day exists — where the resource's total excess is least. No task
/// moves past its late start, so the project duration and the critical path are unchanged.
///
/// `resource[i]` is the resource index of task `i` (`< resources`), `load[i]` its share of that
/// resource per day.
pub fn level(
    durations: &[u32],
    deps: &[Vec<usize>],
    cpm: &Cpm,
    resource: &[usize],
    resources: usize,
    load: &[f64],
    capacity: f64,
) -> Levelled {
    const EPS: f64 = 1e-9;
    let n = durations.len();
    let days = cpm.duration as usize;
    let profile_of = |starts: &[u32]| {
        let mut p = vec![vec![0.0f64; days]; resources];
        for i in 0..n {
            let s = starts[i] as usize;
            let end = (s + durations[i] as usize).min(days);
            for x in &mut p[resource[i]][s.min(end)..end] {
                *x += load[i];
            }
        }
        p
    };
    let peaks = |p: &[Vec<f64>]| -> (Vec<f64>, Vec<u32>) {
        p.iter()
            .map(|r| {
                (
                    r.iter().copied().fold(0.0, f64::max),
                    r.iter().filter(|x| **x > capacity + EPS).count() as u32,
                )
            })
            .unzip()
    };
    let early: Vec<u32> = cpm.figures.iter().map(|f| f.early_start).collect();
    let (peak_before, overloaded_days_before) = peaks(&profile_of(&early));

    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&i| (cpm.figures[i].late_start, cpm.figures[i].early_start, i));
    let mut starts = early.clone();
    let mut placed = vec![false; n];
    let mut profile = vec![vec![0.0f64; days]; resources];
    for &i in &order {
        let earliest = deps[i]
            .iter()
            .filter(|&&d| d < n && placed[d])
            .map(|&d| starts[d] + durations[d])
            .max()
            .unwrap_or(0)
            .max(cpm.figures[i].early_start);
        let latest = cpm.figures[i].late_start.max(earliest);
        let r = resource[i];
        let peak_at = |s: u32, profile: &[Vec<f64>]| -> f64 {
            (s as usize..(s + durations[i]) as usize)
                .filter(|d| *d < days)
                .map(|d| profile[r][d] + load[i])
                .fold(0.0, f64::max)
        };
        let excess_at = |s: u32, profile: &[Vec<f64>]| -> f64 {
            (s as usize..(s + durations[i]) as usize)
                .filter(|d| *d < days)
                .map(|d| (profile[r][d] + load[i] - capacity).max(0.0))
                .sum()
        };
        let start = (earliest..=latest)
            .find(|&s| peak_at(s, &profile) <= capacity + EPS)
            .unwrap_or_else(|| {
                // No day keeps the resource within capacity: least total excess, then the
                // lowest peak, then the earliest day.
                (earliest..=latest)
                    .min_by(|a, b| {
                        excess_at(*a, &profile)
                            .total_cmp(&excess_at(*b, &profile))
                            .then(peak_at(*a, &profile).total_cmp(&peak_at(*b, &profile)))
                            .then(a.cmp(b))
                    })
                    .unwrap_or(earliest)
            });
        starts[i] = start;
        placed[i] = true;
        let end = ((start + durations[i]) as usize).min(days);
        for x in &mut profile[r][(start as usize).min(end)..end] {
            *x += load[i];
        }
    }
    let (peak_after, overloaded_days_after) = peaks(&profile);
    Levelled {
        starts,
        peak_before,
        peak_after,
        overloaded_days_before,
        overloaded_days_after,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn textbook_example() {
        // A(3) → B(2) → D(4); A → C(1) → D.
        let cpm = compute(&[3, 2, 1, 4], &[vec![], vec![0], vec![0], vec![1, 2]]).unwrap();
        assert_eq!(cpm.duration, 9);
        assert_eq!(cpm.critical_path, vec![0, 1, 3]);
        assert_eq!(cpm.figures[2].slack, 1);
        assert_eq!(
            compute(&[1, 1], &[vec![1], vec![0]]),
            Err(Cycle(vec![0, 1]))
        );
    }

    fn dag() -> impl Strategy<Value = (Vec<u32>, Vec<Vec<usize>>)> {
        (1usize..30).prop_flat_map(|n| {
            (
                proptest::collection::vec(1u32..20, n),
                proptest::collection::vec(proptest::collection::vec(0usize..30, 0..4), n),
            )
                .prop_map(move |(d, raw)| {
                    let deps = raw
                        .into_iter()
                        .enumerate()
                        .map(|(i, ds)| ds.into_iter().filter(|x| *x < i).collect())
                        .collect();
                    (d, deps)
                })
        })
    }

    proptest! {
        /// Slack is never negative, the critical path is non-empty with zero slack, it spans the
        /// whole project, and every dependency finishes before its dependant starts.
        #[test]
        fn cpm_invariants((durations, deps) in dag()) {
            let cpm = compute(&durations, &deps).unwrap();
            prop_assert!(!cpm.critical_path.is_empty());
            let mut covered = 0;
            for &i in &cpm.critical_path {
                prop_assert_eq!(cpm.figures[i].slack, 0);
                covered += durations[i];
            }
            prop_assert!(covered >= cpm.duration);
            for (i, f) in cpm.figures.iter().enumerate() {
                prop_assert!(f.late_start >= f.early_start);
                prop_assert!(f.late_finish <= cpm.duration);
                for &d in &deps[i] {
                    prop_assert!(cpm.figures[d].early_finish <= f.early_start);
                    prop_assert!(cpm.figures[d].late_finish <= f.late_start);
                }
            }
            prop_assert!(cpm.figures.iter().any(|f| f.early_start == 0 && f.slack == 0));
        }

        /// Levelling keeps every task between its early and late start and after its
        /// predecessors, so the project length and the critical path are unchanged.
        #[test]
        fn levelling_respects_precedence_and_slack(
            (durations, deps) in dag(),
            res in proptest::collection::vec(0usize..3, 30),
            loads in proptest::collection::vec(1u32..10, 30),
        ) {
            let cpm = compute(&durations, &deps).unwrap();
            let n = durations.len();
            let load: Vec<f64> = loads[..n].iter().map(|l| f64::from(*l) / 10.0).collect();
            let l = level(&durations, &deps, &cpm, &res[..n], 3, &load, 1.0);
            for i in 0..n {
                prop_assert!(l.starts[i] >= cpm.figures[i].early_start);
                prop_assert!(l.starts[i] <= cpm.figures[i].late_start);
                for &d in &deps[i] {
                    prop_assert!(l.starts[d] + durations[d] <= l.starts[i]);
                }
                prop_assert!(l.starts[i] + durations[i] <= cpm.duration);
            }
            for &c in &cpm.critical_path {
                prop_assert_eq!(l.starts[c], cpm.figures[c].early_start);
            }
        }
    }

    #[test]
    fn levelling_moves_a_parallel_task_into_its_slack() {
        // A(2) and B(2) run in parallel for one person at 0.8 each, before C(5) which needs A;
        // B has 5 days of slack, so levelling starts it after A and no day is overloaded.
        let durations = [2, 2, 5];
        let deps = vec![vec![], vec![], vec![0]];
        let cpm = compute(&durations, &deps).unwrap();
        let l = level(
            &durations,
            &deps,
            &cpm,
            &[0, 0, 1],
            2,
            &[0.8, 0.8, 1.0],
            1.0,
        );
        assert_eq!(l.starts, vec![0, 2, 2]);
        assert!((l.peak_before[0] - 1.6).abs() < 1e-9);
        assert!((l.peak_after[0] - 0.8).abs() < 1e-9);
        assert_eq!(l.overloaded_days_before[0], 2);
        assert_eq!(l.overloaded_days_after[0], 0);
    }
}
