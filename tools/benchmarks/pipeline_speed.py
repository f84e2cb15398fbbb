"""Samples per second one DataLoader worker gets through a config's data pipelines.

A worker runs the pipeline on one sample after another in one process, so the rate of one
process running it is the rate of one worker. For each pipeline this prints samples/s (and clips/s
for test pipelines with several clips a sample) and the time of each transform, then how many
workers keep up with a model: ``workers per GPU = model samples/s / worker samples/s``.

Samples: NTU-shaped synthetic skeletons (2 persons, 25 joints, 3D, lengths drawn from 32-300
frames, the second person absent in a third of them) for NTU configs, or the samples of an
annotation file (``--ann-file``, e.g. NW-UCLA converted by tools/data/nwucla_preproc.py).

    python tools/benchmarks/pipeline_speed.py configs/dgstgcn/ntu60_xsub_3dkp/j.py
    python tools/benchmarks/pipeline_speed.py configs/dgstgcn/nwucla_xview/j_cpu.py --ann-file nwucla.pkl
        [--samples 200] [--model-samples-per-s 200] [--gpus 8]
"""
import argparse
import copy
import math
import platform
import time

import numpy as np


def synthetic_ntu(num: int, seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    samples = []
    for i in range(num):
        t = int(rng.integers(32, 301))
        kp = rng.standard_normal((2, t, 25, 3)).astype(np.float32) * 0.3
        kp[..., 2] += 3.0  # in front of the camera, as Kinect data
        if i % 3 == 0:
            kp[1] = 0  # one person
        samples.append(dict(frame_dir=f'S001C001P001R001A{i % 60 + 1:03d}', label=i % 60, total_frames=t,
                            keypoint=kp))
    return samples


def annotation_samples(ann_file: str, num: int) -> list[dict]:
    from pyskl.utils import load_pickle
    annotations = load_pickle(ann_file)['annotations']
    return [annotations[i % len(annotations)] for i in range(num)]


def time_pipeline(pipeline_cfg: list, samples: list[dict], test_mode: bool) -> dict:
    """Samples/s of the whole pipeline, and the seconds spent in each transform."""
    from pyskl.datasets.transforms import Compose
    pipeline = Compose(copy.deepcopy(pipeline_cfg))
    per_transform = np.zeros(len(pipeline.transforms))
    clips = 0
    start = time.perf_counter()
    for sample in samples:
        results = dict(copy.copy(sample), test_mode=test_mode, start_index=0)
        results['keypoint'] = sample['keypoint'].copy()
        for j, t in enumerate(pipeline.transforms):
            t0 = time.perf_counter()
            results = t(results)
            per_transform[j] += time.perf_counter() - t0
        clips += results['keypoint'].shape[0]
    total = time.perf_counter() - start
    return dict(samples_per_s=len(samples) / total, clips_per_sample=clips / len(samples),
                transforms=[(type(t).__name__, s / len(samples) * 1e3) for t, s in zip(pipeline.transforms, per_transform)])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config')
    parser.add_argument('--ann-file', help='real samples (default: NTU-shaped synthetic ones)')
    parser.add_argument('--samples', type=int, default=200)
    parser.add_argument('--model-samples-per-s', type=float, default=None,
                        help='training samples/s of the model on one GPU (tools/benchmarks/model_speed.py)')
    parser.add_argument('--gpus', type=int, default=8)
    args = parser.parse_args(argv)

    from mmengine.config import Config
    cfg = Config.fromfile(args.config)
    samples = annotation_samples(args.ann_file, args.samples) if args.ann_file else synthetic_ntu(args.samples)
    print(f'{args.config}: {args.samples} {"samples of " + args.ann_file if args.ann_file else "synthetic NTU samples"}'
          f'; one process (= one DataLoader worker), {platform.processor() or platform.machine()}')
    rates = {}
    for name, test_mode in (('train_pipeline', False), ('test_pipeline', True)):
        if name not in cfg:
            continue
        r = time_pipeline(cfg[name], samples, test_mode)
        rates[name] = r['samples_per_s']
        print(f'{name}: {r["samples_per_s"]:.0f} samples/s per worker ({r["clips_per_sample"]:.0f} clips a sample, '
              f'{r["samples_per_s"] * r["clips_per_sample"]:.0f} clips/s)')
        print('    ms per sample: ' + ', '.join(f'{n} {ms:.2f}' for n, ms in r['transforms']))
    if args.model_samples_per_s and 'train_pipeline' in rates:
        per_gpu = math.ceil(args.model_samples_per_s / rates['train_pipeline'])
        print(f'training at {args.model_samples_per_s:.0f} samples/s per GPU needs {per_gpu} worker(s) per GPU, '
              f'{per_gpu * args.gpus} for {args.gpus} GPUs')


if __name__ == '__main__':
    main()
