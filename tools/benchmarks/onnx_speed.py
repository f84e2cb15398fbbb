"""Inference speed on the CPU: onnxruntime next to PyTorch, for the NTU shape.

Exports the network of a config (default: NTU-60 joint, random weights: speed does not
depend on them) with :func:`pyskl.deployment.export_onnx`, then times PyTorch (eval,
``torch.inference_mode``) and onnxruntime on the same inputs, ``N`` clips of 2 persons x 100
frames x 25 joints x 3 (a clip is what the test pipeline gives; an NTU test sample is 10),
both with the same number of threads, in one run, and prints clips/s and the ratio.

    python tools/benchmarks/onnx_speed.py [--config configs/dgstgcn/ntu60_xsub_3dkp/j.py]
        [--batch-sizes 1 10] [--threads N] [--seconds 10]
"""
import argparse
import os
import platform
import tempfile
import time

import numpy as np
import torch


def clips_per_second(run, x: np.ndarray, seconds: float) -> float:
    run(x)  # warm-up (allocations, onnxruntime's first-run optimisations)
    done, start = 0, time.perf_counter()
    while True:
        run(x)
        done += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds and done >= 3:
            return done * len(x) / elapsed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--config', default='configs/dgstgcn/ntu60_xsub_3dkp/j.py')
    parser.add_argument('--batch-sizes', type=int, nargs='+', default=[1, 10], help='clips per call')
    parser.add_argument('--threads', type=int, default=torch.get_num_threads(), help='threads for both')
    parser.add_argument('--seconds', type=float, default=10, help='timing per measurement')
    args = parser.parse_args(argv)

    import onnxruntime as ort

    from pyskl.apis import init_recognizer
    from pyskl.apis.inference import clip_layout
    from pyskl.deployment import ScoresNet, export_onnx

    torch.set_num_threads(args.threads)
    model = init_recognizer(args.config)
    net = ScoresNet(model).eval()
    lay = clip_layout(model)
    shape = (lay['persons'], lay['frames'], lay['joints'], lay['channels'])
    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.inter_op_num_threads = 1
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, 'model.onnx')
        export_onnx(net, torch.zeros((2, ) + shape), path)
        session = ort.InferenceSession(path, options, providers=['CPUExecutionProvider'])

    def run_torch(x):
        with torch.inference_mode():
            return net(torch.from_numpy(x)).numpy()

    def run_ort(x):
        return session.run(None, {'keypoint': x})[0]

    machine = platform.processor() or platform.machine()
    print(f'{args.config}: clips of {" x ".join(map(str, shape))} (M x T x V x C); {machine}, {os.cpu_count()} cores, '
          f'{args.threads} threads, load average {os.getloadavg()[0]:.1f}; torch {torch.__version__}, '
          f'onnxruntime {ort.__version__}')
    print(f'{"clips/call":>10} {"PyTorch clips/s":>16} {"onnxruntime clips/s":>20} {"ratio":>6} {"max abs diff":>13}')
    rng = np.random.default_rng(0)
    for n in args.batch_sizes:
        x = rng.standard_normal((n, ) + shape).astype(np.float32)
        diff = float(np.abs(run_ort(x) - run_torch(x)).max())
        pt = clips_per_second(run_torch, x, args.seconds)
        ox = clips_per_second(run_ort, x, args.seconds)
        print(f'{n:>10} {pt:>16.1f} {ox:>20.1f} {ox / pt:>6.2f} {diff:>13.1e}')


if __name__ == '__main__':
    main()
