"""EMC^2's Metropolis-Hastings chains reach the exact softmax over negatives (paper 002; issue 15 point 1).

A fixed table of ``n = 2000`` random unit vectors in 32 dimensions, ``beta = 5``.  For each of
``A`` anchors ``i`` the target is ``pi_i(j) = exp(beta <z_i, z_j>) / sum_{l != i} (...)``.  The
chains are those of :class:`neurocl.samplers.EMC2Negatives` (:func:`mh_independence_sweep`):
started with no state (the first allowed proposal is accepted), independence proposals,
acceptance ``min(1, exp(beta (s_new - s_cur)))``, self never accepted.

Three measurements, TV = total variation distance (dimensionless, in [0, 1]):

1. *exact*: the marginal law ``p_t`` of a chain after ``t`` i.i.d. uniform proposals, by
   iterating the exact ``n x n`` kernel; TV(p_t, pi) against ``t``, with the geometric rate
   ``rho`` fitted on its tail (``log TV = c + t log rho``) and the Mengersen-Tweedie bound
   ``1 - w``, ``w = 1 / (n max_j pi_j)``;
2. *Monte Carlo*: ``R`` independent chains per anchor run by the sampler code; TV between their
   empirical law after ``t`` proposals and ``pi``, against ``t``, beside the sampling floor
   (mean TV between ``pi`` and an i.i.d. sample of ``R`` draws from it);
3. the same with a deliberately wrong acceptance ratio ``min(1, exp(beta/2 (s_new - s_cur)))``
   (exact and Monte Carlo), which converges to the wrong law;
4. the authors' proposal scheme, batches of ``B`` distinct indices swept in order (not i.i.d.
   proposals): its stationary TV (Monte Carlo) beside the floor.

Run:  python examples/emc2_mh_exactness.py [--out examples/emc2_mh_exactness.png] [--quick]
      [--replicas 1000000] [--anchors 4] [--steps 150]
"""

import argparse
import time

import numpy as np

from neurocl.objectives import normalize
from neurocl.plotting import new_figure, save_with_numbers
from neurocl.samplers import mh_independence_sweep, run_table_chains, table_chain_marginals, table_targets


def wrong_half_beta(beta, s_new, s_cur):
    return 0.5 * beta * (s_new - s_cur)


def tv(p, q):
    return 0.5 * np.abs(p - q).sum(axis=-1)


def mc_tv_curve(S, anchor, pi, R, steps_rec, beta, rng, chunk, log_ratio=None):
    """TV(empirical law of R chains after t proposals, pi) for t in steps_rec."""
    n = S.shape[0]
    counts = {t: np.zeros(n) for t in steps_rec}
    kw = {} if log_ratio is None else {"log_ratio": log_ratio}
    done = 0
    while done < R:
        r = min(chunk, R - done)
        out = run_table_chains(S, np.array([anchor]), r, max(steps_rec), beta, rng, record=steps_rec, **kw)
        for t in steps_rec:
            s = out[t][0]
            counts[t] += np.bincount(s[s >= 0], minlength=n)
        done += r
    return np.array([tv(counts[t] / R, pi) for t in steps_rec])


def sampling_floor(pi, R, rng, reps=5):
    return float(np.mean([tv(rng.multinomial(R, pi) / R, pi) for _ in range(reps)]))


