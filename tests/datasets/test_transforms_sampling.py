"""Temporal sampling: UniformSampleFrames / UniformSample, PoseDecode, UniformSampleDecode, PadTo."""
import numpy as np
import pytest

from pyskl.datasets.transforms import (PadTo, PoseDecode, UniformSample, UniformSampleDecode,
                                       UniformSampleFrames)
from pyskl.datasets.transforms import base as transforms_base


def sample(transform, total_frames, test_mode, **extra):
    results = dict(total_frames=total_frames, test_mode=test_mode, **extra)
    return transform(results)


def clips(results):
    return results['frame_inds'].reshape(results['num_clips'], results['clip_len'])


# ---- test mode: the original's deterministic rules, computed by hand ----

def test_test_mode_short_sequence_starts():
    # n < clip_len: clip i starts at i * n // num_clips (or i where n < num_clips), looped over n.
    out = sample(UniformSampleFrames(clip_len=8, num_clips=3), 5, True)
    expected = [np.arange(s, s + 8) % 5 for s in (0, 1, 3)]
    np.testing.assert_array_equal(clips(out), expected)
    out = sample(UniformSampleFrames(clip_len=8, num_clips=4), 2, True)
    np.testing.assert_array_equal(clips(out), [np.arange(s, s + 8) % 2 for s in range(4)])
    assert out['clip_len'] == 8 and out['num_clips'] == 4 and out['frame_interval'] is None


def window_draws(rng, num_frames, p_interval=(1, 1)):
    """The two draws the original makes for each clip before choosing its frames: the window's
    length (a ratio in p_interval) and its offset. With p_interval=1 the window is the whole sequence."""
    window = int((rng.rand() * (p_interval[1] - p_interval[0]) + p_interval[0]) * num_frames)
    return window, rng.randint(num_frames - window + 1)


def test_test_mode_medium_sequence_reproduces_seeded_draws():
    # clip_len <= n < 2 clip_len: skip n - L of the L + 1 gaps, chosen by RandomState(255)
    # after each clip's two window draws.
    L, n = 10, 14
    rng = np.random.RandomState(255)
    expected = []
    for _ in range(2):
        assert window_draws(rng, n) == (n, 0)
        gaps = np.zeros(L + 1, dtype=int)
        gaps[rng.choice(L + 1, n - L, replace=False)] = 1
        expected.append(np.arange(L) + np.cumsum(gaps)[:-1])
    out = sample(UniformSampleFrames(clip_len=L, num_clips=2), n, True)
    np.testing.assert_array_equal(clips(out), expected)
    assert (np.diff(clips(out), axis=1) >= 1).all()


