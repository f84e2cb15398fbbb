"""Toyota Smarthome (trimmed) skeletons from LCR-Net++ -> annotation pickles.

The release holds one JSON file a clip, named ``Action_pSS_rRR_vVV_cCC_pose3d.json`` (action, subject,
repetition, video, camera), each::

    {"K": ..., "njts": 13,
     "frames": [[{"pose2d": [x0 .. x12, y0 .. y12], "pose3d": [x0 .. x12, y0 .. y12, z0 .. z12],
                  "cumscore": 7.3}, ...],   # the detections of frame 0
                [], ...]}                   # a frame without a detection

Both poses list all x first, then all y (then all z): pixels of the 640 x 480 video for ``pose2d``,
metres about the person's pelvis for ``pose3d`` (values beyond the 39 are ignored and counted). The 13
joints are the ``smarthome13`` layout. In each frame the detections are ranked by ``cumscore`` and the
best ``max_person`` kept, best first; frame t of the sample is the file's frame t.

Two annotation files are written, because the protocols label differently:

* ``OUT.pkl``: the 31 actions (labels in :data:`SMARTHOME_CLASSES` order), cross-subject splits
  ``cs_train`` (subjects :data:`CS_TRAIN_SUBJECTS`) and ``cs_test`` (the others);
* ``OUT_cv.pkl``: the 19 actions of the cross-view protocols (labels in :data:`SMARTHOME_CV_CLASSES`
  order; clips of other actions are not in it), splits ``cv1_train`` (camera 1), ``cv2_train``
  (cameras 1, 3, 4, 6, 7), ``cv1_val`` / ``cv2_val`` (camera 5), ``cv1_test`` / ``cv2_test`` (camera 2).

Arrays are stored as float16 unless ``dtype`` says otherwise. By default a sample is 3D
(``keypoint`` M x T x 13 x 3 from ``pose3d``); with ``two_d`` it is 2D
(``keypoint`` M x T x 13 x 2 in pixels from ``pose2d``, ``keypoint_score`` 1 for a detected person,
``img_shape`` (480, 640)): LCR-Net gives a score per detection, not per joint.
"""
import json
import math
import re
from pathlib import Path
from typing import Optional

import numpy as np

from ...skeleton import LAYOUTS
from ...utils.progress import Progress
from .common import (ConversionReport, PathLike, Skipped, make_annotation_file, skips_in_a_line, stored_as,
                     write_annotation_file, write_label_map)

NUM_JOINTS = LAYOUTS['smarthome13'].num_node  # 13
IMG_SHAPE = (480, 640)  # (height, width) of the videos
MAX_PERSON = 2
NAME_PATTERN = re.compile(r'(?P<action>[A-Za-z]+(?:\.[A-Za-z]+)?)_p(?P<subject>\d+)_r(?P<rep>\d+)_v(?P<video>\d+)'
                          r'_c(?P<camera>\d+)')
SMARTHOME_CLASSES = (
    'Cook.Cleandishes', 'Cook.Cleanup', 'Cook.Cut', 'Cook.Stir', 'Cook.Usestove', 'Cutbread', 'Drink.Frombottle',
    'Drink.Fromcan', 'Drink.Fromcup', 'Drink.Fromglass', 'Eat.Attable', 'Eat.Snack', 'Enter', 'Getup', 'Laydown',
    'Leave', 'Makecoffee.Pourgrains', 'Makecoffee.Pourwater', 'Maketea.Boilwater', 'Maketea.Insertteabag',
    'Pour.Frombottle', 'Pour.Fromcan', 'Pour.Fromkettle', 'Readbook', 'Sitdown', 'Takepills', 'Uselaptop',
    'Usetelephone', 'Usetablet', 'Walk', 'WatchTV')
#: the 19 actions seen from enough cameras for the cross-view protocols
SMARTHOME_CV_CLASSES = (
    'Cutbread', 'Drink.Frombottle', 'Drink.Fromcan', 'Drink.Fromcup', 'Drink.Fromglass', 'Eat.Attable', 'Eat.Snack',
    'Enter', 'Getup', 'Leave', 'Pour.Frombottle', 'Pour.Fromcan', 'Readbook', 'Sitdown', 'Takepills', 'Uselaptop',
    'Usetablet', 'Usetelephone', 'Walk')
