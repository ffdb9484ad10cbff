"""A backfilled period is identical to the same period run alone: reuse across periods changes no figure.

A backfill reuses what earlier periods computed (forecasts through the content-addressed cache: a
period's backtest windows are the forecasts earlier cycles made). The same periods run one at a time,
with the cache wiped before each run so every forecast is fitted afresh, must give the same products.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

SALESOPS = str(Path(sys.executable).parent / "salesops")
PERIODS = ("2026-09", "2026-10")
# columns that name where a run wrote (they differ by output folder, not by figure)
LOCATION_COLUMNS = {"path", "source"}

pytestmark = pytest.mark.slow


def salesops(*args):
    done = subprocess.run(
        [SALESOPS, *map(str, args)], capture_output=True, text=True, check=False, timeout=900
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("identity")
    salesops("demo", root / "data", "--skus", 24, "--months", 36, "--reps", 6)
    params = root / "params.yaml"
    params.write_text("company: Identity Test\n")
    common = ("--params", params, "--data", root / "data", "--format", "html")
    salesops("backfill", *PERIODS, "--out", root / "backfilled", *common)
    alone = root / "alone"
    for period in PERIODS:
        shutil.rmtree(alone / ".cache", ignore_errors=True)
        salesops("run", period, "--out", alone, *common)
    return root / "backfilled", alone


def test_every_product_of_a_backfilled_period_equals_the_period_run_alone(runs):
    backfilled, alone = runs
    period = PERIODS[-1]
    names = sorted(p.relative_to(alone / period) for p in (alone / period / "data").glob("*/*.parquet"))
    assert len(names) > 40
    assert names == sorted(
        p.relative_to(backfilled / period) for p in (backfilled / period / "data").glob("*/*.parquet")
    )
    for name in names:
        a = pd.read_parquet(alone / period / name)
        b = pd.read_parquet(backfilled / period / name)
        keep = [c for c in a.columns if c not in LOCATION_COLUMNS]
        pd.testing.assert_frame_equal(a[keep], b[keep], check_exact=True, obj=str(name))
    # the backfill did reuse: its cache holds the earlier period's forecasts
    assert any((backfilled / ".cache" / "forecasts").rglob("*.parquet"))
