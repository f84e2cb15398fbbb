"""Checks that catch a bad annotation sample at load time, not mid-training.

Two stages: :func:`check_structure` walks the loaded dicts once (types and
presence of fields: what must hold before the arrays can be packed), and
:func:`check_values` runs vectorised over the packed arrays (shapes, frame
counts, labels, NaN/inf), so 100k samples take well under a second beyond the
walk itself.
"""
from dataclasses import dataclass
from typing import Optional

import numpy as np

from .kpfiles import box_problem
from .packed_annotations import PackedAnnotations

REQUIRED_FIELDS = ('frame_dir', 'label', 'total_frames', 'keypoint')
_FINITE_CHUNK = 1 << 24  # elements per np.isfinite call: bounds the temporary mask
_HALF_CHUNK = 1 << 18  # float16 elements per bit test: fits the CPU cache


@dataclass(frozen=True)
class BadSample:
    """One problem with one sample; ``index`` is its position in the checked sequence."""
    index: int
    frame_dir: Optional[str]
    field: str
    problem: str

    def message(self, file: str) -> str:
        who = repr(self.frame_dir) if self.frame_dir is not None else f'#{self.index} (it has no frame_dir)'
        return f'{file}: sample {who} field {self.field!r}: {self.problem}'


def _is_int(value) -> bool:
    if type(value) is int:  # the common case, first: this runs twice per sample
        return True
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _array_problem(value, ndim: int, layout: str) -> Optional[str]:
    if not isinstance(value, np.ndarray):
        return f'expected a numpy array {layout}, got {type(value).__name__}'
    if value.ndim != ndim:
        return f'expected {ndim} dimensions {layout}, got shape {tuple(value.shape)}'
    if value.dtype.kind not in 'fiu':
        return f'expected a numeric array, got dtype {value.dtype}'
    return None


def check_structure(samples: list, compressed: bool = False) -> list[BadSample]:
    """The first structural problem of each sample (at most one per sample).

    ``compressed``: the samples are in the Kinetics form (see :mod:`.kpfiles`):
    per-box ``frame_inds`` and ``box_score``, ``keypoint`` in a kpfile.
    """
    bad = []
    required = ('frame_dir', 'label', 'total_frames') if compressed else REQUIRED_FIELDS
    has_score = not compressed and any(isinstance(s, dict) and 'keypoint_score' in s for s in samples)
    for i, sample in enumerate(samples):
        if not isinstance(sample, dict):
            bad.append(BadSample(i, None, 'annotations', f'expected a dict per sample, got {type(sample).__name__}'))
            continue
        frame_dir = sample.get('frame_dir')
        name = frame_dir if isinstance(frame_dir, str) else None
        problem = None
        for field in required:
            if field not in sample:
                problem = field, 'missing'
                break
        if problem is None and not isinstance(frame_dir, str):
            problem = 'frame_dir', f'expected a str, got {type(frame_dir).__name__}'
        if problem is None:
            for field in ('label', 'total_frames'):
                value = sample[field]
                if not _is_int(value):
                    problem = field, f'expected an int, got {type(value).__name__} {value!r:.40}'
                    break
        if problem is None and compressed:
            problem = box_problem(sample)
        elif problem is None:
            msg = _array_problem(sample['keypoint'], 4, 'M x T x V x C')
            if msg:
                problem = 'keypoint', msg
        if problem is None and has_score:
            if 'keypoint_score' not in sample:
                problem = 'keypoint_score', 'missing (other samples of the file have it)'
            else:
                msg = _array_problem(sample['keypoint_score'], 3, 'M x T x V')
                if msg:
                    problem = 'keypoint_score', msg
        if problem is None:
            problem = _image_shape_problem(sample)
        if problem is not None:
            bad.append(BadSample(i, name, *problem))
    return bad


def _image_shape_problem(sample: dict) -> Optional[tuple[str, str]]:
    """``img_shape`` and ``original_shape`` (2D data): ``(height, width)``, positive ints."""
    for field in ('img_shape', 'original_shape'):
        if field not in sample:
            continue
        value = sample[field]
        if (not isinstance(value, (tuple, list, np.ndarray)) or len(value) != 2
                or not all(_is_int(v) and v > 0 for v in value)):
            return field, f'expected (height, width), two positive ints, got {value!r:.60}'
    return None


def _most_common(values: np.ndarray) -> int:
    uniq, counts = np.unique(values, return_counts=True)
    return int(uniq[np.argmax(counts)])


