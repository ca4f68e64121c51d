//! Staging an upload's bytes: streamed to a new blob (or kept inline when small) while MD5,
//! CRC-64 and, when asked, a flexible checksum are computed, then made durable — steps 1 and
//! 3 of the write path.
//!
//! Large bodies are handed to a blocking thread through a small bounded channel, so that the
//! network task keeps reading while the previous chunk is hashed and written: memory per
//! upload is bounded by the channel depth times the chunk size, whatever the object size.

use crate::blob::{BlobStore, BlobWriter};
use crate::error::{StoreError, StoreResult};
use crate::model::BlobId;
use bytes::Bytes;
use coffer_proto::checksum::{ChecksumAlgorithm, Crc64, FlexibleChecksum};
use md5::{Digest as _, Md5};
use std::sync::Arc;
use tokio::sync::mpsc;

/// Objects at most this large are kept inline in the metadata engine: one fsync per PUT
/// instead of two, and no file per tiny object.
pub const INLINE_MAX: usize = 64 * 1024;

/// Chunks in flight between the network task and the hashing/writing thread.
const PIPELINE_DEPTH: usize = 4;

/// Bytes fully received, hashed and durable, not yet referenced by metadata.
#[derive(Debug)]
pub struct StagedData {
    /// Size in bytes.
    pub size: u64,
    /// Binary MD5.
    pub md5: [u8; 16],
    /// CRC-64/XZ.
    pub crc64: u64,
    /// The flexible checksum (algorithm, binary digest) of the bytes: computed here when the
    /// writer was asked for one, or set by the caller to the one a client sent and the
    /// payload was verified against.
    pub checksum: Option<(ChecksumAlgorithm, Vec<u8>)>,
    /// Where the bytes are.
    pub(crate) location: StagedLocation,
}

#[derive(Debug)]
pub(crate) enum StagedLocation {
    Inline(Vec<u8>),
    /// A durable blob; deleted by the guard unless the commit took it.
    Blob(BlobGuard),
}

/// Deletes a staged blob that was never committed (digest mismatch, error, crash of the
/// request). Disarmed when metadata starts referencing it.
#[derive(Debug)]
pub(crate) struct BlobGuard {
    pub(crate) id: BlobId,
    store: Arc<dyn BlobStore>,
    armed: bool,
}

impl BlobGuard {
    pub(crate) fn disarm(mut self) -> BlobId {
        self.armed = false;
        self.id
    }
}

impl Drop for BlobGuard {
    fn drop(&mut self) {
        if self.armed {
            let _ = self.store.delete(self.id);
        }
    }
}

enum Message {
    Data(Bytes),
    Finish,
}

struct Hashers {
    md5: Md5,
    crc: Crc64,
    flexible: Option<FlexibleChecksum>,
    size: u64,
}

impl Hashers {
    fn new(checksum: Option<ChecksumAlgorithm>) -> Self {
        Hashers {
            md5: Md5::new(),
            crc: Crc64::new(),
            flexible: checksum.map(ChecksumAlgorithm::hasher),
            size: 0,
        }
    }

    fn update(&mut self, data: &[u8]) {
        self.md5.update(data);
        self.crc.update(data);
        if let Some(flexible) = self.flexible.as_mut() {
            flexible.update(data);
        }
        self.size += data.len() as u64;
    }

    fn staged(self, location: StagedLocation) -> StagedData {
        StagedData {
            size: self.size,
            md5: self.md5.finalize().into(),
            crc64: self.crc.value(),
            checksum: self.flexible.map(|f| (f.kind(), f.finish())),
            location,
        }
    }
}

/// What the writing stage returns: the unfinished writer if the upload was abandoned.
type WorkerResult = StoreResult<Option<Box<dyn BlobWriter>>>;

// One Mode per upload; its size does not matter.
#[allow(clippy::large_enum_variant)]
enum Mode {
    Buffering {
        buffer: Vec<u8>,
        hashers: Hashers,
    },
    Streaming {
        sender: mpsc::Sender<Message>,
        worker: tokio::task::JoinHandle<WorkerResult>,
        hash_sender: mpsc::Sender<Bytes>,
        hasher: tokio::task::JoinHandle<Hashers>,
        blob: BlobId,
    },
}

/// Receives an upload's bytes. Dropping it before [`ObjectWriter::finish`] discards them.
pub struct ObjectWriter {
    blobs: Arc<dyn BlobStore>,
    allow_inline: bool,
    mode: Option<Mode>,
}

