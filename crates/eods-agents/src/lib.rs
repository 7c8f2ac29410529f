//! The four EODS planners — Event Planner, Venue Researcher, Budget Analyst, Logistics
//! Coordinator — as pure, deterministic functions from input artifacts (plus bundled tool data
//! and an instruction set) to output artifacts. An agent never validates or certifies its own
//! output and never touches storage or the clock: the engine does both.
//!
//! The agent modules (`planner`, `venue`, `budget`, `logistics`, `execute`) depend on the crate
//! root and on leaf modules only, never on each other: what several agents share lives in a
//! leaf (`pricing`, `tasks`, `conflicts`, `multisite`, `rng`, `sources`, `data`, `fx`,
//! `instructions`, `placement`, `timetable`, `cpm`). A step reads the blackboard only through
//! its [`Inputs`], which answers for the artifact types the step declares.

// The agents.
pub mod budget;
pub mod execute;
pub mod logistics;
pub mod planner;
pub mod venue;

// The leaves they share.
pub mod conflicts;
pub mod cpm;
pub mod data;
pub mod fx;
pub mod instructions;
pub mod multisite;
pub mod placement;
pub mod pricing;
pub mod rng;
pub mod sources;
pub mod tasks;
pub mod timetable;

use eods_domain::artifact::{ArtifactType, CatalogType, Payload};
use eods_domain::blackboard::Blackboard;
use eods_domain::catalog::audit::Alternative;
use eods_domain::catalog::execution::ApprovalLatency;
use eods_domain::catalog::logistics::Injection;
use eods_domain::ids::CandidateId;
use eods_domain::instruction::{AgentKind, Level};
use eods_domain::lifecycle::{ApprovalGate, LifecycleState};
use rust_decimal::Decimal;
use std::fmt;

/// Tool data every agent may read: the venue catalog, supplier rate cards, exchange rates,
/// instruction sets.
#[derive(Debug, Clone)]
pub struct Tools {
    pub catalog: data::VenueCatalog,
    /// The bundled demo rate cards, labelled as demo data (see [`sources::label_demo`]); shared
    /// by every demo-city event (`Arc::make_mut` to change them).
    pub rates: std::sync::Arc<data::RateCards>,
    /// Euro reference rates: the bundled snapshot, with imported rates laid over it by
    /// [`Tools::with_imported_rates`].
    pub fx: fx::FxTable,
    pub instructions: instructions::InstructionLibrary,
    /// The installation's own venues and rate cards (`--catalog DIR`); empty by default.
    pub installation: Installation,
}

/// An installation's own catalog: venues and rate cards every event of the installation may use.
#[derive(Debug, Clone, Default)]
pub struct Installation {
    pub venues: Vec<eods_domain::catalog::sources::VenueRecord>,
    pub rate_cards: Vec<eods_domain::catalog::sources::RateCardRow>,
}

impl Tools {
    /// The data and instruction sets bundled with EODS.
    pub fn bundled() -> Result<Tools, AgentError> {
        Self::load(None)
    }

    /// The bundled data, with instruction sets from `instructions` (a directory of
    /// `<agent>.<level>.json` files) taking the place of the bundled ones of the same name.
    pub fn load(instructions: Option<&std::path::Path>) -> Result<Tools, AgentError> {
        Ok(Tools {
            catalog: data::bundled_catalog()?,
            rates: std::sync::Arc::new(sources::label_demo(data::bundled_rate_cards()?)),
            fx: fx::FxTable::bundled().map_err(|e| data::DataError::Parse {
                file: "bundled exchange rates".into(),
                message: e.to_string(),
            })?,
            instructions: instructions::InstructionLibrary::load(instructions)?,
            installation: Installation::default(),
        })
    }

    /// These tools with the installation's own catalog.
    pub fn with_installation(mut self, installation: Installation) -> Tools {
        self.installation = installation;
        self
    }

    /// These tools with `imported` rates (from the database) laid over the bundled snapshot:
    /// the newest rate on or before a day wins, an imported one over a bundled one of that day.
    pub fn with_imported_rates(mut self, imported: &fx::FxTable) -> Tools {
        self.fx = std::mem::take(&mut self.fx).overlaid(imported);
        self
    }

