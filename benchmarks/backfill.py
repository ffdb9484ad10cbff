"""Wall time of `salesops backfill` over the demo company's seven periods (2026-05 to 2026-11), per period.

    .venv/bin/python benchmarks/backfill.py [--first 2026-05] [--last 2026-11] [--keep DIR] [--peer]

Target (issue 14): at most 15 s a period for the demo company (150 SKUs) on 2 cores, HTML and PDF.
Prints each period's wall time and its slowest steps, then what the last period's follow-up can score
(cycles by lag) and its alerts. `--peer` then runs the same periods one by one with the forecast cache
emptied before each (every forecast fitted afresh, as before the cache existed), side by side in the
same process, and prints the ratio: what reuse across periods saves on this machine now.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import pandas as pd

from salesops import runner


def _report(out: Path, results: list, total: float, label: str) -> None:
    print(f"{label}: {'period':<10}{'wall s':>8}  slowest steps (execute s)")
    for result in results:
        record = json.loads((out / result.period / "run.json").read_text())
        done = {k: v for k, v in record["steps"].items() if "execute_s" in v}
        slow = sorted(done.items(), key=lambda kv: -kv[1]["execute_s"])[:3]
        print(
            f"{'':<{len(label) + 2}}{result.period:<10}{record['duration_s']:>8.1f}  "
            + ", ".join(f"{name} {fig['execute_s']:.1f}" for name, fig in slow)
        )
    print(f"{label}: {len(results)} periods in {total:.1f} s ({total / len(results):.1f} s per period)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--first", default="2026-05")
    parser.add_argument("--last", default="2026-11")
    parser.add_argument("--keep", help="write the reports here instead of a temporary folder")
    parser.add_argument("--peer", action="store_true", help="also run the periods one by one without reuse")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(args.keep or tmp) / "backfill"
        t0 = time.perf_counter()
        results = runner.backfill(args.first, args.last, out=out)
        total = time.perf_counter() - t0
        _report(out, results, total, "backfill")
        lag = pd.read_parquet(out / args.last / "data" / "follow_up" / "accuracy_by_lag.parquet")
        cycles = {int(k): int(v) for k, v in lag.groupby("lag")["period"].nunique().items()}
        alerts = json.loads((out / args.last / "run.json").read_text())["alerts"]
        print(f"{args.last}'s follow-up scores cycles by lag {cycles}; {len(alerts)} alert(s)")
        if args.peer:
            alone = Path(args.keep or tmp) / "alone"
            t0 = time.perf_counter()
            singles = []
            for month in pd.period_range(args.first, args.last, freq="M"):
                shutil.rmtree(alone / ".cache" / "forecasts", ignore_errors=True)
                singles.append(runner.run(str(month), out=alone))
            peer = time.perf_counter() - t0
            _report(alone, singles, peer, "one by one, no reuse")
            print(f"backfill / one by one: {total / peer:.2f}")


if __name__ == "__main__":
    main()
