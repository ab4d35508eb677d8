"""Deploy a saved run on the Lava Loihi 2 emulator and compare with the float model.

* RBM (``bas3``): KL of the emulator's free-running samples (``fixed_pt``: 8-bit weights on the
  grid of the ``loihi2`` profile, its ``weight_scale``) against the exact KL of the float model
  (enumeration).
* Layered Hopfield (``digits``): test accuracy of the emulator's read-out against the float
  model's (:meth:`neurocl.circuits.LayeredHopfield.predict`).

One deployer per circuit kind (:data:`DEPLOYERS`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from neurocl.errors import ConfigError, UnsupportedFeatureError

__all__ = ["deploy_run", "DEPLOYERS"]


def _learners(config, results: Path, learner: str | None) -> list:
    """The learners of ``config`` (the run's own, never stale folders), each with its
    ``weights.npz`` (missing: :class:`ConfigError` naming the file)."""
    labels = [s.label for s in config.learners]
    if learner is not None:
        if learner not in labels:
            raise ConfigError(f"--learner {learner!r}: {results} has no such learner (its config.toml names: "
                              f"{', '.join(labels)})")
        labels = [learner]
    for label in labels:
        path = results / label / "weights.npz"
        if not path.is_file():
            raise ConfigError(f"{path}: missing (learner '{label}' of {results} did not finish; "
                              f"`neurocl run --resume` completes the run)")
    return [results / label for label in labels]


def _deploy_rbm(circuit, p, data, config, *, tag, profile, sweeps, timeout) -> dict:
    from neurocl.engines.lava import deploy_rbm
    from neurocl.measure.exact import rbm_kl

    x = data.x
    r = deploy_rbm(p["W"], p["a"], p["c"], x, tag=tag, weight_scale=profile.weight_scale, sweeps=sweeps,
                   timeout=timeout, seed=config.simulation.seed)
    return {"metric": "KL(data || model)", "unit": "nats", "emulator": r["kl_samples"],
            "float": rbm_kl(p["W"], p["a"], p["c"], x),
            "detail": f"{r['samples']} samples of the emulator vs exact enumeration"}


def _deploy_hopfield(circuit, p, data, config, *, tag, profile, sweeps, timeout) -> dict:
    from neurocl.engines.lava import deploy_hopfield

    xt, yt = data.x_test, data.y_test
    dt = min(0.5, circuit.tau_n / 2)
    r = deploy_hopfield(circuit, p, xt, yt, dt=dt, tag=tag, timeout=timeout)
    batch = {k: v[None] for k, v in p.items()}
    acc = float(np.mean(circuit.predict(batch, xt, dt).argmax(1) == yt))
    return {"metric": "test accuracy", "unit": "%", "emulator": 100 * r["accuracy"], "float": 100 * acc,
            "detail": f"{len(xt)} test images"}


#: circuit kind -> deployer ``(circuit, params, dataset, config, *, tag, profile, sweeps, timeout)
#: -> row`` (without the learner; ``dataset``: a :class:`neurocl.data.Dataset`)
DEPLOYERS = {"rbm": _deploy_rbm, "hopfield": _deploy_hopfield}


def deploy_run(results, target: str = "lava", tag: str = "fixed_pt", learner: str | None = None,
               sweeps: int = 20000, timeout: float = 600.0, profile="loihi2") -> list:
    """One row ``{"learner", "metric", "unit", "emulator", "float", "detail"}`` per learner of
    ``results``.  ``profile`` (a name, a TOML path or a :class:`~neurocl.hardware.HardwareProfile`):
    the device whose ``weight_scale`` sets the ``fixed_pt`` weight grid of an RBM."""
    from neurocl.experiments.run import check_complete, load_weights, read_results_config
    from neurocl.experiments.tasks import check_task_cost, load_data
    from neurocl.hardware import load_profile
    from neurocl.validate import positive, positive_int

    if target != "lava":
        raise UnsupportedFeatureError(target, "deployment (targets: lava)")
    if tag not in ("fixed_pt", "floating_pt"):
        raise ConfigError(f"tag = {tag!r} is not one of ['fixed_pt', 'floating_pt']")
    sweeps = positive_int("sweeps", sweeps)
    timeout = positive("timeout", timeout)
    results = Path(results)
    config = read_results_config(results)
    circuit = config.circuit
    deploy = DEPLOYERS.get(circuit.kind)
    if deploy is None:
        raise UnsupportedFeatureError("lava", f"deployment of circuit '{circuit.kind}' (deploys: "
                                              f"{', '.join(sorted(DEPLOYERS))})")
    if isinstance(profile, (str, Path)):
        profile = load_profile(profile)
    dirs = _learners(config, results, learner)
    weights = {d: load_weights(d / "weights.npz", circuit) for d in dirs}
    check_complete(results)
    check_task_cost(circuit, config.data)
    data = load_data(config.data)
    rows = []
    for d in dirs:
        row = deploy(circuit, weights[d], data, config, tag=tag, profile=profile, sweeps=sweeps, timeout=timeout)
        rows.append({"learner": d.name, **row})
    return rows
