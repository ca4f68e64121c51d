//! End-to-end: the built `coffer` binary as a client against the same binary serving on a
//! loopback port.

#![allow(clippy::unwrap_used)] // Tests may panic: that is how they fail.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_coffer");
const ID: &str = "AKIDclitest";
const KEY: &str = "clitestsecret";

struct Server {
    child: Child,
    _data: tempfile::TempDir,
    config: PathBuf,
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

fn start() -> Server {
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let child = Command::new(BIN)
        .arg("serve")
        .env("COFFER_DATA_DIR", data.path())
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
        _data: data,
        config,
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
    fn run(&self, args: &[&str]) -> Output {
        Command::new(BIN)
            .args(args)
            .env("COFFER_CONFIG", &self.config)
            .env_remove("COFFER_ENDPOINT")
            .env_remove("COFFER_SECRET_ID")
            .env_remove("COFFER_SECRET_KEY")
            .output()
            .unwrap()
    }

    /// Runs a command that must succeed; returns its standard output.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "coffer {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }
}

fn data(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

fn write(path: &Path, content: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

#[test]
fn every_command_end_to_end() {
    let server = start();
    let b = "cos://clitest-1250000000";
    let dir = tempfile::tempdir().unwrap();
    assert!(server.ok(&["mb", b]).contains("made"));
    assert!(server.ok(&["ls"]).contains("cos://clitest-1250000000"));
    let json = server.ok(&["ls", "--json"]);
    assert!(json.contains("\"bucket\":\"clitest-1250000000\""), "{json}");

    // Single files up, with options; a large one goes multipart.
    let small = dir.path().join("small.txt");
    write(&small, b"hello cli");
    server.ok(&[
        "cp",
        small.to_str().unwrap(),
        &format!("{b}/docs/"),
        "--content-type",
        "text/x-cli",
        "--meta",
        "owner=me",
    ]);
    let big = dir.path().join("big.bin");
    let big_content = data(22 << 20, 1);
    write(&big, &big_content);
    server.ok(&[
        "cp",
        big.to_str().unwrap(),
        &format!("{b}/big.bin"),
        "--part-size",
        "4",
        "--threads",
        "3",
    ]);

    let listing = server.ok(&["ls", b]);
    assert!(
        listing.contains("DIR") && listing.contains("/docs/"),
        "{listing}"
    );
    assert!(
        listing.contains("23068672") && listing.contains("big.bin"),
        "{listing}"
    );
    let recursive = server.ok(&["ls", "-r", "--json", b]);
    assert!(
        recursive.contains("\"key\":\"docs/small.txt\""),
        "{recursive}"
    );

    let stat = server.ok(&["stat", &format!("{b}/docs/small.txt")]);
    assert!(stat.contains("content-type: text/x-cli"), "{stat}");
    assert!(stat.contains("x-cos-meta-owner: me"), "{stat}");
    assert_eq!(
        server.ok(&["cat", &format!("{b}/docs/small.txt")]),
        "hello cli"
    );

    // Down, and cos → cos.
    let back = dir.path().join("back.bin");
    server.ok(&["cp", &format!("{b}/big.bin"), back.to_str().unwrap()]);
    assert!(std::fs::read(&back).unwrap() == big_content);
    server.ok(&[
        "cp",
        &format!("{b}/docs/small.txt"),
        &format!("{b}/copies/"),
    ]);
    assert_eq!(
        server.ok(&["cat", &format!("{b}/copies/small.txt")]),
        "hello cli"
    );

    // Trees with nested unicode names, both ways.
    let tree = dir.path().join("tree");
    write(&tree.join("a.txt"), b"a");
    write(&tree.join("子目录/深 层/b.txt"), b"b");
    write(&tree.join("x/y/z.bin"), &data(1000, 2));
    server.ok(&["cp", "-r", tree.to_str().unwrap(), &format!("{b}/tree")]);
    let restored = dir.path().join("restored");
    server.ok(&[
        "cp",
        "-r",
        &format!("{b}/tree/"),
        restored.to_str().unwrap(),
    ]);
    assert_eq!(
        std::fs::read(restored.join("子目录/深 层/b.txt")).unwrap(),
        b"b"
    );
    assert_eq!(
        std::fs::read(restored.join("x/y/z.bin")).unwrap(),
        data(1000, 2)
    );

    // Errors: service code, message, request id, the path, non-zero exit; no panic.
    let missing = server.run(&["cat", &format!("{b}/nope")]);
    assert!(!missing.status.success());
    let err = String::from_utf8_lossy(&missing.stderr);
    assert!(
        err.contains("NoSuchKey") && err.contains("request id") && err.contains("nope"),
        "{err}"
    );
    assert!(!err.contains("panicked"));
    let bad = server.run(&["ls", "cos://bad_name"]);
    assert!(!bad.status.success());

    // rm: one key, then a prefix (needs --yes when not on a terminal).
    server.ok(&["rm", &format!("{b}/copies/small.txt")]);
    let refused = server.run(&["rm", "-r", &format!("{b}/tree/")]);
    assert!(!refused.status.success());
    assert!(server
        .ok(&["rm", "-r", "--yes", &format!("{b}/tree/")])
        .contains("deleted 3 objects"));
    assert!(!server.ok(&["ls", "-r", b]).contains("tree/"));

    // rb refuses a non-empty bucket; --force empties it first.
    assert!(!server.run(&["rb", b]).status.success());
    server.ok(&["rb", "--force", b]);
    assert!(!server.ok(&["ls"]).contains("clitest"));
}
