from .builders import build_activation, build_norm
from .dggcn import DGGCN
from .dgtcn import DGTCN
from .tcn import UnitTCN

__all__ = ['build_activation', 'build_norm', 'DGGCN', 'DGTCN', 'UnitTCN']
