"""Training-time augmentation of skeleton coordinates: rotation, scaling, noise, mirroring.

Each transform draws from a generator of its own (``seed`` argument), never
from numpy's global random state. Joints that are all zero (absent) stay zero.
"""
from typing import Optional, Sequence, Union

import numpy as np
from mmcv.transforms import BaseTransform

from pyskl.skeleton import get_layout
from pyskl.registry import TRANSFORMS
from .base import LocalRandomMixin, check_seed, float_dtype, format_repr, get_skeleton, sample_name

AXES = ('x', 'y', 'z')


def rotation_xyz(angles: Sequence[float]) -> np.ndarray:
    """``Rz @ Ry @ Rx`` for the angles (radians) about x, y and z."""
    (cx, cy, cz), (sx, sy, sz) = np.cos(angles), np.sin(angles)
    rx = np.array([[1, 0, 0], [0, cx, sx], [0, -sx, cx]])
    ry = np.array([[cy, 0, -sy], [0, 1, 0], [sy, 0, cy]])
    rz = np.array([[cz, sz, 0], [-sz, cz, 0], [0, 0, 1]])
    return rz @ ry @ rx


def rotation_2d(angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s], [s, c]])


def _per_axis(value, n: int, name: str, transform: str) -> np.ndarray:
    """A number for every axis, from one number or a sequence of ``n``."""
    values = np.atleast_1d(np.asarray(value, dtype=np.float64))
    if values.ndim != 1 or len(values) not in (1, n) or (values < 0).any():
        raise ValueError(f'{transform}: {name} must be a non-negative number or {n} of them, got {value!r}')
    return np.broadcast_to(values, (n, )).copy()


@TRANSFORMS.register_module()
class RandomRot(LocalRandomMixin, BaseTransform):
    """Rotate the whole sequence by random angles, uniform in ``[-theta, theta]`` radians.

    3D (C == 3): one angle about each axis in ``axes`` (0 about the others),
    points ``p -> Rz @ Ry @ Rx @ p``. 2D (C == 2): one angle in the image plane.

    Required Keys:
        - keypoint (M x T x V x C, C in {2, 3})

    Modified Keys:
        - keypoint (same dtype)

    Args:
        theta: the largest angle in radians; one number, or one per axis in ``axes``.
        axes: the axes rotated about in 3D (NW-UCLA recipes turn about ('x', 'y')).
        seed: seed of this transform's generator (None: OS entropy).
    """

    def __init__(self, theta: Union[float, Sequence[float]] = 0.3, axes: Sequence[str] = AXES,
                 seed: Optional[int] = None):
        axes = (axes, ) if isinstance(axes, str) else tuple(axes)
        if not axes or any(a not in AXES for a in axes) or len(set(axes)) != len(axes):
            raise ValueError(f'RandomRot: axes must be distinct names among {AXES}, got {axes!r}')
        self.axes = axes
        self.theta = theta
        self._theta = _per_axis(theta, len(axes), 'theta', 'RandomRot')
        self.seed = check_seed(seed)

    def transform(self, results: dict) -> dict:
        skeleton = get_skeleton(results, transform='RandomRot')
        C = skeleton.shape[-1]
        if C not in (2, 3):
            raise ValueError(f'RandomRot: {sample_name(results)}: keypoint must have 2 or 3 coordinates, '
                             f'got shape {skeleton.shape}')
        drawn = self.rng.uniform(-self._theta, self._theta)
        if C == 3:
            angles = np.zeros(3)
            for axis, angle in zip(self.axes, drawn):
                angles[AXES.index(axis)] = angle
            rot = rotation_xyz(angles)
        else:
            rot = rotation_2d(drawn[0])
        dtype = float_dtype(skeleton)
        results['keypoint'] = (skeleton @ rot.T).astype(dtype)  # every point p -> R p
        return results

    def __repr__(self) -> str:
        return format_repr(self, theta=self.theta, axes=self.axes, seed=self.seed)


@TRANSFORMS.register_module()
class RandomScale(LocalRandomMixin, BaseTransform):
    """Multiply each coordinate axis by ``1 + u``, ``u`` uniform in ``[-scale, scale]``.

    Required Keys:
        - keypoint (M x T x V x C)

    Modified Keys:
        - keypoint (same dtype)

    Args:
        scale: one number for every axis, or one per axis (length C).
        isotropic: draw one factor for all axes (uniform scaling, as NW-UCLA
            recipes do with ``scale=0.5`` for factors in [0.5, 1.5]).
        seed: seed of this transform's generator (None: OS entropy).
    """

    def __init__(self, scale: Union[float, Sequence[float]] = 0.2, isotropic: bool = False,
                 seed: Optional[int] = None):
        _per_axis(scale, len(np.atleast_1d(scale)), 'scale', 'RandomScale')
        if isotropic and len(np.atleast_1d(scale)) != 1:
            raise ValueError(f'RandomScale: isotropic scaling takes one scale, got {scale!r}')
        self.scale = scale
        self.isotropic = bool(isotropic)
        self.seed = check_seed(seed)

    def transform(self, results: dict) -> dict:
        skeleton = get_skeleton(results, transform='RandomScale')
        C = skeleton.shape[-1]
        if len(np.atleast_1d(self.scale)) not in (1, C):
            raise ValueError(f'RandomScale: {sample_name(results)}: scale {self.scale!r} does not match '
                             f'the {C} coordinates of keypoint')
        scale = _per_axis(self.scale, C, 'scale', 'RandomScale')
        if self.isotropic:
            factor = 1 + self.rng.uniform(-1, 1) * scale
        else:
            factor = 1 + self.rng.uniform(-1, 1, size=C) * scale
        results['keypoint'] = (skeleton * factor).astype(float_dtype(skeleton))
        return results

    def __repr__(self) -> str:
        return format_repr(self, scale=self.scale, isotropic=self.isotropic, seed=self.seed)


