#!/usr/bin/env bash
# Builds the separate benchmark venv .venv-bench with statsforecast (pins pandas<3; never the main venv).
# usage: benchmarks/setup_statsforecast_env.sh   (from anywhere; creates <repo>/.venv-bench)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
venv="$repo/.venv-bench"
if command -v uv >/dev/null 2>&1; then
  uv venv --python 3.11 "$venv"
  uv pip install --python "$venv/bin/python" -r "$repo/benchmarks/requirements-statsforecast.txt"
else
  python3 -m venv "$venv"
  "$venv/bin/pip" install -r "$repo/benchmarks/requirements-statsforecast.txt"
fi
"$venv/bin/python" -c "import statsforecast, pandas; print('statsforecast', statsforecast.__version__, 'pandas', pandas.__version__)"
echo "ready: benchmarks/forecast_accuracy.py and forecast_speed.py will use $venv/bin/python"
