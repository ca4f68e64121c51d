//! GET Service: the caller's buckets, filtered and paged. S3 clients page with
//! `max-buckets` / `continuation-token` (and filter by `prefix` / `bucket-region`); COS
//! clients page with `marker` / `max-keys` (and filter by `region`, `create-time` + `range`,
//! `tagkey` / `tagvalue`).

use super::op::{Env, Op, OpRequest};
use super::write_owner;
use crate::error::{ApiError, ApiResult};
use crate::http::Response;
use base64::Engine as _;
use coffer_proto::xml::XmlWriter;
use coffer_proto::{Dialect, ErrorCode};
use coffer_store::model::BucketRecord;

/// Most buckets one page may hold.
const MAX_PAGE: usize = 10_000;

/// Which buckets a listing asks for, and from where: the input of [`ListBuckets`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BucketQuery {
    /// Only names starting with this.
    pub prefix: Option<String>,
    /// Only buckets in this region.
    pub region: Option<String>,
    /// Start after this bucket name.
    pub after: Option<String>,
    /// Page size; `None` = everything.
    pub limit: Option<usize>,
    /// `create-time` (Unix seconds) and `range` (`lt`, `gt`, `lte`, `gte`).
    pub created: Option<(i64, String)>,
    /// A tag filter: no bucket has tags yet, so it matches none.
    pub tagged: bool,
}

/// A page of the caller's buckets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListBucketsOutput {
    /// The caller's uin (the `<Owner>`).
    pub owner_uin: String,
    /// What was asked.
    pub query: BucketQuery,
    /// The page, by name.
    pub buckets: Vec<BucketRecord>,
    /// Whether more follow.
    pub truncated: bool,
}

/// `GET /` without a bucket.
#[derive(Debug)]
pub struct ListBuckets;

impl Op for ListBuckets {
    type Input = BucketQuery;
    type Output<'a> = ListBucketsOutput;

    fn parse(req: &OpRequest<'_>) -> ApiResult<BucketQuery> {
        parse_query(req)
    }

    async fn apply(env: &Env<'_>, query: BucketQuery) -> ApiResult<ListBucketsOutput> {
        let caller = env.caller()?;
        let mut buckets = env.store.buckets_of(&caller.uin).await?;
        buckets.sort_by(|a, b| a.name.cmp(&b.name));
        buckets.retain(|bucket| query.matches(bucket));
        let truncated = query.limit.is_some_and(|limit| buckets.len() > limit);
        if let Some(limit) = query.limit {
            buckets.truncate(limit);
        }
        Ok(ListBucketsOutput {
            owner_uin: caller.uin.clone(),
            query,
            buckets,
            truncated,
        })
    }

    fn render(output: ListBucketsOutput, dialect: Dialect) -> Response {
        render_buckets(&output, dialect)
    }
}

fn render_buckets(output: &ListBucketsOutput, dialect: Dialect) -> Response {
    let ListBucketsOutput {
        owner_uin,
        query,
        buckets,
        truncated,
    } = output;
    let last = buckets
        .last()
        .map(|b| b.name.clone())
        .filter(|_| *truncated);
    let mut w = XmlWriter::new();
    w.open("ListAllMyBucketsResult");
    write_owner(&mut w, "Owner", dialect, owner_uin);
    w.open("Buckets");
    for bucket in buckets {
        w.open("Bucket")
            .leaf("Name", &bucket.name)
            .leaf("Location", &bucket.region)
            .leaf(
                "CreationDate",
                &coffer_proto::time::iso8601_millis(bucket.created_ms),
            );
        match dialect {
            Dialect::Cos => w.leaf("BucketType", "cos"),
            Dialect::S3 => w.leaf("BucketRegion", &bucket.region),
        };
        w.close("Bucket");
    }
    w.close("Buckets");
    match dialect {
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
                w.leaf("IsTruncated", if *truncated { "true" } else { "false" });
                if let Some(last) = &last {
                    w.leaf("NextMarker", last);
                }
            }
        }
    }
    w.close("ListAllMyBucketsResult");
    Response::xml(200, w.finish())
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

