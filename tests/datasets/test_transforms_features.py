"""JointToBone, ToMotion, MergeSkeFeat, Rename, GenSkeFeat."""
import numpy as np
import pytest

from pyskl.datasets.transforms import GenSkeFeat, JointToBone, MergeSkeFeat, Rename, ToMotion


def joints(M=2, T=5, V=25, C=3, seed=0):
    return np.random.default_rng(seed).standard_normal((M, T, V, C)).astype(np.float32)


def test_ntu_bones():
    kp = joints()
    bone = JointToBone()(dict(keypoint=kp.copy()))['keypoint']
    assert bone.dtype == np.float32 and bone.shape == kp.shape
    # 1-based (1, 2), (2, 21), (21 = root), (24, 25), (25, 12)
    np.testing.assert_allclose(bone[..., 0, :], kp[..., 0, :] - kp[..., 1, :])
    np.testing.assert_allclose(bone[..., 1, :], kp[..., 1, :] - kp[..., 20, :])
    assert (bone[..., 20, :] == 0).all()
    np.testing.assert_allclose(bone[..., 23, :], kp[..., 23, :] - kp[..., 24, :])
    np.testing.assert_allclose(bone[..., 24, :], kp[..., 24, :] - kp[..., 11, :])


def test_nw_ucla_bones():
    kp = joints(M=1, V=20)
    bone = JointToBone(dataset='nw-ucla', target='b')(dict(keypoint=kp))['b']
    np.testing.assert_allclose(bone[..., 0, :], kp[..., 0, :] - kp[..., 1, :])  # hip centre -> spine
    assert (bone[..., 2, :] == 0).all()  # joint 3 (shoulder centre) is the root
    np.testing.assert_allclose(bone[..., 12, :], kp[..., 12, :] - kp[..., 0, :])  # (13, 1)
    np.testing.assert_allclose(bone[..., 19, :], kp[..., 19, :] - kp[..., 18, :])  # (20, 19)


def test_custom_layout_bones():
    layout = dict(num_node=4, inward=[(1, 0), (2, 1), (3, 1)], center=0)
    kp = joints(M=1, T=2, V=4)
    out = JointToBone(dataset=layout)(dict(keypoint=kp))['keypoint']
    expected = np.stack([np.zeros_like(kp[..., 0, :]), kp[..., 1, :] - kp[..., 0, :],
                         kp[..., 2, :] - kp[..., 1, :], kp[..., 3, :] - kp[..., 1, :]], axis=-2)
    np.testing.assert_allclose(out, expected)
    assert "dataset={'num_node': 4" in repr(JointToBone(dataset=layout))


def test_bones_of_2d_layouts_average_the_score():
    kp = joints(M=1, V=17)
    kp[..., 2] = np.abs(kp[..., 2])
    bone = JointToBone(dataset='coco')(dict(keypoint=kp))['keypoint']
    np.testing.assert_allclose(bone[..., 7, :2], kp[..., 7, :2] - kp[..., 5, :2])  # left elbow - shoulder
    np.testing.assert_allclose(bone[..., 7, 2], (kp[..., 7, 2] + kp[..., 5, 2]) / 2)
    np.testing.assert_allclose(bone[..., 0, 2], kp[..., 0, 2])  # the root: its own score
    bone = JointToBone(dataset='coco')(dict(keypoint=kp[..., :2]))['keypoint']  # x, y only
    np.testing.assert_allclose(bone[..., 7, :], kp[..., 7, :2] - kp[..., 5, :2])


def test_joint_count_must_match_layout():
    with pytest.raises(ValueError, match=r"'S9'.*20 joints but layout 'nturgb\+d' has 25"):
        JointToBone()(dict(keypoint=joints(V=20), frame_dir='S9'))
    with pytest.raises(ValueError, match="18 joints but layout 'coco' has 17"):
        GenSkeFeat(dataset='coco', feats=['b'])(dict(keypoint=joints(V=18, C=2),
                                                     keypoint_score=np.ones((2, 5, 18))))
    with pytest.raises(ValueError, match='unknown graph layout'):
        JointToBone(dataset='kinetics')


