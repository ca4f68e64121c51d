//! `upload_file`: simple or parallel multipart upload of a local file, resumable.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::UNIX_EPOCH;

use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};

use super::{
    checkpoint_name, combine_crc64, effective_part_size, plan_parts, read_json, remove_record,
    run_parallel, write_json_atomically, PartPlan, MAX_PARTS, MIB,
};
use crate::body::{read_region, Body, Crc64Tap, Progress, ProgressCallback};
use crate::client::CosClient;
use crate::error::{ClientError, Error, Result};
use crate::ops::multipart::{CompletedPart, CreateMultipartUploadRequest, UploadPartRequest};
use crate::ops::object::PutObjectRequest;
use crate::types::{object_option_setters, ObjectOptions};

/// The smallest part COS accepts (except the last).
const MIN_PART: u64 = MIB;

/// An `upload_file` request.
#[derive(Debug, Clone)]
pub struct UploadFileRequest {
    pub(crate) bucket: String,
    pub(crate) key: String,
    pub(crate) path: PathBuf,
    pub(crate) part_size: u64,
    pub(crate) threshold: u64,
    pub(crate) threads: usize,
    pub(crate) enable_md5: bool,
    pub(crate) resume: bool,
    pub(crate) checkpoint_dir: Option<PathBuf>,
    pub(crate) options: ObjectOptions,
    pub(crate) progress: Option<ProgressCallback>,
}

impl UploadFileRequest {
    /// Uploads the file at `path` to `key` in `bucket`.
    pub fn new(
        bucket: impl Into<String>,
        key: impl Into<String>,
        path: impl Into<PathBuf>,
    ) -> Self {
        UploadFileRequest {
            bucket: bucket.into(),
            key: key.into(),
            path: path.into(),
            part_size: MIB,
            threshold: 20 * MIB,
            threads: 5,
            enable_md5: false,
            resume: true,
            checkpoint_dir: None,
            options: ObjectOptions::default(),
            progress: None,
        }
    }

    /// Part size (default 1 MiB, at least 1 MiB; grown so that no upload needs more than
    /// 10,000 parts).
    pub fn part_size(mut self, bytes: u64) -> Self {
        self.part_size = bytes;
        self
    }

    /// Files up to this size go in one PUT (default 20 MiB).
    pub fn threshold(mut self, bytes: u64) -> Self {
        self.threshold = bytes;
        self
    }

    /// Parts in flight at once (default 5; the Python SDK's `MAXThread`).
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// Send `Content-MD5` with every request (the service verifies each part).
    pub fn enable_md5(mut self, enable: bool) -> Self {
        self.enable_md5 = enable;
        self
    }

    /// Whether to look for an unfinished upload of this file to continue (default true).
    pub fn resume(mut self, resume: bool) -> Self {
        self.resume = resume;
        self
    }

    /// Keep a small record of the upload id in this directory, so that a resumed upload picks
    /// exactly its own upload (without it, the newest unfinished upload of the key is tried).
    pub fn checkpoint_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.checkpoint_dir = Some(dir.into());
        self
    }

    /// Reports `(bytes uploaded, file size)`; the last call reports the full size.
    pub fn progress(mut self, callback: impl Fn(u64, u64) + Send + Sync + 'static) -> Self {
        self.progress = Some(ProgressCallback::new(callback));
        self
    }

    object_option_setters!();
}

/// The answer of [`CosClient::upload_file`].
#[derive(Debug, Clone)]
pub struct UploadFileOutput {
    /// The object's ETag.
    pub etag: String,
    /// CRC-64 of the object as the service reported it (checked against the local file's).
    pub crc64: Option<u64>,
    /// `x-cos-version-id`.
    pub version_id: Option<String>,
    /// Whether a multipart upload was used.
    pub multipart: bool,
    /// The upload id (multipart only).
    pub upload_id: Option<String>,
    /// Part numbers sent by this call.
    pub parts_uploaded: Vec<u32>,
    /// Part numbers found already on the service (resumed) and not sent again.
    pub parts_reused: Vec<u32>,
}

/// The checkpoint record of an upload (`checkpoint_dir`).
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
struct UploadRecord {
    bucket: String,
    key: String,
    file_size: u64,
    mtime_ns: u128,
    part_size: u64,
    upload_id: String,
}

/// A part already done: its ETag and CRC-64.
#[derive(Debug, Clone)]
struct DonePart {
    number: u32,
    etag: String,
    crc64: u64,
    len: u64,
}

