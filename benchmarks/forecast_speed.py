"""Speed benchmark: series per second of the default forecaster vs statsforecast AutoETS + AutoTheta.

    .venv/bin/python benchmarks/forecast_speed.py [--sizes 100,1000,10000] [--workers 2] [--dask]
                                                  [--no-statsforecast] [--horizon 18]

Series are M3-like monthly series drawn from pbs-monthly and aus-retail (each cut to a random
window of 60-144 months, values rescaled by a random factor so repeats are not identical), h = 18.
For each size: wall seconds, series/s, CPU seconds per series (this process + its workers) and the
peak resident memory of any process, for salesops' default (local process pool on `--workers`
cores) and for statsforecast's AutoETS + AutoTheta (`n_jobs = --workers`, run from `.venv-bench`).
`--dask` adds the same default run on a dask LocalCluster. Run the 10,000 size once: it takes long
on a shared machine. Printed figures, not a timed test.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _data

from salesops.demand import forecast

ROOT = Path(__file__).resolve().parents[1]
BENCH_PYTHON = ROOT / ".venv-bench" / "bin" / "python"


def sample_series(n: int, seed: int = 0) -> pd.DataFrame:
    """`n` M3-like monthly series (60-144 months) drawn from the public data sets."""
    rng = np.random.default_rng(seed)
    pool = []
    for name in _data.DATASETS:
        df = _data.load(name)
        pool += [g["y"].to_numpy() for _, g in df.groupby("unique_id") if (g["y"] > 0).all() and len(g) >= 60]
    frames = []
    for i in range(n):
        y = pool[rng.integers(len(pool))]
        length = int(rng.integers(60, min(144, len(y)) + 1))
        start = int(rng.integers(0, len(y) - length + 1))
        values = y[start : start + length] * rng.uniform(0.5, 2.0)
        frames.append(
            pd.DataFrame(
                {
                    "unique_id": f"s{i:05d}",
                    "ds": pd.date_range("2000-01", periods=length, freq="MS"),
                    "y": values,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def _cpu() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _peak_mb() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return max(me.ru_maxrss, kids.ru_maxrss) / 1024


def time_default(df: pd.DataFrame, horizon: int, workers: int, engine: str = "local") -> dict:
    cpu, start = _cpu(), time.perf_counter()
    out = forecast(df, horizon, workers=workers, engine=engine)
    wall = time.perf_counter() - start
    n = df["unique_id"].nunique()
    assert len(out) == n * horizon
    return {
        "wall_s": wall,
        "series_per_s": n / wall,
        "cpu_ms_per_series": (_cpu() - cpu) / n * 1000,
        "peak_mb": _peak_mb(),
    }


def time_statsforecast(df: pd.DataFrame, horizon: int, workers: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "train.parquet"
        df.to_parquet(path, index=False)
        cpu, start = _cpu(), time.perf_counter()
        done = subprocess.run(
            [
                str(BENCH_PYTHON),
                str(ROOT / "benchmarks" / "_statsforecast_run.py"),
                str(path),
                str(Path(tmp) / "fc.parquet"),
                str(horizon),
                "12",
                "AutoETS,AutoTheta",
                str(workers),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        wall = time.perf_counter() - start
    n = df["unique_id"].nunique()
    fit = float(done.stdout.strip().splitlines()[-1])
    return {
        "wall_s": wall,
        "fit_s": fit,
        "series_per_s": n / fit,
        "cpu_ms_per_series": (_cpu() - cpu) / n * 1000,
        "peak_mb": _peak_mb(),
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="100,1000,10000")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--horizon", type=int, default=18)
    ap.add_argument("--dask", action="store_true", help="also time the dask LocalCluster engine")
    ap.add_argument("--no-statsforecast", action="store_true")
    args = ap.parse_args(argv)
    rows = []
    for size in [int(s) for s in args.sizes.split(",")]:
        df = sample_series(size)
        print(
            f"\n== {size} series, mean length {df.groupby('unique_id').size().mean():.0f}, h = {args.horizon}",
            flush=True,
        )
        runs = [("salesops default (local)", lambda df=df: time_default(df, args.horizon, args.workers))]
        if args.dask:
            runs.append(
                (
                    "salesops default (dask LocalCluster)",
                    lambda df=df: time_default(df, args.horizon, args.workers, "dask"),
                )
            )
        if not args.no_statsforecast:
            if BENCH_PYTHON.exists():
                runs.append(
                    (
                        "statsforecast AutoETS+AutoTheta",
                        lambda df=df: time_statsforecast(df, args.horizon, args.workers),
                    )
                )
            else:
                print(
                    f"(statsforecast skipped: run benchmarks/setup_statsforecast_env.sh to create {BENCH_PYTHON})"
                )
        for label, run in runs:
            result = run()
            rows.append({"series": size, "run": label, **result})
            print(f"{label}: " + ", ".join(f"{k} {v:,.2f}" for k, v in result.items()), flush=True)
    print("\n" + pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:,.2f}"))


if __name__ == "__main__":
    main()
