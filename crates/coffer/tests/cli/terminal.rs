//! A terminal session under tmux: `coffer cp` on a terminal draws its progress bar on stderr
//! while the transfer runs, clears it when done and prints the summary; the same command with
//! stderr not a terminal writes no bar at all.

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use crate::support::{noise, start, write, BIN, ID, KEY};

const BUCKET: &str = "term-1250000000";
/// 16 MiB in one PUT (below the multipart threshold) paced at 2 MiB/s by the server: the
/// command takes about 8 s, and its bar is up all that time.
const SIZE: usize = 16 << 20;
const LIMIT: &str = "16777216";
const PATIENCE: Duration = Duration::from_secs(60);

/// A tmux server of its own (a unique socket name); killed when dropped, also on failure,
/// and its socket file removed (tmux 3.3 leaves it behind).
struct Tmux {
    socket: String,
    socket_path: Option<std::path::PathBuf>,
}

impl Tmux {
    fn new() -> Tmux {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        Tmux {
            socket: format!("coffer-test-{}-{nanos}", std::process::id()),
            socket_path: None,
        }
    }

    /// Starts the server with a detached session `coffer` of 120×10 running `program`.
    fn start(&mut self, program: &[&str]) {
        let mut args = vec!["new-session", "-d", "-s", "coffer", "-x", "120", "-y", "10"];
        args.extend(program);
        let started = self.run(&args);
        assert!(
            started.status.success(),
            "tmux new-session: {}",
            String::from_utf8_lossy(&started.stderr)
        );
        let path = self.run(&["display-message", "-p", "#{socket_path}"]);
        let path = String::from_utf8_lossy(&path.stdout).trim().to_string();
        if path.contains(&self.socket) {
            self.socket_path = Some(path.into());
        }
    }

