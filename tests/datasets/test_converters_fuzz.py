"""Fuzz the Kinetics-Skeleton, BABEL and Toyota Smarthome converters: 300 mutated inputs each (seeded).

Each outcome must be ``ok`` (written, and the sample equals what a plain re-reading of the input
gives: no silent corruption), ``skip`` (left out, one line in the report) or ``error`` (a
ValueError / FileNotFoundError on one line naming the file), within a time limit: never a traceback
of another kind, never a hang.
"""
import io
import json
import pickle
import random
import signal
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from pyskl.datasets.converters import convert_babel, convert_kinetics_skeleton, convert_smarthome
from pyskl.utils import load_pickle
from release_files import babel_chunks, kinetics_person, smarthome_detection

TRIALS = 300
TIMEOUT_S = 20
NASTY = [float('nan'), float('inf'), -float('inf'), 1e308, 1e39, -1, 0, 10**20, 10**400, 'x', None, True, [], {}]


class Hang(Exception):
    pass


def _alarm(signum, frame):
    raise Hang


def mutate_bytes(data: bytes, rng: random.Random) -> tuple:
    kind = rng.choice(['truncate', 'empty', 'non-utf8', 'random-bytes', 'delete-span', 'deep-nesting'])
    if kind == 'truncate':
        return kind, data[:rng.randrange(len(data))]
    if kind == 'empty':
        return kind, b''
    pos = rng.randrange(len(data))
    if kind == 'non-utf8':
        return kind, data[:pos] + rng.choice([b'\xff\xfe', b'\xc3\x28', b'\x80']) + data[pos:]
    if kind == 'random-bytes':
        return kind, data[:pos] + bytes(rng.randrange(256) for _ in range(rng.randint(1, 12))) + data[pos + 6:]
    if kind == 'delete-span':
        return kind, data[:pos] + data[pos + rng.randint(1, 40):]
    return kind, b'[' * 100000 + b']' * 100000


def _one_line(err: BaseException) -> bool:
    return isinstance(err, (ValueError, FileNotFoundError)) and '\n' not in str(err).strip()


def run_trials(trial, tmp_path: Path, seed: int) -> Counter:
    """``trial(folder, rng) -> (kind, outcome)``; returns the outcome counts; fails on any BAD one."""
    outcomes, bad = Counter(), []
    old = signal.signal(signal.SIGALRM, _alarm)
    try:
        for i in range(TRIALS):
            rng = random.Random(seed * 100003 + i)
            folder = tmp_path / str(i)
            folder.mkdir()
            signal.alarm(TIMEOUT_S)
            try:
                kind, outcome = trial(folder, rng)
            except Hang:
                kind, outcome = '?', 'BAD hang'
            except Exception as err:  # noqa: BLE001 - every other exception is what the fuzz looks for
                kind, outcome = '?', 'error' if _one_line(err) else f'BAD {type(err).__name__}: {err}'
            finally:
                signal.alarm(0)
            outcomes[outcome.split(':')[0]] += 1
            if outcome.startswith('BAD'):
                bad.append(f'trial {i} ({kind}): {outcome[:300]}')
    finally:
        signal.signal(signal.SIGALRM, old)
    assert not bad, '\n'.join(bad)
    assert sum(outcomes.values()) == TRIALS and outcomes['ok'] > 20 and outcomes['skip'] + outcomes['error'] > 50, \
        outcomes
    return outcomes


def _skip_or_none(report) -> str:
    if report.skipped:
        s = report.skipped[0]
        return 'skip' if '\n' not in s.reason and s.reason else f'BAD skip line {s.reason!r}'
    return ''


# --- Kinetics-Skeleton --------------------------------------------------------------------------------

def kinetics_reference(content: dict) -> tuple:
    """ST-GCN's protocol, written out plainly: keypoint and score of a clip that parses."""
    frames = {f['frame_index']: f['skeleton'] for f in content['data']}
    first = min(frames)
    kept = {i - first: people for i, people in frames.items() if i - first < 300}
    T = max(kept) + 1
    ranked = {t: sorted(people[:5], key=lambda p: -float(np.float32(p['score']).sum()))[:2] for t, people in
              kept.items()}
    M = max(len(p) for p in ranked.values())
    kp, sc = np.zeros((M, T, 18, 2), np.float32), np.zeros((M, T, 18), np.float32)
    for t, people in ranked.items():
        for m, p in enumerate(people):
            kp[m, t, :, 0] = np.float32(p['pose'][0::2]) * np.float32(340)
            kp[m, t, :, 1] = np.float32(p['pose'][1::2]) * np.float32(256)
            sc[m, t] = p['score']
    return kp.astype(np.float16), sc.astype(np.float16)  # as the converter stores them


