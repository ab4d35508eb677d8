"""Atomic file writes: a reader (or a killed run) never sees half a file.

The one place neurocl writes files from; everything that saves results uses it.  Files get
the mode an ordinary ``open(path, "w")`` gives (``0666`` less the user's umask), not the
``0600`` of :func:`tempfile.mkstemp`.  A failure raises the original ``OSError`` subclass
naming the target file (not the temporary one).
"""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

import numpy as np

__all__ = ["write_bytes_atomic", "write_text_atomic", "savez_atomic", "current_umask"]


def current_umask() -> int:
    """The process's umask (read from ``/proc/self/status`` where it is, so no thread sees a
    transient umask; else set and restored)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_bytes_atomic(path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, fsync it, then rename it over ``path``
    (mode ``0666 & ~umask``)."""
    path = Path(path)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), 0o666 & ~current_umask())
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(exc, OSError) and exc.errno is not None:
            raise OSError(exc.errno, f"cannot write {path} ({exc.strerror})", str(path)) from None
        raise


def write_text_atomic(path, text: str) -> None:
    """Atomic text write (UTF-8)."""
    write_bytes_atomic(path, text.encode())


def savez_atomic(path, **arrays) -> None:
    """Atomic ``numpy.savez``."""
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    write_bytes_atomic(path, buf.getvalue())