    /// `tmux -L <socket> <args>`, with no user config and no nesting in an outer tmux. The
    /// first command starts the server, which passes its environment to the pane: drop the
    /// variables that would override the client's config file.
    fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .args(["-L", &self.socket, "-f", "/dev/null"])
            .args(args)
            .env_remove("TMUX")
            .env_remove("COFFER_ENDPOINT")
            .env_remove("COFFER_SECRET_ID")
            .env_remove("COFFER_SECRET_KEY")
            .env_remove("COFFER_PROFILE")
            .output()
            .unwrap()
    }

    /// Types `text` into the pane, then Enter.
    fn type_line(&self, text: &str) {
        let literal = self.run(&["send-keys", "-t", "coffer", "-l", text]);
        let enter = self.run(&["send-keys", "-t", "coffer", "Enter"]);
        assert!(literal.status.success() && enter.status.success());
    }

    /// The visible pane, wrapped lines joined.
    fn capture(&self) -> String {
        let out = self.run(&["capture-pane", "-p", "-J", "-t", "coffer"]);
        assert!(
            out.status.success(),
            "tmux capture-pane: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Captures the pane until `done` holds of it; returns that capture. Fails showing the
    /// last capture after a minute.
    fn wait_for(&self, what: &str, done: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let pane = self.capture();
            if done(&pane) {
                return pane;
            }
            assert!(
                Instant::now() < deadline,
                "timed out after {PATIENCE:?} waiting for {what}; the pane:\n{pane}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
        if let Some(path) = &self.socket_path {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Whether tmux is there to run `test`; without it the test is skipped, except under CI
/// (which must have it: `.ci/run` installs it).
fn tmux_or_skip(test: &str) -> bool {
    let have = Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|out| out.status.success());
    if !have {
        assert!(
            std::env::var_os("CI").is_none(),
            "tmux is not installed (CI must have it: .ci/run installs it)"
        );
        eprintln!("skipping {test}: tmux is not installed");
    }
    have
}

/// The line of the pane showing the bar, e.g.
/// `upload [=====>      ] 3.00 MiB/16.00 MiB 2.00 MiB/s ETA 6s`.
fn bar_line(pane: &str) -> Option<&str> {
    pane.lines().find(|line| {
        line.starts_with("upload [")
            && line.contains(']')
            && line.contains("MiB/")
            && line.contains("/s")
            && line.contains("ETA")
    })
}

#[test]
fn progress_bar_on_a_terminal_under_tmux() {
    if !tmux_or_skip("progress_bar_on_a_terminal_under_tmux") {
        return;
    }
    let server = start();
    server.ok(&["mb", &format!("cos://{BUCKET}")]);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sixteen.bin");
    write(&file, &noise(SIZE, 3));
    let file = file.to_str().unwrap();
    let config = format!("COFFER_CONFIG={}", server.config.display());
    let on_terminal = format!("cos://{BUCKET}/x");
    let piped = format!("cos://{BUCKET}/piped");

    std::thread::scope(|scope| {
        // The same command with stderr a pipe, meanwhile.
        let without_terminal =
            scope.spawn(|| server.run(&["cp", file, &piped, "--traffic-limit", LIMIT]));

        // The command as the pane's program (run directly, no quoting through a shell
        // string); the pane stays after it exits, showing its exit status.
        let mut tmux = Tmux::new();
        tmux.start(&[
            "/bin/sh",
            "-c",
            "\"$@\"; echo \"[exit $?]\"; sleep 60",
            "sh",
            "env",
            &config,
            BIN,
            "cp",
            file,
            &on_terminal,
            "--traffic-limit",
            LIMIT,
        ]);

        let pane = tmux.wait_for("the progress bar", |pane| {
            assert!(!pane.contains("[exit"), "cp ended without a bar:\n{pane}");
            bar_line(pane).is_some()
        });
        eprintln!("the bar: {}", bar_line(&pane).unwrap_or_default());
        let pane = tmux.wait_for("the end of cp", |pane| pane.contains("[exit"));
        assert!(pane.contains("[exit 0]"), "cp failed:\n{pane}");
        assert!(
            pane.contains(&format!("{file} -> {on_terminal} ({SIZE} bytes, ETag ")),
            "no summary line:\n{pane}"
        );
        assert!(
            bar_line(&pane).is_none() && !pane.contains("ETA"),
            "the bar was not cleared:\n{pane}"
        );

        let out = without_terminal.join().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        assert!(
            stdout.contains(&format!("{file} -> {piped} ({SIZE} bytes, ETag ")),
            "{stdout}"
        );
        for piece in ["upload", "[", "MiB/", "/s", "ETA", "\r", "\x1b"] {
            assert!(
                !stderr.contains(piece),
                "bar output {piece:?} without a terminal: {stderr:?}"
            );
        }
    });
}

/// `coffer config` without flags on a terminal asks for each field, reads the secret key
/// without echo, and shows the stored one masked when asked again.
#[test]
fn config_asks_on_a_terminal_under_tmux() {
    if !tmux_or_skip("config_asks_on_a_terminal_under_tmux") {
        return;
    }
    let server = start();
    let dir = tempfile::tempdir().unwrap();
    let config_file = dir.path().join("asked.toml");
    let config = format!("COFFER_CONFIG={}", config_file.display());
    let program = [
        "/bin/sh",
        "-c",
        "\"$@\"; echo \"[exit $?]\"; sleep 60",
        "sh",
        "env",
        &config,
        BIN,
        "config",
        "--profile",
        "asked",
    ];

    let mut tmux = Tmux::new();
    tmux.start(&program);
    tmux.wait_for("the endpoint prompt", |p| p.contains("Endpoint"));
    tmux.type_line(&format!("http://127.0.0.1:{}", server.port));
    tmux.wait_for("the region prompt", |p| p.contains("Region ["));
    tmux.type_line("");
    tmux.wait_for("the SecretId prompt", |p| p.contains("SecretId ["));
    tmux.type_line(ID);
    tmux.wait_for("the SecretKey prompt", |p| p.contains("SecretKey ["));
    tmux.type_line(KEY);
    let pane = tmux.wait_for("the end of config", |p| p.contains("[exit"));
    assert!(
        pane.contains("[exit 0]") && pane.contains("written"),
        "{pane}"
    );
    assert!(!pane.contains(KEY), "the secret key was echoed:\n{pane}");
    drop(tmux);

    // The profile works for the client commands.
    let listed = std::process::Command::new(BIN)
        .args(["--profile", "asked", "ls"])
        .env("COFFER_CONFIG", &config_file)
        .env_remove("COFFER_ENDPOINT")
        .env_remove("COFFER_SECRET_ID")
        .env_remove("COFFER_SECRET_KEY")
        .output()
        .unwrap();
    assert!(
        listed.status.success(),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );

    // Asked again: Enter keeps every field, the stored key shows masked.
    let mut tmux = Tmux::new();
    tmux.start(&program);
    for prompt in ["Endpoint", "Region [", "SecretId [", "SecretKey ["] {
        tmux.wait_for(prompt, |p| p.contains(prompt));
        let pane = tmux.capture();
        if prompt == "SecretKey [" {
            let tail = &KEY[KEY.len() - 4..];
            assert!(pane.contains(&format!("SecretKey [****{tail}]")), "{pane}");
            assert!(!pane.contains(KEY), "{pane}");
        }
        tmux.type_line("");
    }
    let pane = tmux.wait_for("the end of config", |p| p.contains("[exit"));
    assert!(pane.contains("[exit 0]"), "{pane}");
    let stored = std::fs::read_to_string(&config_file).unwrap();
    assert!(stored.contains(KEY) && stored.contains(ID), "{stored}");
}
