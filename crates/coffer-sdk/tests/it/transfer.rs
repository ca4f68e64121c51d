//! The transfer manager: upload_file / download_file (simple, parallel, resumed after a
//! killed process), copy, folders.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use coffer_sdk::{
    CopyRequest, CopySource, CreateMultipartUploadRequest, DownloadFileRequest,
    DownloadPrefixRequest, GetObjectRequest, ListMultipartUploadsRequest, MetadataDirective,
    PutObjectRequest, UploadFileRequest, UploadFolderRequest, UploadPartRequest,
};

use crate::support::{data, TestServer};

const B: &str = "transfer";
const MIB: u64 = 1024 * 1024;

/// Records progress calls: the last value and whether values ever exceeded the total.
#[derive(Default)]
struct ProgressLog {
    last: AtomicU64,
    calls: AtomicU64,
    over: AtomicU64,
}

impl ProgressLog {
    fn callback(self: &Arc<Self>) -> impl Fn(u64, u64) + Send + Sync + 'static {
        let log = Arc::clone(self);
        move |done, total| {
            log.last.store(done, Ordering::SeqCst);
            log.calls.fetch_add(1, Ordering::SeqCst);
            if done > total {
                log.over.fetch_add(1, Ordering::SeqCst);
            }
        }
    }
}

#[tokio::test]
async fn upload_and_download_small_and_multipart() {
    let server = TestServer::start().await;
    let client = server.client_with_bucket(B).await;
    let dir = tempfile::tempdir().unwrap();

    // Simple path.
    let small = dir.path().join("small.bin");
    std::fs::write(&small, data(100_000, 1)).unwrap();
    let out = client
        .upload_file(UploadFileRequest::new(B, "small", &small).content_type("application/x-test"))
        .await
        .unwrap();
    assert!(!out.multipart);

    // Multipart path: 6.5 MiB in 1 MiB parts, MD5 on every part.
    let content = data((6 * MIB + MIB / 2) as usize, 2);
    let big = dir.path().join("big.bin");
    std::fs::write(&big, &content).unwrap();
    let log = Arc::new(ProgressLog::default());
    let out = client
        .upload_file(
            UploadFileRequest::new(B, "big", &big)
                .threshold(MIB)
                .threads(3)
                .enable_md5(true)
                .metadata("origin", "test")
                .progress(log.callback()),
        )
        .await
        .unwrap();
    assert!(out.multipart);
    assert_eq!(out.parts_uploaded, (1..=7).collect::<Vec<u32>>());
    assert!(out.etag.ends_with("-7\""));
    assert_eq!(out.crc64, Some(coffer_proto::checksum::crc64(&content)));
    assert_eq!(log.last.load(Ordering::SeqCst), content.len() as u64);
    assert_eq!(log.over.load(Ordering::SeqCst), 0);
    assert_eq!(
        client
            .head_object((B, "big"))
            .await
            .unwrap()
            .metadata
            .get("origin")
            .map(String::as_str),
        Some("test")
    );
    // No upload left behind.
    let uploads = client
        .list_multipart_uploads(ListMultipartUploadsRequest::new(B))
        .await
        .unwrap();
    assert!(uploads.uploads.is_empty());

    // Download: one GET, then ranged parts.
    let back = dir.path().join("nested/dir/back.bin");
    let out = client
        .download_file(DownloadFileRequest::new(B, "small", &back))
        .await
        .unwrap();
    assert!(out.crc_checked);
    assert_eq!(std::fs::read(&back).unwrap(), data(100_000, 1));
    let log = Arc::new(ProgressLog::default());
    let out = client
        .download_file(
            DownloadFileRequest::new(B, "big", &back)
                .threshold(MIB)
                .part_size(MIB)
                .threads(4)
                .progress(log.callback()),
        )
        .await
        .unwrap();
    assert!(out.crc_checked);
    assert_eq!(out.parts_downloaded.len(), 7);
    assert_eq!(std::fs::read(&back).unwrap(), content);
    assert_eq!(log.last.load(Ordering::SeqCst), content.len() as u64);
    assert_no_leftovers(back.parent().unwrap(), "back.bin");
}