    /// `amount` in `from` converted into `to` on `day` (see [`fx::FxTable::convert`]); a missing
    /// rate blocks the step with the fix in its reason.
    pub fn convert(
        &self,
        amount: Decimal,
        from: &eods_domain::money::Currency,
        to: &eods_domain::money::Currency,
        day: chrono::NaiveDate,
    ) -> Result<(Decimal, Option<eods_domain::money::ExchangeRate>), AgentError> {
        self.fx
            .convert(amount, from, to, day)
            .map_err(|e| AgentError::Infeasible {
                reason: e.to_string(),
                alternatives: vec![],
            })
    }
}

/// One agent step of the lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Step {
    Intake,
    Plan,
    Research,
    Budget,
    Logistics,
    Execute,
    Postmortem,
}

impl Step {
    /// Every step in lifecycle order.
    pub const ALL: [Step; 7] = [
        Step::Intake,
        Step::Plan,
        Step::Research,
        Step::Budget,
        Step::Logistics,
        Step::Execute,
        Step::Postmortem,
    ];

    /// The planning steps, which are recomputed when their inputs change before Execute.
    pub const PLANNING: [Step; 5] = [
        Step::Intake,
        Step::Plan,
        Step::Research,
        Step::Budget,
        Step::Logistics,
    ];

