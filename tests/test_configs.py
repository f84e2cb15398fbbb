"""Every shipped config loads with mmengine and builds its model."""
from pathlib import Path

import pytest
from mmengine import Config

from pyskl.models import build_model

REPO = Path(__file__).resolve().parents[1]
NTU = sorted((REPO / 'configs' / 'dgstgcn').glob('ntu*/*.py'))


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
