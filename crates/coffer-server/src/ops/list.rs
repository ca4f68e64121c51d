//! GET Bucket: ListObjects (V1, what the COS SDK uses) and ListObjectsV2 (S3 clients).

use super::op::{Env, Op, OpRequest};
use super::{listing_text, parse_max, url_encoding, write_owner};
use crate::error::{ApiError, ApiResult};
use crate::http::Response;
use base64::Engine as _;
use coffer_proto::xml::XmlWriter;
use coffer_proto::{Dialect, ErrorCode};
use coffer_store::meta::{ListEntry, ListPage, ListQuery};
use coffer_store::model::ObjectVersion;

/// What a ListObjects (V1) asks for.
#[derive(Debug, Clone)]
pub struct ListObjectsInput {
    /// `prefix`, `delimiter` (empty = none), `marker`, `max-keys` (0–1000, default 1000).
    pub query: ListQuery,
    /// `encoding-type=url`.
    pub url_encoded: bool,
}

/// What a ListObjectsV2 asks for.
#[derive(Debug, Clone)]
pub struct ListObjectsV2Input {
    /// `prefix`, `delimiter` (empty = none), `max-keys`, and the marker: the decoded
    /// `continuation-token`, or else `start-after`.
    pub query: ListQuery,
    /// `encoding-type=url`.
    pub url_encoded: bool,
    /// The `continuation-token` as sent (echoed back).
    pub continuation_token: Option<String>,
    /// A non-empty `start-after` (echoed back).
    pub start_after: Option<String>,
    /// `fetch-owner=true`.
    pub fetch_owner: bool,
}

/// A listing page and what it answers.
#[derive(Debug, Clone)]
pub struct ListOutput<I> {
    /// The bucket's name.
    pub bucket: String,
    /// What was asked.
    pub input: I,
    /// The page.
    pub page: ListPage,
}

fn write_contents(
    w: &mut XmlWriter,
    dialect: Dialect,
    encode: bool,
    key: &str,
    version: &ObjectVersion,
    owner: bool,
) {
    w.open("Contents")
        .leaf("Key", &listing_text(dialect, encode, key))
        .leaf(
            "LastModified",
            &coffer_proto::time::iso8601_millis(version.last_modified_ms),
        )
        .leaf("ETag", &version.etag)
        .leaf("Size", &version.size.to_string());
    if owner {
        write_owner(w, "Owner", dialect, &version.owner_uin);
    }
    w.leaf("StorageClass", &version.attributes.storage_class)
        .close("Contents");
}

fn write_entries(w: &mut XmlWriter, dialect: Dialect, encode: bool, page: &ListPage, owner: bool) {
    let mut prefixes = Vec::new();
    for entry in &page.entries {
        match entry {
            ListEntry::Object { key, version } => {
                write_contents(w, dialect, encode, key, version, owner)
            }
            ListEntry::CommonPrefix(prefix) => prefixes.push(prefix),
        }
    }
    for prefix in prefixes {
        w.open("CommonPrefixes")
            .leaf("Prefix", &listing_text(dialect, encode, prefix))
            .close("CommonPrefixes");
    }
}

/// `prefix`, `delimiter` and `max-keys` of a listing, and its marker.
fn list_query(req: &OpRequest<'_>, marker: Option<String>) -> ApiResult<ListQuery> {
    Ok(ListQuery {
        prefix: req.param("prefix").unwrap_or_default().to_string(),
        delimiter: req
            .param("delimiter")
            .filter(|d| !d.is_empty())
            .map(str::to_string),
        marker,
        max_keys: parse_max(req, "max-keys", 1000, 1000)?,
    })
}

/// `GET /` on a bucket (V1).
#[derive(Debug)]
pub struct ListObjects;

impl Op for ListObjects {
    type Input = ListObjectsInput;
    type Output<'a> = ListOutput<ListObjectsInput>;

    fn parse(req: &OpRequest<'_>) -> ApiResult<ListObjectsInput> {
        let url_encoded = url_encoding(req)?;
        let marker = req.param("marker").map(str::to_string);
        Ok(ListObjectsInput {
            query: list_query(req, marker)?,
            url_encoded,
        })
    }

    async fn apply(
        env: &Env<'_>,
        input: ListObjectsInput,
    ) -> ApiResult<ListOutput<ListObjectsInput>> {
        list_bucket(env, input, |input| &input.query).await
    }

    fn render(output: ListOutput<ListObjectsInput>, dialect: Dialect) -> Response {
        let ListOutput {
            bucket,
            input:
                ListObjectsInput {
                    query,
                    url_encoded: encode,
                },
            page,
        } = output;
        let mut w = XmlWriter::new();
        w.open("ListBucketResult").leaf("Name", &bucket);
        if encode {
            w.leaf("EncodingType", "url");
        }
        // V1 <Prefix>: the COS SDK decodes it, botocore does not (S3 echoes it unencoded).
        let v1_prefix = match dialect {
            Dialect::Cos => listing_text(dialect, encode, &query.prefix),
            Dialect::S3 => query.prefix.clone(),
        };
        w.leaf("Prefix", &v1_prefix)
            .leaf(
                "Marker",
                &listing_text(dialect, encode, query.marker.as_deref().unwrap_or_default()),
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
            w.leaf("NextMarker", &listing_text(dialect, encode, next));
        }
        write_entries(&mut w, dialect, encode, &page, true);
        w.close("ListBucketResult");
        Response::xml(200, w.finish())
    }
}

