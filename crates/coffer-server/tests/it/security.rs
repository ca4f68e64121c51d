//! The attack review's findings (issue 10), each reproduced from outside over raw HTTP:
//! a request acts only on what its signature covers, on the host it was signed for, by the
//! account it names.

use crate::support::*;

const OTHER: &str = "otherbucket-1250000000";

/// A server with the test bucket and a private `secret` object in another bucket.
async fn with_secret() -> TestServer {
    let server = TestServer::with_bucket().await;
    assert_eq!(server.send(Req::put(OTHER, "/")).await.status, 200);
    let put = server
        .send(Req::put(OTHER, "/secret").body("top secret"))
        .await;
    assert_eq!(put.status, 200, "{}", put.text());
    server
}

fn copy_source() -> String {
    format!("{OTHER}.cos.ap-guangzhou.myqcloud.com/secret")
}

/// Finding 1: a presigned upload URL must not become a copy-and-publish of another object.
#[tokio::test]
async fn unsigned_copy_source_and_acl_on_a_presigned_put_are_refused() {
    let server = with_secret().await;
    let cos = Req::put(BUCKET, "/k")
        .signing(Signing::CosPresigned)
        .unsigned_header("x-cos-copy-source", &copy_source())
        .unsigned_header("x-cos-acl", "public-read");
    let response = server.send(cos).await;
    assert_eq!(response.status, 403, "{}", response.text());
    assert_eq!(response.xml("Code").as_deref(), Some("AccessDenied"));

    let s3 = Req::put(BUCKET, "/k")
        .signing(Signing::SigV4Presigned)
        .unsigned_header("x-amz-copy-source", &format!("{OTHER}/secret"))
        .unsigned_header("x-amz-acl", "public-read");
    let response = server.send(s3).await;
    assert_eq!(response.status, 403, "{}", response.text());
    assert_eq!(response.xml("Code").as_deref(), Some("AccessDenied"));
    assert!(response
        .xml("Message")
        .unwrap_or_default()
        .contains("not signed"));

    // The header-signed forms too.
    let cos = Req::put(BUCKET, "/k")
        .body("x")
        .unsigned_header("x-cos-acl", "public-read");
    assert_eq!(server.send(cos).await.status, 403);

    // Nothing was written, and the secret is still private.
    assert_eq!(server.send(Req::get(BUCKET, "/k")).await.status, 404);
    let anonymous = server.send(Req::get(OTHER, "/secret").anonymous()).await;
    assert_eq!(anonymous.status, 403);
}

/// Finding 1: an S3 request never acts on `x-cos-*` headers (no fallback to the other
/// dialect's unsigned headers): a presigned PUT with one is a plain upload of its body.
#[tokio::test]
async fn s3_requests_ignore_cos_headers() {
    let server = with_secret().await;
    let s3 = Req::put(BUCKET, "/k")
        .signing(Signing::SigV4Presigned)
        .body("my own bytes")
        .unsigned_header("x-cos-copy-source", &copy_source())
        .unsigned_header("x-cos-acl", "public-read");
    let response = server.send(s3).await;
    assert_eq!(response.status, 200, "{}", response.text());
    let got = server.send(Req::get(BUCKET, "/k")).await;
    assert_eq!(got.body, b"my own bytes");
    let anonymous = server.send(Req::get(BUCKET, "/k").anonymous()).await;
    assert_eq!(
        anonymous.status, 403,
        "the unsigned x-cos-acl must not publish"
    );
}

/// Finding 2: the bucket comes from the same host the signature was verified against.
#[tokio::test]
async fn an_absolute_form_target_cannot_retarget_a_signed_request() {
    let server = with_secret().await;
    let put = server.send(Req::put(BUCKET, "/secret").body("mine")).await;
    assert_eq!(put.status, 200);
    let presigned = Req::get(BUCKET, "/secret").signing(Signing::CosPresigned);
    let raw = String::from_utf8(presigned.to_bytes()).expect("utf-8");
    let other_host = format!("{OTHER}.cos.ap-guangzhou.myqcloud.com");
    // Host header (signed) names the test bucket; the target's authority names the other.
    let retargeted = raw.replacen("GET /", &format!("GET http://{other_host}/"), 1);
    let response = server.send_raw(retargeted.as_bytes()).await;
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(response.body, b"mine", "Host decides, as signed");
    // Without a Host header an HTTP/1.1 request is refused (RFC 9112 §3.2); either way it
    // never reaches the other bucket.
    let without_host: String = retargeted
        .split("\r\n")
        .filter(|line| !line.starts_with("Host:"))
        .collect::<Vec<_>>()
        .join("\r\n");
    let response = server.send_raw(without_host.as_bytes()).await;
    assert_eq!(response.status, 400, "{}", response.text());
    assert_ne!(response.body, b"top secret");
    // The official SDK behind a proxy: absolute form naming the IP, Host naming the bucket.
    let via_proxy = raw.replacen("GET /", &format!("GET http://{}/", server.addr), 1);
    let response = server.send_raw(via_proxy.as_bytes()).await;
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(response.body, b"mine");
    // Two Host headers are refused.
    let twice = raw.replacen("\r\n\r\n", &format!("\r\nHost: {other_host}\r\n\r\n"), 1);
    assert_eq!(server.send_raw(twice.as_bytes()).await.status, 400);
}

