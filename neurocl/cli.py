"""Command line: ``neurocl run | sweep | check-theory | report | circuits | profiles``.

User errors (bad config, bad flag, missing or unreadable file, diverging run, an estimate
over the memory budget) print one line ``neurocl: error: ...`` and exit with status 2; no
traceback (``neurocl --debug ...`` shows it).  One handler in :func:`main` turns every
expected failure into that line: :class:`~neurocl.errors.NeuroclError` (the message names the
field or file), and as a safety net ``OSError``, ``UnicodeDecodeError``, ``zipfile.BadZipFile``,
``EOFError``, ``ValueError`` and ``MemoryError`` (whose messages name the file where they can).
"""

from __future__ import annotations

import argparse
import math
import sys
import zipfile
from pathlib import Path

from neurocl.errors import NeuroclError

__all__ = ["main", "build_parser", "error_message"]

#: exit status of a user error
EXIT_USER_ERROR = 2

EPILOG = """examples:
  neurocl run bas3                               train the shipped bas3 spec with ISD and TwoPhase
  neurocl run my_spec.toml --out results/mine    a spec file of your own
  neurocl run bas3 --out results/bas3 --seed 1 --time 60000
  neurocl circuits                               list the shipped circuit specs (the names `run` accepts)
  neurocl profiles                               list the shipped hardware profiles
  neurocl engines                                what each engine runs (circuits, rules, phases, profile fields)
  neurocl run bas3 --profile loihi2 --time 200000
  neurocl run bas3 --engine brian2 --time 20000  Brian2 network, raster.png per learner
  neurocl run bas3 --engine brian2 -E units=spiking -E psp_steps=10   engine options (see `neurocl engines`)
  neurocl deploy --target lava results/bas3      a saved run on the Lava Loihi 2 emulator
"""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``neurocl: error: argument --states: ...`` (status 2)."""

    def error(self, message):
        sub = self.prog.removeprefix("neurocl").strip()
        hint = f" (see `neurocl {sub + ' ' if sub else ''}--help`)"
        print(f"neurocl: error: {' '.join(str(message).split())}{hint}", file=sys.stderr)
        sys.exit(EXIT_USER_ERROR)


def _int_at_least(low: int):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer >= {low}, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be an integer >= {low}, got {value}")
        return value

    parse.__name__ = f"integer >= {low}"
    return parse


def _positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number > 0, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text}")
    return value


_positive_float.__name__ = "number > 0"


def _check_text_file(path, what: str) -> None:
    """A file that exists must be UTF-8 text (the error names the file); missing files are
    left to the loader, whose message says what it looked for."""
    from neurocl.errors import ConfigError

    path = Path(path)
    if not path.is_file():
        if path.is_dir():
            raise ConfigError(f"{path}: is a directory, expected a {what}")
        return
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the {what} ({exc.strerror})") from None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
                          f"expected a {what}") from None


def _check_profile_arg(profile) -> None:
    if profile and profile != "all":
        from neurocl.hardware import shipped_profiles

        if profile not in shipped_profiles():
            _check_text_file(profile, "hardware profile (TOML)")


def _engine_option_args(items) -> dict | None:
    """``--engine-option KEY=VALUE`` items as a dict; VALUE is read as a TOML value (``10``,
    ``2.5``, ``true``, ``"x"``), else kept as a plain string (``units=spiking``)."""
    import tomllib

    from neurocl.errors import ConfigError

    if not items:
        return None
    options = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"argument --engine-option/-E: expected KEY=VALUE (e.g. -E units=spiking), got {item!r}")
        try:
            options[key] = tomllib.loads(f"v = {value}")["v"]
        except tomllib.TOMLDecodeError:
            options[key] = value
    return options


def _cmd_run(args) -> int:
    from neurocl.config import load_config
    from neurocl.experiments.run import run

    _check_text_file(args.spec, "circuit spec (TOML)")
    _check_profile_arg(args.profile)
    config = load_config(args.spec).replace(profile=args.profile, engine=args.engine, seed=args.seed,
                                            duration=args.time, replicas=args.replicas,
                                            engine_options=_engine_option_args(args.engine_option))
    if args.learner:
        config = _keep_learners(config, args.learner)
    out = args.out or Path("results") / Path(args.spec).stem
    sim = config.simulation
    print(f"{config.name}: {config.circuit.kind} on {config.data.name}, engine {config.engine}, "
          f"{sim.duration:g} ms simulated per learner (dt = {sim.dt:g} ms), {sim.replicas} replicas, "
          f"seed {sim.seed}, profile {config.profile}, learners: {', '.join(s.label for s in config.learners)}")
    run(config, out, progress=not args.no_progress, overwrite=args.overwrite, resume=args.resume)
    return 0


def _keep_learners(config, labels):
    """``config`` with only the learners named by ``--learner`` (in the order given)."""
    import dataclasses

    from neurocl.errors import ConfigError

    specs = {s.label: s for s in config.learners}
    unknown = [lab for lab in labels if lab not in specs]
    if unknown:
        raise ConfigError(f"argument --learner: {unknown[0]!r} is not a learner of {config.name} "
                          f"(it has {', '.join(specs)})")
    return dataclasses.replace(config, learners=tuple(specs[lab] for lab in dict.fromkeys(labels)))


def _cmd_circuits(args) -> int:
    import tomllib

    from neurocl.shipped import shipped_dir, shipped_specs

    specs = shipped_specs()
    if not specs:
        print(f"no circuit specs in {shipped_dir('circuits')}")
        return 0
    rows = []
    for name, p in specs.items():
        text = p.read_text(encoding="utf-8")
        raw = tomllib.loads(text)
        lines = text.splitlines()
        first = lines[0].lstrip("# ").strip().removeprefix(f"{name}: ") if lines else ""
        rows.append((name, str(raw.get("circuit", {}).get("kind", "?")), first))
    w_name, w_kind = (max(len(r[i]) for r in rows) for i in (0, 1))
    for name, kind, first in rows:
        print(f"{name:<{w_name}}  {kind:<{w_kind}}  {first}")
    return 0


def _cmd_profiles(args) -> int:
    from neurocl.hardware import load_profile, shipped_profiles

    for name in shipped_profiles():
        p = load_profile(name)
        print(f"{name:<10} {p.description}")
    return 0


def _cmd_engines(args) -> int:
    from neurocl.engines import engine_class, engine_names
    from neurocl.errors import ConfigError

    for name in engine_names():
        try:
            sup = engine_class(name)().supports()
        except (ImportError, ConfigError) as exc:   # an engine whose optional dependency is missing
            print(f"{name}: unavailable ({exc})")
            continue
        runs = ", ".join(f"{c}+{r}" for c, r in sorted(sup["runs"]))
        print(f"{name}\n  runs (circuit+rule): {runs}\n  phases: {', '.join(sorted(sup['phases']))}"
              f" (laws: {', '.join(sorted(sup['phase_laws']))})\n"
              f"  profile fields: {', '.join(sorted(sup['profile_fields'])) or 'none (ideal weights only)'}\n"
              f"  capabilities: {', '.join(sorted(sup['capabilities'])) or 'none'}")
        options = _engine_options_help(engine_class(name).Options)
        print("  options (-E KEY=VALUE, or the spec's engine table):" + ("" if options else " none"))
        for line in options:
            print(f"    {line}")
    return 0


def _engine_options_help(options_cls) -> list[str]:
    """One line per field of an engine's ``Options`` dataclass: ``name = default  type: summary``,
    the type (allowed values) and summary read from its numpydoc ``Parameters`` section."""
    import dataclasses
    import re

    doc = (options_cls.__doc__ or "").splitlines()
    described = {}
    for i, line in enumerate(doc):
        m = re.match(r"\s*(\w+) : (.+)$", line)
        if m:
            text = []
            for follow in doc[i + 1:]:
                if not follow.strip() or re.match(r"\s*\w+ : ", follow):
                    break
                text.append(follow.strip())
            summary = " ".join(text).replace("``", "").split(". ")[0].rstrip(".")
            described[m.group(1)] = (m.group(2).strip(), summary)
    lines = []
    for f in dataclasses.fields(options_cls):
        default = f.default if f.default is not dataclasses.MISSING else "(required)"
        shown = f'"{default}"' if isinstance(default, str) else repr(default)
        kind, summary = described.get(f.name, (getattr(f.type, "__name__", str(f.type)), ""))
        lines.append(f"{f.name} = {shown}  {kind}" + (f": {summary}" if summary else ""))
    return lines


def _cmd_check_theory(args) -> int:
    from neurocl.config import load_config
    from neurocl.experiments.check_theory import check_theory, format_rows, plot_rows
    from neurocl.atomic import write_text_atomic
    from neurocl.errors import ConfigError
    from neurocl.hardware import load_profile, shipped_profiles

    from neurocl.shipped import resolve_spec

    _check_text_file(args.circuit, "circuit spec (TOML)")
    spec = resolve_spec(args.circuit)
    _check_profile_arg(args.profile)
    if args.engine == "numpy" and args.draws is not None and args.draws < 2:
        raise ConfigError(f"argument --draws: must be an integer >= 2 with --engine numpy (the standard error "
                          f"needs two draws), got {args.draws}")
    config = load_config(spec)
    if args.always_on:
        return _check_theory_always_on(args, config)
    by_kind = CHECK_THEORY_BY_KIND.get(config.circuit.kind)
    if by_kind is not None:
        return by_kind(args, config)
    config = config.replace(duration=2_000_000.0 if args.time is None else args.time, seed=args.seed)
    if args.engine == "lava":
        return _check_theory_lava(args, config)
    names = list(shipped_profiles()) if (args.profile or "rram_hfo2") == "all" else [args.profile or "rram_hfo2"]
    profiles = [load_profile(n) for n in names]
    print(f"{config.name}: extra change of the exact NLL per update (device vs ideal), "
          f"{6 if args.states is None else args.states} states of an ideal ISD trajectory, "
          f"{1000 if args.draws is None else args.draws} device draws each, "
          f"update = {args.steps_per_update} integration step(s) of eta dt = "
          f"{config.learners[0].rule.learning_rate:g} /ms x {config.simulation.dt:g} ms")
    states = 6 if args.states is None else args.states
    draws = 1000 if args.draws is None else args.draws
    rows = check_theory(config, profiles, states, draws, args.steps_per_update, args.seed)
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


def _check_theory_two_branch(args, config) -> int:
    """Two-branch circuits: online learning against the high-dimensional ODE (paper 001)."""
    from neurocl.errors import ConfigError
    from neurocl.experiments.check_theory_two_branch import check_theory_two_branch

    if args.engine != "numpy" or args.profile is not None:
        raise ConfigError("check-theory on a two_branch circuit compares the numpy engine with the ODE: "
                          "--engine lava and --profile do not apply")
    sim = config.simulation
    t_end = None if args.time is None else args.time / sim.dt / config.circuit.N
    out = Path(args.out or Path("results") / f"check-theory-{config.name}")
    rows = check_theory_two_branch(config, t_end=t_end, seeds=max(2, args.replicas),
                                   points=6 if args.states is None else max(2, args.states), seed=args.seed, out=out,
                                   echo=print)
    ok = sum(r.agrees for r in rows)
    print(f"{ok}/{len(rows)} times agree (|error| within 3 s.e. + the ODE's Monte Carlo error + 0.02); "
          f"written {out}/check_theory_two_branch.json")
    return 0


def _check_theory_always_on(args, config) -> int:
    """RBMs: the always-on estimator's variance and bias (``neurocl.theory_always_on``)."""
    import json

    from neurocl.atomic import write_text_atomic
    from neurocl.errors import ConfigError
    from neurocl.experiments.check_theory import (check_always_on, check_always_on_config, format_always_on,
                                                  variance_agrees)

    if args.engine != "numpy" or args.profile is not None:
        raise ConfigError("check-theory --always-on measures the ideal always-on estimator on the numpy engine: "
                          "--engine lava and --profile do not apply")
    check_always_on_config(config)
    config = config.replace(duration=100_000.0 if args.time is None else args.time, seed=args.seed)
    states = 2 if args.states is None else args.states
    print(f"{config.name}: the always-on (ISD) estimator at {states} state(s) of an ideal ISD trajectory "
          f"({config.simulation.duration:g} ms); engine: {args.replicas} replicas x {args.windows} windows")
    rows = check_always_on(config, states, args.replicas, args.windows, args.seed)
    table = format_always_on(rows)
    print(table)
    out = Path(args.out or Path("results") / f"check-theory-always-on-{config.name}")
    out.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out / "always_on.txt", table + "\n")
    write_text_atomic(out / "always_on.json", json.dumps(rows, indent=1) + "\n")
    ok = sum(variance_agrees(r) for r in rows)
    print(f"{ok}/{len(rows)} states: measured V within 3 s.e. of the prediction; written {out}/always_on.txt, "
          f"{out}/always_on.json")
    return 0


