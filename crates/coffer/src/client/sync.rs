//! `coffer sync`: make a destination tree like the source — transfer what is new or changed
//! (by size, then by MD5 or CRC-64), leave the rest, and with `--delete` remove what the
//! source does not have.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{bail, Context};
use coffer_sdk::transfer::paths::local_path_for;
use coffer_sdk::{CosClient, HeadObjectRequest};
use futures_util::{StreamExt, TryStreamExt};

use super::hash::{etag_is_md5, file_checksums};
use super::jobs::{run_all, Job, Transfer, TransferArgs};
use super::location::Location;
use super::objects::delete_keys;
use super::tree::{dir_prefix, local_files, remote_objects, Filter, FilterArgs};
use super::{block_on, byte_bar, make_client, CommonArgs};

/// `coffer sync` arguments.
#[derive(Debug, clap::Args)]
pub struct SyncArgs {
    /// Source: a local directory or `cos://bucket/prefix`.
    pub source: String,
    /// Destination: a local directory or `cos://bucket/prefix`.
    pub destination: String,
    /// Also delete destination files or objects the source does not have (within the
    /// `--include` / `--exclude` filters).
    #[arg(long)]
    pub delete: bool,
    /// Print what would be transferred and deleted; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub filter: FilterArgs,
    #[command(flatten)]
    pub transfer: TransferArgs,
}

/// One file or object of either side.
#[derive(Debug, Clone)]
enum Entry {
    Local {
        path: PathBuf,
        size: u64,
    },
    Remote {
        bucket: String,
        key: String,
        size: u64,
        etag: String,
    },
}

impl Entry {
    fn size(&self) -> u64 {
        match self {
            Entry::Local { size, .. } | Entry::Remote { size, .. } => *size,
        }
    }
}

/// A tree by relative path.
type Tree = BTreeMap<String, Entry>;

/// Runs `coffer sync`.
pub fn run_sync(common: &CommonArgs, args: SyncArgs) -> anyhow::Result<()> {
    let source = Location::parse(&args.source)?;
    let destination = Location::parse(&args.destination)?;
    let filter = Filter::new(&args.filter)?;
    if let (Location::Local(_), Location::Local(_)) = (&source, &destination) {
        bail!("one side of sync must be a cos:// location");
    }
    if let Location::Local(dir) = &source {
        if !dir.is_dir() {
            bail!(
                "{}: not a directory (sync works on trees; `coffer cp` copies one file)",
                dir.display()
            );
        }
    }
    let client = make_client(common)?;
    block_on(async move {
        let source_tree = entries(&client, &source, &filter).await?;
        let destination_tree = entries(&client, &destination, &filter).await?;

        let mut jobs = Vec::new();
        let mut unchanged = 0usize;
        let comparisons: Vec<(String, Entry, bool)> =
            futures_util::stream::iter(source_tree.iter())
                .map(|(relative, entry)| {
                    let client = &client;
                    let existing = destination_tree.get(relative);
                    async move {
                        let same = match existing {
                            Some(existing) => same_content(client, entry, existing)
                                .await
                                .with_context(|| format!("comparing {relative}"))?,
                            None => false,
                        };
                        anyhow::Ok((relative.clone(), entry.clone(), same))
                    }
                })
                .buffer_unordered(args.transfer.jobs as usize * 2)
                .try_collect()
                .await?;
        for (relative, entry, same) in comparisons {
            if same {
                unchanged += 1;
                continue;
            }
            jobs.push(job_for(&destination, &relative, &entry)?);
        }
        jobs.sort_by_key(|j| j.transfer.describe());
        let deletions: Vec<(&String, &Entry)> = if args.delete {
            destination_tree
                .iter()
                .filter(|(relative, _)| !source_tree.contains_key(*relative))
                .collect()
        } else {
            Vec::new()
        };

        if args.dry_run {
            for job in &jobs {
                println!("would copy {}", job.transfer.describe());
            }
            for (relative, _) in &deletions {
                println!("would delete {}", joined(&destination, relative));
            }
            println!(
                "dry run: {} to transfer, {unchanged} unchanged, {} to delete",
                jobs.len(),
                deletions.len()
            );
            return Ok(());
        }

        let transferred = jobs.len();
        let bar = byte_bar(common.quiet, "sync");
        let outcome = run_all(&client, &args.transfer, jobs, &bar, false, common.quiet).await?;
        bar.finish_and_clear();
        let bytes = outcome.bytes();
        outcome.into_result()?;

        let deleted = delete(&client, &destination, &deletions).await?;
        if !common.quiet {
            for (relative, _) in &deletions {
                println!("deleted {}", joined(&destination, relative));
            }
            println!(
                "{transferred} transferred ({bytes} bytes), {unchanged} unchanged, {deleted} deleted"
            );
        }
        Ok(())
    })
}

