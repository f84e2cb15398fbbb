"""The registries of pyskl.

Each is a child of mmengine's root registry of the same kind, under the scope
``pyskl``, so that mmengine's Runner finds our models, datasets, transforms,
metrics and hooks from a config with ``default_scope='pyskl'``. ``locations``
lets a build import the module that registers a type.

Unlike mmengine's registries, looking up a name that is not registered raises
a ``KeyError`` naming the registry and suggesting the closest registered names,
and building a type with an argument it does not take raises a ``TypeError``
naming the type and suggesting its closest arguments (a config typo is the most
common reason for either).
"""
import difflib
import importlib
import inspect
import re

import mmengine.registry as mmengine_registry
from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import DATA_SAMPLERS as MMENGINE_DATA_SAMPLERS
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import METRICS as MMENGINE_METRICS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import Registry as MMEngineRegistry


def registered_names(registry: MMEngineRegistry) -> list[str]:
    """All names visible from ``registry``: its own and its ancestors'."""
    registry.import_from_location()
    names = []
    while registry is not None:
        names.extend(registry.module_dict)
        registry = registry.parent
    return sorted(set(names))


def unknown_type_message(registry: MMEngineRegistry, key: str) -> str:
    names = registered_names(registry)
    close = difflib.get_close_matches(key, names, n=3, cutoff=0.5)
    if not close:  # a wrong case or a missing prefix is still worth a hint
        lowered = {name.lower(): name for name in names}
        close = [lowered[n] for n in difflib.get_close_matches(key.lower(), list(lowered), n=3, cutoff=0.5)]
    hint = f' Did you mean {" or ".join(repr(c) for c in close)}?' if close else ''
    return f"'{key}' is not a registered type in the {registry.scope}::{registry.name} registry.{hint}"


def unknown_argument_message(registry: MMEngineRegistry, cfg, error: TypeError) -> str | None:
    """The message for building ``cfg`` with an argument its type does not take, or None when
    ``error`` is not that."""
    found = re.search(r"unexpected keyword argument '(\w+)'", str(error))
    kind = cfg.get('type') if isinstance(cfg, dict) else None
    cls = registry.get(kind) if isinstance(kind, str) else kind
    if not found or not inspect.isclass(cls):
        return None
    params = [name for name, p in inspect.signature(cls.__init__).parameters.items()
              if name != 'self' and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    if found.group(1) in params:  # raised deeper down, by something else's constructor
        return None
    close = difflib.get_close_matches(found.group(1), params, n=3, cutoff=0.6)
    hint = (f' Did you mean {" or ".join(repr(c) for c in close)}?' if close
            else f' It takes: {", ".join(params)}.')
    return f'{cls.__name__} has no argument {found.group(1)!r} (in the {registry.name} config {dict(cfg)!r}).{hint}'


def import_mmengine_modules() -> None:
    for module in ('mmengine.optim', 'mmengine.runner', 'mmengine.hooks', 'mmengine.evaluator',
                   'mmengine.visualization', 'mmengine.model', 'mmengine.dataset'):
        importlib.import_module(module)


class Registry(MMEngineRegistry):
    """An mmengine registry whose failed look-ups say what the user may have meant."""

    def get(self, key):
        obj = super().get(key)
        if obj is None:
            # mmengine's own types register when their modules are imported, which a
            # look-up through a child registry does not do by itself
            import_mmengine_modules()
            obj = super().get(key)
        if obj is None and isinstance(key, str) and '.' not in key:
            raise KeyError(unknown_type_message(self, key))
        return obj

    def build(self, cfg, *args, **kwargs):
        try:
            return super().build(cfg, *args, **kwargs)
        except TypeError as error:
            message = unknown_argument_message(self, cfg, error)
            if message is None:
                raise
            raise TypeError(message) from None

    def __contains__(self, key):
        try:
            return super().get(key) is not None
        except KeyError:
            return False


MODELS = Registry('model', parent=MMENGINE_MODELS, scope='pyskl', locations=['pyskl.models'])
DATASETS = Registry('dataset', parent=MMENGINE_DATASETS, scope='pyskl', locations=['pyskl.datasets'])
DATA_SAMPLERS = Registry(
    'data sampler', parent=MMENGINE_DATA_SAMPLERS, scope='pyskl', locations=['pyskl.datasets'])
TRANSFORMS = Registry(
    'transform', parent=MMENGINE_TRANSFORMS, scope='pyskl', locations=['pyskl.datasets.transforms'])
METRICS = Registry('metric', parent=MMENGINE_METRICS, scope='pyskl', locations=['pyskl.evaluation'])
HOOKS = Registry('hook', parent=MMENGINE_HOOKS, scope='pyskl', locations=['pyskl.engine'])

# Children with no types of their own: with default_scope='pyskl', mmengine looks for every
# kind of object (loops, optimizers, ...) in a 'pyskl' registry first and warns where there is
# none; these send those look-ups on to mmengine's own.
LOOPS, MODEL_WRAPPERS, OPTIM_WRAPPERS, OPTIM_WRAPPER_CONSTRUCTORS, OPTIMIZERS, PARAM_SCHEDULERS, \
    VISBACKENDS, VISUALIZERS, LOG_PROCESSORS, EVALUATOR, RUNNERS, FUNCTIONS, WEIGHT_INITIALIZERS, \
    RUNNER_CONSTRUCTORS, STRATEGIES, INFERENCERS, TASK_UTILS = (
        Registry(getattr(mmengine_registry, name).name, parent=getattr(mmengine_registry, name), scope='pyskl')
        for name in ('LOOPS', 'MODEL_WRAPPERS', 'OPTIM_WRAPPERS', 'OPTIM_WRAPPER_CONSTRUCTORS', 'OPTIMIZERS',
                     'PARAM_SCHEDULERS', 'VISBACKENDS', 'VISUALIZERS', 'LOG_PROCESSORS', 'EVALUATOR', 'RUNNERS',
                     'FUNCTIONS', 'WEIGHT_INITIALIZERS', 'RUNNER_CONSTRUCTORS', 'STRATEGIES', 'INFERENCERS',
                     'TASK_UTILS'))
