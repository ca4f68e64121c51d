//! `coffer bench --limits`: what this machine can do at best, the yardsticks benchmark
//! results are compared with.
//!
//! * MD5 on one core (every PUT's ETag), and MD5 + CRC-64 together (what the server
//!   computes per uploaded byte);
//! * `fdatasync`ed 4 KiB writes (the floor of a durable small PUT) and sequential writes of
//!   1 GiB in 1 MiB blocks closed by one `fdatasync` (the ceiling of a durable large PUT), in
//!   a temporary directory on the data directory's filesystem;
//! * one loopback TCP stream over 127.0.0.1 (the ceiling of a GET or PUT body transfer).

use super::stats::{format_size, Latency};
use super::JsonObject;
use anyhow::Context as _;
use md5::{Digest as _, Md5};
use rand::RngCore as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

const MIB: u64 = 1024 * 1024;

/// What to measure and where.
#[derive(Debug, Clone)]
pub struct LimitOptions {
    /// A directory on the filesystem of the server's data directory.
    pub dir: PathBuf,
    /// Bytes hashed for the MD5 figure.
    pub hash_bytes: u64,
    /// Bytes written for the sequential-write figure.
    pub disk_bytes: u64,
    /// Number of fdatasync'd 4 KiB writes.
    pub sync_writes: usize,
    /// Bytes sent over loopback.
    pub loopback_bytes: u64,
    /// Print JSON instead of a table.
    pub json: bool,
}

/// The measured limits.
#[derive(Debug, Clone, Default)]
pub struct Limits {
    /// Single-core MD5, MiB/s.
    pub md5_mib_s: f64,
    /// Single-core CRC-64 (the `x-cos-hash-crc64ecma` of every upload), MiB/s.
    pub crc64_mib_s: f64,
    /// Single-core MD5 then CRC-64 over the same buffers, MiB/s.
    pub md5_crc64_mib_s: f64,
    /// 4 KiB write + fdatasync latency.
    pub sync_4k: Latency,
    /// Sequential write, 1 MiB blocks, one fdatasync at the end, MiB/s.
    pub seq_write_mib_s: f64,
    /// The same, only the `write` calls (copying into the page cache of a new file), MiB/s.
    pub buffered_write_mib_s: f64,
    /// The same, only the final fdatasync, milliseconds.
    pub final_sync_ms: f64,
    /// One loopback TCP stream, MiB/s.
    pub loopback_mib_s: f64,
}

/// Measures and prints the limits.
pub fn run(options: &LimitOptions) -> anyhow::Result<Limits> {
    let mut limits = Limits::default();
    eprintln!(
        "hashing {} in memory (one core)…",
        format_size(options.hash_bytes)
    );
    (limits.md5_mib_s, limits.crc64_mib_s, limits.md5_crc64_mib_s) = hashing(options.hash_bytes);
    let dir = scratch_dir(&options.dir)?;
    eprintln!(
        "disk: {} fdatasync'd 4 KiB writes, then {} sequential in {}…",
        options.sync_writes,
        format_size(options.disk_bytes),
        dir.display()
    );
    let disk = disk(&dir, options.sync_writes, options.disk_bytes);
    let _ = std::fs::remove_dir_all(&dir);
    (
        limits.sync_4k,
        limits.seq_write_mib_s,
        limits.buffered_write_mib_s,
        limits.final_sync_ms,
    ) = disk?;
    eprintln!(
        "loopback: one TCP stream moving {}…",
        format_size(options.loopback_bytes)
    );
    limits.loopback_mib_s = loopback(options.loopback_bytes)?;
    if options.json {
        let mut o = JsonObject::default();
        o.num("md5_mib_s", limits.md5_mib_s)
            .num("crc64_mib_s", limits.crc64_mib_s)
            .num("md5_crc64_mib_s", limits.md5_crc64_mib_s)
            .num("fdatasync_4k_p50_ms", limits.sync_4k.p50_ms)
            .num("fdatasync_4k_p99_ms", limits.sync_4k.p99_ms)
            .num("fdatasync_4k_max_ms", limits.sync_4k.max_ms)
            .num("seq_write_fdatasync_mib_s", limits.seq_write_mib_s)
            .num("buffered_write_mib_s", limits.buffered_write_mib_s)
            .num("final_fdatasync_ms", limits.final_sync_ms)
            .num("loopback_tcp_mib_s", limits.loopback_mib_s)
            .str("dir", &options.dir.display().to_string());
        println!("{}", o.finish());
    } else {
        println!("| machine limit | value |");
        println!("| --- | --- |");
        println!("| MD5, one core | {:.0} MiB/s |", limits.md5_mib_s);
        println!("| CRC-64, one core | {:.0} MiB/s |", limits.crc64_mib_s);
        println!(
            "| MD5 + CRC-64, one core | {:.0} MiB/s |",
            limits.md5_crc64_mib_s
        );
        println!(
            "| 4 KiB write + fdatasync | p50 {:.3} ms, p99 {:.3} ms ({:.0} /s serial) |",
            limits.sync_4k.p50_ms,
            limits.sync_4k.p99_ms,
            1000.0 / limits.sync_4k.mean_ms.max(1e-9)
        );
        println!(
            "| sequential write {} in 1 MiB blocks + fdatasync | {:.0} MiB/s |",
            format_size(options.disk_bytes),
            limits.seq_write_mib_s
        );
        println!(
            "| … of which the write calls (page cache of a new file) | {:.0} MiB/s |",
            limits.buffered_write_mib_s
        );
        println!(
            "| … of which the final fdatasync | {:.0} ms |",
            limits.final_sync_ms
        );
        println!(
            "| loopback TCP, one stream | {:.0} MiB/s |",
            limits.loopback_mib_s
        );
    }
    Ok(limits)
}