#[tokio::test]
async fn large_file_round_trip_with_progress() {
    let server = TestServer::start().await;
    let client = server.client_with_bucket(B).await;
    let dir = tempfile::tempdir().unwrap();
    let size = 100 * MIB as usize;
    let content = data(size, 3);
    let path = dir.path().join("large.bin");
    std::fs::write(&path, &content).unwrap();
    let up = Arc::new(ProgressLog::default());
    let out = client
        .upload_file(
            UploadFileRequest::new(B, "large", &path)
                .part_size(8 * MIB)
                .progress(up.callback()),
        )
        .await
        .unwrap();
    assert_eq!(out.parts_uploaded.len(), 13);
    assert_eq!(up.last.load(Ordering::SeqCst), size as u64);
    assert!(
        up.calls.load(Ordering::SeqCst) > 13,
        "progress is reported within parts"
    );
    let back = dir.path().join("large.back");
    let down = Arc::new(ProgressLog::default());
    let out = client
        .download_file(DownloadFileRequest::new(B, "large", &back).progress(down.callback()))
        .await
        .unwrap();
    assert!(out.crc_checked);
    assert_eq!(down.last.load(Ordering::SeqCst), size as u64);
    assert!(std::fs::read(&back).unwrap() == content);
}

#[tokio::test]
async fn upload_resumes_from_verified_parts_only() {
    let server = TestServer::start().await;
    let client = server.client_with_bucket(B).await;
    let dir = tempfile::tempdir().unwrap();
    let content = data(5 * MIB as usize, 4);
    let path = dir.path().join("f.bin");
    std::fs::write(&path, &content).unwrap();
    // An earlier attempt left parts 1 and 3.
    let created = client
        .create_multipart_upload(CreateMultipartUploadRequest::new(B, "resumed"))
        .await
        .unwrap();
    for n in [1u32, 3] {
        let start = (n as usize - 1) * MIB as usize;
        client
            .upload_part(
                UploadPartRequest::new(B, "resumed", &created.upload_id, n)
                    .body(content[start..start + MIB as usize].to_vec()),
            )
            .await
            .unwrap();
    }
    let out = client
        .upload_file(UploadFileRequest::new(B, "resumed", &path).threshold(MIB))
        .await
        .unwrap();
    assert_eq!(out.upload_id.as_deref(), Some(created.upload_id.as_str()));
    assert_eq!(out.parts_reused, vec![1, 3]);
    assert_eq!(out.parts_uploaded, vec![2, 4, 5]);
    assert_eq!(get(&client, "resumed").await, content);

    // A leftover part with other bytes is not trusted: a new upload is made.
    let stale = client
        .create_multipart_upload(CreateMultipartUploadRequest::new(B, "stale"))
        .await
        .unwrap();
    client
        .upload_part(
            UploadPartRequest::new(B, "stale", &stale.upload_id, 1).body(vec![0u8; MIB as usize]),
        )
        .await
        .unwrap();
    let out = client
        .upload_file(UploadFileRequest::new(B, "stale", &path).threshold(MIB))
        .await
        .unwrap();
    assert_ne!(out.upload_id.as_deref(), Some(stale.upload_id.as_str()));
    assert!(out.parts_reused.is_empty());
    assert_eq!(get(&client, "stale").await, content);
}

/// Run by `killed_upload_resumes` in a child process, which it then kills.
#[tokio::test]
#[ignore = "child half of killed_upload_resumes"]
async fn child_transfer() {
    let Ok(mode) = std::env::var("COFFER_CHILD_MODE") else {
        return;
    };
    let addr: std::net::SocketAddr = std::env::var("COFFER_CHILD_ADDR").unwrap().parse().unwrap();
    let path = std::env::var("COFFER_CHILD_PATH").unwrap();
    let client = coffer_sdk::CosClient::new(
        coffer_sdk::CosConfig::new(crate::support::REGION)
            .credentials(crate::support::SECRET_ID, crate::support::SECRET_KEY)
            .scheme(coffer_sdk::Scheme::Http)
            .ip(addr.ip().to_string())
            .port(addr.port())
            .appid(crate::support::APPID),
    )
    .unwrap();
    // 8 Mbit/s per request: each 1 MiB part takes about a second.
    match mode.as_str() {
        "upload" => {
            client
                .upload_file(
                    UploadFileRequest::new(B, "killed", &path)
                        .threshold(MIB)
                        .threads(2)
                        .traffic_limit(8_000_000),
                )
                .await
                .unwrap();
        }
        _ => {
            client
                .download_file(
                    DownloadFileRequest::new(B, "killed", &path)
                        .threshold(MIB)
                        .part_size(MIB)
                        .threads(2)
                        .traffic_limit(8_000_000),
                )
                .await
                .unwrap();
        }
    }
}

fn spawn_child(server: &TestServer, mode: &str, path: &Path) -> std::process::Child {
    std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "transfer::child_transfer",
            "--exact",
            "--ignored",
            "--nocapture",
        ])
        .env("COFFER_CHILD_MODE", mode)
        .env("COFFER_CHILD_ADDR", server.addr.to_string())
        .env("COFFER_CHILD_PATH", path)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

