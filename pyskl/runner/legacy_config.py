"""Translate the original PYSKL config format (mmcv 1.x) into mmengine ``Runner`` settings.

The original configs run unchanged: :func:`translate_legacy_config` turns their
keys into the ones ``mmengine.runner.Runner.from_cfg`` reads. A key that is
already in mmengine's form (``train_dataloader``, ``optim_wrapper``,
``param_scheduler``, ``train_cfg``, ``default_hooks.checkpoint``, ...) wins
over the one translated from the original key, so a config may mix both.

=============================  ===============================================
original                       mmengine
=============================  ===============================================
``data.videos_per_gpu``        ``*_dataloader.batch_size`` (per process)
``data.workers_per_gpu``       ``*_dataloader.num_workers`` (+ persistent
                               workers when > 0)
``data.{train,val,test}``      ``{train,val,test}_dataloader.dataset``; val and
                               test datasets get ``test_mode=True``
``data.{train,val,test}_       per-loader overrides (``videos_per_gpu``,
dataloader``                   ``workers_per_gpu``, ``shuffle``, ...)
``optimizer``                  ``optim_wrapper.optimizer`` (``paramwise_cfg``,
                               ``constructor`` move to ``optim_wrapper``)
``optimizer_config.grad_clip`` ``optim_wrapper.clip_grad``
``fp16``                       ``optim_wrapper.type='AmpOptimWrapper'``
``lr_config``                  ``param_scheduler`` (see :func:`lr_config_to_schedulers`)
``total_epochs``               ``train_cfg=dict(by_epoch=True, max_epochs=...)``
``evaluation``                 ``val_evaluator``/``test_evaluator``
                               (``AccMetric``), ``train_cfg.val_interval``,
                               ``val_begin``, checkpoint ``save_best``
``checkpoint_config``          ``default_hooks.checkpoint``
``log_config``                 ``default_hooks.logger`` (+ ``visualizer``
                               backends for TensorBoard/W&B logger hooks)
``dist_params``                ``env_cfg.dist_cfg``
``resume_from``                ``resume=True`` + ``load_from``
``cudnn_benchmark``,           ``env_cfg``
``mp_start_method``,
``opencv_num_threads``
``workflow``                   dropped (validation is ``tools/train.py --validate``)
=============================  ===============================================

``load_from``, ``work_dir``, ``log_level`` and ``auto_resume`` keep their
names. ``default_scope`` becomes ``'pyskl'`` unless set (here, and nowhere else).
``legacy_keys`` lists the original keys that were translated, so that messages can
name a setting as the user wrote it.

The translation is pure (a new config; nothing is read from disk or the
environment). Every caller translates through :func:`pyskl.runner.config.load_config`;
what a run adds on top (the atomic checkpoint hook, the process group, the command
line's choices) is :mod:`pyskl.runner.run_config`'s.

The learning rate is the config's, for the batch it states: ``videos_per_gpu``
x the number of processes (8 GPUs for the released configs). mmengine scales
it linearly to the actual batch when ``auto_scale_lr=dict(enable=True,
base_batch_size=...)`` is set (``tools/train.py --auto-scale-lr``).
"""
import copy
from typing import Any

from mmengine.config import Config

LEGACY_KEYS = ('data', 'optimizer', 'optimizer_config', 'fp16', 'lr_config', 'total_epochs', 'checkpoint_config',
               'evaluation', 'log_config', 'dist_params', 'resume_from', 'workflow', 'cudnn_benchmark',
               'mp_start_method', 'opencv_num_threads')

#: The metric in ``AccMetric``'s output that ``save_best`` defaults to ('auto': the first key, top-1
#: accuracy for the usual ``metrics=['top_k_accuracy', ...]``), as the original's evaluation hook did.
DEFAULT_SAVE_BEST = 'auto'

_LOADER_KEYS = {
    'videos_per_gpu': 'batch_size',
    'workers_per_gpu': 'num_workers',
    'persistent_workers': 'persistent_workers',
    'pin_memory': 'pin_memory',
    'drop_last': 'drop_last',
    'shuffle': 'shuffle',  # goes to the sampler
}
_DATA_KEYS = {'videos_per_gpu', 'workers_per_gpu', 'persistent_workers', 'pin_memory', 'train', 'val', 'test',
              'train_dataloader', 'val_dataloader', 'test_dataloader'}
