//! GET Bucket: ListObjects (V1, what the COS SDK uses) and ListObjectsV2 (S3 clients).

use super::{listing_text, parse_max, url_encoding, write_owner};
use crate::context::Ctx;
use crate::error::{ApiError, ApiResult};
use crate::http::Response;
use base64::Engine as _;
use coffer_proto::xml::XmlWriter;
use coffer_proto::ErrorCode;
use coffer_store::meta::{ListEntry, ListPage, ListQuery};
use coffer_store::model::ObjectVersion;

fn write_contents(
    w: &mut XmlWriter,
    ctx: &Ctx,
    encode: bool,
    key: &str,
    version: &ObjectVersion,
    owner: bool,
) {
    w.open("Contents")
        .leaf("Key", &listing_text(ctx.dialect, encode, key))
        .leaf(
            "LastModified",
            &coffer_proto::time::iso8601_millis(version.last_modified_ms),
        )
        .leaf("ETag", &version.etag)
        .leaf("Size", &version.size.to_string());
    if owner {
        write_owner(w, "Owner", ctx, &version.owner_uin);
    }
    w.leaf("StorageClass", &version.attributes.storage_class)
        .close("Contents");
}

fn write_entries(w: &mut XmlWriter, ctx: &Ctx, encode: bool, page: &ListPage, owner: bool) {
    let mut prefixes = Vec::new();
    for entry in &page.entries {
        match entry {
            ListEntry::Object { key, version } => {
                write_contents(w, ctx, encode, key, version, owner)
            }
            ListEntry::CommonPrefix(prefix) => prefixes.push(prefix),
        }
    }
    for prefix in prefixes {
        w.open("CommonPrefixes")
            .leaf("Prefix", &listing_text(ctx.dialect, encode, prefix))
            .close("CommonPrefixes");
    }
}

/// `GET /` on a bucket (V1).
pub async fn list_objects(ctx: &Ctx) -> ApiResult<Response> {
    let bucket = ctx.bucket()?;
    let encode = url_encoding(ctx)?;
    let query = ListQuery {
        prefix: ctx.param("prefix").unwrap_or_default().to_string(),
        delimiter: ctx
            .param("delimiter")
            .filter(|d| !d.is_empty())
            .map(str::to_string),
        marker: ctx.param("marker").map(str::to_string),
        max_keys: parse_max(ctx, "max-keys", 1000, 1000)?,
    };
    let page = ctx.state.store.list_objects(bucket, &query).await?;
    let mut w = XmlWriter::new();
    w.open("ListBucketResult").leaf("Name", &bucket.name);
    if encode {
        w.leaf("EncodingType", "url");
    }
    // V1 <Prefix>: the COS SDK decodes it, botocore does not (S3 echoes it unencoded).
    let v1_prefix = match ctx.dialect {
        coffer_proto::Dialect::Cos => listing_text(ctx.dialect, encode, &query.prefix),
        coffer_proto::Dialect::S3 => query.prefix.clone(),
    };
    w.leaf("Prefix", &v1_prefix)
        .leaf(
            "Marker",
            &listing_text(
                ctx.dialect,
                encode,
                query.marker.as_deref().unwrap_or_default(),
            ),
        )
        .leaf("MaxKeys", &query.max_keys.to_string());
    if let Some(delimiter) = &query.delimiter {
        w.leaf("Delimiter", delimiter);
    }
    w.leaf(
        "IsTruncated",
        if page.is_truncated { "true" } else { "false" },
    );
    if let Some(next) = &page.next_marker {
        w.leaf("NextMarker", &listing_text(ctx.dialect, encode, next));
    }
    write_entries(&mut w, ctx, encode, &page, true);
    w.close("ListBucketResult");
    Ok(Response::xml(200, w.finish()))
}

/// `GET /?list-type=2`.
pub async fn list_objects_v2(ctx: &Ctx) -> ApiResult<Response> {
    let bucket = ctx.bucket()?;
    if ctx.param("list-type") != Some("2") {
        return Err(ApiError::with_message(
            ErrorCode::InvalidArgument,
            "list-type must be 2.",
        ));
    }
    let encode = url_encoding(ctx)?;
    let token = ctx.param("continuation-token");
    let start_after = ctx.param("start-after").filter(|s| !s.is_empty());
    let marker = match token {
        Some(token) => Some(decode_token(token)?),
        None => start_after.map(str::to_string),
    };
    let query = ListQuery {
        prefix: ctx.param("prefix").unwrap_or_default().to_string(),
        delimiter: ctx
            .param("delimiter")
            .filter(|d| !d.is_empty())
            .map(str::to_string),
        marker,
        max_keys: parse_max(ctx, "max-keys", 1000, 1000)?,
    };
    let fetch_owner = ctx
        .param("fetch-owner")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let page = ctx.state.store.list_objects(bucket, &query).await?;
    let mut w = XmlWriter::new();
    w.open("ListBucketResult").leaf("Name", &bucket.name);
    w.leaf("Prefix", &listing_text(ctx.dialect, encode, &query.prefix))
        .leaf("MaxKeys", &query.max_keys.to_string())
        .leaf("KeyCount", &page.entries.len().to_string());
    if let Some(delimiter) = &query.delimiter {
        w.leaf("Delimiter", delimiter);
    }
    if encode {
        w.leaf("EncodingType", "url");
    }
    w.leaf(
        "IsTruncated",
        if page.is_truncated { "true" } else { "false" },
    );
    if let Some(token) = token {
        w.leaf("ContinuationToken", token);
    }
    if let Some(next) = &page.next_marker {
        w.leaf("NextContinuationToken", &encode_token(next));
    }
    if let Some(start_after) = start_after {
        w.leaf(
            "StartAfter",
            &listing_text(ctx.dialect, encode, start_after),
        );
    }
    write_entries(&mut w, ctx, encode, &page, fetch_owner);
    w.close("ListBucketResult");
    Ok(Response::xml(200, w.finish()))
}

fn encode_token(marker: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(marker.as_bytes())
}

fn decode_token(token: &str) -> ApiResult<String> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.trim())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(|| {
            ApiError::with_message(
                ErrorCode::InvalidArgument,
                "The continuation token provided is incorrect.",
            )
        })
}
