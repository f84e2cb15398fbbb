"""DG-STGCN backbone layout, GCNHead, RecognizerGCN modes, build errors."""
import pytest
import torch

from pyskl.models import DGSTGCN, build_model

SMALL = dict(graph_cfg=dict(layout='coco', mode='random', num_filter=3), base_channels=16, num_stages=4,
             inflate_stages=[3], down_stages=[3], gcn_ratio=0.25)


def recognizer(num_classes=5, **backbone):
    cfg = dict(SMALL, **backbone)
    channels = DGSTGCN(**cfg).out_channels
    return build_model(dict(type='RecognizerGCN', backbone=dict(type='DGSTGCN', **cfg),
                            cls_head=dict(type='GCNHead', num_classes=num_classes, in_channels=channels)))


def x_in(n=2, clips=1, m=2, t=16, v=17, c=3):
    return torch.randn(n, clips, m, t, v, c, generator=torch.Generator().manual_seed(0))


def test_stage_layout():
    net = DGSTGCN(graph_cfg=dict(layout='nturgb+d', mode='random', num_filter=8))
    assert net.num_stages == 10 and net.out_channels == 256
    chans = [(b.gcn.in_channels, b.gcn.out_channels, b.tcn.branches[-1].stride[0]) for b in net.gcn]
    assert chans[0] == (3, 64, 1) and chans[4] == (64, 128, 2) and chans[7] == (128, 256, 2)
    assert net.gcn[0].residual is None and isinstance(net.gcn[1].residual, torch.nn.Identity)
    # in_channels == base_channels skips the lifting block
    assert DGSTGCN(graph_cfg=dict(layout='coco'), in_channels=64).num_stages == 9


def test_output_shape_and_temporal_downsampling():
    net = DGSTGCN(**SMALL).eval()
    out = net(x_in()[:, 0])
    assert out.shape == (2, 2, 32, 8, 17)


def test_per_stage_overrides():
    net = DGSTGCN(**dict(SMALL, gcn_ctr=('T', None, 'T', None), tcn_dropout=(0.5, 0.5, 0.1, 0.2),
                         tcn_ms_cfg=([(3, 1), '1x1'], [(3, 1)], [(5, 1)], [('max', 3)])))
    assert [b.gcn.ctr for b in net.gcn] == ['T', None, 'T', None]
    assert [b.tcn.drop.p for b in net.gcn] == [0.0, 0.5, 0.1, 0.2]  # never in the first block
    assert [len(b.tcn.branches) for b in net.gcn] == [2, 1, 1, 1]


@pytest.mark.parametrize('data_bn_type,size', [('VC', 51), ('MVC', 102), (None, None)])
def test_data_bn(data_bn_type, size):
    net = DGSTGCN(**dict(SMALL, data_bn_type=data_bn_type))
    if size is None:
        assert isinstance(net.data_bn, torch.nn.Identity)
    else:
        assert net.data_bn.num_features == size
    assert net.eval()(x_in()[:, 0]).shape[:3] == (2, 2, 32)


def test_joint_count_mismatch_is_explained():
    with pytest.raises(ValueError, match="25 joints, but the graph layout 'coco' has 17"):
        DGSTGCN(**SMALL)(x_in(v=25)[:, 0])
    with pytest.raises(ValueError, match='in_channels'):
        DGSTGCN(**SMALL)(x_in(c=2)[:, 0])
    with pytest.raises(ValueError, match='data_bn_type'):
        DGSTGCN(**dict(SMALL, data_bn_type='CV'))


def test_modes_and_clip_averaging():
    model = recognizer().eval()
    x = x_in(n=2, clips=3)
    with torch.no_grad():
        logits = model(x, mode='tensor')
        assert logits.shape == (6, 5)
        preds = model(x, torch.tensor([1, 4]), mode='predict')
    per_clip = logits.reshape(2, 3, 5)
    torch.testing.assert_close(preds[0]['pred_score'], per_clip[0].softmax(-1).mean(0))
    assert int(preds[1]['gt_label']) == 4
    model.test_cfg['average_clips'] = 'score'
    with torch.no_grad():
        torch.testing.assert_close(model(x, mode='predict')[1]['pred_score'], per_clip[1].mean(0))
    model.test_cfg['average_clips'] = None
    with torch.no_grad():
        assert model(x, mode='predict')[0]['pred_score'].shape == (3, 5)
    model.test_cfg.update(average_clips='prob', max_testing_views=2)
    with torch.no_grad():
        torch.testing.assert_close(model(x, mode='tensor'), logits, rtol=1e-5, atol=1e-6)


def test_loss_and_label_smoothing():
    model = recognizer().train()
    x, y = x_in(n=4), torch.tensor([0, 1, 2, 3])
    torch.manual_seed(0)
    out = model(x, y, mode='loss')
    assert set(out) == {'loss_cls', 'top1_acc'} and out['loss_cls'].requires_grad
    assert out['loss_cls'].item() == pytest.approx(torch.log(torch.tensor(5.0)).item(), abs=0.1)  # fc init std .01
    with pytest.raises(ValueError, match='labels must be in'):
        model(x, torch.tensor([0, 1, 2, 9]), mode='loss')
    smooth = build_model(dict(type='RecognizerGCN', backbone=dict(type='DGSTGCN', **SMALL),
                              cls_head=dict(type='GCNHead', num_classes=5, in_channels=32,
                                            loss_cls=dict(type='CrossEntropyLoss', label_smoothing=0.1))))
    assert smooth.cls_head.label_smoothing == 0.1


def test_head_init_and_errors():
    model = recognizer(num_classes=7)
    assert model.cls_head.fc_cls.weight.std().item() == pytest.approx(0.01, rel=0.2)
    assert torch.all(model.cls_head.fc_cls.bias == 0)
    with pytest.raises(ValueError, match='in_channels'):
        build_model(dict(type='RecognizerGCN', backbone=dict(type='DGSTGCN', **SMALL),
                         cls_head=dict(type='GCNHead', num_classes=5, in_channels=64)))(x_in(), mode='tensor')
    with pytest.raises(ValueError, match='average_clips'):
        build_model(dict(type='RecognizerGCN', backbone=dict(type='DGSTGCN', **SMALL), test_cfg=dict(
            average_clips='mean')))


def test_unknown_type_suggests_closest_name():
    with pytest.raises(KeyError, match="'DGSTGNC' is not a registered type in the pyskl::model registry. "
                                       "Did you mean 'DGSTGCN'"):
        build_model(dict(type='RecognizerGCN', backbone=dict(type='DGSTGNC', **SMALL)))
    with pytest.raises(KeyError, match="Did you mean 'GCNHead'"):
        build_model(dict(type='RecognizerGCN', backbone=dict(type='DGSTGCN', **SMALL),
                         cls_head=dict(type='GCNhead', num_classes=5, in_channels=32)))


def test_unknown_argument_is_named():
    with pytest.raises(TypeError, match='gcn_ration'):
        build_model(dict(type='RecognizerGCN', backbone=dict(type='DGSTGCN', gcn_ration=0.1, **SMALL)))
