"""Fuzz the data converters and PoseDataset with mutated inputs; print what each did.

Targets: ``ntu`` (``convert_ntu`` on one mutated ``.skeleton`` file), ``nwucla``
(``convert_nwucla`` on one mutated JSON file), ``arrays`` (``folder_to_annotations`` on a
mutated ``.npy`` file or labels CSV, as ``tools/data/arrays_to_anno.py`` runs it) and
``dataset`` (``PoseDataset`` with the demo's training pipeline on a mutated annotation
pickle or label map, reading every sample).

Mutations: truncation, deleted/duplicated lines, wrong joint counts, NaN/inf/huge/negative
numbers, empty files, wrong types, huge frame counts, random and non-UTF-8 bytes. Each
outcome is one of:

- ``ok``: it ran and the output is sane (finite keypoints of the right layout);
- ``skip``: the input was left out and counted in the report / ``bad_samples``;
- ``error``: a clear error: a ValueError/TypeError/KeyError/OSError on one line that
  names the file (or, for PoseDataset, the annotation file or label map);
- ``BAD raw``: any other exception, or an error that does not name the file;
- ``BAD corrupt``: it ran but wrote non-finite or misshaped keypoints;
- ``BAD hang``: it took longer than ``--timeout`` seconds.

    python tools/benchmarks/fuzz_inputs.py [--trials 500] [--seed 0] [--targets ntu nwucla arrays dataset]
        [--json OUT]

The same seed gives the same mutations. Exit status 1 if any outcome is BAD.
"""
import argparse
import json
import logging
import pickle
import platform
import random
import signal
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

CLEAR_ERRORS = (ValueError, TypeError, KeyError, OSError)
NTU_NAME = 'S001C001P001R001A001'
UCLA_NAME = 'a01_s01_e01_v01'


class Hang(Exception):
    pass


def _alarm(signum, frame):
    raise Hang


# --- valid inputs ---------------------------------------------------------------------------

def ntu_text(rng: random.Random, num_frames: int = 6, num_bodies: int = 1) -> str:
    lines = [str(num_frames)]
    for t in range(num_frames):
        lines.append(str(num_bodies))
        for b in range(num_bodies):
            lines.append(f'{7200000 + b} 0 1 1 1 1 0 0.0215 -0.0431 2')
            lines.append('25')
            for v in range(25):
                x, y, z = 0.1 * (v % 2) + 0.01 * t + 0.5 * b, 0.06 * v, 2.0 + rng.random() * 0.01
                lines.append(f'{x!r} {y!r} {z!r} 250.5 200.5 900.1 500.2 0.1 0.2 0.3 0.4 2')
    return '\n'.join(lines) + '\n'


def ucla_json(rng: random.Random, num_frames: int = 5) -> str:
    skeletons = [[[0.1 * v + 0.01 * t, 0.05 * v, 2.0 + rng.random() * 0.01] for v in range(20)]
                 for t in range(num_frames)]
    return json.dumps(dict(file_name=UCLA_NAME, skeletons=skeletons, label=1))


def annotation_file(rng: np.random.Generator, num: int = 6) -> dict:
    annotations = []
    for i in range(num):
        t = int(rng.integers(20, 60))
        annotations.append(dict(frame_dir=f's{i}', label=i % 3, total_frames=t,
                                keypoint=rng.normal(size=(1, t, 25, 3)).astype(np.float32)))
    names = [a['frame_dir'] for a in annotations]
    return dict(split=dict(train=names[:4], val=names[4:]), annotations=annotations)


# --- mutations ------------------------------------------------------------------------------

NASTY_NUMBERS = ['nan', 'inf', '-inf', '1e308', '1e39', '70000', '-1', '0', '99999999999', 'x', '', '1e-320']


