//! Listing semantics.

use crate::support::*;

async fn put_keys(server: &TestServer, keys: &[&str]) {
    for key in keys {
        let response = server
            .send(Req::put(BUCKET, &format!("/{key}")).body(""))
            .await;
        assert_eq!(response.status, 200);
    }
}

fn list(prefix: &str, delimiter: &str, marker: &str, max: &str) -> Req {
    Req::get(BUCKET, "/")
        .param("prefix", prefix)
        .param("delimiter", delimiter)
        .param("marker", marker)
        .param("max-keys", max)
        .param("encoding-type", "url")
}

#[tokio::test]
async fn delimiter_rolls_up_and_next_marker_only_when_truncated() {
    let server = TestServer::with_bucket().await;
    put_keys(&server, &["a/1", "a/2", "b", "c/x/y", "d e+f"]).await;
    let response = server.send(list("", "/", "", "1000")).await;
    let text = response.text();
    assert!(
        text.contains("<CommonPrefixes><Prefix>a%2F</Prefix></CommonPrefixes>"),
        "{text}"
    );
    assert!(text.contains("<Key>d%20e%2Bf</Key>"), "{text}");
    assert!(text.contains("<Delimiter>/</Delimiter>"), "{text}");
    assert!(text.contains("<IsTruncated>false</IsTruncated>"));
    assert!(!text.contains("NextMarker"));
    // Paging with max-keys=2: a/ , b | c/ , d e+f
    let first = server.send(list("", "/", "", "2")).await;
    assert_eq!(first.xml("IsTruncated").as_deref(), Some("true"));
    assert_eq!(first.xml("NextMarker").as_deref(), Some("b"));
    let second = server.send(list("", "/", "b", "2")).await;
    assert!(second.text().contains("<Prefix>c%2F</Prefix>"));
    assert_eq!(second.xml("IsTruncated").as_deref(), Some("false"));
}

#[tokio::test]
async fn paging_walks_every_key_once() {
    let server = TestServer::with_bucket().await;
    let keys: Vec<String> = (0..25).map(|i| format!("p/{i:03}")).collect();
    let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    put_keys(&server, &refs).await;
    let mut marker = String::new();
    let mut seen = Vec::new();
    loop {
        let response = server.send(list("p/", "", &marker, "7")).await;
        let text = response.text();
        for part in text.split("<Key>").skip(1) {
            seen.push(
                part.split("</Key>")
                    .next()
                    .unwrap_or_default()
                    .replace("%2F", "/"),
            );
        }
        match response.xml("NextMarker") {
            Some(next) => marker = next.replace("%2F", "/"),
            None => break,
        }
    }
    assert_eq!(seen, keys);
}

#[tokio::test]
async fn list_v2_with_continuation_tokens() {
    let server = TestServer::with_bucket().await;
    put_keys(&server, &["x1", "x2", "x3"]).await;
    let first = server
        .send(
            Req::get(BUCKET, "/")
                .param("list-type", "2")
                .param("max-keys", "2"),
        )
        .await;
    assert_eq!(first.xml("KeyCount").as_deref(), Some("2"));
    let token = first.xml("NextContinuationToken").expect("token");
    let second = server
        .send(
            Req::get(BUCKET, "/")
                .param("list-type", "2")
                .param("continuation-token", &token),
        )
        .await;
    assert!(second.text().contains("<Key>x3</Key>"));
    assert_eq!(second.xml("IsTruncated").as_deref(), Some("false"));
}

#[tokio::test]
async fn bad_listing_parameters_are_invalid_argument() {
    let server = TestServer::with_bucket().await;
    for (name, value) in [
        ("max-keys", "-1"),
        ("max-keys", "abc"),
        ("encoding-type", "base64"),
    ] {
        let response = server.send(Req::get(BUCKET, "/").param(name, value)).await;
        assert_eq!(response.status, 400, "{name}={value}");
        assert_eq!(response.xml("Code").as_deref(), Some("InvalidArgument"));
    }
}

/// Issue 17 item 5: GET Service pages and filters, for S3 and COS clients.
#[tokio::test]
async fn list_buckets_pages_and_filters() {
    let server = TestServer::start().await;
    for name in [
        "a-1250000000",
        "b-1250000000",
        "c-1250000000",
        "logs-1250000000",
    ] {
        assert_eq!(server.send(Req::put(name, "/")).await.status, 200);
    }
    let names = |response: &Resp| -> Vec<String> {
        let text = response.text();
        text.split("<Name>")
            .skip(1)
            .filter_map(|rest| rest.split_once("</Name>").map(|(n, _)| n.to_string()))
            .collect()
    };
    // S3: max-buckets and continuation-token.
    let first = server
        .send(
            Req::get("", "/")
                .signing(Signing::SigV4)
                .param("max-buckets", "2"),
        )
        .await;
    assert_eq!(first.status, 200, "{}", first.text());
    assert_eq!(names(&first), ["a-1250000000", "b-1250000000"]);
    let token = first.xml("ContinuationToken").expect("token");
    let second = server
        .send(
            Req::get("", "/")
                .signing(Signing::SigV4)
                .param("max-buckets", "2")
                .param("continuation-token", &token),
        )
        .await;
    assert_eq!(names(&second), ["c-1250000000", "logs-1250000000"]);
    assert_eq!(second.xml("ContinuationToken"), None);
    let prefixed = server
        .send(
            Req::get("", "/")
                .signing(Signing::SigV4)
                .param("prefix", "lo"),
        )
        .await;
    assert_eq!(names(&prefixed), ["logs-1250000000"]);
    assert_eq!(prefixed.xml("Prefix").as_deref(), Some("lo"));
    for bad in ["0", "10001", "x"] {
        let response = server
            .send(
                Req::get("", "/")
                    .signing(Signing::SigV4)
                    .param("max-buckets", bad),
            )
            .await;
        assert_eq!(response.status, 400, "max-buckets={bad}");
    }
    // COS: marker and max-keys, unsigned as the official SDK sends them.
    let cos = server
        .send(
            Req::get("", "/")
                .unsigned_param("marker", "a-1250000000")
                .unsigned_param("max-keys", "2"),
        )
        .await;
    assert_eq!(cos.status, 200, "{}", cos.text());
    assert_eq!(names(&cos), ["b-1250000000", "c-1250000000"]);
    assert_eq!(cos.xml("IsTruncated").as_deref(), Some("true"));
    assert_eq!(cos.xml("NextMarker").as_deref(), Some("c-1250000000"));
    let wrong_region = server
        .send(Req::get("", "/").unsigned_param("region", "ap-beijing"))
        .await;
    assert!(names(&wrong_region).is_empty());
}

/// Found by the pipeline fuzz target: a listing echoed a NUL of its prefix, delimiter or
/// marker as `&#x0;`, which no XML parser reads. Parameters with NUL are refused.
#[tokio::test]
async fn parameters_with_nul_are_refused() {
    let server = TestServer::with_bucket().await;
    for name in ["prefix", "delimiter", "marker"] {
        let response = server.send(Req::get(BUCKET, "/").param(name, "a\0b")).await;
        assert_eq!(response.status, 400, "{name}: {}", response.text());
        assert_eq!(response.xml("Code").as_deref(), Some("InvalidArgument"));
    }
    let response = server
        .send(Req::get(BUCKET, "/").param("prefix", "a"))
        .await;
    assert_eq!(response.status, 200);
}
