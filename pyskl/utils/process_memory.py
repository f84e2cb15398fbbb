"""A process's memory as Linux reports it, for the memory benchmarks.

RSS counts every page a process has mapped in, shared ones included; PSS splits each shared
page among the processes sharing it; USS (private clean + dirty) is what the process holds
alone, so a forked DataLoader worker's USS growth is what copy-on-write costs it.
"""
import json
import os
import os.path as osp
import resource

__all__ = ['smaps_rollup', 'peak_rss', 'record_worker_memory', 'read_worker_memory']


def smaps_rollup(pid: int | str = 'self') -> dict:
    """``rss``, ``pss``, ``uss`` and ``anon`` (anonymous, not file-backed) memory of process ``pid``,
    in bytes, from ``/proc/<pid>/smaps_rollup``."""
    fields = {}
    with open(f'/proc/{pid}/smaps_rollup') as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3 and parts[2] == 'kB':
                fields[parts[0].rstrip(':')] = int(parts[1]) * 1024
    return dict(rss=fields['Rss'], pss=fields['Pss'], uss=fields['Private_Clean'] + fields['Private_Dirty'],
                anon=fields['Anonymous'])


def peak_rss() -> int:
    """This process's peak RSS in bytes. ``VmHWM`` where Linux has it: ``ru_maxrss`` of a process
    started by ``exec`` may report its parent's peak."""
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def record_worker_memory(outdir: str, worker_id: int) -> None:
    """A DataLoader ``worker_init_fn`` (bind ``outdir`` with ``functools.partial``): writes the
    worker's pid and its memory at start to ``outdir/worker<worker_id>.json``."""
    with open(osp.join(outdir, f'worker{worker_id}.json'), 'w') as f:
        json.dump(dict(pid=os.getpid(), start=smaps_rollup('self')), f)


def read_worker_memory(outdir: str, workers: int) -> list[dict]:
    """For each of ``workers`` workers that :func:`record_worker_memory` saw start (and that still
    run): its ``pid``, ``start`` and ``end`` (now) memory, and ``growth`` (end - start) of each field."""
    out = []
    for w in range(workers):
        with open(osp.join(outdir, f'worker{w}.json')) as f:
            info = json.load(f)
        start, end = info['start'], smaps_rollup(info['pid'])
        out.append(dict(pid=info['pid'], start=start, end=end, growth={k: end[k] - start[k] for k in end}))
    return out
