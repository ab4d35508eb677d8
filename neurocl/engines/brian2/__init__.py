"""The Brian2 engine: a circuit spec runs as a Brian2 network (Stimberg, Brette & Goodman 2019).

* Units: ``NeuronGroup``s of stochastic binary units with continuous-time Glauber resampling
  (``units = "glauber"``), or spiking units doing neural sampling (``units = "spiking"``:
  Buesing et al. 2011, refractory spiking units with rectangular PSPs of ``psp_steps``
  steps).  Neural sampling is chosen over LIF neurons in a high-noise regime because its
  stationary law is *exactly* the Boltzmann law (the LIF approximation needs a fitted
  activation function and is biased), so the engines can be compared to the exact
  distribution.
* Phase process: a ``NeuronGroup`` with one neuron per replica whose shared state (sign
  ``z``, modulatory factor ``wphase``, data pattern) is linked into the unit groups; it
  clamps the data layer and sets the third factor.
* Plasticity: ISD as a three-factor rule on ``Synapses`` (pre x post x phase weight),
  always on; hardware profiles act inside the synaptic update code
  (:func:`~neurocl.engines.brian2.model.plasticity_code`).
* Replicas: block-diagonal copies in the same groups (one network, one code object per
  operation).

Modules: :mod:`.engine` (options, supports, runner registrations, free running),
:mod:`.network` (the network builder, one unit builder per circuit kind), :mod:`.model`
(equations and code strings; no Brian2 import).  Code generation ``target``: ``"numpy"``
(no compilation) or ``"cython"`` (compiled once, cached in ``~/.cython/brian_extensions``).
"""

from neurocl.engines.brian2.engine import Brian2Engine, Brian2Options

__all__ = ["Brian2Engine", "Brian2Options"]