impl CosClient {
    /// Uploads a local file (`upload_file`): one PUT up to the threshold, otherwise a
    /// parallel multipart upload that resumes an interrupted earlier attempt. The CRC-64 the
    /// service reports is compared with the local file's.
    pub async fn upload_file(&self, request: UploadFileRequest) -> Result<UploadFileOutput> {
        let r = request;
        let meta = tokio::fs::metadata(&r.path)
            .await
            .map_err(|e| Error::io(format!("reading {}", r.path.display()), e))?;
        if !meta.is_file() {
            return Err(Error::invalid(format!(
                "{} is not a file",
                r.path.display()
            )));
        }
        let size = meta.len();
        let mtime_ns = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        if size <= r.threshold {
            return self.upload_simple(&r, size).await;
        }
        let part_size = effective_part_size(size, r.part_size, MIN_PART, MAX_PARTS);
        let plan = plan_parts(size, part_size);
        let progress = Progress::new(size, r.progress.clone());
        let record_path = r.checkpoint_dir.as_ref().map(|dir| {
            let abs = std::path::absolute(&r.path).unwrap_or_else(|_| r.path.clone());
            dir.join(checkpoint_name(
                "upload",
                &[&r.bucket, &r.key, &abs.to_string_lossy()],
            ))
        });
        let record_matches = |rec: &UploadRecord| {
            rec.bucket == r.bucket
                && rec.key == r.key
                && rec.file_size == size
                && rec.mtime_ns == mtime_ns
                && rec.part_size == part_size
        };

        // Resume: the recorded upload, else the newest unfinished upload of this key.
        let mut resumed: Option<(String, BTreeMap<u32, DonePart>)> = None;
        if r.resume {
            let recorded = record_path
                .as_deref()
                .and_then(read_json::<UploadRecord>)
                .filter(record_matches)
                .map(|rec| rec.upload_id);
            let candidate = match recorded {
                Some(id) => Some(id),
                None => self.newest_upload_of(&r.bucket, &r.key).await?,
            };
            if let Some(upload_id) = candidate {
                resumed = self
                    .verify_uploaded_parts(&r, &upload_id, &plan)
                    .await?
                    .map(|done| (upload_id, done));
            }
        }
        let (upload_id, done) = match resumed {
            Some(found) => found,
            None => {
                let created = self
                    .create_multipart_upload(
                        CreateMultipartUploadRequest::new(&r.bucket, &r.key)
                            .options(r.options.clone()),
                    )
                    .await?;
                (created.upload_id, BTreeMap::new())
            }
        };
        if let Some(path) = &record_path {
            let record = UploadRecord {
                bucket: r.bucket.clone(),
                key: r.key.clone(),
                file_size: size,
                mtime_ns,
                part_size,
                upload_id: upload_id.clone(),
            };
            write_json_atomically(path, &record)
                .map_err(|e| Error::io(format!("writing checkpoint {}", path.display()), e))?;
        }

        let reused: Vec<u32> = done.keys().copied().collect();
        progress.add(done.values().map(|p| p.len).sum());
        let missing: Vec<PartPlan> = plan
            .iter()
            .filter(|p| !done.contains_key(&p.number))
            .copied()
            .collect();
        let client = self.clone();
        let shared = Arc::new((r.clone(), upload_id.clone(), Arc::clone(&progress)));
        let uploaded = run_parallel(missing, r.threads, move |part| {
            let client = client.clone();
            let shared = Arc::clone(&shared);
            async move {
                let (r, upload_id, progress) = &*shared;
                client.upload_one_part(r, upload_id, part, progress).await
            }
        })
        .await?;
        let parts_uploaded: Vec<u32> = {
            let mut v: Vec<u32> = uploaded.iter().map(|p| p.number).collect();
            v.sort_unstable();
            v
        };
        let mut all = done;
        for part in uploaded {
            all.insert(part.number, part);
        }
        let local_crc = combine_crc64(all.values().map(|p| (p.crc64, p.len)));
        let completed = self
            .complete_multipart_upload(
                &r.bucket,
                &r.key,
                &upload_id,
                all.values().map(|p| CompletedPart {
                    part_number: p.number,
                    etag: p.etag.clone(),
                }),
            )
            .await?;
        if let Some(path) = &record_path {
            remove_record(path);
        }
        if let Some(remote) = completed.crc64 {
            if remote != local_crc {
                return Err(Error::Client(ClientError::Integrity {
                    path: r.path.clone(),
                    detail: format!(
                        "CRC-64 of the uploaded object is {remote}, of the local file {local_crc}"
                    ),
                }));
            }
        }
        progress.finish();
        Ok(UploadFileOutput {
            etag: completed.etag,
            crc64: completed.crc64,
            version_id: completed.version_id,
            multipart: true,
            upload_id: Some(upload_id),
            parts_uploaded,
            parts_reused: reused,
        })
    }

