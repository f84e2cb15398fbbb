"""The model-zoo table: what each training run left in its work dir, one row per model.

A run of ``python tools/train.py CONFIG --validate --test-last --seed S`` leaves in its work dir
one log per session (``<time>/<time>.log``; a resumed run has several) and the config it ran
(``<time>/vis_data/config.py``). From them, per run:

- the test of the last model (``--test-last``, or ``tools/test.py`` on the last epoch's checkpoint
  with the same work dir): top-1 and mean class accuracy;
- the training wall time: per session, from its first log line to its last before testing (data
  loading and the per-epoch validations included), summed over the sessions since the run
  started afresh;
- the machine (the ``Machine:`` line a training run logs) and the seed;
- inference clips/s from ``model_speed.json`` in the work dir, written by
  ``tools/benchmarks/model_speed.py CONFIG --infer-only --json WORK_DIR/model_speed.json``.

Per model, from its config: trainable parameters and GFLOPs per clip (torch's flop counter, where
a multiply-add counts 2, on the readable implementation and one clip of the test pipeline's shape).

Runs of one config (several seeds) share a row: mean ± half their range, so that every seed's
figure lies within it. A zoo model without a run gets its command and "not run", never an estimate.
"""
import datetime as dt
import glob
import json
import os.path as osp
import re
from dataclasses import asdict, dataclass, field

from .metrics import MEAN_CLASS_KEY, TOP1_KEY

#: The zoo's models, in table order: config folder -> the name papers use.
ZOO = {'dgstgcn': 'DG-STGCN', 'stgcn': 'ST-GCN', 'stgcn++': 'ST-GCN++', 'aagcn': 'AAGCN', 'ctrgcn': 'CTR-GCN',
       'msg3d': 'MS-G3D'}
#: The recipe every zoo model runs: ``configs/<model>/<RECIPE>``.
RECIPE = 'nwucla_xview/j_cpu.py'
#: The work dirs read by default (a second seed goes to e.g. ``.../j_cpu_seed1`` with ``--work-dir``).
DEFAULT_WORK_DIRS = 'work_dirs/*/nwucla_xview/j_cpu*'
SPEED_FILE = 'model_speed.json'
#: What makes a run the recipe's: a run whose saved config differs from its config file in one of
#: these is not the config's row as it stands (a note says so).
RECIPE_KEYS = ('model', 'train_cfg', 'param_scheduler', 'optim_wrapper.optimizer', 'train_dataloader.batch_size',
               'train_dataloader.dataset', 'val_dataloader.dataset', 'test_dataloader.dataset')
NOT_RUN = 'not run'

_RECORD = re.compile(r'^(\d{4}/\d\d/\d\d \d\d:\d\d:\d\d) - mmengine - \w+ - (.*)$')
_CONFIG_LINE = re.compile(r'^Config (.+?), work dir .*, seed (\d+);')
#: the epochs a record says are done: a checkpoint or validation after epoch k, a resume from it, the
#: last iteration of epoch k (``Epoch(train) [k][n/n]``; an earlier one: k - 1)
_EPOCH = re.compile(r'^(?:Saving checkpoint at (\d+) epochs|Epoch\(val\) +\[(\d+)\]|resumed epoch: (\d+)|'
                    r'Epoch\(train\) +\[(\d+)\]\[ *(\d+)/(\d+)\])')
_METRIC = re.compile(r'(\w+): ([-+0-9.eE]+|nan)')


# ---------------------------------------------------------------------------------------------- one run
@dataclass
class Run:
    """What one work dir holds about its run (None: not in the work dir)."""
    work_dir: str
    config: str | None = None  # the config file the training ran, as its command named it
    seed: int | None = None
    epochs: int = 0  # epochs trained
    max_epochs: int | None = None
    train_seconds: float | None = None
    machine: str | None = None
    top1: float | None = None  # of the last model, in [0, 1]
    mean_class: float | None = None
    clips_per_s: float | None = None  # model_speed.json's, of the implementation the model runs by default
    speed: dict = field(default_factory=dict)  # model_speed.json: impl, batch, infer_only, machine
    saved_config: str | None = None  # the config file as the run saved it
    changes: list | None = None  # RECIPE_KEYS in which the saved config differs from the file (None: not compared)

    @property
    def finished(self) -> bool:
        return self.max_epochs is not None and self.epochs >= self.max_epochs


def _records(log: str) -> list[tuple[dt.datetime, str]]:
    """(time, first line of the message) of each record of an mmengine log file."""
    out = []
    with open(log, encoding='utf-8', errors='replace') as f:
        for line in f:
            found = _RECORD.match(line.rstrip('\n'))
            if found:
                out.append((dt.datetime.strptime(found[1], '%Y/%m/%d %H:%M:%S'), found[2]))
    return out


