"""Every shipped config loads with mmengine, translates, builds its model and runs a clip of its data
through it; the config policy holds in every model folder (``configs/<model>/<benchmark>/<stream>.py``).

The policy: each benchmark folder keeps a self-contained ``j.py`` (and ``j_cpu.py``), the file a user
edits; ``b``, ``jm`` and ``bm`` derive from it with ``_base_`` and swap only the stream. Folders of one
family (the NTU 3D benchmarks, the NTU 2D ones, ...) hold one recipe on different data. A new model
folder is covered by these tests as soon as it exists; a new benchmark folder needs one line of
``BENCHMARKS`` (what its data is) and, if it starts a family, one of ``FAMILIES``.
"""
import functools
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine import Config

from pyskl.datasets.transforms import Compose
from pyskl.models import build_model
from pyskl.runner import load_config
from pyskl.skeleton import LAYOUTS
from shared_data import shared_path

REPO = Path(__file__).resolve().parents[1]
CONFIGS = REPO / 'configs'
MODEL_FOLDERS = sorted(p.name for p in CONFIGS.iterdir() if p.is_dir())
ALL = sorted(CONFIGS.glob('*/*/*.py'))
JOINT_CONFIGS = sorted(CONFIGS.glob('*/*/j.py'))  # (j_cpu.py, a schedule for CPUs, may derive from it)
DERIVED = [p for p in ALL if p.stem.split('_')[0] in ('b', 'jm', 'bm')]
STREAMS = ('j', 'b', 'jm', 'bm')

#: the original PYSKL's GCN zoo: one recipe (the fixtures README's table), each model its own network
ZOO = ('stgcn', 'stgcn++', 'aagcn', 'ctrgcn', 'msg3d')
NTU_3D = ('ntu60_xsub_3dkp', 'ntu60_xview_3dkp', 'ntu120_xsub_3dkp', 'ntu120_xset_3dkp')
NTU_2D = ('ntu60_xsub_hrnet', 'ntu60_xview_hrnet', 'ntu120_xsub_hrnet', 'ntu120_xset_hrnet')


def _ntu(two_d: bool, classes: int, split: str, ann: str) -> dict:
    return dict(layout='coco' if two_d else 'nturgb+d', classes=classes,
                splits=(f'{split}_train', f'{split}_val', f'{split}_val'), ann_file=f'data/nturgbd/{ann}.pkl')


def _data(layout: str, classes: int, splits: tuple, ann_file: str) -> dict:
    return dict(layout=layout, classes=classes, splits=splits, ann_file=ann_file)


#: what each benchmark folder's data is: layout, classes, the train / val / test splits, the annotation
#: file (a ``vanilla_`` folder has its benchmark's data)
BENCHMARKS = {
    'ntu60_xsub_3dkp': _ntu(False, 60, 'xsub', 'ntu60_3danno'),
    'ntu60_xview_3dkp': _ntu(False, 60, 'xview', 'ntu60_3danno'),
    'ntu120_xsub_3dkp': _ntu(False, 120, 'xsub', 'ntu120_3danno'),
    'ntu120_xset_3dkp': _ntu(False, 120, 'xset', 'ntu120_3danno'),
    'ntu60_xsub_hrnet': _ntu(True, 60, 'xsub', 'ntu60_hrnet'),
    'ntu60_xview_hrnet': _ntu(True, 60, 'xview', 'ntu60_hrnet'),
    'ntu120_xsub_hrnet': _ntu(True, 120, 'xsub', 'ntu120_hrnet'),
    'ntu120_xset_hrnet': _ntu(True, 120, 'xset', 'ntu120_hrnet'),
    'nwucla_xview': _data('nw-ucla', 10, ('xview_train', 'xview_val', 'xview_val'), 'data/nw-ucla/nwucla_3danno.pkl'),
    'k400_hrnet': _data('coco', 400, ('train', 'val', 'val'), 'data/k400/k400_hrnet.pkl'),
    'kinetics_skeleton': _data('openpose', 400, ('train', 'val', 'val'),
                               'data/kinetics_skeleton/kinetics_skeleton.pkl'),
    'babel60': _data('nturgb+d', 60, ('train', 'val', 'val'), 'data/babel/babel60.pkl'),
    'babel120': _data('nturgb+d', 120, ('train', 'val', 'val'), 'data/babel/babel120.pkl'),
    'smarthome_cs': _data('smarthome13', 31, ('cs_train', 'cs_test', 'cs_test'), 'data/smarthome/smarthome.pkl'),
    'smarthome_cv1': _data('smarthome13', 19, ('cv1_train', 'cv1_val', 'cv1_test'), 'data/smarthome/smarthome_cv.pkl'),
    'smarthome_cv2': _data('smarthome13', 19, ('cv2_train', 'cv2_val', 'cv2_test'), 'data/smarthome/smarthome_cv.pkl'),
    'demo': _data('nturgb+d', 8, ('train', 'val', 'val'), 'tools/data/demo/demo_3danno.pkl'),
}
#: folders that hold one recipe, on different data: name -> glob (within a model folder)
FAMILIES = {'ntu_3dkp': 'ntu*_3dkp', 'ntu_hrnet': 'ntu*_hrnet', 'vanilla_ntu_3dkp': 'vanilla_ntu*_3dkp',
            'babel': 'babel*', 'smarthome': 'smarthome_*'}


