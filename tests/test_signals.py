"""Hangs and signals: timeouts, SIGTERM, SIGINT and SIGKILL on real `salesops run` processes.

A project folder whose `notebooks/01_data_collection.ipynb` hangs in its third code cell (after
writing its kernel's pid) stands in for a database that never answers. Each test checks the exit
code and message, that no kernel outlives the run, and that the published period stays byte-identical.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import nbformat
import pytest

pytestmark = pytest.mark.slow
PERIOD = "2026-11"


def _hanging_notebook() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell(
        'period = "2026-11"\nparams = None\ndata = None\nout = "reports"\nrun_dir = None'
    )
    params.metadata["tags"] = ["parameters"]
    hang = nbformat.v4.new_code_cell(
        "import os, pathlib, time\n"
        'pathlib.Path(os.environ["H3_PIDFILE"]).write_text(str(os.getpid()))\n'
        "time.sleep(600)"
    )
    nb.cells = [nbformat.v4.new_markdown_cell("# Hangs"), params, hang]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


@pytest.fixture
def project(tmp_path) -> Path:
    """A project folder with a hanging first notebook and a published period to protect."""
    (tmp_path / "notebooks").mkdir()
    nbformat.write(_hanging_notebook(), tmp_path / "notebooks" / "01_data_collection.ipynb")
    (tmp_path / "params").mkdir()
    published = tmp_path / "reports" / PERIOD
    (published / "data").mkdir(parents=True)
    (published / "index.html").write_text("<p>the approved reports</p>")
    (published / "data" / "x.parquet").write_bytes(os.urandom(256))
    return tmp_path


def set_params(project: Path, text: str) -> None:
    (project / "params" / "default.yaml").write_text(text)


def published(project: Path) -> dict:
    folder = project / "reports" / PERIOD
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def start(project: Path, *args) -> tuple[subprocess.Popen, Path, str]:
    mark = uuid.uuid4().hex
    pidfile = project / f"kernel-{mark}.pid"
    env = {**os.environ, "H3_PIDFILE": str(pidfile), "H3_MARK": mark}
    proc = subprocess.Popen(
        [sys.executable, "-m", "salesops", "run", PERIOD, "--out", project / "reports", *args],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    return proc, pidfile, mark


def wait_for(pidfile: Path, proc: subprocess.Popen, limit: float = 180) -> int:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if pidfile.exists() and pidfile.read_text():
            return int(pidfile.read_text())
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.2)
    raise AssertionError("the hanging cell never started")


def marked(mark: str) -> list[int]:
    """Live processes started by the run (they inherit its H3_MARK)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if f"H3_MARK={mark}".encode() not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state not in ("Z", "X"):
            found.append(int(entry.name))
    return found


def gone(mark: str, limit: float = 15) -> list[int]:
    deadline = time.monotonic() + limit
    while marked(mark) and time.monotonic() < deadline:
        time.sleep(0.2)
    return marked(mark)


def kill_marked(mark: str) -> None:
    for pid in marked(mark):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def finish(proc: subprocess.Popen, mark: str, limit: float = 240) -> tuple[int, str]:
    try:
        _, err = proc.communicate(timeout=limit)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        left = gone(mark)
        kill_marked(mark)
    assert "Traceback" not in err, err[-3000:]
    assert not left, f"kernels outlived the run: {left}"
    return proc.returncode, err


@pytest.mark.parametrize(
    ("execution", "expected"),
    [
        ("cell_timeout_s: 3", "timed out: the cell ran longer than execution.cell_timeout_s = 3 s"),
        (
            "cell_timeout_s: 300\n  step_timeout_s: 4",
            "timed out: the step ran longer than execution.step_timeout_s = 4 s",
        ),
    ],
)
def test_timeouts_fail_with_exit_1_naming_step_cell_and_limit(project, execution, expected):
    set_params(project, f"execution:\n  {execution}\n")
    before = published(project)
    proc, _, mark = start(project, "--to", "sales_performance")
    code, err = finish(proc, mark)
    assert code == 1, err
    assert "step data_collection failed in" in err and "cell 3: " + expected in err, err
    assert published(project) == before
    assert not list((project / "reports" / ".build").glob(f"{PERIOD}-*"))
    assert len(list((project / "reports" / ".failed").iterdir())) == 1


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_stops_kernels_moves_the_build_and_releases_the_lock(project, signum, code):
    set_params(project, "execution:\n  cell_timeout_s: 600\n")
    before = published(project)
    proc, pidfile, mark = start(project, "--to", "sales_performance")
    kernel = wait_for(pidfile, proc)
    assert len(marked(mark)) >= 2  # the running kernel and the next step's warm one
    proc.send_signal(signum)
    returned, err = finish(proc, mark, limit=120)
    assert returned == code, err
    assert f"interrupted by {signal.Signals(signum).name}" in err
    assert kernel not in marked(mark)
    assert published(project) == before
    reports = project / "reports"
    assert not [p for p in (reports / ".build").iterdir()]  # build folder and its owner file gone
    assert len(list((reports / ".failed").iterdir())) == 1
    assert not (reports / ".locks" / f"{PERIOD}.owner").exists()


def test_the_next_run_cleans_what_a_killed_run_left(project):
    set_params(project, "execution:\n  cell_timeout_s: 3\n")
    before = published(project)
    proc, pidfile, mark = start(project, "--to", "data_collection")
    wait_for(pidfile, proc)
    os.killpg(proc.pid, signal.SIGKILL)  # no chance to clean up
    proc.wait()
    kill_marked(mark)
    reports = project / "reports"
    left = [p for p in (reports / ".build").iterdir() if p.is_dir()]
    assert len(left) == 1 and (reports / ".locks" / f"{PERIOD}.owner").exists()
    assert published(project) == before

    pidfile.unlink()
    proc, pidfile, mark = start(project, "--to", "data_collection")
    code, err = finish(proc, mark)
    assert code == 1 and "cell_timeout_s = 3 s" in err  # the lock did not block it
    assert not left[0].exists()
    assert not list((reports / ".build").iterdir())
    assert not (reports / ".locks" / f"{PERIOD}.owner").exists()
    assert published(project) == before
