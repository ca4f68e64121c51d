"""Acceptance tests: the unmodified Tencent COS Python SDK (cos-python-sdk-v5) against Coffer.

Every in-scope code sample of the seed documents (shared/seeds) is run here through
CosS3Client and its documented results are asserted; wire facts come from
shared/docs/cos-protocol.md (section numbers are cited as "protocol §x").

Seed samples deliberately NOT covered yet (out of scope for the server-core issue):
  * put_bucket_acl / get_bucket_acl / put_object_acl / get_object_acl, Grant* headers
  * put/get/delete_bucket_cors
  * put/get/delete_bucket_lifecycle (get_date)
  * list_objects_versions and every VersionId argument (versioning)
  * append_object
  * restore_object, ARCHIVE / DEEP_ARCHIVE reads
  * select_object_content
  * CosEncryptionClient with AESProvider / RSAProvider (client-side encryption)
  * object tagging
"""

import datetime
import email.utils
import hashlib
import io
import os
import re
import threading
import time
import urllib.parse
import xml.etree.ElementTree as ElementTree

import pytest
import requests
from qcloud_cos import CosClientError, CosServiceError
from qcloud_cos.cos_threadpool import SimpleThreadPool

from coffer_harness import (APPID, REGION, ROOT_SECRET_ID, RecordingSession, content_md5,
                            cos_bucket_name, crc64, file_sha256, make_cos_client,
                            make_cos_config, multipart_etag, quoted_md5)

MiB = 1024 * 1024
SEED_OLD_DATE = "Wed, 28 Oct 2014 20:30:00 GMT"
ISO_8601_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$")


# ----------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------

def service_error(call, *args, **kwargs):
    """Run an SDK call that must fail with CosServiceError and return the error."""
    with pytest.raises(CosServiceError) as caught:
        call(*args, **kwargs)
    return caught.value


def assert_status(error, status, code=None):
    assert error.get_status_code() == status, (
        "expected HTTP %s, got %s; error body: %r"
        % (status, error.get_status_code(), error.get_origin_msg()))
    if code is not None:
        codes = code if isinstance(code, (tuple, set, list)) else (code,)
        assert error.get_error_code() in codes, (
            "expected error code %s, got %r; error body: %r"
            % (" or ".join(codes), error.get_error_code(), error.get_origin_msg()))


def assert_full_error_fields(error):
    """Protocol §5.1: Code, Message, Resource, RequestId all parsed; TraceId present."""
    for accessor in ("get_error_code", "get_error_msg", "get_resource_location",
                     "get_request_id", "get_trace_id"):
        value = getattr(error, accessor)()
        assert value and value != "Unknown", (
            "%s() returned %r; the error body must carry non-empty Code, Message, Resource,"
            " RequestId and TraceId (protocol §5.1); body: %r"
            % (accessor, value, error.get_origin_msg()))


def body_of(response):
    """The raw bytes of a get_object response body."""
    return response["Body"].get_raw_stream().read()


def put(client, bucket, key, data=b"hello world", **kwargs):
    return client.put_object(Bucket=bucket, Body=data, Key=key, **kwargs)


def get_bytes(client, bucket, key, **kwargs):
    return body_of(client.get_object(Bucket=bucket, Key=key, **kwargs))


def list_all_keys(client, bucket, prefix=""):
    keys, marker = [], ""
    while True:
        page = client.list_objects(Bucket=bucket, Prefix=prefix, Marker=marker, MaxKeys=1000)
        keys.extend(item["Key"] for item in page.get("Contents", []))
        if page["IsTruncated"] == "false":
            return keys
        marker = page["NextMarker"]


def via_server(server, url):
    """Rewrite a real-COS URL to the local server; return (local url, Host header)."""
    parts = urllib.parse.urlsplit(url)
    local = urllib.parse.urlunsplit(("http", server.address, parts.path, parts.query, ""))
    return local, parts.netloc


def plain_session():
    session = requests.Session()
    session.trust_env = False
    return session


# ----------------------------------------------------------------------------------------
# service and buckets
# ----------------------------------------------------------------------------------------

class TestService:
    def test_list_buckets_includes_new_bucket_with_location(self, cos_proxy_client, cos_bucket):
        response = cos_proxy_client.list_buckets()
        assert "Owner" in response and response["Owner"].get("ID"), response
        buckets = response["Buckets"]["Bucket"]
        assert isinstance(buckets, list), "Buckets.Bucket must be forced to a list: %r" % buckets
        mine = [b for b in buckets if b["Name"] == cos_bucket]
        assert mine, "new bucket %s missing from list_buckets: %r" % (cos_bucket, buckets)
        assert mine[0]["Location"] == REGION
        assert ISO_8601_MS.match(mine[0]["CreationDate"]), mine[0]["CreationDate"]

    def test_list_buckets_through_service_domain(self, coffer_server, cos_bucket):
        client = make_cos_client(coffer_server, mode="plain", ServiceDomain=coffer_server.address)
        names = [b["Name"] for b in client.list_buckets()["Buckets"]["Bucket"]]
        assert cos_bucket in names

    def test_list_buckets_with_wrong_key_is_rejected(self, coffer_server):
        client = make_cos_client(coffer_server, secret_key="definitely-not-the-key", mode="proxy")
        error = service_error(client.list_buckets)
        assert_status(error, 403, "SignatureDoesNotMatch")


class TestEndpointVariants:
    """Other host names the SDK produces (protocol §1.1, §1.3) route to the same bucket."""

    @pytest.mark.parametrize("options", [
        {"EnableOldDomain": False},                                  # cos-internal.<r>.tencentcos.cn
        {"EnableOldDomain": False, "EnableInternalDomain": False},   # cos.<r>.tencentcos.cn
        {"Region": "cosgz"},                                         # v4 alias of ap-guangzhou
        {"Region": None, "Endpoint": "cos.ap-guangzhou.myqcloud.com"},
    ], ids=["tencentcos-internal", "tencentcos", "region-alias", "explicit-endpoint"])
    def test_object_round_trip(self, coffer_server, cos_client, cos_bucket, options):
        client = make_cos_client(coffer_server, **options)
        client.put_object(Bucket=cos_bucket, Key="variant.txt", Body=b"same bucket")
        assert get_bytes(cos_client, cos_bucket, "variant.txt") == b"same bucket"
        keys = [c["Key"] for c in client.list_objects(Bucket=cos_bucket)["Contents"]]
        assert keys == ["variant.txt"]

    def test_list_buckets_on_tencentcos_service_host(self, coffer_server, cos_bucket):
        client = make_cos_client(coffer_server, mode="proxy", EnableOldDomain=False)
        names = [b["Name"] for b in client.list_buckets()["Buckets"]["Bucket"]]
        assert cos_bucket in names


class TestBuckets:
    def test_create_then_head_bucket(self, cos_client):
        name = cos_bucket_name("create")
        assert cos_client.create_bucket(Bucket=name) is None
        try:
            response = cos_client.head_bucket(Bucket=name)
            assert "x-cos-request-id" in response, response
            assert cos_client.bucket_exists(name) is True
        finally:
            cos_client.delete_bucket(Bucket=name)

    def test_seed_create_bucket_with_private_acl(self, cos_client):
        name = cos_bucket_name("private")
        cos_client.create_bucket(Bucket=name, ACL="private")
        cos_client.delete_bucket(Bucket=name)

    def test_head_bucket_reports_region(self, cos_client, cos_bucket):
        response = cos_client.head_bucket(Bucket=cos_bucket)
        assert response.get("x-cos-bucket-region") == REGION, response

    def test_head_missing_bucket_is_404(self, cos_client):
        error = service_error(cos_client.head_bucket, Bucket="acc-missing-bucket-%s" % APPID)
        assert_status(error, 404)
        assert error.get_request_id(), "HEAD 404 must carry x-cos-request-id"
        assert error.get_trace_id(), "HEAD 404 must carry x-cos-trace-id"
        assert cos_client.bucket_exists("acc-missing-bucket-%s" % APPID) is False

    def test_create_existing_bucket_conflicts(self, cos_client, cos_bucket):
        error = service_error(cos_client.create_bucket, Bucket=cos_bucket)
        assert_status(error, 409, ("BucketAlreadyExists", "BucketAlreadyOwnedByYou"))

    def test_create_bucket_with_overlong_name_is_rejected(self, cos_client):
        name = "a" * 60 + "-" + APPID  # longer than a DNS label (63) can be
        try:
            error = service_error(cos_client.create_bucket, Bucket=name)
        finally:
            if cos_client.bucket_exists(name):
                cos_client.delete_bucket(Bucket=name)
        assert_status(error, 400, "InvalidBucketName")

    def test_get_bucket_location(self, cos_client, cos_bucket):
        assert cos_client.get_bucket_location(Bucket=cos_bucket) == {"LocationConstraint": REGION}

    def test_get_location_of_missing_bucket(self, cos_client):
        error = service_error(cos_client.get_bucket_location, Bucket="acc-nothere-%s" % APPID)
        assert_status(error, 404, "NoSuchBucket")

    def test_delete_empty_bucket(self, cos_client, cos_proxy_client):
        name = cos_bucket_name("delete")
        cos_client.create_bucket(Bucket=name)
        assert cos_client.delete_bucket(Bucket=name) is None
        assert cos_client.bucket_exists(name) is False
        buckets = cos_proxy_client.list_buckets()["Buckets"] or {"Bucket": []}
        assert name not in [b["Name"] for b in buckets["Bucket"]]

    def test_delete_bucket_with_objects_conflicts(self, cos_client, cos_bucket):
        put(cos_client, cos_bucket, "keep.txt")
        error = service_error(cos_client.delete_bucket, Bucket=cos_bucket)
        assert_status(error, 409, "BucketNotEmpty")

    def test_delete_bucket_with_unfinished_upload_conflicts(self, cos_client, cos_bucket):
        cos_client.create_multipart_upload(Bucket=cos_bucket, Key="pending.bin")
        error = service_error(cos_client.delete_bucket, Bucket=cos_bucket)
        assert_status(error, 409, "BucketNotEmpty")

    def test_delete_missing_bucket(self, cos_client):
        error = service_error(cos_client.delete_bucket, Bucket="acc-gone-%s" % APPID)
        assert_status(error, 404, "NoSuchBucket")

    def test_object_calls_on_missing_bucket(self, cos_client):
        bucket = "acc-absent-%s" % APPID
        assert_status(service_error(put, cos_client, bucket, "k"), 404, "NoSuchBucket")
        # An early error before a large body is read must leave the connection usable (§1.7).
        assert_status(service_error(put, cos_client, bucket, "big", os.urandom(2 * MiB)), 404,
                      "NoSuchBucket")
        assert_status(service_error(cos_client.list_objects, Bucket=bucket), 404, "NoSuchBucket")
        assert_status(service_error(cos_client.get_object, Bucket=bucket, Key="k"), 404,
                      "NoSuchBucket")


# ----------------------------------------------------------------------------------------
# list objects
# ----------------------------------------------------------------------------------------

