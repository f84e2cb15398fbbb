"""The last steps of a pipeline: the GCN input layout and what the data loader gets.

A sample leaves the pipeline as ``{'keypoint': float32 tensor (num_clips, M, T,
V, C), 'label': int}``, either from the original's ``Collect`` + ``ToTensor``
pair or from ``PackSkeletonInputs``; mmengine's ``default_collate`` batches it
to ``keypoint`` ``(N, num_clips, M, T, V, C)`` and ``label`` ``(N,)``.
"""
from typing import Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform

from pyskl.registry import TRANSFORMS
from .base import format_repr, get_skeleton, sample_name


@TRANSFORMS.register_module()
class FormatGCNInput(BaseTransform):
    """Fix the number of persons and split the frames into clips.

    Persons beyond ``num_person`` are dropped; missing ones are zeros
    (``mode='zero'``) or, for a single person, copies of it (``mode='loop'``).

    Required Keys:
        - keypoint (M x (num_clips * T) x V x C), keypoint_score (optional, M x (num_clips * T) x V)
        - num_clips (optional, default 1)

    Modified Keys:
        - keypoint: num_clips x num_person x T x V x C(+1 with a score), contiguous

    Removed Keys:
        - keypoint_score (appended to keypoint as the last channel)
    """

    def __init__(self, num_person: int = 2, mode: str = 'zero'):
        if isinstance(num_person, bool) or not isinstance(num_person, (int, np.integer)) or num_person < 1:
            raise ValueError(f'FormatGCNInput: num_person must be a positive integer, got {num_person!r}')
        if mode not in ('zero', 'loop'):
            raise ValueError(f"FormatGCNInput: mode must be 'zero' or 'loop', got {mode!r}")
        self.num_person = int(num_person)
        self.mode = mode

    def transform(self, results: dict) -> dict:
        keypoint = get_skeleton(results, transform='FormatGCNInput')
        if 'keypoint_score' in results:
            score = np.asarray(results.pop('keypoint_score'))
            if score.shape != keypoint.shape[:-1]:
                raise ValueError(f'FormatGCNInput: {sample_name(results)}: keypoint_score {score.shape} does '
                                 f'not match keypoint {keypoint.shape}')
            keypoint = np.concatenate([keypoint, score[..., None].astype(keypoint.dtype)], axis=-1)
        M = keypoint.shape[0]
        if M < self.num_person:
            if self.mode == 'loop' and M == 1:
                keypoint = np.repeat(keypoint, self.num_person, axis=0)
            else:
                pad = np.zeros((self.num_person - M, ) + keypoint.shape[1:], dtype=keypoint.dtype)
                keypoint = np.concatenate([keypoint, pad], axis=0)
        elif M > self.num_person:
            keypoint = keypoint[:self.num_person]

        M, T, V, C = keypoint.shape
        nc = results.get('num_clips', 1)
        if T % nc:
            raise ValueError(f'FormatGCNInput: {sample_name(results)}: {T} frames cannot be split into '
                             f'num_clips={nc} clips of equal length')
        # M x (nc * T) x V x C -> nc x M x T x V x C
        keypoint = keypoint.reshape(M, nc, T // nc, V, C).transpose(1, 0, 2, 3, 4)
        results['keypoint'] = np.ascontiguousarray(keypoint)
        return results

    def __repr__(self) -> str:
        return format_repr(self, num_person=self.num_person, mode=self.mode)


def _collect(results: dict, keys: Sequence[str], transform: str) -> dict:
    missing = [k for k in keys if k not in results]
    if missing:
        raise KeyError(f'{transform}: {sample_name(results)} has no field(s) {missing} (fields: {sorted(results)})')
    return {k: results[k] for k in keys}


@TRANSFORMS.register_module()
class Collect(BaseTransform):
    """Keep only ``keys``, and the ``meta_keys`` present as a dict under ``meta_name``.

    With ``meta_keys=[]`` (as the skeleton configs have it) the output is
    exactly ``keys``.

    Required Keys:
        - each of ``keys``
    """

    def __init__(self, keys: Sequence[str],
                 meta_keys: Sequence[str] = ('filename', 'label', 'original_shape', 'img_shape', 'pad_shape',
                                             'flip_direction', 'img_norm_cfg'),
                 meta_name: str = 'img_metas', nested: bool = False):
        self.keys = [keys] if isinstance(keys, str) else list(keys)
        self.meta_keys = [meta_keys] if isinstance(meta_keys, str) else list(meta_keys)
        self.meta_name = meta_name
        self.nested = bool(nested)

    def transform(self, results: dict) -> dict:
        data = _collect(results, self.keys, 'Collect')
        if self.meta_keys:
            data[self.meta_name] = {k: results[k] for k in self.meta_keys if k in results}
        if self.nested:
            data = {k: [v] for k, v in data.items()}
        return data

    def __repr__(self) -> str:
        return format_repr(self, keys=self.keys, meta_keys=self.meta_keys, meta_name=self.meta_name,
                           nested=self.nested)


def to_tensor(value, name: str = 'value'):
    """A tensor from an array (floats become float32), number or sequence of numbers."""
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, np.ndarray):
        if np.issubdtype(value.dtype, np.floating):
            value = value.astype(np.float32, copy=False)
        return torch.from_numpy(np.ascontiguousarray(value))
    if isinstance(value, (bool, int, np.integer)):
        return torch.tensor(int(value), dtype=torch.long)
    if isinstance(value, (float, np.floating)):
        return torch.tensor(float(value), dtype=torch.float32)
    if isinstance(value, Sequence) and not isinstance(value, str):
        return torch.tensor(value)
    raise TypeError(f'ToTensor: {name} of type {type(value).__name__} cannot become a tensor')


