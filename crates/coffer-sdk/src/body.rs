//! Request bodies (bytes, a region of a local file, or a one-shot stream) and progress
//! reporting.

use std::fmt;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures_util::{Stream, TryStreamExt};
use md5::{Digest, Md5};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncSeekExt};

use crate::crypto::DataCipher;
use crate::error::{Error, Result};

/// Chunk size of file bodies: large enough for few syscalls, small enough for bounded memory.
const FILE_CHUNK: usize = 256 * 1024;

type ByteStream = Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send>>;

/// The body of a request.
///
/// Bytes and file regions can be sent again, so requests carrying them are retried; a stream
/// ([`Body::from_reader`]) can be sent once only.
pub struct Body {
    kind: Kind,
    meter: Option<Arc<Meter>>,
    tap: Option<Arc<Crc64Tap>>,
    /// Client-side encryption: applied afresh (from this keystream position) on every
    /// attempt, so an encrypted bytes or file body stays replayable.
    cipher: Option<DataCipher>,
}

enum Kind {
    Bytes(Bytes),
    File {
        path: PathBuf,
        offset: u64,
        len: u64,
    },
    Stream {
        stream: Mutex<Option<ByteStream>>,
        len: Option<u64>,
    },
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Bytes(b) => write!(f, "Body::Bytes({} bytes)", b.len()),
            Kind::File { path, offset, len } => {
                write!(f, "Body::File({}, {offset}+{len})", path.display())
            }
            Kind::Stream { len, .. } => write!(f, "Body::Stream({len:?})"),
        }
    }
}

impl Default for Body {
    fn default() -> Self {
        Body::empty()
    }
}

impl Body {
    /// No body.
    pub fn empty() -> Self {
        Body::from(Bytes::new())
    }

