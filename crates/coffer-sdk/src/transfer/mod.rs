//! The transfer manager: the Python SDK's "advanced APIs" (protocol reference §10) — files up
//! and down in parallel parts with resume after an interruption (even a killed process),
//! copies of any size, and whole folders.
//!
//! * [`upload_file`](crate::CosClient::upload_file): one PUT up to a threshold, else a
//!   multipart upload on several connections; a later call for the same file finds the
//!   unfinished upload on the server, checks the parts already there against the local bytes
//!   (size and MD5) and sends only the missing ones.
//! * [`download_file`](crate::CosClient::download_file): one GET, or ranged GETs written into
//!   a temporary file beside the destination (renamed when complete), with a small JSON
//!   record of finished parts so that a later call resumes; CRC-64 check of the result.
//! * [`copy`](crate::CosClient::copy): copy_object below a threshold, parallel
//!   upload_part_copy above it.
//! * [`upload_folder`](crate::CosClient::upload_folder) and
//!   [`download_prefix`](crate::CosClient::download_prefix): many files concurrently, with a
//!   summary of what succeeded, was skipped and failed.

mod copy;
mod download;
mod folder;
pub mod paths;
mod upload;

use std::collections::VecDeque;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

pub use copy::{CopyOutput, CopyRequest};
pub use download::{DownloadFileOutput, DownloadFileRequest};
pub use folder::{DownloadPrefixRequest, TransferSummary, UploadFolderRequest};
pub use upload::{UploadFileOutput, UploadFileRequest};

use crate::error::{Error, Result};

const MIB: u64 = 1024 * 1024;

/// Most parts of one multipart upload.
pub const MAX_PARTS: u64 = 10_000;

/// One part of a transfer: number (1-based), offset and length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PartPlan {
    pub(crate) number: u32,
    pub(crate) offset: u64,
    pub(crate) len: u64,
}

/// The part size actually used: at least `min`, grown so that no more than `max_parts` parts
/// are needed (rounded up to a whole MiB).
pub(crate) fn effective_part_size(size: u64, wanted: u64, min: u64, max_parts: u64) -> u64 {
    let mut part = wanted.max(min);
    if size.div_ceil(part) > max_parts {
        part = size.div_ceil(max_parts).div_ceil(MIB) * MIB;
    }
    part
}

/// Splits `size` bytes into parts of `part_size` (the last one shorter).
pub(crate) fn plan_parts(size: u64, part_size: u64) -> Vec<PartPlan> {
    let count = size.div_ceil(part_size).max(1);
    (0..count)
        .map(|i| {
            let offset = i * part_size;
            PartPlan {
                number: (i + 1) as u32,
                offset,
                len: part_size.min(size - offset),
            }
        })
        .collect()
}

/// Runs `work` for every item on `threads` concurrent tasks. Stops handing out items after
/// the first failure and returns that failure; otherwise the results in completion order.
pub(crate) async fn run_parallel<T, R, F, Fut>(
    items: Vec<T>,
    threads: usize,
    work: F,
) -> Result<Vec<R>>
where
    T: Send + 'static,
    R: Send + 'static,
    F: Fn(T) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<R>> + Send + 'static,
{
    let queue = Arc::new(Mutex::new(VecDeque::from(items)));
    let failed = Arc::new(AtomicBool::new(false));
    let work = Arc::new(work);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..threads.max(1) {
        let queue = Arc::clone(&queue);
        let failed = Arc::clone(&failed);
        let work = Arc::clone(&work);
        tasks.spawn(async move {
            let mut results = Vec::new();
            loop {
                if failed.load(Ordering::Relaxed) {
                    return Ok(results);
                }
                let next = queue.lock().ok().and_then(|mut q| q.pop_front());
                let Some(item) = next else {
                    return Ok(results);
                };
                match work(item).await {
                    Ok(r) => results.push(r),
                    Err(e) => {
                        failed.store(true, Ordering::Relaxed);
                        return Err(e);
                    }
                }
            }
        });
    }
    let mut all = Vec::new();
    let mut first_error = None;
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(Ok(results)) => all.extend(results),
            Ok(Err(e)) => {
                first_error.get_or_insert(e);
            }
            Err(join_error) => {
                first_error.get_or_insert(Error::Client(
                    crate::error::ClientError::InvalidResponse(format!(
                        "transfer task failed: {join_error}"
                    )),
                ));
            }
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(all),
    }
}

