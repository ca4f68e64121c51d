//! `coffer bench`: the project's own load generator, and `coffer bench --limits`, the
//! machine's yardsticks (see `docs/performance.md`).
//!
//! Two stages: the command line ([`BenchArgs`]) is validated into [`Options`] (every default
//! resolved, every inconsistency refused), then [`run`] drives the workload. Each worker
//! owns one keep-alive connection ([`http::Client`]) and issues requests back to back;
//! uploads are written from one shared random buffer, never allocated per request.

mod http;
mod limits;
mod stats;

use anyhow::{bail, Context as _};
use clap::{Args, ValueEnum};
use http::{between, AuthKind, Client, Signer, Sink};
use md5::{Digest as _, Md5};
use rand::{Rng as _, RngCore as _};
use stats::{format_size, parse_duration, parse_size, Latency, Sampler};
use std::fmt::Write as _;
use std::net::{SocketAddr, ToSocketAddrs as _};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Options of `coffer bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Measure this machine's limits (MD5, fdatasync, sequential write, loopback TCP)
    /// instead of a server. The disk figures are taken in a temporary directory under
    /// --data-dir.
    #[arg(long)]
    pub limits: bool,
    /// With --limits: a directory on the filesystem of the server's data directory.
    #[arg(long, env = "COFFER_DATA_DIR", default_value = ".")]
    pub data_dir: PathBuf,
    /// The server, `http://host:port`.
    #[arg(long, default_value = "http://127.0.0.1:9000")]
    pub endpoint: String,
    /// SecretId / access key id.
    #[arg(long, env = "COFFER_ROOT_SECRET_ID")]
    pub secret_id: Option<String>,
    /// SecretKey / secret access key.
    #[arg(long, env = "COFFER_ROOT_SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<String>,
    /// Bucket to use; created (with SigV4, path style) if absent.
    #[arg(long, default_value = "coffer-bench")]
    pub bucket: String,
    /// What to do.
    #[arg(long, value_enum, default_value_t = Workload::Put)]
    pub workload: Workload,
    /// Object size (put, get, mixed: default 4KiB; multipart: total object size, default
    /// 1GiB; list: size of the filler objects, default 0).
    #[arg(long, value_parser = parse_size)]
    pub size: Option<u64>,
    /// Workers, each with its own keep-alive connection.
    #[arg(long, default_value_t = 1)]
    pub concurrency: usize,
    /// How long to run (put, get, mixed; default 10s).
    #[arg(long, value_parser = parse_duration, conflicts_with = "count")]
    pub duration: Option<Duration>,
    /// How many operations instead of a duration (put, get, mixed); for multipart the
    /// number of uploads, for list the number of full listings (default 1).
    #[arg(long)]
    pub count: Option<u64>,
    /// Objects to preload (get, mixed; default 1GiB/size clamped to [concurrency, 1000]) or
    /// to fill the bucket with (list; default 100000).
    #[arg(long)]
    pub keys: Option<u64>,
    /// Part size of the multipart workload.
    #[arg(long, value_parser = parse_size, default_value = "8MiB")]
    pub part_size: u64,
    /// Signature: cos (q-sign, bucket in the Host header) or s3 (SigV4, path style).
    #[arg(long, value_enum, default_value_t = AuthKind::Cos)]
    pub auth: AuthKind,
    /// Region used in COS host names and SigV4 scopes.
    #[arg(long, default_value = "ap-guangzhou")]
    pub region: String,
    /// Mixed workload: percentage of GETs (the rest are PUTs overwriting preloaded keys).
    #[arg(long, default_value_t = 70, value_parser = clap::value_parser!(u8).range(0..=100))]
    pub get_percent: u8,
    /// GET, mixed: check each body's MD5, not only its size.
    #[arg(long)]
    pub verify: bool,
    /// Key prefix of this run (default: a fresh random `bench-XXXXXXXX/`).
    #[arg(long)]
    pub prefix: Option<String>,
    /// List: do not fill, list what --prefix already holds.
    #[arg(long, requires = "prefix")]
    pub skip_fill: bool,
    /// Sample this server process's RSS and CPU time during each measured phase.
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// Client runtime threads (default: one per core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Print one JSON object per result instead of a Markdown table.
    #[arg(long)]
    pub json: bool,
}

/// The workloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Workload {
    /// PUT fresh keys.
    Put,
    /// Preload --keys objects, then GET random ones.
    Get,
    /// One object of --size in parts of --part-size, uploaded by --concurrency workers.
    Multipart,
    /// Fill --keys zero-byte objects, then time full ListObjects (V1) listings, 1000 a page.
    List,
    /// Preload, then GET or PUT (--get-percent) random preloaded keys.
    Mixed,
}

impl Workload {
    fn name(self) -> &'static str {
        match self {
            Workload::Put => "put",
            Workload::Get => "get",
            Workload::Multipart => "multipart",
            Workload::List => "list",
            Workload::Mixed => "mixed",
        }
    }
}