#: circuit kind -> its own check-theory (the default: Lemma 2.1 under hardware profiles, RBMs)
CHECK_THEORY_BY_KIND = {"two_branch": _check_theory_two_branch}


def _check_theory_lava(args, config) -> int:
    from neurocl.experiments.check_theory_lava import check_theory_lava, format_lava_rows, plot_lava_rows
    from neurocl.atomic import write_text_atomic
    from neurocl.hardware import load_profile

    profile = load_profile(args.profile or "loihi2")
    states = 4 if args.states is None else args.states
    draws = 8 if args.draws is None else args.draws
    print(f"{config.name} on Lava ({args.tag}): on-chip ISD updates vs the ideal float ISD update of the same "
          f"samples, and the '{profile.name}' profile's prediction; {states} states of an ideal ISD trajectory "
          f"({args.time:g} ms), at each {args.replicas} replicas x {args.windows} windows of "
          f"{args.steps_per_update} Gibbs sweeps (one update), eta = {args.eta:g} /ms, {args.dt:g} ms per sweep; "
          f"bias |E e| and noise Tr Cov e in gradient units (e / (eta dt K)); extra NLL per update in nats")
    rows = check_theory_lava(config, profile, n_states=states, replicas=args.replicas, windows=args.windows,
                             sweeps=args.steps_per_update, eta=args.eta, dt=args.dt, draws=draws, tag=args.tag,
                             seed=args.seed, progress=lambda r: print(f"  state t = {r.time_ms:g} ms done",
                                                                           flush=True))
    table = format_lava_rows(rows)
    print(table)
    out = Path(args.out or Path("results") / f"check-theory-lava-{config.name}")
    out.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out / "table.txt", table + "\n")
    plot_lava_rows(rows, out / "predicted_vs_measured.png")
    ok = sum(r.agrees for r in rows)
    print(f"{ok}/{len(rows)} states: the profile's prediction agrees with Lava (within 3 s.e. or 20 %); "
          f"written {out}/table.txt, {out}/predicted_vs_measured.png")
    return 0


