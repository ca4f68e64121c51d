//! `coffer cp`: local → cos, cos → local, cos → cos, single objects or (`-r`) trees, through
//! the SDK's upload_file / download_file / copy (parallel parts, resume on re-run).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use coffer_sdk::{
    CopyRequest, CopySource, DownloadFileRequest, DownloadPrefixRequest, ListObjectsRequest,
    ObjectOptions, UploadFileRequest, UploadFolderRequest,
};
use futures_util::TryStreamExt;

use super::location::Location;
use super::{bar_callback, block_on, byte_bar, make_client, CommonArgs};

/// `coffer cp` arguments.
#[derive(Debug, clap::Args)]
pub struct CpArgs {
    /// Source: a local path or `cos://bucket/key`.
    pub source: String,
    /// Destination: a local path or `cos://bucket/key` (a trailing `/` means "into").
    pub destination: String,
    /// Copy a directory or every object under a prefix.
    #[arg(short, long)]
    pub recursive: bool,
    /// Part size in MiB for multipart transfers.
    #[arg(long, value_name = "MIB")]
    pub part_size: Option<u64>,
    /// Parts in flight at once.
    #[arg(long, default_value_t = 5)]
    pub threads: usize,
    /// Storage class of uploaded objects (`STANDARD`, `STANDARD_IA`, `ARCHIVE`…).
    #[arg(long)]
    pub storage_class: Option<String>,
    /// User metadata `name=value` (repeatable).
    #[arg(long = "meta", value_name = "NAME=VALUE")]
    pub meta: Vec<String>,
    /// Content-Type of uploaded objects.
    #[arg(long)]
    pub content_type: Option<String>,
    /// Bandwidth limit per request, in bit/s (`x-cos-traffic-limit`).
    #[arg(long)]
    pub traffic_limit: Option<u64>,
    /// Keep resume records here (uploads); a re-run of an interrupted `cp` continues.
    #[arg(long)]
    pub checkpoint_dir: Option<PathBuf>,
}

/// Runs `coffer cp`.
pub fn run_cp(common: &CommonArgs, args: CpArgs) -> anyhow::Result<()> {
    let source = Location::parse(&args.source)?;
    let destination = Location::parse(&args.destination)?;
    let client = make_client(common)?;
    block_on(async move {
        match (&source, &destination) {
            (Location::Local(path), Location::Cos { bucket, key }) => {
                if args.recursive {
                    let prefix = dir_prefix(key);
                    let bar = byte_bar(0, common.quiet, "upload");
                    let mut request = UploadFolderRequest::new(bucket, &prefix, path)
                        .skip_existing(false)
                        .threads_per_file(args.threads)
                        .progress(length_callback(&bar));
                    if let Some(part) = args.part_size {
                        request = request.part_size(part << 20);
                    }
                    request = request.options(object_options(&args)?);
                    let summary = client.upload_folder(request).await?;
                    bar.finish_and_clear();
                    report(
                        common,
                        summary.succeeded.len(),
                        summary.bytes,
                        &summary.failed,
                    )
                } else {
                    let size = std::fs::metadata(path)
                        .with_context(|| format!("reading {}", path.display()))?
                        .len();
                    let key = into_key(key, path)?;
                    let bar = byte_bar(size, common.quiet, "upload");
                    let mut request = UploadFileRequest::new(bucket, &key, path)
                        .threads(args.threads)
                        .progress(bar_callback(&bar));
                    if let Some(part) = args.part_size {
                        request = request.part_size(part << 20);
                    }
                    if let Some(dir) = &args.checkpoint_dir {
                        request = request.checkpoint_dir(dir);
                    }
                    request = request.options(object_options(&args)?);
                    let out = client.upload_file(request).await.with_context(|| {
                        format!("uploading {} to cos://{bucket}/{key}", path.display())
                    })?;
                    bar.finish_and_clear();
                    if !common.quiet {
                        println!(
                            "{} -> cos://{bucket}/{key} ({size} bytes, ETag {}{})",
                            path.display(),
                            out.etag,
                            if out.parts_reused.is_empty() {
                                String::new()
                            } else {
                                format!(", resumed {} parts", out.parts_reused.len())
                            }
                        );
                    }
                    Ok(())
                }
            }
            (Location::Cos { bucket, key }, Location::Local(path)) => {
                if args.recursive {
                    let bar = byte_bar(0, common.quiet, "download");
                    let request = DownloadPrefixRequest::new(bucket, key.as_str(), path)
                        .threads_per_file(args.threads)
                        .progress(length_callback(&bar));
                    let summary = client.download_prefix(request).await?;
                    bar.finish_and_clear();
                    report(
                        common,
                        summary.succeeded.len(),
                        summary.bytes,
                        &summary.failed,
                    )
                } else {
                    if key.is_empty() || key.ends_with('/') {
                        bail!("cos://{bucket}/{key} is a prefix: use -r");
                    }
                    let dest = into_path(path, key);
                    // The bar learns the object's size from the first progress report.
                    let bar = byte_bar(0, common.quiet, "download");
                    let mut request = DownloadFileRequest::new(bucket, key, &dest)
                        .threads(args.threads)
                        .progress(length_callback(&bar));
                    if let Some(part) = args.part_size {
                        request = request.part_size(part << 20);
                    }
                    if let Some(limit) = args.traffic_limit {
                        request = request.traffic_limit(limit);
                    }
                    let out = client
                        .download_file(request)
                        .await
                        .with_context(|| format!("downloading cos://{bucket}/{key}"))?;
                    bar.finish_and_clear();
                    if !common.quiet {
                        println!(
                            "cos://{bucket}/{key} -> {} ({} bytes{})",
                            dest.display(),
                            out.size,
                            if out.parts_reused.is_empty() {
                                String::new()
                            } else {
                                format!(", resumed {} parts", out.parts_reused.len())
                            }
                        );
                    }
                    Ok(())
                }
            }
            (
                Location::Cos {
                    bucket: sb,
                    key: sk,
                },
                Location::Cos {
                    bucket: db,
                    key: dk,
                },
            ) => {
                let pairs: Vec<(String, String)> = if args.recursive {
                    let prefix = dir_prefix(dk);
                    client
                        .list_objects_stream(ListObjectsRequest::new(sb).prefix(sk))
                        .map_ok(|o| {
                            let rest = o
                                .key
                                .strip_prefix(sk.as_str())
                                .unwrap_or(&o.key)
                                .trim_start_matches('/')
                                .to_string();
                            (o.key, format!("{prefix}{rest}"))
                        })
                        .try_collect()
                        .await?
                } else {
                    let name = sk.rsplit('/').next().unwrap_or(sk);
                    let dk = if dk.is_empty() || dk.ends_with('/') {
                        format!("{dk}{name}")
                    } else {
                        dk.clone()
                    };
                    vec![(sk.clone(), dk)]
                };
                for (from, to) in &pairs {
                    let mut request =
                        CopyRequest::new(db, to, CopySource::new(sb, from)).threads(args.threads);
                    if let Some(part) = args.part_size {
                        request = request.part_size(part << 20);
                    }
                    if let Some(class) = &args.storage_class {
                        request = request.storage_class(class);
                    }
                    client
                        .copy(request)
                        .await
                        .with_context(|| format!("copying cos://{sb}/{from} to cos://{db}/{to}"))?;
                    if !common.quiet {
                        println!("cos://{sb}/{from} -> cos://{db}/{to}");
                    }
                }
                Ok(())
            }
            (Location::Local(_), Location::Local(_)) => {
                bail!("one side of cp must be a cos:// location")
            }
        }
    })
}

