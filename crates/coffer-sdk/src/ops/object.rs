//! Object operations: put, get, head, exists, delete.

use std::path::Path;

use base64::Engine as _;
use reqwest::header::HeaderMap;
use reqwest::Method;

use crate::body::{Body, Progress, ProgressCallback};
use crate::client::{CosClient, Request};
use crate::error::Result;
use crate::object_body::ObjectBody;
use crate::types::{
    header_str, object_option_setters, precondition_setters, ByteRange, ObjectMetadata,
    ObjectOptions, Preconditions,
};

/// A `put_object` request.
#[derive(Debug, Default)]
pub struct PutObjectRequest {
    pub(crate) bucket: String,
    pub(crate) key: String,
    pub(crate) body: Body,
    pub(crate) options: ObjectOptions,
    pub(crate) enable_md5: bool,
    pub(crate) content_md5: Option<String>,
    pub(crate) progress: Option<ProgressCallback>,
}

impl PutObjectRequest {
    /// Uploads `key` into `bucket` (empty body until [`body`](Self::body) is called).
    pub fn new(bucket: impl Into<String>, key: impl Into<String>) -> Self {
        PutObjectRequest {
            bucket: bucket.into(),
            key: key.into(),
            ..Default::default()
        }
    }

    /// The content: bytes, a string, or a [`Body`] (file region, reader).
    pub fn body(mut self, body: impl Into<Body>) -> Self {
        self.body = body.into();
        self
    }

    /// Computes and sends `Content-MD5` (the service verifies it).
    pub fn enable_md5(mut self, enable: bool) -> Self {
        self.enable_md5 = enable;
        self
    }

    /// Sends this `Content-MD5` (base64 of the binary MD5).
    pub fn content_md5(mut self, md5_base64: impl Into<String>) -> Self {
        self.content_md5 = Some(md5_base64.into());
        self
    }

    /// Reports `(bytes sent, total)` while uploading.
    pub fn progress(mut self, callback: impl Fn(u64, u64) + Send + Sync + 'static) -> Self {
        self.progress = Some(ProgressCallback::new(callback));
        self
    }

    object_option_setters!();
}

/// The answer of a write: `ETag`, CRC-64, version id.
#[derive(Debug, Clone)]
pub struct PutObjectOutput {
    /// `ETag`, quoted.
    pub etag: String,
    /// `x-cos-hash-crc64ecma`.
    pub crc64: Option<u64>,
    /// `x-cos-version-id`.
    pub version_id: Option<String>,
    /// `x-cos-request-id`.
    pub request_id: Option<String>,
    /// All headers.
    pub headers: HeaderMap,
}

impl PutObjectOutput {
    pub(crate) fn from_headers(headers: HeaderMap) -> Self {
        PutObjectOutput {
            etag: header_str(&headers, "etag").unwrap_or_default(),
            crc64: header_str(&headers, "x-cos-hash-crc64ecma").and_then(|v| v.parse().ok()),
            version_id: header_str(&headers, "x-cos-version-id"),
            request_id: header_str(&headers, "x-cos-request-id"),
            headers,
        }
    }
}

/// A `get_object` request.
#[derive(Debug, Clone, Default)]
pub struct GetObjectRequest {
    pub(crate) bucket: String,
    pub(crate) key: String,
    pub(crate) range: Option<ByteRange>,
    pub(crate) conditions: Preconditions,
    pub(crate) version_id: Option<String>,
    pub(crate) traffic_limit: Option<u64>,
    pub(crate) response_overrides: Vec<(String, String)>,
    pub(crate) extra_headers: Vec<(String, String)>,
}

impl GetObjectRequest {
    /// Downloads `key` from `bucket`.
    pub fn new(bucket: impl Into<String>, key: impl Into<String>) -> Self {
        GetObjectRequest {
            bucket: bucket.into(),
            key: key.into(),
            ..Default::default()
        }
    }

    /// Only these bytes (`Range`).
    pub fn range(mut self, range: ByteRange) -> Self {
        self.range = Some(range);
        self
    }

