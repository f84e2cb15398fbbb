import os
from functools import partial

import numpy as np
import pytest
import torch

from pyskl.utils.process_memory import peak_rss, read_worker_memory, record_worker_memory, smaps_rollup

linux_only = pytest.mark.skipif(not os.path.exists('/proc/self/smaps_rollup'), reason='reads Linux /proc')


_GROW = """
import os, numpy as np
from pyskl.utils.process_memory import peak_rss, smaps_rollup
before = smaps_rollup()
block = np.ones(64 * 2**20 // 8)  # 64 MiB written: private, anonymous pages
after = smaps_rollup(os.getpid())
assert 0 < before['uss'] <= before['pss'] <= before['rss'], before
assert after['uss'] - before['uss'] > 48 * 2**20 and after['anon'] - before['anon'] > 48 * 2**20, (before, after)
assert peak_rss() >= after['rss'] - 2**20
"""


@linux_only
def test_smaps_rollup_sees_private_memory_grow():
    # a fresh process: in a long one, the allocator may hand back pages it already holds
    import subprocess
    import sys
    subprocess.run([sys.executable, '-c', _GROW], check=True)


class Ones(torch.utils.data.Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        return np.ones(8 * 2**20 // 8)  # 8 MiB per item


@linux_only
def test_workers_report_their_start_and_growth(tmp_path):
    loader = torch.utils.data.DataLoader(Ones(), batch_size=1, num_workers=2, persistent_workers=True,
                                         worker_init_fn=partial(record_worker_memory, str(tmp_path)),
                                         multiprocessing_context='fork')
    assert sum(1 for _ in loader) == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ['worker0.json', 'worker1.json']
    workers = read_worker_memory(str(tmp_path), 2)  # while they still run (persistent)
    assert len({w['pid'] for w in workers} | {os.getpid()}) == 3
    for w in workers:
        assert 0 < w['start']['uss'] <= w['start']['rss'] and w['end']['rss'] > 0
        assert w['growth']['uss'] == w['end']['uss'] - w['start']['uss']
    del loader
