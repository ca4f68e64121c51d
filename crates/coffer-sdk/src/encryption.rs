//! The client-side encryption client: [`CosEncryptionClient`], whose objects are byte for byte
//! those of the official COS Python SDK's `CosEncryptionClient` (protocol reference §12).
//!
//! An encrypted object is the AES-256-CTR ciphertext of the plaintext (same length, no header
//! or padding) under a fresh random data key and IV, which a [`KeyProvider`]
//! ([`AesProvider`](crate::crypto::AesProvider) or [`RsaProvider`](crate::crypto::RsaProvider))
//! wraps into two user-metadata headers, `x-cos-meta-client-side-encryption-key` and
//! `x-cos-meta-client-side-encryption-iv`. The service stores an ordinary object: its ETag,
//! CRC-64 and any Content-MD5 are those of the ciphertext.
//!
//! ```no_run
//! use std::sync::Arc;
//! use coffer_sdk::crypto::AesProvider;
//! use coffer_sdk::encryption::CosEncryptionClient;
//! use coffer_sdk::{ByteRange, CosClient, CosConfig, GetObjectRequest, PutObjectRequest};
//!
//! # async fn demo() -> coffer_sdk::Result<()> {
//! let client = CosClient::new(CosConfig::new("ap-guangzhou").credentials("AKID…", "secret…"))?;
//! let provider = AesProvider::from_base64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")?;
//! let crypto = CosEncryptionClient::new(client, Arc::new(provider));
//! crypto
//!     .put_object(PutObjectRequest::new("examplebucket-1250000000", "secret.txt").body("hello"))
//!     .await?;
//! let got = crypto
//!     .get_object(
//!         GetObjectRequest::new("examplebucket-1250000000", "secret.txt")
//!             .range(ByteRange::Inclusive(1, 3)),
//!     )
//!     .await?;
//! assert_eq!(&got.body.bytes().await?[..], b"ell");
//! # Ok(())
//! # }
//! ```
//!
//! # Differences from the Python SDK (none visible on the wire)
//!
//! * Bodies are encrypted and decrypted chunk by chunk as they stream; a file is never read
//!   into memory whole.
//! * [`get_object`](CosEncryptionClient::get_object) sends one GET and reads the envelope from
//!   its headers (Python sends a HEAD first). A range `bytes=a-b` is fetched exactly and
//!   decrypted from offset `a` (Python rounds `a` down to a multiple of 16).
//! * Multipart parts are encrypted independently at their offset, so they may be uploaded in
//!   parallel and in any order ([`upload_file`](CosEncryptionClient::upload_file) does).
//!   Every part except the last must be a multiple of 16 bytes: checked when a part is
//!   uploaded and again on completion. (Python shares one keystream between the parts, so its
//!   parts must go strictly in order, one at a time; §12.3.)
//! * User metadata given with the request is kept; only the two envelope entries are set
//!   (Python replaces all metadata with them).
//! * `enable_md5(true)` sends the MD5 **of the ciphertext**, computed by an extra encrypting
//!   pass over a bytes or file body, and is refused for a one-shot stream body (Python cannot
//!   compute it at all). An explicit `content_md5(…)` is refused: it would have to be the
//!   MD5 of a ciphertext whose key is only drawn inside the call.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use base64::Engine as _;
use bytes::Bytes;
use futures_util::{Stream, StreamExt, TryStreamExt};
use http_body_util::BodyExt as _;
use md5::{Digest, Md5};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncSeekExt, AsyncWrite, AsyncWriteExt};

use crate::body::{Body, Meter, Progress, ProgressCallback};
use crate::client::CosClient;
use crate::crypto::{
    check_part_len, DataCipher, EncryptionMaterials, KeyProvider, BLOCK_LEN, HEADER_IV, HEADER_KEY,
    META_IV, META_KEY,
};
use crate::error::{ClientError, Error, Result};
use crate::object_body::{temp_path_for, ObjectBody};
use crate::ops::multipart::{
    CompleteMultipartUploadOutput, CompletedPart, CreateMultipartUploadRequest, UploadPartOutput,
    UploadPartRequest, MAX_PARTS,
};
use crate::ops::object::{GetObjectOutput, GetObjectRequest, PutObjectOutput, PutObjectRequest};
use crate::types::{meta_header_name, object_option_setters, ObjectMetadata, ObjectOptions};

/// Default part size of [`EncryptedFileUpload`]: 8 MiB.
pub const DEFAULT_PART_SIZE: u64 = 8 << 20;
/// Default number of parallel part uploads of [`EncryptedFileUpload`] (the Python SDK's
/// `MAXThread`).
pub const DEFAULT_THREADS: usize = 5;

/// A client that encrypts what it uploads and decrypts what it downloads (the Python SDK's
/// `CosEncryptionClient`). Cheap to clone; clones share the connection pool and the provider.
///
/// Only the operations that carry object content are wrapped; everything else (listing,
/// deleting, HEAD, copy…) goes through [`inner`](Self::inner) unchanged. A copy of an
/// encrypted object keeps its metadata, hence stays readable, as long as the metadata is
/// copied.
#[derive(Clone)]
pub struct CosEncryptionClient {
    client: CosClient,
    provider: Arc<dyn KeyProvider>,
}

impl fmt::Debug for CosEncryptionClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CosEncryptionClient")
            .field("client", &self.client)
            .field("provider", &self.provider)
            .finish()
    }
}

