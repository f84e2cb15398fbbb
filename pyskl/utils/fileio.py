"""Writing the project's files atomically.

Every file pyskl writes (checkpoints, result pickles, plots, CSVs, videos,
the annotation cache) goes through :func:`atomic_path`: the data is written to a
temporary file (or folder) beside the target, flushed to disk and renamed over the
target. A reader, or a later run after a kill, sees the old file or the complete new
one, never a truncated one. A killed write leaves a hidden ``.NAME.*.tmp`` that
:func:`remove_stale_temporaries` deletes. (Reading the files a user gives is
:mod:`pyskl.utils.annotation_files`.)
"""
import glob
import os
import os.path as osp
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Union

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