fn parse_query(req: &OpRequest<'_>) -> ApiResult<BucketQuery> {
    let invalid = |message: &str| ApiError::with_message(ErrorCode::InvalidArgument, message);
    let text = |name: &str| {
        req.param(name)
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
    use crate::ops::op::testing::{body_text, code, req, TempEnv};

    #[test]
    fn parses_s3_and_cos_paging() {
        let s3 = req("ListBuckets", Dialect::S3)
            .q("max-buckets", "2")
            .q("prefix", "ph")
            .q("continuation-token", &encode_token("a"));
        let query = ListBuckets::parse(&s3.view()).expect("s3");
        assert_eq!(query.limit, Some(2));
        assert_eq!(query.prefix.as_deref(), Some("ph"));
        assert_eq!(query.after.as_deref(), Some("a"));
        let cos = req("ListBuckets", Dialect::Cos)
            .q("marker", "m")
            .q("max-keys", "0")
            .q("create-time", "100")
            .q("range", "gte");
        let query = ListBuckets::parse(&cos.view()).expect("cos");
        assert_eq!(query.limit, None);
        assert_eq!(query.after.as_deref(), Some("m"));
        assert_eq!(query.created, Some((100, "gte".into())));
        let cos = req("ListBuckets", Dialect::Cos).q("max-keys", "99999");
        assert_eq!(
            ListBuckets::parse(&cos.view()).expect("max").limit,
            Some(MAX_PAGE)
        );
        for (name, value) in [
            ("max-buckets", "0"),
            ("max-buckets", "10001"),
            ("max-buckets", "x"),
            ("continuation-token", "%%%"),
            ("max-keys", "-1"),
            ("create-time", "1"),
            ("range", "lt"),
        ] {
            let bad = req("ListBuckets", Dialect::S3).q(name, value);
            assert_eq!(
                code(ListBuckets::parse(&bad.view())),
                Some(ErrorCode::InvalidArgument),
                "{name}={value}"
            );
        }
        let bad = req("ListBuckets", Dialect::Cos)
            .q("create-time", "x")
            .q("range", "lt");
        assert_eq!(
            code(ListBuckets::parse(&bad.view())),
            Some(ErrorCode::InvalidArgument)
        );
    }

    fn bucket(name: &str) -> BucketRecord {
        BucketRecord {
            name: name.into(),
            id: 1,
            owner_uin: "1".into(),
            region: "ap-guangzhou".into(),
            created_ms: 0,
            acl: Default::default(),
        }
    }

    #[test]
    fn renders_both_dialects() {
        let output = ListBucketsOutput {
            owner_uin: "1".into(),
            query: BucketQuery {
                limit: Some(1),
                prefix: Some("a".into()),
                ..BucketQuery::default()
            },
            buckets: vec![bucket("a-1")],
            truncated: true,
        };
        let s3 = ListBuckets::render(output.clone(), Dialect::S3);
        assert_eq!(
            body_text(&s3),
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListAllMyBucketsResult><Owner><ID>1</ID><DisplayName>1</DisplayName></Owner><Buckets><Bucket><Name>a-1</Name><Location>ap-guangzhou</Location><CreationDate>1970-01-01T00:00:00.000Z</CreationDate><BucketRegion>ap-guangzhou</BucketRegion></Bucket></Buckets><ContinuationToken>{}</ContinuationToken><Prefix>a</Prefix></ListAllMyBucketsResult>",
                encode_token("a-1")
            )
        );
        let cos = ListBuckets::render(output, Dialect::Cos);
        assert_eq!(
            body_text(&cos),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListAllMyBucketsResult><Owner><ID>qcs::cam::uin/1:uin/1</ID><DisplayName>1</DisplayName></Owner><Buckets><Bucket><Name>a-1</Name><Location>ap-guangzhou</Location><CreationDate>1970-01-01T00:00:00.000Z</CreationDate><BucketType>cos</BucketType></Bucket></Buckets><Marker></Marker><MaxKeys>1</MaxKeys><IsTruncated>true</IsTruncated><NextMarker>a-1</NextMarker></ListAllMyBucketsResult>"
        );
    }

    #[tokio::test]
    async fn applies_on_a_store() {
        let temp = TempEnv::new().await;
        for name in ["b-1", "a-1", "c-1"] {
            let mut record = bucket(name);
            record.owner_uin = temp.caller.uin.clone();
            temp.store.create_bucket(record).await.expect("create");
        }
        let resources = Default::default();
        let env = temp.env(&resources);
        let query = BucketQuery {
            limit: Some(2),
            ..BucketQuery::default()
        };
        let output = ListBuckets::apply(&env, query).await.expect("list");
        let names: Vec<&str> = output.buckets.iter().map(|b| b.name.as_str()).collect();
        assert_eq!(names, ["a-1", "b-1"]);
        assert!(output.truncated);
    }

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
