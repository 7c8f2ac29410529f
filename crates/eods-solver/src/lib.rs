//! Exact conference timetabling: every session to one room-time slot, at most one session per
//! slot, a session only in slots long enough and not in its speakers' unavailable slots, and no
//! two conflicting sessions (a shared speaker, say) in overlapping slots — at minimum cost.
//!
//! # Method
//! Without the conflicts the problem is a rectangular **assignment problem** (sessions to slots),
//! solved exactly by the shortest-augmenting-path Hungarian method with dual potentials. Its
//! optimum is a **lower bound** for the problem with conflicts. A **branch and bound** over
//! violated conflicts closes the gap: for sessions `a` in slot `s` and `b` in an overlapping slot,
//! one branch forbids `a` from `s`; the other fixes `a` to `s` and forbids `b` from every slot that
//! overlaps `s`. The two branches partition the solutions, so exhausting the tree proves the best
//! schedule found optimal. Forbidding an edge only raises costs, so the parent's potentials stay
//! feasible and a child re-augments only the rows that lost their slot — `O(rows × slots)` per
//! node instead of a full solve. A node whose assignment bound reaches the incumbent is pruned.
//!
//! Before branching, a repair heuristic turns the relaxation into a feasible schedule (moving a
//! conflicting session to the cheapest free slot that clashes with nothing), so a node limit
//! still leaves a schedule and a proven gap. Everything is deterministic: same input, same
//! output.
//!
//! The bottleneck objective (`equity`, the worst demand − capacity) is minimised by searching the
//! threshold over its distinct values, each a feasibility question answered by the same
//! branch and bound, then the linear objective is minimised under the best threshold.

pub mod instance;

use std::collections::BTreeSet;

/// A room at a time: where and when one session can run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    /// Index of the room (slots of one room must not overlap).
    pub room: usize,
    /// Start in minutes from any fixed origin.
    pub start: i64,
    pub duration: u32,
}

impl Slot {
    /// End in minutes (exclusive).
    pub fn end(&self) -> i64 {
        self.start + i64::from(self.duration)
    }

    /// Whether two slots share any minute.
    pub fn overlaps(&self, other: &Slot) -> bool {
        self.start < other.end() && other.start < self.end()
    }
}

/// A session to place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub duration: u32,
    /// Slots the session may not use (a speaker is away, say).
    pub unavailable: Vec<usize>,
}

/// Sessions, slots and conflicting pairs of sessions.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Problem {
    pub slots: Vec<Slot>,
    pub sessions: Vec<Session>,
    /// Pairs of session indices that must not overlap in time.
    pub conflicts: Vec<(usize, usize)>,
}

impl Problem {
    /// Whether session `e` may use slot `s` at all.
    pub fn eligible(&self, e: usize, s: usize) -> bool {
        let (x, slot) = (&self.sessions[e], &self.slots[s]);
        x.duration <= slot.duration && !x.unavailable.contains(&s)
    }
}

/// Search limits. The node limit (not wall time) keeps results deterministic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_nodes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_nodes: 100_000 }
    }
}

/// The best schedule found, with its proven lower bound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Solution {
    /// Slot index per session.
    pub assignment: Vec<usize>,
    /// Total cost of the assignment.
    pub objective: i64,
    /// No schedule costs less than this.
    pub lower_bound: i64,
    /// `objective == lower_bound`: the schedule is optimal.
    pub proven_optimal: bool,
    /// Branch-and-bound nodes explored.
    pub nodes: u64,
}

/// Why no schedule exists (or none was found).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SolveError {
    #[error("session {session} fits no slot: {reason}")]
    Unplaceable { session: usize, reason: String },
    #[error(
        "{sessions} sessions cannot all be placed: only {slots} slots are long enough and free for them"
    )]
    TooFewSlots { sessions: usize, slots: usize },
    #[error(
        "no schedule keeps every conflicting pair apart{}",
        if *.proven { "" } else { " within the search limit" }
    )]
    Conflicts { proven: bool },
}

/// A problem rule broken by an assignment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Violation {
    WrongLength {
        sessions: usize,
        assigned: usize,
    },
    UnknownSlot {
        session: usize,
        slot: usize,
    },
    SlotShared {
        slot: usize,
        sessions: (usize, usize),
    },
    TooLong {
        session: usize,
        slot: usize,
    },
    Unavailable {
        session: usize,
        slot: usize,
    },
    ConflictOverlap {
        sessions: (usize, usize),
    },
    RoomDoubleBooked {
        room: usize,
        slots: (usize, usize),
    },
}

