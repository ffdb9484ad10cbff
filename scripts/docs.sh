#!/usr/bin/env bash
# Build the documentation site offline into docs/_site/ (open docs/_site/index.html), then check it:
# no broken internal link, every public function and class on its API page.
#   scripts/docs_build.py (a build tool, not part of the package) has quartodoc write the API pages
#   from the docstrings (the `docs` extra: quartodoc, griffe);
#   Quarto renders the site when a `quarto` binary is on the PATH, else pandoc (pypandoc-binary) does.
# Usage: scripts/docs.sh [--renderer auto|quarto|pandoc] [--strict]
#   --strict also fails on public functions whose docstring has no example or misses an `Args:` or
#   `Returns:` section (warnings otherwise).
# Environment: VENV (default .venv), DOCS_SITE (default docs/_site).
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${VENV:-.venv}"
site="${DOCS_SITE:-docs/_site}"
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --strict) args+=(--strict) ;;
    --renderer) args+=(--renderer "$2"); shift ;;
    *) echo "scripts/docs.sh: unknown option $1 (use --renderer auto|quarto|pandoc, --strict)" >&2; exit 2 ;;
  esac
  shift
done
if ! "$venv/bin/python" -c "import quartodoc" 2>/dev/null; then
  echo "installing the docs extra (quartodoc, griffe) into $venv" >&2
  if command -v uv >/dev/null 2>&1; then
    uv pip install -q --python "$venv/bin/python" -e '.[docs]'
  else
    "$venv/bin/python" -m pip install -q -e '.[docs]'
  fi
fi
# one process builds and checks, so the package is imported once
exec "$venv/bin/python" scripts/check_docs.py --build --docs docs "$site" ${args[@]+"${args[@]}"}
