//! Multipart upload: initiate, upload part, upload part copy, list parts, complete, abort,
//! and list uploads.

use super::checksums::{
    push_checksum_headers, stated_object_checksum, upload_checksum, write_checksum_elements,
};
use super::copy::checked_source;
use super::object::{stage_payload, staged_etag};
use super::{
    attributes_from_request, listing_text, parse_max, read_document, refuse_unsupported_headers,
    url_encoding, write_owner,
};
use crate::context::Ctx;
use crate::error::{checksum_type_mismatch, ApiError, ApiResult};
use crate::http::Response;
use crate::payload::Payload;
use coffer_proto::checksum::{encode_checksum, ChecksumAlgorithm, ChecksumType};
use coffer_proto::names::{parse_part_number, validate_object_key};
use coffer_proto::range::ByteRange;
use coffer_proto::xml::XmlWriter;
use coffer_proto::{Dialect, ErrorCode};
use coffer_store::meta::{UploadEntry, UploadListQuery};
use coffer_store::model::{PartRecord, UploadChecksum, WriteCondition};
use coffer_store::{CompletionChecks, RequestedPart};

fn upload_id(ctx: &Ctx) -> ApiResult<&str> {
    match ctx.param("uploadId") {
        Some(id) if !id.is_empty() => Ok(id),
        _ => Err(ErrorCode::NoSuchUpload.into()),
    }
}

/// `POST /key?uploads`.
pub async fn create(ctx: &Ctx) -> ApiResult<Response> {
    let bucket = ctx.bucket()?;
    let key = ctx.key()?;
    validate_object_key(key)?;
    refuse_unsupported_headers(ctx)?;
    let attributes = attributes_from_request(ctx)?;
    let checksum = upload_checksum(ctx)?;
    let upload = ctx
        .state
        .store
        .create_upload(bucket, key, attributes, ctx.caller_uin(), checksum)
        .await?;
    let mut w = XmlWriter::new();
    w.open("InitiateMultipartUploadResult")
        .leaf("Bucket", &bucket.name)
        .leaf("Key", key)
        .leaf("UploadId", &upload.upload_id)
        .close("InitiateMultipartUploadResult");
    let mut response = Response::xml(200, w.finish());
    if checksum.requested && ctx.dialect == Dialect::S3 {
        response.push_header("x-amz-checksum-algorithm", checksum.algorithm.name());
        response.push_header("x-amz-checksum-type", checksum.kind.as_str());
    }
    Ok(response)
}

/// Which checksum a part must get, given the upload's and the one the client sends: the
/// upload's algorithm is the part's. A client may send none when the upload computes the
/// checksum itself (FULL_OBJECT, or the default), or another algorithm only to a default
/// upload; otherwise `400 InvalidRequest`, as S3. Returns the algorithm staging must
/// compute (`None` when the client's checksum, verified as the body streams, is the one).
fn part_checksum_plan(
    upload: Option<&UploadChecksum>,
    sent: Option<ChecksumAlgorithm>,
) -> ApiResult<Option<ChecksumAlgorithm>> {
    let Some(upload) = upload else {
        // An upload begun before checksums were recorded keeps none.
        return Ok(None);
    };
    match sent {
        Some(algorithm) if algorithm == upload.algorithm => Ok(None),
        Some(other) if upload.requested => {
            Err(checksum_type_mismatch(Some(upload.algorithm), Some(other)))
        }
        None if upload.requested && upload.kind == ChecksumType::Composite => {
            Err(checksum_type_mismatch(Some(upload.algorithm), None))
        }
        _ => Ok(Some(upload.algorithm)),
    }
}

/// `PUT /key?partNumber&uploadId`.
pub async fn upload_part(ctx: &Ctx, payload: &mut Payload<'_, '_>) -> ApiResult<Response> {
    let bucket = ctx.bucket()?;
    let key = ctx.key()?;
    let part_number = parse_part_number(ctx.param("partNumber").unwrap_or_default())?;
    let upload_id = upload_id(ctx)?;
    refuse_unsupported_headers(ctx)?;
    // Refuse early, before receiving a body destined for nothing.
    let upload = ctx.state.store.upload(bucket, key, upload_id).await?;
    let compute = part_checksum_plan(upload.checksum.as_ref(), payload.checksum_algorithm())?;
    let writer = ctx.state.store.part_writer(payload.length(), compute)?;
    let mut staged = stage_payload(ctx, payload, writer).await?;
    let sent = payload.verified_checksum();
    if compute.is_none() {
        staged.checksum = sent.clone().filter(|_| upload.checksum.is_some());
    }
    let etag = staged_etag(&staged);
    let crc = staged.crc64;
    let part = ctx
        .state
        .store
        .put_part(bucket, key, upload_id, part_number, staged)
        .await?;
    let mut response = Response::new(200).header("ETag", etag);
    if ctx.dialect == Dialect::Cos {
        response.push_header("x-cos-hash-crc64ecma", crc.to_string());
    }
    // The checksum the client sent, and the part's own when it is in another algorithm.
    if let Some((algorithm, digest)) = &sent {
        response.push_header(algorithm.header_name(), encode_checksum(digest));
    }
    if let (Some(upload_checksum), Some(digest)) = (upload.checksum, &part.checksum) {
        if sent.as_ref().map(|(a, _)| *a) != Some(upload_checksum.algorithm) {
            push_checksum_headers(
                ctx,
                &mut response,
                upload_checksum.algorithm,
                encode_checksum(digest),
                upload_checksum.kind,
            );
        }
    }
    Ok(response)
}

