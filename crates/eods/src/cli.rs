//! Subcommands: `plan`, `quote`, `resume`, `export`, `validate`, `schema`, `import`, `instruction-sets`,
//! `bench`, `fx`, `migrate`.

use crate::approve::{AutoApprover, PromptApprover};
use crate::export;
use anyhow::anyhow;
use clap::{Parser, Subcommand, ValueEnum};
use eods_agents::Tools;
use eods_domain::artifact::{ArtifactType, Envelope};
use eods_domain::blackboard::{Blackboard, Current};
use eods_domain::catalog::logistics::Injection;
use eods_domain::catalog::planning::TaskStatus;
use eods_domain::ids::EventId;
use eods_domain::instruction::Level;
use eods_domain::lifecycle::{LifecycleState, RunStatus};
use eods_domain::schema::{envelope_schema, validate_document};
use eods_domain::validate::validate_references;
use eods_engine::{Approver, Engine, EngineError, Hooks, Progress, ProgressEvent, RunOptions};
use eods_store::Store;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

/// Writes a line to standard output. When the reader has gone away (`eods … | head`), the process
/// ends quietly with the shell's SIGPIPE status instead of panicking.
macro_rules! out {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        if writeln!(std::io::stdout().lock(), $($t)*).is_err() {
            std::process::exit(141);
        }
    }};
}

/// EODS, the Event Orchestration System: plans and runs events end to end.
#[derive(Debug, Parser)]
#[command(name = "eods", version, about)]
struct Cli {
    /// Run as of this instant, not the wall clock's: an RFC 3339 date-time or a date (noon UTC).
    /// Time still advances from it. For reproducing a run as of a day, and for tests whose
    /// briefs are dated.
    #[arg(long, global = true, env = "EODS_NOW", value_name = "INSTANT", value_parser = parse_now)]
    now: Option<chrono::DateTime<chrono::Utc>>,
    #[command(subcommand)]
    command: Command,
}

/// `--cost`: an amount of 0 or more.
fn parse_cost(s: &str) -> Result<rust_decimal::Decimal, String> {
    match eods_domain::progress::parse_cost(s) {
        Ok(Some(d)) => Ok(d),
        Ok(None) => Err("give an amount such as 1200.50".into()),
        Err(e) => Err(e.to_string()),
    }
}

fn parse_now(s: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    eods_engine::parse_instant(s).map_err(|e| format!("EODS_NOW: {e}"))
}

/// The process's clock: the wall clock, or the one `--now`/`EODS_NOW` starts.
static CLOCK: std::sync::OnceLock<Arc<dyn eods_engine::Clock>> = std::sync::OnceLock::new();

