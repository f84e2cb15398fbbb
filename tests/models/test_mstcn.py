"""The multi-scale temporal unit's fast path against its readable one, in float64, in each of its
forms (ST-GCN++/DG-TCN's transform form, CTR-GCN's and MS-G3D's branch-norm forms) and in the
combinations between them: the training-mode output, every gradient, the running statistics after
the step and the eval-mode output (where the fast path folds BatchNorm) agree to 1e-10.
"""
import pytest
import torch
from torch import nn

from impl_check import assert_units_same, unit_pair
from pyskl.models.backbones.ctrgcn import temporal_branches
from pyskl.models.backbones.msg3d import ms_tcn
from pyskl.models.layers import MSTCN

CTRGCN = dict(ms_cfg=temporal_branches(5, (1, 2)), remainder='last', branch_norm=True, transform=False,
              out_act=True)
MSG3D = dict(remainder='last', branch_norm=True, transform=False, residual=True, out_act=True)
FORMS = {
    'stgcn++': (16, 16, dict()),
    'stgcn++ strided, wider': (12, 16, dict(stride=2)),
    'ctrgcn': (16, 16, CTRGCN),
    'ctrgcn strided': (16, 16, dict(CTRGCN, stride=2)),
    'ctrgcn other kernels': (16, 16, dict(CTRGCN, ms_cfg=temporal_branches(3, (1, 3, 2)))),
    'msg3d identity residual': (12, 12, MSG3D),
    'msg3d no out_act': (12, 12, dict(MSG3D, out_act=False)),
    'msg3d residual unit, strided': (12, 24, dict(MSG3D, stride=2)),
    'msg3d residual unit, channels': (12, 24, MSG3D),
    'branch norm and transform': (16, 16, dict(branch_norm=True, residual=True, out_act=True)),
    'transform with residual and act': (16, 16, dict(residual=True, out_act=True, stride=2)),
    'branch norm, 1x1 first, max': (16, 16, dict(CTRGCN, ms_cfg=['1x1', (3, 1), ('max', 3)])),
    'branch norm, max only': (16, 16, dict(CTRGCN, ms_cfg=[('max', 3)])),
    'branch norm, 1x1 only, strided': (16, 16, dict(CTRGCN, ms_cfg=['1x1'], stride=2)),
    'branch norm, one conv': (16, 16, dict(CTRGCN, ms_cfg=[(3, 2)])),
    'branch norm, GELU': (16, 16, dict(CTRGCN, act='GELU')),
}


def pair(in_channels, out_channels, kwargs):
    return unit_pair(lambda impl: MSTCN(in_channels, out_channels, impl=impl, **kwargs))


def data(channels, n=3, frames=9, joints=5, seed=1):
    return torch.randn(n, channels, frames, joints, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


@pytest.mark.parametrize('form', FORMS.values(), ids=list(FORMS))
def test_fast_equals_reference(form):
    in_channels, out_channels, kwargs = form
    units = pair(in_channels, out_channels, kwargs)
    assert units['fast'].fast and not units['reference'].fast
    assert_units_same(units, data(in_channels))


@pytest.mark.parametrize('product', ['mm', 'conv'])
@pytest.mark.parametrize('form', ['ctrgcn strided', 'msg3d residual unit, strided'])
def test_both_cpu_product_kernels_equal_reference(monkeypatch, product, form):
    from pyskl.models.layers import fused
    monkeypatch.setattr(fused, 'CPU_PRODUCT', product)
    in_channels, out_channels, kwargs = FORMS[form]
    assert_units_same(pair(in_channels, out_channels, kwargs), data(in_channels))


def test_several_steps_with_cumulative_bn():
    """The running statistics the fused BatchNorm writes back accumulate as the reference's."""
    units = pair(12, 24, dict(MSG3D, stride=2))
    for unit in units.values():
        for m in unit.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.momentum = None
    for seed in (1, 2, 3):
        assert_units_same(units, data(12, seed=seed))
        for unit in units.values():
            unit.zero_grad()


def test_every_form_has_the_fast_path_with_plain_batchnorm():
    assert MSTCN(16, 16).fast and not MSTCN(16, 16, impl='reference').fast
    assert MSTCN(16, 16, **CTRGCN).fast and ms_tcn(16, 16).fast
    assert not MSTCN(16, 16, norm='IN', **CTRGCN).fast
    unit = nn.SyncBatchNorm.convert_sync_batchnorm(MSTCN(16, 16, **CTRGCN))
    assert not unit.fast
