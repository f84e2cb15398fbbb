from .aagcn import AAGCN, AAGCNBlock
from .ctrgcn import CTRGCN, CTRGCNBlock
from .dgstgcn import DGBlock, DGSTGCN

__all__ = ['AAGCN', 'AAGCNBlock', 'DGBlock', 'DGSTGCN', 'CTRGCN', 'CTRGCNBlock']
