"""tools/benchmarks/zoo_table.py and pyskl.evaluation.zoo_table: a real (tiny) training run and its
model_speed.json read back into the table; zoo models without a run; seeds as mean ± half range;
resumed, restarted, unfinished and separately tested runs from logs in the format a run writes."""
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from pyskl.datasets.demo_data import make_demo_annotations
from pyskl.evaluation import mean_class_accuracy, top_k_accuracy
from pyskl.evaluation.zoo_table import (ZOO, markdown_table, model_figures, read_run, train_command, zoo_table)
from pyskl.utils.machine import cpu_model, usable_cores
from pyskl.utils.safe_pickle import dump_pickle, load_pickle

REPO = Path(__file__).resolve().parents[2]
DEMO = 'configs/dgstgcn/demo/j.py'
ENV = {'OMP_NUM_THREADS': '1', 'PYTHONPATH': str(REPO)}


def _tool(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, *args], cwd=REPO, capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, **ENV))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


@pytest.fixture(scope='module')
def real_run(tmp_path_factory):
    """The demo config trained for one epoch of 16 samples and tested on 8 (``--test-last``), then
    ``model_speed.py --infer-only --json`` into its work dir: (work dir, annotation file, wall seconds)."""
    root = tmp_path_factory.mktemp('zoo_table')
    ann = root / 'ann.pkl'
    dump_pickle(make_demo_annotations(seed=1, num_train=2, num_val=1, min_len=30, max_len=50), ann)
    work = root / 'run'
    start = time.monotonic()
    _tool('tools/train.py', DEMO, '--validate', '--test-last', '--seed', '0', '--work-dir', str(work),
          '--cfg-options', 'total_epochs=1', 'data.train.times=1', 'data.videos_per_gpu=8', 'data.workers_per_gpu=0',
          *(f'data.{split}.ann_file={ann}' for split in ('train.dataset', 'val', 'test')))
    wall = time.monotonic() - start
    _tool('tools/benchmarks/model_speed.py', DEMO, '--infer-only', '--iters', '1', '--warmup', '0', '--batch', '2',
          '--json', str(work / 'model_speed.json'))
    return work, ann, wall


def test_a_real_run_fills_its_row(real_run):
    work, ann, wall = real_run
    table = zoo_table([str(work)], zoo={})
    (row, ) = table['rows']
    assert row['model'] == 'DGSTGCN' and row['config'] == DEMO and row['seeds'] == [0] and row['unfinished'] == 0

    # the accuracies of the last model: those of its scores (last_pred.pkl) against the labels
    scores = np.stack(load_pickle(work / 'last_pred.pkl'))
    data = load_pickle(ann)
    labels = {a['frame_dir']: a['label'] for a in data['annotations']}
    labels = np.array([labels[name] for name in data['split']['val']])
    assert row['top1']['values'] == [pytest.approx(top_k_accuracy(scores, labels, (1, ))[0], abs=1e-4)]
    assert row['mean_class']['values'] == [pytest.approx(mean_class_accuracy(scores, labels), abs=1e-4)]
    assert 0 < row['train_seconds']['mean'] <= wall + 1
    assert row['machines'] == [f'{cpu_model()}, {usable_cores()} cores; torch {__import__("torch").__version__}, '
                               '1 thread']  # the run had OMP_NUM_THREADS=1

    # FLOPs per clip as model_speed counted them (on two clips), parameters of the model built here
    speed = json.loads((work / 'model_speed.json').read_text())
    assert row['gflops'] == pytest.approx(speed['predict_gflop_per_clip'], rel=1e-9)
    from pyskl.apis import init_recognizer
    assert row['params'] == sum(p.numel() for p in init_recognizer(DEMO).parameters() if p.requires_grad)
    assert row['clips_per_s']['values'] == [speed['results']['fast']['predict_clips_per_s']]

    # the run changed the demo's recipe on the command line: its command cannot reproduce it, and says so
    assert row['changed'] and 'train_cfg' in row['changed'] and 'model' not in row['changed']
    assert row['commands'] == [train_command(DEMO, 0, str(work))]
    assert any(note.startswith(f'{work} (seed 0): its config differs from {DEMO} in train_cfg')
               for note in table['notes'])
    line = markdown_table(table).splitlines()[2]
    assert line.startswith(f'| DGSTGCN | `{DEMO}` | 0 | {100 * row["top1"]["mean"]:.1f} | ')
    assert f'| {row["clips_per_s"]["mean"]:.0f} | `python tools/train.py {DEMO} ' in line