def _ids(path):
    return str(path.relative_to(CONFIGS).with_suffix(''))


def _benchmark(path: Path) -> dict:
    name = path.parent.name.removeprefix('vanilla_')
    if name not in BENCHMARKS:
        pytest.fail(f'{_ids(path)}: benchmark folder {name!r} is not in BENCHMARKS: add what its data is')
    return BENCHMARKS[name]


@functools.lru_cache(maxsize=None)
def _load(path: Path) -> Config:
    return Config.fromfile(str(path))


_BUILT = {}


def _model(cfg: Config):
    """The config's model in eval mode, built once per model dict (the streams of a folder share one)."""
    model = cfg.model.to_dict()
    key = repr(model)
    if key not in _BUILT:
        torch.manual_seed(0)
        _BUILT[key] = build_model(model).eval()
    return _BUILT[key]


def _datasets(cfg: Config) -> dict:
    """The innermost dataset dict of each split (through wrappers such as RepeatDataset)."""
    out = {}
    for split in ('train', 'val', 'test'):
        ds = cfg.data[split]
        while 'dataset' in ds:
            ds = ds.dataset
        out[split] = ds
    return out


@pytest.mark.parametrize('model', ZOO)
def test_every_zoo_model_has_every_benchmark_and_stream(model):
    folder = CONFIGS / model
    for benchmark in NTU_3D + NTU_2D:
        assert sorted(p.stem for p in (folder / benchmark).glob('*.py')) == sorted(STREAMS), benchmark
    names = sorted(p.stem for p in (folder / 'nwucla_xview').glob('*.py'))
    assert names == sorted(STREAMS + tuple(f'{s}_cpu' for s in STREAMS))
    if model == 'stgcn':  # the original's vanilla ST-GCN recipe too
        for benchmark in NTU_3D:
            assert sorted(p.stem for p in (folder / f'vanilla_{benchmark}').glob('*.py')) == sorted(STREAMS)


def test_every_folder_has_a_joint_config_and_streams_with_their_base():
    for folder in sorted({p.parent for p in ALL}):
        names = {p.stem for p in folder.glob('*.py')}
        assert 'j' in names, _ids(folder)
        for name in names:
            stream, _, variant = name.partition('_')
            assert stream in STREAMS, f'{_ids(folder)}/{name}.py: not a stream ({STREAMS}) config'
            assert not variant or f'j_{variant}' in names, f'{_ids(folder)}/{name}.py has no j_{variant}.py'


@pytest.mark.parametrize('path', ALL, ids=_ids)
def test_config_builds_and_fits_its_data(path):
    """Loads, translates; the model, the splits, the features and the work dir are the folder's."""
    cfg = _load(path)
    bench = _benchmark(path)
    stream = path.stem.split('_')[0]
    load_config(cfg)  # the original keys translate (schedule, loaders, hooks)
    model = _model(cfg)
    assert model.backbone.graph.layout.name == bench['layout']
    assert model.backbone.num_joints == LAYOUTS[bench['layout']].num_node
    assert model.cls_head.num_classes == bench['classes']
    datasets = _datasets(cfg)
    assert (datasets['train'].split, datasets['val'].split, datasets['test'].split) == bench['splits']
    for ds in datasets.values():
        assert ds.ann_file == bench['ann_file']
        features = [t for t in ds.pipeline if t['type'] == 'GenSkeFeat']
        assert len(features) == 1 and features[0]['feats'] == [stream]
    assert cfg.work_dir == f'./work_dirs/{path.parent.parent.name}/{path.parent.name}/{path.stem}'


