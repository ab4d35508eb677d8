"""Lemma 2.1 per hardware profile (Ghosh et al. ICLR 2023 on a contrastive circuit): predicted
against measured extra change of bas3's exact NLL when each shipped profile applies an update,
at states along an ideal ISD trajectory, for small (50 integration steps) and large (20,000
steps) updates: one panel per profile.  Same machinery as ``neurocl check-theory``.  Last
panel: the loihi2 profile against Lava's Loihi 2 emulator itself (on-chip fixed_pt ISD updates
of 50 Gibbs sweeps; the measured extra NLL of the chip's updates against the profile's
prediction; ``neurocl check-theory --engine lava``).

Run:  python examples/lemma21_profiles.py [--out examples/lemma21_profiles.png] [--states N] [--windows N] [--replot]
      (the numbers go to ``<out>.json``; ``--replot`` redraws the figure from it without running)
"""

import argparse
import dataclasses

import numpy as np

from neurocl.config import load_config
from neurocl.experiments.check_theory import check_theory
from neurocl.hardware import load_profile, shipped_profiles
from neurocl.plotting import new_figure, save, saved_or_computed

STEPS = (50, 20_000)


def compute(args):
    """Rows of ``check_theory`` per update size and of ``check_theory_lava``, as plain data (nats)."""
    from neurocl.experiments.check_theory_lava import check_theory_lava

    cfg = load_config("circuits/bas3.toml").replace(duration=2_000_000.0)
    names = [n for n in shipped_profiles() if n != "ideal"]
    profiles = [load_profile(n) for n in names]
    rows = {}
    for steps in STEPS:
        rows[str(steps)] = [{**dataclasses.asdict(r), "agrees": r.agrees}
                            for r in check_theory(cfg, profiles, args.states, args.draws, steps)]
    lava_rows = check_theory_lava(cfg, load_profile("loihi2"), n_states=min(args.states, 3), windows=args.windows)
    return {"profiles": names, "states": args.states, "draws": args.draws, "windows": args.windows,
            "rows": rows, "lava": [dataclasses.asdict(r) for r in lava_rows]}


def summary(res):
    """Per profile and update size: states agreeing, and the largest |measured/predicted - 1|."""
    out = {}
    for steps, rows in res["rows"].items():
        for name in res["profiles"]:
            sel = [r for r in rows if r["profile"] == name]
            worst = max(abs(r["measured"] / r["predicted"] - 1) for r in sel if r["predicted"])
            out[f"{name}/{steps}"] = {"agree": sum(r["agrees"] for r in sel), "states": len(sel), "worst_rel": worst}
    return out


def _symlog(axis, lo, hi):
    """A symlog axis holding [lo, hi] with at most ~5 labelled decades (no overlapping tick labels); log if lo > 0."""
    from matplotlib.ticker import SymmetricalLogLocator

    linthresh = 1e-8
    set_scale = getattr(axis.axes, f"set_{axis.axis_name}scale")
    if lo > 0:  # all positive: a log axis (matplotlib labels intermediate ticks when it spans few decades)
        set_scale("log")
        return
    set_scale("symlog", linthresh=linthresh)
    decades = max(1.0, np.log10(max(abs(lo), abs(hi), 10 * linthresh) / linthresh))
    base = 10 ** int(np.ceil(decades / 4))
    axis.set_major_locator(SymmetricalLogLocator(linthresh=linthresh, base=base))
    axis.set_minor_locator(SymmetricalLogLocator(linthresh=linthresh, base=10, subs=[1.0]))


def plot(res, out):
    names = res["profiles"]
    fig, axes = new_figure(len(names) + 1, 3.4, 3.4)
    for steps, marker in zip(STEPS, ("o", "s")):
        rows = res["rows"][str(steps)]
        for ax, name in zip(axes, names):
            sel = [r for r in rows if r["profile"] == name]
            ax.errorbar([r["predicted"] for r in sel], [r["measured"] for r in sel], yerr=[3 * r["se"] for r in sel],
                        fmt=marker, ms=4, capsize=2, label=f"{steps} steps/update")
    for key, s in summary(res).items():
        name, steps = key.split("/")
        print(f"{name:<10} {steps:>6} steps/update: {s['agree']}/{s['states']} states agree; "
              f"largest |measured/predicted - 1| = {s['worst_rel']:.3f}")
    lava_rows = res["lava"]
    ax = axes[-1]
    ax.errorbar([r["predicted2_profile"] for r in lava_rows], [r["measured2"] for r in lava_rows],
                yerr=[3 * r["se2"] for r in lava_rows], fmt="D", ms=4, capsize=2, color="C3",
                label="Lava fixed_pt, 50 sweeps/update\n(2nd-order part)")
    for r in lava_rows:
        print(f"loihi2 on Lava, t = {r['time_ms']:.0f} ms: noise Tr Cov lava {r['noise_lava']:.3g} vs profile "
              f"{r['noise_profile']:.3g} (gradient units); 2nd-order extra NLL measured {r['measured2']:.3e} +- "
              f"{r['se2']:.1e} vs predicted {r['predicted2_profile']:.3e} nats")
    top = 1.3 * max(max(r["measured2"] + 3 * r["se2"], r["predicted2_profile"]) for r in lava_rows)
    ax.plot([0, top], [0, top], color="0.4", ls="--", lw=1)
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    ax.set_title("loihi2 vs Lava's emulator")
    ax.tick_params(labelsize=7)
    ax.set_xlabel("predicted by the profile (nats)", fontsize=8)
    ax.legend(fontsize=6, loc="upper left")
    for ax, name in zip(axes, names):
        vals = [v for rows in res["rows"].values() for r in rows if r["profile"] == name
                for v in (r["predicted"], r["measured"] + 3 * r["se"], r["measured"] - 3 * r["se"])]
        lo, hi = min(vals), max(vals)
        ax.plot([lo, hi], [lo, hi], color="0.4", ls="--", lw=1)
        ax.set_title(name)
        _symlog(ax.xaxis, lo, hi)
        _symlog(ax.yaxis, lo, hi)
        ax.tick_params(labelsize=7)
        ax.tick_params(axis="x", labelrotation=45)
        ax.set_xlabel("predicted extra NLL (nats)", fontsize=8)
    axes[0].set_ylabel("measured extra NLL (nats, +- 3 s.e.)", fontsize=8)
    axes[0].legend(fontsize=7)
    save(fig, out)
    print(f"wrote {out}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="examples/lemma21_profiles.png")
    ap.add_argument("--states", type=int, default=5)
    ap.add_argument("--draws", type=int, default=500)
    ap.add_argument("--windows", type=int, default=32, help="Lava panel: updates per replica and state")
    ap.add_argument("--replot", action="store_true", help="redraw from the saved numbers (<out>.json)")
    args = ap.parse_args(argv)
    res = saved_or_computed(args.out, args.replot, lambda: compute(args))
    plot(res, args.out)


if __name__ == "__main__":
    main()
