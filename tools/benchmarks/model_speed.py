"""Training and inference speed of a config's model; the fast path against the readable one.

Runs any config whose backbone is registered; its first lines name the model (the backbone's
type) and the config. When the backbone's constructor takes ``impl``, the model is built twice
with the same weights, with the fast layers (the default) and with the readable reference ones
(``impl='reference'``), and the two are timed interleaved, so that a machine shared with other
work slows both alike. Otherwise the one implementation is measured, and the report says so.

By default everything runs in one process. With ``--isolated`` each implementation runs in fresh
processes of its own, alternating: a training process (training steps) and an eval-only process
(inference steps), as ``tools/train.py`` and ``tools/test.py`` run them. On CPU the two differ:
in one process both models share one heap, grown by the larger of them; alone, each pays for
its own fresh memory, as in real use.

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

The input is random, of the shape the config's test pipeline gives the network per clip
(``pyskl.apis.inference.clip_layout``: persons, frames, the layout's joints, the backbone's
``in_channels``).

    python tools/benchmarks/model_speed.py configs/dgstgcn/ntu60_xsub_3dkp/j.py [--batch 16]
        [--device cpu|cuda] [--amp [--amp-dtype bfloat16|float16]] [--iters 10] [--warmup 2]
        [--impl both|fast|reference] [--infer-only] [--isolated [--rounds 2]] [--reference-float32]
        [--json OUT]

``--infer-only``: inference steps only, as an eval-only process runs them (no training step has
grown the heap before them). ``PYSKL_CPU_PRODUCT=mm|conv`` chooses the kernel of DG-STGCN's fast
float32 products on CPU (the machine line says which ran).

``--amp``: bfloat16 autocast on CPU; float16 (with a gradient scaler) or bfloat16 on CUDA.
``--reference-float32`` keeps the reference out of autocast: the fast path with ``--amp`` against
the readable model in float32, as the original runs.
"""
import argparse
import contextlib
import copy
import inspect
import json
import logging
import os
import platform
import resource
import statistics
import subprocess
import sys
import time

import torch

IMPLS = ('fast', 'reference')
ONLY = 'default'  # the one implementation of a backbone that takes no impl
nan = float('nan')
PRODUCT_NAMES = {'mm': 'torch.mm (MKL)', 'conv': '1x1 conv2d (oneDNN)'}
MiB = 2**20


# ---------------------------------------------------------------------------- the model and its input
class Model:
    """What the benchmark needs of a config: its model dict (translated as the tools translate
    it), its backbone's type, whether that takes ``impl``, and the clip shape ``(M, T, V, C)``."""

    def __init__(self, config: str):
        from mmengine.logging import MMLogger

        from pyskl.apis import init_recognizer
        from pyskl.apis.inference import clip_layout
        from pyskl.registry import MODELS
        logger = MMLogger.get_current_instance()
        level = logger.level
        logger.setLevel(logging.ERROR)  # a missing label map (class names) does not matter here
        try:
            recognizer = init_recognizer(config)
        finally:
            logger.setLevel(level)
        layout = clip_layout(recognizer)
        self.cfg = recognizer.cfg.model.to_dict()
        self.shape = (layout['persons'], layout['frames'], layout['joints'], layout['channels'])
        self.num_classes = recognizer.cls_head.num_classes
        self.backbone = self.cfg['backbone']['type']
        self.has_impl = 'impl' in inspect.signature(MODELS.get(self.backbone)).parameters

    @property
    def impls(self) -> tuple[str, ...]:
        """The implementations the backbone has."""
        return IMPLS if self.has_impl else (ONLY, )

    @property
    def oracle(self) -> str:
        """The implementation whose FLOPs are counted: the readable one where there are two."""
        return 'reference' if self.has_impl else ONLY

    def build(self, impl: str, device: str, state: dict | None = None) -> torch.nn.Module:
        """The model with ``impl`` layers; ``state`` (a state dict) sets its weights."""
        from pyskl.models import build_model
        cfg = copy.deepcopy(self.cfg)
        if impl != ONLY:
            cfg['backbone']['impl'] = impl
        model = build_model(cfg)
        if state is not None:
            model.load_state_dict(state)
        return model.to(device)

    def weights(self) -> dict:
        """The weights every implementation runs with (the same in every process: seeded)."""
        torch.manual_seed(0)
        return self.build(self.oracle, 'cpu').state_dict()

    def batch(self, batch: int, device: str, seed: int = 0):
        g = torch.Generator().manual_seed(seed)
        x = torch.randn((batch, 1) + self.shape, generator=g)  # N, num_clips, M, T, V, C
        y = torch.randint(0, self.num_classes, (batch, ), generator=g)
        return x.to(device), y.to(device)


