"""MS-G3D: the multi-scale graphs, the windowed unit, the backbone's stages, its init and its errors.

The numbers of the original are checked in test_zoo_fixtures.py (``-k msg3d``).
"""
import numpy as np
import pytest
import torch

from impl_check import assert_same, model_pair, sample
from pyskl.models import MSG3D, build_model
from pyskl.models.layers import MSGCN, MSTCN, MSG3DUnit, MultiWindowMSG3D
from pyskl.models.layers.msg3d import UnfoldWindows, window_adjacency
from pyskl.models.layers.msgcn import multiscale_adjacency

CHAIN = np.array([[0, 1, 0, 0], [1, 0, 1, 0], [0, 1, 0, 1], [0, 0, 1, 0]], dtype=float)  # 0 - 1 - 2 - 3
SMALL = dict(base_channels=12, num_gcn_scales=4, num_g3d_scales=3)


def randn(*shape, dtype=torch.float32):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(0), dtype=dtype)


def test_multiscale_adjacency_by_hand():
    A = multiscale_adjacency(CHAIN, 5)
    assert A.shape == (5, 4, 4)
    np.testing.assert_array_equal(A[0], np.eye(4))
    # scale 1: neighbours and self; joint 1 receives the mean of joints 0, 1, 2
    np.testing.assert_allclose(A[1][:, 1], [1 / 3, 1 / 3, 1 / 3, 0])
    np.testing.assert_allclose(A[1][:, 0], [1 / 2, 1 / 2, 0, 0])
    # scale 2: exactly two hops away, and self
    np.testing.assert_allclose(A[2][:, 0], [1 / 2, 0, 1 / 2, 0])
    np.testing.assert_allclose(A[3][:, 0], [1 / 2, 0, 0, 1 / 2])
    np.testing.assert_array_equal(A[4], np.eye(4))  # beyond the diameter: self loops only
    np.testing.assert_allclose(A.sum(1), 1)  # every column normalised


def test_window_adjacency_tiles_adjacency_and_identity():
    W = window_adjacency(CHAIN, 3)
    assert W.shape == (12, 12)
    block = CHAIN + np.eye(4)
    for f in range(3):
        for g in range(3):
            np.testing.assert_array_equal(W[4 * f:4 * f + 4, 4 * g:4 * g + 4], block)
    # joint 0 of frame 0 reaches joint 3 of frame 2 in three hops (two in space, one in time)
    A = multiscale_adjacency(W, 4)
    assert A[3][0, 2 * 4 + 3] > 0 and A[2][0, 2 * 4 + 3] == 0


def test_msgcn_sends_along_the_graph_from_the_right():
    layer = MSGCN(1, 2, CHAIN, num_scales=3)
    with torch.no_grad():
        layer.PA.zero_()
    x = torch.zeros(1, 1, 1, 4)
    x[..., 0] = 1  # only joint 0 has a feature
    support = layer.aggregate(x)  # N, K * C, T, V, scale-major
    torch.testing.assert_close(support[0, :, 0], layer.A[:, 0, :])  # what joint 0 sends to each joint
    torch.testing.assert_close(support[0, 1, 0], torch.tensor([1 / 2, 1 / 3, 0, 0]))


def test_msgcn_aggregation_is_the_per_scale_sum():
    layer = MSGCN(5, 7, CHAIN, num_scales=3).double()
    x = randn(2, 5, 6, 4, dtype=torch.float64)
    A = layer.A + layer.PA
    per_scale = torch.cat([torch.einsum('nctv,vu->nctu', x, A[k]) for k in range(3)], dim=1)
    torch.testing.assert_close(layer.aggregate(x), per_scale, rtol=1e-12, atol=1e-12)
    assert layer(x).shape == (2, 7, 6, 4)
    assert layer.mlp.layers[0].in_channels == 15


def test_unfold_windows_positions_and_zero_padding():
    x = torch.arange(1, 6, dtype=torch.float32).view(1, 1, 5, 1).repeat(1, 1, 1, 2)  # frame t holds t + 1
    x[..., 1] *= 10  # joint 1 holds 10 (t + 1)
    out = UnfoldWindows(3, 1)(x)
    assert out.shape == (1, 1, 5, 6)
    # window 0: frames -1 (zero), 0, 1; position f * V + v
    assert out[0, 0, 0].tolist() == [0, 0, 1, 10, 2, 20]
    assert out[0, 0, 4].tolist() == [4, 40, 5, 50, 0, 0]
    strided = UnfoldWindows(5, 2)(x)
    assert strided.shape == (1, 1, 3, 10)  # windows centred on frames 0, 2, 4
    assert strided[0, 0, 1, ::2].tolist() == [1, 2, 3, 4, 5]


