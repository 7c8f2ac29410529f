//! Property tests for validation: well-formed documents have no violations, and every injected
//! fault is reported — all of them, each at its own JSON pointer.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use chrono::{Duration, NaiveDate};
use eods_domain::artifact::Payload;
use eods_domain::catalog::budget::{BudgetCategory, CostModel, LineItem, VarianceRules};
use eods_domain::catalog::planning::{Days, Task, TaskRegister, TaskStatus};
use eods_domain::ids::{LineItemId, MilestoneId, StakeholderId, TaskId};
use eods_domain::money::Currency;
use eods_domain::validate::validate_payload;
use proptest::prelude::*;
use rust_decimal::Decimal;

/// A register of `n` tasks where task i runs days 10i..10i+4 and depends on some earlier tasks.
fn register(n: usize, raw_deps: &[Vec<usize>]) -> TaskRegister {
    let base = NaiveDate::from_ymd_opt(2027, 1, 4).unwrap();
    TaskRegister {
        tasks: (0..n)
            .map(|i| {
                let start = base + Duration::days(10 * i as i64);
                Task {
                    id: TaskId::nth(i + 1),
                    title: format!("Task {i}"),
                    owner: StakeholderId::nth(1),
                    status: TaskStatus::NotStarted,
                    start,
                    end: start + Duration::days(4),
                    duration: Days(5),
                    depends_on: raw_deps[i]
                        .iter()
                        .filter(|d| **d < i)
                        .map(|d| TaskId::nth(d + 1))
                        .collect(),
                    milestone_id: MilestoneId::nth(1),
                    slack: Days(0),
                }
            })
            .collect(),
    }
}

fn deps_strategy() -> impl Strategy<Value = (usize, Vec<Vec<usize>>)> {
    (2usize..40).prop_flat_map(|n| {
        (
            Just(n),
            proptest::collection::vec(proptest::collection::vec(0usize..40, 0..3), n),
        )
    })
}

proptest! {
    #[test]
    fn a_forward_task_graph_is_valid((n, deps) in deps_strategy()) {
        let v = validate_payload(&Payload::TaskRegister(register(n, &deps)));
        prop_assert!(v.is_empty(), "{v:?}");
    }

    /// A back edge from task a to a later task b closes a cycle: both are reported, and a dangling
    /// reference is reported at its own pointer in the same pass.
    #[test]
    fn cycles_and_unknown_references_are_all_reported((n, deps) in deps_strategy(), a in 0usize..40, b in 0usize..40) {
        let (a, b) = (a % n, b % n);
        prop_assume!(a < b);
        let mut r = register(n, &deps);
        // Make b depend on a transitively: chain a → b directly, then close the cycle.
        r.tasks[b].depends_on.push(TaskId::nth(a + 1));
        r.tasks[a].depends_on.push(TaskId::nth(b + 1));
        r.tasks[0].depends_on.push(TaskId::from("task-999"));
        let v = validate_payload(&Payload::TaskRegister(r));
        let pointers: Vec<&str> = v.iter().map(|x| x.pointer.as_str()).collect();
        let a_cycle = format!("/tasks/{a}/depends_on");
        let b_cycle = format!("/tasks/{b}/depends_on");
        prop_assert!(v.iter().any(|x| x.pointer == a_cycle && x.message.contains("cycle")), "{pointers:?}");
        prop_assert!(v.iter().any(|x| x.pointer == b_cycle && x.message.contains("cycle")), "{pointers:?}");
        let unknown = format!("/tasks/0/depends_on/{}", r_len_deps0(n, &deps, a, b));
        prop_assert!(v.iter().any(|x| x.pointer == unknown && x.message.contains("task-999")), "{pointers:?}");
    }

    /// Line items with qty × unit = total validate; each corrupted line is reported at its pointer.
    #[test]
    fn every_inconsistent_line_item_is_reported(items in proptest::collection::vec((1u32..500, 1u32..100_000), 1..30), broken in proptest::collection::vec(any::<bool>(), 30)) {
        let mut lines: Vec<LineItem> = items.iter().enumerate().map(|(i, (qty, cents))| {
            let unit = Decimal::new(i64::from(*cents), 2);
            LineItem {
                id: LineItemId::nth(i + 1),
                category: BudgetCategory::Catering,
                description: format!("line {i}"),
                qty: Decimal::from(*qty),
                unit_cost: unit,
                total: (Decimal::from(*qty) * unit).round_dp(2),
                vendor_option: "supplier-1".into(),
                first_quote: Decimal::ZERO,
            }
        }).collect();
        let mut expected = Vec::new();
        for (i, l) in lines.iter_mut().enumerate() {
            if broken[i] {
                l.total += Decimal::new(1, 2);
                expected.push(format!("/line_items/{i}/total"));
            }
        }
        let total = lines.iter().map(|l| l.total).sum();
        let model = CostModel { currency: Currency::parse("EUR").unwrap(), line_items: lines, total, variance_rules: VarianceRules { max_variance_pct: 5.0, approval_threshold: Decimal::from(1000) }, optimisation: None, conversions: vec![] };
        let got: Vec<String> = validate_payload(&Payload::CostModel(model)).into_iter().map(|v| v.pointer).collect();
        prop_assert_eq!(got, expected);
    }
}

/// Index of the dangling reference in task 0's depends_on after the edits above.
fn r_len_deps0(n: usize, deps: &[Vec<usize>], a: usize, b: usize) -> usize {
    let base = register(n, deps).tasks[0].depends_on.len();
    base + usize::from(b == 0) + usize::from(a == 0)
}
