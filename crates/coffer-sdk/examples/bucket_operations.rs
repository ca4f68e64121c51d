//! Bucket calls of the API document: create, head/exists, location, list buckets, list
//! objects (one page and every page), list multipart uploads, delete.
//!
//! `COFFER_ADDRESS=127.0.0.1:9000 COS_SECRET_ID=… COS_SECRET_KEY=… cargo run -p coffer-sdk --example bucket_operations`

mod common;

use coffer_sdk::{ListMultipartUploadsRequest, ListObjectsRequest, PutObjectRequest};
use futures_util::TryStreamExt;

#[tokio::main]
async fn main() -> coffer_sdk::Result<()> {
    let client = common::client()?;
    let bucket = common::bucket();

    // Create the bucket (private by default).
    if !client.bucket_exists(&bucket).await? {
        client.create_bucket(bucket.as_str()).await?;
    }
    let head = client.head_bucket(&bucket).await?;
    println!("bucket {bucket} exists, request id {:?}", head.request_id);
    println!("location: {}", client.get_bucket_location(&bucket).await?);

    for b in client.list_buckets().await?.buckets {
        println!(
            "bucket {} in {} created {}",
            b.name, b.location, b.creation_date
        );
    }

    for i in 0..3 {
        client
            .put_object(PutObjectRequest::new(&bucket, format!("folder/file{i}.txt")).body("hi"))
            .await?;
    }

    // One page, "directories" rolled up by the delimiter.
    let page = client
        .list_objects(ListObjectsRequest::new(&bucket).delimiter("/"))
        .await?;
    for prefix in &page.common_prefixes {
        println!("directory {prefix}");
    }

    // Every object, page after page (the seed's marker loop).
    let mut objects = client.list_objects_stream(ListObjectsRequest::new(&bucket).max_keys(2));
    while let Some(object) = objects.try_next().await? {
        println!("{} {} bytes {}", object.key, object.size, object.etag);
    }

    let uploads = client
        .list_multipart_uploads(ListMultipartUploadsRequest::new(&bucket))
        .await?;
    println!("{} multipart uploads in progress", uploads.uploads.len());

    // Empty the bucket, then delete it.
    let keys: Vec<String> = client
        .list_objects_stream(ListObjectsRequest::new(&bucket))
        .map_ok(|o| o.key)
        .try_collect()
        .await?;
    let deleted = client.delete_objects(&bucket, keys, false).await?;
    println!("deleted {} objects", deleted.deleted.len());
    client.delete_bucket(&bucket).await?;
    Ok(())
}
