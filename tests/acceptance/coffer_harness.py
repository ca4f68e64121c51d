"""Process management and small helpers shared by the acceptance tests.

The acceptance suite drives the real ``coffer`` binary with unmodified third-party
clients. This module knows how to find the binary, start ``coffer serve`` on an
ephemeral loopback port with a private data directory, wait for it to become healthy,
and stop it (gracefully with SIGTERM, or brutally with SIGKILL for the crash tests).

Nothing here builds the binary: set COFFER_BIN or run
``cargo build --release -p coffer`` first.
"""

import base64
import collections
import hashlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import crcmod
import requests

REPO_ROOT = Path(__file__).resolve().parents[2]

REGION = "ap-guangzhou"
APPID = "1250000000"
ROOT_SECRET_ID = "AKIDcofferAcceptanceRoot0000000000001"
ROOT_SECRET_KEY = "cofferAcceptanceRootSecretKey0000000001"

# Environment variables that would route client traffic anywhere but loopback.
_PROXY_VARIABLES = (
    "http_proxy", "https_proxy", "all_proxy", "ftp_proxy",
    "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "FTP_PROXY",
)

_crc64_function = crcmod.mkCrcFun(0x142F0E1EBA9EA3693, initCrc=0,
                                  xorOut=0xFFFFFFFFFFFFFFFF, rev=True)

# Every server started by this process, so that an interrupted run still kills them.
_LIVE_SERVERS = []
_LIVE_LOCK = threading.Lock()


def loopback_only_environment(base=None):
    """Return a copy of the environment with every proxy variable removed."""
    env = dict(os.environ if base is None else base)
    for name in _PROXY_VARIABLES:
        env.pop(name, None)
    env["NO_PROXY"] = "127.0.0.1,localhost"
    env["no_proxy"] = "127.0.0.1,localhost"
    return env


def isolate_client_environment():
    """Make this process (and every subprocess it starts) send traffic to loopback only and
    ignore the machine's own AWS configuration (proxies, profiles, credentials files)."""
    for name in list(os.environ):
        if name.lower().endswith("_proxy") and name.lower() != "no_proxy":
            del os.environ[name]
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
    os.environ["AWS_CONFIG_FILE"] = os.devnull
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        os.environ.pop(name, None)


def crc64(data):
    """CRC-64/XZ as COS reports it in x-cos-hash-crc64ecma (decimal string)."""
    return str(_crc64_function(data))


def md5_hex(data):
    return hashlib.md5(data).hexdigest()


def quoted_md5(data):
    return '"%s"' % md5_hex(data)


def content_md5(data):
    return base64.b64encode(hashlib.md5(data).digest()).decode("ascii")


def multipart_etag(parts):
    """The S3/COS multipart ETag of the given list of part bytes."""
    digests = b"".join(hashlib.md5(part).digest() for part in parts)
    return '"%s-%d"' % (hashlib.md5(digests).hexdigest(), len(parts))


