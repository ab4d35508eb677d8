"""The Lava engine: neurocl circuits on Lava's Loihi 2 emulator (``Loihi2SimCfg``).

One module per concern:

* :mod:`.compat` -- the Python 3.11 import fix for Lava 0.10, installed before any Lava import;
* :mod:`.processes` / :mod:`.models` -- Lava processes (what a circuit is) and their
  ``floating_pt`` / ``fixed_pt`` ProcessModels (how the emulator runs it); :mod:`.fixed_point`
  -- the integer encodings; :mod:`.rbm`, :mod:`.hopfield` -- the networks;
* :mod:`.runtime` -- :func:`~.runtime.run_isolated`: every Lava run in a child process with a
  wall-clock limit, a clean stop, a clear error;
* :mod:`.deploy` -- :func:`deploy_rbm` (a trained RBM sampling freely; KL of the samples),
  :func:`deploy_hopfield` (a trained layered Hopfield network classifying);
* :mod:`.learning` -- on-chip ISD learning jobs, :func:`learning_window` and the replay of the
  ideal float update (:func:`ideal_isd_steps`, :func:`ideal_isd_update`);
* :mod:`.engine` -- :class:`LavaEngine` (``engine = "lava"``): on-chip always-on ISD of an RBM
  with ``LearningSparse`` + ``Loihi3FLearningRule`` on the grid of the hardware profile.
"""

from neurocl.engines.lava.deploy import deploy_hopfield, deploy_rbm, sample_kl
from neurocl.engines.lava.engine import LavaEngine, LavaOptions
from neurocl.engines.lava.learning import ideal_isd_steps, ideal_isd_update, learning_window

__all__ = ["LavaEngine", "LavaOptions", "deploy_rbm", "deploy_hopfield", "sample_kl", "learning_window",
           "ideal_isd_steps", "ideal_isd_update"]
