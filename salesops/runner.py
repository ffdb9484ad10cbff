"""Run the S&OP cycle of one period: validate, execute the step notebooks, render, publish atomically.

A run builds in `OUT/.build/PERIOD-<id>/` and replaces `OUT/PERIOD/` only when every step succeeded,
so a failed run leaves the previous reports intact; the failed build, with its executed notebooks,
is kept in `OUT/.failed/`. One run per period at a time (a lock in `OUT/.locks/`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import json
import logging
import os
import re
import shutil
import socket
import sys
import threading
import time
import uuid
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
    LockError,
    OutputFolderError,
    ParameterError,
    StepError,
    StepTimeoutError,
)
from .render import ReportInfo, to_html, to_pdf
from .store import StepStore

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
    period: str
    status: str
    run_dir: Path
    durations: dict[str, dict[str, float]] = field(default_factory=dict)
    alerts: list[dict] = field(default_factory=list)
    duration_s: float | None = None


def notebook_dir() -> Path:
    """Where the step notebooks live: `./notebooks` when run from a project folder, else the package's."""
    local = Path("notebooks")
    return local.resolve() if (local / steps_mod.STEPS[0].notebook).exists() else NOTEBOOK_DIR


class Progress:
    """A live progress line on a terminal (rich); plain timestamped log lines otherwise."""

    def __init__(self, total: int, enabled: bool | None = None, stream=None):
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty() if enabled is None else enabled
        self.total, self.done, self.start = total, 0, time.perf_counter()
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

    def step(self, text: str):
        if self._progress is not None:
            self._progress.update(self._task, description=text)
        else:
            elapsed = time.perf_counter() - self.start
            print(f"{dt.datetime.now():%H:%M:%S} [{elapsed:6.1f}s] {text}", file=self.stream, flush=True)

    def advance(self, text: str):
        self.done += 1
        if self._progress is not None:
            self._progress.update(self._task, advance=1, description=text)
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
    """Remove what killed runs left behind: build folders of this period (its lock is ours, so no live
    run owns one) and of any period whose owner process has ended, and lock owner files of ended
    processes. Returns the build folders removed."""
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


_PERMISSIONS = ((os.R_OK, "read"), (os.W_OK, "write"), (os.X_OK, "search (x)"))


def _missing_permissions(folder: Path) -> list[str]:
    kw = {"effective_ids": True} if os.access in os.supports_effective_ids else {}
    return [name for mode, name in _PERMISSIONS if not os.access(folder, mode, **kw)]


