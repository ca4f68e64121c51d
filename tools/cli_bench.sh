#!/usr/bin/env bash
# The `coffer` command line against peers (AWS CLI, rclone) on the same server, on loopback:
# one large file up and down, a tree of small files up and down, and a sync that finds
# nothing to do. Prints a markdown table of medians of $RUNS runs (seconds and MiB/s).
#
#   cargo build --release -p coffer
#   tools/cli_bench.sh                       # defaults: 1 GiB file, 1000 × 16 KiB tree, 3 runs
#   BIG_MIB=256 FILES=200 RUNS=1 tools/cli_bench.sh
#
# Tools that are not installed are left out (AWS CLI: `pip install awscli`, or the acceptance
# suite's tests/acceptance/.venv; rclone: `apt install rclone`).
set -euo pipefail
cd "$(dirname "$0")/.."

COFFER=${COFFER_BIN:-target/release/coffer}
BIG_MIB=${BIG_MIB:-1024}
FILES=${FILES:-1000}
FILE_KIB=${FILE_KIB:-16}
RUNS=${RUNS:-3}
ID=AKIDclibench
KEY=clibenchsecret
BUCKET=clibench-1250000000

AWS=${AWS_BIN:-$(command -v aws || true)}
[ -z "$AWS" ] && [ -x tests/acceptance/.venv/bin/aws ] && AWS=tests/acceptance/.venv/bin/aws
RCLONE=$(command -v rclone || true)

