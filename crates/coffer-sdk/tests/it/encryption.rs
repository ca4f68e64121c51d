//! The client-side encryption client against a real server: round trips with every provider
//! kind, ranges at odd offsets, what is stored, multipart parts in parallel and the 16-byte
//! rule, upload_file / download_file, objects that are not encrypted.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use coffer_sdk::crypto::{
    AesProvider, CryptoError, EncryptionMaterials, KeyProvider, RsaProvider, HEADER_IV, HEADER_KEY,
};
use coffer_sdk::encryption::{CosEncryptionClient, EncryptedFileUpload, EncryptedUpload};
use coffer_sdk::{
    Body, ByteRange, ClientError, CompletedPart, CreateMultipartUploadRequest, Error,
    GetObjectRequest, ListMultipartUploadsRequest, PutObjectRequest,
};
use md5::{Digest, Md5};

use crate::support::{data, TestServer};

const B: &str = "sdkcrypto";
const MIB: usize = 1 << 20;
/// The protocol reference's §12.2 AES master key (bytes 0x00..0x1f).
const AES_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

fn keys_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/interop/keys")
}

fn aes() -> Arc<dyn KeyProvider> {
    Arc::new(AesProvider::from_base64(AES_KEY).unwrap())
}

/// Python's `RSAProvider(get_rsa_key_pair(public_pem, private_pem))`: PKCS#1 v1.5.
fn rsa_pkcs1(fallback: bool) -> Arc<dyn KeyProvider> {
    let read = |name: &str| std::fs::read_to_string(keys_dir().join(name)).unwrap();
    let provider =
        RsaProvider::from_pem(&read("rsa_public.pem"), &read("rsa_private.pem")).unwrap();
    Arc::new(provider.with_fallback(fallback))
}

/// Python's `RSAProvider(get_rsa_key_pair_path(public, private))`: OAEP-SHA1.
fn rsa_oaep(fallback: bool) -> Arc<dyn KeyProvider> {
    let provider = RsaProvider::from_pem_files(
        keys_dir().join("rsa_public.pem"),
        keys_dir().join("rsa_private.pem"),
    )
    .unwrap();
    Arc::new(provider.with_fallback(fallback))
}

async fn start(provider: Arc<dyn KeyProvider>) -> (TestServer, CosEncryptionClient) {
    let server = TestServer::start().await;
    let client = server.client_with_bucket(B).await;
    (server, CosEncryptionClient::new(client, provider))
}

fn md5_etag(data: &[u8]) -> String {
    format!("\"{}\"", hex::encode(Md5::digest(data)))
}

async fn get_all(crypto: &CosEncryptionClient, key: &str) -> Vec<u8> {
    let got = crypto
        .get_object(GetObjectRequest::new(B, key))
        .await
        .unwrap();
    assert_eq!(got.status, 200);
    got.body.bytes().await.unwrap().to_vec()
}

async fn get_range(crypto: &CosEncryptionClient, key: &str, range: ByteRange) -> Vec<u8> {
    let got = crypto
        .get_object(GetObjectRequest::new(B, key).range(range))
        .await
        .unwrap();
    assert_eq!(got.status, 206, "{range:?}");
    got.body.bytes().await.unwrap().to_vec()
}

/// What the service stores is the AES-256-CTR ciphertext of `plain` under the data key and IV
/// unwrapped from the object's metadata (read with the plain client), and nothing else.
/// Returns the stored bytes.
async fn assert_stored_ciphertext(
    crypto: &CosEncryptionClient,
    key: &str,
    plain: &[u8],
) -> Vec<u8> {
    let head = crypto.inner().head_object((B, key)).await.unwrap();
    assert!(
        head.headers.contains_key(HEADER_KEY),
        "{key}: no key header"
    );
    assert!(head.headers.contains_key(HEADER_IV), "{key}: no iv header");
    let materials =
        EncryptionMaterials::from_metadata(&**crypto.provider(), head.metadata.iter()).unwrap();
    let stored = crypto
        .inner()
        .get_object(GetObjectRequest::new(B, key))
        .await
        .unwrap()
        .body
        .bytes()
        .await
        .unwrap()
        .to_vec();
    assert_eq!(stored.len(), plain.len(), "{key}");
    if plain.len() >= 8 {
        assert_ne!(stored, plain, "{key}: stored in clear");
    }
    assert!(
        stored == materials.cipher().apply_to_vec(plain),
        "{key}: stored bytes are not AES-CTR of the plaintext under the unwrapped key"
    );
    assert_eq!(head.content_length, plain.len() as u64);
    stored
}