fn random_buffer(len: usize) -> Vec<u8> {
    let mut buf = vec![0u8; len];
    rand::rng().fill_bytes(&mut buf);
    buf
}

fn mib_per_s(bytes: u64, seconds: f64) -> f64 {
    bytes as f64 / MIB as f64 / seconds.max(1e-9)
}

/// (MD5, CRC-64, MD5 + CRC-64), MiB/s, on this thread over `total` bytes, hashed from a 64 MiB
/// buffer in 1 MiB updates (the server hashes in chunks too).
fn hashing(total: u64) -> (f64, f64, f64) {
    let buf = random_buffer(64 * MIB as usize);
    let rounds = total.div_ceil(buf.len() as u64).max(1);
    let bytes = rounds * buf.len() as u64;
    let started = Instant::now();
    let mut md5 = Md5::new();
    for _ in 0..rounds {
        for chunk in buf.chunks(MIB as usize) {
            md5.update(chunk);
        }
    }
    std::hint::black_box(md5.finalize());
    let md5_rate = mib_per_s(bytes, started.elapsed().as_secs_f64());
    let started = Instant::now();
    let mut crc = coffer_proto::checksum::Crc64::new();
    for _ in 0..rounds {
        for chunk in buf.chunks(MIB as usize) {
            crc.update(chunk);
        }
    }
    std::hint::black_box(crc.value());
    let crc_rate = mib_per_s(bytes, started.elapsed().as_secs_f64());
    let started = Instant::now();
    let mut md5 = Md5::new();
    let mut crc = coffer_proto::checksum::Crc64::new();
    for _ in 0..rounds {
        for chunk in buf.chunks(MIB as usize) {
            md5.update(chunk);
            crc.update(chunk);
        }
    }
    std::hint::black_box((md5.finalize(), crc.value()));
    (
        md5_rate,
        crc_rate,
        mib_per_s(bytes, started.elapsed().as_secs_f64()),
    )
}

fn scratch_dir(base: &Path) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(base).with_context(|| format!("creating {}", base.display()))?;
    let dir = base.join(format!(
        ".coffer-bench-limits-{:08x}",
        rand::random::<u32>()
    ));
    std::fs::create_dir(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

/// (latency of 4 KiB append + fdatasync, sequential MiB/s with a final fdatasync, MiB/s of
/// the write calls alone, milliseconds of the final fdatasync).
fn disk(dir: &Path, sync_writes: usize, total: u64) -> anyhow::Result<(Latency, f64, f64, f64)> {
    let path = dir.join("sync4k");
    let mut file = std::fs::File::create(&path)?;
    let block = random_buffer(4096);
    let mut samples = Vec::with_capacity(sync_writes);
    for _ in 0..sync_writes {
        let started = Instant::now();
        file.write_all(&block)?;
        file.sync_data()?;
        samples.push(started.elapsed().as_nanos() as u64);
    }
    drop(file);
    let sync = Latency::of(&mut samples);

    let path = dir.join("sequential");
    let mut file = std::fs::File::create(&path)?;
    let block = random_buffer(MIB as usize);
    let blocks = total.div_ceil(MIB).max(1);
    let started = Instant::now();
    for _ in 0..blocks {
        file.write_all(&block)?;
    }
    let written = started.elapsed().as_secs_f64();
    file.sync_data()?;
    let total_seconds = started.elapsed().as_secs_f64();
    Ok((
        sync,
        mib_per_s(blocks * MIB, total_seconds),
        mib_per_s(blocks * MIB, written),
        (total_seconds - written) * 1000.0,
    ))
}

/// One TCP stream over 127.0.0.1, sender and receiver on their own runtime threads.
fn loopback(total: u64) -> anyhow::Result<f64> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let receiver = tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await?;
            let mut buf = vec![0u8; MIB as usize];
            let mut received = 0u64;
            loop {
                let n = stream.read(&mut buf).await?;
                if n == 0 {
                    break;
                }
                received += n as u64;
            }
            anyhow::Ok(received)
        });
        let mut stream = tokio::net::TcpStream::connect(addr).await?;
        let block = random_buffer(MIB as usize);
        let blocks = total.div_ceil(MIB).max(1);
        let started = Instant::now();
        for _ in 0..blocks {
            stream.write_all(&block).await?;
        }
        stream.shutdown().await?;
        let received = receiver.await??;
        let seconds = started.elapsed().as_secs_f64();
        anyhow::ensure!(received == blocks * MIB, "loopback lost bytes");
        Ok(mib_per_s(received, seconds))
    })
}