/// The clock everything in this process reads.
pub(crate) fn clock() -> Arc<dyn eods_engine::Clock> {
    CLOCK
        .get_or_init(|| Arc::new(eods_engine::SystemClock))
        .clone()
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ApproveMode {
    /// Approve every request as the --user, recorded in the audit trail.
    Auto,
    /// Ask on the terminal: approve, reject or request changes, with a comment.
    Prompt,
}

#[derive(Debug, clap::Args)]
struct DbArg {
    /// Database URL: sqlite://PATH (created on first use) or postgres://USER@HOST/DB.
    #[arg(long, env = "EODS_DATABASE_URL", default_value = "sqlite://eods.db")]
    database: String,
}

/// The key of API token hashes.
#[derive(Debug, clap::Args)]
struct TokenKeyArg {
    /// 64 hex digits (32 bytes, e.g. `openssl rand -hex 32`) keying the HMAC of API token
    /// secrets, the same for `serve` and `token create`; unset: a random key stored in the
    /// database on first use. Changing it invalidates the tokens created under the old one.
    #[arg(long, env = "EODS_TOKEN_KEY", hide_env_values = true, value_name = "HEX", value_parser = parse_token_key)]
    token_key: Option<eods_server::auth::TokenKey>,
}

fn parse_token_key(s: &str) -> Result<eods_server::auth::TokenKey, String> {
    eods_server::auth::TokenKey::from_hex(s).map_err(|e| format!("EODS_TOKEN_KEY: {e}"))
}

#[derive(Debug, clap::Args)]
struct InstructionsArg {
    /// Directory of instruction-set files (<agent>.<level>.json) that replace the bundled ones.
    #[arg(long, env = "EODS_INSTRUCTIONS_DIR")]
    instructions: Option<PathBuf>,
    /// The installation's own catalog: a directory with venues.csv / venues.json and
    /// rate_cards.csv that every event may use (see README, "Your own venues and suppliers").
    #[arg(long, env = "EODS_CATALOG_DIR")]
    catalog: Option<PathBuf>,
    /// An Overpass API endpoint (OpenStreetMap) asked for venues in cities no other source
    /// knows well enough; off unless set.
    #[arg(long, env = "EODS_OVERPASS_URL")]
    overpass_url: Option<String>,
}

#[derive(Debug, Subcommand)]
enum InstructionCommand {
    /// List the instruction sets in force: agent, level, version, hash and source.
    List {
        #[command(flatten)]
        dir: InstructionsArg,
    },
    /// Print one instruction set as loaded.
    Show {
        /// event_planner, venue_researcher, budget_analyst or logistics_coordinator
        agent: String,
        #[arg(value_parser = parse_level)]
        level: Level,
        #[command(flatten)]
        dir: InstructionsArg,
    },
    /// Print the JSON Schema instruction-set files must satisfy.
    Schema,
    /// Check instruction-set files (named <agent>.<level>.json).
    Validate {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "EODS_BIND", default_value = "127.0.0.1:8080")]
    bind: std::net::SocketAddr,
    /// Database URL (else EODS_DATABASE_URL, else DATABASE_URL, else sqlite://eods.db).
    #[arg(long, env = "EODS_DATABASE_URL")]
    database: Option<String>,
    /// This instance's id (names its leases; default: pid and a random suffix).
    #[arg(long, env = "EODS_INSTANCE_ID")]
    instance_id: Option<String>,
    /// Seconds a lease outlives its holder's last commit; a crashed instance's runs are taken
    /// over after this.
    #[arg(long, env = "EODS_LEASE_SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    lease_seconds: u64,
    /// Events this instance runs at once.
    #[arg(long, env = "EODS_WORKERS", default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=256))]
    workers: u32,
    /// Serve the API only (no background runs on this instance).
    #[arg(long)]
    no_worker: bool,
    /// Take no writes: reads and pages work, every change answers 503 with Retry-After, and
    /// this instance runs nothing in the background (maintenance, a read replica). Signing in
    /// still opens a page session.
    #[arg(long, env = "EODS_READ_ONLY")]
    read_only: bool,
    /// Where notifications (approval requested / escalated) are POSTed as JSON.
    #[arg(long, env = "EODS_WEBHOOK_URL")]
    webhook_url: Option<String>,
    /// Delivery attempts before a notification is given up.
    #[arg(long, env = "EODS_WEBHOOK_ATTEMPTS", default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=100))]
    webhook_attempts: u32,
    /// The SMTP server that e-mails notifications (approval requested or escalated, task
    /// reminders, overdue tasks) to the stakeholders the brief names: smtp://host:port,
    /// smtps://host, smtp://user:password@host:587?tls=required. Unset: no e-mail.
    #[arg(long, env = "EODS_SMTP_URL")]
    smtp_url: Option<String>,
    /// The sender of those e-mails.
    #[arg(long, env = "EODS_MAIL_FROM", default_value = "EODS <eods@localhost>")]
    mail_from: String,
    /// E-mail attempts before a message is given up.
    #[arg(long, env = "EODS_MAIL_ATTEMPTS", default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=100))]
    mail_attempts: u32,
    /// The address people open this service at, for the links in e-mail (default: the bound
    /// address, http://HOST:PORT).
    #[arg(long, env = "EODS_PUBLIC_URL")]
    public_url: Option<String>,
    /// Cost impact (event currency) above which an edit re-opens the budget approval.
    #[arg(long, env = "EODS_APPROVAL_THRESHOLD", default_value = "1000")]
    approval_threshold: rust_decimal::Decimal,
    /// Log format on standard output.
    #[arg(long, env = "EODS_LOG_FORMAT", value_enum, default_value = "json")]
    log_format: LogFormat,
    #[command(flatten)]
    instructions: InstructionsArg,
    #[command(flatten)]
    token_key: TokenKeyArg,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LogFormat {
    /// One JSON object per line.
    Json,
    /// Human-readable lines.
    Text,
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Create a token and print it (the only time it is shown; only its hash is stored).
    Create {
        /// admin, planner, approver or viewer.
        #[arg(long, value_parser = parse_role)]
        role: eods_domain::access::Role,
        /// Also allow reading vendor contract terms and negotiation notes.
        #[arg(long)]
        contracts: bool,
        /// Who the token belongs to, recorded as user:<NAME> (default: the role).
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        db: DbArg,
        #[command(flatten)]
        token_key: TokenKeyArg,
    },
    /// List tokens (id, name, role, contracts, created, revoked).
    List {
        #[command(flatten)]
        db: DbArg,
    },
    /// Revoke a token by its id (the 12 hex digits after `eods_`).
    Revoke {
        id: String,
        #[command(flatten)]
        db: DbArg,
    },
}

#[derive(Debug, Subcommand)]
enum ImportFormat {
    /// A frab/Pentabarf schedule XML (FOSDEM, CCC, DebConf, pretalx exports).
    Frab {
        file: PathBuf,
        /// IANA zone for files that name none (older frab dialects).
        #[arg(long)]
        timezone: Option<String>,
        /// Place every event again with the EODS scheduler (same rooms and days, no room or
        /// person double-booking).
        #[arg(long)]
        reschedule: bool,
        /// Write the (re-)scheduled program as frab XML to this file.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Plan a whole event from a brief: every lifecycle state and approvals, then (by default) a
    /// simulated Execute and postmortem as a rehearsal; with `--live` the event waits for its day.
    Plan {
        /// The brief (JSON): title, event_type, date_range, timezone, audience_size, location, budget, …
        brief: PathBuf,
        /// Instruction level; default from the audience (<50 beginner, <300 intermediate, else advanced).
        #[arg(long, value_parser = parse_level)]
        level: Option<Level>,
        #[arg(long, value_enum, default_value = "auto")]
        approve: ApproveMode,
        /// Write every artifact as DIR/<type>.json plus report.md and calendar.ics.
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        db: DbArg,
        /// Stop after Confirm and follow the real calendar instead of simulating: the event stays
        /// in the database, where `eods serve` begins Execute when it starts and runs the
        /// postmortem after it ends.
        #[arg(long)]
        live: bool,
        /// Seed of the Execute simulation.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Inject an incident during Execute (repeatable): vendor_cancellation, venue_unavailable, speaker_no_show, …
        #[arg(long = "inject", visible_alias = "incident", value_parser = parse_incident)]
        incidents: Vec<Injection>,
        /// Who submits and approves (recorded as user:<NAME>).
        #[arg(long, env = "USER", default_value = "cli")]
        user: String,
        /// Take the brief's program from a published frab/Pentabarf schedule XML (titles, tracks,
        /// durations and speakers; the Logistics Coordinator places the sessions again).
        #[arg(long)]
        program: Option<PathBuf>,
        /// Plan an event whose first day is already past (a record or a rehearsal).
        #[arg(long)]
        allow_past: bool,
        /// Your venue list, CSV or JSON (columns name, city, country, capacity, day_rate,
        /// currency, …): consulted before any other source.
        #[arg(long)]
        venues: Option<PathBuf>,
        /// Your rate cards, CSV (supplier, service, city, country, currency, item, unit, price, …).
        #[arg(long = "rate-cards")]
        rate_cards: Option<PathBuf>,
        /// Quotes already received, CSV (venue, capacity, day_rate, currency[, valid_until, notes]).
        #[arg(long)]
        quotes: Option<PathBuf>,
        #[command(flatten)]
        instructions: InstructionsArg,
    },
    /// Record a task's status in a live event (`eods plan --live` or the service): done (today, or
    /// `--on DATE`), in progress, not started, or blocked with `--reason`. Prints what is late,
    /// blocked and at risk (milestones, the event date, the critical path).
    Task {
        event_id: String,
        /// A task id of the task register, e.g. task-3 (see task_register.json or the event page).
        task_id: String,
        #[arg(long, value_parser = parse_task_status)]
        status: TaskStatus,
        /// With `--status done`: the day it was done (YYYY-MM-DD; default today).
        #[arg(long)]
        on: Option<chrono::NaiveDate>,
        /// Why the task is blocked (required with `--status blocked`), or a note.
        #[arg(long)]
        reason: Option<String>,
        /// What the task actually cost, in the event's currency (e.g. 1200.50); the
        /// postmortem's budget variance compares the recorded costs with the planned spend.
        #[arg(long, value_name = "AMOUNT", value_parser = parse_cost)]
        cost: Option<rust_decimal::Decimal>,
        #[command(flatten)]
        db: DbArg,
        #[arg(long, env = "USER", default_value = "cli")]
        user: String,
    },
    /// Add venue quotes (answers to requests for quote) to an event from a CSV file
    /// (venue,capacity,day_rate,currency[,valid_until,notes]); a run waiting for them continues
    /// with `eods resume`.
    Quote {
        event_id: String,
        /// The quotes CSV.
        file: PathBuf,
        #[command(flatten)]
        db: DbArg,
        #[arg(long, env = "USER", default_value = "cli")]
        user: String,
    },
    /// An event's message drafts (requests for quote, speaker and attendee announcements):
    /// show them, write them from the plan (`--write`; drafts people edited or approved are
    /// kept), or approve one for sending (`--approve DRAFT --revision N`, the revision you read).
    /// Only an approved draft with an e-mail address is sent (by `eods serve`'s mailer).
    Drafts {
        event_id: String,
        /// Write the drafts from the plan first.
        #[arg(long)]
        write: bool,
        /// Approve this draft (its id, such as `rfq-lead-1` or `attendees`) for sending.
        #[arg(long, value_name = "DRAFT", requires = "revision")]
        approve: Option<String>,
        /// The message_drafts revision you read: what you approve.
        #[arg(long, value_name = "N", requires = "approve")]
        revision: Option<u32>,
        /// Print the drafts as one JSON object.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        db: DbArg,
        #[arg(long, env = "USER", default_value = "cli")]
        user: String,
        #[command(flatten)]
        instructions: InstructionsArg,
    },
    /// Continue an interrupted run.
    Resume {
        event_id: String,
        #[command(flatten)]
        db: DbArg,
        /// How to answer approvals; default: the mode the run started with.
        #[arg(long, value_enum)]
        approve: Option<ApproveMode>,
        #[arg(long)]
        out: Option<PathBuf>,
        #[arg(long, env = "USER", default_value = "cli")]
        user: String,
        #[command(flatten)]
        instructions: InstructionsArg,
    },
    /// Write every artifact of an event to a directory.
    Export {
        event_id: String,
        #[command(flatten)]
        db: DbArg,
        #[arg(long)]
        out: PathBuf,
    },
    /// Re-run an event offline from its record (brief, people's inputs, decisions, model
    /// answers, gathered venues) and check that every artifact revision comes out byte for byte
    /// as recorded; exit 1 with the first difference otherwise.
    Replay {
        event_id: String,
        #[command(flatten)]
        db: DbArg,
        /// Print the report as one JSON object.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        instructions: InstructionsArg,
    },
    /// Validate artifact files (one envelope, or an array of envelopes, per file), or with
    /// `--brief` brief files without planning (how each will be read: days, hours, constraints).
    Validate {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The files are briefs, not artifacts.
        #[arg(long)]
        brief: bool,
        /// With `--brief`: accept a brief whose first day is past.
        #[arg(long, requires = "brief")]
        allow_past: bool,
        #[command(flatten)]
        instructions: InstructionsArg,
    },
    /// Print the JSON Schema of one artifact type, of all of them, or (`brief`) of a brief file.
    Schema {
        /// An artifact type, or `brief` for the brief file itself.
        #[arg(value_parser = parse_schema_name)]
        artifact_type: Option<SchemaName>,
    },
    /// Read a published program and report what is wrong with it (duplicate ids, room overlaps,
    /// person clashes).
    Import {
        #[command(subcommand)]
        format: ImportFormat,
    },
    /// List, show or validate the agents' instruction sets.
    #[command(name = "instruction-sets", subcommand)]
    InstructionSets(InstructionCommand),
    /// Time every agent step per level on S-01..S-03, whole lifecycles through the engine, and
    /// the schedulers on real programs; prints a Markdown report (p50 / p95).
    Bench {
        /// Repetitions of each measurement.
        #[arg(long, default_value_t = 20)]
        runs: usize,
        /// Directory with s01-meetup.json, s02-conference.json and s03-large-event.json.
        #[arg(long, default_value = "examples")]
        examples: PathBuf,
        /// Database for the lifecycle runs (default: a temporary SQLite file).
        #[arg(long)]
        database: Option<String>,
        /// A frab XML program to import and re-schedule, e.g. ../shared/data/frab/fosdem-2025.xml.
        #[arg(long)]
        frab: Option<PathBuf>,
        /// A directory of conference-scheduling instances to solve, e.g. ../shared/data/scheduling.
        #[arg(long)]
        scheduling: Option<PathBuf>,
        /// Also write the report to this file.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Measure durable throughput instead: this many S-01 lifecycles through the engine and
        /// the database (`--database`, default a temporary SQLite file), approvals answered in
        /// process. Reports events/s, p50/p95 per event and transactions per event.
        #[arg(long)]
        events: Option<usize>,
        /// Lifecycles in flight with `--events`.
        #[arg(long, default_value_t = 1)]
        concurrency: usize,
        /// The brief of the `--events` lifecycles (default: S-01 of `--examples`).
        #[arg(long)]
        brief: Option<PathBuf>,
        /// Database connections with `--events` on PostgreSQL (default: the store's pool of 8).
        #[arg(long)]
        connections: Option<u32>,
        /// With `--events`: print one JSON object instead of the table.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        instructions: InstructionsArg,
    },
    /// Run the HTTP service: the API under /api/v1, /openapi.json, /docs, /healthz, /readyz,
    /// /metrics, a worker that runs events (shared with other instances through leases) and
    /// webhook delivery.
    Serve(ServeArgs),
    /// Create, list or revoke API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Import exchange rates (the ECB's euro reference rates) or list those runs convert with.
    #[command(subcommand)]
    Fx(crate::fx::FxCommand),
    /// Import places that can host events from an OpenStreetMap extract, or list a city's.
    #[command(subcommand)]
    Venues(crate::venues::VenuesCommand),
    /// Check the audit chain: every log run and artifact revision as it was committed.
    #[command(subcommand)]
    Audit(crate::audit::AuditCommand),
    /// Purge events past retention (dry run first), place and release legal holds, list both.
    #[command(subcommand)]
    Retention(crate::retention::RetentionCommand),
    /// Master keys of the encryption at rest: generate one, show which open the database's data
    /// keys, re-wrap them under a new one.
    #[command(subcommand)]
    Keys(crate::keys::KeysCommand),
    /// Create or upgrade the database schema.
    Migrate {
        #[command(flatten)]
        db: DbArg,
    },
}

fn parse_role(s: &str) -> Result<eods_domain::access::Role, String> {
    eods_domain::access::Role::parse(s)
        .ok_or_else(|| format!("unknown role `{s}`; use admin, planner, approver or viewer"))
}

fn parse_level(s: &str) -> Result<Level, String> {
    Level::parse(s)
}

fn parse_task_status(s: &str) -> Result<TaskStatus, String> {
    match s.replace(['-', ' '], "_").as_str() {
        "not_started" => Ok(TaskStatus::NotStarted),
        "in_progress" => Ok(TaskStatus::InProgress),
        "done" => Ok(TaskStatus::Done),
        "blocked" => Ok(TaskStatus::Blocked),
        _ => Err(format!(
            "`{s}` is not a task status: use done, in_progress, not_started or blocked"
        )),
    }
}

fn parse_incident(s: &str) -> Result<Injection, String> {
    Injection::parse(s)
}

/// What `eods schema` prints.
#[derive(Debug, Clone, Copy)]
enum SchemaName {
    /// The brief file as organisers write it.
    Brief,
    /// A stored artifact envelope.
    Artifact(ArtifactType),
}

fn parse_schema_name(s: &str) -> Result<SchemaName, String> {
    if s == "brief" {
        return Ok(SchemaName::Brief);
    }
    ArtifactType::parse(s)
        .map(SchemaName::Artifact)
        .map_err(|e| format!("{e} (or `brief` for the brief file)"))
}

/// A failure with its exit code.
struct Exit(u8, String);

impl From<anyhow::Error> for Exit {
    fn from(e: anyhow::Error) -> Self {
        Exit(1, format!("error: {e:#}"))
    }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(t) = cli.now {
        let _ = CLOCK.set(Arc::new(eods_engine::ShiftedClock::starting_at(t)));
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    if !matches!(cli.command, Command::Serve(_)) {
        // Warnings of EODS's own crates (a key file created, a database that refuses writes)
        // reach the terminal; `serve` sets up its own logging.
        let _ = tracing_subscriber::fmt()
            .with_writer(std::io::stderr)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .without_time()
            .with_target(false)
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_env("EODS_LOG")
                    .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,sqlx=off")),
            )
            .try_init();
    }
    match runtime.block_on(dispatch(cli.command)) {
        Ok(code) => code,
        Err(Exit(code, message)) => {
            eprintln!("{message}");
            ExitCode::from(code)
        }
    }
}

/// Runs one subcommand.
///
/// Long because: one arm per subcommand, each a few lines that check its arguments and call the
/// module that does the work; split, it would only move the match.
async fn dispatch(command: Command) -> Result<ExitCode, Exit> {
    match command {
        Command::Plan {
            brief,
            level,
            approve,
            out,
            db,
            live,
            seed,
            incidents,
            user,
            program,
            allow_past,
            venues,
            rate_cards,
            quotes,
            instructions,
        } => {
            let text = std::fs::read_to_string(&brief).map_err(|e| {
                Exit(
                    2,
                    format!("error: cannot read brief {}: {e}", brief.display()),
                )
            })?;
            let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
                Exit(
                    2,
                    format!(
                        "error: {}: invalid JSON at line {}, column {}: {e}",
                        brief.display(),
                        e.line(),
                        e.column()
                    ),
                )
            })?;
            let mut value = value;
            if let Some(path) = program {
                let items = program_items(&path)?;
                out!("program: {} sessions from {}", items.len(), path.display());
                if let Some(o) = value.as_object_mut() {
                    o.insert("program".into(), serde_json::Value::Array(items));
                }
            }
            // The organiser's files are read first: a bad row creates nothing.
            let supply = organiser_files(
                venues.as_deref(),
                rate_cards.as_deref(),
                quotes.as_deref(),
                &format!("user:{user}"),
            )?;
            let engine = engine(&db.database, &instructions).await?;
            let options = RunOptions {
                level,
                seed,
                incidents,
                submitted_by: format!("user:{user}"),
                approve: match approve {
                    ApproveMode::Auto => "auto".into(),
                    ApproveMode::Prompt => "prompt".into(),
                },
                allow_past,
                mode: if live {
                    eods_domain::run::RunMode::Live
                } else {
                    eods_domain::run::RunMode::Simulate
                },
                ..RunOptions::default()
            };
            let id = match engine.submit(value, &options).await {
                Ok(id) => id,
                Err(EngineError::NeedsInput { event_id, missing }) => {
                    return Err(Exit(
                        2,
                        format!(
                            "event {event_id}: run status needs_input\n{}",
                            eods_domain::intake::BriefError::Incomplete { missing }
                        ),
                    ));
                }
                Err(EngineError::InvalidBrief(e)) => {
                    return Err(Exit(2, format!("error: {}: {e}", brief.display())));
                }
                Err(e) => return Err(anyhow!(e).into()),
            };
            if !supply.is_empty() {
                let got = engine
                    .supply(id, supply, &format!("user:{user}"), "given to eods plan")
                    .await
                    .map_err(|e| anyhow!(e))?;
                out!(
                    "organiser data: {} venue(s), {} rate-card row(s), {} quote(s)",
                    got.data.venues.len(),
                    got.data.rate_cards.len(),
                    got.data.quotes.len()
                );
            }
            out!(
                "event {id}: planning \"{}\"",
                engine
                    .store()
                    .event(id)
                    .await
                    .map_err(anyhow::Error::from)?
                    .map(|e| e.title)
                    .unwrap_or_default()
            );
            drive(&engine, id, approve, &user, out.as_deref(), &db.database).await
        }
        Command::Resume {
            event_id,
            db,
            approve,
            out,
            user,
            instructions,
        } => {
            let id = parse_event(&event_id)?;
            let engine = engine(&db.database, &instructions).await?;
            let row = engine
                .store()
                .event(id)
                .await
                .map_err(anyhow::Error::from)?
                .ok_or_else(|| Exit(2, format!("error: no event {id} in {}", db.database)))?;
            let stored: RunOptions = row.options;
            let mode = approve.unwrap_or(if stored.approve == "prompt" {
                ApproveMode::Prompt
            } else {
                ApproveMode::Auto
            });
            out!("event {id}: resuming in {} ({})", row.state, row.run_status);
            drive(&engine, id, mode, &user, out.as_deref(), &db.database).await
        }
        Command::Task {
            event_id,
            task_id,
            status,
            on,
            reason,
            cost,
            db,
            user,
        } => {
            let id = parse_event(&event_id)?;
            let store = Store::connect(&db.database)
                .await
                .map_err(anyhow::Error::from)?;
            let engine = Engine::new(store, Arc::new(Tools::bundled().map_err(|e| anyhow!(e))?))
                .with_clock(clock());
            let update = eods_domain::progress::TaskUpdate {
                status,
                completed_on: on,
                note: reason,
                actual_cost: cost,
            };
            let r = match engine
                .record_task(id, &task_id, update, &format!("user:{user}"))
                .await
            {
                Ok(r) => r,
                Err(EngineError::NotFound(_)) => {
                    return Err(Exit(2, format!("error: no event {id} in {}", db.database)));
                }
                Err(EngineError::Task(e)) => {
                    let flag = match &e {
                        eods_engine::TaskError::Update(u) => match u.pointer() {
                            "/reason" => " (--reason)",
                            "/actual_cost" => " (--cost)",
                            _ => " (--on)",
                        },
                        _ => "",
                    };
                    return Err(Exit(2, format!("error: {e}{flag}")));
                }
                Err(e) => return Err(anyhow!(e).into()),
            };
            out!(
                "event {id}: {} (runbook revision {})",
                r.change,
                r.envelope.revision
            );
            if !r.at_risk.critical_path.is_empty() {
                let path: Vec<&str> = r.at_risk.critical_path.iter().map(|t| t.as_str()).collect();
                out!("critical path now: {}", path.join(" → "));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Quote {
            event_id,
            file,
            db,
            user,
        } => {
            let id = parse_event(&event_id)?;
            let by = format!("user:{user}");
            let supply = organiser_files(None, None, Some(&file), &by)?;
            if supply.is_empty() {
                return Err(Exit(2, format!("error: {} holds no quote", file.display())));
            }
            let store = Store::connect(&db.database)
                .await
                .map_err(anyhow::Error::from)?;
            let engine = Engine::new(store, Arc::new(Tools::bundled().map_err(|e| anyhow!(e))?))
                .with_clock(clock());
            let got = match engine.supply(id, supply, &by, "eods quote").await {
                Ok(g) => g,
                Err(EngineError::NotFound(_)) => {
                    return Err(Exit(2, format!("error: no event {id} in {}", db.database)));
                }
                Err(EngineError::Supply(e)) => return Err(Exit(2, format!("error: {e}"))),
                Err(e) => return Err(anyhow!(e).into()),
            };
            out!(
                "event {id}: {} quote(s) stored (organiser_data revision {}); run status {}",
                got.data.quotes.len(),
                got.envelope.revision,
                got.run_status
            );
            if got.requeued {
                out!("the run continues with: eods resume {id}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Drafts {
            event_id,
            write,
            approve,
            revision,
            json,
            db,
            user,
            instructions,
        } => {
            let id = parse_event(&event_id)?;
            let engine = engine(&db.database, &instructions).await?;
            let asked = crate::drafts::Asked {
                write,
                approve: approve.zip(revision),
                json,
            };
            let text = crate::drafts::run(&engine, id, &asked, &format!("user:{user}"))
                .await
                .map_err(|(code, m)| Exit(code, m))?;
            out!("{text}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Export { event_id, db, out } => {
            let id = parse_event(&event_id)?;
            let store = Store::connect(&db.database)
                .await
                .map_err(anyhow::Error::from)?;
            if store
                .event(id)
                .await
                .map_err(anyhow::Error::from)?
                .is_none()
            {
                return Err(Exit(2, format!("error: no event {id} in {}", db.database)));
            }
            let n = export::write_dir(&store, id, &out).await?;
            out!("wrote {n} files to {}", out.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Replay {
            event_id,
            db,
            json,
            instructions,
        } => {
            let id = parse_event(&event_id)?;
            let store = Store::connect(&db.database)
                .await
                .map_err(anyhow::Error::from)?;
            // The rates the run planned with: the bundled snapshot and what was imported.
            let imported = crate::fx::imported_rates(&store)
                .await
                .map_err(|e| Exit(1, format!("error: --database: exchange rates: {e}")))?;
            let tools = tools(&instructions)?.with_imported_rates(&imported);
            let report = match crate::replay::run(&store, id, tools).await {
                Ok(r) => r,
                Err(crate::replay::ReplayFailure::Input(m)) => return Err(Exit(2, m)),
                Err(crate::replay::ReplayFailure::Other(m)) => return Err(Exit(1, m)),
            };
            if json {
                out!(
                    "{}",
                    serde_json::to_string(&report).map_err(anyhow::Error::from)?
                );
            } else {
                for l in crate::replay::lines(&report) {
                    out!("{l}");
                }
            }
            if report.identical() {
                Ok(ExitCode::SUCCESS)
            } else {
                Ok(ExitCode::from(1))
            }
        }
        Command::Validate {
            files,
            brief: true,
            allow_past,
            instructions,
        } => {
            let tools = Tools::load(instructions.instructions.as_deref())
                .map_err(|e| Exit(2, format!("error: {e}")))?;
            let mut invalid = 0;
            for f in &files {
                let checked = crate::brief::check_file(f, allow_past, clock().now(), &tools);
                invalid += usize::from(!checked.valid);
                out!("{}", checked.report.trim_end());
            }
            if invalid > 0 {
                return Err(Exit(
                    2,
                    format!("{invalid} of {} brief(s) invalid", files.len()),
                ));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Validate { files, .. } => validate(&files),
        Command::Schema { artifact_type } => {
            let value = match artifact_type {
                Some(SchemaName::Brief) => eods_domain::intake::brief_schema(),
                Some(SchemaName::Artifact(t)) => envelope_schema(t),
                None => serde_json::Value::Object(
                    ArtifactType::ALL
                        .iter()
                        .map(|t| (t.as_str().to_owned(), envelope_schema(*t)))
                        .collect(),
                ),
            };
            out!(
                "{}",
                serde_json::to_string_pretty(&value).map_err(anyhow::Error::from)?
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::InstructionSets(cmd) => instruction_sets(cmd),
        Command::Import {
            format:
                ImportFormat::Frab {
                    file,
                    timezone,
                    reschedule,
                    out,
                },
        } => import_frab(&file, timezone.as_deref(), reschedule, out.as_deref()),
        Command::Bench {
            runs,
            examples,
            database,
            frab,
            scheduling,
            out,
            events,
            concurrency,
            brief,
            connections,
            json,
            instructions,
        } => {
            let tools = Arc::new(tools(&instructions)?);
            if let Some(events) = events {
                if events == 0 || concurrency == 0 || connections == Some(0) {
                    return Err(Exit(
                        2,
                        "error: --events, --concurrency and --connections must be at least 1"
                            .into(),
                    ));
                }
                let options = crate::throughput::ThroughputOptions {
                    events,
                    concurrency,
                    database,
                    brief: brief.unwrap_or_else(|| examples.join("s01-meetup.json")),
                    connections,
                };
                let t = crate::throughput::run(&options, tools).await?;
                let report = if json {
                    serde_json::to_string(&t).map_err(|e| Exit(1, format!("error: {e}")))?
                } else {
                    crate::throughput::table(&t)
                };
                out!("{report}");
                if let Some(path) = out {
                    std::fs::write(&path, &report)
                        .map_err(|e| Exit(1, format!("error: --out {}: {e}", path.display())))?;
                }
                return Ok(ExitCode::SUCCESS);
            }
            let options = crate::bench::BenchOptions {
                runs,
                examples,
                database,
                frab,
                scheduling,
            };
            let report = crate::bench::run(&options, tools).await?;
            out!("{report}");
            if let Some(path) = out {
                std::fs::write(&path, &report)
                    .map_err(|e| Exit(1, format!("error: --out {}: {e}", path.display())))?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve(args) => serve(args).await,
        Command::Token(cmd) => token(cmd).await,
        Command::Fx(cmd) => match crate::fx::run(cmd, clock().now()).await {
            Ok(lines) => {
                for l in lines {
                    out!("{l}");
                }
                Ok(ExitCode::SUCCESS)
            }
            Err(crate::fx::FxFailure::Input(m)) => Err(Exit(2, m)),
            Err(crate::fx::FxFailure::Other(m)) => Err(Exit(1, m)),
        },
        Command::Venues(cmd) => match crate::venues::run(cmd, clock().now()).await {
            Ok(lines) => {
                for l in lines {
                    out!("{l}");
                }
                Ok(ExitCode::SUCCESS)
            }
            Err(crate::venues::VenuesFailure::Input(m)) => Err(Exit(2, m)),
            Err(crate::venues::VenuesFailure::Other(m)) => Err(Exit(1, m)),
        },
        Command::Audit(cmd) => match crate::audit::run(cmd).await {
            Ok(lines) => {
                for l in lines {
                    out!("{l}");
                }
                Ok(ExitCode::SUCCESS)
            }
            Err(crate::audit::AuditFailure::Broken(lines)) => {
                for l in lines {
                    out!("{l}");
                }
                Ok(ExitCode::from(1))
            }
            Err(crate::audit::AuditFailure::Input(m)) => Err(Exit(2, m)),
            Err(crate::audit::AuditFailure::Other(m)) => Err(Exit(1, m)),
        },
        Command::Retention(cmd) => match crate::retention::run(cmd, clock().now()).await {
            Ok(lines) => {
                for l in lines {
                    out!("{l}");
                }
                Ok(ExitCode::SUCCESS)
            }
            Err(crate::retention::RetentionFailure::Input(m)) => Err(Exit(2, m)),
            Err(crate::retention::RetentionFailure::Other(m)) => Err(Exit(1, m)),
        },
        Command::Keys(cmd) => match crate::keys::run(cmd).await {
            Ok((lines, ok)) => {
                for l in lines {
                    out!("{l}");
                }
                Ok(if ok {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(1)
                })
            }
            Err(m) => Err(Exit(1, m)),
        },
        Command::Migrate { db } => {
            let store = Store::connect(&db.database)
                .await
                .map_err(anyhow::Error::from)?;
            out!(
                "{} database at {} is up to date",
                store.backend(),
                db.database
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn parse_event(s: &str) -> Result<EventId, Exit> {
    s.parse().map_err(|_| {
        Exit(
            2,
            format!("error: EVENT_ID `{s}` is not a UUID (it is printed by `eods plan`)"),
        )
    })
}

/// Hooks for crash drills: `EODS_FAILPOINT=halt-after-commit:N` stops the process dead after
/// the transaction that stored the N-th committed step (it waits to be killed), so tests can
/// SIGKILL a run mid-way. A transaction may store several steps (`Engine::run` writes the steps
/// between two wait points together), so it halts at the first one that reaches N.
struct Failpoint(Option<u64>);

impl Hooks for Failpoint {
    fn after_commit(&self, seq: u64) {
        if let Some(n) = self.0
            && seq >= n
        {
            eprintln!(
                "failpoint: halted after commit {n} (the transaction stored steps up to {seq})"
            );
            loop {
                std::thread::park();
            }
        }
    }
}

fn tools(instructions: &InstructionsArg) -> Result<Tools, Exit> {
    let tools = Tools::load(instructions.instructions.as_deref())
        .map_err(|e| Exit(2, format!("error: --instructions: {e}")))?;
    let Some(dir) = &instructions.catalog else {
        return Ok(tools);
    };
    let catalog = eods_sources::files::load_catalog_dir(dir)
        .map_err(|e| Exit(2, format!("error: --catalog: {e}")))?;
    // Bad rows are reported and skipped; the good ones are used.
    for e in &catalog.errors {
        eprintln!("warning: --catalog: {e}");
    }
    Ok(tools.with_installation(eods_agents::Installation {
        venues: catalog.venues,
        rate_cards: catalog.rate_cards,
    }))
}

/// The external venue sources: the places imported into `store` from OpenStreetMap, then the
/// Overpass API when an endpoint is configured.
fn gatherer(
    store: &Store,
    instructions: &InstructionsArg,
) -> Result<Arc<dyn eods_engine::VenueGatherer>, Exit> {
    use eods_sources::chain::{Policy, Resilient, Role, SourceChain};
    let mut chain = SourceChain::new().with(
        Resilient::new(
            Box::new(eods_sources::osm::OsmPlacesSource::new(store.clone())),
            Policy {
                cache_ttl: std::time::Duration::ZERO,
                ..Policy::default()
            },
        ),
        Role::Primary,
    );
    if let Some(url) = instructions
        .overpass_url
        .as_deref()
        .filter(|u| !u.is_empty())
    {
        let source = eods_sources::overpass::OverpassSource::new(url)
            .map_err(|e| Exit(2, format!("error: --overpass-url: {e}")))?;
        chain = chain.with(
            Resilient::new(Box::new(source), Policy::default()),
            Role::Fallback,
        );
    }
    Ok(Arc::new(chain))
}

async fn engine(url: &str, instructions: &InstructionsArg) -> Result<Engine, Exit> {
    engine_with(url, instructions, eods_store::DEFAULT_PG_CONNECTIONS).await
}

/// [`engine`] on a pool of at most `pg_connections` PostgreSQL connections.
async fn engine_with(
    url: &str,
    instructions: &InstructionsArg,
    pg_connections: u32,
) -> Result<Engine, Exit> {
    let tools = tools(instructions)?;
    let store = Store::connect_with(url, pg_connections)
        .await
        .map_err(|e| Exit(1, format!("error: --database: {e}")))?;
    // Rates imported with `eods fx import` take precedence over the bundled snapshot.
    let imported = crate::fx::imported_rates(&store)
        .await
        .map_err(|e| Exit(1, format!("error: --database: exchange rates: {e}")))?;
    let tools = tools.with_imported_rates(&imported);
    let failpoint = std::env::var("EODS_FAILPOINT").ok().and_then(|v| {
        v.strip_prefix("halt-after-commit:")
            .and_then(|n| n.parse().ok())
    });
    let gatherer = gatherer(&store, instructions)?;
    let engine = Engine::new(store, Arc::new(tools))
        .with_clock(clock())
        .with_hooks(Arc::new(Failpoint(failpoint)))
        .with_gatherer(gatherer);
    // The optional language model (EODS_MODEL_*), for brief texts the recogniser does not read.
    let model = eods_model::ModelConfig::from_env().map_err(|e| Exit(2, format!("error: {e}")))?;
    Ok(match model {
        Some(config) => {
            let client =
                eods_model::ModelClient::new(config).map_err(|e| Exit(1, format!("error: {e}")))?;
            engine.with_model(Arc::new(client))
        }
        None => engine,
    })
}

/// Prints one line per committed step and transition, with timings.
struct Printer {
    started: Instant,
}

impl Progress for Printer {
    fn report(&mut self, event: ProgressEvent) {
        let t = self.started.elapsed().as_secs_f64() * 1000.0;
        match event {
            ProgressEvent::StepCommitted {
                state,
                step,
                summary,
                millis,
                applied,
            } => {
                out!(
                    "  [{t:>8.1} ms] {:<10} {:<11} {summary} ({millis} ms{})",
                    state.as_str(),
                    step.name(),
                    if applied { "" } else { ", already committed" }
                );
            }
            ProgressEvent::Advanced { from, to } => {
                out!("  [{t:>8.1} ms] {from} → {to}: gates passed")
            }
            ProgressEvent::ApprovalDecided { gate, decision, by } => out!(
                "  [{t:>8.1} ms] approval   {gate}: {} by {by}",
                decision.as_str()
            ),
            ProgressEvent::Stopped { status, detail } => out!(
                "  [{t:>8.1} ms] run {status}{}",
                detail.map(|d| format!(": {d}")).unwrap_or_default()
            ),
        }
    }
}

/// The organiser's files given to a command, parsed; every bad row of every file is listed
/// (with file, line, column and the fix) and refuses the command.
fn organiser_files(
    venues: Option<&Path>,
    rate_cards: Option<&Path>,
    quotes: Option<&Path>,
    by: &str,
) -> Result<eods_engine::Supply, Exit> {
    use eods_domain::catalog::sources::SourceKind;
    use eods_sources::files;
    let read = |p: &Path| {
        std::fs::read_to_string(p)
            .map_err(|e| Exit(2, format!("error: cannot read {}: {e}", p.display())))
    };
    let name = |p: &Path| {
        p.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| p.display().to_string())
    };
    let mut supply = eods_engine::Supply::default();
    let mut errors: Vec<String> = Vec::new();
    if let Some(p) = venues {
        let got = files::parse_venues(&read(p)?, &name(p), SourceKind::EventList);
        errors.extend(got.errors.iter().map(ToString::to_string));
        supply.venues = Some(got.records);
    }
    if let Some(p) = rate_cards {
        let got = files::parse_rate_cards_csv(&read(p)?, &name(p), SourceKind::EventList);
        errors.extend(got.errors.iter().map(ToString::to_string));
        supply.rate_cards = Some(got.records);
    }
    if let Some(p) = quotes {
        let got = files::parse_quotes_csv(&read(p)?, &name(p), by);
        errors.extend(got.errors.iter().map(ToString::to_string));
        supply.add_quotes = got.records;
    }
    if errors.is_empty() {
        Ok(supply)
    } else {
        Err(Exit(
            2,
            format!(
                "error: {} bad row(s); nothing was created:\n{}",
                errors.len(),
                errors.join("\n")
            ),
        ))
    }
}

async fn drive(
    engine: &Engine,
    id: EventId,
    mode: ApproveMode,
    user: &str,
    out: Option<&Path>,
    database: &str,
) -> Result<ExitCode, Exit> {
    let mut printer = Printer {
        started: Instant::now(),
    };
    let by = format!("user:{user}");
    let mut auto = AutoApprover { user: by.clone() };
    let mut prompt = PromptApprover {
        user: by,
        input: std::io::BufReader::new(std::io::stdin()),
        output: std::io::stdout(),
    };
    let approver: &mut (dyn Approver + Send) = match mode {
        ApproveMode::Auto => &mut auto,
        ApproveMode::Prompt => &mut prompt,
    };
    let summary = engine
        .run(id, Some(approver), &mut printer)
        .await
        .map_err(anyhow::Error::from)?;
    if let Some(dir) = out {
        let n = export::write_dir(engine.store(), id, dir).await?;
        out!("wrote {n} files to {}", dir.display());
    }
    out!(
        "{}",
        eods_engine::report::summary_text(engine.store(), id)
            .await
            .map_err(anyhow::Error::from)?
    );
    let done =
        summary.state == LifecycleState::Postmortem && summary.run_status == RunStatus::Completed;
    // A live event that waits for its day is where `eods plan --live` is meant to stop.
    let waiting = match engine
        .store()
        .event(id)
        .await
        .map_err(anyhow::Error::from)?
    {
        Some(e) if summary.run_status == RunStatus::Running => e.wake_at,
        _ => None,
    };
    if let Some(at) = waiting {
        out!(
            "next: the event waits in {database}; its next timer is at {} (a task reminder or escalation, or the event's start or end: see the detail above). Run `eods serve --database {database}` to carry it on, on the real clock: it reminds task owners before due dates, escalates overdue tasks, begins Execute when the event starts and runs the postmortem after it ends (`eods resume {id}` does the same when run after a timer). Record progress with `eods task {id} TASK_ID --status done`.",
            at.to_rfc3339()
        );
    }
    Ok(match summary.run_status {
        _ if done || waiting.is_some() => ExitCode::SUCCESS,
        RunStatus::NeedsInput => ExitCode::from(2),
        _ => ExitCode::from(1),
    })
}

/// Validates every document on its own (schema, then semantics), then the documents of each event
/// together: references between artifacts must resolve (a task's milestone, the critical path's
/// tasks, a scenario's risk, …). Only the newest revision of each type per event is cross-checked.
fn validate(files: &[PathBuf]) -> Result<ExitCode, Exit> {
    let mut problems: Vec<Vec<String>> = vec![Vec::new(); files.len()];
    let mut docs = 0usize;
    // (event, type) → (revision, file index, payload)
    let mut newest: BTreeMap<
        (EventId, ArtifactType),
        (u32, usize, eods_domain::artifact::Payload, Envelope),
    > = BTreeMap::new();
    for (fi, f) in files.iter().enumerate() {
        let value: serde_json::Value = match std::fs::read_to_string(f) {
            Err(e) => {
                problems[fi].push(format!("cannot read: {e}"));
                continue;
            }
            Ok(text) => match serde_json::from_str(&text) {
                Ok(v) => v,
                Err(e) => {
                    problems[fi].push(format!(
                        "invalid JSON at line {}, column {}: {e}",
                        e.line(),
                        e.column()
                    ));
                    continue;
                }
            },
        };
        let list: Vec<(String, serde_json::Value)> = match value {
            serde_json::Value::Array(items) => items
                .into_iter()
                .enumerate()
                .map(|(i, v)| (format!("/{i}"), v))
                .collect(),
            v => vec![(String::new(), v)],
        };
        for (prefix, doc) in list {
            docs += 1;
            match validate_document(&doc) {
                Err(violations) => {
                    problems[fi].extend(violations.into_iter().map(|v| {
                        let p = format!("{prefix}{}", v.pointer);
                        format!("{}: {}", if p.is_empty() { "/" } else { &p }, v.message)
                    }));
                }
                Ok((envelope, payload)) if envelope.artifact_type != ArtifactType::AgentTrace => {
                    let key = (envelope.event_id, envelope.artifact_type);
                    if newest
                        .get(&key)
                        .is_none_or(|(r, ..)| *r < envelope.revision)
                    {
                        newest.insert(key, (envelope.revision, fi, payload, envelope));
                    }
                }
                Ok(_) => {}
            }
        }
    }
    let events: std::collections::BTreeSet<EventId> = newest.keys().map(|(e, _)| *e).collect();
    for event in events {
        let mut bb = Blackboard::new();
        for ((e, _), (_, _, payload, envelope)) in &newest {
            if *e == event {
                bb.insert(Current {
                    revision: envelope.revision,
                    created_by: envelope.created_by.clone(),
                    derived_from: envelope.derived_from.clone(),
                    payload: payload.clone(),
                });
            }
        }
        for (t, v) in validate_references(&bb) {
            if let Some((_, fi, ..)) = newest.get(&(event, t)) {
                problems[*fi].push(format!("/payload{}: {}", v.pointer, v.message));
            }
        }
    }
    let mut bad = 0usize;
    for (f, list) in files.iter().zip(&problems) {
        if list.is_empty() {
            out!("{}: valid", f.display());
        } else {
            bad += 1;
            out!(
                "{}: invalid ({} violation{})",
                f.display(),
                list.len(),
                if list.len() == 1 { "" } else { "s" }
            );
            for p in list {
                out!("  {p}");
            }
        }
    }
    out!(
        "{} file(s), {docs} document(s): {} valid, {bad} invalid",
        files.len(),
        files.len() - bad
    );
    Ok(if bad == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

fn instruction_sets(cmd: InstructionCommand) -> Result<ExitCode, Exit> {
    match cmd {
        InstructionCommand::List { dir } => {
            let tools = tools(&dir)?;
            out!(
                "{:<22} {:<13} {:<8} {:<16} source",
                "agent",
                "level",
                "version",
                "sha256"
            );
            for set in tools.instructions.iter() {
                out!(
                    "{:<22} {:<13} {:<8} {:<16} {}",
                    set.agent.as_str(),
                    set.level.as_str(),
                    set.version,
                    &set.hash[..16],
                    set.source
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        InstructionCommand::Show { agent, level, dir } => {
            let tools = tools(&dir)?;
            let kind = eods_domain::instruction::AgentKind::ALL
                .into_iter()
                .find(|a| a.as_str() == agent)
                .ok_or_else(|| {
                    Exit(
                        2,
                        format!(
                            "error: unknown agent `{agent}`: allowed values are {}",
                            eods_domain::instruction::AgentKind::ALL
                                .map(|a| a.as_str())
                                .join(", ")
                        ),
                    )
                })?;
            let set = tools
                .instructions
                .get(kind, level)
                .map_err(|e| Exit(2, format!("error: {e}")))?;
            out!(
                "# {} {} {} sha256:{} ({})",
                set.agent.as_str(),
                set.level.as_str(),
                set.version,
                set.hash,
                set.source
            );
            let shown = serde_json::json!({
                "agent": set.agent, "level": set.level, "version": set.version, "objectives": set.objectives,
                "inputs": set.inputs, "outputs": set.outputs, "constraints": set.constraints,
                "parameters": set.parameters, "error_handling": set.error_handling,
            });
            out!(
                "{}",
                serde_json::to_string_pretty(&shown).map_err(anyhow::Error::from)?
            );
            Ok(ExitCode::SUCCESS)
        }
        InstructionCommand::Schema => {
            let schema = eods_agents::instructions::file_schema();
            out!(
                "{}",
                serde_json::to_string_pretty(&schema).map_err(anyhow::Error::from)?
            );
            Ok(ExitCode::SUCCESS)
        }
        InstructionCommand::Validate { files } => {
            let mut bad = 0;
            for f in &files {
                let shown = f.display().to_string();
                let name = f
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let result = eods_agents::instructions::parse_file_name(&name)
                    .map_err(|m| format!("{shown}: {m}"))
                    .and_then(|expected| {
                        let text =
                            std::fs::read_to_string(f).map_err(|e| format!("{shown}: {e}"))?;
                        eods_agents::instructions::parse_instruction_set(
                            &shown,
                            &text,
                            Some(expected),
                        )
                        .map_err(|e| e.to_string())
                    });
                match result {
                    Ok(set) => out!(
                        "{shown}: valid ({} {} {}, sha256 {})",
                        set.agent.as_str(),
                        set.level.as_str(),
                        set.version,
                        &set.hash[..16]
                    ),
                    Err(e) => {
                        bad += 1;
                        out!("{e}");
                    }
                }
            }
            Ok(if bad == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            })
        }
    }
}

fn import_frab(
    file: &Path,
    zone: Option<&str>,
    reschedule: bool,
    out: Option<&Path>,
) -> Result<ExitCode, Exit> {
    if let Some(z) = zone {
        z.parse::<chrono_tz::Tz>().map_err(|_| {
            Exit(
                2,
                format!(
                    "error: --timezone: `{z}` is not an IANA time zone name (e.g. Europe/Brussels)"
                ),
            )
        })?;
    }
    let text = std::fs::read_to_string(file)
        .map_err(|e| Exit(2, format!("error: cannot read {}: {e}", file.display())))?;
    let program = eods_formats::frab::parse(&text, zone)
        .map_err(|e| Exit(2, format!("error: {}: {e}", file.display())))?;
    let findings = eods_formats::frab::check(&program);
    out!(
        "{}: \"{}\", {} events in {} rooms over {} day(s), zone {}",
        file.display(),
        program.title,
        program.events.len(),
        program.rooms.len(),
        program.days.len(),
        program.time_zone.as_deref().unwrap_or("none")
    );
    if program.zone_assumed {
        out!(
            "  warning: the file names no time zone; local times were read as UTC (pass --timezone)"
        );
    }
    for s in &program.skipped {
        out!("  skipped: {s}");
    }
    out!("  duplicate event ids: {}", findings.duplicate_ids.len());
    for (id, n) in &findings.duplicate_ids {
        out!("    id {id} used {n} times");
    }
    out!("  duplicate guids: {}", findings.duplicate_guids.len());
    for (id, n) in &findings.duplicate_guids {
        out!("    guid {id} used {n} times");
    }
    // Thousands of events at one time make millions of pairs: the first few are shown.
    const SHOWN: usize = 50;
    let more = |all: usize| {
        if all > SHOWN {
            out!("    … and {} more", all - SHOWN);
        }
    };
    out!("  same-room overlaps: {}", findings.room_overlap_count);
    for (room, a, b) in findings.room_overlaps.iter().take(SHOWN) {
        out!("    {room}: events {a} and {b}");
    }
    more(findings.room_overlap_count);
    out!("  person clashes: {}", findings.person_clash_count);
    for (id, name, a, b) in findings.person_clashes.iter().take(SHOWN) {
        out!("    person {id} ({name}): events {a} and {b}");
    }
    more(findings.person_clash_count);
    for (id, n) in &findings.shared_person_ids {
        out!("  person id {id} is shared by {n} names: not checked for clashes");
    }
    let shared: Vec<String> = findings
        .shared_person_ids
        .iter()
        .map(|(id, _)| id.clone())
        .collect();
    let mut schedule = program.to_schedule(&shared);
    if reschedule {
        schedule = reschedule_program(&program, schedule)?;
        let (rooms, people) = conflicts(&schedule);
        out!(
            "  re-scheduled {} sessions in {} rooms over {} day(s): {rooms} room conflicts, {people} person conflicts",
            schedule.sessions.len(),
            schedule.rooms.len(),
            program.days.len()
        );
        match &schedule.optimisation {
            Some(o) => out!(
                "  method: {}; {} session(s) moved ({})",
                o.method,
                o.objective,
                if o.proven_optimal {
                    "proven optimal".to_owned()
                } else {
                    format!("lower bound {}", o.lower_bound)
                }
            ),
            None => out!(
                "  method: first-fit placement of every session (the published program double-books rooms)"
            ),
        }
    }
    if let Some(path) = out {
        let meta = eods_formats::frab::ExportMeta {
            title: program.title.clone(),
            namespace: format!("eods:{}", program.title),
            version: if reschedule {
                "rescheduled by EODS".into()
            } else {
                "as published".into()
            },
        };
        let xml = eods_formats::frab::export(&meta, &schedule);
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, xml)
            .and_then(|()| std::fs::rename(&tmp, path))
            .map_err(|e| Exit(1, format!("error: --out {}: {e}", path.display())))?;
        out!("  wrote {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// The sessions of a frab schedule XML as brief program items (`title`, `track`,
/// `duration_minutes`, `speakers`), in the file's order.
fn program_items(path: &Path) -> Result<Vec<serde_json::Value>, Exit> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Exit(
            2,
            format!("error: --program: cannot read {}: {e}", path.display()),
        )
    })?;
    let program = eods_formats::frab::parse(&text, None)
        .map_err(|e| Exit(2, format!("error: --program {}: {e}", path.display())))?;
    Ok(program
        .events
        .iter()
        .map(|e| {
            serde_json::json!({
                "title": e.title,
                "track": e.track,
                "duration_minutes": e.minutes.max(1),
                "speakers": e.persons.iter().map(|p| p.name.clone()).collect::<Vec<_>>(),
            })
        })
        .collect())
}

/// Re-schedules an imported program. When no room is double-booked in it, the exact solver
/// keeps every session in its published room and time except the fewest it must move to part
/// clashing speakers (the published slots are the slots); otherwise every session is placed again
/// first-fit.
fn reschedule_program(
    program: &eods_formats::frab::FrabProgram,
    published: eods_domain::catalog::logistics::Schedule,
) -> Result<eods_domain::catalog::logistics::Schedule, Exit> {
    if eods_domain::lifecycle::schedule_conflicts(&published).is_empty()
        && let Some(s) = fewest_changes(&published)
    {
        return Ok(s);
    }
    replace_program(program, published)
}

/// The published program with the fewest sessions moved so that no speaker is in two places;
/// `None` when the solver finds no such schedule within its limit.
fn fewest_changes(
    published: &eods_domain::catalog::logistics::Schedule,
) -> Option<eods_domain::catalog::logistics::Schedule> {
    let sessions = &published.sessions;
    let origin = sessions.iter().map(|x| x.start).min()?;
    let room = |id: &eods_domain::ids::RoomId| published.rooms.iter().position(|r| &r.id == id);
    let minutes = |x: &eods_domain::catalog::logistics::Session| {
        u32::try_from((x.end - x.start).num_minutes().max(0)).unwrap_or(0)
    };
    let problem = eods_solver::Problem {
        slots: sessions
            .iter()
            .map(|x| eods_solver::Slot {
                room: room(&x.room).unwrap_or(0),
                start: (x.start - origin).num_minutes(),
                duration: minutes(x),
            })
            .collect(),
        sessions: sessions
            .iter()
            .map(|x| eods_solver::Session {
                duration: minutes(x),
                unavailable: vec![],
            })
            .collect(),
        conflicts: eods_agents::timetable::speaker_conflicts(
            &sessions
                .iter()
                .map(|x| eods_agents::logistics::Item {
                    title: String::new(),
                    track: String::new(),
                    minutes: 0,
                    speakers: x.speakers.clone(),
                    ..Default::default()
                })
                .collect::<Vec<_>>(),
        ),
    };
    let hint: Vec<Option<usize>> = (0..sessions.len()).map(Some).collect();
    let moved = |e: usize, s: usize| i64::from(e != s);
    let solution = eods_solver::solve_with_hint(
        &problem,
        &moved,
        &hint,
        &eods_solver::Limits { max_nodes: 20_000 },
    )
    .ok()?;
    let mut out = published.clone();
    for (e, &s) in solution.assignment.iter().enumerate() {
        let slot = &published.sessions[s];
        let x = &mut out.sessions[e];
        let length = x.end - x.start;
        x.room = slot.room.clone();
        x.start = slot.start;
        x.end = slot.start + length;
    }
    out.optimisation = Some(eods_domain::catalog::logistics::ScheduleOptimisation {
        method: "fewest changes to the published program: exact assignment over its own slots with speaker conflicts".into(),
        slots: u32::try_from(sessions.len()).unwrap_or(u32::MAX),
        objective: solution.objective,
        lower_bound: solution.lower_bound,
        proven_optimal: solution.proven_optimal,
        nodes: solution.nodes,
    });
    Some(out)
}

/// Places every event of an imported program again: same rooms and days, the day window the
/// program itself uses, five minutes between sessions in a room.
fn replace_program(
    program: &eods_formats::frab::FrabProgram,
    published: eods_domain::catalog::logistics::Schedule,
) -> Result<eods_domain::catalog::logistics::Schedule, Exit> {
    use eods_agents::logistics::{Frame, Item, solve};
    let tz: chrono_tz::Tz = published.timezone.parse().unwrap_or(chrono_tz::UTC);
    let local = |t: &chrono::DateTime<chrono::FixedOffset>| t.with_timezone(&tz).time();
    let start = published
        .sessions
        .iter()
        .map(|s| local(&s.start))
        .min()
        .unwrap_or_default();
    let end = published
        .sessions
        .iter()
        .map(|s| local(&s.end))
        .max()
        .unwrap_or_default();
    let frame = Frame::uniform(tz, &program.days, start, end, None, 5);
    let items: Vec<Item> = published
        .sessions
        .iter()
        .map(|s| Item {
            title: s.title.clone(),
            track: s.track.clone(),
            minutes: u32::try_from((s.end - s.start).num_minutes().max(1)).unwrap_or(1),
            speakers: s.speakers.clone(),
            ..Item::default()
        })
        .collect();
    let sessions = solve(&items, &published.rooms, &frame)
        .map_err(|e| Exit(1, format!("error: re-scheduling: {e}")))?;
    Ok(eods_domain::catalog::logistics::Schedule {
        sessions,
        ..published
    })
}

/// [`reschedule_program`] for the benchmark.
pub(crate) fn reschedule(
    program: &eods_formats::frab::FrabProgram,
    published: eods_domain::catalog::logistics::Schedule,
) -> anyhow::Result<eods_domain::catalog::logistics::Schedule> {
    reschedule_program(program, published).map_err(|Exit(_, m)| anyhow!(m))
}

/// (room double-bookings, person double-bookings) in a schedule.
fn conflicts(s: &eods_domain::catalog::logistics::Schedule) -> (usize, usize) {
    let rooms = eods_domain::lifecycle::schedule_conflicts(s).len();
    let mut by_person: BTreeMap<&str, Vec<&eods_domain::catalog::logistics::Session>> =
        BTreeMap::new();
    for x in &s.sessions {
        for p in &x.speakers {
            by_person.entry(p).or_default().push(x);
        }
    }
    let mut people = 0;
    for list in by_person.values_mut() {
        list.sort_by_key(|x| x.start);
        people += list.windows(2).filter(|w| w[1].start < w[0].end).count();
    }
    (rooms, people)
}

async fn serve(args: ServeArgs) -> Result<ExitCode, Exit> {
    // Log lines on standard output, and spans over OTLP when an endpoint is configured.
    let telemetry = crate::telemetry::Telemetry::from_env().map_err(|m| Exit(2, m))?;
    let installed = {
        use tracing_subscriber::Layer as _;
        use tracing_subscriber::layer::SubscriberExt as _;
        use tracing_subscriber::util::SubscriberInitExt as _;
        let filter = tracing_subscriber::EnvFilter::try_from_env("EODS_LOG")
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
        let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stdout);
        let fmt = match args.log_format {
            LogFormat::Json => fmt.json().flatten_event(true).boxed(),
            LogFormat::Text => fmt.boxed(),
        };
        // Only EODS's own spans are exported (not those of the libraries underneath).
        let ours = tracing_subscriber::filter::Targets::new()
            .with_target("eods", tracing::Level::INFO)
            .with_target("eods_server", tracing::Level::INFO)
            .with_target("eods_engine", tracing::Level::INFO)
            .with_target("eods_store", tracing::Level::INFO);
        tracing_subscriber::registry()
            .with(telemetry.as_ref().map(|t| t.layer().with_filter(ours)))
            .with(fmt.with_filter(filter))
            .try_init()
    };
    if let Err(e) = installed {
        eprintln!("warning: logging not set up: {e}");
    }
    let result = serve_with(args).await;
    if let Some(t) = telemetry {
        // The exporter's blocking client must not run on the runtime's threads.
        let _ = tokio::task::spawn_blocking(move || t.shutdown()).await;
    }
    result
}

async fn serve_with(args: ServeArgs) -> Result<ExitCode, Exit> {
    let url = args
        .database
        .or_else(|| std::env::var("DATABASE_URL").ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "sqlite://eods.db".into());
    // Requests: as many connections as runs in flight, at least the default. The worker opens
    // its own pool, one connection per run in flight (`eods_server::start`).
    let connections = args.workers.max(eods_store::DEFAULT_PG_CONNECTIONS);
    // Mail settings are checked before anything opens: a typo is an error at start, not a
    // silence months later.
    let mail = match args.smtp_url.filter(|u| !u.is_empty()) {
        Some(url) => {
            eods_server::mail::transport(&url).map_err(|e| Exit(2, format!("error: {e}")))?;
            eods_server::mail::sender(&args.mail_from)
                .map_err(|e| Exit(2, format!("error: {e}")))?;
            Some(eods_server::mail::MailConfig {
                url,
                from: args.mail_from,
                attempts: args.mail_attempts,
            })
        }
        None => None,
    };
    if let Some(u) = &args.public_url
        && !(u.starts_with("http://") || u.starts_with("https://"))
    {
        return Err(Exit(
            2,
            format!(
                "error: --public-url: `{u}` is not an http(s) URL; write e.g. https://eods.example.org"
            ),
        ));
    }
    let engine = engine_with(&url, &args.instructions, connections).await?;
    let mut config = eods_server::Config {
        lease_ttl: std::time::Duration::from_secs(args.lease_seconds),
        concurrency: args.workers,
        worker: !args.no_worker,
        webhook_url: args.webhook_url,
        webhook_attempts: args.webhook_attempts,
        mail,
        public_url: args.public_url,
        approval_threshold: args.approval_threshold,
        token_key: args.token_key.token_key,
        read_only: args.read_only,
        ..eods_server::Config::default()
    };
    if let Some(id) = args.instance_id {
        config.instance_id = id;
    }
    let running = eods_server::start(engine, config, args.bind)
        .await
        .map_err(|e| Exit(1, format!("error: --bind {}: {e}", args.bind)))?;
    eprintln!(
        "eods serve: listening on http://{} (database {url}); API docs at http://{}/docs",
        running.addr, running.addr
    );
    shutdown_signal().await;
    eprintln!("eods serve: shutting down");
    running.stop().await;
    Ok(ExitCode::SUCCESS)
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

async fn token(cmd: TokenCommand) -> Result<ExitCode, Exit> {
    let connect = |url: String| async move {
        Store::connect(&url)
            .await
            .map_err(|e| Exit(1, format!("error: --database: {e}")))
    };
    match cmd {
        TokenCommand::Create {
            role,
            contracts,
            name,
            db,
            token_key,
        } => {
            let store = connect(db.database).await?;
            let name = name.unwrap_or_else(|| role.as_str().to_owned());
            let issued = eods_server::auth::create_token(
                &store,
                token_key.token_key.as_ref(),
                &name,
                role,
                contracts,
                clock().now(),
            )
            .await
            .map_err(|e| match e {
                eods_server::auth::TokenError::Name(_) => Exit(2, format!("error: --name: {e}")),
                other => Exit(1, format!("error: {other}")),
            })?;
            eprintln!(
                "created token {} for user:{} with the {} role{} (shown once; only its hash is stored)",
                issued.row.id,
                issued.row.name,
                issued.row.role,
                if contracts {
                    " and the contracts permission"
                } else {
                    ""
                }
            );
            out!("{}", issued.token);
        }
        TokenCommand::List { db } => {
            let store = connect(db.database).await?;
            for t in store.tokens().await.map_err(anyhow::Error::from)? {
                out!(
                    "{}  {:<20} {:<8} contracts={:<5} created {}{}",
                    t.id,
                    t.name,
                    t.role.as_str(),
                    t.contracts,
                    t.created_at.format("%Y-%m-%d %H:%M UTC"),
                    t.revoked_at
                        .map(|r| format!("  revoked {}", r.format("%Y-%m-%d %H:%M UTC")))
                        .unwrap_or_default()
                );
            }
        }
        TokenCommand::Revoke { id, db } => {
            let store = connect(db.database).await?;
            if store
                .revoke_token(&id, clock().now())
                .await
                .map_err(anyhow::Error::from)?
            {
                out!("revoked {id}");
            } else {
                return Err(Exit(2, format!("error: no active token with id `{id}`")));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
