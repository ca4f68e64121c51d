//! Every basic operation, including failure paths.

use coffer_sdk::{
    ByteRange, CompletedPart, CopyObjectRequest, CopySource, CreateMultipartUploadRequest,
    GetObjectRequest, ListMultipartUploadsRequest, ListObjectsRequest, MetadataDirective, Method,
    PresignRequest, PutObjectRequest, UploadPartCopyRequest, UploadPartRequest,
};
use futures_util::TryStreamExt;

use crate::support::{data, TestServer, APPID};

const B: &str = "sdkops";

#[tokio::test]
async fn buckets_lifecycle() {
    let server = TestServer::start().await;
    let client = server.client();
    assert!(!client.bucket_exists("lifecycle").await.unwrap());
    client.create_bucket("lifecycle").await.unwrap();
    assert!(client.bucket_exists("lifecycle").await.unwrap());
    client.head_bucket("lifecycle").await.unwrap();
    assert_eq!(
        client.get_bucket_location("lifecycle").await.unwrap(),
        "ap-guangzhou"
    );
    let listed = client.list_buckets().await.unwrap();
    assert!(listed
        .buckets
        .iter()
        .any(|b| b.name == format!("lifecycle-{APPID}")));
    let again = client.create_bucket("lifecycle").await.unwrap_err();
    assert_eq!(again.status_code(), Some(409));
    assert_eq!(
        again.error_code(),
        Some("BucketAlreadyOwnedByYou").or(again.error_code())
    );
    client
        .put_object(PutObjectRequest::new("lifecycle", "k").body("x"))
        .await
        .unwrap();
    let not_empty = client.delete_bucket("lifecycle").await.unwrap_err();
    assert_eq!(not_empty.error_code(), Some("BucketNotEmpty"));
    client.delete_object("lifecycle", "k").await.unwrap();
    client.delete_bucket("lifecycle").await.unwrap();
    assert!(!client.bucket_exists("lifecycle").await.unwrap());
}

#[tokio::test]
async fn put_get_head_delete_with_every_header() {
    let server = TestServer::start().await;
    let client = server.client_with_bucket(B).await;
    let key = "dir/中文 a+b.txt";
    let put = client
        .put_object(
            PutObjectRequest::new(B, key)
                .body("hello world")
                .content_type("text/plain")
                .cache_control("no-cache")
                .content_disposition("attachment; filename=\"x.txt\"")
                .content_encoding("identity")
                .content_language("zh-CN")
                .expires("Wed, 21 Oct 2037 07:28:00 GMT")
                .metadata("author", "alice")
                .metadata("x-cos-meta-Project", "coffer")
                .storage_class("STANDARD_IA")
                .acl("private")
                .grant_read("id=\"100000000001\"")
                .traffic_limit(819_200 * 100)
                .enable_md5(true),
        )
        .await
        .unwrap();
    assert_eq!(put.etag, "\"5eb63bbbe01eeed093cb22bb8f5acdc3\"");
    assert_eq!(put.crc64, Some(5981764153023615706));

    let head = client.head_object((B, key)).await.unwrap();
    assert_eq!(head.content_length, 11);
    assert_eq!(head.content_type.as_deref(), Some("text/plain"));
    assert_eq!(head.cache_control.as_deref(), Some("no-cache"));
    assert_eq!(head.content_language.as_deref(), Some("zh-CN"));
    assert_eq!(head.storage_class.as_deref(), Some("STANDARD_IA"));
    assert_eq!(
        head.metadata.get("author").map(String::as_str),
        Some("alice")
    );
    assert_eq!(
        head.metadata.get("project").map(String::as_str),
        Some("coffer")
    );
    assert_eq!(head.crc64, Some(5981764153023615706));

    let got = client
        .get_object(
            GetObjectRequest::new(B, key)
                .range(ByteRange::Inclusive(0, 4))
                .if_match(put.etag.clone())
                .response_content_type("text/x-test")
                .response_content_disposition("attachment; filename=\"x y.txt\""),
        )
        .await
        .unwrap();
    assert_eq!(got.status, 206);
    assert_eq!(got.metadata.content_type.as_deref(), Some("text/x-test"));
    assert_eq!(got.metadata.object_size(), 11);
    assert_eq!(&got.body.bytes().await.unwrap()[..], b"hello");

    let not_modified = client
        .get_object(GetObjectRequest::new(B, key).if_none_match(put.etag.clone()))
        .await
        .unwrap();
    assert_eq!(not_modified.status, 304);

    let failed = client
        .get_object(GetObjectRequest::new(B, key).if_match("\"nope\""))
        .await
        .unwrap_err();
    assert_eq!(failed.status_code(), Some(412));

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.txt");
    let got = client
        .get_object(GetObjectRequest::new(B, key))
        .await
        .unwrap();
    assert_eq!(got.body.to_file(&path).await.unwrap(), 11);
    assert_eq!(std::fs::read(&path).unwrap(), b"hello world");

    assert!(client.object_exists(B, key).await.unwrap());
    client.delete_object(B, key).await.unwrap();
    assert!(!client.object_exists(B, key).await.unwrap());
    // Deleting a missing key succeeds.
    client.delete_object(B, key).await.unwrap();
}

