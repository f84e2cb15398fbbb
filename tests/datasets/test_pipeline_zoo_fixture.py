"""The val/test pipelines of the GCN zoo's configs (ST-GCN, ST-GCN++, AAGCN, CTR-GCN, MS-G3D) against
the original's outputs (``../shared/fixtures/pipeline_ntu_3d_zoo-seed0.npz``): 3D with spine alignment
and ``UniformSample`` + ``PoseDecode``, and 2D HRNet with ``PreNormalize2D``'s score mask."""
import random

import numpy as np
import pytest
import torch

from pyskl.datasets.transforms import Compose
from shared_data import shared_path

TOLERANCE = 1e-5


def sampling(num_clips: int) -> list:
    """The steps after feature generation, shared by the 3D and 2D pipelines."""
    return [
        dict(type='UniformSample', clip_len=100, num_clips=num_clips),
        dict(type='PoseDecode'),
        dict(type='FormatGCNInput', num_person=2),
        dict(type='Collect', keys=['keypoint', 'label'], meta_keys=[]),
        dict(type='ToTensor', keys=['keypoint']),
    ]


def pipeline_3d(stream: str, num_clips: int) -> Compose:
    """val (1 clip) / test (10 clips) pipeline of the original's configs/<zoo model>/*_3dkp/<stream>.py."""
    return Compose([
        dict(type='PreNormalize3D'),
        dict(type='GenSkeFeat', dataset='nturgb+d', feats=[stream]),
    ] + sampling(num_clips))


def pipeline_2d(num_clips: int) -> Compose:
    """val / test pipeline of the original's configs/<zoo model>/*_hrnet/j.py."""
    return Compose([
        dict(type='PreNormalize2D'),
        dict(type='GenSkeFeat', dataset='coco', feats=['j']),
    ] + sampling(num_clips))


@pytest.fixture(scope='module')
def reference():
    with np.load(shared_path('fixtures', 'pipeline_ntu_3d_zoo-seed0.npz')) as data:
        return dict(data)


def sample_3d(reference, name: str) -> dict:
    keypoint = reference[f'input_{name}'].copy()
    return dict(keypoint=keypoint, total_frames=keypoint.shape[1], label=5, frame_dir=name, test_mode=True,
                start_index=0)


def sample_2d(reference) -> dict:
    keypoint = reference['input_e'].copy()
    return dict(keypoint=keypoint, keypoint_score=reference['input_e_score'].copy(),
                img_shape=tuple(int(s) for s in reference['img_shape_e']), total_frames=keypoint.shape[1],
                label=5, frame_dir='e', test_mode=True, start_index=0)


class GlobalRandomState:
    """numpy's and Python's global random states, to check that a pipeline leaves them as they were."""

    def __init__(self):
        self.numpy = np.random.get_state()
        self.python = random.getstate()

    def assert_unchanged(self):
        kind, keys, pos, has_gauss, cached = np.random.get_state()
        assert kind == self.numpy[0] and np.array_equal(keys, self.numpy[1])
        assert (pos, has_gauss, cached) == tuple(self.numpy[2:])
        assert random.getstate() == self.python


def check(out: dict, expected: np.ndarray, clips, what: str) -> float:
    assert set(out) == {'keypoint', 'label'} and out['label'] == 5
    keypoint = out['keypoint']
    assert isinstance(keypoint, torch.Tensor) and keypoint.dtype == torch.float32
    got = keypoint.numpy()[clips]
    assert got.shape == expected.shape, what
    diff = float(np.abs(got - expected).max())
    assert diff < TOLERANCE, f'{what}: max |difference| {diff:.3g}'
    return diff


# Every 3D output of the fixture: (stream, split) -> its clips; the test split keeps clips 0 and 9 of 10.
CASES_3D = [(stream, 'val') for stream in ('j', 'b', 'jm', 'bm')] + [(stream, 'test') for stream in ('j', 'bm')]


@pytest.mark.parametrize('stream,split', CASES_3D)
def test_3d_pipeline_matches_original(reference, stream, split):
    num_clips, clips, suffix = (1, [0], '') if split == 'val' else (10, [0, 9], '_clips0and9')
    pipeline = pipeline_3d(stream, num_clips)
    state = GlobalRandomState()
    for name in 'abcd':
        out = pipeline(sample_3d(reference, name))
        assert out['keypoint'].shape == (num_clips, 2, 100, 25, 3)
        check(out, reference[f'{stream}_{split}_{name}{suffix}'], clips, f'{stream} {split} input_{name}')
    state.assert_unchanged()


@pytest.mark.parametrize('split', ['val', 'test'])
def test_hrnet_pipeline_matches_original(reference, split):
    num_clips, clips, key = (1, [0], 'hrnet_j_val_e') if split == 'val' else (10, [0, 9], 'hrnet_j_test_e_clips0and9')
    state = GlobalRandomState()
    out = pipeline_2d(num_clips)(sample_2d(reference))
    assert out['keypoint'].shape == (num_clips, 2, 100, 17, 3)
    check(out, reference[key], clips, f'hrnet j {split} input_e')
    state.assert_unchanged()


def test_fixture_exercises_the_known_differences(reference):
    """The fixture can tell the fixes apart: masked joints exist in input_e, and the short
    input_b's test clips start where the zoo's sampler (not UniformSampleDecode) puts them."""
    score = reference['input_e_score']
    assert 0.05 < (score <= 0.01).mean() < 0.2
    masked = reference['hrnet_j_val_e'][0][..., 2] <= 0.01
    assert masked.any() and (reference['hrnet_j_val_e'][0][masked][:, :2] == 0).all()
    # input_b (50 frames, one person): test clip 9 starts at frame 45, i.e. clip 0's frame 45.
    test_b = reference['j_test_b_clips0and9']
    np.testing.assert_array_equal(test_b[1, 0, :5], test_b[0, 0, 45:50])