    /// Stable name, used in step keys and traces.
    pub fn name(self) -> &'static str {
        match self {
            Step::Intake => "intake",
            Step::Plan => "plan",
            Step::Research => "research",
            Step::Budget => "budget",
            Step::Logistics => "logistics",
            Step::Execute => "execute",
            Step::Postmortem => "postmortem",
        }
    }

    /// The agent that owns the step.
    pub fn agent(self) -> AgentKind {
        match self {
            Step::Intake | Step::Plan | Step::Postmortem => AgentKind::EventPlanner,
            Step::Research => AgentKind::VenueResearcher,
            Step::Budget => AgentKind::BudgetAnalyst,
            Step::Logistics | Step::Execute => AgentKind::LogisticsCoordinator,
        }
    }

    /// The lifecycle state the step's outputs are needed to leave.
    pub fn state(self) -> LifecycleState {
        match self {
            Step::Intake => LifecycleState::Initiate,
            Step::Plan => LifecycleState::Plan,
            Step::Research => LifecycleState::Research,
            Step::Budget => LifecycleState::Budget,
            Step::Logistics => LifecycleState::Logistics,
            Step::Execute => LifecycleState::Execute,
            Step::Postmortem => LifecycleState::Postmortem,
        }
    }

    /// What the step reads and cannot do without (its outputs are derived from them). With
    /// [`Step::optional_inputs`], the only artifacts the step's [`Inputs`] answers for.
    pub fn inputs(self) -> &'static [ArtifactType] {
        use ArtifactType as T;
        match self {
            Step::Intake => &[T::EventBrief],
            Step::Plan => &[T::EventBrief, T::StakeholderMap],
            // The risk register's expected loss sizes the reserve the venue envelope leaves
            // (the Budget Analyst sizes its reserve the same way); Plan writes it at every level.
            Step::Research => &[T::EventBrief, T::RiskRegister],
            Step::Budget => &[
                T::EventBrief,
                T::RiskRegister,
                T::VenueShortlist,
                T::VenueScorecard,
            ],
            Step::Logistics => &[
                T::EventBrief,
                T::StakeholderMap,
                T::TaskRegister,
                T::RiskRegister,
                T::VenueShortlist,
                T::VenueScorecard,
                T::CostModel,
            ],
            Step::Execute => &[
                T::EventBrief,
                T::Timeline,
                T::TaskRegister,
                T::RiskRegister,
                T::ContingencyPlan,
                T::VendorContracts,
                T::CostModel,
                T::Schedule,
                T::VenueShortlist,
                T::VenueScorecard,
            ],
            Step::Postmortem => &[
                T::Timeline,
                T::RiskRegister,
                T::ContingencyPlan,
                T::VenueShortlist,
                T::VenueScorecard,
                T::VenueAvailability,
                T::BudgetBaseline,
                T::CostModel,
                T::ResourceRoster,
                T::Runbook,
                T::IncidentLog,
                T::StakeholderMap,
            ],
        }
    }

    /// What the step reads when it is there, without waiting for it: the organiser's data (an
    /// event may have none; the suppliers of [`Inputs::data`] come from it), the task register
    /// (for the owners and due dates of requests for quote) and the leads (the venue facts
    /// Logistics plans with).
    pub fn optional_inputs(self) -> &'static [ArtifactType] {
        use ArtifactType as T;
        match self {
            Step::Research => &[T::OrganiserData, T::TaskRegister],
            Step::Budget => &[T::OrganiserData],
            Step::Logistics => &[T::OrganiserData, T::VenueLeads],
            // A live event's runbook holds the task statuses people recorded before Execute.
            Step::Execute => &[T::Runbook],
            Step::Intake | Step::Plan | Step::Postmortem => &[],
        }
    }

    /// Everything the step reads: its inputs, then its optional inputs.
    pub fn reads(self) -> impl Iterator<Item = ArtifactType> {
        self.inputs().iter().chain(self.optional_inputs()).copied()
    }

    /// What the step writes.
    pub fn outputs(self) -> &'static [ArtifactType] {
        use ArtifactType as T;
        match self {
            Step::Intake => &[T::Requirements, T::StakeholderMap],
            Step::Plan => &[
                T::Timeline,
                T::TaskRegister,
                T::RiskRegister,
                T::CommunicationsPlan,
            ],
            Step::Research => &[
                T::VenueCriteria,
                T::VenueLeads,
                T::VenueShortlist,
                T::VenueScorecard,
                T::VenueAvailability,
                T::VenueNegotiationNotes,
            ],
            Step::Budget => &[T::BudgetBaseline, T::CostModel, T::BudgetDecision],
            Step::Logistics => &[
                T::LogisticsPlan,
                T::Schedule,
                T::ResourceRoster,
                T::ContingencyPlan,
                T::VendorContracts,
            ],
            Step::Execute => &[
                T::Runbook,
                T::IncidentLog,
                T::RiskRegister,
                T::Schedule,
                T::VendorContracts,
            ],
            Step::Postmortem => &[T::Postmortem],
        }
    }

    /// The approval the step's outputs need, if any.
    pub fn approval(self) -> Option<ApprovalGate> {
        match self {
            Step::Research => Some(ApprovalGate::VenueSelection),
            Step::Budget => Some(ApprovalGate::BudgetDecision),
            Step::Logistics => Some(ApprovalGate::VendorContracts),
            _ => None,
        }
    }

    /// The step that produces an artifact type during planning.
    pub fn producing(t: ArtifactType) -> Option<Step> {
        Step::PLANNING
            .into_iter()
            .find(|s| s.outputs().contains(&t))
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What approvers and the run asked for beyond the artifacts: rejected candidates, a budget cap,
/// rejected suppliers, the simulation seed and injected incidents. Part of every step key.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Directives {
    pub excluded_candidates: Vec<CandidateId>,
    pub budget_cap: Option<Decimal>,
    pub excluded_suppliers: Vec<String>,
    pub seed: u64,
    pub incidents: Vec<Injection>,
    /// How people resolved a live event's incidents.
    pub resolutions: Vec<eods_domain::catalog::logistics::Resolution>,
    pub approval_latency: Vec<ApprovalLatency>,
    /// How often approvers rejected or asked changes to each gate: a step whose gate was
    /// rejected runs again (and asks again) even when nothing else changed.
    pub rejections: std::collections::BTreeMap<ApprovalGate, u32>,
    /// Simulated or live Execute (the run's mode).
    pub mode: eods_domain::run::RunMode,
    /// Live mode: whether the event's end has passed on the engine's clock. Part of Execute's
    /// key, so the runbook is written again, ended, once the event is over.
    pub event_ended: bool,
    /// The day the event was submitted (in its zone): planning never starts before it. Part of
    /// the plan's key; `None` for events stored before it was kept.
    pub plan_from: Option<chrono::NaiveDate>,
}

