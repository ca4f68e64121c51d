"""Linearizability under crashes: concurrent boto3 clients over every node of the cluster do
get / put / delete / conditional put (If-None-Match: *, If-Match: <etag>) on a few keys while
nodes are killed with SIGKILL and restarted; the recorded history must be linearizable per key
(linearizability.py), with zero anomalies.

Every write's value is unique (key, client, sequence number) and padded to a size that makes
some values inline in the metadata and others blob files; a read identifies the write it saw,
and a body that is not exactly a written value (torn, or of another key) is recorded as such,
so the checker refuses it. Each client has its own boto3 client per node, without retries, so
an answer belongs to exactly one attempt. Outcomes:

* an answer (200/204, 404 NoSuchKey, 412 PreconditionFailed) is recorded as it is;
* a connection refused (the node was down: nothing was sent) is not an operation at all;
* any other transport failure after the request may have been sent (reset, timeout) makes the
  operation indeterminate: it may or may not have taken effect (completion time infinity);
* any other answer (5xx, an unexpected 4xx) fails the test.

On one embedded node the kills test durability as much as ordering: after a restart, the node
must serve the last acknowledged writes. COFFER_HISTORY_SECONDS (default 20) sets the
workload's length, COFFER_HISTORY_SEED its random schedule; the history is written as JSON
lines beside the node logs for inspection.
"""

import hashlib
import json
import os
import random
import threading
import time

import botocore.exceptions
import pytest

from linearizability import (ABSENT, DELETE, GET, INFINITY, NO_SUCH_KEY, OK, PRECONDITION_FAILED,
                             PUT, PUT_IF_MATCH, PUT_IF_NONE_MATCH, UNKNOWN, Operation, check)

SECONDS = float(os.environ.get("COFFER_HISTORY_SECONDS", "20"))
SEED = int(os.environ.get("COFFER_HISTORY_SEED", "20261203"))
KEYS = ("alpha", "beta", "gamma", "delta")
CLIENTS = 6
CHECK_BUDGET = 120.0

# Transport errors raised before anything was sent: the operation did not happen.
NOT_SENT = (botocore.exceptions.EndpointConnectionError, botocore.exceptions.ConnectTimeoutError)
# Transport errors after the request may have been sent: the outcome is unknown.
IN_FLIGHT = (botocore.exceptions.ConnectionError, botocore.exceptions.HTTPClientError,
             botocore.exceptions.IncompleteReadError)


def encode(value, size):
    """A body that names its value and is exactly `size` bytes (at least the name)."""
    name = value.encode()
    filler = hashlib.sha256(name).hexdigest().encode()
    body = name + b"\n"
    while len(body) < size:
        body += filler
    return body[:max(size, len(name) + 1)]


def decode(body, key):
    """The value a body names, or a marker no write ever used when it is not a whole value."""
    name, _, _ = body.partition(b"\n")
    value = name.decode("utf-8", "replace")
    size = value.rsplit("/", 1)[-1]
    if not (value.startswith(key + "/") and size.isdigit() and encode(value, int(size)) == body):
        return "<corrupt %d bytes: %r>" % (len(body), body[:60])
    return value


