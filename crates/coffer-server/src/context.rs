//! Everything a handler knows about the request it answers.

use crate::addressing::Target;
use crate::error::{ApiError, ApiResult};
use crate::http::Request;
use crate::state::AppState;
use coffer_proto::{Dialect, ErrorCode};
use coffer_store::model::{AccountRecord, BucketRecord};
use std::sync::Arc;

/// One request being handled.
#[derive(Debug)]
pub struct Ctx {
    /// Shared server state.
    pub state: Arc<AppState>,
    /// The request id sent back in headers and error bodies.
    pub request_id: String,
    /// The dialect to answer in.
    pub dialect: Dialect,
    /// The request head.
    pub request: Request,
    /// Bucket and key.
    pub target: Target,
    /// Form-decoded query parameters, in order.
    pub query: Vec<(String, String)>,
    /// The signing account, `None` when anonymous.
    pub caller: Option<AccountRecord>,
}

impl Ctx {
    /// A query parameter's value.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// A header as trimmed text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.request.header_str(name)
    }

    /// A header given in either dialect's family: `suffix` is the part after `x-cos-` /
    /// `x-amz-`; the request's own dialect is preferred.
    pub fn vendor_header(&self, suffix: &str) -> Option<&str> {
        let (first, second) = match self.dialect {
            Dialect::Cos => ("x-cos-", "x-amz-"),
            Dialect::S3 => ("x-amz-", "x-cos-"),
        };
        self.header(&format!("{first}{suffix}"))
            .or_else(|| self.header(&format!("{second}{suffix}")))
    }

    /// The bucket name (routing guarantees one for bucket and object operations).
    pub fn bucket_name(&self) -> ApiResult<&str> {
        self.target
            .bucket
            .as_deref()
            .ok_or_else(|| ApiError::new(ErrorCode::InvalidRequest))
    }

    /// The object key.
    pub fn key(&self) -> ApiResult<&str> {
        self.target
            .key
            .as_deref()
            .ok_or_else(|| ApiError::new(ErrorCode::InvalidURI))
    }

    /// The caller's uin, or an empty string for anonymous requests.
    pub fn caller_uin(&self) -> &str {
        self.caller.as_ref().map_or("", |c| c.uin.as_str())
    }

    /// Loads the addressed bucket.
    pub async fn bucket(&self) -> ApiResult<BucketRecord> {
        Ok(self.state.store.bucket(self.bucket_name()?).await?)
    }

    /// The `<Resource>` of error documents: host and path for COS, the path for S3.
    pub fn resource(&self) -> String {
        let path = &self.request.raw_path;
        match self.dialect {
            Dialect::Cos => match &self.target.bucket {
                Some(bucket) => format!(
                    "{bucket}.cos.{}.myqcloud.com{}",
                    self.state.config.region,
                    if self.target.host.starts_with(bucket.as_str()) {
                        path.clone()
                    } else {
                        path.strip_prefix(&format!("/{bucket}"))
                            .map_or(path.clone(), str::to_string)
                    }
                ),
                None => format!("service.cos.myqcloud.com{path}"),
            },
            Dialect::S3 => path.clone(),
        }
    }
}
