//! Multipart uploads: create, upload_part, upload_part_copy, list_parts, complete, abort,
//! list_multipart_uploads.

use base64::Engine as _;
use coffer_proto::xml::XmlWriter;
use reqwest::header::HeaderMap;
use reqwest::Method;

use super::copy::CopySource;
use super::{flag, number, read_xml, read_xml_with_etag, text, text_opt};
use crate::body::Body;
use crate::client::{CosClient, Request};
use crate::error::{Error, Result};
use crate::types::{
    copy_source_condition_setters, header_str, object_option_setters, url_decode, ObjectOptions,
    Owner, Preconditions,
};

/// Highest part number (and most parts) of an upload.
pub const MAX_PARTS: u32 = 10_000;

/// A `create_multipart_upload` request; the options become the final object's.
#[derive(Debug, Clone, Default)]
pub struct CreateMultipartUploadRequest {
    pub(crate) bucket: String,
    pub(crate) key: String,
    pub(crate) options: ObjectOptions,
}

impl CreateMultipartUploadRequest {
    /// Starts an upload of `key` into `bucket`.
    pub fn new(bucket: impl Into<String>, key: impl Into<String>) -> Self {
        CreateMultipartUploadRequest {
            bucket: bucket.into(),
            key: key.into(),
            options: ObjectOptions::default(),
        }
    }

    object_option_setters!();
}

/// The answer of [`CosClient::create_multipart_upload`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateMultipartUploadOutput {
    /// Bucket.
    pub bucket: String,
    /// Key.
    pub key: String,
    /// The new upload's id.
    pub upload_id: String,
}

/// An `upload_part` request.
#[derive(Debug)]
pub struct UploadPartRequest {
    pub(crate) bucket: String,
    pub(crate) key: String,
    pub(crate) upload_id: String,
    pub(crate) part_number: u32,
    pub(crate) body: Body,
    pub(crate) enable_md5: bool,
    pub(crate) content_md5: Option<String>,
    pub(crate) traffic_limit: Option<u64>,
    pub(crate) extra_headers: Vec<(String, String)>,
}

impl UploadPartRequest {
    /// Part `part_number` (1–10000) of upload `upload_id`.
    pub fn new(
        bucket: impl Into<String>,
        key: impl Into<String>,
        upload_id: impl Into<String>,
        part_number: u32,
    ) -> Self {
        UploadPartRequest {
            bucket: bucket.into(),
            key: key.into(),
            upload_id: upload_id.into(),
            part_number,
            body: Body::empty(),
            enable_md5: false,
            content_md5: None,
            traffic_limit: None,
            extra_headers: Vec::new(),
        }
    }

    /// The part's content.
    pub fn body(mut self, body: impl Into<Body>) -> Self {
        self.body = body.into();
        self
    }

    /// Computes and sends `Content-MD5`.
    pub fn enable_md5(mut self, enable: bool) -> Self {
        self.enable_md5 = enable;
        self
    }

    /// Sends this `Content-MD5`.
    pub fn content_md5(mut self, md5_base64: impl Into<String>) -> Self {
        self.content_md5 = Some(md5_base64.into());
        self
    }

    /// `x-cos-traffic-limit` in bit/s.
    pub fn traffic_limit(mut self, bits_per_second: u64) -> Self {
        self.traffic_limit = Some(bits_per_second);
        self
    }

    /// Any other header, sent verbatim.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra_headers.push((name.into(), value.into()));
        self
    }
}

/// The answer of [`CosClient::upload_part`].
#[derive(Debug, Clone)]
pub struct UploadPartOutput {
    /// The part's ETag (quoted MD5).
    pub etag: String,
    /// `x-cos-hash-crc64ecma` of the part, when sent.
    pub crc64: Option<u64>,
    /// `x-cos-request-id`.
    pub request_id: Option<String>,
    /// All headers.
    pub headers: HeaderMap,
}

