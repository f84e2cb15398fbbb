"""What the skeleton transforms share: naming the sample in an error, checking
the keypoint array, a random generator of their own, and ``__repr__``."""
import os
from typing import Any, Optional

import numpy as np
from torch.utils.data import get_worker_info


def sample_name(results: dict) -> str:
    """How an error message names the sample: its ``frame_dir`` where known."""
    name = results.get('frame_dir', results.get('filename'))
    return f'sample {name!r}' if name is not None else 'sample (no frame_dir)'


def get_skeleton(results: dict, key: str = 'keypoint', transform: str = '') -> np.ndarray:
    """``results[key]`` as an ``M x T x V x C`` array, or a ``KeyError``/``ValueError``
    that names the transform, the sample and the field."""
    where = f'{transform}: ' if transform else ''
    if key not in results:
        raise KeyError(f'{where}{sample_name(results)} has no field {key!r} (fields: {sorted(results)})')
    array = np.asarray(results[key])
    if array.ndim != 4:
        raise ValueError(f'{where}{sample_name(results)}: field {key!r} must be M x T x V x C (4-D), '
                         f'got shape {array.shape}')
    if not np.issubdtype(array.dtype, np.number):
        raise ValueError(f'{where}{sample_name(results)}: field {key!r} must be numeric, got {array.dtype}')
    return array


def float_dtype(array: np.ndarray) -> np.dtype:
    """The dtype a transform computes in: the array's own if it is floating
    (float16 annotations stay float16 until ``PoseDecode``, as in the original),
    float32 otherwise."""
    return array.dtype if np.issubdtype(array.dtype, np.floating) else np.dtype(np.float32)


def check_seed(seed: Optional[int], name: str = 'seed') -> Optional[int]:
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
        raise ValueError(f'{name} must be None or a non-negative integer, got {seed!r}')
    return None if seed is None else int(seed)


_RUN_SEED: Optional[int] = None


def set_run_seed(seed: Optional[int]) -> None:
    """The run's seed (``--seed``; the Runner sets it), from which transforms without a
    seed of their own derive their generators. DataLoader workers forked afterwards
    inherit it."""
    global _RUN_SEED
    _RUN_SEED = check_seed(seed, 'the run seed')


class LocalRandomMixin:
    """Gives a transform ``self.rng``, a ``np.random.Generator`` of its own.

    numpy's global random state is never used. The generator is seeded from
    ``self.seed``; where that is None, from the run seed (:func:`set_run_seed`) and
    the process's rank, so that a seeded run draws the same augmentations every
    time; with neither, from fresh OS entropy. Inside a DataLoader worker it is
    made anew from that and the worker's torch seed, which differs between workers
    and between epochs (and follows the run seed): forked workers would otherwise
    all inherit the same generator state and draw the same augmentations.
    """

    seed: Optional[int] = None
    _rng: Optional[np.random.Generator] = None
    _rng_owner: Any = None

    @property
    def rng(self) -> np.random.Generator:
        info = get_worker_info()
        owner = (os.getpid(), None if info is None else info.seed)
        if self._rng is None or self._rng_owner != owner:
            entropy = None
            if self.seed is not None:
                entropy = [self.seed]
            elif _RUN_SEED is not None:
                from mmengine.dist import get_rank
                entropy = [_RUN_SEED, get_rank()]
            if entropy is not None and info is not None:
                entropy.append(int(info.seed))
            self._rng = np.random.default_rng(np.random.SeedSequence(entropy))
            self._rng_owner = owner
        return self._rng

    def get_rng_state(self) -> Optional[dict]:
        """The generator's state in this process (None before its first draw), for checkpoints."""
        if self._rng is None or self._rng_owner != (os.getpid(), None):
            return None
        return self._rng.bit_generator.state

    def set_rng_state(self, state: dict) -> None:
        """Continue from a state :meth:`get_rng_state` returned (in the main process)."""
        rng = np.random.default_rng()
        rng.bit_generator.state = state
        self._rng, self._rng_owner = rng, (os.getpid(), None)


def format_repr(obj: Any, **args: Any) -> str:
    """``ClassName(arg=value, ...)``, the way the transform is written in a config."""
    inner = ', '.join(f'{k}={v!r}' for k, v in args.items())
    return f'{type(obj).__name__}({inner})'
