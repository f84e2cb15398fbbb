"""Training and inference speed of a config's model: the fast against the reference implementation.

Builds the config's model twice with the same weights, once with the fast DG-STGCN layers (the
default) and once with the straightforward reference ones (``backbone.impl='reference'``), and
times them interleaved, so that a machine shared with other work slows both alike. By default
both run in one process. With ``--isolated`` each implementation runs in fresh processes of its
own, alternating: a training process (training steps) and an eval-only process (inference steps),
as ``tools/train.py`` and ``tools/test.py`` run them. The two measure different things on CPU:
in one process both models share one heap, grown by the larger of them, so neither pays for
freshly mapped memory; alone, each pays for its own allocations, as it does in real use.

- training: ``model(x, y, mode='loss')``, ``backward()`` and an SGD step, in samples/s;
- inference: ``model(x, mode='predict')`` in eval mode under ``no_grad``, in clips/s (one clip a sample);
- peak memory: on CPU the peak RSS of a fresh process that builds the model and runs a training
  and an inference step (the median of ``--memory-repeats`` processes per implementation); on
  CUDA ``max_memory_allocated``;
- minor page faults per training step (fresh memory the kernel had to map in; PyTorch's
  ``THP_MEM_ALLOC_ENABLE=1`` puts large tensors in huge pages, the machine line says whether it
  is set);
- the fraction of the machine's GEMM throughput reached: the model's FLOPs (torch's flop counter
  on the reference implementation) per second, over the FLOP/s of a large matrix product
  measured here in the same dtype.

The input is random, of the shape the config trains on (``clip_len`` of ``UniformSampleDecode``,
``num_person`` of ``FormatGCNInput``, the layout's joints, the backbone's ``in_channels``).

    python tools/benchmarks/model_speed.py configs/dgstgcn/ntu60_xsub_3dkp/j.py [--batch 16]
        [--device cpu|cuda] [--amp [--amp-dtype bfloat16|float16]] [--iters 10] [--warmup 2]
        [--impl both|fast|reference] [--infer-only] [--isolated [--rounds 2]] [--reference-float32]
        [--heap retain|glibc] [--reference-heap retain|glibc] [--json OUT]

``--infer-only``: inference steps only, as an eval-only process runs them (no training step has
grown the heap before them). ``PYSKL_CPU_PRODUCT=mm|conv`` chooses the kernel of the fast path's
float32 products on CPU (the machine line says which ran).

``--amp``: bfloat16 autocast on CPU; float16 (with a gradient scaler) or bfloat16 on CUDA.
``--reference-float32`` keeps the reference out of autocast: the fast path with ``--amp`` against
the straightforward model in float32, as the original runs.

``--heap retain`` turns glibc's mmap and heap trimming off in the processes (``retain_freed_memory``),
so that reused memory costs no page faults: the comparison without them. By default glibc keeps
its settings, as in the tools. ``--reference-heap`` sets the reference's heap apart (``--isolated``).
"""
import argparse
import contextlib
import copy
import ctypes
import inspect
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time

import torch

IMPLS = ('fast', 'reference')
nan = float('nan')
PRODUCT_NAMES = {'mm': 'torch.mm (MKL)', 'conv': '1x1 conv2d (oneDNN)'}
MiB = 2**20
HEAP_MODES = ('glibc', 'retain')
HEAP_NAMES = {'glibc': "glibc's defaults (as the tools run)", 'retain': 'freed memory retained'}
M_TRIM_THRESHOLD, M_MMAP_MAX = -1, -4  # mallopt parameters (glibc's malloc.h)