class TestListObjects:
    def test_empty_bucket_has_no_contents(self, cos_client, cos_bucket):
        response = cos_client.list_objects(Bucket=cos_bucket)
        assert "Contents" not in response, response
        assert response["IsTruncated"] == "false"
        assert response["Name"] == cos_bucket
        assert response["MaxKeys"] == "1000"
        assert "NextMarker" not in response

    def test_seed_prefix_sample(self, cos_client, cos_bucket):
        for key in ("folder1/a.txt", "folder1/b.txt", "folder10.txt", "folder2/c.txt"):
            put(cos_client, cos_bucket, key)
        response = cos_client.list_objects(Bucket=cos_bucket, Prefix="folder1")
        assert [c["Key"] for c in response["Contents"]] == [
            "folder1/a.txt", "folder1/b.txt", "folder10.txt"]
        assert response["Prefix"] == "folder1"

    def test_contents_fields(self, cos_client, cos_bucket):
        data = b"twenty-three bytes long"
        put(cos_client, cos_bucket, "zh.cn.txt", data)
        response = cos_client.list_objects(Bucket=cos_bucket)
        (item,) = response["Contents"]
        assert item["Key"] == "zh.cn.txt"
        assert item["ETag"] == quoted_md5(data), "ETag must be the quoted lower-case MD5"
        assert item["Size"] == str(len(data))
        assert item["StorageClass"] == "STANDARD"
        assert ISO_8601_MS.match(item["LastModified"]), item["LastModified"]
        assert item["Owner"]["ID"] and item["Owner"]["DisplayName"], item

    def test_delimiter_groups_common_prefixes(self, cos_client, cos_bucket):
        for key in ("dir/a.txt", "dir/sub/b.txt", "dir/sub/c.txt", "dir/other/d.txt", "top.txt"):
            put(cos_client, cos_bucket, key)
        response = cos_client.list_objects(Bucket=cos_bucket, Prefix="dir/", Delimiter="/")
        assert response["Delimiter"] == "/", "Delimiter must come back unencoded"
        assert [c["Key"] for c in response["Contents"]] == ["dir/a.txt"]
        assert [p["Prefix"] for p in response["CommonPrefixes"]] == ["dir/other/", "dir/sub/"]
        assert response["IsTruncated"] == "false"

    def test_single_common_prefix_is_still_a_list(self, cos_client, cos_bucket):
        put(cos_client, cos_bucket, "only/one.txt")
        response = cos_client.list_objects(Bucket=cos_bucket, Delimiter="/")
        assert response["CommonPrefixes"] == [{"Prefix": "only/"}]
        assert "Contents" not in response

    def test_marker_is_exclusive(self, cos_client, cos_bucket):
        for key in ("a", "b", "c", "d"):
            put(cos_client, cos_bucket, key)
        response = cos_client.list_objects(Bucket=cos_bucket, Marker="b")
        assert [c["Key"] for c in response["Contents"]] == ["c", "d"]
        assert response["Marker"] == "b"

    def test_max_keys_truncates_and_sets_next_marker(self, cos_client, cos_bucket):
        for index in range(5):
            put(cos_client, cos_bucket, "k%d" % index)
        first = cos_client.list_objects(Bucket=cos_bucket, MaxKeys=2)
        assert first["IsTruncated"] == "true"
        assert [c["Key"] for c in first["Contents"]] == ["k0", "k1"]
        assert first["NextMarker"] == "k1"
        assert first["MaxKeys"] == "2"
        last = cos_client.list_objects(Bucket=cos_bucket, MaxKeys=2, Marker="k3")
        assert [c["Key"] for c in last["Contents"]] == ["k4"]
        assert last["IsTruncated"] == "false"
        assert "NextMarker" not in last, "NextMarker must be sent only when truncated (§15.5)"

    def test_next_marker_with_delimiter_can_be_a_common_prefix(self, cos_client, cos_bucket):
        for key in ("a/1", "a/2", "b/1", "c"):
            put(cos_client, cos_bucket, key)
        first = cos_client.list_objects(Bucket=cos_bucket, Delimiter="/", MaxKeys=2)
        assert [p["Prefix"] for p in first["CommonPrefixes"]] == ["a/", "b/"]
        assert first["IsTruncated"] == "true"
        assert first["NextMarker"] == "b/"
        second = cos_client.list_objects(Bucket=cos_bucket, Delimiter="/", MaxKeys=2,
                                         Marker=first["NextMarker"])
        assert [c["Key"] for c in second["Contents"]] == ["c"]
        assert "CommonPrefixes" not in second
        assert second["IsTruncated"] == "false"

    def test_paging_with_small_pages_visits_every_key_once(self, cos_client, cos_bucket):
        keys = sorted("page/%03d" % i for i in range(23))
        for key in keys:
            put(cos_client, cos_bucket, key, key.encode())
        seen, marker, pages = [], "", 0
        while True:
            response = cos_client.list_objects(Bucket=cos_bucket, Prefix="page/", Marker=marker,
                                               MaxKeys=5)
            pages += 1
            seen.extend(c["Key"] for c in response.get("Contents", []))
            if "NextMarker" in response:
                assert response["IsTruncated"] == "true"
                marker = response["NextMarker"]
            else:
                assert response["IsTruncated"] == "false"
                break
            assert pages < 20, "paging does not terminate"
        assert seen == keys
        assert pages == 5

    def test_seed_list_current_dir_loop_over_more_than_1000_objects(self, cos_client, cos_bucket):
        """The seed's listCurrentDir(): default MaxKeys, stop when NextMarker is absent."""
        keys = ["data/%04d.txt" % i for i in range(1005)] + ["data/sub/x.txt"]
        pool = SimpleThreadPool(8)
        for key in keys:
            pool.add_task(cos_client.put_object, cos_bucket, b"x", key)
        pool.wait_completion()
        assert pool.get_result()["success_all"], "some uploads failed"

        def list_current_dir(prefix, delimiter=""):
            file_infos, sub_dirs, marker, count = [], [], "", 0
            while True:
                response = cos_client.list_objects(cos_bucket, prefix, delimiter, marker)
                count += 1
                if "CommonPrefixes" in response:
                    sub_dirs.extend(response.get("CommonPrefixes"))
                if "Contents" in response:
                    file_infos.extend(response.get("Contents"))
                if "NextMarker" in response.keys():
                    marker = response["NextMarker"]
                else:
                    break
                assert count < 10, "listing loop does not terminate"
            return file_infos, sub_dirs, count

        files, sub_dirs, requests_made = list_current_dir("data/")
        assert [f["Key"] for f in files] == sorted(keys)
        assert requests_made == 2, "1006 keys at the default 1000 per page need two requests"
        files, sub_dirs, _ = list_current_dir("data/", "/")
        assert len(files) == 1005
        assert sub_dirs == [{"Prefix": "data/sub/"}]
        capped = cos_client.list_objects(Bucket=cos_bucket, Prefix="data/", MaxKeys=5000)
        assert len(capped["Contents"]) == 1000, "max-keys is capped at 1000 (protocol §6.6)"
        assert capped["IsTruncated"] == "true"

    def test_negative_max_keys_is_invalid_argument(self, cos_client, cos_bucket):
        error = service_error(cos_client.list_objects, Bucket=cos_bucket, MaxKeys=-1)
        assert_status(error, 400, "InvalidArgument")

    def test_seed_delete_objects_with_prefix_loop(self, cos_client, cos_bucket):
        for key in ("root/logs/1.log", "root/logs/2.log", "root/logs/x/3.log", "root/keep.txt"):
            put(cos_client, cos_bucket, key)
        is_over, marker, prefix, rounds = False, "", "root/logs", 0
        while not is_over:
            rounds += 1
            response = cos_client.list_objects(Bucket=cos_bucket, Prefix=prefix, Marker=marker)
            if response["Contents"]:
                for content in response["Contents"]:
                    cos_client.delete_object(Bucket=cos_bucket, Key=content["Key"])
            if response["IsTruncated"] == "false":
                is_over = True
                marker = response["Marker"]
            assert rounds < 5
        assert list_all_keys(cos_client, cos_bucket) == ["root/keep.txt"]

    def test_sdk_decodes_special_keys(self, cos_client, cos_bucket):
        keys = ["enc/a b.txt", "enc/a+b.txt", "enc/100%.txt", "enc/中文.txt", "enc/sub dir/x"]
        for key in keys:
            put(cos_client, cos_bucket, key)
        response = cos_client.list_objects(Bucket=cos_bucket, Prefix="enc/", Delimiter="/")
        assert sorted(c["Key"] for c in response["Contents"]) == sorted(keys[:4])
        assert [p["Prefix"] for p in response["CommonPrefixes"]] == ["enc/sub dir/"]

    def test_prefix_and_marker_with_special_characters(self, cos_client, cos_bucket):
        keys = ["sp ace/1", "sp ace/2", "sp ace/3", "sp+ace/1"]
        for key in keys:
            put(cos_client, cos_bucket, key)
        response = cos_client.list_objects(Bucket=cos_bucket, Prefix="sp ace/", Marker="sp ace/1")
        assert [c["Key"] for c in response["Contents"]] == ["sp ace/2", "sp ace/3"]
        assert response["Prefix"] == "sp ace/"
        assert response["Marker"] == "sp ace/1"

    def test_explicit_encoding_type_url(self, cos_client, cos_bucket):
        key = "enc/a b+c中.txt"
        put(cos_client, cos_bucket, key)
        response = cos_client.list_objects(Bucket=cos_bucket, Prefix="enc/", EncodingType="url")
        assert response["EncodingType"] == "url"
        (item,) = response["Contents"]
        encoded = item["Key"]
        assert urllib.parse.unquote(encoded) == key, encoded
        assert " " not in encoded and "%20" in encoded, "space must be encoded as %20: " + encoded
        assert "+" not in encoded and "%2B" in encoded.upper(), "plus must be %2B: " + encoded

    def test_keys_sorted_in_utf8_binary_order(self, cos_client, cos_bucket):
        keys = ["B", "a", "Z", "é", "中", "_", "~", "0"]
        for key in keys:
            put(cos_client, cos_bucket, key)
        listed = [c["Key"] for c in cos_client.list_objects(Bucket=cos_bucket)["Contents"]]
        assert listed == sorted(keys, key=lambda k: k.encode("utf-8"))


# ----------------------------------------------------------------------------------------
# put / head / get / delete object
# ----------------------------------------------------------------------------------------

class TestPutObject:
    def test_put_bytes_returns_etag_and_crc64(self, cos_client, cos_bucket):
        response = put(cos_client, cos_bucket, "exampleobject", b"abcdefg")
        assert response["ETag"] == quoted_md5(b"abcdefg"), response
        assert response["x-cos-hash-crc64ecma"] == crc64(b"abcdefg"), response
        assert response["x-cos-request-id"], response

    def test_seed_upload_file_stream_with_content_type(self, cos_client, cos_bucket, tmp_path):
        local = tmp_path / "test.txt"
        local.write_bytes(b"<html>hello</html>")
        with open(local, "rb") as fp:
            response = cos_client.put_object(Bucket=cos_bucket, Body=fp, Key="test.txt",
                                             StorageClass="STANDARD",
                                             ContentType="text/html; charset=utf-8")
        assert response["ETag"] == quoted_md5(local.read_bytes())
        head = cos_client.head_object(Bucket=cos_bucket, Key="test.txt")
        assert head["Content-Type"] == "text/html; charset=utf-8"
        assert head["Content-Length"] == str(local.stat().st_size)

    def test_seed_put_object_from_local_file(self, cos_client, cos_bucket, tmp_path):
        local = tmp_path / "local.txt"
        local.write_bytes(os.urandom(3000))
        response = cos_client.put_object_from_local_file(Bucket=cos_bucket,
                                                         LocalFilePath=str(local), Key="test.txt")
        assert response["ETag"] == quoted_md5(local.read_bytes())
        assert get_bytes(cos_client, cos_bucket, "test.txt") == local.read_bytes()

    def test_seed_upload_to_specified_directory(self, cos_client, cos_bucket):
        response = put(cos_client, cos_bucket, "path/to/dir/test.txt", b"in a dir",
                       StorageClass="STANDARD", ContentType="text/html; charset=utf-8")
        assert response["ETag"] == quoted_md5(b"in a dir")
        listing = cos_client.list_objects(Bucket=cos_bucket, Prefix="path/to/", Delimiter="/")
        assert [p["Prefix"] for p in listing["CommonPrefixes"]] == ["path/to/dir/"]

    def test_seed_custom_metadata_round_trip(self, cos_client, cos_bucket):
        put(cos_client, cos_bucket, "meta.txt", b"test",
            Metadata={"x-cos-meta-key1": "value1", "x-cos-meta-key2": "value2"})
        head = cos_client.head_object(Bucket=cos_bucket, Key="meta.txt")
        assert head["x-cos-meta-key1"] == "value1"
        assert head["x-cos-meta-key2"] == "value2"
        got = cos_client.get_object(Bucket=cos_bucket, Key="meta.txt")
        assert got["x-cos-meta-key1"] == "value1" and got["x-cos-meta-key2"] == "value2"

    def test_metadata_names_come_back_lower_case(self, cos_client, cos_bucket):
        put(cos_client, cos_bucket, "case.txt", Metadata={"x-cos-meta-Author": "Alice Smith"})
        head = cos_client.head_object(Bucket=cos_bucket, Key="case.txt")
        assert head.get("x-cos-meta-author") == "Alice Smith", sorted(head)

    def test_non_ascii_metadata_value_round_trips_as_utf8(self, cos_client, cos_bucket):
        put(cos_client, cos_bucket, "utf8.txt", Metadata={"x-cos-meta-name": "中文 名字"})
        raw = cos_client.head_object(Bucket=cos_bucket, Key="utf8.txt")["x-cos-meta-name"]
        assert raw.encode("latin-1").decode("utf-8") == "中文 名字"

    def test_headers_that_are_not_metadata_are_ignored(self, cos_client, cos_bucket):
        put(cos_client, cos_bucket, "plain.txt", Metadata={"x-notmeta-thing": "zzz"})
        head = cos_client.head_object(Bucket=cos_bucket, Key="plain.txt")
        assert not any(name.lower() == "x-notmeta-thing" for name in head), head

    def test_seed_all_in_scope_parameters(self, cos_client, cos_bucket):
        data = b"bytes" * 100
        response = cos_client.put_object(
            Bucket=cos_bucket, Body=data, Key="exampleobject", EnableMD5=True,
            StorageClass="STANDARD_IA", Expires="Wed, 21 Oct 2037 07:28:00 GMT",
            CacheControl="max-age=1000000", ContentType="text/plain",
            ContentDisposition='attachment; filename="filename.jpg"', ContentEncoding="gzip",
            ContentLanguage="zh-cn", ContentLength=str(len(data)),
            Metadata={"x-cos-meta-key1": "value1", "x-cos-meta-key2": "value2"},
            TrafficLimit="1048576")
        assert response["ETag"] == quoted_md5(data)
        head = cos_client.head_object(Bucket=cos_bucket, Key="exampleobject")
        expected = {
            "Cache-Control": "max-age=1000000",
            "Content-Type": "text/plain",
            "Content-Disposition": 'attachment; filename="filename.jpg"',
            "Content-Encoding": "gzip",
            "Content-Language": "zh-cn",
            "Content-Length": str(len(data)),
            "Expires": "Wed, 21 Oct 2037 07:28:00 GMT",
            "x-cos-meta-key1": "value1",
            "x-cos-meta-key2": "value2",
            "x-cos-storage-class": "STANDARD_IA",
            "ETag": quoted_md5(data),
        }
        actual = {name: head.get(name) for name in expected}
        assert actual == expected, "head_object headers (exact spelling) differ"
        got = cos_client.get_object(Bucket=cos_bucket, Key="exampleobject")
        assert {name: got.get(name) for name in expected} == expected
        assert body_of(got) == data, "a stored Content-Encoding must not alter the bytes"

    def test_storage_class_is_stored_and_listed(self, cos_client, cos_bucket):
        put(cos_client, cos_bucket, "ia.bin", b"x", StorageClass="STANDARD_IA")
        put(cos_client, cos_bucket, "std.bin", b"x")
        assert cos_client.head_object(Bucket=cos_bucket, Key="ia.bin")[
            "x-cos-storage-class"] == "STANDARD_IA"
        classes = {c["Key"]: c["StorageClass"]
                   for c in cos_client.list_objects(Bucket=cos_bucket)["Contents"]}
        assert classes == {"ia.bin": "STANDARD_IA", "std.bin": "STANDARD"}

    def test_enable_md5_upload_is_accepted(self, cos_client, cos_bucket):
        response = put(cos_client, cos_bucket, "md5.txt", b"checked body", EnableMD5=True)
        assert response["ETag"] == quoted_md5(b"checked body")

    def test_wrong_content_md5_is_bad_digest(self, cos_client, cos_bucket):
        error = service_error(put, cos_client, cos_bucket, "bad.txt", b"real body",
                              ContentMD5=content_md5(b"another body"))
        assert_status(error, 400, "BadDigest")
        assert cos_client.object_exists(cos_bucket, "bad.txt") is False

    def test_malformed_content_md5_is_invalid_digest(self, cos_client, cos_bucket):
        error = service_error(put, cos_client, cos_bucket, "bad.txt", b"real body",
                              ContentMD5="not-a-digest")
        assert_status(error, 400, "InvalidDigest")

    def test_overwrite_replaces_content_and_metadata(self, cos_client, cos_bucket):
        put(cos_client, cos_bucket, "k", b"first", Metadata={"x-cos-meta-v": "1"})
        put(cos_client, cos_bucket, "k", b"second!")
        head = cos_client.head_object(Bucket=cos_bucket, Key="k")
        assert head["Content-Length"] == "7"
        assert "x-cos-meta-v" not in head
        assert get_bytes(cos_client, cos_bucket, "k") == b"second!"

    def test_empty_stream_upload_uses_chunked_encoding(self, cos_client, cos_bucket):
        response = cos_client.put_object(Bucket=cos_bucket, Body=io.BytesIO(b""), Key="empty")
        assert response["ETag"] == quoted_md5(b"")
        head = cos_client.head_object(Bucket=cos_bucket, Key="empty")
        assert head["Content-Length"] == "0"
        assert head["x-cos-hash-crc64ecma"] == "0"

    def test_stream_of_unknown_length_is_uploaded_chunked(self, cos_client, cos_bucket):
        chunks = [b"alpha-", b"beta-", b"gamma" * 1000]
        cos_client.put_object(Bucket=cos_bucket, Body=(c for c in chunks), Key="chunked")
        assert get_bytes(cos_client, cos_bucket, "chunked") == b"".join(chunks)

    def test_seed_traffic_limit_is_accepted(self, cos_client, cos_bucket, tmp_path):
        local = tmp_path / "test.bin"
        local.write_bytes(os.urandom(2048))
        with open(local, "rb") as fp:
            response = cos_client.put_object(Bucket=cos_bucket, Key="exampleobject", Body=fp,
                                             TrafficLimit="819200")
        assert response["ETag"] == quoted_md5(local.read_bytes())

    def test_traffic_limit_out_of_range_is_rejected(self, cos_client, cos_bucket):
        error = service_error(put, cos_client, cos_bucket, "k", b"x", TrafficLimit="100")
        assert_status(error, 400)


