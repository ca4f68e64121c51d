"""Acceptance tests: coffer-sdk (the Rust SDK) and the official COS Python SDK against Coffer.

The Rust side is the `sdk_interop` example of crates/coffer-sdk, a small command-line tool
(built by scripts/test.sh, path in COFFER_SDK_INTEROP; the module is skipped without it):

  * client-side encryption (protocol §12): objects written by the Python SDK's
    CosEncryptionClient are read by the Rust CosEncryptionClient (whole and ranged) and the
    reverse, for the AESProvider and both RSAProvider flavours (PEM strings → PKCS#1 v1.5, key
    files → OAEP), including a multipart object whose parts Rust encrypts and sends in
    parallel, and one Python uploads part by part;
  * signatures (§4): get_auth and presigned URLs from Rust equal the Python SDK's byte for byte
    at a frozen clock, and the Rust presigned URLs and Authorization values are accepted by
    the server.
"""

import hashlib
import os
import subprocess
import time
import types
import urllib.parse
from pathlib import Path

import pytest
import requests
from qcloud_cos import CosS3Client
from qcloud_cos import cos_auth
from qcloud_cos.cos_encryption_client import CosEncryptionClient
from qcloud_cos.crypto import AESCTRCipher, AESProvider, RSAProvider

from coffer_harness import (APPID, REPO_ROOT, ROOT_SECRET_ID, ROOT_SECRET_KEY,
                            loopback_only_environment, make_cos_config, multipart_etag)

INTEROP = os.environ.get("COFFER_SDK_INTEROP")
pytestmark = pytest.mark.skipif(
    not INTEROP, reason="COFFER_SDK_INTEROP is not set: build it with "
                        "`cargo build --release -p coffer-sdk --example sdk_interop`")

MiB = 1024 * 1024
KEYS = REPO_ROOT / "crates" / "coffer-sdk" / "tests" / "interop" / "keys"
PUBLIC_PEM = KEYS / "rsa_public.pem"
PRIVATE_PEM = KEYS / "rsa_private.pem"
AES_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
PROVIDERS = ("aes", "rsa-pkcs1", "rsa-oaep")
# Ranges at odd offsets, within the first KiB and across the 16-byte blocks.
RANGES = [(0, 0), (1, 14), (13, 40), (15, 16), (17, 99), (31, 32), (333, 999)]


def pattern(n, seed):
    """Deterministic bytes that differ from block to block."""
    return bytes(((i * 7 + seed * 13 + 3) ^ (i >> 8)) % 256 for i in range(n))


def session():
    s = requests.Session()
    s.trust_env = False
    return s


# ----------------------------------------------------------------------------------------
# the two sides
# ----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def interop_binary():
    path = Path(INTEROP)
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.fail("COFFER_SDK_INTEROP=%s is not an executable file" % INTEROP, pytrace=False)
    return path


def run_rust(binary, server, *args):
    """Runs the Rust tool against `server`; returns the CompletedProcess."""
    env = loopback_only_environment()
    env.update({"COFFER_IP": "127.0.0.1", "COFFER_PORT": str(server.port),
                "COFFER_SECRET_ID": ROOT_SECRET_ID, "COFFER_SECRET_KEY": ROOT_SECRET_KEY,
                "COFFER_APPID": APPID})
    return subprocess.run([str(binary)] + [str(a) for a in args], env=env, capture_output=True,
                          text=True, timeout=300, stdin=subprocess.DEVNULL)


@pytest.fixture
def rust(coffer_server, interop_binary):
    """Runs the Rust tool against the session server; returns its stdout (stripped)."""
    def run(*args):
        result = run_rust(interop_binary, coffer_server, *args)
        assert result.returncode == 0, (
            "sdk_interop %s failed (%d):\n%s%s"
            % (" ".join(map(str, args)), result.returncode, result.stdout, result.stderr))
        return result.stdout.strip()

    return run


@pytest.fixture
def aes_key_file(tmp_path):
    path = tmp_path / "aes_key.pem"
    path.write_text(AES_KEY + "\n")
    return path


def key_args(kind, aes_key_file):
    """The Rust tool's provider arguments for `kind`."""
    if kind == "aes":
        return ["aes", aes_key_file]
    return [kind, PUBLIC_PEM, PRIVATE_PEM]