@TRANSFORMS.register_module()
class RandomGaussianNoise(LocalRandomMixin, BaseTransform):
    """Jitter every joint by a random offset of Gaussian length.

    Each joint moves in a random direction by ``N(0, sigma) * size``, where
    ``size`` is the diagonal of the skeleton's bounding box in that frame
    (``base='frame'``) or over the whole sequence (``base='video'``). With
    ``shared`` (video base only) every frame gets the same offsets, a rigid
    deformation of the body. Absent joints and empty frames stay zero.

    Required Keys:
        - keypoint (M x T x V x C)

    Modified Keys:
        - keypoint (same dtype)
    """

    def __init__(self, sigma: float = 0.01, base: str = 'frame', shared: bool = False,
                 seed: Optional[int] = None):
        if not isinstance(sigma, (int, float)) or sigma < 0:
            raise ValueError(f'RandomGaussianNoise: sigma must be a non-negative number, got {sigma!r}')
        if base not in ('frame', 'video'):
            raise ValueError(f"RandomGaussianNoise: base must be 'frame' or 'video', got {base!r}")
        if shared and base == 'frame':
            raise ValueError("RandomGaussianNoise: shared noise needs base='video' (one size for all frames)")
        self.sigma = float(sigma)
        self.base = base
        self.shared = bool(shared)
        self.seed = check_seed(seed)

    def transform(self, results: dict) -> dict:
        skeleton = get_skeleton(results, transform='RandomGaussianNoise')
        M, T, V, C = skeleton.shape
        present = (skeleton != 0).any(axis=-1)  # M x T x V
        frame_ok = present.any(axis=-1)  # M x T
        if not frame_ok.any():
            return results
        lo = np.where(present[..., None], skeleton, np.inf).min(axis=2)  # M x T x C, over present joints
        hi = np.where(present[..., None], skeleton, -np.inf).max(axis=2)
        lo[~frame_ok] = hi[~frame_ok] = 0
        if self.base == 'frame':
            size = np.linalg.norm(hi - lo, axis=-1)  # M x T
        else:
            size = np.linalg.norm(hi[frame_ok].max(axis=0) - lo[frame_ok].min(axis=0))
            size = np.full((M, T), size)
        rng = self.rng
        shape = (1, 1, V) if self.shared else (M, T, V)
        length = rng.standard_normal(shape) * self.sigma
        direction = rng.standard_normal(shape + (C, ))
        direction /= np.maximum(np.linalg.norm(direction, axis=-1, keepdims=True), 1e-12)
        noise = length[..., None] * direction * size[..., None, None] * present[..., None]
        results['keypoint'] = (skeleton + noise).astype(float_dtype(skeleton))
        return results

    def __repr__(self) -> str:
        return format_repr(self, sigma=self.sigma, base=self.base, shared=self.shared, seed=self.seed)


def mirror_order(layout, transform: str) -> np.ndarray:
    """The joint order of the mirrored skeleton: each left joint swapped with its right twin."""
    if not layout.mirror_pairs:
        raise ValueError(f'{transform}: layout {layout.name!r} has no mirror_pairs '
                         '(which joint is whose left/right twin); give a layout dict with them')
    left, right = np.array(layout.mirror_pairs).T
    order = np.arange(layout.num_node)
    order[left], order[right] = right, left
    return order


def mirror(skeleton: np.ndarray, order: np.ndarray, channels: Sequence[int]) -> np.ndarray:
    """``skeleton`` (... x V x C) with its joints in ``order`` and ``channels`` negated."""
    mirrored = skeleton[..., order, :].astype(float_dtype(skeleton), copy=True)
    mirrored[..., list(channels)] *= -1
    mirrored[mirrored == 0] = 0  # no negative zeros: absent joints stay exactly as they were
    return mirrored


