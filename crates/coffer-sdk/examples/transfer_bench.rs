//! Throughput of upload_file / download_file against a server, and the process's peak RSS.
//! The figures in docs/performance.md ("SDK transfers") come from this tool.
//!
//! ```text
//! COFFER_ADDRESS=127.0.0.1:9000 COS_SECRET_ID=… COS_SECRET_KEY=… COS_BUCKET=bench-1250000000 \
//!   cargo run --release -p coffer-sdk --example transfer_bench -- <file> [part MiB] [threads] [runs]
//! ```
//! Without part size and threads, the SDK's defaults are used.

mod common;

use std::time::Instant;

use coffer_sdk::{DownloadFileRequest, UploadFileRequest};

const MIB: f64 = 1024.0 * 1024.0;

#[tokio::main]
async fn main() -> coffer_sdk::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(file) = args.first() else {
        eprintln!("usage: transfer_bench <file> [part MiB] [threads] [runs]");
        std::process::exit(2);
    };
    let part_mib: Option<u64> = args.get(1).and_then(|a| a.parse().ok());
    let threads: Option<usize> = args.get(2).and_then(|a| a.parse().ok());
    let runs: usize = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(3);
    let client = common::client()?;
    let bucket = common::bucket();
    if !client.bucket_exists(&bucket).await? {
        client.create_bucket(bucket.as_str()).await?;
    }
    let size = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0) as f64;
    let back = format!("{file}.back");
    let (mut ups, mut downs) = (Vec::new(), Vec::new());
    for run in 0..runs {
        let key = format!("bench/{run}");
        let mut up = UploadFileRequest::new(&bucket, &key, file).resume(false);
        let mut down = DownloadFileRequest::new(&bucket, &key, &back).resume(false);
        if let Some(part) = part_mib {
            up = up.part_size(part << 20);
            down = down.part_size(part << 20);
        }
        if let Some(threads) = threads {
            up = up.threads(threads);
            down = down.threads(threads);
        }
        let start = Instant::now();
        client.upload_file(up).await?;
        ups.push(size / MIB / start.elapsed().as_secs_f64());
        let start = Instant::now();
        client.download_file(down).await?;
        downs.push(size / MIB / start.elapsed().as_secs_f64());
        client.delete_object(&bucket, &key).await?;
        let _ = std::fs::remove_file(&back);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(|a, b| a.total_cmp(b));
        v[v.len() / 2]
    };
    println!(
        "upload_file {:.0} MiB/s  download_file {:.0} MiB/s  (median of {runs}; part {} threads {})  peak RSS {} MiB",
        median(&mut ups),
        median(&mut downs),
        part_mib.map(|p| format!("{p} MiB")).unwrap_or_else(|| "default".into()),
        threads.map(|t| t.to_string()).unwrap_or_else(|| "default".into()),
        peak_rss_mib()
    );
    Ok(())
}

/// VmHWM of this process (Linux), in MiB.
fn peak_rss_mib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map(|kb| kb / 1024)
        .unwrap_or(0)
}