/// `PUT /key?partNumber&uploadId` with a copy source.
pub async fn upload_part_copy(ctx: &Ctx) -> ApiResult<Response> {
    let bucket = ctx.bucket()?;
    let key = ctx.key()?;
    let part_number = parse_part_number(ctx.param("partNumber").unwrap_or_default())?;
    let upload_id = upload_id(ctx)?;
    let upload = ctx.state.store.upload(bucket, key, upload_id).await?;
    let source = &checked_source(ctx)?.version;
    let (start, len) = match ctx
        .vendor_header("copy-source-range")
        .filter(|r| !r.is_empty())
    {
        None => (0, source.size),
        Some(range) => match ByteRange::parse(range) {
            Some(ByteRange::FromTo {
                first,
                last: Some(last),
            }) if last < source.size => (first, last - first + 1),
            Some(_) => return Err(ApiError::new(ErrorCode::InvalidRange)),
            None => {
                return Err(ApiError::with_message(
                    ErrorCode::InvalidArgument,
                    "The copy-source-range value must be of the form bytes=first-last.",
                ))
            }
        },
    };
    let part = ctx
        .state
        .store
        .copy_part(bucket, key, upload_id, part_number, source, (start, len))
        .await?;
    let mut w = XmlWriter::new();
    w.open("CopyPartResult").leaf("ETag", &part.etag()).leaf(
        "LastModified",
        &coffer_proto::time::iso8601_millis(part.last_modified_ms),
    );
    write_part_checksum(ctx, &mut w, upload.checksum.as_ref(), &part);
    w.close("CopyPartResult");
    Ok(Response::xml(200, w.finish()))
}

/// `GET /key?uploadId`.
pub async fn list_parts(ctx: &Ctx) -> ApiResult<Response> {
    let bucket = ctx.bucket()?;
    let key = ctx.key()?;
    let upload_id = upload_id(ctx)?;
    let upload = ctx.state.store.upload(bucket, key, upload_id).await?;
    let marker = match ctx.param("part-number-marker") {
        None | Some("") => 0,
        Some(m) => m.trim().parse::<u32>().map_err(|_| {
            ApiError::with_message(
                ErrorCode::InvalidArgument,
                "part-number-marker is not a valid number.",
            )
        })?,
    };
    let max = parse_max(ctx, "max-parts", 1000, 1000)?;
    let encode = url_encoding(ctx)?;
    let (parts, truncated) = ctx
        .state
        .store
        .parts(bucket, key, upload_id, marker, max)
        .await?;
    let mut w = XmlWriter::new();
    w.open("ListPartsResult").leaf("Bucket", &bucket.name);
    if encode {
        w.leaf("EncodingType", "url");
    }
    w.leaf("Key", &listing_text(ctx.dialect, encode, key))
        .leaf("UploadId", upload_id);
    write_owner(&mut w, "Initiator", ctx, &upload.owner_uin);
    write_owner(&mut w, "Owner", ctx, &upload.owner_uin);
    w.leaf("StorageClass", &upload.attributes.storage_class);
    if let Some(checksum) = upload.checksum.filter(|c| c.requested) {
        if ctx.dialect == Dialect::S3 {
            w.leaf("ChecksumAlgorithm", checksum.algorithm.name())
                .leaf("ChecksumType", checksum.kind.as_str());
        }
    }
    w.leaf("PartNumberMarker", &marker.to_string());
    let next = parts.last().map_or(marker, |p| p.part_number);
    w.leaf("NextPartNumberMarker", &next.to_string())
        .leaf("MaxParts", &max.to_string())
        .leaf("IsTruncated", if truncated { "true" } else { "false" });
    for part in &parts {
        w.open("Part")
            .leaf("PartNumber", &part.part_number.to_string())
            .leaf(
                "LastModified",
                &coffer_proto::time::iso8601_millis(part.last_modified_ms),
            )
            .leaf("ETag", &part.etag())
            .leaf("Size", &part.size.to_string());
        write_part_checksum(ctx, &mut w, upload.checksum.as_ref(), part);
        w.close("Part");
    }
    w.close("ListPartsResult");
    Ok(Response::xml(200, w.finish()))
}

