"""Acceptance tests: two accounts on one server, through the COS SDK and boto3.

A second account is created with `coffer admin user create` on the data directory before the
server starts (this module runs its own server). Each account sees only its own buckets and
cannot read or write the other's private data; public-read buckets are readable by anyone.
"""

import pytest
from qcloud_cos import CosServiceError

import botocore.exceptions
from coffer_harness import (APPID, CofferServer, cos_bucket_name, empty_cos_bucket,
                            make_cos_client, make_s3_client, unique_name)

OTHER_SECRET_ID = "AKIDcofferAcceptanceOther000000000002"
OTHER_SECRET_KEY = "cofferAcceptanceOtherSecretKey00000002"
OTHER_APPID = "1250000002"


@pytest.fixture(scope="module")
def two_account_server(tmp_path_factory):
    base = tmp_path_factory.mktemp("accounts")
    server = CofferServer(base / "data", base / "server.log")
    try:
        server.admin("user", "create", "--secret-id", OTHER_SECRET_ID, "--secret-key",
                     OTHER_SECRET_KEY, "--appid", OTHER_APPID)
        server.start()
    except RuntimeError as error:
        pytest.fail(str(error), pytrace=False)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def root(two_account_server):
    return make_cos_client(two_account_server)


@pytest.fixture(scope="module")
def other(two_account_server):
    return make_cos_client(two_account_server, secret_id=OTHER_SECRET_ID,
                           secret_key=OTHER_SECRET_KEY)


@pytest.fixture
def root_bucket(root):
    name = cos_bucket_name("root")
    root.create_bucket(Bucket=name)
    yield name
    empty_cos_bucket(root, name)
    root.delete_bucket(Bucket=name)


@pytest.fixture
def other_bucket(other):
    name = "%s-%s" % (unique_name("other", 20), OTHER_APPID)
    other.create_bucket(Bucket=name)
    yield name
    empty_cos_bucket(other, name)
    other.delete_bucket(Bucket=name)


def denied(call, **kwargs):
    with pytest.raises(CosServiceError) as caught:
        call(**kwargs)
    return caught.value


def test_list_buckets_shows_only_own_buckets(two_account_server, root_bucket, other_bucket):
    root_view = make_cos_client(two_account_server, mode="proxy").list_buckets()
    other_view = make_cos_client(two_account_server, mode="proxy", secret_id=OTHER_SECRET_ID,
                                 secret_key=OTHER_SECRET_KEY).list_buckets()
    root_names = [b["Name"] for b in (root_view["Buckets"] or {"Bucket": []})["Bucket"]]
    other_names = [b["Name"] for b in (other_view["Buckets"] or {"Bucket": []})["Bucket"]]
    assert root_bucket in root_names and other_bucket not in root_names
    assert other_bucket in other_names and root_bucket not in other_names
    assert root_view["Owner"]["ID"] != other_view["Owner"]["ID"]


def test_private_bucket_is_closed_to_the_other_account(root, other, root_bucket):
    root.put_object(Bucket=root_bucket, Key="secret.txt", Body=b"root only")
    error = denied(other.get_object, Bucket=root_bucket, Key="secret.txt")
    assert error.get_status_code() == 403 and error.get_error_code() == "AccessDenied", (
        error.get_origin_msg())
    error = denied(other.put_object, Bucket=root_bucket, Key="planted.txt", Body=b"x")
    assert error.get_status_code() == 403 and error.get_error_code() == "AccessDenied"
    error = denied(other.list_objects, Bucket=root_bucket)
    assert error.get_status_code() == 403 and error.get_error_code() == "AccessDenied"
    error = denied(other.delete_object, Bucket=root_bucket, Key="secret.txt")
    assert error.get_status_code() == 403
    error = denied(other.delete_bucket, Bucket=root_bucket)
    assert error.get_status_code() == 403
    assert root.get_object(Bucket=root_bucket, Key="secret.txt")["Body"].get_raw_stream().read() \
        == b"root only"
    assert root.object_exists(root_bucket, "planted.txt") is False


def test_copy_from_a_foreign_private_bucket_is_denied(root, other, root_bucket, other_bucket):
    root.put_object(Bucket=root_bucket, Key="secret.txt", Body=b"root only")
    error = denied(other.copy_object, Bucket=other_bucket, Key="stolen.txt", CopySource={
        "Bucket": root_bucket, "Key": "secret.txt", "Region": "ap-guangzhou"})
    assert error.get_status_code() == 403, error.get_origin_msg()
    assert other.object_exists(other_bucket, "stolen.txt") is False


def test_public_read_bucket_is_readable_by_the_other_account(root, other):
    name = cos_bucket_name("public")
    root.create_bucket(Bucket=name, ACL="public-read")
    try:
        root.put_object(Bucket=name, Key="open.txt", Body=b"for everyone")
        body = other.get_object(Bucket=name, Key="open.txt")["Body"].get_raw_stream().read()
        assert body == b"for everyone"
        error = denied(other.put_object, Bucket=name, Key="vandal.txt", Body=b"x")
        assert error.get_status_code() == 403
    finally:
        empty_cos_bucket(root, name)
        root.delete_bucket(Bucket=name)


def test_cos_bucket_with_another_accounts_appid_is_refused(other):
    name = cos_bucket_name("foreign")  # ends in the root account's APPID
    try:
        error = denied(other.create_bucket, Bucket=name)
    finally:
        if other.bucket_exists(name):
            other.delete_bucket(Bucket=name)
    assert error.get_status_code() in (400, 403), error.get_origin_msg()
    assert name.endswith("-" + APPID)


def test_bucket_names_are_one_namespace_for_s3_clients(two_account_server):
    root_s3 = make_s3_client(two_account_server)
    other_s3 = make_s3_client(two_account_server, access_key=OTHER_SECRET_ID,
                              secret_key=OTHER_SECRET_KEY)
    name = unique_name("shared-name")
    root_s3.create_bucket(Bucket=name)
    try:
        with pytest.raises(botocore.exceptions.ClientError) as caught:
            other_s3.create_bucket(Bucket=name)
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
        assert caught.value.response["Error"]["Code"] == "BucketAlreadyExists"
        with pytest.raises(botocore.exceptions.ClientError) as caught:
            other_s3.put_object(Bucket=name, Key="k", Body=b"x")
        assert caught.value.response["Error"]["Code"] == "AccessDenied"
    finally:
        root_s3.delete_bucket(Bucket=name)
