"""NTU ``.skeleton`` converter, on text files written here with hand-computed expectations.

Poses use multiples of 1/16 so that every coordinate is exact in float16.
"""
import runpy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pyskl.datasets.converters.ntu import (SkeletonFormatError, convert_ntu, convert_skeleton_file, ntu_splits,
                                           read_skeleton, select_bodies)
from pyskl.datasets.converters.ntu_meta import NTU_MISSING_SKELETONS
from pyskl.utils import load_pickle

REPO = Path(__file__).resolve().parents[2]
V = 25


def upright(dx=0.0, dy=0.0):
    """A pose taller than wide: x-extent 0.125, y-extent 1.5 (a valid frame)."""
    v = np.arange(V)
    return np.stack([0.125 * (v % 2) + dx, 0.0625 * v + dy, np.full(V, 2.0)], axis=1)


def wide(dx=0.0):
    """A pose wider than tall: x-extent 1.5, y-extent 0.125 (spread noise)."""
    v = np.arange(V)
    return np.stack([0.0625 * v + dx, 0.125 * (v % 2), np.full(V, 2.0)], axis=1)


def track(num_frames, speed, start_dx=0.0):
    """A body walking along x: frame t is ``upright(start_dx + speed * t)``."""
    return [upright(start_dx + speed * t) for t in range(num_frames)]


def skeleton_text(frames):
    """``frames``: a list (one per frame) of lists of (body_id, 25 x 3 joints)."""
    lines = [str(len(frames))]
    for bodies in frames:
        lines.append(str(len(bodies)))
        for body_id, joints in bodies:
            lines.append(f'{body_id} 0 1 1 1 1 0 0.0215 -0.0431 2')
            lines.append(str(V))
            for x, y, z in joints:
                lines.append(f'{float(x)!r} {float(y)!r} {float(z)!r} 250.5 200.5 900.1 500.2 0.1 0.2 0.3 0.4 2')
    return '\n'.join(lines) + '\n'


def combine(num_frames, *bodies):
    """Frames from (body_id, start, [joints per frame]) tuples; frames nobody is in are empty."""
    frames = [[] for _ in range(num_frames)]
    for body_id, start, joints in bodies:
        for t, j in enumerate(joints):
            frames[start + t].append((body_id, j))
    return frames


def write(tmp_path, name, frames):
    path = tmp_path / f'{name}.skeleton'
    path.write_text(skeleton_text(frames))
    return path


def persons(*rows):
    """Expected keypoint: each row a list of T entries, a pose or None (zeros)."""
    out = np.zeros((len(rows), len(rows[0]), V, 3))
    for m, row in enumerate(rows):
        for t, pose in enumerate(row):
            if pose is not None:
                out[m, t] = pose
    return out


def test_one_body_and_float16(tmp_path):
    poses = track(3, 0.0625)
    path = write(tmp_path, 'S001C001P001R001A001', combine(3, ('72057594037931101', 0, poses)))
    anno = convert_skeleton_file(path)
    assert anno['frame_dir'] == 'S001C001P001R001A001'
    assert anno['label'] == 0
    assert anno['keypoint'].dtype == np.float16
    assert anno['keypoint'].shape == (1, 3, V, 3) and anno['total_frames'] == 3
    np.testing.assert_array_equal(anno['keypoint'], persons(poses))
    # Windows line endings read the same.
    path.write_bytes(skeleton_text(combine(3, ('7', 0, poses))).replace('\n', '\r\n').encode())
    np.testing.assert_array_equal(convert_skeleton_file(path)['keypoint'], persons(poses))


def test_frames_without_body_are_dropped_and_not_counted(tmp_path):
    poses = track(5, 0.0625)
    frames = [[], [], ('7', poses[0]), ('7', poses[1]), [], ('7', poses[2]), ('7', poses[3]), ('7', poses[4]), []]
    frames = [[f] if isinstance(f, tuple) else f for f in frames]
    anno = convert_skeleton_file(write(tmp_path, 'S001C001P001R001A002', frames))
    assert anno['total_frames'] == 5
    np.testing.assert_array_equal(anno['keypoint'], persons(poses))
    # With two bodies, ``start`` counts only frames that hold a body: B, first seen in raw
    # frame 14, starts at body-frame 12 (raw frames 0 and 13 are empty).
    a, b = track(25, 0.25), track(13, 0.0, start_dx=3.0)
    raw = [[]] + [[('1', a[t])] for t in range(12)] + [[]] + [[('1', a[12 + t]), ('2', b[t])] for t in range(13)]
    tracks = read_skeleton(write(tmp_path, 'S001C001P001R001A003', raw + [[]]))
    assert [(t.body_id, t.start, t.num_frames) for t in tracks] == [('1', 0, 25), ('2', 12, 13)]
    kp = select_bodies(tracks)
    np.testing.assert_array_equal(kp, persons(a, [None] * 12 + b))