/// The answer of [`CosEncryptionClient::get_object`]: the object's metadata and its
/// decrypted content.
#[derive(Debug)]
pub struct EncryptedGetObjectOutput {
    /// HTTP status: 200, 206 (range) or 304 (not modified).
    pub status: u16,
    /// The object's metadata (lengths are the same for ciphertext and plaintext; the ETag and
    /// CRC-64 are the ciphertext's).
    pub metadata: ObjectMetadata,
    /// The plaintext, decrypted as it is read.
    pub body: DecryptedBody,
}

/// The body of an encrypted download: the plaintext, decrypted chunk by chunk as it arrives.
#[derive(Debug)]
pub struct DecryptedBody {
    inner: ObjectBody,
    /// `None` only for a body-less 304 answer.
    cipher: Option<DataCipher>,
}

impl DecryptedBody {
    /// The announced length (`Content-Length`), when known.
    pub fn content_length(&self) -> Option<u64> {
        self.inner.content_length()
    }

    /// The next decrypted chunk, `None` at the end. Fails if the body ends before its
    /// `Content-Length`.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>> {
        let Some(chunk) = self.inner.chunk().await? else {
            return Ok(None);
        };
        Ok(Some(match &mut self.cipher {
            Some(cipher) => {
                let mut plain = Vec::from(chunk);
                cipher.apply(&mut plain);
                Bytes::from(plain)
            }
            None => chunk,
        }))
    }

    /// Reads and decrypts the whole body into memory.
    pub async fn bytes(mut self) -> Result<Bytes> {
        let expected = self.content_length().unwrap_or(0).min(64 << 20) as usize;
        let mut buf = Vec::with_capacity(expected);
        while let Some(chunk) = self.chunk().await? {
            buf.extend_from_slice(&chunk);
        }
        Ok(Bytes::from(buf))
    }

    /// Copies the plaintext into a writer; returns the byte count.
    pub async fn write_to<W: AsyncWrite + Unpin>(mut self, writer: &mut W) -> Result<u64> {
        let mut n = 0u64;
        while let Some(chunk) = self.chunk().await? {
            writer
                .write_all(&chunk)
                .await
                .map_err(|e| Error::io("writing the decrypted body", e))?;
            n += chunk.len() as u64;
        }
        writer
            .flush()
            .await
            .map_err(|e| Error::io("writing the decrypted body", e))?;
        Ok(n)
    }

    /// Writes the plaintext to `path` through a temporary file in the same directory, renamed
    /// into place once complete (a reader never sees a partial file). Returns the byte count.
    pub async fn to_file(self, path: impl AsRef<Path>) -> Result<u64> {
        let path = path.as_ref();
        let temp = temp_path_for(path);
        let result = async {
            let mut file = tokio::fs::File::create(&temp)
                .await
                .map_err(|e| Error::io(format!("creating {}", temp.display()), e))?;
            let n = self.write_to(&mut file).await?;
            file.sync_all()
                .await
                .map_err(|e| Error::io(format!("syncing {}", temp.display()), e))?;
            drop(file);
            tokio::fs::rename(&temp, path)
                .await
                .map_err(|e| Error::io(format!("renaming into {}", path.display()), e))?;
            Ok(n)
        }
        .await;
        if result.is_err() {
            let _ = tokio::fs::remove_file(&temp).await;
        }
        result
    }

    /// The plaintext as a stream of chunks.
    pub fn into_stream(self) -> impl Stream<Item = Result<Bytes>> + Send + 'static {
        futures_util::stream::try_unfold(self, |mut body| async move {
            Ok(body.chunk().await?.map(|chunk| (chunk, body)))
        })
    }

    /// The plaintext as an [`AsyncRead`].
    pub fn into_async_read(self) -> impl AsyncRead + Send + Unpin + 'static {
        let stream = Box::pin(
            self.into_stream()
                .map_err(|e| std::io::Error::other(e.to_string())),
        );
        tokio_util::io::StreamReader::new(stream)
    }
}

/// An encrypted multipart upload in progress: the upload id and the data key and IV its parts
/// are encrypted with. Returned by [`CosEncryptionClient::create_multipart_upload`].
///
/// Clones share the record of the parts uploaded through them (used to check the 16-byte
/// rule), so one handle may be cloned into parallel tasks.
#[derive(Debug, Clone)]
pub struct EncryptedUpload {
    bucket: String,
    key: String,
    upload_id: String,
    materials: EncryptionMaterials,
    parts: Arc<Mutex<BTreeMap<u32, PartExtent>>>,
}

/// Where a part's plaintext lies in the object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct PartExtent {
    offset: u64,
    len: u64,
}

impl PartExtent {
    fn end(&self) -> u64 {
        self.offset + self.len
    }
}

impl EncryptedUpload {
    /// A handle for an upload created earlier (by another process), given the materials it
    /// was created with: rebuild them with [`EncryptionMaterials::from_envelope`] from the
    /// envelope saved at creation (the service does not return an upload's metadata). Parts
    /// uploaded before are unknown to this handle, so completion can only check the parts
    /// uploaded through it.
    pub fn resume(
        bucket: impl Into<String>,
        key: impl Into<String>,
        upload_id: impl Into<String>,
        materials: EncryptionMaterials,
    ) -> Self {
        EncryptedUpload {
            bucket: bucket.into(),
            key: key.into(),
            upload_id: upload_id.into(),
            materials,
            parts: Arc::default(),
        }
    }

    /// The bucket, as given to `create_multipart_upload`.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The object key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The upload id.
    pub fn upload_id(&self) -> &str {
        &self.upload_id
    }