    /// A specific version (`versionId`).
    pub fn version_id(mut self, version_id: impl Into<String>) -> Self {
        self.version_id = Some(version_id.into());
        self
    }

    /// `x-cos-traffic-limit` in bit/s.
    pub fn traffic_limit(mut self, bits_per_second: u64) -> Self {
        self.traffic_limit = Some(bits_per_second);
        self
    }

    /// `response-content-type`: the answer's `Content-Type`.
    pub fn response_content_type(self, value: impl Into<String>) -> Self {
        self.response_override("response-content-type", value)
    }

    /// `response-content-language`.
    pub fn response_content_language(self, value: impl Into<String>) -> Self {
        self.response_override("response-content-language", value)
    }

    /// `response-expires`.
    pub fn response_expires(self, value: impl Into<String>) -> Self {
        self.response_override("response-expires", value)
    }

    /// `response-cache-control`.
    pub fn response_cache_control(self, value: impl Into<String>) -> Self {
        self.response_override("response-cache-control", value)
    }

    /// `response-content-disposition`.
    pub fn response_content_disposition(self, value: impl Into<String>) -> Self {
        self.response_override("response-content-disposition", value)
    }

    /// `response-content-encoding`.
    pub fn response_content_encoding(self, value: impl Into<String>) -> Self {
        self.response_override("response-content-encoding", value)
    }

    fn response_override(mut self, name: &str, value: impl Into<String>) -> Self {
        self.response_overrides
            .push((name.to_string(), value.into()));
        self
    }

    /// Any other header, sent verbatim.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra_headers.push((name.into(), value.into()));
        self
    }

    precondition_setters!();
}

/// The answer of [`CosClient::get_object`]: metadata and the streaming body.
#[derive(Debug)]
pub struct GetObjectOutput {
    /// HTTP status: 200, 206 (range) or 304 (not modified).
    pub status: u16,
    /// The object's metadata.
    pub metadata: ObjectMetadata,
    /// The content.
    pub body: ObjectBody,
}

/// A `head_object` request.
#[derive(Debug, Clone, Default)]
pub struct HeadObjectRequest {
    pub(crate) bucket: String,
    pub(crate) key: String,
    pub(crate) version_id: Option<String>,
    pub(crate) conditions: Preconditions,
    pub(crate) extra_headers: Vec<(String, String)>,
}

impl HeadObjectRequest {
    /// The metadata of `key` in `bucket`.
    pub fn new(bucket: impl Into<String>, key: impl Into<String>) -> Self {
        HeadObjectRequest {
            bucket: bucket.into(),
            key: key.into(),
            ..Default::default()
        }
    }

    /// A specific version.
    pub fn version_id(mut self, version_id: impl Into<String>) -> Self {
        self.version_id = Some(version_id.into());
        self
    }

    /// Any other header, sent verbatim.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra_headers.push((name.into(), value.into()));
        self
    }

    precondition_setters!();
}

impl From<(&str, &str)> for HeadObjectRequest {
    fn from((bucket, key): (&str, &str)) -> Self {
        HeadObjectRequest::new(bucket, key)
    }
}

/// The answer of [`CosClient::delete_object`].
#[derive(Debug, Clone)]
pub struct DeleteObjectOutput {
    /// `x-cos-version-id` (versioned buckets).
    pub version_id: Option<String>,
    /// `x-cos-delete-marker: true` when a delete marker was created.
    pub delete_marker: bool,
    /// `x-cos-request-id`.
    pub request_id: Option<String>,
}

