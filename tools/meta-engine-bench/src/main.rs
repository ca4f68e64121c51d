//! A small benchmark of candidate embedded metadata engines for Coffer's object table:
//! redb, SQLite (through rusqlite, bundled) and fjall, each with durable (fsync'd) commits.
//!
//! Every engine is driven through the same [`Engine`] trait, with the same keys, values and
//! access patterns as `crates/coffer-store/src/meta/redb_store.rs`:
//!
//! * keys are `bucket id (8 bytes BE) ‖ "dir-0123/sub-04/file-012345.txt"`, values 200 random
//!   bytes (incompressible: a worst case for fjall's LZ4, neutral for the others);
//! * every write operation first reads the key it is about to overwrite (as a PUT does to
//!   release the old version's blob) and then inserts it, inside the commit's transaction;
//! * group commit is done the way Coffer does it: one writer thread drains a queue of up to
//!   1024 operations and applies them in one durable transaction;
//! * a delimiter listing seeks past each common prefix with a fresh range scan inside one
//!   read snapshot, as `list_objects_in` does.
//!
//! Run `meta-engine-bench --help` for the options.

#![cfg_attr(
    not(any(feature = "redb", feature = "sqlite", feature = "fjall")),
    allow(dead_code)
)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;
type Kv = (Vec<u8>, Vec<u8>);

const VALUE_LEN: usize = 200;
const LOAD_KEYS: u64 = 100_000;
const LOAD_BATCH: usize = 1000;
const MAX_BATCH: usize = 1024;
const PRODUCERS: usize = 32;
const CACHE_BYTES: usize = 256 << 20;
const LOAD_BUCKET: u64 = 1;

// ---------------------------------------------------------------------------------------
// Keys, values, randomness

/// splitmix64: deterministic, dependency-free, good enough for picking keys.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn value(&mut self) -> Vec<u8> {
        let mut v = Vec::with_capacity(VALUE_LEN);
        while v.len() < VALUE_LEN {
            v.extend_from_slice(&self.next().to_le_bytes());
        }
        v.truncate(VALUE_LEN);
        v
    }
}

/// Object number `i` of a bucket: 1000 top-level "directories" of 10 subdirectories of 10
/// files each for the 100k-key data set.
fn object_key(bucket: u64, i: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(8 + 32);
    k.extend_from_slice(&bucket.to_be_bytes());
    let name = format!(
        "dir-{:04}/sub-{:02}/file-{:06}.txt",
        (i / 100) % 1000,
        (i / 10) % 10,
        i
    );
    k.extend_from_slice(name.as_bytes());
    k
}

fn bucket_bounds(bucket: u64) -> (Vec<u8>, Vec<u8>) {
    (
        bucket.to_be_bytes().to_vec(),
        (bucket + 1).to_be_bytes().to_vec(),
    )
}

/// S3 `ListObjects` with `delimiter=/` at the bucket root, walked the way Coffer's
/// `list_objects_in` does: each time a key rolls up into a common prefix, start a new range
/// scan just past that prefix. `first_in(from, to)` returns the first key in `[from, to)`.
/// Returns (common prefixes, plain keys).
fn delimited_listing(
    bucket: u64,
    mut first_in: impl FnMut(&[u8], &[u8]) -> Res<Option<Vec<u8>>>,
) -> Res<(usize, usize)> {
    let (mut start, end) = bucket_bounds(bucket);
    let (mut prefixes, mut keys) = (0, 0);
    while let Some(k) = first_in(&start, &end)? {
        match k[8..].iter().position(|&b| b == b'/') {
            Some(at) => {
                prefixes += 1;
                // Just past every key that starts with `…/`: replace the '/' by '/' + 1.
                start = k[..8 + at + 1].to_vec();
                *start.last_mut().expect("non-empty") += 1;
            }
            None => {
                keys += 1;
                start = k;
                start.push(0);
            }
        }
    }
    Ok((prefixes, keys))
}

// ---------------------------------------------------------------------------------------
// The engine abstraction

trait Engine: Send + Sync {
    /// Applies all puts in ONE durable transaction (read the old value, then insert).
    fn commit(&self, batch: &[Kv]) -> Res<()>;
    /// A handle for one reader thread.
    fn reader(&self) -> Res<Box<dyn Reader + '_>>;
    /// Bring the store to a steady state after a bulk load (fjall: flush the memtable to a
    /// table file so reads are not all served from memory). No-op elsewhere.
    fn settle(&self) -> Res<()> {
        Ok(())
    }
}

