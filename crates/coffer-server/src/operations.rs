//! The declared operations. Each entry says how a request selects it (method, scope,
//! sub-resource parameters, copy source), who may perform it, which query parameters it acts
//! on — and which therefore must be covered by the request's signature —, what body it
//! takes, and its handler. Routing ([`route`]), signature coverage
//! ([`crate::auth::check_coverage`]) and authorization ([`crate::access::authorize`]) all
//! read this table and nothing else: adding an operation means adding one entry and one
//! type implementing [`crate::ops::op::Op`] (parse → apply → render), named in the entry
//! as `handler: handler::<TheOperation>()`.

use crate::access::{Access, Permission};
use crate::context::Ctx;
use crate::error::ApiResult;
use crate::http::Response;
use crate::ops::op::{handler, stream_handler, OpRequest};
use crate::ops::{admin, attributes, bucket, copy, delete_many, list, multipart, object, service};
use crate::payload::Payload;
use coffer_proto::ErrorCode;
use std::future::Future;
use std::pin::Pin;

/// What a request addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// No bucket: the account's service endpoint.
    Service,
    /// A bucket without a key.
    Bucket,
    /// An object key in a bucket.
    Object,
    /// The server's own `/-/` namespace (bucket names cannot start with `-`).
    Admin,
}

/// Whether the operation is selected by a copy-source header (`x-cos-copy-source` for COS,
/// `x-amz-copy-source` for S3: a request's own dialect only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopySource {
    /// Not a copy: selected only without the header.
    Absent,
    /// A copy: selected only with the header; the caller needs READ on the source.
    Required,
}

/// The request body an operation reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    /// No body (one sent anyway is drained, never read).
    Empty,
    /// A small document read whole: at most this many bytes.
    Document(usize),
    /// Object data streamed to storage (at most 5 GiB per request).
    Stream,
}

/// What the `x-amz-checksum-<algorithm>` header (or `x-amz-trailer`) of a request is a
/// checksum of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChecksumHeaders {
    /// Of the request body: the pipeline verifies the payload against it, whatever the
    /// operation (object data, a part, an XML document).
    Body,
    /// Of the object the operation makes (CompleteMultipartUpload): the handler checks it.
    Object,
}

/// Largest XML request body accepted (DeleteObjects with 1000 long keys, Complete with
/// 10000 parts).
pub const MAX_XML_BODY: usize = 4 << 20;

/// Largest JSON body of the admin API.
pub const MAX_JSON_BODY: usize = 64 << 10;

/// The future a handler returns.
pub type HandlerFuture<'a> = Pin<Box<dyn Future<Output = ApiResult<Response>> + Send + 'a>>;

/// Runs an operation: the request's context (authorized resources included) and its body.
pub type RunFn = for<'a, 'r, 'b> fn(&'a Ctx, &'a mut Payload<'r, 'b>) -> HandlerFuture<'a>;

