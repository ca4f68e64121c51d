//! The request pipeline: request id → the request's one host → addressing →
//! authentication → routing to a declared operation ([`crate::operations`]) → signature
//! coverage → authorization → the operation's handler → error rendering and common headers
//! → one log line. Every check a request passes is made here, once, from the operation's
//! declaration; handlers only parse, apply and render.

use crate::access::{authorize, AccessRequest};
use crate::addressing::Target;
use crate::auth::{authenticate, check_coverage, dialect_of, header_refs, AuthInput};
use crate::context::{error_resource, Ctx};
use crate::error::{ApiError, ApiResult};
use crate::http::{Handler, Rejection, Request, RequestBody, Response};
use crate::operations::{route, Body, ChecksumHeaders, CopySource, Operation, RouteInput, Scope};
use crate::payload::{ChecksumCheck, Payload};
use crate::state::AppState;
use bytes::Bytes;
use coffer_proto::auth::{detect_scheme, Query, RequestView};
use coffer_proto::{Dialect, ErrorCode};
use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

/// The COS/S3 request handler plugged into the HTTP layer.
#[derive(Debug, Clone)]
pub struct CofferHandler {
    state: Arc<AppState>,
}

impl CofferHandler {
    /// A handler over shared state.
    pub fn new(state: Arc<AppState>) -> CofferHandler {
        CofferHandler { state }
    }
}

impl Handler for CofferHandler {
    fn handle<'a, 'b: 'a>(
        &'a self,
        request: Request,
        body: &'a mut RequestBody<'b>,
    ) -> Pin<Box<dyn Future<Output = Response> + Send + 'a>> {
        Box::pin(self.handle_request(request, body))
    }

    fn reject(&self, rejection: Rejection) -> Response {
        let error = match rejection {
            Rejection::BadRequest => ApiError::new(ErrorCode::BadRequest),
            Rejection::HeadTooLarge => ApiError::new(ErrorCode::MaxMessageLengthExceeded),
            Rejection::UnsupportedTransferEncoding => ApiError::with_message(
                ErrorCode::NotImplemented,
                "Only the chunked transfer coding is supported.",
            ),
            Rejection::HeadTimeout => ApiError::new(ErrorCode::RequestTimeout),
            Rejection::TooManyConnections => {
                ApiError::with_message(ErrorCode::SlowDown, "Too many connections; retry later.")
            }
            Rejection::TooManyUploads => ApiError::with_message(
                ErrorCode::SlowDown,
                "Too many uploads in progress; retry later.",
            ),
        };
        let request_id = new_request_id();
        let mut response = render_error(Dialect::Cos, &request_id, "/", &error);
        decorate(&mut response, Dialect::Cos, &request_id);
        response
    }
}

impl CofferHandler {
    async fn handle_request(&self, request: Request, body: &mut RequestBody<'_>) -> Response {
        let started = Instant::now();
        let request_id = new_request_id();
        if request.raw_path == "/-/health" {
            let mut response = Response::new(200);
            response.body = crate::http::ResponseBody::Bytes(Bytes::from_static(b"ok\n"));
            return response;
        }
        let method = request.method.clone();
        let mut ctx = match self.prepare(request, request_id.clone()).await {
            Ok(ctx) => ctx,
            Err(refused) => {
                let Refused {
                    error,
                    target,
                    path,
                    dialect,
                } = refused;
                let region = &self.state.config.region;
                let resource = error_resource(dialect, region, target.as_ref(), &path);
                let response = render_error(dialect, &request_id, &resource, &error);
                let line = LogLine::new(&method, "", "", 0);
                return self.finish(response, dialect, &request_id, line, started);
            }
        };
        let mut reruns = 0;
        let response = loop {
            let error = match run(&ctx, body).await {
                Ok(response) => break response,
                Err(error) => error,
            };
            // The object resolved for the request was replaced before the handler read it:
            // resolve it again (permissions included) and rerun, when no body was consumed.
            // The answer is then the newer version, as if the request had arrived after it.
            let rerun = error.stale && reruns < STALE_RERUNS && ctx.operation.body == Body::Empty;
            let error = match rerun {
                true => match self.resolve_again(&mut ctx).await {
                    Ok(()) => {
                        reruns += 1;
                        continue;
                    }
                    Err(error) => error,
                },
                false => error,
            };
            break render_error(ctx.dialect, &request_id, &ctx.resource(), &error);
        };
        let line = LogLine::new(
            &method,
            ctx.target.bucket.as_deref().unwrap_or_default(),
            ctx.target.key.as_deref().unwrap_or_default(),
            body.received(),
        )
        .operation(ctx.operation.name);
        self.finish(response, ctx.dialect, &request_id, line, started)
    }

