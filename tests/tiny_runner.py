"""A tiny recognizer and dataset for exercising the Runner machinery in seconds (tests/runner, tests/engine)."""
import itertools

import numpy as np
import torch
from mmengine.model import BaseModel
from torch import nn

_RUN = itertools.count()


class TinyRecognizer(BaseModel):
    """The RecognizerGCN interface (``keypoint``, ``label``, ``mode``) on a linear layer with BatchNorm."""

    def __init__(self, in_features: int = 4, num_classes: int = 3):
        super().__init__()
        self.bn = nn.BatchNorm1d(in_features)
        self.fc = nn.Linear(in_features, num_classes)
        g = torch.Generator().manual_seed(0)  # the same weights in every process, no global state touched
        with torch.no_grad():
            self.fc.weight.copy_(torch.randn(self.fc.weight.shape, generator=g) * 0.1)
            self.fc.bias.zero_()

    def forward(self, keypoint, label=None, mode='tensor'):
        scores = self.fc(self.bn(keypoint))
        if mode == 'loss':
            return dict(loss_cls=nn.functional.cross_entropy(scores, label))
        if mode == 'predict':
            return [dict(pred_score=s.softmax(-1).detach(), gt_label=g) for s, g in zip(scores, label)]
        return scores


class TinyDataset(torch.utils.data.Dataset):
    """Separable 3-class points: class = which of the first three coordinates is largest."""

    def __init__(self, n: int = 24, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.x = rng.normal(size=(n, 4)).astype(np.float32)
        self.y = self.x[:, :3].argmax(1)
        self.metainfo = dict(classes=['a', 'b', 'c'])

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return dict(keypoint=torch.from_numpy(self.x[i]), label=int(self.y[i]))


def tiny_runner_kwargs(work_dir, epochs: int = 2, validate: bool = True, checkpoint: dict | None = None,
                       model: nn.Module | None = None, **extra) -> dict:
    loader = dict(batch_size=8, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=True),
                  collate_fn=dict(type='default_collate'))
    kwargs = dict(
        model=model or TinyRecognizer(), work_dir=str(work_dir), experiment_name=f'tiny{next(_RUN)}',
        default_scope='pyskl',
        train_dataloader=dict(loader, dataset=TinyDataset()),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9)),
        param_scheduler=[dict(type='CosineAnnealingLR', T_max=epochs, eta_min=0, by_epoch=True,
                              convert_to_iter_based=True)],
        train_cfg=dict(by_epoch=True, max_epochs=epochs, val_interval=1),
        default_hooks=dict(checkpoint=checkpoint or dict(type='AtomicCheckpointHook', interval=1),
                           logger=dict(type='LoggerHook', interval=1)),
        randomness=dict(seed=0))
    if validate:
        kwargs.update(val_dataloader=dict(loader, dataset=TinyDataset(12, seed=1),
                                          sampler=dict(type='DefaultSampler', shuffle=False)),
                      val_cfg=dict(), val_evaluator=dict(type='AccMetric'))
    kwargs.update(extra)
    return kwargs