/// An operation's parse alone, its input discarded: what a request view is refused with,
/// without a store (fuzz targets and tests).
pub type ParseFn = fn(&OpRequest<'_>) -> ApiResult<()>;

/// An operation's implementation, made by [`crate::ops::op::handler`] (or
/// [`crate::ops::op::stream_handler`]) from its type.
#[derive(Debug, Clone, Copy)]
pub struct Handler {
    /// Parse → apply → render.
    pub run: RunFn,
    /// Parse only.
    pub parse: ParseFn,
}

/// One operation of the protocol.
#[derive(Debug)]
pub struct Operation {
    /// The S3 name of the operation (`PutObject`), used in logs and docs.
    pub name: &'static str,
    /// The HTTP method.
    pub method: &'static str,
    /// What the request must address.
    pub scope: Scope,
    /// Query parameters that must all be present to select the operation (`acl`,
    /// `uploadId` + `partNumber`, …). They select what the operation does, so they must be
    /// signed under every signature scheme.
    pub selector: &'static [&'static str],
    /// Whether a copy-source header selects the operation.
    pub copy_source: CopySource,
    /// Who may perform it.
    pub access: Access,
    /// Further query parameters that change what the operation does (`versionId`,
    /// `response-*`, …): signed under every scheme. A name ending in `*` is a prefix.
    pub params: &'static [&'static str],
    /// Query parameters that only narrow or page a listing the caller may read in full
    /// (`prefix`, `marker`, `max-keys`, …). Signed under COS and SigV4; SigV2 cannot sign
    /// them (its CanonicalizedResource has sub-resources only).
    pub filters: &'static [&'static str],
    /// Whether COS signatures may leave the filters unsigned: the official COS SDK does not
    /// sign `list_buckets`' marker and max-keys (protocol doc §4.1 step 5).
    pub cos_unsigned_filters: bool,
    /// The body it reads.
    pub body: Body,
    /// What its `x-amz-checksum-*` headers are a checksum of.
    pub checksum_headers: ChecksumHeaders,
    /// Its handler.
    pub handler: Handler,
}

impl Operation {
    /// Whether the operation reads the query parameter `name` (selector, params or
    /// filters). Handlers see only these.
    pub fn reads_param(&self, name: &str) -> bool {
        self.selector.contains(&name) || matches(self.params, name) || matches(self.filters, name)
    }

    /// Whether `name` must be covered by a signature of this scheme class: every parameter
    /// it reads, except the filters where the scheme or client cannot sign them (a filter
    /// may also select, like `list-type`, when choosing it grants nothing more).
    pub fn must_sign_param(&self, name: &str, sigv2: bool, cos: bool) -> bool {
        if matches(self.filters, name) {
            return !(sigv2 || (cos && self.cos_unsigned_filters));
        }
        self.selector.contains(&name) || matches(self.params, name)
    }
}

fn matches(list: &[&str], name: &str) -> bool {
    list.iter().any(|entry| match entry.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => *entry == name,
    })
}

/// The defaults of an entry; each entry overrides what differs.
const BASE: Operation = Operation {
    name: "",
    method: "GET",
    scope: Scope::Object,
    selector: &[],
    copy_source: CopySource::Absent,
    access: Access::Bucket(Permission::Owner),
    params: &[],
    filters: &[],
    cos_unsigned_filters: false,
    body: Body::Empty,
    checksum_headers: ChecksumHeaders::Body,
    handler: Handler {
        run: not_implemented,
        parse: |_| Err(ErrorCode::NotImplemented.into()),
    },
};

/// The handler of [`BASE`]: every entry names its own.
fn not_implemented<'a>(_: &'a Ctx, _: &'a mut Payload<'_, '_>) -> HandlerFuture<'a> {
    Box::pin(async { Err(ErrorCode::NotImplemented.into()) })
}

const LIST_FILTERS: &[&str] = &["prefix", "delimiter", "marker", "max-keys", "encoding-type"];