#[tokio::test]
async fn killed_upload_resumes_without_resending_parts() {
    let server = TestServer::start().await;
    let client = server.client_with_bucket(B).await;
    let dir = tempfile::tempdir().unwrap();
    let content = data(12 * MIB as usize, 5);
    let path = dir.path().join("up.bin");
    std::fs::write(&path, &content).unwrap();

    let mut child = spawn_child(&server, "upload", &path);
    // Wait until the server holds at least three finished parts, then SIGKILL the uploader.
    let mut upload_id = None;
    for _ in 0..300 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let uploads = client
            .list_all_multipart_uploads(B, "killed")
            .await
            .unwrap();
        if let Some(upload) = uploads.first() {
            let parts = client
                .list_all_parts(B, "killed", &upload.upload_id)
                .await
                .unwrap();
            if parts.len() >= 3 {
                upload_id = Some(upload.upload_id.clone());
                break;
            }
        }
    }
    let _ = child.kill();
    child.wait().unwrap();
    let upload_id = upload_id.expect("the child never got three parts up");
    // Parts that completed between the listing and the kill count too.
    let before = client
        .list_all_parts(B, "killed", &upload_id)
        .await
        .unwrap();
    assert!(before.len() >= 3, "the child never got three parts up");
    assert!(before.len() < 12, "the child finished before it was killed");

    let out = client
        .upload_file(UploadFileRequest::new(B, "killed", &path).threshold(MIB))
        .await
        .unwrap();
    let reused: BTreeSet<u32> = out.parts_reused.iter().copied().collect();
    let listed: BTreeSet<u32> = before.iter().map(|p| p.part_number).collect();
    assert_eq!(reused, listed, "exactly the parts on the server were kept");
    let sent: BTreeSet<u32> = out.parts_uploaded.iter().copied().collect();
    assert!(sent.is_disjoint(&listed), "no finished part is sent again");
    assert_eq!(sent.len() + listed.len(), 12);
    assert_eq!(get(&client, "killed").await, content);
}

#[tokio::test]
async fn killed_download_resumes_without_refetching_parts() {
    let server = TestServer::start().await;
    let client = server.client_with_bucket(B).await;
    let dir = tempfile::tempdir().unwrap();
    let content = data(12 * MIB as usize, 6);
    client
        .put_object(PutObjectRequest::new(B, "killed").body(content.clone()))
        .await
        .unwrap();
    let dest = dir.path().join("down.bin");
    let record = dir.path().join("down.bin.coffer-part.json");

    let mut child = spawn_child(&server, "download", &dest);
    for _ in 0..300 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if recorded_parts(&record).is_some_and(|done| done.len() >= 3) {
            break;
        }
    }
    let _ = child.kill();
    child.wait().unwrap();
    let done_before = recorded_parts(&record).unwrap_or_default();
    assert!(
        done_before.len() >= 3,
        "the child never finished three parts"
    );
    assert!(done_before.len() < 12);
    assert!(!dest.exists(), "no partial file under the destination name");

    let out = client
        .download_file(
            DownloadFileRequest::new(B, "killed", &dest)
                .threshold(MIB)
                .part_size(MIB),
        )
        .await
        .unwrap();
    let reused: BTreeSet<u32> = out.parts_reused.iter().copied().collect();
    assert_eq!(reused, done_before);
    let fetched: BTreeSet<u32> = out.parts_downloaded.iter().copied().collect();
    assert!(fetched.is_disjoint(&done_before));
    assert_eq!(fetched.len() + reused.len(), 12);
    assert!(out.crc_checked);
    assert!(std::fs::read(&dest).unwrap() == content);
    assert!(!record.exists());
}

fn recorded_parts(record: &Path) -> Option<BTreeSet<u32>> {
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(record).ok()?).ok()?;
    Some(
        json.get("done")?
            .as_object()?
            .keys()
            .filter_map(|k| k.parse().ok())
            .collect(),
    )
}

#[tokio::test]
async fn download_of_a_changed_object_starts_over() {
    let server = TestServer::start().await;
    let client = server.client_with_bucket(B).await;
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("x.bin");
    client
        .put_object(PutObjectRequest::new(B, "x").body(data(3 * MIB as usize, 7)))
        .await
        .unwrap();
    // A record of another version with "finished" parts must not be trusted.
    std::fs::write(
        dir.path().join("x.bin.coffer-part"),
        vec![0u8; 3 * MIB as usize],
    )
    .unwrap();
    std::fs::write(
        dir.path().join("x.bin.coffer-part.json"),
        format!(
            r#"{{"bucket":"{B}","key":"x","version_id":null,"etag":"\"old\"","last_modified":"x","size":{},"part_size":{MIB},"temp_file":{:?},"done":{{"1":0,"2":0}}}}"#,
            3 * MIB,
            dir.path().join("x.bin.coffer-part")
        ),
    )
    .unwrap();
    let out = client
        .download_file(
            DownloadFileRequest::new(B, "x", &dest)
                .threshold(MIB)
                .part_size(MIB),
        )
        .await
        .unwrap();
    assert!(out.parts_reused.is_empty());
    assert_eq!(std::fs::read(&dest).unwrap(), data(3 * MIB as usize, 7));
}

