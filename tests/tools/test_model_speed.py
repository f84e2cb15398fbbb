"""tools/benchmarks/model_speed.py, run as a user runs it: in one process and --isolated,
--reference-float32, and a backbone with one implementation."""
import json
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CONFIG = 'configs/dgstgcn/demo/j.py'
TINY = ['--iters', '1', '--warmup', '0', '--batch', '2']


def model_speed(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, 'tools/benchmarks/model_speed.py', *args], cwd=REPO, capture_output=True,
                          text=True, timeout=600, env=env)


def test_isolated_times_each_implementation_in_its_own_processes(tmp_path):
    out = tmp_path / 'speed.json'
    done = model_speed(CONFIG, '--isolated', '--rounds', '2', *TINY, '--json', str(out))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert lines[0] == f'model: DGSTGCN ({CONFIG})' and lines[1].startswith('implementations: fast and reference')
    assert 'each implementation in fresh processes of its own' in done.stdout
    result = json.loads(out.read_text())
    assert result['isolated'] and result['rounds'] == 2 and result['model'] == 'DGSTGCN'
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
    done = model_speed(CONFIG, *TINY, '--memory-repeats', '1', '--json', str(out))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads(out.read_text())
    assert not result['isolated']
    assert result['input_shape'] == dict(M=2, T=32, V=25, C=3)  # the demo's test pipeline and backbone
    for run in result['results'].values():
        assert len(run['train_times_s']) == 1 and len(run['predict_times_s']) == 1
        assert run['memory']['peaks'] == [run['memory']['peak']] and run['memory']['peak'] > 2**20
    assert result['ratio']['peak_memory'] > 0
    assert 'fast / reference: training x' in done.stdout


def test_reference_float32_keeps_only_the_reference_out_of_autocast(tmp_path):
    out = tmp_path / 'speed.json'
    done = model_speed(CONFIG, '--amp', '--reference-float32', '--isolated', '--infer-only', '--rounds', '1', *TINY,
                       '--json', str(out))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads(out.read_text())
    # what each eval-only process ran under
    assert result['results']['fast']['autocast'] == 'bfloat16' and result['results']['reference']['autocast'] is None
    done = model_speed(CONFIG, '--reference-float32')  # without --amp there is nothing to keep the reference out of
    assert done.returncode == 2 and 'give --amp too' in done.stderr


# a registered backbone whose constructor takes no impl, imported by the config (custom_imports)
ONE_CONV_GCN = '''
from mmengine.model import BaseModule
from torch import nn

from pyskl.models.graph import Graph
from pyskl.registry import MODELS


@MODELS.register_module()
class OneConvGCN(BaseModule):
    def __init__(self, graph_cfg, in_channels=3, out_channels=8):
        super().__init__()
        self.graph = Graph(**graph_cfg)
        self.in_channels = in_channels
        self.conv = nn.Conv2d(in_channels, out_channels, 1)

    def forward(self, x):
        N, M, T, V, C = x.shape
        x = x.permute(0, 1, 4, 2, 3).reshape(N * M, C, T, V)  # N, M, T, V, C -> N*M, C, T, V
        return self.conv(x).reshape(N, M, -1, T, V)
'''


def test_a_backbone_without_impl_is_measured_alone(tmp_path):
    (tmp_path / 'one_conv_gcn.py').write_text(ONE_CONV_GCN)
    config = tmp_path / 'one_conv.py'
    config.write_text(textwrap.dedent(f'''
        _base_ = {str(REPO / CONFIG)!r}
        custom_imports = dict(imports=['one_conv_gcn'], allow_failed_imports=False)
        model = dict(backbone=dict(_delete_=True, type='OneConvGCN', graph_cfg=dict(layout='nturgb+d')),
                     cls_head=dict(in_channels=8))
    '''))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(tmp_path), os.environ.get('PYTHONPATH')])))
    out = tmp_path / 'speed.json'
    done = model_speed(str(config), *TINY, '--no-memory', '--json', str(out), env=env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert lines[0] == f'model: OneConvGCN ({config})'
    assert lines[1] == ("one implementation: OneConvGCN's constructor takes no impl, so there is no "
                        "fast / reference ratio")
    assert 'fast / reference:' not in done.stdout and 'interleaved' not in done.stdout
    result = json.loads(out.read_text())
    assert list(result['results']) == ['default'] and 'ratio' not in result and not result['has_reference']
    assert result['results']['default']['train_samples_per_s'] > 0 and result['train_gflop_per_sample'] > 0

    done = model_speed(str(config), '--impl', 'reference', *TINY, env=env)
    assert done.returncode != 0 and '--impl reference: OneConvGCN has one implementation' in done.stderr
