"""Running a training or a test: loading (and translating) configs, the process group, the Runner,
resume-checkpoint search and the command-line tools' one-line errors.

    cfg = load_config(path, cfg_options)                  # config.py: read, override, translate
    dist = init_distributed(launcher, dist_options(cfg))  # launch.py: the process group
    cfg = prepare_train_config(cfg, dist, ...)            # run_config.py (or prepare_test_config)
    PysklRunner.from_cfg(cfg).train()                     # runner.py

Original-format configs are translated by :mod:`~pyskl.runner.legacy_config`, through
:func:`load_config` only; resuming finds its checkpoint with :mod:`~pyskl.runner.checkpoint`;
``tools/*.py`` report user errors with :func:`~pyskl.runner.cli.cli_errors`.
"""
from .checkpoint import find_resume_checkpoint
from .cli import cli_errors
from .config import load_config
from .launch import init_distributed, shutdown_distributed
from .run_config import dist_options, prepare_test_config, prepare_train_config, test_evaluator
from .runner import PysklRunner

__all__ = [
    'load_config', 'init_distributed', 'shutdown_distributed', 'dist_options', 'prepare_train_config',
    'prepare_test_config', 'test_evaluator', 'PysklRunner', 'find_resume_checkpoint', 'cli_errors'
]