def sweep_stationary_tv(S, anchor, pi, R, sweeps, B, beta, rng, chunk):
    """Chains fed batches of B distinct indices (without replacement), swept in order."""
    n = S.shape[0]
    counts = np.zeros(n)
    done = 0
    while done < R:
        r = min(chunk, R - done)
        state = np.full(r, -1, dtype=np.int64)
        score = np.full(r, -np.inf)
        for _ in range(sweeps):
            prop = rng.integers(0, n, size=(r, B))
            while True:  # redraw rows with a repeated index: B distinct indices per batch
                srt = np.sort(prop, axis=1)
                dup = (srt[:, 1:] == srt[:, :-1]).any(axis=1)
                if not dup.any():
                    break
                prop[dup] = rng.integers(0, n, size=(int(dup.sum()), B))
            states, scores = mh_independence_sweep(state, score, prop, S[anchor][prop], prop != anchor, beta, rng)
            state, score = states[:, -1], scores[:, -1]
        counts += np.bincount(state[state >= 0], minlength=n)
        done += r
    return tv(counts / R, pi)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="examples/emc2_mh_exactness.png")
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--dim", type=int, default=32)
    ap.add_argument("--beta", type=float, default=5.0)
    ap.add_argument("--anchors", type=int, default=4)
    ap.add_argument("--replicas", type=int, default=1_000_000, help="independent chains per anchor (Monte Carlo)")
    ap.add_argument("--steps", type=int, default=150, help="proposals per chain")
    ap.add_argument("--batch", type=int, default=16, help="B of the without-replacement sweep scheme")
    ap.add_argument("--chunk", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quick", action="store_true", help="n = 500, 2 anchors, 20000 replicas, 80 steps (seconds)")
    args = ap.parse_args(argv)
    if args.quick:
        args.n, args.anchors, args.replicas, args.steps = 500, 2, 20000, 80
    rng = np.random.default_rng(args.seed)
    t0 = time.time()
    Z, _ = normalize(rng.standard_normal((args.n, args.dim)))
    S = Z @ Z.T
    anchors = np.arange(args.anchors)
    pi = table_targets(S, anchors, args.beta)
    w = 1.0 / (args.n * pi.max(axis=1))
    steps = np.arange(1, args.steps + 1)
    rec = sorted({int(t) for t in np.unique(np.geomspace(1, args.steps, 12).astype(int))} | {args.steps})
    res = {"setting": dict(n=args.n, dim=args.dim, beta=args.beta, replicas=args.replicas, steps=args.steps,
                           seed=args.seed, batch=args.batch),
           "units": "TV: total variation distance (dimensionless); steps: proposals per chain", "anchors": []}
    fig, ax = new_figure(2, width=5.0)
    for a_i, a in enumerate(anchors):
        exact = tv(table_chain_marginals(S, a, args.beta, args.steps), pi[a_i])
        exact_wrong = tv(table_chain_marginals(S, a, args.beta, args.steps, wrong_half_beta), pi[a_i])
        tail = (exact < 0.1) & (exact > 1e-10)
        rho = float(np.exp(np.polyfit(steps[tail], np.log(exact[tail]), 1)[0])) if tail.sum() >= 3 else float("nan")
        t_below = int(steps[np.argmax(exact < 0.02)]) if np.any(exact < 0.02) else None
        mc = mc_tv_curve(S, a, pi[a_i], args.replicas, rec, args.beta, rng, args.chunk)
        mc_wrong = mc_tv_curve(S, a, pi[a_i], max(args.replicas // 10, 1000), [args.steps], args.beta, rng,
                               args.chunk, wrong_half_beta)
        floor = sampling_floor(pi[a_i], args.replicas, rng)
        sweep_tv = sweep_stationary_tv(S, a, pi[a_i], max(args.replicas // 10, 1000),
                                       max(args.steps // args.batch, 4), args.batch, args.beta, rng, args.chunk)
        floor_sw = sampling_floor(pi[a_i], max(args.replicas // 10, 1000), rng)
        row = dict(anchor=int(a), w=float(w[a_i]), mt_rate=float(1 - w[a_i]), fitted_rate=rho,
                   steps_to_tv_below_0_02_exact=t_below, exact_tv_final=float(exact[-1]),
                   mc_steps=rec, mc_tv=[float(x) for x in mc], mc_floor=floor,
                   wrong_exact_tv_final=float(exact_wrong[-1]), wrong_mc_tv_final=float(mc_wrong[0]),
                   sweep_without_replacement_tv=float(sweep_tv), sweep_floor=floor_sw)
        res["anchors"].append(row)
        print(f"anchor {a}: exact TV after {args.steps} proposals {exact[-1]:.2e}; fitted geometric rate "
              f"{rho:.4f} per proposal (Mengersen-Tweedie bound 1 - w = {1 - w[a_i]:.4f}); TV < 0.02 after "
              f"{t_below} proposals")
        print(f"   Monte Carlo ({args.replicas} chains): TV {mc[-1]:.4f} after {args.steps} proposals "
              f"(sampling floor of {args.replicas} i.i.d. draws from pi: {floor:.4f})")
        print(f"   wrong ratio exp(beta/2 ds): exact TV {exact_wrong[-1]:.4f}, Monte Carlo TV {mc_wrong[0]:.4f}")
        print(f"   batches of {args.batch} distinct indices swept in order: stationary TV {sweep_tv:.4f} "
              f"(floor {floor_sw:.4f})")
        ax[0].semilogy(steps, exact, color=f"C{a_i}", label=f"anchor {a} exact" if a_i == 0 else None)
        ax[0].semilogy(steps, exact_wrong, color=f"C{a_i}", ls=":", label="wrong ratio (exact)" if a_i == 0 else None)
        ax[0].semilogy(steps, (1 - w[a_i]) ** steps, color=f"C{a_i}", ls="--", lw=0.8,
                       label="bound (1-w)^t" if a_i == 0 else None)
        ax[1].semilogy(rec, mc, "o-", color=f"C{a_i}", label=f"anchor {a}")
        ax[1].axhline(floor, color=f"C{a_i}", ls="--", lw=0.8)
    ax[0].axhline(0.02, color="k", lw=0.8)
    ax[0].set(xlabel="proposals per chain", ylabel="TV(p_t, softmax)", title="exact marginal law", ylim=(1e-12, 1))
    ax[1].axhline(0.02, color="k", lw=0.8)
    ax[1].set(xlabel="proposals per chain", ylabel="TV(empirical, softmax)",
              title=f"{args.replicas} sampled chains (dashed: floor)")
    ax[0].legend(fontsize=7)
    ax[1].legend(fontsize=7)
    res["wall_s"] = time.time() - t0
    save_with_numbers(fig, args.out, res)
    print(f"wall time {res['wall_s']:.1f} s")


if __name__ == "__main__":
    main()
