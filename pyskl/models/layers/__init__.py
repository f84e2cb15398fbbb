from .aagcn_gcn import UnitAAGCN
from .builders import build_activation, build_norm
from .ctrgc import CTRGC, UnitCTRGCN
from .dggcn import DGGCN
from .dgtcn import DGTCN
from .gcn import UnitGCN
from .mstcn import MSTCN
from .tcn import UnitTCN

__all__ = ['build_activation', 'build_norm', 'DGGCN', 'DGTCN', 'UnitTCN',
           'UnitAAGCN', 'CTRGC', 'UnitCTRGCN',
           'UnitGCN', 'MSTCN']
