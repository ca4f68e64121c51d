//! Checksums of local files and objects: `coffer hash`, and what `sync` compares.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::Context;
use base64::Engine;
use coffer_proto::checksum::{normalize_etag, Crc64};
use coffer_sdk::{CosClient, GetObjectRequest, HeadObjectRequest};
use md5::{Digest, Md5};

use super::location::Location;
use super::{block_on, make_client, CommonArgs};

/// CRC-64/ECMA-182 (COS's `x-cos-hash-crc64ecma`) and MD5 of some bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checksums {
    /// CRC-64 as COS prints it (decimal).
    pub crc64: u64,
    /// MD5 digest.
    pub md5: [u8; 16],
}

impl Checksums {
    /// MD5 in lowercase hex (an ETag of a single-part object).
    pub fn md5_hex(&self) -> String {
        hex::encode(self.md5)
    }
}

/// Both checksums while reading in 1 MiB blocks.
#[derive(Default)]
struct Hasher {
    crc64: Crc64,
    md5: Md5,
}

impl Hasher {
    fn update(&mut self, data: &[u8]) {
        self.crc64.update(data);
        self.md5.update(data);
    }

    fn finish(self) -> Checksums {
        Checksums {
            crc64: self.crc64.value(),
            md5: self.md5.finalize().into(),
        }
    }
}

/// Reads the file once for both checksums, off the async threads.
pub async fn file_checksums(path: &Path) -> anyhow::Result<Checksums> {
    let owned: PathBuf = path.to_path_buf();
    tokio::task::spawn_blocking(move || -> std::io::Result<Checksums> {
        let mut file = std::fs::File::open(&owned)?;
        let mut hasher = Hasher::default();
        let mut buffer = vec![0u8; 1 << 20];
        loop {
            let n = file.read(&mut buffer)?;
            if n == 0 {
                return Ok(hasher.finish());
            }
            hasher.update(&buffer[..n]);
        }
    })
    .await
    .context("hashing")?
    .with_context(|| format!("reading {}", path.display()))
}

/// True when an ETag (quotes removed) is the MD5 of the content: single PUTs and copies of
/// them; multipart ETags end in `-<parts>`.
pub fn etag_is_md5(etag: &str) -> bool {
    etag.len() == 32 && etag.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `coffer hash` arguments.
#[derive(Debug, clap::Args)]
pub struct HashArgs {
    /// A local file or `cos://bucket/key`.
    pub target: String,
    /// One JSON object instead of lines.
    #[arg(long)]
    pub json: bool,
}

/// `coffer hash <file | cos://bucket/key>`: CRC-64/ECMA and MD5 (hex, and base64 as in
/// `Content-MD5`). For an object the CRC-64 is the service's; the MD5 is its ETag when that
/// is an MD5, else computed by reading the object.
pub fn run_hash(common: &CommonArgs, args: HashArgs) -> anyhow::Result<()> {
    let location = Location::parse(&args.target)?;
    block_on(async move {
        let (checksums, size) = match &location {
            Location::Local(path) => {
                let size = std::fs::metadata(path)
                    .with_context(|| format!("reading {}", path.display()))?
                    .len();
                (file_checksums(path).await?, size)
            }
            Location::Cos { bucket, key } => remote_checksums(&make_client(common)?, bucket, key)
                .await
                .with_context(|| format!("hashing {location}"))?,
        };
        let md5_base64 = base64::engine::general_purpose::STANDARD.encode(checksums.md5);
        if args.json {
            let line = serde_json::json!({
                "path": args.target,
                "size": size,
                "crc64ecma": checksums.crc64.to_string(),
                "md5": checksums.md5_hex(),
                "content_md5": md5_base64,
            });
            println!("{line}");
        } else {
            println!("path:        {}", args.target);
            println!("size:        {size}");
            println!("crc64-ecma:  {}", checksums.crc64);
            println!("md5:         {}", checksums.md5_hex());
            println!("content-md5: {md5_base64}");
        }
        Ok(())
    })
}

/// An object's checksums and size: the CRC-64 header and an MD5 ETag when they are there,
/// else computed from the object's bytes (one streamed GET).
async fn remote_checksums(
    client: &CosClient,
    bucket: &str,
    key: &str,
) -> anyhow::Result<(Checksums, u64)> {
    let head = client
        .head_object(HeadObjectRequest::new(bucket, key))
        .await?;
    let quoted_etag = head.etag.clone().unwrap_or_default();
    let etag = normalize_etag(&quoted_etag);
    let mut md5 = [0u8; 16];
    if let (Some(crc64), true) = (head.crc64, etag_is_md5(etag)) {
        hex::decode_to_slice(etag, &mut md5)?;
        return Ok((Checksums { crc64, md5 }, head.content_length));
    }
    let mut got = client
        .get_object(GetObjectRequest::new(bucket, key).if_match(quoted_etag.as_str()))
        .await?;
    let mut hasher = Hasher::default();
    let mut size = 0u64;
    while let Some(chunk) = got.body.chunk().await? {
        size += chunk.len() as u64;
        hasher.update(&chunk);
    }
    let checksums = hasher.finish();
    if let Some(crc64) = head.crc64 {
        anyhow::ensure!(
            crc64 == checksums.crc64,
            "the object's bytes have CRC-64 {} but the service reports {crc64}",
            checksums.crc64
        );
    }
    Ok((checksums, size))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Tests may panic: that is how they fail.
mod tests {
    use super::*;

    #[test]
    fn checksums_of_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"123456789").unwrap();
        let sums = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(file_checksums(&path))
            .unwrap();
        // The CRC-64/XZ (ECMA-182 reflected) check value.
        assert_eq!(sums.crc64, 0x995d_c9bb_df19_39fa);
        assert_eq!(sums.md5_hex(), "25f9e794323b453885f5181f1b624d0b");
    }

    #[test]
    fn md5_etags_are_recognised() {
        assert!(etag_is_md5("25f9e794323b453885f5181f1b624d0b"));
        assert!(!etag_is_md5("25f9e794323b453885f5181f1b624d0b-3"));
        assert!(!etag_is_md5(""));
    }
}