#[tokio::test]
async fn service_errors_carry_every_field() {
    let server = TestServer::start().await;
    let client = server.client_with_bucket(B).await;

    let e = client
        .get_object(GetObjectRequest::new(B, "missing"))
        .await
        .unwrap_err();
    let s = e.as_service().expect("service error");
    assert_eq!((s.status_code, s.code.as_str()), (404, "NoSuchKey"));
    assert!(!s.message.is_empty());
    assert!(!s.request_id.is_empty());
    assert!(!s.trace_id.is_empty());
    assert!(s.resource.contains("missing"), "{}", s.resource);
    assert!(s.raw.contains("<Code>NoSuchKey</Code>"));

    let e = client
        .get_object(GetObjectRequest::new("nobucket", "k"))
        .await
        .unwrap_err();
    assert_eq!(e.error_code(), Some("NoSuchBucket"));
    assert_eq!(e.status_code(), Some(404));

    let e = client.head_object((B, "missing")).await.unwrap_err();
    assert_eq!(e.error_code(), Some("NoSuchResource"));
    assert!(!e.as_service().unwrap().request_id.is_empty());

    let wrong_key = coffer_sdk::CosClient::new(
        server
            .config()
            .credentials(crate::support::SECRET_ID, "wrong-key"),
    )
    .unwrap();
    let e = wrong_key
        .get_object(GetObjectRequest::new(B, "k"))
        .await
        .unwrap_err();
    assert_eq!(e.error_code(), Some("SignatureDoesNotMatch"));
    assert_eq!(e.status_code(), Some(403));

    let anonymous = coffer_sdk::CosClient::new(server.config().anonymous()).unwrap();
    let e = anonymous
        .put_object(PutObjectRequest::new(B, "k").body("x"))
        .await
        .unwrap_err();
    assert_eq!(e.error_code(), Some("AccessDenied"));
    assert_eq!(e.status_code(), Some(403));
    assert!(!e.as_service().unwrap().request_id.is_empty());

    let unknown =
        coffer_sdk::CosClient::new(server.config().credentials("AKIDunknown", "x")).unwrap();
    let e = unknown.list_buckets().await.unwrap_err();
    assert_eq!(e.error_code(), Some("InvalidAccessKeyId"));
}

#[tokio::test]
async fn listing_pages_and_decodes_keys() {
    let server = TestServer::start().await;
    let client = server.client_with_bucket(B).await;
    let keys = ["a b/1", "a b/2", "a+b/3", "top", "中文/x", "z%20"];
    for k in keys {
        client
            .put_object(PutObjectRequest::new(B, k).body(k.to_string()))
            .await
            .unwrap();
    }
    let page = client
        .list_objects(ListObjectsRequest::new(B).delimiter("/"))
        .await
        .unwrap();
    assert_eq!(page.common_prefixes, vec!["a b/", "a+b/", "中文/"]);
    assert_eq!(
        page.contents
            .iter()
            .map(|c| c.key.as_str())
            .collect::<Vec<_>>(),
        vec!["top", "z%20"]
    );
    assert!(!page.is_truncated);
    let all: Vec<_> = client
        .list_objects_stream(ListObjectsRequest::new(B).max_keys(2))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), keys.len());
    assert_eq!(all[0].key, "a b/1");
    assert_eq!(all[0].size, 5);
    let prefixed = client
        .list_objects(ListObjectsRequest::new(B).prefix("a b/").max_keys(1))
        .await
        .unwrap();
    assert!(prefixed.is_truncated);
    assert_eq!(prefixed.next_marker.as_deref(), Some("a b/1"));

    let deleted = client.delete_objects(B, keys, false).await.unwrap();
    assert_eq!(deleted.deleted.len(), keys.len());
    assert!(deleted.errors.is_empty());
    let quiet = client.delete_objects(B, ["gone"], true).await.unwrap();
    assert!(quiet.deleted.is_empty());
    let empty = client
        .list_objects(ListObjectsRequest::new(B))
        .await
        .unwrap();
    assert!(empty.contents.is_empty());
}

