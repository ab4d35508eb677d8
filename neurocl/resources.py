"""Memory budget: estimate what a large allocation needs *before* making it.

A spec with a tiny ``dt``, a tiny phase length or an exact metric over ``2^N`` states would
otherwise run for minutes and end in a ``MemoryError`` traceback.  Callers estimate the bytes
they are about to allocate and call :func:`check_memory`, which raises a one-line
:class:`~neurocl.errors.ConfigError` naming the field and the estimate.

The budget is ``NEUROCL_MEMORY_BUDGET`` (bytes, or with a suffix ``K``, ``M``, ``G``, ``T``:
``"4G"``) if set, else half of ``MemAvailable`` in ``/proc/meminfo``, else 4 GiB.
"""

from __future__ import annotations

import os

from neurocl.errors import ConfigError

__all__ = ["memory_budget", "check_memory", "format_bytes", "DEFAULT_BUDGET"]

#: budget where ``/proc/meminfo`` cannot be read (bytes)
DEFAULT_BUDGET = 4 * 2**30

_SUFFIX = {"": 1, "B": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


def _parse_bytes(text: str) -> int:
    s = text.strip().upper().removesuffix("IB").removesuffix("B")
    unit = s[-1:] if s[-1:] in _SUFFIX else ""
    number = s[: len(s) - len(unit)] if unit else s
    try:
        value = float(number) * _SUFFIX[unit]
    except ValueError:
        raise ConfigError(f"NEUROCL_MEMORY_BUDGET = {text!r} is not a size in bytes (e.g. 4G)") from None
    if not 0 < value < float("inf"):
        raise ConfigError(f"NEUROCL_MEMORY_BUDGET = {text!r} must be a finite size > 0 (e.g. 4G)")
    return int(value)


def memory_budget() -> tuple:
    """``(bytes, where it comes from)``."""
    env = os.environ.get("NEUROCL_MEMORY_BUDGET")
    if env:
        return _parse_bytes(env), "NEUROCL_MEMORY_BUDGET"
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024 // 2, "half the available RAM"
    except (OSError, ValueError, IndexError):
        pass
    return DEFAULT_BUDGET, "default"


def format_bytes(n: float) -> str:
    """``17.9 GiB``-style size."""
    n = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.3g} {unit}"
        n /= 1024
    return f"{n:.3g} EiB"  # pragma: no cover


def check_memory(nbytes: float, what: str) -> None:
    """Raise :class:`ConfigError` if ``nbytes`` exceeds :func:`memory_budget`.

    ``what`` names the field(s) and the allocation, e.g. ``"simulation.duration / simulation.dt
    = 2e+09 steps: the phase table"``; the message adds the estimate and the budget.
    """
    budget, source = memory_budget()
    if nbytes > budget:
        raise ConfigError(f"{what} needs about {format_bytes(nbytes)} of memory, more than the budget of "
                          f"{format_bytes(budget)} ({source}; set NEUROCL_MEMORY_BUDGET to change it)")