def mutate_kinetics(content: dict, rng: random.Random) -> tuple:
    kind = rng.choice(['bytes', 'bytes', 'number', 'joints', 'scores', 'type', 'frame-index', 'duplicate-frame',
                       'no-person', 'missing-key', 'many-persons', 'huge-index', 'label', 'valid'])
    data, frame = content['data'], rng.choice(content['data'])
    if kind == 'bytes':
        return mutate_bytes(json.dumps(content).encode(), rng)
    if kind == 'number' and frame['skeleton']:
        person = rng.choice(frame['skeleton'])
        key = rng.choice(['pose', 'score'])
        person[key][rng.randrange(len(person[key]))] = rng.choice(NASTY)
    elif kind == 'joints' and frame['skeleton']:
        person = rng.choice(frame['skeleton'])
        person['pose'] = person['pose'][:rng.choice([0, 2, 34, 35])] + ([0.5] * 4 if rng.random() < 0.3 else [])
    elif kind == 'scores' and frame['skeleton']:
        rng.choice(frame['skeleton'])['score'].append(0.5)
    elif kind == 'type':
        target = rng.choice(['data', 'frame', 'skeleton', 'person'])
        value = rng.choice(['abc', None, 3.5, {'a': 1}, [[1]], True])
        if target == 'data':
            content['data'] = value
        elif target == 'frame':
            data[rng.randrange(len(data))] = value
        elif target == 'skeleton':
            frame['skeleton'] = value
        elif frame['skeleton']:
            frame['skeleton'][0] = value
    elif kind == 'frame-index':
        frame['frame_index'] = rng.choice([-1, 1.5, '3', None, True, 10**6])
    elif kind == 'duplicate-frame':
        data.append(dict(frame))
    elif kind == 'no-person':
        for f in data:
            f['skeleton'] = []
    elif kind == 'missing-key':
        victim = rng.choice(['data', 'frame_index', 'skeleton', 'pose', 'score'])
        if victim == 'data':
            del content['data']
        elif victim in frame:
            del frame[victim]
        elif frame['skeleton']:
            del frame['skeleton'][0][victim]
    elif kind == 'many-persons':
        frame['skeleton'] = [kinetics_person(rng.random(), rng.random()) for _ in range(rng.randint(3, 9))]
    elif kind == 'huge-index':
        data.append(dict(frame_index=rng.choice([299, 300, 301, 5000]), skeleton=[kinetics_person(0.5)]))
    elif kind == 'label':
        content['label_index'] = rng.choice([1, -1, 'a', None, 400])
    return kind, json.dumps(content, allow_nan=True).encode()


