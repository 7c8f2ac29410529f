//! Directed graphs over item ids: topological order and cycle detection. Used by validation
//! (task and milestone graphs must be acyclic) and by the planners (CPM walks the order).

use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// Result of ordering a dependency graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Order {
    /// Node indices such that every dependency comes before its dependant.
    Acyclic(Vec<usize>),
    /// Node indices that lie on at least one cycle (sorted).
    Cyclic(Vec<usize>),
}

/// Orders `n` nodes where `deps[i]` lists the nodes `i` depends on (Kahn's algorithm, stable:
/// among ready nodes the lowest index goes first). Edges to indices `>= n` are ignored.
pub fn topological_order(n: usize, deps: &[Vec<usize>]) -> Order {
    let mut indegree = vec![0usize; n];
    let mut dependants: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, ds) in deps.iter().enumerate().take(n) {
        let unique: BTreeSet<usize> = ds.iter().copied().filter(|d| *d < n).collect();
        for d in unique {
            indegree[i] += 1;
            dependants[d].push(i);
        }
    }
    let mut ready: BTreeSet<usize> = (0..n).filter(|i| indegree[*i] == 0).collect();
    let mut order = Vec::with_capacity(n);
    while let Some(next) = ready.pop_first() {
        order.push(next);
        for &m in &dependants[next] {
            indegree[m] -= 1;
            if indegree[m] == 0 {
                ready.insert(m);
            }
        }
    }
    if order.len() == n {
        Order::Acyclic(order)
    } else {
        Order::Cyclic(on_cycles(n, deps, &indegree))
    }
}

/// Among the nodes left with a positive indegree, keep those that can reach themselves.
fn on_cycles(n: usize, deps: &[Vec<usize>], indegree: &[usize]) -> Vec<usize> {
    let left: Vec<usize> = (0..n).filter(|i| indegree[*i] > 0).collect();
    left.into_iter()
        .filter(|&start| {
            let mut seen = BTreeSet::new();
            let mut queue: VecDeque<usize> =
                deps[start].iter().copied().filter(|d| *d < n).collect();
            while let Some(x) = queue.pop_front() {
                if x == start {
                    return true;
                }
                if seen.insert(x) {
                    queue.extend(deps[x].iter().copied().filter(|d| *d < n));
                }
            }
            false
        })
        .collect()
}

/// Maps ids to indices for graph algorithms; unknown ids are reported by the caller.
pub fn index_of<'a, K: Ord + 'a>(ids: impl IntoIterator<Item = &'a K>) -> BTreeMap<&'a K, usize> {
    ids.into_iter().enumerate().map(|(i, k)| (k, i)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn orders_a_chain_and_finds_a_cycle() {
        assert_eq!(
            topological_order(3, &[vec![1], vec![2], vec![]]),
            Order::Acyclic(vec![2, 1, 0])
        );
        assert_eq!(
            topological_order(4, &[vec![1], vec![0], vec![], vec![2]]),
            Order::Cyclic(vec![0, 1])
        );
    }

    proptest! {
        /// Edges only from higher to lower index form a DAG: the order is a permutation that
        /// respects every edge.
        #[test]
        fn dag_order_respects_every_edge(n in 1usize..40, edges in proptest::collection::vec((0usize..40, 0usize..40), 0..120)) {
            let mut deps = vec![Vec::new(); n];
            for (a, b) in edges {
                let (a, b) = (a % n, b % n);
                if a > b { deps[a].push(b); }
            }
            match topological_order(n, &deps) {
                Order::Acyclic(order) => {
                    prop_assert_eq!(order.len(), n);
                    let pos: BTreeMap<usize, usize> = order.iter().enumerate().map(|(p, i)| (*i, p)).collect();
                    for (i, ds) in deps.iter().enumerate() {
                        for d in ds { prop_assert!(pos[d] < pos[&i]); }
                    }
                }
                Order::Cyclic(_) => prop_assert!(false, "a DAG was reported cyclic"),
            }
        }

        /// Adding a back edge over a chain always yields a cycle containing both ends.
        #[test]
        fn back_edge_makes_a_cycle(n in 2usize..30, a in 0usize..30, b in 0usize..30) {
            let (a, b) = (a % n, b % n);
            prop_assume!(a < b);
            let mut deps: Vec<Vec<usize>> = (0..n).map(|i| if i == 0 { vec![] } else { vec![i - 1] }).collect();
            deps[a].push(b);
            match topological_order(n, &deps) {
                Order::Cyclic(c) => { prop_assert!(c.contains(&a)); prop_assert!(c.contains(&b)); }
                Order::Acyclic(_) => prop_assert!(false, "cycle not found"),
            }
        }
    }
}
