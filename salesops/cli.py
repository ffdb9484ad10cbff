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
from .exceptions import AlertError, Interrupted, SalesOpsError
from .safety import escape_control

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
    """The command-line parser of `salesops`, with its subcommands and their flags.

    Returns:
        The parser; `parse_args` gives the chosen subcommand as `command`.
    """
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

    params_help = (
        "a params file, read instead of params/default.yaml and params/PERIOD.yaml; repeat to layer "
        "files (later ones win)"
    )
    val = sub.add_parser("validate", help="check every input table against the data contract")
    val.add_argument("--params", metavar="FILE", action="append", help=params_help)
    val.add_argument("--data", metavar="SOURCE", help="folder, DuckDB file or SQLAlchemy URL")
    val.add_argument(
        "--period",
        metavar="YYYY-MM",
        help="the period checked, with its params file as run reads it; default: the month after the "
        "last sales month",
    )

    def run_flags(cmd):
        cmd.add_argument("--params", metavar="FILE", action="append", help=params_help)
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
    fc.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on an existing Dask cluster (e.g. tcp://10.0.0.5:8786); implies --engine dask",
    )
    return parser


def _demo(args) -> int:
    from .data import write_demo

    written = write_demo(args.directory, seed=args.seed, skus=args.skus, months=args.months, reps=args.reps)
    for table, path in written.items():
        print(f"{table}: {path}")
    return 0


def _default_period(p) -> tuple[str | None, str]:
    """The month after the last sales month of the source, and how it was found."""
    import pandas as pd

    from .data import load_tables

    sales = load_tables(p).get("sales")
    if sales is None or "date" not in sales.columns:
        return None, "none: the source has no sales dates; give --period YYYY-MM"
    last = pd.to_datetime(sales["date"], errors="coerce").max()
    if pd.isna(last):
        return None, "none: the source has no sales dates; give --period YYYY-MM"
    return (last + pd.offsets.MonthBegin(1)).strftime("%Y-%m"), "the month after the last sales month"


def _validate(args) -> int:
    from . import data, params
    from .data import load_tables

    period, how = args.period, "given with --period"
    if period is None:
        period, how = _default_period(params.load(params=args.params, data=args.data))
    p = params.load(period=period, params=args.params, data=args.data)
    print(f"params: {', '.join(p.params_files) or 'none (built-in defaults)'}")
    print(f"period: {period} ({how})" if period else f"period: {how}")
    findings = data.check(p)
    for finding in findings:
        print(f"{finding.severity}: {finding}")
    unknown = params.unknown_overrides(p, load_tables(p).get("products")) if p.demand.overrides else []
    for line in unknown:
        print(f"warning: {line}")
    errors = sum(f.more or 1 for f in findings if f.is_error)
    warnings = sum(f.more or 1 for f in findings if not f.is_error) + len(unknown)
    print(f"{errors} error(s), {warnings} warning(s)")
    return 2 if errors else 0


def _run(args) -> int:
    from .runner import Progress, run

    progress = Progress.quiet() if args.quiet else None
    try:
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
    except AlertError as exc:  # published all the same (exit 3): say where
        if getattr(exc, "result", None) is not None:
            print(f"{exc.result.period}: reports in {exc.result.run_dir / 'index.html'}")
        raise
    print(f"{result.period}: reports in {result.run_dir / 'index.html'}")
    return 0


def _backfill(args) -> int:
    from .runner import Progress, backfill

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
            progress=Progress.quiet() if args.quiet else None,
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
        engine="dask" if args.scheduler else args.engine,
        workers=args.workers,
        scheduler=args.scheduler,
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run one `salesops` command; errors become one line on stderr and an exit code.

    Args:
        argv: The command's arguments, without the program name; None = `sys.argv[1:]`.

    Returns:
        The exit code: 0 success, 1 a step failed, 2 bad parameters or inputs, 3 alerts
        (`--fail-on-alert`), 128 + the signal number when interrupted.
    """
    args = build_parser().parse_args(argv)
    handler = {
        "demo": _demo,
        "validate": _validate,
        "run": _run,
        "backfill": _backfill,
        "forecast": _forecast,
    }[args.command]
    if args.command in ("run", "backfill"):
        from .runner import install_signal_handlers

        install_signal_handlers()
    if args.command != "forecast" or sys.stdout.isatty():  # forecast's stdout is data (cells neutralised)
        sys.stdout = _EscapingStream(sys.stdout)
    try:
        return handler(args)
    except SalesOpsError as exc:
        _error(f"error: {exc}")
        return exc.exit_code
    except Interrupted as exc:
        _error(
            f"{exc}: the run stopped its kernels, moved its build folder (if any) to OUT/.failed/ and "
            f"released its lock; the published reports were left as they were"
        )
        return exc.exit_code
    except KeyboardInterrupt:
        _error("interrupted; the previous reports were left as they were")
        return 130
    except OSError as exc:  # a folder or file the user must fix: permissions, disk full, missing path
        where = f" {exc.filename}" if exc.filename else ""
        _error(f"error:{where}: {exc.strerror or exc}; check that folder or file and run again")
        return 2
    except Exception as exc:  # noqa: BLE001 - a bug: one line for the log, the traceback in a file
        _error(f"internal error: {type(exc).__name__}: {exc}; {_save_traceback()}")
        return 1
    finally:
        if isinstance(sys.stdout, _EscapingStream):
            sys.stdout.flush()
            sys.stdout = sys.stdout.stream


def _error(text: str) -> None:
    print(escape_control(text), file=sys.stderr, flush=True)


def _save_traceback() -> str:
    """Write the traceback of the exception being handled to a file; say where (or print it if asked)."""
    import os
    import tempfile
    import traceback

    text = traceback.format_exc()
    if os.environ.get("SALESOPS_DEBUG"):
        print(text, file=sys.stderr)
        return "traceback above (SALESOPS_DEBUG is set)"
    try:
        fd, path = tempfile.mkstemp(prefix="salesops-traceback-", suffix=".txt")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        return f"please report it with the traceback saved in {path}"
    except OSError:
        return "set SALESOPS_DEBUG=1 to see the traceback"


class _EscapingStream(io.TextIOBase):
    """stdout with control characters shown as escapes: data never drives the terminal."""

    def __init__(self, stream):
        self.stream = stream

    def write(self, text: str) -> int:
        self.stream.write(escape_control(text))
        return len(text)

    def flush(self) -> None:
        self.stream.flush()

    def isatty(self) -> bool:
        return self.stream.isatty()

    def fileno(self) -> int:
        return self.stream.fileno()

    @property
    def encoding(self):
        return getattr(self.stream, "encoding", "utf-8")


if __name__ == "__main__":
    raise SystemExit(main())
