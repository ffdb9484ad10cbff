#!/usr/bin/env bash
# Create the virtual environment and install salesops with its test tools. Usage: scripts/setup.sh [VENV]
set -euo pipefail
venv="${1:-.venv}"
py="${PYTHON:-python3}"
if ! command -v uv >/dev/null 2>&1; then
  "$py" -m pip install -q uv >/dev/null 2>&1 || true
fi
if command -v uv >/dev/null 2>&1; then
  [ -x "$venv/bin/python" ] || uv venv -q "$venv"
  uv pip install -q --compile-bytecode --python "$venv/bin/python" -e '.[test,docs]'
else
  [ -x "$venv/bin/python" ] || "$py" -m venv "$venv"
  "$venv/bin/python" -m pip install -q --upgrade pip
  "$venv/bin/python" -m pip install -q -e '.[test,docs]'
fi
"$venv/bin/python" -m ipykernel install --sys-prefix --name python3 >/dev/null
echo "environment ready: $venv ($("$venv/bin/python" --version))"
