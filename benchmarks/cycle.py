"""Wall time of the whole demo cycle (default size), per step, with kernel-start and render overheads.

    .venv/bin/python benchmarks/cycle.py [--period 2026-11] [--keep DIR]

Target (issue 2): the whole cycle with HTML and PDF in under 90 s on a 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import nbformat
import papermill as pm

from salesops import kernels, runner


def kernel_start_seconds(repeats: int = 3) -> tuple[float, float]:
    """Cost of executing an empty notebook (kernel start, papermill bookkeeping, shutdown): cold, and
    on a kernel warmed ahead (what the runner does; the warm-up itself overlaps the previous step)."""
    with tempfile.TemporaryDirectory() as tmp:
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nb.cells = [nbformat.v4.new_code_cell("x = 1")]
        src = Path(tmp) / "empty.ipynb"
        nbformat.write(nb, src)
        cold, warm = [], []
        for _ in range(repeats):
            t0 = time.perf_counter()
            pm.execute_notebook(
                str(src),
                str(Path(tmp) / "out.ipynb"),
                kernel_name="python3",
                progress_bar=False,
                kernel_manager_class=kernels.kernel_manager_class(),
            )
            cold.append(time.perf_counter() - t0)
            with kernels.KernelPool([()]) as pool:
                km = pool.take()
                t0 = time.perf_counter()
                pm.execute_notebook(
                    str(src),
                    str(Path(tmp) / "out.ipynb"),
                    kernel_name="python3",
                    progress_bar=False,
                    engine_name=kernels.register_engine(),
                    km=km,
                )
                warm.append(time.perf_counter() - t0)
        return min(cold), min(warm)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--period", default="2026-11")
    parser.add_argument("--keep", help="write the reports here instead of a temporary folder")
    args = parser.parse_args()
    kernel, warm = kernel_start_seconds()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(args.keep or tmp)
        # First call generates and caches the demo company; time it apart from the cycle.
        t0 = time.perf_counter()
        from salesops import data, params

        data.demo_source(params.load(period=args.period, out=out))
        demo_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        runner.run(args.period, out=out)
        total = time.perf_counter() - t0
        record = json.loads((out / args.period / "run.json").read_text())
    print(f"demo company generated and cached: {demo_s:6.1f} s (once per seed/size)")
    print(
        f"kernel start + papermill overhead per notebook: {kernel:.2f} s cold, {warm:.2f} s on a warm kernel"
    )
    print(f"{'step':<20}{'execute s':>10}{'render s':>10}")
    execute = render = 0.0
    for step, figures in record["steps"].items():
        execute += figures["execute_s"]
        render += figures["render_s"]
        print(f"{step:<20}{figures['execute_s']:>10.1f}{figures['render_s']:>10.1f}")
    print(f"{'sum':<20}{execute:>10.1f}{render:>10.1f}")
    print(
        f"kernel overhead (7 notebooks, warm): {7 * warm:.1f} s; validation, indexes and publishing: "
        f"{total - execute - render:.1f} s"
    )
    print(f"whole cycle with HTML and PDF: {total:.1f} s (target < 90 s)")


if __name__ == "__main__":
    main()
