"""The machine a process runs on, in one line: CPU model, the cores it may use, torch's threads, GPUs.

A training run logs it (``Machine: ...`` in its log file), so that a results table can say where
each figure was measured; mmengine's environment dump names the software, not the hardware.
"""
import math
import os
import platform


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux), else what ``platform`` knows."""
    try:
        with open('/proc/cpuinfo', encoding='utf-8', errors='replace') as f:
            for line in f:
                if line.startswith('model name'):
                    return ' '.join(line.split(':', 1)[1].split())
    except OSError:
        pass
    return platform.processor() or platform.machine() or 'unknown CPU'


def usable_cores() -> int:
    """The cores this process may run on: its CPU affinity, capped by a cgroup v2 CPU quota
    (``docker --cpus``) where there is one."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else (os.cpu_count() or 1)
    try:
        with open('/sys/fs/cgroup/cpu.max', encoding='utf-8') as f:
            quota, period = f.read().split()[:2]
        if quota != 'max':
            cores = min(cores, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return cores


def describe_machine() -> str:
    """E.g. ``Intel(R) Xeon(R) Processor, 2 cores; torch 2.13.0+cpu, 2 threads`` (and the GPUs with CUDA)."""
    import torch
    cores, threads = usable_cores(), torch.get_num_threads()
    text = (f'{cpu_model()}, {cores} core{"s" * (cores != 1)}; torch {torch.__version__}, '
            f'{threads} thread{"s" * (threads != 1)}')
    if torch.cuda.is_available():
        names = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
        text += '; GPU ' + ', '.join(f'{n} x{names.count(n)}' for n in dict.fromkeys(names))
    return text
