"""Loading weights from our checkpoints and the original PYSKL's (written by mmcv 1.x).

Both hold plain containers and tensors, so ``torch.load(..., weights_only=True)``
reads them: no pickled code runs.
"""
from collections import OrderedDict

import torch
from torch import nn


class CheckpointMismatchError(ValueError):
    """The checkpoint's weights do not fit the model (another architecture or config)."""


def load_state_dict_file(path: str, map_location='cpu') -> OrderedDict:
    """The ``state_dict`` of a checkpoint file (a bare state dict is accepted too)."""
    try:
        ckpt = torch.load(path, map_location=map_location, weights_only=True)
    except FileNotFoundError:
        raise FileNotFoundError(f'checkpoint {path} does not exist') from None
    except Exception as e:  # noqa: BLE001 - re-raised with the file name
        raise ValueError(f'{path}: cannot be read as a weights-only checkpoint ({type(e).__name__}: {e})') from e
    return state_dict_of(ckpt, path)


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
