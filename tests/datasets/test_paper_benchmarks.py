"""Kinetics-Skeleton, BABEL and Toyota Smarthome end to end on small files in each release's format:
converter -> PoseDataset with each new config's pipelines -> one training step of the config's model ->
its metrics. (Loading, translating and building every config is tests/test_configs.py's job.)"""
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine import Config

from pyskl.datasets import PoseDataset
from pyskl.datasets.converters import convert_babel, convert_kinetics_skeleton, convert_smarthome
from pyskl.evaluation import AccMetric, mean_class_accuracy, top_k_accuracy
from pyskl.models import build_model
from pyskl.runner import load_config
from release_files import make_babel_release, make_kinetics_release, make_smarthome_release

CONFIGS = Path(__file__).resolve().parents[2] / 'configs' / 'dgstgcn'
FOLDERS = ('kinetics_skeleton', 'babel60', 'babel120', 'smarthome_cs', 'smarthome_cv1', 'smarthome_cv2')
CLIP_LEN = 8  # frames a clip in these tests (the configs: 100)


@pytest.fixture(scope='module')
def converted(tmp_path_factory):
    """Each folder's annotation file (and label map), converted from a small release."""
    root = tmp_path_factory.mktemp('paper')
    out = {}
    convert_kinetics_skeleton(make_kinetics_release(root / 'ks'), root / 'ks.pkl', num_workers=1, progress=False)
    out['kinetics_skeleton'] = (root / 'ks.pkl', root / 'kinetics_skeleton_label_map.txt')
    for classes in (60, 120):
        convert_babel(make_babel_release(root / f'babel{classes}', classes), root / f'babel{classes}.pkl', classes,
                      progress=False)
        out[f'babel{classes}'] = (root / f'babel{classes}.pkl', None)
    convert_smarthome(make_smarthome_release(root / 'sh', frames=12), root / 'sh.pkl', progress=False)
    out['smarthome_cs'] = (root / 'sh.pkl', None)
    out['smarthome_cv1'] = out['smarthome_cv2'] = (root / 'sh_cv.pkl', None)
    return out


def _dataset(ds_cfg: dict, ann_file: Path, label_map) -> PoseDataset:
    """The config's (innermost) dataset on ``ann_file``, with CLIP_LEN-frame clips."""
    while 'dataset' in ds_cfg:
        ds_cfg = ds_cfg['dataset']
    args = {k: v for k, v in ds_cfg.items() if k != 'type'}
    args['ann_file'] = str(ann_file)
    if 'label_map' in args:
        args['label_map'] = str(label_map)
    args['pipeline'] = [dict(t, clip_len=CLIP_LEN) if 'clip_len' in t else t for t in args['pipeline']]
    return PoseDataset(**args)


def _batch(dataset: PoseDataset) -> tuple:
    items = [dataset[i] for i in range(len(dataset))]
    keypoint = torch.stack([item['keypoint'] for item in items])  # N x clips x M x T x V x C
    return keypoint, torch.tensor([int(item['label']) for item in items])


@pytest.mark.parametrize('folder', FOLDERS)
def test_one_training_step_and_the_metrics(folder, converted):
    cfg = Config.fromfile(str(CONFIGS / folder / 'j.py'))
    ann_file, label_map = converted[folder]
    train = _dataset(cfg.data.train.to_dict(), ann_file, label_map)
    val = _dataset(cfg.data.val.to_dict(), ann_file, label_map)
    test = _dataset(cfg.data.test.to_dict(), ann_file, label_map)
    assert len(train) >= 1 and len(val) >= 1 and len(test) >= 1
    torch.manual_seed(0)
    model = build_model(cfg.model.to_dict())

    keypoint, label = _batch(train)
    people = cfg.model.backbone.get('num_person', 2)
    assert keypoint.shape[1:4] == (1, people, CLIP_LEN)
    assert keypoint.shape[4] == model.backbone.num_joints and keypoint.shape[5] == 3
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=cfg.optimizer.lr, momentum=cfg.optimizer.momentum,
                                weight_decay=cfg.optimizer.weight_decay, nesterov=cfg.optimizer.nesterov)
    before = [p.detach().clone() for p in model.parameters()]
    losses = model(keypoint, label, mode='loss')
    optimizer.zero_grad()
    losses['loss_cls'].backward()
    optimizer.step()
    assert torch.isfinite(losses['loss_cls'])
    assert sum(not torch.equal(a, b) for a, b in zip(before, model.parameters())) > len(before) // 2

    model.eval()
    keypoint, label = _batch(val)
    with torch.no_grad():
        predictions = model(keypoint, label, mode='predict')
    metric = AccMetric(metric_list=cfg.evaluation.metrics)
    metric.process({}, predictions)
    result = metric.compute_metrics(metric.results)
    scores = np.stack([p['pred_score'].numpy() for p in predictions])
    assert result['top1_acc'] == top_k_accuracy(scores, label.numpy(), (1, ))[0]
    if 'mean_class_accuracy' in cfg.evaluation.metrics:  # BABEL's top-1-norm, Toyota Smarthome's metric
        assert result['mean_class_accuracy'] == mean_class_accuracy(scores, label.numpy())
    assert load_config(cfg).val_evaluator['metric_list'] == list(cfg.evaluation.metrics)


@pytest.mark.parametrize('folder', FOLDERS)
def test_every_stream_fits_the_model(folder, converted):
    """b, jm and bm give the joint stream's shape, and differ from it."""
    ann_file, label_map = converted[folder]
    outputs = {}
    for stream in ('j', 'b', 'jm', 'bm'):
        cfg = Config.fromfile(str(CONFIGS / folder / f'{stream}.py'))
        outputs[stream] = _dataset(cfg.data.val.to_dict(), ann_file, label_map)[0]['keypoint']
    for stream in ('b', 'jm', 'bm'):
        assert outputs[stream].shape == outputs['j'].shape and not torch.equal(outputs[stream], outputs['j'])


def test_the_metrics_the_protocols_ask_for():
    """Top-1 and top-5 for Kinetics; BABEL adds top-1-norm; Smarthome keeps checkpoints by mean class accuracy."""
    metrics = {f: Config.fromfile(str(CONFIGS / f / 'j.py')).evaluation for f in FOLDERS}
    assert metrics['kinetics_skeleton'].metrics == ['top_k_accuracy']
    for folder in ('babel60', 'babel120'):
        assert metrics[folder].metrics == ['top_k_accuracy', 'mean_class_accuracy']
    for folder in ('smarthome_cs', 'smarthome_cv1', 'smarthome_cv2'):
        assert metrics[folder].save_best == 'mean_class_accuracy'


def test_smarthome_splits_in_the_configs():
    splits = {}
    for folder in ('smarthome_cs', 'smarthome_cv1', 'smarthome_cv2'):
        cfg = Config.fromfile(str(CONFIGS / folder / 'j.py'))
        splits[folder] = (cfg.data.train.dataset.split, cfg.data.val.split, cfg.data.test.split,
                          cfg.model.cls_head.num_classes)
    assert splits == dict(smarthome_cs=('cs_train', 'cs_test', 'cs_test', 31),
                          smarthome_cv1=('cv1_train', 'cv1_val', 'cv1_test', 19),
                          smarthome_cv2=('cv2_train', 'cv2_val', 'cv2_test', 19))