/// Every rule the assignment breaks, checked from the slots' times (independent of the solver).
pub fn check(p: &Problem, assignment: &[usize]) -> Vec<Violation> {
    let mut v = Vec::new();
    if assignment.len() != p.sessions.len() {
        v.push(Violation::WrongLength {
            sessions: p.sessions.len(),
            assigned: assignment.len(),
        });
        return v;
    }
    let mut holder: Vec<Option<usize>> = vec![None; p.slots.len()];
    for (e, &s) in assignment.iter().enumerate() {
        if s >= p.slots.len() {
            v.push(Violation::UnknownSlot {
                session: e,
                slot: s,
            });
            continue;
        }
        if let Some(other) = holder[s] {
            v.push(Violation::SlotShared {
                slot: s,
                sessions: (other, e),
            });
        }
        holder[s] = Some(e);
        if p.sessions[e].duration > p.slots[s].duration {
            v.push(Violation::TooLong {
                session: e,
                slot: s,
            });
        }
        if p.sessions[e].unavailable.contains(&s) {
            v.push(Violation::Unavailable {
                session: e,
                slot: s,
            });
        }
    }
    for &(a, b) in &p.conflicts {
        let (Some(&sa), Some(&sb)) = (assignment.get(a), assignment.get(b)) else {
            continue;
        };
        if sa < p.slots.len() && sb < p.slots.len() && p.slots[sa].overlaps(&p.slots[sb]) {
            v.push(Violation::ConflictOverlap { sessions: (a, b) });
        }
    }
    let used: BTreeSet<usize> = assignment
        .iter()
        .copied()
        .filter(|s| *s < p.slots.len())
        .collect();
    let mut by_room: Vec<Vec<usize>> = Vec::new();
    for &s in &used {
        let r = p.slots[s].room;
        if by_room.len() <= r {
            by_room.resize(r + 1, Vec::new());
        }
        by_room[r].push(s);
    }
    for (room, list) in by_room.iter_mut().enumerate() {
        list.sort_by_key(|&s| (p.slots[s].start, s));
        for w in list.windows(2) {
            if p.slots[w[0]].overlaps(&p.slots[w[1]]) {
                v.push(Violation::RoomDoubleBooked {
                    room,
                    slots: (w[0], w[1]),
                });
            }
        }
    }
    v
}

/// Cost of an ineligible or forbidden pair: larger than any schedule's total.
const INF: i64 = 1 << 50;

/// The dense cost matrix with forbidden pairs at `INF`, and the assignment state with potentials.
///
/// The problem is made square with `cols − rows` dummy rows that cost nothing anywhere (they
/// hold the unused slots). Every column is then matched, so unmatching one row frees exactly one
/// column and a single shortest augmenting path from that row restores optimality: the
/// potentials stay feasible when costs only rise.
#[derive(Clone)]
struct Assignment {
    /// Real rows (sessions).
    rows: usize,
    cols: usize,
    /// `cost[r * cols + c]` for the real rows.
    cost: Vec<i64>,
    /// Potentials, 1-based as in the classic formulation (index 0 is the virtual row/column);
    /// `u` has one entry per real and dummy row.
    u: Vec<i64>,
    v: Vec<i64>,
    /// `row_of[c]`: 1-based row matched to column `c` (1-based), 0 when free.
    row_of: Vec<usize>,
}

impl Assignment {
    fn new(rows: usize, cols: usize, cost: Vec<i64>) -> Self {
        Assignment {
            rows,
            cols,
            cost,
            u: vec![0; cols + 1],
            v: vec![0; cols + 1],
            row_of: vec![0; cols + 1],
        }
    }

    fn c(&self, r: usize, c: usize) -> i64 {
        if r < self.rows {
            self.cost[r * self.cols + c]
        } else {
            0
        }
    }

    /// Matches each real row to its cheapest column when that column is still free (hinted
    /// column first on ties), then the dummy rows to the columns left: potentials
    /// `u = row minimum`, `v = 0` keep every reduced cost ≥ 0 and matched pairs tight.
    fn warm_start(&mut self, hint: &[Option<usize>]) {
        for r in 0..self.rows {
            let row = &self.cost[r * self.cols..(r + 1) * self.cols];
            let Some(min) = row.iter().copied().min() else {
                continue;
            };
            if min >= INF {
                continue;
            }
            let pick = hint
                .get(r)
                .copied()
                .flatten()
                .filter(|&c| c < self.cols && row[c] == min && self.row_of[c + 1] == 0)
                .or_else(|| (0..self.cols).find(|&c| row[c] == min && self.row_of[c + 1] == 0));
            if let Some(c) = pick {
                self.u[r + 1] = min;
                self.row_of[c + 1] = r + 1;
            }
        }
        let mut dummy = self.rows;
        for c in 1..=self.cols {
            if dummy == self.cols {
                break;
            }
            if self.row_of[c] == 0 {
                self.row_of[c] = dummy + 1;
                dummy += 1;
            }
        }
    }

