"""Your own skeleton arrays -> the annotation format that ``PoseDataset`` reads.

Two entry points:

* ``arrays_to_annotations(samples)``: ``samples`` is an iterable of
  ``(name, array, label, split)``; ``array`` is ``T x V x C`` (one person) or
  ``M x T x V x C``; ``split`` a split name such as ``'train'`` (or a list of
  names, or ``None`` for no split).
* ``folder_to_annotations(npy_dir, labels_csv, out_pkl)``: one ``NAME.npy`` per
  sample plus a CSV with the header ``name,label,split``.

Example::

    from pyskl.datasets.converters import arrays_to_annotations
    from pyskl.utils import dump_pickle
    anno = arrays_to_annotations([('clip1', kp1, 0, 'train'), ('clip2', kp2, 1, 'val')],
                                 num_classes=2)
    dump_pickle(anno, 'data/mine.pkl')

3D data (C = 3: x, y, z) needs nothing else. For 2D data pass ``img_shape=(h, w)``
(the frame size the coordinates refer to; 2D normalisation needs it) and either
C = 2 (every joint gets confidence 1) or C = 3 with ``score_last=True`` (x, y, score).
"""
import csv
import io
from pathlib import Path
from typing import Iterable, Optional, Sequence, Union

import numpy as np

from ...utils.annotation_files import read_utf8
from .common import ConversionReport, PathLike, Skipped, make_annotation_file, write_annotation_file

SplitNames = Union[str, Sequence[str], None]


def _split_names(split: SplitNames, where: str) -> list:
    if split is None:
        return []
    names = [split] if isinstance(split, str) else list(split)
    for s in names:
        if not isinstance(s, str) or not s:
            raise TypeError(f'{where}: field "split" must be a non-empty string (or a list of them), got {s!r}')
    return names


def _check_label(label, num_classes: Optional[int], where: str) -> int:
    if isinstance(label, (bool, np.bool_)) or not isinstance(label, (int, np.integer)):
        raise TypeError(f'{where}: field "label" must be an integer, got {label!r} ({type(label).__name__})')
    label = int(label)
    if label < 0 or (num_classes is not None and label >= num_classes):
        upper = f'{num_classes - 1}' if num_classes is not None else 'inf'
        raise ValueError(f'{where}: field "label" is {label}, outside [0, {upper}]')
    return label


def _check_keypoint(array, where: str, dtype) -> np.ndarray:
    if not isinstance(array, np.ndarray):
        raise TypeError(f'{where}: field "keypoint" must be a numpy array, got {type(array).__name__}')
    if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
        raise TypeError(f'{where}: field "keypoint" must hold numbers, got dtype {array.dtype}')
    if array.ndim == 3:
        array = array[None]  # T, V, C -> 1, T, V, C
    elif array.ndim != 4:
        raise ValueError(f'{where}: field "keypoint" must be T x V x C or M x T x V x C, got shape {array.shape}')
    if 0 in array.shape:
        raise ValueError(f'{where}: field "keypoint" has an empty dimension (shape M x T x V x C = {array.shape})')
    finite = np.isfinite(array)
    if not finite.all():
        m, t, v, c = (int(i) for i in np.argwhere(~finite)[0])
        raise ValueError(f'{where}: field "keypoint" has a NaN/inf value at person {m}, frame {t}, joint {v}, '
                         f'channel {c}')
    with np.errstate(over='ignore'):  # reported below, with the sample's name
        out = array.astype(dtype)
    if not np.isfinite(out).all():
        raise ValueError(f'{where}: field "keypoint" overflows {np.dtype(dtype).name}')
    return out


def arrays_to_annotations(samples: Iterable, num_classes: Optional[int] = None, num_joints: Optional[int] = None,
                          img_shape: Optional[tuple] = None, score_last: bool = False,
                          dtype=np.float32) -> dict:
    """Build the annotation dict (``{'split': ..., 'annotations': [...]}``) from arrays.

    Args:
        samples: ``(name, array, label, split)`` tuples. ``array``: ``T x V x C`` or
            ``M x T x V x C`` numbers; ``label``: an integer >= 0; ``split``: a split name,
            a list of split names, or ``None``.
        num_classes: if given, every label must be below it.
        num_joints: if given, every sample must have this many joints (V); otherwise all
            samples must agree with the first.
        img_shape: ``(height, width)`` of the frames, for 2D data (required for it).
        score_last: the last channel is a confidence score (2D data as x, y, score); it is
            stored as ``keypoint_score``.
        dtype: ``keypoint`` storage type (float32, or float16 to halve the file).

    Returns:
        The annotation dict; samples and split lists are sorted by name.

    Raises:
        ValueError / TypeError naming the sample and the field at fault.
    """
    if img_shape is not None and (
            len(img_shape) != 2 or not all(isinstance(s, (int, np.integer)) and s > 0 for s in img_shape)):
        raise ValueError(f'img_shape must be (height, width), two positive integers, got {img_shape!r}')
    annotations, split = [], {}
    seen = set()
    channels = None
    for i, sample in enumerate(samples):
        if not isinstance(sample, (tuple, list)) or len(sample) != 4:
            raise TypeError(f'sample {i}: expected a (name, array, label, split) tuple, got {type(sample).__name__}'
                            + (f' of length {len(sample)}' if isinstance(sample, (tuple, list)) else ''))
        name, array, label, split_names = sample
        if not isinstance(name, str) or not name:
            raise TypeError(f'sample {i}: field "frame_dir" (the name) must be a non-empty string, got {name!r}')
        where = f'sample {name!r}'
        if name in seen:
            raise ValueError(f'{where}: the name is given twice; names must be unique')
        seen.add(name)
        keypoint = _check_keypoint(array, where, dtype)
        label = _check_label(label, num_classes, where)
        split_names = _split_names(split_names, where)

        m, t, v, c = keypoint.shape
        if num_joints is None:
            num_joints = v
        if v != num_joints:
            raise ValueError(f'{where}: field "keypoint" has {v} joints, expected {num_joints} '
                             f'(as {"given" if i == 0 else "the first sample has"})')
        if channels is None:
            channels = c
        if c != channels:
            raise ValueError(f'{where}: field "keypoint" has {c} channels, the first sample has {channels}')

        anno = dict(frame_dir=name, label=label, total_frames=t)
        if score_last:
            if c < 3:
                raise ValueError(f'{where}: score_last needs C >= 3 (coordinates then a score), got C = {c}')
            anno['keypoint'] = np.ascontiguousarray(keypoint[..., :-1])
            anno['keypoint_score'] = np.ascontiguousarray(keypoint[..., -1])  # M, T, V
        else:
            anno['keypoint'] = keypoint
        if anno['keypoint'].shape[-1] == 2:
            if img_shape is None:
                raise ValueError(f'{where}: 2D keypoints need img_shape=(height, width) of the frames they refer to')
            anno.setdefault('keypoint_score', np.ones((m, t, v), dtype=dtype))
        if img_shape is not None:
            anno['img_shape'] = anno['original_shape'] = (int(img_shape[0]), int(img_shape[1]))
        annotations.append(anno)
        for s in split_names:
            split.setdefault(s, []).append(name)
    if not annotations:
        raise ValueError('no samples given')
    return make_annotation_file(annotations, split)


