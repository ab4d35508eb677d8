"""The ``engine`` fixture: every registered engine (and its main option sets) runs this suite.

As nengo's ``Simulator`` fixture: the parameters come from the engine registry
(:func:`neurocl.engines.engine_names`); what an engine cannot run is skipped by its declared
:meth:`~neurocl.engines.Engine.supports`, never by hand.  ``VARIANTS`` only says which
options to test an engine with (fast code-generation targets, both precisions); an engine
missing here runs with its default options.
"""

import importlib.util

import pytest

from neurocl.engines import engine_names, get_engine

#: engine name -> option sets the suite runs it with (default: one set, the defaults)
VARIANTS = {
    "numpy": [{"kernel": "auto"}, {"kernel": "reference"}],
    "brian2": [{"target": "numpy", "record": 0.0}, {"target": "numpy", "record": 0.0, "units": "spiking"}],
    "lava": [{"tag": "floating_pt"}, {"tag": "fixed_pt"}],
}

#: engine name -> (python module it needs, pytest marks)
NEEDS = {"brian2": ("brian2", ()), "lava": ("lava", (pytest.mark.lava,))}


def _params():
    out = []
    for name in engine_names():
        module, marks = NEEDS.get(name, (None, ()))
        skip = module is not None and importlib.util.find_spec(module) is None
        for opts in VARIANTS.get(name, [{}]):
            label = name + "".join(f"-{v}" for k, v in opts.items() if k not in ("target", "record"))
            m = list(marks) + ([pytest.mark.skip(reason=f"{module} not installed")] if skip else [])
            out.append(pytest.param((name, opts), id=label, marks=m))
    return out


@pytest.fixture(params=_params())
def engine(request):
    name, opts = request.param
    return get_engine(name, **opts)


def require(engine, *, run=None, capability=None, phases=None, profile_fields=()):
    """Skip unless ``engine`` declares what a test needs (its :meth:`supports`)."""
    sup = engine.supports()
    if run is not None and run not in sup["runs"]:
        pytest.skip(f"{engine.name} does not run {run}")
    if capability is not None and capability not in sup["capabilities"]:
        pytest.skip(f"{engine.name} lacks capability '{capability}'")
    if phases is not None and phases not in sup["phases"]:
        pytest.skip(f"{engine.name} does not run phases '{phases}'")
    missing = set(profile_fields) - sup["profile_fields"]
    if missing:
        pytest.skip(f"{engine.name} does not implement profile fields {sorted(missing)}")
