#!/usr/bin/env bash
# Builds commit $1 (release) in /work/wt-bisect and measures 64 MiB GET c=1 (MiB/s, server CPU) twice.
set -u
c=$1
bin=/work/bench/coffer-$c
if [ ! -x $bin ]; then
  (cd /work/wt-bisect && git checkout -q --detach $c && nice -n 5 cargo build --release -p coffer >/tmp/bisect-build.log 2>&1) || { echo build failed; exit 1; }
  cp /work/wt-bisect/target/release/coffer $bin
fi
export COFFER_ROOT_SECRET_ID=AKIDbench COFFER_ROOT_SECRET_KEY=benchsecret
for r in 1 2; do
  rm -rf /work/bench/d2 && mkdir -p /work/bench/d2 && chmod 700 /work/bench/d2
  COFFER_DATA_DIR=/work/bench/d2 COFFER_ADDRESS=127.0.0.1:19001 COFFER_ROOT_APPID=1250000000 COFFER_LOG=warn nice -n -10 $bin serve >/tmp/b2.log 2>&1 &
  PID=$!; sleep 1.5
  nice -n -10 /work/bench/coffer-691af41 bench --endpoint http://127.0.0.1:19001 --server-pid $PID --workload get --size 64MiB --concurrency 1 --duration 8s 2>/dev/null | grep '^|' | tail -1 | awk -F'|' -v c=$c '{gsub(/[ %]/,"",$10); gsub(/[ %]/,"",$15); printf "%s MiB/s %s server%% %s cpu-ms/MiB %.3f other %s\n", c, $10, $15, $15*10/$10, $17}'
  kill $PID; wait $PID 2>/dev/null
done
