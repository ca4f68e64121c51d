//! Object operations: PUT, GET, HEAD, DELETE and the object ACL.

use super::bucket::acl_document;
use super::checksums::{
    checksum_mode_enabled, push_checksum_headers, push_object_checksum, DEFAULT_ALGORITHM,
};
use super::parts::{part_number_param, select_part};
use super::{
    attributes_from_request, check_version_param, refuse_unsupported_headers, traffic_limit,
    write_object_headers, Conditions, Precondition,
};
use crate::context::Ctx;
use crate::error::{ApiError, ApiResult};
use crate::http::{Response, ResponseBody};
use crate::payload::Payload;
use coffer_proto::checksum::{etag_from_md5, parse_content_md5};
use coffer_proto::names::validate_object_key;
use coffer_proto::range::{ByteRange, ResolvedRange};
use coffer_proto::{Dialect, ErrorCode};
use coffer_store::model::WriteCondition;
use coffer_store::{ObjectWriter, Pacer, StagedData};

/// Largest single PUT or part: 5 GiB.
pub const MAX_OBJECT_SIZE: u64 = 5 << 30;

/// Reads the payload into a writer, enforcing the size limit and `x-cos-traffic-limit`,
/// then checks `Content-MD5`.
pub async fn stage_payload(
    ctx: &Ctx,
    payload: &mut Payload<'_, '_>,
    mut writer: ObjectWriter,
) -> ApiResult<StagedData> {
    if !payload.is_framed() {
        return Err(ErrorCode::MissingContentLength.into());
    }
    let pacer = traffic_limit(ctx)?.map(Pacer::new);
    let expected_md5 = match ctx.header("content-md5") {
        Some(value) => {
            Some(parse_content_md5(value).map_err(|_| ApiError::new(ErrorCode::InvalidDigest))?)
        }
        None => None,
    };
    if payload.length().is_some_and(|len| len > MAX_OBJECT_SIZE) {
        return Err(ApiError::new(ErrorCode::EntityTooLarge).close());
    }
    let mut received = 0u64;
    while let Some(chunk) = payload.next_chunk().await? {
        received += chunk.len() as u64;
        if received > MAX_OBJECT_SIZE {
            return Err(ApiError::new(ErrorCode::EntityTooLarge).close());
        }
        writer.write(chunk).await?;
        if let Some(pacer) = &pacer {
            pacer.pace(received).await;
        }
    }
    let staged = writer.finish().await?;
    if let Some(expected) = expected_md5 {
        if expected != staged.md5 {
            return Err(ApiError::new(ErrorCode::BadDigest));
        }
    }
    Ok(staged)
}

/// The conditional-write headers of a PUT (`If-Match`, `If-None-Match`).
fn write_condition(ctx: &Ctx) -> WriteCondition {
    WriteCondition {
        if_match: ctx.header("if-match").map(str::to_string),
        if_none_match: ctx.header("if-none-match").map(str::to_string),
    }
}

/// `PUT /key`.
pub async fn put_object(ctx: &Ctx, payload: &mut Payload<'_, '_>) -> ApiResult<Response> {
    let bucket = ctx.bucket()?;
    let key = ctx.key()?;
    validate_object_key(key)?;
    refuse_unsupported_headers(ctx)?;
    let attributes = attributes_from_request(ctx)?;
    let condition = write_condition(ctx);
    // The object's checksum is the one the client sends (verified as the body streams), or
    // the default CRC-64/NVME computed while staging.
    let compute = match payload.checksum_algorithm() {
        Some(_) => None,
        None => Some(DEFAULT_ALGORITHM),
    };
    let writer = ctx.state.store.object_writer(payload.length(), compute)?;
    let mut staged = stage_payload(ctx, payload, writer).await?;
    if let Some(verified) = payload.verified_checksum() {
        staged.checksum = Some(verified);
    }
    let version = ctx
        .state
        .store
        .put_object(bucket, key, staged, attributes, ctx.caller_uin(), condition)
        .await?;
    let mut response = Response::new(200).header("ETag", version.etag.clone());
    if ctx.dialect == Dialect::Cos {
        response.push_header("x-cos-hash-crc64ecma", version.crc64.to_string());
    }
    if let Some(checksum) = &version.checksum {
        push_object_checksum(ctx, &mut response, checksum);
    }
    Ok(response)
}