def kinetics_trial(folder: Path, rng: random.Random) -> tuple:
    src = folder / 'release'
    for split in ('train', 'val'):
        (src / f'kinetics_{split}').mkdir(parents=True)
    frames = [dict(frame_index=i, skeleton=[kinetics_person(rng.random(), rng.random())
                                            for _ in range(rng.choice([0, 1, 1, 2, 3]))])
              for i in rng.sample(range(rng.choice([0, 1]), 12), rng.randint(1, 8))]
    frames[0]['skeleton'].append(kinetics_person(0.3, 0.4))  # at least one person, before mutation
    content = dict(data=frames, label='abseiling', label_index=0)
    labels = dict(train=dict(clip=dict(has_skeleton=True, label='abseiling', label_index=0)), val={})
    if rng.random() < 0.15:  # mutate the label file instead
        kind, label_bytes = mutate_bytes(json.dumps(labels['train']).encode(), rng) if rng.random() < 0.5 else (
            'label-file', json.dumps(dict(clip=dict(has_skeleton=rng.choice(['yes', 1, None]),
                                                    label_index=rng.choice([-1, 400, 'a', 2.5])))).encode())
        data = json.dumps(content).encode()
    else:
        kind, data = mutate_kinetics(content, rng)
        label_bytes = json.dumps(labels['train']).encode()
    (src / 'kinetics_train' / 'clip.json').write_bytes(data)
    (src / 'kinetics_train_label.json').write_bytes(label_bytes)
    good = dict(data=[dict(frame_index=1, skeleton=[kinetics_person(0.2, 0.7)])], label='x', label_index=1)
    (src / 'kinetics_val' / 'good.json').write_text(json.dumps(good))  # a valid clip beside the mutated one
    (src / 'kinetics_val_label.json').write_text(json.dumps(dict(good=dict(has_skeleton=True, label_index=1))))
    try:
        report = convert_kinetics_skeleton(src, folder / 'out.pkl', num_workers=1, progress=False)
    except ValueError as err:
        return kind, 'error' if _one_line(err) and 'label' in str(err) else f'BAD {err}'
    for sample in load_pickle(folder / 'out.pkl')['annotations']:
        split = 'train' if sample['frame_dir'] == 'clip' else 'val'
        kp, sc = kinetics_reference(json.loads((src / f'kinetics_{split}' / f'{sample["frame_dir"]}.json').read_text()))
        same = (sample['keypoint'].shape == kp.shape and np.array_equal(sample['keypoint'], kp)
                and np.array_equal(sample['keypoint_score'], sc) and sample['total_frames'] == kp.shape[1] <= 300
                and np.isfinite(sample['keypoint']).all() and sample['label'] == (0 if split == 'train' else 1))
        if not same:
            return kind, f'BAD corrupt {sample["frame_dir"]}: {sample["keypoint"].shape} vs {kp.shape}'
    return kind, _skip_or_none(report) or 'ok'


@pytest.mark.slow
def test_fuzz_kinetics_skeleton(tmp_path):
    run_trials(kinetics_trial, tmp_path, seed=1)


# --- BABEL ------------------------------------------------------------------------------------------------

def mutate_babel_array(data: np.ndarray, rng: random.Random) -> tuple:
    kind = rng.choice(['truncate', 'bytes', 'nan', 'huge', 'joints', 'channels', 'ndim', 'empty', 'str', 'object',
                       'complex', 'bool', 'int', 'zero-chunk', 'persons', 'float64', 'valid'])
    if kind in ('truncate', 'bytes'):
        buf = io.BytesIO()
        np.save(buf, data)
        raw = buf.getvalue()
        return kind, mutate_bytes(raw, rng)[1] if kind == 'bytes' else raw[:rng.randrange(len(raw))]
    if kind == 'nan':
        data.flat[rng.randrange(data.size)] = rng.choice([np.nan, np.inf, -np.inf])
    elif kind == 'huge':
        data = data.astype(np.float64)
        data.flat[rng.randrange(data.size)] = 1e300
    elif kind == 'joints':
        data = data[:, :, :, :rng.choice([1, 18, 24])]
    elif kind == 'channels':
        data = np.concatenate([data, data], axis=1)[:, :rng.choice([2, 4, 6])]
    elif kind == 'ndim':
        data = data.reshape(rng.choice([(-1, ), (len(data), 3, -1), (1, ) + data.shape]))
    elif kind == 'empty':
        data = data[:, :, :0] if rng.random() < 0.5 else data[:0]
    elif kind == 'str':
        data = data.astype(str)
    elif kind == 'object':
        data = data.astype(object)
    elif kind == 'complex':
        data = data.astype(np.complex64)
    elif kind == 'bool':
        data = data > 0
    elif kind == 'int':
        data = (data * 100).astype(np.int32)
    elif kind == 'zero-chunk':
        data[rng.randrange(len(data))] = 0
    elif kind == 'persons':
        data = np.concatenate([data, np.zeros_like(data)] if rng.random() < 0.5 else [data, data], axis=-1)
    elif kind == 'float64':
        data = data.astype(np.float64)
    return kind, data