    /// The data key, IV and envelope of the object being uploaded.
    pub fn materials(&self) -> &EncryptionMaterials {
        &self.materials
    }

    /// Records a part about to be uploaded, refusing one that breaks the 16-byte rule with
    /// the parts known so far: a part must start at a multiple of 16, and a part whose length
    /// is not a multiple of 16 must be the last one (no known part may start after it).
    fn register(&self, part_number: u32, part: PartExtent) -> Result<()> {
        if !part.offset.is_multiple_of(BLOCK_LEN as u64) {
            return Err(Error::invalid(format!(
                "part {part_number} starts at offset {}, which is not a multiple of 16: every \
                 part before the last must be a multiple of 16 bytes",
                part.offset
            )));
        }
        let mut parts = self.parts.lock().unwrap_or_else(PoisonError::into_inner);
        for (&number, other) in parts.iter().filter(|(&n, _)| n != part_number) {
            let (earlier, later) = if other.offset < part.offset {
                (other, &part)
            } else {
                (&part, other)
            };
            if other.offset == part.offset || earlier.end() > later.offset {
                return Err(Error::invalid(format!(
                    "part {part_number} (offset {}, {} bytes) overlaps part {number} (offset {}, \
                     {} bytes)",
                    part.offset, part.len, other.offset, other.len
                )));
            }
            check_part_len(earlier.len, false)?;
        }
        parts.insert(part_number, part);
        Ok(())
    }

    /// Forgets a part whose upload failed (unless it was registered again meanwhile).
    fn unregister(&self, part_number: u32, part: PartExtent) {
        let mut parts = self.parts.lock().unwrap_or_else(PoisonError::into_inner);
        if parts.get(&part_number) == Some(&part) {
            parts.remove(&part_number);
        }
    }

    /// Checks the parts about to be completed: when every one was uploaded through this
    /// handle, their offsets must follow each other from 0 in part-number order; in any case
    /// every known part except the last must be a multiple of 16 bytes.
    fn check_complete(&self, completed: &[CompletedPart]) -> Result<()> {
        let mut numbers: Vec<u32> = completed.iter().map(|p| p.part_number).collect();
        numbers.sort_unstable();
        numbers.dedup();
        let parts = self.parts.lock().unwrap_or_else(PoisonError::into_inner);
        let all_known = numbers.iter().all(|n| parts.contains_key(n));
        let mut expected_offset = 0;
        for (i, number) in numbers.iter().enumerate() {
            let Some(part) = parts.get(number) else {
                continue;
            };
            if all_known && part.offset != expected_offset {
                return Err(Error::invalid(format!(
                    "part {number} was encrypted at offset {} but the parts before it end at \
                     {expected_offset}: the object would not decrypt",
                    part.offset
                )));
            }
            check_part_len(part.len, i + 1 == numbers.len())?;
            expected_offset = part.end();
        }
        Ok(())
    }
}

/// What [`CosEncryptionClient::upload_file`] did.
#[derive(Debug, Clone)]
pub struct EncryptedUploadFileOutput {
    /// The object's ETag (of the ciphertext; `"…-N"` for a multipart upload).
    pub etag: String,
    /// `x-cos-hash-crc64ecma` of the ciphertext, when the service sent it.
    pub crc64: Option<u64>,
    /// `x-cos-version-id`.
    pub version_id: Option<String>,
    /// Number of parts; 0 when the file went up in one `put_object`.
    pub parts: u32,
    /// The part size used (a multiple of 16); 0 for a single `put_object`.
    pub part_size: u64,
}

/// An encrypted upload of a local file ([`CosEncryptionClient::upload_file_with`]): one
/// `put_object` up to the multipart threshold, else a multipart upload of parts encrypted and
/// sent in parallel.
#[derive(Debug, Clone)]
pub struct EncryptedFileUpload {
    bucket: String,
    key: String,
    path: PathBuf,
    part_size: u64,
    threads: usize,
    multipart_threshold: Option<u64>,
    progress: Option<ProgressCallback>,
    options: ObjectOptions,
}

impl EncryptedFileUpload {
    /// Uploads the file at `path` as `key` into `bucket` (8 MiB parts, 5 in parallel).
    pub fn new(
        bucket: impl Into<String>,
        key: impl Into<String>,
        path: impl Into<PathBuf>,
    ) -> Self {
        EncryptedFileUpload {
            bucket: bucket.into(),
            key: key.into(),
            path: path.into(),
            part_size: DEFAULT_PART_SIZE,
            threads: DEFAULT_THREADS,
            multipart_threshold: None,
            progress: None,
            options: ObjectOptions::default(),
        }
    }

    /// Part size in bytes, rounded up to a multiple of 16; raised when the file would need
    /// more than 10,000 parts.
    pub fn part_size(mut self, bytes: u64) -> Self {
        self.part_size = bytes;
        self
    }

    /// Parts uploaded in parallel (at least 1). Memory use is one part buffer per thread.
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads;
        self
    }

    /// Files up to this size go up in one `put_object` (default: the part size).
    pub fn multipart_threshold(mut self, bytes: u64) -> Self {
        self.multipart_threshold = Some(bytes);
        self
    }

    /// Reports `(bytes sent, file size)` while uploading.
    pub fn progress(mut self, callback: impl Fn(u64, u64) + Send + Sync + 'static) -> Self {
        self.progress = Some(ProgressCallback::new(callback));
        self
    }

    object_option_setters!();
}