fn is_missing_metadata(error: &Error) -> bool {
    matches!(
        error,
        Error::Client(ClientError::Crypto(CryptoError::MissingMetadata(_)))
    )
}

fn is_invalid_argument(error: &Error) -> bool {
    matches!(error, Error::Client(ClientError::InvalidArgument(_)))
}

#[tokio::test]
async fn aes_round_trips_and_stores_the_ciphertext() {
    let (_server, crypto) = start(aes()).await;
    for (i, len) in [0, 1, 15, 16, 17, 44, 1000, 300_001]
        .into_iter()
        .enumerate()
    {
        let plain = data(len, i as u64 + 1);
        let key = format!("aes/{len}");
        let put = crypto
            .put_object(PutObjectRequest::new(B, &key).body(plain.clone()))
            .await
            .unwrap();
        assert_eq!(get_all(&crypto, &key).await, plain, "{key}");
        let stored = assert_stored_ciphertext(&crypto, &key, &plain).await;
        assert_eq!(put.etag, md5_etag(&stored), "the ETag is the ciphertext's");
    }
    // A fresh data key and IV for every object: the same plaintext twice, two ciphertexts.
    let plain = data(64, 9);
    for key in ["same/1", "same/2"] {
        crypto
            .put_object(PutObjectRequest::new(B, key).body(plain.clone()))
            .await
            .unwrap();
    }
    let one = assert_stored_ciphertext(&crypto, "same/1", &plain).await;
    let two = assert_stored_ciphertext(&crypto, "same/2", &plain).await;
    assert_ne!(one, two);
    // Another master key reads garbage (AES-CTR authenticates nothing) but never fails.
    let other = CosEncryptionClient::new(
        crypto.inner().clone(),
        Arc::new(AesProvider::from_bytes(&[0x42; 32]).unwrap()),
    );
    assert_ne!(get_all(&other, "same/1").await, plain);
}

#[tokio::test]
async fn rsa_round_trips_with_both_paddings() {
    let (_server, pkcs1) = start(rsa_pkcs1(false)).await;
    let oaep = CosEncryptionClient::new(pkcs1.inner().clone(), rsa_oaep(false));
    let plain = data(5000, 3);
    for (crypto, key) in [(&pkcs1, "rsa/pkcs1"), (&oaep, "rsa/oaep")] {
        crypto
            .put_object(PutObjectRequest::new(B, key).body(plain.clone()))
            .await
            .unwrap();
        assert_eq!(get_all(crypto, key).await, plain, "{key}");
        assert_stored_ciphertext(crypto, key, &plain).await;
        let head = crypto.inner().head_object((B, key)).await.unwrap();
        let materials =
            EncryptionMaterials::from_metadata(&**crypto.provider(), head.metadata.iter()).unwrap();
        assert_eq!(materials.envelope().wrapped_key().len(), 256);
        assert_eq!(materials.envelope().wrapped_iv().len(), 256);
    }
    // The paddings are not interchangeable without the fallback…
    let e = oaep
        .get_object(GetObjectRequest::new(B, "rsa/pkcs1"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::Client(ClientError::Crypto(CryptoError::RsaDecrypt { .. }))
        ),
        "{e:?}"
    );
    // …and both read with it.
    let either = CosEncryptionClient::new(pkcs1.inner().clone(), rsa_oaep(true));
    assert_eq!(get_all(&either, "rsa/pkcs1").await, plain);
    assert_eq!(get_all(&either, "rsa/oaep").await, plain);
    // Another key pair cannot unwrap.
    let other = RsaProvider::from_private_key(
        &std::fs::read(keys_dir().join("rsa_other_private.pem")).unwrap(),
        coffer_sdk::crypto::RsaPadding::OaepSha1,
    )
    .unwrap();
    let stranger = CosEncryptionClient::new(pkcs1.inner().clone(), Arc::new(other));
    let e = stranger
        .get_object(GetObjectRequest::new(B, "rsa/oaep"))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Client(ClientError::Crypto(_))), "{e:?}");
}

