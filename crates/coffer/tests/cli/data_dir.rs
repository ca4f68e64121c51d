//! The data directory holds secret keys: created private, and a writable one is refused.

use crate::support::BIN;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

#[test]
fn serve_refuses_a_data_directory_others_can_write() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o777)).unwrap();
    let mut child = Command::new(BIN)
        .args(["serve", "--address", "127.0.0.1:0", "--data-dir"])
        .arg(&data)
        .env("COFFER_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("coffer serve started on a world-writable data directory");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!status.success());
    assert!(stderr.contains(&data.display().to_string()), "{stderr}");
    assert!(stderr.contains("chmod 700"), "{stderr}");
    assert!(!data.join("meta.redb").exists(), "nothing written there");
    assert_eq!(mode(&data), 0o777, "left for the operator to inspect");
}

#[test]
fn offline_admin_creates_a_private_data_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("fresh");
    let output = Command::new(BIN)
        .args([
            "admin",
            "user",
            "create",
            "--secret-id",
            "AKIDmode",
            "--data-dir",
        ])
        .arg(&data)
        .env_remove("COFFER_ENDPOINT")
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&data.join("meta.redb")), 0o600);
    assert_eq!(mode(&data.join("blobs")), 0o700);
    assert_eq!(mode(&data.join("blobs/00")), 0o700);
}
