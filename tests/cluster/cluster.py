"""A cluster of `coffer serve` nodes on loopback for the cluster tests.

Three shapes, chosen from the environment by `Cluster.from_environment`:

* **postgres** (`COFFER_TEST_PG_URL` set): `COFFER_CLUSTER_NODES` nodes (default 3), each its
  own `coffer serve` process on a free port with `COFFER_META_URL` naming a database created for
  the session on that server (and dropped after it), all over one shared data directory (the
  blobs). They are started at the same moment, so schema migration and the root-account
  bootstrap race as they would in production.
* **embedded** (the default): one node on the embedded store (redb allows one process).
* **relay** (`COFFER_CLUSTER_RELAYS=N`, a self-test of the harness): one embedded server behind
  N TCP relays (`relay.py`) that stand in for nodes; killing a "node" kills its relay.

Every node keeps its port across restarts; `kill(i)` is SIGKILL, `restart(i)` starts the same
node again. The process management is the acceptance suite's (`coffer_harness.CofferServer`).
"""

import os
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from coffer_harness import (CofferServer, coffer_binary, free_loopback_port,
                            loopback_only_environment, make_cos_client, make_s3_client)

HERE = Path(__file__).resolve().parent


class Node(CofferServer):
    """One `coffer serve` process of the cluster (a `CofferServer` that may name a metadata
    database)."""

    def __init__(self, index, data_dir, log_path, meta_url=None):
        super().__init__(data_dir, log_path)
        self.index = index
        self.meta_url = meta_url

    @property
    def name(self):
        return "node%d" % self.index

    def environment(self):
        env = super().environment()
        env.setdefault("COFFER_LOG", "warn")
        if self.meta_url:
            env["COFFER_META_URL"] = self.meta_url
        return env


class RelayNode:
    """A TCP relay in front of the one embedded server, standing in for a node (self-test)."""

    def __init__(self, index, target, log_path):
        self.index = index
        self.target = target
        self.log_path = Path(log_path)
        self.port = free_loopback_port()
        self.process = None
        self.starts = 0

    name = property(lambda self: "relay%d" % self.index)
    endpoint = property(lambda self: "http://127.0.0.1:%d" % self.port)

    def start(self, timeout=30.0):
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, str(HERE / "relay.py"), str(self.port), str(self.target.port)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                env=loopback_only_environment(), start_new_session=True)
        self.starts += 1
        session = requests.Session()
        session.trust_env = False
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if session.get(self.endpoint + "/-/health", timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError("relay %s did not come up; log tail:\n%s" % (self.name, self.log_tail()))

    def is_running(self):
        return self.process is not None and self.process.poll() is None

    def kill(self):
        if self.is_running():
            self.process.kill()
            self.process.wait(10)

    stop = kill

    def log_tail(self, lines=40):
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no relay log)"


