"""Atomic file writes: a reader (or a killed run) never sees half a file.

The one place neurocl writes files from; everything that saves results uses it.
"""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

import numpy as np

__all__ = ["write_bytes_atomic", "write_text_atomic", "savez_atomic"]


def write_bytes_atomic(path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, fsync it, then rename it over ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_text_atomic(path, text: str) -> None:
    """Atomic text write (UTF-8)."""
    write_bytes_atomic(path, text.encode())


def savez_atomic(path, **arrays) -> None:
    """Atomic ``numpy.savez``."""
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    write_bytes_atomic(path, buf.getvalue())
