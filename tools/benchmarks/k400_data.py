"""Kinetics-400 data at full scale: the kpfile cache against reading the kpfiles directly.

Writes synthetic data in the original's compressed form (default 50,000 videos of 300
frames, 0-5 person boxes a frame, COCO-17, float16, in 500 kpfiles; about 4 GB) with
``pyskl.datasets.synthetic_kinetics``, then measures, each in a fresh process:

  - the cache build (``tools/data/k400_cache.py``: every core, each kpfile read once);
  - samples/s of one DataLoader worker running the k400_hrnet j.py training pipeline,
    from the cache and from the kpfiles directly (``cache=False``: each sample loads
    its kpfile);
  - memory of each of ``--workers`` workers (forked, as the Runner does) after reading
    ``--memory-samples`` random samples: growth of RSS, PSS and USS (private memory)
    from ``/proc/<pid>/smaps_rollup``. RSS counts the mapped cache's page-cache pages,
    shared by every process of the machine; USS is what a worker holds alone;
  - the training step of the j.py model on this machine's CPU (``model_speed.py``), for scale.

    python tools/benchmarks/k400_data.py [--num-videos 50000] [--tmpdir /tmp] [--keep DIR]
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from functools import partial

import numpy as np

from pyskl.utils.process_memory import read_worker_memory, record_worker_memory, smaps_rollup

MiB = 2**20
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONFIG = os.path.join(REPO, 'configs', 'dgstgcn', 'k400_hrnet', 'j.py')


def _dataset(ann_file, kpfile_dir, cached):
    from mmengine import Config

    from pyskl.datasets import PoseDataset
    cfg = Config.fromfile(CONFIG)
    train = cfg.data.train
    return PoseDataset(ann_file, pipeline=train.pipeline, split='train', kpfile_dir=kpfile_dir, cache=cached,
                       box_thr=train.box_thr, valid_ratio=train.valid_ratio)


def _loader(dataset, workers, num_samples, outdir=None, batch_size=16):
    import torch
    from mmengine.dataset import default_collate
    sampler = torch.utils.data.RandomSampler(dataset, num_samples=num_samples,
                                             generator=torch.Generator().manual_seed(0))
    return torch.utils.data.DataLoader(
        dataset, batch_size=batch_size, sampler=sampler, num_workers=workers, collate_fn=default_collate,
        persistent_workers=True, multiprocessing_context='fork',
        worker_init_fn=partial(record_worker_memory, outdir) if outdir else None)


def measure(kind, ann_file, kpfile_dir, speed_samples, workers, memory_samples):
    """Throughput of one worker, then memory of ``workers`` workers; in its own process."""
    cached = kind == 'cached'
    import torch  # noqa: F401 (imports are not part of the load time)
    from pyskl.datasets import PoseDataset  # noqa: F401
    t0 = time.time()
    dataset = _dataset(ann_file, kpfile_dir, cached)
    load_s = time.time() - t0
    loader = _loader(dataset, 1, speed_samples + 16)
    it = iter(loader)
    next(it)  # the worker starts, the first batch is out
    t0 = time.time()
    n = sum(len(batch['label']) for batch in it)
    speed = n / (time.time() - t0)
    del it, loader
    with tempfile.TemporaryDirectory() as outdir:
        loader = _loader(dataset, workers, memory_samples, outdir)
        t0 = time.time()
        n = sum(len(batch['label']) for batch in loader)
        epoch_s = time.time() - t0
        growth = [w['growth'] for w in read_worker_memory(outdir, workers)]
        del loader
    return dict(kind=kind, items=len(dataset), load_s=load_s, samples_per_s=speed, epoch_s=epoch_s,
                epoch_items=n, growth=growth, main=smaps_rollup('self'))


def model_speed(batch_size=16):
    """Training samples/s of the j.py model on this CPU (``model_speed.py``, the fast path only)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, 'speed.json')
        subprocess.run([sys.executable, os.path.join(REPO, 'tools', 'benchmarks', 'model_speed.py'), CONFIG,
                        '--impl', 'fast', '--batch', str(batch_size), '--iters', '3', '--warmup', '1', '--no-memory',
                        '--json', out], check=True, capture_output=True, cwd=REPO)
        with open(out) as f:
            return json.load(f)['results']['fast']['train_samples_per_s']


def _child(args):
    print(json.dumps(measure(args.child, args.ann_file, args.kpfile_dir, args.speed_samples[args.child],
                             args.workers, args.memory_samples[args.child])))