def _sample(pipeline: list, layout: str, rng: np.random.Generator) -> dict:
    """A sample as in an annotation file for ``pipeline``: as many persons as it formats, 120 frames, a
    smooth motion; 2D (pixels in a 480 x 640 image, with scores) where it normalises 2D skeletons."""
    M = next(t.get('num_person', 2) for t in pipeline if t['type'] == 'FormatGCNInput')
    T, V = 120, LAYOUTS[layout].num_node
    walk = np.cumsum(rng.normal(scale=0.01, size=(M, T, V, 3)), axis=1)
    keypoint = (rng.normal(scale=0.3, size=(M, 1, V, 3)) + walk + (0, 0, 3)).astype(np.float32)
    sample = dict(frame_dir='sample', label=1, total_frames=T, start_index=0, test_mode=True)
    if any(t['type'] == 'PreNormalize2D' for t in pipeline):
        sample.update(keypoint=(keypoint[..., :2] * 100 + (320, 240)).astype(np.float32), img_shape=(480, 640),
                      keypoint_score=rng.uniform(0.2, 1, size=(M, T, V)).astype(np.float32))
    else:
        sample['keypoint'] = keypoint
    return sample


FORWARD = [p for p in ALL if p.stem in ('j', 'j_cpu') and p.parent.name != 'k400_hrnet']


@pytest.mark.parametrize('path', FORWARD, ids=_ids)
def test_a_clip_of_the_data_goes_through_the_model(path):
    """The val pipeline's output fits the model (persons, joints, channels): a person count fixed by the data
    BatchNorm must be the one the pipeline gives. (k400_hrnet reads compressed kpfiles: its pipeline runs in
    tests/tools/test_k400_dist.py.)"""
    cfg = _load(path)
    pipeline = cfg.data.val.pipeline
    data = Compose(pipeline)(_sample(pipeline, _benchmark(path)['layout'], np.random.default_rng(0)))
    keypoint = data['keypoint']  # num_clips, M, T, V, C
    with torch.no_grad():
        scores = _model(cfg)(keypoint[None], mode='predict')[0]['pred_score']
    assert scores.shape == (_benchmark(path)['classes'], ) and torch.isfinite(scores).all()


@pytest.mark.parametrize('path', JOINT_CONFIGS, ids=_ids)
def test_a_joint_config_is_self_contained(path):
    assert '_base_' not in path.read_text()


@pytest.mark.parametrize('path', DERIVED, ids=_ids)
def test_a_derived_config_is_its_joint_config_with_another_stream(path):
    """A change to j.py's recipe reaches every stream; only the features and the work dir differ."""
    stream, _, variant = path.stem.partition('_')
    base = f'j_{variant}' if variant else 'j'
    assert f"_base_ = ['./{base}.py']" in path.read_text()
    joint = _load(path.parent / f'{base}.py').to_dict()
    other = _load(path).to_dict()
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


FAMILY_CASES = [(model, family) for model in MODEL_FOLDERS for family in sorted(FAMILIES)
                if list((CONFIGS / model).glob(f'{FAMILIES[family]}/j.py'))]


@pytest.mark.parametrize('model,family', FAMILY_CASES, ids=[f'{m}/{f}' for m, f in FAMILY_CASES])
def test_the_folders_of_a_family_differ_only_in_the_data(model, family):
    folders = sorted(p.parent for p in (CONFIGS / model).glob(f'{FAMILIES[family]}/j.py'))
    assert len(folders) >= 2
    first = _without_data(_load(folders[0] / 'j.py').to_dict())
    for folder in folders[1:]:
        assert _without_data(_load(folder / 'j.py').to_dict()) == first, folder.name