#[tokio::test]
async fn ranged_gets_decrypt_from_any_offset() {
    let (_server, crypto) = start(aes()).await;
    let small = data(1000, 5);
    let large = data(600_000, 6);
    crypto
        .put_object(PutObjectRequest::new(B, "small").body(small.clone()))
        .await
        .unwrap();
    crypto
        .put_object(PutObjectRequest::new(B, "large").body(large.clone()))
        .await
        .unwrap();
    let ranges: [(u64, u64); 10] = [
        (0, 0),
        (1, 14),
        (13, 40),
        (15, 16),
        (16, 31),
        (17, 99),
        (31, 32),
        (333, 334),
        (999, 999),
        (5, 999),
    ];
    for (a, b) in ranges {
        let got = get_range(&crypto, "small", ByteRange::Inclusive(a, b)).await;
        assert_eq!(got, &small[a as usize..=b as usize], "bytes={a}-{b}");
    }
    // Past the end: the service answers up to the last byte.
    let got = get_range(&crypto, "small", ByteRange::Inclusive(990, 5000)).await;
    assert_eq!(got, &small[990..]);
    let got = get_range(&crypto, "small", ByteRange::From(777)).await;
    assert_eq!(got, &small[777..]);
    let got = get_range(&crypto, "small", ByteRange::Suffix(33)).await;
    assert_eq!(got, &small[1000 - 33..]);
    for (a, b) in [
        (262_143u64, 262_200u64),
        (100_001, 599_998),
        (599_985, 599_999),
    ] {
        let got = get_range(&crypto, "large", ByteRange::Inclusive(a, b)).await;
        assert_eq!(got, &large[a as usize..=b as usize], "bytes={a}-{b}");
    }
}