    /// Column per real row.
    fn col_of_row(&self) -> Vec<Option<usize>> {
        let mut out = vec![None; self.rows];
        for c in 1..=self.cols {
            let r = self.row_of[c];
            if r != 0 && r <= self.rows {
                out[r - 1] = Some(c - 1);
            }
        }
        out
    }

    /// Augments from one unmatched row (0-based) along a shortest path of reduced costs.
    fn augment(&mut self, row: usize) {
        let m = self.cols;
        let mut minv = vec![i64::MAX; m + 1];
        let mut used = vec![false; m + 1];
        let mut way = vec![0usize; m + 1];
        self.row_of[0] = row + 1;
        let mut j0 = 0usize;
        loop {
            used[j0] = true;
            let i0 = self.row_of[j0];
            let mut delta = i64::MAX;
            let mut j1 = 0usize;
            for j in 1..=m {
                if used[j] {
                    continue;
                }
                let cur = self.c(i0 - 1, j - 1) - self.u[i0] - self.v[j];
                if cur < minv[j] {
                    minv[j] = cur;
                    way[j] = j0;
                }
                if minv[j] < delta {
                    delta = minv[j];
                    j1 = j;
                }
            }
            if j1 == 0 {
                // No free column is reachable (cannot happen while rows ≤ columns).
                break;
            }
            for j in 0..=m {
                if used[j] {
                    self.u[self.row_of[j]] += delta;
                    self.v[j] -= delta;
                } else {
                    minv[j] -= delta;
                }
            }
            j0 = j1;
            if self.row_of[j0] == 0 {
                break;
            }
        }
        loop {
            let j1 = way[j0];
            self.row_of[j0] = self.row_of[j1];
            j0 = j1;
            if j0 == 0 {
                break;
            }
        }
        self.row_of[0] = 0;
    }

    /// Augments every unmatched row (real and dummy), lowest index first.
    fn complete(&mut self) {
        let matched: Vec<bool> = {
            let mut m = vec![false; self.cols];
            for c in 1..=self.cols {
                if self.row_of[c] != 0 {
                    m[self.row_of[c] - 1] = true;
                }
            }
            m
        };
        for (r, done) in matched.into_iter().enumerate() {
            if !done {
                self.augment(r);
            }
        }
    }

    /// Total cost of the current (complete) matching; `INF` when it uses a forbidden pair.
    fn total(&self) -> i64 {
        let mut sum = 0i64;
        for c in 1..=self.cols {
            if self.row_of[c] != 0 && self.row_of[c] <= self.rows {
                let x = self.c(self.row_of[c] - 1, c - 1);
                if x >= INF {
                    return INF;
                }
                sum += x;
            }
        }
        sum
    }

    /// Forbids `(row, col)`; unmatches the row when it held that column. Returns whether it did.
    fn forbid(&mut self, row: usize, col: usize) -> bool {
        self.cost[row * self.cols + col] = INF;
        if self.row_of[col + 1] == row + 1 {
            self.row_of[col + 1] = 0;
            true
        } else {
            false
        }
    }
}

/// Solves the problem for the cost `cost(session, slot)` (only eligible pairs are asked).
pub fn solve(
    p: &Problem,
    cost: &dyn Fn(usize, usize) -> i64,
    limits: &Limits,
) -> Result<Solution, SolveError> {
    solve_with_hint(p, cost, &vec![None; p.sessions.len()], limits)
}

