"""Normalisation of skeleton coordinates before sampling.

``PreNormalize3D`` drops the frames where the main person is absent, puts
the main person first, moves the body centre of the first frame to the origin
and, optionally, turns the body so that the spine points along +z and the
shoulders along +x. ``PreNormalize2D`` maps pixel coordinates to [-1, 1] and
puts the joints whose score is too low at the origin.
"""
from typing import Optional, Sequence

import numpy as np
from mmcv.transforms import BaseTransform

from pyskl.registry import TRANSFORMS
from .base import float_dtype, format_repr, get_skeleton, sample_name


def angle_between(v1: np.ndarray, v2: np.ndarray) -> float:
    """The angle in radians between two vectors; 0 where either is (near) zero."""
    v1 = np.asarray(v1, dtype=np.float64)
    v2 = np.asarray(v2, dtype=np.float64)
    if np.abs(v1).sum() < 1e-6 or np.abs(v2).sum() < 1e-6:
        return 0.0
    cos = np.dot(v1 / np.linalg.norm(v1), v2 / np.linalg.norm(v2))
    return float(np.arccos(np.clip(cos, -1.0, 1.0)))


def axis_angle_matrix(axis: np.ndarray, theta: float) -> np.ndarray:
    """The 3 x 3 matrix turning points by ``theta`` radians about ``axis``
    (right-hand rule, Rodrigues' formula); the identity for a zero axis or angle."""
    axis = np.asarray(axis, dtype=np.float64)
    if np.abs(axis).sum() < 1e-6 or abs(theta) < 1e-6:
        return np.eye(3)
    x, y, z = axis / np.linalg.norm(axis)
    K = np.array([[0, -z, y], [z, 0, -x], [-y, x, 0]])  # cross-product matrix: K @ p = axis x p
    return np.eye(3) + np.sin(theta) * K + (1 - np.cos(theta)) * (K @ K)


def align_to(vector: np.ndarray, target: Sequence[float]) -> np.ndarray:
    """The rotation that turns ``vector`` onto the direction of ``target``."""
    return axis_angle_matrix(np.cross(vector, target), angle_between(vector, target))


