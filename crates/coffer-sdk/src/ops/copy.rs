//! PUT Object - Copy: `copy_object`, and the copy source shared with `upload_part_copy`.

use reqwest::header::HeaderMap;
use reqwest::Method;

use super::{read_xml_with_etag, text, text_opt};
use crate::client::{CosClient, Request};
use crate::config::CosConfig;
use crate::error::{Error, Result};
use crate::types::{
    copy_source_condition_setters, header_str, object_option_setters, ObjectOptions, Preconditions,
};

/// The object a copy reads (the Python SDK's `CopySource` dict).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CopySource {
    /// Source bucket.
    pub bucket: String,
    /// Source key.
    pub key: String,
    /// Source region (default: the client's).
    pub region: Option<String>,
    /// Source endpoint (host suffix), instead of a region.
    pub endpoint: Option<String>,
    /// APPID appended to the bucket name if missing.
    pub appid: Option<String>,
    /// A specific source version.
    pub version_id: Option<String>,
}

impl CopySource {
    /// `key` in `bucket`, in the client's region.
    pub fn new(bucket: impl Into<String>, key: impl Into<String>) -> Self {
        CopySource {
            bucket: bucket.into(),
            key: key.into(),
            ..Default::default()
        }
    }

    /// The source's region.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// The source's endpoint (host suffix).
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }

    /// The source's APPID.
    pub fn appid(mut self, appid: impl Into<String>) -> Self {
        self.appid = Some(appid.into());
        self
    }

    /// A source version.
    pub fn version_id(mut self, version_id: impl Into<String>) -> Self {
        self.version_id = Some(version_id.into());
        self
    }

    /// The endpoint the source lives under, given the client's configuration.
    pub(crate) fn endpoint_for(&self, client: &CosClient) -> Result<String> {
        if let Some(endpoint) = &self.endpoint {
            return Ok(endpoint.clone());
        }
        match &self.region {
            Some(region) => {
                let mut config = CosConfig::new(region.clone());
                config.enable_old_domain = client.config().enable_old_domain;
                config.enable_internal_domain = client.config().enable_internal_domain;
                Ok(config.endpoint_suffix()?)
            }
            None => Ok(client.inner.endpoint.clone()),
        }
    }

    /// The full source bucket name.
    pub(crate) fn full_bucket(&self, client: &CosClient) -> Result<String> {
        let appid = self.appid.as_ref().or(client.config().appid.as_ref());
        Ok(match appid {
            Some(appid) if !self.bucket.ends_with(&format!("-{appid}")) => {
                format!("{}-{appid}", self.bucket)
            }
            _ => self.bucket.clone(),
        })
    }

    /// The `x-cos-copy-source` value: `<bucket>.<endpoint>/<encoded key>[?versionId=…]`.
    pub(crate) fn header_value(&self, client: &CosClient) -> Result<String> {
        if self.key.is_empty() {
            return Err(Error::invalid("the copy source key must not be empty"));
        }
        let key = self.key.strip_prefix('/').unwrap_or(&self.key);
        let mut value = format!(
            "{}.{}/{}",
            self.full_bucket(client)?,
            self.endpoint_for(client)?,
            coffer_proto::encoding::encode_path(key)
        );
        if let Some(version_id) = &self.version_id {
            value.push_str("?versionId=");
            value.push_str(&coffer_proto::encoding::encode_unreserved(
                version_id.as_bytes(),
            ));
        }
        Ok(value)
    }
}

/// `x-cos-metadata-directive`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MetadataDirective {
    /// Keep the source's metadata and content headers.
    #[default]
    Copy,
    /// Take metadata and content headers from this request.
    Replaced,
}

/// A `copy_object` request.
#[derive(Debug, Clone, Default)]
pub struct CopyObjectRequest {
    pub(crate) bucket: String,
    pub(crate) key: String,
    pub(crate) source: CopySource,
    pub(crate) directive: MetadataDirective,
    pub(crate) source_conditions: Preconditions,
    pub(crate) options: ObjectOptions,
}

impl CopyObjectRequest {
    /// Copies `source` to `key` in `bucket`.
    pub fn new(bucket: impl Into<String>, key: impl Into<String>, source: CopySource) -> Self {
        CopyObjectRequest {
            bucket: bucket.into(),
            key: key.into(),
            source,
            ..Default::default()
        }
    }

    /// `Copy` (default) or `Replaced` (the Python SDK's `CopyStatus`).
    pub fn metadata_directive(mut self, directive: MetadataDirective) -> Self {
        self.directive = directive;
        self
    }

    copy_source_condition_setters!();

    object_option_setters!();
}

/// The answer of [`CosClient::copy_object`].
#[derive(Debug, Clone)]
pub struct CopyObjectOutput {
    /// The new object's ETag.
    pub etag: String,
    /// Its modification time (ISO 8601).
    pub last_modified: String,
    /// CRC-64, when reported.
    pub crc64: Option<u64>,
    /// `x-cos-version-id` of the new object.
    pub version_id: Option<String>,
    /// `x-cos-copy-source-version-id`.
    pub source_version_id: Option<String>,
    /// `x-cos-request-id`.
    pub request_id: Option<String>,
    /// All headers.
    pub headers: HeaderMap,
}

impl CosClient {
    /// Copies an object server-side (`copy_object`; sources up to 5 GB — use
    /// [`copy`](CosClient::copy) for anything larger).
    pub async fn copy_object(&self, request: CopyObjectRequest) -> Result<CopyObjectOutput> {
        let r = request;
        let directive = match r.directive {
            MetadataDirective::Copy => "Copy",
            MetadataDirective::Replaced => "Replaced",
        };
        let request = Request::new(Method::PUT, self.object_target(&r.bucket, &r.key)?)
            .header("x-cos-copy-source", r.source.header_value(self)?)
            .header("x-cos-metadata-directive", directive)
            .headers(r.source_conditions.to_headers("x-cos-copy-source-"))
            .headers(r.options.to_headers());
        let response = self.send(request).await?;
        let (headers, root, etag) = read_xml_with_etag("PUT", response).await?;
        Ok(CopyObjectOutput {
            etag,
            last_modified: text(&root, "LastModified"),
            crc64: text_opt(&root, "CRC64").and_then(|t| t.trim().parse().ok()),
            version_id: header_str(&headers, "x-cos-version-id"),
            source_version_id: header_str(&headers, "x-cos-copy-source-version-id"),
            request_id: header_str(&headers, "x-cos-request-id"),
            headers,
        })
    }
}
