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

import pytest

from coffer_harness import (CofferServer, RecordingSession, cos_bucket_name, empty_cos_bucket,
                            empty_s3_bucket, isolate_client_environment, kill_all_servers,
                            make_cos_client, make_s3_client, unique_name)

# No test may send traffic anywhere but loopback, nor use a developer's own AWS configuration.
isolate_client_environment()

atexit.register(kill_all_servers)

_SESSION_SERVER = {}


def pytest_sessionfinish(session, exitstatus):
    kill_all_servers()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Attach the tail of the relevant server log to every failing test report."""
    outcome = yield
    report = outcome.get_result()
    if not (report.failed and call.when in ("setup", "call")):
        return
    servers = [value for value in getattr(item, "funcargs", {}).values()
               if isinstance(value, CofferServer)]
    if not servers and _SESSION_SERVER.get("server") is not None:
        servers = [_SESSION_SERVER["server"]]
    for server in servers:
        if not server.is_running():
            report.sections.append((
                "coffer server on port %d NOT RUNNING" % server.port,
                "the server process has exited (status %s)"
                % (server.process.returncode if server.process else None)))
        report.sections.append(("coffer server log (tail) %s" % server.log_path,
                                server.log_tail(40)))


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

# ----------------------------------------------------------------------------------------
# COS SDK clients
# ----------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def cos_recorder():
    return RecordingSession()


@pytest.fixture(scope="session")
def cos_client(coffer_server, cos_recorder):
    return make_cos_client(coffer_server, session=cos_recorder)


@pytest.fixture(scope="session")
def cos_proxy_client(coffer_server):
    return make_cos_client(coffer_server, mode="proxy")


@pytest.fixture(scope="session")
def cos_anonymous_client(coffer_server):
    return make_cos_client(coffer_server, anonymous=True)


@pytest.fixture(scope="session")
def cos_client_with(coffer_server):
    """Factory: a COS client with other credentials (wrong key, unknown id…)."""
    def factory(secret_id, secret_key, **config):
        return make_cos_client(coffer_server, secret_id=secret_id, secret_key=secret_key, **config)
    return factory


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

@pytest.fixture(scope="session")
def s3_client(coffer_server):
    return make_s3_client(coffer_server)


@pytest.fixture(scope="session")
def s3_client_with(coffer_server):
    def factory(access_key, secret_key, **config):
        return make_s3_client(coffer_server, access_key, secret_key, **config)
    return factory


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
