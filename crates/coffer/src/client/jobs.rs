//! Running transfers: one file or object, or many at once for recursive commands, each
//! through the SDK's upload_file / download_file / copy (parallel parts, resume on re-run),
//! all feeding one aggregate progress bar.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use anyhow::Context;
use coffer_sdk::{
    CopyRequest, CopySource, CosClient, DownloadFileRequest, MetadataDirective, ObjectOptions,
    UploadFileRequest,
};
use futures_util::StreamExt;
use indicatif::ProgressBar;

/// Part size of file uploads unless `--part-size` says otherwise: the SDK's default (1 MiB,
/// the Python SDK's) costs a request and an fsync on the server per MiB; 8 MiB parts upload
/// about 1.5× faster on loopback (docs/performance.md, "SDK transfers").
const DEFAULT_FILE_PART_SIZE: u64 = 8 << 20;

/// Transfer options shared by `cp`, `mv` and `sync`.
#[derive(Debug, Clone, clap::Args)]
pub struct TransferArgs {
    /// Part size in MiB for multipart transfers (default: 8 for files, 64 for copies; grown
    /// to stay within 10,000 parts). Files up to 20 MiB go in one request.
    #[arg(long, value_name = "MIB", value_parser = clap::value_parser!(u64).range(1..=5120))]
    pub part_size: Option<u64>,
    /// Parts of one file in flight at once.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=64))]
    pub threads: u64,
    /// Files transferred at once by recursive commands.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..=64))]
    pub jobs: u64,
    /// Storage class of the objects written (`STANDARD`, `STANDARD_IA`, `ARCHIVE`…).
    #[arg(long)]
    pub storage_class: Option<String>,
    /// User metadata `name=value` of the objects written (repeatable).
    #[arg(long = "meta", value_name = "NAME=VALUE")]
    pub meta: Vec<String>,
    /// Content-Type of the objects written.
    #[arg(long)]
    pub content_type: Option<String>,
    /// Bandwidth limit per request in bit/s (`x-cos-traffic-limit`, 819200–838860800).
    #[arg(long, value_name = "BITS_PER_SECOND")]
    pub traffic_limit: Option<u64>,
    /// Keep the resume records of uploads and downloads in this directory (default: beside
    /// the download, or the system's temporary directory for uploads). Running an interrupted
    /// command again continues where it stopped.
    #[arg(long, value_name = "DIR")]
    pub checkpoint_dir: Option<PathBuf>,
}