    async fn upload_simple(&self, r: &UploadFileRequest, size: u64) -> Result<UploadFileOutput> {
        let tap = Arc::new(Crc64Tap::default());
        let body = Body::from_file_region(&r.path, 0, size).with_tap(Arc::clone(&tap));
        let mut put = PutObjectRequest::new(&r.bucket, &r.key)
            .body(body)
            .options(r.options.clone())
            .enable_md5(r.enable_md5);
        put.progress = r.progress.clone();
        let out = self.put_object(put).await?;
        if let Some(remote) = out.crc64 {
            if remote != tap.value() {
                return Err(Error::Client(ClientError::Integrity {
                    path: r.path.clone(),
                    detail: format!(
                        "CRC-64 of the uploaded object is {remote}, of the sent bytes {}",
                        tap.value()
                    ),
                }));
            }
        }
        Ok(UploadFileOutput {
            etag: out.etag,
            crc64: out.crc64,
            version_id: out.version_id,
            multipart: false,
            upload_id: None,
            parts_uploaded: Vec::new(),
            parts_reused: Vec::new(),
        })
    }

    async fn upload_one_part(
        &self,
        r: &UploadFileRequest,
        upload_id: &str,
        part: PartPlan,
        progress: &Arc<Progress>,
    ) -> Result<DonePart> {
        let tap = Arc::new(Crc64Tap::default());
        let body = Body::from_file_region(&r.path, part.offset, part.len)
            .with_meter(progress.meter())
            .with_tap(Arc::clone(&tap));
        let mut request = UploadPartRequest::new(&r.bucket, &r.key, upload_id, part.number)
            .body(body)
            .enable_md5(r.enable_md5);
        if let Some(limit) = r.options.traffic_limit {
            request = request.traffic_limit(limit);
        }
        let out = self.upload_part(request).await?;
        Ok(DonePart {
            number: part.number,
            etag: out.etag,
            crc64: tap.value(),
            len: part.len,
        })
    }

    /// The newest unfinished upload whose key is exactly `key`.
    async fn newest_upload_of(&self, bucket: &str, key: &str) -> Result<Option<String>> {
        let uploads = self.list_all_multipart_uploads(bucket, key).await?;
        Ok(uploads
            .into_iter()
            .filter(|u| u.key == key)
            .max_by(|a, b| a.initiated.cmp(&b.initiated))
            .map(|u| u.upload_id))
    }

    /// Checks the parts already uploaded against the local file: every listed part must be
    /// one of ours, with our size and the MD5 of our bytes. `None` when the upload cannot be
    /// continued (gone, or a part differs); otherwise the parts to keep.
    async fn verify_uploaded_parts(
        &self,
        r: &UploadFileRequest,
        upload_id: &str,
        plan: &[PartPlan],
    ) -> Result<Option<BTreeMap<u32, DonePart>>> {
        let listed = match self.list_all_parts(&r.bucket, &r.key, upload_id).await {
            Ok(parts) => parts,
            Err(e) if e.is_not_found() => return Ok(None),
            Err(e) => return Err(e),
        };
        let mut done = BTreeMap::new();
        for part in listed {
            let Some(local) = plan.get((part.part_number as usize).wrapping_sub(1)) else {
                return Ok(None);
            };
            if part.size != local.len {
                return Ok(None);
            }
            let (md5, crc) = hash_region(&r.path, local.offset, local.len).await?;
            let expected = coffer_proto::checksum::etag_from_md5(&md5);
            if !part.etag.eq_ignore_ascii_case(&expected) {
                return Ok(None);
            }
            done.insert(
                local.number,
                DonePart {
                    number: local.number,
                    etag: part.etag,
                    crc64: crc,
                    len: local.len,
                },
            );
        }
        Ok(Some(done))
    }
}

/// MD5 and CRC-64 of a region of a file.
async fn hash_region(path: &Path, offset: u64, len: u64) -> Result<([u8; 16], u64)> {
    let mut md5 = Md5::new();
    let mut crc = coffer_proto::checksum::Crc64::new();
    read_region(path, offset, len, |chunk| {
        md5.update(&*chunk);
        crc.update(chunk);
    })
    .await?;
    Ok((md5.finalize().into(), crc.value()))
}