# ---------------------------------------------------------------------------- the model and its input
def load_model_cfg(config: str) -> tuple[dict, tuple[int, int, int, int]]:
    """The config's model dict and the training input shape ``(M, T, V, C)``."""
    from mmengine.config import Config

    from pyskl.models import Graph
    cfg = Config.fromfile(config)
    model_cfg = cfg.model.to_dict() if hasattr(cfg.model, 'to_dict') else copy.deepcopy(dict(cfg.model))
    pipeline = cfg.get('train_pipeline') or []
    clip_len, persons = 100, 2
    for step in pipeline:
        if step.get('type') == 'UniformSampleDecode':
            clip_len = step.get('clip_len', clip_len)
        if step.get('type') == 'FormatGCNInput':
            persons = step.get('num_person', persons)
    backbone = model_cfg['backbone']
    joints = Graph(**backbone['graph_cfg']).A.shape[-1]
    return model_cfg, (persons, clip_len, joints, backbone.get('in_channels', 3))


def supports_impl() -> bool:
    from pyskl.models import DGSTGCN
    return 'impl' in inspect.signature(DGSTGCN.__init__).parameters


def build(model_cfg: dict, impl: str, device: str, state: dict | None = None) -> torch.nn.Module:
    """The model with ``impl`` layers; ``state`` (a state dict) sets its weights."""
    from pyskl.models import build_model
    cfg = copy.deepcopy(model_cfg)
    if supports_impl():
        cfg['backbone']['impl'] = impl
    model = build_model(cfg)
    if state is not None:
        model.load_state_dict(state)
    return model.to(device)


def make_input(shape, batch: int, num_classes: int, device: str, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn((batch, 1) + tuple(shape), generator=g)  # N, num_clips, M, T, V, C
    y = torch.randint(0, num_classes, (batch, ), generator=g)
    return x.to(device), y.to(device)


def retain_freed_memory() -> bool:
    """``--heap retain``: glibc's mmap and heap trimming off for this process, so that freed tensors
    stay mapped and the next ones reuse them instead of faulting their pages in afresh. Returns
    whether it was set (False off glibc).

    Not what the tools do: it took a fast training step about 2 % faster, and its RSS crept up
    by 6 % over 24 steps (freed blocks split by small allocations); it shows how much of a
    comparison is page faults.
    """
    if platform.system() != 'Linux' or platform.libc_ver()[0] != 'glibc':
        return False
    libc = ctypes.CDLL(None)  # the C library this process runs on
    return bool(libc.mallopt(M_MMAP_MAX, 0)) and bool(libc.mallopt(M_TRIM_THRESHOLD, 2**31 - 1))


# ---------------------------------------------------------------------------- one step of each kind
class Runner:
    """Training and inference steps of one model, with the autocast and scaler of the run."""

    def __init__(self, model: torch.nn.Module, device: str, amp_dtype: torch.dtype | None):
        self.model = model
        self.device = device
        self.amp_dtype = amp_dtype
        self.optimizer = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9, nesterov=True,
                                         weight_decay=5e-4)
        fp16_cuda = amp_dtype == torch.float16 and device == 'cuda'
        self.scaler = torch.amp.GradScaler('cuda') if fp16_cuda else None

    def autocast(self):
        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device, dtype=self.amp_dtype)

    def train_step(self, x, y):
        self.model.train()
        self.optimizer.zero_grad(set_to_none=True)
        with self.autocast():
            loss = self.model(x, y, mode='loss')['loss_cls']
        if self.scaler is not None:
            self.scaler.scale(loss).backward()
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            loss.backward()
            self.optimizer.step()
        return loss

    def predict_step(self, x):
        self.model.eval()
        with torch.no_grad(), self.autocast():
            return self.model(x, mode='predict')


def synchronize(device: str):
    if device == 'cuda':
        torch.cuda.synchronize()


def timed(fn, device: str) -> float:
    synchronize(device)
    t0 = time.perf_counter()
    fn()
    synchronize(device)
    return time.perf_counter() - t0


