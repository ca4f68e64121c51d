#!/usr/bin/env python3
"""Interop vectors between coffer-sdk's `crypto` module and the official COS Python SDK.

Runs the Python SDK's own `CosEncryptionClient` (cos-python-sdk-v5 1.9.44) OFFLINE: the HTTP
layer (CosS3Client.put_object / head_object / create_multipart_upload / upload_part /
complete_multipart_upload / send_request) is replaced by an in-memory store, so everything the
encryption client itself does — key generation, AESProvider / RSAProvider wrapping, MetaHandle,
DataEncryptAdapter, the Range rounding and DataDecryptAdapter of get_object — is the SDK's code.

    python3 python_vectors.py generate > python_vectors.json
        Encrypts fixed plaintexts with every provider kind (put_object and a 3-part multipart
        upload), checks the SDK's own round trip (full and ranged get_object), checks the
        protocol reference's §12.2 vector through the SDK, and prints the objects as JSON.
        tests/crypto_interop.rs embeds that file: Rust must decrypt every object, reproduce
        every ciphertext and (AES) every envelope byte for byte.

    cargo run -p coffer-sdk --example crypto_interop_vectors > /tmp/rust_vectors.json
    python3 python_vectors.py verify /tmp/rust_vectors.json
        Decrypts the objects coffer-sdk wrote (full and ranged get_object through the SDK).

JSON: {"producer": str, "cases": [{"name", "provider", "headers": {header: value},
"ciphertext": b64, either "plaintext": b64 or "plaintext_len" + "plaintext_seed" (the
plaintext is then pattern(len, seed): byte i = (7 i + 13 seed + 3) mod 256), and for multipart
objects "part_lens": [int]}]}. Provider names: see make_provider().
"""

import base64
import hashlib
import io
import json
import os
import sys
import tempfile
from urllib.parse import unquote, urlparse

import qcloud_cos.crypto as sdk_crypto
from qcloud_cos import CosConfig, CosS3Client
from qcloud_cos.cos_comm import mapped
from qcloud_cos.cos_encryption_client import CosEncryptionClient
from qcloud_cos.crypto import AESCTRCipher, AESProvider, RSAProvider

HERE = os.path.dirname(os.path.abspath(__file__))
KEYS = os.path.join(HERE, "keys")
BUCKET = "interop-1250000000"
HEADER_KEY = "x-cos-meta-client-side-encryption-key"
HEADER_IV = "x-cos-meta-client-side-encryption-iv"

# Master keys: bytes 0x00.. of each AES size (the 32-byte one is the §12.2 vector's).
AES_KEYS = {n: base64.b64encode(bytes(range(n))).decode() for n in (16, 24, 32)}
PLAINTEXT_LENS = [1, 15, 16, 17, 44, 100, 1000]
LONG_LEN = 8200  # more than one of http.client's 8192-byte body reads; AES-256 and OAEP only
MULTIPART_LENS = [32, 48, 1040, 13]
RANGES = [(0, 0), (1, 14), (13, 40), (15, 16), (16, 31), (17, 99), (31, 32)]


def b64(data):
    return base64.b64encode(data).decode()


def pattern(n, seed):
    return bytes((i * 7 + seed * 13 + 3) % 256 for i in range(n))


def case_plaintext(case):
    if "plaintext" in case:
        return base64.b64decode(case["plaintext"])
    return pattern(case["plaintext_len"], case["plaintext_seed"])


def make_provider(name, tmp):
    """A fresh Python provider for `name` (each with its own AESCTRCipher: the SDK's default
    argument `cipher=AESCTRCipher()` is ONE instance shared by every provider)."""
    cipher = AESCTRCipher()
    if name in ("aes128", "aes192", "aes256"):
        return AESProvider(aes_key=AES_KEYS[{"aes128": 16, "aes192": 24, "aes256": 32}[name]],
                           cipher=cipher)
    if name == "aes256_file":
        path = os.path.join(tmp, "aes_key.pem")
        with open(path, "w") as f:
            f.write(AES_KEYS[32] + "\n")  # trailing newline: b64decode ignores it
        return AESProvider(aes_key_path=path, cipher=cipher)
    if name == "rsa_pkcs1v15":  # PEM strings -> PKCS#1 v1.5
        with open(os.path.join(KEYS, "rsa_public.pem")) as f:
            public = f.read()
        with open(os.path.join(KEYS, "rsa_private.pem")) as f:
            private = f.read()
        return RSAProvider(key_pair_info=RSAProvider.get_rsa_key_pair(public, private), cipher=cipher)
    if name == "rsa_oaep":  # PEM files -> OAEP-SHA1
        pair = RSAProvider.get_rsa_key_pair_path(os.path.join(KEYS, "rsa_public.pem"),
                                                 os.path.join(KEYS, "rsa_private.pem"))
        return RSAProvider(key_pair_info=pair, cipher=cipher)
    if name == "rsa_oaep_pkcs8":  # same key pair, PKCS#8 private + PKCS#1 public files
        pair = RSAProvider.get_rsa_key_pair_path(os.path.join(KEYS, "rsa_public_pkcs1.pem"),
                                                 os.path.join(KEYS, "rsa_private_pkcs8.pem"))
        return RSAProvider(key_pair_info=pair, cipher=cipher)
    raise ValueError(name)