def _metrics(message: str) -> dict:
    return {key: float(value) for key, value in _METRIC.findall(message.split(']', 1)[-1])}


def _max_epochs(config: str) -> int | None:
    from pyskl.runner.config import load_config
    train_cfg = load_config(config).get('train_cfg') or {}
    return train_cfg.get('max_epochs')


def read_run(work_dir: str) -> Run:
    """The run in ``work_dir`` from its logs (oldest first), saved config and ``model_speed.json``."""
    if not osp.isdir(work_dir):
        raise ValueError(f'work dir {work_dir!r} does not exist')
    run = Run(work_dir=work_dir)
    train_seconds = 0.0
    for log in sorted(glob.glob(osp.join(glob.escape(work_dir), '*', '*.log'))):
        records = _records(log)
        messages = [m for _, m in records]
        training = any(m.startswith('Checkpoints will be saved to') for m in messages)
        if training and not any(m.startswith('resumed epoch:') for m in messages):  # a fresh start
            run = Run(work_dir=work_dir)
            train_seconds = 0.0
        loaded, testing, last_time = None, None, None
        for time, message in records:
            found = _CONFIG_LINE.match(message)
            if found and training:
                run.config, run.seed = found[1], int(found[2])
                saved = osp.join(osp.dirname(log), 'vis_data', 'config.py')
                run.saved_config = saved if osp.isfile(saved) else osp.join(work_dir, osp.basename(found[1]))
                run.max_epochs = _max_epochs(run.saved_config) if osp.isfile(run.saved_config) else None
            elif message.startswith('Machine: ') and training:
                run.machine = message[len('Machine: '):].strip()
            elif message.startswith('Load checkpoint from '):
                loaded = osp.basename(message[len('Load checkpoint from '):].strip())
            elif message.startswith('Testing the '):
                testing = message[len('Testing the '):].split()[0]  # last / best
            elif message.startswith('Epoch(test)') and TOP1_KEY in message:
                last_epoch = run.max_epochs is not None and loaded == f'epoch_{run.max_epochs}.pth'
                if testing == 'last' or (not training and last_epoch):
                    values = _metrics(message)
                    run.top1, run.mean_class = values[TOP1_KEY], values.get(MEAN_CLASS_KEY)
            elif training and testing is None:
                done = _EPOCH.match(message)
                if done:
                    checkpoint, validated, resumed, epoch, it, iters = done.groups()
                    epoch = int(epoch) - (it != iters) if epoch else int(checkpoint or validated or resumed)
                    run.epochs = max(run.epochs, epoch)
            if training and testing is None:
                last_time = time
        if training and records:
            train_seconds += (last_time - records[0][0]).total_seconds()
            run.train_seconds = train_seconds
    if run.saved_config and run.config and osp.isfile(run.saved_config) and osp.isfile(run.config):
        run.changes = config_changes(run.saved_config, run.config)
    _read_speed(run)
    return run


def _read_speed(run: Run) -> None:
    """``run``'s clips/s from ``model_speed.json`` in its work dir, if there is one."""
    path = osp.join(run.work_dir, SPEED_FILE)
    if not osp.isfile(path):
        return
    try:
        with open(path, encoding='utf-8') as f:
            out = json.load(f)
        results = out['results']
        impl = next(i for i in ('fast', 'default', *results) if i in results)  # what the model runs by default
        clips = float(results[impl]['predict_clips_per_s'])
    except (ValueError, KeyError, TypeError, StopIteration) as e:
        raise ValueError(f'{path} is not the --json output of tools/benchmarks/model_speed.py ({e!r})') from None
    if run.config and osp.realpath(out.get('config', '')) != osp.realpath(run.config):
        raise ValueError(f'{path} measured {out.get("config")!r}, not the run\'s config {run.config!r}')
    machine = out.get('machine') or {}
    run.clips_per_s = clips
    run.speed = dict(impl=impl, batch=out.get('batch'), infer_only=not results[impl].get('train_times_s'),
                     machine=machine.get('gpu') or
                     f"{machine.get('cpu', '?')}, {machine.get('torch_threads', '?')} threads", file=path)


def config_changes(saved: str, config: str) -> list[str]:
    """Which of :data:`RECIPE_KEYS` differ between the config a run saved and the config file it
    names (``--cfg-options``, ``--auto-scale-lr``, no ``--validate``, or the file edited since)."""
    from pyskl.runner.config import load_config
    ran, recipe = load_config(saved).to_dict(), load_config(config).to_dict()

    def get(cfg: dict, key: str):
        for part in key.split('.'):
            cfg = cfg.get(part) if isinstance(cfg, dict) else None
        return cfg

    return [key for key in RECIPE_KEYS if get(ran, key) != get(recipe, key)]


