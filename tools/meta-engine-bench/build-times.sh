#!/usr/bin/env bash
# Cold release build of the benchmark with exactly one engine compiled in, for each engine,
# plus a baseline with none, each in its own empty target directory. Reports wall and CPU
# time of the whole build and cargo's per-crate timings for the crates the engine adds.
#
#   ./build-times.sh            # -j 1 (default: other builds share this machine)
#   JOBS=2 ./build-times.sh     # all cores
#
# Needs the crates downloaded already (run `cargo fetch` once); builds under
# ${BUILD_ROOT:-/tmp/meta-bench-build}, which it deletes first.
set -euo pipefail
cd "$(dirname "$0")"
JOBS=${JOBS:-1}
ROOT=${BUILD_ROOT:-/tmp/meta-bench-build}
rm -rf "$ROOT"
mkdir -p "$ROOT"
summary="$ROOT/summary.txt"
: >"$summary"

for engine in none redb sqlite fjall; do
    target="$ROOT/$engine"
    features=(--no-default-features)
    [[ $engine != none ]] && features+=(--features "$engine")
    echo "== $engine: cargo build --release -j $JOBS ${features[*]}" >&2
    /usr/bin/time -f "%e %U %S" -o "$ROOT/$engine.time" \
        env CARGO_TARGET_DIR="$target" nice -n 10 \
        cargo build --release --offline --locked -j "$JOBS" "${features[@]}" --timings \
        >"$ROOT/$engine.log" 2>&1
    read -r wall user sys <"$ROOT/$engine.time"
    echo "$engine wall=${wall}s cpu=$(awk "BEGIN{print $user + $sys}")s" | tee -a "$summary"
done

# Per-crate durations (seconds, as cargo --timings measured them) of the crates each engine
# adds on top of the baseline, largest first.
python3 - "$ROOT" <<'EOF' | tee -a "$summary"
import json, re, sys, pathlib
root = pathlib.Path(sys.argv[1])

def units(engine):
    html = (root / engine / "cargo-timings" / "cargo-timing.html").read_text()
    data = re.search(r"const UNIT_DATA = (\[.*?\]);\n", html, re.S).group(1)
    out = {}
    for u in json.loads(data):
        name = f"{u['name']} {u['version']}" + (" (build script)" if u.get("target", "").strip().startswith("build") else "")
        out[name] = out.get(name, 0.0) + float(u["duration"])
    return out

base = units("none")
for engine in ["redb", "sqlite", "fjall"]:
    mine = units(engine)
    added = {k: v for k, v in mine.items() if k not in base}
    total = sum(added.values())
    top = sorted(added.items(), key=lambda kv: -kv[1])[:6]
    print(f"{engine}: {len(added)} crate units added, {total:.1f} s summed; largest: "
          + ", ".join(f"{k} {v:.1f}s" for k, v in top))
EOF
