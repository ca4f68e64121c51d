//! Authentication and authorization outcomes.

use crate::support::*;

#[tokio::test]
async fn wrong_secret_is_signature_does_not_match() {
    let server = TestServer::with_bucket().await;
    let mut req = Req::get(BUCKET, "/k");
    req.secret_key = "wrong".into();
    let response = server.send(req).await;
    assert_eq!(response.status, 403);
    assert_eq!(
        response.xml("Code").as_deref(),
        Some("SignatureDoesNotMatch")
    );
}

#[tokio::test]
async fn unknown_access_key_is_invalid_access_key_id() {
    let server = TestServer::with_bucket().await;
    let req = Req::get(BUCKET, "/k").anonymous().header(
        "Authorization",
        "q-sign-algorithm=sha1&q-ak=nobody&q-sign-time=1;9999999999&q-key-time=1;9999999999&q-header-list=&q-url-param-list=&q-signature=00",
    );
    let response = server.send(req).await;
    assert_eq!(response.status, 403);
    assert_eq!(response.xml("Code").as_deref(), Some("InvalidAccessKeyId"));
}

#[tokio::test]
async fn expired_signatures_are_refused() {
    let server = TestServer::with_bucket().await;
    let signed =
        coffer_proto::auth::cos::sign(SECRET_ID, SECRET_KEY, "GET", "/", &[], &[], 1000, 2000);
    let req = Req::get(BUCKET, "/")
        .anonymous()
        .header("Authorization", &signed);
    let response = server.send(req).await;
    assert_eq!(response.status, 403);
    assert_eq!(response.xml("Code").as_deref(), Some("AccessDenied"));
}

#[tokio::test]
async fn anonymous_requests_are_denied_on_private_buckets() {
    let server = TestServer::with_bucket().await;
    server.send(Req::put(BUCKET, "/k").body("x")).await;
    for req in [
        Req::get(BUCKET, "/k"),
        Req::get(BUCKET, "/"),
        Req::put(BUCKET, "/k2"),
        Req::get("", "/"),
    ] {
        let response = server.send(req.anonymous()).await;
        assert_eq!(response.status, 403, "{}", response.text());
        assert_eq!(response.xml("Code").as_deref(), Some("AccessDenied"));
    }
}

#[tokio::test]
async fn public_read_buckets_serve_anonymous_reads_only() {
    let server = TestServer::start().await;
    let bucket = "public-1250000000";
    let created = server
        .send(Req::put(bucket, "/").header("x-cos-acl", "public-read"))
        .await;
    assert_eq!(created.status, 200);
    server.send(Req::put(bucket, "/k").body("x")).await;
    assert_eq!(
        server.send(Req::get(bucket, "/k").anonymous()).await.status,
        200
    );
    assert_eq!(
        server
            .send(Req::put(bucket, "/k").anonymous().body("y"))
            .await
            .status,
        403
    );
}

#[tokio::test]
async fn cos_bucket_names_must_carry_the_callers_appid() {
    let server = TestServer::start().await;
    let response = server.send(Req::put("nosuffix", "/")).await;
    assert_eq!(response.xml("Code").as_deref(), Some("InvalidBucketName"));
    let response = server.send(Req::put("other-1250000001", "/")).await;
    assert_eq!(response.status, 403);
    let response = server.send(Req::put("under_score-1250000000", "/")).await;
    assert_eq!(response.xml("Code").as_deref(), Some("InvalidBucketName"));
}

#[tokio::test]
async fn creating_an_existing_bucket_conflicts() {
    let server = TestServer::with_bucket().await;
    let response = server.send(Req::put(BUCKET, "/")).await;
    assert_eq!(response.status, 409);
    assert_eq!(
        response.xml("Code").as_deref(),
        Some("BucketAlreadyOwnedByYou")
    );
}

#[tokio::test]
async fn admin_api_manages_accounts_for_admins_only() {
    let server = TestServer::start().await;
    let path_style = |method: &str, path: &str| {
        let mut req = Req::new(method, "", path);
        req.host_override = Some("127.0.0.1".into());
        req
    };
    let body = r#"{"secret_id":"AKIDbob","secret_key":"bobkey","appid":"1250000001","uin":"2"}"#;
    let created = server
        .send(path_style("POST", "/-/admin/users").body(body))
        .await;
    assert_eq!(created.status, 200, "{}", created.text());
    let listed = server.send(path_style("GET", "/-/admin/users")).await;
    assert!(listed.text().contains("AKIDbob"));
    // Bob is no admin.
    let mut as_bob = path_style("GET", "/-/admin/users");
    as_bob.signing = Signing::None;
    let now = coffer_proto::time::now_millis() as u64 / 1000;
    let signed = coffer_proto::auth::cos::sign(
        "AKIDbob",
        "bobkey",
        "GET",
        "/-/admin/users",
        &[],
        &[],
        now - 60,
        now + 600,
    );
    let as_bob = as_bob.header("Authorization", &signed);
    assert_eq!(server.send(as_bob).await.status, 403);
    let deleted = server
        .send(path_style("DELETE", "/-/admin/users/AKIDbob"))
        .await;
    assert_eq!(deleted.status, 204);
    let anonymous = server
        .send(path_style("GET", "/-/admin/users").anonymous())
        .await;
    assert_eq!(anonymous.status, 403);
}
