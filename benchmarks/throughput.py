"""`throughput` workload: RBM 784 x 500, continuous-time Glauber dynamics, stochastic phases
(b = 0.3, exponential lengths, mean 10 ms), ISD always-on plasticity every step, float32.

Figure of merit: synapse-steps per second = synapses x integration steps x replicas / wall s;
also per CPU second (CPU time of the peer's process and its child processes, which on a
machine shared with other jobs is closer to what an idle core gives than wall time).
Data: 1000 random binary 784-pixel patterns with 13 % of pixels on (MNIST-like sparsity;
generated, no download).  tau_n = 1 ms.  Each peer runs in its own subprocess so that its
peak memory is its own; JIT/compile time is excluded from the timing and reported apart.

Run:  make bench      (or: python benchmarks/throughput.py [--steps N] [--dt MS] [--repeat R])
      The numbers go to ``benchmarks/throughput.json`` (``--json``), one entry per ``dt``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

NV, NH = 784, 500
SYN = NV * NH


def _data(rng):
    return (rng.random((1000, NV)) < 0.13).astype(np.float32)


def _rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _cpu_s() -> float:
    """CPU seconds (user + system) of this process and its live child processes (Lava's
    runtime runs its processes in children); this process only without psutil."""
    try:
        import psutil
    except ImportError:
        return time.process_time()
    me = psutil.Process()
    total = sum(me.cpu_times()[:2])
    for child in me.children(recursive=True):
        try:
            total += sum(child.cpu_times()[:2])
        except psutil.Error:
            pass
    return total


class _Clock:
    """Wall and CPU time of a block."""

    def __enter__(self):
        self.w0, self.c0 = time.perf_counter(), _cpu_s()
        return self

    def __exit__(self, *exc):
        self.wall, self.cpu = time.perf_counter() - self.w0, _cpu_s() - self.c0


def peer_neurocl(steps, dt, replicas):
    from neurocl.circuits import RBM
    from neurocl.engines import Simulation, Task, get_engine
    from neurocl.phases import Exponential, StochasticPhases
    from neurocl.plasticity import ISD

    rng = np.random.default_rng(0)
    task = Task(clamp=_data(rng), evaluate=lambda p: {})
    rbm = RBM(NV, NH, tau_n=1.0, init_scale=0.01)
    phases = StochasticPhases(0.3, Exponential(10.0))
    eng = get_engine("numpy")
    t0 = time.perf_counter()  # JIT warm-up (cached on disk after the first run)
    eng.run(rbm, ISD(1e-4), phases, task, Simulation(dt=dt, duration=20 * dt, replicas=replicas,
                                                      checkpoints=1, dtype="float32"))
    compile_s = time.perf_counter() - t0
    base = _rss_mb()
    sim = Simulation(dt=dt, duration=steps * dt, replicas=replicas, checkpoints=1, dtype="float32")
    with _Clock() as clk:
        eng.run(rbm, ISD(1e-4), phases, task, sim)
    wall = clk.wall
    return {"rate": SYN * steps * replicas / wall, "rate_cpu": SYN * steps * replicas / clk.cpu, "wall_s": wall,
            "cpu_s": clk.cpu, "steps": steps, "replicas": replicas, "compile_s": compile_s,
            "rss_increase_mb": _rss_mb() - base, "peak_rss_mb": _rss_mb(),
            "state_mb": replicas * (SYN + 2 * (NV + NH)) * 4 / 2**20}


def peer_numpy(steps, dt, replicas=1):
    """The obvious vectorised loop: fields by matrix-vector products (hidden field, visible
    field, and the hidden mean field for the statistic) and a rank-1 update per step."""
    from neurocl.engines import Simulation
    from neurocl.engines.numpy import phase_table
    from neurocl.phases import Exponential, StochasticPhases

    rng = np.random.default_rng(0)
    data = _data(rng)
    b = 0.3
    sim = Simulation(dt=dt, duration=steps * dt, replicas=1)
    pos_t, _, fresh_t = phase_table(StochasticPhases(b, Exponential(10.0)), sim, rng)
    W = (0.01 * rng.standard_normal((NV, NH))).astype(np.float32)
    a = np.zeros(NV, np.float32)
    c = np.zeros(NH, np.float32)
    v = (rng.random(NV) < 0.5).astype(np.float32)
    h = (rng.random(NH) < 0.5).astype(np.float32)
    p = np.float32(1 - np.exp(-dt))
    eta_dt = np.float32(1e-4 * dt)
    sig = lambda x: 0.5 * (1 + np.tanh(0.5 * x))  # noqa: E731
    base = _rss_mb()
    clk = _Clock().__enter__()
    for k in range(steps):
        pos = pos_t[0, k]
        if fresh_t[0, k]:
            v = data[rng.integers(len(data))].copy()
        U = rng.random(NV + NH, dtype=np.float32)
        uh = v @ W + c
        upd = U[:NH] < p
        h = np.where(upd, (U[:NH] < p * sig(uh)).astype(np.float32), h)
        if not pos:
            uv = W @ h + a
            upd = U[NH:] < p
            v = np.where(upd, (U[NH:] < p * sig(uv)).astype(np.float32), v)
        hm = sig(v @ W + c)
        coef = eta_dt * (1 / b if pos else -1 / (1 - b))
        W += coef * np.outer(v, hm)
        a += coef * v
        c += coef * hm
    clk.__exit__()
    wall = clk.wall
    return {"rate": SYN * steps / wall, "rate_cpu": SYN * steps / clk.cpu, "wall_s": wall, "cpu_s": clk.cpu,
            "steps": steps, "replicas": 1, "compile_s": 0.0, "rss_increase_mb": _rss_mb() - base,
            "peak_rss_mb": _rss_mb(), "state_mb": (SYN + 2 * (NV + NH)) * 4 / 2**20}


def peer_brian2(steps, dt, replicas=1):
    """The same network in Brian2 (cython runtime target): two NeuronGroups with Glauber
    resampling in ``run_regularly`` code, one all-to-all ``Synapses`` with summed variables
    for both fields and the ISD update ``w += coef(t) v_pre hm_post`` every step; the phase
    sign/weight and the clamped pattern come from ``TimedArray``s built from the same phase
    process.  Compile time (first run) excluded."""
    import brian2 as b2

    from neurocl.engines import Simulation
    from neurocl.engines.numpy import phase_table
    from neurocl.phases import Exponential, StochasticPhases

    b2.prefs.codegen.target = "cython"
    b2.defaultclock.dt = dt * b2.ms
    rng = np.random.default_rng(0)
    data = _data(rng)
    b = 0.3
    warm = 20
    total = steps + warm
    pos_t, _, fresh_t = phase_table(StochasticPhases(b, Exponential(10.0)), Simulation(dt=dt, duration=total * dt), rng)
    pattern = np.zeros((total, NV), np.float32)
    cur = data[0]
    for k in range(total):
        if fresh_t[0, k]:
            cur = data[rng.integers(len(data))]
        pattern[k] = cur
    coef = (np.where(pos_t[0], 1 / b, -1 / (1 - b)) * 1e-4 * dt).astype(float)
    ns = {"pos_ta": b2.TimedArray(pos_t[0].astype(float), dt=dt * b2.ms),
          "coef_ta": b2.TimedArray(coef, dt=dt * b2.ms),
          "pattern_ta": b2.TimedArray(pattern, dt=dt * b2.ms),
          "p_res": 1 - np.exp(-dt)}
    vis = b2.NeuronGroup(NV, "v : 1\nuv : 1\na : 1", namespace=ns)
    hid = b2.NeuronGroup(NH, "h : 1\nuh : 1\nhm : 1\nc : 1", namespace=ns)
    vis.v = (rng.random(NV) < 0.5).astype(float)
    hid.h = (rng.random(NH) < 0.5).astype(float)
    syn = b2.Synapses(vis, hid, "w : 1\nuh_post = w*v_pre : 1 (summed)\nuv_pre = w*h_post : 1 (summed)",
                      namespace=ns)
    syn.connect()
    syn.w = 0.01 * rng.standard_normal(NV * NH)
    # one uniform per unit and step, as in neurocl: resample iff u < p, become 1 iff u < p sigmoid
    hid.run_regularly("u = rand()\nh = h + int(u < p_res) * (int(u < p_res/(1 + exp(-(uh + c)))) - h)",
                      when="groups", order=1)
    vis.run_regularly("u = rand()\nv = pos_ta(t) * pattern_ta(t, i) + (1 - pos_ta(t)) * "
                      "(v + int(u < p_res) * (int(u < p_res/(1 + exp(-(uv + a)))) - v))",
                      when="groups", order=2)
    hid.run_regularly("hm = 1/(1 + exp(-(uh + c)))\nc += coef_ta(t) * hm", when="end", order=1)
    vis.run_regularly("a += coef_ta(t) * v", when="end", order=1)
    syn.run_regularly("w += coef_ta(t) * v_pre * hm_post", when="end", order=2)
    net = b2.Network(b2.collect())
    t0 = time.perf_counter()
    net.run(warm * dt * b2.ms)
    compile_s = time.perf_counter() - t0
    base = _rss_mb()
    with _Clock() as clk:
        net.run(steps * dt * b2.ms)
    wall = clk.wall
    return {"rate": SYN * steps / wall, "rate_cpu": SYN * steps / clk.cpu, "wall_s": wall, "cpu_s": clk.cpu,
            "steps": steps, "replicas": 1, "compile_s": compile_s, "rss_increase_mb": _rss_mb() - base,
            "peak_rss_mb": _rss_mb(), "state_mb": (SYN + 2 * (NV + NH)) * 4 / 2**20}


def peer_lava(steps, dt, replicas=1):
    """Lava 0.10 ``floating_pt`` on ``Loihi2SimCfg``: a spike source of the same binary patterns
    feeding a ``LearningDense`` 784 x 500 with a ``Loihi2FLearningRule`` (pair-based rule with
    one trace per side, ``t_epoch = 1``: weights updated every time step, as ISD) into 500 LIF
    neurons whose spikes come back as the post-synaptic factor.  Lava's synaptic learning runs
    on the CPU per step; the phase process has no Lava counterpart here.  Start-up and the
    first 20 steps excluded."""
    from neurocl.engines.lava.compat import install

    install()
    from lava.magma.core.learning.learning_rule import Loihi2FLearningRule
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg
    from lava.proc.dense.process import LearningDense
    from lava.proc.io.source import RingBuffer
    from lava.proc.lif.process import LIF

    rng = np.random.default_rng(0)
    data = _data(rng)
    warm = 20
    raster = data[rng.integers(len(data), size=steps + warm)].T.astype(float)  # (784, T)
    rule = Loihi2FLearningRule(dw="2^-6 * x1 * y0 - 2^-6 * y1 * x0", x1_impulse=16, x1_tau=10,
                               y1_impulse=16, y1_tau=10, t_epoch=1)
    src = RingBuffer(data=raster)
    dense = LearningDense(weights=0.01 * rng.standard_normal((NH, NV)), learning_rule=rule)
    lif = LIF(shape=(NH,), du=0.1, dv=0.1, vth=1.0)
    src.s_out.connect(dense.s_in)
    dense.a_out.connect(lif.a_in)
    lif.s_out.connect(dense.s_in_bap)
    cfg = Loihi2SimCfg(select_tag="floating_pt")
    t0 = time.perf_counter()
    src.run(condition=RunSteps(num_steps=warm), run_cfg=cfg)
    compile_s = time.perf_counter() - t0
    base = _rss_mb()
    with _Clock() as clk:
        src.run(condition=RunSteps(num_steps=steps), run_cfg=cfg)
    wall = clk.wall
    src.stop()
    return {"rate": SYN * steps / wall, "rate_cpu": SYN * steps / clk.cpu, "wall_s": wall, "cpu_s": clk.cpu,
            "steps": steps, "replicas": 1, "compile_s": compile_s, "rss_increase_mb": _rss_mb() - base,
            "peak_rss_mb": _rss_mb(), "state_mb": (SYN + 2 * (NV + NH)) * 8 / 2**20}


PEERS = {"neurocl": lambda s, dt: peer_neurocl(s, dt, 1), "neurocl16": lambda s, dt: peer_neurocl(s, dt, 16),
         "numpy": peer_numpy, "brian2": peer_brian2, "lava": peer_lava}
NOT_RUN: dict = {}


def _peer_runs(name, args) -> list:
    runs = []
    for _ in range(args.repeat):
        out = subprocess.run([sys.executable, __file__, "--peer", name, "--steps", str(args.steps), "--dt",
                              str(args.dt)], capture_output=True, text=True)
        if out.returncode != 0:
            print(f"{name}: nan ({out.stderr.strip().splitlines()[-1] if out.stderr.strip() else 'failed'})")
            return []
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return runs


def _summary(runs: list) -> dict:
    """Medians over the repeats (and the range of both rates); memory from the first run."""
    med = {k: statistics.median(r[k] for r in runs) for k in ("rate", "rate_cpu", "wall_s", "cpu_s", "compile_s")}
    return {**runs[0], **med, "rate_min": min(r["rate"] for r in runs), "rate_max": max(r["rate"] for r in runs),
            "rate_cpu_min": min(r["rate_cpu"] for r in runs), "rate_cpu_max": max(r["rate_cpu"] for r in runs),
            "repeats": len(runs), "runs": runs}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=10000, help="integration steps per peer")
    ap.add_argument("--dt", type=float, default=0.1, help="integration step (ms); tau_n = 1 ms")
    ap.add_argument("--repeat", type=int, default=1, help="runs per peer (each in a fresh process); medians reported")
    ap.add_argument("--json", default=str(Path(__file__).with_suffix(".json")),
                    help="where the numbers go (one entry per dt; other entries kept)")
    ap.add_argument("--peers", default=",".join(PEERS), help="comma-separated subset of: " + ", ".join(PEERS))
    ap.add_argument("--peer", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    peers = [p for p in args.peers.split(",") if p]
    if not peers or set(peers) - set(PEERS):
        ap.error(f"--peers: choose from {', '.join(PEERS)}")
    if args.peer:  # child process: run one peer, print JSON
        steps = {"neurocl16": args.steps // 4, "brian2": args.steps // 10, "lava": args.steps // 50}.get(
            args.peer, args.steps)
        print(json.dumps(PEERS[args.peer](steps, args.dt)))
        return
    machine = (f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_implementation()} "
               f"{platform.python_version()}, numpy {np.__version__}")
    command = " ".join(["python", "benchmarks/throughput.py"] + (sys.argv[1:] if argv is None else list(argv)))
    print(f"throughput workload: RBM {NV} x {NH} ({SYN} synapses), dt = {args.dt} ms, tau_n = 1 ms, "
          f"b = 0.3, exponential phases (mean 10 ms), ISD every step, float32; {args.steps} steps per peer "
          f"(neurocl16: {args.steps // 4} steps x 16 replicas; brian2: {args.steps // 10}; lava: {args.steps // 50}); "
          f"{args.repeat} run(s) per peer, medians")
    print(f"machine: {machine}")
    print(f"command: {command}")
    load0 = os.getloadavg()
    results = {}
    for name in peers:
        runs = _peer_runs(name, args)
        results[name] = _summary(runs) if runs else None
    ref = results["neurocl"] if results.get("neurocl") else None
    print(f"{'peer':<10} {'synapse-steps/s':>16} {'per CPU s':>10} {'x neurocl':>10} {'wall (s)':>9} {'compile (s)':>12} "
          f"{'RSS growth in run (MiB)':>24} {'peak RSS (MiB)':>15} {'weights+state (MiB)':>20}")
    for name, r in results.items():
        if r is None:
            continue
        r["x_neurocl"] = r["rate"] / ref["rate"] if ref else float("nan")
        r["x_neurocl_cpu"] = r["rate_cpu"] / ref["rate_cpu"] if ref else float("nan")
        print(f"{name:<10} {r['rate']:>16.3e} {r['rate_cpu']:>10.3e} {r['x_neurocl']:>10.2f} {r['wall_s']:>9.2f} "
              f"{r['compile_s']:>12.2f} {r['rss_increase_mb']:>24.1f} {r['peak_rss_mb']:>15.1f} {r['state_mb']:>20.2f}")
    for name, why in NOT_RUN.items():
        print(f"{name}: nan ({why})")
    fmt = lambda n, k="rate": f"{results[n][k]:.3e}" if results.get(n) else "nan"  # noqa: E731
    print(f"throughput: neurocl={fmt('neurocl')} neurocl16={fmt('neurocl16')} numpy={fmt('numpy')} "
          f"brian2={fmt('brian2')} lava={fmt('lava')} synapse-steps/s")
    print(f"per CPU second: neurocl={fmt('neurocl', 'rate_cpu')} neurocl16={fmt('neurocl16', 'rate_cpu')} "
          f"numpy={fmt('numpy', 'rate_cpu')} brian2={fmt('brian2', 'rate_cpu')} lava={fmt('lava', 'rate_cpu')} "
          f"synapse-steps per CPU s")
    out = Path(args.json)
    saved = json.loads(out.read_text()) if out.is_file() else {}
    key = f"dt={args.dt:g}" + ("" if peers == list(PEERS) else f" peers={','.join(peers)}")
    saved[key] = {
        "workload": {"n_visible": NV, "n_hidden": NH, "synapses": SYN, "dt_ms": args.dt, "tau_n_ms": 1.0, "b": 0.3,
                     "phase_mean_ms": 10.0, "dtype": "float32", "steps": args.steps},
        "peers": results, "machine": machine, "command": command,
        "env": {k: os.environ[k] for k in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS") if k in os.environ},
        "loadavg_before": list(load0), "loadavg_after": list(os.getloadavg()),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    tmp = out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(saved, indent=1) + "\n")
    tmp.replace(out)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
