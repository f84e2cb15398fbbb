"""Small files in the exact formats of the Kinetics-Skeleton, BABEL and Toyota Smarthome releases
(written here: the data sets may not be redistributed), for the converter tests."""
import json
import pickle
from pathlib import Path

import numpy as np

# --- Kinetics-Skeleton (ST-GCN): one JSON a clip, a label JSON a split --------------------------------


def kinetics_person(seed: float, score: float = 0.5) -> dict:
    """One skeleton as the release writes it: 36 pose values (x, y interleaved, 3 decimals), 18 scores."""
    pose = [round((seed + 0.013 * j) % 1, 3) for j in range(36)]
    return dict(pose=pose, score=[round(score + 0.001 * j, 3) for j in range(18)])


def write_kinetics_clip(folder: Path, video: str, frames: list, label_index: int = 0,
                        label: str = 'abseiling') -> Path:
    """``frames``: ``[(frame_index, [skeleton, ...]), ...]``."""
    data = [dict(frame_index=i, skeleton=people) for i, people in frames]
    path = folder / f'{video}.json'
    path.write_text(json.dumps(dict(data=data, label=label, label_index=label_index)))
    return path


def make_kinetics_release(root: Path) -> Path:
    """3 train clips listed (one marked has_skeleton false, one malformed, one missing), 2 val clips (one
    without a person)."""
    for split in ('train', 'val'):
        (root / f'kinetics_{split}').mkdir(parents=True)
    train, val = root / 'kinetics_train', root / 'kinetics_val'
    p = kinetics_person
    write_kinetics_clip(train, 'vid_a', [(1, [p(0.1, 0.9), p(0.2, 0.3)]), (2, [p(0.3)])], 0, 'abseiling')
    write_kinetics_clip(train, 'vid_b', [(1, [p(0.4)]), (3, [p(0.5)])], 2, 'air drumming')
    (train / 'vid_bad.json').write_text('{"data": [{"frame_index": 1, "skeleton": [{"pose": [0.1, ')
    write_kinetics_clip(val, 'vid_c', [(1, [p(0.6)])], 1, 'answering questions')
    write_kinetics_clip(val, 'vid_empty', [(1, []), (2, [])], 1, 'answering questions')
    labels = {
        'train': dict(vid_a=dict(has_skeleton=True, label='abseiling', label_index=0),
                      vid_b=dict(has_skeleton=True, label='air drumming', label_index=2),
                      vid_bad=dict(has_skeleton=True, label='abseiling', label_index=0),
                      vid_none=dict(has_skeleton=False, label='abseiling', label_index=0),
                      vid_lost=dict(has_skeleton=True, label='abseiling', label_index=0)),
        'val': dict(vid_c=dict(has_skeleton=True, label='answering questions', label_index=1),
                    vid_empty=dict(has_skeleton=True, label='answering questions', label_index=1))}
    for split, entries in labels.items():
        (root / f'kinetics_{split}_label.json').write_text(json.dumps(entries))
    return root


# --- BABEL: N x 3 x 150 x 25 x 1 arrays and (seg_ids, (labels, sids, chunk_ns, annotators)) pickles -------


def babel_chunks(n: int, seed: int = 0, frames: int = 150) -> np.ndarray:
    """``n x 3 x 150 x 25 x 1`` as the release stores them, the last chunk zero-padded after 90 frames."""
    rng = np.random.default_rng(seed)
    data = rng.normal(scale=0.3, size=(n, 3, frames, 25, 1)).astype(np.float32)
    data[-1, :, 90:] = 0
    return data


def write_babel_split(root: Path, split: str, classes: int, data: np.ndarray, labels: list, plain: bool = False):
    np.save(root / f'{split}_ntu_sk_{classes}.npy', data)
    seg_ids = [f'seg-{split}-{i // 2}' for i in range(len(labels))]
    content = (seg_ids, labels) if plain else (
        seg_ids, (labels, [1000 + i for i in range(len(labels))], [i % 2 for i in range(len(labels))],
                  ['anntr'] * len(labels)))
    with open(root / f'{split}_label_{classes}.pkl', 'wb') as f:
        pickle.dump(content, f)


def make_babel_release(root: Path, classes: int = 60) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    write_babel_split(root, 'train', classes, babel_chunks(4), [0, 5, classes - 1, 5])
    write_babel_split(root, 'val', classes, babel_chunks(3, seed=1), [5, 0, 1])
    return root


# --- Toyota Smarthome: one LCR-Net++ JSON a clip ----------------------------------------------------------


def smarthome_detection(seed: float, score: float = 5.0) -> dict:
    """One LCR-Net++ detection: pose2d all x then all y (pixels), pose3d all x, y, z (metres), cumscore."""
    pose2d = [round(300 + 10 * seed + 7 * j, 2) for j in range(13)] + [round(100 + 20 * j + seed, 2) for j in range(13)]
    pose3d = [round(0.01 * (j - 6) + seed / 100, 4) for j in range(13)] + \
        [round(-0.12 * j + seed / 50, 4) for j in range(13)] + [round(0.02 * j, 4) for j in range(13)]
    return dict(pose2d=pose2d, pose3d=pose3d, cumscore=score)


def write_smarthome_clip(folder: Path, name: str, frames: list, **override) -> Path:
    content = dict(K=[[1000, 0, 320], [0, 1000, 240], [0, 0, 1]], njts=13, frames=frames)
    content.update(override)
    path = folder / f'{name}_pose3d.json'
    path.write_text(json.dumps(content))
    return path


SMARTHOME_CLIPS = ('Walk_p03_r00_v01_c01', 'Walk_p02_r00_v01_c02', 'Cook.Cut_p03_r00_v01_c01',
                   'Readbook_p10_r01_v03_c05', 'Drink.Fromcup_p25_r00_v02_c04', 'Sitdown_p11_r00_v02_c02')


def make_smarthome_release(root: Path, frames: int = 2) -> Path:
    """The clips of SMARTHOME_CLIPS, plus a malformed one, one of an unknown action, one without a
    person and a file whose name is not a clip's."""
    root.mkdir(parents=True)
    for k, name in enumerate(SMARTHOME_CLIPS):
        write_smarthome_clip(root, name, [[smarthome_detection(k + t / frames)] for t in range(frames)])
    (root / 'Walk_p04_r00_v01_c01_pose3d.json').write_text('{"njts": 13, "frames": [[')
    write_smarthome_clip(root, 'Dance_p03_r00_v01_c01', [[smarthome_detection(0)]])
    write_smarthome_clip(root, 'Walk_p05_r00_v01_c03', [[], []])
    (root / 'notes.json').write_text('{}')
    return root