def mutate_text(text: str, rng: random.Random) -> tuple[str, bytes]:
    """(mutation name, new content as bytes) of a text file."""
    lines = text.split('\n')
    kind = rng.choice(['truncate', 'delete-line', 'duplicate-line', 'number', 'joint-count', 'frame-count',
                       'empty', 'non-utf8', 'random-bytes', 'swap-lines', 'extra-field', 'whitespace'])
    data = text.encode()
    if kind == 'truncate':
        return kind, data[:rng.randrange(len(data))]
    if kind == 'empty':
        return kind, b''
    if kind == 'non-utf8':
        pos = rng.randrange(len(data))
        return kind, data[:pos] + rng.choice([b'\xff\xfe', b'\xc3\x28', b'\x80', b'\xe9']) + data[pos:]
    if kind == 'random-bytes':
        pos = rng.randrange(len(data))
        return kind, data[:pos] + bytes(rng.randrange(256) for _ in range(rng.randint(1, 16))) + data[pos + 8:]
    i = rng.randrange(len(lines))
    if kind == 'delete-line':
        del lines[i]
    elif kind == 'duplicate-line':
        lines.insert(i, lines[i])
    elif kind == 'swap-lines':
        j = rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
    elif kind == 'extra-field':
        lines[i] += ' 7'
    elif kind == 'whitespace':
        lines[i] = '  \t' + lines[i] + ' \r'
    elif kind == 'number':
        fields = lines[i].split(' ')
        fields[rng.randrange(len(fields))] = rng.choice(NASTY_NUMBERS)
        lines[i] = ' '.join(fields)
    elif kind == 'joint-count':
        counts = [k for k, line in enumerate(lines) if line.strip() in ('25', '20')] or [i]
        lines[rng.choice(counts)] = rng.choice(['24', '26', '0', '-3', '17', '1000000'])
    elif kind == 'frame-count':
        lines[0] = rng.choice(['1000000000', '-1', '0', '7', '1e3', '18446744073709551617'])
    return kind, '\n'.join(lines).encode()


def mutate_json(text: str, rng: random.Random) -> tuple[str, bytes]:
    """Structural JSON mutations, or a text mutation."""
    content = json.loads(text)
    kind = rng.choice(['text', 'text', 'wrong-type', 'nan', 'joints', 'frames-empty', 'huge-frames', 'label',
                       'ragged', 'missing-key'])
    if kind == 'text':
        return mutate_text(text, rng)
    sk = content['skeletons']
    if kind == 'wrong-type':
        key = rng.choice(['skeletons', 'label', 'file_name'])
        content[key] = rng.choice(['abc', None, {'a': 1}, 3.5, [], True, [['x']]])
    elif kind == 'nan':
        sk[rng.randrange(len(sk))][rng.randrange(20)][rng.randrange(3)] = rng.choice(
            [float('nan'), float('inf'), 1e300, -1e39])
    elif kind == 'joints':
        for frame in sk:
            del frame[rng.randrange(len(frame)):]
    elif kind == 'frames-empty':
        content['skeletons'] = []
    elif kind == 'huge-frames':
        content['skeletons'] = (sk * 20000)[:20000]  # 20,000 frames
    elif kind == 'label':
        content['label'] = rng.choice([0, 11, -1, 1.0, '1', 10**30])
    elif kind == 'ragged':
        sk[rng.randrange(len(sk))].append([1.0, 2.0])
    elif kind == 'missing-key':
        del content[rng.choice(['skeletons', 'label'])]
    return kind, json.dumps(content, allow_nan=True).encode()


def mutate_array(rng: random.Random, nrng: np.random.Generator) -> tuple[str, object]:
    """A replacement for a ``T x V x C`` array: bytes (written as the .npy file) or an array."""
    good = nrng.normal(size=(30, 25, 3)).astype(np.float32)
    kind = rng.choice(['truncate', 'bytes', 'nan', 'joints', 'channels', 'ndim', 'empty-dim', 'dtype-str',
                       'dtype-object', 'float16-overflow', 'huge-frames', 'int', 'complex', 'bool', 'empty-file'])
    if kind in ('truncate', 'bytes', 'empty-file'):
        import io
        buf = io.BytesIO()
        np.save(buf, good)
        data = buf.getvalue()
        if kind == 'truncate':
            return kind, data[:rng.randrange(len(data))]
        if kind == 'empty-file':
            return kind, b''
        pos = rng.randrange(len(data))
        return kind, data[:pos] + bytes(rng.randrange(256) for _ in range(8)) + data[pos + 8:]
    if kind == 'nan':
        good.flat[rng.randrange(good.size)] = rng.choice([np.nan, np.inf, -np.inf])
        return kind, good
    if kind == 'joints':
        return kind, good[:, :rng.choice([1, 17, 24]), :]
    if kind == 'channels':
        return kind, np.concatenate([good, good], axis=2)[:, :, :rng.choice([1, 4, 6])]
    if kind == 'ndim':
        return kind, good.reshape(rng.choice([(-1, ), (30, 75), (1, 1, 30, 25, 3)]))
    if kind == 'empty-dim':
        return kind, good[:0]
    if kind == 'dtype-str':
        return kind, good.astype(str)
    if kind == 'dtype-object':
        return kind, good.astype(object)
    if kind == 'float16-overflow':
        return kind, good * 1e5
    if kind == 'huge-frames':
        return kind, np.zeros((200000, 25, 3), np.float32)
    if kind == 'int':
        return kind, (good * 100).astype(np.int64)
    if kind == 'complex':
        return kind, good.astype(np.complex64)
    return kind, good > 0


