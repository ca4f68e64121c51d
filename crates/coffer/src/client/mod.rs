//! The client side of the `coffer` command line, built only on the SDK's public API:
//! profiles (`coffer config`), `cos://bucket/key` locations, and the object commands.
//!
//! `transfer` (cp, mv) and `sync` plan jobs over the trees of [`tree`] and run them with
//! [`jobs`]; `objects` has the one-request commands, `hash` and `usage` the inspections.

pub mod config;
mod hash;
mod jobs;
pub mod location;
mod objects;
mod sync;
mod transfer;
mod tree;
mod usage;

use anyhow::Context;
use coffer_sdk::CosClient;
use indicatif::{ProgressBar, ProgressStyle};

pub use hash::{run_hash, HashArgs};
pub use objects::{
    run_abort, run_cat, run_ls, run_mb, run_presign, run_rb, run_rm, run_stat, AbortArgs, LsArgs,
    PresignArgs, RbArgs, RmArgs,
};
pub use sync::{run_sync, SyncArgs};
pub use transfer::{run_cp, run_mv, CpArgs};
pub use usage::{run_du, DuArgs};

use self::config::{config_path, ConfigFile};
use self::location::Location;

/// Options every client command takes.
#[derive(Debug, Clone, clap::Args)]
pub struct CommonArgs {
    /// The profile of the config file to use (`coffer config`).
    #[arg(long, global = true, default_value = "default", env = "COFFER_PROFILE")]
    pub profile: String,
    /// No progress bars or chatter.
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

/// A client for the chosen profile (with the `COFFER_*` overrides).
pub fn make_client(common: &CommonArgs) -> anyhow::Result<CosClient> {
    let path = config_path()?;
    let file = ConfigFile::load(&path)?;
    let config = file
        .effective_profile(&common.profile)
        .to_cos_config()
        .with_context(|| format!("profile {:?} of {}", common.profile, path.display()))?;
    Ok(CosClient::new(config)?)
}

/// Runs an async command on a fresh runtime.
pub fn block_on<F: std::future::Future<Output = anyhow::Result<()>>>(f: F) -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?
        .block_on(f)
}

/// Parses a `cos://` argument.
pub fn cos_location(arg: &str) -> anyhow::Result<(String, String)> {
    match Location::parse(arg)? {
        Location::Cos { bucket, key } => Ok((bucket, key)),
        Location::Local(_) => anyhow::bail!("{arg:?} is not a cos://bucket/key location"),
    }
}

/// A byte progress bar (bytes, rate, ETA) on stderr, hidden when quiet or not on a terminal.
/// Its length grows as transfers learn their sizes.
pub fn byte_bar(quiet: bool, label: &str) -> ProgressBar {
    use std::io::IsTerminal;
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(0);
    let style = ProgressStyle::with_template(
        "{msg} [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ");
    bar.set_style(style);
    bar.set_message(label.to_string());
    bar
}