@pytest.mark.parametrize('T,stride,T_out', [(100, 1, 100), (100, 2, 50), (7, 2, 4)])
def test_msg3d_unit_shapes(T, stride, T_out):
    unit = MSG3DUnit(6, 8, CHAIN, num_scales=3, window_size=5, window_stride=stride, embed_channels=6)
    assert unit.gcn3d[1].A.shape == (3, 20, 20)
    assert tuple(unit.out_conv.weight.shape) == (8, 6, 1, 5, 1)
    assert unit(randn(2, 6, T, 4)).shape == (2, 8, T_out, 4)


def test_multi_window_sums_its_units():
    block = MultiWindowMSG3D(3, 8, CHAIN, num_scales=2, window_sizes=(3, 5)).eval()
    x = randn(2, 3, 9, 4)
    torch.testing.assert_close(block(x), block.gcn3d[0](x) + block.gcn3d[1](x))


def test_window_errors():
    with pytest.raises(ValueError, match='window_size'):
        MSG3DUnit(3, 8, CHAIN, 2, window_size=4)
    with pytest.raises(ValueError, match='num_scales'):
        MSGCN(3, 8, CHAIN, num_scales=0)


def test_stages_channels_and_strides():
    net = MSG3D(graph_cfg=dict(layout='nturgb+d', mode='binary_adj'))
    assert net.out_channels == 384 and tuple(net.A.shape) == (25, 25)
    stages = net.stages()
    # stage 1 changes the channels in its graph convs, stages 2 and 3 after them
    gcn3d, sgcn, tcn = stages[0]
    assert sgcn[0].mlp.layers[0].in_channels == 13 * 3 and sgcn[0].out_channels == 96
    assert gcn3d.gcn3d[1].gcn3d[1].out_channels == 96
    gcn3d, sgcn, tcn = stages[1]
    assert sgcn[0].out_channels == 96 and (sgcn[1].in_channels, sgcn[1].out_channels, sgcn[1].stride) == (96, 192, 2)
    assert gcn3d.gcn3d[0].embed_channels == 96 and gcn3d.gcn3d[0].out_conv.out_channels == 192
    assert gcn3d.gcn3d[0].gcn3d[0].window_stride == 2
    for gcn3d, sgcn, tcn in stages:
        assert sgcn[1].out_act and not sgcn[2].out_act and tcn.out_act
        assert [unit.window_size for unit in gcn3d.gcn3d] == [3, 5]


def test_stage_outputs_and_activation_placement():
    net = MSG3D(graph_cfg=dict(layout='nturgb+d', mode='binary_adj'), **SMALL).train()
    x = net.to_sequences(randn(2, 2, 30, 25, 3))
    lengths = []
    for gcn3d, sgcn, tcn in net.stages():
        spatial = sgcn(x)
        assert spatial.min() < 0  # the spatial pathway ends without ReLU
        x = tcn(torch.relu(spatial + gcn3d(x)))
        assert x.min() >= 0
        lengths.append((x.shape[1], x.shape[2]))
    assert lengths == [(12, 30), (24, 15), (48, 8)]
    assert net(randn(2, 2, 30, 25, 3)).shape == (2, 2, 48, 8, 25)


def test_init_is_pytorch_default_with_small_graph_offsets():
    torch.manual_seed(0)
    net = MSG3D(graph_cfg=dict(layout='nturgb+d', mode='binary_adj'))
    net.init_weights()
    offsets = [p for n, p in net.named_parameters() if n.endswith('PA')]
    assert len(offsets) == 9  # per stage: spatial pathway, windows 3 and 5
    for p in offsets:
        assert p.abs().max() <= 1e-6 and p.abs().max() > 1e-7
    conv = net.sgcn1[0].mlp.layers[0]
    bound = 1 / np.sqrt(conv.in_channels)  # PyTorch's default for a 1x1 conv
    assert conv.weight.abs().max() <= bound and conv.weight.abs().max() > 0.9 * bound
    bn = net.gcn3d2.gcn3d[1].out_bn
    assert torch.all(bn.weight == 1) and torch.all(bn.bias == 0)
    # graph buffers as built: every scale of every graph column-normalised
    assert net.sgcn1[0].A.sum().item() == pytest.approx(13 * 25)
    assert net.gcn3d1.gcn3d[1].gcn3d[1].A.sum().item() == pytest.approx(6 * 125)


