"""ST-GCN and ST-GCN++: the spatial unit by hand, the backbone's blocks and arguments, its
initialisation and errors, and the fast path against the readable one in float64.

The numbers of the original (state dict, logits, loss, float64 gradients) are checked by
``test_zoo_fixtures.py -k stgcn``.
"""
import pytest
import torch
from torch import nn

from impl_check import (assert_autocast_close, assert_same, assert_same_over_steps_with_cumulative_bn, model_pair,
                         sample)
from pyskl.models import STGCN, build_model
from pyskl.models.backbones.stgcn import STGCNBlock
from pyskl.models.graph import Graph
from pyskl.models.layers import MSTCN, UnitGCN, UnitTCN

NTU = dict(layout='nturgb+d', mode='stgcn_spatial')
STGCNPP = dict(gcn_adaptive='init', gcn_with_res=True, tcn_type='mstcn',
               graph_cfg=dict(layout='nturgb+d', mode='spatial'))


def ntu_input(n=2, persons=2, frames=12, joints=25, channels=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, persons, frames, joints, channels, generator=g)


def eval_bn(bn: nn.BatchNorm2d, x: torch.Tensor) -> torch.Tensor:
    """Eval-mode BatchNorm of (N, C, T, V) written out."""
    shape = (1, -1, 1, 1)
    return (x - bn.running_mean.view(shape)) / torch.sqrt(bn.running_var.view(shape) + bn.eps) * \
        bn.weight.view(shape) + bn.bias.view(shape)


