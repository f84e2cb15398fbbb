"""BABEL action recognition (NTU-25 skeletons from AMASS) -> annotation pickle.

BABEL's action-recognition release (``babel_feats_labels.tar.gz``) holds, per split (``train``,
``val``) and class count C (60 or 120):

* ``{split}_ntu_sk_{C}.npy``: ``N x 3 x 150 x 25 x M`` float (M = 1): 5-second chunks at 30 fps of
  the NTU RGB+D 25-joint skeleton (x, y, z), already normalised NTU-style (centred on the spine,
  spine along z, shoulders along x); chunks shorter than 150 frames are padded;
* ``{split}_label_{C}.pkl``: ``(seg_ids, (labels, babel_sids, chunk_ns, annotator_ids))``, one
  entry a chunk in array order (the 2s-AGCN form ``(names, labels)`` is read too).

A chunk becomes a 3D sample in the ``nturgb+d`` layout: ``keypoint`` M x T x 25 x 3 (float16 unless
``dtype`` says otherwise; all-zero
persons dropped, trailing all-zero padding frames cut), ``label``, ``frame_dir``
``{split}_{row:06d}`` (the row of the release's array, so sorting by name keeps its order) and, where
the label file has them, ``seg_id``, ``babel_sid`` and ``chunk_n``. The test split's labels are held by
BABEL's evaluation server, so the splits are ``train`` and ``val``.
"""
import json
from pathlib import Path
from typing import Optional

import numpy as np

from ...skeleton import LAYOUTS
from ...utils.progress import Progress
from ...utils.safe_pickle import load_pickle
from .common import (ConversionReport, PathLike, Skipped, make_annotation_file, skips_in_a_line, stored_as,
                     write_annotation_file, write_label_map)

NUM_JOINTS = LAYOUTS['nturgb+d'].num_node  # 25
CLASS_COUNTS = (60, 120)
SPLITS = ('train', 'val')
ZERO_EPS = 1e-6  # a frame or person whose coordinates are all within this of 0 is padding


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def read_labels(path: PathLike, num_classes: int) -> dict:
    """A ``{split}_label_{C}.pkl`` -> ``dict(label=[...], seg_id=[...] or None, babel_sid=..., chunk_n=...)``.

    Read without running code from the file (:func:`pyskl.utils.load_pickle`). Raises a
    ``ValueError`` naming the file and the entry at fault.
    """
    path = Path(path)
    content = load_pickle(path)
    shape = ('(seg_ids, (labels, babel_sids, chunk_ns, annotator_ids)) or (names, labels)')
    if not isinstance(content, (tuple, list)) or len(content) != 2:
        raise ValueError(f'{path}: expected a pair {shape}, got {type(content).__name__}')
    names, rest = content
    if isinstance(rest, (tuple, list)) and len(rest) == 4 and isinstance(rest[0], (list, tuple, np.ndarray)):
        labels, sids, chunks = rest[0], rest[1], rest[2]
    else:
        labels, sids, chunks = rest, None, None
    columns = dict(names=names, labels=labels, babel_sids=sids, chunk_ns=chunks)
    lengths = {}
    for key, column in columns.items():
        if column is None:
            continue
        if not isinstance(column, (list, tuple, np.ndarray)):
            raise ValueError(f'{path}: {key} must be a list, got {type(column).__name__} (expected {shape})')
        lengths[key] = len(column)
    if len(set(lengths.values())) > 1:
        raise ValueError(f'{path}: the lists have different lengths {lengths} (expected one entry a chunk)')
    out = dict(label=[], seg_id=None if sids is None else [str(n) for n in names],
               babel_sid=None if sids is None else [], chunk_n=None if chunks is None else [])
    for i, label in enumerate(labels):
        if not _is_int(label) or not 0 <= int(label) < num_classes:
            raise ValueError(f'{path}: entry {i}: the label must be an integer from 0 to {num_classes - 1}, '
                             f'got {label!r}')
        out['label'].append(int(label))
        for key, column in (('babel_sid', sids), ('chunk_n', chunks)):
            if column is not None:
                if not _is_int(column[i]):
                    raise ValueError(f'{path}: entry {i}: {key} must be an integer, got {column[i]!r}')
                out[key].append(int(column[i]))
    return out


def read_array(path: PathLike) -> np.ndarray:
    """A ``{split}_ntu_sk_{C}.npy``, memory-mapped, checked to be ``N x 3 x T x 25 x M`` numbers."""
    path = Path(path)
    try:
        array = np.load(path, mmap_mode='r', allow_pickle=False)
    except (ValueError, OSError, EOFError) as err:
        raise ValueError(f'{path}: not a readable .npy array ({err})') from None
    if not isinstance(array, np.ndarray):
        raise ValueError(f'{path}: expected one .npy array, got {type(array).__name__}')
    if array.ndim != 5 or array.shape[1] != 3 or array.shape[3] != NUM_JOINTS or 0 in array.shape[2:]:
        raise ValueError(f'{path}: expected N x 3 x T x {NUM_JOINTS} x M (x, y, z of the NTU joints), got shape '
                         f'{array.shape}')
    if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
        raise ValueError(f'{path}: expected numbers, got dtype {array.dtype}')
    return array


