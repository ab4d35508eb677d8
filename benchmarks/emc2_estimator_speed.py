"""Per-step wall time of each negative estimator (issue 15, "Speed").

Sample-contrastive SGD on scikit-learn's digits (1437 training samples), MLP encoder
64-128-32, batch 16 (32 views per step), one replica; each estimator advances ``--steps`` steps
in each of 5 interleaved rounds and the fastest round is reported (wall ms per step; the
machine's other load inflates the slower rounds), with the process CPU time of that round (ms
per step; less sensitive to other processes) and EMC^2's time over in-batch SimCLR's.

The figures are also written to ``--out`` (default ``benchmarks/emc2_estimator_speed.json``:
ms per step, wall and CPU, per estimator, the ratios, the settings and the load average).

Run:  python benchmarks/emc2_estimator_speed.py [--steps 100] [--batch 16] [--estimators in_batch,sogclr,emc2,isd,exact]
"""

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from neurocl.circuits.sample_contrastive import SampleContrastive
from neurocl.data.digits import load_digits_split
from neurocl.engines.numpy.sample_contrastive import ContrastiveLearner


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--estimators", default="in_batch,sogclr,emc2,isd,exact")
    ap.add_argument("--out", default=str(Path(__file__).with_suffix(".json")), help="JSON of the figures ('' = none)")
    args = ap.parse_args(argv)
    x = load_digits_split()[0]
    names = args.estimators.split(",")
    learners = {}
    for name in names:
        c = SampleContrastive(d_in=64, estimator=name, batch=args.batch)
        learners[name] = ContrastiveLearner(c, x, 0.05, c.init_params(np.random.default_rng(0), 1), 0)
        learners[name].advance(0, 5)        # compile / warm up
    best = {name: np.inf for name in names}
    cpu = {name: np.inf for name in names}
    k = 5
    for _ in range(args.rounds):
        for name in names:
            t0, c0 = time.perf_counter(), time.process_time()
            learners[name].advance(k, args.steps)
            wall = (time.perf_counter() - t0) / args.steps
            if wall < best[name]:
                best[name], cpu[name] = wall, (time.process_time() - c0) / args.steps
        k += args.steps
    for name in names:
        print(f"{name:>8}: {1e3 * best[name]:.2f} ms per step wall, {1e3 * cpu[name]:.2f} ms CPU (fastest of "
              f"{args.rounds} rounds of {args.steps} steps; batch {args.batch}, digits, MLP 64-128-32)")
    ratios = {}
    if "emc2" in best and "in_batch" in best:
        ratios = {"emc2_over_in_batch_wall": best["emc2"] / best["in_batch"],
                  "emc2_over_in_batch_cpu": cpu["emc2"] / cpu["in_batch"]}
        print(f"EMC^2 / in-batch per-step time: {ratios['emc2_over_in_batch_wall']:.2f} (wall), "
              f"{ratios['emc2_over_in_batch_cpu']:.2f} (CPU)")
    if args.out:
        Path(args.out).write_text(json.dumps({
            "command": "python benchmarks/emc2_estimator_speed.py " + " ".join(argv or []),
            "settings": {"steps": args.steps, "batch": args.batch, "rounds": args.rounds,
                         "data": "digits", "encoder": "MLP 64-128-32"},
            "ms_per_step_wall": {n: 1e3 * best[n] for n in names},
            "ms_per_step_cpu": {n: 1e3 * cpu[n] for n in names},
            **ratios, "loadavg_1min_end": os.getloadavg()[0]}, indent=1) + "\n")
        print(f"written {args.out}")


if __name__ == "__main__":
    main()
