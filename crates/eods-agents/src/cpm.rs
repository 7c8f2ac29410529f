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
    }
}
