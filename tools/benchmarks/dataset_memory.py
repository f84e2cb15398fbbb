"""How much memory each DataLoader worker gains while reading the annotations.

Writes a synthetic annotation pickle (default 20,000 samples of 2 x 100 x 25 x 3
float16 keypoints, about 600 MB) to a temporary folder, then, for each of

  (a) a naive dataset holding the loaded list of dicts, and
  (b) ``PoseDataset`` (annotations packed into a few numpy arrays),
  (c) ``PoseDataset(cache=True)`` (the packed arrays memory-mapped from ``.npy`` files),

iterates one epoch with ``--workers`` DataLoader workers (forked, as mmengine's
Runner does) and reads each worker's ``/proc/<pid>/smaps_rollup`` when it
starts and after the epoch. USS (private memory) growth is what copy-on-write
adds to each worker; PSS splits shared pages among the processes sharing them.
Each dataset runs in a fresh Python process so that one does not inherit the
other's heap.

    python tools/benchmarks/dataset_memory.py [--num-samples 20000] [--workers 4]
"""
import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from functools import partial

import numpy as np

from pyskl.utils.process_memory import read_worker_memory, record_worker_memory, smaps_rollup

MiB = 2**20


def write_annotations(path: str, num_samples: int, shape: tuple, dtype: str, two_d: bool = False,
                      seed: int = 0) -> None:
    from pyskl.utils import dump_pickle
    rng = np.random.default_rng(seed)
    M, T, V, C = shape
    C = 2 if two_d else C  # 2D: x, y in keypoint, the score in keypoint_score
    annotations = []
    for i in range(num_samples):
        t = int(rng.integers(T // 2, T + 1))  # lengths vary, as in real data
        sample = dict(frame_dir=f'S{i // 1000 + 1:03d}C001P001R001A{i % 60 + 1:03d}_{i}', label=i % 60,
                      total_frames=t, keypoint=rng.standard_normal((M, t, V, C), dtype=np.float32).astype(dtype))
        if two_d:  # the fields of 2D (HRNet) annotation files
            sample.update(keypoint_score=rng.random((M, t, V), dtype=np.float32).astype(dtype),
                          img_shape=(1080, 1920), original_shape=(1080, 1920))
        annotations.append(sample)
    names = [a['frame_dir'] for a in annotations]
    dump_pickle(dict(split=dict(train=names), annotations=annotations), path)


class NaiveDataset:
    """The annotations as the loaded list of dicts, each item a copy of one dict."""

    def __init__(self, ann_file: str):
        from pyskl.utils import load_pickle
        self.samples = load_pickle(ann_file)['annotations']

    def __len__(self):
        return len(self.samples)

    def __getitem__(self, idx):
        sample = self.samples[idx]
        return dict(sample, keypoint=sample['keypoint'].copy())


def reduce_batch(batch):
    """A tiny batch to send back: the work of reading the samples is what we measure."""
    return sum(float(item['keypoint'][..., 0].sum(dtype=np.float64)) for item in batch)


def measure(kind: str, ann_file: str, workers: int, batch_size: int) -> dict:
    """One epoch over ``kind`` ('naive', 'packed' or 'cached'); runs in its own process."""
    import torch

    from pyskl.datasets import PoseDataset  # imported by both, so that both main processes look alike

    t0 = time.time()
    if kind == 'naive':
        dataset = NaiveDataset(ann_file)
    else:
        dataset = PoseDataset(ann_file, pipeline=[], cache=kind == 'cached')
    gc.collect()
    load_s = time.time() - t0
    main = smaps_rollup('self')
    with tempfile.TemporaryDirectory() as outdir:
        loader = torch.utils.data.DataLoader(
            dataset, batch_size=batch_size, shuffle=True, num_workers=workers, collate_fn=reduce_batch,
            persistent_workers=True, worker_init_fn=partial(record_worker_memory, outdir),
            generator=torch.Generator().manual_seed(0), multiprocessing_context='fork')
        t0 = time.time()
        total = sum(loader)
        epoch_s = time.time() - t0
        per_worker = read_worker_memory(outdir, workers)
        del loader
    return dict(kind=kind, items=len(dataset), load_s=load_s, epoch_s=epoch_s, main=main, workers=per_worker,
                checksum=total)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--num-samples', type=int, default=20000)
    parser.add_argument('--shape', type=int, nargs=4, default=(2, 100, 25, 3), metavar=('M', 'T', 'V', 'C'),
                        help='largest keypoint shape; T varies from T/2 to T per sample')
    parser.add_argument('--dtype', default='float16', choices=['float16', 'float32'])
    parser.add_argument('--two-d', action='store_true',
                        help='2D-style samples: keypoint x, y (C is 2), keypoint_score, img_shape, original_shape')
    parser.add_argument('--workers', type=int, default=4)
    parser.add_argument('--batch-size', type=int, default=32)
    parser.add_argument('--tmpdir', default=None, help='where the synthetic file goes (default: system temp)')
    parser.add_argument('--child', choices=['naive', 'packed', 'cached'], help=argparse.SUPPRESS)
    parser.add_argument('--ann-file', help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:  # one measurement, in a fresh process
        print(json.dumps(measure(args.child, args.ann_file, args.workers, args.batch_size)))
        return

    with tempfile.TemporaryDirectory(dir=args.tmpdir) as tmp:
        ann_file = os.path.join(tmp, 'synthetic_anno.pkl')
        t0 = time.time()
        write_annotations(ann_file, args.num_samples, tuple(args.shape), args.dtype, args.two_d)
        size = os.path.getsize(ann_file)
        print(f'synthetic file: {args.num_samples} {"2D " if args.two_d else ""}samples, '
              f'keypoint up to {tuple(args.shape)} {args.dtype}, '
              f'{size / MiB:.0f} MiB (written in {time.time() - t0:.0f} s)')
        # (c) reads the memory-mapped cache; build it first, as a first run would
        subprocess.run([sys.executable, '-c', 'import sys; from pyskl.datasets import PoseDataset; '
                        'PoseDataset(sys.argv[1], cache=True)', ann_file], check=True, capture_output=True)
        results = {}
        for kind in ('naive', 'packed', 'cached'):
            cmd = [sys.executable, __file__, '--child', kind, '--ann-file', ann_file, '--workers',
                   str(args.workers), '--batch-size', str(args.batch_size)]
            out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
            results[kind] = json.loads(out.strip().splitlines()[-1])

    if len({r['checksum'] for r in results.values()}) != 1:
        raise RuntimeError('the datasets returned different data')
    label = dict(naive='(a) list of dicts', packed='(b) PoseDataset', cached='(c) ... cache=True')
    print(f'\n{args.workers} workers, one epoch of {results["naive"]["items"]} items, batch {args.batch_size}')
    print(f'{"dataset":<20} {"load s":>7} {"epoch s":>8} {"main RSS":>10} {"main anon":>10} '
          f'{"worker USS growth (MiB), each":>34} {"mean":>8} {"PSS growth mean":>16}')
    for kind, r in results.items():
        uss = [w['growth']['uss'] / MiB for w in r['workers']]
        pss = [w['growth']['pss'] / MiB for w in r['workers']]
        print(f'{label[kind]:<20} {r["load_s"]:>7.1f} {r["epoch_s"]:>8.1f} {r["main"]["rss"] / MiB:>8.0f} M '
              f'{r["main"]["anon"] / MiB:>8.0f} M '
              f'{" ".join(f"{u:7.1f}" for u in uss):>34} {np.mean(uss):>8.1f} {np.mean(pss):>14.1f} M')
    a, b, c = (np.mean([w['growth']['uss'] for w in results[k]['workers']]) for k in ('naive', 'packed', 'cached'))
    print(f'\nper-worker USS growth, naive / PoseDataset / PoseDataset(cache=True): {a / MiB:.1f} / '
          f'{b / MiB:.1f} / {c / MiB:.1f} MiB; naive / PoseDataset = {a / max(b, 1):.1f}x; '
          f'file size {size / MiB:.0f} MiB')
    print('main anon: the main process\'s anonymous (heap) memory; the rest of its RSS is file-backed: '
          'libraries, and with cache=True the mapped .npy files, which are page cache shared by every '
          'process that maps them (all ranks of a machine) and which the kernel may drop and re-read.')


if __name__ == '__main__':
    main()