    /// Adds the common headers and logs the request line. Every field that comes from the
    /// request is logged quoted with control characters escaped (`?` formatting), so a key
    /// holding `\n` cannot forge log lines.
    fn finish(
        &self,
        mut response: Response,
        dialect: Dialect,
        request_id: &str,
        line: LogLine<'_>,
        started: Instant,
    ) -> Response {
        decorate(&mut response, dialect, request_id);
        tracing::info!(
            target: "coffer::request",
            method = ?line.method,
            operation = line.operation,
            bucket = ?line.bucket,
            key = ?line.key,
            status = response.status,
            bytes_in = line.received,
            bytes_out = response.content_length(),
            ms = %format_args!("{:.3}", started.elapsed().as_secs_f64() * 1000.0),
            request_id = %request_id,
        );
        response
    }

    /// Everything before the handler, in this order: the request's one parse (its query is
    /// split and decoded here, once, and every later step reads that parse), its one host,
    /// addressing, authentication, routing to a declared operation, signature coverage of
    /// what that operation reads, authorization (which loads the records the handler will
    /// use).
    async fn prepare(&self, mut request: Request, request_id: String) -> Result<Ctx, Refused> {
        let path = request.raw_path.clone();
        let raw_query = request.raw_query.clone();
        let query = Query::parse(&raw_query);
        // The host is settled before the header list is built (settling may add the Host
        // header the signature covers); the dialect still reads the target's authority, as
        // sent, and a settling error is answered in that dialect.
        let authority = request.authority.clone();
        let settled = settle_host(&mut request);
        let headers = header_refs(&request);
        let scheme = detect_scheme(&RequestView::new(&request.method, "/", &query, &headers));
        let dialect = dialect_of(scheme, &request, authority.as_deref());
        let refuse = |error: ApiError, target: Option<&Target>| Refused {
            error,
            target: target.cloned(),
            path: path.clone(),
            dialect,
        };
        let host = settled.map_err(|e| refuse(e, None))?;
        let state = &self.state;
        let target = state
            .addressing
            .resolve(&host, &request.raw_path)
            .map_err(|e| refuse(e, None))?;
        let fail = |e: ApiError| refuse(e, Some(&target));
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let view = RequestView::new(&request.method, &target.decoded_path, &query, &headers);
        let input = AuthInput {
            view: &view,
            scheme,
            dialect,
            raw_path: &request.raw_path,
            target: &target,
        };
        let authed = authenticate(&state.store, &state.config.signature_policy, input, now)
            .await
            .map_err(fail)?;
        let names: Vec<Cow<'_, str>> = query.params().iter().map(|p| p.name_text()).collect();
        let names: Vec<&str> = names.iter().map(AsRef::as_ref).collect();
        let operation = route(RouteInput {
            method: &request.method,
            scope: scope_of(&target),
            params: &names,
            has_copy_source: request
                .header(&copy_source_header(authed.dialect))
                .is_some(),
        })
        .map_err(|code| fail(ApiError::new(code)))?;
        check_coverage(operation, &authed.coverage, &query).map_err(fail)?;
        let copy_source = copy_source_of(operation, authed.dialect, &request);
        let resources = authorize(
            &state.store,
            &state.addressing,
            AccessRequest {
                access: operation.access,
                caller: authed.caller.as_ref(),
                target: &target,
                copy_source,
            },
        )
        .await
        .map_err(fail)?;
        let query: Vec<(String, String)> = query
            .params()
            .iter()
            .filter(|p| operation.reads_param(&p.name_text()))
            .map(|p| (p.name_text().into_owned(), p.value_text().into_owned()))
            .collect();
        // Keys cannot hold NUL (addressing refuses it in paths, the XML reader in bodies), and
        // no XML answer could echo one back: a parameter carrying NUL is refused too (found
        // by the pipeline fuzz target: `?prefix=%00` answered a listing nobody could parse).
        if let Some((name, _)) = query.iter().find(|(_, value)| value.contains('\0')) {
            return Err(fail(ApiError::with_message(
                ErrorCode::InvalidArgument,
                format!("The parameter {name} cannot contain NUL."),
            )));
        }
        Ok(Ctx {
            state: state.clone(),
            request_id,
            dialect: authed.dialect,
            request,
            target,
            operation,
            query,
            caller: authed.caller,
            resources,
            payload_check: authed.payload,
        })
    }
}

