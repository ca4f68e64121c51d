//! Bucket operations: create, delete, head, exists, location.

use reqwest::header::HeaderMap;
use reqwest::Method;

use super::read_xml;
use crate::client::{CosClient, Request};
use crate::error::{Error, Result};
use crate::types::header_str;

/// A `create_bucket` request.
#[derive(Debug, Clone, Default)]
pub struct CreateBucketRequest {
    bucket: String,
    acl: Option<String>,
    grant_read: Option<String>,
    grant_write: Option<String>,
    grant_full_control: Option<String>,
}

impl CreateBucketRequest {
    /// Creates `bucket` (`<name>-<appid>`).
    pub fn new(bucket: impl Into<String>) -> Self {
        CreateBucketRequest {
            bucket: bucket.into(),
            ..Default::default()
        }
    }

    /// `x-cos-acl`.
    pub fn acl(mut self, acl: impl Into<String>) -> Self {
        self.acl = Some(acl.into());
        self
    }

    /// `x-cos-grant-read`.
    pub fn grant_read(mut self, grant: impl Into<String>) -> Self {
        self.grant_read = Some(grant.into());
        self
    }

    /// `x-cos-grant-write`.
    pub fn grant_write(mut self, grant: impl Into<String>) -> Self {
        self.grant_write = Some(grant.into());
        self
    }

    /// `x-cos-grant-full-control`.
    pub fn grant_full_control(mut self, grant: impl Into<String>) -> Self {
        self.grant_full_control = Some(grant.into());
        self
    }
}

impl From<&str> for CreateBucketRequest {
    fn from(bucket: &str) -> Self {
        CreateBucketRequest::new(bucket)
    }
}

/// The answer of [`CosClient::head_bucket`].
#[derive(Debug, Clone)]
pub struct HeadBucketOutput {
    /// `x-cos-bucket-region`, when the service sends it.
    pub region: Option<String>,
    /// `x-cos-request-id`.
    pub request_id: Option<String>,
    /// All headers.
    pub headers: HeaderMap,
}

impl CosClient {
    /// Creates a bucket (`create_bucket`). Accepts a name or a [`CreateBucketRequest`].
    pub async fn create_bucket(&self, request: impl Into<CreateBucketRequest>) -> Result<()> {
        let r = request.into();
        let request = Request::new(Method::PUT, self.bucket_target(&r.bucket, "")?)
            .header_opt("x-cos-acl", r.acl)
            .header_opt("x-cos-grant-read", r.grant_read)
            .header_opt("x-cos-grant-write", r.grant_write)
            .header_opt("x-cos-grant-full-control", r.grant_full_control);
        self.send(request).await?;
        Ok(())
    }

    /// Deletes an empty bucket (`delete_bucket`).
    pub async fn delete_bucket(&self, bucket: &str) -> Result<()> {
        self.send(Request::new(
            Method::DELETE,
            self.bucket_target(bucket, "")?,
        ))
        .await?;
        Ok(())
    }

    /// Checks that a bucket exists and is accessible (`head_bucket`); 404 → an error with
    /// code `NoSuchResource`.
    pub async fn head_bucket(&self, bucket: &str) -> Result<HeadBucketOutput> {
        let response = self
            .send(Request::new(Method::HEAD, self.bucket_target(bucket, "")?))
            .await?;
        let headers = response.headers().clone();
        Ok(HeadBucketOutput {
            region: header_str(&headers, "x-cos-bucket-region"),
            request_id: header_str(&headers, "x-cos-request-id"),
            headers,
        })
    }

    /// Whether a bucket exists (`bucket_exists`): `false` on 404, an error otherwise.
    pub async fn bucket_exists(&self, bucket: &str) -> Result<bool> {
        match self.head_bucket(bucket).await {
            Ok(_) => Ok(true),
            Err(e) if e.is_not_found() => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The bucket's region (`get_bucket_location`).
    pub async fn get_bucket_location(&self, bucket: &str) -> Result<String> {
        let request =
            Request::new(Method::GET, self.bucket_target(bucket, "")?).param("location", "");
        let root = read_xml(self.send(request).await?).await?;
        if root.name != "LocationConstraint" {
            return Err(Error::Client(crate::error::ClientError::InvalidResponse(
                format!("expected <LocationConstraint>, got <{}>", root.name),
            )));
        }
        Ok(root.text)
    }
}