def _without_network(cfg: dict) -> dict:
    """A config's dict with its network (backbone, head input channels) and work dir taken out."""
    head = dict(cfg['model']['cls_head'], in_channels=None)
    return dict(cfg, work_dir=None, model=dict(cfg['model'], backbone=None, cls_head=head))


SHARED = [(b, 'j') for b in NTU_3D + NTU_2D] + [('nwucla_xview', 'j'), ('nwucla_xview', 'j_cpu')]


@pytest.mark.parametrize('benchmark,stem', SHARED, ids=[f'{b}/{s}' for b, s in SHARED])
def test_the_zoo_models_share_one_recipe(benchmark, stem):
    """On NTU, every zoo model has the original's zoo recipe; on NW-UCLA, every model (DG-STGCN's
    included) has DG-STGCN's NW-UCLA recipe. Only the network differs."""
    models = [m for m in ZOO if (CONFIGS / m / benchmark / f'{stem}.py').exists()]
    if benchmark == 'nwucla_xview':
        models = ['dgstgcn'] + models
    assert len(models) >= 2
    reference = _without_network(_load(CONFIGS / models[0] / benchmark / f'{stem}.py').to_dict())
    for model in models[1:]:
        assert _without_network(_load(CONFIGS / model / benchmark / f'{stem}.py').to_dict()) == reference, model


def _types(pipeline) -> list:
    return [t['type'] for t in pipeline]


@pytest.mark.parametrize('benchmark', NTU_3D + NTU_2D)
def test_zoo_ntu_recipe(benchmark):
    """The original's zoo recipe (fixtures README): spine-aligned PreNormalize3D or PreNormalize2D,
    UniformSample + PoseDecode, two persons; SGD 0.1 Nesterov, cosine per iteration, 16 epochs of the
    training set repeated 5 times, 16 samples per GPU."""
    cfg = _load(CONFIGS / 'stgcn++' / benchmark / 'j.py')  # the others equal it but for the network
    two_d = benchmark.endswith('hrnet')
    for pipeline, num_clips in ((cfg.data.train.dataset.pipeline, None), (cfg.data.val.pipeline, 1),
                                (cfg.data.test.pipeline, 10)):
        assert _types(pipeline) == ['PreNormalize2D' if two_d else 'PreNormalize3D', 'GenSkeFeat', 'UniformSample',
                                    'PoseDecode', 'FormatGCNInput', 'Collect', 'ToTensor']
        assert pipeline[0] == dict(type=_types(pipeline)[0])  # the defaults: spine alignment on in 3D
        assert pipeline[1] == dict(type='GenSkeFeat', dataset='coco' if two_d else 'nturgb+d', feats=['j'])
        assert pipeline[2].get('num_clips') == num_clips and pipeline[2]['clip_len'] == 100
        assert pipeline[4] == dict(type='FormatGCNInput', num_person=2)
    assert cfg.optimizer == dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=0.0005, nesterov=True)
    schedule = load_config(cfg)
    assert schedule.param_scheduler == [dict(type='CosineAnnealingLR', eta_min=0, by_epoch=True,
                                             convert_to_iter_based=True, begin=0, end=16, T_max=16)]
    assert schedule.train_cfg.max_epochs == 16 and cfg.data.train.times == 5 and cfg.data.videos_per_gpu == 16


def _fixture_sample(reference: dict, name: str) -> dict:
    keypoint = reference[f'input_{name}'].copy()
    sample = dict(keypoint=keypoint, total_frames=keypoint.shape[1], label=5, frame_dir=name, test_mode=True,
                  start_index=0)
    if name == 'e':  # HRNet 2D
        sample.update(keypoint_score=reference['input_e_score'].copy(),
                      img_shape=tuple(int(s) for s in reference['img_shape_e']))
    return sample