CS_TRAIN_SUBJECTS = (3, 4, 6, 7, 9, 12, 13, 15, 17, 19, 25)
CV1_TRAIN_CAMERAS = (1, )
CV2_TRAIN_CAMERAS = (1, 3, 4, 6, 7)
CV_VAL_CAMERAS = (5, )
CV_TEST_CAMERAS = (2, )


def clip_name(path: PathLike) -> str:
    """The clip's name: the file stem without ``_pose3d``."""
    stem = Path(path).stem
    return stem[:-len('_pose3d')] if stem.endswith('_pose3d') else stem


def parse_clip_name(name: str) -> dict:
    """``Action_pSS_rRR_vVV_cCC`` -> ``dict(action=..., subject=..., camera=...)``; ``ValueError`` if not."""
    match = NAME_PATTERN.fullmatch(name)
    if match is None:
        raise ValueError(f'{name!r} is not a clip name Action_pSS_rRR_vVV_cCC')
    return dict(action=match.group('action'), subject=int(match.group('subject')), camera=int(match.group('camera')))


def _finite(number) -> bool:
    try:
        return math.isfinite(float(number))
    except OverflowError:  # an integer beyond any float
        return False


def _numbers(values, count: int, where: str, at_least: bool = False) -> np.ndarray:
    if not isinstance(values, list) or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                               for v in values):
        raise ValueError(f'{where} must be a list of numbers')
    if len(values) < count or (len(values) > count and not at_least):
        raise ValueError(f'{where} has {len(values)} numbers; expected {count} ({count // NUM_JOINTS} x '
                         f'{NUM_JOINTS} joints)')
    try:
        with np.errstate(over='ignore'):
            array = np.asarray(values[:count], dtype=np.float32)
    except OverflowError:  # an integer beyond any float
        array = np.full(count, np.inf, np.float32)
    if not np.isfinite(array).all():
        raise ValueError(f'{where} has a NaN/inf value (or one beyond float32)')
    return array


def read_smarthome_json(path: PathLike, max_person: int = MAX_PERSON, two_d: bool = False) -> dict:
    """One clip file -> ``dict(frame_dir, keypoint, total_frames[, keypoint_score, img_shape,
    original_shape], extra_3d)`` (``extra_3d``: detections with values beyond the 39 of ``pose3d``).

    Raises a ``ValueError`` starting with the file name and naming the field at fault.
    """
    path = Path(path)
    try:
        with open(path, encoding='utf-8') as f:
            content = json.load(f)
        return _sample(clip_name(path), content, max_person, two_d)
    except json.JSONDecodeError as err:
        raise ValueError(f'{path.name}: not valid JSON (line {err.lineno}, column {err.colno}: {err.msg})') from None
    except UnicodeDecodeError as err:
        raise ValueError(f'{path.name}: not UTF-8 text (byte {err.start})') from None
    except RecursionError:
        raise ValueError(f'{path.name}: not valid JSON (nested too deeply)') from None
    except ValueError as err:
        raise ValueError(f'{path.name}: {err}') from None


