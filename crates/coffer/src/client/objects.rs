//! Bucket and object commands: mb, rb, ls, stat, cat, rm.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::{bail, Context};
use coffer_sdk::{CosClient, HeadObjectRequest, ListObjectsRequest};
use futures_util::TryStreamExt;

use super::{block_on, cos_location, make_client, CommonArgs};

/// `coffer mb cos://bucket`
pub fn run_mb(common: &CommonArgs, target: &str) -> anyhow::Result<()> {
    let (bucket, _) = cos_location(target)?;
    let client = make_client(common)?;
    block_on(async move {
        client
            .create_bucket(bucket.as_str())
            .await
            .with_context(|| format!("making cos://{bucket}"))?;
        if !common.quiet {
            println!("made cos://{bucket}");
        }
        Ok(())
    })
}

/// `coffer rb` arguments.
#[derive(Debug, clap::Args)]
pub struct RbArgs {
    /// The bucket: `cos://bucket`.
    pub target: String,
    /// Delete every object and abort every upload first.
    #[arg(long)]
    pub force: bool,
}

/// `coffer rb cos://bucket [--force]`
pub fn run_rb(common: &CommonArgs, args: RbArgs) -> anyhow::Result<()> {
    let (bucket, _) = cos_location(&args.target)?;
    let client = make_client(common)?;
    block_on(async move {
        if args.force {
            let removed = delete_prefix(&client, &bucket, "").await?;
            for upload in client.list_all_multipart_uploads(&bucket, "").await? {
                client
                    .abort_multipart_upload(&bucket, &upload.key, &upload.upload_id)
                    .await?;
            }
            if !common.quiet && removed > 0 {
                println!("deleted {removed} objects");
            }
        }
        client
            .delete_bucket(&bucket)
            .await
            .with_context(|| format!("removing cos://{bucket}"))?;
        if !common.quiet {
            println!("removed cos://{bucket}");
        }
        Ok(())
    })
}

/// `coffer ls` arguments.
#[derive(Debug, clap::Args)]
pub struct LsArgs {
    /// `cos://bucket[/prefix]`; without it, the buckets.
    pub target: Option<String>,
    /// Everything under the prefix, not just one level.
    #[arg(short, long)]
    pub recursive: bool,
    /// List in-progress multipart uploads instead of objects.
    #[arg(long)]
    pub uploads: bool,
    /// One JSON object per line.
    #[arg(long)]
    pub json: bool,
}

/// `coffer ls [cos://bucket[/prefix]] [-r] [--uploads] [--json]`
pub fn run_ls(common: &CommonArgs, args: LsArgs) -> anyhow::Result<()> {
    let client = make_client(common)?;
    block_on(async move {
        let mut out = std::io::stdout().lock();
        let Some(target) = &args.target else {
            for b in client
                .list_buckets()
                .await
                .context("listing buckets")?
                .buckets
            {
                if args.json {
                    let line = serde_json::json!({"bucket": b.name, "region": b.location, "created": b.creation_date});
                    writeln!(out, "{line}")?;
                } else {
                    writeln!(
                        out,
                        "{}  {:<14} cos://{}",
                        b.creation_date, b.location, b.name
                    )?;
                }
            }
            return Ok(());
        };
        let (bucket, prefix) = cos_location(target)?;
        if args.uploads {
            for u in client.list_all_multipart_uploads(&bucket, &prefix).await? {
                if args.json {
                    let line = serde_json::json!({"key": u.key, "upload_id": u.upload_id, "initiated": u.initiated});
                    writeln!(out, "{line}")?;
                } else {
                    writeln!(
                        out,
                        "{}  {}  cos://{bucket}/{}",
                        u.initiated, u.upload_id, u.key
                    )?;
                }
            }
            return Ok(());
        }
        let mut request = ListObjectsRequest::new(&bucket).prefix(&prefix);
        if !args.recursive {
            request = request.delimiter("/");
        }
        let mut pages = Box::pin(client.list_objects_pages(request));
        while let Some(page) = pages
            .try_next()
            .await
            .with_context(|| format!("listing {target}"))?
        {
            for p in &page.common_prefixes {
                if args.json {
                    writeln!(out, "{}", serde_json::json!({"prefix": p}))?;
                } else {
                    writeln!(
                        out,
                        "{:>24}  {:>14}  {:<12} cos://{bucket}/{p}",
                        "", "DIR", ""
                    )?;
                }
            }
            for o in &page.contents {
                if args.json {
                    let line = serde_json::json!({"key": o.key, "size": o.size, "last_modified": o.last_modified, "etag": o.etag, "storage_class": o.storage_class});
                    writeln!(out, "{line}")?;
                } else {
                    writeln!(
                        out,
                        "{:>24}  {:>14}  {:<12} cos://{bucket}/{}",
                        o.last_modified, o.size, o.storage_class, o.key
                    )?;
                }
            }
        }
        Ok(())
    })
}