    /// A whole local file (its length is read now).
    pub async fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let len = tokio::fs::metadata(path)
            .await
            .map_err(|e| Error::io(format!("reading {}", path.display()), e))?
            .len();
        Ok(Body::from_file_region(path, 0, len))
    }

    /// `len` bytes of a local file from `offset` (a multipart part). The file is opened when
    /// the request is sent, and again on a retry.
    pub fn from_file_region(path: impl Into<PathBuf>, offset: u64, len: u64) -> Self {
        Body {
            kind: Kind::File {
                path: path.into(),
                offset,
                len,
            },
            meter: None,
            tap: None,
            cipher: None,
        }
    }

    /// Any async reader; `len` should be given when known (otherwise the body is sent with
    /// chunked transfer encoding). Such a body cannot be re-sent, so it is never retried.
    pub fn from_reader<R>(reader: R, len: Option<u64>) -> Self
    where
        R: AsyncRead + Send + 'static,
    {
        let stream = tokio_util::io::ReaderStream::with_capacity(reader, FILE_CHUNK);
        Body::from_stream(stream, len)
    }

    /// A stream of byte chunks (one-shot, never retried).
    pub fn from_stream<S>(stream: S, len: Option<u64>) -> Self
    where
        S: Stream<Item = std::io::Result<Bytes>> + Send + 'static,
    {
        Body {
            kind: Kind::Stream {
                stream: Mutex::new(Some(Box::pin(stream))),
                len,
            },
            meter: None,
            tap: None,
            cipher: None,
        }
    }

    /// The length, when known.
    pub fn len(&self) -> Option<u64> {
        match &self.kind {
            Kind::Bytes(b) => Some(b.len() as u64),
            Kind::File { len, .. } => Some(*len),
            Kind::Stream { len, .. } => *len,
        }
    }

    /// True for a body known to be empty.
    pub fn is_empty(&self) -> bool {
        self.len() == Some(0)
    }

    /// Whether the body can be sent again (a retry is possible).
    pub fn is_replayable(&self) -> bool {
        !matches!(self.kind, Kind::Stream { .. })
    }

    /// Encrypts the body with `cipher` as it is sent (every attempt starts from the cipher's
    /// position); MD5, CRC-64 and progress are then of the ciphertext.
    pub(crate) fn with_cipher(mut self, cipher: DataCipher) -> Self {
        self.cipher = Some(cipher);
        self
    }

    /// Computes the CRC-64 of what is sent into `tap` (reset on every attempt).
    pub(crate) fn with_tap(mut self, tap: Arc<Crc64Tap>) -> Self {
        self.tap = Some(tap);
        self
    }

    /// Counts the bytes sent into `meter`.
    pub(crate) fn with_meter(mut self, meter: Arc<Meter>) -> Self {
        self.meter = Some(meter);
        self
    }

    /// The binary MD5 of the body (reads a file body once more). `None` for a stream.
    pub(crate) async fn md5(&self) -> Result<Option<[u8; 16]>> {
        match &self.kind {
            Kind::Bytes(b) => Ok(Some(match &self.cipher {
                Some(cipher) => Md5::digest(cipher.clone().apply_to_vec(b)).into(),
                None => Md5::digest(b).into(),
            })),
            Kind::File { path, offset, len } => {
                let mut hasher = Md5::new();
                let mut cipher = self.cipher.clone();
                read_region(path, *offset, *len, |chunk| {
                    if let Some(cipher) = &mut cipher {
                        cipher.apply(chunk);
                    }
                    hasher.update(chunk);
                })
                .await?;
                Ok(Some(hasher.finalize().into()))
            }
            Kind::Stream { .. } => Ok(None),
        }
    }

    /// The body for one attempt. Resets the meter's count for this body first (a retry
    /// re-sends everything).
    pub(crate) async fn to_reqwest(&self) -> Result<reqwest::Body> {
        if let Some(meter) = &self.meter {
            meter.rewind();
        }
        if let Some(tap) = &self.tap {
            tap.reset();
        }
        let stream: ByteStream = match &self.kind {
            Kind::Bytes(b) if self.meter.is_none() && self.tap.is_none() => {
                return Ok(match &self.cipher {
                    Some(cipher) => reqwest::Body::from(cipher.clone().apply_to_vec(b)),
                    None => reqwest::Body::from(b.clone()),
                });
            }
            Kind::Bytes(b) => {
                let chunks: Vec<std::io::Result<Bytes>> = (0..b.len())
                    .step_by(FILE_CHUNK)
                    .map(|start| Ok(b.slice(start..(start + FILE_CHUNK).min(b.len()))))
                    .collect();
                Box::pin(futures_util::stream::iter(chunks))
            }
            Kind::File { path, offset, len } => {
                let context = || format!("reading {}", path.display());
                let mut file = tokio::fs::File::open(path)
                    .await
                    .map_err(|e| Error::io(context(), e))?;
                file.seek(std::io::SeekFrom::Start(*offset))
                    .await
                    .map_err(|e| Error::io(context(), e))?;
                // A file shorter than announced ends the stream early; hyper then fails the
                // request (the body is shorter than its Content-Length) instead of hanging.
                Box::pin(tokio_util::io::ReaderStream::with_capacity(
                    file.take(*len),
                    FILE_CHUNK,
                ))
            }
            Kind::Stream { stream, .. } => {
                let taken = stream.lock().ok().and_then(|mut s| s.take());
                match taken {
                    Some(s) => s,
                    None => {
                        return Err(Error::invalid(
                            "a stream body was already sent and cannot be retried",
                        ))
                    }
                }
            }
        };
        let stream = match &self.cipher {
            Some(cipher) => {
                let mut cipher = cipher.clone();
                Box::pin(stream.map_ok(move |chunk| {
                    let mut data = chunk.to_vec();
                    cipher.apply(&mut data);
                    Bytes::from(data)
                })) as ByteStream
            }
            None => stream,
        };
        let stream = match &self.meter {
            Some(meter) => {
                let meter = Arc::clone(meter);
                Box::pin(stream.inspect_ok(move |chunk| meter.add(chunk.len() as u64)))
                    as ByteStream
            }
            None => stream,
        };
        let stream = match &self.tap {
            Some(tap) => {
                let tap = Arc::clone(tap);
                Box::pin(stream.inspect_ok(move |chunk| tap.update(chunk))) as ByteStream
            }
            None => stream,
        };
        Ok(reqwest::Body::wrap_stream(stream))
    }
}

impl From<Bytes> for Body {
    fn from(b: Bytes) -> Self {
        Body {
            kind: Kind::Bytes(b),
            meter: None,
            tap: None,
            cipher: None,
        }
    }
}

impl From<Vec<u8>> for Body {
    fn from(v: Vec<u8>) -> Self {
        Body::from(Bytes::from(v))
    }
}

impl From<String> for Body {
    fn from(s: String) -> Self {
        Body::from(Bytes::from(s))
    }
}

impl From<&'static str> for Body {
    fn from(s: &'static str) -> Self {
        Body::from(Bytes::from_static(s.as_bytes()))
    }
}

