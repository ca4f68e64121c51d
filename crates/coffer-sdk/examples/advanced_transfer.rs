//! The "advanced APIs (recommended)": upload_file with checkpoint restart and progress,
//! download_file with parallel parts and CRC-64 check, large copies, batch folder upload and
//! prefix download.

mod common;

use coffer_sdk::{
    CopyRequest, CopySource, DownloadFileRequest, DownloadPrefixRequest, UploadFileRequest,
    UploadFolderRequest,
};

#[tokio::main]
async fn main() -> coffer_sdk::Result<()> {
    let client = common::client()?;
    let bucket = common::bucket();
    if !client.bucket_exists(&bucket).await? {
        client.create_bucket(bucket.as_str()).await?;
    }
    let io = |e: std::io::Error| {
        coffer_sdk::Error::Client(coffer_sdk::ClientError::Io {
            context: "local file".into(),
            source: e,
        })
    };
    let dir = std::env::temp_dir().join("coffer-advanced-example");
    std::fs::create_dir_all(dir.join("folder/sub")).map_err(io)?;
    let big = dir.join("big.bin");
    std::fs::write(&big, vec![7u8; 30 * 1024 * 1024]).map_err(io)?;
    std::fs::write(dir.join("folder/a.txt"), b"a").map_err(io)?;
    std::fs::write(dir.join("folder/sub/b.txt"), b"b").map_err(io)?;

    // Multipart above 20 MiB, 5 parts in flight; run it again after an interruption and it
    // continues from the parts already uploaded.
    let uploaded = client
        .upload_file(
            UploadFileRequest::new(&bucket, "big.bin", &big)
                .part_size(4 * 1024 * 1024)
                .threads(5)
                .enable_md5(false)
                .metadata("origin", "example")
                .progress(|done, total| eprint!("\rupload {:>3}%", done * 100 / total.max(1))),
        )
        .await?;
    eprintln!();
    println!(
        "uploaded {} ({} parts sent, {} resumed)",
        uploaded.etag,
        uploaded.parts_uploaded.len(),
        uploaded.parts_reused.len()
    );

    let downloaded = client
        .download_file(
            DownloadFileRequest::new(&bucket, "big.bin", dir.join("big.back"))
                .part_size(8 * 1024 * 1024)
                .threads(5)
                .enable_crc(true)
                .progress(|done, total| eprint!("\rdownload {:>3}%", done * 100 / total.max(1))),
        )
        .await?;
    eprintln!();
    println!(
        "downloaded {} bytes, CRC-64 {} checked: {}",
        downloaded.size, downloaded.crc64, downloaded.crc_checked
    );

    // Copies of any size: parallel part copies above the threshold (5 GiB by default).
    let copied = client
        .copy(
            CopyRequest::new(&bucket, "big-copy.bin", CopySource::new(&bucket, "big.bin"))
                .threshold(16 * 1024 * 1024),
        )
        .await?;
    println!("copied, multipart: {}", copied.multipart);

    // Batch upload of a folder (existing keys are skipped) and download of a prefix.
    let summary = client
        .upload_folder(UploadFolderRequest::new(
            &bucket,
            "folder/",
            dir.join("folder"),
        ))
        .await?;
    println!(
        "folder: {} uploaded, {} skipped, {} failed",
        summary.succeeded.len(),
        summary.skipped.len(),
        summary.failed.len()
    );
    let summary = client
        .download_prefix(DownloadPrefixRequest::new(
            &bucket,
            "folder/",
            dir.join("restored"),
        ))
        .await?;
    println!(
        "prefix: {} downloaded, {} failed",
        summary.succeeded.len(),
        summary.failed.len()
    );
    Ok(())
}
