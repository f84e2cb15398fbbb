"""Readers of the JSON that 2D pose estimators write, to per-frame persons.

* mmpose ``--save-predictions`` (``topdown_demo_with_mmdet.py``, the inferencer's
  ``--pred-out-dir``): a file with a list of frames ``{'frame_id', 'instances':
  [{'keypoints': [[x, y], ...], 'keypoint_scores': [...]}, ...]}``, either as the
  list itself or under ``'instance_info'`` (with ``'meta_info'`` beside it); a
  single image's file is its list of instances.
* OpenPose ``--write_json``: a folder with one ``*_<frame number>_keypoints.json``
  per frame, ``{'people': [{'pose_keypoints_2d': [x0, y0, c0, x1, ...]}]}``, in
  the COCO-18 or BODY_25 model.

A frame is a ``P x V x 3`` array (x, y, score) of its P persons. OpenPose joints are
mapped to the layout asked for: ``coco`` (COCO-17, as HRNet/mmpose give) or
``openpose`` (COCO-18, OpenPose's own order). Mapping by joint name:

=========  ========  =======  ==========
COCO-17    name      COCO-18  BODY_25
=========  ========  =======  ==========
0          nose      0        0
1, 2       l/r eye   15, 14   16, 15
3, 4       l/r ear   17, 16   18, 17
5, 6       l/r sh.   5, 2     5, 2
7, 8       l/r elb.  6, 3     6, 3
9, 10      l/r wr.   7, 4     7, 4
11, 12     l/r hip   11, 8    12, 9
13, 14     l/r knee  12, 9    13, 10
15, 16     l/r ank.  13, 10   14, 11
=========  ========  =======  ==========

COCO-18's neck (1) has no COCO-17 joint; BODY_25's mid-hip (8) and feet (19-24) are
dropped for both layouts.
"""
import json
import os
import re
from pathlib import Path
from typing import Union

import numpy as np

PathLike = Union[str, os.PathLike]

OPENPOSE_TO_LAYOUT = {
    # (OpenPose joints, layout) -> the OpenPose joint of each layout joint
    (18, 'coco'): (0, 15, 14, 17, 16, 5, 2, 6, 3, 7, 4, 11, 8, 12, 9, 13, 10),
    (25, 'coco'): (0, 16, 15, 18, 17, 5, 2, 6, 3, 7, 4, 12, 9, 13, 10, 14, 11),
    (18, 'openpose'): tuple(range(18)),
    (25, 'openpose'): (0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18),
}
LAYOUT_JOINTS = {'coco': 17, 'openpose': 18}


class PoseJsonError(ValueError):
    """A pose-estimator file that cannot be read; the message names the file and the field."""


def _load_json(path: Path):
    try:
        with open(path, encoding='utf-8') as f:
            return json.load(f)
    except (OSError, ValueError) as err:
        raise PoseJsonError(f'{path}: not a readable JSON file ({err})') from None


def _person_array(keypoints, scores, where: str) -> np.ndarray:
    try:
        xy = np.asarray(keypoints, dtype=np.float32)
        score = np.asarray(scores, dtype=np.float32)
    except (TypeError, ValueError):
        raise PoseJsonError(f"{where}: 'keypoints' and 'keypoint_scores' must be numbers") from None
    if xy.ndim != 2 or xy.shape[1] < 2 or score.shape != xy.shape[:1]:
        raise PoseJsonError(f"{where}: expected 'keypoints' V x 2 and 'keypoint_scores' V, got shapes "
                            f'{xy.shape} and {score.shape}')
    return np.concatenate([xy[:, :2], score[:, None]], axis=1)  # V x 3


