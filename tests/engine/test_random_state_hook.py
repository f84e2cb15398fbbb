"""A run stopped at any moment and resumed ends with the weights of one that never stopped
(RandomStateHook with ValidateOnResumeHook)."""
import random

import numpy as np
import pytest
import torch
from mmengine.hooks import Hook

from pyskl.models.checkpoint import read_checkpoint
from pyskl.runner import find_resume_checkpoint
from pyskl.datasets.transforms.base import LocalRandomMixin
from tiny_runner import TinyDataset, TinyRecognizer

HOOKS = [dict(type='RandomStateHook'), dict(type='ValidateOnResumeHook')]


class Noisy(LocalRandomMixin):
    """A transform drawing from its own generator."""

    seed = 7

    def __call__(self, x):
        return x + torch.from_numpy(self.rng.normal(scale=0.1, size=x.shape).astype(np.float32))


class NoisyDataset(TinyDataset):
    """Draws from a transform's generator, numpy's and Python's global ones: each must be restored."""

    def __init__(self):
        super().__init__()
        self.pipeline = type('Pipeline', (), dict(transforms=[Noisy()]))()

    def __getitem__(self, i):
        item = super().__getitem__(i)
        item['keypoint'] = self.pipeline.transforms[0](item['keypoint']) * float(1 + np.random.rand() * 0.1)
        item['keypoint'] = item['keypoint'] + random.random() * 0.01
        return item


class DropoutRecognizer(TinyRecognizer):
    """Draws from torch's global generator."""

    def forward(self, keypoint, label=None, mode='tensor'):
        return super().forward(torch.nn.functional.dropout(keypoint, 0.3, self.training), label, mode)


class StopAt(Hook):
    """Stops the run, as a kill would, before training iteration ``it`` (0-based, overall) or in a validation."""

    def __init__(self, it=None, val_epoch=None):
        self.it, self.val_epoch = it, val_epoch

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if runner.iter == self.it:
            raise KeyboardInterrupt

    def before_val_epoch(self, runner):
        if runner.epoch == self.val_epoch:
            raise KeyboardInterrupt


def _train(tiny_runner, work, hooks, **extra):
    loader = dict(batch_size=8, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=True),
                  collate_fn=dict(type='default_collate'), dataset=NoisyDataset())
    runner = tiny_runner(work, epochs=3, model=DropoutRecognizer(), train_dataloader=loader, custom_hooks=hooks,
                         checkpoint=dict(type='AtomicCheckpointHook', interval=1, save_best='auto'), **extra)
    runner.train()
    return runner


@pytest.mark.parametrize('stop', [dict(it=4), dict(val_epoch=2), dict(it=8)])  # mid-epoch 2, its validation, epoch 3
def test_killed_and_resumed_equals_uninterrupted_to_the_bit(tmp_path, tiny_runner, stop):
    whole = _train(tiny_runner, tmp_path / 'whole', HOOKS)
    with pytest.raises(KeyboardInterrupt):
        _train(tiny_runner, tmp_path / 'killed', HOOKS + [StopAt(**stop)])
    resumed = _train(tiny_runner, tmp_path / 'killed', HOOKS, resume=True,
                     load_from=find_resume_checkpoint(str(tmp_path / 'killed')))
    for (name, a), b in zip(whole.model.state_dict().items(), resumed.model.state_dict().values()):
        assert torch.equal(a, b), name
    assert read_checkpoint(str(tmp_path / 'killed' / 'epoch_3.pth'))['random_states'][0]['transforms'][0] is not None


def test_without_the_states_the_resumed_run_differs(tmp_path, tiny_runner):
    # the check above can fail: without RandomStateHook the dropout masks and the noise differ after resume
    whole = _train(tiny_runner, tmp_path / 'whole', HOOKS[1:])
    with pytest.raises(KeyboardInterrupt):
        _train(tiny_runner, tmp_path / 'killed', HOOKS[1:] + [StopAt(it=4)])
    resumed = _train(tiny_runner, tmp_path / 'killed', HOOKS[1:], resume=True,
                     load_from=find_resume_checkpoint(str(tmp_path / 'killed')))
    assert not torch.equal(whole.model.fc.weight, resumed.model.fc.weight)
