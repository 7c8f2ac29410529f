//! The `eods` binary: parses the command line, sets up logging and hands over to `cli`.
//! Exit codes: 0 ok, 2 bad input (the message names every problem), 1 any other failure.

mod approve;
mod audit;
mod bench;
mod brief;
mod cli;
mod drafts;
mod export;
mod fx;
mod keys;
mod replay;
mod retention;
mod telemetry;
mod throughput;
mod venues;

/// mimalloc instead of the system allocator: the engine allocates many small JSON values per
/// step, and glibc's malloc took about a third of the process's time under `eods bench`.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    cli::main()
}