impl CosEncryptionClient {
    /// Wraps `client`: objects are encrypted under data keys wrapped by `provider`.
    pub fn new(client: CosClient, provider: Arc<dyn KeyProvider>) -> Self {
        CosEncryptionClient { client, provider }
    }

    /// The plain client, for every operation that does not carry object content.
    pub fn inner(&self) -> &CosClient {
        &self.client
    }

    /// The master-key provider.
    pub fn provider(&self) -> &Arc<dyn KeyProvider> {
        &self.provider
    }

    /// Uploads an encrypted object in one request (`put_object`): a fresh data key and IV,
    /// the two envelope headers, and the body encrypted while it streams.
    ///
    /// A bytes body is encrypted into a new buffer (and retried like any request); a file
    /// body is read and encrypted chunk by chunk for each attempt; a stream body is encrypted
    /// as it is read and never retried. `enable_md5(true)` sends the ciphertext's MD5 (an
    /// extra pass over a bytes or file body; an error for a stream body); an explicit
    /// `content_md5` is refused (see the [module documentation](self)).
    pub async fn put_object(&self, request: PutObjectRequest) -> Result<PutObjectOutput> {
        let PutObjectRequest {
            bucket,
            key,
            body,
            mut options,
            enable_md5,
            content_md5,
            progress,
            ..
        } = request;
        if content_md5.is_some() {
            return Err(Error::invalid(
                "content_md5 cannot be given for an encrypted upload (the service checks it \
                 against the ciphertext); use enable_md5(true) to send the ciphertext's MD5",
            ));
        }
        let materials = EncryptionMaterials::generate(&*self.provider)?;
        set_envelope(&mut options, &materials);
        let cipher = materials.cipher();
        let md5 = if enable_md5 {
            Some(ciphertext_md5(&body, &cipher).await?)
        } else {
            None
        };
        let progress = progress.map(|cb| Progress::new(body.len().unwrap_or(0), Some(cb)));
        let meter = progress.as_ref().map(|p| p.meter());
        let output = self
            .send_encrypted(&body, &cipher, meter, |encrypted| {
                let mut request = PutObjectRequest::new(bucket.clone(), key.clone())
                    .body(encrypted)
                    .options(options.clone());
                if let Some(md5) = &md5 {
                    request = request.content_md5(md5.clone());
                }
                self.client.put_object(request)
            })
            .await?;
        if let Some(progress) = progress {
            progress.finish();
        }
        Ok(output)
    }

    /// Uploads a local file as an encrypted object in one request, streaming it.
    pub async fn put_object_from_local_file(
        &self,
        request: PutObjectRequest,
        path: impl AsRef<Path>,
    ) -> Result<PutObjectOutput> {
        let body = Body::from_file(path).await?;
        self.put_object(request.body(body)).await
    }

    /// Downloads and decrypts an object (`get_object`) with one GET: the envelope is read
    /// from the answer's headers. A ranged request (any [`ByteRange`](crate::ByteRange)) is
    /// sent as is and decrypted from the first byte the answer's `Content-Range` names.
    ///
    /// An object without the two envelope headers fails with
    /// [`CryptoError::MissingMetadata`](crate::crypto::CryptoError::MissingMetadata) (as a
    /// [`ClientError::Crypto`]); a 304 answer has an empty body.
    pub async fn get_object(&self, request: GetObjectRequest) -> Result<EncryptedGetObjectOutput> {
        let GetObjectOutput {
            status,
            metadata,
            body,
        } = self.client.get_object(request).await?;
        let cipher = if status == 304 {
            None
        } else {
            let materials =
                EncryptionMaterials::from_metadata(&*self.provider, metadata.metadata.iter())?;
            Some(materials.cipher_at(first_byte(status, &metadata)?))
        };
        Ok(EncryptedGetObjectOutput {
            status,
            metadata,
            body: DecryptedBody {
                inner: body,
                cipher,
            },
        })
    }

    /// Downloads and decrypts a whole object into `path` (through a temporary file renamed
    /// on success). Returns the byte count.
    pub async fn download_file(
        &self,
        bucket: &str,
        key: &str,
        path: impl AsRef<Path>,
    ) -> Result<u64> {
        let output = self.get_object(GetObjectRequest::new(bucket, key)).await?;
        output.body.to_file(path).await
    }

    /// Starts an encrypted multipart upload: draws the data key and IV and stores their
    /// envelope on the upload (the final object gets it). Other options are kept.
    pub async fn create_multipart_upload(
        &self,
        request: CreateMultipartUploadRequest,
    ) -> Result<EncryptedUpload> {
        let mut request = request;
        let materials = EncryptionMaterials::generate(&*self.provider)?;
        set_envelope(&mut request.options, &materials);
        let (bucket, key) = (request.bucket.clone(), request.key.clone());
        let created = self.client.create_multipart_upload(request).await?;
        Ok(EncryptedUpload::resume(
            bucket,
            key,
            created.upload_id,
            materials,
        ))
    }

