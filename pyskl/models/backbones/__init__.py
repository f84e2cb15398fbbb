from .aagcn import AAGCN, AAGCNBlock
from .ctrgcn import CTRGCN, CTRGCNBlock
from .dgstgcn import DGBlock, DGSTGCN
from .stgcn import STGCN, STGCNBlock

__all__ = ['AAGCN', 'AAGCNBlock', 'DGBlock', 'DGSTGCN', 'CTRGCN', 'CTRGCNBlock', 'STGCN', 'STGCNBlock']
