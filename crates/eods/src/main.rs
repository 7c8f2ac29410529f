//! The `eods` binary: parses the command line, sets up logging and hands over to `cli`.
//! Exit codes: 0 ok, 2 bad input (the message names every problem), 1 any other failure.

mod approve;
mod bench;
mod brief;
mod cli;
mod export;
mod fx;
mod report;
mod throughput;
mod venues;

fn main() -> std::process::ExitCode {
    cli::main()
}
