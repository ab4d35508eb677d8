"""Two-branch contrastive learning on non-ideal synapses, and Lemma 2.1 for the device's
corruption of one update (paper 001 setting; Lemma 2.1 of the ICLR 2023 paper ``papers/003_*``;
issue 14 point 6).

Setting: the one of ``examples/two_branch_ode.py`` (two-branch tanh network, ``K = 2``,
``d1 = 2``, view noise ``s = 0.5``, ``lambda = 0.5``, ``mu = 0.2``, ``c_var = 4``, online SGD
``tau = 1``, ``t = samples / N``), with ``W`` held by the ``rram_hfo2`` and ``loihi2`` profiles
(:class:`neurocl.engines.numpy.two_branch.OnlineLearner` with ``profile=``: every step the
network reads ``W`` through the device model, and the ideal change is requested from the devices).

(a) Trajectories: the feature overlap ``M`` and the expected loss (``E[L] + (mu/2) tr Q`` at the
    overlaps of the stored weights, :func:`neurocl.theory_two_branch.population_loss`; the
    dimensionless loss of :mod:`neurocl.circuits.two_branch`) against ``t`` for the ideal synapse
    and the two profiles (``seeds`` runs each, mean +- s.d.), with the ODE (ideal limit).
(b) Lemma 2.1 at a fixed ``W`` (overlaps of the ODE at ``t_check``; a frame ``U``; ``W`` snapped
    to what the device holds), per profile: ``n_step`` fresh samples, for each the ideal SGD
    update ``u_n`` and ``draws`` device realisations ``d_nr`` of the same step (read through the
    device, gradient of the read weights, update requested from the devices: pulses, asymmetry,
    soft bounds, device-to-device and cycle-to-cycle variation, rounding).  In gradient units
    (``/ tau``): the device bias ``b = mean(d - u) / tau`` (``N x K``) and the extra variance
    ``sigma_dev^2 = [tr Cov(d) - tr Cov(u)] / tau^2`` (what the device adds to the SGD noise).
    Predicted extra loss change of one device step over the ideal SGD step (Lemma 2.1,
    :func:`neurocl.theory.predict_delta_loss`, isotropic noise over the ``N K`` weights):
    ``<g, b> tau + 1/2 b^T H b tau^2 - g^T H b tau^2 + 1/2 (sigma_dev^2 / (N K)) Tr H tau^2``,
    with ``g`` and ``H v`` the gradient and Hessian-vector products of the expected loss w.r.t.
    ``W`` (finite differences of ``population_loss`` through the overlaps, exact for every
    ``N``), ``Tr H`` from :func:`neurocl.theory_two_branch.hessian_trace`.  Also the per-unit
    (anisotropic) noise term ``(tau^2 / 2N) tr[H_K C_dev]`` (``H_K = 2 dF/dQ``, ``C_dev`` the
    K x K extra covariance summed over inputs).  Measured: ``mean_nr L(W + d_nr) - mean_n L(W +
    u_n)`` (paired per sample, common random numbers in ``L``; mean +- s.e. over samples).  The
    prediction's bias and variance come from the same draws as the measurement; the out-of-sample
    form predicts from the first half of the samples and measures on the second.

    The same at each profile's own run (b', replica 0 at ``t_end``: its frame, stored weights
    and devices), with the ideal SGD step's own expected loss change ``mean_n L(W + u_n) - L(W)``:
    where a device run has stalled, the extra loss per step offsets the ideal step's progress.

Prints every number and saves them to a JSON beside the figure.

Run:  python examples/two_branch_hardware.py [--quick] [--out examples/two_branch_hardware.png]
"""

import argparse
import time

import numpy as np

from neurocl.circuits.two_branch import TwoBranch, frame, output_errors, overlaps, sample_features, sample_views
from neurocl.engines.numpy.two_branch import OnlineLearner
from neurocl.hardware.device import SynapseArray, device_update, read_weights
from neurocl.hardware.profile import load_profile
from neurocl.plotting import new_figure, save_with_numbers
from neurocl.theory import predict_delta_loss
from neurocl.theory_two_branch import draw_base, hessian_trace, population_loss, solve_ode, symmetrised

