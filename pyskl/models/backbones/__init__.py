from .aagcn import AAGCN, AAGCNBlock
from .ctrgcn import CTRGCN, CTRGCNBlock
from .dgstgcn import DGBlock, DGSTGCN
from .msg3d import MSG3D
from .stgcn import STGCN, STGCNBlock

__all__ = ['AAGCN', 'AAGCNBlock', 'DGBlock', 'DGSTGCN', 'CTRGCN', 'CTRGCNBlock', 'MSG3D', 'STGCN', 'STGCNBlock']
