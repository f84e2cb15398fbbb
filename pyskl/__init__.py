"""pyskl: skeleton-based action recognition built around DG-STGCN."""
from .utils.cpu_allocator import use_huge_pages

__version__ = '0.1.0'

use_huge_pages()  # large CPU tensors in huge pages (see pyskl/utils/cpu_allocator.py)