trait Reader {
    /// Point read in its own snapshot; returns the value length.
    fn get(&mut self, key: &[u8]) -> Res<Option<usize>>;
    /// Ordered scan of `[from, to)` in one snapshot; returns (keys, key+value bytes).
    fn scan(&mut self, from: &[u8], to: &[u8]) -> Res<(u64, u64)>;
    /// Delimiter listing of a bucket in one snapshot (see [`delimited_listing`]).
    fn list_delimited(&mut self, bucket: u64) -> Res<(usize, usize)>;
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Redb,
    SqliteFull,
    SqliteNormal,
    Fjall,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Redb => "redb",
            Kind::SqliteFull => "sqlite-full",
            Kind::SqliteNormal => "sqlite-normal",
            Kind::Fjall => "fjall",
        }
    }
    fn parse(s: &str) -> Option<Kind> {
        [
            Kind::Redb,
            Kind::SqliteFull,
            Kind::SqliteNormal,
            Kind::Fjall,
        ]
        .into_iter()
        .find(|k| k.name() == s)
    }
    fn open(self, dir: &Path) -> Res<Arc<dyn Engine>> {
        std::fs::create_dir_all(dir)?;
        match self {
            #[cfg(feature = "redb")]
            Kind::Redb => Ok(Arc::new(redb_engine::RedbEngine::open(dir)?)),
            #[cfg(feature = "sqlite")]
            Kind::SqliteFull => Ok(Arc::new(sqlite_engine::SqliteEngine::open(dir, "FULL")?)),
            #[cfg(feature = "sqlite")]
            Kind::SqliteNormal => Ok(Arc::new(sqlite_engine::SqliteEngine::open(dir, "NORMAL")?)),
            #[cfg(feature = "fjall")]
            Kind::Fjall => Ok(Arc::new(fjall_engine::FjallEngine::open(dir)?)),
            #[allow(unreachable_patterns)]
            other => Err(format!("{} was not compiled in (cargo feature)", other.name()).into()),
        }
    }
}

#[cfg(feature = "redb")]
mod redb_engine {
    use super::{delimited_listing, Engine, Kv, Reader, Res, CACHE_BYTES};
    use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
    use std::path::Path;

    const OBJECTS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("objects");

    pub struct RedbEngine {
        db: Database,
    }

    impl RedbEngine {
        /// Opened exactly as `RedbMetadata::open`: 256 MiB cache, default durability
        /// (`Durability::Immediate`: the commit returns after fsync).
        pub fn open(dir: &Path) -> Res<RedbEngine> {
            let db = Database::builder()
                .set_cache_size(CACHE_BYTES)
                .create(dir.join("meta.redb"))?;
            let txn = db.begin_write()?;
            txn.open_table(OBJECTS)?;
            txn.commit()?;
            Ok(RedbEngine { db })
        }
    }

    impl Engine for RedbEngine {
        fn commit(&self, batch: &[Kv]) -> Res<()> {
            let txn = self.db.begin_write()?;
            {
                let mut t = txn.open_table(OBJECTS)?;
                for (k, v) in batch {
                    let old = t.get(k.as_slice())?.map(|g| g.value().len());
                    std::hint::black_box(old);
                    t.insert(k.as_slice(), v.as_slice())?;
                }
            }
            txn.commit()?;
            Ok(())
        }
        fn reader(&self) -> Res<Box<dyn Reader + '_>> {
            Ok(Box::new(RedbReader { db: &self.db }))
        }
    }

    struct RedbReader<'a> {
        db: &'a Database,
    }

    impl Reader for RedbReader<'_> {
        fn get(&mut self, key: &[u8]) -> Res<Option<usize>> {
            let r = self.db.begin_read()?;
            let t = r.open_table(OBJECTS)?;
            Ok(t.get(key)?.map(|v| v.value().len()))
        }
        fn scan(&mut self, from: &[u8], to: &[u8]) -> Res<(u64, u64)> {
            let r = self.db.begin_read()?;
            let t = r.open_table(OBJECTS)?;
            let (mut n, mut bytes) = (0, 0);
            for e in t.range(from..to)? {
                let (k, v) = e?;
                n += 1;
                bytes += (k.value().len() + v.value().len()) as u64;
            }
            Ok((n, bytes))
        }
        fn list_delimited(&mut self, bucket: u64) -> Res<(usize, usize)> {
            let r = self.db.begin_read()?;
            let t = r.open_table(OBJECTS)?;
            delimited_listing(bucket, |from, to| {
                Ok(match t.range(from..to)?.next() {
                    Some(e) => Some(e?.0.value().to_vec()),
                    None => None,
                })
            })
        }
    }
}

#[cfg(feature = "sqlite")]
mod sqlite_engine {
    use super::{delimited_listing, Engine, Kv, Reader, Res, CACHE_BYTES};
    use rusqlite::{params, Connection, OpenFlags, OptionalExtension, TransactionBehavior};
    use std::path::{Path, PathBuf};
    use std::sync::Mutex;

    pub struct SqliteEngine {
        path: PathBuf,
        writer: Mutex<Connection>,
    }

    fn tune(conn: &Connection) -> Res<()> {
        conn.execute_batch(&format!(
            "PRAGMA cache_size = -{}; PRAGMA busy_timeout = 10000;",
            CACHE_BYTES / 1024
        ))?;
        Ok(())
    }

