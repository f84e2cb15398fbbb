"""The Runner config of a training or test run: the translated config plus the command line's choices.

``tools/train.py`` and ``tools/test.py`` only parse arguments and call these, so the
same runs can be set up from Python.
"""
import copy
import os.path as osp
from typing import Any

import torch
from mmengine.config import Config

from .checkpoint import find_resume_checkpoint
from .legacy_config import translate_legacy_config

#: The number of GPUs the released configs' learning rates were tuned for (videos_per_gpu x 8).
ORIGINAL_NUM_GPUS = 8


def default_work_dir(cfg: Config) -> str:
    """``./work_dirs/<config name>`` for a config that names no ``work_dir``."""
    name = osp.splitext(osp.basename(cfg.filename))[0] if cfg.filename else 'run'
    return osp.join('./work_dirs', name)


def _as_list(evaluator: Any) -> list:
    """An evaluator setting (None, one name or dict, or a list of them) as a list."""
    if evaluator is None:
        return []
    return list(evaluator) if isinstance(evaluator, (list, tuple)) else [evaluator]


def test_evaluators(metrics: str | dict | list | None, *, out: str | None = None, confusion_dir: str | None = None,
                    confusion_prefix: str = 'confusion_matrix') -> list[dict]:
    """The test evaluators: the accuracy metrics (names for ``AccMetric``, or evaluator config
    dicts such as a config's ``test_evaluator``), the confusion matrix (PNG + CSV in
    ``confusion_dir``, when metrics are computed) and the score dump to ``out``."""
    metrics = _as_list(metrics)
    evaluators: list[dict] = []
    names = [m for m in metrics if isinstance(m, str)]
    if names:
        evaluators.append(dict(type='AccMetric', metric_list=names))
    evaluators.extend(dict(copy.deepcopy(m)) for m in metrics if not isinstance(m, str))
    if evaluators and confusion_dir is not None:
        evaluators.append(dict(type='ConfusionMatrix', out_dir=confusion_dir, file_prefix=confusion_prefix))
    if out is not None:
        evaluators.append(dict(type='DumpScores', out_file_path=out))
    return evaluators


def _dataset_files(dataset: Any, where: str):
    """``(config path, file)`` of each ``ann_file``/``label_map`` in a dataset config, through wrappers."""
    if isinstance(dataset, dict):
        for key in ('ann_file', 'label_map'):
            if isinstance(dataset.get(key), str):
                yield f'{where}.{key}', osp.join(dataset.get('data_root') or '', dataset[key])
        if 'dataset' in dataset:
            yield from _dataset_files(dataset['dataset'], f'{where}.dataset')
        for i, inner in enumerate(dataset.get('datasets') or []):  # ConcatDataset
            yield from _dataset_files(inner, f'{where}.datasets.{i}')


def check_data_files(cfg: Config, loaders: tuple[str, ...], original_form: bool = False) -> None:
    """Fail early, naming the config entry, when a dataset's annotation file or label map is missing.

    ``original_form``: name the entry as the original config format does (``data.train...``).
    """
    for loader in loaders:
        for where, path in _dataset_files((cfg.get(loader) or {}).get('dataset'), f'{loader}.dataset'):
            if not osp.isfile(path):
                where = _original_name(where) if original_form else where
                raise FileNotFoundError(
                    f'{path} does not exist ({where} in {cfg.filename or "the config"}); prepare the data as the '
                    f'README says, or point it at your file: --cfg-options {where}=PATH')


def _original_name(where: str) -> str:
    """The original config's name of a translated dataloader entry: ``train_dataloader.dataset`` -> ``data.train``."""
    for split in ('train', 'val', 'test'):
        prefix = f'{split}_dataloader.dataset'
        if where.startswith(prefix):
            return f'data.{split}' + where[len(prefix):]
    return where


