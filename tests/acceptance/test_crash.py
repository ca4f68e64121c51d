"""Crash safety: SIGKILL the server under a write-heavy boto3 workload, restart, verify.

Invariant under test (shared/docs/design.md §3, "Write path and crash safety"): an acknowledged
write is intact after any crash; an unacknowledged one is either fully visible or invisible;
orphaned blobs are reclaimed.

The workload: writer threads, each owning its own keys (so "the last write" of a key is well
defined), do PUTs of small (1–64 KiB) and multi-MiB (1–8 MiB) random objects, multipart
uploads (1 MiB parts) and deletes. A write's content hash becomes the key's expected content
only AFTER the server acknowledged it. The server is killed with SIGKILL at random moments
(seeded RNG; set COFFER_CRASH_SEED to reproduce a run) and restarted on the same data
directory and port. Afterwards:

* every key holds its last acknowledged content, or — if later writes were not acknowledged —
  the content of one of those later writes; never anything else (no torn or half-visible object);
* listing, HEAD and GET agree on every object's size;
* after deleting everything and aborting all uploads, and a restart, no blob file remains under
  <data dir>/blobs/.

A request that straddles a crash may fail only the way it may on S3: the connection drops or
is refused (botocore's transport errors), and then the write is unacknowledged. botocore
retries such a request once (`max_attempts: 1` is one retry in its legacy mode) against the
restarted server, and every operation of the workload answers a retry as S3 does: PUT,
UploadPart and DELETE are idempotent, CreateMultipartUpload starts another upload, and
CompleteMultipartUpload is idempotent for the same part list (a retry of a completion that
committed answers the same success). So any answer the server gives must be a success: an
error answer (ClientError) or an unparsable one fails the test.
"""

import hashlib
import os
import random
import threading
import time

import botocore.exceptions
import pytest

from coffer_harness import CofferServer, make_cos_client, make_s3_client, quoted_md5

MiB = 1024 * 1024
ABSENT = "<absent>"
WRITERS = 3
KILLS = 3
SEED = int(os.environ.get("COFFER_CRASH_SEED", "20261121"))


class KeyState:
    """What a key may hold: its last acknowledged content plus any unacknowledged later writes.

    `history` keeps every write of the key (time, server start number, operation, content hash,
    outcome) for the failure report.
    """

    def __init__(self):
        self.acknowledged = ABSENT
        self.unacknowledged = []
        self.history = []
        self.lock = threading.Lock()

    def attempt(self, digest, operation, generation):
        with self.lock:
            self.unacknowledged.append(digest)
            self.history.append([round(time.monotonic(), 3), generation, operation, digest[:12],
                                 "pending"])

    def acknowledge(self, digest):
        with self.lock:
            self.acknowledged = digest
            self.unacknowledged = []
            self.history[-1][-1] = "acknowledged"

    def fail(self, error):
        with self.lock:
            if self.history and self.history[-1][-1] == "pending":
                self.history[-1][-1] = "failed: %s" % type(error).__name__

    def describe(self):
        with self.lock:
            return "\n".join("    t=%s start#%s %s %s %s" % tuple(entry)
                             for entry in self.history[-8:])

    def allowed(self):
        with self.lock:
            return {self.acknowledged, *self.unacknowledged}