def check_output_folder(out: Path, period: str) -> None:
    """Refuse at once (exit 2), before anything is written, when the run could not write its output:
    `OUT` (or the folder it would be created in), its working folders and `OUT/PERIOD` with every
    folder inside it (replacing it moves and removes them)."""
    user = _user()
    folder = out
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise OutputFolderError(f"output folder {out}: {folder} is a file, not a folder; choose another --out")
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
) -> None:
    """Execute one step's notebook with papermill into `run_dir/notebooks/`; raise StepError on failure.

    `km`: a warm kernel (`salesops.kernels.KernelPool`) to run it on, shut down afterwards; None starts one.
    A cell running longer than `cell_timeout_s`, or the notebook longer than `step_timeout_s`, raises
    `StepTimeoutError` naming the step, the cell and the limit; the kernel is killed either way.
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
        )
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
        kernels.shutdown(km)


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
            items.append(
                f'<li><a href="{html.escape(step.report)}">{html.escape(step.title)}</a>'
                f'<span class="meta">{note}</span></li>'
            )
    if (run_dir / PDF_NAME).exists():
        items.append(f'<li><a href="{PDF_NAME}">Executive pack (PDF)</a></li>')
    alerts = "".join(f"<li>{html.escape(str(a.get('message', a)))}</li>" for a in run.get("alerts", []))
    alert_block = f"<h2>Alerts</h2><ul class='alerts'>{alerts}</ul>" if alerts else ""
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
    """`OUT/index.html`: every period that has a completed run, newest first."""
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

    Each notebook runs in a fresh kernel, warmed in the background while the previous step runs
    (`pool`: the caller's `KernelPool` when it runs several periods, else one for this run).
    Raises `ParameterError`/`DataError`/`LockError` (exit 2) before anything is written,
    `StepError` (exit 1) when a notebook fails, `AlertError` (exit 3) after publishing when
    `fail_on_alert` and an alert fired.

    Example:
        >>> result = run("2026-11", out="reports")  # doctest: +SKIP
        >>> result.status
        'success'
    """
    out = Path(out).resolve()
    p = params_mod.load(period=period, params=params, data=data, out=out, reapprove=reapprove)
    formats = formats or list(p.report.formats)
    selected = steps_mod.select(first, last)
    final_dir = out / period

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
    missing = [s for s in steps_mod.prerequisites(selected) if not published.has_step(s)]
    if missing:
        raise ParameterError(
            f"--from {selected[0].name} needs the outputs of {', '.join(missing)} in "
            f"{final_dir / 'data'}; run the whole cycle first (salesops run {period})"
        )

    progress = progress or Progress(total=len(selected))
    with period_lock(out, period):
        build_root = out / ".build"
        run_dir = build_root / f"{period}-{uuid.uuid4().hex[:8]}"
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
            "params": None if params is None else str(Path(params).resolve()),
            "data": data,
            "out": str(out),
            "run_dir": str(run_dir),
        }
        nb_dir = notebook_dir()
        info = {s.name: ReportInfo(p.company, s.title, period) for s in steps_mod.STEPS}
        result = RunResult(period, "running", final_dir)
        own_pool = pool is None
        pool = pool or kernels.KernelPool([s.imports for s in selected])
        try:
            for step in selected:
                progress.step(f"{step.name}: running")
                t0 = time.perf_counter()
                step_parameters = (
                    dict(parameters, reapprove=True) if reapprove and step.name == PDF_STEP else parameters
                )
                execute_step(step, nb_dir, run_dir, step_parameters, km=pool.take())
                t1 = time.perf_counter()
                executed = run_dir / "notebooks" / step.notebook
                if "html" in formats:
                    to_html(executed, run_dir / step.report, info[step.name], p.report.renderer)
                if step.name == PDF_STEP and "pdf" in formats:
                    to_pdf(executed, run_dir / PDF_NAME, info[step.name], p.report.renderer)
                t2 = time.perf_counter()
                record["steps"][step.name] = {
                    "execute_s": round(t1 - t0, 2),
                    "render_s": round(t2 - t1, 2),
                    "ran": dt.datetime.now().isoformat(timespec="seconds"),
                }
                progress.advance(f"{step.name}: done in {t2 - t0:.1f} s")
        except BaseException as exc:
            failed = out / ".failed" / f"{period}-{started:%Y%m%d-%H%M%S}"
            failed.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(run_dir), failed)
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
            if own_pool:
                pool.close()
        progress.close()

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
        write_global_index(out, p.company)
        result.status, result.durations, result.alerts = "success", record["steps"], alerts
        result.duration_s = record["duration_s"]
    if fail_on_alert and alerts:
        raise AlertError(
            f"{len(alerts)} alert(s) fired in {period}: "
            + "; ".join(str(a.get("message")) for a in alerts[:5])
        )
    return result


def _publish(run_dir: Path, final_dir: Path, out: Path):
    """Move the finished build into place; the old output is removed only once the new one is there."""
    trash = out / ".trash" / f"{final_dir.name}-{uuid.uuid4().hex[:8]}"
    if final_dir.exists():
        trash.parent.mkdir(parents=True, exist_ok=True)
        os.replace(final_dir, trash)
    os.replace(run_dir, final_dir)
    shutil.rmtree(trash, ignore_errors=True)


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


def backfill(first: str, last: str, **kwargs) -> list[RunResult]:
    """Run consecutive periods from `first` to `last`; each plan of record is frozen before the next runs."""
    for bound in (first, last):
        if not params_mod.PERIOD_RE.match(str(bound)):
            raise ParameterError(f"backfill: '{bound}' is not a month written YYYY-MM (e.g. 2026-11)")
    months = pd.period_range(first, last, freq="M")
    if len(months) == 0:
        raise ParameterError(f"backfill: {first} comes after {last}; give FROM before TO (YYYY-MM)")
    fail_on_alert = kwargs.pop("fail_on_alert", False)
    selected = steps_mod.select(kwargs.get("first"), kwargs.get("last"))
    with kernels.KernelPool([s.imports for _ in months for s in selected]) as pool:
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
