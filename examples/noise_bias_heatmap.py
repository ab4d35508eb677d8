"""Variance and bias heatmap on digits (Ghosh et al. ICLR 2023, Fig. 1 analogue; their VGG-16 on
CIFAR-10 is not feasible on 2 cores, so a ReLU network 64-64-10 on scikit-learn's digits is the
stand-in): train and test accuracy after full-batch gradient descent whose gradient is
corrupted by a bias along a fixed direction and by isotropic noise, both given as fractions of
the gradient norm: ``g + b |g| beta / sqrt(N) + s |g| n`` (``beta`` a fixed random unit-norm
sign vector times sqrt(N), ``n`` a fresh unit vector every step).

Run:  python examples/noise_bias_heatmap.py [--out examples/noise_bias_heatmap.png] [--epochs E]
      (the numbers go to ``<out>.json``: accuracies in %, rows bias, columns noise)
"""

import argparse

import numpy as np

from neurocl.data import load_digits_split, one_hot
from neurocl.plotting import new_figure, save_with_numbers

BIASES = [0.0, 0.01, 0.03, 0.1, 0.3, 1.0]
NOISES = [0.0, 0.1, 0.3, 1.0, 3.0, 10.0]


def _init(rng):
    return [rng.uniform(-1, 1, (64, 64)) * np.sqrt(6 / 128), np.zeros(64),
            rng.uniform(-1, 1, (64, 10)) * np.sqrt(6 / 74), np.zeros(10)]


def _forward(p, X):
    z = X @ p[0] + p[1]
    h = np.maximum(z, 0)
    return z, h, h @ p[2] + p[3]


def _grad(p, X, Y):
    """Gradient of the mean squared error to one-hot targets."""
    z, h, out = _forward(p, X)
    d = 2 * (out - Y) / len(X)
    dh = (d @ p[2].T) * (z > 0)
    return [X.T @ dh, dh.sum(0), h.T @ d, d.sum(0)]


def _acc(p, X, y):
    return 100.0 * np.mean(_forward(p, X)[2].argmax(1) == y)


def train(bias, noise, epochs, lr, seed, data):
    x_tr, y_tr, x_te, y_te = data
    Y = one_hot(y_tr)
    rng = np.random.default_rng(seed)
    p = _init(np.random.default_rng(seed))
    sizes = [q.size for q in p]
    N = sum(sizes)
    beta = rng.choice([-1.0, 1.0], N)  # fixed bias direction, |beta| = sqrt(N)
    for _ in range(epochs):
        g = np.concatenate([q.ravel() for q in _grad(p, x_tr, Y)])
        gn = np.linalg.norm(g)
        n = rng.standard_normal(N)
        n /= np.linalg.norm(n)
        g = g + bias * gn * beta / np.sqrt(N) + noise * gn * n
        parts = np.split(g, np.cumsum(sizes)[:-1])
        p = [q - lr * d.reshape(q.shape) for q, d in zip(p, parts)]
    return _acc(p, x_tr, y_tr), _acc(p, x_te, y_te)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="examples/noise_bias_heatmap.png")
    ap.add_argument("--epochs", type=int, default=400)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--seeds", type=int, default=3)
    args = ap.parse_args(argv)
    data = load_digits_split()
    train_acc = np.zeros((len(BIASES), len(NOISES)))
    test_acc = np.zeros_like(train_acc)
    per_seed = np.zeros((len(BIASES), len(NOISES), args.seeds, 2))
    for i, b in enumerate(BIASES):
        for j, s in enumerate(NOISES):
            per_seed[i, j] = [train(b, s, args.epochs, args.lr, seed, data) for seed in range(args.seeds)]
            train_acc[i, j], test_acc[i, j] = per_seed[i, j].mean(0)
    fig, axes = new_figure(2, 4.6, 3.9)
    for ax, acc, title in ((axes[0], train_acc, "train"), (axes[1], test_acc, "test")):
        im = ax.imshow(acc, origin="lower", cmap="viridis", aspect="auto")
        ax.set_xticks(range(len(NOISES)), [f"{x:g}" for x in NOISES])
        ax.set_yticks(range(len(BIASES)), [f"{x:g}" for x in BIASES])
        ax.set_xlabel("noise norm / gradient norm")
        ax.set_ylabel("bias norm / gradient norm")
        ax.set_title(f"digits {title} accuracy (%), mean of {args.seeds} seeds")
        ax.grid(False)
        for (i, j), v in np.ndenumerate(acc):
            ax.text(j, i, f"{v:.1f}", ha="center", va="center", fontsize=6, color="w" if v < acc.max() - 5 else "k")
        fig.colorbar(im, ax=ax, label="accuracy (%)")
    base = test_acc[0, 0]
    best = np.unravel_index(np.argmax(test_acc), test_acc.shape)
    print(f"clean gradient: train {train_acc[0, 0]:.1f} %, test {base:.1f} % ({args.epochs} epochs, lr {args.lr})")
    print(f"best test accuracy {test_acc[best]:.1f} % at bias {BIASES[best[0]]:g} |g|, noise {NOISES[best[1]]:g} |g|")
    helps = [(BIASES[i], NOISES[j], test_acc[i, j]) for (i, j), v in np.ndenumerate(test_acc) if v > base + 0.5]
    print("cells more than 0.5 points above the clean gradient's test accuracy: "
          + (", ".join(f"(bias {b:g}, noise {s:g}: {v:.1f} %)" for b, s, v in helps) or "none"))
    save_with_numbers(fig, args.out, {
        "epochs": args.epochs, "lr": args.lr, "seeds": args.seeds, "bias_over_grad_norm": BIASES,
        "noise_over_grad_norm": NOISES, "train_acc_pct": train_acc.tolist(), "test_acc_pct": test_acc.tolist(),
        "per_seed_train_acc_pct": per_seed[..., 0].tolist(), "per_seed_test_acc_pct": per_seed[..., 1].tolist(),
        "clean_train_acc_pct": float(train_acc[0, 0]), "clean_test_acc_pct": float(base),
        "best_test_acc_pct": float(test_acc[best]), "best_bias": BIASES[best[0]], "best_noise": NOISES[best[1]],
        "cells_above_clean_by_half_point": [[b, s, float(v)] for b, s, v in helps]})


if __name__ == "__main__":
    main()
