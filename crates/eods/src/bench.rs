//! `eods bench`: timings (p50/p95) of every agent step per level on S-01..S-03, of whole
//! lifecycles through the engine and a real database, of scheduling a real program (FOSDEM) and
//! of the conference-scheduling instances. A benchmark, not a test: it reports, it asserts
//! nothing about time.

use crate::approve::AutoApprover;
use eods_agents::{AgentError, Directives, Step, StepInput, Tools, run_step};
use eods_domain::artifact::CatalogType;
use eods_domain::blackboard::{Blackboard, Current};
use eods_domain::catalog::brief::EventBrief;
use eods_domain::instruction::Level;
use eods_engine::{Engine, Quiet, RunOptions};
use eods_store::Store;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What to measure and where the inputs are.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Repetitions of each measurement.
    pub runs: usize,
    /// Directory holding s01-meetup.json, s02-conference.json and s03-large-event.json.
    pub examples: PathBuf,
    /// Database for whole-lifecycle runs; a temporary SQLite file when absent.
    pub database: Option<String>,
    /// A frab XML program to import and re-schedule (FOSDEM 2025).
    pub frab: Option<PathBuf>,
    /// A directory of `conference-scheduling-instance/1` files to solve.
    pub scheduling: Option<PathBuf>,
}

/// p50 and p95 of a sample of durations, in milliseconds.
pub fn percentiles(mut xs: Vec<Duration>) -> (f64, f64) {
    if xs.is_empty() {
        return (0.0, 0.0);
    }
    xs.sort();
    let at = |q: f64| {
        let i = ((q * xs.len() as f64).ceil() as usize).clamp(1, xs.len()) - 1;
        xs[i].as_secs_f64() * 1000.0
    };
    (at(0.50), at(0.95))
}

const SCENARIOS: [(&str, Level); 3] = [
    ("s01-meetup.json", Level::Beginner),
    ("s02-conference.json", Level::Intermediate),
    ("s03-large-event.json", Level::Advanced),
];