/// Writes a part's `<ChecksumCRC32>` (…) into an S3 document.
fn write_part_checksum(
    ctx: &Ctx,
    w: &mut XmlWriter,
    upload: Option<&UploadChecksum>,
    part: &PartRecord,
) {
    if let (Dialect::S3, Some(upload), Some(digest)) = (ctx.dialect, upload, &part.checksum) {
        w.leaf(upload.algorithm.xml_element(), &encode_checksum(digest));
    }
}

/// Parses a CompleteMultipartUpload body: a `<CompleteMultipartUpload>` root with at least
/// one `<Part>` (each with a numeric `<PartNumber>` and an `<ETag>`), part numbers strictly
/// ascending.
pub fn parse_complete(body: &[u8]) -> ApiResult<Vec<RequestedPart>> {
    let root = coffer_proto::xml::parse(body)?;
    if root.name != "CompleteMultipartUpload" {
        return Err(ErrorCode::MalformedXML.into());
    }
    let mut parts = Vec::new();
    for part in root.children_named("Part") {
        let number = part
            .child_text("PartNumber")
            .and_then(|n| n.trim().parse::<u32>().ok())
            .ok_or(ErrorCode::MalformedXML)?;
        let etag = part.child_text("ETag").ok_or(ErrorCode::MalformedXML)?;
        let checksum = ChecksumAlgorithm::ALL.into_iter().find_map(|algorithm| {
            part.child_text(algorithm.xml_element())
                .map(|value| (algorithm, value.trim().to_string()))
        });
        parts.push(RequestedPart {
            part_number: number,
            etag: etag.trim().to_string(),
            checksum,
        });
    }
    if parts.is_empty() {
        return Err(ApiError::with_message(
            ErrorCode::MalformedXML,
            "You must specify at least one part.",
        ));
    }
    if parts
        .windows(2)
        .any(|w| w[0].part_number >= w[1].part_number)
    {
        return Err(ErrorCode::InvalidPartOrder.into());
    }
    Ok(parts)
}

/// The conditional-write headers of a completion, checked atomically with its commit:
/// `If-Match` (an ETag list) and `If-None-Match`, which S3 accepts only as `*` (other values
/// answer 501, as S3 does).
fn completion_condition(ctx: &Ctx) -> ApiResult<WriteCondition> {
    let if_none_match = ctx.header("if-none-match").map(str::trim);
    if if_none_match.is_some_and(|value| value != "*") {
        return Err(ApiError::with_message(
            ErrorCode::NotImplemented,
            "CompleteMultipartUpload accepts only If-None-Match: *.",
        ));
    }
    Ok(WriteCondition {
        if_match: ctx.header("if-match").map(str::to_string),
        if_none_match: if_none_match.map(str::to_string),
    })
}

/// `POST /key?uploadId`. Sent again with the same parts after it succeeded (a client whose
/// answer was lost retries), it answers the same document again.
pub async fn complete(ctx: &Ctx, payload: &mut Payload<'_, '_>) -> ApiResult<Response> {
    let bucket = ctx.bucket()?;
    let key = ctx.key()?;
    let upload_id = upload_id(ctx)?.to_string();
    let body = read_document(ctx, payload).await?;
    ctx.state
        .store
        .check_completable(bucket, key, &upload_id)
        .await?;
    let condition = completion_condition(ctx)?;
    let (checksum, checksum_type) = stated_object_checksum(ctx)?;
    let checks = CompletionChecks {
        condition,
        checksum,
        checksum_type,
    };
    let parts = parse_complete(&body)?;
    let completed = ctx
        .state
        .store
        .complete_upload(
            bucket,
            key,
            &upload_id,
            &parts,
            ctx.state.config.min_part_size,
            checks,
        )
        .await?;
    let location = match ctx.dialect {
        Dialect::Cos => format!(
            "{}.cos.{}.myqcloud.com/{}",
            bucket.name, ctx.state.config.region, key
        ),
        Dialect::S3 => format!("/{}/{}", bucket.name, key),
    };
    let mut w = XmlWriter::new();
    w.open("CompleteMultipartUploadResult")
        .leaf("Location", &location)
        .leaf("Bucket", &bucket.name)
        .leaf("Key", key)
        .leaf("ETag", &completed.etag);
    if let Some(checksum) = &completed.checksum {
        write_checksum_elements(ctx, &mut w, checksum);
    }
    w.close("CompleteMultipartUploadResult");
    let mut response = Response::xml(200, w.finish());
    if ctx.dialect == Dialect::Cos {
        response.push_header("x-cos-hash-crc64ecma", completed.crc64.to_string());
    }
    Ok(response)
}