def test_the_tool_prints_markdown_and_writes_json(real_run, tmp_path):
    work = real_run[0]
    out = tmp_path / 'table.json'
    done = _tool('tools/benchmarks/zoo_table.py', str(work), '--json', str(out), '--no-model-figures')
    lines = done.stdout.splitlines()
    assert lines[0].startswith('| model | config | seeds | top-1 (%) | mean class acc. (%) | training | machine |')
    assert [line.split(' | ')[0] for line in lines[2:2 + len(ZOO) + 1]] == \
        ['| ' + name for name in ZOO.values()] + ['| DGSTGCN']
    table = json.loads(out.read_text())
    assert table['rows'][-1]['runs'][0]['work_dir'] == str(work) and 'params' not in table['rows'][-1]


def test_the_tools_help_and_errors(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location('zoo_table_tool', REPO / 'tools/benchmarks/zoo_table.py')
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    with pytest.raises(SystemExit):
        tool.main(['--help'])
    assert 'model_speed.py configs/MODEL/nwucla_xview/j_cpu.py --infer-only' in capsys.readouterr().out
    with pytest.raises(SystemExit, match=f"^zoo_table: work dir '{tmp_path / 'missing'}' does not exist$"):
        tool.main([str(tmp_path / 'missing')])


def test_zoo_models_without_a_run_get_their_commands_and_not_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no work_dirs here
    table = zoo_table(zoo={'stgcn++': ZOO['stgcn++']}, figures=False)
    assert table['notes'] == []
    assert markdown_table(table).splitlines()[2] == (
        '| ST-GCN++ | `configs/stgcn++/nwucla_xview/j_cpu.py` | - | not run | not run | not run | not run | - | - '
        '| not run | `python tools/train.py configs/stgcn++/nwucla_xview/j_cpu.py --validate --test-last --seed 0`'
        '<br>`python tools/benchmarks/model_speed.py configs/stgcn++/nwucla_xview/j_cpu.py --infer-only --json '
        'work_dirs/stgcn++/nwucla_xview/j_cpu/model_speed.json` |')
    assert markdown_table(table, brief=True).splitlines() == [
        '| model | seeds | top-1 (%) | mean class acc. (%) | training | params | GFLOPs/clip | clips/s | command |',
        '|---|---|---|---|---|---|---|---|---|',
        '| ST-GCN++ | - | not run | not run | not run | - | - | not run '
        '| `python tools/train.py configs/stgcn++/nwucla_xview/j_cpu.py --validate --test-last --seed 0` |']


def test_parameters_and_flops_are_the_models_not_the_runs():
    """Counted on the readable implementation, whatever the config's impl; the same as model_speed's
    count for a model without a fast path (its FLOPs are of one clip, linear in the clip count)."""
    fig = model_figures('configs/ctrgcn/nwucla_xview/j_cpu.py')
    assert fig['backbone'] == 'CTRGCN' and fig['clip'] == dict(M=1, T=32, V=20, C=3)
    # the original's NTU-60 model (fixtures README: 1,446,672) with 10 classes instead of 60 (head
    # 256 x 50 + 50), a data BatchNorm over 1 person x 20 joints x 3 instead of 2 x 25 x 3 (weight and
    # bias), and each of the 10 blocks' A of 3 x 20 x 20 instead of 3 x 25 x 25
    assert fig['params'] == 1_446_672 - 257 * 50 - 2 * (150 - 60) - 10 * 3 * (625 - 400)


def _copy_run(src: Path, dst: Path, seed: int | None = None, top1: float | None = None) -> Path:
    """``src``'s work dir (logs and saved configs; no checkpoints) at ``dst``, with the seed in its log
    and the top-1 of its test set to ``seed`` and ``top1``."""
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns('*.pth', '*.png'))
    (log, ) = dst.glob('*/*.log')
    text = log.read_text()
    if seed is not None:
        text = text.replace(', seed 0; environment', f', seed {seed}; environment')
    if top1 is not None:
        lines = text.splitlines(keepends=True)
        i = max(i for i, line in enumerate(lines) if 'Epoch(test)' in line and 'top1_acc' in line)
        head, _, rest = lines[i].partition('top1_acc: ')
        lines[i] = f'{head}top1_acc: {top1:.4f}{rest[6:]}'
        text = ''.join(lines)
    log.write_text(text)
    return dst