#[tokio::test]
async fn copy_object_copy_and_replaced() {
    let server = TestServer::start().await;
    let client = server.client_with_bucket(B).await;
    client.create_bucket("other").await.unwrap();
    client
        .put_object(
            PutObjectRequest::new(B, "src key")
                .body("copy me")
                .content_type("text/plain")
                .metadata("a", "1"),
        )
        .await
        .unwrap();
    let copied = client
        .copy_object(CopyObjectRequest::new(
            "other",
            "dst",
            CopySource::new(B, "src key"),
        ))
        .await
        .unwrap();
    assert_eq!(copied.etag, format!("\"{}\"", hex_md5(b"copy me")));
    let head = client.head_object(("other", "dst")).await.unwrap();
    assert_eq!(head.metadata.get("a").map(String::as_str), Some("1"));
    assert_eq!(head.content_type.as_deref(), Some("text/plain"));

    let replaced = client
        .copy_object(
            CopyObjectRequest::new(B, "src key", CopySource::new(B, "src key"))
                .metadata_directive(MetadataDirective::Replaced)
                .content_type("application/json")
                .metadata("b", "2"),
        )
        .await
        .unwrap();
    assert!(!replaced.etag.is_empty());
    let head = client.head_object((B, "src key")).await.unwrap();
    assert_eq!(head.content_type.as_deref(), Some("application/json"));
    assert_eq!(head.metadata.get("b").map(String::as_str), Some("2"));
    assert!(!head.metadata.contains_key("a"));

    let failed = client
        .copy_object(
            CopyObjectRequest::new(B, "x", CopySource::new(B, "src key"))
                .copy_source_if_match("\"0000\""),
        )
        .await
        .unwrap_err();
    assert_eq!(failed.status_code(), Some(412));
    let missing = client
        .copy_object(CopyObjectRequest::new(B, "x", CopySource::new(B, "nope")))
        .await
        .unwrap_err();
    assert_eq!(missing.status_code(), Some(404));
}

#[tokio::test]
async fn multipart_family() {
    let server = TestServer::start().await;
    let client = server.client_with_bucket(B).await;
    let part1 = data(1024 * 1024, 1);
    let part2 = data(10, 2);
    let created = client
        .create_multipart_upload(
            CreateMultipartUploadRequest::new(B, "mp key")
                .content_type("application/x-mp")
                .metadata("m", "v"),
        )
        .await
        .unwrap();
    let id = created.upload_id.clone();
    let p1 = client
        .upload_part(
            UploadPartRequest::new(B, "mp key", &id, 1)
                .body(part1.clone())
                .enable_md5(true),
        )
        .await
        .unwrap();
    let p2 = client
        .upload_part(UploadPartRequest::new(B, "mp key", &id, 2).body(part2.clone()))
        .await
        .unwrap();
    let uploads = client
        .list_multipart_uploads(ListMultipartUploadsRequest::new(B).prefix("mp"))
        .await
        .unwrap();
    assert_eq!(uploads.uploads.len(), 1);
    assert_eq!(uploads.uploads[0].key, "mp key");
    assert_eq!(uploads.uploads[0].upload_id, id);
    let parts = client.list_parts(B, "mp key", &id, 0, 1).await.unwrap();
    assert!(parts.is_truncated);
    assert_eq!(parts.key, "mp key");
    let all = client.list_all_parts(B, "mp key", &id).await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].etag, p1.etag);
    assert_eq!(all[1].size, 10);
    let done = client
        .complete_multipart_upload(
            B,
            "mp key",
            &id,
            vec![
                CompletedPart {
                    part_number: 2,
                    etag: p2.etag.clone(),
                },
                CompletedPart {
                    part_number: 1,
                    etag: p1.etag.clone(),
                },
            ],
        )
        .await
        .unwrap();
    assert!(done.etag.ends_with("-2\""), "{}", done.etag);
    let mut whole = part1.clone();
    whole.extend_from_slice(&part2);
    assert_eq!(done.crc64, Some(coffer_proto::checksum::crc64(&whole)));
    let head = client.head_object((B, "mp key")).await.unwrap();
    assert_eq!(head.content_type.as_deref(), Some("application/x-mp"));
    assert_eq!(head.metadata.get("m").map(String::as_str), Some("v"));

    // upload_part_copy with a range, then abort.
    let second = client
        .create_multipart_upload(CreateMultipartUploadRequest::new(B, "copy target"))
        .await
        .unwrap();
    let copied = client
        .upload_part_copy(
            UploadPartCopyRequest::new(
                B,
                "copy target",
                &second.upload_id,
                1,
                CopySource::new(B, "mp key"),
            )
            .range(0, 1024 * 1024 - 1),
        )
        .await
        .unwrap();
    assert_eq!(copied.etag, p1.etag);
    client
        .abort_multipart_upload(B, "copy target", &second.upload_id)
        .await
        .unwrap();
    let e = client
        .abort_multipart_upload(B, "copy target", &second.upload_id)
        .await
        .unwrap_err();
    assert_eq!(e.error_code(), Some("NoSuchUpload"));
}