def mutate_babel_labels(n: int, rng: random.Random) -> tuple:
    labels = [rng.randrange(60) for _ in range(n)]
    content = ([f'seg{i}' for i in range(n)], (labels, list(range(n)), [0] * n, ['a'] * n))
    kind = rng.choice(['valid', 'plain', 'bytes', 'length', 'label', 'type', 'unsafe', 'not-pair'])
    if kind == 'plain':
        content = (content[0], labels)
    elif kind == 'bytes':
        return kind, mutate_bytes(pickle.dumps(content), rng)[1]
    elif kind == 'length':
        content = (content[0] + ['extra'], content[1])
    elif kind == 'label':
        labels[rng.randrange(n)] = rng.choice([60, -1, 1.5, '3', None, True, 10**30])
    elif kind == 'type':
        content = (content[0], (rng.choice(['abc', 5, None]), ) + content[1][1:])
    elif kind == 'unsafe':
        content = (content[0], (labels, [Counter()] * n, [0] * n, ['a'] * n))
    elif kind == 'not-pair':
        content = rng.choice([labels, 'abc', 5, (content[0], )])
    return kind, pickle.dumps(content)


def babel_trial(folder: Path, rng: random.Random) -> tuple:
    src = folder / 'release'
    src.mkdir()
    n = rng.randint(1, 4)
    original = babel_chunks(n, seed=rng.randrange(1000), frames=rng.choice([150, 40]))
    if rng.random() < 0.6:
        kind, data = mutate_babel_array(original.copy(), rng)
        label_bytes = pickle.dumps(
            ([f'seg{i}' for i in range(n)], ([i % 60 for i in range(n)], list(range(n)), [0] * n, ['a'] * n)))
    else:
        data = original
        kind, label_bytes = mutate_babel_labels(n, rng)
    if isinstance(data, bytes):
        (src / 'train_ntu_sk_60.npy').write_bytes(data)
    else:
        np.save(src / 'train_ntu_sk_60.npy', data)
    (src / 'train_label_60.pkl').write_bytes(label_bytes)
    np.save(src / 'val_ntu_sk_60.npy', babel_chunks(2, seed=7))  # a valid split beside the mutated one
    (src / 'val_label_60.pkl').write_bytes(pickle.dumps((['a', 'b'], [3, 4])))
    try:
        report = convert_babel(src, folder / 'out.pkl', 60, progress=False)
    except ValueError as err:
        return kind, f'BAD {err}'
    if any('\n' in s.reason or not s.reason for s in report.skipped):
        return kind, 'BAD skip line'
    content = load_pickle(folder / 'out.pkl')
    for sample in content['annotations']:
        split, row = sample['frame_dir'].split('_')
        written = np.load(src / f'{split}_ntu_sk_60.npy')  # what the file holds (a byte mutation may parse)
        chunk = written[int(row)].astype(np.float32).transpose(3, 1, 2, 0)  # C T V M -> M T V C
        chunk = chunk[(np.abs(chunk) > 1e-6).any(axis=(1, 2, 3))]
        frames = np.flatnonzero((np.abs(chunk) > 1e-6).any(axis=(0, 2, 3)))
        expected = chunk[:, :frames[-1] + 1].astype(np.float16)
        if not (np.array_equal(sample['keypoint'], expected) and sample['total_frames'] == expected.shape[1]
                and sample['keypoint'].shape[2:] == (25, 3)):
            return kind, f'BAD corrupt {sample["frame_dir"]}'
    return kind, 'skip' if report.skipped else 'ok'


@pytest.mark.slow
def test_fuzz_babel(tmp_path):
    run_trials(babel_trial, tmp_path, seed=2)


# --- Toyota Smarthome -------------------------------------------------------------------------------------

def smarthome_reference(content: dict) -> np.ndarray:
    frames = []
    for detections in content['frames']:
        ranked = sorted(detections, key=lambda d: -d['cumscore'])[:2]
        frames.append([np.float32(d['pose3d'][:39]).reshape(3, 13).T for d in ranked])
    M = max(len(f) for f in frames)
    kp = np.zeros((M, len(frames), 13, 3), np.float32)
    for t, people in enumerate(frames):
        for m, pose in enumerate(people):
            kp[m, t] = pose
    return kp.astype(np.float16)