PROVIDERS = ["aes256", "aes192", "aes128", "aes256_file", "rsa_pkcs1v15", "rsa_oaep", "rsa_oaep_pkcs8"]


class FakeResponse:
    """Just enough of a requests.Response for StreamBody / DataDecryptAdapter."""

    def __init__(self, body):
        self.headers = {"Content-Length": str(len(body))}
        self._stream = io.BytesIO(body)
        self.status_code = 206

    def iter_content(self, chunk_size):
        while True:
            chunk = self._stream.read(chunk_size)
            if not chunk:
                return
            yield chunk


def drain(body, chunk=8192):
    """Reads a request body the way http.client sends one (8192-byte blocks)."""
    if isinstance(body, bytes):
        return body
    out = b""
    while True:
        data = body.read(chunk)
        if not data:
            return out
        out += data


class FakeCos(CosS3Client):
    """In-memory stand-in for the HTTP calls CosEncryptionClient makes."""

    objects = {}
    uploads = {}

    def put_object(self, Bucket, Body, Key, EnableMD5=False, **kwargs):
        headers = {k: v.decode() if isinstance(v, bytes) else v for k, v in mapped(kwargs).items()}
        FakeCos.objects[Key] = (headers, drain(Body))
        return {"ETag": '"%s"' % hashlib.md5(FakeCos.objects[Key][1]).hexdigest()}

    def head_object(self, Bucket, Key, **kwargs):
        headers, body = FakeCos.objects[Key]
        return dict(headers, **{"Content-Length": str(len(body))})

    def send_request(self, method, url, bucket=None, timeout=30, **kwargs):
        assert method == "GET", method
        key = unquote(urlparse(url).path.lstrip("/"))
        body = FakeCos.objects[key][1]
        rng = kwargs.get("headers", {}).get("Range")
        if rng:
            first, last = rng.replace("bytes=", "").split("-")
            body = body[int(first):int(last) + 1]
        return FakeResponse(body)

    def create_multipart_upload(self, Bucket, Key, **kwargs):
        upload_id = "upload-%d" % len(FakeCos.uploads)
        headers = {k: v.decode() if isinstance(v, bytes) else v for k, v in mapped(kwargs).items()}
        FakeCos.uploads[upload_id] = (Key, headers, {})
        return {"UploadId": upload_id}

    def upload_part(self, Bucket, Key, Body, PartNumber, UploadId, EnableMD5=False, **kwargs):
        FakeCos.uploads[UploadId][2][PartNumber] = drain(Body)
        return {"ETag": '"%s"' % hashlib.md5(FakeCos.uploads[UploadId][2][PartNumber]).hexdigest()}

    def complete_multipart_upload(self, Bucket, Key, UploadId, MultipartUpload=None, **kwargs):
        key, headers, parts = FakeCos.uploads.pop(UploadId)
        FakeCos.objects[key] = (headers, b"".join(parts[n] for n in sorted(parts)))
        return {"Key": key}


class OfflineEncryptionClient(CosEncryptionClient, FakeCos):
    """MRO: OfflineEncryptionClient, CosEncryptionClient, FakeCos, CosS3Client — so the
    encryption client's `super().put_object(...)` etc. land in FakeCos."""


def client(provider):
    conf = CosConfig(Region="ap-guangzhou", SecretId="AKIDoffline", SecretKey="offline")
    return OfflineEncryptionClient(conf, provider)


def sdk_get(cli, key, rng=None):
    """get_object through the SDK (Range rounding + DataDecryptAdapter), body read like
    get_stream_to_file does."""
    kwargs = {"Range": "bytes=%d-%d" % rng} if rng else {}
    resp = cli.get_object(Bucket=BUCKET, Key=key, **kwargs)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "out")
        resp["Body"].get_stream_to_file(path, disable_tmp_file=True)
        with open(path, "rb") as f:
            return f.read()


def check_reads(cli, key, plaintext, failures, label):
    """Full and ranged get_object through the SDK; returns the number of checks."""
    checks = 0
    got = sdk_get(cli, key)
    checks += 1
    if got != plaintext:
        failures.append("%s: full get_object differs" % label)
    for first, last in RANGES:
        if last >= len(plaintext):
            continue
        checks += 1
        got = sdk_get(cli, key, (first, last))
        if got != plaintext[first:last + 1]:
            failures.append("%s: get_object bytes=%d-%d differs" % (label, first, last))
    return checks