def chunk_to_keypoint(chunk: np.ndarray) -> np.ndarray:
    """One chunk ``3 x T x 25 x M`` -> ``keypoint`` ``M' x T' x 25 x 3`` float32 without all-zero
    persons and trailing all-zero frames; a ``ValueError`` if it is non-finite or all zero."""
    with np.errstate(over='ignore'):
        keypoint = np.asarray(chunk, dtype=np.float32).transpose(3, 1, 2, 0)  # C, T, V, M -> M, T, V, C
    finite = np.isfinite(keypoint)
    if not finite.all():
        m, t, v, c = (int(i) for i in np.argwhere(~finite)[0])
        raise ValueError(f'a NaN/inf value (or one beyond float32) at person {m}, frame {t}, joint {v}, '
                         f'channel {"xyz"[c]}')
    present = np.abs(keypoint) > ZERO_EPS
    keypoint = keypoint[present.any(axis=(1, 2, 3))]
    if len(keypoint) == 0:
        raise ValueError('every coordinate is zero (no skeleton)')
    frames = np.flatnonzero(present.any(axis=(0, 2, 3)))
    return np.ascontiguousarray(keypoint[:, :frames[-1] + 1])


def read_class_names(path: PathLike, num_classes: int) -> list:
    """The first ``num_classes`` names of BABEL's ``action_label_2_idx.json`` (name -> index)."""
    path = Path(path)
    try:
        content = json.loads(Path(path).read_text(encoding='utf-8'))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f'{path}: not a valid JSON file ({err})') from None
    if not isinstance(content, dict) or not all(_is_int(v) for v in content.values()):
        raise ValueError(f'{path}: expected {{"action name": index, ...}} (BABEL\'s action_label_2_idx.json)')
    names = {int(v): k for k, v in content.items()}
    missing = [i for i in range(num_classes) if i not in names]
    if missing:
        raise ValueError(f'{path}: no action name for index {missing[0]} (needs 0 to {num_classes - 1})')
    return [names[i] for i in range(num_classes)]


def convert_babel(src: PathLike, out_pkl: PathLike, num_classes: int = 60, action_index: Optional[PathLike] = None,
                  label_map: Optional[PathLike] = None, dtype=np.float16, progress: bool = True) -> ConversionReport:
    """Convert BABEL-60 or BABEL-120 from ``src``; write ``out_pkl`` (splits ``train`` and ``val``).

    Args:
        src: the folder holding ``{train,val}_ntu_sk_{C}.npy`` and ``{train,val}_label_{C}.pkl``.
        out_pkl: the annotation file to write.
        num_classes: 60 or 120 (which files to read).
        action_index: BABEL's ``action_recognition/data/action_label_2_idx.json`` (from BABEL's
            code repository); where given, a label map of the first ``num_classes`` names is written.
        label_map: where to write it (default ``babel{C}_label_map.txt`` beside ``out_pkl``).
        dtype: how ``keypoint`` is stored: float16 (default, as the original PYSKL's NTU 3D files) or
            float32 (every digit of the release).
        progress: show a progress bar on stdout.
    """
    src = Path(src)
    if not src.is_dir():
        raise FileNotFoundError(f'{src} is not a folder')
    if num_classes not in CLASS_COUNTS:
        raise ValueError(f'num_classes must be 60 or 120 (BABEL-60, BABEL-120), got {num_classes!r}')
    class_names = None if action_index is None else read_class_names(action_index, num_classes)
    report = ConversionReport()
    annotations, split_lists = [], {}
    for split in SPLITS:
        data_path, label_path = src / f'{split}_ntu_sk_{num_classes}.npy', src / f'{split}_label_{num_classes}.pkl'
        missing = [p.name for p in (data_path, label_path) if not p.is_file()]
        if missing:
            report.skipped.append(Skipped(missing[0], 'missing', f'the {split} split needs it; split left out'))
            continue
        try:
            array = read_array(data_path)
            labels = read_labels(label_path, num_classes)
        except ValueError as err:
            where, _, reason = str(err).partition(': ')
            report.skipped.append(Skipped(Path(where).name, 'malformed', f'{reason}; split left out'))
            continue
        except OSError as err:
            report.skipped.append(Skipped(label_path.name, 'unreadable', f'{err}; split left out'))
            continue
        if len(labels['label']) != len(array):
            report.skipped.append(Skipped(label_path.name, 'malformed', f'{len(labels["label"])} labels for the '
                                          f'{len(array)} chunks of {data_path.name}; split left out'))
            continue
        names = []
        bar = Progress(len(array)) if progress else None
        for i in range(len(array)):
            name = f'{split}_{i:06d}'
            try:
                keypoint = stored_as(chunk_to_keypoint(array[i]), dtype)
            except ValueError as err:
                kind = 'no-body' if 'no skeleton' in str(err) else 'malformed'
                report.skipped.append(Skipped(f'{data_path.name}[{i}]', kind, str(err)))
            else:
                sample = dict(frame_dir=name, label=labels['label'][i], keypoint=keypoint,
                              total_frames=keypoint.shape[1])
                for key in ('seg_id', 'babel_sid', 'chunk_n'):
                    if labels[key] is not None:
                        sample[key] = labels[key][i]
                annotations.append(sample)
                names.append(name)
            if bar is not None:
                bar.update()
        if bar is not None:
            bar.close()
        split_lists[split] = names
    if not annotations:
        raise ValueError(f'{src}: no BABEL-{num_classes} chunk could be converted; {skips_in_a_line(report)}')
    out_pkl = Path(out_pkl)
    report.written.append(write_annotation_file(make_annotation_file(annotations, split_lists), out_pkl))
    if class_names is not None:
        label_map = out_pkl.parent / f'babel{num_classes}_label_map.txt' if label_map is None else label_map
        report.extra_files.append(write_label_map(class_names, label_map))
    else:
        report.notes.append('no label map written (give --action-index path/to/BABEL/action_recognition/data/'
                            'action_label_2_idx.json for one)')
    return report


__all__ = ['chunk_to_keypoint', 'convert_babel', 'read_array', 'read_class_names', 'read_labels']
