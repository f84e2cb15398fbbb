"""The registries: look-ups through mmengine's, and typo hints."""
import pytest
import torch
from mmengine.registry import OPTIMIZERS, PARAM_SCHEDULERS, init_default_scope

from pyskl.registry import TRANSFORMS, registered_names


def test_mmengine_types_found_from_pyskl_scope():
    init_default_scope('pyskl')
    opt = OPTIMIZERS.build(dict(type='SGD', params=[torch.zeros(1, requires_grad=True)], lr=0.1))
    sched = PARAM_SCHEDULERS.build(dict(type='CosineAnnealingLR', optimizer=opt, T_max=3))
    assert type(sched).__name__ == 'CosineAnnealingLR'


def test_typo_in_scheduler_suggests():
    init_default_scope('pyskl')
    with pytest.raises(KeyError, match="Did you mean 'CosineAnnealingLR'"):
        PARAM_SCHEDULERS.build(dict(type='CosineAnealingLR'))


def test_typo_in_transform_suggests_case_insensitively():
    with pytest.raises(KeyError, match="Did you mean 'PreNormalize3D'"):
        TRANSFORMS.build(dict(type='prenormalize3d'))
    assert 'GenSkeFeat' in registered_names(TRANSFORMS)
    assert 'GenSkeFeat' in TRANSFORMS and 'GenSkeFeet' not in TRANSFORMS


def test_typo_in_a_model_argument_names_the_type_and_suggests():
    from pyskl.models import build_model
    backbone = dict(type='STGCN', graph_cfg=dict(layout='nturgb+d', mode='spatial'), gcn_adaptiv='init')
    with pytest.raises(TypeError, match=r"STGCN has no argument 'gcn_adaptiv' .*Did you mean 'gcn_adaptive'"):
        build_model(dict(type='RecognizerGCN', backbone=backbone,
                         cls_head=dict(type='GCNHead', num_classes=4, in_channels=256)))
    with pytest.raises(TypeError, match=r"DGSTGCN has no argument 'zzz'.*It takes: graph_cfg, in_channels"):
        build_model(dict(type='DGSTGCN', graph_cfg=dict(layout='coco', mode='random'), zzz=1))