#[tokio::test]
async fn presigned_urls_and_get_auth_are_accepted() {
    let server = TestServer::start().await;
    let client = server.client_with_bucket(B).await;
    client
        .put_object(PutObjectRequest::new(B, "a/b c.txt").body("presigned"))
        .await
        .unwrap();
    let url = client
        .get_presigned_download_url(B, "a/b c.txt", std::time::Duration::from_secs(60))
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let response = http.get(&url).send().await.unwrap();
    assert_eq!(response.status(), 200, "{url}");
    assert_eq!(response.text().await.unwrap(), "presigned");

    let put_url = client
        .get_presigned_url(&PresignRequest::new(Method::PUT, B, "uploaded"))
        .await
        .unwrap();
    let response = http.put(&put_url).body("via url").send().await.unwrap();
    assert_eq!(response.status(), 200);
    let got = client
        .get_object(GetObjectRequest::new(B, "uploaded"))
        .await
        .unwrap();
    assert_eq!(&got.body.bytes().await.unwrap()[..], b"via url");

    // get_auth: a signature for someone else's request (COS Host header, as the SDK would).
    let auth = client
        .get_auth(&PresignRequest::new(Method::GET, B, "a/b c.txt"))
        .await
        .unwrap();
    let response = http
        .get(format!("http://{}/a/b%20c.txt", server.addr))
        .header("Host", format!("{B}-{APPID}.cos.ap-guangzhou.myqcloud.com"))
        .header("Authorization", auth)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    let tampered = url.replace("q-signature=", "q-signature=0");
    assert_eq!(http.get(&tampered).send().await.unwrap().status(), 403);
}

#[tokio::test]
async fn empty_and_streamed_bodies() {
    let server = TestServer::start().await;
    let client = server.client_with_bucket(B).await;
    client
        .put_object(PutObjectRequest::new(B, "empty"))
        .await
        .unwrap();
    assert_eq!(
        client
            .head_object((B, "empty"))
            .await
            .unwrap()
            .content_length,
        0
    );
    let bytes = data(300_000, 7);
    let reader = std::io::Cursor::new(bytes.clone());
    client
        .put_object(
            PutObjectRequest::new(B, "streamed").body(coffer_sdk::Body::from_reader(reader, None)),
        )
        .await
        .unwrap();
    let got = client
        .get_object(GetObjectRequest::new(B, "streamed"))
        .await
        .unwrap();
    assert_eq!(got.body.bytes().await.unwrap().to_vec(), bytes);
    let e = client
        .put_object(
            PutObjectRequest::new(B, "bad md5")
                .body("x")
                .content_md5("XrY7u+Ae7tCTyyK7j1rNww=="),
        )
        .await
        .unwrap_err();
    assert_eq!(e.error_code(), Some("BadDigest"));
    let e = client
        .put_object(PutObjectRequest::new(B, ""))
        .await
        .unwrap_err();
    assert!(matches!(
        e,
        coffer_sdk::Error::Client(coffer_sdk::ClientError::InvalidArgument(_))
    ));
}

fn hex_md5(data: &[u8]) -> String {
    hex::encode(coffer_proto::checksum::md5(data))
}
