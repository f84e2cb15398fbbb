"""PysklRunner: checked checkpoint loading and the test loop after training."""
import pickle

import numpy as np
import pytest
import torch
from torch import nn

from pyskl.models import CheckpointMismatchError

from tiny_runner import TinyDataset, TinyRecognizer


def _save(path, model):
    torch.save(dict(state_dict=model.state_dict(), meta=dict(epoch=1, iter=3)), path)


def test_strict_load_names_what_does_not_fit(tmp_path, tiny_runner):
    other = tmp_path / 'other.pth'
    _save(other, TinyRecognizer(num_classes=5))
    runner = tiny_runner(tmp_path / 'work', validate=False)
    with pytest.raises(CheckpointMismatchError) as info:
        runner.load_checkpoint(str(other), strict=True)
    message = str(info.value)
    assert '\n' not in message
    assert 'fc.weight (5, 4) vs model (3, 4)' in message and 'fc.bias (5,) vs model (3,)' in message
    assert str(other) in message and 'number of classes' in message


def test_strict_load_of_the_same_architecture(tmp_path, tiny_runner):
    source = TinyRecognizer()
    with torch.no_grad():
        source.fc.weight.fill_(0.5)
    path = tmp_path / 'same.pth'
    _save(path, source)
    runner = tiny_runner(tmp_path / 'work', validate=False)
    checkpoint = runner.load_checkpoint(str(path), strict=True)
    assert checkpoint['meta'] == dict(epoch=1, iter=3)
    assert torch.equal(runner.model.fc.weight, source.fc.weight)


def test_finetuning_load_takes_what_fits(tmp_path, tiny_runner, capsys):
    source = TinyRecognizer(num_classes=5)
    with torch.no_grad():
        source.bn.weight.fill_(2.0)
    path = tmp_path / 'pretrained.pth'
    _save(path, source)
    runner = tiny_runner(tmp_path / 'work', validate=False)
    head_before = runner.model.fc.weight.clone()
    capsys.readouterr()
    runner.load_checkpoint(str(path))  # load_from: not strict
    assert torch.equal(runner.model.bn.weight, torch.full((4, ), 2.0))
    assert torch.equal(runner.model.fc.weight, head_before)  # the misshaped head is left as it was
    logged = capsys.readouterr()
    assert 'WARNING' in logged.out + logged.err
    assert 'loaded what fits; not loaded: 2 misshaped (fc.weight (5, 4) vs model (3, 4)' in logged.out + logged.err


def test_nothing_fits_is_an_error_even_when_not_strict(tmp_path, tiny_runner):
    foreign = nn.Sequential(nn.Linear(2, 2))
    path = tmp_path / 'foreign.pth'
    torch.save(dict(state_dict=foreign.state_dict()), path)
    runner = tiny_runner(tmp_path / 'work', validate=False)
    with pytest.raises(CheckpointMismatchError, match='no weight of .*foreign.pth fits this model'):
        runner.load_checkpoint(str(path))


def test_resuming_from_another_architecture_is_refused(tmp_path, tiny_runner):
    donor = tiny_runner(tmp_path / 'donor', epochs=1, validate=False, model=TinyRecognizer(num_classes=5))
    donor.train()
    runner = tiny_runner(tmp_path / 'work', epochs=2, validate=False, resume=True,
                         load_from=str(tmp_path / 'donor' / 'epoch_1.pth'))
    with pytest.raises(CheckpointMismatchError, match='2 of another shape'):
        runner.train()


