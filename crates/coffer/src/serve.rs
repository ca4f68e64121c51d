//! `coffer serve`.

use anyhow::Context as _;
use clap::Args;
use coffer_server::auth::SignaturePolicy;
use coffer_server::{AppState, HttpConfig, ServerConfig};
use coffer_store::model::AccountRecord;
use coffer_store::{Store, StoreConfig, StoreError};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Longest timeout the flags accept: a day.
const MAX_TIMEOUT_SECS: u64 = 86_400;

/// Options of `coffer serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Data directory: blobs, and the embedded metadata unless --meta-url is given (then
    /// a directory every node shares).
    #[arg(long, env = "COFFER_DATA_DIR", default_value = "./coffer-data")]
    pub data_dir: PathBuf,
    /// The metadata backend.
    #[command(flatten)]
    pub backend: crate::backends::BackendArgs,
    /// Seconds between online sweeps of orphaned blobs (one node at a time; 0: only at
    /// start-up).
    #[arg(long, env = "COFFER_SWEEP_INTERVAL", default_value_t = 3600, value_parser = clap::value_parser!(u64).range(0..=MAX_TIMEOUT_SECS))]
    pub sweep_interval: u64,
    /// Seconds an unreferenced blob must have been left unwritten before the online sweep
    /// deletes it: longer than any write takes to commit (0 is safe only while a single
    /// node writes, as in tests).
    #[arg(long, env = "COFFER_ORPHAN_MIN_AGE", default_value_t = 3600, value_parser = clap::value_parser!(u64).range(0..=MAX_TIMEOUT_SECS))]
    pub orphan_min_age: u64,
    /// Address to listen on.
    #[arg(long, env = "COFFER_ADDRESS", default_value = "127.0.0.1:9000")]
    pub address: String,
    /// Region reported for buckets.
    #[arg(long, env = "COFFER_REGION", default_value = "ap-guangzhou")]
    pub region: String,
    /// Extra virtual-host domain suffixes (`bucket.<domain>`), comma-separated.
    #[arg(long = "domain", env = "COFFER_DOMAINS", value_delimiter = ',')]
    pub domains: Vec<String>,
    /// Root account SecretId (created on first start if absent).
    #[arg(long, env = "COFFER_ROOT_SECRET_ID")]
    pub root_secret_id: Option<String>,
    /// Root account SecretKey.
    #[arg(long, env = "COFFER_ROOT_SECRET_KEY", hide_env_values = true)]
    pub root_secret_key: Option<String>,
    /// Root account APPID.
    #[arg(long, env = "COFFER_ROOT_APPID")]
    pub root_appid: Option<String>,
    /// Log filter, e.g. `info`, `debug`, `coffer=debug`.
    #[arg(long, env = "COFFER_LOG", default_value = "info")]
    pub log_level: String,
    /// Worker threads (default: one per core).
    #[arg(long, env = "COFFER_THREADS")]
    pub threads: Option<usize>,
    /// Longest validity, in seconds, of a COS signature (`q-sign-time`) or a SigV2 presigned
    /// URL; SigV4 presigned URLs are capped at 7 days by the protocol.
    #[arg(long, env = "COFFER_MAX_SIGNATURE_LIFETIME", default_value_t = 7 * 24 * 3600)]
    pub max_signature_lifetime: u64,
    /// Most connections served at once; further ones are answered 503 SlowDown and closed.
    #[arg(long, env = "COFFER_MAX_CONNECTIONS", default_value_t = 1024, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_connections: u64,
    /// Most uploads (requests with a body) in flight at once; further ones are answered
    /// 503 SlowDown before their body is read.
    #[arg(long, env = "COFFER_MAX_UPLOADS", default_value_t = 256, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_uploads: u64,
    /// Seconds a whole request head may take to arrive.
    #[arg(long, env = "COFFER_HEADER_TIMEOUT", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=MAX_TIMEOUT_SECS))]
    pub header_timeout: u64,
    /// Seconds a kept-alive connection may sit idle between requests.
    #[arg(long, env = "COFFER_IDLE_TIMEOUT", default_value_t = 120, value_parser = clap::value_parser!(u64).range(1..=MAX_TIMEOUT_SECS))]
    pub idle_timeout: u64,
    /// Seconds a request body may go without a byte; also the window of --body-min-rate.
    #[arg(long, env = "COFFER_BODY_TIMEOUT", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=MAX_TIMEOUT_SECS))]
    pub body_timeout: u64,
    /// Bytes per second a request body must average over each --body-timeout window
    /// (0: no minimum).
    #[arg(long, env = "COFFER_BODY_MIN_RATE", default_value_t = 1024)]
    pub body_min_rate: u64,
    /// Seconds a client may take to accept each 64 KiB of a response.
    #[arg(long, env = "COFFER_WRITE_TIMEOUT", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=MAX_TIMEOUT_SECS))]
    pub write_timeout: u64,
}

impl ServeArgs {
    /// The HTTP layer's limits from the flags.
    pub fn http_config(&self) -> HttpConfig {
        let count = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
        HttpConfig {
            header_timeout: Duration::from_secs(self.header_timeout),
            idle_timeout: Duration::from_secs(self.idle_timeout),
            body_timeout: Duration::from_secs(self.body_timeout),
            body_min_rate: self.body_min_rate,
            write_timeout: Duration::from_secs(self.write_timeout),
            max_connections: count(self.max_connections),
            max_uploads: count(self.max_uploads),
            ..HttpConfig::default()
        }
    }
}

