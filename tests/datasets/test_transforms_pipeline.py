"""The NTU 3D val/test pipelines of the DG-STGCN configs against the original's outputs
(``../shared/fixtures/pipeline_ntu_3d-seed0.npz``), and edge cases through the same pipelines."""
import numpy as np
import pytest
import torch

from pyskl.datasets.transforms import Compose


def ntu_pipeline(feat: str, num_clips: int) -> list:
    """The val (num_clips=1) / test (num_clips=10) pipeline of configs/dgstgcn/ntu60_xsub_3dkp/{feat}.py."""
    return [
        dict(type='PreNormalize3D', align_spine=False),
        dict(type='GenSkeFeat', feats=[feat]),
        dict(type='UniformSampleDecode', clip_len=100, num_clips=num_clips),
        dict(type='FormatGCNInput'),
        dict(type='Collect', keys=['keypoint', 'label'], meta_keys=[]),
        dict(type='ToTensor', keys=['keypoint']),
    ]


def run(pipeline, keypoint: np.ndarray) -> dict:
    return pipeline(dict(keypoint=keypoint.copy(), total_frames=keypoint.shape[1], label=5, test_mode=True,
                         start_index=0))


@pytest.fixture
def reference(fixtures_dir):
    with np.load(fixtures_dir / 'pipeline_ntu_3d-seed0.npz') as data:
        return dict(data)


def global_state_fingerprint():
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    return kind, keys.copy(), pos, has_gauss, cached


def assert_same_state(before, after):
    assert before[0] == after[0] and np.array_equal(before[1], after[1]) and before[2:] == after[2:]


@pytest.mark.parametrize('feat', ['j', 'b', 'jm', 'bm'])
def test_val_pipeline_matches_original(reference, feat):
    pipeline = Compose(ntu_pipeline(feat, num_clips=1))
    before = global_state_fingerprint()
    for x in 'abcd':
        out = run(pipeline, reference[f'input_{x}'])
        assert set(out) == {'keypoint', 'label'}
        assert out['label'] == 5
        assert out['keypoint'].dtype == torch.float32
        assert out['keypoint'].shape == (1, 2, 100, 25, 3)
        np.testing.assert_allclose(out['keypoint'].numpy(), reference[f'{feat}_val_{x}'], atol=1e-5, rtol=0,
                                   err_msg=f'{feat} val pipeline on input_{x}')
    assert_same_state(before, global_state_fingerprint())


@pytest.mark.parametrize('feat', ['j', 'bm'])
def test_test_pipeline_matches_original(reference, feat):
    pipeline = Compose(ntu_pipeline(feat, num_clips=10))
    before = global_state_fingerprint()
    for x in 'abcd':
        out = run(pipeline, reference[f'input_{x}'])
        assert out['keypoint'].shape == (10, 2, 100, 25, 3)
        np.testing.assert_allclose(out['keypoint'][[0, 9]].numpy(), reference[f'{feat}_test_{x}_clips0and9'],
                                   atol=1e-5, rtol=0, err_msg=f'{feat} test pipeline on input_{x}')
        # Deterministic per sample: the same input gives the same clips again.
        again = run(pipeline, reference[f'input_{x}'])
        assert torch.equal(out['keypoint'], again['keypoint'])
    assert_same_state(before, global_state_fingerprint())


def test_global_state_untouched_even_after_seeding_it():
    # A pipeline that used np.random.seed(255) would make these two draws equal.
    pipeline = Compose(ntu_pipeline('j', num_clips=2))
    rng = np.random.default_rng(0)
    np.random.seed(123)
    expected = np.random.RandomState(123).rand(3)
    run(pipeline, rng.standard_normal((1, 150, 25, 3)).astype(np.float32))
    np.testing.assert_array_equal(np.random.rand(3), expected)


@pytest.mark.parametrize('feat', ['j', 'b', 'jm', 'bm'])
def test_one_frame_sequence(feat):
    keypoint = np.random.default_rng(1).standard_normal((1, 1, 25, 3)).astype(np.float32)
    out = run(Compose(ntu_pipeline(feat, num_clips=1)), keypoint)
    kp = out['keypoint'].numpy()
    assert kp.shape == (1, 2, 100, 25, 3) and np.isfinite(kp).all()
    assert (kp[:, 1] == 0).all()  # the padded second person
    # Every sampled frame is the one frame, centred on joint 1.
    assert (kp[0, 0] == kp[0, 0, :1]).all()
    if feat == 'j':
        np.testing.assert_allclose(kp[0, 0, 0], keypoint[0, 0] - keypoint[0, 0, 1], atol=1e-6)
    if feat in ('jm', 'bm'):
        assert (kp == 0).all()  # a single frame does not move


@pytest.mark.parametrize('feat', ['j', 'b', 'jm', 'bm'])
@pytest.mark.parametrize('num_person', [1, 2])
def test_all_zero_sequence(feat, num_person):
    keypoint = np.zeros((num_person, 30, 25, 3), dtype=np.float32)
    for num_clips in (1, 10):
        out = run(Compose(ntu_pipeline(feat, num_clips)), keypoint)
        assert out['keypoint'].shape == (num_clips, 2, 100, 25, 3)
        assert (out['keypoint'] == 0).all()


def test_float16_annotation_runs_and_gives_float32():
    keypoint = np.random.default_rng(2).standard_normal((2, 120, 25, 3)).astype(np.float16)
    out = run(Compose(ntu_pipeline('bm', num_clips=1)), keypoint)
    assert out['keypoint'].dtype == torch.float32 and torch.isfinite(out['keypoint']).all()


def test_training_pipeline_runs_with_augmentation():
    pipeline = Compose([
        dict(type='PreNormalize3D', align_spine=False),
        dict(type='RandomRot', theta=0.2, seed=0),
        dict(type='RandomScale', scale=0.1, seed=1),
        dict(type='GenSkeFeat', feats=['j', 'b']),
        dict(type='UniformSampleDecode', clip_len=100, seed_train=2),
        dict(type='FormatGCNInput'),
        dict(type='PackSkeletonInputs'),
    ])
    before = global_state_fingerprint()
    keypoint = np.random.default_rng(3).standard_normal((2, 130, 25, 3)).astype(np.float32)
    first = pipeline(dict(keypoint=keypoint.copy(), total_frames=130, label=3))
    second = pipeline(dict(keypoint=keypoint.copy(), total_frames=130, label=3))
    assert first['keypoint'].shape == (1, 2, 100, 25, 6) and first['label'] == 3
    assert not torch.equal(first['keypoint'], second['keypoint'])  # fresh draws for each sample
    assert_same_state(before, global_state_fingerprint())
