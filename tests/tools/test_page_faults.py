"""tools/benchmarks/page_faults.py: the first touch of a fresh tensor, fresh and holding memory."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(not sys.platform.startswith('linux'), reason='counts page faults as Linux does')
def test_prints_both_cases_with_one_fault_a_page():
    env = {k: v for k, v in os.environ.items() if k != 'THP_MEM_ALLOC_ENABLE'}  # 4 KiB pages
    done = subprocess.run([sys.executable, 'tools/benchmarks/page_faults.py', '--mib', '40', '--hold-gib', '0.2',
                           '--repeats', '1'], cwd=REPO, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    faults = [int(n) for n in re.findall(r'(\d+) page faults', done.stdout)]
    # 40 MiB is above glibc's largest mmap threshold: its own pages, 10,240 of 4 KiB, each faulted in
    assert len(faults) == 2 and all(10240 <= f <= 10240 + 200 for f in faults), done.stdout
    assert 'holding 0.2 GiB' in done.stdout and re.search(r'holding / fresh: x\d+\.\d\d', done.stdout)


def test_refuses_a_nonpositive_size():
    done = subprocess.run([sys.executable, 'tools/benchmarks/page_faults.py', '--mib', '0'], cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and '--mib must be > 0' in done.stderr
