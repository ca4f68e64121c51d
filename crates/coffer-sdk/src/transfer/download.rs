//! `download_file`: one GET or parallel ranged GETs into a temporary file, resumable, with a
//! CRC-64 check.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncSeekExt, AsyncWriteExt};

use super::{
    checkpoint_name, combine_crc64, effective_part_size, plan_parts, read_json, remove_record,
    run_parallel, write_atomically, write_json_atomically, PartPlan, MIB,
};
use crate::body::{Progress, ProgressCallback};
use crate::client::CosClient;
use crate::error::{ClientError, Error, Result};
use crate::ops::object::{GetObjectRequest, HeadObjectRequest};
use crate::types::{precondition_setters, ByteRange, ObjectMetadata, Preconditions};

/// Most parts of a download (the Python SDK's `MaxPartCount`).
const MAX_DOWNLOAD_PARTS: u64 = 10_000;

/// A `download_file` request.
#[derive(Debug, Clone)]
pub struct DownloadFileRequest {
    pub(crate) bucket: String,
    pub(crate) key: String,
    pub(crate) path: PathBuf,
    pub(crate) part_size: u64,
    pub(crate) threshold: u64,
    pub(crate) threads: usize,
    pub(crate) enable_crc: bool,
    pub(crate) resume: bool,
    pub(crate) checkpoint_dir: Option<PathBuf>,
    pub(crate) version_id: Option<String>,
    pub(crate) traffic_limit: Option<u64>,
    pub(crate) conditions: Preconditions,
    pub(crate) response_overrides: Vec<(String, String)>,
    pub(crate) progress: Option<ProgressCallback>,
}

impl DownloadFileRequest {
    /// Downloads `key` of `bucket` to the local `path`.
    pub fn new(
        bucket: impl Into<String>,
        key: impl Into<String>,
        path: impl Into<PathBuf>,
    ) -> Self {
        DownloadFileRequest {
            bucket: bucket.into(),
            key: key.into(),
            path: path.into(),
            part_size: 8 * MIB,
            threshold: 20 * MIB,
            threads: 5,
            enable_crc: true,
            resume: true,
            checkpoint_dir: None,
            version_id: None,
            traffic_limit: None,
            conditions: Preconditions::default(),
            response_overrides: Vec::new(),
            progress: None,
        }
    }

    /// Size of each ranged GET (default 8 MiB; grown to stay within 10,000 parts).
    pub fn part_size(mut self, bytes: u64) -> Self {
        self.part_size = bytes;
        self
    }

    /// Objects up to this size are fetched with one GET (default 20 MiB).
    pub fn threshold(mut self, bytes: u64) -> Self {
        self.threshold = bytes;
        self
    }

    /// Parts in flight at once (default 5).
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// Compare the file's CRC-64 with the object's `x-cos-hash-crc64ecma` (default true;
    /// skipped when the service sends none).
    pub fn enable_crc(mut self, enable: bool) -> Self {
        self.enable_crc = enable;
        self
    }

    /// Continue an interrupted download of the same object version (default true).
    pub fn resume(mut self, resume: bool) -> Self {
        self.resume = resume;
        self
    }

    /// Keep the resume record in this directory instead of beside the destination.
    pub fn checkpoint_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.checkpoint_dir = Some(dir.into());
        self
    }

    /// A specific version.
    pub fn version_id(mut self, version_id: impl Into<String>) -> Self {
        self.version_id = Some(version_id.into());
        self
    }

    /// `x-cos-traffic-limit` in bit/s, per request.
    pub fn traffic_limit(mut self, bits_per_second: u64) -> Self {
        self.traffic_limit = Some(bits_per_second);
        self
    }

    /// A `response-*` override (`response-content-type`, …) sent with every GET.
    pub fn response_override(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.response_overrides.push((name.into(), value.into()));
        self
    }

    /// Reports `(bytes written, object size)`.
    pub fn progress(mut self, callback: impl Fn(u64, u64) + Send + Sync + 'static) -> Self {
        self.progress = Some(ProgressCallback::new(callback));
        self
    }

    precondition_setters!();
}

/// The answer of [`CosClient::download_file`].
#[derive(Debug, Clone)]
pub struct DownloadFileOutput {
    /// Bytes in the file.
    pub size: u64,
    /// The object's ETag.
    pub etag: Option<String>,
    /// CRC-64 of the file (checked against the object's when it has one).
    pub crc64: u64,
    /// Whether the CRC-64 was compared with the service's.
    pub crc_checked: bool,
    /// Part numbers fetched by this call (empty for a single GET).
    pub parts_downloaded: Vec<u32>,
    /// Part numbers found done by an earlier, interrupted call.
    pub parts_reused: Vec<u32>,
}

