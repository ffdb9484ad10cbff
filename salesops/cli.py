"""The `salesops` command: demo, validate, run, backfill, forecast.

Exit codes: 0 success; 1 a step failed; 2 bad parameters or inputs (or another run holds the
period's lock); 3 alerts fired with `--fail-on-alert`.
"""

from __future__ import annotations

import argparse
import io
import sys
import time

from . import __version__
from .exceptions import AlertError, SalesOpsError

EPILOG = "Exit codes: 0 success, 1 a step failed, 2 bad parameters or inputs, 3 alerts (--fail-on-alert)."


def _formats(text: str) -> list[str]:
    chosen = [f.strip() for f in text.split(",") if f.strip()]
    bad = [f for f in chosen if f not in ("html", "pdf")]
    if bad or not chosen:
        raise argparse.ArgumentTypeError(
            f"unknown format {', '.join(bad) or text!r}; use html, pdf or html,pdf"
        )
    return chosen


def _levels(text: str) -> list[int]:
    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--level takes whole percentages separated by commas, e.g. 80,95 (got {text!r})"
        ) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="salesops", description="Monthly S&OP cycle: notebooks and reports.", epilog=EPILOG
    )
    parser.add_argument("--version", action="version", version=f"salesops {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="write the demo company's input tables as CSV into DIR")
    demo.add_argument("directory", metavar="DIR")
    demo.add_argument("--seed", type=int, default=42)
    demo.add_argument("--skus", type=int, default=150)
    demo.add_argument("--months", type=int, default=48)
    demo.add_argument("--reps", type=int, default=25)

    val = sub.add_parser("validate", help="check every input table against the data contract")
    val.add_argument("--params", metavar="FILE")
    val.add_argument("--data", metavar="SOURCE", help="folder, DuckDB file or SQLAlchemy URL")
    val.add_argument("--period", help="YYYY-MM; default: the month after the last sales month")

    def run_flags(cmd):
        cmd.add_argument("--params", metavar="FILE")
        cmd.add_argument("--data", metavar="SOURCE", help="folder, DuckDB file or SQLAlchemy URL")
        cmd.add_argument("--out", metavar="DIR", default="reports")
        cmd.add_argument("--format", type=_formats, default=None, metavar="html,pdf")
        cmd.add_argument("--fail-on-alert", action="store_true", help="exit 3 when any alert fires")
        cmd.add_argument("--quiet", action="store_true", help="no progress output")

    run = sub.add_parser("run", help="run the cycle for PERIOD and render its reports", epilog=EPILOG)
    run.add_argument("period", metavar="PERIOD", help="YYYY-MM")
    run_flags(run)
    run.add_argument("--from", dest="first", metavar="STEP", help="resume from STEP using earlier outputs")
    run.add_argument("--to", dest="last", metavar="STEP", help="stop after STEP")
    run.add_argument(
        "--reapprove",
        action="store_true",
        help="replace an approved plan of record (the old one is kept as a version)",
    )

    back = sub.add_parser("backfill", help="run consecutive periods FROM..TO", epilog=EPILOG)
    back.add_argument("first", metavar="FROM")
    back.add_argument("last", metavar="TO")
    run_flags(back)

    fc = sub.add_parser("forecast", help="forecast every series of INPUT (long unique_id, ds, y)")
    fc.add_argument("input", metavar="INPUT")
    fc.add_argument("--horizon", type=int, required=True)
    fc.add_argument("--season-length", type=int, default=12)
    fc.add_argument("--level", type=_levels, default=[80, 95])
    fc.add_argument("--output", metavar="FILE")
    fc.add_argument("--engine", choices=["local", "dask"], default="local")
    fc.add_argument("--workers", type=int)
    return parser


def _demo(args) -> int:
    from .data import write_demo

    written = write_demo(args.directory, seed=args.seed, skus=args.skus, months=args.months, reps=args.reps)
    for table, path in written.items():
        print(f"{table}: {path}")
    return 0


def _validate(args) -> int:
    from . import data, params

    p = params.load(period=args.period, params=args.params, data=args.data)
    findings = data.check(p)
    for finding in findings:
        print(f"{finding.severity}: {finding}")
    errors = sum(f.more or 1 for f in findings if f.is_error)
    warnings = sum(f.more or 1 for f in findings if not f.is_error)
    print(f"{errors} error(s), {warnings} warning(s)")
    return 2 if errors else 0


def _run(args) -> int:
    from .runner import Progress, run

    progress = Progress(total=0, enabled=False, stream=io.StringIO()) if args.quiet else None
    result = run(
        args.period,
        params=args.params,
        data=args.data,
        out=args.out,
        first=args.first,
        last=args.last,
        formats=args.format,
        reapprove=args.reapprove,
        fail_on_alert=args.fail_on_alert,
        progress=progress,
    )
    print(f"{result.period}: reports in {result.run_dir / 'index.html'}")
    return 0


def _backfill(args) -> int:
    from .runner import backfill

    started = time.perf_counter()

    def report(results):
        for result in results:
            print(f"{result.period}: {result.status} in {result.duration_s:.1f} s")
        print(f"{len(results)} period(s) in {time.perf_counter() - started:.1f} s")

    try:
        results = backfill(
            args.first,
            args.last,
            params=args.params,
            data=args.data,
            out=args.out,
            formats=args.format,
            fail_on_alert=args.fail_on_alert,
        )
    except AlertError as exc:
        report(getattr(exc, "results", []))
        raise
    report(results)
    return 0


def _forecast(args) -> int:
    from .demand import forecast_file

    forecast_file(
        args.input,
        horizon=args.horizon,
        season_length=args.season_length,
        level=args.level,
        output=args.output,
        engine=args.engine,
        workers=args.workers,
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler = {
        "demo": _demo,
        "validate": _validate,
        "run": _run,
        "backfill": _backfill,
        "forecast": _forecast,
    }[args.command]
    try:
        return handler(args)
    except SalesOpsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted; the previous reports were left as they were", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
