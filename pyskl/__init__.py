"""pyskl: skeleton-based action recognition built around DG-STGCN."""
from .utils.cpu_allocator import reuse_freed_memory

__version__ = '0.1.0'

reuse_freed_memory()  # large CPU tensors from reused memory (see pyskl/utils/cpu_allocator.py)
