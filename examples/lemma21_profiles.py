"""Lemma 2.1 per hardware profile (Ghosh et al. ICLR 2023 on a contrastive circuit): predicted
against measured extra change of bas3's exact NLL when each shipped profile applies an update,
at states along an ideal ISD trajectory, for small (50 integration steps) and large (20,000
steps) updates: one panel per profile.  Same machinery as ``neurocl check-theory``.  Last
panel: the loihi2 profile against Lava's Loihi 2 emulator itself (on-chip fixed_pt ISD updates
of 50 Gibbs sweeps; the measured extra NLL of the chip's updates against the profile's
prediction; ``neurocl check-theory --engine lava``).

Run:  python examples/lemma21_profiles.py [--out examples/lemma21_profiles.png] [--states N] [--windows N]
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
    ap.add_argument("--windows", type=int, default=32, help="Lava panel: updates per replica and state")
    args = ap.parse_args(argv)
    cfg = load_config("circuits/bas3.toml").replace(duration=2_000_000.0)
    names = [n for n in shipped_profiles() if n != "ideal"]
    profiles = [load_profile(n) for n in names]
    fig, axes = new_figure(len(names) + 1, 3.2, 3.2)
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
    from neurocl.experiments.check_theory_lava import check_theory_lava

    lava_rows = check_theory_lava(cfg, load_profile("loihi2"), n_states=min(args.states, 3), windows=args.windows)
    ax = axes[-1]
    ax.errorbar([r.predicted2_profile for r in lava_rows], [r.measured2 for r in lava_rows],
                yerr=[3 * r.se2 for r in lava_rows], fmt="D", ms=4, capsize=2, color="C3",
                label="Lava fixed_pt, 50 sweeps/update\n(2nd-order part)")
    for r in lava_rows:
        print(f"loihi2 on Lava, t = {r.time_ms:.0f} ms: noise Tr Cov lava {r.noise_lava:.3g} vs profile "
              f"{r.noise_profile:.3g} (gradient units); 2nd-order extra NLL measured {r.measured2:.3e} +- "
              f"{r.se2:.1e} vs predicted {r.predicted2_profile:.3e} nats")
    top = 1.3 * max(max(r.measured2 + 3 * r.se2, r.predicted2_profile) for r in lava_rows)
    ax.plot([0, top], [0, top], color="0.4", ls="--", lw=1)
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    ax.set_title("loihi2 vs Lava's emulator")
    ax.tick_params(labelsize=6)
    ax.set_xlabel("predicted by the profile (nats)", fontsize=8)
    ax.legend(fontsize=6, loc="upper left")
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
