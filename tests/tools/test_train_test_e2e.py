"""End to end on the CPU, two processes (gloo), as a user runs it:

- ``tools/dist_train.sh`` then ``tools/dist_test.sh`` on the embedded demo config;
- the original NTU-60 joint config, pointed at a small file in the same format: trains,
  validates, is killed mid-epoch, resumes by itself where it stopped (epoch, iteration,
  learning rate, best score), and tests, with the same scores in dataset order on one
  process or two;
- a config typo, a missing annotation file and a checkpoint of another architecture end
  the tools with one line that says what to fix.
"""
import os
import pickle
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from pyskl.models.checkpoint import read_checkpoint
from pyskl.datasets.demo_data import make_demo_annotations
from pyskl.utils.safe_pickle import dump_pickle, load_pickle

REPO = Path(__file__).resolve().parents[2]
DEMO = 'configs/dgstgcn/demo/j.py'
NTU60_J = 'configs/dgstgcn/ntu60_xsub_3dkp/j.py'

pytestmark = pytest.mark.skipif(not sys.platform.startswith('linux'),
                                reason='the shell scripts and /proc are Linux-only')


def _env() -> dict:
    env = dict(os.environ, PYTHON=sys.executable, OMP_NUM_THREADS='1', PYTHONPATH=str(REPO))
    for key in ('RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'MASTER_ADDR', 'MASTER_PORT', 'PORT', 'NNODES', 'NODE_RANK',
                'PYSKL_DEBUG'):
        env.pop(key, None)
    return env


def _run(args: list, timeout: int = 600, status: int = 0) -> str:
    proc = subprocess.run(args, cwd=REPO, env=_env(), capture_output=True, text=True, timeout=timeout)
    output = proc.stdout + proc.stderr
    assert proc.returncode == status, output[-4000:]
    return output if status == 0 else proc.stderr


def _logs(work_dir: Path) -> str:
    """The text logs the runs wrote into the work dir (WORK_DIR/<time>/<time>.log), oldest first."""
    return '\n'.join(p.read_text() for p in sorted(work_dir.glob('*/*.log')))


def _metric(log: str, phase: str, key: str) -> list[float]:
    return [float(v) for v in re.findall(rf'Epoch\({phase}\).*?{key}: ([0-9.]+)', log)]


def _lrs(log: str) -> dict[tuple[int, int], str]:
    found = re.findall(r'Epoch\(train\) +\[(\d+)\]\[ *(\d+)/\d+\] +lr: (\S+)', log)
    return {(int(e), int(i)): lr for e, i, lr in found}


@pytest.mark.slow
def test_demo_dist_train_then_dist_test(tmp_path):
    work = tmp_path / 'demo'
    options = []
    if not (REPO / 'tools/data/demo/demo_3danno.pkl').is_file():  # a checkout without the shipped file
        _run([sys.executable, 'tools/data/make_demo_data.py', str(tmp_path / 'data')])
        ann = tmp_path / 'data' / 'demo_3danno.pkl'
        options = [f'data.{k}.ann_file={ann}' for k in ('train.dataset', 'val', 'test')]
    # three epochs instead of eight keep CI short; already far above chance (1/8)
    _run(['bash', 'tools/dist_train.sh', DEMO, '2', '--validate', '--test-last', '--seed', '0',
          '--work-dir', str(work), '--cfg-options', 'total_epochs=3', *options])
    log = _logs(work)
    assert 'Distributed training: True' in log and "launcher = 'pytorch'" in log
    assert 'Epoch(train) [3]' in log and len(_metric(log, 'val', 'top1_acc')) == 3
    assert 'Testing the last checkpoint' in log

    checkpoint = read_checkpoint(str(work / 'epoch_3.pth'))
    assert (checkpoint['meta']['epoch'], checkpoint['meta']['iter']) == (3, 45)  # 3 x 240 x 2 / (2 x 16)
    assert (work / 'last_checkpoint').read_text() == str(work / 'epoch_3.pth')
    assert list(work.glob('best_top1_acc_epoch_*.pth'))
    for name in ('last_pred.pkl', 'confusion_matrix_last.png', 'confusion_matrix_last.csv', 'training_curves.png'):
        assert (work / name).is_file(), name

    result = work / 'result.pkl'
    _run(['bash', 'tools/dist_test.sh', DEMO, str(work / 'epoch_3.pth'), '2', '--eval', 'top_k_accuracy',
          '--out', str(result), '--work-dir', str(work), *(['--cfg-options', *options] if options else [])])
    with open(result, 'rb') as f:
        scores = pickle.load(f)
    annotations = load_pickle(REPO / 'tools/data/demo/demo_3danno.pkl' if not options
                              else tmp_path / 'data' / 'demo_3danno.pkl')
    labels_by_name = {a['frame_dir']: a['label'] for a in annotations['annotations']}
    labels = np.array([labels_by_name[n] for n in annotations['split']['val']])
    assert isinstance(scores, list) and len(scores) == len(labels) == 80
    assert all(s.shape == (8, ) and s.dtype == np.float32 for s in scores)
    np.testing.assert_allclose(np.stack(scores).sum(1), 1, atol=1e-5)  # class probabilities, clip-averaged
    top1 = float(np.mean(np.stack(scores).argmax(1) == labels))
    test_log = _logs(work)
    assert _metric(test_log, 'test', 'top1_acc')[-1] == pytest.approx(top1, abs=1e-4)
    assert top1 >= 0.3, f'top-1 {top1:.3f} is not clearly above chance (0.125)'
    # the in-memory model tested after training and its checkpoint tested now agree
    with open(work / 'last_pred.pkl', 'rb') as f:
        np.testing.assert_allclose(np.stack(pickle.load(f)), np.stack(scores), atol=1e-6)