work=$(mktemp -d)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
COFFER_DATA_DIR=$work/data COFFER_ADDRESS=127.0.0.1:$port COFFER_ROOT_SECRET_ID=$ID \
  COFFER_ROOT_SECRET_KEY=$KEY COFFER_ROOT_APPID=1250000000 COFFER_LOG=warn \
  "$COFFER" serve >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
  (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break
  sleep 0.1
done

export COFFER_CONFIG=$work/coffer.toml
"$COFFER" config --endpoint "http://127.0.0.1:$port" --secret-id $ID --secret-key $KEY >/dev/null
"$COFFER" -q mb cos://$BUCKET

export AWS_ACCESS_KEY_ID=$ID AWS_SECRET_ACCESS_KEY=$KEY AWS_DEFAULT_REGION=us-east-1
export AWS_CONFIG_FILE=$work/aws-config
printf '[default]\ns3 =\n    addressing_style = path\n' >"$AWS_CONFIG_FILE"
: >"$work/rclone.conf"
unset AWS_CA_BUNDLE
export RCLONE_CONFIG=$work/rclone.conf RCLONE_CONFIG_COFFER_ENV_AUTH=false
export RCLONE_CONFIG_COFFER_REGION=us-east-1
export RCLONE_CONFIG_COFFER_TYPE=s3 RCLONE_CONFIG_COFFER_PROVIDER=Other
export RCLONE_CONFIG_COFFER_ENDPOINT=http://127.0.0.1:$port
export RCLONE_CONFIG_COFFER_ACCESS_KEY_ID=$ID RCLONE_CONFIG_COFFER_SECRET_ACCESS_KEY=$KEY
export RCLONE_CONFIG_COFFER_FORCE_PATH_STYLE=true

echo "preparing ${BIG_MIB} MiB file and ${FILES} × ${FILE_KIB} KiB tree" >&2
head -c $((BIG_MIB << 20)) /dev/urandom >"$work/big.bin"
mkdir -p "$work/tree"
for i in $(seq "$FILES"); do
  d=$work/tree/d$((i % 10))/e$((i % 7))
  mkdir -p "$d"
  head -c $((FILE_KIB << 10)) /dev/urandom >"$d/f$i.bin"
done
tree_mib=$(python3 -c "print(round($FILES * $FILE_KIB / 1024, 1))")

# seconds <command…>: wall time of one run.
seconds() {
  local start end
  start=$(date +%s.%N)
  "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; return 1; }
  end=$(date +%s.%N)
  python3 -c "print($end - $start)"
}

# median <numbers…>
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# measure <label> <MiB or -> <prepare command> -- <command…>: runs RUNS times, prints a row.
measure() {
  local label=$1 mib=$2 prepare=$3
  shift 4
  local times=()
  for _ in $(seq "$RUNS"); do
    eval "$prepare"
    times+=("$(seconds "$@")")
  done
  local m
  m=$(median "${times[@]}")
  if [ "$mib" = - ]; then
    printf '| %s | %.2f s | |\n' "$label" "$m"
  else
    printf '| %s | %.2f s | %.0f MiB/s |\n' "$label" "$m" "$(python3 -c "print($mib / $m)")"
  fi
}

reset() { "$COFFER" -q rm -r --yes "cos://$BUCKET/" >/dev/null 2>&1 || true; rm -rf "$work/down"; }

echo "| Tool and workload | Time (median of $RUNS) | Rate |"
echo "| --- | --- | --- |"
measure "coffer cp, ${BIG_MIB} MiB up" "$BIG_MIB" reset -- "$COFFER" -q cp "$work/big.bin" "cos://$BUCKET/big.bin"
measure "coffer cp, ${BIG_MIB} MiB down" "$BIG_MIB" 'rm -rf $work/down; mkdir -p $work/down' -- "$COFFER" -q cp "cos://$BUCKET/big.bin" "$work/down/big.bin"
measure "coffer cp -r, ${FILES} files (${tree_mib} MiB) up" "$tree_mib" reset -- "$COFFER" -q cp -r --jobs 16 "$work/tree" "cos://$BUCKET/tree/"
measure "coffer cp -r, ${FILES} files down" "$tree_mib" 'rm -rf $work/down' -- "$COFFER" -q cp -r --jobs 16 "cos://$BUCKET/tree/" "$work/down"
measure "coffer sync, ${FILES} files, nothing changed" - : -- "$COFFER" -q sync --jobs 16 "$work/tree" "cos://$BUCKET/tree/"

if [ -n "$AWS" ]; then
  s3=(--endpoint-url "http://127.0.0.1:$port" --only-show-errors)
  measure "aws s3 cp, ${BIG_MIB} MiB up" "$BIG_MIB" reset -- "$AWS" "${s3[@]}" s3 cp "$work/big.bin" "s3://$BUCKET/big.bin"
  measure "aws s3 cp, ${BIG_MIB} MiB down" "$BIG_MIB" 'rm -rf $work/down; mkdir -p $work/down' -- "$AWS" "${s3[@]}" s3 cp "s3://$BUCKET/big.bin" "$work/down/big.bin"
  measure "aws s3 cp --recursive, ${FILES} files up" "$tree_mib" reset -- "$AWS" "${s3[@]}" s3 cp --recursive "$work/tree" "s3://$BUCKET/tree/"
  measure "aws s3 cp --recursive, ${FILES} files down" "$tree_mib" 'rm -rf $work/down' -- "$AWS" "${s3[@]}" s3 cp --recursive "s3://$BUCKET/tree/" "$work/down"
  measure "aws s3 sync, ${FILES} files, nothing changed" - : -- "$AWS" "${s3[@]}" s3 sync "$work/tree" "s3://$BUCKET/tree/"
fi

if [ -n "$RCLONE" ]; then
  measure "rclone copyto, ${BIG_MIB} MiB up" "$BIG_MIB" reset -- "$RCLONE" copyto "$work/big.bin" "coffer:$BUCKET/big.bin"
  measure "rclone copyto, ${BIG_MIB} MiB down" "$BIG_MIB" 'rm -rf $work/down; mkdir -p $work/down' -- "$RCLONE" copyto "coffer:$BUCKET/big.bin" "$work/down/big.bin"
  measure "rclone copy, ${FILES} files up" "$tree_mib" reset -- "$RCLONE" copy --transfers 16 "$work/tree" "coffer:$BUCKET/tree"
  measure "rclone copy, ${FILES} files down" "$tree_mib" 'rm -rf $work/down' -- "$RCLONE" copy --transfers 16 "coffer:$BUCKET/tree" "$work/down"
  measure "rclone sync --checksum, ${FILES} files, nothing changed" - : -- "$RCLONE" sync --checksum --checkers 16 "$work/tree" "coffer:$BUCKET/tree"
fi