@pytest.mark.parametrize('config', [f'ntu60_xsub_3dkp/{s}' for s in STREAMS] + ['ntu60_xsub_hrnet/j'])
def test_zoo_pipelines_give_the_originals_outputs(config):
    """The zoo configs' val and test pipelines (all zoo models have these: test_the_zoo_models_share_one_recipe)
    against the original's outputs (pipeline_ntu_3d_zoo-seed0.npz, 1e-5)."""
    with np.load(shared_path('fixtures', 'pipeline_ntu_3d_zoo-seed0.npz')) as data:
        reference = dict(data)
    cfg = _load(CONFIGS / 'stgcn++' / f'{config}.py')
    stream = config.rpartition('/')[2]
    names, prefix = (['e'], 'hrnet_j') if 'hrnet' in config else ('abcd', stream)
    checked = 0
    for name in names:
        for split, key, clips in (('val', f'{prefix}_val_{name}', [0]),
                                  ('test', f'{prefix}_test_{name}_clips0and9', [0, 9])):
            if key not in reference:  # the fixture keeps test clips of the j and bm streams
                continue
            out = Compose(cfg.data[split].pipeline)(_fixture_sample(reference, name))
            np.testing.assert_allclose(out['keypoint'].numpy()[clips], reference[key], rtol=0, atol=1e-5,
                                       err_msg=key)
            checked += 1
    assert checked == (2 if 'hrnet' in config else 8 if stream in ('j', 'bm') else 4)


ZOO_MODELS = {  # the original's model dicts (fixtures README), on the NTU60 3D data
    'stgcn': dict(type='STGCN', graph_cfg=dict(layout='nturgb+d', mode='stgcn_spatial')),
    'stgcn++': dict(type='STGCN', gcn_adaptive='init', gcn_with_res=True, tcn_type='mstcn',
                    graph_cfg=dict(layout='nturgb+d', mode='spatial')),
    'aagcn': dict(type='AAGCN', graph_cfg=dict(layout='nturgb+d', mode='spatial')),
    'ctrgcn': dict(type='CTRGCN', graph_cfg=dict(layout='nturgb+d', mode='spatial')),
    'msg3d': dict(type='MSG3D', graph_cfg=dict(layout='nturgb+d', mode='binary_adj')),
}


@pytest.mark.parametrize('model', ZOO)
def test_zoo_model_dicts_are_the_originals(model):
    cfg = _load(CONFIGS / model / 'ntu60_xsub_3dkp' / 'j.py')
    assert cfg.model.to_dict() == dict(type='RecognizerGCN', backbone=ZOO_MODELS[model], cls_head=dict(
        type='GCNHead', num_classes=60, in_channels=384 if model == 'msg3d' else 256))
    for benchmark in NTU_2D:  # the same network on COCO-17 x, y, score
        backbone = _load(CONFIGS / model / benchmark / 'j.py').model.backbone.to_dict()
        assert backbone == dict(ZOO_MODELS[model], graph_cfg=dict(ZOO_MODELS[model]['graph_cfg'], layout='coco'))
    backbone = _load(CONFIGS / model / 'nwucla_xview' / 'j.py').model.backbone.to_dict()
    person = {} if model in ('stgcn', 'stgcn++') else dict(num_person=1)  # a data BatchNorm per person
    assert backbone == dict(ZOO_MODELS[model], graph_cfg=dict(ZOO_MODELS[model]['graph_cfg'], layout='nw-ucla'),
                            **person)


@pytest.mark.parametrize('benchmark', NTU_3D)
def test_vanilla_stgcn_recipe(benchmark):
    """ST-GCN as first published: dropout 0.5, whole sequences zero-padded to 300 frames, step schedule."""
    cfg = _load(CONFIGS / 'stgcn' / f'vanilla_{benchmark}' / 'j.py')
    assert cfg.model.backbone.to_dict() == dict(ZOO_MODELS['stgcn'], tcn_dropout=0.5)
    for ds in _datasets(cfg).values():
        assert _types(ds.pipeline) == ['PreNormalize3D', 'GenSkeFeat', 'PadTo', 'PoseDecode', 'FormatGCNInput',
                                       'Collect', 'ToTensor']
        assert ds.pipeline[2] == dict(type='PadTo', length=300, mode='zero')
    assert cfg.optimizer == dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=0.0001)
    schedule = load_config(cfg)
    assert schedule.param_scheduler == [dict(type='MultiStepLR', milestones=[2, 10], gamma=0.1, by_epoch=True)]
    assert schedule.train_cfg.max_epochs == 16 and cfg.data.train.times == 5


NWUCLA = sorted(CONFIGS.glob('*/nwucla_xview/*.py'))