SETTING = dict(K=2, d1=2, activation="tanh", s=0.5, lam=0.5, mu=0.2, c_var=4.0, init_overlap=0.1, init_noise=0.1)
TAU = 1.0
PROFILES = ("ideal", "rram_hfo2", "loihi2")
FULL = dict(N=1000, seeds=3, t_end=5.0, n_eval=11, t_check=1.0, n_step=800, draws=10, loss_mc=20000, ode_mc=20000)
QUICK = dict(N=200, seeds=1, t_end=0.5, n_eval=3, t_check=0.5, n_step=12, draws=3, loss_mc=2000, ode_mc=1000)


def trajectories(m, prof, M0, Q0, cfg, base, seed=0):
    """Overlaps (T, R, K, d1) and expected loss (T, R) of ``seeds`` runs on ``prof`` (None: ideal)."""
    N = m.N
    learner = OnlineLearner(m, TAU, cfg["seeds"], np.random.default_rng([seed, 7]), seed, M0, Q0, profile=prof)
    t = np.linspace(0.0, cfg["t_end"], cfg["n_eval"])
    k, Ms, Ls = 0, [], []
    for target in np.round(t * N).astype(int):
        if target > k:
            learner.advance(k, int(target - k))
            k = int(target)
        W = learner.W if learner.devices is None else prof.weight_scale * learner.devices.stored
        M, Q = overlaps(W, learner.U)
        Ms.append(M)
        Ls.append([population_loss(m, M[r], Q[r], base) for r in range(len(M))])
    return t, np.array(Ms), np.array(Ls), learner


class OverlapLoss:
    """The expected loss ``F(W) = population_loss(M(W), Q(W))`` at fixed frame ``U``, its gradient
    w.r.t. ``W`` (central differences in ``(M, Q)``: ``dF/dW = U (dF/dM)^T / sqrt(N) + 2 W S / N``,
    ``S`` the symmetric ``dF/dQ``) and Hessian-vector products (central differences of the
    gradient)."""

    def __init__(self, m, U, base, h=1e-4):
        self.m, self.U, self.base, self.h = m, U, base, h

    def __call__(self, W):
        return population_loss(self.m, *overlaps(W, self.U), self.base)

    def partials(self, W):
        M, Q = overlaps(W, self.U)
        F = lambda M, Q: population_loss(self.m, M, Q, self.base)  # noqa: E731
        dM = np.zeros_like(M)
        for idx in np.ndindex(*M.shape):
            E = np.zeros_like(M)
            E[idx] = self.h
            dM[idx] = (F(M + E, Q) - F(M - E, Q)) / (2 * self.h)
        S = np.zeros_like(Q)
        K = len(Q)
        for i in range(K):
            for j in range(i, K):
                E = np.zeros_like(Q)
                E[i, j] = E[j, i] = self.h
                d = (F(M, Q + E) - F(M, Q - E)) / (2 * self.h)
                S[i, j] = S[j, i] = d if i == j else d / 2
        return dM, S

    def grad(self, W):
        dM, S = self.partials(W)
        N = W.shape[0]
        return self.U @ dM.T / np.sqrt(N) + 2.0 * W @ S / N

    def hvp(self, W, eps=0.05):
        def f(v):
            v = np.asarray(v, float).reshape(W.shape)
            nv = np.linalg.norm(v)
            if nv == 0:
                return np.zeros(v.size)
            u = v / nv
            return (nv * (self.grad(W + eps * u) - self.grad(W - eps * u)) / (2 * eps)).ravel()
        return f


def device_step(m, prof, dev, hidden, X, rng):
    """One step as :class:`OnlineLearner` takes it on ``prof``: read ``W`` through the device,
    request ``(decay - 1) W_read - tau / sqrt(N) X^T e(W_read)``; returns the new stored weights
    (network units).  ``t_epoch = 1``, no accumulator, no programming noise (checked)."""
    N, ws = m.N, prof.weight_scale
    scale, decay = TAU / np.sqrt(N), 1.0 - TAU * m.mu / N
    W_read = ws * read_weights(prof, hidden, None, rng)
    e = output_errors(X @ W_read / np.sqrt(N), m.activation, m.lam)
    dw = (decay - 1.0) * W_read - scale * (X.T @ e)
    new, _ = device_update(prof, dev, hidden, dw / ws, rng)
    return ws * new


