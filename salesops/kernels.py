"""Warm kernels: start the next notebook's kernel, and do its slow imports, while the current one runs.

Every step still runs in a fresh kernel process of its own. A warm kernel has only imported modules
(nothing is bound in the notebook's namespace, no cell is counted), so a notebook that forgets an
import fails here as it would in JupyterLab. What it saves per notebook: the kernel start (about
1 s) and the imports of pandas, Altair and statsmodels plus the first chart conversion (2-4 s),
which run in the background on the other core.

Example:
    >>> with KernelPool([("salesops.data",), ("salesops.demand",)]) as pool:  # doctest: +SKIP
    ...     for step, km in zip(steps, iter(pool.take, None)):  # the next kernel warms meanwhile
    ...         runner.execute_step(step, nb_dir, run_dir, parameters, km=km)
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import uuid
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from typing_extensions import Self

log = logging.getLogger("salesops")

#: imported in every warm kernel: what every step notebook uses
COMMON_IMPORTS = (
    "pandas",
    "altair",
    "salesops.report",
    "salesops.charts",
    "salesops.params",
    "salesops.steps",
)

# the first Vega-Lite conversion in a process starts its JavaScript runtime (about 1 s)
_WARM_CODE = """\
import importlib as _importlib
for _name in {modules!r}:
    try:
        _importlib.import_module(_name)
    except Exception:
        pass
try:
    import vl_convert as _vlc
    _vlc.vegalite_to_svg({{"data": {{"values": [{{"a": 1}}]}}, "mark": "point",
                          "encoding": {{"x": {{"field": "a", "type": "quantitative"}}}}}})
    del _vlc
except Exception:
    pass
