"""2D keypoints from the JSON that common pose estimators write, as a sample dict.

* mmpose ``--save-predictions``: one file, ``{"meta_info": ..., "instance_info": [{"frame_id": i,
  "instances": [{"keypoints": [[x, y], ...], "keypoint_scores": [...], ...}, ...]}, ...]}``
  (a bare list of such frames is read too).
* OpenPose ``--write_json``: a folder with one ``*_keypoints.json`` per frame, in frame order
  by name, each ``{"people": [{"pose_keypoints_2d": [x0, y0, c0, x1, ...]}, ...]}``; 18
  joints (OpenPose's COCO model, our ``openpose`` layout) or 25 (BODY_25).

Persons: nothing is tracked. In each frame the persons are ranked by their mean keypoint
score, and the best ``max_person`` are kept, best first: person slot 0 holds each frame's
best-scored person. Frames with fewer persons are zero-filled (score 0).

Layouts (:func:`to_layout`): the result is in the reader's own layout (``coco`` for mmpose's
COCO-17 models, ``openpose`` or ``body_25`` for OpenPose); a model wants its config's. The
mappings, by joint name:

* ``openpose`` (18) -> ``coco`` (17): drop the neck; reorder nose, eyes, ears, shoulders,
  elbows, wrists, hips, knees, ankles to COCO's order (:data:`OPENPOSE_TO_COCO`).
* ``body_25`` -> ``coco``: as above, also dropping MidHip and the six foot points (:data:`BODY25_TO_COCO`).
* ``body_25`` -> ``openpose``: drop MidHip (8) and the foot points (19-24) (:data:`BODY25_TO_OPENPOSE`).
"""
import glob
import json
import os
import os.path as osp
from typing import Optional, Sequence, Union

import numpy as np

PathLike = Union[str, os.PathLike]

#: Source joint of each COCO-17 joint (nose, l/r eye, l/r ear, l/r shoulder, l/r elbow, l/r wrist,
#: l/r hip, l/r knee, l/r ankle) in OpenPose's 18-joint COCO output.
OPENPOSE_TO_COCO = (0, 15, 14, 17, 16, 5, 2, 6, 3, 7, 4, 11, 8, 12, 9, 13, 10)
#: ... and in OpenPose's BODY_25 output.
BODY25_TO_COCO = (0, 16, 15, 18, 17, 5, 2, 6, 3, 7, 4, 12, 9, 13, 10, 14, 11)
#: Source joint of each 18-joint ``openpose`` joint in BODY_25 (without MidHip and the feet).
BODY25_TO_OPENPOSE = (0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18)

MAPPINGS = {('openpose', 'coco'): OPENPOSE_TO_COCO, ('body_25', 'coco'): BODY25_TO_COCO,
            ('body_25', 'openpose'): BODY25_TO_OPENPOSE}
OPENPOSE_LAYOUTS = {18: 'openpose', 25: 'body_25'}


def keep_best_persons(frames: Sequence[tuple], max_person: Optional[int] = None, where: str = '') -> dict:
    """``keypoint`` ``M x T x V x 2`` and ``keypoint_score`` ``M x T x V`` from per-frame detections
    ``[(K_t x V x 2 keypoints, K_t x V scores), ...]``: per frame the ``max_person`` persons with the
    highest mean keypoint score, best first (``M`` = the most persons any frame keeps)."""
    if not frames:
        raise ValueError(f'{where}: no frames')
    joints = {f[0].shape[1] for f in frames if len(f[0])}
    if not joints:
        raise ValueError(f'{where}: no person is detected in any of its {len(frames)} frames')
    if len(joints) > 1:
        raise ValueError(f'{where}: the frames have persons with different joint counts {sorted(joints)}')
    V = joints.pop()
    M = max(len(f[0]) for f in frames)
    if max_person is not None:
        M = min(M, max_person)
    keypoint = np.zeros((M, len(frames), V, 2), np.float32)
    score = np.zeros((M, len(frames), V), np.float32)
    for t, (kp, sc) in enumerate(frames):
        if not len(kp):
            continue
        order = np.argsort(-sc.mean(axis=1), kind='stable')[:M]
        keypoint[:len(order), t] = kp[order]
        score[:len(order), t] = sc[order]
    return dict(keypoint=keypoint, keypoint_score=score, total_frames=len(frames))


def _array(value, shape: tuple, where: str, field: str) -> np.ndarray:
    """``value`` as float32 of ``shape`` (None: any size), finite; else a ValueError naming the field."""
    try:
        array = np.asarray(value, dtype=np.float32)
    except (TypeError, ValueError):
        raise ValueError(f'{where} field {field!r}: not an array of numbers') from None
    if array.ndim != len(shape) or any(want is not None and have != want for have, want in zip(array.shape, shape)):
        expected = ' x '.join('N' if d is None else str(d) for d in shape)
        raise ValueError(f'{where} field {field!r}: shape {array.shape}, expected {expected}')
    if not np.isfinite(array).all():
        raise ValueError(f'{where} field {field!r}: NaN/inf values')
    return array


def _load_json(path: PathLike):
    try:
        with open(path, encoding='utf-8') as f:
            return json.load(f)
    except json.JSONDecodeError as e:
        raise ValueError(f'{path}: not valid JSON ({e})') from None


