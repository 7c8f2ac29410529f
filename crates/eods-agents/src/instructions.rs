//! Instruction sets: one versioned JSON file per agent and level (objectives, inputs, outputs,
//! constraints, parameters, error handling), bundled into the binary and checked at load. The
//! parameters are typed per agent; the algorithms read nothing else.

use eods_domain::catalog::brief::EventType;
use eods_domain::catalog::venue::Criterion;
use eods_domain::instruction::{AgentKind, InstructionSetRef, Level};
use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;

/// One instruction-set file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstructionSet {
    pub agent: AgentKind,
    pub level: Level,
    /// Semver, recorded with every decision this set drives.
    pub version: String,
    pub objectives: Vec<String>,
    pub inputs: Vec<String>,
    pub outputs: Vec<String>,
    pub constraints: Vec<String>,
    pub parameters: serde_json::Value,
    pub error_handling: Vec<String>,
    /// The prompt templates of the language-model tasks this agent gives a model (issue 16), by
    /// task name: versioned and hashed with the rest of the file.
    #[serde(default)]
    pub prompts: BTreeMap<String, Prompt>,
    /// SHA-256 of the file's bytes, hex.
    #[serde(skip)]
    pub hash: String,
    /// Where the set was read from: `bundled:<file>` or a path.
    #[serde(skip)]
    pub source: String,
}

/// The prompt template of one language-model task: the instructions, and the question in which
/// `{text}` stands for the text the task is about.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Prompt {
    pub system: String,
    pub user: String,
}

impl Prompt {
    /// The question about `text`.
    pub fn user_for(&self, text: &str) -> String {
        self.user.replace("{text}", text)
    }
}

/// The language-model tasks each agent gives a model, which its instruction sets must prompt.
pub fn model_tasks(agent: AgentKind) -> &'static [&'static str] {
    match agent {
        AgentKind::EventPlanner => &["interpret_constraint", "draft_message"],
        AgentKind::VenueResearcher | AgentKind::BudgetAnalyst => &["summarise_for_approval"],
        AgentKind::LogisticsCoordinator => &[],
    }
}

impl InstructionSet {
    /// The prompt template of `task` ([`parse_instruction_set`] checked that the set has every
    /// prompt its agent asks for).
    pub fn prompt(&self, task: &str) -> Result<&Prompt, InstructionError> {
        self.prompts.get(task).ok_or_else(|| InstructionError {
            file: self.source.clone(),
            message: format!("prompts.{task} is missing"),
        })
    }

    /// The reference recorded in the DecisionLog and traces.
    pub fn reference(&self) -> InstructionSetRef {
        InstructionSetRef {
            agent: self.agent,
            level: self.level,
            version: self.version.clone(),
            hash: self.hash.clone(),
        }
    }

    /// The parameters, typed for one agent.
    pub fn params<P: DeserializeOwned>(&self) -> Result<P, InstructionError> {
        serde_json::from_value(self.parameters.clone()).map_err(|e| InstructionError {
            file: if self.source.is_empty() {
                file_name(self.agent, self.level)
            } else {
                self.source.clone()
            },
            message: format!("parameters: {e}"),
        })
    }
}

/// A bad instruction-set file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("instruction set {file}: {message}")]
pub struct InstructionError {
    pub file: String,
    pub message: String,
}

/// Parameters of the Event Planner.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PlannerParams {
    #[schemars(range(min = 1, max = 50))]
    pub min_milestones: usize,
    #[schemars(range(min = 1, max = 200))]
    pub min_tasks: usize,
    /// Default planning lead time in days per event type, when the brief gives no planning_start
    /// (at most [`MAX_LEAD_DAYS`]).
    #[schemars(schema_with = "lead_days_schema")]
    pub lead_time_days: BTreeMap<EventType, u32>,
    /// Multiplier on the task template's durations per event type (0.1 to 10).
    #[schemars(schema_with = "scale_schema")]
    pub duration_scale: BTreeMap<EventType, f64>,
    /// Plan a communications entry for every stakeholder audience, not only owner and attendees.
    pub comms_all_audiences: bool,
    /// `checklist`: the template's tasks one after another (a novice's backward-scheduled list);
    /// `dag`: the task network with parallel work and a critical path.
    pub task_network: TaskNetwork,
    /// Level each owner's load within the tasks' slack (serial schedule generation).
    pub resource_levelling: bool,
}