@TRANSFORMS.register_module()
class PreNormalize3D(BaseTransform):
    """Centre and (optionally) align 3D skeletons, keeping the main person's frames.

    The main person is person 0, or the one with the most frames that are not
    all zero (ties go to the lower index); it is moved to the front and only
    its non-empty frames are kept. The centre joint of the main person in the
    first kept frame is subtracted from every joint that is not all zero.

    Required Keys:
        - keypoint (M x T x V x 3)
        - total_frames (optional; must equal T where given)

    Modified Keys:
        - keypoint: M x T' x V x 3, same floating dtype (float32 for float16
          input rotated by ``align_spine``)
        - total_frames: T'

    Added Keys:
        - body_center: the subtracted centre (zeros without ``align_center``)

    Args:
        zaxis: joints (bottom, top) of the spine, turned to +z by ``align_spine``.
        xaxis: joints (right, left) of the shoulders, turned to +x by ``align_shoulder``.
        align_spine: rotate the body as above (person 0, first frame): the spine,
            and the shoulders too unless ``align_shoulder`` says otherwise.
        align_center: subtract the body centre.
        center_joint: the centre joint; None (the original's rule): joint 1
            (spine middle) for 25-joint NTU skeletons, the last joint otherwise.
            For NW-UCLA, 0 (hip centre) or 1 (spine) is the sensible choice.
        align_shoulder: rotate the shoulders onto x (mmaction2's argument); None:
            as ``align_spine`` (the original PYSKL's rule, where ``align_spine``
            turns both the spine and the shoulders). mmaction2's default,
            ``align_spine=False`` with ``align_shoulder=True``, is written so here.
        upright: turn the shoulders to x about z only (their horizontal
            direction onto +x), so that the spine stays on +z. The original
            (False) turns the shoulder line itself onto x, which tilts the spine
            whenever the two are not square, as in a leaning body or a noisy
            Kinect estimate.
    """

    def __init__(self, zaxis: Sequence[int] = (0, 1), xaxis: Sequence[int] = (8, 4), align_spine: bool = True,
                 align_center: bool = True, center_joint: Optional[int] = None, upright: bool = False,
                 align_shoulder: Optional[bool] = None):
        self.zaxis = [int(j) for j in zaxis]
        self.xaxis = [int(j) for j in xaxis]
        if len(self.zaxis) != 2 or len(self.xaxis) != 2:
            raise ValueError(f'PreNormalize3D: zaxis and xaxis are two joints each, got {zaxis!r}, {xaxis!r}')
        self.align_spine = bool(align_spine)
        if align_shoulder is not None and not isinstance(align_shoulder, (bool, np.bool_)):
            raise ValueError(f'PreNormalize3D: align_shoulder must be None, True or False, got {align_shoulder!r}')
        self.align_shoulder = None if align_shoulder is None else bool(align_shoulder)
        self.align_center = bool(align_center)
        self.center_joint = None if center_joint is None else int(center_joint)
        self.upright = bool(upright)

    @staticmethod
    def valid_frames(person: np.ndarray) -> np.ndarray:
        """Indices of the frames (T x V x C) that are not all close to zero (``np.isclose(person, 0)``'s
        test, ``|x| <= 1e-8``, written out: isclose's general case costs 10x more)."""
        return np.flatnonzero(~(np.abs(person) <= 1e-8).reshape(person.shape[0], -1).all(axis=1))

    def transform(self, results: dict) -> dict:
        skeleton = get_skeleton(results, transform='PreNormalize3D')
        M, T, V, C = skeleton.shape
        if C != 3:
            raise ValueError(f'PreNormalize3D: {sample_name(results)}: keypoint must have 3 coordinates, '
                             f'got shape {skeleton.shape} (use PreNormalize2D for 2D keypoints)')
        total_frames = results.get('total_frames', T)
        if total_frames != T:
            raise ValueError(f'PreNormalize3D: {sample_name(results)}: total_frames={total_frames} but '
                             f'keypoint has {T} frames')
        skeleton = skeleton.astype(float_dtype(skeleton), copy=False)
        if M == 0 or not skeleton.any():  # nothing to normalise (the original returns it unchanged)
            return results

        # The main person: most non-empty frames, person 0 on a tie.
        frames = [self.valid_frames(skeleton[m]) for m in range(M)]
        main = max(range(M), key=lambda m: (len(frames[m]), -m))
        if len(frames[main]) == 0:  # all joints within isclose's tolerance of zero
            return results
        order = [main] + [m for m in range(M) if m != main]
        skeleton = skeleton[order][:, frames[main]]  # M x T x V x C -> M x T' x V x C

        center = np.zeros(C, dtype=skeleton.dtype)
        if self.align_center:
            joint = self.center_joint
            if joint is None:
                joint = 1 if V == 25 else -1
            if not -V <= joint < V:
                raise ValueError(f'PreNormalize3D: center_joint={joint} is not a joint of a {V}-joint skeleton')
            center = skeleton[0, 0, joint].copy()
            present = (skeleton != 0).any(axis=-1, keepdims=True)  # zero joints stay zero
            skeleton = (skeleton - center) * present

        align_shoulder = self.align_spine if self.align_shoulder is None else self.align_shoulder
        if self.align_spine or align_shoulder:
            for j in (self.zaxis if self.align_spine else []) + (self.xaxis if align_shoulder else []):
                if not -V <= j < V:
                    raise ValueError(f'PreNormalize3D: zaxis/xaxis joint {j} is not a joint of a {V}-joint skeleton')
            # The rotation is computed in float64 and its result kept in at least float32:
            # the original rotates float16 annotations into float64, rounding them only
            # when PoseDecode takes the frames as float32.
            dtype = np.promote_types(skeleton.dtype, np.float32)
            skeleton = skeleton.astype(np.float64)
            if self.align_spine:
                first = skeleton[0, 0]
                rot_z = align_to(first[self.zaxis[1]] - first[self.zaxis[0]], [0, 0, 1])
                skeleton = skeleton @ rot_z.T  # every point p -> R p
            if align_shoulder:
                first = skeleton[0, 0]
                shoulders = first[self.xaxis[0]] - first[self.xaxis[1]]
                if self.upright:  # turn about z by minus the shoulders' heading
                    rot_x = axis_angle_matrix([0, 0, 1], -np.arctan2(shoulders[1], shoulders[0]))
                else:
                    rot_x = align_to(shoulders, [1, 0, 0])
                skeleton = skeleton @ rot_x.T
            skeleton = skeleton.astype(dtype)

        results['keypoint'] = skeleton
        results['total_frames'] = skeleton.shape[1]
        results['body_center'] = center
        return results

    def __repr__(self) -> str:
        extra = {} if self.align_shoulder is None else dict(align_shoulder=self.align_shoulder)  # as in the config
        return format_repr(self, zaxis=self.zaxis, xaxis=self.xaxis, align_spine=self.align_spine,
                           align_center=self.align_center, center_joint=self.center_joint, upright=self.upright,
                           **extra)


