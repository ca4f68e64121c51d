//! Everything the pipeline knows about the request it answers. An operation sees only what
//! the pipeline verified, through two views made here: its parse an [`OpRequest`] (the query
//! parameters its operation declares, each covered by the signature where the scheme can
//! cover it, and headers of the request's own dialect), its apply an [`Env`] (the store and
//! the records authorization loaded).

use crate::access::Resources;
use crate::addressing::Target;
use crate::auth::PayloadCheck;
use crate::http::Request;
use crate::operations::Operation;
use crate::ops::op::{Env, OpRequest};
use crate::state::AppState;
use coffer_proto::Dialect;
use coffer_store::model::AccountRecord;
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

    /// The view an operation's parse takes, with `body` as its document.
    pub fn op_request<'a>(&'a self, body: &'a [u8]) -> OpRequest<'a> {
        OpRequest {
            operation: self.operation,
            method: &self.request.method,
            dialect: self.dialect,
            bucket: self.target.bucket.as_deref(),
            key: self.target.key.as_deref(),
            query: &self.query,
            headers: &self.request.headers,
            body,
        }
    }

    /// What an operation's apply works with.
    pub fn env(&self) -> Env<'_> {
        Env {
            store: &self.state.store,
            config: &self.state.config,
            caller: self.caller.as_ref(),
            resources: &self.resources,
        }
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
