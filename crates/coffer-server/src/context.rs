//! Everything a handler knows about the request it answers. A handler sees only what the
//! pipeline verified: the query parameters its operation declares (each covered by the
//! signature where the scheme can cover it), headers of the request's own dialect, and the
//! records authorization loaded.

use crate::access::Resources;
use crate::addressing::Target;
use crate::auth::PayloadCheck;
use crate::error::{ApiError, ApiResult};
use crate::http::Request;
use crate::operations::Operation;
use crate::state::AppState;
use coffer_proto::{Dialect, ErrorCode};
use coffer_store::model::{AccountRecord, BucketRecord, ObjectVersion};
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
    /// The operation being performed.
    pub operation: &'static Operation,
    /// Form-decoded query parameters the operation reads, in order.
    pub query: Vec<(String, String)>,
    /// The signing account, `None` when anonymous.
    pub caller: Option<AccountRecord>,
    /// What authorization loaded.
    pub resources: Resources,
    /// How the body must be checked as it is read (what the signature says of it).
    pub payload_check: PayloadCheck,
}

impl Ctx {
    /// A query parameter's value. Only parameters the operation declares are visible; asking
    /// for another is a bug in the declaration (caught by tests in debug builds).
    pub fn param(&self, name: &str) -> Option<&str> {
        debug_assert!(
            self.operation.reads_param(name),
            "{} reads the undeclared parameter {name}",
            self.operation.name
        );
        self.query
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// A header as trimmed text. Headers of the other dialect's vendor family (`x-amz-*` in
    /// a COS request, `x-cos-*` in an S3 one) are invisible: the signature rules cover only
    /// the request's own family.
    pub fn header(&self, name: &str) -> Option<&str> {
        if is_foreign_vendor_header(self.dialect, name) {
            return None;
        }
        self.request.header_str(name)
    }

    /// The request's headers of its own dialect's vendor family and standard headers, as
    /// (name, raw value).
    pub fn headers(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.request
            .headers
            .iter()
            .filter(|(name, _)| !is_foreign_vendor_header(self.dialect, name))
            .map(|(name, value)| (name.as_str(), value.as_slice()))
    }

    /// A vendor header of the request's dialect: `suffix` is the part after `x-cos-` (COS)
    /// or `x-amz-` (S3).
    pub fn vendor_header(&self, suffix: &str) -> Option<&str> {
        self.header(&format!("{}{suffix}", self.dialect.prefix()))
    }

    /// The bucket name (routing guarantees one for bucket and object operations).
    pub fn bucket_name(&self) -> ApiResult<&str> {
        self.target
            .bucket
            .as_deref()
            .ok_or_else(|| ApiError::new(ErrorCode::InvalidRequest))
    }

    /// The addressed bucket, as authorization loaded it.
    pub fn bucket(&self) -> ApiResult<&BucketRecord> {
        self.resources
            .bucket
            .as_ref()
            .ok_or_else(|| ApiError::new(ErrorCode::InvalidRequest))
    }

    /// The addressed object's current version, as authorization loaded it.
    pub fn object(&self) -> ApiResult<&ObjectVersion> {
        self.resources
            .object
            .as_ref()
            .ok_or_else(|| ApiError::new(ErrorCode::NoSuchKey))
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

    /// The `<Resource>` of error documents: host and path for COS, the path for S3.
    pub fn resource(&self) -> String {
        error_resource(
            self.dialect,
            &self.state.config.region,
            Some(&self.target),
            &self.request.raw_path,
        )
    }
}

/// Whether `name` belongs to the vendor header family of the *other* dialect.
pub fn is_foreign_vendor_header(dialect: Dialect, name: &str) -> bool {
    let foreign = match dialect {
        Dialect::Cos => "x-amz-",
        Dialect::S3 => "x-cos-",
    };
    name.len() >= foreign.len()
        && name.as_bytes()[..foreign.len()].eq_ignore_ascii_case(foreign.as_bytes())
}

/// The `<Resource>` of an error document: for COS the bucket's host and the path (without
/// the bucket in path style), for S3 the path as sent.
pub fn error_resource(
    dialect: Dialect,
    region: &str,
    target: Option<&Target>,
    path: &str,
) -> String {
    match (dialect, target) {
        (Dialect::S3, _) | (Dialect::Cos, None) => path.to_string(),
        (Dialect::Cos, Some(target)) => match &target.bucket {
            Some(bucket) => format!(
                "{bucket}.cos.{region}.myqcloud.com{}",
                if target.host.starts_with(bucket.as_str()) {
                    path.to_string()
                } else {
                    path.strip_prefix(&format!("/{bucket}"))
                        .map_or(path.to_string(), str::to_string)
                }
            ),
            None => format!("service.cos.myqcloud.com{path}"),
        },
    }
}
