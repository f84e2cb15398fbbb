"""A few dozen mutated inputs per converter and PoseDataset (tools/benchmarks/fuzz_inputs.py): every
outcome is a sane output, a counted skip or a one-line error naming the file."""
import importlib.util
from pathlib import Path

import pytest

TOOL = Path(__file__).resolve().parents[2] / 'tools' / 'benchmarks' / 'fuzz_inputs.py'


@pytest.fixture(scope='module')
def fuzz_inputs():
    spec = importlib.util.spec_from_file_location('fuzz_inputs', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize('target, trials', [('ntu', 40), ('nwucla', 25), ('arrays', 40), ('dataset', 40)])
def test_no_mutated_input_gives_a_raw_error_a_hang_or_corruption(fuzz_inputs, target, trials):
    results = fuzz_inputs.fuzz(target, trials, seed=1)
    bad = [r for r in results if r[1].startswith('BAD')]
    assert not bad, bad[:3]
    outcomes = {outcome for _, outcome, _ in results}
    assert 'ok' in outcomes and outcomes & {'skip', 'error'}  # the mutations do reach the checks


def test_the_same_seed_gives_the_same_trials(fuzz_inputs):
    assert fuzz_inputs.fuzz('arrays', 8, seed=3) == fuzz_inputs.fuzz('arrays', 8, seed=3)


def test_a_raw_error_counts_as_bad(fuzz_inputs, monkeypatch):
    def broken(tmp, rng, nrng, trial):
        trial['kind'] = 'x'
        raise IndexError('index 3 is out of bounds')

    monkeypatch.setitem(fuzz_inputs.TARGETS, 'ntu', (broken, ('S001',)))
    assert fuzz_inputs.fuzz('ntu', 1, seed=0) == [('x', 'BAD raw', 'IndexError: index 3 is out of bounds')]