/// Combines per-part CRC-64 values (in part order) into the CRC of the whole.
pub(crate) fn combine_crc64(parts: impl IntoIterator<Item = (u64, u64)>) -> u64 {
    parts.into_iter().fold(0u64, |acc, (crc, len)| {
        coffer_proto::checksum::crc64_combine(acc, crc, len)
    })
}

/// Writes `value` as JSON to `path` atomically (see [`write_atomically`]).
pub(crate) fn write_json_atomically<V: serde::Serialize>(
    path: &std::path::Path,
    value: &V,
) -> std::io::Result<()> {
    write_atomically(
        path,
        &serde_json::to_vec(value).map_err(std::io::Error::other)?,
    )
}

/// Replaces `path` with `bytes` atomically: a uniquely named temporary file beside it (so
/// concurrent writers never share one), synced, then renamed over it.
pub(crate) fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut temp = path.as_os_str().to_os_string();
    temp.push(format!(".{:016x}.tmp", rand::random::<u64>()));
    let temp = std::path::PathBuf::from(temp);
    let result = (|| {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

/// Removes a finished transfer's record and any temporary copy of it that a process killed
/// in the middle of [`write_atomically`] left behind (`<record>.<16 hex>.tmp`).
pub(crate) fn remove_record(path: &std::path::Path) {
    let _ = std::fs::remove_file(path);
    let (Some(dir), Some(name)) = (path.parent(), path.file_name().and_then(|n| n.to_str())) else {
        return;
    };
    let dir = if dir.as_os_str().is_empty() {
        std::path::Path::new(".")
    } else {
        dir
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(rest) = file_name
            .to_str()
            .and_then(|n| n.strip_prefix(name))
            .and_then(|n| n.strip_prefix('.'))
            .and_then(|n| n.strip_suffix(".tmp"))
        else {
            continue;
        };
        if rest.len() == 16 && rest.bytes().all(|b| b.is_ascii_hexdigit()) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Reads a JSON record, `None` when absent or unreadable (a stale or damaged record only
/// means no resume).
pub(crate) fn read_json<V: serde::de::DeserializeOwned>(path: &std::path::Path) -> Option<V> {
    let bytes = std::fs::read(path).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// A stable file name for a checkpoint: MD5 of the identifying strings.
pub(crate) fn checkpoint_name(kind: &str, parts: &[&str]) -> String {
    use md5::{Digest, Md5};
    let mut hasher = Md5::new();
    for p in parts {
        hasher.update(p.as_bytes());
        hasher.update([0]);
    }
    format!("{kind}-{}.json", hex::encode(hasher.finalize()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Tests may panic: that is how they fail.
mod tests {
    use super::*;

    #[test]
    fn finished_records_take_their_stale_temporaries_along() {
        let dir = tempfile::tempdir().unwrap();
        let record = dir.path().join("x.coffer-part.json");
        write_atomically(&record, b"{}").unwrap();
        // What a kill between write and rename leaves.
        let stale = dir.path().join("x.coffer-part.json.0123456789abcdef.tmp");
        std::fs::write(&stale, b"{").unwrap();
        let unrelated = dir.path().join("x.coffer-part.json.mine.tmp");
        std::fs::write(&unrelated, b"keep").unwrap();
        remove_record(&record);
        assert!(!record.exists() && !stale.exists());
        assert!(unrelated.exists());
    }

    #[test]
    fn part_sizes_grow_to_stay_within_10000_parts() {
        assert_eq!(effective_part_size(10 * MIB, MIB, MIB, MAX_PARTS), MIB);
        let huge = 50_000 * MIB;
        let part = effective_part_size(huge, MIB, MIB, MAX_PARTS);
        assert!(huge.div_ceil(part) <= MAX_PARTS);
        assert_eq!(part % MIB, 0);
        assert_eq!(effective_part_size(10, 1, MIB, MAX_PARTS), MIB);
    }

    #[test]
    fn plans_cover_the_file_exactly() {
        let parts = plan_parts(10 * MIB + 5, 4 * MIB);
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[2].len, 2 * MIB + 5);
        assert_eq!(parts.iter().map(|p| p.len).sum::<u64>(), 10 * MIB + 5);
        assert_eq!(plan_parts(0, MIB).len(), 1);
    }

    #[test]
    fn crc_combination_matches_the_whole() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7) as u8).collect();
        let (a, b) = data.split_at(40_000);
        let combined = combine_crc64([
            (coffer_proto::checksum::crc64(a), a.len() as u64),
            (coffer_proto::checksum::crc64(b), b.len() as u64),
        ]);
        assert_eq!(combined, coffer_proto::checksum::crc64(&data));
    }
}
