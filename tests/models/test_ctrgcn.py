"""CTR-GCN: the CTR-GC unit by hand, the backbone's blocks and arguments, its initialisation and errors.

The numbers of the original (state dict, logits, loss, float64 gradients) are checked by
``test_zoo_fixtures.py -k ctrgcn``.
"""
import numpy as np
import pytest
import torch
from torch import nn

from impl_check import assert_same, model_pair, sample
from pyskl.models import CTRGCN, build_model
from pyskl.models.backbones.ctrgcn import CTRGCNBlock, temporal_branches
from pyskl.models.layers import CTRGC, MSTCN, UnitCTRGCN, UnitTCN
from pyskl.models.layers.ctrgc import relation_channels

NTU = dict(layout='nturgb+d', mode='spatial')


def ntu_input(n=2, persons=2, frames=12, joints=25, channels=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, persons, frames, joints, channels, generator=g)


# ---------------------------------------------------------------- the unit


@pytest.mark.parametrize('in_channels,expected', [(3, 8), (9, 8), (16, 8), (17, 2), (64, 8), (128, 16), (256, 32)])
def test_relation_channels(in_channels, expected):
    assert relation_channels(in_channels) == expected
    assert CTRGC(in_channels, 4).conv1.out_channels == expected


def test_ctrgc_static_graph_sends_along_its_edges():
    """alpha = 0: the unit's per-subset term is ``conv3(x)`` aggregated over ``A`` from the right, so
    an edge i -> j (``A[i, j] = 1``) copies joint i's features to joint j, and nothing goes back."""
    torch.manual_seed(0)
    unit = CTRGC(3, 4)
    x = torch.randn(2, 3, 5, 4)
    A = torch.zeros(4, 4)
    A[1, 3] = 1.0
    with torch.no_grad():
        out = unit(x, A, torch.zeros(1))
        sent = unit.conv3(x)[..., 1]
    torch.testing.assert_close(out[..., 3], sent)
    assert out[..., :3].abs().max() == 0  # joint 1 receives nothing from joint 3


def test_ctrgc_channel_graph_by_hand():
    """Every entry of the refined graph from its definition, in loops: conv1 at the sender i minus
    conv2 at the receiver j, tanh, conv4, times alpha, plus A."""
    torch.manual_seed(0)
    unit = CTRGC(3, 5).double()
    x = torch.randn(2, 3, 6, 4, dtype=torch.float64)
    A = torch.randn(4, 4, dtype=torch.float64)
    alpha = torch.tensor([0.7], dtype=torch.float64)
    w1, b1 = unit.conv1.weight[:, :, 0, 0], unit.conv1.bias
    w2, b2 = unit.conv2.weight[:, :, 0, 0], unit.conv2.bias
    w3, b3 = unit.conv3.weight[:, :, 0, 0], unit.conv3.bias
    w4, b4 = unit.conv4.weight[:, :, 0, 0], unit.conv4.bias
    mean_x = x.mean(2)  # N, C, V
    expected = torch.zeros(2, 5, 6, 4, dtype=torch.float64)
    with torch.no_grad():
        for n in range(2):
            for i in range(4):  # sender
                for j in range(4):  # receiver
                    rel = torch.tanh(w1 @ mean_x[n, :, i] + b1 - (w2 @ mean_x[n, :, j] + b2))
                    graph = alpha * (w4 @ rel + b4) + A[i, j]  # one weight per output channel
                    for t in range(6):
                        expected[n, :, t, j] += graph * (w3 @ x[n, :, t, i] + b3)
        torch.testing.assert_close(unit(x, A, alpha), expected, rtol=1e-12, atol=1e-12)
        assert not torch.allclose(unit(x, A.t().contiguous(), alpha), expected)  # the direction matters


