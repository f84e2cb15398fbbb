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
NOT_RUN = 'not run'

_RECORD = re.compile(r'^(\d{4}/\d\d/\d\d \d\d:\d\d:\d\d) - mmengine - \w+ - (.*)$')
_CONFIG_LINE = re.compile(r'^Config (.+?), work dir .*, seed (\d+);')
_EPOCH = re.compile(r'^(?:Saving checkpoint at (\d+) epochs|Epoch\((?:train|val)\) +\[(\d+)\]|'
                    r'resumed epoch: (\d+))')
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
                run.max_epochs = _max_epochs(run.saved_config)
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
                epoch = _EPOCH.match(message)
                if epoch:
                    run.epochs = max(run.epochs, int(next(g for g in epoch.groups() if g)))
            if training and testing is None:
                last_time = time
        if training and records:
            train_seconds += (last_time - records[0][0]).total_seconds()
            run.train_seconds = train_seconds
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


def zoo_rows(work_dirs: list[str] | None = None, zoo: dict = ZOO, figures: bool = True) -> list[dict]:
    """One row per config: the zoo's models in ``zoo`` order (those without a run too), then any other
    config that a run in ``work_dirs`` (default: every :data:`DEFAULT_WORK_DIRS` there is) trained.

    A row holds the runs of its config, their figures (``top1``, ``mean_class``, ``train_seconds``,
    ``clips_per_s``: ``mean``, ``spread``, ``values``, or None), and unless ``figures`` is False
    ``params`` and ``gflops`` of the model (the config's as the first run saved it, else the file)."""
    work_dirs = sorted(glob.glob(DEFAULT_WORK_DIRS)) if work_dirs is None else list(work_dirs)
    groups: dict[str, list[Run]] = {}
    notes = []
    for work_dir in work_dirs:
        run = read_run(work_dir)
        if run.config is None:
            notes.append(f'{work_dir}: no training log')
            continue
        groups.setdefault(_relative(run.config), []).append(run)
    keys = [f'configs/{m}/{RECIPE}' for m in zoo]
    keys += sorted(k for k in groups if _zoo_model(k) is None or _zoo_model(k) not in zoo)
    rows = []
    for config in keys:
        model = _zoo_model(config)
        runs = sorted(next((g for k, g in groups.items() if osp.normpath(k) == osp.normpath(config)), []),
                      key=lambda r: (r.seed is None, r.seed))
        finished = [r for r in runs if r.finished]
        row = dict(model=ZOO.get(model, model) if model else None, config=config, runs=[asdict(r) for r in runs],
                   seeds=[r.seed for r in finished],
                   unfinished=[f'{_relative(r.work_dir)} (seed {r.seed}): epoch {r.epochs} of {r.max_epochs}'
                               for r in runs if not r.finished],
                   top1=_summary([r.top1 for r in finished if r.top1 is not None]),
                   mean_class=_summary([r.mean_class for r in finished if r.mean_class is not None]),
                   train_seconds=_summary([r.train_seconds for r in finished if r.train_seconds is not None]),
                   clips_per_s=_summary([r.clips_per_s for r in runs if r.clips_per_s is not None]),
                   machines=sorted({r.machine or 'not recorded' for r in finished}),
                   commands=[train_command(config, r.seed, None if model and osp.normpath(_relative(r.work_dir))
                                           == _default_work_dir(model) else _relative(r.work_dir))
                             for r in (finished or runs)] or [train_command(config)],
                   speed_command=speed_command(config, _relative(runs[0].work_dir) if runs else
                                               _default_work_dir(model)))
        if row['model'] is None:
            row['model'] = runs[0].config if runs else config
        if figures:
            saved = next((r.saved_config for r in finished if r.saved_config and osp.isfile(r.saved_config)), None)
            row.update(model_figures(saved or config))
        rows.append(row)
    if notes:
        rows.append(dict(notes=notes))
    return rows


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


def markdown_table(rows: list[dict]) -> str:
    """The rows of :func:`zoo_rows` as a Markdown table, then a line per unfinished run or note."""
    lines = ['| model | config | seeds | top-1 (%) | mean class acc. (%) | training | machine | params '
             '| GFLOPs/clip | clips/s | command |', '|' + '---|' * 11]
    notes = []
    for row in rows:
        if 'notes' in row:
            notes += row['notes']
            continue
        notes += [f'{row["model"]}: {u}, not counted' for u in row['unfinished']]
        not_trained = 'unfinished' if row['unfinished'] else NOT_RUN
        not_tested = 'not tested' if row['seeds'] else not_trained
        percent = lambda v: f'{100 * v:.1f}'  # noqa: E731
        speed = _figure(row['clips_per_s'], lambda v: f'{v:.0f}', NOT_RUN)
        speeds = [r['speed'] for r in row['runs'] if r['speed']]
        if speeds and not all(s['infer_only'] for s in speeds):
            speed += ' (not --infer-only)'
        commands = row['commands'] + [row['speed_command']]
        lines.append('| ' + ' | '.join([
            row['model'], f'`{row["config"]}`', ', '.join(str(s) for s in row['seeds']) or '-',
            _figure(row['top1'], percent, not_tested), _figure(row['mean_class'], percent, not_tested),
            _figure(row['train_seconds'], _minutes, not_trained), '; '.join(row['machines']) or not_trained,
            f'{row["params"] / 1e6:.2f} M' if 'params' in row else '-',
            f'{row["gflops"]:.2f}' if 'gflops' in row else '-',
            speed, '<br>'.join(f'`{c}`' for c in commands)]) + ' |')
    return '\n'.join(lines + [''] + [f'- {n}' for n in notes] if notes else lines) + '\n'