def test_test_loop_after_training_dumps_scores_in_order(tmp_path, tiny_runner):
    loader = dict(batch_size=5, num_workers=0, dataset=TinyDataset(13, seed=2),
                  sampler=dict(type='DefaultSampler', shuffle=False), collate_fn=dict(type='default_collate'))
    runner = tiny_runner(tmp_path, epochs=1, validate=False, test_dataloader=loader, test_cfg=dict(),
                         test_evaluator=dict(type='AccMetric'))
    runner.train()
    out = tmp_path / 'last_pred.pkl'
    metrics = runner.run_test_loop([dict(type='AccMetric'), dict(type='DumpScores', out_file_path=str(out))],
                                   title='Testing the last checkpoint')
    with open(out, 'rb') as f:
        scores = pickle.load(f)
    assert len(scores) == 13 and all(s.shape == (3, ) and s.dtype == np.float32 for s in scores)
    runner.model.eval()
    with torch.no_grad():
        expected = runner.model(torch.from_numpy(TinyDataset(13, seed=2).x)).softmax(-1).numpy()
    np.testing.assert_allclose(np.stack(scores), expected, rtol=1e-5, atol=1e-6)
    labels = TinyDataset(13, seed=2).y
    assert metrics['top1_acc'] == pytest.approx(float(np.mean(expected.argmax(1) == labels)))


class JitteredTinyDataset(TinyDataset):
    """TinyDataset with noise from a transform-style generator without a seed of its own."""

    def __init__(self):
        super().__init__()
        from pyskl.datasets.transforms.base import LocalRandomMixin
        self.jitter = type('Jitter', (LocalRandomMixin, ), {})()

    def __getitem__(self, i):
        item = super().__getitem__(i)
        item['keypoint'] = item['keypoint'] + torch.from_numpy(self.jitter.rng.normal(size=4).astype(np.float32))
        return item


def _trained_weights(work_dir, tiny_runner, seed):
    from tiny_runner import tiny_runner_kwargs
    loader = tiny_runner_kwargs(work_dir)['train_dataloader']
    runner = tiny_runner(work_dir, validate=False, randomness=dict(seed=seed),
                         train_dataloader=dict(loader, dataset=JitteredTinyDataset(), num_workers=1))
    runner.train()
    return {k: v.clone() for k, v in runner.model.state_dict().items()}


def test_a_seeded_run_is_reproducible_down_to_the_transforms_and_workers(tmp_path, tiny_runner):
    first = _trained_weights(tmp_path / 'a', tiny_runner, seed=3)
    again = _trained_weights(tmp_path / 'b', tiny_runner, seed=3)
    other = _trained_weights(tmp_path / 'c', tiny_runner, seed=4)
    assert all(torch.equal(first[k], again[k]) for k in first)
    assert not torch.equal(first['fc.weight'], other['fc.weight'])


def test_console_shows_the_run_not_the_dumps(tmp_path, tiny_runner, capsys):
    runner = tiny_runner(tmp_path, validate=False, epochs=1)
    runner.logger.warning('"FileClient" will be deprecated in future. Please use io functions')
    runner.train()
    console = capsys.readouterr().out
    assert 'System environment' not in console and 'Config:' not in console and 'Hooks will be executed' not in console
    assert 'FileClient' not in console
    assert f'work dir {tmp_path}, device cpu, 1 process, seed 0' in console
    log = next(tmp_path.glob('*/*.log')).read_text()
    assert 'System environment' in log and 'Hooks will be executed' in log and 'FileClient' in log


def test_a_finished_run_says_so_and_resumes_after_old_checkpoints_went(tmp_path, tiny_runner, capsys):
    hook = dict(type='AtomicCheckpointHook', interval=1, max_keep_ckpts=2)
    tiny_runner(tmp_path, epochs=3, validate=False, checkpoint=hook).train()
    assert sorted(p.name for p in tmp_path.glob('*.pth')) == ['epoch_2.pth', 'epoch_3.pth']
    capsys.readouterr()
    runner = tiny_runner(tmp_path, epochs=3, validate=False, checkpoint=hook, resume=True)
    runner.train()
    lines = [line for line in capsys.readouterr().out.splitlines() if 'already finished' in line]
    assert len(lines) == 1 and f'{tmp_path} holds epoch 3 of 3' in lines[0]
    runner = tiny_runner(tmp_path, epochs=4, validate=False, checkpoint=hook, resume=True)  # longer: trains on
    runner.train()
    assert runner.train_loop.epoch == 4
    assert sorted(p.name for p in tmp_path.glob('*.pth')) == ['epoch_3.pth', 'epoch_4.pth']