def test_unit_sums_subsets_then_bn_down_relu():
    torch.manual_seed(0)
    A = torch.rand(3, 25, 25)
    unit = UnitCTRGCN(3, 8, A).eval()
    nn.init.uniform_(unit.alpha, 0.5, 1.0)
    x = torch.randn(2, 3, 6, 25)
    with torch.no_grad():
        summed = sum(unit.convs[k](x, unit.A[k], unit.alpha) for k in range(3))
        expected = torch.relu(unit.bn(summed) + unit.down(x))
        torch.testing.assert_close(unit(x), expected)
    assert isinstance(unit.down, nn.Sequential) and isinstance(UnitCTRGCN(8, 8, A).down, nn.Identity)
    assert unit.A.requires_grad and unit.alpha.shape == (1, )
    torch.testing.assert_close(unit.A.detach(), A)


def test_unit_refuses_a_non_graph():
    with pytest.raises(ValueError, match='graph'):
        UnitCTRGCN(3, 8, torch.rand(25, 25))
    with pytest.raises(ValueError, match='impl'):
        UnitCTRGCN(3, 8, torch.rand(3, 25, 25), impl='quick')


# ---------------------------------------------------------------- the backbone


def test_blocks_channels_strides_residuals():
    model = CTRGCN(graph_cfg=NTU)
    assert len(model.net) == 10 and model.out_channels == 256
    chans = [(b.gcn1.in_channels, b.gcn1.out_channels) for b in model.net]
    assert chans == [(3, 64)] + [(64, 64)] * 3 + [(64, 128)] + [(128, 128)] * 2 + [(128, 256)] + [(256, 256)] * 2
    assert [b.tcn1.stride for b in model.net] == [1, 1, 1, 1, 2, 1, 1, 2, 1, 1]
    assert model.net[0].residual is None
    assert [i for i, b in enumerate(model.net) if isinstance(b.residual, UnitTCN)] == [4, 7]
    assert all(isinstance(model.net[i].residual, nn.Identity) for i in (1, 2, 3, 5, 6, 8, 9))
    tcn = model.net[4].tcn1
    assert tcn.ms_cfg == ((5, 1), (5, 2), ('max', 3), '1x1') == temporal_branches(5, (1, 2))
    assert tcn.branch_channels == [32, 32, 32, 32] and model.net[0].tcn1.branch_channels == [16, 16, 16, 16]
    assert model.A.shape == (3, 25, 25) and not model.A.requires_grad
    assert model.data_bn.num_features == 2 * 25 * 3


def test_shapes_per_stage():
    torch.manual_seed(0)
    model = CTRGCN(graph_cfg=NTU).eval()
    x = model.to_sequences(ntu_input(frames=16))
    shapes = []
    with torch.no_grad():
        for block in model.net:
            x = block(x)
            shapes.append(tuple(x.shape))
        out = model(ntu_input(frames=16))
    assert shapes == [(4, 64, 16, 25)] * 4 + [(4, 128, 8, 25)] * 3 + [(4, 256, 4, 25)] * 3
    assert out.shape == (2, 2, 256, 4, 25)


def test_first_block_kept_when_channels_match():
    """Unlike ST-GCN, the original builds the first block even when it keeps the channel count."""
    model = CTRGCN(graph_cfg=NTU, in_channels=8, base_channels=8, num_stages=3, inflate_stages=[3],
                   down_stages=[3])
    assert len(model.net) == 3 and model.net[0].residual is None
    assert isinstance(model.net[0].gcn1.down, nn.Identity)
    assert [(b.gcn1.in_channels, b.gcn1.out_channels) for b in model.net] == [(8, 8), (8, 8), (8, 16)]
    out = model(ntu_input(channels=8))
    assert out.shape == (2, 2, 16, 6, 25)


