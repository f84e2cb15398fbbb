"""FormatGCNInput, Collect, ToTensor, PackSkeletonInputs, Compose and the registry."""
import numpy as np
import pytest
import torch
from mmcv.transforms import BaseTransform
from mmengine.dataset import default_collate

from pyskl.datasets.transforms import (Collect, Compose, FormatGCNInput, PackSkeletonInputs, ToTensor,
                                       UniformSampleDecode)
from pyskl.registry import TRANSFORMS

ALL_NAMES = ['PreNormalize3D', 'PreNormalize2D', 'RandomRot', 'RandomScale', 'RandomGaussianNoise', 'JointToBone',
             'ToMotion', 'MergeSkeFeat', 'GenSkeFeat', 'UniformSampleFrames', 'UniformSample', 'PoseDecode',
             'UniformSampleDecode', 'PadTo', 'FormatGCNInput', 'Collect', 'ToTensor', 'PackSkeletonInputs',
             'Rename', 'Compose']


def frames(M, T, V=3, C=2):
    # value = frame index, to follow frames through reshapes
    return np.broadcast_to(np.arange(T, dtype=np.float32)[None, :, None, None], (M, T, V, C)).copy() + 1


def test_format_pads_persons_with_zeros():
    out = FormatGCNInput()(dict(keypoint=frames(1, 6)))['keypoint']
    assert out.shape == (1, 2, 6, 3, 2) and out.flags['C_CONTIGUOUS']
    assert (out[0, 1] == 0).all() and (out[0, 0] == frames(1, 6)[0]).all()


def test_format_loop_repeats_the_single_person():
    out = FormatGCNInput(num_person=3, mode='loop')(dict(keypoint=frames(1, 4)))['keypoint']
    assert out.shape == (1, 3, 4, 3, 2)
    assert (out[0, 1] == out[0, 0]).all() and (out[0, 2] == out[0, 0]).all()


def test_format_keeps_first_persons():
    kp = frames(4, 4) * np.arange(1, 5)[:, None, None, None]
    out = FormatGCNInput(num_person=2)(dict(keypoint=kp))['keypoint']
    np.testing.assert_array_equal(out[0], kp[:2])


def test_format_splits_clips_and_appends_score():
    kp = frames(2, 12)
    score = np.full((2, 12, 3), 0.7, np.float32)
    out = FormatGCNInput()(dict(keypoint=kp, keypoint_score=score, num_clips=3))
    assert 'keypoint_score' not in out
    kp_out = out['keypoint']  # M x (nc * T) x V x C -> nc x M x T x V x C
    assert kp_out.shape == (3, 2, 4, 3, 3)
    for clip in range(3):
        np.testing.assert_array_equal(kp_out[clip, :, :, 0, 0], np.arange(4 * clip, 4 * clip + 4)[None] + 1 +
                                      np.zeros((2, 1)))
    assert (kp_out[..., 2] == np.float32(0.7)).all()
    with pytest.raises(ValueError, match="'v1'.*10 frames.*num_clips=3"):
        FormatGCNInput()(dict(keypoint=frames(2, 10), num_clips=3, frame_dir='v1'))
    with pytest.raises(ValueError, match='mode'):
        FormatGCNInput(mode='repeat')


def test_collect_and_to_tensor():
    results = dict(keypoint=np.ones((1, 2, 4, 3, 3), np.float64), label=4, frame_dir='a', total_frames=4)
    out = Collect(keys=['keypoint', 'label'], meta_keys=[])(dict(results))
    assert set(out) == {'keypoint', 'label'}
    out = ToTensor(keys=['keypoint'])(out)
    assert out['keypoint'].dtype == torch.float32 and out['label'] == 4 and isinstance(out['label'], int)
    out = Collect(keys=['keypoint'], meta_keys=['frame_dir', 'missing'], meta_name='meta')(dict(results))
    assert out['meta'] == {'frame_dir': 'a'}
    assert Collect(keys='label', meta_keys=[], nested=True)(dict(results)) == {'label': [4]}
    with pytest.raises(KeyError, match=r"'a' has no field\(s\) \['score'\]"):
        Collect(keys=['score'])(dict(results))
    label = ToTensor(keys=['label'])(dict(label=3))['label']
    assert label.dtype == torch.long and label.shape == ()
    with pytest.raises(KeyError, match="no field 'x'"):
        ToTensor(keys=['x'])(dict(results))


