"""mmaction2 1.x's pose-transform behaviours: its argument names where they mean the same, one-line
refusals where they do not, and an mmaction2-style pipeline through pyskl's transforms."""
import math

import numpy as np
import pytest

from pyskl.datasets.transforms import (Compose, DecompressPose, JointToBone, PreNormalize3D, ToMotion,
                                       UniformSampleDecode, UniformSampleFrames)


# --- DecompressPose: anno_inds as a mask (PYSKL) or as box indices (mmaction2) ---------------------

def boxes(**extra):
    """6 boxes in frames 0, 0, 0, 2, 2, 4; box b has x = 10 b and joint score scores[b]."""
    keypoint = np.zeros((6, 2, 3), np.float32)
    keypoint[..., 0] = 10 * np.arange(6)[:, None]
    keypoint[..., 2] = np.array([0.2, 0.9, 0.5, 0.15, 0.35, 0.3])[:, None]
    return dict(frame_dir='vid', keypoint=keypoint, frame_inds=np.array([0, 0, 0, 2, 2, 4]), total_frames=5, **extra)


@pytest.mark.parametrize('indices', [[0, 2, 3, 5], [5, 3, 2, 0], np.array([0, 2, 3, 5], np.int16)])
def test_anno_inds_as_indices_equal_the_mask(indices):
    mask = np.array([1, 0, 1, 1, 0, 1], bool)
    by_mask = DecompressPose()(boxes(anno_inds=mask))
    by_index = DecompressPose()(boxes(anno_inds=np.asarray(indices)))
    np.testing.assert_array_equal(by_index['keypoint'], by_mask['keypoint'])
    np.testing.assert_array_equal(by_index['keypoint_score'], by_mask['keypoint_score'])
    assert by_index['keypoint'][..., 0, 0].tolist() == [[20, 30, 50], [0, 0, 0]]  # box 1 (frame 0) is dropped


def test_anno_inds_empty_keeps_no_box():
    out = DecompressPose()(boxes(anno_inds=np.array([], np.int64)))
    assert out['keypoint'].shape == (1, 1, 2, 2) and not out['keypoint'].any()


@pytest.mark.parametrize('anno_inds, message', [
    (np.array([0, 6]), r'box indices \[0, 6\] lie outside \[0, 6\)'),
    (np.array([-1, 2]), 'lie outside'),
    (np.array([2, 2]), 'a box index is given twice'),
    (np.array([1, 0, 1, 1, 0, 1]), r'given twice \(a 0/1 mask as long as the boxes\? give it as bools\)'),
    (np.array([0.0, 2.0]), 'a bool mask of the 6 boxes or a vector of box indices, got float64'),
    (np.ones((2, 2), np.int64), 'got int64 of shape'),
    (np.ones(4, bool), 'a mask of shape .4,. does not match 6 boxes'),
])
def test_bad_anno_inds_is_one_line(anno_inds, message):
    with pytest.raises(ValueError, match=message) as info:
        DecompressPose()(boxes(anno_inds=anno_inds))
    assert "DecompressPose: sample 'vid' field 'anno_inds'" in str(info.value) and '\n' not in str(info.value)


# --- PreNormalize3D(align_shoulder=...) --------------------------------------------------------------

def euler_rodrigues(axis, theta):
    """The rotation matrix by Euler-Rodrigues parameters, as 2s-AGCN / mmaction2 write it (p -> R p)."""
    axis = np.asarray(axis, np.float64)
    if np.abs(axis).sum() < 1e-6 or abs(theta) < 1e-6:
        return np.eye(3)
    axis = axis / np.linalg.norm(axis)
    a = math.cos(theta / 2)
    b, c, d = -axis * math.sin(theta / 2)
    return np.array([[a * a + b * b - c * c - d * d, 2 * (b * c + a * d), 2 * (b * d - a * c)],
                     [2 * (b * c - a * d), a * a + c * c - b * b - d * d, 2 * (c * d + a * b)],
                     [2 * (b * d + a * c), 2 * (c * d - a * b), a * a + d * d - b * b - c * c]])


def angle(u, v):
    return math.acos(np.clip(np.dot(u, v) / np.linalg.norm(u) / np.linalg.norm(v), -1, 1))


