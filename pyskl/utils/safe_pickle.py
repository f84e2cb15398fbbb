"""Reading and writing annotation pickles without running code from them.

``pickle.load`` calls whatever callables a file names, so a downloaded
annotation file could run arbitrary code. ``load_pickle`` resolves only the
globals that numpy arrays, numpy scalars/dtypes and plain Python containers
need, and refuses everything else before it is imported or called.
"""
import io
import os
import pickle
from typing import Any, Union

import numpy as np

from .fileio import atomic_path

PathLike = Union[str, os.PathLike]

try:  # numpy >= 2 keeps its internals in numpy._core; numpy 1.x pickles name numpy.core
    from numpy._core import multiarray as _multiarray
    from numpy._core import numeric as _numeric
except ImportError:  # pragma: no cover - numpy 1.x
    from numpy.core import multiarray as _multiarray
    from numpy.core import numeric as _numeric
import _codecs
import collections


def _allowed_globals() -> dict[tuple[str, str], Any]:
    allowed: dict[tuple[str, str], Any] = {}
    for core in ('numpy.core', 'numpy._core'):  # pickles from numpy 1.x and 2.x
        allowed[(f'{core}.multiarray', '_reconstruct')] = _multiarray._reconstruct
        allowed[(f'{core}.multiarray', 'scalar')] = _multiarray.scalar
        allowed[(f'{core}.numeric', '_frombuffer')] = _numeric._frombuffer  # protocol 5
    allowed[('numpy', 'ndarray')] = np.ndarray
    allowed[('numpy', 'dtype')] = np.dtype
    for name in dir(np):  # scalar types (np.float16, np.int64, ...) and their dtype classes
        obj = getattr(np, name, None)
        if isinstance(obj, type) and issubclass(obj, np.generic):
            allowed[('numpy', name)] = obj
    for name in dir(np.dtypes):
        obj = getattr(np.dtypes, name)
        if isinstance(obj, type) and issubclass(obj, np.dtype):
            allowed[('numpy.dtypes', name)] = obj
    # Protocols <= 2 write Python 2 names ('__builtin__') for builtins.
    for builtin in (set, frozenset, bytearray, complex, slice, range):
        allowed[('builtins', builtin.__name__)] = builtin
        allowed[('__builtin__', builtin.__name__)] = builtin
    allowed[('collections', 'OrderedDict')] = collections.OrderedDict
    # Protocol <= 2 stores bytes as _codecs.encode(str, 'latin1'): a pure conversion.
    allowed[('_codecs', 'encode')] = _codecs.encode
    return allowed


_ALLOWED = _allowed_globals()


class UnsafePickleError(pickle.UnpicklingError, ValueError):
    """A pickle names a global outside the allowed set (it may hold code)."""


class _RestrictedUnpickler(pickle.Unpickler):

    def __init__(self, file, path: str):
        super().__init__(file)
        self._path = path

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise UnsafePickleError(
                f'{self._path}: refusing to unpickle {module}.{name}: annotation and result files may only '
                'hold numpy arrays and plain Python types') from None

    def persistent_load(self, pid: Any) -> Any:
        raise UnsafePickleError(
            f'{self._path}: refusing to resolve a persistent id: annotation and result files may only hold '
            'numpy arrays and plain Python types')


def _load(file, source: str) -> Any:
    try:
        return _RestrictedUnpickler(file, source).load()
    except UnsafePickleError:
        raise
    except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, IndexError,
            TypeError, ValueError) as err:
        raise ValueError(f'{source}: not a readable annotation pickle ({type(err).__name__}: {err})') from err


def load_pickle(path: PathLike) -> Any:
    """Load a pickle that may hold only numpy arrays/scalars/dtypes and plain Python types.

    Raises:
        UnsafePickleError (a ``ValueError``): the file names any other global; nothing
            it names is imported or called.
        ValueError: the file is truncated or not a pickle.
    """
    path = os.fspath(path)
    with open(path, 'rb') as f:
        return _load(f, path)


def loads_pickle(data: Union[bytes, memoryview], source: str = '<bytes>') -> Any:
    """:func:`load_pickle` for bytes in memory; ``source`` names them in errors."""
    return _load(io.BytesIO(data), source)


def dump_pickle(obj: Any, path: PathLike, protocol: int = 4) -> None:
    """Write ``obj`` to ``path`` atomically: a reader sees the old file or the complete new one.

    Protocol 4 is the default so that Python >= 3.4 (and the original PYSKL) can read it.
    """
    with atomic_path(path) as tmp, open(tmp, 'wb') as f:
        pickle.dump(obj, f, protocol=protocol)
