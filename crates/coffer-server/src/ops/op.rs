//! The shape of every operation: **parse** (pure: the request's typed view → a typed
//! input, every client-input check included), **apply** (async: the input against the store
//! and the resources the pipeline authorized → a typed output) and **render** (pure: the
//! output and the dialect → the response). [`handler`] and [`stream_handler`] turn an
//! implementation into the [`Handler`] of its entry in [`crate::operations::OPERATIONS`].
//!
//! Parse and render see plain values only ([`OpRequest`], [`Dialect`]), so unit tests and
//! fuzz targets drive them without a socket or a store; apply sees an [`Env`], which a test
//! builds over a temporary store.

use crate::access::Resources;
use crate::context::{is_foreign_vendor_header, Ctx};
use crate::error::{ApiError, ApiResult};
use crate::http::Response;
use crate::operations::{Body, Handler, HandlerFuture, Operation};
use crate::payload::Payload;
use crate::state::ServerConfig;
use coffer_proto::{Dialect, ErrorCode};
use coffer_store::model::{AccountRecord, BucketRecord, ObjectVersion};
use coffer_store::Store;
use std::future::Future;

/// What parse sees of a request: its method, dialect, bucket and key, the query parameters
/// its operation declares, its headers and — for operations that take one — its document
/// body. Plain borrowed values: a test builds one from literals.
#[derive(Debug, Clone, Copy)]
pub struct OpRequest<'a> {
    /// The operation chosen (its declaration bounds what [`OpRequest::param`] may read).
    pub operation: &'static Operation,
    /// Upper-case method.
    pub method: &'a str,
    /// The dialect of the request.
    pub dialect: Dialect,
    /// The bucket addressed, if any.
    pub bucket: Option<&'a str>,
    /// The key addressed (the path after `/-/` for the admin API), if any.
    pub key: Option<&'a str>,
    /// Form-decoded query parameters the operation reads, in order.
    pub query: &'a [(String, String)],
    /// Every header as sent: names as sent, raw values.
    pub headers: &'a [(String, Vec<u8>)],
    /// The document body (`Body::Document` operations); empty otherwise.
    pub body: &'a [u8],
}

impl<'a> OpRequest<'a> {
    /// A query parameter's value. Only parameters the operation declares are visible; asking
    /// for another is a bug in the declaration (caught by tests in debug builds).
    pub fn param(&self, name: &str) -> Option<&'a str> {
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

    /// A header as text (invalid UTF-8 → `None`) trimmed of SP and HTAB. Headers of the
    /// other dialect's vendor family (`x-amz-*` in a COS request, `x-cos-*` in an S3 one)
    /// are invisible: the signature rules cover only the request's own family.
    pub fn header(&self, name: &str) -> Option<&'a str> {
        if is_foreign_vendor_header(self.dialect, name) {
            return None;
        }
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| std::str::from_utf8(v).ok())
            .map(|v| v.trim_matches([' ', '\t']))
    }

    /// The headers of the request's own vendor family and the standard ones, as (name, raw
    /// value).
    pub fn headers(&self) -> impl Iterator<Item = (&'a str, &'a [u8])> + 'a {
        let dialect = self.dialect;
        self.headers
            .iter()
            .filter(move |(name, _)| !is_foreign_vendor_header(dialect, name))
            .map(|(name, value)| (name.as_str(), value.as_slice()))
    }

    /// A vendor header of the request's dialect: `suffix` is the part after `x-cos-` (COS)
    /// or `x-amz-` (S3).
    pub fn vendor_header(&self, suffix: &str) -> Option<&'a str> {
        self.header(&format!("{}{suffix}", self.dialect.prefix()))
    }

    /// The bucket name (routing guarantees one for bucket and object operations).
    pub fn bucket_name(&self) -> ApiResult<&'a str> {
        self.bucket
            .ok_or_else(|| ApiError::new(ErrorCode::InvalidRequest))
    }

    /// The object key.
    pub fn key(&self) -> ApiResult<&'a str> {
        self.key.ok_or_else(|| ApiError::new(ErrorCode::InvalidURI))
    }
}

/// What apply works with: the store, the server's settings, the caller and the records
/// authorization loaded.
#[derive(Debug, Clone, Copy)]
pub struct Env<'a> {
    /// The storage engine.
    pub store: &'a Store,
    /// Server settings.
    pub config: &'a ServerConfig,
    /// The signing account, `None` when anonymous.
    pub caller: Option<&'a AccountRecord>,
    /// What authorization loaded.
    pub resources: &'a Resources,
}

