"""Bias of always-on learning against the mean phase length and the learning rate: the two
slopes of Williams et al. (ICML 2023), bias ``O(eta s / tau) + O(eta^2 tau)``.

A 4 x 3 RBM on bars-and-stripes 2 x 2 (RBM ``B`` of ``tests/test_always_on_theory.py``:
N(0, 1.5^2) weights, N(0, 1) biases, seed 0), mean-field ISD, b = 0.5, exponential phases of
mean tau, dt = 1 ms, tau_n = 1 ms.  Every bias is the always-on drift (mean update per unit
time and unit learning rate) minus the exact log-likelihood gradient ``g``, relative to
``|g|`` (``neurocl.theory_always_on``, eqs. (B1)-(B3); ``neurocl.experiments.always_on_bias``):

* left, against tau: the weights held still (eta -> 0): the exact joint (phase, state) chain
  (line), the leading order ``|D+ - D-| / (E[L] |g|)`` (dashed), the numpy engine (points,
  band +-1 s.e.): slope -1, the ``s / tau`` term; the learning-rate part at eta = 1e-4 /ms
  (the drift's change when the weights move, measured against a frozen twin with the same
  random numbers): exact first-order chain, leading order ``eta beta_eta`` (dashed), engine:
  slope +1, the ``eta tau`` term.
* right, against eta at tau = 16 ms: the learning-rate part; slope +1 relative to ``|g|``,
  i.e. the drift's error ``eta x bias`` grows as ``eta^2 tau``; at eta = 1e-3 /ms the engine
  falls below the first-order line by the next order, ``O((eta tau)^2)``.

Fitted log-log slopes (weighted least squares, +- s.e.) are in the legends, the printout and
the JSON beside the figure.

Run:  python examples/always_on_bias.py [--quick] [--out examples/always_on_bias.png] [--replot]
      [--taus MS,...] [--etas PER_MS,...] [--replicas R] [--window MS]
      (about 3 minutes, loaded; ``--replot`` redraws from the JSON beside the figure)
"""

import argparse
import json

import numpy as np

from neurocl.data import bars_and_stripes
from neurocl.experiments.always_on_bias import eta_part_point, frozen_bias_point, loglog_slope
from neurocl.plotting import new_figure, numbers_path, save_with_numbers
from neurocl.theory_always_on import (
    grid_length_moments,
    mean_phase_age,
    rbm_always_on_chain,
    rbm_always_on_first_order,
    rbm_chains,
    rbm_learning_rate_bias,
    rbm_renewal_moments,
    renewal_bias,
)

DATA = bars_and_stripes(2)
B_PHASE, DT = 0.5, 1.0
ETA_TAU = 1e-4      # 1/ms: learning rate of the left panel's learning-rate part
TAU_ETA = 16.0      # ms: mean phase length of the right panel


def rbm_params():
    rng = np.random.default_rng(0)
    return rng.normal(0, 1.5, (4, 3)), rng.normal(0, 1.0, 4), rng.normal(0, 1.0, 3)


