"""tools/benchmarks/model_speed.py: in one process and --isolated, --reference-float32, --heap."""
import json
import math
import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CONFIG = 'configs/dgstgcn/demo/j.py'


@pytest.fixture(scope='module')
def model_speed():
    """The benchmark script as a module (it is no package)."""
    sys.path.insert(0, str(REPO / 'tools' / 'benchmarks'))
    try:
        import model_speed
    finally:
        sys.path.pop(0)
    return model_speed


def test_isolated_times_each_implementation_in_its_own_processes(tmp_path):
    out = tmp_path / 'speed.json'
    done = subprocess.run([sys.executable, 'tools/benchmarks/model_speed.py', CONFIG,
                           '--isolated', '--rounds', '2', '--iters', '1', '--warmup', '0', '--batch', '2',
                           '--json', str(out)], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert 'each implementation in fresh processes of its own' in done.stdout
    result = json.loads(out.read_text())
    assert result['isolated'] and result['rounds'] == 2
    runs = result['results']
    assert set(runs) == {'fast', 'reference'}
    for run in runs.values():
        assert len(run['train_times_s']) == 2 and len(run['predict_times_s']) == 2  # 2 rounds x 1 step
        assert all(t > 0 for t in run['train_times_s'] + run['predict_times_s'])
        assert len(run['memory']['peaks']) == 2 and run['memory']['peak'] > 0
    # the same weights in every process: the same loss from both implementations
    assert math.isclose(runs['fast']['loss'], runs['reference']['loss'], rel_tol=1e-5)
    assert result['ratio']['train'] > 0 and result['ratio']['predict'] > 0


def test_in_process_run_takes_peak_memory_from_fresh_processes(tmp_path):
    out = tmp_path / 'speed.json'
    done = subprocess.run([sys.executable, 'tools/benchmarks/model_speed.py', CONFIG,
                           '--iters', '1', '--warmup', '0', '--batch', '2', '--memory-repeats', '1',
                           '--json', str(out)], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads(out.read_text())
    assert not result['isolated']
    for run in result['results'].values():
        assert len(run['train_times_s']) == 1 and len(run['predict_times_s']) == 1
        assert run['memory']['peaks'] == [run['memory']['peak']] and run['memory']['peak'] > 2**20
    assert result['ratio']['peak_memory'] > 0


def test_reference_float32_keeps_only_the_reference_out_of_autocast(model_speed):
    args = model_speed.parse_args([CONFIG, '--amp', '--reference-float32', '--isolated'])
    assert model_speed.autocasts(args, 'fast') and not model_speed.autocasts(args, 'reference')
    assert '--amp' in model_speed.child_cmd(args, 'fast', 'train')
    assert '--amp' not in model_speed.child_cmd(args, 'reference', 'train')
    with pytest.raises(SystemExit):  # without --amp there is nothing to keep the reference out of
        model_speed.parse_args([CONFIG, '--reference-float32'])
    plain = model_speed.parse_args([CONFIG, '--amp'])
    assert model_speed.autocasts(plain, 'reference') and '--amp' in model_speed.child_cmd(plain, 'reference', 'predict')


# a fresh process (the setting is process-wide): minor page faults of each of 12 steps that each
# make and free two 64 MiB tensors
REUSED_TENSOR_FAULTS = """
import resource, sys, torch
sys.path.insert(0, 'tools/benchmarks')
import model_speed
applied = model_speed.retain_freed_memory() if sys.argv[1] == 'retain' else False
x = torch.ones(16 * 2**20)
faults = []
for _ in range(12):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    y = x * 2
    z = y + 1
    del y, z
    faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
print(applied, *faults)
"""


@pytest.mark.skipif(not (sys.platform.startswith('linux') and platform.libc_ver()[0] == 'glibc'),
                    reason='--heap retain sets glibc')
def test_heap_retain_reuses_freed_memory_without_page_faults():
    def step_faults(heap):
        env = {k: v for k, v in os.environ.items() if k != 'THP_MEM_ALLOC_ENABLE'}
        done = subprocess.run([sys.executable, '-c', REUSED_TENSOR_FAULTS, heap], cwd=REPO, capture_output=True,
                              text=True, timeout=120, env=env)
        assert done.returncode == 0, done.stderr[-2000:]
        applied, *faults = done.stdout.split()
        return applied == 'True', [int(f) for f in faults]

    applied, faults = step_faults('retain')
    # the heap grows for the first steps (small allocations split the freed blocks: 0-4 steps of
    # 16,384-32,768 faults in 12 runs), then the freed tensors' pages are reused
    assert applied and sum(faults[-3:]) < 1000, faults
    applied, faults = step_faults('glibc')
    assert not applied and min(faults[1:]) > 16384, faults  # glibc unmapped them: each new page is faulted in


def test_reference_heap_needs_isolated_processes(model_speed):
    args = model_speed.parse_args([CONFIG, '--isolated', '--reference-heap', 'retain'])
    assert model_speed.heap_of(args, 'fast') == 'glibc' and model_speed.heap_of(args, 'reference') == 'retain'
    assert model_speed.child_cmd(args, 'reference', 'train')[-2:] == ['--heap', 'retain']
    with pytest.raises(SystemExit):  # in one process both implementations share one heap
        model_speed.parse_args([CONFIG, '--reference-heap', 'retain'])


def test_heap_retain_off_glibc_is_refused(model_speed, monkeypatch):
    monkeypatch.setattr(model_speed.platform, 'libc_ver', lambda: ('', ''))  # musl, macOS
    assert model_speed.retain_freed_memory() is False
    with pytest.raises(SystemExit, match='does not run on glibc'):  # not a report of a heap that was not set
        model_speed.main([CONFIG, '--heap', 'retain'])