/// An `upload_part_copy` request.
#[derive(Debug, Clone)]
pub struct UploadPartCopyRequest {
    pub(crate) bucket: String,
    pub(crate) key: String,
    pub(crate) upload_id: String,
    pub(crate) part_number: u32,
    pub(crate) source: CopySource,
    pub(crate) range: Option<(u64, u64)>,
    pub(crate) source_conditions: Preconditions,
}

impl UploadPartCopyRequest {
    /// Part `part_number` of `upload_id`, copied from `source`.
    pub fn new(
        bucket: impl Into<String>,
        key: impl Into<String>,
        upload_id: impl Into<String>,
        part_number: u32,
        source: CopySource,
    ) -> Self {
        UploadPartCopyRequest {
            bucket: bucket.into(),
            key: key.into(),
            upload_id: upload_id.into(),
            part_number,
            source,
            range: None,
            source_conditions: Preconditions::default(),
        }
    }

    /// Only bytes `first..=last` of the source (`x-cos-copy-source-range`).
    pub fn range(mut self, first: u64, last: u64) -> Self {
        self.range = Some((first, last));
        self
    }

    copy_source_condition_setters!();
}

/// The answer of [`CosClient::upload_part_copy`].
#[derive(Debug, Clone)]
pub struct UploadPartCopyOutput {
    /// The part's ETag.
    pub etag: String,
    /// Modification time (ISO 8601).
    pub last_modified: String,
    /// `x-cos-copy-source-version-id`.
    pub source_version_id: Option<String>,
}

/// One uploaded part of [`ListPartsOutput`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// Part number.
    pub part_number: u32,
    /// Upload time (ISO 8601).
    pub last_modified: String,
    /// ETag (quoted MD5).
    pub etag: String,
    /// Size in bytes.
    pub size: u64,
}

/// A `list_parts` page.
#[derive(Debug, Clone)]
pub struct ListPartsOutput {
    /// Bucket.
    pub bucket: String,
    /// Key.
    pub key: String,
    /// Upload id.
    pub upload_id: String,
    /// Storage class of the upload.
    pub storage_class: String,
    /// Initiator.
    pub initiator: Option<Owner>,
    /// Owner.
    pub owner: Option<Owner>,
    /// The marker asked for.
    pub part_number_marker: u32,
    /// Where the next page starts.
    pub next_part_number_marker: Option<u32>,
    /// Page size.
    pub max_parts: u32,
    /// More parts follow.
    pub is_truncated: bool,
    /// Parts, ascending.
    pub parts: Vec<Part>,
}

/// A part of [`CosClient::complete_multipart_upload`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletedPart {
    /// Part number.
    pub part_number: u32,
    /// Its ETag as returned by upload_part.
    pub etag: String,
}

impl From<&Part> for CompletedPart {
    fn from(p: &Part) -> Self {
        CompletedPart {
            part_number: p.part_number,
            etag: p.etag.clone(),
        }
    }
}

/// The answer of [`CosClient::complete_multipart_upload`].
#[derive(Debug, Clone)]
pub struct CompleteMultipartUploadOutput {
    /// `Location`.
    pub location: String,
    /// Bucket.
    pub bucket: String,
    /// Key.
    pub key: String,
    /// The object's ETag (`"…-N"`).
    pub etag: String,
    /// `x-cos-hash-crc64ecma` of the whole object.
    pub crc64: Option<u64>,
    /// `x-cos-version-id`.
    pub version_id: Option<String>,
    /// `x-cos-request-id`.
    pub request_id: Option<String>,
    /// All headers.
    pub headers: HeaderMap,
}

/// A `list_multipart_uploads` request.
#[derive(Debug, Clone, Default)]
pub struct ListMultipartUploadsRequest {
    bucket: String,
    prefix: String,
    delimiter: String,
    key_marker: String,
    upload_id_marker: String,
    max_uploads: u32,
}

