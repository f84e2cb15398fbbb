"""Small utilities shared across pyskl."""
from .safe_pickle import UnsafePickleError, dump_pickle, load_pickle, loads_pickle

__all__ = ['UnsafePickleError', 'dump_pickle', 'load_pickle', 'loads_pickle']
