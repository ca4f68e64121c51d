//! Multipart uploads end to end.

use crate::support::*;

async fn initiate(server: &TestServer, key: &str) -> String {
    let response = server
        .send(
            Req::new("POST", BUCKET, key)
                .param("uploads", "")
                .header("x-cos-meta-m", "v"),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text());
    response.xml("UploadId").expect("upload id")
}

async fn part(server: &TestServer, key: &str, upload: &str, number: u32, body: Vec<u8>) -> String {
    let response = server
        .send(
            Req::put(BUCKET, key)
                .param("partNumber", &number.to_string())
                .param("uploadId", upload)
                .body(body),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text());
    response.header("ETag").expect("etag")
}

fn complete_body(parts: &[(u32, &str)]) -> String {
    let mut body = String::from("<CompleteMultipartUpload>");
    for (n, etag) in parts {
        body.push_str(&format!(
            "<Part><PartNumber>{n}</PartNumber><ETag>{}</ETag></Part>",
            etag.replace('"', "&quot;")
        ));
    }
    body.push_str("</CompleteMultipartUpload>");
    body
}

#[tokio::test]
async fn complete_builds_the_object_with_multipart_etag_and_combined_crc() {
    let server = TestServer::with_bucket().await;
    let upload = initiate(&server, "/mp").await;
    let a = vec![b'a'; 1_048_576];
    let b = vec![b'b'; 10];
    let e1 = part(&server, "/mp", &upload, 1, a.clone()).await;
    let e2 = part(&server, "/mp", &upload, 2, b.clone()).await;
    let listed = server
        .send(Req::get(BUCKET, "/mp").param("uploadId", &upload))
        .await;
    assert!(listed.text().contains("<PartNumber>2</PartNumber>"));
    assert_eq!(listed.xml("IsTruncated").as_deref(), Some("false"));
    let done = server
        .send(
            Req::new("POST", BUCKET, "/mp")
                .param("uploadId", &upload)
                .body(complete_body(&[(1, &e1), (2, &e2)])),
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.text());
    assert_eq!(
        done.xml("ETag").as_deref(),
        Some("&quot;4075b7e9311da7fee8b3df13ccfc203c-2&quot;")
    );
    let whole: Vec<u8> = a.iter().chain(b.iter()).copied().collect();
    let expected_crc = coffer_proto::checksum::crc64(&whole).to_string();
    assert_eq!(
        done.header("x-cos-hash-crc64ecma").as_deref(),
        Some(expected_crc.as_str())
    );
    let get = server.send(Req::get(BUCKET, "/mp")).await;
    assert!(get.body == whole);
    assert_eq!(get.header("x-cos-meta-m").as_deref(), Some("v"));
    let gone = server
        .send(Req::get(BUCKET, "/mp").param("uploadId", &upload))
        .await;
    assert_eq!(gone.xml("Code").as_deref(), Some("NoSuchUpload"));
}

#[tokio::test]
async fn completion_errors() {
    let server = TestServer::with_bucket().await;
    let upload = initiate(&server, "/e").await;
    let small = part(&server, "/e", &upload, 1, vec![1u8; 100]).await;
    let last = part(&server, "/e", &upload, 2, vec![2u8; 100]).await;
    let post = |body: String| {
        Req::new("POST", BUCKET, "/e")
            .param("uploadId", &upload)
            .body(body)
    };
    let too_small = server
        .send(post(complete_body(&[(1, &small), (2, &last)])))
        .await;
    assert_eq!(too_small.xml("Code").as_deref(), Some("EntityTooSmall"));
    let wrong_etag = server.send(post(complete_body(&[(2, "\"0000\"")]))).await;
    assert_eq!(wrong_etag.xml("Code").as_deref(), Some("InvalidPart"));
    let missing = server.send(post(complete_body(&[(3, &last)]))).await;
    assert_eq!(missing.xml("Code").as_deref(), Some("InvalidPart"));
    let unordered = server
        .send(post(complete_body(&[(2, &last), (1, &small)])))
        .await;
    assert_eq!(unordered.xml("Code").as_deref(), Some("InvalidPartOrder"));
    let no_upload = server
        .send(
            Req::new("POST", BUCKET, "/e")
                .param("uploadId", "nope")
                .body(complete_body(&[(1, &small)])),
        )
        .await;
    assert_eq!(no_upload.xml("Code").as_deref(), Some("NoSuchUpload"));
    // The single last part may be small.
    let single = server.send(post(complete_body(&[(2, &last)]))).await;
    assert_eq!(single.status, 200, "{}", single.text());
}