/// As [`solve`], preferring `hint[session]` among equally cheap slots (a previous schedule, say).
pub fn solve_with_hint(
    p: &Problem,
    cost: &dyn Fn(usize, usize) -> i64,
    hint: &[Option<usize>],
    limits: &Limits,
) -> Result<Solution, SolveError> {
    let (n, m) = (p.sessions.len(), p.slots.len());
    if n == 0 {
        return Ok(Solution {
            assignment: vec![],
            objective: 0,
            lower_bound: 0,
            proven_optimal: true,
            nodes: 0,
        });
    }
    let mut matrix = vec![INF; n * m];
    for e in 0..n {
        let mut any = false;
        for s in 0..m {
            if p.eligible(e, s) {
                matrix[e * m + s] = cost(e, s);
                any = true;
            }
        }
        if !any {
            let longest = p.slots.iter().map(|s| s.duration).max().unwrap_or(0);
            return Err(SolveError::Unplaceable {
                session: e,
                reason: if p.sessions[e].duration > longest {
                    format!(
                        "it lasts {} min, the longest slot {} min",
                        p.sessions[e].duration, longest
                    )
                } else {
                    "every slot long enough is unavailable to it".into()
                },
            });
        }
    }
    if n > m {
        return Err(SolveError::TooFewSlots {
            sessions: n,
            slots: m,
        });
    }
    if clique_too_large(p) {
        return Err(SolveError::Conflicts { proven: true });
    }
    let mut root = Assignment::new(n, m, matrix);
    root.warm_start(hint);
    root.complete();
    let bound = root.total();
    if bound >= INF {
        let usable = (0..m).filter(|&s| (0..n).any(|e| p.eligible(e, s))).count();
        return Err(SolveError::TooFewSlots {
            sessions: n,
            slots: usable,
        });
    }
    let overlapping = overlap_lists(&p.slots);
    let mut partners: Vec<Vec<usize>> = vec![Vec::new(); n];
    for &(a, b) in &p.conflicts {
        if a < n && b < n && a != b {
            partners[a].push(b);
            partners[b].push(a);
        }
    }
    let mut search = Search {
        p,
        overlapping: &overlapping,
        partners: &partners,
        best: None,
        nodes: 0,
        limit: limits.max_nodes,
        exhausted: true,
    };
    if let Some(fixed) = search.repair(&root) {
        let total = fixed.iter().enumerate().map(|(e, &s)| root.c(e, s)).sum();
        search.best = Some((total, fixed));
    }
    search.branch(root);
    let nodes = search.nodes;
    let exhausted = search.exhausted;
    match search.best {
        Some((objective, assignment)) => {
            let lower_bound = if exhausted { objective } else { bound };
            Ok(Solution {
                assignment,
                objective,
                lower_bound,
                proven_optimal: lower_bound == objective,
                nodes,
            })
        }
        None => Err(SolveError::Conflicts { proven: exhausted }),
    }
}

/// Whether some group of pairwise-conflicting sessions (grown greedily around each session)
/// is larger than the number of pairwise-disjoint time intervals among the slots its members
/// fit: then no schedule exists (each member needs its own time). The disjoint count is exact
/// (interval scheduling by earliest end).
fn clique_too_large(p: &Problem) -> bool {
    let n = p.sessions.len();
    let mut adjacent = vec![BTreeSet::new(); n];
    for &(a, b) in &p.conflicts {
        if a < n && b < n && a != b {
            adjacent[a].insert(b);
            adjacent[b].insert(a);
        }
    }
    for start in 0..n {
        let mut clique = vec![start];
        let mut candidates: Vec<usize> = adjacent[start].iter().copied().collect();
        candidates.sort_by_key(|&c| std::cmp::Reverse(adjacent[c].len()));
        for c in candidates {
            if clique.iter().all(|m| adjacent[c].contains(m)) {
                clique.push(c);
            }
        }
        if clique.len() < 2 {
            continue;
        }
        let mut usable: Vec<&Slot> = (0..p.slots.len())
            .filter(|&s| clique.iter().any(|&e| p.eligible(e, s)))
            .map(|s| &p.slots[s])
            .collect();
        usable.sort_by_key(|s| (s.end(), s.start));
        let mut disjoint = 0usize;
        let mut free_from = i64::MIN;
        for s in usable {
            if s.start >= free_from {
                disjoint += 1;
                free_from = s.end();
            }
        }
        if clique.len() > disjoint {
            return true;
        }
    }
    false
}

/// For each slot, the other slots sharing a minute with it.
fn overlap_lists(slots: &[Slot]) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..slots.len()).collect();
    order.sort_by_key(|&s| (slots[s].start, s));
    let mut out = vec![Vec::new(); slots.len()];
    for (k, &a) in order.iter().enumerate() {
        for &b in &order[k + 1..] {
            if slots[b].start >= slots[a].end() {
                break;
            }
            if slots[a].overlaps(&slots[b]) {
                out[a].push(b);
                out[b].push(a);
            }
        }
    }
    out
}

struct Search<'a> {
    p: &'a Problem,
    overlapping: &'a [Vec<usize>],
    partners: &'a [Vec<usize>],
    best: Option<(i64, Vec<usize>)>,
    nodes: u64,
    limit: u64,
    /// False once the node limit cut the search short.
    exhausted: bool,
}