def mutate_annotations(content: dict, rng: random.Random, nrng: np.random.Generator) -> tuple[str, object]:
    """A mutated annotation dict (or raw bytes for the pickle file)."""
    kind = rng.choice(['truncate', 'bytes', 'empty-file', 'nan', 'joints', 'channels', 'wrong-type', 'label',
                       'total-frames', 'huge-frames', 'missing-key', 'split', 'not-dict', 'dtype', 'persons',
                       'zero-frames', 'score'])
    data = pickle.dumps(content, protocol=4)
    if kind == 'truncate':
        return kind, data[:rng.randrange(len(data))]
    if kind == 'empty-file':
        return kind, b''
    if kind == 'bytes':
        pos = rng.randrange(len(data))
        return kind, data[:pos] + bytes(rng.randrange(256) for _ in range(8)) + data[pos + 8:]
    content = pickle.loads(data)  # a deep copy
    annos = content['annotations']
    a = annos[rng.randrange(len(annos))]
    kp = a['keypoint']
    if kind == 'nan':
        kp.flat[rng.randrange(kp.size)] = rng.choice([np.nan, np.inf, -np.inf])
    elif kind == 'joints':
        a['keypoint'] = kp[:, :, :rng.choice([1, 17, 24])]
    elif kind == 'channels':
        a['keypoint'] = np.concatenate([kp, kp], axis=3)[..., :rng.choice([1, 4])]
    elif kind == 'wrong-type':
        key = rng.choice(['keypoint', 'label', 'frame_dir', 'total_frames'])
        a[key] = rng.choice(['abc', None, [1, 2], 3.5, {'a': 1}, kp.tolist(), np.array('x')])
    elif kind == 'label':
        a['label'] = rng.choice([-1, 3, 10**12, True, np.int64(-5), 1.5])
    elif kind == 'total-frames':
        a['total_frames'] = rng.choice([0, -1, 10**9, kp.shape[1] + 1, kp.shape[1] - 1])
    elif kind == 'huge-frames':
        a['keypoint'] = np.zeros((1, 20000, 25, 3), np.float32)
        a['total_frames'] = 20000
    elif kind == 'missing-key':
        del a[rng.choice(['keypoint', 'label', 'frame_dir', 'total_frames'])]
    elif kind == 'split':
        content['split'] = rng.choice([None, [], {'train': 'abc'}, {'train': [1, 2]}, {'val': []}, {'train': []}])
    elif kind == 'not-dict':
        content = rng.choice([[], annos, 'abc', 5, {'annotations': 'x'}, {'annotations': [1, 2]}])
    elif kind == 'dtype':
        a['keypoint'] = kp.astype(rng.choice([np.float64, np.int32, np.float16, object, np.complex64]))
    elif kind == 'persons':
        a['keypoint'] = np.concatenate([kp] * rng.choice([2, 3, 7]), axis=0)
    elif kind == 'zero-frames':
        a['keypoint'] = kp[:, :0]
        a['total_frames'] = 0
    elif kind == 'score':
        a['keypoint_score'] = rng.choice([np.full(kp.shape[:3], np.nan, np.float32), 'x',
                                          np.ones(kp.shape[:2], np.float32)])
    return kind, content


# --- targets --------------------------------------------------------------------------------

def _sane(keypoint, num_joints: int, channels: int) -> bool:
    return (isinstance(keypoint, np.ndarray) and keypoint.ndim == 4 and keypoint.shape[2] == num_joints
            and keypoint.shape[3] == channels and keypoint.size > 0 and bool(np.isfinite(keypoint).all()))


def _clear(err: BaseException, *names: str) -> bool:
    """A clear error: an expected type, one line, naming one of ``names``."""
    text = str(err.args[0]) if isinstance(err, KeyError) and err.args else str(err)
    return isinstance(err, CLEAR_ERRORS) and '\n' not in text.strip() and any(n in text for n in names)