/// `DELETE /key?uploadId`.
pub async fn abort(ctx: &Ctx) -> ApiResult<Response> {
    let bucket = ctx.bucket()?;
    let key = ctx.key()?;
    ctx.state
        .store
        .abort_upload(bucket, key, upload_id(ctx)?)
        .await?;
    Ok(Response::new(204))
}

/// `GET /?uploads`.
pub async fn list_uploads(ctx: &Ctx) -> ApiResult<Response> {
    let bucket = ctx.bucket()?;
    let encode = url_encoding(ctx)?;
    let query = UploadListQuery {
        prefix: ctx.param("prefix").unwrap_or_default().to_string(),
        delimiter: ctx
            .param("delimiter")
            .filter(|d| !d.is_empty())
            .map(str::to_string),
        key_marker: ctx.param("key-marker").map(str::to_string),
        upload_id_marker: ctx.param("upload-id-marker").map(str::to_string),
        max_uploads: parse_max(ctx, "max-uploads", 1000, 1000)?,
    };
    let page = ctx.state.store.list_uploads(bucket, &query).await?;
    let text = |v: &str| listing_text(ctx.dialect, encode, v);
    let mut w = XmlWriter::new();
    w.open("ListMultipartUploadsResult")
        .leaf("Bucket", &bucket.name);
    if encode {
        w.leaf("EncodingType", "url");
    }
    w.leaf(
        "KeyMarker",
        &text(query.key_marker.as_deref().unwrap_or_default()),
    )
    .leaf(
        "UploadIdMarker",
        query.upload_id_marker.as_deref().unwrap_or_default(),
    );
    if page.is_truncated {
        w.leaf(
            "NextKeyMarker",
            &text(page.next_key_marker.as_deref().unwrap_or_default()),
        )
        .leaf(
            "NextUploadIdMarker",
            page.next_upload_id_marker.as_deref().unwrap_or_default(),
        );
    }
    w.leaf("MaxUploads", &query.max_uploads.to_string())
        .leaf("Prefix", &text(&query.prefix));
    if let Some(d) = &query.delimiter {
        w.leaf("Delimiter", d);
    }
    w.leaf(
        "IsTruncated",
        if page.is_truncated { "true" } else { "false" },
    );
    let mut prefixes = Vec::new();
    for entry in &page.entries {
        match entry {
            UploadEntry::Upload(upload) => {
                w.open("Upload")
                    .leaf("Key", &text(&upload.key))
                    .leaf("UploadId", &upload.upload_id)
                    .leaf("StorageClass", &upload.attributes.storage_class);
                write_owner(&mut w, "Initiator", ctx, &upload.owner_uin);
                write_owner(&mut w, "Owner", ctx, &upload.owner_uin);
                w.leaf(
                    "Initiated",
                    &coffer_proto::time::iso8601_millis(upload.initiated_ms),
                )
                .close("Upload");
            }
            UploadEntry::CommonPrefix(prefix) => prefixes.push(prefix),
        }
    }
    for prefix in prefixes {
        w.open("CommonPrefixes")
            .leaf("Prefix", &text(prefix))
            .close("CommonPrefixes");
    }
    w.close("ListMultipartUploadsResult");
    Ok(Response::xml(200, w.finish()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_complete_bodies() {
        let body = br#"<?xml version="1.0" encoding="utf-8"?><CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&quot;a&quot;</ETag></Part><Part><PartNumber>3</PartNumber><ETag>b</ETag></Part></CompleteMultipartUpload>"#;
        let parts = parse_complete(body).expect("parses");
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].etag, "\"a\"");
        let unordered = br#"<CompleteMultipartUpload><Part><PartNumber>2</PartNumber><ETag>a</ETag></Part><Part><PartNumber>1</PartNumber><ETag>b</ETag></Part></CompleteMultipartUpload>"#;
        assert_eq!(
            parse_complete(unordered).map_err(|e| e.code).err(),
            Some(ErrorCode::InvalidPartOrder)
        );
        for bad in [
            &b"<CompleteMultipartUpload/>"[..],
            b"<X/>",
            b"<CompleteMultipartUpload><Part><ETag>a</ETag></Part></CompleteMultipartUpload>",
            b"junk",
        ] {
            assert_eq!(
                parse_complete(bad).map_err(|e| e.code).err(),
                Some(ErrorCode::MalformedXML)
            );
        }
    }
}
