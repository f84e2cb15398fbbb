"""Fault injection on the demo config: kills, a dying rank, a full disk, NaN, two trainings, bad files.

Runs ``tools/train.py configs/dgstgcn/demo/j.py --validate --test-last --seed 0 --deterministic``
(shortened with ``--cfg-options``: 2 epochs on a subset, see ``SHORT``) as a user would, and
prints one table row per scenario: trials, passes, and what was measured.

- kills: an uninterrupted reference run, then ``--kills`` runs each SIGKILLed at a moment
  drawn at random (mid-epoch, during a checkpoint save, during validation, during the final
  test, any time), each followed by the same command again until it exits 0. Counted: runs
  whose final weights equal the reference's bit for bit (and the max abs difference), and
  checkpoints lost or unreadable after a kill.
- rank dies: ``tools/dist_train.sh CONFIG 2``; rank 1 is SIGKILLed in epoch 2. The seconds to
  the end of the job, its last line, leftover processes; then the same command resumes.
- disk full: the work dir on a tmpfs (needs root; else ENOSPC is injected) that has room for
  epoch 1's checkpoint, not epoch 2's; then space is freed and the run resumes.
- nan: ``optimizer.lr=1e6``: stops with one line, no non-finite checkpoint; ``nan_policy=skip``.
- two trainings in one work dir; the second refuses; the lock does not outlive a killed run.
- bad files: truncated annotation file, truncated checkpoint, truncated latest checkpoint
  under auto-resume, empty split, and pickles with code (annotation, checkpoint, a result
  file for ``tools/ensemble.py``): one line each, and no code runs.

    python tools/benchmarks/fault_injection.py [--kills 20] [--seed 0] [--out results.json]
"""
import argparse
import json
import os
import pickle
import platform
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

CONFIG = 'configs/dgstgcn/demo/j.py'
SEEDED = ['--seed', '0', '--deterministic']
# 2 epochs of 2 iterations on 16 training samples (x2, RepeatDataset), 8 to validate and test
SHORT = ['total_epochs=2', 'data.train.dataset.indices=16', 'data.val.indices=8', 'data.test.indices=8',
         'log_config.interval=1']
PROGRESS = re.compile(r'Epoch\(train\) +\[(\d+)\]\[ *(\d+)/(\d+)\]')