@TRANSFORMS.register_module()
class ToTensor(BaseTransform):
    """Turn ``keys`` into torch tensors (float arrays become float32; an int
    becomes a 0-d long tensor, so that batching gives shape (N,)).

    Modified Keys:
        - each of ``keys``
    """

    def __init__(self, keys: Sequence[str]):
        self.keys = [keys] if isinstance(keys, str) else list(keys)

    def transform(self, results: dict) -> dict:
        for key in self.keys:
            if key not in results:
                raise KeyError(f'ToTensor: {sample_name(results)} has no field {key!r} (fields: {sorted(results)})')
            results[key] = to_tensor(results[key], key)
        return results

    def __repr__(self) -> str:
        return format_repr(self, keys=self.keys)


@TRANSFORMS.register_module()
class PackSkeletonInputs(BaseTransform):
    """``Collect(keys=['keypoint', 'label'], meta_keys=[])`` + ``ToTensor(keys=['keypoint'])`` in one step.

    Required Keys:
        - keypoint, label (optional: left out where absent, as at inference)

    Output:
        ``{'keypoint': float32 tensor, 'label': int}``, plus ``{'meta': {...}}``
        with the ``meta_keys`` present where any are asked for (the model's
        ``forward`` must then accept a ``meta`` argument).
    """

    def __init__(self, meta_keys: Sequence[str] = ()):
        self.meta_keys = [meta_keys] if isinstance(meta_keys, str) else list(meta_keys)

    def transform(self, results: dict) -> dict:
        data = {'keypoint': to_tensor(_collect(results, ['keypoint'], 'PackSkeletonInputs')['keypoint'])}
        if 'label' in results:
            label = results['label']
            if isinstance(label, np.ndarray) and label.size == 1:
                label = label.item()
            if isinstance(label, (bool, np.bool_)) or not isinstance(label, (int, np.integer)):
                raise TypeError(f'PackSkeletonInputs: {sample_name(results)}: label must be an int, '
                                f'got {label!r}')
            data['label'] = int(label)
        if self.meta_keys:
            data['meta'] = {k: results[k] for k in self.meta_keys if k in results}
        return data

    def __repr__(self) -> str:
        return format_repr(self, meta_keys=self.meta_keys)