class Cluster:
    """N nodes serving one store; see the module documentation for the shapes."""

    def __init__(self, base_dir, mode="embedded", size=1, meta_url=None):
        self.base_dir = Path(base_dir)
        self.mode = mode
        self.meta_url = meta_url
        self.database_url = None
        self.data_dir = self.base_dir / "data"
        self.backend = None
        if mode == "postgres":
            self.nodes = [Node(i, self.data_dir, self.base_dir / ("node%d.log" % i), meta_url)
                          for i in range(size)]
        elif mode == "relay":
            self.backend = Node(0, self.data_dir, self.base_dir / "server.log")
            self.nodes = [RelayNode(i, self.backend, self.base_dir / ("relay%d.log" % i))
                          for i in range(size)]
        elif mode == "embedded":
            if size != 1:
                raise ValueError("the embedded store serves one process: size must be 1")
            self.nodes = [Node(0, self.data_dir, self.base_dir / "node0.log")]
        else:
            raise ValueError("unknown cluster mode %r" % (mode,))
        self._lock = threading.Lock()

    @classmethod
    def from_environment(cls, base_dir, environ=None):
        environ = os.environ if environ is None else environ
        meta_url = environ.get("COFFER_TEST_PG_URL")
        if meta_url:
            return cls(base_dir, "postgres", int(environ.get("COFFER_CLUSTER_NODES", "3")),
                       meta_url)
        relays = environ.get("COFFER_CLUSTER_RELAYS")
        if relays:
            return cls(base_dir, "relay", int(relays))
        return cls(base_dir, "embedded", 1)

    # -- life cycle --------------------------------------------------------------------

    @property
    def size(self):
        return len(self.nodes)

    def describe(self):
        if self.mode == "postgres":
            return "%d nodes over PostgreSQL" % self.size
        if self.mode == "relay":
            return "%d relays in front of one embedded node (harness self-test)" % self.size
        return "1 embedded node"

    def start(self):
        """Start every node at once (one after the other with COFFER_CLUSTER_STAGGER=1), and
        wait until all are healthy."""
        if self.mode == "postgres":
            check_meta_url_support()
            self.database_url = create_database(self.meta_url)
            for node in self.nodes:
                node.meta_url = self.database_url
        self.base_dir.mkdir(parents=True, exist_ok=True)
        if self.backend is not None:
            self.backend.start()
        if os.environ.get("COFFER_CLUSTER_STAGGER") == "1":
            # One after the other: tells a start-up race apart from everything else.
            for node in self.nodes:
                node.start()
            return self
        with ThreadPoolExecutor(self.size) as pool:
            for future in [pool.submit(node.start) for node in self.nodes]:
                future.result()
        return self

    def kill(self, index):
        """SIGKILL node `index` (no warning, no graceful shutdown)."""
        with self._lock:
            self.nodes[index].kill()

    def restart(self, index):
        """Start node `index` again on its port; it must have been killed or stopped."""
        with self._lock:
            node = self.nodes[index]
            if node.is_running():
                node.kill()
            node.start()

    def ensure_running(self):
        """Restart any node that is down (a test that failed midway may have left one)."""
        if self.backend is not None and not self.backend.is_running():
            self.backend.start()
        for index, node in enumerate(self.nodes):
            if not node.is_running():
                self.restart(index)

    def stop(self):
        """Stop every node (SIGTERM, then SIGKILL), the relays' server last, and drop the
        session's database."""
        for node in self.nodes:
            node.stop()
        if self.backend is not None:
            self.backend.stop()
        if self.database_url:
            drop_database(self.meta_url, self.database_url)
            self.database_url = None

    def log_tails(self, lines=30):
        servers = list(self.nodes) + ([self.backend] if self.backend else [])
        return "\n".join("----- %s (%s)\n%s" % (server.name, server.log_path,
                                                 server.log_tail(lines)) for server in servers)

    # -- clients -----------------------------------------------------------------------

    def cos_client(self, index, **options):
        """The official COS SDK's client for node `index` (IP/port mode)."""
        return make_cos_client(self.nodes[index], **options)

    def s3_client(self, index, **config):
        """A boto3 client for node `index` (path-style, SigV4)."""
        return make_s3_client(self.nodes[index], **config)


def check_meta_url_support():
    """Fail clearly when the binary under test has no PostgreSQL metadata backend."""
    binary = coffer_binary()
    result = subprocess.run([str(binary), "serve", "--help"], capture_output=True, text=True,
                            timeout=60, stdin=subprocess.DEVNULL, env=loopback_only_environment())
    if "--meta-url" not in result.stdout:
        raise RuntimeError("COFFER_TEST_PG_URL is set but %s has no `serve --meta-url`: this "
                           "binary predates the PostgreSQL metadata backend" % binary)


def _psql(url, statement):
    result = subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-qc", statement],
                            capture_output=True, text=True, timeout=60,
                            stdin=subprocess.DEVNULL, env=loopback_only_environment())
    if result.returncode != 0:
        raise RuntimeError("psql %r failed: %s" % (statement, result.stderr.strip()))


def _with_database(url, name):
    scheme, rest = url.split("://", 1)
    authority, _, tail = rest.partition("/")
    query = tail.partition("?")[2]
    return "%s://%s/%s%s" % (scheme, authority, name, "?" + query if query else "")


def create_database(url):
    """A new, empty database on the server `url` names (whose role may create databases),
    so that every session starts from nothing: its URL."""
    name = "coffer_cluster_%s" % uuid.uuid4().hex[:12]
    _psql(url, "CREATE DATABASE %s" % name)
    return _with_database(url, name)


def drop_database(url, database_url):
    """Drop a database made by `create_database` (best effort: its nodes are stopped)."""
    name = database_url.split("://", 1)[1].partition("/")[2].partition("?")[0]
    try:
        _psql(url, "DROP DATABASE IF EXISTS %s" % name)
    except RuntimeError as error:
        print("dropping %s failed: %s" % (name, error))
