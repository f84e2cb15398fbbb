"""tools/benchmarks/fuzz_inputs.py, run as a user runs it, with a few dozen mutated inputs per
converter and PoseDataset: every outcome is a sane output, a counted skip or a one-line error
naming the file."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def fuzz(*args: str, code: str | None = None) -> tuple[subprocess.CompletedProcess, dict]:
    """The tool's run (or ``code``'s, which runs the tool after patching the library) and its trials."""
    out = Path(args[args.index('--json') + 1])
    cmd = [sys.executable, '-c', code] if code else [sys.executable, 'tools/benchmarks/fuzz_inputs.py']
    done = subprocess.run([*cmd, *args], cwd=REPO, capture_output=True, text=True, timeout=600)
    return done, json.loads(out.read_text()) if out.exists() else {}


@pytest.mark.parametrize('target, trials', [('ntu', 40), ('nwucla', 25), ('arrays', 40), ('dataset', 40)])
def test_no_mutated_input_gives_a_raw_error_a_hang_or_corruption(tmp_path, target, trials):
    done, results = fuzz('--targets', target, '--trials', str(trials), '--seed', '1', '--json', str(tmp_path / 'o'))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    outcomes = {outcome for _, outcome, _ in results[target]}
    assert len(results[target]) == trials and not any(o.startswith('BAD') for o in outcomes), done.stdout
    assert 'ok' in outcomes and outcomes & {'skip', 'error'}  # the mutations do reach the checks
    assert f'| {target} | {trials} |' in done.stdout


def test_the_same_seed_gives_the_same_trials(tmp_path):
    runs = [fuzz('--targets', 'arrays', '--trials', '8', '--seed', '3', '--json', str(tmp_path / f'{i}.json'))[1]
            for i in range(2)]
    assert runs[0] == runs[1] and len(runs[0]['arrays']) == 8


# the tool, run after breaking the NTU converter: it raises a raw error naming no file
BROKEN_CONVERTER = '''
import runpy, sys
import pyskl.datasets.converters.ntu as ntu

def convert_ntu(*args, **kwargs):
    raise IndexError('index 3 is out of bounds')

ntu.convert_ntu = convert_ntu
sys.argv[0] = 'tools/benchmarks/fuzz_inputs.py'
runpy.run_path(sys.argv[0], run_name='__main__')
'''


def test_a_raw_error_counts_as_bad(tmp_path):
    done, results = fuzz('--targets', 'ntu', '--trials', '2', '--json', str(tmp_path / 'o'), code=BROKEN_CONVERTER)
    assert done.returncode == 1  # a BAD outcome fails the run
    assert [outcome for _, outcome, _ in results['ntu']] == ['BAD raw', 'BAD raw']
    assert 'ntu: ' in done.stdout and ': BAD raw: IndexError: index 3 is out of bounds' in done.stdout
