"""Wall time of `salesops backfill` over 12 demo periods (default size), HTML and PDF, per period.

    .venv/bin/python benchmarks/backfill.py [--first 2025-12] [--last 2026-11] [--keep DIR]

Target (issue 7): a year of history for the demo company in CI-friendly time. Prints each period's
wall time and the slowest steps, then what the last period's follow-up can score (cycles by lag).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import pandas as pd

from salesops import runner


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--first", default="2025-12")
    parser.add_argument("--last", default="2026-11")
    parser.add_argument("--keep", help="write the reports here instead of a temporary folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(args.keep or tmp)
        t0 = time.perf_counter()
        results = runner.backfill(args.first, args.last, out=out)
        total = time.perf_counter() - t0
        print(f"{'period':<10}{'wall s':>8}  slowest steps (execute s)")
        for result in results:
            record = json.loads((out / result.period / "run.json").read_text())
            slow = sorted(record["steps"].items(), key=lambda kv: -kv[1]["execute_s"])[:3]
            print(
                f"{result.period:<10}{record['duration_s']:>8.1f}  "
                + ", ".join(f"{name} {fig['execute_s']:.1f}" for name, fig in slow)
            )
        lag = pd.read_parquet(out / args.last / "data" / "follow_up" / "accuracy_by_lag.parquet")
        cycles = {int(k): int(v) for k, v in lag.groupby("lag")["period"].nunique().items()}
        alerts = json.loads((out / args.last / "run.json").read_text())["alerts"]
    print(
        f"{len(results)} periods {args.first}..{args.last}: {total:.1f} s "
        f"({total / len(results):.1f} s per period); {args.last}'s follow-up scores cycles by lag {cycles}, "
        f"{len(alerts)} alert(s)"
    )


if __name__ == "__main__":
    main()