def test_training_step_keeps_the_graph_conv_outputs_intact():
    net = MSG3D(graph_cfg=dict(layout='coco', mode='binary_adj'), **SMALL).double().train()
    out = net(randn(2, 2, 12, 17, 3, dtype=torch.float64))
    out.square().mean().backward()  # no in-place change to a tensor the backward pass needs
    assert all(p.grad is not None for p in net.parameters())
    assert net.gcn3d1.gcn3d[0].gcn3d[1].PA.grad.abs().sum() > 0


@pytest.mark.parametrize('layout,num_joints,num_person', [('coco', 17, 2), ('nw-ucla', 20, 1), ('openpose', 18, 1)])
def test_other_layouts_persons_and_classes(layout, num_joints, num_person):
    backbone = dict(type='MSG3D', graph_cfg=dict(layout=layout, mode='binary_adj'), num_person=num_person, **SMALL)
    model = build_model(dict(type='RecognizerGCN', backbone=backbone,
                             cls_head=dict(type='GCNHead', num_classes=120, in_channels=48))).eval()
    with torch.no_grad():
        logits = model(randn(2, 1, num_person, 16, num_joints, 3), mode='tensor')
    assert logits.shape == (2, 120)


def test_in_channels_and_per_stage_dropout():
    net = MSG3D(graph_cfg=dict(layout='coco', mode='binary_adj'), in_channels=6, tcn_dropout=(0.0, 0.1, 0.5), **SMALL)
    assert net.data_bn.num_features == 2 * 17 * 6
    assert net.sgcn1[0].mlp.layers[0].in_channels == 4 * 6
    assert net.gcn3d1.gcn3d[0].gcn3d[1].mlp.layers[0].in_channels == 3 * 6
    assert [net.tcn1.drop.p, net.tcn2.drop.p, net.tcn3.drop.p] == [0.0, 0.1, 0.5]
    assert net.sgcn2[1].drop.p == 0 and net.sgcn2[2].drop.p == 0
    assert net.eval()(randn(1, 2, 8, 17, 6)).shape == (1, 2, 48, 2, 17)
    assert MSG3D(graph_cfg=dict(layout='coco', mode='binary_adj'), tcn_dropout=0.3, **SMALL).tcn2.drop.p == 0.3


def test_bad_input_and_arguments():
    net = MSG3D(graph_cfg=dict(layout='nturgb+d', mode='binary_adj'), **SMALL)
    with pytest.raises(ValueError, match='25'):
        net(randn(1, 2, 8, 17, 3))
    with pytest.raises(ValueError, match='channels'):
        net(randn(1, 2, 8, 25, 2))
    with pytest.raises(ValueError, match='persons'):
        net(randn(1, 1, 8, 25, 3))
    with pytest.raises(ValueError, match='binary_adj'):
        MSG3D(graph_cfg=dict(layout='nturgb+d', mode='spatial'))
    with pytest.raises(TypeError, match='gcn_ratio'):
        MSG3D(graph_cfg=dict(layout='nturgb+d', mode='binary_adj'), gcn_ratio=0.5)
    with pytest.raises(ValueError, match='impl'):
        MSG3D(graph_cfg=dict(layout='nturgb+d', mode='binary_adj'), impl='quick')


# ---------------------------------------------------------------- fast path against the reference


@pytest.mark.parametrize('product', ['mm', 'conv'])
@pytest.mark.parametrize('layout,joints,persons', [('nturgb+d', 25, 2), ('coco', 17, 1)])
def test_fast_equals_reference(monkeypatch, product, layout, joints, persons):
    """The temporal modules' fast path (every one of them: identity and strided residuals, with and
    without the final ReLU) against the reference, in float64, with both CPU product kernels: the
    training-mode loss, every gradient, the running statistics after the step, the eval logits."""
    from pyskl.models.layers import fused
    monkeypatch.setattr(fused, 'CPU_PRODUCT', product)
    models = model_pair(dict(type='MSG3D', graph_cfg=dict(layout=layout, mode='binary_adj'), num_person=persons,
                             **SMALL))
    tcns = [m for m in models['fast'].modules() if isinstance(m, MSTCN)]
    assert len(tcns) == 9 and all(m.fast for m in tcns)
    assert not any(m.fast for m in models['reference'].modules() if isinstance(m, MSTCN))
    assert_same(models, *sample(num_person=persons, joints=joints))
