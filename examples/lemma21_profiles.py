"""Lemma 2.1 per hardware profile (Ghosh et al. ICLR 2023 on a contrastive circuit): predicted
against measured extra change of bas3's exact NLL when each shipped profile applies an update,
at states along an ideal ISD trajectory, for small (50 integration steps) and large (20,000
steps) updates: one panel per profile.  Same machinery as ``neurocl check-theory``.

Run:  python examples/lemma21_profiles.py [--out examples/lemma21_profiles.png] [--states N]
"""

import argparse

import numpy as np

from neurocl.config import load_config
from neurocl.experiments.check_theory import check_theory
from neurocl.hardware import load_profile, shipped_profiles
from neurocl.plotting import new_figure, save


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="examples/lemma21_profiles.png")
    ap.add_argument("--states", type=int, default=5)
    ap.add_argument("--draws", type=int, default=500)
    args = ap.parse_args(argv)
    cfg = load_config("circuits/bas3.toml").replace(duration=2_000_000.0)
    names = [n for n in shipped_profiles() if n != "ideal"]
    profiles = [load_profile(n) for n in names]
    fig, axes = new_figure(len(names), 3.2, 3.2)
    for steps, marker in ((50, "o"), (20_000, "s")):
        rows = check_theory(cfg, profiles, args.states, args.draws, steps)
        for ax, name in zip(axes, names):
            sel = [r for r in rows if r.profile == name]
            pred = np.array([r.predicted for r in sel])
            meas = np.array([r.measured for r in sel])
            ax.errorbar(pred, meas, yerr=[3 * r.se for r in sel], fmt=marker, ms=4, capsize=2,
                        label=f"{steps} steps/update")
            ok = sum(r.agrees for r in sel)
            worst = max(abs(r.measured / r.predicted - 1) for r in sel if r.predicted)
            print(f"{name:<10} {steps:>6} steps/update: {ok}/{len(sel)} states agree; "
                  f"largest |measured/predicted - 1| = {worst:.3f}")
    for ax, name in zip(axes, names):
        lo, hi = ax.get_xlim()
        ax.plot([lo, hi], [lo, hi], color="0.4", ls="--", lw=1)
        ax.set_title(name)
        ax.set_xscale("symlog", linthresh=1e-8)
        ax.set_yscale("symlog", linthresh=1e-8)
        ax.tick_params(labelsize=6)
        ax.set_xlabel("predicted extra NLL (nats)", fontsize=8)
    axes[0].set_ylabel("measured extra NLL (nats, +- 3 s.e.)", fontsize=8)
    axes[0].legend(fontsize=7)
    save(fig, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
