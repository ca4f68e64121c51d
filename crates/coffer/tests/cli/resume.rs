//! An interrupted `cp` of a large file (the client killed with SIGKILL in the middle) is
//! finished by running the same command again, which reuses the parts already done instead
//! of sending or fetching them again. Upload and download.
//!
//! The first run is slowed down with `--traffic-limit` (1 MiB/s per request, one thread,
//! 1 MiB parts: about a part a second) so that it can be killed after a few parts; the rerun
//! goes at full speed.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::Duration;

use crate::support::{block_on, noise, resumed_parts, start, wait_for, write, Server};

const BUCKET: &str = "resume-1250000000";
/// 24 MiB: above the 20 MiB multipart threshold of both directions, 24 parts of 1 MiB.
const SIZE: usize = 24 << 20;
const PARTS: usize = 24;
/// 8 Mbit/s = 1 MiB/s per request.
const SLOW: &str = "8388608";
/// How long to wait for anything; the normal case takes a few seconds.
const PATIENCE: Duration = Duration::from_secs(60);

/// A client process that is killed when dropped (also when the test fails first).
struct Running(Child);

impl Running {
    fn spawn(server: &Server, args: &[&str]) -> Running {
        Running(
            server
                .command(args)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap(),
        )
    }

    /// Panics if the throttled client already ended: it must still be running when killed.
    fn assert_running(&mut self) {
        if let Some(status) = self.0.try_wait().unwrap() {
            let mut stderr = String::new();
            if let Some(mut pipe) = self.0.stderr.take() {
                let _ = pipe.read_to_string(&mut stderr);
            }
            panic!("the throttled cp ended before it was interrupted ({status}): {stderr}");
        }
    }

