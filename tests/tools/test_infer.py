"""tools/infer.py as a user runs it: mmpose JSON, OpenPose folder, .npy and annotation inputs,
windows with CSV and timeline, and the one-line error for a layout that does not fit."""
import csv
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config

from pyskl.models import build_model
from pose_json_files import write_mmpose, write_openpose

REPO = Path(__file__).resolve().parents[2]
DEMO = 'configs/dgstgcn/demo/j.py'
COCO_CONFIG = f'''
_base_ = {str(REPO / DEMO)!r}
model = dict(backbone=dict(graph_cfg=dict(layout='coco')))
test_pipeline = [
    dict(type='PreNormalize2D'),
    dict(type='GenSkeFeat', dataset='coco', feats=['j']),
    dict(type='UniformSampleDecode', clip_len=16, num_clips=2),
    dict(type='FormatGCNInput', num_person=2),
    dict(type='Collect', keys=['keypoint', 'label'], meta_keys=[]),
    dict(type='ToTensor', keys=['keypoint'])
]
data = dict(test=dict(pipeline=test_pipeline))
'''


def _infer(*args, status=0):
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=str(REPO))
    env.pop('PYSKL_DEBUG', None)
    proc = subprocess.run([sys.executable, 'tools/infer.py', *map(str, args)], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == status, (proc.stdout + proc.stderr)[-3000:]
    return proc.stdout if status == 0 else proc.stderr


def _random_checkpoint(config, path):
    model = build_model(Config.fromfile(str(config)).model)
    torch.save(dict(state_dict=model.state_dict()), path)
    return path


@pytest.fixture(scope='module')
def coco_model(tmp_path_factory):
    folder = tmp_path_factory.mktemp('coco')
    config = folder / 'coco_j.py'
    config.write_text(COCO_CONFIG)
    return config, _random_checkpoint(config, folder / 'coco_j.pth')


def _people(rng, T, V, persons=3):
    return [[(rng.random((V, 2)).astype(np.float32) * 500, rng.random(V).astype(np.float32)) for _ in range(persons)]
            for _ in range(T)]


def test_mmpose_json_with_windows_csv_and_timeline(coco_model, tmp_path):
    config, checkpoint = coco_model
    path = write_mmpose(tmp_path / 'long.json', _people(np.random.default_rng(0), 70, 17))
    out = tmp_path / 'preds.csv'
    stdout = _infer(config, checkpoint, path, '--img-shape', 480, 640, '--window', 32, '--stride', 16, '--top-k', 3,
                    '--out', out)
    assert stdout.count('frames ') == 4  # windows 0-31, 16-47, 32-63, 38-69
    rows = list(csv.DictReader(out.open()))
    assert [(int(r['start']), int(r['end'])) for r in rows] == [(0, 32), (16, 48), (32, 64), (38, 70)]
    names = (REPO / 'tools/data/demo/label_map.txt').read_text().splitlines()  # the config's label map
    assert all(r['class_1'] in names and r['class_name'] == r['class_1'] for r in rows)
    assert all(0 <= float(r['pred_score']) <= 1 and r['label_1'] == r['pred_label'] for r in rows)
    png = tmp_path / 'preds.png'
    assert png.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'


def test_openpose_folder_body25_into_a_coco_model(coco_model, tmp_path):
    config, checkpoint = coco_model
    folder = write_openpose(tmp_path / 'clip', _people(np.random.default_rng(1), 20, 25, persons=2))
    stdout = _infer(config, checkpoint, folder, '--img-shape', 480, 640, '--top-k', 2)
    first = stdout.strip().splitlines()[-1]
    assert len(first.split(', ')) == 2  # top-2 classes with scores


def test_17_joints_into_a_25_joint_model_is_one_line(tmp_path):
    checkpoint = _random_checkpoint(REPO / DEMO, tmp_path / 'demo.pth')
    path = write_mmpose(tmp_path / 'coco.json', _people(np.random.default_rng(2), 10, 17))
    stderr = _infer(DEMO, checkpoint, path, status=2)
    assert stderr.strip().count('\n') == 0
    assert stderr.startswith('error: coco: 17 joints (coco layout) do not fit the model\'s layout \'nturgb+d\' '
                             "(25 joints); a config with graph_cfg.layout='coco' fits them")


def test_npy_and_annotation_inputs_agree(tmp_path):
    from pyskl.utils.safe_pickle import load_pickle
    checkpoint = _random_checkpoint(REPO / DEMO, tmp_path / 'demo.pth')
    ann = load_pickle(str(REPO / 'tools/data/demo/demo_3danno.pkl'))
    sample = ann['annotations'][0]
    np.save(tmp_path / 'x.npy', sample['keypoint'])
    from_npy = _infer(DEMO, checkpoint, tmp_path / 'x.npy')
    from_pkl = _infer(DEMO, checkpoint, REPO / 'tools/data/demo/demo_3danno.pkl', '--frame-dir', sample['frame_dir'])
    assert from_npy.strip().splitlines()[-1] == from_pkl.strip().splitlines()[-1]