/// When a phase ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Until {
    Elapsed(Duration),
    Count(u64),
}

/// Validated options of a load run.
#[derive(Debug, Clone)]
pub struct Options {
    addr: SocketAddr,
    signer: Signer,
    bucket: String,
    workload: Workload,
    size: u64,
    concurrency: usize,
    until: Until,
    keys: u64,
    part_size: u64,
    get_percent: u8,
    verify: bool,
    prefix: String,
    fill: bool,
    server_pid: Option<u32>,
    threads: Option<usize>,
    json: bool,
}

/// What `coffer bench` was asked to do.
#[derive(Debug)]
enum Mode {
    Limits(limits::LimitOptions),
    Load(Box<Options>),
}

const MIB: u64 = 1024 * 1024;
const GIB: u64 = 1024 * MIB;

impl Mode {
    fn from_args(args: BenchArgs) -> anyhow::Result<Mode> {
        if args.limits {
            return Ok(Mode::Limits(limits::LimitOptions {
                dir: args.data_dir,
                hash_bytes: GIB,
                disk_bytes: GIB,
                sync_writes: 500,
                loopback_bytes: 4 * GIB,
                json: args.json,
            }));
        }
        let authority = match args.endpoint.strip_prefix("http://") {
            Some(rest) => rest.trim_end_matches('/').to_string(),
            None if args.endpoint.starts_with("https://") => {
                bail!("--endpoint: https is not supported by the load generator")
            }
            None => args.endpoint.trim_end_matches('/').to_string(),
        };
        if authority.is_empty() || authority.contains('/') {
            bail!(
                "--endpoint must be http://host:port, not {:?}",
                args.endpoint
            );
        }
        let with_port = if authority
            .rsplit_once(':')
            .is_some_and(|(_, p)| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        {
            authority.clone()
        } else {
            format!("{authority}:80")
        };
        let addr = with_port
            .to_socket_addrs()
            .with_context(|| format!("resolving {with_port}"))?
            .next()
            .with_context(|| format!("{with_port} resolves to no address"))?;
        let secret_id = args
            .secret_id
            .context("--secret-id (or COFFER_ROOT_SECRET_ID) is required")?;
        let secret_key = args
            .secret_key
            .context("--secret-key (or COFFER_ROOT_SECRET_KEY) is required")?;
        if args.concurrency == 0 || args.concurrency > 4096 {
            bail!("--concurrency must be between 1 and 4096");
        }
        if args.part_size == 0 || args.part_size > 5 * GIB {
            bail!("--part-size must be between 1 byte and 5GiB");
        }
        let bucket = args.bucket.trim().to_string();
        if bucket.is_empty() || bucket.contains('/') {
            bail!("--bucket must be a bucket name");
        }
        let workload = args.workload;
        let size = args.size.unwrap_or(match workload {
            Workload::Put | Workload::Get | Workload::Mixed => 4096,
            Workload::Multipart => GIB,
            Workload::List => 0,
        });
        let until = match workload {
            Workload::Put | Workload::Get | Workload::Mixed => match (args.duration, args.count) {
                (_, Some(0)) => bail!("--count must be at least 1"),
                (_, Some(n)) => Until::Count(n),
                (Some(d), None) => Until::Elapsed(d),
                (None, None) => Until::Elapsed(Duration::from_secs(10)),
            },
            Workload::Multipart | Workload::List => {
                if args.duration.is_some() {
                    bail!(
                        "--duration does not apply to the {} workload; use --count",
                        workload.name()
                    );
                }
                match args.count {
                    Some(0) => bail!("--count must be at least 1"),
                    Some(n) => Until::Count(n),
                    None => Until::Count(1),
                }
            }
        };
        if workload == Workload::Multipart && size == 0 {
            bail!("--size must be positive for multipart");
        }
        if workload == Workload::Multipart && size.div_ceil(args.part_size) > 10_000 {
            bail!("--size / --part-size exceeds 10000 parts");
        }
        if matches!(workload, Workload::Put | Workload::Get | Workload::Mixed) && size > 5 * GIB {
            bail!("--size above 5GiB needs the multipart workload");
        }
        let keys = match (workload, args.keys) {
            (_, Some(0)) => bail!("--keys must be at least 1"),
            (Workload::Get | Workload::Mixed | Workload::List, Some(k)) => k,
            (Workload::Get | Workload::Mixed, None) => {
                let by_volume = GIB.checked_div(size).unwrap_or(1000);
                by_volume.clamp(args.concurrency as u64, 1000.max(args.concurrency as u64))
            }
            (Workload::List, None) => 100_000,
            (Workload::Put | Workload::Multipart, Some(_)) => {
                bail!("--keys applies to get, mixed and list only")
            }
            (Workload::Put | Workload::Multipart, None) => 0,
        };
        if args.verify && !matches!(workload, Workload::Get | Workload::Mixed) {
            bail!("--verify applies to get and mixed only");
        }
        if args.skip_fill && workload != Workload::List {
            bail!("--skip-fill applies to list only");
        }
        let prefix = match args.prefix {
            Some(p) if p.is_empty() => bail!("--prefix must not be empty"),
            Some(p) => p,
            None => format!("bench-{:08x}/", rand::random::<u32>()),
        };
        if let Some(pid) = args.server_pid {
            if stats::status_kib(pid, "VmRSS").is_none() {
                bail!("--server-pid {pid}: no such process (or no /proc/{pid}/status)");
            }
        }
        Ok(Mode::Load(Box::new(Options {
            addr,
            signer: Signer {
                auth: args.auth,
                secret_id,
                secret_key,
                region: args.region,
                authority,
            },
            bucket,
            workload,
            size,
            concurrency: args.concurrency,
            until,
            keys,
            part_size: args.part_size,
            get_percent: args.get_percent,
            verify: args.verify,
            prefix,
            fill: !args.skip_fill,
            server_pid: args.server_pid,
            threads: args.threads,
            json: args.json,
        })))
    }
}

/// Runs `coffer bench`.
pub fn run(args: BenchArgs) -> anyhow::Result<()> {
    match Mode::from_args(args)? {
        Mode::Limits(options) => limits::run(&options).map(|_| ()),
        Mode::Load(options) => {
            let mut runtime = tokio::runtime::Builder::new_multi_thread();
            runtime.enable_all().thread_name("coffer-bench");
            if let Some(threads) = options.threads {
                runtime.worker_threads(threads.max(1));
            }
            runtime.build()?.block_on(load(Arc::new(*options)))
        }
    }
}

/// Everything the workers share.
#[derive(Debug)]
struct Shared {
    options: Options,
    /// Random bytes every upload is sliced from.
    data: Vec<u8>,
    /// MD5 of `data[..size]`, what --verify expects.
    md5: [u8; 16],
}

async fn load(options: Arc<Options>) -> anyhow::Result<()> {
    let o = &*options;
    let buffer_len = match o.workload {
        Workload::Multipart => o.part_size.min(o.size),
        _ => o.size,
    };
    let mut data = vec![0u8; usize::try_from(buffer_len).context("--size too large")?];
    rand::rng().fill_bytes(&mut data);
    let md5: [u8; 16] = Md5::digest(data.get(..o.size as usize).unwrap_or(&data)).into();
    let shared = Arc::new(Shared {
        options: o.clone(),
        data,
        md5,
    });
    ensure_bucket(&shared).await?;
    eprintln!(
        "coffer bench: {} {} × {} workers, auth {:?}, bucket {}, prefix {}",
        o.workload.name(),
        format_size(o.size),
        o.concurrency,
        o.signer.auth,
        o.bucket,
        o.prefix
    );
    let reports = match o.workload {
        Workload::Put => vec![measure(&shared, "put", Op::Put, o.concurrency, o.until).await?],
        Workload::Get | Workload::Mixed => {
            let prefix = format!("{}obj/", o.prefix);
            preload(&shared, &prefix, o.keys, o.size).await?;
            let op = if o.workload == Workload::Get {
                Op::Get { prefix }
            } else {
                Op::Mixed { prefix }
            };
            vec![measure(&shared, o.workload.name(), op, o.concurrency, o.until).await?]
        }
        Workload::Multipart => multipart(&shared).await?,
        Workload::List => list(&shared).await?,
    };
    print_reports(o, &reports);
    Ok(())
}

fn client(shared: &Shared) -> Client {
    Client::new(shared.options.addr)
}

/// Creates the bucket (SigV4, path style: the plain name needs no APPID) unless it exists.
async fn ensure_bucket(shared: &Shared) -> anyhow::Result<()> {
    let o = &shared.options;
    let mut client = client(shared);
    let request = o
        .signer
        .prepare(AuthKind::S3, "PUT", &o.bucket, None, &[])?;
    let response = client
        .send(&request, &[], Sink::Collect)
        .await
        .with_context(|| format!("creating bucket {} at {}", o.bucket, o.addr))?;
    if response.ok() {
        return Ok(());
    }
    if response.status == 409 {
        // BucketAlreadyOwnedByYou, or BucketAlreadyExists from servers that answer that to
        // the owner too: usable if we may access it.
        let head = o
            .signer
            .prepare(AuthKind::S3, "HEAD", &o.bucket, None, &[])?;
        let head = client.send(&head, &[], Sink::Discard).await?;
        if head.ok() {
            return Ok(());
        }
    }
    bail!("creating bucket {}: {}", o.bucket, response.describe())
}

/// One kind of request a worker repeats.
#[derive(Debug, Clone)]
enum Op {
    /// PUT `<prefix>put/<seq>`, --size bytes.
    Put,
    /// PUT `<prefix><index>` for index in 0..count, `size` bytes.
    Fill { prefix: String, size: u64 },
    /// GET a random `<prefix><index>`.
    Get { prefix: String },
    /// GET or overwrite a random `<prefix><index>`.
    Mixed { prefix: String },
    /// Upload part `seq + 1`.
    Part(Arc<Upload>),
}

/// A multipart upload in progress.
#[derive(Debug)]
struct Upload {
    key: String,
    upload_id: String,
    size: u64,
    part_size: u64,
    etags: Mutex<Vec<Option<String>>>,
}

fn object_key(prefix: &str, index: u64) -> String {
    format!("{prefix}{index:08}")
}

/// Hands out operation sequence numbers until the phase is over.
#[derive(Debug)]
struct Tickets {
    next: AtomicU64,
    deadline: Option<Instant>,
    count: Option<u64>,
}

impl Tickets {
    fn new(until: Until) -> Tickets {
        let (deadline, count) = match until {
            Until::Elapsed(d) => (Some(Instant::now() + d), None),
            Until::Count(n) => (None, Some(n)),
        };
        Tickets {
            next: AtomicU64::new(0),
            deadline,
            count,
        }
    }

