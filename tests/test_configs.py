"""Every shipped config loads with mmengine and builds its model."""
from pathlib import Path

import pytest
from mmengine import Config

from pyskl.apis.legacy_config import translate_legacy_config
from pyskl.models import build_model

REPO = Path(__file__).resolve().parents[1]
NTU = sorted((REPO / 'configs' / 'dgstgcn').glob('ntu*/*.py'))
NWUCLA = sorted((REPO / 'configs' / 'dgstgcn' / 'nwucla_xview').glob('*.py'))


def test_sixteen_ntu_configs():
    assert len(NTU) == 16


@pytest.mark.parametrize('path', NTU, ids=lambda p: f'{p.parent.name}/{p.name}')
def test_ntu_config_builds(path):
    cfg = Config.fromfile(str(path))
    stream = path.stem
    assert cfg.train_pipeline[2] == dict(type='GenSkeFeat', feats=[stream])
    num_classes = 120 if 'ntu120' in str(path) else 60
    assert cfg.model.cls_head.num_classes == num_classes
    split = cfg.data.val.split
    assert split == {'xsub': 'xsub_val', 'xview': 'xview_val', 'xset': 'xset_val'}[split.split('_')[0]]
    model = build_model(cfg.model)
    assert model.backbone.num_stages == 10


def test_nwucla_has_a_full_and_a_cpu_recipe_per_stream():
    assert [p.stem for p in NWUCLA] == ['b', 'b_cpu', 'bm', 'bm_cpu', 'j', 'j_cpu', 'jm', 'jm_cpu']


@pytest.mark.parametrize('path', NWUCLA, ids=lambda p: p.name)
def test_nwucla_config_builds(path):
    cfg = Config.fromfile(str(path))
    stream = path.stem.removesuffix('_cpu')
    for pipeline in (cfg.train_pipeline, cfg.val_pipeline, cfg.test_pipeline):
        assert dict(type='GenSkeFeat', dataset='nw-ucla', feats=[stream]) in pipeline
    assert cfg.data.train.dataset.split == 'xview_train' and cfg.data.test.split == 'xview_val'
    assert cfg.work_dir.endswith(f'nwucla_xview/{path.stem}')
    model = build_model(cfg.model)
    assert model.backbone.graph.num_node == 20 and model.cls_head.num_classes == 10
    schedule = translate_legacy_config(cfg)
    clip_lens = {t['clip_len'] for p in (cfg.data.train.dataset.pipeline, cfg.data.val.pipeline, cfg.data.test.pipeline)
                 for t in p if 'clip_len' in t}
    if path.stem.endswith('_cpu'):  # 10 epochs of the 5x repeated set, cosine over every iteration
        assert schedule.train_cfg.max_epochs == 10 and cfg.data.train.times == 5
        assert [s['type'] for s in schedule.param_scheduler] == ['LinearLR', 'CosineAnnealingLR']
        assert schedule.param_scheduler[1]['convert_to_iter_based']
        # every CPU recipe mirrors in training and at test time, samples 32-frame windows (the full
        # recipes 52) and smooths its labels
        assert any(t['type'] == 'RandomFlip' for t in cfg.data.train.dataset.pipeline)
        assert any(t['type'] == 'MirroredClips' for t in cfg.data.test.pipeline)
        assert clip_lens == {32}
        assert model.cls_head.label_smoothing == 0.1
    else:  # CTR-GCN's: 52-frame windows, 65 epochs, step at 50
        assert clip_lens == {52}
        assert schedule.train_cfg.max_epochs == 65
        assert schedule.param_scheduler[1] == dict(type='MultiStepLR', milestones=[50], gamma=0.1, by_epoch=True)


@pytest.mark.parametrize('stream', ['b', 'jm', 'bm'])
def test_nwucla_cpu_recipe_is_the_joint_streams_with_other_features(stream):
    """A change to j_cpu.py's recipe reaches every stream; only the features and work dir differ."""
    folder = REPO / 'configs' / 'dgstgcn' / 'nwucla_xview'
    joint = Config.fromfile(str(folder / 'j_cpu.py')).to_dict()
    other = Config.fromfile(str(folder / f'{stream}_cpu.py')).to_dict()
    text = repr(other).replace(f"'feats': ['{stream}']", "'feats': ['j']").replace(f'{stream}_cpu', 'j_cpu')
    assert text == repr(joint)
