"""DG-GCN and DG-TCN: every argument that changes the computation, and the errors."""
import pytest
import torch

from pyskl.models.layers import DGGCN, DGTCN, UnitTCN

A = torch.rand(3, 5, 5)


def x_in(c=8, t=6, v=5):
    return torch.randn(2, c, t, v, generator=torch.Generator().manual_seed(0))


def run(layer, x):
    torch.manual_seed(0)
    return layer.eval()(x)


def test_dggcn_shapes_and_down():
    layer = DGGCN(8, 16, A, ratio=0.25)
    assert layer.mid_channels == 4 and layer.pre[0].out_channels == 12
    assert isinstance(layer.down, torch.nn.Sequential)
    assert run(layer, x_in()).shape == (2, 16, 6, 5)
    assert isinstance(DGGCN(8, 8, A).down, torch.nn.Identity)
    assert DGGCN(8, 12, A, ratio=None).mid_channels == 4  # 1 / num_subsets


@pytest.mark.parametrize('ctr,ada', [(None, None), ('T', None), (None, 'T'), ('T', 'T'), ('NA', 'T'), ('T', 'NA')])
def test_dggcn_branches(ctr, ada):
    layer = DGGCN(8, 8, A, ctr=ctr, ada=ada)
    assert hasattr(layer, 'conv1') == (ctr is not None or ada is not None)
    assert run(layer, x_in()).shape == (2, 8, 6, 5)


def test_dggcn_dynamic_terms_change_output_only_when_scaled():
    torch.manual_seed(0)
    layer = DGGCN(8, 8, A, ctr='T', ada='T').eval()
    static = DGGCN(8, 8, A, ctr=None, ada=None).eval()
    static.load_state_dict(layer.state_dict(), strict=False)
    x = x_in()
    # alpha = beta = 0 at start: the dynamic layer equals the static one
    torch.testing.assert_close(layer(x), static(x))
    with torch.no_grad():
        layer.alpha.fill_(0.5)
    ctr_out = layer(x)
    assert not torch.allclose(ctr_out, static(x))
    with torch.no_grad():
        layer.alpha.zero_()
        layer.beta.fill_(0.5)
    assert not torch.allclose(layer(x), static(x))
    assert not torch.allclose(layer(x), ctr_out)


def test_dggcn_per_frame_graph_differs_from_pooled():
    torch.manual_seed(0)
    pooled = DGGCN(8, 8, A, ctr='T', ada='T').eval()
    per_frame = DGGCN(8, 8, A, ctr='NA', ada='T').eval()
    per_frame.load_state_dict(pooled.state_dict())
    with torch.no_grad():
        for m in (pooled, per_frame):
            m.alpha.fill_(1.0)
    x = x_in()
    assert not torch.allclose(pooled(x), per_frame(x))


def test_dggcn_subset_wise_uses_every_alpha():
    torch.manual_seed(0)
    shared = DGGCN(8, 8, A, subset_wise=False).eval()
    wise = DGGCN(8, 8, A, subset_wise=True).eval()
    wise.load_state_dict(shared.state_dict())
    with torch.no_grad():
        for m in (shared, wise):
            m.alpha.copy_(torch.tensor([0.5, 0.0, 0.0]))
    x = x_in()
    assert not torch.allclose(shared(x), wise(x))  # shared: alpha[0] for all subsets
    with torch.no_grad():
        wise.alpha.fill_(0.5)
    torch.testing.assert_close(shared(x), wise(x))


@pytest.mark.parametrize('act', ['tanh', 'relu', 'sigmoid', 'softmax'])
def test_dggcn_activations(act):
    torch.manual_seed(0)
    layer = DGGCN(8, 8, A, ctr_act=act, ada_act=act).eval()
    with torch.no_grad():
        layer.alpha.fill_(1.0)
        layer.beta.fill_(1.0)
    assert torch.isfinite(layer(x_in())).all()


@pytest.mark.parametrize('kwargs,match', [
    (dict(ctr='X'), 'ctr'), (dict(ada='yes'), 'ada'), (dict(ctr_act='gelu'), 'ctr_act'),
    (dict(norm='GN2'), 'unknown norm'), (dict(act='Relu'), 'unknown activation'), (dict(ratio=0.01), 'ratio')])
def test_dggcn_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DGGCN(8, 8, A, **kwargs)


def test_unit_tcn_padding_keeps_length_and_stride_halves():
    x = x_in(t=12)
    assert UnitTCN(8, 4, kernel_size=9)(x).shape == (2, 4, 12, 5)
    assert UnitTCN(8, 4, kernel_size=3, dilation=4)(x).shape == (2, 4, 12, 5)
    assert UnitTCN(8, 4, kernel_size=1, stride=2)(x).shape == (2, 4, 6, 5)
    assert isinstance(UnitTCN(8, 4, norm=None).bn, torch.nn.Identity)


def test_dgtcn_branch_channels():
    layer = DGTCN(64, 64)
    assert [b[0].out_channels if isinstance(b, torch.nn.Sequential) else b.out_channels
            for b in layer.branches] == [14, 10, 10, 10, 10, 10]
    layer = DGTCN(64, 64, mid_channels=0.25, ms_cfg=[(5, 1), '1x1'])
    assert layer.branch_channels == [16, 16]
    assert layer.transform[2].in_channels == 32


@pytest.mark.parametrize('ms_cfg', [[(3, 1)], [(5, 2), ('max', 3)], ['1x1', (3, 3)], [('max', 5), '1x1']])
def test_dgtcn_ms_cfg_and_stride(ms_cfg):
    x = x_in(t=12)
    assert run(DGTCN(8, 8, ms_cfg=ms_cfg), x).shape == (2, 8, 12, 5)
    assert run(DGTCN(8, 8, ms_cfg=ms_cfg, stride=2), x).shape == (2, 8, 6, 5)


def test_dgtcn_dilation_changes_output():
    torch.manual_seed(0)
    a = DGTCN(8, 8, ms_cfg=[(3, 1)]).eval()
    b = DGTCN(8, 8, ms_cfg=[(3, 3)]).eval()
    b.load_state_dict(a.state_dict())
    x = x_in(t=12)
    assert not torch.allclose(a(x), b(x))


def test_dgtcn_add_coeff_fuses_global_joint():
    torch.manual_seed(0)
    layer = DGTCN(8, 8, num_joints=25).eval()
    x = x_in()
    base = layer(x)
    with torch.no_grad():
        layer.add_coeff[2] = 1.0
    out = layer(x)
    # only joint 2 receives the global (mean-joint) feature; the transform is per joint (1x1)
    changed = (out - base).abs().amax(dim=(0, 1, 2))
    assert changed[2] > 0 and torch.all(changed[[0, 1, 3, 4]] == 0)


def test_dgtcn_dropout_only_in_training():
    layer = DGTCN(8, 8, dropout=0.9)
    x = x_in()
    layer.eval()
    torch.testing.assert_close(layer(x), layer(x))
    layer.train()
    assert (layer(x) == 0).float().mean() > 0.5


@pytest.mark.parametrize('ms_cfg', [[(3, 1), ('avg', 3)], [(3,)], ['2x2'], [(0, 1)], []])
def test_dgtcn_unknown_branch(ms_cfg):
    with pytest.raises(ValueError, match='ms_cfg'):
        DGTCN(8, 8, ms_cfg=ms_cfg)


def test_dgtcn_too_many_joints():
    with pytest.raises(ValueError, match='tcn_num_joints'):
        DGTCN(8, 8, num_joints=4)(x_in(v=5))