    impl SqliteEngine {
        /// WAL mode, the given `synchronous` level. FULL fsyncs the WAL at every commit;
        /// NORMAL only at checkpoints (a commit can be lost on power failure).
        pub fn open(dir: &Path, synchronous: &str) -> Res<SqliteEngine> {
            let path = dir.join("meta.sqlite");
            let conn = Connection::open(&path)?;
            let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
            if mode != "wal" {
                return Err(format!("journal_mode is {mode}, not wal").into());
            }
            conn.execute_batch(&format!("PRAGMA synchronous = {synchronous};"))?;
            tune(&conn)?;
            conn.execute_batch(
                "CREATE TABLE IF NOT EXISTS objects (
                     k BLOB PRIMARY KEY NOT NULL,
                     v BLOB NOT NULL
                 ) WITHOUT ROWID;",
            )?;
            Ok(SqliteEngine {
                path,
                writer: Mutex::new(conn),
            })
        }
    }

    impl Engine for SqliteEngine {
        fn commit(&self, batch: &[Kv]) -> Res<()> {
            let mut conn = self.writer.lock().map_err(|_| "poisoned")?;
            let txn = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            {
                let mut get = txn.prepare_cached("SELECT length(v) FROM objects WHERE k = ?1")?;
                let mut put =
                    txn.prepare_cached("INSERT OR REPLACE INTO objects (k, v) VALUES (?1, ?2)")?;
                for (k, v) in batch {
                    let old: Option<i64> = get.query_row([k], |r| r.get(0)).optional()?;
                    std::hint::black_box(old);
                    put.execute(params![k, v])?;
                }
            }
            txn.commit()?;
            Ok(())
        }
        fn reader(&self) -> Res<Box<dyn Reader + '_>> {
            let conn = Connection::open_with_flags(
                &self.path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            tune(&conn)?;
            Ok(Box::new(SqliteReader { conn }))
        }
    }

    struct SqliteReader {
        conn: Connection,
    }

    impl Reader for SqliteReader {
        fn get(&mut self, key: &[u8]) -> Res<Option<usize>> {
            let mut s = self
                .conn
                .prepare_cached("SELECT length(v) FROM objects WHERE k = ?1")?;
            let n: Option<i64> = s.query_row([key], |r| r.get(0)).optional()?;
            Ok(n.map(|n| n as usize))
        }
        fn scan(&mut self, from: &[u8], to: &[u8]) -> Res<(u64, u64)> {
            let mut s = self
                .conn
                .prepare_cached("SELECT k, v FROM objects WHERE k >= ?1 AND k < ?2 ORDER BY k")?;
            let mut rows = s.query(params![from, to])?;
            let (mut n, mut bytes) = (0, 0);
            while let Some(row) = rows.next()? {
                let k = row.get_ref(0)?.as_blob()?;
                let v = row.get_ref(1)?.as_blob()?;
                n += 1;
                bytes += (k.len() + v.len()) as u64;
            }
            Ok((n, bytes))
        }
        fn list_delimited(&mut self, bucket: u64) -> Res<(usize, usize)> {
            // One read transaction = one snapshot for the whole listing.
            self.conn.execute_batch("BEGIN DEFERRED")?;
            let result = {
                let mut s = self.conn.prepare_cached(
                    "SELECT k FROM objects WHERE k >= ?1 AND k < ?2 ORDER BY k LIMIT 1",
                )?;
                delimited_listing(bucket, |from, to| {
                    Ok(s.query_row(params![from, to], |r| r.get::<_, Vec<u8>>(0))
                        .optional()?)
                })
            };
            self.conn.execute_batch("COMMIT")?;
            result
        }
    }
}

#[cfg(feature = "fjall")]
mod fjall_engine {
    use super::{delimited_listing, Engine, Kv, Reader, Res, CACHE_BYTES};
    use fjall::{
        KeyspaceCreateOptions, PersistMode, Readable, SingleWriterTxDatabase,
        SingleWriterTxKeyspace,
    };
    use std::path::Path;

    /// The transactional single-writer flavour: Coffer's writes read before they write, so
    /// they need read-your-own-writes inside the commit, which a plain `OwnedWriteBatch`
    /// does not give.
    pub struct FjallEngine {
        db: SingleWriterTxDatabase,
        ks: SingleWriterTxKeyspace,
    }

    impl FjallEngine {
        pub fn open(dir: &Path) -> Res<FjallEngine> {
            let db = SingleWriterTxDatabase::builder(dir.join("fjall"))
                .cache_size(CACHE_BYTES as u64)
                .open()?;
            let ks = db.keyspace("objects", KeyspaceCreateOptions::default)?;
            Ok(FjallEngine { db, ks })
        }
    }

