"""Reading the files a user gives: annotation pickles (with their splits) and label maps.

:func:`read_annotation_file` (the ``{'split': ..., 'annotations': [...]}`` pickle),
:func:`split_frame_dirs` (a split's names) and :func:`read_label_map` (one class name a
line) are the one reader of each, used by the dataset, the metrics, the ensemble and the
visualiser.
"""
import io
import os
from typing import Any, Optional

from .fileio import PathLike
from .safe_pickle import load_pickle


def read_utf8(path: PathLike) -> str:
    """The text of a user's file (label map, CSV); ``ValueError`` naming the file, line and byte
    where it is not UTF-8."""
    with open(path, 'rb') as f:
        data = f.read()
    try:
        return data.decode('utf-8')
    except UnicodeDecodeError as err:
        line = data[:err.start].count(b'\n') + 1
        raise ValueError(f'{os.fspath(path)}, line {line}: not UTF-8 text (byte {data[err.start]:#04x}); save the '
                         'file as UTF-8') from None


def read_label_map(path: PathLike) -> list[str]:
    """The class names of a label map: one a line, in label order.

    Trailing blank lines are ignored. A blank line in between (it would shift every later
    name by one class) or a name given twice raises a ``ValueError`` naming the line.
    """
    path = os.fspath(path)
    names = [line.strip() for line in io.StringIO(read_utf8(path), newline=None)]
    while names and not names[-1]:
        names.pop()
    if not names:
        raise ValueError(f'{path}: the label map is empty (expected one class name a line)')
    seen: dict[str, int] = {}
    for number, name in enumerate(names, 1):
        if not name:
            raise ValueError(f'{path}: line {number} of the label map is empty (one class name a line, '
                             'in label order)')
        if name in seen:
            raise ValueError(f'{path}: line {number} of the label map repeats {name!r} (line {seen[name]})')
        seen[name] = number
    return names


def read_annotation_file(path: PathLike) -> tuple[list, Optional[dict]]:
    """An annotation pickle's sample list and its split dict (None where the file has none).

    The file is read with :func:`pyskl.utils.safe_pickle.load_pickle` (no code runs); a
    file that is not ``{'split': {name: [frame_dir, ...]}, 'annotations': [dict, ...]}``
    (or a bare list of sample dicts) raises an error naming the file and the field.
    """
    path = os.fspath(path)
    data = load_pickle(path)
    if isinstance(data, list):
        return data, None
    if not isinstance(data, dict):
        raise TypeError(f"{path}: expected a dict with 'split' and 'annotations', got {type(data).__name__}")
    if 'annotations' not in data:
        raise KeyError(f"{path}: expected a dict with 'annotations' (and 'split'), "
                       f'found keys {sorted(map(str, data))}')
    samples, splits = data['annotations'], data.get('split')
    if not isinstance(samples, list):
        raise TypeError(f"{path}: 'annotations' must be a list of dicts, got {type(samples).__name__}")
    if splits is not None:
        if not isinstance(splits, dict):
            raise TypeError(f"{path}: 'split' must be a dict of split name -> list of frame_dir, "
                            f'got {type(splits).__name__}')
        for name, names in splits.items():
            if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) for n in names):
                raise TypeError(f'{path}: split {name!r} must be a list of frame_dir strings')
    return samples, splits


def split_frame_dirs(splits: Optional[dict], split: Optional[str], path: PathLike) -> Optional[set]:
    """The ``frame_dir`` names of ``split`` in the file's split dict (``split=None``: None, keep all)."""
    if split is None:
        return None
    if splits is None:
        raise KeyError(f"{os.fspath(path)}: split={split!r} was asked for, but the file has no 'split' dict")
    if split not in splits:
        raise KeyError(f'{os.fspath(path)}: no split {split!r}; the file has splits {sorted(splits)}')
    return set(splits[split])


def split_samples(samples: list, splits: Optional[dict], split: Optional[str], path: PathLike) -> list:
    """The samples of ``split`` in file order (``split=None``: all of them)."""
    names = split_frame_dirs(splits, split, path)
    if names is None:
        return samples
    return [s for s in samples if isinstance(s, dict) and s.get('frame_dir') in names]


def find_sample(samples: list, frame_dir: Optional[str], index: Optional[int], path: PathLike) -> Any:
    """One sample by ``frame_dir``, else by position ``index`` (default 0)."""
    path = os.fspath(path)
    if not samples:
        raise ValueError(f'{path}: the annotation file holds no samples')
    if frame_dir is not None:
        for sample in samples:
            if isinstance(sample, dict) and sample.get('frame_dir') == frame_dir:
                return sample
        names = [s.get('frame_dir') for s in samples[:3] if isinstance(s, dict)]
        raise KeyError(f'{path}: no sample with frame_dir {frame_dir!r} (the first ones are {names})')
    index = 0 if index is None else index
    if not -len(samples) <= index < len(samples):
        raise IndexError(f'{path}: index {index} is out of range for {len(samples)} samples')
    return samples[index]