def file_sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def free_loopback_port():
    """Pick a currently free ephemeral TCP port on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def acceptance_meta_url(data_dir):
    """With COFFER_ACCEPTANCE_PG_URL set (scripts/test.sh's pass on PostgreSQL), the
    metadata URL of the server on `data_dir`: a database of its own, created on first use,
    so that each server starts empty and a restarted one finds its data again. None
    otherwise (the embedded store)."""
    base = os.environ.get("COFFER_ACCEPTANCE_PG_URL")
    if not base:
        return None
    name = "acc_" + hashlib.sha1(str(Path(data_dir).resolve()).encode()).hexdigest()[:24]
    with _DATABASES_LOCK:
        if name not in _DATABASES:
            result = subprocess.run(
                ["psql", base, "-v", "ON_ERROR_STOP=1", "-qc", "CREATE DATABASE %s" % name],
                capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
            if result.returncode != 0 and "already exists" not in result.stderr:
                raise RuntimeError("creating database %s failed: %s" % (name, result.stderr))
            _DATABASES.add(name)
    scheme, rest = base.split("://", 1)
    authority = rest.split("/", 1)[0]
    query = rest.split("?", 1)[1] if "?" in rest else ""
    return "%s://%s/%s%s" % (scheme, authority, name, "?" + query if query else "")


_DATABASES = set()
_DATABASES_LOCK = threading.Lock()


def coffer_binary():
    """The path of the coffer binary; it is never built here."""
    return Path(os.environ.get("COFFER_BIN", REPO_ROOT / "target" / "release" / "coffer"))


class CofferServer:
    """One `coffer serve` child process bound to 127.0.0.1:<port>.

    The data directory and port survive restarts, which is what the crash tests need.
    """

    def __init__(self, data_dir, log_path, port=None, region=REGION,
                 secret_id=ROOT_SECRET_ID, secret_key=ROOT_SECRET_KEY, appid=APPID):
        self.binary = coffer_binary()
        self.data_dir = Path(data_dir)
        self.log_path = Path(log_path)
        self.port = port or free_loopback_port()
        self.region = region
        self.secret_id = secret_id
        self.secret_key = secret_key
        self.appid = appid
        self.process = None
        self.starts = 0
        # With COFFER_ACCEPTANCE_NODES=N (N > 1) and PostgreSQL metadata: N nodes on one
        # database and one data directory behind a round-robin relay on `port`
        # (tests/cluster/relay.py); `process` is then the relay and `node_processes` the
        # nodes. The suites see one endpoint either way.
        self.node_count = max(1, int(os.environ.get("COFFER_ACCEPTANCE_NODES", "1")))
        self.node_processes = []

    # -- addresses ---------------------------------------------------------------------

    @property
    def address(self):
        return "127.0.0.1:%d" % self.port

    @property
    def endpoint(self):
        return "http://%s" % self.address

    def cos_host(self, bucket):
        """The virtual host the COS SDK puts in Host for a bucket."""
        return "%s.cos.%s.myqcloud.com" % (bucket, self.region)

    # -- life cycle --------------------------------------------------------------------

    def environment(self):
        env = loopback_only_environment()
        env.update({
            "COFFER_DATA_DIR": str(self.data_dir),
            "COFFER_ADDRESS": self.address,
            "COFFER_REGION": self.region,
            "COFFER_ROOT_SECRET_ID": self.secret_id,
            "COFFER_ROOT_SECRET_KEY": self.secret_key,
            "COFFER_ROOT_APPID": self.appid,
        })
        meta_url = acceptance_meta_url(self.data_dir)
        if meta_url:
            env["COFFER_META_URL"] = meta_url
            # One node per database here, so the start-up (online) sweep may take every
            # orphan at once, as the embedded store's does: the crash test checks it.
            env.setdefault("COFFER_ORPHAN_MIN_AGE", "0")
        return env

    def start(self, timeout=60.0):
        if not self.binary.exists():
            raise RuntimeError(
                "coffer binary not found at %s: build it with `cargo build --release -p coffer` "
                "or point COFFER_BIN at it" % self.binary)
        if self.node_processes and all(p.poll() is not None for p in self.node_processes):
            self.kill()  # every node has exited: only the relay is left
        if self.process is not None and self.process.poll() is None:
            raise RuntimeError("server already running")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        env = self.environment()
        if self.node_count > 1 and "COFFER_META_URL" in env:
            self._start_nodes(env, timeout)
        else:
            self.process = self._spawn([str(self.binary), "serve"], env, self.address)
        self.starts += 1
        with _LIVE_LOCK:
            _LIVE_SERVERS.append(self)
        self.wait_healthy(timeout)
        return self

    def _spawn(self, command, env, address):
        log = open(self.log_path, "ab")
        name = "relay" if command[0] == sys.executable else "coffer serve"
        log.write(("\n===== %s start #%d on %s =====\n"
                   % (name, self.starts + 1, address)).encode())
        log.flush()
        process = subprocess.Popen(
            command, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)
        log.close()
        return process

    def _start_nodes(self, env, timeout):
        """Starts the nodes (each healthy before the next, as a rolling start would) and
        the relay in front of them on this server's port."""
        ports = [free_loopback_port() for _ in range(self.node_count)]
        self.node_processes = []
        for port in ports:
            node_env = dict(env, COFFER_ADDRESS="127.0.0.1:%d" % port)
            process = self._spawn([str(self.binary), "serve"], node_env, "127.0.0.1:%d" % port)
            self.node_processes.append(process)
            self._wait_port_healthy(process, port, timeout)
        relay = REPO_ROOT / "tests" / "cluster" / "relay.py"
        self.process = self._spawn(
            [sys.executable, str(relay), str(self.port)] + [str(p) for p in ports],
            loopback_only_environment(), self.address)

    def _wait_port_healthy(self, process, port, timeout):
        deadline = time.monotonic() + timeout
        session = requests.Session()
        session.trust_env = False
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError("coffer serve node on port %d exited with status %s; log "
                                   "tail:\n%s" % (port, process.returncode, self.log_tail()))
            try:
                if session.get("http://127.0.0.1:%d/-/health" % port, timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError("node on port %d not healthy; log tail:\n%s" % (port, self.log_tail()))

    def wait_healthy(self, timeout=60.0):
        deadline = time.monotonic() + timeout
        session = requests.Session()
        session.trust_env = False
        last_error = None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("coffer serve exited with status %s before becoming healthy;"
                                   " log tail:\n%s" % (self.process.returncode, self.log_tail()))
            try:
                response = session.get(self.endpoint + "/-/health", timeout=2)
                if response.status_code == 200:
                    return
                last_error = "status %d" % response.status_code
            except requests.RequestException as error:
                last_error = repr(error)
            time.sleep(0.1)
        raise RuntimeError("coffer serve not healthy after %.0f s (%s); log tail:\n%s"
                           % (timeout, last_error, self.log_tail()))

    def is_running(self):
        return self.process is not None and self.process.poll() is None

    def terminate_nodes(self):
        """SIGTERM to every `coffer serve` process (the relay, if any, keeps forwarding)."""
        for process in self.node_processes or [self.process]:
            process.send_signal(signal.SIGTERM)

    def wait_nodes(self, timeout):
        """Waits for every `coffer serve` process to exit; returns the worst exit code."""
        codes = [process.wait(timeout) for process in self.node_processes or [self.process]]
        return max(codes, key=abs)

    def _stop_nodes(self, kill):
        """Stops (or, with `kill`, SIGKILLs) the nodes behind the relay, if any."""
        for process in self.node_processes:
            if process.poll() is None:
                if kill:
                    process.kill()
                else:
                    process.send_signal(signal.SIGTERM)
        for process in self.node_processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
        self.node_processes = []

    def stop(self, timeout=15.0):
        """Graceful stop: SIGTERM, then SIGKILL if it does not exit in time."""
        if self.node_processes:
            self._stop_nodes(kill=False)
        if not self.is_running():
            self._forget()
            return None
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        self._forget()
        return self.process.returncode

    def kill(self):
        """Crash: SIGKILL with no warning (every node, with several)."""
        if self.node_processes:
            self._stop_nodes(kill=True)
        if self.is_running():
            self.process.kill()
            self.process.wait(10)
        self._forget()

    def restart(self, timeout=60.0):
        self.stop()
        return self.start(timeout)

    def _forget(self):
        with _LIVE_LOCK:
            if self in _LIVE_SERVERS:
                _LIVE_SERVERS.remove(self)

    def admin(self, *args):
        """Run `coffer admin ARGS` on this server's data directory (server must be stopped)."""
        if self.is_running():
            raise RuntimeError("coffer admin needs the server to be stopped")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        result = subprocess.run([str(self.binary), "admin"] + list(args), env=self.environment(),
                                capture_output=True, text=True, timeout=60,
                                stdin=subprocess.DEVNULL)
        if result.returncode != 0:
            raise RuntimeError("coffer admin %s failed (%d): %s%s"
                               % (" ".join(args), result.returncode, result.stdout, result.stderr))
        return result.stdout

    def log_tail(self, lines=60):
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no server log)"
        return "\n".join(text.splitlines()[-lines:])


def kill_all_servers():
    """Last-resort cleanup: SIGKILL every server this process started."""
    with _LIVE_LOCK:
        servers = list(_LIVE_SERVERS)
    for server in servers:
        try:
            server.kill()
        except Exception:  # noqa: BLE001 - best effort at exit
            pass


# ----------------------------------------------------------------------------------------
# names and clients
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


def make_cos_config(server, secret_id=ROOT_SECRET_ID, secret_key=ROOT_SECRET_KEY,
                    anonymous=False, mode="ip", **config):
    """A CosConfig for the server.

    mode "ip":    IP/Port set; the request goes to the server with Host <bucket>.cos.<region>...
    mode "proxy": no IP; the server is the HTTP proxy, requests use absolute-form targets.
    mode "plain": neither (e.g. with ServiceDomain pointing at the server).
    """
    CosConfig, _ = _cos_sdk()
    options = dict(Region=REGION, Scheme="http")
    if anonymous:
        options["Anonymous"] = True
    else:
        options.update(SecretId=secret_id, SecretKey=secret_key)
    if mode == "proxy":
        options["Proxies"] = {"http": server.endpoint}
    elif mode == "ip":
        options.update(IP="127.0.0.1", Port=server.port)
    options.update(config)
    return CosConfig(**options)


def make_cos_client(server, session=None, **options):
    """A CosS3Client for the server (see make_cos_config for the options)."""
    _, CosS3Client = _cos_sdk()
    return CosS3Client(make_cos_config(server, **options), session=session or RecordingSession())


def make_s3_client(server, access_key=ROOT_SECRET_ID, secret_key=ROOT_SECRET_KEY,
                   region="us-east-1", **config):
    options = dict(s3={"addressing_style": "path"}, signature_version="s3v4",
                   retries={"max_attempts": 1})
    options.update(config)
    import boto3
    import botocore.config
    return boto3.session.Session().client(
        "s3", endpoint_url=server.endpoint, region_name=region,
        aws_access_key_id=access_key, aws_secret_access_key=secret_key,
        config=botocore.config.Config(**options))


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


def empty_s3_bucket(client, bucket):
    paginator = client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket):
        keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
        if keys:
            client.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
    uploads = client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    for upload in uploads:
        client.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
