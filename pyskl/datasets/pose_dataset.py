"""``PoseDataset``: skeleton sequences from an annotation pickle.

The file (see README, "Datasets and annotation format") is a dict
``{'split': {name: [frame_dir, ...]}, 'annotations': [sample, ...]}``; each
sample holds ``frame_dir``, ``label``, ``total_frames``, ``keypoint``
``M x T x V x C`` and, for 2D data, ``keypoint_score`` ``M x T x V``,
``img_shape``, ``original_shape``. Kinetics-400 comes in the original's
compressed form instead: per-box samples whose keypoints lie in kpfiles
(see :mod:`pyskl.datasets.kpfiles`).
"""
import logging
import os
from typing import Callable, Optional, Sequence, Union

import numpy as np
from mmengine.dataset import BaseDataset, force_full_init
from mmengine.logging import print_log
from mmengine.registry import DefaultScope

from pyskl.registry import DATASETS
from pyskl.skeleton import get_layout
from pyskl.utils.annotation_files import read_annotation_file, read_label_map, split_frame_dirs
from .annotation_checks import BadSample, check_structure, check_values
from .cache_folder import read_cache_meta, write_cache
from .kpfile_cache import build_kpfile_cache, kpfiles_digest
from .kpfiles import is_compressed, read_kpfile, resolve_kpfile, video_keypoint
from .packed_annotations import PackedAnnotations, release_freed_heap
from .transforms.compose import Compose

_SHOWN_BAD_SAMPLES = 5  # bad samples quoted in the log in 'skip' mode
_TRIM_ABOVE = 64 * 2**20  # return freed heap to the OS after packing more than this many bytes
_CACHE_VERSION = 1