# ---------------------------------------------------------------------------------------------- the model
def model_figures(config: str) -> dict:
    """``params`` (trainable) and ``gflops`` per clip of ``config``'s model: torch's flop counter on the
    readable implementation (``impl='reference'`` where the backbone has a fast one), in eval mode, on
    one clip of the test pipeline's shape (:func:`pyskl.apis.inference.clip_layout`)."""
    import inspect

    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from pyskl.apis.inference import clip_layout, init_recognizer
    from pyskl.registry import MODELS
    from pyskl.runner.config import load_config

    cfg = load_config(config)
    backbone = cfg.model.backbone
    if 'impl' in inspect.signature(MODELS.get(backbone['type'])).parameters:
        backbone['impl'] = 'reference'
    model = init_recognizer(cfg)
    layout = clip_layout(model)
    clip = torch.zeros(1, 1, layout['persons'], layout['frames'], layout['joints'], layout['channels'])
    # with autograd on: under no_grad torch's module tracker fails on a parameter passed into a
    # submodule (CTR-GCN's alpha); the count is of the forward pass either way
    with FlopCounterMode(display=False) as counter:
        model(clip, mode='predict')  # N, clips, M, T, V, C
    return dict(params=sum(p.numel() for p in model.parameters() if p.requires_grad),
                gflops=counter.get_total_flops() / 1e9, backbone=backbone['type'],
                clip=dict(zip('MTVC', clip.shape[2:])))


# ---------------------------------------------------------------------------------------------- the table
def train_command(config: str, seed: int = 0, work_dir: str | None = None) -> str:
    """The command that trains and tests ``config`` as the table's rows were (``--work-dir`` if not the default)."""
    return (f'python tools/train.py {config} --validate --test-last --seed {seed}'
            + (f' --work-dir {work_dir}' if work_dir else ''))


def speed_command(config: str, work_dir: str) -> str:
    """The command that writes the inference speed the table reads."""
    return f'python tools/benchmarks/model_speed.py {config} --infer-only --json {osp.join(work_dir, SPEED_FILE)}'


def _relative(path: str) -> str:
    """``path`` relative to the current directory where it lies below it."""
    rel = osp.relpath(osp.abspath(path))
    return path if rel.startswith('..') else rel


def _zoo_model(config: str | None) -> str | None:
    """The zoo model whose recipe ``config`` is (``configs/<model>/<RECIPE>``), else None."""
    for model in ZOO:
        if config and osp.normpath(config).endswith(osp.join('configs', model, RECIPE)):
            return model
    return None


def _default_work_dir(model: str) -> str:
    return osp.join('work_dirs', model, osp.splitext(RECIPE)[0])


def _summary(values: list[float]) -> dict | None:
    if not values:
        return None
    return dict(mean=sum(values) / len(values), spread=(max(values) - min(values)) / 2, values=values)


def zoo_table(work_dirs: list[str] | None = None, zoo: dict = ZOO, figures: bool = True) -> dict:
    """``rows``: one per config, the zoo's models in ``zoo`` order (those without a run too), then any
    other config that a run in ``work_dirs`` (default: every :data:`DEFAULT_WORK_DIRS` there is)
    trained; ``notes``: runs not counted (unfinished, no training log) and runs whose config differs
    from their config file.

    A row holds its runs (:class:`Run` as dicts), the seeds of its finished runs, their figures
    (``top1``, ``mean_class``, ``train_seconds``, ``clips_per_s``: ``mean``, ``spread`` (half the
    range), ``values``; or None), the machines, the commands, and unless ``figures`` is False the
    model's ``params`` and ``gflops`` (:func:`model_figures` of the config a run saved, else the file).
    """
    work_dirs = sorted(glob.glob(DEFAULT_WORK_DIRS)) if work_dirs is None else list(work_dirs)
    groups: dict[str, list[Run]] = {}
    notes = []
    for work_dir in work_dirs:
        run = read_run(work_dir)
        if run.config is None:
            notes.append(f'{work_dir}: no training log, not counted')
            continue
        groups.setdefault(osp.normpath(_relative(run.config)), []).append(run)
    configs = [osp.join('configs', m, RECIPE) for m in zoo]
    configs += sorted(c for c in groups if c not in configs)
    rows = []
    for config in configs:
        model = _zoo_model(config)
        runs = sorted(groups.get(config, []), key=lambda r: (r.seed is None, r.seed or 0))
        finished = [r for r in runs if r.finished]
        for r in runs:
            where = f'{_relative(r.work_dir)} (seed {r.seed})'
            if not r.finished:
                notes.append(f'{where}: epoch {r.epochs} of {r.max_epochs}, not counted')
            if r.changes:
                notes.append(f'{where}: its config differs from {config} in {", ".join(r.changes)}')
        row = dict(
            model=ZOO[model] if model else None, config=config, runs=[asdict(r) for r in runs],
            seeds=[r.seed for r in finished], unfinished=len(runs) - len(finished),
            top1=_summary([r.top1 for r in finished if r.top1 is not None]),
            mean_class=_summary([r.mean_class for r in finished if r.mean_class is not None]),
            train_seconds=_summary([r.train_seconds for r in finished if r.train_seconds is not None]),
            clips_per_s=_summary([r.clips_per_s for r in runs if r.clips_per_s is not None]),
            machines=sorted({r.machine or 'not recorded' for r in finished}),
            commands=[train_command(config, r.seed, _work_dir_option(r.work_dir, model)) for r in finished or runs]
            or [train_command(config)],
            speed_command=speed_command(config, _relative(runs[0].work_dir) if runs else _default_work_dir(model)),
            changed=sorted({c for r in runs for c in r.changes or ()}))
        if figures or row['model'] is None:
            saved = next((r.saved_config for r in finished + runs if r.saved_config and osp.isfile(r.saved_config)),
                         None)
            if figures:
                row.update(model_figures(saved or config))
            if row['model'] is None:  # not a zoo model: its backbone's type
                from pyskl.runner.config import load_config
                backbone = (load_config(saved or config).get('model') or {}).get('backbone') or {}
                row['model'] = backbone.get('type') or config
        rows.append(row)
    return dict(rows=rows, notes=notes)


