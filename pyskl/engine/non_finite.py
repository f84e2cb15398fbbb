"""Stopping (or skipping) at a non-finite loss, before it reaches the weights.

A learning rate far too high makes the loss ``nan`` or ``inf``; one such step turns every
weight into ``nan``, and the run would go on, checkpoint and test nonsense. The optimizer
wrappers here look at the loss and the gradients of every batch before the step, and at
the weights after it (a step can overflow float32 with finite gradients; that always
stops the run, before any checkpoint holds such a weight):

- ``nan_policy='stop'`` (default): raise :class:`NonFiniteLossError`, one line naming the
  epoch and iteration; no step is taken, so no checkpoint with non-finite weights exists.
- ``nan_policy='skip'``: drop the batch (no step; gradients accumulated for it are
  discarded; the model's buffers, e.g. BatchNorm statistics, which its forward pass
  changed, are put back), log a warning, and stop as above after ``max_skips`` skipped
  batches.

In a distributed job the processes agree (one all-reduce of a flag per batch), so they
skip or stop together.
"""
import math
from contextlib import contextmanager

import torch
from mmengine.dist import all_reduce
from mmengine.logging import MessageHub, print_log
from mmengine.optim import AmpOptimWrapper, OptimWrapper

from pyskl.registry import OPTIM_WRAPPERS
from .amp import CPUAmpOptimWrapper

NAN_POLICIES = ('stop', 'skip')


class NonFiniteLossError(FloatingPointError):
    """The loss (or the gradient) of a training batch is nan or inf."""


def _position() -> str:
    """Where training is, as mmengine's log says it: ``epoch 2, iteration 5/15 (17 overall)``."""
    info = MessageHub.get_current_instance().runtime_info
    epoch, it = info.get('epoch', 0), info.get('iter', 0)
    max_epochs, max_iters = info.get('max_epochs'), info.get('max_iters')
    if max_epochs and max_iters:
        per_epoch = max_iters // max_epochs
        return f'epoch {epoch + 1}, iteration {it - epoch * per_epoch + 1}/{per_epoch} ({it + 1} overall)'
    return f'iteration {it + 1}'


class _NonFiniteCheck:
    """``update_params`` that checks the loss (and, if ``check_grads``, the gradients) first."""

    check_grads = True

    def _setup_check(self, nan_policy: str, max_skips: int) -> None:
        if nan_policy not in NAN_POLICIES:
            raise ValueError(f'nan_policy={nan_policy!r}: choose one of {list(NAN_POLICIES)}')
        if not isinstance(max_skips, int) or max_skips < 0:
            raise ValueError(f'nan_max_skips={max_skips!r}: give a number of batches >= 0')
        self.nan_policy, self.max_skips, self.skipped = nan_policy, max_skips, 0
        self._buffers: list = []  # (buffer, its value before this batch's forward pass) with 'skip'
        self._model = None  # the model of the batch (optim_context), whose buffers are checked

    @contextmanager
    def optim_context(self, model):
        self._model = model
        if self.nan_policy == 'skip':
            self._buffers = [(b, b.detach().clone()) for b in model.buffers()]
        with super().optim_context(model):
            yield

    @staticmethod
    def _finite(tensors: list) -> bool:
        return not tensors or bool(torch.isfinite(torch.nn.utils.get_total_norm(tensors)))

    def _grads_finite(self) -> bool:
        return self._finite([p.grad for g in self.optimizer.param_groups for p in g['params'] if p.grad is not None])

    def _params_finite(self) -> bool:
        return self._finite([p for group in self.optimizer.param_groups for p in group['params']])

    def update_params(self, loss: torch.Tensor, step_kwargs: dict | None = None,
                      zero_kwargs: dict | None = None) -> None:
        value = float(loss.detach())
        self.backward(self.scale_loss(loss))
        grads_ok = not self.check_grads or self._grads_finite()
        # huge activations can make BatchNorm's running statistics inf while the loss stays finite
        buffers_ok = self._model is None or self._finite([b for b in self._model.buffers() if b.is_floating_point()])
        bad = torch.tensor(float(not (math.isfinite(value) and grads_ok and buffers_ok)))
        all_reduce(bad)  # one process's bad batch is every process's (no-op without a process group)
        if bad.item() == 0:
            if self.should_update():
                self.step(**(step_kwargs or {}))
                self.zero_grad(**(zero_kwargs or {}))
                if not self._params_finite():  # finite gradients, but a step too large for float32
                    raise NonFiniteLossError(
                        f'the step at {_position()} made a weight nan or inf; training stopped before any '
                        'checkpoint holds it; lower the learning rate')
            return
        what = (f'loss is {value}' if not math.isfinite(value) else 'a gradient is not finite' if not grads_ok
                else 'a buffer (e.g. a BatchNorm statistic) is not finite' if not buffers_ok
                else 'another process\'s batch is not finite')
        self.zero_grad(**(zero_kwargs or {}))
        if self.nan_policy == 'skip' and self.skipped < self.max_skips:
            self.skipped += 1
            with torch.no_grad():
                for buffer, before in self._buffers:
                    buffer.copy_(before)
            print_log(f'{what} at {_position()}: batch skipped, no step ({self.skipped} of at most '
                      f'{self.max_skips} skipped)', logger='current', level=30)
            return
        hint = (f'{self.skipped} batches skipped already (nan_max_skips={self.max_skips})'
                if self.nan_policy == 'skip' else
                'no step taken; lower the learning rate, or skip such batches with --cfg-options nan_policy=skip')
        raise NonFiniteLossError(f'{what} at {_position()}; training stopped, {hint}')