def lemma_check(m, prof, cfg, base, rng, M=None, Q=None, learner=None):
    """Lemma 2.1 for one device step at fixed ``W`` (module docstring (b)): at overlaps ``(M, Q)``
    (a fresh frame and devices), or at the state of replica 0 of a ``learner`` run on ``prof``
    (its frame, stored weights and devices).  Also an out-of-sample form: bias and variance
    from the first half of the samples predict the change measured on the second half."""
    if prof.t_epoch != 1 or prof.accumulator_bits or prof.write_noise_std or prof.drift_nu:
        raise ValueError(f"{prof.name}: lemma_check handles t_epoch = 1 without accumulator, write noise or drift")
    N, K = m.N, m.K
    scale, decay = TAU / np.sqrt(N), 1.0 - TAU * m.mu / N
    if learner is None:
        U = frame(N, m.d1, rng)
        arr = SynapseArray(prof, m.init_weights(U, M, Q, rng), rng)
        hidden, dev = arr.hidden.copy(), arr.dev
    else:
        from neurocl.hardware.device import DeviceParams

        U = learner.U[0]
        hidden = learner.devices.hidden[0].copy()
        rep0 = lambda a: np.asarray(a)[0] if np.ndim(a) == 3 else a  # noqa: E731  (replica 0 of (R, N, K))
        dev = DeviceParams(*(rep0(getattr(learner.devices.dev, f)) for f in DeviceParams.__dataclass_fields__))
    W = prof.weight_scale * hidden                                       # what the device holds
    F = OverlapLoss(m, U, base)
    n, D = cfg["n_step"], cfg["draws"]
    c = sample_features(m.feature_law, rng, (n, m.d1), m.c_var)
    Xs = sample_views(U, c, m.s, m.rho, m.views, rng)                    # (n, A, N)
    us = np.empty((n, N, K))
    ds = np.empty((n, D, N, K))
    diffs, ideal = np.empty(n), np.empty(n)
    F0 = F(W)
    for i in range(n):
        X = Xs[i]
        us[i] = (decay - 1.0) * W - scale * (X.T @ output_errors(X @ W / np.sqrt(N), m.activation, m.lam))
        for r in range(D):
            ds[i, r] = device_step(m, prof, dev, hidden, X, rng) - W
        ideal[i] = F(W + us[i]) - F0
        diffs[i] = np.mean([F(W + ds[i, r]) for r in range(D)]) - F(W + us[i])
    g = F.grad(W)
    hvp = F.hvp(W)
    M_, Q_ = overlaps(W, U)
    trH = hessian_trace(m, M_, Q_, base)
    _, S = F.partials(W)
    HK = 2.0 * S

    def stats(sl):
        u, d = us[sl], ds[sl]
        k = len(u)
        bias = (d.mean((0, 1)) - u.mean(0)) / TAU
        var_d = float(d.reshape(k * D, -1).var(0, ddof=1).sum()) / TAU ** 2
        var_u = float(u.reshape(k, -1).var(0, ddof=1).sum()) / TAU ** 2
        dd = d.reshape(k * D, N, K) - d.reshape(k * D, N, K).mean(0)
        du = u - u.mean(0)
        C = (np.einsum("sxi,sxj->ij", dd, dd) / (k * D - 1) - np.einsum("sxi,sxj->ij", du, du) / (k - 1)) / TAU ** 2
        pred = predict_delta_loss(g.ravel(), hvp, bias.ravel(), var_d - var_u, TAU, N=N * K, trace=trH)
        pred_bias = predict_delta_loss(g.ravel(), hvp, bias.ravel(), 0.0, TAU, N=N * K)
        return bias, var_u, var_d - var_u, pred, pred_bias, pred_bias + 0.5 * TAU ** 2 * float(np.sum(HK * C)) / N

    bias, var_u, sigma2, pred, pred_bias, pred_aniso = stats(slice(None))
    h = n // 2
    pred_half = stats(slice(0, h))[3]
    second = diffs[h:]
    return dict(M=M_.tolist(), Q=Q_.tolist(), bias_norm=float(np.linalg.norm(bias)), grad_norm=float(np.linalg.norm(g)),
                cos_bias_grad=float(np.sum(bias * g) / (np.linalg.norm(bias) * np.linalg.norm(g) + 1e-300)),
                sgd_var=var_u, device_extra_var=sigma2, trH=trH, trHK_fd=float(np.trace(HK)),
                predicted=pred, predicted_bias_part=pred_bias, predicted_noise_part=pred - pred_bias,
                predicted_aniso=pred_aniso, measured=float(diffs.mean()),
                measured_se=float(diffs.std(ddof=1) / np.sqrt(n)), predicted_first_half=pred_half,
                measured_second_half=float(second.mean()), measured_second_half_se=float(second.std(ddof=1) / np.sqrt(len(second))),
                ideal_step_change=float(ideal.mean()), ideal_step_change_se=float(ideal.std(ddof=1) / np.sqrt(n)),
                n_step=n, draws=D)