def test_seeds_share_a_row_as_mean_and_half_range(real_run, tmp_path):
    work = real_run[0]
    runs = [_copy_run(work, tmp_path / 'j', seed=0, top1=0.9), _copy_run(work, tmp_path / 'j_seed1', seed=1, top1=0.87),
            _copy_run(work, tmp_path / 'j_seed2', seed=2, top1=0.92)]
    unfinished = _copy_run(work, tmp_path / 'j_seed3', seed=3)  # killed before its first epoch ended
    (log, ) = unfinished.glob('*/*.log')
    text = log.read_text()
    log.write_text(text[:text.index('Epoch(train) [1]')].rsplit('\n', 1)[0] + '\n')
    table = zoo_table([str(p) for p in runs + [unfinished]], zoo={}, figures=False)
    (row, ) = table['rows']
    assert row['seeds'] == [0, 1, 2] and row['unfinished'] == 1
    assert row['top1']['mean'] == pytest.approx(0.8967, abs=1e-4) and row['top1']['spread'] == pytest.approx(0.025)
    assert row['clips_per_s']['spread'] == 0  # the same model_speed.json copied
    assert row['commands'] == [train_command(DEMO, s, str(p)) for s, p in enumerate(runs)]
    assert f'{unfinished} (seed 3): epoch 0 of 1, not counted' in table['notes']
    cells = markdown_table(table).splitlines()[2].split(' | ')
    assert cells[2:4] == ['0, 1, 2', '89.7 ± 2.5']


# ------------------------------------------------------------------ logs in the format a run writes
CONFIG_LINE = ('Config configs/x/j.py, work dir {w}, device cpu, 1 process, seed 3; environment and full config '
               'in {w}/{ts}/{ts}.log')
MACHINE = 'Machine: Some CPU, 2 cores; torch 2.13.0+cpu, 2 threads'
TEST = ('Epoch(test) [58/58]    top1_acc: {:.4f}  top5_acc: 1.0000  mean_class_accuracy: {:.4f}  data_time: 0.01  '
        'time: 0.5')


def _session(work: Path, ts: str, records: list[tuple[str, str]], max_epochs: int = 2) -> None:
    """A log ``work/ts/ts.log`` of (HH:MM:SS, message) records, and the config the session saved."""
    folder = work / ts
    (folder / 'vis_data').mkdir(parents=True)
    (folder / 'vis_data' / 'config.py').write_text(f'train_cfg = dict(by_epoch=True, max_epochs={max_epochs})\n')
    day = f'{ts[:4]}/{ts[4:6]}/{ts[6:8]}'
    lines = [f'{day} {t} - mmengine - INFO - {m.format(w=work, ts=ts)}' for t, m in records]
    (folder / f'{ts}.log').write_text('\n'.join(lines) + '\n')


def _killed(work, ts):
    _session(work, ts, [('10:00:00', MACHINE), ('10:00:00', CONFIG_LINE),
                        ('10:00:05', 'Checkpoints will be saved to {w}.'),
                        ('10:10:00', 'Saving checkpoint at 1 epochs'),
                        ('10:10:30', 'Epoch(val) [1][5/5]    top1_acc: 0.5000  mean_class_accuracy: 0.5000')])