/// Lists the addressed bucket with the query an input carries (V1 and V2 alike).
async fn list_bucket<I>(
    env: &Env<'_>,
    input: I,
    query: fn(&I) -> &ListQuery,
) -> ApiResult<ListOutput<I>> {
    let bucket = env.bucket()?;
    let page = env.store.list_objects(bucket, query(&input)).await?;
    Ok(ListOutput {
        bucket: bucket.name.clone(),
        input,
        page,
    })
}

/// `GET /?list-type=2`.
#[derive(Debug)]
pub struct ListObjectsV2;

impl Op for ListObjectsV2 {
    type Input = ListObjectsV2Input;
    type Output<'a> = ListOutput<ListObjectsV2Input>;

    fn parse(req: &OpRequest<'_>) -> ApiResult<ListObjectsV2Input> {
        if req.param("list-type") != Some("2") {
            return Err(ApiError::with_message(
                ErrorCode::InvalidArgument,
                "list-type must be 2.",
            ));
        }
        let url_encoded = url_encoding(req)?;
        let continuation_token = req.param("continuation-token").map(str::to_string);
        let start_after = req
            .param("start-after")
            .filter(|s| !s.is_empty())
            .map(str::to_string);
        let marker = match &continuation_token {
            Some(token) => Some(decode_token(token)?),
            None => start_after.clone(),
        };
        Ok(ListObjectsV2Input {
            query: list_query(req, marker)?,
            url_encoded,
            continuation_token,
            start_after,
            fetch_owner: req
                .param("fetch-owner")
                .is_some_and(|v| v.eq_ignore_ascii_case("true")),
        })
    }

    async fn apply(
        env: &Env<'_>,
        input: ListObjectsV2Input,
    ) -> ApiResult<ListOutput<ListObjectsV2Input>> {
        list_bucket(env, input, |input| &input.query).await
    }

