"""Setting up the process group for distributed training and testing.

``tools/dist_train.sh`` starts the processes with torchrun (which sets ``RANK``,
``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR``, ``MASTER_PORT``); under slurm,
``srun`` starts them and :func:`slurm_environment` derives the same variables from
slurm's. Then:

- with CUDA GPUs, mmengine's own path runs: the Runner gets ``launcher='pytorch'``,
  selects the local GPU and starts NCCL;
- without GPUs, :func:`init_distributed` starts a gloo process group itself
  (mmengine 0.10's launcher calls ``torch.cuda.set_device``, which a CPU-only torch
  refuses) and returns ``model_wrapper_cfg`` with ``device_ids=None``, which DDP needs
  for CPU modules. The Runner sees the group is up and does not start another.
"""
import ctypes
import ctypes.util
import datetime
import functools
import os
import signal
import subprocess
from collections.abc import Callable, Mapping
from typing import Any

import torch
import torch.distributed as torch_dist

LAUNCHERS = ('none', 'pytorch', 'slurm')
DEFAULT_PORT = 29500  # torch.distributed's default
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def first_slurm_host(node_list: str) -> str:
    """The first host of a slurm node list (``node[01-04]`` -> ``node01``), via ``scontrol``."""
    try:
        out = subprocess.run(['scontrol', 'show', 'hostnames', node_list], capture_output=True, text=True,
                             check=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        raise RuntimeError(f'cannot expand the slurm node list {node_list!r} with scontrol ({e}); set MASTER_ADDR '
                           'to the first node\'s address') from e
    hosts = out.split()
    if not hosts:
        raise RuntimeError(f'scontrol returned no host for the slurm node list {node_list!r}; set MASTER_ADDR')
    return hosts[0]


def slurm_environment(environ: Mapping[str, str] = os.environ, port: int | None = None) -> dict[str, str]:
    """torchrun's variables for a process that ``srun`` started.

    ``MASTER_PORT``: ``port`` (the config's ``dist_params.port``), else the environment's,
    else 29500. ``MASTER_ADDR``: the environment's, else the first node of the job.
    """
    missing = [k for k in ('SLURM_PROCID', 'SLURM_NTASKS', 'SLURM_NODELIST') if k not in environ]
    if missing:
        raise ValueError(f'--launcher slurm needs the variables srun sets; missing {missing} (start the job '
                           'with tools/slurm_train.sh or srun)')
    rank = int(environ['SLURM_PROCID'])
    if 'SLURM_LOCALID' in environ:
        local_rank = int(environ['SLURM_LOCALID'])
    else:
        local_rank = rank % max(torch.cuda.device_count(), 1)
    return dict(
        RANK=str(rank), WORLD_SIZE=str(int(environ['SLURM_NTASKS'])), LOCAL_RANK=str(local_rank),
        MASTER_PORT=str(port if port is not None else environ.get('MASTER_PORT', DEFAULT_PORT)),
        MASTER_ADDR=environ.get('MASTER_ADDR') or first_slurm_host(environ['SLURM_NODELIST']))


def init_distributed(launcher: str, dist_cfg: Mapping | None = None) -> dict:
    """Prepare this process for ``launcher`` and return the Runner settings it needs.

    Args:
        launcher: ``'none'`` (one process), ``'pytorch'`` (torchrun) or ``'slurm'`` (srun).
        dist_cfg: the config's ``env_cfg.dist_cfg`` (the original's ``dist_params``):
            ``backend`` (used with GPUs; CPUs always use gloo), ``timeout`` in seconds,
            ``port`` (slurm's master port).

    Returns:
        ``dict(launcher=...)``, plus ``dist_cfg`` for mmengine with GPUs, or
        ``model_wrapper_cfg`` for CPU DDP.
    """
    if launcher not in LAUNCHERS:
        raise ValueError(f'--launcher {launcher!r}: choose one of {list(LAUNCHERS)}')
    if launcher == 'none':
        return dict(launcher='none')
    dist_cfg = dict(dist_cfg or {})
    port = dist_cfg.pop('port', None)
    if launcher == 'slurm':
        os.environ.update(slurm_environment(os.environ, port))
    missing = [k for k in ('RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'MASTER_ADDR', 'MASTER_PORT') if k not in os.environ]
    if missing:
        raise ValueError(f'--launcher {launcher} needs the variables torchrun sets; missing {missing} (start it '
                           'with tools/dist_train.sh / dist_test.sh, or use --launcher none for one process)')
    if torch.cuda.is_available():
        dist_cfg.setdefault('backend', 'nccl')
        # mmengine's 'pytorch' path reads the variables set above (slurm included).
        return dict(launcher='pytorch', dist_cfg=dist_cfg)
    if not torch_dist.is_initialized():
        timeout = dist_cfg.get('timeout')
        extra = dict(timeout=datetime.timedelta(seconds=timeout)) if timeout is not None else {}
        torch_dist.init_process_group(backend='gloo', init_method='env://', rank=int(os.environ['RANK']),
                                      world_size=int(os.environ['WORLD_SIZE']), **extra)
    return dict(launcher='pytorch', model_wrapper_cfg=dict(type='MMDistributedDataParallel', device_ids=None))


def shutdown_distributed() -> None:
    """Tear the process group down (torch warns at exit otherwise)."""
    if torch_dist.is_available() and torch_dist.is_initialized():
        torch_dist.destroy_process_group()


def first_failure(failures: Mapping[int, Any]) -> tuple[int, Any]:
    """The rank that failed first, and its failure, from torchrun's ``ChildFailedError.failures``.

    torchrun's elastic agent records failures in the order it saw them: the processes that
    had ended when it first found one, then those it stopped itself (SIGTERM) because of it.
    That order is the answer; the failures' timestamps are whole seconds and tie.
    """
    return next(iter(failures.items()))


def job_failure_line(failures: Mapping[int, Any]) -> str:
    """torchrun's failed job in one line: how many processes failed, and which one first, how."""
    rank, first = first_failure(failures)
    if first.exitcode >= 0:
        return (f'error: {len(failures)} process(es) of the job failed, first rank {rank} (exit status '
                f'{first.exitcode}); its message is above')
    try:
        name = f', {signal.Signals(-first.exitcode).name}'
    except ValueError:
        name = ''
    return f'error: {len(failures)} process(es) of the job failed, first rank {rank} (signal {-first.exitcode}{name})'


def die_with_parent(parent_pid: int) -> None:
    """Ask Linux to SIGKILL this process when its parent dies (``prctl(PR_SET_PDEATHSIG)``).

    A DataLoader worker otherwise notices that its training process was killed only at its
    next 5-second status check. Does nothing where ``prctl`` is missing (not Linux).
    """
    try:
        libc = ctypes.CDLL(ctypes.util.find_library('c') or 'libc.so.6', use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        return
    if os.getppid() != parent_pid:  # the parent died before the request took effect
        os._exit(1)


def _worker_init(parent_pid: int, then: Callable | None, worker_id: int) -> None:
    die_with_parent(parent_pid)
    if then is not None:
        then(worker_id)


def dies_with_parent(worker_init_fn: Callable | None) -> Callable:
    """A DataLoader ``worker_init_fn`` that makes the worker die with its training process, then
    runs ``worker_init_fn`` (e.g. mmengine's seeding)."""
    return functools.partial(_worker_init, os.getpid(), worker_init_fn)
