"""Run the S&OP cycle of one period: validate, execute the step notebooks, render, publish atomically.

A run builds in `OUT/.build/PERIOD-<id>/` and replaces `OUT/PERIOD/` only when every step succeeded,
so a failed run leaves the previous reports intact; the failed build, with its executed notebooks,
is kept in `OUT/.failed/`. One run per period at a time (a lock in `OUT/.locks/`).
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import html
import io
import json
import logging
import os
import re
import shutil
import signal
import socket
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import pandas as pd
from filelock import FileLock, Timeout

from . import kernels
from . import params as params_mod
from . import steps as steps_mod
from .exceptions import (
    AlertError,
    DataError,
    Interrupted,
    LockError,
    OutputFolderError,
    ParameterError,
    StepError,
    StepTimeoutError,
)
from .render import ReportInfo, to_html, to_pdf
from .store import StepStore
from .workbook import write_step_workbook

log = logging.getLogger("salesops")
NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
PDF_STEP = "executive_review"
PDF_NAME = "executive_review.pdf"
VERSIONED = (
    "salesops",
    "pandas",
    "numpy",
    "statsmodels",
    "scipy",
    "papermill",
    "altair",
    "vl-convert-python",
    "duckdb",
    "pydantic",
    "nbconvert",
    "pypandoc-binary",
    "typst",
)


@dataclass
class RunResult:
    """What a run of one period did.

    Attributes:
        period: The period run, `YYYY-MM`.
        status: `running` while it runs, `success` once its reports are published.
        run_dir: The period's published folder, `OUT/PERIOD`.
        durations: Per step, its timings in seconds (`execute_s`, `render_s`).
        alerts: The alerts that fired.
        duration_s: The whole run's duration in seconds, once finished.
    """

    period: str
    status: str
    run_dir: Path
    durations: dict[str, dict[str, float]] = field(default_factory=dict)
    alerts: list[dict] = field(default_factory=list)
    duration_s: float | None = None


def notebook_dir() -> Path:
    """Where the step notebooks live: `./notebooks` when run from a project folder, else the package's.

    Returns:
        The folder of the step notebooks.
    """
    local = Path("notebooks")
    return local.resolve() if (local / steps_mod.STEPS[0].notebook).exists() else NOTEBOOK_DIR


class Progress:
    """A live progress line on a terminal (rich); plain log lines otherwise.

    A log line carries the date, the time, the period and the time since the start, so the lines of
    an appended monthly log or of a backfill can be told apart:
    `2026-11-02 06:00:31 2026-11 [  27.2s] data_collection: done in 27.2 s`.

    Args:
        total: the number of steps (the live bar's length).
        enabled: live bar on or off; None = on when `stream` is a terminal.
        stream: where to write; None = standard error.
        period: the period named in every line; None = no period.

    Example:
        >>> import io
        >>> stream = io.StringIO()
        >>> Progress(total=1, enabled=False, stream=stream, period="2026-11").step("data_collection: running")
        >>> print(stream.getvalue()[20:], end="")  # doctest: +ELLIPSIS
        2026-11 [...s] data_collection: running
    """

    def __init__(self, total: int, enabled: bool | None = None, stream=None, period: str | None = None):
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty() if enabled is None else enabled
        self.total, self.done, self.start = total, 0, time.perf_counter()
        self.period = period
        self._progress = None
        if self.live:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
            )
            from rich.progress import Progress as RichProgress

            self._progress = RichProgress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=Console(file=self.stream),
                transient=False,
            )
            self._progress.start()
            self._task = self._progress.add_task("starting", total=total)

    @classmethod
    def quiet(cls) -> Progress:
        """A progress that shows nothing (`--quiet`).

        Returns:
            A `Progress` writing to a discarded buffer.
        """
        return cls(total=0, enabled=False, stream=io.StringIO())

    def _label(self, text: str) -> str:
        return f"{self.period} {text}" if self.period else text

    def step(self, text: str):
        """Show what runs now: the live line's text, or one log line.

        Args:
            text: What runs, e.g. `data_collection: running`.
        """
        if self._progress is not None:
            self._progress.update(self._task, description=self._label(text))
        else:
            elapsed = time.perf_counter() - self.start
            print(
                f"{dt.datetime.now():%Y-%m-%d %H:%M:%S} {self._label(f'[{elapsed:6.1f}s] {text}')}",
                file=self.stream,
                flush=True,
            )

    def advance(self, text: str):
        """Count one step as done and show `text`.

        Args:
            text: What was done, e.g. `data_collection: done in 27.2 s`.
        """
        self.done += 1
        if self._progress is not None:
            self._progress.update(self._task, advance=1, description=self._label(text))
        else:
            self.step(text)

    def close(self):
        if self._progress is not None:
            self._progress.stop()


def _owner_text() -> str:
    return f"pid {os.getpid()} on {socket.gethostname()} since {dt.datetime.now():%Y-%m-%d %H:%M:%S}"


def _owner_dead(text: str) -> bool:
    """Whether the process named by an owner line (`pid N on HOST since ...`) has ended on this host."""
    found = re.match(r"pid (\d+)(?: on (\S+))?", text.strip())
    if not found:
        return True
    if found.group(2) and found.group(2) != socket.gethostname():
        return False  # another machine's run: leave it alone
    try:
        os.kill(int(found.group(1)), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError):
        return False
    return False


def _read_owner(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return None


def clean_stale(out: Path, period: str) -> list[Path]:
    """Remove what killed runs left behind.

    Build folders of this period (its lock is ours, so no live run owns one) and of any period whose
    owner process has ended go, and so do lock owner files of ended processes.

    Args:
        out: The output folder (`OUT`).
        period: The period being run, whose lock the caller holds.

    Returns:
        The build folders removed.
    """
    removed = []
    builds = out / ".build"
    if builds.is_dir():
        for folder in builds.iterdir():
            if not folder.is_dir():
                continue
            owner = folder.with_name(folder.name + ".owner")
            text = _read_owner(owner)
            ours = folder.name.rsplit("-", 1)[0] == period
            if ours or (text is not None and _owner_dead(text)):
                shutil.rmtree(folder, ignore_errors=True)
                owner.unlink(missing_ok=True)
                removed.append(folder)
        for owner in builds.glob("*.owner"):
            if not owner.with_suffix("").exists():
                owner.unlink(missing_ok=True)
    locks = out / ".locks"
    if locks.is_dir():
        for owner in locks.glob("*.owner"):
            text = _read_owner(owner)
            if owner.stem != period and text is not None and _owner_dead(text):
                owner.unlink(missing_ok=True)
    return removed


@contextmanager
def period_lock(out: Path, period: str):
    """Hold the lock of one period; a second run of the same period refuses at once.

    The lock is an OS file lock, released by the kernel when a process dies however it dies; the
    owner file beside it names the holder for the message a second run prints.

    Args:
        out: The output folder (`OUT`); the lock is in `OUT/.locks/`.
        period: The period locked.

    Returns:
        A context manager that holds the lock while its `with` block runs (it gives no value).

    Raises:
        LockError: Another run holds the period's lock.
    """
    locks = out / ".locks"
    locks.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(locks / f"{period}.lock"))
    holder = locks / f"{period}.owner"
    try:
        lock.acquire(timeout=0)
    except Timeout:
        who = (_read_owner(holder) or "another process").strip()
        raise LockError(
            f"period {period} is already being run ({who}); wait for that run to finish. Nothing was changed."
        ) from None
    try:
        holder.write_text(_owner_text(), encoding="utf-8")
        yield
    finally:
        holder.unlink(missing_ok=True)
        lock.release()
        _SIGNALS["held"] = False  # a run that failed while publishing does not keep signals held


_PERMISSIONS = ((os.R_OK, "read"), (os.W_OK, "write"), (os.X_OK, "search (x)"))


def _missing_permissions(folder: Path) -> list[str]:
    kw = {"effective_ids": True} if os.access in os.supports_effective_ids else {}
    return [name for mode, name in _PERMISSIONS if not os.access(folder, mode, **kw)]


def check_output_folder(out: Path, period: str) -> None:
    """Refuse at once (exit 2), before anything is written, when the run could not write its output.

    Checked: `OUT` (or the folder it would be created in), its working folders and `OUT/PERIOD` with
    every folder inside it (replacing it moves and removes them).

    Args:
        out: The output folder (`OUT`).
        period: The period to be run.

    Raises:
        OutputFolderError: A folder is a file or lacks a permission the run needs.
    """
    user = _user()
    folder = out
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise OutputFolderError(
            f"output folder {out}: {folder} is a file, not a folder; choose another --out"
        )
    folders = [folder]
    if folder == out:
        for name in (".locks", ".build", ".failed", ".cache", "plans"):
            if (out / name).is_dir():
                folders.append(out / name)
        final = out / period
        if final.is_dir():
            folders.append(final)
            folders.extend(sorted(d for d in final.rglob("*") if d.is_dir() and not d.is_symlink()))
    for item in folders:
        missing = _missing_permissions(item)
        if missing:
            raise OutputFolderError(
                f"output folder {item} cannot be written: {' and '.join(missing)} permission missing "
                f"for user {user}; grant it (chmod u+rwx '{item}') or choose another --out"
            )


def _user() -> str:
    try:
        import pwd

        return pwd.getpwuid(os.geteuid()).pw_name
    except (ImportError, KeyError):
        return str(os.getuid()) if hasattr(os, "getuid") else "this user"


def _versions() -> dict[str, str]:
    found = {}
    for name in VERSIONED:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    found["python"] = sys.version.split()[0]
    return found


def _records(frame: pd.DataFrame | None) -> list[dict]:
    if frame is None or frame.empty:
        return []
    return json.loads(frame.to_json(orient="records", date_format="iso"))


def execute_step(
    step: steps_mod.Step,
    nb_dir: Path,
    run_dir: Path,
    parameters: dict,
    km=None,
    cell_timeout_s: float | None = None,
    step_timeout_s: float | None = None,
    keep_kernel: bool = False,
):
    """Execute one step's notebook with papermill into `run_dir/notebooks/`; raise StepError on failure.

    `km`: a warm kernel (`salesops.kernels.KernelPool`) to run it on; None starts one. The kernel is
    shut down afterwards, unless `keep_kernel` and the notebook succeeded: it is then returned, for
    the caller to give back to its pool (a failed notebook's kernel is always shut down).
    A cell running longer than `cell_timeout_s`, or the notebook longer than `step_timeout_s`, raises
    `StepTimeoutError` naming the step, the cell and the limit; the kernel is killed either way.

    Args:
        step: The step to run.
        nb_dir: The folder of the step notebooks (`notebook_dir()`).
        run_dir: The run's build folder; the executed notebook goes to its `notebooks/`.
        parameters: The values injected into the notebook's parameters cell.
        km: A warm kernel's manager to run on; None starts a kernel.
        cell_timeout_s: Seconds a cell may run; None = no limit.
        step_timeout_s: Seconds the whole notebook may run; None = no limit.
        keep_kernel: Leave the kernel running after a notebook that succeeded, and return it.

    Returns:
        The kernel's manager when `keep_kernel` (still running), else None.

    Raises:
        StepError: The kernel did not start or a cell failed.
        StepTimeoutError: A cell or the notebook ran over its time limit.
    """
    import papermill as pm

    source = nb_dir / step.notebook
    target = run_dir / "notebooks" / step.notebook
    target.parent.mkdir(parents=True, exist_ok=True)
    if km is None:
        try:
            km = kernels.start_warm_kernel((*kernels.COMMON_IMPORTS, *step.imports))
        except Exception as exc:  # noqa: BLE001 - no kernel: still name the step
            raise StepError(step.name, str(target), None, f"kernel did not start: {exc}") from None
    tracker: dict = {}
    expired = threading.Event()

    def overran():
        expired.set()
        kernels.kill(km)

    timer = threading.Timer(step_timeout_s, overran) if step_timeout_s else None
    if timer is not None:
        timer.daemon = True
        timer.start()
    succeeded = False
    try:
        pm.execute_notebook(
            str(source),
            str(target),
            parameters=parameters,
            kernel_name="python3",
            progress_bar=False,
            log_output=False,
            cwd=os.getcwd(),
            engine_name=kernels.register_engine(),
            km=km,
            execution_timeout=cell_timeout_s,
            salesops_tracker=tracker,
            salesops_keep_kernel=keep_kernel,
        )
        succeeded = not expired.is_set()
    except pm.PapermillExecutionError as exc:
        if expired.is_set():
            raise _timeout(step, target, exc.exec_count, "step_timeout_s", step_timeout_s) from None
        raise StepError(step.name, str(target), exc.exec_count, f"{exc.ename}: {exc.evalue}") from None
    except Exception as exc:  # noqa: BLE001 - kernel died, notebook missing: still name the step
        from nbclient.exceptions import CellTimeoutError

        if expired.is_set():
            raise _timeout(step, target, tracker.get("cell"), "step_timeout_s", step_timeout_s) from None
        if isinstance(exc, CellTimeoutError):
            raise _timeout(step, target, tracker.get("cell"), "cell_timeout_s", cell_timeout_s) from None
        raise StepError(step.name, str(target), None, f"{type(exc).__name__}: {exc}") from None
    finally:
        if timer is not None:
            timer.cancel()
        if not (keep_kernel and succeeded):
            kernels.shutdown(km)
    return km if keep_kernel else None


def _timeout(step, target: Path, cell: int | None, key: str, limit: float | None) -> StepTimeoutError:
    what = "the cell" if key == "cell_timeout_s" else "the step"
    return StepTimeoutError(
        step.name,
        str(target),
        cell,
        f"timed out: {what} ran longer than execution.{key} = {limit:g} s; the kernel was shut down "
        f"(raise execution.{key} in params if the step needs longer)",
    )


def _write_period_index(run_dir: Path, p, run: dict):
    items = []
    for step in steps_mod.STEPS:
        report = run_dir / step.report
        if report.exists():
            took = run["steps"].get(step.name, {}).get("execute_s")
            note = f" · {took:.1f} s" if took is not None else ""
            book = Path(step.report).with_suffix(".xlsx").name
            data = f' · <a href="{html.escape(book)}">data (Excel)</a>' if (run_dir / book).exists() else ""
            items.append(
                f'<li><a href="{html.escape(step.report)}">{html.escape(step.title)}</a>'
                f'<span class="meta">{data}{note}</span></li>'
            )
    if (run_dir / PDF_NAME).exists():
        items.append(f'<li><a href="{PDF_NAME}">Executive pack (PDF)</a></li>')
    alerts = "".join(f"<li>{html.escape(str(a.get('message', a)))}</li>" for a in run.get("alerts", []))
    alert_block = f"<h2>Alerts</h2><ul class='alerts'>{alerts}</ul>" if alerts else ""
    skipped = [s.title for s in steps_mod.STEPS if run["steps"].get(s.name, {}).get("status") == "skipped"]
    if skipped:
        ran = [s.title for s in steps_mod.STEPS if s.title not in skipped]
        alert_block += (
            f"<p>Steps run: {html.escape(', '.join(ran))}. Not run (params <code>steps</code>): "
            f"{html.escape(', '.join(skipped))}.</p>"
        )
    page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{html.escape(p.company)} · S&amp;OP {html.escape(str(p.period))}</title>
<style>body{{font-family:Helvetica,Arial,sans-serif;max-width:760px;margin:32px auto;color:#222}}
h1{{color:#1f4e79}} li{{margin:6px 0}} .meta{{color:#777;font-size:12px;margin-left:6px}}
.alerts li{{color:#b3261e}}</style></head><body>
<h1>{html.escape(p.company)} · S&amp;OP cycle {html.escape(str(p.period))}</h1>
<p>Status: <b>{html.escape(run["status"])}</b> · run {html.escape(run["finished"])} ·
<a href="../index.html">all periods</a></p>
{alert_block}<h2>Reports</h2><ul>{"".join(items)}</ul>
<p class="meta">Run details: <a href="run.json">run.json</a> · executed notebooks in notebooks/ ·
step outputs in data/</p></body></html>"""
    (run_dir / "index.html").write_text(page, encoding="utf-8")


def write_global_index(out: Path, company: str = "salesops"):
    """`OUT/index.html`: every period that has a completed run, newest first.

    Args:
        out: The output folder (`OUT`).
        company: The company named in the page's title.
    """
    rows = []
    for run_json in sorted(out.glob("*/run.json"), reverse=True):
        try:
            run = json.loads(run_json.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        period = run_json.parent.name
        rows.append(
            f'<tr><td><a href="{html.escape(period)}/index.html">{html.escape(period)}</a></td>'
            f"<td>{html.escape(str(run.get('status')))}</td><td>{html.escape(str(run.get('finished')))}</td>"
            f"<td>{len(run.get('alerts', []))}</td></tr>"
        )
    page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>S&amp;OP reports</title>
<style>body{{font-family:Helvetica,Arial,sans-serif;max-width:760px;margin:32px auto}} h1{{color:#1f4e79}}
td,th{{padding:4px 12px;text-align:left}}</style></head><body>
<h1>{html.escape(company)} · S&amp;OP reports</h1>
<table><tr><th>Period</th><th>Status</th><th>Finished</th><th>Alerts</th></tr>{"".join(rows)}</table>
</body></html>"""
    (out / "index.html").write_text(page, encoding="utf-8")


def drop_stale_reports(run_dir: Path, step: steps_mod.Step, formats: list[str]) -> list[Path]:
    """Remove the reports of `step` left from an earlier run in a format this run does not render.

    A re-run copies the period's folder into its build first: without this, `--format html` would
    publish (and the index link) the previous `executive_review.pdf`, showing the old numbers.

    Args:
        run_dir: the build folder of the run.
        step: the step just executed.
        formats: the formats this run renders (`html`, `pdf`).

    Returns:
        The files removed.

    Example:
        >>> drop_stale_reports(Path("/nonexistent"), steps_mod.get("executive_review"), ["html"])
        []
    """
    stale = [] if "html" in formats else [run_dir / step.report]
    if step.name == PDF_STEP and "pdf" not in formats:
        stale.append(run_dir / PDF_NAME)
    removed = [path for path in stale if path.exists()]
    for path in removed:
        path.unlink()
    return removed


def _override_warnings(p) -> list[str]:
    """Demand overrides naming a SKU or family the source's products table lacks (they are ignored)."""
    if not p.demand.overrides:
        return []
    from .data import load_tables

    return params_mod.unknown_overrides(p, load_tables(p).get("products"))


def run(
    period: str,
    params: str | Path | None = None,
    data: str | None = None,
    out: str | Path = "reports",
    first: str | None = None,
    last: str | None = None,
    formats: list[str] | None = None,
    reapprove: bool = False,
    fail_on_alert: bool = False,
    progress: Progress | None = None,
    pool: kernels.KernelPool | None = None,
) -> RunResult:
    """Run the cycle of `period` and publish its reports under `OUT/PERIOD/`.

    The notebooks run one after the other on one warm kernel, its namespace reset between them
    (`pool`: the caller's `KernelPool` when it runs several periods, else one for this run).
    Raises `ParameterError`/`DataError`/`LockError` (exit 2) before anything is written,
    `StepError` (exit 1) when a notebook fails, `AlertError` (exit 3) after publishing when
    `fail_on_alert` and an alert fired.

    Args:
        period: The period, `YYYY-MM`.
        params: A params file or a list of them; None = `params/default.yaml` and the period's file.
        data: The data source, replacing `data.source`.
        out: The output folder (`OUT`).
        first: The first step to run (`--from`); None = the first.
        last: The last step to run (`--to`); None = the last.
        formats: The report formats, `html` and/or `pdf`; None = `report.formats`.
        reapprove: Replace an approved plan of record (the old one is kept as a version).
        fail_on_alert: Raise `AlertError` after publishing when an alert fired.
        progress: Where progress is shown; None = a progress line on standard error.
        pool: The caller's `KernelPool`; None = one for this run.

    Returns:
        The run's result, status `success`.

    Raises:
        ParameterError: Bad parameters (exit 2).
        DataError: The inputs break the data contract (exit 2).
        LockError: Another run holds the period (exit 2).
        OutputFolderError: The output folder cannot be written (exit 2).
        StepError: A notebook failed (exit 1).
        AlertError: An alert fired and `fail_on_alert` is set (exit 3).

    Example:
        >>> result = run("2026-11", out="reports")  # doctest: +SKIP
        >>> result.status                           # doctest: +SKIP
        'success'
    """
    out = Path(out).resolve()
    p = params_mod.load(period=period, params=params, data=data, out=out, reapprove=reapprove)
    formats = formats or list(p.report.formats)
    selected = steps_mod.select(first, last)
    if p.steps is not None:  # params `steps`: the steps this company runs; the others are skipped
        selected = [s for s in selected if s.name in p.steps]
    final_dir = out / period
    check_output_folder(out, period)

    from . import data as data_mod

    findings = data_mod.check(p)
    errors = [f for f in findings if f.is_error]
    if errors:
        count = sum(f.more or 1 for f in errors)
        raise DataError(
            f"{count} problem(s) in the input data; nothing was run or written:\n"
            + "\n".join(str(f) for f in errors),
            errors,
        )
    published = StepStore(final_dir)
    missing = [
        s
        for s in steps_mod.prerequisites(selected)
        if not published.has_step(s) and (p.steps is None or s in p.steps)
    ]
    if missing:
        raise ParameterError(
            f"--from {selected[0].name} needs the outputs of {', '.join(missing)} in "
            f"{final_dir / 'data'}; run the whole cycle first (salesops run {period})"
        )

    for line in _override_warnings(p):
        print(f"warning: {line}", file=sys.stderr, flush=True)
    progress = progress or Progress(total=len(selected), period=period)
    with period_lock(out, period):
        clean_stale(out, period)
        build_root = out / ".build"
        run_dir = build_root / f"{period}-{uuid.uuid4().hex[:8]}"
        build_owner = run_dir.with_name(run_dir.name + ".owner")  # beside it: never published
        build_root.mkdir(parents=True, exist_ok=True)
        build_owner.write_text(_owner_text(), encoding="utf-8")
        if final_dir.exists():
            shutil.copytree(final_dir, run_dir, ignore=shutil.ignore_patterns("run.json"))
        run_dir.mkdir(parents=True, exist_ok=True)
        previous = (
            json.loads((final_dir / "run.json").read_text()) if (final_dir / "run.json").exists() else {}
        )
        started = dt.datetime.now()
        record = {
            "period": period,
            "status": "running",
            "started": started.isoformat(timespec="seconds"),
            "steps": dict(previous.get("steps", {})),
            "params_files": p.params_files,
            "params_hash": hashlib.sha256(
                p.model_dump_json(exclude={"out", "run_dir", "params_files"}).encode()
            ).hexdigest(),
            "data_source": "demo company (embedded DuckDB)"
            if p.data.source is None
            else _redact(p.data.source),
            "warnings": sum(f.more or 1 for f in findings if not f.is_error),
            "versions": _versions(),
        }
        parameters = {
            "period": period,
            "params": None if params is None else [str(Path(f).resolve()) for f in p.params_files],
            "data": data,
            "out": str(out),
            "run_dir": str(run_dir),
        }
        nb_dir = notebook_dir()
        info = {s.name: ReportInfo(p.company, s.title, period) for s in steps_mod.STEPS}
        result = RunResult(period, "running", final_dir)
        own_pool = pool is None
        pool = pool or kernels.KernelPool([s.imports for s in selected])
        renders = ThreadPoolExecutor(max_workers=1, thread_name_prefix="salesops-render")
        rendering: list = []
        try:
            for step in selected:
                progress.step(f"{step.name}: running")
                t0 = time.perf_counter()
                step_parameters = (
                    dict(parameters, reapprove=True) if reapprove and step.name == PDF_STEP else parameters
                )
                km = execute_step(
                    step,
                    nb_dir,
                    run_dir,
                    step_parameters,
                    km=pool.take(),
                    cell_timeout_s=p.execution.cell_timeout_s,
                    step_timeout_s=p.execution.step_timeout_s,
                    keep_kernel=True,
                )
                pool.give_back(km)  # reset: the next notebook runs on it
                t1 = time.perf_counter()
                # the report renders in this process while the next notebook runs in its kernel
                rendering.append(
                    (
                        step,
                        renders.submit(
                            _render_step, step, run_dir, formats, info[step.name], p.report.renderer
                        ),
                    )
                )
                record["steps"][step.name] = {
                    "execute_s": round(t1 - t0, 2),
                    "ran": dt.datetime.now().isoformat(timespec="seconds"),
                }
                progress.advance(f"{step.name}: done in {t1 - t0:.1f} s")
            for step, rendered in rendering:
                record["steps"][step.name]["render_s"] = rendered.result()
        except BaseException as exc:
            renders.shutdown(wait=True, cancel_futures=True)  # no render may write into a moved build
            failed = out / ".failed" / f"{period}-{started:%Y%m%d-%H%M%S}"
            try:
                failed.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(str(run_dir), failed)
            except OSError:  # cannot keep it: remove it, so no build folder is left behind
                shutil.rmtree(run_dir, ignore_errors=True)
            build_owner.unlink(missing_ok=True)
            if isinstance(exc, StepError):
                exc.args = (
                    (
                        f"{exc.args[0]}\nThe executed notebook is kept in {failed / 'notebooks'}; "
                        f"{final_dir} was left as it was."
                    ),
                )
                exc.notebook = str(failed / "notebooks" / Path(exc.notebook).name)
            progress.close()
            raise
        finally:
            renders.shutdown(wait=True, cancel_futures=True)
            if own_pool:
                pool.close()
        progress.close()
        _hold_signals()  # from here to the publish, SIGTERM/SIGINT wait: the swap is not cut short
        for step in steps_mod.STEPS:
            if p.steps is not None and step.name not in p.steps:  # not run by this company
                record["steps"][step.name] = {"status": "skipped"}
                (run_dir / step.report).unlink(missing_ok=True)
                if step.name == PDF_STEP:
                    (run_dir / PDF_NAME).unlink(missing_ok=True)
                shutil.rmtree(run_dir / "data" / step.name, ignore_errors=True)
            elif step in selected:
                record["steps"][step.name]["status"] = "done"

        built = StepStore(run_dir)
        record["input_hash"] = built.read_json("data_collection", "snapshot", default={}).get("input_hash")
        alerts = _records(built.read("follow_up", "alerts", default=None))
        plan_status = _records(built.read("executive_review", "plan_status", default=None))
        record.update(
            status="success",
            finished=dt.datetime.now().isoformat(timespec="seconds"),
            duration_s=round((dt.datetime.now() - started).total_seconds(), 2),
            alerts=alerts,
            plan=plan_status[0] if plan_status else None,
        )
        (run_dir / "run.json").write_text(json.dumps(record, indent=2, default=str), encoding="utf-8")
        _write_period_index(run_dir, p, record)
        _publish(run_dir, final_dir, out)
        build_owner.unlink(missing_ok=True)
        _release_signals()
        write_global_index(out, p.company)
        result.status, result.durations, result.alerts = "success", record["steps"], alerts
        result.duration_s = record["duration_s"]
    if fail_on_alert and alerts:
        error = AlertError(
            f"{len(alerts)} alert(s) fired in {period}: "
            + "; ".join(str(a.get("message")) for a in alerts[:5])
        )
        error.result = result  # the reports were published: the caller can still say where
        raise error
    return result


def _render_step(
    step: steps_mod.Step, run_dir: Path, formats: list[str], info: ReportInfo, renderer: str
) -> float:
    """Render one executed step: its workbook and HTML report (and the PDF pack); returns the seconds."""
    started = time.perf_counter()
    executed = run_dir / "notebooks" / step.notebook
    if "html" in formats:
        write_step_workbook(run_dir, step)  # linked from the report's banner
        to_html(executed, run_dir / step.report, info, renderer)
    if step.name == PDF_STEP and "pdf" in formats:
        to_pdf(executed, run_dir / PDF_NAME, info, renderer)
    drop_stale_reports(run_dir, step, formats)
    return round(time.perf_counter() - started, 2)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two existing paths in one atomic step: Linux `renameat2(RENAME_EXCHANGE)`, macOS
    `renamex_np(RENAME_SWAP)`. False when the system or file system cannot (the caller falls back)."""
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if sys.platform.startswith("linux") and hasattr(libc, "renameat2"):
            at_fdcwd, rename_exchange = -100, 2
            rc = libc.renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
        elif sys.platform == "darwin" and hasattr(libc, "renamex_np"):
            rc = libc.renamex_np(os.fsencode(a), os.fsencode(b), 0x2)  # RENAME_SWAP
        else:
            return False
    except (OSError, AttributeError):
        return False
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _publish(run_dir: Path, final_dir: Path, out: Path):
    """Put the finished build in place of `OUT/PERIOD` with no moment without `OUT/PERIOD`.

    A first publish is one rename. A republish swaps the two folders in one atomic rename-exchange;
    the old output, now at the build path, is removed afterwards (a run killed before that leaves it
    to the next run's clean-up). Where no exchange exists, the old output is renamed away and the new
    one renamed in: two renames, microseconds apart.
    """
    if not final_dir.exists():
        os.replace(run_dir, final_dir)
        return
    if _exchange(run_dir, final_dir):
        shutil.rmtree(run_dir, ignore_errors=True)
        return
    trash = out / ".trash" / f"{final_dir.name}-{uuid.uuid4().hex[:8]}"
    trash.parent.mkdir(parents=True, exist_ok=True)
    os.replace(final_dir, trash)
    os.replace(run_dir, final_dir)
    shutil.rmtree(trash, ignore_errors=True)


# ---------------------------------------------------------------- signals
_SIGNALS = {"held": False, "pending": None}


def _on_signal(signum, frame):
    """SIGTERM/SIGINT: unwind the run (kernels stopped, build moved away, lock released); held while
    the finished build is being published."""
    if _SIGNALS["held"]:
        _SIGNALS["pending"] = signum
        return
    for sig in (signal.SIGTERM, signal.SIGINT):  # the clean-up must finish: ignore a second signal
        signal.signal(sig, signal.SIG_IGN)
    raise Interrupted(signum)


def install_signal_handlers() -> None:
    """Make SIGTERM (cron, systemd, Airflow) stop a run as cleanly as Ctrl-C does (main thread only)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _on_signal)
        signal.signal(signal.SIGINT, _on_signal)


def _hold_signals() -> None:
    _SIGNALS["held"] = True


def _release_signals() -> None:
    _SIGNALS["held"] = False
    pending, _SIGNALS["pending"] = _SIGNALS["pending"], None
    if pending is not None:
        _on_signal(pending, None)


def _redact(source: str) -> str:
    """A source for the record, with any password in a URL removed."""
    if "://" in source and "@" in source:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            return make_url(source).render_as_string(hide_password=True)
        except (ArgumentError, ValueError):
            return source.split("://")[0] + "://***"
    return source


@contextmanager
def _forecast_warmup(periods: list[str], out, params, data):
    """Fill the forecast cache for the later periods of a backfill in a process of its own (one core)
    while the earlier periods run; stopped when the backfill ends. See `salesops.demand.warm`."""
    if not periods:
        yield
        return
    import subprocess

    command = [sys.executable, "-m", "salesops.demand.warm", "--out", str(Path(out).resolve()), *periods]
    for path in [] if params is None else [params] if isinstance(params, (str, Path)) else params:
        command += ["--params", str(Path(path).resolve())]
    if data is not None:
        command += ["--data", str(data)]
    worker = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def backfill(first: str, last: str, **kwargs) -> list[RunResult]:
    """Run consecutive periods from `first` to `last`; each plan of record is frozen before the next runs.

    Args:
        first: The first period, `YYYY-MM`.
        last: The last period, `YYYY-MM`.
        **kwargs: The arguments of `run` (but `period` and `pool`), for every period.

    Returns:
        One result per period, in order.

    Raises:
        ParameterError: A bound is not `YYYY-MM`, or `first` comes after `last`.
        AlertError: Alerts fired in a period and `fail_on_alert` is set (every period ran first).
    """
    for bound in (first, last):
        try:
            params_mod._check_period(bound)
        except ValueError as exc:
            raise ParameterError(f"backfill: {exc}") from None
    months = pd.period_range(first, last, freq="M")
    if len(months) == 0:
        raise ParameterError(f"backfill: {first} comes after {last}; give FROM before TO (YYYY-MM)")
    fail_on_alert = kwargs.pop("fail_on_alert", False)
    selected = steps_mod.select(kwargs.get("first"), kwargs.get("last"))
    warm = [str(m) for m in months[1:]] if any(s.name == "demand_planning" for s in selected) else []
    with (
        _forecast_warmup(warm, kwargs.get("out", "reports"), kwargs.get("params"), kwargs.get("data")),
        kernels.KernelPool([s.imports for s in selected]) as pool,
    ):
        results = [run(str(m), pool=pool, **kwargs) for m in months]
    fired = [(r.period, a) for r in results for a in r.alerts]
    if fail_on_alert and fired:
        error = AlertError(
            f"{len(fired)} alert(s) fired in {len({p for p, _ in fired})} period(s); the reports "
            f"were published. First: {fired[0][0]}: {fired[0][1].get('message')}"
        )
        error.results = results  # every period ran: the caller can still report them
        raise error
    return results