/// Found by the `names` fuzz target: a "port" that is not digits does not make the signed
/// host and the addressed host differ. A URL presigned for the object `otherbucket-…` in the
/// test bucket, sent with `Host: <test bucket host>:x`, used to verify (the COS verifier
/// dropped `:x`) while addressing kept `…:x`, saw no bucket in it and listed the bucket named
/// by the path instead.
#[tokio::test]
async fn a_non_numeric_port_cannot_turn_a_signed_object_request_into_a_listing() {
    let server = with_secret().await;
    let presigned = Req::get(BUCKET, &format!("/{OTHER}")).signing(Signing::CosPresigned);
    let raw = String::from_utf8(presigned.to_bytes()).expect("utf-8");
    let host = presigned.host();
    let retargeted = raw.replacen(
        &format!("Host: {host}\r\n"),
        &format!("Host: {host}:x\r\n"),
        1,
    );
    assert_ne!(raw, retargeted);
    let response = server.send_raw(retargeted.as_bytes()).await;
    assert_eq!(response.status, 403, "{}", response.text());
    assert!(!response.text().contains("secret"));
    // With a real port it is the object request it was signed as.
    let with_port = raw.replacen(
        &format!("Host: {host}\r\n"),
        &format!("Host: {host}:443\r\n"),
        1,
    );
    let response = server.send_raw(with_port.as_bytes()).await;
    assert_eq!(response.status, 404, "{}", response.text());
}

/// Finding 3: an S3 client cannot create a bucket in another account's APPID namespace.
#[tokio::test]
async fn s3_clients_cannot_squat_another_appid() {
    let server = TestServer::start().await;
    for name in ["squat-1250000009", "squat-1300000000"] {
        let response = server
            .send(Req::put(name, "/").signing(Signing::SigV4))
            .await;
        assert_eq!(response.status, 403, "{name}: {}", response.text());
        assert_eq!(response.xml("Code").as_deref(), Some("AccessDenied"));
    }
    for name in ["mine-1250000000", "plain-s3-name", "logs-2024"] {
        let response = server
            .send(Req::put(name, "/").signing(Signing::SigV4))
            .await;
        assert_eq!(response.status, 200, "{name}: {}", response.text());
    }
}

/// Finding 7: sub-resources and parameters appended to a presigned URL do not act.
#[tokio::test]
async fn unsigned_parameters_on_a_presigned_url_are_refused() {
    let server = TestServer::with_bucket().await;
    assert_eq!(
        server.send(Req::put(BUCKET, "/k").body("v")).await.status,
        200
    );
    let plain = server
        .send(Req::get(BUCKET, "/k").signing(Signing::CosPresigned))
        .await;
    assert_eq!(plain.status, 200, "{}", plain.text());
    for (name, value) in [
        ("acl", ""),
        ("uploadId", "x"),
        ("response-content-type", "text/html"),
        ("versionId", "null"),
    ] {
        let response = server
            .send(
                Req::get(BUCKET, "/k")
                    .signing(Signing::CosPresigned)
                    .unsigned_param(name, value),
            )
            .await;
        assert_eq!(response.status, 403, "{name}: {}", response.text());
        assert_eq!(
            response.xml("Code").as_deref(),
            Some("AccessDenied"),
            "{name}"
        );
    }
    // Unknown parameters that select nothing (cache busters, SDK hints) are harmless.
    let busted = server
        .send(
            Req::get(BUCKET, "/k")
                .signing(Signing::CosPresigned)
                .unsigned_param("x-id", "GetObject"),
        )
        .await;
    assert_eq!(busted.status, 200);
    // Signed, the same parameters work.
    let signed = server
        .send(
            Req::get(BUCKET, "/k")
                .signing(Signing::CosPresigned)
                .param("response-content-type", "text/html"),
        )
        .await;
    assert_eq!(signed.status, 200);
    assert_eq!(signed.header("Content-Type").as_deref(), Some("text/html"));
}