    /// Uploads part `part_number` whose plaintext starts at byte `offset` of the object,
    /// encrypted with the keystream at that offset. Parts are independent: they may be sent
    /// in parallel and in any order.
    ///
    /// The body's length must be known. Every part except the last must be a multiple of 16
    /// bytes long, so `offset` is a multiple of 16; a part that breaks this against the parts
    /// already uploaded through `upload` (or its clones) is refused before it is sent.
    pub async fn upload_part(
        &self,
        upload: &EncryptedUpload,
        part_number: u32,
        offset: u64,
        body: impl Into<Body>,
    ) -> Result<UploadPartOutput> {
        let body = body.into();
        let len = body.len().ok_or_else(|| {
            Error::invalid("an encrypted part needs a body of known length (the 16-byte rule)")
        })?;
        let extent = PartExtent { offset, len };
        upload.register(part_number, extent)?;
        let cipher = upload.materials.cipher_at(offset);
        let result = self
            .send_encrypted(&body, &cipher, None, |encrypted| {
                self.client.upload_part(
                    UploadPartRequest::new(
                        upload.bucket.clone(),
                        upload.key.clone(),
                        upload.upload_id.clone(),
                        part_number,
                    )
                    .body(encrypted),
                )
            })
            .await;
        if result.is_err() {
            upload.unregister(part_number, extent);
        }
        result
    }

    /// Uploads a part from a plaintext buffer, encrypted in place (no copy).
    async fn upload_part_buffer(
        &self,
        upload: &EncryptedUpload,
        part_number: u32,
        offset: u64,
        mut data: Vec<u8>,
        meter: Option<Arc<Meter>>,
    ) -> Result<UploadPartOutput> {
        let extent = PartExtent {
            offset,
            len: data.len() as u64,
        };
        upload.register(part_number, extent)?;
        upload.materials.cipher_at(offset).apply(&mut data);
        let mut body = Body::from(data);
        if let Some(meter) = meter {
            body = body.with_meter(meter);
        }
        let result = self
            .client
            .upload_part(
                UploadPartRequest::new(
                    upload.bucket.clone(),
                    upload.key.clone(),
                    upload.upload_id.clone(),
                    part_number,
                )
                .body(body),
            )
            .await;
        if result.is_err() {
            upload.unregister(part_number, extent);
        }
        result
    }

    /// Completes an encrypted upload after checking the parts against the 16-byte rule (see
    /// [`EncryptedUpload`]).
    pub async fn complete_multipart_upload(
        &self,
        upload: &EncryptedUpload,
        parts: impl IntoIterator<Item = CompletedPart>,
    ) -> Result<CompleteMultipartUploadOutput> {
        let parts: Vec<CompletedPart> = parts.into_iter().collect();
        upload.check_complete(&parts)?;
        self.client
            .complete_multipart_upload(&upload.bucket, &upload.key, &upload.upload_id, parts)
            .await
    }

    /// Abandons an encrypted upload and frees its parts.
    pub async fn abort_multipart_upload(&self, upload: &EncryptedUpload) -> Result<()> {
        self.client
            .abort_multipart_upload(&upload.bucket, &upload.key, &upload.upload_id)
            .await
    }

    /// Uploads a local file encrypted: one `put_object` when it is at most `part_size` bytes,
    /// else a multipart upload with `threads` parts encrypted and sent in parallel (see
    /// [`upload_file_with`](Self::upload_file_with)).
    pub async fn upload_file(
        &self,
        bucket: &str,
        key: &str,
        path: impl AsRef<Path>,
        part_size: u64,
        threads: usize,
        progress: Option<ProgressCallback>,
    ) -> Result<EncryptedUploadFileOutput> {
        let mut request = EncryptedFileUpload::new(bucket, key, path.as_ref())
            .part_size(part_size)
            .threads(threads);
        request.progress = progress;
        self.upload_file_with(request).await
    }

    /// Uploads a local file encrypted, as described by `request`.
    ///
    /// Multipart: the part size is rounded up to a multiple of 16 and raised (in steps of 16)
    /// until at most 10,000 parts are needed; each worker reads one part into its buffer,
    /// encrypts it in place at its offset and uploads it, so memory stays at one part per
    /// thread. On failure the upload is aborted (an encrypted upload cannot be resumed by
    /// comparing part ETags, which are those of the ciphertext).
    pub async fn upload_file_with(
        &self,
        request: EncryptedFileUpload,
    ) -> Result<EncryptedUploadFileOutput> {
        let path = request.path.clone();
        let size = tokio::fs::metadata(&path)
            .await
            .map_err(|e| Error::io(format!("reading {}", path.display()), e))?
            .len();
        let part_size = part_size_for(size, request.part_size);
        let threshold = request.multipart_threshold.unwrap_or(part_size);
        if size <= threshold {
            let mut put = PutObjectRequest::new(request.bucket.clone(), request.key.clone())
                .body(Body::from_file_region(&path, 0, size))
                .options(request.options.clone());
            put.progress = request.progress.clone();
            let output = self.put_object(put).await?;
            return Ok(EncryptedUploadFileOutput {
                etag: output.etag,
                crc64: output.crc64,
                version_id: output.version_id,
                parts: 0,
                part_size: 0,
            });
        }
        let part_count = size.div_ceil(part_size) as u32;
        let upload = self
            .create_multipart_upload(
                CreateMultipartUploadRequest::new(request.bucket.clone(), request.key.clone())
                    .options(request.options.clone()),
            )
            .await?;
        let progress = Progress::new(size, request.progress.clone());
        let plan = PartPlan {
            path,
            size,
            part_size,
            part_count,
            next: AtomicU32::new(0),
        };
        match self
            .upload_parts(&upload, Arc::new(plan), &progress, request.threads)
            .await
        {
            Ok(parts) => {
                let output = self.complete_multipart_upload(&upload, parts).await;
                let output = match output {
                    Ok(output) => output,
                    Err(e) => {
                        let _ = self.abort_multipart_upload(&upload).await;
                        return Err(e);
                    }
                };
                progress.finish();
                Ok(EncryptedUploadFileOutput {
                    etag: output.etag,
                    crc64: output.crc64,
                    version_id: output.version_id,
                    parts: part_count,
                    part_size,
                })
            }
            Err(e) => {
                let _ = self.abort_multipart_upload(&upload).await;
                Err(e)
            }
        }
    }