def _cmd_sweep(args) -> int:
    from neurocl.experiments.sweep import load_sweep, run_sweep

    _check_text_file(args.spec, "sweep spec (TOML)")
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
    parser = _Parser(
        prog="neurocl",
        description="Bio-plausible contrastive learning in continuous time (all times in ms).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    from neurocl import __version__

    parser.add_argument("--version", action="version", version=f"neurocl {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="show the Python traceback of an error instead of the one-line message")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    p = sub.add_parser(
        "run", help="train the learners of a circuit spec and write a results directory",
        epilog="examples:\n  neurocl run bas3\n  neurocl run digits --out results/digits --time 20000\n"
               "  neurocl run path/to/spec.toml\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("spec", help="circuit spec: a shipped name (see `neurocl circuits`), e.g. bas3, or a TOML file")
    p.add_argument("--out", type=Path, help="results directory (default results/<spec name>); must be new, empty "
                                            "or hold the same run (same resolved config)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--overwrite", action="store_true",
                      help="replace a results directory that holds a different run (refused unless it holds "
                           "only neurocl results files)")
    mode.add_argument("--resume", action="store_true",
                      help="continue the same run: learners already complete (their DONE marker) are kept")
    p.add_argument("--seed", type=_int_at_least(0), help="override simulation.seed")
    p.add_argument("--time", type=_positive_float, help="override simulation.duration (ms)")
    p.add_argument("--replicas", type=_int_at_least(1), help="override simulation.replicas")
    p.add_argument("--profile", help="hardware profile: a shipped name (see `neurocl profiles`) or a TOML file")
    p.add_argument("--engine", help="override the spec's engine (numpy, brian2) with its default options")
    p.add_argument("-E", "--engine-option", action="append", metavar="KEY=VALUE",
                   help="set an engine option (repeatable; after --engine), e.g. -E units=spiking -E psp_steps=10; "
                        "`neurocl engines` lists each engine's options")
    p.add_argument("--learner", action="append", default=[], metavar="LABEL",
                   help="run only this learner of the spec (repeatable; default: all), e.g. --learner isd")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_run)
    p = sub.add_parser("circuits", help="list the shipped circuit specs (the names `neurocl run` accepts)",
                       epilog="example:\n  neurocl circuits\n",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.set_defaults(func=_cmd_circuits)
    p = sub.add_parser("profiles", help="list the shipped hardware profiles",
                       epilog="examples:\n  neurocl profiles\n  neurocl run bas3 --profile rram_hfo2 --time 200000\n",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.set_defaults(func=_cmd_profiles)
    p = sub.add_parser("engines", help="list the engines and what each supports (from their registries)",
                       epilog="example:\n  neurocl engines\n",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.set_defaults(func=_cmd_engines)
    p = sub.add_parser(
        "check-theory", help="Lemma 2.1: predicted vs measured extra NLL change under a hardware profile",
        epilog="examples:\n  neurocl check-theory --circuit bas3 --profile rram_hfo2\n"
               "  neurocl check-theory --circuit bas3 --profile all --steps-per-update 20000\n"
               "  neurocl check-theory --engine lava --circuit bas3          (on-chip learning vs the loihi2 profile)\n"
               "  neurocl check-theory --circuit two_branch --time 5000      (online learning vs the ODE, t = 5)\n"
               "  neurocl check-theory --circuit bas3 --always-on            (always-on variance V(b), b_opt, bias)\n",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--circuit", default="bas3", help="shipped spec name or TOML path (an RBM with an ISD learner, "
                   "or a two_branch circuit: simulation against its ODE)")
    p.add_argument("--profile", help="shipped profile name, TOML path, or 'all' (default: rram_hfo2; "
                                     "loihi2 with --engine lava)")
    p.add_argument("--engine", default="numpy", choices=["numpy", "lava"],
                   help="numpy: the profile's device model; lava: on-chip learning on Lava's Loihi 2 emulator, "
                        "measured against the ideal update and the profile's prediction")
    p.add_argument("--states", type=_int_at_least(1), help="trajectory states (checkpoints; default 6, lava 4)")
    p.add_argument("--draws", type=_int_at_least(1), help="device noise draws per state (>= 2; default 1000; lava: "
                                                         "profile replays per update, 8)")
    p.add_argument("--steps-per-update", type=_int_at_least(1), default=50,
                   help="integration steps folded into one update (lava: Gibbs sweeps per update)")
    p.add_argument("--replicas", type=_int_at_least(1), default=8,
                   help="lava: replicas learning side by side; two_branch: independent runs against the ODE")
    p.add_argument("--windows", type=_int_at_least(2), default=32,
                   help="lava: consecutive updates per replica and state")
    p.add_argument("--eta", type=_positive_float, default=1e-3,
                   help="lava: on-chip learning rate (ms^-1; 8-bit learning needs eta dt >= ~1.2e-4)")
    p.add_argument("--dt", type=_positive_float, default=1.0, help="lava: ms per Gibbs sweep")
    p.add_argument("--tag", default="fixed_pt", choices=["fixed_pt", "floating_pt"], help="lava: ProcessModels")
    p.add_argument("--time", type=_positive_float, help="length of the ideal trajectory (ms; default 2,000,000; "
                   "two_branch: the spec's duration, one sample per dt)")
    p.add_argument("--seed", type=_int_at_least(0), default=0)
    p.add_argument("--always-on", action="store_true",
                   help="RBMs: the always-on estimator instead of Lemma 2.1: long-run variance V(b) predicted vs "
                        "measured, b_opt vs the single-sample b*, and the bias (s/tau and eta parts; exact chain "
                        "when the RBM is small enough to enumerate). --replicas, --windows: the engine measurement; "
                        "--time: trajectory length (default 100,000 ms); --states: default 2")
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
    p.add_argument("--workers", type=_int_at_least(1), help="local processes (default: all cores)")
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
    p.add_argument("--sweeps", type=_int_at_least(1), default=20000, help="RBM: Gibbs sweeps per chain (16 chains)")
    p.add_argument("--timeout", type=_positive_float, default=600.0, help="wall-clock limit per Lava run (s)")
    p.set_defaults(func=_cmd_deploy)
    p = sub.add_parser("report", help="re-plot and summarise a saved results directory",
                       epilog="example:\n  neurocl report results/bas3\n",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("results", help="a directory written by `neurocl run`")
    p.set_defaults(func=_cmd_report)
    for p in sub.choices.values():   # `neurocl run ... --debug` works too
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                       help="show the Python traceback of an error")
    return parser


def error_message(exc: BaseException) -> str | None:
    """The one-line ``neurocl: error:`` text for an expected failure (``None``: a bug, which
    keeps its traceback)."""
    if isinstance(exc, NeuroclError):
        text = str(exc)
    elif isinstance(exc, UnicodeDecodeError):
        text = (f"a file is not UTF-8 text ({exc.reason}, byte {exc.object[exc.start:exc.start + 1]!r} at offset "
                f"{exc.start}); expected a TOML or CSV text file")
    elif isinstance(exc, OSError):
        name = exc.filename if exc.filename is not None else None
        reason = exc.strerror or str(exc) or type(exc).__name__
        if name is not None and str(name) in reason:
            text = reason
        elif name is not None:
            other = f" -> {exc.filename2}" if exc.filename2 else ""
            text = f"{name}{other}: {reason}"
        else:
            text = f"{reason} ({type(exc).__name__})"
    elif isinstance(exc, zipfile.BadZipFile):
        text = f"a .npz archive is not readable (truncated or not a zip file: {exc})"
    elif isinstance(exc, EOFError):
        text = f"a file ended early (truncated?): {exc or 'unexpected end of file'}"
    elif isinstance(exc, MemoryError):
        text = (f"out of memory{' (' + str(exc) + ')' if str(exc) else ''}; lower simulation.duration / dt, "
                f"replicas or the circuit size, or set NEUROCL_MEMORY_BUDGET")
    elif isinstance(exc, ValueError):
        text = str(exc) or type(exc).__name__
    else:
        return None
    text = " ".join(text.split())
    if not isinstance(exc, NeuroclError):
        text += " (neurocl --debug shows the traceback)"
    return text


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Library warnings (``warnings.warn``) as one line ``neurocl: warning: ...`` on stderr."""
    print(f"neurocl: warning: {' '.join(str(message).split())}", file=sys.stderr)


def main(argv=None) -> int:
    import warnings

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            return args.func(args)
    except KeyboardInterrupt:
        print("neurocl: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        message = error_message(exc)
        if args.debug or message is None:
            raise
        print(f"neurocl: error: {message}", file=sys.stderr)
        return EXIT_USER_ERROR


if __name__ == "__main__":
    sys.exit(main())
