"""Synthetic data in the compressed Kinetics-400 form (annotation list + kpfiles), for tests,
benchmarks and trying the tools without the real data.

Each video has ``total_frames`` frames with 0 to ``max_boxes`` person boxes a frame
(uniformly), random COCO-17 keypoints inside ``img_shape`` and random scores. Videos are
spread over ``num_kpfiles`` kpfiles in order; ``raw_file`` names a folder that does not
exist (as the original's do), so the kpfiles are found through ``kpfile_dir``.
"""
import os

import numpy as np

from pyskl.utils.progress import track
from pyskl.utils.safe_pickle import dump_pickle

VALID_THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9)
IMG_SHAPE = (360, 640)


def _video(rng: np.random.Generator, total_frames: int, max_boxes: int, num_joints: int):
    counts = rng.integers(0, max_boxes + 1, total_frames)
    frame_inds = np.repeat(np.arange(total_frames, dtype=np.int16), counts)
    n = len(frame_inds)
    keypoint = np.empty((n, num_joints, 3), dtype=np.float16)
    keypoint[..., 0] = rng.random((n, num_joints), dtype=np.float32) * IMG_SHAPE[1]
    keypoint[..., 1] = rng.random((n, num_joints), dtype=np.float32) * IMG_SHAPE[0]
    keypoint[..., 2] = rng.random((n, num_joints), dtype=np.float32)
    box_score = rng.random(n, dtype=np.float32).astype(np.float16)
    valid = {t: int(len(np.unique(frame_inds[box_score >= t]))) for t in VALID_THRESHOLDS}
    return frame_inds, box_score, valid, keypoint


def _write_kpfile(task) -> list[dict]:
    folder, k, first, last, total_frames, max_boxes, num_joints, num_classes, seed = task
    rng = np.random.default_rng([seed, k])
    name = f'part_{k:05d}.pkl'
    kpfile, items = {}, []
    for i in range(first, last):
        frame_dir = f'video_{i:07d}'
        frame_inds, box_score, valid, keypoint = _video(rng, total_frames, max_boxes, num_joints)
        kpfile[frame_dir] = dict(keypoint=keypoint)
        items.append(dict(frame_dir=frame_dir, label=i % num_classes, img_shape=IMG_SHAPE, original_shape=IMG_SHAPE,
                          total_frames=total_frames, raw_file=f'/original/k400/kpfiles/{name}',
                          frame_inds=frame_inds, box_score=box_score, valid=valid))
    dump_pickle(kpfile, os.path.join(folder, 'kpfiles', name))
    return items


def write_synthetic_kinetics(folder: str, num_videos: int, num_kpfiles: int, total_frames: int = 300,
                             max_boxes: int = 5, num_joints: int = 17, num_classes: int = 400,
                             val_every: int = 10, seed: int = 0, num_workers: int = 1,
                             show_progress: bool = False) -> tuple[str, str]:
    """Write ``folder/k400_hrnet.pkl`` and ``folder/kpfiles/part_*.pkl``; returns both paths.

    Splits: ``val`` holds every ``val_every``-th video, ``train`` the others.
    """
    os.makedirs(os.path.join(folder, 'kpfiles'), exist_ok=True)
    bounds = np.linspace(0, num_videos, num_kpfiles + 1).astype(int)
    tasks = [(folder, k, int(bounds[k]), int(bounds[k + 1]), total_frames, max_boxes, num_joints, num_classes, seed)
             for k in range(num_kpfiles)]
    annotations = [item for items in track(_write_kpfile, tasks, num_workers=num_workers, show=show_progress)
                   for item in items]
    names = [a['frame_dir'] for a in annotations]
    split = dict(train=[n for i, n in enumerate(names) if i % val_every], val=names[::val_every])
    ann_file = os.path.join(folder, 'k400_hrnet.pkl')
    dump_pickle(dict(split=split, annotations=annotations), ann_file)
    return ann_file, os.path.join(folder, 'kpfiles')