def compute(quick: bool, taus=None, etas=None, replicas=None, window=None) -> dict:
    """``taus`` (ms; both tau series), ``etas`` (1/ms), ``replicas`` (paired replicas of the
    learning-rate points), ``window`` (ms, each of the 16 windows of the 64 frozen-weight
    replicas; default ``tau^2 x 2.5e4 / 1024``, quick ``2e3``) override the defaults."""
    W, a, c = rbm_params()
    taus_frozen = taus or ([4.0, 16.0] if quick else [4.0, 8.0, 16.0, 32.0, 64.0])
    taus_eta = taus or ([8.0, 32.0] if quick else [4.0, 8.0, 16.0, 32.0, 64.0])
    etas = etas or ([1e-4, 1e-3] if quick else [3e-5, 1e-4, 3e-4, 1e-3])
    sim_per_tau2 = 2e3 if quick else 2.5e4          # ms of simulated time per ms^2 of tau^2 (frozen)
    reps = replicas or (1024 if quick else 8192)
    frozen = []
    for i, tau in enumerate(taus_frozen):
        w = window or sim_per_tau2 * tau**2 / 1024
        window_ms = max(DT, round(w / DT) * DT)
        frozen.append(frozen_bias_point(W, a, c, DATA, B_PHASE, tau, 64, 16, window_ms, seed=10 + i, dt=DT))
    eta_tau = [eta_part_point(W, a, c, DATA, B_PHASE, tau, ETA_TAU, reps, seed=20 + i, dt=DT)
               for i, tau in enumerate(taus_eta)]
    full = not (quick or taus or etas or replicas or window)     # second-order flow terms: full run only
    fo = rbm_always_on_first_order(W, a, c, DATA, B_PHASE, TAU_ETA, DT, window_terms=full)
    eta_eta = [eta_part_point(W, a, c, DATA, B_PHASE, TAU_ETA, eta, reps, seed=40 + i, dt=DT, first_order=fo)
               for i, eta in enumerate(etas)]
    # dense theory lines
    ch = rbm_chains(W, a, c, DATA, DT)
    mom = rbm_renewal_moments(ch, B_PHASE, DT)
    gn = float(np.linalg.norm(ch.exact_gradient))
    grid = np.geomspace(1.0, 128.0, 29)
    exact_frozen = [rbm_always_on_chain(ch, B_PHASE, t, DT).relative_bias for t in grid]
    lead_frozen, lead_eta = [], []
    for t in grid:
        L1, L2 = grid_length_moments(t, DT)
        lead_frozen.append(float(np.linalg.norm(renewal_bias(L1, mom.deficit_pos, mom.deficit_neg)) / gn))
        beta = rbm_learning_rate_bias(W, a, c, DATA, B_PHASE, mean_phase_age(L2 / L1, DT))
        lead_eta.append(float(ETA_TAU * np.linalg.norm(beta) / gn))

    return {
        "rbm": "4 x 3 on bars-and-stripes 2x2, W ~ N(0, 1.5^2), a, c ~ N(0, 1), seed 0", "b": B_PHASE, "dt_ms": DT,
        "tau_n_ms": 1.0, "gradient_norm": gn, "eta_left_per_ms": ETA_TAU, "tau_right_ms": TAU_ETA, "quick": quick,
        "frozen": frozen, "eta_vs_tau": eta_tau, "eta_vs_eta": eta_eta,
        "theory_grid_ms": grid.tolist(), "exact_frozen": exact_frozen, "leading_frozen": lead_frozen,
        "leading_eta_left": lead_eta,
    }


def add_slopes(res: dict) -> dict:
    """Fitted log-log slopes (weighted least squares for the engine, +- s.e.) of the saved rows."""
    def slope(rows, x, key, err=None):
        if len(rows) < 2:
            return {"slope": float("nan"), "se": float("nan"), "x": [r[x] for r in rows]}
        s, se = loglog_slope([r[x] for r in rows], [r[key] for r in rows],
                             None if err is None else [r[err] for r in rows])
        return {"slope": s, "se": se, "x": [r[x] for r in rows]}

    grid, exact = np.array(res["theory_grid_ms"]), np.array(res["exact_frozen"])
    tail = [r for r in res["frozen"] if r["tau_ms"] >= 16.0]
    res["slopes"] = {
        "frozen_exact": slope(res["frozen"], "tau_ms", "exact"),
        "frozen_engine": slope(res["frozen"], "tau_ms", "engine", "engine_se"),
        "frozen_exact_long": slope(tail, "tau_ms", "exact"),
        "frozen_engine_long": slope(tail, "tau_ms", "engine", "engine_se"),
        "frozen_exact_tail": {"slope": loglog_slope(grid[grid >= 32], exact[grid >= 32])[0], "se": 0.0,
                              "x": [32.0, 128.0]},
        "eta_vs_tau_exact": slope(res["eta_vs_tau"], "tau_ms", "exact_stationary"),
        "eta_vs_tau_engine": slope(res["eta_vs_tau"], "tau_ms", "engine", "engine_se"),
        "eta_vs_eta_exact": slope(res["eta_vs_eta"], "eta_per_ms", "exact_stationary"),
        "eta_vs_eta_engine": slope(res["eta_vs_eta"], "eta_per_ms", "engine", "engine_se"),
    }
    return res