impl Directives {
    /// The part of these directives that step `s` depends on, as a stable string for its key.
    pub fn key_for(&self, s: Step) -> String {
        let key = self.inputs_key(s);
        // Earlier keys stay as they were until a gate is rejected.
        match s.approval().and_then(|g| self.rejections.get(&g)) {
            Some(n) if *n > 0 => format!("{key};rejected={n}"),
            _ => key,
        }
    }

    fn inputs_key(&self, s: Step) -> String {
        match s {
            Step::Research => {
                let ids: Vec<&str> = self
                    .excluded_candidates
                    .iter()
                    .map(|c| c.as_str())
                    .collect();
                format!("excluded={}", ids.join(","))
            }
            Step::Budget => format!(
                "cap={};excluded={}",
                self.budget_cap.map(|c| c.to_string()).unwrap_or_default(),
                self.excluded_suppliers.join(",")
            ),
            Step::Logistics => format!("excluded={}", self.excluded_suppliers.join(",")),
            Step::Execute => {
                let kinds: Vec<String> = self
                    .incidents
                    .iter()
                    .map(|i| {
                        let reported = i
                            .reported_at
                            .map(|t| format!("@r{}", t.timestamp()))
                            .unwrap_or_default();
                        format!(
                            "{}@{}{reported}",
                            i.kind.as_str(),
                            i.at_minutes.map(|m| m.to_string()).unwrap_or_default()
                        )
                    })
                    .collect();
                // A live event's incident resolutions (none in earlier keys).
                let resolved: String = self
                    .resolutions
                    .iter()
                    .map(|r| format!(";resolved={}@{}", r.incident, r.at.timestamp()))
                    .collect();
                match self.mode {
                    eods_domain::run::RunMode::Simulate => {
                        format!("seed={};incidents={}", self.seed, kinds.join(","))
                    }
                    eods_domain::run::RunMode::Live => format!(
                        "live={};incidents={}{resolved}",
                        if self.event_ended { "ended" } else { "open" },
                        kinds.join(",")
                    ),
                }
            }
            Step::Plan => self
                .plan_from
                .map_or_else(String::new, |d| format!("from={d}")),
            Step::Intake | Step::Postmortem => String::new(),
        }
    }
}

/// What the caller hands to [`run_step`]: the whole blackboard and the event's context. A step
/// never sees this: `run_step` turns it into the step's [`Inputs`].
#[derive(Debug, Clone, Copy)]
pub struct StepInput<'a> {
    pub blackboard: &'a Blackboard,
    pub level: Level,
    pub tools: &'a Tools,
    pub directives: &'a Directives,
    /// The event's suppliers and the venues the engine gathered (see [`sources::EventData`]).
    pub data: &'a sources::EventData,
}

impl<'a> StepInput<'a> {
    /// The view of `step` over this input: only the artifacts the step declares.
    pub fn view(self, step: Step) -> Inputs<'a> {
        Inputs {
            step,
            blackboard: self.blackboard,
            data: self.data,
            level: self.level,
            tools: self.tools,
            directives: self.directives,
        }
    }
}

/// What a step reads: a view over the blackboard that answers only for the artifact types the
/// step declares ([`Step::reads`]: its inputs, which include what it rewrites, and its optional
/// inputs), so the step key and `derived_from` — both built from the declared reads — name
/// everything the step's outputs depend on. Reading an undeclared type is a programming error
/// returned as [`AgentError::Undeclared`], never a panic.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    step: Step,
    blackboard: &'a Blackboard,
    data: &'a sources::EventData,
    pub level: Level,
    pub tools: &'a Tools,
    pub directives: &'a Directives,
}

impl<'a> Inputs<'a> {
    /// The step this view belongs to.
    pub fn step(&self) -> Step {
        self.step
    }