#[tokio::test]
async fn file_and_stream_bodies_md5_and_metadata() {
    let (_server, crypto) = start(aes()).await;
    let dir = tempfile::tempdir().unwrap();
    let plain = data(700_001, 8);
    let path = dir.path().join("in.bin");
    std::fs::write(&path, &plain).unwrap();

    // A file body streams; enable_md5 sends the ciphertext's MD5 (the service checks it).
    let reported = Arc::new(AtomicU64::new(0));
    let seen = Arc::clone(&reported);
    let put = crypto
        .put_object_from_local_file(
            PutObjectRequest::new(B, "file")
                .enable_md5(true)
                .content_type("application/x-test")
                .metadata("author", "alice")
                .metadata("client-side-encryption-key", "forged")
                .progress(move |done, total| {
                    assert!(done <= total);
                    seen.store(done, Ordering::Relaxed);
                }),
            &path,
        )
        .await
        .unwrap();
    assert_eq!(reported.load(Ordering::Relaxed), plain.len() as u64);
    let stored = assert_stored_ciphertext(&crypto, "file", &plain).await;
    assert_eq!(put.etag, md5_etag(&stored));
    let got = crypto
        .get_object(GetObjectRequest::new(B, "file"))
        .await
        .unwrap();
    assert_eq!(
        got.metadata.content_type.as_deref(),
        Some("application/x-test")
    );
    assert_eq!(
        got.metadata.metadata.get("author").map(String::as_str),
        Some("alice")
    );
    assert_eq!(got.body.bytes().await.unwrap(), plain);

    // A bytes body with enable_md5.
    crypto
        .put_object(
            PutObjectRequest::new(B, "bytes-md5")
                .body(plain[..1000].to_vec())
                .enable_md5(true),
        )
        .await
        .unwrap();
    assert_eq!(get_all(&crypto, "bytes-md5").await, &plain[..1000]);

    // A one-shot stream body (from a reader).
    let reader = std::io::Cursor::new(plain.clone());
    crypto
        .put_object(
            PutObjectRequest::new(B, "stream")
                .body(Body::from_reader(reader, Some(plain.len() as u64))),
        )
        .await
        .unwrap();
    assert_stored_ciphertext(&crypto, "stream", &plain).await;
    // The decrypting reader and download_file.
    let got = crypto
        .get_object(GetObjectRequest::new(B, "stream"))
        .await
        .unwrap();
    let mut reader = got.body.into_async_read();
    let mut back = Vec::new();
    tokio::io::AsyncReadExt::read_to_end(&mut reader, &mut back)
        .await
        .unwrap();
    assert_eq!(back, plain);
    let out = dir.path().join("out.bin");
    assert_eq!(
        crypto.download_file(B, "stream", &out).await.unwrap(),
        plain.len() as u64
    );
    assert_eq!(std::fs::read(&out).unwrap(), plain);

    // Refused: the MD5 of a stream, and a caller's Content-MD5.
    let reader = std::io::Cursor::new(plain.clone());
    let e = crypto
        .put_object(
            PutObjectRequest::new(B, "refused")
                .body(Body::from_reader(reader, None))
                .enable_md5(true),
        )
        .await
        .unwrap_err();
    assert!(is_invalid_argument(&e), "{e:?}");
    let e = crypto
        .put_object(
            PutObjectRequest::new(B, "refused")
                .body("x")
                .content_md5("LYy9SXK8kbdmCb5bVUvx7g=="),
        )
        .await
        .unwrap_err();
    assert!(is_invalid_argument(&e), "{e:?}");
    assert!(!crypto.inner().object_exists(B, "refused").await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multipart_parts_in_parallel_and_out_of_order() {
    let (_server, crypto) = start(rsa_oaep(false)).await;
    let plain = data(3 * MIB + 100_003, 11);
    let upload = crypto
        .create_multipart_upload(
            CreateMultipartUploadRequest::new(B, "multi").content_type("application/x-multi"),
        )
        .await
        .unwrap();
    let extents = [
        (4u32, 3 * MIB, plain.len()),
        (2, MIB, 2 * MIB),
        (1, 0, MIB),
        (3, 2 * MIB, 3 * MIB),
    ];
    let mut tasks = Vec::new();
    for (number, start, end) in extents {
        let (crypto, upload) = (crypto.clone(), upload.clone());
        let part = plain[start..end].to_vec();
        tasks.push(tokio::spawn(async move {
            let out = crypto
                .upload_part(&upload, number, start as u64, part)
                .await
                .unwrap();
            CompletedPart {
                part_number: number,
                etag: out.etag,
            }
        }));
    }
    let mut parts = Vec::new();
    for task in tasks {
        parts.push(task.await.unwrap());
    }
    // Listed out of order: completion sorts them.
    let done = crypto
        .complete_multipart_upload(&upload, parts)
        .await
        .unwrap();
    assert!(done.etag.ends_with("-4\""), "{}", done.etag);

    assert_eq!(get_all(&crypto, "multi").await, plain);
    assert_stored_ciphertext(&crypto, "multi", &plain).await;
    for (a, b) in [
        (MIB - 5, MIB + 20),
        (2 * MIB - 1, 2 * MIB),
        (17, 3 * MIB + 7),
    ] {
        let got = get_range(&crypto, "multi", ByteRange::Inclusive(a as u64, b as u64)).await;
        assert_eq!(got, &plain[a..=b], "bytes={a}-{b}");
    }
    let head = crypto.inner().head_object((B, "multi")).await.unwrap();
    assert_eq!(head.content_type.as_deref(), Some("application/x-multi"));
}

#[tokio::test]
async fn multipart_part_length_rule_is_enforced() {
    let (_server, crypto) = start(aes()).await;
    let upload = crypto
        .create_multipart_upload(CreateMultipartUploadRequest::new(B, "rule"))
        .await
        .unwrap();
    // A part that is not a multiple of 16 can only be the last one.
    crypto
        .upload_part(&upload, 2, MIB as u64, vec![1u8; 40])
        .await
        .unwrap();
    let e = crypto
        .upload_part(&upload, 3, MIB as u64 + 48, vec![2u8; 16])
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::Client(ClientError::Crypto(CryptoError::UnalignedPart { len: 40 }))
        ),
        "{e:?}"
    );
    let e = crypto
        .upload_part(&upload, 1, 0, vec![3u8; MIB - 8])
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::Client(ClientError::Crypto(CryptoError::UnalignedPart { .. }))
        ),
        "{e:?}"
    );
    // An offset that is not a multiple of 16.
    let e = crypto
        .upload_part(&upload, 1, 8, vec![3u8; 16])
        .await
        .unwrap_err();
    assert!(is_invalid_argument(&e), "{e:?}");
    // A body of unknown length.
    let e = crypto
        .upload_part(
            &upload,
            1,
            0,
            Body::from_reader(std::io::Cursor::new(vec![0u8; 16]), None),
        )
        .await
        .unwrap_err();
    assert!(is_invalid_argument(&e), "{e:?}");
    // Nothing refused reached the service.
    let listed = crypto
        .inner()
        .list_all_parts(B, "rule", upload.upload_id())
        .await
        .unwrap();
    assert_eq!(
        listed.iter().map(|p| p.part_number).collect::<Vec<_>>(),
        vec![2]
    );
    // Completing with a gap (part 1 missing) would not decrypt: refused.
    let e = crypto
        .complete_multipart_upload(
            &upload,
            [CompletedPart {
                part_number: 2,
                etag: listed[0].etag.clone(),
            }],
        )
        .await
        .unwrap_err();
    assert!(is_invalid_argument(&e), "{e:?}");
    let part1 = crypto
        .upload_part(&upload, 1, 0, vec![3u8; MIB])
        .await
        .unwrap();
    let part2 = CompletedPart::from(&listed[0]);
    crypto
        .complete_multipart_upload(
            &upload,
            [
                part2,
                CompletedPart {
                    part_number: 1,
                    etag: part1.etag,
                },
            ],
        )
        .await
        .unwrap();
    let mut expected = vec![3u8; MIB];
    expected.extend_from_slice(&[1u8; 40]);
    assert_eq!(get_all(&crypto, "rule").await, expected);

    // Aborting, and a handle for an upload created elsewhere (resumed from its envelope).
    let other = crypto
        .create_multipart_upload(CreateMultipartUploadRequest::new(B, "aborted"))
        .await
        .unwrap();
    let resumed =
        EncryptedUpload::resume(B, "aborted", other.upload_id(), other.materials().clone());
    crypto.abort_multipart_upload(&resumed).await.unwrap();
    let open = crypto
        .inner()
        .list_multipart_uploads(ListMultipartUploadsRequest::new(B))
        .await
        .unwrap();
    assert!(open.uploads.is_empty(), "{:?}", open.uploads);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_file_multipart_and_single() {
    let (_server, crypto) = start(rsa_pkcs1(false)).await;
    let dir = tempfile::tempdir().unwrap();
    let plain = data(3 * MIB + MIB / 2 + 5, 12);
    let path = dir.path().join("big.bin");
    std::fs::write(&path, &plain).unwrap();

    let calls = Arc::new(AtomicU64::new(0));
    let last = Arc::new(AtomicU64::new(0));
    let (c, l) = (Arc::clone(&calls), Arc::clone(&last));
    let out = crypto
        .upload_file(
            B,
            "big",
            &path,
            MIB as u64 + 1,
            3,
            Some(coffer_sdk::ProgressCallback::new(move |done, total| {
                assert!(done <= total);
                c.fetch_add(1, Ordering::Relaxed);
                l.store(done, Ordering::Relaxed);
            })),
        )
        .await
        .unwrap();
    assert_eq!(
        out.part_size,
        MIB as u64 + 16,
        "rounded up to a multiple of 16"
    );
    assert_eq!(out.parts, 4);
    assert!(out.etag.ends_with("-4\""), "{}", out.etag);
    assert!(calls.load(Ordering::Relaxed) > 4);
    assert_eq!(last.load(Ordering::Relaxed), plain.len() as u64);

    let back = dir.path().join("big.out");
    crypto.download_file(B, "big", &back).await.unwrap();
    assert!(std::fs::read(&back).unwrap() == plain);
    assert_stored_ciphertext(&crypto, "big", &plain).await;
    let boundary = MIB + 16;
    let got = get_range(
        &crypto,
        "big",
        ByteRange::Inclusive(boundary as u64 - 3, boundary as u64 + 3),
    )
    .await;
    assert_eq!(got, &plain[boundary - 3..=boundary + 3]);

    // At or below the part size: one put_object; options are applied either way.
    let small = dir.path().join("small.bin");
    std::fs::write(&small, &plain[..1000]).unwrap();
    let out = crypto
        .upload_file_with(
            EncryptedFileUpload::new(B, "small", &small)
                .part_size(1000)
                .metadata("kind", "small"),
        )
        .await
        .unwrap();
    assert_eq!(out.parts, 0);
    assert_eq!(get_all(&crypto, "small").await, &plain[..1000]);
    let head = crypto.inner().head_object((B, "small")).await.unwrap();
    assert_eq!(head.metadata.get("kind").map(String::as_str), Some("small"));

    // No upload left open.
    let open = crypto
        .inner()
        .list_multipart_uploads(ListMultipartUploadsRequest::new(B))
        .await
        .unwrap();
    assert!(open.uploads.is_empty());

    // A missing file fails before anything is sent.
    let e = crypto
        .upload_file(B, "none", dir.path().join("none"), MIB as u64, 2, None)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Client(ClientError::Io { .. })), "{e:?}");
}

