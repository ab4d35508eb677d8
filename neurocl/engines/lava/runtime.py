"""Running Lava safely: every run has a wall-clock limit and always stops its runtime.

Lava 0.10 can hang instead of raising when a ProcessModel fails (its runtime waits forever
for a message from the crashed process).  :func:`run_isolated` therefore runs the whole Lava
job in a child process of its own process group; past ``timeout`` seconds the group is
killed and :class:`LavaTimeoutError` says so.  Exceptions inside the job come back with
their traceback text.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import traceback
import warnings

from neurocl.errors import NeuroclError

__all__ = ["LavaTimeoutError", "LavaRunError", "run_isolated", "run_steps"]


class LavaTimeoutError(NeuroclError, TimeoutError):
    """A Lava run did not finish in time (a failing ProcessModel makes Lava wait forever)."""


class LavaRunError(NeuroclError, RuntimeError):
    """A Lava run raised; the message carries the child's traceback."""


def run_config(tag: str):
    """``Loihi2SimCfg(select_tag=tag)``; in ``fixed_pt``, ``LearningSparse`` runs on
    :class:`~neurocl.engines.lava.models.PyBlockLearningSparseFixed` (keeps zero-weight synapses)."""
    from lava.magma.core.run_configs import Loihi2SimCfg
    from lava.proc.sparse.process import LearningSparse

    from neurocl.engines.lava.models import PyBlockLearningSparseFixed

    exceptions = {LearningSparse: PyBlockLearningSparseFixed} if tag == "fixed_pt" else None
    return Loihi2SimCfg(select_tag=tag, exception_proc_model_map=exceptions)


def run_steps(proc, n_steps: int, tag: str):
    """``proc.run(RunSteps(n_steps), run_config(tag))`` (blocking); the caller stops the runtime
    (``proc.stop()``), also on error."""
    from lava.magma.core.run_conditions import RunSteps

    proc.run(condition=RunSteps(num_steps=int(n_steps)), run_cfg=run_config(tag))


def preload_lava() -> None:
    """Import Lava's message infrastructure in this process (before forking a Lava job).

    Lava 0.10 calls ``multiprocessing.set_start_method("fork")`` unconditionally when that
    module is imported, which raises where a start method is already set (inside every
    ``multiprocessing`` child, for one).  Importing it once in the parent avoids that; if a
    start method was set before, it is cleared first so that Lava's call succeeds (it sets
    ``fork``, Lava's requirement, for this process).
    """
    import sys

    name = "lava.magma.runtime.message_infrastructure.multiprocessing"
    if name in sys.modules:
        return
    import neurocl.engines.lava.compat as compat

    compat.install()
    if mp.get_start_method(allow_none=True) is not None:
        mp.context._default_context._actual_context = None
    import importlib

    importlib.import_module(name)


def _child(conn, fn, args, kwargs, report):
    os.setpgrp()   # own process group: a timeout kills Lava's worker processes too
    try:
        import neurocl.engines.lava.compat as compat

        compat.install()
        # Lava's compiler looks for ProcessModels by executing every module beside
        # processes.py as a fresh top-level module; the ones that are not ProcessModel modules
        # (dataclasses, the engine registration) fail there and Lava warns about each.
        warnings.filterwarnings("ignore", message=r"Cannot import module .* when searching ProcessModels",
                                category=UserWarning)
        if report:
            kwargs = dict(kwargs, report=lambda value: conn.send(("progress", value)))
        conn.send(("ok", fn(*args, **kwargs)))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent
        conn.send(("error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"))
    finally:
        conn.close()


def run_isolated(fn, *args, timeout: float = 600.0, what: str = "Lava run", on_progress=None, **kwargs):
    """``fn(*args, **kwargs)`` in a child process with a ``timeout`` (seconds, wall clock, in
    all); its result.

    ``fn`` must be a module-level function returning picklable data; it builds the Lava
    network, runs it and stops it.  With ``on_progress``, ``fn`` also gets ``report=`` (a
    function of one picklable value) and each reported value reaches ``on_progress`` in this
    process as it happens.  On timeout the child's process group is killed and
    :class:`LavaTimeoutError` is raised; an exception in ``fn`` raises :class:`LavaRunError`.
    """
    import time

    preload_lava()
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, fn, args, kwargs, on_progress is not None), daemon=False)
    proc.start()
    child.close()
    deadline = time.monotonic() + timeout
    try:
        while True:
            if not parent.poll(max(0.0, deadline - time.monotonic())):
                raise LavaTimeoutError(f"{what} did not finish within {timeout:g} s and was stopped (Lava waits "
                                       "forever when a ProcessModel fails; check the inputs' ranges and dtypes)")
            status, payload = parent.recv()
            if status != "progress":
                break
            on_progress(payload)
    except EOFError:
        raise LavaRunError(f"{what}: the Lava process died (exit code {proc.exitcode})") from None
    finally:
        _kill_group(proc)
    if status == "error":
        raise LavaRunError(f"{what} failed:\n{payload}")
    return payload


def _kill_group(proc):
    if proc.is_alive():
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            proc.kill()
    proc.join(5)
    try:   # Lava's own workers, if the child exited without stopping them
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
