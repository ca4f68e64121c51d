//! The multipart calls: create, upload_part, upload_part_copy, list_parts, list uploads,
//! complete, abort.

mod common;

use coffer_sdk::{
    CompletedPart, CopySource, CreateMultipartUploadRequest, ListMultipartUploadsRequest,
    PutObjectRequest, UploadPartCopyRequest, UploadPartRequest,
};

#[tokio::main]
async fn main() -> coffer_sdk::Result<()> {
    let client = common::client()?;
    let bucket = common::bucket();
    if !client.bucket_exists(&bucket).await? {
        client.create_bucket(bucket.as_str()).await?;
    }
    let key = "multipart.bin";

    let upload = client
        .create_multipart_upload(
            CreateMultipartUploadRequest::new(&bucket, key)
                .content_type("application/octet-stream"),
        )
        .await?;
    println!("upload id {}", upload.upload_id);

    // Every part except the last must be at least 1 MiB.
    let part1 = client
        .upload_part(
            UploadPartRequest::new(&bucket, key, &upload.upload_id, 1)
                .body(vec![b'a'; 1024 * 1024])
                .enable_md5(true),
        )
        .await?;
    // Part 2 is copied from another object.
    client
        .put_object(PutObjectRequest::new(&bucket, "source.bin").body(vec![b'b'; 10]))
        .await?;
    let part2 = client
        .upload_part_copy(
            UploadPartCopyRequest::new(
                &bucket,
                key,
                &upload.upload_id,
                2,
                CopySource::new(&bucket, "source.bin"),
            )
            .range(0, 9),
        )
        .await?;

    let uploads = client
        .list_multipart_uploads(ListMultipartUploadsRequest::new(&bucket).prefix(key))
        .await?;
    println!("{} upload(s) in progress", uploads.uploads.len());
    for part in client
        .list_all_parts(&bucket, key, &upload.upload_id)
        .await?
    {
        println!(
            "part {} {} bytes {}",
            part.part_number, part.size, part.etag
        );
    }

    let done = client
        .complete_multipart_upload(
            &bucket,
            key,
            &upload.upload_id,
            vec![
                CompletedPart {
                    part_number: 1,
                    etag: part1.etag,
                },
                CompletedPart {
                    part_number: 2,
                    etag: part2.etag,
                },
            ],
        )
        .await?;
    println!("completed: {} (CRC64 {:?})", done.etag, done.crc64);

    // An upload that is abandoned.
    let abandoned = client
        .create_multipart_upload(CreateMultipartUploadRequest::new(&bucket, "abandoned.bin"))
        .await?;
    client
        .abort_multipart_upload(&bucket, "abandoned.bin", &abandoned.upload_id)
        .await?;
    client
        .delete_objects(&bucket, [key, "source.bin"], true)
        .await?;
    Ok(())
}