    /// Runs `threads` workers that take part numbers from `plan` until all are uploaded.
    async fn upload_parts(
        &self,
        upload: &EncryptedUpload,
        plan: Arc<PartPlan>,
        progress: &Arc<Progress>,
        threads: usize,
    ) -> Result<Vec<CompletedPart>> {
        let workers = threads.clamp(1, plan.part_count as usize);
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..workers {
            let (this, upload, plan, progress) = (
                self.clone(),
                upload.clone(),
                Arc::clone(&plan),
                Arc::clone(progress),
            );
            tasks.spawn(async move { this.part_worker(&upload, &plan, &progress).await });
        }
        let mut parts = Vec::with_capacity(plan.part_count as usize);
        while let Some(joined) = tasks.join_next().await {
            let outcome = match joined {
                Ok(outcome) => outcome,
                Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                Err(_) => Err(Error::Client(ClientError::Cancelled)),
            };
            match outcome {
                Ok(done) => parts.extend(done),
                Err(e) => {
                    tasks.abort_all();
                    return Err(e);
                }
            }
        }
        parts.sort_by_key(|p| p.part_number);
        Ok(parts)
    }

    /// One worker of [`upload_parts`](Self::upload_parts): its own file handle and one part
    /// buffer at a time.
    async fn part_worker(
        &self,
        upload: &EncryptedUpload,
        plan: &PartPlan,
        progress: &Arc<Progress>,
    ) -> Result<Vec<CompletedPart>> {
        let context = || format!("reading {}", plan.path.display());
        let mut file = tokio::fs::File::open(&plan.path)
            .await
            .map_err(|e| Error::io(context(), e))?;
        let mut done = Vec::new();
        loop {
            let index = plan.next.fetch_add(1, Ordering::Relaxed);
            if index >= plan.part_count {
                return Ok(done);
            }
            let offset = u64::from(index) * plan.part_size;
            let len = plan.part_size.min(plan.size - offset);
            let mut data = vec![0u8; len as usize];
            file.seek(std::io::SeekFrom::Start(offset))
                .await
                .map_err(|e| Error::io(context(), e))?;
            file.read_exact(&mut data)
                .await
                .map_err(|e| Error::io(format!("{} (did the file shrink?)", context()), e))?;
            let part_number = index + 1;
            let output = self
                .upload_part_buffer(upload, part_number, offset, data, Some(progress.meter()))
                .await?;
            done.push(CompletedPart {
                part_number,
                etag: output.etag,
            });
        }
    }

    /// Sends `plain` encrypted with `cipher` through `send`, once per attempt.
    ///
    /// A bytes body becomes an encrypted bytes body, which the client itself retries. A file
    /// body becomes a one-shot encrypted stream, so it is retried here (re-read and
    /// re-encrypted) under the client's retry policy. A stream body is sent once.
    async fn send_encrypted<T, F, Fut>(
        &self,
        plain: &Body,
        cipher: &DataCipher,
        meter: Option<Arc<Meter>>,
        mut send: F,
    ) -> Result<T>
    where
        F: FnMut(Body) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let retry = self.client.config().retry;
        let mut attempt = 0u32;
        loop {
            let encrypted = encrypt_body(plain, cipher).await?;
            let retried_by_client = encrypted.is_replayable();
            let encrypted = match &meter {
                Some(meter) => encrypted.with_meter(Arc::clone(meter)),
                None => encrypted,
            };
            match send(encrypted).await {
                Err(e)
                    if !retried_by_client
                        && plain.is_replayable()
                        && attempt < retry.max_retries
                        && is_retryable(&e) =>
                {
                    attempt += 1;
                    let delay = retry.delay(attempt);
                    tracing::debug!(?delay, attempt, "retrying encrypted upload");
                    tokio::time::sleep(delay).await;
                }
                outcome => return outcome,
            }
        }
    }
}

/// What the workers of a multipart file upload share.
#[derive(Debug)]
struct PartPlan {
    path: PathBuf,
    size: u64,
    part_size: u64,
    part_count: u32,
    /// Index of the next part to take.
    next: AtomicU32,
}

/// The part size for a file of `size` bytes: `wanted` rounded up to a multiple of 16 (at
/// least 16), raised to the smallest multiple of 16 that needs at most 10,000 parts.
fn part_size_for(size: u64, wanted: u64) -> u64 {
    let block = BLOCK_LEN as u64;
    let wanted = wanted.max(1).div_ceil(block) * block;
    let minimum = size.div_ceil(u64::from(MAX_PARTS)).div_ceil(block) * block;
    wanted.max(minimum)
}

/// Replaces any envelope entries among the options (metadata or extra headers, any case)
/// with those of `materials`.
fn set_envelope(options: &mut ObjectOptions, materials: &EncryptionMaterials) {
    let is_envelope = |name: &str| {
        let name = meta_header_name(name);
        name == HEADER_KEY || name == HEADER_IV
    };
    options.metadata.retain(|(name, _)| !is_envelope(name));
    options.extra_headers.retain(|(name, _)| {
        !(name.eq_ignore_ascii_case(HEADER_KEY) || name.eq_ignore_ascii_case(HEADER_IV))
    });
    for (name, value) in materials.metadata() {
        debug_assert!(name == META_KEY || name == META_IV);
        options.metadata.push((name.to_string(), value));
    }
}