    impl Engine for FjallEngine {
        fn commit(&self, batch: &[Kv]) -> Res<()> {
            // Without `durability`, fjall only writes the journal to OS buffers. SyncAll
            // fsyncs the journal before `commit` returns.
            let mut tx = self.db.write_tx().durability(Some(PersistMode::SyncAll));
            for (k, v) in batch {
                let old = tx.get(&self.ks, k)?.map(|v| v.len());
                std::hint::black_box(old);
                tx.insert(&self.ks, k.as_slice(), v.as_slice());
            }
            tx.commit()?;
            Ok(())
        }
        fn reader(&self) -> Res<Box<dyn Reader + '_>> {
            Ok(Box::new(FjallReader { e: self }))
        }
        fn settle(&self) -> Res<()> {
            // doc(hidden) in fjall 3 ("used in tests"), but it is what the memtable reaching
            // its size limit would do on its own.
            self.ks.inner().rotate_memtable_and_wait()?;
            Ok(())
        }
    }

    struct FjallReader<'a> {
        e: &'a FjallEngine,
    }

    impl Reader for FjallReader<'_> {
        fn get(&mut self, key: &[u8]) -> Res<Option<usize>> {
            let snap = self.e.db.read_tx();
            Ok(snap.get(&self.e.ks, key)?.map(|v| v.len()))
        }
        fn scan(&mut self, from: &[u8], to: &[u8]) -> Res<(u64, u64)> {
            let snap = self.e.db.read_tx();
            let (mut n, mut bytes) = (0, 0);
            for g in snap.range(&self.e.ks, from..to) {
                let (k, v) = g.into_inner()?;
                n += 1;
                bytes += (k.len() + v.len()) as u64;
            }
            Ok((n, bytes))
        }
        fn list_delimited(&mut self, bucket: u64) -> Res<(usize, usize)> {
            let snap = self.e.db.read_tx();
            delimited_listing(bucket, |from, to| {
                Ok(match snap.range(&self.e.ks, from..to).next() {
                    Some(g) => Some(g.key()?.to_vec()),
                    None => None,
                })
            })
        }
    }
}

// ---------------------------------------------------------------------------------------
// Workloads

/// Bytes this process has caused to be written to storage so far (`write_bytes` in
/// /proc/self/io, counted when pages are dirtied; includes the engines' background threads).
fn written_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/io")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("write_bytes:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1e3)
}

#[derive(Default, Debug)]
struct Results {
    single_ops_s: f64,
    single_commits: u64,
    single_p50: Duration,
    single_p99: Duration,
    group_ops_s: f64,
    group_avg_batch: f64,
    group_p50: Duration,
    group_p99: Duration,
    naive_ops_s: f64,
    group_written_per_op: f64,
    load_written_per_key: f64,
    load_keys_s: f64,
    settle: Duration,
    scan_keys_s: f64,
    listing: Duration,
    reads_idle_s: f64,
    reads_busy_s: f64,
    writes_busy_s: f64,
    size_loaded: (u64, u64),
    size_closed: (u64, u64),
    reopen: Duration,
    crash_reopen: Option<Duration>,
}

/// (1) One thread, one durable commit per operation.
fn single_commits(e: &dyn Engine, secs: f64, r: &mut Results) -> Res<()> {
    let mut rng = Rng::new(1);
    let mut lat = Vec::new();
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(secs);
    let mut i = 0;
    while Instant::now() < deadline {
        let kv = (object_key(2, i), rng.value());
        let t = Instant::now();
        e.commit(std::slice::from_ref(&kv))?;
        lat.push(t.elapsed());
        i += 1;
    }
    r.single_ops_s = i as f64 / start.elapsed().as_secs_f64();
    r.single_commits = i;
    lat.sort();
    r.single_p50 = percentile(&lat, 0.50);
    r.single_p99 = percentile(&lat, 0.99);
    Ok(())
}

struct Request {
    kv: Kv,
    done: mpsc::Sender<()>,
}

/// (2) 32 closed-loop producers; one writer thread drains the queue (≤ 1024 operations) into
/// one durable transaction, exactly like Coffer's `writer_loop`.
fn group_commits(e: &Arc<dyn Engine>, secs: f64, r: &mut Results) -> Res<()> {
    let (queue, jobs) = mpsc::channel::<Request>();
    let writer_engine = e.clone();
    let writer = std::thread::spawn(move || -> Res<(u64, u64)> {
        let (mut batches, mut ops) = (0u64, 0u64);
        while let Ok(first) = jobs.recv() {
            let mut reqs = vec![first];
            while reqs.len() < MAX_BATCH {
                match jobs.try_recv() {
                    Ok(r) => reqs.push(r),
                    Err(_) => break,
                }
            }
            let (kvs, dones): (Vec<Kv>, Vec<mpsc::Sender<()>>) =
                reqs.into_iter().map(|r| (r.kv, r.done)).unzip();
            writer_engine.commit(&kvs)?;
            batches += 1;
            ops += kvs.len() as u64;
            for d in dones {
                let _ = d.send(());
            }
        }
        Ok((batches, ops))
    });
    let written = written_bytes();
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(secs);
    let producers: Vec<_> = (0..PRODUCERS as u64)
        .map(|p| {
            let queue = queue.clone();
            std::thread::spawn(move || -> Vec<Duration> {
                let mut rng = Rng::new(100 + p);
                let (done, answer) = mpsc::channel();
                let mut lat = Vec::new();
                let mut n = 0;
                while Instant::now() < deadline {
                    let kv = (object_key(3, p * 10_000_000 + n), rng.value());
                    let t = Instant::now();
                    queue
                        .send(Request {
                            kv,
                            done: done.clone(),
                        })
                        .expect("writer alive");
                    answer.recv().expect("writer answered");
                    lat.push(t.elapsed());
                    n += 1;
                }
                lat
            })
        })
        .collect();
    drop(queue);
    let mut lat: Vec<Duration> = Vec::new();
    for p in producers {
        lat.extend(p.join().expect("producer"));
    }
    let elapsed = start.elapsed();
    let (batches, ops) = writer.join().expect("writer")?;
    r.group_ops_s = ops as f64 / elapsed.as_secs_f64();
    r.group_avg_batch = ops as f64 / batches.max(1) as f64;
    r.group_written_per_op = (written_bytes() - written) as f64 / ops.max(1) as f64;
    lat.sort();
    r.group_p50 = percentile(&lat, 0.50);
    r.group_p99 = percentile(&lat, 0.99);
    Ok(())
}