def mmaction2_prenormalize(kp, align_spine, align_shoulder):
    """mmaction2's order of steps on one person present in every frame: centre on joint 1, then the
    spine (0 -> 1) onto z, then the shoulders (8 -> 4) onto x."""
    kp = kp.astype(np.float64) - kp[0, 0, 1]
    if align_spine:
        v = kp[0, 0, 1] - kp[0, 0, 0]
        kp = kp @ euler_rodrigues(np.cross(v, [0, 0, 1]), angle(v, [0, 0, 1])).T
    if align_shoulder:
        v = kp[0, 0, 8] - kp[0, 0, 4]
        kp = kp @ euler_rodrigues(np.cross(v, [1, 0, 0]), angle(v, [1, 0, 0])).T
    return kp


@pytest.mark.parametrize('align_spine, align_shoulder', [(True, True), (True, False), (False, True), (False, False)])
def test_align_shoulder_as_mmaction2(align_spine, align_shoulder):
    kp = np.random.default_rng(3).standard_normal((1, 6, 25, 3)).astype(np.float32) + 1
    out = PreNormalize3D(align_spine=align_spine, align_shoulder=align_shoulder)(dict(keypoint=kp.copy()))
    np.testing.assert_allclose(out['keypoint'], mmaction2_prenormalize(kp, align_spine, align_shoulder), atol=1e-5)
    first = out['keypoint'][0, 0]
    spine, shoulders = first[1] - first[0], first[8] - first[4]
    if align_spine and not align_shoulder:
        assert angle(spine, [0, 0, 1]) < 1e-4 and angle(shoulders, [1, 0, 0]) > 0.1
    if align_shoulder:
        assert angle(shoulders, [1, 0, 0]) < 1e-4
    if not (align_spine or align_shoulder):
        np.testing.assert_allclose(out['keypoint'], kp - kp[0, 0, 1], atol=1e-6)


def test_align_shoulder_none_keeps_the_original_rule():
    kp = np.random.default_rng(4).standard_normal((2, 5, 25, 3)).astype(np.float32) + 1
    for spine in (True, False):
        default = PreNormalize3D(align_spine=spine)(dict(keypoint=kp.copy()))['keypoint']
        explicit = PreNormalize3D(align_spine=spine, align_shoulder=spine)(dict(keypoint=kp.copy()))['keypoint']
        np.testing.assert_array_equal(default, explicit)
    assert 'align_shoulder' not in repr(PreNormalize3D())
    assert 'align_shoulder=False' in repr(PreNormalize3D(align_shoulder=False))
    with pytest.raises(ValueError, match='align_shoulder must be None, True or False'):
        PreNormalize3D(align_shoulder='yes')


# --- UniformSampleFrames(test_mode=...) --------------------------------------------------------------

@pytest.mark.parametrize('cls', [UniformSampleFrames, UniformSampleDecode])
def test_test_mode_argument_overrides_the_sample(cls):
    def sample(test_mode):
        return dict(keypoint=np.random.default_rng(0).random((1, 57, 3, 3)).astype(np.float32), total_frames=57,
                    test_mode=test_mode)

    reference = cls(clip_len=10, num_clips=2)(sample(True))['frame_inds']
    forced = cls(clip_len=10, num_clips=2, test_mode=True)(sample(False))['frame_inds']
    np.testing.assert_array_equal(forced, reference)  # the seeded test draws, whatever the sample says
    train = cls(clip_len=10, num_clips=2, test_mode=False, seed_train=1)
    draws = [train(sample(True))['frame_inds'] for _ in range(3)]
    assert any(not np.array_equal(draws[0], d) for d in draws[1:])  # training draws, though the sample is a test one
    assert 'test_mode=True' in repr(cls(clip_len=10, test_mode=True)) and 'test_mode' not in repr(cls(clip_len=10))
    with pytest.raises(ValueError, match='test_mode must be None, True or False'):
        cls(clip_len=10, test_mode='val')


# --- JointToBone / ToMotion channel counts ------------------------------------------------------------

@pytest.mark.parametrize('transform, key', [(JointToBone(), 'keypoint'), (ToMotion(), 'keypoint')])
@pytest.mark.parametrize('channels', [1, 4, 6])
def test_channel_counts_that_cannot_be_right_are_refused(transform, key, channels):
    results = dict(frame_dir='s1', keypoint=np.zeros((1, 4, 25, channels), np.float32))
    with pytest.raises(ValueError, match=f"{type(transform).__name__}: sample 's1': field '{key}' has {channels} "
                                         r'channels \(shape .*\); expected 2 \(x, y\) or 3') as info:
        transform(results)
    assert '\n' not in str(info.value) and 'GenSkeFeat' in str(info.value)


