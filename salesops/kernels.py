"""Warm kernels: one kernel process per run, its slow imports done ahead, reused notebook after notebook.

A run's (or a backfill's) notebooks share one kernel. It is started in the background with every
step's modules imported (pandas, Altair, statsmodels, the step packages) and the first chart
conversion done; after each notebook that succeeds its namespace is reset (`%reset -f`: every name
the notebook bound is gone, the cell counter starts again at 1, imported modules stay loaded), so a
notebook that forgets an import fails here as it would in JupyterLab. A notebook that fails or runs
over its time limit takes its kernel with it: the next notebook gets a new one. What it saves per
notebook: the kernel start (about 1 s) and the imports plus first chart conversion (2-4 s), which
on 2 cores would otherwise compete with the running step for the CPU.

Example:
    >>> with KernelPool([("salesops.data",), ("salesops.demand",)]) as pool:  # doctest: +SKIP
    ...     for step in steps:
    ...         km = runner.execute_step(step, nb_dir, run_dir, parameters, km=pool.take(), keep_kernel=True)
    ...         pool.give_back(km)  # reset, and run the next notebook on it
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import threading
import time
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
# what the imports made lives as long as the kernel: the collector need not scan it again (a reset's
# collection then takes milliseconds, not 0.2 s, and forked workers share those pages)
import gc as _gc
_gc.freeze()
del _gc
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


# after a notebook: forget its names and start counting cells at 1 again; modules stay imported
_RESET_CODE = "get_ipython().reset(new_session=True)"


# the attribute of a kernel's manager that holds its client, connected once and kept for every
# notebook: each new connection waits at least 0.2 s for the kernel (jupyter_client's `wait_for_ready`)
CLIENT = "salesops_client"


async def _connect(km, timeout: float):
    kc = km.client()
    kc.start_channels()
    kc.allow_stdin = False
    try:
        await kc.wait_for_ready(timeout=timeout)
    except BaseException:
        kc.stop_channels()
        raise
    return kc


async def _run_code(kc, code: str, timeout: float) -> bool:
    """Run `code` through `kc` without recording it; True when it ran without error."""
    msg_id = kc.execute(code, silent=True, store_history=False)
    while True:  # other messages (an earlier notebook's last ones) are not ours: skipped
        reply = await kc.get_shell_msg(timeout=timeout)
        if reply["parent_header"].get("msg_id") == msg_id:
            return reply["content"].get("status") == "ok"


def _in_own_loop(coro):
    """Run `coro` to its end on an event loop of its own, in a thread of its own: the caller's loop
    (where nbclient and the kept clients live, perhaps with a notebook's task left pending after a
    signal) is neither run nor replaced."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="salesops-kernel-op") as one:
        return one.submit(asyncio.run, coro).result()


def connect(km, timeout: float = 60.0):
    """The kernel's client for the calling thread, connected on first use and kept on the manager.

    A client's sockets belong to one event loop: this one is made and used in the calling thread's
    loop (the one nbclient and papermill use there), never in the thread that warmed the kernel.

    Args:
        km: The kernel's manager.
        timeout: Seconds to wait for the kernel to answer.

    Returns:
        A connected `AsyncKernelClient`; `shutdown` closes it.
    """
    from jupyter_core.utils import run_sync

    kept = getattr(km, CLIENT, None)
    if kept is not None and kept[1] == threading.get_ident():
        return kept[0]
    _stop_client(km)
    kc = run_sync(_connect)(km, timeout)
    setattr(km, CLIENT, (kc, threading.get_ident()))
    return kc


def _stop_client(km) -> None:
    kept = getattr(km, CLIENT, None)
    if kept is not None:
        setattr(km, CLIENT, None)
        with contextlib.suppress(Exception):
            kept[0].stop_channels()


async def _start_warm(modules: Sequence[str], cwd: str, timeout: float):
    km = kernel_manager_class()(kernel_name="python3")
    await km.start_kernel(cwd=cwd)
    try:
        kc = await _connect(km, timeout)
        try:  # a client of this thread's loop, closed here: the runner's thread connects its own
            await _run_code(kc, _WARM_CODE.format(modules=tuple(modules)), timeout)
        finally:
            kc.stop_channels()
    except BaseException:
        await km.shutdown_kernel(now=True)
        raise
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
    return _in_own_loop(_start_warm(tuple(modules), cwd or os.getcwd(), timeout))


def reset_kernel(km, timeout: float = 30.0) -> bool:
    """Clear a kernel's namespace after a notebook, as `%reset -f` does, and restart its cell count.

    Args:
        km: The kernel's manager.
        timeout: Seconds to wait for the kernel.

    Returns:
        True when the kernel is alive and was reset; False when it is gone or did not answer.
    """
    from jupyter_core.utils import run_sync

    async def alive() -> bool:
        return await km.is_alive()

    try:  # connected outside the loop run here: `connect` runs a loop of its own on first use
        return run_sync(alive)() and run_sync(_run_code)(connect(km, timeout), _RESET_CODE, timeout)
    except Exception as exc:  # noqa: BLE001 - a dead or stuck kernel: the caller starts another
        log.debug("kernel reset: %s", exc)
        return False


