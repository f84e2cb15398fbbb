"""The steps of ``tools/benchmarks/gpu_check.sh`` (which installs the dependencies and runs this).

Each step runs pyskl's own tools as subprocesses, its output going to the log; a failed step is
recorded and the others still run. At the end ``results.md`` sums up: the environment, the CUDA
tests, the speed table, each stream's training (finished, or the epoch it reached within the
budget) and the test accuracies with their fusions. Standard library only, so that it runs
before anything else is known to import.
"""
import argparse
import glob
import json
import os
import os.path as osp
import re
import shutil
import signal
import subprocess
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
STREAMS = ('j', 'b', 'jm', 'bm')
STREAM_NAMES = dict(j='joint', b='bone', jm='joint motion', bm='bone motion')
NWUCLA = 'configs/dgstgcn/nwucla_xview'
SPEED_CONFIG = 'configs/dgstgcn/ntu60_xsub_3dkp/j.py'
SMOKE_SPEED_CONFIG = 'configs/dgstgcn/nwucla_xview/j.py'  # a quarter of the NTU shape's work
DEMO = 'configs/dgstgcn/demo/j.py'
DEMO_ANN = 'tools/data/demo/demo_3danno.pkl'
# smoke: subject 1, take 0: every action in views 1 and 2 (20 training sequences), three in view 3
SMOKE_FILES = ('*_s01_e00_v01.json', '*_s01_e00_v02.json', 'a0[1-3]_s01_e00_v03.json')
# a short training: one epoch of the data once, small batches, validation and a checkpoint each epoch
SMOKE_TRAIN = ['total_epochs=1', 'data.train.times=1', 'data.videos_per_gpu=4', 'data.workers_per_gpu=0',
               'evaluation.interval=1', 'checkpoint_config.interval=1', 'log_config.interval=1']
SMOKE_TEST = ['data.workers_per_gpu=0', 'data.test_dataloader.videos_per_gpu=4']
TEST_RESERVE_S = 75  # kept back from the training budget for testing and fusing


class Check:
    """The log, the step records and the subprocess runner."""

    def __init__(self, args):
        self.args = args
        self.log = open(args.log, 'a', encoding='utf-8')
        self.steps: list[tuple[str, str, float]] = []  # (step, 'ok' / 'FAILED ...', seconds)
        self.start = time.monotonic()

    def say(self, line: str) -> None:
        stamp = time.strftime('%H:%M:%S')
        print(f'[{stamp}] {line}', flush=True)
        self.log.write(f'[{stamp}] {line}\n')
        self.log.flush()

    def env(self, threads: int | None = None) -> dict:
        env = dict(os.environ, PYTHONUNBUFFERED='1')
        if threads:
            env['OMP_NUM_THREADS'] = str(threads)
        return env

    def start_process(self, cmd: list[str], log_path: str | None = None, threads: int | None = None):
        self.say('$ ' + ' '.join(cmd))
        out = open(log_path, 'w', encoding='utf-8') if log_path else self.log
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env=self.env(threads),
                                start_new_session=True)
        return proc, out

    def run(self, cmd: list[str], timeout: float | None = None, threads: int | None = None,
            cwd: str = ROOT) -> tuple[int, str]:
        """Run to the end (or ``timeout``); return the status and the output, which goes to the log too."""
        self.say('$ ' + ' '.join(cmd))
        try:
            done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=self.env(threads),
                                  timeout=timeout)
            status, output = done.returncode, done.stdout + done.stderr
        except subprocess.TimeoutExpired as err:
            status = 124
            output = (err.stdout or b'').decode(errors='replace') + (err.stderr or b'').decode(errors='replace')
        self.log.write(output)
        self.log.flush()
        return status, output

    def record(self, step: str, ok: bool, began: float, why: str = '') -> None:
        seconds = time.monotonic() - began
        self.steps.append((step, 'ok' if ok else f'FAILED{": " + why if why else ""}', seconds))
        self.say(f'{step}: {"ok" if ok else "FAILED " + why} ({seconds:.0f} s)')

    def elapsed(self) -> float:
        return time.monotonic() - self.start


