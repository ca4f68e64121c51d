//! GET Service: `list_buckets`.

use reqwest::Method;

use super::{read_xml, text};
use crate::client::{CosClient, Request, Target};
use crate::error::Result;
use crate::types::Owner;

/// One bucket of [`ListBucketsOutput`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketSummary {
    /// Full bucket name (`<name>-<appid>`).
    pub name: String,
    /// Region (`ap-guangzhou`).
    pub location: String,
    /// Creation time (ISO 8601).
    pub creation_date: String,
}

/// The answer of [`CosClient::list_buckets`].
#[derive(Debug, Clone)]
pub struct ListBucketsOutput {
    /// The caller.
    pub owner: Option<Owner>,
    /// The caller's buckets.
    pub buckets: Vec<BucketSummary>,
}

impl CosClient {
    /// Lists the caller's buckets (`list_buckets`).
    pub async fn list_buckets(&self) -> Result<ListBucketsOutput> {
        let mut request = Request::new(Method::GET, Target::Service);
        request.sign_params = false;
        let response = self.send(request).await?;
        let root = read_xml(response).await?;
        let buckets = root
            .child("Buckets")
            .map(|b| {
                b.children_named("Bucket")
                    .map(|e| BucketSummary {
                        name: text(e, "Name"),
                        location: text(e, "Location"),
                        creation_date: text(e, "CreationDate"),
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(ListBucketsOutput {
            owner: Owner::from_element(root.child("Owner")),
            buckets,
        })
    }
}
