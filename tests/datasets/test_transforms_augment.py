"""RandomRot, RandomScale, RandomGaussianNoise, RandomFlip, MirroredClips: ranges of what they draw, and no global random state."""
import numpy as np
import pytest

from pyskl.datasets.transforms import (FormatGCNInput, GenSkeFeat, MirroredClips, RandomFlip, RandomGaussianNoise,
                                      RandomRot, RandomScale)
from pyskl.datasets.transforms.augment import rotation_xyz


def points(M=2, T=4, V=25, C=3, seed=0):
    return np.random.default_rng(seed).standard_normal((M, T, V, C))


def recover_rotation(before, after):
    """The matrix R with after = R @ before for every point (least squares)."""
    A, B = before.reshape(-1, before.shape[-1]), after.reshape(-1, after.shape[-1])
    return np.linalg.lstsq(A, B, rcond=None)[0].T


def euler_xyz(R):
    """Angles (x, y, z) with R = rotation_xyz(angles), for angles within (-pi/2, pi/2)."""
    return np.array([np.arctan2(-R[2, 1], R[2, 2]), np.arcsin(R[2, 0]), np.arctan2(-R[1, 0], R[0, 0])])


def test_euler_helper_inverts_rotation_xyz():
    angles = np.array([0.3, -0.2, 0.1])
    np.testing.assert_allclose(euler_xyz(rotation_xyz(angles)), angles, atol=1e-12)


def test_random_rot_3d_angle_range_and_rigidity():
    theta = 0.3
    t = RandomRot(theta=theta, seed=0)
    kp = points()
    kp[1, 2] = 0  # an absent person-frame
    drawn = []
    for _ in range(300):
        out = t(dict(keypoint=kp.copy()))['keypoint']
        R = recover_rotation(kp, out)
        np.testing.assert_allclose(R @ R.T, np.eye(3), atol=1e-9)
        drawn.append(euler_xyz(R))
        assert (out[1, 2] == 0).all()
        # Bone lengths (any joint distances) are kept.
        np.testing.assert_allclose(np.linalg.norm(out[..., 1:, :] - out[..., :-1, :], axis=-1),
                                   np.linalg.norm(kp[..., 1:, :] - kp[..., :-1, :], axis=-1), atol=1e-9)
    drawn = np.array(drawn)
    assert (np.abs(drawn) <= theta + 1e-9).all()
    assert (drawn.max(0) > 0.9 * theta).all() and (drawn.min(0) < -0.9 * theta).all()  # the full range


def test_random_rot_chosen_axes_only():
    t = RandomRot(theta=np.pi / 3, axes=('x', 'y'), seed=1)
    kp = points(M=1)
    drawn = np.array([euler_xyz(recover_rotation(kp, t(dict(keypoint=kp.copy()))['keypoint'])) for _ in range(200)])
    np.testing.assert_allclose(drawn[:, 2], 0, atol=1e-9)
    assert np.abs(drawn[:, :2]).max() > 0.9 * np.pi / 3
    # Per-axis limits.
    t = RandomRot(theta=(0.1, 0.5), axes=('x', 'z'), seed=2)
    drawn = np.array([euler_xyz(recover_rotation(kp, t(dict(keypoint=kp.copy()))['keypoint'])) for _ in range(200)])
    assert np.abs(drawn[:, 0]).max() <= 0.1 + 1e-9 and np.abs(drawn[:, 2]).max() > 0.4
    np.testing.assert_allclose(drawn[:, 1], 0, atol=1e-9)


def test_random_rot_2d_and_dtype():
    theta = 0.5
    t = RandomRot(theta=theta, seed=3)
    kp = points(C=2).astype(np.float32)
    angles = []
    for _ in range(200):
        out = t(dict(keypoint=kp.copy()))['keypoint']
        assert out.dtype == np.float32
        R = recover_rotation(kp.astype(np.float64), out.astype(np.float64))
        angles.append(np.arctan2(R[1, 0], R[0, 0]))
    assert np.abs(angles).max() <= theta + 1e-5 and np.abs(angles).max() > 0.9 * theta


def test_seeds_and_global_state():
    state = np.random.get_state()
    kp = points()
    for cls in (RandomRot, RandomScale, RandomGaussianNoise):
        a = cls(seed=5)(dict(keypoint=kp.copy()))['keypoint']
        b = cls(seed=5)(dict(keypoint=kp.copy()))['keypoint']
        np.testing.assert_array_equal(a, b)
        t = cls(seed=5)
        assert not np.array_equal(t(dict(keypoint=kp.copy()))['keypoint'], t(dict(keypoint=kp.copy()))['keypoint'])
        assert not np.array_equal(cls()(dict(keypoint=kp.copy()))['keypoint'], a)
    after = np.random.get_state()
    assert np.array_equal(state[1], after[1]) and state[2] == after[2]