def mutate_smarthome(content: dict, rng: random.Random) -> tuple:
    kind = rng.choice(['bytes', 'bytes', 'number', 'pose-length', 'extra-3d', 'type', 'njts', 'no-person',
                       'missing-key', 'cumscore', 'many-persons', 'huge-frames', 'valid'])
    frames = content['frames']
    dets = [d for f in frames for d in f]
    det = rng.choice(dets) if dets else None
    if kind == 'bytes':
        return mutate_bytes(json.dumps(content).encode(), rng)
    if kind == 'number' and det:
        key = rng.choice(['pose2d', 'pose3d'])
        det[key][rng.randrange(len(det[key]))] = rng.choice(NASTY)
    elif kind == 'pose-length' and det:
        key = rng.choice(['pose2d', 'pose3d'])
        det[key] = det[key][:rng.choice([0, 13, 25, 26, 36, 38])] + ([1.0] * 2 if key == 'pose2d' and
                                                                      rng.random() < 0.3 else [])
    elif kind == 'extra-3d' and det:
        det['pose3d'] += [0.1] * rng.randint(1, 5)
    elif kind == 'type':
        target = rng.choice(['frames', 'frame', 'detection'])
        value = rng.choice(['abc', None, 3.5, {'a': 1}, [[1]], True])
        if target == 'frames':
            content['frames'] = value
        elif target == 'frame':
            frames[rng.randrange(len(frames))] = value
        elif det:
            rng.choice([f for f in frames if f])[0] = value
    elif kind == 'njts':
        content['njts'] = rng.choice([12, 14, 15, '13', None, True, 13.0])
    elif kind == 'no-person':
        content['frames'] = [[] for _ in frames]
    elif kind == 'missing-key':
        victim = rng.choice(['njts', 'frames', 'pose2d', 'pose3d', 'cumscore'])
        if victim in content:
            del content[victim]
        elif det:
            del det[victim]
    elif kind == 'cumscore' and det:
        det['cumscore'] = rng.choice(NASTY)
    elif kind == 'many-persons':
        frames[rng.randrange(len(frames))] = [smarthome_detection(rng.random(), rng.random() * 10)
                                              for _ in range(rng.randint(3, 6))]
    elif kind == 'huge-frames':
        content['frames'] = (frames * 5000)[:5000]
    return kind, json.dumps(content, allow_nan=True).encode()


def smarthome_trial(folder: Path, rng: random.Random) -> tuple:
    src = folder / 'json'
    src.mkdir()
    frames = [[smarthome_detection(rng.random(), rng.random() * 10) for _ in range(rng.choice([0, 1, 1, 2]))]
              for _ in range(rng.randint(1, 6))]
    frames[0].append(smarthome_detection(0.5, 3.0))
    name = rng.choice(['Walk_p03_r00_v01_c01', 'Cook.Cut_p02_r01_v02_c02', 'Readbook_p10_r00_v03_c05'])
    kind, data = mutate_smarthome(dict(K=[[1, 0, 0], [0, 1, 0], [0, 0, 1]], njts=13, frames=frames), rng)
    if rng.random() < 0.08:
        kind, name = 'name', rng.choice(['Dance_p03_r00_v01_c01', 'Walk_p03', 'walk', 'Walk_pxx_r00_v01_c01'])
    (src / f'{name}_pose3d.json').write_bytes(data)
    good = dict(njts=13, frames=[[smarthome_detection(0.1, 1.0), smarthome_detection(0.2, 2.0)]])
    (src / 'Sitdown_p11_r00_v02_c02_pose3d.json').write_text(json.dumps(good))  # a valid clip beside it
    try:
        report = convert_smarthome(src, folder / 'out.pkl', progress=False)
    except ValueError as err:
        return kind, f'BAD {err}'
    for sample in load_pickle(folder / 'out.pkl')['annotations']:
        expected = smarthome_reference(json.loads((src / f'{sample["frame_dir"]}_pose3d.json').read_text()))
        same = (np.array_equal(sample['keypoint'], expected) and sample['total_frames'] == expected.shape[1]
                and np.isfinite(sample['keypoint']).all() and 0 <= sample['label'] < 31)
        if not same:
            return kind, f'BAD corrupt {sample["frame_dir"]}: {sample["keypoint"].shape} vs {expected.shape}'
    return kind, _skip_or_none(report) or 'ok'


@pytest.mark.slow
def test_fuzz_smarthome(tmp_path):
    run_trials(smarthome_trial, tmp_path, seed=3)