impl Search<'_> {
    /// The first violated conflict of a complete assignment: `(a, slot of a, b)`.
    fn violated(&self, cols: &[usize]) -> Option<(usize, usize, usize)> {
        for (a, list) in self.partners.iter().enumerate() {
            for &b in list {
                if a < b && (cols[a] == cols[b] || self.overlapping[cols[a]].contains(&cols[b])) {
                    return Some((a, cols[a], b));
                }
            }
        }
        None
    }

    fn branch(&mut self, node: Assignment) {
        if self.nodes >= self.limit {
            self.exhausted = false;
            return;
        }
        self.nodes += 1;
        let total = node.total();
        if total >= INF || self.best.as_ref().is_some_and(|(b, _)| total >= *b) {
            return;
        }
        let cols: Vec<usize> = node
            .col_of_row()
            .into_iter()
            .map(|c| c.unwrap_or(0))
            .collect();
        let Some((a, s, b)) = self.violated(&cols) else {
            self.best = Some((total, cols));
            return;
        };
        // Child 1: a leaves s.
        let mut left = node.clone();
        if left.forbid(a, s) {
            left.augment(a);
        }
        // Child 2: a stays in s; b leaves every slot overlapping s (and s itself).
        let mut right = node;
        for c in 0..right.cols {
            if c != s {
                right.forbid(a, c);
            }
        }
        for r in 0..right.rows {
            if r != a {
                right.forbid(r, s);
            }
        }
        let mut moved = false;
        for &t in self.overlapping[s].iter().chain(std::iter::once(&s)) {
            moved |= right.forbid(b, t);
        }
        if moved {
            right.augment(b);
        }
        let children = if right.total() < left.total() {
            [right, left]
        } else {
            [left, right]
        };
        for child in children {
            self.branch(child);
        }
    }

    /// A feasible schedule from the relaxation: sessions in violated conflicts move, one at a
    /// time, to the cheapest free eligible slot that overlaps none of their partners' slots.
    fn repair(&self, root: &Assignment) -> Option<Vec<usize>> {
        let mut cols: Vec<usize> = root
            .col_of_row()
            .into_iter()
            .map(|c| c.unwrap_or(0))
            .collect();
        let mut taken = vec![false; root.cols];
        for &c in &cols {
            taken[c] = true;
        }
        for _ in 0..self.p.sessions.len() * 2 {
            let Some((a, _, b)) = self.violated(&cols) else {
                return Some(cols);
            };
            let clashes = |e: usize, s: usize, cols: &[usize]| {
                self.partners[e]
                    .iter()
                    .any(|&o| cols[o] == s || self.overlapping[s].contains(&cols[o]))
            };
            let mut moved = false;
            for e in [b, a] {
                let target = (0..root.cols)
                    .filter(|&s| !taken[s] && root.c(e, s) < INF && !clashes(e, s, &cols))
                    .min_by_key(|&s| (root.c(e, s), s));
                if let Some(s) = target {
                    taken[cols[e]] = false;
                    taken[s] = true;
                    cols[e] = s;
                    moved = true;
                    break;
                }
            }
            if !moved {
                return None;
            }
        }
        None
    }
}

/// Minimises a bottleneck: the largest `badness(session, slot)` used, then `cost` under that
/// threshold. Returns the threshold and the solution.
pub fn solve_bottleneck(
    p: &Problem,
    badness: &dyn Fn(usize, usize) -> i64,
    cost: &dyn Fn(usize, usize) -> i64,
    limits: &Limits,
) -> Result<(i64, Solution), SolveError> {
    let mut values: Vec<i64> = (0..p.sessions.len())
        .flat_map(|e| {
            (0..p.slots.len())
                .filter(move |&s| p.eligible(e, s))
                .map(move |s| badness(e, s))
        })
        .collect();
    values.sort_unstable();
    values.dedup();
    let under = |t: i64| {
        let mut q = p.clone();
        for (e, x) in q.sessions.iter_mut().enumerate() {
            for s in 0..p.slots.len() {
                if p.eligible(e, s) && badness(e, s) > t {
                    x.unavailable.push(s);
                }
            }
        }
        solve(&q, cost, limits)
    };
    // The largest threshold allows everything: if it fails, nothing helps.
    let Some(&top) = values.last() else {
        return solve(p, cost, limits).map(|s| (0, s));
    };
    let mut best = (top, under(top)?);
    let (mut lo, mut hi) = (0usize, values.len() - 1);
    while lo < hi {
        let mid = (lo + hi) / 2;
        match under(values[mid]) {
            Ok(s) => {
                best = (values[mid], s);
                hi = mid;
            }
            Err(SolveError::Conflicts { proven: false }) => {
                // Unknown within the limit: treat as infeasible, the answer stays feasible.
                lo = mid + 1;
            }
            Err(_) => lo = mid + 1,
        }
    }
    Ok(best)
}