def test_test_mode_long_sequence_one_frame_per_segment():
    L, n = 10, 57
    out = sample(UniformSampleFrames(clip_len=L, num_clips=3), n, True)
    bounds = np.array([k * n // L for k in range(L + 1)])
    for clip in clips(out):
        assert ((clip >= bounds[:-1]) & (clip < bounds[1:])).all()
    rng = np.random.RandomState(255)
    for clip in clips(out):
        window_draws(rng, n)
        np.testing.assert_array_equal(clip, bounds[:-1] + rng.randint(np.diff(bounds)))


def test_test_mode_frames_by_hand():
    # 5 frames, clips of 4: one of the 5 gaps around the frames is skipped. RandomState(255) draws
    # rand() and randint(1) for the window, then choice(5, 1) picks gap 0 for clip 0 (frames 1-4)
    # and, after clip 1's window draws, gap 3 (frames 0, 1, 2, 4). Without the window draws it
    # would pick gap 2 for both clips (frames 0, 1, 3, 4).
    out = sample(UniformSampleFrames(clip_len=4, num_clips=2), 5, True)
    np.testing.assert_array_equal(clips(out), [[1, 2, 3, 4], [0, 1, 2, 4]])


def test_test_mode_draws_a_window_from_p_interval():
    # Test mode restricts each clip to a window as training does, from the seeded generator.
    L, n = 4, 20
    rng = np.random.RandomState(255)
    window, off = window_draws(rng, n, (0.5, 0.5))
    assert window == 10
    bounds = np.array([0, 2, 5, 7, 10])  # k * 10 // 4
    expected = bounds[:-1] + rng.randint(np.diff(bounds)) + off
    out = sample(UniformSampleFrames(clip_len=L, p_interval=(0.5, 0.5)), n, True)
    np.testing.assert_array_equal(out['frame_inds'], expected)


@pytest.mark.parametrize('n', [100, 101, 150, 199, 200, 250, 1000])
@pytest.mark.parametrize('num_clips', [1, 10])
def test_test_mode_same_frames_as_uniform_sample_decode_from_clip_len_on(n, num_clips):
    # From clip_len frames on, UniformSample and UniformSampleDecode make the same draws in test mode.
    kp = np.arange(n, dtype=np.float32).reshape(1, n, 1, 1)
    inds = sample(UniformSample(clip_len=100, num_clips=num_clips), n, True)['frame_inds']
    frames = UniformSampleDecode(clip_len=100, num_clips=num_clips)(
        dict(keypoint=kp, total_frames=n, test_mode=True))['keypoint'][0, :, 0, 0]
    np.testing.assert_array_equal(inds, frames)


def test_test_mode_is_deterministic_and_leaves_global_state():
    state = np.random.get_state()
    t = UniformSampleFrames(clip_len=16, num_clips=5)
    first = sample(t, 40, True)['frame_inds']
    np.random.rand(10)  # global draws in between change nothing
    second = sample(t, 40, True)['frame_inds']
    np.testing.assert_array_equal(first, second)
    np.random.set_state(state)
    t2 = UniformSampleFrames(clip_len=16, num_clips=5, seed=7)
    assert not np.array_equal(sample(t2, 40, True)['frame_inds'], first)


def test_start_index_and_alias():
    out = sample(UniformSample(clip_len=4), 4, True, start_index=10)
    np.testing.assert_array_equal(out['frame_inds'], [10, 11, 12, 13])
    assert out['frame_inds'].dtype == np.int64
    assert isinstance(UniformSample(clip_len=2), UniformSampleFrames)


# ---- training mode: distributions ----

@pytest.mark.parametrize('n', [1, 7, 20, 33, 45, 80, 300])
def test_train_indices_in_range_and_sorted(n):
    t = UniformSampleFrames(clip_len=20, num_clips=3, seed_train=0)
    starts = set()
    for _ in range(50):
        c = clips(sample(t, n, False))
        assert ((c >= 0) & (c < n)).all()
        if n >= 20:
            assert (np.diff(c, axis=1) >= 1).all()  # sorted and distinct within a clip
        else:  # a short sequence loops: consecutive frames modulo n
            assert ((np.diff(c, axis=1) - 1) % n == 0).all()
        starts.update(c[:, 0].tolist())
    if n not in (1, 20):  # n == clip_len takes every frame
        assert len(starts) > 1  # random


def test_train_segments_cover_the_sequence():
    # n >= 2L: one frame from each of the L equal segments.
    t = UniformSampleFrames(clip_len=10, seed_train=0)
    seen = np.zeros(100, dtype=int)
    for _ in range(300):
        inds = sample(t, 100, False)['frame_inds']
        assert (inds // 10 == np.arange(10)).all()
        seen[inds] += 1
    assert (seen > 0).all()  # every frame can be drawn


def test_p_interval_restricts_each_clip_to_a_window():
    n, L = 200, 10
    t = UniformSampleFrames(clip_len=L, num_clips=4, p_interval=(0.3, 0.3), seed_train=1)
    offsets = set()
    for _ in range(100):
        for clip in clips(sample(t, n, False)):
            assert clip.max() - clip.min() < 0.3 * n
            offsets.add(int(clip.min()) // 10)
    assert len(offsets) > 5  # the window moves over the sequence
    # A number p means (p, 1): windows between p * n and n frames.
    assert UniformSampleFrames(clip_len=4, p_interval=0.5).p_interval == (0.5, 1.0)
    spans = [np.ptp(sample(UniformSampleFrames(clip_len=L, p_interval=0.5, seed_train=s), n, False)['frame_inds'])
             for s in range(100)]
    assert 0.4 * n < min(spans) and max(spans) > 0.8 * n


def test_train_mode_uses_own_generator():
    state = np.random.get_state()
    a = [sample(UniformSampleFrames(clip_len=8, seed_train=3), 50, False)['frame_inds'] for _ in range(2)]
    np.testing.assert_array_equal(*a)  # same seed, same draws
    t = UniformSampleFrames(clip_len=8, seed_train=3)
    assert not np.array_equal(sample(t, 50, False)['frame_inds'], sample(t, 50, False)['frame_inds'])
    after = np.random.get_state()
    assert np.array_equal(state[1], after[1]) and state[2] == after[2]


def test_dataloader_workers_draw_differently(monkeypatch):
    class Info:
        def __init__(self, seed):
            self.seed = seed

    t = UniformSampleFrames(clip_len=8, seed_train=3)
    draws = {}
    for worker_seed in (100, 101, 100):
        monkeypatch.setattr(transforms_base, 'get_worker_info', lambda: Info(worker_seed))
        t._rng = None  # a fresh worker
        draws.setdefault(worker_seed, []).append(sample(t, 500, False)['frame_inds'])
    np.testing.assert_array_equal(draws[100][0], draws[100][1])  # reproducible for a worker seed
    assert not np.array_equal(draws[100][0], draws[101][0])


def test_bad_arguments_and_inputs():
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match='clip_len'):
            UniformSampleFrames(clip_len=bad)
    with pytest.raises(ValueError, match='num_clips'):
        UniformSampleFrames(clip_len=4, num_clips=0)
    with pytest.raises(ValueError, match='p_interval'):
        UniformSampleFrames(clip_len=4, p_interval=(0.8, 0.5))
    with pytest.raises(ValueError, match='seed_train'):
        UniformSampleFrames(clip_len=4, seed_train=-3)
    with pytest.raises(ValueError, match="'S001'.*total_frames=0"):
        UniformSampleFrames(clip_len=4)(dict(total_frames=0, frame_dir='S001'))


# ---- decoding ----

def test_pose_decode_takes_frames_as_float32():
    kp = np.arange(2 * 6 * 3 * 2, dtype=np.float16).reshape(2, 6, 3, 2)
    score = np.random.default_rng(0).random((2, 6, 3))
    out = PoseDecode()(dict(keypoint=kp, keypoint_score=score, frame_inds=np.array([[5, 0, 2]])))
    np.testing.assert_array_equal(out['keypoint'], kp[:, [5, 0, 2]].astype(np.float32))
    np.testing.assert_allclose(out['keypoint_score'], score[:, [5, 0, 2]].astype(np.float32))
    assert out['keypoint'].dtype == out['keypoint_score'].dtype == np.float32
    out = PoseDecode()(dict(keypoint=kp, total_frames=6))  # no frame_inds: every frame
    assert out['keypoint'].shape == kp.shape
    with pytest.raises(ValueError, match=r"'x'.*\[0, 6\].*6 frames"):
        PoseDecode()(dict(keypoint=kp, frame_inds=np.array([0, 6]), frame_dir='x'))


def test_sample_then_decode_equals_frames():
    kp = np.random.default_rng(0).standard_normal((2, 40, 5, 3)).astype(np.float32)
    t = UniformSampleFrames(clip_len=12, num_clips=2)
    out = PoseDecode()(t(dict(keypoint=kp, total_frames=40, test_mode=True, start_index=0)))
    assert out['keypoint'].shape == (2, 24, 5, 3)
    np.testing.assert_array_equal(out['keypoint'], kp[:, out['frame_inds']])


def test_uniform_sample_decode_test_mode_draws_as_training():
    # Test mode: seeded with `seed`, otherwise the training draws (original behaviour).
    L, n = 10, 6
    rng = np.random.RandomState(255)
    rng.rand()
    rng.randint(1)
    start = rng.randint(0, n)
    kp = np.arange(n, dtype=np.float32).reshape(1, n, 1, 1) * np.ones((1, n, 2, 3), np.float32)
    out = UniformSampleDecode(clip_len=L)(dict(keypoint=kp, total_frames=n, test_mode=True))
    np.testing.assert_array_equal(out['keypoint'][0, :, 0, 0], np.arange(start, start + L) % n)
    assert out['keypoint'].dtype == np.float32 and out['num_clips'] == 1 and out['clip_len'] == L


def test_uniform_sample_decode_short_window_loops_within_it():
    n, L = 100, 30
    kp = np.arange(n, dtype=np.float32).reshape(1, n, 1, 1)
    t = UniformSampleDecode(clip_len=L, num_clips=3, p_interval=(0.2, 0.2), seed_train=0)
    for _ in range(30):
        frames = t(dict(keypoint=kp.copy(), total_frames=n))['keypoint'][0, :, 0, 0].reshape(3, L)
        for clip in frames:
            assert clip.max() - clip.min() < 20  # within one 20-frame window
            assert len(np.unique(clip)) == 20  # the whole window, looped


@pytest.mark.parametrize('test_mode', [False, True])
@pytest.mark.parametrize('n', [1, 2, 7, 19])
def test_stretch_keeps_short_sequences_in_order(n, test_mode):
    # short='stretch': every frame L // n or L // n + 1 times, in order.
    L = 20
    kp = np.arange(n, dtype=np.float32).reshape(1, n, 1, 1)
    for cls in (UniformSampleFrames, UniformSampleDecode):
        t = cls(clip_len=L, num_clips=3, short='stretch', seed_train=1)
        for _ in range(10):
            out = t(dict(keypoint=kp.copy(), total_frames=n, test_mode=test_mode))
            inds = clips(out)
            for clip in inds:
                assert (np.diff(clip) >= 0).all()  # never wraps round
                counts = np.bincount(clip, minlength=n)
                assert len(counts) == n and counts.min() == L // n and counts.max() <= L // n + 1
            if cls is UniformSampleDecode:
                np.testing.assert_array_equal(out['keypoint'][0, :, 0, 0], inds.ravel())


def test_stretch_leaves_long_sequences_and_checks_the_rule():
    # At or above clip_len 'stretch' samples exactly as 'loop'.
    a = UniformSampleFrames(clip_len=8, num_clips=2, short='stretch')
    b = UniformSampleFrames(clip_len=8, num_clips=2)
    for n in (8, 12, 40):
        np.testing.assert_array_equal(sample(a, n, True)['frame_inds'], sample(b, n, True)['frame_inds'])
    with pytest.raises(ValueError, match="short must be one of .*'wrap'"):
        UniformSampleDecode(clip_len=8, short='wrap')


def test_uniform_sample_decode_merges_score_and_checks_frames():
    kp = np.zeros((1, 8, 4, 2), np.float32)
    score = np.full((1, 8, 4), 0.5, np.float32)
    out = UniformSampleDecode(clip_len=4)(dict(keypoint=kp, keypoint_score=score, total_frames=8, test_mode=True))
    assert out['keypoint'].shape == (1, 4, 4, 3) and 'keypoint_score' not in out
    assert (out['keypoint'][..., 2] == 0.5).all()
    with pytest.raises(ValueError, match="'s1'.*total_frames=9.*8 frames"):
        UniformSampleDecode(clip_len=4)(dict(keypoint=kp, total_frames=9, frame_dir='s1'))


def test_pad_to():
    kp = np.arange(3, dtype=np.float32).reshape(1, 3, 1, 1) + 1
    out = PadTo(length=7)(dict(keypoint=kp, total_frames=3))
    np.testing.assert_array_equal(out['keypoint'][0, :, 0, 0], [1, 2, 3, 1, 2, 3, 1])
    assert out['total_frames'] == 7
    out = PadTo(length=5, mode='zero')(dict(keypoint=kp, total_frames=3))
    np.testing.assert_array_equal(out['keypoint'][0, :, 0, 0], [1, 2, 3, 0, 0])
    with pytest.raises(ValueError, match='length=2'):
        PadTo(length=2)(dict(keypoint=kp, total_frames=3))
    with pytest.raises(ValueError, match='mode'):
        PadTo(length=4, mode='edge')


def test_reprs():
    assert repr(UniformSampleFrames(clip_len=100, num_clips=10)) == (
        'UniformSampleFrames(clip_len=100, num_clips=10, p_interval=(1.0, 1.0), seed=255, seed_train=None, '
        "short='loop')")
    assert repr(UniformSampleDecode(clip_len=4)).startswith('UniformSampleDecode(clip_len=4')
    assert repr(PoseDecode()) == 'PoseDecode()'
    assert repr(PadTo(5)) == "PadTo(length=5, mode='loop')"
