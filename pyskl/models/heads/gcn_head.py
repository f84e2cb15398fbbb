"""Classification head for GCN features."""
import torch
import torch.nn.functional as F
from torch import nn

from ...registry import MODELS
from ..losses import FocalLoss


@MODELS.register_module()
class GCNHead(nn.Module):
    """Average over time and joints, then over persons; dropout; linear ``fc_cls``.

    Args:
        num_classes: number of action classes.
        in_channels: channels of the backbone's output.
        loss_cls: ``dict(type='CrossEntropyLoss', loss_weight=1.0, label_smoothing=0.0)``
            (the original's form), or ``dict(type='FocalLoss', loss_weight=1.0, gamma=..., ...)``
            (see :class:`pyskl.models.losses.FocalLoss`).
        dropout: dropout ratio before ``fc_cls``.
        init_std: std of the normal initialisation of ``fc_cls.weight``.
        label_smoothing: shortcut for ``loss_cls.label_smoothing``.
    """

    def __init__(self, num_classes: int, in_channels: int, loss_cls: dict | None = None, dropout: float = 0.0,
                 init_std: float = 0.01, label_smoothing: float = 0.0, **kwargs):
        super().__init__()
        kwargs.pop('multi_class', None)  # accepted for original configs; multi-label is not supported
        if kwargs:
            raise TypeError(f'GCNHead got unexpected arguments {sorted(kwargs)}')
        loss_cls = dict(loss_cls or {})
        loss_type = loss_cls.pop('type', 'CrossEntropyLoss')
        if loss_type not in ('CrossEntropyLoss', 'FocalLoss'):
            raise ValueError(f'GCNHead loss_cls type {loss_type!r} is not supported; use CrossEntropyLoss or '
                             'FocalLoss')
        self.loss_weight = float(loss_cls.pop('loss_weight', 1.0))
        self.label_smoothing = float(loss_cls.pop('label_smoothing', label_smoothing))
        self.focal_loss = None
        if loss_type == 'FocalLoss':
            if self.label_smoothing:
                raise ValueError('GCNHead: label_smoothing applies to CrossEntropyLoss only, not FocalLoss')
            self.focal_loss = FocalLoss(**loss_cls)
        elif loss_cls:
            raise TypeError(f'GCNHead loss_cls got unexpected arguments {sorted(loss_cls)}')
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.init_std = init_std
        self.dropout = nn.Dropout(p=dropout) if dropout else None
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc_cls = nn.Linear(in_channels, num_classes)
        nn.init.normal_(self.fc_cls.weight, 0, init_std)
        nn.init.constant_(self.fc_cls.bias, 0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        N, M, C, T, V = x.shape
        if C != self.in_channels:
            raise ValueError(f'GCNHead in_channels={self.in_channels}, but the backbone gives {C} channels')
        x = self.pool(x.reshape(N * M, C, T, V)).reshape(N, M, C).mean(dim=1)
        if self.dropout is not None:
            x = self.dropout(x)
        return self.fc_cls(x)

    def loss(self, cls_score: torch.Tensor, label: torch.Tensor) -> dict:
        """Cross-entropy (or the focal loss), plus the batch's top-1 accuracy for the log (not a loss term)."""
        label = label.reshape(-1).long()
        if label.numel() and (label.min() < 0 or label.max() >= self.num_classes):
            raise ValueError(f'labels must be in [0, {self.num_classes}), got {label.min()}..{label.max()}')
        if self.focal_loss is not None:
            loss = self.focal_loss(cls_score, label) * self.loss_weight
        else:
            loss = F.cross_entropy(cls_score, label, label_smoothing=self.label_smoothing) * self.loss_weight
        top1 = (cls_score.detach().argmax(dim=1) == label).float().mean()
        return dict(loss_cls=loss, top1_acc=top1)
