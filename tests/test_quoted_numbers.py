"""Every number quoted in README.md and examples/README.md is traceable.

Each decimal number in the prose and tables of the two READMEs (fenced code blocks excluded)
lies inside one of three kinds of phrase listed here:

* ``TRACED``: a measured number, checked against the JSON that the script which measured it
  saved next to its figure (``examples/<name>.json``), at the precision it is printed with
  (``0.47`` matches 0.465 <= x < 0.475); or a number computed in closed form
  (``ln(512/14) = 3.60``), checked against the formula;
* ``UNSAVED``: a number from a run whose output is not saved in the repository; the text must
  say so (``not saved``) within a few lines of it;
* ``INPUTS``: not a measurement (a version, a setting, a theorem's name).

A quoted number that changes, or a new one, fails here until it is traced again (the JSON it
comes from, or a visible "not saved").  Integers (run times in minutes, seeds, sizes) are not
scanned; those that are measurements are traced where a JSON holds them.  The default tests
run in well under a second (text and JSON only); ``test_figure_redraws_from_its_saved_numbers``
(integration marker) redraws each figure from its JSON with the script's ``--replot``.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
#: the documentation site's hand-written pages (generated pages and the gallery excluded)
RST_DOCS = tuple(sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "docs").rglob("*.rst")
                        if not ({"_generated", "gallery", "_gallery_src", "_build"} & set(p.relative_to(ROOT).parts))))
DOCS = ("README.md", "examples/README.md") + RST_DOCS
#: reStructuredText directives whose body is code or a listing, not prose
RST_CODE = re.compile(r"\.\. (code-block|code|sourcecode|literalinclude|math|toctree|auto\w+)::")

#: a number as printed: optional sign, digits with optional thousands commas, decimals, exponent
NUMBER = re.compile(r"(?<![\w.])[-+]?\d+(?:,\d{3})*(?:\.\d+)?(?:e[+-]?\d+)?(?![\w])")
#: what the coverage scan looks at: numbers with a decimal point
DECIMAL = re.compile(r"(?<![\w.])\d+\.\d+(?:e[+-]?\d+)?")
#: how far (characters of the whitespace-normalised text) a "not saved" may be from the number
NEAR = 1200


@dataclass(frozen=True)
class Below:
    """The quoted number is an upper bound (``within 1 %``): the saved value must not exceed it."""

    value: float


@cache
def doc(name: str) -> str:
    """The document with fenced code blocks blanked and whitespace collapsed (lines are wrapped)."""
    text = (ROOT / name).read_text(encoding="utf-8")
    text = re.sub(r"```.*?```", lambda m: " " * len(m.group(0)), text, flags=re.S)
    if name.endswith(".rst"):
        text = _blank_rst_code(text)
    return re.sub(r"\s+", " ", text)


def _blank_rst_code(text: str) -> str:
    """Blank the bodies of literal blocks (a paragraph ending in ``::``) and code directives."""
    out, indent = [], None
    for line in text.split("\n"):
        depth = len(line) - len(line.lstrip())
        if indent is not None and (not line.strip() or depth > indent):
            out.append(" " * len(line))
            continue
        indent = None
        stripped = line.strip()
        if RST_CODE.match(stripped):
            indent, line = depth, " " * len(line)
        elif stripped.endswith("::") and not stripped.startswith(".."):
            indent = depth
        out.append(line)
    return "\n".join(out)


@cache
def saved(name: str) -> dict:
    return json.loads((ROOT / "examples" / name).read_text())


@cache
def bench(name: str) -> dict:
    """A JSON written by a script in ``benchmarks/`` (``readme_numbers.json``, ``throughput.json``)."""
    return json.loads((ROOT / "benchmarks" / name).read_text())


def rn(part: str) -> dict:
    """A part of ``benchmarks/readme_numbers.json`` (``table``, ``api``, ``fallback``)."""
    return bench("readme_numbers.json")[part]["numbers"]


def peer(name, key="rate_cpu", run="dt=0.1"):
    """One peer of a ``make bench`` run (``benchmarks/throughput.json``)."""
    return bench("throughput.json")[run]["peers"][name][key]


def peer_row(name):
    """A throughput table row: rate per CPU s, ratio to neurocl, RSS growth, weights+state (MiB)."""
    return [peer(name), peer(name, "x_neurocl_cpu"), peer(name, "rss_increase_mb"), peer(name, "state_mb")]


def table(spec, learner, key="mean"):
    return rn("table")[spec]["learners"][learner][key]


def _norm(phrase: str) -> str:
    return re.sub(r"\s+", " ", phrase.strip())


def spans(name: str, phrase: str) -> list[tuple[int, int]]:
    text, p = doc(name), _norm(phrase)
    out, start = [], text.find(p)
    while start >= 0:
        out.append((start, start + len(p)))
        start = text.find(p, start + 1)
    return out


def numbers(phrase: str) -> list[str]:
    return NUMBER.findall(_norm(phrase))


def agrees(printed: str, value) -> bool:
    """``value`` rounds to ``printed`` at the precision printed (a Below: does not exceed it)."""
    quoted = float(printed.replace(",", ""))
    if isinstance(value, Below):
        return value.value <= quoted
    mantissa, _, exponent = printed.replace(",", "").lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    half_ulp = 0.5 * 10.0 ** (int(exponent or 0) - decimals)
    return abs(float(value) - quoted) <= half_ulp * (1 + 1e-9) + 1e-15


# ------------------------------------------------------------------ the saved numbers, derived
def b_sweep():
    return saved("b_sweep.json")


def lava():
    return saved("lava_deployment.json")


def lava_row(run, tag, key):
    (row,) = [r for r in lava()["rows"] if r["run"] == run and r["tag"] == tag]
    return row[key]


def curve(name):
    c = lava()["curves"][name]
    t, kl = np.asarray(c["time_s"]), np.asarray(c["kl_nats"]).mean(1)   # mean over replicas
    return t, kl


def lemma():
    return saved("lemma21_profiles.json")


def worst_rel(profile, steps):
    rows = [r for r in lemma()["rows"][str(steps)] if r["profile"] == profile]
    return max(abs(r["measured"] / r["predicted"] - 1) for r in rows if r["predicted"])


def lemma_lava(key):
    return [r[key] for r in lemma()["lava"]]


def ode():
    return saved("two_branch_ode.json")


def ode_relu():
    return saved("two_branch_ode_relu.json")


def ode_err(n, i=0):
    return ode()["sup_error_mean_se"][str(n)][i]


def aob():
    return saved("always_on_bias.json")


def aob_slope(series, which, key="slope"):
    """A fitted log-log slope of always_on_bias.json, recomputed from its saved rows (the
    script's ``add_slopes``; ``exact_tail``: the exact chain's bias on its theory grid, 32-128 ms)."""
    from neurocl.experiments.always_on_bias import loglog_slope

    if which == "exact_tail":
        grid, exact = np.array(aob()["theory_grid_ms"]), np.array(aob()["exact_frozen"])
        return loglog_slope(grid[grid >= 32], exact[grid >= 32])[0]
    rows = aob()[series]
    x = [r["tau_ms"] if series != "eta_vs_eta" else r["eta_per_ms"] for r in rows]
    if which == "engine":
        out = loglog_slope(x, [r["engine"] for r in rows], [r["engine_se"] for r in rows])
    else:
        out = loglog_slope(x, [r["exact" if series == "frozen" else "exact_stationary"] for r in rows])
    return out[1] if key == "se" else out[0]


def aov(rbm, key):
    return saved("always_on_variance.json")["rbms"][rbm][key]


def fpf(grid, key):
    return saved("fixed_point_floor.json")["grids"][grid][key]


LAVA_FLOOR = ("Lava loihi2 (9 bits, shared)", "Lava 9 bits + 2-bit tag", "Lava loihi2_tag (9 bits + 4-bit tag)")


TAG = "Lava fixed_pt, 4-bit tag (loihi2_tag)"
TAG_PHRASE = ("On the emulator `fixed_pt` with `loihi2_tag` follows `floating_pt`: over 3 seeds of 4 replicas the KL at 240 s is "
              "0.98, 0.82 and 0.79 nats (mean 0.86), and its mean over 160-240 s 1.02, 0.91 and 1.00 (mean 0.97); `floating_pt` "
              "(seed 0) 0.91 at 240 s and 0.93 over 160-240 s, `fixed_pt` on `loihi2` 1.79 over 160-240 s.")


def tag_seeds():
    return lava()["curves"][TAG]["seeds"]


def tag_per_seed():
    """KL (nats) of the loihi2_tag on-chip runs per checkpoint and seed (mean of each seed's replicas)."""
    kl = np.asarray(lava()["curves"][TAG]["kl_nats"])
    return kl.reshape(len(kl), len(tag_seeds()), -1).mean(2)


def tag_late():
    """Each seed's mean KL over t >= 160 s."""
    return tag_per_seed()[curve(TAG)[0] >= 160].mean(0)


def fpf_lava(setting, key):
    return saved("fixed_point_floor.json")["lava"]["rows"][setting][key]


def fpf_exact(grid, key):
    return saved("fixed_point_floor.json")["exact_statistic"][grid][key]


def escape():
    return saved("two_branch_escape.json")


def features():
    return saved("two_branch_features.json")


def growth(law, key):
    return features()["growth"][law][key]


def selection(law, key):
    return features()["selection"][law][key]


def noise_w(rho, key):
    (row,) = [r for r in saved("two_branch_noise.json")["fixed_W"] if r["rho"] == rho]
    return row[key]


def noise_t(rho, key):
    (row,) = [r for r in saved("two_branch_noise.json")["overlap_at_t"]["rows"] if r["rho"] == rho]
    return row[key]


def isd():
    return saved("two_branch_isd.json")


def isd_row(b, key):
    (row,) = [r for r in isd()["fixed_W"]["rows"] if r["b"] == b]
    return row[key]


def hw():
    return saved("two_branch_hardware.json")


def k4():
    return saved("two_branch_ode_k4.json")


def isd_conv(tau):
    (row,) = [r for r in isd()["converged"] if r["tau"] == tau]
    return row


def isd_eq(tau):
    (row,) = [r for r in isd()["equal_samples"] if r["tau"] == tau]
    return row


def views():
    return saved("two_branch_views.json")


def views_row(a, key):
    (row,) = [r for r in views()["samples_to_target"]["rows"] if r["views"] == a]
    return row[key]


def mh(key, how):
    return how([a[key] for a in saved("emc2_mh_exactness.json")["anchors"]])


def est():
    return saved("emc2_estimators.json")


def learn(batch, estimator, key="loss_nats"):
    """Final mean of ``key`` in the digits cell ``batch`` of emc2_learning.json."""
    return saved("emc2_learning.json")["datasets"]["digits"]["batches"][str(batch)]["estimators"][estimator]["final"][key]["mean"]


def learn_diff(batch, key, dataset="digits"):
    d = saved("emc2_learning.json")["datasets"][dataset]["batches"][str(batch)]["paired_differences"][key]
    return [d["mean"], d["se"]]


def mnist1d_untrained_probe():
    """The linear probe of the untrained encoder on MNIST-1D (first checkpoint; the same initial encoder in every cell)."""
    return saved("emc2_learning.json")["datasets"]["mnist1d"]["batches"]["4"]["estimators"]["exact"]["probe_acc"][0]


def learn_probes(dataset="digits"):
    cells = saved("emc2_learning.json")["datasets"][dataset]["batches"].values()
    return [e["final"]["probe_acc"]["mean"] for c in cells for e in c["estimators"].values()]


def pl(law, key="final_kl_nats_mean"):
    label = "TwoPhase, alternating" if law == "twophase" else f"ISD, {law}"
    return saved("phase_laws.json")["learners"][label][key]


def pl_largest_pair():
    """(z, Bonferroni p, the two laws) of the most different pair of phase laws' final KL."""
    laws = ("fixed", "exponential", "gamma", "uniform")
    pairs = [(abs(pl(a) - pl(b)) / math.hypot(pl(a, "final_kl_nats_se"), pl(b, "final_kl_nats_se")), a, b)
             for i, a in enumerate(laws) for b in laws[i + 1:]]
    z, a, b = max(pairs)
    return z, min(1.0, len(pairs) * math.erfc(z / math.sqrt(2))), {a, b}


def t3(panel):
    return saved("theorem3_descent.json")[panel]


def heat(key):
    return np.asarray(saved("noise_bias_heatmap.json")[key])


def heat_cells(bias, noise):
    """Test accuracies (%) of the grid cells with bias in ``[bias[0], bias[1]]`` and noise in
    ``[noise[0], noise[1]]`` (fractions of |g|)."""
    b, n = heat("bias_over_grad_norm"), heat("noise_over_grad_norm")
    return heat("test_acc_pct")[np.ix_((b >= bias[0]) & (b <= bias[1]), (n >= noise[0]) & (n <= noise[1]))]


def est_row(estimator, batch, key):
    (row,) = [r for r in est()["rows"] if r["estimator"] == estimator and r["batch"] == batch]
    return row[key]


def b2r():
    return saved("brian2_raster.json")


def b2r_kl(units):
    """KL (nats) per checkpoint and seed of brian2_raster.json, ``units`` spiking or glauber."""
    return np.asarray(b2r()[f"kl_nats_{units}"])


def b2r_final(units):
    """Mean and standard error over seeds of the final KL (nats)."""
    final = b2r_kl(units)[-1]
    return final.mean(), final.std(ddof=1) / np.sqrt(len(final))


def b2r_at(t_s, units):
    """Mean over seeds of the KL (nats) at the checkpoint ``t_s`` (s)."""
    (k,) = np.flatnonzero(np.isclose(np.asarray(b2r()["times_ms"]), 1000.0 * t_s))
    return b2r_kl(units)[k].mean()

# ------------------------------------------------------------------ the table
# (document, phrase, values): one value per number of the phrase, in order (None: not checked,
# an input such as the b of a grid point or a count)
R, E = "README.md", "examples/README.md"
TRACED = [
    # closed forms
    (R, "ln(512/14) = 3.60 nats on `bas3` and ln(65536/30) = 7.69",
     lambda: [None, None, math.log(512 / 14), None, None, math.log(65536 / 30)]),
    (R, "barely left the uniform model (ln(512/14) = 3.60 nats)", lambda: [None, None, math.log(512 / 14)]),
    ("docs/getting_started.rst", "ln(512/14) = 3.60 nats", lambda: [None, None, math.log(512 / 14)]),
    (E, "bas3 ISD 0.22 +- 0.02 vs TwoPhase 0.25 +- 0.003 nats;",
     lambda: [table("bas3", "isd"), table("bas3", "isd", "se"), table("bas3", "twophase"),
              table("bas3", "twophase", "se")]),
    # the README's results table (benchmarks/readme_numbers.py --part table)
    (R, "| KL 0.217 +- 0.022 nats | KL 0.252 +- 0.003 nats |",
     lambda: [table("bas3", "isd"), table("bas3", "isd", "se"), table("bas3", "twophase"), table("bas3", "twophase", "se")]),
    (R, "| KL 0.79 +- 0.14 nats | KL 0.72 +- 0.02 nats |",
     lambda: [table("bas4", "isd"), table("bas4", "isd", "se"), table("bas4", "twophase"), table("bas4", "twophase", "se")]),
    (R, "| 95.6 % test accuracy | 97.8 % test accuracy |",
     lambda: [table("digits", "isd"), table("digits", "twophase")]),
    (R, "The `bas4` run took 267 s of CPU time and the `digits` run 167 s",
     lambda: [rn("table")["bas4"]["cpu_s"], rn("table")["digits"]["cpu_s"]]),
    (E, "bas4 ISD 0.79 +- 0.14 vs TwoPhase 0.72 +- 0.02 nats",
     lambda: [table("bas4", "isd"), table("bas4", "isd", "se"), table("bas4", "twophase"), table("bas4", "twophase", "se")]),
    # benchmarks/emc2_estimator_speed.json (CPU ms per step at batch 16)
    (R, "in-batch 0.61 ms, SogCLR 0.60 ms, EMC^2 0.78 ms (1.28 times in-batch), ISD 0.78 ms, exact 14.06 ms",
     lambda: [bench("emc2_estimator_speed.json")["ms_per_step_cpu"][k] for k in ("in_batch", "sogclr")] + [None]
     + [bench("emc2_estimator_speed.json")["ms_per_step_cpu"]["emc2"], bench("emc2_estimator_speed.json")["emc2_over_in_batch_cpu"]]
     + [bench("emc2_estimator_speed.json")["ms_per_step_cpu"][k] for k in ("isd", "exact")]),
    # make bench (benchmarks/throughput.json)
    (R, "(load average 12-26 on 2 cores)",
     lambda: [min(bench("throughput.json")["dt=0.1"]["loadavg_before"] + bench("throughput.json")["dt=0.1"]["loadavg_after"]),
              max(bench("throughput.json")["dt=0.1"]["loadavg_before"] + bench("throughput.json")["dt=0.1"]["loadavg_after"]),
              2]),
    (R, "| neurocl (event-driven kernel, 1 replica) | 4.7e9 | 1.00 | 3.8 / 1.5 MiB |", lambda: [1] + peer_row("neurocl")),
    (R, "| neurocl, 16 replicas (aggregate) | 4.5e9 | 0.95 | 43.0 / 24.1 MiB |", lambda: [16] + peer_row("neurocl16")),
    (R, "| 8.4e8 | 0.18 | 0.5 / 1.5 MiB |", lambda: peer_row("numpy")),
    (R, "| 1.5e8 | 0.03 | 0.5 / 1.5 MiB |", lambda: peer_row("brian2")),
    (R, "| 6.4e7 | 0.01 | 0.1 / 3.0 MiB |", lambda: peer_row("lava")),
    (R, "At dt = 1 ms (more units flip per step) neurocl gets 2.1e9 per CPU s",
     lambda: [1, peer("neurocl", run="dt=1 peers=neurocl")]),
    (R, "numpy 8.4e8-8.8e8, neurocl 4.0e9-4.9e9 per CPU s",
     lambda: [peer(n, k, run="dt=0.1 peers=numpy,neurocl") for n in ("numpy", "neurocl")
              for k in ("rate_cpu_min", "rate_cpu_max")]),
    # the CPU cost of the reference path (benchmarks/readme_numbers.py --part fallback)
    (R, "on bas3 (ISD, 5 replicas, 200 s simulated) it costs 26-35 times the CPU time",
     lambda: [len(rn("table")["bas3"]["learners"]["isd"]["replicas"]) if rn("fallback")["replicas"] == 5 else None,
              rn("fallback")["duration_ms"] / 1e3, rn("fallback")["cpu_ratio_min"], rn("fallback")["cpu_ratio_max"]]
     if all(r["fallback_warning"] for p, r in rn("fallback")["profiles"].items() if p != "ideal") else [None]),
    # the Python API example (benchmarks/readme_numbers.py --part api) and the bas3 row it points to
    (R, "It prints `KL after 2000 s simulated: 3.22 +- 0.02 nats` (mean +- standard error over 5 replicas; 8 s of CPU",
     lambda: [rn("api")["time_s"], rn("api")["kl_nats"]["mean"], rn("api")["kl_nats"]["se"],
              len(rn("api")["kl_nats"]["replicas"]), rn("api")["cpu_s"]]),
    (R, "reaches 0.217 +- 0.022 nats (the table above)", lambda: [table("bas3", "isd"), table("bas3", "isd", "se")]),
    ("docs/getting_started.rst", "This short run ends at 3.22 +- 0.02 nats (mean +- standard error over 5 replicas",
     lambda: [rn("api")["kl_nats"]["mean"], rn("api")["kl_nats"]["se"], len(rn("api")["kl_nats"]["replicas"])]),
    ("docs/getting_started.rst", "full 16,000 s reaches 0.217 +- 0.022 nats",
     lambda: [rn("table")["bas3"]["duration_ms"] / 1e3, table("bas3", "isd"), table("bas3", "isd", "se")]),
    # check-theory --engine lava: the last panel of lemma21_profiles
    (R, "bias |E e| 0.60, 0.47, 0.63 against 0.53, 0.56, 0.50 expected from sampling alone",
     lambda: lemma_lava("bias_lava") + lemma_lava("bias_floor")),
    (R, "noise 36.5, 38.6, 33.1 (Lava) vs 38.3, 42.3, 35.1 (profile)",
     lambda: lemma_lava("noise_lava") + lemma_lava("noise_profile")),
    (R, "0.0179 +- 0.0046 measured vs 0.0181 nats predicted",
     lambda: [lemma_lava("measured2")[-1], lemma_lava("se2")[-1], lemma_lava("predicted2_profile")[-1]]),
    # deployment on the emulator
    (R, "bas3 ISD 0.266 nats (`fixed_pt`) and 0.272 (`floating_pt`) vs the float model's 0.266 nats",
     lambda: [lava_row("bas3", "fixed_pt", "emulator"), lava_row("bas3", "floating_pt", "emulator"),
              lava_row("bas3", "fixed_pt", "float")]),
    (R, "digits ISD 96.1 % (`fixed_pt`) vs 95.6 %",
     lambda: [lava_row("digits", "fixed_pt", "emulator"), lava_row("digits", "fixed_pt", "float")]),
    (E, "bas3 sample KL 0.272 (float) / 0.266 (fixed) vs the float model's exact 0.266 nats",
     lambda: [lava_row("bas3", "floating_pt", "emulator"), lava_row("bas3", "fixed_pt", "emulator"),
              lava_row("bas3", "fixed_pt", "float")]),
    (E, "digits test accuracy 95.6 % (float) / 96.1 % (fixed) vs 95.6 %",
     lambda: [lava_row("digits", "floating_pt", "emulator"), lava_row("digits", "fixed_pt", "emulator"),
              lava_row("digits", "fixed_pt", "float")]),
    # on-chip learning curves (mean over replicas)
    (R, "3.65 nats to 0.91 at 240 s (best 0.80) in `floating_pt`, matching the numpy engine on the same "
        "settings (1.05, best 0.96), and to a best of 1.29 nats in `fixed_pt`",
     lambda: [curve("Lava floating_pt")[1][0], curve("Lava floating_pt")[1][-1], curve("Lava floating_pt")[0][-1],
              curve("Lava floating_pt")[1].min(), curve("numpy engine")[1][-1], curve("numpy engine")[1].min(),
              curve("Lava fixed_pt")[1].min()]),
    (R, "fluctuates (2.08 at 240 s)", lambda: [curve("Lava fixed_pt")[1][-1], curve("Lava fixed_pt")[0][-1]]),
    (R, "measures falls from 40.96 to 0.078 (gradient units^2; the\nprofile predicts 0.079)",
     lambda: [fpf_lava("Lava loihi2 (9 bits, shared)", "noise_lava"), fpf_lava("Lava loihi2_tag (9 bits + 4-bit tag)", "noise_lava"),
              None, fpf_lava("Lava loihi2_tag (9 bits + 4-bit tag)", "noise_profile")]),
    (R, "`loihi2_tag` reaches 1.065 nats at 240 s\n(3 seeds of 4 replicas;",
     lambda: [curve("numpy engine, loihi2_tag")[1][-1], curve("numpy engine, loihi2_tag")[0][-1],
              len(lava()["curves"]["numpy engine, loihi2_tag"]["seeds"]), 4]),
    (E, "KL 3.65 -> 0.91 nats (best 0.80; numpy 1.05, best 0.96)",
     lambda: [curve("Lava floating_pt")[1][0], curve("Lava floating_pt")[1][-1], curve("Lava floating_pt")[1].min(),
              curve("numpy engine")[1][-1], curve("numpy engine")[1].min()]),
    (E, "dotted, the numpy engine with that profile (3 seeds):\n1.065 nats at 240 s.",
     lambda: [len(lava()["curves"]["numpy engine, loihi2_tag"]["seeds"]), curve("numpy engine, loihi2_tag")[1][-1],
              curve("numpy engine, loihi2_tag")[0][-1]]),
    (E, "50\nsweeps) is 40.96 gradient units^2 with 9-bit weights, 9.71 with a 2-bit and 0.078 with the 4-bit\n"
        "tag of `loihi2_tag` (profiles: 40.59, 9.03, 0.079), predicting an excess of 0.50, 0.12 and 0.001\n"
        "nats; the measured plateau excess (mean KL over 150-240 s minus `floating_pt`'s, item 8) is 0.86\n"
        "+- 0.18 nats without the tag (one seed), 0.14 +- 0.06 with the 2-bit tag (one seed) and 0.04 +-\n"
        "0.06 with the 4-bit tag (3 seeds)",
     lambda: [50, fpf_lava(LAVA_FLOOR[0], "noise_lava"), 2, 9, fpf_lava(LAVA_FLOOR[1], "noise_lava"), 2,
              fpf_lava(LAVA_FLOOR[2], "noise_lava"), 4]
     + [fpf_lava(g, "noise_profile") for g in LAVA_FLOOR] + [fpf_lava(g, "predicted_excess_nats") for g in LAVA_FLOOR]
     + [150, 240, 8, fpf_lava(LAVA_FLOOR[0], "measured_excess_nats"), fpf_lava(LAVA_FLOOR[0], "measured_excess_se"),
        fpf_lava(LAVA_FLOOR[1], "measured_excess_nats"), fpf_lava(LAVA_FLOOR[1], "measured_excess_se"), 2,
        fpf_lava(LAVA_FLOOR[2], "measured_excess_nats"), fpf_lava(LAVA_FLOOR[2], "measured_excess_se"), 4,
        len(tag_seeds())]),
    (R, TAG_PHRASE,
     lambda: [len(tag_seeds()), 4, curve(TAG)[0][-1], *tag_per_seed()[-1], tag_per_seed()[-1].mean(), 160, 240,
              *tag_late(), tag_late().mean(), 0, curve("Lava floating_pt")[1][-1], curve("Lava floating_pt")[0][-1],
              curve("Lava floating_pt")[1][curve("Lava floating_pt")[0] >= 160].mean(), 160, 240,
              curve("Lava fixed_pt")[1][curve("Lava fixed_pt")[0] >= 160].mean(), 160, 240]),
    (E, TAG_PHRASE,
     lambda: [len(tag_seeds()), 4, curve(TAG)[0][-1], *tag_per_seed()[-1], tag_per_seed()[-1].mean(), 160, 240,
              *tag_late(), tag_late().mean(), 0, curve("Lava floating_pt")[1][-1], curve("Lava floating_pt")[0][-1],
              curve("Lava floating_pt")[1][curve("Lava floating_pt")[0] >= 160].mean(), 160, 240,
              curve("Lava fixed_pt")[1][curve("Lava fixed_pt")[0] >= 160].mean(), 160, 240]),
    (E, "reaches 1.29 nats at 160 s",
     lambda: [curve("Lava fixed_pt")[1].min(), curve("Lava fixed_pt")[0][curve("Lava fixed_pt")[1].argmin()]]),
    (E, "fluctuates between 1.3 and 2.2 (mean over replicas)",
     lambda: [curve("Lava fixed_pt")[1][curve("Lava fixed_pt")[1].argmin():].min(),
              curve("Lava fixed_pt")[1][curve("Lava fixed_pt")[1].argmin():].max()]),
    # b sweep
    (E, "final KL is lowest at b = 0.2 (0.47 +- 0.02 nats; 0.58 at b = 0.5, 0.77 at b = 0.9)",
     lambda: [b_sweep()["b"][int(np.argmin(b_sweep()["final_kl_nats_mean"]))],
              b_sweep()["final_kl_nats_mean"][1], b_sweep()["final_kl_nats_se"][1],
              b_sweep()["final_kl_nats_mean"][3], b_sweep()["b"][3],
              b_sweep()["final_kl_nats_mean"][5], b_sweep()["b"][5]]),
    (E, "b* from the moments is 0.50 (M+ = 41.6, M- = 40.8)",
     lambda: [b_sweep()["b_star"], b_sweep()["m_pos"], b_sweep()["m_neg"]]),
    # Lemma 2.1 per profile
    (E, "Small updates agree (ecram, rram_hfo2 within 1 %)",
     lambda: [Below(100 * max(worst_rel("ecram", 50), worst_rel("rram_hfo2", 50)))]),
    (E, "(up to 72 % off for ecram, 77 % for rram_hfo2, 36 % for loihi2)",
     lambda: [100 * worst_rel("ecram", 20000), 100 * worst_rel("rram_hfo2", 20000), 100 * worst_rel("loihi2", 20000)]),
    (E, "(0.020, 0.024, 0.018 nats, s.e. 0.005-0.006) against the profile's prediction (0.018, 0.030, 0.018)",
     lambda: lemma_lava("measured2") + [min(lemma_lava("se2")), max(lemma_lava("se2"))]
     + lemma_lava("predicted2_profile")),
    (E, "the update noise Tr Cov agrees within 10 % (36.5 vs 38.3, 38.6 vs 42.3, 33.1 vs 35.1",
     lambda: [Below(100 * max(abs(a / b - 1) for a, b in zip(lemma_lava("noise_lava"), lemma_lava("noise_profile"))))]
     + [v for pair in zip(lemma_lava("noise_lava"), lemma_lava("noise_profile")) for v in pair]),
    (E, "at three states, 8 replicas x 32 updates each",
     lambda: [lemma_lava("replicas")[0] // lemma()["windows"], lemma()["windows"]]),
    # two-branch ODE (two_branch_ode.json, two_branch_ode_relu.json)
    (E, "(ODE: `M_ii` 0.3 -> 0.71)", lambda: [ode()["M0"][0][0], ode()["ode_M_end"][0][0]]),
    (E, "0.204 +- 0.016 (N = 250), 0.112, 0.089, 0.057, 0.043, 0.035 +- 0.003 (N = 8000); fitted log-log slope -0.50",
     lambda: [ode_err(250), ode_err(250, 1), 250, ode_err(500), ode_err(1000), ode_err(2000), ode_err(4000),
              ode_err(8000), ode_err(8000, 1), 8000, ode()["slope"]]),
    (E, "(each run against the seed mean: 0.032 at N = 8000)",
     lambda: [ode()["sup_fluctuation_mean_se"]["8000"][0], 8000]),
    (E, "the mean of the 10 runs is 0.045 (N = 250) to 0.012 (N = 8000) from the ODE (slope -0.44)",
     lambda: [ode()["seeds"], ode()["sup_error_of_seed_mean"]["250"], 250, ode()["sup_error_of_seed_mean"]["8000"],
              8000, ode()["slope_seed_mean"]]),
    (E, "two independent scramblings differ by 9e-4 in sup norm and halving the RK4 step changes the solution by less "
        "than 1e-9", lambda: [ode()["ode_quadrature_error"], Below(ode()["ode_step_error"])]),
    (E, "cosine 0.3 -> 0.60): one run's error 0.040 +- 0.006 (N = 250) to 0.0090 +- 0.0010 (N = 8000), slope -0.43, "
        "at a weight scale `sqrt(Q_ii)` of 0.22 at `t = 6`",
     lambda: [ode_relu()["M0"][0][0] / math.sqrt(ode_relu()["Q0"][0][0]),
              ode_relu()["ode_M_end"][0][0] / math.sqrt(ode_relu()["ode_Q_end"][0][0]),
              *ode_relu()["sup_error_mean_se"]["250"], 250, *ode_relu()["sup_error_mean_se"]["8000"], 8000,
              ode_relu()["slope"], math.sqrt(ode_relu()["ode_Q_end"][0][0]), ode_relu()["t_end"]]),
    # always-on variance and bias (always_on_variance.json)
    (E, "for A, `b_opt` = 0.566 (closed form), 0.566 (exact chain), 0.575 +- 0.008 (fit to the engine's variances) "
        "against the single-sample `b*` = 0.499; for B 0.606, 0.606, 0.612 +- 0.009 against `b*` = 0.534",
     lambda: [aov("A", "b_opt_renewal"), aov("A", "b_opt_exact"), aov("A", "b_opt_engine_fit"),
              aov("A", "b_opt_engine_fit_se"), aov("A", "b_star_single_sample"),
              aov("B", "b_opt_renewal"), aov("B", "b_opt_exact"), aov("B", "b_opt_engine_fit"),
              aov("B", "b_opt_engine_fit_se"), aov("B", "b_star_single_sample")]),
    (E, "costs little: 1.9 % (A) and 2.2 % (B) more variance",
     lambda: [100 * aov("A", "relative_excess_variance_at_b_star"), 100 * aov("B", "relative_excess_variance_at_b_star")]),
    (E, "has log-log slope -0.99 against the mean phase length (both RBMs, 50-400 ms)",
     lambda: [saved("always_on_variance.json")["bias"]["A"]["loglog_slope_50_400ms"], None, None]),
    (E, "has log-log slope -0.99", lambda: [saved("always_on_variance.json")["bias"]["B"]["loglog_slope_50_400ms"]]),
    (E, "(A at 2 ms: 0.137 +- 0.002 against 0.138 exact)",
     lambda: [saved("always_on_variance.json")["bias"]["A"]["engine"][0]["tau_ms"],
              saved("always_on_variance.json")["bias"]["A"]["engine"][0]["projected_relative_bias"],
              saved("always_on_variance.json")["bias"]["A"]["engine"][0]["se"],
              saved("always_on_variance.json")["bias"]["A"]["engine"][0]["exact"]]),
    # always-on bias against tau and eta (always_on_bias.json)
    (E, "with the weights held still the bias falls from 0.0982 +- 0.0055 (engine; exact chain 0.0981) at tau = 4 ms "
        "to 0.0095 +- 0.0015 (exact 0.0082) at tau = 64 ms, fitted log-log slope -0.86 +- 0.05 (the exact chain's "
        "-0.90 at the same points, -0.975 at 32-128 ms",
     lambda: [aob()["frozen"][0]["engine"], aob()["frozen"][0]["engine_se"], aob()["frozen"][0]["exact"],
              aob()["frozen"][0]["tau_ms"], aob()["frozen"][-1]["engine"], aob()["frozen"][-1]["engine_se"],
              aob()["frozen"][-1]["exact"], aob()["frozen"][-1]["tau_ms"], aob_slope("frozen", "engine"),
              aob_slope("frozen", "engine", "se"), aob_slope("frozen", "exact"), aob_slope("frozen", "exact_tail"),
              32, 128]),
    (E, "grows with tau at eta = 1e-4 /ms with slope 1.07 +- 0.03 (exact 1.05; 0.0272 +- 0.0007 at tau = 64 ms, "
        "exact 0.0270) and with eta at tau = 16 ms with slope 0.98 +- 0.02 (exact first order 1.00)",
     lambda: [aob()["eta_left_per_ms"], aob_slope("eta_vs_tau", "engine"), aob_slope("eta_vs_tau", "engine", "se"),
              aob_slope("eta_vs_tau", "exact"), aob()["eta_vs_tau"][-1]["engine"],
              aob()["eta_vs_tau"][-1]["engine_se"], aob()["eta_vs_tau"][-1]["tau_ms"],
              aob()["eta_vs_tau"][-1]["exact_window"], aob()["tau_right_ms"], aob_slope("eta_vs_eta", "engine"),
              aob_slope("eta_vs_eta", "engine", "se"), aob_slope("eta_vs_eta", "exact")]),
    (E, "At eta = 1e-3 /ms the engine (0.0564 +- 0.0017) lies below the first-order value (0.0635)",
     lambda: [aob()["eta_vs_eta"][-1]["eta_per_ms"], aob()["eta_vs_eta"][-1]["engine"],
              aob()["eta_vs_eta"][-1]["engine_se"], aob()["eta_vs_eta"][-1]["exact_window"]]),
    (E, "The leading-order learning-rate term (B2) is within 2.1 % of the exact first order at tau = 16 ms",
     lambda: [100 * aob()["eta_vs_eta"][0]["leading_order_rel_error"], aob()["tau_right_ms"]]),
    # fixed-point floor (fixed_point_floor.json)
    (E, "one coincidence asks for 0.064 of a `loihi2` grid step", lambda: [fpf("loihi2 (9 bits, shared)", "f_pos")]),
    (E, "float 1.03 nats; `loihi2` (9 bits, one shared rounding draw) 1.89 nats, excess 0.86 +- 0.12 vs 0.36 / 0.41; "
        "8 bits 1.44 +- 0.40 vs 0.67 / 0.86; 10 bits 0.49 +- 0.10 vs 0.19 / 0.19; 9 bits with independent rounding "
        "0.23 +- 0.07 vs 0.43 / 0.27",
     lambda: [saved("fixed_point_floor.json")["float"]["window_kl_nats"], None, fpf("loihi2 (9 bits, shared)", "window_kl_nats")]
     + [fpf(g, k) for g in ("loihi2 (9 bits, shared)",) for k in ("measured_excess_nats", "measured_excess_se",
                                                                  "predicted_excess_nats", "predicted_excess_ou_nats")]
     + [v for g, bits in (("8 bits, shared", 8), ("10 bits, shared", 10), ("9 bits, independent", 9))
        for v in [bits] + [fpf(g, k) for k in ("measured_excess_nats", "measured_excess_se",
                                               "predicted_excess_nats", "predicted_excess_ou_nats")]]),
    (E, "a 3-bit synaptic tag (profile field `accumulator_bits = 3`) 0.21 +- 0.05 vs 0.03 / 0.03, and with independent "
        "rounding -0.02 +- 0.03 (1.01 nats: the float result); deterministic rounding freezes the weights at 3.61 nats",
     lambda: [fpf("9 bits + 3-bit tag", "accumulator_bits"), fpf("9 bits + 3-bit tag", "accumulator_bits")]
     + [fpf("9 bits + 3-bit tag", k) for k in ("measured_excess_nats", "measured_excess_se", "predicted_excess_nats",
                                               "predicted_excess_ou_nats")]
     + [fpf("9 bits + 3-bit tag, independent", k) for k in ("measured_excess_nats", "measured_excess_se", "window_kl_nats")]
     + [fpf("9 bits, deterministic", "window_kl_nats") if fpf("9 bits, deterministic", "frozen") else None]),
    (E, "shared 9 bits 0.34 +- 0.09 vs 0.28, independent 0.050 +- 0.002 vs 0.050",
     lambda: [None] + [fpf_exact("loihi2 (9 bits, shared)", k) for k in ("late_measured", "late_se", "late_predicted")]
     + [fpf_exact("9 bits, independent", k) for k in ("late_measured", "late_se", "late_predicted")]),
    # two-branch: escape time (two_branch_escape.json)
    (E, "rate lambda = 0.565 per unit `t` (two independent Monte Carlo sets: 0.562, 0.567)",
     lambda: [escape()["growth_rate"]] + escape()["growth_rate_mc_sets"]),
    (E, "predicted slope `1/(2 lambda)` of `t_esc` against ln N is 0.89; fitted slope 0.85 +- 0.11",
     lambda: [None, None, escape()["predicted_slope"], escape()["fitted_slope"], escape()["fitted_slope_se"]]),
    # two-branch: feature laws (two_branch_features.json)
    (E, "the variance only, 0.562 per unit `t`", lambda: [growth("gaussian", "ode_rate")]),
    (E, "gaussian 0.566 +- 0.056, rademacher 0.632 +- 0.048, uniform 0.631 +- 0.039, sparse 0.568 +- 0.050, all within "
        "3 s.e. of the ODE (largest deviation 2.0 s.e., uniform)",
     lambda: [growth(law, k) for law in ("gaussian", "rademacher", "uniform", "sparse") for k in ("sim_rate", "sim_se")]
     + [3 if features()["growth_all_within_3se_of_ode"] else None,
        max(abs(growth(law, "z")) for law in ("gaussian", "rademacher", "uniform", "sparse"))]),
    (E, "`mu_c` = 8.00 (ODE) and 7.98", lambda: [features()["threshold"]["mu_c_ode"], features()["threshold"]["mu_c_sim"]]),
    (E, "P(`X`) = 0.64 +- 0.06 vs 0.70 for rademacher, 0.625 +- 0.061 vs 0.641 for uniform, 0.000 +- 0.016 vs 0.016 for "
        "sparse, and 0.44 +- 0.06 vs 0.48",
     lambda: [selection(law, k) for law in ("rademacher", "uniform", "sparse", "gaussian") for k in ("p_sim", "p_se", "p_ode")]),
    # two-branch: view-noise correlation (two_branch_noise.json)
    (E, "falls from 1.067 +- 0.012 at rho = -1 to 0.276 +- 0.005 at rho = 1, against the derived large-`N` limit 1.085 "
        "and 0.281",
     lambda: [noise_w(-1.0, "grad2_mc"), noise_w(-1.0, "grad2_se"), -1, noise_w(1.0, "grad2_mc"), noise_w(1.0, "grad2_se"),
              1, noise_w(-1.0, "grad2_theory"), noise_w(1.0, "grad2_theory")]),
    (E, "0.506 +- 0.016 at rho = -1, 0.418 +- 0.015 at rho = 0, 0.279 +- 0.011 at rho = 1 (ODE 0.458, 0.418, 0.277)",
     lambda: [noise_t(-1.0, "sim"), noise_t(-1.0, "sim_se"), -1, noise_t(0.0, "sim"), noise_t(0.0, "sim_se"), 0,
              noise_t(1.0, "sim"), noise_t(1.0, "sim_se"), 1, noise_t(-1.0, "ode"), noise_t(0.0, "ode"), noise_t(1.0, "ode")]),
    (E, "At rho = -0.5 the simulation (0.473 +- 0.022) lies above the ODE (0.412)",
     lambda: [-0.5, noise_t(-0.5, "sim"), noise_t(-0.5, "sim_se"), noise_t(-0.5, "ode")]),
    (E, "e.g. 2.08e-4 vs 2.11e-4 +- 1.8e-5 at rho = -1 and 8.5e-6 vs 7.8e-6 +- 2.4e-6 at rho = 1",
     lambda: [noise_w(-1.0, "lemma21_iso"), noise_w(-1.0, "measured"), noise_w(-1.0, "measured_se"), -1,
              noise_w(1.0, "lemma21_iso"), noise_w(1.0, "measured"), noise_w(1.0, "measured_se"), 1]),
    (E, "has a larger error: 0.360 +- 0.030 (N = 250) to 0.060 +- 0.014 (N =\n8000), slope -0.54, above 0.05 at N = 8000. "
        "Again it is one run's own fluctuation (0.063 at N =\n8000; the mean of the 10 runs is 0.016 from the ODE; quadrature "
        "error 1.3e-3)",
     lambda: [*k4()["sup_error_mean_se"]["250"], 250, *k4()["sup_error_mean_se"]["8000"], 8000, k4()["slope"],
              0.05 if k4()["sup_error_mean_se"]["8000"][0] > 0.05 else None, 8000, k4()["sup_fluctuation_mean_se"]["8000"][0],
              8000, k4()["seeds"], k4()["sup_error_of_seed_mean"]["8000"], k4()["ode_quadrature_error"]]),
    (E, "The prediction, made from the first half of 800 samples x 10 device\ndraws and checked on the second half, holds "
        "within one standard error in all four cases (extra\nloss per step, dimensionless): at the fixed `W` -2.59e-4 "
        "predicted vs -2.61e-4 +- 7.2e-6\nmeasured on `rram_hfo2` and 1.92e-5 vs 1.84e-5 +- 2.0e-6 on `loihi2`; at each "
        "profile's own\nrun 3.06e-5 vs 2.92e-5 +- 1.7e-6 and 2.13e-5 vs 1.93e-5 +- 3.3e-6",
     lambda: [hw()["config"]["n_step"], hw()["config"]["draws"]]
     + [v for sec, p in (("lemma21", "rram_hfo2"), ("lemma21", "loihi2"), ("lemma21_own_run", "rram_hfo2"),
                         ("lemma21_own_run", "loihi2"))
        for v in (hw()[sec][p]["predicted_first_half"], hw()[sec][p]["measured_second_half"],
                  hw()[sec][p]["measured_second_half_se"])]
     if all(abs(hw()[sec][p]["predicted_first_half"] - hw()[sec][p]["measured_second_half"])
            <= hw()[sec][p]["measured_second_half_se"] for sec in ("lemma21", "lemma21_own_run")
            for p in ("rram_hfo2", "loihi2")) else [None]),
    (E, "(cosine -0.45)\nand its run stalls at a feature overlap `max |M_ij|` of 0.10, against 0.58 ideal and 0.53 on\n`loihi2` "
        "at `t = 5` (3 runs each)",
     lambda: [hw()["lemma21"]["rram_hfo2"]["cos_bias_grad"]]
     + [float(np.mean(hw()["trajectories"][p]["M_max_final"])) for p in ("rram_hfo2", "ideal", "loihi2")]
     + [hw()["config"]["t_end"], hw()["config"]["seeds"]]),
    # two-branch: always-on (two_branch_isd.json)
    (E, "e.g. 1.77 +- 0.03 measured vs 1.76 predicted at b = 0.5, against 0.381 for online SGD",
     lambda: [isd_row(0.5, "measured"), isd_row(0.5, "se"), isd_row(0.5, "predicted"), 0.5, isd()["fixed_W"]["sgd_var"]]),
    (E, "(`M+` = 0.725, `M-` = 0.154) is 0.684; the measured variance is smallest at 0.65 on the grid and at 0.682",
     lambda: [isd()["fixed_W"][k] for k in ("M_plus", "M_minus", "b_star", "b_grid_argmin", "b_fit_argmin")]),
    (E, "ISD (b = 0.5) reaches a lower feature cosine than online SGD: 0.225 (seed s.d. 0.039) vs 0.559 (0.056) at "
        "learning rate tau = 1; the gap shrinks with tau, 0.33, 0.28, 0.17, 0.11 at tau = 1, 0.5, 0.25, 0.125",
     lambda: [isd()["config"]["b_run"], isd_eq(1.0)["isd"]["mean"], isd_eq(1.0)["isd"]["sd"], isd_eq(1.0)["sgd"]["mean"],
              isd_eq(1.0)["sgd"]["sd"], 1] + [r["gap"] for r in isd()["equal_samples"]]
     + [r["tau"] for r in isd()["equal_samples"]]),
    (E, "the larger singular value of `M` agrees within the seed spread at every tau (0.739 vs 0.747 at tau = 0.5, "
        "0.751 vs 0.749 at tau = 0.0625)",
     lambda: [isd_conv(0.5)["isd"]["sv"][0], isd_conv(0.5)["sgd"]["sv"][0], 0.5, isd_conv(0.0625)["isd"]["sv"][0],
              isd_conv(0.0625)["sgd"]["sv"][0], 0.0625]
     if all(r["sv_gap"][0] <= r["sv_spread"][0] for r in isd()["converged"]) else [None]),
    (E, "`tr(Q - M M^T)` 0.209 vs 0.033 at tau = 0.0625 (ratio 6.35; the ODE with `b`: 6.25), and lowers the "
        "smaller singular value by 0.167, 0.068, 0.037, 0.021 at tau = 0.5, 0.25, 0.125, 0.0625 (ODE: 0.240, 0.076, "
        "0.031, 0.008)",
     lambda: [isd_conv(0.0625)["isd"]["bulk"], isd_conv(0.0625)["sgd"]["bulk"], 0.0625, isd_conv(0.0625)["bulk_ratio"],
              isd_conv(0.0625)["ode_bulk_ratio"]] + [r["sv_gap"][1] for r in isd()["converged"]]
     + [r["tau"] for r in isd()["converged"]] + [r["ode_sv_gap"][1] for r in isd()["converged"]]),
    (E, "but stays 2.5 to 3.1 seed spreads",
     lambda: [min(r["sv_gap"][1] / r["sv_spread"][1] for r in isd()["converged"]),
              max(r["sv_gap"][1] / r["sv_spread"][1] for r in isd()["converged"])]),
    # phase-length laws (phase_laws.json)
    (E, "fixed 0.28 +- 0.05, exponential 0.40 +- 0.04, gamma 0.28 +- 0.03, uniform 0.32 +- 0.02 nats (TwoPhase "
        "0.26 +- 0.01)",
     lambda: [v for law in ("fixed", "exponential", "gamma", "uniform", "twophase")
              for v in (pl(law), pl(law, "final_kl_nats_se"))]),
    (E, "(exponential against gamma, 2.2 standard errors) is not significant among the 6 pairwise comparisons "
        "(Bonferroni p = 0.19)",
     lambda: [pl_largest_pair()[0], 6, pl_largest_pair()[1]]
     if pl_largest_pair()[2] == {"exponential", "gamma"} and pl_largest_pair()[1] > 0.05 else [None]),
    # Theorems 3.1 and 3.2 (theorem3_descent.json): the bounds, and the claims they are checked for
    (E, "a relative bias below 0.93 always descends",
     lambda: [t3("bias")["limit_relative_bias"]] if t3("bias")["min_p_below_limit"] == 1.0 else [None, None]),
    (E, "descent is certain while the largest eigenvalue is below `(2/eta)/(1+INR^2)` (200 and 100)",
     lambda: [None, None, None] + [t3("noise")[k]["bound_largest_eigenvalue"] for k in ("inr_0", "inr_1")]
     if all(t3("noise")[k][c] for k in ("inr_0", "inr_1")
            for c in ("certain_below_bound", "impossible_when_smallest_above_bound")) else [None]),
    # the variance/bias heatmap (noise_bias_heatmap.json)
    (E, "clean gradient 96.5 % train, 95.1 % test; the test accuracy stays within 0.2 points of that for noise up to "
        "3 |g| and bias up to 0.1 |g| (best 95.2 % at noise 0.1 |g|), drops to 90.2-91.0 % at bias |g| with noise up "
        "to |g|, and to 64.1-64.6 % at noise 10 |g|",
     lambda: [heat("clean_train_acc_pct"), heat("clean_test_acc_pct"),
              Below(np.abs(heat_cells((0, 0.1), (0, 3)) - heat("clean_test_acc_pct")).max()), 3, 0.1,
              heat("best_test_acc_pct"), heat("best_noise") if heat("best_bias") == 0 else None,
              heat_cells((1, 1), (0, 1)).min(), heat_cells((1, 1), (0, 1)).max(),
              heat_cells((0, 1), (10, 10)).min(), heat_cells((0, 1), (10, 10)).max(), 10]),
    # no number, but a claim about the saved flags: fails (count mismatch) if they change
    (E, "only at the smallest is it within the seed spread",
     lambda: [] if [r["within_spread"] for r in isd()["equal_samples"]] == [False, False, False, True] else [None]),
    (E, "(0.176 ISD, 0.429 SGD at tau = 1)", lambda: [isd_eq(1.0)["isd"]["ode"], isd_eq(1.0)["sgd"]["ode"], 1]),
    # two-branch: more views (two_branch_views.json)
    (E, "of 0.35: 1795 +- 139 simulated vs 2891 (ODE) with 2 views, 993 +- 64 vs 1145 with 4, 898 +- 39 vs 983 with 8",
     lambda: [views()["config"]["target"]]
     + [v for a in (2, 4, 8) for v in [views_row(a, "samples_sim"), views_row(a, "samples_sim_se"),
                                       views_row(a, "samples_ode"), a]]),
    (E, "4 views on 500 stored inputs reach a final cosine of 0.354 +- 0.017 and 2 views on 1000 reach 0.379 +- 0.017 in "
        "the same number of steps (gap -0.025 +- 0.024",
     lambda: [4, views()["finite_training_set"]["A4"]["train_size"], views()["finite_training_set"]["A4"]["mean"],
              views()["finite_training_set"]["A4"]["se"], 2, views()["finite_training_set"]["A2"]["train_size"],
              views()["finite_training_set"]["A2"]["mean"], views()["finite_training_set"]["A2"]["se"],
              views()["finite_training_set"]["gap"], views()["finite_training_set"]["gap_se"]]),
    (E, "simulation mean 2.6, 2.5, 3.0, 2.0, 1.0 and ODE 3, 3, 4, 2, 1 at lambda = 0, 0.05, 0.2, 0.5, 1",
     lambda: [r["distinct_sim_mean"] for r in views()["lambda"]] + [r["distinct_ode"] for r in views()["lambda"]]
     + [r["lam"] for r in views()["lambda"]]),
    (E, "(mean 0.337 at lambda = 1)", lambda: [views()["lambda"][-1]["cosine_sim"], views()["lambda"][-1]["lam"]]),
    # EMC^2 Metropolis-Hastings chains (emc2_mh_exactness.json)
    (E, "at a fitted rate of 0.875-0.908 per proposal, below the Mengersen-Tweedie bound (0.889-0.918), with TV below 0.02 "
        "after 10-12 proposals",
     lambda: [mh("fitted_rate", min), mh("fitted_rate", max), mh("mt_rate", min), mh("mt_rate", max), None,
              mh("steps_to_tv_below_0_02_exact", min), mh("steps_to_tv_below_0_02_exact", max)]),
    (E, "end at a mean TV of 0.0161, the sampling floor of that many draws being 0.0162",
     lambda: [np.mean([a["mc_tv"][-1] for a in saved("emc2_mh_exactness.json")["anchors"]]), mh("mc_floor", np.mean)]),
    (E, "stays at TV 0.172-0.177 (exact) and 0.179-0.186 (Monte Carlo)",
     lambda: [mh("wrong_exact_tv_final", min), mh("wrong_exact_tv_final", max), mh("wrong_mc_tv_final", min),
              mh("wrong_mc_tv_final", max)]),
    (E, "reach a mean TV of 0.0525 beside a floor of 0.0511",
     lambda: [mh("sweep_without_replacement_tv", np.mean), mh("sweep_floor", np.mean)]),
    # negative estimators (emc2_estimators.json)
    (E, "the exact gradient (norm 2.90) and the exact Hessian (eigenvalues from -12.1 to 9.4)",
     lambda: [est()["setting"]["grad_norm"], est()["setting"]["hessian_eig_min"], est()["setting"]["hessian_eig_max"]]),
    (E, "at batch 4: exact negatives 0.00, in-batch 0.64, SogCLR 0.19, EMC^2 0.00; at batch 64, between 0.00 and 0.06 "
        "for these four",
     lambda: [4] + [est_row(e, 4, "bias_norm_debiased") for e in ("exact", "in_batch", "sogclr")] + [2]
     + [est_row("emc2", 4, "bias_norm_debiased"), 64,
        min(est_row(e, 64, "bias_norm_debiased") for e in ("exact", "in_batch", "sogclr", "emc2")),
        max(est_row(e, 64, "bias_norm_debiased") for e in ("exact", "in_batch", "sogclr", "emc2"))]),
    (E, "trace variance 335.8 at batch 4 and 162.7 at batch 256, against 52.8 and 0.13 for exact negatives",
     lambda: [est_row("isd", 4, "trace_var"), 4, est_row("isd", 256, "trace_var"), 256,
              est_row("exact", 4, "trace_var"), est_row("exact", 256, "trace_var")]),
    (E, "predicted extra loss change 0.998 with the measured covariance (Lemma A.1; at these draws this is the "
        "second-order Taylor expansion itself), 0.21 with the Lemma's isotropic noise (0.70 at the smaller step, 0.11 at "
        "the larger), and 0.24 for the first-order bias term alone",
     lambda: [est()["summary"]["r2_cov"], est()["summary"]["r2_isotropic"], est()["summary"]["r2_isotropic_eta0"],
              est()["summary"]["r2_isotropic_eta1"], est()["summary"]["r2_first_order_only"]]),
    # Brian2 spiking units learning bas3 (brian2_raster.json)
    (E, "here tau_n = 0.91 ms", lambda: [1.0 / math.log(3.0)]),
    (E, "final KL spiking 0.426 +- 0.090 nats (mean +- s.e. of 5 seeds; seeds 0.228-0.695) vs Glauber 0.324 +- 0.026 "
        "nats at equal simulated time, difference 0.102 nats; the two fall alike (3000 s: 0.882 vs 0.810 nats)",
     lambda: [b2r_final("spiking")[0], b2r_final("spiking")[1], len(b2r_kl("spiking")[-1]),
              min(b2r_kl("spiking")[-1]), max(b2r_kl("spiking")[-1]), b2r_final("glauber")[0],
              b2r_final("glauber")[1], b2r_final("spiking")[0] - b2r_final("glauber")[0], 3000, b2r_at(3000, "spiking"),
              b2r_at(3000, "glauber")]),
    (E, "indicator images; 0.56 for unstructured weights): 0.583 at the start, 0.986 (spiking) and 0.987 (Glauber)",
     lambda: [5 / 9, np.mean(b2r()["structure_share_initial"]), np.mean(b2r()["structure_share_spiking"]),
              np.mean(b2r()["structure_share_glauber"])]),
]

# learning curves of the negative estimators (emc2_learning.json)
TRACED += [
    (E, "At batch 4 the exact run ends at `L` = 6.06 nats, in-batch at 6.37,\nSogCLR 6.34, EMC^2 6.39 and ISD 7.32",
     lambda: [4, learn(4, "exact"), learn(4, "in_batch"), learn(4, "sogclr"), 2, learn(4, "emc2"), learn(4, "isd")]),
    (E, "EMC^2 minus exact +0.33 +- 0.06 nats, EMC^2 minus\nin-batch +0.02 +- 0.05 nats, in-batch minus exact +0.31 +- 0.01 "
        "nats. At batch 16 in-batch is\nlevel with exact (+0.01 +- 0.01 nats) and EMC^2 is behind both (+0.11 +- 0.02 nats "
        "against\nexact)",
     lambda: [2, *learn_diff(4, "loss_emc2_minus_exact_nats"), 2, *learn_diff(4, "loss_emc2_minus_in_batch_nats"),
              *learn_diff(4, "loss_in_batch_minus_exact_nats"), 16, *learn_diff(16, "loss_in_batch_minus_exact_nats"), 2,
              *learn_diff(16, "loss_emc2_minus_exact_nats")]),
    (E, "in-batch, SogCLR and EMC^2 end within\n0.03 nats of exact",
     lambda: [2, Below(0.03)] if max(abs(learn(64, e) - learn(64, "exact")) for e in ("in_batch", "sogclr", "emc2")) <= 0.03
     else [2, None]),
    (E, "EMC^2 minus exact +0.36 +- 0.01 nats at batch 4, +0.053 +- 0.005 at batch 16 and\n+0.003 +- 0.002 at batch 64; "
        "in-batch minus exact +0.31 +- 0.01, +0.062 +- 0.006 and +0.000 +-\n0.001 (at batch 16 EMC^2 is ahead of in-batch, "
        "-0.009 +- 0.003 nats)",
     lambda: [2, *learn_diff(4, "loss_emc2_minus_exact_nats", "mnist1d"), 4, *learn_diff(16, "loss_emc2_minus_exact_nats", "mnist1d"),
              16, *learn_diff(64, "loss_emc2_minus_exact_nats", "mnist1d"), 64,
              *learn_diff(4, "loss_in_batch_minus_exact_nats", "mnist1d"), *learn_diff(16, "loss_in_batch_minus_exact_nats", "mnist1d"),
              *learn_diff(64, "loss_in_batch_minus_exact_nats", "mnist1d"), 16, 2,
              *learn_diff(16, "loss_emc2_minus_in_batch_nats", "mnist1d")]),
    (E, "On MNIST-1D the untrained encoder's features already probe at 0.385 (raw input\n0.329), and one epoch of "
        "contrastive learning does not raise it (final probes 0.347-0.383)",
     lambda: [mnist1d_untrained_probe(),
              saved("emc2_learning.json")["datasets"]["mnist1d"]["raw_probe_acc"], min(learn_probes("mnist1d")),
              max(learn_probes("mnist1d"))]
     if max(learn_probes("mnist1d")) <= mnist1d_untrained_probe() + 0.005 else [None]),
    (E, "learning rate 0.05 per step) with", lambda: [saved("emc2_learning.json")["setting"]["learning_rate"]]),
    (E, "it ends at 0.965-0.978 for every estimator and batch, at the raw-input probe (0.967)",
     lambda: [min(learn_probes()), max(learn_probes()), saved("emc2_learning.json")["datasets"]["digits"]["raw_probe_acc"]]),
]

#: (document, phrase, note): numbers whose run is not saved; ``note`` (saying "not saved") must
#: stand within NEAR characters of the phrase
UNSAVED = [
]

#: phrases whose decimal numbers are not measurements
INPUTS = [
    (E, "RBM B of the always-on tests, b = 0.5, dt = 1 ms"),
    (R, "Requirements: Python 3.11"),
    (R, "Brian2 (`<2.10`)"),
    (R, "(`lava-nc==0.10.0`"),
    (R, "declares `python<3.11`"),
    (R, "--dt 1.0 --peers neurocl`"),
    (R, '(`"learners.isd.phases.b": 0.3`'),
    (R, "(`2e-5`, `2.0e-5`, `0.00002`)"),
    (R, 'record = 200.0 }'),
    (R, "b = 0.3 exponential phases"),
    (R, "dt = 0.1 ms"),
    (R, "(CPython 3.11.7, numpy 1.26.4"),
    (R, "| Brian2 2.9, cython target"),
    (R, "| Lava 0.10 floating_pt"),
    (R, "Lemma 2.1"),
    (E, "Theorems 3.1 and 3.2"),
    (E, "Lemma 2.1"),
    (E, "the paper's 0.2-0.3"),
    (E, "lr 0.05"),
    (E, "`s = 0.5`, `lambda = 0.5`, `mu = 0.2`"),
    (E, "`M0 = 0.3` there, 0.05 elsewhere"),
    (E, "--tau 0.1 --s 1 --lam 8 --mu 1 --init-norm 0.02 --t-end 6"),
    (E, "Views with noise level `s = 0.8`"),
    (E, "1e-3 /ms"),
    (E, "exponential phases of mean 10 ms, b = 0.5, 5 seeds"),
    (E, "final KL <= 0.6 nats, within 0.2 nats of Glauber units"),   # the thresholds
    # the documentation site
    ("docs/getting_started.rst", "neurocl needs Python 3.11"),
    ("docs/getting_started.rst", "``lava-nc==0.10.0``"),
    ("docs/getting_started.rst", '(``"learners.isd.phases.b": 0.3``)'),
    ("docs/engines/brian2.rst", "record = 200.0 }"),
    ("docs/engines/lava.rst", "lava-nc==0.10.0``"),
    ("docs/engines/lava.rst", "Lava 0.10 declares ``python<3.11``"),
    ("docs/engines/lava.rst", "compatibility fix for 3.11"),
    ("docs/theory.rst", "Lemma 2.1"),
    ("docs/theory.rst", "Theorems 3.1 and 3.2"),
    ("docs/theory.rst", "(Theorem 3.1)"),
    ("docs/theory.rst", "(Theorem 3.2)"),
    ("docs/theory.rst", "(Theorems 2.2, 2.3)"),
    ("docs/theory.rst", "arXiv:2406.06909"),
    ("docs/view_based.rst", "arXiv:2406.06909"),
    ("docs/view_based.rst", "Lemma 2.1"),
    ("docs/view_based.rst", "Monte Carlo error plus 0.02"),
]


def _ids(entries):
    return [f"{e[0]}: {_norm(e[1])[:60]}" for e in entries]


@pytest.mark.parametrize("name, phrase, values", TRACED, ids=_ids(TRACED))
def test_traced_number_matches_its_source(name, phrase, values):
    assert spans(name, phrase), f"{name}: the quoted phrase is gone or changed; trace it again: {phrase!r}"
    printed, expected = numbers(phrase), values()
    assert len(printed) == len(expected), (printed, expected)
    for p, v in zip(printed, expected):
        if v is not None:
            assert agrees(p, v), f"{name}: {p} quoted in {phrase!r}, but the saved value is {v!r}"


@pytest.mark.parametrize("name, phrase, note", UNSAVED, ids=_ids(UNSAVED))
def test_unsaved_number_says_so(name, phrase, note):
    assert "not saved" in note or "neither is saved" in note
    where, notes = spans(name, phrase), spans(name, note)
    assert where, f"{name}: phrase gone or changed: {phrase!r}"
    assert notes, f"{name}: the note {note!r} is gone"
    assert any(abs(a - b) <= NEAR for a, _ in where for b, _ in notes), (phrase, note)


@pytest.mark.parametrize("name", DOCS)
def test_every_decimal_number_is_traced_or_marked(name):
    covered = [s for entries in (TRACED, UNSAVED) for e in entries if e[0] == name for s in spans(name, e[1])]
    covered += [s for n, phrase in INPUTS if n == name for s in spans(name, phrase)]
    text = doc(name)
    loose = [(m.group(0), text[max(0, m.start() - 50): m.end() + 30]) for m in DECIMAL.finditer(text)
             if not any(a <= m.start() and m.end() <= b for a, b in covered)]
    assert not loose, f"{name}: numbers not traced to a saved JSON, not marked 'not saved', not an input: {loose}"


def test_agrees_at_the_printed_precision():
    assert agrees("0.47", 0.4734) and agrees("0.47", 0.465) and not agrees("0.47", 0.4751)
    assert agrees("2.2", 2.165) and not agrees("2.1", 2.165)
    assert agrees("1.35e10", 1.352e10) and not agrees("1.35e10", 1.36e10)
    assert agrees("20,000", 20000) and agrees("1", Below(0.9)) and not agrees("1", Below(1.2))


REPLOT = ("b_sweep", "lemma21_profiles", "lava_deployment")


@pytest.mark.integration   # three subprocesses, about 10 s: `make test-integration`
@pytest.mark.parametrize("script", REPLOT)
def test_figure_redraws_from_its_saved_numbers(script, tmp_path):
    """The committed figure's JSON is what its script reads back (``--replot``, no simulation):
    it redraws, and the numbers it prints are the ones the READMEs quote from it."""
    import shutil
    import subprocess
    import sys

    shutil.copy(ROOT / "examples" / f"{script}.json", tmp_path / "fig.json")
    res = subprocess.run([sys.executable, str(ROOT / "examples" / f"{script}.py"), "--replot",
                          "--out", str(tmp_path / "fig.png")], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "fig.png").read_bytes()[:4] == b"\x89PNG"
    printed = {"b_sweep": ["b = 0.20: final KL 0.473", "b* = 0.503"],
               "lemma21_profiles": ["ecram       20000 steps/update", "noise Tr Cov lava 33.1 vs profile 35.1"],
               "lava_deployment": ["digits fixed_pt: test accuracy = 96.11 %", "best mean 0.805"]}[script]
    for line in printed:
        assert line in res.stdout, (line, res.stdout)
