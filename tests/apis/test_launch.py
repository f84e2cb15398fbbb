"""Process-group setup for torchrun and slurm (pyskl.apis.launch)."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pyskl.apis.launch import init_distributed, slurm_environment

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
from pyskl.apis.launch import init_distributed, shutdown_distributed
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