class TestConcurrency:
    def test_concurrent_overwrites_never_mix_contents(self, coffer_server, cos_client, cos_bucket):
        """Readers racing writers on one key always get a whole version whose ETag matches."""
        versions = [bytes([65 + n]) * (200000 + n * 1111) for n in range(6)]
        etags = {quoted_md5(v) for v in versions}
        put(cos_client, cos_bucket, "contended", versions[0])
        stop, problems = threading.Event(), []

        def writer(seed):
            client = make_cos_client(coffer_server)
            for round_number in range(8):
                put(client, cos_bucket, "contended", versions[(seed + round_number) % len(versions)])

        def reader():
            client = make_cos_client(coffer_server)
            while not stop.is_set():
                response = client.get_object(Bucket=cos_bucket, Key="contended")
                body = body_of(response)
                if quoted_md5(body) != response["ETag"] or response["ETag"] not in etags:
                    problems.append("body md5 %s vs ETag %s (%d bytes)"
                                    % (quoted_md5(body), response["ETag"], len(body)))
                if response["Content-Length"] != str(len(body)):
                    problems.append("Content-Length %s vs %d bytes"
                                    % (response["Content-Length"], len(body)))

        readers = [threading.Thread(target=reader) for _ in range(3)]
        writers = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
        for thread in readers + writers:
            thread.start()
        for thread in writers:
            thread.join(120)
        stop.set()
        for thread in readers:
            thread.join(120)
        assert not problems, "torn or inconsistent reads:\n" + "\n".join(problems[:10])
        final = cos_client.get_object(Bucket=cos_bucket, Key="contended")
        assert body_of(final) in versions

    def test_parallel_uploads_of_distinct_keys(self, cos_client, cos_bucket):
        payloads = {"par/%02d" % n: os.urandom(1000 + n * 977) for n in range(40)}
        pool = SimpleThreadPool(8)
        for key, data in payloads.items():
            pool.add_task(cos_client.put_object, cos_bucket, data, key)
        pool.wait_completion()
        assert pool.get_result()["success_all"]
        assert list_all_keys(cos_client, cos_bucket, "par/") == sorted(payloads)
        for key, data in payloads.items():
            assert get_bytes(cos_client, cos_bucket, key) == data, key


class TestKeys:
    KEYS = [
        "plain.txt",
        "dir/中文 文件.txt",
        "spaces in name .txt",
        "a+b=c&d.txt",
        "percent%20literal%.txt",
        "double//slash//key",
        "trailing-slash/",
        "tilde~star*(paren)!.txt",
        "quote'semi;colon,comma.txt",
        "question?hash#.txt",
        "emoji-\U0001F600.bin",
        "dots/./in/path.txt",
        "/".join(["deep"] * 30) + "/leaf",
    ]

    @pytest.mark.parametrize("key", KEYS)
    def test_key_round_trip(self, cos_client, cos_bucket, key):
        data = ("content of %s" % key).encode("utf-8")
        assert put(cos_client, cos_bucket, key, data)["ETag"] == quoted_md5(data)
        assert cos_client.head_object(Bucket=cos_bucket, Key=key)["Content-Length"] == str(len(data))
        assert get_bytes(cos_client, cos_bucket, key) == data
        assert list_all_keys(cos_client, cos_bucket) == [key]
        listed = cos_client.list_objects(Bucket=cos_bucket, Prefix=key)
        assert [c["Key"] for c in listed["Contents"]] == [key]
        cos_client.delete_object(Bucket=cos_bucket, Key=key)
        assert cos_client.object_exists(cos_bucket, key) is False

    def test_similar_keys_are_distinct(self, cos_client, cos_bucket):
        keys = ["a b", "a+b", "a%20b", "a/b", "a//b", "a/b/"]
        for key in keys:
            put(cos_client, cos_bucket, key, key.encode())
        for key in keys:
            assert get_bytes(cos_client, cos_bucket, key) == key.encode(), key
        assert sorted(list_all_keys(cos_client, cos_bucket)) == sorted(keys)


class TestDirectories:
    def test_seed_create_directory_object(self, cos_client, cos_bucket):
        response = cos_client.put_object(Bucket=cos_bucket, Key="path/to/create/dir/", Body=b"")
        assert response["ETag"] == quoted_md5(b"")
        head = cos_client.head_object(Bucket=cos_bucket, Key="path/to/create/dir/")
        assert head["Content-Length"] == "0"
        listing = cos_client.list_objects(Bucket=cos_bucket, Prefix="path/to/create/",
                                          Delimiter="/")
        assert [p["Prefix"] for p in listing["CommonPrefixes"]] == ["path/to/create/dir/"]
        listing = cos_client.list_objects(Bucket=cos_bucket, Prefix="path/to/create/dir/")
        assert [(c["Key"], c["Size"]) for c in listing["Contents"]] == [("path/to/create/dir/", "0")]

    def test_directory_and_file_of_same_stem_coexist(self, cos_client, cos_bucket):
        put(cos_client, cos_bucket, "a/b", b"file")
        put(cos_client, cos_bucket, "a/b/", b"")
        put(cos_client, cos_bucket, "a/b/c", b"child")
        assert get_bytes(cos_client, cos_bucket, "a/b") == b"file"
        assert get_bytes(cos_client, cos_bucket, "a/b/") == b""
        assert list_all_keys(cos_client, cos_bucket) == ["a/b", "a/b/", "a/b/c"]

    def test_seed_delete_directory_object(self, cos_client, cos_bucket):
        put(cos_client, cos_bucket, "path/to/delete/dir/", b"")
        put(cos_client, cos_bucket, "path/to/delete/dir/file.txt", b"stays")
        response = cos_client.delete_object(Bucket=cos_bucket, Key="path/to/delete/dir/")
        assert response is None or isinstance(response, dict)
        assert list_all_keys(cos_client, cos_bucket) == ["path/to/delete/dir/file.txt"]


class TestHeadObject:
    def test_seed_head_object_fields(self, cos_client, cos_bucket):
        data = os.urandom(16807)
        put(cos_client, cos_bucket, "exampleobject", data, Metadata={"x-cos-meta-test": "test"})
        head = cos_client.head_object(Bucket=cos_bucket, Key="exampleobject")
        assert head["ETag"] == quoted_md5(data)
        assert head["Content-Length"] == "16807"
        assert head["x-cos-meta-test"] == "test"
        assert head["x-cos-hash-crc64ecma"] == crc64(data)
        assert head["x-cos-request-id"]
        modified = email.utils.parsedate_to_datetime(head["Last-Modified"])
        assert head["Last-Modified"].endswith(" GMT"), head["Last-Modified"]
        now = datetime.datetime.now(datetime.timezone.utc)
        assert abs((now - modified).total_seconds()) < 3600, "Last-Modified far from now"

    def test_head_is_stable_between_calls(self, cos_client, cos_bucket):
        put(cos_client, cos_bucket, "stable", b"same")
        first = cos_client.head_object(Bucket=cos_bucket, Key="stable")
        second = cos_client.head_object(Bucket=cos_bucket, Key="stable")
        for name in ("ETag", "Last-Modified", "Content-Length", "x-cos-hash-crc64ecma"):
            assert first[name] == second[name], name

    def test_seed_head_with_if_modified_since(self, cos_client, cos_bucket):
        put(cos_client, cos_bucket, "exampleobject", b"x")
        head = cos_client.head_object(Bucket=cos_bucket, Key="exampleobject",
                                      IfModifiedSince=SEED_OLD_DATE)
        assert head["Content-Length"] == "1"

    def test_head_not_modified_is_304(self, cos_client, cos_recorder, cos_bucket):
        etag = put(cos_client, cos_bucket, "k", b"x")["ETag"]
        cos_client.head_object(Bucket=cos_bucket, Key="k", IfNoneMatch=etag)
        assert cos_recorder.last().status_code == 304

    def test_head_missing_object(self, cos_client, cos_bucket):
        error = service_error(cos_client.head_object, Bucket=cos_bucket, Key="missing")
        assert_status(error, 404, "NoSuchResource")
        assert error.get_request_id(), "HEAD 404 must carry x-cos-request-id (§3.4)"
        assert error.get_trace_id(), "HEAD 404 must carry x-cos-trace-id (§3.4)"

    def test_object_exists(self, cos_client, cos_bucket):
        put(cos_client, cos_bucket, "here", b"x")
        assert cos_client.object_exists(cos_bucket, "here") is True
        assert cos_client.object_exists(cos_bucket, "not-here") is False


