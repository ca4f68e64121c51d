//! `copy`: copy_object below a threshold, parallel upload_part_copy above it.

use std::sync::Arc;

use super::{effective_part_size, plan_parts, run_parallel, MAX_PARTS, MIB};
use crate::client::CosClient;
use crate::error::Result;
use crate::ops::copy::{CopyObjectRequest, CopySource, MetadataDirective};
use crate::ops::multipart::{CompletedPart, CreateMultipartUploadRequest, UploadPartCopyRequest};
use crate::ops::object::HeadObjectRequest;
use crate::types::{object_option_setters, ObjectMetadata, ObjectOptions};

/// A `copy` request (the Python SDK's advanced `copy`).
#[derive(Debug, Clone)]
pub struct CopyRequest {
    pub(crate) bucket: String,
    pub(crate) key: String,
    pub(crate) source: CopySource,
    pub(crate) directive: MetadataDirective,
    pub(crate) part_size: u64,
    pub(crate) threads: usize,
    pub(crate) threshold: Option<u64>,
    pub(crate) options: ObjectOptions,
}

impl CopyRequest {
    /// Copies `source` to `key` in `bucket`, whatever its size.
    pub fn new(bucket: impl Into<String>, key: impl Into<String>, source: CopySource) -> Self {
        CopyRequest {
            bucket: bucket.into(),
            key: key.into(),
            source,
            directive: MetadataDirective::Copy,
            part_size: 64 * MIB,
            threads: 5,
            threshold: None,
            options: ObjectOptions::default(),
        }
    }

    /// `Copy` (default: keep the source's metadata) or `Replaced` (the Python SDK's
    /// `CopyStatus`).
    pub fn metadata_directive(mut self, directive: MetadataDirective) -> Self {
        self.directive = directive;
        self
    }

    /// Part size of a multipart copy (default 64 MiB).
    pub fn part_size(mut self, bytes: u64) -> Self {
        self.part_size = bytes;
        self
    }

    /// Part copies in flight (default 5).
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// Sources above this size are copied in parts (default: the client's
    /// `copy_part_threshold`, 5 GiB).
    pub fn threshold(mut self, bytes: u64) -> Self {
        self.threshold = Some(bytes);
        self
    }

    object_option_setters!();
}

/// The answer of [`CosClient::copy`].
#[derive(Debug, Clone)]
pub struct CopyOutput {
    /// The new object's ETag.
    pub etag: String,
    /// `x-cos-version-id`.
    pub version_id: Option<String>,
    /// Whether the copy was made of parts.
    pub multipart: bool,
    /// Bytes copied.
    pub size: u64,
}

impl CosClient {
    /// Copies an object of any size (`copy`): one `copy_object` below the threshold,
    /// otherwise a multipart upload whose parts are `upload_part_copy` ranges, in parallel.
    /// Works across buckets. With `MetadataDirective::Copy` a multipart copy carries the
    /// source's content headers and metadata over.
    pub async fn copy(&self, request: CopyRequest) -> Result<CopyOutput> {
        let r = request;
        let mut head = HeadObjectRequest::new(&r.source.full_bucket(self)?, &r.source.key);
        head.version_id = r.source.version_id.clone();
        let source = self.head_object(head).await?;
        let size = source.content_length;
        let threshold = r.threshold.unwrap_or(self.inner.config.copy_part_threshold);
        if size <= threshold {
            let mut copy = CopyObjectRequest::new(&r.bucket, &r.key, r.source.clone())
                .metadata_directive(r.directive)
                .options(r.options.clone());
            if let Some(etag) = &source.etag {
                copy = copy.copy_source_if_match(etag.clone());
            }
            let out = self.copy_object(copy).await?;
            return Ok(CopyOutput {
                etag: out.etag,
                version_id: out.version_id,
                multipart: false,
                size,
            });
        }
        let options = match r.directive {
            MetadataDirective::Replaced => r.options.clone(),
            MetadataDirective::Copy => inherited_options(&source, &r.options),
        };
        let created = self
            .create_multipart_upload(
                CreateMultipartUploadRequest::new(&r.bucket, &r.key).options(options),
            )
            .await?;
        let upload_id = created.upload_id;
        let part_size = effective_part_size(size, r.part_size, MIB, MAX_PARTS);
        let plan = plan_parts(size, part_size);
        let client = self.clone();
        let shared = Arc::new((r.clone(), upload_id.clone(), source.etag.clone()));
        let copied = run_parallel(plan, r.threads, move |part| {
            let client = client.clone();
            let shared = Arc::clone(&shared);
            async move {
                let (r, upload_id, etag) = &*shared;
                let mut request = UploadPartCopyRequest::new(
                    &r.bucket,
                    &r.key,
                    upload_id,
                    part.number,
                    r.source.clone(),
                )
                .range(part.offset, part.offset + part.len - 1);
                if let Some(etag) = etag {
                    request = request.copy_source_if_match(etag.clone());
                }
                let out = client.upload_part_copy(request).await?;
                Ok(CompletedPart {
                    part_number: part.number,
                    etag: out.etag,
                })
            }
        })
        .await;
        let completed = match copied {
            Ok(parts) => {
                self.complete_multipart_upload(&r.bucket, &r.key, &upload_id, parts)
                    .await
            }
            Err(e) => Err(e),
        };
        match completed {
            Ok(done) => Ok(CopyOutput {
                etag: done.etag,
                version_id: done.version_id,
                multipart: true,
                size,
            }),
            Err(e) => {
                let _ = self
                    .abort_multipart_upload(&r.bucket, &r.key, &upload_id)
                    .await;
                Err(e)
            }
        }
    }
}

/// The source's content headers, metadata and storage class, with explicit options on top.
fn inherited_options(source: &ObjectMetadata, explicit: &ObjectOptions) -> ObjectOptions {
    let pick =
        |mine: &Option<String>, theirs: &Option<String>| mine.clone().or_else(|| theirs.clone());
    ObjectOptions {
        content_type: pick(&explicit.content_type, &source.content_type),
        cache_control: pick(&explicit.cache_control, &source.cache_control),
        content_disposition: pick(&explicit.content_disposition, &source.content_disposition),
        content_encoding: pick(&explicit.content_encoding, &source.content_encoding),
        content_language: pick(&explicit.content_language, &source.content_language),
        expires: pick(&explicit.expires, &source.expires),
        storage_class: pick(&explicit.storage_class, &source.storage_class),
        metadata: if explicit.metadata.is_empty() {
            source
                .metadata
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        } else {
            explicit.metadata.clone()
        },
        ..explicit.clone()
    }
}
