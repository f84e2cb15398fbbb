"""The project's files: written atomically, annotation files and label maps read one way.

Writing: every file pyskl writes (checkpoints, result pickles, plots, CSVs, videos,
the annotation cache) goes through :func:`atomic_path`: the data is written to a
temporary file (or folder) beside the target, flushed to disk and renamed over the
target. A reader, or a later run after a kill, sees the old file or the complete new
one, never a truncated one. A killed write leaves a hidden ``.NAME.*.tmp`` that
:func:`remove_stale_temporaries` deletes.

Reading: :func:`read_annotation_file` (the ``{'split': ..., 'annotations': [...]}``
pickle) and :func:`read_label_map` (one class name a line) are the one reader of each,
used by the dataset, the metrics, the ensemble and the visualiser.
"""
import glob
import io
import os
import os.path as osp
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Optional, Union

PathLike = Union[str, os.PathLike]

TMP_SUFFIX = '.tmp'


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_folder(folder: Path) -> None:
    """Make a rename inside ``folder`` durable."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. Windows
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - some file systems refuse fsync on folders
        pass
    finally:
        os.close(fd)


@contextmanager
def atomic_path(path: PathLike, folder: bool = False, keep_suffix: bool = False) -> Iterator[Path]:
    """A temporary path beside ``path`` to write to; renamed over ``path`` when the block ends.

    ``keep_suffix``: the temporary name ends with ``path``'s suffix (for writers that choose
    the format by it, such as matplotlib's animation writers). If the block raises, the temporary is removed and
    ``path`` is untouched. ``folder=True``: a temporary folder, which replaces the folder
    ``path`` (whose parent must exist) (readers that still have files of the old one open keep them).
    """
    path = Path(path)
    if not folder:
        path.parent.mkdir(parents=True, exist_ok=True)
    prefix = f'.{path.name}.'
    if folder:
        tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=prefix, suffix=TMP_SUFFIX))
    else:
        suffix = TMP_SUFFIX + (path.suffix if keep_suffix else '')
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=prefix, suffix=suffix)
        os.close(fd)
        tmp = Path(name)
    try:
        yield tmp
        if folder:
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            os.rename(tmp, path)
        else:
            with open(tmp, 'rb+') as f:
                os.fsync(f.fileno())
            os.chmod(tmp, 0o666 & ~_current_umask())  # mkstemp makes 0600; give the usual mode
            os.replace(tmp, path)
    except BaseException:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        elif tmp.exists():
            tmp.unlink()
        raise
    _fsync_folder(path.parent)


def atomic_write(data: Union[bytes, str], path: PathLike, encoding: str = 'utf-8') -> None:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_path`)."""
    if isinstance(data, str):
        data = data.encode(encoding)
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def remove_stale_temporaries(folder: PathLike) -> list[str]:
    """Delete the temporary files and folders a killed atomic write left in ``folder``."""
    stale = glob.glob(osp.join(glob.escape(os.fspath(folder)), f'.*{TMP_SUFFIX}*'))
    for path in stale:
        try:
            if osp.isdir(path):
                shutil.rmtree(path)
            else:
                os.unlink(path)
        except FileNotFoundError:  # another process removed it
            pass
    return stale


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
    from .safe_pickle import load_pickle
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


def split_samples(samples: list, splits: Optional[dict], split: Optional[str], path: PathLike) -> list:
    """The samples of ``split`` in file order (``split=None``: all of them)."""
    if split is None:
        return samples
    splits = splits or {}
    if split not in splits:
        raise KeyError(f'{os.fspath(path)}: no split {split!r}; the file has {sorted(splits)}')
    names = set(splits[split])
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
