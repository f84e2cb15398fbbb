"""init_recognizer / inference_recognizer (pyskl.apis.inference), and the checkpoint of a real
training run read through every public path, each in a fresh process."""
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from mmengine.config import Config

from pyskl.apis import inference_recognizer, init_recognizer
from pyskl.utils.safe_pickle import load_pickle

REPO = Path(__file__).resolve().parents[2]
DEMO = 'configs/dgstgcn/demo/j.py'
DEMO_ANN = REPO / 'tools/data/demo/demo_3danno.pkl'
NUM_TESTED = 4  # test samples that tools/test.py scores (data.test.indices): keeps the run short


def _run(args, cwd=REPO) -> str:
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=str(REPO))
    env.pop('PYSKL_DEBUG', None)
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    return proc.stdout + proc.stderr


def _demo_samples() -> list:
    ann = load_pickle(str(DEMO_ANN))
    by_name = {a['frame_dir']: a for a in ann['annotations']}
    return [by_name[name] for name in ann['split']['val']]


@pytest.fixture(scope='module')
def trained_demo(tmp_path_factory):
    """One short epoch of the demo (tools/train.py), then tools/test.py --out on a few test samples."""
    work = tmp_path_factory.mktemp('demo')
    _run([sys.executable, 'tools/train.py', DEMO, '--work-dir', str(work), '--seed', '0', '--cfg-options',
          'total_epochs=1', 'data.train.times=1'])
    checkpoint = work / 'epoch_1.pth'
    out = work / 'pred.pkl'
    _run([sys.executable, 'tools/test.py', DEMO, '-C', str(checkpoint), '--out', str(out), '--work-dir', str(work),
          '--cfg-options', f'data.test.indices={NUM_TESTED}'])
    return checkpoint, load_pickle(str(out))


@pytest.mark.slow
def test_inference_gives_the_scores_tools_test_stored(trained_demo):
    checkpoint, stored = trained_demo
    assert len(stored) == NUM_TESTED
    model = init_recognizer(DEMO, str(checkpoint))
    samples = _demo_samples()[:NUM_TESTED]
    for sample, expected in zip(samples, stored):
        result = inference_recognizer(model, sample)
        np.testing.assert_allclose(result['scores'], expected, rtol=0, atol=1e-5)
        assert result['pred_label'] == int(np.argmax(expected))
    # a batch, and bare arrays (M x T x V x C) give the same
    batch = inference_recognizer(model, [s['keypoint'] for s in samples])
    for result, expected in zip(batch, stored):
        np.testing.assert_allclose(result['scores'], expected, rtol=0, atol=1e-5)


@pytest.mark.slow
def test_the_trained_checkpoint_loads_through_every_path_in_a_fresh_process(trained_demo, tmp_path):
    checkpoint, _ = trained_demo
    script = textwrap.dedent(f'''
        import torch
        from mmengine.config import Config
        from pyskl.apis import init_recognizer
        from pyskl.models import build_model, load_checkpoint
        from pyskl.models.checkpoint import read_checkpoint
        from pyskl.runner import PysklRunner, prepare_train_config

        path = {str(checkpoint)!r}
        weights = read_checkpoint(path)['state_dict']
        cfg = Config.fromfile({DEMO!r})

        model = build_model(cfg.model)
        load_checkpoint(model, path)
        assert all(torch.equal(v, weights[k]) for k, v in model.state_dict().items())

        cfg.model.backbone.pretrained = path
        model = build_model(cfg.model)
        model.init_weights()
        assert all(torch.equal(v, weights['backbone.' + k]) for k, v in model.backbone.state_dict().items())

        model = init_recognizer({DEMO!r}, path)
        assert all(torch.equal(v, weights[k]) for k, v in model.state_dict().items())

        run = prepare_train_config(Config.fromfile({DEMO!r}), work_dir={str(tmp_path / 'resume')!r}, resume=path)
        runner = PysklRunner.from_cfg(run)
        runner.load_or_resume()
        assert runner.epoch == 1 and runner.iter > 0
        print('all paths loaded')
    ''')
    assert 'all paths loaded' in _run([sys.executable, '-c', script])


@pytest.fixture(scope='module')
def demo_model():
    return init_recognizer(DEMO)  # random weights: enough for shapes and errors


def test_init_recognizer_attaches_config_and_class_names(demo_model):
    assert not demo_model.training
    assert demo_model.class_names[:2] == ['wave right hand', 'wave left hand'] and len(demo_model.class_names) == 8
    assert demo_model.cfg.test_dataloader.dataset.split == 'val'
    model = init_recognizer(Config.fromfile(DEMO))  # a Config works too
    assert model.class_names == demo_model.class_names


def test_result_fields_and_top_k(demo_model):
    keypoint = _demo_samples()[0]['keypoint'][0]  # one person, T x V x C
    result = inference_recognizer(demo_model, keypoint, top_k=3)
    assert result['scores'].shape == (8, ) and result['scores'].sum() == pytest.approx(1, abs=1e-5)
    labels = [label for label, _, _ in result['top_k']]
    assert labels == list(np.argsort(-result['scores'])[:3]) and result['pred_label'] == labels[0]
    label, name, score = result['top_k'][0]
    assert name == demo_model.class_names[label] and score == result['pred_score']


@pytest.mark.parametrize('shape, fill, message', [
    ((30, 17, 3), 0, "17 joints, but the model's graph layout 'nturgb+d' has 25 joints; a config with "
                     "graph_cfg.layout='coco' fits 17 joints"),
    ((30, 18, 3), 0, "graph_cfg.layout='openpose' fits 18 joints"),
    ((30, 25, 2), 0, '2 channels per joint, but the model takes 3'),
    ((30, 25, 3), np.nan, 'keypoint has NaN/inf values (first at index (0, 0, 0, 0))'),
    ((0, 25, 3), 0, 'keypoint has zero frames'),
])
def test_bad_input_gets_one_line(demo_model, shape, fill, message):
    with pytest.raises(ValueError) as err:
        inference_recognizer(demo_model, np.full(shape, fill, dtype=np.float32))
    assert message in str(err.value) and '\n' not in str(err.value)


def test_a_config_without_test_set(tmp_path):
    cfg = Config.fromfile(DEMO)
    cfg.data.pop('test')
    with pytest.raises(KeyError, match='has no data.test'):
        init_recognizer(cfg)
