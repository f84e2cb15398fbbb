"""Every zoo model through the toolbox's tools, as a user runs them (slow: about a minute a model).

Per model, on the embedded demo data with the model's own network made small (16 base channels,
4 stages): ``dist_train.sh`` on two processes (gloo) with validation and the last model's test;
a resume from its first epoch that ends bit-exact where the straight run ended (``--deterministic``); ``--amp``;
``dist_test.sh`` giving the scores the training's test gave; ``tools/infer.py`` agreeing with them;
ONNX and torch.export of the trained model verified against PyTorch; the ensemble of two result
files; and ``model_speed.py``.
"""
import pickle
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from pyskl.models.checkpoint import read_checkpoint
from pyskl.runner.config import load_config
from pyskl.utils.safe_pickle import load_pickle

from test_train_test_e2e import _env, _logs, _metric

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / 'configs/dgstgcn/demo/j.py'
DEMO_ANN = REPO / 'tools/data/demo/demo_3danno.pkl'
ZOO = ('stgcn', 'stgcn++', 'aagcn', 'ctrgcn', 'msg3d')
# one epoch of the demo's 240 training samples is 8 steps of 16 on each of two processes
TRAIN = ['total_epochs=2', 'data.train.times=1']

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not sys.platform.startswith('linux'), reason='the shell scripts are Linux-only'),
              pytest.mark.skipif(not DEMO_ANN.is_file(), reason='a checkout without the shipped demo file')]


def _small_model(folder: str) -> dict:
    """The model of ``configs/<folder>/ntu60_xsub_3dkp/j.py`` for the demo's 8 classes, made small."""
    model = load_config(str(REPO / 'configs' / folder / 'ntu60_xsub_3dkp/j.py')).to_dict()['model']
    backbone = model['backbone']
    backbone['base_channels'] = 16
    if backbone['type'] == 'MSG3D':  # three stages: 1x, 2x and 4x the base channels
        backbone.update(num_gcn_scales=4, num_g3d_scales=2)
        out_channels = 64
    else:
        backbone.update(num_stages=4, inflate_stages=[3], down_stages=[3])
        out_channels = 32
    model['cls_head'].update(num_classes=8, in_channels=out_channels)
    return dict(model, _delete_=True)


def _config(tmp_path: Path, folder: str) -> Path:
    path = tmp_path / 'zoo_demo.py'
    path.write_text(f'_base_ = [{str(DEMO)!r}]\nmodel = {_small_model(folder)!r}\n')
    return path


def _run(*args, timeout: int = 600) -> str:
    proc = subprocess.run([str(a) for a in args], cwd=REPO, env=_env(), capture_output=True, text=True,
                          timeout=timeout)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-4000:]
    return output


def _state(path: Path) -> dict:
    return read_checkpoint(str(path))['state_dict']


def _scores(path: Path) -> np.ndarray:
    with open(path, 'rb') as f:
        return np.stack(pickle.load(f))


