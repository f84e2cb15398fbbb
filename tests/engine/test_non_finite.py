"""A nan/inf loss stops training before its step, or is skipped (pyskl.engine.non_finite)."""
import logging

import pytest
import torch
from mmengine.config import Config

from pyskl.runner import prepare_train_config
from pyskl.engine import FiniteOptimWrapper, NonFiniteLossError
from tiny_runner import TinyRecognizer, tiny_runner_kwargs


class NanAt(TinyRecognizer):
    """TinyRecognizer whose loss is nan at the given calls (1-based) of its training forward."""

    def __init__(self, bad_calls):
        super().__init__()
        self.bad_calls, self.calls = set(bad_calls), 0

    def forward(self, keypoint, label=None, mode='tensor'):
        out = super().forward(keypoint, label, mode)
        if mode == 'loss':
            self.calls += 1
            if self.calls in self.bad_calls:
                out = dict(loss_cls=out['loss_cls'] * float('nan'))
        return out


def _finite(model) -> bool:
    return all(torch.isfinite(t).all() for t in model.state_dict().values() if t.is_floating_point())


def _wrapper(**policy) -> dict:
    return dict(type='FiniteOptimWrapper', optimizer=dict(type='SGD', lr=0.1, momentum=0.9), **policy)


def test_a_nan_loss_stops_before_its_step_and_before_any_checkpoint(tmp_path, tiny_runner):
    # 24 samples in batches of 8: 3 iterations per epoch; the 5th is epoch 2, iteration 2
    runner = tiny_runner(tmp_path, model=NanAt({5}), optim_wrapper=_wrapper(), validate=False)
    with pytest.raises(NonFiniteLossError) as info:
        runner.train()
    assert str(info.value) == ('loss is nan at epoch 2, iteration 2/3 (5 overall); training stopped, no step '
                               'taken; lower the learning rate, or skip such batches with --cfg-options '
                               'nan_policy=skip')
    assert _finite(runner.model)
    assert sorted(p.name for p in tmp_path.glob('*.pth')) == ['epoch_1.pth']  # epoch 2 never saved


def test_skip_drops_the_batch_and_says_so(tmp_path, tiny_runner, caplog):
    runner = tiny_runner(tmp_path, model=NanAt({2, 4}), optim_wrapper=_wrapper(nan_policy='skip', max_skips=2),
                         validate=False)
    runner.train()
    assert runner.optim_wrapper.skipped == 2 and _finite(runner.model)
    # the skipped batches' forward passes did not count in the BatchNorm statistics either
    assert runner.model.bn.num_batches_tracked.item() == 2 * 3 - 2
    assert (tmp_path / 'epoch_2.pth').is_file()
    log = '\n'.join(p.read_text() for p in tmp_path.glob('*/*.log'))
    assert 'loss is nan at epoch 1, iteration 2/3 (2 overall): batch skipped, no step (1 of at most 2 skipped)' in log


def test_skip_stops_past_its_limit(tmp_path, tiny_runner):
    runner = tiny_runner(tmp_path, model=NanAt({1, 2}), optim_wrapper=_wrapper(nan_policy='skip', max_skips=1),
                         validate=False)
    with pytest.raises(NonFiniteLossError, match=r'at epoch 1, iteration 2/3 .*1 batches skipped already'):
        runner.train()


def test_an_infinite_gradient_is_caught_too(tmp_path, tiny_runner):
    model = TinyRecognizer()
    model.fc.weight.register_hook(lambda grad: grad * float('inf'))
    runner = tiny_runner(tmp_path, model=model, optim_wrapper=_wrapper(), validate=False)
    with pytest.raises(NonFiniteLossError, match='a gradient is not finite at epoch 1, iteration 1/3'):
        runner.train()
    assert _finite(runner.model)


def test_wrong_policy_is_one_line():
    with pytest.raises(ValueError, match=r"nan_policy='ignore': choose one of \['stop', 'skip'\]"):
        FiniteOptimWrapper(torch.optim.SGD(TinyRecognizer().parameters(), lr=0.1), nan_policy='ignore')


def test_training_configs_get_the_check_and_the_policy(tmp_path):
    kwargs = tiny_runner_kwargs(tmp_path, validate=False)
    cfg = prepare_train_config(Config(dict(kwargs, nan_policy='skip', nan_max_skips=3)))
    assert cfg.optim_wrapper == dict(type='FiniteOptimWrapper', optimizer=dict(type='SGD', lr=0.1, momentum=0.9),
                                     nan_policy='skip', max_skips=3)
    assert 'nan_policy' not in cfg
    assert prepare_train_config(Config(kwargs)).optim_wrapper['nan_policy'] == 'stop'


def test_a_step_that_overflows_the_weights_stops_the_run(tmp_path, tiny_runner):
    # finite loss and gradients, but lr 1e38 sends a weight past float32's range (found by the
    # fault-injection suite: nan_policy=skip had saved such weights)
    wrapper = dict(type='FiniteOptimWrapper', optimizer=dict(type='SGD', lr=1e38), nan_policy='skip')
    runner = tiny_runner(tmp_path, optim_wrapper=wrapper, validate=False)
    with pytest.raises(NonFiniteLossError, match=r'^the step at epoch 1, iteration 1/3 \(1 overall\) made a weight '
                                                 r'nan or inf; training stopped before any checkpoint holds it'):
        runner.train()
    assert not list(tmp_path.glob('*.pth'))


def test_an_infinite_batchnorm_statistic_with_a_finite_loss_is_caught(tmp_path, tiny_runner):
    # found by the fault-injection suite: running_var became inf while the loss stayed finite
    model = NanAt(set())

    def poison(module, args, out):
        module.running_var.data.fill_(float('inf'))  # .data: not part of the autograd graph

    model.bn.register_forward_hook(poison)
    runner = tiny_runner(tmp_path, model=model, optim_wrapper=_wrapper(), validate=False)
    with pytest.raises(NonFiniteLossError, match=r'^a buffer \(e.g. a BatchNorm statistic\) is not finite at epoch 1, '
                                                 r'iteration 1/3'):
        runner.train()


def test_every_wrapper_kind_gets_its_checking_twin():
    from pyskl.engine.non_finite import guard_optim_wrapper
    for kind in ('OptimWrapper', 'AmpOptimWrapper', 'CPUAmpOptimWrapper'):
        assert guard_optim_wrapper(dict(type=kind))['type'] == 'Finite' + kind
    assert guard_optim_wrapper(dict(type='MyWrapper')) == dict(type='MyWrapper')  # the user's own: untouched
