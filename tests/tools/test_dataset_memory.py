"""tools/benchmarks/dataset_memory.py, run as a user runs it, on a tiny synthetic file: its three
datasets (list of dicts, PoseDataset, PoseDataset(cache=True)) give the same data, and each
worker's memory is read."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(not os.path.exists('/proc/self/smaps_rollup'), reason='reads Linux /proc')
@pytest.mark.parametrize('two_d', [False, True])
def test_three_datasets_agree_and_each_worker_is_measured(tmp_path, two_d):
    done = subprocess.run([sys.executable, 'tools/benchmarks/dataset_memory.py', '--num-samples', '64', '--shape',
                           '2', '10', '25', '3', '--workers', '2', '--batch-size', '8', '--tmpdir', str(tmp_path)]
                          + ['--two-d'] * two_d, cwd=REPO, capture_output=True, text=True, timeout=300)
    # the script compares the datasets' checksums and fails when they differ
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert '2 workers, one epoch of 64 items, batch 8' in done.stdout
    for label in ('(a) list of dicts', '(b) PoseDataset', '(c) ... cache=True'):
        row = next(line for line in done.stdout.splitlines() if line.startswith(label))
        assert len(re.findall(r'-?\d+\.\d', row[len(label):])) == 2 + 2 + 2  # load, epoch; two workers; means
    assert list(tmp_path.iterdir()) == []  # the synthetic file is gone
