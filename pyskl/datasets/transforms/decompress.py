"""``DecompressPose``: the boxes of a compressed (Kinetics) sample back into persons x frames."""
import numpy as np
from mmcv.transforms import BaseTransform

from pyskl.registry import TRANSFORMS
from .base import float_dtype, format_repr, sample_name


@TRANSFORMS.register_module()
class DecompressPose(BaseTransform):
    """Rebuild ``M x T x V x 2`` keypoints and ``M x T x V`` scores from per-box keypoints.

    The boxes kept (``anno_inds``, where the dataset's ``box_thr`` set it) are
    placed in their frames; in each frame the persons are ranked by their summed
    joint score, highest first (ties keep the file's order), and at most
    ``max_person`` are kept, so person 0 is each frame's most confident person.
    With ``squeeze`` the frames without a box are dropped. A video left with no
    box at all becomes one all-zero person in one frame (``squeeze``) or in
    every frame, so that one empty video does not stop a training run.

    Required Keys:
        - keypoint (N_boxes x V x 3: x, y, score), frame_inds (N_boxes, sorted),
          total_frames, anno_inds (optional: the boxes kept, as N_boxes bools (the
          original PYSKL's form) or as box indices (mmaction2's))

    Modified Keys:
        - keypoint: M x T x V x 2 (M <= max_person; the input's floating dtype)
        - total_frames: T (the frames with a box where ``squeeze``)

    Added Keys:
        - keypoint_score: M x T x V

    Removed Keys:
        - frame_inds, anno_inds, box_score (per box: they no longer apply)

    Args:
        squeeze: drop the frames where no box is kept.
        max_person: the most persons kept in a frame.
    """

    def __init__(self, squeeze: bool = True, max_person: int = 10):
        if isinstance(max_person, bool) or not isinstance(max_person, (int, np.integer)) or max_person < 1:
            raise ValueError(f'DecompressPose: max_person must be a positive integer, got {max_person!r}')
        self.squeeze = bool(squeeze)
        self.max_person = int(max_person)

    def _fail(self, results: dict, field: str, problem: str):
        raise ValueError(f'DecompressPose: {sample_name(results)} field {field!r}: {problem}')

    def _kept_boxes(self, results: dict, anno_inds: np.ndarray, num_boxes: int) -> np.ndarray:
        """``anno_inds`` as the sorted indices of the boxes kept: a mask as long as the boxes (the
        original PYSKL's form) or box indices (mmaction2's form)."""
        if anno_inds.dtype == bool:
            if anno_inds.shape != (num_boxes, ):
                self._fail(results, 'anno_inds', f'a mask of shape {anno_inds.shape} does not match {num_boxes} '
                           'boxes (give one bool a box, or the indices of the boxes kept)')
            return np.flatnonzero(anno_inds)
        if anno_inds.size == 0:
            return np.zeros(0, np.int64)
        if not np.issubdtype(anno_inds.dtype, np.integer) or anno_inds.ndim != 1:
            self._fail(results, 'anno_inds', f'expected a bool mask of the {num_boxes} boxes or a vector of box '
                       f'indices, got {anno_inds.dtype} of shape {anno_inds.shape}')
        if anno_inds.min() < 0 or anno_inds.max() >= num_boxes:
            self._fail(results, 'anno_inds', f'box indices [{anno_inds.min()}, {anno_inds.max()}] lie outside '
                       f'[0, {num_boxes})')
        kept = np.unique(anno_inds)
        if len(kept) != len(anno_inds):
            hint = (' (a 0/1 mask as long as the boxes? give it as bools)'
                    if len(anno_inds) == num_boxes and set(kept.tolist()) <= {0, 1} else '')
            self._fail(results, 'anno_inds', f'a box index is given twice{hint}')
        return kept

    def transform(self, results: dict) -> dict:
        for key in ('keypoint', 'frame_inds', 'total_frames'):
            if key not in results:
                raise KeyError(f'DecompressPose: {sample_name(results)} has no field {key!r} '
                               f'(fields: {sorted(results)})')
        keypoint = np.asarray(results['keypoint'])
        frame_inds = np.asarray(results.pop('frame_inds'))
        total = int(results['total_frames'])
        if keypoint.ndim != 3 or keypoint.shape[-1] != 3:
            self._fail(results, 'keypoint', f'expected N_boxes x V x 3 (x, y, score), got shape {keypoint.shape}'
                       + (' (an uncompressed M x T x V x C sample needs no DecompressPose)'
                          if keypoint.ndim == 4 else ''))
        if frame_inds.shape != keypoint.shape[:1]:
            self._fail(results, 'frame_inds', f'shape {frame_inds.shape} does not match {len(keypoint)} boxes')
        anno_inds = results.pop('anno_inds', None)
        results.pop('box_score', None)
        if anno_inds is not None:
            keep = self._kept_boxes(results, np.asarray(anno_inds), len(keypoint))
            keypoint, frame_inds = keypoint[keep], frame_inds[keep]
        if (np.diff(frame_inds) < 0).any():
            self._fail(results, 'frame_inds', 'not sorted (each box must follow the boxes of earlier frames)')
        if len(frame_inds) and (frame_inds[0] < 0 or frame_inds[-1] >= total):
            self._fail(results, 'frame_inds', f'frames [{frame_inds[0]}, {frame_inds[-1]}] lie outside '
                       f'[0, total_frames={total})')

        V = keypoint.shape[1]
        dtype = float_dtype(keypoint)
        if self.squeeze:
            _, frame = np.unique(frame_inds, return_inverse=True)  # frames with a box, renumbered 0..T-1
            T = int(frame.max()) + 1 if len(frame) else 1
        else:
            frame, T = frame_inds.astype(np.int64), total
        # rank in the frame: order by (frame, -score), then count the position within each frame
        score = keypoint[..., 2].sum(axis=-1, dtype=np.float64)
        order = np.lexsort((-score, frame))
        frame = frame[order]
        rank = np.arange(len(frame)) - np.searchsorted(frame, frame, side='left')
        keep = rank < self.max_person
        order, frame, rank = order[keep], frame[keep], rank[keep]
        M = int(rank.max()) + 1 if len(rank) else 1
        joints = np.zeros((M, T, V, 2), dtype=dtype)
        scores = np.zeros((M, T, V), dtype=dtype)
        joints[rank, frame] = keypoint[order, :, :2]  # N_kept x V x 2 -> M x T x V x 2
        scores[rank, frame] = keypoint[order, :, 2]
        results['keypoint'] = joints
        results['keypoint_score'] = scores
        results['total_frames'] = T
        return results

    def __repr__(self) -> str:
        return format_repr(self, squeeze=self.squeeze, max_person=self.max_person)
