//! Bucket and object commands: mb, rb, ls, stat, cat, rm, presign, abort.

use std::io::{BufRead, IsTerminal, Write};
use std::time::Duration;

use anyhow::{bail, Context};
use coffer_sdk::{CosClient, HeadObjectRequest, ListObjectsRequest, Method, PresignRequest};
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
            abort_uploads(&client, &bucket, "", |_, _| {}).await?;
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

/// Deletes `keys` in batches of 1000; returns the count.
pub(super) async fn delete_keys(
    client: &CosClient,
    bucket: &str,
    keys: Vec<String>,
) -> anyhow::Result<u64> {
    let mut removed = 0;
    for batch in keys.chunks(1000) {
        removed += delete_batch(client, bucket, batch.to_vec()).await?;
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

/// `coffer presign` arguments.
#[derive(Debug, clap::Args)]
pub struct PresignArgs {
    /// `cos://bucket/key`
    pub target: String,
    /// How long the URL works: seconds, or a number with `s`, `m`, `h` or `d`.
    #[arg(long, default_value = "1h", value_parser = parse_duration)]
    pub expires: Duration,
    /// The method the URL allows.
    #[arg(long, default_value = "GET", value_parser = ["GET", "PUT", "HEAD", "DELETE"])]
    pub method: String,
}

/// `coffer presign cos://bucket/key [--expires 1h] [--method GET]`: a URL anyone can use
/// until it expires.
pub fn run_presign(common: &CommonArgs, args: PresignArgs) -> anyhow::Result<()> {
    let (bucket, key) = cos_location(&args.target)?;
    if key.is_empty() {
        bail!("{}: presign needs an object key", args.target);
    }
    let method = Method::from_bytes(args.method.as_bytes()).context("--method")?;
    let client = make_client(common)?;
    block_on(async move {
        let request = PresignRequest::new(method, &bucket, &key).expire(args.expires);
        println!("{}", client.get_presigned_url(&request).await?);
        Ok(())
    })
}

/// `3600`, `90s`, `10m`, `12h`, `7d`.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let number: u64 = number
        .parse()
        .map_err(|_| format!("{text:?}: expected a number of seconds, or like 10m, 12h, 7d"))?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("{text:?}: the unit is one of s, m, h, d")),
    };
    match number.checked_mul(seconds) {
        Some(s) if s > 0 => Ok(Duration::from_secs(s)),
        _ => Err(format!("{text:?}: out of range")),
    }
}

/// `coffer abort` arguments.
#[derive(Debug, clap::Args)]
pub struct AbortArgs {
    /// `cos://bucket[/prefix]`: the uploads of keys under the prefix.
    pub target: String,
    /// Only this upload (the key must then be exact).
    #[arg(long)]
    pub upload_id: Option<String>,
}

/// `coffer abort cos://bucket[/prefix] [--upload-id ID]`: aborts in-progress multipart
/// uploads, freeing their parts.
pub fn run_abort(common: &CommonArgs, args: AbortArgs) -> anyhow::Result<()> {
    let (bucket, prefix) = cos_location(&args.target)?;
    let client = make_client(common)?;
    block_on(async move {
        let report = |key: &str, upload_id: &str| {
            if !common.quiet {
                println!("aborted {upload_id} cos://{bucket}/{key}");
            }
        };
        let count = match &args.upload_id {
            Some(id) => {
                if prefix.is_empty() {
                    bail!("--upload-id needs the object key: cos://{bucket}/<key>");
                }
                abort_upload(&client, &bucket, &prefix, id).await?;
                report(&prefix, id);
                1
            }
            None => abort_uploads(&client, &bucket, &prefix, report)
                .await
                .with_context(|| format!("aborting the uploads of {}", args.target))?,
        };
        if !common.quiet {
            println!("{count} uploads aborted");
        }
        Ok(())
    })
}

/// Aborts every in-progress upload of keys under `prefix`, calling `aborted(key, upload_id)`
/// after each; returns how many.
async fn abort_uploads(
    client: &CosClient,
    bucket: &str,
    prefix: &str,
    aborted: impl Fn(&str, &str),
) -> anyhow::Result<usize> {
    let uploads = client.list_all_multipart_uploads(bucket, prefix).await?;
    for upload in &uploads {
        abort_upload(client, bucket, &upload.key, &upload.upload_id).await?;
        aborted(&upload.key, &upload.upload_id);
    }
    Ok(uploads.len())
}

async fn abort_upload(
    client: &CosClient,
    bucket: &str,
    key: &str,
    upload_id: &str,
) -> anyhow::Result<()> {
    client
        .abort_multipart_upload(bucket, key, upload_id)
        .await
        .with_context(|| format!("aborting upload {upload_id} of cos://{bucket}/{key}"))?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Tests may panic: that is how they fail.
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("3600").unwrap(), Duration::from_secs(3600));
        assert_eq!(parse_duration("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("10m").unwrap(), Duration::from_secs(600));
        assert_eq!(parse_duration("2h").unwrap(), Duration::from_secs(7200));
        assert_eq!(parse_duration("7d").unwrap(), Duration::from_secs(604_800));
        for bad in ["", "0", "h", "5w", "-1", "99999999999999999999d"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}