def stop(proc: subprocess.Popen, grace: float = 20) -> None:
    """SIGTERM the process group, SIGKILL after ``grace`` s (checkpoints are written atomically)."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 10)):
        if proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(wait)
        except subprocess.TimeoutExpired:
            pass


# ----------------------------------------------------------------------------------- the steps
def environment(check: Check) -> dict:
    began = time.monotonic()
    code = ('import json, platform, torch; c = torch.cuda.is_available(); print(json.dumps(dict('
            'python=platform.python_version(), torch=torch.__version__, cuda=torch.version.cuda, '
            'cudnn=torch.backends.cudnn.version() if c else None, '
            'device=torch.cuda.get_device_name(0) if c else platform.processor() or platform.machine(), '
            'gpus=torch.cuda.device_count(), cpus=__import__("os").cpu_count())))')
    status, output = check.run([sys.executable, '-c', code])
    info = {}
    if status == 0:
        info = json.loads(output.strip().splitlines()[-1])
    check.record('environment', status == 0, began)
    return info


def cuda_tests(check: Check) -> str:
    """The tests that need a GPU (marked ``gpu``: they skip without one)."""
    began = time.monotonic()
    status, output = check.run([sys.executable, '-m', 'pytest', '-q', '-m', 'gpu', '-p', 'no:cacheprovider', 'tests'],
                               timeout=240)
    summary = next((line.strip('= ') for line in reversed(output.splitlines())
                    if re.search(r'\d+ (passed|failed|skipped|error)', line)), 'no summary line')
    check.record('CUDA tests', status == 0, began, summary if status else '')
    return summary


def speed(check: Check, device: str, out: str) -> list[dict]:
    """tools/benchmarks/model_speed.py: fp32 and AMP, batch 16 and 64, fast against reference."""
    began = time.monotonic()
    rows, failed = [], []
    smoke = check.args.smoke
    tmp = osp.join(check.args.work, 'speed')
    os.makedirs(tmp, exist_ok=True)
    for amp in (False, True):
        for batch in ((2, ) if smoke else (16, 64)):
            name = f'batch{batch}_{"amp" if amp else "fp32"}'
            config = SMOKE_SPEED_CONFIG if smoke else SPEED_CONFIG
            cmd = [sys.executable, 'tools/benchmarks/model_speed.py', config, '--device', device,
                   '--batch', str(batch), '--json', osp.join(tmp, f'{name}.json')]
            cmd += ['--amp'] if amp else []
            cmd += ['--cudnn-benchmark'] if device == 'cuda' else []
            cmd += ['--iters', '1', '--warmup', '0', '--no-memory'] if smoke else []
            status, _ = check.run(cmd, timeout=300)
            if status != 0:
                failed.append(name)
                continue
            with open(osp.join(tmp, f'{name}.json'), encoding='utf-8') as f:
                rows.append(dict(json.load(f), run=name))
    with open(out, 'w', encoding='utf-8') as f:
        json.dump(rows, f, indent=1)
    check.record('speed', not failed, began, ', '.join(failed))
    return rows


def prepare_data(check: Check) -> str | None:
    """Convert the NW-UCLA JSON files (smoke: a subset) into the annotation file."""
    began = time.monotonic()
    source = check.args.data
    if not source or not osp.isdir(source):
        check.record('NW-UCLA data', False, began, f'no all_sqe folder at {source!r}: give --data DIR')
        return None
    ann = osp.join(check.args.work, 'nw-ucla', 'nwucla_3danno.pkl')
    if check.args.smoke:
        subset = osp.join(check.args.work, 'all_sqe_smoke')
        shutil.rmtree(subset, ignore_errors=True)
        os.makedirs(subset)
        for path in sorted(p for pattern in SMOKE_FILES for p in glob.glob(osp.join(source, pattern))):
            os.symlink(osp.abspath(path), osp.join(subset, osp.basename(path)))
        source = subset
    status, output = check.run([sys.executable, 'tools/data/nwucla_preproc.py', source, ann, '--no-progress'],
                               timeout=300)
    check.record('NW-UCLA data', status == 0, began, output.strip().splitlines()[-1] if status else '')
    return ann if status == 0 else None


def _test_top1(check: Check, results: list[str], ann: str, split: str) -> list[float]:
    """top-1 of each result file, through tools/ensemble.py's report."""
    status, output = check.run([sys.executable, 'tools/ensemble.py', *results, '--ann-file', ann, '--split', split])
    if status != 0:
        return []
    table = {line.split()[0]: float(line.split()[2]) for line in output.splitlines()[1:] if len(line.split()) >= 5}
    return [table.get(r, float('nan')) for r in results]