del _importlib, _name
"""


def kernel_manager_class():
    """Kernels talk over local IPC sockets: nothing listens on TCP, and ipykernel does not warn.

    Returns:
        A subclass of jupyter_client's `AsyncKernelManager` whose kernels use the `ipc` transport,
        with their socket under Jupyter's runtime folder.
    """
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import default

    class IPCKernelManager(AsyncKernelManager):
        @default("transport")
        def _default_transport(self):
            return "ipc"

        @default("ip")
        def _default_ip(self):
            # an absolute socket path: jupyter_client's default is relative, and a kernel started in
            # another folder than ours would listen where we never connect
            from jupyter_core.paths import jupyter_runtime_dir

            folder = jupyter_runtime_dir()
            os.makedirs(folder, exist_ok=True)
            return os.path.join(folder, f"salesops-{uuid.uuid4().hex[:12]}-ipc")

    return IPCKernelManager


async def _start_warm(modules: Sequence[str], cwd: str, timeout: float):
    km = kernel_manager_class()(kernel_name="python3")
    await km.start_kernel(cwd=cwd)
    kc = km.client()
    kc.start_channels()
    try:
        await kc.wait_for_ready(timeout=timeout)
        msg_id = kc.execute(_WARM_CODE.format(modules=tuple(modules)), silent=True, store_history=False)
        while True:
            reply = await kc.get_shell_msg(timeout=timeout)
            if reply["parent_header"].get("msg_id") == msg_id:
                break
    except BaseException:
        kc.stop_channels()
        await km.shutdown_kernel(now=True)
        raise
    kc.stop_channels()
    return km


def start_warm_kernel(modules: Sequence[str], cwd: str | None = None, timeout: float = 120.0):
    """Start a python3 kernel in `cwd` and import `modules` in it; returns its (async) kernel manager.

    Args:
        modules: The modules to import in the kernel (one that fails to import is skipped).
        cwd: The kernel's working folder; the current folder by default.
        timeout: Seconds to wait for the kernel to be ready, and for the imports to finish.

    Returns:
        The kernel's manager (an `AsyncKernelManager`), its kernel running and warm.
    """
    return asyncio.run(_start_warm(tuple(modules), cwd or os.getcwd(), timeout))


class KernelPool:
    """Hands out one warm kernel per notebook, in order, warming the next in a background thread.

    `imports[i]` lists the modules notebook i needs (on top of `COMMON_IMPORTS`). `take()` returns
    the kernel manager for the next notebook, or None when warming failed (the caller then starts a
    kernel the usual way). The caller shuts down the kernels it takes; `close()` those never taken.

    Args:
        imports: For each notebook, in the order they run, the modules it needs.
        cwd: The kernels' working folder; the current folder by default.
    """

    def __init__(self, imports: Sequence[Sequence[str]], cwd: str | None = None):
        self._queue = [tuple(dict.fromkeys((*COMMON_IMPORTS, *mods))) for mods in imports]
        self._cwd = cwd or os.getcwd()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="salesops-kernel")
        self._next: Future | None = None
        self._warm_next()

    def _warm_next(self) -> None:
        self._next = (
            self._executor.submit(start_warm_kernel, self._queue.pop(0), self._cwd) if self._queue else None
        )

    def take(self):
        """The warm kernel manager for the next notebook (None if it could not be started).

        Returns:
            The next notebook's kernel manager, or None when no notebook is left or its kernel could
            not be warmed. Starts warming the kernel of the notebook after it.
        """
        future = self._next
        if future is None:
            return None
        try:
            km = future.result()
        except Exception as exc:  # noqa: BLE001 - a cold start still works
            log.warning(
                "could not warm a kernel (%s: %s); starting one the usual way", type(exc).__name__, exc
            )
            km = None
        self._warm_next()
        return km

    def close(self) -> None:
        """Shut down the kernel warmed for a notebook that will not run."""
        future, self._next, self._queue = self._next, None, []
        if future is not None:
            with contextlib.suppress(Exception):  # it failed to start: nothing to shut down
                shutdown(future.result())
        self._executor.shutdown(wait=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def shutdown(km) -> None:
    """Stop a kernel started by `start_warm_kernel` if it is still running.

    Args:
        km: The kernel's manager; None does nothing.
    """
    if km is None:
        return

    async def stop():
        if await km.is_alive():
            await km.shutdown_kernel(now=True)

    try:
        asyncio.run(stop())
    except Exception as exc:  # noqa: BLE001 - already gone
        log.debug("kernel shutdown: %s", exc)


def _warm_engine():
    """papermill's nbclient engine, running on a kernel we started: it shuts that kernel down and stops
    its client after the notebook (papermill leaves a kernel it did not start running)."""
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine

    class WarmKernelEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(
            cls,
            nb_man,
            kernel_name,
            log_output=False,
            stdout_file=None,
            stderr_file=None,
            start_timeout=60,
            execution_timeout=None,
            **kwargs,
        ):
            client = PapermillNotebookClient(
                nb_man,
                km=kwargs.get("km"),
                kernel_name=kernel_name,
                log=log,
                log_output=log_output,
                stdout_file=stdout_file,
                stderr_file=stderr_file,
                startup_timeout=start_timeout,
                timeout=execution_timeout,
                shutdown_kernel="immediate",
            )  # the notebook is done and saved
            tracker = kwargs.get("salesops_tracker")
            if tracker is not None:  # which cell runs: a timeout message names it
                start = nb_man.cell_start

                def cell_start(cell, cell_index=None, **kw):
                    tracker["cell"] = code_cell_number(nb_man.nb, cell_index)
                    return start(cell, cell_index, **kw)

                nb_man.cell_start = cell_start
            return client.execute(cleanup_kc=True)

    return WarmKernelEngine


def code_cell_number(nb, index: int | None) -> int | None:
    """The 1-based number among code cells of cell `index` (its execution count in a fresh kernel).

    Args:
        nb: The notebook (an `nbformat` notebook node).
        index: The 0-based position of the cell among all the notebook's cells, or None.

    Returns:
        The number of code cells up to and including cell `index`, or None when `index` is None.
    """
    if index is None:
        return None
    return sum(1 for cell in nb.cells[: index + 1] if cell.cell_type == "code")


def kill(km) -> None:
    """Kill a kernel's process group at once (from any thread): a step that overran its time limit.

    Args:
        km: The kernel's manager; a kernel whose process is already gone is ignored.
    """
    import signal

    provisioner = getattr(km, "provisioner", None)
    pid = getattr(provisioner, "pid", None)
    pgid = getattr(provisioner, "pgid", None)
    with contextlib.suppress(OSError, TypeError):
        if pgid:
            os.killpg(pgid, signal.SIGKILL)
            return
    with contextlib.suppress(OSError, TypeError):
        if pid:
            os.kill(pid, signal.SIGKILL)


ENGINE_NAME = "salesops-warm"


@functools.cache
def register_engine() -> str:
    """Register the papermill engine that runs notebooks on warm kernels; returns its name."""
    from papermill.engines import papermill_engines

    papermill_engines.register(ENGINE_NAME, _warm_engine())
    return ENGINE_NAME