def _sample(name: str, content, max_person: int, two_d: bool) -> dict:
    if not isinstance(content, dict):
        raise ValueError(f'expected a JSON object, got {type(content).__name__}')
    for key in ('njts', 'frames'):
        if key not in content:
            raise ValueError(f'field {key!r} is missing')
    if content['njts'] != NUM_JOINTS or isinstance(content['njts'], bool):
        raise ValueError(f'field "njts" is {content["njts"]!r}; the smarthome13 layout has {NUM_JOINTS} joints')
    frames = content['frames']
    if not isinstance(frames, list) or not frames:
        raise ValueError('field "frames" must be a non-empty list (one list of detections a frame)')
    channels = 2 if two_d else 3
    ranked, extra = [], 0
    for t, detections in enumerate(frames):
        if not isinstance(detections, list):
            raise ValueError(f'frame {t} of "frames" must be a list of detections, got {type(detections).__name__}')
        people = []
        for k, det in enumerate(detections):
            where = f'frame {t}, detection {k}'
            if not isinstance(det, dict) or not {'pose2d', 'pose3d', 'cumscore'} <= set(det):
                raise ValueError(f'{where} must be an object with "pose2d", "pose3d" and "cumscore"')
            score = det['cumscore']
            if isinstance(score, bool) or not isinstance(score, (int, float)) or not _finite(score):
                raise ValueError(f'{where}: field "cumscore" must be a finite number, got {score!r}')
            pose2d = _numbers(det['pose2d'], 2 * NUM_JOINTS, f'{where}: field "pose2d"')
            pose3d = _numbers(det['pose3d'], 3 * NUM_JOINTS, f'{where}: field "pose3d"', at_least=True)
            extra += len(det['pose3d']) > 3 * NUM_JOINTS
            pose = pose2d if two_d else pose3d
            people.append((float(score), pose.reshape(channels, NUM_JOINTS).T))  # all x, all y(, all z) -> V x C
        order = sorted(range(len(people)), key=lambda k: -people[k][0])  # stable: ties keep the file's order
        ranked.append([people[k][1] for k in order[:max_person]])
    M = max(len(p) for p in ranked)
    if M == 0:
        raise ValueError(f'no person detected in any of its {len(frames)} frames')
    T = len(frames)
    keypoint = np.zeros((M, T, NUM_JOINTS, channels), np.float32)
    present = np.zeros((M, T, NUM_JOINTS), np.float32)
    for t, people in enumerate(ranked):
        for m, pose in enumerate(people):
            keypoint[m, t] = pose
            present[m, t] = 1
    sample = dict(frame_dir=name, keypoint=keypoint, total_frames=T, extra_3d=extra)
    if two_d:
        sample.update(keypoint_score=present, img_shape=IMG_SHAPE, original_shape=IMG_SHAPE)
    return sample


def smarthome_splits(fields: dict) -> tuple:
    """``{clip: parsed name}`` -> (cross-subject split dict, cross-view split dict), lists sorted."""
    names = sorted(fields)
    cs = dict(cs_train=[n for n in names if fields[n]['subject'] in CS_TRAIN_SUBJECTS],
              cs_test=[n for n in names if fields[n]['subject'] not in CS_TRAIN_SUBJECTS])
    cv_names = [n for n in names if fields[n]['action'] in SMARTHOME_CV_CLASSES]
    camera = {n: fields[n]['camera'] for n in cv_names}
    cv = dict(cv1_train=[n for n in cv_names if camera[n] in CV1_TRAIN_CAMERAS],
              cv1_val=[n for n in cv_names if camera[n] in CV_VAL_CAMERAS],
              cv1_test=[n for n in cv_names if camera[n] in CV_TEST_CAMERAS],
              cv2_train=[n for n in cv_names if camera[n] in CV2_TRAIN_CAMERAS],
              cv2_val=[n for n in cv_names if camera[n] in CV_VAL_CAMERAS],
              cv2_test=[n for n in cv_names if camera[n] in CV_TEST_CAMERAS])
    return cs, cv


