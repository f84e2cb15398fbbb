"""Temporal sampling: which frames of a sequence make a clip, and taking them.

``UniformSampleFrames`` splits the sequence into ``clip_len`` equal segments
and takes one frame from each (PYSKL's uniform sampling); ``PoseDecode`` then
takes those frames. In test mode the choice is random but seeded afresh for
every sample (seed 255) from a generator of the transform's own, so a sample
always gives the same clips and numpy's global random state is untouched.
``UniformSampleDecode`` (what the DG-STGCN 3D configs use) samples and takes
the frames in one step, with the original's slightly different rules for
short sequences (see its docstring). The reference fixtures check both draw
for draw.
"""
from typing import Optional, Sequence, Union

import numpy as np
from mmcv.transforms import BaseTransform

from pyskl.registry import TRANSFORMS
from .base import LocalRandomMixin, check_seed, format_repr, get_skeleton, sample_name


def _uniform_indices(num_frames: int, clip_len: int, rng, legacy: bool) -> np.ndarray:
    """``clip_len`` sorted frame indices spread uniformly over ``num_frames >= clip_len`` frames.

    ``rng`` is a ``np.random.RandomState`` where ``legacy`` (test mode, to
    reproduce the original's draws), a ``np.random.Generator`` otherwise.
    """
    if num_frames < 2 * clip_len:
        # Take every frame once, then skip (num_frames - clip_len) of the clip_len + 1
        # gaps between them: each skipped gap shifts the later indices by one.
        basic = np.arange(clip_len)
        skip = rng.choice(clip_len + 1, num_frames - clip_len, replace=False)
        offset = np.zeros(clip_len + 1, dtype=np.int64)
        offset[skip] = 1
        return basic + np.cumsum(offset)[:-1]
    # One random frame from each of clip_len segments [bids[k], bids[k + 1]).
    bids = np.array([k * num_frames // clip_len for k in range(clip_len + 1)])
    bsize = np.diff(bids)
    offset = rng.randint(bsize) if legacy else rng.integers(bsize)
    return bids[:clip_len] + offset


def _stretched_indices(num_frames: int, clip_len: int, rng) -> np.ndarray:
    """``clip_len`` sorted indices over ``num_frames < clip_len`` frames, in order.

    Every frame is taken ``clip_len // num_frames`` times, and
    ``clip_len % num_frames`` frames drawn at random once more: the motion keeps
    its direction and pace, as in CTR-GCN's sampling of short NW-UCLA sequences.
    ``rng``: a ``np.random.RandomState`` or ``np.random.Generator`` (both have ``choice``).
    """
    counts = np.full(num_frames, clip_len // num_frames)
    counts[rng.choice(num_frames, clip_len % num_frames, replace=False)] += 1
    return np.repeat(np.arange(num_frames), counts)


@TRANSFORMS.register_module()
class UniformSampleFrames(LocalRandomMixin, BaseTransform):
    """Sample ``num_clips`` clips of ``clip_len`` frames each, uniformly over the sequence.

    A sequence shorter than ``clip_len`` is looped (``short='loop'``, the
    original's rule) or stretched in order (``short='stretch'``: each frame
    repeated about ``clip_len / total_frames`` times, so that a short "sit
    down" never turns into "sit down, stand up"). Each clip is first
    restricted to a random window of ``ratio * total_frames`` consecutive
    frames, ``ratio`` uniform in ``p_interval`` (the whole sequence with the
    default ``p_interval=1``).

    Test mode makes the original's draws, in its order, from a
    ``np.random.RandomState`` seeded with ``seed`` afresh for every sample
    (the original seeds numpy's global generator instead): per clip the
    window's ratio and offset, then the frames. A window shorter than
    ``clip_len`` is not placed at random there: clip i loops from frame
    ``i * window // num_clips`` (from frame i when ``window < num_clips``).

    Required Keys:
        - total_frames (or keypoint, whose T is used)
        - test_mode (optional, default False; see the ``test_mode`` argument)
        - start_index (optional, default 0)

    Added Keys:
        - frame_inds: ``num_clips * clip_len`` ints, clip after clip
        - clip_len, frame_interval (None), num_clips

    Args:
        clip_len: frames per clip.
        num_clips: clips per sample.
        p_interval: the fraction of the sequence a clip is drawn from, a range
            ``(low, high)`` or a number ``p`` meaning ``(p, 1)``.
        seed: the test-mode seed, applied afresh to every sample.
        seed_train: seed of the training-mode generator (None: OS entropy).
        short: ``'loop'`` or ``'stretch'``, what becomes of a sequence (or
            window) shorter than ``clip_len``.
        test_mode: None (default): the sample's ``test_mode`` (the dataset's)
            decides; True / False: this transform always samples in test / training
            mode (mmaction2's argument). Test mode makes the original PYSKL's draws,
            so its frames can differ from mmaction2's, which draws no window.
    """

    SHORT_RULES = ('loop', 'stretch')

    def __init__(self, clip_len: int, num_clips: int = 1, p_interval: Union[float, Sequence[float]] = 1,
                 seed: int = 255, seed_train: Optional[int] = None, short: str = 'loop',
                 test_mode: Optional[bool] = None):
        if isinstance(clip_len, bool) or not isinstance(clip_len, (int, np.integer)) or clip_len < 1:
            raise ValueError(f'{type(self).__name__}: clip_len must be a positive integer, got {clip_len!r}')
        if isinstance(num_clips, bool) or not isinstance(num_clips, (int, np.integer)) or num_clips < 1:
            raise ValueError(f'{type(self).__name__}: num_clips must be a positive integer, got {num_clips!r}')
        if isinstance(p_interval, (int, float)):
            p_interval = (float(p_interval), 1.0)
        p_interval = tuple(float(p) for p in p_interval)
        if len(p_interval) != 2 or not 0 < p_interval[0] <= p_interval[1] <= 1:
            raise ValueError(f'{type(self).__name__}: p_interval must be p or (low, high) with '
                             f'0 < low <= high <= 1, got {p_interval!r}')
        if short not in self.SHORT_RULES:
            raise ValueError(f'{type(self).__name__}: short must be one of {self.SHORT_RULES}, got {short!r}')
        if test_mode is not None and not isinstance(test_mode, (bool, np.bool_)):
            raise ValueError(f'{type(self).__name__}: test_mode must be None, True or False, got {test_mode!r}')
        self.test_mode = None if test_mode is None else bool(test_mode)
        self.short = short
        self.clip_len = int(clip_len)
        self.num_clips = int(num_clips)
        self.p_interval = p_interval
        self.test_seed = check_seed(seed, 'seed')
        self.seed = check_seed(seed_train, 'seed_train')

    def _clip_indices(self, num_frames: int, rng, spread_short: bool = False,
                      wrap_in_window: bool = False) -> np.ndarray:
        """Indices of every clip (before the final ``mod total_frames``), clip after clip.

        Each clip first draws its window, as the original does in both modes: a
        ratio in ``p_interval`` (one ``rand``), then the window's offset (one
        ``randint``; with the default ``p_interval=1`` the window is the whole
        sequence). ``rng``: this transform's ``np.random.Generator`` in training,
        a ``np.random.RandomState`` seeded afresh in test mode (the original's
        draws). A window shorter than ``clip_len`` (``short='loop'``) is looped
        from a start that is drawn, or where ``spread_short`` (the test mode of
        ``UniformSampleFrames``) spread without a draw: clip i starts at
        ``i * window // num_clips`` (at ``i`` when ``window < num_clips``).
        ``wrap_in_window``: loop within the window (UniformSampleDecode) rather
        than over the whole sequence.
        """
        legacy = isinstance(rng, np.random.RandomState)
        rand = rng.rand if legacy else rng.random
        randint = rng.randint if legacy else rng.integers
        L = self.clip_len
        low, high = self.p_interval
        clips = []
        for i in range(self.num_clips):
            ratio = rand() * (high - low) + low
            window = max(1, int(ratio * num_frames))
            off = randint(num_frames - window + 1)
            if window < L and self.short == 'stretch':
                inds = _stretched_indices(window, L, rng)
            elif window < L:
                if spread_short:
                    start = i if window < self.num_clips else i * window // self.num_clips
                else:
                    start = randint(0, window)
                inds = np.arange(L) + start
                if wrap_in_window:
                    inds %= window
            else:
                inds = _uniform_indices(window, L, rng, legacy=legacy)
            clips.append(inds + off)
        return np.concatenate(clips)

    def _indices(self, num_frames: int, test_mode: bool) -> np.ndarray:
        if test_mode:
            # the original's per-sample np.random.seed(seed), as a generator of our own
            return self._clip_indices(num_frames, np.random.RandomState(self.test_seed), spread_short=True)
        return self._clip_indices(num_frames, self.rng)

    def _num_frames(self, results: dict) -> int:
        num_frames = results.get('total_frames')
        if num_frames is None:
            num_frames = get_skeleton(results, transform=type(self).__name__).shape[1]
        if isinstance(num_frames, bool) or not isinstance(num_frames, (int, np.integer)) or num_frames < 1:
            raise ValueError(f'{type(self).__name__}: {sample_name(results)} has total_frames={num_frames!r}; '
                             'a sequence needs at least one frame')
        return int(num_frames)

    def _set_keys(self, results: dict, inds: np.ndarray) -> None:
        results['frame_inds'] = inds.astype(np.int64)
        results['clip_len'] = self.clip_len
        results['frame_interval'] = None
        results['num_clips'] = self.num_clips

    def _test_mode(self, results: dict) -> bool:
        return bool(results.get('test_mode', False)) if self.test_mode is None else self.test_mode

    def transform(self, results: dict) -> dict:
        num_frames = self._num_frames(results)
        inds = self._indices(num_frames, self._test_mode(results))
        self._set_keys(results, np.mod(inds, num_frames) + results.get('start_index', 0))
        return results

    def __repr__(self) -> str:
        extra = {} if self.test_mode is None else dict(test_mode=self.test_mode)  # as written in the config
        return format_repr(self, clip_len=self.clip_len, num_clips=self.num_clips, p_interval=self.p_interval,
                           seed=self.test_seed, seed_train=self.seed, short=self.short, **extra)


@TRANSFORMS.register_module()
class UniformSample(UniformSampleFrames):
    """Another name for :class:`UniformSampleFrames` (the original registers both)."""


def decode(results: dict, transform: str) -> dict:
    """Take ``frame_inds`` (+ ``offset``) of ``keypoint`` and ``keypoint_score`` as float32."""
    if 'frame_inds' not in results:
        results['frame_inds'] = np.arange(results['total_frames'])
    frame_inds = np.asarray(results['frame_inds'])
    if frame_inds.ndim != 1:
        frame_inds = np.squeeze(frame_inds)
        results['frame_inds'] = frame_inds
    frame_inds = frame_inds + results.get('offset', 0)
    for key in ('keypoint', 'keypoint_score'):
        if key not in results:
            continue
        data = np.asarray(results[key])
        if data.ndim < 2:
            raise ValueError(f'{transform}: {sample_name(results)}: field {key!r} must be M x T x ..., '
                             f'got shape {data.shape}')
        T = data.shape[1]
        if frame_inds.size and (frame_inds.min() < 0 or frame_inds.max() >= T):
            raise ValueError(f'{transform}: {sample_name(results)}: frame indices '
                             f'[{frame_inds.min()}, {frame_inds.max()}] are outside field {key!r} '
                             f'with {T} frames')
        # M x T x ... -> M x len(frame_inds) x ...
        results[key] = data[:, frame_inds].astype(np.float32)
    return results


@TRANSFORMS.register_module()
class PoseDecode(BaseTransform):
    """Take the sampled frames of the skeleton.

    Required Keys:
        - keypoint (M x T x V x C) and/or keypoint_score (M x T x V)
        - frame_inds (optional: all ``total_frames`` frames), offset (optional)

    Modified Keys:
        - keypoint, keypoint_score: only the frames ``frame_inds``, float32
    """

    def transform(self, results: dict) -> dict:
        return decode(results, type(self).__name__)

    def __repr__(self) -> str:
        return format_repr(self)


@TRANSFORMS.register_module()
class UniformSampleDecode(UniformSampleFrames):
    """Sample clips as :class:`UniformSampleFrames` and take their frames in one step.

    Same arguments. It differs from ``UniformSampleFrames`` + ``PoseDecode``
    as the original does, which its checkpoints were evaluated with:

    - a window shorter than ``clip_len`` (with the default ``short='loop'``)
      loops within the window, from a random start in test mode as well
      (drawn from the generator seeded with ``seed`` afresh for every sample);
      from ``clip_len`` frames on, both pick the same frames;
    - ``keypoint_score`` becomes the last channel of ``keypoint``;
      ``start_index`` is not used.

    Required Keys:
        - keypoint (M x T x V x C), keypoint_score (optional, M x T x V)
        - total_frames (optional; must equal T where given), test_mode (optional)

    Added Keys:
        - frame_inds, clip_len, frame_interval (None), num_clips

    Modified Keys:
        - keypoint: M x (num_clips * clip_len) x V x C(+1 with a score), float32

    Removed Keys:
        - keypoint_score
    """

    def _indices(self, num_frames: int, test_mode: bool) -> np.ndarray:
        rng = np.random.RandomState(self.test_seed) if test_mode else self.rng
        return self._clip_indices(num_frames, rng, wrap_in_window=True)

    def transform(self, results: dict) -> dict:
        name = type(self).__name__
        keypoint = get_skeleton(results, transform=name)
        num_frames = keypoint.shape[1]
        if results.get('total_frames', num_frames) != num_frames:
            raise ValueError(f'{name}: {sample_name(results)}: total_frames={results["total_frames"]} but '
                             f'keypoint has {num_frames} frames')
        if num_frames < 1:
            raise ValueError(f'{name}: {sample_name(results)}: keypoint has no frames (shape {keypoint.shape})')
        if 'keypoint_score' in results:
            score = np.asarray(results.pop('keypoint_score'))
            if score.shape != keypoint.shape[:-1]:
                raise ValueError(f'{name}: {sample_name(results)}: keypoint_score {score.shape} does not '
                                 f'match keypoint {keypoint.shape}')
            # M x T x V x C (+ M x T x V) -> M x T x V x (C + 1)
            keypoint = np.concatenate([keypoint, score[..., None].astype(keypoint.dtype)], axis=-1)
        inds = self._indices(num_frames, self._test_mode(results))
        self._set_keys(results, inds)
        # M x T x V x C -> M x (num_clips * clip_len) x V x C
        results['keypoint'] = keypoint[:, inds].astype(np.float32)
        return results


@TRANSFORMS.register_module()
class PadTo(BaseTransform):
    """Pad a sequence to ``length`` frames by looping it (``mode='loop'``) or with
    zero frames (``mode='zero'``).

    Required Keys:
        - keypoint (M x T x V x C), keypoint_score (optional), total_frames

    Modified Keys:
        - keypoint, keypoint_score: ``length`` frames
        - total_frames: ``length``
    """

    def __init__(self, length: int, mode: str = 'loop'):
        if isinstance(length, bool) or not isinstance(length, (int, np.integer)) or length < 1:
            raise ValueError(f'PadTo: length must be a positive integer, got {length!r}')
        if mode not in ('loop', 'zero'):
            raise ValueError(f"PadTo: mode must be 'loop' or 'zero', got {mode!r}")
        self.length = int(length)
        self.mode = mode

    def transform(self, results: dict) -> dict:
        keypoint = get_skeleton(results, transform='PadTo')
        total = int(results.get('total_frames', keypoint.shape[1]))
        if total < 1 or total > self.length:
            raise ValueError(f'PadTo: {sample_name(results)} has total_frames={total}; '
                             f'it must be between 1 and length={self.length}')
        inds = np.arange(self.length) % total
        for key in ('keypoint', 'keypoint_score'):
            if key not in results:
                continue
            data = np.asarray(results[key])[:, inds].copy()
            if self.mode == 'zero':
                data[:, total:] = 0
            results[key] = data
        results['total_frames'] = self.length
        return results

    def __repr__(self) -> str:
        return format_repr(self, length=self.length, mode=self.mode)