/// (2b) 32 threads each committing their own single-operation transactions directly: what
/// the engine's own locking gives without an application-level group commit.
fn naive_concurrent(e: &Arc<dyn Engine>, secs: f64, r: &mut Results) -> Res<()> {
    let total = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(secs);
    let threads: Vec<_> = (0..PRODUCERS as u64)
        .map(|p| {
            let e = e.clone();
            let total = total.clone();
            std::thread::spawn(move || -> Res<()> {
                let mut rng = Rng::new(200 + p);
                let mut n = 0;
                while Instant::now() < deadline {
                    let kv = (object_key(4, p * 10_000_000 + n), rng.value());
                    e.commit(std::slice::from_ref(&kv))?;
                    n += 1;
                }
                total.fetch_add(n, Ordering::Relaxed);
                Ok(())
            })
        })
        .collect();
    for t in threads {
        t.join().expect("thread")?;
    }
    r.naive_ops_s = total.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64();
    Ok(())
}

/// (3) Load 100k keys in random order (1000 per durable transaction), then settle.
fn load(e: &dyn Engine, r: &mut Results) -> Res<()> {
    let mut rng = Rng::new(7);
    let mut order: Vec<u64> = (0..LOAD_KEYS).collect();
    for i in (1..order.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        order.swap(i, j);
    }
    let written = written_bytes();
    let start = Instant::now();
    for chunk in order.chunks(LOAD_BATCH) {
        let batch: Vec<Kv> = chunk
            .iter()
            .map(|&i| (object_key(LOAD_BUCKET, i), rng.value()))
            .collect();
        e.commit(&batch)?;
    }
    r.load_keys_s = LOAD_KEYS as f64 / start.elapsed().as_secs_f64();
    r.load_written_per_key = (written_bytes() - written) as f64 / LOAD_KEYS as f64;
    Ok(())
}

/// (3) Full ordered scan (best of 3) and the delimiter listing (median of 5).
fn scans(e: &dyn Engine, r: &mut Results) -> Res<()> {
    let mut reader = e.reader()?;
    let (from, to) = bucket_bounds(LOAD_BUCKET);
    let mut best = Duration::MAX;
    for _ in 0..3 {
        let t = Instant::now();
        let (n, bytes) = reader.scan(&from, &to)?;
        best = best.min(t.elapsed());
        if n != LOAD_KEYS || bytes < LOAD_KEYS * VALUE_LEN as u64 {
            return Err(format!("scan saw {n} keys / {bytes} bytes").into());
        }
    }
    r.scan_keys_s = LOAD_KEYS as f64 / best.as_secs_f64();
    let mut times = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let (prefixes, keys) = reader.list_delimited(LOAD_BUCKET)?;
        times.push(t.elapsed());
        if (prefixes, keys) != (1000, 0) {
            return Err(format!("listing saw {prefixes} prefixes, {keys} keys").into());
        }
    }
    times.sort();
    r.listing = times[times.len() / 2];
    Ok(())
}