    fn take(&self) -> Option<u64> {
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            return None;
        }
        let seq = self.next.fetch_add(1, Ordering::Relaxed);
        match self.count {
            Some(n) if seq >= n => None,
            _ => Some(seq),
        }
    }
}

/// What one worker did.
#[derive(Debug, Default)]
struct WorkerStats {
    latencies: Vec<u64>,
    ops: u64,
    bytes: u64,
    errors: u64,
    first_error: Option<String>,
}

async fn worker(shared: Arc<Shared>, op: Op, tickets: Arc<Tickets>) -> WorkerStats {
    let mut client = client(&shared);
    let mut stats = WorkerStats::default();
    while let Some(seq) = tickets.take() {
        let started = Instant::now();
        let outcome = execute(&shared, &mut client, &op, seq).await;
        let elapsed = started.elapsed().as_nanos() as u64;
        match outcome {
            Ok(bytes) => {
                stats.ops += 1;
                stats.bytes += bytes;
                stats.latencies.push(elapsed);
            }
            Err(e) => {
                stats.errors += 1;
                if stats.first_error.is_none() {
                    stats.first_error = Some(format!("{e:#}"));
                }
                if stats.errors >= 100 && stats.ops == 0 {
                    // Nothing works; do not spin on it.
                    break;
                }
            }
        }
    }
    stats
}

