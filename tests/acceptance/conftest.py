"""Fixtures for the Coffer acceptance suite.

One `coffer serve` process is started per test session on a free loopback port with a
temporary data directory and fixed root credentials; every client fixture talks to it.
(The crash tests start their own private server, see test_crash.py.)

Clients:
  * ``cos_client``        CosS3Client pointed at the server with IP/Port (Host carries the bucket)
  * ``cos_proxy_client``  CosS3Client without IP, using the server as an HTTP proxy: requests go out
                          in absolute form to the real COS host names. Needed for list_buckets,
                          the advanced copy() (its source HEAD ignores IP), presigned URLs and get_auth.
  * ``cos_anonymous_client``, ``cos_client_with`` (other credentials)
  * ``s3_client``         boto3, path-style, SigV4, no retries.
"""

import atexit
import collections
import os
import re
import threading
import uuid

import boto3
import botocore.config
import pytest
import requests

import coffer_harness
from coffer_harness import (APPID, REGION, ROOT_SECRET_ID, ROOT_SECRET_KEY, CofferServer,
                            kill_all_servers)

# No test may send traffic anywhere but loopback: drop proxy settings for this process and
# for every subprocess it starts.
for _name in list(os.environ):
    if _name.lower().endswith("_proxy") and _name.lower() != "no_proxy":
        del os.environ[_name]
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")

atexit.register(kill_all_servers)

_SESSION_SERVER = {}