def implementations(args, model: Model) -> tuple[str, ...]:
    """The implementations to time (``--impl``); exits with one line where the model has no such choice."""
    if not model.has_impl:
        if args.impl != 'both' or args.reference_float32:
            option = '--reference-float32' if args.reference_float32 else f'--impl {args.impl}'
            sys.exit(f'{option}: {model.backbone} has one implementation (its constructor takes no impl)')
        return (ONLY, )
    return IMPLS if args.impl == 'both' else (args.impl, )


# ---------------------------------------------------------------------------- one step of each kind
class Steps:
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

    def loss(self, x, y) -> float:
        """The loss before any step: the same weights give the same loss, or the comparison is void."""
        with self.autocast():
            return self.model(x, y, mode='loss')['loss_cls'].item()


def synchronize(device: str):
    if device == 'cuda':
        torch.cuda.synchronize()


def timed(fn, device: str) -> float:
    synchronize(device)
    t0 = time.perf_counter()
    fn()
    synchronize(device)
    return time.perf_counter() - t0


def minor_faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


# ---------------------------------------------------------------------------- machine and FLOPs
def gemm_flops_per_s(device: str, dtype: torch.dtype, n: int | None = None, repeats: int = 5) -> float:
    """Best FLOP/s of an ``n x n`` matrix product in ``dtype``."""
    n = n or (8192 if device == 'cuda' else 2048)
    a = torch.randn(n, n, device=device).to(dtype)
    b = torch.randn(n, n, device=device).to(dtype)
    a @ b
    best = min(timed(lambda: a @ b, device) for _ in range(repeats))
    return 2 * n**3 / best


def count_flops(steps: Steps, x, y) -> tuple[float, float]:
    """FLOPs of one training step (forward + backward) and of one inference step, per sample."""
    from torch.utils.flop_counter import FlopCounterMode
    with FlopCounterMode(display=False) as counter:
        steps.model.train()
        with steps.autocast():
            loss = steps.model(x, y, mode='loss')['loss_cls']
        loss.backward()
    train = counter.get_total_flops()
    steps.optimizer.zero_grad(set_to_none=True)
    steps.model.eval()
    # the inference step with autograd on: under no_grad torch's module tracker fails on a parameter
    # passed into a submodule (CTR-GCN's alpha); the count is of the forward pass either way
    with FlopCounterMode(display=False) as counter, steps.autocast():
        steps.model(x, mode='predict')
    return train / len(x), counter.get_total_flops() / len(x)


def cpu_product() -> str | None:
    """The kernel of DG-STGCN's fast float32 products on CPU (``pyskl.models.layers.fused``)."""
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
def autocasts(args, impl: str) -> bool:
    """Whether ``impl`` runs under autocast: with ``--amp``, except the reference under ``--reference-float32``."""
    return args.amp and not (impl == 'reference' and args.reference_float32)


def cuda_peak(steps: Steps, x, y) -> dict:
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    base = torch.cuda.memory_allocated()
    steps.train_step(x, y)
    train = torch.cuda.max_memory_allocated()
    torch.cuda.reset_peak_memory_stats()
    steps.predict_step(x)
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
    return cmd


def step_child(args, amp_dtype):
    """``--step-child IMPL:KIND``: ``--warmup`` then ``--iters`` timed steps of one kind (``train``:
    training, then one inference step as validation would; ``predict``: inference only), with the
    benchmark's weights and input; prints their times, page faults, peak memory, loss and autocast
    dtype as JSON."""
    from pyskl.utils.process_memory import peak_rss
    impl, kind = args.step_child.split(':')
    model = Model(args.config)
    steps = Steps(model.build(impl, args.device, model.weights()), args.device, amp_dtype)
    x, y = model.batch(args.batch, args.device)
    loss = steps.loss(x, y) if kind == 'train' else nan  # the predict process stays eval-only
    step = (lambda: steps.train_step(x, y)) if kind == 'train' else (lambda: steps.predict_step(x))
    times, faults = [], 0
    for i in range(args.warmup + args.iters):
        before = minor_faults()
        dt = timed(step, args.device)
        if i >= args.warmup:
            times.append(dt)
            faults += minor_faults() - before
    if kind == 'train':
        steps.predict_step(x)
    peak = torch.cuda.max_memory_allocated() if args.device == 'cuda' else peak_rss()
    print(json.dumps(dict(times=times, faults=faults, peak=peak, loss=loss,
                          autocast=args.amp_dtype if args.amp else None)))


