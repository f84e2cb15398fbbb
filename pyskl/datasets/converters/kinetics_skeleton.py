"""Kinetics-Skeleton (the OpenPose skeletons released with ST-GCN) -> annotation pickle.

The release holds ``kinetics_train/`` and ``kinetics_val/``, one ``VIDEO_ID.json`` per clip, and
``kinetics_{train,val}_label.json``. A clip file is::

    {"data": [{"frame_index": 1, "skeleton": [{"pose": [x0, y0, x1, y1, ...], "score": [s0, s1, ...]},
                                              ...]}, ...],
     "label": "...", "label_index": 0}

``pose`` holds the 18 OpenPose (COCO-model) joints, x and y interleaved, divided by the width and
height of the 340 x 256 frames the skeletons were estimated on; ``score`` one confidence a joint.
A label file maps each video id to ``{"has_skeleton": bool, "label": name, "label_index": int}``.

A clip becomes a 2D sample in the ``openpose`` layout: ``keypoint`` M x T x 18 x 2 in pixels of the
340 x 256 frame (x * 340, y * 256: ``PreNormalize2D`` maps them to [-1, 1] with the sample's
``img_shape``), ``keypoint_score`` M x T x 18, both stored as float16 unless ``dtype`` says otherwise.
ST-GCN's protocol is kept: in each frame the first five skeletons of the file are candidates, of which
the two with the highest summed joint score are kept, best first; frame t of the sample is the file's
``frame_index`` first + t (missing frames hold no person), up to 300 frames. Clips the label file
marks ``has_skeleton: false`` are left out (counted), as ST-GCN's ``ignore_empty_sample`` does.
Splits: ``train`` and ``val``.
"""
import json
import os
from pathlib import Path
from typing import Optional

import numpy as np

from ...skeleton import LAYOUTS
from ...utils.progress import track
from .common import (ConversionReport, PathLike, Skipped, make_annotation_file, skips_in_a_line, stored_as,
                     write_annotation_file, write_label_map)

NUM_JOINTS = LAYOUTS['openpose'].num_node  # 18
IMG_SHAPE = (256, 340)  # (height, width) of the frames the poses were estimated on
MAX_FRAMES = 300  # ST-GCN's frame limit
MAX_PERSON = 2  # persons kept a frame (ST-GCN's num_person_out)
MAX_CANDIDATES = 5  # skeletons of a frame considered (ST-GCN's num_person_in)
NUM_CLASSES = 400
SPLITS = ('train', 'val')


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _numbers(values, count: int, where: str) -> np.ndarray:
    """``values`` as ``count`` finite float32 numbers; else a ValueError naming ``where``."""
    if not isinstance(values, list) or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                               for v in values):
        raise ValueError(f'{where} must be a list of numbers')
    if len(values) != count:
        raise ValueError(f'{where} has {len(values)} numbers; expected {count} '
                         f'({NUM_JOINTS} joints{", x and y" if count == 2 * NUM_JOINTS else ""})')
    try:
        with np.errstate(over='ignore'):
            array = np.asarray(values, dtype=np.float32)
    except OverflowError:  # an integer beyond any float
        array = np.full(count, np.inf, np.float32)
    if not np.isfinite(array).all():
        raise ValueError(f'{where} has a NaN/inf value (or one beyond float32)')
    return array


def _load_json(path: Path):
    try:
        with open(path, encoding='utf-8') as f:
            return json.load(f)
    except json.JSONDecodeError as err:
        raise ValueError(f'not valid JSON (line {err.lineno}, column {err.colno}: {err.msg})') from None
    except UnicodeDecodeError as err:
        raise ValueError(f'not UTF-8 text (byte {err.start})') from None
    except RecursionError:
        raise ValueError('not valid JSON (nested too deeply)') from None


def read_clip(path: PathLike, max_frames: int = MAX_FRAMES, max_person: int = MAX_PERSON,
              max_candidates: int = MAX_CANDIDATES, img_shape: tuple = IMG_SHAPE) -> dict:
    """One clip file -> its sample dict (without a split), plus ``frames_cut`` (frames beyond
    ``max_frames`` left out) and ``file_label`` (the file's ``label_index``, or None).

    Raises a ``ValueError`` starting with the file name and naming the field at fault.
    """
    path = Path(path)
    try:
        content = _load_json(path)
        return _clip_sample(path.stem, content, max_frames, max_person, max_candidates, img_shape)
    except ValueError as err:
        raise ValueError(f'{path.name}: {err}') from None