@DATASETS.register_module()
class PoseDataset(BaseDataset):
    """Skeleton action recognition samples from an annotation pickle.

    Storage: the samples are held in a :class:`PackedAnnotations` (one flat
    numpy buffer for all keypoints, numpy arrays for labels, frame counts and
    names) rather than mmengine's list of dicts or its ``serialize_data``
    byte buffer. Both alternatives to a list of dicts keep DataLoader workers
    from copying the annotations (copy-on-write of Python objects whose
    reference counts are written on every read); packing additionally lets
    the load-time checks run vectorised, stores no per-sample pickle of the
    keypoints, and returns each sample without unpickling its arrays.
    ``tools/benchmarks/dataset_memory.py`` measures worker memory: with 4
    workers, a list of dicts grows each worker by ~0.3 KB per sample (60 MiB
    for 200k samples) and PoseDataset by a constant ~2 MiB. With
    ``cache=True`` the packed arrays are memory-mapped ``.npy`` files, so the
    ranks of a machine share one copy as well.

    The results dict handed to the pipeline is the sample as the file holds
    it (``keypoint`` keeps the file's dtype, e.g. float16, as in the original
    PYSKL) plus ``test_mode``, ``start_index``, ``modality`` and mmengine's
    ``sample_idx``.

    Args:
        ann_file: the annotation pickle; read with
            :func:`pyskl.utils.safe_pickle.load_pickle`, which refuses anything
            but numpy arrays and plain Python types.
        pipeline: transforms (config dicts are built from pyskl's TRANSFORMS).
        split: keep the samples whose ``frame_dir`` is in ``split[name]`` of
            the file, in the order of the file's annotation list.
        valid_ratio: drop samples whose fraction of valid frames is below it
            (0 or None: keep all). A frame is valid: where the sample has the
            original 2D files' precomputed ``valid[box_thr]`` frame count, as
            counted there; else, with ``box_thr`` and ``keypoint_score``,
            where some person's mean joint score is at least ``box_thr``;
            else where some joint is non-zero (an all-zero frame is padding).
        box_thr: detection score threshold for ``valid_ratio``; where a sample
            has ``box_score`` (per box, or per person and frame), ``anno_inds =
            box_score >= box_thr`` is added to it, as the original does
            (``DecompressPose`` then keeps only those boxes).
        repeat: one epoch goes over the data ``repeat`` times (index ``i``
            maps to sample ``i % num_samples``).
        label_map: a text file of class names, one a line, in label order;
            gives ``metainfo['classes']`` and, unless ``num_classes`` is set,
            the label range.
        num_classes: every label must lie in ``[0, num_classes)``.
        num_joints: every sample must have this many joints V.
        layout: a graph layout (name or dict, as for the model's graph); its
            joint count is required of every sample.
        on_bad_sample: ``'raise'`` (default): a bad sample raises a
            ``ValueError`` naming the file, its ``frame_dir`` and the field;
            ``'skip'``: bad samples are left out, counted and quoted in the log.
        kpfile_dir: compressed (Kinetics) files: the folder of the kpfiles, where
            each sample's kpfile is looked for by the file name of its
            ``raw_file``; None: ``raw_file`` is the path (relative to the
            annotation file's folder).
        cache_workers: processes that pack the kpfiles into the cache (None:
            every core this process may use).
        cache: False (default): load the pickle and pack it in memory (compressed
            files: their kpfiles are then read for each sample as it is loaded,
            which is slow; use the cache). True, or
            a folder: keep the packed arrays as ``.npy`` files in that folder
            (True: ``<ann_file>.cache`` beside the pickle), built on first use
            and whenever the pickle changes, and memory-map them read-only:
            every rank and worker on a machine then shares one copy in the page
            cache, and later runs start without unpickling. (With several ranks,
            build it once first, e.g. by one process, or each rank builds it;
            the kpfiles of a compressed file are packed by one process of the
            machine while the others wait, and a build resumes where an
            interrupted one stopped: ``tools/data/k400_cache.py`` does it ahead.)
        start_index: added to each sample as ``start_index`` (frame index origin).
        modality: added to each sample as ``modality``.
        test_mode: added to each sample as ``test_mode`` (deterministic
            sampling in the transforms; a pipeline returning None is an error).
        memcached, mc_cfg: accepted for original configs; not needed, since
            the packed store is shared by workers already.
        metainfo, data_root, indices, lazy_init, max_refetch: as mmengine's
            ``BaseDataset`` (``indices`` picks samples before ``repeat``).
    """

    def __init__(self,
                 ann_file: Union[str, os.PathLike],
                 pipeline: Optional[Sequence[Union[dict, Callable]]] = (),
                 split: Optional[str] = None,
                 valid_ratio: Optional[float] = None,
                 box_thr: Optional[float] = None,
                 repeat: int = 1,
                 label_map: Optional[Union[str, os.PathLike]] = None,
                 num_classes: Optional[int] = None,
                 num_joints: Optional[int] = None,
                 layout: Union[str, dict, None] = None,
                 on_bad_sample: str = 'raise',
                 cache: Union[bool, str, os.PathLike] = False,
                 kpfile_dir: Optional[Union[str, os.PathLike]] = None,
                 cache_workers: Optional[int] = None,
                 start_index: int = 0,
                 modality: str = 'Pose',
                 test_mode: bool = False,
                 memcached: bool = False,
                 mc_cfg: Optional[tuple] = None,
                 metainfo: Optional[dict] = None,
                 data_root: str = '',
                 indices: Optional[Union[int, Sequence[int]]] = None,
                 lazy_init: bool = False,
                 max_refetch: int = 1000):
        if not isinstance(repeat, int) or isinstance(repeat, bool) or repeat < 1:
            raise ValueError(f'PoseDataset: repeat must be a positive int, got {repeat!r}')
        if on_bad_sample not in ('raise', 'skip'):
            raise ValueError(f"PoseDataset: on_bad_sample must be 'raise' or 'skip', got {on_bad_sample!r}")
        for name, value in (('valid_ratio', valid_ratio), ('box_thr', box_thr)):
            if value is not None and not (isinstance(value, (int, float)) and 0 <= value <= 1):
                raise ValueError(f'PoseDataset: {name} must be a number in [0, 1] or None, got {value!r}')
        if num_classes is not None and (not isinstance(num_classes, int) or num_classes < 1):
            raise ValueError(f'PoseDataset: num_classes must be a positive int, got {num_classes!r}')
        self.split = split
        self.valid_ratio = valid_ratio
        self.box_thr = box_thr
        self.repeat = repeat
        self.on_bad_sample = on_bad_sample
        self.cache = cache
        self.kpfile_dir = None if kpfile_dir is None else os.fspath(kpfile_dir)
        self.cache_workers = cache_workers
        self.start_index = start_index
        self.modality = modality
        self.label_map = None if label_map is None else os.fspath(label_map)
        if memcached:
            print_log('PoseDataset: memcached is not needed (the annotations are held in packed numpy '
                      'arrays shared by DataLoader workers); ignoring it', logger='current', level=logging.WARNING)
        self.num_joints, self._joints_source = self._expected_joints(num_joints, layout)

        metainfo = dict(metainfo or {})
        if self.label_map is not None:
            metainfo.setdefault('classes', tuple(read_label_map(self.label_map)))
        classes = metainfo.get('classes')
        if num_classes is None and classes is not None:
            num_classes = len(classes)
        elif num_classes is not None and classes is not None and len(classes) != num_classes:
            raise ValueError(f'PoseDataset: num_classes={num_classes}, but the label map '
                             f'{self.label_map or "in metainfo"} has {len(classes)} classes')
        self.num_classes = num_classes

        self.bad_samples: list[str] = []  # messages for the samples left out in 'skip' mode
        self.num_dropped_by_valid_ratio = 0
        self._rng = np.random.default_rng()  # for _rand_another; never numpy's global state
        # serialize_data=False: the packed store replaces mmengine's serialisation.
        super().__init__(ann_file=os.fspath(ann_file), metainfo=metainfo, data_root=data_root, indices=indices,
                         serialize_data=False, pipeline=[], test_mode=test_mode, lazy_init=True,
                         max_refetch=max_refetch)
        with DefaultScope.overwrite_default_scope('pyskl'):  # pyskl's transforms, whatever the caller's scope
            self.pipeline = Compose(list(pipeline or []))
        if not lazy_init:
            self.full_init()

    # ------------------------------------------------------------------ set-up
    @staticmethod
    def _expected_joints(num_joints, layout) -> tuple[Optional[int], str]:
        if layout is None:
            return num_joints, '' if num_joints is None else f'num_joints is {num_joints}'
        layout = get_layout(layout)
        if num_joints is not None and num_joints != layout.num_node:
            raise ValueError(f'PoseDataset: num_joints={num_joints} contradicts the graph layout '
                             f'{layout.name!r} ({layout.num_node} joints)')
        return layout.num_node, f'the graph layout {layout.name!r} has {layout.num_node}'

    def full_init(self) -> None:
        """Load, check and pack the annotations (once); see the class docstring."""
        if self._fully_initialized:
            return
        self._packed, keep = self._load_packed()
        if self._indices is not None:
            keep = self._pick(keep, self._indices)
        self._base_index = keep
        self._fully_initialized = True

    def load_data_list(self) -> list[dict]:
        """The selected samples as a list of dicts, for inspection.

        The dataset itself does not hold this list: see the class docstring.
        """
        self.full_init()
        return [self._packed.get(int(i)) for i in self._base_index]

    def _bad(self, bad: list[BadSample], path: str) -> None:
        if not bad:
            return
        messages = [b.message(path) for b in bad]
        if self.on_bad_sample == 'raise':
            more = f" (and {len(bad) - 1} more bad sample(s); on_bad_sample='skip' leaves them out)" \
                if len(bad) > 1 else ''
            raise ValueError(messages[0] + more)
        self.bad_samples.extend(messages)
        fields: dict[str, int] = {}
        for b in bad:
            fields[b.field] = fields.get(b.field, 0) + 1
        counts = ', '.join(f'{n} for {f!r}' for f, n in sorted(fields.items()))
        shown = '\n  '.join(messages[:_SHOWN_BAD_SAMPLES])
        print_log(f'{path}: skipping {len(bad)} bad sample(s) ({counts}):\n  {shown}'
                  + ('\n  ...' if len(bad) > _SHOWN_BAD_SAMPLES else ''), logger='current', level=logging.WARNING)

    def _load_packed(self) -> tuple[PackedAnnotations, np.ndarray]:
        """The packed store and the sorted ids of the samples to use: those of the split that pass
        the structure and value checks (the others reported per ``on_bad_sample``) and ``valid_ratio``."""
        path = self.ann_file
        packed, splits, structural = self._cached_store(path) if self.cache else self._store_in_memory(path)
        index, structural = self._split_index(packed, splits, structural, path)
        self._bad(structural, path)

        bad = check_values(packed, self.num_joints, self._joints_source, self.num_classes, index=index)
        self._bad(bad, path)
        index = np.setdiff1d(index, [b.index for b in bad])

        if self.valid_ratio:
            ratio = self._valid_frame_ratio(packed, index)
            low = ratio < self.valid_ratio
            self.num_dropped_by_valid_ratio = int(low.sum())
            index = index[~low]
            print_log(f'{path}: valid_ratio={self.valid_ratio} dropped {self.num_dropped_by_valid_ratio} '
                      f'sample(s) with fewer valid frames', logger='current')
        print_log(f'{path}: {len(index)} samples' + (f' of split {self.split!r}' if self.split else '')
                  + f', {packed.nbytes / 2**20:.1f} MiB packed'
                  + (' (memory-mapped cache)' if self.cache else ''), logger='current')
        return packed, index

    def _read_checked(self, path: str, split_only: bool) -> tuple[list, Optional[dict], list[BadSample], bool]:
        """The annotation file's samples that pass the structure checks (``split_only``: only the
        split's, and those without a name, to report them), its split dict, the problems of the
        others and whether the file is compressed (Kinetics kpfiles)."""
        samples, splits = read_annotation_file(path)
        wanted = split_frame_dirs(splits, self.split, path) if split_only else None
        if wanted is not None:
            samples = [s for s in samples if not isinstance(s, dict) or not isinstance(s.get('frame_dir'), str)
                       or s['frame_dir'] in wanted]
        compressed = is_compressed(next((s for s in samples if isinstance(s, dict)), None))
        structural = check_structure(samples, compressed)
        if structural:
            dropped = {b.index for b in structural}
            samples = [s for i, s in enumerate(samples) if i not in dropped]
        return samples, splits, structural, compressed

    @staticmethod
    def _pack(samples: list, compressed: bool) -> PackedAnnotations:
        packed = PackedAnnotations.pack(samples, compressed)
        if packed.nbytes > _TRIM_ABOVE:
            release_freed_heap()
        return packed

    def _store_in_memory(self, path: str) -> tuple[PackedAnnotations, Optional[dict], list[BadSample]]:
        """The split's samples packed in memory, the file's split dict and the structural problems."""
        samples, splits, structural, compressed = self._read_checked(path, split_only=True)
        return self._pack(samples, compressed), splits, structural

    def _split_index(self, packed: PackedAnnotations, splits: Optional[dict], structural: list[BadSample],
                     path: str) -> tuple[np.ndarray, list[BadSample]]:
        """The ids in ``packed`` of the split's samples and the structural problems among them (a
        sample without a frame_dir belongs to no split, but is still reported)."""
        wanted = split_frame_dirs(splits, self.split, path)
        if wanted is None:
            return np.arange(len(packed)), structural
        index = np.flatnonzero(np.isin(packed.frame_dir, np.array(sorted(wanted), dtype=str)))
        structural = [b for b in structural if b.frame_dir is None or b.frame_dir in wanted]
        found = set(packed.frame_dir[index].tolist()) | {b.frame_dir for b in structural}
        missing = len(wanted) - len(found - {None})
        if missing > 0:
            print_log(f'{path}: {missing} frame_dir(s) of split {self.split!r} have no annotation',
                      logger='current', level=logging.WARNING)
        return index, structural

    @property
    def cache_folder(self) -> Optional[str]:
        """The folder of the memory-mapped cache (see ``cache``); None without one."""
        if not self.cache:
            return None
        return os.fspath(self.cache) if isinstance(self.cache, (str, os.PathLike)) else self.ann_file + '.cache'

    def _cached_store(self, path: str) -> tuple[PackedAnnotations, Optional[dict], list[BadSample]]:
        """The packed store, memory-mapped from the cache folder; (re)built there from the
        pickle when missing or older than it. Structural problems are kept in the cache
        and reported by every dataset that uses the samples concerned."""
        folder = self.cache_folder
        stat = os.stat(path)
        stamp = dict(version=_CACHE_VERSION, file=os.path.abspath(path), size=stat.st_size,
                     mtime_ns=stat.st_mtime_ns)
        if self.kpfile_dir is not None:
            stamp['kpfile_dir'] = os.path.abspath(self.kpfile_dir)
        meta = read_cache_meta(folder)
        if meta is not None and 'kpfile_paths' in meta:  # a kpfile may have changed since
            stamp['kpfiles'] = kpfiles_digest(meta['kpfile_paths'])
        if meta is None or meta.get('source') != stamp:
            samples, splits, structural, compressed = self._read_checked(path, split_only=False)
            known_bad = [list(vars(b).values()) for b in structural]
            if compressed and not all('keypoint' in s for s in samples):
                meta = build_kpfile_cache(folder, samples, stamp, path, self.kpfile_dir, self.num_joints,
                                          self.cache_workers, extra_meta=dict(split=splits), known_bad=known_bad)
                del samples
                release_freed_heap()
            else:
                packed = self._pack(samples, compressed)
                del samples
                meta = dict(source=stamp, split=splits, structural=known_bad)
                if not write_cache(folder, packed.save, meta):
                    return packed, splits, structural
                del packed
                release_freed_heap()
                print_log(f'{path}: wrote the packed cache {folder}', logger='current')
        return PackedAnnotations.load(folder), meta['split'], [BadSample(*b) for b in meta['structural']]

    def _valid_frame_ratio(self, packed: PackedAnnotations, index: np.ndarray) -> np.ndarray:
        """The fraction of valid frames of each sample in ``index`` (see ``valid_ratio``)."""
        ratio = np.ones(len(index))
        score = packed.keypoint_score if self.box_thr is not None else None
        for j, i in enumerate(index.tolist()):
            valid = None
            if self.box_thr is not None and packed.extras is not None:
                precounted = packed.extras.get(i).get('valid')  # the original 2D files' frame counts
                if isinstance(precounted, dict) and self.box_thr in precounted:
                    valid = int(precounted[self.box_thr])
            if valid is None and packed.compressed:  # frames with a box (scoring at least box_thr)
                frames = packed.frame_inds.view(i)
                if self.box_thr is not None:
                    frames = frames[packed.box_score.view(i) >= self.box_thr]
                valid = len(np.unique(frames))
            elif valid is None and score is not None:  # M, T, V -> T: some person's mean score reaches box_thr
                valid = (score.view(i).mean(axis=2, dtype=np.float32) >= self.box_thr).any(axis=0).sum()
            elif valid is None:  # M, T, V, C -> T: some joint is non-zero
                valid = (packed.keypoint.view(i) != 0).any(axis=(0, 2, 3)).sum()
            ratio[j] = valid / packed.total_frames[i]
        return ratio

    # ------------------------------------------------------------------ access
    @force_full_init
    def __len__(self) -> int:
        return len(self._base_index) * self.repeat

    @property
    def num_samples(self) -> int:
        """Distinct samples (``len(self)`` counts each ``repeat`` times)."""
        self.full_init()
        return len(self._base_index)

    @property
    def packed_nbytes(self) -> int:
        """The bytes of the packed annotations (of the whole file, with a cache)."""
        self.full_init()
        return self._packed.nbytes

    @force_full_init
    def get_data_info(self, idx: int) -> dict:
        """The results dict for item ``idx`` (a fresh dict with fresh arrays)."""
        n = len(self)
        if not -n <= idx < n:
            raise IndexError(f'PoseDataset index {idx} is out of range for {n} items')
        idx = int(idx) % n
        info = self._packed.get(int(self._base_index[idx % len(self._base_index)]))
        if self._packed.compressed and 'keypoint' not in info:  # the direct path: read its kpfile
            kpfile = resolve_kpfile(info['raw_file'], self.ann_file, self.kpfile_dir)
            info['keypoint'] = video_keypoint(read_kpfile(kpfile), kpfile, info['frame_dir'],
                                              len(info['frame_inds']), self.num_joints)
        return self.pipeline_input(info, idx)

    def pipeline_input(self, sample: dict, sample_idx: int = 0) -> dict:
        """``sample`` (a dict as in an annotation file) with the fields this dataset adds for its
        pipeline: ``test_mode``, ``start_index``, ``modality``, ``sample_idx`` (and ``anno_inds``)."""
        info = dict(sample)
        info['test_mode'] = self.test_mode
        info['start_index'] = self.start_index
        info['modality'] = self.modality
        info['sample_idx'] = sample_idx
        if self.box_thr is not None and 'box_score' in info:
            info['anno_inds'] = np.asarray(info['box_score']) >= self.box_thr
        return info

    def prepare_sample(self, sample: dict) -> dict:
        """Run this dataset's pipeline on a sample that is not in its file (inference on new data):
        the same steps, in the same way, as for the dataset's own samples."""
        out = self.pipeline(self.pipeline_input(sample))
        if out is None:
            raise ValueError(f'the pipeline dropped sample {sample.get("frame_dir")!r} (a transform returned None)')
        return out

    @force_full_init
    def get_cat_ids(self, idx: int) -> list[int]:
        n = len(self)
        return [int(self._packed.label[self._base_index[int(idx) % n % len(self._base_index)]])]

    def _rand_another(self) -> int:
        return int(self._rng.integers(len(self)))

    # ------------------------------------------------------------------ subsets
    def _pick(self, index: np.ndarray, indices: Union[int, Sequence[int]]) -> np.ndarray:
        if isinstance(indices, (int, np.integer)):
            return index[:indices] if indices >= 0 else index[indices:]
        indices = np.asarray(indices, dtype=np.int64)
        if indices.size and not (-len(index) <= indices.min() and indices.max() < len(index)):
            raise IndexError(f'PoseDataset subset indices must lie in [0, {len(index)})')
        return index[indices]

    @force_full_init
    def get_subset_(self, indices: Union[int, Sequence[int]]) -> None:
        """Keep only ``indices`` (of the current items, repeats included); then ``repeat`` is 1."""
        self._base_index = self._pick(np.tile(self._base_index, self.repeat), indices)
        self.repeat = 1

    @force_full_init
    def get_subset(self, indices: Union[int, Sequence[int]]) -> 'PoseDataset':
        """A copy holding ``indices`` only; it shares the (read-only) packed store."""
        other = self.__class__.__new__(self.__class__)
        other.__dict__.update(self.__dict__)
        other.bad_samples = list(self.bad_samples)
        other.get_subset_(indices)
        return other

    def __repr__(self) -> str:
        size = len(self) if self._fully_initialized else 'not loaded yet'
        return (f'{self.__class__.__name__}(ann_file={self.ann_file!r}, split={self.split!r}, '
                f'repeat={self.repeat}, test_mode={self.test_mode}, len={size})')


def prepare_kinetics_cache(ann_file: str, kpfile_dir: Optional[str] = None, cache=True,
                           num_workers: Optional[int] = None, on_bad_sample: str = 'raise') -> dict:
    """Build (or check) the cache a config with ``PoseDataset(cache=..., kpfile_dir=...)`` uses,
    by building that dataset (it decides every detail of the cache); returns a summary for
    ``tools/data/k400_cache.py``."""
    ds = PoseDataset(ann_file, kpfile_dir=kpfile_dir, cache=cache, cache_workers=num_workers,
                     on_bad_sample=on_bad_sample)
    return dict(folder=ds.cache_folder, videos=ds.num_samples, skipped=len(ds.bad_samples),
                bad_samples=ds.bad_samples, nbytes=ds.packed_nbytes)