_LR_COMMON_KEYS = {'policy', 'by_epoch', 'warmup', 'warmup_iters', 'warmup_ratio', 'warmup_by_epoch'}
_LR_POLICY_KEYS = {
    'fixed': set(),
    'step': {'step', 'gamma'},
    'cosineannealing': {'min_lr', 'min_lr_ratio'},
    'poly': {'power', 'min_lr'},
}
_CHECKPOINT_KEYS = {'interval', 'by_epoch', 'max_keep_ckpts', 'save_optimizer', 'out_dir', 'save_last',
                    'create_symlink', 'filename_tmpl'}
_EVALUATION_KEYS = {'interval', 'metrics', 'metric_options', 'save_best', 'rule', 'start', 'by_epoch'}
_LOGGER_HOOK_BACKENDS = {
    'TextLoggerHook': None,  # mmengine's LoggerHook writes the text log itself
    'TensorboardLoggerHook': 'TensorboardVisBackend',
    'WandbLoggerHook': 'WandbVisBackend',
}


def _check_keys(where: str, given: dict, known: set) -> None:
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise KeyError(f'{where}: unknown key(s) {unknown}; known: {sorted(known)} (or write the mmengine '
                       'setting directly)')


def _loader(dataset: dict, settings: dict, shuffle: bool, where: str, test_mode: bool) -> dict:
    """One mmengine dataloader dict from a dataset dict and original-style loader settings."""
    _check_keys(where, settings, set(_LOADER_KEYS))
    out = {_LOADER_KEYS[k]: v for k, v in settings.items()}
    shuffle = out.pop('shuffle', shuffle)
    out.setdefault('batch_size', 1)
    out.setdefault('num_workers', 1)  # the original's default
    # Workers that live across epochs save their start-up cost; torch refuses them with no workers.
    out['persistent_workers'] = bool(out.get('persistent_workers', True)) and out['num_workers'] > 0
    dataset = copy.deepcopy(dataset)
    if test_mode:
        # The original built val/test datasets with test_mode=True (deterministic test-time sampling).
        inner = dataset
        while isinstance(inner.get('dataset'), dict):  # through wrappers such as RepeatDataset
            inner = inner['dataset']
        inner.setdefault('test_mode', True)
    out['dataset'] = dataset
    out['sampler'] = dict(type='DefaultSampler', shuffle=shuffle)
    out['collate_fn'] = dict(type='default_collate')
    return out


def data_to_dataloaders(data: dict) -> dict:
    """``data`` -> ``train_dataloader``, ``val_dataloader``, ``test_dataloader`` (those whose dataset is given)."""
    _check_keys('data', data, _DATA_KEYS)
    common = {k: data[k] for k in ('videos_per_gpu', 'workers_per_gpu', 'persistent_workers', 'pin_memory')
              if k in data}
    out = {}
    for split, shuffle in (('train', True), ('val', False), ('test', False)):
        if split not in data:
            continue
        settings = dict(common, **data.get(f'{split}_dataloader', {}))
        out[f'{split}_dataloader'] = _loader(data[split], settings, shuffle, f'data.{split}_dataloader',
                                             test_mode=split != 'train')
    return out


def optimizer_to_optim_wrapper(optimizer: dict, optimizer_config: dict | None, fp16: dict | None) -> dict:
    """``optimizer`` + ``optimizer_config`` (+ ``fp16``) -> ``optim_wrapper``."""
    optimizer = dict(optimizer)
    wrapper: dict[str, Any] = dict(type='OptimWrapper')
    for key in ('paramwise_cfg', 'constructor'):
        if key in optimizer:
            wrapper[key] = optimizer.pop(key)
    wrapper['optimizer'] = optimizer
    optimizer_config = dict(optimizer_config or {})
    optimizer_config.pop('type', None)  # 'OptimizerHook' / 'Fp16OptimizerHook': the wrapper does both
    _check_keys('optimizer_config', optimizer_config, {'grad_clip', 'cumulative_iters', 'loss_scale'})
    if optimizer_config.get('grad_clip') is not None:
        wrapper['clip_grad'] = dict(optimizer_config['grad_clip'])
    if optimizer_config.get('cumulative_iters', 1) != 1:
        wrapper['accumulative_counts'] = optimizer_config['cumulative_iters']
    if fp16 is not None or 'loss_scale' in optimizer_config:
        wrapper['type'] = 'AmpOptimWrapper'
        wrapper['loss_scale'] = dict(fp16 or {}).get('loss_scale', optimizer_config.get('loss_scale', 'dynamic'))
    return wrapper


