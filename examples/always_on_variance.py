"""Variance and bias of the always-on (ISD) estimator beyond the single-sample theory.

Two 4 x 3 RBMs on bars-and-stripes 2 x 2 (``A``: ``M+ ~ M-``; ``B``: clearly different
moments), exponential phases of mean tau = 20 ms, dt = 1 ms, tau_n = 1 ms, weights held
fixed (learning rate 1e-9).  ``neurocl.theory_always_on``:

* left, middle: the long-run variance ``V(b) = lim T Var(time-averaged update)`` (trace over
  the 19 parameters, unit learning rate; units of ``f^2`` x ms) against ``b``: exact joint
  (phase, state) chain (line), renewal closed form ``K+/b + K-/(1-b) - Lambda |g|^2``
  (dashed), the numpy engine (points, +-1 s.e. from the spread of 2 s windows), the
  single-sample ``b*`` (grey) and the variance-optimal ``b_opt`` (black);
* right: relative bias ``|drift - gradient| / |gradient|`` of the exact chain against tau
  (lines, b = 0.5), the leading-order formula ``|D+ - D-| / (tau |g|)`` (dashed), and the
  engine's bias projected on the predicted direction (points, +-1 s.e.); the dotted line is
  slope -1 (mixing time / phase length), drawn through the exact value at the longest tau.

Run:  python examples/always_on_variance.py [--quick] [--out examples/always_on_variance.png]
"""

import argparse

import numpy as np

from neurocl.data import bars_and_stripes
from neurocl.engines import get_engine
from neurocl.plotting import new_figure, save_with_numbers
from neurocl.theory_always_on import (
    grid_length_moments,
    measure_rbm_always_on,
    rbm_always_on_chain,
    rbm_chains,
    rbm_renewal_moments,
    renewal_bias,
)

DATA = bars_and_stripes(2)
#: name -> (seed, weight scale, bias scale) of the N(0, s^2) parameters (as tests/test_always_on_theory.py)
RBMS = {"A": (10, 0.8, 0.5), "B": (0, 1.5, 1.0)}
TAU, DT = 20.0, 1.0


def rbm_params(name):
    seed, sw, sb = RBMS[name]
    rng = np.random.default_rng(seed)
    return rng.normal(0, sw, (4, 3)), rng.normal(0, sb, 4), rng.normal(0, sb, 3)


