//! GET Service: the caller's buckets.

use super::write_owner;
use crate::context::Ctx;
use crate::error::{ApiError, ApiResult};
use crate::http::Response;
use coffer_proto::xml::XmlWriter;
use coffer_proto::ErrorCode;

/// `GET /` without a bucket.
pub async fn list_buckets(ctx: &Ctx) -> ApiResult<Response> {
    let caller = ctx
        .caller
        .as_ref()
        .ok_or_else(|| ApiError::new(ErrorCode::AccessDenied))?;
    let buckets = ctx.state.store.buckets_of(&caller.uin).await?;
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
            )
            .leaf("BucketType", "cos")
            .close("Bucket");
    }
    w.close("Buckets").close("ListAllMyBucketsResult");
    Ok(Response::xml(200, w.finish()))
}
