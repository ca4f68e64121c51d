//! The HTTP layer under attack (issue 10): request smuggling, panics on odd bytes, and the
//! limits that stop slow or numerous clients from holding the server.

use crate::support::*;
use coffer_server::HttpConfig;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The generous bound on anything a test waits for.
const PATIENCE: Duration = Duration::from_secs(60);

/// What came back on a connection until the server closed it.
#[derive(Debug)]
struct Exchange {
    /// Status codes of every response, in order.
    statuses: Vec<u16>,
    /// The whole text received.
    text: String,
}

impl Exchange {
    fn first(&self) -> u16 {
        self.statuses.first().copied().unwrap_or(0)
    }
    fn code(&self) -> Option<String> {
        let start = self.text.find("<Code>")? + "<Code>".len();
        let end = self.text.get(start..)?.find("</Code>")? + start;
        self.text.get(start..end).map(str::to_string)
    }
}

/// Reads everything until the server closes (a reset counts as closed); panics if it does not
/// close within [`PATIENCE`].
async fn read_until_closed(stream: &mut TcpStream) -> Exchange {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    let closed = tokio::time::timeout(PATIENCE, async {
        loop {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
    })
    .await;
    let text = String::from_utf8_lossy(&buf).into_owned();
    assert!(
        closed.is_ok(),
        "the server kept the connection open: {text}"
    );
    let statuses = text
        .match_indices("HTTP/1.1 ")
        .filter_map(|(at, _)| text.get(at + 9..at + 12)?.parse().ok())
        .collect();
    Exchange { statuses, text }
}

/// Sends raw bytes (the write may fail if the server already closed) and reads until the
/// server closes.
async fn exchange(server: &TestServer, raw: &[u8]) -> Exchange {
    let mut stream = TcpStream::connect(server.addr).await.expect("connect");
    let _ = stream.write_all(raw).await;
    read_until_closed(&mut stream).await
}

/// The head of a signed request (everything up to the blank line), without its body.
fn head_of(req: &Req) -> Vec<u8> {
    let bytes = req.to_bytes();
    let end = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a head")
        + 4;
    bytes[..end].to_vec()
}

fn signed_put(key: &str, extra_headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut req = Req::put(BUCKET, key).body(body.to_vec());
    for (name, value) in extra_headers {
        req = req.header(name, value);
    }
    req.to_bytes()
}

// ---- Finding 4: request smuggling ----

#[tokio::test]
async fn ambiguous_framing_is_refused_and_the_connection_closed() {
    let server = TestServer::with_bucket().await;
    // TE + CL, with a second request hidden in the body: one 400, then close, never a 2nd answer.
    let smuggled = Req::get(BUCKET, "/").to_bytes();
    let mut body = b"0\r\n\r\n".to_vec();
    body.extend_from_slice(&smuggled);
    let mut raw = head_of(
        &Req::put(BUCKET, "/te-cl")
            .header("Transfer-Encoding", "chunked")
            .header("Content-Length", &body.len().to_string()),
    );
    raw.extend_from_slice(&body);
    let answer = exchange(&server, &raw).await;
    assert_eq!(answer.statuses, vec![400], "{}", answer.text);
    assert_eq!(answer.code().as_deref(), Some("BadRequest"));
    assert!(answer.text.contains("Connection: close"), "{}", answer.text);

    let cases: &[(&[u8], u16, &str)] = &[
        (
            b"PUT /b/k HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
            501,
            "NotImplemented",
        ),
        (
            b"PUT /b/k HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n",
            501,
            "NotImplemented",
        ),
        (
            "PUT /b/k HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\u{a0}\r\n\r\n0\r\n\r\n"
                .as_bytes(),
            501,
            "NotImplemented",
        ),
        (
            b"PUT /b/k HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            400,
            "BadRequest",
        ),
        (
            b"PUT /b/k HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
            400,
            "BadRequest",
        ),
        (
            b"PUT /b/k HTTP/1.1\r\nHost: x\r\nContent-Length: +2\r\n\r\nab",
            400,
            "BadRequest",
        ),
        (
            b"PUT /b/k HTTP/1.1\r\nHost: x\r\nContent-Length: 2, 2\r\n\r\nab",
            400,
            "BadRequest",
        ),
        (
            b"GET /b/k HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n b\r\n\r\n",
            400,
            "BadRequest",
        ),
        (
            b"GET /b/k HTTP/1.1\r\nHost: x\nTransfer-Encoding: chunked\r\n\r\n",
            400,
            "BadRequest",
        ),
        (
            b"GET /b/k HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n",
            400,
            "BadRequest",
        ),
    ];
    for (raw, status, code) in cases {
        let answer = exchange(&server, raw).await;
        let shown = String::from_utf8_lossy(raw);
        assert_eq!(answer.statuses, vec![*status], "{shown}: {}", answer.text);
        assert_eq!(answer.code().as_deref(), Some(*code), "{shown}");
        assert!(answer.text.contains("Connection: close"), "{shown}");
    }
}

#[tokio::test]
async fn chunked_bodies_are_decoded_strictly() {
    let server = TestServer::with_bucket().await;
    let te = [("Transfer-Encoding", "chunked")];
    // Malformed chunk framing: 400, connection closed, nothing stored.
    for body in [
        &b"+5\r\nhello\r\n0\r\n\r\n"[..],
        b"5 \r\nhello\r\n0\r\n\r\n",
        b"0x5\r\nhello\r\n0\r\n\r\n",
        b"\t5\r\nhello\r\n0\r\n\r\n",
        b"10000000000000005\r\nhello\r\n0\r\n\r\n",
        b"5\nhello\r\n0\r\n\r\n",
        b"5\r\nhelloXX\r\n0\r\n\r\n",
        b"5;=x\r\nhello\r\n0\r\n\r\n",
        b"5\r\nhello\r\n0\r\n folded: trailer\r\n\r\n",
    ] {
        let answer = exchange(&server, &signed_put("/strict", &te, body)).await;
        let shown = String::from_utf8_lossy(body);
        assert_eq!(answer.statuses, vec![400], "{shown:?}: {}", answer.text);
        assert_eq!(answer.code().as_deref(), Some("BadRequest"), "{shown:?}");
    }
    assert_eq!(server.send(Req::get(BUCKET, "/strict")).await.status, 404);
    // Well-formed extensions and trailers are accepted.
    let ok = b"5;ext=1;q=\"a b\"\r\nhello\r\n0\r\nx-trailer: v\r\n\r\n";
    let response = server
        .send(
            Req::put(BUCKET, "/ext")
                .header("Transfer-Encoding", "chunked")
                .body(ok.to_vec()),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(server.send(Req::get(BUCKET, "/ext")).await.body, b"hello");
    // Trailers are bounded: 100 lines of 200 bytes exceed 16 KiB.
    let mut body = b"5\r\nhello\r\n0\r\n".to_vec();
    for i in 0..100 {
        body.extend_from_slice(format!("x-t{i}: {}\r\n", "v".repeat(200)).as_bytes());
    }
    body.extend_from_slice(b"\r\n");
    let answer = exchange(&server, &signed_put("/trailers", &te, &body)).await;
    assert_eq!(answer.statuses, vec![400], "{}", answer.text);
}

// ---- Finding 5: panics on multibyte and invalid UTF-8 ----

#[tokio::test]
async fn odd_bytes_in_targets_and_headers_get_answers_not_panics() {
    let server = TestServer::with_bucket().await;
    let host = "examplebucket-1250000000.cos.ap-guangzhou.myqcloud.com";
    let mut cases: Vec<Vec<u8>> = [
        // Multibyte characters straddling the offsets where a scheme would end.
        "GET /abcde中 HTTP/1.1\r\nHost: H\r\n\r\n".to_string(),
        "GET /abcdef中 HTTP/1.1\r\nHost: H\r\n\r\n".to_string(),
        "GET /中文/键?前缀=值 HTTP/1.1\r\nHost: H\r\n\r\n".to_string(),
        "GET 中 HTTP/1.1\r\nHost: H\r\n\r\n".to_string(),
        "GET http://中.example/é?ü HTTP/1.1\r\nHost: H\r\n\r\n".to_string(),
        "GET https://H/é HTTP/1.1\r\nHost: H\r\n\r\n".to_string(),
        "GET / HTTP/1.1\r\nHost: 中.cos.ap-guangzhou.myqcloud.com\r\n\r\n".to_string(),
        "GET / HTTP/1.1\r\nHost: [中]:9\r\n\r\n".to_string(),
        "GET / HTTP/1.1\r\nHost: cos.中\r\n\r\n".to_string(),
        "GET /k HTTP/1.1\r\nHost: H\r\nAuthorization: q-sign-algorithm=sha1&q-ak=中&q-sign-time=1;2&q-key-time=1;2&q-header-list=&q-url-param-list=&q-signature=é\r\n\r\n".to_string(),
        "GET /k HTTP/1.1\r\nHost: H\r\nAuthorization: AWS4-HMAC-SHA256 Credential=中/20250101/中/s3/aws4_request, SignedHeaders=host;中, Signature=é\r\n\r\n".to_string(),
        "GET /k HTTP/1.1\r\nHost: H\r\nAuthorization: AWS 中:é\r\n\r\n".to_string(),
        "GET /k?X-Amz-Credential=中%2F2&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=中 HTTP/1.1\r\nHost: H\r\n\r\n".to_string(),
        "GET /k HTTP/1.1\r\nHost: H\r\nRange: bytes=中-é\r\n\r\n".to_string(),
        "GET /k HTTP/1.1\r\nHost: H\r\nIf-Modified-Since: 中\r\n\r\n".to_string(),
        "PUT /k2 HTTP/1.1\r\nHost: H\r\nx-cos-copy-source: 中/é?versionId=ü\r\nContent-Length: 0\r\n\r\n".to_string(),
        "PUT /k3 HTTP/1.1\r\nHost: H\r\nx-cos-meta-中: é\r\nContent-MD5: 中\r\nContent-Length: 0\r\n\r\n".to_string(),
    ]
    .into_iter()
    .map(|s| s.replace("Host: H", &format!("Host: {host}")).into_bytes())
    .collect();
    // Invalid UTF-8 in the target, the Host header and other values.
    cases.push(b"GET /\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n".to_vec());
    cases.push(b"GET http://\xe4\xb8/ HTTP/1.1\r\nHost: x\r\n\r\n".to_vec());
    cases.push(b"GET / HTTP/1.1\r\nHost: \xe4\xb8.x\r\n\r\n".to_vec());
    cases.push(
        b"GET /k HTTP/1.1\r\nHost: x\r\nAuthorization: \xff\xfe\r\nRange: \xe4\r\n\r\n".to_vec(),
    );
    for raw in &cases {
        let mut stream = TcpStream::connect(server.addr).await.expect("connect");
        stream.write_all(raw).await.expect("write");
        let _ = stream.shutdown().await;
        let answer = read_until_closed(&mut stream).await;
        let shown = String::from_utf8_lossy(raw);
        assert_eq!(answer.statuses.len(), 1, "no answer to {shown:?}");
        assert!(
            answer.first() < 500 || answer.first() == 501,
            "{shown:?}: {}",
            answer.text
        );
    }
    assert_eq!(server.send(Req::get(BUCKET, "/")).await.status, 200);
}

// ---- Finding 8: limits ----

/// A kept-alive connection that has been served (so it holds a connection slot). Retries
/// while the slot of an earlier, closing connection is not yet free.
async fn served_connection(server: &TestServer, req: &Req) -> TcpStream {
    tokio::time::timeout(PATIENCE, async {
        loop {
            let mut stream = TcpStream::connect(server.addr).await.expect("connect");
            stream.write_all(&req.to_bytes()).await.expect("write");
            let mut status = [0u8; 12];
            if stream.read_exact(&mut status).await.is_ok() && status.ends_with(b"200") {
                return stream;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("a connection is served")
}

fn limits() -> HttpConfig {
    HttpConfig {
        header_timeout: Duration::from_secs(1),
        body_timeout: Duration::from_secs(1),
        body_min_rate: 1000,
        write_timeout: Duration::from_secs(1),
        ..HttpConfig::default()
    }
}

#[tokio::test]
async fn connections_beyond_the_limit_get_503_until_a_slot_frees() {
    let server = TestServer::with_bucket_and(HttpConfig {
        max_connections: 2,
        ..HttpConfig::default()
    })
    .await;
    let first = served_connection(&server, &Req::get(BUCKET, "/")).await;
    let second = served_connection(&server, &Req::get(BUCKET, "/")).await;
    let third = exchange(&server, &Req::get(BUCKET, "/").to_bytes()).await;
    assert_eq!(third.statuses, vec![503], "{}", third.text);
    assert_eq!(third.code().as_deref(), Some("SlowDown"));
    assert!(third.text.contains("Connection: close"));
    drop(first);
    drop(second);
    let again = tokio::time::timeout(PATIENCE, async {
        loop {
            let mut stream = TcpStream::connect(server.addr).await.expect("connect");
            stream
                .write_all(&Req::get(BUCKET, "/").to_bytes())
                .await
                .expect("write");
            let status = read_response(&mut stream, false).await.status;
            if status == 200 {
                return status;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    assert_eq!(again.ok(), Some(200));
}

#[tokio::test]
async fn uploads_beyond_the_limit_get_503_slowdown() {
    let server = TestServer::with_bucket_and(HttpConfig {
        max_uploads: 1,
        ..HttpConfig::default()
    })
    .await;
    let mut stalled = TcpStream::connect(server.addr).await.expect("connect");
    stalled
        .write_all(&head_of(&Req::put(BUCKET, "/big").body(vec![0u8; 100_000])))
        .await
        .expect("write");
    let refused = tokio::time::timeout(PATIENCE, async {
        loop {
            let answer = exchange(&server, &signed_put("/other", &[], b"data")).await;
            if answer.first() == 503 {
                return answer;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("the second upload is refused");
    assert_eq!(refused.code().as_deref(), Some("SlowDown"));
    // Requests without a body are still served.
    assert_eq!(server.send(Req::get(BUCKET, "/")).await.status, 200);
    drop(stalled);
}

#[tokio::test]
async fn a_slow_request_head_is_cut_by_the_total_header_timeout() {
    let server = TestServer::with_bucket_and(limits()).await;
    let mut stream = TcpStream::connect(server.addr).await.expect("connect");
    let head = Req::get(BUCKET, "/").to_bytes();
    // One byte every 200 ms: each byte is quick, the whole head (hundreds of bytes) is not.
    let started = tokio::time::Instant::now();
    let mut cut = false;
    for byte in &head {
        if stream.write_all(&[*byte]).await.is_err() {
            cut = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        if started.elapsed() > Duration::from_secs(5) {
            break;
        }
    }
    let answer = read_until_closed(&mut stream).await;
    assert!(cut || answer.statuses == vec![400], "{cut} {}", answer.text);
    if !answer.statuses.is_empty() {
        assert_eq!(answer.code().as_deref(), Some("RequestTimeout"));
    }
}

#[tokio::test]
async fn a_slowloris_body_is_cut_by_the_minimum_rate() {
    let server = TestServer::with_bucket_and(limits()).await;
    let mut stream = TcpStream::connect(server.addr).await.expect("connect");
    let req = Req::put(BUCKET, "/slow").body(vec![b'x'; 100_000]);
    stream.write_all(&head_of(&req)).await.expect("write head");
    // A byte every 300 ms never trips the 1 s idle timeout, but stays far under 1000 B/s.
    let feeder = async {
        for _ in 0..200 {
            if stream.write_all(b"x").await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    };
    // The feeder would take 60 s; the server must cut it long before.
    let _ = tokio::time::timeout(Duration::from_secs(8), feeder).await;
    let answer = read_until_closed(&mut stream).await;
    assert_eq!(answer.statuses, vec![400], "{}", answer.text);
    assert_eq!(answer.code().as_deref(), Some("RequestTimeout"));
    assert_eq!(server.send(Req::get(BUCKET, "/slow")).await.status, 404);
}

#[tokio::test]
async fn an_idle_body_is_cut_by_the_body_timeout() {
    let server = TestServer::with_bucket_and(HttpConfig {
        body_min_rate: 0,
        ..limits()
    })
    .await;
    let mut stream = TcpStream::connect(server.addr).await.expect("connect");
    let req = Req::put(BUCKET, "/idle").body(vec![b'x'; 100_000]);
    stream.write_all(&head_of(&req)).await.expect("write head");
    stream.write_all(b"some").await.expect("write");
    let answer = read_until_closed(&mut stream).await;
    assert_eq!(answer.statuses, vec![400], "{}", answer.text);
    assert_eq!(answer.code().as_deref(), Some("RequestTimeout"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_that_never_reads_is_cut_by_the_write_timeout() {
    let server = TestServer::with_bucket_and(HttpConfig {
        max_connections: 1,
        ..limits()
    })
    .await;
    // Larger than every socket buffer on the way.
    let object = vec![7u8; 32 << 20];
    let put = server.send(Req::put(BUCKET, "/large").body(object)).await;
    assert_eq!(put.status, 200, "{}", put.text());
    // Reads the status line and then nothing more.
    let stuck = served_connection(&server, &Req::get(BUCKET, "/large")).await;
    // The stuck reader holds the only slot until the write timeout frees it.
    let served = tokio::time::timeout(PATIENCE, async {
        loop {
            let answer = exchange(
                &server,
                b"GET /-/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            )
            .await;
            if answer.first() == 200 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    assert!(served.is_ok(), "the stuck reader kept its slot");
    drop(stuck);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundreds_of_stalled_uploads_do_not_delay_a_get() {
    // The stalled uploads are not cut during the test: only the staging design is tested.
    let server = TestServer::with_bucket_and(HttpConfig {
        max_connections: 2000,
        max_uploads: 2000,
        body_timeout: Duration::from_secs(600),
        body_min_rate: 0,
        ..HttpConfig::default()
    })
    .await;
    // An object stored as a blob, so its GET reads a file.
    let object = vec![3u8; 200_000];
    let put = server
        .send(Req::put(BUCKET, "/blob").body(object.clone()))
        .await;
    assert_eq!(put.status, 200, "{}", put.text());
    // 300 uploads announce 1 MiB each, send a little, then stall.
    let head = head_of(&Req::put(BUCKET, "/stalled").body(vec![0u8; 1 << 20]));
    let mut stalled = Vec::new();
    for _ in 0..300 {
        let mut stream = TcpStream::connect(server.addr).await.expect("connect");
        stream.write_all(&head).await.expect("write head");
        stream.write_all(&[0u8; 1024]).await.expect("write");
        stalled.push(stream);
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let get = tokio::time::timeout(PATIENCE, server.send(Req::get(BUCKET, "/blob"))).await;
    let get = get.expect("the GET was starved by stalled uploads");
    assert_eq!(get.status, 200);
    assert_eq!(get.body, object);
    drop(stalled);
}

#[tokio::test]
async fn a_large_head_arriving_in_small_pieces_is_parsed_once_complete() {
    let server = TestServer::with_bucket().await;
    let raw = Req::get(BUCKET, "/")
        .header("x-pad", &"p".repeat(20_000))
        .to_bytes();
    let mut stream = TcpStream::connect(server.addr).await.expect("connect");
    for piece in raw.chunks(333) {
        stream.write_all(piece).await.expect("write");
        stream.flush().await.expect("flush");
    }
    let response = read_response(&mut stream, false).await;
    assert_eq!(response.status, 200, "{}", response.text());
    // The same with the head's end split across two reads, byte by byte at the end.
    let (start, end) = raw.split_at(raw.len() - 3);
    stream.write_all(start).await.expect("write");
    for byte in end {
        tokio::time::sleep(Duration::from_millis(20)).await;
        stream.write_all(&[*byte]).await.expect("write");
    }
    let response = read_response(&mut stream, false).await;
    assert_eq!(response.status, 200, "{}", response.text());
}