impl TransferArgs {
    /// The object options of writes: storage class, content type, traffic limit, metadata.
    pub fn object_options(&self) -> anyhow::Result<ObjectOptions> {
        let metadata = self
            .meta
            .iter()
            .map(|m| {
                m.split_once('=')
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .with_context(|| format!("--meta {m:?}: expected NAME=VALUE"))
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(ObjectOptions {
            storage_class: self.storage_class.clone(),
            content_type: self.content_type.clone(),
            traffic_limit: self.traffic_limit,
            metadata,
            ..ObjectOptions::default()
        })
    }
}

/// One transfer between a local file and an object, or between two objects.
#[derive(Debug, Clone)]
pub enum Transfer {
    /// A local file to an object.
    Upload {
        /// The file.
        path: PathBuf,
        /// Destination bucket.
        bucket: String,
        /// Destination key.
        key: String,
    },
    /// An object to a local file (parent directories are made).
    Download {
        /// Source bucket.
        bucket: String,
        /// Source key.
        key: String,
        /// The file written.
        path: PathBuf,
    },
    /// An object to another object, on the service's side.
    Copy {
        /// Source bucket.
        from_bucket: String,
        /// Source key.
        from_key: String,
        /// Destination bucket.
        bucket: String,
        /// Destination key.
        key: String,
    },
}

impl Transfer {
    /// `source -> destination`, as printed.
    pub fn describe(&self) -> String {
        format!("{} -> {}", self.source(), self.destination())
    }

    /// The source, as printed.
    pub fn source(&self) -> String {
        match self {
            Transfer::Upload { path, .. } => path.display().to_string(),
            Transfer::Download { bucket, key, .. } => format!("cos://{bucket}/{key}"),
            Transfer::Copy {
                from_bucket,
                from_key,
                ..
            } => format!("cos://{from_bucket}/{from_key}"),
        }
    }

    /// The destination, as printed.
    pub fn destination(&self) -> String {
        match self {
            Transfer::Upload { bucket, key, .. } | Transfer::Copy { bucket, key, .. } => {
                format!("cos://{bucket}/{key}")
            }
            Transfer::Download { path, .. } => path.display().to_string(),
        }
    }

    /// Removes the source (`mv`), once the transfer succeeded.
    pub async fn remove_source(&self, client: &CosClient) -> anyhow::Result<()> {
        match self {
            Transfer::Upload { path, .. } => tokio::fs::remove_file(path)
                .await
                .with_context(|| format!("removing {}", path.display())),
            Transfer::Download { bucket, key, .. }
            | Transfer::Copy {
                from_bucket: bucket,
                from_key: key,
                ..
            } => {
                client
                    .delete_object(bucket, key)
                    .await
                    .with_context(|| format!("deleting cos://{bucket}/{key}"))?;
                Ok(())
            }
        }
    }
}

/// A transfer and its size when known beforehand (the bar's total).
#[derive(Debug, Clone)]
pub struct Job {
    /// What to transfer.
    pub transfer: Transfer,
    /// Bytes, if known before starting (a single download learns it from the object).
    pub size: Option<u64>,
}

/// What a finished transfer reports.
#[derive(Debug)]
pub struct Done {
    /// The transfer.
    pub transfer: Transfer,
    /// Bytes of the file or object.
    pub size: u64,
    /// The resulting ETag (uploads and copies).
    pub etag: Option<String>,
    /// Parts found done from an earlier, interrupted run and not sent again.
    pub parts_reused: usize,
}

impl Done {
    /// `source -> destination (N bytes, ETag …, resumed K parts)`.
    pub fn line(&self) -> String {
        let mut details = vec![format!("{} bytes", self.size)];
        if let Some(etag) = &self.etag {
            details.push(format!("ETag {etag}"));
        }
        if self.parts_reused > 0 {
            details.push(format!("resumed {} parts", self.parts_reused));
        }
        format!("{} ({})", self.transfer.describe(), details.join(", "))
    }
}

/// The result of [`run_all`]: every job, done or failed.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Finished transfers.
    pub done: Vec<Done>,
    /// Failed transfers with why.
    pub failed: Vec<(Transfer, anyhow::Error)>,
}

impl Outcome {
    /// Bytes moved by the finished transfers.
    pub fn bytes(&self) -> u64 {
        self.done.iter().map(|d| d.size).sum()
    }

    /// The finished transfers if none failed; else the error of a lone transfer, or each
    /// failure printed and an error counting them.
    pub fn into_result(mut self) -> anyhow::Result<Vec<Done>> {
        let total = self.failed.len() + self.done.len();
        match self.failed.pop() {
            None => return Ok(self.done),
            Some((_, error)) if total == 1 => return Err(error),
            Some(last) => self.failed.push(last),
        }
        // Each error's context already names its transfer.
        for (_, error) in &self.failed {
            eprintln!("coffer: {error:#}");
        }
        anyhow::bail!("{} of {total} transfers failed", self.failed.len())
    }
}

/// Runs `jobs`, `args.jobs` at a time, each with `args.threads` parts in flight; the bar's
/// length is the sum of the sizes and it moves with every part. With `remove_source`, each
/// source is removed once its transfer succeeded (`mv`). Each finished transfer is printed
/// unless `quiet`.
pub async fn run_all(
    client: &CosClient,
    args: &TransferArgs,
    jobs: Vec<Job>,
    bar: &ProgressBar,
    remove_source: bool,
    quiet: bool,
) -> anyhow::Result<Outcome> {
    let options = args.object_options()?;
    bar.set_length(jobs.iter().filter_map(|j| j.size).sum());
    let label = bar.message();
    let count = jobs.len();
    let finished = AtomicU64::new(0);
    let (finished, label) = (&finished, &label);
    let results: Vec<(Transfer, anyhow::Result<Done>)> = futures_util::stream::iter(jobs)
        .map(|job| {
            let options = options.clone();
            async move {
                let transfer = job.transfer.clone();
                let mut result = run_one(client, args, job, options, bar).await;
                if let (true, Ok(_)) = (remove_source, &result) {
                    if let Err(e) = transfer.remove_source(client).await {
                        result = Err(e);
                    }
                }
                if let (false, Ok(done)) = (quiet, &result) {
                    bar.suspend(|| println!("{}", done.line()));
                }
                let n = finished.fetch_add(1, Ordering::Relaxed) + 1;
                if count > 1 {
                    bar.set_message(format!("{label} {n}/{count} files"));
                }
                (transfer, result)
            }
        })
        .buffer_unordered(args.jobs as usize)
        .collect()
        .await;
    let mut outcome = Outcome::default();
    for (transfer, result) in results {
        match result {
            Ok(done) => outcome.done.push(done),
            Err(e) => outcome.failed.push((transfer, e)),
        }
    }
    outcome.done.sort_by_key(|d| d.transfer.describe());
    Ok(outcome)
}

/// This job's share of the aggregate bar: progress reports move the bar by their increase;
/// an unknown size joins the bar's length at the first report.
struct Share {
    bar: ProgressBar,
    reported: AtomicU64,
    sized: AtomicBool,
}

impl Share {
    fn new(bar: &ProgressBar, size: Option<u64>) -> Arc<Share> {
        Arc::new(Share {
            bar: bar.clone(),
            reported: AtomicU64::new(0),
            sized: AtomicBool::new(size.is_some()),
        })
    }

