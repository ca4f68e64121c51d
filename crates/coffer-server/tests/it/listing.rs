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
