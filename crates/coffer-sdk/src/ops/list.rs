//! GET Bucket: `list_objects`, and streams that page through a whole listing.

use futures_util::stream::{self, Stream, StreamExt, TryStreamExt};
use reqwest::Method;

use super::{flag, number, read_xml, text, text_opt};
use crate::client::{CosClient, Request};
use crate::error::Result;
use crate::types::{url_decode, Owner};

/// A `list_objects` request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListObjectsRequest {
    bucket: String,
    prefix: String,
    delimiter: String,
    marker: String,
    max_keys: u32,
}

impl ListObjectsRequest {
    /// Lists `bucket` (up to 1000 keys per page).
    pub fn new(bucket: impl Into<String>) -> Self {
        ListObjectsRequest {
            bucket: bucket.into(),
            max_keys: 1000,
            ..Default::default()
        }
    }

    /// Only keys starting with `prefix`.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Rolls keys up to the next `delimiter` into common prefixes (`/` for directories).
    pub fn delimiter(mut self, delimiter: impl Into<String>) -> Self {
        self.delimiter = delimiter.into();
        self
    }

    /// Starts after this key.
    pub fn marker(mut self, marker: impl Into<String>) -> Self {
        self.marker = marker.into();
        self
    }

    /// Entries per page (1–1000).
    pub fn max_keys(mut self, max_keys: u32) -> Self {
        self.max_keys = max_keys;
        self
    }
}

/// One object of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectSummary {
    /// The key.
    pub key: String,
    /// Last modification (ISO 8601).
    pub last_modified: String,
    /// ETag, quoted.
    pub etag: String,
    /// Size in bytes.
    pub size: u64,
    /// Storage class.
    pub storage_class: String,
    /// Owner, when listed.
    pub owner: Option<Owner>,
}

/// One page of [`CosClient::list_objects`].
#[derive(Debug, Clone)]
pub struct ListObjectsOutput {
    /// Bucket name.
    pub name: String,
    /// The prefix asked for.
    pub prefix: String,
    /// The marker asked for.
    pub marker: String,
    /// Page size.
    pub max_keys: u32,
    /// The delimiter asked for.
    pub delimiter: String,
    /// Whether more entries follow.
    pub is_truncated: bool,
    /// Where the next page starts (present only when truncated).
    pub next_marker: Option<String>,
    /// Objects.
    pub contents: Vec<ObjectSummary>,
    /// Common prefixes ("directories") under the delimiter.
    pub common_prefixes: Vec<String>,
}

impl CosClient {
    /// One page of a bucket listing (`list_objects`). Keys are exchanged URL-encoded
    /// (`encoding-type=url`) and decoded here, so any key survives.
    pub async fn list_objects(&self, request: ListObjectsRequest) -> Result<ListObjectsOutput> {
        let r = request;
        let request = Request::new(Method::GET, self.bucket_target(&r.bucket, "")?)
            .param("prefix", r.prefix.clone())
            .param("delimiter", r.delimiter.clone())
            .param("marker", r.marker.clone())
            .param("max-keys", r.max_keys.to_string())
            .param("encoding-type", "url");
        let root = read_xml(self.send(request).await?).await?;
        let encoded = root
            .child_text("EncodingType")
            .is_some_and(|t| t.eq_ignore_ascii_case("url"));
        let decode = |s: String| if encoded { url_decode(&s) } else { s };
        let contents = root
            .children_named("Contents")
            .map(|c| ObjectSummary {
                key: decode(text(c, "Key")),
                last_modified: text(c, "LastModified"),
                etag: text(c, "ETag"),
                size: number(c, "Size"),
                storage_class: text(c, "StorageClass"),
                owner: Owner::from_element(c.child("Owner")),
            })
            .collect();
        let common_prefixes = root
            .children_named("CommonPrefixes")
            .map(|p| decode(text(p, "Prefix")))
            .collect();
        let is_truncated = flag(&root, "IsTruncated");
        Ok(ListObjectsOutput {
            name: text(&root, "Name"),
            prefix: decode(text(&root, "Prefix")),
            marker: decode(text(&root, "Marker")),
            max_keys: number(&root, "MaxKeys"),
            delimiter: text(&root, "Delimiter"),
            is_truncated,
            next_marker: text_opt(&root, "NextMarker").map(decode),
            contents,
            common_prefixes,
        })
    }

    /// Every page of a listing, fetched as the stream is polled.
    pub fn list_objects_pages(
        &self,
        request: ListObjectsRequest,
    ) -> impl Stream<Item = Result<ListObjectsOutput>> + Send + 'static {
        let client = self.clone();
        stream::try_unfold(Some(request), move |next| {
            let client = client.clone();
            async move {
                let Some(request) = next else {
                    return Ok(None);
                };
                let page = client.list_objects(request.clone()).await?;
                let following = match (&page.is_truncated, &page.next_marker, page.contents.last())
                {
                    (true, Some(marker), _) => Some(request.marker(marker.clone())),
                    (true, None, Some(last)) => Some(request.marker(last.key.clone())),
                    _ => None,
                };
                Ok(Some((page, following)))
            }
        })
    }

    /// Every object of a listing (common prefixes are skipped), page after page.
    pub fn list_objects_stream(
        &self,
        request: ListObjectsRequest,
    ) -> impl Stream<Item = Result<ObjectSummary>> + Send + 'static {
        self.list_objects_pages(request)
            .map_ok(|page| stream::iter(page.contents.into_iter().map(Ok)))
            .try_flatten()
            .boxed()
    }
}