    fn report(&self, done: u64, total: u64) {
        if !self.sized.swap(true, Ordering::Relaxed) {
            self.bar.inc_length(total);
        }
        let before = self.reported.fetch_max(done, Ordering::Relaxed);
        if done > before {
            self.bar.inc(done - before);
        }
    }

    fn callback(self: &Arc<Self>) -> impl Fn(u64, u64) + Send + Sync + 'static {
        let share = Arc::clone(self);
        move |done, total| share.report(done, total)
    }

    /// The transfer finished with `size` bytes: whatever was not reported (reused parts,
    /// copies) counts now.
    fn finish(&self, size: u64) {
        self.report(size, size);
    }
}

async fn run_one(
    client: &CosClient,
    args: &TransferArgs,
    job: Job,
    options: ObjectOptions,
    bar: &ProgressBar,
) -> anyhow::Result<Done> {
    let share = Share::new(bar, job.size);
    let threads = args.threads as usize;
    let part_size = args.part_size.map(|mib| mib << 20);
    let done = match &job.transfer {
        Transfer::Upload { path, bucket, key } => {
            let mut request = UploadFileRequest::new(bucket, key, path)
                .threads(threads)
                .part_size(part_size.unwrap_or(DEFAULT_FILE_PART_SIZE))
                .options(options)
                .progress(share.callback());
            if let Some(dir) = &args.checkpoint_dir {
                request = request.checkpoint_dir(dir);
            }
            let out = client
                .upload_file(request)
                .await
                .with_context(|| format!("uploading {}", job.transfer.describe()))?;
            Done {
                size: job.size.unwrap_or_default(),
                etag: Some(out.etag),
                parts_reused: out.parts_reused.len(),
                transfer: job.transfer,
            }
        }
        Transfer::Download { bucket, key, path } => {
            let mut request = DownloadFileRequest::new(bucket, key, path)
                .threads(threads)
                .progress(share.callback());
            if let Some(bytes) = part_size {
                request = request.part_size(bytes);
            }
            if let Some(limit) = args.traffic_limit {
                request = request.traffic_limit(limit);
            }
            if let Some(dir) = &args.checkpoint_dir {
                request = request.checkpoint_dir(dir);
            }
            let out = client
                .download_file(request)
                .await
                .with_context(|| format!("downloading {}", job.transfer.describe()))?;
            Done {
                size: out.size,
                etag: None,
                parts_reused: out.parts_reused.len(),
                transfer: job.transfer,
            }
        }
        Transfer::Copy {
            from_bucket,
            from_key,
            bucket,
            key,
        } => {
            let replace = !args.meta.is_empty() || args.content_type.is_some();
            let mut request = CopyRequest::new(bucket, key, CopySource::new(from_bucket, from_key))
                .threads(threads)
                .options(ObjectOptions {
                    traffic_limit: None,
                    ..options
                });
            if replace {
                request = request.metadata_directive(MetadataDirective::Replaced);
            }
            if let Some(bytes) = part_size {
                request = request.part_size(bytes);
            }
            let out = client
                .copy(request)
                .await
                .with_context(|| format!("copying {}", job.transfer.describe()))?;
            Done {
                size: out.size,
                etag: Some(out.etag),
                parts_reused: 0,
                transfer: job.transfer,
            }
        }
    };
    share.finish(done.size);
    Ok(done)
}