    /// SIGKILL, and reap it.
    fn kill(&mut self) {
        self.assert_running();
        self.0.kill().unwrap();
        let status = self.0.wait().unwrap();
        assert!(!status.success(), "{status}");
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The unfinished uploads of the bucket (key, upload id) and the part numbers stored for each.
fn unfinished(server: &Server) -> Vec<(String, String, BTreeSet<u32>)> {
    let client = server.sdk();
    block_on(async {
        let mut found = Vec::new();
        for upload in client.list_all_multipart_uploads(BUCKET, "").await.unwrap() {
            let parts = client
                .list_all_parts(BUCKET, &upload.key, &upload.upload_id)
                .await
                .unwrap();
            found.push((
                upload.key,
                upload.upload_id,
                parts.iter().map(|p| p.part_number).collect(),
            ));
        }
        found
    })
}

/// The part numbers a download's resume record lists as done, if the record is there.
fn recorded_parts(record: &Path) -> Option<BTreeSet<u32>> {
    let bytes = std::fs::read(record).ok()?;
    let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    Some(
        json["done"]
            .as_object()
            .unwrap_or_else(|| panic!("no done parts in {json}"))
            .keys()
            .map(|k| k.parse().unwrap())
            .collect(),
    )
}

/// The names of the entries of a directory.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// `1..=n` as a set.
fn first(n: usize) -> BTreeSet<u32> {
    (1..=n as u32).collect()
}

#[test]
fn interrupted_upload_resumes_without_sending_done_parts_again() {
    let server = start();
    server.ok(&["mb", &format!("cos://{BUCKET}")]);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.bin");
    let content = noise(SIZE, 1);
    write(&file, &content);
    let checkpoints = dir.path().join("checkpoints");
    let target = format!("cos://{BUCKET}/big.bin");
    let command = [
        "cp",
        file.to_str().unwrap(),
        &target,
        "--part-size",
        "1",
        "--threads",
        "1",
        "--checkpoint-dir",
        checkpoints.to_str().unwrap(),
    ];
    let mut throttled = command.to_vec();
    throttled.extend(["--traffic-limit", SLOW]);

    // Killed once three parts are on the server.
    let mut client = Running::spawn(&server, &throttled);
    wait_for("3 parts of the upload on the server", PATIENCE, || {
        client.assert_running();
        let uploads = unfinished(&server);
        (uploads.len() == 1 && uploads[0].2.len() >= 3).then_some(())
    });
    client.kill();
    let uploads = unfinished(&server);
    assert_eq!(uploads.len(), 1, "{uploads:?}");
    let (key, upload_id, stored) = &uploads[0];
    assert_eq!(key, "big.bin");
    // One thread sends the parts in order; the upload is far from done.
    assert!(stored.len() < PARTS, "{stored:?}");
    assert_eq!(stored, &first(stored.len()));
    let records = names(&checkpoints);
    assert!(
        records.len() == 1 && records[0].starts_with("upload-"),
        "{records:?}"
    );
    let record = std::fs::read_to_string(checkpoints.join(&records[0])).unwrap();
    assert!(record.contains(upload_id.as_str()), "{record}");
    let listing = server.ok(&["ls", "--uploads", &format!("cos://{BUCKET}")]);
    assert!(
        listing.contains(upload_id.as_str()) && listing.contains("big.bin"),
        "{listing}"
    );

    // The same command again (at full speed) continues that upload.
    let summary = server.ok(&command);
    let resumed = resumed_parts(&summary).unwrap_or_else(|| panic!("not resumed: {summary}"));
    assert!(
        resumed >= stored.len() && resumed < PARTS,
        "resumed {resumed} parts, {} were stored: {summary}",
        stored.len()
    );
    assert!(
        summary.contains(&format!("({SIZE} bytes, ETag ")),
        "{summary}"
    );
    let back = server.run(&["cat", &target]);
    assert!(back.status.success());
    assert!(back.stdout == content, "the object differs from the file");
    let left = unfinished(&server);
    assert!(left.is_empty(), "unfinished uploads left: {left:?}");
    assert!(names(&checkpoints).is_empty(), "{:?}", names(&checkpoints));
}

#[test]
fn interrupted_download_resumes_without_fetching_done_parts_again() {
    let server = start();
    server.ok(&["mb", &format!("cos://{BUCKET}")]);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("source.bin");
    let content = noise(SIZE, 2);
    write(&file, &content);
    let target = format!("cos://{BUCKET}/big.bin");
    server.ok(&["cp", file.to_str().unwrap(), &target]);

    let down = dir.path().join("down");
    std::fs::create_dir(&down).unwrap();
    let dest = down.join("big.bin");
    let record = down.join("big.bin.coffer-part.json");
    let command = [
        "cp",
        &target,
        dest.to_str().unwrap(),
        "--part-size",
        "1",
        "--threads",
        "1",
    ];
    let mut throttled = command.to_vec();
    throttled.extend(["--traffic-limit", SLOW]);

    // Killed once the resume record lists three parts.
    let mut client = Running::spawn(&server, &throttled);
    wait_for("3 parts in the download record", PATIENCE, || {
        client.assert_running();
        recorded_parts(&record).filter(|done| done.len() >= 3)
    });
    client.kill();
    let done = recorded_parts(&record).unwrap();
    assert!(done.len() < PARTS, "{done:?}");
    assert_eq!(done, first(done.len()));
    assert!(down.join("big.bin.coffer-part").exists());
    assert!(!dest.exists());
    // A kill in the middle of rewriting the record leaves its temporary file (rare).
    let mut expected: Vec<String> = names(&down)
        .into_iter()
        .filter(|name| name.ends_with(".tmp"))
        .collect();
    expected.push("big.bin".into());
    expected.sort();

    // The same command again (at full speed) fetches only the rest.
    let summary = server.ok(&command);
    let resumed = resumed_parts(&summary).unwrap_or_else(|| panic!("not resumed: {summary}"));
    assert_eq!(resumed, done.len(), "{summary}");
    assert!(summary.contains(&format!("({SIZE} bytes")), "{summary}");
    assert!(
        std::fs::read(&dest).unwrap() == content,
        "the download differs from the object"
    );
    assert_eq!(names(&down), expected);
}
