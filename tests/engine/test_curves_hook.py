"""TrainingCurvesHook inside a real mmengine Runner with a tiny stand-in model."""
import csv
import logging
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch.utils.data import Dataset

from pyskl.engine.curves_hook import CHECKPOINT_KEY, TrainingCurvesHook


class TinyRecognizer(BaseModel):
    """Same interface as RecognizerGCN: forward(keypoint, label, mode)."""

    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(4, 2)

    def forward(self, keypoint, label=None, mode='tensor'):
        logits = self.fc(keypoint.flatten(1))
        if mode == 'loss':
            return dict(loss_cls=torch.nn.functional.cross_entropy(logits, label))
        if mode == 'predict':
            return [dict(pred_score=p, gt_label=y) for p, y in zip(logits.softmax(-1), label)]
        return logits


class TinyData(Dataset):
    metainfo = dict(classes=('left', 'right'))

    def __init__(self, n=12):
        rng = np.random.default_rng(0)
        self.x = rng.standard_normal((n, 4)).astype(np.float32)
        self.y = (self.x[:, 0] > 0).astype(np.int64)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return dict(keypoint=torch.from_numpy(self.x[i]), label=int(self.y[i]))


def make_runner(work_dir, max_epochs, runner_cls=Runner, **kwargs):
    loader = dict(dataset=TinyData(), sampler=dict(type='DefaultSampler', shuffle=False), batch_size=4,
                  num_workers=0, collate_fn=dict(type='default_collate'))
    return runner_cls(
        model=TinyRecognizer(), work_dir=str(work_dir), train_dataloader=loader, val_dataloader=loader,
        val_evaluator=dict(type='AccMetric', metric_list=['top_k_accuracy']),
        train_cfg=dict(by_epoch=True, max_epochs=max_epochs, val_interval=1), val_cfg=dict(),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        param_scheduler=dict(type='CosineAnnealingLR', T_max=max_epochs * 3, by_epoch=False),
        custom_hooks=[dict(type='TrainingCurvesHook')], default_scope='pyskl',
        default_hooks=dict(logger=dict(type='LoggerHook', interval=1),
                           checkpoint=dict(type='CheckpointHook', interval=1)),
        log_level=logging.WARNING, experiment_name=f'{Path(work_dir).name}-{max_epochs}', **kwargs)


def read_csv(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def test_curves_written_after_training(tmp_path):
    runner = make_runner(tmp_path, max_epochs=2)
    runner.train()
    png = tmp_path / 'training_curves.png'
    assert png.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n' and png.stat().st_size > 5000
    rows = read_csv(tmp_path / 'training_curves.csv')
    assert [r['epoch'] for r in rows] == ['1', '2']
    hook = next(h for h in runner.hooks if isinstance(h, TrainingCurvesHook))
    assert hook.iters == [1, 2, 3, 4, 5, 6]  # 12 samples / batch 4 = 3 iterations per epoch
    # per-epoch mean loss and the logged validation top-1 go into the CSV
    assert float(rows[0]['mean_loss']) == pytest.approx(np.mean(hook.losses[:3]), rel=1e-5)
    assert [float(r['val_top1_acc']) for r in rows] == pytest.approx(hook.val_values)
    assert hook.lrs[0] == pytest.approx(0.1) and hook.lrs[-1] < hook.lrs[0]  # cosine decays

    # the history travels in the checkpoint (saved before that epoch's validation) and in
    # training_curves.json; a resumed hook merges both up to the iteration it starts from
    ckpt = torch.load(tmp_path / 'epoch_1.pth', map_location='cpu', weights_only=False)
    state = ckpt[CHECKPOINT_KEY]
    assert state['iters'] == [1, 2, 3] and state['val_iters'] == []
    fake_runner = SimpleNamespace(iter=3, train_dataloader=[0, 1, 2], work_dir=str(tmp_path))
    resumed = TrainingCurvesHook()
    resumed.after_load_checkpoint(fake_runner, ckpt)
    resumed.before_train(fake_runner)
    assert resumed.iters == [1, 2, 3] and resumed.losses == hook.losses[:3]
    assert resumed.val_iters == [3] and resumed.val_values == hook.val_values[:1]
    # without the JSON the checkpoint alone still gives the training history
    (tmp_path / 'training_curves.json').unlink()
    resumed = TrainingCurvesHook()
    resumed.after_load_checkpoint(fake_runner, ckpt)
    resumed.before_train(fake_runner)
    assert resumed.iters == [1, 2, 3] and resumed.val_iters == []
    # loaded to start a new run (load_from, iteration 0): the old history is dropped
    fresh = TrainingCurvesHook()
    fresh.after_load_checkpoint(fake_runner, ckpt)
    fresh.before_train(SimpleNamespace(iter=0, train_dataloader=[0, 1, 2], work_dir=str(tmp_path)))
    assert fresh.iters == [] and fresh.val_iters == []


def test_a_resumed_run_draws_the_whole_run(tmp_path):
    from pyskl.runner import PysklRunner  # reads checkpoints with weights_only=True
    make_runner(tmp_path, max_epochs=1, runner_cls=PysklRunner).train()
    first = read_csv(tmp_path / 'training_curves.csv')
    runner = make_runner(tmp_path, max_epochs=2, runner_cls=PysklRunner, resume=True,
                         load_from=str(tmp_path / 'epoch_1.pth'))
    runner.train()
    rows = read_csv(tmp_path / 'training_curves.csv')
    assert [r['epoch'] for r in rows] == ['1', '2']
    assert rows[0] == first[0]  # epoch 1 (its validation ran after the checkpoint was saved) kept as it was
    assert rows[1]['val_top1_acc'] != ''


def test_bad_out_file():
    with pytest.raises(ValueError, match='.png'):
        TrainingCurvesHook(out_file='curves.jpg')
