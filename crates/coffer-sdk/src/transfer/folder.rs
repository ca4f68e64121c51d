//! Folder upload and prefix download: many files concurrently, with a summary.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use futures_util::TryStreamExt;

use super::paths::{key_for, local_path_for, walk_files};
use super::{run_parallel, DownloadFileRequest, UploadFileRequest};
use crate::body::{Progress, ProgressCallback};
use crate::client::CosClient;
use crate::error::{Error, Result};
use crate::ops::list::ListObjectsRequest;
use crate::ops::object::HeadObjectRequest;
use crate::types::{object_option_setters, ObjectOptions};

/// What a folder transfer did, file by file.
#[derive(Debug, Default)]
pub struct TransferSummary {
    /// Keys transferred.
    pub succeeded: Vec<String>,
    /// Keys skipped (already present).
    pub skipped: Vec<String>,
    /// Keys that failed, with the error.
    pub failed: Vec<(String, Error)>,
    /// Bytes transferred.
    pub bytes: u64,
}

impl TransferSummary {
    /// True when nothing failed.
    pub fn is_success(&self) -> bool {
        self.failed.is_empty()
    }
}

/// An `upload_folder` request.
#[derive(Debug, Clone)]
pub struct UploadFolderRequest {
    bucket: String,
    prefix: String,
    dir: PathBuf,
    files_at_once: usize,
    threads_per_file: usize,
    part_size: u64,
    skip_existing: bool,
    options: ObjectOptions,
    progress: Option<ProgressCallback>,
}

impl UploadFolderRequest {
    /// Uploads every file under `dir` to `<prefix><relative path>` in `bucket` (`/`
    /// separators; the prefix usually ends in `/` or is empty).
    pub fn new(
        bucket: impl Into<String>,
        prefix: impl Into<String>,
        dir: impl Into<PathBuf>,
    ) -> Self {
        UploadFolderRequest {
            bucket: bucket.into(),
            prefix: prefix.into(),
            dir: dir.into(),
            files_at_once: 4,
            threads_per_file: 2,
            part_size: 8 * 1024 * 1024,
            skip_existing: true,
            options: ObjectOptions::default(),
            progress: None,
        }
    }

    /// Files transferred at once (default 4).
    pub fn files_at_once(mut self, n: usize) -> Self {
        self.files_at_once = n.max(1);
        self
    }

    /// Parallel parts within one large file (default 2).
    pub fn threads_per_file(mut self, n: usize) -> Self {
        self.threads_per_file = n.max(1);
        self
    }

    /// Part size for large files (default 8 MiB).
    pub fn part_size(mut self, bytes: u64) -> Self {
        self.part_size = bytes;
        self
    }

    /// Skip files whose key already exists (default true, like the seed sample).
    pub fn skip_existing(mut self, skip: bool) -> Self {
        self.skip_existing = skip;
        self
    }

    /// Reports `(bytes done, bytes of all files)`.
    pub fn progress(mut self, callback: impl Fn(u64, u64) + Send + Sync + 'static) -> Self {
        self.progress = Some(ProgressCallback::new(callback));
        self
    }

    object_option_setters!();
}

/// A `download_prefix` request.
#[derive(Debug, Clone)]
pub struct DownloadPrefixRequest {
    bucket: String,
    prefix: String,
    dir: PathBuf,
    files_at_once: usize,
    threads_per_file: usize,
    skip_existing: bool,
    progress: Option<ProgressCallback>,
}

impl DownloadPrefixRequest {
    /// Downloads every object under `prefix` into `dir`, recreating the key's directories
    /// below the prefix.
    pub fn new(
        bucket: impl Into<String>,
        prefix: impl Into<String>,
        dir: impl Into<PathBuf>,
    ) -> Self {
        DownloadPrefixRequest {
            bucket: bucket.into(),
            prefix: prefix.into(),
            dir: dir.into(),
            files_at_once: 4,
            threads_per_file: 2,
            skip_existing: false,
            progress: None,
        }
    }

    /// Objects fetched at once (default 4).
    pub fn files_at_once(mut self, n: usize) -> Self {
        self.files_at_once = n.max(1);
        self
    }

    /// Parallel ranges within one large object (default 2).
    pub fn threads_per_file(mut self, n: usize) -> Self {
        self.threads_per_file = n.max(1);
        self
    }

    /// Skip objects whose local file exists with the same size (default false).
    pub fn skip_existing(mut self, skip: bool) -> Self {
        self.skip_existing = skip;
        self
    }

    /// Reports `(bytes done, bytes of all objects)`.
    pub fn progress(mut self, callback: impl Fn(u64, u64) + Send + Sync + 'static) -> Self {
        self.progress = Some(ProgressCallback::new(callback));
        self
    }
}

enum Outcome {
    Done(String, u64),
    Skipped(String),
    Failed(String, Error),
}

