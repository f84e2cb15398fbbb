"""Loading a config: the file (or a ``Config`` already read), the command line's ``--cfg-options``,
and the translation into the form mmengine's Runner reads.

:func:`load_config` is the one function that translates a config: training, testing and
inference (:func:`pyskl.apis.init_recognizer`) all start with it, so an original-format
config (:mod:`pyskl.runner.legacy_config`) means the same thing to each of them.
"""
import copy
import os
from typing import Any

from mmengine.config import Config

from .legacy_config import translate_legacy_config


def _lookup(tree: dict, key: str) -> tuple[bool, Any]:
    """``(found, value)`` of a dotted key (list items by index) in a config dict."""
    node = tree
    for part in key.split('.'):
        if isinstance(node, (list, tuple)) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return False, None
    return True, node


def check_option_types(cfg: Config, options: dict) -> None:
    """Refuse a ``--cfg-options`` value whose type does not fit the number or switch it replaces,
    naming the key, before anything is built or loaded."""
    tree = cfg.to_dict()
    for key, value in options.items():
        found, old = _lookup(tree, key)
        if not found or old is None:
            continue
        if isinstance(old, bool):
            fits = isinstance(value, bool)
        elif isinstance(old, int):
            fits = isinstance(value, int) and not isinstance(value, bool)
        elif isinstance(old, float):
            fits = isinstance(value, (int, float)) and not isinstance(value, bool)
        else:
            continue
        if not fits:
            raise TypeError(f'--cfg-options {key}={value!r}: {key} is {type(old).__name__} in '
                            f'{cfg.filename or "the config"} ({old!r}); give a {type(old).__name__}')


def load_config(config: str | os.PathLike | Config, options: dict | None = None) -> Config:
    """A new config in mmengine form: ``config`` (a file path, or a ``Config`` in either form,
    left unchanged) with ``options`` (``--cfg-options``) type-checked and applied, then translated.

    The translation (:func:`~pyskl.runner.legacy_config.translate_legacy_config`) leaves a
    config already in mmengine form as it is, so loading a loaded config again is harmless.
    """
    if isinstance(config, (str, os.PathLike)):
        cfg = Config.fromfile(os.fspath(config))
    elif isinstance(config, Config):
        cfg = copy.deepcopy(config) if options else config
    else:
        raise TypeError(f'config must be a file path or an mmengine Config, got {type(config).__name__}')
    if options:
        check_option_types(cfg, options)
        cfg.merge_from_dict(options)
    return translate_legacy_config(cfg)