def _small_ntu_file(path: Path) -> tuple[Path, list[int]]:
    """An annotation file in the NTU format with splits xsub_train (24) and xsub_val (15: odd, so the
    distributed sampler pads)."""
    data = make_demo_annotations(seed=1, num_train=3, num_val=2, min_len=30, max_len=60)
    data['split'] = {'xsub_train': data['split']['train'], 'xsub_val': data['split']['val'][:-1]}
    dump_pickle(data, path)
    labels = {a['frame_dir']: a['label'] for a in data['annotations']}
    return path, [labels[n] for n in data['split']['xsub_val']]


def _worker_pids(launcher_pid: int) -> list[int]:
    pids = []
    for stat in Path('/proc').glob('[0-9]*/stat'):
        try:
            fields = stat.read_text().rsplit(')', 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == launcher_pid:  # parent pid
            pids.append(int(stat.parent.name))
    return pids


@pytest.mark.slow
def test_original_config_is_killed_resumes_and_tests(tmp_path):
    ann, labels = _small_ntu_file(tmp_path / 'ntu_small.pkl')
    work = tmp_path / 'ntu'
    options = [
        f'data.train.dataset.ann_file={ann}', f'data.val.ann_file={ann}', f'data.test.ann_file={ann}',
        'data.train.times=1', 'data.videos_per_gpu=4', 'data.workers_per_gpu=1',
        'data.test_dataloader.videos_per_gpu=4',
        'data.train.dataset.pipeline.3.clip_len=20', 'data.val.pipeline.2.clip_len=20',
        'data.test.pipeline.2.clip_len=20', 'data.test.pipeline.2.num_clips=2',
        'model.cls_head.num_classes=8', 'total_epochs=3', 'log_config.interval=1']
    train = ['bash', 'tools/dist_train.sh', NTU60_J, '2', '--validate', '--test-last', '--seed', '0',
             '--work-dir', str(work), '--cfg-options', *options]

    # 1. train; kill both training processes as soon as the second epoch has begun
    out_file = tmp_path / 'killed_run.txt'
    with open(out_file, 'w') as out:
        launcher = subprocess.Popen(train, cwd=REPO, env=_env(), stdout=out, stderr=subprocess.STDOUT,
                                    start_new_session=True)
    try:
        deadline = time.time() + 400
        while 'Epoch(train) [2][1/3]' not in out_file.read_text():
            assert launcher.poll() is None, out_file.read_text()[-4000:]
            assert time.time() < deadline, 'the second epoch never started'
            time.sleep(0.1)
        for pid in _worker_pids(launcher.pid):
            os.kill(pid, signal.SIGKILL)
        launcher.wait(timeout=60)
    finally:
        if launcher.poll() is None:
            os.killpg(launcher.pid, signal.SIGKILL)
    assert launcher.returncode != 0
    first = out_file.read_text()
    assert 'Epoch(train) [2][3/3]' not in first
    assert not (work / 'epoch_2.pth').exists() and (work / 'epoch_1.pth').is_file()

    # 2. the same command again: it resumes from the last checkpoint by itself
    second = _run(train)
    assert 'resumed epoch: 1, iter: 3' in second
    lrs_first, lrs_second = _lrs(first), _lrs(second)
    assert (1, 1) not in lrs_second and (2, 1) in lrs_second  # epoch 1 is not trained again
    assert lrs_second[(2, 1)] == lrs_first[(2, 1)]  # the schedule goes on where it was
    # per-iteration cosine from 0.1 over 3 x 3 iterations: the last iteration (8) runs at
    # 0.1 * (1 + cos(8 pi / 9)) / 2
    assert float(lrs_second[(3, 3)]) == pytest.approx(0.1 * (1 + np.cos(8 * np.pi / 9)) / 2, rel=1e-3)
    final = read_checkpoint(str(work / 'epoch_3.pth'))
    assert (final['meta']['epoch'], final['meta']['iter']) == (3, 9)
    # epoch 1's checkpoint was saved before its validation, so the resumed run validates epoch 1
    # again first (ValidateOnResumeHook): the same model gives the score the killed run logged
    first_val, val_top1 = _metric(first, 'val', 'top1_acc'), _metric(second, 'val', 'top1_acc')
    assert len(first_val) == 1 and len(val_top1) == 3
    assert val_top1[0] == pytest.approx(first_val[0], abs=1e-4)
    # the best score runs over all three epochs' validations
    best = final['message_hub']['runtime_info']['best_score']
    assert best == pytest.approx(max(val_top1), abs=1e-4)
    best_epoch = 1 + int(np.argmax(val_top1))
    assert [p.name for p in work.glob('best_*.pth')] == [f'best_top1_acc_epoch_{best_epoch}.pth']

    # 3. test on two processes and on one: the same scores, one per sample, in dataset order
    two, one = tmp_path / 'two.pkl', tmp_path / 'one.pkl'
    test_out = _run(['bash', 'tools/dist_test.sh', NTU60_J, str(work / 'epoch_3.pth'), '2', '--eval',
                     'top_k_accuracy', 'mean_class_accuracy', '--out', str(two), '--work-dir', str(work),
                     '--cfg-options', *options])
    _run([sys.executable, 'tools/test.py', NTU60_J, '-C', str(work / 'epoch_3.pth'), '--out', str(one),
          '--work-dir', str(work), '--cfg-options', *options])
    with open(two, 'rb') as f:
        scores_two = pickle.load(f)
    with open(one, 'rb') as f:
        scores_one = pickle.load(f)
    assert len(scores_two) == len(scores_one) == len(labels) == 15  # no duplicate from the padded 16th slot
    # float32 sums in another order (one thread per process against two): equal to about 1e-6, where a
    # sample out of place or scored twice differs by 1e-2 or more
    np.testing.assert_allclose(np.stack(scores_two), np.stack(scores_one), atol=1e-5)
    top1 = float(np.mean(np.stack(scores_two).argmax(1) == np.array(labels)))
    assert _metric(test_out, 'test', 'top1_acc')[-1] == pytest.approx(top1, abs=1e-4)
    assert _metric(test_out, 'test', 'mean_class_accuracy')
    assert (work / 'confusion_matrix.png').is_file() and (work / 'confusion_matrix.csv').is_file()
    # testing into the work dir leaves the training config there as it was
    assert 'optim_wrapper' in (work / 'j.py').read_text()


def _error_lines(stderr: str) -> list[str]:
    """What the user reads at the end, without torchrun's own log lines (``W1126 12:00:00 ...``)."""
    assert 'Traceback' not in stderr, stderr[-4000:]
    return [line for line in stderr.strip().splitlines() if not re.match(r'[WEI]\d{4} ', line)]


def test_a_config_typo_is_one_line(tmp_path):
    err = _run([sys.executable, 'tools/train.py', DEMO, '--work-dir', str(tmp_path), '--cfg-options',
                'data.train.dataset.pipeline.0.type=PreNormalise3D'], status=2)
    assert _error_lines(err)[-1] == ("error: 'PreNormalise3D' is not a registered type in the pyskl::transform "
                                     "registry. Did you mean 'PreNormalize3D' or 'PreNormalize2D' or 'Normalize'?")


def test_a_missing_annotation_file_is_one_line_from_every_process(tmp_path):
    err = _run(['bash', 'tools/dist_train.sh', DEMO, '2', '--work-dir', str(tmp_path), '--cfg-options',
                'data.train.dataset.ann_file=data/missing.pkl'], status=2)
    message = ('data/missing.pkl does not exist (data.train.dataset.ann_file in configs/dgstgcn/demo/j.py); '
               'prepare the data as the README says, or point it at your file: --cfg-options '
               'data.train.dataset.ann_file=PATH')
    lines = _error_lines(err)
    # every process that got that far says it (torchrun may stop one before it does), then one summary
    assert set(lines[:-1]) <= {f'error (rank 1): {message}', f'error: {message}'} and len(lines) >= 2
    assert re.fullmatch(r'error: 2 process\(es\) of the job failed, first rank [01] \(exit status 2\); its '
                        r'message is above', lines[-1])


def test_a_checkpoint_of_another_architecture_is_one_line(tmp_path):
    import torch
    from mmengine.config import Config

    from pyskl.models import build_model
    model_cfg = Config.fromfile(str(REPO / DEMO)).model
    model_cfg.cls_head.num_classes = 60  # e.g. an NTU-60 checkpoint tested with the 8-class demo config
    ckpt = tmp_path / 'ntu60.pth'
    torch.save(dict(state_dict=build_model(model_cfg).state_dict()), ckpt)
    err = _run([sys.executable, 'tools/test.py', DEMO, str(ckpt), '--eval', 'top_k_accuracy', '--work-dir',
                str(tmp_path)], status=2)
    assert _error_lines(err)[-1] == (
        f'error: {ckpt} does not fit this model (2 of another shape: cls_head.fc_cls.weight (60, 128) vs model '
        '(8, 128), cls_head.fc_cls.bias (60,) vs model (8,)); is it a checkpoint of this config (architecture, '
        'number of classes, graph layout, input channels)?')


def test_slurm_scripts_start_one_task_per_gpu(tmp_path):
    """What the slurm scripts ask srun for (a stand-in srun prints its arguments)."""
    srun = tmp_path / 'srun'
    srun.write_text('#!/bin/sh\nfor a in "$@"; do echo "$a"; done\n')
    srun.chmod(0o755)
    env = dict(_env(), PATH=f'{tmp_path}{os.pathsep}{os.environ["PATH"]}', GPUS='16', SRUN_ARGS='--qos=high -N 2')
    train = subprocess.run(['bash', 'tools/slurm_train.sh', 'gpu', 'job1', NTU60_J, '--validate', '--test-last'],
                           cwd=REPO, env=env, capture_output=True, text=True, check=True).stdout.split('\n')
    assert train[:8] == ['-p', 'gpu', '--job-name=job1', '--gres=gpu:8', '--ntasks=16', '--ntasks-per-node=8',
                         '--cpus-per-task=5', '--kill-on-bad-exit=1']
    assert train[8:10] == ['--qos=high', '-N']
    assert train[11:] == [sys.executable, '-u', str(REPO / 'tools/train.py'), NTU60_J, '--launcher', 'slurm',
                          '--validate', '--test-last', '']
    env.update(GPUS='2', SRUN_ARGS='')
    test = subprocess.run(['bash', 'tools/slurm_test.sh', 'gpu', 'job2', NTU60_J, 'ckpt.pth', '--eval',
                           'top_k_accuracy'], cwd=REPO, env=env, capture_output=True, text=True,
                          check=True).stdout.split('\n')
    assert test[3:5] == ['--gres=gpu:2', '--ntasks=2']
    assert test[8:] == [sys.executable, '-u', str(REPO / 'tools/test.py'), NTU60_J, '-C', 'ckpt.pth', '--launcher',
                        'slurm', '--eval', 'top_k_accuracy', '']
