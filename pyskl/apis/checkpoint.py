"""Reading checkpoints safely and finding the one to resume from.

Reading: torch >= 2.6 loads with ``weights_only=True``, which refuses any pickled
global it does not know. mmengine's checkpoints hold a few more than tensors and
plain containers (its ``MessageHub`` state: ``HistoryBuffer`` objects with numpy
arrays, numpy scalars for best scores). :func:`allow_checkpoint_globals` allow-lists
exactly those, so checkpoints load without ever running arbitrary pickled code.

(Writing is atomic: :mod:`pyskl.utils.fileio`, through ``AtomicCheckpointHook``.)
"""
import glob
import os.path as osp
import pickle
import re
from typing import Any, Callable

import numpy as np
import torch
from mmengine.logging.history_buffer import HistoryBuffer


try:  # numpy >= 2 keeps its internals in numpy._core; numpy 1.x pickles name numpy.core
    from numpy._core import multiarray as _multiarray
except ImportError:  # pragma: no cover - numpy 1.x
    from numpy.core import multiarray as _multiarray


def _history_buffer_getattr(obj: Any, name: str) -> Any:
    """The only ``getattr`` a checkpoint may call: a ``HistoryBuffer`` statistics method.

    mmengine pickles ``HistoryBuffer._statistics_methods`` (``{'mean': HistoryBuffer.mean, ...}``)
    as ``getattr(HistoryBuffer, 'mean')``; a general ``getattr`` would let a file reach any
    attribute of any object it can build.
    """
    if obj is HistoryBuffer and name in ('min', 'max', 'current', 'mean'):
        return getattr(obj, name)
    raise pickle.UnpicklingError(f'refusing getattr({obj!r}, {name!r}) in a checkpoint')


def _safe_globals() -> list:
    safe: list = [HistoryBuffer, np.ndarray, np.dtype]
    for core in ('numpy.core', 'numpy._core'):  # checkpoints written under numpy 1.x and 2.x
        safe.append((_multiarray._reconstruct, f'{core}.multiarray._reconstruct'))
        safe.append((_multiarray.scalar, f'{core}.multiarray.scalar'))
    # dtype instances are rebuilt by ``numpy.dtype(...)`` and then given their state, which the
    # weights-only unpickler allows only for allow-listed types: the dtype classes.
    safe.extend(obj for obj in vars(np.dtypes).values() if isinstance(obj, type) and issubclass(obj, np.dtype))
    safe.append((_history_buffer_getattr, 'builtins.getattr'))
    return safe


_ALLOWED = False


def allow_checkpoint_globals() -> None:
    """Allow-list, for ``torch.load(weights_only=True)``, the types mmengine checkpoints hold."""
    global _ALLOWED
    if _ALLOWED or not hasattr(torch.serialization, 'add_safe_globals'):  # torch < 2.4 has no allow-list
        return
    torch.serialization.add_safe_globals(_safe_globals())
    _ALLOWED = True


def read_checkpoint(path: str, map_location: str | Callable | torch.device | None = 'cpu') -> dict:
    """A checkpoint file's content, loaded weights-only; clear errors for a missing or broken file."""
    allow_checkpoint_globals()
    path = osp.expanduser(str(path))
    if not osp.isfile(path):
        raise FileNotFoundError(f'checkpoint {path} does not exist')
    try:
        checkpoint = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as e:  # noqa: BLE001 - re-raised with the file name, in one line
        raise ValueError(f'{path} is not a readable checkpoint ({_load_error_reason(e)})') from e
    if not isinstance(checkpoint, dict):
        raise ValueError(f'{path} holds a {type(checkpoint).__name__}, not a checkpoint dict')
    return checkpoint


def _load_error_reason(err: Exception) -> str:
    """The informative part of a ``torch.load`` error, in one line."""
    text = str(err)
    if 'WeightsUnpickler error:' in text:  # torch's long weights-only message: keep the cause only
        cause = text.split('WeightsUnpickler error:', 1)[1].strip().splitlines()[0].split('. ')[0].rstrip('.')
        return (f'it holds more than weights and plain data: {cause}; pyskl loads checkpoints weights-only and '
                'runs no code from them')
    lines = text.strip().splitlines()
    return f'{type(err).__name__}: {lines[0]}' if lines else type(err).__name__


_STEP_FILE = re.compile(r'^(epoch|iter)_(\d+)\.pth$')


def find_resume_checkpoint(work_dir: str) -> str | None:
    """The checkpoint to resume from in ``work_dir``, or None.

    The one ``work_dir/last_checkpoint`` names (written by the checkpoint hook); if that
    file is missing, empty or names a file that is gone, the newest ``epoch_*.pth`` /
    ``iter_*.pth`` in ``work_dir``.
    """
    record = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(record):
        with open(record, encoding='utf-8') as f:
            named = f.read().strip()
        if named and osp.isfile(named):
            return named
        if named and osp.isfile(osp.join(work_dir, osp.basename(named))):  # the work dir was moved
            return osp.join(work_dir, osp.basename(named))
    found = []
    for path in glob.glob(osp.join(glob.escape(work_dir), '*.pth')):
        match = _STEP_FILE.match(osp.basename(path))
        if match:
            found.append((int(match.group(2)), osp.getmtime(path), path))
    return max(found)[2] if found else None
