"""Warm kernels: fresh processes with only imports done ahead; the runner shuts each one down."""

from __future__ import annotations

import importlib
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
            runner.execute_step(step, tmp_path, tmp_path / "run", {}, km=km)
        assert "NameError" in str(err.value) and "alt" in str(err.value)
        assert not km.has_kernel  # shut down after the notebook, failed or not
        assert pool.take() is None  # one notebook asked for, one given
    executed = nbformat.read(tmp_path / "run" / "notebooks" / "probe.ipynb", as_version=4)
    first = next(c for c in executed.cells if c.cell_type == "code")
    assert first.execution_count == 1  # the warm-up is not counted
    assert first.outputs[0]["text"].strip() == "True []"
    assert threading.active_count() == before  # no client channel or pool thread left behind


def test_pool_hands_out_one_kernel_per_notebook_and_closes_the_spare(tmp_path):
    _notebook(tmp_path / "ok.ipynb", "import os\nprint(os.getpid())")
    step = steps.Step("ok", "ok.ipynb", "ok.html")
    pool = kernels.KernelPool([(), (), ()], cwd=str(tmp_path))
    pids = []
    for i in range(2):
        km = pool.take()
        runner.execute_step(step, tmp_path, tmp_path / f"run{i}", {}, km=km)
        out = nbformat.read(tmp_path / f"run{i}" / "notebooks" / "ok.ipynb", as_version=4)
        pids.append(out.cells[0].outputs[0]["text"].strip())
    spare = pool._next.result()
    assert spare.has_kernel
    pool.close()
    assert not spare.has_kernel
    assert len(set(pids)) == 2  # a fresh process per notebook
