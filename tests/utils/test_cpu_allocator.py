"""Huge pages for large CPU tensors: a 64 MiB tensor faults in far fewer pages."""
import os
import subprocess
import sys

import pytest

from pyskl.utils.cpu_allocator import kernel_huge_pages

# allocate a 64 MiB tensor twice; count the minor page faults of the second one
PROBE = '''
import os, resource
import pyskl
import torch
a = torch.ones(16 * 2**20)
del a
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
b = torch.ones(16 * 2**20)
print(os.environ['THP_MEM_ALLOC_ENABLE'], resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
'''


def probe(**env):
    environ = {k: v for k, v in os.environ.items() if k != 'THP_MEM_ALLOC_ENABLE'}
    out = subprocess.run([sys.executable, '-c', PROBE], capture_output=True, text=True, check=True,
                         env=dict(environ, **env))
    switch, faults = out.stdout.split()
    return switch, int(faults)


def test_import_turns_huge_pages_on_and_the_user_can_turn_them_off():
    assert probe()[0] == '1'
    assert probe(THP_MEM_ALLOC_ENABLE='0')[0] == '0'


@pytest.mark.skipif(kernel_huge_pages() != 'madvise', reason="huge pages only on request ('madvise') make the difference")
def test_huge_pages_fault_far_fewer_pages():
    _, on = probe()
    _, off = probe(THP_MEM_ALLOC_ENABLE='0')
    assert on * 4 < off  # 4 KiB pages: 16,384 faults for 64 MiB; 2 MiB pages: a few hundred