#[tokio::test]
async fn abort_list_uploads_and_part_copy() {
    let server = TestServer::with_bucket().await;
    server
        .send(
            Req::put(BUCKET, "/source")
                .body((0..2_000_000u32).map(|i| i as u8).collect::<Vec<u8>>()),
        )
        .await;
    let upload = initiate(&server, "/copied").await;
    let copy = server
        .send(
            Req::put(BUCKET, "/copied")
                .param("partNumber", "1")
                .param("uploadId", &upload)
                .header(
                    "x-cos-copy-source",
                    &format!("{BUCKET}.cos.ap-guangzhou.myqcloud.com/source"),
                )
                .header("x-cos-copy-source-range", "bytes=0-1048575"),
        )
        .await;
    assert_eq!(copy.status, 200, "{}", copy.text());
    let listed = server
        .send(Req::get(BUCKET, "/").param("uploads", ""))
        .await;
    assert!(listed.text().contains(&upload));
    assert_eq!(
        server
            .send(Req::new("DELETE", BUCKET, "/copied").param("uploadId", &upload))
            .await
            .status,
        204
    );
    let again = server
        .send(Req::new("DELETE", BUCKET, "/copied").param("uploadId", &upload))
        .await;
    assert_eq!(again.xml("Code").as_deref(), Some("NoSuchUpload"));
    let bucket_delete_blocked = initiate(&server, "/pending").await;
    server.send(Req::new("DELETE", BUCKET, "/source")).await;
    let response = server.send(Req::new("DELETE", BUCKET, "/")).await;
    assert_eq!(
        response.xml("Code").as_deref(),
        Some("BucketNotEmpty"),
        "uploads {bucket_delete_blocked} remain"
    );
}

fn post_complete(key: &str, upload: &str, body: String) -> Req {
    Req::new("POST", BUCKET, key)
        .param("uploadId", upload)
        .body(body)
}

#[tokio::test]
async fn completion_sent_again_answers_the_same_document() {
    let server = TestServer::with_bucket().await;
    let upload = initiate(&server, "/again").await;
    let e1 = part(&server, "/again", &upload, 1, vec![b'x'; 1_048_576]).await;
    let e2 = part(&server, "/again", &upload, 2, vec![b'y'; 7]).await;
    let body = complete_body(&[(1, &e1), (2, &e2)]);
    let first = server.send(post_complete("/again", &upload, body)).await;
    assert_eq!(first.status, 200, "{}", first.text());
    // The retry names the same parts, ETags without quotes this time.
    let unquoted = complete_body(&[(1, e1.trim_matches('"')), (2, e2.trim_matches('"'))]);
    let again = server
        .send(post_complete("/again", &upload, unquoted))
        .await;
    assert_eq!(again.status, 200, "{}", again.text());
    assert!(
        again.body == first.body,
        "{} vs {}",
        again.text(),
        first.text()
    );
    for field in ["Location", "Bucket", "Key", "ETag"] {
        assert!(first.xml(field).is_some(), "{field}");
        assert_eq!(again.xml(field), first.xml(field), "{field}");
    }
    assert!(first.header("x-cos-hash-crc64ecma").is_some());
    assert_eq!(
        again.header("x-cos-hash-crc64ecma"),
        first.header("x-cos-hash-crc64ecma")
    );
    // A different part list is not a retry.
    let other = server
        .send(post_complete("/again", &upload, complete_body(&[(1, &e1)])))
        .await;
    assert_eq!(other.status, 404, "{}", other.text());
    assert_eq!(other.xml("Code").as_deref(), Some("NoSuchUpload"));
    // The completed upload is gone for every other operation.
    let list = server
        .send(Req::get(BUCKET, "/again").param("uploadId", &upload))
        .await;
    assert_eq!(list.xml("Code").as_deref(), Some("NoSuchUpload"));
    let abort = server
        .send(Req::new("DELETE", BUCKET, "/again").param("uploadId", &upload))
        .await;
    assert_eq!(abort.xml("Code").as_deref(), Some("NoSuchUpload"));
    let put_part = server
        .send(
            Req::put(BUCKET, "/again")
                .param("partNumber", "3")
                .param("uploadId", &upload)
                .body("z"),
        )
        .await;
    assert_eq!(put_part.xml("Code").as_deref(), Some("NoSuchUpload"));
    // A retry after the object changed still gets the completion's own answer.
    server.send(Req::put(BUCKET, "/again").body("newer")).await;
    let body = complete_body(&[(1, &e1), (2, &e2)]);
    let late = server.send(post_complete("/again", &upload, body)).await;
    assert_eq!(late.status, 200, "{}", late.text());
    assert_eq!(late.xml("ETag"), first.xml("ETag"));
}