def run_child(args, impl: str, kind: str, **steps) -> dict:
    """The JSON that a ``step_child`` process of ``impl`` prints (``steps``: ``iters``, ``warmup``)."""
    done = subprocess.run(child_cmd(args, impl, kind, **steps), capture_output=True, text=True)
    if done.returncode:
        sys.exit(f'the {impl} {kind} process failed:\n{done.stderr[-3000:]}')
    return json.loads(done.stdout.strip().splitlines()[-1])


def time_isolated(args, impls) -> dict:
    """Times, page faults, peak memory, loss and autocast of each implementation, each kind of step
    in fresh processes of its own, ``--rounds`` rounds alternating who goes first."""
    kinds = ('predict', ) if args.infer_only else ('train', 'predict')
    runs = {impl: dict(train=[], predict=[], faults=0, peaks=[], loss=nan, autocast=None) for impl in impls}
    for r in range(args.rounds):
        order = impls if r % 2 == 0 else impls[::-1]
        for kind in kinds:
            for impl in order:
                child = run_child(args, impl, kind)
                run = runs[impl]
                run[kind] += child['times']
                run['autocast'] = child['autocast']
                if kind == 'train':
                    run['faults'] += child['faults']
                    run['loss'] = child['loss']
                if kind == kinds[0]:  # the training process: its peak covers a validation step too
                    run['peaks'].append(child['peak'])
    for run in runs.values():
        run['faults'] /= args.rounds * args.iters
        run['memory'] = dict(peak=statistics.median(run['peaks']), peaks=run.pop('peaks'))
    return runs


# ---------------------------------------------------------------------------- the benchmark
def time_in_process(args, impls, model: Model, amp_dtype) -> dict:
    """Times, page faults, peak memory, loss and autocast of each implementation, all in this process."""
    device = args.device
    state = model.weights()
    steps = {impl: Steps(model.build(impl, device, state), device, amp_dtype if autocasts(args, impl) else None)
             for impl in impls}
    x, y = model.batch(args.batch, device)
    runs = {impl: dict(train=[], predict=[], faults=0, loss=steps[impl].loss(x, y),
                       autocast=args.amp_dtype if autocasts(args, impl) else None) for impl in impls}

    for _ in range(args.warmup):
        for impl in impls:
            if not args.infer_only:
                steps[impl].train_step(x, y)
            steps[impl].predict_step(x)
    for i in range(args.iters):
        order = impls if i % 2 == 0 else impls[::-1]  # interleaved, alternating who goes first
        for impl in order if not args.infer_only else ():
            before = minor_faults()
            runs[impl]['train'].append(timed(lambda: steps[impl].train_step(x, y), device))
            runs[impl]['faults'] += minor_faults() - before  # minor page faults in the timed training steps
        for impl in order:
            runs[impl]['predict'].append(timed(lambda: steps[impl].predict_step(x), device))
    for run in runs.values():
        run['faults'] /= args.iters

    if args.no_memory or args.infer_only:
        memory = {impl: dict(peak=nan) for impl in impls}
    elif device == 'cuda':
        memory = {impl: cuda_peak(steps[impl], x, y) for impl in impls}
    else:
        # peak RSS varies by +-100 MiB between fresh processes (threads' buffers, heap layout):
        # the median of --memory-repeats processes per implementation, alternating
        peaks = {impl: [] for impl in impls}
        for _ in range(args.memory_repeats):
            for impl in impls:
                peaks[impl].append(run_child(args, impl, 'train', iters=1, warmup=0)['peak'])
        memory = {impl: dict(peak=statistics.median(p), peaks=p) for impl, p in peaks.items()}
    for impl in impls:
        runs[impl]['memory'] = memory[impl]
    return runs