def _print_lemma(name, r, t0):
    print(f"  {name:<10}: |bias| {r['bias_norm']:.4f} (|g| {r['grad_norm']:.4f}, cos(bias, g) "
          f"{r['cos_bias_grad']:+.3f}); variance: SGD {r['sgd_var']:.4f}, device extra {r['device_extra_var']:.4f}; "
          f"Tr H {r['trH']:.4f} (2 tr dF/dQ {r['trHK_fd']:.4f})")
    print(f"  {'':<10}  extra loss per step: Lemma 2.1 {r['predicted']:+.3e} (bias terms "
          f"{r['predicted_bias_part']:+.3e}, noise term {r['predicted_noise_part']:+.3e}); with per-unit noise "
          f"covariance {r['predicted_aniso']:+.3e}; measured {r['measured']:+.3e} +- {r['measured_se']:.1e} (same draws); "
          f"out of sample: predicted from the first half {r['predicted_first_half']:+.3e}, measured on the second "
          f"{r['measured_second_half']:+.3e} +- {r['measured_second_half_se']:.1e}; the ideal SGD step's own loss change "
          f"{r['ideal_step_change']:+.3e} +- {r['ideal_step_change_se']:.1e}; {time.time() - t0:.0f} s")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="examples/two_branch_hardware.png")
    ap.add_argument("--quick", action="store_true", help="small N and few samples (seconds; numbers not meaningful)")
    args = ap.parse_args(argv)
    cfg = QUICK if args.quick else FULL
    t_start = time.time()
    m = TwoBranch(N=cfg["N"], **SETTING)
    M0, Q0 = m.initial_overlaps(np.random.default_rng(0))
    base = draw_base(m, cfg["loss_mc"], np.random.default_rng(6))
    ode_base = symmetrised(draw_base(m, cfg["ode_mc"], np.random.default_rng(0)))
    t_ode = np.linspace(0.0, cfg["t_end"], min(51, int(round(cfg["t_end"] / 0.05)) + 1))   # on the RK4 grid
    ode = solve_ode(m, M0, Q0, TAU, cfg["t_end"], base=ode_base, t_eval=t_ode)
    ode_loss = np.array([population_loss(m, ode.M[i], ode.Q[i], base) for i in range(len(t_ode))])
    out = {"setting": SETTING, "tau": TAU, "quick": args.quick, "config": cfg, "trajectories": {}, "lemma21": {}}

    print(f"(a) online SGD, N = {m.N}, {cfg['seeds']} runs per profile, t = 0..{cfg['t_end']:g} (t = samples / N); "
          f"expected loss (dimensionless) and feature overlap max_ij |M_ij| at t_end")
    traj, learners = {}, {}
    for name in PROFILES:
        prof = None if name == "ideal" else load_profile(name)
        t0 = time.time()
        t, Ms, Ls, learner = trajectories(m, prof, M0, Q0, cfg, base)
        traj[name] = (t, Ms, Ls)
        learners[name] = learner
        mmax = np.abs(Ms[-1]).max(axis=(1, 2))
        out["trajectories"][name] = dict(t=t.tolist(), loss_mean=Ls.mean(1).tolist(), loss_sd=Ls.std(1).tolist(),
                                         M_max_final=mmax.tolist(), wall_s=time.time() - t0)
        print(f"  {name:<10}: final loss {Ls[-1].mean():+.4f} +- {Ls[-1].std():.4f} (mean +- sd over runs; ODE "
              f"{ode_loss[-1]:+.4f}), max |M| {mmax.mean():.3f} +- {mmax.std():.3f} (ODE {np.abs(ode.M[-1]).max():.3f}); "
              f"{time.time() - t0:.0f} s")

    i_chk = int(np.argmin(np.abs(t_ode - cfg["t_check"])))
    Mc, Qc = ode.M[i_chk], ode.Q[i_chk]
    print(f"(b) Lemma 2.1 for one device step at fixed W (ODE overlaps at t = {t_ode[i_chk]:g}), N = {m.N}, "
          f"{cfg['n_step']} samples x {cfg['draws']} device draws; gradient units (update / tau), loss dimensionless")
    for name in PROFILES[1:]:
        t0 = time.time()
        r = lemma_check(m, load_profile(name), cfg, base, np.random.default_rng(11), M=Mc, Q=Qc)
        out["lemma21"][name] = r
        _print_lemma(name, r, t0)
    print(f"(b') the same at each profile's own run (replica 0) at t = {cfg['t_end']:g}: its frame, weights and devices")
    out["lemma21_own_run"] = {}
    for name in PROFILES[1:]:
        t0 = time.time()
        r = lemma_check(m, load_profile(name), cfg, base, np.random.default_rng(12), learner=learners[name])
        out["lemma21_own_run"][name] = r
        _print_lemma(name, r, t0)

    fig, axes = new_figure(3, 4.4, 3.6)
    for name in PROFILES:
        t, Ms, Ls = traj[name]
        mm = np.abs(Ms).max(axis=(2, 3))
        line, = axes[0].plot(t, mm.mean(1), marker="o", ms=3, label=name)
        axes[0].fill_between(t, mm.mean(1) - mm.std(1), mm.mean(1) + mm.std(1), color=line.get_color(), alpha=0.2)
        axes[1].plot(t, Ls.mean(1), marker="o", ms=3, color=line.get_color(), label=name)
        axes[1].fill_between(t, Ls.mean(1) - Ls.std(1), Ls.mean(1) + Ls.std(1), color=line.get_color(), alpha=0.2)
    axes[0].plot(t_ode, np.abs(ode.M).max(axis=(1, 2)), "k--", label="ODE (ideal)")
    axes[1].plot(t_ode, ode_loss, "k--", label="ODE (ideal)")
    axes[0].set_xlabel("t = samples / N")
    axes[0].set_ylabel("max_ij |M_ij|")
    axes[0].set_title(f"feature overlap, N = {m.N}")
    axes[0].legend(fontsize=7)
    axes[1].set_xlabel("t = samples / N")
    axes[1].set_ylabel("expected loss (dimensionless)")
    axes[1].set_title("expected loss (bands: sd over runs)")
    axes[1].legend(fontsize=7)
    names = list(out["lemma21"])
    labels, pr, pa, me, se = [], [], [], [], []
    for key, tag in (("lemma21", f"t={t_ode[i_chk]:g} (ODE W)"), ("lemma21_own_run", f"own run, t={cfg['t_end']:g}")):
        for n in names:
            r = out[key][n]
            labels.append(f"{n}\n{tag}")
            pr.append(r["predicted"]), pa.append(r["predicted_aniso"]), me.append(r["measured"]), se.append(r["measured_se"])
    x = np.arange(len(labels))
    axes[2].bar(x - 0.25, pr, 0.25, label="Lemma 2.1 (isotropic)")
    axes[2].bar(x, pa, 0.25, label="per-unit noise covariance")
    axes[2].bar(x + 0.25, me, 0.25, yerr=se, label="measured (+- s.e.)")
    axes[2].axhline(0.0, color="k", lw=0.5)
    axes[2].set_xticks(x, labels, fontsize=6)
    axes[2].set_ylabel("extra loss per step over ideal SGD")
    axes[2].set_title("one device step at fixed W")
    axes[2].legend(fontsize=7)
    out["wall_s"] = time.time() - t_start
    save_with_numbers(fig, args.out, out)
    print(f"wall time {out['wall_s']:.0f} s")


if __name__ == "__main__":
    main()