/// A key prefix for a tree: empty, or ending in `/`.
fn dir_prefix(key: &str) -> String {
    if key.is_empty() || key.ends_with('/') {
        key.to_string()
    } else {
        format!("{key}/")
    }
}

/// The key a single file lands on: `key`, or `key` + the file name when `key` is a prefix.
fn into_key(key: &str, path: &Path) -> anyhow::Result<String> {
    if !key.is_empty() && !key.ends_with('/') {
        return Ok(key.to_string());
    }
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .with_context(|| format!("{}: no usable file name", path.display()))?;
    Ok(format!("{key}{name}"))
}

/// The local path an object lands on: `path`, or inside it when it is a directory.
fn into_path(path: &Path, key: &str) -> PathBuf {
    let name = key.rsplit('/').next().unwrap_or(key);
    if path.is_dir() || path.as_os_str().to_string_lossy().ends_with('/') {
        path.join(name)
    } else {
        path.to_path_buf()
    }
}

fn parse_meta(meta: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    meta.iter()
        .map(|m| {
            m.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .with_context(|| format!("--meta {m:?}: expected NAME=VALUE"))
        })
        .collect()
}

/// The object options of uploads: storage class, content type, traffic limit, metadata.
fn object_options(args: &CpArgs) -> anyhow::Result<ObjectOptions> {
    Ok(ObjectOptions {
        storage_class: args.storage_class.clone(),
        content_type: args.content_type.clone(),
        traffic_limit: args.traffic_limit,
        metadata: parse_meta(&args.meta)?,
        ..ObjectOptions::default()
    })
}

/// A callback that also sets the bar's length (folder transfers learn the total late).
fn length_callback(bar: &indicatif::ProgressBar) -> impl Fn(u64, u64) + Send + Sync + 'static {
    let bar = bar.clone();
    move |done, total| {
        if bar.length() != Some(total) {
            bar.set_length(total);
        }
        if done > bar.position() {
            bar.set_position(done);
        }
    }
}

fn report(
    common: &CommonArgs,
    count: usize,
    bytes: u64,
    failed: &[(String, coffer_sdk::Error)],
) -> anyhow::Result<()> {
    for (key, error) in failed {
        eprintln!("coffer: {key}: {error}");
    }
    if !common.quiet {
        println!("{count} files, {bytes} bytes transferred");
    }
    if failed.is_empty() {
        Ok(())
    } else {
        bail!(
            "{} of {} transfers failed",
            failed.len(),
            failed.len() + count
        )
    }
}
