"""The input streams of a skeleton model: joints (j), bones (b) and their
motions (jm, bm), and their concatenation along the channel axis.

A bone is a joint minus its reference joint (``Layout.bone_pairs``); a motion
is the difference between consecutive frames. For 2D layouts whose keypoints
carry a confidence score as the last channel, the score is not differenced:
a bone or motion gets the mean of the two scores it joins.
"""
from typing import Dict, Optional, Sequence, Union

import numpy as np
from mmcv.transforms import BaseTransform

from pyskl.skeleton import Layout, get_layout
from pyskl.registry import TRANSFORMS
from .base import float_dtype, format_repr, get_skeleton, sample_name

# Built-in layouts of 2D keypoints: a third channel there is a confidence score.
LAYOUTS_2D = ('coco', 'openpose')


def _has_score(layout: Layout, num_channels: int, has_score: Optional[bool]) -> bool:
    if has_score is not None:
        return has_score
    return layout.name in LAYOUTS_2D and num_channels == 3


def _check_channels(results: dict, keypoint: np.ndarray, has_score: Optional[bool], transform: str,
                    key: str = 'keypoint') -> None:
    """Joints and bones have 2 (x, y) or 3 (x, y, z, or x, y, score) channels; anything else (e.g. streams
    already concatenated) cannot be differenced joint by joint."""
    C = keypoint.shape[-1]
    if C not in (2, 3) or (has_score and C != 3):
        expected = '3 (x, y, score)' if has_score else '2 (x, y) or 3 (x, y, z, or x, y, score)'
        raise ValueError(f'{transform}: {sample_name(results)}: field {key!r} has {C} channels (shape '
                         f'{keypoint.shape}); expected {expected}. Compute bones and motions from the joints before '
                         'streams are concatenated (GenSkeFeat does it)')


def _layout_repr(dataset):
    return dataset if isinstance(dataset, str) else dict(dataset) if isinstance(dataset, dict) else dataset.name


@TRANSFORMS.register_module()
class JointToBone(BaseTransform):
    """Bones from joints: ``bone[..., v, :] = kp[..., v, :] - kp[..., ref, :]``
    for each ``(v, ref)`` of the layout's ``bone_pairs`` (the root's bone is zero).

    Required Keys:
        - keypoint (M x T x V x C, V = the layout's joints, C = 2 or 3; other
          channel counts are refused, as in mmaction2)

    Added Keys:
        - ``target`` (float32, M x T x V x C)

    Args:
        dataset: a layout name (``nturgb+d``, ``coco``, ``openpose``, ``nw-ucla``)
            or a custom layout dict (see ``pyskl.skeleton.get_layout``).
        target: the key the bones are written to.
        has_score: whether the last channel is a score (None: for the 2D
            layouts ``coco``/``openpose`` with C == 3).
    """

    def __init__(self, dataset: Union[str, dict] = 'nturgb+d', target: str = 'keypoint',
                 has_score: Optional[bool] = None):
        self.dataset = dataset
        self.layout = get_layout(dataset)
        self.target = target
        self.has_score = has_score

    def transform(self, results: dict) -> dict:
        keypoint = get_skeleton(results, transform='JointToBone')
        _check_channels(results, keypoint, self.has_score, 'JointToBone')
        M, T, V, C = keypoint.shape
        if V != self.layout.num_node:
            raise ValueError(f'JointToBone: {sample_name(results)}: keypoint has {V} joints but layout '
                             f'{self.layout.name!r} has {self.layout.num_node} (shape {keypoint.shape}); '
                             "set the transform's dataset= to the skeleton's layout")
        joints, refs = (np.array(p) for p in zip(*self.layout.bone_pairs))
        keypoint = keypoint.astype(float_dtype(keypoint), copy=False)
        bone = np.zeros((M, T, V, C), dtype=np.float32)
        bone[..., joints, :] = keypoint[..., joints, :] - keypoint[..., refs, :]
        if _has_score(self.layout, C, self.has_score):
            bone[..., joints, -1] = (keypoint[..., joints, -1] + keypoint[..., refs, -1]) / 2
        results[self.target] = bone
        return results

    def __repr__(self) -> str:
        return format_repr(self, dataset=_layout_repr(self.dataset), target=self.target, has_score=self.has_score)


@TRANSFORMS.register_module()
class ToMotion(BaseTransform):
    """Motion: ``motion[:, t] = x[:, t + 1] - x[:, t]``, the last frame zero.

    Required Keys:
        - ``source`` (M x T x V x C, C = 2 or 3; other channel counts are refused)

    Added Keys:
        - ``target`` (M x T x V x C, the dtype of ``source``)

    Args:
        dataset: the layout (name or dict); decides whether a third channel is a
            score (for ``coco``/``openpose``), whose motion is the mean of the two frames'.
        source, target: the keys read and written.
        has_score: overrides that decision (None: by the layout as above).
    """

    def __init__(self, dataset: Union[str, dict] = 'nturgb+d', source: str = 'keypoint', target: str = 'motion',
                 has_score: Optional[bool] = None):
        self.dataset = dataset
        self.layout = get_layout(dataset)
        self.source = source
        self.target = target
        self.has_score = has_score

    def transform(self, results: dict) -> dict:
        data = get_skeleton(results, self.source, transform='ToMotion')
        _check_channels(results, data, self.has_score, 'ToMotion', self.source)
        data = data.astype(float_dtype(data), copy=False)
        M, T, V, C = data.shape
        motion = np.zeros_like(data)
        motion[:, :T - 1] = np.diff(data, axis=1)
        if _has_score(self.layout, C, self.has_score):
            motion[:, :T - 1, :, -1] = (data[:, :T - 1, :, -1] + data[:, 1:, :, -1]) / 2
        results[self.target] = motion
        return results

    def __repr__(self) -> str:
        return format_repr(self, dataset=_layout_repr(self.dataset), source=self.source, target=self.target,
                           has_score=self.has_score)