def test_temporal_arguments_and_per_stage():
    model = CTRGCN(graph_cfg=NTU, num_stages=4, inflate_stages=[3], down_stages=[3], kernel_size=(3, 5, 7, 9),
                   dilations=([1], [1, 2], [1, 2, 3], [2]), tcn_dropout=0.2)
    assert [b.tcn1.ms_cfg for b in model.net] == [((3, 1), ('max', 3), '1x1'), ((5, 1), (5, 2), ('max', 3), '1x1'),
                                                  ((7, 1), (7, 2), (7, 3), ('max', 3), '1x1'),
                                                  ((9, 2), ('max', 3), '1x1')]
    # the remainder of the channel split goes to the last branch
    assert model.net[2].tcn1.branch_channels == [25, 25, 25, 25, 28]
    # the first block never drops out
    assert [b.tcn1.drop.p for b in model.net] == [0.0, 0.2, 0.2, 0.2]
    model = CTRGCN(graph_cfg=NTU, num_stages=2, inflate_stages=[], down_stages=[], tcn_dropout=(0.5, 0.1),
                   dilations=(1, 2))
    assert [b.tcn1.drop.p for b in model.net] == [0.0, 0.1]
    assert all(b.tcn1.ms_cfg == ((5, 1), (5, 2), ('max', 3), '1x1') for b in model.net)  # ints: not per stage
    out = model.train()(ntu_input(frames=9))
    assert out.shape == (2, 2, 64, 9, 25)


def test_init_weights_for_training_from_scratch():
    torch.manual_seed(0)
    model = CTRGCN(graph_cfg=NTU)
    for p in model.parameters():  # anything but the values init_weights sets
        nn.init.constant_(p, 0.3)
    model.init_weights()
    graph = model.graph_tensor()
    for i, block in enumerate(model.net):
        gcn = block.gcn1
        assert (gcn.bn.weight == 1e-6).all() and (gcn.bn.bias == 0).all(), i
        assert (gcn.alpha == 0).all(), i
        assert gcn.A.detach().equal(torch.full_like(graph, 0.3))  # the graph is not re-initialised
        for name, m in block.named_modules():
            if isinstance(m, nn.Conv2d):
                assert (m.bias == 0).all(), name
            elif isinstance(m, nn.BatchNorm2d) and m is not gcn.bn:
                assert (m.weight == 1).all() and (m.bias == 0).all(), (i, name)
    # Kaiming normal, fan-out: std sqrt(2 / (out_channels * kernel))
    conv3 = model.net[9].gcn1.convs[0].conv3.weight  # 256 x 256, fan-out 256
    assert conv3.std().item() == pytest.approx(np.sqrt(2 / 256), rel=0.03)
    temporal = model.net[9].tcn1.branches[0][3].conv.weight  # 64 x 64 x 5, fan-out 320
    assert temporal.std().item() == pytest.approx(np.sqrt(2 / 320), rel=0.05)
    assert abs(conv3.mean().item()) < 0.01
    # the data BatchNorm is not touched by the units' initialisation (PyTorch's default 1 / 0)
    assert (model.data_bn.weight == 0.3).all()


def test_a_fresh_model_starts_from_the_graph():
    model = CTRGCN(graph_cfg=NTU)
    model.init_weights()
    for block in model.net:
        torch.testing.assert_close(block.gcn1.A.detach(), model.A)
    torch.testing.assert_close(model.A, model.graph_tensor())


def test_pretrained_is_loaded_after_the_initialisation(tmp_path):
    torch.manual_seed(0)
    src = CTRGCN(graph_cfg=NTU)
    for p in src.parameters():
        nn.init.normal_(p)
    torch.save({'state_dict': {f'backbone.{k}': v for k, v in src.state_dict().items()}}, tmp_path / 'ctrgcn.pth')
    dst = CTRGCN(graph_cfg=NTU, pretrained=str(tmp_path / 'ctrgcn.pth'))
    dst.init_weights()
    for k, v in src.state_dict().items():
        torch.testing.assert_close(dst.state_dict()[k], v, msg=k)


# ---------------------------------------------------------------- layouts, persons, errors


@pytest.mark.parametrize('layout,joints,persons,data_bn_type', [
    ('coco', 17, 1, 'MVC'), ('coco', 17, 2, 'MVC'), ('nw-ucla', 20, 1, 'MVC'), ('nw-ucla', 20, 3, 'VC'),
    ('nturgb+d', 25, 1, None)])