/// Days per event type, each within 0..=[`MAX_LEAD_DAYS`].
fn lead_days_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "object",
        "propertyNames": {"enum": EventType::ALL},
        "additionalProperties": {"type": "integer", "minimum": 0, "maximum": MAX_LEAD_DAYS},
    })
}

/// A multiplier per event type, each within 0.1..=10.
fn scale_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "object",
        "propertyNames": {"enum": EventType::ALL},
        "additionalProperties": {"type": "number", "minimum": 0.1, "maximum": 10},
    })
}

/// How the Event Planner links the template's tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TaskNetwork {
    Checklist,
    Dag,
}

/// Parameters of the Venue Researcher.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VenueParams {
    #[schemars(range(max = 1000))]
    pub min_leads: usize,
    #[schemars(range(max = 1000))]
    pub max_leads: usize,
    #[schemars(range(min = 3, max = 50))]
    pub shortlist_min: usize,
    #[schemars(range(min = 3, max = 50))]
    pub shortlist_max: usize,
    /// Criterion → weight (each 0 to 1); must sum to 1.
    pub weights: BTreeMap<Criterion, f64>,
    /// Number of venues to put on hold (best first).
    #[schemars(range(max = 10))]
    pub holds: usize,
    /// Largest venue capacity considered, as a multiple of the audience (floor: audience + 60).
    #[schemars(range(min = 1, max = 100))]
    pub max_capacity_factor: f64,
    /// Also quote combinations of rooms (part of a venue) when cheaper than the whole venue.
    pub room_combinations: bool,
    /// Combine whole venues of the city (sites) when no single venue holds the audience;
    /// otherwise block with ranked options (see `multisite`).
    #[serde(default)]
    pub site_combinations: bool,
}

/// Parameters of the Budget Analyst.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BudgetParams {
    /// Share of the total the Venue Researcher keeps back for the reserve when it sizes the
    /// venue envelope (at least the expected loss). The Budget Analyst's reserve is the risk
    /// register's expected loss (the P80 overrun at Advanced), whatever this share.
    pub reserve_share: Decimal,
    #[schemars(range(min = 0, max = 100))]
    pub max_variance_pct: f64,
    /// A change costing more than this (event currency) re-opens the budget approval.
    pub approval_threshold: Decimal,
    /// Share of the total set aside for the venue, per event type (each within 0..1).
    pub venue_share: BTreeMap<EventType, Decimal>,
    /// `first_quote`: take the first supplier asked per service; `cheapest`: the cheapest
    /// supplier per service on its own; `exact`: optimise over every supplier option and package
    /// discount together.
    pub optimiser: Optimiser,
    /// Monte Carlo runs for P50/P80/P95 cost (0: none; at most 100,000).
    #[schemars(range(max = 100_000))]
    pub monte_carlo_runs: u32,
    /// Record cancellation hedges for the largest commitments.
    pub hedges: bool,
}

/// How the Budget Analyst chooses suppliers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Optimiser {
    FirstQuote,
    Cheapest,
    Exact,
}

/// Parameters of the Logistics Coordinator.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LogisticsParams {
    #[schemars(range(max = 100))]
    pub min_workflows: usize,
    /// First session start, local time `HH:MM`, for day events.
    pub day_start: String,
    /// Last session end, local time `HH:MM`, for day events.
    pub day_end: String,
    /// Evening window for meetups.
    pub evening_start: String,
    pub evening_end: String,
    #[schemars(range(max = 240))]
    pub break_minutes: u32,
    /// One staff member per this many attendees (at least one).
    #[schemars(range(min = 1, max = 10_000))]
    pub attendees_per_staff: u32,
    /// `first_fit`: sessions in order, each at the earliest free time of its track's room;
    /// `optimal`: the exact timetabling solver over a grid of room-time slots.
    pub scheduler: Scheduler,
    /// With `optimal`: also weigh the expected audience against room capacity.
    pub capacity_fit: bool,
    /// With `optimal`: branch-and-bound nodes before the best schedule found is returned with
    /// its bound.
    #[schemars(range(max = 10_000_000))]
    pub node_limit: u64,
}

