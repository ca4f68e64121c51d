#!/usr/bin/env bash
# Quiet-machine re-run of the 4 KiB and 64 MiB tables: 3 rounds, fresh data dir per phase.
set -u
BIN=${1:-/work/bench/coffer-691af41}
export COFFER_ROOT_SECRET_ID=AKIDbench COFFER_ROOT_SECRET_KEY=benchsecret
mkdir -p /work/bench/data
"$BIN" bench --limits --data-dir /work/bench/data 2>/dev/null | grep '^|'
for round in 1 2 3; do
  for phase in small large; do
    rm -rf /work/bench/data && mkdir -p /work/bench/data && chmod 700 /work/bench/data
    COFFER_DATA_DIR=/work/bench/data COFFER_ADDRESS=127.0.0.1:19000 COFFER_ROOT_APPID=1250000000 \
      COFFER_LOG=warn "$BIN" serve >/tmp/bench-server.log 2>&1 &
    PID=$!
    sleep 1.5
    b() { "$BIN" bench --endpoint http://127.0.0.1:19000 --server-pid $PID "$@" 2>/dev/null | grep '^|' | tail -1 | sed "s|^|$round |"; }
    if [ $phase = small ]; then
      b --workload put --size 4KiB --concurrency 1 --duration 10s
      b --workload put --size 4KiB --concurrency 32 --duration 10s
      b --workload get --size 4KiB --concurrency 1 --duration 10s
      b --workload get --size 4KiB --concurrency 32 --duration 10s
    else
      b --workload put --size 64MiB --concurrency 1 --duration 15s
      b --workload put --size 64MiB --concurrency 4 --duration 15s
      b --workload get --size 64MiB --concurrency 1 --duration 10s
      b --workload get --size 64MiB --concurrency 4 --duration 10s
    fi
    kill $PID; wait $PID 2>/dev/null
  done
done
