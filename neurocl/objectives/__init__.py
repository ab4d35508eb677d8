"""Objectives of view-based contrastive learning (positive and negative terms)."""

from neurocl.objectives.global_contrastive import (
    anchor_grad_rows,
    global_contrastive_grad,
    global_contrastive_loss,
    global_contrastive_loss_and_grad,
    global_contrastive_loss_and_grad_h,
    negative_mask,
    negative_softmax,
    normalize,
    normalize_backward,
    positive_index,
)

__all__ = [
    "anchor_grad_rows",
    "global_contrastive_grad",
    "global_contrastive_loss",
    "global_contrastive_loss_and_grad",
    "global_contrastive_loss_and_grad_h",
    "negative_mask",
    "negative_softmax",
    "normalize",
    "normalize_backward",
    "positive_index",
]