fn brief(dir: &Path, name: &str) -> anyhow::Result<EventBrief> {
    let path = dir.join(name);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| anyhow::anyhow!("cannot read {} (--examples): {e}", path.display()))?;
    eods_domain::intake::parse_brief(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// Runs the planning steps once on a fresh blackboard, returning each step's duration.
fn plan_once(
    tools: &Tools,
    brief: &EventBrief,
    level: Level,
) -> Result<Vec<(Step, Duration)>, AgentError> {
    let directives = Directives {
        seed: 42,
        ..Directives::default()
    };
    let mut bb = Blackboard::new();
    bb.insert(Current {
        revision: 1,
        created_by: "user:bench".into(),
        derived_from: vec![],
        payload: brief.clone().into_payload(),
    });
    let mut times = Vec::new();
    for step in Step::PLANNING {
        let started = Instant::now();
        let data = eods_agents::sources::EventData::of(tools, &bb, None);
        let out = run_step(
            step,
            StepInput {
                blackboard: &bb,
                level,
                tools,
                directives: &directives,
                data: &data,
            },
        )?;
        times.push((step, started.elapsed()));
        eods_agents::record(&mut bb, step, out.artifacts);
    }
    Ok(times)
}

/// Runs every section and returns the report as text.
pub async fn run(o: &BenchOptions, tools: Arc<Tools>) -> anyhow::Result<String> {
    let mut r = String::new();
    let runs = o.runs.max(1);
    writeln!(
        r,
        "# EODS benchmark\n\nmachine: {} logical CPU(s), {} {}; {} run(s) per figure; times in ms (p50 / p95)\n",
        std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
        std::env::consts::OS,
        std::env::consts::ARCH,
        runs
    )?;

    writeln!(r, "## Agent steps per level\n")?;
    writeln!(
        r,
        "| scenario | level | intake | plan | research | budget | logistics | all five |"
    )?;
    writeln!(r, "|---|---|---|---|---|---|---|---|")?;
    for (name, _) in SCENARIOS {
        let b = brief(&o.examples, name)?;
        for level in [Level::Beginner, Level::Intermediate, Level::Advanced] {
            let mut per_step: Vec<Vec<Duration>> = vec![Vec::new(); Step::PLANNING.len()];
            let mut whole = Vec::new();
            let mut blocked = None;
            for _ in 0..runs {
                match plan_once(&tools, &b, level) {
                    Ok(times) => {
                        whole.push(times.iter().map(|(_, d)| *d).sum());
                        for (i, (_, d)) in times.into_iter().enumerate() {
                            per_step[i].push(d);
                        }
                    }
                    Err(e) => {
                        blocked = Some(e.to_string());
                        break;
                    }
                }
            }
            let cells: Vec<String> = per_step
                .into_iter()
                .chain(std::iter::once(whole))
                .map(|xs| {
                    let (p50, p95) = percentiles(xs);
                    format!("{p50:.3} / {p95:.3}")
                })
                .collect();
            match blocked {
                Some(e) => writeln!(r, "| {name} | {level} | blocked: {e} |||||")?,
                None => writeln!(r, "| {name} | {level} | {} |", cells.join(" | "))?,
            }
        }
    }

    writeln!(
        r,
        "\n## Whole lifecycle through the engine (Initiate → Postmortem, approvals auto)\n"
    )?;
    let tmp = std::env::temp_dir().join(format!("eods-bench-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&tmp)?;
    let url = o
        .database
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", tmp.join("bench.db").display()));
    let store = Store::connect(&url).await?;
    writeln!(r, "database: {} ({url})\n", store.backend())?;
    writeln!(r, "| scenario | level | lifecycle p50 / p95 | state |")?;
    writeln!(r, "|---|---|---|---|")?;
    let engine = Engine::new(store, tools.clone()).with_clock(crate::cli::clock());
    for (name, level) in SCENARIOS {
        let text = std::fs::read_to_string(o.examples.join(name))?;
        let value: serde_json::Value = serde_json::from_str(&text)?;
        let mut times = Vec::new();
        let mut state = String::new();
        for _ in 0..runs {
            let options = RunOptions {
                level: Some(level),
                submitted_by: "user:bench".into(),
                ..RunOptions::default()
            };
            let started = Instant::now();
            let id = engine.submit(value.clone(), &options).await?;
            let mut approver = AutoApprover {
                user: "user:bench".into(),
            };
            let s = engine.run(id, Some(&mut approver), &mut Quiet).await?;
            times.push(started.elapsed());
            state = format!("{} ({})", s.state, s.run_status);
        }
        let (p50, p95) = percentiles(times);
        writeln!(r, "| {name} | {level} | {p50:.1} / {p95:.1} | {state} |")?;
    }
    let _ = std::fs::remove_dir_all(&tmp);

    if let Some(path) = &o.frab {
        writeln!(r, "\n## A real program: import and re-schedule\n")?;
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read {} (--frab): {e}", path.display()))?;
        let (mut parse, mut solve) = (Vec::new(), Vec::new());
        let mut line = String::new();
        for _ in 0..runs {
            let started = Instant::now();
            let program = eods_formats::frab::parse(&text, None)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            let findings = eods_formats::frab::check(&program);
            parse.push(started.elapsed());
            let shared: Vec<String> = findings
                .shared_person_ids
                .iter()
                .map(|(id, _)| id.clone())
                .collect();
            let published = program.to_schedule(&shared);
            let started = Instant::now();
            let s = crate::cli::reschedule(&program, published)?;
            solve.push(started.elapsed());
            line = format!(
                "{} sessions, {} rooms, {} day(s)",
                s.sessions.len(),
                s.rooms.len(),
                program.days.len()
            );
        }
        let (a50, a95) = percentiles(parse);
        let (b50, b95) = percentiles(solve);
        writeln!(
            r,
            "{}: {line}\n\n| import + check | re-schedule |\n|---|---|\n| {a50:.1} / {a95:.1} | {b50:.1} / {b95:.1} |",
            path.display()
        )?;
    }
    if let Some(dir) = &o.scheduling {
        instances(&mut r, dir, runs)?;
    }
    Ok(r)
}

/// Solves every instance of a directory for the objective it is known for (efficiency and
/// equity without a reference assignment, fewest changes with one).
fn instances(r: &mut String, dir: &Path, runs: usize) -> anyhow::Result<()> {
    use eods_solver::instance::{Instance, Objective};
    writeln!(
        r,
        "\n## Scheduling instances ({})\n\n| instance | events × slots × rooms | objective | efficiency | equity | changes | lower bound | proven | nodes | ms p50 / p95 |\n|---|---|---|---|---|---|---|---|---|---|",
        dir.display()
    )?;
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| anyhow::anyhow!("--scheduling {}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    for path in files {
        let inst = Instance::load(&path)?;
        let objectives: &[Objective] = if inst.reference.iter().any(Option::is_some) {
            &[Objective::Changes]
        } else {
            &[Objective::Efficiency, Objective::Equity]
        };
        for &objective in objectives {
            let mut times = Vec::new();
            let mut last = None;
            for _ in 0..runs {
                let started = Instant::now();
                let s = inst.solve(objective, &eods_solver::Limits::default());
                times.push(started.elapsed());
                last = Some(s);
            }
            let (p50, p95) = percentiles(times);
            let size = format!(
                "{} × {} × {}",
                inst.problem.sessions.len(),
                inst.problem.slots.len(),
                inst.room_ids.len()
            );
            match last {
                Some(Ok(s)) => {
                    let v = inst.evaluate(&s.assignment);
                    let broken = inst.check(&s.assignment).len();
                    writeln!(
                        r,
                        "| {} | {size} | {} | {} | {} | {} | {} | {}{} | {} | {p50:.2} / {p95:.2} |",
                        inst.name,
                        objective.as_str(),
                        v.efficiency,
                        v.equity,
                        v.changes,
                        s.lower_bound,
                        if s.proven_optimal { "optimal" } else { "gap" },
                        if broken == 0 {
                            String::new()
                        } else {
                            format!(", {broken} violations")
                        },
                        s.nodes
                    )?;
                }
                Some(Err(e)) => writeln!(
                    r,
                    "| {} | {size} | {} | {e} |||||||",
                    inst.name,
                    objective.as_str()
                )?,
                None => {}
            }
        }
    }
    Ok(())
}