/// One request; the number of payload bytes it moved.
async fn execute(shared: &Shared, client: &mut Client, op: &Op, seq: u64) -> anyhow::Result<u64> {
    let o = &shared.options;
    let size = o.size as usize;
    match op {
        Op::Put => put(shared, client, format!("{}put/{seq:010}", o.prefix), size).await,
        Op::Fill { prefix, size } => {
            put(shared, client, object_key(prefix, seq), *size as usize).await
        }
        Op::Get { prefix } => get(shared, client, prefix).await,
        Op::Mixed { prefix } => {
            if rand::rng().random_range(0..100u8) < o.get_percent {
                get(shared, client, prefix).await
            } else {
                let index = rand::rng().random_range(0..o.keys);
                put(shared, client, object_key(prefix, index), size).await
            }
        }
        Op::Part(upload) => {
            let number = seq + 1;
            let offset = seq * upload.part_size;
            let len = upload.part_size.min(upload.size - offset) as usize;
            let number_text = number.to_string();
            let request = o.signer.prepare(
                o.signer.auth,
                "PUT",
                &o.bucket,
                Some(&upload.key),
                &[
                    ("partNumber", number_text.as_str()),
                    ("uploadId", upload.upload_id.as_str()),
                ],
            )?;
            let body = shared.data.get(..len).unwrap_or(&shared.data);
            let response = client.send(&request, body, Sink::Discard).await?;
            if !response.ok() {
                bail!("UploadPart {number}: {}", response.describe());
            }
            let etag = response
                .etag
                .with_context(|| format!("UploadPart {number}: no ETag"))?;
            if let Ok(mut etags) = upload.etags.lock() {
                if let Some(slot) = etags.get_mut(seq as usize) {
                    *slot = Some(etag);
                }
            }
            Ok(len as u64)
        }
    }
}

async fn put(shared: &Shared, client: &mut Client, key: String, len: usize) -> anyhow::Result<u64> {
    let o = &shared.options;
    let request = o
        .signer
        .prepare(o.signer.auth, "PUT", &o.bucket, Some(&key), &[])?;
    let body = shared.data.get(..len).unwrap_or(&shared.data);
    let response = client.send(&request, body, Sink::Discard).await?;
    if !response.ok() {
        bail!("PUT {key}: {}", response.describe());
    }
    Ok(len as u64)
}

async fn get(shared: &Shared, client: &mut Client, prefix: &str) -> anyhow::Result<u64> {
    let o = &shared.options;
    let key = object_key(prefix, rand::rng().random_range(0..o.keys));
    let request = o
        .signer
        .prepare(o.signer.auth, "GET", &o.bucket, Some(&key), &[])?;
    let sink = if o.verify { Sink::Md5 } else { Sink::Discard };
    let response = client.send(&request, &[], sink).await?;
    if !response.ok() {
        bail!("GET {key}: {}", response.describe());
    }
    if response.body_len != o.size {
        bail!(
            "GET {key}: {} bytes, expected {}",
            response.body_len,
            o.size
        );
    }
    if o.verify && response.md5 != Some(shared.md5) {
        bail!("GET {key}: MD5 mismatch");
    }
    Ok(response.body_len)
}

