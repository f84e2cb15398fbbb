"""AAGCN: the adaptive unit and its attentions by hand, the backbone's blocks and arguments, its
initialisation and errors.

The numbers of the original (state dict, logits, loss, float64 gradients) are checked by
``test_zoo_fixtures.py -k aagcn``.
"""
import math

import pytest
import torch
from torch import nn

from fixture_weights import set_fixture_weights
from pyskl.models import AAGCN, Graph, build_model
from pyskl.models.backbones.aagcn import AAGCNBlock
from pyskl.models.layers import MSTCN, UnitAAGCN, UnitTCN

NTU = dict(layout='nturgb+d', mode='spatial')


def seeded(*shape, seed=0, dtype=torch.float32):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def filled(module: nn.Module) -> nn.Module:
    set_fixture_weights(module)
    return module


# ---------------------------------------------------------------- the unit


def per_subset_loop(unit: UnitAAGCN, x: torch.Tensor) -> torch.Tensor:
    """The unit as the paper states it, one subset at a time, written out independently of the
    batched forward (as the original's loop)."""
    n, c, t, v = x.shape
    y = 0
    for k in range(unit.num_subsets):
        graph = unit.A[k]
        if unit.adaptive:
            a = unit.conv_a[k](x).permute(0, 3, 1, 2).reshape(n, v, -1)  # N, V, E*T
            b = unit.conv_b[k](x).reshape(n, -1, v)  # N, E*T, V
            graph = graph + unit.alpha * torch.tanh(a @ b / a.shape[-1])
        y = y + unit.conv_d[k]((x.reshape(n, c * t, v) @ graph).reshape(n, c, t, v))
    y = torch.relu(unit.bn(y) + unit.down(x))
    if unit.attention:
        s = torch.sigmoid(unit.conv_sa(y.mean(-2)))
        y = y * s.unsqueeze(-2) + y
        s = torch.sigmoid(unit.conv_ta(y.mean(-1)))
        y = y * s.unsqueeze(-1) + y
        s = torch.sigmoid(unit.fc2c(torch.relu(unit.fc1c(y.mean(-1).mean(-1)))))
        y = y * s[..., None, None] + y
    return y