    /// A declared input, or `None` when the blackboard has none (an optional input, or an
    /// input the step can do without at its level).
    pub fn get<T: CatalogType>(&self) -> Result<Option<&'a T>, AgentError> {
        self.declared(T::TYPE)?;
        Ok(self.blackboard.get::<T>())
    }

    /// A declared input the step cannot do without, or a MissingInput error naming it.
    pub fn need<T: CatalogType>(&self) -> Result<&'a T, AgentError> {
        self.get::<T>()?
            .ok_or_else(|| AgentError::MissingInput(vec![T::TYPE.as_str().to_owned()]))
    }

    /// The event's suppliers and gathered venues. They are derived from the organiser's data,
    /// so only a step that declares [`ArtifactType::OrganiserData`] may read them.
    pub fn data(&self) -> Result<&'a sources::EventData, AgentError> {
        self.declared(ArtifactType::OrganiserData)?;
        Ok(self.data)
    }

    fn declared(&self, t: ArtifactType) -> Result<(), AgentError> {
        if self.step.reads().any(|r| r == t) {
            Ok(())
        } else {
            Err(AgentError::Undeclared {
                step: self.step,
                artifact: t,
            })
        }
    }
}

/// What a step produced, with the decision it represents.
#[derive(Debug, Clone, PartialEq)]
pub struct StepOutput {
    pub artifacts: Vec<Payload>,
    /// One line: what was decided.
    pub summary: String,
    pub rationale: String,
    pub alternatives: Vec<Alternative>,
    /// Mitigations the step raised on its own (a metric breach, an incident without a
    /// scenario): each becomes an escalation in the DecisionLog.
    pub raised: Vec<Raised>,
}

/// Puts a step's outputs on a blackboard as new revisions written by the step's agent, derived
/// from the inputs it read (not the ones it rewrites) — what the engine stores, without a store.
/// For callers that run agents directly: tests and the benchmark.
pub fn record(bb: &mut Blackboard, step: Step, artifacts: Vec<Payload>) {
    let derived: Vec<eods_domain::artifact::ArtifactRef> = step
        .reads()
        .filter(|t| !step.outputs().contains(t))
        .filter_map(|t| bb.reference(t))
        .collect();
    for p in artifacts {
        let revision = bb.revision(p.artifact_type()).map_or(1, |r| r + 1);
        bb.insert(eods_domain::blackboard::Current {
            revision,
            created_by: format!("agent:{}", step.agent()),
            derived_from: derived.clone(),
            payload: p,
        });
    }
}

/// A mitigation raised by an agent: what, why, and who must act.
#[derive(Debug, Clone, PartialEq)]
pub struct Raised {
    pub description: String,
    pub rationale: String,
    /// The stakeholder who must act (`stakeholder-1`, …).
    pub owner: String,
}

