#!/usr/bin/env bash
# S3 conformance run against ceph/s3-tests itself (the upstream suite, not the PyPI
# packaging that run.sh uses), as its README runs it: every test of s3tests/functional with
# the suite's default markers (no -m filter), the suite's two users "main" and "alt".
#
# Usage: tests/s3tests/upstream.sh CHECKOUT [extra pytest arguments]
#   CHECKOUT  a work tree of https://github.com/ceph/s3-tests (not vendored: CI machines
#             reach package registries only, so this run is made by hand and its counts are
#             recorded in docs/compatibility.md with the suite's commit).
#
# The suite also needs a "tenant" user for its per-test clean-up (a third ordinary account
# here; Coffer has no RGW tenants, so the tenant tests fail) and IAM/STS sections (pointed
# at credentials that do not exist: Coffer has no IAM API). Clean-up of buckets goes through
# the same plugin as run.sh (ListObjectVersions is not implemented yet).
#
# Output: "upstream s3-tests: P passed, F failed, E errors, S skipped (of N)" and, in the work
# directory (kept with S3TESTS_KEEP=1), outcomes.txt and failures.txt.
#
# Environment: COFFER_BIN, S3TESTS_WORKERS (pytest-xdist workers, default 1: the suite's
# tests share accounts, and some, like test_list_buckets_paginated, need them to themselves),
# S3TESTS_KEEP=1, XDG_CACHE_HOME.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
if [ $# -lt 1 ] || [ ! -f "$1/s3tests/functional/__init__.py" ]; then
  echo "usage: $0 CEPH_S3_TESTS_CHECKOUT [pytest args]" >&2
  exit 2
fi
SUITE="$(cd "$1" && pwd)"
shift
cd "$ROOT"

WORKERS="${S3TESTS_WORKERS:-1}"
PYTHON="${PYTHON:-python3}"

# --- virtualenv: the suite's own requirements, plus xdist and timeouts -------------------
REQ_HASH="$(cat "$SUITE/requirements.txt" | sha256sum | cut -c1-12)"
VENV="${XDG_CACHE_HOME:-/tmp}/coffer-s3tests-upstream-venv-$REQ_HASH"
if [ ! -f "$VENV/.complete" ]; then
  echo "== upstream s3-tests: creating virtualenv $VENV"
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check --no-input \
    -r "$SUITE/requirements.txt" pytest-xdist pytest-timeout
  touch "$VENV/.complete"
fi
VPY="$VENV/bin/python"

BIN="${COFFER_BIN:-$ROOT/target/release/coffer}"
if [ ! -x "$BIN" ]; then
  cargo build --release -p coffer
  BIN="$ROOT/target/release/coffer"
fi

# shellcheck source=tests/s3tests/server.sh
. "$HERE/server.sh"
start_coffer
commit="$(git -C "$SUITE" rev-parse --short HEAD 2>/dev/null || echo unknown)"
echo "== upstream s3-tests ($commit) against $BIN on 127.0.0.1:$PORT"

# Format: s3tests.conf.SAMPLE of the suite.
cat >"$WORK/s3tests.conf" <<CONF
[DEFAULT]
host = 127.0.0.1
port = $PORT
is_secure = False
ssl_verify = False

[fixtures]
bucket prefix = s3t-{random}-

[s3 main]
display_name = $MAIN_UIN
user_id = $MAIN_UIN
email = main@example.com
api_name = $REGION
access_key = $MAIN_ID
secret_key = $MAIN_KEY

[s3 alt]
display_name = $ALT_UIN
user_id = $ALT_UIN
email = alt@example.com
access_key = $ALT_ID
secret_key = $ALT_KEY

[s3 tenant]
display_name = $TENANT_UIN
user_id = $TENANT_UIN
email = tenant@example.com
access_key = $TENANT_ID
secret_key = $TENANT_KEY
tenant = testx

[iam]
email = iam@example.com
user_id = 0123456789abcdef
access_key = NOT-AN-ACCOUNT-IAM
secret_key = not-a-secret
display_name = iam

[iam root]
access_key = NOT-AN-ACCOUNT-ROOT
secret_key = not-a-secret
user_id = RGW11111111111111111
email = account1@example.com

[iam alt root]
access_key = NOT-AN-ACCOUNT-ALTROOT
secret_key = not-a-secret
user_id = RGW22222222222222222
email = account2@example.com
CONF

args=(s3tests/functional -p coffer_s3tests_plugin -p no:cacheprovider
  --timeout 120 -q -rN --tb=no --no-header)
if [ "$WORKERS" != "1" ]; then
  args+=(-n "$WORKERS" --dist loadfile)
fi
set +e
(
  cd "$SUITE"
  S3TEST_CONF="$WORK/s3tests.conf" PYTHONPATH="$HERE" PYTHONDONTWRITEBYTECODE=1 \
    COFFER_S3TESTS_SUITE_MODULE=s3tests.functional \
    COFFER_S3TESTS_OUTCOMES="$WORK/outcomes.txt" COFFER_S3TESTS_FAILURES="$WORK/failures.txt" \
    "$VPY" -m pytest "${args[@]}" "$@"
) >"$WORK/pytest.log" 2>&1
pytest_status=$?
set -e
case "$pytest_status" in
  0|1) ;;
  *) echo "upstream s3-tests: harness error: pytest exited with $pytest_status" >&2
     tail -n 30 "$WORK/pytest.log" >&2; exit 1 ;;
esac
"$VPY" - "$WORK/outcomes.txt" "$WORK/failures.txt" <<'PY'
import collections, re, sys
counts = collections.Counter(line.split(" ", 1)[0] for line in open(sys.argv[1]) if line.strip())
total = sum(counts.values())
# Failures whose first error is a 501 for a whole operation, by operation; the rest are
# behaviour differences to look at one by one (failures.txt has each first error line).
unimplemented = collections.Counter()
other = 0
for line in open(sys.argv[2]):
    if line.startswith("    "):
        found = re.search(r"\(NotImplemented\) when calling the (\w+) operation", line)
        if found:
            unimplemented[found.group(1)] += 1
        else:
            other += 1
print("upstream s3-tests: %d passed, %d failed, %d errors, %d skipped (of %d)" % (
    counts["passed"], counts["failed"], counts["error"], counts["skipped"], total))
print("  failing or erroring on a 501 operation: %d (%s)" % (
    sum(unimplemented.values()),
    ", ".join("%s %d" % (op, n) for op, n in unimplemented.most_common())))
print("  failing otherwise: %d (see failures.txt)" % other)
PY
cp "$WORK/outcomes.txt" "${S3TESTS_OUTCOMES_COPY:-/dev/null}" 2>/dev/null || true
status=0