impl CofferHandler {
    /// Resolves the request's resources again, permissions included, after the object they
    /// named was replaced (see [`STALE_RERUNS`]).
    async fn resolve_again(&self, ctx: &mut Ctx) -> ApiResult<()> {
        let copy_source = copy_source_of(ctx.operation, ctx.dialect, &ctx.request);
        ctx.resources = authorize(
            &self.state.store,
            &self.state.addressing,
            AccessRequest {
                access: ctx.operation.access,
                caller: ctx.caller.as_ref(),
                target: &ctx.target,
                copy_source,
            },
        )
        .await?;
        Ok(())
    }
}

/// Most times a request without a body is rerun because the object resolved for it was
/// replaced before its handler read it (an inline object overwritten in between). Each
/// rerun needs another overwrite to land in a window of microseconds; past this many the
/// client is told to slow down.
const STALE_RERUNS: usize = 3;

/// The copy-source header of a dialect (`x-cos-copy-source`, `x-amz-copy-source`).
fn copy_source_header(dialect: Dialect) -> String {
    format!("{}copy-source", dialect.prefix())
}

/// The copy source an operation reads, from the request's own dialect's header.
fn copy_source_of<'r>(
    operation: &Operation,
    dialect: Dialect,
    request: &'r Request,
) -> Option<&'r str> {
    match operation.copy_source {
        CopySource::Required => request.header_str(&copy_source_header(dialect)),
        CopySource::Absent => None,
    }
}

/// A request refused before its handler.
#[derive(Debug)]
struct Refused {
    error: ApiError,
    /// The target, if it was resolved (for the error document's `<Resource>`).
    target: Option<Target>,
    /// The path as sent.
    path: String,
    /// The dialect to answer in.
    dialect: Dialect,
}

/// The fields of a request's log line.
#[derive(Debug, Clone, Copy)]
struct LogLine<'a> {
    method: &'a str,
    operation: &'static str,
    bucket: &'a str,
    key: &'a str,
    received: u64,
}

impl<'a> LogLine<'a> {
    fn new(method: &'a str, bucket: &'a str, key: &'a str, received: u64) -> Self {
        LogLine {
            method,
            operation: "-",
            bucket,
            key,
            received,
        }
    }

    fn operation(mut self, name: &'static str) -> Self {
        self.operation = name;
        self
    }
}

/// Runs the operation's handler over the request body, protected as the signature says.
async fn run(ctx: &Ctx, body: &mut RequestBody<'_>) -> ApiResult<Response> {
    let decoded_length = ctx
        .header("x-amz-decoded-content-length")
        .and_then(|v| v.parse::<u64>().ok());
    let checksum = match ctx.operation.checksum_headers {
        ChecksumHeaders::Body => ChecksumCheck::from_headers(
            ctx.headers()
                .filter_map(|(name, value)| Some((name, std::str::from_utf8(value).ok()?))),
        )?,
        ChecksumHeaders::Object => None,
    };
    let mut payload = Payload::new(body, ctx.payload_check.clone(), decoded_length, checksum);
    (ctx.operation.handler.run)(ctx, &mut payload).await
}

