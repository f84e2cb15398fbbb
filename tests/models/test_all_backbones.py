"""The same checks over every registered backbone (as timm's test_models.py): a new backbone is covered
by being registered.

For each: build from ``graph_cfg`` alone, forward and backward on three layouts and on 1 and 2
persons, a checkpoint round trip, ONNX export verified with onnxruntime. A backbone whose data
BatchNorm normalises each person on its own (``data_bn_type='MVC'``: AAGCN, CTR-GCN, MS-G3D) is built
for the person count it gets, and refuses any other.
"""
import pytest
import torch

from pyskl.models import build_model, load_checkpoint
from pyskl.models.backbones.base import GCNBackbone
from pyskl.registry import MODELS

#: the graph mode each backbone is used with (the released configs'); 'spatial' for any other
GRAPH_MODE = {'DGSTGCN': 'random', 'STGCN': 'stgcn_spatial', 'MSG3D': 'binary_adj'}
LAYOUTS = {'nturgb+d': 25, 'coco': 17, 'nw-ucla': 20}
FRAMES = 16


def backbone_names() -> list[str]:
    import pyskl.models  # noqa: F401 (registers the backbones)
    return sorted(name for name, cls in MODELS.module_dict.items()
                  if isinstance(cls, type) and issubclass(cls, GCNBackbone))


def recognizer(name: str, layout: str = 'nturgb+d', persons: int = 2, num_classes: int = 7):
    backbone = dict(type=name, graph_cfg=dict(layout=layout, mode=GRAPH_MODE.get(name, 'spatial')))
    probe = build_model(backbone)
    if probe.data_bn_type == 'MVC':
        backbone['num_person'] = persons
    return build_model(dict(type='RecognizerGCN', backbone=backbone,
                            cls_head=dict(type='GCNHead', num_classes=num_classes, in_channels=probe.out_channels)))


def test_every_zoo_backbone_is_registered():
    assert {'DGSTGCN', 'STGCN', 'AAGCN', 'CTRGCN', 'MSG3D'} <= set(backbone_names())


@pytest.mark.parametrize('layout', sorted(LAYOUTS))
@pytest.mark.parametrize('name', backbone_names())
def test_forward_and_backward_on_each_layout(name, layout):
    torch.manual_seed(0)
    model = recognizer(name, layout).train()
    x = torch.randn(2, 1, 2, FRAMES, LAYOUTS[layout], 3)
    losses = model(x, torch.tensor([1, 3]), mode='loss')
    assert torch.isfinite(losses['loss_cls'])
    losses['loss_cls'].backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert all(g is not None for g in grads)
    assert sum(g.abs().sum().item() for g in grads) > 0
    assert model(x, mode='tensor').shape == (2, 7)


@pytest.mark.parametrize('name', backbone_names())
def test_one_and_two_persons(name):
    for persons in (1, 2):
        model = recognizer(name, persons=persons).eval()
        with torch.no_grad():
            scores = model(torch.randn(3, 1, persons, FRAMES, 25, 3), mode='tensor')
        assert scores.shape == (3, 7) and torch.isfinite(scores).all()
    model = recognizer(name, persons=2).eval()
    if model.backbone.data_bn_type == 'MVC':  # the person count is part of the model
        with pytest.raises(ValueError, match='persons'):
            model(torch.randn(1, 1, 1, FRAMES, 25, 3), mode='tensor')


@pytest.mark.parametrize('name', backbone_names())
def test_checkpoint_round_trip(name, tmp_path):
    torch.manual_seed(0)
    src = recognizer(name).train()
    src(torch.randn(4, 1, 2, FRAMES, 25, 3), mode='tensor')  # BatchNorm statistics away from their start
    torch.save({'state_dict': src.state_dict()}, tmp_path / 'model.pth')
    dst = recognizer(name)
    load_checkpoint(dst, str(tmp_path / 'model.pth'))
    x = torch.randn(2, 1, 2, FRAMES, 25, 3)
    with torch.no_grad():
        torch.testing.assert_close(dst.eval()(x, mode='tensor'), src.eval()(x, mode='tensor'))


@pytest.mark.parametrize('name', backbone_names())
def test_onnx_export_matches_pytorch(name, tmp_path):
    pytest.importorskip('onnxruntime', reason='onnxruntime is not installed (pip install -e ".[deploy]")')
    from pyskl.deployment.export import ScoresNet, export_onnx, fixed_persons, verify_export
    torch.manual_seed(0)
    model = recognizer(name).train()
    model(torch.randn(4, 1, 2, FRAMES, 25, 3), mode='tensor')
    net = ScoresNet(model).eval()
    path = str(tmp_path / 'model.onnx')
    export_onnx(net, torch.zeros(2, 2, FRAMES, 25, 3), path)
    other_persons = 2 if fixed_persons(net) else 1
    diffs = verify_export(net, path, 'onnx', [(1, 2, FRAMES, 25, 3), (3, other_persons, FRAMES + 8, 25, 3)])
    assert max(diffs) < 1e-4, diffs