def _clip_sample(name: str, content, max_frames: int, max_person: int, max_candidates: int,
                 img_shape: tuple) -> dict:
    if not isinstance(content, dict):
        raise ValueError(f'expected a JSON object, got {type(content).__name__}')
    if 'data' not in content:
        raise ValueError('field "data" is missing')
    frames = content['data']
    if not isinstance(frames, list):
        raise ValueError(f'field "data" must be a list of frames, got {type(frames).__name__}')
    file_label = content.get('label_index')
    if file_label is not None and not _is_int(file_label):
        raise ValueError(f'field "label_index" must be an integer, got {file_label!r}')

    by_index = {}
    for i, frame in enumerate(frames):
        where = f'frame {i} of "data"'
        if not isinstance(frame, dict) or 'frame_index' not in frame or 'skeleton' not in frame:
            raise ValueError(f'{where} must be an object with "frame_index" and "skeleton"')
        index = frame['frame_index']
        if not _is_int(index) or index < 0:
            raise ValueError(f'{where}: field "frame_index" must be a non-negative integer, got {index!r}')
        if index in by_index:
            raise ValueError(f'{where}: frame_index {index} appears twice')
        skeletons = frame['skeleton']
        if not isinstance(skeletons, list):
            raise ValueError(f'{where}: field "skeleton" must be a list of persons')
        people = []
        for k, person in enumerate(skeletons):
            at = f'{where}, person {k}'
            if not isinstance(person, dict) or 'pose' not in person or 'score' not in person:
                raise ValueError(f'{at} must be an object with "pose" and "score"')
            pose = _numbers(person['pose'], 2 * NUM_JOINTS, f'{at}: field "pose"').reshape(NUM_JOINTS, 2)
            score = _numbers(person['score'], NUM_JOINTS, f'{at}: field "score"')
            people.append((pose, score))
        by_index[index] = people
    if not by_index:
        raise ValueError('field "data" holds no frame')

    first = min(by_index)
    cut = sum(1 for i in by_index if i - first >= max_frames)
    kept = {i - first: p for i, p in by_index.items() if i - first < max_frames}
    T = max(kept) + 1
    ranked = {}  # frame -> its persons, best first
    for t, people in kept.items():
        candidates = people[:max_candidates]
        order = sorted(range(len(candidates)), key=lambda k: -float(candidates[k][1].sum()))  # stable
        ranked[t] = [candidates[k] for k in order[:max_person]]
    M = max(len(p) for p in ranked.values())
    if M == 0:
        raise ValueError(f'no person in any of its {len(kept)} frames')
    height, width = img_shape
    keypoint = np.zeros((M, T, NUM_JOINTS, 2), np.float32)
    keypoint_score = np.zeros((M, T, NUM_JOINTS), np.float32)
    for t, people in ranked.items():
        for m, (pose, score) in enumerate(people):
            keypoint[m, t] = pose * np.array([width, height], np.float32)  # [0, 1] -> pixels
            keypoint_score[m, t] = score
    return dict(frame_dir=name, keypoint=keypoint, keypoint_score=keypoint_score, total_frames=T,
                img_shape=tuple(img_shape), original_shape=tuple(img_shape), frames_cut=cut, file_label=file_label)


