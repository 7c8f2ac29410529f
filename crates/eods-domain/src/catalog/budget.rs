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
    Contingency,
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
