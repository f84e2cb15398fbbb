"""The fast DG-STGCN layers against the reference ones, in float64.

Every option that changes the computation is run through both implementations with the same
random weights (the dynamic-graph scales ``alpha``/``beta`` and the joint-fusion ``add_coeff``
non-zero, so that every branch contributes): the training-mode loss, every gradient and the
BatchNorm running statistics after the step, and the eval-mode logits (where the fast path folds
BatchNorm into the convolutions) agree to 1e-10.
"""
import pytest
import torch

from impl_check import (TOL, assert_autocast_close, assert_same, assert_same_over_steps_with_cumulative_bn,
                        model_pair as impl_pair, sample)
from pyskl.models import build_model
from pyskl.models.layers import DGGCN, DGTCN

SMALL = dict(base_channels=8, num_stages=3, inflate_stages=[3], down_stages=[3], gcn_ratio=0.125,
             graph_cfg=dict(layout='nturgb+d', mode='random', num_filter=4, init_off=.04, init_std=.02))


def model_pair(backbone: dict):
    return impl_pair(dict(type='DGSTGCN', **backbone))


OPTIONS = {
    'default T/T': dict(),
    'ctr NA': dict(gcn_ctr='NA'),
    'ada NA': dict(gcn_ada='NA'),
    'both NA': dict(gcn_ctr='NA', gcn_ada='NA'),
    'ctr only': dict(gcn_ada=None),
    'ada only': dict(gcn_ctr=None),
    'static graph': dict(gcn_ctr=None, gcn_ada=None),
    'ctr NA, no ada': dict(gcn_ctr='NA', gcn_ada=None),
    'subset_wise': dict(gcn_subset_wise=True),
    'gcn_ratio None': dict(gcn_ratio=None),
    'gcn_ratio 0.25': dict(gcn_ratio=0.25),
    'activations': dict(gcn_ctr_act='sigmoid', gcn_ada_act='tanh', gcn_act='GELU', tcn_act='GELU'),
    'ctr_act relu, subset_wise': dict(gcn_ctr_act='relu', gcn_subset_wise=True),
    'ctr_act softmax': dict(gcn_ctr_act='softmax', gcn_ada_act='sigmoid'),
    'ms_cfg no 1x1 no max': dict(tcn_ms_cfg=[(5, 1), (3, 2)]),
    'ms_cfg 1x1 first': dict(tcn_ms_cfg=['1x1', (3, 1), ('max', 3)]),
    'ms_cfg max only': dict(tcn_ms_cfg=[('max', 3)]),
    'ms_cfg 1x1 only': dict(tcn_ms_cfg=['1x1']),
    'tcn_mid_channels': dict(tcn_mid_channels=0.25, tcn_ms_cfg=[(3, 1), (3, 3), ('max', 3), '1x1']),
    'strides everywhere': dict(down_stages=[2, 3]),
    'no strides': dict(down_stages=[]),
    'data_bn MVC': dict(data_bn_type='MVC'),
    'data_bn None': dict(data_bn_type=None),
}


@pytest.mark.parametrize('option', OPTIONS.values(), ids=list(OPTIONS))
def test_fast_equals_reference(option):
    torch.manual_seed(0)
    assert_same(model_pair({**SMALL, **option}), *sample())


@pytest.mark.parametrize('num_person', [1, 2])
@pytest.mark.parametrize('layout,joints', [('nturgb+d', 25), ('coco', 17), ('nw-ucla', 20)])
def test_fast_equals_reference_layouts_and_persons(layout, joints, num_person):
    torch.manual_seed(0)
    backbone = dict(SMALL, graph_cfg=dict(SMALL['graph_cfg'], layout=layout), num_person=num_person,
                    data_bn_type='MVC' if num_person == 2 else 'VC')
    assert_same(model_pair(backbone), *sample(num_person=num_person, joints=joints))


def test_fast_equals_reference_without_lifting_block():
    """in_channels == base_channels: the first block (and its channel change) is skipped."""
    torch.manual_seed(0)
    assert_same(model_pair(dict(SMALL, in_channels=8)), *sample(channels=8))


def test_fast_equals_reference_over_several_steps_with_cumulative_bn():
    """Running statistics written back by the fused BatchNorm: momentum=None (cumulative average)."""
    torch.manual_seed(0)
    assert_same_over_steps_with_cumulative_bn(model_pair(SMALL), [sample(seed=s) for s in (1, 2, 3)])


@pytest.mark.parametrize('norm', ['IN', dict(type='BN', momentum=0.3)])
def test_other_norms_fall_back_or_match(norm):
    """Norms the fused path does not compute (InstanceNorm) run the reference path; others still match."""
    torch.manual_seed(0)
    models = model_pair(dict(SMALL, gcn_norm=norm, tcn_norm=norm))
    fused = isinstance(norm, dict)
    assert all(m.fast == fused for m in models['fast'].modules() if isinstance(m, (DGGCN, DGTCN)))
    assert_same(models, *sample())


def test_state_dicts_are_identical():
    models = model_pair(SMALL)
    ref, fast = models['reference'].state_dict(), models['fast'].state_dict()
    assert list(ref) == list(fast)
    assert all(ref[k].shape == fast[k].shape for k in ref)


def test_unknown_impl():
    with pytest.raises(ValueError, match='impl'):
        build_model(dict(type='DGSTGCN', **SMALL, impl='fastest'))
    with pytest.raises(ValueError, match='impl'):
        DGTCN(8, 8, impl='Fast')


def test_autocast_runs_the_fast_path_within_bfloat16_rounding(monkeypatch):
    """Under bfloat16 autocast (--amp on CPU) the fast path runs and agrees with the reference path
    as closely as bfloat16 allows: within a few times the reference's own bfloat16 error."""
    monkeypatch.setattr(DGGCN, 'forward_reference', lambda self, x: pytest.fail('the fast model ran the reference path'))
    assert_autocast_close(model_pair(SMALL), *sample(), before_reference=monkeypatch.undo)


@pytest.mark.parametrize('product', ['mm', 'conv'])
@pytest.mark.parametrize('option', ['default T/T', 'ms_cfg 1x1 first', 'strides everywhere'])
def test_both_cpu_product_kernels_equal_reference(monkeypatch, product, option):
    """The fast path's products run on MKL or oneDNN depending on the CPU: both routes are exact."""
    from pyskl.models.layers import fused
    monkeypatch.setattr(fused, 'CPU_PRODUCT', product)
    torch.manual_seed(0)
    assert_same(model_pair({**SMALL, **OPTIONS[option]}), *sample())


def test_unknown_cpu_product_is_refused(monkeypatch):
    from pyskl.models.layers import fused
    monkeypatch.setenv('PYSKL_CPU_PRODUCT', 'gemm')
    with pytest.raises(ValueError, match='PYSKL_CPU_PRODUCT'):
        fused.default_cpu_product()
    monkeypatch.setenv('PYSKL_CPU_PRODUCT', 'conv')
    assert fused.default_cpu_product() == 'conv'
