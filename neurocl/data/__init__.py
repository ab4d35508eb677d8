"""Datasets that need no download, and the ``[data]`` spec that chooses one."""

from neurocl.data.bars_and_stripes import bars_and_stripes
from neurocl.data.digits import load_digits_split, one_hot
from neurocl.data.idx import read_idx
from neurocl.data.spec import Dataset, DataSpec, load_dataset

__all__ = ["bars_and_stripes", "load_digits_split", "one_hot", "read_idx", "DataSpec", "Dataset", "load_dataset"]
