//! Wire-level behaviour the official SDK depends on (protocol doc §15).

use crate::support::*;
use tokio::io::AsyncWriteExt;

#[tokio::test]
async fn header_names_are_written_in_exact_case() {
    let server = TestServer::with_bucket().await;
    let put = server
        .send(Req::put(BUCKET, "/k").body("hello world"))
        .await;
    assert_eq!(put.status, 200);
    assert_eq!(
        put.header("ETag").as_deref(),
        Some("\"5eb63bbbe01eeed093cb22bb8f5acdc3\"")
    );
    assert_eq!(
        put.header("x-cos-hash-crc64ecma").as_deref(),
        Some("5981764153023615706")
    );
    assert!(put.header("x-cos-request-id").is_some());
    assert!(put.header("x-cos-trace-id").is_some());
    let get = server.send(Req::get(BUCKET, "/k")).await;
    for name in [
        "ETag",
        "Content-Length",
        "Content-Type",
        "Last-Modified",
        "Accept-Ranges",
        "Date",
        "Server",
    ] {
        assert!(
            get.header(name).is_some(),
            "{name} missing in {:?}",
            get.headers
        );
    }
    assert!(get.headers.iter().all(|(n, _)| n != "etag" && n != "Etag"));
}

#[tokio::test]
async fn errors_carry_the_four_fields_and_request_id_headers() {
    let server = TestServer::with_bucket().await;
    let response = server.send(Req::get(BUCKET, "/missing")).await;
    assert_eq!(response.status, 404);
    assert_eq!(response.xml("Code").as_deref(), Some("NoSuchKey"));
    assert!(!response.xml("Message").unwrap_or_default().is_empty());
    assert_eq!(
        response.xml("Resource").as_deref(),
        Some("examplebucket-1250000000.cos.ap-guangzhou.myqcloud.com/missing")
    );
    assert_eq!(
        response.xml("RequestId"),
        response.header("x-cos-request-id")
    );
    assert!(response.xml("TraceId").is_some());
    assert!(response.text().starts_with("<?xml"));
    assert!(response.header("x-cos-error-code").is_none());
}

#[tokio::test]
async fn head_errors_have_request_id_headers_and_no_body() {
    let server = TestServer::with_bucket().await;
    let response = server.send(Req::new("HEAD", BUCKET, "/missing")).await;
    assert_eq!(response.status, 404);
    assert!(response.header("x-cos-request-id").is_some());
    assert!(response.header("x-cos-trace-id").is_some());
    assert!(response.body.is_empty());
}

#[tokio::test]
async fn absolute_form_targets_route_on_their_authority() {
    let server = TestServer::with_bucket().await;
    server.send(Req::put(BUCKET, "/abs").body("x")).await;
    let req = Req::get(BUCKET, "/abs");
    let bytes = String::from_utf8(req.to_bytes()).expect("utf8");
    let absolute = bytes.replacen("GET /abs", &format!("GET http://{}/abs", req.host()), 1);
    let response = server.send_raw(absolute.as_bytes()).await;
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(response.body, b"x");
}