def _work_dir_option(work_dir: str, model: str | None) -> str | None:
    """``--work-dir`` of a run's command: None where it is the zoo config's own."""
    work_dir = osp.normpath(_relative(work_dir))
    return None if model and work_dir == _default_work_dir(model) else work_dir


def _figure(summary: dict | None, fmt, missing: str) -> str:
    if summary is None:
        return missing
    if len(summary['values']) == 1:
        return fmt(summary['mean'])
    return f"{fmt(summary['mean'])} ± {fmt(summary['spread'])}"


def _minutes(seconds: float) -> str:
    minutes = seconds / 60
    if minutes >= 60:
        return f'{int(minutes // 60)} h {round(minutes % 60):02d} min'
    return f'{minutes:.1f} min' if minutes < 10 else f'{minutes:.0f} min'


def _percent(value: float) -> str:
    return f'{100 * value:.1f}'


#: The Markdown table's columns; ``brief`` leaves out the config, machine and speed command.
COLUMNS = ('model', 'config', 'seeds', 'top-1 (%)', 'mean class acc. (%)', 'training', 'machine', 'params',
           'GFLOPs/clip', 'clips/s', 'commands')
BRIEF_COLUMNS = ('model', 'seeds', 'top-1 (%)', 'mean class acc. (%)', 'training', 'params', 'GFLOPs/clip',
                 'clips/s', 'command')


def _cells(row: dict) -> dict:
    """One row's text per column of :data:`COLUMNS` and :data:`BRIEF_COLUMNS`."""
    not_trained = 'unfinished' if row['unfinished'] and not row['seeds'] else NOT_RUN
    not_tested = 'not tested' if row['seeds'] else not_trained
    speed = _figure(row['clips_per_s'], lambda v: f'{v:.0f}', NOT_RUN)
    if any(not r['speed']['infer_only'] for r in row['runs'] if r['speed']):
        speed += ' (not --infer-only)'
    commands = '<br>'.join(f'`{c}`' for c in row['commands'] + [row['speed_command']])
    if row['changed']:
        commands += f'<br>(a run differed from the config in {", ".join(row["changed"])})'
    return {
        'model': row['model'], 'config': f'`{row["config"]}`',
        'seeds': ', '.join(str(s) for s in row['seeds']) or '-',
        'top-1 (%)': _figure(row['top1'], _percent, not_tested),
        'mean class acc. (%)': _figure(row['mean_class'], _percent, not_tested),
        'training': _figure(row['train_seconds'], _minutes, not_trained),
        'machine': '; '.join(row['machines']) or not_trained,
        'params': f'{row["params"] / 1e6:.2f} M' if 'params' in row else '-',
        'GFLOPs/clip': f'{row["gflops"]:.2f}' if 'gflops' in row else '-',
        'clips/s': speed, 'commands': commands, 'command': f'`{row["commands"][0]}`'}


def markdown_table(table: dict, brief: bool = False) -> str:
    """:func:`zoo_table` as a Markdown table, its notes below it. ``brief``: the landing-page form,
    :data:`BRIEF_COLUMNS` (the training command names the config) and no notes."""
    columns = BRIEF_COLUMNS if brief else COLUMNS
    lines = ['| ' + ' | '.join(columns) + ' |', '|' + '---|' * len(columns)]
    for row in table['rows']:
        cells = _cells(row)
        lines.append('| ' + ' | '.join(cells[c] for c in columns) + ' |')
    if table['notes'] and not brief:
        lines += [''] + [f'- {note}' for note in table['notes']]
    return '\n'.join(lines) + '\n'