def lr_config_to_schedulers(lr_config: dict, max_epochs: int) -> list[dict]:
    """``lr_config`` -> ``param_scheduler`` giving the same learning rate at every iteration.

    Supported policies: ``fixed``, ``step`` (``step`` an int -> ``StepLR``, a list ->
    ``MultiStepLR``; ``gamma``), ``CosineAnnealing`` (``min_lr`` or ``min_lr_ratio``) and
    ``poly`` (``power``, ``min_lr``), per epoch (``by_epoch=True``, the original default) or
    per iteration (``by_epoch=False``: the schedule runs over ``max_epochs * iterations per
    epoch`` iterations, via ``convert_to_iter_based``). Warm-up ``'linear'`` (``LinearLR``
    from ``warmup_ratio`` to 1) or ``'constant'`` (``ConstantLR``) over ``warmup_iters``
    iterations, or epochs with ``warmup_by_epoch=True``, multiplies the main schedule as the
    original did. Three near matches: a warm-up counted in epochs ends one iteration early (for a
    linear one, a relative difference of at most ``(1 - warmup_ratio) / warm-up iterations``
    before that), so does a ``poly`` decay per iteration, and during
    warm-up a cosine schedule with ``min_lr > 0`` is chained, not exactly the original's.
    """
    lr_config = dict(lr_config)
    if 'policy' not in lr_config:
        raise KeyError(f"lr_config needs a 'policy' (one of fixed, step, CosineAnnealing, poly), got {lr_config}")
    policy = str(lr_config['policy']).lower()
    if policy not in _LR_POLICY_KEYS:
        raise ValueError(f"lr_config.policy={lr_config['policy']!r} is not supported; use fixed, step, "
                         'CosineAnnealing or poly, or write param_scheduler in mmengine form')
    _check_keys(f"lr_config (policy {lr_config['policy']!r})", lr_config, _LR_COMMON_KEYS | _LR_POLICY_KEYS[policy])
    by_epoch = lr_config.get('by_epoch', True)
    # An epoch-based schedule that should change the rate every iteration is converted by mmengine.
    timing = dict(by_epoch=True, convert_to_iter_based=True) if not by_epoch else dict(by_epoch=True)
    schedulers = []

    warmup = lr_config.get('warmup')
    if warmup is not None:
        iters = lr_config.get('warmup_iters', 0)
        ratio = lr_config.get('warmup_ratio', 0.1)
        if not iters or iters <= 0:
            raise ValueError(f'lr_config.warmup_iters must be > 0 with warmup={warmup!r}, got {iters}')
        if not 0 < ratio <= 1:
            raise ValueError(f'lr_config.warmup_ratio must be in (0, 1], got {ratio}')
        by_epoch_warmup = lr_config.get('warmup_by_epoch', False)
        span = (dict(by_epoch=True, convert_to_iter_based=True, begin=0, end=iters) if by_epoch_warmup
                else dict(by_epoch=False, begin=0, end=iters))
        # The original's factor at iteration i < n is ratio + (1 - ratio) * i / n ('linear') or
        # ratio ('constant'), and 1 from i = n; mmengine's LinearLR/ConstantLR over [begin, end)
        # reach 1 at end - 1, hence end = n + 1. (A span in epochs cannot be one iteration
        # longer: there the warm-up ends one iteration early.)
        if not by_epoch_warmup:
            span['end'] = iters + 1
        if warmup == 'linear':
            schedulers.append(dict(type='LinearLR', start_factor=ratio, end_factor=1.0, **span))
        elif warmup == 'constant':
            schedulers.append(dict(type='ConstantLR', factor=ratio, **span))
        else:
            raise ValueError(f"lr_config.warmup={warmup!r} is not supported; use 'linear' or 'constant'")

    if policy == 'step':
        if 'step' not in lr_config:
            raise KeyError("lr_config with policy 'step' needs 'step' (an epoch or a list of epochs)")
        step, main = lr_config['step'], dict(gamma=lr_config.get('gamma', 0.1), by_epoch=by_epoch)
        if isinstance(step, int):
            schedulers.append(dict(type='StepLR', step_size=step, **main))
        else:
            schedulers.append(dict(type='MultiStepLR', milestones=list(step), **main))
    elif policy == 'cosineannealing':
        if ('min_lr' in lr_config) == ('min_lr_ratio' in lr_config):
            raise KeyError('lr_config with policy CosineAnnealing needs exactly one of min_lr and min_lr_ratio')
        floor = (dict(eta_min=lr_config['min_lr']) if 'min_lr' in lr_config
                 else dict(eta_min_ratio=lr_config['min_lr_ratio']))
        schedulers.append(dict(type='CosineAnnealingLR', T_max=max_epochs, begin=0, end=max_epochs, **floor,
                               **timing))
    elif policy == 'poly':
        # mmengine's PolyLR reaches eta_min at step end - 1, the original's would at max_epochs:
        # per epoch, end = max_epochs + 1 is exact; per iteration the decay ends one iteration early.
        schedulers.append(dict(type='PolyLR', power=lr_config.get('power', 1.0), eta_min=lr_config.get('min_lr', 0.),
                               begin=0, end=max_epochs + 1 if by_epoch else max_epochs, **timing))
    return schedulers


