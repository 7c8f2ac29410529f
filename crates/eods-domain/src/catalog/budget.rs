//! Budget Analyst artifacts: baseline, cost model, budget decision.

use crate::ids::{LineItemId, OptionId};
use crate::money::Currency;
use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A budget category; every allocation and line item has one.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum BudgetCategory {
    Venue,
    Catering,
    Av,
    Staffing,
    Marketing,
    Speakers,
    Materials,
    Insurance,
    /// The reserve: held against the risk register's expected loss, not planned spend.
    Contingency,
    /// Money of the budget that no category is planned to spend (the baseline only).
    Unallocated,
}

impl BudgetCategory {
    /// The name people read: the serde name, except `reserve` for the contingency reserve.
    pub fn label(self) -> &'static str {
        match self {
            BudgetCategory::Venue => "venue",
            BudgetCategory::Catering => "catering",
            BudgetCategory::Av => "av",
            BudgetCategory::Staffing => "staffing",
            BudgetCategory::Marketing => "marketing",
            BudgetCategory::Speakers => "speakers",
            BudgetCategory::Materials => "materials",
            BudgetCategory::Insurance => "insurance",
            BudgetCategory::Contingency => "reserve",
            BudgetCategory::Unallocated => "unallocated",
        }
    }
}

/// Money set aside for one category.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Allocation {
    pub category: BudgetCategory,
    pub amount: Decimal,
    /// amount ÷ total.
    pub share: f64,
}

/// The budget split by category. Allocations (reserve included) sum to `total`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct BudgetBaseline {
    pub total: Decimal,
    pub currency: Currency,
    pub allocations: Vec<Allocation>,
    /// The contingency allocation.
    pub reserve: Decimal,
    pub assumptions: Vec<String>,
}

/// One costed line: qty × unit_cost = total.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LineItem {
    pub id: LineItemId,
    pub category: BudgetCategory,
    pub description: String,
    pub qty: Decimal,
    pub unit_cost: Decimal,
    pub total: Decimal,
    /// Supplier option chosen from the rate card.
    pub vendor_option: String,
    /// The first quote's line total for the same need (for savings).
    pub first_quote: Decimal,
}

impl LineItem {
    /// Whether the line is what a supplier or venue is paid (every line but the reserve): its
    /// amounts need the contracts permission to be read.
    pub fn is_supplier_line(&self) -> bool {
        self.category != BudgetCategory::Contingency
    }
}

/// When a cost change needs an approval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct VarianceRules {
    /// Largest allowed |cost − baseline| ÷ baseline, in percent.
    pub max_variance_pct: f64,
    /// A change costing more than this needs a budget approval.
    pub approval_threshold: Decimal,
}

/// Bottom-up costs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CostModel {
    pub currency: Currency,
    pub line_items: Vec<LineItem>,
    /// Σ line totals.
    pub total: Decimal,
    pub variance_rules: VarianceRules,
    /// How suppliers were chosen, when an optimiser chose them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optimisation: Option<CostOptimisation>,
    /// Every line whose price was quoted in another currency: its unit cost as quoted and the
    /// exchange rate (value, date, source) that turned it into `unit_cost`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conversions: Vec<LineConversion>,
}

/// A line item priced in another currency and converted into the cost model's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LineConversion {
    pub line_item: LineItemId,
    /// The unit cost as quoted by the supplier or venue (volume tiers applied), in its currency.
    pub quoted_unit_cost: crate::money::Money,
    /// `quoted_unit_cost × rate`, rounded to the minor unit; the line's `unit_cost` is this
    /// less any package discount (or, for a venue hired in part, its share of it).
    pub converted_unit_cost: Decimal,
    pub rate: crate::money::ExchangeRate,
}

/// The vendor-option optimiser's account: what it compared, the optimum and its bound.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CostOptimisation {
    pub method: String,
    /// Supplier costs at the first quote (first supplier asked per service, list and volume
    /// prices).
    pub first_quote_total: Decimal,
    /// Supplier costs as optimised.
    pub optimised_total: Decimal,
    /// No choice of suppliers costs less.
    pub lower_bound: Decimal,
    /// Supplier combinations evaluated.
    pub combinations: u64,
    /// Packages whose discount the optimum uses.
    pub packages: Vec<String>,
}

/// Simulated cost outcomes: planned spend with each line's uncertainty and the risk register's
/// events, run `runs` times from `seed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CostRisk {
    pub runs: u32,
    pub seed: u64,
    pub p50: Decimal,
    pub p80: Decimal,
    pub p95: Decimal,
    /// The reserve covers the P80 cost.
    pub reserve_covers_p80: bool,
}

