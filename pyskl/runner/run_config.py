"""The Runner config of a training or test run: the loaded config plus the command line's choices.

The way of a config from the command line to mmengine's Runner::

    cfg = load_config(path, cfg_options)                     # read, override, translate
    dist = init_distributed(launcher, dist_options(cfg))     # the process group
    cfg = prepare_train_config(cfg, dist, ...)               # or prepare_test_config
    runner = PysklRunner.from_cfg(cfg)

Every later step reads the translated (mmengine-form) config only. Each setting is
decided in one place: the translation in :func:`~pyskl.runner.config.load_config`, the
process group in :func:`~pyskl.runner.launch.init_distributed`, the checkpoint hook in
:func:`prepare_train_config`, the test evaluator in :func:`test_evaluator` (for
``tools/test.py`` and for ``--test-last``/``--test-best`` alike).

``tools/train.py`` and ``tools/test.py`` only parse arguments and call these, so the
same runs can be set up from Python.
"""
import copy
import os.path as osp
from typing import Any

import torch
from mmengine.config import Config

from .. import engine  # noqa: F401 (registers CPUAmpOptimWrapper for --amp on CPU)
from ..engine.non_finite import guard_optim_wrapper
from .checkpoint import find_resume_checkpoint
from .config import load_config

#: The number of GPUs the released configs' learning rates were tuned for (videos_per_gpu x 8).
ORIGINAL_NUM_GPUS = 8
#: Epoch checkpoints kept by default (the best one is kept besides); -1 in the config keeps all.
DEFAULT_MAX_KEEP_CKPTS = 3
#: Evaluators that only write files; the others compute accuracies.
_FILE_EVALUATORS = ('ConfusionMatrix', 'DumpScores')


def default_work_dir(cfg: Config) -> str:
    """``./work_dirs/<config name>`` for a config that names no ``work_dir``."""
    name = osp.splitext(osp.basename(cfg.filename))[0] if cfg.filename else 'run'
    return osp.join('./work_dirs', name)


def _as_list(evaluator: Any) -> list:
    """An evaluator setting (None, one name or dict, or a list of them) as a list."""
    if evaluator is None:
        return []
    return list(evaluator) if isinstance(evaluator, (list, tuple)) else [evaluator]


def test_evaluator(cfg: Config, metrics: list[str] | None = None, *, out: str | None = None,
                   confusion_prefix: str = 'confusion_matrix') -> list[dict]:
    """The test evaluators of a run, for ``tools/test.py`` and for testing after training alike.

    The config's ``test_evaluator``; ``metrics`` (``--eval`` names for ``AccMetric``)
    replaces its accuracy metrics, keeping their ``metric_options`` (``[]``: none). With
    accuracies, a confusion matrix (PNG + CSV ``confusion_prefix.*`` in the work dir);
    with ``out``, the score dump.
    """
    configured = []
    for entry in _as_list(cfg.get('test_evaluator')):
        configured.append(dict(type='AccMetric', metric_list=[entry]) if isinstance(entry, str)
                          else dict(copy.deepcopy(entry)))
    if metrics is not None:
        options = [e['metric_options'] for e in configured if e.get('type') == 'AccMetric' and 'metric_options' in e]
        configured = [e for e in configured if e.get('type') not in ('AccMetric', 'TopKAccuracy', 'MeanClassAccuracy')]
        if metrics:
            configured.insert(0, dict(type='AccMetric', metric_list=list(metrics),
                                      **(dict(metric_options=options[0]) if options else {})))
    evaluators = [e for e in configured if e.get('type') != 'DumpScores']
    computes = any(e.get('type') not in _FILE_EVALUATORS for e in evaluators)
    if computes and not any(e.get('type') == 'ConfusionMatrix' for e in evaluators):
        evaluators.append(dict(type='ConfusionMatrix', out_dir=cfg.work_dir, file_prefix=confusion_prefix))
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
    """The translated config's process-group options (``env_cfg.dist_cfg``; the original's ``dist_params``)."""
    return (cfg.get('env_cfg') or {}).get('dist_cfg')


