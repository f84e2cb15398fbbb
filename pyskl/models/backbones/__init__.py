from .dgstgcn import DGBlock, DGSTGCN

__all__ = ['DGBlock', 'DGSTGCN']
