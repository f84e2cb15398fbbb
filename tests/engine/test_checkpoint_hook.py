"""AtomicCheckpointHook: a failed or killed save never costs the last good checkpoint."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from pyskl.models.checkpoint import read_checkpoint
from pyskl.runner import find_resume_checkpoint
from pyskl.engine.checkpoint_hook import AtomicLocalBackend

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]


def _files(work_dir: Path) -> list[str]:
    return sorted(p.name for p in work_dir.iterdir() if p.suffix == '.pth')


def test_keeps_the_newest_and_the_best(tmp_path, tiny_runner):
    hook = dict(type='AtomicCheckpointHook', interval=1, max_keep_ckpts=1, save_best='auto')
    runner = tiny_runner(tmp_path, epochs=3, checkpoint=hook)
    runner.train()
    names = _files(tmp_path)
    assert 'epoch_3.pth' in names and 'epoch_1.pth' not in names and 'epoch_2.pth' not in names
    best = [n for n in names if n.startswith('best_top1_acc_epoch_')]
    assert len(best) == 1 and runner.message_hub.get_info('best_ckpt') == str(tmp_path / best[0])
    assert (tmp_path / 'last_checkpoint').read_text() == str(tmp_path / 'epoch_3.pth')
    assert not [n for n in os.listdir(tmp_path) if n.endswith('.tmp')]


def test_a_failed_save_keeps_the_previous_checkpoint(tmp_path, tiny_runner, monkeypatch):
    real_put = AtomicLocalBackend.put

    def put(self, obj, filepath):
        if str(filepath).endswith('epoch_2.pth'):
            raise OSError(28, 'No space left on device')
        return real_put(self, obj, filepath)

    monkeypatch.setattr(AtomicLocalBackend, 'put', put)
    runner = tiny_runner(tmp_path, epochs=3, validate=False,
                         checkpoint=dict(type='AtomicCheckpointHook', interval=1, max_keep_ckpts=1))
    with pytest.raises(OSError, match='No space left'):
        runner.train()
    # max_keep_ckpts=1 would have deleted epoch_1.pth to make room: not before epoch_2.pth is complete
    assert _files(tmp_path) == ['epoch_1.pth']
    assert (tmp_path / 'last_checkpoint').read_text() == str(tmp_path / 'epoch_1.pth')
    assert read_checkpoint(str(tmp_path / 'epoch_1.pth'))['meta']['epoch'] == 1


KILLED_RUN = r'''
import importlib.util, os, signal, sys
spec = importlib.util.spec_from_file_location('tiny', sys.argv[1])
tiny = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tiny)
from pyskl.runner import PysklRunner, find_resume_checkpoint
work_dir, mode = sys.argv[2], sys.argv[3]
if mode == 'kill':
    real_fsync = os.fsync
    def fsync(fd):
        # die while epoch_2.pth is being written: its temporary file is complete, not yet renamed
        if os.path.basename(os.readlink(f'/proc/self/fd/{fd}')).startswith('.epoch_2.pth.'):
            os.kill(os.getpid(), signal.SIGKILL)
        real_fsync(fd)
    os.fsync = fsync
hook = dict(type='AtomicCheckpointHook', interval=1, max_keep_ckpts=1, save_best='auto')
kwargs = tiny.tiny_runner_kwargs(work_dir, epochs=3, checkpoint=hook)
if mode == 'resume':
    kwargs.update(resume=True, load_from=find_resume_checkpoint(work_dir))
PysklRunner(**kwargs).train()
'''


@pytest.mark.skipif(not sys.platform.startswith('linux'), reason='uses /proc to see which file is being written')
def test_killed_during_a_save_resumes_as_if_never_interrupted(tmp_path, tiny_runner):
    script = tmp_path / 'run.py'
    script.write_text(KILLED_RUN)
    killed, resumed, straight = tmp_path / 'killed', tmp_path / 'resumed', tmp_path / 'straight'
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=str(REPO))
    run = [sys.executable, str(script), str(HERE.parent / 'tiny_runner.py'), str(killed)]
    proc = subprocess.run(run + ['kill'], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == -9, proc.stderr[-2000:]

    # what the kill left: the last good checkpoint, named by last_checkpoint, and a stray temporary
    assert _files(killed)[:2] == ['best_top1_acc_epoch_1.pth', 'epoch_1.pth']
    assert [n for n in os.listdir(killed) if n.startswith('.epoch_2.pth.') and n.endswith('.tmp')]
    assert (killed / 'last_checkpoint').read_text() == str(killed / 'epoch_1.pth')
    assert find_resume_checkpoint(str(killed)) == str(killed / 'epoch_1.pth')

    proc = subprocess.run(run + ['resume'], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    log = proc.stdout + proc.stderr
    assert 'resumed epoch: 1, iter: 3' in log
    assert 'Removed 1 partial checkpoint file(s)' in log
    assert not [n for n in os.listdir(killed) if n.endswith('.tmp')]
    assert (killed / 'last_checkpoint').read_text() == str(killed / 'epoch_3.pth')

    # the same run without the kill ends with the same weights, optimizer and schedule
    tiny_runner(straight, epochs=3, checkpoint=dict(type='AtomicCheckpointHook', interval=1, max_keep_ckpts=1,
                                                    save_best='auto')).train()
    a, b = read_checkpoint(str(killed / 'epoch_3.pth')), read_checkpoint(str(straight / 'epoch_3.pth'))
    # equal up to float rounding: the killed run ran in a subprocess, maybe with other thread counts
    for key, value in b['state_dict'].items():
        torch.testing.assert_close(a['state_dict'][key], value, rtol=1e-5, atol=1e-6, msg=key)
    assert a['param_schedulers'] == b['param_schedulers']
    assert (a['meta']['epoch'], a['meta']['iter']) == (b['meta']['epoch'], b['meta']['iter']) == (3, 9)
    momentum_a = [s['momentum_buffer'] for s in a['optimizer']['state'].values()]
    momentum_b = [s['momentum_buffer'] for s in b['optimizer']['state'].values()]
    for x, y in zip(momentum_a, momentum_b):
        torch.testing.assert_close(x, y, rtol=1e-5, atol=1e-6)
    hub_a, hub_b = a['message_hub']['runtime_info'], b['message_hub']['runtime_info']
    assert hub_a['best_score'] == hub_b['best_score']
    assert os.path.basename(hub_a['best_ckpt']) == os.path.basename(hub_b['best_ckpt'])