def _common(cfg: Config, dist: dict, work_dir: str | None) -> tuple[Config, bool]:
    """A copy of the config with work dir and process settings, and whether it came in the original form.

    ``cfg`` is :func:`~pyskl.runner.config.load_config`'s, or one still in the original form
    (a caller in Python), which goes through it here.
    """
    cfg = load_config(cfg)
    original_form = 'data' in (cfg.get('legacy_keys') or ())
    cfg.work_dir = work_dir or cfg.get('work_dir') or default_work_dir(cfg)
    _distributed_settings(cfg, dist)
    return cfg, original_form


def amp_settings(amp: bool | str) -> dict:
    """The optimizer wrapper of ``--amp``: float16 (default) or bfloat16 autocast on CUDA
    (``AmpOptimWrapper``), bfloat16 on CPU (``CPUAmpOptimWrapper``)."""
    dtype = amp if isinstance(amp, str) else None
    if dtype not in (None, 'float16', 'bfloat16'):
        raise ValueError(f'--amp {amp!r}: choose float16 or bfloat16')
    if torch.cuda.is_available():
        return dict(type='AmpOptimWrapper', dtype=dtype or 'float16')
    if dtype == 'float16':
        raise ValueError('--amp float16 needs a CUDA GPU; on CPU mixed precision is bfloat16 (--amp or --amp bfloat16)')
    return dict(type='CPUAmpOptimWrapper')


