"""Lemma 2.1 on a contrastive circuit: predicted vs measured extra change of the exact NLL
when a hardware profile applies the updates (Ghosh et al., ICLR 2023, Lemma 2.1).

States come from an ideal ISD training trajectory of the circuit (replica 0 at evenly spaced
checkpoints).  At each state the ideal update is an exact-gradient step
``u = -eta dt K grad NLL`` (``K`` integration steps folded into one update); the profile's
devices apply it to the weights (biases are ideal).  Monte Carlo over the device noise gives
the bias vector and covariance of the update (gradient units), hence the prediction
(Lemma A.1 with the measured covariance; Lemma 2.1's isotropic form is reported too), and
the measured mean of ``NLL(theta + device(u)) - NLL(theta + u)`` with its standard error.
Bias, covariance and measurement use the same device draws, so the comparison isolates what
Lemma 2.1 asserts: that the second-order expansion in bias and noise captures the extra loss
change; disagreement means third- and higher-order terms matter (large or saturated steps).
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral

import numpy as np

from neurocl.engines import get_engine
from neurocl.errors import ConfigError
from neurocl.experiments.tasks import make_task
from neurocl.hardware.device import draw_device_params
from neurocl.measure.device_noise import sample_device_updates
from neurocl.measure.exact import rbm_nll
from neurocl.measure.rbm_hessian import rbm_nll_grad_hessian
from neurocl.theory import predict_delta_loss, predict_delta_loss_cov
from neurocl.validate import positive, positive_int

__all__ = ["TheoryRow", "check_theory", "format_rows", "check_arguments", "check_always_on", "format_always_on",
           "variance_agrees", "check_always_on_config"]


@dataclass(frozen=True)
class TheoryRow:
    profile: str
    time_ms: float
    b: float
    cos_bias_descent: float
    noise_var: float          # sigma^2 f(N), gradient units
    predicted: float          # nats, Lemma A.1 with the measured covariance
    predicted_iso: float      # nats, Lemma 2.1 (isotropic noise over all N parameters)
    measured: float           # nats
    se: float                 # nats

    @property
    def agrees(self) -> bool:
        """Within 3 s.e., or 10 % of the prediction, or 1e-12 nats (float64 round-off of an NLL of ~3 nats)."""
        d = abs(self.measured - self.predicted)
        return d <= 3 * self.se or d <= 0.1 * abs(self.predicted) or d <= 1e-12


def check_arguments(**values) -> None:
    """Validate check-theory arguments by name: ``n_states``/``states``, ``steps_per_update``,
    ``replicas``, ``windows``, ``sweeps`` (integers >= 1), ``draws`` (integer >= 2), ``seed``
    (integer >= 0), ``eta``, ``dt``, ``timeout``, ``time`` (finite numbers > 0)."""
    for name, value in values.items():
        if name in ("n_states", "states", "steps_per_update", "replicas", "windows", "sweeps"):
            positive_int(name, value)
        elif name == "draws":
            if positive_int(name, value) < 2:
                raise ConfigError(f"draws = {value} must be an integer >= 2 (the standard error needs two draws)")
        elif name == "seed":
            if isinstance(value, bool) or not isinstance(value, Integral) or value < 0:
                raise ConfigError(f"seed = {value!r} must be an integer >= 0")
        else:
            positive(name, value)


def trajectory_states(config, n_states: int):
    """Replica-0 RBM parameters at ``n_states`` checkpoints of ideal ISD training."""
    if config.circuit.kind != "rbm":
        raise ConfigError("check-theory needs an RBM circuit (exact NLL Hessian by enumeration)")
    spec = next((s for s in config.learners if s.rule.name == "isd"), None)
    if spec is None:
        raise ConfigError("check-theory needs an ISD learner in the circuit spec")
    n_states = positive_int("states", n_states)
    sim = config.replace(replicas=1, checkpoints=n_states).simulation
    task = make_task(config.circuit, config.data, sim)
    snaps = []

    def evaluate(params):
        snaps.append({k: v[0].copy() for k, v in params.items()})
        return {}

    task.evaluate = evaluate
    get_engine(config.engine).run(config.circuit, spec.rule, spec.phases, task, sim)
    return task.clamp, spec, snaps[1:], sim


def check_theory(config, profiles, n_states: int = 6, draws: int = 1000, steps_per_update: int = 50,
                 seed: int = 0) -> list:
    """One :class:`TheoryRow` per profile and trajectory state.

    ``n_states`` >= 1, ``draws`` >= 2 (the standard error needs two), ``steps_per_update`` >= 1
    and ``seed`` >= 0 are checked first (:class:`ConfigError` naming the argument).
    """
    check_arguments(n_states=n_states, draws=draws, steps_per_update=steps_per_update, seed=seed)
    data, spec, states, sim = trajectory_states(config, n_states)
    scale = spec.rule.learning_rate * sim.dt * steps_per_update
    b_phase = spec.phases.b
    rows = []
    for profile in profiles:
        rng = np.random.default_rng(seed)
        nv, nh = config.circuit.n_visible, config.circuit.n_hidden
        dev = draw_device_params(profile, (nv, nh), rng)
        for i, st in enumerate(states):
            W, a, c = st["W"], st["a"], st["c"]
            nll0, g, H = rbm_nll_grad_hessian(W, a, c, data)
            u = -scale * g
            uW = u[: nv * nh].reshape(nv, nh)
            ideal = rbm_nll(W + uW, a + u[nv * nh: nv * nh + nv], c + u[nv * nh + nv:], data)
            W_dev = np.clip(W / profile.weight_scale, dev.w_min, dev.w_max) * profile.weight_scale
            samples = sample_device_updates(profile, W, uW, rng, draws, dev)
            # updates relative to the ideal one, in gradient units; biases are exact
            dW = (W_dev - W) + samples - uW  # includes clipping of W into the device range
            flat = np.zeros((draws, g.size))
            flat[:, : nv * nh] = dW.reshape(draws, -1) / scale
            bias = flat.mean(0)
            cov = np.cov(flat.T)
            noise_var = float(np.trace(cov))
            pred = predict_delta_loss_cov(g, H, bias, cov, scale)
            pred_iso = predict_delta_loss(g, H, bias, noise_var, scale)
            extra = np.array([rbm_nll(W_dev + s, a + u[nv * nh: nv * nh + nv], c + u[nv * nh + nv:], data) - ideal
                              for s in samples])
            bn, gn = np.linalg.norm(bias), np.linalg.norm(g)
            cos = float(-(bias @ g) / (bn * gn)) if bn > 0 and gn > 0 else float("nan")
            rows.append(TheoryRow(profile.name, (i + 1) * sim.duration / len(states), b_phase, cos, noise_var,
                                  pred, pred_iso, float(extra.mean()), float(extra.std(ddof=1) / np.sqrt(draws))))
    return rows


def format_rows(rows) -> str:
    """The table ``neurocl check-theory`` prints."""
    head = (f"{'profile':<10} {'t (ms)':>9} {'b':>4} {'cos(beta,-g)':>12} {'sigma2 f(N)':>12} "
            f"{'predicted (nats)':>17} {'Lemma2.1 iso':>13} {'measured (nats)':>16} {'+- s.e.':>9}  agreement")
    lines = [head, "-" * len(head)]
    for r in rows:
        if r.agrees:
            verdict = "ok"
        else:
            ratio = r.measured / r.predicted if r.predicted else float("inf")
            verdict = f"2nd order fails: measured/predicted = {ratio:.3g}"
        lines.append(f"{r.profile:<10} {r.time_ms:>9.0f} {r.b:>4.2f} {r.cos_bias_descent:>12.3f} {r.noise_var:>12.4g} "
                     f"{r.predicted:>17.4e} {r.predicted_iso:>13.4e} {r.measured:>16.4e} {r.se:>9.2e}  {verdict}")
    return "\n".join(lines)


def plot_rows(rows, path) -> None:
    """Predicted against measured extra NLL change, one colour per profile, with s.e. bars."""
    from neurocl.plotting import new_figure, save

    fig, (ax,) = new_figure(1, 5.0, 4.2)
    for i, name in enumerate(dict.fromkeys(r.profile for r in rows)):
        sel = [r for r in rows if r.profile == name]
        ax.errorbar([r.predicted for r in sel], [r.measured for r in sel], yerr=[3 * r.se for r in sel],
                    fmt="o", color=f"C{i}", label=name, capsize=2)
    lim = [min(min(r.predicted, r.measured) for r in rows), max(max(r.predicted, r.measured) for r in rows)]
    ax.plot(lim, lim, color="0.4", ls="--", lw=1, label="measured = predicted")
    ax.set_xscale("symlog", linthresh=1e-9)
    ax.set_yscale("symlog", linthresh=1e-9)
    ax.tick_params(axis="x", labelrotation=60, labelsize=7)
    ax.tick_params(axis="y", labelsize=7)
    ax.set_xlabel("predicted extra NLL change per update (nats)")
    ax.set_ylabel("measured extra NLL change (nats, +- 3 s.e.)")
    ax.legend(frameon=True, fontsize=8)
    save(fig, path)


# --------------------------------------------------------------------------- the always-on estimator
def check_always_on_config(config) -> None:
    """:class:`ConfigError` unless the spec has an RBM circuit and an ISD learner with stochastic phases."""
    from neurocl.phases import StochasticPhases

    if config.circuit.kind != "rbm":
        raise ConfigError(f"check-theory --always-on needs an RBM circuit (exact gradient by enumeration), "
                          f"got circuit.kind = '{config.circuit.kind}'")
    spec = next((s for s in config.learners if s.rule.name == "isd"), None)
    if spec is None:
        raise ConfigError("check-theory --always-on needs an ISD learner in the circuit spec")
    if not isinstance(spec.phases, StochasticPhases):
        raise ConfigError("check-theory --always-on needs the ISD learner's phases to be stochastic "
                          "(phases = { kind = \"stochastic\", b = ..., length = ... })")


def check_always_on(config, n_states: int = 2, replicas: int = 16, windows: int = 16, seed: int = 0) -> list:
    """The always-on estimator's variance and bias (:func:`neurocl.theory_always_on.always_on_report`)
    at ``n_states`` states of the spec's ideal ISD trajectory: one dict per state, with
    ``time_ms``.  Needs an RBM, an ISD learner with stochastic phases, ``replicas >= 2``
    (:class:`ConfigError` otherwise, naming what is wrong).  The trajectory and the measurement
    run on the numpy engine with ideal weights, whatever engine and profile the spec names."""
    from neurocl.theory_always_on import always_on_report

    check_arguments(n_states=n_states, replicas=replicas, windows=windows, seed=seed)
    if replicas < 2:
        raise ConfigError(f"replicas = {replicas} must be >= 2 for the always-on check (standard errors "
                          f"across replicas)")
    if windows < 2:
        raise ConfigError(f"windows = {windows} must be >= 2 for the always-on check (variance across windows)")
    check_always_on_config(config)
    config = config.replace(engine="numpy", profile="ideal")   # engine options reset with the engine
    data, spec, states, sim = trajectory_states(config, n_states)
    engine = get_engine(config.engine)
    rows = []
    for i, st in enumerate(states):
        rep = always_on_report(engine, st["W"], st["a"], st["c"], data, spec.phases.b, spec.phases.length,
                               sim.dt, config.circuit.tau_n, spec.rule.learning_rate, spec.rule.mean_field,
                               replicas=replicas, windows=windows, seed=seed + 10 * i)
        rows.append({"time_ms": (i + 1) * sim.duration / len(states), **rep})
    return rows


def variance_agrees(row) -> bool:
    """Measured ``V`` within 3 standard errors of the prediction."""
    return abs(row["measured_variance"] - row["predicted_variance"]) <= 3 * row["measured_variance_se"]


def format_always_on(rows) -> str:
    """The two tables ``neurocl check-theory --always-on`` prints, and the methods behind them."""
    head = (f"{'t (ms)':>9} {'b':>5} {'tau (ms)':>8} {'b* 1-sample':>11} {'b_opt':>6} {'V pred':>10} "
            f"{'V measured':>10} {'+- s.e.':>9} {'1-sample V':>10}  agreement")
    lines = ["variance of the time-averaged always-on update, V = lim T Var(G_T) (trace over parameters, "
             "unit learning rate; f^2 x ms)", head, "-" * len(head)]
    for r in rows:
        lines.append(f"{r['time_ms']:>9.0f} {r['b']:>5.2f} {r['mean_length_ms']:>8.3g} {r['single_sample_b']:>11.3f} "
                     f"{r['variance_optimal_b']:>6.3f} {r['predicted_variance']:>10.4g} {r['measured_variance']:>10.4g} "
                     f"{r['measured_variance_se']:>9.2g} {r['single_sample_variance']:>10.4g}  "
                     f"{'ok (within 3 s.e.)' if variance_agrees(r) else 'differs (> 3 s.e.)'}")
    head = (f"{'t (ms)':>9} {'eta (1/ms)':>10} {'s/tau part':>10} {'eta part':>9} {'exact total':>11} "
            f"{'engine':>8} {'noise':>7}")
    lines += ["", "bias of the always-on drift relative to |g| (g: exact log-likelihood gradient); s/tau part: "
              "weights held still; eta part: the weights' motion within phases", head, "-" * len(head)]
    for r in rows:
        total = f"{r['total_relative_bias']:.4g}" if "total_relative_bias" in r else "-"
        frozen = f"{r['frozen_relative_bias']:.4g}"
        if r["frozen_method"].startswith("engine") and r["frozen_relative_bias"] < 2 * r["measured_relative_bias_noise"]:
            frozen = f"< {2 * r['measured_relative_bias_noise']:.2g}"     # below the noise: a 2 s.e. bound
        lines.append(f"{r['time_ms']:>9.0f} {r['eta_per_ms']:>10.3g} {frozen:>10} "
                     f"{r['eta_relative_bias']:>9.3g} {total:>11} {r['measured_relative_bias']:>8.3g} "
                     f"{r['measured_relative_bias_noise']:>7.2g}")
    r = rows[0]
    lines += ["", f"methods: V pred: {r['variance_method']}; b*, b_opt: moments by {r['moments_method']}; "
              f"s/tau part: {r['frozen_method']}; eta part: {r['eta_method']}; engine: measured drift "
              f"(noise share removed; 'noise' = its standard error, relative to |g|; '< x': below 2 s.e.)"]
    return "\n".join(lines)