impl<'a> Env<'a> {
    /// The signing account (`AccessDenied` for anonymous requests).
    pub fn caller(&self) -> ApiResult<&'a AccountRecord> {
        self.caller
            .ok_or_else(|| ApiError::new(ErrorCode::AccessDenied))
    }

    /// The caller's uin, or an empty string for anonymous requests.
    pub fn caller_uin(&self) -> &'a str {
        self.caller.map_or("", |c| c.uin.as_str())
    }

    /// The addressed bucket, as authorization loaded it.
    pub fn bucket(&self) -> ApiResult<&'a BucketRecord> {
        self.resources
            .bucket
            .as_ref()
            .ok_or_else(|| ApiError::new(ErrorCode::InvalidRequest))
    }

    /// The addressed object's current version, as authorization loaded it.
    pub fn object(&self) -> ApiResult<&'a ObjectVersion> {
        self.resources
            .object
            .as_ref()
            .ok_or_else(|| ApiError::new(ErrorCode::NoSuchKey))
    }
}

/// An operation whose body is empty or a document read whole before parse.
pub trait Op {
    /// What parse makes of the request.
    type Input: Send;
    /// What apply produces; it may borrow the [`Env`] (the records authorization loaded).
    type Output<'a>: Send;
    /// Reads and validates the request: every client-input error is answered here.
    fn parse(request: &OpRequest<'_>) -> ApiResult<Self::Input>;
    /// Performs the operation.
    fn apply<'a>(
        env: &'a Env<'a>,
        input: Self::Input,
    ) -> impl Future<Output = ApiResult<Self::Output<'a>>> + Send + 'a;
    /// Renders the answer.
    fn render(output: Self::Output<'_>, dialect: Dialect) -> Response;
}

/// An operation whose body is object data streamed to storage: apply reads the payload.
pub trait StreamOp {
    /// What parse makes of the request (its body excluded).
    type Input: Send;
    /// What apply produces.
    type Output: Send;
    /// Reads and validates the request head.
    fn parse(request: &OpRequest<'_>) -> ApiResult<Self::Input>;
    /// Streams the payload to storage and performs the operation.
    fn apply<'a>(
        env: &'a Env<'a>,
        input: Self::Input,
        payload: &'a mut Payload<'_, '_>,
    ) -> impl Future<Output = ApiResult<Self::Output>> + Send + 'a;
    /// Renders the answer.
    fn render(output: Self::Output, dialect: Dialect) -> Response;
}

/// The [`Handler`] of an [`Op`]: reads the declared document, parses, applies, renders.
pub const fn handler<O: Op>() -> Handler {
    Handler {
        run: run_op::<O>,
        parse: |request| O::parse(request).map(drop),
    }
}

/// The [`Handler`] of a [`StreamOp`].
pub const fn stream_handler<O: StreamOp>() -> Handler {
    Handler {
        run: run_stream_op::<O>,
        parse: |request| O::parse(request).map(drop),
    }
}

fn run_op<'a, 'r, 'b, O: Op>(ctx: &'a Ctx, payload: &'a mut Payload<'r, 'b>) -> HandlerFuture<'a> {
    Box::pin(async move {
        let body = match ctx.operation.body {
            Body::Document(limit) => payload.read_to_end(limit).await?,
            Body::Empty => Vec::new(),
            Body::Stream => {
                return Err(ApiError::internal(format!(
                    "{} streams its body but is not a StreamOp",
                    ctx.operation.name
                )))
            }
        };
        let input = O::parse(&ctx.op_request(&body))?;
        let env = ctx.env();
        let output = O::apply(&env, input).await?;
        Ok(O::render(output, ctx.dialect))
    })
}

fn run_stream_op<'a, 'r, 'b, O: StreamOp>(
    ctx: &'a Ctx,
    payload: &'a mut Payload<'r, 'b>,
) -> HandlerFuture<'a> {
    Box::pin(async move {
        let input = O::parse(&ctx.op_request(&[]))?;
        let env = ctx.env();
        let output = O::apply(&env, input, payload).await?;
        Ok(O::render(output, ctx.dialect))
    })
}

/// Builders of [`OpRequest`]s and [`Env`]s for the unit tests of the operations.
#[cfg(test)]
pub mod testing {
    use super::*;
    use crate::operations::OPERATIONS;

    /// An owned request to view as an [`OpRequest`].
    #[derive(Debug, Clone)]
    pub struct Req {
        /// The operation's declared name.
        pub operation: &'static Operation,
        /// The dialect.
        pub dialect: Dialect,
        /// Bucket.
        pub bucket: Option<String>,
        /// Key.
        pub key: Option<String>,
        /// Query parameters.
        pub query: Vec<(String, String)>,
        /// Headers.
        pub headers: Vec<(String, Vec<u8>)>,
        /// Document body.
        pub body: Vec<u8>,
    }