/// How the Logistics Coordinator places sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Scheduler {
    FirstFit,
    Optimal,
}

/// The longest planning lead time an instruction set may give (three years).
pub const MAX_LEAD_DAYS: u32 = 1095;

fn file_name(agent: AgentKind, level: Level) -> String {
    format!("{}.{}.json", agent.as_str(), level.as_str())
}

macro_rules! bundled {
    ($($agent:literal),*) => {
        /// (file name, text) of every bundled instruction set.
        pub const BUNDLED: &[(&str, &str)] = &[
            $(
                (concat!($agent, ".beginner.json"), include_str!(concat!("../instructions/", $agent, ".beginner.json"))),
                (concat!($agent, ".intermediate.json"), include_str!(concat!("../instructions/", $agent, ".intermediate.json"))),
                (concat!($agent, ".advanced.json"), include_str!(concat!("../instructions/", $agent, ".advanced.json"))),
            )*
        ];
    };
}
bundled!(
    "event_planner",
    "venue_researcher",
    "budget_analyst",
    "logistics_coordinator"
);

/// The JSON Schema every instruction-set file must satisfy: the common fields, and the typed
/// parameters of the agent the file names.
pub fn file_schema() -> serde_json::Value {
    use serde_json::{Map, Value, json};
    let mut defs = Map::new();
    let mut branches = Vec::new();
    let params: [(AgentKind, schemars::Schema); 4] = [
        (
            AgentKind::EventPlanner,
            schemars::schema_for!(PlannerParams),
        ),
        (
            AgentKind::VenueResearcher,
            schemars::schema_for!(VenueParams),
        ),
        (
            AgentKind::BudgetAnalyst,
            schemars::schema_for!(BudgetParams),
        ),
        (
            AgentKind::LogisticsCoordinator,
            schemars::schema_for!(LogisticsParams),
        ),
    ];
    for (agent, schema) in params {
        let mut schema = match schema.to_value() {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        if let Some(Value::Object(d)) = schema.remove("$defs") {
            defs.extend(d);
        }
        schema.remove("$schema");
        branches.push(json!({"if": {"properties": {"agent": {"const": agent.as_str()}}}, "then": {"properties": {"parameters": Value::Object(schema)}}}));
    }
    let strings = json!({"type": "array", "items": {"type": "string", "minLength": 1}});
    let some_strings =
        json!({"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1});
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "EODS instruction set",
        "type": "object",
        "additionalProperties": false,
        "required": ["agent", "level", "version", "objectives", "inputs", "outputs", "constraints", "parameters", "error_handling"],
        "properties": {
            "agent": {"enum": AgentKind::ALL.map(AgentKind::as_str)},
            "level": {"enum": Level::ALL},
            "version": {"type": "string", "pattern": "^[0-9]+\\.[0-9]+\\.[0-9]+$"},
            "objectives": some_strings,
            "inputs": strings,
            "outputs": some_strings,
            "constraints": strings,
            "parameters": {"type": "object"},
            "error_handling": strings,
            "prompts": {
                "type": "object",
                "additionalProperties": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["system", "user"],
                    "properties": {
                        "system": {"type": "string", "minLength": 1},
                        "user": {"type": "string", "minLength": 1},
                    },
                },
            },
        },
        "allOf": branches,
        "$defs": Value::Object(defs),
    })
}