/// The object byte the body of a GET answer starts at: the first byte of `Content-Range`
/// for a 206, else 0.
fn first_byte(status: u16, metadata: &ObjectMetadata) -> Result<u64> {
    if status != 206 {
        return Ok(0);
    }
    let range = metadata.content_range.as_deref().unwrap_or_default();
    range
        .trim()
        .strip_prefix("bytes")
        .and_then(|r| r.trim_start().split('-').next())
        .and_then(|first| first.trim().parse().ok())
        .ok_or_else(|| {
            Error::Client(ClientError::InvalidResponse(format!(
                "206 answer with an unreadable Content-Range {range:?}: cannot position the \
                 decryption"
            )))
        })
}

/// One attempt's encrypted body: a bytes body is encrypted into a new buffer (which the
/// client may re-send); anything else becomes a one-shot stream encrypted chunk by chunk.
async fn encrypt_body(plain: &Body, cipher: &DataCipher) -> Result<Body> {
    let opened = plain.to_reqwest().await?;
    if let Some(bytes) = opened.as_bytes() {
        let mut data = bytes.to_vec();
        cipher.clone().apply(&mut data);
        return Ok(Body::from(data));
    }
    Ok(Body::from_stream(
        encrypting_stream(opened, cipher.clone()),
        plain.len(),
    ))
}

/// The chunks of an opened body, encrypted as they are read.
fn encrypting_stream(
    plain: reqwest::Body,
    mut cipher: DataCipher,
) -> impl Stream<Item = std::io::Result<Bytes>> + Send + 'static {
    plain.into_data_stream().map(move |chunk| {
        let mut data = Vec::from(chunk.map_err(std::io::Error::other)?);
        cipher.apply(&mut data);
        Ok(Bytes::from(data))
    })
}

/// Base64 MD5 of the ciphertext of a bytes or file body (one extra read of a file).
async fn ciphertext_md5(plain: &Body, cipher: &DataCipher) -> Result<String> {
    if !plain.is_replayable() {
        return Err(Error::invalid(
            "enable_md5 needs a bytes or file body: the MD5 of an encrypted stream body is \
             only known once it has been sent",
        ));
    }
    let stream = encrypting_stream(plain.to_reqwest().await?, cipher.clone());
    let mut stream = std::pin::pin!(stream);
    let mut md5 = Md5::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| Error::io("reading the body for its Content-MD5", e))?;
        md5.update(&chunk);
    }
    Ok(base64::engine::general_purpose::STANDARD.encode(md5.finalize()))
}

