"""Warm kernels: fresh processes with only imports done ahead; the runner shuts each one down."""

from __future__ import annotations

import importlib
import subprocess
import sys
import threading

import nbformat
import pytest

from salesops import kernels, runner, steps
from salesops.exceptions import StepError


def _notebook(path, *sources):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(src) for src in sources]
    nbformat.write(nb, path)


@pytest.mark.parametrize("step", steps.STEPS, ids=lambda s: s.name)
def test_every_declared_import_exists(step):
    # the warm-up swallows import errors (a cold import still works): a typo would silently cost time
    for name in (*kernels.COMMON_IMPORTS, *step.imports):
        importlib.import_module(name)


def test_warm_kernel_has_modules_loaded_but_a_clean_namespace(tmp_path):
    _notebook(
        tmp_path / "probe.ipynb",
        "import sys\nloaded = 'salesops.followup' in sys.modules and 'altair' in sys.modules\n"
        "names = sorted(k for k in globals() if not k.startswith('_') and k not in "
        "('In', 'Out', 'exit', 'quit', 'get_ipython', 'open', 'sys', 'loaded'))\nprint(loaded, names)",
        "print(alt)",
    )  # never imported by the notebook: must fail as in JupyterLab
    step = steps.Step("probe", "probe.ipynb", "probe.html")
    before = threading.active_count()
    with kernels.KernelPool([("salesops.followup",)], cwd=str(tmp_path)) as pool:
        km = pool.take()
        assert km is not None and km.has_kernel
        with pytest.raises(StepError) as err:
            runner.execute_step(step, tmp_path, tmp_path / "run", {}, km=km, keep_kernel=True)
        assert "NameError" in str(err.value) and "alt" in str(err.value)
        assert not km.has_kernel  # a failed notebook's kernel is shut down, even when asked to keep it
        again = pool.take()  # nothing given back: a new kernel
        assert again is not km and again.has_kernel and pool.started == 2
        pool.give_back(again)
    assert not again.has_kernel  # closing the pool shuts down the kernel it holds
    executed = nbformat.read(tmp_path / "run" / "notebooks" / "probe.ipynb", as_version=4)
    first = next(c for c in executed.cells if c.cell_type == "code")
    assert first.execution_count == 1  # the warm-up is not counted
    assert first.outputs[0]["text"].strip() == "True []"
    assert threading.active_count() == before  # no client channel or pool thread left behind


def test_a_kernel_given_back_runs_the_next_notebook_with_a_clean_namespace(tmp_path):
    # notebook 1 binds names, imports a module under an alias and changes a module's state
    _notebook(
        tmp_path / "first.ipynb",
        "import os\nimport json as js\nsecret = 42\nprint(os.getpid())",
        "import salesops.steps\nsalesops.steps._probe_state = 'set by first'",
    )
    # notebook 2 sees none of the names, counts its cells from 1, and still has the modules loaded
    _notebook(
        tmp_path / "second.ipynb",
        "import os\nprint(os.getpid())",
        "print(sorted(k for k in globals() if k in ('secret', 'js', 'os')))",
        "import sys\nprint('json' in sys.modules)",
    )
    pool = kernels.KernelPool([()], cwd=str(tmp_path))
    kept = []
    for name in ("first", "second"):
        step = steps.Step(name, f"{name}.ipynb", f"{name}.html")
        km = runner.execute_step(step, tmp_path, tmp_path / "run", {}, km=pool.take(), keep_kernel=True)
        assert km is not None and km.has_kernel
        kept.append(km)
        pool.give_back(km)
    assert kept[0] is kept[1] and pool.started == 1  # one kernel for both notebooks
    first = nbformat.read(tmp_path / "run" / "notebooks" / "first.ipynb", as_version=4)
    second = nbformat.read(tmp_path / "run" / "notebooks" / "second.ipynb", as_version=4)
    assert first.cells[0].outputs[0]["text"] == second.cells[0].outputs[0]["text"]  # same process
    assert [c.execution_count for c in second.cells] == [1, 2, 3]
    assert second.cells[1].outputs[0]["text"].strip() == "['os']"  # secret and js are gone
    assert second.cells[2].outputs[0]["text"].strip() == "True"
    pool.close()
    assert not kept[0].has_kernel