@TRANSFORMS.register_module()
class PreNormalize2D(BaseTransform):
    """Map pixel coordinates to [-1, 1] (``x' = (x - w/2) / (w/2)``, likewise y),
    and put joints the pose estimator is unsure of at the image centre.

    Where a joint's score is at most ``threshold``, its x and y become 0 (the
    score is kept): a missing joint (pixel (0, 0), score 0) then sits at the
    centre rather than in a corner, as the original's models saw it.
    The score is ``keypoint_score`` or, without it, keypoint's third channel
    when keypoint has exactly three (x, y, score); 2-channel keypoints without
    a score are only mapped.

    Required Keys:
        - keypoint (M x T x V x C, C >= 2; x and y are channels 0 and 1)
        - keypoint_score (optional, M x T x V)
        - img_shape (optional: (height, width); else the ``img_shape`` argument)

    Modified Keys:
        - keypoint (a new array, float32 for float16 input; channels beyond y are unchanged)

    Args:
        img_shape: (height, width) of samples that carry no ``img_shape``.
        threshold: scores at or below it mark a joint as absent.
        mode: ``'fix'``, the only mode: the image's own extent is [-1, 1].
    """

    MODES = ('fix', )

    def __init__(self, img_shape: Sequence[int] = (1080, 1920), threshold: float = 0.01, mode: str = 'fix'):
        if len(img_shape) != 2 or min(img_shape) <= 0:
            raise ValueError(f'PreNormalize2D: img_shape must be (height, width), got {img_shape!r}')
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float, np.floating, np.integer)):
            raise ValueError(f'PreNormalize2D: threshold must be a number, got {threshold!r}')
        if mode not in self.MODES:
            raise ValueError(f"PreNormalize2D: mode must be one of {self.MODES}, got {mode!r} (the original's "
                             "'auto', scaling to the joints' bounding box, is not implemented)")
        self.img_shape = tuple(img_shape)
        self.threshold = float(threshold)
        self.mode = mode

    def _score(self, results: dict, keypoint: np.ndarray) -> Optional[np.ndarray]:
        if 'keypoint_score' not in results:
            return keypoint[..., 2] if keypoint.shape[-1] == 3 else None
        score = np.asarray(results['keypoint_score'])
        if score.shape != keypoint.shape[:-1]:
            raise ValueError(f'PreNormalize2D: {sample_name(results)}: keypoint_score {score.shape} does not '
                             f'match keypoint {keypoint.shape}')
        return score

    def transform(self, results: dict) -> dict:
        keypoint = get_skeleton(results, transform='PreNormalize2D')
        if keypoint.shape[-1] < 2:
            raise ValueError(f'PreNormalize2D: {sample_name(results)}: keypoint needs x and y, '
                             f'got shape {keypoint.shape}')
        shape = results.get('img_shape', self.img_shape)
        if len(shape) < 2 or min(shape[:2]) <= 0:
            raise ValueError(f'PreNormalize2D: {sample_name(results)}: bad img_shape {shape!r}')
        h, w = shape[:2]
        # float16 annotations are normalised in float32, as the original does
        keypoint = keypoint.astype(np.promote_types(float_dtype(keypoint), np.float32), copy=True)
        keypoint[..., 0] = (keypoint[..., 0] - w / 2) / (w / 2)
        keypoint[..., 1] = (keypoint[..., 1] - h / 2) / (h / 2)
        score = self._score(results, keypoint)
        if score is not None:  # compared in float32, as the original: float16(0.01) > float32(0.01)
            keypoint[..., :2][score.astype(np.float32) <= self.threshold] = 0
        results['keypoint'] = keypoint
        return results

    def __repr__(self) -> str:
        return format_repr(self, img_shape=self.img_shape, threshold=self.threshold, mode=self.mode)
