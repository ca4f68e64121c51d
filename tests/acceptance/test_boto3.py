"""Acceptance tests: boto3 (S3 API, SigV4, path-style) against Coffer.

The same server-core operations as test_cos_sdk.py, through the AWS SDK for Python:
buckets, list_objects v1/v2 with paging and paginators, put/get/head/delete with ranges and
conditions, copy, delete_objects, multipart (incl. upload_part_copy), presigned URLs and the
managed transfers upload_fileobj/download_fileobj with multipart thresholds lowered.
"""

import datetime
import hashlib
import io
import os
import time

import boto3.s3.transfer
import botocore.exceptions
import pytest
import requests

from coffer_harness import (APPID, REGION, ROOT_SECRET_ID, content_md5, make_cos_client,
                            make_s3_client, multipart_etag, quoted_md5, unique_name)

MiB = 1024 * 1024


def client_error(call, *args, **kwargs):
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        call(*args, **kwargs)
    return caught.value


def assert_error(error, status, code=None):
    response = error.response
    actual_status = response["ResponseMetadata"]["HTTPStatusCode"]
    assert actual_status == status, "expected HTTP %s, got %s: %r" % (status, actual_status, response)
    if code is not None:
        codes = code if isinstance(code, (tuple, list, set)) else (code,)
        assert response["Error"]["Code"] in codes, (
            "expected %s, got %r: %r" % (" or ".join(codes), response["Error"]["Code"], response))


def status_of(response):
    return response["ResponseMetadata"]["HTTPStatusCode"]


def read(s3_client, bucket, key, **kwargs):
    return s3_client.get_object(Bucket=bucket, Key=key, **kwargs)["Body"].read()


def keys_of(page):
    return [item["Key"] for item in page.get("Contents", [])]


def plain_session():
    session = requests.Session()
    session.trust_env = False
    return session


# ----------------------------------------------------------------------------------------
# buckets
# ----------------------------------------------------------------------------------------

