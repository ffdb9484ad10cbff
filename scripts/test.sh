#!/usr/bin/env bash
# The whole test suite: unit and end-to-end tests, browser checks, and nbval on the notebooks.
# nbval runs each notebook with its default parameters (the demo company, period 2026-11), which read
# the outputs of the steps before it, so the demo cycle runs first.
set -euo pipefail
venv="${VENV:-.venv}"
"$venv/bin/salesops" run 2026-11 --quiet
exec "$venv/bin/pytest" -n 2 --dist loadfile -p no:cacheprovider \
  --nbval-lax --nbval-sanitize-with tests/nbval_sanitize.cfg tests notebooks "$@"