def _distributed_settings(cfg: Config, dist: dict) -> None:
    cfg.launcher = dist['launcher']
    if 'dist_cfg' in dist:
        cfg.env_cfg = dict(cfg.get('env_cfg') or {}, dist_cfg=dist['dist_cfg'])
    elif cfg.get('env_cfg') and 'dist_cfg' in cfg.env_cfg:  # CPU: the group is up already, with gloo
        cfg.env_cfg = {k: v for k, v in cfg.env_cfg.items() if k != 'dist_cfg'}
    if 'model_wrapper_cfg' in dist:
        wrapper = dict(cfg.get('model_wrapper_cfg') or {})
        if 'find_unused_parameters' in cfg:
            wrapper.setdefault('find_unused_parameters', cfg.find_unused_parameters)
        cfg.model_wrapper_cfg = {**wrapper, **dist['model_wrapper_cfg']}


def dist_options(cfg: Config) -> dict | None:
    """The config's process-group options: ``env_cfg.dist_cfg``, or the original's ``dist_params``."""
    return (cfg.get('env_cfg') or {}).get('dist_cfg') or cfg.get('dist_params')


def _common(cfg: Config, dist: dict, work_dir: str | None) -> tuple[Config, bool]:
    """The translated config with work dir and process settings, and whether it came in the original form."""
    original_form = 'data' in cfg
    cfg = translate_legacy_config(cfg)
    cfg.work_dir = work_dir or cfg.get('work_dir') or default_work_dir(cfg)
    cfg.setdefault('default_scope', 'pyskl')
    _distributed_settings(cfg, dist)
    return cfg, original_form


def prepare_train_config(cfg: Config, dist: dict | None = None, *, work_dir: str | None = None,
                         validate: bool = False, test: bool = False, resume: str | None = None,
                         amp: bool = False, seed: int | None = None, deterministic: bool = False,
                         auto_scale_lr: bool = False, curves: bool = True) -> Config:
    """The Runner config for training.

    Args:
        cfg: the loaded config (original or mmengine form).
        dist: :func:`pyskl.apis.launch.init_distributed`'s settings (default: one process).
        work_dir: overrides the config's ``work_dir``.
        validate: validate during training (else the config's validation is dropped).
        test: the test set is needed after training (``--test-last``/``--test-best``).
        resume: ``None``/``'auto'``: resume from the work dir's last checkpoint if there
            is one (unless the config sets ``auto_resume=False``), or from the config's
            ``resume_from``; a path: resume from that checkpoint.
        amp: mixed precision (``AmpOptimWrapper``; needs a CUDA GPU).
        seed, deterministic: ``randomness``.
        auto_scale_lr: scale the learning rate linearly from the config's batch size
            (``videos_per_gpu`` x 8 GPUs unless ``auto_scale_lr.base_batch_size`` says
            otherwise) to the actual one (``videos_per_gpu`` x processes).
        curves: write ``training_curves.png``/``.csv`` (``TrainingCurvesHook``).
    """
    cfg, original_form = _common(cfg, dist or dict(launcher='none'), work_dir)
    name = cfg.filename or 'the config'
    for key in ('model', 'train_dataloader', 'optim_wrapper', 'train_cfg'):
        if not cfg.get(key):
            hint = {'train_dataloader': 'data.train', 'optim_wrapper': 'optimizer', 'train_cfg': 'total_epochs'}
            raise KeyError(f'{name} has no {key}' + (f' (original form: {hint[key]})' if key in hint else ''))

    if validate:
        if not cfg.get('val_dataloader'):
            raise KeyError(f'--validate needs a validation set: {name} has no data.val (or val_dataloader)')
    else:
        for key in ('val_dataloader', 'val_cfg', 'val_evaluator'):
            cfg.pop(key, None)
    if test and not cfg.get('test_dataloader'):
        raise KeyError(f'--test-last/--test-best need a test set: {name} has no data.test (or test_dataloader)')
    check_data_files(cfg, ('train_dataloader', ) + (('val_dataloader', ) if validate else ())
                     + (('test_dataloader', ) if test else ()), original_form)

    hooks = dict(cfg.get('default_hooks') or {})
    checkpoint = dict(hooks.get('checkpoint') or dict(interval=1))
    if checkpoint.get('type', 'CheckpointHook') in ('CheckpointHook', 'mmengine.CheckpointHook'):
        checkpoint['type'] = 'AtomicCheckpointHook'  # a kill during a save must not corrupt the last checkpoint
    if not validate:
        checkpoint.pop('save_best', None)
        checkpoint.pop('rule', None)
    hooks['checkpoint'] = checkpoint
    cfg.default_hooks = hooks

    custom = list(cfg.get('custom_hooks') or [])
    wanted = ['TrainingCurvesHook'] if curves else []
    if cfg.launcher != 'none':
        # Every process ends an epoch with the same BatchNorm statistics (their mean), so
        # validation, the saved checkpoint and the in-memory model tested after training agree.
        wanted.append('SyncBuffersHook')
    for hook in wanted:
        if not any(h.get('type') == hook for h in custom):
            custom.append(dict(type=hook))
    cfg.custom_hooks = custom

    if amp:
        if not torch.cuda.is_available():
            raise ValueError('--amp needs a CUDA GPU (mixed precision runs on torch.cuda.amp); drop --amp on CPU')
        cfg.optim_wrapper = dict(cfg.optim_wrapper, type='AmpOptimWrapper')
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    cfg.randomness = dict(cfg.get('randomness') or {})
    cfg.randomness.setdefault('seed', None)  # None: mmengine draws one and shares it across processes
    if seed is not None:
        cfg.randomness['seed'] = seed
    if deterministic:
        cfg.randomness['deterministic'] = True
    if auto_scale_lr:
        base = dict(cfg.get('auto_scale_lr') or {})
        base.setdefault('base_batch_size', cfg.train_dataloader['batch_size'] * ORIGINAL_NUM_GPUS)
        cfg.auto_scale_lr = dict(base, enable=True)

    if resume not in (None, 'auto'):
        cfg.resume, cfg.load_from = True, resume
    elif cfg.get('resume') and cfg.get('load_from'):
        pass  # the config's resume_from
    else:
        found = find_resume_checkpoint(cfg.work_dir) if (resume == 'auto' or cfg.get('auto_resume', True)) else None
        cfg.resume = found is not None
        if found is not None:
            cfg.load_from = found
    return cfg