class Writer(threading.Thread):
    """One writer thread: owns its keys, writes until told to stop."""

    def __init__(self, index, server, bucket, states, stop):
        super().__init__(name="writer-%d" % index, daemon=True)
        self.server = server
        self.current = None
        self.rng = random.Random(SEED * 100 + index)
        self.client = make_s3_client(server, connect_timeout=2, read_timeout=60)
        self.bucket = bucket
        self.stop = stop
        self.keys = {
            "small": ["w%d/small/%d" % (index, n) for n in range(6)],
            "big": ["w%d/big/%d" % (index, n) for n in range(2)],
            "multipart": ["w%d/mp/%d" % (index, n) for n in range(2)],
        }
        for keys in self.keys.values():
            for key in keys:
                states[key] = KeyState()
        self.states = states
        self.acknowledged = {"put": 0, "multipart": 0, "delete": 0}
        self.interrupted = 0
        self.unexpected = []
        # Completions sent, counting botocore's retries, and completions made: the difference
        # is the number of retried completions (most straddled a crash).
        self.completion_sends = 0
        self.completion_calls = 0
        self.client.meta.events.register("before-send.s3.CompleteMultipartUpload",
                                         self.count_completion_send)

    def count_completion_send(self, **_):
        self.completion_sends += 1

    def run(self):
        operations = [self.put_small] * 11 + [self.put_big] * 4 + [self.multipart] * 3 + \
            [self.delete] * 2
        while not self.stop.is_set():
            operation = self.rng.choice(operations)
            self.current = None
            try:
                operation()
            except (botocore.exceptions.ConnectionError,
                    botocore.exceptions.HTTPClientError) as error:
                # Refused, reset or timed out while the server was down: unacknowledged.
                self.interrupted += 1
                if self.current is not None:
                    self.current.fail(error)
                time.sleep(0.05)
            except Exception as error:  # noqa: BLE001 - every other outcome is a failure
                # The server answered with an error (ClientError) or with something botocore
                # could not read: never expected in this workload.
                self.unexpected.append("%s (server start #%d): %s: %s"
                                       % (operation.__name__, self.server.starts,
                                          type(error).__name__, error))
                if self.current is not None:
                    self.current.fail(error)

    def begin(self, key, digest, operation):
        state = self.states[key]
        self.current = state
        state.attempt(digest, operation, self.server.starts)
        return state

    def payload(self, size):
        data = self.rng.randbytes(size)
        return data, hashlib.sha256(data).hexdigest()

    def put(self, key, size):
        data, digest = self.payload(size)
        state = self.begin(key, digest, "put %d bytes" % size)
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data)
        state.acknowledge(digest)
        self.acknowledged["put"] += 1

    def put_small(self):
        self.put(self.rng.choice(self.keys["small"]), self.rng.randint(1024, 64 * 1024))

    def put_big(self):
        self.put(self.rng.choice(self.keys["big"]), self.rng.randint(1 * MiB, 8 * MiB))

    def multipart(self):
        key = self.rng.choice(self.keys["multipart"])
        parts = [self.rng.randbytes(MiB), self.rng.randbytes(MiB),
                 self.rng.randbytes(self.rng.randint(1, MiB))]
        digest = hashlib.sha256(b"".join(parts)).hexdigest()
        upload_id = self.client.create_multipart_upload(Bucket=self.bucket, Key=key)["UploadId"]
        etags = []
        for number, body in enumerate(parts, 1):
            etags.append(self.client.upload_part(Bucket=self.bucket, Key=key, PartNumber=number,
                                                 UploadId=upload_id, Body=body)["ETag"])
        state = self.begin(key, digest, "complete multipart")
        self.completion_calls += 1
        self.client.complete_multipart_upload(
            Bucket=self.bucket, Key=key, UploadId=upload_id,
            MultipartUpload={"Parts": [{"ETag": e, "PartNumber": n}
                                       for n, e in enumerate(etags, 1)]})
        state.acknowledge(digest)
        self.acknowledged["multipart"] += 1

    def delete(self):
        key = self.rng.choice([k for keys in self.keys.values() for k in keys])
        state = self.begin(key, ABSENT, "delete")
        self.client.delete_object(Bucket=self.bucket, Key=key)
        state.acknowledge(ABSENT)
        self.acknowledged["delete"] += 1


def blob_files(data_dir):
    root = data_dir / "blobs"
    if not root.exists():
        return []
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


@pytest.fixture
def crash_server(tmp_path):
    server = CofferServer(tmp_path / "data", tmp_path / "server.log")
    try:
        server.start()
    except RuntimeError as error:
        pytest.fail(str(error), pytrace=False)
    yield server
    server.kill()


