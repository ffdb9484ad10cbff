# salesops: `make demo` runs seven monthly cycles of the demo company (2026-05 to 2026-11) and renders their reports; `make test` runs the whole test suite.
# Both create the environment first (.venv, with uv when available, else pip).
VENV ?= .venv
PY := $(VENV)/bin/python
PERIOD ?= 2026-11
DEMO_FROM ?= 2026-05

.PHONY: setup demo test test-fast lint system-deps benchmarks docs clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	bash scripts/setup.sh $(VENV)
	@touch $@

demo: setup
	$(VENV)/bin/salesops backfill $(DEMO_FROM) $(PERIOD)
	@echo "Open reports/index.html (every period), then reports/$(PERIOD)/06_follow_up.html (how the last cycles did) and reports/$(PERIOD)/05_executive_review.html (the plan to approve; PDF: reports/$(PERIOD)/executive_review.pdf)"

system-deps:
	bash scripts/system-deps.sh

test: setup system-deps
	VENV=$(VENV) bash scripts/with-postgres.sh bash scripts/test.sh

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test-fast: setup
	$(VENV)/bin/pytest -n 2 -m "not slow and not browser and not postgres"

docs: setup
	bash scripts/docs.sh

benchmarks: setup
	$(PY) benchmarks/cycle.py
	$(PY) benchmarks/backfill.py
	$(PY) benchmarks/supply_scale.py
	$(PY) benchmarks/forecast_accuracy.py --no-statsforecast
	$(PY) benchmarks/forecast_speed.py --sizes 100,1000 --no-statsforecast

clean:
	rm -rf reports/*/ reports/index.html reports/.build reports/.failed reports/.cache