@pytest.mark.parametrize('adaptive', [True, False])
@pytest.mark.parametrize('attention', [True, False])
@pytest.mark.parametrize('in_channels,out_channels', [(3, 16), (16, 16)])
@pytest.mark.parametrize('train', [True, False])
def test_unit_batched_over_subsets_equals_the_loop(adaptive, attention, in_channels, out_channels, train):
    A = torch.rand(3, 7, 7, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    unit = filled(UnitAAGCN(in_channels, out_channels, A, adaptive=adaptive, attention=attention)).double()
    unit.train(train)
    x = seeded(2, in_channels, 6, 7, dtype=torch.float64)
    out = unit(x)
    assert out.shape == (2, out_channels, 6, 7)
    torch.testing.assert_close(out, per_subset_loop(unit, x), rtol=1e-12, atol=1e-12)


def test_unit_modules_and_state_dict_order():
    A = torch.rand(3, 25, 25)
    unit = UnitAAGCN(3, 64, A)
    prefixes = []
    for key in unit.state_dict():
        head = key.split('.')[0]
        if head not in prefixes:
            prefixes.append(head)
    assert prefixes == ['A', 'alpha', 'conv_d', 'conv_a', 'conv_b', 'conv_ta', 'conv_sa', 'fc1c', 'fc2c', 'down',
                        'bn']
    assert isinstance(unit.A, nn.Parameter) and torch.equal(unit.A.data, A) and unit.A.data_ptr() != A.data_ptr()
    assert unit.embed_channels == 16 and unit.conv_a[2].out_channels == 16 and unit.conv_b[0].out_channels == 16
    assert unit.conv_ta.kernel_size == (9, ) and unit.conv_sa.kernel_size == (25, )
    assert unit.fc1c.out_features == 32 and unit.fc2c.in_features == 32
    assert isinstance(unit.down, nn.Sequential)
    assert isinstance(UnitAAGCN(64, 64, A).down, nn.Identity)
    assert UnitAAGCN(64, 64, A, coff_embedding=8).embed_channels == 8


@pytest.mark.parametrize('joints,kernel', [(25, 25), (20, 19), (17, 17), (18, 17)])
def test_spatial_attention_kernel_is_odd_and_keeps_the_joints(joints, kernel):
    unit = UnitAAGCN(4, 8, torch.rand(3, joints, joints))
    assert unit.conv_sa.kernel_size == (kernel, )
    assert unit.eval()(seeded(1, 4, 5, joints)).shape == (1, 8, 5, joints)


def test_options_off_leave_their_modules_out():
    A = torch.rand(3, 5, 5)
    fixed = UnitAAGCN(4, 8, A, adaptive=False)
    assert 'A' in dict(fixed.named_buffers()) and 'A' not in dict(fixed.named_parameters())
    assert not any(hasattr(fixed, name) for name in ('alpha', 'conv_a', 'conv_b'))
    plain = UnitAAGCN(4, 8, A, attention=False)
    assert not any(hasattr(plain, name) for name in ('conv_ta', 'conv_sa', 'fc1c', 'fc2c'))


def test_similarity_only_acts_through_alpha():
    torch.manual_seed(0)
    A = torch.rand(3, 6, 6)
    unit = filled(UnitAAGCN(4, 8, A)).eval()
    fixed = UnitAAGCN(4, 8, A, adaptive=False).eval()
    fixed.load_state_dict(unit.state_dict(), strict=False)
    x = seeded(2, 4, 5, 6)
    with torch.no_grad():
        assert not torch.allclose(unit(x), fixed(x))
        unit.alpha.zero_()
        torch.testing.assert_close(unit(x), fixed(x))


def test_similarity_by_hand():
    """One subset, one embedding channel, alpha 1: the graph is A + tanh(a_i . b_j / T)."""
    A = torch.zeros(1, 2, 2)
    unit = UnitAAGCN(1, 1, A, coff_embedding=1, attention=False)
    with torch.no_grad():
        for conv, w in ((unit.conv_a[0], 1.0), (unit.conv_b[0], 2.0)):
            conv.weight.fill_(w)
            conv.bias.zero_()
        unit.alpha.fill_(1.0)
    x = torch.tensor([[1.0, 2.0], [3.0, -1.0]]).view(1, 1, 2, 2)  # T = 2 frames, V = 2 joints
    a, b = x[0, 0], 2 * x[0, 0]  # (T, V)
    expected = torch.tanh(torch.einsum('ti,tj->ij', a, b) / 2)
    torch.testing.assert_close(unit.adaptive_graph(x), expected.view(1, 1, 2, 2))


def test_graph_direction_row_sends_to_column():
    """``A[k, i, j]`` weights what joint i sends to joint j: with the edge 0 -> 1 only, joint 1's
    output depends on joint 0's input and joint 0's does not depend on joint 1's."""
    unit = filled(UnitAAGCN(4, 4, torch.zeros(1, 3, 3), adaptive=False, attention=False)).eval()
    unit.A.zero_()
    unit.A[0, 0, 1] = 1.0
    x = seeded(1, 4, 5, 3)
    base = unit(x)
    moved = x.clone()
    moved[..., 0] += 1.0
    changed = (unit(moved) - base).abs().amax(dim=(0, 1, 2))
    assert changed[1] > 0 and changed[2] == 0
    moved = x.clone()
    moved[..., 1] += 1.0
    changed = (unit(moved) - base).abs().amax(dim=(0, 1, 2))
    assert changed[0] == 0  # joint 0 receives only itself through down (identity here)


def test_attentions_with_zero_gates_scale_by_one_and_a_half_each():
    """With conv_sa, conv_ta and fc2c zero every gate is sigmoid(0) = 1/2: y + y/2, three times."""
    A = torch.rand(3, 5, 5)
    unit = filled(UnitAAGCN(4, 8, A)).eval()
    plain = UnitAAGCN(4, 8, A, attention=False).eval()
    plain.load_state_dict(unit.state_dict(), strict=False)
    with torch.no_grad():
        for layer in (unit.conv_sa, unit.conv_ta, unit.fc2c):
            layer.weight.zero_()
            layer.bias.zero_()
        x = seeded(2, 4, 6, 5)
        torch.testing.assert_close(unit(x), plain(x) * 1.5 ** 3)


@pytest.mark.parametrize('coff', [0, -1, 2.0, 9])
def test_unit_refuses_bad_embedding(coff):
    with pytest.raises(ValueError, match='coff_embedding'):
        UnitAAGCN(4, 8, torch.rand(3, 5, 5), coff_embedding=coff)


def test_unit_refuses_a_graph_that_is_not_k_v_v():
    with pytest.raises(ValueError, match='A must be a graph'):
        UnitAAGCN(4, 8, torch.rand(5, 5))


# ---------------------------------------------------------------- the backbone


def ntu_input(n=2, persons=2, frames=12, joints=25, channels=3):
    return seeded(n, persons, frames, joints, channels)


def test_blocks_channels_strides_residuals():
    model = AAGCN(NTU)
    assert len(model.gcn) == 10 and model.out_channels == 256
    channels = [(b.gcn.in_channels, b.gcn.out_channels) for b in model.gcn]
    assert channels == [(3, 64)] + [(64, 64)] * 3 + [(64, 128)] + [(128, 128)] * 2 + [(128, 256)] + [(256, 256)] * 2
    assert [b.tcn.stride for b in model.gcn] == [1, 1, 1, 1, 2, 1, 1, 2, 1, 1]
    assert model.gcn[0].residual is None
    assert [i for i, b in enumerate(model.gcn) if isinstance(b.residual, UnitTCN)] == [4, 7]
    assert all(isinstance(model.gcn[i].residual, nn.Identity) for i in (1, 2, 3, 5, 6, 8, 9))
    assert [i for i, b in enumerate(model.gcn) if isinstance(b.gcn.down, nn.Sequential)] == [0, 4, 7]
    assert all(isinstance(b.tcn, UnitTCN) and b.tcn.conv.kernel_size == (9, 1) for b in model.gcn)
    assert isinstance(model.data_bn, nn.BatchNorm1d) and model.data_bn.num_features == 150


def test_backbone_graph_is_a_stored_buffer_and_each_block_has_its_own():
    model = AAGCN(NTU)
    graph = torch.tensor(Graph(**NTU).A, dtype=torch.float32)
    assert 'A' in dict(model.named_buffers()) and torch.equal(model.A, graph)
    blocks = [b.gcn.A for b in model.gcn]
    assert all(isinstance(a, nn.Parameter) and torch.equal(a.data, graph) for a in blocks)
    assert len({a.data_ptr() for a in blocks} | {model.A.data_ptr()}) == 11


def test_forward_shapes():
    model = AAGCN(NTU).eval()
    with torch.no_grad():
        assert model(ntu_input(frames=12)).shape == (2, 2, 256, 3, 25)
        assert model(ntu_input(frames=16)).shape == (2, 2, 256, 4, 25)


def test_in_channels_equal_to_base_channels_leaves_out_the_first_block():
    model = AAGCN(NTU, in_channels=64, base_channels=64)
    assert len(model.gcn) == 9 and model.num_stages == 9
    assert isinstance(model.gcn[0].residual, nn.Identity)
    assert model.eval()(ntu_input(frames=8, channels=64)).shape == (2, 2, 256, 2, 25)


def test_per_stage_arguments():
    attention = (True, False) * 5
    model = AAGCN(NTU, gcn_attention=attention, gcn_adaptive=(False, ) * 9 + (True, ), tcn_dropout=0.3)
    assert [hasattr(b.gcn, 'conv_ta') for b in model.gcn] == list(attention)
    assert [b.gcn.adaptive for b in model.gcn] == [False] * 9 + [True]
    assert [b.tcn.drop.p for b in model.gcn] == [0.0] + [0.3] * 9  # never in the first block
    assert model.eval()(ntu_input()).shape == (2, 2, 256, 3, 25)


def test_per_stage_when_the_first_block_is_left_out():
    """With ``in_channels == base_channels`` the blocks are stages 2 .. 10 and take those values."""
    model = AAGCN(NTU, in_channels=64, gcn_coff_embedding=tuple(range(1, 11)))
    out_channels = [64] * 3 + [128] * 3 + [256] * 3  # stages 2 .. 10
    assert [b.gcn.embed_channels for b in model.gcn] == [c // k for c, k in zip(out_channels, range(2, 11))]


def test_multi_scale_temporal_unit():
    ms_cfg = [(3, 1), (3, 2), ('max', 3), '1x1']
    model = AAGCN(NTU, tcn_type='mstcn', tcn_ms_cfg=ms_cfg, tcn_dropout=0.1)
    assert all(isinstance(b.tcn, MSTCN) and b.tcn.num_branches == 4 for b in model.gcn)
    assert [b.tcn.stride for b in model.gcn] == [1, 1, 1, 1, 2, 1, 1, 2, 1, 1]
    assert model.gcn[0].tcn.drop.p == 0.0 and model.gcn[1].tcn.drop.p == 0.1
    assert model.eval()(ntu_input()).shape == (2, 2, 256, 3, 25)
    assert AAGCN(NTU, tcn_type='mstcn').gcn[1].tcn.num_branches == 6


@pytest.mark.parametrize('kwargs,match', [
    (dict(tcn_type='conv'), 'tcn_type'),
    (dict(tcn_ms_cfg=[(3, 1), '1x1']), 'tcn_ms_cfg'),
    (dict(tcn_mid_channels=0.25), 'tcn_mid_channels'),
    (dict(tcn_type='mstcn', tcn_dilation=2), 'tcn_dilation'),
    (dict(gcn_type='unit_gcn'), 'gcn_type'),
    (dict(gcn_coff_embedding=0), 'coff_embedding'),
    (dict(data_bn_type='NVC'), 'data_bn_type'),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        AAGCN(NTU, **kwargs)


def test_unknown_argument_is_refused():
    with pytest.raises(TypeError, match='gcn_ratio'):
        AAGCN(NTU, gcn_ratio=0.25)


def test_original_config_arguments_build():
    model = build_model(dict(type='AAGCN', graph_cfg=NTU, in_channels=3, base_channels=64, data_bn_type='MVC',
                             num_person=2, num_stages=10, inflate_stages=[5, 8], down_stages=[5, 8],
                             pretrained=None, gcn_type='unit_aagcn', tcn_type='unit_tcn', tcn_dropout=0.0))
    assert isinstance(model, AAGCN) and isinstance(model.gcn[0], AAGCNBlock)


@pytest.mark.parametrize('shape,match', [
    ((2, 2, 12, 17, 3), 'joints'),
    ((2, 2, 12, 25, 2), 'channels'),
    ((2, 1, 12, 25, 3), 'persons'),
    ((2, 3, 12, 25, 3), 'persons'),
    ((2, 12, 25, 3), 'expects input'),
])
def test_bad_input(shape, match):
    with pytest.raises(ValueError, match=match):
        AAGCN(NTU)(torch.zeros(shape))


def test_one_person_with_its_data_batchnorm():
    model = AAGCN(NTU, num_person=1).eval()
    assert model.data_bn.num_features == 75
    assert model(ntu_input(persons=1)).shape == (2, 1, 256, 3, 25)
    shared = AAGCN(NTU, data_bn_type='VC').eval()  # persons share a 'VC' BatchNorm: any count works
    for persons in (1, 3):
        assert shared(ntu_input(persons=persons)).shape == (2, persons, 256, 3, 25)


@pytest.mark.parametrize('layout,joints', [('coco', 17), ('nw-ucla', 20)])
@pytest.mark.parametrize('persons', [1, 2])
def test_other_layouts_train_and_classify(layout, joints, persons):
    torch.manual_seed(0)
    model = build_model(dict(type='RecognizerGCN',
                             backbone=dict(type='AAGCN', graph_cfg=dict(layout=layout, mode='spatial'),
                                           num_person=persons),
                             cls_head=dict(type='GCNHead', num_classes=120, in_channels=256)))
    model.init_weights()
    x = seeded(3, 1, persons, 16, joints, 3)
    loss = model(x, torch.tensor([0, 5, 119]), mode='loss')['loss_cls']
    loss.backward()
    assert torch.isfinite(loss)
    assert model.backbone.gcn[0].gcn.conv_sa.kernel_size == (joints if joints % 2 else joints - 1, )
    assert all(p.grad is not None for p in model.parameters())
    assert model(x, mode='tensor').shape == (3, 120)


# ---------------------------------------------------------------- initialisation


def test_init_weights_for_training_from_scratch():
    torch.manual_seed(0)
    model = filled(AAGCN(NTU))  # every entry overwritten, so init_weights must set each one
    model.init_weights()
    assert torch.equal(model.data_bn.weight, torch.ones(150)) and not model.data_bn.bias.any()
    for i, block in enumerate(model.gcn):
        gcn, c_in, c_out = block.gcn, block.gcn.in_channels, block.gcn.out_channels
        assert not gcn.alpha.any(), i
        assert torch.all(gcn.bn.weight == 1e-6) and not gcn.bn.bias.any(), i
        for layer in (gcn.conv_ta, gcn.fc2c):
            assert not layer.weight.any() and not layer.bias.any(), i
        convs = [*gcn.conv_d, *gcn.conv_a, *gcn.conv_b, gcn.conv_sa, gcn.fc1c, block.tcn.conv]
        if isinstance(gcn.down, nn.Sequential):
            convs.append(gcn.down[0])
            assert torch.all(gcn.down[1].weight == 1) and not gcn.down[1].bias.any(), i
        assert all(not conv.bias.any() for conv in convs), i
        assert torch.all(block.tcn.bn.weight == 1) and not block.tcn.bn.bias.any(), i
    # the weights' spread, on the widest block (256 channels: tens of thousands of draws each)
    gcn, tcn = model.gcn[9].gcn, model.gcn[9].tcn
    expected = {
        'conv_d': (torch.cat([c.weight for c in gcn.conv_d]), math.sqrt(2 / (256 * 256 * 3))),
        'conv_a': (torch.cat([c.weight for c in gcn.conv_a]), math.sqrt(2 / 64)),  # fan-out: 64 x 1 x 1
        'tcn': (tcn.conv.weight, math.sqrt(2 / (256 * 9))),  # fan-out: 256 x 9 x 1
        'fc1c': (gcn.fc1c.weight, math.sqrt(2 / 256)),  # fan-in
        'conv_sa': (gcn.conv_sa.weight, math.sqrt(2 / (256 * 25 + 25))),  # Xavier
    }
    for name, (weight, std) in expected.items():
        assert weight.mean().abs() < 4 * std / math.sqrt(weight.numel()), name
        assert weight.std().item() == pytest.approx(std, rel=0.05), name
    # init_weights leaves the strided residual alone, as the original (PyTorch's defaults when fresh)
    assert model.gcn[4].residual.conv.bias.abs().max() > 0


def test_fresh_model_starts_from_the_graph_with_alpha_zero():
    model = AAGCN(NTU)
    graph = torch.tensor(Graph(**NTU).A, dtype=torch.float32)
    for block in model.gcn:
        assert torch.equal(block.gcn.A.data, graph) and not block.gcn.alpha.any()


def test_pretrained_is_loaded_after_the_initialisation(tmp_path):
    torch.manual_seed(0)
    source = filled(AAGCN(NTU))
    path = tmp_path / 'aagcn.pth'
    torch.save(dict(state_dict={f'backbone.{k}': v for k, v in source.state_dict().items()}), path)
    model = AAGCN(NTU, pretrained=str(path))
    model.init_weights()
    for key, value in source.state_dict().items():
        assert torch.equal(model.state_dict()[key], value), key