def evaluation_to_settings(evaluation: dict) -> dict:
    """``evaluation`` -> the evaluator, the validation interval/start and ``save_best``."""
    evaluation = dict(evaluation)
    _check_keys('evaluation', evaluation, _EVALUATION_KEYS)
    if not evaluation.get('by_epoch', True):
        raise ValueError('evaluation.by_epoch=False is not supported; validate per epoch or write val_cfg/train_cfg '
                         'in mmengine form')
    metrics = evaluation.get('metrics', ['top_k_accuracy'])
    metrics = [metrics] if isinstance(metrics, str) else list(metrics)
    evaluator = dict(type='AccMetric', metric_list=metrics)
    if evaluation.get('metric_options'):
        evaluator['metric_options'] = evaluation['metric_options']
    out = dict(evaluator=evaluator, val_interval=evaluation.get('interval', 1),
               save_best=evaluation.get('save_best', DEFAULT_SAVE_BEST))
    if evaluation.get('start') is not None:
        out['val_begin'] = evaluation['start']
    if evaluation.get('rule') is not None:
        out['rule'] = evaluation['rule']
    return out


def checkpoint_config_to_hook(checkpoint_config: dict) -> dict:
    """``checkpoint_config`` -> ``default_hooks.checkpoint`` (mmengine's ``CheckpointHook``)."""
    checkpoint_config = dict(checkpoint_config)
    _check_keys('checkpoint_config', checkpoint_config, _CHECKPOINT_KEYS)
    # mmengine records the latest checkpoint in work_dir/last_checkpoint instead of a latest.pth link.
    checkpoint_config.pop('create_symlink', None)
    return dict(type='CheckpointHook', **checkpoint_config)


def log_config_to_settings(log_config: dict) -> dict:
    """``log_config`` -> ``default_hooks.logger`` and, for TensorBoard/W&B hooks, ``visualizer``."""
    log_config = dict(log_config)
    _check_keys('log_config', log_config, {'interval', 'hooks'})
    out: dict[str, Any] = dict(logger=dict(type='LoggerHook', interval=log_config.get('interval', 50)))
    backends = []
    for hook in log_config.get('hooks', []):
        hook = dict(hook)
        kind = hook.pop('type', None)
        if kind not in _LOGGER_HOOK_BACKENDS:
            raise ValueError(f'log_config.hooks: {kind!r} is not supported; use one of {sorted(_LOGGER_HOOK_BACKENDS)} '
                             'or write visualizer in mmengine form')
        if _LOGGER_HOOK_BACKENDS[kind] is None:
            continue
        backend = dict(type=_LOGGER_HOOK_BACKENDS[kind])
        if kind == 'WandbLoggerHook' and 'init_kwargs' in hook:
            backend['init_kwargs'] = hook['init_kwargs']
        backends.append(backend)
    if backends:
        out['visualizer'] = dict(type='Visualizer', vis_backends=[dict(type='LocalVisBackend')] + backends)
    return out


def _merge_missing(native: dict | None, translated: dict) -> dict:
    """``translated`` with ``native``'s entries on top: the mmengine-form settings win."""
    merged = dict(translated)
    merged.update(native or {})
    return merged