impl std::fmt::Debug for ObjectWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectWriter")
            .field("allow_inline", &self.allow_inline)
            .finish_non_exhaustive()
    }
}

impl ObjectWriter {
    /// A writer; `size_hint` (the declared length, if any) decides up front whether the
    /// bytes go inline. Parts never go inline (`allow_inline = false`). `checksum` is a
    /// flexible checksum to compute besides MD5 and CRC-64.
    pub(crate) fn new(
        blobs: Arc<dyn BlobStore>,
        size_hint: Option<u64>,
        allow_inline: bool,
        checksum: Option<ChecksumAlgorithm>,
    ) -> StoreResult<ObjectWriter> {
        let inline_possible =
            allow_inline && size_hint.is_none_or(|size| size <= INLINE_MAX as u64);
        let mut writer = ObjectWriter {
            blobs,
            allow_inline: inline_possible,
            mode: None,
        };
        if inline_possible {
            let capacity = size_hint.map_or(8 * 1024, |s| s as usize);
            writer.mode = Some(Mode::Buffering {
                buffer: Vec::with_capacity(capacity),
                hashers: Hashers::new(checksum),
            });
        } else {
            writer.mode = Some(writer.start_streaming(Hashers::new(checksum), Vec::new())?);
        }
        Ok(writer)
    }

    fn start_streaming(&self, hashers: Hashers, prefix: Vec<u8>) -> StoreResult<Mode> {
        let blob = self.blobs.create()?;
        let id = blob.id();
        // Two stages run side by side, both fed the same chunks (reference-counted, not
        // copied): one writes the blob, one hashes. A stream then moves at the pace of the
        // slower stage (MD5), not of hashing plus writing, and a write-back pause in one
        // stage does not stall the other. Each stage is a task that takes a blocking thread
        // only while it has chunks to work on: a stalled upload holds no thread, so
        // hundreds of them cannot exhaust the blocking pool that reads serve from.
        let (sender, receiver) = mpsc::channel::<Message>(PIPELINE_DEPTH);
        let worker = tokio::spawn(write_stage(receiver, blob, prefix));
        let (hash_sender, hash_receiver) = mpsc::channel::<Bytes>(PIPELINE_DEPTH);
        let hasher = tokio::spawn(hash_stage(hash_receiver, hashers));
        Ok(Mode::Streaming {
            sender,
            worker,
            hash_sender,
            hasher,
            blob: id,
        })
    }

    /// Appends a chunk of the body.
    pub async fn write(&mut self, chunk: Bytes) -> StoreResult<()> {
        match self.mode.take() {
            Some(Mode::Buffering {
                mut buffer,
                mut hashers,
            }) => {
                if buffer.len() + chunk.len() <= INLINE_MAX {
                    hashers.update(&chunk);
                    buffer.extend_from_slice(&chunk);
                    self.mode = Some(Mode::Buffering { buffer, hashers });
                } else {
                    // Larger than announced (or no length given): spill to a blob. The
                    // buffered prefix is already hashed.
                    let mode = self.start_streaming(hashers, buffer)?;
                    self.mode = Some(mode);
                    return Box::pin(self.write(chunk)).await;
                }
                Ok(())
            }
            Some(Mode::Streaming {
                sender,
                worker,
                hash_sender,
                hasher,
                blob,
            }) => {
                if sender.send(Message::Data(chunk.clone())).await.is_err() {
                    // The writer stopped early: it hit an I/O error. Surface it.
                    return Err(worker_error(worker).await);
                }
                if hash_sender.send(chunk).await.is_err() {
                    return Err(StoreError::Internal("the hashing stage stopped".into()));
                }
                self.mode = Some(Mode::Streaming {
                    sender,
                    worker,
                    hash_sender,
                    hasher,
                    blob,
                });
                Ok(())
            }
            None => Err(StoreError::Internal(
                "object writer used after an error".into(),
            )),
        }
    }