impl ListMultipartUploadsRequest {
    /// In-progress uploads of `bucket`.
    pub fn new(bucket: impl Into<String>) -> Self {
        ListMultipartUploadsRequest {
            bucket: bucket.into(),
            max_uploads: 1000,
            ..Default::default()
        }
    }

    /// Only keys with this prefix.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Group keys by this delimiter.
    pub fn delimiter(mut self, delimiter: impl Into<String>) -> Self {
        self.delimiter = delimiter.into();
        self
    }

    /// Start after this key (and upload id).
    pub fn key_marker(mut self, marker: impl Into<String>) -> Self {
        self.key_marker = marker.into();
        self
    }

    /// Start after this upload id (with a key marker).
    pub fn upload_id_marker(mut self, marker: impl Into<String>) -> Self {
        self.upload_id_marker = marker.into();
        self
    }

    /// Page size (1–1000).
    pub fn max_uploads(mut self, max: u32) -> Self {
        self.max_uploads = max;
        self
    }
}

/// An in-progress upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadSummary {
    /// Key.
    pub key: String,
    /// Upload id.
    pub upload_id: String,
    /// Storage class.
    pub storage_class: String,
    /// Initiation time (ISO 8601).
    pub initiated: String,
    /// Initiator.
    pub initiator: Option<Owner>,
    /// Owner.
    pub owner: Option<Owner>,
}

/// A `list_multipart_uploads` page.
#[derive(Debug, Clone)]
pub struct ListMultipartUploadsOutput {
    /// Bucket.
    pub bucket: String,
    /// More uploads follow.
    pub is_truncated: bool,
    /// Next key marker.
    pub next_key_marker: Option<String>,
    /// Next upload id marker.
    pub next_upload_id_marker: Option<String>,
    /// Uploads, by key then initiation time.
    pub uploads: Vec<UploadSummary>,
    /// Common prefixes under the delimiter.
    pub common_prefixes: Vec<String>,
}

impl CosClient {
    /// Starts a multipart upload (`create_multipart_upload`).
    pub async fn create_multipart_upload(
        &self,
        request: CreateMultipartUploadRequest,
    ) -> Result<CreateMultipartUploadOutput> {
        let r = request;
        let request = Request::new(Method::POST, self.object_target(&r.bucket, &r.key)?)
            .param("uploads", "")
            .headers(r.options.to_headers());
        let root = read_xml(self.send(request).await?).await?;
        let upload_id = text_opt(&root, "UploadId").ok_or_else(|| {
            super::invalid_response("InitiateMultipartUploadResult without UploadId")
        })?;
        Ok(CreateMultipartUploadOutput {
            bucket: text(&root, "Bucket"),
            key: text(&root, "Key"),
            upload_id,
        })
    }

    /// Uploads one part (`upload_part`).
    pub async fn upload_part(&self, request: UploadPartRequest) -> Result<UploadPartOutput> {
        let r = request;
        check_part_number(r.part_number)?;
        let mut content_md5 = r.content_md5.clone();
        if r.enable_md5 && content_md5.is_none() {
            content_md5 = r
                .body
                .md5()
                .await?
                .map(|md5| base64::engine::general_purpose::STANDARD.encode(md5));
        }
        let request = Request::new(Method::PUT, self.object_target(&r.bucket, &r.key)?)
            .param("partNumber", r.part_number.to_string())
            .param("uploadId", r.upload_id.clone())
            .header_opt("Content-MD5", content_md5)
            .header_opt(
                "x-cos-traffic-limit",
                r.traffic_limit.map(|l| l.to_string()),
            )
            .headers(r.extra_headers.clone())
            .body(r.body);
        let response = self.send(request).await?;
        let headers = response.headers().clone();
        let etag = header_str(&headers, "etag")
            .ok_or_else(|| super::invalid_response("upload_part answer without ETag"))?;
        Ok(UploadPartOutput {
            etag,
            crc64: header_str(&headers, "x-cos-hash-crc64ecma").and_then(|v| v.parse().ok()),
            request_id: header_str(&headers, "x-cos-request-id"),
            headers,
        })
    }

