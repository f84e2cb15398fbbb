"""mmengine metrics for action recognition, registered in ``pyskl.registry.METRICS``.

Result keys (what the log shows and what ``save_best`` names), as the original
PYSKL printed them:

    top1_acc             top-1 accuracy, a fraction in [0, 1]   <- use for save_best
    top5_acc             top-5 accuracy (one key per k of ``topk``: ``top{k}_acc``)
    mean_class_accuracy  mean of the per-class recalls

The original config's ``evaluation = dict(metrics=['top_k_accuracy',
'mean_class_accuracy'])`` maps onto ``AccMetric(metric_list=['top_k_accuracy',
'mean_class_accuracy'])``. (Not ``metrics=``: mmengine's Runner takes any
evaluator dict holding a ``metrics`` key for an ``Evaluator`` config, so
``val_evaluator=dict(type='AccMetric', metrics=...)`` would fail to build.)
The standalone metrics ``TopKAccuracy`` (alias ``top_k_accuracy``) and
``MeanClassAccuracy`` (alias ``mean_class_accuracy``) give the same keys.
``ConfusionMatrix`` writes ``confusion_matrix.png`` and ``confusion_matrix.csv``
into its ``out_dir`` (the engine sets the work dir);
``DumpScores`` writes the ``--out`` result file: a list with one float32 score
array per test sample, in dataset order (the original's layout).

Each metric receives the model's predict outputs, one per sample:
``dict(pred_score=Tensor(num_classes), gt_label=int tensor or None)``.
Across ranks, mmengine's ``BaseMetric.evaluate`` gathers the per-rank result
lists with ``collect_results``, which interleaves them rank by rank (the
inverse of ``DefaultSampler``'s ``indices[rank::world_size]``) and drops the
sampler's padding by cutting at the dataset size, so ``compute_metrics`` sees
exactly one result per sample, in dataset order.
"""
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Optional, Union

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log

from pyskl.registry import METRICS
from pyskl.utils.annotation_files import read_label_map
from pyskl.utils.safe_pickle import dump_pickle
from .accuracy import confusion_matrix, mean_class_accuracy, top_k_accuracy
from .plots import plot_confusion_matrix, write_confusion_matrix_csv

TOP1_KEY = 'top1_acc'
MEAN_CLASS_KEY = 'mean_class_accuracy'
KNOWN_METRICS = ('top_k_accuracy', 'mean_class_accuracy')


def _field(sample: Any, key: str):
    if isinstance(sample, dict):
        return sample.get(key)
    return getattr(sample, key, None)


def _to_numpy_score(score) -> np.ndarray:
    if score is None:
        raise KeyError("a predict output has no 'pred_score' (the model's predict mode must return "
                       'dict(pred_score=..., gt_label=...) per sample)')
    if isinstance(score, torch.Tensor):
        score = score.detach().float().cpu().numpy()
    score = np.asarray(score, dtype=np.float32)
    if score.ndim != 1:
        raise ValueError(f"'pred_score' must be a vector of class scores, got shape {score.shape}")
    return score


def _to_label(label) -> Optional[int]:
    if label is None:
        return None
    if isinstance(label, torch.Tensor):
        if label.numel() != 1:
            raise ValueError(f"'gt_label' must hold one class index, got shape {tuple(label.shape)}")
        return int(label.item())
    label = np.asarray(label)
    if label.size != 1:
        raise ValueError(f"'gt_label' must hold one class index, got shape {label.shape}")
    return int(label.reshape(()))


class _ScoreMetric(BaseMetric):
    """Stores ``(score vector, label or None)`` per sample."""

    def process(self, data_batch: Any, data_samples: Sequence) -> None:
        for sample in data_samples:
            self.results.append(
                (_to_numpy_score(_field(sample, 'pred_score')), _to_label(_field(sample, 'gt_label'))))

    def _stack(self, results: list) -> tuple[np.ndarray, np.ndarray]:
        lengths = {len(score) for score, _ in results}
        if len(lengths) > 1:
            raise ValueError(f'{type(self).__name__}: predictions have different numbers of classes {lengths}')
        if any(label is None for _, label in results):
            raise ValueError(f'{type(self).__name__}: some test samples have no ground-truth label, so no '
                             'accuracy can be computed; dump the scores only (test.py --out without --eval)')
        scores = np.stack([score for score, _ in results])
        labels = np.array([label for _, label in results], dtype=np.int64)
        return scores, labels


