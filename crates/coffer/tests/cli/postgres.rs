//! `--meta-url`: two nodes on one PostgreSQL database and one data directory serve the
//! same objects; no redb file is created; the offline admin commands work on the database.
//!
//! Needs `COFFER_TEST_PG_URL` (see `crates/coffer-meta-pg/tests/conformance.rs`): skipped
//! without it, except under `CI`, where that is a failure.

use crate::support::{start_on, write, BIN};
use std::process::Command;

/// A fresh database on the test server, by `psql`; its URL.
fn fresh_database(base: &str) -> String {
    let name = format!("cli_{:016x}", rand_u64());
    let status = Command::new("psql")
        .args([
            base,
            "-v",
            "ON_ERROR_STOP=1",
            "-qc",
            &format!("CREATE DATABASE {name}"),
        ])
        .status()
        .unwrap();
    assert!(status.success(), "psql CREATE DATABASE");
    let (server, _) = base.rsplit_once('/').unwrap();
    format!("{server}/{name}")
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos(),
    );
    hasher.finish()
}

#[test]
fn two_nodes_on_postgres_share_objects_and_no_redb_file_is_made() {
    let base = match std::env::var("COFFER_TEST_PG_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => {
            assert!(
                std::env::var("CI").map_or(true, |v| v.is_empty() || v == "false"),
                "under CI COFFER_TEST_PG_URL must be set"
            );
            eprintln!("skipped: COFFER_TEST_PG_URL not set");
            return;
        }
    };
    let url = fresh_database(&base);
    let shared = tempfile::tempdir().unwrap();
    let env = [("COFFER_META_URL", url.as_str())];
    let a = start_on(shared.path(), &env);
    let b = start_on(shared.path(), &env);
    assert!(!shared.path().join("meta.redb").exists());
    assert!(shared.path().join("blobs").is_dir());

    // Written through one node, read through the other (inline and blob-backed bodies).
    let bucket = "cos://pgnodes-1250000000";
    assert!(a.ok(&["mb", bucket]).contains("made"));
    let dir = tempfile::tempdir().unwrap();
    let small = dir.path().join("small.txt");
    write(&small, b"hello from node a");
    a.ok(&[
        "cp",
        small.to_str().unwrap(),
        &format!("{bucket}/small.txt"),
    ]);
    let big = dir.path().join("big.bin");
    let content: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    write(&big, &content);
    a.ok(&["cp", big.to_str().unwrap(), &format!("{bucket}/big.bin")]);
    assert_eq!(
        b.ok(&["cat", &format!("{bucket}/small.txt")]),
        "hello from node a"
    );
    let listing = b.ok(&["ls", bucket]);
    assert!(
        listing.contains("big.bin") && listing.contains("small.txt"),
        "{listing}"
    );
    // Deleted through the second node, gone for the first.
    b.ok(&["rm", &format!("{bucket}/small.txt")]);
    assert!(!a.ok(&["ls", bucket]).contains("small.txt"));

    // The offline admin command reads the accounts from the database while nodes serve.
    let output = Command::new(BIN)
        .args(["admin", "user", "list", "--data-dir"])
        .arg(shared.path())
        .env("COFFER_META_URL", &url)
        .env_remove("COFFER_ENDPOINT")
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stdout).contains("AKIDclitest"));
    assert!(!shared.path().join("meta.redb").exists());
}