def translate_legacy_config(cfg: Config | dict) -> Config:
    """A copy of ``cfg`` in the form ``Runner.from_cfg`` reads (see the module docstring).

    Keys already in mmengine's form are kept and win; the original keys are removed.
    Unknown keys inside the original sections raise a ``KeyError`` naming the section,
    so a typo is not silently ignored.
    """
    filename = cfg.filename if isinstance(cfg, Config) else None
    src = cfg.to_dict() if isinstance(cfg, Config) else copy.deepcopy(dict(cfg))
    legacy = {key: src.pop(key) for key in LEGACY_KEYS if key in src}
    out: dict[str, Any] = dict(src)
    out.setdefault('default_scope', 'pyskl')

    if 'data' in legacy:
        for key, loader in data_to_dataloaders(legacy['data']).items():
            out.setdefault(key, loader)

    if 'optimizer' in legacy:
        out.setdefault('optim_wrapper', optimizer_to_optim_wrapper(
            legacy['optimizer'], legacy.get('optimizer_config'), legacy.get('fp16')))
    elif legacy.get('optimizer_config') or legacy.get('fp16'):
        raise KeyError('optimizer_config/fp16 without optimizer: add optimizer=dict(type=..., lr=...)')

    max_epochs = legacy.get('total_epochs')
    if max_epochs is not None:
        out['train_cfg'] = _merge_missing(out.get('train_cfg'), dict(by_epoch=True, max_epochs=max_epochs))
    if 'lr_config' in legacy and 'param_scheduler' not in out:
        max_epochs = (out.get('train_cfg') or {}).get('max_epochs', max_epochs)
        if max_epochs is None:
            raise KeyError('lr_config needs total_epochs (or train_cfg.max_epochs) to lay out the schedule')
        out['param_scheduler'] = lr_config_to_schedulers(legacy['lr_config'], max_epochs)

    default_hooks: dict[str, Any] = {}
    if 'checkpoint_config' in legacy:
        default_hooks['checkpoint'] = checkpoint_config_to_hook(legacy['checkpoint_config'])
    evaluation = evaluation_to_settings(legacy.get('evaluation', {}))
    original_eval = 'evaluation' in legacy or 'data' in legacy
    if original_eval:
        checkpoint = default_hooks.setdefault('checkpoint', dict(type='CheckpointHook', interval=1))
        checkpoint.setdefault('save_best', evaluation['save_best'])
        if 'rule' in evaluation:
            checkpoint.setdefault('rule', evaluation['rule'])
        if 'train_cfg' in out:
            out['train_cfg'] = _merge_missing(
                dict(val_interval=evaluation['val_interval'],
                     **({'val_begin': evaluation['val_begin']} if 'val_begin' in evaluation else {})),
                out['train_cfg'])
    if 'log_config' in legacy:
        log = log_config_to_settings(legacy['log_config'])
        default_hooks['logger'] = log['logger']
        if 'visualizer' in log:
            out.setdefault('visualizer', log['visualizer'])
    if default_hooks:
        # native entries win, key by key
        native = out.get('default_hooks') or {}
        out['default_hooks'] = {**default_hooks, **native}

    if original_eval and 'val_dataloader' in out:
        out.setdefault('val_evaluator', copy.deepcopy(evaluation['evaluator']))
        out.setdefault('val_cfg', dict(type='ValLoop'))
    if original_eval and 'test_dataloader' in out:
        out.setdefault('test_evaluator', copy.deepcopy(evaluation['evaluator']))
        out.setdefault('test_cfg', dict(type='TestLoop'))

    env_cfg: dict[str, Any] = {}
    if 'dist_params' in legacy:
        env_cfg['dist_cfg'] = dict(legacy['dist_params'])
    if 'cudnn_benchmark' in legacy:
        env_cfg['cudnn_benchmark'] = legacy['cudnn_benchmark']
    mp_cfg = {k: legacy[k] for k in ('mp_start_method', 'opencv_num_threads') if k in legacy}
    if mp_cfg:
        env_cfg['mp_cfg'] = mp_cfg
    if env_cfg:
        native = out.get('env_cfg') or {}
        out['env_cfg'] = {**env_cfg, **native}

    if legacy.get('resume_from') is not None and 'resume' not in out:
        out['resume'] = True
        out['load_from'] = legacy['resume_from']
    if legacy:
        out['legacy_keys'] = sorted(set(out.get('legacy_keys') or ()) | set(legacy))
    return Config(out, filename=filename)