class TestBuckets:
    def test_create_head_list_delete(self, s3_client):
        name = unique_name("boto-bucket")
        assert status_of(s3_client.create_bucket(Bucket=name)) == 200
        try:
            assert status_of(s3_client.head_bucket(Bucket=name)) == 200
            names = [b["Name"] for b in s3_client.list_buckets()["Buckets"]]
            assert name in names
        finally:
            s3_client.delete_bucket(Bucket=name)
        error = client_error(s3_client.head_bucket, Bucket=name)
        assert_error(error, 404)

    def test_head_missing_bucket_is_404(self, s3_client):
        error = client_error(s3_client.head_bucket, Bucket=unique_name("missing"))
        assert_error(error, 404, ("404", "NoSuchBucket", "NotFound"))

    def test_list_buckets_creation_date(self, s3_client, s3_bucket):
        (mine,) = [b for b in s3_client.list_buckets()["Buckets"] if b["Name"] == s3_bucket]
        age = datetime.datetime.now(datetime.timezone.utc) - mine["CreationDate"]
        assert abs(age.total_seconds()) < 3600

    def test_get_bucket_location(self, s3_client, s3_bucket):
        location = s3_client.get_bucket_location(Bucket=s3_bucket)["LocationConstraint"]
        assert location in (REGION, None), location

    def test_create_existing_bucket_conflicts(self, s3_client, s3_bucket):
        error = client_error(s3_client.create_bucket, Bucket=s3_bucket)
        assert_error(error, 409, ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"))

    def test_delete_non_empty_bucket_conflicts(self, s3_client, s3_bucket):
        s3_client.put_object(Bucket=s3_bucket, Key="k", Body=b"x")
        assert_error(client_error(s3_client.delete_bucket, Bucket=s3_bucket), 409, "BucketNotEmpty")

    def test_delete_missing_bucket(self, s3_client):
        error = client_error(s3_client.delete_bucket, Bucket=unique_name("gone"))
        assert_error(error, 404, "NoSuchBucket")


# ----------------------------------------------------------------------------------------
# objects
# ----------------------------------------------------------------------------------------

class TestObjects:
    @pytest.mark.parametrize("checksum_mode", ["when_supported", "when_required"])
    def test_put_get_round_trip(self, coffer_server, s3_bucket, checksum_mode):
        """Default boto3 streams aws-chunked with a trailing checksum; when_required signs the body."""
        client = make_s3_client(coffer_server, request_checksum_calculation=checksum_mode)
        data = os.urandom(200000)
        response = client.put_object(Bucket=s3_bucket, Key="obj", Body=data)
        assert response["ETag"] == quoted_md5(data)
        assert read(client, s3_bucket, "obj") == data

    def test_aws_chunked_is_transport_only(self, coffer_server, s3_bucket):
        """aws-chunked framing (default boto3 uploads) is not stored as a Content-Encoding."""
        client = make_s3_client(coffer_server, request_checksum_calculation="when_supported")
        client.put_object(Bucket=s3_bucket, Key="gz", Body=b"\x1f\x8b fake gzip",
                          ContentEncoding="gzip")
        client.put_object(Bucket=s3_bucket, Key="plain", Body=b"plain")
        assert client.head_object(Bucket=s3_bucket, Key="gz")["ContentEncoding"] == "gzip"
        got = client.get_object(Bucket=s3_bucket, Key="gz")
        assert got["ContentEncoding"] == "gzip"
        assert got["Body"].read() == b"\x1f\x8b fake gzip"
        assert "ContentEncoding" not in client.head_object(Bucket=s3_bucket, Key="plain")

    def test_metadata_and_content_headers(self, s3_client, s3_bucket):
        s3_client.put_object(Bucket=s3_bucket, Key="meta", Body=b"hello",
                             ContentType="text/plain", CacheControl="max-age=60",
                             ContentDisposition='attachment; filename="h.txt"',
                             ContentLanguage="en", Metadata={"color": "blue", "Shape": "round"},
                             StorageClass="STANDARD_IA")
        head = s3_client.head_object(Bucket=s3_bucket, Key="meta")
        assert head["ContentType"] == "text/plain"
        assert head["CacheControl"] == "max-age=60"
        assert head["ContentDisposition"] == 'attachment; filename="h.txt"'
        assert head["ContentLanguage"] == "en"
        assert head["ContentLength"] == 5
        assert head["Metadata"] == {"color": "blue", "shape": "round"}
        assert head["StorageClass"] == "STANDARD_IA"
        assert head["ETag"] == quoted_md5(b"hello")

    def test_response_carries_request_id(self, s3_client, s3_bucket):
        response = s3_client.put_object(Bucket=s3_bucket, Key="k", Body=b"x")
        assert response["ResponseMetadata"]["HTTPHeaders"].get("x-amz-request-id")

    @pytest.mark.parametrize("key", [
        "plain", "dir/中文 文件.txt", "a+b=c&d", "100%", "double//slash", "trailing/",
        "question?hash#", "sp ace", "emoji-\U0001F600",
    ])
    def test_key_round_trip(self, s3_client, s3_bucket, key):
        s3_client.put_object(Bucket=s3_bucket, Key=key, Body=key.encode())
        assert read(s3_client, s3_bucket, key) == key.encode()
        assert keys_of(s3_client.list_objects_v2(Bucket=s3_bucket)) == [key]
        assert keys_of(s3_client.list_objects(Bucket=s3_bucket)) == [key]
        s3_client.delete_object(Bucket=s3_bucket, Key=key)
        assert keys_of(s3_client.list_objects_v2(Bucket=s3_bucket)) == []

    @pytest.mark.parametrize("range_header, start, end", [
        ("bytes=0-9", 0, 9), ("bytes=90-", 90, 99), ("bytes=-5", 95, 99), ("bytes=98-500", 98, 99)])
    def test_ranged_get(self, s3_client, s3_bucket, range_header, start, end):
        data = bytes(range(100))
        s3_client.put_object(Bucket=s3_bucket, Key="r", Body=data)
        response = s3_client.get_object(Bucket=s3_bucket, Key="r", Range=range_header)
        assert status_of(response) == 206
        assert response["ContentRange"] == "bytes %d-%d/100" % (start, end)
        assert response["ContentLength"] == end - start + 1
        assert response["Body"].read() == data[start:end + 1]

    def test_range_not_satisfiable(self, s3_client, s3_bucket):
        s3_client.put_object(Bucket=s3_bucket, Key="r", Body=b"0123456789")
        error = client_error(s3_client.get_object, Bucket=s3_bucket, Key="r", Range="bytes=10-")
        assert_error(error, 416, "InvalidRange")

    def test_conditional_get(self, s3_client, s3_bucket):
        etag = s3_client.put_object(Bucket=s3_bucket, Key="c", Body=b"conditional")["ETag"]
        assert read(s3_client, s3_bucket, "c", IfMatch=etag) == b"conditional"
        assert_error(client_error(s3_client.get_object, Bucket=s3_bucket, Key="c",
                                  IfMatch='"0123456789abcdef0123456789abcdef"'),
                     412, "PreconditionFailed")
        assert_error(client_error(s3_client.get_object, Bucket=s3_bucket, Key="c",
                                  IfNoneMatch=etag), 304)
        modified = s3_client.head_object(Bucket=s3_bucket, Key="c")["LastModified"]
        assert_error(client_error(s3_client.get_object, Bucket=s3_bucket, Key="c",
                                  IfModifiedSince=modified), 304)
        old = datetime.datetime(2014, 10, 28, 20, 30, tzinfo=datetime.timezone.utc)
        assert read(s3_client, s3_bucket, "c", IfModifiedSince=old) == b"conditional"
        assert_error(client_error(s3_client.get_object, Bucket=s3_bucket, Key="c",
                                  IfUnmodifiedSince=old), 412, "PreconditionFailed")

    def test_conditional_put(self, s3_client, s3_bucket):
        etag = s3_client.put_object(Bucket=s3_bucket, Key="cp", Body=b"one",
                                    IfNoneMatch="*")["ETag"]
        assert_error(client_error(s3_client.put_object, Bucket=s3_bucket, Key="cp", Body=b"two",
                                  IfNoneMatch="*"), 412, "PreconditionFailed")
        s3_client.put_object(Bucket=s3_bucket, Key="cp", Body=b"three", IfMatch=etag)
        # If-Match on a key that does not exist: 404 NoSuchKey, as Amazon S3 answers.
        assert_error(client_error(s3_client.put_object, Bucket=s3_bucket, Key="absent",
                                  Body=b"x", IfMatch=etag), 404, "NoSuchKey")
        assert read(s3_client, s3_bucket, "cp") == b"three"

    def test_conditional_head(self, s3_client, s3_bucket):
        etag = s3_client.put_object(Bucket=s3_bucket, Key="c", Body=b"x")["ETag"]
        assert_error(client_error(s3_client.head_object, Bucket=s3_bucket, Key="c",
                                  IfNoneMatch=etag), 304)
        assert_error(client_error(s3_client.head_object, Bucket=s3_bucket, Key="c",
                                  IfMatch='"0123456789abcdef0123456789abcdef"'), 412)

    def test_response_header_overrides(self, s3_client, s3_bucket):
        s3_client.put_object(Bucket=s3_bucket, Key="o", Body=b"x")
        response = s3_client.get_object(Bucket=s3_bucket, Key="o",
                                        ResponseContentType="text/x-override",
                                        ResponseContentDisposition="inline",
                                        ResponseCacheControl="no-cache")
        assert response["ContentType"] == "text/x-override"
        assert response["ContentDisposition"] == "inline"
        assert response["CacheControl"] == "no-cache"

    def test_get_missing_key(self, s3_client, s3_bucket):
        error = client_error(s3_client.get_object, Bucket=s3_bucket, Key="nothing")
        assert_error(error, 404, "NoSuchKey")
        assert error.response["Error"].get("Message")
        assert error.response["ResponseMetadata"]["HTTPHeaders"].get("x-amz-request-id")

    def test_head_missing_key(self, s3_client, s3_bucket):
        assert_error(client_error(s3_client.head_object, Bucket=s3_bucket, Key="nothing"), 404)

    def test_get_from_missing_bucket(self, s3_client):
        error = client_error(s3_client.get_object, Bucket=unique_name("absent"), Key="k")
        assert_error(error, 404, "NoSuchBucket")

    def test_delete_missing_key_is_204(self, s3_client, s3_bucket):
        assert status_of(s3_client.delete_object(Bucket=s3_bucket, Key="never")) == 204

    def test_bad_content_md5(self, coffer_server, s3_bucket):
        client = make_s3_client(coffer_server, request_checksum_calculation="when_required")
        error = client_error(client.put_object, Bucket=s3_bucket, Key="k", Body=b"body",
                             ContentMD5=content_md5(b"other"))
        assert_error(error, 400, "BadDigest")

    def test_empty_object(self, s3_client, s3_bucket):
        s3_client.put_object(Bucket=s3_bucket, Key="dir/", Body=b"")
        head = s3_client.head_object(Bucket=s3_bucket, Key="dir/")
        assert head["ContentLength"] == 0
        assert read(s3_client, s3_bucket, "dir/") == b""

    def test_wrong_secret_key(self, s3_client, s3_client_with, s3_bucket):
        client = s3_client_with(ROOT_SECRET_ID, "not-the-right-secret")
        assert_error(client_error(client.list_objects_v2, Bucket=s3_bucket), 403,
                     "SignatureDoesNotMatch")
        # 2 MiB: botocore sends Expect: 100-continue; the server may refuse before the body.
        error = client_error(client.put_object, Bucket=s3_bucket, Key="k", Body=os.urandom(2 * MiB))
        assert_error(error, 403, "SignatureDoesNotMatch")
        # ...and the same connection pool keeps working for a correct client afterwards.
        s3_client.put_object(Bucket=s3_bucket, Key="after", Body=b"ok")

    def test_unknown_access_key(self, s3_client_with, s3_bucket):
        client = s3_client_with("AKIDunknownAcceptance000000000000", "whatever")
        assert_error(client_error(client.list_objects_v2, Bucket=s3_bucket), 403,
                     "InvalidAccessKeyId")

    def test_anonymous_request_is_denied(self, coffer_server, s3_client, s3_bucket):
        s3_client.put_object(Bucket=s3_bucket, Key="private", Body=b"x")
        response = plain_session().get("%s/%s/private" % (coffer_server.endpoint, s3_bucket))
        assert response.status_code == 403, response.text
        assert b"AccessDenied" in response.content


# ----------------------------------------------------------------------------------------
# listing
# ----------------------------------------------------------------------------------------

class TestListing:
    KEYS = sorted(["a/1", "a/2", "a/b/3", "b", "c/1", "c d/2", "d+e", "z"])

    @pytest.fixture
    def populated(self, s3_client, s3_bucket):
        for key in self.KEYS:
            s3_client.put_object(Bucket=s3_bucket, Key=key, Body=key.encode())
        return s3_bucket

    def test_list_objects_v2_everything(self, s3_client, populated):
        page = s3_client.list_objects_v2(Bucket=populated)
        assert keys_of(page) == self.KEYS
        assert page["KeyCount"] == len(self.KEYS)
        assert page["IsTruncated"] is False
        assert "NextContinuationToken" not in page
        item = page["Contents"][0]
        assert item["Size"] == len(item["Key"]) and item["ETag"] == quoted_md5(item["Key"].encode())
        assert item["StorageClass"] == "STANDARD"

    def test_list_objects_v2_continuation_tokens(self, s3_client, populated):
        seen, token, pages = [], None, 0
        while True:
            kwargs = {"ContinuationToken": token} if token else {}
            page = s3_client.list_objects_v2(Bucket=populated, MaxKeys=3, **kwargs)
            pages += 1
            assert page["KeyCount"] == len(page.get("Contents", []))
            seen += keys_of(page)
            if not page["IsTruncated"]:
                break
            token = page["NextContinuationToken"]
            assert pages < 10
        assert seen == self.KEYS
        assert pages == 3

    def test_list_objects_v2_delimiter_prefix_start_after(self, s3_client, populated):
        page = s3_client.list_objects_v2(Bucket=populated, Delimiter="/")
        assert keys_of(page) == ["b", "d+e", "z"]
        assert [p["Prefix"] for p in page["CommonPrefixes"]] == ["a/", "c d/", "c/"]
        assert page["KeyCount"] == 6
        page = s3_client.list_objects_v2(Bucket=populated, Prefix="a/", Delimiter="/")
        assert keys_of(page) == ["a/1", "a/2"]
        assert [p["Prefix"] for p in page["CommonPrefixes"]] == ["a/b/"]
        # UTF-8 binary order: "c d/2" < "c/1" because " " (0x20) sorts before "/" (0x2f).
        page = s3_client.list_objects_v2(Bucket=populated, StartAfter="c d/2")
        assert keys_of(page) == ["c/1", "d+e", "z"]
        assert page["StartAfter"] == "c d/2"

    def test_list_objects_v2_fetch_owner(self, s3_client, populated):
        page = s3_client.list_objects_v2(Bucket=populated, MaxKeys=1, FetchOwner=True)
        assert page["Contents"][0]["Owner"]["ID"]

    def test_paginator_v2(self, s3_client, populated):
        paginator = s3_client.get_paginator("list_objects_v2")
        pages = list(paginator.paginate(Bucket=populated, PaginationConfig={"PageSize": 2}))
        assert [k for page in pages for k in keys_of(page)] == self.KEYS
        assert len(pages) == 4

    def test_paginator_v2_with_delimiter(self, s3_client, populated):
        paginator = s3_client.get_paginator("list_objects_v2")
        prefixes, keys = [], []
        for page in paginator.paginate(Bucket=populated, Delimiter="/",
                                       PaginationConfig={"PageSize": 2}):
            prefixes += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
            keys += keys_of(page)
        assert prefixes == ["a/", "c d/", "c/"]
        assert keys == ["b", "d+e", "z"]

    def test_paginator_v1(self, s3_client, populated):
        paginator = s3_client.get_paginator("list_objects")
        pages = list(paginator.paginate(Bucket=populated, PaginationConfig={"PageSize": 3}))
        assert [k for page in pages for k in keys_of(page)] == self.KEYS

    def test_list_objects_v1_marker(self, s3_client, populated):
        page = s3_client.list_objects(Bucket=populated, Marker="b", MaxKeys=2)
        assert keys_of(page) == ["c d/2", "c/1"]
        assert page["IsTruncated"] is True
        assert page["Marker"] == "b"

    def test_list_empty_bucket(self, s3_client, s3_bucket):
        page = s3_client.list_objects_v2(Bucket=s3_bucket)
        assert page["KeyCount"] == 0 and "Contents" not in page and page["IsTruncated"] is False


# ----------------------------------------------------------------------------------------
# copy and delete_objects
# ----------------------------------------------------------------------------------------

class TestCopyAndDelete:
    def test_copy_keeps_metadata_by_default(self, s3_client, make_s3_bucket):
        source, target = make_s3_bucket("src"), make_s3_bucket("dst")
        etag = s3_client.put_object(Bucket=source, Key="k", Body=b"copy me", ContentType="a/b",
                                    Metadata={"m": "1"})["ETag"]
        response = s3_client.copy_object(Bucket=target, Key="copied",
                                         CopySource={"Bucket": source, "Key": "k"},
                                         Metadata={"m": "ignored"})
        assert response["CopyObjectResult"]["ETag"] == etag
        head = s3_client.head_object(Bucket=target, Key="copied")
        assert head["Metadata"] == {"m": "1"} and head["ContentType"] == "a/b"
        assert read(s3_client, target, "copied") == b"copy me"

    def test_copy_with_replace_directive(self, s3_client, s3_bucket):
        s3_client.put_object(Bucket=s3_bucket, Key="k", Body=b"data", Metadata={"m": "1"})
        s3_client.copy_object(Bucket=s3_bucket, Key="k2", CopySource={"Bucket": s3_bucket, "Key": "k"},
                              MetadataDirective="REPLACE", Metadata={"n": "2"},
                              ContentType="text/x-new")
        head = s3_client.head_object(Bucket=s3_bucket, Key="k2")
        assert head["Metadata"] == {"n": "2"} and head["ContentType"] == "text/x-new"

    def test_copy_onto_itself(self, s3_client, s3_bucket):
        s3_client.put_object(Bucket=s3_bucket, Key="k", Body=b"data", Metadata={"m": "1"})
        error = client_error(s3_client.copy_object, Bucket=s3_bucket, Key="k",
                             CopySource={"Bucket": s3_bucket, "Key": "k"})
        assert_error(error, 400, "InvalidRequest")
        s3_client.copy_object(Bucket=s3_bucket, Key="k", CopySource={"Bucket": s3_bucket, "Key": "k"},
                              MetadataDirective="REPLACE", Metadata={"m": "2"})
        assert s3_client.head_object(Bucket=s3_bucket, Key="k")["Metadata"] == {"m": "2"}

    def test_copy_special_key(self, s3_client, s3_bucket):
        key = "dir/中文 a+b%.txt"
        s3_client.put_object(Bucket=s3_bucket, Key=key, Body=b"special")
        s3_client.copy_object(Bucket=s3_bucket, Key="copy/" + key,
                              CopySource={"Bucket": s3_bucket, "Key": key})
        assert read(s3_client, s3_bucket, "copy/" + key) == b"special"

    def test_copy_missing_source(self, s3_client, s3_bucket):
        error = client_error(s3_client.copy_object, Bucket=s3_bucket, Key="k",
                             CopySource={"Bucket": s3_bucket, "Key": "none"})
        assert_error(error, 404, ("NoSuchKey", "NoSuchCopySource"))

    def test_copy_source_if_match(self, s3_client, s3_bucket):
        s3_client.put_object(Bucket=s3_bucket, Key="k", Body=b"data")
        error = client_error(s3_client.copy_object, Bucket=s3_bucket, Key="k2",
                             CopySource={"Bucket": s3_bucket, "Key": "k"},
                             CopySourceIfMatch='"0123456789abcdef0123456789abcdef"')
        assert_error(error, 412, "PreconditionFailed")

    def test_delete_objects(self, s3_client, s3_bucket):
        keys = ["one", "two", "a&b", "中文", "missing"]
        for key in keys[:-1]:
            s3_client.put_object(Bucket=s3_bucket, Key=key, Body=b"x")
        response = s3_client.delete_objects(Bucket=s3_bucket, Delete={
            "Objects": [{"Key": k} for k in keys], "Quiet": False})
        assert sorted(d["Key"] for d in response["Deleted"]) == sorted(keys)
        assert not response.get("Errors")
        assert keys_of(s3_client.list_objects_v2(Bucket=s3_bucket)) == []

    def test_delete_objects_quiet(self, s3_client, s3_bucket):
        for key in ("q1", "q2"):
            s3_client.put_object(Bucket=s3_bucket, Key=key, Body=b"x")
        response = s3_client.delete_objects(Bucket=s3_bucket, Delete={
            "Objects": [{"Key": "q1"}, {"Key": "q2"}], "Quiet": True})
        assert not response.get("Deleted") and not response.get("Errors")
        assert keys_of(s3_client.list_objects_v2(Bucket=s3_bucket)) == []


# ----------------------------------------------------------------------------------------
# multipart
# ----------------------------------------------------------------------------------------

class TestMultipart:
    def test_multipart_upload(self, s3_client, s3_bucket):
        parts_data = [os.urandom(5 * MiB), os.urandom(1234)]
        upload_id = s3_client.create_multipart_upload(
            Bucket=s3_bucket, Key="mp", ContentType="application/x-mp",
            Metadata={"kind": "multipart"})["UploadId"]
        etags = []
        for number, body in enumerate(parts_data, 1):
            response = s3_client.upload_part(Bucket=s3_bucket, Key="mp", PartNumber=number,
                                             UploadId=upload_id, Body=body)
            assert response["ETag"] == quoted_md5(body)
            etags.append(response["ETag"])
        listed = s3_client.list_parts(Bucket=s3_bucket, Key="mp", UploadId=upload_id)
        assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in listed["Parts"]] == [
            (1, etags[0], 5 * MiB), (2, etags[1], 1234)]
        uploads = s3_client.list_multipart_uploads(Bucket=s3_bucket)["Uploads"]
        assert [(u["Key"], u["UploadId"]) for u in uploads] == [("mp", upload_id)]
        done = s3_client.complete_multipart_upload(
            Bucket=s3_bucket, Key="mp", UploadId=upload_id,
            MultipartUpload={"Parts": [{"ETag": e, "PartNumber": n}
                                       for n, e in enumerate(etags, 1)]})
        assert done["ETag"] == multipart_etag(parts_data)
        head = s3_client.head_object(Bucket=s3_bucket, Key="mp")
        assert head["ContentLength"] == 5 * MiB + 1234
        assert head["ContentType"] == "application/x-mp"
        assert head["Metadata"] == {"kind": "multipart"}
        assert read(s3_client, s3_bucket, "mp") == b"".join(parts_data)
        assert "Uploads" not in s3_client.list_multipart_uploads(Bucket=s3_bucket)

    def test_part_too_small(self, s3_client, s3_bucket):
        upload_id = s3_client.create_multipart_upload(Bucket=s3_bucket, Key="k")["UploadId"]
        etags = [s3_client.upload_part(Bucket=s3_bucket, Key="k", PartNumber=n, UploadId=upload_id,
                                       Body=b"x" * 102400)["ETag"] for n in (1, 2)]
        error = client_error(s3_client.complete_multipart_upload, Bucket=s3_bucket, Key="k",
                             UploadId=upload_id, MultipartUpload={"Parts": [
                                 {"ETag": e, "PartNumber": n} for n, e in enumerate(etags, 1)]})
        assert_error(error, 400, "EntityTooSmall")

    def test_invalid_part(self, s3_client, s3_bucket):
        upload_id = s3_client.create_multipart_upload(Bucket=s3_bucket, Key="k")["UploadId"]
        s3_client.upload_part(Bucket=s3_bucket, Key="k", PartNumber=1, UploadId=upload_id, Body=b"x")
        error = client_error(s3_client.complete_multipart_upload, Bucket=s3_bucket, Key="k",
                             UploadId=upload_id, MultipartUpload={"Parts": [
                                 {"ETag": quoted_md5(b"y"), "PartNumber": 1}]})
        assert_error(error, 400, "InvalidPart")

    def test_abort_and_no_such_upload(self, s3_client, s3_bucket):
        upload_id = s3_client.create_multipart_upload(Bucket=s3_bucket, Key="k")["UploadId"]
        s3_client.upload_part(Bucket=s3_bucket, Key="k", PartNumber=1, UploadId=upload_id, Body=b"x")
        assert status_of(s3_client.abort_multipart_upload(Bucket=s3_bucket, Key="k",
                                                          UploadId=upload_id)) == 204
        assert_error(client_error(s3_client.list_parts, Bucket=s3_bucket, Key="k",
                                  UploadId=upload_id), 404, "NoSuchUpload")
        assert_error(client_error(s3_client.upload_part, Bucket=s3_bucket, Key="k", PartNumber=2,
                                  UploadId=upload_id, Body=b"x"), 404, "NoSuchUpload")

    def test_completion_sent_again_answers_the_same(self, s3_client, s3_bucket):
        """A client whose completion answer was lost retries it: S3 answers the same success."""
        bodies = [os.urandom(5 * MiB), b"tail"]
        upload_id = s3_client.create_multipart_upload(Bucket=s3_bucket, Key="again")["UploadId"]
        parts = [{"ETag": s3_client.upload_part(Bucket=s3_bucket, Key="again", PartNumber=n,
                                                UploadId=upload_id, Body=body)["ETag"],
                  "PartNumber": n} for n, body in enumerate(bodies, 1)]
        complete = dict(Bucket=s3_bucket, Key="again", UploadId=upload_id)
        first = s3_client.complete_multipart_upload(MultipartUpload={"Parts": parts}, **complete)
        again = s3_client.complete_multipart_upload(MultipartUpload={"Parts": parts}, **complete)
        for field in ("ETag", "Location", "Bucket", "Key"):
            assert again[field] == first[field], field
        assert first["ETag"] == multipart_etag(bodies)
        # Not a retry: another part list for the completed upload.
        assert_error(client_error(s3_client.complete_multipart_upload,
                                  MultipartUpload={"Parts": parts[:1]}, **complete),
                     404, "NoSuchUpload")
        assert_error(client_error(s3_client.list_parts, **complete), 404, "NoSuchUpload")
        assert_error(client_error(s3_client.abort_multipart_upload, **complete),
                     404, "NoSuchUpload")
        assert read(s3_client, s3_bucket, "again") == b"".join(bodies)

    def test_conditional_completion(self, s3_client, s3_bucket):
        """If-None-Match: * and If-Match on CompleteMultipartUpload hold at the commit."""
        def start(key):
            upload_id = s3_client.create_multipart_upload(Bucket=s3_bucket, Key=key)["UploadId"]
            etag = s3_client.upload_part(Bucket=s3_bucket, Key=key, PartNumber=1,
                                         UploadId=upload_id, Body=b"part")["ETag"]
            return dict(Bucket=s3_bucket, Key=key, UploadId=upload_id,
                        MultipartUpload={"Parts": [{"ETag": etag, "PartNumber": 1}]})

        taken = start("taken")
        # Another writer creates the key while the upload is in progress.
        current = s3_client.put_object(Bucket=s3_bucket, Key="taken", Body=b"first")["ETag"]
        assert_error(client_error(s3_client.complete_multipart_upload, IfNoneMatch="*", **taken),
                     412, "PreconditionFailed")
        assert_error(client_error(s3_client.complete_multipart_upload,
                                  IfMatch=quoted_md5(b"other"), **taken),
                     412, "PreconditionFailed")
        assert read(s3_client, s3_bucket, "taken") == b"first"
        s3_client.complete_multipart_upload(IfMatch=current, **taken)
        assert read(s3_client, s3_bucket, "taken") == b"part"

        ghost = start("ghost")
        # If-Match on a key that does not exist: 404 NoSuchKey, as Amazon S3 answers.
        assert_error(client_error(s3_client.complete_multipart_upload,
                                  IfMatch=quoted_md5(b"other"), **ghost),
                     404, "NoSuchKey")
        assert_error(client_error(s3_client.head_object, Bucket=s3_bucket, Key="ghost"), 404)

        fresh = start("fresh")
        created = s3_client.complete_multipart_upload(IfNoneMatch="*", **fresh)
        # Its retry succeeds: the key exists now, but it is this completion's own object.
        retried = s3_client.complete_multipart_upload(IfNoneMatch="*", **fresh)
        assert retried["ETag"] == created["ETag"]

    def test_upload_part_copy(self, s3_client, s3_bucket):
        source = os.urandom(6 * MiB)
        s3_client.put_object(Bucket=s3_bucket, Key="source", Body=source)
        upload_id = s3_client.create_multipart_upload(Bucket=s3_bucket, Key="target")["UploadId"]
        first = s3_client.upload_part_copy(Bucket=s3_bucket, Key="target", PartNumber=1,
                                           UploadId=upload_id,
                                           CopySource={"Bucket": s3_bucket, "Key": "source"},
                                           CopySourceRange="bytes=0-5242879")
        assert first["CopyPartResult"]["ETag"] == quoted_md5(source[:5 * MiB])
        second = s3_client.upload_part_copy(Bucket=s3_bucket, Key="target", PartNumber=2,
                                            UploadId=upload_id,
                                            CopySource={"Bucket": s3_bucket, "Key": "source"})
        s3_client.complete_multipart_upload(
            Bucket=s3_bucket, Key="target", UploadId=upload_id,
            MultipartUpload={"Parts": [
                {"ETag": first["CopyPartResult"]["ETag"], "PartNumber": 1},
                {"ETag": second["CopyPartResult"]["ETag"], "PartNumber": 2}]})
        assert read(s3_client, s3_bucket, "target") == source[:5 * MiB] + source

    def test_list_parts_paging(self, s3_client, s3_bucket):
        upload_id = s3_client.create_multipart_upload(Bucket=s3_bucket, Key="k")["UploadId"]
        for number in (1, 2, 3):
            s3_client.upload_part(Bucket=s3_bucket, Key="k", PartNumber=number,
                                  UploadId=upload_id, Body=b"p")
        paginator = s3_client.get_paginator("list_parts")
        pages = list(paginator.paginate(Bucket=s3_bucket, Key="k", UploadId=upload_id,
                                        PaginationConfig={"PageSize": 2}))
        assert [p["PartNumber"] for page in pages for p in page["Parts"]] == [1, 2, 3]
        assert len(pages) == 2


