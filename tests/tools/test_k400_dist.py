"""tools/dist_train.sh then tools/dist_test.sh, 2 processes (CPU, gloo), on a synthetic set in the
compressed Kinetics-400 form with the k400_hrnet joint config: both ranks build their datasets at
once, one packs the kpfiles into the cache and the other uses it."""
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pyskl.datasets.synthetic_kinetics import write_synthetic_kinetics

REPO = Path(__file__).resolve().parents[2]
CONFIG = 'configs/dgstgcn/k400_hrnet/j.py'

pytestmark = pytest.mark.skipif(not sys.platform.startswith('linux'), reason='the shell scripts are Linux-only')


def _run(args):
    env = dict(os.environ, PYTHON=sys.executable, OMP_NUM_THREADS='1', PYTHONPATH=str(REPO))
    for key in ('RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'MASTER_ADDR', 'MASTER_PORT', 'PORT', 'NNODES', 'NODE_RANK'):
        env.pop(key, None)
    proc = subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    return proc.stdout + proc.stderr


@pytest.mark.slow
def test_k400_dist_train_then_dist_test(tmp_path):
    ann, kpfile_dir = write_synthetic_kinetics(str(tmp_path / 'k400'), num_videos=50, num_kpfiles=6,
                                               total_frames=40, max_boxes=3)  # val: every 10th video, 5
    options = ['total_epochs=1', 'data.videos_per_gpu=4', 'data.workers_per_gpu=1',
               'data.test_dataloader.videos_per_gpu=2', 'log_config.interval=1']
    for part in ('train', 'val', 'test'):
        options += [f'data.{part}.ann_file={ann}', f'data.{part}.kpfile_dir={kpfile_dir}',
                    f'data.{part}.pipeline.3.clip_len=16']
    options.append('data.test.pipeline.3.num_clips=2')
    work = tmp_path / 'work'
    out = _run(['bash', 'tools/dist_train.sh', CONFIG, '2', '--validate', '--seed', '0', '--work-dir', str(work),
                '--cfg-options', *options])
    assert out.count('packing 6 of 6 kpfile(s)') == 1  # one rank built the cache, the other waited for it
    assert (Path(ann + '.cache') / 'meta.json').is_file() and not Path(ann + '.cache.partial').exists()
    log = '\n'.join(p.read_text() for p in sorted(work.glob('*/*.log')))
    assert 'Distributed training: True' in log and 'Epoch(val)' in log
    checkpoint = work / 'epoch_1.pth'
    assert checkpoint.is_file()

    result = tmp_path / 'result.pkl'
    out = _run(['bash', 'tools/dist_test.sh', CONFIG, str(checkpoint), '2', '--eval', 'top_k_accuracy',
                '--out', str(result), '--work-dir', str(work), '--cfg-options', *options])
    assert 'packing' not in out  # the cache is reused
    with open(result, 'rb') as f:
        scores = pickle.load(f)
    assert len(scores) == 5 and all(s.shape == (400, ) for s in scores)
    np.testing.assert_allclose(np.stack(scores).sum(1), 1, atol=1e-5)