impl CosClient {
    /// Uploads a local folder (the seed's "batch upload"): every regular file, concurrently,
    /// skipping keys that already exist unless told otherwise. Failures do not stop the
    /// others; they are listed in the summary.
    pub async fn upload_folder(&self, request: UploadFolderRequest) -> Result<TransferSummary> {
        let r = Arc::new(request);
        let dir = r.dir.clone();
        let files = tokio::task::spawn_blocking(move || walk_files(&dir))
            .await
            .map_err(|e| Error::invalid(format!("directory walk failed: {e}")))?
            .map_err(|e| Error::io(format!("reading {}", r.dir.display()), e))?;
        let total: u64 = files.iter().map(|(_, size)| size).sum();
        let progress = Progress::new(total, r.progress.clone());
        let client = self.clone();
        let progress_for_tasks = Arc::clone(&progress);
        let outcomes = run_parallel(files, r.files_at_once, move |(path, size)| {
            let client = client.clone();
            let r = Arc::clone(&r);
            let progress = Arc::clone(&progress_for_tasks);
            async move {
                let key = match key_for(&r.dir, &path, &r.prefix) {
                    Some(key) => key,
                    None => {
                        let name = path.display().to_string();
                        return Ok(Outcome::Failed(
                            name.clone(),
                            Error::invalid(format!("{name}: not a UTF-8 path")),
                        ));
                    }
                };
                if r.skip_existing {
                    match client
                        .head_object(HeadObjectRequest::new(&r.bucket, &key))
                        .await
                    {
                        Ok(_) => {
                            progress.add(size);
                            return Ok(Outcome::Skipped(key));
                        }
                        Err(e) if e.is_not_found() => {}
                        Err(e) => return Ok(Outcome::Failed(key, e)),
                    }
                }
                let request = UploadFileRequest::new(&r.bucket, &key, &path)
                    .part_size(r.part_size)
                    .threads(r.threads_per_file)
                    .options(r.options.clone())
                    .progress(share_of(&progress));
                Ok(match client.upload_file(request).await {
                    Ok(_) => Outcome::Done(key, size),
                    Err(e) => Outcome::Failed(key, e),
                })
            }
        })
        .await?;
        progress.finish();
        Ok(summarize(outcomes))
    }

    /// Downloads every object under a prefix (the seed's "batch download"), recreating the
    /// directory tree; directory placeholder objects (keys ending in `/`) are skipped, and
    /// keys that would escape the target directory (`..`) fail.
    pub async fn download_prefix(&self, request: DownloadPrefixRequest) -> Result<TransferSummary> {
        let r = Arc::new(request);
        let objects: Vec<_> = self
            .list_objects_stream(ListObjectsRequest::new(&r.bucket).prefix(&r.prefix))
            .try_collect()
            .await?;
        let objects: Vec<_> = objects
            .into_iter()
            .filter(|o| !o.key.ends_with('/'))
            .collect();
        let total = objects.iter().map(|o| o.size).sum();
        let progress = Progress::new(total, r.progress.clone());
        let client = self.clone();
        let progress_for_tasks = Arc::clone(&progress);
        let outcomes = run_parallel(objects, r.files_at_once, move |object| {
            let client = client.clone();
            let r = Arc::clone(&r);
            let progress = Arc::clone(&progress_for_tasks);
            async move {
                let relative = object.key.strip_prefix(&r.prefix).unwrap_or(&object.key);
                let Some(path) = local_path_for(&r.dir, relative) else {
                    let e = Error::invalid(format!(
                        "key {:?} does not map to a path inside {}",
                        object.key,
                        r.dir.display()
                    ));
                    return Ok(Outcome::Failed(object.key, e));
                };
                if r.skip_existing
                    && std::fs::metadata(&path)
                        .map(|m| m.len() == object.size)
                        .unwrap_or(false)
                {
                    progress.add(object.size);
                    return Ok(Outcome::Skipped(object.key));
                }
                let request = DownloadFileRequest::new(&r.bucket, &object.key, &path)
                    .threads(r.threads_per_file)
                    .progress(share_of(&progress));
                Ok(match client.download_file(request).await {
                    Ok(out) => Outcome::Done(object.key, out.size),
                    Err(e) => Outcome::Failed(object.key, e),
                })
            }
        })
        .await?;
        progress.finish();
        Ok(summarize(outcomes))
    }
}

/// A per-file progress callback feeding an aggregate.
fn share_of(progress: &Arc<Progress>) -> impl Fn(u64, u64) + Send + Sync + 'static {
    let progress = Arc::clone(progress);
    let last = AtomicU64::new(0);
    move |done, _total| {
        let previous = last.swap(done, Ordering::Relaxed);
        if done > previous {
            progress.add(done - previous);
        } else if previous > done {
            progress.sub(previous - done);
        }
    }
}

fn summarize(outcomes: Vec<Outcome>) -> TransferSummary {
    let mut summary = TransferSummary::default();
    for outcome in outcomes {
        match outcome {
            Outcome::Done(key, bytes) => {
                summary.bytes += bytes;
                summary.succeeded.push(key);
            }
            Outcome::Skipped(key) => summary.skipped.push(key),
            Outcome::Failed(key, e) => summary.failed.push((key, e)),
        }
    }
    summary.succeeded.sort();
    summary.skipped.sort();
    summary.failed.sort_by(|a, b| a.0.cmp(&b.0));
    summary
}
