"""Reader for the IDX format used by MNIST (LeCun et al.), for users' own files."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np

from neurocl.errors import ConfigError

__all__ = ["read_idx"]

_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path) -> np.ndarray:
    """Read an IDX file (optionally gzip-compressed, by the ``.gz`` suffix) into an array.

    Header: two zero bytes, a type code (0x08 ubyte ... 0x0E double), the number of
    dimensions, then one big-endian uint32 per dimension.  Raises
    :class:`~neurocl.errors.ConfigError` naming the file when the header or size is wrong.
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read IDX file ({exc})") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _DTYPES:
        raise ConfigError(f"{path}: not an IDX file (bad magic number)")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ConfigError(f"{path}: truncated IDX header")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    dtype = np.dtype(_DTYPES[raw[2]])
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(raw) - header != expected:
        raise ConfigError(
            f"{path}: IDX body has {len(raw) - header} bytes, header {shape} needs {expected}"
        )
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))