def _run_child(kind, args, ann_file, kpfile_dir):
    cmd = [sys.executable, __file__, '--child', kind, '--ann-file', ann_file, '--kpfile-dir', kpfile_dir,
           '--workers', str(args.workers), '--speed-samples', *map(str, args.speed_samples),
           '--memory-samples', *map(str, args.memory_samples)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=REPO))
    if proc.returncode:
        raise RuntimeError(f'{kind} measurement failed:\n{proc.stderr[-3000:]}')
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--num-videos', type=int, default=50000)
    parser.add_argument('--num-kpfiles', type=int, default=500)
    parser.add_argument('--frames', type=int, default=300)
    parser.add_argument('--max-boxes', type=int, default=5)
    parser.add_argument('--workers', type=int, default=4, help='DataLoader workers of the memory measurement')
    parser.add_argument('--speed-samples', type=int, nargs=2, default=(2000, 200), metavar=('CACHED', 'DIRECT'),
                        help='samples timed through one worker')
    parser.add_argument('--memory-samples', type=int, nargs=2, default=(8000, 400), metavar=('CACHED', 'DIRECT'),
                        help='random samples read by the workers of the memory measurement')
    parser.add_argument('--tmpdir', default=None, help='where the synthetic data goes (default: system temp)')
    parser.add_argument('--keep', default=None, help='a folder to write the data to (or reuse it from) and keep')
    parser.add_argument('--child', choices=['cached', 'direct'], help=argparse.SUPPRESS)
    parser.add_argument('--ann-file', help=argparse.SUPPRESS)
    parser.add_argument('--kpfile-dir', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        args.speed_samples = dict(cached=args.speed_samples[0], direct=args.speed_samples[1])
        args.memory_samples = dict(cached=args.memory_samples[0], direct=args.memory_samples[1])
        return _child(args)

    import torch

    from pyskl.datasets.synthetic_kinetics import write_synthetic_kinetics
    cores = len(os.sched_getaffinity(0))
    print(f'{platform.processor() or platform.machine()}, {cores} cores, torch {torch.__version__}, '
          f'python {platform.python_version()}')
    tmp = None if args.keep else tempfile.TemporaryDirectory(dir=args.tmpdir)
    folder = args.keep or tmp.name
    ann_file = os.path.join(folder, 'k400_hrnet.pkl')
    kpfile_dir = os.path.join(folder, 'kpfiles')
    try:
        if not os.path.exists(ann_file):
            t0 = time.time()
            write_synthetic_kinetics(folder, args.num_videos, args.num_kpfiles, args.frames, args.max_boxes,
                                     num_workers=cores)
            print(f'wrote the synthetic data in {time.time() - t0:.0f} s')
        kp_bytes = sum(os.path.getsize(os.path.join(kpfile_dir, f)) for f in os.listdir(kpfile_dir))
        print(f'{args.num_videos} videos x {args.frames} frames, 0-{args.max_boxes} boxes a frame, 17 joints: '
              f'annotation file {os.path.getsize(ann_file) / MiB:.0f} MiB, {len(os.listdir(kpfile_dir))} kpfiles '
              f'{kp_bytes / 2**30:.2f} GiB')

        cache = ann_file + '.cache'
        if os.path.exists(cache):
            subprocess.run(['rm', '-rf', cache], check=True)
        t0 = time.time()
        subprocess.run([sys.executable, os.path.join(REPO, 'tools', 'data', 'k400_cache.py'), ann_file, kpfile_dir],
                       check=True, stdout=subprocess.DEVNULL, env=dict(os.environ, PYTHONPATH=REPO))
        build_s = time.time() - t0
        cache_bytes = sum(os.path.getsize(os.path.join(cache, f)) for f in os.listdir(cache))
        print(f'cache build (tools/data/k400_cache.py, {cores} processes): {build_s:.0f} s, '
              f'{cache_bytes / 2**30:.2f} GiB')
        t0 = time.time()
        subprocess.run([sys.executable, '-c', 'import sys; from pyskl.datasets import PoseDataset; '
                        'PoseDataset(sys.argv[1], kpfile_dir=sys.argv[2], cache=True)', ann_file, kpfile_dir],
                       check=True, capture_output=True, env=dict(os.environ, PYTHONPATH=REPO))
        print(f'a later start with the cache built (a new process, imports included): {time.time() - t0:.1f} s')
        print(f'load average during the run so far: {os.getloadavg()}')

        results = {kind: _run_child(kind, args, ann_file, kpfile_dir) for kind in ('cached', 'direct')}
        model_samples_per_s = model_speed()
    finally:
        if tmp is not None:
            tmp.cleanup()

    print(f'\ntraining pipeline of {os.path.relpath(CONFIG, REPO)} (train split, {results["cached"]["items"]} videos)')
    print(f'{"path":<16} {"dataset load s":>14} {"samples/s, 1 worker":>20} '
          f'{"per-worker growth with " + str(args.workers) + " workers (MiB): RSS / PSS / USS / anon":>62}')
    for kind, r in results.items():
        g = {k: np.mean([w[k] for w in r['growth']]) / MiB for k in ('rss', 'pss', 'uss', 'anon')}
        label = 'cache' if kind == 'cached' else 'direct kpfiles'
        print(f'{label:<16} {r["load_s"]:>14.1f} {r["samples_per_s"]:>20.1f} '
              f'{g["rss"]:>32.1f} / {g["pss"]:.1f} / {g["uss"]:.1f} / {g["anon"]:.1f}'
              f'   (after {r["epoch_items"] // args.workers} samples each)')
    for kind, r in results.items():
        print(f'{"cache" if kind == "cached" else "direct kpfiles"}: {args.workers} workers together '
              f'{r["epoch_items"] / r["epoch_s"]:.1f} samples/s on {cores} cores')
    ratio = results['cached']['samples_per_s'] / results['direct']['samples_per_s']
    print(f'cache / direct samples/s: {ratio:.1f}x')
    print(f'model training step on this CPU (batch 16): {model_samples_per_s:.1f} samples/s')
    print(f'load average at the end: {os.getloadavg()}')


if __name__ == '__main__':
    main()