#[tokio::test]
async fn objects_without_the_envelope_are_refused() {
    let (_server, crypto) = start(aes()).await;
    crypto
        .inner()
        .put_object(PutObjectRequest::new(B, "plain").body("not encrypted"))
        .await
        .unwrap();
    let e = crypto
        .get_object(GetObjectRequest::new(B, "plain"))
        .await
        .unwrap_err();
    assert!(is_missing_metadata(&e), "{e:?}");
    assert!(
        e.to_string().contains("not a client-side encrypted object"),
        "{e}"
    );

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("plain.txt");
    let e = crypto.download_file(B, "plain", &out).await.unwrap_err();
    assert!(is_missing_metadata(&e), "{e:?}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);

    // Only one of the two headers.
    crypto
        .inner()
        .put_object(
            PutObjectRequest::new(B, "half")
                .body("x")
                .metadata("client-side-encryption-key", "AAAA"),
        )
        .await
        .unwrap();
    let e = crypto
        .get_object(GetObjectRequest::new(B, "half"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::Client(ClientError::Crypto(CryptoError::MissingMetadata(
                "client-side-encryption-iv"
            )))
        ),
        "{e:?}"
    );
    // Missing objects stay service errors.
    let e = crypto
        .get_object(GetObjectRequest::new(B, "missing"))
        .await
        .unwrap_err();
    assert_eq!(e.error_code(), Some("NoSuchKey"));
}