    /// A request for the operation named `name` in `dialect`, on bucket `b` and key `k`.
    pub fn req(name: &str, dialect: Dialect) -> Req {
        let operation = OPERATIONS
            .iter()
            .find(|op| op.name == name)
            .unwrap_or_else(|| panic!("no operation {name}"));
        Req {
            operation,
            dialect,
            bucket: Some("b".into()),
            key: Some("k".into()),
            query: Vec::new(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    impl Req {
        /// Adds a query parameter.
        pub fn q(mut self, name: &str, value: &str) -> Req {
            self.query.push((name.into(), value.into()));
            self
        }

        /// Adds a header.
        pub fn h(mut self, name: &str, value: &str) -> Req {
            self.headers.push((name.into(), value.as_bytes().to_vec()));
            self
        }

        /// Sets the body.
        pub fn body(mut self, body: &[u8]) -> Req {
            self.body = body.to_vec();
            self
        }

        /// Sets the key (`None`: a bucket request).
        pub fn key(mut self, key: Option<&str>) -> Req {
            self.key = key.map(str::to_string);
            self
        }

        /// The view parse takes.
        pub fn view(&self) -> OpRequest<'_> {
            OpRequest {
                operation: self.operation,
                method: self.operation.method,
                dialect: self.dialect,
                bucket: self.bucket.as_deref(),
                key: self.key.as_deref(),
                query: &self.query,
                headers: &self.headers,
                body: &self.body,
            }
        }
    }

    /// The text of an XML response body.
    pub fn body_text(response: &Response) -> String {
        match &response.body {
            crate::http::ResponseBody::Bytes(bytes) => String::from_utf8_lossy(bytes).into(),
            _ => String::new(),
        }
    }

    /// A response header's value as text.
    pub fn header<'r>(response: &'r Response, name: &str) -> Option<&'r str> {
        response
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| std::str::from_utf8(v).ok())
    }

    /// The error code of a parse result.
    pub fn code<T>(result: ApiResult<T>) -> Option<ErrorCode> {
        result.err().map(|e| e.code)
    }

    /// An object version with this ETag and size, owned by uin `1`, last modified at 0.
    pub fn version(etag: &str, size: u64) -> ObjectVersion {
        use coffer_store::model::{DataLocation, ObjectAttributes, ObjectKind};
        ObjectVersion {
            version_id: None,
            size,
            etag: etag.into(),
            crc64: 7,
            last_modified_ms: 0,
            kind: ObjectKind::Normal,
            attributes: ObjectAttributes {
                storage_class: "STANDARD".into(),
                ..ObjectAttributes::default()
            },
            owner_uin: "1".into(),
            data: DataLocation::Inline(0),
            parts: Vec::new(),
            checksum: None,
        }
    }

    /// A temporary embedded store, an account and server settings.
    #[derive(Debug)]
    pub struct TempEnv {
        /// Keeps the directory alive.
        pub dir: tempfile::TempDir,
        /// The store.
        pub store: Store,
        /// Settings.
        pub config: ServerConfig,
        /// The caller.
        pub caller: AccountRecord,
    }

    impl TempEnv {
        /// Opens a store in a new temporary directory.
        pub async fn new() -> TempEnv {
            let dir = tempfile::tempdir().expect("tempdir");
            let store = coffer_store_embedded::open(&dir.path().join("data"))
                .await
                .expect("store");
            let caller = AccountRecord {
                secret_id: "AKID".into(),
                secret_key: "secret".into(),
                appid: "1250000000".into(),
                uin: "100000000001".into(),
                created_ms: 0,
                admin: false,
            };
            TempEnv {
                dir,
                store,
                config: ServerConfig::default(),
                caller,
            }
        }

        /// Creates bucket `b-1250000000` (owner uin `1`) and returns resources naming it.
        pub async fn bucket_resources(&self) -> Resources {
            let bucket = self
                .store
                .create_bucket(coffer_store::model::BucketRecord {
                    name: "b-1250000000".into(),
                    id: 0,
                    owner_uin: "1".into(),
                    region: "ap-guangzhou".into(),
                    created_ms: 0,
                    acl: Default::default(),
                })
                .await
                .expect("bucket");
            Resources {
                bucket: Some(bucket),
                ..Resources::default()
            }
        }

        /// An [`Env`] over `resources`.
        pub fn env<'a>(&'a self, resources: &'a Resources) -> Env<'a> {
            Env {
                store: &self.store,
                config: &self.config,
                caller: Some(&self.caller),
                resources,
            }
        }
    }
}