#[tokio::test]
async fn copy_small_and_multipart_across_buckets() {
    let server = TestServer::start().await;
    let client = server.client_with_bucket(B).await;
    client.create_bucket("dest").await.unwrap();
    let content = data(5 * MIB as usize + 3, 8);
    client
        .put_object(
            PutObjectRequest::new(B, "src")
                .body(content.clone())
                .content_type("video/x-test")
                .metadata("k", "v"),
        )
        .await
        .unwrap();
    let out = client
        .copy(CopyRequest::new(
            "dest",
            "small-copy",
            CopySource::new(B, "src"),
        ))
        .await
        .unwrap();
    assert!(!out.multipart);
    let out = client
        .copy(
            CopyRequest::new("dest", "part-copy", CopySource::new(B, "src"))
                .threshold(MIB)
                .part_size(MIB)
                .threads(3),
        )
        .await
        .unwrap();
    assert!(out.multipart);
    assert_eq!(out.size, content.len() as u64);
    let head = client.head_object(("dest", "part-copy")).await.unwrap();
    assert_eq!(head.content_type.as_deref(), Some("video/x-test"));
    assert_eq!(head.metadata.get("k").map(String::as_str), Some("v"));
    assert_eq!(get_from(&client, "dest", "part-copy").await, content);
    let out = client
        .copy(
            CopyRequest::new("dest", "replaced", CopySource::new(B, "src"))
                .threshold(MIB)
                .part_size(2 * MIB)
                .metadata_directive(MetadataDirective::Replaced)
                .content_type("text/plain"),
        )
        .await
        .unwrap();
    assert!(out.multipart);
    let head = client.head_object(("dest", "replaced")).await.unwrap();
    assert_eq!(head.content_type.as_deref(), Some("text/plain"));
    assert!(head.metadata.is_empty());
    let missing = client
        .copy(CopyRequest::new("dest", "x", CopySource::new(B, "missing")))
        .await
        .unwrap_err();
    assert!(missing.is_not_found());
}

#[tokio::test]
async fn folders_up_and_down() {
    let server = TestServer::start().await;
    let client = server.client_with_bucket(B).await;
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    let files = [
        ("a.txt", 10usize),
        ("nested/b.bin", 2 * MIB as usize + 1),
        ("nested/deeper/中文 名字.txt", 100),
        ("empty", 0),
    ];
    for (i, (name, len)) in files.iter().enumerate() {
        let path = src.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, data(*len, i as u64)).unwrap();
    }
    // One file is already there and is skipped.
    client
        .put_object(PutObjectRequest::new(B, "backup/a.txt").body("old"))
        .await
        .unwrap();
    let summary = client
        .upload_folder(UploadFolderRequest::new(B, "backup/", &src).part_size(MIB))
        .await
        .unwrap();
    assert!(summary.is_success(), "{:?}", summary.failed);
    assert_eq!(summary.skipped, vec!["backup/a.txt"]);
    assert_eq!(summary.succeeded.len(), 3);
    // A directory placeholder object is skipped on the way down.
    client
        .put_object(PutObjectRequest::new(B, "backup/nested/"))
        .await
        .unwrap();
    let out = dir.path().join("out");
    let summary = client
        .download_prefix(DownloadPrefixRequest::new(B, "backup/", &out))
        .await
        .unwrap();
    assert!(summary.is_success(), "{:?}", summary.failed);
    assert_eq!(summary.succeeded.len(), 4);
    for (i, (name, len)) in files.iter().enumerate().skip(1) {
        assert_eq!(
            std::fs::read(out.join(name)).unwrap(),
            data(*len, i as u64),
            "{name}"
        );
    }
    assert_eq!(std::fs::read(out.join("a.txt")).unwrap(), b"old");
    let again = client
        .download_prefix(DownloadPrefixRequest::new(B, "backup/", &out).skip_existing(true))
        .await
        .unwrap();
    assert_eq!(again.skipped.len(), 4);
}

async fn get(client: &coffer_sdk::CosClient, key: &str) -> Vec<u8> {
    get_from(client, B, key).await
}

async fn get_from(client: &coffer_sdk::CosClient, bucket: &str, key: &str) -> Vec<u8> {
    client
        .get_object(GetObjectRequest::new(bucket, key))
        .await
        .unwrap()
        .body
        .bytes()
        .await
        .unwrap()
        .to_vec()
}

fn assert_no_leftovers(dir: &Path, only: &str) {
    let names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec![only.to_string()]);
}
