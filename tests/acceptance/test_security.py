"""Security regressions from the attack review (issue 10), driven by the official clients.

The raw-socket versions of every finding are in crates/coffer-server/tests/it/security.rs;
these show the same rules hold for URLs the unmodified COS SDK and boto3 produce.
"""

import urllib.parse

import requests

from coffer_harness import quoted_md5


def plain_session():
    session = requests.Session()
    session.trust_env = False
    return session


def via_server(server, url):
    """Rewrite a real-COS URL to the local server; return (local url, Host header)."""
    parts = urllib.parse.urlsplit(url)
    local = urllib.parse.urlunsplit(("http", server.address, parts.path, parts.query, ""))
    return local, parts.netloc


def test_cos_presigned_put_cannot_copy_and_publish(coffer_server, cos_client, cos_proxy_client,
                                                   cos_anonymous_client, make_cos_bucket):
    bucket = make_cos_bucket("presign")
    secret_bucket = make_cos_bucket("secret")
    cos_client.put_object(Bucket=secret_bucket, Key="secret", Body=b"top secret")
    url = cos_proxy_client.get_presigned_url(Bucket=bucket, Key="k", Method="PUT")
    local, host = via_server(coffer_server, url)
    attack = plain_session().put(local, data=b"", headers={
        "Host": host,
        "x-cos-copy-source": "%s/secret" % coffer_server.cos_host(secret_bucket),
        "x-cos-acl": "public-read",
    })
    assert attack.status_code == 403, attack.text
    assert "<Code>AccessDenied</Code>" in attack.text
    # The URL still works for what it was signed for.
    honest = plain_session().put(local, data=b"mine", headers={"Host": host})
    assert honest.status_code == 200, honest.text
    assert honest.headers["ETag"] == quoted_md5(b"mine")
    assert cos_client.get_object(Bucket=bucket, Key="k")["Body"].get_raw_stream().read() == b"mine"


def test_cos_presigned_get_with_appended_acl_is_refused(coffer_server, cos_client,
                                                        cos_proxy_client, cos_bucket):
    cos_client.put_object(Bucket=cos_bucket, Key="k", Body=b"v")
    url = cos_proxy_client.get_presigned_download_url(Bucket=cos_bucket, Key="k")
    local, host = via_server(coffer_server, url)
    session = plain_session()
    assert session.get(local, headers={"Host": host}).status_code == 200
    for extra in ("&acl", "&acl=", "&uploadId=1", "&response-content-type=text%2Fhtml"):
        response = session.get(local + extra, headers={"Host": host})
        assert response.status_code == 403, (extra, response.text)


def test_s3_presigned_put_cannot_copy_and_publish(s3_client, make_s3_bucket, coffer_server):
    bucket = make_s3_bucket("presign")
    secret_bucket = make_s3_bucket("secret")
    s3_client.put_object(Bucket=secret_bucket, Key="secret", Body=b"top secret")
    url = s3_client.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "k"},
                                           ExpiresIn=300)
    attack = plain_session().put(url, data=b"", headers={
        "x-amz-copy-source": "%s/secret" % secret_bucket,
        "x-amz-acl": "public-read",
    })
    assert attack.status_code == 403, attack.text
    assert "not signed" in attack.text
    honest = plain_session().put(url, data=b"mine")
    assert honest.status_code == 200, honest.text
    assert s3_client.get_object(Bucket=bucket, Key="k")["Body"].read() == b"mine"


def test_request_log_cannot_be_forged(coffer_server, s3_client, s3_bucket):
    forged = "2026-01-01T00:00:00.000000Z  INFO coffer::request: forged"
    key = "x\n" + forged
    s3_client.put_object(Bucket=s3_bucket, Key=key, Body=b"v")
    s3_client.delete_object(Bucket=s3_bucket, Key=key)
    log = coffer_server.log_path.read_text(errors="replace")
    assert not any(line.startswith(forged) for line in log.splitlines()), \
        "a key forged a request-log line"
    assert "\\n" + forged in log, "the key is logged with its newline escaped"