class Client(threading.Thread):
    """One client: a random mix of operations on the keys, through a random node each time."""

    def __init__(self, number, cluster, bucket, history, stop, seed):
        super().__init__(name="client-%d" % number, daemon=True)
        self.number = number
        self.bucket = bucket
        self.history = history
        self.stop = stop
        self.rng = random.Random(seed)
        self.s3 = [cluster.s3_client(i, retries={"total_max_attempts": 1},
                                     connect_timeout=2, read_timeout=15)
                   for i in range(cluster.size)]
        self.seen = {}  # key -> the last value this client read or wrote
        self.sequence = 0
        self.unexpected = []
        self.counts = {"answered": 0, "not sent": 0, "indeterminate": 0}

    def run(self):
        while not self.stop.is_set():
            key = self.rng.choice(KEYS)
            node = self.rng.randrange(len(self.s3))
            roll = self.rng.random()
            if roll < 0.4:
                self.perform(node, key, GET)
            elif roll < 0.65:
                self.perform(node, key, PUT, value=self.new_value(key))
            elif roll < 0.75:
                self.perform(node, key, DELETE)
            elif roll < 0.87 or self.seen.get(key) is None:
                self.perform(node, key, PUT_IF_NONE_MATCH, value=self.new_value(key))
            else:
                self.perform(node, key, PUT_IF_MATCH, value=self.new_value(key),
                             expected=self.seen[key])

    def new_value(self, key):
        self.sequence += 1
        size = self.rng.choice((40, 2000, 70 * 1024, 200 * 1024))
        return "%s/c%d/%d/%d" % (key, self.number, self.sequence, size)

    def perform(self, node, key, kind, value=ABSENT, expected=ABSENT):
        s3 = self.s3[node]
        invoke = time.monotonic()
        note = "node%d" % node
        try:
            if kind == GET:
                response = s3.get_object(Bucket=self.bucket, Key=key)
                body = response["Body"].read()
                output = decode(body, key)
                if response["ETag"] != '"%s"' % hashlib.md5(body).hexdigest():
                    output = "<ETag %s of another body>" % response["ETag"]
            elif kind == DELETE:
                s3.delete_object(Bucket=self.bucket, Key=key)
                output = OK
            else:
                conditions = {}
                if kind == PUT_IF_NONE_MATCH:
                    conditions["IfNoneMatch"] = "*"
                elif kind == PUT_IF_MATCH:
                    size = int(expected.rsplit("/", 1)[-1])
                    conditions["IfMatch"] = '"%s"' % hashlib.md5(encode(expected, size)).hexdigest()
                size = int(value.rsplit("/", 1)[-1])
                s3.put_object(Bucket=self.bucket, Key=key, Body=encode(value, size), **conditions)
                output = OK
            complete = time.monotonic()
        except botocore.exceptions.ClientError as error:
            complete = time.monotonic()
            code = error.response["Error"]["Code"]
            status = error.response["ResponseMetadata"]["HTTPStatusCode"]
            self.counts["answered"] += 1
            if status == 404 and code == "NoSuchKey" and kind in (GET, PUT_IF_MATCH):
                output = ABSENT if kind == GET else NO_SUCH_KEY
            elif status == 412 and code == "PreconditionFailed" and kind in (
                    PUT_IF_NONE_MATCH, PUT_IF_MATCH):
                output = PRECONDITION_FAILED
            else:
                self.unexpected.append("%s %s %s through node%d: %s %s"
                                       % (kind, key, value, node, status, code))
                output, complete, note = UNKNOWN, INFINITY, note + ": %s %s" % (status, code)
        except NOT_SENT:
            self.counts["not sent"] += 1
            time.sleep(0.02)
            return
        except IN_FLIGHT as error:
            output, complete = UNKNOWN, INFINITY
            note += ": %s" % type(error).__name__
            self.counts["indeterminate"] += 1
        else:
            self.counts["answered"] += 1
        if output is not UNKNOWN and kind != GET and kind != DELETE and output == OK:
            self.seen[key] = value
        elif kind == GET and output is not UNKNOWN:
            self.seen[key] = output if output is ABSENT or output.startswith(key + "/") else None
        self.history.append(Operation(key=key, kind=kind, output=output, invoke=invoke,
                                      complete=complete, value=value, expected=expected,
                                      client=self.number, note=note))


def with_stale_read(history):
    """The history with one read turned stale, or None when it has no place for one.

    A read invoked after a write W2 completed, which itself began after a write W1 of value v1
    completed, cannot return v1 (only W1 wrote v1, and W2 replaced it): the checker must refuse
    the history. This shows the recorded histories are informative, not vacuously accepted.
    """
    writes = sorted((op for op in history if op.output == OK and op.kind != GET),
                    key=lambda op: op.complete)
    for first in writes:
        if first.kind == DELETE:
            continue
        for second in writes:
            if second.key != first.key or second.invoke <= first.complete:
                continue
            for index, read in enumerate(history):
                if read.kind == GET and read.key == first.key and read.invoke > second.complete \
                        and read.output is not UNKNOWN:
                    stale = list(history)
                    stale[index] = Operation(key=read.key, kind=GET, output=first.value,
                                             invoke=read.invoke, complete=read.complete,
                                             client=read.client, note="injected stale read")
                    return stale
    return None