/// The resume record of a download.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
struct DownloadRecord {
    bucket: String,
    key: String,
    version_id: Option<String>,
    etag: String,
    last_modified: String,
    size: u64,
    part_size: u64,
    temp_file: PathBuf,
    /// Part number → CRC-64 of the part, for parts fully written and synced.
    done: BTreeMap<u32, u64>,
}

impl CosClient {
    /// Downloads an object to a local file (`download_file`). Large objects are fetched in
    /// parallel ranged GETs into `<path>.coffer-part` (renamed when complete); an interrupted
    /// download — even by a killed process — resumes when called again, provided the object
    /// did not change.
    pub async fn download_file(&self, request: DownloadFileRequest) -> Result<DownloadFileOutput> {
        let r = request;
        let mut head = HeadObjectRequest::new(&r.bucket, &r.key);
        head.conditions = r.conditions.clone();
        head.version_id = r.version_id.clone();
        let meta = self.head_object(head).await?;
        let size = meta.content_length;
        let progress = Progress::new(size, r.progress.clone());
        let temp = temp_path(&r.path);
        let record_path = match &r.checkpoint_dir {
            Some(dir) => {
                let abs = std::path::absolute(&r.path).unwrap_or_else(|_| r.path.clone());
                dir.join(checkpoint_name(
                    "download",
                    &[&r.bucket, &r.key, &abs.to_string_lossy()],
                ))
            }
            None => {
                let mut name = temp.as_os_str().to_os_string();
                name.push(".json");
                PathBuf::from(name)
            }
        };
        if let Some(dir) = r.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            tokio::fs::create_dir_all(dir)
                .await
                .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
        }
        let etag = meta.etag.clone().unwrap_or_default();
        let last_modified = meta.last_modified.clone().unwrap_or_default();

        let (crc, parts_downloaded, parts_reused) = if size <= r.threshold {
            let crc = self.download_whole(&r, &meta, &temp, &progress).await?;
            (crc, Vec::new(), Vec::new())
        } else {
            let part_size = effective_part_size(size, r.part_size, MIB, MAX_DOWNLOAD_PARTS);
            let plan = plan_parts(size, part_size);
            let fresh = DownloadRecord {
                bucket: r.bucket.clone(),
                key: r.key.clone(),
                version_id: r.version_id.clone(),
                etag: etag.clone(),
                last_modified: last_modified.clone(),
                size,
                part_size,
                temp_file: temp.clone(),
                done: BTreeMap::new(),
            };
            let previous = if r.resume {
                read_json::<DownloadRecord>(&record_path).filter(|rec| {
                    rec.bucket == fresh.bucket
                        && rec.key == fresh.key
                        && rec.version_id == fresh.version_id
                        && rec.etag == fresh.etag
                        && rec.last_modified == fresh.last_modified
                        && rec.size == size
                        && rec.part_size == part_size
                        && rec.temp_file == temp
                        && std::fs::metadata(&temp)
                            .map(|m| m.len() == size)
                            .unwrap_or(false)
                })
            } else {
                None
            };
            let record = match previous {
                Some(rec) => rec,
                None => {
                    let file = std::fs::File::create(&temp)
                        .map_err(|e| Error::io(format!("creating {}", temp.display()), e))?;
                    file.set_len(size)
                        .map_err(|e| Error::io(format!("sizing {}", temp.display()), e))?;
                    write_json_atomically(&record_path, &fresh)
                        .map_err(|e| Error::io(format!("writing {}", record_path.display()), e))?;
                    fresh
                }
            };
            let reused: Vec<u32> = record.done.keys().copied().collect();
            progress.add(
                plan.iter()
                    .filter(|p| record.done.contains_key(&p.number))
                    .map(|p| p.len)
                    .sum(),
            );
            let missing: Vec<PartPlan> = plan
                .iter()
                .filter(|p| !record.done.contains_key(&p.number))
                .copied()
                .collect();
            let record = Arc::new(Mutex::new(record));
            let client = self.clone();
            let shared = Arc::new((
                r.clone(),
                etag.clone(),
                temp.clone(),
                record_path.clone(),
                Arc::clone(&record),
                Arc::clone(&progress),
            ));
            let fetched = run_parallel(missing, r.threads, move |part| {
                let client = client.clone();
                let shared = Arc::clone(&shared);
                async move {
                    let (r, etag, temp, record_path, record, progress) = &*shared;
                    let crc = client.download_part(r, etag, temp, part, progress).await?;
                    let snapshot = {
                        let mut rec = record
                            .lock()
                            .map_err(|_| Error::invalid("record lock poisoned"))?;
                        rec.done.insert(part.number, crc);
                        serde_json::to_vec(&*rec).unwrap_or_default()
                    };
                    let path = record_path.clone();
                    tokio::task::spawn_blocking(move || write_atomically(&path, &snapshot))
                        .await
                        .map_err(|e| Error::invalid(format!("record writer failed: {e}")))?
                        .map_err(|e| Error::io("writing the download record", e))?;
                    Ok(part.number)
                }
            })
            .await?;
            let rec = record
                .lock()
                .map_err(|_| Error::invalid("record lock poisoned"))?;
            let crc = combine_crc64(
                plan.iter()
                    .map(|p| (rec.done.get(&p.number).copied().unwrap_or(0), p.len)),
            );
            let mut fetched = fetched;
            fetched.sort_unstable();
            (crc, fetched, reused)
        };