def fitted_optimum(bs, v, se, draws=2000, seed=0):
    """Minimiser of ``K+/b + K-/(1-b) - C`` fitted to measured ``V`` (weights ``1/se^2``) and its
    parametric-bootstrap standard error."""
    X = np.c_[1 / bs, 1 / (1 - bs), -np.ones_like(bs)]

    def opt(y):
        k = np.linalg.lstsq(X / se[:, None], y / se, rcond=None)[0]
        kp, km = max(k[0], 1e-12), max(k[1], 1e-12)
        return float(np.sqrt(kp) / (np.sqrt(kp) + np.sqrt(km)))

    rng = np.random.default_rng(seed)
    boot = [opt(v + se * rng.normal(size=len(bs))) for _ in range(draws)]
    return opt(v), float(np.std(boot))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="examples/always_on_variance.png")
    ap.add_argument("--quick", action="store_true", help="fewer engine points and replicas (about 30 s of CPU)")
    args = ap.parse_args(argv)
    replicas, windows = (16, 12) if args.quick else (48, 30)
    b_engine = [0.3, 0.5, 0.7] if args.quick else [0.3, 0.4, 0.5, 0.6, 0.7, 0.8]
    tau_engine = [2.0, 5.0] if args.quick else [2.0, 5.0, 20.0]
    engine = get_engine("numpy")
    L1, L2 = grid_length_moments(TAU, DT)
    fig, axes = new_figure(3, 4.4, 3.6)
    out = {"setting": {"rbm": "4 x 3", "data": "bars_and_stripes(2)", "tau_ms": TAU, "dt_ms": DT, "tau_n_ms": 1.0,
                       "phases": "exponential", "replicas": replicas, "windows": windows, "window_ms": 2000.0,
                       "variance_unit": "sum over parameters of lim T Var(time-averaged update), f^2 ms",
                       "quick": args.quick}, "rbms": {}}
    bs = np.linspace(0.25, 0.85, 61)
    for k, name in enumerate(sorted(RBMS)):
        W, a, c = rbm_params(name)
        ch = rbm_chains(W, a, c, DATA, dt=DT)
        mom = rbm_renewal_moments(ch, 0.5, DT)
        exact = np.array([rbm_always_on_chain(ch, b, TAU, DT).variance for b in bs])
        renewal = mom.variance(bs, L2 / L1)
        b_star, b_opt = mom.single_sample_b, mom.optimal_b(L2 / L1)
        fine = np.linspace(0.3, 0.8, 501)
        b_exact = float(fine[np.argmin([rbm_always_on_chain(ch, b, TAU, DT).variance for b in fine])])
        meas = [measure_rbm_always_on(engine, W, a, c, DATA, b, TAU, DT, replicas, windows, 2000.0, seed=100 + i)
                for i, b in enumerate(b_engine)]
        ax = axes[k]
        ax.plot(bs, exact, "-", color=f"C{k}", label="exact chain")
        ax.plot(bs, renewal, "--", color="0.4", label="renewal formula")
        ax.errorbar(b_engine, [m["variance"] for m in meas], yerr=[m["variance_se"] for m in meas], fmt="o",
                    color=f"C{k}", label="numpy engine (+-1 s.e.)")
        ax.axvline(b_star, color="0.6", ls=":", label=f"single-sample b* = {b_star:.3f}")
        ax.axvline(b_opt, color="k", ls=":", label=f"b_opt = {b_opt:.3f}")
        ax.set_xlabel("b (probability of a positive phase)")
        ax.set_ylabel("long-run variance V (f^2 ms)")
        ax.set_title(f"RBM {name}: M+ = {mom.m_pos:.2f}, M- = {mom.m_neg:.2f}")
        ax.legend(fontsize=6)
        v_star = rbm_always_on_chain(ch, b_star, TAU, DT).variance
        v_opt = rbm_always_on_chain(ch, b_exact, TAU, DT).variance
        print(f"RBM {name}: M+ = {mom.m_pos:.3f}, M- = {mom.m_neg:.3f} (E|f|^2 per phase sign); "
              f"|mu+|^2 = {np.sum(mom.mu_pos ** 2):.3f}, |mu-|^2 = {np.sum(mom.mu_neg ** 2):.3f}, "
              f"slow+ = {mom.slow_pos:.3f} (between-pattern variance), fast- = {mom.fast_neg:.3f} f^2 ms "
              f"(integrated autocovariance, negative phases), Lambda = E[L^2]/E[L] = {L2 / L1:.2f} ms")
        print(f"RBM {name}: b* = {b_star:.3f} (single sample), b_opt = {b_opt:.3f} (renewal), exact optimum "
              f"{b_exact:.3f}; V(b*) / V(optimum) - 1 = {v_star / v_opt - 1:.4f}")
        rows = []
        for b, m in zip(b_engine, meas):
            ex = rbm_always_on_chain(ch, b, TAU, DT).variance
            z = (m["variance"] - ex) / m["variance_se"]
            print(f"RBM {name}, b = {b:.1f}: V engine {m['variance']:.1f} +- {m['variance_se']:.1f} f^2 ms, exact "
                  f"{ex:.1f}, renewal {float(mom.variance(b, L2 / L1)):.1f}, single-sample formula "
                  f"{DT * (mom.m_pos / b + mom.m_neg / (1 - b) - np.sum(ch.exact_gradient ** 2)):.1f}; z = {z:.2f}")
            rows.append({"b": b, "engine": m["variance"], "engine_se": m["variance_se"], "exact": ex,
                         "renewal": float(mom.variance(b, L2 / L1)), "z": z})
        b_fit, b_fit_se = fitted_optimum(np.array(b_engine), np.array([m["variance"] for m in meas]),
                                         np.array([m["variance_se"] for m in meas]))
        print(f"RBM {name}: optimum of K+/b + K-/(1-b) - C fitted to the engine's V: b = {b_fit:.3f} +- "
              f"{b_fit_se:.3f} (bootstrap s.e.)")
        out["rbms"][name] = {"b_opt_engine_fit": b_fit, "b_opt_engine_fit_se": b_fit_se,
                             "seed_wscale_bscale": RBMS[name], "m_pos": mom.m_pos, "m_neg": mom.m_neg,
                             "b_star_single_sample": b_star, "b_opt_renewal": b_opt, "b_opt_exact": b_exact,
                             "relative_excess_variance_at_b_star": v_star / v_opt - 1, "variance_vs_b": rows}

    # bias against tau (RBM B, b = 0.5)
    ax = axes[2]
    taus = np.geomspace(2.0, 400.0, 15)
    bias_rows = {}
    for k, name in enumerate(sorted(RBMS)):
        W, a, c = rbm_params(name)
        ch = rbm_chains(W, a, c, DATA, dt=DT)
        mom = rbm_renewal_moments(ch, 0.5, DT)
        g = np.linalg.norm(ch.exact_gradient)
        rel = [rbm_always_on_chain(ch, 0.5, t, DT).relative_bias for t in taus]
        lead = [np.linalg.norm(renewal_bias(grid_length_moments(t, DT)[0], mom.deficit_pos, mom.deficit_neg)) / g
                for t in taus]
        ax.plot(taus, rel, "-", color=f"C{k}", label=f"RBM {name}: exact chain")
        ax.plot(taus, lead, "--", color=f"C{k}", alpha=0.6, label=f"RBM {name}: (D+ - D-) / tau")
        bias_rows[name] = {"tau_ms": taus.tolist(), "exact_relative_bias": rel, "leading_order": lead}
        eng = []
        for t in tau_engine:
            ex = rbm_always_on_chain(ch, 0.5, t, DT)
            m = measure_rbm_always_on(engine, W, a, c, DATA, 0.5, t, DT, replicas, windows, 2000.0, seed=7)
            u = ex.bias / np.linalg.norm(ex.bias)
            proj = float((m["drift"] - ch.exact_gradient) @ u) / g
            se = float(np.sqrt(np.sum((m["drift_se"] * u) ** 2))) / g   # parameters treated as independent
            eng.append({"tau_ms": t, "projected_relative_bias": proj, "se": se, "exact": ex.relative_bias})
            print(f"RBM {name}, tau = {t:g} ms, b = 0.5: relative bias exact {ex.relative_bias:.4f}, engine "
                  f"(projected on the exact bias direction) {proj:.4f} +- {se:.4f}")
        ax.errorbar([e["tau_ms"] for e in eng], [e["projected_relative_bias"] for e in eng],
                    yerr=[e["se"] for e in eng], fmt="o", color=f"C{k}", label=f"RBM {name}: numpy engine")
        bias_rows[name]["engine"] = eng
        slope = np.polyfit(np.log(taus[-6:]), np.log(rel[-6:]), 1)[0]
        bias_rows[name]["loglog_slope_50_400ms"] = slope
        print(f"RBM {name}: log-log slope of the exact relative bias over tau = 50-400 ms: {slope:.3f}")
    ref = bias_rows["B"]["exact_relative_bias"][-1] * taus[-1] / taus
    ax.plot(taus, ref, ":", color="k", label="slope -1")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("mean phase length tau (ms)")
    ax.set_ylabel("|drift - gradient| / |gradient|")
    ax.set_title("finite-phase bias, b = 0.5, eta -> 0")
    ax.legend(fontsize=6)
    out["bias"] = bias_rows
    save_with_numbers(fig, args.out, out)


if __name__ == "__main__":
    main()