def read_mmpose_json(path: PathLike, max_person: Optional[int] = None) -> dict:
    """A sample dict (``frame_dir`` = the file's name) from an mmpose ``--save-predictions`` file;
    ``layout`` is ``'coco'`` for 17 joints, else None (the file's own)."""
    content = _load_json(path)
    frames = content.get('instance_info') if isinstance(content, dict) else content
    if not isinstance(frames, list):
        raise ValueError(f'{path}: expected mmpose predictions (a dict with "instance_info", or a list of frames)')
    if frames and all(isinstance(f, dict) and 'frame_id' in f for f in frames):
        frames = sorted(frames, key=lambda f: f['frame_id'])
    detections = []
    for t, frame in enumerate(frames):
        instances = frame.get('instances') if isinstance(frame, dict) else frame
        if not isinstance(instances, list):
            raise ValueError(f'{path}: frame {t} has no "instances" list')
        kps, scores = [], []
        for i, inst in enumerate(instances):
            where = f'{path}: frame {t} instance {i}'
            if not isinstance(inst, dict) or 'keypoints' not in inst or 'keypoint_scores' not in inst:
                raise ValueError(f'{where}: needs "keypoints" and "keypoint_scores"')
            kp = _array(inst['keypoints'], (None, 2), where, 'keypoints')
            kps.append(kp)
            scores.append(_array(inst['keypoint_scores'], (len(kp), ), where, 'keypoint_scores'))
        if len({len(k) for k in kps}) > 1:
            raise ValueError(f'{path}: frame {t}: instances with different joint counts')
        V = len(kps[0]) if kps else 0
        detections.append((np.stack(kps) if kps else np.zeros((0, V, 2), np.float32),
                           np.stack(scores) if scores else np.zeros((0, V), np.float32)))
    sample = keep_best_persons(detections, max_person, where=str(path))
    sample['frame_dir'] = osp.splitext(osp.basename(path))[0]
    sample['layout'] = 'coco' if sample['keypoint'].shape[2] == 17 else None
    return sample


def read_openpose_folder(folder: PathLike, max_person: Optional[int] = None) -> dict:
    """A sample dict (``frame_dir`` = the folder's name) from an OpenPose ``--write_json`` folder;
    ``layout`` is ``'openpose'`` (18 joints) or ``'body_25'``."""
    files = sorted(glob.glob(osp.join(glob.escape(os.fspath(folder)), '*.json')))
    if not files:
        raise FileNotFoundError(f'{folder}: no .json files (expected OpenPose --write_json output, one file a frame)')
    detections = []
    for path in files:
        people = _load_json(path)
        people = people.get('people') if isinstance(people, dict) else None
        if not isinstance(people, list):
            raise ValueError(f'{path}: expected OpenPose JSON with a "people" list')
        flat = []
        for i, person in enumerate(people):
            values = person.get('pose_keypoints_2d') if isinstance(person, dict) else None
            where = f'{path}: person {i}'
            if values is None:
                raise ValueError(f'{where}: no "pose_keypoints_2d"')
            values = _array(values, (None, ), where, 'pose_keypoints_2d')
            if len(values) % 3 or len(values) // 3 not in OPENPOSE_LAYOUTS:
                raise ValueError(f'{where} field "pose_keypoints_2d": {len(values)} numbers; expected x, y, c for '
                                 '18 (COCO) or 25 (BODY_25) joints')
            flat.append(values.reshape(-1, 3))
        if len({len(p) for p in flat}) > 1:
            raise ValueError(f'{path}: persons with different joint counts')
        V = len(flat[0]) if flat else 0
        people = np.stack(flat) if flat else np.zeros((0, V, 3), np.float32)
        detections.append((people[..., :2], people[..., 2]))
    sample = keep_best_persons(detections, max_person, where=os.fspath(folder))
    sample['frame_dir'] = osp.basename(osp.normpath(os.fspath(folder)))
    sample['layout'] = OPENPOSE_LAYOUTS[sample['keypoint'].shape[2]]
    return sample


def to_layout(sample: dict, target: str, num_joints: int) -> dict:
    """``sample`` (with ``layout`` set by a reader) in the ``target`` layout of ``num_joints`` joints:
    mapped by :data:`MAPPINGS`, or unchanged where it is that layout already (or has no layout
    tag and the right joint count). A ``ValueError`` names the config layouts that fit otherwise."""
    source = sample.get('layout')
    V = sample['keypoint'].shape[2]
    if source == target or (source is None and V == num_joints):
        return sample
    if (source, target) in MAPPINGS:
        index = list(MAPPINGS[(source, target)])
        out = dict(sample, keypoint=sample['keypoint'][:, :, index], layout=target)
        if 'keypoint_score' in sample:
            out['keypoint_score'] = sample['keypoint_score'][:, :, index]
        return out
    fits = sorted({t for s, t in MAPPINGS if s == source} | ({source} if source in ('coco', 'openpose') else set()))
    raise ValueError(f'{sample.get("frame_dir", "input")}: {V} joints ({source or "unknown"} layout) do not fit the '
                     f"model's layout {target!r} ({num_joints} joints); a config with graph_cfg.layout="
                     f"{' or '.join(repr(f) for f in fits) or 'dict(num_node=%d, ...)' % V} fits them")