#[tokio::test]
async fn chunked_request_bodies_are_accepted() {
    let server = TestServer::with_bucket().await;
    let req = Req::put(BUCKET, "/chunked")
        .header("Transfer-Encoding", "chunked")
        .body(b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n".to_vec());
    let response = server.send(req).await;
    assert_eq!(response.status, 200, "{}", response.text());
    let get = server.send(Req::get(BUCKET, "/chunked")).await;
    assert_eq!(get.body, b"hello world");
    let empty = Req::put(BUCKET, "/empty-chunked")
        .header("Transfer-Encoding", "chunked")
        .body(b"0\r\n\r\n".to_vec());
    assert_eq!(server.send(empty).await.status, 200);
    let get = server.send(Req::get(BUCKET, "/empty-chunked")).await;
    assert_eq!(get.header("Content-Length").as_deref(), Some("0"));
}

#[tokio::test]
async fn keep_alive_survives_an_early_error_with_an_unread_body() {
    let server = TestServer::with_bucket().await;
    let mut stream = tokio::net::TcpStream::connect(server.addr)
        .await
        .expect("connect");
    // A PUT to a missing bucket: answered before its body is read.
    let bad = Req::put("nosuchbucket-1250000000", "/k").body(vec![b'a'; 1000]);
    stream.write_all(&bad.to_bytes()).await.expect("write");
    let first = read_response(&mut stream, false).await;
    assert_eq!(first.status, 404);
    let good = Req::get(BUCKET, "/");
    stream.write_all(&good.to_bytes()).await.expect("write");
    let second = read_response(&mut stream, false).await;
    assert_eq!(second.status, 200, "{}", second.text());
}

#[tokio::test]
async fn expect_continue_gets_100_before_the_body() {
    let server = TestServer::with_bucket().await;
    let mut stream = tokio::net::TcpStream::connect(server.addr)
        .await
        .expect("connect");
    let req = Req::put(BUCKET, "/continued")
        .header("Expect", "100-continue")
        .body(b"abc".to_vec());
    let bytes = req.to_bytes();
    let head_end = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("head")
        + 4;
    stream
        .write_all(&bytes[..head_end])
        .await
        .expect("write head");
    let interim = read_response(&mut stream, false).await;
    assert_eq!(interim.status, 100);
    stream
        .write_all(&bytes[head_end..])
        .await
        .expect("write body");
    let response = read_response(&mut stream, false).await;
    assert_eq!(response.status, 200);
}

#[tokio::test]
async fn malformed_requests_get_400_never_500() {
    let server = TestServer::start().await;
    for raw in [
        &b"GARBAGE\r\n\r\n"[..],
        b"GET noslash HTTP/1.1\r\nHost: x\r\n\r\n",
        b"PUT /b/k HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
        b"PUT /b/k HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
    ] {
        let response = server.send_raw(raw).await;
        assert_eq!(response.status, 400, "{}", String::from_utf8_lossy(raw));
        assert!(response.xml("Code").is_some());
    }
    let response = server
        .send_raw(b"PUT /b/k HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n")
        .await;
    assert_eq!(response.status, 501);
}

#[tokio::test]
async fn a_small_get_is_one_write() {
    // Headers and a small body leave in one segment; this checks the observable part:
    // the whole response is readable from the first read on a kept-alive connection.
    let server = TestServer::with_bucket().await;
    server
        .send(Req::put(BUCKET, "/small").body(vec![7u8; 4096]))
        .await;
    let mut stream = tokio::net::TcpStream::connect(server.addr)
        .await
        .expect("connect");
    for _ in 0..3 {
        stream
            .write_all(&Req::get(BUCKET, "/small").to_bytes())
            .await
            .expect("write");
        let response = read_response(&mut stream, false).await;
        assert_eq!(response.body.len(), 4096);
    }
}

#[tokio::test]
async fn health_endpoint_needs_no_auth() {
    let server = TestServer::start().await;
    let response = server
        .send_raw(b"GET /-/health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await;
    assert_eq!(response.status, 200);
}

/// A small deterministic generator, so the robustness test is reproducible.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Sends a request and returns its status, or `None` when the server closed without one
/// (acceptable for garbage) — but never a hang.
async fn status_of(server: &TestServer, raw: &[u8]) -> Option<u16> {
    use tokio::io::AsyncReadExt;
    let mut stream = tokio::net::TcpStream::connect(server.addr)
        .await
        .expect("connect");
    stream.write_all(raw).await.ok()?;
    let _ = stream.shutdown().await;
    let mut buf = Vec::new();
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        stream.read_to_end(&mut buf),
    )
    .await;
    assert!(
        read.is_ok(),
        "the server hung on {:?}",
        String::from_utf8_lossy(raw)
    );
    let text = String::from_utf8_lossy(&buf);
    text.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
}

#[tokio::test]
async fn mutated_requests_never_get_a_5xx_or_hang() {
    let server = TestServer::with_bucket().await;
    server.send(Req::put(BUCKET, "/seed").body("x")).await;
    let seeds: Vec<Vec<u8>> = vec![
        Req::put(BUCKET, "/k").body("hello").to_bytes(),
        Req::get(BUCKET, "/seed").header("Range", "bytes=0-0").to_bytes(),
        Req::new("POST", BUCKET, "/").param("delete", "").body("<Delete><Object><Key>k</Key></Object></Delete>").to_bytes(),
        Req::new("POST", BUCKET, "/m").param("uploadId", "x").body("<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>").to_bytes(),
        Req::put(BUCKET, "/c").header("Transfer-Encoding", "chunked").body(b"3\r\nabc\r\n0\r\n\r\n".to_vec()).to_bytes(),
        Req::get(BUCKET, "/").param("prefix", "a").param("max-keys", "2").to_bytes(),
    ];
    let mut rng = XorShift(0x5eed_c0ff_ee00_1234);
    for round in 0..2000 {
        let mut raw = seeds[round % seeds.len()].clone();
        for _ in 0..1 + rng.below(4) {
            if raw.is_empty() {
                break;
            }
            let at = rng.below(raw.len());
            match rng.below(4) {
                0 => raw[at] = rng.next() as u8,
                1 => {
                    raw.remove(at);
                }
                2 => raw.insert(at, b"\r\n:%&<>\0 "[rng.below(9)]),
                _ => raw.truncate(at),
            }
        }
        if let Some(status) = status_of(&server, &raw).await {
            assert!(
                status < 500 || status == 501,
                "status {status} for {:?}",
                String::from_utf8_lossy(&raw)
            );
        }
    }
    assert_eq!(server.send(Req::get(BUCKET, "/seed")).await.status, 200);
}
