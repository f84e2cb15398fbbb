"""Process-group setup for torchrun and slurm (pyskl.runner.launch)."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pyskl.runner.launch import init_distributed, slurm_environment

REPO = Path(__file__).resolve().parents[2]


def test_one_process_needs_nothing():
    assert init_distributed('none') == dict(launcher='none')


def test_unknown_launcher():
    with pytest.raises(ValueError, match="--launcher 'mpi': choose one of"):
        init_distributed('mpi')


def test_pytorch_launcher_without_torchrun(monkeypatch):
    for key in ('RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'MASTER_ADDR', 'MASTER_PORT'):
        monkeypatch.delenv(key, raising=False)
    with pytest.raises(ValueError, match=r"missing \['RANK', 'WORLD_SIZE'.*tools/dist_train.sh"):
        init_distributed('pytorch')


def _fake_scontrol(folder: Path, hosts: str) -> str:
    script = folder / 'scontrol'
    script.write_text(f'#!/bin/sh\n[ "$1 $2" = "show hostnames" ] || exit 1\nprintf "{hosts}"\n')
    script.chmod(0o755)
    return f'{folder}{os.pathsep}{os.environ.get("PATH", "")}'


def test_slurm_environment(tmp_path, monkeypatch):
    monkeypatch.setenv('PATH', _fake_scontrol(tmp_path, 'node07\\nnode08\\n'))
    env = dict(SLURM_PROCID='5', SLURM_NTASKS='8', SLURM_NODELIST='node[07-08]', SLURM_LOCALID='1')
    assert slurm_environment(env) == dict(RANK='5', WORLD_SIZE='8', LOCAL_RANK='1', MASTER_PORT='29500',
                                          MASTER_ADDR='node07')
    # the environment's port and address win over the defaults; the config's port over both ports
    env.update(MASTER_PORT='29999', MASTER_ADDR='10.0.0.1')
    assert slurm_environment(env)['MASTER_PORT'] == '29999'
    assert slurm_environment(env)['MASTER_ADDR'] == '10.0.0.1'
    assert slurm_environment(env, port=28000)['MASTER_PORT'] == '28000'


def test_slurm_environment_outside_slurm():
    with pytest.raises(ValueError, match=r"missing \['SLURM_PROCID', 'SLURM_NTASKS', 'SLURM_NODELIST'\]"):
        slurm_environment({})


WORKER = r'''
import sys, torch, torch.distributed as dist
from pyskl.runner.launch import init_distributed, shutdown_distributed
settings = init_distributed(sys.argv[1], dict(backend='nccl', timeout=60))
value = torch.tensor([float(dist.get_rank() + 1)])
dist.all_reduce(value)
print(settings['launcher'], settings.get('model_wrapper_cfg'), dist.get_rank(), dist.get_world_size(), value.item())
shutdown_distributed()
'''


@pytest.mark.skipif(sys.platform == 'win32', reason='uses a shell-script scontrol')
def test_two_cpu_processes_under_slurm(tmp_path):
    """What srun would start: two tasks that find each other through slurm's variables (gloo on CPU)."""
    import torch
    if torch.cuda.is_available():
        pytest.skip('on GPUs mmengine starts NCCL itself; this checks the CPU path')
    path = _fake_scontrol(tmp_path, '127.0.0.1\\n')
    script = tmp_path / 'worker.py'
    script.write_text(WORKER)
    import socket
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    procs = []
    for rank in range(2):
        env = {k: v for k, v in os.environ.items()
               if k not in ('RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'MASTER_ADDR', 'MASTER_PORT')}
        env.update(PATH=path, PYTHONPATH=str(REPO), OMP_NUM_THREADS='1', SLURM_PROCID=str(rank), SLURM_NTASKS='2',
                   SLURM_NODELIST='localhost', SLURM_LOCALID=str(rank), MASTER_PORT=str(port))
        procs.append(subprocess.Popen([sys.executable, str(script), 'slurm'], env=env, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True))
    outs = [p.communicate(timeout=120) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err[-2000:]
    lines = sorted(out.strip() for out, _ in outs)
    wrapper = "{'type': 'MMDistributedDataParallel', 'device_ids': None}"
    assert lines == [f'pytorch {wrapper} 0 2 3.0', f'pytorch {wrapper} 1 2 3.0']


def _failure(exitcode: int, timestamp: int = 1_700_000_000):
    from torch.distributed.elastic.multiprocessing.errors import ProcessFailure
    failure = ProcessFailure(local_rank=0, pid=1, exitcode=exitcode, error_file='/nonexistent/error.json')
    failure.timestamp = timestamp  # torch's whole seconds: both failures in the same one
    return failure


def test_the_rank_the_agent_saw_fail_first_is_blamed():
    from pyskl.runner.launch import first_failure, job_failure_line
    # rank 1 was killed; torchrun then stopped rank 0 (SIGTERM) and recorded it after rank 1
    failures = {1: _failure(-9), 0: _failure(-15)}
    assert first_failure(failures)[0] == 1
    assert job_failure_line(failures) == 'error: 2 process(es) of the job failed, first rank 1 (signal 9, SIGKILL)'
    assert job_failure_line({0: _failure(2), 1: _failure(-15)}) == (
        'error: 2 process(es) of the job failed, first rank 0 (exit status 2); its message is above')


_LOADER_SCRIPT = '''
import os, sys, time, torch
from pyskl.runner import PysklRunner

class Slow(torch.utils.data.Dataset):
    def __len__(self):
        return 1000
    def __getitem__(self, i):
        return i

loader = PysklRunner.build_dataloader(dict(dataset=Slow(), batch_size=1, num_workers=1,
                                           sampler=dict(type='DefaultSampler', shuffle=False)))
it = iter(loader)
next(it)
time.sleep(1)  # the worker has filled its prefetch queue and waits for requests
print(' '.join(str(p.pid) for p in it._workers), flush=True)
time.sleep(60)
'''


@pytest.mark.skipif(not sys.platform.startswith('linux'), reason='prctl is Linux-only')
def test_a_dataloader_worker_dies_with_its_process():
    import signal
    import time
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen([sys.executable, '-c', _LOADER_SCRIPT], cwd=REPO, env=env, stdout=subprocess.PIPE,
                            text=True)
    try:
        worker = int(proc.stdout.readline().split()[0])
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        deadline = time.monotonic() + 1.5  # torch's own check would take up to 5 s
        while time.monotonic() < deadline and Path(f'/proc/{worker}').exists():
            time.sleep(0.05)
        alive = Path(f'/proc/{worker}').exists() and 'Z' not in Path(f'/proc/{worker}/stat').read_text().split()[2]
        assert not alive, 'the DataLoader worker outlived its killed process by more than 1.5 s'
    finally:
        proc.kill()
