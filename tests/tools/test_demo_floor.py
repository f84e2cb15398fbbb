"""The quick start's promise: the demo reaches at least 95 % top-1 whatever the seed (slow: two
trainings of about three minutes each on two cores)."""
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DEMO = 'configs/dgstgcn/demo/j.py'
FLOOR = 0.95

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not (REPO / 'tools/data/demo/demo_3danno.pkl').is_file(),
                                 reason='a checkout without the shipped demo file')]


@pytest.mark.parametrize('seed', [0, 1])
def test_the_demo_reaches_the_floor(seed, tmp_path):
    proc = subprocess.run([sys.executable, 'tools/train.py', DEMO, '--validate', '--test-last', '--seed', str(seed),
                           '--work-dir', str(tmp_path / 'demo')], cwd=REPO, capture_output=True, text=True,
                          timeout=1800)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-4000:]
    found = re.findall(r'Epoch\(test\).*?top1_acc: ([0-9.]+)', output)
    assert found, output[-4000:]
    assert float(found[-1]) >= FLOOR, f'seed {seed}: top-1 {found[-1]} below {FLOOR}'
