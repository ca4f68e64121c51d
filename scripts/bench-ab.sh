#!/usr/bin/env bash
# A/B regression check: the 4 KiB and 64 MiB cases of docs/performance.md for each server
# binary given, alternating binaries, two rounds, one fresh data directory per phase, and the
# same load generator (COFFER_BENCH_CLIENT, default target/release/coffer) for all of them.
# Usage: scripts/bench-ab.sh OLD_BINARY NEW_BINARY   (data in /work/bench/data)
set -u
export COFFER_ROOT_SECRET_ID=AKIDbench COFFER_ROOT_SECRET_KEY=benchsecret
for round in 1 2; do
for bin in "$@"; do
  for phase in small large; do
    rm -rf /work/bench/data && mkdir -p /work/bench/data && chmod 700 /work/bench/data
    COFFER_DATA_DIR=/work/bench/data COFFER_ADDRESS=127.0.0.1:19000 COFFER_ROOT_APPID=1250000000 \
      COFFER_LOG=warn nice -n -10 "$bin" serve >/tmp/bench-server.log 2>&1 &
    PID=$!
    sleep 1.5
    b() { nice -n -10 "${COFFER_BENCH_CLIENT:-target/release/coffer}" bench --endpoint http://127.0.0.1:19000 --server-pid $PID "$@" 2>/dev/null | grep '^|' | tail -1 | sed "s|^|$round $(basename $bin) |"; }
    if [ $phase = small ]; then
      b --workload put --size 4KiB --concurrency 1 --duration 10s
      b --workload put --size 4KiB --concurrency 32 --duration 10s
      b --workload get --size 4KiB --concurrency 1 --duration 10s
      b --workload get --size 4KiB --concurrency 32 --duration 10s
    else
      b --workload put --size 64MiB --concurrency 1 --duration 15s
      b --workload get --size 64MiB --concurrency 1 --duration 10s
    fi
    kill $PID; wait $PID 2>/dev/null
  done
done
done
