"""The two-branch engine's fast path (numba kernels of :mod:`neurocl.engines.numpy.two_branch`):
the same update as the plain per-sample loop, the law of its view sampler and normals, runs
that do not depend on checkpoints or threads, and the finite training set."""

from dataclasses import dataclass

import numpy as np
import pytest
from scipy import stats

from neurocl.circuits.two_branch import TwoBranch, frame
from neurocl.engines.numpy.two_branch import OnlineLearner, block_views, gaussian_fill, simulate_online
from neurocl.errors import ConfigError


def _learner(m, kernel, positive=None, b=None, seed=0, threads=None, train_size=None, replicas=2, block=16, tau=0.3):
    M0, Q0 = m.initial_overlaps(np.random.default_rng(1))
    return OnlineLearner(m, tau, replicas, np.random.default_rng([seed, 7]), seed, M0, Q0, positive, b, block,
                         kernel=kernel, threads=threads, train_size=train_size)


@pytest.mark.parametrize("activation,views,isd", [("tanh", 2, False), ("erf", 3, False), ("relu", 2, True),
                                                   ("linear", 3, True)])
def test_kernel_equals_the_plain_per_sample_update(activation, views, isd):
    """Same samples, 300 steps cut at 7, 40 and 233 (N = 120): the numba kernel's weights equal
    the plain numpy loop's to 1e-10 relative (only the summation order differs)."""
    m = TwoBranch(N=120, K=3, d1=2, views=views, activation=activation, mu=0.3, s=0.6,
                  lam=0.7 if activation in ("tanh", "erf") else 0.05,
                  rho=-0.2 if views == 3 else 0.4, c_var=1.0, init_overlap=0.2)
    positive = np.random.default_rng(2).random((2, 300)) < 0.4 if isd else None
    b = 0.4 if isd else None
    runs = [_learner(m, kernel, positive, b, tau=0.1) for kernel in ("numba", "numpy")]
    for learner in runs:
        for k0, k1 in ((0, 7), (7, 40), (40, 233), (233, 300)):
            learner.advance(k0, k1 - k0)
    W, W_ref = runs[0].W, runs[1].W
    np.testing.assert_allclose(W, W_ref, rtol=0, atol=1e-10 * np.abs(W_ref).max())
    assert np.abs(W_ref - _learner(m, "numpy", positive, b).W).max() > 0.1    # the weights did move


@pytest.mark.parametrize("views,rho", [(2, 0.5), (3, -0.3)])
def test_view_sampler_has_the_model_law(views, rho):
    """Fresh views (N = 24, d1 = 2, s = 0.7, Gaussian c of variance 2; A = 2 views with
    rho = 0.5 (the two-view fast path) and A = 3 with rho = -0.3): the empirical covariance of
    the 24 A coordinates of (x^(1), ..., x^(A)) over n = 24,000 samples against
    cov(x^(k), x^(l)) = (c_var + s^2 R_kl) U U^T + (1 + s^2 R_kl)(I - U U^T); every entry
    within 5 standard errors (se^2 = (S_ii S_jj + S_ij^2) / n, exact for Gaussian vectors;
    at most 72 * 73 / 2 = 2628 entries, so a false alarm has probability < 2e-3), and every
    mean within 5 standard errors of 0."""
    m = TwoBranch(N=24, K=2, d1=2, views=views, s=0.7, rho=rho, c_var=2.0)
    U = frame(m.N, m.d1, np.random.default_rng(3))[None]
    X = np.concatenate([block_views(m, U, 11, j, 2000)[0] for j in range(12)])           # (n, A, N)
    n = len(X)
    flat = X.reshape(n, -1)
    R = np.full((views, views), m.rho) + (1 - m.rho) * np.eye(views)
    P = U[0] @ U[0].T
    J = np.ones((views, views))
    theory = np.kron(m.c_var * J + m.s**2 * R, P) + np.kron(J + m.s**2 * R, np.eye(m.N) - P)
    emp = flat.T @ flat / n
    se = np.sqrt((np.diag(theory)[:, None] * np.diag(theory)[None, :] + theory**2) / n)
    z = np.abs(emp - theory) / se
    assert z.max() < 5, (z.max(), np.unravel_index(z.argmax(), z.shape))
    assert np.all(np.abs(flat.mean(0)) < 5 * np.sqrt(np.diag(theory) / n))