/// Server process counters taken around a phase.
#[derive(Debug)]
struct Probe {
    sampler: Sampler,
    server_cpu: Option<f64>,
    client_cpu: Option<f64>,
    machine_busy: Option<f64>,
    pid: Option<u32>,
}

impl Probe {
    fn start(pid: Option<u32>) -> Probe {
        Probe {
            sampler: Sampler::start(pid),
            server_cpu: pid.and_then(|p| stats::cpu_seconds(&p.to_string())),
            client_cpu: stats::cpu_seconds("self"),
            machine_busy: stats::machine_busy_seconds(),
            pid,
        }
    }

    fn finish(self, report: &mut Report) {
        let sampled = self.sampler.finish();
        report.server_rss_peak_mib = sampled.server_rss_peak_mib;
        report.server_hwm_mib = sampled.server_hwm_mib;
        let delta = |before: Option<f64>, after: Option<f64>| match (before, after) {
            (Some(b), Some(a)) => Some(a - b),
            _ => None,
        };
        report.server_cpu_s = delta(
            self.server_cpu,
            self.pid.and_then(|p| stats::cpu_seconds(&p.to_string())),
        );
        report.client_cpu_s = delta(self.client_cpu, stats::cpu_seconds("self"));
        // Other processes busy meanwhile: a benchmark run beside a build or a test suite
        // measures the neighbours, and this column says so.
        report.other_cpu_s = Some(sampled.neighbours_cpu_s);
        // The rest of the machine's busy time: the kernel (softirq networking, writeback
        // workers), partly on behalf of the workload itself.
        let busy = delta(self.machine_busy, stats::machine_busy_seconds());
        report.kernel_cpu_s = busy.map(|b| {
            (b - report.client_cpu_s.unwrap_or(0.0)
                - report.server_cpu_s.unwrap_or(0.0)
                - sampled.neighbours_cpu_s)
                .max(0.0)
        });
    }
}

/// The outcome of a measured phase.
#[derive(Debug, Clone, Default)]
struct Report {
    workload: String,
    auth: String,
    size: u64,
    concurrency: usize,
    /// Operations that succeeded (for list: keys listed).
    ops: u64,
    errors: u64,
    bytes: u64,
    seconds: f64,
    latency: Latency,
    server_rss_peak_mib: Option<f64>,
    server_hwm_mib: Option<f64>,
    server_cpu_s: Option<f64>,
    client_cpu_s: Option<f64>,
    /// CPU time of every other user-space process during the phase.
    other_cpu_s: Option<f64>,
    /// The machine's remaining busy time (kernel threads, interrupts) during the phase.
    kernel_cpu_s: Option<f64>,
    first_error: Option<String>,
}

impl Report {
    fn ops_per_s(&self) -> f64 {
        self.ops as f64 / self.seconds.max(1e-9)
    }

    fn mib_per_s(&self) -> f64 {
        self.bytes as f64 / MIB as f64 / self.seconds.max(1e-9)
    }

    /// CPU time as a percentage of one core; none for phases too short for the 10 ms
    /// granularity of `/proc` CPU times to mean anything.
    fn cpu_percent(&self, cpu: Option<f64>) -> Option<f64> {
        if self.seconds < 1.0 {
            return None;
        }
        cpu.map(|c| c / self.seconds * 100.0)
    }
}