def read_labels_csv(labels_csv: PathLike) -> list:
    """Rows ``(row number, name, label, split)`` of a ``name,label,split`` CSV (header required)."""
    labels_csv = Path(labels_csv)
    rows = []
    with io.StringIO(read_utf8(labels_csv), newline='') as f:
        reader = csv.DictReader(f)
        header = [h.strip() for h in (reader.fieldnames or [])]
        missing = [h for h in ('name', 'label', 'split') if h not in header]
        if missing:
            raise ValueError(f'{labels_csv}: the header must name the columns name,label,split; '
                             f'missing {", ".join(missing)} (got {",".join(header) or "nothing"})')
        reader.fieldnames = header
        for row in reader:
            where = f'{labels_csv}, row {reader.line_num}'
            if None in row or any(row[h] is None for h in ('name', 'label', 'split')):
                raise ValueError(f'{where}: expected the columns {",".join(header)}, got a row of another length')
            name, label, split = row['name'].strip(), row['label'].strip(), row['split'].strip()
            if not name:
                raise ValueError(f'{where}: field "name" is empty')
            try:
                label_value = int(label)
            except ValueError:
                raise ValueError(f'{where} ({name}): field "label" must be an integer, got {label!r}') from None
            if not split:
                raise ValueError(f'{where} ({name}): field "split" is empty')
            rows.append((reader.line_num, name, label_value, split))
    if not rows:
        raise ValueError(f'{labels_csv}: no rows below the header')
    return rows


def folder_to_annotations(npy_dir: PathLike, labels_csv: PathLike, out_pkl: Optional[PathLike] = None,
                          report: Optional[ConversionReport] = None, **kwargs) -> dict:
    """Build (and optionally write) the annotation dict from ``NAME.npy`` files and a CSV.

    Args:
        npy_dir: folder of ``NAME.npy`` arrays (``T x V x C`` or ``M x T x V x C``).
        labels_csv: CSV with the header ``name,label,split``; ``name`` is the file name
            with or without ``.npy``; one row per sample.
        out_pkl: if given, the annotation file to write.
        report: if given, filled with what was written and which ``.npy`` files the CSV
            does not list (those are left out).
        **kwargs: passed to ``arrays_to_annotations`` (``num_classes``, ``num_joints``,
            ``img_shape``, ``score_last``, ``dtype``).

    Raises:
        ValueError / TypeError / FileNotFoundError naming the file, CSV row and field.
    """
    npy_dir = Path(npy_dir)
    if not npy_dir.is_dir():
        raise FileNotFoundError(f'{npy_dir} is not a folder')
    rows = read_labels_csv(labels_csv)

    samples, listed = [], set()
    for line, name, label, split in rows:
        stem = name[:-4] if name.endswith('.npy') else name
        path = npy_dir / f'{stem}.npy'
        where = f'{labels_csv}, row {line} ({path})'
        if stem in listed:
            raise ValueError(f'{where}: field "name" {stem!r} is listed twice; names must be unique')
        if not path.is_file():
            raise FileNotFoundError(f'{where}: the array file does not exist')
        try:
            array = np.load(path, allow_pickle=False)
        except (ValueError, OSError, EOFError) as err:
            raise ValueError(f'{where}: not a readable .npy array ({err})') from None
        samples.append((line, path, stem, array, label, split))
        listed.add(stem)

    try:
        content = arrays_to_annotations(((stem, a, label, split) for _, _, stem, a, label, split in samples),
                                        **kwargs)
    except (ValueError, TypeError) as err:
        # Name the file and row as well as the sample.
        message = str(err)
        for line, path, stem, *_ in samples:
            if message.startswith(f'sample {stem!r}'):
                raise type(err)(f'{path} ({labels_csv}, row {line}): {message}') from None
        raise

    if report is not None:
        for path in sorted(npy_dir.glob('*.npy')):
            if path.stem not in listed:
                report.skipped.append(Skipped(path.name, 'not-in-csv', f'{Path(labels_csv).name} has no row for it'))
    if out_pkl is not None:
        written = write_annotation_file(content, out_pkl)
        if report is not None:
            report.written.append(written)
    return content


__all__ = ['arrays_to_annotations', 'folder_to_annotations', 'read_labels_csv']
