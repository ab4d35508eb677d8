"""Command line: ``neurocl run | sweep | check-theory | report | circuits | profiles``.

User errors (bad config, missing file, diverging run) print one line
``neurocl: error: ...`` and exit with status 2; no traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from neurocl.errors import NeuroclError, UnsupportedFeatureError

__all__ = ["main"]

SPECS_DIR = Path(__file__).resolve().parent.parent / "circuits"

EPILOG = """examples:
  neurocl run circuits/bas3.toml                 train bas3 with ISD and TwoPhase
  neurocl run circuits/bas3.toml --out results/bas3 --seed 1 --time 60000
  neurocl circuits                               list the shipped circuit specs
  neurocl profiles                               list the shipped hardware profiles
  neurocl run circuits/bas3.toml --profile loihi2 --time 200000
  neurocl run circuits/bas3.toml --engine brian2 --time 20000   Brian2 network, raster.png per learner
  neurocl deploy --target lava results/bas3      a saved run on the Lava Loihi 2 emulator
"""


def _cmd_run(args) -> int:
    from neurocl.config import load_config
    from neurocl.experiments.run import run

    config = load_config(args.spec).replace(profile=args.profile, engine=args.engine, seed=args.seed,
                                            duration=args.time, replicas=args.replicas)
    out = args.out or Path("results") / Path(args.spec).stem
    sim = config.simulation
    print(f"{config.name}: {config.circuit.kind} on {config.data.name}, engine {config.engine}, "
          f"{sim.duration:g} ms simulated per learner (dt = {sim.dt:g} ms), {sim.replicas} replicas, "
          f"seed {sim.seed}, profile {config.profile}, learners: {', '.join(s.label for s in config.learners)}")
    run(config, out, progress=not args.no_progress)
    return 0


def _cmd_circuits(args) -> int:
    import tomllib

    specs = sorted(SPECS_DIR.glob("*.toml"))
    if not specs:
        print(f"no circuit specs in {SPECS_DIR}")
        return 0
    for p in specs:
        with open(p, "rb") as fh:
            raw = tomllib.load(fh)
        first = p.read_text().splitlines()[0].lstrip("# ").strip().removeprefix(f"{p.stem}: ")
        print(f"{p.stem:<10} {raw.get('circuit', {}).get('kind', '?'):<10} {first}")
    return 0


def _cmd_profiles(args) -> int:
    from neurocl.hardware import load_profile, shipped_profiles

    for name in shipped_profiles():
        p = load_profile(name)
        print(f"{name:<10} {p.description}")
    return 0


def _cmd_check_theory(args) -> int:
    from neurocl.config import load_config
    from neurocl.experiments.check_theory import check_theory, format_rows, plot_rows
    from neurocl.experiments.io import write_text_atomic
    from neurocl.hardware import load_profile, shipped_profiles

    if args.engine == "lava":
        raise UnsupportedFeatureError("lava", "check-theory yet: the bias/variance of on-chip updates against the "
                                              "loihi2 profile is not measured from Lava's weight trajectories yet "
                                              "(issue 4); use --engine numpy for the profile's device model")
    spec = SPECS_DIR / f"{args.circuit}.toml" if not str(args.circuit).endswith(".toml") else Path(args.circuit)
    config = load_config(spec).replace(duration=args.time, seed=args.seed)
    names = list(shipped_profiles()) if args.profile == "all" else [args.profile]
    profiles = [load_profile(n) for n in names]
    print(f"{config.name}: extra change of the exact NLL per update (device vs ideal), "
          f"{args.states} states of an ideal ISD trajectory, {args.draws} device draws each, "
          f"update = {args.steps_per_update} integration step(s) of eta dt = "
          f"{config.learners[0].rule.learning_rate:g} /ms x {config.simulation.dt:g} ms")
    rows = check_theory(config, profiles, args.states, args.draws, args.steps_per_update, args.seed or 0)
    table = format_rows(rows)
    print(table)
    out = Path(args.out or Path("results") / f"check-theory-{config.name}")
    out.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out / "table.txt", table + "\n")
    plot_rows(rows, out / "predicted_vs_measured.png")
    ok = sum(r.agrees for r in rows)
    print(f"{ok}/{len(rows)} states agree (within 3 s.e. or 10 %); written {out}/table.txt, "
          f"{out}/predicted_vs_measured.png")
    return 0


def _cmd_sweep(args) -> int:
    from neurocl.experiments.sweep import load_sweep, run_sweep

    spec = load_sweep(args.spec)
    out = args.out or Path("results") / f"sweep-{spec.name}"
    counts = run_sweep(spec, out, args.executor, args.scheduler, args.workers, progress=not args.no_progress)
    return 1 if counts["failed"] else 0


def _cmd_report(args) -> int:
    from neurocl.experiments.run import report

    report(args.results)
    return 0


def _cmd_deploy(args) -> int:
    from neurocl.experiments.deploy import deploy_run

    rows = deploy_run(args.results, args.target, args.tag, args.learner, args.sweeps, args.timeout)
    print(f"{args.results} on the Lava Loihi 2 emulator ({args.tag}) vs the float model")
    print(f"{'learner':<12} {'metric':<26} {'emulator':>10} {'float':>10} {'difference':>11}  detail")
    for r in rows:
        u = r["unit"]
        print(f"{r['learner']:<12} {r['metric'] + ' (' + u + ')':<26} {r['emulator']:>10.4g} {r['float']:>10.4g} "
              f"{r['emulator'] - r['float']:>+11.4g}  {r['detail']}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="neurocl",
        description="Bio-plausible contrastive learning in continuous time (all times in ms).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    from neurocl import __version__

    parser.add_argument("--version", action="version", version=f"neurocl {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    p = sub.add_parser(
        "run", help="train the learners of a circuit spec and write a results directory",
        epilog="examples:\n  neurocl run circuits/bas3.toml\n  neurocl run circuits/digits.toml --out results/digits --time 20000\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("spec", help="circuit spec (TOML), e.g. circuits/bas3.toml")
    p.add_argument("--out", type=Path, help="results directory (default results/<spec name>)")
    p.add_argument("--seed", type=int, help="override simulation.seed")
    p.add_argument("--time", type=float, help="override simulation.duration (ms)")
    p.add_argument("--replicas", type=int, help="override simulation.replicas")
    p.add_argument("--profile", help="hardware profile: a shipped name (see `neurocl profiles`) or a TOML file")
    p.add_argument("--engine", help="override the spec's engine (numpy, brian2) with its default options")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_run)
    p = sub.add_parser("circuits", help="list the shipped circuit specs",
                       epilog="example:\n  neurocl circuits\n",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.set_defaults(func=_cmd_circuits)
    p = sub.add_parser("profiles", help="list the shipped hardware profiles",
                       epilog="examples:\n  neurocl profiles\n  neurocl run circuits/bas3.toml --profile rram_hfo2 --time 200000\n",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.set_defaults(func=_cmd_profiles)
    p = sub.add_parser(
        "check-theory", help="Lemma 2.1: predicted vs measured extra NLL change under a hardware profile",
        epilog="examples:\n  neurocl check-theory --circuit bas3 --profile rram_hfo2\n"
               "  neurocl check-theory --circuit bas3 --profile all --steps-per-update 20000\n",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--circuit", default="bas3", help="shipped spec name or TOML path (an RBM with an ISD learner)")
    p.add_argument("--profile", default="rram_hfo2", help="shipped profile name, TOML path, or 'all'")
    p.add_argument("--engine", default="numpy", choices=["numpy", "lava"],
                   help="numpy: device model of the profile; lava: not available yet (says why)")
    p.add_argument("--states", type=int, default=6, help="trajectory states (checkpoints)")
    p.add_argument("--draws", type=int, default=1000, help="device noise draws per state")
    p.add_argument("--steps-per-update", type=int, default=50,
                   help="integration steps folded into one update (1 = per step; large = large steps)")
    p.add_argument("--time", type=float, default=2_000_000.0, help="length of the ideal trajectory (ms)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, help="output folder (default results/check-theory-<circuit>)")
    p.set_defaults(func=_cmd_check_theory)
    p = sub.add_parser(
        "sweep", help="run a grid of configs (resumable), one results folder per run + a tidy table",
        epilog="examples:\n  neurocl sweep sweeps/b_sweep.toml\n"
               "  neurocl sweep sweeps/b_sweep.toml --executor dask --scheduler tcp://127.0.0.1:8786\n",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("spec", help="sweep spec (TOML): base run config, [overrides], [grid]")
    p.add_argument("--out", type=Path, help="sweep folder (default results/sweep-<name>)")
    p.add_argument("--executor", default="local", choices=["local", "dask"])
    p.add_argument("--scheduler", help="Dask scheduler address (tcp://HOST:PORT); default: an in-process cluster")
    p.add_argument("--workers", type=int, help="local processes (default: all cores)")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=_cmd_sweep)
    p = sub.add_parser(
        "deploy", help="run a saved model on the Lava Loihi 2 emulator and print its metric",
        epilog="examples:\n  neurocl deploy --target lava results/bas3\n"
               "  neurocl deploy --target lava results/digits --learner isd --tag floating_pt\n",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("results", help="a directory written by `neurocl run` (RBM or layered Hopfield)")
    p.add_argument("--target", default="lava", choices=["lava"], help="deployment target")
    p.add_argument("--tag", default="fixed_pt", choices=["fixed_pt", "floating_pt"],
                   help="Lava ProcessModel precision (fixed_pt: Loihi integer datapath)")
    p.add_argument("--learner", help="only this learner (default: all in the directory)")
    p.add_argument("--sweeps", type=int, default=20000, help="RBM: Gibbs sweeps per chain (16 chains)")
    p.add_argument("--timeout", type=float, default=600.0, help="wall-clock limit per Lava run (s)")
    p.set_defaults(func=_cmd_deploy)
    p = sub.add_parser("report", help="re-plot and summarise a saved results directory",
                       epilog="example:\n  neurocl report results/bas3\n",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("results", help="a directory written by `neurocl run`")
    p.set_defaults(func=_cmd_report)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except NeuroclError as exc:
        print(f"neurocl: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("neurocl: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
