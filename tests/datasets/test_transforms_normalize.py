"""PreNormalize3D and PreNormalize2D."""
import numpy as np
import pytest

from pyskl.datasets.transforms import PreNormalize2D, PreNormalize3D
from pyskl.datasets.transforms.normalize import align_to, axis_angle_matrix


def skeletons(M, T, V=25, seed=0):
    return np.random.default_rng(seed).standard_normal((M, T, V, 3)).astype(np.float32) + 2


def test_keeps_person0_frames_and_centres():
    kp = skeletons(2, 10)
    kp[0, :3] = 0  # person 0 absent in frames 0-2
    kp[1, 5:] = 0  # person 1 has fewer valid frames
    kp[0, 4, 7] = 0  # one absent joint
    out = PreNormalize3D(align_spine=False)(dict(keypoint=kp.copy(), total_frames=10))
    assert out['total_frames'] == 7 and out['keypoint'].shape == (2, 7, 25, 3)
    center = kp[0, 3, 1]
    np.testing.assert_allclose(out['body_center'], center)
    expected = (kp[:, 3:] - center) * (kp[:, 3:] != 0).any(-1, keepdims=True)
    np.testing.assert_allclose(out['keypoint'], expected, atol=1e-6)
    assert (out['keypoint'][0, 1, 7] == 0).all()  # the absent joint stays zero
    assert (out['keypoint'][1, 2:] == 0).all()  # person 1's empty frames stay zero
    assert out['keypoint'].dtype == np.float32


def test_swaps_when_person1_has_more_frames():
    kp = skeletons(2, 10)
    kp[0, :2] = 0
    kp[0, 8:] = 0
    kp[1, 0] = 0
    out = PreNormalize3D(align_spine=False, align_center=False)(dict(keypoint=kp.copy(), total_frames=10))
    np.testing.assert_array_equal(out['keypoint'], kp[[1, 0]][:, 1:])
    assert out['total_frames'] == 9
    # A tie keeps person 0 first.
    kp[1, 8:] = 0  # person 1: frames 1-7; person 0: frames 2-7, and now 1
    kp[0, 1] = 1
    out = PreNormalize3D(align_spine=False, align_center=False)(dict(keypoint=kp.copy(), total_frames=10))
    assert out['total_frames'] == 7 and np.array_equal(out['keypoint'][0], kp[0, 1:8])


def test_more_than_two_persons_main_person_first():
    kp = skeletons(3, 6)
    kp[0, :3] = 0
    kp[1, :2] = 0
    out = PreNormalize3D(align_spine=False, align_center=False)(dict(keypoint=kp.copy(), total_frames=6))
    np.testing.assert_array_equal(out['keypoint'], kp[[2, 0, 1]])


def test_center_joint_choice():
    kp = skeletons(1, 4, V=20)
    out = PreNormalize3D(align_spine=False)(dict(keypoint=kp.copy(), total_frames=4))
    np.testing.assert_allclose(out['body_center'], kp[0, 0, -1])  # original rule for V != 25
    out = PreNormalize3D(align_spine=False, center_joint=0)(dict(keypoint=kp.copy(), total_frames=4))
    np.testing.assert_allclose(out['body_center'], kp[0, 0, 0])
    assert (out['keypoint'][0, 0, 0] == 0).all()
    with pytest.raises(ValueError, match='center_joint=30'):
        PreNormalize3D(align_spine=False, center_joint=30)(dict(keypoint=kp.copy(), total_frames=4))


def test_align_spine_turns_spine_to_z_and_shoulders_to_x():
    kp = skeletons(2, 5)
    out = PreNormalize3D()(dict(keypoint=kp.copy(), total_frames=5))['keypoint']
    first = out[0, 0]
    shoulders = first[8] - first[4]
    np.testing.assert_allclose(shoulders / np.linalg.norm(shoulders), [1, 0, 0], atol=1e-5)
    # A rotation: distances between all points are kept.
    centred = kp - kp[0, 0, 1]
    a, b = centred.reshape(-1, 3), out.reshape(-1, 3)
    np.testing.assert_allclose(np.linalg.norm(a[:, None] - a[None, :50], axis=-1),
                               np.linalg.norm(b[:, None] - b[None, :50], axis=-1), atol=1e-4)
    assert out.dtype == np.float32