@OPTIM_WRAPPERS.register_module()
class FiniteOptimWrapper(_NonFiniteCheck, OptimWrapper):
    """mmengine's ``OptimWrapper`` (same arguments) that refuses non-finite losses and gradients.

    Args:
        nan_policy: ``'stop'`` or ``'skip'`` (see the module's docstring).
        max_skips: with ``'skip'``, how many batches may be skipped in this process's run.
    """

    def __init__(self, *args, nan_policy: str = 'stop', max_skips: int = 10, **kwargs):
        super().__init__(*args, **kwargs)
        self._setup_check(nan_policy, max_skips)


@OPTIM_WRAPPERS.register_module()
class FiniteAmpOptimWrapper(_NonFiniteCheck, AmpOptimWrapper):
    """mmengine's ``AmpOptimWrapper`` that refuses non-finite losses. Gradients are not checked:
    its loss scaler skips steps whose scaled gradients overflow by itself."""

    check_grads = False

    def __init__(self, *args, nan_policy: str = 'stop', max_skips: int = 10, **kwargs):
        super().__init__(*args, **kwargs)
        self._setup_check(nan_policy, max_skips)


@OPTIM_WRAPPERS.register_module()
class FiniteCPUAmpOptimWrapper(_NonFiniteCheck, CPUAmpOptimWrapper):
    """``CPUAmpOptimWrapper`` (bfloat16 autocast, no loss scaling) that refuses non-finite losses,
    gradients and buffers."""

    def __init__(self, *args, nan_policy: str = 'stop', max_skips: int = 10, **kwargs):
        super().__init__(*args, **kwargs)
        self._setup_check(nan_policy, max_skips)


def guard_optim_wrapper(optim_wrapper: dict, nan_policy: str = 'stop', max_skips: int = 10) -> dict:
    """``optim_wrapper`` (a config dict) with mmengine's wrapper swapped for its checking twin."""
    twins = {'OptimWrapper': 'FiniteOptimWrapper', 'AmpOptimWrapper': 'FiniteAmpOptimWrapper',
             'CPUAmpOptimWrapper': 'FiniteCPUAmpOptimWrapper'}
    kind = str(optim_wrapper.get('type', 'OptimWrapper')).replace('mmengine.', '')
    if kind not in twins:  # a wrapper of the user's own: leave it alone
        return dict(optim_wrapper)
    return dict(optim_wrapper, type=twins[kind], nan_policy=nan_policy, max_skips=max_skips)
