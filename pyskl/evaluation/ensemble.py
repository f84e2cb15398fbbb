"""Fuse the test scores of several streams (joint, bone, joint motion, bone motion).

The original published its Two-Stream (1:1) and Four-Stream (2:2:1:1) numbers
by adding each stream's stored test scores (class probabilities after
multi-clip averaging), weighted, and taking the best class of the sum. A result
file is what ``tools/test.py --out`` writes: a list with one score vector per
test sample, in dataset order.
"""
import os
from collections.abc import Sequence
from typing import Optional, Union

import numpy as np

from pyskl.utils.annotation_files import read_annotation_file, split_samples
from pyskl.utils.safe_pickle import load_pickle
from .accuracy import mean_class_accuracy, top_k_accuracy

PathLike = Union[str, os.PathLike]


def load_result_scores(path: PathLike) -> np.ndarray:
    """A result file as an ``N x num_classes`` float64 array.

    Accepts a list of 1-D score arrays (``test.py --out``) or one 2-D array.
    """
    path = os.fspath(path)
    results = load_pickle(path)
    if isinstance(results, np.ndarray):
        rows = list(results) if results.ndim == 2 else None
    elif isinstance(results, (list, tuple)):
        rows = results
    else:
        rows = None
    if rows is None:
        raise ValueError(f'{path}: expected a list of per-sample score arrays (test.py --out), '
                         f'got {type(results).__name__}')
    if not rows:
        raise ValueError(f'{path}: the result file holds no samples')
    arrays = []
    for i, row in enumerate(rows):
        try:
            row = np.asarray(row, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f'{path}: sample {i} is not an array of class scores') from None
        if row.ndim != 1:
            raise ValueError(f'{path}: sample {i} has scores of shape {row.shape}; expected one vector '
                             'of class scores per sample')
        arrays.append(row)
    widths = {len(a) for a in arrays}
    if len(widths) != 1:
        raise ValueError(f'{path}: samples have different numbers of class scores {sorted(widths)}')
    return np.stack(arrays)


def labels_from_annotation(ann_file: PathLike, split: Optional[str]) -> np.ndarray:
    """Labels of the samples of ``split``, in the order PoseDataset reads them:
    the annotation list order, keeping the samples whose ``frame_dir`` the split names.
    ``split=None`` takes every annotation.

    This is the test set's order only where the dataset dropped no sample
    (``valid_ratio``, ``on_bad_sample='skip'``); otherwise pass the labels with ``--labels``.
    """
    ann_file = os.fspath(ann_file)
    samples, splits = read_annotation_file(ann_file)
    annotations = split_samples(samples, splits, split, ann_file)
    labels = []
    for ann in annotations:
        if 'label' not in ann:
            raise ValueError(f"{ann_file}: sample {ann.get('frame_dir')!r} has no 'label'")
        labels.append(int(ann['label']))
    if not labels:
        raise ValueError(f'{ann_file}: split {split!r} selects no samples')
    return np.array(labels, dtype=np.int64)


def load_labels(path: PathLike) -> np.ndarray:
    """Labels from a ``.npy`` array or a text file with one integer per line."""
    path = os.fspath(path)
    if path.endswith('.npy'):
        labels = np.load(path, allow_pickle=False)
    else:
        with open(path, encoding='utf-8') as f:
            lines = [line.strip() for line in f if line.strip()]
        try:
            labels = np.array([int(line) for line in lines])
        except ValueError:
            raise ValueError(f'{path}: expected one integer label per line') from None
    labels = np.asarray(labels).reshape(-1)
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f'{path}: labels must be integers, got dtype {labels.dtype}')
    return labels.astype(np.int64)


def fuse_scores(scores: Sequence[np.ndarray], weights: Optional[Sequence[float]] = None,
                names: Optional[Sequence[str]] = None) -> np.ndarray:
    """``sum_i weights[i] * scores[i]``; all score arrays must have the same shape."""
    if not scores:
        raise ValueError('no result files to fuse')
    names = list(names) if names is not None else [f'stream {i}' for i in range(len(scores))]
    weights = [1.0] * len(scores) if weights is None else [float(w) for w in weights]
    if len(weights) != len(scores):
        raise ValueError(f'{len(weights)} weights given for {len(scores)} result files')
    first = scores[0]
    for name, s in zip(names[1:], scores[1:]):
        if len(s) != len(first):
            raise ValueError(f'{name} holds {len(s)} samples but {names[0]} holds {len(first)}: '
                             'the result files come from different test sets')
        if s.shape[1] != first.shape[1]:
            raise ValueError(f'{name} has {s.shape[1]} classes but {names[0]} has {first.shape[1]}')
    return sum(w * s for w, s in zip(weights, scores))


def evaluate_scores(scores: np.ndarray, labels: np.ndarray, topk: Sequence[int] = (1, 5)) -> dict:
    """``top{k}_acc`` for each k and ``mean_class_accuracy``, as the test metrics name them."""
    accs = top_k_accuracy(scores, labels, topk)
    out = {f'top{k}_acc': a for k, a in zip(topk, accs)}
    out['mean_class_accuracy'] = mean_class_accuracy(scores, labels)
    return out


def ensemble(result_files: Sequence[PathLike], labels: np.ndarray, weights: Optional[Sequence[float]] = None,
             labels_source: str = 'the labels') -> tuple[dict, list[dict], np.ndarray]:
    """Fuse result files and evaluate. Returns (fused metrics, per-file metrics, fused scores)."""
    names = [os.fspath(p) for p in result_files]
    scores = [load_result_scores(p) for p in result_files]
    for name, s in zip(names, scores):
        if len(s) != len(labels):
            raise ValueError(f'{name} holds {len(s)} samples but {labels_source} give {len(labels)} labels: '
                             'was it tested on another split or annotation file?')
        if labels.max() >= s.shape[1]:
            raise ValueError(f'{labels_source} contain class {labels.max()} but {name} has only '
                             f'{s.shape[1]} classes')
    fused = fuse_scores(scores, weights, names)
    per_file = [evaluate_scores(s, labels) for s in scores]
    return evaluate_scores(fused, labels), per_file, fused


def format_report(names: Sequence[str], weights: Sequence[float], per_file: Sequence[dict], fused: dict) -> str:
    width = max(len('result file'), *(len(n) for n in names))
    lines = [f'{"result file":<{width}}  weight   top1_acc  top5_acc  mean_class_accuracy']
    for name, w, m in zip(names, weights, per_file):
        lines.append(f'{name:<{width}}  {w:6g}   {m["top1_acc"]:8.4f}  {m["top5_acc"]:8.4f}  '
                     f'{m["mean_class_accuracy"]:8.4f}')
    lines.append(f'{"fused":<{width}}  {"":6}   {fused["top1_acc"]:8.4f}  {fused["top5_acc"]:8.4f}  '
                 f'{fused["mean_class_accuracy"]:8.4f}')
    return '\n'.join(lines)