def test_pack_equals_collect_to_tensor_and_batches():
    kp = np.random.default_rng(0).standard_normal((10, 2, 4, 25, 3)).astype(np.float32)
    legacy = Compose([dict(type='Collect', keys=['keypoint', 'label'], meta_keys=[]),
                      dict(type='ToTensor', keys=['keypoint'])])
    a = legacy(dict(keypoint=kp, label=7, frame_dir='s'))
    b = PackSkeletonInputs()(dict(keypoint=kp, label=np.int64(7), frame_dir='s'))
    assert set(a) == set(b) == {'keypoint', 'label'} and a['label'] == b['label'] == 7
    assert type(b['label']) is int and torch.equal(a['keypoint'], b['keypoint'])
    batch = default_collate([a, b])
    assert batch['keypoint'].shape == (2, 10, 2, 4, 25, 3) and batch['label'].tolist() == [7, 7]
    assert set(PackSkeletonInputs()(dict(keypoint=kp))) == {'keypoint'}  # inference: no label
    assert PackSkeletonInputs(meta_keys=['frame_dir'])(dict(keypoint=kp, label=1, frame_dir='s'))['meta'] == {
        'frame_dir': 's'}
    with pytest.raises(TypeError, match="'s'.*label"):
        PackSkeletonInputs()(dict(keypoint=kp, label='walk', frame_dir='s'))


def test_all_names_registered_as_transforms():
    for name in ALL_NAMES:
        cls = TRANSFORMS.get(name)
        assert issubclass(cls, BaseTransform), name
        assert cls.__doc__ and cls.__repr__ is not object.__repr__, name
    assert TRANSFORMS.get('UniformSample') is not TRANSFORMS.get('UniformSampleFrames')  # a subclass alias
    with pytest.raises(KeyError, match="Did you mean 'GenSkeFeat'"):
        Compose([dict(type='GenSkeFeats')])


def test_compose():
    class Drop:
        def __call__(self, results):
            return None

    pipe = Compose([dict(type='UniformSampleDecode', clip_len=4), lambda r: {**r, 'seen': True}])
    assert isinstance(pipe[0], UniformSampleDecode) and len(pipe) == 2
    out = pipe(dict(keypoint=np.ones((1, 6, 2, 3), np.float32), total_frames=6, test_mode=True))
    assert out['seen'] and out['keypoint'].shape == (1, 4, 2, 3)
    assert Compose([Drop(), dict(type='PoseDecode')])(dict(keypoint=np.ones((1, 1, 1, 1)))) is None
    assert repr(Compose([dict(type='PoseDecode')])) == 'Compose([\n    PoseDecode(),\n])'
    nested = TRANSFORMS.build(dict(type='Compose', transforms=[dict(type='PoseDecode')]))
    assert isinstance(nested[0], TRANSFORMS.get('PoseDecode'))
    with pytest.raises(TypeError, match='list of config dicts'):
        Compose(dict(type='PoseDecode'))
    with pytest.raises(TypeError, match='transform 1'):
        Compose([dict(type='PoseDecode'), 3])
    with pytest.raises(KeyError, match='no "type"'):
        Compose([dict(clip_len=3)])


def test_compose_via_datasets_package():
    pytest.importorskip('pyskl.datasets.pose_dataset')
    from pyskl.datasets import Compose as Exported
    assert Exported is Compose