    /// Copies (a range of) an object as one part (`upload_part_copy`).
    pub async fn upload_part_copy(
        &self,
        request: UploadPartCopyRequest,
    ) -> Result<UploadPartCopyOutput> {
        let r = request;
        check_part_number(r.part_number)?;
        let range = r
            .range
            .map(|(a, b)| format!("bytes={a}-{b}"))
            .unwrap_or_default();
        let request = Request::new(Method::PUT, self.object_target(&r.bucket, &r.key)?)
            .param("partNumber", r.part_number.to_string())
            .param("uploadId", r.upload_id.clone())
            .header("x-cos-copy-source", r.source.header_value(self)?)
            .header("x-cos-copy-source-range", range)
            .headers(r.source_conditions.to_headers("x-cos-copy-source-"));
        let response = self.send(request).await?;
        let (headers, root, etag) = read_xml_with_etag("PUT", response).await?;
        Ok(UploadPartCopyOutput {
            etag,
            last_modified: text(&root, "LastModified"),
            source_version_id: header_str(&headers, "x-cos-copy-source-version-id"),
        })
    }

    /// One page of an upload's parts (`list_parts`).
    pub async fn list_parts(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        part_number_marker: u32,
        max_parts: u32,
    ) -> Result<ListPartsOutput> {
        let request = Request::new(Method::GET, self.object_target(bucket, key)?)
            .param("uploadId", upload_id)
            .param("part-number-marker", part_number_marker.to_string())
            .param("max-parts", max_parts.to_string())
            .param("encoding-type", "url");
        let root = read_xml(self.send(request).await?).await?;
        let encoded = root
            .child_text("EncodingType")
            .or_else(|| root.child_text("Encoding-type"))
            .is_some_and(|t| t.eq_ignore_ascii_case("url"));
        let key = text(&root, "Key");
        Ok(ListPartsOutput {
            bucket: text(&root, "Bucket"),
            key: if encoded { url_decode(&key) } else { key },
            upload_id: text(&root, "UploadId"),
            storage_class: text(&root, "StorageClass"),
            initiator: Owner::from_element(root.child("Initiator")),
            owner: Owner::from_element(root.child("Owner")),
            part_number_marker: number(&root, "PartNumberMarker"),
            next_part_number_marker: text_opt(&root, "NextPartNumberMarker")
                .and_then(|t| t.parse().ok()),
            max_parts: number(&root, "MaxParts"),
            is_truncated: flag(&root, "IsTruncated"),
            parts: root
                .children_named("Part")
                .map(|p| Part {
                    part_number: number(p, "PartNumber"),
                    last_modified: text(p, "LastModified"),
                    etag: text(p, "ETag"),
                    size: number(p, "Size"),
                })
                .collect(),
        })
    }

