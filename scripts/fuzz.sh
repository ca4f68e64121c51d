#!/usr/bin/env bash
# Coverage-guided fuzzing of Coffer's network-input parsers and request pipeline (targets in
# fuzz/, bodies in crates/coffer-fuzz) with cargo-fuzz on the nightly toolchain. Installs
# cargo-fuzz if missing. New interesting inputs are added to fuzz/corpus/<target>/; crashes
# land in fuzz/artifacts/<target>/ and logs in fuzz/logs/<target>.log.
#
# Usage: scripts/fuzz.sh [--time SECONDS] [--parallel N] [--cmin] [target…]
#   --time SECONDS  how long to fuzz each target (default 60; 0: do not fuzz, e.g. with --cmin)
#   --parallel N    how many targets to fuzz at once (default 1; the fuzzers run under nice)
#   --cmin          minimise each target's corpus afterwards (cargo fuzz cmin by edges;
#                   seed-* and crash-* inputs are always kept)
#   target…         the targets to run (default: all, see `cargo +nightly fuzz list` in fuzz/)
#
# The corpora are also replayed on stable by `cargo test -p coffer-fuzz` (part of
# scripts/test.sh), so every input kept there stays green.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

time=60
parallel=1
cmin=false
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --time) time="$2"; shift 2 ;;
    --parallel) parallel="$2"; shift 2 ;;
    --cmin) cmin=true; shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done

if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "== installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo +nightly fuzz list)
fi

echo "== building ${#targets[@]} targets (nightly, sanitizer)"
for target in "${targets[@]}"; do
  nice -n 19 cargo +nightly fuzz build "$target" 2>&1 | grep -E '^error' -A5 || true
done

mkdir -p logs
run_one() {
  local target="$1"
  local dict=()
  [ -f "dict/$target.dict" ] && dict=("-dict=dict/$target.dict")
  mkdir -p "corpus/$target" "artifacts/$target"
  if nice -n 19 cargo +nightly fuzz run "$target" "corpus/$target" -- \
      -max_total_time="$time" -timeout=30 -rss_limit_mb=2048 -max_len=8192 \
      -print_final_stats=1 "${dict[@]}" >"logs/$target.log" 2>&1; then
    echo "$target: ok ($(grep -E '^stat::number_of_executed_units' "logs/$target.log" | awk '{print $2}') runs)"
  else
    echo "$target: FAILED, see fuzz/logs/$target.log and fuzz/artifacts/$target/"
    return 1
  fi
}

status=0
running=0
for target in "${targets[@]}"; do
  [ "$time" -gt 0 ] || break
  run_one "$target" &
  running=$((running + 1))
  if [ "$running" -ge "$parallel" ]; then
    wait -n || status=1
    running=$((running - 1))
  fi
done
while [ "$running" -gt 0 ]; do
  wait -n || status=1
  running=$((running - 1))
done

# Minimising keeps the inputs that reach new edges (hit counts ignored, so the corpora stay
# small: a few hundred files per target), plus every hand-made seed and every input that once
# found a bug (seed-*, crash-*), whatever they cover.
if $cmin; then
  for target in "${targets[@]}"; do
    echo "== minimising corpus/$target"
    kept=$(mktemp -d)
    find "corpus/$target" -maxdepth 1 -type f \( -name 'seed-*' -o -name 'crash-*' \) \
      -exec mv {} "$kept/" \;
    nice -n 19 cargo +nightly fuzz cmin "$target" "corpus/$target" -- -use_counters=0 \
      >"logs/$target.cmin.log" 2>&1 || status=1
    find "$kept" -maxdepth 1 -type f -exec mv {} "corpus/$target/" \;
    rmdir "$kept"
    echo "$target: $(find "corpus/$target" -type f | wc -l) files"
  done
fi
exit $status