impl CosClient {
    /// Uploads an object in one request (`put_object`; up to 5 GB).
    pub async fn put_object(&self, request: PutObjectRequest) -> Result<PutObjectOutput> {
        let r = request;
        let mut content_md5 = r.content_md5.clone();
        if r.enable_md5 && content_md5.is_none() {
            content_md5 = r
                .body
                .md5()
                .await?
                .map(|md5| base64::engine::general_purpose::STANDARD.encode(md5));
        }
        let mut body = r.body;
        let progress = r
            .progress
            .clone()
            .map(|cb| Progress::new(body.len().unwrap_or(0), Some(cb)));
        if let Some(progress) = &progress {
            body = body.with_meter(progress.meter());
        }
        let request = Request::new(Method::PUT, self.object_target(&r.bucket, &r.key)?)
            .headers(r.options.to_headers())
            .header_opt("Content-MD5", content_md5)
            .body(body);
        let response = self.send(request).await?;
        if let Some(progress) = progress {
            progress.finish();
        }
        Ok(PutObjectOutput::from_headers(response.headers().clone()))
    }

    /// Uploads a local file in one request (`put_object_from_local_file`).
    pub async fn put_object_from_local_file(
        &self,
        request: PutObjectRequest,
        path: impl AsRef<Path>,
    ) -> Result<PutObjectOutput> {
        let body = Body::from_file(path).await?;
        self.put_object(request.body(body)).await
    }

    /// Downloads an object (`get_object`); the body streams as it is read.
    pub async fn get_object(&self, request: GetObjectRequest) -> Result<GetObjectOutput> {
        let r = request;
        let request = Request::new(Method::GET, self.object_target(&r.bucket, &r.key)?)
            .headers(r.conditions.to_headers(""))
            .header_opt("Range", r.range.map(|range| range.header_value()))
            .header_opt(
                "x-cos-traffic-limit",
                r.traffic_limit.map(|l| l.to_string()),
            )
            .headers(r.extra_headers.clone());
        let mut request = request;
        request.params.extend(r.response_overrides.iter().cloned());
        if let Some(version_id) = &r.version_id {
            request
                .params
                .push(("versionId".into(), version_id.clone()));
        }
        let response = self.send(request).await?;
        let status = response.status().as_u16();
        let metadata = ObjectMetadata::from_headers(response.headers());
        let body = if status == 304 {
            ObjectBody::empty()
        } else {
            let expected = response.content_length();
            ObjectBody::new(response, expected)
        };
        Ok(GetObjectOutput {
            status,
            metadata,
            body,
        })
    }

    /// An object's metadata (`head_object`); 404 → an error with code `NoSuchResource`.
    pub async fn head_object(
        &self,
        request: impl Into<HeadObjectRequest>,
    ) -> Result<ObjectMetadata> {
        let r = request.into();
        let mut request = Request::new(Method::HEAD, self.object_target(&r.bucket, &r.key)?)
            .headers(r.conditions.to_headers(""))
            .headers(r.extra_headers.clone());
        if let Some(version_id) = &r.version_id {
            request
                .params
                .push(("versionId".into(), version_id.clone()));
        }
        let response = self.send(request).await?;
        Ok(ObjectMetadata::from_headers(response.headers()))
    }

    /// Whether an object exists (`object_exists`): `false` on 404.
    pub async fn object_exists(&self, bucket: &str, key: &str) -> Result<bool> {
        match self.head_object(HeadObjectRequest::new(bucket, key)).await {
            Ok(_) => Ok(true),
            Err(e) if e.is_not_found() => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Deletes an object (`delete_object`); deleting a missing key succeeds.
    pub async fn delete_object(&self, bucket: &str, key: &str) -> Result<DeleteObjectOutput> {
        self.delete_object_version(bucket, key, None).await
    }

    /// Deletes one version of an object (or, without a version, the object).
    pub async fn delete_object_version(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
    ) -> Result<DeleteObjectOutput> {
        let request = Request::new(Method::DELETE, self.object_target(bucket, key)?)
            .param_opt("versionId", version_id);
        let response = self.send(request).await?;
        let headers = response.headers();
        Ok(DeleteObjectOutput {
            version_id: header_str(headers, "x-cos-version-id"),
            delete_marker: header_str(headers, "x-cos-delete-marker").as_deref() == Some("true"),
            request_id: header_str(headers, "x-cos-request-id"),
        })
    }
}