class TestGetObject:
    DATA = bytes(range(256)) * 4  # 1024 bytes

    @pytest.fixture
    def stored(self, cos_client, cos_bucket):
        response = put(cos_client, cos_bucket, "exampleobject", self.DATA)
        return cos_bucket, response["ETag"]

    def test_seed_get_object_to_file(self, cos_client, stored, tmp_path):
        bucket, etag = stored
        response = cos_client.get_object(Bucket=bucket, Key="exampleobject")
        target = tmp_path / "exampleobject"
        response["Body"].get_stream_to_file(str(target))
        assert target.read_bytes() == self.DATA
        assert response["ETag"] == etag
        assert response["Content-Length"] == str(len(self.DATA))
        assert response["x-cos-hash-crc64ecma"] == crc64(self.DATA)
        assert response["Accept-Ranges"] == "bytes"
        assert response["Last-Modified"].endswith(" GMT")

    @pytest.mark.parametrize("header, start, end", [
        ("bytes=0-4", 0, 4),
        ("bytes=1000-", 1000, 1023),
        ("bytes=-10", 1014, 1023),
        ("bytes=1020-5000", 1020, 1023),
        ("bytes=0-0", 0, 0),
        ("bytes=0-1023", 0, 1023),
    ])
    def test_range(self, cos_client, cos_recorder, stored, header, start, end):
        bucket, _ = stored
        response = cos_client.get_object(Bucket=bucket, Key="exampleobject", Range=header)
        assert cos_recorder.last().status_code == 206
        assert response["Content-Range"] == "bytes %d-%d/1024" % (start, end)
        assert response["Content-Length"] == str(end - start + 1)
        assert body_of(response) == self.DATA[start:end + 1]
        assert response["x-cos-hash-crc64ecma"] == crc64(self.DATA), "CRC64 is of the whole object"

    def test_range_past_end_is_invalid_range(self, cos_client, stored):
        bucket, _ = stored
        error = service_error(cos_client.get_object, Bucket=bucket, Key="exampleobject",
                              Range="bytes=1024-")
        assert_status(error, 416, "InvalidRange")

    def test_if_match_matching_returns_body(self, cos_client, stored):
        bucket, etag = stored
        assert get_bytes(cos_client, bucket, "exampleobject", IfMatch=etag) == self.DATA

    def test_if_match_without_quotes_is_tolerated(self, cos_client, stored):
        bucket, etag = stored
        assert get_bytes(cos_client, bucket, "exampleobject", IfMatch=etag.strip('"')) == self.DATA

    def test_if_match_mismatch_is_412(self, cos_client, stored):
        bucket, _ = stored
        error = service_error(cos_client.get_object, Bucket=bucket, Key="exampleobject",
                              IfMatch='"9a4802d5c99dafe1c04da0a8e7e166bf"')
        assert_status(error, 412, "PreconditionFailed")

    def test_if_none_match_matching_is_304(self, cos_client, cos_recorder, stored):
        bucket, etag = stored
        # The SDK treats 304 as success; its StreamBody needs Content-Length or chunked (§3.1).
        cos_client.get_object(Bucket=bucket, Key="exampleobject", IfNoneMatch=etag)
        assert cos_recorder.last().status_code == 304

    def test_if_none_match_other_returns_body(self, cos_client, stored):
        bucket, _ = stored
        assert get_bytes(cos_client, bucket, "exampleobject",
                         IfNoneMatch='"9a4802d5c99dafe1c04da0a8e7e166bf"') == self.DATA

    def test_if_modified_since_old_date_returns_body(self, cos_client, stored):
        bucket, _ = stored
        assert get_bytes(cos_client, bucket, "exampleobject",
                         IfModifiedSince=SEED_OLD_DATE) == self.DATA

    def test_if_modified_since_last_modified_is_304(self, cos_client, cos_recorder, stored):
        bucket, _ = stored
        modified = cos_client.head_object(Bucket=bucket, Key="exampleobject")["Last-Modified"]
        cos_client.get_object(Bucket=bucket, Key="exampleobject", IfModifiedSince=modified)
        assert cos_recorder.last().status_code == 304

    def test_if_unmodified_since_old_date_is_412(self, cos_client, stored):
        bucket, _ = stored
        error = service_error(cos_client.get_object, Bucket=bucket, Key="exampleobject",
                              IfUnmodifiedSince=SEED_OLD_DATE)
        assert_status(error, 412, "PreconditionFailed")

    def test_if_unmodified_since_last_modified_returns_body(self, cos_client, stored):
        bucket, _ = stored
        modified = cos_client.head_object(Bucket=bucket, Key="exampleobject")["Last-Modified"]
        assert get_bytes(cos_client, bucket, "exampleobject",
                         IfUnmodifiedSince=modified) == self.DATA

    def test_response_header_overrides(self, cos_client, stored):
        bucket, _ = stored
        response = cos_client.get_object(
            Bucket=bucket, Key="exampleobject",
            ResponseContentType="text/x-test",
            ResponseContentDisposition='attachment; filename="x y.txt"',
            ResponseCacheControl="no-cache",
            ResponseContentLanguage="zh-CN",
            ResponseContentEncoding="gzip",
            ResponseExpires="Wed, 21 Oct 2037 07:28:00 GMT")
        assert response["Content-Type"] == "text/x-test"
        assert response["Content-Disposition"] == 'attachment; filename="x y.txt"'
        assert response["Cache-Control"] == "no-cache"
        assert response["Content-Language"] == "zh-CN"
        assert response["Content-Encoding"] == "gzip"
        assert response["Expires"] == "Wed, 21 Oct 2037 07:28:00 GMT"
        assert body_of(response) == self.DATA

    def test_response_is_never_compressed(self, cos_client, cos_bucket):
        data = b"a" * 100000  # very compressible; the SDK sends Accept-Encoding: gzip
        put(cos_client, cos_bucket, "compressible.txt", data, ContentType="text/plain")
        response = cos_client.get_object(Bucket=cos_bucket, Key="compressible.txt")
        assert "Content-Encoding" not in response, "server compressed the response (§3.1)"
        assert body_of(response) == data

    def test_seed_range_with_old_if_modified_since(self, cos_client, stored):
        bucket, etag = stored
        response = cos_client.get_object(Bucket=bucket, Key="exampleobject", Range="bytes=0-9",
                                         IfMatch=etag, IfModifiedSince=SEED_OLD_DATE,
                                         TrafficLimit="819200")
        assert body_of(response) == self.DATA[:10]

    def test_get_missing_key(self, cos_client, cos_bucket):
        error = service_error(cos_client.get_object, Bucket=cos_bucket, Key="exampleobject")
        assert_status(error, 404, "NoSuchKey")


class TestDeleteObject:
    def test_seed_delete_object(self, cos_client, cos_recorder, cos_bucket):
        put(cos_client, cos_bucket, "exampleobject")
        cos_client.delete_object(Bucket=cos_bucket, Key="exampleobject")
        assert cos_recorder.last().status_code == 204
        assert cos_client.object_exists(cos_bucket, "exampleobject") is False

    def test_delete_missing_key_succeeds(self, cos_client, cos_recorder, cos_bucket):
        cos_client.delete_object(Bucket=cos_bucket, Key="never-existed")
        assert cos_recorder.last().status_code == 204

    def test_seed_move_object(self, cos_client, cos_bucket):
        put(cos_client, cos_bucket, "src_object_key", b"moving", Metadata={"x-cos-meta-m": "1"})
        cos_client.copy_object(Bucket=cos_bucket, Key="dest_object_key", CopySource={
            "Bucket": cos_bucket, "Key": "src_object_key", "Region": REGION})
        cos_client.delete_object(Bucket=cos_bucket, Key="src_object_key")
        assert list_all_keys(cos_client, cos_bucket) == ["dest_object_key"]
        assert get_bytes(cos_client, cos_bucket, "dest_object_key") == b"moving"


class TestDeleteObjects:
    def test_seed_delete_two_objects(self, cos_client, cos_bucket):
        put(cos_client, cos_bucket, "exampleobject1")
        put(cos_client, cos_bucket, "exampleobject2")
        response = cos_client.delete_objects(Bucket=cos_bucket, Delete={
            "Object": [{"Key": "exampleobject1"}, {"Key": "exampleobject2"}]})
        assert sorted(d["Key"] for d in response["Deleted"]) == ["exampleobject1", "exampleobject2"]
        assert response.get("Error", []) == []
        assert list_all_keys(cos_client, cos_bucket) == []

    def test_quiet_false_reports_each_deleted_key(self, cos_client, cos_bucket):
        put(cos_client, cos_bucket, "one")
        response = cos_client.delete_objects(Bucket=cos_bucket, Delete={
            "Object": [{"Key": "one"}], "Quiet": "false"})
        assert [entry["Key"] for entry in response["Deleted"]] == ["one"]
        assert cos_client.object_exists(cos_bucket, "one") is False

    def test_missing_keys_count_as_deleted(self, cos_client, cos_bucket):
        put(cos_client, cos_bucket, "present")
        response = cos_client.delete_objects(Bucket=cos_bucket, Delete={
            "Object": [{"Key": "present"}, {"Key": "absent"}], "Quiet": "false"})
        assert sorted(d["Key"] for d in response["Deleted"]) == ["absent", "present"]

    def test_quiet_mode_reports_only_errors(self, cos_client, cos_bucket):
        for key in ("q1", "q2", "q3"):
            put(cos_client, cos_bucket, key)
        response = cos_client.delete_objects(Bucket=cos_bucket, Delete={
            "Object": [{"Key": "q1"}, {"Key": "q2"}, {"Key": "q3"}], "Quiet": "true"})
        assert not response.get("Deleted"), "Quiet=true must not list deleted keys: %r" % response
        assert not response.get("Error"), response
        assert list_all_keys(cos_client, cos_bucket) == []

    def test_keys_needing_xml_escaping_and_unicode(self, cos_client, cos_bucket):
        keys = ["a&b", "<tag>", 'quote"d', "中文 key", "sp ace+plus", "dir/"]
        for key in keys:
            put(cos_client, cos_bucket, key)
        response = cos_client.delete_objects(Bucket=cos_bucket, Delete={
            "Object": [{"Key": key} for key in keys], "Quiet": "false"})
        assert sorted(d["Key"] for d in response["Deleted"]) == sorted(keys)
        assert list_all_keys(cos_client, cos_bucket) == []


# ----------------------------------------------------------------------------------------
# copy
# ----------------------------------------------------------------------------------------

class TestCopyObject:
    def source(self, bucket, key="exampleobject"):
        return {"Bucket": bucket, "Key": key, "Region": REGION}

    def test_seed_copy_keeps_source_metadata(self, cos_client, make_cos_bucket):
        source_bucket = make_cos_bucket("sourcebucket")
        target_bucket = make_cos_bucket("examplebucket")
        data = os.urandom(5000)
        etag = put(cos_client, source_bucket, "exampleobject", data, ContentType="image/png",
                   CacheControl="no-store", Metadata={"x-cos-meta-origin": "source"})["ETag"]
        response = cos_client.copy_object(Bucket=target_bucket, Key="exampleobject",
                                          CopySource=self.source(source_bucket))
        assert response["ETag"] == etag, "a copy of a single-PUT object keeps its ETag"
        assert ISO_8601_MS.match(response["LastModified"]), response
        head = cos_client.head_object(Bucket=target_bucket, Key="exampleobject")
        assert head["Content-Type"] == "image/png"
        assert head["Cache-Control"] == "no-store"
        assert head["x-cos-meta-origin"] == "source"
        assert head["x-cos-hash-crc64ecma"] == crc64(data)
        assert get_bytes(cos_client, target_bucket, "exampleobject") == data

    def test_copy_directive_ignores_request_metadata(self, cos_client, cos_bucket):
        put(cos_client, cos_bucket, "src", b"data", Metadata={"x-cos-meta-a": "source"})
        cos_client.copy_object(Bucket=cos_bucket, Key="dst", CopySource=self.source(cos_bucket, "src"),
                               CopyStatus="Copy", Metadata={"x-cos-meta-a": "request"},
                               ContentType="text/x-request")
        head = cos_client.head_object(Bucket=cos_bucket, Key="dst")
        assert head["x-cos-meta-a"] == "source"
        assert head["Content-Type"] != "text/x-request"

    def test_replaced_directive_takes_request_metadata(self, cos_client, cos_bucket):
        put(cos_client, cos_bucket, "src", b"data", ContentType="text/plain",
            Metadata={"x-cos-meta-a": "source", "x-cos-meta-only-source": "1"})
        cos_client.copy_object(Bucket=cos_bucket, Key="dst", CopySource=self.source(cos_bucket, "src"),
                               CopyStatus="Replaced", ContentType="application/json",
                               Metadata={"x-cos-meta-a": "request"})
        head = cos_client.head_object(Bucket=cos_bucket, Key="dst")
        assert head["x-cos-meta-a"] == "request"
        assert "x-cos-meta-only-source" not in head
        assert head["Content-Type"] == "application/json"
        assert get_bytes(cos_client, cos_bucket, "dst") == b"data"

    def test_copy_onto_itself_requires_replaced(self, cos_client, cos_bucket):
        put(cos_client, cos_bucket, "self", b"data")
        error = service_error(cos_client.copy_object, Bucket=cos_bucket, Key="self",
                              CopySource=self.source(cos_bucket, "self"), CopyStatus="Copy")
        assert_status(error, 400)

    def test_copy_onto_itself_with_replaced_updates_metadata(self, cos_client, cos_bucket):
        put(cos_client, cos_bucket, "self", b"data", Metadata={"x-cos-meta-v": "1"})
        cos_client.copy_object(Bucket=cos_bucket, Key="self", CopySource=self.source(cos_bucket, "self"),
                               CopyStatus="Replaced", Metadata={"x-cos-meta-v": "2"},
                               StorageClass="STANDARD_IA")
        head = cos_client.head_object(Bucket=cos_bucket, Key="self")
        assert head["x-cos-meta-v"] == "2"
        assert head["x-cos-storage-class"] == "STANDARD_IA"
        assert get_bytes(cos_client, cos_bucket, "self") == b"data"

    def test_seed_copy_source_with_appid_field(self, cos_client, cos_bucket):
        put(cos_client, cos_bucket, "test.txt", b"appid form")
        short_name = cos_bucket[: -len("-" + APPID)]
        cos_client.copy_object(Bucket=cos_bucket, Key="copy.txt", CopySource={
            "Appid": APPID, "Bucket": short_name, "Key": "test.txt", "Region": REGION})
        assert get_bytes(cos_client, cos_bucket, "copy.txt") == b"appid form"

    def test_copy_key_with_special_characters(self, cos_client, cos_bucket):
        key = "dir/中文 a+b%.txt"
        put(cos_client, cos_bucket, key, b"special")
        cos_client.copy_object(Bucket=cos_bucket, Key="copied/" + key,
                               CopySource=self.source(cos_bucket, key))
        assert get_bytes(cos_client, cos_bucket, "copied/" + key) == b"special"

    def test_copy_missing_source_is_404(self, cos_client, cos_bucket):
        error = service_error(cos_client.copy_object, Bucket=cos_bucket, Key="dst",
                              CopySource=self.source(cos_bucket, "nothing"))
        assert_status(error, 404, ("NoSuchKey", "NoSuchCopySource"))

    def test_copy_source_if_match_mismatch_is_412(self, cos_client, cos_bucket):
        put(cos_client, cos_bucket, "src", b"data")
        error = service_error(cos_client.copy_object, Bucket=cos_bucket, Key="dst",
                              CopySource=self.source(cos_bucket, "src"),
                              CopySourceIfMatch='"00000000000000000000000000000000"')
        assert_status(error, 412, "PreconditionFailed")

    def test_copy_source_if_match_matching_copies(self, cos_client, cos_bucket):
        etag = put(cos_client, cos_bucket, "src", b"data")["ETag"]
        cos_client.copy_object(Bucket=cos_bucket, Key="dst", CopySource=self.source(cos_bucket, "src"),
                               CopySourceIfMatch=etag,
                               CopySourceIfModifiedSince=SEED_OLD_DATE)
        assert get_bytes(cos_client, cos_bucket, "dst") == b"data"

    def test_seed_change_object_storage_class(self, cos_client, cos_bucket):
        put(cos_client, cos_bucket, "k", b"data")
        cos_client.change_object_storage_class(Bucket=cos_bucket, Key="k",
                                               StorageClass="STANDARD_IA")
        assert cos_client.head_object(Bucket=cos_bucket, Key="k")[
            "x-cos-storage-class"] == "STANDARD_IA"

    def test_copy_of_source_is_independent(self, cos_client, cos_bucket):
        put(cos_client, cos_bucket, "src", b"old")
        cos_client.copy_object(Bucket=cos_bucket, Key="dst", CopySource=self.source(cos_bucket, "src"))
        put(cos_client, cos_bucket, "src", b"new content")
        cos_client.delete_object(Bucket=cos_bucket, Key="src")
        assert get_bytes(cos_client, cos_bucket, "dst") == b"old"