def test_layouts_and_persons(layout, joints, persons, data_bn_type):
    torch.manual_seed(0)
    model = build_model(dict(
        type='RecognizerGCN',
        backbone=dict(type='CTRGCN', graph_cfg=dict(layout=layout, mode='spatial'), num_person=persons,
                      data_bn_type=data_bn_type),
        cls_head=dict(type='GCNHead', num_classes=120, in_channels=256)))
    x = torch.randn(2, 1, persons, 8, joints, 3)
    loss = model.train()(x, torch.tensor([3, 119]), mode='loss')['loss_cls']
    loss.backward()
    assert torch.isfinite(loss) and model.backbone.net[3].gcn1.alpha.grad.abs().sum() > 0  # conv4 waits for alpha
    assert model.backbone.net[0].gcn1.A.shape == (3, joints, joints)
    with torch.no_grad():
        assert model.eval()(x, mode='tensor').shape == (2, 120)


def test_bad_input_is_refused():
    model = CTRGCN(graph_cfg=NTU)
    with pytest.raises(ValueError, match='17 joints'):
        model(torch.randn(1, 2, 8, 17, 3))
    with pytest.raises(ValueError, match='2 channels'):
        model(torch.randn(1, 2, 8, 25, 2))
    with pytest.raises(ValueError, match='persons'):
        model(torch.randn(1, 1, 8, 25, 3))


def test_bad_arguments_are_refused():
    with pytest.raises(TypeError):
        CTRGCN(graph_cfg=NTU, gcn_adaptive='init')
    with pytest.raises(ValueError, match='kernel_size'):
        CTRGCN(graph_cfg=NTU, kernel_size=4)
    with pytest.raises(ValueError, match='kernel_size'):
        CTRGCN(graph_cfg=NTU, num_stages=2, kernel_size=(5, 6))
    with pytest.raises(ValueError, match='impl'):
        CTRGCN(graph_cfg=NTU, impl='quick')
    with pytest.raises(ValueError, match='data_bn_type'):
        CTRGCN(graph_cfg=NTU, data_bn_type='MV')
    with pytest.raises(ValueError, match='num_stages'):
        CTRGCN(graph_cfg=NTU, num_stages=0)


def test_block_without_residual_is_tcn_of_gcn():
    torch.manual_seed(0)
    block = CTRGCNBlock(3, 16, torch.rand(3, 25, 25), residual=False).eval()
    x = torch.randn(2, 3, 6, 25)
    with torch.no_grad():
        torch.testing.assert_close(block(x), torch.relu(block.tcn1(block.gcn1(x))))


# ---------------------------------------------------------------- fast path against the reference


def impl_pair(**backbone):
    """The same CTR-GCN with impl='reference' and impl='fast', float64, the same random weights
    (alpha non-zero, so the channel-wise term contributes)."""
    models = model_pair(dict(type='CTRGCN', **{**SMALL, **backbone}))
    assert models['fast'].backbone.net[1].gcn1.fast and not models['reference'].backbone.net[1].gcn1.fast
    return models


SMALL = dict(graph_cfg=NTU, base_channels=8, num_stages=3, inflate_stages=[3], down_stages=[3])
IMPL_OPTIONS = {
    'default': (dict(), dict()),
    'first block keeps the channels': (dict(in_channels=8), dict(channels=8)),
    'wide input (rel channels in / 8)': (dict(in_channels=24, base_channels=32), dict(channels=24)),
    'strides everywhere, per-stage kernels': (dict(down_stages=[2, 3], kernel_size=(3, 5, 3)), dict()),
    'coco, 1 person': (dict(graph_cfg=dict(layout='coco', mode='spatial'), num_person=1), dict(num_person=1, joints=17)),
    'nw-ucla, data_bn VC': (dict(graph_cfg=dict(layout='nw-ucla', mode='spatial'), data_bn_type='VC'),
                            dict(joints=20)),
    'one subset (binary_adj)': (dict(graph_cfg=dict(layout='nturgb+d', mode='binary_adj')), dict()),
}