/// Parses and checks one instruction-set file; `expected` is the (agent, level) its name promises.
pub fn parse_instruction_set(
    file: &str,
    text: &str,
    expected: Option<(AgentKind, Level)>,
) -> Result<InstructionSet, InstructionError> {
    let err = |message: String| InstructionError {
        file: file.into(),
        message,
    };
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        err(format!(
            "invalid JSON at line {}, column {}: {e}",
            e.line(),
            e.column()
        ))
    })?;
    let violations = eods_domain::schema::schema_violations(&file_schema(), &value);
    if !violations.is_empty() {
        let list: Vec<String> = violations.iter().map(ToString::to_string).collect();
        return Err(err(list.join("; ")));
    }
    let mut set: InstructionSet = serde_json::from_value(value).map_err(|e| err(e.to_string()))?;
    set.hash = sha256_hex(text.as_bytes());
    set.source = file.to_owned();
    if let Some((agent, level)) = expected
        && (set.agent != agent || set.level != level)
    {
        return Err(err(format!(
            "declares {} {} but is filed as {} {}",
            set.agent, set.level, agent, level
        )));
    }
    let tasks = model_tasks(set.agent);
    if let Some(t) = set.prompts.keys().find(|t| !tasks.contains(&t.as_str())) {
        return Err(err(format!(
            "prompts.{t}: {} gives a model no task `{t}`; its tasks are: {}",
            set.agent,
            if tasks.is_empty() {
                "none".to_owned()
            } else {
                tasks.join(", ")
            }
        )));
    }
    for t in tasks {
        let Some(p) = set.prompts.get(*t) else {
            return Err(err(format!(
                "prompts.{t} is missing: {} gives a model this task; add {{\"system\": …, \"user\": …}} (see the bundled set)",
                set.agent
            )));
        };
        if p.system.trim().is_empty() || !p.user.contains("{text}") {
            return Err(err(format!(
                "prompts.{t}: `system` must not be empty and `user` must hold `{{text}}`, where the text goes"
            )));
        }
    }
    match set.agent {
        AgentKind::EventPlanner => {
            let p: PlannerParams = set.params()?;
            if p.min_milestones == 0 || p.min_tasks == 0 {
                return Err(err(
                    "parameters.min_milestones and min_tasks must be at least 1".into(),
                ));
            }
            if let Some((t, d)) = p.lead_time_days.iter().find(|(_, d)| **d > MAX_LEAD_DAYS) {
                return Err(err(format!(
                    "parameters.lead_time_days.{}: {d} days is more than {MAX_LEAD_DAYS} (three years)",
                    format!("{t:?}").to_lowercase()
                )));
            }
            if let Some((t, x)) = p
                .duration_scale
                .iter()
                .find(|(_, x)| !(0.1..=10.0).contains(*x))
            {
                return Err(err(format!(
                    "parameters.duration_scale.{}: {x} is outside 0.1..10",
                    format!("{t:?}").to_lowercase()
                )));
            }
        }
        AgentKind::VenueResearcher => {
            let p: VenueParams = set.params()?;
            if p.weights.values().any(|w| !(0.0..=1.0).contains(w)) {
                return Err(err(
                    "parameters.weights: each weight lies within 0..1".into()
                ));
            }
            let sum: f64 = p.weights.values().sum();
            if (sum - 1.0).abs() > 1e-9 {
                return Err(err(format!("parameters.weights sum to {sum}, not 1")));
            }
            if p.shortlist_min < 3 || p.shortlist_max < p.shortlist_min || p.max_leads < p.min_leads
            {
                return Err(err("parameters: need shortlist_min ≥ 3, shortlist_max ≥ shortlist_min, max_leads ≥ min_leads".into()));
            }
        }
        AgentKind::BudgetAnalyst => {
            let p: BudgetParams = set.params()?;
            if p.reserve_share < Decimal::ZERO || p.reserve_share >= Decimal::ONE {
                return Err(err("parameters.reserve_share must lie within 0..1".into()));
            }
            if p.approval_threshold < Decimal::ZERO {
                return Err(err(
                    "parameters.approval_threshold must not be negative".into()
                ));
            }
            if let Some((t, v)) = p
                .venue_share
                .iter()
                .find(|(_, v)| **v < Decimal::ZERO || **v >= Decimal::ONE)
            {
                return Err(err(format!(
                    "parameters.venue_share.{}: {v} is outside 0..1",
                    format!("{t:?}").to_lowercase()
                )));
            }
        }
        AgentKind::LogisticsCoordinator => {
            let p: LogisticsParams = set.params()?;
            for (name, v) in [
                ("day_start", &p.day_start),
                ("day_end", &p.day_end),
                ("evening_start", &p.evening_start),
                ("evening_end", &p.evening_end),
            ] {
                if chrono::NaiveTime::parse_from_str(v, "%H:%M").is_err() {
                    return Err(err(format!("parameters.{name}: `{v}` is not a time HH:MM")));
                }
            }
            if p.attendees_per_staff == 0 {
                return Err(err(
                    "parameters.attendees_per_staff must be at least 1".into()
                ));
            }
        }
    }
    Ok(set)
}