def python_provider(kind, aes_key_file):
    """The Python provider for `kind`, built the way that selects the same padding. Each gets
    its own AESCTRCipher: the SDK's default argument is one instance shared by all providers."""
    cipher = AESCTRCipher()
    if kind == "aes":
        return AESProvider(aes_key_path=str(aes_key_file), cipher=cipher)
    if kind == "rsa-pkcs1":
        pair = RSAProvider.get_rsa_key_pair(PUBLIC_PEM.read_text(), PRIVATE_PEM.read_text())
    else:
        pair = RSAProvider.get_rsa_key_pair_path(str(PUBLIC_PEM), str(PRIVATE_PEM))
    return RSAProvider(pair, cipher=cipher)


@pytest.fixture
def python_crypto(coffer_server, aes_key_file):
    """Factory: a Python CosEncryptionClient for a provider kind."""
    def make(kind):
        return CosEncryptionClient(make_cos_config(coffer_server),
                                   python_provider(kind, aes_key_file), session=session())
    return make


@pytest.fixture
def plain_client(coffer_server):
    return CosS3Client(make_cos_config(coffer_server), session=session())


def python_read(client, bucket, key, tmp_path, range_=None):
    """get_object through the Python encryption client, decrypted to a file."""
    kwargs = {"Range": "bytes=%d-%d" % range_} if range_ else {}
    response = client.get_object(Bucket=bucket, Key=key, **kwargs)
    out = tmp_path / "python-read.bin"
    response["Body"].get_stream_to_file(str(out))
    return out.read_bytes()


def rust_read(rust, args, bucket, key, tmp_path, range_=None):
    out = tmp_path / "rust-read.bin"
    extra = ["%d-%d" % range_] if range_ else []
    status, length = rust("get-encrypted", *args, bucket, key, out, *extra).split()
    assert status == ("206" if range_ else "200")
    data = out.read_bytes()
    assert int(length) == len(data)
    return data


def assert_stored_encrypted(plain_client, bucket, key, plaintext):
    """The object holds the two envelope headers and a ciphertext as long as the plaintext."""
    head = plain_client.head_object(Bucket=bucket, Key=key)
    assert "x-cos-meta-client-side-encryption-key" in head, head
    assert "x-cos-meta-client-side-encryption-iv" in head, head
    stored = plain_client.get_object(Bucket=bucket, Key=key)["Body"].get_raw_stream().read()
    assert len(stored) == len(plaintext)
    if len(plaintext) >= 8:
        assert stored != plaintext
    return stored