def _normalise_topk(topk) -> tuple[int, ...]:
    if isinstance(topk, int):
        topk = (topk, )
    if not isinstance(topk, (tuple, list)) or not topk or not all(isinstance(k, int) and k >= 1 for k in topk):
        raise TypeError(f'topk must be a positive int or a tuple of them, got {topk!r}')
    return tuple(topk)


@METRICS.register_module(name=['TopKAccuracy', 'top_k_accuracy'])
class TopKAccuracy(_ScoreMetric):
    """``top{k}_acc`` for each ``k`` in ``topk`` (default 1 and 5)."""

    default_prefix = ''  # keys as the original printed them, no 'acc/' prefix

    def __init__(self, topk: Union[int, Sequence[int]] = (1, 5), collect_device: str = 'cpu',
                 prefix: Optional[str] = None, collect_dir: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix, collect_dir=collect_dir)
        self.topk = _normalise_topk(topk)

    def compute_metrics(self, results: list) -> dict:
        scores, labels = self._stack(results)
        accs = top_k_accuracy(scores, labels, self.topk)
        return {f'top{k}_acc': acc for k, acc in zip(self.topk, accs)}


@METRICS.register_module(name=['MeanClassAccuracy', 'mean_class_accuracy'])
class MeanClassAccuracy(_ScoreMetric):
    """``mean_class_accuracy``: the mean over classes of the fraction of their samples predicted right."""

    default_prefix = ''  # keys as the original printed them, no 'acc/' prefix

    def compute_metrics(self, results: list) -> dict:
        scores, labels = self._stack(results)
        return {MEAN_CLASS_KEY: mean_class_accuracy(scores, labels)}


@METRICS.register_module()
class AccMetric(_ScoreMetric):
    """The original config's ``evaluation.metrics`` list as one metric.

    Args:
        metric_list: any of ``'top_k_accuracy'`` and ``'mean_class_accuracy'`` (the
            original's ``evaluation.metrics``; see the module docstring for the name).
        metric_options: per-metric options, as the original:
            ``dict(top_k_accuracy=dict(topk=(1, 5)))``.
    """

    default_prefix = ''  # keys as the original printed them, no 'acc/' prefix

    def __init__(self, metric_list: Union[str, Sequence[str]] = ('top_k_accuracy', ),
                 metric_options: Optional[dict] = None, collect_device: str = 'cpu',
                 prefix: Optional[str] = None, collect_dir: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix, collect_dir=collect_dir)
        metrics = (metric_list, ) if isinstance(metric_list, str) else tuple(metric_list)
        unknown = [m for m in metrics if m not in KNOWN_METRICS]
        if unknown:
            raise KeyError(f'unknown evaluation metric(s) {unknown}; AccMetric knows {list(KNOWN_METRICS)}')
        if not metrics:
            raise ValueError('AccMetric needs at least one metric')
        self.metrics = tuple(dict.fromkeys(metrics))
        metric_options = dict(metric_options or {})
        unknown = set(metric_options) - set(KNOWN_METRICS)
        if unknown:
            raise KeyError(f'metric_options for unknown metric(s) {sorted(unknown)}; known: {list(KNOWN_METRICS)}')
        topk_options = dict(metric_options.get('top_k_accuracy', {}))
        extra = set(topk_options) - {'topk'}
        if extra:
            raise KeyError(f"metric_options['top_k_accuracy'] accepts only 'topk', got {sorted(extra)}")
        self.topk = _normalise_topk(topk_options.get('topk', (1, 5)))

    def compute_metrics(self, results: list) -> dict:
        scores, labels = self._stack(results)
        out = {}
        for metric in self.metrics:
            if metric == 'top_k_accuracy':
                accs = top_k_accuracy(scores, labels, self.topk)
                out.update({f'top{k}_acc': acc for k, acc in zip(self.topk, accs)})
            else:
                out[MEAN_CLASS_KEY] = mean_class_accuracy(scores, labels)
        return out


