"""tools/dist_train.sh, dist_test.sh: a GPU count that is not a positive integer ends in one line."""
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize('gpus', ['0', 'abc', '-1', '1.5'])
@pytest.mark.parametrize('script, before', [('dist_train.sh', []), ('dist_test.sh', ['epoch_1.pth'])])
def test_a_bad_gpu_count_is_one_line(script, before, gpus):
    proc = subprocess.run(['bash', str(REPO / 'tools' / script), 'configs/dgstgcn/demo/j.py', *before, gpus],
                          cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and proc.stdout == ''
    assert proc.stderr == f"error: GPUS must be a positive integer (the number of processes), got '{gpus}'\n"