def test_random_scale_range():
    kp = np.ones((1, 2, 3, 3))
    t = RandomScale(scale=0.2, seed=0)
    factors = np.array([t(dict(keypoint=kp.copy()))['keypoint'][0, 0, 0] for _ in range(500)])
    assert (factors >= 0.8).all() and (factors <= 1.2).all()
    assert factors.min() < 0.82 and factors.max() > 1.18
    assert np.ptp(factors, axis=1).max() > 0  # each axis drawn separately
    t = RandomScale(scale=(0.1, 0.0, 0.3), seed=0)
    factors = np.array([t(dict(keypoint=kp.copy()))['keypoint'][0, 0, 0] for _ in range(300)])
    assert np.abs(factors - 1).max(0)[1] == 0 and np.abs(factors - 1).max(0)[0] <= 0.1
    t = RandomScale(scale=0.5, isotropic=True, seed=0)
    factors = np.array([t(dict(keypoint=kp.copy()))['keypoint'][0, 0, 0] for _ in range(300)])
    assert (np.ptp(factors, axis=1) == 0).all() and factors.min() < 0.6 and factors.max() > 1.4
    with pytest.raises(ValueError, match="'s'.*does not match the 3 coordinates"):
        RandomScale(scale=(0.1, 0.2))(dict(keypoint=kp, frame_dir='s'))


def test_random_gaussian_noise():
    kp = points(M=2, T=50)
    kp[1, 10:] = 0
    kp[0, 3, 4] = 0
    t = RandomGaussianNoise(sigma=0.01, seed=0)
    out = t(dict(keypoint=kp.copy()))['keypoint']
    assert (out[1, 10:] == 0).all() and (out[0, 3, 4] == 0).all()
    offsets = out - kp
    size = np.linalg.norm(kp[0].max(1) - kp[0].min(1), axis=-1)  # per frame, person 0 (joint 4 of frame 3 aside)
    lengths = np.linalg.norm(offsets[0, 5:], axis=-1) / size[5:, None]
    assert 0.005 < lengths.std() < 0.02
    shared = RandomGaussianNoise(sigma=0.01, base='video', shared=True, seed=0)
    offsets = shared(dict(keypoint=kp.copy()))['keypoint'] - kp
    np.testing.assert_allclose(offsets[0, 20], offsets[0, 30])  # the same offsets in every frame
    with pytest.raises(ValueError, match="base='video'"):
        RandomGaussianNoise(shared=True)
    assert (t(dict(keypoint=np.zeros((1, 3, 5, 3))))['keypoint'] == 0).all()


def test_bad_arguments_and_reprs():
    with pytest.raises(ValueError, match='axes'):
        RandomRot(axes=('x', 'w'))
    with pytest.raises(ValueError, match='theta'):
        RandomRot(theta=(0.1, 0.2))
    with pytest.raises(ValueError, match='seed'):
        RandomRot(seed=1.5)
    with pytest.raises(ValueError, match="'a'.*2 or 3 coordinates"):
        RandomRot()(dict(keypoint=np.ones((1, 2, 3, 4)), frame_dir='a'))
    assert repr(RandomRot(theta=0.2)) == "RandomRot(theta=0.2, axes=('x', 'y', 'z'), seed=None)"
    assert repr(RandomScale()) == 'RandomScale(scale=0.2, isotropic=False, seed=None)'
    assert repr(RandomGaussianNoise()) == "RandomGaussianNoise(sigma=0.01, base='frame', shared=False, seed=None)"


def test_random_flip_nwucla_by_hand():
    # Kinect v1: joint 8 (0-based 7) is the left hand, 12 (11) the right hand.
    kp = np.zeros((1, 2, 20, 3))
    kp[0, :, 7] = [0.3, 0.1, 0.2]  # left hand out to +x
    kp[0, :, 11] = [-0.5, 0.4, 0.0]  # right hand
    kp[0, :, 3] = [0.05, 0.0, 0.6]  # head, on no side
    kp[0, 1, 11] = 0  # right hand absent in frame 1
    out = RandomFlip(flip_ratio=1, dataset='nw-ucla')(dict(keypoint=kp.copy()))['keypoint']
    np.testing.assert_array_equal(out[0, 0, 7], [0.5, 0.4, 0.0])  # the right hand, mirrored, is the left now
    np.testing.assert_array_equal(out[0, 0, 11], [-0.3, 0.1, 0.2])
    np.testing.assert_array_equal(out[0, :, 3], [[-0.05, 0.0, 0.6]] * 2)
    assert (out[0, 1, 7] == 0).all()  # the absent right hand is the absent left hand now
    assert not np.signbit(out[out == 0]).any()  # absent joints stay plain zeros
    # Mirroring twice gives the sample back.
    twice = RandomFlip(flip_ratio=1, dataset='nw-ucla')(dict(keypoint=out.copy()))['keypoint']
    np.testing.assert_array_equal(twice, kp)