/// Every operation, most specific first within a method and scope: the first entry whose
/// selector and copy-source rule match is chosen.
pub static OPERATIONS: &[Operation] = &[
    // ---- service ----
    Operation {
        name: "ListBuckets",
        scope: Scope::Service,
        access: Access::Authenticated,
        filters: &[
            "prefix",
            "max-buckets",
            "continuation-token",
            "bucket-region",
            "marker",
            "max-keys",
            "region",
            "create-time",
            "range",
            "tagkey",
            "tagvalue",
        ],
        cos_unsigned_filters: true,
        handler: handler::<service::ListBuckets>(),
        ..BASE
    },
    // ---- bucket ----
    Operation {
        name: "GetBucketAcl",
        scope: Scope::Bucket,
        selector: &["acl"],
        access: Access::Bucket(Permission::ReadAcp),
        handler: handler::<bucket::GetBucketAcl>(),
        ..BASE
    },
    Operation {
        name: "GetBucketLocation",
        scope: Scope::Bucket,
        selector: &["location"],
        access: Access::Bucket(Permission::Owner),
        handler: handler::<bucket::GetBucketLocation>(),
        ..BASE
    },
    Operation {
        name: "ListMultipartUploads",
        scope: Scope::Bucket,
        selector: &["uploads"],
        access: Access::Bucket(Permission::Read),
        filters: &[
            "prefix",
            "delimiter",
            "key-marker",
            "upload-id-marker",
            "max-uploads",
            "encoding-type",
        ],
        handler: handler::<multipart::ListMultipartUploads>(),
        ..BASE
    },
    Operation {
        name: "ListObjectsV2",
        scope: Scope::Bucket,
        selector: &["list-type"],
        access: Access::Bucket(Permission::Read),
        filters: &[
            "list-type",
            "prefix",
            "delimiter",
            "max-keys",
            "encoding-type",
            "continuation-token",
            "start-after",
            "fetch-owner",
        ],
        handler: handler::<list::ListObjectsV2>(),
        ..BASE
    },
    Operation {
        name: "ListObjects",
        scope: Scope::Bucket,
        access: Access::Bucket(Permission::Read),
        filters: LIST_FILTERS,
        handler: handler::<list::ListObjects>(),
        ..BASE
    },
    Operation {
        name: "HeadBucket",
        method: "HEAD",
        scope: Scope::Bucket,
        access: Access::Bucket(Permission::Read),
        handler: handler::<bucket::HeadBucket>(),
        ..BASE
    },
    Operation {
        name: "CreateBucket",
        method: "PUT",
        scope: Scope::Bucket,
        access: Access::Authenticated,
        body: Body::Document(MAX_XML_BODY),
        handler: handler::<bucket::CreateBucket>(),
        ..BASE
    },
    Operation {
        name: "DeleteBucket",
        method: "DELETE",
        scope: Scope::Bucket,
        access: Access::Bucket(Permission::Owner),
        handler: handler::<bucket::DeleteBucket>(),
        ..BASE
    },
    Operation {
        name: "DeleteObjects",
        method: "POST",
        scope: Scope::Bucket,
        selector: &["delete"],
        access: Access::Bucket(Permission::Write),
        body: Body::Document(MAX_XML_BODY),
        handler: handler::<delete_many::DeleteObjects>(),
        ..BASE
    },
    // ---- object ----
    Operation {
        name: "GetObjectAcl",
        selector: &["acl"],
        access: Access::Object(Permission::ReadAcp),
        params: &["versionId"],
        handler: handler::<object::GetObjectAcl>(),
        ..BASE
    },
    Operation {
        name: "GetObjectAttributes",
        selector: &["attributes"],
        access: Access::Object(Permission::Read),
        params: &["versionId"],
        handler: handler::<attributes::GetObjectAttributes>(),
        ..BASE
    },
    Operation {
        name: "ListParts",
        selector: &["uploadId"],
        access: Access::Bucket(Permission::Read),
        filters: &["max-parts", "part-number-marker", "encoding-type"],
        handler: handler::<multipart::ListParts>(),
        ..BASE
    },
    Operation {
        name: "GetObject",
        access: Access::Object(Permission::Read),
        params: &["versionId", "response-*", "partNumber"],
        handler: handler::<object::GetObject>(),
        ..BASE
    },
    Operation {
        name: "HeadObject",
        method: "HEAD",
        access: Access::Object(Permission::Read),
        params: &["versionId", "response-*", "partNumber"],
        handler: handler::<object::HeadObject>(),
        ..BASE
    },
    Operation {
        name: "UploadPartCopy",
        method: "PUT",
        selector: &["partNumber", "uploadId"],
        copy_source: CopySource::Required,
        access: Access::Bucket(Permission::Write),
        handler: handler::<multipart::UploadPartCopy>(),
        ..BASE
    },
    Operation {
        name: "UploadPart",
        method: "PUT",
        selector: &["partNumber", "uploadId"],
        access: Access::Bucket(Permission::Write),
        body: Body::Stream,
        handler: stream_handler::<multipart::UploadPart>(),
        ..BASE
    },
    Operation {
        name: "CopyObject",
        method: "PUT",
        copy_source: CopySource::Required,
        access: Access::Bucket(Permission::Write),
        handler: handler::<copy::CopyObject>(),
        ..BASE
    },
    Operation {
        name: "PutObject",
        method: "PUT",
        access: Access::Bucket(Permission::Write),
        body: Body::Stream,
        handler: stream_handler::<object::PutObject>(),
        ..BASE
    },
    Operation {
        name: "AbortMultipartUpload",
        method: "DELETE",
        selector: &["uploadId"],
        access: Access::Bucket(Permission::Write),
        handler: handler::<multipart::AbortMultipartUpload>(),
        ..BASE
    },
    Operation {
        name: "DeleteObject",
        method: "DELETE",
        access: Access::Bucket(Permission::Write),
        params: &["versionId"],
        handler: handler::<object::DeleteObject>(),
        ..BASE
    },
    Operation {
        name: "CreateMultipartUpload",
        method: "POST",
        selector: &["uploads"],
        access: Access::Bucket(Permission::Write),
        handler: handler::<multipart::CreateMultipartUpload>(),
        ..BASE
    },
    Operation {
        name: "CompleteMultipartUpload",
        method: "POST",
        selector: &["uploadId"],
        access: Access::Bucket(Permission::Write),
        body: Body::Document(MAX_XML_BODY),
        checksum_headers: ChecksumHeaders::Object,
        handler: handler::<multipart::CompleteMultipartUpload>(),
        ..BASE
    },
    // ---- the admin API ----
    Operation {
        name: "AdminRead",
        scope: Scope::Admin,
        access: Access::Admin,
        handler: handler::<admin::AdminListUsers>(),
        ..BASE
    },
    Operation {
        name: "AdminCreate",
        method: "POST",
        scope: Scope::Admin,
        access: Access::Admin,
        body: Body::Document(MAX_JSON_BODY),
        handler: handler::<admin::AdminCreateUser>(),
        ..BASE
    },
    Operation {
        name: "AdminDelete",
        method: "DELETE",
        scope: Scope::Admin,
        access: Access::Admin,
        handler: handler::<admin::AdminDeleteUser>(),
        ..BASE
    },
];

