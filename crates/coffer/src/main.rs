//! The `coffer` binary: `coffer serve` runs the object store; `coffer admin` manages
//! accounts on a data directory.
//!
//! This is the only crate that names concrete backends and uses `anyhow`.

mod admin;
mod admin_client;
mod bench;
mod client;
mod serve;

use clap::{Parser, Subcommand};

/// Coffer: a self-hosted Tencent COS / Amazon S3 compatible object store.
#[derive(Debug, Parser)]
#[command(name = "coffer", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server (embedded storage in a local data directory).
    ///
    /// Example: `coffer serve --data-dir ./coffer-data --address 127.0.0.1:9000`
    Serve(serve::ServeArgs),
    /// Manage accounts and other server state.
    #[command(subcommand)]
    Admin(admin::AdminCommand),
    /// Load-test a running server, or measure this machine's limits (`--limits`).
    ///
    /// Example: `coffer bench --workload put --size 4KiB --concurrency 32 --duration 10s`
    Bench(bench::BenchArgs),
    /// Write or show a client profile (endpoint, region, keys) in the user's config file.
    ///
    /// Example: `coffer config --endpoint http://127.0.0.1:9000 --secret-id AKID… --secret-key …`
    Config(client::config::ConfigArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::Admin(command) => admin::run(command),
        Command::Bench(args) => bench::run(args),
        Command::Config(args) => client::config::run(args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("coffer: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