def prepare_train_config(cfg: Config, dist: dict | None = None, *, work_dir: str | None = None,
                         validate: bool = False, test: bool = False, resume: str | None = None,
                         amp: bool | str = False, seed: int | None = None, deterministic: bool = False,
                         auto_scale_lr: bool = False, curves: bool = True) -> Config:
    """The Runner config for training.

    Args:
        cfg: the loaded config (original or mmengine form).
        dist: :func:`pyskl.runner.launch.init_distributed`'s settings (default: one process).
        work_dir: overrides the config's ``work_dir``.
        validate: validate during training (else the config's validation is dropped).
        test: the test set is needed after training (``--test-last``/``--test-best``).
        resume: ``None``/``'auto'``: resume from the work dir's last checkpoint if there
            is one (unless the config sets ``auto_resume=False``), or from the config's
            ``resume_from``; a path: resume from that checkpoint.
        amp: mixed precision, see :func:`amp_settings` (True or the dtype name).
        seed, deterministic: ``randomness``.
        auto_scale_lr: scale the learning rate linearly from the config's batch size
            (``videos_per_gpu`` x 8 GPUs unless ``auto_scale_lr.base_batch_size`` says
            otherwise) to the actual one (``videos_per_gpu`` x processes).
        curves: write ``training_curves.png``/``.csv`` (``TrainingCurvesHook``).

    The config may set ``nan_policy`` (``'stop'``, default, or ``'skip'``) and
    ``nan_max_skips`` (10): see :mod:`pyskl.engine.non_finite`.
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
    checkpoint.setdefault('max_keep_ckpts', DEFAULT_MAX_KEEP_CKPTS)
    if not validate:
        checkpoint.pop('save_best', None)
        checkpoint.pop('rule', None)
    hooks['checkpoint'] = checkpoint
    cfg.default_hooks = hooks

    custom = list(cfg.get('custom_hooks') or [])
    wanted = ['TrainingCurvesHook'] if curves else []
    # a resumed run draws what an uninterrupted one draws, and validates the epoch a kill interrupted
    wanted.append('RandomStateHook')
    if validate:
        wanted.append('ValidateOnResumeHook')
    if cfg.launcher != 'none':
        # Every process ends an epoch with the same BatchNorm statistics (their mean), so
        # validation, the saved checkpoint and the in-memory model tested after training agree.
        wanted.append('SyncBuffersHook')
    for hook in wanted:
        if not any(h.get('type') == hook for h in custom):
            custom.append(dict(type=hook))
    cfg.custom_hooks = custom

    if amp:
        wrapper = amp_settings(amp)
        cfg.optim_wrapper = dict(cfg.optim_wrapper, **wrapper)
        if wrapper['type'] == 'AmpOptimWrapper':
            cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
        # validation and the test after training autocast too
        if validate:
            cfg.val_cfg = dict(cfg.get('val_cfg') or dict(type='ValLoop'), fp16=True)
        if test:
            cfg.test_cfg = dict(cfg.get('test_cfg') or dict(type='TestLoop'), fp16=True)
    # a nan/inf loss stops the run before its step (nan_policy='skip': skips up to nan_max_skips batches)
    cfg.optim_wrapper = guard_optim_wrapper(cfg.optim_wrapper, cfg.pop('nan_policy', 'stop'),
                                            cfg.pop('nan_max_skips', 10))
    cfg.randomness = dict(cfg.get('randomness') or {})
    cfg.randomness.setdefault('seed', None)  # None: mmengine draws one and shares it across processes
    if seed is not None:
        cfg.randomness['seed'] = seed
    if deterministic:
        cfg.randomness['deterministic'] = True
        for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
            if cfg.get(loader) and cfg[loader].get('persistent_workers'):
                # each epoch's workers are seeded from the main process's torch state, which resume restores
                cfg[loader]['persistent_workers'] = False
    if auto_scale_lr:
        base = dict(cfg.get('auto_scale_lr') or {})
        base.setdefault('base_batch_size', cfg.train_dataloader['batch_size'] * ORIGINAL_NUM_GPUS)
        cfg.auto_scale_lr = dict(base, enable=True)

    if resume not in (None, 'auto'):
        cfg.resume, cfg.load_from = True, resume
    elif cfg.get('resume') and cfg.get('load_from'):
        pass  # the config's resume_from
    else:
        found = find_resume_checkpoint(cfg.work_dir, readable=True) if (resume == 'auto' or cfg.get('auto_resume', True)) else None
        cfg.resume = found is not None
        if found is not None:
            cfg.load_from = found
    return cfg


def prepare_test_config(cfg: Config, dist: dict | None = None, *, work_dir: str | None = None,
                        metrics: list[str] | None = None, out: str | None = None,
                        average_clips: str | None = None, amp: bool = False) -> Config:
    """The Runner config for testing a checkpoint (which the caller loads).

    Args:
        metrics: the ``--eval`` names (``top_k_accuracy``, ``mean_class_accuracy``) in place
            of the config's accuracy metrics; ``None``: the config's ``test_evaluator``. With
            accuracies, the confusion matrix is written into the work dir too.
        out: the result file (a list with one score array per test sample, dataset order).
        average_clips: ``'prob'``, ``'score'`` or ``'none'``: how the model fuses the scores
            of a sample's clips (``model.test_cfg.average_clips``).
        amp: test under autocast (mmengine's ``TestLoop(fp16=True)``): bfloat16 on CPU, float16 on CUDA.
    """
    cfg, original_form = _common(cfg, dist or dict(launcher='none'), work_dir)
    if not cfg.get('test_dataloader'):
        raise KeyError(f'{cfg.filename or "the config"} has no test set (data.test or test_dataloader)')
    cfg.test_evaluator = test_evaluator(cfg, metrics, out=out)
    if not cfg.test_evaluator:
        raise ValueError(f'nothing to do: {cfg.filename or "the config"} names no test metric; give --eval METRIC '
                         '... and/or --out RESULT.pkl')
    check_data_files(cfg, ('test_dataloader', ), original_form)
    cfg.test_cfg = cfg.get('test_cfg') or dict(type='TestLoop')
    if amp:
        cfg.test_cfg = dict(cfg.test_cfg, fp16=True)
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