@pytest.mark.parametrize('heading', [0.3, 2.0, np.pi, -1.2])
def test_upright_turns_about_z_only(heading):
    # A spine along a tilted axis and shoulders that are not square to it.
    kp = np.zeros((1, 2, 25, 3), np.float32)
    kp[0, :, 1] = [1.0, 2.0, 3.0]  # centre
    kp[0, :, 0] = kp[0, :, 1] - [0.1, 0.2, 0.9]  # spine bottom -> top: (0.1, 0.2, 0.9)
    kp[0, :, 4] = kp[0, :, 1] + [-0.2 * np.cos(heading), -0.2 * np.sin(heading), 0.1]  # left shoulder
    kp[0, :, 8] = kp[0, :, 1] + [0.2 * np.cos(heading), 0.2 * np.sin(heading), -0.05]  # right shoulder
    kp[0, 1] += 0.01  # a second frame moves with the first
    out = PreNormalize3D(upright=True)(dict(keypoint=kp.copy(), total_frames=2))['keypoint'][0, 0]
    spine = out[1] - out[0]
    np.testing.assert_allclose(spine / np.linalg.norm(spine), [0, 0, 1], atol=1e-5)  # still upright
    shoulders = out[8] - out[4]
    assert shoulders[0] > 0 and abs(shoulders[1]) < 1e-5  # heading +x; the height difference kept
    np.testing.assert_allclose(np.linalg.norm(shoulders), np.linalg.norm(kp[0, 0, 8] - kp[0, 0, 4]), rtol=1e-5)
    # The original's rule puts the shoulder line on x and tilts the spine off z.
    out = PreNormalize3D()(dict(keypoint=kp.copy(), total_frames=2))['keypoint'][0, 0]
    shoulders, spine = out[8] - out[4], out[1] - out[0]
    np.testing.assert_allclose(shoulders / np.linalg.norm(shoulders), [1, 0, 0], atol=1e-5)
    assert abs(spine[0]) > 1e-3


def test_rotation_helpers():
    rng = np.random.default_rng(0)
    for _ in range(20):
        v, target = rng.standard_normal(3), rng.standard_normal(3)
        R = align_to(v, target)
        np.testing.assert_allclose(R @ R.T, np.eye(3), atol=1e-12)
        assert np.isclose(np.linalg.det(R), 1)
        np.testing.assert_allclose(R @ v / np.linalg.norm(v), target / np.linalg.norm(target), atol=1e-10)
    # Right-hand rule about z, and the identity for a zero axis.
    np.testing.assert_allclose(axis_angle_matrix([0, 0, 2], np.pi / 2) @ [1, 0, 0], [0, 1, 0], atol=1e-12)
    np.testing.assert_array_equal(axis_angle_matrix([0, 0, 0], 1.0), np.eye(3))
    np.testing.assert_array_equal(align_to(np.zeros(3), [0, 0, 1]), np.eye(3))


def test_align_spine_by_hand_and_float16_rotated_in_float64():
    # Centre joint 1 at (1, 2, 3); the spine (joint 0 -> 1) is (0, 0.5, 0.5) and the shoulders
    # (joint 4 -> 8) are (1, 0, 0). Turning the spine onto +z is 45 degrees about x:
    # (x, y, z) -> (x, (y - z) / sqrt(2), (y + z) / sqrt(2)); the shoulders are on x already.
    # Joint 5 at centre + (0, 0.5, 0.25) goes to (0, 0.25, 0.75) / sqrt(2). Every input value is
    # exact in float16; the result is not, and is kept in float32 as the original keeps it in float64.
    kp = np.zeros((1, 1, 25, 3))
    center = np.array([1.0, 2.0, 3.0])
    kp[0, 0, :] = center
    kp[0, 0, 0] = center - [0, 0.5, 0.5]
    kp[0, 0, 4] = center - [0.5, 0, 0]
    kp[0, 0, 8] = center + [0.5, 0, 0]
    kp[0, 0, 5] = center + [0, 0.5, 0.25]
    for dtype in (np.float16, np.float32, np.float64):
        out = PreNormalize3D()(dict(keypoint=kp.astype(dtype), total_frames=1))['keypoint']
        assert out.dtype == np.promote_types(dtype, np.float32)
        r = np.sqrt(0.5)
        np.testing.assert_allclose(out[0, 0, 5], [0, 0.25 * r, 0.75 * r], atol=1e-7)
        np.testing.assert_allclose(out[0, 0, 0], [0, 0, -r], atol=1e-7)
        np.testing.assert_allclose(out[0, 0, [4, 8]], [[-0.5, 0, 0], [0.5, 0, 0]], atol=1e-7)
        assert (out[0, 0, [1, 2, 3]] == 0).all()


def test_all_zero_and_dtype():
    kp = np.zeros((2, 6, 25, 3), np.float32)
    out = PreNormalize3D()(dict(keypoint=kp, total_frames=6))
    assert out['keypoint'] is kp and out['total_frames'] == 6
    half = skeletons(1, 6).astype(np.float16)
    out = PreNormalize3D(align_spine=False)(dict(keypoint=half, total_frames=6))
    assert out['keypoint'].dtype == np.float16  # computed in the stored dtype, as the original


def test_bad_input():
    with pytest.raises(ValueError, match="'S1'.*total_frames=5.*6 frames"):
        PreNormalize3D()(dict(keypoint=skeletons(1, 6), total_frames=5, frame_dir='S1'))
    with pytest.raises(ValueError, match="'S2'.*3 coordinates"):
        PreNormalize3D()(dict(keypoint=np.ones((1, 6, 17, 2)), frame_dir='S2'))
    with pytest.raises(ValueError, match=r"'S3'.*4-D"):
        PreNormalize3D()(dict(keypoint=np.ones((6, 17, 3)), frame_dir='S3'))
    with pytest.raises(KeyError, match="'S4' has no field 'keypoint'"):
        PreNormalize3D()(dict(frame_dir='S4'))


