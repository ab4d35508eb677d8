"""Sample-contrastive representation learning: an encoder trained on the global contrastive
loss with a chosen negative estimator (paper 002, EMC^2; issue 15).

Data: the rows of a dataset (``[data]``: ``digits`` or ``mnist1d``); each epoch draws two
views of every training sample (:mod:`neurocl.data.augment`: additive noise ``view_noise``,
pixel dropout ``view_dropout``, shifts up to ``view_shift`` along the axes of
``view_shape``), forming the ``2n``-view table of the global contrastive loss
(:mod:`neurocl.objectives.global_contrastive`, inverse temperature ``beta``).  Each step
draws ``batch`` sample indices without replacement (a fresh permutation per epoch) and
applies ``w <- w - learning_rate * g_hat`` with ``g_hat`` the estimator's gradient
(:data:`neurocl.samplers.NEGATIVE_ESTIMATORS`: ``exact``, ``in_batch``, ``sogclr``, ``emc2``,
``isd``).  One step per ``simulation.dt`` ms; "samples accessed" = steps x batch.

Metrics at every checkpoint, per replica, on frozen features (encoder outputs; for ``mlp``
the hidden layer, the "backbone" before the output "projection", as SimCLR evaluates):
``probe_acc`` (linear probe, logistic regression, test accuracy as a fraction in [0, 1]),
``knn1_acc`` (1-nearest-neighbour test accuracy, cosine, fraction), ``alpha_req``
(power-law exponent of the test features' eigenspectrum, dimensionless; Part II of
``papers/003_*``), ``alpha_r2`` (its fit's weighted R^2) and ``loss_nats`` (the global
contrastive loss, nats, on a fixed evaluation table: two views, drawn once with seed 0, of the
first ``LOSS_SAMPLES`` training samples; with ``fixed_views``, the whole training table, i.e.
exactly the finite-sum objective every estimator follows).

``fixed_views`` (paper 002's small SGD run, its code's ``--finite_aug --n_aug 2``: a
pre-augmented dataset with two fixed views per image): the ``2n``-view table is drawn once, by
:func:`fixed_view_table` (generator ``default_rng(0)``, the same for every replica and seed),
and kept for the whole run, so that the loss is a finite sum whose exact gradient the ``exact``
estimator follows and whose softmax over negatives the chains of ``emc2`` / ``isd`` target
(with fresh views every epoch, each chain's target moves at every epoch).

Diverged: a non-finite weight or any ``|weight| > 1e3`` (the outputs are normalised, so the loss
does not bound the weights' scale; 1e3 means the update ran away).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from neurocl.circuits.base import CIRCUITS, check_dimension, magnitude_check
from neurocl.circuits.encoders import ENCODER_KINDS, make_encoder
from neurocl.data.augment import ViewSpec
from neurocl.errors import ConfigError
from neurocl.measure.representation import check_metric_names, metrics_field, with_representation_metrics
from neurocl.samplers.negatives import NEGATIVE_ESTIMATORS, make_estimator
from neurocl.simulation import Task
from neurocl.validate import check_fields, non_negative, one_of, positive, positive_int

__all__ = ["SampleContrastive", "MAX_WEIGHT", "LOSS_SAMPLES", "fixed_view_table"]

#: ``|weight|`` beyond which a run counts as diverged
MAX_WEIGHT = 1e3
#: training samples in the fixed view table on which ``loss_nats`` is evaluated
LOSS_SAMPLES = 1000


def fixed_view_table(x: np.ndarray, spec: ViewSpec) -> np.ndarray:
    """The ``(2n, d_in)`` view table of ``fixed_views`` runs: first views of the ``n`` rows of
    ``x``, then second views, drawn with ``default_rng(0)`` (:func:`~neurocl.data.augment.make_views`)."""
    from neurocl.data.augment import make_views

    rng = np.random.default_rng(0)
    return np.vstack([make_views(x, spec, rng), make_views(x, spec, rng)])


@CIRCUITS.register
@dataclass(frozen=True)
class SampleContrastive:
    """An encoder ``d_in -> d_out`` learning by sample-contrastive SGD (module docstring).

    Parameters
    ----------
    d_in, d_out, hidden : int
        Input, output and (``mlp``) hidden sizes.
    encoder : {"linear", "single", "mlp"}
    activation : {"tanh", "relu"}
    beta : float
        Inverse temperature of the loss (paper 002: 5 in its small run, 14.28 in its main runs).
    estimator : {"exact", "in_batch", "sogclr", "emc2", "isd"}
    batch : int
        Samples per step (``2 batch`` views).
    gamma : float
        SogCLR's moving-average rate (in (0, 1]).
    burn_in : float
        Fraction of each EMC^2 / ISD sweep discarded (in [0, 1)).
    refresh : bool
        EMC^2 / ISD: re-score each chain's current state with the present weights and views
        before its sweep (exact MH on the present table) instead of the stored, stale score of
        paper 002's code.
    advance_all : bool
        EMC^2 / ISD: advance every chain at every step through the batch's views (scored with
        each view's last embedding), not only the batch's chains as paper 002's Alg. 1
        (:class:`~neurocl.samplers.negatives.EMC2Negatives`).
    b_pos : float
        ISD's probability of a positive step (in (0, 1)).
    view_shape : tuple of int
        Spatial shape of one sample (``[8, 8]`` digits, ``[40]`` MNIST-1D).
    view_noise, view_dropout : float
        Additive Gaussian noise std (data units) and pixel dropout probability of the views.
    view_shift : int
        Largest shift (pixels) of a view along each axis.
    init_seed_offset : int
        Added to the simulation seed for the encoder's initial weights (0: the same initial
        weights for every estimator at a given seed, so that runs differ by the estimator only).
    fixed_views : bool
        Draw the view table once and keep it (a finite-sum loss; module docstring) instead of
        fresh views every epoch.
    metrics : list of str
        Opt-in representation metrics (:mod:`neurocl.measure.representation`) of the frozen test
        features; ``alpha_req`` is recorded anyway (a column of every run's table).
    """

    d_in: int
    d_out: int = 32
    hidden: int = 128
    encoder: str = "mlp"
    activation: str = "tanh"
    beta: float = 5.0
    estimator: str = "emc2"
    batch: int = 16
    gamma: float = 0.9
    burn_in: float = 0.5
    refresh: bool = False
    advance_all: bool = False
    b_pos: float = 0.5
    view_shape: tuple = (8, 8)
    view_noise: float = 0.1
    view_dropout: float = 0.1
    view_shift: int = 1
    init_seed_offset: int = 0
    fixed_views: bool = field(default=False, metadata={"omit_if_default": True})
    metrics: tuple = metrics_field()

    kind = "sample_contrastive"
    dynamics = "sgd"
    data_layer = None
    clamp_units = None
    main_metric = "probe_acc"
    summary_panel = None
    #: the columns of the checkpoint table ``neurocl run`` prints, and what each means
    table_metrics = ("probe_acc", "knn1_acc", "alpha_req", "alpha_r2", "loss_nats")
    metric_definitions = MappingProxyType({
        "probe_acc": "linear-probe (logistic regression) test accuracy on frozen features, fraction in [0, 1]",
        "knn1_acc": "1-nearest-neighbour (cosine) test accuracy on frozen features, fraction in [0, 1]",
        "alpha_req": "alpha-ReQ: power-law decay exponent of the test features' eigenspectrum, dimensionless",
        "alpha_r2": "weighted R^2 of the alpha-ReQ fit (log lambda_k vs log k), dimensionless",
        "loss_nats": f"global contrastive loss on a fixed table of two views of {LOSS_SAMPLES} training samples "
                     "(fixed_views: of every training sample, the training table itself), nats",
    })

    def __post_init__(self):
        check_fields(self)
        for name in ("d_in", "d_out", "batch"):
            object.__setattr__(self, name, positive_int(name, getattr(self, name)))
        if self.encoder == "mlp":
            positive_int("hidden", self.hidden)
        one_of("encoder", self.encoder, set(ENCODER_KINDS))
        one_of("activation", self.activation, {"tanh", "relu"})
        one_of("estimator", self.estimator, set(NEGATIVE_ESTIMATORS))
        object.__setattr__(self, "beta", positive("beta", self.beta))
        if self.batch < 2:
            raise ConfigError(f"batch = {self.batch} must be >= 2 (a batch needs negatives)")
        object.__setattr__(self, "view_shape", tuple(int(s) for s in self.view_shape))
        if int(np.prod(self.view_shape)) != self.d_in:
            raise ConfigError(f"view_shape = {list(self.view_shape)} holds {int(np.prod(self.view_shape))} values, "
                              f"not d_in = {self.d_in}")
        for name in ("view_noise", "view_dropout"):
            object.__setattr__(self, name, non_negative(name, getattr(self, name)))
        ViewSpec(self.view_shape, self.view_noise, self.view_dropout, self.view_shift)
        self.make_estimator()  # range checks of gamma, burn_in, b_pos
        object.__setattr__(self, "metrics", check_metric_names(self.metrics))

    # --- the pieces the runner uses ------------------------------------------------------
    def make_encoder(self):
        return make_encoder(self.encoder, self.d_in, self.d_out, self.hidden if self.encoder == "mlp" else 0,
                            self.activation if self.encoder != "linear" else "tanh")

    def make_estimator(self):
        params = {"exact": {}, "in_batch": {}, "sogclr": {"gamma": self.gamma},
                  "emc2": {"burn_in": self.burn_in, "refresh": self.refresh, "advance_all": self.advance_all},
                  "isd": {"b_pos": self.b_pos, "burn_in": self.burn_in, "refresh": self.refresh,
                          "advance_all": self.advance_all}}
        return make_estimator(self.estimator, **params[self.estimator])

    def view_spec(self) -> ViewSpec:
        return ViewSpec(self.view_shape, self.view_noise, self.view_dropout, self.view_shift)

    @property
    def n_synapses(self) -> int:
        return self.make_encoder().n_params

    def init_params(self, rng: np.random.Generator, replicas: int = 1) -> dict:
        """``{"w": (R, n_params)}``: the encoder's flat weights per replica (LeCun normal)."""
        enc = self.make_encoder()
        return {"w": np.stack([enc.init(rng) for _ in range(replicas)])}

    def features(self, w: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Frozen features of ``x``: the hidden layer of ``mlp``, the outputs otherwise."""
        enc = self.make_encoder()
        if self.encoder == "mlp":
            return enc.forward(w, x)[1][1]
        return enc.forward(w, x)[0]

    def task(self, data=None) -> Task:
        """Training rows to learn from (``clamp``) and the checkpoint metrics (module docstring)."""
        from neurocl.data.augment import make_views
        from neurocl.measure.alpha_req import alpha_req
        from neurocl.objectives.global_contrastive import global_contrastive_loss, normalize
        from neurocl.measure.probe import knn1_accuracy, linear_probe_accuracy

        if data is None or not np.size(data.x):
            raise ConfigError("a sample_contrastive circuit needs a dataset: [data] name = \"digits\" or \"mnist1d\"")
        check_dimension("d_in", self.d_in, data.x.shape[1])
        if data.y is None or data.y_test is None:
            raise ConfigError("a sample_contrastive circuit needs labelled data for its probes")
        x, y, xt, yt = data.x, data.y, data.x_test, data.y_test
        if self.fixed_views:
            v1, v2 = np.split(fixed_view_table(x, self.view_spec()), 2)
        else:
            rng = np.random.default_rng(0)
            x_loss = x[:LOSS_SAMPLES]
            v1, v2 = make_views(x_loss, self.view_spec(), rng), make_views(x_loss, self.view_spec(), rng)
        enc = self.make_encoder()

        def evaluate(p):
            out = {k: np.zeros(len(p["w"])) for k in ("probe_acc", "knn1_acc", "alpha_req", "alpha_r2", "loss_nats")}
            for r, w in enumerate(p["w"]):
                out["loss_nats"][r] = global_contrastive_loss(normalize(enc.forward(w, v1)[0])[0],
                                                              normalize(enc.forward(w, v2)[0])[0], self.beta)
                f_tr, f_te = self.features(w, x), self.features(w, xt)
                out["probe_acc"][r] = linear_probe_accuracy(f_tr, y, f_te, yt)
                out["knn1_acc"][r] = knn1_accuracy(f_tr, y, f_te, yt)
                a = alpha_req(f_te)
                out["alpha_req"][r], out["alpha_r2"][r] = a.alpha, a.r2
            return out

        task = Task(clamp=np.asarray(x, dtype=float), evaluate=evaluate,
                    check=magnitude_check(MAX_WEIGHT, "the encoder's weights ran away"))
        return with_representation_metrics(task, self.metrics, lambda p, r: self.features(p["w"][r], xt))
