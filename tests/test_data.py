import gzip
import struct

import numpy as np
import pytest

from neurocl.data import bars_and_stripes, load_digits_split, read_idx
from neurocl.errors import ConfigError


@pytest.mark.parametrize("size,count", [(2, 6), (3, 14), (4, 30)])
def test_bars_and_stripes_counts(size, count):
    x = bars_and_stripes(size)
    assert x.shape == (count, size * size)
    assert len(np.unique(x, axis=0)) == count
    for p in x.reshape(-1, size, size):  # every pattern is all-rows-constant or all-columns-constant
        assert (p == p[:, :1]).all() or (p == p[:1, :]).all()


def test_digits_split():
    x_tr, y_tr, x_te, y_te = load_digits_split(0.2, 0)
    assert x_tr.shape == (1437, 64) and x_te.shape == (360, 64)
    assert 0.0 <= x_tr.min() and x_tr.max() <= 1.0
    assert set(np.unique(y_te)) == set(range(10))


def _write_idx(path, arr, code=0x08, gz=False):
    header = bytes([0, 0, code, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    body = header + arr.astype(arr.dtype.newbyteorder(">")).tobytes()
    (gzip.open if gz else open)(path, "wb").write(body)


def test_idx_roundtrip(tmp_path):
    imgs = np.random.default_rng(0).integers(0, 256, (5, 4, 3)).astype(np.uint8)
    _write_idx(tmp_path / "imgs.idx", imgs)
    np.testing.assert_array_equal(read_idx(tmp_path / "imgs.idx"), imgs)
    _write_idx(tmp_path / "imgs.idx.gz", imgs, gz=True)
    np.testing.assert_array_equal(read_idx(tmp_path / "imgs.idx.gz"), imgs)
    floats = np.arange(6, dtype=np.float32).reshape(2, 3)
    _write_idx(tmp_path / "f.idx", floats, code=0x0D)
    np.testing.assert_array_equal(read_idx(tmp_path / "f.idx"), floats)


def test_idx_errors(tmp_path):
    (tmp_path / "bad.idx").write_bytes(b"\x01\x02\x03\x04")
    with pytest.raises(ConfigError, match="bad magic"):
        read_idx(tmp_path / "bad.idx")
    imgs = np.zeros((2, 2), np.uint8)
    _write_idx(tmp_path / "short.idx", imgs)
    raw = (tmp_path / "short.idx").read_bytes()[:-1]
    (tmp_path / "short.idx").write_bytes(raw)
    with pytest.raises(ConfigError, match="needs 4"):
        read_idx(tmp_path / "short.idx")
    with pytest.raises(ConfigError, match="cannot read"):
        read_idx(tmp_path / "missing.idx")