def test_motion():
    kp = joints(T=6)
    out = ToMotion()(dict(keypoint=kp.copy()))
    motion = out['motion']
    assert 'keypoint' in out and motion.dtype == kp.dtype
    np.testing.assert_allclose(motion[:, :5], kp[:, 1:] - kp[:, :5])
    assert (motion[:, 5] == 0).all()  # the last frame does not move
    kp2d = joints(V=17, T=6)
    motion = ToMotion(dataset='coco', source='keypoint', target='m')(dict(keypoint=kp2d))['m']
    np.testing.assert_allclose(motion[:, :5, :, 2], (kp2d[:, :5, :, 2] + kp2d[:, 1:, :, 2]) / 2)
    np.testing.assert_allclose(motion[:, :5, :, :2], kp2d[:, 1:, :, :2] - kp2d[:, :5, :, :2])
    assert (motion[:, 5] == 0).all()
    with pytest.raises(KeyError, match="no field 'b'"):
        ToMotion(source='b')(dict(keypoint=kp))


def test_merge_and_rename():
    a, b = np.zeros((1, 2, 3, 2)), np.ones((1, 2, 3, 1))
    out = MergeSkeFeat(feat_list=['b', 'a'], target='x')(dict(a=a, b=b, label=1))
    assert set(out) == {'x', 'label'} and out['x'].shape == (1, 2, 3, 3)
    assert (out['x'][..., 0] == 1).all() and (out['x'][..., 1:] == 0).all()
    with pytest.raises(KeyError, match=r"\['c'\]"):
        MergeSkeFeat(feat_list=['a', 'c'])(dict(a=a))
    with pytest.raises(ValueError, match='cannot concatenate'):
        MergeSkeFeat(feat_list=['a', 'b'], axis=0)(dict(a=a, b=b))
    out = Rename({'keypoint': 'j', 'missing': 'y'})(dict(keypoint=a))
    assert set(out) == {'j'}


def test_gen_ske_feat_streams():
    kp = joints()
    streams = {f: GenSkeFeat(feats=[f])(dict(keypoint=kp.copy()))['keypoint'] for f in ('j', 'b', 'jm', 'bm')}
    bone = JointToBone()(dict(keypoint=kp.copy()))['keypoint']
    np.testing.assert_array_equal(streams['j'], kp)
    np.testing.assert_array_equal(streams['b'], bone)
    np.testing.assert_array_equal(streams['jm'], ToMotion()(dict(keypoint=kp.copy()))['motion'])
    np.testing.assert_array_equal(streams['bm'], ToMotion()(dict(keypoint=bone))['motion'])
    out = GenSkeFeat(feats=['bm', 'j', 'b', 'jm'])(dict(keypoint=kp.copy(), label=2))
    assert set(out) == {'keypoint', 'label'}
    np.testing.assert_array_equal(out['keypoint'],
                                  np.concatenate([streams[f] for f in ('bm', 'j', 'b', 'jm')], axis=-1))


def test_gen_ske_feat_2d_with_score():
    kp = joints(V=17, C=2)
    score = np.random.default_rng(1).random((2, 5, 17)).astype(np.float32)
    out = GenSkeFeat(dataset='coco', feats=['j', 'b'])(dict(keypoint=kp.copy(), keypoint_score=score))
    assert 'keypoint_score' not in out and out['keypoint'].shape == (2, 5, 17, 6)
    np.testing.assert_array_equal(out['keypoint'][..., 2], score)
    np.testing.assert_allclose(out['keypoint'][..., 7, 5], (score[..., 7] + score[..., 5]) / 2)
    # A custom 2D layout: the score channel is known from keypoint_score.
    layout = dict(num_node=17, inward=[(c, p) for c, p in [(1, 0), (2, 1)]], center=0)
    out = GenSkeFeat(dataset=layout, feats=['jm'])(dict(keypoint=kp.copy(), keypoint_score=score))
    np.testing.assert_allclose(out['keypoint'][:, :4, :, 2], (score[:, :4] + score[:, 1:]) / 2)


def test_gen_ske_feat_errors():
    with pytest.raises(ValueError, match=r"unknown feats \['jb'\]; valid ones are \['j', 'b', 'jm', 'bm'\]"):
        GenSkeFeat(feats=['j', 'jb'])
    with pytest.raises(ValueError, match='empty'):
        GenSkeFeat(feats=[])
    with pytest.raises(ValueError, match='repeats'):
        GenSkeFeat(feats=['j', 'j'])
    with pytest.raises(ValueError, match=r"'x1' has keypoint_score.*'nturgb\+d'"):
        GenSkeFeat()(dict(keypoint=joints(C=2), keypoint_score=np.ones((2, 5, 25)), frame_dir='x1'))
    assert repr(GenSkeFeat(feats=['b'])) == "GenSkeFeat(dataset='nturgb+d', feats=['b'], axis=-1)"
    assert repr(ToMotion()) == ("ToMotion(dataset='nturgb+d', source='keypoint', target='motion', "
                                'has_score=None)')