/// `coffer stat cos://bucket/key`: every header of the object.
pub fn run_stat(common: &CommonArgs, target: &str) -> anyhow::Result<()> {
    let (bucket, key) = cos_location(target)?;
    let client = make_client(common)?;
    block_on(async move {
        let meta = client
            .head_object(HeadObjectRequest::new(&bucket, &key))
            .await
            .with_context(|| format!("stat {target}"))?;
        let mut headers: Vec<(String, String)> = meta
            .headers
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        headers.sort();
        let mut out = std::io::stdout().lock();
        for (name, value) in headers {
            writeln!(out, "{name}: {value}")?;
        }
        Ok(())
    })
}

/// `coffer cat cos://bucket/key`: the object on standard output.
pub fn run_cat(common: &CommonArgs, target: &str) -> anyhow::Result<()> {
    let (bucket, key) = cos_location(target)?;
    let client = make_client(common)?;
    block_on(async move {
        let mut got = client
            .get_object(coffer_sdk::GetObjectRequest::new(&bucket, &key))
            .await
            .with_context(|| format!("reading {target}"))?;
        let mut stdout = std::io::stdout().lock();
        while let Some(chunk) = got.body.chunk().await? {
            stdout.write_all(&chunk)?;
        }
        stdout.flush()?;
        Ok(())
    })
}

/// `coffer rm` arguments.
#[derive(Debug, clap::Args)]
pub struct RmArgs {
    /// `cos://bucket/key`, or a prefix with `-r`.
    pub target: String,
    /// Delete every object under the prefix.
    #[arg(short, long)]
    pub recursive: bool,
    /// Do not ask for confirmation.
    #[arg(short, long)]
    pub yes: bool,
}

/// `coffer rm cos://bucket/key` or `coffer rm -r cos://bucket/prefix`.
pub fn run_rm(common: &CommonArgs, args: RmArgs) -> anyhow::Result<()> {
    let (bucket, key) = cos_location(&args.target)?;
    let client = make_client(common)?;
    block_on(async move {
        if !args.recursive {
            if key.is_empty() {
                bail!(
                    "{} names a bucket; use `coffer rb`, or `rm -r` to empty it",
                    args.target
                );
            }
            client
                .delete_object(&bucket, &key)
                .await
                .with_context(|| format!("deleting {}", args.target))?;
            if !common.quiet {
                println!("deleted {}", args.target);
            }
            return Ok(());
        }
        let count = client
            .list_objects_stream(ListObjectsRequest::new(&bucket).prefix(&key))
            .try_fold(0u64, |n, _| async move { Ok(n + 1) })
            .await?;
        if count == 0 {
            if !common.quiet {
                println!("nothing under {}", args.target);
            }
            return Ok(());
        }
        if !args.yes {
            if !std::io::stdin().is_terminal() {
                bail!(
                    "{count} objects under {}: add --yes to delete them",
                    args.target
                );
            }
            eprint!("delete {count} objects under {}? [y/N] ", args.target);
            let mut answer = String::new();
            std::io::stdin().lock().read_line(&mut answer)?;
            if !matches!(answer.trim(), "y" | "Y" | "yes") {
                bail!("nothing deleted");
            }
        }
        let removed = delete_prefix(&client, &bucket, &key).await?;
        if !common.quiet {
            println!("deleted {removed} objects under {}", args.target);
        }
        Ok(())
    })
}

/// Deletes every object under `prefix` in batches of 1000; returns the count.
async fn delete_prefix(client: &CosClient, bucket: &str, prefix: &str) -> anyhow::Result<u64> {
    let mut keys: Vec<String> = Vec::new();
    let mut removed = 0u64;
    let mut objects =
        Box::pin(client.list_objects_stream(ListObjectsRequest::new(bucket).prefix(prefix)));
    while let Some(object) = objects.try_next().await? {
        keys.push(object.key);
        if keys.len() == 1000 {
            removed += delete_batch(client, bucket, std::mem::take(&mut keys)).await?;
        }
    }
    if !keys.is_empty() {
        removed += delete_batch(client, bucket, keys).await?;
    }
    Ok(removed)
}

async fn delete_batch(client: &CosClient, bucket: &str, keys: Vec<String>) -> anyhow::Result<u64> {
    let n = keys.len() as u64;
    let result = client.delete_objects(bucket, keys, true).await?;
    if let Some(e) = result.errors.first() {
        bail!(
            "deleting cos://{bucket}/{}: {} {}",
            e.key,
            e.code,
            e.message
        );
    }
    Ok(n)
}