#[tokio::test]
async fn completion_of_the_same_upload_on_parallel_connections_succeeds_once() {
    let server = TestServer::with_bucket().await;
    let upload = initiate(&server, "/race").await;
    let e1 = part(&server, "/race", &upload, 1, vec![b'r'; 1_048_576]).await;
    let e2 = part(&server, "/race", &upload, 2, vec![b's'; 3]).await;
    let body = complete_body(&[(1, &e1), (2, &e2)]);
    let send = || server.send(post_complete("/race", &upload, body.clone()));
    let (a, b, c, d) = tokio::join!(send(), send(), send(), send());
    for response in [&a, &b, &c, &d] {
        assert_eq!(response.status, 200, "{}", response.text());
        assert_eq!(response.xml("ETag"), a.xml("ETag"));
    }
    let get = server.send(Req::get(BUCKET, "/race")).await;
    assert_eq!(get.body.len(), 1_048_579);
}

#[tokio::test]
async fn conditional_completion() {
    let server = TestServer::with_bucket().await;
    // If-None-Match: * and the key exists (written while the upload was in progress).
    let upload = initiate(&server, "/cond").await;
    let etag = part(&server, "/cond", &upload, 1, vec![b'c'; 10]).await;
    let body = || complete_body(&[(1, &etag)]);
    let put = server
        .send(Req::put(BUCKET, "/cond").body("meanwhile"))
        .await;
    let current = put.header("ETag").expect("etag");
    let exists = server
        .send(post_complete("/cond", &upload, body()).header("If-None-Match", "*"))
        .await;
    assert_eq!(exists.status, 412, "{}", exists.text());
    assert_eq!(exists.xml("Code").as_deref(), Some("PreconditionFailed"));
    // If-None-Match takes only `*`.
    let listed = server
        .send(post_complete("/cond", &upload, body()).header("If-None-Match", &current))
        .await;
    assert_eq!(listed.status, 501, "{}", listed.text());
    assert_eq!(listed.xml("Code").as_deref(), Some("NotImplemented"));
    let wrong = server
        .send(post_complete("/cond", &upload, body()).header("If-Match", "\"0123\""))
        .await;
    assert_eq!(wrong.status, 412, "{}", wrong.text());
    // The refused completions left the upload and the object alone.
    assert_eq!(
        server.send(Req::get(BUCKET, "/cond")).await.body,
        b"meanwhile"
    );
    let matching = server
        .send(post_complete("/cond", &upload, body()).header("If-Match", &current))
        .await;
    assert_eq!(matching.status, 200, "{}", matching.text());
    // If-Match on a key that does not exist.
    let upload = initiate(&server, "/fresh").await;
    let etag = part(&server, "/fresh", &upload, 1, vec![b'f'; 10]).await;
    let body = || complete_body(&[(1, &etag)]);
    let missing = server
        .send(post_complete("/fresh", &upload, body()).header("If-Match", "\"0123\""))
        .await;
    assert_eq!(missing.status, 404, "{}", missing.text());
    assert_eq!(missing.xml("Code").as_deref(), Some("NoSuchKey"));
    // If-None-Match: * on a new key succeeds, and so does its retry: the key now exists,
    // but it is this completion's own object.
    let created = server
        .send(post_complete("/fresh", &upload, body()).header("If-None-Match", "*"))
        .await;
    assert_eq!(created.status, 200, "{}", created.text());
    let retried = server
        .send(post_complete("/fresh", &upload, body()).header("If-None-Match", "*"))
        .await;
    assert_eq!(retried.status, 200, "{}", retried.text());
    assert_eq!(retried.xml("ETag"), created.xml("ETag"));
}