/// Finding 7: like S3, response-header overrides need an authenticated request.
#[tokio::test]
async fn anonymous_requests_cannot_override_response_headers() {
    let server = TestServer::with_bucket().await;
    let put = Req::put(BUCKET, "/public")
        .header("x-cos-acl", "public-read")
        .body("v");
    assert_eq!(server.send(put).await.status, 200);
    let plain = server.send(Req::get(BUCKET, "/public").anonymous()).await;
    assert_eq!(plain.status, 200);
    let overridden = server
        .send(
            Req::get(BUCKET, "/public")
                .anonymous()
                .param("response-content-type", "text/html"),
        )
        .await;
    assert_eq!(overridden.status, 400, "{}", overridden.text());
    assert_eq!(overridden.xml("Code").as_deref(), Some("InvalidRequest"));
}

/// Finding 9: signatures have a maximum lifetime.
#[tokio::test]
async fn signatures_have_a_maximum_lifetime() {
    let server = TestServer::with_bucket().await;
    let mut long = Req::get(BUCKET, "/");
    long.lifetime = 8 * 24 * 3600;
    let response = server.send(long.clone()).await;
    assert_eq!(response.status, 403, "{}", response.text());
    let response = server.send(long.signing(Signing::CosPresigned)).await;
    assert_eq!(response.status, 403, "{}", response.text());
    let mut week = Req::get(BUCKET, "/").signing(Signing::SigV4Presigned);
    week.lifetime = 604_800;
    assert_eq!(server.send(week.clone()).await.status, 200);
    let raw = String::from_utf8(week.to_bytes()).expect("utf-8");
    for bad in ["604801", "0"] {
        let tampered = raw.replacen("X-Amz-Expires=604800", &format!("X-Amz-Expires={bad}"), 1);
        let response = server.send_raw(tampered.as_bytes()).await;
        assert_eq!(response.status, 403, "{bad}: {}", response.text());
        assert_eq!(
            response.xml("Code").as_deref(),
            Some("AccessDenied"),
            "{bad}"
        );
    }
}

/// Finding 9: signatures are compared exactly (lower-case hex), not case-insensitively.
#[tokio::test]
async fn signatures_compare_exactly() {
    let server = TestServer::with_bucket().await;
    let raw = String::from_utf8(Req::get(BUCKET, "/").to_bytes()).expect("utf-8");
    let at = raw.find("q-signature=").expect("signature") + "q-signature=".len();
    let mut upper = raw.clone();
    upper.replace_range(at..at + 40, &raw[at..at + 40].to_ascii_uppercase());
    assert_eq!(server.send_raw(raw.as_bytes()).await.status, 200);
    let response = server.send_raw(upper.as_bytes()).await;
    assert_eq!(response.status, 403, "{}", response.text());
    assert_eq!(
        response.xml("Code").as_deref(),
        Some("SignatureDoesNotMatch")
    );
}

/// Finding 9: unknown sub-resources are 501, never another operation.
#[tokio::test]
async fn unknown_subresources_are_not_implemented() {
    let server = TestServer::with_bucket().await;
    assert_eq!(
        server.send(Req::put(BUCKET, "/k").body("v")).await.status,
        200
    );
    for (method, param) in [
        ("GET", "symlink"),
        ("PUT", "symlink"),
        ("GET", "inventory"),
        ("PUT", "tagging"),
        ("DELETE", "tagging"),
        ("DELETE", "retention"),
    ] {
        let response = server
            .send(Req::new(method, BUCKET, "/k").param(param, "").body(""))
            .await;
        assert_eq!(
            response.status,
            501,
            "{method} ?{param}: {}",
            response.text()
        );
    }
    // The object was neither overwritten nor deleted.
    assert_eq!(server.send(Req::get(BUCKET, "/k")).await.body, b"v");
}

/// Finding 9: the admin API refuses an empty or duplicate uin.
#[tokio::test]
async fn admin_api_refuses_empty_and_duplicate_uins() {
    let server = TestServer::start().await;
    let create = |body: &str| {
        let mut req = Req::new("POST", "", "/-/admin/users").body(body.to_string());
        req.host_override = Some("127.0.0.1".into());
        req
    };
    let empty = r#"{"secret_id":"AKIDa","secret_key":"k","appid":"1250000001","uin":""}"#;
    assert_eq!(server.send(create(empty)).await.status, 400);
    let taken =
        format!(r#"{{"secret_id":"AKIDb","secret_key":"k","appid":"1250000001","uin":"{UIN}"}}"#);
    let response = server.send(create(&taken)).await;
    assert_eq!(response.status, 400, "{}", response.text());
    let fine = r#"{"secret_id":"AKIDc","secret_key":"k","appid":"1250000001","uin":"7"}"#;
    assert_eq!(server.send(create(fine)).await.status, 200);
}