# ----------------------------------------------------------------------------------------
# presigned URLs and managed transfers
# ----------------------------------------------------------------------------------------

class TestPresignedAndTransfers:
    def test_presigned_get(self, s3_client, s3_bucket):
        s3_client.put_object(Bucket=s3_bucket, Key="dir/a b+c.txt", Body=b"presigned")
        url = s3_client.generate_presigned_url("get_object", ExpiresIn=300, Params={
            "Bucket": s3_bucket, "Key": "dir/a b+c.txt",
            "ResponseContentDisposition": "attachment"})
        response = plain_session().get(url)
        assert response.status_code == 200, response.text
        assert response.content == b"presigned"
        assert response.headers["Content-Disposition"] == "attachment"

    def test_presigned_put(self, s3_client, s3_bucket):
        url = s3_client.generate_presigned_url("put_object", ExpiresIn=300, Params={
            "Bucket": s3_bucket, "Key": "uploaded"})
        response = plain_session().put(url, data=b"put through a presigned url")
        assert response.status_code == 200, response.text
        assert read(s3_client, s3_bucket, "uploaded") == b"put through a presigned url"

    def test_presigned_url_with_bad_signature(self, s3_client, s3_bucket):
        s3_client.put_object(Bucket=s3_bucket, Key="k", Body=b"x")
        url = s3_client.generate_presigned_url("get_object", ExpiresIn=300,
                                               Params={"Bucket": s3_bucket, "Key": "k"})
        head, signature = url.split("X-Amz-Signature=")
        flipped = ("1" if signature[0] == "0" else "0") + signature[1:]
        response = plain_session().get(head + "X-Amz-Signature=" + flipped)
        assert response.status_code == 403, response.text

    def test_expired_presigned_url(self, s3_client, s3_bucket):
        s3_client.put_object(Bucket=s3_bucket, Key="k", Body=b"x")
        url = s3_client.generate_presigned_url("get_object", ExpiresIn=1,
                                               Params={"Bucket": s3_bucket, "Key": "k"})
        time.sleep(2.5)  # let the one-second validity pass; not a timing assertion
        response = plain_session().get(url)
        assert response.status_code == 403, response.text
        assert b"AccessDenied" in response.content

    def test_upload_and_download_fileobj_multipart(self, s3_client, s3_bucket):
        config = boto3.s3.transfer.TransferConfig(multipart_threshold=5 * MiB,
                                                  multipart_chunksize=5 * MiB, max_concurrency=4)
        data = os.urandom(17 * MiB + 3)
        s3_client.upload_fileobj(io.BytesIO(data), s3_bucket, "big.bin", Config=config)
        head = s3_client.head_object(Bucket=s3_bucket, Key="big.bin")
        assert head["ContentLength"] == len(data)
        assert head["ETag"].endswith('-4"'), "upload_fileobj should have used 4 parts: %r" % head
        target = io.BytesIO()
        s3_client.download_fileobj(s3_bucket, "big.bin", target, Config=config)
        assert hashlib.sha256(target.getvalue()).digest() == hashlib.sha256(data).digest()

    def test_upload_and_download_file(self, s3_client, s3_bucket, tmp_path):
        config = boto3.s3.transfer.TransferConfig(multipart_threshold=5 * MiB,
                                                  multipart_chunksize=5 * MiB)
        source = tmp_path / "source.bin"
        source.write_bytes(os.urandom(11 * MiB))
        s3_client.upload_file(str(source), s3_bucket, "file.bin", Config=config,
                              ExtraArgs={"Metadata": {"origin": "upload_file"}})
        target = tmp_path / "target.bin"
        s3_client.download_file(s3_bucket, "file.bin", str(target), Config=config)
        assert target.read_bytes() == source.read_bytes()
        assert s3_client.head_object(Bucket=s3_bucket, Key="file.bin")["Metadata"] == {
            "origin": "upload_file"}