def test_two_and_three_channels_pass_and_a_score_needs_three():
    for channels in (2, 3):
        kp = np.random.default_rng(0).random((1, 4, 18, channels)).astype(np.float32)
        assert JointToBone('openpose')(dict(keypoint=kp))['keypoint'].shape == kp.shape
        assert ToMotion('openpose')(dict(keypoint=kp))['motion'].shape == kp.shape
    with pytest.raises(ValueError, match=r'expected 3 \(x, y, score\)'):
        JointToBone('openpose', has_score=True)(dict(keypoint=np.zeros((1, 4, 18, 2), np.float32)))


# --- an mmaction2 1.x skeleton pipeline ---------------------------------------------------------------

def test_an_mmaction2_val_pipeline_runs():
    """mmaction2's STGCN++ NTU60 2D val pipeline, with its last step renamed as the docs say."""
    pipeline = [
        dict(type='PreNormalize2D'),
        dict(type='GenSkeFeat', dataset='coco', feats=['j']),
        dict(type='UniformSampleFrames', clip_len=100, num_clips=1, test_mode=True),
        dict(type='PoseDecode'),
        dict(type='FormatGCNInput', num_person=2),
        dict(type='PackSkeletonInputs'),
    ]
    rng = np.random.default_rng(0)
    sample = dict(frame_dir='S001C001P001R001A001', label=3, total_frames=80, img_shape=(1080, 1920),
                  keypoint=rng.uniform(0, 1000, (2, 80, 17, 2)).astype(np.float16),
                  keypoint_score=rng.uniform(0, 1, (2, 80, 17)).astype(np.float16))
    out = Compose(pipeline)(sample)
    assert tuple(out['keypoint'].shape) == (1, 2, 100, 17, 3) and out['label'] == 3
    with pytest.raises(KeyError, match="'PackActionInputs' is not a registered type .* Did you mean "
                                       "'PackSkeletonInputs'"):
        Compose(pipeline[:-1] + [dict(type='PackActionInputs')])


def test_the_mmaction2_config_of_the_docs_trains_and_validates(tmp_path):
    """docs/mmaction2.md's example (an mmaction2 1.x config with the four changes) runs through
    tools/train.py --validate for one epoch on a small file in its annotation format."""
    import re
    import subprocess
    import sys
    from pathlib import Path

    from pyskl.utils import dump_pickle

    repo = Path(__file__).resolve().parents[2]
    text = (repo / 'docs' / 'mmaction2.md').read_text(encoding='utf-8')
    (tmp_path / 'config.py').write_text(re.search(r'```python\n(.*?)```', text, re.S).group(1))
    rng = np.random.default_rng(0)
    annotations = [dict(frame_dir=f's{i}', label=i % 3, total_frames=30, img_shape=(1080, 1920),
                        keypoint=rng.uniform(0, 1000, (2, 30, 17, 2)).astype(np.float16),
                        keypoint_score=rng.uniform(0, 1, (2, 30, 17)).astype(np.float16)) for i in range(4)]
    (tmp_path / 'data' / 'skeleton').mkdir(parents=True)
    dump_pickle(dict(split=dict(xsub_train=['s0', 's1'], xsub_val=['s2', 's3']), annotations=annotations),
                tmp_path / 'data' / 'skeleton' / 'ntu60_2d.pkl')
    options = ['train_cfg.max_epochs=1', 'train_dataloader.dataset.times=1']
    for loader in ('train_dataloader', 'val_dataloader'):
        options += [f'{loader}.batch_size=2', f'{loader}.num_workers=0', f'{loader}.persistent_workers=False']
    result = subprocess.run([sys.executable, str(repo / 'tools' / 'train.py'), 'config.py', '--validate',
                             '--work-dir', 'work', '--cfg-options', *options], cwd=tmp_path, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert re.search(r'Epoch\(val\) \[1\]\[1/1\]\s+top1_acc: [\d.]+\s+top5_acc: [\d.]+\s+mean_class_accuracy',
                     result.stdout + result.stderr)