@pytest.mark.parametrize('folder', ZOO)
def test_zoo_model_through_the_tools(folder, tmp_path):
    config = _config(tmp_path, folder)
    backbone = _small_model(folder)['backbone']['type']

    # dist_train.sh: two processes, validation each epoch, the last model tested
    straight = tmp_path / 'straight'
    _run('bash', 'tools/dist_train.sh', config, 2, '--validate', '--test-last', '--seed', 0, '--deterministic',
         '--work-dir', straight, '--cfg-options', *TRAIN)
    log = _logs(straight)
    assert 'Distributed training: True' in log and f"type='{backbone}'" in log
    assert len(_metric(log, 'val', 'top1_acc')) == 2 and 'Testing the last checkpoint' in log
    assert read_checkpoint(str(straight / 'epoch_2.pth'))['meta']['iter'] == 16
    loss = [float(v) for v in re.findall(r'Epoch\(train\).*? loss: ([-0-9.naif]+)', log)]
    assert loss and all(np.isfinite(loss)), loss

    # resume from the first epoch: the same model as the straight run, to the bit (--deterministic makes
    # each epoch's DataLoader workers draw from the generator states the checkpoint restores)
    resumed = tmp_path / 'resumed'
    resumed.mkdir()
    _run('bash', 'tools/dist_train.sh', config, 2, '--validate', '--seed', 0, '--deterministic', '--work-dir', resumed,
         '--resume', straight / 'epoch_1.pth', '--cfg-options', *TRAIN)
    assert 'resumed epoch: 1' in _logs(resumed)
    end, again = _state(straight / 'epoch_2.pth'), _state(resumed / 'epoch_2.pth')
    assert list(end) == list(again)
    for key in end:
        assert torch.equal(end[key], again[key]), f'{key} differs after the resume'

    # --amp: one process, bfloat16 autocast on the CPU, finite losses
    amp = tmp_path / 'amp'
    _run(sys.executable, 'tools/train.py', config, '--amp', '--seed', 0, '--work-dir', amp, '--cfg-options',
         'total_epochs=1', 'data.train.times=1', 'log_config.interval=2')
    amp_log = _logs(amp)
    assert 'CPUAmpOptimWrapper' in amp_log
    amp_loss = [float(v) for v in re.findall(r'Epoch\(train\).*? loss: ([-0-9.naif]+)', amp_log)]
    assert amp_loss and all(np.isfinite(amp_loss)), amp_loss

    # dist_test.sh on the last checkpoint gives the scores the training's test gave
    result = tmp_path / 'result.pkl'
    _run('bash', 'tools/dist_test.sh', config, straight / 'epoch_2.pth', 2, '--eval', 'top_k_accuracy', '--out',
         result, '--work-dir', tmp_path / 'test')
    scores = _scores(result)
    assert scores.shape == (80, 8)
    np.testing.assert_allclose(scores, _scores(straight / 'last_pred.pkl'), atol=1e-6)

    # tools/infer.py on one test sample names the class the test's scores rank first
    ann = load_pickle(str(DEMO_ANN))
    names = (REPO / 'tools/data/demo/label_map.txt').read_text().splitlines()
    first = ann['split']['val'][0]
    out = _run(sys.executable, 'tools/infer.py', config, straight / 'epoch_2.pth', DEMO_ANN, '--frame-dir', first,
               '--top-k', 1)
    best = int(scores[0].argmax())
    assert out.strip().splitlines()[-1].rsplit(' ', 1)[0] in (names[best], str(best)), out[-2000:]

    # ONNX and torch.export of the trained model, each verified against PyTorch by the tool
    for fmt, suffix in (('onnx', 'onnx'), ('torch-export', 'pt2')):
        out = _run(sys.executable, 'tools/deployment/export.py', config, straight / 'epoch_2.pth', '--format', fmt,
                   '--out', tmp_path / f'model.{suffix}')
        assert (tmp_path / f'model.{suffix}').is_file()
        worst = float(re.search(r'max abs difference ([0-9.e+-]+):', out)[1])
        assert worst <= 1e-4, out[-2000:]

    # the ensemble of two result files (here the same scores twice: the fused top-1 is the stream's)
    out = _run(sys.executable, 'tools/ensemble.py', result, straight / 'last_pred.pkl', '--ann-file', DEMO_ANN,
               '--split', 'val')
    labels = {a['frame_dir']: a['label'] for a in ann['annotations']}
    top1 = np.mean(scores.argmax(1) == np.array([labels[n] for n in ann['split']['val']]))
    fused = next(line for line in out.splitlines() if line.startswith('fused'))
    assert float(fused.split()[1]) == pytest.approx(top1, abs=1e-4), out

    # model_speed.py measures the model
    out = _run(sys.executable, 'tools/benchmarks/model_speed.py', config, '--iters', 1, '--warmup', 0, '--batch', 2,
               '--no-memory', '--infer-only')
    assert out.splitlines()[0] == f'model: {backbone} ({config})', out[-2000:]