/// Runs the server until SIGTERM or Ctrl-C.
pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(&args.log_level)
                .context("invalid --log-level")?,
        )
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .compact()
        .init();
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    runtime.enable_all().thread_name("coffer-worker");
    if let Some(threads) = args.threads {
        runtime.worker_threads(threads.max(1));
    }
    runtime.build()?.block_on(serve(args))
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let config = StoreConfig {
        sweep_interval: Duration::from_secs(args.sweep_interval.max(1)),
        orphan_min_age: Duration::from_secs(args.orphan_min_age),
        ..StoreConfig::default()
    };
    let store = crate::backends::open_store(&args.data_dir, &args.backend, config)
        .await
        .with_context(|| format!("opening the data directory {}", args.data_dir.display()))?;
    ensure_root_account(&store, &args).await?;
    let sweeper = (args.sweep_interval > 0).then(|| {
        let store = store.clone();
        tokio::spawn(async move { store.run_online_sweeps().await })
    });
    let listener = tokio::net::TcpListener::bind(&args.address)
        .await
        .with_context(|| format!("binding {}", args.address))?;
    let local = listener.local_addr()?;
    let config = ServerConfig {
        region: args.region.clone(),
        domains: args.domains.clone(),
        signature_policy: SignaturePolicy {
            max_signature_lifetime_secs: args.max_signature_lifetime,
        },
        ..ServerConfig::default()
    };
    let state = Arc::new(AppState::new(store.clone(), config));
    let (shutdown_tx, shutdown_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutting down: finishing in-flight requests");
        let _ = shutdown_tx.send(true);
    });
    tracing::info!(address = %local, data_dir = %args.data_dir.display(), region = %args.region, "coffer listening");
    coffer_server::run(listener, state, args.http_config(), shutdown_rx).await;
    if let Some(sweeper) = sweeper {
        sweeper.abort();
    }
    store.close().await?;
    tracing::info!("stopped");
    Ok(())
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Creates the root account on first start (or the one named by the environment), printing
/// generated credentials once.
async fn ensure_root_account(store: &Store, args: &ServeArgs) -> anyhow::Result<()> {
    let accounts = store.meta().accounts().await?;
    if let (Some(id), Some(key)) = (&args.root_secret_id, &args.root_secret_key) {
        if let Some(existing) = accounts.iter().find(|a| &a.secret_id == id) {
            if &existing.secret_key != key {
                tracing::warn!(secret_id = %id, "COFFER_ROOT_SECRET_KEY differs from the stored key; the stored key stays in force");
            }
            return Ok(());
        }
        let account = AccountRecord {
            secret_id: id.clone(),
            secret_key: key.clone(),
            appid: args
                .root_appid
                .clone()
                .unwrap_or_else(|| "1250000000".into()),
            uin: random_digits("1000", 12),
            created_ms: coffer_proto::time::now_millis(),
            admin: true,
        };
        match store.meta().create_account(account).await {
            Ok(()) | Err(StoreError::AccountExists) => {}
            Err(e) => return Err(e.into()),
        }
        return Ok(());
    }
    if !accounts.is_empty() {
        return Ok(());
    }
    if args.backend.meta_url.is_some() {
        // Several nodes starting at once would each generate (and print) a root account.
        anyhow::bail!(
            "the shared metadata has no account yet: give the first start \
             COFFER_ROOT_SECRET_ID and COFFER_ROOT_SECRET_KEY (every node may have them; \
             creating the root account from them is idempotent)"
        );
    }
    let account = AccountRecord {
        secret_id: format!("AKID{}", random_alnum(32)),
        secret_key: random_alnum(32),
        appid: args
            .root_appid
            .clone()
            .unwrap_or_else(|| random_digits("125", 10)),
        uin: random_digits("1000", 12),
        created_ms: coffer_proto::time::now_millis(),
        admin: true,
    };
    store.meta().create_account(account.clone()).await?;
    println!("Created the root account (shown once; `coffer admin user list` shows it again):");
    println!("  APPID:     {}", account.appid);
    println!("  SecretId:  {}", account.secret_id);
    println!("  SecretKey: {}", account.secret_key);
    Ok(())
}

pub(crate) fn random_alnum(len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..len)
        .map(|_| ALPHABET[rand::random_range(0..ALPHABET.len())] as char)
        .collect()
}

pub(crate) fn random_digits(prefix: &str, len: usize) -> String {
    let mut out = prefix.to_string();
    while out.len() < len {
        out.push(char::from(b'0' + rand::random_range(0..10u8)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        serve: ServeArgs,
    }

    #[test]
    fn flag_defaults_are_the_http_layers_defaults() {
        let cli = Cli::try_parse_from(["coffer"]).expect("parses");
        let ours = cli.serve.http_config();
        let theirs = HttpConfig::default();
        assert_eq!(format!("{ours:?}"), format!("{theirs:?}"));
    }

    #[test]
    fn limits_are_set_by_flags_and_zero_is_refused() {
        let cli = Cli::try_parse_from(["coffer", "--max-connections", "7", "--body-min-rate", "0"])
            .expect("parses");
        let config = cli.serve.http_config();
        assert_eq!(config.max_connections, 7);
        assert_eq!(config.body_min_rate, 0);
        assert!(Cli::try_parse_from(["coffer", "--max-uploads", "0"]).is_err());
        assert!(Cli::try_parse_from(["coffer", "--write-timeout", "0"]).is_err());
        assert!(Cli::try_parse_from(["coffer", "--body-timeout", "18446744073709551615"]).is_err());
    }
}
