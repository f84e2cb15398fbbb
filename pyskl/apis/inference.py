"""Using a trained model from Python: ``init_recognizer`` then ``inference_recognizer``.

    model = init_recognizer('configs/dgstgcn/demo/j.py', 'work_dirs/dgstgcn/demo/j/epoch_12.pth')
    result = inference_recognizer(model, keypoint)   # T x V x C or M x T x V x C
    result['pred_label'], result['top_k']

A skeleton goes through the config's **test** dataset exactly as ``tools/test.py`` runs it:
the test ``PoseDataset`` is built from the config (without reading its annotation file) and
its own pipeline prepares the sample (:meth:`PoseDataset.prepare_sample`), so sampling,
normalisation, the stream (j/b/jm/bm) and the clips averaged are the same. There is no
second copy of the preprocessing.
"""
import copy
import logging
import os
import os.path as osp
from typing import Any, Sequence

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import default_collate
from mmengine.logging import print_log

from pyskl.datasets import build_dataset
from pyskl.datasets.transforms.sampling import PadTo
from pyskl.models import build_model, load_checkpoint
from pyskl.runner.config import load_config
from pyskl.skeleton import LAYOUTS

__all__ = ['init_recognizer', 'inference_recognizer', 'preprocess', 'check_skeleton', 'as_sample', 'clip_layout']


def _test_dataset_config(cfg: Config) -> dict:
    """The (innermost, through wrappers) dataset dict of the config's test set."""
    dataset = (cfg.get('test_dataloader') or {}).get('dataset')
    if not dataset:
        raise KeyError(f'{cfg.filename or "the config"} has no data.test (or test_dataloader): inference runs '
                       'the test pipeline')
    dataset = copy.deepcopy(dict(dataset))
    while 'pipeline' not in dataset and isinstance(dataset.get('dataset'), dict):
        dataset = dict(dataset['dataset'])
    return dataset


def _build_test_dataset(cfg: Config):
    """The config's test ``PoseDataset``, lazily (its annotation file is neither needed nor read)."""
    dataset = _test_dataset_config(cfg)
    label_map = dataset.get('label_map')
    if label_map is not None:
        path = osp.join(dataset.get('data_root') or '', label_map)
        if not osp.isfile(path):
            print_log(f'{path} (the label map of the test set) does not exist: predictions come without class '
                      'names', logger='current', level=logging.WARNING)
            dataset.pop('label_map')
    return build_dataset(dict(dataset, lazy_init=True))


def init_recognizer(config: str | os.PathLike | Config, checkpoint: str | None = None, device: str = 'cpu'):
    """The model of ``config`` (a path or ``Config``), with ``checkpoint``'s weights, in eval mode on ``device``.

    Attached: ``model.cfg`` (the config, in mmengine form), ``model.class_names`` (from the
    test set's label map, or None), ``model.test_dataset`` (the test ``PoseDataset``, whose
    pipeline prepares each input). Every weight of the checkpoint must fit (one-line error if not).
    """
    cfg = load_config(config)  # a new config in mmengine form; the caller's stays as it is
    model = build_model(cfg.model)
    if checkpoint is not None:
        load_checkpoint(model, checkpoint, strict=True)
    model.cfg = cfg
    model.test_dataset = _build_test_dataset(cfg)
    classes = model.test_dataset.metainfo.get('classes')
    model.class_names = list(classes) if classes else None
    return model.to(device).eval()


def clip_layout(model) -> dict:
    """What the network of ``model`` (from :func:`init_recognizer`) gets per clip from the test
    pipeline: ``persons``, ``frames`` (the clip length, or ``PadTo``'s length), ``joints``,
    ``channels`` (the backbone's ``in_channels``)
    and ``streams`` (how many of j/b/jm/bm ``GenSkeFeat`` concatenates into those channels)."""
    num_person, clip_len, streams = 2, 100, 1
    for transform in getattr(model.test_dataset.pipeline, 'transforms', []):
        num_person = getattr(transform, 'num_person', num_person)
        clip_len = transform.length if isinstance(transform, PadTo) else getattr(transform, 'clip_len', clip_len)
        streams = len(getattr(transform, 'feats', [None] * streams))
    return dict(persons=int(num_person), frames=int(clip_len), joints=model.backbone.graph.num_node,
                channels=model.backbone.in_channels, streams=streams)


def check_skeleton(model, sample: dict) -> None:
    """A one-line ``ValueError`` when ``sample`` cannot go into ``model``: joints other than its
    layout's (naming the layouts that have that many), channels other than it takes, NaN/inf, no frames."""
    name = f'sample {sample.get("frame_dir", "input")!r}'
    keypoint = sample['keypoint']
    if keypoint.ndim != 4 or not np.issubdtype(keypoint.dtype, np.number):
        raise ValueError(f'{name}: keypoint must be a numeric array T x V x C or M x T x V x C, got '
                         f'shape {keypoint.shape} ({keypoint.dtype})')
    M, T, V, C = keypoint.shape
    if T == 0 or M == 0:
        raise ValueError(f'{name}: keypoint has zero {"frames" if T == 0 else "persons"} (shape {keypoint.shape})')
    layout = model.backbone.graph.layout
    if V != layout.num_node:
        fits = [n for n, lay in LAYOUTS.items() if lay.num_node == V]
        hint = (f"a config with graph_cfg.layout={' or '.join(repr(n) for n in fits)} fits {V} joints" if fits else
                f'no built-in layout has {V} joints: give graph_cfg.layout=dict(num_node={V}, ...) in a config')
        raise ValueError(f'{name}: {V} joints, but the model\'s graph layout {layout.name!r} has {layout.num_node} '
                         f'joints; {hint}')
    score = sample.get('keypoint_score')
    if score is not None and np.shape(score) != (M, T, V):
        raise ValueError(f'{name}: keypoint_score must be M x T x V = {(M, T, V)}, got {np.shape(score)}')
    lay = clip_layout(model)
    needed, streams = lay['channels'] // lay['streams'], lay['streams']
    have = C + (score is not None)
    if have != needed:
        what = 'x, y and keypoint_score' if needed == 3 and score is not None else (
            'x, y, z (3D) or x, y plus keypoint_score (2D)' if needed == 3 else f'{needed}')
        raise ValueError(f'{name}: {C} channels per joint' + (' plus keypoint_score' if score is not None else '')
                         + f', but the model takes {needed} ({what}; in_channels={model.backbone.in_channels} for '
                         f'{streams} stream(s))')
    for field, array in (('keypoint', keypoint), ('keypoint_score', score)):
        if array is not None and not np.isfinite(array).all():
            bad = np.argwhere(~np.isfinite(array))[0]
            raise ValueError(f'{name}: {field} has NaN/inf values (first at index {tuple(int(i) for i in bad)})')


