//! Simple object operations of the object document: PUT (bytes, local file, stream, every
//! header, metadata, speed limit, "directories"), HEAD, GET (range, conditions, response
//! overrides, to a file), copy and metadata update, delete, batch delete.

mod common;

use coffer_sdk::{
    Body, ByteRange, CopyObjectRequest, CopySource, GetObjectRequest, MetadataDirective,
    PutObjectRequest,
};

#[tokio::main]
async fn main() -> coffer_sdk::Result<()> {
    let client = common::client()?;
    let bucket = common::bucket();
    if !client.bucket_exists(&bucket).await? {
        client.create_bucket(bucket.as_str()).await?;
    }

    // Upload bytes with every optional header of the seeds.
    let response = client
        .put_object(
            PutObjectRequest::new(&bucket, "exampleobject")
                .body("hello world")
                .enable_md5(true)
                .content_type("text/plain")
                .cache_control("no-cache")
                .content_disposition("attachment; filename=\"hello.txt\"")
                .content_language("en")
                .storage_class("STANDARD_IA")
                .metadata("author", "alice")
                .traffic_limit(819_200 * 10),
        )
        .await?;
    println!("ETag {} CRC64 {:?}", response.etag, response.crc64);

    // Upload a local file, and a stream of unknown length.
    let path = std::env::temp_dir().join("coffer-example.txt");
    std::fs::write(&path, b"from a local file").map_err(|e| {
        coffer_sdk::Error::Client(coffer_sdk::ClientError::Io {
            context: "writing".into(),
            source: e,
        })
    })?;
    client
        .put_object_from_local_file(PutObjectRequest::new(&bucket, "from-file.txt"), &path)
        .await?;
    let stream = std::io::Cursor::new(b"streamed body".to_vec());
    client
        .put_object(
            PutObjectRequest::new(&bucket, "streamed.txt").body(Body::from_reader(stream, None)),
        )
        .await?;
    // A "directory" is an empty object whose key ends in '/'.
    client
        .put_object(PutObjectRequest::new(&bucket, "a/dir/"))
        .await?;

    // HEAD: size, type, metadata.
    let head = client
        .head_object((bucket.as_str(), "exampleobject"))
        .await?;
    println!(
        "{} bytes, {:?}, author {:?}",
        head.content_length,
        head.content_type,
        head.metadata.get("author")
    );

    // GET a range with a condition and a response override, then the whole object to a file.
    let part = client
        .get_object(
            GetObjectRequest::new(&bucket, "exampleobject")
                .range(ByteRange::Inclusive(0, 4))
                .if_match(response.etag.clone())
                .response_content_type("text/x-example"),
        )
        .await?;
    println!("range: {:?}", part.body.bytes().await?);
    let got = client
        .get_object(GetObjectRequest::new(&bucket, "exampleobject"))
        .await?;
    got.body
        .to_file(std::env::temp_dir().join("coffer-example.out"))
        .await?;

    // Copy, then change metadata in place (copy onto itself with Replaced).
    client
        .copy_object(CopyObjectRequest::new(
            &bucket,
            "copy.txt",
            CopySource::new(&bucket, "exampleobject"),
        ))
        .await?;
    client
        .copy_object(
            CopyObjectRequest::new(&bucket, "copy.txt", CopySource::new(&bucket, "copy.txt"))
                .metadata_directive(MetadataDirective::Replaced)
                .content_type("application/json")
                .metadata("reviewed", "yes"),
        )
        .await?;

    // Move = copy + delete.
    client
        .copy_object(CopyObjectRequest::new(
            &bucket,
            "moved.txt",
            CopySource::new(&bucket, "copy.txt"),
        ))
        .await?;
    client.delete_object(&bucket, "copy.txt").await?;

    let result = client
        .delete_objects(
            &bucket,
            [
                "exampleobject",
                "from-file.txt",
                "streamed.txt",
                "a/dir/",
                "moved.txt",
            ],
            false,
        )
        .await?;
    println!(
        "deleted {:?}",
        result.deleted.iter().map(|d| &d.key).collect::<Vec<_>>()
    );
    Ok(())
}