class TestAdvancedCopy:
    """copy() HEADs the source at its real COS host name, so it needs the proxy client."""

    def test_seed_copy_same_region(self, cos_proxy_client, make_cos_bucket):
        source_bucket = make_cos_bucket("sourcebucket")
        target_bucket = make_cos_bucket("test")
        data = os.urandom(3 * MiB + 17)
        cos_proxy_client.put_object(Bucket=source_bucket, Key="exampleobject", Body=data)
        response = cos_proxy_client.copy(
            Bucket=target_bucket, Key="copy_10G.txt",
            CopySource={"Bucket": source_bucket, "Key": "exampleobject", "Region": REGION},
            CopyStatus="Copy", PartSize=20, MAXThread=10)
        assert response["ETag"] == quoted_md5(data)
        assert get_bytes(cos_proxy_client, target_bucket, "copy_10G.txt") == data

    def test_copy_with_new_storage_class_uses_part_copies(self, coffer_server, cos_bucket):
        from qcloud_cos import CosS3Client
        config = make_cos_config(coffer_server, mode="proxy")
        config.set_copy_part_threshold_size(1 * MiB)
        client = CosS3Client(config, session=RecordingSession())
        data = os.urandom(3 * MiB + 1000)
        client.put_object(Bucket=cos_bucket, Key="big-source", Body=data)
        response = client.copy(Bucket=cos_bucket, Key="big-copy",
                               CopySource={"Bucket": cos_bucket, "Key": "big-source",
                                           "Region": REGION},
                               StorageClass="STANDARD_IA", PartSize=1, MAXThread=3)
        assert response["ETag"].endswith('-4"'), "expected a 4-part multipart copy: %r" % response
        head = client.head_object(Bucket=cos_bucket, Key="big-copy")
        assert head["x-cos-storage-class"] == "STANDARD_IA"
        assert head["x-cos-hash-crc64ecma"] == crc64(data)
        assert get_bytes(client, cos_bucket, "big-copy") == data


# ----------------------------------------------------------------------------------------
# multipart
# ----------------------------------------------------------------------------------------