/// Why a step could not produce its outputs.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AgentError {
    #[error("missing input: {}", .0.join(", "))]
    MissingInput(Vec<String>),
    #[error("cannot plan: {reason}")]
    Infeasible {
        reason: String,
        alternatives: Vec<Alternative>,
    },
    /// A person must supply something (quotes, a venue list, rate cards) before the step can
    /// finish; `partial` holds what the step could already write (the criteria and the leads with
    /// their requests for quote).
    #[error("{reason}")]
    NeedsInput {
        reason: String,
        asks: Vec<String>,
        partial: Vec<Payload>,
    },
    /// A step read an artifact type it does not declare in [`Step::inputs`] or
    /// [`Step::optional_inputs`]: a programming error in the agent, which fails the run.
    #[error(
        "the {step} step read `{artifact}`, which it does not declare: add it to Step::inputs or Step::optional_inputs"
    )]
    Undeclared { step: Step, artifact: ArtifactType },
    #[error(transparent)]
    Instructions(#[from] instructions::InstructionError),
    #[error(transparent)]
    Data(#[from] data::DataError),
}

/// Runs one step.
pub fn run_step(step: Step, input: StepInput<'_>) -> Result<StepOutput, AgentError> {
    let input = input.view(step);
    let set = input.tools.instructions.get(step.agent(), input.level)?;
    match step {
        Step::Intake => planner::intake(input),
        Step::Plan => planner::plan(input, &set.params()?),
        Step::Research => venue::research(
            input,
            &set.params()?,
            &input
                .tools
                .instructions
                .get(AgentKind::BudgetAnalyst, input.level)?
                .params()?,
        ),
        Step::Budget => budget::plan(input, &set.params()?),
        Step::Logistics => logistics::plan(input, &set.params()?),
        Step::Execute => match input.directives.mode {
            eods_domain::run::RunMode::Simulate => execute::simulate(input),
            eods_domain::run::RunMode::Live => execute::record(input),
        },
        Step::Postmortem => execute::postmortem(input),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use eods_domain::blackboard::Current;
    use eods_domain::catalog::brief::EventBrief;
    use eods_domain::catalog::planning::RiskRegister;

    fn blackboard() -> Blackboard {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../examples/s01-meetup.json"
        ))
        .unwrap();
        let brief = eods_domain::intake::parse_brief(&text).unwrap();
        let mut bb = Blackboard::new();
        bb.insert(Current {
            revision: 1,
            created_by: "user:test".into(),
            derived_from: vec![],
            payload: brief.into_payload(),
        });
        bb
    }

    /// The s01 brief after Intake and Plan, with the context a step runs in.
    struct Fixture {
        tools: Tools,
        directives: Directives,
        bb: Blackboard,
        data: sources::EventData,
    }

    impl Fixture {
        fn new() -> Fixture {
            let tools = Tools::bundled().unwrap();
            let directives = Directives::default();
            let mut bb = blackboard();
            for s in [Step::Intake, Step::Plan] {
                let data = sources::EventData::of(&tools, &bb, None);
                let input = StepInput {
                    blackboard: &bb,
                    level: Level::Intermediate,
                    tools: &tools,
                    directives: &directives,
                    data: &data,
                };
                let out = run_step(s, input).unwrap();
                record(&mut bb, s, out.artifacts);
            }
            let data = sources::EventData::of(&tools, &bb, None);
            Fixture {
                tools,
                directives,
                bb,
                data,
            }
        }

        fn view(&self, step: Step) -> Inputs<'_> {
            StepInput {
                blackboard: &self.bb,
                level: Level::Intermediate,
                tools: &self.tools,
                directives: &self.directives,
                data: &self.data,
            }
            .view(step)
        }
    }

    #[test]
    fn a_step_reading_an_undeclared_type_gets_an_error_naming_both() {
        let f = Fixture::new();
        // The risk register is on the blackboard, but Intake does not declare it.
        assert!(f.bb.get::<RiskRegister>().is_some());
        assert_eq!(
            f.view(Step::Intake)
                .get::<RiskRegister>()
                .map(|r| r.is_some()),
            Err(AgentError::Undeclared {
                step: Step::Intake,
                artifact: ArtifactType::RiskRegister,
            })
        );
        let message = f
            .view(Step::Plan)
            .need::<RiskRegister>()
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("plan step") && message.contains("`risk_register`"),
            "{message}"
        );
        // The event data comes from the organiser's data: only its readers may use it.
        assert_eq!(
            f.view(Step::Plan).data().map(|_| ()),
            Err(AgentError::Undeclared {
                step: Step::Plan,
                artifact: ArtifactType::OrganiserData,
            })
        );
    }

    #[test]
    fn a_step_reads_what_it_declares_and_only_that() {
        let f = Fixture::new();
        // Research declares the risk register: its venue envelope keeps the reserve it sizes.
        assert_eq!(
            f.view(Step::Research).need::<RiskRegister>(),
            Ok(f.bb.get::<RiskRegister>().unwrap())
        );
        assert!(f.view(Step::Research).data().is_ok());
        // An optional input that is not there is `None`, not an error.
        assert_eq!(
            f.view(Step::Research)
                .get::<eods_domain::catalog::sources::OrganiserData>(),
            Ok(None)
        );
        assert_eq!(
            f.view(Step::Research)
                .need::<EventBrief>()
                .map(|b| b.audience_size),
            Ok(f.bb.get::<EventBrief>().unwrap().audience_size)
        );
    }
}