/// Runs `op` on `concurrency` workers until `until`, sampling the server meanwhile.
async fn measure(
    shared: &Arc<Shared>,
    label: &str,
    op: Op,
    concurrency: usize,
    until: Until,
) -> anyhow::Result<Report> {
    let o = &shared.options;
    let probe = Probe::start(o.server_pid);
    let started = Instant::now();
    let tickets = Arc::new(Tickets::new(until));
    let mut handles = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        handles.push(tokio::spawn(worker(
            shared.clone(),
            op.clone(),
            tickets.clone(),
        )));
    }
    let mut merged = WorkerStats::default();
    for handle in handles {
        let stats = handle.await.context("a worker panicked")?;
        merged.ops += stats.ops;
        merged.bytes += stats.bytes;
        merged.errors += stats.errors;
        merged.latencies.extend_from_slice(&stats.latencies);
        if merged.first_error.is_none() {
            merged.first_error = stats.first_error;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let mut report = Report {
        workload: label.to_string(),
        auth: format!("{:?}", o.signer.auth).to_ascii_lowercase(),
        size: match op {
            Op::Fill { size, .. } => size,
            Op::Part(ref upload) => upload.part_size,
            _ => o.size,
        },
        concurrency,
        ops: merged.ops,
        errors: merged.errors,
        bytes: merged.bytes,
        seconds,
        latency: Latency::of(&mut merged.latencies),
        first_error: merged.first_error,
        ..Report::default()
    };
    probe.finish(&mut report);
    if let Some(e) = &report.first_error {
        eprintln!(
            "coffer bench: {label}: {} errors; first: {e}",
            report.errors
        );
    }
    if report.ops == 0 {
        bail!(
            "{label}: no operation succeeded ({})",
            report.first_error.as_deref().unwrap_or("no error recorded")
        );
    }
    Ok(report)
}

/// PUTs `count` objects of `size` bytes named `<prefix><index>`.
async fn preload(
    shared: &Arc<Shared>,
    prefix: &str,
    count: u64,
    size: u64,
) -> anyhow::Result<Report> {
    let o = &shared.options;
    eprintln!(
        "coffer bench: preloading {count} × {} under {prefix}",
        format_size(size)
    );
    let measured = measure(
        shared,
        "fill",
        Op::Fill {
            prefix: prefix.to_string(),
            size,
        },
        o.concurrency.max(8).min(count as usize).max(1),
        Until::Count(count),
    )
    .await?;
    if measured.errors > 0 {
        bail!(
            "preloading failed: {} errors, first: {}",
            measured.errors,
            measured.first_error.as_deref().unwrap_or("?")
        );
    }
    eprintln!(
        "coffer bench: preloaded in {:.1} s ({:.0} PUT/s)",
        measured.seconds,
        measured.ops_per_s()
    );
    Ok(measured)
}

/// --count multipart uploads of --size, parts uploaded by --concurrency workers.
async fn multipart(shared: &Arc<Shared>) -> anyhow::Result<Vec<Report>> {
    let o = &shared.options;
    let uploads = match o.until {
        Until::Count(n) => n,
        Until::Elapsed(_) => 1,
    };
    let parts = o.size.div_ceil(o.part_size);
    let mut total = Report {
        workload: "multipart".into(),
        auth: format!("{:?}", o.signer.auth).to_ascii_lowercase(),
        size: o.size,
        concurrency: o.concurrency,
        ..Report::default()
    };
    let mut part_latencies = Vec::new();
    let mut client = client(shared);
    let probe = Probe::start(o.server_pid);
    for n in 0..uploads {
        let key = format!("{}mpu/{n:04}", o.prefix);
        let started = Instant::now();
        let request = o.signer.prepare(
            o.signer.auth,
            "POST",
            &o.bucket,
            Some(&key),
            &[("uploads", "")],
        )?;
        let response = client.expect_ok(&request, &[]).await?;
        let text = String::from_utf8_lossy(&response.body);
        let upload_id = between(&text, "<UploadId>", "</UploadId>")
            .context("InitiateMultipartUpload: no UploadId")?
            .to_string();
        let upload = Arc::new(Upload {
            key: key.clone(),
            upload_id: upload_id.clone(),
            size: o.size,
            part_size: o.part_size,
            etags: Mutex::new(vec![None; parts as usize]),
        });
        let measured = measure(
            shared,
            "upload-part",
            Op::Part(upload.clone()),
            o.concurrency.min(parts as usize),
            Until::Count(parts),
        )
        .await?;
        if measured.errors > 0 {
            bail!(
                "multipart: {} parts failed, first: {}",
                measured.errors,
                measured.first_error.as_deref().unwrap_or("?")
            );
        }
        let mut body = String::from("<CompleteMultipartUpload>");
        {
            let etags = upload
                .etags
                .lock()
                .map_err(|_| anyhow::anyhow!("poisoned"))?;
            for (i, etag) in etags.iter().enumerate() {
                let etag = etag.as_deref().context("a part has no ETag")?;
                let _ = write!(
                    body,
                    "<Part><PartNumber>{}</PartNumber><ETag>{etag}</ETag></Part>",
                    i + 1
                );
            }
        }
        body.push_str("</CompleteMultipartUpload>");
        let complete_started = Instant::now();
        let request = o.signer.prepare(
            o.signer.auth,
            "POST",
            &o.bucket,
            Some(&key),
            &[("uploadId", upload_id.as_str())],
        )?;
        let response = client.expect_ok(&request, body.as_bytes()).await?;
        // Complete may answer 200 with an error document.
        if String::from_utf8_lossy(&response.body).contains("<Error>") {
            bail!(
                "CompleteMultipartUpload: {}",
                String::from_utf8_lossy(&response.body)
            );
        }
        let complete_ms = complete_started.elapsed().as_secs_f64() * 1000.0;
        let seconds = started.elapsed().as_secs_f64();
        eprintln!(
            "coffer bench: upload {n}: {} in {parts} parts, {seconds:.2} s ({:.0} MiB/s), parts p50 {:.1} ms, complete {complete_ms:.1} ms",
            format_size(o.size),
            o.size as f64 / MIB as f64 / seconds,
            measured.latency.p50_ms
        );
        total.ops += 1;
        total.bytes += o.size;
        total.seconds += seconds;
        part_latencies.push(measured.latency);
    }
    // The latency columns of a multipart row are those of its parts (the last upload's).
    total.latency = part_latencies.last().copied().unwrap_or_default();
    probe.finish(&mut total);
    // CPU percentages are relative to the summed upload time.
    Ok(vec![total])
}

/// Fills the prefix with --keys objects (unless --skip-fill), then times --count full
/// listings of it, 1000 keys a page, ListObjects V1 with markers.
async fn list(shared: &Arc<Shared>) -> anyhow::Result<Vec<Report>> {
    let o = &shared.options;
    let mut reports = Vec::new();
    if o.fill {
        let mut fill = preload(shared, &o.prefix, o.keys, o.size).await?;
        fill.workload = "list-fill (PUT)".into();
        reports.push(fill);
    }
    let passes = match o.until {
        Until::Count(n) => n,
        Until::Elapsed(_) => 1,
    };
    let mut client = client(shared);
    let mut report = Report {
        workload: "list (keys)".into(),
        auth: format!("{:?}", o.signer.auth).to_ascii_lowercase(),
        size: o.size,
        concurrency: 1,
        ..Report::default()
    };
    let mut page_latencies = Vec::new();
    let probe = Probe::start(o.server_pid);
    let started = Instant::now();
    for _ in 0..passes {
        let mut marker: Option<String> = None;
        let mut listed = 0u64;
        loop {
            let mut query: Vec<(&str, &str)> = vec![("max-keys", "1000"), ("prefix", &o.prefix)];
            if let Some(m) = &marker {
                query.push(("marker", m.as_str()));
            }
            let page_started = Instant::now();
            let request = o
                .signer
                .prepare(o.signer.auth, "GET", &o.bucket, None, &query)?;
            let response = client.expect_ok(&request, &[]).await?;
            let text = String::from_utf8_lossy(&response.body);
            let keys = text.matches("<Key>").count() as u64;
            let truncated = text.contains("<IsTruncated>true</IsTruncated>");
            let next = between(&text, "<NextMarker>", "</NextMarker>")
                .map(str::to_string)
                .or_else(|| {
                    text.rfind("<Key>").and_then(|i| {
                        between(text.get(i..).unwrap_or_default(), "<Key>", "</Key>")
                            .map(str::to_string)
                    })
                });
            page_latencies.push(page_started.elapsed().as_nanos() as u64);
            listed += keys;
            report.bytes += response.body_len;
            if !truncated {
                break;
            }
            match next {
                Some(next) => marker = Some(next),
                None => bail!("a truncated listing page without NextMarker or keys"),
            }
        }
        if o.fill && listed != o.keys {
            eprintln!(
                "coffer bench: warning: listed {listed} keys, expected {}",
                o.keys
            );
        }
        report.ops += listed;
    }
    report.seconds = started.elapsed().as_secs_f64();
    report.latency = Latency::of(&mut page_latencies);
    probe.finish(&mut report);
    reports.push(report);
    Ok(reports)
}

/// A minimal JSON object writer (numbers, strings, nulls).
#[derive(Debug, Default)]
pub(crate) struct JsonObject {
    out: String,
}

impl JsonObject {
    fn sep(&mut self, key: &str) {
        self.out.push(if self.out.is_empty() { '{' } else { ',' });
        self.push_str_literal(key);
        self.out.push(':');
    }

    fn push_str_literal(&mut self, s: &str) {
        self.out.push('"');
        for c in s.chars() {
            match c {
                '"' => self.out.push_str("\\\""),
                '\\' => self.out.push_str("\\\\"),
                c if (c as u32) < 0x20 => {
                    let _ = write!(self.out, "\\u{:04x}", c as u32);
                }
                c => self.out.push(c),
            }
        }
        self.out.push('"');
    }

    /// Adds a number (non-finite → null), rounded to 3 decimals.
    pub(crate) fn num(&mut self, key: &str, value: f64) -> &mut Self {
        self.sep(key);
        if value.is_finite() {
            let rounded = (value * 1000.0).round() / 1000.0;
            let _ = write!(self.out, "{rounded}");
        } else {
            self.out.push_str("null");
        }
        self
    }

    /// Adds an optional number.
    pub(crate) fn opt(&mut self, key: &str, value: Option<f64>) -> &mut Self {
        match value {
            Some(v) => self.num(key, v),
            None => {
                self.sep(key);
                self.out.push_str("null");
                self
            }
        }
    }

    /// Adds a string.
    pub(crate) fn str(&mut self, key: &str, value: &str) -> &mut Self {
        self.sep(key);
        self.push_str_literal(value);
        self
    }

    /// The finished object.
    pub(crate) fn finish(&mut self) -> String {
        if self.out.is_empty() {
            self.out.push('{');
        }
        let mut out = std::mem::take(&mut self.out);
        out.push('}');
        out
    }
}

fn print_reports(o: &Options, reports: &[Report]) {
    if o.json {
        for r in reports {
            let mut j = JsonObject::default();
            j.str("workload", &r.workload)
                .str("auth", &r.auth)
                .num("size", r.size as f64)
                .num("concurrency", r.concurrency as f64)
                .num("ops", r.ops as f64)
                .num("errors", r.errors as f64)
                .num("bytes", r.bytes as f64)
                .num("seconds", r.seconds)
                .num("ops_per_s", r.ops_per_s())
                .num("mib_per_s", r.mib_per_s())
                .num("p50_ms", r.latency.p50_ms)
                .num("p99_ms", r.latency.p99_ms)
                .num("max_ms", r.latency.max_ms)
                .num("mean_ms", r.latency.mean_ms)
                .opt("server_rss_peak_mib", r.server_rss_peak_mib)
                .opt("server_hwm_mib", r.server_hwm_mib)
                .opt("server_cpu_s", r.server_cpu_s)
                .opt("client_cpu_s", r.client_cpu_s)
                .opt("kernel_cpu_s", r.kernel_cpu_s)
                .opt("other_cpu_s", r.other_cpu_s);
            if let Some(e) = &r.first_error {
                j.str("first_error", e);
            }
            println!("{}", j.finish());
        }
        return;
    }
    println!("| workload | size | conc | auth | ops | errors | s | ops/s | MiB/s | p50 ms | p99 ms | max ms | server peak RSS MiB | server CPU | client CPU | kernel CPU | other procs CPU |");
    println!("| --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    let pct = |v: Option<f64>| v.map_or("–".to_string(), |v| format!("{v:.0}%"));
    for r in reports {
        println!(
            "| {} | {} | {} | {} | {} | {} | {:.1} | {:.0} | {:.1} | {:.3} | {:.3} | {:.3} | {} | {} | {} | {} | {} |",
            r.workload,
            format_size(r.size),
            r.concurrency,
            r.auth,
            r.ops,
            r.errors,
            r.seconds,
            r.ops_per_s(),
            r.mib_per_s(),
            r.latency.p50_ms,
            r.latency.p99_ms,
            r.latency.max_ms,
            r.server_rss_peak_mib
                .map_or("–".to_string(), |v| format!("{v:.0}")),
            pct(r.cpu_percent(r.server_cpu_s)),
            pct(r.cpu_percent(r.client_cpu_s)),
            pct(r.cpu_percent(r.kernel_cpu_s)),
            pct(r.cpu_percent(r.other_cpu_s)),
        );
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Tests may panic: that is how they fail.
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        args: BenchArgs,
    }

    fn options(extra: &[&str]) -> anyhow::Result<Options> {
        let mut argv = vec![
            "bench",
            "--endpoint",
            "http://127.0.0.1:9",
            "--secret-id",
            "AKIDx",
            "--secret-key",
            "k",
        ];
        argv.extend_from_slice(extra);
        let cli = Cli::try_parse_from(argv)?;
        match Mode::from_args(cli.args)? {
            Mode::Load(o) => Ok(*o),
            Mode::Limits(_) => bail!("limits"),
        }
    }

    #[test]
    fn defaults_resolve_per_workload() {
        let o = options(&[]).unwrap();
        assert_eq!(
            (o.workload, o.size, o.concurrency),
            (Workload::Put, 4096, 1)
        );
        assert_eq!(o.until, Until::Elapsed(Duration::from_secs(10)));
        assert!(o.prefix.starts_with("bench-"));

        let o = options(&["--workload", "get", "--size", "64MiB", "--concurrency", "4"]).unwrap();
        assert_eq!(o.keys, 16);
        let o = options(&["--workload", "get"]).unwrap();
        assert_eq!(o.keys, 1000);

        let o = options(&["--workload", "multipart"]).unwrap();
        assert_eq!(
            (o.size, o.part_size, o.until),
            (GIB, 8 * MIB, Until::Count(1))
        );

        let o = options(&["--workload", "list", "--count", "2"]).unwrap();
        assert_eq!((o.keys, o.size, o.until), (100_000, 0, Until::Count(2)));
    }

    #[test]
    fn inconsistencies_are_refused() {
        assert!(options(&["--workload", "list", "--duration", "5s"]).is_err());
        assert!(options(&["--workload", "put", "--keys", "5"]).is_err());
        assert!(options(&["--verify"]).is_err());
        assert!(options(&["--concurrency", "0"]).is_err());
        assert!(options(&["--count", "3", "--duration", "1s"]).is_err());
        assert!(options(&["--workload", "list", "--skip-fill"]).is_err());
        assert!(options(&["--endpoint", "https://x"]).is_err());
        assert!(options(&[
            "--workload",
            "multipart",
            "--size",
            "1GiB",
            "--part-size",
            "1KiB"
        ])
        .is_err());
    }

    #[test]
    fn json_objects() {
        let mut j = JsonObject::default();
        j.str("a", "x\"y\n").num("b", 1.23456).opt("c", None);
        assert_eq!(j.finish(), r#"{"a":"x\"y\u000a","b":1.235,"c":null}"#);
    }
}
