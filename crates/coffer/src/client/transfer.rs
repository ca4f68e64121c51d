//! `coffer cp` and `coffer mv`: local → cos, cos → local, cos → cos, one file or object or
//! (`-r`) a whole tree, planned here as jobs and run by [`super::jobs`].

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use coffer_sdk::transfer::paths::local_path_for;
use coffer_sdk::CosClient;

use super::jobs::{run_all, Job, Transfer, TransferArgs};
use super::location::Location;
use super::tree::{dir_prefix, local_files, remote_objects, Filter, FilterArgs};
use super::{block_on, byte_bar, make_client, CommonArgs};

/// `coffer cp` / `coffer mv` arguments.
#[derive(Debug, clap::Args)]
pub struct CpArgs {
    /// Source: a local path or `cos://bucket/key` (a prefix with `-r`).
    pub source: String,
    /// Destination: a local path or `cos://bucket/key`; a trailing `/` (or an existing
    /// directory) means "into".
    pub destination: String,
    /// A directory, or every object under a prefix, with everything below it.
    #[arg(short, long)]
    pub recursive: bool,
    #[command(flatten)]
    pub filter: FilterArgs,
    #[command(flatten)]
    pub transfer: TransferArgs,
}

/// Runs `coffer cp`.
pub fn run_cp(common: &CommonArgs, args: CpArgs) -> anyhow::Result<()> {
    run(common, args, false)
}

/// Runs `coffer mv`: `cp`, then each source is removed once its copy succeeded.
pub fn run_mv(common: &CommonArgs, args: CpArgs) -> anyhow::Result<()> {
    run(common, args, true)
}

fn run(common: &CommonArgs, args: CpArgs, remove_source: bool) -> anyhow::Result<()> {
    let source = Location::parse(&args.source)?;
    let destination = Location::parse(&args.destination)?;
    let filter = Filter::new(&args.filter)?;
    if !args.recursive && !filter.is_empty() {
        bail!("--include and --exclude apply to recursive copies: add -r");
    }
    let client = make_client(common)?;
    block_on(async move {
        let jobs = plan(&client, &source, &destination, args.recursive, &filter).await?;
        if remove_source {
            refuse_moves_onto_themselves(&jobs)?;
        }
        if jobs.is_empty() {
            if !common.quiet {
                println!("nothing to copy under {source}");
            }
            return Ok(());
        }
        let label = match jobs[0].transfer {
            Transfer::Upload { .. } => "upload",
            Transfer::Download { .. } => "download",
            Transfer::Copy { .. } => "copy",
        };
        let bar = byte_bar(common.quiet, label);
        let outcome = run_all(
            &client,
            &args.transfer,
            jobs,
            &bar,
            remove_source,
            common.quiet,
        )
        .await?;
        bar.finish_and_clear();
        let bytes = outcome.bytes();
        let done = outcome.into_result()?;
        if args.recursive && !common.quiet {
            println!("{} files, {bytes} bytes transferred", done.len());
        }
        Ok(())
    })
}