# ----------------------------------------------------------------------------------------
# client-side encryption
# ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", PROVIDERS)
class TestEncryptionInterop:
    def test_python_writes_rust_reads(self, kind, rust, python_crypto, plain_client, cos_bucket,
                                      aes_key_file, tmp_path):
        python = python_crypto(kind)
        args = key_args(kind, aes_key_file)
        for i, size in enumerate([1, 17, 1000, 300001]):
            data = pattern(size, i)
            key = "py/%s/%d" % (kind, size)
            python.put_object(Bucket=cos_bucket, Body=data, Key=key)
            assert_stored_encrypted(plain_client, cos_bucket, key, data)
            assert rust_read(rust, args, cos_bucket, key, tmp_path) == data, key
            if size >= 1000:
                for first, last in RANGES:
                    got = rust_read(rust, args, cos_bucket, key, tmp_path, (first, last))
                    assert got == data[first:last + 1], (key, first, last)
        got = rust_read(rust, args, cos_bucket, "py/%s/300001" % kind, tmp_path,
                        (262141, 300000))
        assert got == pattern(300001, 3)[262141:]

    def test_rust_writes_python_reads(self, kind, rust, python_crypto, plain_client, cos_bucket,
                                      aes_key_file, tmp_path):
        python = python_crypto(kind)
        args = key_args(kind, aes_key_file)
        for i, size in enumerate([1, 44, 1000, 700001]):
            data = pattern(size, 10 + i)
            source = tmp_path / ("rust-%d.bin" % size)
            source.write_bytes(data)
            key = "rs/%s/%d" % (kind, size)
            etag, parts = rust("put-encrypted", *args, cos_bucket, key, source).split()
            assert parts == "0"
            stored = assert_stored_encrypted(plain_client, cos_bucket, key, data)
            assert etag == '"%s"' % hashlib.md5(stored).hexdigest()
            assert python_read(python, cos_bucket, key, tmp_path) == data, key
            if size >= 1000:
                for first, last in RANGES:
                    got = python_read(python, cos_bucket, key, tmp_path, (first, last))
                    assert got == data[first:last + 1], (key, first, last)

    def test_rust_parallel_multipart_python_reads(self, kind, rust, python_crypto, plain_client,
                                                  cos_bucket, aes_key_file, tmp_path):
        python = python_crypto(kind)
        args = key_args(kind, aes_key_file)
        data = pattern(3 * MiB + 12345, 21)
        source = tmp_path / "multipart.bin"
        source.write_bytes(data)
        key = "rs/%s/multipart" % kind
        etag, parts = rust("put-encrypted", *args, cos_bucket, key, source, MiB, 4).split()
        assert parts == "4"
        stored = assert_stored_encrypted(plain_client, cos_bucket, key, data)
        assert etag == multipart_etag([stored[i:i + MiB] for i in range(0, len(stored), MiB)])
        assert python_read(python, cos_bucket, key, tmp_path) == data
        for first, last in [(MiB - 7, MiB + 9), (2 * MiB + 1, 3 * MiB + 100), (5, 17)]:
            got = python_read(python, cos_bucket, key, tmp_path, (first, last))
            assert got == data[first:last + 1], (first, last)
        # And Rust reads its own multipart object back, across a part boundary.
        got = rust_read(rust, args, cos_bucket, key, tmp_path, (2 * MiB - 3, 2 * MiB + 3))
        assert got == data[2 * MiB - 3:2 * MiB + 4]

    def test_python_multipart_rust_reads(self, kind, rust, python_crypto, cos_bucket,
                                         aes_key_file, tmp_path):
        """Python uploads parts in order, one at a time (its parts share one keystream)."""
        python = python_crypto(kind)
        args = key_args(kind, aes_key_file)
        data = pattern(2 * MiB + 100, 31)
        key = "py/%s/multipart" % kind
        upload = python.create_multipart_upload(Bucket=cos_bucket, Key=key)
        parts = []
        for number, start in enumerate(range(0, len(data), MiB), start=1):
            response = python.upload_part(Bucket=cos_bucket, Key=key, Body=data[start:start + MiB],
                                          PartNumber=number, UploadId=upload["UploadId"])
            parts.append({"PartNumber": number, "ETag": response["ETag"]})
        python.complete_multipart_upload(Bucket=cos_bucket, Key=key, UploadId=upload["UploadId"],
                                         MultipartUpload={"Part": parts})
        assert rust_read(rust, args, cos_bucket, key, tmp_path) == data
        got = rust_read(rust, args, cos_bucket, key, tmp_path, (MiB - 1, 2 * MiB + 50))
        assert got == data[MiB - 1:2 * MiB + 51]


def test_rust_refuses_an_unencrypted_object(plain_client, cos_bucket, aes_key_file,
                                            interop_binary, coffer_server, tmp_path):
    plain_client.put_object(Bucket=cos_bucket, Body=b"plain text", Key="plain")
    result = run_rust(interop_binary, coffer_server, "get-encrypted", "aes", aes_key_file,
                      cos_bucket, "plain", tmp_path / "out")
    assert result.returncode == 1, result
    assert "not a client-side encrypted object" in result.stderr, result.stderr
    assert not (tmp_path / "out").exists()


# ----------------------------------------------------------------------------------------
# signatures
# ----------------------------------------------------------------------------------------

FROZEN = 1700000000
SIGN_BUCKET = "examplebucket-%s" % APPID
# (method, key, expire, params, headers)
SIGN_CASES = [
    ("GET", "exampleobject", 300, {}, {}),
    ("GET", "a/b c.txt", 120, {"response-content-type": "text/plain"}, {}),
    ("PUT", "dir/中文 file+name.txt", 3600,
     {"partNumber": "1", "uploadId": "1585130821cbb7df1d11846c073ad648e8f33b087cec2381df437acdc"},
     {"Content-Type": "text/plain", "Content-MD5": "1B2M2Y8AsgTpgAmY7PhCfg==",
      "x-cos-meta-Author": "Alice Smith", "X-Unsigned": "ignored"}),
    ("GET", "/", 60, {"prefix": "a b/", "max-keys": "10", "delimiter": "/"}, {}),
    ("DELETE", "/", 60, {"cors": ""}, {}),
    ("HEAD", "weird key ~!*'();:@&=+$,?#[]%20.txt", 10000, {"versionId": "v 1+2"}, {}),
    ("POST", "k", 300, {"uploads": ""}, {"x-cos-storage-class": "STANDARD_IA"}),
]