def read_mmpose_json(path: PathLike) -> list[np.ndarray]:
    """One ``P x V x 3`` array per frame (frames in ``frame_id`` order where given)."""
    path = Path(path)
    data = _load_json(path)
    if isinstance(data, dict):
        if 'instance_info' not in data:
            raise PoseJsonError(f"{path}: expected a list of frames or a dict with 'instance_info', "
                                f'got keys {sorted(data)}')
        data = data['instance_info']
    if not isinstance(data, list):
        raise PoseJsonError(f"{path}: 'instance_info' must be a list of frames, got {type(data).__name__}")
    if data and isinstance(data[0], dict) and 'keypoints' in data[0]:  # one image: its instances
        data = [dict(instances=data)]
    frames = []
    for k, frame in enumerate(data):
        if not isinstance(frame, dict) or not isinstance(frame.get('instances', None), list):
            raise PoseJsonError(f"{path}: frame {k}: expected {{'frame_id', 'instances': [...]}}")
        persons = []
        for p, inst in enumerate(frame['instances']):
            where = f'{path}: frame {k} instance {p}'
            if not isinstance(inst, dict) or 'keypoints' not in inst or 'keypoint_scores' not in inst:
                raise PoseJsonError(f"{where}: expected 'keypoints' and 'keypoint_scores'")
            persons.append(_person_array(inst['keypoints'], inst['keypoint_scores'], where))
        frames.append((frame.get('frame_id', k), persons, path, k))
    frames.sort(key=lambda f: f[0])
    V = next((persons[0].shape[0] for _, persons, _, _ in frames if persons), 0)
    return [_stack(persons, f'{path}: frame {k}', V) for _, persons, path, k in frames]


def _stack(persons: list, where: str, num_joints: int = 0) -> np.ndarray:
    if not persons:
        return np.zeros((0, num_joints, 3), np.float32)
    joints = {p.shape[0] for p in persons}
    if len(joints) != 1:
        raise PoseJsonError(f'{where}: persons with different joint counts {sorted(joints)}')
    return np.stack(persons)


_FRAME_NUMBER = re.compile(r'(\d+)_keypoints\.json$')


def read_openpose_folder(folder: PathLike, layout: str = 'coco') -> list[np.ndarray]:
    """One ``P x V x 3`` array per frame file, in frame-number order, mapped to ``layout``."""
    folder = Path(folder)
    if layout not in LAYOUT_JOINTS:
        raise ValueError(f'layout must be one of {sorted(LAYOUT_JOINTS)}, got {layout!r}')
    files = sorted((int(m.group(1)), p) for p in folder.iterdir() if (m := _FRAME_NUMBER.search(p.name)))
    if not files:
        raise PoseJsonError(f'{folder}: no OpenPose *_<frame>_keypoints.json files')
    frames = []
    for _, path in files:
        data = _load_json(path)
        people = data.get('people') if isinstance(data, dict) else None
        if not isinstance(people, list):
            raise PoseJsonError(f"{path}: expected {{'people': [...]}}")
        persons = []
        for p, person in enumerate(people):
            flat = np.asarray(person.get('pose_keypoints_2d', []) if isinstance(person, dict) else [], np.float32)
            where = f"{path}: person {p} field 'pose_keypoints_2d'"
            if flat.ndim != 1 or flat.size % 3 or flat.size // 3 not in (18, 25):
                raise PoseJsonError(f'{where}: expected 18 or 25 joints x (x, y, c), got {flat.size} numbers')
            joints = flat.reshape(-1, 3)
            persons.append(joints[list(OPENPOSE_TO_LAYOUT[(len(joints), layout)])])
        frames.append(_stack(persons, str(path), LAYOUT_JOINTS[layout]))
    return frames


def frames_to_skeleton(frames: list[np.ndarray], max_person: int) -> tuple[np.ndarray, int]:
    """``M x T x V x 3`` from per-frame ``P x V x 3`` persons, and the number of persons dropped.

    In each frame the persons are ranked by their mean joint score, highest first
    (person 0 is each frame's most confident one; nothing tracks identities across
    frames), and the first ``max_person`` kept. M is the most persons left in a
    frame (at least 1); a frame with fewer persons is padded with zeros.
    """
    V = next((f.shape[1] for f in frames if f.size), 0)
    M = max(1, min(max_person, max((len(f) for f in frames), default=0)))
    out = np.zeros((M, len(frames), V, 3), np.float32)
    dropped = 0
    for t, persons in enumerate(frames):
        if not len(persons):
            continue
        order = np.argsort(-persons[..., 2].mean(axis=1), kind='stable')[:M]
        dropped += len(persons) - len(order)
        out[:len(order), t] = persons[order]
    return out, dropped
