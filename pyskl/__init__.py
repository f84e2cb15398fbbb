"""pyskl: skeleton-based action recognition built around DG-STGCN."""

__version__ = '0.1.0'