def dump(history, path):
    with open(path, "w") as handle:
        for op in sorted(history, key=lambda o: o.invoke):
            handle.write(json.dumps({
                "key": op.key, "kind": op.kind, "value": op.value, "expected": op.expected,
                "output": op.output, "invoke": op.invoke,
                "complete": None if op.complete == INFINITY else op.complete,
                "client": op.client, "note": op.note}) + "\n")


def test_history_under_kill9_is_linearizable(cluster, make_bucket):
    bucket = make_bucket("history")
    rng = random.Random(SEED)
    history, stop = [], threading.Event()
    clients = [Client(n, cluster, bucket, history, stop, rng.random()) for n in range(CLIENTS)]
    print("history test on %s for %.0f s, seed %d (COFFER_HISTORY_SEED)"
          % (cluster.describe(), SECONDS, SEED))
    started = time.monotonic()
    for client in clients:
        client.start()
    kills = []
    try:
        while time.monotonic() - started < SECONDS - 2:
            time.sleep(rng.uniform(1.0, 3.0))
            victim = rng.randrange(cluster.size)
            kills.append((round(time.monotonic() - started, 2), victim))
            cluster.kill(victim)
            time.sleep(rng.uniform(0.0, 0.5))
            cluster.restart(victim)
        time.sleep(max(0.0, SECONDS - (time.monotonic() - started)))
    finally:
        stop.set()
        for client in clients:
            client.join(60)
    path = cluster.base_dir / ("history-%s.jsonl" % bucket)
    dump(history, path)
    counts = {name: sum(c.counts[name] for c in clients) for name in clients[0].counts}
    kinds = {kind: sum(1 for op in history if op.kind == kind and not op.indeterminate)
             for kind in (GET, PUT, DELETE, PUT_IF_NONE_MATCH, PUT_IF_MATCH)}
    print("kills (s, node): %r" % kills)
    print("operations: %r; answered by kind: %r; history in %s" % (counts, kinds, path))

    unexpected = [line for c in clients for line in c.unexpected]
    assert not unexpected, "unexpected answers:\n" + "\n".join(unexpected[:20])
    assert len(kills) >= 3 and all(kinds.values()), (
        "the workload did too little to test anything: %r, %d kills" % (kinds, len(kills)))
    successes = sum(1 for op in history if op.kind in (PUT_IF_NONE_MATCH, PUT_IF_MATCH)
                    and op.output == OK)
    refusals = sum(1 for op in history if op.output in (PRECONDITION_FAILED, NO_SUCH_KEY))
    assert successes and refusals, "no conditional write both won and lost: %d/%d" % (
        successes, refusals)

    result = check(history, budget=CHECK_BUDGET)
    print(result.summary())
    assert result.linearizable is True, (
        "%d of %d keys not linearizable (history in %s):\n%s"
        % (len(result.anomalies), len(result.keys), path, result.explain()))

    stale = with_stale_read(history)
    assert stale is not None, "no read follows two sequential writes of one key"
    refuted = check(stale, budget=CHECK_BUDGET)
    assert refuted.linearizable is False, "an injected stale read was not caught"
    print("an injected stale read is refuted:\n%s" % refuted.explain())


@pytest.mark.parametrize("size", [40, 2000, 70 * 1024])
def test_values_round_trip(size):
    value = "alpha/c1/7/%d" % size
    body = encode(value, size)
    assert len(body) == size and decode(body, "alpha") == value
    assert decode(body[:-1], "alpha").startswith("<corrupt")
    assert decode(body, "beta").startswith("<corrupt")
