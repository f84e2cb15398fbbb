"""Kinetics-400 in the original PYSKL's compressed form: an annotation list plus kpfiles.

The annotation file holds no keypoints. Each sample has ``raw_file`` (the path
of its kpfile), ``frame_inds`` (the frame of each detected person box, sorted),
``box_score`` (each box's score) and ``valid`` (score threshold -> number of
frames with a box above it), besides ``frame_dir``, ``label``, ``img_shape``,
``original_shape`` and ``total_frames``. A kpfile is a pickle
``{frame_dir: {'keypoint': N_boxes x V x 3}}`` (x, y, score), holding many
videos. Kpfiles are read with the restricted unpickler: they run no code.
"""
import os
from typing import Optional

import numpy as np

from pyskl.utils.safe_pickle import load_pickle


class KpfileError(ValueError):
    """A kpfile is missing, unreadable, or holds a malformed entry; the message names
    the kpfile, the video and the field."""


def is_compressed(sample) -> bool:
    """Whether an annotation sample is in the compressed (Kinetics) form."""
    if not isinstance(sample, dict):
        return False
    if 'raw_file' in sample:
        return True
    return 'frame_inds' in sample and np.ndim(sample.get('keypoint')) == 3


def resolve_kpfile(raw_file: str, ann_file: str, kpfile_dir: Optional[str] = None) -> str:
    """Where the kpfile ``raw_file`` of a sample lies.

    With ``kpfile_dir``: the file of that name in ``kpfile_dir`` (the original's
    ``raw_file`` paths name folders on its authors' machines). Without: a
    relative ``raw_file`` is relative to the annotation file's folder, an
    absolute one is used as it is.
    """
    raw_file = os.fspath(raw_file)
    if kpfile_dir is not None:
        return os.path.join(os.fspath(kpfile_dir), os.path.basename(raw_file))
    return raw_file if os.path.isabs(raw_file) else os.path.join(os.path.dirname(ann_file), raw_file)


def read_kpfile(path: str) -> dict:
    """The kpfile's ``{frame_dir: {'keypoint': ...}}``, or a :class:`KpfileError`."""
    try:
        data = load_pickle(path)
    except FileNotFoundError:
        raise KpfileError(f'{path}: kpfile not found') from None
    except (OSError, ValueError) as err:  # unreadable, truncated, or not a safe pickle
        raise KpfileError(f'{path}: cannot read the kpfile ({err})') from err
    if not isinstance(data, dict):
        raise KpfileError(f'{path}: a kpfile must be a dict frame_dir -> {{"keypoint": ...}}, '
                          f'got {type(data).__name__}')
    return data


def video_keypoint(kpfile: dict, path: str, frame_dir: str, num_boxes: int,
                   num_joints: Optional[int] = None) -> np.ndarray:
    """Video ``frame_dir``'s ``N_boxes x V x 3`` keypoints from a loaded kpfile, checked
    against the annotation's box count (``len(frame_inds)``)."""
    where = f"{path}: video {frame_dir!r} field 'keypoint'"
    if frame_dir not in kpfile:
        raise KpfileError(f'{path}: video {frame_dir!r} is not in its kpfile (it holds {len(kpfile)} videos)')
    entry = kpfile[frame_dir]
    keypoint = entry.get('keypoint') if isinstance(entry, dict) else None
    if keypoint is None:
        raise KpfileError(f"{where}: missing (expected {{'keypoint': N_boxes x V x 3}}, got "
                          f'{type(entry).__name__}{" with keys " + str(sorted(entry)) if isinstance(entry, dict) else ""})')
    if not isinstance(keypoint, np.ndarray) or keypoint.dtype.kind not in 'fiu':
        raise KpfileError(f'{where}: expected a numeric numpy array N_boxes x V x 3, got '
                          f'{type(keypoint).__name__} {getattr(keypoint, "dtype", "")}')
    if keypoint.ndim != 3 or keypoint.shape[2] != 3:
        raise KpfileError(f'{where}: expected N_boxes x V x 3 (x, y, score), got shape {keypoint.shape}')
    if keypoint.shape[0] != num_boxes:
        raise KpfileError(f'{where}: {keypoint.shape[0]} boxes, but the annotation has {num_boxes} '
                          '(frame_inds and box_score)')
    if num_joints is not None and keypoint.shape[1] != num_joints:
        raise KpfileError(f'{where}: {keypoint.shape[1]} joints, but {num_joints} are expected')
    finite = np.isfinite(keypoint)
    if not finite.all():
        box, joint, channel = np.argwhere(~finite)[0]
        raise KpfileError(f'{where}: {int((~finite).sum())} NaN/inf value(s), the first at box {box}, '
                          f'joint {joint}, channel {channel}')
    return keypoint


def box_problem(sample: dict) -> Optional[tuple[str, str]]:
    """The first problem of a compressed sample's per-box fields: ``(field, problem)``."""
    kpfile = f' (kpfile {sample["raw_file"]})' if 'raw_file' in sample else ''
    frame_inds, box_score = sample.get('frame_inds'), sample.get('box_score')
    for field, value, kinds in (('frame_inds', frame_inds, 'iu'), ('box_score', box_score, 'fiu')):
        if not isinstance(value, np.ndarray) or value.ndim != 1 or value.dtype.kind not in kinds:
            what = 'integer' if kinds == 'iu' else 'numeric'
            got = f'shape {value.shape} dtype {value.dtype}' if isinstance(value, np.ndarray) else type(value).__name__
            return field, f'expected a 1-D {what} array, one entry per box, got {got}{kpfile}'
    if len(box_score) != len(frame_inds):
        return 'box_score', f'{len(box_score)} boxes, but frame_inds has {len(frame_inds)}{kpfile}'
    if len(frame_inds):
        step = np.diff(frame_inds)
        if (step < 0).any():
            k = int(np.argmax(step < 0)) + 1
            return 'frame_inds', (f'not sorted: box {k} is in frame {frame_inds[k]}, after frame '
                                  f'{frame_inds[k - 1]}{kpfile}')
        total = sample['total_frames']
        if frame_inds[0] < 0 or frame_inds[-1] >= total:
            return 'frame_inds', (f'frames [{frame_inds[0]}, {frame_inds[-1]}] lie outside '
                                  f'[0, total_frames={total}){kpfile}')
        bad = ~np.isfinite(box_score)
        if bad.any():
            return 'box_score', f'{int(bad.sum())} NaN/inf value(s), the first at box {int(np.argmax(bad))}{kpfile}'
    if 'raw_file' not in sample and 'keypoint' not in sample:
        return 'raw_file', 'missing (a sample without keypoint must name its kpfile)'
    if 'raw_file' in sample and not isinstance(sample['raw_file'], (str, os.PathLike)):
        return 'raw_file', f'expected a path, got {type(sample["raw_file"]).__name__}'
    if 'keypoint' in sample:
        keypoint = sample['keypoint']
        if not isinstance(keypoint, np.ndarray) or keypoint.ndim != 3 or keypoint.shape[2] != 3 \
                or keypoint.shape[0] != len(frame_inds):
            return 'keypoint', (f'expected N_boxes x V x 3 with N_boxes = {len(frame_inds)}, got '
                                f'{getattr(keypoint, "shape", type(keypoint).__name__)}')
    return None