def env() -> dict:
    out = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS='1', PYTHON=sys.executable)
    for key in ('RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'MASTER_ADDR', 'MASTER_PORT', 'PORT', 'PYSKL_DEBUG'):
        out.pop(key, None)
    return out


def train_cmd(work: Path, *options: str, extra: tuple = ()) -> list:
    return [sys.executable, 'tools/train.py', CONFIG, '--validate', '--test-last', *SEEDED, '--work-dir', str(work),
            *extra, '--cfg-options', *SHORT, *EXTRA_OPTIONS, *options]


EXTRA_OPTIONS: list = []  # --options: more --cfg-options for every run


class Run:
    """A command whose output lines are collected (with their time) as it runs."""

    def __init__(self, cmd: list, **kwargs):
        self.start = time.monotonic()
        self.proc = subprocess.Popen(cmd, cwd=REPO, env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, errors='replace', start_new_session=True, **kwargs)
        self.lines: list = []  # (seconds, 'out'/'err', line)
        self._matched = 0  # lines before this one were searched by wait_for
        self._cond = threading.Condition()
        self._readers = [threading.Thread(target=self._read, args=(s, n), daemon=True)
                         for s, n in ((self.proc.stdout, 'out'), (self.proc.stderr, 'err'))]
        for r in self._readers:
            r.start()

    def _read(self, stream, name):
        for line in stream:
            with self._cond:
                self.lines.append((time.monotonic() - self.start, name, line.rstrip('\n')))
                self._cond.notify_all()

    def wait_for(self, pattern, timeout: float = 900) -> bool:
        """Wait until a line after the last one matched matches ``pattern`` (True), or the process
        ends / time runs out (False)."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._cond:
            while time.monotonic() < deadline:
                for i in range(self._matched, len(self.lines)):
                    if regex.search(self.lines[i][2]):
                        self._matched = i + 1
                        return True
                self._matched = len(self.lines)
                if self.proc.poll() is not None and all(not r.is_alive() for r in self._readers):
                    return False
                self._cond.wait(0.05)
        return False

    def wait(self, timeout: float = 1800) -> int:
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill_group()
            code = self.proc.wait()
        for r in self._readers:
            r.join(5)
        return code

    def kill(self, sig=signal.SIGKILL) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, sig)

    def kill_group(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def err_lines(self) -> list:
        """stderr without torchrun's log lines and warnings."""
        return [line for _, name, line in self.lines if name == 'err' and line.strip()
                and not re.match(r'[WEI]\d{4} |\S+Warning: |  warnings.warn', line)]

    def text(self) -> str:
        return '\n'.join(line for _, _, line in self.lines)


def one_line_error(run: Run, pattern: str) -> tuple[bool, str]:
    lines = run.err_lines()
    last = lines[-1] if lines else ''
    ok = (run.proc.returncode not in (0, None) and 'Traceback' not in run.text() and last.startswith('error: ')
          and re.search(pattern, last) is not None)
    return ok, last


# --- checkpoints ----------------------------------------------------------------------------

def state_dict(path: Path) -> dict:
    from pyskl.models.checkpoint import read_checkpoint
    return read_checkpoint(str(path))['state_dict']


def compare(a: dict, b: dict) -> tuple[bool, float]:
    """(bit-equal, max abs difference) of two state dicts."""
    if a.keys() != b.keys():
        return False, float('inf')
    equal, worst = True, 0.0
    for k in a:
        x, y = a[k], b[k]
        if not x.equal(y):
            equal = False
            worst = max(worst, (x.double() - y.double()).abs().max().item())
    return equal, worst


def unreadable_checkpoints(work: Path) -> list:
    from pyskl.models.checkpoint import read_checkpoint
    bad = []
    for path in sorted(work.glob('*.pth')):
        try:
            read_checkpoint(str(path))
        except Exception as e:  # noqa: BLE001 - counted
            bad.append(f'{path.name}: {e}')
    return bad


def last_good(work: Path):
    record = work / 'last_checkpoint'
    return record.read_text().strip() if record.is_file() else None


# --- scenarios ------------------------------------------------------------------------------

def reference(root: Path) -> dict:
    work = root / 'reference'
    run = Run(train_cmd(work))
    code = run.wait()
    if code != 0:
        raise SystemExit(f'the reference run failed ({code}):\n' + run.text()[-3000:])
    marks = {}
    for t, _, line in run.lines:
        for name, pattern in (('first_iter', PROGRESS.pattern), ('save', 'Saving checkpoint at'),
                              ('val', r'Epoch\(val\)'), ('test', 'Testing the last checkpoint')):
            if name not in marks and re.search(pattern, line):
                marks[name] = t
    return dict(work=work, seconds=time.monotonic() - run.start, weights=state_dict(work / 'epoch_2.pth'),
                marks=marks)


# where to kill: (name, line pattern that starts the clock, delay range in seconds)
MOMENTS = [('mid-epoch', PROGRESS.pattern, (0.0, 1.5)),
           ('checkpoint save', 'Saving checkpoint at', (0.0, 0.3)),
           ('validation', 'Saving checkpoint at', (0.4, 2.5)),
           ('final test', 'Testing the last checkpoint', (0.0, 2.0)),
           ('any time', None, None)]


PHASES = [(PROGRESS, 'training epoch {}'), (re.compile(r'Saving checkpoint at (\d+)'), 'saving epoch {} / validating'),
          (re.compile(r'Epoch\(val\) \[(\d+)\]'), 'validating epoch {}'),
          (re.compile(r'The best checkpoint .* at (\d+) epoch'), 'after validating epoch {}'),
          (re.compile(r'Testing the last checkpoint()'), 'final test{}'), (re.compile(r'Epoch\(test\)()'), 'final test{}')]


def phase(lines: list) -> str:
    """Where a run was, by the last progress line it printed."""
    for _, _, line in reversed(lines):
        for regex, name in PHASES:
            match = regex.search(line)
            if match:
                return name.format(match.group(1))
    return 'starting'


def kill_trial(root: Path, i: int, moment: tuple, rng: random.Random, ref: dict) -> dict:
    name, pattern, delays = moment
    work = root / f'kill{i}'
    run = Run(train_cmd(work))
    if pattern is None:
        time.sleep(rng.uniform(2.0, 0.9 * ref['seconds']))  # before the run would end by itself
    else:
        nth = rng.choice([1, 2]) if name != 'final test' else 1  # epoch 1 or 2
        for _ in range(nth):
            if not run.wait_for(pattern):
                break
        time.sleep(rng.uniform(*delays))
    killed_at = time.monotonic() - run.start
    before = last_good(work)
    run.kill()
    landed = phase(run.lines)
    run.wait()
    finished_before_kill = run.proc.returncode == 0
    lost = []
    if before and not Path(before).is_file():
        lost.append(f'{before} (named by last_checkpoint) is gone')
    lost += unreadable_checkpoints(work)
    reruns, code = 0, None
    while code != 0 and reruns < 3:
        reruns += 1
        again = Run(train_cmd(work))
        code = again.wait()
    equal, diff = (compare(ref['weights'], state_dict(work / 'epoch_2.pth')) if code == 0
                   else (False, float('inf')))
    result = dict(moment=name, landed=landed, killed_at=round(killed_at, 2), finished_before_kill=finished_before_kill,
                  lost=lost, reruns=reruns, final_exit=code, bit_equal=equal, max_abs_diff=diff)
    shutil.rmtree(work, ignore_errors=True)
    return result


def _children(pid: int) -> list:
    out = []
    for stat in Path('/proc').glob('[0-9]*/stat'):
        try:
            fields = stat.read_text().rsplit(')', 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def _rank_of(pid: int):
    try:
        environ = Path(f'/proc/{pid}/environ').read_bytes().split(b'\0')
    except OSError:
        return None
    for item in environ:
        if item.startswith(b'RANK='):
            return int(item[5:])
    return None


def _alive(pid: int) -> bool:
    try:
        state = Path(f'/proc/{pid}/stat').read_text().rsplit(')', 1)[1].split()[0]
    except OSError:
        return False
    return state != 'Z'


def rank_dies(root: Path) -> dict:
    work = root / 'dist'
    cmd = ['bash', 'tools/dist_train.sh', CONFIG, '2', '--validate', '--test-last', *SEEDED, '--work-dir', str(work),
           '--cfg-options', *SHORT, *EXTRA_OPTIONS]
    run = Run(cmd)
    ok = run.wait_for('Saving checkpoint at 1 epochs') and run.wait_for(r'Epoch\(train\) +\[2\]')
    ranks = {_rank_of(p): p for p in _children(run.proc.pid)}
    victim = ranks.get(1)
    if not ok or victim is None:
        run.kill_group()
        run.wait()
        return dict(ok=False, detail=f'could not find rank 1 in epoch 2 (ranks {ranks})', seconds=None)
    workers = _children(victim)
    os.kill(victim, signal.SIGKILL)
    killed = time.monotonic()
    code = run.wait(timeout=120)
    seconds = time.monotonic() - killed
    lines = run.err_lines()
    last = lines[-1] if lines else ''
    time.sleep(1.0)
    leftover = [p for p in workers + list(ranks.values()) if _alive(p)]
    again = Run(cmd)
    resumed = again.wait() == 0 and 'Load checkpoint from' in again.text() and (work / 'epoch_2.pth').is_file()
    expected = 'error: 2 process(es) of the job failed, first rank 1 (signal 9, SIGKILL)'
    passed = code != 0 and seconds <= 60 and last == expected and not leftover and resumed
    return dict(ok=passed, seconds=round(seconds, 1), last_line=last, leftover=leftover, resumed=resumed,
                workers_of_rank_1=len(workers))


def _mount_tmpfs(folder: Path, size: int) -> bool:
    if os.geteuid() != 0 or not shutil.which('mount'):
        return False
    folder.mkdir(parents=True, exist_ok=True)
    return subprocess.run(['mount', '-t', 'tmpfs', '-o', f'size={size}', 'tmpfs', str(folder)],
                          capture_output=True).returncode == 0


def disk_full(root: Path, ref: dict) -> dict:
    ref_work = ref['work']
    epoch = (ref_work / 'epoch_1.pth').stat().st_size
    best = sum(p.stat().st_size for p in ref_work.glob('best_*.pth'))
    logs = sum(p.stat().st_size for p in ref_work.rglob('*') if p.is_file() and p.suffix != '.pth')
    mount = root / 'tmpfs'
    # room for epoch 1 (+ its best checkpoint and the logs), not for epoch 2 beside it
    size = epoch + best + logs + epoch // 2 + (1 << 20)
    on_tmpfs = _mount_tmpfs(mount, size)
    work = mount / 'work' if on_tmpfs else root / 'diskfull'
    try:
        if on_tmpfs:
            run = Run(train_cmd(work))
        else:  # inject ENOSPC into the save of epoch 2
            code = ('import runpy, sys\nfrom pyskl.engine.checkpoint_hook import AtomicLocalBackend\n'
                    'put = AtomicLocalBackend.put\n'
                    'def full(self, obj, path):\n    if str(path).endswith("epoch_2.pth"):\n'
                    '        raise OSError(28, "No space left on device")\n    return put(self, obj, path)\n'
                    'AtomicLocalBackend.put = full\nsys.argv = sys.argv[1:]\nrunpy.run_path(sys.argv[0], run_name="__main__")\n')
            cmd = train_cmd(work)
            run = Run([sys.executable, '-c', code] + cmd[1:])
        run.wait()
        one, last = one_line_error(run, r'No space left .* the last good checkpoint is \S*epoch_1\.pth')
        intact = not unreadable_checkpoints(work) and (work / 'epoch_1.pth').is_file()
        if on_tmpfs:  # free space
            subprocess.run(['mount', '-o', f'remount,size={size * 20}', str(mount)], check=True)
        again = Run(train_cmd(work))
        resumed = again.wait() == 0 and 'Load checkpoint from' in again.text()
        equal, diff = compare(ref['weights'], state_dict(work / 'epoch_2.pth')) if resumed else (False, None)
        stale = sorted(p.name for p in work.glob('best_*.pth'))
        return dict(ok=one and intact and resumed and len(stale) <= 1, how='tmpfs' if on_tmpfs else 'injected ENOSPC',
                    last_line=last, epoch_1_intact=intact, resumed=resumed, bit_equal=equal, max_abs_diff=diff,
                    best_files=stale)
    finally:
        if on_tmpfs:
            subprocess.run(['umount', '-l', str(mount)], capture_output=True)


def nan_loss(root: Path) -> list:
    import torch
    rows = []
    for policy in ('stop', 'skip'):
        work = root / f'nan_{policy}'
        options = ['optimizer.lr=1e6'] + (['nan_policy=skip', 'nan_max_skips=3'] if policy == 'skip' else [])
        run = Run(train_cmd(work, *options))
        run.wait()
        pattern = (r'at epoch \d+, iteration \d+/\d+ .*training stopped' if policy == 'stop'
                   else r'3 batches skipped already|made a weight nan or inf')
        one, last = one_line_error(run, pattern)
        finite = True
        for path in work.glob('*.pth'):
            finite &= all(torch.isfinite(t).all().item() for t in state_dict(path).values() if t.is_floating_point())
        skipped = len(re.findall(r'batch skipped, no step', run.text()))
        # skip: batches are skipped and logged; the run ends normally or stops after 3 skips, in one line
        passed = one if policy == 'stop' else (skipped >= 1 and (one or run.proc.returncode == 0))
        last = last or f'exit status {run.proc.returncode}'
        rows.append(dict(policy=policy, ok=passed and finite, last_line=last,
                         checkpoints=len(list(work.glob('*.pth'))), all_finite=finite, skipped_logged=skipped))
    return rows


def two_trainings(root: Path) -> dict:
    work = root / 'twice'
    first = Run(train_cmd(work))
    first.wait_for(PROGRESS.pattern)
    second = Run(train_cmd(work))
    second.wait(timeout=120)
    one, last = one_line_error(second, r'is in use by another training \(pid \d+')
    first.kill()  # a crash: the lock must not stay
    first.wait()
    third = Run(train_cmd(work))
    took_over = third.wait_for(PROGRESS.pattern)
    third.kill()
    third.wait()
    return dict(ok=one and took_over, last_line=last, after_a_kill_the_next_run_starts=took_over)


EVIL = '''
import os
class Evil:
    def __reduce__(self):
        return (os.system, ('touch {marker}',))
'''


def bad_files(root: Path, ref: dict) -> list:
    import torch
    from pyskl.utils import load_pickle
    folder = root / 'bad'
    folder.mkdir()
    marker = folder / 'CODE_RAN'
    namespace: dict = {}
    exec(EVIL.format(marker=marker), namespace)  # noqa: S102 - the malicious object under test
    evil = namespace['Evil']()
    ann = REPO / 'tools/data/demo/demo_3danno.pkl'
    data = ann.read_bytes()
    (folder / 'truncated.pkl').write_bytes(data[:len(data) // 2])
    (folder / 'evil.pkl').write_bytes(pickle.dumps(dict(split={}, annotations=[evil])))
    torch.save(dict(state_dict={}, meta=evil), folder / 'evil.pth')
    ckpt = (ref['work'] / 'epoch_2.pth').read_bytes()
    (folder / 'truncated.pth').write_bytes(ckpt[:len(ckpt) // 2])
    content = load_pickle(ann)
    content['split']['train'] = []
    (folder / 'empty_split.pkl').write_bytes(pickle.dumps(content))
    ann_opt = 'data.train.dataset.ann_file='
    test = [sys.executable, 'tools/test.py', CONFIG]
    cases = [
        ('truncated annotation file', train_cmd(folder / 'w1', ann_opt + str(folder / 'truncated.pkl')),
         r'truncated\.pkl'),
        ('annotation pickle with code', train_cmd(folder / 'w2', ann_opt + str(folder / 'evil.pkl')), r'evil\.pkl'),
        ('empty training split', train_cmd(folder / 'w3', ann_opt + str(folder / 'empty_split.pkl')),
         r'the training set is empty'),
        ('truncated checkpoint (test.py)', test + [str(folder / 'truncated.pth'), '--eval', 'top_k_accuracy'],
         r'truncated\.pth is not a readable checkpoint'),
        ('checkpoint with code (test.py)', test + [str(folder / 'evil.pth'), '--eval', 'top_k_accuracy'],
         r'evil\.pth'),
        ('result file with code (ensemble.py)', [sys.executable, 'tools/ensemble.py', str(folder / 'evil.pkl'),
                                                 str(ref['work'] / 'last_pred.pkl'), '--ann-file', str(ann),
                                                 '--split', 'val'], r'evil\.pkl'),
    ]
    rows = []
    for name, cmd, pattern in cases:
        run = Run(cmd)
        run.wait(timeout=600)
        one, last = one_line_error(run, pattern)
        rows.append(dict(case=name, ok=one and not marker.exists(), last_line=last, code_ran=marker.exists()))
    # auto-resume past a truncated latest checkpoint: resumes from epoch 1, says so, ends as the reference
    work = folder / 'resume'
    work.mkdir()
    shutil.copy(ref['work'] / 'epoch_1.pth', work / 'epoch_1.pth')
    (work / 'epoch_2.pth').write_bytes(ckpt[:len(ckpt) // 3])
    (work / 'last_checkpoint').write_text(str(work / 'epoch_2.pth'))
    run = Run(train_cmd(work))
    code = run.wait()
    said = re.search(r'Resuming from \S*epoch_1\.pth, the newest readable checkpoint; skipped: \S*epoch_2\.pth',
                     run.text()) is not None
    equal, diff = compare(ref['weights'], state_dict(work / 'epoch_2.pth')) if code == 0 else (False, None)
    rows.append(dict(case='truncated latest checkpoint (auto-resume)', ok=code == 0 and said and equal,
                     last_line='resumed from epoch_1.pth and said so' if said else run.err_lines()[-1:],
                     bit_equal=equal, max_abs_diff=diff))
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--kills', type=int, default=20)
    parser.add_argument('--seed', type=int, default=0, help='seed of the kill moments')
    parser.add_argument('--scenarios', nargs='+', default=['kills', 'rank', 'disk', 'nan', 'twice', 'bad'])
    parser.add_argument('--options', nargs='*', default=[], help='more --cfg-options for every training run')
    parser.add_argument('--out', default=None, help='write every trial\'s record here (JSON)')
    args = parser.parse_args(argv)
    EXTRA_OPTIONS.extend(args.options)
    import torch
    rng = random.Random(args.seed)
    record: dict = dict(machine=f'{platform.node()}, {os.cpu_count()} cores, {platform.machine()}',
                        torch=torch.__version__, date=time.strftime('%Y-%m-%d %H:%M'), command=' '.join(
                            train_cmd(Path('WORK'))[1:]))
    started = time.monotonic()
    rows = []
    with tempfile.TemporaryDirectory(prefix='pyskl_faults_') as tmp:
        root = Path(tmp)
        ref = reference(root)
        record['reference_seconds'] = round(ref['seconds'], 1)
        print(f'reference run: {ref["seconds"]:.0f} s; marks {ref["marks"]}', flush=True)
        if 'kills' in args.scenarios:
            trials = []
            for i in range(args.kills):
                moment = MOMENTS[i % len(MOMENTS)]
                trials.append(kill_trial(root, i, moment, rng, ref))
                print(json.dumps(trials[-1]), flush=True)
            record['kills'] = trials
            equal = sum(t['bit_equal'] for t in trials)
            lost = sum(len(t['lost']) for t in trials)
            worst = max(t['max_abs_diff'] for t in trials)
            landed = Counter(t['landed'] if not t['finished_before_kill'] else 'after the run had ended'
                             for t in trials)
            where = ', '.join(f'{name} {n}' for name, n in sorted(landed.items()))
            rows.append(('SIGKILL at a random moment, then the same command', len(trials),
                         sum(t['bit_equal'] and not t['lost'] for t in trials),
                         f'{equal}/{len(trials)} final weights bit-equal to the uninterrupted run (max abs diff '
                         f'{worst:g}); {lost} checkpoints lost or unreadable; where the kill landed (last log '
                         f'line): {where}'))
        if 'rank' in args.scenarios:
            r = rank_dies(root)
            record['rank'] = r
            rows.append(('rank 1 of 2 (dist_train.sh) SIGKILLed in epoch 2', 1, int(r['ok']),
                         f'job ended {r["seconds"]} s after the kill: `{r.get("last_line")}`; leftover processes '
                         f'{r.get("leftover")}; the same command resumed: {r.get("resumed")}'))
        if 'disk' in args.scenarios:
            r = disk_full(root, ref)
            record['disk'] = r
            rows.append((f'disk full during the epoch-2 save ({r["how"]})', 1, int(r['ok']),
                         f'`{r["last_line"]}`; epoch 1 intact: {r["epoch_1_intact"]}; resumed with space: '
                         f'{r["resumed"]}, weights bit-equal: {r["bit_equal"]}; best files after: {r["best_files"]}'))
        if 'nan' in args.scenarios:
            for r in nan_loss(root):
                record[f'nan_{r["policy"]}'] = r
                rows.append((f'loss nan/inf (lr=1e6), nan_policy={r["policy"]}', 1, int(r['ok']),
                             f'`{r["last_line"]}`; checkpoints written {r["checkpoints"]}, all finite: '
                             f'{r["all_finite"]}; skips logged {r["skipped_logged"]}'))
        if 'twice' in args.scenarios:
            r = two_trainings(root)
            record['twice'] = r
            rows.append(('two trainings in one work dir', 1, int(r['ok']),
                         f'the second: `{r["last_line"]}`; after the first is killed, a new run starts: '
                         f'{r["after_a_kill_the_next_run_starts"]}'))
        if 'bad' in args.scenarios:
            for r in bad_files(root, ref):
                record.setdefault('bad', []).append(r)
                extra = f'; code ran: {r["code_ran"]}' if 'code_ran' in r else f'; bit-equal: {r.get("bit_equal")}'
                rows.append((r['case'], 1, int(r['ok']), f'`{r["last_line"]}`{extra}'))
    record['seconds'] = round(time.monotonic() - started)
    print(f'\n# {record["machine"]}, torch {record["torch"]}, {record["date"]}; {record["seconds"]} s in all')
    print(f'# python {record["command"]}')
    print('| scenario | trials | passed | outcome |')
    print('|---|---|---|---|')
    for name, trials, passed, outcome in rows:
        print(f'| {name} | {trials} | {passed} | {outcome} |')
    if args.out:
        Path(args.out).write_text(json.dumps(record, indent=1, default=str))
    return 0 if all(passed == trials for _, trials, passed, _ in rows) else 1


if __name__ == '__main__':
    sys.exit(main())