def read_class_names(source: Union[str, Path, Sequence[str]]) -> list[str]:
    """Class names from a list, or from a label map (see :func:`pyskl.utils.annotation_files.read_label_map`)."""
    if isinstance(source, (str, Path)):
        return read_label_map(source)
    return [str(name) for name in source]


@METRICS.register_module()
class ConfusionMatrix(_ScoreMetric):
    """Writes ``{file_prefix}.png`` and ``{file_prefix}.csv`` into ``out_dir``.

    Class names come from ``class_names`` (a list or a label-map text file),
    else from the dataset's ``metainfo['classes']``, else class indices are used.
    Rows are true classes, columns predicted ones (counts in the CSV).
    With ``out_dir=None`` nothing is written (only a warning is logged).
    Returns no numbers to the log.
    """

    default_prefix = ''  # keys as the original printed them, no 'acc/' prefix

    def __init__(self, out_dir: Optional[str] = None, class_names: Union[None, str, Sequence[str]] = None,
                 file_prefix: str = 'confusion_matrix', collect_device: str = 'cpu',
                 prefix: Optional[str] = None, collect_dir: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix, collect_dir=collect_dir)
        self.out_dir = out_dir
        self.class_names = class_names
        self.file_prefix = file_prefix
        self.matrix: Optional[np.ndarray] = None

    def _names(self, num_classes: int) -> Optional[list[str]]:
        if self.class_names is not None:
            names = read_class_names(self.class_names)
        else:
            names = (self.dataset_meta or {}).get('classes')
            names = None if names is None else [str(n) for n in names]
        if names is not None and len(names) != num_classes:
            print_log(f'ConfusionMatrix: {len(names)} class names for {num_classes} classes; using indices',
                      logger='current', level=logging.WARNING)
            return None
        return names

    def compute_metrics(self, results: list) -> dict:
        scores, labels = self._stack(results)
        num_classes = scores.shape[1]
        self.matrix = confusion_matrix(scores.argmax(axis=1), labels, num_classes=num_classes)
        if self.out_dir is None:
            print_log('ConfusionMatrix: no out_dir set, nothing written', logger='current', level=logging.WARNING)
            return {}
        names = self._names(num_classes)
        out_dir = Path(self.out_dir)
        csv_path = write_confusion_matrix_csv(self.matrix, out_dir / f'{self.file_prefix}.csv', names)
        png_path = plot_confusion_matrix(self.matrix, out_dir / f'{self.file_prefix}.png', names)
        print_log(f'Confusion matrix written to {png_path} and {csv_path}', logger='current')
        return {}


@METRICS.register_module()
class DumpScores(BaseMetric):
    """Writes the ``--out`` result file: a list with one float32 score array per
    sample, in dataset order (what the original's ensembling scripts read).
    Labels are not needed. Returns no numbers to the log."""

    default_prefix = ''  # keys as the original printed them, no 'acc/' prefix

    def __init__(self, out_file_path: str, collect_device: str = 'cpu',
                 collect_dir: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, collect_dir=collect_dir)
        if not str(out_file_path).endswith(('.pkl', '.pickle')):
            raise ValueError(f'the result file must end with .pkl or .pickle, got {out_file_path!r}')
        self.out_file_path = str(out_file_path)

    def process(self, data_batch: Any, data_samples: Sequence) -> None:
        for sample in data_samples:
            self.results.append(_to_numpy_score(_field(sample, 'pred_score')))

    def compute_metrics(self, results: list) -> dict:
        dump_pickle(list(results), self.out_file_path)
        print_log(f'{len(results)} test scores written to {self.out_file_path}', logger='current')
        return {}