def convert_smarthome(src: PathLike, out_pkl: PathLike, cv_pkl: Optional[PathLike] = None,
                      max_person: int = MAX_PERSON, two_d: bool = False, dtype=np.float16,
                      progress: bool = True) -> ConversionReport:
    """Convert a folder of Toyota Smarthome skeleton JSON files; write both annotation files and
    their label maps (``smarthome31_label_map.txt``, ``smarthome19_label_map.txt`` beside ``out_pkl``).

    Args:
        src: the folder of ``Action_pSS_rRR_vVV_cCC_pose3d.json`` files.
        out_pkl: the cross-subject file (31 actions).
        cv_pkl: the cross-view file (19 actions); default ``<out_pkl stem>_cv.pkl`` beside it.
        max_person: persons kept a frame, by ``cumscore``.
        two_d: 2D samples from ``pose2d`` instead of 3D ones from ``pose3d``.
        dtype: how ``keypoint`` (and ``keypoint_score``) are stored: float16 (default, as the
            original PYSKL's NTU files) or float32 (every digit of the release).
        progress: show a progress bar on stdout.
    """
    src = Path(src)
    if not src.is_dir():
        raise FileNotFoundError(f'{src} is not a folder')
    if isinstance(max_person, bool) or not isinstance(max_person, int) or max_person < 1:
        raise ValueError(f'max_person must be a positive integer, got {max_person!r}')
    files = sorted(src.glob('*.json'))
    if not files:
        raise FileNotFoundError(f'no .json files in {src}')
    report = ConversionReport()
    samples, fields, extra = {}, {}, 0
    bar = Progress(len(files)) if progress else None
    for path in files:
        name = clip_name(path)
        try:
            parsed = parse_clip_name(name)
        except ValueError as err:
            report.skipped.append(Skipped(path.name, 'bad-name', str(err)))
            parsed = None
        if parsed is not None and parsed['action'] not in SMARTHOME_CLASSES:
            report.skipped.append(Skipped(path.name, 'unknown-action', f'{parsed["action"]!r} is not one of the 31 '
                                          'Toyota Smarthome actions'))
        elif parsed is not None and name in samples:
            report.skipped.append(Skipped(path.name, 'duplicate', f'another file is clip {name} too'))
        elif parsed is not None:
            try:
                sample = read_smarthome_json(path, max_person=max_person, two_d=two_d)
                for key in ('keypoint', 'keypoint_score'):
                    if key in sample:
                        sample[key] = stored_as(sample[key], dtype)
            except ValueError as err:
                reason = str(err).split(': ', 1)[-1]
                kind = 'no-person' if reason.startswith('no person') else 'malformed'
                report.skipped.append(Skipped(path.name, kind, reason))
            except OSError as err:
                report.skipped.append(Skipped(path.name, 'unreadable', str(err)))
            else:
                extra += sample.pop('extra_3d') > 0
                samples[name], fields[name] = sample, parsed
        if bar is not None:
            bar.update()
    if bar is not None:
        bar.close()
    if not samples:
        raise ValueError(f'{src}: no clip could be converted; {skips_in_a_line(report)}')
    if extra:
        report.notes.append(f'{extra} clip(s) have "pose3d" values beyond the 3 x {NUM_JOINTS} coordinates; '
                            'the rest were ignored')

    cs_split, cv_split = smarthome_splits(fields)
    out_pkl = Path(out_pkl)
    cv_pkl = out_pkl.with_name(f'{out_pkl.stem}_cv{out_pkl.suffix}') if cv_pkl is None else Path(cv_pkl)
    cs = [dict(s, label=SMARTHOME_CLASSES.index(fields[n]['action'])) for n, s in samples.items()]
    report.written.append(write_annotation_file(make_annotation_file(cs, cs_split), out_pkl))
    cv = [dict(s, label=SMARTHOME_CV_CLASSES.index(fields[n]['action'])) for n, s in samples.items()
          if fields[n]['action'] in SMARTHOME_CV_CLASSES]
    if cv:
        report.written.append(write_annotation_file(make_annotation_file(cv, cv_split), cv_pkl))
    else:
        report.notes.append(f'no clip of the 19 cross-view actions: {cv_pkl} not written')
    report.extra_files.append(write_label_map(SMARTHOME_CLASSES, out_pkl.parent / 'smarthome31_label_map.txt'))
    report.extra_files.append(write_label_map(SMARTHOME_CV_CLASSES, out_pkl.parent / 'smarthome19_label_map.txt'))
    return report


__all__ = ['SMARTHOME_CLASSES', 'SMARTHOME_CV_CLASSES', 'convert_smarthome', 'parse_clip_name', 'read_smarthome_json',
           'smarthome_splits']