def test_a_kernel_that_died_is_not_handed_out_again(tmp_path):
    _notebook(tmp_path / "ok.ipynb", "x = 1")
    step = steps.Step("ok", "ok.ipynb", "ok.html")
    with kernels.KernelPool([()], cwd=str(tmp_path)) as pool:
        km = runner.execute_step(step, tmp_path, tmp_path / "run", {}, km=pool.take(), keep_kernel=True)
        kernels.kill(km)  # e.g. the out-of-memory killer, between two notebooks
        pool.give_back(km)
        fresh = pool.take()
        assert fresh is not km and fresh.has_kernel and pool.started == 2
        assert runner.execute_step(step, tmp_path, tmp_path / "run", {}, km=fresh) is None
        assert not fresh.has_kernel  # not kept when the caller does not ask


def test_the_executed_notebook_is_written_now_and_then_and_always_at_the_end(tmp_path, monkeypatch):
    import papermill.engines

    writes = []
    real = papermill.engines.write_ipynb
    monkeypatch.setattr(
        papermill.engines, "write_ipynb", lambda nb, path: writes.append(path) or real(nb, path)
    )
    cells = [f"x{i} = {i}" for i in range(12)]
    _notebook(tmp_path / "many.ipynb", *cells, "print(x11)")
    step = steps.Step("many", "many.ipynb", "many.html")
    runner.execute_step(step, tmp_path, tmp_path / "run", {})
    # papermill alone writes before and after each of the 13 cells; here: at the start and the end
    assert 1 <= len(writes) <= 3
    executed = nbformat.read(tmp_path / "run" / "notebooks" / "many.ipynb", as_version=4)
    assert executed.cells[-1].outputs[0]["text"].strip() == "11"  # the final state is on disk
    writes.clear()
    _notebook(tmp_path / "fails.ipynb", *cells, "raise RuntimeError('stop here')", "y = 1")
    with pytest.raises(StepError):
        runner.execute_step(steps.Step("fails", "fails.ipynb", "fails.html"), tmp_path, tmp_path / "run", {})
    failed = nbformat.read(tmp_path / "run" / "notebooks" / "fails.ipynb", as_version=4)
    errors = [o for c in failed.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert any(o.get("ename") == "RuntimeError" for o in errors)  # the failure is kept for the user


def test_pools_one_after_another_never_hang(tmp_path):
    # a kept client used in another event loop than its own lost messages: the third pool of a
    # process like this one hung forever (the peer runs of benchmarks/backfill.py)
    script = tmp_path / "pools.py"
    script.write_text(
        "import sys, nbformat\n"
        "from pathlib import Path\n"
        "from salesops import kernels, runner, steps\n"
        "tmp = Path(sys.argv[1])\n"
        "nb = nbformat.v4.new_notebook()\n"
        "nb.metadata['kernelspec'] = {'name': 'python3', 'display_name': 'Python 3', 'language': 'python'}\n"
        "nb.cells = [nbformat.v4.new_code_cell(f'x{i} = {i}') for i in range(5)]\n"
        "nbformat.write(nb, tmp / 'a.ipynb')\n"
        "step = steps.Step('a', 'a.ipynb', 'a.html')\n"
        "for r in range(6):\n"
        "    with kernels.KernelPool([()], cwd=str(tmp)) as pool:\n"
        "        for i in range(3):\n"
        "            km = runner.execute_step(step, tmp, tmp / 'run', {}, km=pool.take(), keep_kernel=True)\n"
        "            pool.give_back(km)\n"
        "print('done')\n"
    )
    done = subprocess.run(
        [sys.executable, str(script), str(tmp_path)], check=False, capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "done"