def test_two_bodies_sorted_by_motion(tmp_path):
    slow, fast = track(20, 0.0625), track(20, 0.5, start_dx=4.0)
    # The slow body appears first in the file; the faster one (more motion) becomes person 0.
    path = write(tmp_path, 'S001C002P003R001A050', combine(20, ('11', 0, slow), ('22', 0, fast)))
    tracks = read_skeleton(path)
    assert [t.body_id for t in tracks] == ['11', '22']
    # motion = sum of the x, y, z variances of all joints of all frames
    for t, poses in zip(tracks, (slow, fast)):
        assert t.motion == pytest.approx(np.var(np.reshape(poses, (-1, 3)), axis=0).sum(), rel=1e-6)
    anno = convert_skeleton_file(path)
    assert anno['label'] == 49
    np.testing.assert_array_equal(anno['keypoint'], persons(fast, slow))


def test_body_appearing_mid_sequence(tmp_path):
    a, b = track(20, 0.25), track(15, 0.0, start_dx=3.0)
    anno = convert_skeleton_file(write(tmp_path, 'S001C001P001R001A001', combine(20, ('1', 0, a), ('2', 5, b))))
    # A has more motion: person 0; B overlaps A, so it takes person 1 from body-frame 5.
    np.testing.assert_array_equal(anno['keypoint'], persons(a, [None] * 5 + b))


def test_swap_when_person_zero_starts_empty(tmp_path):
    a, b = track(20, 0.0625), track(15, 0.5, start_dx=3.0)
    kp = select_bodies(read_skeleton(write(tmp_path, 'S001C001P001R001A001',
                                           combine(20, ('1', 0, a), ('2', 5, b)))))
    # B moves more: slot 0 holds B from frame 5, slot 1 holds A from frame 0. Frame 0 of
    # person 0 is empty and person 1's is not, so the persons are swapped.
    np.testing.assert_array_equal(kp, persons(a, [None] * 5 + b))


def test_short_noisy_body_dropped(tmp_path):
    a = track(20, 0.0625)
    short = track(11, 1.0, start_dx=5.0)  # more motion, but only 11 frames: noise
    anno = convert_skeleton_file(write(tmp_path, 'S001C001P001R001A001',
                                       combine(20, ('1', 0, a), ('2', 4, short))))
    np.testing.assert_array_equal(anno['keypoint'], persons(a))
    # 12 frames are enough to stay.
    longer = track(12, 1.0, start_dx=5.0)
    anno = convert_skeleton_file(write(tmp_path, 'S001C001P001R001A001',
                                       combine(20, ('1', 0, a), ('2', 4, longer))))
    # The longer body moves more: person 0 from frame 4; A takes person 1 from frame 0; then
    # person 0 starts empty and person 1 does not, so they are swapped.
    np.testing.assert_array_equal(anno['keypoint'], persons(a, [None] * 4 + longer + [None] * 4))


def test_spread_noise(tmp_path):
    a = track(20, 0.0625)
    # 14 of 20 frames wider than tall (70% >= 69.754%): dropped even though it moves most.
    noisy = [wide(2.0 * t) for t in range(14)] + [upright(3.0)] * 6
    anno = convert_skeleton_file(write(tmp_path, 'S001C001P001R001A001', combine(20, ('1', 0, a), ('2', 0, noisy))))
    np.testing.assert_array_equal(anno['keypoint'], persons(a))
    # 13 of 20 (65%): kept, its motion becomes that of its 7 valid (static) frames, which is
    # below A's, so A becomes person 0 although B's raw motion is far larger.
    b = [wide(2.0 * t) for t in range(13)] + [upright(3.0)] * 7
    tracks = read_skeleton(write(tmp_path, 'S001C001P001R001A001', combine(20, ('1', 0, a), ('2', 0, b))))
    assert tracks[1].motion > tracks[0].motion
    valid_motion = np.var(np.reshape([upright(3.0)] * 7, (-1, 3)), axis=0).sum()
    assert valid_motion < tracks[0].motion
    np.testing.assert_array_equal(select_bodies(tracks), persons(a, b))


def test_bodies_one_after_another_share_person_zero(tmp_path):
    a, b = track(15, 0.25), track(15, 0.0625, start_dx=1.0)
    kp = select_bodies(read_skeleton(write(tmp_path, 'S001C001P001R001A001',
                                           combine(30, ('1', 0, a), ('2', 15, b)))))
    # No frame in common: B continues person 0; person 1 stays empty.
    np.testing.assert_array_equal(kp, persons(a + b, [None] * 30))


