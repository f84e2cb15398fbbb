"""NW-UCLA end to end on the CPU: convert the real data, train the joint stream of the committed
config for one short epoch, test it; a checkpoint, a result file and a log with top-1 come out.

Skipped where ../shared/datasets/nw-ucla is absent. To stay short it trains on 8 sequences per
class (and tests on 4) of the converted file, with the committed recipe otherwise unchanged.
"""
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pyskl.utils.safe_pickle import dump_pickle, load_pickle
from shared_data import shared_path

REPO = Path(__file__).resolve().parents[2]
CONFIG = 'configs/dgstgcn/nwucla_xview/j.py'


def _subset(anno: dict, split: str, per_class: int) -> list[str]:
    by_name = {a['frame_dir']: a['label'] for a in anno['annotations']}
    taken, counts = [], {}
    for name in anno['split'][split]:
        label = by_name[name]
        if counts.get(label, 0) < per_class:
            counts[label] = counts.get(label, 0) + 1
            taken.append(name)
    return taken


@pytest.mark.slow
def test_convert_train_one_epoch_and_test(tmp_path):
    all_sqe = shared_path('datasets', 'nw-ucla', 'all_sqe')
    env = dict(os.environ, OMP_NUM_THREADS='2', PYTHONPATH=str(REPO))
    full = tmp_path / 'nwucla_3danno.pkl'
    out = subprocess.run([sys.executable, 'tools/data/nwucla_preproc.py', str(all_sqe), str(full)], cwd=REPO,
                         env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    anno = load_pickle(full)
    assert (len(anno['split']['xview_train']), len(anno['split']['xview_val'])) == (1020, 464)

    small_split = {'xview_train': _subset(anno, 'xview_train', 8), 'xview_val': _subset(anno, 'xview_val', 4)}
    keep = set(small_split['xview_train']) | set(small_split['xview_val'])
    small = tmp_path / 'small.pkl'
    dump_pickle(dict(split=small_split, annotations=[a for a in anno['annotations'] if a['frame_dir'] in keep]),
                small)
    label_map = tmp_path / 'nwucla_label_map.txt'
    assert label_map.exists()

    work_dir = tmp_path / 'work'
    options = ['total_epochs=1', 'data.train.times=1', 'data.workers_per_gpu=0', 'evaluation.interval=1',
               'lr_config.warmup_iters=1', 'log_config.interval=1']
    for key in ('data.train.dataset', 'data.val', 'data.test'):
        options += [f'{key}.ann_file={small}', f'{key}.label_map={label_map}']
    run = subprocess.run([sys.executable, 'tools/train.py', CONFIG, '--validate', '--test-last', '--work-dir',
                          str(work_dir), '--seed', '0', '--cfg-options', *options], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=1200)
    assert run.returncode == 0, (run.stdout + run.stderr)[-4000:]

    assert (work_dir / 'epoch_1.pth').is_file()
    log = '\n'.join(p.read_text() for p in work_dir.glob('*/*.log'))
    top1 = [float(v) for v in re.findall(r'top1_acc: ([0-9.]+)', log)]
    assert top1 and all(0.0 <= v <= 1.0 for v in top1)
    scores = load_pickle(work_dir / 'last_pred.pkl')
    assert len(scores) == 40 and all(np.shape(s) == (10, ) for s in scores)
    assert np.allclose([np.sum(s) for s in scores], 1.0, atol=1e-4)  # class probabilities
    assert (work_dir / 'training_curves.png').stat().st_size > 0
