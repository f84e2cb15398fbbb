"""FocalLoss against hand computations, and as the GCN head's loss."""
import math

import numpy as np
import pytest
import torch

from pyskl.models import build_model
from pyskl.models.losses import FocalLoss, class_balanced_weights
from pyskl.registry import MODELS

SCORES = torch.tensor([[2.0, 0.0, -1.0], [0.5, 0.5, 1.0]])
LABELS = torch.tensor([0, 2])


def _softmax_row(row):
    e = [math.exp(v) for v in row]
    return [v / sum(e) for v in e]


def test_softmax_focal_by_hand():
    p0 = _softmax_row([2.0, 0.0, -1.0])[0]  # the right class of sample 0
    p1 = _softmax_row([0.5, 0.5, 1.0])[2]
    gamma = 2.0
    by_hand = ((1 - p0) ** gamma * -math.log(p0) + (1 - p1) ** gamma * -math.log(p1)) / 2
    assert FocalLoss(gamma=gamma)(SCORES, LABELS).item() == pytest.approx(by_hand, rel=1e-6)
    alpha = [0.25, 1.0, 3.0]
    weighted = (alpha[0] * (1 - p0) ** gamma * -math.log(p0) + alpha[2] * (1 - p1) ** gamma * -math.log(p1)) / 2
    assert FocalLoss(gamma=gamma, alpha=alpha)(SCORES, LABELS).item() == pytest.approx(weighted, rel=1e-6)
    assert FocalLoss(gamma=gamma, alpha=0.5)(SCORES, LABELS).item() == pytest.approx(by_hand / 2, rel=1e-6)


def test_gamma_zero_is_cross_entropy():
    ce = torch.nn.functional.cross_entropy(SCORES, LABELS)
    torch.testing.assert_close(FocalLoss(gamma=0)(SCORES, LABELS), ce)


def test_sigmoid_focal_by_hand():
    gamma = 1.0

    def term(x, t):
        q = 1 / (1 + math.exp(-x)) if t else 1 - 1 / (1 + math.exp(-x))  # probability of the right answer
        return (1 - q) ** gamma * -math.log(q)

    rows = [sum(term(x, c == y) for c, x in enumerate(row)) for row, y in zip(SCORES.tolist(), LABELS.tolist())]
    weights = [0.5, 1.0, 2.0]
    by_hand = (weights[0] * rows[0] + weights[2] * rows[1]) / 2
    loss = FocalLoss(gamma=gamma, alpha=weights, mode='sigmoid')(SCORES, LABELS)
    assert loss.item() == pytest.approx(by_hand, rel=1e-6)


def test_class_balanced_weights_by_hand():
    beta = 0.9
    raw = [(1 - beta) / (1 - beta ** n) for n in (1, 10, 100)]
    expected = [3 * w / sum(raw) for w in raw]
    np.testing.assert_allclose(class_balanced_weights([1, 10, 100], beta), expected, rtol=1e-12)
    loss = FocalLoss(gamma=0, class_counts=[1, 10, 100], beta=beta)
    np.testing.assert_allclose(loss.alpha.numpy(), expected, rtol=1e-6)
    assert class_balanced_weights([0, 1], 0.5)[0] == class_balanced_weights([0, 1], 0.5)[1]  # absent = 1 sample


@pytest.mark.parametrize('kwargs, message', [
    (dict(gamma=-1), 'gamma must be a number >= 0'),
    (dict(mode='softmax2'), 'mode must be one of'),
    (dict(alpha=[1.0], class_counts=[3]), 'not both'),
    (dict(alpha=[-1.0, 1.0]), 'alpha must be'),
    (dict(class_counts=[3, -1]), 'class_counts must be'),
    (dict(class_counts=[3, 1], beta=1.0), 'beta must be in'),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        FocalLoss(**kwargs)


def test_weight_count_must_match_classes():
    with pytest.raises(ValueError, match='2 class weights .* for 3 classes'):
        FocalLoss(alpha=[1.0, 2.0])(SCORES, LABELS)


def test_registered_and_in_the_head():
    assert MODELS.get('FocalLoss') is FocalLoss
    head_cfg = dict(type='GCNHead', num_classes=3, in_channels=8,
                    loss_cls=dict(type='FocalLoss', gamma=2.0, alpha=[0.25, 1.0, 3.0], loss_weight=2.0))
    head = build_model(head_cfg)
    out = head.loss(SCORES, LABELS)
    expected = 2.0 * FocalLoss(gamma=2.0, alpha=[0.25, 1.0, 3.0])(SCORES, LABELS)
    torch.testing.assert_close(out['loss_cls'], expected)
    assert out['top1_acc'].item() == 1.0
    assert not any('alpha' in k for k in head.state_dict())  # checkpoints do not depend on the loss
    with pytest.raises(ValueError, match='label_smoothing applies to CrossEntropyLoss only'):
        build_model(dict(head_cfg, loss_cls=dict(type='FocalLoss', label_smoothing=0.1)))
    with pytest.raises(ValueError, match='use CrossEntropyLoss or FocalLoss'):
        build_model(dict(head_cfg, loss_cls=dict(type='HingeLoss')))
    with pytest.raises(TypeError, match='gamm'):
        build_model(dict(head_cfg, loss_cls=dict(type='FocalLoss', gamm=2)))


def test_focal_loss_trains_a_recognizer_step():
    model = build_model(dict(
        type='RecognizerGCN', backbone=dict(type='DGSTGCN', in_channels=3, base_channels=16, num_stages=2,
                                            graph_cfg=dict(layout='nturgb+d', mode='random', num_filter=2)),
        cls_head=dict(type='GCNHead', num_classes=4, in_channels=16, loss_cls=dict(type='FocalLoss', gamma=1.0,
                                                                                   class_counts=[10, 5, 2, 1]))))
    x = torch.randn(2, 1, 2, 8, 25, 3)
    losses = model(x, torch.tensor([0, 3]), mode='loss')
    losses['loss_cls'].backward()
    assert torch.isfinite(losses['loss_cls']) and model.cls_head.fc_cls.weight.grad.abs().sum() > 0