/// (4) Random point reads from `readers` threads for `secs`, optionally with one writer
/// committing durable batches of 64 random overwrites the whole time.
/// Returns (reads/s, writes/s).
fn point_reads(
    e: &Arc<dyn Engine>,
    readers: usize,
    secs: f64,
    with_writes: bool,
) -> Res<(f64, f64)> {
    let stop = Arc::new(AtomicBool::new(false));
    let reads = Arc::new(AtomicU64::new(0));
    let writes = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let writer = with_writes.then(|| {
        let (e, stop, writes) = (e.clone(), stop.clone(), writes.clone());
        std::thread::spawn(move || -> Res<()> {
            let mut rng = Rng::new(300);
            while !stop.load(Ordering::Relaxed) {
                let batch: Vec<Kv> = (0..64)
                    .map(|_| (object_key(LOAD_BUCKET, rng.below(LOAD_KEYS)), rng.value()))
                    .collect();
                e.commit(&batch)?;
                writes.fetch_add(64, Ordering::Relaxed);
            }
            Ok(())
        })
    });
    let threads: Vec<_> = (0..readers as u64)
        .map(|t| {
            let (e, stop, reads) = (e.clone(), stop.clone(), reads.clone());
            std::thread::spawn(move || -> Res<()> {
                let mut reader = e.reader()?;
                let mut rng = Rng::new(400 + t);
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    for _ in 0..64 {
                        let key = object_key(LOAD_BUCKET, rng.below(LOAD_KEYS));
                        if reader.get(&key)? != Some(VALUE_LEN) {
                            return Err("point read missed a loaded key".into());
                        }
                    }
                    n += 64;
                }
                reads.fetch_add(n, Ordering::Relaxed);
                Ok(())
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs_f64(secs));
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().expect("reader")?;
    }
    if let Some(w) = writer {
        w.join().expect("writer")?;
    }
    let elapsed = start.elapsed().as_secs_f64();
    Ok((
        reads.load(Ordering::Relaxed) as f64 / elapsed,
        writes.load(Ordering::Relaxed) as f64 / elapsed,
    ))
}

/// (apparent bytes, allocated bytes) of everything under `dir`.
fn dir_size(dir: &Path) -> Res<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let (mut apparent, mut allocated) = (0, 0);
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let meta = entry.metadata()?;
        if meta.is_dir() {
            let (a, b) = dir_size(&entry.path())?;
            apparent += a;
            allocated += b;
        } else {
            apparent += meta.len();
            allocated += meta.blocks() * 512;
        }
    }
    Ok((apparent, allocated))
}

/// Load 100k keys in a child process, kill -9 it, and time the reopen (crash recovery) in
/// this process; then check every committed key is there.
fn crash_recovery(kind: Kind, dir: &Path) -> Res<Duration> {
    use std::io::BufRead;
    let _ = std::fs::remove_dir_all(dir);
    let mut child = std::process::Command::new(std::env::current_exe()?)
        .arg("--crash-child")
        .arg(kind.name())
        .arg(dir)
        .stdout(std::process::Stdio::piped())
        .spawn()?;
    let mut line = String::new();
    let stdout = child.stdout.take().ok_or("no child stdout")?;
    std::io::BufReader::new(stdout).read_line(&mut line)?;
    child.kill()?;
    child.wait()?;
    if line.trim() != "loaded" {
        return Err(format!("crash child said {line:?}").into());
    }
    let t = Instant::now();
    let e = kind.open(dir)?;
    let reopen = t.elapsed();
    let (from, to) = bucket_bounds(LOAD_BUCKET);
    let (n, _) = e.reader()?.scan(&from, &to)?;
    if n != LOAD_KEYS {
        return Err(format!("after kill -9, {n} of {LOAD_KEYS} committed keys survived").into());
    }
    Ok(reopen)
}

/// The child half of [`crash_recovery`]: load, say so, then wait to be killed without ever
/// closing the engine.
fn crash_child(kind: &str, dir: &Path) -> Res<()> {
    use std::io::Write;
    let kind = Kind::parse(kind).ok_or("unknown engine")?;
    let e = kind.open(dir)?;
    load(&*e, &mut Results::default())?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "loaded")?;
    out.flush()?;
    loop {
        std::thread::sleep(Duration::from_secs(60));
    }
}

// ---------------------------------------------------------------------------------------
// Driver

struct Options {
    dir: PathBuf,
    engines: Vec<Kind>,
    workloads: Vec<String>,
    secs: f64,
    readers: usize,
    keep: bool,
    rounds: usize,
}

const HELP: &str = "meta-engine-bench: compare embedded metadata engines for Coffer

USAGE: meta-engine-bench [OPTIONS]

OPTIONS:
  --dir PATH          where the databases go (default: $TMPDIR/meta-engine-bench-<pid>);
                      must be on a real disk, not tmpfs
  --engines LIST      comma-separated: redb,sqlite-full,sqlite-normal,fjall (default: all)
  --workloads LIST    comma-separated: single,group,naive,data,crash (default: all)
                      data  = 100k load, scans, listing, size, reopen, point reads
                      crash = 100k load in a child process, kill -9, time the reopen
                              (first round only)
  --secs N            seconds per timed workload (default 3)
  --rounds N          repeat everything N times, engines interleaved, and report
                      medians (min-max for throughputs) (default 1)
  --readers N         point-reader threads (default: available parallelism - 1, min 1)
  --keep              keep the databases afterwards
";

fn parse_options() -> Res<Options> {
    let mut o = Options {
        dir: std::env::temp_dir().join(format!("meta-engine-bench-{}", std::process::id())),
        engines: vec![
            Kind::Redb,
            Kind::SqliteFull,
            Kind::SqliteNormal,
            Kind::Fjall,
        ],
        workloads: ["single", "group", "naive", "data", "crash"]
            .map(String::from)
            .to_vec(),
        secs: 3.0,
        // Leave one core to the writer in the reads-during-writes run.
        readers: std::thread::available_parallelism()
            .map_or(1, |n| n.get().saturating_sub(1).max(1)),
        keep: false,
        rounds: 1,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "--dir" => o.dir = PathBuf::from(val()?),
            "--engines" => {
                o.engines = val()?
                    .split(',')
                    .map(|s| Kind::parse(s).ok_or_else(|| format!("unknown engine {s}")))
                    .collect::<Result<_, _>>()?
            }
            "--workloads" => o.workloads = val()?.split(',').map(String::from).collect(),
            "--secs" => o.secs = val()?.parse()?,
            "--readers" => o.readers = val()?.parse()?,
            "--rounds" => o.rounds = val()?.parse()?,
            "--keep" => o.keep = true,
            "-h" | "--help" => {
                print!("{HELP}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other}\n\n{HELP}").into()),
        }
    }
    Ok(o)
}