/// Sub-resources of the COS and S3 APIs. One present in a request that the chosen
/// operation does not read means the request asks for something not implemented: it is
/// answered 501, never served as a different operation (say, `PUT ?tagging` as a PutObject).
pub const KNOWN_SUBRESOURCES: &[&str] = &[
    "accelerate",
    "acl",
    "analytics",
    "append",
    "attributes",
    "cors",
    "delete",
    "domain",
    "encryption",
    "intelligent-tiering",
    "intelligenttiering",
    "inventory",
    "legal-hold",
    "lifecycle",
    "location",
    "logging",
    "metadataTable",
    "metrics",
    "notification",
    "object-lock",
    "origin",
    "ownershipControls",
    "partNumber",
    "policy",
    "policyStatus",
    "publicAccessBlock",
    "referer",
    "rename",
    "replication",
    "requestPayment",
    "restore",
    "retention",
    "select",
    "session",
    "symlink",
    "tagging",
    "torrent",
    "uploadId",
    "uploads",
    "versionId",
    "versioning",
    "versions",
    "website",
];

/// What the router looks at.
#[derive(Debug, Clone, Copy)]
pub struct RouteInput<'a> {
    /// Upper-case method.
    pub method: &'a str,
    /// What the request addresses.
    pub scope: Scope,
    /// Query parameter names present.
    pub params: &'a [&'a str],
    /// Whether the dialect's copy-source header is present.
    pub has_copy_source: bool,
}