/// The one host a request is addressed to *and* signed for: its Host header, or — only when
/// it has none — the authority of an absolute-form target, which is then added as the Host
/// header so that signature verification reads the same value. (Taking the bucket from one
/// and verifying the signature against the other would let a signed request be retargeted
/// to another bucket.) The official SDK configured with `IP`/`Port` behind a proxy sends an
/// absolute-form target naming the IP and the bucket's host in Host: Host wins, as signed.
fn settle_host(request: &mut Request) -> ApiResult<String> {
    let mut hosts = request
        .headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("host"));
    let first = hosts.next().map(|(_, value)| value.clone());
    if hosts.next().is_some() {
        return Err(ApiError::with_message(
            ErrorCode::InvalidRequest,
            "A request may carry only one Host header.",
        ));
    }
    match (first, request.authority.take()) {
        (Some(host), _) => String::from_utf8(host).map_err(|_| {
            ApiError::with_message(ErrorCode::InvalidRequest, "The Host header is not UTF-8.")
        }),
        (None, Some(authority)) => {
            request
                .headers
                .push(("Host".to_string(), authority.clone().into_bytes()));
            Ok(authority)
        }
        (None, None) => Ok(String::new()),
    }
}

/// What a resolved target addresses.
pub(crate) fn scope_of(target: &Target) -> Scope {
    match (&target.bucket, &target.key) {
        (Some(bucket), _) if bucket == "-" && !target.virtual_host => Scope::Admin,
        (None, _) => Scope::Service,
        (Some(_), None) => Scope::Bucket,
        (Some(_), Some(_)) => Scope::Object,
    }
}

/// Renders an error as the dialect's `<Error>` document.
fn render_error(dialect: Dialect, request_id: &str, resource: &str, error: &ApiError) -> Response {
    let extra = match dialect {
        Dialect::Cos => ("TraceId", trace_id(request_id)),
        Dialect::S3 => ("HostId", trace_id(request_id)),
    };
    let mut document = coffer_proto::xml::error_document(
        error.code.as_str(),
        &error.message,
        resource,
        request_id,
        (extra.0, &extra.1),
    );
    if !error.extra.is_empty() {
        // Insert the extra elements (StringToSign, …) before the closing tag.
        let mut tail = String::new();
        for (name, value) in &error.extra {
            tail.push('<');
            tail.push_str(name);
            tail.push('>');
            coffer_proto::xml::escape_into(&mut tail, value);
            tail.push_str("</");
            tail.push_str(name);
            tail.push('>');
        }
        if let Some(at) = document.rfind("</Error>") {
            document.insert_str(at, &tail);
        }
    }
    let mut response = Response::xml(error.code.status(), document);
    for (name, value) in &error.headers {
        response.push_header(*name, value.clone());
    }
    response.close = error.close;
    response
}

/// Adds the headers every answer carries.
fn decorate(response: &mut Response, dialect: Dialect, request_id: &str) {
    let date = coffer_proto::time::http_date(coffer_proto::time::now_millis());
    match dialect {
        Dialect::Cos => {
            response.push_header("x-cos-request-id", request_id.to_string());
            response.push_header("x-cos-trace-id", trace_id(request_id));
            response.push_header("Server", "tencent-cos");
        }
        Dialect::S3 => {
            response.push_header("x-amz-request-id", request_id.to_string());
            response.push_header("x-amz-id-2", trace_id(request_id));
            response.push_header("Server", "Coffer");
        }
    }
    response.push_header("Date", date);
}

fn new_request_id() -> String {
    let bytes: [u8; 12] = rand::random();
    hex::encode(bytes)
}

fn trace_id(request_id: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(format!("coffer-{request_id}"))
}