def run_ntu(tmp: Path, rng: random.Random, nrng, trial: dict) -> tuple[str, str]:
    from pyskl.datasets.converters.ntu import convert_ntu
    from pyskl.utils import load_pickle
    kind, data = mutate_text(ntu_text(rng, num_frames=rng.randint(1, 8), num_bodies=rng.choice([1, 1, 2])), rng)
    trial['kind'] = kind
    src, out = tmp / 'skeletons', tmp / 'out'
    src.mkdir()
    (src / f'{NTU_NAME}.skeleton').write_bytes(data)
    report = convert_ntu(src, out, num_workers=1, missing=(), progress=False)
    if report.skipped:
        return 'skip', report.skipped[0].reason
    sample = load_pickle(out / 'ntu60_3danno.pkl')['annotations'][0]
    ok = _sane(sample['keypoint'], 25, 3) and sample['total_frames'] == sample['keypoint'].shape[1]
    return 'ok' if ok else 'BAD corrupt', f'keypoint {sample["keypoint"].shape}'


def run_nwucla(tmp: Path, rng: random.Random, nrng, trial: dict) -> tuple[str, str]:
    from pyskl.datasets.converters.nwucla import convert_nwucla
    from pyskl.utils import load_pickle
    kind, data = mutate_json(ucla_json(rng, num_frames=rng.randint(1, 8)), rng)
    trial['kind'] = kind
    src = tmp / 'all_sqe'
    src.mkdir()
    (src / f'{UCLA_NAME}.json').write_bytes(data)
    report = convert_nwucla(src, tmp / 'out.pkl', progress=False)
    if report.skipped:
        return 'skip', report.skipped[0].reason
    sample = load_pickle(tmp / 'out.pkl')['annotations'][0]
    ok = _sane(sample['keypoint'], 20, 3) and sample['total_frames'] == sample['keypoint'].shape[1]
    return 'ok' if ok else 'BAD corrupt', f'keypoint {sample["keypoint"].shape}'


def run_arrays(tmp: Path, rng: random.Random, nrng, trial: dict) -> tuple[str, str]:
    from pyskl.datasets.converters.arrays import folder_to_annotations
    src = tmp / 'npy'
    src.mkdir()
    rows = ['name,label,split']
    for i in range(3):
        np.save(src / f'clip{i}.npy', nrng.normal(size=(30, 25, 3)).astype(np.float32))
        rows.append(f'clip{i},{i},train')
    csv_text = '\n'.join(rows) + '\n'
    if rng.random() < 0.35:
        kind, data = mutate_text(csv_text, rng)
        kind = f'csv {kind}'
        (tmp / 'labels.csv').write_bytes(data)
    else:
        kind, replacement = mutate_array(rng, nrng)
        target = src / 'clip1.npy'
        if isinstance(replacement, bytes):
            target.write_bytes(replacement)
        else:
            np.save(target, replacement)
        (tmp / 'labels.csv').write_text(csv_text)
    trial['kind'] = kind
    float16 = rng.random() < 0.5
    content = folder_to_annotations(src, tmp / 'labels.csv', tmp / 'out.pkl', num_joints=25,
                                    dtype=np.float16 if float16 else np.float32)
    ok = all(_sane(a['keypoint'], 25, 3) for a in content['annotations'])
    return 'ok' if ok else 'BAD corrupt', f'{len(content["annotations"])} samples'


_DEMO_PIPELINE = [
    dict(type='PreNormalize3D', align_spine=False), dict(type='RandomRot', theta=0.3),
    dict(type='GenSkeFeat', feats=['j']), dict(type='UniformSampleDecode', clip_len=16),
    dict(type='FormatGCNInput', num_person=2), dict(type='Collect', keys=['keypoint', 'label'], meta_keys=[]),
    dict(type='ToTensor', keys=['keypoint'])]


