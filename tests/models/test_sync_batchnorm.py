"""No fast path after ``nn.SyncBatchNorm.convert_sync_batchnorm`` (what mmengine's ``sync_bn`` does for
multi-GPU training): the fused kernels compute plain, per-process batch statistics, so every layer and
block decides at each call whether its norms are ones they compute.

In one process SyncBatchNorm has no other process to synchronise with and computes what BatchNorm
does, so the converted model must give the reference path's numbers while no ``forward_channel_major``
runs.
"""
import copy

import pytest
import torch
from torch import nn

from impl_check import assert_same, model_pair, sample
from pyskl.models import build_model

NTU_RANDOM = dict(layout='nturgb+d', mode='random', num_filter=4, init_off=.04, init_std=.02)
SMALL = dict(base_channels=8, num_stages=3, inflate_stages=[3], down_stages=[2, 3])
BACKBONES = {
    'dgstgcn': dict(type='DGSTGCN', graph_cfg=NTU_RANDOM, gcn_ratio=0.125, **SMALL),
    'stgcn': dict(type='STGCN', graph_cfg=dict(layout='nturgb+d', mode='stgcn_spatial'), **SMALL),
    'stgcn++': dict(type='STGCN', graph_cfg=dict(layout='nturgb+d', mode='spatial'), gcn_adaptive='init',
                    gcn_with_res=True, tcn_type='mstcn', **SMALL),
    'ctrgcn': dict(type='CTRGCN', graph_cfg=dict(layout='nturgb+d', mode='spatial'), **SMALL),
    'msg3d': dict(type='MSG3D', graph_cfg=dict(layout='nturgb+d', mode='binary_adj'), base_channels=8,
                  num_gcn_scales=3, num_g3d_scales=2),
    'aagcn mstcn': dict(type='AAGCN', graph_cfg=dict(layout='nturgb+d', mode='spatial'), tcn_type='mstcn', **SMALL),
}


def models_for(backbone: dict) -> dict:
    """``{'reference': ..., 'fast': ...}`` float64 recognizers with the same weights. A backbone that
    takes no ``impl`` (AAGCN, whose multi-scale temporal units have the fast path) gets its reference
    by setting every unit's ``impl``."""
    if backbone['type'] != 'AAGCN':
        return model_pair(backbone)
    fast = build_model(dict(type='RecognizerGCN', backbone=backbone,
                            cls_head=dict(type='GCNHead', num_classes=5, in_channels=16))).double()
    reference = copy.deepcopy(fast)
    for m in reference.modules():
        if hasattr(m, 'impl'):
            m.impl = 'reference'
    return {'reference': reference, 'fast': fast}


def spy_on_fast_paths(monkeypatch, model: nn.Module) -> list[str]:
    """Record every call of a ``forward_channel_major`` (the fast path's entry in each layer and block)."""
    calls = []
    classes = {cls for m in model.modules() for cls in type(m).__mro__ if 'forward_channel_major' in vars(cls)}
    for cls in classes:
        def spy(self, x, _original=cls.forward_channel_major, _name=cls.__name__):
            calls.append(_name)
            return _original(self, x)
        monkeypatch.setattr(cls, 'forward_channel_major', spy)
    return calls


@pytest.mark.parametrize('name', BACKBONES)
def test_sync_batchnorm_runs_the_reference_path(name, monkeypatch):
    torch.manual_seed(0)
    models = models_for(BACKBONES[name])
    x, y = sample()
    calls = spy_on_fast_paths(monkeypatch, models['fast'])
    with torch.no_grad():
        models['fast'].eval()(x, mode='tensor')
    assert calls, 'the spy sees the fast path while the norms are BatchNorm2d'
    calls.clear()

    models['fast'] = nn.SyncBatchNorm.convert_sync_batchnorm(models['fast'])
    assert any(isinstance(m, nn.SyncBatchNorm) for m in models['fast'].modules())
    assert not any(getattr(m, 'fast', False) for m in models['fast'].modules())
    assert_same(models, x, y)  # training step, gradients, running statistics, eval logits
    assert calls == []