def prepare_test_config(cfg: Config, dist: dict | None = None, *, work_dir: str | None = None,
                        metrics: list[str] | None = None, out: str | None = None,
                        average_clips: str | None = None) -> Config:
    """The Runner config for testing a checkpoint (which the caller loads).

    Args:
        metrics: the ``--eval`` names (``top_k_accuracy``, ``mean_class_accuracy``); with
            them, the confusion matrix is written into the work dir too. ``None``: none.
        out: the result file (a list with one score array per test sample, dataset order).
        average_clips: ``'prob'``, ``'score'`` or ``'none'``: how the model fuses the scores
            of a sample's clips (``model.test_cfg.average_clips``).
    """
    if not metrics and not out:
        raise ValueError('nothing to do: give --eval METRIC ... and/or --out RESULT.pkl')
    cfg, original_form = _common(cfg, dist or dict(launcher='none'), work_dir)
    if not cfg.get('test_dataloader'):
        raise KeyError(f'{cfg.filename or "the config"} has no test set (data.test or test_dataloader)')
    evaluation_options = {}
    for evaluator in _as_list(cfg.get('test_evaluator')):
        if evaluator.get('type') == 'AccMetric' and evaluator.get('metric_options'):
            evaluation_options = evaluator['metric_options']
    check_data_files(cfg, ('test_dataloader', ), original_form)
    cfg.test_evaluator = test_evaluators(metrics, out=out, confusion_dir=cfg.work_dir)
    if evaluation_options and metrics:
        cfg.test_evaluator[0]['metric_options'] = evaluation_options
    cfg.test_cfg = cfg.get('test_cfg') or dict(type='TestLoop')
    if average_clips is not None:
        if average_clips not in ('prob', 'score', 'none'):
            raise ValueError(f"--average-clips {average_clips!r}: choose 'prob', 'score' or 'none'")
        cfg.model.test_cfg = dict(cfg.model.get('test_cfg') or {},
                                  average_clips=None if average_clips == 'none' else average_clips)
    for key in ('train_dataloader', 'train_cfg', 'optim_wrapper', 'param_scheduler', 'val_dataloader', 'val_cfg',
                'val_evaluator'):
        cfg.pop(key, None)
    cfg.load_from, cfg.resume = None, False
    return cfg