/// `GET /key` and `HEAD /key`, whole, a `Range` of it, or one part (`?partNumber=`).
pub async fn get_object(ctx: &Ctx, head: bool) -> ApiResult<Response> {
    check_version_param(ctx)?;
    let version = ctx.object()?;
    let rate = traffic_limit(ctx)?;
    let part_number = part_number_param(ctx)?;
    let range_header = ctx.header("range");
    if part_number.is_some() && range_header.is_some() {
        return Err(ApiError::with_message(
            ErrorCode::InvalidRequest,
            "Cannot specify both Range header and partNumber query parameter.",
        ));
    }
    let conditions = Conditions {
        if_match: ctx.header("if-match"),
        if_none_match: ctx.header("if-none-match"),
        if_modified_since: ctx.header("if-modified-since"),
        if_unmodified_since: ctx.header("if-unmodified-since"),
    };
    match conditions.evaluate(&version.etag, version.last_modified_ms) {
        Precondition::Proceed => {}
        Precondition::NotModified => {
            let mut response = Response::new(304)
                .header("ETag", version.etag.clone())
                .header(
                    "Last-Modified",
                    coffer_proto::time::http_date(version.last_modified_ms),
                );
            response.content_length_override = Some(0);
            return Ok(response);
        }
        Precondition::Failed => return Err(ErrorCode::PreconditionFailed.into()),
    }
    if matches!(
        version.attributes.storage_class.as_str(),
        "ARCHIVE" | "DEEP_ARCHIVE" | "GLACIER"
    ) && !head
    {
        return Err(ErrorCode::InvalidObjectState.into());
    }
    let part = part_number.map(|n| select_part(version, n)).transpose()?;
    let (status, start, len) = match (&part, range_header.and_then(ByteRange::parse)) {
        // A part is a range, even the whole of a one-part object (an empty one has none).
        (Some(part), _) => {
            let status = if version.size == 0 { 200 } else { 206 };
            (status, part.start, part.len)
        }
        (None, None) => (200, 0, version.size),
        (None, Some(range)) => match range.resolve(version.size) {
            ResolvedRange::Partial { start, len } => (206, start, len),
            ResolvedRange::Unsatisfiable => {
                let mut error = ApiError::new(ErrorCode::InvalidRange);
                error
                    .headers
                    .push(("Content-Range", format!("bytes */{}", version.size)));
                return Err(error);
            }
        },
    };
    let mut response = Response::new(status);
    write_object_headers(ctx, version, &mut response);
    if status == 206 {
        let last = start + len - 1;
        response.push_header(
            "Content-Range",
            format!("bytes {start}-{last}/{}", version.size),
        );
    }
    if let Some(count) = part.as_ref().and_then(|p| p.parts_count) {
        if ctx.dialect == Dialect::S3 {
            response.push_header("x-amz-mp-parts-count", count.to_string());
        }
    }
    if checksum_mode_enabled(ctx) {
        // The checksum of what is sent: the object's, or the part's; a byte range has none.
        match (&part, version.checksum.as_ref()) {
            (Some(part), _) => {
                if let Some((algorithm, value, kind)) = part.checksum.clone() {
                    push_checksum_headers(ctx, &mut response, algorithm, value, kind);
                }
            }
            (None, Some(checksum)) if status == 200 => {
                push_object_checksum(ctx, &mut response, checksum);
            }
            (None, _) => {}
        }
    }
    if head {
        response.content_length_override = Some(len);
    } else {
        let mut reader = ctx.state.store.read_object(version, start, len).await?;
        if let Some(bits_per_second) = rate {
            reader.limit_rate(bits_per_second);
        }
        response.body = ResponseBody::Stream { len, reader };
    }
    Ok(response)
}

/// `DELETE /key`: idempotent, 204 whether or not the key existed.
pub async fn delete_object(ctx: &Ctx) -> ApiResult<Response> {
    let bucket = ctx.bucket()?;
    check_version_param(ctx)?;
    let key = ctx.key()?;
    ctx.state.store.delete_object(bucket, key).await?;
    Ok(Response::new(204))
}

/// `GET /key?acl`.
pub async fn get_object_acl(ctx: &Ctx) -> ApiResult<Response> {
    check_version_param(ctx)?;
    let bucket = ctx.bucket()?;
    let version = ctx.object()?;
    let mut response = Response::xml(
        200,
        acl_document(
            ctx,
            &version.owner_uin,
            &version.attributes.acl,
            &bucket.owner_uin,
        ),
    );
    let canned = version.attributes.acl.canned.as_str();
    if ctx.dialect == Dialect::Cos && (canned.is_empty() || canned == "default") {
        response.push_header("x-cos-acl", "default");
    }
    Ok(response)
}

/// The ETag of a staged body (used by part uploads).
pub fn staged_etag(staged: &StagedData) -> String {
    etag_from_md5(&staged.md5)
}