def test_training_set_views_reuse_stored_inputs():
    """train_size = 5: with s = 0 every sample is one of the 5 stored inputs, drawn uniformly
    (chi-square test of the 5 counts over 4,000 draws, p > 1e-3); with s = 0.5 the view noise
    around the stored input is fresh, of covariance s^2 R (entries within 5 s.e.)."""
    m0 = TwoBranch(N=40, K=2, d1=2, s=0.0)
    learner = _learner(m0, "numba", train_size=5, replicas=1, block=500)
    X = np.concatenate([learner._samples(j)[0] for j in range(8)])                # (4000, A, N)
    d = np.abs(X[:, 0, None, :] - learner.base[0][None]).max(-1)                      # (4000, 5)
    assert np.all(d.min(1) < 1e-12) and np.all(X[:, 0] == X[:, 1])
    counts = np.bincount(d.argmin(1), minlength=5)
    assert stats.chisquare(counts).pvalue > 1e-3, counts
    m = TwoBranch(N=40, K=2, d1=2, s=0.5, rho=0.6)
    learner = _learner(m, "numba", train_size=5, replicas=1, block=500)
    X = np.concatenate([learner._samples(j)[0] for j in range(8)])
    which = np.abs(X.mean(1)[:, None, :] - learner.base[0][None]).sum(-1).argmin(1)
    noise = X - learner.base[0][which][:, None, :]                                     # (n, A, N)
    n = len(noise)
    cov = np.einsum("nkd,nld->kl", noise, noise) / (n * m.N)
    theory = m.s**2 * np.array([[1.0, m.rho], [m.rho, 1.0]])
    se = np.sqrt((theory[0, 0] ** 2 + theory**2) / (n * m.N))
    assert np.all(np.abs(cov - theory) < 5 * se), (cov, theory)


def test_training_set_from_the_circuit_attribute_and_learning_runs():
    """A circuit with a ``train_size`` attribute is read when the keyword is not given; a
    finite-set run learns (feature cosine grows) and differs from the fresh-sample run."""

    @dataclass(frozen=True)
    class WithTrainSet(TwoBranch):
        train_size: int = 50

    m = WithTrainSet(N=200, K=2, d1=2, init_overlap=0.1)
    assert _learner(m, "numba").train_size == 50
    assert _learner(m, "numba", train_size=7).train_size == 7
    with pytest.raises(ConfigError, match="train_size"):
        _learner(m, "numba", train_size=0)
    fin = simulate_online(m, 1.0, 2.0, replicas=2, seed=0, t_eval=[0, 2])
    fresh = simulate_online(TwoBranch(N=200, K=2, d1=2, init_overlap=0.1), 1.0, 2.0, replicas=2, seed=0, t_eval=[0, 2])
    assert np.abs(fin.M[-1]).max() > np.abs(fin.M[0]).max()
    assert not np.allclose(fin.W, fresh.W)


def test_trajectory_independent_of_checkpoints_and_threads():
    """Same seed: bitwise-equal weights whatever the cut into advance calls and the thread count."""
    m = TwoBranch(N=150, K=2, d1=2, views=2)
    runs = []
    for threads, cuts in ((1, (0, 500)), (2, (0, 13, 64, 65, 300, 500)), (3, (0, 499, 500))):
        learner = _learner(m, "numba", threads=threads, replicas=2, block=32)
        for k0, k1 in zip(cuts[:-1], cuts[1:]):
            learner.advance(k0, k1 - k0)
        runs.append(learner.W.copy())
    for W in runs[1:]:
        np.testing.assert_array_equal(W, runs[0])


def test_normals_have_the_standard_normal_law():
    """1e7 draws of the ziggurat: mean and variance within 5 s.e. (s.e. of the variance
    sqrt(2/n)), fourth moment within 5 s.e. of 3 (s.e. sqrt(96/n)), P(|x| > r) of the tail
    path within 5 s.e. of 2 (1 - Phi(r)) and the mean excess E[|x| - r | |x| > r] =
    phi(r) / (1 - Phi(r)) - r within 5 s.e. (sample s.d. / sqrt(count)), Kolmogorov-Smirnov
    p > 1e-3."""
    n = 10_000_000
    x = gaussian_fill(n, np.random.SeedSequence(5).generate_state(24, np.uint64).reshape(3, 8))
    assert abs(x.mean()) < 5 / np.sqrt(n)
    assert abs(x.var() - 1) < 5 * np.sqrt(2 / n)
    assert abs((x**4).mean() - 3) < 5 * np.sqrt(96 / n)
    p_tail = 2 * stats.norm.sf(3.6541528853610088)
    r = 3.6541528853610088
    assert abs((np.abs(x) > r).mean() - p_tail) < 5 * np.sqrt(p_tail / n)
    excess = np.abs(x)[np.abs(x) > r] - r
    assert abs(excess.mean() - (stats.norm.pdf(r) / stats.norm.sf(r) - r)) < 5 * excess.std() / np.sqrt(excess.size)
    assert stats.kstest(x[:500_000], "norm").pvalue > 1e-3


