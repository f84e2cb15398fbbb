"""Every shipped config loads with mmengine and builds its model."""
from pathlib import Path

import pytest
from mmengine import Config

from pyskl.models import build_model
from pyskl.runner import load_config

REPO = Path(__file__).resolve().parents[1]
NTU = sorted((REPO / 'configs' / 'dgstgcn').glob('ntu*_3dkp/*.py'))
HRNET_FOLDERS = ['ntu60_xsub_hrnet', 'ntu60_xview_hrnet', 'ntu120_xsub_hrnet', 'ntu120_xset_hrnet']
HRNET = [REPO / 'configs' / 'dgstgcn' / f / f'{s}.py' for f in HRNET_FOLDERS for s in ('j', 'b', 'jm', 'bm')]
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
    schedule = load_config(cfg)
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


# The config policy: each benchmark folder keeps a self-contained j.py (and j_cpu.py), the file a
# user edits; b, jm and bm derive from it with _base_ and swap only the stream. A new folder
# (2D, another dataset) is covered by these tests as soon as it exists; a new family of
# benchmark folders that share one recipe but for the data is one line of FAMILIES.
CONFIGS = REPO / 'configs' / 'dgstgcn'
JOINT_CONFIGS = sorted(CONFIGS.glob('*/j.py'))  # (j_cpu.py, a schedule for CPUs, may derive from it)
DERIVED = [p for p in sorted(CONFIGS.glob('*/*.py')) if p.stem.split('_')[0] in ('b', 'jm', 'bm')]
#: folders that hold one recipe, on different data: name -> glob
FAMILIES = {'ntu_3dkp': 'ntu*_3dkp', 'ntu_hrnet': 'ntu*_hrnet'}


def _ids(path):
    return f'{path.parent.name}/{path.name}'


@pytest.mark.parametrize('path', JOINT_CONFIGS, ids=_ids)
def test_a_joint_config_is_self_contained(path):
    assert '_base_' not in path.read_text()


@pytest.mark.parametrize('path', DERIVED, ids=_ids)
def test_a_derived_config_is_its_joint_config_with_another_stream(path):
    """A change to j.py's recipe reaches every stream; only the features and the work dir differ."""
    stream, _, variant = path.stem.partition('_')
    base = f'j_{variant}' if variant else 'j'
    assert f"_base_ = ['./{base}.py']" in path.read_text()
    joint = Config.fromfile(str(path.parent / f'{base}.py')).to_dict()
    other = Config.fromfile(str(path)).to_dict()
    assert other['work_dir'] == joint['work_dir'][:-len(base)] + path.stem
    text = repr(other).replace(f"'feats': ['{stream}']", "'feats': ['j']").replace(f"/{path.stem}'", f"/{base}'")
    assert text == repr(joint)


def _without_data(cfg: dict) -> dict:
    """The recipe of a config: its dict with the data's identity (classes, annotation file, splits,
    work dir) taken out."""
    cfg = dict(cfg, work_dir=None, ann_file=None, num_classes=None)
    cfg['model'] = dict(cfg['model'], cls_head=dict(cfg['model']['cls_head'], num_classes=None))
    data = dict(cfg['data'])
    for split in ('train', 'val', 'test'):
        outer = dict(data[split])
        inner = dict(outer.get('dataset', outer), ann_file=None, split=None)
        data[split] = dict(outer, dataset=inner) if 'dataset' in outer else inner
    cfg['data'] = data
    return cfg


@pytest.mark.parametrize('family', sorted(FAMILIES))
def test_the_folders_of_a_family_differ_only_in_the_data(family):
    folders = sorted(p.parent for p in CONFIGS.glob(f'{FAMILIES[family]}/j.py'))
    assert len(folders) >= 2
    first = _without_data(Config.fromfile(str(folders[0] / 'j.py')).to_dict())
    for folder in folders[1:]:
        assert _without_data(Config.fromfile(str(folder / 'j.py')).to_dict()) == first, folder.name


@pytest.mark.parametrize('path', HRNET, ids=lambda p: f'{p.parent.name}/{p.name}')
def test_ntu_2d_config_builds(path):
    """COCO-17 x, y, score input through the original's UniformSample + PoseDecode pipelines, NTU schedule."""
    cfg = Config.fromfile(str(path))
    stream = path.stem
    for pipeline, num_clips in ((cfg.data.train.dataset.pipeline, None), (cfg.data.val.pipeline, 1),
                                (cfg.data.test.pipeline, 10)):
        assert [t['type'] for t in pipeline] == ['PreNormalize2D', 'GenSkeFeat', 'UniformSample', 'PoseDecode',
                                                 'FormatGCNInput', 'Collect', 'ToTensor']
        assert pipeline[1] == dict(type='GenSkeFeat', dataset='coco', feats=[stream])
        assert pipeline[2].get('num_clips') == num_clips and pipeline[2]['clip_len'] == 100
        assert pipeline[4] == dict(type='FormatGCNInput', num_person=2)
    benchmark = path.parent.name.split('_')[1]
    assert cfg.data.train.dataset.split == f'{benchmark}_train' and cfg.data.test.split == f'{benchmark}_val'
    num_classes = 120 if 'ntu120' in str(path) else 60
    assert cfg.model.cls_head.num_classes == num_classes
    assert cfg.data.train.dataset.ann_file == f"data/nturgbd/{path.parent.name.split('_')[0]}_hrnet.pkl"
    assert cfg.work_dir.endswith(f'{path.parent.name}/{stream}')
    ntu_3d = Config.fromfile(str(REPO / 'configs' / 'dgstgcn' / 'ntu60_xsub_3dkp' / 'j.py'))
    for key in ('optimizer', 'optimizer_config', 'lr_config', 'total_epochs'):
        assert cfg[key] == ntu_3d[key]
    assert cfg.data.train.times == 5 and cfg.data.videos_per_gpu == 16
    model = build_model(cfg.model)
    assert model.backbone.graph.num_node == 17 and model.backbone.in_channels == 3
    assert model.backbone.num_stages == 10


K400 = [REPO / 'configs' / 'dgstgcn' / 'k400_hrnet' / f'{s}.py' for s in ('j', 'b', 'jm', 'bm')]


@pytest.mark.parametrize('path', K400, ids=lambda p: p.name)
def test_k400_config_builds(path):
    """The compressed Kinetics form: DecompressPose first, the kpfile cache, box_thr 0.5, 400 classes."""
    cfg = Config.fromfile(str(path))
    for ds, num_clips in ((cfg.data.train, None), (cfg.data.val, 1), (cfg.data.test, 10)):
        types = [t['type'] for t in ds.pipeline]
        assert types == ['DecompressPose', 'PreNormalize2D', 'GenSkeFeat', 'UniformSample', 'PoseDecode',
                         'FormatGCNInput', 'Collect', 'ToTensor']
        assert ds.pipeline[0] == dict(type='DecompressPose', squeeze=True, max_person=10)
        assert ds.pipeline[2] == dict(type='GenSkeFeat', dataset='coco', feats=[path.stem])
        assert ds.pipeline[3].get('num_clips') == num_clips
        assert ds.cache is True and ds.box_thr == 0.5 and ds.kpfile_dir == 'data/k400/kpfiles'
    assert cfg.data.train.split == 'train' and cfg.data.test.split == 'val'
    model = build_model(cfg.model)
    assert model.cls_head.num_classes == 400 and model.backbone.graph.num_node == 17