/// SHA-256 of `bytes` as lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The agent and level a file name promises: `<agent>.<level>.json`.
pub fn parse_file_name(name: &str) -> Result<(AgentKind, Level), String> {
    let bad = || {
        format!(
            "`{name}` is not named <agent>.<level>.json (agents: {}; levels: {})",
            AgentKind::ALL.map(AgentKind::as_str).join(", "),
            Level::ALL.join(", ")
        )
    };
    let stem = name.strip_suffix(".json").ok_or_else(bad)?;
    let (agent, level) = stem.split_once('.').ok_or_else(bad)?;
    let agent = AgentKind::ALL
        .into_iter()
        .find(|a| a.as_str() == agent)
        .ok_or_else(bad)?;
    let level = Level::parse(level).map_err(|_| bad())?;
    Ok((agent, level))
}

/// The twelve instruction sets in force: the bundled ones, each replaced by a file of the same
/// name in an instructions directory when one is given. Every set is checked at load.
#[derive(Debug, Clone)]
pub struct InstructionLibrary {
    sets: BTreeMap<(AgentKind, Level), InstructionSet>,
}

impl InstructionLibrary {
    /// Loads and checks the bundled sets.
    pub fn bundled() -> Result<InstructionLibrary, InstructionError> {
        let mut sets = BTreeMap::new();
        for agent in AgentKind::ALL {
            for level in [Level::Beginner, Level::Intermediate, Level::Advanced] {
                let name = file_name(agent, level);
                let text = BUNDLED
                    .iter()
                    .find(|(f, _)| *f == name)
                    .map(|(_, t)| *t)
                    .ok_or_else(|| InstructionError {
                        file: name.clone(),
                        message: "not bundled".into(),
                    })?;
                let mut set = parse_instruction_set(&name, text, Some((agent, level)))?;
                set.source = format!("bundled:{name}");
                sets.insert((agent, level), set);
            }
        }
        Ok(InstructionLibrary { sets })
    }

    /// The bundled sets, with every `<agent>.<level>.json` in `dir` taking the place of its
    /// bundled namesake. Any other `.json` file in `dir` is an error naming it.
    pub fn load(dir: Option<&std::path::Path>) -> Result<InstructionLibrary, InstructionError> {
        let mut lib = Self::bundled()?;
        let Some(dir) = dir else { return Ok(lib) };
        let shown = dir.display().to_string();
        let entries = std::fs::read_dir(dir).map_err(|e| InstructionError {
            file: shown.clone(),
            message: format!("cannot read the instructions directory: {e}"),
        })?;
        let mut paths: Vec<std::path::PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        paths.sort();
        for path in paths {
            let file = path.display().to_string();
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let expected = parse_file_name(&name).map_err(|message| InstructionError {
                file: file.clone(),
                message,
            })?;
            let text = std::fs::read_to_string(&path).map_err(|e| InstructionError {
                file: file.clone(),
                message: e.to_string(),
            })?;
            let set = parse_instruction_set(&file, &text, Some(expected))?;
            lib.sets.insert(expected, set);
        }
        Ok(lib)
    }

