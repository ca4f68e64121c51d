//! Signatures handed to others: get_auth, presigned upload and download URLs, and the errors
//! (CosServiceError's accessors as fields).

mod common;

use std::time::Duration;

use coffer_sdk::{GetObjectRequest, Method, PresignRequest, PutObjectRequest};

#[tokio::main]
async fn main() -> coffer_sdk::Result<()> {
    let client = common::client()?;
    let bucket = common::bucket();
    if !client.bucket_exists(&bucket).await? {
        client.create_bucket(bucket.as_str()).await?;
    }
    client
        .put_object(PutObjectRequest::new(&bucket, "exampleobject").body("hello"))
        .await?;

    // An Authorization value for a GET someone else sends (Key "/" for bucket operations).
    let auth = client
        .get_auth(
            &PresignRequest::new(Method::GET, &bucket, "exampleobject")
                .expire(Duration::from_secs(300)),
        )
        .await?;
    println!("Authorization: {auth}");

    // Presigned URLs: a download link, and an upload link with a signed parameter.
    let url = client
        .get_presigned_download_url(&bucket, "exampleobject", Duration::from_secs(300))
        .await?;
    println!("download: {url}");
    let url = client
        .get_presigned_url(
            &PresignRequest::new(Method::PUT, &bucket, "uploaded-by-url")
                .expire(Duration::from_secs(120))
                .param("x-cos-traffic-limit", "819200"),
        )
        .await?;
    println!("upload: {url}");

    // Errors carry what CosServiceError offers.
    match client
        .get_object(GetObjectRequest::new(&bucket, "does-not-exist"))
        .await
    {
        Err(coffer_sdk::Error::Service(e)) => println!(
            "status {} code {} message {:?} resource {} request id {} trace id {}",
            e.status_code, e.code, e.message, e.resource, e.request_id, e.trace_id
        ),
        Err(e) => println!("client error: {e}"),
        Ok(_) => println!("unexpected: the object exists"),
    }
    client.delete_object(&bucket, "exampleobject").await?;
    Ok(())
}
