"""Predictions for a recording on disk (``tools/infer.py``): read it, cut it into windows, classify.

Inputs (:func:`read_recording`):

* ``.npy``: an array ``T x V x C`` or ``M x T x V x C``;
* ``.pkl``: an annotation pickle, with ``frame_dir`` naming the sample;
* ``.json``: mmpose ``--save-predictions`` output;
* a folder: OpenPose ``--write_json`` output (one JSON file a frame).

2D pose-estimator output is read with the persons of each frame ranked by mean keypoint
score (the model's ``num_person`` best kept, see :mod:`pyskl.datasets.converters.pose_json`)
and mapped to the model's graph layout where a mapping is documented there.
"""
import csv
import io
import os
import os.path as osp
import sys
from typing import Optional, Sequence

import numpy as np

from pyskl.datasets.converters.pose_json import read_mmpose_json, read_openpose_folder, to_layout
from pyskl.utils.progress import Progress
from pyskl.utils.safe_pickle import load_pickle
from .inference import clip_layout, inference_recognizer

#: Windows classified together in one batch.
WINDOW_BATCH = 8


def read_recording(path: str, model, frame_dir: Optional[str] = None,
                   img_shape: Optional[Sequence[int]] = None) -> dict:
    """The sample dict of ``path`` (see the module docstring), in ``model``'s layout.

    ``img_shape`` ``(H, W)``: the frame size, for 2D inputs whose file does not give it.
    """
    path = os.fspath(path)
    if not osp.exists(path):
        raise FileNotFoundError(f'{path} does not exist')
    if osp.isdir(path):
        sample = read_openpose_folder(path, max_person=clip_layout(model)['persons'])
    elif path.endswith('.json'):
        sample = read_mmpose_json(path, max_person=clip_layout(model)['persons'])
    elif path.endswith('.npy'):
        sample = dict(keypoint=np.load(path, allow_pickle=False), frame_dir=osp.splitext(osp.basename(path))[0])
    elif path.endswith(('.pkl', '.pickle')):
        if frame_dir is None:
            raise ValueError(f'{path} is an annotation file: name the sample with --frame-dir NAME')
        content = load_pickle(path)
        annotations = content.get('annotations', []) if isinstance(content, dict) else content
        found = [a for a in annotations if isinstance(a, dict) and a.get('frame_dir') == frame_dir]
        if not found:
            raise KeyError(f'{path} has no sample with frame_dir {frame_dir!r}')
        sample = dict(found[0])
    else:
        raise ValueError(f'{path}: unknown input; give a .npy array, an annotation .pkl (with --frame-dir), an '
                         'mmpose .json or an OpenPose --write_json folder')
    if 'layout' in sample:  # from a pose estimator: map to the model's joints
        layout = model.backbone.graph.layout
        sample = to_layout(sample, layout.name, layout.num_node)
        sample.pop('layout')
    if img_shape is not None:
        sample['img_shape'] = tuple(int(v) for v in img_shape)
        sample.setdefault('original_shape', sample['img_shape'])
    return sample


def window_bounds(num_frames: int, window: Optional[int], stride: Optional[int]) -> list[tuple[int, int]]:
    """``[(start, end), ...]``: windows of ``window`` frames every ``stride`` frames (the last one
    ends at the last frame), or the whole recording where it is not longer than one window."""
    if window is None:
        return [(0, num_frames)]
    if window < 1 or (stride is not None and stride < 1):
        raise ValueError(f'--window and --stride must be positive, got {window} and {stride}')
    stride = stride or window
    if num_frames <= window:
        return [(0, num_frames)]
    starts = list(range(0, num_frames - window + 1, stride))
    if starts[-1] + window < num_frames:
        starts.append(num_frames - window)
    return [(s, s + window) for s in starts]


def _window(sample: dict, start: int, end: int) -> dict:
    out = dict(sample, keypoint=np.asarray(sample['keypoint'])[:, start:end], total_frames=end - start)
    if sample.get('keypoint_score') is not None:
        out['keypoint_score'] = np.asarray(sample['keypoint_score'])[:, start:end]
    out['frame_dir'] = f'{sample.get("frame_dir", "input")}[{start}:{end}]'
    return out


def predict_recording(model, sample: dict, window: Optional[int] = None, stride: Optional[int] = None,
                      top_k: int = 5, progress: bool = True) -> list[dict]:
    """One prediction per window (see :func:`window_bounds`): the result dicts of
    :func:`inference_recognizer` with ``start`` and ``end`` (frames) added."""
    keypoint = np.asarray(sample['keypoint'])
    if keypoint.ndim == 3:
        sample = dict(sample, keypoint=keypoint[None])
        if sample.get('keypoint_score') is not None:
            sample['keypoint_score'] = np.asarray(sample['keypoint_score'])[None]
    num_frames = np.asarray(sample['keypoint']).shape[1] if np.ndim(sample['keypoint']) == 4 else 0
    bounds = window_bounds(num_frames, window, stride)
    bar = Progress(len(bounds), file=sys.stderr) if progress and len(bounds) > WINDOW_BATCH else None
    rows = []
    for i in range(0, len(bounds), WINDOW_BATCH):
        chunk = bounds[i:i + WINDOW_BATCH]
        results = inference_recognizer(model, [_window(sample, s, e) for s, e in chunk], top_k=top_k)
        rows.extend(dict(result, start=s, end=e) for (s, e), result in zip(chunk, results))
        for _ in chunk if bar is not None else ():
            bar.update()
    if bar is not None:
        bar.close()
    return rows


def predictions_csv(rows: Sequence[dict]) -> str:
    """CSV text, one row per window: ``start,end,pred_label,class_name,pred_score`` then the top-k
    as ``label_i,class_i,score_i``."""
    k = max(len(r['top_k']) for r in rows)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator='\n')
    writer.writerow(['start', 'end', 'pred_label', 'class_name', 'pred_score']
                    + [f'{field}_{i + 1}' for i in range(k) for field in ('label', 'class', 'score')])
    for r in rows:
        top = [v for label, name, score in r['top_k'] for v in (label, name or '', f'{score:.6f}')]
        writer.writerow([r['start'], r['end'], r['pred_label'], r['top_k'][0][1] or '', f'{r["pred_score"]:.6f}']
                        + top)
    return buf.getvalue()