    /// The set of one agent at one level.
    pub fn get(&self, agent: AgentKind, level: Level) -> Result<&InstructionSet, InstructionError> {
        self.sets
            .get(&(agent, level))
            .ok_or_else(|| InstructionError {
                file: file_name(agent, level),
                message: "not loaded".into(),
            })
    }

    /// Every set, by agent then level.
    pub fn iter(&self) -> impl Iterator<Item = &InstructionSet> {
        self.sets.values()
    }
}

/// The text of a bundled set, by file name.
pub fn bundled_text(name: &str) -> Option<&'static str> {
    BUNDLED.iter().find(|(f, _)| *f == name).map(|(_, t)| *t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_sets_load() {
        let lib = InstructionLibrary::bundled().unwrap();
        let v: VenueParams = lib
            .get(AgentKind::VenueResearcher, Level::Advanced)
            .unwrap()
            .params()
            .unwrap();
        assert!(v.holds >= 2);
    }

    #[test]
    fn a_directory_overrides_a_bundled_set_and_bad_names_are_refused() {
        let dir = std::env::temp_dir().join(format!("eods-instr-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let text = bundled_text("venue_researcher.beginner.json")
            .unwrap()
            .replace("\"holds\": 1", "\"holds\": 3");
        std::fs::write(dir.join("venue_researcher.beginner.json"), &text).unwrap();
        let lib = InstructionLibrary::load(Some(&dir)).unwrap();
        let set = lib
            .get(AgentKind::VenueResearcher, Level::Beginner)
            .unwrap();
        let p: VenueParams = set.params().unwrap();
        assert_eq!(p.holds, 3);
        assert_eq!(set.hash, sha256_hex(text.as_bytes()));
        assert_ne!(
            set.hash,
            InstructionLibrary::bundled()
                .unwrap()
                .get(AgentKind::VenueResearcher, Level::Beginner)
                .unwrap()
                .hash
        );
        assert!(set.source.ends_with("venue_researcher.beginner.json"));
        std::fs::write(dir.join("planner.json"), "{}").unwrap();
        let e = InstructionLibrary::load(Some(&dir)).unwrap_err();
        assert!(
            e.to_string()
                .contains("`planner.json` is not named <agent>.<level>.json"),
            "{e}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn bad_sets_are_refused_with_the_field() {
        let (_, text) = BUNDLED[0];
        let cases = [
            (text.replace("{", "{,"), "invalid JSON at line 1, column 2"),
            (
                text.replace("\"version\": \"1.3.0\"", "\"version\": \"one\""),
                "/version: \"one\" does not match",
            ),
            (
                text.replace("\"interpret_constraint\"", "\"write_poems\""),
                "prompts.write_poems: event_planner gives a model no task `write_poems`",
            ),
            (
                text.replace("\"user\": \"{text}\"", "\"user\": \"the text\""),
                "prompts.interpret_constraint: `system` must not be empty and `user` must hold `{text}`",
            ),
            (
                text.replace("\"prompts\"", "\"prompts_old\""),
                "Additional properties are not allowed ('prompts_old' was unexpected)",
            ),
            (
                text.replace("\"min_tasks\"", "\"min_taskz\""),
                "/parameters: Additional properties are not allowed ('min_taskz' was unexpected)",
            ),
            (
                text.replace("\"beginner\"", "\"expert\""),
                "/level: \"expert\" is not one of",
            ),
        ];
        for (input, expect) in cases {
            let e = parse_instruction_set(
                "x.json",
                &input,
                Some((AgentKind::EventPlanner, Level::Beginner)),
            )
            .unwrap_err();
            assert!(e.to_string().contains(expect), "{e}");
        }
        let e = parse_instruction_set(
            "x.json",
            text,
            Some((AgentKind::EventPlanner, Level::Advanced)),
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("filed as event_planner advanced"),
            "{e}"
        );
    }
}
