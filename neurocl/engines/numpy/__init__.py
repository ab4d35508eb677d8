"""The numpy engine: reference simulator of continuous-time contrastive learning.

:mod:`.engine` (options, supports, runner registrations), :mod:`.reference` (the step-by-step
path for any circuit), :mod:`.fused` (numba kernels: :mod:`.rbm_kernel`,
:mod:`.rbm_event_kernel`, :mod:`.hopfield_kernel`), :mod:`.learners` (rules step by step),
:mod:`.discrete` (CD-k, PCD), :mod:`.schedule` (phase tables).
"""

from neurocl.engines.numpy.engine import NumpyEngine, NumpyOptions
from neurocl.engines.numpy.reference import glauber_step
from neurocl.engines.numpy.schedule import phase_table

__all__ = ["NumpyEngine", "NumpyOptions", "glauber_step", "phase_table"]
