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
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use crate::body::{Body, Progress, ProgressCallback};
use crate::client::CosClient;
use crate::crypto::{
    check_part_len, EncryptionMaterials, KeyProvider, BLOCK_LEN, HEADER_IV, HEADER_KEY, META_IV,
    META_KEY,
};
use crate::error::{ClientError, Error, Result};
use crate::object_body::ObjectBody;
use crate::ops::multipart::{
    CompleteMultipartUploadOutput, CompletedPart, CreateMultipartUploadRequest, UploadPartOutput,
    UploadPartRequest, MAX_PARTS,
};
use crate::ops::object::{GetObjectOutput, GetObjectRequest, PutObjectOutput, PutObjectRequest};
use crate::transfer::{plan_parts, run_parallel};
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
    pub body: ObjectBody,
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

    /// Parts uploaded in parallel (at least 1). Parts stream from the file: memory does not
    /// grow with the part size.
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
        if enable_md5 && !body.is_replayable() {
            return Err(Error::invalid(
                "enable_md5 needs a bytes or file body: the MD5 of an encrypted stream body is \
                 only known once it has been sent",
            ));
        }
        let materials = EncryptionMaterials::generate(&*self.provider)?;
        set_envelope(&mut options, &materials);
        let mut request = PutObjectRequest::new(bucket, key)
            .body(body.with_cipher(materials.cipher()))
            .options(options)
            .enable_md5(enable_md5);
        request.progress = progress;
        self.client.put_object(request).await
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
            mut body,
        } = self.client.get_object(request).await?;
        if status != 304 {
            let materials =
                EncryptionMaterials::from_metadata(&*self.provider, metadata.metadata.iter())?;
            body.set_cipher(materials.cipher_at(first_byte(status, &metadata)?));
        }
        Ok(EncryptedGetObjectOutput {
            status,
            metadata,
            body,
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
        let result = self
            .client
            .upload_part(
                UploadPartRequest::new(
                    upload.bucket.clone(),
                    upload.key.clone(),
                    upload.upload_id.clone(),
                    part_number,
                )
                .body(body.with_cipher(upload.materials.cipher_at(offset))),
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
    /// until at most 10,000 parts are needed; each part streams from the file, encrypted at
    /// its offset on the way (and again on a retry), `threads` at a time. On failure the upload is aborted (an encrypted upload cannot be resumed by
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
        match self
            .upload_parts(&upload, path, size, part_size, &progress, request.threads)
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

    /// Uploads every part of the file on `threads` tasks, each part streamed from the file
    /// and encrypted at its offset.
    async fn upload_parts(
        &self,
        upload: &EncryptedUpload,
        path: PathBuf,
        size: u64,
        part_size: u64,
        progress: &Arc<Progress>,
        threads: usize,
    ) -> Result<Vec<CompletedPart>> {
        let shared = Arc::new((self.clone(), upload.clone(), path, Arc::clone(progress)));
        let mut parts = run_parallel(plan_parts(size, part_size), threads, move |part| {
            let shared = Arc::clone(&shared);
            async move {
                let (this, upload, path, progress) = &*shared;
                let body = Body::from_file_region(path, part.offset, part.len)
                    .with_meter(progress.meter());
                let output = this
                    .upload_part(upload, part.number, part.offset, body)
                    .await?;
                Ok(CompletedPart {
                    part_number: part.number,
                    etag: output.etag,
                })
            }
        })
        .await?;
        parts.sort_by_key(|p| p.part_number);
        Ok(parts)
    }
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

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Tests may panic: that is how they fail.
mod tests {
    use super::*;
    use crate::crypto::AesProvider;
    use futures_util::StreamExt;
    use http_body_util::BodyExt as _;
    use md5::{Digest, Md5};

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
    async fn sent(body: &Body) -> Result<Vec<u8>> {
        let mut stream = body.to_reqwest().await?.into_data_stream();
        let mut out = Vec::new();
        while let Some(chunk) = stream.next().await {
            out.extend_from_slice(&chunk.unwrap());
        }
        Ok(out)
    }

    /// Encryption lives in the body: every attempt re-reads and re-encrypts from the part's
    /// keystream position, so bytes and file bodies stay replayable (the client retries them
    /// on 5xx, 429 and transport errors like any body) while a stream body is sent once.
    #[tokio::test]
    async fn bodies_are_re_encrypted_for_every_attempt() {
        let provider = AesProvider::from_bytes(&[7u8; 32]).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let plain: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &plain).unwrap();
        let materials = EncryptionMaterials::generate(&provider).unwrap();

        let expected = materials.cipher_at(32).apply_to_vec(&plain[32..]);
        let body = Body::from_file_region(&path, 32, 968).with_cipher(materials.cipher_at(32));
        assert!(body.is_replayable());
        assert_eq!(sent(&body).await.unwrap(), expected);
        assert_eq!(sent(&body).await.unwrap(), expected);
        let md5: [u8; 16] = Md5::digest(&expected).into();
        assert_eq!(body.md5().await.unwrap(), Some(md5));

        let expected = materials.cipher().apply_to_vec(&plain);
        let body = Body::from(plain.clone()).with_cipher(materials.cipher());
        assert!(body.is_replayable());
        assert_eq!(sent(&body).await.unwrap(), expected);
        assert_eq!(sent(&body).await.unwrap(), expected);

        let body = Body::from_reader(std::io::Cursor::new(plain.clone()), None)
            .with_cipher(materials.cipher());
        assert!(!body.is_replayable());
        assert_eq!(sent(&body).await.unwrap(), expected);
        assert!(sent(&body).await.is_err(), "a stream is never sent twice");
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