class TestMultipart:
    PART_A = b"a" * MiB
    PART_B = b"b" * 10
    VECTOR_ETAG = '"4075b7e9311da7fee8b3df13ccfc203c-2"'  # protocol §11.2

    def test_full_multipart_upload(self, cos_client, cos_bucket):
        created = cos_client.create_multipart_upload(
            Bucket=cos_bucket, Key="multipart.txt", StorageClass="STANDARD",
            ContentType="text/plain", CacheControl="max-age=10",
            ContentDisposition="inline", Metadata={"x-cos-meta-key1": "value1"})
        upload_id = created["UploadId"]
        assert upload_id and created["Key"] == "multipart.txt" and created["Bucket"] == cos_bucket
        first = cos_client.upload_part(Bucket=cos_bucket, Key="multipart.txt", Body=self.PART_A,
                                       PartNumber=1, UploadId=upload_id)
        assert first["ETag"] == quoted_md5(self.PART_A)
        second = cos_client.upload_part(Bucket=cos_bucket, Key="multipart.txt", Body=self.PART_B,
                                        PartNumber=2, UploadId=upload_id, EnableMD5=True)
        assert second["ETag"] == quoted_md5(self.PART_B)

        parts = cos_client.list_parts(Bucket=cos_bucket, Key="multipart.txt", UploadId=upload_id)
        assert parts["UploadId"] == upload_id and parts["Key"] == "multipart.txt"
        assert parts["Bucket"] == cos_bucket
        assert parts["IsTruncated"] == "false"
        assert parts["PartNumberMarker"] == "0" and parts["MaxParts"] == "1000"
        assert parts["StorageClass"] == "STANDARD"
        assert parts["Initiator"]["ID"] and parts["Owner"]["ID"], parts
        assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in parts["Part"]] == [
            ("1", quoted_md5(self.PART_A), str(MiB)), ("2", quoted_md5(self.PART_B), "10")]
        assert all(ISO_8601_MS.match(p["LastModified"]) for p in parts["Part"])

        # The seeds pass list_parts' Part list (with Size and LastModified) straight back.
        done = cos_client.complete_multipart_upload(Bucket=cos_bucket, Key="multipart.txt",
                                                    UploadId=upload_id,
                                                    MultipartUpload={"Part": parts["Part"]})
        assert done["ETag"] == self.VECTOR_ETAG
        assert done["Key"] == "multipart.txt" and done["Bucket"] == cos_bucket
        assert done["Location"].endswith("/multipart.txt") and cos_bucket in done["Location"], done
        assert done["x-cos-hash-crc64ecma"] == crc64(self.PART_A + self.PART_B)

        head = cos_client.head_object(Bucket=cos_bucket, Key="multipart.txt")
        assert head["ETag"] == self.VECTOR_ETAG
        assert head["Content-Length"] == str(MiB + 10)
        assert head["Content-Type"] == "text/plain"
        assert head["Cache-Control"] == "max-age=10"
        assert head["Content-Disposition"] == "inline"
        assert head["x-cos-meta-key1"] == "value1"
        assert get_bytes(cos_client, cos_bucket, "multipart.txt") == self.PART_A + self.PART_B
        listing = cos_client.list_multipart_uploads(Bucket=cos_bucket)
        assert "Upload" not in listing or listing["Upload"] == []

    def test_seed_complete_with_explicit_part_list(self, cos_client, cos_bucket):
        upload_id = cos_client.create_multipart_upload(Bucket=cos_bucket,
                                                       Key="exampleobject")["UploadId"]
        tags = []
        for number, body in ((1, self.PART_A), (2, self.PART_B)):
            tags.append({"ETag": cos_client.upload_part(
                Bucket=cos_bucket, Key="exampleobject", Body=body, PartNumber=number,
                UploadId=upload_id)["ETag"], "PartNumber": number})
        done = cos_client.complete_multipart_upload(Bucket=cos_bucket, Key="exampleobject",
                                                    UploadId=upload_id,
                                                    MultipartUpload={"Part": tags})
        assert done["ETag"] == multipart_etag([self.PART_A, self.PART_B]) == self.VECTOR_ETAG

    def test_single_small_part_is_allowed(self, cos_client, cos_bucket):
        upload_id = cos_client.create_multipart_upload(Bucket=cos_bucket, Key="tiny")["UploadId"]
        etag = cos_client.upload_part(Bucket=cos_bucket, Key="tiny", Body=b"tiny", PartNumber=1,
                                      UploadId=upload_id)["ETag"]
        cos_client.complete_multipart_upload(Bucket=cos_bucket, Key="tiny", UploadId=upload_id,
                                             MultipartUpload={"Part": [{"ETag": etag, "PartNumber": 1}]})
        assert get_bytes(cos_client, cos_bucket, "tiny") == b"tiny"

    def test_small_non_last_part_is_entity_too_small(self, cos_client, cos_bucket):
        upload_id = cos_client.create_multipart_upload(Bucket=cos_bucket, Key="small")["UploadId"]
        tags = [{"ETag": cos_client.upload_part(Bucket=cos_bucket, Key="small", Body=b"x" * 102400,
                                                PartNumber=n, UploadId=upload_id)["ETag"],
                 "PartNumber": n} for n in (1, 2)]
        error = service_error(cos_client.complete_multipart_upload, Bucket=cos_bucket, Key="small",
                              UploadId=upload_id, MultipartUpload={"Part": tags})
        assert_status(error, 400, "EntityTooSmall")

    def test_non_last_part_of_exactly_one_mib_is_enough(self, cos_client, cos_bucket):
        """COS's minimum part is 1 MB (1048576), not S3's 5 MiB (protocol §8.5)."""
        upload_id = cos_client.create_multipart_upload(Bucket=cos_bucket, Key="min")["UploadId"]
        bodies = [os.urandom(MiB), os.urandom(MiB), b"end"]
        tags = [{"ETag": cos_client.upload_part(Bucket=cos_bucket, Key="min", Body=body,
                                                PartNumber=n, UploadId=upload_id)["ETag"],
                 "PartNumber": n} for n, body in enumerate(bodies, 1)]
        done = cos_client.complete_multipart_upload(Bucket=cos_bucket, Key="min", UploadId=upload_id,
                                                    MultipartUpload={"Part": tags})
        assert done["ETag"] == multipart_etag(bodies)
        assert get_bytes(cos_client, cos_bucket, "min") == b"".join(bodies)

    def test_wrong_part_etag_is_invalid_part(self, cos_client, cos_bucket):
        upload_id = cos_client.create_multipart_upload(Bucket=cos_bucket, Key="k")["UploadId"]
        cos_client.upload_part(Bucket=cos_bucket, Key="k", Body=self.PART_A, PartNumber=1,
                               UploadId=upload_id)
        error = service_error(cos_client.complete_multipart_upload, Bucket=cos_bucket, Key="k",
                              UploadId=upload_id, MultipartUpload={"Part": [
                                  {"ETag": quoted_md5(b"something else"), "PartNumber": 1}]})
        assert_status(error, 400, "InvalidPart")

    def test_unknown_part_number_is_invalid_part(self, cos_client, cos_bucket):
        upload_id = cos_client.create_multipart_upload(Bucket=cos_bucket, Key="k")["UploadId"]
        etag = cos_client.upload_part(Bucket=cos_bucket, Key="k", Body=self.PART_A, PartNumber=1,
                                      UploadId=upload_id)["ETag"]
        error = service_error(cos_client.complete_multipart_upload, Bucket=cos_bucket, Key="k",
                              UploadId=upload_id, MultipartUpload={"Part": [
                                  {"ETag": etag, "PartNumber": 1},
                                  {"ETag": etag, "PartNumber": 7}]})
        assert_status(error, 400, "InvalidPart")

    def test_descending_part_order_is_rejected(self, cos_client, cos_bucket):
        upload_id = cos_client.create_multipart_upload(Bucket=cos_bucket, Key="k")["UploadId"]
        tags = [{"ETag": cos_client.upload_part(Bucket=cos_bucket, Key="k", Body=self.PART_A,
                                                PartNumber=n, UploadId=upload_id)["ETag"],
                 "PartNumber": n} for n in (1, 2)]
        error = service_error(cos_client.complete_multipart_upload, Bucket=cos_bucket, Key="k",
                              UploadId=upload_id, MultipartUpload={"Part": tags[::-1]})
        assert_status(error, 400, "InvalidPartOrder")

    def test_unlisted_parts_are_discarded(self, cos_client, cos_bucket):
        upload_id = cos_client.create_multipart_upload(Bucket=cos_bucket, Key="k")["UploadId"]
        bodies = {n: bytes([64 + n]) * MiB for n in (1, 2, 3)}
        etags = {n: cos_client.upload_part(Bucket=cos_bucket, Key="k", Body=body, PartNumber=n,
                                           UploadId=upload_id)["ETag"] for n, body in bodies.items()}
        cos_client.complete_multipart_upload(Bucket=cos_bucket, Key="k", UploadId=upload_id,
                                             MultipartUpload={"Part": [
                                                 {"ETag": etags[1], "PartNumber": 1},
                                                 {"ETag": etags[3], "PartNumber": 3}]})
        assert get_bytes(cos_client, cos_bucket, "k") == bodies[1] + bodies[3]

    def test_reuploading_a_part_replaces_it(self, cos_client, cos_bucket):
        upload_id = cos_client.create_multipart_upload(Bucket=cos_bucket, Key="k")["UploadId"]
        cos_client.upload_part(Bucket=cos_bucket, Key="k", Body=b"old", PartNumber=1,
                               UploadId=upload_id)
        etag = cos_client.upload_part(Bucket=cos_bucket, Key="k", Body=b"new!", PartNumber=1,
                                      UploadId=upload_id)["ETag"]
        parts = cos_client.list_parts(Bucket=cos_bucket, Key="k", UploadId=upload_id)["Part"]
        assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in parts] == [("1", etag, "4")]
        cos_client.complete_multipart_upload(Bucket=cos_bucket, Key="k", UploadId=upload_id,
                                             MultipartUpload={"Part": [{"ETag": etag, "PartNumber": 1}]})
        assert get_bytes(cos_client, cos_bucket, "k") == b"new!"

    @pytest.mark.parametrize("number", [0, 10001])
    def test_part_number_out_of_range(self, cos_client, cos_bucket, number):
        upload_id = cos_client.create_multipart_upload(Bucket=cos_bucket, Key="k")["UploadId"]
        error = service_error(cos_client.upload_part, Bucket=cos_bucket, Key="k", Body=b"x",
                              PartNumber=number, UploadId=upload_id)
        assert_status(error, 400, "InvalidArgument")

    def test_upload_part_with_wrong_md5_is_bad_digest(self, cos_client, cos_bucket):
        upload_id = cos_client.create_multipart_upload(Bucket=cos_bucket, Key="k")["UploadId"]
        error = service_error(cos_client.upload_part, Bucket=cos_bucket, Key="k", Body=b"body",
                              PartNumber=1, UploadId=upload_id, ContentMD5=content_md5(b"other"))
        assert_status(error, 400, "BadDigest")

    def test_list_parts_paging(self, cos_client, cos_bucket):
        upload_id = cos_client.create_multipart_upload(Bucket=cos_bucket, Key="k")["UploadId"]
        for number in (1, 2, 3):
            cos_client.upload_part(Bucket=cos_bucket, Key="k", Body=b"p%d" % number,
                                   PartNumber=number, UploadId=upload_id)
        first = cos_client.list_parts(Bucket=cos_bucket, Key="k", UploadId=upload_id, MaxParts=2)
        assert first["IsTruncated"] == "true"
        assert [p["PartNumber"] for p in first["Part"]] == ["1", "2"]
        assert first["NextPartNumberMarker"] == "2"
        assert first["MaxParts"] == "2"
        rest = cos_client.list_parts(Bucket=cos_bucket, Key="k", UploadId=upload_id,
                                     MaxParts=1000, PartNumberMarker=2)
        assert rest["IsTruncated"] == "false"
        assert rest["PartNumberMarker"] == "2"
        assert [p["PartNumber"] for p in rest["Part"]] == ["3"]

    def test_list_parts_of_key_with_special_characters(self, cos_client, cos_bucket):
        key = "目录/a b+c.bin"
        upload_id = cos_client.create_multipart_upload(Bucket=cos_bucket, Key=key)["UploadId"]
        cos_client.upload_part(Bucket=cos_bucket, Key=key, Body=b"x", PartNumber=1,
                               UploadId=upload_id)
        parts = cos_client.list_parts(Bucket=cos_bucket, Key=key, UploadId=upload_id)
        assert parts["Key"] == key
        assert len(parts["Part"]) == 1

    def test_abort_removes_upload(self, cos_client, cos_bucket):
        upload_id = cos_client.create_multipart_upload(Bucket=cos_bucket, Key="k")["UploadId"]
        cos_client.upload_part(Bucket=cos_bucket, Key="k", Body=b"x", PartNumber=1,
                               UploadId=upload_id)
        assert cos_client.abort_multipart_upload(Bucket=cos_bucket, Key="k",
                                                 UploadId=upload_id) is None
        error = service_error(cos_client.list_parts, Bucket=cos_bucket, Key="k", UploadId=upload_id)
        assert_status(error, 404, "NoSuchUpload")
        assert "Upload" not in cos_client.list_multipart_uploads(Bucket=cos_bucket)
        assert cos_client.object_exists(cos_bucket, "k") is False

    @pytest.mark.parametrize("operation", ["upload_part", "list_parts", "complete", "abort"])
    def test_unknown_upload_id_is_no_such_upload(self, cos_client, cos_bucket, operation):
        missing = "1585130821cbb7df1d11846c073ad648e8f33b087cec2381df437acdc833cf654b9ecc6361"
        calls = {
            "upload_part": lambda: cos_client.upload_part(Bucket=cos_bucket, Key="k", Body=b"x",
                                                          PartNumber=1, UploadId=missing),
            "list_parts": lambda: cos_client.list_parts(Bucket=cos_bucket, Key="k", UploadId=missing),
            "complete": lambda: cos_client.complete_multipart_upload(
                Bucket=cos_bucket, Key="k", UploadId=missing,
                MultipartUpload={"Part": [{"ETag": quoted_md5(b"x"), "PartNumber": 1}]}),
            "abort": lambda: cos_client.abort_multipart_upload(Bucket=cos_bucket, Key="k",
                                                               UploadId=missing),
        }
        assert_status(service_error(calls[operation]), 404, "NoSuchUpload")

    def test_complete_sent_again_answers_the_same(self, cos_client, cos_bucket):
        """A repeated complete_multipart_upload with the same parts (a retry whose first answer
        was lost) answers the same document; another part list is NoSuchUpload."""
        upload_id = cos_client.create_multipart_upload(Bucket=cos_bucket, Key="k")["UploadId"]
        tags = [{"ETag": cos_client.upload_part(Bucket=cos_bucket, Key="k", Body=body,
                                                PartNumber=n, UploadId=upload_id)["ETag"],
                 "PartNumber": n} for n, body in ((1, self.PART_A), (2, self.PART_B))]
        first = cos_client.complete_multipart_upload(Bucket=cos_bucket, Key="k",
                                                     UploadId=upload_id,
                                                     MultipartUpload={"Part": tags})
        again = cos_client.complete_multipart_upload(Bucket=cos_bucket, Key="k",
                                                     UploadId=upload_id,
                                                     MultipartUpload={"Part": tags})
        for field in ("ETag", "Location", "Bucket", "Key", "x-cos-hash-crc64ecma"):
            assert again[field] == first[field], field
        assert first["ETag"] == self.VECTOR_ETAG
        error = service_error(cos_client.complete_multipart_upload, Bucket=cos_bucket, Key="k",
                              UploadId=upload_id, MultipartUpload={"Part": tags[:1]})
        assert_status(error, 404, "NoSuchUpload")
        error = service_error(cos_client.list_parts, Bucket=cos_bucket, Key="k", UploadId=upload_id)
        assert_status(error, 404, "NoSuchUpload")
        assert get_bytes(cos_client, cos_bucket, "k") == self.PART_A + self.PART_B

    def test_seed_list_multipart_uploads_with_prefix(self, cos_client, cos_bucket):
        first = cos_client.create_multipart_upload(Bucket=cos_bucket, Key="dir/a")["UploadId"]
        time.sleep(1.1)  # distinct initiation times make the documented order well defined
        second = cos_client.create_multipart_upload(Bucket=cos_bucket, Key="dir/a")["UploadId"]
        third = cos_client.create_multipart_upload(Bucket=cos_bucket, Key="dir/b",
                                                   StorageClass="STANDARD_IA")["UploadId"]
        cos_client.create_multipart_upload(Bucket=cos_bucket, Key="other")
        response = cos_client.list_multipart_uploads(Bucket=cos_bucket, Prefix="dir")
        assert response["Bucket"] == cos_bucket
        assert response["IsTruncated"] == "false"
        uploads = response["Upload"]
        assert [(u["Key"], u["UploadId"]) for u in uploads] == [
            ("dir/a", first), ("dir/a", second), ("dir/b", third)], (
            "uploads must be ordered by key, then by initiation time ascending (protocol §8.7)")
        assert uploads[2]["StorageClass"] == "STANDARD_IA"
        for upload in uploads:
            assert ISO_8601_MS.match(upload["Initiated"]), upload
            assert upload["Owner"]["ID"] and upload["Initiator"]["ID"], upload

    def test_list_multipart_uploads_with_delimiter_and_paging(self, cos_client, cos_bucket):
        for key in ("x/1", "x/2", "y", "z"):
            cos_client.create_multipart_upload(Bucket=cos_bucket, Key=key)
        grouped = cos_client.list_multipart_uploads(Bucket=cos_bucket, Delimiter="/")
        assert [p["Prefix"] for p in grouped["CommonPrefixes"]] == ["x/"]
        assert [u["Key"] for u in grouped["Upload"]] == ["y", "z"]
        page = cos_client.list_multipart_uploads(Bucket=cos_bucket, MaxUploads=2)
        assert page["IsTruncated"] == "true"
        assert [u["Key"] for u in page["Upload"]] == ["x/1", "x/2"]
        rest = cos_client.list_multipart_uploads(Bucket=cos_bucket, MaxUploads=2,
                                                 KeyMarker=page["NextKeyMarker"],
                                                 UploadIdMarker=page["NextUploadIdMarker"])
        assert [u["Key"] for u in rest["Upload"]] == ["y", "z"]
        assert rest["IsTruncated"] == "false"

    def test_upload_part_copy_with_ranges(self, cos_client, make_cos_bucket):
        source_bucket = make_cos_bucket("sourcebucket")
        bucket = make_cos_bucket("examplebucket")
        source = os.urandom(2 * MiB + 500)
        put(cos_client, source_bucket, "sourceObject", source)
        copy_source = {"Bucket": source_bucket, "Key": "sourceObject", "Region": REGION}
        upload_id = cos_client.create_multipart_upload(Bucket=bucket, Key="exampleobject")["UploadId"]
        first = cos_client.upload_part_copy(Bucket=bucket, Key="exampleobject", PartNumber=1,
                                            UploadId=upload_id, CopySource=copy_source,
                                            CopySourceRange="bytes=0-1048575")
        assert first["ETag"] == quoted_md5(source[:MiB])
        assert ISO_8601_MS.match(first["LastModified"]), first
        second = cos_client.upload_part_copy(Bucket=bucket, Key="exampleobject", PartNumber=2,
                                             UploadId=upload_id, CopySource=copy_source,
                                             CopySourceRange="bytes=1048576-2097151")
        # No CopySourceRange: the SDK sends an empty x-cos-copy-source-range = whole object.
        third = cos_client.upload_part_copy(Bucket=bucket, Key="exampleobject", PartNumber=3,
                                            UploadId=upload_id, CopySource=copy_source)
        assert third["ETag"] == quoted_md5(source)
        parts = cos_client.list_parts(Bucket=bucket, Key="exampleobject", UploadId=upload_id)
        assert [p["Size"] for p in parts["Part"]] == [str(MiB), str(MiB), str(len(source))]
        cos_client.complete_multipart_upload(Bucket=bucket, Key="exampleobject", UploadId=upload_id,
                                             MultipartUpload={"Part": [
                                                 {"ETag": first["ETag"], "PartNumber": 1},
                                                 {"ETag": second["ETag"], "PartNumber": 2},
                                                 {"ETag": third["ETag"], "PartNumber": 3}]})
        expected = source[:MiB] + source[MiB:2 * MiB] + source
        assert get_bytes(cos_client, bucket, "exampleobject") == expected

    def test_seed_upload_part_copy_all_parameters(self, cos_client, cos_bucket):
        etag = put(cos_client, cos_bucket, "sourceObject", b"0123456789")["ETag"]
        upload_id = cos_client.create_multipart_upload(Bucket=cos_bucket, Key="exampleobject")["UploadId"]
        part = cos_client.upload_part_copy(
            Bucket=cos_bucket, Key="exampleobject", PartNumber=100, UploadId=upload_id,
            CopySource={"Bucket": cos_bucket, "Key": "sourceObject", "Region": REGION},
            CopySourceRange="bytes=2-5", CopySourceIfMatch=etag,
            CopySourceIfModifiedSince=SEED_OLD_DATE,
            CopySourceIfNoneMatch='"00000000000000000000000000000000"')
        cos_client.complete_multipart_upload(Bucket=cos_bucket, Key="exampleobject",
                                             UploadId=upload_id, MultipartUpload={"Part": [
                                                 {"ETag": part["ETag"], "PartNumber": 100}]})
        assert get_bytes(cos_client, cos_bucket, "exampleobject") == b"2345"

    def test_upload_part_copy_precondition_failure(self, cos_client, cos_bucket):
        put(cos_client, cos_bucket, "src", b"data")
        upload_id = cos_client.create_multipart_upload(Bucket=cos_bucket, Key="k")["UploadId"]
        error = service_error(cos_client.upload_part_copy, Bucket=cos_bucket, Key="k",
                              PartNumber=1, UploadId=upload_id,
                              CopySource={"Bucket": cos_bucket, "Key": "src", "Region": REGION},
                              CopySourceIfMatch='"00000000000000000000000000000000"')
        assert_status(error, 412, "PreconditionFailed")