@pytest.mark.crash
def test_acknowledged_writes_survive_sigkill(crash_server):
    server = crash_server
    rng = random.Random(SEED)
    print("crash test seed %d (COFFER_CRASH_SEED), server log %s" % (SEED, server.log_path))
    admin = make_s3_client(server)
    bucket = "crash-%d" % SEED
    admin.create_bucket(Bucket=bucket)

    states, stop = {}, threading.Event()
    writers = [Writer(i, server, bucket, states, stop) for i in range(WRITERS)]
    for writer in writers:
        writer.start()
    kill_times = []
    try:
        for _ in range(KILLS):
            time.sleep(rng.uniform(3.0, 6.0))
            kill_times.append(round(time.monotonic(), 3))
            server.kill()
            time.sleep(rng.uniform(0.1, 0.5))
            server.start()
        time.sleep(rng.uniform(2.0, 3.0))
    finally:
        stop.set()
        for writer in writers:
            writer.join(120)
    # One more crash right after the last acknowledgements, then verify on a fresh process.
    kill_times.append(round(time.monotonic(), 3))
    server.kill()
    server.start()

    acknowledged = {name: sum(w.acknowledged[name] for w in writers)
                    for name in ("put", "multipart", "delete")}
    print("acknowledged %r, interrupted %d, server starts %d, kill times %r"
          % (acknowledged, sum(w.interrupted for w in writers), server.starts, kill_times))
    print("completions retried by botocore: %d"
          % sum(w.completion_sends - w.completion_calls for w in writers))
    unexpected = [message for w in writers for message in w.unexpected]
    assert not unexpected, "the server answered writes with errors:\n" + "\n".join(unexpected[:20])
    assert acknowledged["put"] > 20 and acknowledged["multipart"] > 0, (
        "the workload made too little progress to test anything: %r" % acknowledged)

    reader = make_s3_client(server, read_timeout=120)
    listed = {}
    for page in reader.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            listed[item["Key"]] = item["Size"]
    unknown = sorted(set(listed) - set(states))
    assert not unknown, "listing shows keys that were never written: %r" % unknown

    problems = []
    for key in sorted(states):
        allowed = states[key].allowed()
        try:
            response = reader.get_object(Bucket=bucket, Key=key)
            body = response["Body"].read()
            found = hashlib.sha256(body).hexdigest()
            if response["ContentLength"] != len(body):
                problems.append("%s: Content-Length %d but %d bytes"
                                % (key, response["ContentLength"], len(body)))
            if listed.get(key) != len(body):
                problems.append("%s: listed size %r but GET returned %d bytes"
                                % (key, listed.get(key), len(body)))
        except botocore.exceptions.ClientError as error:
            if error.response["Error"]["Code"] != "NoSuchKey":
                raise
            found = ABSENT
            if key in listed:
                problems.append("%s: listed but GET says NoSuchKey" % key)
        if found not in allowed:
            state = states[key]
            problems.append("%s: content %s is neither the last acknowledged write %s nor one of "
                            "the %d unacknowledged later writes; last writes:\n%s"
                            % (key, found[:12], state.acknowledged[:12], len(state.unacknowledged),
                               state.describe()))
    assert not problems, "after %d crashes:\n%s" % (KILLS + 1, "\n".join(problems))

    # Clean up everything; after a restart no blob may remain on disk.
    for upload in reader.list_multipart_uploads(Bucket=bucket).get("Uploads", []):
        reader.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
    assert "Uploads" not in reader.list_multipart_uploads(Bucket=bucket)
    keys = list(listed)
    for start in range(0, len(keys), 1000):
        reader.delete_objects(Bucket=bucket, Delete={
            "Objects": [{"Key": k} for k in keys[start:start + 1000]], "Quiet": True})
    assert reader.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
    reader.delete_bucket(Bucket=bucket)
    server.restart()
    deadline = time.monotonic() + 15
    remaining = blob_files(server.data_dir)
    while remaining and time.monotonic() < deadline:
        time.sleep(0.5)
        remaining = blob_files(server.data_dir)
    assert not remaining, ("%d orphan blob files remain after deleting everything and a restart, "
                           "e.g. %r" % (len(remaining), remaining[:10]))


def test_sigterm_lets_in_flight_requests_finish(tmp_path):
    """Graceful stop: a slow upload in progress when SIGTERM arrives completes and is durable."""
    server = CofferServer(tmp_path / "data", tmp_path / "server.log")
    try:
        server.start()
    except RuntimeError as error:
        pytest.fail(str(error), pytrace=False)
    try:
        client = make_cos_client(server)
        bucket = "graceful-1250000000"
        client.create_bucket(Bucket=bucket)
        data = os.urandom(400 * 1024)
        result = {}

        def upload():
            try:
                # 819200 bit/s = 100 KB/s: the upload takes about four seconds (protocol §13.3).
                result["response"] = client.put_object(Bucket=bucket, Key="slow", Body=data,
                                                       TrafficLimit="819200")
            except Exception as error:  # noqa: BLE001
                result["error"] = error

        uploader = threading.Thread(target=upload)
        uploader.start()
        time.sleep(1.0)
        assert uploader.is_alive(), "the throttled upload finished before SIGTERM could be sent"
        server.terminate_nodes()
        uploader.join(60)
        exit_code = server.wait_nodes(30)
        assert "error" not in result, "in-flight upload failed on SIGTERM: %r" % result.get("error")
        assert result["response"]["ETag"] == quoted_md5(data)
        assert exit_code == 0, "coffer serve exited with %d after SIGTERM" % exit_code
        server.start()
        body = client.get_object(Bucket=bucket, Key="slow")["Body"].get_raw_stream().read()
        assert body == data
    finally:
        server.kill()