def generate():
    cases, failures, checks = [], [], 0
    with tempfile.TemporaryDirectory() as tmp:
        # §12.2 vector through the SDK's put_object, with its key/IV generators pinned.
        saved = sdk_crypto.random_key, sdk_crypto.random_iv
        sdk_crypto.random_key = lambda n: b"\x11" * n
        sdk_crypto.random_iv = lambda: bytes.fromhex("000102030405060708090a0b0c0dfffe")
        try:
            cli = client(make_provider("aes256", tmp))
            plaintext = b"The quick brown fox jumps over the lazy dog."
            cli.put_object(Bucket=BUCKET, Body=plaintext, Key="spec-vector")
        finally:
            sdk_crypto.random_key, sdk_crypto.random_iv = saved
        headers, ciphertext = FakeCos.objects["spec-vector"]
        checks += 1
        if (headers[HEADER_KEY] != "44ERpztYjsG44ot7zD9mkeFMZ79bqI70t+eKIFnTJyw="
                or headers[HEADER_IV] != "Dr233bEphboAoaM+FCFuZw=="
                or ciphertext.hex() != "90f1d027008f2bbca8915dd274af331595c7a201ce603dc2"
                                       "f17aa2df092b97286b9bc9fab334b7cf85f7f3da"):
            failures.append("spec vector: SDK output differs from cos-protocol.md §12.2")
        checks += check_reads(cli, "spec-vector", plaintext, failures, "spec-vector")
        cases.append({"name": "spec-vector", "provider": "aes256", "headers": headers,
                      "plaintext": b64(plaintext), "ciphertext": b64(ciphertext)})

        for pi, name in enumerate(PROVIDERS):
            cli = client(make_provider(name, tmp))
            lens = PLAINTEXT_LENS + ([LONG_LEN] if name in ("aes256", "rsa_oaep") else [])
            for n in lens:
                key = "%s/put-%d" % (name, n)
                plaintext = pattern(n, pi)
                cli.put_object(Bucket=BUCKET, Body=plaintext, Key=key, EnableMD5=False)
                headers, ciphertext = FakeCos.objects[key]
                checks += check_reads(cli, key, plaintext, failures, key)
                cases.append({"name": key, "provider": name, "headers": headers,
                              "plaintext_len": n, "plaintext_seed": pi,
                              "ciphertext": b64(ciphertext)})
            # Multipart: parts strictly in order (the SDK shares one keystream between them).
            key = "%s/multipart" % name
            plaintext = pattern(sum(MULTIPART_LENS), pi + 100)
            upload_id = cli.create_multipart_upload(Bucket=BUCKET, Key=key)["UploadId"]
            offset = 0
            for number, size in enumerate(MULTIPART_LENS, start=1):
                cli.upload_part(Bucket=BUCKET, Key=key, Body=plaintext[offset:offset + size],
                                PartNumber=number, UploadId=upload_id)
                offset += size
            cli.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload_id,
                                          MultipartUpload={"Part": []})
            headers, ciphertext = FakeCos.objects[key]
            checks += check_reads(cli, key, plaintext, failures, key)
            cases.append({"name": key, "provider": name, "headers": headers,
                          "plaintext_len": len(plaintext), "plaintext_seed": pi + 100,
                          "ciphertext": b64(ciphertext), "part_lens": MULTIPART_LENS})

    report(checks, failures)
    json.dump({"producer": "cos-python-sdk-v5 1.9.44 CosEncryptionClient (offline)",
               "cases": cases}, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
    return not failures


def verify(path):
    with open(path) as f:
        data = json.load(f)
    failures, checks = [], 0
    with tempfile.TemporaryDirectory() as tmp:
        for case in data["cases"]:
            key = "rust/" + case["name"]
            ciphertext = base64.b64decode(case["ciphertext"])
            plaintext = case_plaintext(case)
            headers = dict(case["headers"])
            FakeCos.objects[key] = (headers, ciphertext)
            try:
                cli = client(make_provider(case["provider"], tmp))
                checks += check_reads(cli, key, plaintext, failures, key)
            except Exception as e:  # noqa: BLE001 - report and go on
                checks += 1
                failures.append("%s: %r" % (key, e))
    report(checks, failures)
    return not failures


def report(checks, failures):
    for failure in failures:
        print("FAIL " + failure, file=sys.stderr)
    print("%d passed, %d failed" % (checks - len(failures), len(failures)), file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) == 2 and sys.argv[1] == "generate":
        sys.exit(0 if generate() else 1)
    if len(sys.argv) == 3 and sys.argv[1] == "verify":
        sys.exit(0 if verify(sys.argv[2]) else 1)
    print(__doc__, file=sys.stderr)
    sys.exit(2)