# ----------------------------------------------------------------------------------------
# advanced APIs: upload_file / download_file / folder samples
# ----------------------------------------------------------------------------------------

class TestUploadFile:
    def test_upload_file_over_20_mib_uses_multipart_with_progress(self, cos_client, cos_bucket,
                                                                  tmp_path):
        local = tmp_path / "local.txt"
        data = os.urandom(21 * MiB + 12345)
        local.write_bytes(data)
        progress = []
        lock = threading.Lock()

        def upload_percentage(consumed_bytes, total_bytes):
            with lock:
                progress.append((consumed_bytes, total_bytes))

        response = cos_client.upload_file(
            Bucket=cos_bucket, Key="exampleobject", LocalFilePath=str(local), PartSize=1,
            MAXThread=5, progress_callback=upload_percentage, EnableMD5=False,
            ContentType="application/x-test", Metadata={"x-cos-meta-key1": "value1"})
        assert response["ETag"].endswith('-22"'), "expected 22 parts of 1 MiB: %r" % response
        assert progress and max(progress)[0] == len(data) and progress[-1][1] == len(data)
        head = cos_client.head_object(Bucket=cos_bucket, Key="exampleobject")
        assert head["Content-Length"] == str(len(data))
        assert head["x-cos-hash-crc64ecma"] == crc64(data)
        assert head["Content-Type"] == "application/x-test"
        assert head["x-cos-meta-key1"] == "value1"
        target = tmp_path / "back"
        cos_client.get_object(Bucket=cos_bucket, Key="exampleobject")["Body"].get_stream_to_file(
            str(target))
        assert file_sha256(target) == hashlib.sha256(data).hexdigest()
        assert "Upload" not in cos_client.list_multipart_uploads(Bucket=cos_bucket)

    def test_upload_file_with_md5_and_larger_parts(self, cos_client, cos_bucket, tmp_path):
        local = tmp_path / "local.bin"
        data = os.urandom(5 * MiB + 3)
        local.write_bytes(data)
        response = cos_client.upload_file(Bucket=cos_bucket, Key="md5", LocalFilePath=str(local),
                                          PartSize=2, MAXThread=2, EnableMD5=True)
        assert response["ETag"].endswith('-3"'), response
        assert get_bytes(cos_client, cos_bucket, "md5") == data

    def test_small_file_goes_through_put_object(self, cos_client, cos_bucket, tmp_path):
        local = tmp_path / "small.txt"
        local.write_bytes(b"small file")
        response = cos_client.upload_file(Bucket=cos_bucket, Key="small", LocalFilePath=str(local))
        assert response["ETag"] == quoted_md5(b"small file")

    def test_upload_file_resumes_an_existing_upload(self, cos_client, cos_recorder, cos_bucket,
                                                    tmp_path):
        """Checkpoint restart: parts already on the server are found via list_parts and reused."""
        key = "resume/中文 a+b%.bin"  # the resume lookup lists uploads by this prefix
        local = tmp_path / "resume.bin"
        data = os.urandom(4 * MiB + 100)
        local.write_bytes(data)
        upload_id = cos_client.create_multipart_upload(Bucket=cos_bucket, Key=key)["UploadId"]
        for number in (1, 2):
            cos_client.upload_part(Bucket=cos_bucket, Key=key,
                                   Body=data[(number - 1) * MiB:number * MiB],
                                   PartNumber=number, UploadId=upload_id)
        cos_recorder.history.clear()
        response = cos_client.upload_file(Bucket=cos_bucket, Key=key, LocalFilePath=str(local))
        assert response["ETag"].endswith('-5"')
        methods = [(r.request.method, urllib.parse.urlsplit(r.request.url).query)
                   for r in cos_recorder.history]
        created_new = [m for m in methods if m[0] == "POST" and "uploads" in m[1]]
        assert not created_new, "upload_file should have resumed upload %s" % upload_id
        part_puts = [m for m in methods if m[0] == "PUT" and "partNumber" in m[1]]
        assert len(part_puts) == 3, "only parts 3..5 needed uploading: %r" % part_puts
        assert get_bytes(cos_client, cos_bucket, key) == data

    def test_seed_retry_loop_upload(self, cos_client, cos_bucket, tmp_path):
        local = tmp_path / "local.txt"
        data = os.urandom(3 * MiB)
        local.write_bytes(data)
        for _ in range(0, 10):
            try:
                cos_client.upload_file(Bucket=cos_bucket, Key="exampleobject",
                                       LocalFilePath=str(local))
                break
            except (CosClientError, CosServiceError) as error:
                print(error)
        assert get_bytes(cos_client, cos_bucket, "exampleobject") == data


class TestDownloadFile:
    def test_download_file_over_20_mib_with_crc(self, cos_client, cos_bucket, tmp_path):
        data = os.urandom(25 * MiB + 7)
        put(cos_client, cos_bucket, "exampleobject", data)
        target = tmp_path / "local.txt"
        record_dir = tmp_path / "records"
        record_dir.mkdir()
        cos_client.download_file(Bucket=cos_bucket, Key="exampleobject", DestFilePath=str(target),
                                 EnableCRC=True, DumpRecordDir=str(record_dir))
        assert target.stat().st_size == len(data)
        assert file_sha256(target) == hashlib.sha256(data).hexdigest()

    def test_seed_download_file_all_parameters(self, cos_client, cos_bucket, tmp_path):
        data = os.urandom(3 * MiB + 5)
        etag = put(cos_client, cos_bucket, "exampleobject", data)["ETag"]
        target = tmp_path / "local.txt"
        cos_client.download_file(
            Bucket=cos_bucket, Key="exampleobject", DestFilePath=str(target), PartSize=1,
            MAXThread=5, EnableCRC=True, TrafficLimit="838860800", IfMatch=etag,
            IfModifiedSince=SEED_OLD_DATE, ResponseContentType="application/x-download",
            DumpRecordDir=str(tmp_path))
        assert target.read_bytes() == data

    def test_download_file_of_multipart_object(self, cos_client, cos_bucket, tmp_path):
        local = tmp_path / "up.bin"
        data = os.urandom(3 * MiB + 999)
        local.write_bytes(data)
        cos_client.upload_file(Bucket=cos_bucket, Key="dl/中文 a+b%.bin", LocalFilePath=str(local))
        target = tmp_path / "down.bin"
        cos_client.download_file(Bucket=cos_bucket, Key="dl/中文 a+b%.bin", DestFilePath=str(target),
                                 PartSize=1, EnableCRC=True, DumpRecordDir=str(tmp_path))
        assert target.read_bytes() == data

    def test_seed_simple_download(self, cos_client, cos_bucket, tmp_path):
        put(cos_client, cos_bucket, "exampleobject", b"small download")
        target = tmp_path / "local.txt"
        cos_client.download_file(Bucket=cos_bucket, Key="exampleobject", DestFilePath=str(target))
        assert target.read_bytes() == b"small download"


class TestFolderSamples:
    def test_seed_batch_upload_local_folder(self, cos_client, cos_bucket, tmp_path):
        upload_dir = tmp_path / "logs"
        files = {"a.log": b"a" * 10, "sub/b.log": b"b" * 2000, "sub/deeper/c.log": os.urandom(MiB + 1)}
        for name, data in files.items():
            (upload_dir / name).parent.mkdir(parents=True, exist_ok=True)
            (upload_dir / name).write_bytes(data)
        put(cos_client, cos_bucket, str(upload_dir / "a.log").strip("/"), b"already there")
        pool = SimpleThreadPool()
        uploaded = []
        for path, dir_list, file_list in os.walk(str(upload_dir)):
            for file_name in file_list:
                src_key = os.path.join(path, file_name)
                cos_object_key = src_key.strip("/")
                exists = False
                try:
                    cos_client.head_object(Bucket=cos_bucket, Key=cos_object_key)
                    exists = True
                except CosServiceError as error:
                    assert error.get_status_code() == 404, error.get_origin_msg()
                if not exists:
                    uploaded.append(cos_object_key)
                    pool.add_task(cos_client.upload_file, cos_bucket, cos_object_key, src_key)
        pool.wait_completion()
        assert pool.get_result()["success_all"]
        assert len(uploaded) == 2
        for name, data in files.items():
            key = str(upload_dir / name).strip("/")
            expected = b"already there" if name == "a.log" else data
            assert get_bytes(cos_client, cos_bucket, key) == expected

    def test_seed_batch_download_cos_directory(self, cos_client, cos_bucket, tmp_path):
        objects = {"data/x.txt": b"x", "data/d/": b"", "data/d/y.bin": os.urandom(1500),
                   "data/d/e/z.bin": os.urandom(MiB + 10)}
        for key, data in objects.items():
            put(cos_client, cos_bucket, key, data)
        file_infos, marker = [], ""
        while True:
            response = cos_client.list_objects(cos_bucket, "data/", "", marker)
            if "Contents" in response:
                file_infos.extend(response.get("Contents"))
            if "NextMarker" in response.keys():
                marker = response["NextMarker"]
            else:
                break
        local_dir = str(tmp_path / "download") + "/"
        pool = SimpleThreadPool()
        for info in file_infos:
            local_name = local_dir + info["Key"]
            if not os.path.exists(os.path.dirname(local_name)):
                os.makedirs(os.path.dirname(local_name))
            if str(local_name).endswith("/"):
                continue
            pool.add_task(cos_client.download_file, cos_bucket, info["Key"], local_name)
        pool.wait_completion()
        assert pool.get_result()["success_all"]
        for key, data in objects.items():
            if not key.endswith("/"):
                with open(local_dir + key, "rb") as handle:
                    assert handle.read() == data, key


# ----------------------------------------------------------------------------------------
# presigned URLs and get_auth
# ----------------------------------------------------------------------------------------

class TestPresignedUrls:
    def test_seed_presigned_download_url(self, coffer_server, cos_client, cos_proxy_client,
                                         cos_bucket):
        put(cos_client, cos_bucket, "test.txt", b"presigned body")
        url = cos_proxy_client.get_presigned_download_url(Bucket=cos_bucket, Key="test.txt")
        assert urllib.parse.urlsplit(url).hostname == coffer_server.cos_host(cos_bucket)
        local, host = via_server(coffer_server, url)
        response = plain_session().get(local, headers={"Host": host})
        assert response.status_code == 200, response.text
        assert response.content == b"presigned body"

    def test_presigned_url_through_proxy(self, coffer_server, cos_client, cos_proxy_client,
                                         cos_bucket):
        key = "dir/中文 a+b.txt"
        put(cos_client, cos_bucket, key, b"proxied")
        url = cos_proxy_client.get_presigned_url(Bucket=cos_bucket, Key=key, Method="GET",
                                                 Expired=120)
        response = plain_session().get(url, proxies={"http": coffer_server.endpoint})
        assert response.status_code == 200, response.text
        assert response.content == b"proxied"

    def test_presigned_put_url(self, coffer_server, cos_client, cos_proxy_client, cos_bucket):
        url = cos_proxy_client.get_presigned_url(Bucket=cos_bucket, Key="uploaded.bin",
                                                 Method="PUT")
        local, host = via_server(coffer_server, url)
        response = plain_session().put(local, data=b"via presigned put", headers={"Host": host})
        assert response.status_code == 200, response.text
        assert response.headers["ETag"] == quoted_md5(b"via presigned put")
        assert get_bytes(cos_client, cos_bucket, "uploaded.bin") == b"via presigned put"

    def test_presigned_url_with_signed_response_params(self, coffer_server, cos_client,
                                                       cos_proxy_client, cos_bucket):
        put(cos_client, cos_bucket, "a/b c.txt", b"text")
        url = cos_proxy_client.get_presigned_url(Bucket=cos_bucket, Key="a/b c.txt", Method="GET",
                                                 Expired=120,
                                                 Params={"response-content-type": "text/plain"})
        local, host = via_server(coffer_server, url)
        response = plain_session().get(local, headers={"Host": host})
        assert response.status_code == 200, response.text
        assert response.headers["Content-Type"] == "text/plain"

    def test_presigned_url_without_signed_host(self, coffer_server, cos_client, cos_proxy_client,
                                               cos_bucket):
        put(cos_client, cos_bucket, "test.txt", b"host not signed")
        url = cos_proxy_client.get_presigned_download_url(Bucket=cos_bucket, Key="test.txt",
                                                          SignHost=False)
        assert "q-header-list=&" in url, url
        local, host = via_server(coffer_server, url)
        response = plain_session().get(local, headers={"Host": host})
        assert response.status_code == 200, response.text
        assert response.content == b"host not signed"

    def test_expired_presigned_url_is_denied(self, coffer_server, cos_client, cos_proxy_client,
                                             cos_bucket):
        put(cos_client, cos_bucket, "test.txt")
        url = cos_proxy_client.get_presigned_download_url(Bucket=cos_bucket, Key="test.txt",
                                                          Expired=-30)
        local, host = via_server(coffer_server, url)
        response = plain_session().get(local, headers={"Host": host})
        assert response.status_code == 403, response.text
        assert response.headers.get("x-cos-request-id")

    def test_tampered_presigned_url_is_signature_mismatch(self, coffer_server, cos_client,
                                                          cos_proxy_client, cos_bucket):
        put(cos_client, cos_bucket, "test.txt")
        put(cos_client, cos_bucket, "other.txt")
        url = cos_proxy_client.get_presigned_download_url(Bucket=cos_bucket, Key="test.txt")
        local, host = via_server(coffer_server, url.replace("/test.txt?", "/other.txt?"))
        response = plain_session().get(local, headers={"Host": host})
        assert response.status_code == 403, response.text
        assert ElementTree.fromstring(response.content).findtext("Code") == "SignatureDoesNotMatch"