@TRANSFORMS.register_module()
class MergeSkeFeat(BaseTransform):
    """Concatenate features (removing them) into one, in the order given.

    Required Keys:
        - each key of ``feat_list``

    Removed Keys:
        - each key of ``feat_list``

    Added Keys:
        - ``target``: their concatenation along ``axis``
    """

    def __init__(self, feat_list: Sequence[str] = ('keypoint', ), target: str = 'keypoint', axis: int = -1):
        self.feat_list = [feat_list] if isinstance(feat_list, str) else list(feat_list)
        if not self.feat_list:
            raise ValueError('MergeSkeFeat: feat_list is empty')
        self.target = target
        self.axis = axis

    def transform(self, results: dict) -> dict:
        missing = [k for k in self.feat_list if k not in results]
        if missing:
            raise KeyError(f'MergeSkeFeat: {sample_name(results)} has no field(s) {missing} '
                           f'(fields: {sorted(results)})')
        feats = [results.pop(k) for k in self.feat_list]
        try:
            results[self.target] = np.concatenate(feats, axis=self.axis)
        except ValueError as err:
            shapes = [np.shape(f) for f in feats]
            raise ValueError(f'MergeSkeFeat: {sample_name(results)}: cannot concatenate {self.feat_list} '
                             f'with shapes {shapes} along axis {self.axis}') from err
        return results

    def __repr__(self) -> str:
        return format_repr(self, feat_list=self.feat_list, target=self.target, axis=self.axis)


@TRANSFORMS.register_module()
class Rename(BaseTransform):
    """Rename keys: ``mapping`` old -> new (absent keys are left alone).

    Modified Keys:
        - the keys of ``mapping`` become its values
    """

    def __init__(self, mapping: Dict[str, str]):
        if not isinstance(mapping, dict):
            raise TypeError(f'Rename: mapping must be a dict old -> new, got {type(mapping).__name__}')
        self.mapping = dict(mapping)

    def transform(self, results: dict) -> dict:
        for old, new in self.mapping.items():
            if old in results:
                results[new] = results.pop(old)
        return results

    def __repr__(self) -> str:
        return format_repr(self, mapping=self.mapping)


@TRANSFORMS.register_module()
class GenSkeFeat(BaseTransform):
    """Make the model input from joints: any of ``j``, ``b``, ``jm``, ``bm``,
    concatenated along ``axis`` in the order of ``feats``.

    For 2D data the ``keypoint_score`` is first appended to the keypoint as a
    last channel (a score channel, averaged rather than differenced).

    Required Keys:
        - keypoint (M x T x V x C), keypoint_score (optional, M x T x V, 2D data)

    Modified Keys:
        - keypoint: the chosen streams, M x T x V x (C * len(feats)) for axis=-1

    Removed Keys:
        - keypoint_score (now a channel of keypoint)
    """

    FEATS = ('j', 'b', 'jm', 'bm')

    def __init__(self, dataset: Union[str, dict] = 'nturgb+d', feats: Sequence[str] = ('j', ), axis: int = -1):
        feats = [feats] if isinstance(feats, str) else list(feats)
        unknown = [f for f in feats if f not in self.FEATS]
        if unknown or not feats:
            raise ValueError(f'GenSkeFeat: unknown feats {unknown}; valid ones are {list(self.FEATS)}'
                             if unknown else f'GenSkeFeat: feats is empty; choose from {list(self.FEATS)}')
        if len(set(feats)) != len(feats):
            raise ValueError(f'GenSkeFeat: feats {feats} repeats a stream')
        self.dataset = dataset
        self.layout = get_layout(dataset)
        self.feats = feats
        self.axis = axis

    def transform(self, results: dict) -> dict:
        has_score = None
        if 'keypoint_score' in results:
            keypoint = get_skeleton(results, transform='GenSkeFeat')
            score = np.asarray(results['keypoint_score'])
            if self.layout.name == 'nturgb+d':
                raise ValueError(f"GenSkeFeat: {sample_name(results)} has keypoint_score (2D data) but the "
                                 "layout is 'nturgb+d' (3D); set dataset='coco' or 'openpose' or your layout")
            if keypoint.shape[-1] != 2 or score.shape != keypoint.shape[:-1]:
                raise ValueError(f'GenSkeFeat: {sample_name(results)}: keypoint_score {score.shape} must go with '
                                 f'2D keypoint M x T x V x 2, got keypoint {keypoint.shape}')
            # M x T x V x 2 (+ M x T x V) -> M x T x V x 3
            results['keypoint'] = np.concatenate([keypoint, score[..., None].astype(keypoint.dtype)], axis=-1)
            del results['keypoint_score']
            has_score = True

        streams = {}
        if 'b' in self.feats or 'bm' in self.feats:
            streams['b'] = JointToBone(self.layout, target='b', has_score=has_score)(results).pop('b')
        streams['j'] = results.pop('keypoint')
        for name in ('jm', 'bm'):
            if name in self.feats:
                streams[name] = ToMotion(self.layout, source=name[0], target=name, has_score=has_score)(
                    streams)[name]
        results['keypoint'] = np.concatenate([streams[f] for f in self.feats], axis=self.axis)
        return results

    def __repr__(self) -> str:
        return format_repr(self, dataset=_layout_repr(self.dataset), feats=self.feats, axis=self.axis)
