"""`salesops forecast --scheduler ADDRESS` on a real Dask cluster (a `dask scheduler` and a `dask worker`
started as subprocesses on 127.0.0.1): the same forecast as the local engine."""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from salesops.demand import forecast

BIN = Path(sys.executable).parent
DASK = shutil.which("dask", path=str(BIN)) or shutil.which("dask")
START_TIMEOUT_S = 40


def _history(n_series=4, months=40):
    rows = []
    for i in range(n_series):
        ds = pd.date_range("2022-01", periods=months, freq="MS")
        y = 60 + 10 * i + 9 * np.sin(2 * np.pi * np.arange(months) / 12) + 0.4 * np.arange(months)
        rows.append(pd.DataFrame({"unique_id": f"S{i}", "ds": ds.strftime("%Y-%m"), "y": y.round(1)}))
    return pd.concat(rows, ignore_index=True)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture
def dask_cluster(tmp_path):
    """A scheduler and one single-threaded worker on 127.0.0.1; yields the scheduler's address."""
    if DASK is None:
        pytest.skip("the `dask` command is not installed")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    info = tmp_path / "scheduler.json"
    common = ["--no-dashboard"]
    procs = []
    logs = [open(tmp_path / name, "w") for name in ("scheduler.log", "worker.log")]  # noqa: SIM115
    try:
        procs.append(
            subprocess.Popen(
                [DASK, "scheduler", "--host", "127.0.0.1", "--port", "0", "--scheduler-file", str(info)]
                + common,
                stdout=logs[0],
                stderr=subprocess.STDOUT,
                env=env,
                cwd=tmp_path,
            )
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while not (info.exists() and info.stat().st_size) and time.monotonic() < deadline:
            assert procs[0].poll() is None, (tmp_path / "scheduler.log").read_text()
            time.sleep(0.2)
        assert info.exists(), "the dask scheduler did not start in time"
        time.sleep(0.2)  # the file is written in one go, but give it a moment
        address = json.loads(info.read_text())["address"]
        procs.append(
            subprocess.Popen(
                [DASK, "worker", address, "--host", "127.0.0.1", "--nthreads", "1", "--nworkers", "1"]
                + ["--no-nanny", "--local-directory", str(tmp_path / "worker")]
                + common,
                stdout=logs[1],
                stderr=subprocess.STDOUT,
                env=env,
                cwd=tmp_path,
            )
        )
        from dask.distributed import Client

        with Client(address, timeout=START_TIMEOUT_S) as client:
            client.wait_for_workers(1, timeout=START_TIMEOUT_S)
        yield address
    finally:
        for proc in reversed(procs):
            _stop(proc)
        for log in logs:
            log.close()


def test_cli_forecast_on_an_existing_dask_cluster_matches_the_local_engine(dask_cluster, tmp_path):
    src = tmp_path / "history.csv"
    _history().to_csv(src, index=False)
    out = tmp_path / "dask.csv"
    done = subprocess.run(
        [str(BIN / "salesops"), "forecast", str(src), "--horizon", "6"]
        + ["--scheduler", dask_cluster, "--output", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    remote = pd.read_csv(out)
    local_out = tmp_path / "local.csv"
    from salesops.cli import main

    assert main(["forecast", str(src), "--horizon", "6", "--workers", "1", "--output", str(local_out)]) == 0
    local = pd.read_csv(local_out)
    assert list(remote.columns) == list(local.columns)
    assert list(remote.columns[:8]) == [
        "unique_id",
        "ds",
        "yhat",
        "model",
        "yhat_lo_80",
        "yhat_hi_80",
        "yhat_lo_95",
        "yhat_hi_95",
    ]
    pd.testing.assert_frame_equal(remote, local)
    # the Python API on the same cluster: identical frames, not only identical CSV text
    pd.testing.assert_frame_equal(
        forecast(_history(), horizon=6, scheduler=dask_cluster, engine="dask"),
        forecast(_history(), horizon=6, workers=1),
    )


def test_unreachable_scheduler_is_a_bad_input_not_a_traceback(tmp_path, monkeypatch):
    from salesops.demand import engine

    monkeypatch.setattr(engine, "DASK_CONNECT_TIMEOUT_S", 2)
    src = tmp_path / "history.csv"
    _history(1).to_csv(src, index=False)
    from salesops.cli import main

    assert main(["forecast", str(src), "--horizon", "2", "--scheduler", "tcp://127.0.0.1:9"]) == 2
