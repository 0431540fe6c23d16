#!/usr/bin/env bash
# The servers the benches measure voxhost against, each in its own virtual environment under .venvs/, at the
# versions docs/benchmarks.md names. Usage: bench/setup.sh [DIR] (default .venvs); ./scripts/test runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
root="${1:-.venvs}"

install() {
  local dir="$root/$1"
  shift
  [ -x "$dir/bin/python" ] || python3 -m venv "$dir"
  "$dir/bin/pip" install --quiet --disable-pip-version-check "$@"
}

install wyoming-piper 'wyoming-piper==2.5.2'
install wyoming-faster-whisper 'wyoming-faster-whisper==3.8.1'