def test_third_body_overlapping_both_persons_is_dropped(tmp_path):
    a, b, c = track(20, 0.5), track(20, 0.25, start_dx=2.0), track(15, 0.125, start_dx=4.0)
    kp = select_bodies(read_skeleton(write(tmp_path, 'S001C001P001R001A001',
                                           combine(20, ('3', 5, c), ('1', 0, a), ('2', 0, b)))))
    np.testing.assert_array_equal(kp, persons(a, b))


def test_trim_leading_and_trailing_empty_frames(tmp_path):
    a, b = track(20, 0.25), track(20, 0.0625, start_dx=2.0)
    zero, tiny = np.zeros((V, 3)), np.zeros((V, 3))
    tiny[3, 0] = 1e-5  # below the 1e-3 threshold: counts as empty
    a[:2] = [zero, tiny]
    b[:2] = [zero, zero]
    a[-1], b[-1] = zero, zero
    kp = select_bodies(read_skeleton(write(tmp_path, 'S001C001P001R001A001', combine(20, ('1', 0, a), ('2', 0, b)))))
    assert kp.shape == (2, 17, V, 3)
    np.testing.assert_array_equal(kp, persons(a[2:19], b[2:19]).astype(np.float32))


@pytest.mark.parametrize('mutate, line, message', [
    (lambda ls: ls[:40], 41, 'truncated'),  # ends inside the first body's joints
    (lambda ls: ls[:1] + ['1', ls[2]] + ['24'] + ls[4:], 4, 'expected 25 joints'),
    (lambda ls: ls[:9] + ['0.5 abc 2.0 1 1 1 1 1 1 1 1 2'] + ls[10:], 10, "'abc' is not a number"),
    (lambda ls: ls[:9] + ['0.5 nan 2.0 1 1 1 1 1 1 1 1 2'] + ls[10:], 10, 'not finite'),
    # found by tools/benchmarks/fuzz_inputs.py: was stored as inf in the float16 annotation file
    (lambda ls: ls[:9] + ['0.5 70000 2.0 1 1 1 1 1 1 1 1 2'] + ls[10:], 10, "'70000' is beyond 65504"),
    (lambda ls: ls[:9] + ['0.5 1.0 2.0'] + ls[10:], 10, 'has 12 numbers'),
    (lambda ls: ls[:2] + ['7 0 1'] + ls[3:], 3, 'has 10 fields'),
    (lambda ls: ['x'] + ls[1:], 1, 'the frame count'),
    (lambda ls: ls + ['1'], 58, 'after the 2 frames'),
])
def test_malformed_file_names_the_line(tmp_path, mutate, line, message):
    lines = skeleton_text(combine(2, ('7', 0, track(2, 0.0625)))).splitlines()
    assert len(lines) == 57  # 1 + 2 * (1 + 1 + 1 + 25)
    path = tmp_path / 'S001C001P001R001A001.skeleton'
    path.write_text('\n'.join(mutate(lines)) + '\n')
    with pytest.raises(SkeletonFormatError, match=message) as info:
        read_skeleton(path)
    assert info.value.line == line
    assert str(path) in str(info.value) and f'line {line}' in str(info.value)


def test_same_body_twice_in_a_frame_is_malformed(tmp_path):
    p = upright()
    path = write(tmp_path, 'S001C001P001R001A001', [[('7', p)], [('7', p), ('7', p)]])
    with pytest.raises(SkeletonFormatError, match='appears twice in frame 2') as info:
        read_skeleton(path)
    assert info.value.line == 58  # the second body line of frame 2


def test_splits():
    names = ['S002C001P002R001A061', 'S001C001P001R001A001', 'S001C003P003R002A002', 'S003C002P103R001A003']
    ntu60 = ntu_splits([n for n in names if int(n[-3:]) <= 60], ntu120=False)
    assert ntu60 == dict(xsub_train=['S001C001P001R001A001', 'S003C002P103R001A003'],
                         xsub_val=['S001C003P003R002A002'],
                         xview_train=['S001C003P003R002A002', 'S003C002P103R001A003'],
                         xview_val=['S001C001P001R001A001'])
    ntu120 = ntu_splits(names, ntu120=True)
    assert ntu120 == dict(xsub_train=['S001C001P001R001A001', 'S002C001P002R001A061', 'S003C002P103R001A003'],
                          xsub_val=['S001C003P003R002A002'],
                          xset_train=['S002C001P002R001A061'],
                          xset_val=['S001C001P001R001A001', 'S001C003P003R002A002', 'S003C002P103R001A003'])


def make_dataset(tmp_path):
    src = tmp_path / 'nturgb+d_skeletons'
    src.mkdir()
    one = combine(3, ('1', 0, track(3, 0.0625)))
    for name in ['S003C002P103R001A003', 'S001C001P001R001A001', 'S002C001P002R001A061', 'S001C003P003R002A002']:
        write(src, name, one)
    missing = sorted(NTU_MISSING_SKELETONS)[0]
    write(src, missing, one)
    truncated = skeleton_text(one).splitlines()[:20]  # ends inside the first body's joints
    (src / 'S001C001P004R001A004.skeleton').write_text('\n'.join(truncated) + '\n')
    write(src, 'S001C001P004R001A005', [[], []])  # no body at all
    (src / 'readme.skeleton').write_text(skeleton_text(one))
    return src, missing