/// Whether a failed attempt may be repeated (as the client's own retry rule, §1.7).
fn is_retryable(error: &Error) -> bool {
    match error {
        Error::Client(ClientError::Transport(_) | ClientError::Timeout(_)) => true,
        Error::Service(e) => e.status_code >= 500 || e.status_code == 429,
        Error::Client(_) => false,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Tests may panic: that is how they fail.
mod tests {
    use super::*;
    use crate::crypto::AesProvider;

    fn upload() -> EncryptedUpload {
        let provider = AesProvider::from_bytes(&[7u8; 32]).unwrap();
        let materials = EncryptionMaterials::generate(&provider).unwrap();
        EncryptedUpload::resume("b", "k", "id", materials)
    }

    fn part(number: u32, offset: u64, len: u64) -> (u32, PartExtent) {
        (number, PartExtent { offset, len })
    }

    fn completed(numbers: &[u32]) -> Vec<CompletedPart> {
        numbers
            .iter()
            .map(|&part_number| CompletedPart {
                part_number,
                etag: String::new(),
            })
            .collect()
    }

    #[test]
    fn part_sizes_are_block_multiples_within_the_part_limit() {
        assert_eq!(part_size_for(100, 0), 16);
        assert_eq!(part_size_for(100, 17), 32);
        assert_eq!(part_size_for(100, 5 << 20), 5 << 20);
        let size = 10_000 * (1 << 20) + 1;
        let ps = part_size_for(size, 1 << 20);
        assert!(ps.is_multiple_of(16));
        assert!(size.div_ceil(ps) <= 10_000);
        assert!(ps > 1 << 20);
    }

    #[test]
    fn parts_must_keep_the_16_byte_rule_in_any_order() {
        let up = upload();
        let (n, p) = part(2, 32, 32);
        up.register(n, p).unwrap();
        let (n, p) = part(3, 64, 5);
        up.register(n, p).unwrap();
        // An unaligned part before others.
        let (n, p) = part(1, 0, 31);
        assert!(up.register(n, p).is_err());
        // Misaligned offset.
        let (n, p) = part(1, 8, 24);
        assert!(up.register(n, p).is_err());
        // Overlap.
        let (n, p) = part(1, 0, 48);
        assert!(up.register(n, p).is_err());
        // A part after the unaligned last one.
        let (n, p) = part(4, 80, 16);
        assert!(up.register(n, p).is_err());
        let (n, p) = part(1, 0, 32);
        up.register(n, p).unwrap();
        up.check_complete(&completed(&[3, 1, 2])).unwrap();
        // A gap: part 1 missing from the completion.
        assert!(up.check_complete(&completed(&[2, 3])).is_err());
        // Re-registering a part with the same extent is allowed (a retry).
        let (n, p) = part(2, 32, 32);
        up.register(n, p).unwrap();
        // A failed part is forgotten: its slot may be taken by another extent.
        up.unregister(n, p);
        let (n, p) = part(2, 32, 16);
        assert!(up.register(n, p).is_ok());
        assert!(up.check_complete(&completed(&[1, 2, 3])).is_err());
    }

    #[test]
    fn unknown_parts_are_tolerated_on_completion() {
        let up = upload();
        let (n, p) = part(5, 4 * 32, 32);
        up.register(n, p).unwrap();
        up.check_complete(&completed(&[1, 2, 3, 4, 5])).unwrap();
    }

    #[test]
    fn envelope_replaces_caller_entries() {
        let provider = AesProvider::from_bytes(&[7u8; 32]).unwrap();
        let materials = EncryptionMaterials::generate(&provider).unwrap();
        let mut options = ObjectOptions {
            metadata: vec![
                ("Client-Side-Encryption-Key".into(), "x".into()),
                ("author".into(), "alice".into()),
            ],
            extra_headers: vec![(HEADER_IV.to_uppercase(), "y".into())],
            ..ObjectOptions::default()
        };
        set_envelope(&mut options, &materials);
        let headers = options.to_headers();
        let values = |name: &str| {
            headers
                .iter()
                .filter(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(values(HEADER_KEY), vec![materials.envelope().key_value()]);
        assert_eq!(values(HEADER_IV), vec![materials.envelope().iv_value()]);
        assert_eq!(values("x-cos-meta-author"), vec!["alice".to_string()]);
    }

    /// Collects what one attempt would send.
    async fn sent(body: Body) -> Vec<u8> {
        let opened = body.to_reqwest().await.unwrap();
        opened.collect().await.unwrap().to_bytes().to_vec()
    }

    #[tokio::test]
    async fn file_bodies_are_re_encrypted_for_every_attempt() {
        let retry = crate::RetryPolicy {
            max_retries: 2,
            base_delay: std::time::Duration::ZERO,
            max_delay: std::time::Duration::ZERO,
        };
        let config = crate::CosConfig::new("ap-guangzhou").retry(retry);
        let crypto = CosEncryptionClient::new(
            CosClient::new(config).unwrap(),
            Arc::new(AesProvider::from_bytes(&[7u8; 32]).unwrap()),
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let plain: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &plain).unwrap();
        let materials = EncryptionMaterials::generate(&*crypto.provider).unwrap();
        let expected = materials.cipher_at(32).apply_to_vec(&plain[32..]);
        let unavailable = || {
            Error::from(crate::ServiceError::from_response(
                "PUT",
                503,
                reqwest::header::HeaderMap::new(),
                b"",
                "u",
            ))
        };

        // A file region: every attempt re-reads and re-encrypts; a 503 is retried.
        let attempts = Mutex::new(Vec::new());
        let body = Body::from_file_region(&path, 32, 968);
        let outcome = crypto
            .send_encrypted(&body, &materials.cipher_at(32), None, |encrypted| {
                let attempts = &attempts;
                async move {
                    assert!(!encrypted.is_replayable());
                    let bytes = sent(encrypted).await;
                    let mut attempts = attempts.lock().unwrap();
                    attempts.push(bytes);
                    if attempts.len() < 2 {
                        Err(unavailable())
                    } else {
                        Ok(attempts.len())
                    }
                }
            })
            .await;
        assert_eq!(outcome.unwrap(), 2);
        assert_eq!(*attempts.lock().unwrap(), vec![expected.clone(), expected]);

        // A 4xx is final; so is any failure of a one-shot stream body.
        for (body, status) in [
            (Body::from_file_region(&path, 0, 1000), 403),
            (
                Body::from_reader(std::io::Cursor::new(plain.clone()), None),
                503,
            ),
        ] {
            let calls = Mutex::new(0);
            let outcome: Result<()> = crypto
                .send_encrypted(&body, &materials.cipher(), None, |_| {
                    *calls.lock().unwrap() += 1;
                    let e = crate::ServiceError::from_response(
                        "PUT",
                        status,
                        reqwest::header::HeaderMap::new(),
                        b"",
                        "u",
                    );
                    async move { Err(Error::from(e)) }
                })
                .await;
            assert_eq!(outcome.unwrap_err().status_code(), Some(status));
            assert_eq!(*calls.lock().unwrap(), 1);
        }

        // A bytes body becomes an encrypted bytes body: the client retries it itself.
        let calls = Mutex::new(0);
        let body = Body::from(plain.clone());
        let outcome: Result<Vec<u8>> = crypto
            .send_encrypted(&body, &materials.cipher(), None, |encrypted| {
                *calls.lock().unwrap() += 1;
                async move {
                    assert!(encrypted.is_replayable());
                    Err::<Vec<u8>, _>(Error::from(crate::ServiceError::from_response(
                        "PUT",
                        503,
                        reqwest::header::HeaderMap::new(),
                        b"",
                        "u",
                    )))
                }
            })
            .await;
        assert!(outcome.is_err());
        assert_eq!(*calls.lock().unwrap(), 1);
    }

    #[test]
    fn first_byte_of_ranged_answers() {
        let mut metadata = ObjectMetadata {
            content_range: Some("bytes 17-40/100".into()),
            ..ObjectMetadata::default()
        };
        assert_eq!(first_byte(206, &metadata).unwrap(), 17);
        assert_eq!(first_byte(200, &metadata).unwrap(), 0);
        metadata.content_range = None;
        assert!(first_byte(206, &metadata).is_err());
    }
}