    /// Ends the body: makes the bytes durable and returns their digests.
    pub async fn finish(mut self) -> StoreResult<StagedData> {
        match self.mode.take() {
            Some(Mode::Buffering { buffer, hashers }) => {
                Ok(hashers.staged(StagedLocation::Inline(buffer)))
            }
            Some(Mode::Streaming {
                sender,
                worker,
                hash_sender,
                hasher,
                blob,
            }) => {
                let guard = BlobGuard {
                    id: blob,
                    store: self.blobs.clone(),
                    armed: true,
                };
                drop(hash_sender);
                if sender.send(Message::Finish).await.is_err() {
                    return Err(worker_error(worker).await);
                }
                drop(sender);
                worker
                    .await
                    .map_err(|e| StoreError::Internal(format!("blob writer task: {e}")))??;
                let hashers = hasher
                    .await
                    .map_err(|e| StoreError::Internal(format!("hashing task: {e}")))?;
                Ok(hashers.staged(StagedLocation::Blob(guard)))
            }
            None => Err(StoreError::Internal(
                "object writer used after an error".into(),
            )),
        }
    }
}

/// What a stage has received since its last turn on a blocking thread.
struct Batch<T> {
    items: Vec<T>,
    /// `Finish` arrived (writing stage only).
    finish: bool,
    /// The sender is gone.
    closed: bool,
}

/// Waits for at least one message (unless `items` already holds some), then takes whatever
/// else is already queued, so a lagging stage catches up in one blocking call.
async fn next_batch<M, T>(
    receiver: &mut mpsc::Receiver<M>,
    items: Vec<T>,
    split: impl Fn(M) -> Option<T>,
) -> Batch<T> {
    let mut batch = Batch {
        items,
        finish: false,
        closed: false,
    };
    let take = |message: Option<M>, batch: &mut Batch<T>| match message.map(&split) {
        Some(Some(item)) => batch.items.push(item),
        Some(None) => batch.finish = true,
        None => batch.closed = true,
    };
    if batch.items.is_empty() {
        let message = receiver.recv().await;
        take(message, &mut batch);
    }
    while !batch.finish && !batch.closed {
        match receiver.try_recv() {
            Ok(message) => take(Some(message), &mut batch),
            Err(mpsc::error::TryRecvError::Empty) => break,
            Err(mpsc::error::TryRecvError::Disconnected) => batch.closed = true,
        }
    }
    batch
}

/// Runs `work` on a blocking thread.
async fn on_blocking_thread<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> StoreResult<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| StoreError::Internal(format!("staging task: {e}")))
}

/// The writing stage: appends every chunk to the blob until `Finish`, then makes the blob
/// durable. Returns the unfinished writer when the upload was abandoned, so that dropping it
/// deletes the partial file.
async fn write_stage(
    mut receiver: mpsc::Receiver<Message>,
    mut blob: Box<dyn BlobWriter>,
    prefix: Vec<u8>,
) -> WorkerResult {
    let mut pending = Vec::new();
    if !prefix.is_empty() {
        pending.push(Bytes::from(prefix));
    }
    loop {
        let batch = next_batch(&mut receiver, pending, |message| match message {
            Message::Data(chunk) => Some(chunk),
            Message::Finish => None,
        })
        .await;
        pending = Vec::new();
        if batch.closed && !batch.finish {
            // Abandoned: what is unwritten does not matter any more.
            return Ok(Some(blob));
        }
        let Batch { items, finish, .. } = batch;
        let written = on_blocking_thread(move || -> WorkerResult {
            for chunk in &items {
                blob.write_all(chunk)?;
            }
            if finish {
                blob.finish()?;
                return Ok(None);
            }
            Ok(Some(blob))
        })
        .await??;
        match written {
            Some(unfinished) => blob = unfinished,
            None => return Ok(None),
        }
    }
}

/// The hashing stage: hashes every chunk until the sender is gone.
async fn hash_stage(mut receiver: mpsc::Receiver<Bytes>, mut hashers: Hashers) -> Hashers {
    loop {
        let batch = next_batch(&mut receiver, Vec::new(), Some).await;
        let closed = batch.closed;
        let items = batch.items;
        if !items.is_empty() {
            hashers = match on_blocking_thread(move || {
                for chunk in &items {
                    hashers.update(chunk);
                }
                hashers
            })
            .await
            {
                Ok(hashers) => hashers,
                // The blocking pool is shutting down: the upload cannot finish anyway.
                Err(_) => return Hashers::new(None),
            };
        }
        if closed {
            return hashers;
        }
    }
}

async fn worker_error(worker: tokio::task::JoinHandle<WorkerResult>) -> StoreError {
    match worker.await {
        Ok(Err(e)) => e,
        Ok(Ok(_)) => StoreError::Internal("blob writer stopped early".into()),
        Err(e) => StoreError::Internal(format!("blob writer task: {e}")),
    }
}
