"""Reader for the IDX format used by MNIST (LeCun et al.), for users' own files."""

from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path

import numpy as np

from neurocl.errors import ConfigError

__all__ = ["read_idx"]

_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path) -> np.ndarray:
    """Read an IDX file (optionally gzip-compressed, by the ``.gz`` suffix) into an array.

    Header: two zero bytes, a type code (0x08 ubyte ... 0x0E double), the number of
    dimensions (>= 1), then one big-endian uint32 per dimension.  Raises
    :class:`~neurocl.errors.ConfigError` (one line naming the file and what was expected) when
    the file cannot be read, a ``.gz`` file is truncated or corrupt, the header or size is
    wrong, the file holds no items (a first dimension of 0, or any dimension 0), or a float
    file holds NaN or inf.
    """
    path = Path(path)
    gz = path.suffix == ".gz"
    opener = gzip.open if gz else open
    try:
        with opener(path, "rb") as fh:
            raw = fh.read()
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise ConfigError(f"{path}: truncated or corrupt gzip file ({exc}); expected a complete gzip-compressed "
                          "IDX file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read IDX file ({exc.strerror or exc})") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _DTYPES:
        raise ConfigError(f"{path}: not an IDX file (bad magic number)")
    ndim = raw[3]
    if ndim == 0:
        raise ConfigError(f"{path}: IDX header declares 0 dimensions; expected at least 1 (the item axis)")
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
    if 0 in shape:
        raise ConfigError(f"{path}: IDX file holds no data (shape {shape}); expected at least one item of "
                          "at least one value")
    out = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))
    if dtype.kind == "f":
        bad = int(np.size(out) - np.count_nonzero(np.isfinite(out)))
        if bad:
            raise ConfigError(f"{path}: IDX file holds {bad} non-finite values (NaN or inf); expected finite numbers")
    return out