# ---------------------------------------------------------------------------- machine and FLOPs
def gemm_flops_per_s(device: str, dtype: torch.dtype, n: int | None = None, repeats: int = 5) -> float:
    """Best FLOP/s of an ``n x n`` matrix product in ``dtype``."""
    n = n or (8192 if device == 'cuda' else 2048)
    a = torch.randn(n, n, device=device).to(dtype)
    b = torch.randn(n, n, device=device).to(dtype)
    a @ b
    best = min(timed(lambda: a @ b, device) for _ in range(repeats))
    return 2 * n**3 / best


def count_flops(runner: Runner, x, y) -> tuple[float, float]:
    """FLOPs of one training step (forward + backward) and of one inference step, per sample."""
    from torch.utils.flop_counter import FlopCounterMode
    with FlopCounterMode(display=False) as counter:
        runner.model.train()
        with runner.autocast():
            loss = runner.model(x, y, mode='loss')['loss_cls']
        loss.backward()
    train = counter.get_total_flops()
    runner.optimizer.zero_grad(set_to_none=True)
    with FlopCounterMode(display=False) as counter:
        runner.predict_step(x)
    return train / len(x), counter.get_total_flops() / len(x)


def cpu_product() -> str | None:
    """The kernel of the fast path's float32 products on CPU (``pyskl.models.layers.fused``)."""
    try:
        from pyskl.models.layers import fused
    except ImportError:
        return None
    return getattr(fused, 'CPU_PRODUCT', None)


def machine(device: str) -> dict:
    cpu = platform.processor() or platform.machine()
    flags = ''
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name') and cpu in (platform.processor(), platform.machine()):
                    cpu = line.split(':', 1)[1].strip()
                if line.startswith('flags'):
                    flags = line
                    break
    except OSError:
        pass
    bf16 = [f for f in ('avx512_bf16', 'amx_bf16') if f' {f}' in flags]
    info = dict(cpu=cpu, cpu_bf16=bf16, cores=os.cpu_count(), torch_threads=torch.get_num_threads(),
                torch=torch.__version__, python=platform.python_version(),
                huge_pages=os.environ.get('THP_MEM_ALLOC_ENABLE') == '1', cpu_product=cpu_product())
    if device == 'cuda':
        info.update(gpu=torch.cuda.get_device_name(), cuda=torch.version.cuda,
                    cudnn=torch.backends.cudnn.version())
    return info


# ---------------------------------------------------------------------------- peak memory
def heap_of(args, impl: str) -> str:
    """The heap mode ``impl`` runs with: ``--heap``, or ``--reference-heap`` for the reference."""
    return args.reference_heap if impl == 'reference' and args.reference_heap else args.heap


def autocasts(args, impl: str) -> bool:
    """Whether ``impl`` runs under autocast: with ``--amp``, except the reference under ``--reference-float32``."""
    return args.amp and not (impl == 'reference' and args.reference_float32)


def cpu_peak_rss(args, impl: str) -> int:
    """Peak RSS of a fresh process running a training and an inference step of ``impl``."""
    return run_child(args, impl, 'train', iters=1, warmup=0)['peak']


def peak_rss() -> int:
    """This process's peak RSS (``VmHWM``; ``ru_maxrss`` would report the parent's peak, kept across exec)."""
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('VmHWM:'):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def cuda_peak(runner: Runner, x, y) -> dict:
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    base = torch.cuda.memory_allocated()
    runner.train_step(x, y)
    train = torch.cuda.max_memory_allocated()
    torch.cuda.reset_peak_memory_stats()
    runner.predict_step(x)
    return dict(built=base, after_train=train, peak=max(train, torch.cuda.max_memory_allocated()),
                predict=torch.cuda.max_memory_allocated())


