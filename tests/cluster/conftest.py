"""Fixtures for the cluster suite: one `Cluster` per session (see cluster.py for its shapes).

* ``cluster``           the running cluster; every test starts with all its nodes up
* ``multi_node``        the cluster, or a skip when it has one node
* ``make_bucket``       factory of buckets created through node 0, emptied and deleted afterwards
"""

import atexit
import re
import uuid

import pytest

from cluster import Cluster
from coffer_harness import (APPID, empty_cos_bucket, isolate_client_environment,
                            kill_all_servers)

isolate_client_environment()
atexit.register(kill_all_servers)

SKIP_SINGLE_NODE = ("needs several nodes over one metadata database: set COFFER_TEST_PG_URL "
                    "(tests/cluster/run.sh --pg does, with scripts/pg.sh), or "
                    "COFFER_CLUSTER_RELAYS=3 for the harness self-test")

_SESSION = {}


def pytest_report_header(config):
    return "coffer cluster: %s" % Cluster.from_environment("/nonexistent").describe()


def pytest_sessionfinish(session, exitstatus):
    kill_all_servers()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Attach the tail of every node's log to a failing test's report."""
    outcome = yield
    report = outcome.get_result()
    if report.failed and call.when in ("setup", "call") and _SESSION.get("cluster"):
        report.sections.append(("coffer cluster logs (tails)",
                                _SESSION["cluster"].log_tails()))


@pytest.fixture(scope="session")
def _session_cluster(tmp_path_factory):
    cluster = Cluster.from_environment(tmp_path_factory.mktemp("cluster"))
    try:
        cluster.start()
    except RuntimeError as error:
        cluster.stop()
        pytest.fail(str(error), pytrace=False)
    _SESSION["cluster"] = cluster
    yield cluster
    _SESSION.pop("cluster", None)
    cluster.stop()


@pytest.fixture
def cluster(_session_cluster):
    """The session's cluster with every node running."""
    _session_cluster.ensure_running()
    return _session_cluster


@pytest.fixture
def multi_node(cluster):
    if cluster.size < 2:
        pytest.skip(SKIP_SINGLE_NODE)
    return cluster


def bucket_name(hint):
    """A COS bucket name (`<name>-<appid>`) unique to this run."""
    stem = re.sub(r"[^a-z0-9]+", "-", hint.lower())[:16].strip("-") or "t"
    return "cl-%s-%s-%s" % (stem, uuid.uuid4().hex[:8], APPID)


@pytest.fixture
def make_bucket(cluster, request):
    created = []

    def factory(hint=None):
        name = bucket_name(hint or request.node.name)
        cluster.cos_client(0).create_bucket(Bucket=name)
        created.append(name)
        return name

    yield factory
    for name in created:
        try:
            cluster.ensure_running()
            client = cluster.cos_client(0)
            empty_cos_bucket(client, name)
            client.delete_bucket(Bucket=name)
        except Exception as error:  # noqa: BLE001 - cleanup must not mask the test result
            print("cleanup of bucket %s failed: %r" % (name, error))