def randomize(module: nn.Module, seed: int = 0) -> None:
    """Every floating parameter and buffer random (running variances positive)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, value in module.state_dict().items():
            if value.is_floating_point():
                if name.endswith('running_var'):
                    value.copy_(torch.rand(value.shape, generator=g, dtype=value.dtype) + 0.5)
                else:
                    value.copy_(torch.randn(value.shape, generator=g, dtype=value.dtype))


# ---------------------------------------------------------------- the spatial unit


def unit_by_hand(unit: UnitGCN, x: torch.Tensor) -> torch.Tensor:
    """The unit from its definition, in loops over subsets and joints (eval mode)."""
    n, c_in, t, v = x.shape
    k, c = unit.num_subsets, unit.out_channels
    graph = {'importance': lambda: unit.A * unit.PA, 'offset': lambda: unit.A + unit.PA}.get(
        unit.adaptive, lambda: unit.A)()
    weight, bias = unit.conv.weight[:, :, 0, 0], unit.conv.bias
    out = torch.zeros(n, c, t, v, dtype=x.dtype)
    if unit.conv_pos == 'pre':
        y = torch.einsum('oi,nitv->notv', weight, x) + bias.view(1, -1, 1, 1)
        for s in range(k):  # subset s owns channels s*C .. (s+1)*C - 1
            for i in range(v):  # joint i sends ...
                for j in range(v):  # ... to joint j with weight graph[s, i, j]
                    out[..., j] += y[:, s * c:(s + 1) * c, :, i] * graph[s, i, j]
    else:
        z = torch.zeros(n, k * c_in, t, v, dtype=x.dtype)
        for s in range(k):
            for i in range(v):
                for j in range(v):
                    z[:, s * c_in:(s + 1) * c_in, :, j] += x[..., i] * graph[s, i, j]
        out = torch.einsum('oi,nitv->notv', weight, z) + bias.view(1, -1, 1, 1)
    out = eval_bn(unit.bn, out)
    if isinstance(unit.down, nn.Sequential):
        out = out + eval_bn(unit.down[1], torch.einsum('oi,nitv->notv', unit.down[0].weight[:, :, 0, 0], x)
                            + unit.down[0].bias.view(1, -1, 1, 1))
    elif unit.down is not None:
        out = out + x
    return torch.relu(out)


@pytest.mark.parametrize('impl', ['reference', 'fast'])
@pytest.mark.parametrize('kwargs', [
    dict(), dict(adaptive='offset'), dict(adaptive='init'), dict(adaptive=None), dict(conv_pos='post'),
    dict(adaptive='init', with_res=True), dict(adaptive='init', with_res=True, in_channels=4)],
    ids=['importance', 'offset', 'init', 'static', 'post', 'with_res', 'with_res identity'])
def test_unit_gcn_by_hand(kwargs, impl):
    kwargs = dict(kwargs)
    in_channels = kwargs.pop('in_channels', 3)
    A = torch.rand(2, 4, 4, dtype=torch.float64)
    unit = UnitGCN(in_channels, 4, A, impl=impl, **kwargs).double().eval()
    randomize(unit)
    x = torch.randn(2, in_channels, 5, 4, dtype=torch.float64)
    with torch.no_grad():
        torch.testing.assert_close(unit(x), unit_by_hand(unit, x), atol=1e-12, rtol=0)


def test_unit_gcn_sends_along_the_graph_from_the_right():
    """``A[k, i, j]`` weights what joint i sends to joint j: one edge 1 -> 3 moves joint 1's features
    to joint 3 only, and nothing goes back."""
    A = torch.zeros(1, 4, 4)
    A[0, 1, 3] = 1.0
    unit = UnitGCN(2, 2, A, adaptive=None).eval()  # BatchNorm at its start: x / sqrt(1 + eps)
    with torch.no_grad():
        unit.conv.weight.copy_(torch.eye(2)[:, :, None, None])
        unit.conv.bias.zero_()
        x = torch.zeros(1, 2, 3, 4)
        x[..., 1] = 1.0
        out = unit(x)
        x = torch.zeros(1, 2, 3, 4)
        x[..., 3] = 1.0
        back = unit(x)
    torch.testing.assert_close(out[..., 3], torch.ones(1, 2, 3) / (1 + unit.bn.eps) ** 0.5)
    assert out[..., :3].abs().max() == 0 and back.abs().max() == 0


def test_unit_gcn_subsets_are_channel_blocks():
    """Subset-major split of the convolution's channels: zeroing subset 1's graph removes exactly the
    contribution of conv channels C .. 2C-1."""
    torch.manual_seed(0)
    A = torch.rand(2, 5, 5)
    unit = UnitGCN(3, 4, A, adaptive=None).eval()
    x = torch.randn(2, 3, 6, 5)
    with torch.no_grad():
        full = unit(x)
        unit.conv.weight[4:].zero_()  # subset 1's channels
        unit.conv.bias[4:].zero_()
        without_weights = unit(x)
        unit.A[1].zero_()
        without_graph = unit(x)
    assert not torch.allclose(full, without_weights)
    torch.testing.assert_close(without_weights, without_graph)


@pytest.mark.parametrize('adaptive,params,buffers', [
    ('importance', ['PA'], ['A']), ('offset', ['PA'], ['A']), ('init', ['A'], []), (None, [], ['A'])])
def test_unit_gcn_adaptive_graph_names_and_start(adaptive, params, buffers):
    A = torch.rand(3, 6, 6)
    unit = UnitGCN(4, 8, A, adaptive=adaptive)
    assert [k for k, _ in unit.named_parameters(recurse=False)] == params
    assert [k for k, _ in unit.named_buffers(recurse=False)] == buffers
    torch.testing.assert_close(unit.A.detach(), A)
    if adaptive == 'importance':
        assert torch.equal(unit.PA.detach(), torch.ones_like(A))
    if adaptive == 'offset':
        assert unit.PA.abs().max() <= 1e-6 and unit.PA.abs().max() > 0
    assert unit.A.data_ptr() != A.data_ptr()  # a copy: blocks do not share their graph


def test_unit_gcn_residual_modules():
    A = torch.rand(3, 5, 5)
    assert UnitGCN(4, 8, A).down is None
    assert isinstance(UnitGCN(8, 8, A, with_res=True).down, nn.Identity)
    down = UnitGCN(4, 8, A, with_res=True).down
    assert isinstance(down, nn.Sequential) and down[0].in_channels == 4 and down[0].out_channels == 8
    assert UnitGCN(4, 8, A, conv_pos='post').conv.in_channels == 12


@pytest.mark.parametrize('kwargs,match', [
    (dict(adaptive='importances'), 'adaptive'), (dict(conv_pos='mid'), 'conv_pos'), (dict(impl='quick'), 'impl'),
    (dict(norm='GN2'), 'unknown norm'), (dict(act='Relu'), 'unknown activation')])
def test_unit_gcn_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        UnitGCN(4, 8, torch.rand(3, 5, 5), **kwargs)
    with pytest.raises(ValueError, match='graph A'):
        UnitGCN(4, 8, torch.rand(5, 5))


# ---------------------------------------------------------------- the backbone


def test_stgcn_blocks_channels_strides_and_residuals():
    model = STGCN(graph_cfg=NTU)
    assert len(model.gcn) == 10 and model.out_channels == 256
    assert [b.gcn.out_channels for b in model.gcn] == [64] * 4 + [128] * 3 + [256] * 3
    assert [b.tcn.conv.stride[0] for b in model.gcn] == [1, 1, 1, 1, 2, 1, 1, 2, 1, 1]
    assert all(b.tcn.conv.kernel_size == (9, 1) for b in model.gcn)
    kinds = [type(b.residual).__name__ for b in model.gcn]
    assert kinds == ['NoneType'] + ['Identity'] * 3 + ['UnitTCN'] + ['Identity'] * 2 + ['UnitTCN'] + ['Identity'] * 2
    assert all(b.gcn.adaptive == 'importance' and b.gcn.down is None for b in model.gcn)
    assert model.data_bn.num_features == 75
    out = model(ntu_input(frames=12))
    assert out.shape == (2, 2, 256, 3, 25)


def test_stgcnpp_options():
    model = STGCN(**STGCNPP)
    assert all(isinstance(b.tcn, MSTCN) and isinstance(b.gcn.A, nn.Parameter) for b in model.gcn)
    assert [type(b.gcn.down).__name__ for b in model.gcn] == ['Sequential'] + ['Identity'] * 3 + ['Sequential'] + \
        ['Identity'] * 2 + ['Sequential'] + ['Identity'] * 2
    assert model.gcn[0].tcn.branch_channels == [14, 10, 10, 10, 10, 10]
    assert model(ntu_input(frames=8)).shape == (2, 2, 256, 2, 25)


def test_in_channels_equal_to_base_channels_leaves_out_the_first_block():
    model = STGCN(graph_cfg=NTU, in_channels=16, base_channels=16, num_stages=4, inflate_stages=[3],
                  down_stages=[4])
    assert len(model.gcn) == 3 and model.num_stages == 3
    assert [b.gcn.out_channels for b in model.gcn] == [16, 32, 32]
    assert isinstance(model.gcn[0].residual, nn.Identity)
    assert model(ntu_input(channels=16)).shape == (2, 2, 32, 6, 25)


def test_per_stage_arguments():
    adaptive = ('importance', 'offset', 'init', None)
    tcn_type = ('unit_tcn', 'mstcn', 'unit_tcn', 'mstcn')
    model = STGCN(graph_cfg=NTU, base_channels=8, num_stages=4, inflate_stages=[3], down_stages=[3],
                  gcn_adaptive=adaptive, tcn_type=tcn_type, gcn_with_res=(False, True, True, False))
    assert tuple(b.gcn.adaptive for b in model.gcn) == adaptive
    assert [type(b.tcn) for b in model.gcn] == [UnitTCN, MSTCN, UnitTCN, MSTCN]
    assert [b.gcn.down is not None for b in model.gcn] == [False, True, True, False]
    ms_cfg = ([(3, 1)], [(3, 1), '1x1'], [(5, 2)], [('max', 3), (5, 2)])  # a tuple of lists: one per stage
    model = STGCN(graph_cfg=NTU, base_channels=8, num_stages=4, tcn_type='mstcn', tcn_ms_cfg=ms_cfg)
    assert [b.tcn.ms_cfg for b in model.gcn] == list(ms_cfg)
    model = STGCN(graph_cfg=NTU, base_channels=8, num_stages=4, tcn_type='mstcn', tcn_ms_cfg=((3, 1), '1x1'))
    assert all(b.tcn.ms_cfg == ((3, 1), '1x1') for b in model.gcn)  # a tuple of branches: every stage
    for impl in ('fast', 'reference'):
        model = STGCN(graph_cfg=NTU, base_channels=8, num_stages=4, tcn_type=tcn_type, impl=impl)
        assert model(ntu_input(frames=8)).shape == (2, 2, 8, 8, 25)


@pytest.mark.parametrize('tcn_type', ['unit_tcn', 'mstcn'])
def test_dropout_everywhere_but_the_first_block(tcn_type):
    """The vanilla recipe's tcn_dropout=0.5: every block's temporal unit but the first drops out."""
    model = STGCN(graph_cfg=NTU, base_channels=8, num_stages=4, tcn_type=tcn_type, tcn_dropout=0.5)
    assert [b.tcn.drop.p for b in model.gcn] == [0.0, 0.5, 0.5, 0.5]
    x = ntu_input(frames=8)
    model.eval()
    torch.testing.assert_close(model(x), model(x))
    model.train()
    torch.manual_seed(0)
    a = model(x)
    torch.manual_seed(1)
    assert not torch.allclose(a, model(x))


def test_bad_arguments():
    with pytest.raises(ValueError, match='tcn_type'):
        STGCN(graph_cfg=NTU, tcn_type='tcn')
    with pytest.raises(ValueError, match='tcn_ms_cfg'):
        STGCN(graph_cfg=NTU, tcn_ms_cfg=[(3, 1)])
    with pytest.raises(ValueError, match='tcn_mid_channels'):
        STGCN(graph_cfg=NTU, tcn_mid_channels=0.25)
    with pytest.raises(ValueError, match='adaptive'):
        STGCN(graph_cfg=NTU, gcn_adaptive='importances')
    with pytest.raises(ValueError, match='impl'):
        STGCN(graph_cfg=NTU, impl='fastest')
    with pytest.raises(ValueError, match='data_bn_type'):
        STGCN(graph_cfg=NTU, data_bn_type='CV')
    with pytest.raises(TypeError, match='gcn_ratio'):
        build_model(dict(type='STGCN', graph_cfg=NTU, gcn_ratio=0.25))


def test_bad_input():
    model = STGCN(graph_cfg=NTU, base_channels=8, num_stages=2).eval()
    with pytest.raises(ValueError, match='joints'):
        model(ntu_input(joints=17))
    with pytest.raises(ValueError, match='channels'):
        model(ntu_input(channels=2))
    with pytest.raises(ValueError, match='expects input'):
        model(torch.zeros(2, 12, 25, 3))
    mvc = STGCN(graph_cfg=NTU, base_channels=8, num_stages=2, data_bn_type='MVC', num_person=2).eval()
    with pytest.raises(ValueError, match='persons'):
        mvc(ntu_input(persons=1))
    for persons in (1, 3):  # 'VC' (the default): the persons share the data BatchNorm
        assert model(ntu_input(persons=persons)).shape == (2, persons, 8, 12, 25)


@pytest.mark.parametrize('persons', [1, 2])
@pytest.mark.parametrize('layout,joints', [('coco', 17), ('nw-ucla', 20), ('nturgb+d', 25)])
@pytest.mark.parametrize('variant', ['stgcn', 'stgcnpp'])
def test_layouts_persons_and_classes(variant, layout, joints, persons):
    backbone = dict(type='STGCN', base_channels=8, num_stages=4, inflate_stages=[3], down_stages=[3])
    if variant == 'stgcn':
        backbone['graph_cfg'] = dict(layout=layout, mode='stgcn_spatial')
    else:
        backbone.update(STGCNPP, graph_cfg=dict(layout=layout, mode='spatial'))
    model = build_model(dict(type='RecognizerGCN', backbone=backbone,
                             cls_head=dict(type='GCNHead', num_classes=120, in_channels=16)))
    assert model.backbone.gcn[0].gcn.A.shape == (3, joints, joints)
    x = torch.randn(2, 1, persons, 8, joints, 3)
    loss = model(x, torch.tensor([0, 119]), mode='loss')['loss_cls']
    loss.backward()
    assert torch.isfinite(loss) and model.backbone.gcn[0].gcn.conv.weight.grad.abs().sum() > 0
    assert model.eval()(x, mode='tensor').shape == (2, 120)


def test_initialisation_starts_from_the_graph():
    """From scratch: PyTorch defaults, ``PA`` = 1 (ST-GCN), ``A`` = the graph (ST-GCN++ learns it)."""
    for kwargs, mode in ((dict(graph_cfg=NTU), 'stgcn_spatial'), (STGCNPP, 'spatial')):
        model = STGCN(**kwargs)
        model.init_weights()
        graph = torch.tensor(Graph('nturgb+d', mode).A, dtype=torch.float32)
        for block in model.gcn:
            torch.testing.assert_close(block.gcn.A.detach(), graph)
            if block.gcn.adaptive == 'importance':
                assert torch.equal(block.gcn.PA.detach(), torch.ones_like(graph))
        assert model.data_bn.weight.eq(1).all() and model.data_bn.bias.eq(0).all()


def test_pretrained_loads_in_init_weights(tmp_path):
    torch.manual_seed(0)
    src = STGCN(graph_cfg=NTU, base_channels=8, num_stages=3)
    randomize(src)
    torch.save({'state_dict': {f'backbone.{k}': v for k, v in src.state_dict().items()}}, tmp_path / 'm.pth')
    dst = STGCN(graph_cfg=NTU, base_channels=8, num_stages=3, pretrained=str(tmp_path / 'm.pth'))
    dst.init_weights()
    for key, value in src.state_dict().items():
        assert torch.equal(dst.state_dict()[key], value), key


# ---------------------------------------------------------------- fast path against the reference

SMALL = dict(type='STGCN', base_channels=8, num_stages=3, inflate_stages=[3], down_stages=[3], graph_cfg=NTU)
OPTIONS = {
    'stgcn': dict(),
    'stgcn++': STGCNPP,
    'offset': dict(gcn_adaptive='offset'),
    'init': dict(gcn_adaptive='init'),
    'static graph': dict(gcn_adaptive=None),
    'with_res, unit_tcn': dict(gcn_with_res=True),
    'mstcn without res': dict(tcn_type='mstcn'),
    'ms_cfg 1x1 first': dict(STGCNPP, tcn_ms_cfg=['1x1', (3, 1), ('max', 3)]),
    'ms_cfg max only': dict(STGCNPP, tcn_ms_cfg=[('max', 3)]),
    'ms_cfg 1x1 only': dict(STGCNPP, tcn_ms_cfg=['1x1']),
    'tcn_mid_channels': dict(STGCNPP, tcn_mid_channels=0.25, tcn_ms_cfg=[(3, 1), (5, 3), ('max', 3), '1x1']),
    'strides everywhere': dict(STGCNPP, down_stages=[2, 3]),
    'stgcn strides everywhere': dict(down_stages=[2, 3]),
    'no strides': dict(STGCNPP, down_stages=[]),
    'mixed per stage': dict(tcn_type=('mstcn', 'unit_tcn', 'mstcn'), gcn_adaptive=('init', None, 'offset')),
    'conv_pos post': dict(gcn_conv_pos='post'),
    'activations': dict(STGCNPP, gcn_act='GELU'),
    'data_bn MVC': dict(STGCNPP, data_bn_type='MVC'),
    'data_bn None': dict(data_bn_type=None),
}


@pytest.mark.parametrize('option', OPTIONS.values(), ids=list(OPTIONS))
def test_fast_equals_reference(option):
    assert_same(model_pair({**SMALL, **option}), *sample())


@pytest.mark.parametrize('num_person', [1, 2])
@pytest.mark.parametrize('layout,joints', [('coco', 17), ('nw-ucla', 20)])
def test_fast_equals_reference_layouts_and_persons(layout, joints, num_person):
    backbone = {**SMALL, **STGCNPP, 'graph_cfg': dict(layout=layout, mode='spatial'), 'num_person': num_person}
    assert_same(model_pair(backbone), *sample(num_person=num_person, joints=joints))


def test_fast_equals_reference_without_lifting_block():
    assert_same(model_pair(dict(SMALL, **STGCNPP, in_channels=8)), *sample(channels=8))


def test_fast_equals_reference_over_several_steps_with_cumulative_bn():
    assert_same_over_steps_with_cumulative_bn(model_pair(dict(SMALL, **STGCNPP)), [sample(seed=s) for s in (1, 2, 3)])


@pytest.mark.parametrize('product', ['mm', 'conv'])
def test_both_cpu_product_kernels_equal_reference(monkeypatch, product):
    from pyskl.models.layers import fused
    monkeypatch.setattr(fused, 'CPU_PRODUCT', product)
    assert_same(model_pair(dict(SMALL, **STGCNPP)), *sample())
    assert_same(model_pair(SMALL), *sample())


def test_which_blocks_run_the_fast_path():
    """The fast path needs plain BatchNorm and the 'pre' convolution; other blocks run the reference."""
    assert all(b.fast for b in STGCN(graph_cfg=NTU).gcn)
    assert all(b.fast for b in STGCN(**STGCNPP).gcn)
    assert not any(b.fast for b in STGCN(graph_cfg=NTU, impl='reference').gcn)
    assert not any(b.fast for b in STGCN(graph_cfg=NTU, gcn_conv_pos='post').gcn)
    assert not any(b.fast for b in STGCN(**STGCNPP, tcn_norm='IN').gcn)
    assert not any(b.fast for b in STGCN(graph_cfg=NTU, gcn_norm='IN').gcn)
    assert isinstance(STGCNBlock(4, 4, torch.rand(3, 5, 5)).tcn, UnitTCN)


def test_state_dicts_are_identical():
    for option in (dict(), STGCNPP):
        models = model_pair(dict(SMALL, **option))
        ref, fast = models['reference'].state_dict(), models['fast'].state_dict()
        assert list(ref) == list(fast)
        assert all(ref[k].shape == fast[k].shape for k in ref)


@pytest.mark.parametrize('option', ['stgcn', 'stgcn++'])
def test_autocast_runs_the_fast_path_within_bfloat16_rounding(option, monkeypatch):
    monkeypatch.setattr(UnitGCN, 'forward_reference', lambda self, x: pytest.fail('the fast model ran the reference'))
    assert_autocast_close(model_pair(dict(SMALL, **OPTIONS[option])), *sample(), before_reference=monkeypatch.undo)
