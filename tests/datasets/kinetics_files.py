"""Small files in the compressed Kinetics form, written by the tests."""
import os

import numpy as np

from pyskl.utils import dump_pickle


def video(name, frame_inds, box_score, total_frames=10, label=0, kpfile='part_0.pkl', V=17, seed=0, valid=None):
    """An annotation item and its kpfile entry; box b's joints are at x = 100 + b, y = 50, score box_score[b]."""
    frame_inds = np.asarray(frame_inds, np.int16)
    box_score = np.asarray(box_score, np.float16)
    n = len(frame_inds)
    keypoint = np.zeros((n, V, 3), np.float16)
    keypoint[..., 0] = 100 + np.arange(n)[:, None]
    keypoint[..., 1] = 50
    keypoint[..., 2] = box_score[:, None]
    if valid is None:
        valid = {t: int(len(np.unique(frame_inds[box_score >= t]))) for t in (0.5, 0.6, 0.7, 0.8, 0.9)}
    item = dict(frame_dir=name, label=label, img_shape=(100, 200), original_shape=(100, 200), total_frames=total_frames,
                raw_file=f'/lost/kpfiles/{kpfile}', frame_inds=frame_inds, box_score=box_score, valid=valid)
    return item, keypoint


def write_kinetics(folder, videos, split=None, kpfiles=None):
    """``videos``: (item, keypoint) pairs; kpfiles hold their videos' keypoints, as named by raw_file.
    ``kpfiles`` overrides the content of some kpfiles (name -> object). Returns (ann_file, kpfile_dir)."""
    folder = str(folder)
    kpfile_dir = os.path.join(folder, 'kpfiles')
    os.makedirs(kpfile_dir, exist_ok=True)
    contents = {}
    for item, keypoint in videos:
        raw_file = item.get('raw_file')
        name = os.path.basename(raw_file) if isinstance(raw_file, str) else 'part_0.pkl'
        contents.setdefault(name, {})[item['frame_dir']] = dict(keypoint=keypoint)
    contents.update(kpfiles or {})
    for name, content in contents.items():
        if content is not None:
            dump_pickle(content, os.path.join(kpfile_dir, name))
    ann = os.path.join(folder, 'k400_hrnet.pkl')
    data = dict(annotations=[item for item, _ in videos])
    if split is not None:
        data['split'] = split
    dump_pickle(data, ann)
    return ann, kpfile_dir