def read_label_file(path: PathLike, num_classes: int = NUM_CLASSES) -> dict:
    """A ``kinetics_*_label.json`` -> ``{video id: (has_skeleton, label name, label_index)}``.

    Raises ``FileNotFoundError`` or a ``ValueError`` naming the file, the video and the field.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f'{path} does not exist (expected the release\'s label file)')
    try:
        content = _load_json(path)
    except ValueError as err:
        raise ValueError(f'{path}: {err}') from None
    if not isinstance(content, dict):
        raise ValueError(f'{path}: expected a JSON object of video id -> label entry, got {type(content).__name__}')
    out = {}
    for video, entry in content.items():
        where = f'{path}: video {video!r}'
        if not isinstance(entry, dict) or 'label_index' not in entry:
            raise ValueError(f'{where}: expected an object with "label_index" (and "label", "has_skeleton")')
        label = entry['label_index']
        if not _is_int(label) or not 0 <= label < num_classes:
            raise ValueError(f'{where}: field "label_index" must be an integer from 0 to {num_classes - 1}, '
                             f'got {label!r}')
        has_skeleton = entry.get('has_skeleton', True)
        if not isinstance(has_skeleton, bool):
            raise ValueError(f'{where}: field "has_skeleton" must be true or false, got {has_skeleton!r}')
        name = entry.get('label')
        if name is not None and not isinstance(name, str):
            raise ValueError(f'{where}: field "label" must be a string, got {name!r}')
        out[video] = (has_skeleton, name, label)
    return out


def _convert_task(task: tuple) -> tuple:
    """Pool worker: ``(split, path, label, options, dtype) -> (split, sample or None, Skipped or None)``;
    never raises for bad input."""
    split, path, label, options, dtype = task
    path = Path(path)
    try:
        sample = read_clip(path, **options)
        sample['keypoint'] = stored_as(sample['keypoint'], dtype)
        sample['keypoint_score'] = stored_as(sample['keypoint_score'], dtype)
    except ValueError as err:
        reason = str(err).split(': ', 1)[-1]
        kind = 'no-person' if reason.startswith('no person') else 'malformed'
        return split, None, Skipped(f'{path.parent.name}/{path.name}', kind, reason)
    except OSError as err:
        return split, None, Skipped(f'{path.parent.name}/{path.name}', 'unreadable', str(err))
    file_label = sample.pop('file_label')
    if file_label is not None and file_label != label:
        return split, None, Skipped(f'{path.parent.name}/{path.name}', 'malformed',
                                    f'field "label_index" is {file_label} but the label file says {label}')
    sample['label'] = label
    return split, sample, None


def convert_kinetics_skeleton(src: PathLike, out_pkl: PathLike, label_map: Optional[PathLike] = None,
                              max_frames: int = MAX_FRAMES, max_person: int = MAX_PERSON, dtype=np.float16,
                              num_workers: Optional[int] = None, progress: bool = True) -> ConversionReport:
    """Convert the Kinetics-Skeleton release in ``src``; write ``out_pkl`` and a label map.

    Args:
        src: the folder holding ``kinetics_train/``, ``kinetics_val/``,
            ``kinetics_train_label.json`` and ``kinetics_val_label.json``.
        out_pkl: the annotation file to write (splits ``train`` and ``val``).
        label_map: where to write the class names, in label order (default
            ``kinetics_skeleton_label_map.txt`` beside ``out_pkl``).
        max_frames: frames kept from each clip's first (ST-GCN: 300).
        max_person: persons kept a frame, by summed joint score (ST-GCN: 2).
        dtype: how ``keypoint`` and ``keypoint_score`` are stored: float16 (default) halves the file
            (at most about 17 GB for the whole release), as the original PYSKL's 2D files do; float32 keeps
            every digit.
        num_workers: processes to read the clips with (default: the cores this process may use).
        progress: show a progress bar on stdout.
    """
    src = Path(src)
    if not src.is_dir():
        raise FileNotFoundError(f'{src} is not a folder')
    for name, value in (('max_frames', max_frames), ('max_person', max_person)):
        if not _is_int(value) or value < 1:
            raise ValueError(f'{name} must be a positive integer, got {value!r}')
    report = ConversionReport(count_only_kinds=('no-skeleton', ))
    tasks, names = [], {}
    options = dict(max_frames=max_frames, max_person=max_person)
    for split in SPLITS:
        folder = src / f'kinetics_{split}'
        labels = read_label_file(src / f'kinetics_{split}_label.json')
        if not folder.is_dir():
            raise FileNotFoundError(f'{folder} is not a folder (expected the release\'s per-clip JSON files)')
        files = {p.stem: p for p in folder.glob('*.json')}
        for video, (has_skeleton, name, label) in sorted(labels.items()):
            if name is not None:
                names.setdefault(label, name)
            if not has_skeleton:
                report.skipped.append(Skipped(f'kinetics_{split}/{video}.json', 'no-skeleton',
                                              'the label file marks it has_skeleton: false'))
            elif video not in files:
                report.skipped.append(Skipped(f'kinetics_{split}/{video}.json', 'missing',
                                              f'listed in kinetics_{split}_label.json but not in kinetics_{split}/'))
            else:
                tasks.append((split, os.fspath(files[video]), label, options, dtype))
        for video in sorted(set(files) - set(labels)):
            report.skipped.append(Skipped(f'kinetics_{split}/{video}.json', 'not-in-labels',
                                          f'kinetics_{split}_label.json has no entry for it'))

    workers = num_workers or _available_cores()
    chunksize = max(1, min(64, len(tasks) // (workers * 8))) if workers > 1 else 1
    annotations, split_lists, seen, cut = [], {s: [] for s in SPLITS}, set(), 0
    for split, sample, skipped in track(_convert_task, tasks, workers, chunksize, show=progress):
        if skipped is not None:
            report.skipped.append(skipped)
            continue
        if sample['frame_dir'] in seen:
            report.skipped.append(Skipped(f'kinetics_{split}/{sample["frame_dir"]}.json', 'duplicate',
                                          'the video id is in both splits; kept the first'))
            continue
        cut += sample.pop('frames_cut') > 0
        seen.add(sample['frame_dir'])
        annotations.append(sample)
        split_lists[split].append(sample['frame_dir'])
    if not annotations:
        raise ValueError(f'{src}: no clip could be converted; {skips_in_a_line(report)}')
    if cut:
        report.notes.append(f'{cut} clip(s) longer than {max_frames} frames were cut to their first {max_frames}')

    out_pkl = Path(out_pkl)
    report.written.append(write_annotation_file(make_annotation_file(annotations, split_lists), out_pkl))
    num_classes = max(max(names, default=0), max(a['label'] for a in annotations)) + 1
    unnamed = [i for i in range(num_classes) if i not in names]
    if unnamed:
        report.notes.append(f'{len(unnamed)} class(es) have no name in the label files (e.g. {unnamed[0]}); the '
                            'label map calls them "class <index>"')
    label_map = out_pkl.parent / 'kinetics_skeleton_label_map.txt' if label_map is None else label_map
    report.extra_files.append(write_label_map([names.get(i, f'class {i}') for i in range(num_classes)], label_map))
    return report


def _available_cores() -> int:
    if hasattr(os, 'sched_getaffinity'):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


__all__ = ['convert_kinetics_skeleton', 'read_clip', 'read_label_file']