def test_prenormalize2d():
    kp = np.array([[[[0, 0], [960, 540], [1920, 1080]]]], np.float32)
    out = PreNormalize2D()(dict(keypoint=kp.copy()))
    np.testing.assert_allclose(out['keypoint'][0, 0], [[-1, -1], [0, 0], [1, 1]])
    out = PreNormalize2D()(dict(keypoint=kp.copy(), img_shape=(540, 960)))
    np.testing.assert_allclose(out['keypoint'][0, 0], [[-1, -1], [1, 1], [3, 3]])
    assert repr(PreNormalize2D()) == "PreNormalize2D(img_shape=(1080, 1920), threshold=0.01, mode='fix')"
    assert repr(PreNormalize3D(align_spine=False)).startswith('PreNormalize3D(zaxis=[0, 1], xaxis=[8, 4], '
                                                              'align_spine=False')


def test_prenormalize2d_puts_unsure_joints_at_the_centre():
    # img_shape (100, 200): x' = (x - 100) / 100, y' = (y - 50) / 50. Joints scoring at most
    # the threshold (0.01) get x' = y' = 0; their score is kept.
    kp = np.array([[[[0, 0], [150, 75], [200, 100], [50, 25]]]], np.float32)
    score = np.array([[[0.0, 0.01, 0.0101, 0.9]]], np.float32)
    out = PreNormalize2D()(dict(keypoint=kp.copy(), keypoint_score=score.copy(), img_shape=(100, 200)))
    np.testing.assert_allclose(out['keypoint'][0, 0], [[0, 0], [0, 0], [1, 1], [-0.5, -0.5]])
    np.testing.assert_array_equal(out['keypoint_score'], score)
    # The score as keypoint's third channel, and another threshold.
    kp3 = np.concatenate([kp, score[..., None]], axis=-1)
    out = PreNormalize2D(threshold=0.5)(dict(keypoint=kp3, img_shape=(100, 200)))
    np.testing.assert_allclose(out['keypoint'][0, 0], [[0, 0, 0], [0, 0, 0.01], [0, 0, 0.0101], [-0.5, -0.5, 0.9]])
    # Scores are compared in float32: a float16 0.01 is 0.0100021 there, above the threshold.
    out = PreNormalize2D()(dict(keypoint=kp.copy(), keypoint_score=score.astype(np.float16), img_shape=(100, 200)))
    np.testing.assert_allclose(out['keypoint'][0, 0], [[0, 0], [0.5, 0.5], [1, 1], [-0.5, -0.5]])
    # No score: only mapped.
    out = PreNormalize2D()(dict(keypoint=kp.copy(), img_shape=(100, 200)))
    np.testing.assert_allclose(out['keypoint'][0, 0], [[-1, -1], [0.5, 0.5], [1, 1], [-0.5, -0.5]])


def test_prenormalize2d_float16_in_float32_and_bad_arguments():
    kp = np.array([[[[1001, 7]]]], np.float16)  # float16 stores 1001 exactly; (1001 - 960) / 960 it cannot
    out = PreNormalize2D()(dict(keypoint=kp.copy(), keypoint_score=np.ones((1, 1, 1), np.float16)))
    assert out['keypoint'].dtype == np.float32
    np.testing.assert_allclose(out['keypoint'][0, 0, 0], [41 / 960, -533 / 540], rtol=1e-6)
    with pytest.raises(ValueError, match='mode'):
        PreNormalize2D(mode='auto')
    with pytest.raises(ValueError, match='threshold'):
        PreNormalize2D(threshold='low')
    with pytest.raises(ValueError, match=r"'s1'.*keypoint_score \(1, 2, 1\)"):
        PreNormalize2D()(dict(keypoint=kp, keypoint_score=np.ones((1, 2, 1)), frame_dir='s1'))


def test_valid_frames_is_np_isclose_to_zero():
    """The written-out test for empty frames keeps np.isclose(x, 0)'s answer: |x| <= 1e-8, NaN is not close."""
    rng = np.random.default_rng(0)
    person = rng.choice([0.0, 1e-9, -1e-8, 1.0000001e-8, -2e-8, 0.5, np.nan, -np.inf],
                        size=(400, 2, 3), p=[.6, .1, .1, .05, .05, .04, .03, .03]).astype(np.float32)
    person[:100] = 0
    person[100:150] = 1e-9
    expected = np.flatnonzero(~np.isclose(person, 0).reshape(len(person), -1).all(axis=1))
    np.testing.assert_array_equal(PreNormalize3D.valid_frames(person), expected)
    np.testing.assert_array_equal(PreNormalize3D.valid_frames(person.astype(np.float64)), expected)
