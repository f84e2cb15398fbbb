from .aagcn_gcn import UnitAAGCN
from .builders import build_activation, build_norm
from .ctrgc import CTRGC, UnitCTRGCN
from .dggcn import DGGCN
from .dgtcn import DGTCN
from .gcn import UnitGCN
from .msg3d import MSG3DUnit, MultiWindowMSG3D
from .msgcn import MSGCN
from .mstcn import MSTCN
from .tcn import UnitTCN

__all__ = ['build_activation', 'build_norm', 'DGGCN', 'DGTCN', 'UnitTCN',
           'UnitAAGCN', 'CTRGC', 'UnitCTRGCN', 'MSGCN', 'MSG3DUnit',
           'MultiWindowMSG3D', 'UnitGCN', 'MSTCN']
