"""MNIST-1D (Greydanus 2020), generated locally from the ``mnist1d`` package's templates.

``mnist1d.data.make_dataset(get_dataset_args())`` builds the standard set (4000 train / 1000
test 40-sample signals, 10 classes) from ten hand-made templates with random padding,
translation, scaling, shear and noise; neurocl never calls the package's download path
(``get_dataset(..., download=True)``).  Published test accuracies: logistic regression ~32 %,
MLP ~68 %, CNN ~94 %.

``make_dataset`` seeds numpy's *global* generator (``mnist1d.utils.set_seed``); neurocl
saves and restores that global state around the call so that loading the data changes no
other randomness.  Generating the standard 5000 samples takes about 5 s on one core.
"""

from __future__ import annotations

import numpy as np

__all__ = ["load_mnist1d"]


def load_mnist1d(num_samples: int = 5000, seed: int = 42, train_split: float = 0.8, standardize: bool = True):
    """Generate MNIST-1D locally; returns ``(x_train, y_train, x_test, y_test)``.

    Parameters
    ----------
    num_samples : total samples (the standard set: 5000), split ``train_split`` / rest
    seed : the generator's seed (the standard set: 42)
    standardize : scale by the training set's overall standard deviation (the signals are
        already centred near 0 with unit scale; this makes it exact)
    """
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    args.num_samples = int(num_samples)
    args.seed = int(seed)
    args.train_split = float(train_split)
    saved = np.random.get_state()
    try:
        data = make_dataset(args)
    finally:
        np.random.set_state(saved)
    x_tr = np.asarray(data["x"], dtype=float)
    x_te = np.asarray(data["x_test"], dtype=float)
    if standardize:
        sd = float(x_tr.std())
        x_tr, x_te = x_tr / sd, x_te / sd
    return x_tr, np.asarray(data["y"], dtype=int), x_te, np.asarray(data["y_test"], dtype=int)