def benchmark(args, model: Model) -> dict:
    device = args.device
    amp_dtype = getattr(torch, args.amp_dtype) if args.amp else None
    if args.cudnn_benchmark:
        torch.backends.cudnn.benchmark = True
    impls = implementations(args, model)
    runs = time_isolated(args, impls) if args.isolated else time_in_process(args, impls, model, amp_dtype)

    # FLOPs of the readable implementation (FLOPs grow linearly with the batch: counted on two samples)
    torch.manual_seed(0)
    flops_steps = Steps(model.build(model.oracle, device), device, amp_dtype)
    x, y = model.batch(2, device)
    train_flops, predict_flops = count_flops(flops_steps, x, y)
    del flops_steps
    gemm = gemm_flops_per_s(device, amp_dtype or torch.float32)
    gemms = {impl: gemm if autocasts(args, impl) or not args.amp else gemm_flops_per_s(device, torch.float32)
             for impl in impls}

    results = {}
    for impl, run in runs.items():
        train_s = statistics.median(run['train']) if run['train'] else nan
        predict_s = statistics.median(run['predict'])
        results[impl] = dict(
            train_samples_per_s=args.batch / train_s, predict_clips_per_s=args.batch / predict_s,
            train_step_s=train_s, predict_step_s=predict_s, train_times_s=run['train'],
            predict_times_s=run['predict'], loss=run['loss'], autocast=run['autocast'],
            train_gemm_fraction=train_flops * args.batch / train_s / gemms[impl],
            predict_gemm_fraction=predict_flops * args.batch / predict_s / gemms[impl], memory=run['memory'],
            train_page_faults_per_step=run['faults'])
    out = dict(config=args.config, model=model.backbone, has_reference=model.has_impl, device=device,
               amp=args.amp_dtype if args.amp else None,
               reference_float32=bool(args.amp and args.reference_float32), batch=args.batch,
               input_shape=dict(zip('MTVC', model.shape)), iters=args.iters, warmup=args.warmup,
               isolated=args.isolated, rounds=args.rounds if args.isolated else 1, machine=machine(device),
               gemm_gflops=gemm / 1e9, train_gflop_per_sample=train_flops / 1e9,
               predict_gflop_per_clip=predict_flops / 1e9, results=results)
    if len(impls) == 2:
        f, r = results['fast'], results['reference']
        out['ratio'] = dict(train=f['train_samples_per_s'] / r['train_samples_per_s'],
                            predict=f['predict_clips_per_s'] / r['predict_clips_per_s'],
                            peak_memory=f['memory']['peak'] / r['memory']['peak'],
                            # the fastest step of each: the least disturbed by other load on the machine
                            train_best=min(r['train_times_s'], default=nan) / min(f['train_times_s'], default=nan),
                            predict_best=min(r['predict_times_s']) / min(f['predict_times_s']))
    return out


def header(config: str, model: Model) -> str:
    """The first lines: the model, and what is compared."""
    return '\n'.join([
        f"model: {model.backbone} ({config})",
        "implementations: fast and reference (the backbone's impl), the same weights" if model.has_impl else
        f"one implementation: {model.backbone}'s constructor takes no impl, so there is no fast / reference ratio"])


def report(out: dict) -> str:
    """The figures, below the header."""
    m = out['machine']
    where = m.get('gpu') or f"{m['cpu']}, {m['torch_threads']} threads of {m['cores']} cores"
    shape = out['input_shape']
    impls = list(out['results'])
    lines = [
        f"input: batch {out['batch']}, {shape['M']} persons x {shape['T']} frames x {shape['V']} joints "
        f"x {shape['C']} channels, {out['device']}, {out['amp'] or 'float32'}"
        + (' (the reference in float32)' if out.get('reference_float32') else ''),
        f"machine: {where}; torch {m['torch']}" + (f", CUDA {m['cuda']}" if 'cuda' in m else '') +
        (f"; CPU bf16: {', '.join(m['cpu_bf16']) or 'no'}; huge pages "
         f"{'on (THP_MEM_ALLOC_ENABLE=1)' if m.get('huge_pages') else 'off'}"
         + (f"; float32 products: {PRODUCT_NAMES.get(m['cpu_product'], m['cpu_product'])}"
            if m.get('cpu_product') else '')
         if out['device'] == 'cpu' else ''),
        f"FLOPs: {out['train_gflop_per_sample']:.2f} GFLOP per training sample (forward + backward), "
        f"{out['predict_gflop_per_clip']:.2f} GFLOP per inference clip; GEMM {out['gemm_gflops']:.0f} GFLOP/s "
        f"({out['amp'] or 'float32'})",
        (f"{out['iters']} timed steps each (median), after {out['warmup']} warm-up"
         + ('; fast and reference interleaved' if len(impls) == 2 else '')
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
    parser.add_argument('--impl', default='both', choices=['both', *IMPLS],
                        help='for a backbone that takes impl: both, or only one of them')
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
    if args.iters < 1 or args.warmup < 0 or args.batch < 1 or args.rounds < 1:
        parser.error('--iters, --batch and --rounds must be >= 1, --warmup >= 0')
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    amp_dtype = getattr(torch, args.amp_dtype) if args.amp else None
    if args.step_child:
        step_child(args, amp_dtype)
        return
    model = Model(args.config)
    print(header(args.config, model), flush=True)
    out = benchmark(args, model)
    print(report(out))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(out, f, indent=1)


if __name__ == '__main__':
    main()
