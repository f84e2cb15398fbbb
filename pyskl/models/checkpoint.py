"""Reading checkpoint files, and loading their weights into a model.

:func:`read_checkpoint` is the one reader of checkpoint files: ``load_checkpoint``,
``DGSTGCN(pretrained=...)``, the Runner's resume and test loading, and
``pyskl.apis.init_recognizer`` all go through it. It loads with
``torch.load(weights_only=True)``, which refuses any pickled global it does not know.
The original PYSKL's files (mmcv 1.x) hold tensors and plain containers only; the
files mmengine's Runner writes hold a few more (its ``MessageHub`` state:
``HistoryBuffer`` objects with numpy arrays, numpy scalars for best scores).
:func:`allow_checkpoint_globals` allow-lists exactly those, so every file loads, in any
process, without ever running pickled code.
"""
import os.path as osp
import pickle
import re
from collections import OrderedDict
from typing import Any, Callable

import numpy as np
import torch
from mmengine.logging.history_buffer import HistoryBuffer
from torch import nn

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
    if 'WeightsUnpickler error:' in text or 'Weights only load failed' in text:
        # torch's long weights-only message: keep the cause (torch >= 2.6 puts it in a paragraph of
        # its own, e.g. "Trying to load unsupported GLOBAL posix.system ..."), not its advice to
        # load with weights_only=False, which would run the file's code
        text = text.split('WeightsUnpickler error:', 1)[-1]
        paragraphs = [p.strip() for p in re.split(r'\n\s*\n', text) if p.strip()]
        causes = [p for p in paragraphs if not p.startswith(('Weights only load failed', 'Check the documentation'))]
        cause = (causes or paragraphs or ['?'])[0].splitlines()[0].split('. ')[0].rstrip('.')
        return (f'it holds more than weights and plain data: {cause}; pyskl loads checkpoints weights-only and '
                'runs no code from them')
    lines = text.strip().splitlines()
    return f'{type(err).__name__}: {lines[0]}' if lines else type(err).__name__




class CheckpointMismatchError(ValueError):
    """The checkpoint's weights do not fit the model (another architecture or config)."""


def load_state_dict_file(path: str, map_location='cpu') -> OrderedDict:
    """The ``state_dict`` of a checkpoint file (a bare state dict is accepted too)."""
    return state_dict_of(read_checkpoint(path, map_location), path)


def state_dict_of(checkpoint, path: str) -> OrderedDict:
    """The weights in a loaded checkpoint (a bare state dict is accepted too)."""
    if isinstance(checkpoint, dict) and 'state_dict' in checkpoint:
        checkpoint = checkpoint['state_dict']
    if not isinstance(checkpoint, dict):
        raise ValueError(f'{path}: holds no state_dict')
    # weights saved from a DDP-wrapped model carry a 'module.' prefix
    if checkpoint and all(k.startswith('module.') for k in checkpoint):
        checkpoint = OrderedDict((k[len('module.'):], v) for k, v in checkpoint.items())
    return checkpoint


def load_checkpoint(model: nn.Module, path: str, strict: bool = True, map_location='cpu') -> dict:
    """Load weights into ``model``; with ``strict``, any missing, unexpected or misshaped key
    raises :class:`CheckpointMismatchError` with a one-line summary of what does not fit."""
    return load_weights(model, load_state_dict_file(path, map_location), path, strict)


def load_weights(model: nn.Module, state_dict: dict, path: str, strict: bool = True) -> dict:
    """:func:`load_checkpoint` for weights already read from ``path`` (named in errors)."""
    own = model.state_dict()
    missing = [k for k in own if k not in state_dict]
    unexpected = [k for k in state_dict if k not in own]
    misshaped = [f'{k} {tuple(state_dict[k].shape)} vs model {tuple(v.shape)}' for k, v in own.items()
                 if k in state_dict and tuple(state_dict[k].shape) != tuple(v.shape)]
    if strict and (missing or unexpected or misshaped):
        def few(keys):
            return ', '.join(keys[:3]) + (f' (+{len(keys) - 3} more)' if len(keys) > 3 else '')
        parts = [f'{len(keys)} {what}: {few(keys)}' for what, keys in
                 (('missing', missing), ('unexpected', unexpected), ('of another shape', misshaped)) if keys]
        raise CheckpointMismatchError(
            f'{path} does not fit this model ({"; ".join(parts)}); is it a checkpoint of this config '
            '(architecture, number of classes, graph layout, input channels)?')
    loadable = {k: v for k, v in state_dict.items() if k in own and tuple(v.shape) == tuple(own[k].shape)}
    model.load_state_dict(loadable, strict=False)
    return dict(missing=missing, unexpected=unexpected, misshaped=misshaped)


def load_pretrained(module: nn.Module, path: str, prefix: str = 'backbone.') -> dict:
    """``pretrained=`` weights: a file of ``module``'s own weights, or a whole recognizer's
    checkpoint, from which the weights under ``prefix`` are taken. What fits is loaded; a file
    of which nothing fits raises :class:`CheckpointMismatchError` rather than loading nothing."""
    state_dict = load_state_dict_file(path)
    if any(k.startswith(prefix) for k in state_dict):
        state_dict = OrderedDict((k[len(prefix):], v) for k, v in state_dict.items() if k.startswith(prefix))
    report = load_weights(module, state_dict, path, strict=False)
    if len(report['missing']) + len(report['misshaped']) >= len(module.state_dict()):
        raise CheckpointMismatchError(f'no weight of {path} fits this {type(module).__name__} (pretrained=): '
                                      'is it a checkpoint of this architecture?')
    return report
