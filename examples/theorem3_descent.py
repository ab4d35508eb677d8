"""Theorems 3.1 and 3.2 (Ghosh et al. ICLR 2023, Fig. 7 analogue): probability that one
noisy or biased step descends, against the sharpness of the minimum.

Linear student, summed MSE, d = 25, n = 500, eta = 0.01; the input singular values are
linspace(s/2, s, 25) so the Hessian eigenvalues are 2 s^2/4 .. 2 s^2; 20 student seeds,
5 antithetic noise pairs each; noise norm = INR x |grad|.  Bias panel: d = 1, Hessian 50,
eta = 1e-3, bias along the gradient, relative bias b/|g|.

Run:  python examples/theorem3_descent.py [--out examples/theorem3_descent.png]
      (the numbers go to ``<out>.json``)
"""

import argparse

import numpy as np

from neurocl.experiments.teacher import bias_descent_probability, noise_descent_probability
from neurocl.plotting import new_figure, save_with_numbers
from neurocl.theory import bias_descent_limit, noise_descent_bound


def noise_panel(ax, eta=0.01, seeds=20, pairs=5, n_points=45) -> dict:
    numbers = {"eta": eta, "seeds": seeds, "antithetic_pairs": pairs}
    for inr, color in ((0.0, "C0"), (1.0, "C3")):
        lam_max = np.linspace(20, 900, n_points)
        probs = [noise_descent_probability(lam, inr, eta, seeds, pairs)[0] for lam in lam_max]
        bound = noise_descent_bound(1.0, inr**2, eta)
        ax.plot(lam_max, probs, "o-", color=color, ms=3, label=f"INR = {inr:g}")
        ax.axvline(bound, color=color, ls="--", lw=1, label=f"largest eigenvalue bound {bound:.0f}")
        ax.axvline(4 * bound, color=color, ls=":", lw=1, label="smallest eigenvalue at the bound")
        print(f"noise INR={inr:g}: bound (2/eta)/(1+INR^2) = {bound:.1f}; "
              f"P(descent) = 1 for largest eigenvalue < bound: {all(p == 1 for p, l in zip(probs, lam_max) if l < bound)}; "
              f"= 0 for smallest > bound: {all(p == 0 for p, l in zip(probs, lam_max) if l / 4 > bound)}")
        numbers[f"inr_{inr:g}"] = {
            "bound_largest_eigenvalue": float(bound), "largest_eigenvalue": [float(x) for x in lam_max],
            "p_descent": [float(p) for p in probs],
            "certain_below_bound": bool(all(p == 1 for p, l in zip(probs, lam_max) if l < bound)),
            "impossible_when_smallest_above_bound": bool(all(p == 0 for p, l in zip(probs, lam_max) if l / 4 > bound))}
    ax.set_xlabel("largest Hessian eigenvalue")
    ax.set_ylabel("probability of descent (20 seeds)")
    ax.set_title("Theorem 3.1: noise")
    ax.legend(fontsize=7)
    return numbers


def bias_panel(ax, eta=1e-3) -> dict:
    limit = bias_descent_limit([50.0], eta)
    rng = np.random.default_rng(6)
    rel = np.linspace(0, 3, 40)
    probs = [bias_descent_probability(r, eta, rng=rng) for r in rel]
    ax.plot(rel, probs, "o-", ms=3, color="C2", label="bias along the gradient")
    ax.axvline(limit, color="0.3", ls="--", lw=1, label=f"Theorem 3.2 limit {limit:.2f}")
    ax.set_xlabel("relative bias b / |grad L|")
    ax.set_ylabel("probability of descent (20 seeds)")
    ax.set_title("Theorem 3.2: bias")
    ax.legend(fontsize=7)
    print(f"bias: limit [2/(1+f+sqrt(1+4f+f^2))]/sqrt(P) = {limit:.3f} (f = eta |H|_F = 0.05); "
          f"P(descent) below it = {min(p for p, r in zip(probs, rel) if r < limit):.2f}, "
          f"above 1 = {max(p for p, r in zip(probs, rel) if r > 1.0):.2f}")
    return {"eta": eta, "hessian": 50.0, "limit_relative_bias": float(limit), "relative_bias": [float(r) for r in rel],
            "p_descent": [float(p) for p in probs],
            "min_p_below_limit": float(min(p for p, r in zip(probs, rel) if r < limit)),
            "max_p_above_1": float(max(p for p, r in zip(probs, rel) if r > 1.0))}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="examples/theorem3_descent.png")
    args = ap.parse_args(argv)
    fig, axes = new_figure(2, 4.8, 3.8)
    numbers = {"noise": noise_panel(axes[0]), "bias": bias_panel(axes[1])}
    save_with_numbers(fig, args.out, numbers)


if __name__ == "__main__":
    main()