/// The transfers `cp source destination [-r]` makes.
pub async fn plan(
    client: &CosClient,
    source: &Location,
    destination: &Location,
    recursive: bool,
    filter: &Filter,
) -> anyhow::Result<Vec<Job>> {
    match (source, destination) {
        (Location::Local(dir), Location::Cos { bucket, key }) if recursive => {
            if !dir.is_dir() {
                bail!("{}: not a directory", dir.display());
            }
            let prefix = dir_prefix(key);
            Ok(local_files(dir, filter)
                .await?
                .into_iter()
                .map(|file| Job {
                    transfer: Transfer::Upload {
                        path: file.path,
                        bucket: bucket.clone(),
                        key: format!("{prefix}{}", file.relative),
                    },
                    size: Some(file.size),
                })
                .collect())
        }
        (Location::Local(path), Location::Cos { bucket, key }) => {
            let meta =
                std::fs::metadata(path).with_context(|| format!("reading {}", path.display()))?;
            if meta.is_dir() {
                bail!("{} is a directory: add -r", path.display());
            }
            Ok(vec![Job {
                transfer: Transfer::Upload {
                    path: path.clone(),
                    bucket: bucket.clone(),
                    key: into_key(key, path)?,
                },
                size: Some(meta.len()),
            }])
        }
        (Location::Cos { bucket, key }, Location::Local(dir)) if recursive => {
            let prefix = dir_prefix(key);
            let mut jobs = Vec::new();
            for object in remote_objects(client, bucket, &prefix, filter).await? {
                let Some(path) = local_path_for(dir, &object.relative) else {
                    eprintln!(
                        "coffer: skipping cos://{bucket}/{}: the key would leave {}",
                        object.key,
                        dir.display()
                    );
                    continue;
                };
                jobs.push(Job {
                    transfer: Transfer::Download {
                        bucket: bucket.clone(),
                        key: object.key,
                        path,
                    },
                    size: Some(object.size),
                });
            }
            Ok(jobs)
        }
        (Location::Cos { bucket, key }, Location::Local(path)) => {
            if key.is_empty() || key.ends_with('/') {
                bail!("cos://{bucket}/{key} is a prefix: add -r");
            }
            Ok(vec![Job {
                transfer: Transfer::Download {
                    bucket: bucket.clone(),
                    key: key.clone(),
                    path: into_path(path, key),
                },
                size: None,
            }])
        }
        (
            Location::Cos {
                bucket: from_bucket,
                key: from_key,
            },
            Location::Cos { bucket, key },
        ) if recursive => {
            let (from_prefix, prefix) = (dir_prefix(from_key), dir_prefix(key));
            Ok(remote_objects(client, from_bucket, &from_prefix, filter)
                .await?
                .into_iter()
                .map(|object| Job {
                    transfer: Transfer::Copy {
                        from_bucket: from_bucket.clone(),
                        from_key: object.key,
                        bucket: bucket.clone(),
                        key: format!("{prefix}{}", object.relative),
                    },
                    size: Some(object.size),
                })
                .collect())
        }
        (
            Location::Cos {
                bucket: from_bucket,
                key: from_key,
            },
            Location::Cos { bucket, key },
        ) => {
            if from_key.is_empty() || from_key.ends_with('/') {
                bail!("cos://{from_bucket}/{from_key} is a prefix: add -r");
            }
            let name = from_key.rsplit('/').next().unwrap_or(from_key);
            let key = if key.is_empty() || key.ends_with('/') {
                format!("{key}{name}")
            } else {
                key.clone()
            };
            Ok(vec![Job {
                transfer: Transfer::Copy {
                    from_bucket: from_bucket.clone(),
                    from_key: from_key.clone(),
                    bucket: bucket.clone(),
                    key,
                },
                size: None,
            }])
        }
        (Location::Local(_), Location::Local(_)) => {
            bail!("one side must be a cos:// location")
        }
    }
}

/// `mv` of an object onto itself would copy it and then delete it.
fn refuse_moves_onto_themselves(jobs: &[Job]) -> anyhow::Result<()> {
    for job in jobs {
        if let Transfer::Copy {
            from_bucket,
            from_key,
            bucket,
            key,
        } = &job.transfer
        {
            if from_bucket == bucket && from_key == key {
                bail!("cannot move cos://{bucket}/{key} onto itself");
            }
        }
    }
    Ok(())
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

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Tests may panic: that is how they fail.
mod tests {
    use super::*;

    #[test]
    fn single_files_land_on_keys_and_paths() {
        assert_eq!(into_key("a/b", Path::new("/x/y.txt")).unwrap(), "a/b");
        assert_eq!(into_key("a/", Path::new("/x/y.txt")).unwrap(), "a/y.txt");
        assert_eq!(into_key("", Path::new("y.txt")).unwrap(), "y.txt");
        assert!(into_key("", Path::new("/")).is_err());
        assert_eq!(
            into_path(Path::new("out/"), "a/b/c.txt"),
            PathBuf::from("out/c.txt")
        );
        assert_eq!(
            into_path(Path::new("/no/such/file"), "a/c.txt"),
            PathBuf::from("/no/such/file")
        );
    }
}