def _nonfinite(ragged) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Samples with NaN/inf values: (sample ids, counts, first flat index of each)."""
    found = []
    data = ragged.data
    half = data.dtype == np.float16
    step = _HALF_CHUNK if half else _FINITE_CHUNK
    exponent = np.empty(step, np.uint16) if half else None
    for start in range(0, data.size, step):
        chunk = data[start:start + step]
        if half:  # float16 NaN/inf: all exponent bits set; 6x faster than np.isfinite, which converts
            e = exponent[:chunk.size]
            np.bitwise_and(chunk.view(np.uint16), 0x7c00, out=e)
            if e.max(initial=0) != 0x7c00:
                continue
        if not np.isfinite(chunk).all():
            found.append(np.flatnonzero(~np.isfinite(chunk)) + start)
    if not found:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    flat = np.concatenate(found)
    owner = ragged.sample_of(flat)
    ids, first, counts = np.unique(owner, return_index=True, return_counts=True)
    return ids, counts, flat[first]


def check_values(packed: PackedAnnotations, num_joints: Optional[int] = None, joints_source: str = '',
                 num_classes: Optional[int] = None, index: Optional[np.ndarray] = None) -> list[BadSample]:
    """Vectorised value checks over packed samples; at most one problem per sample.

    Args:
        num_joints: the joint count V every sample must have; where None, samples
            must agree with the most common V of the checked samples.
        joints_source: where ``num_joints`` comes from, for the message
            (e.g. "the graph layout 'nturgb+d' has 25").
        num_classes: labels must lie in ``[0, num_classes)``; where None, only >= 0.
        index: the (sorted) ids of the samples to check; all where None. The
            ``index`` of each returned :class:`BadSample` is a sample id.
    """
    ids = np.arange(len(packed)) if index is None else np.asarray(index, dtype=np.int64)
    if len(ids) == 0:
        return []
    problems: dict[int, BadSample] = {}

    def report(mask, field, describe):
        """``mask`` over the checked samples; ``describe(j)`` for the j-th of them."""
        for j in np.flatnonzero(mask).tolist():
            i = int(ids[j])
            if i not in problems:
                problems[i] = BadSample(i, str(packed.frame_dir[i]), field, describe(j))

    if packed.compressed:
        _check_compressed(packed, ids, report, num_joints, joints_source, num_classes)
        return sorted(problems.values(), key=lambda b: b.index)

    shapes = np.asarray(packed.keypoint.shapes[ids])  # (n, 4): M, T, V, C
    M, T, V, C = shapes.T
    shape_of = lambda j: tuple(int(x) for x in shapes[j])  # noqa: E731

    report(T == 0, 'keypoint', lambda j: f'no frames (shape {shape_of(j)})')
    report(M == 0, 'keypoint', lambda j: f'no persons (shape {shape_of(j)})')
    if num_joints is not None:
        source = joints_source or f'num_joints is {num_joints}'
        report(V != num_joints, 'keypoint', lambda j: f'{V[j]} joints, but {source}')
    else:
        common = _most_common(V)
        report(V != common, 'keypoint',
               lambda j: f'{V[j]} joints, but most samples of the file have {common} '
                         '(give num_joints or layout to say which is right)')
    if packed.keypoint_score is not None:  # 2D data: x, y in keypoint, the confidence in keypoint_score
        report(C != 2, 'keypoint',
               lambda j: f'{C[j]} coordinates per joint, but a sample with keypoint_score holds 2D keypoints '
                         f'M x T x V x 2 (x, y; shape {shape_of(j)})')
    common_c = _most_common(C)
    report(C != common_c, 'keypoint',
           lambda j: f'{C[j]} coordinates per joint, but most samples of the file have {common_c}')
    tf = np.asarray(packed.total_frames[ids])
    report(tf != T, 'total_frames', lambda j: f'{tf[j]}, but keypoint has {T[j]} frames')
    _check_labels(packed, ids, report, num_classes)
    score = packed.keypoint_score
    if score is not None:
        score_shapes = np.asarray(score.shapes[ids])
        report((score_shapes != shapes[:, :3]).any(axis=1), 'keypoint_score',
               lambda j: f'shape {tuple(int(x) for x in score_shapes[j])} does not match keypoint '
                         f'{shape_of(j)[:3]}')

    _check_finite(ids, report, (('keypoint', packed.keypoint), ('keypoint_score', score)),
                  ('person', 'frame', 'joint', 'coordinate'))
    return sorted(problems.values(), key=lambda b: b.index)


def _check_labels(packed, ids, report, num_classes):
    label = np.asarray(packed.label[ids])
    report(label < 0, 'label', lambda j: f'{label[j]} is negative')
    if num_classes is not None:
        report(label >= num_classes, 'label',
               lambda j: f'{label[j]} is outside [0, {num_classes}) (num_classes={num_classes})')


def _check_compressed(packed, ids, report, num_joints, joints_source, num_classes):
    """Value checks of the Kinetics form: boxes, labels, joints where the keypoints are packed."""
    tf = np.asarray(packed.total_frames[ids])
    report(tf < 1, 'total_frames', lambda j: f'{tf[j]}: a video needs at least one frame')
    _check_labels(packed, ids, report, num_classes)
    if packed.keypoint is None:  # in the kpfiles: checked as each is read
        return
    shapes = np.asarray(packed.keypoint.shapes[ids])  # (n, 3): N_boxes, V, 3
    V = shapes[:, 1]
    if num_joints is None:
        num_joints = _most_common(V[shapes[:, 0] > 0]) if (shapes[:, 0] > 0).any() else None
        source = f'most samples of the file have {num_joints}'
    else:
        source = joints_source or f'num_joints is {num_joints}'
    if num_joints is not None:
        report((V != num_joints) & (shapes[:, 0] > 0), 'keypoint', lambda j: f'{V[j]} joints, but {source}')
    _check_finite(ids, report, (('keypoint', packed.keypoint), ), ('box', 'joint', 'channel'))


def _check_finite(ids, report, fields, axes):
    for field, ragged in fields:
        if ragged is None:
            continue
        owners, counts, first = _nonfinite(ragged)
        pos = np.searchsorted(ids, owners).clip(max=len(ids) - 1)
        checked = ids[pos] == owners  # owners among the checked samples
        mask = np.zeros(len(ids), dtype=bool)
        mask[pos[checked]] = True
        where = dict(zip(pos[checked].tolist(), zip(counts[checked].tolist(), first[checked].tolist())))

        def describe(j, ragged=ragged, where=where):
            count, flat = where[j]
            i = int(ids[j])
            at = np.unravel_index(flat - int(ragged.offsets[i]), tuple(int(x) for x in ragged.shapes[i]))
            at = ', '.join(f'{n} {int(p)}' for n, p in zip(axes, at))
            return f'{count} NaN/inf value(s), the first at {at}'

        report(mask, field, describe)