def _mirrorable(results: dict, layout, channels: Sequence[int], transform: str):
    """The sample's keypoint and keypoint_score (None where absent), checked against the layout and
    the channels that change sign."""
    skeleton = get_skeleton(results, transform=transform)
    M, T, V, C = skeleton.shape
    if V != layout.num_node or max(channels) >= C:
        raise ValueError(f'{transform}: {sample_name(results)}: keypoint of shape {skeleton.shape} does not fit '
                         f'layout {layout.name!r} ({layout.num_node} joints) and channels {tuple(channels)}')
    score = results.get('keypoint_score')
    if score is not None:
        score = np.asarray(score)
        if score.shape != (M, T, V):
            raise ValueError(f'{transform}: {sample_name(results)}: keypoint_score of shape {score.shape} '
                             f'does not match keypoint {skeleton.shape}')
    return skeleton, score


@TRANSFORMS.register_module()
class RandomFlip(LocalRandomMixin, BaseTransform):
    """Mirror the whole sequence left to right, with probability ``flip_ratio``.

    The coordinate along ``axis`` changes sign, and every left joint trades
    places with its right twin (the layout's ``mirror_pairs``), so a
    right-handed wave becomes a left-handed one that still looks like a body.
    The mirror is the plane ``axis = 0`` through the origin: put this after
    ``PreNormalize3D`` (body centred, shoulders along x: mirror ``'x'``) or
    ``PreNormalize2D`` (image centre at 0). Absent joints stay zero.

    Required Keys:
        - keypoint (M x T x V x C, V = the layout's joints)
        - keypoint_score (optional, M x T x V: its joints are swapped too)

    Modified Keys:
        - keypoint, keypoint_score

    Args:
        flip_ratio: probability of mirroring a sample.
        dataset: a layout name or a custom layout dict with ``mirror_pairs``.
        axis: the coordinate that changes sign.
        seed: seed of this transform's generator (None: OS entropy).
    """

    def __init__(self, flip_ratio: float = 0.5, dataset: Union[str, dict] = 'nturgb+d', axis: str = 'x',
                 seed: Optional[int] = None):
        if isinstance(flip_ratio, bool) or not isinstance(flip_ratio, (int, float)) or not 0 <= flip_ratio <= 1:
            raise ValueError(f'RandomFlip: flip_ratio must be a probability in [0, 1], got {flip_ratio!r}')
        if axis not in AXES:
            raise ValueError(f'RandomFlip: axis must be one of {AXES}, got {axis!r}')
        self.layout = get_layout(dataset)
        self.flip_ratio = float(flip_ratio)
        self.dataset = dataset
        self.axis = axis
        self.seed = check_seed(seed)
        self._order = mirror_order(self.layout, 'RandomFlip')

    def transform(self, results: dict) -> dict:
        channels = (AXES.index(self.axis), )
        skeleton, score = _mirrorable(results, self.layout, channels, 'RandomFlip')
        if self.rng.uniform() >= self.flip_ratio:
            return results
        results['keypoint'] = mirror(skeleton, self._order, channels)
        if score is not None:
            results['keypoint_score'] = score[:, :, self._order]
        return results

    def __repr__(self) -> str:
        return format_repr(self, flip_ratio=self.flip_ratio, dataset=self.dataset, axis=self.axis, seed=self.seed)


@TRANSFORMS.register_module()
class MirroredClips(BaseTransform):
    """Test-time mirroring: add the mirrored copy of every sampled clip.

    Goes after the frame sampler and before ``FormatGCNInput``: the frames of
    the ``num_clips`` clips get the same frames mirrored (as ``RandomFlip``
    does, on every feature) appended, and ``num_clips`` doubles, so the model
    averages its scores over both. The features are mirrored as they are
    (bones and motions of a mirrored skeleton are the mirrored bones and
    motions), so ``channels`` must list the coordinate that changes sign in
    each concatenated feature: ``(0, )`` for one 3D feature, ``(0, 3)`` for
    ``feats=['j', 'b']``.

    Required Keys:
        - keypoint (M x (num_clips * T) x V x C), keypoint_score (optional, M x (num_clips * T) x V)
        - num_clips (optional, default 1)

    Modified Keys:
        - keypoint, keypoint_score (twice the frames), num_clips (doubled)
    """

    def __init__(self, dataset: Union[str, dict] = 'nturgb+d', channels: Sequence[int] = (0, )):
        channels = tuple(int(c) for c in np.atleast_1d(channels))
        if not channels or min(channels) < 0 or len(set(channels)) != len(channels):
            raise ValueError(f'MirroredClips: channels must be distinct non-negative indices, got {channels!r}')
        self.layout = get_layout(dataset)
        self.dataset = dataset
        self.channels = channels
        self._order = mirror_order(self.layout, 'MirroredClips')

    def transform(self, results: dict) -> dict:
        skeleton, score = _mirrorable(results, self.layout, self.channels, 'MirroredClips')
        mirrored = mirror(skeleton, self._order, self.channels)
        results['keypoint'] = np.concatenate([skeleton.astype(mirrored.dtype), mirrored], axis=1)
        if score is not None:
            results['keypoint_score'] = np.concatenate([score, score[:, :, self._order]], axis=1)
        results['num_clips'] = 2 * results.get('num_clips', 1)
        return results

    def __repr__(self) -> str:
        return format_repr(self, dataset=self.dataset, channels=self.channels)
