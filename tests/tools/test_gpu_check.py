"""tools/benchmarks/gpu_check.sh --smoke: every step of the GPU check, a few iterations each, on the CPU."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from shared_data import shared_path

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_gpu_check_smoke(tmp_path):
    all_sqe = shared_path('datasets', 'nw-ucla', 'all_sqe')
    out = tmp_path / 'out'
    env = dict(os.environ, PYTHON=sys.executable)
    done = subprocess.run(['bash', 'tools/benchmarks/gpu_check.sh', '--smoke', '--no-wheels', '--out', str(out),
                           '--data', str(all_sqe), '--work', str(tmp_path / 'work')],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    files = sorted(p.name for p in out.iterdir())
    assert files == ['b.pkl', 'bm.pkl', 'gpu_check.log', 'j.pkl', 'jm.pkl', 'results.md', 'speed.json']
    assert all((out / f).stat().st_size < 16 * 2**20 for f in files)
    speed = json.loads((out / 'speed.json').read_text())
    assert [row['run'] for row in speed] == ['batch2_fp32', 'batch2_amp']
    results = (out / 'results.md').read_text()
    for step in ('environment', 'CUDA tests', 'speed', 'AMP check (demo)', 'NW-UCLA data', 'NW-UCLA training',
                 'NW-UCLA test', 'fusion'):
        assert f'| {step} | ok |' in results, step
    assert '| joint | finished | epoch_1.pth |' in results
    assert '### four streams, 2:2:1:1' in results and 'fused' in results
