"""Skeleton annotations held in a few flat numpy arrays instead of a list of dicts.

Why: a DataLoader worker is a ``fork`` of the main process. Every time a worker
reads a Python object it writes that object's reference count, so the page
holding it is copied into the worker (copy-on-write). A list of 100k dicts of
small arrays is touched all over by random access, and after an epoch each
worker holds its own copy of the whole annotation file: with 8 ranks x k
workers that is 8k copies. A numpy array is one Python object whose data
buffer is never written by reading it, so workers keep sharing its pages.

Layout (N samples):

- ``frame_dir``: one fixed-width numpy string array ``(N,)``;
- ``label``, ``total_frames``: int64 ``(N,)``;
- ``keypoint`` (and ``keypoint_score`` where the data has it): a
  :class:`RaggedArrays`, i.e. every sample's array flattened and concatenated
  into one buffer, with ``offsets (N + 1,)`` and ``shapes (N, ndim)``;
- in the compressed (Kinetics) form, ``keypoint`` is ``N_boxes x V x 3`` per
  sample, and its ``frame_inds`` and ``box_score`` ``(N_boxes,)`` are ragged
  arrays too; ``keypoint`` is None where it still lies in the kpfiles;
- any other field (``img_shape``, ``original_shape``, ``box_score``, ...):
  each sample's remaining fields pickled into one ``uint8`` buffer with
  offsets, unpickled on access (they are small).

The per-sample dict is rebuilt on access, with fresh copies of the arrays, so
a transform that writes into its input cannot change the store.
"""
import ctypes
import ctypes.util
import os
import pickle
from typing import Any, Optional, Sequence

import numpy as np

from pyskl.utils.safe_pickle import loads_pickle

#: per-box fields of the compressed (Kinetics) form, held as ragged arrays.
BOX_FIELDS = ('frame_inds', 'box_score')


class RaggedArrays:
    """N arrays of one dtype and one ndim but different shapes, in one flat buffer."""

    def __init__(self, data: np.ndarray, offsets: np.ndarray, shapes: np.ndarray):
        self.data = data  # (sum of sizes,)
        self.offsets = offsets  # (N + 1,) int64
        self.shapes = shapes  # (N, ndim) int64

    @classmethod
    def pack(cls, arrays: Sequence[np.ndarray], dtype: np.dtype, ndim: int,
             release: Optional[callable] = None) -> 'RaggedArrays':
        """Copy ``arrays`` into one buffer. ``release(i)`` is called after array ``i`` is
        copied, so a caller can drop its reference and keep peak memory near one copy."""
        shapes = np.array([a.shape for a in arrays], dtype=np.int64).reshape(len(arrays), ndim)
        offsets = np.zeros(len(arrays) + 1, dtype=np.int64)
        np.cumsum(shapes.prod(axis=1), out=offsets[1:])
        data = np.empty(int(offsets[-1]), dtype=dtype)
        bounds = offsets.tolist()  # Python ints: slicing with them is faster in this loop
        for i in range(len(arrays)):
            data[bounds[i]:bounds[i + 1]] = arrays[i].reshape(-1)
            if release is not None:
                release(i)
        return cls(data, offsets, shapes)

    def __len__(self) -> int:
        return len(self.shapes)

    def view(self, i: int) -> np.ndarray:
        """Sample ``i``'s array, sharing memory with the store (do not write to it)."""
        return self.data[self.offsets[i]:self.offsets[i + 1]].reshape(self.shapes[i])

    def get(self, i: int) -> np.ndarray:
        """Sample ``i``'s array as a fresh copy (a plain ndarray, also from a memory map)."""
        return np.array(self.view(i))

    def sample_of(self, flat_index: np.ndarray) -> np.ndarray:
        """Which sample each position of the flat buffer belongs to."""
        return np.searchsorted(self.offsets, flat_index, side='right') - 1