# ---------------------------------------------------------------------------- one implementation alone
def child_cmd(args, impl: str, kind: str, iters: int | None = None, warmup: int | None = None) -> list[str]:
    """This script, run as a fresh process that times ``kind`` steps of ``impl`` (``step_child``);
    ``iters``/``warmup`` default to the run's."""
    iters = args.iters if iters is None else iters
    warmup = args.warmup if warmup is None else warmup
    cmd = [sys.executable, __file__, args.config, '--batch', str(args.batch), '--device', args.device,
           '--iters', str(iters), '--warmup', str(warmup), '--step-child', f'{impl}:{kind}']
    if autocasts(args, impl):
        cmd += ['--amp', '--amp-dtype', args.amp_dtype]
    if args.threads:
        cmd += ['--threads', str(args.threads)]
    if args.cudnn_benchmark:
        cmd += ['--cudnn-benchmark']
    return cmd + ['--heap', heap_of(args, impl)]


def step_child(args, amp_dtype):
    """``--step-child IMPL:KIND``: ``--warmup`` then ``--iters`` timed steps of one kind (``train``:
    training, then one inference step as validation would; ``predict``: inference only), with the
    benchmark's weights and input; prints their times, page faults and peak memory as JSON."""
    impl, kind = args.step_child.split(':')
    model_cfg, shape = load_model_cfg(args.config)
    torch.manual_seed(0)
    reference = build(model_cfg, 'reference', 'cpu')
    runner = Runner(build(model_cfg, impl, args.device, reference.state_dict()), args.device, amp_dtype)
    x, y = make_input(shape, args.batch, reference.cls_head.num_classes, args.device)
    del reference
    loss = nan
    if kind == 'train':  # the same weights give the same loss (the predict process stays eval-only)
        loss = runner.model(x, y, mode='loss')['loss_cls'].item()
    step = (lambda: runner.train_step(x, y)) if kind == 'train' else (lambda: runner.predict_step(x))
    times, faults = [], 0
    for i in range(args.warmup + args.iters):
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        dt = timed(step, args.device)
        if i >= args.warmup:
            times.append(dt)
            faults += resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
    if kind == 'train':
        runner.predict_step(x)
    peak = torch.cuda.max_memory_allocated() if args.device == 'cuda' else peak_rss()
    print(json.dumps(dict(times=times, faults=faults, peak=peak, loss=loss)))


