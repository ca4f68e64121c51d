//! The `coffer` binary: `coffer serve` runs the object store; `coffer admin` manages
//! accounts on a data directory.
//!
//! This is the only crate that names concrete backends and uses `anyhow`.

mod admin;
mod admin_client;
mod backends;
mod bench;
mod client;
mod serve;

use clap::{Parser, Subcommand};

/// Coffer: a self-hosted Tencent COS / Amazon S3 compatible object store.
#[derive(Debug, Parser)]
#[command(name = "coffer", version, about, long_about = None)]
struct Cli {
    #[command(flatten)]
    common: client::CommonArgs,
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
    /// Make a bucket. Example: `coffer mb cos://examplebucket-1250000000`
    Mb {
        /// `cos://bucket`
        target: String,
    },
    /// Remove a bucket (`--force`: its objects and uploads first).
    ///
    /// Example: `coffer rb --force cos://examplebucket-1250000000`
    Rb(client::RbArgs),
    /// List buckets, objects (`-r` for all levels) or in-progress uploads (`--uploads`).
    ///
    /// Example: `coffer ls cos://examplebucket-1250000000/photos/`
    Ls(client::LsArgs),
    /// Copy files and objects: local → cos, cos → local, cos → cos; `-r` for trees.
    ///
    /// Example: `coffer cp ./big.iso cos://examplebucket-1250000000/isos/`
    Cp(client::CpArgs),
    /// Print every header of an object. Example: `coffer stat cos://bucket/key`
    Stat {
        /// `cos://bucket/key`
        target: String,
    },
    /// Write an object to standard output. Example: `coffer cat cos://bucket/notes.txt`
    Cat {
        /// `cos://bucket/key`
        target: String,
    },
    /// Delete an object, or (`-r`) everything under a prefix.
    ///
    /// Example: `coffer rm -r --yes cos://bucket/logs/2025/`
    Rm(client::RmArgs),
    /// Move files and objects: `cp`, then each source is removed once copied.
    ///
    /// Example: `coffer mv -r ./outbox cos://examplebucket-1250000000/inbox/`
    Mv(client::CpArgs),
    /// Make a destination tree like the source: only new or changed files are transferred
    /// (size, then MD5 or CRC-64); `--delete` removes what the source lacks.
    ///
    /// Example: `coffer sync --delete ./site cos://examplebucket-1250000000/site/`
    Sync(client::SyncArgs),
    /// Print a presigned URL for an object.
    ///
    /// Example: `coffer presign --expires 2h cos://examplebucket-1250000000/report.pdf`
    Presign(client::PresignArgs),
    /// Abort in-progress multipart uploads under a prefix (or one, with `--upload-id`).
    ///
    /// Example: `coffer abort cos://examplebucket-1250000000/videos/`
    Abort(client::AbortArgs),
    /// Print the CRC-64/ECMA and MD5 of a local file or an object.
    ///
    /// Example: `coffer hash cos://examplebucket-1250000000/big.iso`
    Hash(client::HashArgs),
    /// Count the objects and bytes under a bucket or prefix, by storage class.
    ///
    /// Example: `coffer du cos://examplebucket-1250000000/logs/`
    Du(client::DuArgs),
    /// Print a shell completion script.
    ///
    /// Example: `coffer completions bash > ~/.local/share/bash-completion/completions/coffer`
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    if !matches!(
        cli.command,
        Command::Serve(_) | Command::Admin(_) | Command::Bench(_)
    ) {
        die_quietly_on_closed_stdout();
    }
    let result = match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::Admin(command) => admin::run(command),
        Command::Bench(args) => bench::run(args),
        Command::Config(args) => client::config::run(args),
        Command::Mb { target } => client::run_mb(&cli.common, &target),
        Command::Rb(args) => client::run_rb(&cli.common, args),
        Command::Ls(args) => client::run_ls(&cli.common, args),
        Command::Cp(args) => client::run_cp(&cli.common, args),
        Command::Stat { target } => client::run_stat(&cli.common, &target),
        Command::Cat { target } => client::run_cat(&cli.common, &target),
        Command::Rm(args) => client::run_rm(&cli.common, args),
        Command::Mv(args) => client::run_mv(&cli.common, args),
        Command::Sync(args) => client::run_sync(&cli.common, args),
        Command::Presign(args) => client::run_presign(&cli.common, args),
        Command::Abort(args) => client::run_abort(&cli.common, args),
        Command::Hash(args) => client::run_hash(&cli.common, args),
        Command::Du(args) => client::run_du(&cli.common, args),
        Command::Completions { shell } => {
            use clap::CommandFactory;
            clap_complete::generate(shell, &mut Cli::command(), "coffer", &mut std::io::stdout());
            Ok(())
        }
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("coffer: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Client commands end quietly when their reader goes away (`coffer ls … | head`), as Unix
/// tools do: Rust ignores SIGPIPE, which would turn every later `println!` into a panic.
/// Only for client commands: sockets are written with `MSG_NOSIGNAL` and never raise it, but
/// the server has no business dying of a signal.
#[cfg(unix)]
#[allow(unsafe_code)]
fn die_quietly_on_closed_stdout() {
    // SAFETY: called at the start of `main`, before any thread exists; resetting a signal's
    // disposition to its default has no other effect on the process.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

#[cfg(not(unix))]
fn die_quietly_on_closed_stdout() {}

#[cfg(test)]
mod tests {
    /// clap's own consistency checks over every subcommand (flag clashes, e.g. with the
    /// global `--profile` / `-q`).
    #[test]
    fn command_line_is_consistent() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