class KernelPool:
    """Hands out a warm kernel for each notebook: the one the last notebook gave back, reset, or a new one.

    The first kernel warms in a background thread from the moment the pool is made, with every
    module that `imports` lists (plus `COMMON_IMPORTS`) imported. `give_back(km)` after a notebook
    that succeeded resets that kernel and keeps it for the next `take()`; a notebook that failed
    gives nothing back, and the next `take()` starts a new warm kernel. `close()` shuts down the
    kernel the pool holds.

    Args:
        imports: For each notebook, the modules it needs (the kernel imports them all once).
        cwd: The kernels' working folder; the current folder by default.
    """

    def __init__(self, imports: Sequence[Sequence[str]], cwd: str | None = None):
        self._modules = tuple(dict.fromkeys((*COMMON_IMPORTS, *(m for mods in imports for m in mods))))
        self._cwd = cwd or os.getcwd()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="salesops-kernel")
        self._next: Future | None = self._warm()
        self.started = 1  # kernels started so far (a reused kernel is not counted again)

    def _warm(self) -> Future:
        return self._executor.submit(start_warm_kernel, self._modules, self._cwd)

    def take(self):
        """The warm kernel manager for the next notebook (None if none could be started).

        Returns:
            The kernel given back by the last notebook, reset, or else a newly started warm kernel;
            None when a kernel could not be started (the caller then starts one the usual way).
        """
        future, self._next = self._next, None
        if future is None:  # the last notebook failed: its kernel is gone
            future = self._warm()
            self.started += 1
        km = None
        try:
            km = future.result()
            connect(km)  # in the caller's thread, where the notebooks run: once per kernel
            return km
        except Exception as exc:  # noqa: BLE001 - a cold start still works
            shutdown(km)
            log.warning(
                "could not warm a kernel (%s: %s); starting one the usual way", type(exc).__name__, exc
            )
            return None

    def give_back(self, km) -> None:
        """Keep the kernel of a notebook that succeeded for the next one, its namespace reset.

        Args:
            km: The kernel's manager; None does nothing. A kernel that cannot be reset is shut down.
        """
        if km is None:
            return
        if self._next is not None or not reset_kernel(km):
            shutdown(km)
            return
        done: Future = Future()
        done.set_result(km)
        self._next = done

    def close(self) -> None:
        """Shut down the kernel the pool holds."""
        future, self._next = self._next, None
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
    _stop_client(km)

    async def stop():
        if await km.is_alive():
            await km.shutdown_kernel(now=True)

    try:
        _in_own_loop(stop())
    except Exception as exc:  # noqa: BLE001 - already gone
        log.debug("kernel shutdown: %s", exc)


def _warm_engine():
    """papermill's nbclient engine, running on a kernel we started through the client connected to it:
    after the notebook it shuts that kernel down (papermill leaves a kernel it did not start
    running), unless `salesops_keep_kernel` is set."""
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
            _save_at_most_every(nb_man, SAVE_EVERY_S)
            tracker = kwargs.get("salesops_tracker")
            if tracker is not None:  # which cell runs: a timeout message names it
                start = nb_man.cell_start

                def cell_start(cell, cell_index=None, **kw):
                    tracker["cell"] = code_cell_number(nb_man.nb, cell_index)
                    return start(cell, cell_index, **kw)

                nb_man.cell_start = cell_start
            if client.km is not None:  # the kept client (a warm kernel's is connected already)
                client.kc = connect(client.km)
            # kept: the kernel and its client run on, and the pool resets the kernel for the next notebook
            return client.execute(cleanup_kc=not kwargs.get("salesops_keep_kernel"))

    return WarmKernelEngine


#: while a notebook runs, its executed copy is written at most this often (and always at the end)
SAVE_EVERY_S = 5.0


def _save_at_most_every(nb_man, seconds: float) -> None:
    """papermill writes the executed notebook before and after every cell (a 0.5 MB notebook of 40
    cells: about 1 s of CPU). Write it at most every `seconds` while it runs, so a long step can
    still be watched, and always when the notebook completes or fails."""
    save, complete = nb_man.save, nb_man.notebook_complete
    last = [time.monotonic()]

    def save_now_and_then(**kwargs):
        if time.monotonic() - last[0] >= seconds:
            last[0] = time.monotonic()
            save(**kwargs)

    def notebook_complete(**kwargs):
        nb_man.save = save  # the final state is always written
        return complete(**kwargs)

    nb_man.save, nb_man.notebook_complete = save_now_and_then, notebook_complete


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
