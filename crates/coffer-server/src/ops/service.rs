//! GET Service: the caller's buckets, filtered and paged. S3 clients page with
//! `max-buckets` / `continuation-token` (and filter by `prefix` / `bucket-region`); COS
//! clients page with `marker` / `max-keys` (and filter by `region`, `create-time` + `range`,
//! `tagkey` / `tagvalue`).

use super::write_owner;
use crate::context::Ctx;
use crate::error::{ApiError, ApiResult};
use crate::http::Response;
use base64::Engine as _;
use coffer_proto::xml::XmlWriter;
use coffer_proto::{Dialect, ErrorCode};
use coffer_store::model::BucketRecord;

/// Most buckets one page may hold.
const MAX_PAGE: usize = 10_000;

/// Which buckets a listing asks for, and from where.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct BucketQuery {
    prefix: Option<String>,
    region: Option<String>,
    /// Start after this bucket name.
    after: Option<String>,
    /// Page size; `None` = everything.
    limit: Option<usize>,
    /// `create-time` (Unix seconds) and `range` (`lt`, `gt`, `lte`, `gte`).
    created: Option<(i64, String)>,
    /// A tag filter: no bucket has tags yet, so it matches none.
    tagged: bool,
}

/// `GET /` without a bucket.
pub async fn list_buckets(ctx: &Ctx) -> ApiResult<Response> {
    let caller = ctx
        .caller
        .as_ref()
        .ok_or_else(|| ApiError::new(ErrorCode::AccessDenied))?;
    let query = parse_query(ctx)?;
    let mut buckets = ctx.state.store.buckets_of(&caller.uin).await?;
    buckets.sort_by(|a, b| a.name.cmp(&b.name));
    buckets.retain(|bucket| query.matches(bucket));
    let truncated = query.limit.is_some_and(|limit| buckets.len() > limit);
    if let Some(limit) = query.limit {
        buckets.truncate(limit);
    }
    let last = buckets.last().map(|b| b.name.clone()).filter(|_| truncated);

    let mut w = XmlWriter::new();
    w.open("ListAllMyBucketsResult");
    write_owner(&mut w, "Owner", ctx, &caller.uin);
    w.open("Buckets");
    for bucket in &buckets {
        w.open("Bucket")
            .leaf("Name", &bucket.name)
            .leaf("Location", &bucket.region)
            .leaf(
                "CreationDate",
                &coffer_proto::time::iso8601_millis(bucket.created_ms),
            );
        match ctx.dialect {
            Dialect::Cos => w.leaf("BucketType", "cos"),
            Dialect::S3 => w.leaf("BucketRegion", &bucket.region),
        };
        w.close("Bucket");
    }
    w.close("Buckets");
    match ctx.dialect {
        Dialect::S3 => {
            if let Some(last) = &last {
                w.leaf("ContinuationToken", &encode_token(last));
            }
            if let Some(prefix) = &query.prefix {
                w.leaf("Prefix", prefix);
            }
        }
        Dialect::Cos => {
            if query.limit.is_some() || query.after.is_some() {
                w.leaf("Marker", query.after.as_deref().unwrap_or_default());
                if let Some(limit) = query.limit {
                    w.leaf("MaxKeys", &limit.to_string());
                }
                w.leaf("IsTruncated", if truncated { "true" } else { "false" });
                if let Some(last) = &last {
                    w.leaf("NextMarker", last);
                }
            }
        }
    }
    w.close("ListAllMyBucketsResult");
    Ok(Response::xml(200, w.finish()))
}

impl BucketQuery {
    fn matches(&self, bucket: &BucketRecord) -> bool {
        let prefix = self
            .prefix
            .as_deref()
            .is_none_or(|p| bucket.name.starts_with(p));
        let region = self.region.as_deref().is_none_or(|r| bucket.region == r);
        let after = self
            .after
            .as_deref()
            .is_none_or(|a| bucket.name.as_str() > a);
        let created = self.created.as_ref().is_none_or(|(time, range)| {
            let created = bucket.created_ms / 1000;
            match range.as_str() {
                "lt" => created < *time,
                "gt" => created > *time,
                "lte" => created <= *time,
                _ => created >= *time,
            }
        });
        prefix && region && after && created && !self.tagged
    }
}

fn parse_query(ctx: &Ctx) -> ApiResult<BucketQuery> {
    let invalid = |message: &str| ApiError::with_message(ErrorCode::InvalidArgument, message);
    let text = |name: &str| {
        ctx.param(name)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    let mut query = BucketQuery {
        prefix: text("prefix"),
        region: text("bucket-region").or_else(|| text("region")),
        tagged: text("tagkey").is_some() || text("tagvalue").is_some(),
        ..BucketQuery::default()
    };
    // S3: max-buckets 1..=10000, an opaque continuation token.
    if let Some(max) = text("max-buckets") {
        let max: usize = max
            .parse()
            .ok()
            .filter(|n| (1..=MAX_PAGE).contains(n))
            .ok_or_else(|| invalid("max-buckets must be between 1 and 10000."))?;
        query.limit = Some(max);
    }
    if let Some(token) = text("continuation-token") {
        query.after = Some(
            decode_token(&token).ok_or_else(|| invalid("The continuation token is not valid."))?,
        );
    }
    // COS: marker and max-keys (0 or absent = no paging).
    if let Some(marker) = text("marker") {
        query.after = Some(marker);
    }
    if let Some(max) = text("max-keys") {
        let max: usize = max
            .parse()
            .map_err(|_| invalid("max-keys is not a valid number."))?;
        if max > 0 {
            query.limit = Some(max.min(MAX_PAGE));
        }
    }
    match (text("create-time"), text("range")) {
        (None, None) => {}
        (Some(time), Some(range)) if matches!(range.as_str(), "lt" | "gt" | "lte" | "gte") => {
            let time = time
                .parse()
                .map_err(|_| invalid("create-time must be Unix seconds."))?;
            query.created = Some((time, range));
        }
        _ => {
            return Err(invalid(
                "create-time and range (lt, gt, lte, gte) go together.",
            ))
        }
    }
    Ok(query)
}

fn encode_token(name: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(name)
}

fn decode_token(token: &str) -> Option<String> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()?;
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_garbage_is_refused() {
        let token = encode_token("bucket-1250000000");
        assert_eq!(decode_token(&token).as_deref(), Some("bucket-1250000000"));
        assert_eq!(decode_token("%%%"), None);
    }

    #[test]
    fn filters() {
        let bucket = BucketRecord {
            name: "photos-1".into(),
            id: 1,
            owner_uin: "1".into(),
            region: "ap-guangzhou".into(),
            created_ms: 1_000_000,
            acl: Default::default(),
        };
        let all = BucketQuery::default();
        assert!(all.matches(&bucket));
        let other_prefix = BucketQuery {
            prefix: Some("logs".into()),
            ..BucketQuery::default()
        };
        assert!(!other_prefix.matches(&bucket));
        let before = BucketQuery {
            created: Some((999, "lt".into())),
            ..BucketQuery::default()
        };
        assert!(!before.matches(&bucket));
        let after_marker = BucketQuery {
            after: Some("photos-1".into()),
            ..BucketQuery::default()
        };
        assert!(!after_marker.matches(&bucket));
        let tagged = BucketQuery {
            tagged: true,
            ..BucketQuery::default()
        };
        assert!(!tagged.matches(&bucket));
    }
}