def pytest_sessionfinish(session, exitstatus):
    kill_all_servers()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Attach the tail of the server log to every failing test report."""
    outcome = yield
    report = outcome.get_result()
    if report.failed and call.when in ("setup", "call"):
        server = _SESSION_SERVER.get("server")
        if server is not None:
            report.sections.append(("coffer server log (tail)", server.log_tail(40)))


# ----------------------------------------------------------------------------------------
# The server
# ----------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def coffer_server(tmp_path_factory):
    """The shared server for all client tests of this session."""
    base = tmp_path_factory.mktemp("coffer")
    server = CofferServer(base / "data", base / "server.log")
    try:
        server.start()
    except RuntimeError as error:
        pytest.fail(str(error), pytrace=False)
    _SESSION_SERVER["server"] = server
    yield server
    _SESSION_SERVER.pop("server", None)
    server.stop()


# ----------------------------------------------------------------------------------------
# Bucket names
# ----------------------------------------------------------------------------------------

def _slug(text, limit):
    text = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    text = text[:limit].strip("-")
    return text or "t"


def unique_name(hint="t", limit=24):
    """A bucket-name stem valid for both COS (before -appid) and S3."""
    return "acc-%s-%s" % (_slug(hint, limit), uuid.uuid4().hex[:8])


def cos_bucket_name(hint="t"):
    return "%s-%s" % (unique_name(hint, 20), APPID)


# ----------------------------------------------------------------------------------------
# COS SDK clients
# ----------------------------------------------------------------------------------------

class RecordingSession(requests.Session):
    """A requests session that remembers the responses it received.

    The COS SDK accepts an optional `session`; recording lets a test look at what came over
    the wire (status, exact header spelling) without touching the SDK itself.
    """

    def __init__(self):
        super().__init__()
        self.trust_env = False
        self._local = threading.local()
        self.history = collections.deque(maxlen=500)
        self.hooks["response"].append(self._remember)
        adapter = requests.adapters.HTTPAdapter(pool_connections=20, pool_maxsize=20)
        self.mount("http://", adapter)

    def _remember(self, response, *args, **kwargs):
        self._local.last = response
        self.history.append(response)
        return response

    def last(self):
        """The last response received on the calling thread."""
        return getattr(self._local, "last", None)


def _cos_sdk():
    from qcloud_cos import CosConfig, CosS3Client
    return CosConfig, CosS3Client


def make_cos_client(server, secret_id=ROOT_SECRET_ID, secret_key=ROOT_SECRET_KEY,
                    anonymous=False, proxy=False, session=None, **config):
    """A CosS3Client for the server, via IP/Port (default) or via the proxy trick."""
    CosConfig, CosS3Client = _cos_sdk()
    options = dict(Region=REGION, Scheme="http")
    if anonymous:
        options["Anonymous"] = True
    else:
        options.update(SecretId=secret_id, SecretKey=secret_key)
    if proxy:
        options["Proxies"] = {"http": server.endpoint}
    else:
        options.update(IP="127.0.0.1", Port=server.port)
    options.update(config)
    return CosS3Client(CosConfig(**options), session=session or RecordingSession())


@pytest.fixture(scope="session")
def cos_recorder():
    return RecordingSession()


@pytest.fixture(scope="session")
def cos_client(coffer_server, cos_recorder):
    return make_cos_client(coffer_server, session=cos_recorder)


@pytest.fixture(scope="session")
def cos_proxy_client(coffer_server):
    return make_cos_client(coffer_server, proxy=True)


@pytest.fixture(scope="session")
def cos_anonymous_client(coffer_server):
    return make_cos_client(coffer_server, anonymous=True)


@pytest.fixture(scope="session")
def cos_client_with(coffer_server):
    """Factory: a COS client with other credentials (wrong key, unknown id…)."""
    def factory(secret_id, secret_key, **config):
        return make_cos_client(coffer_server, secret_id=secret_id, secret_key=secret_key, **config)
    return factory


def empty_cos_bucket(client, bucket):
    """Delete every object and abort every multipart upload in a COS bucket."""
    while True:
        listing = client.list_objects(Bucket=bucket, MaxKeys=1000)
        contents = listing.get("Contents", [])
        if contents:
            client.delete_objects(Bucket=bucket, Delete={
                "Object": [{"Key": item["Key"]} for item in contents], "Quiet": "true"})
        if listing.get("IsTruncated") != "true" or not contents:
            break
    uploads = client.list_multipart_uploads(Bucket=bucket).get("Upload", [])
    for upload in uploads:
        client.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])


@pytest.fixture
def make_cos_bucket(cos_client, request):
    """Factory creating COS buckets (name-appid) that are emptied and deleted afterwards."""
    created = []

    def factory(hint=None, **kwargs):
        name = cos_bucket_name(hint or request.node.name)
        cos_client.create_bucket(Bucket=name, **kwargs)
        created.append(name)
        return name

    yield factory
    for name in reversed(created):
        try:
            empty_cos_bucket(cos_client, name)
            cos_client.delete_bucket(Bucket=name)
        except Exception as error:  # noqa: BLE001 - cleanup must not mask the test result
            print("cleanup of COS bucket %s failed: %r" % (name, error))


@pytest.fixture
def cos_bucket(make_cos_bucket):
    """A fresh, empty, private COS bucket for one test."""
    return make_cos_bucket()


# ----------------------------------------------------------------------------------------
# boto3
# ----------------------------------------------------------------------------------------

def make_s3_client(server, access_key=ROOT_SECRET_ID, secret_key=ROOT_SECRET_KEY,
                   region="us-east-1", **config):
    options = dict(s3={"addressing_style": "path"}, signature_version="s3v4",
                   retries={"max_attempts": 1})
    options.update(config)
    return boto3.session.Session().client(
        "s3", endpoint_url=server.endpoint, region_name=region,
        aws_access_key_id=access_key, aws_secret_access_key=secret_key,
        config=botocore.config.Config(**options))


@pytest.fixture(scope="session")
def s3_client(coffer_server):
    return make_s3_client(coffer_server)


@pytest.fixture(scope="session")
def s3_client_with(coffer_server):
    def factory(access_key, secret_key, **config):
        return make_s3_client(coffer_server, access_key, secret_key, **config)
    return factory


def empty_s3_bucket(client, bucket):
    paginator = client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket):
        keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
        if keys:
            client.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
    uploads = client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    for upload in uploads:
        client.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])


@pytest.fixture
def make_s3_bucket(s3_client, request):
    created = []

    def factory(hint=None):
        name = unique_name(hint or request.node.name, 30)
        s3_client.create_bucket(Bucket=name)
        created.append(name)
        return name

    yield factory
    for name in reversed(created):
        try:
            empty_s3_bucket(s3_client, name)
            s3_client.delete_bucket(Bucket=name)
        except Exception as error:  # noqa: BLE001
            print("cleanup of S3 bucket %s failed: %r" % (name, error))


@pytest.fixture
def s3_bucket(make_s3_bucket):
    return make_s3_bucket()


@pytest.fixture
def random_bytes():
    """Factory for reproducible pseudo-random payloads."""
    import random

    def factory(size, seed=None):
        rng = random.Random(seed if seed is not None else size)
        return rng.randbytes(size)
    return factory


__all__ = ["coffer_harness"]