def report(res: dict) -> None:
    sl = res["slopes"]
    print(f"RBM {res['rbm']}; b = {res['b']}, dt = {res['dt_ms']} ms; |g| = {res['gradient_norm']:.4f} "
          f"(norm of the exact log-likelihood gradient over the 19 parameters); biases relative to |g|")
    print("weights held still (eta -> 0): relative bias of the drift")
    for r in res["frozen"]:
        print(f"  tau = {r['tau_ms']:5.1f} ms: exact chain {r['exact']:.4f}, leading order {r['leading_order']:.4f}, "
              f"engine {r['engine']:.4f} +- {r['engine_se']:.4f} (s.e.; {r['simulated_ms'] / 1000:.0f} s simulated, "
              f"max per-parameter |z| vs exact {r['max_z']:.2f})")
    print(f"learning-rate part at eta = {res['eta_left_per_ms']:g} /ms: relative change of the drift's bias")
    for r in res["eta_vs_tau"] + res["eta_vs_eta"]:
        print(f"  tau = {r['tau_ms']:5.1f} ms, eta = {r['eta_per_ms']:.0e} /ms: exact (stationary, first order) "
              f"{r['exact_stationary']:.5f}, exact (window {r['window_ms'][0]:g}-{r['window_ms'][1]:g} ms) "
              f"{r['exact_window']:.5f}, leading order {r['leading_order']:.5f}, engine {r['engine']:.5f} +- "
              f"{r['engine_se']:.5f} (s.e., {r['replicas']} paired replicas; max |z| {r['max_z']:.2f})")
    for key, what in (("frozen", "bias vs tau, eta -> 0"), ("eta_vs_tau", f"learning-rate part vs tau, eta = "
                      f"{res['eta_left_per_ms']:g} /ms"), ("eta_vs_eta", f"learning-rate part vs eta, tau = "
                                                           f"{res['tau_right_ms']:g} ms")):
        e, m = sl[key + "_exact"], sl[key + "_engine"]
        print(f"log-log slope, {what} (tau or eta = {', '.join(f'{x:g}' for x in m['x'])}): exact "
              f"{e['slope']:.3f}, engine {m['slope']:.3f} +- {m['se']:.3f}")
    e, m = sl["frozen_exact_long"], sl["frozen_engine_long"]
    print(f"log-log slope, bias vs tau, eta -> 0, tau >= 16 ms: exact {e['slope']:.3f}, engine {m['slope']:.3f} +- "
          f"{m['se']:.3f}; exact chain on tau = 32-128 ms: {sl['frozen_exact_tail']['slope']:.3f} (-> -1 once tau "
          f">> the mixing time)")