    /// All parts of an upload, paging through `list_parts`.
    pub async fn list_all_parts(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> Result<Vec<Part>> {
        let mut parts = Vec::new();
        let mut marker = 0;
        loop {
            let page = self
                .list_parts(bucket, key, upload_id, marker, 1000)
                .await?;
            let last = page.parts.last().map(|p| p.part_number);
            parts.extend(page.parts);
            match (page.is_truncated, page.next_part_number_marker.or(last)) {
                (true, Some(next)) if next > marker => marker = next,
                _ => return Ok(parts),
            }
        }
    }

    /// Completes an upload from its parts (`complete_multipart_upload`); parts are sorted
    /// by number first.
    pub async fn complete_multipart_upload(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        parts: impl IntoIterator<Item = CompletedPart>,
    ) -> Result<CompleteMultipartUploadOutput> {
        let mut parts: Vec<CompletedPart> = parts.into_iter().collect();
        parts.sort_by_key(|p| p.part_number);
        let mut w = XmlWriter::new();
        w.open("CompleteMultipartUpload");
        for part in &parts {
            w.open("Part")
                .leaf_display("PartNumber", part.part_number)
                .leaf("ETag", &part.etag)
                .close("Part");
        }
        w.close("CompleteMultipartUpload");
        let request = Request::new(Method::POST, self.object_target(bucket, key)?)
            .param("uploadId", upload_id)
            .body(w.finish().into());
        let response = self.send(request).await?;
        let (headers, root, etag) = read_xml_with_etag("POST", response).await?;
        Ok(CompleteMultipartUploadOutput {
            location: text(&root, "Location"),
            bucket: text(&root, "Bucket"),
            key: text(&root, "Key"),
            etag,
            crc64: header_str(&headers, "x-cos-hash-crc64ecma").and_then(|v| v.parse().ok()),
            version_id: header_str(&headers, "x-cos-version-id"),
            request_id: header_str(&headers, "x-cos-request-id"),
            headers,
        })
    }

    /// Abandons an upload and frees its parts (`abort_multipart_upload`).
    pub async fn abort_multipart_upload(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> Result<()> {
        let request = Request::new(Method::DELETE, self.object_target(bucket, key)?)
            .param("uploadId", upload_id);
        self.send(request).await?;
        Ok(())
    }

    /// One page of in-progress uploads (`list_multipart_uploads`).
    pub async fn list_multipart_uploads(
        &self,
        request: ListMultipartUploadsRequest,
    ) -> Result<ListMultipartUploadsOutput> {
        let r = request;
        let request = Request::new(Method::GET, self.bucket_target(&r.bucket, "")?)
            .param("uploads", "")
            .param("prefix", r.prefix.clone())
            .param("delimiter", r.delimiter.clone())
            .param("key-marker", r.key_marker.clone())
            .param("upload-id-marker", r.upload_id_marker.clone())
            .param("max-uploads", r.max_uploads.to_string())
            .param("encoding-type", "url");
        let root = read_xml(self.send(request).await?).await?;
        let encoded = root
            .child_text("EncodingType")
            .is_some_and(|t| t.eq_ignore_ascii_case("url"));
        let decode = |s: String| if encoded { url_decode(&s) } else { s };
        Ok(ListMultipartUploadsOutput {
            bucket: text(&root, "Bucket"),
            is_truncated: flag(&root, "IsTruncated"),
            next_key_marker: text_opt(&root, "NextKeyMarker").map(decode),
            next_upload_id_marker: text_opt(&root, "NextUploadIdMarker"),
            uploads: root
                .children_named("Upload")
                .map(|u| UploadSummary {
                    key: decode(text(u, "Key")),
                    upload_id: text(u, "UploadId"),
                    storage_class: text(u, "StorageClass"),
                    initiated: text(u, "Initiated"),
                    initiator: Owner::from_element(u.child("Initiator")),
                    owner: Owner::from_element(u.child("Owner")),
                })
                .collect(),
            common_prefixes: root
                .children_named("CommonPrefixes")
                .map(|p| decode(text(p, "Prefix")))
                .collect(),
        })
    }

    /// Every in-progress upload whose key starts with `prefix`, paging through the listing.
    pub async fn list_all_multipart_uploads(
        &self,
        bucket: &str,
        prefix: &str,
    ) -> Result<Vec<UploadSummary>> {
        let mut uploads = Vec::new();
        let mut request = ListMultipartUploadsRequest::new(bucket).prefix(prefix);
        loop {
            let page = self.list_multipart_uploads(request.clone()).await?;
            let count = page.uploads.len();
            uploads.extend(page.uploads);
            match (page.is_truncated, page.next_key_marker) {
                (true, Some(key_marker)) if count > 0 => {
                    request = request
                        .key_marker(key_marker)
                        .upload_id_marker(page.next_upload_id_marker.unwrap_or_default());
                }
                _ => return Ok(uploads),
            }
        }
    }
}

fn check_part_number(n: u32) -> Result<()> {
    if (1..=MAX_PARTS).contains(&n) {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "part number {n} is outside 1..=10000"
        )))
    }
}
