"""Checkpoints: PYSKL's (mmcv 1.x layout), ours, DDP-prefixed; weights-only loading; pretrained=; mismatch errors."""
import pickle
from collections import OrderedDict

import pytest
import torch

from pyskl.models import CheckpointMismatchError, build_model, load_checkpoint

CFG = dict(type='RecognizerGCN',
           backbone=dict(type='DGSTGCN', graph_cfg=dict(layout='coco', mode='random', num_filter=3),
                         base_channels=16, num_stages=3, inflate_stages=[], down_stages=[]),
           cls_head=dict(type='GCNHead', num_classes=4, in_channels=16))


def model():
    return build_model(CFG)


def test_pyskl_mmcv1_checkpoint_loads_weights_only(tmp_path):
    src = model()
    state = OrderedDict((k, v.clone()) for k, v in src.state_dict().items())
    state._metadata = OrderedDict()  # what mmcv 1.x's get_state_dict leaves on the dict
    ckpt = {'meta': {'mmcv_version': '1.5.0', 'time': 'Thu Jun 2 10:00:00 2022', 'epoch': 16, 'iter': 1000,
                     'config': "model = dict(type='RecognizerGCN')", 'hook_msgs': {'last_ckpt': 'x.pth'}},
            'state_dict': state, 'optimizer': {'state': {}, 'param_groups': [{'lr': 0.1, 'params': [0, 1]}]}}
    path = tmp_path / 'pyskl.pth'
    torch.save(ckpt, path)
    dst = model()
    load_checkpoint(dst, str(path))
    for k, v in src.state_dict().items():
        torch.testing.assert_close(dst.state_dict()[k], v)


def test_ddp_prefix_and_bare_state_dict(tmp_path):
    src = model()
    torch.save({'module.' + k: v for k, v in src.state_dict().items()}, tmp_path / 'ddp.pth')
    dst = model()
    load_checkpoint(dst, str(tmp_path / 'ddp.pth'))
    torch.testing.assert_close(dst.cls_head.fc_cls.weight, src.cls_head.fc_cls.weight)


def test_other_architecture_gives_one_line_error(tmp_path):
    other = build_model(dict(CFG, cls_head=dict(type='GCNHead', num_classes=60, in_channels=16)))
    torch.save({'state_dict': other.state_dict()}, tmp_path / 'other.pth')
    with pytest.raises(CheckpointMismatchError) as err:
        load_checkpoint(model(), str(tmp_path / 'other.pth'))
    msg = str(err.value)
    assert '\n' not in msg and 'cls_head.fc_cls.weight (60, 16) vs model (4, 16)' in msg
    info = load_checkpoint(model(), str(tmp_path / 'other.pth'), strict=False)
    assert len(info['misshaped']) == 2


def test_code_in_checkpoint_is_not_executed(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ('pwned',))

    path = tmp_path / 'evil.pth'
    with open(path, 'wb') as f:
        pickle.dump({'state_dict': {}, 'x': Evil()}, f, protocol=2)  # torch.save's protocol
    with pytest.raises(ValueError, match='weights-only'):
        load_checkpoint(model(), str(path))


def test_missing_file():
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        load_checkpoint(model(), 'nope.pth')


def test_pretrained_takes_a_backbone_file_or_a_recognizer_checkpoint(tmp_path):
    src = model()
    torch.save({'state_dict': src.state_dict()}, tmp_path / 'recognizer.pth')
    torch.save(src.backbone.state_dict(), tmp_path / 'backbone.pth')
    for name in ('recognizer.pth', 'backbone.pth'):
        dst = build_model(dict(CFG, backbone=dict(CFG['backbone'], pretrained=str(tmp_path / name))))
        dst.init_weights()
        for k, v in src.backbone.state_dict().items():
            torch.testing.assert_close(dst.backbone.state_dict()[k], v)


def test_pretrained_of_which_nothing_fits_is_refused(tmp_path):
    torch.save({'state_dict': {'fc.weight': torch.zeros(2, 2)}}, tmp_path / 'other.pth')
    dst = build_model(dict(CFG, backbone=dict(CFG['backbone'], pretrained=str(tmp_path / 'other.pth'))))
    with pytest.raises(CheckpointMismatchError, match='no weight of .*other.pth fits this DGSTGCN'):
        dst.init_weights()