impl From<&'static [u8]> for Body {
    fn from(s: &'static [u8]) -> Self {
        Body::from(Bytes::from_static(s))
    }
}

/// Feeds `len` bytes of the file at `path` from `offset` to `each`, a chunk at a time.
pub(crate) async fn read_region(
    path: &Path,
    offset: u64,
    len: u64,
    mut each: impl FnMut(&mut [u8]),
) -> Result<()> {
    let context = || format!("reading {}", path.display());
    let mut file = tokio::fs::File::open(path)
        .await
        .map_err(|e| Error::io(context(), e))?;
    file.seek(std::io::SeekFrom::Start(offset))
        .await
        .map_err(|e| Error::io(context(), e))?;
    let mut reader = file.take(len);
    let mut buf = vec![0u8; FILE_CHUNK];
    loop {
        let n = reader
            .read(&mut buf)
            .await
            .map_err(|e| Error::io(context(), e))?;
        if n == 0 {
            return Ok(());
        }
        each(&mut buf[..n]);
    }
}

/// A progress callback: `(bytes done, total bytes)`. Called often (per chunk) and from any
/// thread; it should be quick. The last call reports `done == total`.
#[derive(Clone)]
pub struct ProgressCallback(Arc<dyn Fn(u64, u64) + Send + Sync>);

impl ProgressCallback {
    /// Wraps a closure.
    pub fn new(f: impl Fn(u64, u64) + Send + Sync + 'static) -> Self {
        ProgressCallback(Arc::new(f))
    }

    fn call(&self, done: u64, total: u64) {
        (self.0)(done, total)
    }
}

impl fmt::Debug for ProgressCallback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ProgressCallback")
    }
}

/// Aggregates the progress of one transfer (possibly many parallel requests).
pub(crate) struct Progress {
    done: AtomicU64,
    total: u64,
    callback: Option<ProgressCallback>,
}

impl Progress {
    pub(crate) fn new(total: u64, callback: Option<ProgressCallback>) -> Arc<Self> {
        Arc::new(Progress {
            done: AtomicU64::new(0),
            total,
            callback,
        })
    }

    /// Adds bytes that are already done (skipped parts of a resumed transfer).
    pub(crate) fn add(&self, n: u64) {
        let done = self.done.fetch_add(n, Ordering::Relaxed) + n;
        if let Some(cb) = &self.callback {
            cb.call(done.min(self.total), self.total);
        }
    }

    pub(crate) fn sub(&self, n: u64) {
        let done = self.done.fetch_sub(n, Ordering::Relaxed).saturating_sub(n);
        if let Some(cb) = &self.callback {
            cb.call(done.min(self.total), self.total);
        }
    }

    /// Reports completion (`done == total`) exactly once at the end.
    pub(crate) fn finish(&self) {
        self.done.store(self.total, Ordering::Relaxed);
        if let Some(cb) = &self.callback {
            cb.call(self.total, self.total);
        }
    }

    /// A meter for one request body or download stream.
    pub(crate) fn meter(self: &Arc<Self>) -> Arc<Meter> {
        Arc::new(Meter {
            progress: Arc::clone(self),
            this_attempt: AtomicU64::new(0),
        })
    }
}

/// The share of one request in a [`Progress`]; rewound when the request is retried.
pub(crate) struct Meter {
    progress: Arc<Progress>,
    this_attempt: AtomicU64,
}

impl Meter {
    pub(crate) fn add(&self, n: u64) {
        self.this_attempt.fetch_add(n, Ordering::Relaxed);
        self.progress.add(n);
    }

    pub(crate) fn rewind(&self) {
        let sent = self.this_attempt.swap(0, Ordering::Relaxed);
        if sent > 0 {
            self.progress.sub(sent);
        }
    }
}

/// The CRC-64 (§11.1) of a body as it is sent.
#[derive(Default)]
pub(crate) struct Crc64Tap(Mutex<coffer_proto::checksum::Crc64>);

impl Crc64Tap {
    fn reset(&self) {
        if let Ok(mut crc) = self.0.lock() {
            *crc = coffer_proto::checksum::Crc64::new();
        }
    }

    fn update(&self, data: &[u8]) {
        if let Ok(mut crc) = self.0.lock() {
            crc.update(data);
        }
    }

    /// The CRC of the bytes sent by the last attempt.
    pub(crate) fn value(&self) -> u64 {
        self.0.lock().map(|crc| crc.value()).unwrap_or_default()
    }
}