@pytest.mark.parametrize('path', NWUCLA, ids=_ids)
def test_nwucla_recipe(path):
    cfg = _load(path)
    stream = path.stem.removesuffix('_cpu')
    for pipeline in (cfg.train_pipeline, cfg.val_pipeline, cfg.test_pipeline):
        assert dict(type='GenSkeFeat', dataset='nw-ucla', feats=[stream]) in pipeline
    schedule = load_config(cfg)
    clip_lens = {t['clip_len'] for ds in _datasets(cfg).values() for t in ds.pipeline if 'clip_len' in t}
    if path.stem.endswith('_cpu'):  # 10 epochs of the 5x repeated set, cosine over every iteration
        assert schedule.train_cfg.max_epochs == 10 and cfg.data.train.times == 5
        assert [s['type'] for s in schedule.param_scheduler] == ['LinearLR', 'CosineAnnealingLR']
        assert schedule.param_scheduler[1]['convert_to_iter_based']
        # every CPU recipe mirrors in training and at test time, samples 32-frame windows (the full
        # recipes 52) and smooths its labels
        assert any(t['type'] == 'RandomFlip' for t in cfg.data.train.dataset.pipeline)
        assert any(t['type'] == 'MirroredClips' for t in cfg.data.test.pipeline)
        assert clip_lens == {32}
        assert _model(cfg).cls_head.label_smoothing == 0.1
    else:  # CTR-GCN's: 52-frame windows, 65 epochs, step at 50
        assert clip_lens == {52}
        assert schedule.train_cfg.max_epochs == 65
        assert schedule.param_scheduler[1] == dict(type='MultiStepLR', milestones=[50], gamma=0.1, by_epoch=True)


HRNET = sorted(p for p in CONFIGS.glob('*/ntu*_hrnet/*.py'))


@pytest.mark.parametrize('path', HRNET, ids=_ids)
def test_ntu_2d_config(path):
    """COCO-17 x, y, score input through the original's UniformSample + PoseDecode pipelines, with the
    schedule of the same model's NTU 3D configs."""
    cfg = _load(path)
    for pipeline, num_clips in ((cfg.data.train.dataset.pipeline, None), (cfg.data.val.pipeline, 1),
                                (cfg.data.test.pipeline, 10)):
        assert _types(pipeline) == ['PreNormalize2D', 'GenSkeFeat', 'UniformSample', 'PoseDecode',
                                    'FormatGCNInput', 'Collect', 'ToTensor']
        assert pipeline[1] == dict(type='GenSkeFeat', dataset='coco', feats=[path.stem])
        assert pipeline[2].get('num_clips') == num_clips and pipeline[2]['clip_len'] == 100
        assert pipeline[4] == dict(type='FormatGCNInput', num_person=2)
    ntu_3d = _load(path.parent.parent / 'ntu60_xsub_3dkp' / 'j.py')
    for key in ('optimizer', 'optimizer_config', 'lr_config', 'total_epochs'):
        assert cfg[key] == ntu_3d[key]
    assert cfg.data.train.times == 5 and cfg.data.videos_per_gpu == 16
    assert _model(cfg).backbone.in_channels == 3


K400 = [CONFIGS / 'dgstgcn' / 'k400_hrnet' / f'{s}.py' for s in STREAMS]


@pytest.mark.parametrize('path', K400, ids=_ids)
def test_k400_config(path):
    """The compressed Kinetics form: DecompressPose first, the kpfile cache, box_thr 0.5, 400 classes."""
    cfg = _load(path)
    for ds, num_clips in ((cfg.data.train, None), (cfg.data.val, 1), (cfg.data.test, 10)):
        types = _types(ds.pipeline)
        assert types == ['DecompressPose', 'PreNormalize2D', 'GenSkeFeat', 'UniformSample', 'PoseDecode',
                         'FormatGCNInput', 'Collect', 'ToTensor']
        assert ds.pipeline[0] == dict(type='DecompressPose', squeeze=True, max_person=10)
        assert ds.pipeline[2] == dict(type='GenSkeFeat', dataset='coco', feats=[path.stem])
        assert ds.pipeline[3].get('num_clips') == num_clips
        assert ds.cache is True and ds.box_thr == 0.5 and ds.kpfile_dir == 'data/k400/kpfiles'
