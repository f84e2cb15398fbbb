"""Large CPU tensors from reused heap memory, not from fresh memory maps.

glibc serves an allocation above its mmap threshold (32 MiB at most by default) with a fresh
memory map and unmaps it when it is freed, so every new tensor of that size faults all of its
pages in again. DG-STGCN's activations at NTU batch sizes are 20-80 MiB, and a training step
allocates dozens of them: on a 2-core Xeon a (128 x 64) @ (64 x 80,000) product took 24 ms into
fresh memory and 10 ms into reused memory, a ReLU over its output 18 ms and 3.4 ms
(``tools/benchmarks/model_speed.py`` shows the effect on whole steps). Raising the mmap and trim
thresholds keeps freed blocks in the heap for the next tensor; memory is reused, not added, so
the peak stays the same. ``PYSKL_MALLOC_TUNING=0`` leaves glibc's defaults alone; other C
libraries (musl, macOS, Windows) are left as they are.
"""
import ctypes
import ctypes.util
import os
import sys

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # mallopt parameters (malloc.h)
THRESHOLD = 1 << 30  # 1 GiB: above any activation of the shipped configs

_applied: bool | None = None


def reuse_freed_memory() -> bool:
    """Tune glibc's malloc once per process (inherited by forked DataLoader workers).

    Returns whether the thresholds are set. Safe to call more than once.
    """
    global _applied
    if _applied is not None:
        return _applied
    _applied = False
    if os.environ.get('PYSKL_MALLOC_TUNING', '1') == '0' or not sys.platform.startswith('linux'):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library('c') or 'libc.so.6')
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    _applied = bool(mallopt(M_MMAP_THRESHOLD, THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, THRESHOLD))
    return _applied