@pytest.mark.parametrize('num_workers', [1, 2])
def test_convert_ntu_folder(tmp_path, num_workers):
    src, missing = make_dataset(tmp_path)
    report = convert_ntu(src, tmp_path / 'out', num_workers=num_workers, progress=False)
    skipped = {s.name: (s.kind, s.reason) for s in report.skipped}
    assert skipped[f'{missing}.skeleton'][0] == 'missing-list'
    assert skipped['S001C001P004R001A004.skeleton'][0] == 'malformed'
    assert skipped['S001C001P004R001A004.skeleton'][1].startswith('line 21: file ends where joint 17')
    assert skipped['S001C001P004R001A005.skeleton'][0] == 'no-body'
    assert skipped['readme.skeleton'][0] == 'bad-name'
    assert len(skipped) == 4

    ntu120 = load_pickle(tmp_path / 'out' / 'ntu120_3danno.pkl')
    ntu60 = load_pickle(tmp_path / 'out' / 'ntu60_3danno.pkl')
    assert [a['frame_dir'] for a in ntu120['annotations']] == [
        'S001C001P001R001A001', 'S001C003P003R002A002', 'S002C001P002R001A061', 'S003C002P103R001A003']
    assert [a['label'] for a in ntu120['annotations']] == [0, 1, 60, 2]
    assert [a['frame_dir'] for a in ntu60['annotations']] == [
        'S001C001P001R001A001', 'S001C003P003R002A002', 'S003C002P103R001A003']
    assert ntu60['split']['xview_val'] == ['S001C001P001R001A001']
    assert ntu120['split']['xset_train'] == ['S002C001P002R001A061']
    assert set(ntu60['split']) == {'xsub_train', 'xsub_val', 'xview_train', 'xview_val'}
    assert set(ntu120['split']) == {'xsub_train', 'xsub_val', 'xset_train', 'xset_val'}
    for anno in ntu120['annotations']:
        assert anno['keypoint'].dtype == np.float16 and anno['keypoint'].shape == (1, 3, V, 3)
        assert set(anno) == {'frame_dir', 'label', 'keypoint', 'total_frames'}
    labels = (tmp_path / 'out' / 'ntu120_label_map.txt').read_text(encoding='utf-8').splitlines()
    assert len(labels) == 120 and labels[0] == 'drink water' and labels[60] == 'put on headphone'
    assert (tmp_path / 'out' / 'ntu60_label_map.txt').read_text(encoding='utf-8').splitlines() == labels[:60]
    summary = report.summary()
    assert 'ntu120_3danno.pkl: 4 samples' in summary and 'ntu60_3danno.pkl: 3 samples' in summary
    assert 'S001C001P004R001A004.skeleton (malformed): line 21' in summary
    assert missing not in summary  # the missing list is counted, not listed


def test_ntu60_only_folder_writes_no_ntu120(tmp_path):
    src = tmp_path / 'skes'
    src.mkdir()
    write(src, 'S001C001P001R001A001', combine(3, ('1', 0, track(3, 0.0625))))
    report = convert_ntu(src, tmp_path / 'out', num_workers=1, progress=False)
    assert [Path(w.path).name for w in report.written] == ['ntu60_3danno.pkl']
    assert not (tmp_path / 'out' / 'ntu120_3danno.pkl').exists()


def test_empty_or_absent_folder_raises(tmp_path):
    with pytest.raises(FileNotFoundError, match='no .skeleton files'):
        convert_ntu(tmp_path, tmp_path / 'out', progress=False)
    with pytest.raises(FileNotFoundError, match='is not a folder'):
        convert_ntu(tmp_path / 'absent', tmp_path / 'out', progress=False)


def test_cli(tmp_path, capsys):
    script = REPO / 'tools' / 'data' / 'ntu_preproc.py'
    main = runpy.run_path(str(script))['main']
    with pytest.raises(SystemExit) as info:
        main(['--help'])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert 'skeleton_dir' in out and '--num-workers' in out
    src, _ = make_dataset(tmp_path)
    # As a script, in its own process, with a worker pool.
    out = subprocess.run([sys.executable, str(script), str(src), str(tmp_path / 'out'), '--num-workers', '2'],
                         capture_output=True, text=True, check=True).stdout
    assert 'ntu60_3danno.pkl: 3 samples' in out
    assert 'skipped 4 input(s)' in out and 'line 21' in out
    assert len(load_pickle(tmp_path / 'out' / 'ntu120_3danno.pkl')['annotations']) == 4