def test_hardware_profiles_hold_the_weights():
    """W on devices: (1) through ``engine.run`` the two-branch runner accepts a profile; with
    ``loihi2`` every read weight is on its grid (weight_scale (w_max - w_min) / 2^bits times an
    integer); (2) with programming noise only (continuous updates, write_noise_std = 0.01 of
    the range 2, weight_scale 8) the read weights minus the devices' hidden weights have
    standard deviation 0.16 within 5 s.e. (s.e. 0.16 / sqrt(2 n)) after 50 steps, while the
    hidden weights moved as the ideal run's weights (relative difference of the 50-step
    changes < 0.5: the noisy reads perturb the errors e); (3) the ideal
    profile gives exactly the profile-free run."""
    from neurocl.engines import Simulation, get_engine
    from neurocl.hardware.profile import HardwareProfile, load_profile
    from neurocl.plasticity import OnlineSGD

    m = TwoBranch(N=100, K=2, d1=2, init_overlap=0.1)
    loihi = load_profile("loihi2")
    traj = get_engine("numpy").run(m, OnlineSGD(0.5), None, m.task(),
                                   Simulation(dt=1.0, duration=60.0, replicas=2, seed=0, checkpoints=2), profile=loihi)
    levels = traj.params["W"] / (loihi.weight_scale * loihi.quantum)
    assert np.abs(levels - np.round(levels)).max() < 1e-9
    noisy = HardwareProfile(name="write_noise", w_min=-1.0, w_max=1.0, write_noise_std=0.01, weight_scale=8.0)
    learner_dev = OnlineLearner(m, 0.5, 2, np.random.default_rng([0, 7]), 0, *m.initial_overlaps(np.random.default_rng(1)),
                                block=16, profile=noisy)
    hidden0 = learner_dev.devices.hidden.copy()
    learner_dev.advance(0, 50)
    diff = learner_dev.W - noisy.weight_scale * learner_dev.devices.hidden
    assert abs(diff.std() - 0.16) < 5 * 0.16 / np.sqrt(2 * diff.size), diff.std()
    ideal = _learner(m, "numba", replicas=2, tau=0.5)
    W0 = ideal.W.copy()
    ideal.advance(0, 50)
    step_dev = noisy.weight_scale * (learner_dev.devices.hidden - hidden0)
    rel = np.linalg.norm(step_dev - (ideal.W - W0)) / np.linalg.norm(ideal.W - W0)
    assert rel < 0.5, rel          # the devices took the SGD steps (up to the effect of noisy reads)
    ideal = _learner(m, "numba", replicas=2, tau=0.5)
    ideal_dev = OnlineLearner(m, 0.5, 2, np.random.default_rng([0, 7]), 0, *m.initial_overlaps(np.random.default_rng(1)),
                              block=16, profile=HardwareProfile())
    ideal.advance(0, 50), ideal_dev.advance(0, 50)
    np.testing.assert_array_equal(ideal.W, ideal_dev.W)


def test_filling_ahead_does_not_change_the_trajectory():
    """One replica with a thread pool fills the next two blocks' views while the kernel runs on the
    current one: the weights after 1000 steps (N = 600, K = 4) are bitwise those of the
    single-threaded learner (no filling ahead), whole or cut into checkpoints at odd steps.
    Seen failing with the wrong block filled ahead (block ``i + 1`` in the slot of ``i``)."""
    m = TwoBranch(N=600, K=4, d1=3)
    M0, Q0 = m.initial_overlaps(np.random.default_rng(0))
    Ws = []
    for threads, cuts in [(1, [1000]), (2, [1000]), (2, [130, 64, 500, 306])]:
        learner = OnlineLearner(m, 1.0, 1, np.random.default_rng(1), 5, M0, Q0, threads=threads)
        k = 0
        for c in cuts:
            learner.advance(k, c)
            k += c
        Ws.append(learner.W.copy())
    assert np.array_equal(Ws[0], Ws[1]) and np.array_equal(Ws[0], Ws[2])