/// Chooses the operation, or the error that answers a request selecting none:
/// `NotImplemented` for a known sub-resource or method variant not implemented,
/// `MethodNotAllowed` for a method the resource does not have.
pub fn route(input: RouteInput<'_>) -> Result<&'static Operation, ErrorCode> {
    let has = |name: &str| input.params.contains(&name);
    let chosen = OPERATIONS.iter().find(|op| {
        op.scope == input.scope
            && op.method == input.method
            && op.selector.iter().all(|name| has(name))
            && (op.copy_source == CopySource::Required) == input.has_copy_source
    });
    match chosen {
        Some(op) => {
            let unread = input
                .params
                .iter()
                .any(|name| KNOWN_SUBRESOURCES.contains(name) && !op.reads_param(name));
            if unread {
                Err(ErrorCode::NotImplemented)
            } else {
                Ok(op)
            }
        }
        None => {
            let method_exists = OPERATIONS
                .iter()
                .any(|op| op.scope == input.scope && op.method == input.method);
            let known = input.params.iter().any(|n| KNOWN_SUBRESOURCES.contains(n));
            // POST on a bucket without `?delete` is a browser-form upload (POST Object).
            let form_upload = input.scope == Scope::Bucket && input.method == "POST";
            if known || form_upload || (method_exists && input.has_copy_source) {
                Err(ErrorCode::NotImplemented)
            } else {
                Err(ErrorCode::MethodNotAllowed)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Routes `"METHOD bucket/key?a&b"` (bucket `-` is the admin namespace).
    fn r(line: &str, copy: bool) -> Result<&'static str, ErrorCode> {
        let (method, rest) = line.split_once(' ').expect("method");
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (bucket, key) = path.split_once('/').unwrap_or((path, ""));
        let params: Vec<&str> = query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| p.split('=').next().unwrap_or(p))
            .collect();
        let scope = match (bucket, key) {
            ("", _) => Scope::Service,
            ("-", _) => Scope::Admin,
            (_, "") => Scope::Bucket,
            _ => Scope::Object,
        };
        route(RouteInput {
            method,
            scope,
            params: &params,
            has_copy_source: copy,
        })
        .map(|op| op.name)
    }

    #[test]
    fn routes_table() {
        use ErrorCode::{MethodNotAllowed, NotImplemented};
        let table: &[(&str, bool, Result<&str, ErrorCode>)] = &[
            ("GET ", false, Ok("ListBuckets")),
            ("PUT ", false, Err(MethodNotAllowed)),
            ("PUT b", false, Ok("CreateBucket")),
            ("DELETE b", false, Ok("DeleteBucket")),
            ("HEAD b", false, Ok("HeadBucket")),
            ("GET b?location=", false, Ok("GetBucketLocation")),
            ("GET b?prefix=&delimiter=%2F", false, Ok("ListObjects")),
            ("GET b?list-type=2", false, Ok("ListObjectsV2")),
            ("GET b?uploads", false, Ok("ListMultipartUploads")),
            ("POST b?delete=", false, Ok("DeleteObjects")),
            ("GET b?acl", false, Ok("GetBucketAcl")),
            ("PUT b?acl", false, Err(NotImplemented)),
            ("PUT b?cors", false, Err(NotImplemented)),
            ("GET b?versions", false, Err(NotImplemented)),
            ("POST b", false, Err(NotImplemented)),
            ("GET b?policyStatus", false, Err(NotImplemented)),
            ("GET b?inventory", false, Err(NotImplemented)),
            ("PUT b/k", false, Ok("PutObject")),
            ("PUT b/k?x-id=PutObject", false, Ok("PutObject")),
            ("PUT b/k", true, Ok("CopyObject")),
            ("PUT b/k?partNumber=1&uploadId=x", false, Ok("UploadPart")),
            (
                "PUT b/k?partNumber=1&uploadId=x",
                true,
                Ok("UploadPartCopy"),
            ),
            ("PUT b/k?uploadId=x", false, Err(NotImplemented)),
            ("GET b/k", false, Ok("GetObject")),
            ("GET b/k?response-content-type=x", false, Ok("GetObject")),
            ("GET b/k?versionId=null", false, Ok("GetObject")),
            ("GET b/k?uploadId=x", false, Ok("ListParts")),
            ("GET b/k?acl", false, Ok("GetObjectAcl")),
            ("GET b/k?attributes", false, Ok("GetObjectAttributes")),
            ("HEAD b/k?attributes", false, Err(NotImplemented)),
            ("GET b/k?partNumber=2", false, Ok("GetObject")),
            ("HEAD b/k?partNumber=2", false, Ok("HeadObject")),
            (
                "GET b/k?partNumber=2&uploadId=x",
                false,
                Err(NotImplemented),
            ),
            ("PUT b/k?acl", false, Err(NotImplemented)),
            ("GET b/k?symlink", false, Err(NotImplemented)),
            ("PUT b/k?symlink", false, Err(NotImplemented)),
            ("DELETE b/k?tagging", false, Err(NotImplemented)),
            ("GET b/k?inventory", false, Err(NotImplemented)),
            ("HEAD b/k", false, Ok("HeadObject")),
            ("DELETE b/k", false, Ok("DeleteObject")),
            ("DELETE b/k?uploadId=x", false, Ok("AbortMultipartUpload")),
            ("POST b/k?uploads", false, Ok("CreateMultipartUpload")),
            ("POST b/k?uploadId=x", false, Ok("CompleteMultipartUpload")),
            ("POST b/k?append&position=0", false, Err(NotImplemented)),
            ("POST b/k", false, Err(MethodNotAllowed)),
            ("PATCH b/k", false, Err(MethodNotAllowed)),
            ("GET b/k", true, Err(NotImplemented)),
            ("GET -/admin/users", false, Ok("AdminRead")),
            ("POST -/admin/users", false, Ok("AdminCreate")),
        ];
        for (line, copy, expected) in table {
            assert_eq!(r(line, *copy), *expected, "{line}");
        }
    }

    #[test]
    fn every_operation_is_reachable_and_named_once() {
        let mut names = std::collections::HashSet::new();
        for op in OPERATIONS {
            assert!(!op.name.is_empty());
            assert!(names.insert(op.name), "{} declared twice", op.name);
            let scope = op.scope;
            let chosen = route(RouteInput {
                method: op.method,
                scope,
                params: op.selector,
                has_copy_source: op.copy_source == CopySource::Required,
            });
            assert_eq!(
                chosen.map(|o| o.name),
                Ok(op.name),
                "{} is shadowed",
                op.name
            );
        }
    }

    #[test]
    fn signing_requirements() {
        let get = route(RouteInput {
            method: "GET",
            scope: Scope::Object,
            params: &[],
            has_copy_source: false,
        })
        .expect("GetObject");
        assert!(get.must_sign_param("response-content-type", true, true));
        assert!(get.must_sign_param("versionId", true, false));
        assert!(get.must_sign_param("partNumber", true, true));
        assert!(!get.reads_param("uploadId"));
        let list = route(RouteInput {
            method: "GET",
            scope: Scope::Bucket,
            params: &[],
            has_copy_source: false,
        })
        .expect("ListObjects");
        assert!(list.must_sign_param("prefix", false, true));
        assert!(!list.must_sign_param("prefix", true, false));
        let service = route(RouteInput {
            method: "GET",
            scope: Scope::Service,
            params: &[],
            has_copy_source: false,
        })
        .expect("ListBuckets");
        assert!(!service.must_sign_param("max-keys", false, true));
        assert!(service.must_sign_param("max-keys", false, false));
    }
}