/// Where a budget decision stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BudgetStatus {
    Proposed,
    Approved,
    Rejected,
}

/// One way to close the budget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct BudgetOption {
    pub id: OptionId,
    pub description: String,
    pub total: Decimal,
    pub savings: Decimal,
}

/// A recorded approval decision, as copied into artifacts and log entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ApprovalRecord {
    pub gate: crate::lifecycle::ApprovalGate,
    pub decision: crate::lifecycle::ApprovalDecision,
    pub by: String,
    pub at: chrono::DateTime<chrono::Utc>,
    pub comment: String,
    pub artifact_revision: u32,
}

/// The budget put forward for approval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct BudgetDecision {
    pub approved_total: Decimal,
    pub currency: Currency,
    pub status: BudgetStatus,
    pub options: Vec<BudgetOption>,
    pub selected_option_id: OptionId,
    pub approvals: Vec<ApprovalRecord>,
    /// ChangeLog entry ids that explain this decision.
    pub change_log_refs: Vec<String>,
    /// A cap set by an approver who rejected an earlier proposal.
    pub cap: Option<Decimal>,
    /// Monte Carlo cost outcomes (Advanced).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk_analysis: Option<CostRisk>,
    /// Cancellation hedges for the largest commitments (Advanced).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hedges: Vec<String>,
}

/// One category as every view of the budget shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct CategoryFigure {
    pub category: BudgetCategory,
    /// What the baseline sets aside.
    pub allocated: Decimal,
    /// What the cost model plans to spend (the reserve line for `contingency`).
    pub planned: Decimal,
    /// allocated ÷ the baseline total.
    pub share: f64,
}

/// The budget's figures, computed once: the Budget tab's chart and table, `report.md` and the
/// `budget.csv` export all show these, so a figure shown in two places is the same number.
#[derive(Debug, Clone, PartialEq)]
pub struct BudgetFigures {
    pub currency: Currency,
    /// The baseline total: the budget, or the planned cost when it exceeds the budget.
    pub total: Decimal,
    /// One row per category with an allocation or a planned cost, in category order (the
    /// reserve and the unallocated rest last).
    pub rows: Vec<CategoryFigure>,
    /// Planned spend: the cost model without its reserve line.
    pub spend: Decimal,
    /// The reserve (the baseline's contingency allocation).
    pub reserve: Decimal,
    /// Money no category is planned to spend.
    pub unallocated: Decimal,
    /// The cost model's total (spend and the reserve line), or the allocated total without one.
    pub planned_total: Decimal,
}

/// The figures of a baseline and, when there is one, its cost model.
pub fn figures(baseline: &BudgetBaseline, cost: Option<&CostModel>) -> BudgetFigures {
    use std::collections::BTreeMap;
    let mut by: BTreeMap<BudgetCategory, (Decimal, Decimal)> = BTreeMap::new();
    for a in &baseline.allocations {
        by.entry(a.category).or_default().0 += a.amount;
    }
    // A reserve outside the allocations (documents of earlier versions) is shown as one.
    if !by.contains_key(&BudgetCategory::Contingency) && !baseline.reserve.is_zero() {
        by.entry(BudgetCategory::Contingency).or_default().0 = baseline.reserve;
    }
    for l in cost.map(|c| c.line_items.as_slice()).unwrap_or_default() {
        by.entry(l.category).or_default().1 += l.total;
    }
    let share = |x: Decimal| -> f64 {
        use rust_decimal::prelude::ToPrimitive;
        x.checked_div(baseline.total)
            .and_then(|d| d.to_f64())
            .unwrap_or(0.0)
    };
    let rows: Vec<CategoryFigure> = by
        .iter()
        .map(|(c, (allocated, planned))| CategoryFigure {
            category: *c,
            allocated: *allocated,
            planned: *planned,
            share: share(*allocated),
        })
        .collect();
    let spend: Decimal = rows
        .iter()
        .filter(|r| r.category != BudgetCategory::Contingency)
        .map(|r| r.planned)
        .sum();
    let unallocated = by
        .get(&BudgetCategory::Unallocated)
        .map_or(Decimal::ZERO, |x| x.0);
    BudgetFigures {
        currency: baseline.currency.clone(),
        total: baseline.total,
        rows,
        spend,
        reserve: baseline.reserve,
        unallocated,
        planned_total: cost.map_or(baseline.total - unallocated, |c| c.total),
    }
}