/// The filesystem type `path` lives on, from /proc/self/mounts (longest mount-point match).
fn fs_type(path: &Path) -> String {
    let path = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap_or_default();
    let mut best: Option<(usize, String, String)> = None;
    for line in mounts.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 3 || !path.starts_with(f[1]) {
            continue;
        }
        if best.as_ref().is_none_or(|b| f[1].len() > b.0) {
            best = Some((f[1].len(), f[2].to_string(), f[0].to_string()));
        }
    }
    best.map_or("unknown".into(), |(_, t, dev)| format!("{t} on {dev}"))
}

fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map_or("unknown".to_string(), |s| s.trim().to_string());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!(
        "{} CPUs ({}), Linux {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        model,
        kernel.trim()
    )
}

fn mib(b: u64) -> String {
    format!("{:.1}", b as f64 / (1024.0 * 1024.0))
}

fn run_engine(kind: Kind, o: &Options, round: usize) -> Res<Results> {
    let mut r = Results::default();
    let wants = |w: &str| o.workloads.iter().any(|x| x == w);
    let dir = o.dir.join(kind.name());
    let _ = std::fs::remove_dir_all(&dir);

    if wants("single") || wants("group") || wants("naive") {
        let e = kind.open(&dir.join("writes"))?;
        if wants("single") {
            single_commits(&*e, o.secs, &mut r)?;
            eprintln!(
                "  single-op commits: {:.0} ops/s ({} commits), p50 {} ms, p99 {} ms",
                r.single_ops_s,
                r.single_commits,
                ms(r.single_p50),
                ms(r.single_p99)
            );
        }
        if wants("group") {
            group_commits(&e, o.secs, &mut r)?;
            eprintln!(
                "  group commit (32 producers): {:.0} ops/s, avg batch {:.1}, {:.0} B written/op, p50 {} ms, p99 {} ms",
                r.group_ops_s,
                r.group_avg_batch,
                r.group_written_per_op,
                ms(r.group_p50),
                ms(r.group_p99)
            );
        }
        if wants("naive") {
            naive_concurrent(&e, o.secs, &mut r)?;
            eprintln!("  32 threads, own commits: {:.0} ops/s", r.naive_ops_s);
        }
    }

    if wants("data") {
        let data = dir.join("data");
        let e = kind.open(&data)?;
        load(&*e, &mut r)?;
        r.size_loaded = dir_size(&data)?;
        let t = Instant::now();
        e.settle()?;
        r.settle = t.elapsed();
        eprintln!(
            "  load 100k: {:.0} keys/s, {:.0} B written/key; on disk {} MiB (allocated {} MiB); settle {} ms",
            r.load_keys_s,
            r.load_written_per_key,
            mib(r.size_loaded.0),
            mib(r.size_loaded.1),
            ms(r.settle)
        );
        scans(&*e, &mut r)?;
        eprintln!(
            "  full scan: {:.0} keys/s; delimiter listing (1000 prefixes): {} ms",
            r.scan_keys_s,
            ms(r.listing)
        );
        drop(e);
        r.size_closed = dir_size(&data)?;
        let t = Instant::now();
        let e = kind.open(&data)?;
        r.reopen = t.elapsed();
        eprintln!(
            "  after close: {} MiB (allocated {} MiB); reopen {} ms",
            mib(r.size_closed.0),
            mib(r.size_closed.1),
            ms(r.reopen)
        );
        // Warm the engine's cache the same way for everyone before timing point reads.
        e.reader()?
            .scan(&bucket_bounds(LOAD_BUCKET).0, &bucket_bounds(LOAD_BUCKET).1)?;
        (r.reads_idle_s, _) = point_reads(&e, o.readers, o.secs, false)?;
        (r.reads_busy_s, r.writes_busy_s) = point_reads(&e, o.readers, o.secs, true)?;
        eprintln!(
            "  point reads ({} threads): {:.0}/s idle, {:.0}/s with a writer doing {:.0} durable writes/s",
            o.readers, r.reads_idle_s, r.reads_busy_s, r.writes_busy_s
        );
    }
    if wants("crash") && round == 0 {
        let reopen = crash_recovery(kind, &dir.join("crash"))?;
        eprintln!(
            "  reopen after kill -9 mid-life (100k keys): {} ms",
            ms(reopen)
        );
        r.crash_reopen = Some(reopen);
    }
    if !o.keep {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(r)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// "median" for one round, "median (min-max)" for several.
fn spread(v: Vec<f64>, decimals: usize) -> String {
    let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let n = v.len();
    let m = median(v);
    if n > 1 {
        format!("{m:.decimals$} ({lo:.decimals$}–{hi:.decimals$})")
    } else {
        format!("{m:.decimals$}")
    }
}

fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--crash-child") {
        return crash_child(&args[2], Path::new(&args[3]));
    }
    let o = parse_options()?;
    std::fs::create_dir_all(&o.dir)?;
    let fs = fs_type(&o.dir);
    println!("machine: {}", machine());
    println!("data dir: {} ({fs})", o.dir.display());
    if fs.starts_with("tmpfs") || fs.starts_with("ramfs") {
        eprintln!(
            "WARNING: {} is in memory: fsync costs nothing there",
            o.dir.display()
        );
    }
    println!(
        "per timed workload: {} s; point-reader threads: {}; rounds: {}",
        o.secs, o.readers, o.rounds
    );
    let started = Instant::now();
    let mut all: Vec<(Kind, Vec<Results>)> = o.engines.iter().map(|&k| (k, Vec::new())).collect();
    for round in 0..o.rounds {
        for (kind, results) in &mut all {
            eprintln!("== {} (round {})", kind.name(), round + 1);
            results.push(run_engine(*kind, &o, round)?);
        }
    }
    if !o.keep {
        let _ = std::fs::remove_dir(&o.dir);
    }

    let mut out = String::new();
    let wants = |w: &str| o.workloads.iter().any(|x| x == w);
    let f = |rs: &[Results], g: fn(&Results) -> f64| rs.iter().map(g).collect::<Vec<f64>>();
    let msd = |rs: &[Results], g: fn(&Results) -> Duration| {
        format!(
            "{:.2}",
            median(rs.iter().map(|r| g(r).as_secs_f64() * 1e3).collect())
        )
    };
    let mibs = |rs: &[Results], g: fn(&Results) -> u64| {
        format!(
            "{:.1}",
            median(rs.iter().map(|r| g(r) as f64 / 1048576.0).collect())
        )
    };
    if wants("single") || wants("group") || wants("naive") {
        out.push_str(
            "\n| engine | 1 thread: commits/s | p50 ms | p99 ms | 32 producers, group commit: ops/s | avg batch | bytes written/op | p50 ms | p99 ms | 32 threads, own commits: ops/s |\n\
             |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
        );
        for (k, rs) in &all {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {:.1} | {:.0} | {} | {} | {} |",
                k.name(),
                spread(f(rs, |r| r.single_ops_s), 0),
                msd(rs, |r| r.single_p50),
                msd(rs, |r| r.single_p99),
                spread(f(rs, |r| r.group_ops_s), 0),
                median(f(rs, |r| r.group_avg_batch)),
                median(f(rs, |r| r.group_written_per_op)),
                msd(rs, |r| r.group_p50),
                msd(rs, |r| r.group_p99),
                spread(f(rs, |r| r.naive_ops_s), 0),
            );
        }
    }
    if wants("data") {
        out.push_str(
            "\n| engine | load 100k (1000/txn): keys/s | bytes written/key | full scan: keys/s | delimiter listing, 1000 prefixes: ms | point reads/s, idle | point reads/s, during writes | durable writes/s during reads |\n\
             |---|---:|---:|---:|---:|---:|---:|---:|\n",
        );
        for (k, rs) in &all {
            let _ = writeln!(
                out,
                "| {} | {} | {:.0} | {} | {} | {} | {} | {} |",
                k.name(),
                spread(f(rs, |r| r.load_keys_s), 0),
                median(f(rs, |r| r.load_written_per_key)),
                spread(f(rs, |r| r.scan_keys_s), 0),
                msd(rs, |r| r.listing),
                spread(f(rs, |r| r.reads_idle_s), 0),
                spread(f(rs, |r| r.reads_busy_s), 0),
                spread(f(rs, |r| r.writes_busy_s), 0),
            );
        }
    }
    if wants("data") || wants("crash") {
        out.push_str(
            "\n| engine | size after 100k inserts, still open: MiB (allocated) | size after close: MiB (allocated) | fjall memtable flush: ms | clean reopen: ms | reopen after kill -9: ms |\n\
             |---|---:|---:|---:|---:|---:|\n",
        );
        for (k, rs) in &all {
            let _ = writeln!(
                out,
                "| {} | {} ({}) | {} ({}) | {} | {} | {} |",
                k.name(),
                mibs(rs, |r| r.size_loaded.0),
                mibs(rs, |r| r.size_loaded.1),
                mibs(rs, |r| r.size_closed.0),
                mibs(rs, |r| r.size_closed.1),
                msd(rs, |r| r.settle),
                msd(rs, |r| r.reopen),
                rs.first()
                    .and_then(|r| r.crash_reopen)
                    .map_or("-".to_string(), ms),
            );
        }
    }
    print!("{out}");
    println!(
        "\ntotal benchmark time: {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
