"""The kpfile cache: the same samples as reading the kpfiles directly, memory-mapped, resumable,
never used half-written, rebuilt when a kpfile changes, bad kpfiles raised or skipped as configured."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from kinetics_files import video, write_kinetics
from mmengine import Config

from pyskl.datasets import PoseDataset
from pyskl.datasets import kpfile_cache
from pyskl.datasets.synthetic_kinetics import write_synthetic_kinetics
from pyskl.utils import dump_pickle

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def synthetic(tmp_path):
    return write_synthetic_kinetics(str(tmp_path / 'k400'), num_videos=40, num_kpfiles=5, total_frames=30,
                                    max_boxes=3, num_classes=400)


def same(a, b):
    assert sorted(a) == sorted(b)
    for key in a:
        if isinstance(a[key], (np.ndarray, torch.Tensor)):
            assert a[key].dtype == b[key].dtype and a[key].shape == b[key].shape, key
            np.testing.assert_array_equal(np.asarray(a[key]), np.asarray(b[key]), err_msg=key)
        else:
            assert a[key] == b[key], key


def test_cache_and_direct_kpfiles_give_identical_samples(synthetic):
    ann, kp = synthetic
    cfg = Config.fromfile(str(REPO / 'configs' / 'dgstgcn' / 'k400_hrnet' / 'j.py'))
    for split, pipeline in (('train', []), ('val', cfg.test_pipeline)):
        direct = PoseDataset(ann, kpfile_dir=kp, split=split, box_thr=0.5, pipeline=pipeline, test_mode=True)
        cached = PoseDataset(ann, kpfile_dir=kp, split=split, box_thr=0.5, pipeline=pipeline, test_mode=True,
                             cache=True, cache_workers=2)
        assert len(direct) == len(cached) == (36 if split == 'train' else 4)
        for i in range(len(direct)):
            same(direct.get_data_info(i), cached.get_data_info(i))
            same(direct[i], cached[i])
    assert isinstance(cached._packed.keypoint.data, np.memmap)
    assert cached[0]['keypoint'].shape == (10, 2, 100, 17, 3)
    assert not os.path.exists(ann + '.cache.partial')


def test_interrupted_build_resumes_and_is_never_used_half_written(synthetic, monkeypatch):
    ann, kp = synthetic
    real = kpfile_cache.pack_kpfile
    calls = []

    def interrupted(task):
        if len(calls) == 2:
            raise KeyboardInterrupt
        calls.append(task[0])
        return real(task)

    monkeypatch.setattr(kpfile_cache, 'pack_kpfile', interrupted)
    with pytest.raises(KeyboardInterrupt):
        PoseDataset(ann, kpfile_dir=kp, cache=True, cache_workers=1)
    assert not os.path.exists(ann + '.cache')  # nothing a later run could map
    shards = sorted(p for p in os.listdir(ann + '.cache.partial') if p.endswith('.json') and p != 'source.json')
    assert shards == ['000000.json', '000001.json']

    done_before = list(calls)
    calls.clear()
    monkeypatch.setattr(kpfile_cache, 'pack_kpfile', lambda task: calls.append(task[0]) or real(task))
    resumed = PoseDataset(ann, kpfile_dir=kp, cache=True, cache_workers=1)
    assert len(calls) == 3 and not set(calls) & set(done_before)  # only the kpfiles not done before
    direct = PoseDataset(ann, kpfile_dir=kp)
    for i in range(len(direct)):
        same(direct.get_data_info(i), resumed.get_data_info(i))
    calls.clear()
    PoseDataset(ann, kpfile_dir=kp, cache=True)  # complete: used as it is
    assert calls == []


def test_cache_is_rebuilt_when_a_kpfile_changes(tmp_path):
    ann, kp = write_kinetics(tmp_path, [video('a', [0, 1], [0.9, 0.9]), video('b', [0], [0.9], kpfile='p1.pkl')])
    assert PoseDataset(ann, kpfile_dir=kp, cache=True).get_data_info(0)['keypoint'][0, 0, 0] == 100
    changed = video('a', [0, 1], [0.9, 0.9])[1] + 1
    dump_pickle({'a': dict(keypoint=changed)}, os.path.join(kp, 'part_0.pkl'))
    assert PoseDataset(ann, kpfile_dir=kp, cache=True).get_data_info(0)['keypoint'][0, 0, 0] == 101


def test_missing_kpfile_is_named_with_its_videos_and_skipped_only_when_asked(tmp_path, log_lines):
    videos = [video('a', [0], [0.9]), video('b', [0], [0.9], kpfile='gone.pkl'),
              video('c', [0, 0], [0.9, 0.8], kpfile='gone.pkl'), video('d', [0], [0.9], kpfile='p2.pkl')]
    ann, kp = write_kinetics(tmp_path, videos, kpfiles={'gone.pkl': None,
                                                        'p2.pkl': {'x': dict(keypoint=np.zeros((1, 17, 3)))}})
    gone = os.path.join(kp, 'gone.pkl')
    with pytest.raises(ValueError) as info:
        PoseDataset(ann, kpfile_dir=kp, cache=True)
    message = str(info.value)
    assert message.startswith(f"{ann}: sample 'b' field 'raw_file': {gone}: kpfile not found; "
                              "it holds 2 video(s): 'b', 'c'")
    assert '(and 2 more bad sample(s)' in message
    ds = PoseDataset(ann, kpfile_dir=kp, cache=True, on_bad_sample='skip')
    assert [ds.get_data_info(i)['frame_dir'] for i in range(len(ds))] == ['a']
    assert len(ds.bad_samples) == 3
    assert "sample 'd' field 'frame_dir': " + os.path.join(kp, 'p2.pkl') + ": video 'd' is not in its kpfile" \
        in ds.bad_samples[2]
    assert any("skipping 3 bad sample(s) (1 for 'frame_dir', 2 for 'raw_file')" in line for line in log_lines)


def test_concurrent_builders_share_one_build(synthetic):
    """A second process waits on the lock and finds the cache the first wrote."""
    ann, kp = synthetic
    code = ('import sys; from pyskl.datasets import PoseDataset; '
            f'd = PoseDataset({ann!r}, kpfile_dir={kp!r}, cache=True, cache_workers=1); print(len(d))')
    env = dict(os.environ, PYTHONPATH=str(REPO))
    procs = [subprocess.Popen([sys.executable, '-c', code], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert [o[0].split()[-1] for o in outs] == ['40', '40']
    packing = [o for o in outs if 'packing 5 of 5 kpfile(s)' in o[0]]
    assert len(packing) == 1  # one built it
    with open(ann + '.cache/meta.json') as f:
        assert json.load(f)['kpfile_paths'] == [os.path.join(kp, f'part_{k:05d}.pkl') for k in range(5)]


def test_cli_builds_the_cache_the_config_uses(synthetic):
    ann, kp = synthetic
    env = dict(os.environ, PYTHONPATH=str(REPO))
    out = subprocess.run([sys.executable, 'tools/data/k400_cache.py', ann, kp, '--workers', '2'], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert f'{ann}.cache: 40 videos' in out.stdout and 'packing 5 of 5 kpfile(s)' in out.stdout
    out = subprocess.run([sys.executable, 'tools/data/k400_cache.py', ann, str(Path(kp) / 'nowhere')], cwd=REPO,
                         env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 1 and out.stderr.startswith('error: ') and 'kpfile not found' in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