        let crc_checked = r.enable_crc && meta.crc64.is_some();
        if let (true, Some(remote)) = (r.enable_crc, meta.crc64) {
            if remote != crc {
                let _ = std::fs::remove_file(&temp);
                remove_record(&record_path);
                return Err(Error::Client(ClientError::Integrity {
                    path: r.path.clone(),
                    detail: format!("CRC-64 of the download is {crc}, the object's is {remote}"),
                }));
            }
        }
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(&temp)
            .map_err(|e| Error::io(format!("opening {}", temp.display()), e))?;
        file.sync_all()
            .map_err(|e| Error::io(format!("syncing {}", temp.display()), e))?;
        std::fs::rename(&temp, &r.path)
            .map_err(|e| Error::io(format!("renaming into {}", r.path.display()), e))?;
        remove_record(&record_path);
        progress.finish();
        Ok(DownloadFileOutput {
            size,
            etag: meta.etag,
            crc64: crc,
            crc_checked,
            parts_downloaded,
            parts_reused,
        })
    }

    fn download_get(&self, r: &DownloadFileRequest, etag: &str) -> GetObjectRequest {
        let mut get = GetObjectRequest::new(&r.bucket, &r.key);
        get.conditions = r.conditions.clone();
        if !etag.is_empty() {
            // Every piece must come from the version the HEAD saw.
            get.conditions.if_match = Some(etag.to_string());
            get.conditions.if_none_match = None;
            get.conditions.if_modified_since = None;
        }
        get.version_id = r.version_id.clone();
        get.traffic_limit = r.traffic_limit;
        get.response_overrides = r.response_overrides.clone();
        get
    }

    async fn download_whole(
        &self,
        r: &DownloadFileRequest,
        meta: &ObjectMetadata,
        temp: &Path,
        progress: &Arc<Progress>,
    ) -> Result<u64> {
        let get = self.download_get(r, meta.etag.as_deref().unwrap_or_default());
        let mut out = self.get_object(get).await?;
        out.body.set_meter(progress.meter());
        let context = || format!("writing {}", temp.display());
        let mut file = tokio::fs::File::create(temp)
            .await
            .map_err(|e| Error::io(context(), e))?;
        let mut crc = coffer_proto::checksum::Crc64::new();
        while let Some(chunk) = out.body.chunk().await? {
            crc.update(&chunk);
            file.write_all(&chunk)
                .await
                .map_err(|e| Error::io(context(), e))?;
        }
        file.flush().await.map_err(|e| Error::io(context(), e))?;
        Ok(crc.value())
    }

    /// Fetches one range into its place in the temporary file; returns its CRC-64 once the
    /// bytes are synced to disk.
    async fn download_part(
        &self,
        r: &DownloadFileRequest,
        etag: &str,
        temp: &Path,
        part: PartPlan,
        progress: &Arc<Progress>,
    ) -> Result<u64> {
        let get = self.download_get(r, etag).range(ByteRange::Inclusive(
            part.offset,
            part.offset + part.len - 1,
        ));
        let mut out = self.get_object(get).await?;
        if out.body.content_length() != Some(part.len) {
            return Err(Error::Client(ClientError::InvalidResponse(format!(
                "range of part {} came back with {:?} bytes, expected {}",
                part.number,
                out.body.content_length(),
                part.len
            ))));
        }
        let meter = progress.meter();
        out.body.set_meter(Arc::clone(&meter));
        let context = || format!("writing {}", temp.display());
        let mut file = tokio::fs::OpenOptions::new()
            .write(true)
            .open(temp)
            .await
            .map_err(|e| Error::io(context(), e))?;
        file.seek(std::io::SeekFrom::Start(part.offset))
            .await
            .map_err(|e| Error::io(context(), e))?;
        let mut crc = coffer_proto::checksum::Crc64::new();
        let result = async {
            while let Some(chunk) = out.body.chunk().await? {
                crc.update(&chunk);
                file.write_all(&chunk)
                    .await
                    .map_err(|e| Error::io(context(), e))?;
            }
            file.flush().await.map_err(|e| Error::io(context(), e))?;
            file.sync_data()
                .await
                .map_err(|e| Error::io(context(), e))?;
            Ok::<_, Error>(())
        }
        .await;
        if let Err(e) = result {
            meter.rewind();
            return Err(e);
        }
        Ok(crc.value())
    }
}

/// The temporary file of a download: `<path>.coffer-part`.
fn temp_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(".coffer-part");
    PathBuf::from(name)
}