# ----------------------------------------------------------------------------------------
# parts of an object and flexible checksums
# ----------------------------------------------------------------------------------------

def checksum_of(algorithm, data):
    """The base64 checksum of `data`, computed here (zlib, hashlib, awscrt), not by Coffer."""
    import base64
    import zlib
    import awscrt.checksums
    if algorithm == "CRC32":
        raw = zlib.crc32(data).to_bytes(4, "big")
    elif algorithm == "CRC32C":
        raw = awscrt.checksums.crc32c(data).to_bytes(4, "big")
    elif algorithm == "CRC64NVME":
        raw = awscrt.checksums.crc64nvme(data).to_bytes(8, "big")
    else:
        raw = hashlib.new(algorithm.lower(), data).digest()
    return base64.b64encode(raw).decode()


def composite_of(algorithm, parts):
    import base64
    digests = b"".join(base64.b64decode(checksum_of(algorithm, part)) for part in parts)
    return "%s-%d" % (checksum_of(algorithm, digests), len(parts))


CHECKSUM_MODES = ["when_supported", "when_required"]
ALGORITHMS = ["CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"]


class TestPartsAndChecksums:
    def test_get_and_head_by_part_number(self, s3_client, s3_bucket):
        bodies = [os.urandom(5 * MiB), os.urandom(5 * MiB), b"tail"]
        upload_id = s3_client.create_multipart_upload(Bucket=s3_bucket, Key="mp")["UploadId"]
        parts = []
        for number, body in zip((1, 3, 7), bodies):
            etag = s3_client.upload_part(Bucket=s3_bucket, Key="mp", PartNumber=number,
                                         UploadId=upload_id, Body=body)["ETag"]
            parts.append({"ETag": etag, "PartNumber": number})
        done = s3_client.complete_multipart_upload(Bucket=s3_bucket, Key="mp", UploadId=upload_id,
                                                   MultipartUpload={"Parts": parts})
        total = sum(len(b) for b in bodies)
        got = s3_client.get_object(Bucket=s3_bucket, Key="mp", PartNumber=3)
        assert status_of(got) == 206
        assert got["PartsCount"] == 3
        assert got["ETag"] == done["ETag"]
        assert got["ContentLength"] == 5 * MiB
        assert got["ContentRange"] == "bytes %d-%d/%d" % (5 * MiB, 10 * MiB - 1, total)
        assert got["Body"].read() == bodies[1]
        head = s3_client.head_object(Bucket=s3_bucket, Key="mp", PartNumber=7)
        assert (head["PartsCount"], head["ContentLength"]) == (3, 4)
        assert "PartsCount" not in s3_client.head_object(Bucket=s3_bucket, Key="mp")
        assert_error(client_error(s3_client.get_object, Bucket=s3_bucket, Key="mp", PartNumber=2),
                     416, "InvalidPartNumber")
        assert_error(client_error(s3_client.get_object, Bucket=s3_bucket, Key="mp", PartNumber=1,
                                  Range="bytes=0-1"), 400, "InvalidRequest")
        s3_client.put_object(Bucket=s3_bucket, Key="single", Body=b"body")
        single = s3_client.get_object(Bucket=s3_bucket, Key="single", PartNumber=1)
        assert status_of(single) == 206 and single["ContentRange"] == "bytes 0-3/4"
        assert "PartsCount" not in single and single["Body"].read() == b"body"
        assert_error(client_error(s3_client.head_object, Bucket=s3_bucket, Key="single",
                                  PartNumber=2), 416)

    def test_get_object_attributes(self, s3_client, s3_bucket):
        bodies = [os.urandom(5 * MiB) for _ in range(3)] + [b"last"]
        upload_id = s3_client.create_multipart_upload(
            Bucket=s3_bucket, Key="attrs", ChecksumAlgorithm="SHA256")["UploadId"]
        parts = []
        for number, body in enumerate(bodies, 1):
            response = s3_client.upload_part(Bucket=s3_bucket, Key="attrs", PartNumber=number,
                                             UploadId=upload_id, Body=body,
                                             ChecksumAlgorithm="SHA256")
            parts.append({"ETag": response["ETag"], "PartNumber": number,
                          "ChecksumSHA256": response["ChecksumSHA256"]})
        done = s3_client.complete_multipart_upload(Bucket=s3_bucket, Key="attrs",
                                                   UploadId=upload_id,
                                                   MultipartUpload={"Parts": parts})
        wanted = ["ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"]
        page = s3_client.get_object_attributes(Bucket=s3_bucket, Key="attrs",
                                               ObjectAttributes=wanted, MaxParts=2,
                                               PartNumberMarker=1)
        assert page["ETag"] == done["ETag"].strip('"')
        assert page["ObjectSize"] == sum(len(b) for b in bodies)
        assert page["StorageClass"] == "STANDARD"
        assert page["Checksum"] == {"ChecksumSHA256": composite_of("SHA256", bodies),
                                    "ChecksumType": "COMPOSITE"}
        object_parts = page["ObjectParts"]
        assert object_parts["TotalPartsCount"] == 4
        assert (object_parts["PartNumberMarker"], object_parts["NextPartNumberMarker"]) == (1, 3)
        assert object_parts["MaxParts"] == 2 and object_parts["IsTruncated"] is True
        assert [(p["PartNumber"], p["Size"], p["ChecksumSHA256"]) for p in object_parts["Parts"]] == [
            (n, len(bodies[n - 1]), checksum_of("SHA256", bodies[n - 1])) for n in (2, 3)]
        rest = s3_client.get_object_attributes(Bucket=s3_bucket, Key="attrs",
                                               ObjectAttributes=["ObjectParts"],
                                               PartNumberMarker=3)
        assert rest["ObjectParts"]["IsTruncated"] is False
        assert [p["PartNumber"] for p in rest["ObjectParts"]["Parts"]] == [4]
        assert "ETag" not in rest and "LastModified" in rest
        s3_client.put_object(Bucket=s3_bucket, Key="plain", Body=b"plain")
        plain = s3_client.get_object_attributes(Bucket=s3_bucket, Key="plain",
                                                ObjectAttributes=wanted)
        assert "ObjectParts" not in plain and plain["ObjectSize"] == 5

    @pytest.mark.parametrize("checksum_mode", CHECKSUM_MODES)
    @pytest.mark.parametrize("algorithm", ALGORITHMS)
    def test_multipart_upload_with_checksums(self, coffer_server, s3_bucket, algorithm,
                                             checksum_mode):
        client = make_s3_client(coffer_server, request_checksum_calculation=checksum_mode)
        bodies = [os.urandom(5 * MiB), os.urandom(5 * MiB), os.urandom(1000)]
        created = client.create_multipart_upload(Bucket=s3_bucket, Key="mp",
                                                 ChecksumAlgorithm=algorithm)
        assert created["ChecksumAlgorithm"] == algorithm
        kind = "FULL_OBJECT" if algorithm == "CRC64NVME" else "COMPOSITE"
        assert created["ChecksumType"] == kind
        field = "Checksum" + algorithm
        parts = []
        for number, body in enumerate(bodies, 1):
            response = client.upload_part(Bucket=s3_bucket, Key="mp", PartNumber=number,
                                          UploadId=created["UploadId"], Body=body,
                                          ChecksumAlgorithm=algorithm)
            assert response[field] == checksum_of(algorithm, body)
            parts.append({"ETag": response["ETag"], "PartNumber": number, field: response[field]})
        listed = client.list_parts(Bucket=s3_bucket, Key="mp", UploadId=created["UploadId"])
        assert (listed["ChecksumAlgorithm"], listed["ChecksumType"]) == (algorithm, kind)
        assert [p[field] for p in listed["Parts"]] == [p[field] for p in parts]
        done = client.complete_multipart_upload(Bucket=s3_bucket, Key="mp",
                                                UploadId=created["UploadId"],
                                                MultipartUpload={"Parts": parts})
        expected = (checksum_of(algorithm, b"".join(bodies)) if kind == "FULL_OBJECT"
                    else composite_of(algorithm, bodies))
        assert (done[field], done["ChecksumType"]) == (expected, kind)
        head = client.head_object(Bucket=s3_bucket, Key="mp", ChecksumMode="ENABLED")
        assert (head[field], head["ChecksumType"]) == (expected, kind)
        assert field not in client.head_object(Bucket=s3_bucket, Key="mp")
        # botocore validates the part's body against the part's checksum.
        part = client.get_object(Bucket=s3_bucket, Key="mp", PartNumber=2, ChecksumMode="ENABLED")
        assert part[field] == checksum_of(algorithm, bodies[1])
        assert part["Body"].read() == bodies[1]
        whole = client.get_object(Bucket=s3_bucket, Key="mp", ChecksumMode="ENABLED")
        assert whole["Body"].read() == b"".join(bodies)

    @pytest.mark.parametrize("algorithm", ["CRC32", "CRC32C"])
    def test_full_object_crc_multipart(self, s3_client, s3_bucket, algorithm):
        bodies = [os.urandom(5 * MiB), os.urandom(123)]
        created = s3_client.create_multipart_upload(Bucket=s3_bucket, Key="full",
                                                    ChecksumAlgorithm=algorithm,
                                                    ChecksumType="FULL_OBJECT")
        assert created["ChecksumType"] == "FULL_OBJECT"
        field = "Checksum" + algorithm
        parts = [{"ETag": s3_client.upload_part(Bucket=s3_bucket, Key="full", PartNumber=n,
                                                UploadId=created["UploadId"], Body=body,
                                                ChecksumAlgorithm=algorithm)["ETag"],
                  "PartNumber": n} for n, body in enumerate(bodies, 1)]
        expected = checksum_of(algorithm, b"".join(bodies))
        done = s3_client.complete_multipart_upload(
            Bucket=s3_bucket, Key="full", UploadId=created["UploadId"],
            MultipartUpload={"Parts": parts}, ChecksumType="FULL_OBJECT",
            **{field: expected})
        assert (done[field], done["ChecksumType"]) == (expected, "FULL_OBJECT")

    def test_mismatched_part_checksum_is_refused(self, s3_client, s3_bucket):
        upload_id = s3_client.create_multipart_upload(Bucket=s3_bucket, Key="bad",
                                                      ChecksumAlgorithm="SHA256")["UploadId"]
        error = client_error(s3_client.upload_part, Bucket=s3_bucket, Key="bad", PartNumber=1,
                             UploadId=upload_id, Body=b"data",
                             ChecksumSHA256=checksum_of("SHA256", b"other"))
        assert_error(error, 400, "BadDigest")
        response = s3_client.upload_part(Bucket=s3_bucket, Key="bad", PartNumber=1,
                                         UploadId=upload_id, Body=b"data",
                                         ChecksumAlgorithm="SHA256")
        error = client_error(s3_client.complete_multipart_upload, Bucket=s3_bucket, Key="bad",
                             UploadId=upload_id, MultipartUpload={"Parts": [
                                 {"ETag": response["ETag"], "PartNumber": 1,
                                  "ChecksumSHA256": checksum_of("SHA256", b"other")}]})
        assert_error(error, 400, "InvalidPart")

    @pytest.mark.parametrize("checksum_mode", CHECKSUM_MODES)
    @pytest.mark.parametrize("algorithm", ALGORITHMS)
    def test_put_object_with_checksum_algorithm(self, coffer_server, s3_bucket, algorithm,
                                                checksum_mode):
        client = make_s3_client(coffer_server, request_checksum_calculation=checksum_mode)
        data = os.urandom(300000)
        field = "Checksum" + algorithm
        put = client.put_object(Bucket=s3_bucket, Key="obj", Body=data,
                                ChecksumAlgorithm=algorithm)
        assert put[field] == checksum_of(algorithm, data)
        head = client.head_object(Bucket=s3_bucket, Key="obj", ChecksumMode="ENABLED")
        assert (head[field], head["ChecksumType"]) == (checksum_of(algorithm, data), "FULL_OBJECT")
        got = client.get_object(Bucket=s3_bucket, Key="obj", ChecksumMode="ENABLED")
        assert got["Body"].read() == data
        attributes = client.get_object_attributes(Bucket=s3_bucket, Key="obj",
                                                  ObjectAttributes=["Checksum"])
        assert attributes["Checksum"][field] == checksum_of(algorithm, data)

    @pytest.mark.parametrize("checksum_mode", CHECKSUM_MODES)
    def test_default_checksum_of_plain_uploads(self, coffer_server, s3_bucket, checksum_mode):
        """Default boto3 sends CRC32 by itself; without it, Coffer adds CRC-64/NVME as S3."""
        client = make_s3_client(coffer_server, request_checksum_calculation=checksum_mode)
        data = os.urandom(70000)
        client.put_object(Bucket=s3_bucket, Key="plain", Body=data)
        head = client.head_object(Bucket=s3_bucket, Key="plain", ChecksumMode="ENABLED")
        if checksum_mode == "when_supported":
            assert head["ChecksumCRC32"] == checksum_of("CRC32", data)
        else:
            assert head["ChecksumCRC64NVME"] == checksum_of("CRC64NVME", data)
        config = boto3.s3.transfer.TransferConfig(multipart_threshold=5 * MiB,
                                                  multipart_chunksize=5 * MiB)
        big = os.urandom(11 * MiB)
        client.upload_fileobj(io.BytesIO(big), s3_bucket, "big", Config=config)
        out = io.BytesIO()
        client.download_fileobj(s3_bucket, "big", out, Config=config)
        assert out.getvalue() == big
        copied = client.copy_object(Bucket=s3_bucket, Key="copy",
                                    CopySource={"Bucket": s3_bucket, "Key": "plain"},
                                    ChecksumAlgorithm="SHA256")
        assert copied["CopyObjectResult"]["ChecksumSHA256"] == checksum_of("SHA256", data)


class TestInterop:
    def test_object_written_by_boto3_is_read_by_cos_sdk(self, coffer_server, s3_client):
        bucket = "%s-%s" % (unique_name("interop", 12), APPID)
        s3_client.create_bucket(Bucket=bucket)
        cos = make_cos_client(coffer_server)
        try:
            s3_client.put_object(Bucket=bucket, Key="shared.txt", Body=b"both dialects",
                                 Metadata={"color": "blue"})
            head = cos.head_object(Bucket=bucket, Key="shared.txt")
            assert head["x-cos-meta-color"] == "blue"
            assert head["ETag"] == quoted_md5(b"both dialects")
            cos.put_object(Bucket=bucket, Key="from-cos.txt", Body=b"cos side",
                           Metadata={"x-cos-meta-shape": "round"})
            assert s3_client.head_object(Bucket=bucket, Key="from-cos.txt")["Metadata"] == {
                "shape": "round"}
            assert read(s3_client, bucket, "from-cos.txt") == b"cos side"
        finally:
            for key in ("shared.txt", "from-cos.txt"):
                s3_client.delete_object(Bucket=bucket, Key=key)
            s3_client.delete_bucket(Bucket=bucket)