def run_child(args, impl: str, kind: str, **steps) -> dict:
    """The JSON that a ``step_child`` process of ``impl`` prints (``steps``: ``iters``, ``warmup``)."""
    out = subprocess.run(child_cmd(args, impl, kind, **steps), check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def time_isolated(args, impls) -> tuple[dict, dict, dict, dict]:
    """Times, page faults, peak memory and loss of each implementation, each kind of step in
    fresh processes of its own, ``--rounds`` rounds alternating who goes first."""
    kinds = ('predict', ) if args.infer_only else ('train', 'predict')
    times = {impl: dict(train=[], predict=[]) for impl in impls}
    faults = {impl: 0 for impl in impls}
    peaks = {impl: [] for impl in impls}
    losses = {impl: nan for impl in impls}
    for r in range(args.rounds):
        order = impls if r % 2 == 0 else impls[::-1]
        for kind in kinds:
            for impl in order:
                run = run_child(args, impl, kind)
                times[impl][kind] += run['times']
                if kind == 'train':
                    faults[impl] += run['faults']
                    losses[impl] = run['loss']
                if kind == kinds[0]:  # the training process: its peak covers a validation step too
                    peaks[impl].append(run['peak'])
    steps = args.rounds * args.iters
    memory = {impl: dict(peak=statistics.median(p), peaks=p) for impl, p in peaks.items()}
    return times, {impl: f / steps for impl, f in faults.items()}, memory, losses


# ---------------------------------------------------------------------------- the benchmark
def time_in_process(args, impls, model_cfg, shape, amp_dtype) -> tuple[dict, dict, dict, dict]:
    """Times, page faults, peak memory and loss of each implementation, all in this process."""
    device = args.device
    torch.manual_seed(0)
    reference = build(model_cfg, 'reference', 'cpu')
    state = copy.deepcopy(reference.state_dict())
    runners = {impl: Runner(build(model_cfg, impl, device, state), device, amp_dtype if autocasts(args, impl) else None)
               for impl in impls}
    x, y = make_input(shape, args.batch, reference.cls_head.num_classes, device)
    del reference

    # the same weights give the same loss (to rounding), or the comparison is void
    losses = {impl: runners[impl].model(x, y, mode='loss')['loss_cls'].item() for impl in impls}

    for _ in range(args.warmup):
        for impl in impls:
            if not args.infer_only:
                runners[impl].train_step(x, y)
            runners[impl].predict_step(x)
    times = {impl: dict(train=[], predict=[]) for impl in impls}
    faults = {impl: 0 for impl in impls}  # minor page faults in the timed training steps
    for i in range(args.iters):
        order = impls if i % 2 == 0 else impls[::-1]  # interleaved, alternating who goes first
        for impl in order if not args.infer_only else ():
            before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            times[impl]['train'].append(timed(lambda: runners[impl].train_step(x, y), device))
            faults[impl] += resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
        for impl in order:
            times[impl]['predict'].append(timed(lambda: runners[impl].predict_step(x), device))

    if args.no_memory or args.infer_only:
        memory = {impl: dict(peak=nan) for impl in impls}
    elif device == 'cuda':
        memory = {impl: cuda_peak(runners[impl], x, y) for impl in impls}
    else:
        # peak RSS varies by +-100 MiB between fresh processes (threads' buffers, heap layout):
        # the median of --memory-repeats processes per implementation, alternating
        peaks = {impl: [] for impl in impls}
        for _ in range(args.memory_repeats):
            for impl in impls:
                peaks[impl].append(cpu_peak_rss(args, impl))
        memory = {impl: dict(peak=statistics.median(p), peaks=p) for impl, p in peaks.items()}
    return times, {impl: f / args.iters for impl, f in faults.items()}, memory, losses


def benchmark(args) -> dict:
    device = args.device
    amp_dtype = getattr(torch, args.amp_dtype) if args.amp else None
    if args.cudnn_benchmark:
        torch.backends.cudnn.benchmark = True
    impls = IMPLS if args.impl == 'both' else (args.impl, )
    model_cfg, shape = load_model_cfg(args.config)
    if args.isolated:
        times, faults, memory, losses = time_isolated(args, impls)
    else:
        times, faults, memory, losses = time_in_process(args, impls, model_cfg, shape, amp_dtype)

    # FLOPs of the reference (FLOPs grow linearly with the batch: counted on two samples)
    torch.manual_seed(0)
    flops_runner = Runner(build(model_cfg, 'reference', device), device, amp_dtype)
    x, y = make_input(shape, 2, flops_runner.model.cls_head.num_classes, device)
    train_flops, predict_flops = count_flops(flops_runner, x, y)
    del flops_runner
    gemm = gemm_flops_per_s(device, amp_dtype or torch.float32)
    gemms = {impl: gemm if autocasts(args, impl) or not args.amp else gemm_flops_per_s(device, torch.float32)
             for impl in impls}

    results = {}
    for impl in impls:
        train_s = statistics.median(times[impl]['train']) if times[impl]['train'] else nan
        predict_s = statistics.median(times[impl]['predict'])
        results[impl] = dict(
            train_samples_per_s=args.batch / train_s, predict_clips_per_s=args.batch / predict_s,
            train_step_s=train_s, predict_step_s=predict_s, train_times_s=times[impl]['train'],
            predict_times_s=times[impl]['predict'], loss=losses[impl],
            train_gemm_fraction=train_flops * args.batch / train_s / gemms[impl],
            predict_gemm_fraction=predict_flops * args.batch / predict_s / gemms[impl], memory=memory[impl],
            train_page_faults_per_step=faults[impl])
    out = dict(config=args.config, device=device, amp=args.amp_dtype if args.amp else None,
               reference_float32=bool(args.amp and args.reference_float32), batch=args.batch,
               input_shape=dict(zip('MTVC', shape)), iters=args.iters, warmup=args.warmup, isolated=args.isolated,
               rounds=args.rounds if args.isolated else 1, machine=machine(device),
               heap={impl: heap_of(args, impl) for impl in impls},
               fast_impl_available=supports_impl(), gemm_gflops=gemm / 1e9,
               train_gflop_per_sample=train_flops / 1e9, predict_gflop_per_clip=predict_flops / 1e9,
               results=results)
    if len(impls) == 2:
        f, r = results['fast'], results['reference']
        out['ratio'] = dict(train=f['train_samples_per_s'] / r['train_samples_per_s'],
                            predict=f['predict_clips_per_s'] / r['predict_clips_per_s'],
                            peak_memory=f['memory']['peak'] / r['memory']['peak'],
                            # the fastest step of each: the least disturbed by other load on the machine
                            train_best=min(r['train_times_s'], default=nan) / min(f['train_times_s'], default=nan),
                            predict_best=min(r['predict_times_s']) / min(f['predict_times_s']))
    return out


def report(out: dict) -> str:
    m = out['machine']
    where = m.get('gpu') or f"{m['cpu']}, {m['torch_threads']} threads of {m['cores']} cores"
    shape = out['input_shape']
    lines = [
        f"{out['config']}: batch {out['batch']}, {shape['M']} persons x {shape['T']} frames x {shape['V']} joints "
        f"x {shape['C']} channels, {out['device']}, {out['amp'] or 'float32'}"
        + (' (the reference in float32)' if out.get('reference_float32') else ''),
        f"machine: {where}; torch {m['torch']}" + (f", CUDA {m['cuda']}" if 'cuda' in m else '') +
        (f"; CPU bf16: {', '.join(m['cpu_bf16']) or 'no'}; huge pages "
         f"{'on (THP_MEM_ALLOC_ENABLE=1)' if m.get('huge_pages') else 'off'}"
         + (f"; float32 products: {PRODUCT_NAMES.get(m['cpu_product'], m['cpu_product'])}"
            if m.get('cpu_product') else '')
         if out['device'] == 'cpu' else ''),
        "heap: " + ', '.join(f"{impl} {HEAP_NAMES[mode]}" for impl, mode in out['heap'].items()),
        f"model: {out['train_gflop_per_sample']:.2f} GFLOP per training sample (forward + backward), "
        f"{out['predict_gflop_per_clip']:.2f} GFLOP per inference clip; GEMM {out['gemm_gflops']:.0f} GFLOP/s "
        f"({out['amp'] or 'float32'})",
        (f"{out['iters']} timed steps each (median), after {out['warmup']} warm-up; fast and reference interleaved"
         if not out.get('isolated') else
         f"each implementation in fresh processes of its own (a training one, an eval-only one), alternating: "
         f"{out['rounds']} rounds x {out['iters']} timed steps (median), after {out['warmup']} warm-up each"),
        f"{'impl':<10} {'train samples/s':>16} {'infer clips/s':>14} {'train GEMM %':>13} {'infer GEMM %':>13} "
        f"{'peak MiB':>9} {'faults/step':>12} {'loss':>10}",
    ]
    mem_label = 'peak RSS' if out['device'] == 'cpu' else 'max_memory_allocated'
    for impl, r in out['results'].items():
        lines.append(f"{impl:<10} {r['train_samples_per_s']:>16.2f} {r['predict_clips_per_s']:>14.2f} "
                     f"{100 * r['train_gemm_fraction']:>12.1f}% {100 * r['predict_gemm_fraction']:>12.1f}% "
                     f"{r['memory']['peak'] / MiB:>9.0f} {r['train_page_faults_per_step']:>12.0f} {r['loss']:>10.5f}")
    if 'ratio' in out:
        ratio = out['ratio']
        lines.append(f"fast / reference: training x{ratio['train']:.2f}, inference x{ratio['predict']:.2f}, "
                     f"{mem_label} x{ratio['peak_memory']:.2f} (medians); fastest step of each: training "
                     f"x{ratio['train_best']:.2f}, inference x{ratio['predict_best']:.2f}")
    if not out['fast_impl_available']:
        lines.append('(this checkout has no reference implementation: both rows ran the current code)')
    return '\n'.join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config')
    parser.add_argument('--batch', type=int, default=16)
    parser.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    parser.add_argument('--amp', action='store_true', help='autocast: bfloat16 on CPU, --amp-dtype on CUDA')
    parser.add_argument('--amp-dtype', choices=['bfloat16', 'float16'], default=None,
                        help='default: bfloat16 on CPU, float16 on CUDA')
    parser.add_argument('--iters', type=int, default=10, help='timed steps of each kind per implementation')
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--impl', default='both', choices=['both', *IMPLS])
    parser.add_argument('--threads', type=int, default=None, help='torch.set_num_threads (default: torch\'s)')
    parser.add_argument('--cudnn-benchmark', action='store_true', help='torch.backends.cudnn.benchmark = True')
    parser.add_argument('--no-memory', action='store_true', help='skip the peak-memory measurement')
    parser.add_argument('--infer-only', action='store_true',
                        help='time inference only, as in an eval-only process (tools/test.py, the inference API), '
                             'where no training step has grown the heap; no peak memory')
    parser.add_argument('--memory-repeats', type=int, default=3,
                        help='fresh processes per implementation for the CPU peak RSS (median reported)')
    parser.add_argument('--json', default=None, help='also write the figures to this JSON file')
    parser.add_argument('--isolated', action='store_true',
                        help='time each implementation in fresh processes of its own, alternating (training '
                             'steps in one, inference steps in an eval-only one), as real runs use memory; the '
                             'peak memory is the training process\'s')
    parser.add_argument('--reference-float32', action='store_true',
                        help='with --amp: the reference runs without autocast (the fast path under autocast against '
                             'the original in float32); GEMM %% against float32 GEMM for it')
    parser.add_argument('--rounds', type=int, default=2, help='--isolated: processes per implementation and kind')
    parser.add_argument('--heap', choices=HEAP_MODES, default='glibc',
                        help='the processes\' heap: "glibc" (its defaults, as the tools run) or "retain" (freed '
                             'memory kept for the next tensors: no page faults for reused memory)')
    parser.add_argument('--reference-heap', choices=HEAP_MODES, default=None,
                        help='with --isolated: the reference\'s heap (default: --heap)')
    parser.add_argument('--step-child', default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.amp_dtype is None:
        args.amp_dtype = 'float16' if args.device == 'cuda' else 'bfloat16'
    if args.device == 'cpu' and args.amp_dtype == 'float16':
        parser.error('--amp-dtype float16 is for CUDA; CPU autocast runs in bfloat16')
    if args.device == 'cuda' and not torch.cuda.is_available():
        parser.error('--device cuda: torch sees no CUDA device')
    if args.reference_float32 and not args.amp:
        parser.error('--reference-float32 compares against --amp: give --amp too')
    if args.reference_heap and not (args.isolated or args.step_child):
        parser.error('--reference-heap needs --isolated: in one process both implementations share one heap')
    if args.iters < 1 or args.warmup < 0 or args.batch < 1 or args.rounds < 1:
        parser.error('--iters, --batch and --rounds must be >= 1, --warmup >= 0')
    return args


def main(argv=None):
    args = parse_args(argv)
    # this process's heap (a step child's: its implementation's)
    if args.heap == 'retain' and not retain_freed_memory():
        sys.exit('--heap retain sets glibc\'s malloc (mallopt), and this process does not run on glibc')
    if args.threads:
        torch.set_num_threads(args.threads)
    amp_dtype = getattr(torch, args.amp_dtype) if args.amp else None
    if args.step_child:
        step_child(args, amp_dtype)
        return
    out = benchmark(args)
    print(report(out))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(out, f, indent=1)


if __name__ == '__main__':
    main()
