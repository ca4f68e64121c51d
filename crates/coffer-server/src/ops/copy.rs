//! PUT Object - Copy, and the copy-source parsing shared with UploadPartCopy.

use super::checksums::{requested_algorithm, write_checksum_elements};
use super::{
    acl_from_request, attributes_from_request, refuse_unsupported_headers, AclTarget, Conditions,
    Precondition,
};
use crate::access::CopySourceObject;
use crate::addressing::Addressing;
use crate::context::Ctx;
use crate::error::{ApiError, ApiResult};
use crate::http::Response;
use coffer_proto::encoding::decode_path;
use coffer_proto::names::{parse_storage_class, validate_object_key};
use coffer_proto::xml::XmlWriter;
use coffer_proto::{Dialect, ErrorCode};

/// A parsed copy source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopySourceRef {
    /// Source bucket.
    pub bucket: String,
    /// Source key (decoded).
    pub key: String,
    /// Requested version, if any.
    pub version_id: Option<String>,
}

/// Parses `x-cos-copy-source` (`<bucket>.cos.<region>.myqcloud.com/<key>[?versionId=]`,
/// optionally with a scheme) or `x-amz-copy-source` (`[/]<bucket>/<key>[?versionId=]`).
/// Host-form sources resolve their bucket by the server's addressing rules.
pub fn parse_copy_source(addressing: &Addressing, value: &str) -> ApiResult<CopySourceRef> {
    let invalid = || {
        ApiError::with_message(
            ErrorCode::InvalidArgument,
            "Copy Source must mention the source bucket and key: sourcebucket/sourcekey.",
        )
    };
    let value = value.trim();
    let value = value
        .strip_prefix("http://")
        .or_else(|| value.strip_prefix("https://"))
        .unwrap_or(value);
    let (path, query) = value.split_once('?').unwrap_or((value, ""));
    let version_id = coffer_proto::query::Query::parse(query)
        .get("versionId")
        .map(|v| String::from_utf8_lossy(v).into_owned());
    let path = path.strip_prefix('/').unwrap_or(path);
    let (first, rest) = path.split_once('/').ok_or_else(invalid)?;
    let bucket = match addressing.bucket_from_host(&first.to_ascii_lowercase()) {
        Some(bucket) => bucket,
        None => decode_path(first).ok_or_else(invalid)?,
    };
    let key = decode_path(rest).ok_or_else(invalid)?;
    if bucket.is_empty() || key.is_empty() {
        return Err(invalid());
    }
    Ok(CopySourceRef {
        bucket,
        key,
        version_id,
    })
}

/// The copy source the pipeline authorized, after its `copy-source-If-*` conditions and
/// its version and storage class are checked.
pub fn checked_source(ctx: &Ctx) -> ApiResult<&CopySourceObject> {
    let source = ctx
        .resources
        .source
        .as_ref()
        .ok_or_else(|| ApiError::new(ErrorCode::InvalidRequest))?;
    if source
        .location
        .version_id
        .as_deref()
        .is_some_and(|v| v != "null")
    {
        return Err(ApiError::new(ErrorCode::NoSuchVersion));
    }
    let version = &source.version;
    let conditions = Conditions {
        if_match: ctx.vendor_header("copy-source-if-match"),
        if_none_match: ctx.vendor_header("copy-source-if-none-match"),
        if_modified_since: ctx.vendor_header("copy-source-if-modified-since"),
        if_unmodified_since: ctx.vendor_header("copy-source-if-unmodified-since"),
    };
    if conditions.evaluate(&version.etag, version.last_modified_ms) != Precondition::Proceed {
        return Err(ErrorCode::PreconditionFailed.into());
    }
    if matches!(
        version.attributes.storage_class.as_str(),
        "ARCHIVE" | "DEEP_ARCHIVE" | "GLACIER"
    ) {
        return Err(ErrorCode::InvalidObjectState.into());
    }
    Ok(source)
}

/// `PUT /key` with a copy source.
pub async fn copy_object(ctx: &Ctx) -> ApiResult<Response> {
    let bucket = ctx.bucket()?;
    let key = ctx.key()?;
    validate_object_key(key)?;
    refuse_unsupported_headers(ctx)?;
    let CopySourceObject {
        location,
        bucket: source_bucket,
        version: source,
    } = checked_source(ctx)?;
    let replace = match ctx.vendor_header("metadata-directive") {
        None => false,
        Some(d) if d.eq_ignore_ascii_case("copy") => false,
        Some(d) if d.eq_ignore_ascii_case("replaced") || d.eq_ignore_ascii_case("replace") => true,
        Some(_) => {
            return Err(ApiError::with_message(
                ErrorCode::InvalidArgument,
                "Unknown metadata directive.",
            ))
        }
    };
    let mut attributes = if replace {
        attributes_from_request(ctx)?
    } else {
        let mut attributes = source.attributes.clone();
        attributes.acl = acl_from_request(ctx, AclTarget::Object)?;
        attributes.storage_class = match ctx.vendor_header("storage-class") {
            Some(class) => parse_storage_class(class)?.to_string(),
            None => "STANDARD".to_string(),
        };
        attributes
    };
    if attributes.storage_class.is_empty() {
        attributes.storage_class = "STANDARD".into();
    }
    let same_object = source_bucket.id == bucket.id && location.key == key;
    if same_object && !replace && attributes.storage_class == source.attributes.storage_class {
        return Err(ApiError::with_message(
            ErrorCode::InvalidRequest,
            "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
        ));
    }
    let checksum = requested_algorithm(ctx)?;
    let version = ctx
        .state
        .store
        .copy_object(source, bucket, key, attributes, ctx.caller_uin(), checksum)
        .await?;
    let mut w = XmlWriter::new();
    w.open("CopyObjectResult").leaf("ETag", &version.etag).leaf(
        "LastModified",
        &coffer_proto::time::iso8601_millis(version.last_modified_ms),
    );
    if ctx.dialect == Dialect::Cos {
        w.leaf("CRC64", &version.crc64.to_string());
    }
    if let Some(checksum) = &version.checksum {
        write_checksum_elements(ctx, &mut w, checksum);
    }
    w.close("CopyObjectResult");
    let mut response = Response::xml(200, w.finish());
    if ctx.dialect == Dialect::Cos {
        response.push_header("x-cos-hash-crc64ecma", version.crc64.to_string());
    }
    Ok(response)
}