def test_a_resumed_run_sums_its_sessions_and_reads_the_last_models_test(tmp_path):
    work = tmp_path / 'w'
    _killed(work, '20261201_100000')
    _session(work, '20261201_110000', [
        ('11:00:00', MACHINE), ('11:00:00', CONFIG_LINE), ('11:00:01', 'resumed epoch: 1, iter: 10'),
        ('11:00:02', 'Checkpoints will be saved to {w}.'), ('11:10:00', 'Saving checkpoint at 2 epochs'),
        ('11:10:20', 'Epoch(val) [2][5/5]    top1_acc: 0.8000  mean_class_accuracy: 0.8000'),
        ('11:10:21', 'Testing the last checkpoint'), ('11:11:00', TEST.format(0.9, 0.89)),
        ('11:11:01', 'Testing the best checkpoint'), ('11:12:00', TEST.format(0.95, 0.94))])
    run = read_run(str(work))
    assert (run.seed, run.epochs, run.max_epochs, run.finished) == (3, 2, 2, True)
    assert run.train_seconds == 630 + 620  # 10:00:00-10:10:30 and 11:00:00-11:10:20: testing not counted
    assert (run.top1, run.mean_class, run.machine) == (0.9, 0.89, MACHINE[len('Machine: '):])
    assert run.clips_per_s is None

    # tools/test.py into the same work dir: on the best checkpoint ignored, on the last epoch's read
    _session(work, '20261202_090000', [('09:00:00', CONFIG_LINE.replace('seed 3', 'seed 77')),
                                       ('09:00:01', 'Load checkpoint from {w}/best_top1_acc_epoch_1.pth'),
                                       ('09:01:00', TEST.format(0.5, 0.5))])
    assert read_run(str(work)).top1 == 0.9
    _session(work, '20261202_100000', [('10:00:00', CONFIG_LINE.replace('seed 3', 'seed 77')),
                                       ('10:00:01', 'Load checkpoint from {w}/epoch_2.pth'),
                                       ('10:01:00', TEST.format(0.91, 0.9))])
    run = read_run(str(work))
    assert (run.top1, run.seed, run.train_seconds) == (0.91, 3, 1250)


def test_a_run_started_afresh_forgets_the_earlier_one(tmp_path):
    work = tmp_path / 'w'
    _killed(work, '20261201_100000')
    _session(work, '20261201_110000', [('11:00:00', CONFIG_LINE), ('11:00:02', 'Checkpoints will be saved to {w}.'),
                                       ('11:00:09', 'Saving checkpoint at 1 epochs')])
    run = read_run(str(work))
    assert (run.epochs, run.train_seconds, run.machine, run.finished, run.top1) == (1, 9, None, False, None)
    table = zoo_table([str(work)], zoo={}, figures=False)
    assert table['notes'] == [f'{work} (seed 3): epoch 1 of 2, not counted']
    cells = markdown_table(table).splitlines()[2].split(' | ')
    assert cells[2:7] == ['-', 'unfinished', 'unfinished', 'unfinished', 'unfinished']


def test_a_speed_file_of_another_config_or_format_is_refused(tmp_path):
    work = tmp_path / 'w'
    _killed(work, '20261201_100000')
    (work / 'model_speed.json').write_text(json.dumps(dict(config='configs/y/j.py', results={
        'default': dict(predict_clips_per_s=10.0, train_times_s=[])})))
    with pytest.raises(ValueError, match="measured 'configs/y/j.py', not the run's config 'configs/x/j.py'"):
        read_run(str(work))
    (work / 'model_speed.json').write_text(json.dumps(dict(config='configs/x/j.py', results={})))
    with pytest.raises(ValueError, match='is not the --json output of tools/benchmarks/model_speed.py'):
        read_run(str(work))


def test_model_speed_counts_ctrgcn(tmp_path):
    """model_speed.py on CTR-GCN's recipe (its FLOP count failed under no_grad): the table's speed source."""
    out = tmp_path / 'speed.json'
    _tool('tools/benchmarks/model_speed.py', 'configs/ctrgcn/nwucla_xview/j_cpu.py', '--infer-only', '--iters', '1',
          '--warmup', '0', '--batch', '1', '--impl', 'fast', '--json', str(out))
    speed = json.loads(out.read_text())
    assert speed['results']['fast']['predict_clips_per_s'] > 0 and speed['results']['fast']['train_times_s'] == []
    assert speed['predict_gflop_per_clip'] == pytest.approx(
        model_figures('configs/ctrgcn/nwucla_xview/j_cpu.py')['gflops'], rel=1e-9)
