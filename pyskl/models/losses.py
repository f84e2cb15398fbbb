"""Classification losses beyond cross-entropy, for ``GCNHead(loss_cls=dict(type=...))``.

``FocalLoss`` (Lin et al., 2017) down-weights the samples a model already gets right, which helps on
long-tailed data such as BABEL; with ``class_counts`` it is also class-balanced by the effective
number of samples (Cui et al., 2019), as BABEL's focal-loss baselines are.
"""
from typing import Optional, Sequence, Union

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..registry import MODELS


def class_balanced_weights(class_counts: Sequence[int], beta: float) -> np.ndarray:
    """Cui et al.'s weights: ``(1 - beta) / (1 - beta ** n_c)`` for a class of ``n_c`` training
    samples, scaled to sum to the number of classes (a class without samples gets the largest
    weight, that of a class of one sample: it can only occur at test time)."""
    counts = np.asarray(class_counts, dtype=np.float64)
    if counts.ndim != 1 or len(counts) < 1 or (counts < 0).any() or not np.isfinite(counts).all():
        raise ValueError(f'FocalLoss: class_counts must be a list of non-negative sample counts, got {class_counts!r}')
    if not 0 <= beta < 1:
        raise ValueError(f'FocalLoss: beta must be in [0, 1), got {beta!r}')
    weights = (1 - beta) / (1 - np.power(beta, np.maximum(counts, 1)))
    return weights / weights.sum() * len(counts)


@MODELS.register_module()
class FocalLoss(nn.Module):
    """Focal loss for single-label classification scores ``N x num_classes``.

    ``mode='softmax'`` (the usual multi-class form): per sample
    ``alpha[y] * (1 - p_y) ** gamma * -log p_y`` with ``p = softmax(score)``; with ``gamma=0`` and no
    ``alpha`` it is cross-entropy. ``mode='sigmoid'`` (the form of BABEL's baselines): each class is a
    binary problem; per sample ``alpha[y] * sum_c (1 - q_c) ** gamma * BCE(score_c, [c == y])``, ``q_c``
    the probability given to the right answer for class ``c``. The loss is the mean over the batch.

    Args:
        gamma: the focusing exponent (0: no focusing).
        alpha: per-class weights (a list of ``num_classes`` numbers), one weight for every class (a
            number), or None (1).
        class_counts: training samples of each class; gives ``alpha`` by Cui et al.'s effective number
            with ``beta`` (not together with ``alpha``).
        beta: see ``class_counts`` (BABEL's baselines: 0.9999).
        mode: ``'softmax'`` or ``'sigmoid'``.
    """

    MODES = ('softmax', 'sigmoid')

    def __init__(self, gamma: float = 2.0, alpha: Union[None, float, Sequence[float]] = None,
                 class_counts: Optional[Sequence[int]] = None, beta: float = 0.9999, mode: str = 'softmax'):
        super().__init__()
        if isinstance(gamma, bool) or not isinstance(gamma, (int, float)) or gamma < 0:
            raise ValueError(f'FocalLoss: gamma must be a number >= 0, got {gamma!r}')
        if mode not in self.MODES:
            raise ValueError(f'FocalLoss: mode must be one of {self.MODES}, got {mode!r}')
        if alpha is not None and class_counts is not None:
            raise ValueError('FocalLoss: give alpha or class_counts (which sets alpha), not both')
        if class_counts is not None:
            alpha = class_balanced_weights(class_counts, float(beta)).tolist()
        if alpha is not None:
            weights = np.atleast_1d(np.asarray(alpha, dtype=np.float64))
            if weights.ndim != 1 or (weights < 0).any() or not np.isfinite(weights).all():
                raise ValueError(f'FocalLoss: alpha must be a number or a list of class weights >= 0, got {alpha!r}')
            alpha = weights
        self.gamma = float(gamma)
        self.mode = mode
        # a buffer follows .to(device) but is not saved: checkpoints are the same with either loss
        self.register_buffer('alpha', None if alpha is None else torch.as_tensor(alpha, dtype=torch.float32),
                             persistent=False)

    def forward(self, cls_score: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
        N, C = cls_score.shape
        label = label.reshape(-1).long()
        if self.alpha is not None and len(self.alpha) not in (1, C):
            raise ValueError(f'FocalLoss: {len(self.alpha)} class weights (alpha / class_counts) for {C} classes')
        score = cls_score.float()
        if self.mode == 'softmax':
            log_p = F.log_softmax(score, dim=1).gather(1, label[:, None])[:, 0]  # N
            loss = (1 - log_p.exp()).clamp(min=0).pow(self.gamma) * -log_p
        else:
            target = F.one_hot(label, C).float()
            bce = F.binary_cross_entropy_with_logits(score, target, reduction='none')  # N x C
            loss = ((1 - torch.exp(-bce)).clamp(min=0).pow(self.gamma) * bce).sum(dim=1)
        if self.alpha is not None:
            loss = loss * (self.alpha.expand(C)[label] if len(self.alpha) == 1 else self.alpha[label])
        return loss.mean()

    def extra_repr(self) -> str:
        alpha = None if self.alpha is None else [round(a, 4) for a in self.alpha.tolist()]
        return f'gamma={self.gamma}, mode={self.mode!r}, alpha={alpha}'