def rust_sign_args(method, key, expire, params, headers):
    args = [method, SIGN_BUCKET, key, FROZEN, expire]
    args += ["%s=%s" % item for item in params.items()]
    args += ["header:%s=%s" % item for item in headers.items()]
    return args


@pytest.fixture
def frozen_python_signer(coffer_server, monkeypatch):
    """A Python client without IP (the URL names the bucket's COS host, as Rust's), its
    signer's clock frozen at FROZEN."""
    monkeypatch.setattr(cos_auth, "time", types.SimpleNamespace(time=lambda: FROZEN))
    return CosS3Client(make_cos_config(coffer_server, mode="plain"), session=session())


@pytest.mark.parametrize("method,key,expire,params,headers", SIGN_CASES)
def test_get_auth_equals_python(rust, frozen_python_signer, method, key, expire, params,
                                headers):
    expected = frozen_python_signer.get_auth(Method=method, Bucket=SIGN_BUCKET, Key=key,
                                             Expired=expire, Params=dict(params),
                                             Headers=dict(headers))
    assert rust("get-auth", *rust_sign_args(method, key, expire, params, headers)) == expected


@pytest.mark.parametrize("method,key,expire,params,headers", SIGN_CASES)
def test_presigned_url_equals_python(rust, frozen_python_signer, method, key, expire, params,
                                     headers):
    expected = frozen_python_signer.get_presigned_url(Bucket=SIGN_BUCKET, Key=key, Method=method,
                                                      Expired=expire, Params=dict(params),
                                                      Headers=dict(headers))
    assert rust("presign", *rust_sign_args(method, key, expire, params, headers)) == expected


def test_rust_signatures_are_accepted(rust, coffer_server, plain_client, cos_bucket):
    key = "dir/中文 a+b.txt"
    plain_client.put_object(Bucket=cos_bucket, Body=b"signed by rust", Key=key)
    now = int(time.time())

    # Path-style presigned URL of the IP-configured client: straight to the server.
    url = rust("presign-ip", "GET", cos_bucket, key, now, 300)
    assert url.startswith("%s/%s/" % (coffer_server.endpoint, cos_bucket)), url
    response = session().get(url)
    assert response.status_code == 200, response.text
    assert response.content == b"signed by rust"

    url = rust("presign-ip", "PUT", cos_bucket, "uploaded.bin", now, 300)
    response = session().put(url, data=b"via rust presigned put")
    assert response.status_code == 200, response.text
    body = plain_client.get_object(Bucket=cos_bucket, Key="uploaded.bin")["Body"]
    assert body.get_raw_stream().read() == b"via rust presigned put"

    # Virtual-host presigned URL (as Python's): sent to the server with its Host header.
    url = rust("presign", "GET", cos_bucket, key, now, 300, "response-content-type=text/x-rust")
    parts = urllib.parse.urlsplit(url)
    assert parts.netloc == coffer_server.cos_host(cos_bucket)
    local = urllib.parse.urlunsplit(("http", coffer_server.address, parts.path, parts.query, ""))
    response = session().get(local, headers={"Host": parts.netloc})
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "text/x-rust"

    # get_auth: an Authorization header someone else sends.
    authorization = rust("get-auth", "GET", cos_bucket, key, now, 300)
    response = session().get(coffer_server.endpoint + "/" + urllib.parse.quote(key),
                             headers={"Host": coffer_server.cos_host(cos_bucket),
                                      "Authorization": authorization})
    assert response.status_code == 200, response.text
    assert response.content == b"signed by rust"

    # A signature for another key is refused.
    url = rust("presign-ip", "GET", cos_bucket, "other", now, 300)
    response = session().get(url.replace("/other?", "/%s?" % urllib.parse.quote(key)))
    assert response.status_code == 403, response.text
