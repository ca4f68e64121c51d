//! The request pipeline: request id → addressing → authentication → routing → handler →
//! error rendering and common headers → one log line.

use crate::auth::{authenticate, dialect_of};
use crate::context::Ctx;
use crate::error::{ApiError, ApiResult};
use crate::http::{Handler, Rejection, Request, RequestBody, Response};
use crate::ops::{bucket, copy, delete_many, list, multipart, object, service};
use crate::payload::{ChecksumCheck, Payload};
use crate::router::{route, Operation, RouteInput};
use crate::state::AppState;
use bytes::Bytes;
use coffer_proto::{Dialect, ErrorCode};
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
        let dialect = dialect_of(&request);
        let method = request.method.clone();
        let (response, bucket, key, received) = match self
            .prepare(request, request_id.clone())
            .await
        {
            Err((error, resource)) => {
                let response = render_error(dialect, &request_id, &resource, &error);
                (response, String::new(), String::new(), 0)
            }
            Ok((ctx, payload_check, operation)) => {
                let decoded_length = ctx
                    .header("x-amz-decoded-content-length")
                    .and_then(|v| v.parse::<u64>().ok());
                let checksum = match ChecksumCheck::from_headers(|name| {
                    ctx.header(name).map(str::to_string)
                }) {
                    Ok(checksum) => checksum,
                    Err(error) => {
                        let response =
                            render_error(ctx.dialect, &request_id, &ctx.resource(), &error);
                        let bucket = ctx.target.bucket.clone().unwrap_or_default();
                        let key = ctx.target.key.clone().unwrap_or_default();
                        return self.finish(
                            response,
                            dialect,
                            &request_id,
                            &method,
                            (&bucket, &key, 0),
                            started,
                        );
                    }
                };
                let mut payload = Payload::new(body, payload_check, decoded_length, checksum);
                let result = dispatch(operation, &ctx, &mut payload).await;
                drop(payload);
                let response = match result {
                    Ok(response) => response,
                    Err(error) => render_error(ctx.dialect, &request_id, &ctx.resource(), &error),
                };
                let bucket = ctx.target.bucket.clone().unwrap_or_default();
                let key = ctx.target.key.clone().unwrap_or_default();
                (response, bucket, key, body.received())
            }
        };
        self.finish(
            response,
            dialect,
            &request_id,
            &method,
            (&bucket, &key, received),
            started,
        )
    }

    /// Adds the common headers and logs the request line.
    fn finish(
        &self,
        mut response: Response,
        dialect: Dialect,
        request_id: &str,
        method: &str,
        (bucket, key, received): (&str, &str, u64),
        started: Instant,
    ) -> Response {
        decorate(&mut response, dialect, request_id);
        tracing::info!(
            target: "coffer::request",
            %method,
            bucket = %bucket,
            key = %key,
            status = response.status,
            bytes_in = received,
            bytes_out = response.content_length(),
            ms = %format_args!("{:.3}", started.elapsed().as_secs_f64() * 1000.0),
            request_id = %request_id,
        );
        response
    }

    /// Everything before the handler: addressing, authentication, routing.
    async fn prepare(
        &self,
        request: Request,
        request_id: String,
    ) -> Result<(Ctx, crate::auth::PayloadCheck, Operation), (ApiError, String)> {
        let authority = request
            .authority
            .clone()
            .or_else(|| request.header_str("host").map(str::to_string))
            .unwrap_or_default();
        let fallback_resource = request.raw_path.clone();
        let target = self
            .state
            .addressing
            .resolve(&authority, &request.raw_path)
            .map_err(|e| (e, fallback_resource.clone()))?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let authed = authenticate(&self.state.store, &request, &target, now)
            .await
            .map_err(|e| (e, fallback_resource.clone()))?;
        let query = coffer_proto::encoding::parse_query(&request.raw_query);
        let names: Vec<&str> = query.iter().map(|(n, _)| n.as_str()).collect();
        let has_copy_source = request.header("x-cos-copy-source").is_some()
            || request.header("x-amz-copy-source").is_some();
        let operation = route(RouteInput {
            method: &request.method,
            has_bucket: target.bucket.is_some(),
            is_admin_path: !target.virtual_host && target.bucket.as_deref() == Some("-"),
            has_key: target.key.is_some(),
            params: &names,
            has_copy_source,
        });
        let ctx = Ctx {
            state: self.state.clone(),
            request_id,
            dialect: authed.dialect,
            request,
            target,
            query,
            caller: authed.caller,
        };
        Ok((ctx, authed.payload, operation))
    }
}

async fn dispatch(
    operation: Operation,
    ctx: &Ctx,
    payload: &mut Payload<'_, '_>,
) -> ApiResult<Response> {
    use Operation::*;
    match operation {
        ListBuckets => service::list_buckets(ctx).await,
        CreateBucket => bucket::create_bucket(ctx, payload).await,
        DeleteBucket => bucket::delete_bucket(ctx).await,
        HeadBucket => bucket::head_bucket(ctx).await,
        GetBucketLocation => bucket::get_location(ctx).await,
        GetBucketAcl => bucket::get_bucket_acl(ctx).await,
        ListObjects => list::list_objects(ctx).await,
        ListObjectsV2 => list::list_objects_v2(ctx).await,
        ListMultipartUploads => multipart::list_uploads(ctx).await,
        DeleteObjects => delete_many::delete_objects(ctx, payload).await,
        PutObject => object::put_object(ctx, payload).await,
        CopyObject => copy::copy_object(ctx).await,
        GetObject => object::get_object(ctx, false).await,
        HeadObject => object::get_object(ctx, true).await,
        DeleteObject => object::delete_object(ctx).await,
        GetObjectAcl => object::get_object_acl(ctx).await,
        CreateMultipartUpload => multipart::create(ctx).await,
        UploadPart => multipart::upload_part(ctx, payload).await,
        UploadPartCopy => multipart::upload_part_copy(ctx).await,
        ListParts => multipart::list_parts(ctx).await,
        CompleteMultipartUpload => multipart::complete(ctx, payload).await,
        AbortMultipartUpload => multipart::abort(ctx).await,
        Admin => crate::ops::admin::handle(ctx, payload).await,
        NotImplemented => Err(ApiError::new(ErrorCode::NotImplemented)),
        MethodNotAllowed => Err(ApiError::new(ErrorCode::MethodNotAllowed)),
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