class PickledRecords:
    """N small Python objects, each pickled, in one ``uint8`` buffer."""

    def __init__(self, data: np.ndarray, offsets: np.ndarray, source: str = 'packed annotations'):
        self.data = data
        self.offsets = offsets  # (N + 1,) int64
        self.source = source  # names the bytes in errors

    @classmethod
    def pack(cls, objects: Sequence[Any]) -> 'PickledRecords':
        blobs = [pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL) for obj in objects]
        offsets = np.zeros(len(blobs) + 1, dtype=np.int64)
        np.cumsum([len(b) for b in blobs], out=offsets[1:])
        return cls(np.frombuffer(b''.join(blobs), dtype=np.uint8).copy(), offsets)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def get(self, i: int) -> Any:
        # Restricted like the annotation file itself: the bytes may come from a cache on disk.
        return loads_pickle(memoryview(self.data[self.offsets[i]:self.offsets[i + 1]]), self.source)


class PackedAnnotations:
    """The annotations of one file (well-formed samples only), packed for sharing.

    Build with :meth:`pack` from samples that passed
    :func:`pyskl.datasets.annotation_checks.check_structure` (every sample a
    dict with ``frame_dir``, an int ``label`` and ``total_frames``, and a 4-D
    numeric ``keypoint``).
    """

    def __init__(self, frame_dir: np.ndarray, label: np.ndarray, total_frames: np.ndarray,
                 keypoint: Optional[RaggedArrays], keypoint_score: Optional[RaggedArrays],
                 extras: Optional[PickledRecords], frame_inds: Optional[RaggedArrays] = None,
                 box_score: Optional[RaggedArrays] = None):
        self.frame_dir = frame_dir
        self.label = label
        self.total_frames = total_frames
        self.keypoint = keypoint  # None: compressed samples whose keypoints are in their kpfiles
        self.keypoint_score = keypoint_score
        self.extras = extras
        self.frame_inds = frame_inds
        self.box_score = box_score

    @property
    def compressed(self) -> bool:
        """The original's Kinetics form: boxes (``frame_inds``, ``box_score``) instead of M x T."""
        return self.frame_inds is not None

    @classmethod
    def pack(cls, samples: list[dict], compressed: bool = False) -> 'PackedAnnotations':
        """Pack ``samples``; their arrays are removed from the dicts as they are copied,
        so the loaded file and the packed copy are not both held in full.

        ``compressed``: the samples are in the Kinetics form (``frame_inds`` and
        ``box_score`` per box, ``keypoint`` N_boxes x V x 3 where present).
        """
        n = len(samples)
        frame_dir = np.array([s['frame_dir'] for s in samples], dtype=str) if n else np.zeros(0, dtype='<U1')
        label = np.array([int(s['label']) for s in samples], dtype=np.int64)
        total_frames = np.array([int(s['total_frames']) for s in samples], dtype=np.int64)

        def ragged(field, ndim, dtype=None):
            arrays = [np.asarray(s[field]) for s in samples]

            def drop(i):
                arrays[i] = None
                samples[i].pop(field, None)

            dtype = dtype or _float_dtype([a.dtype for a in arrays])
            return RaggedArrays.pack(arrays, dtype, ndim, release=drop)

        keypoint = keypoint_score = frame_inds = box_score = None
        if not compressed or (n and all('keypoint' in s for s in samples)):
            keypoint = ragged('keypoint', 3 if compressed else 4)
        if compressed:
            frame_inds = ragged('frame_inds', 1, np.dtype(np.int32))
            box_score = ragged('box_score', 1)
        elif n and all('keypoint_score' in s for s in samples):
            keypoint_score = ragged('keypoint_score', np.ndim(samples[0]['keypoint_score']))

        # the packed fields were popped from the dicts; the rest (frame_inds, box_score of the
        # uncompressed form included) is pickled
        rest = [{k: v for k, v in s.items() if k not in ('frame_dir', 'label', 'total_frames')} for s in samples]
        extras = PickledRecords.pack(rest) if any(rest) else None
        return cls(frame_dir, label, total_frames, keypoint, keypoint_score, extras, frame_inds, box_score)

    def __len__(self) -> int:
        return len(self.label)

    def arrays(self) -> dict[str, np.ndarray]:
        """Every array of the store by a file name (for :meth:`save`)."""
        out = dict(frame_dir=self.frame_dir, label=self.label, total_frames=self.total_frames)
        for name in ('keypoint', 'keypoint_score') + BOX_FIELDS:
            ragged = getattr(self, name)
            if ragged is not None:
                out.update({f'{name}.data': ragged.data, f'{name}.offsets': ragged.offsets,
                            f'{name}.shapes': ragged.shapes})
        if self.extras is not None:
            out.update({'extras.data': self.extras.data, 'extras.offsets': self.extras.offsets})
        return out

    def save(self, folder: str) -> None:
        """One ``.npy`` file per array in ``folder`` (which must exist)."""
        for name, array in self.arrays().items():
            np.save(os.path.join(folder, f'{name}.npy'), array, allow_pickle=False)

    @classmethod
    def load(cls, folder: str, mmap: bool = True) -> 'PackedAnnotations':
        """The store :meth:`save` wrote; memory-mapped read-only, so that every process
        reading it (all ranks and workers of a machine) shares one copy in the page cache."""
        def get(name):
            path = os.path.join(folder, f'{name}.npy')
            if not os.path.exists(path):
                return None
            return np.load(path, mmap_mode='r' if mmap else None, allow_pickle=False)

        def ragged(name):
            data = get(f'{name}.data')
            return None if data is None else RaggedArrays(data, get(f'{name}.offsets'), get(f'{name}.shapes'))

        extras = get('extras.data')
        if extras is not None:
            extras = PickledRecords(extras, get('extras.offsets'), source=os.path.join(folder, 'extras.data.npy'))
        keypoint = ragged('keypoint')
        if keypoint is None:
            raise FileNotFoundError(f'{folder}: no keypoint.data.npy (not a packed annotation cache)')
        # frame_dir is small and compared often: read it into memory
        return cls(np.array(get('frame_dir')), get('label'), get('total_frames'), keypoint,
                   ragged('keypoint_score'), extras, ragged('frame_inds'), ragged('box_score'))

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in self.arrays().values())

    def get(self, i: int) -> dict:
        """Sample ``i`` as the dict the annotation file held (arrays are fresh copies)."""
        info = self.extras.get(i) if self.extras is not None else {}
        info['frame_dir'] = str(self.frame_dir[i])
        info['label'] = int(self.label[i])
        info['total_frames'] = int(self.total_frames[i])
        for name in ('keypoint', 'keypoint_score') + BOX_FIELDS:
            ragged = getattr(self, name)
            if ragged is not None:
                info[name] = ragged.get(i)
        return info


def _float_dtype(dtypes: Sequence[np.dtype]) -> np.dtype:
    """The common dtype of the samples' arrays; float16/float32 storage is kept as it is."""
    if not dtypes:
        return np.dtype(np.float32)
    dtype = np.result_type(*set(dtypes))
    return dtype if np.issubdtype(dtype, np.floating) else np.dtype(np.float32)


def release_freed_heap() -> None:
    """Hand the memory of the freed, unpacked annotations back to the OS (glibc only).

    Unpickling allocates every sample's arrays on the C heap; after packing they are
    freed, but glibc keeps freed heap pages mapped, so the process would hold the
    file's size twice. ``malloc_trim`` returns them. Elsewhere this does nothing.
    (The loaded samples hold no reference cycles: they are freed without ``gc``.)
    """
    libc_name = ctypes.util.find_library('c')
    if not libc_name:
        return
    try:
        trim = ctypes.CDLL(libc_name).malloc_trim
    except (OSError, AttributeError):  # not glibc (musl, macOS)
        return
    trim.argtypes = [ctypes.c_size_t]
    trim(0)
