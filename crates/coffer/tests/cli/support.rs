//! A `coffer serve` child process on a loopback port, and the built binary run against it as
//! a client with its own config file.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::time::Duration;

pub const BIN: &str = env!("CARGO_BIN_EXE_coffer");
pub const ID: &str = "AKIDclitest";
pub const KEY: &str = "clitestsecret";

/// A running `coffer serve` and a client config file pointing at it.
pub struct Server {
    child: Child,
    _data: Option<tempfile::TempDir>,
    /// The client config file (`COFFER_CONFIG`) with the default profile for this server.
    pub config: PathBuf,
    /// The loopback port the server listens on.
    pub port: u16,
    _config_dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn start() -> Server {
    let data = tempfile::tempdir().unwrap();
    let mut server = start_on(data.path(), &[]);
    server._data = Some(data);
    server
}

/// A server on the data directory `data` (kept by the caller), with extra environment.
pub fn start_on(data: &Path, env: &[(&str, &str)]) -> Server {
    let port = free_port();
    let child = Command::new(BIN)
        .arg("serve")
        .envs(env.iter().copied())
        .env("COFFER_DATA_DIR", data)
        .env("COFFER_ADDRESS", format!("127.0.0.1:{port}"))
        .env("COFFER_ROOT_SECRET_ID", ID)
        .env("COFFER_ROOT_SECRET_KEY", KEY)
        .env("COFFER_ROOT_APPID", "1250000000")
        .env("COFFER_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let config_dir = tempfile::tempdir().unwrap();
    let config = config_dir.path().join("config.toml");
    let server = Server {
        child,
        _data: None,
        config,
        port,
        _config_dir: config_dir,
    };
    let out = server.run(&[
        "config",
        "--endpoint",
        &format!("http://127.0.0.1:{port}"),
        "--secret-id",
        ID,
        "--secret-key",
        KEY,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    server
}

impl Server {
    /// The client command `coffer <args>` set up for this server (not started).
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(BIN);
        command
            .args(args)
            .env("COFFER_CONFIG", &self.config)
            .env_remove("COFFER_ENDPOINT")
            .env_remove("COFFER_SECRET_ID")
            .env_remove("COFFER_SECRET_KEY")
            .env_remove("COFFER_PROFILE");
        command
    }

    /// Runs `coffer <args>` to completion.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// Runs a command that must succeed; returns its standard output.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "coffer {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }
}

pub fn data(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

pub fn write(path: &Path, content: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

impl Server {
    /// An SDK client for this server with the CLI profile's credentials, to look at the
    /// server's state (unfinished uploads, parts) independently of the CLI.
    pub fn sdk(&self) -> coffer_sdk::CosClient {
        let config = coffer_sdk::CosConfig::new("ap-guangzhou")
            .credentials(ID, KEY)
            .scheme(coffer_sdk::Scheme::Http)
            .ip("127.0.0.1")
            .port(self.port)
            .appid("1250000000");
        coffer_sdk::CosClient::new(config).unwrap()
    }
}

/// Runs a future of the SDK to completion on a small runtime of its own.
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

/// Calls `check` every 50 ms until it gives `Some`; panics naming `what` after `timeout`.
pub fn wait_for<T>(what: &str, timeout: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The `N` of a `…, resumed N parts)` summary line, if any.
pub fn resumed_parts(summary: &str) -> Option<usize> {
    let rest = &summary[summary.find("resumed ")? + "resumed ".len()..];
    rest.split(' ').next()?.parse().ok()
}

/// Pseudo-random bytes (xorshift64, whose period is far beyond any test file), so that every
/// part of a multipart transfer differs from the others and a misplaced part cannot go
/// unnoticed (`data` repeats every 256 bytes).
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}
