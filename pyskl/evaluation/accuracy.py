"""Classification accuracies on plain numpy arrays (no torch, no runner).

``scores`` is ``N x num_classes`` (probabilities or logits: only their order
matters), ``labels`` is ``N`` integer class indices. These are the numbers the
original PYSKL reported: ``top_k_accuracy`` gives the fraction of samples whose
label is among the ``k`` highest scores, ``mean_class_accuracy`` the mean of the
per-class recalls over the classes that occur in ``labels``.
"""
from collections.abc import Sequence
from typing import Optional

import numpy as np


def _check_scores_labels(scores, labels) -> tuple[np.ndarray, np.ndarray]:
    scores = np.asarray(scores)
    labels = np.asarray(labels)
    if scores.ndim != 2:
        raise ValueError(f'scores must be N x num_classes, got shape {scores.shape}')
    if labels.ndim != 1 or len(labels) != len(scores):
        raise ValueError(f'labels must be a vector of {len(scores)} class indices (one per score row), '
                         f'got shape {labels.shape}')
    if len(labels) == 0:
        raise ValueError('cannot compute an accuracy over zero samples')
    if not np.issubdtype(labels.dtype, np.integer):
        if not np.all(np.mod(labels, 1) == 0):
            raise ValueError('labels must be integer class indices')
        labels = labels.astype(np.int64)
    if labels.min() < 0 or labels.max() >= scores.shape[1]:
        raise ValueError(f'labels must lie in [0, {scores.shape[1]}) (the number of score columns), '
                         f'got values from {labels.min()} to {labels.max()}')
    return scores, labels


def top_k_accuracy(scores, labels, topk: Sequence[int] = (1, )) -> list[float]:
    """Fraction of samples whose label is among their ``k`` best scores, for each ``k``.

    Ties are broken towards the lower class index; ``k`` larger than the
    number of classes counts every sample as a hit (as the original did).
    """
    scores, labels = _check_scores_labels(scores, labels)
    if isinstance(topk, int):
        topk = (topk, )
    # stable sort of -scores: best first, equal scores keep class order
    ranking = np.argsort(-scores, axis=1, kind='stable')
    accs = []
    for k in topk:
        if int(k) < 1:
            raise ValueError(f'top-k accuracy needs k >= 1, got {k}')
        hits = (ranking[:, :int(k)] == labels[:, None]).any(axis=1)
        accs.append(float(hits.mean()))
    return accs


def confusion_matrix(y_pred, y_real, num_classes: Optional[int] = None,
                     normalize: Optional[str] = None) -> np.ndarray:
    """``C[i, j]`` = number of samples of true class ``i`` predicted as ``j``.

    Args:
        y_pred, y_real: integer class indices, same length.
        num_classes: size of the matrix; default ``max(y_pred, y_real) + 1``.
        normalize: ``None`` (counts), ``'true'`` (rows sum to 1), ``'pred'``
            (columns sum to 1) or ``'all'`` (the matrix sums to 1); empty rows
            or columns stay 0.
    """
    y_pred = np.asarray(y_pred).astype(np.int64)
    y_real = np.asarray(y_real).astype(np.int64)
    if y_pred.shape != y_real.shape or y_pred.ndim != 1:
        raise ValueError(f'y_pred and y_real must be vectors of the same length, got {y_pred.shape} and '
                         f'{y_real.shape}')
    if len(y_pred) and min(y_pred.min(), y_real.min()) < 0:
        raise ValueError('class indices must be >= 0')
    if num_classes is None:
        num_classes = int(max(y_pred.max(initial=-1), y_real.max(initial=-1))) + 1
    elif len(y_pred) and max(y_pred.max(), y_real.max()) >= num_classes:
        raise ValueError(f'class index {max(y_pred.max(), y_real.max())} >= num_classes={num_classes}')
    counts = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(counts, (y_real, y_pred), 1)
    if normalize is None:
        return counts
    if normalize not in ('true', 'pred', 'all'):
        raise ValueError(f"normalize must be None, 'true', 'pred' or 'all', got {normalize!r}")
    axis = {'true': 1, 'pred': 0, 'all': None}[normalize]
    total = counts.sum(axis=axis, keepdims=axis is not None).astype(np.float64)
    with np.errstate(invalid='ignore', divide='ignore'):
        out = np.where(total > 0, counts / np.where(total > 0, total, 1), 0.0)
    return out


def mean_class_accuracy(scores, labels) -> float:
    """Mean over the classes present in ``labels`` of the fraction of their samples predicted right."""
    scores, labels = _check_scores_labels(scores, labels)
    pred = scores.argmax(axis=1)
    recalls = [float((pred[labels == c] == c).mean()) for c in np.unique(labels)]
    return float(np.mean(recalls))