def plot(res: dict, out: str) -> None:
    fig, (ax, bx) = new_figure(2, 5.2, 4.2)
    sl = res["slopes"]
    grid = np.array(res["theory_grid_ms"])
    ax.plot(grid, res["exact_frozen"], color="C0",
            label=f"eta -> 0: exact chain (slope {sl['frozen_exact']['slope']:.2f} at the points, "
                  f"{sl['frozen_exact_tail']['slope']:.2f} at 32-128 ms)")
    ax.plot(grid, res["leading_frozen"], "--", color="C0", lw=1, label="eta -> 0: leading order (D+ - D-)/E[L]")
    ax.plot(grid, res["leading_eta_left"], "--", color="C1", lw=1,
            label=f"eta = {res['eta_left_per_ms']:g}/ms part: leading order")
    for key, col, x, ex, what in (("frozen", "C0", "tau_ms", "exact", "eta -> 0"),
                                  ("eta_vs_tau", "C1", "tau_ms", "exact_stationary",
                                   f"eta = {res['eta_left_per_ms']:g}/ms part")):
        rows = res[key]
        t = np.array([r[x] for r in rows])
        y = np.array([r["engine"] for r in rows])
        s = np.array([r["engine_se"] for r in rows])
        if key == "eta_vs_tau":
            ax.plot(t, [r[ex] for r in rows], "s-", color=col, ms=3,
                    label=f"{what}: exact first-order chain (slope {sl['eta_vs_tau_exact']['slope']:.2f})")
        e = sl[key + "_engine"]
        ax.errorbar(t, y, yerr=s, fmt="o", color=col, ms=4, capsize=2,
                    label=f"{what}: engine (slope {e['slope']:.2f} +- {e['se']:.2f})")
        ax.fill_between(t, y - s, y + s, color=col, alpha=0.2, lw=0, label=f"{what}: engine +- 1 s.e.")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("mean phase length tau (ms)")
    ax.set_ylabel("bias of the always-on drift / |g|")
    ax.set_title("against tau: slopes -1 (s/tau) and +1 (eta tau)", fontsize=9)
    ax.legend(fontsize=6)
    rows = res["eta_vs_eta"]
    etas = np.array([r["eta_per_ms"] for r in rows])
    dense = np.geomspace(etas.min() / 1.5, etas.max() * 1.5, 20)
    per_eta = rows[0]["exact_stationary"] / rows[0]["eta_per_ms"]
    lead_per_eta = rows[0]["leading_order"] / rows[0]["eta_per_ms"]
    e = sl["eta_vs_eta_engine"]
    bx.plot(dense, per_eta * dense, color="C2", label="exact first-order chain (slope 1)")
    bx.plot(dense, lead_per_eta * dense, "--", color="C2", lw=1, label="leading order eta beta_eta")
    bx.plot(etas, [r["exact_window"] for r in rows], "s", color="C2", ms=3, mfc="none",
            label="exact, measured window (flow terms)")
    y = np.array([r["engine"] for r in rows])
    s = np.array([r["engine_se"] for r in rows])
    bx.errorbar(etas, y, yerr=s, fmt="o", color="C3", ms=4, capsize=2,
                label=f"engine (slope {e['slope']:.2f} +- {e['se']:.2f})")
    bx.fill_between(etas, y - s, y + s, color="C3", alpha=0.2, lw=0, label="engine +- 1 s.e.")
    bx.set_xscale("log")
    bx.set_yscale("log")
    bx.set_xlabel("learning rate eta (1/ms)")
    bx.set_ylabel("learning-rate part of the bias / |g|")
    bx.set_title(f"against eta at tau = {res['tau_right_ms']:g} ms: drift error ~ eta^2 tau", fontsize=9)
    bx.legend(fontsize=6)
    save_with_numbers(fig, out, res)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="examples/always_on_bias.png")
    ap.add_argument("--quick", action="store_true", help="fewer points and replicas (smoke test, ~15 s)")
    ap.add_argument("--replot", action="store_true", help="redraw from the saved numbers (<out>.json)")
    ap.add_argument("--taus", help="mean phase lengths (ms), comma-separated, for both tau series")
    ap.add_argument("--etas", help="learning rates (1/ms), comma-separated, of the right panel")
    ap.add_argument("--replicas", type=int, help="paired replicas per learning-rate point (default 8192)")
    ap.add_argument("--window", type=float, help="frozen-weight measurement window (ms; 64 replicas x 16 windows)")
    args = ap.parse_args(argv)
    floats = (lambda t: [float(x) for x in t.split(",")])
    res = add_slopes(json.loads(numbers_path(args.out).read_text()) if args.replot else compute(
        args.quick, args.taus and floats(args.taus), args.etas and floats(args.etas), args.replicas, args.window))
    report(res)
    plot(res, args.out)


if __name__ == "__main__":
    main()