    fn render(output: ListOutput<ListObjectsV2Input>, dialect: Dialect) -> Response {
        let ListOutput {
            bucket,
            input,
            page,
        } = output;
        let (query, encode) = (&input.query, input.url_encoded);
        let mut w = XmlWriter::new();
        w.open("ListBucketResult").leaf("Name", &bucket);
        w.leaf("Prefix", &listing_text(dialect, encode, &query.prefix))
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
        if let Some(token) = &input.continuation_token {
            w.leaf("ContinuationToken", token);
        }
        if let Some(next) = &page.next_marker {
            w.leaf("NextContinuationToken", &encode_token(next));
        }
        if let Some(start_after) = &input.start_after {
            w.leaf("StartAfter", &listing_text(dialect, encode, start_after));
        }
        write_entries(&mut w, dialect, encode, &page, input.fetch_owner);
        w.close("ListBucketResult");
        Response::xml(200, w.finish())
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::op::testing::{body_text, code, req, version, TempEnv};

    fn v1(pairs: &[(&str, &str)]) -> ApiResult<ListObjectsInput> {
        let mut r = req("ListObjects", Dialect::Cos).key(None);
        for (n, v) in pairs {
            r = r.q(n, v);
        }
        ListObjects::parse(&r.view())
    }

    fn v2(pairs: &[(&str, &str)]) -> ApiResult<ListObjectsV2Input> {
        let mut r = req("ListObjectsV2", Dialect::S3)
            .key(None)
            .q("list-type", "2");
        for (n, v) in pairs {
            r = r.q(n, v);
        }
        ListObjectsV2::parse(&r.view())
    }

    #[test]
    fn parses_v1() {
        let input = v1(&[]).expect("defaults");
        let q = &input.query;
        assert_eq!(
            (q.prefix.as_str(), &q.delimiter, &q.marker, q.max_keys),
            ("", &None, &None, 1000)
        );
        assert!(!input.url_encoded);
        let input = v1(&[
            ("prefix", "a/"),
            ("delimiter", "/"),
            ("marker", "a/b"),
            ("max-keys", " 5000 "),
            ("encoding-type", "URL"),
        ])
        .expect("all");
        assert_eq!(input.query.max_keys, 1000);
        assert_eq!(input.query.delimiter.as_deref(), Some("/"));
        assert_eq!(input.query.marker.as_deref(), Some("a/b"));
        assert!(input.url_encoded);
        assert_eq!(
            v1(&[("delimiter", "")]).expect("empty").query.delimiter,
            None
        );
        assert_eq!(v1(&[("max-keys", "")]).expect("empty").query.max_keys, 1000);
        assert_eq!(v1(&[("max-keys", "0")]).expect("zero").query.max_keys, 0);
        for (name, value) in [
            ("max-keys", "-1"),
            ("max-keys", "ten"),
            ("max-keys", "99999999999999999999"),
            ("encoding-type", "base64"),
        ] {
            assert_eq!(
                code(v1(&[(name, value)])),
                Some(ErrorCode::InvalidArgument),
                "{name}={value}"
            );
        }
    }

    #[test]
    fn parses_v2() {
        let input = v2(&[("start-after", "s"), ("fetch-owner", "TRUE")]).expect("start");
        assert_eq!(input.query.marker.as_deref(), Some("s"));
        assert!(input.fetch_owner);
        let token = encode_token("k/1");
        let input = v2(&[("start-after", "s"), ("continuation-token", &token)]).expect("token");
        assert_eq!(input.query.marker.as_deref(), Some("k/1"));
        assert_eq!(input.start_after.as_deref(), Some("s"));
        assert_eq!(input.continuation_token.as_deref(), Some(token.as_str()));
        assert_eq!(v2(&[("start-after", "")]).expect("empty").start_after, None);
        assert_eq!(
            code(v2(&[("continuation-token", "%%")])),
            Some(ErrorCode::InvalidArgument)
        );
        let v3 = req("ListObjectsV2", Dialect::S3)
            .key(None)
            .q("list-type", "3");
        assert_eq!(
            code(ListObjectsV2::parse(&v3.view())),
            Some(ErrorCode::InvalidArgument)
        );
    }

    fn page() -> ListPage {
        let version = version("\"e\"", 3);
        ListPage {
            entries: vec![
                ListEntry::Object {
                    key: "a b".into(),
                    version,
                },
                ListEntry::CommonPrefix("d/".into()),
            ],
            is_truncated: true,
            next_marker: Some("d/".into()),
        }
    }

    const DECL: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

    #[test]
    fn renders_v1() {
        let input = v1(&[
            ("prefix", "a b"),
            ("encoding-type", "url"),
            ("delimiter", "/"),
        ])
        .expect("input");
        let output = ListOutput {
            bucket: "b".into(),
            input,
            page: page(),
        };
        let contents = "<Contents><Key>a%20b</Key><LastModified>1970-01-01T00:00:00.000Z</LastModified><ETag>&quot;e&quot;</ETag><Size>3</Size>";
        assert_eq!(
            body_text(&ListObjects::render(output.clone(), Dialect::Cos)),
            format!("{DECL}<ListBucketResult><Name>b</Name><EncodingType>url</EncodingType><Prefix>a%20b</Prefix><Marker></Marker><MaxKeys>1000</MaxKeys><Delimiter>/</Delimiter><IsTruncated>true</IsTruncated><NextMarker>d%2F</NextMarker>{contents}<Owner><ID>qcs::cam::uin/1:uin/1</ID><DisplayName>1</DisplayName></Owner><StorageClass>STANDARD</StorageClass></Contents><CommonPrefixes><Prefix>d%2F</Prefix></CommonPrefixes></ListBucketResult>")
        );
        assert_eq!(
            body_text(&ListObjects::render(output, Dialect::S3)),
            format!("{DECL}<ListBucketResult><Name>b</Name><EncodingType>url</EncodingType><Prefix>a b</Prefix><Marker></Marker><MaxKeys>1000</MaxKeys><Delimiter>/</Delimiter><IsTruncated>true</IsTruncated><NextMarker>d/</NextMarker>{contents}<Owner><ID>1</ID><DisplayName>1</DisplayName></Owner><StorageClass>STANDARD</StorageClass></Contents><CommonPrefixes><Prefix>d/</Prefix></CommonPrefixes></ListBucketResult>")
        );
    }

    #[test]
    fn renders_v2() {
        let token = encode_token("a");
        let input = v2(&[("continuation-token", &token), ("start-after", "0")]).expect("input");
        let output = ListOutput {
            bucket: "b".into(),
            input,
            page: page(),
        };
        assert_eq!(
            body_text(&ListObjectsV2::render(output, Dialect::S3)),
            format!("{DECL}<ListBucketResult><Name>b</Name><Prefix></Prefix><MaxKeys>1000</MaxKeys><KeyCount>2</KeyCount><IsTruncated>true</IsTruncated><ContinuationToken>{token}</ContinuationToken><NextContinuationToken>{}</NextContinuationToken><StartAfter>0</StartAfter><Contents><Key>a b</Key><LastModified>1970-01-01T00:00:00.000Z</LastModified><ETag>&quot;e&quot;</ETag><Size>3</Size><StorageClass>STANDARD</StorageClass></Contents><CommonPrefixes><Prefix>d/</Prefix></CommonPrefixes></ListBucketResult>", encode_token("d/"))
        );
    }

    #[tokio::test]
    async fn lists_a_store() {
        let temp = TempEnv::new().await;
        let resources = temp.bucket_resources().await;
        let env = temp.env(&resources);
        let output = ListObjectsV2::apply(&env, v2(&[]).expect("input"))
            .await
            .expect("list");
        assert!(output.page.entries.is_empty());
        assert_eq!(output.bucket, "b-1250000000");
    }
}
