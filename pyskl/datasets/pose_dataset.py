"""``PoseDataset``: skeleton sequences from an annotation pickle.

The file (see README, "Datasets and annotation format") is a dict
``{'split': {name: [frame_dir, ...]}, 'annotations': [sample, ...]}``; each
sample holds ``frame_dir``, ``label``, ``total_frames``, ``keypoint``
``M x T x V x C`` and, for 2D data, ``keypoint_score`` ``M x T x V``,
``img_shape``, ``original_shape``.
"""
import logging
import os
from typing import Callable, Optional, Sequence, Union

import numpy as np
from mmengine.dataset import BaseDataset, force_full_init
from mmengine.logging import print_log
from mmengine.registry import DefaultScope

from pyskl.registry import DATASETS
from pyskl.utils.safe_pickle import load_pickle
from .annotation_checks import BadSample, check_structure, check_values
from .packed_annotations import PackedAnnotations, release_freed_heap
from .transforms.compose import Compose

_SHOWN_BAD_SAMPLES = 5  # bad samples quoted in the log in 'skip' mode
_TRIM_ABOVE = 64 * 2**20  # return freed heap to the OS after packing more than this many bytes


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
    ``tools/benchmarks/dataset_memory.py`` measures worker memory.

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
            has ``box_score`` (per person and frame), ``anno_inds =
            box_score >= box_thr`` is added to it, as the original does.
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
                 pipeline: Sequence[Union[dict, Callable]] = (),
                 split: Optional[str] = None,
                 valid_ratio: Optional[float] = None,
                 box_thr: Optional[float] = None,
                 repeat: int = 1,
                 label_map: Optional[Union[str, os.PathLike]] = None,
                 num_classes: Optional[int] = None,
                 num_joints: Optional[int] = None,
                 layout: Union[str, dict, None] = None,
                 on_bad_sample: str = 'raise',
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
        self.start_index = start_index
        self.modality = modality
        self.label_map = None if label_map is None else os.fspath(label_map)
        if memcached:
            print_log('PoseDataset: memcached is not needed (the annotations are held in packed numpy '
                      'arrays shared by DataLoader workers); ignoring it', logger='current', level=logging.WARNING)
        self.num_joints, self._joints_source = self._expected_joints(num_joints, layout)

        metainfo = dict(metainfo or {})
        if self.label_map is not None:
            metainfo.setdefault('classes', self._read_label_map(self.label_map))
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
            self.pipeline = Compose(list(pipeline))
        if not lazy_init:
            self.full_init()

    # ------------------------------------------------------------------ set-up
    @staticmethod
    def _expected_joints(num_joints, layout) -> tuple[Optional[int], str]:
        if layout is None:
            return num_joints, '' if num_joints is None else f'num_joints is {num_joints}'
        from pyskl.models.graph import get_layout  # the model package is only needed for this
        layout = get_layout(layout)
        if num_joints is not None and num_joints != layout.num_node:
            raise ValueError(f'PoseDataset: num_joints={num_joints} contradicts the graph layout '
                             f'{layout.name!r} ({layout.num_node} joints)')
        return layout.num_node, f'the graph layout {layout.name!r} has {layout.num_node}'

    @staticmethod
    def _read_label_map(path: str) -> tuple:
        with open(path, encoding='utf-8') as f:
            names = [line.strip() for line in f]
        while names and not names[-1]:
            names.pop()
        if not names:
            raise ValueError(f'{path}: the label map is empty (expected one class name a line)')
        if '' in names:
            raise ValueError(f'{path}: line {names.index("") + 1} of the label map is empty')
        return tuple(names)

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

    def _select_split(self, data, path: str) -> list:
        if isinstance(data, dict):
            if 'annotations' not in data:
                raise KeyError(f"{path}: expected a dict with 'annotations' (and 'split'), "
                               f'found keys {sorted(map(str, data))}')
            samples = data['annotations']
        elif isinstance(data, list):
            samples = data
        else:
            raise TypeError(f"{path}: expected a dict with 'split' and 'annotations', got {type(data).__name__}")
        if not isinstance(samples, list):
            raise TypeError(f"{path}: 'annotations' must be a list of dicts, got {type(samples).__name__}")
        if self.split is None:
            return samples
        splits = data.get('split') if isinstance(data, dict) else None
        if not isinstance(splits, dict):
            raise KeyError(f"{path}: split={self.split!r} was asked for, but the file has no 'split' dict")
        if self.split not in splits:
            raise KeyError(f'{path}: no split {self.split!r}; the file has splits {sorted(splits)}')
        wanted = set(splits[self.split])
        chosen = [s for s in samples if not isinstance(s, dict) or s.get('frame_dir') in wanted]
        missing = len(wanted) - len({s.get('frame_dir') for s in chosen if isinstance(s, dict)})
        if missing:
            print_log(f'{path}: {missing} frame_dir(s) of split {self.split!r} have no annotation',
                      logger='current', level=logging.WARNING)
        return chosen

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
        path = self.ann_file
        samples = self._select_split(load_pickle(path), path)

        bad = check_structure(samples)
        self._bad(bad, path)
        if bad:
            dropped = {b.index for b in bad}
            samples = [s for i, s in enumerate(samples) if i not in dropped]
        precounted = self._precounted_valid_frames(samples)
        packed = PackedAnnotations.pack(samples)
        del samples
        if packed.nbytes > _TRIM_ABOVE:
            release_freed_heap()

        bad = check_values(packed, self.num_joints, self._joints_source, self.num_classes)
        self._bad(bad, path)
        keep = np.ones(len(packed), dtype=bool)
        keep[[b.index for b in bad]] = False

        if self.valid_ratio:
            ratio = self._valid_frame_ratio(packed, precounted, keep)
            low = keep & (ratio < self.valid_ratio)
            self.num_dropped_by_valid_ratio = int(low.sum())
            keep &= ~low
            print_log(f'{path}: valid_ratio={self.valid_ratio} dropped {self.num_dropped_by_valid_ratio} '
                      f'sample(s) with fewer valid frames', logger='current')
        keep = np.flatnonzero(keep)
        print_log(f'{path}: {len(keep)} samples' + (f' of split {self.split!r}' if self.split else '')
                  + f', {packed.nbytes / 2**20:.1f} MiB packed', logger='current')
        return packed, keep

    def _precounted_valid_frames(self, samples: list[dict]) -> Optional[np.ndarray]:
        """The original 2D files' ``valid[box_thr]`` frame counts (-1 where absent)."""
        if not self.valid_ratio or self.box_thr is None:
            return None
        counts = np.full(len(samples), -1, dtype=np.int64)
        for i, s in enumerate(samples):
            valid = s.get('valid')
            if isinstance(valid, dict) and self.box_thr in valid:
                counts[i] = int(valid[self.box_thr])
        return counts

    def _valid_frame_ratio(self, packed: PackedAnnotations, precounted: Optional[np.ndarray],
                           keep: np.ndarray) -> np.ndarray:
        ratio = np.ones(len(packed))
        score = packed.keypoint_score if self.box_thr is not None else None
        for i in np.flatnonzero(keep):
            if precounted is not None and precounted[i] >= 0:
                valid = precounted[i]
            elif score is not None:  # M, T, V -> T: some person's mean joint score reaches box_thr
                valid = (score.view(i).mean(axis=2, dtype=np.float32) >= self.box_thr).any(axis=0).sum()
            else:  # M, T, V, C -> T: some joint is non-zero
                valid = (packed.keypoint.view(i) != 0).any(axis=(0, 2, 3)).sum()
            ratio[i] = valid / packed.total_frames[i]
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

    @force_full_init
    def get_data_info(self, idx: int) -> dict:
        """The results dict for item ``idx`` (a fresh dict with fresh arrays)."""
        n = len(self)
        if not -n <= idx < n:
            raise IndexError(f'PoseDataset index {idx} is out of range for {n} items')
        idx = int(idx) % n
        info = self._packed.get(int(self._base_index[idx % len(self._base_index)]))
        info['test_mode'] = self.test_mode
        info['start_index'] = self.start_index
        info['modality'] = self.modality
        info['sample_idx'] = idx
        if self.valid_ratio and self.box_thr is not None and 'box_score' in info:
            info['anno_inds'] = np.asarray(info['box_score']) >= self.box_thr
        return info

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