class TestGetAuth:
    def test_seed_get_auth_for_get(self, coffer_server, cos_client, cos_proxy_client, cos_bucket):
        put(cos_client, cos_bucket, "test.txt", b"signed elsewhere")
        authorization = cos_proxy_client.get_auth(Method="GET", Bucket=cos_bucket, Key="test.txt",
                                                  Expired=300)
        assert authorization.startswith("q-sign-algorithm=sha1&q-ak=%s&" % ROOT_SECRET_ID)
        response = plain_session().get(
            coffer_server.endpoint + "/test.txt",
            headers={"Host": coffer_server.cos_host(cos_bucket), "Authorization": authorization})
        assert response.status_code == 200, response.text
        assert response.content == b"signed elsewhere"

    def test_seed_get_auth_with_headers_and_params(self, coffer_server, cos_client,
                                                   cos_proxy_client, cos_bucket):
        body = b"uploaded with a distributed signature"
        headers = {"Content-Length": str(len(body)), "Content-MD5": content_md5(body),
                   "Content-Type": "text/plain"}
        authorization = cos_proxy_client.get_auth(Method="PUT", Bucket=cos_bucket,
                                                  Key="dir/中文 file+name.txt", Expired=300,
                                                  Headers=headers)
        path = "/" + urllib.parse.quote("dir/中文 file+name.txt")
        response = plain_session().put(
            coffer_server.endpoint + path, data=body,
            headers=dict(headers, Host=coffer_server.cos_host(cos_bucket),
                         Authorization=authorization))
        assert response.status_code == 200, response.text
        head = cos_client.head_object(Bucket=cos_bucket, Key="dir/中文 file+name.txt")
        assert head["Content-Type"] == "text/plain"

    def test_get_auth_for_bucket_listing(self, coffer_server, cos_client, cos_proxy_client,
                                         cos_bucket):
        put(cos_client, cos_bucket, "a b/1.txt")
        params = {"prefix": "a b/", "max-keys": "10"}
        authorization = cos_proxy_client.get_auth(Method="GET", Bucket=cos_bucket, Key="/",
                                                  Params=params)
        response = plain_session().get(
            coffer_server.endpoint + "/", params=params,
            headers={"Host": coffer_server.cos_host(cos_bucket), "Authorization": authorization})
        assert response.status_code == 200, response.text
        root = ElementTree.fromstring(response.content)
        assert [e.text for e in root.iter("Key")] == ["a b/1.txt"]

    def test_auth_for_another_method_is_rejected(self, coffer_server, cos_client,
                                                 cos_proxy_client, cos_bucket):
        put(cos_client, cos_bucket, "test.txt")
        authorization = cos_proxy_client.get_auth(Method="GET", Bucket=cos_bucket, Key="test.txt")
        response = plain_session().delete(
            coffer_server.endpoint + "/test.txt",
            headers={"Host": coffer_server.cos_host(cos_bucket), "Authorization": authorization})
        assert response.status_code == 403, response.text
        assert cos_client.object_exists(cos_bucket, "test.txt") is True


# ----------------------------------------------------------------------------------------
# errors, authentication, anonymous access
# ----------------------------------------------------------------------------------------

class TestErrors:
    def test_no_such_key_fields(self, cos_client, cos_recorder, cos_bucket):
        error = service_error(cos_client.get_object, Bucket=cos_bucket, Key="exampleobject")
        assert_status(error, 404, "NoSuchKey")
        assert_full_error_fields(error)
        response = cos_recorder.last()
        assert response.headers.get("x-cos-request-id") == error.get_request_id(), (
            "RequestId in the body should equal the x-cos-request-id header")
        assert "x-cos-error-code" not in response.headers, "never send x-cos-error-code (§5.2)"
        assert response.headers.get("Content-Type", "").startswith("application/xml")

    def test_no_such_bucket_fields(self, cos_client):
        error = service_error(cos_client.get_object, Bucket="acc-nobucket-%s" % APPID, Key="k")
        assert_status(error, 404, "NoSuchBucket")
        assert_full_error_fields(error)

    def test_anonymous_access_to_private_bucket_is_denied(self, cos_client, cos_anonymous_client,
                                                          cos_bucket):
        put(cos_client, cos_bucket, "secret.txt", b"private")
        error = service_error(cos_anonymous_client.get_object, Bucket=cos_bucket, Key="secret.txt")
        assert_status(error, 403, "AccessDenied")
        assert_full_error_fields(error)
        error = service_error(cos_anonymous_client.put_object, Bucket=cos_bucket, Body=b"x",
                              Key="intruder.txt")
        assert_status(error, 403, "AccessDenied")
        error = service_error(cos_anonymous_client.list_objects, Bucket=cos_bucket)
        assert_status(error, 403, "AccessDenied")
        error = service_error(cos_anonymous_client.head_object, Bucket=cos_bucket, Key="secret.txt")
        assert_status(error, 403)
        assert cos_client.object_exists(cos_bucket, "intruder.txt") is False

    def test_wrong_secret_key_is_signature_mismatch(self, cos_client_with, cos_bucket):
        client = cos_client_with(ROOT_SECRET_ID, "wrong-secret-key-0123456789")
        error = service_error(client.get_object, Bucket=cos_bucket, Key="exampleobject")
        assert_status(error, 403, "SignatureDoesNotMatch")
        assert_full_error_fields(error)

    def test_wrong_secret_key_on_upload_is_rejected(self, cos_client, cos_client_with, cos_bucket):
        client = cos_client_with(ROOT_SECRET_ID, "wrong-secret-key-0123456789")
        error = service_error(client.put_object, Bucket=cos_bucket, Body=os.urandom(300000),
                              Key="big-denied")
        assert_status(error, 403, "SignatureDoesNotMatch")
        # The connection must still be usable after an early answer with an unread body (§1.7).
        put(cos_client, cos_bucket, "after", b"fine")
        assert cos_client.object_exists(cos_bucket, "big-denied") is False

    def test_unknown_secret_id(self, cos_client_with, cos_bucket):
        client = cos_client_with("AKIDunknownAcceptance000000000000", "whatever-key")
        error = service_error(client.list_objects, Bucket=cos_bucket)
        assert_status(error, 403, "InvalidAccessKeyId")

    def test_error_resource_names_the_object(self, cos_client, cos_bucket):
        error = service_error(cos_client.get_object, Bucket=cos_bucket, Key="dir/exampleobject")
        assert "exampleobject" in error.get_resource_location(), error.get_resource_location()


class TestAnonymousPublicRead:
    def test_public_read_bucket_allows_anonymous_reads_only(self, cos_client, cos_anonymous_client,
                                                            make_cos_bucket):
        bucket = make_cos_bucket("public", ACL="public-read")
        put(cos_client, bucket, "open.txt", b"for everyone")
        assert get_bytes(cos_anonymous_client, bucket, "open.txt") == b"for everyone"
        head = cos_anonymous_client.head_object(Bucket=bucket, Key="open.txt")
        assert head["Content-Length"] == "12"
        keys = [c["Key"] for c in cos_anonymous_client.list_objects(Bucket=bucket)["Contents"]]
        assert keys == ["open.txt"]
        error = service_error(cos_anonymous_client.put_object, Bucket=bucket, Body=b"x",
                              Key="vandal.txt")
        assert_status(error, 403, "AccessDenied")
        error = service_error(cos_anonymous_client.delete_object, Bucket=bucket, Key="open.txt")
        assert_status(error, 403, "AccessDenied")
        assert get_bytes(cos_client, bucket, "open.txt") == b"for everyone"


class TestResponseHeaders:
    def test_every_response_carries_request_id(self, coffer_server, cos_bucket):
        session = RecordingSession()
        client = make_cos_client(coffer_server, session=session)
        put(client, cos_bucket, "k", b"x")
        client.head_object(Bucket=cos_bucket, Key="k")
        client.get_object(Bucket=cos_bucket, Key="k")["Body"].get_raw_stream().read()
        client.list_objects(Bucket=cos_bucket)
        client.get_bucket_location(Bucket=cos_bucket)
        client.head_bucket(Bucket=cos_bucket)
        upload_id = client.create_multipart_upload(Bucket=cos_bucket, Key="m")["UploadId"]
        client.abort_multipart_upload(Bucket=cos_bucket, Key="m", UploadId=upload_id)
        client.delete_object(Bucket=cos_bucket, Key="k")
        for call in (lambda: client.get_object(Bucket=cos_bucket, Key="k"),
                     lambda: client.head_object(Bucket=cos_bucket, Key="k")):
            with pytest.raises(CosServiceError):
                call()
        assert len(session.history) >= 11
        for response in session.history:
            names = list(response.headers.keys())
            assert "x-cos-request-id" in names, (
                "%s %s -> %d lacks a lower-case x-cos-request-id header: %r"
                % (response.request.method, response.request.url, response.status_code, names))

    def test_header_names_have_exact_case(self, cos_client, cos_bucket):
        put(cos_client, cos_bucket, "k", b"x", Metadata={"x-cos-meta-Mixed": "v"})
        for response in (put(cos_client, cos_bucket, "k2", b"y"),
                         cos_client.head_object(Bucket=cos_bucket, Key="k"),
                         cos_client.get_object(Bucket=cos_bucket, Key="k")):
            names = set(response)
            assert "ETag" in names, "ETag must be spelt exactly 'ETag' (§3.1): %r" % sorted(names)
            for wrong in ("etag", "Etag", "ETAG"):
                assert wrong not in names
            cos_names = [n for n in names if n.lower().startswith("x-cos-")]
            assert all(n == n.lower() for n in cos_names), "x-cos-* must be lower-case: %r" % cos_names
        head = cos_client.head_object(Bucket=cos_bucket, Key="k")
        for name in ("Content-Length", "Content-Type", "Last-Modified"):
            assert name in head, "%s missing or miscased: %r" % (name, sorted(head))
        ranged = cos_client.get_object(Bucket=cos_bucket, Key="k", Range="bytes=0-0")
        assert "Content-Range" in ranged and "Accept-Ranges" in ranged, sorted(ranged)


class TestReadmeConfigurations:
    """The README's documented configurations, exactly as a new user copies them."""

    def test_ip_port_with_service_domain_lists_buckets(self, coffer_server, cos_client, cos_bucket):
        from qcloud_cos import CosConfig, CosS3Client
        config = CosConfig(Region=REGION, SecretId=coffer_server.secret_id,
                           SecretKey=coffer_server.secret_key, IP="127.0.0.1",
                           Port=coffer_server.port, Scheme="http",
                           ServiceDomain=coffer_server.address)
        client = CosS3Client(config)
        names = [b["Name"] for b in client.list_buckets()["Buckets"]["Bucket"]]
        assert cos_bucket in names
        client.put_object(Bucket=cos_bucket, Key="readme.txt", Body=b"hello")
        assert get_bytes(client, cos_bucket, "readme.txt") == b"hello"

    def test_proxy_configuration_serves_every_path(self, coffer_server, cos_bucket):
        from qcloud_cos import CosConfig, CosS3Client
        config = CosConfig(Region=REGION, SecretId=coffer_server.secret_id,
                           SecretKey=coffer_server.secret_key, Scheme="http",
                           Proxies={"http": coffer_server.endpoint})
        client = CosS3Client(config)
        assert cos_bucket in [b["Name"] for b in client.list_buckets()["Buckets"]["Bucket"]]
        client.put_object(Bucket=cos_bucket, Key="src.txt", Body=b"copy me")
        client.copy(Bucket=cos_bucket, Key="dst.txt",
                    CopySource={"Bucket": cos_bucket, "Key": "src.txt", "Region": REGION})
        assert get_bytes(client, cos_bucket, "dst.txt") == b"copy me"
        url = client.get_presigned_url(Bucket=cos_bucket, Key="dst.txt", Method="GET")
        response = plain_session().get(url, proxies={"http": coffer_server.endpoint})
        assert response.status_code == 200, response.text
        assert response.content == b"copy me"
