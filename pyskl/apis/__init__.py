"""Running pyskl: config translation, process groups, checkpoints, the Runner, the CLI helpers and inference."""
from .checkpoint import allow_checkpoint_globals, find_resume_checkpoint, read_checkpoint
from .cli import cli_errors, error_message
from .inference import inference_recognizer, init_recognizer
from .launch import init_distributed, shutdown_distributed, slurm_environment
from .legacy_config import lr_config_to_schedulers, translate_legacy_config
from .run_config import (check_option_types, dist_options, load_config, prepare_test_config, prepare_train_config,
                         test_evaluator)
from .runner import PysklRunner

__all__ = [
    'allow_checkpoint_globals', 'find_resume_checkpoint', 'read_checkpoint', 'cli_errors', 'error_message',
    'init_recognizer', 'inference_recognizer', 'init_distributed', 'shutdown_distributed', 'slurm_environment',
    'lr_config_to_schedulers',
    'translate_legacy_config', 'prepare_test_config', 'prepare_train_config', 'test_evaluator', 'dist_options',
    'load_config', 'check_option_types', 'PysklRunner'
]