def amp_decision(check: Check) -> tuple[bool, str]:
    """Whether the NW-UCLA trainings use --amp: 'on'/'off' as asked, or 'auto': train the demo
    with and without AMP side by side and use it when its top-1 is within 10 points of fp32's
    (the demo's seed-to-seed spread is about that) and its loss stayed finite."""
    if check.args.amp != 'auto':
        return check.args.amp == 'on', f'--amp {check.args.amp}'
    began = time.monotonic()
    extra = (['--cfg-options', 'total_epochs=1', 'data.workers_per_gpu=0', 'data.videos_per_gpu=8',
              'data.train.times=1', 'data.train.dataset.indices=16'] if check.args.smoke else [])
    procs, results = [], []
    for mode in ('fp32', 'amp'):
        work = osp.join(check.args.work, f'demo_{mode}')
        shutil.rmtree(work, ignore_errors=True)
        cmd = [sys.executable, 'tools/train.py', DEMO, '--seed', '0', '--test-last',
               *([] if check.args.smoke else ['--validate']), '--work-dir', work,
               *(['--amp'] if mode == 'amp' else []), *extra]
        procs.append(check.start_process(cmd, osp.join(check.args.work, f'demo_{mode}.log'),
                                         threads=max(1, (os.cpu_count() or 2) // 2)))
        results.append(osp.join(work, 'last_pred.pkl'))
    statuses = []
    for proc, log in procs:
        try:
            statuses.append(proc.wait(600))
        except subprocess.TimeoutExpired:
            stop(proc)
            statuses.append(124)
        log.close()
    for mode in ('fp32', 'amp'):
        with open(osp.join(check.args.work, f'demo_{mode}.log'), encoding='utf-8', errors='replace') as f:
            check.log.write(f.read())
    if any(statuses):
        check.record('AMP check (demo)', False, began, f'exit status fp32 {statuses[0]}, amp {statuses[1]}')
        return False, 'AMP check failed: fp32'
    fp32, amp = _test_top1(check, results, DEMO_ANN, 'val') or [float('nan')] * 2
    use = amp >= fp32 - 0.10
    check.record('AMP check (demo)', True, began)
    return use, f'demo top-1 fp32 {fp32:.4f}, AMP {amp:.4f}: AMP {"used" if use else "not used"}'


def last_checkpoint(work: str) -> str | None:
    """The checkpoint mmengine's ``last_checkpoint`` file names, else the newest epoch_N.pth."""
    try:
        with open(osp.join(work, 'last_checkpoint'), encoding='utf-8') as f:
            path = f.read().strip()
        if osp.isfile(path):
            return path
    except OSError:
        pass
    found = sorted(glob.glob(osp.join(work, 'epoch_*.pth')), key=lambda p: int(re.findall(r'\d+', p)[-1]))
    return found[-1] if found else None


def train_streams(check: Check, ann: str, amp: bool, deadline: float) -> dict:
    """The four streams' full recipes side by side, stopped at ``deadline`` (monotonic s)."""
    began = time.monotonic()
    label_map = osp.join(osp.dirname(ann), 'nwucla_label_map.txt')
    data = [f'data.{split}{".dataset" if split == "train" else ""}.{key}={value}'
            for split in ('train', 'val', 'test') for key, value in (('ann_file', ann), ('label_map', label_map))]
    threads = max(1, (os.cpu_count() or 4) // len(check.args.streams))
    procs = {}
    for s in check.args.streams:
        work = osp.join(check.args.work, 'work_dirs', s)
        cmd = [sys.executable, 'tools/train.py', f'{NWUCLA}/{s}.py', '--validate', '--seed', '0', '--work-dir', work,
               *(['--amp'] if amp else []), '--cfg-options', *data, *(SMOKE_TRAIN if check.args.smoke else [])]
        procs[s] = (*check.start_process(cmd, osp.join(check.args.work, f'train_{s}.log'), threads), work)
    status = {}
    for s, (proc, log, work) in procs.items():
        try:
            rc = proc.wait(max(1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            stop(proc)
            rc = 'budget'
        log.close()
        with open(osp.join(check.args.work, f'train_{s}.log'), encoding='utf-8', errors='replace') as f:
            check.log.write(f.read())
        ckpt = last_checkpoint(work)
        epoch = int(re.findall(r'\d+', osp.basename(ckpt))[-1]) if ckpt and 'epoch_' in ckpt else None
        status[s] = dict(rc=rc, checkpoint=ckpt, epoch=epoch)
    failed = [s for s, st in status.items() if st['rc'] not in (0, 'budget')]
    check.record('NW-UCLA training', not failed, began, ', '.join(f'{s}: exit {status[s]["rc"]}' for s in failed))
    return status


def test_streams(check: Check, ann: str, trained: dict) -> dict:
    """Each stream's last checkpoint on the test split (10 clips a sample), side by side."""
    began = time.monotonic()
    label_map = osp.join(osp.dirname(ann), 'nwucla_label_map.txt')
    threads = max(1, (os.cpu_count() or 4) // len(trained or (1, )))
    procs, failed = {}, []
    for s, st in trained.items():
        if not st['checkpoint']:
            failed.append(f'{s}: no checkpoint')
            continue
        out = osp.join(check.args.out, f'{s}.pkl')
        cmd = [sys.executable, 'tools/test.py', f'{NWUCLA}/{s}.py', st['checkpoint'], '--eval', 'top_k_accuracy',
               'mean_class_accuracy', '--out', out, '--work-dir', osp.join(check.args.work, 'test', s),
               '--cfg-options', f'data.test.ann_file={ann}', f'data.test.label_map={label_map}',
               *(SMOKE_TEST if check.args.smoke else [])]
        procs[s] = (*check.start_process(cmd, osp.join(check.args.work, f'test_{s}.log'), threads), out)
    results = {}
    for s, (proc, log, out) in procs.items():
        try:
            status = proc.wait(300)
        except subprocess.TimeoutExpired:
            stop(proc)
            status = 124
        log.close()
        with open(osp.join(check.args.work, f'test_{s}.log'), encoding='utf-8', errors='replace') as f:
            check.log.write(f.read())
        if status == 0:
            results[s] = out
        else:
            failed.append(f'{s}: exit {status}')
    check.record('NW-UCLA test', not failed, began, ', '.join(failed))
    return results


def fuse(check: Check, ann: str, results: dict) -> list[tuple[str, str]]:
    began = time.monotonic()
    reports, failed = [], []
    for title, streams, weights in (('joint + bone, 1:1', ('j', 'b'), (1, 1)),
                                    ('four streams, 2:2:1:1', STREAMS, (2, 2, 1, 1))):
        if not all(s in results for s in streams):
            continue
        status, output = check.run([sys.executable, osp.join(ROOT, 'tools', 'ensemble.py'),
                                    *(osp.basename(results[s]) for s in streams), '--weights', *map(str, weights),
                                    '--ann-file', ann, '--split', 'xview_val'], cwd=check.args.out)
        if status == 0:
            reports.append((title, output.strip()))
        else:
            failed.append(title)
    check.record('fusion', not failed, began, ', '.join(failed))
    return reports


# ---------------------------------------------------------------------------------- the report
def speed_table(rows: list[dict]) -> list[str]:
    """One line per run and implementation, from model_speed.py's JSON."""
    lines = ['| run | implementation | train samples/s | inference clips/s | train GEMM % | peak memory (MiB) |',
             '|---|---|---|---|---|---|']
    for row in rows:
        for impl, r in row.get('results', {}).items():
            lines.append(f'| {row["run"]} | {impl} | {r["train_samples_per_s"]:.1f} | {r["predict_clips_per_s"]:.1f} '
                         f'| {100 * r["train_gemm_fraction"]:.1f} | {r["memory"]["peak"] / 2**20:.0f} |')
        if row.get('ratio'):
            ratio = row['ratio']
            lines.append(f'| {row["run"]} | fast / reference | x{ratio["train"]:.2f} | x{ratio["predict"]:.2f} | '
                         f'| x{ratio["peak_memory"]:.2f} |')
    return lines


def write_results(check: Check, info: dict, tests: str, rows: list[dict], amp_note: str, trained: dict,
                  reports: list[tuple[str, str]]) -> str:
    a = check.args
    lines = [f'# GPU check{" (smoke)" if a.smoke else ""}, {time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}',
             '', f'Machine: {info.get("device", "?")} ({info.get("gpus", 0)} GPU(s), {info.get("cpus", "?")} CPU '
             f'cores); Python {info.get("python", "?")}, torch {info.get("torch", "?")}, CUDA {info.get("cuda")}, '
             f'cuDNN {info.get("cudnn")}. Total {check.elapsed():.0f} s.', '', '## Steps', '',
             '| step | outcome | seconds |', '|---|---|---|']
    lines += [f'| {step} | {outcome} | {seconds:.0f} |' for step, outcome, seconds in check.steps]
    speed_config = SMOKE_SPEED_CONFIG if a.smoke else SPEED_CONFIG
    lines += ['', f'CUDA tests: {tests}', '', f'## Speed ({speed_config}, the shape it trains on)', '']
    lines += speed_table(rows) if rows else ['(not measured)']
    lines += ['', '## NW-UCLA, full recipe (configs/dgstgcn/nwucla_xview), four streams on one device', '',
              f'Mixed precision: {amp_note}.', '', '| stream | training | last checkpoint |', '|---|---|---|']
    for s, st in trained.items():
        how = ('finished' if st['rc'] == 0 else f'stopped by the budget at epoch {st["epoch"]} (rerun to resume)'
               if st['rc'] == 'budget' else f'failed (exit {st["rc"]})')
        lines.append(f'| {STREAM_NAMES[s]} | {how} | {osp.basename(st["checkpoint"] or "none")} |')
    for title, report in reports:
        lines += ['', f'### {title}', '', '```', report, '```']
    text = '\n'.join(lines) + '\n'
    with open(osp.join(a.out, 'results.md'), 'w', encoding='utf-8') as f:
        f.write(text)
    return text


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='The GPU check (run through tools/benchmarks/gpu_check.sh)')
    parser.add_argument('--out', default='gpu_check_out', help='results folder (at most 8 files)')
    parser.add_argument('--log', default=None, help='log file (default: OUT/gpu_check.log)')
    parser.add_argument('--work', default=None, help='work folder: data, work dirs (default: work_dirs/gpu_check)')
    parser.add_argument('--data', default=osp.join(ROOT, '..', 'shared', 'datasets', 'nw-ucla', 'all_sqe'),
                        help='the NW-UCLA all_sqe folder (default: ../shared/datasets/nw-ucla/all_sqe)')
    parser.add_argument('--smoke', action='store_true', help='a few iterations of every step (CPU)')
    parser.add_argument('--device', default=None, help='cuda (default) or cpu (default with --smoke)')
    parser.add_argument('--budget', type=float, default=570,
                        help='seconds for the whole check; the trainings stop where it runs out (default 570)')
    parser.add_argument('--amp', choices=('auto', 'on', 'off'), default='auto',
                        help='mixed precision for the NW-UCLA trainings (auto: as measured on the demo)')
    parser.add_argument('--streams', nargs='+', choices=STREAMS, default=list(STREAMS))
    args = parser.parse_args(argv)
    args.out = osp.abspath(args.out)
    args.log = osp.abspath(args.log or osp.join(args.out, 'gpu_check.log'))
    args.work = osp.abspath(args.work or osp.join(ROOT, 'work_dirs', 'gpu_check' + ('_smoke' if args.smoke else '')))
    args.data = osp.abspath(args.data) if args.data else None
    args.device = args.device or ('cpu' if args.smoke else 'cuda')
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    os.makedirs(args.work, exist_ok=True)
    check = Check(args)
    check.say(f'GPU check{" (smoke)" if args.smoke else ""}: device {args.device}, budget {args.budget:.0f} s, '
              f'results in {args.out}')
    info = environment(check)
    if args.device == 'cuda' and not info.get('gpus'):
        check.say('error: no CUDA device is visible to torch; on a CPU machine use --smoke')
        return 2
    tests = cuda_tests(check)
    rows = speed(check, args.device, osp.join(args.out, 'speed.json'))
    use_amp, amp_note = amp_decision(check)
    trained, reports = {}, []
    ann = prepare_data(check)
    if ann:
        deadline = check.start + args.budget - TEST_RESERVE_S
        trained = train_streams(check, ann, use_amp, deadline)
        results = test_streams(check, ann, trained)
        reports = fuse(check, ann, results)
    text = write_results(check, info, tests, rows, amp_note, trained, reports)
    print(text, flush=True)
    failed = [step for step, outcome, _ in check.steps if outcome != 'ok']
    check.say(f'done in {check.elapsed():.0f} s; ' + (f'failed: {", ".join(failed)}' if failed else 'every step ok'))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
