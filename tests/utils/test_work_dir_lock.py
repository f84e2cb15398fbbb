"""One training per work dir (pyskl.utils.work_dir_lock), also through tools/train.py."""
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from pyskl.utils.work_dir_lock import WorkDirBusyError, lock_work_dir, unlock_work_dir

REPO = Path(__file__).resolve().parents[2]
_HOLD = 'import sys, time; from pyskl.utils.work_dir_lock import lock_work_dir; lock_work_dir(sys.argv[1]); ' \
        'print("locked", flush=True); time.sleep(120)'


def _holder(work_dir) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, '-c', _HOLD, str(work_dir)], cwd=REPO, stdout=subprocess.PIPE,
                            text=True, env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert proc.stdout.readline().strip() == 'locked'
    return proc


def test_a_second_process_is_refused_until_the_first_dies(tmp_path):
    proc = _holder(tmp_path)
    try:
        with pytest.raises(WorkDirBusyError, match=rf'^{tmp_path} is in use by another training \(pid {proc.pid} on '
                                                   r'.* since .*\); wait for it to end, or give this run another '
                                                   r'--work-dir$'):
            lock_work_dir(str(tmp_path))
    finally:
        os.kill(proc.pid, signal.SIGKILL)  # a crash: no clean-up of any kind
        proc.wait()
    lock_work_dir(str(tmp_path))  # not stuck
    lock_work_dir(str(tmp_path))  # reentrant in one process
    unlock_work_dir(str(tmp_path))
    unlock_work_dir(str(tmp_path))
    proc = _holder(tmp_path)  # released: another process may take it
    proc.kill()
    proc.wait()


@pytest.mark.skipif(not sys.platform.startswith('linux'), reason='uses a subprocess and flock')
def test_train_py_refuses_a_busy_work_dir_in_one_line(tmp_path):
    proc = _holder(tmp_path)
    try:
        env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS='1')
        env.pop('RANK', None)
        out = subprocess.run([sys.executable, 'tools/train.py', 'configs/dgstgcn/demo/j.py', '--work-dir',
                              str(tmp_path)], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    finally:
        proc.kill()
        proc.wait()
    assert out.returncode == 2, out.stderr[-2000:]
    assert out.stderr.strip().splitlines()[-1].startswith(f'error: {tmp_path} is in use by another training (pid ')
    assert not list(tmp_path.glob('*/*.log')) and not list(tmp_path.glob('*.pth'))  # it wrote nothing