def run_dataset(tmp: Path, rng: random.Random, nrng, trial: dict) -> tuple[str, str]:
    from pyskl.datasets import PoseDataset
    content = annotation_file(nrng)
    label_map = tmp / 'labels.txt'
    if rng.random() < 0.15:
        kind, data = mutate_text('walk\nrun\njump\n', rng)
        kind = f'label-map {kind}'
        label_map.write_bytes(data)
        (tmp / 'anno.pkl').write_bytes(pickle.dumps(content))
    else:
        label_map.write_text('walk\nrun\njump\n')
        kind, mutated = mutate_annotations(content, rng, nrng)
        (tmp / 'anno.pkl').write_bytes(mutated if isinstance(mutated, bytes) else pickle.dumps(mutated))
    trial['kind'] = kind
    on_bad = rng.choice(['raise', 'skip'])
    dataset = PoseDataset(str(tmp / 'anno.pkl'), _DEMO_PIPELINE, split='train', label_map=str(label_map),
                          layout='nturgb+d', on_bad_sample=on_bad)
    for i in range(len(dataset)):
        out = dataset[i]
        kp = out['keypoint'].numpy()
        if not np.isfinite(kp).all() or kp.shape[-2:] != (25, 3):
            return 'BAD corrupt', f'sample {i}: keypoint {kp.shape}, finite {np.isfinite(kp).all()}'
    if dataset.bad_samples:
        return 'skip', dataset.bad_samples[0]
    return 'ok', f'{len(dataset)} samples'


TARGETS = dict(ntu=(run_ntu, (NTU_NAME, )), nwucla=(run_nwucla, (UCLA_NAME, )),
               arrays=(run_arrays, ('clip1', 'labels.csv')), dataset=(run_dataset, ('anno.pkl', 'labels.txt')))


def fuzz(target: str, trials: int, seed: int, timeout: float = 20.0) -> list[tuple[str, str, str]]:
    """``trials`` mutated inputs for ``target``: a list of (mutation, outcome, detail)."""
    from mmengine.logging import MMLogger
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.ERROR)  # the dataset's skip warnings: counted, not shown
    run, names = TARGETS[target]
    rng, nrng = random.Random(f'{target}-{seed}'), np.random.default_rng([seed, len(target)])
    results = []
    previous = signal.signal(signal.SIGALRM, _alarm)
    try:
        for _ in range(trials):
            trial = dict(kind='?')
            with tempfile.TemporaryDirectory() as tmp:
                signal.setitimer(signal.ITIMER_REAL, timeout)
                try:
                    outcome, detail = run(Path(tmp), rng, nrng, trial)
                except Hang:
                    outcome, detail = 'BAD hang', f'> {timeout} s'
                except Exception as err:  # noqa: BLE001 - classifying every outcome is the point
                    outcome = 'error' if _clear(err, *names) else 'BAD raw'
                    detail = f'{type(err).__name__}: {str(err)[:300]}'
                finally:
                    signal.setitimer(signal.ITIMER_REAL, 0)
                detail = detail.replace(tmp, 'TMP')  # the same seed gives the same table
            results.append((trial['kind'], outcome, detail))
    finally:
        signal.signal(signal.SIGALRM, previous)
        logger.setLevel(level)
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--trials', type=int, default=500, help='mutated inputs per target')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--targets', nargs='+', choices=list(TARGETS), default=list(TARGETS))
    parser.add_argument('--timeout', type=float, default=20.0, help='seconds per input before it counts as a hang')
    parser.add_argument('--show-bad', type=int, default=5, help='BAD outcomes to print per target')
    parser.add_argument('--json', default=None, help='also write every trial, {target: [[mutation, outcome, '
                        'detail], ...]}, to this file')
    args = parser.parse_args(argv)
    import torch
    print(f'# {platform.node()}, {platform.processor() or platform.machine()}, Python {platform.python_version()}, '
          f'numpy {np.__version__}, torch {torch.__version__}; seed {args.seed}, {time.strftime("%Y-%m-%d")}')
    print(f'| target | inputs | ok | skip (counted) | error (named, one line) | BAD | seconds |')
    print('|---|---|---|---|---|---|---|')
    bad_total, shown, trials = 0, [], {}
    for target in args.targets:
        start = time.perf_counter()
        results = trials[target] = fuzz(target, args.trials, args.seed, args.timeout)
        counts = Counter(outcome if not outcome.startswith('BAD') else 'BAD' for _, outcome, _ in results)
        bad = [r for r in results if r[1].startswith('BAD')]
        bad_total += len(bad)
        shown.extend((target, *r) for r in bad[:args.show_bad])
        print(f'| {target} | {len(results)} | {counts["ok"]} | {counts["skip"]} | {counts["error"]} | '
              f'{counts["BAD"]} | {time.perf_counter() - start:.0f} |', flush=True)
    for target, kind, outcome, detail in shown:
        print(f'{target}: {kind}: {outcome}: {detail}')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(trials, f, indent=1)
    return 1 if bad_total else 0


if __name__ == '__main__':
    sys.exit(main())
