"""Norm and activation layers from the short config names the original uses ('BN', 'ReLU', ...)."""
from torch import nn

NORMS = {'BN': nn.BatchNorm2d, 'BN2d': nn.BatchNorm2d, 'SyncBN': nn.SyncBatchNorm, 'IN': nn.InstanceNorm2d}
ACTIVATIONS = {'ReLU': nn.ReLU, 'LeakyReLU': nn.LeakyReLU, 'GELU': nn.GELU, 'SiLU': nn.SiLU, 'Swish': nn.SiLU,
               'Tanh': nn.Tanh, 'Sigmoid': nn.Sigmoid, 'ELU': nn.ELU, 'PReLU': nn.PReLU, 'Mish': nn.Mish}


def _as_cfg(cfg) -> dict:
    return dict(cfg) if isinstance(cfg, dict) else dict(type=cfg)


def build_norm(cfg, num_features: int) -> nn.Module:
    """``cfg`` is a name ('BN', 'SyncBN', 'IN') or a dict ``dict(type='BN', **kwargs)``."""
    cfg = _as_cfg(cfg)
    kind = cfg.pop('type')
    if kind not in NORMS:
        raise ValueError(f'unknown norm {kind!r}; choose one of {sorted(NORMS)}')
    cfg.pop('requires_grad', None)
    return NORMS[kind](num_features, **cfg)


def build_activation(cfg) -> nn.Module:
    """``cfg`` is a name ('ReLU', 'GELU', ...) or a dict ``dict(type='ReLU', **kwargs)``."""
    cfg = _as_cfg(cfg)
    kind = cfg.pop('type')
    if kind not in ACTIVATIONS:
        raise ValueError(f'unknown activation {kind!r}; choose one of {sorted(ACTIVATIONS)}')
    return ACTIVATIONS[kind](**cfg)