@pytest.mark.parametrize('option', IMPL_OPTIONS.values(), ids=list(IMPL_OPTIONS))
def test_fast_equals_reference(option):
    """Training-mode loss, every gradient, the BatchNorm statistics after the step, eval-mode logits:
    the same to 1e-10 in float64."""
    backbone, data = option
    torch.manual_seed(0)
    assert_same(impl_pair(**backbone), *sample(**data))


@pytest.mark.parametrize('product', ['mm', 'conv'])
def test_fast_equals_reference_with_both_cpu_product_kernels(monkeypatch, product):
    from pyskl.models.layers import fused
    monkeypatch.setattr(fused, 'CPU_PRODUCT', product)
    torch.manual_seed(0)
    assert_same(impl_pair(), *sample())


def test_fast_equals_reference_over_several_steps_with_cumulative_bn():
    models = impl_pair()
    for model in models.values():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.momentum = None
    for seed in (1, 2, 3):
        assert_same(models, *sample(seed=seed))
        for model in models.values():
            model.zero_grad()


def test_fast_path_state_dict_and_fallback(monkeypatch):
    """The same state dict whichever path; a norm the fused path does not compute (here SyncBatchNorm,
    swapped in after construction as distributed training does) runs the reference path."""
    models = impl_pair()
    ref, fast = models['reference'].state_dict(), models['fast'].state_dict()
    assert list(ref) == list(fast) and all(ref[k].shape == fast[k].shape for k in ref)
    torch.manual_seed(0)
    unit = UnitCTRGCN(3, 8, torch.rand(3, 25, 25)).eval()
    x = torch.randn(2, 3, 4, 25)
    with torch.no_grad():
        expected = unit.forward_reference(x)
    assert unit.fast
    unit = nn.SyncBatchNorm.convert_sync_batchnorm(unit)
    assert not unit.fast
    monkeypatch.setattr(UnitCTRGCN, 'forward_channel_major', lambda self, x: pytest.fail('fast path ran'))
    with torch.no_grad():
        torch.testing.assert_close(unit(x), expected)


def test_autocast_runs_the_fast_path_within_bfloat16_rounding(monkeypatch):
    models = impl_pair()
    x, y = sample()
    x = x.float()
    outs = {}
    for impl, model in models.items():
        model.float().eval()
        if impl == 'fast':
            monkeypatch.setattr(UnitCTRGCN, 'forward_reference', lambda self, x: pytest.fail('reference path ran'))
        with torch.no_grad(), torch.autocast('cpu', dtype=torch.bfloat16):
            outs[impl] = model(x, mode='tensor')
        model.train()
        with torch.autocast('cpu', dtype=torch.bfloat16):
            loss = model(x, y, mode='loss')['loss_cls']
        loss.backward()
        assert all(p.grad is None or torch.isfinite(p.grad).all() for p in model.parameters())
    monkeypatch.undo()
    with torch.no_grad():
        exact = models['reference'].eval()(x, mode='tensor')
    bf16_error = (outs['reference'].float() - exact).abs().max()
    assert 0 < bf16_error < 0.05
    assert (outs['fast'].float() - outs['reference'].float()).abs().max() <= 4 * bf16_error


def test_blocks_channel_major_end_to_end(monkeypatch):
    """Every unit of a block has the channel-major path (the multi-scale temporal unit's CTR-GCN form
    too), so the backbone keeps that layout from the first block to the last
    (``GCNBackbone.forward_blocks``) and computes what the reference does."""
    models = impl_pair(down_stages=[2, 3])
    x, y = sample()
    calls = []
    original = MSTCN.forward_channel_major
    monkeypatch.setattr(MSTCN, 'forward_channel_major', lambda self, x: calls.append(1) or original(self, x))
    for block in models['fast'].backbone.net:
        block.forward = lambda x: pytest.fail('a block ran by itself')
    assert all(block.fast for block in models['fast'].backbone.net)
    assert not any(block.fast for block in models['reference'].backbone.net)
    assert_same(models, x, y)
    assert len(calls) == 2 * 3  # every block channel-major, in the training step and in eval