def test_random_flip_ratio_axis_and_scores():
    kp = points(M=1, T=3, V=17, C=2)
    score = np.tile(np.arange(17.0), (1, 3, 1))
    out = RandomFlip(flip_ratio=1, dataset='coco', axis='y')(dict(keypoint=kp.copy(), keypoint_score=score))
    np.testing.assert_array_equal(out['keypoint'][..., 1, 1], -kp[..., 2, 1])  # left eye <- right eye, y mirrored
    np.testing.assert_array_equal(out['keypoint'][..., 1, 0], kp[..., 2, 0])
    assert list(out['keypoint_score'][0, 0, :3]) == [0, 2, 1]
    unchanged = RandomFlip(flip_ratio=0, dataset='coco')(dict(keypoint=kp.copy()))['keypoint']
    np.testing.assert_array_equal(unchanged, kp)
    t = RandomFlip(flip_ratio=0.3, dataset='coco', seed=0)
    flipped = [not np.array_equal(t(dict(keypoint=kp.copy()))['keypoint'], kp) for _ in range(1000)]
    assert 0.25 < np.mean(flipped) < 0.35


def test_random_flip_errors_and_repr():
    with pytest.raises(ValueError, match='flip_ratio'):
        RandomFlip(flip_ratio=1.5)
    with pytest.raises(ValueError, match='axis'):
        RandomFlip(axis='w')
    with pytest.raises(ValueError, match='no mirror_pairs'):
        RandomFlip(dataset=dict(num_node=2, inward=[(1, 0)], center=0))
    with pytest.raises(ValueError, match="'s1'.*layout 'nw-ucla' \\(20 joints\\)"):
        RandomFlip(dataset='nw-ucla')(dict(keypoint=np.ones((1, 2, 25, 3)), frame_dir='s1'))
    with pytest.raises(ValueError, match='keypoint_score'):
        RandomFlip(flip_ratio=1, dataset='coco')(dict(keypoint=np.ones((1, 2, 17, 2)),
                                                      keypoint_score=np.ones((1, 2, 16))))
    assert repr(RandomFlip(dataset='nw-ucla')) == "RandomFlip(flip_ratio=0.5, dataset='nw-ucla', axis='x', seed=None)"


def test_mirrored_clips_commute_with_bones_and_motions():
    """Mirroring the features equals the features of the mirrored skeleton, for j, b, jm and bm."""
    kp = points(M=1, T=6, V=20, C=3, seed=3)
    gen_feats = GenSkeFeat(dataset='nw-ucla', feats=['j', 'b', 'jm', 'bm'])
    of_mirrored = gen_feats(RandomFlip(flip_ratio=1, dataset='nw-ucla')(dict(keypoint=kp.copy())))['keypoint']
    features = gen_feats(dict(keypoint=kp.copy()))['keypoint']
    out = MirroredClips(dataset='nw-ucla', channels=(0, 3, 6, 9))(dict(keypoint=features, num_clips=2))
    assert out['num_clips'] == 4 and out['keypoint'].shape == (1, 12, 20, 12)
    np.testing.assert_array_equal(out['keypoint'][:, :6], features)
    np.testing.assert_allclose(out['keypoint'][:, 6:], of_mirrored, atol=1e-6)
    clips = FormatGCNInput(num_person=1)(out)['keypoint']
    assert clips.shape == (4, 1, 3, 20, 12)  # two clips, then their two mirrored copies
    np.testing.assert_allclose(clips[2], of_mirrored[:, :3], atol=1e-6)


def test_mirrored_clips_scores_and_errors():
    kp, score = points(M=1, T=2, V=17, C=2), np.tile(np.arange(17.0), (1, 2, 1))
    out = MirroredClips(dataset='coco')(dict(keypoint=kp, keypoint_score=score))
    assert out['num_clips'] == 2 and list(out['keypoint_score'][0, 2, :3]) == [0, 2, 1]
    with pytest.raises(ValueError, match='channels'):
        MirroredClips(channels=())
    with pytest.raises(ValueError, match="'s2'.*channels \\(0, 3\\)"):
        MirroredClips(dataset='nw-ucla', channels=(0, 3))(dict(keypoint=np.ones((1, 2, 20, 3)), frame_dir='s2'))
    with pytest.raises(ValueError, match='no mirror_pairs'):
        MirroredClips(dataset=dict(num_node=2, inward=[(1, 0)], center=0))
    assert repr(MirroredClips(dataset='nw-ucla')) == "MirroredClips(dataset='nw-ucla', channels=(0,))"
