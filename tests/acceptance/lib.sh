# shellcheck shell=bash
# Sourced by tests/acceptance/run.sh and tests/cluster/run.sh: the checks, the virtualenv and
# the argument handling both suites share.
#
# Needs: here (the suite's directory), repo (the repository root).
# Sets: COFFER_BIN (default <repo>/target/release/coffer, never built here), venv (the
# virtualenv $ACCEPTANCE_VENV, default tests/acceptance/.venv, created and kept in step with
# tests/acceptance/requirements.txt), PATH (the venv first).

export COFFER_BIN="${COFFER_BIN:-$repo/target/release/coffer}"
if [ ! -x "$COFFER_BIN" ]; then
  echo "run.sh: no coffer binary at $COFFER_BIN; build it with 'cargo build --release -p coffer'" >&2
  exit 2
fi

venv="${ACCEPTANCE_VENV:-$repo/tests/acceptance/.venv}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
stamp="$venv/.requirements.sha256"
wanted="$(sha256sum "$repo/tests/acceptance/requirements.txt" | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$wanted" ]; then
  "$venv/bin/python" -m pip install -q --disable-pip-version-check \
    -r "$repo/tests/acceptance/requirements.txt"
  echo "$wanted" > "$stamp"
fi
export PATH="$venv/bin:$PATH"

# pytest_arguments ARG...: sets the array `args` to the arguments with file arguments given
# relative to $here (or to the current directory) made absolute; the whole of $here when no
# file is named.
pytest_arguments() {
  args=()
  local have_path=no arg file
  for arg in "$@"; do
    case "$arg" in
      -*) args+=("$arg") ;;
      *)
        file="${arg%%::*}"
        if [ -e "$here/$file" ] && [ ! -e "$file" ]; then
          args+=("$here/$arg"); have_path=yes
        elif [ -e "$file" ]; then
          args+=("$(realpath "$file")${arg#"$file"}"); have_path=yes
        else
          args+=("$arg")
        fi
        ;;
    esac
  done
  if [ "$have_path" = no ]; then
    args=("$here" "${args[@]}")
  fi
}