/// Every file or object of one side, by path relative to its root.
async fn entries(client: &CosClient, location: &Location, filter: &Filter) -> anyhow::Result<Tree> {
    Ok(match location {
        Location::Local(dir) if !dir.exists() => Tree::new(),
        Location::Local(dir) => local_files(dir, filter)
            .await?
            .into_iter()
            .map(|f| {
                let entry = Entry::Local {
                    path: f.path,
                    size: f.size,
                };
                (f.relative, entry)
            })
            .collect(),
        Location::Cos { bucket, key } => remote_objects(client, bucket, &dir_prefix(key), filter)
            .await?
            .into_iter()
            .map(|o| {
                let entry = Entry::Remote {
                    bucket: bucket.clone(),
                    key: o.key,
                    size: o.size,
                    etag: o.etag,
                };
                (o.relative, entry)
            })
            .collect(),
    })
}

/// Whether a source entry and the destination's entry of the same path hold the same bytes:
/// sizes first, then the MD5 when an ETag is one, else the service's CRC-64.
async fn same_content(client: &CosClient, ours: &Entry, theirs: &Entry) -> anyhow::Result<bool> {
    if ours.size() != theirs.size() {
        return Ok(false);
    }
    match (ours, theirs) {
        (
            Entry::Local { path, .. },
            Entry::Remote {
                bucket, key, etag, ..
            },
        )
        | (
            Entry::Remote {
                bucket, key, etag, ..
            },
            Entry::Local { path, .. },
        ) => {
            let local = file_checksums(path).await?;
            if etag_is_md5(etag) {
                return Ok(local.md5_hex().eq_ignore_ascii_case(etag));
            }
            Ok(object_crc64(client, bucket, key).await? == Some(local.crc64))
        }
        (
            Entry::Remote {
                bucket: bucket_a,
                key: key_a,
                etag: etag_a,
                ..
            },
            Entry::Remote {
                bucket: bucket_b,
                key: key_b,
                etag: etag_b,
                ..
            },
        ) => {
            if etag_a == etag_b {
                return Ok(true);
            }
            let crc_a = object_crc64(client, bucket_a, key_a).await?;
            Ok(crc_a.is_some() && crc_a == object_crc64(client, bucket_b, key_b).await?)
        }
        (Entry::Local { .. }, Entry::Local { .. }) => Ok(false),
    }
}

async fn object_crc64(client: &CosClient, bucket: &str, key: &str) -> anyhow::Result<Option<u64>> {
    Ok(client
        .head_object(HeadObjectRequest::new(bucket, key))
        .await
        .with_context(|| format!("cos://{bucket}/{key}"))?
        .crc64)
}

/// The transfer that puts `entry` at `relative` under the destination.
fn job_for(destination: &Location, relative: &str, entry: &Entry) -> anyhow::Result<Job> {
    let transfer = match (entry, destination) {
        (Entry::Local { path, .. }, Location::Cos { bucket, key }) => Transfer::Upload {
            path: path.clone(),
            bucket: bucket.clone(),
            key: format!("{}{relative}", dir_prefix(key)),
        },
        (
            Entry::Remote {
                bucket, key: from, ..
            },
            Location::Local(dir),
        ) => {
            let path = local_path_for(dir, relative).with_context(|| {
                format!(
                    "cos://{bucket}/{from}: the key would leave {}",
                    dir.display()
                )
            })?;
            Transfer::Download {
                bucket: bucket.clone(),
                key: from.clone(),
                path,
            }
        }
        (
            Entry::Remote {
                bucket: from_bucket,
                key: from_key,
                ..
            },
            Location::Cos { bucket, key },
        ) => Transfer::Copy {
            from_bucket: from_bucket.clone(),
            from_key: from_key.clone(),
            bucket: bucket.clone(),
            key: format!("{}{relative}", dir_prefix(key)),
        },
        (Entry::Local { .. }, Location::Local(_)) => bail!("one side must be a cos:// location"),
    };
    Ok(Job {
        transfer,
        size: Some(entry.size()),
    })
}

/// `relative` under a side's root, as printed.
fn joined(root: &Location, relative: &str) -> String {
    match root {
        Location::Local(dir) => dir.join(relative).display().to_string(),
        Location::Cos { bucket, key } => format!("cos://{bucket}/{}{relative}", dir_prefix(key)),
    }
}

/// Removes the destination's extra entries; returns how many.
async fn delete(
    client: &CosClient,
    destination: &Location,
    deletions: &[(&String, &Entry)],
) -> anyhow::Result<usize> {
    let mut keys = Vec::new();
    for (_, entry) in deletions {
        match entry {
            Entry::Local { path, .. } => tokio::fs::remove_file(path)
                .await
                .with_context(|| format!("removing {}", path.display()))?,
            Entry::Remote { key, .. } => keys.push(key.clone()),
        }
    }
    if let (Location::Cos { bucket, .. }, false) = (destination, keys.is_empty()) {
        delete_keys(client, bucket, keys).await?;
    }
    Ok(deletions.len())
}