def as_sample(skeleton: Any, keypoint_score: np.ndarray | None = None, name: str = 'input') -> dict:
    """A sample dict (as in an annotation file) from an array ``T x V x C`` / ``M x T x V x C`` or a dict."""
    if isinstance(skeleton, dict):
        if 'keypoint' not in skeleton:
            raise KeyError(f'sample {skeleton.get("frame_dir", name)!r} has no field "keypoint" '
                           f'(fields: {sorted(skeleton)})')
        sample = dict(skeleton)
    else:
        sample = dict(keypoint=skeleton)
        if keypoint_score is not None:
            sample['keypoint_score'] = keypoint_score
    keypoint = sample['keypoint']
    keypoint = keypoint.numpy() if isinstance(keypoint, torch.Tensor) else np.asarray(keypoint)
    if keypoint.ndim == 3:  # one person: T x V x C -> 1 x T x V x C
        keypoint = keypoint[None]
        if sample.get('keypoint_score') is not None:
            sample['keypoint_score'] = np.asarray(sample['keypoint_score'])[None]
    if np.issubdtype(keypoint.dtype, np.integer):
        keypoint = keypoint.astype(np.float32)
    sample['keypoint'] = keypoint
    sample.setdefault('frame_dir', name)
    if keypoint.ndim == 4:
        sample['total_frames'] = keypoint.shape[1]
    sample.setdefault('label', -1)  # unknown; the test pipelines collect a label
    return sample


def _prepare(model, sample: dict) -> dict:
    check_skeleton(model, sample)
    return model.test_dataset.prepare_sample(sample)


def preprocess(model, skeleton: Any, keypoint_score: np.ndarray | None = None) -> np.ndarray:
    """What the network gets for one skeleton (array or sample dict, as for
    :func:`inference_recognizer`): the test pipeline's clips, ``num_clips x M x T x V x C``
    float32. An exported network (``pyskl.deployment``) takes them as its batch."""
    keypoint = _prepare(model, as_sample(skeleton, keypoint_score))['keypoint']
    return np.ascontiguousarray(keypoint.numpy() if isinstance(keypoint, torch.Tensor) else keypoint,
                                dtype=np.float32)


def _result(scores: np.ndarray, class_names: Sequence[str] | None, top_k: int) -> dict:
    order = np.argsort(-scores, kind='stable')[:top_k]
    name = (lambda i: class_names[i]) if class_names else (lambda i: None)
    return dict(pred_label=int(order[0]), pred_score=float(scores[order[0]]), scores=scores,
                top_k=[(int(i), name(int(i)), float(scores[i])) for i in order])


@torch.no_grad()
def inference_recognizer(model, skeleton: Any, keypoint_score: np.ndarray | None = None, top_k: int = 5):
    """Classify a skeleton, or a batch of them, with ``model`` from :func:`init_recognizer`.

    Args:
        skeleton: an array ``T x V x C`` or ``M x T x V x C`` (C = 3 for 3D), a sample dict as in an
            annotation file (``keypoint``, and for 2D ``keypoint_score`` and ``img_shape``), or a
            list of these (a batch, run as one batch).
        keypoint_score: for a 2D array: its scores, ``T x V`` or ``M x T x V``.
        top_k: how many classes ``top_k`` lists.

    Returns:
        A dict (a list of dicts for a list): ``pred_label`` (int), ``pred_score`` (float),
        ``scores`` (numpy, the fused clip scores: class probabilities with the configs'
        ``average_clips='prob'``, exactly what ``tools/test.py --out`` stores), ``top_k``
        (a list of ``(label, class_name or None, score)``, best first).
    """
    batch = isinstance(skeleton, (list, tuple))
    if batch and keypoint_score is not None:
        raise ValueError('inference_recognizer: for a batch, give each 2D sample as a dict with its keypoint_score')
    items = list(skeleton) if batch else [skeleton]
    if not items:
        raise ValueError('inference_recognizer: the batch is empty')
    samples = [as_sample(item, keypoint_score, name=f'input {i}' if batch else 'input') for i, item in enumerate(items)]
    data = default_collate([_prepare(model, sample) for sample in samples])
    predictions = model.test_step(data)
    results = []
    for prediction in predictions:
        scores = prediction['pred_score']
        if scores.dim() == 2:  # average_clips=None: per-clip scores; fuse them as 'prob' does
            scores = scores.softmax(-1).mean(0)
        results.append(_result(scores.float().numpy(), model.class_names, top_k))
    return results if batch else results[0]
